/* SPDX-License-Identifier: Apache-2.0 */
/* pea export: a container's file system as a tar archive. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "container/container.h"
#include "layer/layer.h"
#include "run.h"
#include "state/state.h"

struct pea_export_opts {
        const char *output;
};

static int export_to(const struct pea_container_ctx *ctx, const char *id, int out,
                     struct pea_error **err)
{
        struct pea_container_mount m = {.rootfd = -EBADF};
        int r = pea_container_cp_mount(ctx, id, &m, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(m.rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                r = pea_error_syscall(err, errno, "opening '%s'", m.rootfs);
        /* the merged view has no whiteouts: every entry is written as it is */
        const struct pea_layer_pack_opts po = {.compression = PEA_LAYER_COMPRESSION_NONE,
                                               .whiteout = PEA_WHITEOUT_AUFS};
        if (r >= 0)
                r = pea_layer_pack_fd(fd, out, &po, NULL, err);
        pea_container_cp_umount(ctx, id, &m);
        return r;
}

static int export_container(struct pea_cli *cli, const char *name, const char *output,
                            struct pea_error **err)
{
        struct pea_run_env e = {};
        struct pea_container_row row = {};
        _cleanup_close_ int out = -EBADF;
        int r = pea_run_env_open(cli, &e, err);
        if (r >= 0)
                r = pea_cmd_container_get(&e.ctx, name, &row, err);
        if (r >= 0 && output) {
                out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (out < 0)
                        r = pea_error_syscall(err, errno, "creating '%s'", output);
        }
        if (r >= 0)
                r = export_to(&e.ctx, row.id, output ? out : STDOUT_FILENO, err);
        if (r >= 0 && out >= 0 && fsync(out) < 0 && errno != EINVAL)
                r = pea_error_syscall(err, errno, "writing '%s'", output);
        pea_container_row_done(&row);
        pea_run_env_done(&e);
        return r;
}

static int cmd_export(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"output", required_argument, NULL, 'o'},
                PEA_HELP_OPTION,
                {},
        };
        struct pea_export_opts o = {};
        int c;
        while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        o.output = optarg;
                        break;
                case 'h':
                        pea_cli_print_help(cli, &pea_cmd_export);
                        return 0;
                default:
                        return pea_cli_opt_error(c, argc, argv, err);
                }
        }
        int r = pea_cli_check_args(cli, argc - optind, 1, 1, err);
        if (r < 0)
                return r;
        if (!o.output && isatty(STDOUT_FILENO))
                return pea_error_set(err, EINVAL,
                                     "refusing to export to terminal. Use -o flag or redirect");
        r = export_container(cli, argv[optind], o.output, err);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_export = {
        .name = "export",
        .fn = cmd_export,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Export container's filesystem contents as a tar archive",
        .usage = "[options] CONTAINER",
        .options = "  -o, --output string   Write to a specified file (default: stdout, which "
                   "must be redirected)\n",
};
