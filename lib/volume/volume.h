/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

#include "state/state.h"

/*
 * lib/volume: named volumes with podman's layout and semantics.
 *
 * A volume is a row in the state store (lib/state) and the directory
 * <graph_root>/volumes/<name>/_data (0755), its Mountpoint. Creation and
 * removal hold an flock on <graph_root>/volumes/.lock. Create makes
 * volumes/.tmp-XXXXXX/_data, renames it to volumes/<name> and then inserts the
 * row (undoing the rename when that fails); remove deletes the row first, then
 * the directory. A crash in between leaves a directory without a row (never a
 * row without its directory): pea_volume_repair() removes such orphans, and
 * create does it for the name it is about to use.
 *
 * Rootless, these functions run inside the user namespace (as uid 0 there),
 * so the files are owned by the user (or its subordinate ids) on the host.
 *
 * Who uses a volume: the container_volumes table of lib/state, written by the
 * run code with pea_state_container_set_volumes(); pea_volume_remove() refuses
 * a volume in use unless forced.
 */

struct json_t;
struct pea_error;
struct pea_state;

/* Names: podman's [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most this long. */
#define PEA_VOLUME_NAME_MAX 255

struct pea_volume {
        struct pea_volume_row row; /* row.mountpoint is dir + "/_data" */
        char *dir;                 /* <graph_root>/volumes/<name> */
};

struct pea_volume *pea_volume_free(struct pea_volume *vol);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pea_volume *, pea_volume_free);
#define _cleanup_volume_ _cleanup_(pea_volume_freep)

/* A NULL-terminated vector of volumes. */
struct pea_volume **pea_volumes_free(struct pea_volume **vols);

bool pea_volume_name_is_valid(const char *name);

struct pea_volume_create_opts {
        const char *name;   /* NULL: a random 64-hex name */
        const char *driver; /* NULL or "local"; anything else fails with -ENOTSUP */
        char *const *opts; /* --opt "key=value": type, device, o, uid, gid, copy, nocopy, noquota */
        char *const *labels; /* --label "key=value" or "key" */
        bool anonymous;      /* removed with the container (run --rm, rm -v) */
        bool ignore;         /* an existing volume of that name is returned (--ignore) */
};

/*
 * Creates a volume. *ret_created (may be NULL) tells whether it is new (false
 * only with ignore). -EEXIST "volume with name x already exists: volume already
 * exists"; -EINVAL for a bad name, label or option; -ENOTSUP for another driver.
 * Options uid=N and gid=N chown the new _data.
 */
int pea_volume_create(struct pea_state *s, const char *graph_root,
                      const struct pea_volume_create_opts *o, struct pea_volume **ret,
                      bool *ret_created, struct pea_error **err);

/* An anonymous volume with a random name (for an image VOLUME or `-v /path`). */
int pea_volume_create_anonymous(struct pea_state *s, const char *graph_root,
                                struct pea_volume **ret, struct pea_error **err);

/* -ENOENT "no volume with name "x" found: no such volume". */
int pea_volume_lookup(struct pea_state *s, const char *name, struct pea_volume **ret,
                      struct pea_error **err);

/* For `-v NAME:/path`: the volume, created (local, no options) when missing. */
int pea_volume_lookup_or_create(struct pea_state *s, const char *graph_root, const char *name,
                                struct pea_volume **ret, bool *ret_created, struct pea_error **err);

/* 1 when a volume of that name exists, else 0. */
int pea_volume_exists(struct pea_state *s, const char *name, struct pea_error **err);

/*
 * Filters ("key=value", podman's): name (regex), label (key or key=value),
 * label! (negated), driver, scope (local), opt (key or key=value), dangling
 * (true|false: used by no container), anonymous (true|false). Values of the
 * same key are alternatives; different keys must all hold. -EINVAL
 * ""x" is an invalid volume filter" for an unknown key.
 */
int pea_volume_filters_check(char *const *filters, struct pea_error **err);
/* 1 when vol passes every filter, else 0. */
int pea_volume_matches(struct pea_volume *vol, struct pea_state *s, char *const *filters,
                       struct pea_error **err);
/* The volumes passing the filters (NULL or empty: all), sorted by name. */
int pea_volume_list(struct pea_state *s, char *const *filters, struct pea_volume ***ret,
                    size_t *ret_n, struct pea_error **err);

