/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "image/transfer-internal.h"

/*
 * pea push: layer blobs (skipped when the target has them, mounted from
 * another repository of the same registry when the image came from there),
 * the config, then the manifest. The target is a table of functions, so this
 * file knows nothing about HTTP.
 */

/* A repository of t's registry the image was pulled from or named after, other than t's. */
static char *mount_source(const struct xfer_image *x, const struct pea_push_target *t)
{
        if (!t->registry || !t->repository)
                return NULL;
        char **lists[] = {x->rec.repo_digests, x->rec.names};
        for (size_t k = 0; k < ELEMENTSOF(lists); k++)
                STRV_FOREACH(n, lists[k]) {
                        _cleanup_image_ref_ struct pea_image_ref ref = {0};
                        _cleanup_error_ struct pea_error *e = NULL;
                        if (pea_image_ref_parse_normalized(*n, &ref, &e) < 0)
                                continue;
                        if (streq(ref.domain, t->registry) && !streq(ref.path, t->repository))
                                return xstrdup(ref.path);
                }
        return NULL;
}

static int upload_layer(const struct xfer_layer *l, const char *mount_from,
                        const struct pea_push_target *t, const struct pea_push_opts *opts,
                        struct pea_error **err)
{
        int r = t->blob_exists(t->userdata, l->digest, err);
        if (r < 0)
                return r;
        if (r > 0) {
                xfer_progress(&opts->progress, PEA_TRANSFER_BLOB_SKIPPED, l->digest);
                return 0;
        }
        xfer_progress(&opts->progress, PEA_TRANSFER_BLOB, l->digest);
        struct pea_push_blob b = {.digest = l->digest,
                                  .size = l->size,
                                  .media_type = l->media_type,
                                  .mount_from = l->original ? mount_from : NULL,
                                  .fd = l->fd};
        r = t->put_blob(t->userdata, &b, err);
        return r < 0 ? r : 0;
}

/*
 * A layer whose original blob is not in the store: fine when the target has
 * it or can mount it from the repository the image came from; otherwise made
 * from the store (which changes the manifest).
 */
static int push_remote(struct pea_image_store *s, struct xfer_image *x, size_t i,
                       const char *mount_from, const struct pea_push_target *t,
                       const struct pea_push_opts *opts, struct pea_error **err)
{
        const struct xfer_layer *l = &x->layers[i];
        int r = t->blob_exists(t->userdata, l->digest, err);
        if (r != 0) {
                if (r > 0)
                        xfer_progress(&opts->progress, PEA_TRANSFER_BLOB_SKIPPED, l->digest);
                return r < 0 ? r : 0;
        }
        if (mount_from) {
                struct pea_push_blob b = {.digest = l->digest,
                                          .size = l->size,
                                          .media_type = l->media_type,
                                          .mount_from = mount_from,
                                          .fd = -EBADF};
                r = t->put_blob(t->userdata, &b, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        xfer_progress(&opts->progress, PEA_TRANSFER_BLOB, l->digest);
                        return 0;
                }
        }
        r = xfer_layer_regenerate(s, x, i, opts->tmpdir, err);
        if (r < 0)
                return r;
        return upload_layer(l, mount_from, t, opts, err);
}

static int push_layers(struct pea_image_store *s, struct xfer_image *x, const char *mount_from,
                       const struct pea_push_target *t, const struct pea_push_opts *opts,
                       struct pea_error **err)
{
        for (size_t i = 0; i < x->n_layers; i++) {
                const struct xfer_layer *l = &x->layers[i];
                int r = 0;
                if (l->remote)
                        r = push_remote(s, x, i, mount_from, t, opts, err);
                else if (!l->foreign)
                        r = upload_layer(l, mount_from, t, opts, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int push_config(const struct xfer_image *x, const struct pea_push_target *t,
                       const struct pea_push_opts *opts, struct pea_error **err)
{
        xfer_progress(&opts->progress, PEA_TRANSFER_CONFIG, x->config_digest);
        int r = t->blob_exists(t->userdata, x->config_digest, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct pea_push_blob b = {.digest = x->config_digest,
                                  .size = (int64_t)x->config_len,
                                  .media_type = x->manifest_type == PEA_MANIFEST_DOCKER_V2S2
                                                        ? PEA_MEDIA_DOCKER_CONFIG
                                                        : PEA_MEDIA_OCI_CONFIG,
                                  .fd = -EBADF,
                                  .data = x->config};
        r = t->put_blob(t->userdata, &b, err);
        return r < 0 ? r : 0;
}

static int check_target(const struct pea_push_target *t, const struct pea_push_opts *opts,
                        struct pea_error **err)
{
        if (!t->blob_exists || !t->put_blob || !t->put_manifest)
                return pea_error_set(err, EINVAL, "incomplete push target");
        if (opts->format >= 0 && opts->format != PEA_MANIFEST_OCI
            && opts->format != PEA_MANIFEST_DOCKER_V2S2)
                return pea_error_set(err, EINVAL, "unsupported manifest format for push");
        return 0;
}

int pea_image_push(struct pea_image_store *s, const char *image, const struct pea_push_target *t,
                   const struct pea_push_opts *opts, char **ret_digest, struct pea_error **err)
{
        static const struct pea_push_opts defaults = {.format = -1};
        if (!opts)
                opts = &defaults;
        _cleanup_xfer_image_ struct xfer_image *x = NULL;
        int r = check_target(t, opts, err);
        if (r >= 0)
                r = xfer_image_open(s, image, &x, err);
        if (r >= 0)
                r = xfer_image_prepare(s, x, XFER_COMPRESSED, true, opts->tmpdir, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *mount_from = mount_source(x, t);
        xfer_progress(&opts->progress, PEA_TRANSFER_START, NULL);
        r = push_layers(s, x, mount_from, t, opts, err);
        if (r >= 0)
                r = xfer_image_finish(x, opts->format, false, err);
        if (r >= 0)
                r = push_config(x, t, opts, err);
        if (r >= 0) {
                xfer_progress(&opts->progress, PEA_TRANSFER_MANIFEST, NULL);
                r = t->put_manifest(t->userdata, pea_manifest_type_to_media_type(x->manifest_type),
                                    x->manifest, x->manifest_len, err);
        }
        if (r < 0)
                return r;
        xfer_progress(&opts->progress, PEA_TRANSFER_DONE, NULL);
        if (ret_digest)
                *ret_digest = xstrdup(x->manifest_digest);
        return 0;
}
