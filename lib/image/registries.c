/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registries.conf (containers-registries.conf(5), v2 and the old v1 form) and
 * its drop-ins, with containers-image's (pkg/sysregistriesv2) semantics:
 * per file, [[registry]] prefixes default to the location and the first of
 * a prefix wins; drop-ins replace [[registry]] tables by prefix, replace
 * unqualified-search-registries and short-name-mode when they set them, and
 * merge [aliases] key by key ("" resets an alias).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "base.h"
#include "image-internal.h"
#include "image.h"

#define SYSTEM_REGISTRIES_CONF     "/etc/containers/registries.conf"
#define SYSTEM_REGISTRIES_CONF_DIR "/etc/containers/registries.conf.d"
#define MAX_DROP_INS               1024

static const char *const short_name_modes[_PEA_SHORT_NAME_MODE_MAX] = {
        [PEA_SHORT_NAME_PERMISSIVE] = "permissive",
        [PEA_SHORT_NAME_ENFORCING] = "enforcing",
        [PEA_SHORT_NAME_DISABLED] = "disabled",
};

static const char *const mirror_uses[_PEA_MIRROR_USE_MAX] = {
        [PEA_MIRROR_ALL] = "all",
        [PEA_MIRROR_DIGEST_ONLY] = "digest-only",
        [PEA_MIRROR_TAG_ONLY] = "tag-only",
};

const char *pea_short_name_mode_to_string(enum pea_short_name_mode m)
{
        if (m < 0 || m >= _PEA_SHORT_NAME_MODE_MAX)
                return NULL;
        return short_name_modes[m];
}

enum pea_short_name_mode pea_short_name_mode_from_string(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(short_name_modes); i++)
                if (streq(short_name_modes[i], s))
                        return (enum pea_short_name_mode)i;
        return _PEA_SHORT_NAME_MODE_INVALID;
}

static void registry_done(struct pea_registry *r)
{
        for (size_t i = 0; i < r->n_mirrors; i++)
                free(r->mirrors[i].location);
        free(r->mirrors);
        free(r->prefix);
        free(r->location);
        *r = (struct pea_registry){};
}

static void alias_done(struct pea_registry_alias *a)
{
        free(a->name);
        free(a->value);
        free(a->origin);
}

void pea_registries_done(struct pea_registries *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_registries; i++)
                registry_done(&c->registries[i]);
        free(c->registries);
        for (size_t i = 0; i < c->n_aliases; i++)
                alias_done(&c->aliases[i]);
        free(c->aliases);
        strv_free(c->search);
        strv_free(c->files);
        free(c->search_origin);
        free(c->config_path);
        *c = (struct pea_registries){};
}

static inline void registries_donep(struct pea_registries *c)
{
        pea_registries_done(c);
}

/* Trailing slashes go; URI schemes are refused. */
static int parse_location(const char *in, char **ret, struct pea_error **err)
{
        size_t n = strlen(in);

        while (n > 0 && in[n - 1] == '/')
                n--;
        if (startswith(in, "http://") || startswith(in, "https://"))
                return pea_error_set(err, EINVAL,
                                     "invalid location '%s': URI schemes are not supported", in);
        *ret = xstrndup(in, n);
        return 0;
}

static int location_member(json_t *t, const char *key, const char *path, char **ret,
                           struct pea_error **err)
{
        const char *s = NULL;
        int r = image_json_string(t, key, path, &s, err);

        if (r < 0)
                return r;
        return parse_location(s ? s : "", ret, err);
}

static int parse_mirror(json_t *t, const char *path, const struct pea_registry *reg,
                        struct pea_registry_mirror *m, struct pea_error **err)
{
        const char *use = NULL;
        int r = location_member(t, "location", path, &m->location, err);

