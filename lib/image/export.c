/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "base.h"
#include "image/transfer-internal.h"

/*
 * An image on its way out of the store (push, save): which bytes each layer
 * leaves as, and the manifest and config that describe them. The original
 * blob is used whenever the store has it and its bytes match its media type;
 * otherwise a plain blob is compressed, and a layer without any blob is packed
 * from its diff directory (which may change its diff_id, and so the config).
 */

struct xfer_image *xfer_image_free(struct xfer_image *x)
{
        if (!x)
                return NULL;
        for (size_t i = 0; x->layers && i < x->n_layers; i++) {
                struct xfer_layer *l = &x->layers[i];
                free(l->digest);
                free(l->media_type);
                free(l->diff_id);
                if (l->fd >= 0)
                        (void)close(l->fd);
        }
        free(x->layers);
        free(x->id);
        free(x->name);
        pea_image_record_done(&x->rec);
        pea_manifest_free(x->stored);
        free(x->config);
        free(x->config_digest);
        free(x->manifest);
        free(x->manifest_digest);
        free(x);
        return NULL;
}

static char *memdup0(const void *p, size_t n)
{
        char *c = xmalloc(n + 1);
        memcpy(c, p, n);
        c[n] = '\0';
        return c;
}

static int open_manifest(struct pea_image_store *s, struct xfer_image *x, struct pea_error **err)
{
        _cleanup_free_ char *raw = NULL;
        size_t len = 0;
        int r = pea_image_store_get_blob(s, x->rec.digest, &raw, &len, err);
        if (r >= 0)
                r = pea_manifest_parse(raw, len, x->rec.manifest_media_type, x->rec.digest,
                                       &x->stored, err);
        if (r < 0)
                return pea_error_wrap(err, "reading the manifest of image '%s'", x->id);
        if (pea_manifest_is_index(x->stored) || x->stored->n_layers != x->rec.n_layers)
                return pea_error_set(err, EBADMSG,
                                     "the manifest of image '%s' does not match its layers", x->id);
        x->manifest = TAKE_PTR(raw);
        x->manifest_len = len;
        x->manifest_digest = xstrdup(x->stored->digest);
        x->manifest_type = x->stored->type;
        return 0;
}

int xfer_image_open(struct pea_image_store *s, const char *image, struct xfer_image **ret,
                    struct pea_error **err)
{
        _cleanup_xfer_image_ struct xfer_image *x = xcalloc(1, sizeof(*x));
        int r = pea_image_store_lookup(s, image, &x->rec, &x->name, err);
        if (r < 0)
                return r;
        x->id = xstrdup(x->rec.id);
        if (!x->rec.config)
                return pea_error_set(err, EBADMSG, "image '%s' has no config", x->id);
        x->config = memdup0(x->rec.config, x->rec.config_len);
        x->config_len = x->rec.config_len;
        x->config_digest = xasprintf("sha256:%s", x->id);
        r = open_manifest(s, x, err);
        if (r < 0)
                return r;
        x->n_layers = x->rec.n_layers;
        x->layers = xcalloc(x->n_layers ? x->n_layers : 1, sizeof(*x->layers));
        for (size_t i = 0; i < x->n_layers; i++)
                x->layers[i].fd = -EBADF;
        *ret = TAKE_PTR(x);
        return 0;
}

/* Opens the stored blob of layer i (the manifest's, else the layer's own): 1, or 0 if none. */
static int layer_blob(struct pea_image_store *s, const struct xfer_image *x, size_t i, int *ret_fd,
                      const char **ret_digest, struct pea_error **err)
{
        const char *cands[] = {x->stored->layers[i].digest, x->rec.layers[i].digest};
        for (size_t k = 0; k < ELEMENTSOF(cands); k++) {
                if (!cands[k] || !pea_image_store_has_blob(s, cands[k]))
                        continue;
                int fd = pea_image_store_open_blob(s, cands[k], err);
                if (fd == -ENOENT) {
                        pea_error_clear(err);
                        continue;
                }
                if (fd < 0)
                        return fd;
                *ret_fd = fd;
                *ret_digest = cands[k];
                return 1;
        }
        return 0;
}

