/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <jansson.h>

#include "base.h"
#include "image/image.h"
#include "image/pull-internal.h"
#include "image/pull.h"
#include "image/store.h"
#include "layer/layer.h"
#include "state/state.h"
#include "units.h"

/*
 * Pulling (lib/image/pull*.c) from an in-memory transport into a real store
 * in a temporary directory: the pipe between download and unpack threads,
 * names and digests, skipping stored layers, indexes, and every malformed
 * input leaving the store as it was. Also lib/base/units.c.
 */

static char *g_dir;
static struct pea_state *g_state;
static struct pea_image_store *g_store;

/* ---- tarballs ------------------------------------------------------------------------------ */

struct buf {
        unsigned char *p;
        size_t len, cap;
};

static la_ssize_t buf_write(struct archive *a _unused_, void *u, const void *b, size_t n)
{
        struct buf *x = u;
        if (x->len + n > x->cap) {
                x->cap = (x->len + n) * 2;
                x->p = xrealloc(x->p, x->cap);
        }
        memcpy(x->p + x->len, b, n);
        x->len += n;
        return (la_ssize_t)n;
}

/*
 * A tar of entries {path, content} (gzip: compressed); content "->X" makes a
 * symlink to X, a NULL content a directory.
 */
static struct buf make_tar(const char *const *entries, size_t n, bool gzip)
{
        struct buf b = {0};
        struct archive *a = archive_write_new();
        ck_assert_int_eq(archive_write_set_format_pax(a), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
        if (gzip)
                ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_open(a, &b, NULL, buf_write, NULL), ARCHIVE_OK);
        for (size_t i = 0; i + 1 < n * 2; i += 2) {
                const char *content = entries[i + 1];
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, entries[i]);
                archive_entry_set_mtime(e, 1600000000, 0);
                archive_entry_set_uid(e, getuid());
                archive_entry_set_gid(e, getgid());
                if (!content) {
                        archive_entry_set_filetype(e, AE_IFDIR);
                        archive_entry_set_perm(e, 0755);
                } else if (startswith(content, "->")) {
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_perm(e, 0777);
                        archive_entry_set_symlink(e, content + 2);
                } else {
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_perm(e, 0644);
                        archive_entry_set_size(e, (la_int64_t)strlen(content));
                }
                ck_assert_int_ge(archive_write_header(a, e), ARCHIVE_WARN);
                if (content && !startswith(content, "->"))
                        archive_write_data(a, content, strlen(content));
                archive_entry_free(e);
        }
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        return b;
}

static char *sha256(const void *p, size_t len)
{
        char *d = NULL;
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, p, len, &d, NULL), 0);
        return d;
}

/* ---- the in-memory registry ---------------------------------------------------------------- */

struct obj {
        char *key; /* "m:REF" for manifests, "b:DIGEST" for blobs */
        struct buf data;
        char *media_type;
        size_t truncate; /* > 0: serve only this many bytes */
};

struct fake {
        struct obj objs[64];
        size_t n;
        pthread_mutex_t lock;
        int blob_calls;
        char **refused; /* registries that cannot be reached */
};

static struct fake g_fake;

static struct obj *fake_put(const char *key, const void *data, size_t len, const char *mt)
{
        ck_assert_uint_lt(g_fake.n, ELEMENTSOF(g_fake.objs));
        struct obj *o = &g_fake.objs[g_fake.n++];
        *o = (struct obj){.key = xstrdup(key), .media_type = mt ? xstrdup(mt) : NULL};
        o->data.p = xmalloc(len + 1);
        memcpy(o->data.p, data, len);
        o->data.len = len;
        return o;
}

static struct obj *fake_get(const char *key)
{
        for (size_t i = g_fake.n; i-- > 0;)
                if (streq(g_fake.objs[i].key, key))
                        return &g_fake.objs[i];
        return NULL;
}

static int f_open(void *userdata _unused_, const char *registry, bool insecure _unused_,
                  void **ret_conn, struct pea_error **err)
{
        if (strv_contains(g_fake.refused, registry))
                return pea_error_set(err, ECONNREFUSED,
                                     "pinging container registry %s: connection refused", registry);
        *ret_conn = &g_fake;
        return 0;
}

static void f_close(void *conn _unused_)
{
}

static int f_get_manifest(void *conn _unused_, const char *repo, const char *ref,
                          struct pea_image_fetched *ret, struct pea_error **err)
{
        _cleanup_free_ char *key = xasprintf("m:%s", ref);
        struct obj *o = fake_get(key);
        if (!o)
                return pea_error_set(err, ENOENT, "reading manifest %s in %s: manifest unknown",
                                     ref, repo);
        ret->data = xmalloc(o->data.len + 1);
        memcpy(ret->data, o->data.p, o->data.len);
        ret->data[o->data.len] = '\0';
        ret->len = o->data.len;
        ret->media_type = o->media_type ? xstrdup(o->media_type) : NULL;
        return 0;
}

