/* SPDX-License-Identifier: Apache-2.0 */
/* pea commit: a new image from a container's changes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "container/container.h"
#include "image.h"
#include "image/transfer.h"
#include "layer/layer.h"
#include "run.h"
#include "state/state.h"

struct pea_commit_cmd_opts {
        char **changes;
        const char *message, *author, *format, *iidfile;
        bool quiet, pause, squash, include_volumes;
};

enum { OPT_IIDFILE = 0x100, OPT_SQUASH, OPT_INCLUDE_VOLUMES };

static int parse_opt(struct pea_cli *cli, int c, struct pea_commit_cmd_opts *o)
{
        switch (c) {
        case 'c':
                strv_push(&o->changes, optarg);
                return 0;
        case 'm':
                o->message = optarg;
                return 0;
        case 'a':
                o->author = optarg;
                return 0;
        case 'f':
                o->format = optarg;
                return 0;
        case 'q':
                o->quiet = true;
                return 0;
        case 'p':
                o->pause = true;
                return 0;
        case OPT_IIDFILE:
                o->iidfile = optarg;
                return 0;
        case OPT_SQUASH:
                o->squash = true;
                return 0;
        case OPT_INCLUDE_VOLUMES:
                o->include_volumes = true;
                return 0;
        case 'h':
                pea_cli_print_help(cli, &pea_cmd_commit);
                return 1;
        default:
                return -1;
        }
}

static int parse(struct pea_cli *cli, int argc, char **argv, struct pea_commit_cmd_opts *o,
                 struct pea_error **err)
{
        static const struct option longopts[] = {
                {"change", required_argument, NULL, 'c'},
                {"message", required_argument, NULL, 'm'},
                {"author", required_argument, NULL, 'a'},
                {"format", required_argument, NULL, 'f'},
                {"quiet", no_argument, NULL, 'q'},
                {"pause", no_argument, NULL, 'p'},
                {"iidfile", required_argument, NULL, OPT_IIDFILE},
                {"squash", no_argument, NULL, OPT_SQUASH},
                {"include-volumes", no_argument, NULL, OPT_INCLUDE_VOLUMES},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":c:m:a:f:qph", longopts, NULL)) != -1) {
                int r = parse_opt(cli, c, o);
                if (r > 0)
                        return 1;
                if (r < 0)
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        if (o->format && !streq(o->format, "oci") && !streq(o->format, "docker"))
                return pea_error_set(err, EINVAL, "unrecognized image type \"%s\"", o->format);
        if (o->squash)
                return pea_error_set(err, ENOTSUP, "--squash is not supported yet");
        return pea_cli_check_args(cli, argc - optind, 1, 2, err);
}

static void unpack_opts(const struct pea_cli *cli, struct pea_layer_unpack_opts *ret)
{
        struct pea_image_pull_opts o;
        pea_cmd_pull_defaults(cli, &o);
        *ret = (struct pea_layer_unpack_opts){.whiteout = (enum pea_whiteout_mode)o.whiteout,
                                              .userxattr = o.userxattr,
                                              .rootless_single_id = o.single_id};
}

static void progress_line(void *userdata _unused_, int event, const char *digest)
{
        _cleanup_free_ char *line = pea_transfer_event_line((enum pea_transfer_event)event, digest);
        fprintf(stderr, "%s\n", line);
}

static int commit(struct pea_cli *cli, const char *name, const char *image,
                  const struct pea_commit_cmd_opts *o, char **ret_id, struct pea_error **err)
{
        struct pea_layer_unpack_opts uo;
        unpack_opts(cli, &uo);
        const struct pea_container_commit_opts co = {
                .reference = image,
                .changes = o->changes,
                .message = o->message,
                .author = o->author,
                .docker_format = o->format && streq(o->format, "docker"),
                .unpack = &uo,
                .progress = o->quiet ? NULL : progress_line,
        };
        struct pea_run_env e = {};
        struct pea_container_row row = {};
        int r = pea_run_env_open(cli, &e, err);
        if (r >= 0)
                r = pea_cmd_container_get(&e.ctx, name, &row, err);
        if (r >= 0)
                r = pea_container_commit(&e.ctx, row.id, &co, ret_id, err);
        pea_container_row_done(&row);
        pea_run_env_done(&e);
        return r;
}

static int cmd_commit(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct pea_commit_cmd_opts o = {.changes = xcalloc(1, sizeof(char *))};
        _cleanup_strv_ char **changes_owner = NULL;
        int r = parse(cli, argc, argv, &o, err);
        changes_owner = o.changes;
        if (r != 0)
                return r < 0 ? r : 0;
        _cleanup_free_ char *id = NULL;
        const char *image = argc - optind > 1 ? argv[optind + 1] : NULL;
        r = commit(cli, argv[optind], image, &o, &id, err);
        if (r < 0)
                return r;
        if (o.iidfile) {
                r = pea_write_file_atomic_at(AT_FDCWD, o.iidfile, id, strlen(id), 0644, err);
                if (r < 0)
                        return r;
        }
        printf("%s\n", id);
        return 0;
}

const struct pea_cmd pea_cmd_commit = {
        .name = "commit",
        .fn = cmd_commit,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Create new image based on the changed container",
        .usage = "[options] CONTAINER [IMAGE]",
        .options =
                "  -a, --author string        Set the author for the image committed\n"
                "  -c, --change stringArray   Apply the following possible instructions to the "
                "created image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | "
                "STOPSIGNAL | USER | VOLUME | WORKDIR\n"
                "  -f, --format string        Format of the image manifest and metadata (default "
                "\"oci\")\n"
                "      --iidfile file         file to write the image ID to\n"
                "      --include-volumes      Include container volumes as image volumes\n"
                "  -m, --message string       Set commit message for imported image\n"
                "  -p, --pause                Pause container during commit\n"
                "  -q, --quiet                Suppress output\n"
                "      --squash               squash newly built layers into a single new layer "
                "(not supported yet)\n",
};
