/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifests: OCI image manifest and index, Docker v2s2 manifest and manifest
 * list; platform selection from an index; the image config. Everything a
 * registry sends is capped (bytes, entries, JSON depth) and validated before
 * use; duplicate JSON keys are refused, so no two parsers can disagree.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "base.h"
#include "image-internal.h"
#include "image.h"

#define CONFIG_MAX_HISTORY 10000

static const char *const media_types[_PEA_MANIFEST_TYPE_MAX] = {
        [PEA_MANIFEST_OCI] = PEA_MEDIA_OCI_MANIFEST,
        [PEA_MANIFEST_OCI_INDEX] = PEA_MEDIA_OCI_INDEX,
        [PEA_MANIFEST_DOCKER_V2S2] = PEA_MEDIA_DOCKER_MANIFEST,
        [PEA_MANIFEST_DOCKER_LIST] = PEA_MEDIA_DOCKER_LIST,
};

static const char *const compressions[_PEA_COMPRESSION_MAX] = {
        [PEA_COMPRESSION_NONE] = "none",
        [PEA_COMPRESSION_GZIP] = "gzip",
        [PEA_COMPRESSION_ZSTD] = "zstd",
};

static const struct {
        const char *media_type;
        enum pea_compression compression;
        bool foreign;
} layer_types[] = {
        {"application/vnd.oci.image.layer.v1.tar", PEA_COMPRESSION_NONE, false},
        {"application/vnd.oci.image.layer.v1.tar+gzip", PEA_COMPRESSION_GZIP, false},
        {"application/vnd.oci.image.layer.v1.tar+zstd", PEA_COMPRESSION_ZSTD, false},
        {"application/vnd.oci.image.layer.nondistributable.v1.tar", PEA_COMPRESSION_NONE, true},
        {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", PEA_COMPRESSION_GZIP,
         true},
        {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", PEA_COMPRESSION_ZSTD,
         true},
        {"application/vnd.docker.image.rootfs.diff.tar", PEA_COMPRESSION_NONE, false},
        {"application/vnd.docker.image.rootfs.diff.tar.gzip", PEA_COMPRESSION_GZIP, false},
        {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", PEA_COMPRESSION_GZIP, true},
};

const char *pea_manifest_type_to_media_type(enum pea_manifest_type t)
{
        if (t < 0 || t >= _PEA_MANIFEST_TYPE_MAX)
                return NULL;
        return media_types[t];
}

enum pea_manifest_type pea_manifest_type_from_media_type(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(media_types); i++)
                if (streq(media_types[i], s))
                        return (enum pea_manifest_type)i;
        return _PEA_MANIFEST_TYPE_INVALID;
}

const char *pea_compression_to_string(enum pea_compression c)
{
        if (c < 0 || c >= _PEA_COMPRESSION_MAX)
                return NULL;
        return compressions[c];
}

/* ---- JSON helpers -------------------------------------------------------- */

static bool depth_within(json_t *j, int left)
{
        const char *k;
        json_t *v;
        size_t i;

        if (!json_is_object(j) && !json_is_array(j))
                return true;
        if (left <= 0)
                return false;
        if (json_is_object(j)) {
                json_object_foreach(j, k, v)
                        if (!depth_within(v, left - 1))
                                return false;
        } else {
                json_array_foreach(j, i, v)
                        if (!depth_within(v, left - 1))
                                return false;
        }
        return true;
}

int image_json_load(const void *data, size_t len, size_t max, const char *what, json_t **ret,
                    struct pea_error **err)
{
        json_error_t je;

        if (len > max)
                return pea_error_set(err, EFBIG, "%s is too large (%zu bytes, at most %zu)", what,
                                     len, max);
        _cleanup_json_ json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
        if (!j)
                return pea_error_set(err, EBADMSG, "parsing %s: %s (line %d, column %d)", what,
                                     je.text, je.line, je.column);
        if (!json_is_object(j))
                return pea_error_set(err, EBADMSG, "parsing %s: not a JSON object", what);
        if (!depth_within(j, PEA_IMAGE_JSON_MAX_DEPTH))
                return pea_error_set(err, EBADMSG, "parsing %s: nested more than %d levels", what,
                                     PEA_IMAGE_JSON_MAX_DEPTH);
        *ret = TAKE_PTR(j);
        return 0;
}

