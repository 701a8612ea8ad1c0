/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <jansson.h>
#include <sqlite3.h>

#include "base.h"
#include "state/state-internal.h"
#include "state/state.h"

/* Processes of the concurrency tests; -DNPROC=200 for a heavier run. */
#ifndef NPROC
#        define NPROC 50
#endif
#define ROWS_PER_PROC 20

static char *tmpdir;
static char *dbpath;

static void setup(void)
{
        tmpdir = xstrdup("/tmp/pea-test-state-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        dbpath = xasprintf("%s/state.db", tmpdir);
}

static void teardown(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        (void)pea_rm_rf(tmpdir, &err);
        free(dbpath);
        free(tmpdir);
}

/* A deterministic valid ID: a, b, then zeros. */
static char *make_id(unsigned a, unsigned b)
{
        return xasprintf("%08x%08x%048x", a, b, 0u);
}

static struct pea_state *open_ok(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = NULL;
        int r = pea_state_open(dbpath, &s, &err);
        ck_assert_msg(r == 0, "open: %s", err ? err->msg : "?");
        ck_assert_ptr_nonnull(s);
        return s;
}

static void add_ok(struct pea_state *s, const char *id, const char *name, const char *pod_id)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_container_row row = {
                .id = (char *)id,
                .name = (char *)name,
                .pod_id = (char *)pod_id,
                .state = (char *)"created",
        };
        int r = pea_state_container_add(s, &row, &err);
        ck_assert_msg(r == 0, "add '%s': %s", name, err ? err->msg : "?");
}

static void add_new(struct pea_state *s, unsigned a, unsigned b, const char *name,
                    const char *pod_id)
{
        _cleanup_free_ char *id = make_id(a, b);
        add_ok(s, id, name, pod_id);
}

static int count_rows(struct pea_state *s, const char *table)
{
        _cleanup_free_ char *sql = xasprintf("SELECT count(*) FROM %s", table);
        int64_t n = -1;
        ck_assert_int_eq(state_query_int(s, sql, &n, NULL), 0);
        return (int)n;
}

static char *journal_mode(struct pea_state *s)
{
        sqlite3_stmt *st = NULL;
        ck_assert_int_eq(sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL),
                         SQLITE_OK);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        char *m = xstrdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return m;
}

START_TEST(test_open_migrate_reopen)
{
        struct pea_state *s = open_ok();
        int v = -1;
        ck_assert_int_eq(state_schema_version(s, &v, NULL), 0);
        ck_assert_int_eq(v, state_schema_latest());
        ck_assert_int_ge(v, 1);
        _cleanup_free_ char *mode = journal_mode(s);
        ck_assert_str_eq(mode, "wal");
        int64_t fk = 0, sync = -1;
        ck_assert_int_eq(state_query_int(s, "PRAGMA foreign_keys", &fk, NULL), 0);
        ck_assert_int_eq(fk, 1);
        ck_assert_int_eq(state_query_int(s, "PRAGMA synchronous", &sync, NULL), 0);
        ck_assert_int_eq(sync, 1); /* NORMAL */
        static const char *const tables[] = {"containers",  "pods",    "images",
                                             "image_names", "volumes", "networks"};
        for (size_t i = 0; i < ELEMENTSOF(tables); i++)
                ck_assert_int_eq(count_rows(s, tables[i]), 0);
        add_new(s, 1, 1, "keep", NULL);
        s = pea_state_close(s);
        ck_assert_ptr_null(s);

        struct stat st;
        ck_assert_int_eq(stat(dbpath, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);

        s = open_ok();
        ck_assert_int_eq(state_schema_version(s, &v, NULL), 0);
        ck_assert_int_eq(v, state_schema_latest());
        ck_assert_int_eq(count_rows(s, "containers"), 1);
        pea_state_close(s);
}

END_TEST

START_TEST(test_open_errors)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = open_ok();
        ck_assert_int_eq(state_exec(s, "PRAGMA user_version = 99", NULL), 0);
        pea_state_close(s);
        s = NULL;
        ck_assert_int_eq(pea_state_open(dbpath, &s, &err), -ENOTSUP);
        ck_assert_ptr_null(s);
        ck_assert_ptr_nonnull(strstr(err->msg, "schema version 99 is newer"));
        ck_assert_ptr_nonnull(strstr(err->msg, dbpath));
        pea_error_clear(&err);

        _cleanup_free_ char *link = xasprintf("%s/link.db", tmpdir);
        ck_assert_int_eq(symlink(dbpath, link), 0);
        ck_assert_int_eq(pea_state_open(link, &s, &err), -ELOOP);
        pea_error_clear(&err);

        ck_assert_int_eq(pea_state_open(tmpdir, &s, &err), -EISDIR);
        pea_error_clear(&err);

        _cleanup_free_ char *missing = xasprintf("%s/no/such/dir/state.db", tmpdir);
        ck_assert_int_eq(pea_state_open(missing, &s, &err), -ENOENT);
        ck_assert_ptr_null(s);
}

