/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "image/transfer-internal.h"

/*
 * OCI image layouts (oci-archive: as a tar; oci-dir: as a directory) and
 * containers-image's dir: layout (docker-dir):
 *   oci-layout                {"imageLayoutVersion": "1.0.0"}
 *   index.json                one manifest per image, named by the annotation
 *                             org.opencontainers.image.ref.name
 *   blobs/<alg>/<hex>         layers, configs and manifests as stored
 */

#define REF_NAME "org.opencontainers.image.ref.name"

/* ---- save ---------------------------------------------------------------------------------- */

static char *blob_path(const char *digest)
{
        const char *colon = strchr(digest, ':');
        return xasprintf("blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
}

static int save_blob_dirs(struct xfer_sink *k, const char *digest, struct pea_error **err)
{
        const char *colon = strchr(digest, ':');
        _cleanup_free_ char *alg = xasprintf("blobs/%.*s", (int)(colon - digest), digest);
        int r = xfer_sink_mkdir(k, "blobs", err);
        if (r >= 0)
                r = xfer_sink_mkdir(k, alg, err);
        return r;
}

/* Writes layer l under name (the OCI path, or the hex for docker-dir). */
static int save_layer(struct xfer_sink *k, const struct xfer_layer *l, const char *name,
                      const struct pea_save_opts *opts, struct pea_error **err)
{
        if (l->foreign || xfer_sink_has(k, name))
                return 0;
        xfer_progress(&opts->progress, PEA_TRANSFER_BLOB, l->digest);
        struct xfer_layer_reader rd;
        int r = xfer_layer_reader_open(l, &rd, err);
        if (r >= 0)
                r = xfer_sink_stream(k, name, l->size, &rd.src, l->digest, err);
        xfer_layer_reader_done(&rd);
        if (r < 0)
                return pea_error_wrap(err, "saving layer '%s'", l->digest);
        return 0;
}

static int save_image_blobs(struct xfer_sink *k, const struct xfer_image *x,
                            const struct pea_save_opts *opts, struct pea_error **err)
{
        int r = pea_digest_validate(x->config_digest, err);
        for (size_t i = 0; r >= 0 && i < x->n_layers; i++) {
                const struct xfer_layer *l = &x->layers[i];
                r = pea_digest_validate(l->digest, err);
                if (r < 0)
                        break;
                _cleanup_free_ char *name = blob_path(l->digest);
                r = save_blob_dirs(k, l->digest, err);
                if (r >= 0)
                        r = save_layer(k, l, name, opts, err);
        }
        if (r < 0)
                return r;
        xfer_progress(&opts->progress, PEA_TRANSFER_CONFIG, x->config_digest);
        _cleanup_free_ char *cname = blob_path(x->config_digest);
        _cleanup_free_ char *mname = blob_path(x->manifest_digest);
        r = save_blob_dirs(k, x->config_digest, err);
        if (r >= 0)
                r = xfer_sink_file(k, cname, x->config, x->config_len, err);
        xfer_progress(&opts->progress, PEA_TRANSFER_MANIFEST, NULL);
        if (r >= 0)
                r = save_blob_dirs(k, x->manifest_digest, err);
        if (r >= 0)
                r = xfer_sink_file(k, mname, x->manifest, x->manifest_len, err);
        return r;
}

static int save_json(struct xfer_sink *k, const char *name, const json_t *j, struct pea_error **err)
{
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
        if (!s)
                abort();
        return xfer_sink_file(k, name, s, strlen(s), err);
}

int xfer_save_oci(struct pea_image_store *s _unused_, struct xfer_image **images, size_t n,
                  struct xfer_sink *k, const struct pea_save_opts *opts, struct pea_error **err)
{
        _cleanup_json_ json_t *manifests = json_array();
        for (size_t i = 0; i < n; i++) {
                const struct xfer_image *x = images[i];
                xfer_progress(&opts->progress, PEA_TRANSFER_START, NULL);
                int r = save_image_blobs(k, x, opts, err);
                if (r < 0)
                        return r;
                json_t *d = json_pack("{s:s, s:s, s:I}", "mediaType",
                                      pea_manifest_type_to_media_type(x->manifest_type), "digest",
                                      x->manifest_digest, "size", (json_int_t)x->manifest_len);
                if (x->name)
                        json_object_set_new(d, "annotations",
                                            json_pack("{s:s}", REF_NAME, x->name));
                json_array_append_new(manifests, d);
                xfer_progress(&opts->progress, PEA_TRANSFER_DONE, NULL);
        }
        _cleanup_json_ json_t *index = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType",
                                                 PEA_MEDIA_OCI_INDEX, "manifests", manifests);
        _cleanup_json_ json_t *layout = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
        int r = save_json(k, "index.json", index, err);
        if (r >= 0)
                r = save_json(k, "oci-layout", layout, err);
        return r;
}

