/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include "image/store.h"
#include "image/transfer-internal.h"
#include "image/transfer.h"
#include "layer/layer.h"
#include "state/state.h"

/*
 * push, save, load and import against a private store: tarballs written with
 * libarchive, archives read back with libarchive, and a registry in memory.
 */

static char *g_dir, *g_graph, *g_db;
static struct pea_state *g_state;
static struct pea_image_store *g_store;
static struct pea_layer_unpack_opts g_unpack;

static void setup(void)
{
        g_dir = xstrdup("/tmp/pea-test-transfer-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(g_dir));
        g_graph = xasprintf("%s/graph", g_dir);
        g_db = xasprintf("%s/state.db", g_dir);
        ck_assert_int_eq(pea_state_open(g_db, &g_state, NULL), 0);
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_image_store_open(g_graph, g_state, &g_store, &err);
        ck_assert_msg(r == 0, "opening store: %s", err ? err->msg : "?");
        g_unpack = (struct pea_layer_unpack_opts){.whiteout = PEA_WHITEOUT_OVERLAY,
                                                  .rootless_single_id = geteuid() != 0};
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

static char *path_in(const char *name)
{
        return xasprintf("%s/%s", g_dir, name);
}

#define ck_ok(r, err) ck_assert_msg((r) >= 0, "failed: %s", (err) ? (err)->msg : "?")

/* ---- tarballs and archives ----------------------------------------------------------------- */

/* Writes a rootfs tarball: a directory "etc/" and files name=content; gzip when asked. */
static void write_tar(const char *path, const char *const *files, bool gzip)
{
        struct archive *a = archive_write_new();
        ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        if (gzip)
                ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "etc/");
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
        archive_entry_free(e);
        for (size_t i = 0; files[i]; i += 2) {
                e = archive_entry_new();
                archive_entry_set_pathname(e, files[i]);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_mtime(e, 1600000000, 0);
                archive_entry_set_size(e, (la_int64_t)strlen(files[i + 1]));
                ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
                ck_assert_int_eq(archive_write_data(a, files[i + 1], strlen(files[i + 1])),
                                 (la_ssize_t)strlen(files[i + 1]));
                archive_entry_free(e);
        }
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

static char *file_digest(const char *path)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, path, 64 << 20, &data, &len, NULL), 0);
        char *d = NULL;
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, data, len, &d, NULL), 0);
        return d;
}

/* A member of a tar file (links not followed), or NULL. */
static char *tar_member(const char *path, const char *name, size_t *ret_len)
{
        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        ck_assert_int_eq(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
        struct archive_entry *e;
        char *out = NULL;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                if (!streq(archive_entry_pathname(e), name))
                        continue;
                size_t n = (size_t)archive_entry_size(e);
                out = xmalloc(n + 1);
                ck_assert_int_eq(archive_read_data(a, out, n), (la_ssize_t)n);
                out[n] = '\0';
                if (ret_len)
                        *ret_len = n;
                break;
        }
        archive_read_free(a);
        return out;
}

static json_t *tar_json(const char *path, const char *name)
{
        _cleanup_free_ char *s = tar_member(path, name, NULL);
        ck_assert_msg(s, "'%s' has no '%s'", path, name);
        json_t *j = json_loads(s, 0, NULL);
        ck_assert_ptr_nonnull(j);
        return j;
}

static size_t count_images(void)
{
        struct pea_image_record *v = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_image_store_list(g_store, &v, &n, NULL), 0);
        pea_image_records_free(v, n);
        return n;
}

static char *lookup_id(const char *name)
{
        _cleanup_(pea_image_record_done) struct pea_image_record rec = {0};
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_image_store_lookup(g_store, name, &rec, NULL, &err);
        ck_assert_msg(r == 0, "lookup '%s': %s", name, err ? err->msg : "?");
        return xstrdup(rec.id);
}

