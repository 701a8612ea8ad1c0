/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>

#include "base.h"
#include "layer/layer-internal.h"
#include "layer/layer.h"

/*
 * Layers are built here with libarchive's writer, in memory, entry by entry.
 * Every test that resolves paths runs twice (loop index 0: openat2, 1: the
 * fallback walk) and must give the same result.
 */

struct ent {
        char type; /* f file, d dir, l symlink, h hard link, p fifo, c char device */
        const char *path;
        unsigned mode;
        const char *data; /* contents, or link target */
        int uid, gid;
        long long mtime;
        const char *xname, *xval;
};

/* Table entries: path, mode (0: 0644 or 0755), contents or link target, more fields. */
#define E(t, p, m, d, ...)                                                      \
        {                                                                       \
                .type = (t), .path = (p), .mode = (m), .data = (d), __VA_ARGS__ \
        }
#define F(...) E('f', __VA_ARGS__)
#define D(...) E('d', __VA_ARGS__)
#define L(...) E('l', __VA_ARGS__)
#define H(...) E('h', __VA_ARGS__)
#define P(...) E('p', __VA_ARGS__)
#define C(...) E('c', __VA_ARGS__)

struct buf {
        unsigned char *p;
        size_t len, cap;
};

enum { TAR_NONE, TAR_GZIP, TAR_ZSTD };

static char *g_base; /* a private temporary directory */
static char *g_dest; /* g_base/dest: the layer directory */
static int g_destfd = -EBADF;
static bool g_no_openat2;

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

static void add_ent(struct archive *a, const struct ent *x)
{
        struct archive_entry *e = archive_entry_new();

        static const struct {
                char c;
                unsigned t;
        } types[] = {{'f', AE_IFREG}, {'h', AE_IFREG}, {'d', AE_IFDIR},
                     {'l', AE_IFLNK}, {'p', AE_IFIFO}, {'c', AE_IFCHR}};

        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (types[i].c == x->type)
                        archive_entry_set_filetype(e, types[i].t);
        archive_entry_set_pathname(e, x->path);
        archive_entry_set_perm(e, x->mode ? x->mode : (x->type == 'd' ? 0755 : 0644));
        archive_entry_set_uid(e, x->uid);
        archive_entry_set_gid(e, x->gid);
        archive_entry_set_mtime(e, x->mtime ? x->mtime : 1600000000, 0);
        size_t len = x->type == 'f' && x->data ? strlen(x->data) : 0;
        archive_entry_set_size(e, (la_int64_t)len);
        if (x->type == 'l')
                archive_entry_set_symlink(e, x->data);
        if (x->type == 'h')
                archive_entry_set_hardlink(e, x->data);
        if (x->type == 'c')
                archive_entry_set_rdev(e, makedev(1, 3));
        if (x->xname)
                archive_entry_xattr_add_entry(e, x->xname, x->xval, strlen(x->xval));
        ck_assert_int_ge(archive_write_header(a, e), ARCHIVE_WARN); /* UTF-8 in the C locale */
        if (len)
                ck_assert_int_eq(archive_write_data(a, x->data, len), (la_ssize_t)len);
        archive_entry_free(e);
}

static struct buf make_tar_n(const struct ent *ents, size_t n, int filter)
{
        struct buf b = {};
        struct archive *a = archive_write_new();
        ck_assert_int_eq(archive_write_set_format_pax(a), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_set_options(a, "xattrheader=SCHILY"), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
        if (filter == TAR_GZIP)
                ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        if (filter == TAR_ZSTD)
                ck_assert_int_eq(archive_write_add_filter_zstd(a), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_open(a, &b, NULL, buf_write, NULL), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++)
                add_ent(a, &ents[i]);
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        return b;
}

#define make_tar(ents, filter) make_tar_n(ents, ELEMENTSOF(ents), filter)

struct memsrc {
        const unsigned char *p;
        size_t len, off, chunk;
        int fail; /* -errno returned once the data is exhausted */
};

static ssize_t mem_read(void *u, void *buf, size_t len, struct pea_error **err)
{
        struct memsrc *m = u;
        size_t n = m->len - m->off;
        if (n == 0 && m->fail)
                return pea_error_set(err, -m->fail, "connection reset by registry");
        if (n > len)
                n = len;
        if (m->chunk && n > m->chunk)
                n = m->chunk;
        memcpy(buf, m->p + m->off, n);
        m->off += n;
        return (ssize_t)n;
}

static int unpack_opts(const struct buf *b, const struct pea_layer_unpack_opts *o,
                       struct pea_layer_stats *st, struct pea_error **err)
{
        struct memsrc m = {.p = b->p, .len = b->len, .chunk = 3000};
        struct pea_layer_source src = {.read = mem_read, .userdata = &m};
        return pea_layer_unpack(&src, g_destfd, o, st, err);
}

static void unpack_ok(const struct buf *b, enum pea_whiteout_mode mode, struct pea_layer_stats *st)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_layer_unpack_opts o = {.whiteout = mode, .no_openat2 = g_no_openat2};
        int r = unpack_opts(b, &o, st, &err);
        ck_assert_msg(r == 0, "unpack failed: %s", err ? err->msg : "?");
}

static void unpack_fails(const struct buf *b, int code, const char *msg)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_layer_unpack_opts o = {.no_openat2 = g_no_openat2};
        int r = unpack_opts(b, &o, NULL, &err);
        ck_assert_int_eq(r, -code);
        ck_assert_ptr_nonnull(err);
        if (msg)
                ck_assert_msg(strstr(err->msg, msg), "'%s' lacks '%s'", err->msg, msg);
}

