/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>

/*
 * lib/container: a container's life on disk, wiring state, image store,
 * storage and runtime together.
 *
 *   create: the state row (state "created") is recorded first, then the
 *           storage (writable layer over the image's layers), the persistent
 *           directory <graph_root>/containers/<id>/userdata (hosts, hostname,
 *           resolv.conf, .containerenv, bind-mounted by the spec) and the
 *           bundle <run_root>/containers/<id>/userdata/config.json. Any
 *           failure undoes it all (pea_container_remove).
 *   start:  mounts the storage and runs the bundle in the foreground, with
 *           the built-in runtime or an external OCI runtime (runc), recording
 *           running/exited, the exit code and the times in the state row.
 *   cleanup: unmounts the storage.
 *   remove: unmounts, deletes storage, both directories and the row.
 *
 * Everything happens in the caller's mount namespace (rootless: the holder's).
 */

struct json_t;
struct pea_container_row;
struct pea_error;
struct pea_image_store;
struct pea_spec_opts;
struct pea_state;
struct pea_storage;

/* What the functions below work on; every member is borrowed. */
struct pea_container_ctx {
        struct pea_state *state;
        struct pea_image_store *store;
        struct pea_storage *storage;
        const char *graph_root;
        const char *run_root;
        bool rootless;
};

struct pea_container_create_opts {
        const char *name;       /* NULL: a random adjective_surname */
        const char *image_id;   /* 64 hex, required */
        const char *image_name; /* the name the image was found by, may be NULL */
        const char *pod_id;     /* the pod it belongs to (64 hex), or NULL */
        /*
         * The options of the spec; id, rootfs and the hosts/resolv/hostname/
         * containerenv paths are filled in here (the struct is modified).
         */
        struct pea_spec_opts *spec;
        /* An external OCI runtime's path (--runtime), NULL: the built-in one. */
        const char *runtime;
        bool remove; /* --rm, recorded in the row's config */
        /* --label KEY=VALUE, recorded in the row's config */
        char **labels;
        char **mounts;       /* --mount type=...,src=,dst= (container-volumes.c) */
        char **volumes_from; /* --volumes-from CTR[:ro|rw] */
        /* networking and namespace sharing (container-net.c); NULL: defaults */
        const struct pea_container_net_opts *net;
};

/*
 * Creates a container (see above); on success the storage stays mounted
 * (pea_container_cleanup unmounts it) and ret (may be NULL) gets the row.
 * -EEXIST with podman's message when the name is taken.
 */
int pea_container_create(const struct pea_container_ctx *ctx,
                         const struct pea_container_create_opts *o, struct pea_container_row *ret,
                         struct pea_error **err);

/*
 * Mounts and runs the container in the foreground and waits for it. Returns
 * 0 with *ret_exit_status (the code or 128+signal) when it ran; on failure
 * (err set) pea_runtime_error_exit_code() gives 125/126/127. The row's state
 * becomes running, then exited (also when the command could not be run).
 */
int pea_container_start(const struct pea_container_ctx *ctx, const char *id, int *ret_exit_status,
                        struct pea_error **err);

/* Unmounts the container's storage; not mounted is fine. */
int pea_container_cleanup(const struct pea_container_ctx *ctx, const char *id,
                          struct pea_error **err);

/*
 * Removes a container: storage, directories and row. A running container
 * fails with -EBUSY unless force (which kills it first with SIGKILL).
 */
int pea_container_remove(const struct pea_container_ctx *ctx, const char *id, bool force,
                         struct pea_error **err);

/* <graph_root>/containers/<id>/userdata/ctr.log: the k8s-file log the monitor writes. */
char *pea_container_log_path(const struct pea_container_ctx *ctx, const char *id);

/*
 * Removes a container as pea_container_remove() does, then unmounts the
 * volumes it used that need a mount (tmpfs/bind volumes, last user) and, with
 * anonymous (rm -v, run --rm), removes its anonymous volumes no other
 * container uses.
 */
int pea_container_remove_with_volumes(const struct pea_container_ctx *ctx, const char *id,
                                      bool force, bool anonymous, struct pea_error **err);

/* <run_root>/containers/<id>/userdata: the OCI bundle. */
char *pea_container_bundle_dir(const struct pea_container_ctx *ctx, const char *id);
/* <graph_root>/containers/<id>/userdata: hosts, hostname, resolv.conf, .containerenv. */
char *pea_container_data_dir(const struct pea_container_ctx *ctx, const char *id);

/*
 * The bundle lives on the runtime tmpfs, a copy of its config.json in the
 * data dir: after a reboot this puts it back. 1 when restored, 0 when the
 * bundle was there.
 */
