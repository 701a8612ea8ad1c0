/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/*
 * lib/storage: a container's writable layer over its image's layers.
 *
 * Three drivers, a table of function pointers each (storage-internal.h):
 *   overlay         native kernel overlayfs; rootless it needs kernel >= 5.11
 *                   (mount option userxattr) and runs in the caller's user and
 *                   mount namespace (the holder's, once pea_userns_join() ran).
 *   fuse-overlayfs  the external program PEA_FUSE_OVERLAYFS; it daemonizes and
 *                   serves the mount until it is unmounted.
 *   vfs             a full copy of the layers, whiteouts applied, at create
 *                   time; mounting is a no-op.
 *
 * Layout:
 *   <graph_root>/storage/driver              the driver containers were created with
 *   <graph_root>/storage/driver-probe.json   the cached native overlay probe
 *   <graph_root>/l/<short-id>                symlinks to the lower layers, so a
 *                                            lowerdir of many layers stays short
 *   <graph_root>/containers/<id>/{lower,upper,work,merged}   overlay drivers
 *   <graph_root>/containers/<id>/rootfs                      vfs (merged = rootfs)
 *   <run_root>/storage/mounts/<id>           mount record: {"driver", "merged"}
 *
 * Whiteouts in the lower layers: native overlay understands only 0:0 character
 * devices and the opaque xattr (trusted.overlay.opaque as root,
 * user.overlay.opaque with userxattr, i.e. rootless); a layer unpacked with
 * ".wh." files (AUFS mode) shows those files instead of hiding anything. The
 * image store must therefore unpack layers in the mode
 * pea_storage_whiteout_mode() names. fuse-overlayfs understands both forms,
 * and vfs interprets both forms itself while copying.
 *
 * Every mount happens in the current mount namespace. Mounts outlive the
 * process (a detached container keeps its rootfs); the record in run_root lets
 * a later process find and clean a mount whose owner crashed.
 * pea_storage_remove() never leaves anything mounted.
 */

struct pea_error;
struct pea_storage;

/* The most lower layers a container may have (overlayfs's own limit is 500). */
#define PEA_STORAGE_MAX_LAYERS 500u

/*
 * Opens the storage of graph_root (image layers and containers) and run_root
 * (mount records), creating their storage directories. Both must be absolute.
 *
 * driver_name: "overlay", "fuse-overlayfs", "vfs", or NULL/"" for automatic
 * selection. Automatic: the driver recorded in <graph_root>/storage/driver if
 * any; else native overlay when a real overlay mount in a temporary directory
 * under graph_root works (with userxattr when rootless; the result is cached
 * in driver-probe.json until the kernel release changes); else fuse-overlayfs
 * when /dev/fuse opens and the program is found; else vfs. An explicit driver
 * that differs from the recorded one while containers exist fails with
 * -EINVAL; one that cannot work here fails with -ENOTSUP and the reason.
 */
int pea_storage_open(const char *graph_root, const char *run_root, const char *driver_name,
                     bool rootless, struct pea_storage **ret, struct pea_error **err);

struct pea_storage *pea_storage_free(struct pea_storage *s);

static inline void pea_storage_freep(struct pea_storage **s)
{
        if (*s)
                (void)pea_storage_free(*s);
}

#define _cleanup_storage_ __attribute__((cleanup(pea_storage_freep)))

/* "overlay", "fuse-overlayfs" or "vfs". */
const char *pea_storage_driver_name(const struct pea_storage *s);

/*
 * How the image store must unpack layers for this driver: "overlay" or "aufs"
 * (the names pea_whiteout_mode_from_string() in lib/layer takes), and in
 * *ret_userxattr (may be NULL) whether the opaque xattr goes to user.overlay.*
 * instead of trusted.overlay.*.
 *   overlay:        "overlay", userxattr when rootless.
 *   fuse-overlayfs: "overlay" when 0:0 character devices can be created here,
 *                   else "aufs"; no userxattr (a refused trusted.* xattr
 *                   falls back to a ".wh..wh..opq" file, which it reads).
 *   vfs:            "overlay", userxattr when rootless (its copy reads both).
 */
const char *pea_storage_whiteout_mode(const struct pea_storage *s, bool *ret_userxattr);

/*
 * Creates the container's storage over lower_dirs: absolute paths of layer
 * directories (normally <graph_root>/layers/<chain>/diff), top-most first as
 * overlay's lowerdir wants, NULL-terminated; NULL or empty for no layers. At
 * most PEA_STORAGE_MAX_LAYERS. id: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128
 * bytes. -EEXIST when the container already has storage. vfs copies the
 * layers here. On failure nothing is left behind.
 */
int pea_storage_create(struct pea_storage *s, const char *id, const char *const *lower_dirs,
                       struct pea_error **err);

/*
 * Marks a created container's storage volatile: its writable layer is never
 * synced (overlay's "volatile" where the kernel has it), so unmounting costs
 * no sync of the whole file system. For containers removed at exit (--rm),
 * whose changes nobody reads after a crash.
 */
int pea_storage_set_volatile(struct pea_storage *s, const char *id, struct pea_error **err);

/*
 * Mounts the container's root file system and returns its path in
 * *ret_merged_path (may be NULL). Already mounted: returns the path.
 */
int pea_storage_mount(struct pea_storage *s, const char *id, char **ret_merged_path,
                      struct pea_error **err);

/* Unmounts (lazily when busy); not mounted is fine. Drops the mount record. */
int pea_storage_umount(struct pea_storage *s, const char *id, struct pea_error **err);

/* Unmounts if needed and deletes the container's storage; a missing one is fine. */
int pea_storage_remove(struct pea_storage *s, const char *id, struct pea_error **err);

/* Whether the container's root file system is mounted (vfs: has a mount record). */
bool pea_storage_is_mounted(struct pea_storage *s, const char *id);

/* The container's root file system path (merged, or rootfs for vfs), mounted or not. */
char *pea_storage_rootfs_path(const struct pea_storage *s, const char *id);

/*
 * Drops mount records whose mount is gone or whose container directory is
 * gone, unmounting dead fuse-overlayfs mounts (daemon gone: ENOTCONN) on the
 * way, and removes dangling <graph_root>/l links. Live mounts of existing
 * containers stay. Returns the number of records dropped.
 */
int pea_storage_cleanup_stale(struct pea_storage *s, struct pea_error **err);