static int pack_opts(enum pea_image_whiteout w, enum pea_layer_compression c,
                     struct pea_layer_pack_opts *ret)
{
        *ret = (struct pea_layer_pack_opts){.compression = c};
        switch (w) {
        case PEA_IMAGE_WHITEOUT_OVERLAY_USERXATTR:
                ret->userxattr = true;
                ret->whiteout = PEA_WHITEOUT_OVERLAY;
                return 0;
        case PEA_IMAGE_WHITEOUT_AUFS:
                ret->whiteout = PEA_WHITEOUT_AUFS;
                return 0;
        default:
                ret->whiteout = PEA_WHITEOUT_OVERLAY;
                return 0;
        }
}

/* Layer i from its diff directory, as a tar (compressed with c) in a temporary file. */
static int pack_layer(struct pea_image_store *s, struct xfer_image *x, size_t i,
                      enum pea_layer_compression c, const char *tmpdir, struct pea_error **err)
{
        const struct pea_image_layer *L = &x->rec.layers[i];
        struct xfer_layer *l = &x->layers[i];
        _cleanup_free_ char *path = pea_image_store_layer_path(s, L->chain_id);
        if (!path)
                return pea_error_set(err, EINVAL, "invalid layer '%s'", L->chain_id);
        _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return pea_error_syscall(err, errno, "opening layer '%s'", L->chain_id);
        _cleanup_close_ int fd = xfer_tmpfile(tmpdir, err);
        if (fd < 0)
                return fd;
        struct pea_layer_pack_opts po;
        (void)pack_opts(L->whiteout, c, &po);
        struct pea_layer_stats st = {0};
        int r = pea_layer_pack_fd(dfd, fd, &po, &st, err);
        if (r < 0)
                return pea_error_wrap(err, "packing layer '%s'", L->chain_id);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return pea_error_syscall(err, errno, "rewinding a temporary file");
        l->fd = TAKE_FD(fd);
        l->digest = xstrdup(st.digest);
        free(l->diff_id);
        l->diff_id = xstrdup(st.diff_id);
        l->size = (int64_t)st.compressed_size;
        l->compression = (enum pea_compression)c;
        return 0;
}

static int64_t fd_size(int fd)
{
        struct stat st;
        return fstat(fd, &st) < 0 ? -1 : (int64_t)st.st_size;
}

/* A plain blob, gzipped; its content must be the layer's diff_id. */
static int gzip_layer(struct xfer_layer *l, int blob_fd, const char *tmpdir, struct pea_error **err)
{
        struct xfer_fd_source fs = {.fd = blob_fd};
        struct pea_layer_source src = {.read = xfer_fd_read, .userdata = &fs};
        _cleanup_free_ char *in = NULL;
        int fd = -EBADF;
        int r = xfer_gzip_tmp(&src, tmpdir, &fd, &l->digest, &l->size, &in, err);
        if (r < 0)
                return r;
        l->fd = fd;
        l->compression = PEA_COMPRESSION_GZIP;
        if (!streq(in, l->diff_id))
                return pea_error_set(err, EBADMSG, "layer blob '%s' is not diff ID '%s'", in,
                                     l->diff_id);
        return 0;
}