/* Imports a tarball of files (plain or gzip) with changes as ref; returns the ID. */
static char *import_files(const char *const *files, bool gzip, char *const *changes,
                          const char *ref)
{
        _cleanup_free_ char *tar = path_in(gzip ? "rootfs.tar.gz" : "rootfs.tar");
        write_tar(tar, files, gzip);
        _cleanup_close_ int fd = open(tar, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        struct pea_import_opts o = {.changes = changes,
                                    .message = "imported",
                                    .reference = ref,
                                    .created = "2024-05-06T07:08:09Z",
                                    .tmpdir = g_dir,
                                    .unpack = &g_unpack};
        _cleanup_error_ struct pea_error *err = NULL;
        char *id = NULL;
        int r = pea_image_import_fd(g_store, fd, &o, &id, &err);
        ck_ok(r, err);
        return id;
}

static const char *const files_a[] = {"etc/hello", "hello world\n", "bin/tool", "#!/bin/sh\n",
                                      NULL};
static const char *const files_b[] = {"etc/other", "another image\n", NULL};

static void save_ok(char *const *images, const char *path, enum pea_archive_format f)
{
        struct pea_save_opts so = {.format = f, .tmpdir = g_dir};
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_image_save(g_store, images, path, &so, &err);
        ck_ok(r, err);
}

static char **load_ok(const char *path)
{
        struct pea_load_opts lo = {.tmpdir = g_dir, .unpack = &g_unpack};
        _cleanup_error_ struct pea_error *err = NULL;
        char **loaded = NULL;
        int r = pea_image_load(g_store, path, &lo, &loaded, &err);
        ck_ok(r, err);
        return loaded;
}

static void remove_ok(const char *name)
{
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_image_store_remove(g_store, name, PEA_IMAGE_REMOVE_FORCE, NULL, &err);
        ck_ok(r, err);
}

/* ---- --change ------------------------------------------------------------------------------ */

START_TEST(test_changes)
{
        char *changes[] = {"CMD=[\"/bin/sh\",\"-c\",\"echo hi\"]",
                           "ENTRYPOINT /bin/tool --flag",
                           "ENV=A=1",
                           "ENV B \"two words\"",
                           "env A=3 C='x y'",
                           "EXPOSE 80 443/udp 1000-1002",
                           "LABEL a=b \"c d\"=e",
                           "VOLUME [\"/data\", \"/logs\"]",
                           "VOLUME /cache",
                           "USER 1000:1000",
                           "WORKDIR=/srv",
                           "STOPSIGNAL SIGINT",
                           NULL};
        _cleanup_json_ json_t *c = json_object();
        _cleanup_error_ struct pea_error *err = NULL;
        ck_ok(pea_image_config_apply_changes(c, changes, &err), err);
        _cleanup_free_ char *s = json_dumps(c, JSON_COMPACT);
        ck_assert_str_eq(
                s, "{\"User\":\"1000:1000\",\"ExposedPorts\":{\"80/tcp\":{},\"443/udp\":{},"
                   "\"1000-1002/tcp\":{}},\"Env\":[\"A=3\",\"B=two words\",\"C=x y\"],"
                   "\"Entrypoint\":[\"/bin/sh\",\"-c\",\"/bin/tool --flag\"],"
                   "\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"],"
                   "\"Volumes\":{\"/data\":{},\"/logs\":{},\"/cache\":{}},\"WorkingDir\":\"/srv\","
                   "\"Labels\":{\"a\":\"b\",\"c d\":\"e\"},\"StopSignal\":\"SIGINT\"}");
}

END_TEST

START_TEST(test_changes_invalid)
{
        static const char *const bad[] = {"FROM busybox", "EXPOSE http", "LABEL a=\"open", "ENV =x",
                                          "=x"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *changes[] = {(char *)bad[i], NULL};
                _cleanup_json_ json_t *c = json_object();
                _cleanup_error_ struct pea_error *err = NULL;
                ck_assert_int_eq(pea_image_config_apply_changes(c, changes, &err), -EINVAL);
                ck_assert_msg(startswith(err->msg, "invalid change '"), "message: %s", err->msg);
        }
}

