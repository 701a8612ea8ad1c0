/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

/*
 * The image store: where images and layers live on disk and in the state
 * database. No network and no CLI: the pull code fetches, this keeps.
 *
 * Layout (graph = struct pea_config.graph_root):
 *   graph/layers/<hex>/diff/        one unpacked layer (<hex>: its chain ID)
 *   graph/layers/<hex>/layer.json   diff_id, compressed digest and media type,
 *                                   size, parent chain ID, whiteout format
 *   graph/layers/<hex>.lock         the layer's lock file (see below)
 *   graph/layers/.tmp-<random>/     a layer being unpacked, or removed
 *                                   (.tmp-del-<...>)
 *   graph/blobs/<alg>/<hex>         manifests and configs (and compressed layer
 *                                   blobs when asked); .tmp-* while written
 * and the state tables layers, image_layers, images, image_names (schema v2).
 *
 * Chain IDs follow the OCI image spec: chain(L0) = diff_id(L0), chain(Ln) =
 * sha256(chain(Ln-1) + " " + diff_id(Ln)), written "sha256:<hex>".
 *
 * Crash safety (kill -9 at any point): a layer is unpacked under .tmp-*, gets
 * its layer.json, and is renamed to <hex> as a whole; its row is inserted only
 * after the rename, so a row always has its directory. An image's row, layer
 * list and names are one transaction after all its layers and blobs exist, so
 * no half image is ever listed. Deletions remove rows first, then rename the
 * directory to .tmp-del-* and remove it. Whatever an interrupted operation
 * left (.tmp-* entries, a directory without a row, a row without a directory)
 * is found by a cheap check at open (one readdir of layers/ and blobs/, one
 * query) and fixed by pea_image_store_repair(). A row whose directory is lost
 * takes the layers above it and the images using them with it.
 *
 * Locking protocol (flock(2); works across processes and between handles of
 * one process, never blocks while a database transaction is open):
 *   - graph/layers/<hex>.lock, LOCK_SH: a "pin". Whoever is about to use or
 *     reference a layer pins it first and keeps the pin until its image is
 *     added: layer_exists(), layer_commit() and layer_import() pin what they
 *     look at (the parent too), so a pull that goes through them, base layer
 *     first, is covered; add_image() drops the pins of its layers once the
 *     image row holds them. pea_image_store_unpin_all() and close drop all
 *     (a failed pull).
 *   - the same file, LOCK_EX|LOCK_NB: taken by removal (rmi, gc, repair) for
 *     each layer it deletes, inside the deleting transaction and until the
 *     directory is gone. A pinned layer is skipped and stays (as an unused
 *     layer for the next gc), so rmi never breaks a pull and never waits for
 *     one.
 *     A lock file is unlinked only under LOCK_EX; lockers check after flock
 *     that the file they hold is still the one at the path.
 *   - each .tmp-* directory or file is flocked LOCK_EX by the process writing
 *     it; repair removes only those it can lock.
 *   - blob files are removed in two steps: renamed to .tmp-del-* inside the
 *     removing transaction, unlinked after it; add_image re-checks its blobs
 *     inside its own transaction and rewrites a missing one.
 * Two processes unpacking the same layer both unpack; the one whose rename
 * loses discards its copy and uses the winner's directory and layer.json.
 * A layer's files are synced (syncfs) before its rename, so a row also
 * survives a power loss with its content. Diff IDs must be sha256.
 *
 * A stored layer keeps the whiteout format it was unpacked with (see
 * pea_image_layer.whiteout): a storage driver that cannot read that format
 * must not use it as a lower layer as is.
 *
 * Containers: an image used by a container (containers.image_id) cannot be
 * removed (-EBUSY); containers reference layers only through their image. If
 * containers ever get layer rows of their own (a committed writable layer),
 * their parents must count as used: the hook is gc_image() and
 * pea_state_layer_list_unused().
 *
 * Nothing here chowns or needs real root: the same code runs inside the
 * rootless user namespace.
 */

