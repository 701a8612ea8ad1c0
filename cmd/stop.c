/* SPDX-License-Identifier: Apache-2.0 */
/* pea stop and pea kill. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "run.h"
#include "state/state.h"

/* "SIGTERM", "TERM", "term", "15", "RTMIN+3" -> the number; -EINVAL otherwise. */
int pea_cmd_parse_signal(const char *s, int *ret, struct pea_error **err)
{
        long long n = 0;
        if (safe_atoll(s, &n) >= 0) {
                if (n <= 0 || n >= NSIG)
                        return pea_error_set(err, EINVAL, "invalid signal: %s", s);
                *ret = (int)n;
                return 0;
        }
        const char *name = s;
        if (strncasecmp(name, "SIG", 3) == 0)
                name += 3;
        for (int i = 1; i < SIGRTMIN; i++) {
                const char *abbrev = sigabbrev_np(i);
                if (abbrev && strcasecmp(abbrev, name) == 0) {
                        *ret = i;
                        return 0;
                }
        }
        if (strncasecmp(name, "RTMIN+", 6) == 0 && safe_atoll(name + 6, &n) >= 0
            && SIGRTMIN + n <= SIGRTMAX) {
                *ret = SIGRTMIN + (int)n;
                return 0;
        }
        return pea_error_set(err, EINVAL, "invalid signal: %s", s);
}

struct stop_opts {
        bool all, ignore, kill;
        long timeout; /* -1: the container's (10) */
        const char *signal;
        char **cidfiles; /* --cidfile */
};

/* Appends the IDs in the --cidfile files; --ignore skips missing files (podman >= 4.4). */
static int cidfile_targets(const struct stop_opts *o, char ***l, struct pea_error **err)
{
        STRV_FOREACH(f, o->cidfiles) {
                char *id = NULL;
                int r = pea_cmd_cidfile_read(*f, &id, err);
                if (r == -ENOENT && o->ignore) {
                        pea_error_clear(err);
                        continue;
                }
                if (r < 0)
                        return r;
                strv_consume(l, id);
        }
        return 0;
}

/* The names to act on: argv, or with -a every running container. */
static char **targets(struct pea_run_env *e, const struct stop_opts *o, int argc, char **argv,
                      struct pea_error **err)
{
        char **l = xcalloc(1, sizeof(char *));
        if (cidfile_targets(o, &l, err) < 0)
                return strv_free(l);
        if (!o->all) {
                for (int i = optind; i < argc; i++)
                        strv_push(&l, argv[i]);
                return l;
        }
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        if (pea_state_container_list(e->ctx.state, NULL, &rows, &n, err) < 0)
                return strv_free(l);
        for (size_t i = 0; i < n; i++)
                if (streq(rows[i].state, "running"))
                        strv_push(&l, rows[i].id);
        pea_container_rows_free(rows, n);
        return l;
}

