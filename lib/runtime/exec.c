/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base.h"
#include "runtime-internal.h"

/*
 * create, start and wait. Three processes take part:
 *
 *   runtime (the caller)  --fork-->  stage 1  --clone(CLONE_PARENT)-->  stage 2
 *
 * Stage 1 joins and creates the namespaces (asking the runtime for the id
 * maps of a new user namespace), forks stage 2 as the runtime's own child,
 * so the runtime can wait for it, sends its pid and exits. Stage 2 is the
 * container's process (pid 1 of a new pid namespace): it mounts, pivots,
 * sets up the process, reports READY and waits for START just before
 * execve. Both report errors over the sync socket and _exit (DESIGN rule 12).
 *
 * When every namespace is new and none is a user namespace (the common case:
 * rootless pea already runs in the holder's), there is nothing for stage 1 to
 * do that clone(2)'s flags cannot: the runtime clones stage 2 directly.
 */

extern char **environ;

struct stage {
        struct runtime_spec *spec;
        const struct pea_runtime_opts *opts;
        void *seccomp;
        bool early_seccomp;
        int sync;
        pid_t parent;
        char *exe;
        /* stage 2 reads it until EOF: stage 1 has sent SYNC_PID first (message order) */
        int order[2];
};

struct clone3_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static _noreturn_ void child_fail(int sync, const struct pea_error *e, int code)
{
        runtime_sync_send_error(sync, e);
        _exit(code);
}

/* fork(2) with clone flags, without glibc's fork handlers (we are single-threaded). */
static pid_t raw_clone(unsigned long flags)
{
#if defined(__s390__) || defined(__s390x__)
        return (pid_t)syscall(SYS_clone, 0, flags | SIGCHLD, NULL, NULL, NULL);
#else
        return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
#endif
}

/* A fork whose child belongs to our parent, as crun does for the container's pid 1. */
static pid_t clone_parent(void)
{
        struct clone3_args a = {.flags = CLONE_PARENT};
        long pid = syscall(SYS_clone3, &a, sizeof(a));
        if (pid >= 0 || errno != ENOSYS)
                return (pid_t)pid;
        return raw_clone(CLONE_PARENT);
}

static int setup_stdio(const int *stdio, struct pea_error **err)
{
        int tmp[3] = {-EBADF, -EBADF, -EBADF};
        int r = 0;
        /* Out of the way first, so that stdio[1] == 0 and the like work. */
        for (int i = 0; i < 3 && r == 0; i++)
                if (stdio[i] >= 0 && (tmp[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 3)) < 0)
                        r = -errno;
        for (int i = 0; i < 3 && r == 0; i++)
                if (tmp[i] >= 0 && dup2(tmp[i], i) < 0)
                        r = -errno;
        for (int i = 0; i < 3; i++)
                closep(&tmp[i]);
        if (r < 0)
                return pea_error_syscall(err, r, "setting up the container's stdio");
        return 0;
}

static int stage2_terminal(struct stage *st, int rootfd, struct pea_error **err)
{
        int master = -EBADF, slave = -EBADF;
        int r = runtime_pty_setup(rootfd, &master, &slave, err);
        if (r < 0)
                return r;
        if (st->opts->console_socket >= 0)
                r = runtime_send_fd(st->opts->console_socket, master, err);
        else
                r = runtime_sync_send(st->sync, SYNC_CONSOLE, 0, master, err);
        closep(&master);
        if (r >= 0)
                r = runtime_console_bind(rootfd, slave, err);
        if (r < 0) {
                closep(&slave);
                return r;
        }
        return runtime_pty_make_controlling(slave, err);
}

static int stage2_rootfs(struct stage *st, struct pea_error **err)
{
        struct runtime_spec *s = st->spec;
        _cleanup_close_ int rootfd = -EBADF;
        int r = runtime_mounts_setup(s, &rootfd, err);
        if (r >= 0)
                r = runtime_devices_setup(s, rootfd, err);
        if (r >= 0 && s->terminal)
                r = stage2_terminal(st, rootfd, err);
        if (r >= 0)
                r = runtime_sysctl_apply(s, rootfd, err);
        if (r >= 0 && s->hostname && s->hostname[0]
            && sethostname(s->hostname, strlen(s->hostname)) < 0)
                r = pea_error_syscall(err, errno, "setting hostname '%s'", s->hostname);
        if (r >= 0)
                r = runtime_mounts_protect(s, rootfd, err);
        if (r >= 0)
                r = runtime_mounts_pivot(s, rootfd, err);
        return r;
}