/* Streams like lib/registry: small chunks, then the digest and size check. */
static int f_get_blob(void *conn _unused_, const char *repo _unused_, const char *digest,
                      int64_t size, pea_image_write_fn write, void *ud, struct pea_error **err)
{
        pthread_mutex_lock(&g_fake.lock);
        g_fake.blob_calls++;
        pthread_mutex_unlock(&g_fake.lock);
        _cleanup_free_ char *key = xasprintf("b:%s", digest);
        struct obj *o = fake_get(key);
        if (!o)
                return pea_error_set(err, ENOENT, "fetching blob %s: blob unknown", digest);
        size_t len = o->truncate ? o->truncate : o->data.len;
        for (size_t off = 0; off < len; off += 3000) {
                size_t n = len - off < 3000 ? len - off : 3000;
                int r = write(ud, o->data.p + off, n, err);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *got = sha256(o->data.p, len);
        if (!streq(got, digest) || (size >= 0 && (size_t)size != len))
                return pea_error_set(err, EBADMSG, "digest mismatch for blob %s: got %s", digest,
                                     got);
        return 0;
}

static const struct pea_image_transport g_transport = {
        .open = f_open,
        .close = f_close,
        .get_manifest = f_get_manifest,
        .get_blob = f_get_blob,
};

/* ---- images -------------------------------------------------------------------------------- */

#define LAYER_MT "application/vnd.oci.image.layer.v1.tar"

struct layer {
        struct buf blob;
        char *diff_id, *digest;
        bool gzip;
};

static void layer_make(struct layer *l, const char *const *entries, size_t n, bool gzip)
{
        struct buf tar = make_tar(entries, n, false);
        *l = (struct layer){.blob = gzip ? make_tar(entries, n, true) : tar, .gzip = gzip};
        l->diff_id = sha256(tar.p, tar.len);
        l->digest = sha256(l->blob.p, l->blob.len);
        if (gzip)
                free(tar.p);
        _cleanup_free_ char *key = xasprintf("b:%s", l->digest);
        fake_put(key, l->blob.p, l->blob.len, NULL);
}

static void layer_file(struct layer *l, const char *name, const char *content, bool gzip)
{
        const char *e[] = {name, content};
        layer_make(l, e, 1, gzip);
}

static void layer_done(struct layer *l)
{
        free(l->blob.p);
        free(l->diff_id);
        free(l->digest);
}

struct img {
        char *config, *config_digest, *manifest, *manifest_digest;
};

static char *descriptor(const char *mt, const char *digest, size_t size)
{
        return xasprintf("{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}", mt, digest, size);
}

/* An image of layers (diff IDs from diffs[i] when given) for arch, stored under tag. */
static void img_make(struct img *im, struct layer *const *layers, size_t n, const char *arch,
                     const char *tag, const char *const *diffs)
{
        _cleanup_strv_ char **ds = xcalloc(1, sizeof(char *));
        _cleanup_strv_ char **ls = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                strv_consume(&ds, xasprintf("\"%s\"",
                                            diffs && diffs[i] ? diffs[i] : layers[i]->diff_id));
                strv_consume(&ls, descriptor(layers[i]->gzip ? LAYER_MT "+gzip" : LAYER_MT,
                                             layers[i]->digest, layers[i]->blob.len));
        }
        _cleanup_free_ char *d = strv_join(ds, ",");
        _cleanup_free_ char *l = strv_join(ls, ",");
        im->config = xasprintf("{\"architecture\":\"%s\",\"os\":\"linux\",\"created\":"
                               "\"2024-01-02T03:04:05Z\",\"config\":{\"Cmd\":[\"sh\"]},"
                               "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
                               arch, d);
        im->config_digest = sha256(im->config, strlen(im->config));
        _cleanup_free_ char *cd =
                descriptor(PEA_MEDIA_OCI_CONFIG, im->config_digest, strlen(im->config));
        im->manifest = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":%s,"
                                 "\"layers\":[%s]}",
                                 PEA_MEDIA_OCI_MANIFEST, cd, l);
        im->manifest_digest = sha256(im->manifest, strlen(im->manifest));
        _cleanup_free_ char *ck = xasprintf("b:%s", im->config_digest);
        fake_put(ck, im->config, strlen(im->config), NULL);
        _cleanup_free_ char *mk = xasprintf("m:%s", im->manifest_digest);
        fake_put(mk, im->manifest, strlen(im->manifest), PEA_MEDIA_OCI_MANIFEST);
        if (tag) {
                _cleanup_free_ char *tk = xasprintf("m:%s", tag);
                fake_put(tk, im->manifest, strlen(im->manifest), PEA_MEDIA_OCI_MANIFEST);
        }
}

static void img_done(struct img *im)
{
        free(im->config);
        free(im->config_digest);
        free(im->manifest);
        free(im->manifest_digest);
}

/* ---- pulling ------------------------------------------------------------------------------- */

struct events {
        int types[_PEA_PULL_EVENT_TYPE_MAX];
        int skipped;
        char order[64]; /* one letter per non-progress event */
        size_t n_order;
};

static void record(void *userdata, const struct pea_image_pull_event *ev)
{
        struct events *e = userdata;
        e->types[ev->type]++;
        if (ev->type == PEA_PULL_BLOB && ev->skipped)
                e->skipped++;
        if (ev->type != PEA_PULL_PROGRESS && ev->type != PEA_PULL_BLOB_DONE
            && e->n_order + 1 < sizeof(e->order))
                e->order[e->n_order++] = (char)('A' + ev->type);
}