END_TEST

/* ---- import -------------------------------------------------------------------------------- */

START_TEST(test_import)
{
        char *changes[] = {"CMD [\"/bin/tool\"]", "ENV FOO=bar", NULL};
        _cleanup_free_ char *id = import_files(files_a, false, changes, "imp");
        _cleanup_free_ char *found = lookup_id("localhost/imp:latest");
        ck_assert_str_eq(id, found);
        _cleanup_(pea_image_record_done) struct pea_image_record rec = {0};
        ck_assert_int_eq(pea_image_store_get(g_store, id, &rec, NULL), 0);
        _cleanup_image_config_ struct pea_image_config *cfg = NULL;
        ck_assert_int_eq(pea_image_config_parse(rec.config, rec.config_len, NULL, &cfg, NULL), 0);
        ck_assert_str_eq(cfg->os, "linux");
        ck_assert_str_eq(cfg->architecture, pea_host_arch());
        ck_assert_str_eq(cfg->created, "2024-05-06T07:08:09Z");
        ck_assert_str_eq(cfg->cmd[0], "/bin/tool");
        ck_assert_str_eq(cfg->env[0], "FOO=bar");
        ck_assert_int_eq(strv_length(cfg->diff_ids), 1);
        ck_assert_int_eq(cfg->n_history, 1);
        ck_assert_str_eq(cfg->history[0].comment, "imported");
        /* the diff_id is the tarball's digest, and the tarball is kept as the layer blob */
        _cleanup_free_ char *tar = path_in("rootfs.tar");
        _cleanup_free_ char *digest = file_digest(tar);
        ck_assert_str_eq(cfg->diff_ids[0], digest);
        ck_assert(pea_image_store_has_blob(g_store, digest));
        ck_assert_int_eq(rec.n_layers, 1);
        _cleanup_free_ char *diff = pea_image_store_layer_path(g_store, rec.layers[0].chain_id);
        _cleanup_free_ char *hello = xasprintf("%s/etc/hello", diff);
        _cleanup_free_ char *text = NULL;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, hello, 1024, &text, NULL, NULL), 0);
        ck_assert_str_eq(text, "hello world\n");
}

END_TEST

START_TEST(test_import_gzip_dangling)
{
        _cleanup_free_ char *id = import_files(files_b, true, NULL, NULL);
        _cleanup_(pea_image_record_done) struct pea_image_record rec = {0};
        ck_assert_int_eq(pea_image_store_get(g_store, id, &rec, NULL), 0);
        ck_assert_int_eq(strv_length(rec.names), 0);
        /* the gzip stream is the layer's blob: the manifest names it as gzip */
        _cleanup_free_ char *gz = path_in("rootfs.tar.gz");
        _cleanup_free_ char *digest = file_digest(gz);
        ck_assert_str_eq(rec.layers[0].digest, digest);
        _cleanup_free_ char *m = NULL;
        size_t len = 0;
        ck_assert_int_eq(pea_image_store_get_blob(g_store, rec.digest, &m, &len, NULL), 0);
        ck_assert_ptr_nonnull(strstr(m, "application/vnd.oci.image.layer.v1.tar+gzip"));
        ck_assert_ptr_nonnull(strstr(m, digest));
}

END_TEST

START_TEST(test_import_garbage)
{
        _cleanup_free_ char *p = path_in("garbage");
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, p, "not a tar\n", 10, 0644, NULL), 0);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        struct pea_import_opts o = {.tmpdir = g_dir, .unpack = &g_unpack, .reference = "bad"};
        _cleanup_error_ struct pea_error *err = NULL;
        char *id = NULL;
        ck_assert_int_lt(pea_image_import_fd(g_store, fd, &o, &id, &err), 0);
        ck_assert_ptr_null(id);
        ck_assert_ptr_nonnull(err);
        ck_assert_int_eq(count_images(), 0);
}

