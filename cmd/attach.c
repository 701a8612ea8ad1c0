/* SPDX-License-Identifier: Apache-2.0 */
/* pea attach, and the attaching part of start -a: the monitor's attach socket. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sys/ioctl.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "monitor/monitor.h"
#include "run.h"
#include "state/state.h"

/* The container signals are proxied to (a signal handler's only way to know it). */
static volatile sig_atomic_t proxy_pid;

static void proxy_signal(int sig)
{
        if (proxy_pid > 0)
                (void)kill((pid_t)proxy_pid, sig);
}

static const int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void sig_proxy_set(pid_t pid, bool on)
{
        struct sigaction sa = {.sa_handler = on ? proxy_signal : SIG_DFL};
        proxy_pid = on ? pid : 0;
        for (size_t i = 0; i < ELEMENTSOF(proxied); i++)
                (void)sigaction(proxied[i], &sa, NULL);
}

struct tty_state {
        bool raw;
        struct termios saved;
};

static void tty_raw(struct tty_state *t)
{
        struct termios raw;
        if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved) < 0)
                return;
        raw = t->saved;
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST | ONLCR; /* output keeps its newlines, as podman's */
        t->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

static void tty_restore(struct tty_state *t)
{
        if (t->raw)
                (void)tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
        t->raw = false;
}

/* The exit code the monitor recorded once the container is done. */
static int exit_code_of(const struct pea_container_ctx *ctx, const char *id, int *ret_code,
                        struct pea_error **err)
{
        int r = pea_cmd_container_wait_stopped(ctx, id, INT64_C(30) * 1000000000, err);
        if (r == -ETIMEDOUT)
                return pea_error_set(err, ETIMEDOUT, "container '%s' did not record its exit", id);
        if (r < 0)
                return r;
        struct pea_container_row row = {};
        r = pea_state_container_get_by_id(ctx->state, id, &row, err);
        if (r < 0)
                return r;
        *ret_code = row.exit_code;
        pea_container_row_done(&row);
        return 0;
}

int pea_cmd_container_attach(const struct pea_container_ctx *ctx, const char *id,
                             const struct pea_cmd_attach_opts *o, int *ret_code,
                             struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(ctx->state, id, &row, err);
        if (r < 0)
                return r;
        bool tty = json_is_true(json_object_get(row.config, "terminal"));
        const char *k = json_string_value(json_object_get(row.config, "detach_keys"));
        _cleanup_free_ char *keys = o->detach_keys ? xstrdup(o->detach_keys)
                                    : k            ? xstrdup(k)
                                                   : NULL;
        /* through the monitor, which forwards them: the container may not run yet */
        pid_t pid = row.pid, mon = 0;
        if (pea_monitor_is_alive(ctx->run_root, id, &mon, NULL) > 0)
                pid = mon;
        /* run --sig-proxy=false */
        bool proxy = o->sig_proxy && !json_is_false(json_object_get(row.config, "sig_proxy"));
        pea_container_row_done(&row);
        _cleanup_free_ char *sock = pea_monitor_attach_path(ctx->run_root, id);
        struct tty_state ts = {};
        if (tty && o->stdin)
                tty_raw(&ts);
        sig_proxy_set(pid, proxy && !tty && pid > 0);
        r = pea_monitor_attach(sock, o->stdin ? STDIN_FILENO : -1, STDOUT_FILENO,
                               tty ? -1 : STDERR_FILENO, keys, err);
        sig_proxy_set(0, false);
        tty_restore(&ts);
        if (r < 0 || r == 1)
                return r;
        r = exit_code_of(ctx, id, ret_code, err);
        return r < 0 ? r : 0;
}

struct attach_opts {
        const char *detach_keys;
        bool no_stdin;
        bool sig_proxy;
};

enum { OPT_DETACH_KEYS = 0x100, OPT_NO_STDIN, OPT_SIG_PROXY, OPT_LATEST };

static int parse(struct pea_cli *cli, int argc, char **argv, struct attach_opts *o,
                 struct pea_error **err)
{
        static const struct option longopts[] = {
                {"detach-keys", required_argument, NULL, OPT_DETACH_KEYS},
                {"no-stdin", no_argument, NULL, OPT_NO_STDIN},
                {"sig-proxy", optional_argument, NULL, OPT_SIG_PROXY},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_attach);
                        return 1;
                }
                if (c == OPT_DETACH_KEYS)
                        o->detach_keys = optarg;
                else if (c == OPT_NO_STDIN)
                        o->no_stdin = true;
                else if (c == OPT_SIG_PROXY && (!optarg || streq(optarg, "true")))
                        o->sig_proxy = true;
                else if (c == OPT_SIG_PROXY && streq(optarg, "false"))
                        o->sig_proxy = false;
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        if (o->detach_keys) {
                _cleanup_free_ char *k = NULL;
                size_t n = 0;
                int r = pea_monitor_detach_keys_parse(o->detach_keys, &k, &n, err);
                if (r < 0)
                        return r;
        }
        return pea_cli_check_args(cli, argc - optind, 1, 1, err);
}

static int attach_one(struct pea_run_env *e, const struct attach_opts *o, const char *name,
                      struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_cmd_container_get(&e->ctx, name, &row, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *id = xstrdup(row.id);
        bool running = streq(row.state, "running");
        bool interactive = json_is_true(json_object_get(row.config, "interactive"));
        pea_container_row_done(&row);
        if (!running)
                return pea_error_set(err, EINVAL, "you can only attach to running containers");
        struct pea_cmd_attach_opts ao = {
                .detach_keys = o->detach_keys,
                .stdin = interactive && !o->no_stdin,
                .sig_proxy = o->sig_proxy,
        };
        int code = 0;
        r = pea_cmd_container_attach(&e->ctx, id, &ao, &code, err);
        if (r < 0)
                return r;
        return r == 1 ? 0 : code;
}

static int cmd_attach(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct attach_opts o = {.sig_proxy = true};
        int r = parse(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct pea_run_env e = {};
        r = pea_run_env_open(cli, &e, err);
        if (r >= 0)
                r = attach_one(&e, &o, argv[optind], err);
        pea_run_env_done(&e);
        return r;
}

const struct pea_cmd pea_cmd_attach = {
        .name = "attach",
        .fn = cmd_attach,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Attach to a running container",
        .usage = "[options] CONTAINER",
        .options = "      --detach-keys [a-Z]   Select the key sequence for detaching a container. "
                   "Format is a single character [a-Z] or a comma separated sequence of "
                   "`ctrl-<value>`, where `<value>` is one of: `a-z`, `@`, `^`, `[`, `\\`, `]`, "
                   "`^` or `_` (default \"ctrl-p,ctrl-q\")\n"
                   "      --no-stdin            Do not attach STDIN. The default is false\n"
                   "      --sig-proxy           Proxy received signals to the process (default "
                   "true)\n",
};

int pea_cmd_container_start_attached(const struct pea_container_ctx *ctx, const char *id,
                                     bool interactive, int *ret_code, struct pea_error **err)
{
        int r = pea_cmd_container_start_detached(ctx, id, true, NULL, err);
        if (r < 0)
                return r;
        struct pea_cmd_attach_opts ao = {.stdin = interactive, .sig_proxy = true};
        return pea_cmd_container_attach(ctx, id, &ao, ret_code, err);
}
