/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cleanup.h"

struct pea_error;

/*
 * lib/image: the pure logic of images. References (the docker reference
 * grammar), registries.conf v2, digests, manifests (OCI and Docker v2s2,
 * images and indexes), platform selection and image configs.
 */

/* ---- references ---------------------------------------------------------- */

#define PEA_IMAGE_DEFAULT_DOMAIN "docker.io"
#define PEA_IMAGE_DEFAULT_TAG    "latest"
/* Caps of the reference grammar. */
#define PEA_IMAGE_NAME_MAX 255
#define PEA_IMAGE_TAG_MAX  128

/* name[:tag][@digest], split. */
struct pea_image_ref {
        char *domain; /* "docker.io", "localhost:5000"; NULL in a short name */
        char *path;   /* "library/busybox" */
        char *tag;    /* NULL when none */
        char *digest; /* "sha256:<hex>", NULL when none */
};

/*
 * Parses a reference without normalising it: "busybox" has no domain. The
 * first component is a domain when it contains '.' or ':' or is "localhost".
 * Errors are podman's: "invalid reference format", "invalid reference format:
 * repository name must be lowercase", ... On failure ret is left alone.
 */
int pea_image_ref_parse(const char *s, struct pea_image_ref *ret, struct pea_error **err);

/*
 * Fills in what a reference leaves out, as docker does: the domain (domain,
 * or docker.io when NULL), "library/" for a one-component docker.io path,
 * index.docker.io as docker.io, and the tag "latest" when there is neither
 * tag nor digest.
 */
int pea_image_ref_normalize(struct pea_image_ref *ref, const char *domain, struct pea_error **err);

/* pea_image_ref_parse() then pea_image_ref_normalize(docker.io). */
int pea_image_ref_parse_normalized(const char *s, struct pea_image_ref *ret,
                                   struct pea_error **err);

/* "domain/path:tag@digest", leaving out what is missing. Never NULL. */
char *pea_image_ref_string(const struct pea_image_ref *ref);

/* "domain/path" (the repository), or "path" without a domain. Never NULL. */
char *pea_image_ref_name(const struct pea_image_ref *ref);

void pea_image_ref_copy(struct pea_image_ref *dst, const struct pea_image_ref *src);
void pea_image_ref_done(struct pea_image_ref *ref);

static inline void pea_image_ref_donep(struct pea_image_ref *ref)
{
        pea_image_ref_done(ref);
}

#define _cleanup_image_ref_ _cleanup_(pea_image_ref_donep)

/* True when s is a valid reference without a domain ("busybox", "a/b:1"). */
bool pea_image_ref_is_short(const char *s);

/* ---- registries.conf ----------------------------------------------------- */

enum pea_short_name_mode {
        PEA_SHORT_NAME_PERMISSIVE,
        PEA_SHORT_NAME_ENFORCING,
        PEA_SHORT_NAME_DISABLED,
        _PEA_SHORT_NAME_MODE_MAX,
        _PEA_SHORT_NAME_MODE_INVALID = -EINVAL,
};

const char *pea_short_name_mode_to_string(enum pea_short_name_mode m);
enum pea_short_name_mode pea_short_name_mode_from_string(const char *s);

/* A mirror's "pull-from-mirror". */
enum pea_mirror_use {
        PEA_MIRROR_ALL,
        PEA_MIRROR_DIGEST_ONLY,
        PEA_MIRROR_TAG_ONLY,
        _PEA_MIRROR_USE_MAX,
        _PEA_MIRROR_USE_INVALID = -EINVAL,
};

struct pea_registry_mirror {
        char *location;
        bool insecure;
        enum pea_mirror_use use;
};

/* One [[registry]] table. */
struct pea_registry {
        char *prefix;   /* as matched: "example.com/ns", "*.example.com" */
        char *location; /* "" only with a wildcard prefix */
        bool insecure;
        bool blocked;
        bool mirror_by_digest_only;
        struct pea_registry_mirror *mirrors;
        size_t n_mirrors;
};

struct pea_registry_alias {
        char *name;   /* "busybox" */
        char *value;  /* normalised: "docker.io/library/busybox"; NULL: reset by a drop-in */
        char *origin; /* the file that set it */
};

struct pea_registries {
        char **search;       /* unqualified-search-registries, in order */
        char *search_origin; /* the file that set them, NULL if none did */
        enum pea_short_name_mode short_name_mode;
        struct pea_registry *registries; /* sorted by prefix, prefixes unique */
        size_t n_registries;
        struct pea_registry_alias *aliases;
        size_t n_aliases;
        char *config_path; /* the main file (read or not): named in errors */
        char **files;      /* the files read, in order */
};

/*
 * Loads registries.conf from the standard places: $CONTAINERS_REGISTRIES_CONF,
 * else the user's $XDG_CONFIG_HOME/containers/registries.conf if it exists
 * (with only the user's drop-ins), else /etc/containers/registries.conf (may
 * be missing); then the *.conf drop-ins of /etc/containers/registries.conf.d
 * and of the user's registries.conf.d, each directory in name order.
 */
int pea_registries_load(struct pea_registries *ret, struct pea_error **err);

