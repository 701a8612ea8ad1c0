/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "image/image-internal.h"
#include "image/image.h"
#include "image/pull-internal.h"
#include "image/pull.h"
#include "image/store.h"
#include "layer/layer.h"

/* pea_image_pull(): names, sources, manifest, config; the layers are in pull-layers.c. */

struct pull {
        struct pea_image_store *store;
        const struct pea_registries *registries;
        const struct pea_image_transport *t;
        const struct pea_image_pull_opts *opts;
        struct pea_platform want;
        bool have_want; /* else: the host */
        struct pea_layer_unpack_opts unpack;
        struct pull_progress progress;
};

/* What one source gave: freed by image_done(). */
struct image {
        const struct pea_image_ref *ref;   /* the name pulled (not a mirror's) */
        const struct pea_pull_source *src; /* where from */
        struct pea_image_ref sref;         /* src->ref, parsed */
        void *conn;
        struct pea_manifest *manifest; /* the image manifest */
        struct pea_manifest *index;    /* when it came through an index */
        struct pea_image_config *config;
        size_t committed; /* layers committed by this pull */
};

void pea_image_fetched_done(struct pea_image_fetched *f)
{
        if (!f)
                return;
        free(f->data);
        free(f->media_type);
        free(f->digest);
        *f = (struct pea_image_fetched){0};
}

void pull_emit(struct pull_progress *p, const struct pea_image_pull_event *ev)
{
        if (!p || !p->fn)
                return;
        pthread_mutex_lock(&p->lock);
        p->fn(p->userdata, ev);
        pthread_mutex_unlock(&p->lock);
}

static void emit_simple(struct pull *p, enum pea_image_pull_event_type type, const char *ref,
                        const char *digest, size_t n_layers)
{
        struct pea_image_pull_event ev = {
                .type = type, .ref = ref, .digest = digest, .n_layers = n_layers, .size = -1};
        pull_emit(&p->progress, &ev);
}

char *pea_image_pull_name(const struct pea_image_ref *ref)
{
        _cleanup_free_ char *repo = pea_image_ref_name(ref);
        if (ref->digest)
                return xasprintf("%s@%s", repo, ref->digest);
        return xasprintf("%s:%s", repo, ref->tag ? ref->tag : PEA_IMAGE_DEFAULT_TAG);
}

static void set_field(char **field, const char *value)
{
        if (!value || !*value)
                return;
        free(*field);
        *field = xstrdup(value);
}

int pea_image_pull_platform(const struct pea_image_pull_opts *opts, struct pea_platform *ret,
                            struct pea_error **err)
{
        struct pea_platform p = {0};
        if (opts->platform && *opts->platform) {
                int r = pea_platform_parse(opts->platform, &p, err);
                if (r < 0)
                        return r;
        }
        set_field(&p.os, opts->os);
        set_field(&p.architecture, opts->arch);
        set_field(&p.variant, opts->variant);
        pea_platform_normalize(&p);
        *ret = p;
        return 0;
}

/* ---- fetching ------------------------------------------------------------------------------ */

struct membuf {
        char *data;
        size_t len;
        size_t max;
};

static int membuf_write(void *userdata, const void *buf, size_t len, struct pea_error **err)
{
        struct membuf *m = userdata;
        if (len > m->max - m->len)
                return pea_error_set(err, EFBIG, "blob is larger than %zu bytes", m->max);
        m->data = xrealloc(m->data, m->len + len + 1);
        memcpy(m->data + m->len, buf, len);
        m->len += len;
        m->data[m->len] = '\0';
        return 0;
}

/* GETs and parses a manifest by tag or digest (then checked against it). */
static int fetch_manifest(struct pull *p, struct image *im, const char *reference,
                          const char *expected, struct pea_manifest **ret, struct pea_error **err)
{
        _cleanup_(pea_image_fetched_done) struct pea_image_fetched f = {0};
        int r = p->t->get_manifest(im->conn, im->sref.path, reference, &f, err);
        if (r >= 0 && !f.data)
                r = pea_error_set(err, EPROTO, "reading manifest %s: empty answer", reference);
        if (r >= 0)
                r = pea_manifest_parse(f.data, f.len, f.media_type, expected ?: f.digest, ret, err);
        return r;
}