static void setup(void)
{
        g_base = xstrdup("/tmp/pea-test-layer-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(g_base));
        g_dest = xasprintf("%s/dest", g_base);
        ck_assert_int_eq(mkdir(g_dest, 0755), 0);
        g_destfd = open(g_dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(g_destfd, 0);
}

static void teardown(void)
{
        closep(&g_destfd);
        (void)pea_rm_rf(g_base, NULL);
        free(g_base);
        free(g_dest);
        g_base = g_dest = NULL;
}

static struct stat lstat_at(const char *rel)
{
        struct stat st;
        ck_assert_msg(fstatat(g_destfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0, "'%s' is missing",
                      rel);
        return st;
}

static bool exists_at(int dirfd, const char *rel)
{
        struct stat st;
        return fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static char *read_at(int dirfd, const char *rel)
{
        char *s = NULL;
        ck_assert_int_eq(pea_read_file_at(dirfd, rel, 1 << 20, &s, NULL, NULL), 0);
        return s;
}

static void assert_link(const char *rel, const char *target)
{
        char t[PATH_MAX];
        ssize_t n = readlinkat(g_destfd, rel, t, sizeof(t) - 1);
        ck_assert_int_ge(n, 0);
        t[n] = '\0';
        ck_assert_str_eq(t, target);
}

/* Only g_dest may exist below g_base, plus what the test put there. */
static void assert_base_holds(const char *other)
{
        _cleanup_closedir_ DIR *d = opendir(g_base);
        ck_assert_ptr_nonnull(d);
        for (struct dirent *de; (de = readdir(d));)
                ck_assert_msg(streq(de->d_name, ".") || streq(de->d_name, "..")
                                      || streq(de->d_name, "dest") || streq_ptr(de->d_name, other),
                              "'%s' appeared outside the layer directory", de->d_name);
}

#define LOOP_SETUP() g_no_openat2 = (_i == 1)

START_TEST(path_normalize)
{
        static const struct {
                const char *in, *out;
        } ok[] = {{"./a/b", "a/b"}, {"/a//b/", "a/b"}, {"a/./b", "a/b"},      {"./", ""},
                  {".", ""},        {"//", ""},        {"a/.../b", "a/.../b"}};

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_free_ char *p = NULL;
                ck_assert_int_eq(layer_path_normalize(ok[i].in, &p, NULL), 0);
                ck_assert_str_eq(p, ok[i].out);
        }
        static const char *const bad[] = {"../x", "/abs/../../x", "a/..", "a/../b", ".."};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_error_ struct pea_error *err = NULL;
                char *p = NULL;
                ck_assert_int_eq(layer_path_normalize(bad[i], &p, &err), -EBADMSG);
                ck_assert_ptr_null(p);
                _cleanup_free_ char *m =
                        xasprintf("layer entry '%s' escapes the layer directory", bad[i]);
                ck_assert_str_eq(err->msg, m);
        }
        _cleanup_free_ char *longname = xasprintf("%0*d", PEA_LAYER_MAX_PATH + 1, 0);
        char *p = NULL;
        ck_assert_int_eq(layer_path_normalize(longname, &p, NULL), -EBADMSG);
}

END_TEST

START_TEST(no_openat2_env)
{
        struct layer_root r;
        const char *old = getenv("PEA_NO_OPENAT2");
        _cleanup_free_ char *saved = old ? xstrdup(old) : NULL;
        ck_assert_int_eq(setenv("PEA_NO_OPENAT2", "1", 1), 0);
        layer_root_init(&r, g_destfd, false);
        ck_assert(!r.use_openat2);
        ck_assert_int_eq(unsetenv("PEA_NO_OPENAT2"), 0);
        layer_root_init(&r, g_destfd, false);
        ck_assert(r.use_openat2);
        layer_root_init(&r, g_destfd, true);
        ck_assert(!r.use_openat2);
        if (saved)
                ck_assert_int_eq(setenv("PEA_NO_OPENAT2", saved, 1), 0);
}

END_TEST

static const struct ent basic_ents[] = {
        D("./etc/", 0755, NULL, .mtime = 1500000000),
        F("etc/passwd", 0644, "root:x:0:0::/root:/bin/sh\n"),
        F("etc/shadow", 0640, "secret", .uid = 0, .gid = 42),
        F("usr/bin/su", 04755, "ELF", .uid = 0, .gid = 0),
        F("usr/bin/mine", 06755, "ELF", .uid = 1000, .gid = 1000),
        D("home/u", 0700, NULL, .uid = 1000, .gid = 1000),
        D("srv", 02775, NULL, .uid = 0, .gid = 100),
        D("tmp", 01777, NULL),
        F("empty", 0600, NULL),
        F("old", 0644, "x", .mtime = 1234567890),
        F("unicode-ünïcødé-名前.txt", 0644, "u"),
        F("long/name-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.txt",
          0644, "long"),
        F("name with spaces", 0644, "s"),
        F("etc/x/y/z/deep", 0644, "implicit parents")};

START_TEST(basic_entries)
{
        LOOP_SETUP();
        struct buf b = make_tar(basic_ents, TAR_GZIP);
        struct pea_layer_stats st = {};
        unpack_ok(&b, PEA_WHITEOUT_OVERLAY, &st);
        free(b.p);
        ck_assert_uint_eq(st.entries, ELEMENTSOF(basic_ents));
        ck_assert(strlen(st.diff_id) == 71 && startswith(st.diff_id, "sha256:"));
        /* Every entry as written: type, contents, mode (suid kept after chown), owner, mtime. */
        for (size_t i = 0; i < ELEMENTSOF(basic_ents); i++) {
                const struct ent *x = &basic_ents[i];
                struct stat s = lstat_at(x->path);
                ck_assert(x->type == 'd' ? S_ISDIR(s.st_mode) : S_ISREG(s.st_mode));
                ck_assert_msg((s.st_mode & 07777) == x->mode, "%s: %o", x->path, s.st_mode);
                ck_assert(s.st_uid == (uid_t)x->uid && s.st_gid == (gid_t)x->gid);
                /* etc got children after its entry: its mtime was restored at the end. */
                ck_assert_int_eq(s.st_mtim.tv_sec, x->mtime ? x->mtime : 1600000000);
                if (x->type != 'f')
                        continue;
                _cleanup_free_ char *c = read_at(g_destfd, x->path);
                ck_assert_str_eq(c, x->data ? x->data : "");
        }
        ck_assert_uint_eq(lstat_at("etc/x/y").st_mode & 07777, 0755);
}

END_TEST

static const struct ent link_ents[] = {F("a/src", 0644, "shared"),
                                       H("a/dst", 0, "a/src"),
                                       H("b/third", 0, "./a/src"),
                                       L("abs", 0, "/etc/passwd"),
                                       L("rel", 0, "a/src"),
                                       L("dangling", 0, "/nonexistent/target"),
                                       L("owned", 0, "a/src", .uid = 1000, .gid = 1000),
                                       P("fifo", 0640, NULL),
                                       C("null", 0666, NULL),
                                       D("dir-to-file", 0, NULL),
                                       F("dir-to-file/inner", 0644, "x"),
                                       F("dir-to-file", 0644, "now a file"),
                                       F("file-to-link", 0644, "x"),
                                       L("file-to-link", 0, "a/src"),
                                       L("link-to-dir", 0, "a"),
                                       D("link-to-dir", 0711, NULL)};

START_TEST(links_and_replacements)
{
        LOOP_SETUP();
        struct buf b = make_tar(link_ents, TAR_ZSTD);
        unpack_ok(&b, PEA_WHITEOUT_OVERLAY, NULL);
        free(b.p);
        struct stat s1 = lstat_at("a/src"), s2 = lstat_at("a/dst"), s3 = lstat_at("b/third");
        ck_assert(s1.st_ino == s2.st_ino && s1.st_ino == s3.st_ino && s1.st_nlink == 3);
        assert_link("abs", "/etc/passwd");
        assert_link("rel", "a/src");
        assert_link("dangling", "/nonexistent/target");
        struct stat s = lstat_at("owned");
        ck_assert(S_ISLNK(s.st_mode) && s.st_uid == 1000);
        s = lstat_at("fifo");
        ck_assert(S_ISFIFO(s.st_mode) && (s.st_mode & 07777) == 0640);
        s = lstat_at("null");
        ck_assert(getuid() != 0 || (S_ISCHR(s.st_mode) && s.st_rdev == makedev(1, 3)));
        ck_assert(S_ISREG(lstat_at("dir-to-file").st_mode));
        _cleanup_free_ char *c = read_at(g_destfd, "dir-to-file");
        ck_assert_str_eq(c, "now a file");
        ck_assert(S_ISLNK(lstat_at("file-to-link").st_mode));
        s = lstat_at("link-to-dir");
        ck_assert(S_ISDIR(s.st_mode) && (s.st_mode & 07777) == 0711);
        ck_assert(S_ISDIR(lstat_at("a").st_mode)); /* the old link's target is untouched */
}

END_TEST

static const struct ent wh_ents[] = {D("d", 0750, NULL),
                                     F("d/.wh..wh..opq", 0644, NULL),
                                     F("d/new", 0644, "new"),
                                     F(".wh.gone", 0644, NULL),
                                     F("x/.wh.also-gone", 0644, NULL),
                                     F("x/.wh..wh.plnk", 0644, NULL)};

START_TEST(whiteout_overlay)
{
        LOOP_SETUP();
        if (getuid() != 0) {
                fprintf(stderr, "SKIP: overlay whiteouts need root\n");
                return;
        }
        struct buf b = make_tar(wh_ents, TAR_NONE);
        struct pea_layer_stats st = {};
        unpack_ok(&b, PEA_WHITEOUT_OVERLAY, &st);
        free(b.p);
        struct stat s = lstat_at("gone");
        ck_assert(S_ISCHR(s.st_mode) && s.st_rdev == makedev(0, 0));
        ck_assert(S_ISCHR(lstat_at("x/also-gone").st_mode));
        ck_assert(!exists_at(g_destfd, ".wh.gone") && !exists_at(g_destfd, "d/.wh..wh..opq"));
        ck_assert(!exists_at(g_destfd, "x/.wh..wh.plnk"));
        char v[8] = "";
        _cleanup_free_ char *d = xasprintf("%s/d", g_dest);
        ck_assert(getxattr(d, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y');
        ck_assert_uint_eq(lstat_at("d").st_mode & 07777, 0750);
        ck_assert(st.whiteouts == 4 && st.whiteout_fallbacks == 0);
}

END_TEST

START_TEST(whiteout_overlay_userxattr)
{
        struct buf b = make_tar(wh_ents, TAR_NONE);
        struct pea_layer_unpack_opts o = {
                .whiteout = PEA_WHITEOUT_OVERLAY, .userxattr = true, .rootless_single_id = true};
        struct pea_layer_stats st = {};
        ck_assert_int_eq(unpack_opts(&b, &o, &st, NULL), 0);
        free(b.p);
        char v[8] = "";
        _cleanup_free_ char *d = xasprintf("%s/d", g_dest);
        if (st.whiteout_fallbacks == 0) {
                ck_assert_int_eq(getxattr(d, "user.overlay.opaque", v, sizeof(v)), 1);
                ck_assert(S_ISCHR(lstat_at("gone").st_mode));
        } else {
                ck_assert(exists_at(g_destfd, ".wh.gone") || exists_at(g_destfd, "d/.wh..wh..opq"));
        }
        ck_assert_int_lt(getxattr(d, "trusted.overlay.opaque", v, sizeof(v)), 0);
}

END_TEST

START_TEST(whiteout_aufs)
{
        LOOP_SETUP();
        struct buf b = make_tar(wh_ents, TAR_GZIP);
        unpack_ok(&b, PEA_WHITEOUT_AUFS, NULL);
        free(b.p);
        struct stat s = lstat_at(".wh.gone");
        ck_assert(S_ISREG(s.st_mode) && s.st_size == 0 && !exists_at(g_destfd, "gone"));
        ck_assert(S_ISREG(lstat_at("d/.wh..wh..opq").st_mode));
        ck_assert(S_ISREG(lstat_at("x/.wh.also-gone").st_mode));
        ck_assert(!exists_at(g_destfd, "x/.wh..wh.plnk")); /* aufs metadata is dropped */
}

END_TEST

static const struct ent lower_ents[] = {F("gone", 0644, "g"),    D("tree", 0, NULL),
                                        F("tree/a", 0644, "a"),  L("tree/link", 0, "/"),
                                        D("d", 0, NULL),         F("d/old", 0644, "old"),
                                        D("d/sub", 0, NULL),     F("d/sub/old2", 0644, "old"),
                                        F("keep", 0644, "keep"), D("o2", 0, NULL),
                                        F("o2/old", 0644, "old")};

static const struct ent upper_ents[] = {F(".wh.gone", 0644, NULL),
                                        F(".wh.tree", 0644, NULL),
                                        F(".wh.never-existed", 0644, NULL),
                                        F("nodir/.wh.x", 0644, NULL),
                                        D("d", 0750, NULL),
                                        F("d/.wh..wh..opq", 0644, NULL),
                                        F("d/new", 0644, "new"),
                                        F("o2/written-before-marker", 0644, "w"),
                                        F("o2/.wh..wh..opq", 0644, NULL)};

START_TEST(whiteout_apply)
{
        LOOP_SETUP();
        struct buf b1 = make_tar(lower_ents, TAR_GZIP), b2 = make_tar(upper_ents, TAR_GZIP);
        unpack_ok(&b1, PEA_WHITEOUT_APPLY, NULL);
        unpack_ok(&b2, PEA_WHITEOUT_APPLY, NULL);
        free(b1.p);
        free(b2.p);
        ck_assert(!exists_at(g_destfd, "gone"));
        ck_assert(!exists_at(g_destfd, "tree"));
        ck_assert(!exists_at(g_destfd, ".wh.gone"));
        ck_assert(!exists_at(g_destfd, "nodir"));
        ck_assert(exists_at(g_destfd, "keep"));
        ck_assert(!exists_at(g_destfd, "d/old"));
        ck_assert(!exists_at(g_destfd, "d/sub"));
        ck_assert(!exists_at(g_destfd, "d/.wh..wh..opq"));
        ck_assert(exists_at(g_destfd, "d/new"));
        ck_assert_uint_eq(lstat_at("d").st_mode & 07777, 0750);
        ck_assert(!exists_at(g_destfd, "o2/old"));
        ck_assert(exists_at(g_destfd, "o2/written-before-marker"));
}

END_TEST

START_TEST(escapes_refused)
{
        LOOP_SETUP();
        static const struct ent up[] = {F("../escape", 0644, "x")};
        static const struct ent abs[] = {F("/abs/../../x", 0644, "x")};
        static const struct ent hl[] = {H("passwd", 0, "../../etc/passwd")};
        static const struct ent wh[] = {F("a/.wh...", 0644, NULL)};
        struct buf b = make_tar(up, TAR_NONE);
        unpack_fails(&b, EBADMSG, "layer entry '../escape' escapes the layer directory");
        free(b.p);
        b = make_tar(abs, TAR_GZIP);
        unpack_fails(&b, EBADMSG, "layer entry '/abs/../../x' escapes the layer directory");
        free(b.p);
        b = make_tar(hl, TAR_NONE);
        unpack_fails(&b, EBADMSG,
                     "layer entry 'passwd' links to '../../etc/passwd', which escapes the layer "
                     "directory");
        free(b.p);
        b = make_tar(wh, TAR_NONE);
        unpack_fails(&b, EBADMSG, "not a valid whiteout");
        free(b.p);
        assert_base_holds(NULL);
        ck_assert(!exists_at(g_destfd, "passwd"));
}

END_TEST

/* Each entry that would be written through a symlink leading out of the layer is refused. */
START_TEST(symlink_escapes_refused)
{
        LOOP_SETUP();
        _cleanup_free_ char *outside = xasprintf("%s/outside", g_base);
        _cleanup_free_ char *victim = xasprintf("%s/victim", outside);
        ck_assert_int_eq(mkdir(outside, 0755), 0);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, victim, "orig", 4, 0644, NULL), 0);
        const struct ent abs[] = {L("evil", 0, outside), F("evil/file", 0644, "pwned")};
        static const struct ent up[] = {L("up", 0, "../../../.."), F("up/top", 0644, "top")};
        static const struct ent chain[] = {L("chain1", 0, "chain2/x"), L("chain2", 0, "../../up"),
                                           F("chain1/y", 0644, "y")};
        static const struct ent rootlink[] = {L("r", 0, "/"), F("r/etc/x", 0644, "x")};
        const struct ent *cases[] = {abs, up, chain, rootlink};
        const size_t sizes[] = {2, 2, 3, 2};
        const char *bad[] = {"evil/file", "up/top", "chain1/y", "r/etc/x"};
        for (size_t i = 0; i < 4; i++) {
                struct buf b = make_tar_n(cases[i], sizes[i], TAR_NONE);
                _cleanup_free_ char *msg = xasprintf("layer entry '%s'", bad[i]);
                unpack_fails(&b, EBADMSG, msg);
                free(b.p);
        }
        _cleanup_free_ char *v = read_at(AT_FDCWD, victim);
        ck_assert_str_eq(v, "orig");
        _cleanup_free_ char *o = xasprintf("%s/file", outside);
        ck_assert(!exists_at(AT_FDCWD, o));
        assert_base_holds("outside");
        /* Replacing a symlink is not writing through it; a link inside the layer is followed. */
        const struct ent ok[] = {L("victim-link", 0, victim), F("victim-link", 0644, "replaced"),
                                 D("usr/lib", 0755, NULL),    L("lib", 0, "usr/lib"),
                                 F("lib/x", 0644, "x"),       L("sub/up", 0, "../usr"),
                                 F("sub/up/y", 0644, "y")};
        struct buf b = make_tar(ok, TAR_NONE);
        unpack_ok(&b, PEA_WHITEOUT_OVERLAY, NULL);
        free(b.p);
        ck_assert(S_ISREG(lstat_at("victim-link").st_mode));
        ck_assert(S_ISREG(lstat_at("usr/lib/x").st_mode));
        ck_assert(S_ISREG(lstat_at("usr/y").st_mode));
        v = (free(v), read_at(AT_FDCWD, victim));
        ck_assert_str_eq(v, "orig");
        static const struct ent hl[] = {L("root", 0, "/"), H("h", 0, "root/top")};
        b = make_tar(hl, TAR_NONE);
        unpack_fails(&b, EBADMSG,
                     "layer entry 'h' links to 'root/top': layer path 'root' crosses a symlink");
        free(b.p);
}

END_TEST

/* A symlink of a lower layer is no way out either (whiteouts applied, as vfs does). */
START_TEST(symlink_from_lower_layer)
{
        LOOP_SETUP();
        _cleanup_free_ char *outside = xasprintf("%s/etc", g_base);
        ck_assert_int_eq(mkdir(outside, 0755), 0);
        const struct ent l1[] = {L("evil", 0, outside)};
        static const struct ent l2[] = {F("evil/passwd", 0644, "root::0:0::/:/bin/sh\n")};
        struct buf b1 = make_tar(l1, TAR_GZIP), b2 = make_tar(l2, TAR_GZIP);
        unpack_ok(&b1, PEA_WHITEOUT_APPLY, NULL);
        unpack_fails(&b2, EBADMSG, "leads out of the layer directory through a symlink");
        free(b1.p);
        free(b2.p);
        _cleanup_free_ char *o = xasprintf("%s/passwd", outside);
        ck_assert(!exists_at(AT_FDCWD, o));
        assert_base_holds("etc");
}

END_TEST

START_TEST(malformed_streams)
{
        LOOP_SETUP();
        static const struct ent ents[] = {F("a", 0644, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                                          F("b", 0644, "b")};
        struct buf b = make_tar(ents, TAR_GZIP);
        struct buf t = {.p = b.p, .len = b.len / 2};
        unpack_fails(&t, EBADMSG, "reading layer: truncated gzip input");
        free(b.p);
        b = make_tar(ents, TAR_NONE);
        size_t last = 0; /* the last ustar header: break its checksum */
        for (size_t off = 0; off + 512 <= b.len; off += 512)
                if (memcmp(b.p + off + 257, "ustar", 5) == 0)
                        last = off;
        ck_assert_uint_gt(last, 0);
        b.p[last + 148] ^= 0x11;
        unpack_fails(&b, EBADMSG, "reading layer: Damaged tar archive");
        ck_assert(exists_at(g_destfd, "a"));
        free(b.p);
        unsigned char garbage[4096];
        unsigned s = 12345;
        for (size_t i = 0; i < sizeof(garbage); i++)
                garbage[i] = (unsigned char)((s = s * 1103515245 + 12345) >> 16);
        t = (struct buf){.p = garbage, .len = sizeof(garbage)};
        unpack_fails(&t, EBADMSG, "reading layer: Unrecognized archive format");
        t.len = 0;
        unpack_fails(&t, EBADMSG, "empty");
        garbage[0] = 0x1f;
        garbage[1] = 0x8b;
        t.len = sizeof(garbage);
        unpack_fails(&t, EBADMSG, "reading layer");
        /* The source's own error comes through, wrapped. */
        b = make_tar(ents, TAR_GZIP);
        struct memsrc m = {.p = b.p, .len = b.len - 10, .fail = -ECONNRESET};
        struct pea_layer_source src = {.read = mem_read, .userdata = &m};
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_layer_unpack(&src, g_destfd, NULL, NULL, &err), -ECONNRESET);
        ck_assert_str_eq(err->msg, "reading layer: connection reset by registry");
        free(b.p);
}

END_TEST

static void sha256_hex(const void *p, size_t len, char out[72])
{
        unsigned char d[32];
        ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, p, len, d), 0);
        memcpy(out, "sha256:", 7);
        for (int i = 0; i < 32; i++)
                snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
}

