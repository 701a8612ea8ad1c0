/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base.h"
#include "runtime-internal.h"
#include "runtime/specgen.h"

/*
 * pea exec: a new process in a running container, set up as the container's
 * own process is (runc exec): the caller forks a helper that joins the
 * container's cgroup and namespaces (user first, when it is not ours) and
 * clones the process as the caller's child (CLONE_PARENT), inside the pid
 * namespace. The process takes the spec's rlimits, env, capabilities,
 * seccomp filter, no_new_privs and user (or the overrides), reports errors
 * over the sync socket, and its execve closes the socket: EOF is success.
 */

extern char **environ;

static const struct {
        const char *name;
        int type;
} exec_namespaces[] = {
        {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC},
        {"uts", CLONE_NEWUTS},   {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID},
        {"mnt", CLONE_NEWNS},
};

struct exec_ctx {
        struct runtime_spec *spec;
        const struct pea_runtime_exec_opts *o;
        void *seccomp;
        int sync;
        pid_t target;
};

static _noreturn_ void exec_fail(int sync, const struct pea_error *e, int code)
{
        runtime_sync_send_error(sync, e);
        _exit(code);
}

static bool same_ns(int fd, const char *name)
{
        struct stat a, b;
        _cleanup_free_ char *self = xasprintf("/proc/self/ns/%s", name);
        return fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino
               && a.st_dev == b.st_dev;
}

/* Moves us into pid's cgroup (v2, or v1's unified line); best effort. */
static void join_cgroup(pid_t pid)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)pid);
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, path, 65536, &text, NULL, NULL) < 0)
                return;
        char *line = strstr(text, "0::");
        if (!line)
                return;
        line += 3;
        line[strcspn(line, "\n")] = '\0';
        _cleanup_free_ char *procs = xasprintf("/sys/fs/cgroup%s/cgroup.procs", line);
        _cleanup_close_ int fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd >= 0)
                (void)!write(fd, "0", 1);
}

static int join_namespaces(pid_t pid, struct pea_error **err)
{
        int fds[ELEMENTSOF(exec_namespaces)];
        for (size_t i = 0; i < ELEMENTSOF(exec_namespaces); i++) {
                _cleanup_free_ char *p =
                        xasprintf("/proc/%d/ns/%s", (int)pid, exec_namespaces[i].name);
                fds[i] = open(p, O_RDONLY | O_CLOEXEC);
                if (fds[i] < 0 && i == 0)
                        return pea_error_syscall(err, errno, "opening '%s'", p);
                if (fds[i] >= 0 && same_ns(fds[i], exec_namespaces[i].name)) {
                        (void)close(fds[i]);
                        fds[i] = -1;
                }
        }
        int r = 0;
        for (size_t i = 0; i < ELEMENTSOF(exec_namespaces); i++) {
                if (fds[i] >= 0 && r >= 0 && setns(fds[i], exec_namespaces[i].type) < 0)
                        r = pea_error_syscall(err, errno, "joining the %s namespace",
                                              exec_namespaces[i].name);
                if (fds[i] >= 0)
                        (void)close(fds[i]);
        }
        return r;
}

static int exec_stdio(const int *stdio, struct pea_error **err)
{
        for (int i = 0; i < 3; i++) {
                if (stdio[i] < 0)
                        continue;
                int fd = fcntl(stdio[i], F_DUPFD_CLOEXEC, 3);
                if (fd < 0 || dup2(fd, i) < 0)
                        return pea_error_syscall(err, errno, "setting up the process's stdio");
                (void)close(fd);
        }
        return 0;
}

static int exec_terminal(struct exec_ctx *x, struct pea_error **err)
{
        int master = -EBADF, slave = -EBADF;
        _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return pea_error_syscall(err, errno, "opening '/'");
        int r = runtime_pty_setup(rootfd, &master, &slave, err);
        if (r < 0)
                return r;
        r = runtime_sync_send(x->sync, SYNC_CONSOLE, 0, master, err);
        closep(&master);
        if (r < 0) {
                closep(&slave);
                return r;
        }
        return runtime_pty_make_controlling(slave, err);
}

