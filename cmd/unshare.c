/* SPDX-License-Identifier: Apache-2.0 */
/* pea unshare and pea system migrate: the rootless user namespace from the command line. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd.h"
#include "rootless/rootless.h"

/* Parses a command that only knows --help; 1 when the help was printed. */
static int parse_plain(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                       const char *optstring, struct pea_error **err)
{
        static const struct option longopts[] = {
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        pea_cli_print_help(cli, cmd);
                        return 1;
                default:
                        return pea_cli_opt_error(c, argc, argv, err);
                }
        }
        return 0;
}

static void export_paths(const struct pea_config *c)
{
        (void)setenv("CONTAINERS_GRAPHROOT", c->graph_root, 1);
        (void)setenv("CONTAINERS_RUNROOT", c->run_root, 1);
        (void)setenv("PEA_GRAPHROOT", c->graph_root, 1);
        (void)setenv("PEA_RUNROOT", c->run_root, 1);
}

static int cmd_unshare(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        /* "+": stop at the command, so `pea unshare ls -l` keeps its -l */
        int r = parse_plain(cli, &pea_cmd_unshare, argc, argv, "+:h", err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!cli->config.rootless)
                return pea_error_set(err, EPERM, "please use unshare with rootless");
        const char *shell = getenv("SHELL");
        char *def[] = {(char *)(shell && *shell ? shell : "/bin/sh"), NULL};
        char **cmd = optind < argc ? argv + optind : def;
        export_paths(&cli->config);
        (void)fflush(stdout);
        (void)fflush(stderr);
        execvp(cmd[0], cmd);
        int e = errno;
        pea_cli_exit_code = e == ENOENT || e == ENOTDIR ? 127 : 126;
        return pea_error_syscall(err, e, "executing '%s'", cmd[0]);
}

static int cmd_migrate(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        int r = parse_plain(cli, &pea_cmd_system_migrate, argc, argv, ":h", err);
        if (r != 0)
                return r < 0 ? r : 0;
        r = pea_cli_check_args(cli, argc - optind, 0, 0, err);
        if (r < 0)
                return r;
        /* the next rootless command starts a new holder, with the current configuration */
        r = pea_userns_stop(&cli->config, err);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_unshare = {
        .name = "unshare",
        .fn = cmd_unshare,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_USERNS,
        .summary = "Run a command in a modified user namespace",
        .usage = "[options] [COMMAND [ARG...]]",
        .options = "",
};

const struct pea_cmd pea_cmd_system_migrate = {
        .name = "migrate",
        .fn = cmd_migrate,
        .flags = PEA_NEEDS_CONFIG,
        .summary = "Migrate to a new configuration: restart the rootless user namespace",
        .usage = "[options]",
        .options = "",
};