START_TEST(digests_and_compression)
{
        struct buf raw = make_tar(basic_ents, TAR_NONE);
        char want[72];
        sha256_hex(raw.p, raw.len, want);
        for (int f = TAR_NONE; f <= TAR_ZSTD; f++) {
                struct buf b = make_tar(basic_ents, f);
                struct pea_layer_stats st = {};
                teardown();
                setup();
                unpack_ok(&b, PEA_WHITEOUT_OVERLAY, &st);
                char comp[72];
                sha256_hex(b.p, b.len, comp);
                ck_assert_str_eq(st.diff_id, want);
                ck_assert_str_eq(st.digest, comp);
                ck_assert_uint_eq(st.uncompressed_size, raw.len);
                ck_assert_uint_eq(st.compressed_size, b.len);
                free(b.p);
        }
        free(raw.p);
}

END_TEST

START_TEST(xattrs_and_limits)
{
        LOOP_SETUP();
        _cleanup_free_ char *big = xmalloc(PEA_LAYER_MAX_XATTR + 2);
        memset(big, 'v', PEA_LAYER_MAX_XATTR + 1);
        big[PEA_LAYER_MAX_XATTR + 1] = '\0';
        const struct ent ents[] = {
                F("u", 0644, "u", .xname = "user.note", .xval = "hello"),
                D("o", 0755, NULL, .xname = "trusted.overlay.opaque", .xval = "y"),
                F("big", 0644, "b", .xname = "user.big", .xval = big),
                F("sel", 0644, "s", .xname = "security.selinux", .xval = "x")};
        struct buf b = make_tar(ents, TAR_GZIP);
        struct pea_layer_stats st = {};
        unpack_ok(&b, PEA_WHITEOUT_OVERLAY, &st);
        free(b.p);
        char v[16] = "";
        _cleanup_free_ char *u = xasprintf("%s/u", g_dest), *o = xasprintf("%s/o", g_dest);
        ck_assert_int_eq(getxattr(u, "user.note", v, sizeof(v)), 5);
        ck_assert_int_lt(getxattr(o, "trusted.overlay.opaque", v, sizeof(v)), 0);
        ck_assert_uint_eq(st.skipped_xattrs, 3);

        b = make_tar(ents, TAR_NONE);
        struct pea_layer_unpack_opts opt = {.max_entries = 3, .no_openat2 = g_no_openat2};
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(unpack_opts(&b, &opt, NULL, &err), -EBADMSG);
        ck_assert_str_eq(err->msg, "layer has more than 3 entries");
        pea_error_clear(&err);
        opt = (struct pea_layer_unpack_opts){.max_size = 1024};
        ck_assert_int_eq(unpack_opts(&b, &opt, NULL, &err), -EBADMSG);
        ck_assert_msg(strstr(err->msg, "larger than 1024 bytes"), "%s", err->msg);
        free(b.p);
}

