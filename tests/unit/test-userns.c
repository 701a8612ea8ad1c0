/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <check.h>

#include "base.h"
#include "rootless/rootless.h"
#include "rootless/userns-internal.h"

static char tmpdir[64];

static void setup(void)
{
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/pea-test-userns-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        pea_log_set_level(PEA_LOG_ERROR);
}

static void teardown(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_rm_rf(tmpdir, &err), 0);
}

/*
 * The holder test's run root, made in the parent (unchecked fixture) so that
 * a failed test's holder is still stopped and the directory removed.
 */
static char holderdir[64];

static void holder_setup(void)
{
        snprintf(holderdir, sizeof(holderdir), "/tmp/pea-test-userns-holder-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(holderdir));
}

static void holder_teardown(void)
{
        struct pea_config c = {.rootless = true, .run_root = holderdir};
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_userns_stop(&c, &err), 0);
        ck_assert_int_eq(pea_rm_rf(holderdir, &err), 0);
}

static void write_text(const char *name, const char *text)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", tmpdir, name);
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, p, text, strlen(text), 0600, &err), 0);
}

/* A rootless configuration whose run root is the test's directory. */
static struct pea_config test_config(void)
{
        return (struct pea_config){
                .rootless = true,
                .uid = geteuid(),
                .gid = getegid(),
                .user = (char *)"",
                .run_root = tmpdir,
        };
}

static void check_pid(const char *text, pid_t want)
{
        _cleanup_error_ struct pea_error *err = NULL;
        pid_t pid = -7;
        ck_assert_int_eq(pea_userns_parse_pid(text, &pid, &err), 0);
        ck_assert_ptr_null(err);
        ck_assert_int_eq(pid, want);
}

static void check_bad_pid(const char *text)
{
        _cleanup_error_ struct pea_error *err = NULL;
        pid_t pid = -7;
        ck_assert_int_eq(pea_userns_parse_pid(text, &pid, &err), -EBADMSG);
        ck_assert_ptr_nonnull(err);
        ck_assert_int_eq(err->code, EBADMSG);
        ck_assert_ptr_nonnull(strstr(err->msg, "malformed pid"));
        ck_assert_int_eq(pid, -7); /* left alone on failure */
}

START_TEST(parse_pid)
{
        check_pid("1234\n", 1234);
        check_pid("1", 1);
        check_pid("  42 \n", 42);
        check_pid("2147483647", 2147483647);
        check_bad_pid("");
        check_bad_pid("\n");
        check_bad_pid("0\n");
        check_bad_pid("-5\n");
        check_bad_pid("12abc\n");
        check_bad_pid("12 13\n");
        check_bad_pid("2147483648\n");
        check_bad_pid("99999999999\n");
}

END_TEST

START_TEST(idmap_argv_from_subuid)
{
        write_text("subuid", "alice:100000:65536\nbob:200000:10\nalice:300000:10\n");
        _cleanup_free_ char *path = xasprintf("%s/subuid", tmpdir);
        _cleanup_free_ struct pea_idmap *m = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_rootless_idmap(path, "alice", 1000, &m, &n, &err), 0);
        _cleanup_strv_ char **argv = pea_userns_idmap_argv("/usr/bin/newuidmap", 4242, m, n);
        _cleanup_free_ char *joined = strv_join(argv, " ");
        ck_assert_str_eq(joined, "/usr/bin/newuidmap 4242 0 1000 1 1 100000 65536 65537 300000 10");
        ck_assert_uint_eq(strv_length(argv), 2 + 3 * 3);
        ck_assert_ptr_null(argv[11]);
}

END_TEST

START_TEST(idmap_argv_single)
{
        const struct pea_idmap m[] = {{.container_id = 0, .host_id = 4294967294u, .size = 1}};
        _cleanup_strv_ char **argv = pea_userns_idmap_argv("newgidmap", 1, m, 1);
        ck_assert_uint_eq(strv_length(argv), 5);
        ck_assert_str_eq(argv[0], "newgidmap");
        ck_assert_str_eq(argv[1], "1");
        ck_assert_str_eq(argv[2], "0");
        ck_assert_str_eq(argv[3], "4294967294");
        ck_assert_str_eq(argv[4], "1");
}

END_TEST

START_TEST(idmap_text)
{
        const struct pea_idmap m[] = {
                {.container_id = 0, .host_id = 1000, .size = 1},
                {.container_id = 1, .host_id = 100000, .size = 65536},
        };
        _cleanup_free_ char *two = pea_userns_idmap_text(m, 2);
        ck_assert_str_eq(two, "0 1000 1\n1 100000 65536\n");
        _cleanup_free_ char *one = pea_userns_idmap_text(m, 1);
        ck_assert_str_eq(one, "0 1000 1\n");
        _cleanup_free_ char *none = pea_userns_idmap_text(m, 0);
        ck_assert_str_eq(none, "");
}

END_TEST

static int holder_pid(const struct pea_config *c, pid_t *ret)
{
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_userns_holder_pid(c, ret, &err);
        ck_assert_ptr_null(err);
        return r;
}