int image_json_string(json_t *obj, const char *key, const char *what, const char **ret,
                      struct pea_error **err)
{
        json_t *v = json_object_get(obj, key);

        if (v && !json_is_null(v) && !json_is_string(v))
                return pea_error_set(err, EBADMSG, "%s: '%s' must be a string", what, key);
        *ret = json_is_string(v) ? json_string_value(v) : NULL;
        return 0;
}

int image_json_bool(json_t *obj, const char *key, const char *what, bool def, bool *ret,
                    struct pea_error **err)
{
        json_t *v = json_object_get(obj, key);

        if (v && !json_is_null(v) && !json_is_boolean(v))
                return pea_error_set(err, EBADMSG, "%s: '%s' must be a boolean", what, key);
        *ret = json_is_boolean(v) ? json_is_true(v) : def;
        return 0;
}

int image_json_strv(json_t *obj, const char *key, const char *what, char ***ret,
                    struct pea_error **err)
{
        json_t *v = json_object_get(obj, key), *e;
        char **l = NULL;
        size_t i;

        if (v && !json_is_null(v) && !json_is_array(v))
                return pea_error_set(err, EBADMSG, "%s: '%s' must be an array of strings", what,
                                     key);
        if (!json_is_array(v)) {
                *ret = NULL;
                return 0;
        }
        l = xcalloc(json_array_size(v) + 1, sizeof(char *));
        json_array_foreach(v, i, e) {
                if (!json_is_string(e)) {
                        strv_free(l);
                        return pea_error_set(err, EBADMSG, "%s: '%s' must be an array of strings",
                                             what, key);
                }
                l[i] = xstrdup(json_string_value(e));
        }
        *ret = l;
        return 0;
}

static char *strdup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

/* Copies a string member into *ret (NULL when missing). */
static int dup_string(json_t *obj, const char *key, const char *what, char **ret,
                      struct pea_error **err)
{
        const char *s = NULL;
        int r = image_json_string(obj, key, what, &s, err);

        if (r < 0)
                return r;
        *ret = strdup_or_null(s);
        return 0;
}

/* An object whose values are all strings (annotations, labels), or NULL/absent. */
static int string_map(json_t *obj, const char *key, const char *what, json_t **ret,
                      struct pea_error **err)
{
        json_t *m = json_object_get(obj, key), *v;
        const char *k;

        *ret = NULL;
        if (!m || json_is_null(m))
                return 0;
        if (!json_is_object(m))
                return pea_error_set(err, EBADMSG, "%s: '%s' must be an object", what, key);
        json_object_foreach(m, k, v)
                if (!json_is_string(v))
                        return pea_error_set(err, EBADMSG,
                                             "%s: '%s' value of '%s' must be a string", what, key,
                                             k);
        *ret = json_incref(m);
        return 0;
}

/* ---- platforms ----------------------------------------------------------- */

void pea_platform_done(struct pea_platform *p)
{
        if (!p)
                return;
        free(p->os);
        free(p->architecture);
        free(p->variant);
        free(p->os_version);
        *p = (struct pea_platform){};
}

static void platform_copy(struct pea_platform *dst, const struct pea_platform *src)
{
        *dst = (struct pea_platform){
                .os = strdup_or_null(src->os),
                .architecture = strdup_or_null(src->architecture),
                .variant = strdup_or_null(src->variant),
                .os_version = strdup_or_null(src->os_version),
        };
}

static void replace(char **p, const char *s)
{
        free(*p);
        *p = strdup_or_null(s);
}