END_TEST

START_TEST(fallback_walk_beneath)
{
        /* The fallback on its own: symlinks are followed while they stay beneath the layer. */
        struct layer_root r;
        layer_root_init(&r, g_destfd, true);
        ck_assert_int_eq(mkdirat(g_destfd, "real", 0755), 0);
        ck_assert_int_eq(mkdirat(g_destfd, "sub", 0755), 0);
        ck_assert_int_eq(symlinkat("/real", g_destfd, "abs"), 0);
        ck_assert_int_eq(symlinkat("../../../real/../../real", g_destfd, "rel"), 0);
        ck_assert_int_eq(symlinkat("../real", g_destfd, "sub/up"), 0);
        ck_assert_int_eq(symlinkat("sub/up", g_destfd, "chain"), 0);
        ck_assert_int_eq(symlinkat("loop", g_destfd, "loop"), 0);
        const char *paths[] = {"real", "sub/up", "chain", "sub/../real", "chain/../sub/up"};
        struct stat want = lstat_at("real");
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                _cleanup_close_ int fd = layer_open_dir(&r, paths[i], 0, NULL);
                ck_assert_msg(fd >= 0, "%s: %d", paths[i], fd);
                struct stat st;
                ck_assert_int_eq(fstat(fd, &st), 0);
                ck_assert_uint_eq(st.st_ino, want.st_ino);
        }
        const char *out[] = {"abs", "rel", "abs/new", "sub/up/../.."};
        for (size_t i = 0; i < ELEMENTSOF(out); i++) {
                _cleanup_error_ struct pea_error *err = NULL;
                ck_assert_int_eq(layer_open_dir(&r, out[i], LAYER_RESOLVE_CREATE, &err), -EBADMSG);
                ck_assert_msg(strstr(err->msg, "leads out of the layer directory"), "%s", err->msg);
        }
        ck_assert_int_eq(layer_open_dir(&r, "loop", 0, NULL), -ELOOP);
        ck_assert_int_eq(layer_open_dir(&r, "chain", LAYER_RESOLVE_NO_SYMLINKS, NULL), -EBADMSG);
        _cleanup_close_ int fd = layer_open_dir(&r, "chain/new/dir", LAYER_RESOLVE_CREATE, NULL);
        ck_assert_int_ge(fd, 0);
        ck_assert(S_ISDIR(lstat_at("real/new/dir").st_mode));
        ck_assert(!exists_at(g_destfd, "new"));
}

