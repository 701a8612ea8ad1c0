/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "network/network-internal.h"
#include "network/network.h"

/* pasta's -t/-u spec: "[addr/]host[-end]:ctr[-end]". */
static char *port_spec(const struct pea_port_mapping *m)
{
        _cleanup_free_ char *addr =
                m->host_ip && m->host_ip[0] ? xasprintf("%s/", m->host_ip) : xstrdup("");
        if (m->range <= 1)
                return xasprintf("%s%u:%u", addr, m->host_port, m->container_port);
        return xasprintf("%s%u-%u:%u-%u", addr, m->host_port, m->host_port + m->range - 1,
                         m->container_port, m->container_port + m->range - 1);
}

static void push_ports(char ***argv, const struct pea_ports *p, enum pea_port_proto proto)
{
        const char *flag = proto == PEA_PORT_TCP ? "-t" : "-u";
        bool any = false;
        for (size_t i = 0; p && i < p->n; i++) {
                if (p->v[i].proto != proto)
                        continue;
                strv_push(argv, flag);
                strv_consume(argv, port_spec(&p->v[i]));
                any = true;
        }
        if (!any) {
                strv_push(argv, flag);
                strv_push(argv, "none");
        }
}

/* --cidr A.B.C.D/N: the namespace gets .100, its gateway .2 (as with slirp4netns). */
static int push_cidr(char ***argv, const char *cidr, struct pea_error **err)
{
        _cleanup_free_ char *net = xstrdup(cidr);
        char *slash = strchr(net, '/');
        unsigned prefix = 0;
        struct in_addr a = {0};
        char addr[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];

        if (!slash || safe_atou32(slash + 1, &prefix) < 0 || prefix < 1 || prefix > 24)
                return pea_error_set(err, EINVAL, "invalid network '%s'", cidr);
        *slash = '\0';
        if (inet_pton(AF_INET, net, &a) != 1)
                return pea_error_set(err, EINVAL, "invalid network '%s'", cidr);
        uint32_t base = ntohl(a.s_addr) & ~((1u << (32 - prefix)) - 1);
        a.s_addr = htonl(base + 100);
        inet_ntop(AF_INET, &a, addr, sizeof(addr));
        a.s_addr = htonl(base + 2);
        inet_ntop(AF_INET, &a, gw, sizeof(gw));
        strv_push(argv, "-a");
        strv_push(argv, addr);
        strv_push(argv, "-n");
        strv_consume(argv, xasprintf("%u", prefix));
        strv_push(argv, "-g");
        strv_push(argv, gw);
        return 0;
}

static char **pasta_argv(const char *netns_path, const struct pea_network_opts *o,
                         const struct pea_network_state *s, struct pea_error **err)
{
        char **argv = NULL;
        char *prog = pea_find_helper(PEA_PASTA);
        strv_consume(&argv, prog ? prog : xstrdup(PEA_PASTA));
        strv_push(&argv, "--config-net");
        strv_push(&argv, "--quiet");
        push_ports(&argv, o->ports, PEA_PORT_TCP);
        push_ports(&argv, o->ports, PEA_PORT_UDP);
        /* No forwarding from the namespace's ports to the host's. */
        strv_push(&argv, "-T");
        strv_push(&argv, "none");
        strv_push(&argv, "-U");
        strv_push(&argv, "none");
        if (!o->allow_host_loopback)
                strv_push(&argv, "--no-map-gw");
        if (o->mtu) {
                strv_push(&argv, "--mtu");
                strv_consume(&argv, xasprintf("%u", o->mtu));
        }
        if (o->outbound_addr) {
                strv_push(&argv, "--outbound");
                strv_push(&argv, o->outbound_addr);
        }
        if (!o->enable_ipv6)
                strv_push(&argv, "--ipv4-only");
        if (o->cidr && push_cidr(&argv, o->cidr, err) < 0) {
                strv_free(argv);
                return NULL;
        }
        if (o->userns_path) {
                strv_push(&argv, "--userns");
                strv_push(&argv, o->userns_path);
        }
        strv_push(&argv, "--pid");
        strv_push(&argv, s->pid_file);
        strv_push(&argv, "--netns");
        strv_push(&argv, netns_path);
        return argv;
}

static int pasta_teardown(struct pea_network_state *s, struct pea_error **err)
{
        pid_t pid = s->pid;
        int r;
        if (pid <= 0 && network_read_pid(s->pid_file, &pid) < 0)
                pid = 0;
        r = network_kill_helper(pid, "pasta", s->netns_path, err);
        if (r < 0)
                return r;
        network_state_unlink(s);
        return 0;
}

/* pasta failed: the clearest reason we can give. */
static int pasta_failed(const struct pea_network_opts *o, struct pea_network_state *s, int status,
                        struct pea_error **err)
{
        _cleanup_free_ char *why = network_log_tail(s->log_file);
        for (size_t i = 0; o->ports && i < o->ports->n; i++)
                for (unsigned k = 0; k < o->ports->v[i].range; k++) {
                        int r = network_port_in_use_error(&o->ports->v[i], k, err);
                        if (r < 0)
                                return r;
                }
        return pea_error_set(err, EIO, "pasta failed to configure '%s' (exit status %d): %s",
                             s->netns_path, status, why[0] ? why : "no message");
}

static int pasta_setup(const char *netns_path, const struct pea_network_opts *o,
                       struct pea_network_state *ret, struct pea_error **err)
{
        struct pea_network_state s = {0};
        _cleanup_strv_ char **argv = NULL;
        _cleanup_error_ struct pea_error *ignored = NULL;
        int r;

        network_state_init(&s, "pasta", netns_path, o);
        argv = pasta_argv(netns_path, o, &s, err);
        if (!argv) {
                pea_network_state_done(&s);
                return -EINVAL;
        }
        (void)unlink(s.pid_file);
        (void)unlink(s.log_file);
        /* pasta daemonizes once the namespace is configured; its parent exits 0. */
        r = network_run(argv, s.log_file, err);
        if (r > 0)
                r = pasta_failed(o, &s, r, err);
        if (r >= 0 && network_read_pid(s.pid_file, &s.pid) < 0)
                r = pea_error_set(err, EIO, "pasta wrote no pid file '%s'", s.pid_file);
        if (r < 0) {
                (void)pasta_teardown(&s, &ignored);
                pea_network_state_done(&s);
                return r;
        }
        for (size_t i = 0; o->ports && i < o->ports->n; i++)
                network_ports_push(&s.ports, &o->ports->v[i]);
        *ret = s;
        return 0;
}

static int pasta_add_port(struct pea_network_state *s, const struct pea_port_mapping *m,
                          struct pea_error **err)
{
        (void)s;
        return pea_error_set(err, EOPNOTSUPP,
                             "pasta: port %u must be published when the network is set up",
                             m->container_port);
}

const struct pea_network_backend pea_network_pasta = {
        .name = "pasta",
        .setup = pasta_setup,
        .add_port = pasta_add_port,
        .teardown = pasta_teardown,
};