void pea_platform_normalize(struct pea_platform *p)
{
        static const struct {
                const char *from, *arch, *variant;
        } arches[] = {
                {"x86_64", "amd64", NULL}, {"x86-64", "amd64", NULL}, {"aarch64", "arm64", NULL},
                {"armhf", "arm", "v7"},    {"armel", "arm", "v6"},    {"i386", "386", NULL},
                {"i686", "386", NULL},     {"x86", "386", NULL},
        };

        static const char *const numeric[] = {"5", "6", "7", "8"};

        for (char *c = p->os; c && *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char)(*c - 'A' + 'a');
        for (size_t i = 0; p->architecture && i < ELEMENTSOF(arches); i++)
                if (streq(p->architecture, arches[i].from)) {
                        replace(&p->architecture, arches[i].arch);
                        if (!p->variant && arches[i].variant)
                                p->variant = xstrdup(arches[i].variant);
                }
        if (!p->architecture || !p->variant)
                return;
        for (size_t i = 0; i < ELEMENTSOF(numeric); i++)
                if (streq(p->variant, numeric[i])
                    && (streq(p->architecture, "arm") || streq(p->architecture, "arm64"))) {
                        _cleanup_free_ char *v = xasprintf("v%s", numeric[i]);
                        replace(&p->variant, v);
                        break;
                }
        if (streq(p->architecture, "amd64") && streq(p->variant, "v1"))
                replace(&p->variant, NULL);
}

int pea_platform_parse(const char *s, struct pea_platform *ret, struct pea_error **err)
{
        _cleanup_strv_ char **parts = strv_split(s, "/");
        size_t n = strv_length(parts);

        if (n < 2 || n > 3 || strstr(s, "//") || s[0] == '/' || endswith(s, "/"))
                return pea_error_set(err, EINVAL,
                                     "invalid platform '%s': expected os/arch[/variant]", s);
        *ret = (struct pea_platform){
                .os = xstrdup(parts[0]),
                .architecture = xstrdup(parts[1]),
                .variant = n == 3 ? xstrdup(parts[2]) : NULL,
        };
        pea_platform_normalize(ret);
        return 0;
}

static const char *default_variant(const char *arch)
{
        if (streq(arch, "arm64"))
                return "v8";
        if (streq(arch, "arm"))
                return "v7";
        return NULL;
}

void pea_platform_host(struct pea_platform *ret)
{
        const char *arch = pea_host_arch();

        *ret = (struct pea_platform){
                .os = xstrdup("linux"),
                .architecture = xstrdup(arch),
                .variant = strdup_or_null(default_variant(arch)),
        };
}

static int parse_platform(json_t *j, const char *what, struct pea_platform *p,
                          struct pea_error **err)
{
        int r;

        if (!json_is_object(j))
                return pea_error_set(err, EBADMSG, "%s: 'platform' must be an object", what);
        r = dup_string(j, "os", what, &p->os, err);
        if (r >= 0)
                r = dup_string(j, "architecture", what, &p->architecture, err);
        if (r >= 0)
                r = dup_string(j, "variant", what, &p->variant, err);
        if (r >= 0)
                r = dup_string(j, "os.version", what, &p->os_version, err);
        if (r < 0)
                return r;
        if (!p->os || !p->architecture)
                return pea_error_set(err, EBADMSG, "%s: platform needs 'os' and 'architecture'",
                                     what);
        return 0;
}

/* Variants to try, best first, as containers-image's WantedPlatforms(). */
static char **wanted_variants(const char *arch, const char *variant)
{
        static const char *const arm[] = {"v8", "v7", "v6", "v5", NULL};
        static const char *const arm64[] = {"v8", NULL};
        const char *const *compat = streq(arch, "arm") ? arm : streq(arch, "arm64") ? arm64 : NULL;
        char **l = NULL;
        bool found = false;

        if (!variant || !variant[0]) {
                strv_push(&l, "");
                for (const char *const *c = compat; c && *c; c++)
                        strv_push(&l, *c);
                return l;
        }
        for (const char *const *c = compat; c && *c; c++)
                if (found || streq(*c, variant)) {
                        found = true;
                        strv_push(&l, *c);
                }
        if (!found)
                strv_push(&l, variant);
        strv_push(&l, "");
        return l;
}

static bool platform_matches(const struct pea_platform *image, const struct pea_platform *want,
                             const char *variant)
{
        _cleanup_(pea_platform_done) struct pea_platform p = {};

        platform_copy(&p, image);
        pea_platform_normalize(&p);
        return streq_ptr(p.os, want->os) && streq_ptr(p.architecture, want->architecture)
               && streq(p.variant ? p.variant : "", variant);
}

