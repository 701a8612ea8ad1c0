/* SPDX-License-Identifier: Apache-2.0 */
/* lib/container: a container's network namespace (lib/network) and namespace sharing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <jansson.h>

#include "base.h"
#include "container/container.h"
#include "image/image.h"
#include "image/store.h"
#include "network/network.h"
#include "runtime/specgen.h"
#include "state/state.h"

enum { NET_NETWORK, NET_IPC, NET_PID, NET_UTS, NET_HOSTNAME, _NET_MAX };

static bool mode_has_netns(const char *mode)
{
        return streq_ptr(mode, "slirp4netns") || streq_ptr(mode, "pasta");
}

static char *state_path(const struct pea_container_ctx *ctx, const char *id)
{
        return xasprintf("%s/netns/%s.json", ctx->run_root, id);
}

/* --network: the mode and what follows its ':' (NULL when nothing). */
static int parse_network(const char *network, char **ret_mode, char **ret_opts,
                         struct pea_error **err)
{
        static const char *const modes[] = {"slirp4netns", "pasta",     "none",
                                            "host",        "container", "ns"};
        const char *n = network && *network && !streq(network, "private") ? network : "slirp4netns";
        const char *colon = strchr(n, ':');
        _cleanup_free_ char *mode = colon ? xstrndup(n, (size_t)(colon - n)) : xstrdup(n);
        const char *opts = colon ? colon + 1 : NULL;
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(modes); i++)
                known = known || streq(mode, modes[i]);
        if (!known)
                return pea_error_set(err, ENOTSUP,
                                     "network '%s': bridge and named networks are not supported "
                                     "yet (use slirp4netns, pasta, host, none, container:NAME or "
                                     "ns:PATH)",
                                     n);
        if ((streq(mode, "container") || streq(mode, "ns")) && (!opts || !*opts))
                return pea_error_set(err, EINVAL, "network mode '%s' needs a value", n);
        if ((streq(mode, "none") || streq(mode, "host")) && opts)
                return pea_error_set(err, EINVAL, "network mode '%s' takes no options", n);
        if (streq(mode, "pasta") && opts && *opts)
                return pea_error_set(err, ENOTSUP, "pasta options are not supported yet: '%s'",
                                     opts);
        *ret_mode = TAKE_PTR(mode);
        *ret_opts = opts ? xstrdup(opts) : NULL;
        return 0;
}

static int parse_bool_opt(const char *key, const char *v, bool *ret, struct pea_error **err)
{
        if (streq(v, "true") || streq(v, "false")) {
                *ret = streq(v, "true");
                return 0;
        }
        return pea_error_set(err, EINVAL, "slirp4netns option '%s': '%s' is not a boolean", key, v);
}

