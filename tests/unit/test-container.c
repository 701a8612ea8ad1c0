/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "base.h"
#include "container/container.h"
#include "image/store.h"

START_TEST(test_whiteout_check)
{
        struct pea_error *err = NULL;
        ck_assert_int_eq(pea_container_whiteout_check(
                                 "overlay", true, PEA_IMAGE_WHITEOUT_OVERLAY_USERXATTR, "l", &err),
                         0);
        ck_assert_int_eq(pea_container_whiteout_check("overlay", false, PEA_IMAGE_WHITEOUT_OVERLAY,
                                                      "l", &err),
                         0);
        ck_assert_int_eq(pea_container_whiteout_check("overlay", true, PEA_IMAGE_WHITEOUT_AUFS,
                                                      "sha256:ab", &err),
                         -EINVAL);
        ck_assert_ptr_nonnull(strstr(err->msg, "'aufs'"));
        ck_assert_ptr_nonnull(strstr(err->msg, "sha256:ab"));
        pea_error_clear(&err);
        ck_assert_int_eq(pea_container_whiteout_check("fuse-overlayfs", true,
                                                      PEA_IMAGE_WHITEOUT_AUFS, "l", &err),
                         0);
        ck_assert_int_eq(
                pea_container_whiteout_check("vfs", false, PEA_IMAGE_WHITEOUT_AUFS, "l", &err), 0);
        ck_assert_int_eq(pea_container_whiteout_check("overlay", true, 42, "l", &err), -EINVAL);
        pea_error_clear(&err);
}

END_TEST

START_TEST(test_names)
{
        for (int i = 0; i < 50; i++) {
                _cleanup_free_ char *n = pea_container_random_name();
                ck_assert(pea_container_name_is_valid(n));
                ck_assert_ptr_nonnull(strchr(n, '_'));
        }
        ck_assert(pea_container_name_is_valid("a.b-c_1"));
        ck_assert(!pea_container_name_is_valid("-a"));
        ck_assert(!pea_container_name_is_valid("a/b"));
        ck_assert(!pea_container_name_is_valid(""));
}

END_TEST

START_TEST(test_resolv)
{
        _cleanup_free_ char *a = pea_container_resolv_conf(
                "search x\nnameserver 127.0.0.53\nnameserver 1.1.1.1\n", false);
        ck_assert_str_eq(a, "search x\nnameserver 1.1.1.1\n");
        _cleanup_free_ char *b = pea_container_resolv_conf("nameserver 127.0.0.1\n", false);
        ck_assert_str_eq(b, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        _cleanup_free_ char *c = pea_container_resolv_conf("nameserver 127.0.0.1\n", true);
        ck_assert_str_eq(c, "nameserver 127.0.0.1\n");
        _cleanup_free_ char *d = pea_container_resolv_conf("nameserver ::1\n", false);
        ck_assert_str_eq(d, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
}

END_TEST

START_TEST(test_files)
{
        _cleanup_free_ char *h = pea_container_hosts(NULL, "box");
        ck_assert_ptr_nonnull(strstr(h, "127.0.0.1\tlocalhost"));
        ck_assert(endswith(h, "127.0.1.1\tbox\n"));
        _cleanup_free_ char *h2 = pea_container_hosts("1.2.3.4 x", "box");
        ck_assert_str_eq(h2, "1.2.3.4 x\n127.0.1.1\tbox\n");
        _cleanup_free_ char *e = pea_container_env_file("n", "id", "img", "iid", true);
        ck_assert_str_eq(e, "engine=\"pea-" PEA_VERSION "\"\nname=\"n\"\nid=\"id\"\n"
                            "image=\"img\"\nimageid=\"iid\"\nrootless=1\n");
        _cleanup_free_ char *e2 = pea_container_env_file("n", "id", "img", "iid", false);
        ck_assert_ptr_null(strstr(e2, "rootless"));
}

END_TEST

int main(void)
{
        Suite *s = suite_create("container");
        TCase *tc = tcase_create("files");
        tcase_add_test(tc, test_whiteout_check);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_resolv);
        tcase_add_test(tc, test_files);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed != 0;
}