END_TEST

START_TEST(test_cloexec)
{
        struct pea_state *s = open_ok();
        add_new(s, 2, 2, "c", NULL);
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        ck_assert_ptr_nonnull(d);
        int found = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                char target[4096];
                _cleanup_free_ char *p = xasprintf("/proc/self/fd/%s", de->d_name);
                ssize_t n = readlink(p, target, sizeof(target) - 1);
                if (n < 0)
                        continue;
                target[n] = '\0';
                if (!startswith(target, dbpath))
                        continue;
                unsigned fd = 0;
                ck_assert_int_eq(safe_atou32(de->d_name, &fd), 0);
                int flags = fcntl((int)fd, F_GETFD);
                ck_assert_msg(flags >= 0 && (flags & FD_CLOEXEC), "'%s' is not O_CLOEXEC", target);
                found++;
        }
        ck_assert_int_ge(found, 3); /* db, -wal, -shm */
        pea_state_close(s);
}

END_TEST

START_TEST(test_generate_id)
{
        _cleanup_free_ char *a = pea_generate_id();
        _cleanup_free_ char *b = pea_generate_id();
        ck_assert_uint_eq(strlen(a), 64);
        ck_assert(pea_id_is_valid(a));
        ck_assert(pea_id_is_valid(b));
        ck_assert_str_ne(a, b);
        ck_assert_uint_lt(strspn(a, "0123456789"), 12);
        ck_assert(!pea_id_is_valid("abc"));
        _cleanup_free_ char *upper = make_id(0xABCDEF, 0);
        for (char *p = upper; *p; p++)
                *p = (char)(*p >= 'a' ? *p - 32 : *p);
        ck_assert(!pea_id_is_valid(upper));
        ck_assert(!pea_id_is_valid(NULL));
}

END_TEST

static void assert_err(int r, int code, struct pea_error **err, const char *msg)
{
        ck_assert_int_eq(r, -code);
        ck_assert_ptr_nonnull(*err);
        ck_assert_int_eq((*err)->code, code);
        if (msg)
                ck_assert_str_eq((*err)->msg, msg);
        pea_error_clear(err);
}

START_TEST(test_container_rows)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = open_ok();
        _cleanup_free_ char *id = pea_generate_id();
        _cleanup_json_ json_t *config = json_pack("{s:[s,s], s:i}", "cmd", "sh", "-c", "tty", 1);
        struct pea_container_row in = {
                .id = id,
                .name = (char *)"web",
                .image_id = (char *)"img",
                .image_name = (char *)"docker.io/library/alpine:latest",
                .state = (char *)"created",
                .config = config,
                .created = 1000,
        };
        ck_assert_int_eq(pea_state_container_add(s, &in, &err), 0);

        struct pea_container_row out = {0};
        ck_assert_int_eq(pea_state_container_get_by_id(s, id, &out, &err), 0);
        ck_assert_str_eq(out.id, id);
        ck_assert_str_eq(out.name, "web");
        ck_assert_str_eq(out.image_id, "img");
        ck_assert_str_eq(out.image_name, "docker.io/library/alpine:latest");
        ck_assert_ptr_null(out.pod_id);
        ck_assert_str_eq(out.state, "created");
        ck_assert(json_equal(out.config, config));
        ck_assert_int_eq(out.created, 1000);
        ck_assert_int_eq(out.pid, 0);
        pea_container_row_done(&out);
        ck_assert_ptr_null(out.id);

        ck_assert_int_eq(pea_state_container_get_by_name(s, "web", &out, &err), 0);
        ck_assert_str_eq(out.id, id);
        pea_container_row_done(&out);
        const char *keys[] = {id, "web"};
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                ck_assert_int_eq(pea_state_container_lookup(s, keys[i], &out, &err), 0);
                ck_assert_str_eq(out.id, id);
                pea_container_row_done(&out);
        }
        _cleanup_free_ char *short_id = xstrndup(id, 12);
        ck_assert_int_eq(pea_state_container_lookup(s, short_id, &out, &err), 0);
        ck_assert_str_eq(out.id, id);
        pea_container_row_done(&out);
        pea_state_close(s);
}