static int pull(const char *ref, struct events *ev, const char *arch, char **ret_id,
                struct pea_error **err)
{
        struct pea_image_pull_opts o = {
                .tls_verify = -1,
                .whiteout = PEA_WHITEOUT_AUFS,
                .single_id = true,
                .arch = arch,
                .progress = ev ? record : NULL,
                .progress_userdata = ev,
        };
        return pea_image_pull(g_store, NULL, &g_transport, ref, &o, ret_id, err);
}

static size_t count_images(void)
{
        struct pea_image_record *recs = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_image_store_list(g_store, &recs, &n, NULL), 0);
        pea_image_records_free(recs, n);
        return n;
}

/* Entries of graph/layers that are directories (committed or .tmp-*), and .tmp-* among them. */
static size_t count_layer_dirs(size_t *ret_tmp)
{
        _cleanup_free_ char *path = xasprintf("%s/graph/layers", g_dir);
        DIR *d = opendir(path);
        ck_assert_ptr_nonnull(d);
        size_t n = 0, tmp = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' && !startswith(de->d_name, ".tmp-"))
                        continue;
                if (startswith(de->d_name, ".tmp-"))
                        tmp++;
                else if (!endswith(de->d_name, ".lock"))
                        n++;
        }
        closedir(d);
        if (ret_tmp)
                *ret_tmp = tmp;
        return n;
}

/* The store holds nothing: no image, no layer, no leftover. */
static void assert_store_empty(void)
{
        size_t tmp = 0;
        ck_assert_uint_eq(count_images(), 0);
        ck_assert_uint_eq(count_layer_dirs(&tmp), 0);
        ck_assert_uint_eq(tmp, 0);
}

static void setup(void)
{
        const char *base = getenv("TMPDIR") ?: "/tmp";
        g_dir = xasprintf("%s/test-pull.XXXXXX", base);
        ck_assert_ptr_nonnull(mkdtemp(g_dir));
        _cleanup_free_ char *db = xasprintf("%s/state.db", g_dir);
        _cleanup_free_ char *graph = xasprintf("%s/graph", g_dir);
        ck_assert_int_eq(pea_state_open(db, &g_state, NULL), 0);
        ck_assert_int_eq(pea_image_store_open(graph, g_state, &g_store, NULL), 0);
        g_fake = (struct fake){0};
        pthread_mutex_init(&g_fake.lock, NULL);
}

static void teardown(void)
{
        g_store = pea_image_store_close(g_store);
        g_state = pea_state_close(g_state);
        for (size_t i = 0; i < g_fake.n; i++) {
                free(g_fake.objs[i].key);
                free(g_fake.objs[i].data.p);
                free(g_fake.objs[i].media_type);
        }
        strv_free(g_fake.refused);
        pthread_mutex_destroy(&g_fake.lock);
        ck_assert_int_eq(pea_rm_rf(g_dir, NULL), 0);
        free(g_dir);
}

/* ---- the pipe ------------------------------------------------------------------------------ */

START_TEST(test_pipe_basic)
{
        struct pull_pipe *p = pull_pipe_new(8);
        char buf[16] = {0};
        ck_assert_int_eq(pull_pipe_write(p, "abcdef", 6), 0);
        ck_assert_int_eq(pull_pipe_read(p, buf, 4), 4);
        ck_assert_int_eq(memcmp(buf, "abcd", 4), 0);
        /* wraps around the end of the ring */
        ck_assert_int_eq(pull_pipe_write(p, "ghijk", 5), 0);
        ck_assert_int_eq(pull_pipe_read(p, buf, sizeof(buf)), 7);
        ck_assert_int_eq(memcmp(buf, "efghijk", 7), 0);
        pull_pipe_close_write(p, 0);
        ck_assert_int_eq(pull_pipe_read(p, buf, sizeof(buf)), 0);
        pull_pipe_free(p);
}

END_TEST

START_TEST(test_pipe_errors)
{
        char buf[8];
        struct pull_pipe *p = pull_pipe_new(8);
        ck_assert_int_eq(pull_pipe_write(p, "xy", 2), 0);
        pull_pipe_close_write(p, -EBADMSG);
        /* buffered bytes first, then the writer's error, again and again */
        ck_assert_int_eq(pull_pipe_read(p, buf, sizeof(buf)), 2);
        ck_assert_int_eq(pull_pipe_read(p, buf, sizeof(buf)), -EBADMSG);
        ck_assert_int_eq(pull_pipe_read(p, buf, sizeof(buf)), -EBADMSG);
        pull_pipe_free(p);

        p = pull_pipe_new(8);
        pull_pipe_close_read(p);
        ck_assert_int_eq(pull_pipe_write(p, "xy", 2), -EPIPE);
        pull_pipe_free(p);

        p = pull_pipe_new(8);
        pull_pipe_cancel(p);
        ck_assert_int_eq(pull_pipe_write(p, "xy", 2), -EPIPE);
        ck_assert_int_eq(pull_pipe_read(p, buf, sizeof(buf)), -ECANCELED);
        pull_pipe_free(p);
}

END_TEST

struct feeder {
        struct pull_pipe *p;
        const unsigned char *data;
        size_t len;
        int r;
};

