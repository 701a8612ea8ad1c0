/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/container: a container's volumes. -v NAME:/path (created on first use),
 * anonymous volumes (-v /path, --mount type=volume without source, the
 * image's VOLUME entries), --mount and --volumes-from are resolved to host
 * paths for the spec generator; new volumes get the image's content at their
 * path (copy-up) and are linked to the container in the state store.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base.h"
#include "container/container.h"
#include "image/image.h"
#include "image/store.h"
#include "runtime/specgen.h"
#include "state/state.h"
#include "volume/volume.h"

/* Caps on what the user controls. */
#define MAX_MOUNTS 4096

enum vol_kind {
        VOL_BIND,   /* source is a host path */
        VOL_VOLUME, /* source is a volume name, NULL: anonymous */
};

/* One mount before resolution; options use -v's syntax. */
struct vol_entry {
        enum vol_kind kind;
        char *source;
        char *dest;
        char **options;
};

static void vol_entry_done(struct vol_entry *e)
{
        free(e->source);
        free(e->dest);
        strv_free(e->options);
        *e = (struct vol_entry){0};
}

/* Every mount of a container, user's first (they win over volumes-from and the image). */
struct vol_list {
        struct vol_entry *v;
        size_t n;
        char **tmpfs_dests; /* --tmpfs and --mount type=tmpfs destinations */
};

static void vol_list_done(struct vol_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                vol_entry_done(&l->v[i]);
        free(l->v);
        strv_free(l->tmpfs_dests);
        *l = (struct vol_list){0};
}

static bool vol_list_has_dest(const struct vol_list *l, const char *dest)
{
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->v[i].dest, dest))
                        return true;
        return strv_contains(l->tmpfs_dests, dest);
}

static int vol_list_add(struct vol_list *l, struct vol_entry *e, struct pea_error **err)
{
        if (l->n >= MAX_MOUNTS) {
                vol_entry_done(e);
                return pea_error_set(err, E2BIG, "too many mounts (at most %d)", MAX_MOUNTS);
        }
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        l->v[l->n++] = *e;
        *e = (struct vol_entry){0};
        return 0;
}

static void entry_from_spec(struct pea_spec_volume *sv, struct vol_entry *ret)
{
        *ret = (struct vol_entry){
                .kind = sv->named || !sv->source ? VOL_VOLUME : VOL_BIND,
                .source = TAKE_PTR(sv->source),
                .dest = TAKE_PTR(sv->dest),
                .options = TAKE_PTR(sv->options),
        };
        pea_spec_volume_done(sv);
}

/* A user mount (-v or --mount): a destination given twice is an error. */
static int add_user_entry(struct vol_list *l, struct vol_entry *e, struct pea_error **err)
{
        if (vol_list_has_dest(l, e->dest)) {
                int r = pea_error_set(err, EINVAL, "'%s': duplicate mount destination", e->dest);
                vol_entry_done(e);
                return r;
        }
        return vol_list_add(l, e, err);
}

static int add_tmpfs_dest(struct vol_list *l, const char *arg, struct pea_error **err)
{
        _cleanup_free_ char *d = xstrndup(arg, strcspn(arg, ":"));
        struct pea_spec_volume sv = {0};
        int r = pea_spec_parse_volume(d, &sv, err);
        if (r < 0)
                return r;
        if (vol_list_has_dest(l, sv.dest))
                r = pea_error_set(err, EINVAL, "'%s': duplicate mount destination", sv.dest);
        else
                strv_push(&l->tmpfs_dests, sv.dest);
        pea_spec_volume_done(&sv);
        return r;
}