int xfer_save_docker_dir(struct pea_image_store *s _unused_, struct xfer_image *x,
                         struct xfer_sink *k, const struct pea_save_opts *opts,
                         struct pea_error **err)
{
        static const char version[] = "Directory Transport Version: 1.1\n";
        xfer_progress(&opts->progress, PEA_TRANSFER_START, NULL);
        int r = 0;
        for (size_t i = 0; r >= 0 && i < x->n_layers; i++)
                r = save_layer(k, &x->layers[i], pea_digest_hex(x->layers[i].digest), opts, err);
        if (r < 0)
                return r;
        xfer_progress(&opts->progress, PEA_TRANSFER_CONFIG, x->config_digest);
        r = xfer_sink_file(k, pea_digest_hex(x->config_digest), x->config, x->config_len, err);
        xfer_progress(&opts->progress, PEA_TRANSFER_MANIFEST, NULL);
        if (r >= 0)
                r = xfer_sink_file(k, "manifest.json", x->manifest, x->manifest_len, err);
        if (r >= 0)
                r = xfer_sink_file(k, "version", version, strlen(version), err);
        if (r >= 0)
                xfer_progress(&opts->progress, PEA_TRANSFER_DONE, NULL);
        return r;
}

/* ---- load ---------------------------------------------------------------------------------- */

