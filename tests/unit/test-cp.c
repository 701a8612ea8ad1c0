/* SPDX-License-Identifier: Apache-2.0 */
/* lib/container's cp, diff and commit helpers (container-cp.c, container-commit.c). */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <check.h>

#include "base.h"
#include "container/container.h"

START_TEST(test_parse_arg)
{
        struct pea_error *err = NULL;
        char *ctr = NULL, *path = NULL;
        ck_assert_int_eq(pea_container_cp_parse_arg("c1:/etc/passwd", &ctr, &path, &err), 0);
        ck_assert_str_eq(ctr, "c1");
        ck_assert_str_eq(path, "/etc/passwd");
        free(ctr);
        free(path);
        static const char *const host[] = {"/a:b", "./x:y", "plain", "dir/c:d", "-"};
        for (size_t i = 0; i < ELEMENTSOF(host); i++) {
                ck_assert_int_eq(pea_container_cp_parse_arg(host[i], &ctr, &path, &err), 0);
                ck_assert_ptr_null(ctr);
                ck_assert_str_eq(path, host[i]);
                free(path);
        }
        ck_assert_int_eq(pea_container_cp_parse_arg("c1:", &ctr, &path, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err->msg, "c1:"));
        pea_error_clear(&err);
        ck_assert_int_eq(pea_container_cp_parse_arg("", &ctr, &path, &err), -EINVAL);
        pea_error_clear(&err);
}

END_TEST

START_TEST(test_wants_contents)
{
        ck_assert(pea_container_cp_wants_contents("dir/."));
        ck_assert(pea_container_cp_wants_contents("."));
        ck_assert(!pea_container_cp_wants_contents("dir"));
        ck_assert(!pea_container_cp_wants_contents("dir/"));
        ck_assert(!pea_container_cp_wants_contents("a.b"));
}

END_TEST

/* Plans a copy and checks where it lands (dir and name), or the error code. */
static void plan(const char *src, bool is_dir, const char *dest, enum pea_cp_dest_kind kind,
                 int code, const char *dir, const char *name)
{
        struct pea_error *err = NULL;
        char *d = NULL, *n = NULL;
        int r = pea_container_cp_plan(src, is_dir, dest, kind, &d, &n, &err);
        ck_assert_int_eq(r, code);
        if (code < 0) {
                ck_assert_ptr_nonnull(err);
                ck_assert_ptr_null(d);
                pea_error_clear(&err);
                return;
        }
        ck_assert_str_eq(d, dir);
        ck_assert_str_eq(n, name);
        free(d);
        free(n);
}

START_TEST(test_plan)
{
        /* into an existing directory: below it, under the source's name */
        plan("/etc/passwd", false, "/tmp", PEA_CP_DEST_DIR, 0, "/tmp", "passwd");
        plan("/data/", true, "out", PEA_CP_DEST_DIR, 0, "out", "data");
        plan("/data/.", true, "out", PEA_CP_DEST_DIR, 0, "out", "");
        plan("/", true, "out", PEA_CP_DEST_DIR, 0, "out", "");
        /* onto a missing name: the copy takes that name */
        plan("/data", true, "/x/new", PEA_CP_DEST_MISSING, 0, "/x", "new");
        plan("/data/.", true, "new/", PEA_CP_DEST_MISSING, 0, ".", "new");
        plan("f", false, "/new", PEA_CP_DEST_MISSING, 0, "/", "new");
        plan("f", false, "g", PEA_CP_DEST_MISSING, 0, ".", "g");
        /* a file onto a file replaces it */
        plan("f", false, "/a/b/g", PEA_CP_DEST_FILE, 0, "/a/b", "g");
        /* errors */
        plan("/data", true, "/etc/passwd", PEA_CP_DEST_FILE, -ENOTDIR, NULL, NULL);
        plan("f", false, "missing/", PEA_CP_DEST_MISSING, -ENOENT, NULL, NULL);
        plan("f", false, "/", PEA_CP_DEST_FILE, -EINVAL, NULL, NULL);
        plan("f", false, "x", (enum pea_cp_dest_kind)7, -EINVAL, NULL, NULL);
}