/* The image manifest of the source: the one asked for, or an index's entry for the platform. */
static int resolve_manifest(struct pull *p, struct image *im, struct pea_error **err)
{
        _cleanup_manifest_ struct pea_manifest *m = NULL;
        const char *reference = im->sref.digest ?: im->sref.tag ?: PEA_IMAGE_DEFAULT_TAG;
        int r = fetch_manifest(p, im, reference, im->sref.digest, &m, err);
        if (r < 0)
                return image_error_wrap(r, err, "initializing source docker://%s", im->src->ref);
        if (!pea_manifest_is_index(m)) {
                im->manifest = TAKE_PTR(m);
                return 0;
        }
        const struct pea_descriptor *d = NULL;
        r = pea_manifest_select(m, p->have_want ? &p->want : NULL, &d, err);
        if (r >= 0)
                r = fetch_manifest(p, im, d->digest, d->digest, &im->manifest, err);
        if (r >= 0 && pea_manifest_is_index(im->manifest))
                r = pea_error_set(err, EBADMSG, "manifest %s is an index inside an index",
                                  d->digest);
        if (r < 0)
                return image_error_wrap(r, err, "choosing an image from manifest list docker://%s",
                                        im->src->ref);
        im->index = TAKE_PTR(m);
        return 0;
}

static int fetch_config(struct pull *p, struct image *im, struct pea_error **err)
{
        const struct pea_descriptor *c = &im->manifest->config;
        struct membuf buf = {.max = PEA_CONFIG_MAX_BYTES};
        int r = 0;
        if (c->size > (int64_t)PEA_CONFIG_MAX_BYTES)
                r = pea_error_set(err, EFBIG, "config is larger than %u bytes",
                                  PEA_CONFIG_MAX_BYTES);
        if (r >= 0)
                r = p->t->get_blob(im->conn, im->sref.path, c->digest, c->size, membuf_write, &buf,
                                   err);
        if (r >= 0)
                r = pea_image_config_parse(buf.data ?: "", buf.len, c->digest, &im->config, err);
        if (r >= 0)
                r = pea_image_config_check_manifest(im->config, im->manifest, err);
        free(buf.data);
        if (r < 0)
                return image_error_wrap(r, err, "copying config %s", c->digest ?: "");
        return 0;
}

/* ---- storing ------------------------------------------------------------------------------- */

static int add_image(struct pull *p, struct image *im, char **ret_id, struct pea_error **err)
{
        _cleanup_free_ char *repo = pea_image_ref_name(im->ref);
        _cleanup_free_ char *name = pea_image_pull_name(im->ref);
        _cleanup_strv_ char **rds = xcalloc(1, sizeof(char *));
        strv_consume(&rds, xasprintf("%s@%s", repo, im->manifest->digest));
        if (im->index) {
                strv_consume(&rds, xasprintf("%s@%s", repo, im->index->digest));
                /* kept for push and save, and for podman's Digest (the index's) */
                int r = pea_image_store_put_blob(p->store, im->index->digest, im->index->raw,
                                                 im->index->raw_len, err);
                if (r < 0)
                        return r;
        }
        char *names[] = {name, NULL};
        struct pea_image_record rec = {
                .digest = im->manifest->digest,
                .manifest_media_type = (char *)pea_manifest_type_to_media_type(im->manifest->type),
                .manifest = im->manifest->raw,
                .manifest_len = im->manifest->raw_len,
                .config = im->config->raw,
                .config_len = im->config->raw_len,
                .repo_digests = rds,
        };
        return pea_image_store_add_image(p->store, &rec, names, ret_id, err);
}

static int pull_image(struct pull *p, struct image *im, char **ret_id, struct pea_error **err)
{
        _cleanup_free_ char *source = pea_image_ref_string(im->ref);
        int r = resolve_manifest(p, im, err);
        if (r >= 0) {
                emit_simple(p, PEA_PULL_RESOLVED, source, NULL, im->manifest->n_layers);
                r = fetch_config(p, im, err);
        }
        if (r >= 0) {
                struct pull_layers pl = {
                        .store = p->store,
                        .transport = p->t,
                        .conn = im->conn,
                        .repo = im->sref.path,
                        .manifest = im->manifest,
                        .config = im->config,
                        .unpack = &p->unpack,
                        .parallel = p->opts->parallel,
                        .progress = &p->progress,
                        .committed = &im->committed,
                };
                r = pull_layers(&pl, err);
        }
        if (r >= 0) {
                emit_simple(p, PEA_PULL_CONFIG, source, im->manifest->config.digest, 0);
                emit_simple(p, PEA_PULL_WRITING, source, NULL, 0);
                r = add_image(p, im, ret_id, err);
        }
        if (r >= 0)
                emit_simple(p, PEA_PULL_SIGNATURES, source, NULL, 0);
        return r;
}

