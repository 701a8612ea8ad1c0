/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "image/transfer-internal.h"

/*
 * docker-archive, the layout of `docker save` as containers-image writes it:
 *   <diff_id hex>.tar        each layer, uncompressed (its sha256 is the diff_id)
 *   <config hex>.json        each config, byte for byte
 *   <legacy id>/{VERSION,json,layer.tar -> ../<diff_id hex>.tar}
 *   manifest.json            [{"Config", "RepoTags", "Layers"}]
 *   repositories             {"repo": {"tag": "<legacy id of the top layer>"}}
 * The archive has no manifest: load makes the one containers-image makes
 * (layers by diff_id), so the image gets podman's digest too.
 */

#define DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* ---- save ---------------------------------------------------------------------------------- */

/* The legacy v1 ID of layer i: from its chain ID, and the config for the top one. */
static char *legacy_id(const char *chain, const char *config_digest, bool top)
{
        _cleanup_free_ char *s = top ? xasprintf("%s %s", chain, config_digest) : xstrdup(chain);
        _cleanup_free_ char *d = NULL;
        if (pea_digest_data(PEA_DIGEST_SHA256, s, strlen(s), &d, NULL) < 0)
                abort();
        return xstrdup(pea_digest_hex(d));
}

/* The legacy json of a layer: id and parent, plus parts of the config for the top one. */
static char *legacy_json(const struct xfer_image *x, const char *id, const char *parent, bool top)
{
        _cleanup_json_ json_t *j = json_object();
        if (top) {
                static const char *const keys[] = {
                        "architecture", "config",         "container", "container_config",
                        "created",      "docker_version", "os"};
                _cleanup_json_ json_t *cfg = json_loadb(x->config, x->config_len, 0, NULL);
                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        json_t *v = cfg ? json_object_get(cfg, keys[i]) : NULL;
                        json_object_set(j, keys[i], v ? v : json_null());
                }
        }
        json_object_set_new(j, "id", json_string(id));
        if (parent)
                json_object_set_new(j, "parent", json_string(parent));
        char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!s)
                abort();
        return s;
}

static int save_legacy_layer(struct xfer_sink *k, const struct xfer_image *x, size_t i,
                             const char *id, const char *parent, struct pea_error **err)
{
        bool top = i + 1 == x->n_layers;
        _cleanup_free_ char *vpath = xasprintf("%s/VERSION", id);
        _cleanup_free_ char *jpath = xasprintf("%s/json", id);
        _cleanup_free_ char *lpath = xasprintf("%s/layer.tar", id);
        _cleanup_free_ char *target = xasprintf("../%s.tar", pea_digest_hex(x->layers[i].diff_id));
        _cleanup_free_ char *json = legacy_json(x, id, parent, top);
        int r = xfer_sink_mkdir(k, id, err);
        if (r >= 0)
                r = xfer_sink_file(k, vpath, "1.0", 3, err);
        if (r >= 0)
                r = xfer_sink_file(k, jpath, json, strlen(json), err);
        if (r >= 0)
                r = xfer_sink_symlink(k, lpath, target, err);
        return r;
}

/* Writes the legacy directories; *ret_top the top layer's legacy ID (NULL without layers). */
static int save_legacy(struct xfer_sink *k, const struct xfer_image *x, char **ret_top,
                       struct pea_error **err)
{
        _cleanup_free_ char *chain = NULL, *parent_id = NULL;
        for (size_t i = 0; i < x->n_layers; i++) {
                char *next = NULL;
                int r = pea_image_chain_id(chain, x->layers[i].diff_id, &next, err);
                if (r < 0)
                        return r;
                free(chain);
                chain = next;
                _cleanup_free_ char *id = legacy_id(chain, x->config_digest, i + 1 == x->n_layers);
                r = save_legacy_layer(k, x, i, id, parent_id, err);
                if (r < 0)
                        return r;
                free(parent_id);
                parent_id = TAKE_PTR(id);
        }
        *ret_top = TAKE_PTR(parent_id);
        return 0;
}

static int save_layers(struct xfer_sink *k, const struct xfer_image *x, json_t *names,
                       const struct pea_save_opts *opts, struct pea_error **err)
{
        for (size_t i = 0; i < x->n_layers; i++) {
                const struct xfer_layer *l = &x->layers[i];
                _cleanup_free_ char *name = xasprintf("%s.tar", pea_digest_hex(l->diff_id));
                json_array_append_new(names, json_string(name));
                if (xfer_sink_has(k, name))
                        continue;
                xfer_progress(&opts->progress, PEA_TRANSFER_BLOB, l->diff_id);
                struct xfer_layer_reader rd;
                int r = xfer_layer_reader_open(l, &rd, err);
                if (r >= 0)
                        r = xfer_sink_stream(k, name, l->size, &rd.src, l->diff_id, err);
                xfer_layer_reader_done(&rd);
                if (r < 0)
                        return pea_error_wrap(err, "saving layer '%s'", l->diff_id);
        }
        return 0;
}