int pea_container_bundle_restore(const struct pea_container_ctx *ctx, const char *id,
                                 struct pea_error **err);

/* ---- volumes (container-volumes.c), used by create ----------------------- */

struct pea_spec_volume;

/*
 * A container's mounts resolved: -v NAME:/path (the volume created when
 * missing), anonymous volumes (-v /path, --mount type=volume without src, the
 * image's VOLUME entries not mounted otherwise), --mount and --volumes-from
 * (the other container's volumes and binds; -v, --mount and --tmpfs win).
 */
struct pea_container_volumes {
        char **binds;          /* -v host:/ctr[:opts] for spec->volumes: host paths only */
        char **tmpfs;          /* --tmpfs /ctr[:opts] for spec->tmpfs */
        char **names;          /* the volumes it uses, each once */
        char **created;        /* the volumes created for it (removed by the undo) */
        char **mounted;        /* the tmpfs/bind volumes mounted for it */
        char **chown;          /* sources to chown to the container's user (U) */
        char *rootfs;          /* the mounted rootfs */
        struct json_t *mounts; /* inspect's Mounts, recorded in the row's config */
};

/*
 * Resolves the mounts of o (o->spec->id set, its row added, rootfs mounted):
 * creates missing volumes, copies the image's content at the mount path into
 * new empty ones (resolved inside rootfs), mounts tmpfs/bind volumes and links
 * the volumes to the container in the state. On failure, v holds what to undo.
 */
int pea_container_volumes_prepare(const struct pea_container_ctx *ctx,
                                  const struct pea_container_create_opts *o, const char *rootfs,
                                  struct pea_container_volumes *v, struct pea_error **err);
/* After the spec is written to bundle: `U` chowns, inspect's Mounts recorded in the row. */
int pea_container_volumes_finish(const struct pea_container_ctx *ctx, const char *id,
                                 const struct pea_container_volumes *v, const char *bundle,
                                 struct pea_error **err);
/* After a failed create (the row already removed): unmounts, removes the volumes created. */
void pea_container_volumes_undo(const struct pea_container_ctx *ctx,
                                struct pea_container_volumes *v);
void pea_container_volumes_done(struct pea_container_volumes *v);

/*
 * One --mount (podman's syntax: type=bind|volume|tmpfs, src/source,
 * dst/destination/target, ro/readonly[=bool], bind-propagation=,
 * bind-nonrecursive, relabel=, U/chown[=bool], volume-nocopy, tmpfs-size=,
 * tmpfs-mode=, tmpcopyup, exec/suid/dev and their no- forms): a tmpfs gives
 * *ret_tmpfs ("/dst:opts", --tmpfs syntax), else *ret_volume (as
 * pea_spec_parse_volume() gives it) and *ret_tmpfs NULL. type=image is
 * -ENOTSUP.
 */
int pea_container_parse_mount(const char *arg, struct pea_spec_volume *ret_volume, char **ret_tmpfs,
                              struct pea_error **err);

/* ---- pure helpers (container-files.c), unit-tested ------------------------ */

/*
 * Whether the storage driver can use a layer unpacked with whiteout format
 * whiteout (enum pea_image_whiteout): -EINVAL with a message naming the
 * driver and the format when it cannot.
 */
int pea_container_whiteout_check(const char *driver, bool rootless, int whiteout, const char *layer,
                                 struct pea_error **err);

/* A random "adjective_surname", as podman's default names. */
char *pea_container_random_name(void);

/* [a-zA-Z0-9][a-zA-Z0-9_.-]*, as podman accepts. */
bool pea_container_name_is_valid(const char *name);

/*
 * The container's resolv.conf from the host's text: with keep (network none
 * or host) a copy; else nameservers on loopback (127.0.0.0/8, ::1) are
 * dropped, and when none is left 8.8.8.8 and 8.8.4.4 are used, as podman does.
 */
char *pea_container_resolv_conf(const char *host, bool keep);

/* /etc/hosts: the localhost lines and the hostname on 127.0.1.1 (host_hosts: prepended). */
char *pea_container_hosts(const char *host_hosts, const char *hostname);

/* /run/.containerenv in podman's format. */
char *pea_container_env_file(const char *name, const char *id, const char *image,
                             const char *image_id, bool rootless);

/* ---- networking (container-net.c) ----------------------------------------- */

/*
 * A container's network: modes slirp4netns (the default, also "private"),
 * pasta, none, host, container:NAME|ID, ns:PATH. slirp4netns and pasta give
 * the container its own namespace, bind-mounted at <run_root>/netns/<id>
 * (the spec joins it by path), with the helper's state in
 * <run_root>/netns/<id>.json; it is set up before the container starts and
 * torn down when it has stopped. The row's config holds "network": {mode,
 * options, ports (PortBindings), exposed, netns, spec, joined}.
 */