static int exec_process(struct exec_ctx *x, char **ret_exe, struct pea_error **err)
{
        struct runtime_spec *s = x->spec;
        int r = runtime_rlimits_apply(s, err);
        if (r < 0)
                return r;
        bool in_cwd = chdir(s->cwd) == 0;
        if (runtime_env_apply(s) < 0)
                return pea_error_set(err, ENOMEM, "setting the environment");
        bool early = s->seccomp && !s->no_new_privileges;
        r = runtime_caps_bounding(&s->caps, err);
        if (r >= 0 && early)
                r = runtime_seccomp_load(x->seccomp, err);
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
        if (!early && s->seccomp && runtime_seccomp_load(x->seccomp, err) < 0)
                return -EPERM;
        r = runtime_find_executable(s->args[0], ret_exe, err);
        return r < 0 ? r : runtime_fds_prepare(0, err);
}

/* The process itself: in every namespace of the container, a child of the caller. */
static _noreturn_ void exec_child(struct exec_ctx *x)
{
        struct pea_error *e = NULL;
        char *exe = NULL;
        int r = exec_stdio(x->o->stdio, &e);
        if (r >= 0 && x->o->terminal)
                r = exec_terminal(x, &e);
        if (r >= 0)
                r = exec_process(x, &exe, &e);
        if (r < 0)
                exec_fail(x->sync, e, r == -ENOENT ? 127 : 126);
        runtime_signals_reset();
        (void)prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        if (x->spec->has_umask)
                (void)umask(x->spec->umask);
        execve(exe, x->spec->args, environ);
        int code = errno;
        (void)runtime_exec_error(code, x->spec->args[0], &e);
        exec_fail(x->sync, e, code == ENOENT ? 127 : 126);
}

static pid_t clone_parent(void)
{
#if defined(__s390__) || defined(__s390x__)
        return (pid_t)syscall(SYS_clone, 0, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL);
#else
        return (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
#endif
}

/* The helper: joins, clones the process, sends its pid, exits. */
static _noreturn_ void exec_helper(struct exec_ctx *x)
{
        struct pea_error *e = NULL;
        join_cgroup(x->target);
        if (join_namespaces(x->target, &e) < 0)
                exec_fail(x->sync, e, 1);
        /* the process waits for EOF on it: SYNC_PID goes first, so the caller can reap it */
        int order[2];
        if (pipe2(order, O_CLOEXEC) < 0) {
                (void)pea_error_syscall(&e, errno, "pipe2");
                exec_fail(x->sync, e, 1);
        }
        pid_t pid = clone_parent();
        if (pid < 0) {
                (void)pea_error_syscall(&e, errno, "creating the process");
                exec_fail(x->sync, e, 1);
        }
        if (pid == 0) {
                char byte;
                (void)close(order[1]);
                while (read(order[0], &byte, 1) < 0 && errno == EINTR)
                        ;
                (void)close(order[0]);
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                exec_child(x);
        }
        if (runtime_sync_send(x->sync, SYNC_PID, pid, -EBADF, &e) < 0) {
                (void)kill(pid, SIGKILL);
                _exit(1);
        }
        _exit(0);
}

/* KEY=VALUE entries of add replace the spec's of the same KEY, or are appended. */
static void merge_env(struct runtime_spec *s, char *const *add)
{
        for (char *const *a = add; a && *a; a++) {
                size_t klen = strcspn(*a, "=");
                bool replaced = false;
                for (char **e = s->env; e && *e && !replaced; e++)
                        if (strncmp(*e, *a, klen) == 0 && (*e)[klen] == '=') {
                                free(*e);
                                *e = xstrdup(*a);
                                replaced = true;
                        }
                if (!replaced)
                        strv_push(&s->env, *a);
        }
}

static int apply_user(struct runtime_spec *s, pid_t pid, const char *user, struct pea_error **err)
{
        _cleanup_free_ char *root = xasprintf("/proc/%d/root", (int)pid);
        struct pea_userdb_user u = {};
        int r = pea_userdb_resolve_path(root, user, &u, err);
        if (r < 0)
                return r;
        s->uid = u.uid;
        s->gid = u.gid;
        free(s->additional_gids);
        s->additional_gids = TAKE_PTR(u.additional_gids);
        s->n_additional_gids = u.n_additional_gids;
        pea_userdb_user_done(&u);
        return 0;
}

/* --privileged: every capability we have (our bounding set). */
static void all_caps(struct runtime_caps *c)
{
        uint64_t all = 0;
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &text, NULL, NULL) >= 0) {
                const char *p = strstr(text, "CapBnd:");
                if (p)
                        all = strtoull(p + 7, NULL, 16);
        }
        *c = (struct runtime_caps){.present = true,
                                   .bounding = all,
                                   .effective = all,
                                   .inheritable = all,
                                   .permitted = all,
                                   .ambient = all};
}