END_TEST

/* ---- save and load ------------------------------------------------------------------------- */

START_TEST(test_docker_archive_roundtrip)
{
        _cleanup_free_ char *id = import_files(files_a, false, NULL, "imp");
        _cleanup_free_ char *out = path_in("out.tar");
        char *images[] = {"imp", NULL};
        save_ok(images, out, PEA_ARCHIVE_DOCKER);

        _cleanup_json_ json_t *m = tar_json(out, "manifest.json");
        ck_assert_int_eq(json_array_size(m), 1);
        json_t *e = json_array_get(m, 0);
        _cleanup_free_ char *cname = xasprintf("%s.json", id);
        ck_assert_str_eq(json_string_value(json_object_get(e, "Config")), cname);
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(e, "RepoTags"), 0)),
                         "localhost/imp:latest");
        /* the layer is the plain tar: its sha256 is the diff_id */
        const char *lname = json_string_value(json_array_get(json_object_get(e, "Layers"), 0));
        size_t len = 0;
        _cleanup_free_ char *layer = tar_member(out, lname, &len);
        _cleanup_free_ char *ld = NULL;
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, layer, len, &ld, NULL), 0);
        _cleanup_free_ char *want = xasprintf("%s.tar", pea_digest_hex(ld));
        ck_assert_str_eq(lname, want);
        _cleanup_json_ json_t *repos = tar_json(out, "repositories");
        ck_assert_ptr_nonnull(json_object_get(json_object_get(repos, "localhost/imp"), "latest"));

        remove_ok("imp");
        ck_assert_int_eq(count_images(), 0);
        _cleanup_strv_ char **loaded = load_ok(out);
        ck_assert_int_eq(strv_length(loaded), 1);
        ck_assert_str_eq(loaded[0], "localhost/imp:latest");
        _cleanup_free_ char *again = lookup_id("imp");
        ck_assert_str_eq(again, id);
}

END_TEST

START_TEST(test_oci_archive_roundtrip)
{
        _cleanup_free_ char *id = import_files(files_a, true, NULL, "imp:v1");
        _cleanup_(pea_image_record_done) struct pea_image_record before = {0};
        ck_assert_int_eq(pea_image_store_get(g_store, id, &before, NULL), 0);
        _cleanup_free_ char *out = path_in("out.oci.tar");
        char *images[] = {"imp:v1", NULL};
        save_ok(images, out, PEA_ARCHIVE_OCI);

        _cleanup_json_ json_t *idx = tar_json(out, "index.json");
        json_t *d = json_array_get(json_object_get(idx, "manifests"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(d, "digest")), before.digest);
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "annotations"),
                                                           "org.opencontainers.image.ref.name")),
                         "localhost/imp:v1");
        _cleanup_json_ json_t *layout = tar_json(out, "oci-layout");
        ck_assert_str_eq(json_string_value(json_object_get(layout, "imageLayoutVersion")), "1.0.0");

        remove_ok(id);
        _cleanup_strv_ char **loaded = load_ok(out);
        ck_assert_str_eq(loaded[0], "localhost/imp:v1");
        _cleanup_(pea_image_record_done) struct pea_image_record after = {0};
        ck_assert_int_eq(pea_image_store_get(g_store, id, &after, NULL), 0);
        ck_assert_str_eq(after.digest, before.digest);
}

END_TEST