struct pea_container_net_opts {
        const char *network; /* --network; NULL: slirp4netns */
        char **publish;      /* -p [ip:][hostPort:]containerPort[/proto] */
        bool publish_all;    /* -P: every exposed port (image and expose) to a free port */
        char **expose;       /* --expose PORT[/proto] */
        char **dns, **dns_search, **dns_options;
        char **add_hosts; /* --add-host name:ip */
        bool no_hosts;    /* the image's own /etc/hosts */
        char **pod_names; /* other names listed with the container's own in /etc/hosts */
        /* --ipc, --pid, --uts: container:NAME|ID resolved here, else as given */
        const char *ipc, *pid, *uts;
};

/* What pea_container_net_prepare() resolved; the spec borrows from it until _done. */
struct pea_container_net {
        struct pea_spec_opts *spec;
        const char *saved[5]; /* the spec's network, ipc, pid, uts, hostname before */
        char *owned[5];
        struct json_t *config; /* the row's "network" object */
};

/*
 * At create (the row exists): resolves o->net (NULL: defaults) into the
 * spec's namespaces, checks and allocates host ports (-EADDRINUSE when one is
 * taken) and records the "network" object in the row.
 */
int pea_container_net_prepare(const struct pea_container_ctx *ctx,
                              const struct pea_container_create_opts *o, const char *id,
                              struct pea_container_net *ret, struct pea_error **err);
/* Writes hosts and resolv.conf into data_dir for the resolved network. */
int pea_container_net_write_files(const struct pea_container_net *n,
                                  const struct pea_container_create_opts *o, const char *name,
                                  const char *data_dir, struct pea_error **err);
/* Restores the spec's strings and frees the rest. */
void pea_container_net_done(struct pea_container_net *n);

/*
 * Before a start: creates the container's network namespace and starts its
 * helper with the recorded ports (a stale one is torn down first). 0 when
 * the mode needs nothing. On failure nothing is left.
 */
int pea_container_net_setup(const struct pea_container_ctx *ctx, const char *id,
                            struct pea_error **err);
/* Kills the helper and removes the namespace; nothing there is fine. Needs only run_root. */
int pea_container_net_teardown(const struct pea_container_ctx *ctx, const char *id,
                               struct pea_error **err);
/* Whether a container that is not running still has its network up (to repair). */
bool pea_container_net_is_stale(const struct pea_container_ctx *ctx,
                                const struct pea_container_row *row);
/* <run_root>/netns/<id> when the container has its own namespace there, else NULL. */
char *pea_container_net_netns_path(const struct pea_container_ctx *ctx,
                                   const struct pea_container_row *row);

/* ---- cp, export, commit, diff (container-cp.c, container-commit.c) ------ */

struct stat;
struct pea_layer_unpack_opts;

/*
 * podman cp's arguments: "CTR:PATH" sets *ret_ctr (else NULL: a host path;
 * "./a:b" and "/a:b" are host paths). -EINVAL on "" and "CTR:".
 */
int pea_container_cp_parse_arg(const char *arg, char **ret_ctr, char **ret_path,
                               struct pea_error **err);

/* Whether src names a directory's contents ("dir/.", "."), copied without the directory. */
bool pea_container_cp_wants_contents(const char *src);

enum pea_cp_dest_kind {
        PEA_CP_DEST_MISSING,
        PEA_CP_DEST_DIR,
        PEA_CP_DEST_FILE, /* anything but a directory */
        _PEA_CP_DEST_KIND_MAX,
        _PEA_CP_DEST_KIND_INVALID = -EINVAL,
};

/*
 * Where a copy of src lands at dest (podman's and docker's rules): the tar
 * stream of src is unpacked into *ret_dir with its top entry named
 * *ret_name ("" when a directory's contents go straight into dest). A
 * directory into an existing directory lands below it; onto a missing name
 * it takes that name; a file onto an existing file replaces it. -ENOTDIR for
 * a directory onto a file, -ENOENT for a file onto a missing "dir/".
 */
int pea_container_cp_plan(const char *src, bool src_is_dir, const char *dest,
                          enum pea_cp_dest_kind kind, char **ret_dir, char **ret_name,
                          struct pea_error **err);

/* Opens path inside rootfd (as "/", never leaving it) as O_PATH; ret_st may be NULL. */
int pea_container_cp_resolve(int rootfd, const char *path, struct stat *ret_st,
                             struct pea_error **err);

