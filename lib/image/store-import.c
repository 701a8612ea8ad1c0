/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "image/image-internal.h"
#include "image/image.h"
#include "image/store-internal.h"
#include "layer/layer.h"

/*
 * pea_image_store_layer_import(): begin, lib/layer's unpack, checks, commit,
 * with the compressed stream optionally kept as a blob on the way.
 */

struct tee {
        const struct pea_layer_source *src;
        struct store_blob_writer *blob; /* NULL when the stream is not kept */
};

static ssize_t tee_read(void *userdata, void *buf, size_t len, struct pea_error **err)
{
        struct tee *t = userdata;
        ssize_t n = t->src->read(t->src->userdata, buf, len, err);
        if (n > 0 && t->blob) {
                int r = store_blob_writer_write(t->blob, buf, (size_t)n, err);
                if (r < 0)
                        return r;
        }
        return n;
}

static int import_whiteout(const struct pea_layer_unpack_opts *opts,
                           const struct pea_layer_stats *st, enum pea_image_whiteout *ret,
                           struct pea_error **err)
{
        enum pea_whiteout_mode mode = opts ? opts->whiteout : PEA_WHITEOUT_OVERLAY;
        switch (mode) {
        case PEA_WHITEOUT_OVERLAY:
                if (st && st->whiteout_fallbacks > 0)
                        *ret = PEA_IMAGE_WHITEOUT_AUFS;
                else
                        *ret = opts && opts->userxattr ? PEA_IMAGE_WHITEOUT_OVERLAY_USERXATTR
                                                       : PEA_IMAGE_WHITEOUT_OVERLAY;
                return 0;
        case PEA_WHITEOUT_AUFS:
                *ret = PEA_IMAGE_WHITEOUT_AUFS;
                return 0;
        default:
                return pea_error_set(err, EINVAL, "whiteout mode '%s' cannot be stored as a layer",
                                     pea_whiteout_mode_to_string(mode) ?: "?");
        }
}

static int check_import(const struct pea_image_layer_import *imp,
                        const struct pea_layer_unpack_opts *opts, struct pea_error **err)
{
        enum pea_image_whiteout w;
        int r = import_whiteout(opts, NULL, &w, err);
        if (r >= 0 && (!imp->diff_id || !startswith(imp->diff_id, "sha256:")))
                r = pea_error_set(err, EINVAL, "invalid diff ID '%s'", imp->diff_id ?: "");
        if (r >= 0)
                r = pea_digest_validate(imp->diff_id, err);
        if (r >= 0 && imp->digest)
                r = pea_digest_validate(imp->digest, err);
        return r;
}

/* Checks what was unpacked against what the manifest and config promise. */
static int check_stats(const struct pea_image_layer_import *imp, const struct pea_layer_stats *st,
                       struct pea_error **err)
{
        if (!streq(st->diff_id, imp->diff_id))
                return pea_error_set(err, EBADMSG,
                                     "layer diff ID mismatch: expected '%s', got '%s'",
                                     imp->diff_id, st->diff_id);
        if (imp->digest && startswith(imp->digest, "sha256:") && !streq(st->digest, imp->digest))
                return pea_error_set(err, EBADMSG, "layer digest mismatch: expected '%s', got '%s'",
                                     imp->digest, st->digest);
        return 0;
}

/* Unpacks into tmp (teeing into blob, which is consumed) and fills st. */
static int unpack_into(struct pea_image_store_tmp *tmp, const struct pea_image_layer_import *imp,
                       const struct pea_layer_source *src, const struct pea_layer_unpack_opts *opts,
                       struct store_blob_writer *blob, struct pea_layer_stats *st,
                       struct pea_error **err)
{
        struct tee t = {.src = src, .blob = blob};
        struct pea_layer_source teesrc = {.read = tee_read, .userdata = &t};
        int r = pea_layer_unpack(&teesrc, tmp->diff_fd, opts, st, err);
        if (r >= 0)
                r = check_stats(imp, st, err);
        /* The blob goes in first: a layer row may name it as soon as it exists. */
        if (r >= 0 && blob)
                r = store_blob_writer_finish(TAKE_PTR(blob), imp->digest, NULL, err);
        store_blob_writer_free(blob);
        return r;
}

/* Unpacks and commits a layer that is not in the store yet. */
static int import_new(struct pea_image_store *s, const struct pea_image_layer_import *imp,
                      const struct pea_layer_source *src, const struct pea_layer_unpack_opts *opts,
                      struct pea_error **err)
{
        struct pea_image_store_tmp *tmp = NULL;
        struct store_blob_writer *blob = NULL;
        struct pea_layer_stats st = {0};
        struct pea_image_layer_info info = {.parent_chain_id = imp->parent_chain_id,
                                            .diff_id = imp->diff_id,
                                            .media_type = imp->media_type};
        int r = pea_image_store_layer_begin(s, &tmp, err);
        if (r >= 0 && imp->keep_blob)
                r = store_blob_writer_new(s, imp->digest, &blob, err);
        if (r >= 0)
                r = unpack_into(tmp, imp, src, opts, TAKE_PTR(blob), &st, err);
        if (r >= 0)
                r = import_whiteout(opts, &st, &info.whiteout, err);
        store_blob_writer_free(blob);
        if (r < 0) {
                pea_image_store_layer_abort(s, tmp);
                return r;
        }
        info.size = (int64_t)st.uncompressed_size;
        info.digest = imp->digest ?: st.digest;
        return pea_image_store_layer_commit(s, tmp, &info, NULL, err);
}

int pea_image_store_layer_import(struct pea_image_store *s,
                                 const struct pea_image_layer_import *imp,
                                 const struct pea_layer_source *src,
                                 const struct pea_layer_unpack_opts *opts, char **ret_chain_id,
                                 struct pea_error **err)
{
        _cleanup_free_ char *chain = NULL;
        int r = check_import(imp, opts, err);
        if (r >= 0)
                r = pea_image_chain_id(imp->parent_chain_id, imp->diff_id, &chain, err);
        if (r >= 0 && imp->parent_chain_id) {
                r = pea_image_store_layer_exists(s, imp->parent_chain_id, err);
                if (r == 0)
                        r = pea_error_set(err, ENOENT, "parent layer '%s' not known",
                                          imp->parent_chain_id);
        }
        if (r >= 0)
                r = pea_image_store_layer_exists(s, chain, err);
        if (r == 0) {
                r = import_new(s, imp, src, opts, err);
                if (r >= 0)
                        r = 1; /* unpacked */
        } else if (r > 0) {
                r = 0; /* there already: src is not read */
        }
        if (r < 0)
                return image_error_wrap(r, err, "importing layer '%s'", imp->diff_id ?: "");
        if (ret_chain_id)
                *ret_chain_id = TAKE_PTR(chain);
        return r;
}