START_TEST(test_multi_image_archive)
{
        _cleanup_free_ char *a = import_files(files_a, false, NULL, "a");
        _cleanup_free_ char *b = import_files(files_b, false, NULL, "b");
        _cleanup_free_ char *c = import_files(files_a, false, (char *[]){"USER 7", NULL}, NULL);
        for (int f = PEA_ARCHIVE_DOCKER; f <= PEA_ARCHIVE_OCI; f++) {
                _cleanup_free_ char *out = path_in(f == PEA_ARCHIVE_DOCKER ? "m.tar" : "m.oci");
                char *images[] = {"a", "b", c, NULL};
                save_ok(images, out, (enum pea_archive_format)f);
                remove_ok(a);
                remove_ok(b);
                remove_ok(c);
                ck_assert_int_eq(count_images(), 0);
                _cleanup_strv_ char **loaded = load_ok(out);
                ck_assert_int_eq(strv_length(loaded), 3);
                ck_assert_str_eq(loaded[0], "localhost/a:latest");
                ck_assert_str_eq(loaded[1], "localhost/b:latest");
                _cleanup_free_ char *dangling = xasprintf("sha256:%s", c);
                ck_assert_str_eq(loaded[2], dangling);
                ck_assert_int_eq(count_images(), 3);
        }
}

END_TEST

START_TEST(test_load_truncated)
{
        _cleanup_free_ char *id = import_files(files_a, false, NULL, "imp");
        _cleanup_free_ char *out = path_in("full.tar");
        char *images[] = {"imp", NULL};
        save_ok(images, out, PEA_ARCHIVE_DOCKER);
        remove_ok("imp");
        struct stat st;
        ck_assert_int_eq(stat(out, &st), 0);
        ck_assert_int_eq(truncate(out, st.st_size / 3), 0);
        struct pea_load_opts lo = {.tmpdir = g_dir, .unpack = &g_unpack};
        _cleanup_error_ struct pea_error *err = NULL;
        char **loaded = NULL;
        ck_assert_int_lt(pea_image_load(g_store, out, &lo, &loaded, &err), 0);
        ck_assert_ptr_null(loaded);
        ck_assert_ptr_nonnull(err);
        ck_assert_int_eq(count_images(), 0);
}

END_TEST

START_TEST(test_load_from_pipe_gzip)
{
        _cleanup_free_ char *id = import_files(files_a, false, NULL, "imp");
        _cleanup_free_ char *out = path_in("p.tar");
        char *images[] = {"imp", NULL};
        save_ok(images, out, PEA_ARCHIVE_DOCKER);
        remove_ok("imp");
        _cleanup_free_ char *cmd = xasprintf("gzip -c %s", out);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        struct pea_load_opts lo = {.tmpdir = g_dir, .unpack = &g_unpack};
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_strv_ char **loaded = NULL;
        int r = pea_image_load_fd(g_store, fileno(p), &lo, &loaded, &err);
        ck_assert_int_eq(pclose(p), 0);
        ck_ok(r, err);
        _cleanup_free_ char *again = lookup_id("imp");
        ck_assert_str_eq(again, id);
}

END_TEST

static int count_dir(const char *path)
{
        _cleanup_closedir_ DIR *d = opendir(path);
        ck_assert_ptr_nonnull(d);
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
        return n;
}

START_TEST(test_save_failure_leaves_nothing)
{
        _cleanup_free_ char *id = import_files(files_a, false, NULL, "imp");
        _cleanup_free_ char *dir = path_in("outdir");
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        _cleanup_free_ char *out = xasprintf("%s/x.tar", dir);
        char *images[] = {"imp", "no-such-image", NULL};
        struct pea_save_opts so = {.format = PEA_ARCHIVE_DOCKER, .tmpdir = g_dir};
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_image_save(g_store, images, out, &so, &err), -ENOENT);
        ck_assert_int_eq(count_dir(dir), 0);
        pea_error_clear(&err);
        _cleanup_free_ char *nodir = path_in("missing/x.tar");
        ck_assert_int_eq(pea_image_save(g_store, images, nodir, &so, &err), -ENOENT);
        /* the -dir formats too */
        so.format = PEA_ARCHIVE_OCI_DIR;
        pea_error_clear(&err);
        _cleanup_free_ char *odir = xasprintf("%s/layout", dir);
        ck_assert_int_eq(pea_image_save(g_store, images + 1, odir, &so, &err), -ENOENT);
        ck_assert_int_eq(count_dir(dir), 0);
}

