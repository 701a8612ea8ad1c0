/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "base.h"
#include "image/image-internal.h"
#include "image/image.h"
#include "image/store-internal.h"
#include "state/state.h"

/* The image store: opening, image records, adding, tagging. See store.h. */

static int open_dir(const char *path, struct pea_error **err)
{
        int r = pea_mkdir_p(path, 0700, err);
        if (r < 0)
                return r;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        return fd;
}

int pea_image_store_open(const char *graph_root, struct pea_state *state,
                         struct pea_image_store **ret, struct pea_error **err)
{
        _cleanup_image_store_ struct pea_image_store *s = xcalloc(1, sizeof(*s));
        *s = (struct pea_image_store){
                .graph_root = xstrdup(graph_root),
                .layers_path = xasprintf("%s/layers", graph_root),
                .blobs_path = xasprintf("%s/blobs", graph_root),
                .layers_fd = -EBADF,
                .blobs_fd = -EBADF,
                .state = state,
        };
        _cleanup_free_ char *sha256 = xasprintf("%s/sha256", s->blobs_path);
        int r = pea_mkdir_p(sha256, 0700, err);
        if (r >= 0)
                r = s->blobs_fd = open_dir(s->blobs_path, err);
        if (r >= 0)
                r = s->layers_fd = open_dir(s->layers_path, err);
        if (r >= 0 && store_needs_repair(s)) {
                pea_debug("image store '%s' needs repair", graph_root);
                r = pea_image_store_repair(s, err);
        }
        if (r < 0)
                return image_error_wrap(r, err, "opening image store '%s'", graph_root);
        *ret = TAKE_PTR(s);
        return 0;
}

struct pea_image_store *pea_image_store_close(struct pea_image_store *s)
{
        if (!s)
                return NULL;
        pea_image_store_unpin_all(s);
        closep(&s->layers_fd);
        closep(&s->blobs_fd);
        free(s->graph_root);
        free(s->layers_path);
        free(s->blobs_path);
        strv_free(s->search);
        free(s);
        return NULL;
}

void pea_image_store_set_search(struct pea_image_store *s, char *const *registries)
{
        s->search = strv_free(s->search);
        s->search = xcalloc(1, sizeof(char *));
        STRV_FOREACH(r, (char **)registries)
                strv_push(&s->search, *r);
}

/* ---- records ------------------------------------------------------------------------------- */

void pea_image_record_done(struct pea_image_record *r)
{
        if (!r)
                return;
        free(r->id);
        free(r->digest);
        free(r->manifest_media_type);
        free(r->manifest);
        free(r->config);
        strv_free(r->names);
        strv_free(r->repo_digests);
        free(r->os);
        free(r->architecture);
        free(r->variant);
        for (size_t i = 0; r->layers && i < r->n_layers; i++)
                pea_image_layer_done(&r->layers[i]);
        free(r->layers);
        *r = (struct pea_image_record){0};
}

struct pea_image_record *pea_image_records_free(struct pea_image_record *r, size_t n)
{
        for (size_t i = 0; r && i < n; i++)
                pea_image_record_done(&r[i]);
        free(r);
        return NULL;
}

/* podman's RepoDigests: each name's repository with each digest, then what was recorded. */
static char **repo_digests(const struct pea_image_row *row)
{
        _cleanup_strv_ char **digests = xcalloc(1, sizeof(char *));
        if (row->digest)
                strv_push(&digests, row->digest);
        STRV_FOREACH(rd, row->repo_digests) {
                const char *at = strchr(*rd, '@');
                if (at && !strv_contains(digests, at + 1))
                        strv_push(&digests, at + 1);
        }
        char **l = xcalloc(1, sizeof(char *));
        STRV_FOREACH(n, row->names) {
                _cleanup_image_ref_ struct pea_image_ref ref = {0};
                if (pea_image_ref_parse(*n, &ref, NULL) < 0)
                        continue;
                _cleanup_free_ char *repo = pea_image_ref_name(&ref);
                STRV_FOREACH(d, digests) {
                        _cleanup_free_ char *rd = xasprintf("%s@%s", repo, *d);
                        if (!strv_contains(l, rd))
                                strv_push(&l, rd);
                }
        }
        STRV_FOREACH(rd, row->repo_digests)
                if (!strv_contains(l, *rd))
                        strv_push(&l, *rd);
        return l;
}