END_TEST

START_TEST(test_container_conflicts)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = open_ok();
        _cleanup_free_ char *id = pea_generate_id();
        struct pea_container_row in = {.id = id, .name = (char *)"web", .state = (char *)"created"};
        ck_assert_int_eq(pea_state_container_add(s, &in, &err), 0);

        /* Duplicate name, duplicate ID. */
        _cleanup_free_ char *id2 = pea_generate_id();
        _cleanup_free_ char *want = xasprintf(
                "the container name 'web' is already in use by %s. You have to remove that "
                "container to be able to reuse that name: that name is already in use",
                id);
        in.id = id2;
        assert_err(pea_state_container_add(s, &in, &err), EEXIST, &err, want);
        in.id = id;
        in.name = (char *)"other";
        assert_err(pea_state_container_add(s, &in, &err), EEXIST, &err, NULL);
        ck_assert_int_eq(count_rows(s, "containers"), 1);

        /* Bad input never reaches the database. */
        in.id = (char *)"nothex";
        assert_err(pea_state_container_add(s, &in, &err), EINVAL, &err,
                   "invalid container ID 'nothex'");
        in.id = id2;
        in.state = (char *)"dancing";
        assert_err(pea_state_container_add(s, &in, &err), EINVAL, &err,
                   "invalid container state 'dancing'");
        pea_state_close(s);
}

END_TEST

START_TEST(test_container_update)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = open_ok();
        _cleanup_free_ char *a = make_id(0xa, 1);
        _cleanup_free_ char *b = make_id(0xb, 1);
        add_ok(s, b, "second", NULL); /* created later: now */
        struct pea_container_row first = {
                .id = a, .name = (char *)"first", .state = (char *)"created", .created = 5};
        ck_assert_int_eq(pea_state_container_add(s, &first, &err), 0);

        struct pea_container_row *rows = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_state_container_list(s, NULL, &rows, &n, &err), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(rows[0].name, "first");
        ck_assert_str_eq(rows[1].name, "second");
        ck_assert_int_gt(rows[1].created, 1000000000LL * 1000000000LL);
        rows = pea_container_rows_free(rows, n);

        ck_assert_int_eq(pea_state_container_set_state(s, a, "running", 4242, 0, 77, 0, &err), 0);
        struct pea_container_row out = {0};
        ck_assert_int_eq(pea_state_container_get_by_id(s, a, &out, &err), 0);
        ck_assert_str_eq(out.state, "running");
        ck_assert_int_eq(out.pid, 4242);
        ck_assert_int_eq(out.started_at, 77);
        ck_assert_int_eq(out.created, 5);

        /* Read-modify-write of the whole row. */
        free(out.state);
        out.state = xstrdup("exited");
        out.pid = 0;
        out.exit_code = 137;
        out.finished_at = 99;
        free(out.name);
        out.name = xstrdup("renamed");
        ck_assert_int_eq(pea_state_container_update(s, &out, &err), 0);
        pea_container_row_done(&out);
        ck_assert_int_eq(pea_state_container_lookup(s, "renamed", &out, &err), 0);
        ck_assert_str_eq(out.state, "exited");
        ck_assert_int_eq(out.exit_code, 137);
        ck_assert_int_eq(out.finished_at, 99);
        ck_assert_int_eq(out.started_at, 77);
        free(out.name);
        out.name = xstrdup("second");
        assert_err(pea_state_container_update(s, &out, &err), EEXIST, &err, NULL);
        pea_container_row_done(&out);
        assert_err(pea_state_container_set_state(s, a, "bogus", 0, 0, 0, 0, &err), EINVAL, &err,
                   NULL);
        pea_state_close(s);
}