/* -v, --mount and --tmpfs; *tmpfs gets --tmpfs plus --mount type=tmpfs. */
static int collect_user(const struct pea_container_create_opts *o, struct vol_list *l,
                        char ***tmpfs, struct pea_error **err)
{
        int r = 0;
        STRV_FOREACH(t, o->spec->tmpfs) {
                r = add_tmpfs_dest(l, *t, err);
                if (r < 0)
                        return r;
                strv_push(tmpfs, *t);
        }
        STRV_FOREACH(m, o->mounts) {
                struct pea_spec_volume sv = {0};
                _cleanup_free_ char *t = NULL;
                r = pea_container_parse_mount(*m, &sv, &t, err);
                if (r >= 0 && t)
                        r = add_tmpfs_dest(l, t, err);
                if (r < 0)
                        return r;
                if (t) {
                        strv_consume(tmpfs, TAKE_PTR(t));
                        continue;
                }
                struct vol_entry e;
                entry_from_spec(&sv, &e);
                r = add_user_entry(l, &e, err);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(v, o->spec->volumes) {
                struct pea_spec_volume sv = {0};
                r = pea_spec_parse_volume(*v, &sv, err);
                if (r < 0)
                        return r;
                struct vol_entry e;
                entry_from_spec(&sv, &e);
                r = add_user_entry(l, &e, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- --mount ------------------------------------------------------------------------------- */

#define MOUNT_FORMAT                                 \
        "incorrect mount format: should be --mount " \
        "type=<bind|tmpfs|volume>,[src=<host-dir|volume-name>,]target=<ctr-dir>[,options]"

enum { M_BIND = 1, M_VOLUME = 2, M_TMPFS = 4, M_ALL = 7 };

struct mount_args {
        unsigned type;
        char *src, *dst;
        char **opts; /* -v / --tmpfs syntax */
};

static int bool_value(const char *key, const char *val, bool *ret, struct pea_error **err)
{
        if (!val || streq(val, "true") || streq(val, "1"))
                *ret = true;
        else if (streq(val, "false") || streq(val, "0"))
                *ret = false;
        else
                return pea_error_set(err, EINVAL, "%s=%s: invalid mount option", key, val);
        return 0;
}

enum mount_key_kind {
        MK_FLAG,   /* the key itself, no value */
        MK_FIXED,  /* opt, no value */
        MK_VALUE,  /* opt followed by the value */
        MK_IGNORE, /* accepted, no effect (value optional) */
};

static const struct {
        const char *key;
        unsigned types;
        enum mount_key_kind kind;
        const char *opt;
} mount_keys[] = {
        {"bind-propagation", M_BIND, MK_VALUE, ""},
        {"bind-nonrecursive", M_BIND, MK_FIXED, "bind"},
        {"volume-nocopy", M_VOLUME, MK_FIXED, "nocopy"},
        {"nocopy", M_VOLUME, MK_FIXED, "nocopy"},
        {"tmpfs-size", M_TMPFS, MK_VALUE, "size="},
        {"size", M_TMPFS, MK_VALUE, "size="},
        {"tmpfs-mode", M_TMPFS, MK_VALUE, "mode="},
        {"mode", M_TMPFS, MK_VALUE, "mode="},
        {"tmpcopyup", M_TMPFS, MK_FLAG, NULL},
        {"notmpcopyup", M_TMPFS, MK_FLAG, NULL},
        {"exec", M_ALL, MK_FLAG, NULL},
        {"noexec", M_ALL, MK_FLAG, NULL},
        {"suid", M_ALL, MK_FLAG, NULL},
        {"nosuid", M_ALL, MK_FLAG, NULL},
        {"dev", M_ALL, MK_FLAG, NULL},
        {"nodev", M_ALL, MK_FLAG, NULL},
        {"consistency", M_ALL, MK_IGNORE, NULL},
        {"volume-label", M_VOLUME, MK_IGNORE, NULL},
};

static int mount_key(struct mount_args *a, const char *key, const char *val, struct pea_error **err)
{
        for (size_t i = 0; i < ELEMENTSOF(mount_keys); i++) {
                if (!streq(key, mount_keys[i].key) || !(mount_keys[i].types & a->type))
                        continue;
                enum mount_key_kind k = mount_keys[i].kind;
                if (k != MK_IGNORE && (k == MK_VALUE) != (val != NULL))
                        return pea_error_set(err, EINVAL, "%s: invalid mount option", key);
                if (k == MK_FLAG)
                        strv_push(&a->opts, key);
                else if (k == MK_FIXED)
                        strv_push(&a->opts, mount_keys[i].opt);
                else if (k == MK_VALUE)
                        strv_consume(&a->opts, xasprintf("%s%s", mount_keys[i].opt, val));
                return 0;
        }
        return pea_error_set(err, EINVAL, "%s: invalid mount option", key);
}

static int mount_opt(struct mount_args *a, const char *key, const char *val, struct pea_error **err)
{
        bool b = false;
        int r = 0;
        if (streq(key, "src") || streq(key, "source")) {
                if (a->type == M_TMPFS)
                        return pea_error_set(err, EINVAL,
                                             "source is not supported with tmpfs mounts");
                free(a->src);
                a->src = xstrdup(val ? val : "");
        } else if (streq(key, "dst") || streq(key, "destination") || streq(key, "target")) {
                free(a->dst);
                a->dst = xstrdup(val ? val : "");
        } else if (streq(key, "ro") || streq(key, "readonly") || streq(key, "rw")) {
                r = bool_value(key, val, &b, err);
                if (r >= 0)
                        strv_push(&a->opts, b == !streq(key, "rw") ? "ro" : "rw");
        } else if (streq(key, "U") || streq(key, "chown")) {
                r = bool_value(key, val, &b, err);
                if (r >= 0 && b)
                        strv_push(&a->opts, "U");
        } else if (streq(key, "relabel") && a->type != M_TMPFS) {
                if (!streq_ptr(val, "shared") && !streq_ptr(val, "private"))
                        return pea_error_set(err, EINVAL, "%s: invalid mount option", key);
                strv_push(&a->opts, streq(val, "shared") ? "z" : "Z");
        } else if (streq(key, "volume-opt") || streq(key, "idmap") || streq(key, "volume-driver")) {
                return pea_error_set(err, ENOTSUP, "--mount option '%s' is not supported yet", key);
        } else {
                r = mount_key(a, key, val, err);
        }
        return r;
}

static int mount_type(char *const *parts, unsigned *ret, struct pea_error **err)
{
        const char *type = NULL;
        STRV_FOREACH(p, (char **)parts) {
                const char *t = startswith(*p, "type=");
                if (t && type)
                        return pea_error_set(err, EINVAL, "cannot set mount type more than once");
                if (t)
                        type = t;
        }
        if (!type)
                return pea_error_set(err, EINVAL, MOUNT_FORMAT);
        if (streq(type, "image"))
                return pea_error_set(err, ENOTSUP, "--mount type=image is not supported yet");
        *ret = streq(type, "bind")     ? M_BIND
               : streq(type, "volume") ? M_VOLUME
               : streq(type, "tmpfs")  ? M_TMPFS
                                       : 0;
        if (!*ret)
                return pea_error_set(err, EINVAL, "invalid filesystem type \"%s\"", type);
        return 0;
}

static int mount_args_parse(const char *arg, struct mount_args *a, struct pea_error **err)
{
        _cleanup_strv_ char **parts = strv_split(arg, ",");
        int r = mount_type(parts, &a->type, err);
        STRV_FOREACH(p, parts) {
                if (r < 0)
                        return r;
                if (startswith(*p, "type="))
                        continue;
                char *eq = strchr(*p, '=');
                if (eq)
                        *eq++ = '\0';
                r = mount_opt(a, *p, eq, err);
        }
        if (r < 0)
                return r;
        if (!a->dst || !*a->dst)
                return pea_error_set(err, EINVAL, "must set volume destination");
        if (a->type == M_BIND && (!a->src || !*a->src))
                return pea_error_set(err, EINVAL, "must set source for bind mounts");
        if (a->src && strchr(a->src, ':'))
                return pea_error_set(err, EINVAL, "invalid mount source '%s'", a->src);
        if (a->type == M_VOLUME && a->src && !pea_volume_name_is_valid(a->src))
                return pea_error_set(err, EINVAL,
                                     "creating named volume \"%s\": names must match "
                                     "[a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument",
                                     a->src);
        return 0;
}

static int mount_to_volume(struct mount_args *a, struct pea_spec_volume *ret,
                           struct pea_error **err)
{
        _cleanup_free_ char *v = a->src ? xasprintf("%s:%s", a->src, a->dst) : xstrdup(a->dst);
        struct pea_spec_volume sv = {0};
        int r = pea_spec_parse_volume(v, &sv, err);
        if (r < 0)
                return r;
        if (a->type == M_BIND && sv.named) {
                pea_spec_volume_done(&sv);
                return pea_error_set(err, EINVAL, "invalid bind source '%s', must be a path",
                                     a->src);
        }
        sv.options = TAKE_PTR(a->opts);
        sv.chown = strv_contains(sv.options, "U");
        *ret = sv;
        return 0;
}

int pea_container_parse_mount(const char *arg, struct pea_spec_volume *ret_volume, char **ret_tmpfs,
                              struct pea_error **err)
{
        struct mount_args a = {0};
        int r = mount_args_parse(arg, &a, err);
        if (r >= 0 && a.type == M_TMPFS && a.dst[0] != '/')
                r = pea_error_set(err, EINVAL,
                                  "invalid container path \"%s\", must be an absolute path", a.dst);
        if (r >= 0 && a.type == M_TMPFS) {
                _cleanup_free_ char *o = a.opts ? strv_join(a.opts, ",") : NULL;
                *ret_tmpfs = o && *o ? xasprintf("%s:%s", a.dst, o) : xstrdup(a.dst);
        } else if (r >= 0) {
                r = mount_to_volume(&a, ret_volume, err);
                *ret_tmpfs = NULL;
        }
        free(a.src);
        free(a.dst);
        strv_free(a.opts);
        return r;
}

/* ---- --volumes-from -------------------------------------------------------------------------- */

/* "CTR[:ro|rw|z]" -> the container and the access mode ("" keeps the original's). */
static int split_volumes_from(const char *arg, char **ret_ctr, const char **ret_mode,
                              struct pea_error **err)
{
        const char *colon = strchr(arg, ':');
        const char *mode = colon ? colon + 1 : "";
        _cleanup_strv_ char **opts = strv_split(mode, ",");
        const char *rw = "";
        STRV_FOREACH(x, opts) {
                if (streq(*x, "ro") || streq(*x, "rw"))
                        rw = streq(*x, "ro") ? "ro" : "rw";
                else if (!streq(*x, "z"))
                        return pea_error_set(err, EINVAL,
                                             "invalid option \"%s\" specified - volumes from "
                                             "another container can only use z,ro,rw options",
                                             *x);
        }
        if (colon == arg)
                return pea_error_set(err, EINVAL, "invalid --volumes-from '%s'", arg);
        *ret_ctr = colon ? xstrndup(arg, (size_t)(colon - arg)) : xstrdup(arg);
        *ret_mode = rw;
        return 0;
}

/* One entry of another container's recorded Mounts, with mode "ro", "rw" or "" (as it was). */
static int entry_from_mount(json_t *m, const char *mode, struct vol_entry *ret)
{
        const char *type = json_string_value(json_object_get(m, "Type"));
        bool volume = streq_ptr(type, "volume");
        const char *src = json_string_value(json_object_get(m, volume ? "Name" : "Source"));
        const char *dest = json_string_value(json_object_get(m, "Destination"));
        if (!type || !src || !dest || (!volume && !streq(type, "bind")))
                return 0;
        bool ro = *mode ? streq(mode, "ro") : json_is_false(json_object_get(m, "RW"));
        *ret = (struct vol_entry){
                .kind = volume ? VOL_VOLUME : VOL_BIND,
                .source = xstrdup(src),
                .dest = xstrdup(dest),
        };
        if (ro)
                strv_push(&ret->options, "ro");
        if (volume)
                strv_push(&ret->options, "nocopy");
        return 1;
}

static int collect_volumes_from(const struct pea_container_ctx *ctx,
                                const struct pea_container_create_opts *o, struct vol_list *l,
                                struct pea_error **err)
{
        STRV_FOREACH(a, o->volumes_from) {
                _cleanup_free_ char *ctr = NULL;
                const char *mode = NULL;
                struct pea_container_row row = {};
                int r = split_volumes_from(*a, &ctr, &mode, err);
                if (r >= 0 && (r = pea_state_container_lookup(ctx->state, ctr, &row, err)) < 0)
                        return pea_error_wrap(err, "looking up container \"%s\" for volumes-from",
                                              ctr);
                if (r < 0)
                        return r;
                size_t i;
                json_t *m;
                json_array_foreach(json_object_get(row.config, "mounts"), i, m) {
                        struct vol_entry e = {0};
                        if (entry_from_mount(m, mode, &e) <= 0)
                                continue;
                        if (vol_list_has_dest(l, e.dest))
                                vol_entry_done(&e);
                        else if ((r = vol_list_add(l, &e, err)) < 0)
                                break;
                }
                pea_container_row_done(&row);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The image's VOLUME entries not mounted otherwise: anonymous volumes. */
static int collect_image(const struct pea_container_ctx *ctx, const char *image_id,
                         struct vol_list *l, struct pea_error **err)
{
        struct pea_image_record img = {};
        _cleanup_image_config_ struct pea_image_config *cfg = NULL;
        int r = pea_image_store_get(ctx->store, image_id, &img, err);
        if (r >= 0)
                r = pea_image_config_parse(img.config, img.config_len, NULL, &cfg, err);
        pea_image_record_done(&img);
        if (r < 0)
                return r;
        STRV_FOREACH(v, cfg->volumes) {
                struct pea_spec_volume sv = {0};
                if ((*v)[0] != '/' || strchr(*v, ':'))
                        continue; /* podman ignores what it cannot mount */
                r = pea_spec_parse_volume(*v, &sv, err);
                if (r < 0)
                        return pea_error_wrap(err, "image volume '%s'", *v);
                struct vol_entry e;
                entry_from_spec(&sv, &e);
                if (vol_list_has_dest(l, e.dest))
                        vol_entry_done(&e);
                else if ((r = vol_list_add(l, &e, err)) < 0)
                        return r;
        }
        return 0;
}

/* ---- resolution ------------------------------------------------------------------------------ */

static const char *const propagations[] = {
        "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
};

static bool is_propagation(const char *o)
{
        for (size_t i = 0; i < ELEMENTSOF(propagations); i++)
                if (streq(o, propagations[i]))
                        return true;
        return false;
}

/* podman's inspect Mounts entry. */
static json_t *mount_json(const struct vol_entry *e, const char *name, const char *source)
{
        json_t *opts = json_array();
        const char *prop = "rprivate", *mode = "";
        bool rw = true, bind = false;
        if (name && !strv_contains(e->options, "suid"))
                json_array_append_new(opts, json_string("nosuid"));
        if (name && !strv_contains(e->options, "dev"))
                json_array_append_new(opts, json_string("nodev"));
        STRV_FOREACH(o, e->options) {
                if (streq(*o, "ro") || streq(*o, "rw"))
                        rw = streq(*o, "rw");
                else if (is_propagation(*o))
                        prop = *o;
                else if (streq(*o, "z") || streq(*o, "Z"))
                        mode = *o;
                else if (!streq(*o, "U") && !streq(*o, "copy") && !streq(*o, "nocopy"))
                        json_array_append_new(opts, json_string(*o));
                bind = bind || streq(*o, "bind") || streq(*o, "rbind");
        }
        if (!bind)
                json_array_append_new(opts, json_string("rbind"));
        json_t *m = json_pack("{s:s}", "Type", name ? "volume" : "bind");
        if (name)
                json_object_set_new(m, "Name", json_string(name));
        json_object_set_new(m, "Source", json_string(source));
        json_object_set_new(m, "Destination", json_string(e->dest));
        json_object_set_new(m, "Driver", json_string(name ? "local" : ""));
        json_object_set_new(m, "Mode", json_string(mode));
        json_object_set_new(m, "Options", opts);
        json_object_set_new(m, "RW", json_boolean(rw));
        json_object_set_new(m, "Propagation", json_string(prop));
        return m;
}

static void push_bind(struct pea_container_volumes *v, const struct vol_entry *e,
                      const char *source)
{
        _cleanup_free_ char *opts = e->options ? strv_join(e->options, ",") : NULL;
        if (opts && *opts)
                strv_consume(&v->binds, xasprintf("%s:%s:%s", source, e->dest, opts));
        else
                strv_consume(&v->binds, xasprintf("%s:%s", source, e->dest));
        if (strv_contains(e->options, "U"))
                strv_push(&v->chown, source);
}

/* The volume of e: looked up, or created (then remembered for the undo). */
static int get_volume(const struct pea_container_ctx *ctx, struct pea_container_volumes *v,
                      const struct vol_entry *e, struct pea_volume **ret, struct pea_error **err)
{
        bool created = true;
        int r = 0;
        if (e->source)
                r = pea_volume_lookup_or_create(ctx->state, ctx->graph_root, e->source, ret,
                                                &created, err);
        else
                r = pea_volume_create_anonymous(ctx->state, ctx->graph_root, ret, err);
        if (r < 0)
                return r;
        if (created)
                strv_push(&v->created, (*ret)->row.name);
        if (!strv_contains(v->names, (*ret)->row.name))
                strv_push(&v->names, (*ret)->row.name);
        return 0;
}

static int resolve_volume(const struct pea_container_ctx *ctx, struct pea_container_volumes *v,
                          const struct vol_entry *e, int root_fd, struct pea_error **err)
{
        _cleanup_volume_ struct pea_volume *vol = NULL;
        int r = get_volume(ctx, v, e, &vol, err);
        if (r < 0)
                return r;
        if (!strv_contains(e->options, "nocopy")) {
                r = pea_volume_copy_up_at(vol, ctx->state, root_fd, e->dest, err);
                if (r < 0)
                        return r;
        }
        if (pea_volume_needs_mount(vol) && !strv_contains(v->mounted, vol->row.name)) {
                r = pea_volume_mount(vol, ctx->state, err);
                if (r < 0)
                        return r;
                strv_push(&v->mounted, vol->row.name);
        }
        push_bind(v, e, vol->row.mountpoint);
        json_array_append_new(v->mounts, mount_json(e, vol->row.name, vol->row.mountpoint));
        return 0;
}

static int resolve_all(const struct pea_container_ctx *ctx, const struct vol_list *l,
                       const char *rootfs, struct pea_container_volumes *v, struct pea_error **err)
{
        _cleanup_close_ int root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", rootfs);
        /* volumes first, then binds, as podman lists them */
        for (size_t i = 0; i < l->n; i++) {
                const struct vol_entry *e = &l->v[i];
                int r = e->kind == VOL_VOLUME ? resolve_volume(ctx, v, e, root_fd, err) : 0;
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < l->n; i++) {
                const struct vol_entry *e = &l->v[i];
                if (e->kind != VOL_BIND)
                        continue;
                push_bind(v, e, e->source);
                json_array_append_new(v->mounts, mount_json(e, NULL, e->source));
        }
        return 0;
}

int pea_container_volumes_prepare(const struct pea_container_ctx *ctx,
                                  const struct pea_container_create_opts *o, const char *rootfs,
                                  struct pea_container_volumes *v, struct pea_error **err)
{
        struct vol_list l = {0};
        v->rootfs = xstrdup(rootfs);
        v->mounts = json_array();
        v->binds = xcalloc(1, sizeof(char *));
        v->tmpfs = xcalloc(1, sizeof(char *));
        v->names = xcalloc(1, sizeof(char *));
        int r = collect_user(o, &l, &v->tmpfs, err);
        if (r >= 0)
                r = collect_volumes_from(ctx, o, &l, err);
        if (r >= 0)
                r = collect_image(ctx, o->image_id, &l, err);
        if (r >= 0)
                r = resolve_all(ctx, &l, rootfs, v, err);
        vol_list_done(&l);
        if (r >= 0 && v->names[0])
                r = pea_state_container_set_volumes(ctx->state, o->spec->id, v->names, err);
        return r;
}

/* ---- after the spec -------------------------------------------------------------------------- */

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
        json_object_set(row.config, "mounts", json_object_get(add, "mounts"));
        r = pea_state_container_update(st, &row, err);
        pea_container_row_done(&row);
        return r;
}

/* New volumes go to the container's user (the image's directory decides, when it has one). */
static int fix_permissions(const struct pea_container_ctx *ctx,
                           const struct pea_container_volumes *v, uid_t uid, gid_t gid,
                           struct pea_error **err)
{
        _cleanup_close_ int root_fd = open(v->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", v->rootfs);
        size_t i;
        json_t *m;
        json_array_foreach(v->mounts, i, m) {
                const char *name = json_string_value(json_object_get(m, "Name"));
                const char *dest = json_string_value(json_object_get(m, "Destination"));
                _cleanup_volume_ struct pea_volume *vol = NULL;
                if (!name || !dest)
                        continue;
                int r = pea_volume_lookup(ctx->state, name, &vol, err);
                if (r >= 0)
                        r = pea_volume_fix_permissions(vol, ctx->state, root_fd, dest, uid, gid,
                                                       err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* First-use owners of new volumes, then `:U`: to the user of the spec's process. */
static int chown_sources(const struct pea_container_ctx *ctx, const struct pea_container_volumes *v,
                         const char *bundle, struct pea_error **err)
{
        _cleanup_json_ json_t *spec = NULL;
        int r = pea_spec_read(bundle, &spec, err);
        if (r < 0)
                return r;
        json_t *user = json_object_get(json_object_get(spec, "process"), "user");
        uid_t uid = (uid_t)json_integer_value(json_object_get(user, "uid"));
        gid_t gid = (gid_t)json_integer_value(json_object_get(user, "gid"));
        r = v->rootfs ? fix_permissions(ctx, v, uid, gid, err) : 0;
        if (r < 0)
                return r;
        STRV_FOREACH(p, v->chown) {
                r = pea_volume_chown_path(*p, uid, gid, err);
                if (r < 0)
                        return pea_error_wrap(err, "chowning '%s' to %u:%u (U)", *p, (unsigned)uid,
                                              (unsigned)gid);
        }
        return 0;
}

int pea_container_volumes_finish(const struct pea_container_ctx *ctx, const char *id,
                                 const struct pea_container_volumes *v, const char *bundle,
                                 struct pea_error **err)
{
        int r = chown_sources(ctx, v, bundle, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *add = json_pack("{s:s, s:O}", "id", id, "mounts", v->mounts);
        return pea_state_transaction(ctx->state, record_tx, add, err);
}

static void umount_names(const struct pea_container_ctx *ctx, char *const *names)
{
        STRV_FOREACH(n, (char **)names) {
                _cleanup_volume_ struct pea_volume *vol = NULL;
                if (pea_volume_lookup(ctx->state, *n, &vol, NULL) >= 0)
                        (void)pea_volume_umount(vol, ctx->state, NULL);
        }
}

void pea_container_volumes_undo(const struct pea_container_ctx *ctx,
                                struct pea_container_volumes *v)
{
        umount_names(ctx, v->mounted);
        v->mounted = strv_free(v->mounted);
        STRV_FOREACH(n, v->created) {
                /* not forced: one another container took meanwhile stays */
                (void)pea_volume_remove(ctx->state, *n, NULL, NULL);
        }
        v->created = strv_free(v->created);
}

void pea_container_volumes_done(struct pea_container_volumes *v)
{
        strv_free(v->binds);
        strv_free(v->tmpfs);
        strv_free(v->names);
        strv_free(v->created);
        strv_free(v->mounted);
        strv_free(v->chown);
        free(v->rootfs);
        json_decref(v->mounts);
        *v = (struct pea_container_volumes){0};
}

int pea_container_remove_with_volumes(const struct pea_container_ctx *ctx, const char *id,
                                      bool force, bool anonymous, struct pea_error **err)
{
        _cleanup_strv_ char **names = NULL;
        int r = pea_state_container_get_volumes(ctx->state, id, &names, err);
        if (r < 0)
                return r;
        r = pea_container_remove(ctx, id, force, err);
        if (r < 0)
                return r;
        umount_names(ctx, names);
        if (!anonymous)
                return 0;
        return pea_volume_remove_anonymous(ctx->state, names, NULL, err);
}
