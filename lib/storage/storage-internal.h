/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "storage.h"

struct pea_error;
struct pea_storage;

/*
 * A storage backend, after crun's cgroup managers. Paths come from the
 * helpers below; storage.c validates ids and lowers, takes the lock, keeps
 * the mount records and rolls back a failed create.
 */
struct pea_storage_driver {
        const char *name;
        /* false for vfs: mount and umount only keep the record. */
        bool mounts;
        /* > 0 when the driver works here; otherwise -errno with the reason. */
        int (*probe)(struct pea_storage *s, struct pea_error **err);
        /* Fills the existing, empty container directory. */
        int (*create)(struct pea_storage *s, const char *id, const char *const *lowers, size_t n,
                      struct pea_error **err);
        int (*mount)(struct pea_storage *s, const char *id, struct pea_error **err);
        /* Unmounts merged, falling back to a lazy unmount; not mounted is fine. */
        int (*umount)(struct pea_storage *s, const char *id, struct pea_error **err);
        /* Deletes the (unmounted) container directory. */
        int (*remove)(struct pea_storage *s, const char *id, struct pea_error **err);
};

extern const struct pea_storage_driver storage_driver_overlay;
extern const struct pea_storage_driver storage_driver_fuse_overlayfs;
extern const struct pea_storage_driver storage_driver_vfs;

/* What the probe found out, cached in driver-probe.json. */
struct storage_probe {
        bool overlay;        /* a native overlay mount worked */
        char *overlay_error; /* why not, else NULL */
        bool mknod;          /* 0:0 character devices (whiteouts) can be created */
};

struct pea_storage {
        char *graph_root; /* canonical */
        char *run_root;   /* canonical */
        bool rootless;
        const struct pea_storage_driver *driver;
        bool probed;
        struct storage_probe probe;
        char *fuse_program; /* set by the fuse-overlayfs probe */
};

/* The probe results, running the probe (once per kernel release) if needed. */
int storage_get_probe(struct pea_storage *s, const struct storage_probe **ret,
                      struct pea_error **err);

/* <graph_root>/containers/<id>[/<sub>] */
char *storage_container_path(const struct pea_storage *s, const char *id, const char *sub);

/* How many mounts sit on path (0: none); paths under it too when subtree. */
int storage_mount_count(const char *path, bool subtree);

/* Unmounts everything on path, lazily when busy. */
int storage_umount_path(const char *path, struct pea_error **err);

/* Makes work/work (mode 000, left by overlayfs) removable, then rm -rf the container. */
int storage_remove_container_dir(const struct pea_storage *s, const char *id,
                                 struct pea_error **err);

/* overlay.c, shared with fuse-overlayfs: upper, work, merged, the lower links and file. */
int storage_overlay_layout(struct pea_storage *s, const char *id, const char *const *lowers,
                           size_t n, struct pea_error **err);

/* The "lower" file: "l/<short>:l/<short>..." relative to graph_root. */
int storage_overlay_read_lower(const struct pea_storage *s, const char *id, char **ret,
                               struct pea_error **err);

/* Runs the native overlay and mknod experiment in a temporary directory. */
void storage_probe_run(const struct pea_storage *s, struct storage_probe *ret);

/* Drops <graph_root>/l links whose layer is gone. */
void storage_prune_links(const struct pea_storage *s);