END_TEST

START_TEST(test_container_remove)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = open_ok();
        _cleanup_free_ char *a = make_id(0xa, 1);
        add_ok(s, a, "renamed", NULL);
        add_new(s, 0xb, 1, "other", NULL);
        ck_assert_int_eq(pea_state_container_remove(s, a, &err), 0);
        struct pea_container_row out = {0};
        _cleanup_free_ char *gone =
                xasprintf("no container with name or ID '%s' found: no such container", a);
        assert_err(pea_state_container_remove(s, a, &err), ENOENT, &err, gone);
        assert_err(pea_state_container_get_by_id(s, a, &out, &err), ENOENT, &err, gone);
        assert_err(pea_state_container_lookup(s, "renamed", &out, &err), ENOENT, &err,
                   "no container with name or ID 'renamed' found: no such container");
        assert_err(pea_state_container_set_state(s, a, "running", 1, 0, 0, 0, &err), ENOENT, &err,
                   gone);
        ck_assert_ptr_null(out.id); /* untouched on failure */
        ck_assert_int_eq(count_rows(s, "containers"), 1);
        pea_state_close(s);
}

END_TEST

START_TEST(test_container_prefix)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = open_ok();
        _cleanup_free_ char *a = make_id(0xabc10000, 0);
        _cleanup_free_ char *b = make_id(0xabc20000, 0);
        _cleanup_free_ char *c = make_id(0xfff00000, 0);
        add_ok(s, a, "one", NULL);
        add_ok(s, b, "two", NULL);
        add_ok(s, c, "abc", NULL); /* a name that is also a prefix of a and b */

        struct {
                const char *key;
                const char *id;
        } found[] = {{"abc1", a}, {"abc2", b}, {"abc", c}, {"f", c}, {"one", a}, {b, b}};

        for (size_t i = 0; i < ELEMENTSOF(found); i++) {
                struct pea_container_row out = {0};
                int r = pea_state_container_lookup(s, found[i].key, &out, &err);
                ck_assert_msg(r == 0, "lookup '%s': %s", found[i].key, err ? err->msg : "?");
                ck_assert_str_eq(out.id, found[i].id);
                pea_container_row_done(&out);
        }

        struct pea_container_row out = {0};
        assert_err(pea_state_container_lookup(s, "ab", &out, &err), EINVAL, &err,
                   "more than one result for container 'ab'");
        assert_err(pea_state_container_lookup(s, "abd", &out, &err), ENOENT, &err,
                   "no container with name or ID 'abd' found: no such container");
        static const char *const missing[] = {"", "a*", "[a-f]*", "ABC1", "abc1 "};
        for (size_t i = 0; i < ELEMENTSOF(missing); i++)
                assert_err(pea_state_container_lookup(s, missing[i], &out, &err), ENOENT, &err,
                           NULL);
        /* Exact lookups never match prefixes. */
        assert_err(pea_state_container_get_by_id(s, "abc1", &out, &err), ENOENT, &err, NULL);
        assert_err(pea_state_container_get_by_name(s, "ab", &out, &err), ENOENT, &err, NULL);
        ck_assert_ptr_null(out.id);
        pea_state_close(s);
}

END_TEST

START_TEST(test_pod_add)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = open_ok();
        _cleanup_free_ char *pid1 = make_id(0x90d1, 0);
        struct pea_pod_row pod = {.id = pid1, .name = (char *)"p1"};
        ck_assert_int_eq(pea_state_pod_add(s, &pod, &err), 0);
        pod.name = (char *)"p1-again";
        assert_err(pea_state_pod_add(s, &pod, &err), EEXIST, &err, NULL);
        pod.id = (char *)"0123";
        assert_err(pea_state_pod_add(s, &pod, &err), EINVAL, &err, "invalid pod ID '0123'");

        _cleanup_free_ char *pid2 = make_id(0x90d2, 0);
        struct pea_pod_row dup = {.id = pid2, .name = (char *)"p1"};
        assert_err(pea_state_pod_add(s, &dup, &err), EEXIST, &err,
                   "error adding pod to state: name 'p1' is in use: pod already exists");
        dup.name = (char *)"p2";
        ck_assert_int_eq(pea_state_pod_add(s, &dup, &err), 0);
        ck_assert_int_eq(count_rows(s, "pods"), 2);
        pea_state_close(s);
}