END_TEST

static int buf_sink(void *u, const void *p, size_t len, struct pea_error **err _unused_)
{
        (void)buf_write(NULL, u, p, len);
        return 0;
}

static struct buf pack_tree(int srcfd, struct pea_layer_stats *st)
{
        struct buf b = {};
        struct pea_layer_sink sink = {.write = buf_sink, .userdata = &b};
        struct pea_layer_pack_opts o = {.compression = PEA_LAYER_COMPRESSION_GZIP};
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_layer_pack(srcfd, &sink, &o, st, &err);
        ck_assert_msg(r == 0, "pack failed: %s", err ? err->msg : "?");
        return b;
}

/* "name>hardlink" or "name" for each entry of a tar, in order, joined by ','. */
static char *list_tar(const struct buf *b)
{
        struct archive *a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        ck_assert_int_eq(archive_read_open_memory(a, b->p, b->len), ARCHIVE_OK);
        _cleanup_strv_ char **l = NULL;
        struct archive_entry *e = NULL;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                const char *h = archive_entry_hardlink(e);
                strv_consume(&l, xasprintf("%s%s%s", archive_entry_pathname(e), h ? ">" : "",
                                           h ? h : ""));
        }
        archive_read_free(a);
        return strv_join(l, ",");
}

START_TEST(pack_roundtrip)
{
        bool root = getuid() == 0;
        _cleanup_free_ char *src = xasprintf("%s/src", g_base);
        ck_assert_int_eq(mkdir(src, 0755), 0);
        _cleanup_close_ int fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_eq(mkdirat(fd, "d", 0750), 0);
        ck_assert_int_eq(pea_write_file_atomic_at(fd, "d/f", "in d", 4, 0644, NULL), 0);
        ck_assert_int_eq(pea_write_file_atomic_at(fd, "f", "data", 4, 0644, NULL), 0);
        ck_assert_int_eq(fchmodat(fd, "f", 04755, 0), 0);
        ck_assert_int_eq(linkat(fd, "f", fd, "f2", 0), 0);
        ck_assert_int_eq(symlinkat("f", fd, "l"), 0);
        ck_assert_int_eq(mkfifoat(fd, "p", 0600), 0);
        _cleanup_free_ char *f = xasprintf("%s/f", src), *d = xasprintf("%s/d", src);
        ck_assert_int_eq(setxattr(f, "user.x", "1", 1, 0), 0);
        if (root) {
                ck_assert_int_eq(mknodat(fd, "gone", S_IFCHR, makedev(0, 0)), 0);
                ck_assert_int_eq(setxattr(d, "trusted.overlay.opaque", "y", 1, 0), 0);
        }
        struct pea_layer_stats ps = {}, ps2 = {}, us = {};
        struct buf b = pack_tree(fd, &ps), b2 = pack_tree(fd, &ps2);
        ck_assert_str_eq(ps.digest, ps2.digest); /* reproducible */
        _cleanup_free_ char *names = list_tar(&b);
        ck_assert_str_eq(names,
                         root ? "d/,d/.wh..wh..opq,d/f,f,f2>f,.wh.gone,l,p" : "d/,d/f,f,f2>f,l,p");
        unpack_ok(&b, PEA_WHITEOUT_OVERLAY, &us);
        ck_assert(streq(us.diff_id, ps.diff_id) && streq(us.digest, ps.digest));
        ck_assert(us.compressed_size == b.len && ps.compressed_size == b.len);
        struct stat st = lstat_at("f");
        ck_assert((st.st_mode & 07777) == 04755 && st.st_nlink == 2);
        ck_assert(S_ISLNK(lstat_at("l").st_mode) && S_ISFIFO(lstat_at("p").st_mode));
        _cleanup_free_ char *uf = xasprintf("%s/f", g_dest), *ud = xasprintf("%s/d", g_dest);
        char v[4];
        ck_assert_int_eq(getxattr(uf, "user.x", v, sizeof(v)), 1);
        if (root) {
                ck_assert_uint_eq(lstat_at("gone").st_rdev, makedev(0, 0));
                ck_assert_int_eq(getxattr(ud, "trusted.overlay.opaque", v, sizeof(v)), 1);
        }
        free(b.p);
        free(b2.p);
}