static int stage2_process(struct stage *st, struct pea_error **err)
{
        struct runtime_spec *s = st->spec;
        int r = runtime_rlimits_apply(s, err);
        if (r < 0)
                return r;
        /* As root first; again as the user when root could not (runc does the same). */
        bool in_cwd = chdir(s->cwd) == 0;
        if (runtime_env_apply(s) < 0)
                return pea_error_set(err, ENOMEM, "setting the environment");
        r = runtime_caps_bounding(&s->caps, err);
        if (r >= 0 && st->early_seccomp)
                r = runtime_seccomp_load(st->seccomp, err);
        if (r >= 0 && s->caps.present && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                r = pea_error_syscall(err, errno, "prctl(PR_SET_KEEPCAPS)");
        if (r >= 0)
                r = runtime_user_apply(s, err);
        if (r >= 0 && s->caps.present && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                r = pea_error_syscall(err, errno, "prctl(PR_SET_KEEPCAPS)");
        if (r >= 0)
                r = runtime_caps_apply(&s->caps, err);
        if (r < 0)
                return r;
        if (!in_cwd && chdir(s->cwd) < 0)
                return pea_error_syscall(err, errno, "changing to cwd '%s'", s->cwd);
        if (s->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return pea_error_syscall(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
        r = runtime_find_executable(s->args[0], &st->exe, err);
        if (r < 0)
                return r;
        return runtime_fds_prepare(st->opts->preserve_fds, err);
}

static _noreturn_ void stage2(struct stage *st)
{
        struct pea_error *e = NULL;
        int r = 0;
        /* Both stages share the sync socket: let stage 1's SYNC_PID go first. */
        if (st->order[0] >= 0) {
                (void)close(st->order[1]);
                char byte;
                while (read(st->order[0], &byte, 1) < 0 && errno == EINTR)
                        ;
                (void)close(st->order[0]);
        }
        /* Our parent is the runtime (CLONE_PARENT): die with it until execve. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                r = pea_error_syscall(&e, errno, "prctl(PR_SET_PDEATHSIG)");
        if (r >= 0)
                r = setup_stdio(st->opts->stdio, &e);
        if (r >= 0)
                r = runtime_oom_score_adj_apply(st->spec, &e);
        if (r >= 0)
                r = stage2_rootfs(st, &e);
        if (r >= 0)
                r = stage2_process(st, &e);
        if (r >= 0)
                r = runtime_sync_send(st->sync, SYNC_READY, 0, -EBADF, &e);
        if (r >= 0)
                r = runtime_sync_expect(st->sync, SYNC_START, NULL, &e);
        if (r < 0)
                child_fail(st->sync, e, 1);
        runtime_signals_reset();
        (void)prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        if (st->spec->has_umask)
                (void)umask(st->spec->umask);
        /* The last thing before execve, so the filter sees only the container. */
        if (!st->early_seccomp && runtime_seccomp_load(st->seccomp, &e) < 0)
                child_fail(st->sync, e, 1);
        execve(st->exe, st->spec->args, environ);
        int code = errno;
        (void)runtime_exec_error(code, st->spec->args[0], &e);
        child_fail(st->sync, e, code == ENOENT ? 127 : 126);
}

static _noreturn_ void stage1(struct stage *st)
{
        struct pea_error *e = NULL;
        int r = 0;
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != st->parent)
                r = pea_error_set(&e, ESRCH, "the runtime exited during the container's setup");
        if (r >= 0)
                r = runtime_ns_enter(st->spec, st->sync, &e);
        if (r >= 0 && pipe2(st->order, O_CLOEXEC) < 0)
                r = pea_error_syscall(&e, errno, "pipe2");
        if (r < 0)
                child_fail(st->sync, e, 1);
        pid_t pid = clone_parent();
        if (pid < 0) {
                (void)pea_error_syscall(&e, errno, "creating the container's process");
                child_fail(st->sync, e, 1);
        }
        if (pid == 0)
                stage2(st);
        (void)close(st->order[0]);
        if (runtime_sync_send(st->sync, SYNC_PID, pid, -EBADF, &e) < 0) {
                (void)kill(pid, SIGKILL);
                _exit(1);
        }
        /* EOF on the order pipe: stage 2 may talk now. */
        (void)close(st->order[1]);
        _exit(0);
}

static bool seccomp_early(const struct runtime_spec *s)
{
        /* Without no_new_privs the filter needs CAP_SYS_ADMIN: load it before caps drop. */
        if (!s->seccomp || s->no_new_privileges)
                return false;
        if (s->caps.present)
                return !(s->caps.effective & (UINT64_C(1) << CAP_SYS_ADMIN));
        return s->uid != 0;
}

static int reap(pid_t pid)
{
        int ws = 0;
        pid_t p;
        do
                p = waitpid(pid, &ws, 0);
        while (p < 0 && errno == EINTR);
        return p < 0 ? -errno : ws;
}

static int handshake_stage1(int sock, pid_t pid1, struct runtime_spec *s, pid_t *ret_pid,
                            struct pea_error **err)
{
        for (;;) {
                struct runtime_sync_msg m;
                int r = runtime_sync_recv(sock, &m, err);
                if (r < 0)
                        return r;
                closep(&m.fd);
                if (m.type == SYNC_PID && m.value > 0) {
                        *ret_pid = m.value;
                        return 0;
                }
                if (m.type == SYNC_EOF)
                        return pea_error_set(err, EPIPE,
                                             "the container's setup exited unexpectedly");
                if (m.type != SYNC_USERNS)
                        return pea_error_set(err, EPROTO, "unexpected message %d from stage 1",
                                             m.type);
                r = runtime_ns_write_maps(s, pid1, err);
                if (r < 0)
                        return pea_error_wrap(err, "writing the user namespace maps");
                r = runtime_sync_send(sock, SYNC_USERNS_DONE, 0, -EBADF, err);
                if (r < 0)
                        return r;
        }
}

static int handshake_stage2(int sock, struct pea_runtime_container *c, struct pea_error **err)
{
        for (;;) {
                struct runtime_sync_msg m;
                int r = runtime_sync_recv(sock, &m, err);
                if (r < 0)
                        return r;
                if (m.type == SYNC_READY) {
                        closep(&m.fd);
                        return 0;
                }
                if (m.type == SYNC_CONSOLE && m.fd >= 0 && c->console_fd < 0) {
                        c->console_fd = m.fd;
                        continue;
                }
                closep(&m.fd);
                if (m.type == SYNC_EOF)
                        return pea_error_set(err, EPIPE,
                                             "the container's process exited during its setup");
                return pea_error_set(err, EPROTO, "unexpected message %d from the container",
                                     m.type);
        }
}

static int write_pid_file(const char *path, pid_t pid, struct pea_error **err)
{
        _cleanup_free_ char *text = xasprintf("%d", (int)pid);
        int r = pea_write_file_replace_at(AT_FDCWD, path, text, strlen(text), 0644, err);
        if (r < 0)
                return pea_error_wrap(err, "writing pid file");
        return 0;
}

/* The clone flags when stage 1 has nothing to do (see the top); -1 otherwise. */
static int direct_clone_flags(const struct runtime_spec *s)
{
        int flags = 0;
        for (size_t i = 0; i < s->n_namespaces; i++) {
                if (s->namespaces[i].path || s->namespaces[i].type == CLONE_NEWUSER)
                        return -1;
                flags |= s->namespaces[i].type;
        }
        return flags;
}

static _noreturn_ void direct_stage2(struct stage *st, int flags)
{
        /* No getppid() check: it is 0 in a new pid namespace; EOF on sync tells. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
                struct pea_error *e = NULL;
                (void)pea_error_syscall(&e, errno, "prctl(PR_SET_PDEATHSIG)");
                child_fail(st->sync, e, 1);
        }
        if (flags & CLONE_NEWNET)
                runtime_ns_loopback_up();
        stage2(st);
}

/* Starts stage 1, or stage 2 directly, and follows the setup up to READY. */
static int spawn(struct stage *st, int parent_sock, struct pea_runtime_container *c,
                 struct pea_error **err)
{
        int flags = direct_clone_flags(st->spec);
        pid_t pid1 = flags >= 0 ? raw_clone((unsigned long)flags) : fork();
        if (pid1 < 0)
                return pea_error_syscall(err, errno, "creating the container's process");
        if (pid1 == 0) {
                (void)close(parent_sock);
                if (flags >= 0)
                        direct_stage2(st, flags);
                stage1(st);
        }
        closep(&st->sync);
        int r = 0;
        if (flags >= 0) {
                c->pid = pid1;
        } else {
                r = handshake_stage1(parent_sock, pid1, st->spec, &c->pid, err);
                if (r < 0)
                        (void)kill(pid1, SIGKILL);
                (void)reap(pid1);
        }
        if (r >= 0)
                r = handshake_stage2(parent_sock, c, err);
        if (r >= 0 && st->opts->pid_file)
                r = write_pid_file(st->opts->pid_file, c->pid, err);
        if (r < 0 && c->pid > 0) {
                (void)kill(c->pid, SIGKILL);
                (void)reap(c->pid);
                c->pid = 0;
        }
        return r;
}

static int prepare_spec(const char *bundle_dir, const struct pea_runtime_opts *opts,
                        struct runtime_spec **ret, void **ret_seccomp, struct pea_error **err)
{
        _cleanup_spec_ struct runtime_spec *s = NULL;
        int r = runtime_spec_load(bundle_dir, &s, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < opts->n_ns_paths; i++) {
                r = runtime_spec_join_ns(s, opts->ns_paths[i].type, opts->ns_paths[i].path, err);
                if (r < 0)
                        return r;
        }
        if (s->seccomp) {
                r = runtime_seccomp_build(s->seccomp, opts->seccomp_cache_dir, ret_seccomp, err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* A socketpair whose child end sits above the preserved fds. */
static int sync_pair(unsigned preserve_fds, int *ret_parent, int *ret_child, struct pea_error **err)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return pea_error_syscall(err, errno, "creating the sync socket");
        _cleanup_close_ int parent = sv[0], child = sv[1];
        int high = fcntl(child, F_DUPFD_CLOEXEC, (int)(3 + preserve_fds));
        if (high < 0)
                return pea_error_syscall(err, errno, "moving the sync socket");
        closep(&child);
        *ret_parent = TAKE_FD(parent);
        *ret_child = high;
        return 0;
}

void pea_runtime_opts_init(struct pea_runtime_opts *opts)
{
        *opts = (struct pea_runtime_opts){.console_socket = -1, .stdio = {-1, -1, -1}};
}

int pea_runtime_create(const char *bundle_dir, const struct pea_runtime_opts *opts,
                       struct pea_runtime_container **ret, struct pea_error **err)
{
        struct pea_runtime_opts defaults;
        if (!opts) {
                pea_runtime_opts_init(&defaults);
                opts = &defaults;
        }
        _cleanup_spec_ struct runtime_spec *s = NULL;
        void *seccomp = NULL;
        int r = prepare_spec(bundle_dir, opts, &s, &seccomp, err);
        if (r < 0)
                return r;
        struct stage st = {
                .spec = s,
                .opts = opts,
                .seccomp = seccomp,
                .early_seccomp = seccomp_early(s),
                .parent = getpid(),
                .sync = -EBADF,
                .order = {-EBADF, -EBADF},
        };
        _cleanup_close_ int sock = -EBADF;
        _cleanup_free_ struct pea_runtime_container *c = xcalloc(1, sizeof(*c));
        *c = (struct pea_runtime_container){.sync_fd = -EBADF, .console_fd = -EBADF};
        r = sync_pair(opts->preserve_fds, &sock, &st.sync, err);
        if (r >= 0)
                r = spawn(&st, sock, c, err);
        closep(&st.sync);
        runtime_seccomp_free(seccomp);
        if (r < 0) {
                closep(&c->console_fd);
                return r;
        }
        c->sync_fd = TAKE_FD(sock);
        *ret = TAKE_PTR(c);
        return 0;
}

int pea_runtime_start(struct pea_runtime_container *c, struct pea_error **err)
{
        if (c->started || c->sync_fd < 0)
                return pea_error_set(err, EINVAL, "the container was already started");
        c->started = true;
        int r = runtime_sync_send(c->sync_fd, SYNC_START, 0, -EBADF, err);
        struct runtime_sync_msg m = {.fd = -EBADF};
        if (r >= 0)
                r = runtime_sync_recv(c->sync_fd, &m, err);
        closep(&m.fd);
        closep(&c->sync_fd);
        /* EOF: the socket was closed on exec. An error: execve failed, the process exits. */
        if (r >= 0 && m.type != SYNC_EOF)
                r = pea_error_set(err, EPROTO, "unexpected message %d from the container", m.type);
        if (r < 0) {
                int ws = reap(c->pid);
                c->reaped = ws >= 0;
                c->exit_status = ws >= 0 ? pea_runtime_exit_status(ws) : 0;
        }
        return r;
}

int pea_runtime_wait(struct pea_runtime_container *c, int *ret_exit_status, struct pea_error **err)
{
        if (!c->reaped) {
                int ws = reap(c->pid);
                if (ws < 0)
                        return pea_error_syscall(err, ws, "waiting for container process %d",
                                                 (int)c->pid);
                c->reaped = true;
                c->exit_status = pea_runtime_exit_status(ws);
        }
        *ret_exit_status = c->exit_status;
        return 0;
}

int pea_runtime_kill(struct pea_runtime_container *c, int sig, struct pea_error **err)
{
        if (c->reaped)
                return pea_error_set(err, ESRCH, "container process %d has exited", (int)c->pid);
        if (kill(c->pid, sig) < 0)
                return pea_error_syscall(err, errno, "sending signal %d to %d", sig, (int)c->pid);
        return 0;
}

struct pea_runtime_container *pea_runtime_container_free(struct pea_runtime_container *c)
{
        if (!c)
                return NULL;
        if (!c->started && !c->reaped && c->pid > 0) {
                (void)kill(c->pid, SIGKILL);
                (void)reap(c->pid);
        }
        closep(&c->sync_fd);
        closep(&c->console_fd);
        free(c);
        return NULL;
}

int pea_runtime_exit_status(int wstatus)
{
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return 128 + WTERMSIG(wstatus);
        return 255;
}

int pea_runtime_error_exit_code(const struct pea_error *err)
{
        if (!err || !err->msg)
                return 125;
        /* Only the errors of running the command itself; a missing mount source is ours. */
        if (err->code == ENOENT
            && strstr(err->msg, "OCI runtime attempted to invoke a command that was not found"))
                return 127;
        if (strstr(err->msg, ": OCI permission denied"))
                return 126;
        return 125;
}

static const int forwarded_signals[] = {
        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};

static void handle_signals(struct pea_runtime_container *c, int sfd)
{
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                int sig = (int)si.ssi_signo;
                if (sig == SIGCHLD || c->reaped)
                        continue;
                if (sig == SIGWINCH && c->console_fd >= 0)
                        runtime_winsize_copy(STDIN_FILENO, c->console_fd);
                else
                        (void)kill(c->pid, sig);
        }
}

static bool try_reap(struct pea_runtime_container *c)
{
        int ws = 0;
        if (!c->reaped && waitpid(c->pid, &ws, WNOHANG) == c->pid) {
                c->reaped = true;
                c->exit_status = pea_runtime_exit_status(ws);
        }
        return c->reaped;
}

static int run_loop(struct pea_runtime_container *c, int sfd, struct pea_error **err)
{
        bool out = c->console_fd >= 0, in = c->console_fd >= 0;
        while (!try_reap(c)) {
                struct pollfd p[3] = {
                        {.fd = sfd, .events = POLLIN},
                        {.fd = out ? c->console_fd : -1, .events = POLLIN},
                        {.fd = in ? STDIN_FILENO : -1, .events = POLLIN},
                };
                if (poll(p, ELEMENTSOF(p), -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return pea_error_syscall(err, errno, "poll");
                }
                if (p[0].revents)
                        handle_signals(c, sfd);
                if (p[1].revents)
                        out = runtime_copy_once(c->console_fd, STDOUT_FILENO) > 0;
                if (p[2].revents)
                        in = runtime_copy_once(STDIN_FILENO, c->console_fd) > 0;
        }
        /* What the container wrote just before it exited. */
        if (out && fcntl(c->console_fd, F_SETFL, O_NONBLOCK) == 0)
                while (runtime_copy_once(c->console_fd, STDOUT_FILENO) > 0)
                        ;
        return 0;
}

int pea_runtime_run(const char *bundle_dir, const struct pea_runtime_opts *opts,
                    int *ret_exit_status, struct pea_error **err)
{
        sigset_t mask, old;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaddset(&mask, forwarded_signals[i]);
        if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
                return pea_error_syscall(err, errno, "blocking signals");
        struct pea_runtime_container *c = NULL;
        struct runtime_tty tty = {.fd = -EBADF};
        int r = 0, sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                r = pea_error_syscall(err, errno, "signalfd");
        if (r >= 0)
                r = pea_runtime_create(bundle_dir, opts, &c, err);
        if (r >= 0 && c->console_fd >= 0) {
                runtime_tty_raw(&tty, STDIN_FILENO);
                runtime_winsize_copy(STDIN_FILENO, c->console_fd);
        }
        if (r >= 0)
                r = pea_runtime_start(c, err);
        if (r >= 0)
                r = run_loop(c, sfd, err);
        runtime_tty_restore(&tty);
        if (r >= 0)
                *ret_exit_status = c->exit_status;
        c = pea_runtime_container_free(c);
        if (sfd >= 0) {
                /* Drop what is pending, so unblocking does not deliver it to us. */
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof(si)) > 0)
                        ;
                closep(&sfd);
        }
        (void)sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
