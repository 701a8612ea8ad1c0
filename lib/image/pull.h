/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

/*
 * Pulling an image into the store: resolve the name (short names through
 * registries.conf), fetch and verify the manifest (an index: pick the
 * platform), the config and the layers, and add the image.
 *
 * Layers: those already in the store (by chain ID) are not fetched. The others
 * are downloaded at most PEA_IMAGE_PULL_PARALLEL at once, each streamed through
 * a small in-memory pipe straight into lib/layer's unpacker (one thread
 * downloads, one unpacks) into a .tmp directory of the store, the compressed
 * bytes kept as a blob on the way. Unpacked layers are committed base first
 * (a chain ID needs its parent), so a layer may wait for its parent's commit,
 * never for its parent's download. Every digest is checked: the manifest
 * against the digest asked for (or the index entry), the config against the
 * manifest, each blob against the manifest and each unpacked layer against
 * the config's diff_ids. On any failure the tmp directories are removed and
 * no image is added (the store's atomic protocol).
 *
 * lib/image does not talk to registries itself (modules above it do): the
 * caller passes a transport, a table of functions (cmd/ wires in lib/registry's
 * client). The same table lets the unit tests pull from memory.
 */

struct pea_error;
struct pea_image_ref;
struct pea_image_store;
struct pea_platform;
struct pea_registries;

#define PEA_IMAGE_PULL_PARALLEL 4

/* Receives blob bytes; >= 0, or a negative errno (err set) to stop. */
typedef int (*pea_image_write_fn)(void *userdata, const void *buf, size_t len,
                                  struct pea_error **err);

/* A manifest as fetched. */
struct pea_image_fetched {
        char *data; /* NUL-terminated */
        size_t len;
        char *media_type; /* Content-Type, may be NULL */
        char *digest;     /* from the registry (Docker-Content-Digest), may be NULL */
};

void pea_image_fetched_done(struct pea_image_fetched *f);

/*
 * Where images come from. One connection per registry endpoint; get_blob is
 * called from several threads at once on one connection. Errors read like
 * podman's ("reading manifest latest in localhost:5000/nope: manifest unknown").
 */
struct pea_image_transport {
        /* Opens registry ("localhost:5000", "docker.io"); insecure: TLS not verified, http ok. */
        int (*open)(void *userdata, const char *registry, bool insecure, void **ret_conn,
                    struct pea_error **err);
        void (*close)(void *conn);
        /* GET the manifest of repo ("library/busybox") by tag or digest; caps its size. */
        int (*get_manifest)(void *conn, const char *repo, const char *reference,
                            struct pea_image_fetched *ret, struct pea_error **err);
        /* Streams a blob to write(); fails with -EBADMSG unless digest and size (>= 0) match. */
        int (*get_blob)(void *conn, const char *repo, const char *digest, int64_t size,
                        pea_image_write_fn write, void *write_userdata, struct pea_error **err);
        /* The tags of repo (for --all-tags); may be NULL. */
        int (*list_tags)(void *conn, const char *repo, char ***ret_tags, struct pea_error **err);
        void *userdata;
};

enum pea_image_pull_event_type {
        PEA_PULL_TRYING,     /* ref: "Trying to pull REF..." */
        PEA_PULL_RESOLVED,   /* "Getting image source signatures"; n_layers */
        PEA_PULL_BLOB,       /* a layer: digest, size, index; skipped when stored already */
        PEA_PULL_PROGRESS,   /* a layer's bytes so far: done */
        PEA_PULL_BLOB_DONE,  /* a layer is downloaded and unpacked */
        PEA_PULL_CONFIG,     /* "Copying config DIGEST" */
        PEA_PULL_WRITING,    /* "Writing manifest to image destination" */
        PEA_PULL_SIGNATURES, /* "Storing signatures" */
        _PEA_PULL_EVENT_TYPE_MAX,
        _PEA_PULL_EVENT_TYPE_INVALID = -EINVAL,
};

struct pea_image_pull_event {
        enum pea_image_pull_event_type type;
        const char *ref;
        const char *digest;
        size_t index; /* of the layer, base first */
        size_t n_layers;
        int64_t size; /* of the blob, -1 when unknown */
        int64_t done; /* bytes received */
        bool skipped; /* already in the store */
};

/* Called for each event, one call at a time (from any thread). */
typedef void (*pea_image_pull_progress_fn)(void *userdata, const struct pea_image_pull_event *ev);

struct pea_image_pull_opts {
        /* --platform os/arch[/variant], --os, --arch, --variant; NULL: the host's. */
        const char *platform;
        const char *os;
        const char *arch;
        const char *variant;
        /* --tls-verify: -1 unset (registries.conf decides), 0 false, 1 true. */
        int tls_verify;
        /* How layers are unpacked: lib/layer's enum pea_whiteout_mode (overlay, aufs). */
        int whiteout;
        bool userxattr;
        /* Only one id is mapped: files are not chowned. */
        bool single_id;
        /* Parallel layer downloads; 0: PEA_IMAGE_PULL_PARALLEL. */
        unsigned parallel;
        pea_image_pull_progress_fn progress;
        void *progress_userdata;
};

/*
 * Pulls ref ("busybox", "localhost:5000/a/b:tag", "x@sha256:...") into store:
 * tries each candidate of a short name in order, each mirror of a registry
 * before the registry itself. The image gets the name it was pulled by
 * ("repo:tag", or "repo@digest" when pulled by digest) and the repo digest
 * "repo@manifest-digest" (also "repo@index-digest" after an index).
 * ret_id (may be NULL) gets the image ID (64 hex). The error names the
 * candidate: "initializing source docker://REF: ..."; several failed
 * candidates give one line each after "N errors occurred while pulling:".
 * registries may be NULL (no registries.conf: names are normalised to
 * docker.io, no mirrors, secure). A failed pull leaves no image, no tmp
 * directory and none of the layers it committed (they are collected).
 */
int pea_image_pull(struct pea_image_store *store, const struct pea_registries *registries,
                   const struct pea_image_transport *transport, const char *ref,
                   const struct pea_image_pull_opts *opts, char **ret_id, struct pea_error **err);

/*
 * --all-tags: pulls every tag of repository name (which must have no tag or
 * digest). ret_ids (may be NULL) gets the image IDs, one per tag, in order.
 */
int pea_image_pull_all_tags(struct pea_image_store *store, const struct pea_registries *registries,
                            const struct pea_image_transport *transport, const char *name,
                            const struct pea_image_pull_opts *opts, char ***ret_ids,
                            struct pea_error **err);

/*
 * The platform to pull: --platform, then --os/--arch/--variant over it,
 * normalised; what neither sets stays NULL (pea_manifest_select() takes the
 * host's). ret must be released with pea_platform_done().
 */
int pea_image_pull_platform(const struct pea_image_pull_opts *opts, struct pea_platform *ret,
                            struct pea_error **err);

/*
 * The name an image pulled by ref is stored under: "domain/path:tag", or
 * "domain/path@digest" when ref has a digest. ref must be normalised.
 */
char *pea_image_pull_name(const struct pea_image_ref *ref);