/* The tag to record: the name the image was found by, unless it is a digest reference. */
static const char *repo_tag(const struct xfer_image *x)
{
        return x->name && !strchr(x->name, '@') ? x->name : NULL;
}

static void add_repositories(json_t *repos, const char *tag, const char *top)
{
        if (!tag || !top)
                return;
        const char *colon = strrchr(tag, ':');
        if (!colon || strchr(colon, '/'))
                return;
        _cleanup_free_ char *repo = xstrndup(tag, (size_t)(colon - tag));
        json_t *r = json_object_get(repos, repo);
        if (!r) {
                r = json_object();
                json_object_set_new(repos, repo, r);
        }
        json_object_set_new(r, colon + 1, json_string(top));
}

/* Adds the tag of an image already in the archive (found again by another name). */
static bool merge_duplicate(json_t *manifest, struct xfer_image **images, size_t i)
{
        for (size_t j = 0; j < i; j++) {
                if (!streq(images[j]->id, images[i]->id))
                        continue;
                const char *tag = repo_tag(images[i]);
                json_t *tags = json_object_get(json_array_get(manifest, j), "RepoTags");
                if (tag && tags)
                        json_array_append_new(tags, json_string(tag));
                return true;
        }
        return false;
}

static int save_one(struct xfer_sink *k, const struct xfer_image *x, json_t *manifest,
                    json_t *repos, const struct pea_save_opts *opts, struct pea_error **err)
{
        _cleanup_json_ json_t *layers = json_array();
        _cleanup_free_ char *cname = xasprintf("%s.json", pea_digest_hex(x->config_digest));
        _cleanup_free_ char *top = NULL;
        xfer_progress(&opts->progress, PEA_TRANSFER_START, NULL);
        int r = save_layers(k, x, layers, opts, err);
        if (r >= 0) {
                xfer_progress(&opts->progress, PEA_TRANSFER_CONFIG, x->config_digest);
                r = xfer_sink_file(k, cname, x->config, x->config_len, err);
        }
        if (r >= 0)
                r = save_legacy(k, x, &top, err);
        if (r < 0)
                return r;
        const char *tag = repo_tag(x);
        json_t *tags = json_array();
        if (tag)
                json_array_append_new(tags, json_string(tag));
        add_repositories(repos, tag, top);
        json_array_append_new(manifest, json_pack("{s:s, s:o, s:O}", "Config", cname, "RepoTags",
                                                  tags, "Layers", layers));
        xfer_progress(&opts->progress, PEA_TRANSFER_MANIFEST, NULL);
        xfer_progress(&opts->progress, PEA_TRANSFER_DONE, NULL);
        return 0;
}

static int save_json(struct xfer_sink *k, const char *name, const json_t *j, struct pea_error **err)
{
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
        if (!s)
                abort();
        return xfer_sink_file(k, name, s, strlen(s), err);
}

int xfer_save_docker(struct pea_image_store *s _unused_, struct xfer_image **images, size_t n,
                     struct xfer_sink *k, const struct pea_save_opts *opts, struct pea_error **err)
{
        _cleanup_json_ json_t *manifest = json_array();
        _cleanup_json_ json_t *repos = json_object();
        for (size_t i = 0; i < n; i++) {
                if (merge_duplicate(manifest, images, i))
                        continue;
                int r = save_one(k, images[i], manifest, repos, opts, err);
                if (r < 0)
                        return r;
        }
        int r = save_json(k, "manifest.json", manifest, err);
        if (r >= 0)
                r = save_json(k, "repositories", repos, err);
        return r;
}

/* ---- load ---------------------------------------------------------------------------------- */

/* podman's manifest for a docker-archive image: layers by diff_id, "gzip" as it says. */
static int synth_manifest(struct pea_image_store *s, const struct pea_image_config *cfg,
                          char **chains, struct xfer_pending *p, struct pea_error **err)
{
        _cleanup_json_ json_t *layers = json_array();
        size_t i = 0;
        STRV_FOREACH(d, cfg->diff_ids) {
                _cleanup_(pea_image_layer_done) struct pea_image_layer L = {0};
                int r = pea_image_store_layer_get(s, chains[i++], &L, err);
                if (r < 0)
                        return r;
                json_array_append_new(layers,
                                      json_pack("{s:s, s:I, s:s}", "mediaType", DOCKER_LAYER_GZIP,
                                                "size", (json_int_t)L.size, "digest", *d));
        }
        _cleanup_json_ json_t *m = json_pack(
                "{s:i, s:s, s:{s:s, s:I, s:s}, s:O}", "schemaVersion", 2, "mediaType",
                PEA_MEDIA_DOCKER_MANIFEST, "config", "mediaType", PEA_MEDIA_DOCKER_CONFIG, "size",
                (json_int_t)cfg->raw_len, "digest", cfg->digest, "layers", layers);
        p->manifest = json_dumps(m, JSON_COMPACT);
        if (!p->manifest)
                abort();
        p->manifest_len = strlen(p->manifest);
        p->media_type = xstrdup(PEA_MEDIA_DOCKER_MANIFEST);
        return 0;
}