static void *feed(void *u)
{
        struct feeder *f = u;
        size_t off = 0, step = 1;
        while (off < f->len && f->r >= 0) {
                size_t n = f->len - off < step ? f->len - off : step;
                f->r = pull_pipe_write(f->p, f->data + off, n);
                off += n;
                step = step * 7 % 9973 + 1; /* odd sizes, some larger than the ring */
        }
        pull_pipe_close_write(f->p, 0);
        return NULL;
}

/* A writer thread and a reader, a ring much smaller than the data: every byte arrives in order. */
START_TEST(test_pipe_threads)
{
        size_t len = 3 * 1024 * 1024 + 17;
        unsigned char *data = xmalloc(len), *got = xmalloc(len);
        for (size_t i = 0; i < len; i++)
                data[i] = (unsigned char)(i * 2654435761u >> 13);
        struct feeder f = {.p = pull_pipe_new(4093), .data = data, .len = len};
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, feed, &f), 0);
        size_t off = 0, want = 1;
        for (;;) {
                ssize_t n = pull_pipe_read(f.p, got + off, want < len - off ? want : len - off);
                ck_assert_int_ge(n, 0);
                if (n == 0 && off == len)
                        break;
                off += (size_t)n;
                want = want * 5 % 8191 + 1;
        }
        pthread_join(t, NULL);
        ck_assert_int_eq(f.r, 0);
        ck_assert_uint_eq(off, len);
        ck_assert_int_eq(memcmp(data, got, len), 0);
        pull_pipe_free(f.p);
        free(data);
        free(got);
}

END_TEST

/* A reader that stops early unblocks a writer waiting on a full ring. */
START_TEST(test_pipe_reader_gone)
{
        size_t len = 1024 * 1024;
        unsigned char *data = xcalloc(1, len);
        struct feeder f = {.p = pull_pipe_new(1000), .data = data, .len = len};
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, feed, &f), 0);
        char buf[100];
        ck_assert_int_gt(pull_pipe_read(f.p, buf, sizeof(buf)), 0);
        pull_pipe_close_read(f.p);
        pthread_join(t, NULL);
        ck_assert_int_eq(f.r, -EPIPE);
        pull_pipe_free(f.p);
        free(data);
}

END_TEST

/* ---- pulls --------------------------------------------------------------------------------- */

START_TEST(test_pull_simple)
{
        struct layer l[3];
        layer_file(&l[0], "etc/base", "base\n", true);
        const char *e1[] = {"etc", NULL, "etc/one", "one\n", "lnk", "->etc/one"};
        layer_make(&l[1], e1, 3, false);
        layer_file(&l[2], "etc/three", "three\n", true);
        struct layer *ls[] = {&l[0], &l[1], &l[2]};
        struct img im;
        img_make(&im, ls, 3, "amd64", "latest", NULL);

        struct events ev = {0};
        _cleanup_free_ char *id = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pull("localhost:5000/test/simple", &ev, NULL, &id, &err);
        ck_assert_msg(r == 0, "pull: %s", err ? err->msg : "?");
        ck_assert_str_eq(id, pea_digest_hex(im.config_digest));
        ck_assert_int_eq(g_fake.blob_calls, 4);
        /* podman's order: Trying, Getting signatures, 3 blobs, config, manifest, signatures */
        ck_assert_str_eq(ev.order, "ABCCCFGH");
        ck_assert_int_eq(ev.skipped, 0);
        ck_assert_int_eq(ev.types[PEA_PULL_BLOB_DONE], 3);

        struct pea_image_record rec = {0};
        ck_assert_int_eq(pea_image_store_get(g_store, id, &rec, NULL), 0);
        ck_assert_str_eq(rec.names[0], "localhost:5000/test/simple:latest");
        ck_assert_ptr_null(rec.names[1]);
        _cleanup_free_ char *rd = xasprintf("localhost:5000/test/simple@%s", im.manifest_digest);
        ck_assert(strv_contains(rec.repo_digests, rd));
        ck_assert_str_eq(rec.digest, im.manifest_digest);
        ck_assert_uint_eq(rec.n_layers, 3);
        /* the files are in the committed layers, the blobs kept */
        _cleanup_free_ char *top = pea_image_store_layer_path(g_store, rec.layers[2].chain_id);
        _cleanup_free_ char *f = xasprintf("%s/etc/three", top);
        ck_assert(pea_path_exists(f));
        for (size_t i = 0; i < 3; i++) {
                ck_assert_str_eq(rec.layers[i].diff_id, l[i].diff_id);
                ck_assert(pea_image_store_has_blob(g_store, l[i].digest));
        }
        pea_image_record_done(&rec);

        /* again: the layers are stored, only the manifest and config are fetched */
        struct events ev2 = {0};
        _cleanup_free_ char *id2 = NULL;
        ck_assert_int_eq(pull("localhost:5000/test/simple:latest", &ev2, NULL, &id2, NULL), 0);
        ck_assert_str_eq(id2, id);
        ck_assert_int_eq(g_fake.blob_calls, 5);
        ck_assert_int_eq(ev2.skipped, 3);
        ck_assert_uint_eq(count_images(), 1);
        ck_assert_uint_eq(count_layer_dirs(NULL), 3);
        img_done(&im);
        for (size_t i = 0; i < 3; i++)
                layer_done(&l[i]);
}

END_TEST

