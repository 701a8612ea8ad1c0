/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --sdnotify=container: the container gets NOTIFY_SOCKET=/run/notify/notify.sock,
 * a socket pea binds in a directory under the run root before the container
 * starts; a small daemon forwards what the container sends to our
 * $NOTIFY_SOCKET (MAINPID set to the monitor with READY=1) until the monitor
 * exits, as conmon's proxy does for podman.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/close_range.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <jansson.h>

#include "cmd.h"
#include "fs.h"
#include "run.h"

#define NOTIFY_TARGET  "/run/notify"
#define NOTIFY_MSG_MAX 4096

int pea_cmd_notify_proxy_setup(const char *run_root, struct pea_run_opts *o, struct pea_error **err)
{
        unsigned char rnd[8];
        if (getentropy(rnd, sizeof(rnd)) < 0)
                return pea_error_syscall(err, errno, "getting random bytes");
        o->notify_dir = xasprintf("%s/sdnotify/%02x%02x%02x%02x%02x%02x%02x%02x", run_root, rnd[0],
                                  rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
        int r = pea_mkdir_p(o->notify_dir, 0755, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *vol = xasprintf("%s:%s", o->notify_dir, NOTIFY_TARGET);
        strv_push(&o->volumes, vol);
        strv_push(&o->env, "NOTIFY_SOCKET=" NOTIFY_TARGET "/notify.sock");
        return 0;
}

static int bind_at(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path));
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void)unlink(path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0777) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int pea_cmd_sd_notify_prepare(json_t *config)
{
        const char *mode = json_string_value(json_object_get(config, "sdnotify"));
        const char *dir = json_string_value(json_object_get(config, "sdnotify_dir"));
        const char *sock = getenv("NOTIFY_SOCKET");
        if (!sock || !*sock || !mode || !streq(mode, "container") || !dir)
                return -1;
        _cleanup_free_ char *path = xasprintf("%s/notify.sock", dir);
        /* the proxy removes the directory when it ends: made again for each start */
        int fd = pea_mkdir_p(dir, 0755, NULL);
        if (fd >= 0)
                fd = bind_at(path);
        if (fd < 0)
                pea_log(PEA_LOG_WARN, "binding '%s': %s, ignoring", path, strerror(-fd));
        return fd < 0 ? -1 : fd;
}

/* Forwards one datagram; READY=1 gets MAINPID=mainpid (the monitor) first. */
static void forward(int in, int out, const struct sockaddr_un *to, socklen_t tolen, pid_t mainpid)
{
        char buf[NOTIFY_MSG_MAX + 1];
        ssize_t n = recv(in, buf, NOTIFY_MSG_MAX, MSG_DONTWAIT);
        if (n <= 0)
                return;
        buf[n] = '\0';
        bool ready = strstr(buf, "READY=1") != NULL;
        _cleanup_free_ char *msg = ready && !strstr(buf, "MAINPID=")
                                           ? xasprintf("MAINPID=%d\n%s", (int)mainpid, buf)
                                           : xstrdup(buf);
        (void)sendto(out, msg, strlen(msg), MSG_NOSIGNAL, (const struct sockaddr *)to, tolen);
}

/* Removes the socket and its directory (empty by then). */
static void remove_socket(int fd)
{
        struct sockaddr_un sa = {};
        socklen_t len = sizeof(sa);
        if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || !sa.sun_path[0])
                return;
        (void)unlink(sa.sun_path);
        char *slash = strrchr(sa.sun_path, '/');
        if (slash) {
                *slash = '\0';
                (void)rmdir(sa.sun_path);
        }
}

static _noreturn_ void proxy_loop(int in, pid_t mainpid, const char *target)
{
        struct sockaddr_un to = {.sun_family = AF_UNIX};
        size_t len = strlen(target);
        int pidfd = (int)syscall(SYS_pidfd_open, mainpid, 0);
        int out = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (len >= sizeof(to.sun_path) || pidfd < 0 || out < 0)
                _exit(1);
        memcpy(to.sun_path, target, len);
        if (to.sun_path[0] == '@')
                to.sun_path[0] = '\0';
        socklen_t tolen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
        for (;;) {
                struct pollfd p[2] = {{.fd = in, .events = POLLIN},
                                      {.fd = pidfd, .events = POLLIN}};
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        _exit(1);
                if (p[0].revents & POLLIN)
                        forward(in, out, &to, tolen, mainpid);
                else if (p[1].revents)
                        break; /* the monitor is gone: so is the container */
        }
        remove_socket(in);
        _exit(0);
}

void pea_cmd_notify_proxy_start(int fd, pid_t mainpid)
{
        const char *target = getenv("NOTIFY_SOCKET");
        pid_t pid = fork();
        if (pid < 0) {
                pea_log(PEA_LOG_WARN, "forking the notify proxy: %s, ignoring", strerror(errno));
                (void)close(fd);
                return;
        }
        if (pid == 0) {
                (void)setsid();
                if (fork() != 0)
                        _exit(0);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                for (int i = 0; i < 3 && null >= 0; i++)
                        (void)dup2(null, i);
                /* only the socket stays open: not the state store or anything else of ours */
                if (fd != 3 && dup2(fd, 3) < 0)
                        _exit(1);
                (void)close_range(4, ~0U, 0);
                signal(SIGPIPE, SIG_IGN);
                proxy_loop(3, mainpid, target);
        }
        (void)close(fd);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}