static void image_done(struct pull *p, struct image *im)
{
        if (im->conn)
                p->t->close(im->conn);
        pea_image_ref_done(&im->sref);
        pea_manifest_free(im->manifest);
        pea_manifest_free(im->index);
        pea_image_config_free(im->config);
}

static int pull_source(struct pull *p, const struct pea_image_ref *ref,
                       const struct pea_pull_source *src, char **ret_id, struct pea_error **err)
{
        struct image im = {.ref = ref, .src = src};
        const struct pea_image_pull_opts *o = p->opts;
        bool insecure = o->tls_verify < 0 ? src->insecure : o->tls_verify == 0;
        int r = pea_image_ref_parse(src->ref, &im.sref, err);
        if (r >= 0 && !im.sref.domain)
                r = pea_error_set(err, EINVAL, "reference '%s' has no registry", src->ref);
        if (r >= 0) {
                r = p->t->open(p->t->userdata, im.sref.domain, insecure, &im.conn, err);
                if (r < 0)
                        (void)pea_error_wrap(err, "initializing source docker://%s", src->ref);
        }
        if (r >= 0)
                r = pull_image(p, &im, ret_id, err);
        if (r < 0) {
                /* nothing stays: the layers this pull committed are unused now */
                pea_image_store_unpin_all(p->store);
                if (im.committed > 0)
                        (void)pea_image_store_gc(p->store, NULL, NULL);
        }
        image_done(p, &im);
        return r;
}

/* The sources of a candidate: mirrors first; without registries.conf the name itself. */
static int candidate_sources(struct pull *p, const struct pea_image_ref *ref,
                             struct pea_pull_source **ret, size_t *ret_n, struct pea_error **err)
{
        if (p->registries)
                return pea_registries_pull_sources(p->registries, ref, ret, ret_n, err);
        struct pea_pull_source *s = xcalloc(1, sizeof(*s));
        s->ref = pea_image_ref_string(ref);
        s->location = xstrdup(ref->domain);
        *ret = s;
        *ret_n = 1;
        return 0;
}

static int pull_candidate(struct pull *p, const char *candidate, char **ret_id,
                          struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref ref = {0};
        struct pea_pull_source *srcs = NULL;
        size_t n = 0;
        int r = pea_image_ref_parse_normalized(candidate, &ref, err);
        if (r >= 0)
                r = candidate_sources(p, &ref, &srcs, &n, err);
        /* Mirrors first, the registry itself last: its error is the one reported. */
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_error_ struct pea_error *e = NULL;
                r = pull_source(p, &ref, &srcs[i], ret_id, &e);
                if (r >= 0)
                        break;
                if (i + 1 < n) {
                        pea_debug("pulling from mirror '%s': %s", srcs[i].ref, e->msg);
                        r = 0;
                        continue;
                }
                if (err)
                        *err = TAKE_PTR(e);
        }
        pea_pull_sources_free(srcs, n);
        return r;
}

/* ---- entry points -------------------------------------------------------------------------- */

static int pull_init(struct pull *p, struct pea_image_store *store,
                     const struct pea_registries *registries, const struct pea_image_transport *t,
                     const struct pea_image_pull_opts *opts, struct pea_error **err)
{
        *p = (struct pull){.store = store, .registries = registries, .t = t, .opts = opts};
        p->progress.fn = opts->progress;
        p->progress.userdata = opts->progress_userdata;
        pthread_mutex_init(&p->progress.lock, NULL);
        p->unpack = (struct pea_layer_unpack_opts){
                .whiteout = opts->whiteout == PEA_WHITEOUT_AUFS ? PEA_WHITEOUT_AUFS
                                                                : PEA_WHITEOUT_OVERLAY,
                .userxattr = opts->userxattr,
                .rootless_single_id = opts->single_id,
        };
        p->have_want = (opts->platform && *opts->platform) || (opts->os && *opts->os)
                       || (opts->arch && *opts->arch) || (opts->variant && *opts->variant);
        if (p->have_want)
                return pea_image_pull_platform(opts, &p->want, err);
        return 0;
}

static void pull_done(struct pull *p)
{
        pea_platform_done(&p->want);
        pthread_mutex_destroy(&p->progress.lock);
}