struct pea_error;
struct pea_layer_source;
struct pea_layer_unpack_opts;
struct pea_state;
struct pea_image_store;

/* How a layer's diff marks deletions (chosen by how it was unpacked). */
enum pea_image_whiteout {
        /* 0:0 character devices, trusted.overlay.opaque: native overlay */
        PEA_IMAGE_WHITEOUT_OVERLAY,
        /* 0:0 character devices, user.overlay.opaque: overlay with userxattr */
        PEA_IMAGE_WHITEOUT_OVERLAY_USERXATTR,
        /* some or all whiteouts are ".wh." files (mknod refused): fuse-overlayfs */
        PEA_IMAGE_WHITEOUT_AUFS,
        _PEA_IMAGE_WHITEOUT_MAX,
        _PEA_IMAGE_WHITEOUT_INVALID = -EINVAL,
};

/* "overlay", "overlay-userxattr", "aufs". */
const char *pea_image_whiteout_to_string(enum pea_image_whiteout w);
enum pea_image_whiteout pea_image_whiteout_from_string(const char *s);

/* Opens (creating layers/ and blobs/ as needed) the store in graph_root; state is
 * borrowed and must outlive the store. Runs pea_image_store_repair() when the
 * cheap check finds leftovers of an interrupted operation. */
int pea_image_store_open(const char *graph_root, struct pea_state *state,
                         struct pea_image_store **ret, struct pea_error **err);
/* Releases the pins too. */
struct pea_image_store *pea_image_store_close(struct pea_image_store *s);

DEFINE_TRIVIAL_CLEANUP_FUNC(struct pea_image_store *, pea_image_store_close)
#define _cleanup_image_store_ _cleanup_(pea_image_store_closep)

/* Registries tried for short names in lookups after "localhost/" and before
 * docker.io (registries.conf's unqualified-search-registries). Copied. */
void pea_image_store_set_search(struct pea_image_store *s, char *const *registries);

/* ---- layers ---------------------------------------------------------------------------- */

/* "sha256:<hex>" of chain(parent) + diff_id; parent NULL for a base layer. */
int pea_image_chain_id(const char *parent_chain_id, const char *diff_id, char **ret,
                       struct pea_error **err);

/* Takes a shared lock on the layer (waits while it is being removed); idempotent. */
int pea_image_store_layer_pin(struct pea_image_store *s, const char *chain_id,
                              struct pea_error **err);
/* Drops every pin of this handle. */
void pea_image_store_unpin_all(struct pea_image_store *s);

/* Pins the layer, then 1 when it is in the store (row and directory), else 0. */
int pea_image_store_layer_exists(struct pea_image_store *s, const char *chain_id,
                                 struct pea_error **err);

struct pea_image_layer {
        char *chain_id;        /* "sha256:<hex>" */
        char *diff_id;         /* sha256 of the uncompressed tar */
        char *parent_chain_id; /* NULL for a base layer */
        char *digest;          /* the compressed blob it came from, NULL when unknown */
        char *media_type;      /* of that blob, NULL when unknown */
        int64_t size;          /* uncompressed bytes */
        int64_t created;       /* unix ns */
        enum pea_image_whiteout whiteout;
};

void pea_image_layer_done(struct pea_image_layer *l);

/* -ENOENT "layer 'x' not known". */
int pea_image_store_layer_get(struct pea_image_store *s, const char *chain_id,
                              struct pea_image_layer *ret, struct pea_error **err);

/* "<graph>/layers/<hex>/diff" (overlay lowerdir); NULL when chain_id is no sha256 digest. */
char *pea_image_store_layer_path(struct pea_image_store *s, const char *chain_id);

/* A layer being unpacked. Consumed by commit or abort. */
struct pea_image_store_tmp {
        int diff_fd;     /* the directory to unpack into (O_DIRECTORY) */
        char *diff_path; /* its path */
        char *name;      /* private: ".tmp-<random>" in layers/ */
        int dir_fd;      /* private: the .tmp directory, flocked */
};

