/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "image/store.h"

struct pea_error;
struct pea_layer_row;
struct pea_image_row;

/* A shared lock on layers/<hex>.lock held by this handle. */
struct store_pin {
        char *hex;
        int fd;
};

struct pea_image_store {
        char *graph_root;
        char *layers_path; /* graph/layers */
        char *blobs_path;  /* graph/blobs */
        int layers_fd;
        int blobs_fd;
        struct pea_state *state; /* borrowed */
        struct store_pin *pins;
        size_t n_pins;
        char **search; /* unqualified-search registries */
};

/* Hands a local error e to the caller's err (dropped when err is NULL); returns r. */
static inline int store_forward(int r, struct pea_error **err, struct pea_error **e)
{
        if (err && !*err) {
                *err = *e;
                *e = NULL;
        }
        return r;
}

static inline void *store_mfree(void *p)
{
        free(p);
        return NULL;
}

/* store-util.c */

/* prefix + 16 random hex characters. */
char *store_random_name(const char *prefix);
bool store_is_hex64(const char *s);
/* The hex of a "sha256:<64 hex>" chain ID, or NULL. */
const char *store_chain_hex(const char *chain_id);
/* rm -rf dir/name, making directories writable when removal is refused. */
int store_rm_rf(const char *dir, const char *name, struct pea_error **err);
/* flock(LOCK_EX|LOCK_NB) of dirfd/name: the fd, -EWOULDBLOCK when held, -errno. No err. */
int store_trylock_entry(int dirfd, const char *name);
/* RFC 3339 to unix ns; 0 when s is NULL or malformed. */
int64_t store_parse_time(const char *s);

/* store-layers.c */

/*
 * Locks layers/<hex>.lock (LOCK_EX or LOCK_SH), waiting or not: 1 and *ret_fd
 * when locked, 0 when busy (only without wait).
 */
int store_lock_layer(struct pea_image_store *s, const char *hex, bool exclusive, bool wait,
                     int *ret_fd, struct pea_error **err);
/* Drops this handle's pin of a layer, if any. */
void store_unpin(struct pea_image_store *s, const char *hex);
/* Unlinks layers/<hex>.lock; the caller holds it LOCK_EX. */
void store_unlink_lock(struct pea_image_store *s, const char *hex);
/* Renames layers/<name> to .tmp-del-<random> and removes it; missing is fine. */
int store_remove_layer_dir(struct pea_image_store *s, const char *name, struct pea_error **err);
/* Converts a state row (moving its strings out). */
void store_layer_from_row(struct pea_layer_row *row, struct pea_image_layer *ret);
/* 1 when layers/<hex>/diff exists. */
bool store_layer_dir_exists(struct pea_image_store *s, const char *hex);

/* store-blobs.c */

/* "<alg>/<hex>" of a valid digest, or NULL. */
char *store_blob_relpath(const char *digest);
/* Renames blob digest to <alg>/.tmp-del-<hex> (a missing blob is fine). */
int store_blob_stage_delete(struct pea_image_store *s, const char *digest, struct pea_error **err);
/* Undoes store_blob_stage_delete() (when the blob is still missing). */
void store_blob_unstage(struct pea_image_store *s, const char *digest);
/* Unlinks <alg>/.tmp-del-<hex>. */
void store_blob_finish_delete(struct pea_image_store *s, const char *digest);

/* A blob being written to <alg>/.tmp-<random> (flocked). */
struct store_blob_writer;

/* expected (may be NULL: sha256) picks the algorithm. */
int store_blob_writer_new(struct pea_image_store *s, const char *expected,
                          struct store_blob_writer **ret, struct pea_error **err);
int store_blob_writer_write(struct store_blob_writer *w, const void *data, size_t len,
                            struct pea_error **err);
/* Checks expected (NULL: any), fsyncs and renames into place; always consumes w. */
int store_blob_writer_finish(struct store_blob_writer *w, const char *expected, char **ret_digest,
                             struct pea_error **err);
struct store_blob_writer *store_blob_writer_free(struct store_blob_writer *w);

/* store.c */

/* Fills a record from a row (moving its strings out); layers only when with_layers. */
int store_record_from_row(struct pea_image_store *s, struct pea_image_row *row, bool with_layers,
                          struct pea_image_record *ret, struct pea_error **err);

/* store-lookup.c */

/* Resolves name_or_id to an image ID; *ret_name (may be NULL) the name matched or NULL. */
int store_resolve(struct pea_image_store *s, const char *name_or_id, char **ret_id, char **ret_name,
                  struct pea_error **err);
/* The full names a user's name may stand for, in lookup order. */
char **store_name_candidates(struct pea_image_store *s, const char *name);

/* store-gc.c */

/* True when layers/ or blobs/ hold leftovers of an interrupted operation. */
bool store_needs_repair(struct pea_image_store *s);
