/* SPDX-License-Identifier: Apache-2.0 */
/* lib/container: create and remove (start is in container-start.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base.h"
#include "container/container.h"
#include "image/image.h"
#include "image/store.h"
#include "runtime/specgen.h"
#include "state/state.h"
#include "storage/storage.h"

char *pea_container_bundle_dir(const struct pea_container_ctx *ctx, const char *id)
{
        return xasprintf("%s/containers/%s/userdata", ctx->run_root, id);
}

char *pea_container_data_dir(const struct pea_container_ctx *ctx, const char *id)
{
        return xasprintf("%s/containers/%s/userdata", ctx->graph_root, id);
}

/* Copies <from>/config.json to <to>/config.json. */
static int copy_spec(const char *from, const char *to, struct pea_error **err)
{
        _cleanup_free_ char *src = xasprintf("%s/config.json", from);
        _cleanup_free_ char *dst = xasprintf("%s/config.json", to);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = pea_read_file_at(AT_FDCWD, src, 64 << 20, &text, &len, err);
        if (r >= 0)
                r = pea_mkdir_p(to, 0700, err);
        if (r >= 0)
                r = pea_write_file_atomic_at(AT_FDCWD, dst, text, len, 0600, err);
        return r;
}

int pea_container_bundle_restore(const struct pea_container_ctx *ctx, const char *id,
                                 struct pea_error **err)
{
        _cleanup_free_ char *bundle = pea_container_bundle_dir(ctx, id);
        _cleanup_free_ char *spec = xasprintf("%s/config.json", bundle);
        if (pea_path_exists(spec))
                return 0;
        _cleanup_free_ char *data = pea_container_data_dir(ctx, id);
        int r = copy_spec(data, bundle, err);
        return r < 0 ? pea_error_wrap(err, "restoring the bundle of container '%s'", id) : 1;
}

static json_t *row_config(const struct pea_container_create_opts *o)
{
        json_t *c = json_object();
        json_object_set_new(c, "rm", json_boolean(o->remove));
        if (o->runtime)
                json_object_set_new(c, "runtime", json_string(o->runtime));
        json_t *labels = json_object();
        STRV_FOREACH(l, o->labels) {
                _cleanup_free_ char *k = xstrdup(*l);
                char *eq = strchr(k, '=');
                if (eq)
                        *eq++ = '\0';
                json_object_set_new(labels, k, json_string(eq ? eq : ""));
        }
        json_object_set_new(c, "labels", labels);
        return c;
}

static int add_row(const struct pea_container_ctx *ctx, const struct pea_container_create_opts *o,
                   const char *id, const char *name, struct pea_error **err)
{
        struct pea_container_row row = {
                .id = (char *)id,
                .name = (char *)name,
                .image_id = (char *)o->image_id,
                .image_name = (char *)o->image_name,
                .pod_id = (char *)o->pod_id,
                .state = (char *)"created",
                .config = row_config(o),
        };
        int r = pea_state_container_add(ctx->state, &row, err);
        json_decref(row.config);
        if (r == -EEXIST && o->name) {
                pea_error_clear(err);
                struct pea_container_row other = {};
                _cleanup_free_ char *other_id = NULL;
                if (pea_state_container_get_by_name(ctx->state, name, &other, NULL) >= 0)
                        other_id = xstrdup(other.id);
                pea_container_row_done(&other);
                return pea_error_set(err, EEXIST,
                                     "creating container storage: the container name \"%s\" is "
                                     "already in use by %s. You have to remove that container to "
                                     "be able to reuse that name: that name is already in use",
                                     name, other_id ? other_id : "another container");
        }
        return r;
}

/* The lower dirs, top-most first, after checking each layer's whiteout format. */
static int lower_dirs(const struct pea_container_ctx *ctx, const struct pea_image_record *img,
                      char ***ret, struct pea_error **err)
{
        const char *driver = pea_storage_driver_name(ctx->storage);
        _cleanup_strv_ char **dirs = NULL;
        for (size_t i = img->n_layers; i > 0; i--) {
                const struct pea_image_layer *l = &img->layers[i - 1];
                int r = pea_container_whiteout_check(driver, ctx->rootless, l->whiteout,
                                                     l->chain_id, err);
                if (r < 0)
                        return r;
                char *p = pea_image_store_layer_path(ctx->store, l->chain_id);
                if (!p)
                        return pea_error_set(err, EINVAL, "bad layer id '%s'", l->chain_id);
                strv_consume(&dirs, p);
        }
        *ret = TAKE_PTR(dirs);
        return 0;
}

static int write_file(const char *dir, const char *name, const char *text, struct pea_error **err)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        return pea_write_file_replace_at(AT_FDCWD, p, text, strlen(text), 0644, err);
}