static int record_layers(struct pea_image_store *s, char *const *chain_ids,
                         struct pea_image_record *ret, struct pea_error **err)
{
        size_t n = strv_length(chain_ids);
        ret->layers = xcalloc(n ? n : 1, sizeof(*ret->layers));
        for (size_t i = 0; i < n; i++) {
                int r = pea_image_store_layer_get(s, chain_ids[i], &ret->layers[i], err);
                if (r < 0)
                        return r;
                ret->n_layers = i + 1;
        }
        return 0;
}

int store_record_from_row(struct pea_image_store *s, struct pea_image_row *row, bool with_layers,
                          struct pea_image_record *ret, struct pea_error **err)
{
        /* Before the initializer: its TAKE_PTR()s may run in any order. */
        char **rds = repo_digests(row);
        struct pea_image_record rec = {
                .repo_digests = rds,
                .id = TAKE_PTR(row->id),
                .digest = TAKE_PTR(row->digest),
                .manifest_media_type = TAKE_PTR(row->manifest_media_type),
                .config = TAKE_PTR(row->config),
                .names = TAKE_PTR(row->names),
                .created = row->created,
                .size = row->size,
                .os = TAKE_PTR(row->os),
                .architecture = TAKE_PTR(row->architecture),
                .variant = TAKE_PTR(row->variant),
        };
        rec.config_len = rec.config ? strlen(rec.config) : 0;
        if (!rec.names)
                rec.names = xcalloc(1, sizeof(char *));
        int r = with_layers ? record_layers(s, row->layers, &rec, err) : 0;
        if (r < 0) {
                pea_image_record_done(&rec);
                return r;
        }
        *ret = rec;
        return 0;
}

int pea_image_store_get(struct pea_image_store *s, const char *id, struct pea_image_record *ret,
                        struct pea_error **err)
{
        _cleanup_(pea_image_row_done) struct pea_image_row row = {0};
        int r = pea_state_image_get(s->state, id, &row, err);
        if (r < 0)
                return r;
        return store_record_from_row(s, &row, true, ret, err);
}

int pea_image_store_lookup(struct pea_image_store *s, const char *name_or_id,
                           struct pea_image_record *ret, char **ret_name, struct pea_error **err)
{
        _cleanup_free_ char *id = NULL, *name = NULL;
        int r = store_resolve(s, name_or_id, &id, &name, err);
        if (r >= 0)
                r = pea_image_store_get(s, id, ret, err);
        if (r < 0)
                return r;
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        return 0;
}

int pea_image_store_list(struct pea_image_store *s, struct pea_image_record **ret, size_t *ret_n,
                         struct pea_error **err)
{
        struct pea_image_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_image_list(s->state, false, &rows, &n, err);
        if (r < 0)
                return r;
        struct pea_image_record *recs = xcalloc(n ? n : 1, sizeof(*recs));
        for (size_t i = 0; i < n; i++)
                (void)store_record_from_row(s, &rows[i], false, &recs[i], NULL);
        pea_image_rows_free(rows, n);
        *ret = recs;
        *ret_n = n;
        return 0;
}

