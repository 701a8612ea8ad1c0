/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "image/image.h"
#include "image/store.h"
#include "image/transfer.h"
#include "layer/layer.h"

/* Shared by push.c, export.c, archive*.c and import.c. */

struct pea_error;

/* Caps on what an archive controls. */
#define XFER_MAX_IMAGES     1000u
#define XFER_MAX_ENTRIES    100000u
#define XFER_MAX_JSON_BYTES (4u * 1024 * 1024)

static inline void xfer_progress(const struct pea_transfer_progress *p, enum pea_transfer_event ev,
                                 const char *digest)
{
        if (p && p->fn)
                p->fn(p->userdata, ev, digest);
}

/* ---- transfer.c: temporary files, compression, streams ----------------------------------------
 */

/* tmpdir, else $TMPDIR, else /var/tmp. */
const char *xfer_tmpdir(const char *tmpdir);
/* An unnamed temporary file (O_TMPFILE, else unlinked at once) in tmpdir: the fd. */
int xfer_tmpfile(const char *tmpdir, struct pea_error **err);

/* The compression of the bytes at the start of fd (pread): NONE, GZIP, ZSTD, or
 * _PEA_COMPRESSION_INVALID for another known format (xz, bzip2). */
enum pea_compression xfer_sniff_fd(int fd);
enum pea_compression xfer_sniff(const void *data, size_t len);

/* The layer media type of a manifest type for a compression; NULL when it has none. */
const char *xfer_layer_media_type(enum pea_manifest_type t, enum pea_compression c);

/* A source reading fd with pread from offset 0. */
struct xfer_fd_source {
        int fd;
        off_t off;
};

ssize_t xfer_fd_read(void *userdata, void *buf, size_t len, struct pea_error **err);

/* A source inflating whatever fd holds (libarchive's filters, raw format). */
struct xfer_unz;
int xfer_unz_open(int fd, struct xfer_unz **ret, struct pea_error **err);
ssize_t xfer_unz_read(void *userdata, void *buf, size_t len, struct pea_error **err);
struct xfer_unz *xfer_unz_free(struct xfer_unz *u);

/* Copies src to dst_fd (write all), hashing into d when not NULL; *ret_n bytes. */
int xfer_copy_fd(const struct pea_layer_source *src, int dst_fd, struct pea_digester *d,
                 uint64_t *ret_n, struct pea_error **err);

/*
 * Compresses src with gzip into a temporary file: *ret_fd (rewound), the digest
 * and size of the gzip stream, and the digest of the input (ret_in_digest may be NULL).
 */
int xfer_gzip_tmp(const struct pea_layer_source *src, const char *tmpdir, int *ret_fd,
                  char **ret_digest, int64_t *ret_size, char **ret_in_digest,
                  struct pea_error **err);

/* ---- export.c: an image on its way out of the store --------------------------------------- */

struct xfer_layer {
        char *digest; /* of the bytes exported */
        char *media_type;
        char *diff_id;
        int64_t size;
        enum pea_compression compression;
        int fd;          /* the bytes (a store blob or a temporary file), -1 for foreign */
        bool original;   /* the stored manifest's descriptor, unchanged */
        bool decompress; /* uncompressed export of a compressed blob: inflate fd */
        bool foreign;    /* a foreign/nondistributable layer without bytes: descriptor only */
        bool remote;     /* the stored descriptor, bytes not here: push mounts it or regenerates */
};

struct xfer_image {
        char *id;   /* 64 hex */
        char *name; /* the name it was found by, NULL when by ID */
        struct pea_image_record rec;
        struct pea_manifest *stored; /* the manifest in the store */
        char *config;                /* bytes (rewritten when a diff_id changed) */
        size_t config_len;
        char *config_digest;
        char *manifest; /* the manifest to export */
        size_t manifest_len;
        char *manifest_digest;
        enum pea_manifest_type manifest_type;
        struct xfer_layer *layers;
        size_t n_layers;
};

/* Looks the image up and reads its manifest and config. */
int xfer_image_open(struct pea_image_store *s, const char *image, struct xfer_image **ret,
                    struct pea_error **err);

enum xfer_mode {
        XFER_COMPRESSED,   /* registry and OCI layouts: compressed blobs */
        XFER_UNCOMPRESSED, /* docker-archive: the plain tars (sha256 = diff_id) */
};

/*
 * Chooses the bytes of every layer, compressing or packing where the store has
 * no fitting blob. allow_remote (push): a layer whose original blob is not here
 * keeps its descriptor (remote) for the target to mount or already have.
 */
int xfer_image_prepare(struct pea_image_store *s, struct xfer_image *x, enum xfer_mode mode,
                       bool allow_remote, const char *tmpdir, struct pea_error **err);

/* Replaces a remote layer by bytes from the store (a blob, or packed from its diff). */
int xfer_layer_regenerate(struct pea_image_store *s, struct xfer_image *x, size_t i,
                          const char *tmpdir, struct pea_error **err);

#define XFER_NO_MANIFEST (-2)

/*
 * Rewrites the config when a diff_id changed and makes the manifest of type
 * format (-1: the stored one's; XFER_NO_MANIFEST: none) when anything changed;
 * keep_type_if_unchanged: an unchanged manifest keeps its own type.
 */
