/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>

#include <sys/stat.h>

#include <check.h>

#include "base.h"

static int fail_open(const char *path, struct pea_error **err)
{
        return pea_error_syscall(err, ENOENT, "opening '%s'", path);
}

START_TEST(error_chain)
{
        _cleanup_error_ struct pea_error *err = NULL;
        int r = fail_open("/nope", &err);
        ck_assert_int_eq(r, -ENOENT);
        ck_assert_int_eq(err->code, ENOENT);
        ck_assert_str_eq(err->msg, "opening '/nope': No such file or directory");
        r = pea_error_wrap(&err, "pulling '%s'", "busybox");
        ck_assert_int_eq(r, -ENOENT);
        ck_assert_str_eq(err->msg, "pulling 'busybox': opening '/nope': No such file or directory");
        ck_assert_int_eq(pea_error_code(&err), -ENOENT);
}

END_TEST

START_TEST(error_set_once_and_codes)
{
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_error_set(&err, EINVAL, "first"), -EINVAL);
        /* A second set keeps the first (the cause). */
        ck_assert_int_eq(pea_error_set(&err, EPERM, "second"), -EPERM);
        ck_assert_str_eq(err->msg, "first");
        pea_error_clear(&err);
        ck_assert_ptr_null(err);
        /* Negative and zero codes are normalised. */
        ck_assert_int_eq(pea_error_set(&err, -EACCES, "x"), -EACCES);
        pea_error_clear(&err);
        ck_assert_int_eq(pea_error_set(&err, 0, "x"), -EIO);
        /* NULL err is allowed. */
        ck_assert_int_eq(pea_error_set(NULL, EEXIST, "y"), -EEXIST);
        ck_assert_int_eq(pea_error_code(NULL), -EIO);
}

END_TEST

START_TEST(strv_ops)
{
        _cleanup_strv_ char **l = strv_split("::a:bb::c:", ":");
        ck_assert_int_eq(strv_length(l), 3);
        ck_assert_str_eq(l[0], "a");
        ck_assert_str_eq(l[1], "bb");
        ck_assert_str_eq(l[2], "c");
        strv_push(&l, "d");
        ck_assert(strv_contains(l, "d"));
        ck_assert(!strv_contains(l, "e"));
        _cleanup_free_ char *j = strv_join(l, ",");
        ck_assert_str_eq(j, "a,bb,c,d");
        _cleanup_strv_ char **empty = strv_split("", ":");
        ck_assert_int_eq(strv_length(empty), 0);
        _cleanup_free_ char *je = strv_join(empty, ",");
        ck_assert_str_eq(je, "");
}

END_TEST

START_TEST(strings)
{
        ck_assert_str_eq(startswith("--root=x", "--root"), "=x");
        ck_assert_ptr_null(startswith("--ro", "--root"));
        ck_assert(endswith("a.conf", ".conf"));
        ck_assert(!endswith("conf", ".conf"));
        long long v = 0;
        ck_assert_int_eq(safe_atoll("-42", &v), 0);
        ck_assert_int_eq(v, -42);
        ck_assert_int_eq(safe_atoll("42x", &v), -EINVAL);
        ck_assert_int_eq(safe_atoll("", &v), -EINVAL);
        ck_assert_int_eq(safe_atoll(" 1", &v), -EINVAL);
        ck_assert_int_eq(safe_atoll("99999999999999999999", &v), -ERANGE);
        unsigned u = 0;
        ck_assert_int_eq(safe_atou32("4294967295", &u), 0);
        ck_assert_uint_eq(u, 4294967295u);
        ck_assert_int_eq(safe_atou32("4294967296", &u), -ERANGE);
        ck_assert_int_eq(safe_atou32("-1", &u), -ERANGE);
        char s[] = "  hi there \n";
        ck_assert_str_eq(strstrip(s), "hi there");
        ck_assert(streq_ptr(NULL, NULL));
        ck_assert(!streq_ptr("a", NULL));
}

END_TEST

