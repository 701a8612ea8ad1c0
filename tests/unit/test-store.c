/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <jansson.h>

#include "base.h"
#include "image/image.h"
#include "image/store-internal.h"
#include "image/store.h"
#include "layer/layer.h"
#include "state/state-internal.h"
#include "state/state.h"

/*
 * The image store: layers unpacked from in-memory tarballs (libarchive's
 * writer), images made of them, lookups, tags, removal, crash repair and
 * several processes working on one store at once.
 */

#ifndef NPROC
#        define NPROC 8
#endif

static char *g_dir;   /* private temporary directory */
static char *g_graph; /* g_dir/graph */
static char *g_db;    /* g_dir/state.db */

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

/* A tar (gzip: compressed) of files path=data; a path starting with ".wh." is a whiteout. */
static struct buf make_tar(const char *const *files, bool gzip)
{
        struct buf b = {0};
        struct archive *a = archive_write_new();
        ck_assert_int_eq(archive_write_set_format_pax(a), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
        if (gzip)
                ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_open(a, &b, NULL, buf_write, NULL), ARCHIVE_OK);
        for (size_t i = 0; files[i]; i += 2) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_pathname(e, files[i]);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_mtime(e, 1600000000, 0);
                archive_entry_set_size(e, (la_int64_t)strlen(files[i + 1]));
                ck_assert_int_ge(archive_write_header(a, e), ARCHIVE_WARN);
                archive_write_data(a, files[i + 1], strlen(files[i + 1]));
                archive_entry_free(e);
        }
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        return b;
}

struct layer {
        struct buf blob; /* as in the registry */
        char *diff_id;   /* of the tar */
        char *digest;    /* of blob */
        char *chain;     /* after import */
        bool gzip;
};

static void layer_init(struct layer *l, const char *const *files, bool gzip)
{
        struct buf tar = make_tar(files, false);
        *l = (struct layer){.blob = gzip ? make_tar(files, true) : tar, .gzip = gzip};
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, tar.p, tar.len, &l->diff_id, NULL), 0);
        ck_assert_int_eq(
                pea_digest_data(PEA_DIGEST_SHA256, l->blob.p, l->blob.len, &l->digest, NULL), 0);
        if (gzip)
                free(tar.p);
}

/* A layer holding one file name=content. */
static void layer_file(struct layer *l, const char *name, const char *content)
{
        const char *files[] = {name, content, NULL};
        layer_init(l, files, false);
}

static void layer_done(struct layer *l)
{
        free(l->blob.p);
        free(l->diff_id);
        free(l->digest);
        free(l->chain);
        *l = (struct layer){0};
}

#define LAYER_MT "application/vnd.oci.image.layer.v1.tar"

struct img {
        struct layer *layers[8];
        size_t n;
        char *config, *manifest, *config_digest, *manifest_digest, *id;
};

static char *descriptor_json(const char *mt, const char *digest, size_t size)
{
        return xasprintf("{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}", mt, digest, size);
}

static void img_init(struct img *im, struct layer **layers, size_t n, const char *label)
{
        *im = (struct img){.n = n};
        _cleanup_strv_ char **diffs = xcalloc(1, sizeof(char *));
        _cleanup_strv_ char **descs = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                im->layers[i] = layers[i];
                strv_consume(&diffs, xasprintf("\"%s\"", layers[i]->diff_id));
                strv_consume(&descs, descriptor_json(layers[i]->gzip ? LAYER_MT "+gzip" : LAYER_MT,
                                                     layers[i]->digest, layers[i]->blob.len));
        }
        _cleanup_free_ char *d = strv_join(diffs, ",");
        im->config =
                xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\","
                          "\"created\":\"2024-01-02T03:04:05.5Z\",\"config\":{\"Labels\":"
                          "{\"l\":\"%s\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}",
                          label, d);
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, im->config, strlen(im->config),
                                         &im->config_digest, NULL),
                         0);
        im->id = xstrdup(pea_digest_hex(im->config_digest));
        _cleanup_free_ char *cd =
                descriptor_json(PEA_MEDIA_OCI_CONFIG, im->config_digest, strlen(im->config));
        _cleanup_free_ char *ls = strv_join(descs, ",");
        im->manifest = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":%s,"
                                 "\"layers\":[%s]}",
                                 PEA_MEDIA_OCI_MANIFEST, cd, ls);
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, im->manifest, strlen(im->manifest),
                                         &im->manifest_digest, NULL),
                         0);
}

static void img_done(struct img *im)
{
        free(im->config);
        free(im->manifest);
        free(im->config_digest);
        free(im->manifest_digest);
        free(im->id);
        *im = (struct img){0};
}

struct memsrc {
        const unsigned char *p;
        size_t len, off;
        int block_fd; /* >= 0: after half the data, write to it and hang (kill tests) */
};

static ssize_t mem_read(void *u, void *buf, size_t len, struct pea_error **err _unused_)
{
        struct memsrc *m = u;
        if (m->block_fd >= 0 && m->off >= m->len / 2) {
                ck_assert_int_eq(write(m->block_fd, "x", 1), 1);
                for (;;)
                        pause();
        }
        size_t n = m->len - m->off < len ? m->len - m->off : len;
        if (n > 1000)
                n = 1000;
        memcpy(buf, m->p + m->off, n);
        m->off += n;
        return (ssize_t)n;
}