int xfer_image_finish(struct xfer_image *x, int format, bool keep_type_if_unchanged,
                      struct pea_error **err);

/* A reader of layer i's exported bytes (inflating when l->decompress). */
struct xfer_layer_reader {
        struct pea_layer_source src;
        struct xfer_fd_source fd;
        struct xfer_unz *unz;
};

int xfer_layer_reader_open(const struct xfer_layer *l, struct xfer_layer_reader *ret,
                           struct pea_error **err);
void xfer_layer_reader_done(struct xfer_layer_reader *r);

struct xfer_image *xfer_image_free(struct xfer_image *x);

DEFINE_TRIVIAL_CLEANUP_FUNC(struct xfer_image *, xfer_image_free)
#define _cleanup_xfer_image_ _cleanup_(xfer_image_freep)

/* ---- archive.c: writing tars or directories, reading tars ----------------------------------- */

struct xfer_sink;

int xfer_sink_tar(int fd, struct xfer_sink **ret, struct pea_error **err);
int xfer_sink_dir(int dirfd, struct xfer_sink **ret, struct pea_error **err);
/* True when name was written already (shared layers). */
bool xfer_sink_has(struct xfer_sink *k, const char *name);
int xfer_sink_mkdir(struct xfer_sink *k, const char *name, struct pea_error **err);
int xfer_sink_file(struct xfer_sink *k, const char *name, const void *data, size_t len,
                   struct pea_error **err);
/* Writes exactly size bytes from src (fewer or more: -EBADMSG); verifies expected when set. */
int xfer_sink_stream(struct xfer_sink *k, const char *name, int64_t size,
                     const struct pea_layer_source *src, const char *expected,
                     struct pea_error **err);
int xfer_sink_symlink(struct xfer_sink *k, const char *name, const char *target,
                      struct pea_error **err);
/* Finishes the tar (end blocks); always frees k. */
int xfer_sink_close(struct xfer_sink *k, struct pea_error **err);
struct xfer_sink *xfer_sink_free(struct xfer_sink *k);

DEFINE_TRIVIAL_CLEANUP_FUNC(struct xfer_sink *, xfer_sink_free)
#define _cleanup_xfer_sink_ _cleanup_(xfer_sink_freep)

/* An archive being loaded: an uncompressed tar in a seekable file, indexed. */
struct xfer_tar;

int xfer_tar_open(int fd, const char *tmpdir, struct xfer_tar **ret, struct pea_error **err);
struct xfer_tar *xfer_tar_free(struct xfer_tar *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct xfer_tar *, xfer_tar_free)
#define _cleanup_xfer_tar_ _cleanup_(xfer_tar_freep)

/* True when the archive has a regular file name (links followed). */
bool xfer_tar_has(struct xfer_tar *t, const char *name);
/* Reads a member of at most max bytes (NUL-terminated). */
int xfer_tar_read(struct xfer_tar *t, const char *name, size_t max, char **ret, size_t *ret_len,
                  struct pea_error **err);

/* A member's bytes as a source; done releases it. */
struct xfer_tar_member {
        struct pea_layer_source src;
        void *a; /* struct archive * */
};

int xfer_tar_member_open(struct xfer_tar *t, const char *name, struct xfer_tar_member *ret,
                         struct pea_error **err);
void xfer_tar_member_done(struct xfer_tar_member *m);

/* An image read from an archive, added once all of the archive is unpacked. */
struct xfer_pending {
        char *config;
        size_t config_len;
        char *manifest;
        size_t manifest_len;
        char *media_type;
        char **names;
};

struct xfer_pending_list {
        struct xfer_pending *v;
        size_t n;
};

void xfer_pending_list_done(struct xfer_pending_list *l);

/* ---- archive-docker.c, archive-oci.c -------------------------------------------------------- */

int xfer_save_docker(struct pea_image_store *s, struct xfer_image **images, size_t n,
                     struct xfer_sink *k, const struct pea_save_opts *opts, struct pea_error **err);
int xfer_save_oci(struct pea_image_store *s, struct xfer_image **images, size_t n,
                  struct xfer_sink *k, const struct pea_save_opts *opts, struct pea_error **err);
int xfer_save_docker_dir(struct pea_image_store *s, struct xfer_image *x, struct xfer_sink *k,
                         const struct pea_save_opts *opts, struct pea_error **err);

int xfer_load_docker(struct pea_image_store *s, struct xfer_tar *t,
                     const struct pea_load_opts *opts, struct xfer_pending_list *ret,
                     struct pea_error **err);
int xfer_load_oci(struct pea_image_store *s, struct xfer_tar *t, const struct pea_load_opts *opts,
                  struct xfer_pending_list *ret, struct pea_error **err);

/* Imports one layer from a source, parent first; *ret_chain_id the new chain. */
int xfer_import_layer(struct pea_image_store *s, const char *parent, const char *diff_id,
                      const char *digest, const char *media_type,
                      const struct pea_layer_source *src, const struct pea_load_opts *opts,
                      char **ret_chain_id, struct pea_error **err);