static char *read_host(const char *path)
{
        char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, path, 1u << 20, &text, NULL, NULL) < 0)
                return NULL;
        return text;
}

static bool network_keeps_host(const char *network)
{
        return network && (streq(network, "none") || streq(network, "host"));
}

/* hosts, hostname, resolv.conf and .containerenv in the data dir; spec paths point there. */
static int write_data_files(const struct pea_container_ctx *ctx,
                            const struct pea_container_create_opts *o, const char *name,
                            const char *dir, struct pea_error **err)
{
        struct pea_spec_opts *s = o->spec;
        _cleanup_free_ char *short_id = xstrndup(s->id, 12);
        const char *hostname = s->hostname ? s->hostname : short_id;
        bool host_net = s->network && streq(s->network, "host");
        _cleanup_free_ char *host_hosts = host_net ? read_host("/etc/hosts") : NULL;
        _cleanup_free_ char *host_resolv = read_host("/etc/resolv.conf");
        _cleanup_free_ char *hosts = pea_container_hosts(host_hosts, hostname);
        _cleanup_free_ char *resolv =
                pea_container_resolv_conf(host_resolv, network_keeps_host(s->network));
        _cleanup_free_ char *hn = xasprintf("%s\n", hostname);
        _cleanup_free_ char *env =
                pea_container_env_file(name, s->id, o->image_name, o->image_id, ctx->rootless);
        int r = write_file(dir, "hosts", hosts, err);
        if (r >= 0)
                r = write_file(dir, "hostname", hn, err);
        if (r >= 0)
                r = write_file(dir, "resolv.conf", resolv, err);
        if (r >= 0)
                r = write_file(dir, ".containerenv", env, err);
        return r;
}

static json_t *strv_to_json(char **l)
{
        json_t *a = json_array();
        STRV_FOREACH(i, l)
                json_array_append_new(a, json_string(*i));
        return a;
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
        json_object_update(row.config, json_object_get(add, "set"));
        r = pea_state_container_update(st, &row, err);
        pea_container_row_done(&row);
        return r;
}

/* What inspect and ps show later: the process of the spec and the image's defaults. */
static int record_spec(const struct pea_container_ctx *ctx, const char *id, json_t *spec,
                       const struct pea_image_config *cfg, struct pea_error **err)
{
        json_t *proc = json_object_get(spec, "process");
        json_t *set = json_object();
        json_object_set(set, "args", json_object_get(proc, "args"));
        json_object_set(set, "env", json_object_get(proc, "env"));
        json_object_set(set, "cwd", json_object_get(proc, "cwd"));
        json_object_set(set, "terminal", json_object_get(proc, "terminal"));
        json_object_set(set, "hostname", json_object_get(spec, "hostname"));
        json_object_set_new(set, "user", json_string(cfg->user ? cfg->user : ""));
        json_object_set_new(set, "stop_signal",
                            json_string(cfg->stop_signal ? cfg->stop_signal : ""));
        json_object_set_new(set, "image_entrypoint", strv_to_json(cfg->entrypoint));
        json_object_set_new(set, "image_cmd", strv_to_json(cfg->cmd));
        json_t *hc = pea_json_path(cfg->json, "config.Healthcheck");
        if (cfg->healthcheck && hc)
                json_object_set(set, "image_healthcheck", hc);
        _cleanup_json_ json_t *add = json_pack("{s:s, s:o}", "id", id, "set", set);
        return pea_state_transaction(ctx->state, record_tx, add, err);
}

static int generate_spec(const struct pea_container_ctx *ctx,
                         const struct pea_container_create_opts *o, const char *rootfs,
                         const char *data_dir, const char *bundle, struct pea_error **err)
{
        struct pea_image_record img = {};
        _cleanup_image_config_ struct pea_image_config *cfg = NULL;
        int r = pea_image_store_get(ctx->store, o->image_id, &img, err);
        if (r >= 0)
                r = pea_image_config_parse(img.config, img.config_len, NULL, &cfg, err);
        pea_image_record_done(&img);
        if (r < 0)
                return r;
        _cleanup_free_ char *hosts = xasprintf("%s/hosts", data_dir);
        _cleanup_free_ char *hostname = xasprintf("%s/hostname", data_dir);
        _cleanup_free_ char *resolv = xasprintf("%s/resolv.conf", data_dir);
        _cleanup_free_ char *cenv = xasprintf("%s/.containerenv", data_dir);
        struct pea_spec_opts *s = o->spec;
        s->image = cfg;
        s->rootfs = rootfs;
        s->hosts_path = o->net && o->net->no_hosts ? NULL : hosts;
        s->hostname_path = hostname;
        s->resolv_path = resolv;
        s->containerenv_path = cenv;
        s->rootless = ctx->rootless;
        _cleanup_json_ json_t *spec = NULL;
        r = pea_spec_generate(s, &spec, err);
        s->image = NULL;
        s->hosts_path = s->hostname_path = s->resolv_path = s->containerenv_path = NULL;
        if (r >= 0)
                r = record_spec(ctx, o->spec->id, spec, cfg, err);
        if (r < 0)
                return r;
        return pea_spec_write(bundle, spec, err);
}