int pea_image_store_layer_begin(struct pea_image_store *s, struct pea_image_store_tmp **ret,
                                struct pea_error **err);

/* What commit records; the caller has checked diff_id against the image config. */
struct pea_image_layer_info {
        const char *parent_chain_id; /* NULL for a base layer; must be in the store */
        const char *diff_id;
        const char *digest;     /* compressed blob digest, may be NULL */
        const char *media_type; /* may be NULL */
        int64_t size;           /* uncompressed bytes */
        enum pea_image_whiteout whiteout;
};

/*
 * Moves an unpacked layer into the store under its chain ID (pinned) and
 * records it. When the layer is already there (or another process wins the
 * rename) the tmp copy is discarded and the stored one kept. Always consumes
 * tmp. ret_chain_id may be NULL.
 */
int pea_image_store_layer_commit(struct pea_image_store *s, struct pea_image_store_tmp *tmp,
                                 const struct pea_image_layer_info *info, char **ret_chain_id,
                                 struct pea_error **err);

/* Removes an unpacked layer that is not wanted; NULL is fine. Returns NULL. */
struct pea_image_store_tmp *pea_image_store_layer_abort(struct pea_image_store *s,
                                                        struct pea_image_store_tmp *tmp);

struct pea_image_layer_import {
        const char *parent_chain_id; /* NULL for a base layer */
        const char *diff_id;         /* expected, from the image config (required) */
        const char *digest;          /* expected digest of the stream, NULL: not checked */
        const char *media_type;      /* of the stream, may be NULL */
        /* Also keep the compressed stream as blob `digest` (for push and save). */
        bool keep_blob;
};

/*
 * Pins the layer and, unless it is in the store already (returns 0 without
 * reading src), unpacks src with lib/layer (opts may be NULL: overlay
 * whiteouts), checks diff_id and digest, and commits it (returns 1).
 * PEA_WHITEOUT_APPLY (vfs) layers are not stored here (-EINVAL).
 */
int pea_image_store_layer_import(struct pea_image_store *s,
                                 const struct pea_image_layer_import *imp,
                                 const struct pea_layer_source *src,
                                 const struct pea_layer_unpack_opts *opts, char **ret_chain_id,
                                 struct pea_error **err);

/* ---- blobs ----------------------------------------------------------------------------- */

/* Bytes read by get_blob at most. */
#define PEA_IMAGE_STORE_BLOB_MAX (16u * 1024 * 1024)

/* Stores data as blob digest after checking it (-EBADMSG on a mismatch); an
 * existing blob is kept. Atomic: temporary file, fsync, rename. */
int pea_image_store_put_blob(struct pea_image_store *s, const char *digest, const void *data,
                             size_t len, struct pea_error **err);
/* The same, reading fd until EOF. */
int pea_image_store_put_blob_fd(struct pea_image_store *s, const char *digest, int fd,
                                struct pea_error **err);
/* Reads a blob of at most PEA_IMAGE_STORE_BLOB_MAX bytes and checks its digest. */
int pea_image_store_get_blob(struct pea_image_store *s, const char *digest, char **ret,
                             size_t *ret_len, struct pea_error **err);
/* Opens a blob for reading (large layer blobs); -ENOENT when missing. */
int pea_image_store_open_blob(struct pea_image_store *s, const char *digest,
                              struct pea_error **err);
bool pea_image_store_has_blob(struct pea_image_store *s, const char *digest);

/* ---- images ---------------------------------------------------------------------------- */

struct pea_image_record {
        char *id;                  /* 64 hex: the config digest */
        char *digest;              /* "sha256:<hex>" of the manifest */
        char *manifest_media_type; /* NULL when unknown */
        char *manifest;            /* add: the manifest bytes; read: NULL (get_blob(digest)) */
        size_t manifest_len;
        char *config; /* add: the config bytes; get/lookup: the same; list: NULL */
        size_t config_len;
        char **names;        /* read: full references, oldest first */
        char **repo_digests; /* add: "repo@digest" as pulled (may be NULL); read: those and
                              * each name's repository @ each recorded digest */
        int64_t created;     /* unix ns, from the config */
        int64_t size;        /* sum of the layers' uncompressed sizes */
        char *os, *architecture, *variant;
        struct pea_image_layer *layers; /* base first; get/lookup only */
        size_t n_layers;
};