/* "allow_host_loopback=true,cidr=10.0.3.0/24,..." into o; values are borrowed from words. */
static int slirp_options(char **words, struct pea_network_opts *o, struct pea_error **err)
{
        STRV_FOREACH(w, words) {
                char *v = strchr(*w, '=');
                if (!v)
                        return pea_error_set(err, EINVAL, "slirp4netns option '%s' needs a value",
                                             *w);
                *v++ = '\0';
                int r = 0;
                unsigned mtu = 0;
                if (streq(*w, "allow_host_loopback"))
                        r = parse_bool_opt(*w, v, &o->allow_host_loopback, err);
                else if (streq(*w, "enable_ipv6"))
                        r = parse_bool_opt(*w, v, &o->enable_ipv6, err);
                else if (streq(*w, "cidr"))
                        o->cidr = v;
                else if (streq(*w, "outbound_addr"))
                        o->outbound_addr = v;
                else if (streq(*w, "mtu") && safe_atou32(v, &mtu) >= 0 && mtu >= 68 && mtu <= 65521)
                        o->mtu = mtu;
                else if (!streq(*w, "port_handler"))
                        return pea_error_set(err, EINVAL, "unknown slirp4netns option '%s=%s'", *w,
                                             v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int lookup(const struct pea_container_ctx *ctx, const char *name,
                  struct pea_container_row *ret, struct pea_error **err)
{
        return pea_state_container_lookup(ctx->state, name, ret, err);
}

/* --network container:X: X's namespace; records joined and the backend in cfg. */
static int join_network(const struct pea_container_ctx *ctx, const char *target, json_t *cfg,
                        char **ret_spec, struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = lookup(ctx, target, &row, err);
        if (r < 0)
                return r;
        json_t *tn = json_object_get(row.config, "network");
        const char *tspec = json_string_value(json_object_get(tn, "spec"));
        const char *tbackend = json_string_value(json_object_get(tn, "backend"));
        bool running = streq(row.state, "running") && row.pid > 0;
        if (tspec && (startswith(tspec, "ns:") || streq(tspec, "host")))
                *ret_spec = xstrdup(tspec);
        else if (running)
                *ret_spec = xasprintf("ns:/proc/%d/ns/net", row.pid);
        else
                r = pea_error_set(err, EINVAL,
                                  "container '%s' is not running: cannot join its "
                                  "network namespace",
                                  target);
        if (r >= 0) {
                json_object_set_new(cfg, "joined", json_string(row.id));
                json_object_set_new(cfg, "backend", json_string(tbackend ? tbackend : "none"));
        }
        pea_container_row_done(&row);
        return r;
}

/* --ipc/--pid/--uts container:X: the running X's namespace (uts: and its hostname). */
static int join_ns(const struct pea_container_ctx *ctx, const char *kind, const char *value,
                   char **ret_spec, char **ret_hostname, struct pea_error **err)
{
        const char *target = value ? startswith(value, "container:") : NULL;
        if (!target)
                return 0;
        struct pea_container_row row = {};
        int r = lookup(ctx, target, &row, err);
        if (r < 0)
                return r;
        if (!streq(row.state, "running") || row.pid <= 0)
                r = pea_error_set(err, EINVAL,
                                  "container '%s' is not running: cannot join its "
                                  "%s namespace",
                                  target, kind);
        if (r >= 0)
                *ret_spec = xasprintf("ns:/proc/%d/ns/%s", row.pid, kind);
        const char *h = json_string_value(json_object_get(row.config, "hostname"));
        if (r >= 0 && ret_hostname && h)
                *ret_hostname = xstrdup(h);
        pea_container_row_done(&row);
        return r;
}

static int image_exposed(const struct pea_container_ctx *ctx, const char *image_id, char ***ret,
                         struct pea_error **err)
{
        struct pea_image_record img = {};
        _cleanup_image_config_ struct pea_image_config *cfg = NULL;
        int r = pea_image_store_get(ctx->store, image_id, &img, err);
        if (r >= 0)
                r = pea_image_config_parse(img.config, img.config_len, NULL, &cfg, err);
        pea_image_record_done(&img);
        if (r < 0)
                return r;
        STRV_FOREACH(p, cfg->exposed_ports)
                strv_push(ret, *p);
        return 0;
}

/* -p, -P (image EXPOSE and --expose), checked free and allocated; cfg gets ports, exposed. */
static int collect_ports(const struct pea_container_ctx *ctx, const char *image_id,
                         const struct pea_container_net_opts *n, json_t *cfg,
                         struct pea_error **err)
{
        struct pea_ports ports = {}, check = {};
        _cleanup_strv_ char **exposed = NULL;
        int r = 0;
        STRV_FOREACH(p, n->publish)
                if (r >= 0)
                        r = pea_port_parse(*p, &ports, err);
        STRV_FOREACH(e, n->expose)
                strv_push(&exposed, *e);
        if (r >= 0 && image_id)
                r = image_exposed(ctx, image_id, &exposed, err);
        if (r >= 0)
                r = pea_ports_add_exposed(&check, exposed, err); /* validates --expose */
        if (r >= 0 && n->publish_all)
                r = pea_ports_add_exposed(&ports, exposed, err);
        if (r >= 0)
                r = pea_ports_check_free(&ports, err);
        if (r >= 0)
                r = pea_ports_allocate(&ports, err);
        if (r >= 0) {
                json_object_set_new(cfg, "ports", pea_ports_to_json(&ports));
                json_object_set_new(cfg, "exposed", pea_ports_to_json(&check));
        }
        pea_ports_done(&ports);
        pea_ports_done(&check);
        return r;
}

/* The "network" object and the spec's network value. */
static int resolve_network(const struct pea_container_ctx *ctx,
                           const struct pea_container_create_opts *o,
                           const struct pea_container_net_opts *n, const char *id, json_t *cfg,
                           char **ret_spec, struct pea_error **err)
{
        _cleanup_free_ char *mode = NULL, *opts = NULL;
        int r = parse_network(n->network, &mode, &opts, err);
        if (r < 0)
                return r;
        json_object_set_new(cfg, "mode", json_string(mode));
        if (opts)
                json_object_set_new(cfg, "options", json_string(opts));
        if (streq(mode, "slirp4netns")) {
                _cleanup_strv_ char **words = strv_split(opts ? opts : "", ",");
                struct pea_network_opts no = {};
                r = slirp_options(words, &no, err);
                if (r < 0)
                        return r;
        }
        bool own = mode_has_netns(mode);
        if (!own && (n->publish || n->publish_all))
                return pea_error_set(err, EINVAL,
                                     "publishing ports needs the container's own network "
                                     "namespace (slirp4netns or pasta), not network '%s'",
                                     n->network);
        if (own) {
                json_object_set_new(cfg, "backend", json_string(mode));
                json_object_set_new(cfg, "netns", json_sprintf("%s/netns/%s", ctx->run_root, id));
                *ret_spec = xasprintf("ns:%s/netns/%s", ctx->run_root, id);
                return collect_ports(ctx, o->image_id, n, cfg, err);
        }
        if (streq(mode, "container"))
                return join_network(ctx, opts, cfg, ret_spec, err);
        json_object_set_new(cfg, "backend", json_string(mode));
        *ret_spec = streq(mode, "ns") ? xasprintf("ns:%s", opts) : xstrdup(mode);
        return 0;
}

static int record_tx(struct pea_state *st, void *userdata, struct pea_error **err)
{
        json_t *add = userdata;
        struct pea_container_row row = {};
        const char *id = json_string_value(json_object_get(add, "id"));
        int r = pea_state_container_get_by_id(st, id, &row, err);
        if (r < 0)
                return r;
        if (!json_is_object(row.config)) {
                json_decref(row.config);
                row.config = json_object();
        }
        json_object_set(row.config, "network", json_object_get(add, "network"));
        r = pea_state_container_update(st, &row, err);
        pea_container_row_done(&row);
        return r;
}

static void apply_spec(struct pea_container_net *n)
{
        struct pea_spec_opts *s = n->spec;
        const char **f[_NET_MAX] = {&s->network, &s->ipc, &s->pid, &s->uts, &s->hostname};
        for (size_t i = 0; i < _NET_MAX; i++) {
                n->saved[i] = *f[i];
                if (n->owned[i])
                        *f[i] = n->owned[i];
        }
}

void pea_container_net_done(struct pea_container_net *n)
{
        if (n->spec) {
                struct pea_spec_opts *s = n->spec;
                const char **f[_NET_MAX] = {&s->network, &s->ipc, &s->pid, &s->uts, &s->hostname};
                for (size_t i = 0; i < _NET_MAX; i++)
                        *f[i] = n->saved[i];
        }
        for (size_t i = 0; i < _NET_MAX; i++)
                free(n->owned[i]);
        json_decref(n->config);
        *n = (struct pea_container_net){};
}

static int resolve_shared(const struct pea_container_ctx *ctx,
                          const struct pea_container_net_opts *n, struct pea_container_net *net,
                          struct pea_error **err)
{
        int r = join_ns(ctx, "ipc", n->ipc, &net->owned[NET_IPC], NULL, err);
        if (r >= 0)
                r = join_ns(ctx, "pid", n->pid, &net->owned[NET_PID], NULL, err);
        if (r >= 0)
                r = join_ns(ctx, "uts", n->uts, &net->owned[NET_UTS],
                            net->spec->hostname ? NULL : &net->owned[NET_HOSTNAME], err);
        return r;
}

int pea_container_net_prepare(const struct pea_container_ctx *ctx,
                              const struct pea_container_create_opts *o, const char *id,
                              struct pea_container_net *ret, struct pea_error **err)
{
        static const struct pea_container_net_opts defaults = {};
        const struct pea_container_net_opts *n = o->net ? o->net : &defaults;
        struct pea_container_net net = {.config = json_object()};
        if (n->no_hosts && n->add_hosts)
                return pea_error_set(err, EINVAL,
                                     "--no-hosts and --add-host cannot be set "
                                     "together");
        int r = 0;
        STRV_FOREACH(h, n->add_hosts)
                if (r >= 0)
                        r = pea_add_host_validate(*h, err);
        if (r >= 0)
                r = resolve_network(ctx, o, n, id, net.config, &net.owned[NET_NETWORK], err);
        net.spec = o->spec;
        if (r >= 0)
                r = resolve_shared(ctx, n, &net, err);
        json_object_set_new(net.config, "no_hosts", json_boolean(n->no_hosts));
        json_object_set_new(net.config, "spec", json_string(net.owned[NET_NETWORK]));
        _cleanup_json_ json_t *add = json_pack("{s:s, s:O}", "id", id, "network", net.config);
        if (r >= 0)
                r = pea_state_transaction(ctx->state, record_tx, add, err);
        if (r < 0) {
                net.spec = NULL;
                pea_container_net_done(&net);
                return r;
        }
        apply_spec(&net);
        *ret = net;
        return 0;
}

static int write_text(const char *dir, const char *name, const char *text, struct pea_error **err)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        return pea_write_file_replace_at(AT_FDCWD, p, text, strlen(text), 0644, err);
}

/* slirp4netns' DNS first, as podman does (once; before the first nameserver line). */
static void prepend_nameserver(char **text, const char *ns)
{
        _cleanup_free_ char *line = xasprintf("nameserver %s\n", ns);
        if (strstr(*text, line))
                return;
        char *at = startswith(*text, "nameserver") ? *text : strstr(*text, "\nnameserver");
        size_t off = at ? (size_t)(at - *text) + (at == *text ? 0 : 1) : strlen(*text);
        char *t = xasprintf("%.*s%s%s", (int)off, *text, line, *text + off);
        free(*text);
        *text = t;
}

int pea_container_net_write_files(const struct pea_container_net *n,
                                  const struct pea_container_create_opts *o, const char *name,
                                  const char *data_dir, struct pea_error **err)
{
        static const struct pea_container_net_opts defaults = {};
        const struct pea_container_net_opts *no = o->net ? o->net : &defaults;
        const char *backend = json_string_value(json_object_get(n->config, "backend"));
        bool keep = streq_ptr(backend, "host") || streq_ptr(backend, "none");
        _cleanup_free_ char *short_id = xstrndup(n->spec->id, 12);
        _cleanup_free_ char *hosts = NULL, *resolv = NULL;
        int r = 0;
        if (!streq_ptr(backend, "host") && !no->no_hosts) {
                struct pea_hosts_opts h = {
                        .hostname = n->spec->hostname ? n->spec->hostname : short_id,
                        .name = name,
                        .address = pea_network_container_address(backend),
                        .host_address = pea_network_host_address(backend),
                        .add_hosts = no->add_hosts,
                        .pod_names = no->pod_names,
                };
                r = pea_hosts_format(&h, &hosts, err);
                if (r >= 0)
                        r = write_text(data_dir, "hosts", hosts, err);
        }
        if (r < 0 || (keep && !no->dns && !no->dns_search && !no->dns_options))
                return r;
        struct pea_resolv_opts ro = {
                .slirp_dns = streq_ptr(backend, "slirp4netns") ? "10.0.2.3" : NULL,
                .dns = no->dns,
                .dns_search = no->dns_search,
                .dns_options = no->dns_options,
        };
        r = pea_resolv_conf_format(&ro, &resolv, err);
        if (r >= 0 && ro.slirp_dns && !no->dns)
                prepend_nameserver(&resolv, ro.slirp_dns);
        if (r >= 0)
                r = write_text(data_dir, "resolv.conf", resolv, err);
        return r;
}

/* Copies what setup needs out of the row: the mode, its options and the ports. */
static int setup_params(const struct pea_container_ctx *ctx, const char *id, char **ret_mode,
                        char **ret_opts, struct pea_ports *ret_ports, struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(ctx->state, id, &row, err);
        if (r < 0)
                return r;
        json_t *net = json_object_get(row.config, "network");
        const char *mode = json_string_value(json_object_get(net, "mode"));
        const char *opts = json_string_value(json_object_get(net, "options"));
        json_t *ports = json_object_get(net, "ports");
        if (mode_has_netns(mode) && ports)
                r = pea_ports_from_json(ports, ret_ports, err);
        if (r >= 0 && mode_has_netns(mode)) {
                *ret_mode = xstrdup(mode);
                *ret_opts = opts ? xstrdup(opts) : NULL;
        }
        pea_container_row_done(&row);
        return r;
}

static int start_helper(const struct pea_container_ctx *ctx, const char *id, const char *mode,
                        const char *opts, const struct pea_ports *ports, const char *path,
                        struct pea_error **err)
{
        _cleanup_strv_ char **words = strv_split(opts ? opts : "", ",");
        /* short: the API socket's path must fit in sun_path (108 bytes) */
        _cleanup_free_ char *prefix = xasprintf("%s/netns/%.12s", ctx->run_root, id);
        struct pea_network_opts no = {.ports = ports, .state_prefix = prefix};
        struct pea_network_state st = {};
        int r = streq(mode, "slirp4netns") ? slirp_options(words, &no, err) : 0;
        if (r >= 0)
                r = pea_network_setup(mode, path, &no, &st, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *sp = state_path(ctx, id);
        r = pea_network_state_save(&st, sp, err);
        if (r < 0)
                (void)pea_network_teardown(&st, NULL);
        pea_network_state_done(&st);
        return r;
}

int pea_container_net_setup(const struct pea_container_ctx *ctx, const char *id,
                            struct pea_error **err)
{
        _cleanup_free_ char *mode = NULL, *opts = NULL, *path = NULL;
        struct pea_ports ports = {};
        int r = setup_params(ctx, id, &mode, &opts, &ports, err);
        if (r < 0 || !mode) {
                pea_ports_done(&ports);
                return r;
        }
        (void)pea_container_net_teardown(ctx, id, NULL);
        r = pea_network_netns_create(ctx->run_root, id, &path, err);
        if (r >= 0) {
                r = start_helper(ctx, id, mode, opts, &ports, path, err);
                if (r < 0)
                        (void)pea_network_netns_remove(ctx->run_root, id, NULL);
        }
        pea_ports_done(&ports);
        return r;
}

int pea_container_net_teardown(const struct pea_container_ctx *ctx, const char *id,
                               struct pea_error **err)
{
        _cleanup_free_ char *sp = state_path(ctx, id);
        struct pea_network_state st = {};
        if (pea_path_exists(sp) && pea_network_state_load(sp, &st, NULL) >= 0) {
                int r = pea_network_teardown(&st, err);
                pea_network_state_done(&st);
                if (r < 0)
                        return r;
        }
        (void)unlink(sp);
        int r = pea_network_netns_remove(ctx->run_root, id, err);
        if (r == -ENOENT) {
                pea_error_clear(err);
                r = 0;
        }
        return r;
}

bool pea_container_net_is_stale(const struct pea_container_ctx *ctx,
                                const struct pea_container_row *row)
{
        if (streq_ptr(row->state, "running") || row->finished_at <= 0)
                return false;
        _cleanup_free_ char *sp = state_path(ctx, row->id);
        struct stat st;
        if (stat(sp, &st) < 0)
                return false;
        int64_t m = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        return m <= row->finished_at;
}

char *pea_container_net_netns_path(const struct pea_container_ctx *ctx,
                                   const struct pea_container_row *row)
{
        json_t *net = json_object_get(row->config, "network");
        if (!mode_has_netns(json_string_value(json_object_get(net, "mode"))))
                return NULL;
        return xasprintf("%s/netns/%s", ctx->run_root, row->id);
}