/* Imports the layer on parent (NULL: base); fills l->chain. 1: unpacked, 0: was there. */
static int import_layer(struct pea_image_store *s, struct layer *l, const char *parent, bool keep,
                        struct pea_error **err)
{
        struct memsrc m = {.p = l->blob.p, .len = l->blob.len, .block_fd = -1};
        struct pea_layer_source src = {.read = mem_read, .userdata = &m};
        struct pea_image_layer_import imp = {
                .parent_chain_id = parent,
                .diff_id = l->diff_id,
                .digest = l->digest,
                .media_type = l->gzip ? LAYER_MT "+gzip" : LAYER_MT,
                .keep_blob = keep,
        };
        free(l->chain);
        l->chain = NULL;
        return pea_image_store_layer_import(s, &imp, &src, NULL, &l->chain, err);
}

static int add_img(struct pea_image_store *s, struct img *im, const char *name,
                   struct pea_error **err)
{
        const char *parent = NULL;
        for (size_t i = 0; i < im->n; i++) {
                int r = import_layer(s, im->layers[i], parent, false, err);
                if (r < 0)
                        return r;
                parent = im->layers[i]->chain;
        }
        char *names[] = {(char *)name, NULL};
        struct pea_image_record rec = {
                .manifest = im->manifest,
                .manifest_len = strlen(im->manifest),
                .config = im->config,
                .config_len = strlen(im->config),
        };
        _cleanup_free_ char *id = NULL;
        int r = pea_image_store_add_image(s, &rec, name ? names : NULL, &id, err);
        if (r >= 0)
                ck_assert_str_eq(id, im->id);
        pea_image_store_unpin_all(s);
        return r;
}

static void add_ok(struct pea_image_store *s, struct img *im, const char *name)
{
        _cleanup_error_ struct pea_error *err = NULL;
        int r = add_img(s, im, name, &err);
        ck_assert_msg(r == 0, "adding image: %s", err ? err->msg : "?");
}

static struct pea_state *g_state;
static struct pea_image_store *g_store;

static void store_open(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        if (!g_state)
                ck_assert_int_eq(pea_state_open(g_db, &g_state, NULL), 0);
        int r = pea_image_store_open(g_graph, g_state, &g_store, &err);
        ck_assert_msg(r == 0, "opening store: %s", err ? err->msg : "?");
}

static void store_reopen(void)
{
        g_store = pea_image_store_close(g_store);
        store_open();
}

/* fork() without a database connection to inherit (SQLite's per-process lock
 * bookkeeping must not cross a fork); the parent reopens its handles. */
static pid_t fork_clean(void)
{
        g_store = pea_image_store_close(g_store);
        g_state = pea_state_close(g_state);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid > 0)
                store_open();
        return pid;
}

static void setup(void)
{
        g_dir = xstrdup("/tmp/pea-test-store-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(g_dir));
        g_graph = xasprintf("%s/graph", g_dir);
        g_db = xasprintf("%s/state.db", g_dir);
        store_open();
}

static void teardown(void)
{
        g_store = pea_image_store_close(g_store);
        g_state = pea_state_close(g_state);
        (void)pea_rm_rf(g_dir, NULL);
        free(g_dir);
        free(g_graph);
        free(g_db);
}

static int64_t count_sql(const char *sql)
{
        int64_t n = -1;
        ck_assert_int_eq(state_query_int(g_state, sql, &n, NULL), 0);
        return n;
}

/* Entries of graph/sub whose name starts with prefix ("" for all). */
static int count_entries(const char *sub, const char *prefix)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", g_graph, sub);
        _cleanup_closedir_ DIR *d = opendir(path);
        ck_assert_ptr_nonnull(d);
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")
                    && startswith(de->d_name, prefix))
                        n++;
        return n;
}

static bool layer_dir(const char *chain)
{
        _cleanup_free_ char *p = pea_image_store_layer_path(g_store, chain);
        return p && pea_path_exists(p);
}

static void lookup_is(const char *name, const char *want_id)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_(pea_image_record_done) struct pea_image_record rec = {0};
        int r = pea_image_store_lookup(g_store, name, &rec, NULL, &err);
        ck_assert_msg(r == 0, "lookup '%s': %s", name, err ? err->msg : "?");
        ck_assert_msg(streq(rec.id, want_id), "lookup '%s' found %.12s, not %.12s", name, rec.id,
                      want_id);
}

static void lookup_fails(const char *name, int code, const char *msg)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_(pea_image_record_done) struct pea_image_record rec = {0};
        ck_assert_int_eq(pea_image_store_lookup(g_store, name, &rec, NULL, &err), -code);
        ck_assert_msg(streq(err->msg, msg), "'%s' is not '%s'", err->msg, msg);
}

/* ---- layers -------------------------------------------------------------------------------- */

START_TEST(test_chain_id)
{
        _cleanup_free_ char *c0 = NULL, *c1 = NULL, *want = NULL;
        const char *d0 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        const char *d1 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        ck_assert_int_eq(pea_image_chain_id(NULL, d0, &c0, NULL), 0);
        ck_assert_str_eq(c0, d0);
        ck_assert_int_eq(pea_image_chain_id(c0, d1, &c1, NULL), 0);
        _cleanup_free_ char *text = xasprintf("%s %s", d0, d1);
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, text, strlen(text), &want, NULL), 0);
        ck_assert_str_eq(c1, want);
        _cleanup_free_ char *bad = NULL;
        ck_assert_int_eq(pea_image_chain_id("sha256:zz", d1, &bad, NULL), -EINVAL);
}