/* Loads conf (must exist unless NULL), then the *.conf files of each of dirs. */
int pea_registries_load_from(struct pea_registries *ret, const char *conf, char *const *dirs,
                             struct pea_error **err);

void pea_registries_done(struct pea_registries *c);

/*
 * The [[registry]] with the longest prefix matching ref ("localhost:5000/foo",
 * a repository or a full reference; it must start with a domain), or NULL.
 */
const struct pea_registry *pea_registries_find(const struct pea_registries *c, const char *ref);

/* Where to pull a reference from: mirrors first, then the registry itself. */
struct pea_pull_source {
        char *ref;      /* the rewritten reference: "mirror.example.com/ns/img:tag" */
        char *location; /* the endpoint's location */
        bool insecure;
        bool mirror;
};

/*
 * The pull sources of a normalised reference (with a domain). Fails with
 * -EACCES when the registry is blocked. Without a matching [[registry]]
 * the reference itself, secure.
 */
int pea_registries_pull_sources(const struct pea_registries *c, const struct pea_image_ref *ref,
                                struct pea_pull_source **ret, size_t *ret_n,
                                struct pea_error **err);

void pea_pull_sources_free(struct pea_pull_source *s, size_t n);

/*
 * Resolves a short name to the full references to try, as containers-image
 * does: an [aliases] entry wins alone (returns 1); otherwise one candidate
 * per unqualified-search registry (returns 0). The input's tag or digest is
 * kept, ":latest" added when there is neither. A name that has a domain
 * gives itself, normalised (returns 0).
 */
int pea_registries_resolve_short(const struct pea_registries *c, const char *name,
                                 char ***ret_candidates, struct pea_error **err);

/* ---- digests ------------------------------------------------------------- */

enum pea_digest_algorithm {
        PEA_DIGEST_SHA256,
        PEA_DIGEST_SHA384,
        PEA_DIGEST_SHA512,
        _PEA_DIGEST_ALGORITHM_MAX,
        _PEA_DIGEST_ALGORITHM_INVALID = -EINVAL,
};

const char *pea_digest_algorithm_to_string(enum pea_digest_algorithm a);
enum pea_digest_algorithm pea_digest_algorithm_from_string(const char *s);

/* Checks "algorithm:hex" (lowercase hex of the algorithm's length). */
int pea_digest_validate(const char *digest, struct pea_error **err);

/* The hex part of a valid digest (after the ':'). */
const char *pea_digest_hex(const char *digest);

/* A streaming hash. */
struct pea_digester;

int pea_digester_new(enum pea_digest_algorithm a, struct pea_digester **ret,
                     struct pea_error **err);
/* A digester of the algorithm of expected (validated), for pea_digester_verify(). */
int pea_digester_new_for(const char *expected, struct pea_digester **ret, struct pea_error **err);
int pea_digester_update(struct pea_digester *d, const void *data, size_t len,
                        struct pea_error **err);
/* "sha256:<hex>"; the digester cannot be used afterwards. */
int pea_digester_final(struct pea_digester *d, char **ret, struct pea_error **err);
/* Finalises and compares with expected: -EBADMSG on a mismatch. */
int pea_digester_verify(struct pea_digester *d, const char *expected, struct pea_error **err);
struct pea_digester *pea_digester_free(struct pea_digester *d);

DEFINE_TRIVIAL_CLEANUP_FUNC(struct pea_digester *, pea_digester_free)
#define _cleanup_digester_ _cleanup_(pea_digester_freep)

/* One-shot: the digest of a buffer. */
int pea_digest_data(enum pea_digest_algorithm a, const void *data, size_t len, char **ret,
                    struct pea_error **err);

/* Checks that data has the digest expected (any supported algorithm): -EBADMSG if not. */
int pea_digest_verify(const char *expected, const void *data, size_t len, struct pea_error **err);

/* ---- manifests ----------------------------------------------------------- */

#define PEA_MEDIA_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define PEA_MEDIA_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define PEA_MEDIA_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define PEA_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define PEA_MEDIA_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define PEA_MEDIA_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"

/* Caps on what a registry controls. */
#define PEA_MANIFEST_MAX_BYTES   (4u * 1024 * 1024)
#define PEA_CONFIG_MAX_BYTES     (4u * 1024 * 1024)
#define PEA_MANIFEST_MAX_LAYERS  1000
#define PEA_INDEX_MAX_MANIFESTS  1000
#define PEA_IMAGE_JSON_MAX_DEPTH 32

enum pea_manifest_type {
        PEA_MANIFEST_OCI,
        PEA_MANIFEST_OCI_INDEX,
        PEA_MANIFEST_DOCKER_V2S2,
        PEA_MANIFEST_DOCKER_LIST,
        _PEA_MANIFEST_TYPE_MAX,
        _PEA_MANIFEST_TYPE_INVALID = -EINVAL,
};

const char *pea_manifest_type_to_media_type(enum pea_manifest_type t);
enum pea_manifest_type pea_manifest_type_from_media_type(const char *s);