/* A second image on the same base layer fetches only its own layer. */
START_TEST(test_pull_shared_base)
{
        struct layer base, a, b;
        layer_file(&base, "base", "base\n", true);
        layer_file(&a, "a", "a\n", true);
        layer_file(&b, "b", "b\n", true);
        struct layer *la[] = {&base, &a}, *lb[] = {&base, &b};
        struct img ia, ib;
        img_make(&ia, la, 2, "amd64", "a", NULL);
        img_make(&ib, lb, 2, "amd64", "b", NULL);
        ck_assert_int_eq(pull("localhost:5000/x:a", NULL, NULL, NULL, NULL), 0);
        struct events ev = {0};
        ck_assert_int_eq(pull("localhost:5000/x:b", &ev, NULL, NULL, NULL), 0);
        ck_assert_int_eq(g_fake.blob_calls, 3 + 2);
        ck_assert_int_eq(ev.skipped, 1);
        ck_assert_uint_eq(count_images(), 2);
        ck_assert_uint_eq(count_layer_dirs(NULL), 3);
        img_done(&ia);
        img_done(&ib);
        layer_done(&base);
        layer_done(&a);
        layer_done(&b);
}

END_TEST

START_TEST(test_pull_by_digest)
{
        struct layer l;
        layer_file(&l, "f", "f\n", false);
        struct layer *ls[] = {&l};
        struct img im;
        img_make(&im, ls, 1, "amd64", NULL, NULL);
        _cleanup_free_ char *ref = xasprintf("localhost:5000/dig@%s", im.manifest_digest);
        _cleanup_free_ char *id = NULL;
        ck_assert_int_eq(pull(ref, NULL, NULL, &id, NULL), 0);
        struct pea_image_record rec = {0};
        ck_assert_int_eq(pea_image_store_get(g_store, id, &rec, NULL), 0);
        /* as podman: named repo@digest, no tag */
        ck_assert_str_eq(rec.names[0], ref);
        ck_assert_ptr_null(rec.names[1]);
        pea_image_record_done(&rec);
        img_done(&im);
        layer_done(&l);
}

END_TEST

static char *index_json(const struct img *amd, const struct img *arm)
{
        return xasprintf(
                "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
                "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
                "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}]}",
                PEA_MEDIA_OCI_INDEX, PEA_MEDIA_OCI_MANIFEST, amd->manifest_digest,
                strlen(amd->manifest), PEA_MEDIA_OCI_MANIFEST, arm->manifest_digest,
                strlen(arm->manifest));
}

START_TEST(test_pull_index)
{
        struct layer l;
        layer_file(&l, "f", "f\n", true);
        struct layer *ls[] = {&l};
        struct img amd, arm;
        img_make(&amd, ls, 1, "amd64", NULL, NULL);
        img_make(&arm, ls, 1, "arm64", NULL, NULL);
        _cleanup_free_ char *index = index_json(&amd, &arm);
        _cleanup_free_ char *index_digest = sha256(index, strlen(index));
        fake_put("m:latest", index, strlen(index), PEA_MEDIA_OCI_INDEX);

        _cleanup_free_ char *id = NULL, *id_arm = NULL;
        ck_assert_int_eq(pull("localhost:5000/multi", NULL, "amd64", &id, NULL), 0);
        ck_assert_str_eq(id, pea_digest_hex(amd.config_digest));
        ck_assert_int_eq(pull("localhost:5000/multi", NULL, "arm64", &id_arm, NULL), 0);
        ck_assert_str_eq(id_arm, pea_digest_hex(arm.config_digest));

        /* the arm64 image took the name, and records the index digest; the index is kept */
        struct pea_image_record rec = {0};
        ck_assert_int_eq(pea_image_store_get(g_store, id_arm, &rec, NULL), 0);
        ck_assert_str_eq(rec.names[0], "localhost:5000/multi:latest");
        ck_assert_str_eq(rec.digest, arm.manifest_digest);
        _cleanup_free_ char *rd = xasprintf("localhost:5000/multi@%s", index_digest);
        ck_assert(strv_contains(rec.repo_digests, rd));
        ck_assert(pea_image_store_has_blob(g_store, index_digest));
        pea_image_record_done(&rec);

        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_lt(pull("localhost:5000/multi", NULL, "s390x", NULL, &err), 0);
        ck_assert_msg(strstr(err->msg, "choosing an image from manifest list docker://"
                                       "localhost:5000/multi:latest: no image found"),
                      "%s", err->msg);
        img_done(&amd);
        img_done(&arm);
        layer_done(&l);
}

END_TEST

/* Many layers, 4 at once and one at a time: committed in order, the same result. */
START_TEST(test_pull_parallel)
{
        struct layer l[10];
        struct layer *ls[10];
        for (size_t i = 0; i < 10; i++) {
                _cleanup_free_ char *name = xasprintf("file-%zu", i);
                /* some large enough to fill the pipe several times */
                size_t size = i % 3 == 0 ? 3u << 20 : 100;
                char *content = xmalloc(size + 1);
                for (size_t k = 0; k < size; k++)
                        content[k] = (char)('a' + (k * 31 + i) % 26);
                content[size] = '\0';
                layer_file(&l[i], name, content, i % 2 == 0);
                free(content);
                ls[i] = &l[i];
        }
        struct img im;
        img_make(&im, ls, 10, "amd64", "latest", NULL);
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pull("localhost:5000/many", NULL, NULL, NULL, &err);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        ck_assert_uint_eq(count_layer_dirs(NULL), 10);

        /* the same with one worker, into an emptied store */
        struct pea_image_remove_report rep = {0};
        ck_assert_int_eq(pea_image_store_remove(g_store, "localhost:5000/many", 0, &rep, NULL), 0);
        pea_image_remove_report_done(&rep);
        assert_store_empty();
        struct pea_image_pull_opts o = {.tls_verify = -1, .single_id = true, .parallel = 1};
        ck_assert_int_eq(
                pea_image_pull(g_store, NULL, &g_transport, "localhost:5000/many", &o, NULL, NULL),
                0);
        ck_assert_uint_eq(count_layer_dirs(NULL), 10);
        img_done(&im);
        for (size_t i = 0; i < 10; i++)
                layer_done(&l[i]);
}