END_TEST

/* begin, unpack by hand, commit; a second commit of the same layer keeps the first. */
START_TEST(test_layer_commit)
{
        _cleanup_error_ struct pea_error *err = NULL;
        const char *diff =
                "sha256:3333333333333333333333333333333333333333333333333333333333333333";
        struct pea_image_layer_info info = {.diff_id = diff, .size = 5};
        for (int round = 0; round < 2; round++) {
                struct pea_image_store_tmp *tmp = NULL;
                ck_assert_int_eq(pea_image_store_layer_begin(g_store, &tmp, &err), 0);
                ck_assert(startswith(tmp->diff_path, g_graph));
                int fd = openat(tmp->diff_fd, "hello", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                ck_assert_int_ge(fd, 0);
                ck_assert_int_eq(write(fd, round ? "two" : "one", 3), 3);
                close(fd);
                _cleanup_free_ char *chain = NULL;
                int r = pea_image_store_layer_commit(g_store, tmp, &info, &chain, &err);
                ck_assert_msg(r == 0, "commit: %s", err ? err->msg : "?");
                ck_assert_str_eq(chain, diff);
        }
        _cleanup_free_ char *path = pea_image_store_layer_path(g_store, diff);
        _cleanup_free_ char *hello = xasprintf("%s/hello", path), *data = NULL;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, hello, 100, &data, NULL, NULL), 0);
        ck_assert_str_eq(data, "one");
        ck_assert_int_eq(count_entries("layers", ".tmp-"), 0);
        ck_assert_int_eq(pea_image_store_layer_exists(g_store, diff, NULL), 1);
        _cleanup_(pea_image_layer_done) struct pea_image_layer l = {0};
        ck_assert_int_eq(pea_image_store_layer_get(g_store, diff, &l, NULL), 0);
        ck_assert_str_eq(l.diff_id, diff);
        ck_assert_int_eq(l.size, 5);
        ck_assert_int_eq(l.whiteout, PEA_IMAGE_WHITEOUT_OVERLAY);
        ck_assert_ptr_null(l.parent_chain_id);
        _cleanup_free_ char *json = xasprintf("%s/layers/%s/layer.json", g_graph, diff + 7);
        ck_assert(pea_path_exists(json));
        /* A child of a layer that is not there is refused. */
        struct pea_image_store_tmp *tmp = NULL;
        ck_assert_int_eq(pea_image_store_layer_begin(g_store, &tmp, NULL), 0);
        struct pea_image_layer_info orphan = {
                .diff_id = diff,
                .parent_chain_id =
                        "sha256:4444444444444444444444444444444444444444444444444444444444444444",
        };
        pea_error_clear(&err);
        ck_assert_int_eq(pea_image_store_layer_commit(g_store, tmp, &orphan, NULL, &err), -ENOENT);
        ck_assert_int_eq(count_entries("layers", ".tmp-"), 0);
}

END_TEST

START_TEST(test_import_checks)
{
        struct layer l, wh;
        layer_file(&l, "etc/a", "alpha");
        const char *files[] = {"etc/.wh.gone", "", NULL};
        layer_init(&wh, files, true);
        _cleanup_error_ struct pea_error *err = NULL;
        /* A wrong diff ID: nothing is left behind. */
        free(l.diff_id);
        l.diff_id = xstrdup(wh.diff_id);
        ck_assert_int_eq(import_layer(g_store, &l, NULL, true, &err), -EBADMSG);
        ck_assert_msg(strstr(err->msg, "diff ID mismatch"), "%s", err->msg);
        ck_assert_int_eq(count_entries("layers", ".tmp-"), 0);
        ck_assert_int_eq(count_entries("blobs/sha256", ""), 0);
        ck_assert_int_eq(count_sql("SELECT count(*) FROM layers"), 0);
        /* gzip with the blob kept, whiteouts as character devices (we run as root). */
        ck_assert_int_eq(import_layer(g_store, &wh, NULL, true, NULL), 1);
        ck_assert_int_eq(import_layer(g_store, &wh, NULL, true, NULL), 0);
        ck_assert(pea_image_store_has_blob(g_store, wh.digest));
        _cleanup_(pea_image_layer_done) struct pea_image_layer info = {0};
        ck_assert_int_eq(pea_image_store_layer_get(g_store, wh.chain, &info, NULL), 0);
        ck_assert_str_eq(info.digest, wh.digest);
        ck_assert_str_ne(info.digest, info.diff_id);
        ck_assert_str_eq(info.media_type, LAYER_MT "+gzip");
        _cleanup_free_ char *path = pea_image_store_layer_path(g_store, wh.chain);
        _cleanup_free_ char *gone = xasprintf("%s/etc/gone", path);
        struct stat st;
        ck_assert_int_eq(lstat(gone, &st), 0);
        if (S_ISCHR(st.st_mode))
                ck_assert_int_eq(info.whiteout, PEA_IMAGE_WHITEOUT_OVERLAY);
        else
                ck_assert_int_eq(info.whiteout, PEA_IMAGE_WHITEOUT_AUFS);
        layer_done(&l);
        layer_done(&wh);
}