END_TEST

START_TEST(test_whiteout_name)
{
        char *n = NULL;
        ck_assert_int_eq(pea_container_whiteout_name(".wh.passwd", &n), 1);
        ck_assert_str_eq(n, "passwd");
        free(n);
        ck_assert_int_eq(pea_container_whiteout_name(".wh..wh..opq", NULL), 2);
        ck_assert_int_eq(pea_container_whiteout_name("passwd", NULL), 0);
        ck_assert_int_eq(pea_container_whiteout_name(".wh.", NULL), 0);
        ck_assert_int_eq(pea_container_whiteout_name("a.wh.b", NULL), 0);
}

END_TEST

START_TEST(test_changes)
{
        ck_assert_str_eq(pea_container_change_kind_to_string(PEA_CHANGE_MODIFIED), "C");
        ck_assert_str_eq(pea_container_change_kind_to_string(PEA_CHANGE_ADDED), "A");
        ck_assert_str_eq(pea_container_change_kind_to_string(PEA_CHANGE_DELETED), "D");
        ck_assert_ptr_null(pea_container_change_kind_to_string(_PEA_CHANGE_KIND_MAX));
        ck_assert_ptr_null(pea_container_change_kind_to_string(_PEA_CHANGE_KIND_INVALID));
        struct pea_container_change *c = xcalloc(3, sizeof(*c));
        c[0] = (struct pea_container_change){xstrdup("/tmp/t"), PEA_CHANGE_ADDED};
        c[1] = (struct pea_container_change){xstrdup("/etc/group"), PEA_CHANGE_DELETED};
        c[2] = (struct pea_container_change){xstrdup("/etc"), PEA_CHANGE_MODIFIED};
        pea_container_changes_sort(c, 3);
        ck_assert_str_eq(c[0].path, "/etc");
        ck_assert_str_eq(c[1].path, "/etc/group");
        ck_assert_int_eq(c[1].kind, PEA_CHANGE_DELETED);
        ck_assert_str_eq(c[2].path, "/tmp/t");
        ck_assert_ptr_null(pea_container_changes_free(c, 3));
}

END_TEST