END_TEST

START_TEST(test_oci_dir)
{
        _cleanup_free_ char *id = import_files(files_a, false, NULL, "imp");
        _cleanup_free_ char *out = path_in("layout");
        char *images[] = {"imp", NULL};
        save_ok(images, out, PEA_ARCHIVE_OCI_DIR);
        _cleanup_free_ char *cfg = xasprintf("%s/blobs/sha256/%s", out, id);
        _cleanup_free_ char *d = file_digest(cfg);
        ck_assert_str_eq(pea_digest_hex(d), id);
        _cleanup_free_ char *idx = xasprintf("%s/index.json", out);
        ck_assert(pea_path_exists(idx));
}

END_TEST

/* ---- push ---------------------------------------------------------------------------------- */

struct fake_registry {
        char *digests[16];
        char *data[16];
        size_t len[16];
        size_t n;
        int uploads;
        char *manifest;
        size_t manifest_len;
        char *media_type;
};

static int fake_exists(void *u, const char *digest, struct pea_error **err _unused_)
{
        struct fake_registry *f = u;
        for (size_t i = 0; i < f->n; i++)
                if (streq(f->digests[i], digest))
                        return 1;
        return 0;
}

static int fake_put_blob(void *u, const struct pea_push_blob *b, struct pea_error **err _unused_)
{
        struct fake_registry *f = u;
        if (b->fd < 0 && !b->data)
                return 0; /* no mounts here */
        ck_assert_uint_lt(f->n, 16);
        char *buf = xmalloc((size_t)b->size + 1);
        if (b->fd >= 0)
                ck_assert_int_eq(pread(b->fd, buf, (size_t)b->size + 1, 0), b->size);
        else
                memcpy(buf, b->data, (size_t)b->size);
        _cleanup_free_ char *d = NULL;
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, buf, (size_t)b->size, &d, NULL), 0);
        ck_assert_str_eq(d, b->digest);
        f->digests[f->n] = xstrdup(b->digest);
        f->data[f->n] = buf;
        f->len[f->n++] = (size_t)b->size;
        f->uploads++;
        return 0;
}

static int fake_put_manifest(void *u, const char *mt, const void *data, size_t len,
                             struct pea_error **err _unused_)
{
        struct fake_registry *f = u;
        free(f->manifest);
        free(f->media_type);
        f->manifest = xstrndup(data, len);
        f->manifest_len = len;
        f->media_type = xstrdup(mt);
        return 0;
}

static void fake_done(struct fake_registry *f)
{
        for (size_t i = 0; i < f->n; i++) {
                free(f->digests[i]);
                free(f->data[i]);
        }
        free(f->manifest);
        free(f->media_type);
}

static char *push_ok(const char *image, struct fake_registry *f, int format)
{
        struct pea_push_target t = {.registry = "localhost:5000",
                                    .repository = "x/y",
                                    .blob_exists = fake_exists,
                                    .put_blob = fake_put_blob,
                                    .put_manifest = fake_put_manifest,
                                    .userdata = f};
        struct pea_push_opts o = {.format = format, .tmpdir = g_dir};
        _cleanup_error_ struct pea_error *err = NULL;
        char *digest = NULL;
        int r = pea_image_push(g_store, image, &t, &o, &digest, &err);
        ck_ok(r, err);
        return digest;
}

