/* SPDX-License-Identifier: Apache-2.0 */
/* Volumes: options and labels, filters, list, prune, inspect JSON. */
#include "config.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "state/state.h"
#include "volume-internal.h"

/* The options of podman's local driver. */
static const char *const local_opts[] = {"type", "device", "o",      "uid",
                                         "gid",  "copy",   "nocopy", "noquota"};

static bool is_local_opt(const char *key)
{
        for (size_t i = 0; i < ELEMENTSOF(local_opts); i++)
                if (streq(local_opts[i], key))
                        return true;
        return false;
}

static int check_option(const char *key, const char *value, struct pea_error **err)
{
        unsigned id = 0;
        if (streq(key, "size") || streq(key, "inodes"))
                return pea_error_set(err, ENOTSUP,
                                     "volume options size and inodes not supported. Filesystem "
                                     "does not support Project Quota");
        if (!is_local_opt(key))
                return pea_error_set(err, EINVAL,
                                     "invalid mount option %s for driver 'local': invalid argument",
                                     key);
        if ((streq(key, "uid") || streq(key, "gid")) && safe_atou32(value, &id) < 0)
                return pea_error_set(err, EINVAL, "cannot convert %s %s to integer",
                                     streq(key, "uid") ? "UID" : "GID", value);
        return 0;
}

static int parse_kv(char *const *list, bool options, json_t **ret, struct pea_error **err)
{
        _cleanup_json_ json_t *obj = json_object();
        STRV_FOREACH(kv, (char **)list) {
                const char *eq = strchr(*kv, '=');
                _cleanup_free_ char *key = eq ? xstrndup(*kv, (size_t)(eq - *kv)) : xstrdup(*kv);
                const char *value = eq ? eq + 1 : "";
                if (!key[0])
                        return pea_error_set(err, EINVAL, "invalid %s \"%s\": empty key",
                                             options ? "option" : "label", *kv);
                if (options) {
                        int r = check_option(key, value, err);
                        if (r < 0)
                                return r;
                }
                (void)json_object_set_new(obj, key, json_string(value));
        }
        *ret = TAKE_PTR(obj);
        return 0;
}

int volume_parse_options(char *const *opts, json_t **ret, struct pea_error **err)
{
        return parse_kv(opts, true, ret, err);
}

int volume_parse_labels(char *const *labels, json_t **ret, struct pea_error **err)
{
        return parse_kv(labels, false, ret, err);
}

/* ---- filters ------------------------------------------------------------------------------- */

static const char *const filter_keys[] = {"name",  "label", "label!",   "driver",
                                          "scope", "opt",   "dangling", "anonymous"};

int pea_volume_filters_check(char *const *filters, struct pea_error **err)
{
        STRV_FOREACH(f, (char **)filters) {
                const char *eq = strchr(*f, '=');
                _cleanup_free_ char *key = eq ? xstrndup(*f, (size_t)(eq - *f)) : xstrdup(*f);
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(filter_keys); i++)
                        known = known || streq(filter_keys[i], key);
                if (!eq || !known)
                        return pea_error_set(err, EINVAL, "\"%s\" is an invalid volume filter",
                                             key);
                if ((streq(key, "dangling") || streq(key, "anonymous")) && !streq(eq + 1, "true")
                    && !streq(eq + 1, "false") && !streq(eq + 1, "1") && !streq(eq + 1, "0"))
                        return pea_error_set(err, EINVAL, "failed to parse %s filter value \"%s\"",
                                             key, eq + 1);
        }
        return 0;
}

/* "key" or "key=value" against an object of strings. */
static bool kv_matches(json_t *obj, const char *kv)
{
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *key = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
        json_t *v = json_object_get(obj, key);
        return v && (!eq || streq_ptr(json_string_value(v), eq + 1));
}

static bool regex_matches(const char *pattern, const char *s)
{
        regex_t re;
        if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
                return false;
        bool m = regexec(&re, s, 0, NULL, 0) == 0;
        regfree(&re);
        return m;
}

static bool is_true(const char *v)
{
        return streq(v, "true") || streq(v, "1");
}

/* 1 when the one filter key=value holds for vol, 0 when not. */
static int filter_one(struct pea_volume *vol, struct pea_state *s, const char *key,
                      const char *value, struct pea_error **err)
{
        if (streq(key, "name"))
                return regex_matches(value, vol->row.name);
        if (streq(key, "label"))
                return kv_matches(vol->row.labels, value);
        if (streq(key, "label!"))
                return !kv_matches(vol->row.labels, value);
        if (streq(key, "driver"))
                return streq_ptr(vol->row.driver, value);
        if (streq(key, "scope"))
                return streq(value, "local");
        if (streq(key, "opt"))
                return kv_matches(vol->row.options, value);
        if (streq(key, "anonymous"))
                return vol->row.anonymous == is_true(value);
        /* dangling */
        _cleanup_strv_ char **users = NULL;
        int r = pea_state_volume_users(s, vol->row.name, &users, err);
        if (r < 0)
                return r;
        return (strv_length(users) == 0) == is_true(value);
}