/* The spec with the resolved mounts (host paths only) in place of the user's -v and --tmpfs. */
static int generate_spec_mounts(const struct pea_container_ctx *ctx,
                                const struct pea_container_create_opts *o,
                                const struct pea_container_volumes *v, const char *rootfs,
                                const char *data_dir, const char *bundle, struct pea_error **err)
{
        struct pea_spec_opts *s = o->spec;
        char **volumes = s->volumes, **tmpfs = s->tmpfs;
        s->volumes = v->binds;
        s->tmpfs = v->tmpfs;
        int r = generate_spec(ctx, o, rootfs, data_dir, bundle, err);
        s->volumes = volumes;
        s->tmpfs = tmpfs;
        return r;
}

static int create_steps(const struct pea_container_ctx *ctx,
                        const struct pea_container_create_opts *o, const char *id, const char *name,
                        struct pea_container_volumes *vols, struct pea_error **err)
{
        struct pea_image_record img = {};
        _cleanup_strv_ char **lowers = NULL;
        int r = pea_image_store_get(ctx->store, o->image_id, &img, err);
        if (r >= 0)
                r = lower_dirs(ctx, &img, &lowers, err);
        pea_image_record_done(&img);
        if (r >= 0)
                r = pea_storage_create(ctx->storage, id, (const char *const *)lowers, err);
        if (r >= 0 && o->remove)
                r = pea_storage_set_volatile(ctx->storage, id, err);
        _cleanup_free_ char *data = pea_container_data_dir(ctx, id);
        _cleanup_free_ char *bundle = pea_container_bundle_dir(ctx, id);
        if (r >= 0)
                r = pea_mkdir_p(data, 0700, err);
        if (r >= 0)
                r = pea_mkdir_p(bundle, 0700, err);
        struct pea_container_net net = {};
        if (r >= 0)
                r = pea_container_net_prepare(ctx, o, id, &net, err);
        if (r >= 0)
                r = write_data_files(ctx, o, name, data, err);
        if (r >= 0)
                r = pea_container_net_write_files(&net, o, name, data, err);
        _cleanup_free_ char *rootfs = NULL;
        if (r >= 0)
                r = pea_storage_mount(ctx->storage, id, &rootfs, err);
        if (r >= 0)
                r = pea_container_volumes_prepare(ctx, o, rootfs, vols, err);
        if (r >= 0)
                r = generate_spec_mounts(ctx, o, vols, rootfs, data, bundle, err);
        if (r >= 0)
                r = pea_container_volumes_finish(ctx, id, vols, bundle, err);
        /* the bundle is on the runtime tmpfs: a copy survives a reboot */
        if (r >= 0)
                r = copy_spec(bundle, data, err);
        pea_container_net_done(&net);
        return r;
}

int pea_container_create(const struct pea_container_ctx *ctx,
                         const struct pea_container_create_opts *o, struct pea_container_row *ret,
                         struct pea_error **err)
{
        if (o->name && !pea_container_name_is_valid(o->name))
                return pea_error_set(err, EINVAL,
                                     "container name '%s' must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: "
                                     "invalid argument",
                                     o->name);
        _cleanup_free_ char *id = pea_generate_id();
        _cleanup_free_ char *name = o->name ? xstrdup(o->name) : NULL;
        int r = -EEXIST;
        /* a random name may be taken: try a few */
        for (int i = 0; r == -EEXIST && i < (o->name ? 1 : 8); i++) {
                if (!o->name) {
                        free(name);
                        name = pea_container_random_name();
                }
                pea_error_clear(err);
                r = add_row(ctx, o, id, name, err);
        }
        if (r < 0)
                return r;
        o->spec->id = id;
        struct pea_container_volumes vols = {};
        r = create_steps(ctx, o, id, name, &vols, err);
        if (r < 0) {
                /* undo everything; the first error is the one reported */
                (void)pea_container_remove(ctx, id, true, NULL);
                pea_container_volumes_undo(ctx, &vols);
        }
        pea_container_volumes_done(&vols);
        o->spec->id = NULL;
        if (r < 0)
                return r;
        if (ret)
                return pea_state_container_get_by_id(ctx->state, id, ret, err);
        return 0;
}