END_TEST

START_TEST(test_pod_members)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = open_ok();
        _cleanup_free_ char *pid1 = make_id(0x90d1, 0);
        _cleanup_free_ char *pid2 = make_id(0x90d2, 0);
        _cleanup_free_ char *infra = make_id(0x1f4a, 0);
        struct pea_pod_row pod = {.id = pid1, .name = (char *)"p1"};
        ck_assert_int_eq(pea_state_pod_add(s, &pod, &err), 0);
        pod = (struct pea_pod_row){.id = pid2, .name = (char *)"p2"};
        ck_assert_int_eq(pea_state_pod_add(s, &pod, &err), 0);

        /* Containers and pods share one name space. */
        _cleanup_free_ char *clash = xasprintf(
                "the container name 'p1' is already in use by %s. You have to remove that "
                "container to be able to reuse that name: that name is already in use",
                pid1);
        struct pea_container_row ctr = {
                .id = infra, .name = (char *)"p1", .state = (char *)"created", .pod_id = pid1};
        assert_err(pea_state_container_add(s, &ctr, &err), EEXIST, &err, clash);
        ctr.name = (char *)"p1-infra";
        ctr.pod_id = (char *)"nosuchpod";
        assert_err(pea_state_container_add(s, &ctr, &err), ENOENT, &err,
                   "no pod with name or ID 'nosuchpod' found: no such pod");
        ctr.pod_id = pid1;
        ck_assert_int_eq(pea_state_container_add(s, &ctr, &err), 0);
        add_new(s, 0xc0, 0, "loose", NULL);

        struct pea_container_row *rows = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_state_container_list(s, pid1, &rows, &n, &err), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(rows[0].name, "p1-infra");
        rows = pea_container_rows_free(rows, n);

        assert_err(pea_state_pod_remove(s, pid1, &err), EBUSY, &err, NULL);
        ck_assert_int_eq(pea_state_container_remove(s, infra, &err), 0);
        ck_assert_int_eq(pea_state_pod_remove(s, pid1, &err), 0);
        assert_err(pea_state_pod_remove(s, pid1, &err), ENOENT, &err, NULL);
        ck_assert_int_eq(count_rows(s, "pods"), 1);
        pea_state_close(s);
}

END_TEST

START_TEST(test_pod_lookup)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = open_ok();
        _cleanup_free_ char *pid1 = make_id(0x90d1, 0);
        _cleanup_free_ char *pid2 = make_id(0x90d2, 0);
        _cleanup_free_ char *infra = make_id(0x1f4a, 0);
        _cleanup_json_ json_t *config = json_pack("{s:s}", "share", "net,ipc,uts");
        struct pea_pod_row pod = {.id = pid1, .name = (char *)"p1", .config = config};
        ck_assert_int_eq(pea_state_pod_add(s, &pod, &err), 0);
        pod = (struct pea_pod_row){.id = pid2, .name = (char *)"p2"};
        ck_assert_int_eq(pea_state_pod_add(s, &pod, &err), 0);
        add_new(s, 0xc0, 0, "loose", NULL);

        struct pea_pod_row out = {0};
        ck_assert_int_eq(pea_state_pod_lookup(s, "p1", &out, &err), 0);
        ck_assert_str_eq(out.id, pid1);
        ck_assert(json_equal(out.config, config));
        ck_assert_ptr_null(out.infra_id);
        out.infra_id = xstrdup(infra);
        ck_assert_int_eq(pea_state_pod_update(s, &out, &err), 0);
        pea_pod_row_done(&out);
        ck_assert_int_eq(pea_state_pod_get_by_id(s, pid1, &out, &err), 0);
        ck_assert_str_eq(out.infra_id, infra);
        ck_assert_int_gt(out.created, 0);
        pea_pod_row_done(&out);
        ck_assert_int_eq(pea_state_pod_lookup(s, "000090d2", &out, &err), 0);
        ck_assert_str_eq(out.name, "p2");
        pea_pod_row_done(&out);
        assert_err(pea_state_pod_lookup(s, "000090d", &out, &err), EINVAL, &err,
                   "more than one result for pod '000090d'");
        assert_err(pea_state_pod_lookup(s, "loose", &out, &err), ENOENT, &err,
                   "no pod with name or ID 'loose' found: no such pod");

        struct pea_pod_row *pods = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_state_pod_list(s, &pods, &n, &err), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(pods[0].name, "p1");
        pods = pea_pod_rows_free(pods, n);
        pea_state_close(s);
}

