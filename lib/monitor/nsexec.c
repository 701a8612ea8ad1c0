/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base.h"
#include "monitor-internal.h"

/*
 * Runs a command in a running container's namespaces (healthchecks; the
 * namespace part of `pea exec`). The forked child opens every namespace file
 * of the target first, then joins them (user first, when it is not ours),
 * then forks once more so the command is inside the pid namespace too.
 */

extern char **environ;

static const struct {
        const char *name;
        int type;
} namespaces[] = {
        {"user", CLONE_NEWUSER},     {"mnt", CLONE_NEWNS},  {"pid", CLONE_NEWPID},
        {"net", CLONE_NEWNET},       {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
        {"cgroup", CLONE_NEWCGROUP},
};

/* The same namespace as ours: joining it is pointless (and fails for user). */
static bool same_ns(int fd, const char *name)
{
        struct stat a, b;
        _cleanup_free_ char *self = xasprintf("/proc/self/ns/%s", name);
        return fstat(fd, &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino
               && a.st_dev == b.st_dev;
}

static int join_namespaces(pid_t pid)
{
        int fds[ELEMENTSOF(namespaces)];
        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++) {
                _cleanup_free_ char *p = xasprintf("/proc/%d/ns/%s", (int)pid, namespaces[i].name);
                fds[i] = open(p, O_RDONLY | O_CLOEXEC);
                if (fds[i] >= 0 && same_ns(fds[i], namespaces[i].name)) {
                        (void)close(fds[i]);
                        fds[i] = -1;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++) {
                if (fds[i] < 0)
                        continue;
                if (setns(fds[i], namespaces[i].type) < 0)
                        return -errno;
                (void)close(fds[i]);
        }
        return 0;
}

static void child_exec(pid_t pid, char *const *argv, char *const *env, const char *cwd, int out)
{
        static char *default_env[] = {
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        sigset_t all;
        (void)sigfillset(&all);
        (void)sigprocmask(SIG_UNBLOCK, &all, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
                _exit(125);
        if (join_namespaces(pid) < 0) {
                dprintf(2, "joining the namespaces of %d: %m\n", (int)pid);
                _exit(125);
        }
        pid_t c = fork();
        if (c < 0)
                _exit(125);
        if (c > 0) {
                int st = 0;
                while (waitpid(c, &st, 0) < 0 && errno == EINTR)
                        ;
                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        }
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void)signal(SIGPIPE, SIG_DFL);
        if (chdir(cwd ? cwd : "/") < 0) {
                dprintf(2, "changing to '%s': %m\n", cwd ? cwd : "/");
                _exit(125);
        }
        environ = (char **)(env ? env : default_env);
        execvp(argv[0], argv);
        int e = errno;
        dprintf(2, "executing '%s': %m\n", argv[0]);
        _exit(e == ENOENT ? 127 : 126);
}

int pea_monitor_exec_in_start(pid_t pid, char *const *argv, char *const *env, const char *cwd,
                              pid_t *ret_pid, int *ret_output_fd, struct pea_error **err)
{
        int p[2];
        if (!argv || !argv[0])
                return pea_error_set(err, EINVAL, "no command to execute");
        if (pipe2(p, O_CLOEXEC) < 0)
                return pea_error_syscall(err, errno, "creating a pipe");
        pid_t c = fork();
        if (c < 0) {
                int e = errno;
                (void)close(p[0]);
                (void)close(p[1]);
                return pea_error_syscall(err, e, "forking");
        }
        if (c == 0)
                child_exec(pid, argv, env, cwd, p[1]);
        (void)close(p[1]);
        *ret_pid = c;
        *ret_output_fd = p[0];
        return 0;
}

static int64_t mono_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Collects output until EOF or the deadline (-1: none); false on timeout. */
static bool collect(int fd, int64_t deadline, char *buf, size_t *len)
{
        for (;;) {
                int64_t left = deadline < 0 ? -1 : deadline - mono_ms();
                if (deadline >= 0 && left <= 0)
                        return false;
                struct pollfd pf = {fd, POLLIN, 0};
                int r = poll(&pf, 1, left < 0 ? -1 : (int)left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r == 0)
                        return false;
                char tmp[1024];
                ssize_t n = read(fd, tmp, sizeof(tmp));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return true;
                size_t take =
                        (size_t)n < HEALTH_OUTPUT_MAX - *len ? (size_t)n : HEALTH_OUTPUT_MAX - *len;
                memcpy(buf + *len, tmp, take);
                *len += take;
        }
}

int pea_monitor_exec_in(pid_t pid, char *const *argv, char *const *env, const char *cwd,
                        int64_t timeout_ns, int *ret_exit_code, char **ret_output,
                        struct pea_error **err)
{
        pid_t c = 0;
        _cleanup_close_ int fd = -EBADF;
        int r = pea_monitor_exec_in_start(pid, argv, env, cwd, &c, &fd, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *buf = xmalloc(HEALTH_OUTPUT_MAX + 1);
        size_t len = 0;
        int64_t deadline = timeout_ns > 0 ? mono_ms() + timeout_ns / 1000000 : -1;
        bool done = collect(fd, deadline, buf, &len);
        if (!done)
                (void)kill(c, SIGKILL);
        int st = 0;
        while (waitpid(c, &st, 0) < 0 && errno == EINTR)
                ;
        if (!done)
                return pea_error_set(err, ETIMEDOUT, "command '%s' timed out", argv[0]);
        buf[len] = '\0';
        *ret_exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (ret_output)
                *ret_output = TAKE_PTR(buf);
        return 0;
}
