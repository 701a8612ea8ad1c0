/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The state store: one SQLite database (WAL mode) in the storage root, shared by
 * every pea process of that root. Each mutating call is one transaction; callers
 * compose several calls into one with pea_state_transaction(). A struct pea_state
 * belongs to one process: after fork() the child opens its own.
 */

struct json_t;
struct pea_error;
struct pea_state;

/* Opens (creating and migrating as needed) the SQLite state store at path. */
int pea_state_open(const char *path, struct pea_state **ret, struct pea_error **err);
struct pea_state *pea_state_close(struct pea_state *s);

/*
 * Runs fn inside BEGIN IMMEDIATE ... COMMIT and returns its result; on failure
 * the transaction is rolled back. When the database is busy the whole
 * transaction is retried with backoff, so fn may run more than once and must
 * have no side effects outside the database. Nested calls (fn calling
 * pea_state_* functions, or this one) join the outer transaction.
 */
int pea_state_transaction(struct pea_state *s,
                          int (*fn)(struct pea_state *s, void *userdata, struct pea_error **err),
                          void *userdata, struct pea_error **err);

/*
 * Counts for `pea info`: {"containers": {"number", "paused", "running",
 * "stopped"}, "images": n, "pods": n, "volumes": n}.
 */
int pea_state_counts(struct pea_state *s, struct json_t **ret, struct pea_error **err);

/* A new random ID: 64 lowercase hex characters from getrandom(), never all-digit
 * in its 12-character short form. Aborts only if the kernel has no randomness. */
char *pea_generate_id(void);

/* True for 64 lowercase hex characters. */
bool pea_id_is_valid(const char *id);

/* Container states, as stored: created|running|paused|stopped|exited|removing|unknown. */
bool pea_container_state_is_valid(const char *state);

struct pea_container_row {
        char *id; /* 64 hex */
        char *name;
        char *image_id;   /* may be NULL */
        char *image_name; /* may be NULL */
        char *pod_id;     /* may be NULL */
        char *state;
        struct json_t *config; /* NULL is stored as {} */
        int64_t created;       /* unix ns; 0 on add means now */
        int64_t started_at;    /* unix ns, 0 if never */
        int64_t finished_at;   /* unix ns, 0 if never */
        int pid;               /* 0 if not running */
        int exit_code;
};

void pea_container_row_done(struct pea_container_row *row);
struct pea_container_row *pea_container_rows_free(struct pea_container_row *rows, size_t n);

/* -EEXIST when the name (of a container or pod) or the ID is taken; -ENOENT
 * when pod_id names no pod; -EINVAL on a bad ID or state. */
int pea_state_container_add(struct pea_state *s, const struct pea_container_row *row,
                            struct pea_error **err);

/* Exact lookups; -ENOENT "no container with name or ID 'x' found: no such container". */
int pea_state_container_get_by_id(struct pea_state *s, const char *id,
                                  struct pea_container_row *ret, struct pea_error **err);
int pea_state_container_get_by_name(struct pea_state *s, const char *name,
                                    struct pea_container_row *ret, struct pea_error **err);

/* Full ID, then name, then unique ID prefix, as podman resolves them. A prefix
 * that matches several containers fails with -EINVAL. */
int pea_state_container_lookup(struct pea_state *s, const char *name_or_id,
                               struct pea_container_row *ret, struct pea_error **err);

/* All containers, or those of pod_id when it is not NULL, oldest first. */
int pea_state_container_list(struct pea_state *s, const char *pod_id,
                             struct pea_container_row **ret, size_t *ret_n, struct pea_error **err);

/* Writes name, state, config, pid, exit_code, started_at and finished_at of the
 * container row->id. -ENOENT when it does not exist, -EEXIST on a taken name. */
int pea_state_container_update(struct pea_state *s, const struct pea_container_row *row,
                               struct pea_error **err);

/* Sets only the runtime fields, as the monitor does on start and exit. */
int pea_state_container_set_state(struct pea_state *s, const char *id, const char *state, int pid,
                                  int exit_code, int64_t started_at, int64_t finished_at,
                                  struct pea_error **err);

int pea_state_container_remove(struct pea_state *s, const char *id, struct pea_error **err);

struct pea_pod_row {
        char *id; /* 64 hex */
        char *name;
        char *infra_id; /* may be NULL */
        struct json_t *config;
        int64_t created; /* unix ns; 0 on add means now */
};

void pea_pod_row_done(struct pea_pod_row *row);
struct pea_pod_row *pea_pod_rows_free(struct pea_pod_row *rows, size_t n);

/* -EEXIST "error adding pod to state: name 'x' is in use: pod already exists". */
int pea_state_pod_add(struct pea_state *s, const struct pea_pod_row *row, struct pea_error **err);
int pea_state_pod_get_by_id(struct pea_state *s, const char *id, struct pea_pod_row *ret,
                            struct pea_error **err);
