/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include <jansson.h>

#include "base.h"
#include "network/network-internal.h"
#include "network/network.h"

/* How many random candidates -P tries for a range before giving up. */
#define ALLOCATE_TRIES 64

static const char *const proto_names[_PEA_PORT_PROTO_MAX] = {
        [PEA_PORT_TCP] = "tcp",
        [PEA_PORT_UDP] = "udp",
};

const char *pea_port_proto_to_string(enum pea_port_proto p)
{
        if (p < 0 || p >= _PEA_PORT_PROTO_MAX)
                return NULL;
        return proto_names[p];
}

int pea_port_proto_from_string(const char *s)
{
        for (int i = 0; i < _PEA_PORT_PROTO_MAX; i++)
                if (streq(s, proto_names[i]))
                        return i;
        return -EINVAL;
}

void pea_ports_done(struct pea_ports *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->v[i].host_ip);
        free(p->v);
        p->v = NULL;
        p->n = 0;
}

void network_ports_push(struct pea_ports *p, const struct pea_port_mapping *m)
{
        p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
        p->v[p->n] = *m;
        p->v[p->n].host_ip = xstrdup(m->host_ip ? m->host_ip : "");
        p->n++;
}

static int parse_port(const char *s, uint16_t *ret, struct pea_error **err)
{
        long long v = 0;
        if (safe_atoll(s, &v) < 0)
                return pea_error_set(err, EINVAL, "invalid port number '%s'", s);
        if (v < 1 || v > 65535)
                return pea_error_set(err, EINVAL,
                                     "port numbers must be between 1 and 65535 (inclusive), "
                                     "got %lld",
                                     v);
        *ret = (uint16_t)v;
        return 0;
}

/* "a" or "a-b" -> start and length, with podman's messages. */
static int parse_range(const char *s, uint16_t *ret_start, uint16_t *ret_len,
                       struct pea_error **err)
{
        _cleanup_free_ char *first = NULL;
        const char *dash = strchr(s, '-');
        uint16_t start = 0, end = 0;
        int r;

        if (dash && strchr(dash + 1, '-'))
                return pea_error_set(err, EINVAL,
                                     "invalid port format - port ranges are "
                                     "formatted as startPort-stopPort");
        first = dash ? xstrndup(s, (size_t)(dash - s)) : xstrdup(s);
        if (first[0] == '\0')
                return pea_error_set(err, EINVAL, "port numbers cannot be negative");
        r = parse_port(first, &start, err);
        if (r < 0)
                return r;
        if (!dash) {
                *ret_start = start;
                *ret_len = 1;
                return 0;
        }
        if (dash[1] == '\0')
                return pea_error_set(err, EINVAL, "must provide ending number for port range");
        r = parse_port(dash + 1, &end, err);
        if (r < 0)
                return r;
        if (end <= start)
                return pea_error_set(err, EINVAL,
                                     "the end port of a range must be higher than the start "
                                     "port - %u is not higher than %u",
                                     end, start);
        *ret_start = start;
        *ret_len = (uint16_t)(end - start + 1);
        return 0;
}

static int parse_ip(const char *s, char **ret, struct pea_error **err)
{
        unsigned char buf[sizeof(struct in6_addr)];
        if (s[0] == '\0')
                return pea_error_set(err, EINVAL,
                                     "must provide a non-empty container host IP to publish");
        if (streq(s, "0.0.0.0")) {
                *ret = xstrdup("");
                return 0;
        }
        if (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1)
                return pea_error_set(err, EINVAL, "cannot parse '%s' as an IP address", s);
        *ret = xstrdup(s);
        return 0;
}

/* Splits "ip:host:ctr", "[v6]:host:ctr", "host:ctr" or "ctr" into its fields. */
static int split_fields(char *s, char **ret_ip, char **ret_host, char **ret_ctr,
                        struct pea_error **err)
{
        char *f[3] = {NULL, NULL, NULL};
        size_t n = 0;
        if (s[0] == '[') {
                char *close = strchr(s, ']');
                if (!close || close[1] != ':')
                        return pea_error_set(err, EINVAL,
                                             "invalid IPv6 address in port "
                                             "mapping '%s'",
                                             s);
                *close = '\0';
                f[n++] = s + 1;
                s = close + 2;
        }
        for (char *tok = strsep(&s, ":"); tok; tok = strsep(&s, ":")) {
                if (n == 3)
                        return pea_error_set(err, EINVAL,
                                             "invalid port format - format is "
                                             "[[hostIP:]hostPort:]containerPort");
                f[n++] = tok;
        }
        *ret_ctr = f[n - 1];
        *ret_host = n >= 2 ? f[n - 2] : NULL;
        *ret_ip = n == 3 ? f[0] : NULL;
        return 0;
}

static int parse_fields(const char *ip, const char *host, const char *ctr,
                        struct pea_port_mapping *m, struct pea_error **err)
{
        uint16_t hstart = 0, hlen = 0;
        int r;