END_TEST

/* The "layers" fixture: an OCI layout in a tar, held in memory. */
struct oci {
        char **names;
        struct buf *blobs;
        size_t n;
};

static void oci_load(struct oci *o, const char *path)
{
        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        ck_assert_int_eq(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
        struct archive_entry *e = NULL;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                o->blobs = xrealloc(o->blobs, (o->n + 1) * sizeof(struct buf));
                struct buf *b = &o->blobs[o->n++];
                *b = (struct buf){};
                strv_push(&o->names, archive_entry_pathname(e));
                char tmp[65536];
                for (la_ssize_t n; (n = archive_read_data(a, tmp, sizeof(tmp))) > 0;)
                        buf_write(NULL, b, tmp, (size_t)n);
        }
        archive_read_free(a);
}

static json_t *oci_json(const struct oci *o, const char *name, struct buf **ret)
{
        const char *hex = startswith(name, "sha256:");
        _cleanup_free_ char *p = hex ? xasprintf("blobs/sha256/%s", hex) : xstrdup(name);
        for (size_t i = 0; i < o->n; i++) {
                if (!streq(o->names[i], p))
                        continue;
                if (ret) {
                        *ret = &o->blobs[i];
                        return NULL;
                }
                json_t *j = json_loadb((const char *)o->blobs[i].p, o->blobs[i].len, 0, NULL);
                ck_assert_ptr_nonnull(j);
                return j;
        }
        ck_abort_msg("'%s' is missing from the fixture", p);
        return NULL;
}