/* Full ID, name, or unique ID prefix; -ENOENT "no pod with name or ID 'x' found: no such pod". */
int pea_state_pod_lookup(struct pea_state *s, const char *name_or_id, struct pea_pod_row *ret,
                         struct pea_error **err);
int pea_state_pod_list(struct pea_state *s, struct pea_pod_row **ret, size_t *ret_n,
                       struct pea_error **err);
/* Writes name, infra_id and config of the pod row->id. */
int pea_state_pod_update(struct pea_state *s, const struct pea_pod_row *row,
                         struct pea_error **err);
/* -EBUSY while containers still belong to the pod. */
int pea_state_pod_remove(struct pea_state *s, const char *id, struct pea_error **err);

/*
 * Image store rows (schema v2), used by lib/image's store. These touch only the
 * database: the store keeps the directories and blobs in step with them.
 */

struct pea_layer_row {
        char *chain_id;        /* "sha256:<hex>" */
        char *diff_id;         /* "sha256:<hex>" of the uncompressed tar */
        char *parent_chain_id; /* NULL for a base layer */
        char *digest;          /* the compressed blob it came from, may be NULL */
        char *media_type;      /* of that blob, may be NULL */
        char *whiteout;        /* "overlay", "overlay-userxattr" or "aufs" */
        int64_t size;          /* uncompressed bytes */
        int64_t created;       /* unix ns; 0 on add means now */
};

void pea_layer_row_done(struct pea_layer_row *row);
struct pea_layer_row *pea_layer_rows_free(struct pea_layer_row *rows, size_t n);

/* Inserts a layer: 1 when added, 0 when the chain ID exists (that row is kept).
 * -ENOENT when the parent layer has no row. */
int pea_state_layer_add(struct pea_state *s, const struct pea_layer_row *row,
                        struct pea_error **err);
/* -ENOENT "layer 'x' not known". */
int pea_state_layer_get(struct pea_state *s, const char *chain_id, struct pea_layer_row *ret,
                        struct pea_error **err);
int pea_state_layer_list(struct pea_state *s, struct pea_layer_row **ret, size_t *ret_n,
                         struct pea_error **err);
/* Layers that no image uses and that are no other layer's parent. */
int pea_state_layer_list_unused(struct pea_state *s, char ***ret, struct pea_error **err);
/* -EBUSY while an image or a child layer uses it; -ENOENT when there is no such row. */
int pea_state_layer_remove(struct pea_state *s, const char *chain_id, struct pea_error **err);
/*
 * For a layer whose directory is lost: removes it, every layer built on it and
 * every image using any of them (one transaction). ret_image_ids (may be NULL)
 * gets the IDs of the images removed.
 */
int pea_state_layer_remove_broken(struct pea_state *s, const char *chain_id, char ***ret_image_ids,
                                  struct pea_error **err);

struct pea_image_row {
        char *id;                          /* 64 hex: the hex of the config digest */
        char *digest;                      /* "sha256:<hex>" of the manifest */
        char *manifest_media_type;         /* may be NULL */
        char *config;                      /* the config blob as text; NULL when not loaded */
        char **names;                      /* full references, in the order they were added */
        char **repo_digests;               /* "repo@sha256:<hex>" as recorded */
        char *os, *architecture, *variant; /* may be NULL */
        int64_t created;                   /* unix ns, from the config; 0 when unknown */
        int64_t size;                      /* sum of the layers' uncompressed sizes */
        int64_t added;                     /* unix ns; 0 on add means now */
        char **layers;                     /* chain IDs, base first */
};

void pea_image_row_done(struct pea_image_row *row);
struct pea_image_row *pea_image_rows_free(struct pea_image_row *rows, size_t n);

/*
 * Adds an image, or merges into the image with the same ID: digest and manifest
 * media type are replaced, repo digests united, names added. A name held by
 * another image moves to this one (which may leave that one without names).
 * -ENOENT when a layer has no row; -EINVAL when a merge brings other layers.
 */
int pea_state_image_add(struct pea_state *s, const struct pea_image_row *row,
                        struct pea_error **err);
/* With config, names, repo digests and layers; -ENOENT "image 'x' not known". */
int pea_state_image_get(struct pea_state *s, const char *id, struct pea_image_row *ret,
                        struct pea_error **err);
/* Newest first; configs only when with_config. */
int pea_state_image_list(struct pea_state *s, bool with_config, struct pea_image_row **ret,
                         size_t *ret_n, struct pea_error **err);
/* The image holding the exact name, or *ret_id NULL. */
int pea_state_image_by_name(struct pea_state *s, const char *name, char **ret_id,
                            struct pea_error **err);
