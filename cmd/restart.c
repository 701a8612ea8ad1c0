/* SPDX-License-Identifier: Apache-2.0 */
/* pea restart: stop (as pea stop) then start through the monitor. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "run.h"
#include "runtime/runtime.h"
#include "state/state.h"

struct restart_opts {
        bool all, running;
        long timeout; /* -1: the container's --stop-timeout */
};

static int parse(struct pea_cli *cli, int argc, char **argv, struct restart_opts *o,
                 struct pea_error **err)
{
        static const struct option longopts[] = {
                {"all", no_argument, NULL, 'a'},
                {"running", no_argument, NULL, 'r'},
                {"time", required_argument, NULL, 't'},
                {"timeout", required_argument, NULL, 't'},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        long long n = 0;
        while ((c = getopt_long(argc, argv, ":at:h", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_restart);
                        return 1;
                }
                if (c == 'a')
                        o->all = true;
                else if (c == 'r')
                        o->running = true;
                else if (c == 't' && safe_atoll(optarg, &n) >= 0 && n >= 0)
                        o->timeout = (long)n;
                else if (c == 't')
                        return pea_error_set(err, EINVAL,
                                             "invalid argument \"%s\" for \"-t, --time\" flag",
                                             optarg);
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        if (o->all && argc - optind > 0)
                return pea_error_set(err, EINVAL, "--all and containers cannot be used together");
        return pea_cli_check_args(cli, argc - optind, o->all ? 0 : 1, -1, err);
}

static char **targets(struct pea_run_env *e, const struct restart_opts *o, int argc, char **argv,
                      struct pea_error **err)
{
        char **l = xcalloc(1, sizeof(char *));
        if (!o->all) {
                for (int i = optind; i < argc; i++)
                        strv_push(&l, argv[i]);
                return l;
        }
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        if (pea_state_container_list(e->ctx.state, NULL, &rows, &n, err) < 0)
                return strv_free(l);
        for (size_t i = 0; i < n; i++) {
                (void)pea_cmd_container_sync(&e->ctx, &rows[i], NULL);
                if (!o->running || streq(rows[i].state, "running"))
                        strv_push(&l, rows[i].id);
        }
        pea_container_rows_free(rows, n);
        return l;
}

static int restart_one(struct pea_run_env *e, const struct restart_opts *o, const char *name,
                       struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_cmd_container_get(&e->ctx, name, &row, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *id = xstrdup(row.id);
        const char *ss = json_string_value(json_object_get(row.config, "stop_signal"));
        int sig = SIGTERM;
        if (ss && *ss && pea_cmd_parse_signal(ss, &sig, NULL) < 0)
                sig = SIGTERM;
        unsigned timeout =
                o->timeout < 0 ? pea_cmd_container_stop_timeout(row.config) : (unsigned)o->timeout;
        pea_container_row_done(&row);
        r = pea_cmd_container_stop(&e->ctx, id, sig, timeout, err);
        if (r >= 0)
                r = pea_cmd_container_start_detached(&e->ctx, id, false, NULL, err);
        if (r < 0) {
                pea_cli_exit_code = pea_runtime_error_exit_code(*err);
                return r;
        }
        printf("%s\n", name);
        return 0;
}

static int cmd_restart(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct restart_opts o = {.timeout = -1};
        int r = parse(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct pea_run_env e = {};
        r = pea_run_env_open(cli, &e, err);
        _cleanup_strv_ char **names = r < 0 ? NULL : targets(&e, &o, argc, argv, err);
        if (r >= 0 && !names)
                r = -EIO;
        STRV_FOREACH(nm, names) {
                _cleanup_error_ struct pea_error *e1 = NULL;
                int r1 = restart_one(&e, &o, *nm, &e1);
                if (r1 >= 0)
                        continue;
                if (r >= 0 && !names[1]) {
                        *err = TAKE_PTR(e1);
                        r = r1;
                } else {
                        fprintf(stderr, "Error: %s\n", e1->msg);
                        r = pea_cli_exit_code = 125;
                }
        }
        pea_run_env_done(&e);
        return r;
}

const struct pea_cmd pea_cmd_restart = {
        .name = "restart",
        .fn = cmd_restart,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Restart one or more containers",
        .usage = "[options] CONTAINER [CONTAINER...]",
        .options = "  -a, --all        Restart all non-running containers\n"
                   "      --running    Restart only running containers\n"
                   "  -t, --time int   Seconds to wait for stop before killing the container "
                   "(default 10)\n",
};
