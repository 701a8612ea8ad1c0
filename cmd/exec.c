/* SPDX-License-Identifier: Apache-2.0 */
/* pea exec: a process in a running container, through lib/runtime's exec. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "monitor/monitor.h"
#include "run.h"
#include "runtime/runtime.h"
#include "state/state.h"

struct exec_opts {
        bool interactive, tty, detach, privileged;
        const char *user, *workdir, *detach_keys;
        char **env, **env_files;
};

enum { OPT_ENV_FILE = 0x100, OPT_PRIVILEGED, OPT_DETACH_KEYS };

static int parse_one(int c, struct exec_opts *o, int argc, char **argv, struct pea_error **err)
{
        switch (c) {
        case 'i':
                o->interactive = true;
                return 0;
        case 't':
                o->tty = true;
                return 0;
        case 'd':
                o->detach = true;
                return 0;
        case 'e':
                strv_push(&o->env, optarg);
                return 0;
        case OPT_ENV_FILE:
                strv_push(&o->env_files, optarg);
                return 0;
        case 'u':
                o->user = optarg;
                return 0;
        case 'w':
                o->workdir = optarg;
                return 0;
        case OPT_PRIVILEGED:
                o->privileged = true;
                return 0;
        case OPT_DETACH_KEYS:
                o->detach_keys = optarg;
                return 0;
        default:
                return pea_cli_opt_error(c, argc, argv, err);
        }
}

static int parse(struct pea_cli *cli, int argc, char **argv, struct exec_opts *o,
                 struct pea_error **err)
{
        static const struct option longopts[] = {
                {"interactive", no_argument, NULL, 'i'},
                {"tty", no_argument, NULL, 't'},
                {"detach", no_argument, NULL, 'd'},
                {"env", required_argument, NULL, 'e'},
                {"env-file", required_argument, NULL, OPT_ENV_FILE},
                {"user", required_argument, NULL, 'u'},
                {"workdir", required_argument, NULL, 'w'},
                {"privileged", no_argument, NULL, OPT_PRIVILEGED},
                {"detach-keys", required_argument, NULL, OPT_DETACH_KEYS},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "+:itde:u:w:h", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_exec);
                        return 1;
                }
                int r = parse_one(c, o, argc, argv, err);
                if (r < 0)
                        return r;
        }
        if (o->detach_keys) {
                _cleanup_free_ char *k = NULL;
                size_t n = 0;
                int r = pea_monitor_detach_keys_parse(o->detach_keys, &k, &n, err);
                if (r < 0)
                        return r;
        }
        if (argc - optind < 1)
                return pea_error_set(err, EINVAL,
                                     "exec requires the name or ID of a container or the --latest "
                                     "flag");
        if (argc - optind < 2)
                return pea_error_set(err, EINVAL, "you must provide a command to exec");
        return 0;
}

/* --env-file lines, then -e (KEY alone takes our value; unset: skipped), as podman. */
static int build_env(const struct exec_opts *o, char ***ret, struct pea_error **err)
{
        _cleanup_strv_ char **env = xcalloc(1, sizeof(char *));
        STRV_FOREACH(f, o->env_files) {
                _cleanup_free_ char *text = NULL;
                int r = pea_read_file_at(AT_FDCWD, *f, 1 << 20, &text, NULL, err);
                if (r < 0)
                        return pea_error_wrap(err, "reading env file '%s'", *f);
                _cleanup_strv_ char **lines = strv_split(text, "\n");
                STRV_FOREACH(l, lines) {
                        char *t = strstrip(*l);
                        if (*t && *t != '#')
                                strv_push(&env, t);
                }
        }
        STRV_FOREACH(e, o->env) {
                const char *v = strchr(*e, '=') ? NULL : getenv(*e);
                if (strchr(*e, '='))
                        strv_push(&env, *e);
                else if (v)
                        strv_consume(&env, xasprintf("%s=%s", *e, v));
        }
        if (o->tty)
                strv_push(&env, "TERM=xterm");
        *ret = TAKE_PTR(env);
        return 0;
}

/* The signals we get go to the process (without a tty). */
static volatile sig_atomic_t exec_pid;

static void forward(int sig)
{
        if (exec_pid > 0)
                (void)kill((pid_t)exec_pid, sig);
}

static void forward_signals(pid_t pid)
{
        static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
        struct sigaction sa = {.sa_handler = forward};
        exec_pid = pid;
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                (void)sigaction(sigs[i], &sa, NULL);
}

static int wait_exit(pid_t pid)
{
        int ws = 0;
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR)
                        return 125;
        return pea_runtime_exit_status(ws);
}

static bool copy_once(int from, int to)
{
        char buf[8192];
        ssize_t n = read(from, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        for (ssize_t off = 0; off < n;) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return false;
                off += w;
        }
        return true;
}