static void check_attr(const char *rel, const struct stat *st, const char *kv, bool root)
{
        const char *v = strchr(kv, '=') ? strchr(kv, '=') + 1 : "";
        long long n = 0;
        char got[PATH_MAX] = "";
        if (startswith(kv, "mode=")) {
                ck_assert_msg((st->st_mode & 07777) == strtoul(v, NULL, 8), "%s: %s", rel, kv);
                return;
        }
        if (startswith(kv, "uid=") || startswith(kv, "gid=") || startswith(kv, "size=")
            || startswith(kv, "nlink=") || startswith(kv, "mtime=")) {
                ck_assert_int_eq(safe_atoll(v, &n), 0);
                long long have = kv[0] == 'u'   ? st->st_uid
                                 : kv[0] == 'g' ? st->st_gid
                                 : kv[0] == 's' ? st->st_size
                                 : kv[0] == 'n' ? (long long)st->st_nlink
                                                : st->st_mtim.tv_sec;
                ck_assert_msg(have == n || (!root && (kv[0] == 'u' || kv[0] == 'g')),
                              "%s: %s, found %lld", rel, kv, have);
        } else if (startswith(kv, "inode=")) {
                struct stat o = lstat_at(v + 1);
                ck_assert_msg(o.st_ino == st->st_ino, "%s: %s", rel, kv);
        } else if (startswith(kv, "sha256=")) {
                _cleanup_free_ char *c = NULL;
                size_t len = 0;
                ck_assert_int_eq(pea_read_file_at(g_destfd, rel, 1 << 20, &c, &len, NULL), 0);
                sha256_hex(c, len, got);
                ck_assert_msg(streq(got + 7, v), "%s: %s, found %s", rel, kv, got);
        } else if (startswith(kv, "target=")) {
                ssize_t l = readlinkat(g_destfd, rel, got, sizeof(got) - 1);
                ck_assert_int_ge(l, 0);
                got[l] = '\0';
                ck_assert_msg(streq(got, v), "%s: %s, found %s", rel, kv, got);
        } else if (streq(kv, "empty")) {
                _cleanup_free_ char *p = xasprintf("%s/%s", g_dest, rel);
                _cleanup_closedir_ DIR *d = opendir(p);
                int count = 0;
                while (d && readdir(d))
                        count++;
                ck_assert_msg(d && count == 2, "%s is not empty", rel);
        } else {
                ck_abort_msg("unknown attribute '%s'", kv);
        }
}