        if (ctr[0] == '\0')
                return pea_error_set(err, EINVAL,
                                     "must provide a non-empty container port to publish");
        r = parse_range(ctr, &m->container_port, &m->range, err);
        if (r < 0)
                return pea_error_wrap(err, "parsing container port");
        if (ip) {
                r = parse_ip(ip, &m->host_ip, err);
                if (r < 0)
                        return r;
        }
        if (host && host[0] != '\0') {
                r = parse_range(host, &hstart, &hlen, err);
                if (r < 0)
                        return pea_error_wrap(err, "parsing host port");
                if (hlen != m->range)
                        return pea_error_set(err, EINVAL,
                                             "host and container port ranges have different "
                                             "lengths: %u vs %u",
                                             hlen, m->range);
                m->host_port = hstart;
        }
        return 0;
}

int pea_port_parse(const char *spec, struct pea_ports *p, struct pea_error **err)
{
        _cleanup_free_ char *s = xstrdup(spec);
        struct pea_port_mapping m = {.proto = PEA_PORT_TCP};
        char *slash = strchr(s, '/'), *ip = NULL, *host = NULL, *ctr = NULL;
        int r;

        if (slash) {
                *slash = '\0';
                if (strchr(slash + 1, '/'))
                        return pea_error_set(err, EINVAL,
                                             "invalid port format - protocol can "
                                             "only be specified once");
                r = pea_port_proto_from_string(slash + 1);
                if (r < 0)
                        return pea_error_set(err, EINVAL,
                                             "unrecognized protocol '%s' in port mapping",
                                             slash + 1);
                m.proto = (enum pea_port_proto)r;
        }
        r = split_fields(s, &ip, &host, &ctr, err);
        if (r >= 0)
                r = parse_fields(ip, host, ctr, &m, err);
        if (r >= 0)
                network_ports_push(p, &m);
        free(m.host_ip);
        return r;
}

static bool publishes(const struct pea_ports *p, uint16_t port, enum pea_port_proto proto)
{
        for (size_t i = 0; i < p->n; i++)
                if (p->v[i].proto == proto && port >= p->v[i].container_port
                    && port < p->v[i].container_port + p->v[i].range)
                        return true;
        return false;
}

int pea_ports_add_exposed(struct pea_ports *p, char *const *exposed, struct pea_error **err)
{
        struct pea_ports add = {NULL, 0};
        int r = 0;

        for (char *const *e = exposed; e && *e; e++) {
                r = pea_port_parse(*e, &add, err);
                if (r < 0) {
                        pea_ports_done(&add);
                        return pea_error_wrap(err, "exposed port '%s'", *e);
                }
        }
        for (size_t i = 0; i < add.n; i++)
                if (!publishes(p, add.v[i].container_port, add.v[i].proto))
                        network_ports_push(p, &add.v[i]);
        pea_ports_done(&add);
        return 0;
}

/* Binds proto on ip:port (port 0: any) and returns the bound port, or -errno. */
int network_port_probe(const char *ip, uint16_t port, enum pea_port_proto proto)
{
        struct sockaddr_storage ss = {0};
        socklen_t len = 0;
        int type = proto == PEA_PORT_UDP ? SOCK_DGRAM : SOCK_STREAM;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        _cleanup_close_ int fd = -EBADF;
        int one = 1;

        if (ip && ip[0] && strchr(ip, ':')) {
                a6->sin6_family = AF_INET6;
                a6->sin6_port = htons(port);
                if (inet_pton(AF_INET6, ip, &a6->sin6_addr) != 1)
                        return -EINVAL;
                len = sizeof(*a6);
        } else {
                a4->sin_family = AF_INET;
                a4->sin_port = htons(port);
                if (ip && ip[0] && inet_pton(AF_INET, ip, &a4->sin_addr) != 1)
                        return -EINVAL;
                len = sizeof(*a4);
        }
        fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* As the real listener will: TIME_WAIT leftovers do not count as in use. */
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&ss, len) < 0)
                return -errno;
        if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
                return -errno;
        return ntohs(ss.ss_family == AF_INET6 ? a6->sin6_port : a4->sin_port);
}

static int allocate_one(struct pea_port_mapping *m, struct pea_error **err)
{
        for (int t = 0; t < ALLOCATE_TRIES; t++) {
                int start = network_port_probe(m->host_ip, 0, m->proto);
                bool ok = start > 0 && start + m->range - 1 <= 65535;
                if (start < 0)
                        return pea_error_syscall(err, -start, "allocating a host port for %u/%s",
                                                 m->container_port,
                                                 pea_port_proto_to_string(m->proto));
                for (unsigned i = 1; ok && i < m->range; i++)
                        ok = network_port_probe(m->host_ip, (uint16_t)(start + i), m->proto) > 0;
                if (ok) {
                        m->host_port = (uint16_t)start;
                        return 0;
                }
        }
        return pea_error_set(err, EADDRINUSE, "no free range of %u host ports for %u/%s", m->range,
                             m->container_port, pea_port_proto_to_string(m->proto));
}