/* want with the defaults filled in: this host's os, architecture and variant. */
static void wanted_platform(const struct pea_platform *want, struct pea_platform *w)
{
        if (!want || !want->architecture)
                pea_platform_host(w);
        else
                *w = (struct pea_platform){.architecture = xstrdup(want->architecture)};
        if (want && want->os)
                replace(&w->os, want->os);
        if (want && want->variant)
                replace(&w->variant, want->variant);
        if (!w->os)
                w->os = xstrdup("linux");
        pea_platform_normalize(w);
}

int pea_manifest_select(const struct pea_manifest *index, const struct pea_platform *want,
                        const struct pea_descriptor **ret, struct pea_error **err)
{
        _cleanup_(pea_platform_done) struct pea_platform w = {};
        _cleanup_strv_ char **variants = NULL;

        if (!pea_manifest_is_index(index))
                return pea_error_set(err, EINVAL, "manifest '%s' is not an index", index->digest);
        wanted_platform(want, &w);
        variants = wanted_variants(w.architecture, w.variant);
        STRV_FOREACH(v, variants)
                for (size_t i = 0; i < index->n_manifests; i++) {
                        const struct pea_descriptor *d = &index->manifests[i];
                        if (d->has_platform && platform_matches(&d->platform, &w, *v)) {
                                *ret = d;
                                return 0;
                        }
                }
        return pea_error_set(
                err, ENOENT, "no image found in %s for architecture %s, variant \"%s\", OS %s",
                index->type == PEA_MANIFEST_OCI_INDEX ? "image index" : "manifest list",
                w.architecture, variants[0], w.os);
}

/* ---- descriptors and manifests ------------------------------------------- */

static void descriptor_done(struct pea_descriptor *d)
{
        free(d->media_type);
        free(d->digest);
        strv_free(d->urls);
        json_decref(d->annotations);
        pea_platform_done(&d->platform);
}

static void layer_kind(struct pea_descriptor *d)
{
        d->compression = _PEA_COMPRESSION_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(layer_types); i++)
                if (streq(layer_types[i].media_type, d->media_type)) {
                        d->compression = layer_types[i].compression;
                        d->foreign = layer_types[i].foreign;
                }
}

static int parse_size(json_t *j, const char *what, int64_t *ret, struct pea_error **err)
{
        json_t *v = json_object_get(j, "size");

        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return pea_error_set(err, EBADMSG, "%s: 'size' must be a non-negative integer",
                                     what);
        *ret = json_integer_value(v);
        return 0;
}

static int parse_descriptor(json_t *j, const char *what, bool layer, struct pea_descriptor *d,
                            struct pea_error **err)
{
        int r;

        if (!json_is_object(j))
                return pea_error_set(err, EBADMSG, "%s: not an object", what);
        r = dup_string(j, "mediaType", what, &d->media_type, err);
        if (r >= 0)
                r = dup_string(j, "digest", what, &d->digest, err);
        if (r >= 0 && (!d->media_type || !d->digest))
                r = pea_error_set(err, EBADMSG, "%s: 'mediaType' and 'digest' are required", what);
        if (r >= 0)
                r = pea_digest_validate(d->digest, err);
        if (r >= 0)
                r = parse_size(j, what, &d->size, err);
        if (r >= 0)
                r = image_json_strv(j, "urls", what, &d->urls, err);
        if (r >= 0)
                r = string_map(j, "annotations", what, &d->annotations, err);
        if (r >= 0 && json_object_get(j, "platform")) {
                d->has_platform = true;
                r = parse_platform(json_object_get(j, "platform"), what, &d->platform, err);
        }
        if (r < 0)
                return r;
        if (layer)
                layer_kind(d);
        return 0;
}

/* An array of descriptors, at most max. */
static int parse_descriptors(json_t *root, const char *key, const char *what, size_t max,
                             bool layers, struct pea_descriptor **ret, size_t *ret_n,
                             struct pea_error **err)
{
        json_t *a = json_object_get(root, key), *e;
        size_t i;