END_TEST

START_TEST(test_blobs)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *d = NULL, *data = NULL;
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, "abc", 3, &d, NULL), 0);
        ck_assert_int_eq(pea_image_store_put_blob(g_store, d, "abd", 3, &err), -EBADMSG);
        ck_assert(!pea_image_store_has_blob(g_store, d));
        ck_assert_int_eq(pea_image_store_put_blob(g_store, d, "abc", 3, NULL), 0);
        ck_assert_int_eq(pea_image_store_put_blob(g_store, d, "abc", 3, NULL), 0);
        size_t len = 0;
        ck_assert_int_eq(pea_image_store_get_blob(g_store, d, &data, &len, NULL), 0);
        ck_assert_int_eq(len, 3);
        ck_assert_str_eq(data, "abc");
        int fd = pea_image_store_open_blob(g_store, d, NULL);
        ck_assert_int_ge(fd, 0);
        _cleanup_free_ char *d2 = NULL;
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, "", 0, &d2, NULL), 0);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(pea_image_store_put_blob_fd(g_store, d2, null, NULL), 0);
        ck_assert(pea_image_store_has_blob(g_store, d2));
        close(null);
        close(fd);
        ck_assert_int_eq(count_entries("blobs/sha256", ".tmp-"), 0);
        ck_assert_int_eq(count_entries("blobs/sha256", ""), 2);
}

END_TEST

/* ---- images -------------------------------------------------------------------------------- */

struct three {
        struct layer l0, l1, l2;
        struct img a, b;
};

/* a: l0 l1, b: l0 l2 */
static void three_init(struct three *t)
{
        layer_file(&t->l0, "base", "base layer");
        layer_file(&t->l1, "a", "layer of a");
        layer_file(&t->l2, "b", "layer of b");
        struct layer *la[] = {&t->l0, &t->l1}, *lb[] = {&t->l0, &t->l2};
        img_init(&t->a, la, 2, "a");
        img_init(&t->b, lb, 2, "b");
}

static void three_done(struct three *t)
{
        img_done(&t->a);
        img_done(&t->b);
        layer_done(&t->l0);
        layer_done(&t->l1);
        layer_done(&t->l2);
}

START_TEST(test_add_record)
{
        struct three t;
        three_init(&t);
        add_ok(g_store, &t.a, "docker.io/library/busybox:latest");
        _cleanup_(pea_image_record_done) struct pea_image_record rec = {0};
        ck_assert_int_eq(pea_image_store_get(g_store, t.a.id, &rec, NULL), 0);
        ck_assert_str_eq(rec.digest, t.a.manifest_digest);
        ck_assert_str_eq(rec.manifest_media_type, PEA_MEDIA_OCI_MANIFEST);
        ck_assert_str_eq(rec.config, t.a.config);
        ck_assert_int_eq(rec.config_len, strlen(t.a.config));
        ck_assert_str_eq(rec.names[0], "docker.io/library/busybox:latest");
        ck_assert_ptr_null(rec.names[1]);
        _cleanup_free_ char *rd = xasprintf("docker.io/library/busybox@%s", t.a.manifest_digest);
        ck_assert_str_eq(rec.repo_digests[0], rd);
        ck_assert_int_eq(rec.created, 1704164645500000000LL);
        ck_assert_str_eq(rec.os, "linux");
        ck_assert_str_eq(rec.architecture, "amd64");
        ck_assert_int_eq(rec.n_layers, 2);
        ck_assert_str_eq(rec.layers[0].chain_id, t.l0.chain);
        ck_assert_str_eq(rec.layers[1].chain_id, t.l1.chain);
        ck_assert_str_eq(rec.layers[1].parent_chain_id, t.l0.chain);
        ck_assert_str_eq(rec.layers[1].diff_id, t.l1.diff_id);
        ck_assert_int_eq(rec.size, rec.layers[0].size + rec.layers[1].size);
        ck_assert_int_eq(rec.layers[0].size, (int64_t)t.l0.blob.len);
        ck_assert(pea_image_store_has_blob(g_store, t.a.config_digest));
        ck_assert(pea_image_store_has_blob(g_store, t.a.manifest_digest));
        _cleanup_strv_ char **chains = NULL;
        ck_assert_int_eq(pea_image_store_layers_of(g_store, "busybox", &chains, NULL), 0);
        ck_assert_int_eq(strv_length(chains), 2);
        ck_assert_str_eq(chains[1], t.l1.chain);
        ck_assert(layer_dir(chains[0]) && layer_dir(chains[1]));
        /* Adding it again merges; an unnormalised name is refused. */
        add_ok(g_store, &t.a, "localhost/again:1");
        ck_assert_int_eq(count_sql("SELECT count(*) FROM images"), 1);
        ck_assert_int_eq(count_sql("SELECT count(*) FROM image_names"), 2);
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(add_img(g_store, &t.a, "busybox", &err), -EINVAL);
        three_done(&t);
}

END_TEST

