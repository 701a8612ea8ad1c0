/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

/*
 * lib/network: rootless networking for a network namespace.
 *
 *   netns.c        persistent network namespaces, bind-mounted at
 *                  <run_root>/netns/<name> (works as root and as uid 0 of
 *                  the per-user user namespace)
 *   slirp4netns.c  the default backend: one slirp4netns per namespace,
 *                  double-forked so it outlives the pea process, published
 *                  ports added through its API socket (add_hostfwd)
 *   pasta.c        the pasta backend: ports given at start (-t/-u); a server
 *                  inside sees the client's real source address
 *   ports.c        -p/-P parsing, free host ports, PortBindings JSON
 *   files.c        /etc/hosts, /etc/resolv.conf, /etc/hostname
 *
 * A backend's helper process keeps running until pea_network_teardown();
 * its pid and files are recorded in struct pea_network_state, which
 * pea_network_state_save()/load() keep as JSON so a later process (pea stop)
 * can tear it down.
 */

struct pea_error;
struct json_t;

enum pea_port_proto {
        PEA_PORT_TCP,
        PEA_PORT_UDP,
        _PEA_PORT_PROTO_MAX,
        _PEA_PORT_PROTO_INVALID = -EINVAL,
};

const char *pea_port_proto_to_string(enum pea_port_proto p);
/* "tcp" or "udp" (case-sensitive, as podman), else -EINVAL. */
int pea_port_proto_from_string(const char *s);

/* One -p argument: range consecutive ports from host_port and container_port. */
struct pea_port_mapping {
        char *host_ip;           /* "" for all addresses */
        uint16_t host_port;      /* 0: a free port is picked (pea_ports_allocate) */
        uint16_t container_port; /* never 0 */
        uint16_t range;          /* >= 1 */
        enum pea_port_proto proto;
};

/* A growable list of mappings. */
struct pea_ports {
        struct pea_port_mapping *v;
        size_t n;
};

void pea_ports_done(struct pea_ports *p);

/*
 * Parses "[ip:][hostPort:]containerPort[/tcp|/udp]" (ports or ranges "a-b",
 * "[v6addr]:" for IPv6) and appends it to p. A missing or empty host port is
 * 0. Errors follow podman's wording, e.g. "parsing container port: port
 * numbers must be between 1 and 65535 (inclusive), got 0"; -EINVAL.
 */
int pea_port_parse(const char *spec, struct pea_ports *p, struct pea_error **err);

/*
 * -P: appends one mapping with host port 0 for each exposed port ("80",
 * "80/tcp", "53/udp", "8000-8010/tcp": the image's ExposedPorts keys),
 * skipping container ports p already publishes with the same protocol.
 */
int pea_ports_add_exposed(struct pea_ports *p, char *const *exposed, struct pea_error **err);

/*
 * Gives every mapping with host port 0 a free host port (a whole free range
 * for ranges), checked by binding in the current network namespace.
 */
int pea_ports_allocate(struct pea_ports *p, struct pea_error **err);

/* -EADDRINUSE ("cannot expose port 8080: address already in use") when a given host port is taken.
 */
int pea_ports_check_free(const struct pea_ports *p, struct pea_error **err);

/*
 * Podman's inspect PortBindings: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
 * one key per container port (ranges expanded).
 */
struct json_t *pea_ports_to_json(const struct pea_ports *p);

/* Reads back a pea_ports_to_json() object (ranges come back as single ports). */
int pea_ports_from_json(struct json_t *j, struct pea_ports *ret, struct pea_error **err);

/* Joins mappings that continue the previous one (8080->80, 8081->81) into ranges. */
void pea_ports_merge(struct pea_ports *p);

/* "0.0.0.0:8080->80/tcp, 127.0.0.1:9000-9001->90-91/udp", as podman ps shows. */
char *pea_ports_format(const struct pea_ports *p);

/*
 * Persistent network namespaces: creates <run_root>/netns/<name> (the
 * directory too), a bind mount of a new network namespace whose lo is up.
 * -EEXIST when it exists. *ret_path (may be NULL) gets the path.
 */
int pea_network_netns_create(const char *run_root, const char *name, char **ret_path,
                             struct pea_error **err);

/* Unmounts and removes it; -ENOENT when there is none. */
int pea_network_netns_remove(const char *run_root, const char *name, struct pea_error **err);