START_TEST(holder_pid_rejects_non_holders)
{
        struct pea_config c = test_config();
        pid_t pid = -7;
        /* no pid file */
        ck_assert_int_eq(holder_pid(&c, &pid), 0);
        /* garbage */
        write_text(PEA_USERNS_PID_FILE, "not a pid\n");
        ck_assert_int_eq(holder_pid(&c, &pid), 0);
        /* a live process of ours that is not a holder (a reused pid) */
        _cleanup_free_ char *self = xasprintf("%d\n", (int)getpid());
        write_text(PEA_USERNS_PID_FILE, self);
        ck_assert_int_eq(holder_pid(&c, &pid), 0);
        /* init: not ours unless we are root, and never a holder */
        write_text(PEA_USERNS_PID_FILE, "1\n");
        ck_assert_int_eq(holder_pid(&c, &pid), 0);
        /* a pid nobody has */
        write_text(PEA_USERNS_PID_FILE, "2147483647\n");
        ck_assert_int_eq(holder_pid(&c, &pid), 0);
        ck_assert_int_eq(pid, -7);
        /* as root nothing is looked at */
        c.rootless = false;
        ck_assert_int_eq(holder_pid(&c, &pid), 0);
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_userns_stop(&c, &err), 0);
        ck_assert_int_eq(pea_userns_join(&c, &err), 0);
        ck_assert(pea_path_exists(tmpdir));
}

END_TEST

static char *read_proc(pid_t pid, const char *file)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
        _cleanup_error_ struct pea_error *err = NULL;
        char *text = NULL;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, path, 1 << 16, &text, NULL, &err), 0);
        return text;
}

/* The first line of a uid_map/gid_map, white space normalised. */
static char *first_map_line(pid_t pid, const char *file)
{
        _cleanup_free_ char *text = read_proc(pid, file);
        _cleanup_strv_ char **f = strv_split(text, " \t\n");
        ck_assert_uint_ge(strv_length(f), 3);
        return xasprintf("%s %s %s", f[0], f[1], f[2]);
}

/* "user:[4026531837]" */
static char *ns_link(pid_t pid, const char *ns)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/ns/%s", (int)pid, ns);
        char buf[64];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        ck_assert_int_gt(n, 0);
        buf[n] = '\0';
        return xstrdup(buf);
}

/* A real holder: started, recognised, mapped, stopped; its stale pid is rejected. */
START_TEST(holder_start_and_stop)
{
        struct pea_config c = test_config();
        c.run_root = holderdir;
        _cleanup_free_ char *pid_path = xasprintf("%s/%s", holderdir, PEA_USERNS_PID_FILE);
        _cleanup_error_ struct pea_error *err = NULL;
        pid_t started = 0, found = 0;
        ck_assert_msg(pea_userns_holder_start(&c, pid_path, &started, &err) == 0, "%s",
                      err ? err->msg : "");
        ck_assert_int_gt(started, 0);
        ck_assert_int_eq(holder_pid(&c, &found), 1);
        ck_assert_int_eq(found, started);
        _cleanup_free_ char *comm = read_proc(started, "comm");
        ck_assert_str_eq(comm, "pea-holder\n");
        _cleanup_free_ char *cmdline = read_proc(started, "cmdline");
        ck_assert_str_eq(cmdline, "pea-holder");
        _cleanup_free_ char *uidl = first_map_line(started, "uid_map");
        _cleanup_free_ char *want_uid = xasprintf("0 %u 1", (unsigned)c.uid);
        ck_assert_str_eq(uidl, want_uid);
        _cleanup_free_ char *gidl = first_map_line(started, "gid_map");
        _cleanup_free_ char *want_gid = xasprintf("0 %u 1", (unsigned)c.gid);
        ck_assert_str_eq(gidl, want_gid);
        /* the holder lives in other namespaces than ours */
        _cleanup_free_ char *ours = ns_link(getpid(), "user");
        _cleanup_free_ char *theirs = ns_link(started, "user");
        ck_assert_str_ne(ours, theirs);
        _cleanup_free_ char *our_mnt = ns_link(getpid(), "mnt");
        _cleanup_free_ char *their_mnt = ns_link(started, "mnt");
        ck_assert_str_ne(our_mnt, their_mnt);

        ck_assert_int_eq(pea_userns_stop(&c, &err), 0);
        ck_assert(!pea_path_exists(pid_path));
        ck_assert_int_eq(holder_pid(&c, &found), 0);
        /* its pid (now gone, or a zombie) is stale */
        _cleanup_free_ char *text = xasprintf("%d\n", (int)started);
        ck_assert_int_eq(
                pea_write_file_atomic_at(AT_FDCWD, pid_path, text, strlen(text), 0600, &err), 0);
        ck_assert_int_eq(holder_pid(&c, &found), 0);
        /* stopping again is fine */
        ck_assert_int_eq(pea_userns_stop(&c, &err), 0);
        ck_assert(!pea_path_exists(pid_path));
}

END_TEST

static Suite *userns_suite(void)
{
        Suite *s = suite_create("userns");
        TCase *tc = tcase_create("userns");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_unchecked_fixture(tc, holder_setup, holder_teardown);
        tcase_add_test(tc, parse_pid);
        tcase_add_test(tc, idmap_argv_from_subuid);
        tcase_add_test(tc, idmap_argv_single);
        tcase_add_test(tc, idmap_text);
        tcase_add_test(tc, holder_pid_rejects_non_holders);
        tcase_add_test(tc, holder_start_and_stop);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(userns_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