/*
 * With force, a volume in use has each user removed by remove_container first
 * (the lifecycle code stops and removes the container); when remove_container
 * is NULL, force only drops the containers' references. Without force, a
 * volume in use fails with -EBUSY.
 */
struct pea_volume_rm_opts {
        bool force;
        int (*remove_container)(void *userdata, const char *id, struct pea_error **err);
        void *userdata;
};

/* Removes row and directory (unmounting a tmpfs/bind volume first); -ENOENT, -EBUSY. */
int pea_volume_remove(struct pea_state *s, const char *name, const struct pea_volume_rm_opts *o,
                      struct pea_error **err);

/*
 * For `rm -v` and `run --rm`: removes those of names (a container's volumes, from
 * pea_state_container_get_volumes() before its row is removed) that are anonymous
 * and used by no other container. *ret_removed (may be NULL) gets their names.
 */
int pea_volume_remove_anonymous(struct pea_state *s, char *const *names, char ***ret_removed,
                                struct pea_error **err);

/* Removes every volume that no container uses and that passes the filters; *ret_names
 * (may be NULL) gets their names. */
int pea_volume_prune(struct pea_state *s, char *const *filters, char ***ret_names,
                     struct pea_error **err);

/* Removes orphan and temporary directories under <graph_root>/volumes. */
int pea_volume_repair(struct pea_state *s, const char *graph_root, struct pea_error **err);

/*
 * podman volume inspect's object: Name, Driver, Mountpoint, CreatedAt (RFC
 * 3339 in local time), Labels, Scope, Options, MountCount, NeedsCopyUp and
 * NeedsChown (when true), Anonymous (when true), UID/GID (when set).
 */
struct json_t *pea_volume_inspect_json(const struct pea_volume *vol);

/* Writes _data as a tar stream (owners numeric, xattrs) to fd. */
int pea_volume_export(struct pea_volume *vol, int fd, struct pea_error **err);
/* Extracts a tar stream from fd into _data (over what is there, as podman does). */
int pea_volume_import(struct pea_volume *vol, int fd, struct pea_error **err);

/*
 * First use by a container (podman's copy-up): when the volume still needs it,
 * has no "nocopy" option and _data is empty, copies the content of src_dir
 * (the image's directory at the mount path; missing is fine) into _data with
 * owners, modes, times, xattrs and hard links, and gives _data the mode and
 * owner of src_dir. NeedsCopyUp is then cleared (in s, when not NULL). Returns
 * 1 when something was copied, else 0.
 */
int pea_volume_copy_up(struct pea_volume *vol, struct pea_state *s, const char *src_dir,
                       struct pea_error **err);

/*
 * The same with the source directory path resolved inside root_fd (the
 * container's rootfs) as if it were "/": symlinks in the image cannot lead
 * out of it.
 */
int pea_volume_copy_up_at(struct pea_volume *vol, struct pea_state *s, int root_fd,
                          const char *path, struct pea_error **err);

/*
 * First use by a container whose process runs as uid:gid (podman's
 * fixVolumePermissions): while NeedsChown, _data is given to uid:gid, then
 * the owner and mode of the directory dest inside root_fd (the rootfs) when
 * the image has one. NeedsChown is then cleared (in s, when not NULL).
 */
int pea_volume_fix_permissions(struct pea_volume *vol, struct pea_state *s, int root_fd,
                               const char *dest, uid_t uid, gid_t gid, struct pea_error **err);

/* `:U`: chowns _data and everything in it (not following symlinks). */
int pea_volume_chown(struct pea_volume *vol, uid_t uid, gid_t gid, struct pea_error **err);
/* The same for any directory (a bind mount's source with `:U`). */
int pea_volume_chown_path(const char *path, uid_t uid, gid_t gid, struct pea_error **err);

/* True for volumes with a "type" or "device" option, which pea_volume_mount() mounts. */
bool pea_volume_needs_mount(const struct pea_volume *vol);

/*
 * Mounts a tmpfs (type=tmpfs, o= options) or bind (type=bind or o=bind, of
 * device) volume on its _data, or another type of device, in the caller's
 * mount namespace, counting users in s (not NULL): only the first mounts and
 * the last pea_volume_umount() unmounts. A no-op for plain volumes.
 */
int pea_volume_mount(struct pea_volume *vol, struct pea_state *s, struct pea_error **err);
int pea_volume_umount(struct pea_volume *vol, struct pea_state *s, struct pea_error **err);