void pea_image_record_done(struct pea_image_record *r);
struct pea_image_record *pea_image_records_free(struct pea_image_record *r, size_t n);

/*
 * Adds an image once all its layers are committed. Reads manifest(+_len),
 * config(+_len), manifest_media_type (may be NULL), digest (may be NULL:
 * sha256 of the manifest), id (may be NULL; must match) and repo_digests;
 * derives the rest from the config and checks that config, manifest and the
 * stored layers agree. names are full normalised references
 * ("docker.io/library/busybox:latest", "localhost/x@sha256:..."); a name held by
 * another image moves here (that one may become dangling). Adding an image
 * that exists merges names and digests. ret_id may be NULL.
 */
int pea_image_store_add_image(struct pea_image_store *s, const struct pea_image_record *rec,
                              char *const *names, char **ret_id, struct pea_error **err);

/*
 * Resolves as podman does: a full ID (or "sha256:<id>"); then the name as
 * given if qualified, else "localhost/NAME", the search registries and
 * docker.io (":latest" added without tag or digest); then a unique ID prefix;
 * then any image with the digest of NAME@DIGEST, or a tag whose repository ends
 * in "/NAME" (so "busybox" finds "quay.io/x/busybox:latest"). -ENOENT
 * "busybox: image not known". ret_name (may be NULL) gets the name matched,
 * NULL when matched by ID.
 */
int pea_image_store_lookup(struct pea_image_store *s, const char *name_or_id,
                           struct pea_image_record *ret, char **ret_name, struct pea_error **err);
/* By full ID, exactly. */
int pea_image_store_get(struct pea_image_store *s, const char *id, struct pea_image_record *ret,
                        struct pea_error **err);
/* Newest first; without config, manifest and layers. */
int pea_image_store_list(struct pea_image_store *s, struct pea_image_record **ret, size_t *ret_n,
                         struct pea_error **err);
/* Chain IDs of the image's layers, base first (lowerdirs: reverse order). */
int pea_image_store_layers_of(struct pea_image_store *s, const char *image, char ***ret,
                              struct pea_error **err);

/* Gives a full normalised name to the image (looked up); moves it from another image. */
int pea_image_store_tag(struct pea_image_store *s, const char *image, const char *name,
                        struct pea_error **err);
/* -ENOENT "NAME: tag not known" when the image does not have that name. */
int pea_image_store_untag(struct pea_image_store *s, const char *image, const char *name,
                          struct pea_error **err);

enum {
        /* Remove an image by ID even when it has several names. */
        PEA_IMAGE_REMOVE_FORCE = 1 << 0,
};

struct pea_image_remove_report {
        char *id;
        char **untagged; /* names removed */
        bool removed;    /* the image is gone (else it was only untagged) */
        size_t layers_removed;
};

void pea_image_remove_report_done(struct pea_image_remove_report *r);

/*
 * podman rmi: an image named by one of several names loses only that name;
 * otherwise it is removed (by ID with several names only with FORCE) with
 * the layers and blobs no other image uses. -EBUSY while containers use it:
 * the caller removes them first (podman rmi --force). ret may be NULL.
 */
int pea_image_store_remove(struct pea_image_store *s, const char *name_or_id, unsigned flags,
                           struct pea_image_remove_report *ret, struct pea_error **err);

/* Removes layers no image uses and nobody pins; ret_n (may be NULL) gets how many. */
int pea_image_store_gc(struct pea_image_store *s, size_t *ret_n, struct pea_error **err);

/*
 * Finishes or undoes interrupted operations: removes unlocked .tmp-* entries,
 * layer directories without rows, rows (and their images) without
 * directories, stray lock files; safe to run while other processes work.
 */
int pea_image_store_repair(struct pea_image_store *s, struct pea_error **err);
