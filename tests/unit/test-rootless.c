/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <sys/stat.h>

#include <check.h>

#include "base.h"
#include "rootless/rootless.h"

static char tmpdir[64];

static char *write_tmp(const char *name, const char *text)
{
        char *p = xasprintf("%s/%s", tmpdir, name);
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, p, text, strlen(text), 0644, &err), 0);
        return p;
}

/* An unprivileged uid for the checks: ours, or a made-up one when we are root. */
static uid_t test_uid(void)
{
        return geteuid() == 0 ? 4242 : geteuid();
}

/* Makes path belong to test_uid() (needs root when that is not us). */
static void own(const char *path)
{
        if (geteuid() == 0)
                ck_assert_int_eq(chown(path, test_uid(), (gid_t)-1), 0);
}

static void setup(void)
{
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/pea-test-rootless-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_rm_rf(tmpdir, &err), 0);
}

static const char subid_text[] = "# comment:1:2\n"
                                 "alice:100000:65536\n"
                                 "bob:165536:1000\n"
                                 "bob:300000:5000\n"
                                 "bob:1:0\n"
                                 "bob:x:10\n"
                                 "bob:5:6:7\n"
                                 "5000:400000:65536\n"
                                 "carol:4294000000:967296\n";

START_TEST(subid_parse_by_name_and_uid)
{
        _cleanup_free_ struct pea_idmap *m = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_subid_parse(subid_text, "bob", 5000, &m, &n, &err), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_uint_eq(m[0].host_id, 165536);
        ck_assert_uint_eq(m[0].size, 1000);
        ck_assert_uint_eq(m[1].host_id, 300000);
        ck_assert_uint_eq(m[1].size, 5000);
        ck_assert_uint_eq(m[2].host_id, 400000);
        ck_assert_uint_eq(m[2].size, 65536);
        for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(m[i].container_id, 0);
        ck_assert_uint_eq(pea_subid_total(m, n), 1000 + 5000 + 65536);
}

END_TEST