START_TEST(fs_roundtrip)
{
        char dir[] = "/tmp/pea-test-base-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *deep = xasprintf("%s/a/b/c", dir);
        ck_assert_int_eq(pea_mkdir_p(deep, 0700, &err), 0);
        ck_assert_int_eq(pea_mkdir_p(deep, 0700, &err), 0);
        _cleanup_free_ char *f = xasprintf("%s/file", deep);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, f, "hello", 5, 0600, &err), 0);
        struct stat st;
        ck_assert_int_eq(stat(f, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, f, 100, &data, &len, &err), 0);
        ck_assert_int_eq(len, 5);
        ck_assert_str_eq(data, "hello");
        _cleanup_free_ char *small = NULL;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, f, 3, &small, NULL, &err), -EFBIG);
        ck_assert_ptr_null(small);
        pea_error_clear(&err);
        _cleanup_free_ char *missing = xasprintf("%s/missing", dir);
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, missing, 10, &small, NULL, &err), -ENOENT);
        pea_error_clear(&err);
        ck_assert_int_eq(pea_rm_rf(dir, &err), 0);
        ck_assert(!pea_path_exists(dir));
        ck_assert_int_eq(pea_rm_rf(dir, &err), 0);
}

END_TEST

START_TEST(find_executable)
{
        _cleanup_free_ char *sh = pea_find_executable("sh");
        ck_assert_ptr_nonnull(sh);
        ck_assert_int_eq(access(sh, X_OK), 0);
        _cleanup_free_ char *none = pea_find_executable("pea-no-such-program-xyz");
        ck_assert_ptr_null(none);
        _cleanup_free_ char *self = pea_self_dir();
        ck_assert_ptr_nonnull(self);
        ck_assert(self[0] == '/');
}

END_TEST

START_TEST(json_helpers)
{
        _cleanup_json_ json_t *j = json_pack("{s:{s:{s:s}}, s:i}", "a", "b", "c", "deep", "n", 3);
        ck_assert_str_eq(pea_json_path_string(j, "a.b.c", "x"), "deep");
        ck_assert_str_eq(pea_json_path_string(j, "a.b.missing", "x"), "x");
        ck_assert_str_eq(pea_json_path_string(j, "n", "x"), "x");
        ck_assert_ptr_null(pea_json_path(j, "n.z"));
        _cleanup_json_ json_t *src =
                json_pack("{s:{s:{s:s, s:s}}, s:i}", "a", "b", "c", "new", "d", "added", "n", 4);
        pea_json_merge(j, src);
        ck_assert_str_eq(pea_json_path_string(j, "a.b.c", ""), "new");
        ck_assert_str_eq(pea_json_path_string(j, "a.b.d", ""), "added");
        _cleanup_free_ char *s = pea_json_dumps(j, 0);
        ck_assert_str_eq(s, "{\"a\":{\"b\":{\"c\":\"new\",\"d\":\"added\"}},\"n\":4}");
}

END_TEST

START_TEST(log_levels)
{
        ck_assert_int_eq(pea_log_level_from_string("debug"), PEA_LOG_DEBUG);
        ck_assert_int_eq(pea_log_level_from_string("warn"), PEA_LOG_WARN);
        ck_assert_int_eq(pea_log_level_from_string("warning"), PEA_LOG_WARN);
        ck_assert_int_eq(pea_log_level_from_string("fatal"), PEA_LOG_ERROR);
        ck_assert_int_eq(pea_log_level_from_string("bogus"), -EINVAL);
        ck_assert_str_eq(pea_log_level_to_string(PEA_LOG_TRACE), "trace");
        ck_assert_ptr_null(pea_log_level_to_string(_PEA_LOG_LEVEL_MAX));
}

END_TEST

START_TEST(host_arch)
{
        const char *a = pea_host_arch();
        ck_assert_ptr_nonnull(a);
#if defined(__x86_64__)
        ck_assert_str_eq(a, "amd64");
#elif defined(__aarch64__)
        ck_assert_str_eq(a, "arm64");
#endif
}

END_TEST

static Suite *base_suite(void)
{
        Suite *s = suite_create("base");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, error_chain);
        tcase_add_test(tc, error_set_once_and_codes);
        tcase_add_test(tc, strv_ops);
        tcase_add_test(tc, strings);
        tcase_add_test(tc, fs_roundtrip);
        tcase_add_test(tc, find_executable);
        tcase_add_test(tc, json_helpers);
        tcase_add_test(tc, log_levels);
        tcase_add_test(tc, host_arch);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(base_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