END_TEST

/* ---- malformed inputs: one error, nothing stored ------------------------------------------- */

/* Pulls ref expecting failure with a message containing want; the store stays empty. */
static void pull_fails(const char *ref, const char *want)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *id = NULL;
        ck_assert_int_lt(pull(ref, NULL, NULL, &id, &err), 0);
        ck_assert_ptr_null(id);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err->msg, want), "'%s' not in '%s'", want, err->msg);
        ck_assert_ptr_null(strchr(err->msg, '\n'));
        assert_store_empty();
}

/* Two good layers and a bad third: the good ones are not left behind either. */
START_TEST(test_pull_bad_layer_digest)
{
        struct layer l[3];
        layer_file(&l[0], "a", "a\n", true);
        layer_file(&l[1], "b", "b\n", true);
        layer_file(&l[2], "c", "c\n", true);
        /* the registry serves other bytes than the digest names */
        struct layer other;
        layer_file(&other, "evil", "evil\n", true);
        _cleanup_free_ char *key = xasprintf("b:%s", l[2].digest);
        fake_put(key, other.blob.p, other.blob.len, NULL);
        struct layer *ls[] = {&l[0], &l[1], &l[2]};
        struct img im;
        img_make(&im, ls, 3, "amd64", "latest", NULL);
        _cleanup_free_ char *want = xasprintf("copying blob %s: digest mismatch", l[2].digest);
        pull_fails("localhost:5000/bad", want);
        img_done(&im);
        for (size_t i = 0; i < 3; i++)
                layer_done(&l[i]);
        layer_done(&other);
}

END_TEST

START_TEST(test_pull_truncated_layer)
{
        struct layer l;
        char *big = xmalloc(200001);
        memset(big, 'x', 200000);
        big[200000] = '\0';
        layer_file(&l, "big", big, false);
        free(big);
        _cleanup_free_ char *key = xasprintf("b:%s", l.digest);
        fake_get(key)->truncate = l.blob.len / 2;
        struct layer *ls[] = {&l};
        struct img im;
        img_make(&im, ls, 1, "amd64", "latest", NULL);
        pull_fails("localhost:5000/trunc", "copying blob");
        img_done(&im);
        layer_done(&l);
}

END_TEST

START_TEST(test_pull_bad_diff_id)
{
        struct layer l;
        layer_file(&l, "a", "a\n", true);
        struct layer *ls[] = {&l};
        const char *diffs[] = {
                "sha256:0000000000000000000000000000000000000000000000000000000000000000"};
        struct img im;
        img_make(&im, ls, 1, "amd64", "latest", diffs);
        pull_fails("localhost:5000/diff", "diff ID mismatch");
        img_done(&im);
        layer_done(&l);
}

END_TEST

START_TEST(test_pull_bad_config)
{
        struct layer l;
        layer_file(&l, "a", "a\n", true);
        struct layer *ls[] = {&l};
        struct img im;
        img_make(&im, ls, 1, "amd64", "latest", NULL);
        _cleanup_free_ char *key = xasprintf("b:%s", im.config_digest);
        const char *evil = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":"
                           "{\"type\":\"layers\",\"diff_ids\":[]}}";
        fake_put(key, evil, strlen(evil), NULL);
        _cleanup_free_ char *want = xasprintf("copying config %s", im.config_digest);
        pull_fails("localhost:5000/cfg", want);
        ck_assert_int_eq(g_fake.blob_calls, 1); /* no layer was fetched */
        img_done(&im);
        layer_done(&l);
}

END_TEST

START_TEST(test_pull_bad_manifest_digest)
{
        struct layer l;
        layer_file(&l, "a", "a\n", true);
        struct layer *ls[] = {&l};
        struct img im, other;
        img_make(&im, ls, 1, "amd64", NULL, NULL);
        img_make(&other, ls, 1, "arm64", NULL, NULL);
        /* asked by im's digest, the registry answers with other's manifest */
        _cleanup_free_ char *key = xasprintf("m:%s", im.manifest_digest);
        fake_put(key, other.manifest, strlen(other.manifest), PEA_MEDIA_OCI_MANIFEST);
        _cleanup_free_ char *ref = xasprintf("localhost:5000/m@%s", im.manifest_digest);
        _cleanup_free_ char *want = xasprintf("initializing source docker://%s: ", ref);
        pull_fails(ref, want);
        ck_assert_int_eq(g_fake.blob_calls, 0);
        img_done(&im);
        img_done(&other);
        layer_done(&l);
}

