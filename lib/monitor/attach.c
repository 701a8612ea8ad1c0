/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "base.h"
#include "monitor-internal.h"

/*
 * The attach socket: SOCK_SEQPACKET, so every packet keeps its boundary and
 * its first byte says what it carries (monitor-internal.h). Output goes to
 * every client; input from any client goes to the container's stdin.
 */

int monitor_unix_socket(const char *path, bool listen_on, struct pea_error **err)
{
        _cleanup_free_ char *dir_copy = xstrdup(path);
        _cleanup_free_ char *base_copy = xstrdup(path);
        const char *dir = dirname(dir_copy);
        const char *base = basename(base_copy);
        /* A path longer than sun_path is reached through its directory's fd. */
        _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return pea_error_syscall(err, errno, "opening socket directory '%s'", dir);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, base);
        if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
                return pea_error_set(err, ENAMETOOLONG, "socket name '%s' is too long", base);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating socket");
        if (listen_on) {
                (void)unlinkat(dfd, base, 0);
                if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
                        return pea_error_syscall(err, errno, "listening on '%s'", path);
        } else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                return pea_error_syscall(err, errno, "connecting to '%s'", path);
        }
        return TAKE_FD(fd);
}

int monitor_attach_listen(struct monitor_attach *a, const char *dir, struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/attach", dir);
        *a = (struct monitor_attach){.listen_fd = -1};
        int fd = monitor_unix_socket(path, true, err);
        if (fd < 0)
                return fd;
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
                (void)close(fd);
                return pea_error_syscall(err, errno, "setting '%s' non-blocking", path);
        }
        a->listen_fd = fd;
        return 0;
}

void monitor_attach_close(struct monitor_attach *a)
{
        for (size_t i = 0; i < a->n_clients; i++)
                (void)close(a->clients[i]);
        a->n_clients = 0;
        if (a->listen_fd >= 0)
                (void)close(a->listen_fd);
        a->listen_fd = -1;
}

int monitor_attach_accept(struct monitor_attach *a)
{
        int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (a->n_clients >= MONITOR_MAX_CLIENTS) {
                syslog(LOG_WARNING, "too many attach clients, refusing one");
                (void)close(fd);
                return -EMFILE;
        }
        a->clients[a->n_clients++] = fd;
        return fd;
}

void monitor_attach_drop(struct monitor_attach *a, int fd)
{
        for (size_t i = 0; i < a->n_clients; i++)
                if (a->clients[i] == fd) {
                        (void)close(fd);
                        a->clients[i] = a->clients[--a->n_clients];
                        return;
                }
}

void monitor_attach_broadcast(struct monitor_attach *a, int type, const char *buf, size_t len)
{
        char pkt[ATTACH_PACKET_MAX];
        while (len > 0) {
                size_t n = len < sizeof(pkt) - 1 ? len : sizeof(pkt) - 1;
                pkt[0] = (char)type;
                memcpy(pkt + 1, buf, n);
                for (size_t i = 0; i < a->n_clients;) {
                        /* A client too slow to keep up loses the packet, not the container. */
                        if (send(a->clients[i], pkt, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0
                            && errno != EAGAIN) {
                                monitor_attach_drop(a, a->clients[i]);
                                continue;
                        }
                        i++;
                }
                buf += n;
                len -= n;
        }
}
