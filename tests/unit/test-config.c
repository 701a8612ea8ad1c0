/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>

#include <sys/stat.h>

#include <check.h>

#include "base.h"

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", tmpdir, name);
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *dir = xstrdup(p);
        *strrchr(dir, '/') = '\0';
        ck_assert_int_eq(pea_mkdir_p(dir, 0755, &err), 0);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, p, text, strlen(text), 0644, &err), 0);
}

static void setup(void)
{
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/pea-test-config-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        setenv("HOME", tmpdir, 1);
        unsetenv("XDG_DATA_HOME");
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("XDG_RUNTIME_DIR");
        unsetenv("STORAGE_DRIVER");
        unsetenv("CONTAINERS_CONF");
        unsetenv("CONTAINERS_STORAGE_CONF");
        /* Pretend to be an unprivileged user, as inside pea's user namespace. */
        setenv("_PEA_ROOTLESS_UID", "4242", 1);
        setenv("_PEA_ROOTLESS_GID", "4343", 1);
}

static void teardown(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        (void)pea_rm_rf(tmpdir, &err);
}

START_TEST(rootless_defaults)
{
        struct pea_config c;
        _cleanup_error_ struct pea_error *err = NULL;
        setenv("CONTAINERS_CONF", "/nonexistent/containers.conf", 1);
        setenv("CONTAINERS_STORAGE_CONF", "/nonexistent/storage.conf", 1);
        ck_assert_int_eq(pea_config_load(&c, NULL, &err), 0);
        ck_assert(c.rootless);
        ck_assert_uint_eq(c.uid, 4242);
        ck_assert_uint_eq(c.gid, 4343);
        _cleanup_free_ char *gr = xasprintf("%s/.local/share/containers/pea", tmpdir);
        ck_assert_str_eq(c.graph_root, gr);
        /* No XDG_RUNTIME_DIR: the private /tmp fallback. */
        ck_assert_str_eq(c.run_root, "/tmp/pea-run-4242");
        ck_assert_str_eq(c.storage_driver, "");
        ck_assert_str_eq(c.storage_conf, "");
        ck_assert_str_eq(pea_config_get(&c, "engine.runtime", "dflt"), "dflt");
        pea_config_done(&c);
}

END_TEST

START_TEST(xdg_dirs)
{
        struct pea_config c;
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *data = xasprintf("%s/data", tmpdir);
        setenv("XDG_DATA_HOME", data, 1);
        setenv("CONTAINERS_CONF", "/nonexistent/containers.conf", 1);
        setenv("CONTAINERS_STORAGE_CONF", "/nonexistent/storage.conf", 1);
        /* XDG_RUNTIME_DIR owned by someone else than the effective uid: fallback. */
        _cleanup_free_ char *xrd = xasprintf("%s/xrd", tmpdir);
        ck_assert_int_eq(mkdir(xrd, 0700), 0);
        ck_assert_int_eq(chown(xrd, geteuid() + 1, (gid_t)-1) == 0 || geteuid() != 0, 1);
        setenv("XDG_RUNTIME_DIR", geteuid() == 0 ? xrd : "/", 1);
        ck_assert_int_eq(pea_config_load(&c, NULL, &err), 0);
        _cleanup_free_ char *gr = xasprintf("%s/containers/pea", data);
        ck_assert_str_eq(c.graph_root, gr);
        ck_assert_str_eq(c.run_root, "/tmp/pea-run-4242");
        pea_config_done(&c);
}

END_TEST

START_TEST(overrides_win)
{
        struct pea_config c;
        _cleanup_error_ struct pea_error *err = NULL;
        write_file("storage.conf", "[storage]\ndriver = \"vfs\"\n");
        _cleanup_free_ char *sc = xasprintf("%s/storage.conf", tmpdir);
        setenv("CONTAINERS_STORAGE_CONF", sc, 1);
        setenv("CONTAINERS_CONF", "/nonexistent/containers.conf", 1);
        ck_assert_int_eq(pea_config_load(&c, NULL, &err), 0);
        ck_assert_str_eq(c.storage_driver, "vfs");
        ck_assert_str_eq(c.storage_conf, sc);
        pea_config_done(&c);

        struct pea_config_overrides o = {
                .root = "/r", .runroot = "/rr", .storage_driver = "overlay"};
        ck_assert_int_eq(pea_config_load(&c, &o, &err), 0);
        ck_assert_str_eq(c.graph_root, "/r");
        ck_assert_str_eq(c.run_root, "/rr");
        ck_assert_str_eq(c.storage_driver, "overlay");
        pea_config_done(&c);
}