START_TEST(subid_parse_no_match)
{
        _cleanup_free_ struct pea_idmap *m = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        size_t n = 7;
        ck_assert_int_eq(pea_subid_parse(subid_text, "dave", 6000, &m, &n, &err), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_eq(pea_subid_total(m, n), 0);
        /* an empty user name matches only by uid */
        ck_assert_int_eq(pea_subid_parse("alice:1:2\n", "", 7, &m, &n, &err), 0);
        ck_assert_uint_eq(n, 0);
}

END_TEST

START_TEST(subid_read_missing_file)
{
        _cleanup_free_ struct pea_idmap *m = NULL;
        _cleanup_free_ char *p = xasprintf("%s/nope", tmpdir);
        _cleanup_error_ struct pea_error *err = NULL;
        size_t n = 7;
        ck_assert_int_eq(pea_subid_read(p, "bob", 5000, &m, &n, &err), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_null(err);
}

END_TEST

START_TEST(rootless_idmap_layout)
{
        _cleanup_free_ char *p = write_tmp("subuid", "bob:200000:1000\nbob:300000:64536\n");
        _cleanup_free_ struct pea_idmap *m = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_rootless_idmap(p, "bob", 1234, &m, &n, &err), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_uint_eq(m[0].container_id, 0);
        ck_assert_uint_eq(m[0].host_id, 1234);
        ck_assert_uint_eq(m[0].size, 1);
        ck_assert_uint_eq(m[1].container_id, 1);
        ck_assert_uint_eq(m[1].host_id, 200000);
        ck_assert_uint_eq(m[1].size, 1000);
        ck_assert_uint_eq(m[2].container_id, 1001);
        ck_assert_uint_eq(m[2].host_id, 300000);
        ck_assert_uint_eq(m[2].size, 64536);
}

END_TEST

START_TEST(rootless_idmap_without_ranges)
{
        _cleanup_free_ char *p = xasprintf("%s/missing", tmpdir);
        _cleanup_free_ struct pea_idmap *m = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_rootless_idmap(p, "bob", 1234, &m, &n, &err), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(m[0].host_id, 1234);
        ck_assert_uint_eq(m[0].size, 1);
}

END_TEST

START_TEST(subid_highest)
{
        ck_assert_uint_eq(pea_subid_highest(""), 0);
        ck_assert_uint_eq(pea_subid_highest("# x:900000:10\nbad line\n"), 0);
        ck_assert_uint_eq(pea_subid_highest("a:100000:65536\nb:165536:65536\n"), 231072);
        ck_assert_uint_eq(pea_subid_highest("b:165536:65536\r\na:100000:65536"), 231072);
        /* every owner counts, and the end may exceed 32 bits */
        ck_assert_uint_eq(pea_subid_highest(subid_text), 4294967296ull);
}

END_TEST

START_TEST(subid_fix_commands)
{
        _cleanup_free_ char *both = pea_doctor_subid_fix("bob", 5000, true, true, 165536, 65536);
        ck_assert_str_eq(
                both, "sudo usermod --add-subuids 165536-231071 --add-subgids 165536-231071 bob");
        _cleanup_free_ char *gids = pea_doctor_subid_fix("bob", 5000, false, true, 100000, 10);
        ck_assert_str_eq(gids, "sudo usermod --add-subgids 100000-100009 bob");
        _cleanup_free_ char *quoted = pea_doctor_subid_fix("o'n e", 5000, true, false, 1, 2);
        ck_assert_str_eq(quoted, "sudo usermod --add-subuids 1-2 'o'\\''n e'");
        _cleanup_free_ char *byuid = pea_doctor_subid_fix("", 5000, true, true, 200000, 65536);
        ck_assert_str_eq(byuid, "echo 5000:200000:65536 | sudo tee -a /etc/subuid /etc/subgid "
                                ">/dev/null");
        _cleanup_free_ char *full = pea_doctor_subid_fix("bob", 5000, true, true, 4294967295ull, 2);
        ck_assert_ptr_null(strstr(full, "usermod"));
        ck_assert_ptr_null(pea_doctor_subid_fix("bob", 5000, false, false, 1, 2));
}

END_TEST

static const struct pea_doctor_check *find(const struct pea_doctor_report *r, const char *name)
{
        for (size_t i = 0; i < r->n; i++)
                if (streq(r->checks[i].name, name))
                        return &r->checks[i];
        ck_abort_msg("no check '%s'", name);
        return NULL;
}

START_TEST(check_subid_missing)
{
        _cleanup_free_ char *u = write_tmp("subuid", "alice:100000:65536\n");
        _cleanup_free_ char *g = write_tmp("subgid", "alice:100000:65536\ncarol:200000:65536\n");
        struct pea_doctor_opts o = {.uid = 5000, .user = "bob", .subuid_path = u, .subgid_path = g};
        _cleanup_(pea_doctor_report_done) struct pea_doctor_report r = {0};
        pea_doctor_check_subid(&o, &r);
        ck_assert_uint_eq(r.n, 2);
        const char *fix =
                "sudo usermod --add-subuids 265536-331071 --add-subgids 265536-331071 bob";
        const struct pea_doctor_check *c = find(&r, "subuid");
        ck_assert_int_eq(c->status, PEA_DOCTOR_FAIL);
        ck_assert_str_eq(c->fix, fix);
        _cleanup_free_ char *want = xasprintf("no range for 'bob' in %s", u);
        ck_assert_str_eq(c->message, want);
        c = find(&r, "subgid");
        ck_assert_int_eq(c->status, PEA_DOCTOR_FAIL);
        ck_assert_str_eq(c->fix, fix);
        ck_assert(pea_doctor_report_failed(&r));
}

END_TEST

START_TEST(check_subid_partial)
{
        _cleanup_free_ char *u = write_tmp("subuid", "bob:300000:1000\n");
        _cleanup_free_ char *g = write_tmp("subgid", "5000:100000:65536\n");
        struct pea_doctor_opts o = {.uid = 5000, .user = "bob", .subuid_path = u, .subgid_path = g};
        _cleanup_(pea_doctor_report_done) struct pea_doctor_report r = {0};
        pea_doctor_check_subid(&o, &r);
        const struct pea_doctor_check *c = find(&r, "subuid");
        ck_assert_int_eq(c->status, PEA_DOCTOR_WARN);
        ck_assert_str_eq(c->fix, "sudo usermod --add-subuids 301000-366535 bob");
        c = find(&r, "subgid");
        ck_assert_int_eq(c->status, PEA_DOCTOR_OK);
        ck_assert_ptr_null(c->fix);
        ck_assert(!pea_doctor_report_failed(&r));
}

END_TEST

START_TEST(check_subid_root_and_missing_files)
{
        _cleanup_free_ char *u = xasprintf("%s/none-u", tmpdir);
        _cleanup_free_ char *g = xasprintf("%s/none-g", tmpdir);
        struct pea_doctor_opts o = {.uid = 0, .user = "root", .subuid_path = u, .subgid_path = g};
        _cleanup_(pea_doctor_report_done) struct pea_doctor_report r = {0};
        pea_doctor_check_subid(&o, &r);
        ck_assert_int_eq(find(&r, "subuid")->status, PEA_DOCTOR_OK);
        ck_assert_int_eq(find(&r, "subgid")->status, PEA_DOCTOR_OK);
        pea_doctor_report_done(&r);
        /* missing files: no ranges, and the fix starts at 100000 */
        o.uid = 5000;
        o.user = "bob";
        pea_doctor_check_subid(&o, &r);
        ck_assert_int_eq(find(&r, "subuid")->status, PEA_DOCTOR_FAIL);
        ck_assert_str_eq(
                find(&r, "subgid")->fix,
                "sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 bob");
        pea_doctor_report_done(&r);
        /* an unreadable file (a directory) is a failure, not "no range" */
        o.subuid_path = tmpdir;
        pea_doctor_check_subid(&o, &r);
        ck_assert_int_eq(find(&r, "subuid")->status, PEA_DOCTOR_FAIL);
        ck_assert_ptr_null(strstr(find(&r, "subuid")->message, "no range"));
}

END_TEST

static const struct pea_doctor_check *runtime_check(const char *dir, struct pea_doctor_report *r)
{
        struct pea_doctor_opts o = {.uid = test_uid(), .user = "bob", .runtime_dir = dir};
        pea_doctor_report_done(r);
        pea_doctor_check_runtime_dir(&o, r);
        ck_assert_uint_eq(r->n, 1);
        ck_assert_str_eq(r->checks[0].name, "runtime-dir");
        return &r->checks[0];
}

START_TEST(check_runtime_dir)
{
        _cleanup_(pea_doctor_report_done) struct pea_doctor_report r = {0};
        _cleanup_free_ char *d = xasprintf("%s/run dir", tmpdir);
        _cleanup_free_ char *tmp = xasprintf("/tmp/pea-run-%u", (unsigned)test_uid());
        const struct pea_doctor_check *c = runtime_check(NULL, &r);
        ck_assert_int_eq(c->status, PEA_DOCTOR_WARN);
        ck_assert_ptr_nonnull(strstr(c->message, tmp));
        ck_assert_ptr_nonnull(c->fix);
        c = runtime_check(d, &r);
        ck_assert_int_eq(c->status, PEA_DOCTOR_FAIL);
        _cleanup_free_ char *install = xasprintf("sudo install -d -m 0700 -o bob '%s'", d);
        ck_assert_str_eq(c->fix, install);
        ck_assert_int_eq(mkdir(d, 0700), 0);
        own(d);
        c = runtime_check(d, &r);
        ck_assert_int_eq(c->status, PEA_DOCTOR_OK);
        ck_assert_ptr_null(c->fix);
        ck_assert_int_eq(chmod(d, 0755), 0);
        c = runtime_check(d, &r);
        ck_assert_int_eq(c->status, PEA_DOCTOR_FAIL);
        _cleanup_free_ char *chmod_fix = xasprintf("chmod 0700 '%s'", d);
        ck_assert_str_eq(c->fix, chmod_fix);
        /* owned by someone else (root): the fix does not chown it */
        c = runtime_check("/", &r);
        ck_assert_int_eq(c->status, PEA_DOCTOR_FAIL);
        ck_assert_ptr_nonnull(strstr(c->message, "not owned"));
        ck_assert_ptr_nonnull(strstr(c->fix, "/run/user/"));
        c = runtime_check("relative", &r);
        ck_assert_int_eq(c->status, PEA_DOCTOR_FAIL);
}

END_TEST

START_TEST(cgroup2_path)
{
        _cleanup_free_ char *hybrid = pea_doctor_cgroup2_path("4:memory:/x\n1:cpu:/\n0::/\n");
        ck_assert_str_eq(hybrid, "/");
        _cleanup_free_ char *v2 =
                pea_doctor_cgroup2_path("0::/user.slice/user-1000.slice/session-3.scope\n");
        ck_assert_str_eq(v2, "/user.slice/user-1000.slice/session-3.scope");
        ck_assert_ptr_null(pea_doctor_cgroup2_path("2:cpu:/\n1:name=systemd:/\n"));
        ck_assert_ptr_null(pea_doctor_cgroup2_path(""));
}

END_TEST

START_TEST(format_and_json)
{
        _cleanup_(pea_doctor_report_done) struct pea_doctor_report r = {0};
        pea_doctor_add(&r, "subuid", PEA_DOCTOR_FAIL, "sudo fix it", "no range for '%s'", "bob");
        pea_doctor_add(&r, "userns", PEA_DOCTOR_OK, "ignored for OK", "fine");
        _cleanup_free_ char *l0 = pea_doctor_format_line(&r.checks[0]);
        _cleanup_free_ char *l1 = pea_doctor_format_line(&r.checks[1]);
        ck_assert_str_eq(l0, "FAIL  subuid         no range for 'bob' (fix: sudo fix it)");
        ck_assert_str_eq(l1, "OK    userns         fine");
        _cleanup_json_ json_t *j = pea_doctor_report_json(&r);
        ck_assert(json_is_array(j));
        ck_assert_uint_eq(json_array_size(j), 2);
        json_t *e = json_array_get(j, 0);
        ck_assert_str_eq(json_string_value(json_object_get(e, "Name")), "subuid");
        ck_assert_str_eq(json_string_value(json_object_get(e, "Status")), "FAIL");
        ck_assert_str_eq(json_string_value(json_object_get(e, "Message")), "no range for 'bob'");
        ck_assert_str_eq(json_string_value(json_object_get(e, "Fix")), "sudo fix it");
        e = json_array_get(j, 1);
        ck_assert_str_eq(json_string_value(json_object_get(e, "Status")), "OK");
        ck_assert_str_eq(json_string_value(json_object_get(e, "Fix")), "");
        ck_assert(pea_doctor_report_failed(&r));
}

END_TEST

START_TEST(status_names)
{
        ck_assert_str_eq(pea_doctor_status_to_string(PEA_DOCTOR_OK), "OK");
        ck_assert_str_eq(pea_doctor_status_to_string(PEA_DOCTOR_WARN), "WARN");
        ck_assert_str_eq(pea_doctor_status_to_string(PEA_DOCTOR_FAIL), "FAIL");
        ck_assert_ptr_null(pea_doctor_status_to_string(_PEA_DOCTOR_STATUS_MAX));
        ck_assert_ptr_null(pea_doctor_status_to_string(_PEA_DOCTOR_STATUS_INVALID));
}

END_TEST

START_TEST(run_all_checks)
{
        static const char *const names[] = {"newuidmap", "newgidmap",  "subuid",  "subgid",
                                            "userns",    "overlay",    "network", "pasta",
                                            "cgroups",   "runtime-dir"};
        _cleanup_free_ char *u = write_tmp("subuid", "bob:100000:65536\n");
        _cleanup_free_ char *storage = xasprintf("%s/no/such/storage", tmpdir);
        struct pea_doctor_opts o = {.uid = getuid(),
                                    .gid = getgid(),
                                    .user = "bob",
                                    .subuid_path = u,
                                    .subgid_path = u,
                                    .storage_dir = storage};
        _cleanup_(pea_doctor_report_done) struct pea_doctor_report r = {0};
        pea_doctor_run(&o, &r);
        ck_assert_uint_eq(r.n, ELEMENTSOF(names));
        for (size_t i = 0; i < r.n; i++) {
                const struct pea_doctor_check *c = &r.checks[i];
                ck_assert_str_eq(c->name, names[i]);
                ck_assert_ptr_nonnull(pea_doctor_status_to_string(c->status));
                ck_assert(*c->message);
                if (c->status == PEA_DOCTOR_OK)
                        ck_assert_ptr_null(c->fix);
                else
                        ck_assert(c->fix && *c->fix);
        }
        /* the overlay probe ran next to the storage and cleaned up after itself */
        _cleanup_strv_ char **left = NULL;
        _cleanup_closedir_ DIR *d = opendir(tmpdir);
        for (struct dirent *de = readdir(d); de; de = readdir(d))
                if (startswith(de->d_name, ".pea-doctor-"))
                        strv_push(&left, de->d_name);
        ck_assert_uint_eq(strv_length(left), 0);
        ck_assert(!pea_path_exists(storage));
}

END_TEST

static Suite *rootless_suite(void)
{
        Suite *s = suite_create("rootless");
        TCase *tc = tcase_create("rootless");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, subid_parse_by_name_and_uid);
        tcase_add_test(tc, subid_parse_no_match);
        tcase_add_test(tc, subid_read_missing_file);
        tcase_add_test(tc, rootless_idmap_layout);
        tcase_add_test(tc, rootless_idmap_without_ranges);
        tcase_add_test(tc, subid_highest);
        tcase_add_test(tc, subid_fix_commands);
        tcase_add_test(tc, check_subid_missing);
        tcase_add_test(tc, check_subid_partial);
        tcase_add_test(tc, check_subid_root_and_missing_files);
        tcase_add_test(tc, check_runtime_dir);
        tcase_add_test(tc, cgroup2_path);
        tcase_add_test(tc, format_and_json);
        tcase_add_test(tc, status_names);
        tcase_add_test(tc, run_all_checks);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(rootless_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