/* Layer i from what the store has: a blob (as is, relabelled or gzipped) or its diff. */
static int compressed_local(struct pea_image_store *s, struct xfer_image *x, size_t i, int fd,
                            const char *bd, const char *tmpdir, struct pea_error **err)
{
        const struct pea_descriptor *d = &x->stored->layers[i];
        struct xfer_layer *l = &x->layers[i];
        if (fd < 0)
                return pack_layer(s, x, i, PEA_LAYER_COMPRESSION_GZIP, tmpdir, err);
        enum pea_compression c = xfer_sniff_fd(fd);
        if (streq(bd, d->digest) && c == d->compression) {
                l->digest = xstrdup(d->digest);
                l->media_type = xstrdup(d->media_type);
                l->size = d->size;
                l->compression = c;
                l->original = true;
                l->fd = fd;
                return 0;
        }
        if (c == PEA_COMPRESSION_NONE) {
                int r = gzip_layer(l, fd, tmpdir, err);
                (void)close(fd);
                return r;
        }
        if (c < 0) {
                (void)close(fd);
                return pea_error_set(err, ENOTSUP, "layer blob '%s' has an unsupported compression",
                                     bd);
        }
        l->digest = xstrdup(bd);
        l->size = fd_size(fd);
        l->compression = c;
        l->fd = fd;
        return 0;
}

/* The stored descriptor without local bytes: a push may still mount it or find it there. */
static void use_descriptor(struct xfer_layer *l, const struct pea_descriptor *d, bool foreign)
{
        free(l->digest);
        free(l->media_type);
        l->digest = xstrdup(d->digest);
        l->media_type = xstrdup(d->media_type);
        l->size = d->size;
        l->compression = d->compression;
        l->fd = -EBADF;
        l->original = true;
        l->foreign = foreign;
        l->remote = !foreign;
}

static int prepare_compressed(struct pea_image_store *s, struct xfer_image *x, size_t i,
                              bool allow_remote, const char *tmpdir, struct pea_error **err)
{
        const struct pea_descriptor *d = &x->stored->layers[i];
        int fd = -EBADF;
        const char *bd = NULL;
        int r = layer_blob(s, x, i, &fd, &bd, err);
        if (r < 0)
                return r;
        bool have_original = r > 0 && streq(bd, d->digest);
        /* podman's docker-archive manifest names plain layers by diff_id as "gzip": not a
         * descriptor to send anywhere as it is */
        bool honest = !(streq(d->digest, x->rec.layers[i].diff_id)
                        && d->compression != PEA_COMPRESSION_NONE);
        if (!have_original && (d->foreign || (allow_remote && honest))) {
                if (fd >= 0)
                        (void)close(fd);
                use_descriptor(&x->layers[i], d, d->foreign);
                return 0;
        }
        return compressed_local(s, x, i, r > 0 ? fd : -EBADF, bd, tmpdir, err);
}

int xfer_layer_regenerate(struct pea_image_store *s, struct xfer_image *x, size_t i,
                          const char *tmpdir, struct pea_error **err)
{
        struct xfer_layer *l = &x->layers[i];
        int fd = -EBADF;
        const char *bd = NULL;
        free(l->digest);
        free(l->media_type);
        l->digest = l->media_type = NULL;
        l->original = l->remote = false;
        int r = layer_blob(s, x, i, &fd, &bd, err);
        if (r >= 0)
                r = compressed_local(s, x, i, r > 0 ? fd : -EBADF, bd, tmpdir, err);
        if (r < 0)
                return pea_error_wrap(err, "exporting layer '%s'", x->rec.layers[i].diff_id);
        return 0;
}

/* Inflates fd into a temporary file (when the layer's size is not recorded). */
static int inflate_tmp(struct xfer_layer *l, int fd, const char *tmpdir, struct pea_error **err)
{
        struct xfer_unz *u = NULL;
        int r = xfer_unz_open(fd, &u, err);
        if (r < 0)
                return r;
        _cleanup_close_ int out = xfer_tmpfile(tmpdir, err);
        uint64_t n = 0;
        struct pea_layer_source src = {.read = xfer_unz_read, .userdata = u};
        r = out < 0 ? out : xfer_copy_fd(&src, out, NULL, &n, err);
        xfer_unz_free(u);
        if (r >= 0 && lseek(out, 0, SEEK_SET) < 0)
                r = pea_error_syscall(err, errno, "rewinding a temporary file");
        if (r < 0)
                return r;
        l->fd = TAKE_FD(out);
        l->size = (int64_t)n;
        return 0;
}

