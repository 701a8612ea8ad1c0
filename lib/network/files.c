/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "network/network.h"

/* The most a host resolv.conf may hold. */
#define RESOLV_MAX (64 * 1024)

static const char hosts_head[] =
        "127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n"
        "::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n";

static bool is_ip(const char *s)
{
        unsigned char buf[sizeof(struct in6_addr)];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* "a;b:ip" -> names "a b" and ip; the ip is after the first ':' (IPv6 keeps its colons). */
static int add_host_split(const char *s, char **ret_names, char **ret_ip, struct pea_error **err)
{
        const char *colon = strchr(s, ':');
        _cleanup_strv_ char **names = NULL;
        if (!colon || colon == s)
                return pea_error_set(err, EINVAL, "bad format for add-host: '%s'", s);
        _cleanup_free_ char *left = xstrndup(s, (size_t)(colon - s));
        names = strv_split(left, ";");
        if (!names)
                return pea_error_set(err, EINVAL, "bad format for add-host: '%s'", s);
        if (!streq(colon + 1, "host-gateway") && !is_ip(colon + 1))
                return pea_error_set(err, EINVAL, "invalid IP address in add-host: '%s'",
                                     colon + 1);
        if (ret_names)
                *ret_names = strv_join(names, " ");
        if (ret_ip)
                *ret_ip = xstrdup(colon + 1);
        return 0;
}

int pea_add_host_validate(const char *s, struct pea_error **err)
{
        return add_host_split(s, NULL, NULL, err);
}

/* Appends name to the line unless it is empty or already there. */
static void add_name(char ***names, const char *name)
{
        if (name && name[0] && !strv_contains(*names, name))
                strv_push(names, name);
}

static int hosts_add_hosts(const struct pea_hosts_opts *o, char **text, struct pea_error **err)
{
        for (char *const *a = o->add_hosts; a && *a; a++) {
                _cleanup_free_ char *names = NULL, *ip = NULL;
                int r = add_host_split(*a, &names, &ip, err);
                if (r < 0)
                        return r;
                if (streq(ip, "host-gateway")) {
                        if (!o->host_address)
                                return pea_error_set(err, EINVAL,
                                                     "add-host '%s': no host gateway address "
                                                     "on this network",
                                                     *a);
                        free(ip);
                        ip = xstrdup(o->host_address);
                }
                char *t = xasprintf("%s%s\t%s\n", *text, ip, names);
                free(*text);
                *text = t;
        }
        return 0;
}

int pea_hosts_format(const struct pea_hosts_opts *o, char **ret, struct pea_error **err)
{
        _cleanup_free_ char *text = xstrdup(hosts_head);
        _cleanup_strv_ char **names = NULL;
        _cleanup_free_ char *line = NULL;
        char *t = NULL;
        int r = hosts_add_hosts(o, &text, err);

        if (r < 0)
                return r;
        add_name(&names, o->hostname);
        add_name(&names, o->name);
        for (char *const *n = o->pod_names; n && *n; n++)
                add_name(&names, *n);
        if (names) {
                line = strv_join(names, " ");
                t = xasprintf("%s%s\t%s\n", text, o->address ? o->address : "127.0.1.1", line);
                free(text);
                text = t;
        }
        if (o->host_address) {
                t = xasprintf("%s%s\thost.containers.internal host.docker.internal\n", text,
                              o->host_address);
                free(text);
                text = t;
        }
        *ret = TAKE_PTR(text);
        return 0;
}

int pea_hosts_file_write(const char *path, const struct pea_hosts_opts *o, struct pea_error **err)
{
        _cleanup_free_ char *text = NULL;
        int r = pea_hosts_format(o, &text, err);
        if (r < 0)
                return r;
        return pea_write_file_replace_at(AT_FDCWD, path, text, strlen(text), 0644, err);
}

int pea_hostname_file_write(const char *path, const char *hostname, struct pea_error **err)
{
        _cleanup_free_ char *text = xasprintf("%s\n", hostname);
        return pea_write_file_replace_at(AT_FDCWD, path, text, strlen(text), 0644, err);
}

/* The parsed parts of a resolv.conf. */
struct resolv {
        char **nameservers;
        char **search;
        char **options;
};

static void resolv_done(struct resolv *r)
{
        r->nameservers = strv_free(r->nameservers);
        r->search = strv_free(r->search);
        r->options = strv_free(r->options);
}

static void resolv_parse(const char *text, struct resolv *ret)
{
        _cleanup_strv_ char **lines = strv_split(text ? text : "", "\n");
        STRV_FOREACH(l, lines) {
                _cleanup_strv_ char **w = strv_split(*l, " \t\r");
                if (!w || w[0][0] == '#' || w[0][0] == ';' || !w[1])
                        continue;
                if (streq(w[0], "nameserver")) {
                        strv_push(&ret->nameservers, w[1]);
                } else if (streq(w[0], "search") || streq(w[0], "domain")) {
                        /* The last search or domain line wins. */
                        ret->search = strv_free(ret->search);
                        for (char **s = w + 1; *s; s++)
                                strv_push(&ret->search, *s);
                } else if (streq(w[0], "options")) {
                        for (char **s = w + 1; *s; s++)
                                strv_push(&ret->options, *s);
                }
        }
}

static bool is_local_nameserver(const char *ns)
{
        return startswith(ns, "127.") || streq(ns, "::1");
}

static char *read_optional(const char *given, const char *path)
{
        _cleanup_error_ struct pea_error *e = NULL;
        char *text = NULL;
        if (given)
                return xstrdup(given);
        if (pea_read_file_at(AT_FDCWD, path, RESOLV_MAX, &text, NULL, &e) < 0)
                return xstrdup("");
        return text;
}

/* The host's servers with local ones replaced by slirp's DNS or the upstream ones. */
static char **nameservers(const struct pea_resolv_opts *o, char **host)
{
        char **out = NULL;
        bool upstream = false;
        STRV_FOREACH(ns, host) {
                if (!is_local_nameserver(*ns))
                        add_name(&out, *ns);
                else if (o->slirp_dns)
                        add_name(&out, o->slirp_dns);
                else
                        upstream = true;
        }
        if (upstream) {
                _cleanup_free_ char *text =
                        read_optional(o->upstream_resolv, "/run/systemd/resolve/resolv.conf");
                struct resolv up = {0};
                resolv_parse(text, &up);
                STRV_FOREACH(ns, up.nameservers)
                        if (!is_local_nameserver(*ns))
                                add_name(&out, *ns);
                resolv_done(&up);
        }
        if (!out) {
                /* Podman's fallback when nothing usable is left. */
                strv_push(&out, "8.8.8.8");
                strv_push(&out, "8.8.4.4");
        }
        return out;
}

int pea_resolv_conf_format(const struct pea_resolv_opts *o, char **ret, struct pea_error **err)
{
        _cleanup_free_ char *host = read_optional(o->host_resolv, "/etc/resolv.conf");
        _cleanup_strv_ char **ns = NULL;
        struct resolv h = {0};
        char *const *search = NULL, *const *options = NULL;
        _cleanup_free_ char *text = xstrdup(""), *s = NULL, *opt = NULL;

        for (char *const *d = o->dns; d && *d; d++)
                if (!is_ip(*d))
                        return pea_error_set(err, EINVAL, "'%s' is not an IP address", *d);
        resolv_parse(host, &h);
        ns = o->dns && o->dns[0] ? NULL : nameservers(o, h.nameservers);
        search = o->dns_search && o->dns_search[0] ? o->dns_search : h.search;
        if (search && search[0] && streq(search[0], ".") && !search[1])
                search = NULL;
        options = o->dns_options && o->dns_options[0] ? o->dns_options : h.options;
        s = search && search[0] ? strv_join((char **)search, " ") : NULL;
        opt = options && options[0] ? strv_join((char **)options, " ") : NULL;
        if (s) {
                free(text);
                text = xasprintf("search %s\n", s);
        }
        for (char *const *n = ns ? ns : o->dns; n && *n; n++) {
                char *t = xasprintf("%snameserver %s\n", text, *n);
                free(text);
                text = t;
        }
        if (opt) {
                char *t = xasprintf("%soptions %s\n", text, opt);
                free(text);
                text = t;
        }
        resolv_done(&h);
        *ret = TAKE_PTR(text);
        return 0;
}

int pea_resolv_conf_write(const char *path, const struct pea_resolv_opts *o, struct pea_error **err)
{
        _cleanup_free_ char *text = NULL;
        int r = pea_resolv_conf_format(o, &text, err);
        if (r < 0)
                return r;
        return pea_write_file_replace_at(AT_FDCWD, path, text, strlen(text), 0644, err);
}