END_TEST

/* The schema itself enforces what the API checks, for code that bypasses it. */
START_TEST(test_schema_constraints)
{
        struct pea_state *s = open_ok();
        _cleanup_free_ char *id = make_id(1, 2);
        _cleanup_free_ char *bad_pod = xasprintf(
                "INSERT INTO containers (id, name, state, pod_id) VALUES ('%s', 'x', 'created', "
                "'%s')",
                id, id);
        ck_assert_int_eq(sqlite3_exec(s->db, bad_pod, NULL, NULL, NULL),
                         SQLITE_CONSTRAINT_FOREIGNKEY);
        _cleanup_free_ char *bad_state = xasprintf(
                "INSERT INTO containers (id, name, state) VALUES ('%s', 'x', 'dancing')", id);
        ck_assert_int_eq(sqlite3_exec(s->db, bad_state, NULL, NULL, NULL), SQLITE_CONSTRAINT_CHECK);
        ck_assert_int_eq(sqlite3_exec(s->db,
                                      "INSERT INTO containers (id, name, state) "
                                      "VALUES ('ABC', 'x', 'created')",
                                      NULL, NULL, NULL),
                         SQLITE_CONSTRAINT_CHECK);
        ck_assert_int_eq(count_rows(s, "containers"), 0);

        _cleanup_free_ char *img = xasprintf(
                "INSERT INTO images (id, digest, size) VALUES ('%s', 'sha256:%s', 10);"
                "INSERT INTO image_names VALUES ('docker.io/library/alpine:latest', '%s');"
                "INSERT INTO image_names VALUES ('localhost/a:1', '%s');",
                id, id, id, id);
        ck_assert_int_eq(sqlite3_exec(s->db, img, NULL, NULL, NULL), SQLITE_OK);
        ck_assert_int_eq(count_rows(s, "image_names"), 2);
        ck_assert_int_eq(sqlite3_exec(s->db, "INSERT INTO image_names VALUES ('x', 'nosuchimage')",
                                      NULL, NULL, NULL),
                         SQLITE_CONSTRAINT_FOREIGNKEY);
        ck_assert_int_eq(sqlite3_exec(s->db, "DELETE FROM images", NULL, NULL, NULL), SQLITE_OK);
        ck_assert_int_eq(count_rows(s, "image_names"), 0);

        _cleanup_free_ char *pod = make_id(3, 3);
        struct pea_pod_row p = {.id = pod, .name = (char *)"pod"};
        ck_assert_int_eq(pea_state_pod_add(s, &p, NULL), 0);
        add_ok(s, id, "member", pod);
        ck_assert_int_eq(sqlite3_exec(s->db, "DELETE FROM pods", NULL, NULL, NULL),
                         SQLITE_CONSTRAINT_FOREIGNKEY);
        ck_assert_int_eq(count_rows(s, "pods"), 1);
        pea_state_close(s);
}

END_TEST

static int add_two_then_fail(struct pea_state *s, void *userdata, struct pea_error **err)
{
        int *calls = userdata;
        (*calls)++;
        _cleanup_free_ char *a = make_id(0x70, 1);
        _cleanup_free_ char *b = make_id(0x70, 2);
        struct pea_container_row row = {.id = a, .name = (char *)"t1", .state = (char *)"created"};
        int r = pea_state_container_add(s, &row, err);
        if (r < 0)
                return r;
        row.id = b;
        row.name = (char *)"t2";
        r = pea_state_container_add(s, &row, err);
        if (r < 0)
                return r;
        return *calls == 1 ? pea_error_set(err, EIO, "something failed after two adds") : 7;
}