static void copy_winsize(int master)
{
        struct winsize ws;
        if (isatty(STDIN_FILENO) && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                (void)ioctl(master, TIOCSWINSZ, &ws);
}

/* SIGWINCH as an fd: our terminal's size follows to the pty; -1 without a terminal. */
static int winch_fd(sigset_t *old)
{
        sigset_t m;
        (void)sigemptyset(&m);
        (void)sigaddset(&m, SIGWINCH);
        if (!isatty(STDIN_FILENO) || sigprocmask(SIG_BLOCK, &m, old) < 0)
                return -1;
        int fd = signalfd(-1, &m, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd < 0)
                (void)sigprocmask(SIG_SETMASK, old, NULL);
        return fd;
}

/* -t: our terminal (raw) to the pty master and back, until the process closes it. */
static void relay_pty(int master, bool in)
{
        struct termios saved, raw;
        bool is_raw = false, in_open = in;
        sigset_t old;
        (void)sigemptyset(&old);
        copy_winsize(master);
        _cleanup_close_ int wfd = winch_fd(&old);
        if (in && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                raw = saved;
                cfmakeraw(&raw);
                is_raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        }
        for (;;) {
                struct pollfd p[3] = {{master, POLLIN, 0},
                                      {in_open ? STDIN_FILENO : -1, POLLIN, 0},
                                      {wfd, POLLIN, 0}};
                if (poll(p, 3, -1) < 0 && errno != EINTR)
                        break;
                if (p[0].revents && !copy_once(master, STDOUT_FILENO))
                        break;
                if (p[1].revents && !copy_once(STDIN_FILENO, master))
                        in_open = false;
                struct signalfd_siginfo si;
                if (p[2].revents && read(wfd, &si, sizeof(si)) > 0)
                        copy_winsize(master);
        }
        if (is_raw)
                (void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        if (wfd >= 0)
                (void)sigprocmask(SIG_SETMASK, &old, NULL);
}

static char *session_id(void)
{
        unsigned char b[32] = {0};
        (void)!getrandom(b, sizeof(b), 0);
        char *s = xmalloc(65);
        for (size_t i = 0; i < sizeof(b); i++)
                (void)snprintf(s + 2 * i, 3, "%02x", b[i]);
        return s;
}

static int null_fd(int flags)
{
        return open("/dev/null", flags | O_CLOEXEC);
}

static int run_exec(struct pea_run_env *e, const struct exec_opts *o, const char *id, pid_t target,
                    char **argv, const char *cwd, struct pea_error **err)
{
        _cleanup_strv_ char **env = NULL;
        int r = build_env(o, &env, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *bundle = pea_container_bundle_dir(&e->ctx, id);
        _cleanup_free_ char *cache = pea_runtime_seccomp_cache_dir(e->ctx.run_root);
        _cleanup_close_ int in = o->interactive && !o->detach ? -EBADF : null_fd(O_RDONLY);
        _cleanup_close_ int out = o->detach ? null_fd(O_WRONLY) : -EBADF;
        struct pea_runtime_exec_opts xo = {
                .args = argv,
                .env = env,
                .cwd = o->workdir ? o->workdir : cwd,
                .user = o->user,
                .terminal = o->tty,
                .privileged = o->privileged,
                .stdio = {in >= 0 ? in : -1, out >= 0 ? out : -1, out >= 0 ? out : -1},
                .seccomp_cache_dir = cache,
        };
        pid_t pid = 0;
        _cleanup_close_ int console = -EBADF;
        r = pea_runtime_exec(bundle, target, &xo, &pid, &console, err);
        if (r < 0) {
                pea_cli_exit_code = pea_runtime_error_exit_code(*err);
                return r;
        }
        if (o->detach) {
                _cleanup_free_ char *sid = session_id();
                printf("%s\n", sid);
                return 0;
        }
        if (console >= 0)
                relay_pty(console, o->interactive);
        else
                forward_signals(pid);
        return wait_exit(pid);
}

static int cmd_exec(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct exec_opts o = {};
        int r = parse(cli, argc, argv, &o, err);
        struct pea_run_env e = {};
        if (r == 0)
                r = pea_run_env_open(cli, &e, err);
        struct pea_container_row row = {};
        if (r == 0)
                r = pea_cmd_container_get(&e.ctx, argv[optind], &row, err);
        if (r == 0 && (!streq(row.state, "running") || row.pid <= 0))
                r = pea_error_set(err, EINVAL,
                                  "can only create exec sessions on running containers: "
                                  "container state improper");
        if (r == 0) {
                const char *cwd = json_string_value(json_object_get(row.config, "cwd"));
                _cleanup_free_ char *id = xstrdup(row.id), *wd = cwd ? xstrdup(cwd) : NULL;
                pid_t target = row.pid;
                pea_container_row_done(&row);
                r = run_exec(&e, &o, id, target, argv + optind + 1, wd, err);
        }
        pea_container_row_done(&row);
        pea_run_env_done(&e);
        strv_free(o.env);
        strv_free(o.env_files);
        return r == 1 ? 0 : r;
}

const struct pea_cmd pea_cmd_exec = {
        .name = "exec",
        .fn = cmd_exec,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Run a process in a running container",
        .usage = "[options] CONTAINER COMMAND [ARG...]",
        .options = "  -d, --detach                Run the exec session in detached mode "
                   "(backgrounded)\n"
                   "      --detach-keys string    Select the key sequence for detaching a "
                   "container. Format is a single character [a-Z] or ctrl-<value> where <value> "
                   "is one of: a-z, @, ^, [, , or _\n"
                   "  -e, --env stringArray       Set environment variables\n"
                   "      --env-file stringArray  Read in a file of environment variables\n"
                   "  -i, --interactive           Keep STDIN open even if not attached\n"
                   "      --privileged            Give the process extended Linux capabilities "
                   "inside the container.  The default is false\n"
                   "  -t, --tty                   Allocate a pseudo-TTY. The default is false\n"
                   "  -u, --user string           Sets the username or UID used and optionally "
                   "the groupname or GID for the specified command\n"
                   "  -w, --workdir string        Working directory inside the container\n",
};
