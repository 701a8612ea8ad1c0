/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-user namespace holder: a double-forked process that owns the user
 * and mount namespace every rootless pea command joins (podman's "pause
 * process"). It is started by pea_userns_join() under the run root's lock.
 */
#include "config.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "base.h"
#include "rootless/rootless.h"
#include "rootless/userns-internal.h"

extern char **environ;

#define HOLDER_MSG_MAX    512
#define HELPER_OUTPUT_MAX 4096

/* What the holder sends the parent (rule 12): its pid, or an errno and what failed. */
struct holder_msg {
        int32_t code;
        int32_t pid;
        char msg[HOLDER_MSG_MAX];
};

/* The mappings, and the helpers that write them (NULL: a single id, written directly). */
struct holder_maps {
        struct pea_idmap *uid;
        size_t nuid;
        struct pea_idmap *gid;
        size_t ngid;
        char *newuidmap;
        char *newgidmap;
};

static void holder_maps_done(struct holder_maps *m)
{
        free(m->uid);
        free(m->gid);
        free(m->newuidmap);
        free(m->newgidmap);
}

/* In the forked children: reports what failed to the parent and exits. */
static _noreturn_ _printf_(3, 4) void holder_fail(int fd, int code, const char *fmt, ...)
{
        struct holder_msg m = {.code = code > 0 ? code : EIO, .pid = getpid()};
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(m.msg, sizeof(m.msg), fmt, ap);
        va_end(ap);
        (void)send(fd, &m, sizeof(m), MSG_NOSIGNAL);
        _exit(1);
}

/* Writes "PID\n" to path through a temporary file; no fsync, the file dies with the boot. */
static int write_pid_file(const char *path)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
        _cleanup_free_ char *text = xasprintf("%d\n", (int)getpid());
        _cleanup_close_ int fd =
                open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        size_t len = strlen(text);
        if (write(fd, text, len) != (ssize_t)len || rename(tmp, path) < 0) {
                int r = errno ? -errno : -EIO;
                (void)unlink(tmp);
                return r;
        }
        return 0;
}

/* stdin, stdout and stderr become /dev/null; every fd but fd is closed. Returns fd's new number. */
static int holder_detach(int fd)
{
        if (fd < 3 && (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
                return -errno;
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0)
                return -errno;
        for (int i = 0; i < 3; i++)
                if (dup2(null, i) < 0)
                        return -errno;
        if (fd > 3)
                (void)close_range(3, (unsigned)fd - 1, 0);
        (void)close_range((unsigned)fd + 1, ~0U, 0);
        return fd;
}

/*
 * Shows the holder as "pea-holder" in ps: overwrites the argument strings,
 * which start at argv[0] (program_invocation_name) and are what
 * /proc/self/cmdline reads. Left alone unless both agree.
 */
static void holder_set_argv(void)
{
        char cmdline[HELPER_OUTPUT_MAX];
        char *start = program_invocation_name;
        _cleanup_close_ int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, cmdline, sizeof(cmdline)) : -1;
        size_t len = sizeof(PEA_USERNS_HOLDER_COMM);
        if (!start || n < (ssize_t)len || n >= (ssize_t)sizeof(cmdline)
            || memcmp(start, cmdline, (size_t)n) != 0)
                return;
        memset(start, 0, (size_t)n);
        memcpy(start, PEA_USERNS_HOLDER_COMM, len);
}

static void holder_signals(void)
{
        sigset_t none;
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        (void)signal(SIGTERM, SIG_DFL);
        (void)signal(SIGINT, SIG_DFL);
        (void)signal(SIGHUP, SIG_IGN);
        (void)signal(SIGPIPE, SIG_IGN);
}