static int add_duplicate(struct pea_state *s, void *userdata _unused_, struct pea_error **err)
{
        _cleanup_free_ char *a = make_id(0x71, 1);
        _cleanup_free_ char *b = make_id(0x71, 2);
        struct pea_container_row row = {.id = a, .name = (char *)"d", .state = (char *)"created"};
        int r = pea_state_container_add(s, &row, err);
        row.id = b;
        return r < 0 ? r : pea_state_container_add(s, &row, err);
}

START_TEST(test_transaction)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_state *s = open_ok();
        int calls = 0;
        assert_err(pea_state_transaction(s, add_two_then_fail, &calls, &err), EIO, &err,
                   "something failed after two adds");
        ck_assert_int_eq(count_rows(s, "containers"), 0);
        ck_assert(sqlite3_get_autocommit(s->db));

        ck_assert_int_eq(pea_state_transaction(s, add_two_then_fail, &calls, &err), 7);
        ck_assert_int_eq(count_rows(s, "containers"), 2);

        assert_err(pea_state_transaction(s, add_duplicate, NULL, &err), EEXIST, &err, NULL);
        ck_assert_int_eq(count_rows(s, "containers"), 2);
        struct pea_container_row out = {0};
        assert_err(pea_state_container_get_by_name(s, "d", &out, &err), ENOENT, &err, NULL);

        /* The store is usable after all of that. */
        add_new(s, 0x72, 0, "after", NULL);
        ck_assert_int_eq(count_rows(s, "containers"), 3);
        pea_state_close(s);
}

END_TEST

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Holds the write lock for hold_ms, then commits and exits; tells the parent on fd. */
static _noreturn_ void hold_write_lock(int fd, int hold_ms)
{
        struct pea_state *s = NULL;
        if (pea_state_open(dbpath, &s, NULL) < 0 || state_exec(s, "BEGIN IMMEDIATE", NULL) < 0)
                _exit(2);
        if (write(fd, "x", 1) != 1)
                _exit(3);
        usleep((useconds_t)hold_ms * 1000);
        int r = state_exec(s, "COMMIT", NULL);
        pea_state_close(s);
        _exit(r < 0 ? 4 : 0);
}

/* With a tiny busy timeout, BEGIN IMMEDIATE fails with SQLITE_BUSY: the helper must retry. */
START_TEST(test_busy_retry)
{
        pea_state_close(open_ok());
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                hold_write_lock(p[1], 400);
        close(p[1]);
        char c;
        ck_assert_int_eq(read(p[0], &c, 1), 1);
        close(p[0]);

        struct pea_state *s = open_ok();
        state_set_busy_timeout(s, 5);
        int64_t start = now_ms();
        add_new(s, 0xb5, 0, "waited", NULL);
        ck_assert_int_ge(now_ms() - start, 200);
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ck_assert_int_eq(count_rows(s, "containers"), 1);
        pea_state_close(s);
}

END_TEST

/* Child of the concurrency tests: opens its own handle and adds rows, one transaction each. */
static _noreturn_ void writer(unsigned proc, int rows, int barrier)
{
        char c;
        if (read(barrier, &c, 1) < 0)
                _exit(2);
        struct pea_state *s = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        if (pea_state_open(dbpath, &s, &err) < 0) {
                fprintf(stderr, "writer %u: %s\n", proc, err->msg);
                _exit(1);
        }
        int v = 0;
        if (state_schema_version(s, &v, &err) < 0 || v != state_schema_latest())
                _exit(3);
        for (int i = 0; i < rows; i++) {
                _cleanup_free_ char *id = make_id(proc, (unsigned)i);
                _cleanup_free_ char *name = xasprintf("c-%u-%d", proc, i);
                struct pea_container_row row = {.id = id, .name = name, .state = (char *)"created"};
                if (pea_state_container_add(s, &row, &err) < 0) {
                        fprintf(stderr, "writer %u row %d: %s\n", proc, i, err->msg);
                        _exit(1);
                }
        }
        pea_state_close(s);
        _exit(0);
}