        if (r >= 0)
                r = image_json_bool(t, "insecure", path, false, &m->insecure, err);
        if (r >= 0)
                r = image_json_string(t, "pull-from-mirror", path, &use, err);
        if (r < 0)
                return r;
        if (m->location[0] == '\0')
                return pea_error_set(err, EINVAL, "invalid condition: mirror location is unset");
        m->use = PEA_MIRROR_ALL;
        if (!use || use[0] == '\0')
                return 0;
        if (reg->mirror_by_digest_only)
                return pea_error_set(
                        err, EINVAL,
                        "cannot set mirror usage mirror-by-digest-only for the registry '%s' and pull-from-mirror for per-mirror '%s' at the same time",
                        reg->prefix, m->location);
        for (size_t i = 0; i < ELEMENTSOF(mirror_uses); i++)
                if (streq(mirror_uses[i], use))
                        m->use = (enum pea_mirror_use)i;
        if (!streq(mirror_uses[m->use], use))
                return pea_error_set(err, EINVAL,
                                     "unsupported pull-from-mirror value '%s' for mirror '%s'", use,
                                     m->location);
        return 0;
}

static int parse_mirrors(json_t *t, const char *path, struct pea_registry *reg,
                         struct pea_error **err)
{
        json_t *list = json_object_get(t, "mirror");
        size_t i;
        json_t *m;