enum pea_compression {
        PEA_COMPRESSION_NONE,
        PEA_COMPRESSION_GZIP,
        PEA_COMPRESSION_ZSTD,
        _PEA_COMPRESSION_MAX,
        _PEA_COMPRESSION_INVALID = -EINVAL,
};

const char *pea_compression_to_string(enum pea_compression c);

/* os/architecture[/variant]; NULL fields are unset. */
struct pea_platform {
        char *os;
        char *architecture;
        char *variant;
        char *os_version;
};

struct pea_descriptor {
        char *media_type;
        char *digest;
        int64_t size;
        char **urls;         /* NULL when none */
        json_t *annotations; /* an object (a reference this owns), or NULL */
        bool has_platform;   /* index entries */
        struct pea_platform platform;
        /* Layers: from the media type; _PEA_COMPRESSION_INVALID when unknown. */
        enum pea_compression compression;
        bool foreign; /* nondistributable (OCI) or foreign (Docker) layer */
};

struct pea_manifest {
        enum pea_manifest_type type;
        char *digest; /* of raw: the expected one when given, else sha256 */
        char *raw;    /* the bytes as received (NUL-terminated) */
        size_t raw_len;
        json_t *json;
        /* Image manifests (OCI, Docker v2s2). */
        struct pea_descriptor config;
        struct pea_descriptor *layers;
        size_t n_layers;
        /* Indexes (OCI index, Docker manifest list). */
        struct pea_descriptor *manifests;
        size_t n_manifests;
        json_t *annotations; /* object or NULL */
};

/*
 * Parses and validates a manifest. The type comes from the mediaType field,
 * else from content_type (may be NULL; parameters are ignored), else from
 * the structure; the two must agree. With expected_digest (may be NULL) the
 * bytes must have that digest (-EBADMSG otherwise).
 */
int pea_manifest_parse(const void *data, size_t len, const char *content_type,
                       const char *expected_digest, struct pea_manifest **ret,
                       struct pea_error **err);

struct pea_manifest *pea_manifest_free(struct pea_manifest *m);

DEFINE_TRIVIAL_CLEANUP_FUNC(struct pea_manifest *, pea_manifest_free)
#define _cleanup_manifest_ _cleanup_(pea_manifest_freep)

static inline bool pea_manifest_is_index(const struct pea_manifest *m)
{
        return m->type == PEA_MANIFEST_OCI_INDEX || m->type == PEA_MANIFEST_DOCKER_LIST;
}

/* ---- platforms ----------------------------------------------------------- */

/* Parses "os/arch[/variant]" (podman's --platform), normalised. */
int pea_platform_parse(const char *s, struct pea_platform *ret, struct pea_error **err);

/* This host: linux, pea_host_arch(), and the default variant (arm64: v8, arm: v7). */
void pea_platform_host(struct pea_platform *ret);

/* Normalises names in place: aarch64 -> arm64, x86_64 -> amd64, arm64 "8" -> "v8", ... */
void pea_platform_normalize(struct pea_platform *p);

void pea_platform_done(struct pea_platform *p);

/*
 * Picks the entry of an index for a platform as containers-image does: the
 * wanted variant first, then older compatible variants, then an entry
 * without variant. want NULL is this host; a NULL os is linux, a NULL
 * architecture this host's (with its variant). ret points into index.
 */
int pea_manifest_select(const struct pea_manifest *index, const struct pea_platform *want,
                        const struct pea_descriptor **ret, struct pea_error **err);

/* ---- image configs ------------------------------------------------------- */

struct pea_healthcheck {
        char **test; /* ["CMD-SHELL", "..."], ["NONE"], ... */
        int64_t interval, timeout, start_period, start_interval; /* ns, 0: unset */
        int retries;
};

struct pea_history {
        char *created;
        char *created_by;
        char *author;
        char *comment;
        bool empty_layer;
};

/* The OCI image config (Docker's is a superset). NULL: not set. */
struct pea_image_config {
        char *digest; /* of raw */
        char *raw;
        size_t raw_len;
        json_t *json; /* the whole document */
        char *architecture, *os, *variant, *created, *author;
        char *user, *working_dir, *stop_signal;
        char **env, **entrypoint, **cmd; /* an empty vector when [] */
        char **exposed_ports, **volumes; /* the keys, in document order */
        json_t *labels;                  /* object (owned reference) or NULL */
        struct pea_healthcheck *healthcheck;
        char **diff_ids; /* never NULL */
        struct pea_history *history;
        size_t n_history;
};

/* Parses and validates a config blob; with expected_digest, checks it first. */
int pea_image_config_parse(const void *data, size_t len, const char *expected_digest,
                           struct pea_image_config **ret, struct pea_error **err);

/* Checks that config and manifest describe the same layers (diff_ids vs layers). */
int pea_image_config_check_manifest(const struct pea_image_config *c, const struct pea_manifest *m,
                                    struct pea_error **err);

struct pea_image_config *pea_image_config_free(struct pea_image_config *c);

DEFINE_TRIVIAL_CLEANUP_FUNC(struct pea_image_config *, pea_image_config_free)
#define _cleanup_image_config_ _cleanup_(pea_image_config_freep)