int pea_image_store_layers_of(struct pea_image_store *s, const char *image, char ***ret,
                              struct pea_error **err)
{
        _cleanup_free_ char *id = NULL;
        _cleanup_(pea_image_row_done) struct pea_image_row row = {0};
        int r = store_resolve(s, image, &id, NULL, err);
        if (r >= 0)
                r = pea_state_image_get(s->state, id, &row, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(row.layers);
        if (!*ret)
                *ret = xcalloc(1, sizeof(char *));
        return 0;
}

/* ---- names --------------------------------------------------------------------------------- */

/* A name must be a full normalised reference with a tag or a digest. */
static int check_name(const char *name, struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref ref = {0};
        int r = pea_image_ref_parse(name, &ref, err);
        if (r < 0)
                return image_error_wrap(r, err, "image name '%s'", name);
        _cleanup_image_ref_ struct pea_image_ref norm = {0};
        pea_image_ref_copy(&norm, &ref);
        r = pea_image_ref_normalize(&norm, PEA_IMAGE_DEFAULT_DOMAIN, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *full = pea_image_ref_string(&norm);
        if (!ref.domain || (!ref.tag && !ref.digest) || !streq(full, name))
                return pea_error_set(err, EINVAL, "image name '%s' is not normalised (want '%s')",
                                     name, full);
        return 0;
}

/* A repo digest is "domain/path@digest". */
static int check_repo_digest(const char *rd, struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref ref = {0};
        int r = pea_image_ref_parse(rd, &ref, err);
        if (r >= 0 && (!ref.domain || !ref.digest || ref.tag))
                r = pea_error_set(err, EINVAL, "invalid repo digest '%s'", rd);
        return r;
}

int pea_image_store_tag(struct pea_image_store *s, const char *image, const char *name,
                        struct pea_error **err)
{
        _cleanup_free_ char *id = NULL;
        int r = check_name(name, err);
        if (r >= 0)
                r = store_resolve(s, image, &id, NULL, err);
        if (r >= 0)
                r = pea_state_image_tag(s->state, id, name, err);
        return r < 0 ? r : 0;
}

int pea_image_store_untag(struct pea_image_store *s, const char *image, const char *name,
                          struct pea_error **err)
{
        _cleanup_free_ char *id = NULL;
        _cleanup_(pea_image_row_done) struct pea_image_row row = {0};
        int r = store_resolve(s, image, &id, NULL, err);
        if (r >= 0)
                r = pea_state_image_get(s->state, id, &row, err);
        if (r < 0)
                return r;
        /* "busybox" stands for the first of its candidates the image has. */
        _cleanup_strv_ char **candidates = store_name_candidates(s, name);
        const char *which = name;
        STRV_FOREACH(c, candidates)
                if (strv_contains(row.names, *c)) {
                        which = *c;
                        break;
                }
        return pea_state_image_untag(s->state, id, which, err);
}

/* ---- adding -------------------------------------------------------------------------------- */

struct add {
        struct pea_image_store *s;
        struct pea_image_row row;
        const char *config_digest, *manifest_digest;
        const struct pea_image_record *rec;
};

static int add_fn(struct pea_state *state, void *userdata, struct pea_error **err)
{
        struct add *a = userdata;
        /* A concurrent rmi may have removed a shared blob after we wrote it: rewrite it. */
        int r = pea_image_store_put_blob(a->s, a->config_digest, a->rec->config, a->rec->config_len,
                                         err);
        if (r >= 0)
                r = pea_image_store_put_blob(a->s, a->manifest_digest, a->rec->manifest,
                                             a->rec->manifest_len, err);
        a->row.size = 0;
        STRV_FOREACH(l, a->row.layers) {
                _cleanup_(pea_layer_row_done) struct pea_layer_row lr = {0};
                if (r >= 0)
                        r = pea_state_layer_get(state, *l, &lr, err);
                a->row.size += lr.size;
        }
        if (r >= 0)
                r = pea_state_image_add(state, &a->row, err);
        return r;
}

/* Parses and cross-checks config and manifest; fills the row's derived fields. */
static int add_parse(const struct pea_image_record *rec, struct pea_image_config **ret_cfg,
                     struct pea_manifest **ret_m, struct pea_error **err)
{
        if (!rec->config || !rec->manifest)
                return pea_error_set(err, EINVAL, "an image needs its config and manifest");
        _cleanup_image_config_ struct pea_image_config *cfg = NULL;
        _cleanup_manifest_ struct pea_manifest *m = NULL;
        int r = pea_image_config_parse(rec->config, rec->config_len, NULL, &cfg, err);
        if (r >= 0)
                r = pea_manifest_parse(rec->manifest, rec->manifest_len, rec->manifest_media_type,
                                       rec->digest, &m, err);
        if (r < 0)
                return r;
        if (pea_manifest_is_index(m))
                return pea_error_set(err, EINVAL, "manifest '%s' is an index, not an image",
                                     m->digest);
        if (!streq_ptr(m->config.digest, cfg->digest))
                return pea_error_set(err, EBADMSG, "manifest names config '%s', not '%s'",
                                     m->config.digest ?: "", cfg->digest);
        if (rec->id && !streq_ptr(pea_digest_hex(cfg->digest), rec->id))
                return pea_error_set(err, EINVAL, "image ID '%s' is not that of its config '%s'",
                                     rec->id, cfg->digest);
        r = pea_image_config_check_manifest(cfg, m, err);
        if (r < 0)
                return r;
        *ret_cfg = TAKE_PTR(cfg);
        *ret_m = TAKE_PTR(m);
        return 0;
}

static int add_check_names(const struct pea_image_record *rec, char *const *names,
                           struct pea_error **err)
{
        int r = 0;
        STRV_FOREACH(n, (char **)names)
                if (r >= 0)
                        r = check_name(*n, err);
        STRV_FOREACH(d, rec->repo_digests)
                if (r >= 0)
                        r = check_repo_digest(*d, err);
        return r;
}

/* Chain IDs of the config's diff IDs, pinned. */
static int add_layers(struct pea_image_store *s, const struct pea_image_config *cfg, char ***ret,
                      struct pea_error **err)
{
        _cleanup_strv_ char **chains = xcalloc(1, sizeof(char *));
        const char *parent = NULL;
        STRV_FOREACH(d, cfg->diff_ids) {
                char *chain = NULL;
                int r = pea_image_chain_id(parent, *d, &chain, err);
                if (r < 0)
                        return r;
                strv_consume(&chains, chain);
                parent = chain;
                r = pea_image_store_layer_pin(s, chain, err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(chains);
        return 0;
}

int pea_image_store_add_image(struct pea_image_store *s, const struct pea_image_record *rec,
                              char *const *names, char **ret_id, struct pea_error **err)
{
        _cleanup_image_config_ struct pea_image_config *cfg = NULL;
        _cleanup_manifest_ struct pea_manifest *m = NULL;
        struct add a = {.s = s, .rec = rec};
        int r = add_parse(rec, &cfg, &m, err);
        if (r >= 0)
                r = add_check_names(rec, names, err);
        if (r >= 0)
                r = add_layers(s, cfg, &a.row.layers, err);
        if (r >= 0)
                r = pea_image_store_put_blob(s, cfg->digest, rec->config, rec->config_len, err);
        if (r >= 0)
                r = pea_image_store_put_blob(s, m->digest, rec->manifest, rec->manifest_len, err);
        if (r >= 0) {
                a.config_digest = cfg->digest;
                a.manifest_digest = m->digest;
                a.row.id = xstrdup(pea_digest_hex(cfg->digest));
                a.row.digest = xstrdup(m->digest);
                a.row.manifest_media_type = xstrdup(pea_manifest_type_to_media_type(m->type));
                a.row.config = xstrndup(rec->config, rec->config_len);
                a.row.names = xcalloc(1, sizeof(char *));
                STRV_FOREACH(n, (char **)names)
                        strv_push(&a.row.names, *n);
                a.row.repo_digests = xcalloc(1, sizeof(char *));
                STRV_FOREACH(d, rec->repo_digests)
                        strv_push(&a.row.repo_digests, *d);
                a.row.os = cfg->os ? xstrdup(cfg->os) : NULL;
                a.row.architecture = cfg->architecture ? xstrdup(cfg->architecture) : NULL;
                a.row.variant = cfg->variant ? xstrdup(cfg->variant) : NULL;
                a.row.created = store_parse_time(cfg->created);
                r = pea_state_transaction(s->state, add_fn, &a, err);
        }
        /* Referenced by the image now: the pins have done their job. */
        if (r >= 0)
                STRV_FOREACH(l, a.row.layers)
                        store_unpin(s, store_chain_hex(*l));
        if (r >= 0 && ret_id)
                *ret_id = xstrdup(a.row.id);
        pea_image_row_done(&a.row);
        if (r < 0)
                return image_error_wrap(r, err, "adding image");
        return 0;
}