/* Forks nproc writers, releases them at once, and checks that all of them succeeded. */
static void run_writers(unsigned nproc, int rows)
{
        int barrier[2];
        ck_assert_int_eq(pipe2(barrier, O_CLOEXEC), 0);
        pid_t pids[NPROC];
        ck_assert_uint_le(nproc, NPROC);
        for (unsigned i = 0; i < nproc; i++) {
                pids[i] = fork();
                ck_assert_int_ge(pids[i], 0);
                if (pids[i] == 0) {
                        close(barrier[1]);
                        writer(i, rows, barrier[0]);
                }
        }
        close(barrier[0]);
        close(barrier[1]); /* go */
        unsigned ok = 0;
        for (unsigned i = 0; i < nproc; i++) {
                int status = 0;
                ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        ok++;
        }
        ck_assert_uint_eq(ok, nproc);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(test_concurrent_writers)
{
        _cleanup_error_ struct pea_error *err = NULL;
        pea_state_close(open_ok()); /* no handle may be open across fork() */
        run_writers(NPROC, ROWS_PER_PROC);

        struct pea_state *s = open_ok();
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_state_container_list(s, NULL, &rows, &n, &err), 0);
        ck_assert_uint_eq(n, NPROC * ROWS_PER_PROC);
        _cleanup_strv_ char **got = xcalloc(n + 1, sizeof(char *));
        _cleanup_strv_ char **want = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                got[i] = xstrdup(rows[i].id);
                want[i] = make_id((unsigned)(i / ROWS_PER_PROC), (unsigned)(i % ROWS_PER_PROC));
        }
        qsort(got, n, sizeof(char *), cmp_str);
        qsort(want, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++)
                ck_assert_str_eq(got[i], want[i]);
        rows = pea_container_rows_free(rows, n);
        pea_state_close(s);
}

END_TEST

START_TEST(test_concurrent_first_open)
{
        ck_assert_int_ne(access(dbpath, F_OK), 0);
        run_writers(NPROC, 1);
        struct pea_state *s = open_ok();
        int v = 0;
        ck_assert_int_eq(state_schema_version(s, &v, NULL), 0);
        ck_assert_int_eq(v, state_schema_latest());
        ck_assert_int_eq(count_rows(s, "containers"), NPROC);
        _cleanup_free_ char *mode = journal_mode(s);
        ck_assert_str_eq(mode, "wal");
        pea_state_close(s);
}

END_TEST

START_TEST(test_counts)
{
        struct pea_state *s = open_ok();
        add_new(s, 1, 0, "a", NULL);
        add_new(s, 2, 0, "b", NULL);
        add_new(s, 3, 0, "c", NULL);
        _cleanup_free_ char *a = make_id(1, 0);
        ck_assert_int_eq(pea_state_container_set_state(s, a, "running", 1, 0, 1, 0, NULL), 0);
        _cleanup_json_ json_t *counts = NULL;
        ck_assert_int_eq(pea_state_counts(s, &counts, NULL), 0);
        _cleanup_json_ json_t *want = json_pack(
                "{s:{s:i, s:i, s:i, s:i}, s:i, s:i, s:i}", "containers", "number", 3, "paused", 0,
                "running", 1, "stopped", 2, "images", 0, "pods", 0, "volumes", 0);
        ck_assert(json_equal(counts, want));
        pea_state_close(s);
}

END_TEST

static Suite *state_suite(void)
{
        Suite *su = suite_create("state");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_open_migrate_reopen);
        tcase_add_test(tc, test_open_errors);
        tcase_add_test(tc, test_cloexec);
        tcase_add_test(tc, test_generate_id);
        tcase_add_test(tc, test_container_rows);
        tcase_add_test(tc, test_container_conflicts);
        tcase_add_test(tc, test_container_update);
        tcase_add_test(tc, test_container_remove);
        tcase_add_test(tc, test_container_prefix);
        tcase_add_test(tc, test_pod_add);
        tcase_add_test(tc, test_pod_members);
        tcase_add_test(tc, test_pod_lookup);
        tcase_add_test(tc, test_schema_constraints);
        tcase_add_test(tc, test_transaction);
        tcase_add_test(tc, test_counts);
        tcase_add_test(tc, test_busy_retry);
        tcase_add_test(tc, test_concurrent_writers);
        tcase_add_test(tc, test_concurrent_first_open);
        suite_add_tcase(su, tc);
        return su;
}

int main(void)
{
        SRunner *sr = srunner_create(state_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