/* What a backend attaches to a network namespace. */
struct pea_network_opts {
        const struct pea_ports *ports; /* NULL: none; host ports must be != 0 */
        unsigned mtu;                  /* 0: 65520 */
        const char *cidr;              /* slirp4netns --cidr (NULL: 10.0.2.0/24); pasta: the
                                          namespace gets .100, its gateway .2 (NULL: the
                                          host's own address, as pasta does) */
        const char *outbound_addr;     /* NULL: the routing table's */
        bool allow_host_loopback;      /* slirp4netns: the gateway reaches host 127.0.0.1 */
        bool enable_ipv6;              /* slirp4netns -6 */
        const char *userns_path;       /* the netns owner's user namespace when the
                                          helper must join it; NULL: the caller's */
        const char *state_prefix;      /* helper files are <prefix>.<backend>.{pid,sock,log};
                                          NULL: the netns path */
};

/* A running backend: everything teardown needs, also from another process. */
struct pea_network_state {
        char *backend; /* "slirp4netns" or "pasta" */
        char *netns_path;
        pid_t pid; /* the helper process */
        char *pid_file;
        char *api_socket; /* slirp4netns only, else NULL */
        char *log_file;   /* the helper's stderr */
        struct pea_ports ports;
};

void pea_network_state_done(struct pea_network_state *s);

/*
 * Starts backend ("slirp4netns" or "pasta") for netns_path and publishes
 * o->ports; returns once the namespace's interface is configured. On failure
 * nothing is left running. A host port in use fails with -EADDRINUSE and
 * "cannot expose port 8080: address already in use".
 */
int pea_network_setup(const char *backend, const char *netns_path, const struct pea_network_opts *o,
                      struct pea_network_state *ret, struct pea_error **err);

/* Publishes one more mapping (slirp4netns only; pasta: -EOPNOTSUPP). */
int pea_network_add_port(struct pea_network_state *s, const struct pea_port_mapping *m,
                         struct pea_error **err);

/*
 * Kills the helper (after checking /proc/PID/cmdline is still it), waits
 * until it is gone and removes its files. A helper already gone is fine.
 */
int pea_network_teardown(struct pea_network_state *s, struct pea_error **err);

int pea_network_state_save(const struct pea_network_state *s, const char *path,
                           struct pea_error **err);
int pea_network_state_load(const char *path, struct pea_network_state *ret, struct pea_error **err);

/* The host as seen from the namespace: 10.0.2.2 for slirp4netns; NULL if none. */
const char *pea_network_host_address(const char *backend);
/* The namespace's own address: 10.0.2.100 for slirp4netns; NULL if unknown. */
const char *pea_network_container_address(const char *backend);

/* /etc/hosts of a container. */
struct pea_hosts_opts {
        const char *hostname;     /* the container's hostname */
        const char *name;         /* the container's name (also listed) */
        const char *address;      /* the container's address; NULL: 127.0.1.1 */
        const char *host_address; /* host.containers.internal; NULL: no such line */
        char *const *add_hosts;   /* --add-host "name[;name...]:ip" (ip may be host-gateway) */
        char *const *pod_names;   /* the other pod members' names, on the address line */
};

/* Checks one --add-host value as podman does (-EINVAL). */
int pea_add_host_validate(const char *s, struct pea_error **err);

/* The text of /etc/hosts. */
int pea_hosts_format(const struct pea_hosts_opts *o, char **ret, struct pea_error **err);

/* Writes it (mode 0644); --no-hosts means the caller does not call this. */
int pea_hosts_file_write(const char *path, const struct pea_hosts_opts *o, struct pea_error **err);

/* /etc/resolv.conf of a container. */
struct pea_resolv_opts {
        const char *host_resolv;     /* the host's resolv.conf text; NULL: read /etc/resolv.conf */
        const char *upstream_resolv; /* used when the host's has only 127.x/::1 servers and
                                        there is no slirp_dns; NULL: read
                                        /run/systemd/resolve/resolv.conf if any */
        const char *slirp_dns;       /* "10.0.2.3": replaces local nameservers */
        char *const *dns;            /* --dns: replaces the nameservers */
        char *const *dns_search;     /* --dns-search: replaces search ("." clears it) */
        char *const *dns_options;    /* --dns-option: replaces options */
};

int pea_resolv_conf_format(const struct pea_resolv_opts *o, char **ret, struct pea_error **err);
int pea_resolv_conf_write(const char *path, const struct pea_resolv_opts *o,
                          struct pea_error **err);

/* "hostname\n". */
int pea_hostname_file_write(const char *path, const char *hostname, struct pea_error **err);