static int stop_one(struct pea_run_env *e, const struct stop_opts *o, const char *name,
                    struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_cmd_container_get(&e->ctx, name, &row, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *id = xstrdup(row.id);
        const char *ss = json_string_value(json_object_get(row.config, "stop_signal"));
        _cleanup_free_ char *stop_signal = xstrdup(ss && *ss ? ss : "SIGTERM");
        unsigned timeout =
                o->timeout < 0 ? pea_cmd_container_stop_timeout(row.config) : (unsigned)o->timeout;
        pea_container_row_done(&row);
        int sig = SIGTERM;
        if (o->kill)
                r = pea_cmd_parse_signal(o->signal ? o->signal : "SIGKILL", &sig, err);
        else if (pea_cmd_parse_signal(stop_signal, &sig, NULL) < 0)
                sig = SIGTERM;
        if (r < 0)
                return r;
        if (o->kill)
                r = pea_cmd_container_kill(&e->ctx, id, sig, err);
        else
                r = pea_cmd_container_stop(&e->ctx, id, sig, timeout, err);
        if (r < 0)
                return r;
        printf("%s\n", name);
        return 0;
}

enum { OPT_IGNORE = 0x100, OPT_CIDFILE };

static int parse(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                 struct stop_opts *o, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"all", no_argument, NULL, 'a'},
                {"ignore", no_argument, NULL, 'i'},
                {"time", required_argument, NULL, 't'},
                {"timeout", required_argument, NULL, 't'},
                {"signal", required_argument, NULL, 's'},
                {"cidfile", required_argument, NULL, OPT_CIDFILE},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        long long n = 0;
        while ((c = getopt_long(argc, argv, o->kill ? ":as:h" : ":ait:h", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, cmd);
                        return 1;
                }
                if (c == 'a')
                        o->all = true;
                else if (c == 'i' && !o->kill)
                        o->ignore = true;
                else if (c == 't' && !o->kill && safe_atoll(optarg, &n) >= 0 && n >= 0)
                        o->timeout = (long)n;
                else if (c == 's' && o->kill)
                        o->signal = optarg;
                else if (c == OPT_CIDFILE && !o->kill)
                        strv_push(&o->cidfiles, optarg);
                else if (c == 't' && !o->kill)
                        return pea_error_set(err, EINVAL,
                                             "invalid argument \"%s\" for \"-t, "
                                             "--time\" flag",
                                             optarg);
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        if (o->all && argc - optind > 0)
                return pea_error_set(err, EINVAL, "--all and containers cannot be used together");
        return pea_cli_check_args(cli, argc - optind, o->all || o->cidfiles ? 0 : 1, -1, err);
}

static int run(struct pea_cli *cli, const struct pea_cmd *cmd, bool kill_mode, int argc,
               char **argv, struct pea_error **err)
{
        struct stop_opts o = {.kill = kill_mode, .timeout = -1};
        int r = parse(cli, cmd, argc, argv, &o, err);
        if (r != 0) {
                strv_free(o.cidfiles);
                return r < 0 ? r : 0;
        }
        struct pea_run_env e = {};
        r = pea_run_env_open(cli, &e, err);
        _cleanup_strv_ char **names = r < 0 ? NULL : targets(&e, &o, argc, argv, err);
        if (r >= 0 && !names)
                r = -EIO;
        int failed = 0;
        STRV_FOREACH(nm, names) {
                _cleanup_error_ struct pea_error *e1 = NULL;
                int r1 = stop_one(&e, &o, *nm, &e1);
                if (r1 == -ENOENT && o.ignore)
                        continue;
                if (r1 < 0 && failed++ == 0 && !names[1]) {
                        *err = TAKE_PTR(e1);
                        r = r1;
                } else if (r1 < 0) {
                        fprintf(stderr, "Error: %s\n", e1->msg);
                        pea_cli_exit_code = 125;
                        r = r < 0 ? r : 125;
                }
        }
        pea_run_env_done(&e);
        strv_free(o.cidfiles);
        return r;
}

static int cmd_stop(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run(cli, &pea_cmd_stop, false, argc, argv, err);
}

static int cmd_kill(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run(cli, &pea_cmd_kill, true, argc, argv, err);
}

#define CONTAINER_FLAGS (PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS)

const struct pea_cmd pea_cmd_stop = {
        .name = "stop",
        .fn = cmd_stop,
        .flags = CONTAINER_FLAGS,
        .summary = "Stop one or more containers",
        .usage = "[options] CONTAINER [CONTAINER...]",
        .options = "  -a, --all        Stop all running containers\n"
                   "      --cidfile    Read the container ID from the file\n"
                   "  -i, --ignore     Ignore errors when a specified container is missing\n"
                   "  -t, --time int   Seconds to wait for stop before killing the container "
                   "(default 10)\n",
};

const struct pea_cmd pea_cmd_kill = {
        .name = "kill",
        .fn = cmd_kill,
        .flags = CONTAINER_FLAGS,
        .summary = "Kill one or more running containers with a specific signal",
        .usage = "[options] CONTAINER [CONTAINER...]",
        .options = "  -a, --all             Signal all running containers\n"
                   "  -s, --signal string   Signal to send to the container (default "
                   "\"KILL\")\n",
};
