/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Joining the per-user user and mount namespace that the holder (holder.c)
 * keeps alive, so every rootless command sees the same mapping and mounts.
 */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include "base.h"
#include "rootless/rootless.h"
#include "rootless/userns-internal.h"

#define PID_FILE_MAX    64
#define STOP_TIMEOUT_MS 5000

/* A live holder: its pid and its namespaces, opened through one /proc/PID fd. */
struct holder {
        pid_t pid;
        int userfd;
        int mntfd;
};

#define HOLDER_NULL                                         \
        {                                                   \
                .pid = 0, .userfd = -EBADF, .mntfd = -EBADF \
        }

static void holder_done(struct holder *h)
{
        closep(&h->userfd);
        closep(&h->mntfd);
}

int pea_userns_parse_pid(const char *text, pid_t *ret, struct pea_error **err)
{
        _cleanup_free_ char *s = xstrdup(text);
        unsigned v = 0;
        if (safe_atou32(strstrip(s), &v) < 0 || v == 0 || v > INT32_MAX)
                return pea_error_set(err, EBADMSG, "malformed pid '%s'", s);
        *ret = (pid_t)v;
        return 0;
}

char **pea_userns_idmap_argv(const char *helper, pid_t pid, const struct pea_idmap *m, size_t n)
{
        char **argv = NULL;
        strv_push(&argv, helper);
        strv_consume(&argv, xasprintf("%d", (int)pid));
        for (size_t i = 0; i < n; i++) {
                strv_consume(&argv, xasprintf("%" PRIu32, m[i].container_id));
                strv_consume(&argv, xasprintf("%" PRIu32, m[i].host_id));
                strv_consume(&argv, xasprintf("%" PRIu32, m[i].size));
        }
        return argv;
}

char *pea_userns_idmap_text(const struct pea_idmap *m, size_t n)
{
        char *text = xstrdup("");
        for (size_t i = 0; i < n; i++) {
                char *next = xasprintf("%s%" PRIu32 " %" PRIu32 " %" PRIu32 "\n", text,
                                       m[i].container_id, m[i].host_id, m[i].size);
                free(text);
                text = next;
        }
        return text;
}

static char *run_path(const struct pea_config *c, const char *name)
{
        return xasprintf("%s/%s", c->run_root, name);
}

/* The process behind /proc/PID (dfd) is ours and calls itself the holder. */
static bool is_our_holder(int dfd)
{
        struct stat st;
        char comm[32] = "";
        if (fstat(dfd, &st) < 0 || st.st_uid != geteuid())
                return false;
        _cleanup_close_ int fd = openat(dfd, "comm", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, comm, sizeof(comm) - 1) : -1;
        if (n <= 0)
                return false;
        comm[n] = '\0';
        return streq(strstrip(comm), PEA_USERNS_HOLDER_COMM);
}

/*
 * 1 with *ret when the pid file names a live holder of ours, 0 when there is
 * none (no file, garbage, a dead pid, a pid reused by another process).
 */
static int holder_open(const struct pea_config *c, struct holder *ret)
{
        _cleanup_free_ char *path = run_path(c, PEA_USERNS_PID_FILE);
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        pid_t pid = 0;
        if (pea_read_file_at(AT_FDCWD, path, PID_FILE_MAX, &text, NULL, &e) < 0
            || pea_userns_parse_pid(text, &pid, &e) < 0)
                return 0;
        _cleanup_free_ char *proc = xasprintf("/proc/%d", (int)pid);
        _cleanup_close_ int dfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || !is_our_holder(dfd))
                return 0;
        /* a zombie has no namespaces left: these fail for it */
        _cleanup_close_ int userfd = openat(dfd, "ns/user", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int mntfd = openat(dfd, "ns/mnt", O_RDONLY | O_CLOEXEC);
        if (userfd < 0 || mntfd < 0)
                return 0;
        *ret = (struct holder){.pid = pid, .userfd = TAKE_FD(userfd), .mntfd = TAKE_FD(mntfd)};
        return 1;
}

static bool in_userns_of(int userfd)
{
        struct stat a, b;
        return fstat(userfd, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 && a.st_dev == b.st_dev
               && a.st_ino == b.st_ino;
}

/* The initial user namespace maps every id to itself. */
static bool in_initial_userns(void)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        if (pea_read_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &text, NULL, &e) < 0)
                return true;
        _cleanup_strv_ char **f = strv_split(text, " \t\n");
        return strv_length(f) == 3 && streq(f[0], "0") && streq(f[1], "0")
               && streq(f[2], "4294967295");
}

/* A process that joined exports who it is; its children are inside already. */
static bool inside_by_env(const struct pea_config *c)
{
        const char *v = getenv("_PEA_ROOTLESS_UID");
        unsigned u = 0;
        if (!v || safe_atou32(v, &u) < 0 || u != (unsigned)c->uid || geteuid() != 0)
                return false;
        return !in_initial_userns();
}

static void set_env(const struct pea_config *c)
{
        _cleanup_free_ char *uid = xasprintf("%u", (unsigned)c->uid);
        _cleanup_free_ char *gid = xasprintf("%u", (unsigned)c->gid);
        (void)setenv("_PEA_ROOTLESS_UID", uid, 1);
        (void)setenv("_PEA_ROOTLESS_GID", gid, 1);
}

/* Creates the run root (0700) and refuses one somebody else owns. */
static int ensure_run_root(const struct pea_config *c, struct pea_error **err)
{
        int r = pea_mkdir_p(c->run_root, 0700, err);
        if (r < 0)
                return r;
        struct stat st;
        if (lstat(c->run_root, &st) < 0)
                return pea_error_syscall(err, errno, "checking '%s'", c->run_root);
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
                return pea_error_set(err, EPERM, "'%s' is not a directory owned by uid %u",
                                     c->run_root, (unsigned)geteuid());
        return 0;
}

