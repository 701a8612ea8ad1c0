/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

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

/* <run_root>/containers/<id>/userdata: the OCI bundle. */
char *pea_container_bundle_dir(const struct pea_container_ctx *ctx, const char *id);
/* <graph_root>/containers/<id>/userdata: hosts, hostname, resolv.conf, .containerenv. */
char *pea_container_data_dir(const struct pea_container_ctx *ctx, const char *id);

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