/* The holder: waits for its mapping, sets up, reports ready and sleeps until SIGTERM. */
static _noreturn_ void holder_main(int fd, const char *pid_path)
{
        struct holder_msg m = {.pid = getpid()};
        char go = 0;
        holder_signals();
        if (setsid() < 0)
                holder_fail(fd, errno, "creating a session");
        if (unshare(CLONE_NEWUSER) < 0)
                holder_fail(fd, errno, "creating a user namespace");
        if (send(fd, &m, sizeof(m), MSG_NOSIGNAL) < 0 || read(fd, &go, 1) != 1)
                _exit(1); /* the parent gave up */
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                holder_fail(fd, errno, "becoming root in the user namespace");
        if (unshare(CLONE_NEWNS) < 0)
                holder_fail(fd, errno, "creating a mount namespace");
        /* host mounts still propagate in, ours never leak out */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                holder_fail(fd, errno, "making '/' a slave mount");
        int r = holder_detach(fd);
        if (r < 0)
                holder_fail(fd, -r, "redirecting stdio to '/dev/null'");
        fd = r;
        if (chdir("/") < 0)
                holder_fail(fd, errno, "changing to '/'");
        (void)prctl(PR_SET_NAME, PEA_USERNS_HOLDER_COMM, 0, 0, 0);
        holder_set_argv();
        r = write_pid_file(pid_path);
        if (r < 0)
                holder_fail(fd, -r, "writing '%s'", pid_path);
        (void)send(fd, &m, sizeof(m), MSG_NOSIGNAL);
        (void)close(fd);
        for (;;)
                pause();
}

/* Forks the holder through an intermediate child that exits, so init reaps it. */
static int spawn_holder(const char *pid_path, int *ret_fd, struct pea_error **err)
{
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return pea_error_syscall(err, errno, "creating a socket pair");
        _cleanup_close_ int mine = sp[0];
        _cleanup_close_ int theirs = sp[1];
        pid_t pid = fork();
        if (pid < 0)
                return pea_error_syscall(err, errno, "forking the namespace holder");
        if (pid == 0) {
                (void)close(mine);
                pid_t h = fork();
                if (h < 0)
                        holder_fail(theirs, errno, "forking the namespace holder");
                if (h == 0)
                        holder_main(theirs, pid_path);
                _exit(0);
        }
        (void)close(TAKE_FD(theirs));
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        *ret_fd = TAKE_FD(mine);
        return 0;
}