START_TEST(test_lookup)
{
        struct three t;
        three_init(&t);
        struct layer *lq[] = {&t.l1};
        struct img c, q;
        img_init(&c, lq, 1, "c");
        img_init(&q, lq, 1, "q");
        add_ok(g_store, &t.a, "docker.io/library/busybox:latest");
        add_ok(g_store, &t.b, "localhost:5000/busybox:latest");
        add_ok(g_store, &q, "quay.io/foo/alpine:3");
        lookup_is(t.a.id, t.a.id);
        _cleanup_free_ char *sha = xasprintf("sha256:%s", t.b.id);
        lookup_is(sha, t.b.id);
        _cleanup_free_ char *prefix = xstrndup(t.b.id, 12);
        lookup_is(prefix, t.b.id);
        lookup_is("busybox", t.a.id);
        lookup_is("busybox:latest", t.a.id);
        lookup_is("library/busybox", t.a.id);
        lookup_is("docker.io/library/busybox:latest", t.a.id);
        lookup_is("localhost:5000/busybox", t.b.id);
        lookup_is("alpine:3", q.id);
        lookup_is("foo/alpine:3", q.id);
        _cleanup_free_ char *dig = xasprintf("busybox@%s", t.b.manifest_digest);
        lookup_is(dig, t.b.id);
        _cleanup_free_ char *full = xasprintf("docker.io/library/busybox@%s", t.a.manifest_digest);
        lookup_is(full, t.a.id);
        /* localhost/ comes first for short names. */
        add_ok(g_store, &c, "localhost/busybox:latest");
        lookup_is("busybox", c.id);
        lookup_fails("nothere", ENOENT, "nothere: image not known");
        lookup_fails("oo/alpine:3", ENOENT, "oo/alpine:3: image not known");
        lookup_fails("alpine", ENOENT, "alpine: image not known");
        lookup_fails("sha256:abc", EINVAL, "sha256:abc: invalid format: no 64-byte hex value");
        _cleanup_free_ char *missing = xasprintf("sha256:%064d", 0);
        _cleanup_free_ char *want = xasprintf("%s: image not known", missing);
        lookup_fails(missing, ENOENT, want);
        char *name = NULL;
        _cleanup_(pea_image_record_done) struct pea_image_record rec = {0};
        ck_assert_int_eq(pea_image_store_lookup(g_store, "busybox", &rec, &name, NULL), 0);
        ck_assert_str_eq(name, "localhost/busybox:latest");
        free(name);
        img_done(&c);
        img_done(&q);
        three_done(&t);
}

END_TEST

START_TEST(test_ambiguous_prefix)
{
        struct layer l;
        layer_file(&l, "x", "x");
        struct layer *ls[] = {&l};
        struct img first, other = {0};
        img_init(&first, ls, 1, "first");
        add_ok(g_store, &first, NULL);
        for (int i = 0;; i++) {
                _cleanup_free_ char *label = xasprintf("other-%d", i);
                img_done(&other);
                img_init(&other, ls, 1, label);
                if (other.id[0] == first.id[0])
                        break;
        }
        add_ok(g_store, &other, NULL);
        char p[2] = {first.id[0], 0};
        _cleanup_free_ char *want = xasprintf("%s: image not known", p);
        lookup_fails(p, ENOENT, want);
        lookup_is(first.id, first.id);
        /* Dangling images are listed without names. */
        struct pea_image_record *recs = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_image_store_list(g_store, &recs, &n, NULL), 0);
        ck_assert_int_eq(n, 2);
        ck_assert_ptr_null(recs[0].names[0]);
        ck_assert_ptr_null(recs[0].config);
        pea_image_records_free(recs, n);
        img_done(&first);
        img_done(&other);
        layer_done(&l);
}

END_TEST

static char **names_of(const char *id)
{
        _cleanup_(pea_image_record_done) struct pea_image_record rec = {0};
        ck_assert_int_eq(pea_image_store_get(g_store, id, &rec, NULL), 0);
        return TAKE_PTR(rec.names);
}

START_TEST(test_tags)
{
        struct three t;
        three_init(&t);
        _cleanup_error_ struct pea_error *err = NULL;
        add_ok(g_store, &t.a, "docker.io/library/busybox:latest");
        add_ok(g_store, &t.b, "docker.io/library/busybox:latest"); /* a newer pull */
        _cleanup_strv_ char **na = names_of(t.a.id), **nb = names_of(t.b.id);
        ck_assert_ptr_null(na[0]); /* dangling: <none> */
        ck_assert_str_eq(nb[0], "docker.io/library/busybox:latest");
        lookup_is("busybox", t.b.id);
        ck_assert_int_eq(pea_image_store_tag(g_store, t.a.id, "localhost/old:1", NULL), 0);
        ck_assert_int_eq(pea_image_store_tag(g_store, "busybox", "localhost/new:2", NULL), 0);
        lookup_is("old:1", t.a.id);
        ck_assert_int_eq(pea_image_store_tag(g_store, "old:1", "localhost/new:2", NULL), 0);
        lookup_is("new:2", t.a.id);
        ck_assert_int_eq(pea_image_store_tag(g_store, "old:1", "old:3", &err), -EINVAL);
        pea_error_clear(&err);
        ck_assert_int_eq(pea_image_store_untag(g_store, "busybox", "localhost/new:2", &err),
                         -ENOENT);
        ck_assert_str_eq(err->msg, "localhost/new:2: tag not known");
        ck_assert_int_eq(pea_image_store_untag(g_store, t.a.id, "new:2", NULL), 0);
        strv_free(na);
        na = names_of(t.a.id);
        ck_assert_str_eq(na[0], "localhost/old:1");
        ck_assert_ptr_null(na[1]);
        three_done(&t);
}