END_TEST

START_TEST(test_pull_manifest_unknown)
{
        /* callers may ignore the message */
        ck_assert_int_eq(pull("localhost:5000/nope", NULL, NULL, NULL, NULL), -ENOENT);
        pull_fails("localhost:5000/nope",
                   "initializing source docker://localhost:5000/nope:latest: reading manifest "
                   "latest in ");
}

END_TEST

START_TEST(test_pull_traversal)
{
        struct layer l;
        const char *e[] = {"../escaped", "x\n"};
        layer_make(&l, e, 1, true);
        struct layer *ls[] = {&l};
        struct img im;
        img_make(&im, ls, 1, "amd64", "latest", NULL);
        pull_fails("localhost:5000/trav", "copying blob");
        _cleanup_free_ char *outside = xasprintf("%s/graph/layers/escaped", g_dir);
        ck_assert(!pea_path_exists(outside));
        img_done(&im);
        layer_done(&l);
}

END_TEST

/* A symlink out of the layer and a file through it: resolved inside the layer, never outside. */
START_TEST(test_pull_symlink_escape)
{
        _cleanup_free_ char *target = xasprintf("%s/outside", g_dir);
        _cleanup_free_ char *arrow = xasprintf("->%s", target);
        struct layer l1, l2;
        const char *e1[] = {"evil", arrow};
        layer_make(&l1, e1, 1, true);
        const char *e2[] = {"evil/owned", "owned\n"};
        layer_make(&l2, e2, 1, true);
        struct layer *ls[] = {&l1, &l2};
        struct img im;
        img_make(&im, ls, 2, "amd64", "latest", NULL);
        (void)pull("localhost:5000/sym", NULL, NULL, NULL, NULL);
        _cleanup_free_ char *owned = xasprintf("%s/owned", target);
        ck_assert(!pea_path_exists(target));
        ck_assert(!pea_path_exists(owned));
        size_t tmp = 0;
        (void)count_layer_dirs(&tmp);
        ck_assert_uint_eq(tmp, 0);
        img_done(&im);
        layer_done(&l1);
        layer_done(&l2);
}

END_TEST

/* ---- names, short names, platforms --------------------------------------------------------- */

START_TEST(test_pull_short_names)
{
        struct layer l;
        layer_file(&l, "a", "a\n", true);
        struct layer *ls[] = {&l};
        struct img im;
        img_make(&im, ls, 1, "amd64", "latest", NULL);
        _cleanup_free_ char *conf = xasprintf("%s/registries.conf", g_dir);
        const char *text = "unqualified-search-registries = [\"down.example\", \"up.example\"]\n";
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, conf, text, strlen(text), 0644, NULL),
                         0);
        struct pea_registries regs = {0};
        ck_assert_int_eq(pea_registries_load_from(&regs, conf, NULL, NULL), 0);
        g_fake.refused = strv_split("down.example", " ");

        struct events ev = {0};
        struct pea_image_pull_opts o = {
                .tls_verify = -1, .single_id = true, .progress = record, .progress_userdata = &ev};
        _cleanup_free_ char *id = NULL;
        ck_assert_int_eq(pea_image_pull(g_store, &regs, &g_transport, "short", &o, &id, NULL), 0);
        ck_assert_int_eq(ev.types[PEA_PULL_TRYING], 2);
        struct pea_image_record rec = {0};
        ck_assert_int_eq(pea_image_store_get(g_store, id, &rec, NULL), 0);
        ck_assert_str_eq(rec.names[0], "up.example/short:latest");
        pea_image_record_done(&rec);

        /* every candidate fails: one line per candidate after podman's header */
        g_fake.refused = strv_free(g_fake.refused);
        g_fake.refused = strv_split("down.example up.example", " ");
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_lt(pea_image_pull(g_store, &regs, &g_transport, "short", &o, NULL, &err), 0);
        ck_assert_msg(startswith(err->msg, "2 errors occurred while pulling:\n * initializing "
                                           "source docker://down.example/short:latest: "),
                      "%s", err->msg);
        pea_registries_done(&regs);
        img_done(&im);
        layer_done(&l);
}

END_TEST

START_TEST(test_pull_helpers)
{
        struct pea_image_ref ref = {0};
        ck_assert_int_eq(pea_image_ref_parse_normalized("busybox", &ref, NULL), 0);
        _cleanup_free_ char *n1 = pea_image_pull_name(&ref);
        ck_assert_str_eq(n1, "docker.io/library/busybox:latest");
        pea_image_ref_done(&ref);
        ck_assert_int_eq(pea_image_ref_parse_normalized("localhost:5000/a/b:1@sha256:"
                                                        "0123456789abcdef0123456789abcdef0123456789"
                                                        "abcdef0123456789abcdef",
                                                        &ref, NULL),
                         0);
        _cleanup_free_ char *n2 = pea_image_pull_name(&ref);
        ck_assert(startswith(n2, "localhost:5000/a/b@sha256:0123"));
        pea_image_ref_done(&ref);

        struct pea_platform p = {0};
        struct pea_image_pull_opts o = {.platform = "linux/arm/v6", .arch = "arm64"};
        ck_assert_int_eq(pea_image_pull_platform(&o, &p, NULL), 0);
        ck_assert_str_eq(p.os, "linux");
        ck_assert_str_eq(p.architecture, "arm64");
        pea_platform_done(&p);
        struct pea_image_pull_opts bad = {.platform = "linux"};
        ck_assert_int_eq(pea_image_pull_platform(&bad, &p, NULL), -EINVAL);
}