        if (!json_is_array(a))
                return pea_error_set(err, EBADMSG, "manifest: '%s' must be an array", key);
        if (json_array_size(a) > max)
                return pea_error_set(err, E2BIG, "manifest has %zu %s, at most %zu are allowed",
                                     json_array_size(a), key, max);
        *ret = xcalloc(json_array_size(a), sizeof(**ret));
        json_array_foreach(a, i, e) {
                _cleanup_free_ char *w = xasprintf("manifest %s %zu", what, i + 1);
                (*ret_n)++;
                int r = parse_descriptor(e, w, layers, &(*ret)[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool generic_content_type(const char *ct)
{
        static const char *const generic[] = {"", "application/json", "text/plain",
                                              "application/octet-stream", "binary/octet-stream"};

        for (size_t i = 0; i < ELEMENTSOF(generic); i++)
                if (streq(ct, generic[i]))
                        return true;
        return false;
}

static int check_schema_version(json_t *root, struct pea_error **err)
{
        json_t *v = json_object_get(root, "schemaVersion");

        if (!json_is_integer(v))
                return pea_error_set(err, EBADMSG, "manifest: 'schemaVersion' must be an integer");
        if (json_integer_value(v) != 2)
                return pea_error_set(err, ENOTSUP,
                                     "unsupported manifest schema version %" JSON_INTEGER_FORMAT,
                                     json_integer_value(v));
        return 0;
}

/* The type from the mediaType field, else the Content-Type, else the structure. */
static int detect_type(json_t *root, const char *content_type, enum pea_manifest_type *ret,
                       struct pea_error **err)
{
        _cleanup_free_ char *ct =
                content_type ? xstrndup(content_type, strcspn(content_type, ";")) : xstrdup("");
        const char *mt = NULL;
        int r = image_json_string(root, "mediaType", "manifest", &mt, err);

        if (r < 0)
                return r;
        strstrip(ct);
        enum pea_manifest_type t_ct = pea_manifest_type_from_media_type(ct);
        if (!generic_content_type(ct) && t_ct < 0)
                return pea_error_set(err, ENOTSUP, "unsupported manifest media type '%s'", ct);
        if (mt && mt[0]) {
                *ret = pea_manifest_type_from_media_type(mt);
                if (*ret < 0)
                        return pea_error_set(err, ENOTSUP, "unsupported manifest media type '%s'",
                                             mt);
                if (t_ct >= 0 && t_ct != *ret)
                        return pea_error_set(
                                err, EBADMSG,
                                "manifest media type '%s' does not match content type '%s'", mt,
                                ct);
        } else if (t_ct >= 0) {
                *ret = t_ct;
        } else if (json_object_get(root, "manifests")) {
                *ret = PEA_MANIFEST_OCI_INDEX;
        } else if (json_object_get(root, "config") && json_object_get(root, "layers")) {
                *ret = PEA_MANIFEST_OCI;
        } else {
                return pea_error_set(err, EBADMSG, "cannot determine the type of the manifest");
        }
        return 0;
}

/* An image manifest has no "manifests", an index no "config" or "layers". */
static int check_unambiguous(json_t *root, enum pea_manifest_type t, struct pea_error **err)
{
        bool index = t == PEA_MANIFEST_OCI_INDEX || t == PEA_MANIFEST_DOCKER_LIST;
        const char *const bad[] = {index ? "config" : "manifests", index ? "layers" : NULL};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (bad[i] && json_object_get(root, bad[i]))
                        return pea_error_set(err, EBADMSG,
                                             "manifest of type '%s' must not have '%s'",
                                             media_types[t], bad[i]);
        return 0;
}

static int parse_body(struct pea_manifest *m, struct pea_error **err)
{
        int r = check_unambiguous(m->json, m->type, err);

        if (r >= 0)
                r = string_map(m->json, "annotations", "manifest", &m->annotations, err);
        if (r < 0)
                return r;
        if (pea_manifest_is_index(m))
                return parse_descriptors(m->json, "manifests", "entry", PEA_INDEX_MAX_MANIFESTS,
                                         false, &m->manifests, &m->n_manifests, err);
        if (!json_object_get(m->json, "config"))
                return pea_error_set(err, EBADMSG, "manifest: 'config' is required");
        r = parse_descriptor(json_object_get(m->json, "config"), "manifest config", false,
                             &m->config, err);
        if (r < 0)
                return r;
        return parse_descriptors(m->json, "layers", "layer", PEA_MANIFEST_MAX_LAYERS, true,
                                 &m->layers, &m->n_layers, err);
}

/* Checks the size, copies the bytes and computes (or verifies) their digest. */
static int take_bytes(const void *data, size_t len, size_t max, const char *what,
                      const char *expected, char **ret_raw, char **ret_digest,
                      struct pea_error **err)
{
        int r = 0;

        if (len > max)
                return pea_error_set(err, EFBIG, "%s is too large (%zu bytes, at most %zu)", what,
                                     len, max);
        if (expected)
                r = pea_digest_verify(expected, data, len, err);
        else
                r = pea_digest_data(PEA_DIGEST_SHA256, data, len, ret_digest, err);
        if (r < 0)
                return image_error_wrap(r, err, "verifying %s", what);
        if (expected)
                *ret_digest = xstrdup(expected);
        *ret_raw = xmalloc(len + 1);
        memcpy(*ret_raw, data, len);
        (*ret_raw)[len] = '\0';
        return 0;
}

int pea_manifest_parse(const void *data, size_t len, const char *content_type,
                       const char *expected_digest, struct pea_manifest **ret,
                       struct pea_error **err)
{
        _cleanup_manifest_ struct pea_manifest *m = xcalloc(1, sizeof(*m));
        int r = take_bytes(data, len, PEA_MANIFEST_MAX_BYTES, "manifest", expected_digest, &m->raw,
                           &m->digest, err);

        if (r >= 0)
                r = image_json_load(data, len, PEA_MANIFEST_MAX_BYTES, "manifest", &m->json, err);
        if (r >= 0)
                r = check_schema_version(m->json, err);
        if (r >= 0)
                r = detect_type(m->json, content_type, &m->type, err);
        if (r >= 0)
                r = parse_body(m, err);
        if (r < 0)
                return r;
        m->raw_len = len;
        *ret = TAKE_PTR(m);
        return 0;
}

struct pea_manifest *pea_manifest_free(struct pea_manifest *m)
{
        if (!m)
                return NULL;
        descriptor_done(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                descriptor_done(&m->layers[i]);
        free(m->layers);
        for (size_t i = 0; i < m->n_manifests; i++)
                descriptor_done(&m->manifests[i]);
        free(m->manifests);
        json_decref(m->annotations);
        json_decref(m->json);
        free(m->raw);
        free(m->digest);
        free(m);
        return NULL;
}

/* ---- image configs ------------------------------------------------------- */

/* The keys of an object member ("ExposedPorts", "Volumes"). */
static int object_keys(json_t *obj, const char *key, char ***ret, struct pea_error **err)
{
        json_t *m = json_object_get(obj, key), *v;
        const char *k;

        if (!m || json_is_null(m))
                return 0;
        if (!json_is_object(m))
                return pea_error_set(err, EBADMSG, "image config: '%s' must be an object", key);
        *ret = xcalloc(1, sizeof(char *));
        json_object_foreach(m, k, v)
                strv_push(ret, k);
        return 0;
}

static int duration(json_t *h, const char *key, int64_t *ret, struct pea_error **err)
{
        json_t *v = json_object_get(h, key);

        if (v && !json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0))
                return pea_error_set(
                        err, EBADMSG,
                        "image config: Healthcheck '%s' must be a non-negative integer", key);
        *ret = json_is_integer(v) ? json_integer_value(v) : 0;
        return 0;
}

static int parse_healthcheck(json_t *cfg, struct pea_image_config *c, struct pea_error **err)
{
        json_t *h = json_object_get(cfg, "Healthcheck");
        int64_t retries = 0;
        int r;

        if (!h || json_is_null(h))
                return 0;
        if (!json_is_object(h))
                return pea_error_set(err, EBADMSG, "image config: 'Healthcheck' must be an object");
        c->healthcheck = xcalloc(1, sizeof(*c->healthcheck));
        r = image_json_strv(h, "Test", "image config Healthcheck", &c->healthcheck->test, err);
        if (r >= 0)
                r = duration(h, "Interval", &c->healthcheck->interval, err);
        if (r >= 0)
                r = duration(h, "Timeout", &c->healthcheck->timeout, err);
        if (r >= 0)
                r = duration(h, "StartPeriod", &c->healthcheck->start_period, err);
        if (r >= 0)
                r = duration(h, "StartInterval", &c->healthcheck->start_interval, err);
        if (r >= 0)
                r = duration(h, "Retries", &retries, err);
        if (r >= 0 && retries > INT32_MAX)
                r = pea_error_set(err, EBADMSG, "image config: Healthcheck 'Retries' is too large");
        c->healthcheck->retries = (int)retries;
        return r;
}

static int parse_container_config(json_t *root, struct pea_image_config *c, struct pea_error **err)
{
        static const char what[] = "image config";
        json_t *cfg = json_object_get(root, "config");
        int r;

        if (!cfg || json_is_null(cfg))
                return 0;
        if (!json_is_object(cfg))
                return pea_error_set(err, EBADMSG, "image config: 'config' must be an object");
        r = dup_string(cfg, "User", what, &c->user, err);
        if (r >= 0)
                r = dup_string(cfg, "WorkingDir", what, &c->working_dir, err);
        if (r >= 0)
                r = dup_string(cfg, "StopSignal", what, &c->stop_signal, err);
        if (r >= 0)
                r = image_json_strv(cfg, "Env", what, &c->env, err);
        if (r >= 0)
                r = image_json_strv(cfg, "Entrypoint", what, &c->entrypoint, err);
        if (r >= 0)
                r = image_json_strv(cfg, "Cmd", what, &c->cmd, err);
        if (r >= 0)
                r = object_keys(cfg, "ExposedPorts", &c->exposed_ports, err);
        if (r >= 0)
                r = object_keys(cfg, "Volumes", &c->volumes, err);
        if (r >= 0)
                r = string_map(cfg, "Labels", what, &c->labels, err);
        if (r >= 0)
                r = parse_healthcheck(cfg, c, err);
        return r;
}

static int parse_rootfs(json_t *root, struct pea_image_config *c, struct pea_error **err)
{
        json_t *rootfs = json_object_get(root, "rootfs");
        const char *type = NULL;
        int r;

        if (!json_is_object(rootfs))
                return pea_error_set(err, EBADMSG, "image config: 'rootfs' must be an object");
        r = image_json_string(rootfs, "type", "image config rootfs", &type, err);
        if (r < 0)
                return r;
        if (!type || !streq(type, "layers"))
                return pea_error_set(err, EBADMSG, "image config: unsupported rootfs type '%s'",
                                     type ? type : "");
        r = image_json_strv(rootfs, "diff_ids", "image config rootfs", &c->diff_ids, err);
        if (r < 0)
                return r;
        if (!c->diff_ids)
                c->diff_ids = xcalloc(1, sizeof(char *));
        if (strv_length(c->diff_ids) > PEA_MANIFEST_MAX_LAYERS)
                return pea_error_set(err, E2BIG,
                                     "image config has %zu layers, at most %d are allowed",
                                     strv_length(c->diff_ids), PEA_MANIFEST_MAX_LAYERS);
        STRV_FOREACH(d, c->diff_ids) {
                r = pea_digest_validate(*d, err);
                if (r < 0)
                        return image_error_wrap(r, err, "image config diff_ids");
        }
        return 0;
}

static int parse_history_entry(json_t *e, struct pea_history *h, struct pea_error **err)
{
        static const char what[] = "image config history";
        int r;

        if (!json_is_object(e))
                return pea_error_set(err, EBADMSG, "image config: history entries must be objects");
        r = dup_string(e, "created", what, &h->created, err);
        if (r >= 0)
                r = dup_string(e, "created_by", what, &h->created_by, err);
        if (r >= 0)
                r = dup_string(e, "author", what, &h->author, err);
        if (r >= 0)
                r = dup_string(e, "comment", what, &h->comment, err);
        if (r >= 0)
                r = image_json_bool(e, "empty_layer", what, false, &h->empty_layer, err);
        return r;
}

static int parse_history(json_t *root, struct pea_image_config *c, struct pea_error **err)
{
        json_t *a = json_object_get(root, "history"), *e;
        size_t i;

        if (!a || json_is_null(a))
                return 0;
        if (!json_is_array(a))
                return pea_error_set(err, EBADMSG, "image config: 'history' must be an array");
        if (json_array_size(a) > CONFIG_MAX_HISTORY)
                return pea_error_set(err, E2BIG,
                                     "image config has %zu history entries, at most %d are allowed",
                                     json_array_size(a), CONFIG_MAX_HISTORY);
        c->history = xcalloc(json_array_size(a), sizeof(*c->history));
        json_array_foreach(a, i, e) {
                c->n_history++;
                int r = parse_history_entry(e, &c->history[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_config_top(json_t *root, struct pea_image_config *c, struct pea_error **err)
{
        static const char what[] = "image config";
        int r = dup_string(root, "architecture", what, &c->architecture, err);

        if (r >= 0)
                r = dup_string(root, "os", what, &c->os, err);
        if (r >= 0)
                r = dup_string(root, "variant", what, &c->variant, err);
        if (r >= 0)
                r = dup_string(root, "created", what, &c->created, err);
        if (r >= 0)
                r = dup_string(root, "author", what, &c->author, err);
        return r;
}

int pea_image_config_parse(const void *data, size_t len, const char *expected_digest,
                           struct pea_image_config **ret, struct pea_error **err)
{
        _cleanup_image_config_ struct pea_image_config *c = xcalloc(1, sizeof(*c));
        int r = take_bytes(data, len, PEA_CONFIG_MAX_BYTES, "image config", expected_digest,
                           &c->raw, &c->digest, err);

        if (r >= 0)
                r = image_json_load(data, len, PEA_CONFIG_MAX_BYTES, "image config", &c->json, err);
        if (r >= 0)
                r = parse_config_top(c->json, c, err);
        if (r >= 0)
                r = parse_container_config(c->json, c, err);
        if (r >= 0)
                r = parse_rootfs(c->json, c, err);
        if (r >= 0)
                r = parse_history(c->json, c, err);
        if (r < 0)
                return r;
        c->raw_len = len;
        *ret = TAKE_PTR(c);
        return 0;
}

int pea_image_config_check_manifest(const struct pea_image_config *c, const struct pea_manifest *m,
                                    struct pea_error **err)
{
        if (pea_manifest_is_index(m))
                return pea_error_set(err, EINVAL, "manifest '%s' is an index, not an image",
                                     m->digest);
        if (!streq(c->digest, m->config.digest))
                return pea_error_set(err, EBADMSG,
                                     "image config '%s' is not the manifest's config '%s'",
                                     c->digest, m->config.digest);
        if (strv_length(c->diff_ids) != m->n_layers)
                return pea_error_set(
                        err, EBADMSG,
                        "image config has %zu diff_ids but the manifest has %zu layers",
                        strv_length(c->diff_ids), m->n_layers);
        return 0;
}

struct pea_image_config *pea_image_config_free(struct pea_image_config *c)
{
        if (!c)
                return NULL;
        free(c->digest);
        free(c->raw);
        json_decref(c->json);
        free(c->architecture);
        free(c->os);
        free(c->variant);
        free(c->created);
        free(c->author);
        free(c->user);
        free(c->working_dir);
        free(c->stop_signal);
        strv_free(c->env);
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->exposed_ports);
        strv_free(c->volumes);
        json_decref(c->labels);
        if (c->healthcheck)
                strv_free(c->healthcheck->test);
        free(c->healthcheck);
        strv_free(c->diff_ids);
        for (size_t i = 0; i < c->n_history; i++) {
                free(c->history[i].created);
                free(c->history[i].created_by);
                free(c->history[i].author);
                free(c->history[i].comment);
        }
        free(c->history);
        free(c);
        return NULL;
}