static int load_layers(struct pea_image_store *s, struct xfer_tar *t, json_t *files,
                       const struct pea_image_config *cfg, const struct pea_load_opts *opts,
                       char ***ret_chains, struct pea_error **err)
{
        _cleanup_strv_ char **chains = xcalloc(1, sizeof(char *));
        const char *parent = NULL;
        size_t i = 0;
        STRV_FOREACH(d, cfg->diff_ids) {
                const char *file = json_string_value(json_array_get(files, i++));
                if (!file)
                        return pea_error_set(err, EBADMSG, "manifest.json: invalid Layers");
                xfer_progress(&opts->progress, PEA_TRANSFER_BLOB, *d);
                struct xfer_tar_member m = {0};
                char *chain = NULL;
                int r = xfer_tar_member_open(t, file, &m, err);
                if (r >= 0)
                        r = xfer_import_layer(s, parent, *d, NULL, NULL, &m.src, opts, &chain, err);
                xfer_tar_member_done(&m);
                if (r < 0)
                        return r;
                strv_consume(&chains, chain);
                parent = chain;
        }
        *ret_chains = TAKE_PTR(chains);
        return 0;
}

static int repo_tags(json_t *tags, char ***ret, struct pea_error **err)
{
        _cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
        size_t i;
        json_t *v;
        json_array_foreach(tags, i, v) {
                _cleanup_image_ref_ struct pea_image_ref ref = {0};
                const char *s = json_string_value(v);
                int r = s ? pea_image_ref_parse_normalized(s, &ref, err)
                          : pea_error_set(err, EBADMSG, "manifest.json: invalid RepoTags");
                if (r < 0)
                        return r;
                if (ref.digest)
                        continue;
                _cleanup_free_ char *full = pea_image_ref_string(&ref);
                if (!strv_contains(names, full))
                        strv_push(&names, full);
        }
        *ret = TAKE_PTR(names);
        return 0;
}

static int load_one(struct pea_image_store *s, struct xfer_tar *t, json_t *entry,
                    const struct pea_load_opts *opts, struct xfer_pending *p,
                    struct pea_error **err)
{
        const char *cfile = json_string_value(json_object_get(entry, "Config"));
        json_t *files = json_object_get(entry, "Layers");
        if (!cfile || !json_is_array(files))
                return pea_error_set(err, EBADMSG,
                                     "manifest.json: an entry lacks Config or Layers");
        _cleanup_image_config_ struct pea_image_config *cfg = NULL;
        _cleanup_strv_ char **chains = NULL;
        int r = xfer_tar_read(t, cfile, PEA_CONFIG_MAX_BYTES, &p->config, &p->config_len, err);
        if (r >= 0)
                r = pea_image_config_parse(p->config, p->config_len, NULL, &cfg, err);
        if (r >= 0 && strv_length(cfg->diff_ids) != json_array_size(files))
                r = pea_error_set(err, EBADMSG, "config '%s' has %zu layers, manifest.json %zu",
                                  cfile, strv_length(cfg->diff_ids), json_array_size(files));
        if (r >= 0)
                r = repo_tags(json_object_get(entry, "RepoTags"), &p->names, err);
        if (r < 0)
                return r;
        xfer_progress(&opts->progress, PEA_TRANSFER_START, NULL);
        r = load_layers(s, t, files, cfg, opts, &chains, err);
        if (r >= 0) {
                xfer_progress(&opts->progress, PEA_TRANSFER_CONFIG, cfg->digest);
                r = synth_manifest(s, cfg, chains, p, err);
        }
        return r;
}

int xfer_load_docker(struct pea_image_store *s, struct xfer_tar *t,
                     const struct pea_load_opts *opts, struct xfer_pending_list *ret,
                     struct pea_error **err)
{
        _cleanup_free_ char *raw = NULL;
        size_t len = 0;
        int r = xfer_tar_read(t, "manifest.json", XFER_MAX_JSON_BYTES, &raw, &len, err);
        if (r < 0)
                return r;
        json_error_t je;
        _cleanup_json_ json_t *m = json_loadb(raw, len, 0, &je);
        if (!json_is_array(m) || json_array_size(m) == 0)
                return pea_error_set(err, EBADMSG, "invalid manifest.json: %s",
                                     m ? "not a list of images" : je.text);
        if (json_array_size(m) > XFER_MAX_IMAGES)
                return pea_error_set(err, EFBIG, "manifest.json lists more than %u images",
                                     XFER_MAX_IMAGES);
        ret->v = xcalloc(json_array_size(m), sizeof(*ret->v));
        for (size_t i = 0; i < json_array_size(m); i++) {
                ret->n++;
                r = load_one(s, t, json_array_get(m, i), opts, &ret->v[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}