END_TEST

START_TEST(test_remove_shared)
{
        struct three t;
        three_init(&t);
        _cleanup_error_ struct pea_error *err = NULL;
        add_ok(g_store, &t.a, "localhost/a:1");
        add_ok(g_store, &t.b, "localhost/b:1");
        ck_assert_int_eq(pea_image_store_tag(g_store, "a:1", "localhost/a:2", NULL), 0);
        struct pea_image_remove_report rep = {0};
        /* By one of several names: untagged only. */
        ck_assert_int_eq(pea_image_store_remove(g_store, "a:2", 0, &rep, NULL), 0);
        ck_assert(!rep.removed);
        ck_assert_str_eq(rep.untagged[0], "localhost/a:2");
        pea_image_remove_report_done(&rep);
        ck_assert_int_eq(pea_image_store_tag(g_store, "a:1", "localhost/a:2", NULL), 0);
        ck_assert_int_eq(pea_image_store_remove(g_store, t.a.id, 0, NULL, &err), -EBUSY);
        ck_assert_msg(strstr(err->msg, "by ID with more than one tag"), "%s", err->msg);
        pea_error_clear(&err);
        /* A container using it keeps it. */
        _cleanup_free_ char *cid = xasprintf("%064x", 7);
        struct pea_container_row c = {
                .id = cid, .name = (char *)"c", .image_id = t.a.id, .state = (char *)"created"};
        ck_assert_int_eq(pea_state_container_add(g_state, &c, NULL), 0);
        ck_assert_int_eq(
                pea_image_store_remove(g_store, t.a.id, PEA_IMAGE_REMOVE_FORCE, NULL, &err),
                -EBUSY);
        ck_assert_msg(strstr(err->msg, "image is in use by a container"), "%s", err->msg);
        ck_assert_int_eq(pea_state_container_remove(g_state, cid, NULL), 0);
        ck_assert_int_eq(
                pea_image_store_remove(g_store, t.a.id, PEA_IMAGE_REMOVE_FORCE, &rep, NULL), 0);
        ck_assert(rep.removed);
        ck_assert_int_eq(strv_length(rep.untagged), 2);
        ck_assert_int_eq(rep.layers_removed, 1);
        pea_image_remove_report_done(&rep);
        ck_assert(layer_dir(t.l0.chain) && !layer_dir(t.l1.chain) && layer_dir(t.l2.chain));
        ck_assert(!pea_image_store_has_blob(g_store, t.a.config_digest));
        ck_assert(!pea_image_store_has_blob(g_store, t.a.manifest_digest));
        ck_assert(pea_image_store_has_blob(g_store, t.b.manifest_digest));
        ck_assert_int_eq(count_sql("SELECT count(*) FROM layers"), 2);
        lookup_is("b:1", t.b.id);
        ck_assert_int_eq(pea_image_store_remove(g_store, "b:1", 0, &rep, NULL), 0);
        ck_assert_int_eq(rep.layers_removed, 2);
        pea_image_remove_report_done(&rep);
        ck_assert_int_eq(count_entries("layers", ""), 0); /* no dirs, no lock files */
        ck_assert_int_eq(count_entries("blobs/sha256", ""), 0);
        ck_assert_int_eq(count_sql("SELECT count(*) FROM layers"), 0);
        ck_assert_int_eq(pea_image_store_remove(g_store, "b:1", 0, NULL, NULL), -ENOENT);
        three_done(&t);
}

END_TEST

/* ---- crashes and repair -------------------------------------------------------------------- */