/* The owner every entry of a tar stream gets (NULL: the files' own). */
struct pea_container_cp_owner {
        unsigned uid, gid;
};

/*
 * Writes src_fd (an O_PATH fd of a file or directory) as a tar stream to
 * out_fd: the top entry named name and, for a directory, everything below
 * as name/...; name "" writes only the directory's contents. Symlinks are
 * written as links, never followed.
 */
int pea_container_cp_pack_fd(int src_fd, const char *name,
                             const struct pea_container_cp_owner *owner, int out_fd,
                             struct pea_error **err);

/*
 * Unpacks a tar stream into dest_dirfd with lib/layer (every path stays
 * inside it; ".wh." names are plain files). chown_entries: entries get the
 * tar's uid/gid, else they belong to the caller.
 */
int pea_container_cp_unpack_fd(int in_fd, int dest_dirfd, bool chown_entries,
                               struct pea_error **err);

/* A container's root file system, mounted for cp, export, commit. */
struct pea_container_mount {
        char *rootfs;
        int rootfd; /* O_PATH */
        bool mounted_here;
};

/* Mounts the storage unless it is mounted (a running container's is). */
int pea_container_cp_mount(const struct pea_container_ctx *ctx, const char *id,
                           struct pea_container_mount *ret, struct pea_error **err);
/* Closes and unmounts what pea_container_cp_mount() mounted. */
void pea_container_cp_umount(const struct pea_container_ctx *ctx, const char *id,
                             struct pea_container_mount *m);

enum pea_container_change_kind {
        PEA_CHANGE_MODIFIED, /* "C" */
        PEA_CHANGE_ADDED,    /* "A" */
        PEA_CHANGE_DELETED,  /* "D" */
        _PEA_CHANGE_KIND_MAX,
        _PEA_CHANGE_KIND_INVALID = -EINVAL,
};

struct pea_container_change {
        char *path; /* absolute, inside the container */
        enum pea_container_change_kind kind;
};

struct pea_container_change *pea_container_changes_free(struct pea_container_change *c, size_t n);

/* "C", "A" or "D"; NULL for an invalid kind. */
const char *pea_container_change_kind_to_string(enum pea_container_change_kind k);

/* Sorts changes by path, as podman prints them. */
void pea_container_changes_sort(struct pea_container_change *c, size_t n);

/*
 * For a name in an upper directory: 1 with *ret_name (the deleted name) for
 * ".wh.NAME", 2 for the opaque marker ".wh..wh..opq", 0 for a plain name.
 */
int pea_container_whiteout_name(const char *name, char **ret_name);

/*
 * The container's changes against its image, from its writable layer: added,
 * changed (exists in a lower layer) and deleted (overlay whiteouts) paths,
 * sorted. The files pea bind-mounts (/etc/hosts, /etc/hostname,
 * /etc/resolv.conf, /run/.containerenv) are left out when only their
 * mount points were created. -ENOTSUP for the vfs driver.
 */
int pea_container_diff(const struct pea_container_ctx *ctx, const char *id,
                       struct pea_container_change **ret, size_t *ret_n, struct pea_error **err);

/* The same for an image (64-hex ID): its top layer against the layers below. */
int pea_container_image_diff(const struct pea_container_ctx *ctx, const char *image_id,
                             struct pea_container_change **ret, size_t *ret_n,
                             struct pea_error **err);

struct pea_container_commit_opts {
        const char *reference; /* the new image's name ("x" -> localhost/x:latest); NULL: none */
        char *const *changes;  /* Dockerfile instructions (--change), NULL-terminated or NULL */
        const char *message;   /* history comment (-m) */
        const char *author;    /* -a */
        bool docker_format;    /* -f docker: docker media types, else OCI */
        const char *tmpdir;    /* where the layer tar is spooled; NULL: $TMPDIR or /var/tmp */
        /* How the new layer is unpacked into the store (the driver's whiteout mode). */
        const struct pea_layer_unpack_opts *unpack;
        /* podman's lines ("Copying blob ..."); fn NULL: quiet. */
        void (*progress)(void *userdata, int event, const char *digest);
        void *progress_userdata;
};

/*
 * podman commit: the container's writable layer (overlay whiteouts as ".wh."
 * entries) becomes a new layer over its image's layers, with a config of
 * the image's, the container's command, environment, working directory and
 * user, the changes, and a history entry. Stored like a pull: the image row
 * is added only once its layer is in the store. ret_id gets the image ID.
 */
int pea_container_commit(const struct pea_container_ctx *ctx, const char *id,
                         const struct pea_container_commit_opts *o, char **ret_id,
                         struct pea_error **err);