static int prepare_uncompressed(struct pea_image_store *s, struct xfer_image *x, size_t i,
                                const char *tmpdir, struct pea_error **err)
{
        const struct pea_image_layer *L = &x->rec.layers[i];
        struct xfer_layer *l = &x->layers[i];
        _cleanup_close_ int fd = -EBADF;
        const char *bd = NULL;
        int r = layer_blob(s, x, i, &fd, &bd, err);
        if (r < 0)
                return r;
        if (r == 0)
                return pack_layer(s, x, i, PEA_LAYER_COMPRESSION_NONE, tmpdir, err);
        enum pea_compression c = xfer_sniff_fd(fd);
        l->digest = xstrdup(L->diff_id);
        l->compression = PEA_COMPRESSION_NONE;
        if (c == PEA_COMPRESSION_NONE) {
                l->size = fd_size(fd);
                l->fd = TAKE_FD(fd);
                return 0;
        }
        if (L->size <= 0)
                return inflate_tmp(l, fd, tmpdir, err);
        l->size = L->size;
        l->decompress = true;
        l->fd = TAKE_FD(fd);
        return 0;
}

static int rewrite_config(struct xfer_image *x, struct pea_error **err)
{
        json_error_t je;
        _cleanup_json_ json_t *j = json_loadb(x->config, x->config_len, 0, &je);
        json_t *rootfs = j ? json_object_get(j, "rootfs") : NULL;
        if (!json_is_object(rootfs))
                return pea_error_set(err, EBADMSG, "image config '%s' has no rootfs",
                                     x->config_digest);
        json_t *ids = json_array();
        for (size_t i = 0; i < x->n_layers; i++)
                json_array_append_new(ids, json_string(x->layers[i].diff_id));
        json_object_set_new(rootfs, "diff_ids", ids);
        char *raw = json_dumps(j, JSON_COMPACT);
        if (!raw)
                abort();
        free(x->config);
        free(x->config_digest);
        x->config = raw;
        x->config_len = strlen(raw);
        x->config_digest = NULL;
        return pea_digest_data(PEA_DIGEST_SHA256, raw, x->config_len, &x->config_digest, err);
}

static json_t *descriptor_json(const char *media_type, const char *digest, int64_t size,
                               bool docker)
{
        if (docker)
                return json_pack("{s:s, s:I, s:s}", "mediaType", media_type, "size",
                                 (json_int_t)size, "digest", digest);
        return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size",
                         (json_int_t)size);
}

static int layer_json(const struct xfer_image *x, size_t i, enum pea_manifest_type t, json_t **ret,
                      struct pea_error **err)
{
        const struct xfer_layer *l = &x->layers[i];
        const struct pea_descriptor *d = &x->stored->layers[i];
        const char *mt = l->original && t == x->stored->type ? l->media_type : NULL;
        if (!mt)
                mt = xfer_layer_media_type(t, l->compression);
        if (!mt)
                return pea_error_set(err, ENOTSUP, "layer '%s' (%s) cannot be stored in a %s",
                                     l->digest, pea_compression_to_string(l->compression) ?: "?",
                                     pea_manifest_type_to_media_type(t));
        json_t *j = descriptor_json(mt, l->digest, l->size, t == PEA_MANIFEST_DOCKER_V2S2);
        if (l->original && d->urls) {
                json_t *urls = json_array();
                STRV_FOREACH(u, d->urls)
                        json_array_append_new(urls, json_string(*u));
                json_object_set_new(j, "urls", urls);
        }
        if (l->original && d->annotations && t != PEA_MANIFEST_DOCKER_V2S2)
                json_object_set(j, "annotations", d->annotations);
        *ret = j;
        return 0;
}

