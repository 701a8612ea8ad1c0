/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "base.h"
#include "monitor-internal.h"

/* The client side of attach: `pea attach`, `pea run -a`, `start -a`. */

#define DETACH_KEYS_DEFAULT "ctrl-p,ctrl-q"
#define DETACH_KEYS_MAX     16

static int parse_key(const char *k, char *ret, struct pea_error **err)
{
        const char *c = startswith(k, "ctrl-");
        if (strlen(k) == 1) {
                *ret = k[0];
                return 0;
        }
        if (c && strlen(c) == 1) {
                char ch = c[0];
                if (isalpha((unsigned char)ch)) {
                        *ret = (char)(tolower((unsigned char)ch) - 'a' + 1);
                        return 0;
                }
                const char *syms = "@[\\]^_";
                const char *p = strchr(syms, ch);
                if (p && ch) {
                        *ret = (char)(ch == '@' ? 0 : 27 + (p - syms) - 1);
                        return 0;
                }
        }
        return pea_error_set(err, EINVAL, "invalid detach key '%s'", k);
}

int pea_monitor_detach_keys_parse(const char *s, char **ret, size_t *ret_len,
                                  struct pea_error **err)
{
        if (!s)
                s = DETACH_KEYS_DEFAULT;
        _cleanup_strv_ char **keys = strv_split(s, ",");
        size_t n = strv_length(keys);
        if (n > DETACH_KEYS_MAX)
                return pea_error_set(err, EINVAL, "too many detach keys in '%s'", s);
        _cleanup_free_ char *buf = xmalloc(n + 1);
        for (size_t i = 0; i < n; i++) {
                int r = parse_key(keys[i], &buf[i], err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

int pea_monitor_attach_resize(int sock, unsigned short rows, unsigned short cols,
                              struct pea_error **err)
{
        char pkt[5] = {ATTACH_RESIZE};
        memcpy(pkt + 1, &rows, 2);
        memcpy(pkt + 3, &cols, 2);
        if (send(sock, pkt, sizeof(pkt), MSG_NOSIGNAL) < 0)
                return pea_error_syscall(err, errno, "sending the terminal size");
        return 0;
}

struct client {
        int sock;
        int winch_fd; /* signalfd for SIGWINCH when stdin is a terminal, or -1 */
        int out, errfd;
        const char *keys;
        size_t n_keys;
        size_t matched; /* detach keys seen so far */
};

static int write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

static int send_input(struct client *c, const char *buf, size_t len)
{
        char pkt[ATTACH_PACKET_MAX];
        pkt[0] = ATTACH_STDIN;
        if (len == 0)
                return 0;
        memcpy(pkt + 1, buf, len);
        if (send(c->sock, pkt, len + 1, MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}

/* Forwards stdin data minus the detach sequence; 1 when it was typed. */
static int handle_input(struct client *c, const char *buf, size_t len)
{
        char out[ATTACH_PACKET_MAX];
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
                if (c->n_keys > 0 && buf[i] == c->keys[c->matched]) {
                        if (++c->matched < c->n_keys)
                                continue;
                        int r = send_input(c, out, n);
                        return r < 0 ? r : 1;
                }
                /* A broken sequence: what was held back goes through after all. */
                memcpy(out + n, c->keys, c->matched);
                n += c->matched;
                c->matched = 0;
                if (c->n_keys > 0 && buf[i] == c->keys[0]) {
                        c->matched = 1;
                        continue;
                }
                out[n++] = buf[i];
        }
        int r = send_input(c, out, n);
        return r < 0 ? r : 0;
}

static int on_stdin(struct client *c, int in, bool *eof)
{
        char buf[ATTACH_PACKET_MAX / 2 - 1];
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0) {
                char pkt = ATTACH_CLOSE_STDIN;
                *eof = true;
                (void)send(c->sock, &pkt, 1, MSG_NOSIGNAL);
                return 0;
        }
        return handle_input(c, buf, (size_t)n);
}

/* 1: more to come, 0: the monitor closed the socket. */
static int on_socket(struct client *c)
{
        char pkt[ATTACH_PACKET_MAX];
        ssize_t n = recv(c->sock, pkt, sizeof(pkt), 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 1;
        if (n <= 0)
                return 0;
        int fd = pkt[0] == ATTACH_STDERR && c->errfd >= 0 ? c->errfd : c->out;
        if (fd >= 0 && write_all(fd, pkt + 1, (size_t)n - 1) < 0)
                return -errno;
        return 1;
}

/* SIGWINCH: our terminal's new size goes to the container's pty. */
static void on_winch(struct client *c, int in)
{
        struct signalfd_siginfo si;
        struct winsize ws = {0};
        while (read(c->winch_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                ;
        if (ioctl(in, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
                (void)pea_monitor_attach_resize(c->sock, ws.ws_row, ws.ws_col, NULL);
}

static int attach_loop(struct client *c, int in, struct pea_error **err)
{
        bool in_eof = in < 0;
        for (;;) {
                struct pollfd p[3] = {{c->sock, POLLIN, 0},
                                      {in_eof ? -1 : in, POLLIN, 0},
                                      {c->winch_fd, POLLIN, 0}};
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return pea_error_syscall(err, errno, "waiting for the attach socket");
                }
                if (p[2].revents)
                        on_winch(c, in);
                if (p[0].revents) {
                        int r = on_socket(c);
                        if (r < 0)
                                return pea_error_syscall(err, -r, "writing container output");
                        if (r == 0)
                                return 0;
                }
                if (p[1].revents) {
                        int r = on_stdin(c, in, &in_eof);
                        if (r < 0)
                                return pea_error_syscall(err, -r, "sending input");
                        if (r == 1)
                                return 1;
                }
        }
}

int pea_monitor_attach(const char *socket_path, int stdin_fd, int stdout_fd, int stderr_fd,
                       const char *detach_keys, struct pea_error **err)
{
        _cleanup_free_ char *keys = NULL;
        size_t n_keys = 0;
        int r = pea_monitor_detach_keys_parse(detach_keys, &keys, &n_keys, err);
        if (r < 0)
                return r;
        _cleanup_close_ int sock = monitor_unix_socket(socket_path, false, err);
        if (sock < 0)
                return pea_error_wrap(err, "attaching");
        struct winsize ws = {0};
        sigset_t winch, old;
        _cleanup_close_ int wfd = -EBADF;
        bool blocked = false;
        (void)sigemptyset(&winch);
        (void)sigemptyset(&old);
        (void)sigaddset(&winch, SIGWINCH);
        if (stdin_fd >= 0 && ioctl(stdin_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
                (void)pea_monitor_attach_resize(sock, ws.ws_row, ws.ws_col, NULL);
                blocked = sigprocmask(SIG_BLOCK, &winch, &old) == 0;
                wfd = signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
        }
        struct client c = {
                .sock = sock,
                .winch_fd = wfd,
                .out = stdout_fd,
                .errfd = stderr_fd,
                .keys = keys,
                .n_keys = n_keys,
        };
        r = attach_loop(&c, stdin_fd, err);
        if (blocked)
                (void)sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
