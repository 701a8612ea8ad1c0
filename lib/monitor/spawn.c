/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "base.h"
#include "monitor-internal.h"

/*
 * Starting the monitor: fork, setsid, fork again. The intermediate child
 * exits at once and is reaped here, so the monitor is reparented (to init or
 * the nearest subreaper) and the caller keeps no zombie. The monitor gets fd
 * 3 as the ready pipe, /dev/null as stdio and nothing else.
 */

#define READY_FD 3

static _noreturn_ void ready_fail(int fd, int code, const char *msg)
{
        struct monitor_ready h = {.code = code, .monitor_pid = getpid(), .len = strlen(msg)};
        (void)!write(fd, &h, sizeof(h));
        (void)!write(fd, msg, h.len);
        _exit(125);
}

static void prepare_process(int ready)
{
        sigset_t all;
        (void)sigfillset(&all);
        (void)sigprocmask(SIG_UNBLOCK, &all, NULL);
        (void)signal(SIGCHLD, SIG_DFL);
        (void)signal(SIGPIPE, SIG_DFL);
        int keep = fcntl(ready, F_DUPFD, 10);
        int devnull = open("/dev/null", O_RDWR);
        if (keep < 0 || devnull < 0)
                _exit(125);
        for (int i = 0; i < 3; i++)
                if (dup2(devnull, i) < 0)
                        ready_fail(keep, errno, "redirecting the monitor's stdio");
        if (dup2(keep, READY_FD) < 0)
                ready_fail(keep, errno, "moving the monitor's ready pipe");
        (void)close_range(READY_FD + 1, ~0U, 0);
}

static _noreturn_ void monitor_child(const struct pea_monitor_config *cfg, const char *helper,
                                     char **argv, int ready)
{
        if (setsid() < 0)
                _exit(125);
        pid_t pid = fork();
        if (pid != 0)
                _exit(pid < 0 ? 125 : 0);
        prepare_process(ready);
        if (helper) {
                execv(helper, argv);
                ready_fail(READY_FD, errno, "executing the monitor");
        }
        struct pea_error *err = NULL;
        int r = pea_monitor_run(cfg, READY_FD, &err);
        _exit(r < 0 ? 125 : 0);
}

static int read_ready(int fd, pid_t *ret_monitor_pid, pid_t *ret_container_pid,
                      struct pea_error **err)
{
        struct monitor_ready h = {0};
        ssize_t n = 0;
        while ((n = read(fd, &h, sizeof(h))) < 0 && errno == EINTR)
                ;
        if (n != (ssize_t)sizeof(h))
                return pea_error_set(err, EIO, "the monitor exited before starting the container");
        if (h.code != 0) {
                size_t len = h.len < 4096 ? h.len : 4096;
                _cleanup_free_ char *msg = xcalloc(1, len + 1);
                ssize_t m = read(fd, msg, len);
                if (m < 0)
                        m = 0;
                msg[m] = '\0';
                return pea_error_set(err, h.code, "%s", msg);
        }
        if (ret_monitor_pid)
                *ret_monitor_pid = h.monitor_pid;
        if (ret_container_pid)
                *ret_container_pid = h.container_pid;
        return 0;
}

int pea_monitor_spawn(const struct pea_monitor_config *cfg, pid_t *ret_monitor_pid,
                      pid_t *ret_container_pid, struct pea_error **err)
{
        _cleanup_free_ char *helper =
                cfg->helper ? xstrdup(cfg->helper) : pea_find_helper("pea-monitor");
        _cleanup_strv_ char **argv =
                pea_monitor_config_to_argv(cfg, helper ? helper : "pea-monitor", READY_FD);
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return pea_error_syscall(err, errno, "creating the monitor's ready pipe");
        _cleanup_close_ int rd = p[0];
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                (void)close(p[1]);
                return pea_error_syscall(err, e, "forking the monitor");
        }
        if (pid == 0)
                monitor_child(cfg, helper, argv, p[1]);
        (void)close(p[1]);
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        int r = read_ready(rd, ret_monitor_pid, ret_container_pid, err);
        if (r < 0)
                return pea_error_wrap(err, "starting container '%.12s'", cfg->id);
        return 0;
}

int monitor_sd_notify(const char *socket_path, const char *text)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t len = strlen(socket_path);
        if (len == 0 || len >= sizeof(sa.sun_path))
                return -EINVAL;
        memcpy(sa.sun_path, socket_path, len);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
        if (sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa, sl) < 0)
                return -errno;
        return 0;
}