static int build_manifest(struct xfer_image *x, enum pea_manifest_type t, struct pea_error **err)
{
        bool docker = t == PEA_MANIFEST_DOCKER_V2S2;
        _cleanup_json_ json_t *layers = json_array();
        for (size_t i = 0; i < x->n_layers; i++) {
                json_t *lj = NULL;
                int r = layer_json(x, i, t, &lj, err);
                if (r < 0)
                        return r;
                json_array_append_new(layers, lj);
        }
        const char *cmt = docker ? PEA_MEDIA_DOCKER_CONFIG : PEA_MEDIA_OCI_CONFIG;
        _cleanup_json_ json_t *m =
                json_pack("{s:i, s:s, s:o, s:O}", "schemaVersion", 2, "mediaType",
                          pea_manifest_type_to_media_type(t), "config",
                          descriptor_json(cmt, x->config_digest, (int64_t)x->config_len, docker),
                          "layers", layers);
        if (!docker && x->stored->type == PEA_MANIFEST_OCI && x->stored->annotations)
                json_object_set(m, "annotations", x->stored->annotations);
        char *raw = json_dumps(m, JSON_COMPACT);
        if (!raw)
                abort();
        free(x->manifest);
        free(x->manifest_digest);
        x->manifest = raw;
        x->manifest_len = strlen(raw);
        x->manifest_digest = NULL;
        x->manifest_type = t;
        return pea_digest_data(PEA_DIGEST_SHA256, raw, x->manifest_len, &x->manifest_digest, err);
}

int xfer_image_prepare(struct pea_image_store *s, struct xfer_image *x, enum xfer_mode mode,
                       bool allow_remote, const char *tmpdir, struct pea_error **err)
{
        for (size_t i = 0; i < x->n_layers; i++) {
                x->layers[i].diff_id = xstrdup(x->rec.layers[i].diff_id);
                int r = mode == XFER_COMPRESSED
                                ? prepare_compressed(s, x, i, allow_remote, tmpdir, err)
                                : prepare_uncompressed(s, x, i, tmpdir, err);
                if (r < 0)
                        return pea_error_wrap(err, "exporting layer '%s'",
                                              x->rec.layers[i].diff_id);
        }
        return 0;
}

int xfer_image_finish(struct xfer_image *x, int format, bool keep_type_if_unchanged,
                      struct pea_error **err)
{
        bool changed = false, diff_changed = false;
        for (size_t i = 0; i < x->n_layers; i++) {
                changed |= !x->layers[i].original;
                diff_changed |= !streq(x->layers[i].diff_id, x->rec.layers[i].diff_id);
        }
        if (diff_changed) {
                int r = rewrite_config(x, err);
                if (r < 0)
                        return r;
        }
        if (format == XFER_NO_MANIFEST)
                return 0;
        enum pea_manifest_type want =
                format >= 0 ? (enum pea_manifest_type)format : x->stored->type;
        if (!changed && !diff_changed && (keep_type_if_unchanged || want == x->stored->type))
                return 0;
        return build_manifest(x, want, err);
}

int xfer_layer_reader_open(const struct xfer_layer *l, struct xfer_layer_reader *ret,
                           struct pea_error **err)
{
        *ret = (struct xfer_layer_reader){.fd = {.fd = l->fd}};
        if (!l->decompress) {
                ret->src = (struct pea_layer_source){.read = xfer_fd_read, .userdata = &ret->fd};
                return 0;
        }
        int r = xfer_unz_open(l->fd, &ret->unz, err);
        if (r < 0)
                return r;
        ret->src = (struct pea_layer_source){.read = xfer_unz_read, .userdata = ret->unz};
        return 0;
}

void xfer_layer_reader_done(struct xfer_layer_reader *r)
{
        r->unz = xfer_unz_free(r->unz);
}