static int exec_spec(const char *bundle_dir, pid_t pid, const struct pea_runtime_exec_opts *o,
                     struct runtime_spec **ret, struct pea_error **err)
{
        _cleanup_spec_ struct runtime_spec *s = NULL;
        int r = runtime_spec_load(bundle_dir, &s, err);
        if (r < 0)
                return r;
        if (!o->args || !o->args[0])
                return pea_error_set(err, EINVAL, "no command to execute");
        strv_free(s->args);
        s->args = NULL;
        for (char *const *a = o->args; *a; a++)
                strv_push(&s->args, *a);
        merge_env(s, o->env);
        if (o->cwd) {
                free(s->cwd);
                s->cwd = xstrdup(o->cwd);
        }
        if (o->user && *o->user && apply_user(s, pid, o->user, err) < 0)
                return -EINVAL;
        if (o->privileged) {
                all_caps(&s->caps);
                json_decref(s->seccomp);
                s->seccomp = NULL;
        }
        s->terminal = o->terminal;
        *ret = TAKE_PTR(s);
        return 0;
}

/* Follows the helper and the process up to the process's execve (EOF: all ends closed). */
static int exec_handshake(int sock, pid_t helper, pid_t *ret_pid, int *ret_console,
                          struct pea_error **err)
{
        int r = 0;
        for (;;) {
                struct runtime_sync_msg m;
                r = runtime_sync_recv(sock, &m, err);
                if (r < 0 || m.type == SYNC_EOF)
                        break;
                if (m.type == SYNC_PID && m.value > 0) {
                        *ret_pid = m.value;
                } else if (m.type == SYNC_CONSOLE && m.fd >= 0 && *ret_console < 0) {
                        *ret_console = TAKE_FD(m.fd);
                } else {
                        closep(&m.fd);
                        r = pea_error_set(err, EPROTO, "unexpected message %d from the process",
                                          m.type);
                        break;
                }
        }
        while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
                ;
        if (r >= 0 && *ret_pid <= 0)
                r = pea_error_set(err, EPIPE, "the exec helper exited unexpectedly");
        return r;
}

int pea_runtime_exec(const char *bundle_dir, pid_t pid, const struct pea_runtime_exec_opts *o,
                     pid_t *ret_pid, int *ret_console_fd, struct pea_error **err)
{
        _cleanup_spec_ struct runtime_spec *s = NULL;
        void *filter = NULL;
        int r = exec_spec(bundle_dir, pid, o, &s, err);
        if (r >= 0 && s->seccomp)
                r = runtime_seccomp_build(s->seccomp, o->seccomp_cache_dir, &filter, err);
        if (r < 0)
                return r;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                runtime_seccomp_free(filter);
                return pea_error_syscall(err, errno, "creating the sync socket");
        }
        struct exec_ctx x = {.spec = s, .o = o, .seccomp = filter, .sync = sv[1], .target = pid};
        pid_t helper = fork();
        if (helper == 0) {
                (void)close(sv[0]);
                exec_helper(&x);
        }
        (void)close(sv[1]);
        runtime_seccomp_free(filter);
        _cleanup_close_ int sock = sv[0];
        if (helper < 0)
                return pea_error_syscall(err, errno, "forking");
        pid_t child = 0;
        int console = -EBADF;
        r = exec_handshake(sock, helper, &child, &console, err);
        if (r < 0) {
                closep(&console);
                if (child > 0)
                        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
                                ;
                return r;
        }
        *ret_pid = child;
        if (ret_console_fd)
                *ret_console_fd = console;
        else
                closep(&console);
        return 0;
}
