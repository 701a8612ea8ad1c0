/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <jansson.h>

#include "base.h"
#include "network/network-internal.h"
#include "network/network.h"

/* How long slirp4netns may take to configure the namespace. */
#define READY_TIMEOUT_MS 10000
/* The most an API reply may hold. */
#define API_REPLY_MAX (64 * 1024)

static int api_connect(const char *path, struct pea_error **err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        if (strlen(path) >= sizeof(sa.sun_path))
                return pea_error_set(err, ENAMETOOLONG, "socket path '%s' is too long", path);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating a socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return pea_error_syscall(err, errno, "connecting to slirp4netns at '%s'", path);
        return TAKE_FD(fd);
}

/* Sends one request to the API socket and returns the parsed reply. */
static int api_call(const char *path, json_t *req, json_t **ret, struct pea_error **err)
{
        _cleanup_free_ char *text = pea_json_dumps(req, 0);
        _cleanup_free_ char *buf = xmalloc(API_REPLY_MAX + 1);
        _cleanup_close_ int fd = api_connect(path, err);
        size_t len = 0, off = 0;
        json_t *j = NULL;

        if (fd < 0)
                return fd;
        while (off < strlen(text)) {
                ssize_t n = write(fd, text + off, strlen(text) - off);
                if (n < 0 && errno != EINTR)
                        return pea_error_syscall(err, errno, "writing to slirp4netns");
                off += n > 0 ? (size_t)n : 0;
        }
        (void)shutdown(fd, SHUT_WR);
        for (ssize_t n = 1; n != 0 && len < API_REPLY_MAX;) {
                n = read(fd, buf + len, API_REPLY_MAX - len);
                if (n < 0 && errno != EINTR)
                        return pea_error_syscall(err, errno, "reading from slirp4netns");
                len += n > 0 ? (size_t)n : 0;
        }
        buf[len] = '\0';
        j = json_loads(buf, 0, NULL);
        if (!j)
                return pea_error_set(err, EPROTO, "malformed reply from slirp4netns: '%s'", buf);
        *ret = j;
        return 0;
}

static int hostfwd_remove(const char *sock, int id)
{
        _cleanup_json_ json_t *req =
                json_pack("{s:s, s:{s:i}}", "execute", "remove_hostfwd", "arguments", "id", id);
        _cleanup_json_ json_t *reply = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        return api_call(sock, req, &reply, &e);
}

/* add_hostfwd of one port; returns the rule's id. */
static int hostfwd_add(const char *sock, const struct pea_port_mapping *m, unsigned k,
                       struct pea_error **err)
{
        const char *ip = m->host_ip && m->host_ip[0] ? m->host_ip : "0.0.0.0";
        _cleanup_json_ json_t *req =
                json_pack("{s:s, s:{s:s, s:s, s:i, s:i}}", "execute", "add_hostfwd", "arguments",
                          "proto", pea_port_proto_to_string(m->proto), "host_addr", ip, "host_port",
                          m->host_port + (int)k, "guest_port", m->container_port + (int)k);
        _cleanup_json_ json_t *reply = NULL;
        int id = -1, r = api_call(sock, req, &reply, err);

        if (r < 0)
                return r;
        if (json_unpack(reply, "{s:{s:i}}", "return", "id", &id) == 0 && id >= 0)
                return id;
        r = network_port_in_use_error(m, k, err);
        if (r < 0)
                return r;
        return pea_error_set(err, EPROTO, "slirp4netns: add_hostfwd %s:%u: %s", ip,
                             m->host_port + k,
                             pea_json_path_string(reply, "error.desc", "unknown error"));
}

int network_port_in_use_error(const struct pea_port_mapping *m, unsigned k, struct pea_error **err)
{
        int r = network_port_probe(m->host_ip, (uint16_t)(m->host_port + k), m->proto);
        if (r == -EADDRINUSE)
                return pea_error_set(err, EADDRINUSE,
                                     "cannot expose port %u: address already in use",
                                     m->host_port + k);
        return 0;
}

static int slirp_add_port(struct pea_network_state *s, const struct pea_port_mapping *m,
                          struct pea_error **err)
{
        _cleanup_free_ int *ids = xcalloc(m->range, sizeof(int));

        for (unsigned k = 0; k < m->range; k++) {
                int id = hostfwd_add(s->api_socket, m, k, err);
                if (id < 0) {
                        for (unsigned i = 0; i < k; i++)
                                (void)hostfwd_remove(s->api_socket, ids[i]);
                        return id;
                }
                ids[k] = id;
        }
        network_ports_push(&s->ports, m);
        return 0;
}

