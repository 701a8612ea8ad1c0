/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/*
 * Moving images out of and into the image store: push (through a table of
 * function pointers, so lib/image needs no registry code), save (docker-archive,
 * oci-archive, oci-dir, docker-dir), load (docker-archive and oci-archive tars,
 * plain or compressed) and import (a rootfs tarball as a one-layer image).
 *
 * Layers leave the store as the compressed blobs they came in (kept by pull and
 * load), so a pushed manifest is byte for byte the pulled one and digests
 * survive a round trip. Only when no such blob exists (or its media type does
 * not match its bytes) is a layer compressed again, or packed from its diff
 * directory; then the manifest (and, for a packed layer whose diff_id changed,
 * the config) is rewritten.
 *
 * Atomicity: load and import add an image only after all its layers are in the
 * store, and load adds the images of an archive only once every one of them is
 * unpacked. pea_image_save() writes to an unnamed temporary file (or directory)
 * next to the destination and renames it into place at the end.
 */

struct pea_error;
struct pea_image_store;
struct pea_layer_unpack_opts;

/* What a transfer reports, in podman's words (the caller prints them). */
enum pea_transfer_event {
        PEA_TRANSFER_START,        /* "Getting image source signatures" */
        PEA_TRANSFER_BLOB,         /* "Copying blob <digest>" */
        PEA_TRANSFER_BLOB_SKIPPED, /* "Copying blob <digest> skipped: already exists" */
        PEA_TRANSFER_CONFIG,       /* "Copying config <digest>" */
        PEA_TRANSFER_MANIFEST,     /* "Writing manifest to image destination" */
        PEA_TRANSFER_DONE,         /* "Storing signatures" */
        _PEA_TRANSFER_EVENT_MAX,
        _PEA_TRANSFER_EVENT_INVALID = -EINVAL,
};

struct pea_transfer_progress {
        /* digest is NULL for events without one; fn may be NULL (quiet). */
        void (*fn)(void *userdata, enum pea_transfer_event ev, const char *digest);
        void *userdata;
};

/* The line podman prints for an event ("Copying blob sha256:..."). Never NULL. */
char *pea_transfer_event_line(enum pea_transfer_event ev, const char *digest);

/* ---- push ---------------------------------------------------------------------------------- */

struct pea_push_blob {
        const char *digest;
        int64_t size;
        const char *media_type;
        /* A repository of the same registry that holds the blob (cross-repo mount), or NULL. */
        const char *mount_from;
        /* The bytes: fd from offset 0 (read with pread), or data when fd < 0. Neither (fd < 0,
         * data NULL): only a mount from mount_from is wanted, nothing may be uploaded. */
        int fd;
        const void *data;
};

/* Where push writes: a registry repository (cmd/ wires it to lib/registry). */
struct pea_push_target {
        const char *registry;   /* "localhost:5000", "docker.io": for mounts */
        const char *repository; /* "ns/name" as the registry sees it */
        /* 1 when the blob exists there, 0 when not. */
        int (*blob_exists)(void *userdata, const char *digest, struct pea_error **err);
        /* Uploads (or mounts) a blob: 1 mounted, 0 uploaded (or, mount only: not mounted). */
        int (*put_blob)(void *userdata, const struct pea_push_blob *b, struct pea_error **err);
        /* PUTs the manifest under the destination's tag or digest. */
        int (*put_manifest)(void *userdata, const char *media_type, const void *data, size_t len,
                            struct pea_error **err);
        void *userdata;
};

struct pea_push_opts {
        /* PEA_MANIFEST_OCI or PEA_MANIFEST_DOCKER_V2S2 (enum pea_manifest_type); -1 keeps the
         * image's own format. */
        int format;
        /* Where temporary layer files go; NULL: $TMPDIR or /var/tmp. */
        const char *tmpdir;
        struct pea_transfer_progress progress;
};

/*
 * Pushes image (a name or ID in the store): each layer blob unless the target
 * has it (HEAD), mounted from mount_from when the image came from another
 * repository of the same registry, then the config, then the manifest (the
 * original bytes when nothing had to change). ret_digest (may be NULL) gets the
 * digest of the manifest pushed.
 */
int pea_image_push(struct pea_image_store *s, const char *image, const struct pea_push_target *t,
                   const struct pea_push_opts *opts, char **ret_digest, struct pea_error **err);