/* One error for several failed candidates, as containers/common words it. */
static int join_errors(struct pea_error **errs, size_t n, struct pea_error **err)
{
        if (n == 1 && errs[0]) {
                int code = errs[0]->code;
                if (err)
                        *err = TAKE_PTR(errs[0]);
                return -code;
        }
        _cleanup_free_ char *msg = xasprintf("%zu errors occurred while pulling:", n);
        for (size_t i = 0; i < n; i++) {
                char *m = xasprintf("%s\n * %s", msg, errs[i] ? errs[i]->msg : "unknown error");
                free(msg);
                msg = m;
        }
        return pea_error_set(err, errs[n - 1] ? errs[n - 1]->code : EIO, "%s", msg);
}

static int candidates_of(const struct pea_registries *registries, const char *name, char ***ret,
                         struct pea_error **err)
{
        if (registries)
                return pea_registries_resolve_short(registries, name, ret, err);
        _cleanup_image_ref_ struct pea_image_ref ref = {0};
        int r = pea_image_ref_parse_normalized(name, &ref, err);
        if (r < 0)
                return r;
        *ret = xcalloc(2, sizeof(char *));
        (*ret)[0] = pea_image_ref_string(&ref);
        return 0;
}

int pea_image_pull(struct pea_image_store *store, const struct pea_registries *registries,
                   const struct pea_image_transport *transport, const char *name,
                   const struct pea_image_pull_opts *opts, char **ret_id, struct pea_error **err)
{
        _cleanup_strv_ char **candidates = NULL;
        struct pull p;
        int r = pull_init(&p, store, registries, transport, opts, err);
        if (r >= 0)
                r = candidates_of(registries, name, &candidates, err);
        size_t n = strv_length(candidates), failed = 0;
        struct pea_error **errs = xcalloc(n ? n : 1, sizeof(*errs));
        for (size_t i = 0; r >= 0 && i < n; i++) {
                emit_simple(&p, PEA_PULL_TRYING, candidates[i], NULL, 0);
                r = pull_candidate(&p, candidates[i], ret_id, &errs[failed]);
                if (r >= 0)
                        break;
                failed++;
                r = i + 1 < n ? 0 : join_errors(errs, failed, err);
        }
        for (size_t i = 0; i < failed; i++)
                pea_error_clear(&errs[i]);
        free(errs);
        pull_done(&p);
        return r < 0 ? r : 0;
}

static int list_tags(const struct pea_registries *registries, const struct pea_image_transport *t,
                     const struct pea_image_ref *ref, const struct pea_image_pull_opts *opts,
                     char ***ret, struct pea_error **err)
{
        _cleanup_free_ char *repo = pea_image_ref_name(ref);
        const struct pea_registry *reg = registries ? pea_registries_find(registries, repo) : NULL;
        bool insecure = opts->tls_verify < 0 ? reg && reg->insecure : opts->tls_verify == 0;
        void *conn = NULL;
        if (!t->list_tags)
                return pea_error_set(err, ENOTSUP, "listing tags is not supported");
        int r = t->open(t->userdata, ref->domain, insecure, &conn, err);
        if (r >= 0) {
                r = t->list_tags(conn, ref->path, ret, err);
                t->close(conn);
        }
        if (r < 0)
                return image_error_wrap(r, err, "initializing source docker://%s", repo);
        return 0;
}

int pea_image_pull_all_tags(struct pea_image_store *store, const struct pea_registries *registries,
                            const struct pea_image_transport *transport, const char *name,
                            const struct pea_image_pull_opts *opts, char ***ret_ids,
                            struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref raw = {0}, ref = {0};
        _cleanup_strv_ char **candidates = NULL, **tags = NULL, **ids = NULL;
        int r = pea_image_ref_parse(name, &raw, err);
        if (r >= 0 && (raw.tag || raw.digest))
                r = pea_error_set(err, EINVAL, "tag can't be used with --all-tags/-a");
        if (r >= 0)
                r = candidates_of(registries, name, &candidates, err);
        if (r >= 0)
                r = pea_image_ref_parse_normalized(candidates[0], &ref, err);
        if (r >= 0)
                r = list_tags(registries, transport, &ref, opts, &tags, err);
        ids = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *repo = r >= 0 ? pea_image_ref_name(&ref) : NULL;
        STRV_FOREACH(tag, tags) {
                _cleanup_free_ char *full = xasprintf("%s:%s", repo, *tag);
                char *id = NULL;
                r = pea_image_pull(store, registries, transport, full, opts, &id, err);
                if (r < 0)
                        break;
                strv_consume(&ids, id);
        }
        if (r < 0)
                return r;
        if (ret_ids)
                *ret_ids = TAKE_PTR(ids);
        return 0;
}