static char **slirp_argv(const char *netns_path, const struct pea_network_opts *o,
                         const struct pea_network_state *s, int ready_fd)
{
        char **argv = NULL;
        char *prog = pea_find_helper(PEA_SLIRP4NETNS);
        strv_consume(&argv, prog ? prog : xstrdup(PEA_SLIRP4NETNS));
        strv_push(&argv, "--configure");
        strv_consume(&argv, xasprintf("--mtu=%u", o->mtu ? o->mtu : 65520));
        if (!o->allow_host_loopback)
                strv_push(&argv, "--disable-host-loopback");
        if (o->cidr)
                strv_consume(&argv, xasprintf("--cidr=%s", o->cidr));
        if (o->outbound_addr)
                strv_consume(&argv, xasprintf("--outbound-addr=%s", o->outbound_addr));
        if (o->enable_ipv6)
                strv_push(&argv, "--enable-ipv6");
        strv_push(&argv, "--enable-sandbox");
        strv_push(&argv, "--enable-seccomp");
        strv_consume(&argv, xasprintf("--api-socket=%s", s->api_socket));
        strv_push(&argv, "--netns-type=path");
        if (o->userns_path)
                strv_consume(&argv, xasprintf("--userns-path=%s", o->userns_path));
        strv_consume(&argv, xasprintf("--ready-fd=%d", ready_fd));
        strv_push(&argv, netns_path);
        strv_push(&argv, "tap0");
        return argv;
}

/* Waits for slirp4netns to write "1" on the ready pipe. */
static int wait_ready(int fd, const struct pea_network_state *s, struct pea_error **err)
{
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        char c = 0;
        int r = poll(&pfd, 1, READY_TIMEOUT_MS);
        if (r == 0)
                return pea_error_set(err, ETIMEDOUT, "slirp4netns did not configure '%s' in %d s",
                                     s->netns_path, READY_TIMEOUT_MS / 1000);
        if (r > 0 && read(fd, &c, 1) == 1 && c == '1')
                return 0;
        _cleanup_free_ char *why = network_log_tail(s->log_file);
        return pea_error_set(err, EIO, "slirp4netns failed to configure '%s': %s", s->netns_path,
                             why[0] ? why : "exited");
}

static int slirp_start(const char *netns_path, const struct pea_network_opts *o,
                       struct pea_network_state *s, struct pea_error **err)
{
        _cleanup_close_ int rd = -EBADF, wr = -EBADF;
        _cleanup_strv_ char **argv = NULL;
        _cleanup_free_ char *pidtext = NULL;
        int p[2] = {-1, -1}, r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return pea_error_syscall(err, errno, "creating a pipe");
        rd = p[0];
        wr = p[1];
        argv = slirp_argv(netns_path, o, s, wr);
        (void)unlink(s->api_socket);
        (void)unlink(s->log_file);
        r = network_spawn_detached(argv, wr, s->log_file, &s->pid, err);
        if (r < 0)
                return r;
        wr = -EBADF;
        (void)close(p[1]);
        pidtext = xasprintf("%d\n", (int)s->pid);
        r = pea_write_file_replace_at(AT_FDCWD, s->pid_file, pidtext, strlen(pidtext), 0600, err);
        if (r >= 0)
                r = wait_ready(rd, s, err);
        return r;
}

static int slirp_teardown(struct pea_network_state *s, struct pea_error **err)
{
        pid_t pid = s->pid;
        int r;
        if (pid <= 0 && network_read_pid(s->pid_file, &pid) < 0)
                pid = 0;
        r = network_kill_helper(pid, "slirp4netns", s->api_socket, err);
        if (r < 0)
                return r;
        network_state_unlink(s);
        return 0;
}

static int slirp_setup(const char *netns_path, const struct pea_network_opts *o,
                       struct pea_network_state *ret, struct pea_error **err)
{
        struct pea_network_state s = {0};
        _cleanup_error_ struct pea_error *ignored = NULL;
        int r;

        network_state_init(&s, "slirp4netns", netns_path, o);
        r = slirp_start(netns_path, o, &s, err);
        for (size_t i = 0; r >= 0 && o->ports && i < o->ports->n; i++)
                r = slirp_add_port(&s, &o->ports->v[i], err);
        if (r < 0) {
                (void)slirp_teardown(&s, &ignored);
                pea_network_state_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

const struct pea_network_backend pea_network_slirp4netns = {
        .name = "slirp4netns",
        .setup = slirp_setup,
        .add_port = slirp_add_port,
        .teardown = slirp_teardown,
};