END_TEST

START_TEST(containers_conf_user_files)
{
        struct pea_config c;
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *cfg = xasprintf("%s/cfg", tmpdir);
        setenv("XDG_CONFIG_HOME", cfg, 1);
        setenv("CONTAINERS_STORAGE_CONF", "/nonexistent/storage.conf", 1);
        write_file("cfg/containers/containers.conf",
                   "[engine]\nruntime = \"runc\"\nunknown_key = 1\n[containers]\n"
                   "log_driver = \"k8s-file\"\n");
        write_file("cfg/containers/containers.conf.d/10-x.conf", "[engine]\nruntime = \"crun\"\n");
        write_file("cfg/containers/containers.conf.d/ignored.txt", "[engine]\nruntime = \"no\"\n");
        ck_assert_int_eq(pea_config_load(&c, NULL, &err), 0);
        /* The drop-in wins over the user's main file; .txt is not a drop-in. */
        ck_assert_str_eq(pea_config_get(&c, "engine.runtime", ""), "crun");
        ck_assert_str_eq(pea_config_get(&c, "containers.log_driver", ""), "k8s-file");
        _cleanup_free_ char *main_conf = xasprintf("%s/containers/containers.conf", cfg);
        ck_assert(strv_contains(c.containers_confs, main_conf));
        pea_config_done(&c);
}

END_TEST

START_TEST(bad_conf_is_an_error)
{
        struct pea_config c;
        _cleanup_error_ struct pea_error *err = NULL;
        write_file("bad.conf", "[engine\nruntime = \n");
        _cleanup_free_ char *p = xasprintf("%s/bad.conf", tmpdir);
        setenv("CONTAINERS_CONF", p, 1);
        int r = pea_config_load(&c, NULL, &err);
        ck_assert_int_lt(r, 0);
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err->msg, "loading configuration"));
        ck_assert_ptr_nonnull(strstr(err->msg, "bad.conf"));
}

END_TEST

START_TEST(xdg_runtime_dir_used)
{
        struct pea_config c;
        _cleanup_error_ struct pea_error *err = NULL;
        setenv("CONTAINERS_CONF", "/nonexistent/containers.conf", 1);
        setenv("CONTAINERS_STORAGE_CONF", "/nonexistent/storage.conf", 1);
        /* Owned by the effective uid (inside pea's user namespace that is 0). */
        setenv("XDG_RUNTIME_DIR", tmpdir, 1);
        ck_assert_int_eq(pea_config_load(&c, NULL, &err), 0);
        _cleanup_free_ char *want = xasprintf("%s/pea", tmpdir);
        ck_assert_str_eq(c.run_root, want);
        pea_config_done(&c);
}

END_TEST

START_TEST(ensure_dirs_private)
{
        struct pea_config c;
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *root = xasprintf("%s/x/root", tmpdir);
        _cleanup_free_ char *run = xasprintf("%s/x/run", tmpdir);
        struct pea_config_overrides o = {.root = root, .runroot = run};
        setenv("CONTAINERS_CONF", "/nonexistent/containers.conf", 1);
        setenv("CONTAINERS_STORAGE_CONF", "/nonexistent/storage.conf", 1);
        ck_assert_int_eq(pea_config_load(&c, &o, &err), 0);
        ck_assert_int_eq(pea_config_ensure_dirs(&c, &err), 0);
        struct stat st;
        ck_assert_int_eq(stat(root, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0700);
        ck_assert_int_eq(stat(run, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        pea_config_done(&c);
}

END_TEST

static Suite *config_suite(void)
{
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("config");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, rootless_defaults);
        tcase_add_test(tc, xdg_dirs);
        tcase_add_test(tc, xdg_runtime_dir_used);
        tcase_add_test(tc, overrides_win);
        tcase_add_test(tc, containers_conf_user_files);
        tcase_add_test(tc, bad_conf_is_an_error);
        tcase_add_test(tc, ensure_dirs_private);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(config_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