int pea_volume_matches(struct pea_volume *vol, struct pea_state *s, char *const *filters,
                       struct pea_error **err)
{
        int r = pea_volume_filters_check(filters, err);
        for (size_t k = 0; r >= 0 && k < ELEMENTSOF(filter_keys); k++) {
                /* Labels must all hold; other values of one key are alternatives. */
                bool all = startswith(filter_keys[k], "label") != NULL;
                bool any_given = false, any_ok = false, all_ok = true;
                STRV_FOREACH(f, (char **)filters) {
                        const char *eq = strchr(*f, '=');
                        if (strlen(filter_keys[k]) != (size_t)(eq - *f)
                            || strncmp(*f, filter_keys[k], (size_t)(eq - *f)) != 0)
                                continue;
                        any_given = true;
                        r = filter_one(vol, s, filter_keys[k], eq + 1, err);
                        if (r < 0)
                                return r;
                        any_ok = any_ok || r > 0;
                        all_ok = all_ok && r > 0;
                }
                if (any_given && !(all ? all_ok : any_ok))
                        return 0;
        }
        return r < 0 ? r : 1;
}

int pea_volume_list(struct pea_state *s, char *const *filters, struct pea_volume ***ret,
                    size_t *ret_n, struct pea_error **err)
{
        struct pea_volume_row *rows = NULL;
        size_t n = 0, k = 0;
        int r = pea_volume_filters_check(filters, err);
        if (r >= 0)
                r = pea_state_volume_list(s, &rows, &n, err);
        if (r < 0)
                return r;
        struct pea_volume **vols = xcalloc(n + 1, sizeof(*vols));
        for (size_t i = 0; i < n; i++) {
                struct pea_volume *v = volume_from_row(&rows[i]);
                r = r < 0 ? r : pea_volume_matches(v, s, filters, err);
                if (r > 0)
                        vols[k++] = v;
                else
                        pea_volume_free(v);
        }
        pea_volume_rows_free(rows, n);
        if (r < 0) {
                pea_volumes_free(vols);
                return r;
        }
        *ret = vols;
        if (ret_n)
                *ret_n = k;
        return 0;
}

int pea_volume_prune(struct pea_state *s, char *const *filters, char ***ret_names,
                     struct pea_error **err)
{
        struct pea_volume **vols = NULL;
        int r = pea_volume_list(s, filters, &vols, NULL, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **removed = xcalloc(1, sizeof(char *));
        for (struct pea_volume **v = vols; r >= 0 && *v; v++) {
                _cleanup_error_ struct pea_error *e = NULL;
                r = pea_volume_remove(s, (*v)->row.name, NULL, &e);
                if (r == -EBUSY || r == -ENOENT) {
                        r = 0; /* in use (or gone meanwhile): not pruned */
                        continue;
                }
                if (r < 0)
                        *err = TAKE_PTR(e);
                else
                        strv_push(&removed, (*v)->row.name);
        }
        pea_volumes_free(vols);
        if (r < 0)
                return r;
        if (ret_names)
                *ret_names = TAKE_PTR(removed);
        return 0;
}

/* ---- inspect ------------------------------------------------------------------------------- */

/* Go's time.RFC3339Nano in local time, as podman prints CreatedAt. */
static char *time_rfc3339_local(int64_t ns)
{
        time_t secs = (time_t)(ns / 1000000000LL);
        long frac = (long)(ns % 1000000000LL);
        struct tm tm = {0};
        (void)localtime_r(&secs, &tm);
        char date[64] = "", fracs[16] = "", zone[32] = "Z";
        (void)strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        if (frac > 0) {
                (void)snprintf(fracs, sizeof(fracs), ".%09ld", frac);
                size_t len = strlen(fracs);
                while (len > 1 && fracs[len - 1] == '0')
                        fracs[--len] = '\0';
        }
        long off = tm.tm_gmtoff;
        if (off != 0)
                (void)snprintf(zone, sizeof(zone), "%c%02ld:%02ld", off < 0 ? '-' : '+',
                               labs(off) / 3600, (labs(off) % 3600) / 60);
        return xasprintf("%s%s%s", date, fracs, zone);
}

static int cmp_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of obj with its keys in sorted order, as Go prints maps. */
static json_t *sorted_copy(json_t *obj)
{
        size_t n = json_object_size(obj), i = 0;
        const char **keys = xcalloc(n + 1, sizeof(char *));
        const char *k = NULL;
        json_t *v = NULL;
        json_object_foreach(obj, k, v)
                keys[i++] = k;
        qsort(keys, i, sizeof(char *), cmp_keys);
        json_t *copy = json_object();
        for (size_t j = 0; j < i; j++)
                (void)json_object_set(copy, keys[j], json_object_get(obj, keys[j]));
        free(keys);
        return copy;
}

static void set_id_option(json_t *o, const struct pea_volume *vol, const char *key,
                          const char *field)
{
        const char *v = volume_option(vol, key);
        unsigned id = 0;
        if (v && safe_atou32(v, &id) >= 0 && id != 0)
                (void)json_object_set_new(o, field, json_integer(id));
}

json_t *pea_volume_inspect_json(const struct pea_volume *vol)
{
        _cleanup_free_ char *created = time_rfc3339_local(vol->row.created);
        json_t *labels = sorted_copy(vol->row.labels);
        json_t *options = sorted_copy(vol->row.options);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "Name", vol->row.name,
                              "Driver", vol->row.driver ? vol->row.driver : "local", "Mountpoint",
                              vol->row.mountpoint, "CreatedAt", created, "Labels", labels, "Scope",
                              "local", "Options", options);
        set_id_option(o, vol, "uid", "UID");
        set_id_option(o, vol, "gid", "GID");
        if (vol->row.anonymous)
                (void)json_object_set_new(o, "Anonymous", json_true());
        (void)json_object_set_new(o, "MountCount", json_integer(vol->row.mount_count));
        if (vol->row.needs_copy_up)
                (void)json_object_set_new(o, "NeedsCopyUp", json_true());
        if (vol->row.needs_chown)
                (void)json_object_set_new(o, "NeedsChown", json_true());
        return o;
}