int pea_ports_allocate(struct pea_ports *p, struct pea_error **err)
{
        for (size_t i = 0; i < p->n; i++) {
                if (p->v[i].host_port != 0)
                        continue;
                int r = allocate_one(&p->v[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pea_ports_check_free(const struct pea_ports *p, struct pea_error **err)
{
        for (size_t i = 0; i < p->n; i++)
                for (unsigned k = 0; p->v[i].host_port != 0 && k < p->v[i].range; k++) {
                        int r = network_port_in_use_error(&p->v[i], k, err);
                        if (r < 0)
                                return r;
                }
        return 0;
}

struct json_t *pea_ports_to_json(const struct pea_ports *p)
{
        json_t *o = json_object();
        for (size_t i = 0; i < p->n; i++) {
                const struct pea_port_mapping *m = &p->v[i];
                for (unsigned k = 0; k < m->range; k++) {
                        _cleanup_free_ char *key = xasprintf("%u/%s", m->container_port + k,
                                                             pea_port_proto_to_string(m->proto));
                        _cleanup_free_ char *hp = xasprintf("%u", m->host_port + k);
                        json_t *arr = json_object_get(o, key);
                        if (!arr) {
                                arr = json_array();
                                json_object_set_new(o, key, arr);
                        }
                        json_array_append_new(arr, json_pack("{s:s, s:s}", "HostIp",
                                                             m->host_ip ? m->host_ip : "",
                                                             "HostPort", hp));
                }
        }
        return o;
}

static int binding_from_json(const char *key, json_t *b, struct pea_ports *ret,
                             struct pea_error **err)
{
        const char *ip = NULL, *hp = NULL;
        _cleanup_free_ char *spec = NULL;
        if (json_unpack(b, "{s:s, s:s}", "HostIp", &ip, "HostPort", &hp) < 0)
                return pea_error_set(err, EBADMSG, "malformed port binding of '%s'", key);
        if (ip[0] && strchr(ip, ':'))
                spec = xasprintf("[%s]:%s:%s", ip, hp, key);
        else
                spec = xasprintf("%s%s%s:%s", ip, ip[0] ? ":" : "", hp, key);
        return pea_port_parse(spec, ret, err);
}

int pea_ports_from_json(struct json_t *j, struct pea_ports *ret, struct pea_error **err)
{
        struct pea_ports p = {NULL, 0};
        const char *key = NULL;
        json_t *arr = NULL, *b = NULL;
        size_t i = 0;

        if (!json_is_object(j))
                return pea_error_set(err, EBADMSG, "malformed port bindings");
        json_object_foreach(j, key, arr) {
                json_array_foreach(arr, i, b) {
                        int r = binding_from_json(key, b, &p, err);
                        if (r < 0) {
                                pea_ports_done(&p);
                                return r;
                        }
                }
        }
        *ret = p;
        return 0;
}

static bool continues(const struct pea_port_mapping *a, const struct pea_port_mapping *b)
{
        return a->proto == b->proto && streq_ptr(a->host_ip, b->host_ip)
               && (unsigned)a->host_port + a->range == b->host_port
               && (unsigned)a->container_port + a->range == b->container_port
               && a->range < UINT16_MAX - b->range;
}

void pea_ports_merge(struct pea_ports *p)
{
        size_t out = 0;
        for (size_t i = 0; i < p->n; i++) {
                if (out > 0 && continues(&p->v[out - 1], &p->v[i])) {
                        p->v[out - 1].range += p->v[i].range;
                        free(p->v[i].host_ip);
                        continue;
                }
                p->v[out++] = p->v[i];
        }
        p->n = out;
}

static char *format_range(uint16_t start, uint16_t len)
{
        if (len <= 1)
                return xasprintf("%u", start);
        return xasprintf("%u-%u", start, start + len - 1);
}

char *pea_ports_format(const struct pea_ports *p)
{
        _cleanup_strv_ char **parts = NULL;
        for (size_t i = 0; i < p->n; i++) {
                const struct pea_port_mapping *m = &p->v[i];
                _cleanup_free_ char *h = format_range(m->host_port, m->range);
                _cleanup_free_ char *c = format_range(m->container_port, m->range);
                bool v6 = m->host_ip && strchr(m->host_ip, ':');
                strv_consume(&parts,
                             xasprintf("%s%s%s:%s->%s/%s", v6 ? "[" : "",
                                       m->host_ip && m->host_ip[0] ? m->host_ip : "0.0.0.0",
                                       v6 ? "]" : "", h, c, pea_port_proto_to_string(m->proto)));
        }
        return parts ? strv_join(parts, ", ") : xstrdup("");
}