END_TEST

/* ---- units (lib/base) ---------------------------------------------------------------------- */

#define SEC 1000000000LL

static void duration_is(int64_t ns, const char *want)
{
        _cleanup_free_ char *s = pea_human_duration(ns);
        ck_assert_str_eq(s, want);
}

static void size_is(double bytes, const char *want)
{
        _cleanup_free_ char *s = pea_human_size(bytes);
        ck_assert_str_eq(s, want);
}

START_TEST(test_units)
{
        duration_is(-5, "Less than a second");
        duration_is(SEC / 2, "Less than a second");
        duration_is(SEC, "1 second");
        duration_is(59 * SEC, "59 seconds");
        duration_is(60 * SEC, "About a minute");
        duration_is(119 * SEC, "About a minute");
        duration_is(120 * SEC, "2 minutes");
        duration_is(3599 * SEC, "59 minutes");
        duration_is(3600 * SEC, "About an hour");
        duration_is(5400 * SEC, "2 hours"); /* rounded */
        duration_is(47 * 3600 * SEC, "47 hours");
        duration_is(48 * 3600 * SEC, "2 days");
        duration_is(14 * 24 * 3600 * SEC, "2 weeks");
        duration_is(60 * 24 * 3600 * SEC, "2 months");
        duration_is(18 * 30 * 24 * 3600 * SEC, "18 months");
        duration_is(800 * 24 * 3600 * SEC, "2 years");
        size_is(0, "0 B");
        size_is(999, "999 B");
        size_is(10240, "10.2 kB");
        size_is(40960, "41 kB");
        size_is(2141507, "2.14 MB");
        size_is(96010240, "96 MB");
        size_is(144911360, "145 MB");
        size_is(999999, "1e+03 kB");
        _cleanup_free_ char *since = pea_human_since(0, 90 * SEC);
        ck_assert_str_eq(since, "About a minute ago");
        _cleanup_free_ char *bin = pea_human_size_binary(1536);
        ck_assert_str_eq(bin, "1.5 KiB");

        int64_t t = 0;
        ck_assert_int_eq(pea_time_parse_rfc3339("2025-05-20T00:00:00Z", &t), 0);
        ck_assert_int_eq(t, 1747699200LL * SEC);
        ck_assert_int_eq(pea_time_parse_rfc3339("2025-05-20T02:00:00.5+02:00", &t), 0);
        ck_assert_int_eq(t, 1747699200LL * SEC + SEC / 2);
        ck_assert_int_eq(pea_time_parse_rfc3339("2025-05-20", &t), -EINVAL);
        ck_assert_int_eq(pea_time_parse_rfc3339("2025-05-20T00:00:00+2", &t), -EINVAL);
        _cleanup_free_ char *r1 = pea_time_rfc3339(1747699200LL * SEC);
        ck_assert_str_eq(r1, "2025-05-20T00:00:00Z");
        _cleanup_free_ char *r2 = pea_time_rfc3339(1747699200LL * SEC + 120000000);
        ck_assert_str_eq(r2, "2025-05-20T00:00:00.12Z");
        _cleanup_free_ char *g = pea_time_go_string(1747699200LL * SEC);
        ck_assert_str_eq(g, "2025-05-20 00:00:00 +0000 UTC");
}

END_TEST

static Suite *pull_suite(void)
{
        Suite *s = suite_create("pull");
        TCase *pipe = tcase_create("pipe");
        tcase_add_test(pipe, test_pipe_basic);
        tcase_add_test(pipe, test_pipe_errors);
        tcase_add_test(pipe, test_pipe_threads);
        tcase_add_test(pipe, test_pipe_reader_gone);
        suite_add_tcase(s, pipe);

        TCase *p = tcase_create("pull");
        tcase_add_checked_fixture(p, setup, teardown);
        tcase_set_timeout(p, 30);
        tcase_add_test(p, test_pull_simple);
        tcase_add_test(p, test_pull_shared_base);
        tcase_add_test(p, test_pull_by_digest);
        tcase_add_test(p, test_pull_index);
        tcase_add_test(p, test_pull_parallel);
        tcase_add_test(p, test_pull_short_names);
        tcase_add_test(p, test_pull_helpers);
        suite_add_tcase(s, p);

        TCase *bad = tcase_create("malformed");
        tcase_add_checked_fixture(bad, setup, teardown);
        tcase_set_timeout(bad, 30);
        tcase_add_test(bad, test_pull_bad_layer_digest);
        tcase_add_test(bad, test_pull_truncated_layer);
        tcase_add_test(bad, test_pull_bad_diff_id);
        tcase_add_test(bad, test_pull_bad_config);
        tcase_add_test(bad, test_pull_bad_manifest_digest);
        tcase_add_test(bad, test_pull_manifest_unknown);
        tcase_add_test(bad, test_pull_traversal);
        tcase_add_test(bad, test_pull_symlink_escape);
        suite_add_tcase(s, bad);

        TCase *u = tcase_create("units");
        tcase_add_test(u, test_units);
        suite_add_tcase(s, u);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(pull_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