/* ---- save ---------------------------------------------------------------------------------- */

enum pea_archive_format {
        PEA_ARCHIVE_DOCKER,     /* "docker-archive": docker save's tar */
        PEA_ARCHIVE_OCI,        /* "oci-archive": an OCI image layout as a tar */
        PEA_ARCHIVE_OCI_DIR,    /* "oci-dir": an OCI image layout directory */
        PEA_ARCHIVE_DOCKER_DIR, /* "docker-dir": containers-image's dir: layout */
        _PEA_ARCHIVE_FORMAT_MAX,
        _PEA_ARCHIVE_FORMAT_INVALID = -EINVAL,
};

const char *pea_archive_format_to_string(enum pea_archive_format f);
enum pea_archive_format pea_archive_format_from_string(const char *s);

struct pea_save_opts {
        enum pea_archive_format format;
        const char *tmpdir;
        struct pea_transfer_progress progress;
};

/*
 * Writes images (names or IDs; several only for docker-archive and oci-archive) as
 * a tar stream to fd. docker-archive layers are the uncompressed tars (their
 * sha256 is the diff_id); oci-archive keeps the stored blobs and manifests, each
 * index entry named (org.opencontainers.image.ref.name) after the name used.
 */
int pea_image_save_fd(struct pea_image_store *s, char *const *images, int fd,
                      const struct pea_save_opts *opts, struct pea_error **err);

/* Writes to path (a file; a directory for the -dir formats), atomically. */
int pea_image_save(struct pea_image_store *s, char *const *images, const char *path,
                   const struct pea_save_opts *opts, struct pea_error **err);

/* ---- load ---------------------------------------------------------------------------------- */

struct pea_load_opts {
        const char *tmpdir;
        /* How layers are unpacked (the storage driver's whiteout mode); NULL: overlay. */
        const struct pea_layer_unpack_opts *unpack;
        struct pea_transfer_progress progress;
};

/*
 * Loads a docker-archive or oci-archive (a tar, possibly gzip/zstd/xz compressed)
 * read from fd: a pipe is spooled to a temporary file first. ret_loaded (may be
 * NULL) gets, per image, its names, or "sha256:<id>" for one without a name.
 * docker-archive RepoTags are normalised ("busybox:1" -> docker.io/library/busybox:1);
 * an OCI ref.name annotation becomes a name as podman does ("latest" ->
 * localhost/latest:latest).
 */
int pea_image_load_fd(struct pea_image_store *s, int fd, const struct pea_load_opts *opts,
                      char ***ret_loaded, struct pea_error **err);

/* The same reading the file at path. */
int pea_image_load(struct pea_image_store *s, const char *path, const struct pea_load_opts *opts,
                   char ***ret_loaded, struct pea_error **err);

/* ---- import -------------------------------------------------------------------------------- */

struct pea_import_opts {
        /* Dockerfile instructions ("CMD=[\"sh\"]", "ENV FOO=bar", ...), NULL-terminated or NULL. */
        char *const *changes;
        /* The history comment (-m), or NULL. */
        const char *message;
        /* The image name ("localhost/x:latest" after normalising "x"), or NULL: dangling. */
        const char *reference;
        /* RFC 3339 creation time, or NULL: now. */
        const char *created;
        const char *tmpdir;
        const struct pea_layer_unpack_opts *unpack;
        struct pea_transfer_progress progress;
};

/*
 * Imports a rootfs tarball (plain, gzip, zstd or xz) read from fd as a one-layer
 * image: OCI manifest, config with host architecture and os linux, the changes,
 * and one history entry. The tarball is kept as the layer's blob. ret_id gets
 * the image ID (64 hex).
 */
int pea_image_import_fd(struct pea_image_store *s, int fd, const struct pea_import_opts *opts,
                        char **ret_id, struct pea_error **err);

/*
 * Applies Dockerfile-style changes to the "config" object of an image config:
 * CMD, ENTRYPOINT (JSON array or shell form), ENV, LABEL, EXPOSE, VOLUME, USER,
 * WORKDIR, STOPSIGNAL, ONBUILD; "KEY=value" or "KEY value".
 */
int pea_image_config_apply_changes(json_t *config, char *const *changes, struct pea_error **err);

/* The name an image gets from a user's reference: "x" -> "localhost/x:latest". */
int pea_image_local_name(const char *reference, char **ret, struct pea_error **err);