/* Checks /expected.txt of the fixture (format in its header); returns the count. */
static int check_expected(const char *text, bool root)
{
        _cleanup_strv_ char **lines = strv_split(text, "\n");
        int checks = 0;
        STRV_FOREACH(l, lines) {
                if (**l == '#' || **l == '@')
                        continue;
                _cleanup_strv_ char **cols = strv_split(*l, "\t");
                ck_assert_int_ge(strv_length(cols), 2);
                const char *rel = cols[0] + 1;
                struct stat st;
                if (streq(cols[1], "-")) {
                        ck_assert_msg(!exists_at(g_destfd, rel), "%s should be gone", cols[0]);
                        checks++;
                        continue;
                }
                st = lstat_at(rel);
                char t = S_ISREG(st.st_mode)    ? 'f'
                         : S_ISDIR(st.st_mode)  ? 'd'
                         : S_ISLNK(st.st_mode)  ? 'l'
                         : S_ISFIFO(st.st_mode) ? 'p'
                                                : '?';
                ck_assert_msg(t == cols[1][0], "%s: type %c, found %c", cols[0], cols[1][0], t);
                _cleanup_strv_ char **attrs = strv_split(cols[2] ? cols[2] : "", " ");
                STRV_FOREACH(a, attrs)
                        check_attr(rel, &st, *a, root);
                checks++;
        }
        return checks;
}

START_TEST(fixture_layers)
{
        const char *dir = getenv("PEA_SHARED_FIXTURES");
        _cleanup_free_ char *path =
                xasprintf("%s/layers.oci.tar", dir ? dir : "/work/shared/fixtures");
        if (access(path, R_OK) < 0) {
                fprintf(stderr, "SKIP: fixture '%s' is absent\n", path);
                return;
        }
        bool root = getuid() == 0;
        struct oci o = {};
        oci_load(&o, path);
        _cleanup_json_ json_t *index = oci_json(&o, "index.json", NULL);
        const char *md = json_string_value(
                json_object_get(json_array_get(json_object_get(index, "manifests"), 0), "digest"));
        _cleanup_json_ json_t *manifest = oci_json(&o, md, NULL);
        const char *cd =
                json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
        _cleanup_json_ json_t *config = oci_json(&o, cd, NULL);
        json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
        json_t *layers = json_object_get(manifest, "layers");
        ck_assert_int_eq(json_array_size(layers), 5);
        for (size_t i = 0; i < json_array_size(layers); i++) {
                const char *ld =
                        json_string_value(json_object_get(json_array_get(layers, i), "digest"));
                struct buf *b = NULL;
                (void)oci_json(&o, ld, &b);
                struct pea_layer_unpack_opts opt = {.whiteout = PEA_WHITEOUT_APPLY,
                                                    .rootless_single_id = !root};
                struct pea_layer_stats st = {};
                _cleanup_error_ struct pea_error *err = NULL;
                ck_assert_msg(unpack_opts(b, &opt, &st, &err) == 0, "layer %zu: %s", i,
                              err ? err->msg : "?");
                ck_assert_str_eq(st.diff_id, json_string_value(json_array_get(diff_ids, i)));
                ck_assert_str_eq(st.digest, ld);
        }
        /* A few facts by hand, then all of the image's own list. */
        struct stat a = lstat_at("work/hardlink-src"), b3 = lstat_at("work/sub/hardlink-3");
        ck_assert(a.st_ino == b3.st_ino && a.st_nlink == 3);
        ck_assert_uint_eq(lstat_at("usr/local/bin/euid-status").st_mode & 07777, 04755);
        ck_assert(!exists_at(g_destfd, "bin/vi") && !exists_at(g_destfd, "work/deleted.txt"));
        ck_assert(!root || lstat_at("work/owned-1000").st_uid == 1000);
        _cleanup_free_ char *expected = read_at(g_destfd, "expected.txt");
        ck_assert_int_eq(check_expected(expected, root), 47);
        for (size_t i = 0; i < o.n; i++)
                free(o.blobs[i].p);
        free(o.blobs);
        strv_free(o.names);
}

END_TEST

static Suite *layer_suite(void)
{
        Suite *s = suite_create("layer");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, path_normalize);
        tcase_add_test(tc, no_openat2_env);
        tcase_add_loop_test(tc, basic_entries, 0, 2);
        tcase_add_loop_test(tc, links_and_replacements, 0, 2);
        tcase_add_loop_test(tc, whiteout_overlay, 0, 2);
        tcase_add_test(tc, whiteout_overlay_userxattr);
        tcase_add_loop_test(tc, whiteout_aufs, 0, 2);
        tcase_add_loop_test(tc, whiteout_apply, 0, 2);
        tcase_add_loop_test(tc, escapes_refused, 0, 2);
        tcase_add_loop_test(tc, symlink_escapes_refused, 0, 2);
        tcase_add_loop_test(tc, symlink_from_lower_layer, 0, 2);
        tcase_add_loop_test(tc, malformed_streams, 0, 2);
        tcase_add_test(tc, digests_and_compression);
        tcase_add_loop_test(tc, xattrs_and_limits, 0, 2);
        tcase_add_test(tc, fallback_walk_beneath);
        tcase_add_test(tc, pack_roundtrip);
        tcase_add_test(tc, fixture_layers);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(layer_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed != 0;
}