START_TEST(test_repair)
{
        struct three t;
        three_init(&t);
        add_ok(g_store, &t.a, "localhost/a:1");
        add_ok(g_store, &t.b, "localhost/b:1");
        ck_assert(!store_needs_repair(g_store));
        /* A row whose directory is lost takes the layers above it and their images. */
        _cleanup_free_ char *l1 = xasprintf("%s/layers/%s", g_graph, t.l1.chain + 7);
        ck_assert_int_eq(pea_rm_rf(l1, NULL), 0);
        /* A directory without a row (a crash between rename and insert). */
        struct layer lone;
        layer_file(&lone, "lone", "no image");
        ck_assert_int_eq(import_layer(g_store, &lone, NULL, false, NULL), 1);
        pea_image_store_unpin_all(g_store);
        _cleanup_free_ char *del =
                xasprintf("DELETE FROM layers WHERE chain_id = '%s'", lone.chain);
        ck_assert_int_eq(state_exec(g_state, del, NULL), 0);
        /* Temporary leftovers: a layer dir, a blob being written, blobs being deleted. */
        _cleanup_free_ char *tmp = xasprintf("%s/layers/.tmp-dead/diff", g_graph);
        ck_assert_int_eq(pea_mkdir_p(tmp, 0700, NULL), 0);
        _cleanup_free_ char *tb = xasprintf("%s/blobs/sha256/.tmp-dead", g_graph);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, tb, "x", 1, 0644, NULL), 0);
        _cleanup_free_ char *cb = xasprintf("%s/blobs/sha256/%s", g_graph, t.b.id);
        _cleanup_free_ char *cbd = xasprintf("%s/blobs/sha256/.tmp-del-%s", g_graph, t.b.id);
        ck_assert_int_eq(rename(cb, cbd), 0);
        _cleanup_free_ char *junk = xasprintf("%s/blobs/sha256/.tmp-del-%064d", g_graph, 1);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, junk, "x", 1, 0644, NULL), 0);
        ck_assert(store_needs_repair(g_store));

        store_reopen();
        ck_assert(!store_needs_repair(g_store));
        lookup_fails("a:1", ENOENT, "a:1: image not known"); /* no half image */
        ck_assert_int_eq(count_sql("SELECT count(*) FROM images"), 1);
        lookup_is("b:1", t.b.id);
        ck_assert(layer_dir(t.l0.chain) && layer_dir(t.l2.chain) && !layer_dir(lone.chain));
        ck_assert_int_eq(count_sql("SELECT count(*) FROM layers"), 2);
        ck_assert_int_eq(count_entries("layers", ""), 2 + 2); /* two dirs, their lock files */
        ck_assert(pea_path_exists(cb) && !pea_path_exists(cbd) && !pea_path_exists(junk));
        ck_assert(!pea_path_exists(tb));
        /* The lost image can be added again. */
        add_ok(g_store, &t.a, "localhost/a:1");
        lookup_is("a:1", t.a.id);
        layer_done(&lone);
        three_done(&t);
}

END_TEST

/* kill -9 in the middle of an unpack: the next open cleans up. */
START_TEST(test_kill_during_unpack)
{
        struct layer big;
        _cleanup_free_ char *data = xmalloc(200001);
        memset(data, 'z', 200000);
        data[200000] = '\0';
        const char *files[] = {"big", data, NULL};
        layer_init(&big, files, false);
        int ready[2];
        ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
        pid_t pid = fork_clean();
        if (pid == 0) {
                struct pea_state *st = NULL;
                struct pea_image_store *s = NULL;
                if (pea_state_open(g_db, &st, NULL) < 0
                    || pea_image_store_open(g_graph, st, &s, NULL) < 0)
                        _exit(1);
                struct memsrc m = {.p = big.blob.p, .len = big.blob.len, .block_fd = ready[1]};
                struct pea_layer_source src = {.read = mem_read, .userdata = &m};
                struct pea_image_layer_import imp = {
                        .diff_id = big.diff_id, .digest = big.digest, .keep_blob = true};
                (void)pea_image_store_layer_import(s, &imp, &src, NULL, NULL, NULL);
                _exit(2);
        }
        char c;
        ck_assert_int_eq(read(ready[0], &c, 1), 1);
        ck_assert_int_eq(count_entries("layers", ".tmp-"), 1);
        ck_assert_int_eq(count_entries("blobs/sha256", ".tmp-"), 1);
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFSIGNALED(status));
        store_reopen();
        ck_assert_int_eq(count_entries("layers", ""), 0);
        ck_assert_int_eq(count_entries("blobs/sha256", ""), 0);
        ck_assert_int_eq(count_sql("SELECT count(*) FROM layers"), 0);
        ck_assert_int_eq(import_layer(g_store, &big, NULL, true, NULL), 1);
        ck_assert(layer_dir(big.chain));
        close(ready[0]);
        close(ready[1]);
        layer_done(&big);
}

END_TEST

/* ---- several processes --------------------------------------------------------------------- */

/* Child: a private handle; an image of the shared l0, l1 and its own layer. */
static _noreturn_ void adder(unsigned i, int barrier)
{
        char c;
        if (read(barrier, &c, 1) < 0)
                _exit(3);
        struct pea_state *st = NULL;
        struct pea_image_store *s = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        if (pea_state_open(g_db, &st, &err) < 0
            || pea_image_store_open(g_graph, st, &s, &err) < 0) {
                fprintf(stderr, "adder %u: %s\n", i, err->msg);
                _exit(1);
        }
        struct layer l0, l1, own;
        layer_file(&l0, "base", "shared base");
        layer_file(&l1, "mid", "shared middle");
        _cleanup_free_ char *content = xasprintf("own layer %u", i);
        layer_file(&own, "own", content);
        struct layer *ls[] = {&l0, &l1, &own};
        struct img im;
        img_init(&im, ls, 3, content);
        _cleanup_free_ char *name = xasprintf("localhost/img%u:latest", i);
        if (add_img(s, &im, name, &err) < 0) {
                fprintf(stderr, "adder %u: %s\n", i, err->msg);
                _exit(1);
        }
        pea_image_store_close(s);
        pea_state_close(st);
        _exit(0);
}