static int read_blob(struct xfer_tar *t, const char *digest, size_t max, char **ret,
                     size_t *ret_len, struct pea_error **err)
{
        int r = pea_digest_validate(digest, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *name = blob_path(digest);
        return xfer_tar_read(t, name, max, ret, ret_len, err);
}

/* The manifest of desc; an index is resolved to this host's entry (one level). */
static int read_manifest(struct xfer_tar *t, const struct pea_descriptor *desc, int depth,
                         struct pea_manifest **ret, struct pea_error **err)
{
        _cleanup_manifest_ struct pea_manifest *m = NULL;
        _cleanup_free_ char *raw = NULL;
        size_t len = 0;
        int r = read_blob(t, desc->digest, PEA_MANIFEST_MAX_BYTES, &raw, &len, err);
        if (r >= 0)
                r = pea_manifest_parse(raw, len, desc->media_type, desc->digest, &m, err);
        if (r < 0)
                return r;
        if (!pea_manifest_is_index(m)) {
                *ret = TAKE_PTR(m);
                return 0;
        }
        if (depth > 0)
                return pea_error_set(err, EBADMSG, "nested image index '%s'", desc->digest);
        const struct pea_descriptor *sel = NULL;
        r = pea_manifest_select(m, NULL, &sel, err);
        if (r >= 0)
                r = read_manifest(t, sel, depth + 1, ret, err);
        return r;
}

static int load_layers(struct pea_image_store *s, struct xfer_tar *t, const struct pea_manifest *m,
                       const struct pea_image_config *cfg, const struct pea_load_opts *opts,
                       struct pea_error **err)
{
        _cleanup_free_ char *parent = NULL;
        for (size_t i = 0; i < m->n_layers; i++) {
                const struct pea_descriptor *d = &m->layers[i];
                _cleanup_free_ char *name = blob_path(d->digest);
                xfer_progress(&opts->progress, PEA_TRANSFER_BLOB, d->digest);
                struct xfer_tar_member mb = {0};
                char *chain = NULL;
                int r = xfer_tar_member_open(t, name, &mb, err);
                if (r >= 0)
                        r = xfer_import_layer(s, parent, cfg->diff_ids[i], d->digest, d->media_type,
                                              &mb.src, opts, &chain, err);
                xfer_tar_member_done(&mb);
                if (r < 0)
                        return r;
                free(parent);
                parent = chain;
        }
        return 0;
}

static int index_name(const struct pea_descriptor *d, char ***ret, struct pea_error **err)
{
        *ret = xcalloc(1, sizeof(char *));
        const char *ref = d->annotations
                                  ? json_string_value(json_object_get(d->annotations, REF_NAME))
                                  : NULL;
        if (!ref || !*ref)
                return 0;
        char *name = NULL;
        int r = pea_image_local_name(ref, &name, err);
        if (r < 0)
                return pea_error_wrap(err, "image name '%s' in index.json", ref);
        strv_consume(ret, name);
        return 0;
}

static int load_one(struct pea_image_store *s, struct xfer_tar *t, const struct pea_descriptor *d,
                    const struct pea_load_opts *opts, struct xfer_pending *p,
                    struct pea_error **err)
{
        _cleanup_manifest_ struct pea_manifest *m = NULL;
        _cleanup_image_config_ struct pea_image_config *cfg = NULL;
        int r = pea_digest_validate(d->digest, err);
        if (r >= 0)
                r = index_name(d, &p->names, err);
        if (r >= 0)
                r = read_manifest(t, d, 0, &m, err);
        if (r >= 0)
                r = read_blob(t, m->config.digest, PEA_CONFIG_MAX_BYTES, &p->config, &p->config_len,
                              err);
        if (r >= 0)
                r = pea_image_config_parse(p->config, p->config_len, m->config.digest, &cfg, err);
        if (r >= 0)
                r = pea_image_config_check_manifest(cfg, m, err);
        if (r < 0)
                return r;
        xfer_progress(&opts->progress, PEA_TRANSFER_START, NULL);
        r = load_layers(s, t, m, cfg, opts, err);
        if (r < 0)
                return r;
        xfer_progress(&opts->progress, PEA_TRANSFER_CONFIG, cfg->digest);
        p->manifest = xstrndup(m->raw, m->raw_len);
        p->manifest_len = m->raw_len;
        p->media_type = xstrdup(pea_manifest_type_to_media_type(m->type));
        return 0;
}

int xfer_load_oci(struct pea_image_store *s, struct xfer_tar *t, const struct pea_load_opts *opts,
                  struct xfer_pending_list *ret, struct pea_error **err)
{
        _cleanup_free_ char *raw = NULL;
        _cleanup_manifest_ struct pea_manifest *idx = NULL;
        size_t len = 0;
        int r = xfer_tar_read(t, "index.json", XFER_MAX_JSON_BYTES, &raw, &len, err);
        if (r >= 0)
                r = pea_manifest_parse(raw, len, PEA_MEDIA_OCI_INDEX, NULL, &idx, err);
        if (r < 0)
                return pea_error_wrap(err, "index.json");
        if (!pea_manifest_is_index(idx) || idx->n_manifests == 0)
                return pea_error_set(err, EBADMSG, "index.json lists no images");
        ret->v = xcalloc(idx->n_manifests, sizeof(*ret->v));
        for (size_t i = 0; i < idx->n_manifests; i++) {
                ret->n++;
                r = load_one(s, t, &idx->manifests[i], opts, &ret->v[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}