static int recv_msg(int fd, struct holder_msg *m, const char *step, struct pea_error **err)
{
        ssize_t n;
        do
                n = recv(fd, m, sizeof(*m), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return pea_error_syscall(err, errno, "reading from the namespace holder");
        if (n != (ssize_t)sizeof(*m))
                return pea_error_set(err, EPROTO, "the namespace holder exited while %s", step);
        if (m->code != 0) {
                m->msg[sizeof(m->msg) - 1] = '\0';
                return pea_error_syscall(err, m->code, "%s", m->msg);
        }
        return 0;
}

/* Runs argv with stdout and stderr captured; a failure's message is its output. */
static int run_capture(char **argv, struct pea_error **err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return pea_error_syscall(err, errno, "creating a pipe");
        _cleanup_close_ int rd = p[0];
        _cleanup_close_ int wr = p[1];
        _cleanup_free_ char *cmdline = strv_join(argv, " ");
        posix_spawn_file_actions_t fa;
        pid_t pid = 0;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, wr, 1);
        posix_spawn_file_actions_adddup2(&fa, wr, 2);
        int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return pea_error_syscall(err, r, "running '%s'", cmdline);
        (void)close(TAKE_FD(wr));
        char out[HELPER_OUTPUT_MAX];
        size_t len = 0;
        while (len < sizeof(out) - 1) {
                ssize_t n = read(rd, out + len, sizeof(out) - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        out[len] = '\0';
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (*strstrip(out))
                return pea_error_set(err, EPERM, "running '%s': %s", cmdline, out);
        return pea_error_set(err, EPERM, "running '%s': exit status %d", cmdline,
                             WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Writes text to a /proc file in one write(2), as uid_map and gid_map require. */
static int write_proc(pid_t pid, const char *file, const char *text, struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        size_t len = strlen(text);
        if (write(fd, text, len) != (ssize_t)len)
                return pea_error_syscall(err, errno ? errno : EIO, "writing '%s'", path);
        return 0;
}

static int write_map(pid_t pid, const char *helper, const char *file, const struct pea_idmap *m,
                     size_t n, struct pea_error **err)
{
        if (helper) {
                _cleanup_strv_ char **argv = pea_userns_idmap_argv(helper, pid, m, n);
                return run_capture(argv, err);
        }
        _cleanup_free_ char *text = pea_userns_idmap_text(m, n);
        if (streq(file, "gid_map")) {
                /* unprivileged: a gid_map is only written after denying setgroups */
                int r = write_proc(pid, "setgroups", "deny", err);
                if (r < 0)
                        return r;
        }
        return write_proc(pid, file, text, err);
}

/* Looks up newuidmap (or newgidmap) when the user has ranges. */
static int find_helper(const char *name, size_t n, char **ret, struct pea_error **err)
{
        *ret = NULL;
        if (n <= 1)
                return 0;
        *ret = pea_find_executable(name);
        if (!*ret)
                return pea_error_set(err, ENOENT,
                                     "'%s' not found in $PATH, install the uidmap package", name);
        return 0;
}

static void warn_single(const struct pea_config *c, const char *kind)
{
        _cleanup_free_ char *who = *c->user ? xstrdup(c->user) : xasprintf("%u", (unsigned)c->uid);
        /*
         * The one warning rootless/ prints itself: it is shown once, when the
         * holder is created, whichever command created it.
         */
        pea_log(PEA_LOG_WARN,
                "no %s ranges found for user '%s' in /etc/%s, using a single-id mapping", kind, who,
                kind);
}

static int load_maps(const struct pea_config *c, struct holder_maps *m, struct pea_error **err)
{
        int r = pea_rootless_idmap("/etc/subuid", c->user, c->uid, &m->uid, &m->nuid, err);
        if (r < 0)
                return r;
        /* subgid lines name the user too; only container gid 0 is the user's gid */
        r = pea_rootless_idmap("/etc/subgid", c->user, c->uid, &m->gid, &m->ngid, err);
        if (r < 0)
                return r;
        m->gid[0].host_id = c->gid;
        if (m->nuid <= 1)
                warn_single(c, "subuid");
        if (m->ngid <= 1)
                warn_single(c, "subgid");
        r = find_helper(PEA_NEWUIDMAP, m->nuid, &m->newuidmap, err);
        if (r >= 0)
                r = find_helper(PEA_NEWGIDMAP, m->ngid, &m->newgidmap, err);
        return r;
}

int pea_userns_holder_start(const struct pea_config *c, const char *pid_path, pid_t *ret_pid,
                            struct pea_error **err)
{
        _cleanup_(holder_maps_done) struct holder_maps maps = {0};
        int r = load_maps(c, &maps, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = -EBADF;
        r = spawn_holder(pid_path, &fd, err);
        if (r < 0)
                return r;
        struct holder_msg m = {0};
        r = recv_msg(fd, &m, "creating its user namespace", err);
        if (r < 0)
                return r;
        r = write_map(m.pid, maps.newuidmap, "uid_map", maps.uid, maps.nuid, err);
        if (r >= 0)
                r = write_map(m.pid, maps.newgidmap, "gid_map", maps.gid, maps.ngid, err);
        if (r < 0) /* closing fd makes the holder exit */
                return pea_error_wrap(err, "mapping ids");
        if (send(fd, "g", 1, MSG_NOSIGNAL) != 1)
                return pea_error_syscall(err, errno, "writing to the namespace holder");
        pid_t pid = m.pid;
        r = recv_msg(fd, &m, "setting up", err);
        if (r < 0)
                return r;
        *ret_pid = pid;
        return 0;
}