static int lock_run_root(const struct pea_config *c, int *ret_fd, struct pea_error **err)
{
        _cleanup_free_ char *path = run_path(c, PEA_USERNS_LOCK_FILE);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return pea_error_syscall(err, errno, "locking '%s'", path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Under the lock: the holder another command started meanwhile, or a new one. */
static int start_locked(const struct pea_config *c, struct holder *ret, struct pea_error **err)
{
        _cleanup_close_ int lock = -EBADF;
        int r = ensure_run_root(c, err);
        if (r >= 0)
                r = lock_run_root(c, &lock, err);
        if (r < 0)
                return r;
        if (holder_open(c, ret) > 0)
                return 0;
        _cleanup_free_ char *pid_path = run_path(c, PEA_USERNS_PID_FILE);
        (void)unlink(pid_path);
        pid_t pid = 0;
        r = pea_userns_holder_start(c, pid_path, &pid, err);
        if (r < 0)
                return pea_error_wrap(err, "starting the user namespace holder");
        if (holder_open(c, ret) <= 0)
                return pea_error_set(err, ESRCH, "the user namespace holder (pid %d) exited",
                                     (int)pid);
        pea_debug("started the user namespace holder, pid %d", (int)pid);
        return 0;
}

static int enter(const struct pea_config *c, const struct holder *h, struct pea_error **err)
{
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        if (setns(h->userfd, CLONE_NEWUSER) < 0)
                return pea_error_syscall(err, errno, "joining the user namespace of pid %d",
                                         (int)h->pid);
        if (setns(h->mntfd, CLONE_NEWNS) < 0)
                return pea_error_syscall(err, errno, "joining the mount namespace of pid %d",
                                         (int)h->pid);
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return pea_error_syscall(err, errno, "becoming root in the user namespace");
        /* denied with a single-id gid mapping: then the groups stay as they are */
        if (setgroups(0, NULL) < 0 && errno != EPERM)
                return pea_error_syscall(err, errno, "dropping supplementary groups");
        /* setns(CLONE_NEWNS) moved us to '/' */
        if (!cwd || chdir(cwd) < 0) {
                pea_debug("cannot change back to '%s', using '/'", cwd ? cwd : "(deleted)");
                (void)chdir("/");
        }
        set_env(c);
        return 0;
}

int pea_userns_join(const struct pea_config *c, struct pea_error **err)
{
        if (!c->rootless || inside_by_env(c))
                return 0;
        _cleanup_(holder_done) struct holder h = HOLDER_NULL;
        int r = holder_open(c, &h);
        if (r > 0 && in_userns_of(h.userfd)) {
                set_env(c);
                return 0;
        }
        if (geteuid() == 0)
                return pea_error_set(
                        err, EPERM,
                        "running as root with '_PEA_ROOTLESS_UID=%u' outside pea's user namespace",
                        (unsigned)c->uid);
        if (r == 0)
                r = start_locked(c, &h, err);
        if (r < 0)
                return r;
        return enter(c, &h, err);
}

int pea_userns_holder_pid(const struct pea_config *c, pid_t *ret_pid,
                          struct pea_error **err _unused_)
{
        _cleanup_(holder_done) struct holder h = HOLDER_NULL;
        if (!c->rootless || holder_open(c, &h) <= 0)
                return 0;
        *ret_pid = h.pid;
        return 1;
}

static bool wait_exit(int pidfd, int timeout_ms)
{
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        int r;
        while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
                ;
        return r > 0;
}

/* SIGTERM, then SIGKILL; returns once the holder has exited. */
static int kill_holder(pid_t pid, struct pea_error **err)
{
        _cleanup_close_ int pidfd = pidfd_open(pid, 0);
        if (pidfd < 0 && errno == ESRCH)
                return 0;
        if (pidfd < 0)
                return pea_error_syscall(err, errno, "opening pid %d", (int)pid);
        /* still the holder holder_open() checked: else the signal fails with ESRCH */
        _cleanup_free_ char *proc = xasprintf("/proc/%d", (int)pid);
        _cleanup_close_ int dfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || !is_our_holder(dfd))
                return 0;
        for (int sig = SIGTERM;; sig = SIGKILL) {
                if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0)
                        return errno == ESRCH
                                       ? 0
                                       : pea_error_syscall(err, errno, "killing pid %d", (int)pid);
                if (wait_exit(pidfd, STOP_TIMEOUT_MS))
                        return 0;
                if (sig == SIGKILL)
                        return pea_error_set(err, ETIMEDOUT,
                                             "the user namespace holder (pid %d) did not exit",
                                             (int)pid);
        }
}

int pea_userns_stop(const struct pea_config *c, struct pea_error **err)
{
        if (!c->rootless || !pea_path_exists(c->run_root))
                return 0;
        _cleanup_close_ int lock = -EBADF;
        int r = lock_run_root(c, &lock, err);
        if (r < 0)
                return r;
        _cleanup_(holder_done) struct holder h = HOLDER_NULL;
        if (holder_open(c, &h) > 0) {
                r = kill_holder(h.pid, err);
                if (r < 0)
                        return pea_error_wrap(err, "stopping the user namespace holder");
                pea_debug("stopped the user namespace holder, pid %d", (int)h.pid);
        }
        _cleanup_free_ char *pid_path = run_path(c, PEA_USERNS_PID_FILE);
        if (unlink(pid_path) < 0 && errno != ENOENT)
                return pea_error_syscall(err, errno, "removing '%s'", pid_path);
        return 0;
}