START_TEST(test_push_original)
{
        _cleanup_free_ char *id = import_files(files_a, true, NULL, "imp");
        _cleanup_(pea_image_record_done) struct pea_image_record rec = {0};
        ck_assert_int_eq(pea_image_store_get(g_store, id, &rec, NULL), 0);
        struct fake_registry f = {0};
        _cleanup_free_ char *digest = push_ok("imp", &f, -1);
        /* the stored manifest, byte for byte; layer and config uploaded */
        ck_assert_str_eq(digest, rec.digest);
        _cleanup_free_ char *stored = NULL;
        ck_assert_int_eq(pea_image_store_get_blob(g_store, rec.digest, &stored, NULL, NULL), 0);
        ck_assert_str_eq(f.manifest, stored);
        ck_assert_str_eq(f.media_type, PEA_MEDIA_OCI_MANIFEST);
        ck_assert_int_eq(f.uploads, 2);
        ck_assert_int_eq(fake_exists(&f, rec.layers[0].digest, NULL), 1);
        /* again: everything exists, nothing is uploaded */
        free(push_ok("imp", &f, -1));
        ck_assert_int_eq(f.uploads, 2);
        /* as v2s2: the same blobs, another manifest */
        _cleanup_free_ char *v2 = push_ok("imp", &f, PEA_MANIFEST_DOCKER_V2S2);
        ck_assert_str_ne(v2, rec.digest);
        ck_assert_str_eq(f.media_type, PEA_MEDIA_DOCKER_MANIFEST);
        ck_assert_ptr_nonnull(
                strstr(f.manifest, "application/vnd.docker.image.rootfs.diff.tar.gzip"));
        ck_assert_int_eq(f.uploads, 2);
        fake_done(&f);
}

END_TEST

START_TEST(test_push_after_docker_load)
{
        /* a docker-archive gives plain layers (and podman's manifest, "gzip" by diff_id):
         * push compresses them, the config and so the image ID stay */
        _cleanup_free_ char *id = import_files(files_a, false, NULL, "imp");
        _cleanup_free_ char *out = path_in("d.tar");
        char *images[] = {"imp", NULL};
        save_ok(images, out, PEA_ARCHIVE_DOCKER);
        remove_ok("imp");
        _cleanup_strv_ char **loaded = load_ok(out);
        struct fake_registry f = {0};
        _cleanup_free_ char *digest = push_ok("imp", &f, -1);
        ck_assert_int_eq(f.uploads, 2);
        _cleanup_manifest_ struct pea_manifest *m = NULL;
        ck_assert_int_eq(pea_manifest_parse(f.manifest, f.manifest_len, NULL, digest, &m, NULL), 0);
        ck_assert_int_eq(m->type, PEA_MANIFEST_DOCKER_V2S2);
        ck_assert_str_eq(pea_digest_hex(m->config.digest), id);
        ck_assert_int_eq(m->layers[0].compression, PEA_COMPRESSION_GZIP);
        for (size_t i = 0; i < f.n; i++)
                if (streq(f.digests[i], m->layers[0].digest))
                        ck_assert_int_eq(xfer_sniff(f.data[i], f.len[i]), PEA_COMPRESSION_GZIP);
        fake_done(&f);
}

END_TEST

static Suite *transfer_suite(void)
{
        Suite *su = suite_create("transfer");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_changes);
        tcase_add_test(tc, test_changes_invalid);
        tcase_add_test(tc, test_import);
        tcase_add_test(tc, test_import_gzip_dangling);
        tcase_add_test(tc, test_import_garbage);
        tcase_add_test(tc, test_docker_archive_roundtrip);
        tcase_add_test(tc, test_oci_archive_roundtrip);
        tcase_add_test(tc, test_multi_image_archive);
        tcase_add_test(tc, test_load_truncated);
        tcase_add_test(tc, test_load_from_pipe_gzip);
        tcase_add_test(tc, test_save_failure_leaves_nothing);
        tcase_add_test(tc, test_oci_dir);
        tcase_add_test(tc, test_push_original);
        tcase_add_test(tc, test_push_after_docker_load);
        suite_add_tcase(su, tc);
        return su;
}

int main(void)
{
        SRunner *sr = srunner_create(transfer_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