static char *make_tmpdir(void)
{
        char *d = xstrdup("/tmp/pea-test-cp-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(d));
        return d;
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
}

static char *read_text(const char *path)
{
        char *text = NULL;
        ck_assert_int_ge(pea_read_file_at(AT_FDCWD, path, 4096, &text, NULL, NULL), 0);
        return text;
}

/* A tree: src/top/{f, sub/g, up -> /} */
static char *make_tree(void)
{
        char *root = make_tmpdir();
        _cleanup_free_ char *top = xasprintf("%s/top", root);
        _cleanup_free_ char *sub = xasprintf("%s/top/sub", root);
        _cleanup_free_ char *f = xasprintf("%s/top/f", root);
        _cleanup_free_ char *g = xasprintf("%s/top/sub/g", root);
        _cleanup_free_ char *up = xasprintf("%s/top/up", root);
        ck_assert_int_eq(mkdir(top, 0755), 0);
        ck_assert_int_eq(mkdir(sub, 0700), 0);
        write_file(f, "eff\n");
        write_file(g, "gee\n");
        ck_assert_int_eq(symlink("/", up), 0);
        return root;
}

/* Packs root/top as name into a temporary file and unpacks it into a new directory. */
static char *round_trip(const char *root, const char *name)
{
        _cleanup_free_ char *top = xasprintf("%s/top", root);
        struct pea_error *err = NULL;
        _cleanup_close_ int src = open(top, O_PATH | O_CLOEXEC);
        ck_assert_int_ge(src, 0);
        _cleanup_close_ int tfd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        ck_assert_int_ge(tfd, 0);
        const struct pea_container_cp_owner ow = {.uid = getuid(), .gid = getgid()};
        ck_assert_int_eq(pea_container_cp_pack_fd(src, name, &ow, tfd, &err), 0);
        ck_assert_int_eq(lseek(tfd, 0, SEEK_SET), 0);
        char *dest = make_tmpdir();
        _cleanup_close_ int dfd = open(dest, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_eq(pea_container_cp_unpack_fd(tfd, dfd, false, &err), 0);
        ck_assert_ptr_null(err);
        return dest;
}

static void rm_tree(char *dir)
{
        ck_assert_int_eq(pea_rm_rf(dir, NULL), 0);
        free(dir);
}

START_TEST(test_pack_unpack)
{
        char *root = make_tree();
        char *dest = round_trip(root, "renamed");
        _cleanup_free_ char *f = xasprintf("%s/renamed/f", dest);
        _cleanup_free_ char *g = xasprintf("%s/renamed/sub/g", dest);
        _cleanup_free_ char *up = xasprintf("%s/renamed/up", dest);
        _cleanup_free_ char *sub = xasprintf("%s/renamed/sub", dest);
        _cleanup_free_ char *tf = read_text(f), *tg = read_text(g);
        ck_assert_str_eq(tf, "eff\n");
        ck_assert_str_eq(tg, "gee\n");
        char link[16] = {0};
        ck_assert_int_eq(readlink(up, link, sizeof(link) - 1), 1);
        ck_assert_str_eq(link, "/");
        struct stat st;
        ck_assert_int_eq(stat(sub, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0700);
        rm_tree(dest);

        /* "": only the contents */
        dest = round_trip(root, "");
        _cleanup_free_ char *f2 = xasprintf("%s/f", dest);
        _cleanup_free_ char *t2 = read_text(f2);
        ck_assert_str_eq(t2, "eff\n");
        rm_tree(dest);
        rm_tree(root);
}

END_TEST

START_TEST(test_pack_file)
{
        char *root = make_tree();
        _cleanup_free_ char *f = xasprintf("%s/top/f", root);
        struct pea_error *err = NULL;
        _cleanup_close_ int src = open(f, O_PATH | O_CLOEXEC);
        _cleanup_close_ int tfd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        ck_assert_int_eq(pea_container_cp_pack_fd(src, "copy", NULL, tfd, &err), 0);
        ck_assert_int_eq(lseek(tfd, 0, SEEK_SET), 0);
        _cleanup_close_ int dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_eq(pea_container_cp_unpack_fd(tfd, dfd, false, &err), 0);
        _cleanup_free_ char *copy = xasprintf("%s/copy", root);
        _cleanup_free_ char *t = read_text(copy);
        ck_assert_str_eq(t, "eff\n");
        rm_tree(root);
}

END_TEST

START_TEST(test_resolve_in_root)
{
        char *root = make_tree();
        struct pea_error *err = NULL;
        _cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        /* top/up -> / is the root directory, not the host's / */
        int fd = pea_container_cp_resolve(rfd, "/top/up/top/f", &st, &err);
        ck_assert_int_ge(fd, 0);
        ck_assert(S_ISREG(st.st_mode));
        ck_assert_int_eq(close(fd), 0);
        ck_assert_int_eq(pea_container_cp_resolve(rfd, "/top/up/etc/passwd", NULL, &err), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err->msg, "/top/up/etc/passwd"));
        pea_error_clear(&err);
        ck_assert_int_eq(pea_container_cp_resolve(rfd, "../../../etc/passwd", NULL, NULL), -ENOENT);
        rm_tree(root);
}

END_TEST

static Suite *cp_suite(void)
{
        Suite *s = suite_create("cp");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_parse_arg);
        tcase_add_test(tc, test_wants_contents);
        tcase_add_test(tc, test_plan);
        tcase_add_test(tc, test_whiteout_name);
        tcase_add_test(tc, test_changes);
        tcase_add_test(tc, test_pack_unpack);
        tcase_add_test(tc, test_pack_file);
        tcase_add_test(tc, test_resolve_in_root);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(cp_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed != 0;
}