START_TEST(test_concurrent_adds)
{
        int barrier[2];
        ck_assert_int_eq(pipe2(barrier, O_CLOEXEC), 0);
        pid_t pids[NPROC];
        g_store = pea_image_store_close(g_store);
        g_state = pea_state_close(g_state);
        for (unsigned i = 0; i < NPROC; i++) {
                pids[i] = fork();
                ck_assert_int_ge(pids[i], 0);
                if (pids[i] == 0) {
                        close(barrier[1]);
                        adder(i, barrier[0]);
                }
        }
        close(barrier[0]);
        close(barrier[1]); /* EOF releases them all at once */
        store_open();
        for (unsigned i = 0; i < NPROC; i++) {
                int status = 0;
                ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
                ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "adder %u failed", i);
        }
        ck_assert_int_eq(count_sql("SELECT count(*) FROM images"), NPROC);
        ck_assert_int_eq(count_sql("SELECT count(*) FROM layers"), NPROC + 2);
        ck_assert_int_eq(count_sql("SELECT count(*) FROM image_layers"), 3 * NPROC);
        ck_assert_int_eq(count_sql("SELECT count(DISTINCT chain_id) FROM image_layers "
                                   "WHERE idx < 2"),
                         2);
        ck_assert_int_eq(count_entries("layers", ".tmp-"), 0);
        ck_assert_int_eq(count_entries("layers", "") - count_entries("layers", "."),
                         2 * (NPROC + 2));
        store_reopen();
        ck_assert(!store_needs_repair(g_store));
        for (unsigned i = 0; i < NPROC; i++) {
                _cleanup_free_ char *name = xasprintf("img%u", i);
                _cleanup_strv_ char **chains = NULL;
                ck_assert_int_eq(pea_image_store_layers_of(g_store, name, &chains, NULL), 0);
                ck_assert_int_eq(strv_length(chains), 3);
                STRV_FOREACH(ch, chains)
                        ck_assert(layer_dir(*ch));
        }
}

END_TEST

/* rmi of a image sharing a layer with a pull in progress: the pull's layer stays. */
START_TEST(test_remove_during_add)
{
        struct three t;
        three_init(&t);
        add_ok(g_store, &t.a, "localhost/a:1");
        int pinned[2], go[2];
        ck_assert_int_eq(pipe2(pinned, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
        pid_t pid = fork_clean();
        if (pid == 0) {
                struct pea_state *st = NULL;
                struct pea_image_store *s = NULL;
                _cleanup_error_ struct pea_error *err = NULL;
                char c;
                if (pea_state_open(g_db, &st, &err) < 0
                    || pea_image_store_open(g_graph, st, &s, &err) < 0
                    || pea_image_store_layer_exists(s, t.l0.chain, &err) != 1
                    || write(pinned[1], "p", 1) != 1 || read(go[0], &c, 1) != 1)
                        _exit(1);
                if (add_img(s, &t.b, "localhost/b:1", &err) < 0) {
                        fprintf(stderr, "pull: %s\n", err->msg);
                        _exit(1);
                }
                _exit(0);
        }
        char c;
        ck_assert_int_eq(read(pinned[0], &c, 1), 1);
        struct pea_image_remove_report rep = {0};
        ck_assert_int_eq(pea_image_store_remove(g_store, "a:1", 0, &rep, NULL), 0);
        ck_assert_int_eq(rep.layers_removed, 1); /* l1 only: l0 is pinned */
        pea_image_remove_report_done(&rep);
        ck_assert(layer_dir(t.l0.chain) && !layer_dir(t.l1.chain));
        ck_assert_int_eq(write(go[1], "g", 1), 1);
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        lookup_is("b:1", t.b.id);
        _cleanup_strv_ char **chains = NULL;
        ck_assert_int_eq(pea_image_store_layers_of(g_store, "b:1", &chains, NULL), 0);
        ck_assert_str_eq(chains[0], t.l0.chain);
        ck_assert(layer_dir(chains[0]) && layer_dir(chains[1]));
        size_t n = 99;
        ck_assert_int_eq(pea_image_store_gc(g_store, &n, NULL), 0);
        ck_assert_int_eq(n, 0);
        /* Unpinned and unused, a layer goes at the next gc. */
        struct layer extra;
        layer_file(&extra, "extra", "unused");
        ck_assert_int_eq(import_layer(g_store, &extra, NULL, false, NULL), 1);
        ck_assert_int_eq(pea_image_store_gc(g_store, &n, NULL), 0);
        ck_assert_int_eq(n, 0); /* we pin it ourselves */
        pea_image_store_unpin_all(g_store);
        ck_assert_int_eq(pea_image_store_gc(g_store, &n, NULL), 0);
        ck_assert_int_eq(n, 1);
        ck_assert(!layer_dir(extra.chain));
        for (int i = 0; i < 2; i++) {
                close(pinned[i]);
                close(go[i]);
        }
        layer_done(&extra);
        three_done(&t);
}

END_TEST

static Suite *store_suite(void)
{
        Suite *su = suite_create("store");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_chain_id);
        tcase_add_test(tc, test_layer_commit);
        tcase_add_test(tc, test_import_checks);
        tcase_add_test(tc, test_blobs);
        tcase_add_test(tc, test_add_record);
        tcase_add_test(tc, test_lookup);
        tcase_add_test(tc, test_ambiguous_prefix);
        tcase_add_test(tc, test_tags);
        tcase_add_test(tc, test_remove_shared);
        tcase_add_test(tc, test_repair);
        tcase_add_test(tc, test_kill_during_unpack);
        tcase_add_test(tc, test_concurrent_adds);
        tcase_add_test(tc, test_remove_during_add);
        suite_add_tcase(su, tc);
        return su;
}

int main(void)
{
        SRunner *sr = srunner_create(store_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
