/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include "base.h"
#include "runtime-internal.h"

/*
 * The sync socket between the runtime and the container's setup processes:
 * a SOCK_SEQPACKET pair, one message per datagram, {type, value, len, msg}.
 * A child that fails before execve sends SYNC_ERROR with the errno as value
 * and the message as payload, as crun does, then _exits.
 */

struct sync_hdr {
        int32_t type;
        int32_t value;
        uint32_t len;
};

static int send_msg(int sock, const struct sync_hdr *h, const char *payload, int fd)
{
        struct iovec iov[2] = {
                {.iov_base = (void *)h, .iov_len = sizeof(*h)},
                {.iov_base = (void *)payload, .iov_len = h->len},
        };

        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = h->len ? 2 : 1};
        if (fd >= 0) {
                memset(&u, 0, sizeof(u));
                m.msg_control = u.buf;
                m.msg_controllen = sizeof(u.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&m);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        ssize_t n;
        do
                n = sendmsg(sock, &m, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : 0;
}

int runtime_sync_send(int sock, int type, int value, int fd, struct pea_error **err)
{
        struct sync_hdr h = {.type = type, .value = value};
        int r = send_msg(sock, &h, NULL, fd);
        if (r < 0)
                return pea_error_syscall(err, r, "writing to the sync socket");
        return 0;
}

void runtime_sync_send_error(int sock, const struct pea_error *e)
{
        const char *msg = e && e->msg ? e->msg : "unknown error";
        size_t len = strlen(msg);
        struct sync_hdr h = {
                .type = SYNC_ERROR,
                .value = e && e->code > 0 ? e->code : EIO,
                .len = (uint32_t)(len > RUNTIME_MAX_MSG ? RUNTIME_MAX_MSG : len),
        };
        (void)send_msg(sock, &h, msg, -EBADF);
}

int runtime_send_fd(int sock, int fd, struct pea_error **err)
{
        struct sync_hdr h = {.type = SYNC_CONSOLE};
        int r = send_msg(sock, &h, NULL, fd);
        if (r < 0)
                return pea_error_syscall(err, r, "sending the pty master");
        return 0;
}

static int received_fd(struct msghdr *m)
{
        int fd = -EBADF;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int x;
                        memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (fd < 0)
                                fd = x;
                        else
                                (void)close(x);
                }
        }
        return fd;
}

int runtime_sync_recv(int sock, struct runtime_sync_msg *ret, struct pea_error **err)
{
        struct sync_hdr h = {0};
        _cleanup_free_ char *payload = xmalloc(RUNTIME_MAX_MSG + 1);
        struct iovec iov[2] = {
                {.iov_base = &h, .iov_len = sizeof(h)},
                {.iov_base = payload, .iov_len = RUNTIME_MAX_MSG},
        };

        union {
                char buf[CMSG_SPACE(sizeof(int) * 4)];
                struct cmsghdr align;
        } u;
        struct msghdr m = {.msg_iov = iov,
                           .msg_iovlen = 2,
                           .msg_control = u.buf,
                           .msg_controllen = sizeof(u.buf)};
        ssize_t n;
        do
                n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return pea_error_syscall(err, errno, "reading from the sync socket");
        _cleanup_close_ int fd = received_fd(&m);
        if (n == 0) {
                *ret = (struct runtime_sync_msg){.type = SYNC_EOF, .fd = -EBADF};
                return 0;
        }
        if ((size_t)n < sizeof(h) || h.type <= 0 || h.type >= _SYNC_TYPE_MAX
            || h.len > RUNTIME_MAX_MSG || (size_t)n != sizeof(h) + h.len)
                return pea_error_set(err, EPROTO, "malformed message on the sync socket");
        if (h.type == SYNC_ERROR) {
                payload[h.len] = '\0';
                return pea_error_set(err, h.value > 0 ? h.value : EIO, "%s", payload);
        }
        *ret = (struct runtime_sync_msg){.type = h.type, .value = h.value, .fd = TAKE_FD(fd)};
        return 0;
}

int runtime_sync_expect(int sock, int type, struct runtime_sync_msg *ret, struct pea_error **err)
{
        struct runtime_sync_msg m;
        int r = runtime_sync_recv(sock, &m, err);
        if (r < 0)
                return r;
        if (m.type == SYNC_EOF)
                return pea_error_set(err, EPIPE, "the container process exited during setup");
        if (m.type != type) {
                closep(&m.fd);
                return pea_error_set(err, EPROTO,
                                     "unexpected message %d on the sync socket (want %d)", m.type,
                                     type);
        }
        if (ret)
                *ret = m;
        else
                closep(&m.fd);
        return 0;
}