/* How many image IDs start with prefix (0, 1, or 2 for more); *ret_id set when 1. */
int pea_state_image_by_prefix(struct pea_state *s, const char *prefix, char **ret_id,
                              struct pea_error **err);
/* Removes the image row with its names and layer list (not the layers). -ENOENT. */
int pea_state_image_remove(struct pea_state *s, const char *id, struct pea_error **err);
/* Gives name to image id, taking it from any other image. -ENOENT: no such image. */
int pea_state_image_tag(struct pea_state *s, const char *id, const char *name,
                        struct pea_error **err);
/* -ENOENT "'name': tag not known" when the image does not have that name. */
int pea_state_image_untag(struct pea_state *s, const char *id, const char *name,
                          struct pea_error **err);
/* IDs of the containers created from image id (none: an empty vector). */
int pea_state_image_users(struct pea_state *s, const char *id, char ***ret, struct pea_error **err);
/* 1 when an image (config, manifest, repo digest) or layer row refers to the blob digest. */
int pea_state_blob_in_use(struct pea_state *s, const char *digest, struct pea_error **err);

/*
 * Monitor-owned keys of a container's config (lib/state/health.c): "Health"
 * is podman's State.Health ({"Status", "FailingStreak", "Log"}) as JSON text
 * (NULL: none), "OOMKilled" a boolean. Only that key is changed.
 */
int pea_state_container_set_health(struct pea_state *s, const char *id, const char *health_json,
                                   struct pea_error **err);
int pea_state_container_set_oom_killed(struct pea_state *s, const char *id, bool oom_killed,
                                       struct pea_error **err);
/* The stored Health object, or *ret NULL when there is none. */
int pea_state_container_get_health(struct pea_state *s, const char *id, struct json_t **ret,
                                   struct pea_error **err);

/*
 * Volume rows (lib/state/volume.c, schema v3), used by lib/volume, which keeps
 * the directories <graph_root>/volumes/<name>/_data in step with them.
 * container_volumes records which containers use which volumes: the run code
 * writes it with pea_state_container_set_volumes() when it creates a container
 * (the rows go with the container when it is removed).
 */
struct pea_volume_row {
        char *name;
        char *driver;           /* "local"; NULL on add means "local" */
        char *mountpoint;       /* <graph_root>/volumes/<name>/_data */
        struct json_t *options; /* {"type": ..., "device": ..., "o": ...}; NULL: {} */
        struct json_t *labels;  /* {"k": "v"}; NULL: {} */
        int64_t created;        /* unix ns; 0 on add means now */
        bool anonymous;     /* made for an image VOLUME or -v /path: run --rm and rm -v drop it */
        bool needs_copy_up; /* podman's NeedsCopyUp: image content not yet copied in */
        bool needs_chown;   /* podman's NeedsChown: not yet chowned to its first user */
        int mount_count;    /* how many containers have it mounted (tmpfs/bind options) */
};

void pea_volume_row_done(struct pea_volume_row *row);
struct pea_volume_row *pea_volume_rows_free(struct pea_volume_row *rows, size_t n);

/* -EEXIST "volume with name x already exists: volume already exists". */
int pea_state_volume_add(struct pea_state *s, const struct pea_volume_row *row,
                         struct pea_error **err);
/* -ENOENT "no volume with name "x" found: no such volume". */
int pea_state_volume_get(struct pea_state *s, const char *name, struct pea_volume_row *ret,
                         struct pea_error **err);
/* All volumes, sorted by name. */
int pea_state_volume_list(struct pea_state *s, struct pea_volume_row **ret, size_t *ret_n,
                          struct pea_error **err);
/* Writes every column of row->name except created; -ENOENT. */
int pea_state_volume_update(struct pea_state *s, const struct pea_volume_row *row,
                            struct pea_error **err);
/* Adds delta to mount_count (never below 0); *ret_count (may be NULL) gets the new value. */
int pea_state_volume_add_mount_count(struct pea_state *s, const char *name, int delta,
                                     int *ret_count, struct pea_error **err);
/*
 * -EBUSY "volume x is being used by the following container(s): <ids>: volume
 * is being used" while a container uses it; -ENOENT when there is no such row.
 */
int pea_state_volume_remove(struct pea_state *s, const char *name, struct pea_error **err);
/* IDs of the containers using the volume, oldest first (none: an empty vector). */
int pea_state_volume_users(struct pea_state *s, const char *name, char ***ret,
                           struct pea_error **err);
/* Replaces the list of named volumes container_id uses; -ENOENT for an unknown volume. */
int pea_state_container_set_volumes(struct pea_state *s, const char *container_id,
                                    char *const *names, struct pea_error **err);
/* The volumes container_id uses, in the order given (none: an empty vector). */
int pea_state_container_get_volumes(struct pea_state *s, const char *container_id, char ***ret,
                                    struct pea_error **err);