        if (!list)
                return 0;
        if (!json_is_array(list))
                return pea_error_set(err, EBADMSG, "%s: 'mirror' must be an array of tables", path);
        reg->mirrors = xcalloc(json_array_size(list), sizeof(*reg->mirrors));
        json_array_foreach(list, i, m) {
                if (!json_is_object(m))
                        return pea_error_set(err, EBADMSG,
                                             "%s: 'mirror' must be an array of tables", path);
                reg->n_mirrors++;
                int r = parse_mirror(m, path, reg, &reg->mirrors[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_prefix(json_t *t, const char *path, struct pea_registry *reg,
                        struct pea_error **err)
{
        int r = location_member(t, "prefix", path, &reg->prefix, err);

        if (r < 0)
                return r;
        if (reg->prefix[0] == '\0') {
                if (reg->location[0] == '\0')
                        return pea_error_set(
                                err, EINVAL,
                                "invalid condition: both location and prefix are unset");
                free(reg->prefix);
                reg->prefix = xstrdup(reg->location);
        } else if (!startswith(reg->prefix, "*.") && reg->location[0] == '\0') {
                return pea_error_set(
                        err, EINVAL,
                        "invalid condition: location is unset and prefix is not in the format: *.example.com");
        }
        if (startswith(reg->prefix, "*.") && strpbrk(reg->prefix, "/@:"))
                return pea_error_set(
                        err, EINVAL,
                        "wildcarded prefix should be in the format: *.example.com, current prefix '%s' is incorrectly formatted",
                        reg->prefix);
        return 0;
}

static int parse_registry(json_t *t, const char *path, struct pea_registry *reg,
                          struct pea_error **err)
{
        const char *pfm = NULL;
        int r = location_member(t, "location", path, &reg->location, err);

        if (r >= 0)
                r = parse_prefix(t, path, reg, err);
        if (r >= 0)
                r = image_json_bool(t, "insecure", path, false, &reg->insecure, err);
        if (r >= 0)
                r = image_json_bool(t, "blocked", path, false, &reg->blocked, err);
        if (r >= 0)
                r = image_json_bool(t, "mirror-by-digest-only", path, false,
                                    &reg->mirror_by_digest_only, err);
        if (r >= 0)
                r = image_json_string(t, "pull-from-mirror", path, &pfm, err);
        if (r < 0)
                return r;
        if (pfm && pfm[0])
                return pea_error_set(
                        err, EINVAL,
                        "pull-from-mirror must not be set for a non-mirror registry '%s'",
                        reg->prefix);
        return parse_mirrors(t, path, reg, err);
}

/* A location may be listed in several tables, but not with different security settings. */
static int check_conflicts(const struct pea_registries *c, struct pea_error **err)
{
        for (size_t i = 0; i < c->n_registries; i++) {
                const struct pea_registry *a = &c->registries[i];
                const char *ka = a->location[0] ? a->location : a->prefix;
                for (size_t j = 0; j < i; j++) {
                        const struct pea_registry *b = &c->registries[j];
                        if (!streq(ka, b->location[0] ? b->location : b->prefix))
                                continue;
                        if (a->insecure != b->insecure)
                                return pea_error_set(
                                        err, EINVAL,
                                        "registry '%s' is defined multiple times with conflicting 'insecure' setting",
                                        a->location);
                        if (a->blocked != b->blocked)
                                return pea_error_set(
                                        err, EINVAL,
                                        "registry '%s' is defined multiple times with conflicting 'blocked' setting",
                                        a->location);
                }
        }
        return 0;
}

static int registry_cmp(const void *a, const void *b)
{
        return strcmp(((const struct pea_registry *)a)->prefix,
                      ((const struct pea_registry *)b)->prefix);
}

/* The first table of a prefix wins; then sorted by prefix, as containers-image does. */
static void dedupe_and_sort(struct pea_registries *c)
{
        size_t n = 0;

        for (size_t i = 0; i < c->n_registries; i++) {
                bool dup = false;
                for (size_t j = 0; j < n && !dup; j++)
                        dup = streq(c->registries[j].prefix, c->registries[i].prefix);
                if (dup)
                        registry_done(&c->registries[i]);
                else
                        c->registries[n++] = c->registries[i];
        }
        c->n_registries = n;
        if (n > 1)
                qsort(c->registries, n, sizeof(*c->registries), registry_cmp);
}

static int parse_registries(json_t *root, const char *path, struct pea_registries *c,
                            struct pea_error **err)
{
        json_t *list = json_object_get(root, "registry");
        size_t i;
        json_t *t;

        if (!list)
                return 0;
        if (!json_is_array(list))
                return pea_error_set(err, EBADMSG, "%s: 'registry' must be an array of tables",
                                     path);
        c->registries = xcalloc(json_array_size(list), sizeof(*c->registries));
        json_array_foreach(list, i, t) {
                if (!json_is_object(t))
                        return pea_error_set(err, EBADMSG,
                                             "%s: 'registry' must be an array of tables", path);
                c->n_registries++;
                int r = parse_registry(t, path, &c->registries[i], err);
                if (r < 0)
                        return r;
        }
        int r = check_conflicts(c, err);
        if (r < 0)
                return r;
        dedupe_and_sort(c);
        return 0;
}

/* The left-hand side of an alias: a repository without domain, tag or digest. */
static int check_alias_name(const char *name, struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref r = {};
        int k = pea_image_ref_parse(name, &r, err);

        if (k < 0)
                return image_error_wrap(k, err, "cannot parse short name '%s'", name);
        if (r.digest || r.tag || r.domain)
                return pea_error_set(err, EINVAL, "invalid short name '%s': must not contain %s",
                                     name,
                                     r.digest ? "digest"
                                     : r.tag  ? "tag"
                                              : "registry");
        return 0;
}

/* The right-hand side: a repository with a domain, no tag or digest; normalised. */
static int parse_alias_value(const char *value, char **ret, struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref r = {};
        int k = pea_image_ref_parse(value, &r, err);

        if (k < 0)
                return image_error_wrap(k, err, "parsing alias '%s'", value);
        if (r.digest || r.tag)
                return pea_error_set(err, EINVAL, "invalid alias '%s': must not contain %s", value,
                                     r.digest ? "digest" : "tag");
        if (!r.domain)
                return pea_error_set(err, EINVAL,
                                     "invalid alias '%s': must contain registry and repository",
                                     value);
        k = pea_image_ref_normalize(&r, NULL, err);
        if (k < 0)
                return k;
        *ret = pea_image_ref_name(&r);
        return 0;
}

static int parse_aliases(json_t *root, const char *path, struct pea_registries *c,
                         struct pea_error **err)
{
        json_t *obj = json_object_get(root, "aliases");
        const char *name;
        json_t *v;

        if (!obj)
                return 0;
        if (!json_is_object(obj))
                return pea_error_set(err, EBADMSG, "%s: 'aliases' must be a table", path);
        c->aliases = xcalloc(json_object_size(obj), sizeof(*c->aliases));
        json_object_foreach(obj, name, v) {
                struct pea_registry_alias *a = &c->aliases[c->n_aliases];
                if (!json_is_string(v))
                        return pea_error_set(err, EBADMSG, "%s: alias '%s' must be a string", path,
                                             name);
                int r = check_alias_name(name, err);
                if (r >= 0 && json_string_value(v)[0])
                        r = parse_alias_value(json_string_value(v), &a->value, err);
                if (r < 0)
                        return image_error_wrap(r, err, "validating short-name aliases");
                a->name = xstrdup(name);
                a->origin = xstrdup(path);
                c->n_aliases++;
        }
        return 0;
}

static int parse_search(json_t *root, const char *path, struct pea_registries *c,
                        struct pea_error **err)
{
        _cleanup_strv_ char **l = NULL;
        int r = image_json_strv(root, "unqualified-search-registries", path, &l, err);

        if (r < 0 || !l)
                return r;
        STRV_FOREACH(s, l) {
                char *loc = NULL;
                r = parse_location(*s, &loc, err);
                if (r < 0)
                        return r;
                free(*s);
                *s = loc;
                if (!image_domain_valid(*s, strlen(*s)))
                        return pea_error_set(err, EINVAL,
                                             "invalid unqualified-search-registries entry '%s'",
                                             *s);
        }
        c->search = TAKE_PTR(l);
        c->search_origin = xstrdup(path);
        return 0;
}

static void v1_add(struct pea_registries *c, const char *location, bool blocked)
{
        struct pea_registry *reg = NULL;

        for (size_t i = 0; i < c->n_registries && !reg; i++)
                if (streq(c->registries[i].location, location))
                        reg = &c->registries[i];
        if (!reg) {
                c->registries = xrealloc(c->registries, (c->n_registries + 1) * sizeof(*reg));
                reg = &c->registries[c->n_registries++];
                *reg = (struct pea_registry){.prefix = xstrdup(location),
                                             .location = xstrdup(location)};
        }
        if (blocked)
                reg->blocked = true;
        else
                reg->insecure = true;
}

/* The v1 form: [registries.search|insecure|block] registries = [...]. */
static int parse_v1(json_t *v1, const char *path, struct pea_registries *c, struct pea_error **err)
{
        static const char *const tables[] = {"search", "insecure", "block"};

        for (size_t i = 0; i < ELEMENTSOF(tables); i++) {
                _cleanup_strv_ char **l = NULL;
                json_t *t = json_object_get(v1, tables[i]);
                int r = t ? image_json_strv(t, "registries", path, &l, err) : 0;
                if (r < 0)
                        return r;
                STRV_FOREACH(s, l) {
                        _cleanup_free_ char *loc = NULL;
                        r = parse_location(*s, &loc, err);
                        if (r < 0)
                                return r;
                        if (i == 0)
                                strv_push(&c->search, loc);
                        else
                                v1_add(c, loc, i == 2);
                }
                if (i == 0 && l)
                        c->search_origin = xstrdup(path);
        }
        dedupe_and_sort(c);
        return 0;
}

static int parse_file(json_t *root, const char *path, bool drop_in, struct pea_registries *c,
                      struct pea_error **err)
{
        json_t *v1 = json_object_get(root, "registries");
        const char *mode = NULL;
        int r;

        c->short_name_mode = _PEA_SHORT_NAME_MODE_INVALID;
        if (v1 && json_is_object(v1)) {
                if (drop_in)
                        return pea_error_set(err, EINVAL,
                                             "registry must be in v2 format but is in v1");
                if (json_object_get(root, "registry")
                    || json_object_get(root, "unqualified-search-registries"))
                        return pea_error_set(err, EINVAL,
                                             "mixing sysregistry v1/v2 is not supported");
                return parse_v1(v1, path, c, err);
        }
        r = parse_registries(root, path, c, err);
        if (r >= 0)
                r = parse_search(root, path, c, err);
        if (r >= 0)
                r = image_json_string(root, "short-name-mode", path, &mode, err);
        if (r < 0)
                return r;
        if (mode && mode[0]) {
                c->short_name_mode = pea_short_name_mode_from_string(mode);
                if (c->short_name_mode < 0)
                        return pea_error_set(err, EINVAL, "invalid short-name mode: '%s'", mode);
        }
        return parse_aliases(root, path, c, err);
}

static int load_file(const char *path, bool drop_in, struct pea_registries *ret,
                     struct pea_error **err)
{
        _cleanup_(registries_donep) struct pea_registries c = {};
        _cleanup_json_ json_t *root = NULL;
        int r;

        pea_debug("loading registries configuration '%s'", path);
        r = pea_toml_parse_file(path, &root, err);
        if (r < 0)
                return r;
        r = parse_file(root, path, drop_in, &c, err);
        if (r < 0)
                return r;
        *ret = c;
        c = (struct pea_registries){};
        return 0;
}

static void merge_registries(struct pea_registries *dst, struct pea_registries *src)
{
        for (size_t i = 0; i < src->n_registries; i++) {
                struct pea_registry *s = &src->registries[i], *d = NULL;
                for (size_t j = 0; j < dst->n_registries && !d; j++)
                        if (streq(dst->registries[j].prefix, s->prefix))
                                d = &dst->registries[j];
                if (!d) {
                        dst->registries =
                                xrealloc(dst->registries, (dst->n_registries + 1) * sizeof(*d));
                        d = &dst->registries[dst->n_registries++];
                } else {
                        registry_done(d);
                }
                *d = *s;
                *s = (struct pea_registry){};
        }
        if (dst->n_registries > 1)
                qsort(dst->registries, dst->n_registries, sizeof(*dst->registries), registry_cmp);
}

static void merge_aliases(struct pea_registries *dst, struct pea_registries *src)
{
        for (size_t i = 0; i < src->n_aliases; i++) {
                struct pea_registry_alias *s = &src->aliases[i], *d = NULL;
                for (size_t j = 0; j < dst->n_aliases && !d; j++)
                        if (streq(dst->aliases[j].name, s->name))
                                d = &dst->aliases[j];
                if (!d) {
                        dst->aliases = xrealloc(dst->aliases, (dst->n_aliases + 1) * sizeof(*d));
                        d = &dst->aliases[dst->n_aliases++];
                } else {
                        alias_done(d);
                }
                *d = *s;
                *s = (struct pea_registry_alias){};
        }
}

/* What a drop-in sets replaces (registries by prefix, aliases by name). */
static void merge(struct pea_registries *dst, struct pea_registries *src)
{
        merge_registries(dst, src);
        merge_aliases(dst, src);
        if (src->search_origin) {
                strv_free(dst->search);
                dst->search = TAKE_PTR(src->search);
                free(dst->search_origin);
                dst->search_origin = TAKE_PTR(src->search_origin);
        }
        if (src->short_name_mode >= 0)
                dst->short_name_mode = src->short_name_mode;
}

static int strcmp_ptr(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(DIR *d, const struct dirent *de)
{
        struct stat st;

        if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
                return de->d_type == DT_DIR;
        return fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* The *.conf files of dir (not recursing), sorted; none when dir is missing. */
static int list_drop_ins(const char *dir, char ***ret, struct pea_error **err)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        _cleanup_strv_ char **l = NULL;
        struct dirent *de;

        if (!d) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return pea_error_syscall(err, errno, "reading registries.conf.d '%s'", dir);
        }
        while ((de = readdir(d))) {
                if (!endswith(de->d_name, ".conf") || is_dir(d, de))
                        continue;
                if (strv_length(l) >= MAX_DROP_INS)
                        return pea_error_set(err, E2BIG, "too many files in '%s'", dir);
                strv_consume(&l, xasprintf("%s/%s", dir, de->d_name));
        }
        if (l)
                qsort(l, strv_length(l), sizeof(char *), strcmp_ptr);
        *ret = TAKE_PTR(l);
        return 0;
}

static int load_drop_ins(struct pea_registries *c, const char *dir, struct pea_error **err)
{
        _cleanup_strv_ char **files = NULL;
        int r = list_drop_ins(dir, &files, err);

        if (r < 0)
                return r;
        STRV_FOREACH(f, files) {
                _cleanup_(registries_donep) struct pea_registries d = {};
                r = load_file(*f, true, &d, err);
                if (r == -ENOENT) {
                        /* Removed since the listing: containers-image ignores it too. */
                        pea_error_clear(err);
                        continue;
                }
                if (r < 0)
                        return image_error_wrap(
                                r, err, "loading drop-in registries configuration '%s'", *f);
                merge(c, &d);
                strv_push(&c->files, *f);
        }
        return 0;
}

static int load_all(const char *conf, bool optional, char *const *dirs, struct pea_registries *ret,
                    struct pea_error **err)
{
        _cleanup_(registries_donep) struct pea_registries c = {};
        int r;

        if (conf && !(optional && access(conf, F_OK) < 0 && errno == ENOENT)) {
                r = load_file(conf, false, &c, err);
                if (r < 0)
                        return image_error_wrap(r, err, "loading registries configuration '%s'",
                                                conf);
                strv_push(&c.files, conf);
        }
        if (!c.files)
                c.short_name_mode = _PEA_SHORT_NAME_MODE_INVALID;
        for (char *const *d = dirs; d && *d; d++) {
                r = load_drop_ins(&c, *d, err);
                if (r < 0)
                        return r;
        }
        if (c.short_name_mode < 0)
                c.short_name_mode = PEA_SHORT_NAME_PERMISSIVE;
        c.config_path = xstrdup(conf ? conf : SYSTEM_REGISTRIES_CONF);
        *ret = c;
        c = (struct pea_registries){};
        return 0;
}

int pea_registries_load_from(struct pea_registries *ret, const char *conf, char *const *dirs,
                             struct pea_error **err)
{
        return load_all(conf, false, dirs, ret, err);
}

static char *user_config_dir(void)
{
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

        if (xdg && xdg[0] == '/')
                return xasprintf("%s/containers", xdg);
        if (home && home[0] == '/')
                return xasprintf("%s/.config/containers", home);
        return NULL;
}

int pea_registries_load(struct pea_registries *ret, struct pea_error **err)
{
        _cleanup_free_ char *user = user_config_dir();
        _cleanup_free_ char *user_conf = user ? xasprintf("%s/registries.conf", user) : NULL;
        _cleanup_free_ char *user_dir = user ? xasprintf("%s/registries.conf.d", user) : NULL;
        const char *env = getenv("CONTAINERS_REGISTRIES_CONF");
        char *dirs[] = {(char *)SYSTEM_REGISTRIES_CONF_DIR, user_dir, NULL};

        if (env && env[0])
                return load_all(env, false, dirs, ret, err);
        if (user_conf && access(user_conf, F_OK) >= 0) {
                /* A user's registries.conf replaces the system's, drop-ins included. */
                char *user_dirs[] = {user_dir, NULL};
                return load_all(user_conf, false, user_dirs, ret, err);
        }
        return load_all(SYSTEM_REGISTRIES_CONF, true, dirs, ret, err);
}

/* Length of the match of prefix "*.example.com" in ref, or -1. */
static ssize_t match_wildcard(const char *ref, const char *prefix)
{
        const char *p = strstr(ref, prefix + 1);

        if (!p || memchr(ref, '/', p - ref))
                return -1;
        size_t n = (p - ref) + strlen(prefix + 1);
        if (ref[n] == '\0' || strchr(":/@", ref[n]))
                return (ssize_t)n;
        return -1;
}

static ssize_t match_prefix(const char *ref, const char *prefix)
{
        size_t n = strlen(prefix);

        if (startswith(prefix, "*."))
                return match_wildcard(ref, prefix);
        if (strncmp(ref, prefix, n) != 0)
                return -1;
        /* containers-image lets "example.com" match "example.com:5000/x"; so do we. */
        if (ref[n] == '\0' || strchr(":/@", ref[n]))
                return (ssize_t)n;
        return -1;
}

const struct pea_registry *pea_registries_find(const struct pea_registries *c, const char *ref)
{
        const struct pea_registry *best = NULL;

        for (size_t i = 0; i < c->n_registries; i++) {
                const struct pea_registry *r = &c->registries[i];
                if (match_prefix(ref, r->prefix) < 0)
                        continue;
                if (!best || strlen(r->prefix) > strlen(best->prefix))
                        best = r;
        }
        return best;
}

void pea_pull_sources_free(struct pea_pull_source *s, size_t n)
{
        for (size_t i = 0; s && i < n; i++) {
                free(s[i].ref);
                free(s[i].location);
        }
        free(s);
}

/* location + what follows the prefix in ref; must stay a canonical reference. */
static int rewrite(const char *ref, const char *prefix, const char *location, char **ret,
                   struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref r = {};
        ssize_t n = match_prefix(ref, prefix);
        int k;

        if (n < 0)
                return pea_error_set(err, EINVAL, "invalid prefix '%s' for reference '%s'", prefix,
                                     ref);
        _cleanup_free_ char *s = location[0] ? xasprintf("%s%s", location, ref + n) : xstrdup(ref);
        k = pea_image_ref_parse(s, &r, err);
        if (k < 0)
                return image_error_wrap(k, err, "rewriting reference '%s'", s);
        _cleanup_free_ char *before = pea_image_ref_name(&r);
        bool had_domain = r.domain != NULL;
        k = pea_image_ref_normalize(&r, NULL, NULL);
        _cleanup_free_ char *after = pea_image_ref_name(&r);
        if (!had_domain || k < 0 || !streq(before, after))
                return pea_error_set(err, EINVAL,
                                     "rewriting reference '%s': repository name must be canonical",
                                     s);
        *ret = TAKE_PTR(s);
        return 0;
}

static bool mirror_applies(const struct pea_registry *reg, const struct pea_registry_mirror *m,
                           bool digested)
{
        if (reg->mirror_by_digest_only)
                return digested;
        if (m->use == PEA_MIRROR_DIGEST_ONLY)
                return digested;
        if (m->use == PEA_MIRROR_TAG_ONLY)
                return !digested;
        return true;
}

static int add_source(struct pea_pull_source **l, size_t *n, const char *ref,
                      const struct pea_registry *reg, const char *location, bool insecure,
                      bool mirror, struct pea_error **err)
{
        _cleanup_free_ char *loc =
                location[0] ? xstrdup(location) : xstrndup(ref, strcspn(ref, "/"));
        char *s = NULL;
        int r = rewrite(ref, reg->prefix, location, &s, err);

        if (r < 0)
                return r;
        *l = xrealloc(*l, (*n + 1) * sizeof(**l));
        (*l)[(*n)++] = (struct pea_pull_source){
                .ref = s,
                .location = TAKE_PTR(loc),
                .insecure = insecure,
                .mirror = mirror,
        };
        return 0;
}

int pea_registries_pull_sources(const struct pea_registries *c, const struct pea_image_ref *ref,
                                struct pea_pull_source **ret, size_t *ret_n, struct pea_error **err)
{
        _cleanup_free_ char *s = pea_image_ref_string(ref);
        struct pea_pull_source *l = NULL;
        size_t n = 0;
        int r = 0;

        if (!ref->domain)
                return pea_error_set(err, EINVAL, "reference '%s' has no registry", s);
        const struct pea_registry *reg = pea_registries_find(c, s);
        struct pea_registry direct = {.prefix = ref->domain, .location = ref->domain};
        if (reg && reg->blocked)
                return pea_error_set(err, EACCES, "registry '%s' is blocked in '%s'",
                                     reg->location[0] ? reg->location : ref->domain,
                                     c->config_path);
        for (size_t i = 0; reg && i < reg->n_mirrors && r >= 0; i++)
                if (mirror_applies(reg, &reg->mirrors[i], ref->digest != NULL))
                        r = add_source(&l, &n, s, reg, reg->mirrors[i].location,
                                       reg->mirrors[i].insecure, true, err);
        if (r >= 0)
                r = add_source(&l, &n, s, reg ? reg : &direct, (reg ? reg : &direct)->location,
                               reg && reg->insecure, false, err);
        if (r < 0) {
                pea_pull_sources_free(l, n);
                return r;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

static const struct pea_registry_alias *find_alias(const struct pea_registries *c, const char *name)
{
        for (size_t i = 0; i < c->n_aliases; i++)
                if (streq(c->aliases[i].name, name))
                        return &c->aliases[i];
        return NULL;
}

/* The alias, with the input's tag and digest (or :latest). */
static int resolve_alias(const struct pea_registry_alias *a, const struct pea_image_ref *in,
                         char ***ret, struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref r = {};
        int k = pea_image_ref_parse(a->value, &r, err);

        if (k < 0)
                return k;
        r.tag = in->tag ? xstrdup(in->tag) : NULL;
        r.digest = in->digest ? xstrdup(in->digest) : NULL;
        k = pea_image_ref_normalize(&r, NULL, err);
        if (k < 0)
                return k;
        strv_consume(ret, pea_image_ref_string(&r));
        return 1;
}

static int resolve_search(const struct pea_registries *c, const char *name, char ***ret,
                          struct pea_error **err)
{
        _cleanup_strv_ char **l = NULL;

        if (!c->search || !c->search[0])
                return pea_error_set(
                        err, EINVAL,
                        "short-name \"%s\" did not resolve to an alias and no unqualified-search registries are defined in \"%s\"",
                        name, c->search_origin ? c->search_origin : c->config_path);
        STRV_FOREACH(reg, c->search) {
                _cleanup_image_ref_ struct pea_image_ref r = {};
                _cleanup_free_ char *full = xasprintf("%s/%s", *reg, name);
                int k = pea_image_ref_parse_normalized(full, &r, err);
                if (k < 0)
                        return image_error_wrap(
                                k, err, "creating reference with unqualified-search registry '%s'",
                                *reg);
                strv_consume(&l, pea_image_ref_string(&r));
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int pea_registries_resolve_short(const struct pea_registries *c, const char *name,
                                 char ***ret_candidates, struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref in = {};
        _cleanup_strv_ char **l = NULL;
        int k = pea_image_ref_parse(name, &in, err);

        if (k < 0)
                return k;
        if (in.domain) {
                k = pea_image_ref_normalize(&in, NULL, err);
                if (k < 0)
                        return k;
                strv_consume(&l, pea_image_ref_string(&in));
        } else {
                const struct pea_registry_alias *a = find_alias(c, in.path);
                if (a && a->value)
                        k = resolve_alias(a, &in, &l, err);
                else
                        k = resolve_search(c, name, &l, err);
                if (k < 0)
                        return k;
        }
        *ret_candidates = TAKE_PTR(l);
        return k;
}
