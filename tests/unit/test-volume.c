/* SPDX-License-Identifier: Apache-2.0 */
/* lib/volume and the volume rows of lib/state. Runs as root (owners, mounts). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <check.h>
#include <jansson.h>

#include "base.h"
#include "container/container.h"
#include "runtime/specgen.h"
#include "state/state.h"
#include "units.h"
#include "volume/volume.h"

#ifndef TMPFS_MAGIC
#        define TMPFS_MAGIC 0x01021994
#endif

static char *tmpdir;
static char *graph;
static struct pea_state *st;

static void setup(void)
{
        tmpdir = xstrdup("/tmp/pea-test-volume-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        graph = xasprintf("%s/graph", tmpdir);
        ck_assert_int_eq(pea_mkdir_p(graph, 0700, NULL), 0);
        _cleanup_free_ char *db = xasprintf("%s/state.db", graph);
        ck_assert_int_eq(pea_state_open(db, &st, NULL), 0);
}

static void teardown(void)
{
        st = pea_state_close(st);
        (void)pea_rm_rf(tmpdir, NULL);
        free(graph);
        free(tmpdir);
}

static struct pea_volume *create_ok(const char *name, char **labels, char **opts)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_volume_create_opts o = {.name = name, .labels = labels, .opts = opts};
        struct pea_volume *vol = NULL;
        bool created = false;
        int r = pea_volume_create(st, graph, &o, &vol, &created, &err);
        ck_assert_msg(r == 0, "create '%s': %s", name ? name : "", err ? err->msg : "?");
        ck_assert(created);
        return vol;
}

/* Number of entries in a directory other than . and .. */
static int count_entries(const char *path)
{
        _cleanup_closedir_ DIR *d = opendir(path);
        ck_assert_ptr_nonnull(d);
        int n = 0;
        struct dirent *de = NULL;
        while ((de = readdir(d)))
                n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
        return n;
}

/* A container row that uses the given volumes. */
static char *add_container(const char *name, char **volumes)
{
        char *id = pea_generate_id();
        struct pea_container_row row = {.id = id, .name = (char *)name, .state = (char *)"created"};
        ck_assert_int_eq(pea_state_container_add(st, &row, NULL), 0);
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_state_container_set_volumes(st, id, volumes, &err);
        ck_assert_msg(r == 0, "set volumes: %s", err ? err->msg : "?");
        return id;
}

START_TEST(test_create_lookup)
{
        _cleanup_volume_ struct pea_volume *vol = create_ok("v1", NULL, NULL);
        _cleanup_free_ char *mp = xasprintf("%s/volumes/v1/_data", graph);
        ck_assert_str_eq(vol->row.mountpoint, mp);
        ck_assert_str_eq(vol->row.driver, "local");
        ck_assert(vol->row.needs_copy_up && vol->row.needs_chown && !vol->row.anonymous);
        struct stat sb;
        ck_assert_int_eq(stat(mp, &sb), 0);
        ck_assert(S_ISDIR(sb.st_mode));
        ck_assert_int_eq(sb.st_mode & 07777, 0755);

        _cleanup_volume_ struct pea_volume *again = NULL;
        ck_assert_int_eq(pea_volume_lookup(st, "v1", &again, NULL), 0);
        ck_assert_str_eq(again->row.mountpoint, mp);
        ck_assert_int_eq(pea_volume_exists(st, "v1", NULL), 1);
        ck_assert_int_eq(pea_volume_exists(st, "nope", NULL), 0);

        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_volume *none = NULL;
        ck_assert_int_eq(pea_volume_lookup(st, "nope", &none, &err), -ENOENT);
        ck_assert_str_eq(err->msg, "no volume with name \"nope\" found: no such volume");
        ck_assert_ptr_null(none);
}

END_TEST

START_TEST(test_duplicate_and_ignore)
{
        _cleanup_volume_ struct pea_volume *vol = create_ok("dup", NULL, NULL);
        _cleanup_free_ char *marker = xasprintf("%s/keep", vol->row.mountpoint);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, marker, "x", 1, 0644, NULL), 0);

        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_volume_create_opts o = {.name = "dup"};
        struct pea_volume *v2 = NULL;
        ck_assert_int_eq(pea_volume_create(st, graph, &o, &v2, NULL, &err), -EEXIST);
        ck_assert_str_eq(err->msg, "volume with name dup already exists: volume already exists");
        ck_assert(pea_path_exists(marker));

        o.ignore = true;
        bool created = true;
        _cleanup_volume_ struct pea_volume *v3 = NULL;
        ck_assert_int_eq(pea_volume_create(st, graph, &o, &v3, &created, NULL), 0);
        ck_assert(!created);
        ck_assert_str_eq(v3->row.name, "dup");
        ck_assert(pea_path_exists(marker));

        /* lookup_or_create: the same existing volume, then a new one */
        _cleanup_volume_ struct pea_volume *v4 = NULL, *v5 = NULL;
        ck_assert_int_eq(pea_volume_lookup_or_create(st, graph, "dup", &v4, &created, NULL), 0);
        ck_assert(!created);
        ck_assert_int_eq(pea_volume_lookup_or_create(st, graph, "fresh", &v5, &created, NULL), 0);
        ck_assert(created);
}

END_TEST

START_TEST(test_bad_input)
{
        static const char *const bad_names[] = {"", "-x", ".x", "a b", "a/b", "_x"};
        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
                _cleanup_error_ struct pea_error *err = NULL;
                struct pea_volume_create_opts o = {.name = bad_names[i]};
                struct pea_volume *v = NULL;
                ck_assert_int_eq(pea_volume_create(st, graph, &o, &v, NULL, &err), -EINVAL);
                ck_assert_ptr_nonnull(strstr(err->msg, "names must match"));
        }
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_volume_create_opts o = {.name = "z", .driver = "foo"};
        struct pea_volume *v = NULL;
        ck_assert_int_eq(pea_volume_create(st, graph, &o, &v, NULL, &err), -ENOTSUP);
        ck_assert_ptr_nonnull(strstr(err->msg, "no volume plugin with name foo available"));
        pea_error_clear(&err);

        char *opts[] = {(char *)"foo=bar", NULL};
        o = (struct pea_volume_create_opts){.name = "z", .opts = opts};
        ck_assert_int_eq(pea_volume_create(st, graph, &o, &v, NULL, &err), -EINVAL);
        ck_assert_str_eq(err->msg, "invalid mount option foo for driver 'local': invalid argument");
        /* nothing was left behind by the failures */
        _cleanup_free_ char *root = xasprintf("%s/volumes", graph);
        ck_assert(!pea_path_exists(root) || count_entries(root) == 1); /* .lock */
}

END_TEST

START_TEST(test_random_and_anonymous)
{
        _cleanup_volume_ struct pea_volume *a = create_ok(NULL, NULL, NULL);
        ck_assert(pea_id_is_valid(a->row.name));
        ck_assert(!a->row.anonymous);
        _cleanup_volume_ struct pea_volume *b = NULL;
        ck_assert_int_eq(pea_volume_create_anonymous(st, graph, &b, NULL), 0);
        ck_assert(pea_id_is_valid(b->row.name));
        ck_assert(b->row.anonymous);
        ck_assert_str_ne(a->row.name, b->row.name);
        _cleanup_json_ json_t *j = pea_volume_inspect_json(b);
        ck_assert(json_is_true(json_object_get(j, "Anonymous")));

        char *f[] = {(char *)"anonymous=true", NULL};
        struct pea_volume **vols = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_volume_list(st, f, &vols, &n, NULL), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(vols[0]->row.name, b->row.name);
        pea_volumes_free(vols);
}

END_TEST

START_TEST(test_inspect_json)
{
        char *labels[] = {(char *)"z=1", (char *)"a=b", (char *)"c", NULL};
        char *opts[] = {(char *)"type=tmpfs", (char *)"device=tmpfs", (char *)"o=size=1m",
                        (char *)"uid=1000", NULL};
        _cleanup_volume_ struct pea_volume *vol = create_ok("insp", labels, opts);
        _cleanup_json_ json_t *j = pea_volume_inspect_json(vol);
        _cleanup_free_ char *text = pea_json_dumps(j, 0);
        const char *keys[] = {"Name",       "Driver",      "Mountpoint", "CreatedAt",
                              "Labels",     "Scope",       "Options",    "UID",
                              "MountCount", "NeedsCopyUp", "NeedsChown"};
        size_t i = 0;
        const char *k = NULL;
        json_t *v = NULL;
        json_object_foreach(j, k, v) {
                ck_assert_msg(i < ELEMENTSOF(keys), "extra key %s in %s", k, text);
                ck_assert_str_eq(k, keys[i++]);
        }
        ck_assert_uint_eq(i, ELEMENTSOF(keys));
        ck_assert_str_eq(json_string_value(json_object_get(j, "Scope")), "local");
        ck_assert_int_eq(json_integer_value(json_object_get(j, "UID")), 1000);
        /* Go prints maps sorted */
        _cleanup_free_ char *l = pea_json_dumps(json_object_get(j, "Labels"), 0);
        ck_assert_str_eq(l, "{\"a\":\"b\",\"c\":\"\",\"z\":\"1\"}");
        int64_t t = 0;
        ck_assert_int_eq(
                pea_time_parse_rfc3339(json_string_value(json_object_get(j, "CreatedAt")), &t), 0);
        ck_assert_int_eq(t, vol->row.created);
}

END_TEST

static size_t list_names(char **filters, char ***ret)
{
        struct pea_volume **vols = NULL;
        size_t n = 0;
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_volume_list(st, filters, &vols, &n, &err);
        ck_assert_msg(r == 0, "list: %s", err ? err->msg : "?");
        *ret = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                (*ret)[i] = xstrdup(vols[i]->row.name);
        pea_volumes_free(vols);
        return n;
}

static void expect_list(const char *filter1, const char *filter2, const char *expected)
{
        char *f[] = {(char *)filter1, (char *)filter2, NULL};
        _cleanup_strv_ char **names = NULL;
        (void)list_names(filter1 ? f : NULL, &names);
        _cleanup_free_ char *got = strv_join(names, " ");
        ck_assert_msg(streq(got, expected), "filters %s %s: got '%s', expected '%s'",
                      filter1 ? filter1 : "", filter2 ? filter2 : "", got, expected);
}

START_TEST(test_list_filters)
{
        char *l1[] = {(char *)"app=web", (char *)"tier", NULL};
        char *l2[] = {(char *)"app=db", NULL};
        char *o1[] = {(char *)"type=tmpfs", (char *)"device=tmpfs", NULL};
        pea_volume_free(create_ok("web", l1, NULL));
        pea_volume_free(create_ok("db", l2, o1));
        pea_volume_free(create_ok("plain", NULL, NULL));
        char *used[] = {(char *)"web", NULL};
        _cleanup_free_ char *id = add_container("c1", used);

        expect_list(NULL, NULL, "db plain web");
        expect_list("name=we", NULL, "web");
        expect_list("name=^(db|plain)$", NULL, "db plain");
        expect_list("name=db", "name=plain", "db plain");
        expect_list("label=app", NULL, "db web");
        expect_list("label=app=web", NULL, "web");
        expect_list("label=app", "label=tier", "web");
        expect_list("label!=app", NULL, "plain");
        expect_list("driver=local", NULL, "db plain web");
        expect_list("driver=other", NULL, "");
        expect_list("opt=type=tmpfs", NULL, "db");
        expect_list("dangling=true", NULL, "db plain");
        expect_list("dangling=false", NULL, "web");
        expect_list("dangling=true", "label=app", "db");

        _cleanup_error_ struct pea_error *err = NULL;
        char *bad[] = {(char *)"bogus=1", NULL};
        struct pea_volume **vols = NULL;
        ck_assert_int_eq(pea_volume_list(st, bad, &vols, NULL, &err), -EINVAL);
        ck_assert_str_eq(err->msg, "\"bogus\" is an invalid volume filter");
}

END_TEST

static int fake_remove(void *userdata, const char *id, struct pea_error **err)
{
        int *calls = userdata;
        (*calls)++;
        return pea_state_container_remove(st, id, err);
}

START_TEST(test_remove_in_use)
{
        _cleanup_volume_ struct pea_volume *vol = create_ok("busy", NULL, NULL);
        char *used[] = {(char *)"busy", NULL};
        _cleanup_free_ char *id = add_container("c1", used);
        _cleanup_strv_ char **users = NULL;
        ck_assert_int_eq(pea_state_volume_users(st, "busy", &users, NULL), 0);
        ck_assert_uint_eq(strv_length(users), 1);
        ck_assert_str_eq(users[0], id);

        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_volume_remove(st, "busy", NULL, &err), -EBUSY);
        _cleanup_free_ char *msg = xasprintf("volume busy is being used by the following "
                                             "container(s): %s: volume is being used",
                                             id);
        ck_assert_str_eq(err->msg, msg);
        ck_assert(pea_path_exists(vol->dir));
        ck_assert_int_eq(pea_volume_exists(st, "busy", NULL), 1);
        pea_error_clear(&err);

        /* a missing volume */
        ck_assert_int_eq(pea_volume_remove(st, "nope", NULL, &err), -ENOENT);
        pea_error_clear(&err);

        /* force removes the users through the callback, then the volume */
        int calls = 0;
        struct pea_volume_rm_opts o = {
                .force = true, .remove_container = fake_remove, .userdata = &calls};
        ck_assert_int_eq(pea_volume_remove(st, "busy", &o, &err), 0);
        ck_assert_int_eq(calls, 1);
        ck_assert(!pea_path_exists(vol->dir));
        ck_assert_int_eq(pea_volume_exists(st, "busy", NULL), 0);
}

END_TEST

START_TEST(test_force_drops_references)
{
        pea_volume_free(create_ok("a", NULL, NULL));
        pea_volume_free(create_ok("b", NULL, NULL));
        char *used[] = {(char *)"a", (char *)"b", NULL};
        _cleanup_free_ char *id = add_container("c1", used);
        struct pea_volume_rm_opts o = {.force = true};
        ck_assert_int_eq(pea_volume_remove(st, "a", &o, NULL), 0);
        _cleanup_strv_ char **left = NULL;
        ck_assert_int_eq(pea_state_container_get_volumes(st, id, &left, NULL), 0);
        ck_assert_uint_eq(strv_length(left), 1);
        ck_assert_str_eq(left[0], "b");
        /* removing the container drops its references (ON DELETE CASCADE) */
        ck_assert_int_eq(pea_state_container_remove(st, id, NULL), 0);
        _cleanup_strv_ char **users = NULL;
        ck_assert_int_eq(pea_state_volume_users(st, "b", &users, NULL), 0);
        ck_assert_uint_eq(strv_length(users), 0);
        ck_assert_int_eq(pea_volume_remove(st, "b", NULL, NULL), 0);
        /* an unknown volume cannot be referenced */
        _cleanup_error_ struct pea_error *err = NULL;
        char *unknown[] = {(char *)"zzz", NULL};
        _cleanup_free_ char *id2 = pea_generate_id();
        struct pea_container_row row = {
                .id = id2, .name = (char *)"c2", .state = (char *)"created"};
        ck_assert_int_eq(pea_state_container_add(st, &row, NULL), 0);
        ck_assert_int_eq(pea_state_container_set_volumes(st, id2, unknown, &err), -ENOENT);
}

END_TEST

START_TEST(test_prune)
{
        char *lab[] = {(char *)"keep=no", NULL};
        pea_volume_free(create_ok("u1", lab, NULL));
        pea_volume_free(create_ok("u2", NULL, NULL));
        pea_volume_free(create_ok("used", lab, NULL));
        char *used[] = {(char *)"used", NULL};
        _cleanup_free_ char *id = add_container("c1", used);

        char *f[] = {(char *)"label=keep", NULL};
        _cleanup_strv_ char **removed = NULL;
        ck_assert_int_eq(pea_volume_prune(st, f, &removed, NULL), 0);
        _cleanup_free_ char *r1 = strv_join(removed, " ");
        ck_assert_str_eq(r1, "u1");

        _cleanup_strv_ char **removed2 = NULL;
        ck_assert_int_eq(pea_volume_prune(st, NULL, &removed2, NULL), 0);
        _cleanup_free_ char *r2 = strv_join(removed2, " ");
        ck_assert_str_eq(r2, "u2");
        expect_list(NULL, NULL, "used");
        _cleanup_free_ char *root = xasprintf("%s/volumes", graph);
        ck_assert_int_eq(count_entries(root), 2); /* .lock and used */
}

END_TEST

START_TEST(test_orphans_repaired)
{
        _cleanup_free_ char *root = xasprintf("%s/volumes", graph);
        ck_assert_int_eq(pea_mkdir_p(root, 0700, NULL), 0);
        /* a crash after the rename, before the row: a directory without a row */
        _cleanup_free_ char *orphan = xasprintf("%s/orph/_data", root);
        ck_assert_int_eq(pea_mkdir_p(orphan, 0755, NULL), 0);
        _cleanup_free_ char *junk = xasprintf("%s/junk", orphan);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, junk, "x", 1, 0644, NULL), 0);
        /* a crash before the rename: a temporary directory */
        _cleanup_free_ char *tmp = xasprintf("%s/.tmp-abc123/_data", root);
        ck_assert_int_eq(pea_mkdir_p(tmp, 0755, NULL), 0);
        _cleanup_free_ char *stray = xasprintf("%s/stray/_data", root);
        ck_assert_int_eq(pea_mkdir_p(stray, 0755, NULL), 0);

        /* create over an orphan starts empty */
        _cleanup_volume_ struct pea_volume *vol = create_ok("orph", NULL, NULL);
        ck_assert_int_eq(count_entries(vol->row.mountpoint), 0);

        ck_assert_int_eq(pea_volume_repair(st, graph, NULL), 0);
        _cleanup_free_ char *tmpdir_ = xasprintf("%s/.tmp-abc123", root);
        _cleanup_free_ char *straydir = xasprintf("%s/stray", root);
        ck_assert(!pea_path_exists(tmpdir_));
        ck_assert(!pea_path_exists(straydir));
        ck_assert(pea_path_exists(vol->row.mountpoint));
        ck_assert_int_eq(count_entries(root), 2); /* .lock and orph */
}

END_TEST

/* Makes a small tree: d/ (0750, 1234:5678), d/f (0640, 1:2), d/l -> f, top (0600). */
static void make_tree(const char *dir)
{
        _cleanup_free_ char *d = xasprintf("%s/d", dir);
        _cleanup_free_ char *f = xasprintf("%s/d/f", dir);
        _cleanup_free_ char *l = xasprintf("%s/d/l", dir);
        _cleanup_free_ char *top = xasprintf("%s/top", dir);
        ck_assert_int_eq(pea_mkdir_p(d, 0750, NULL), 0);
        ck_assert_int_eq(chmod(d, 0750), 0);
        ck_assert_int_eq(chown(d, 1234, 5678), 0);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, f, "hello", 5, 0640, NULL), 0);
        ck_assert_int_eq(chown(f, 1, 2), 0);
        ck_assert_int_eq(symlink("f", l), 0);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, top, "t", 1, 0600, NULL), 0);
}

static void check_tree(const char *dir)
{
        struct stat sb;
        _cleanup_free_ char *d = xasprintf("%s/d", dir);
        _cleanup_free_ char *f = xasprintf("%s/d/f", dir);
        _cleanup_free_ char *l = xasprintf("%s/d/l", dir);
        ck_assert_int_eq(lstat(d, &sb), 0);
        ck_assert(S_ISDIR(sb.st_mode));
        ck_assert_int_eq(sb.st_mode & 07777, 0750);
        ck_assert_int_eq(sb.st_uid, 1234);
        ck_assert_int_eq(sb.st_gid, 5678);
        ck_assert_int_eq(lstat(f, &sb), 0);
        ck_assert_int_eq(sb.st_mode & 07777, 0640);
        ck_assert_int_eq(sb.st_uid, 1);
        ck_assert_int_eq(sb.st_gid, 2);
        _cleanup_free_ char *text = NULL;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, f, 100, &text, NULL, NULL), 0);
        ck_assert_str_eq(text, "hello");
        char target[16] = "";
        ck_assert_int_eq(readlink(l, target, sizeof(target) - 1), 1);
        ck_assert_str_eq(target, "f");
}

START_TEST(test_copy_up)
{
        if (geteuid() != 0)
                return; /* owners need root */
        _cleanup_free_ char *src = xasprintf("%s/src", tmpdir);
        ck_assert_int_eq(pea_mkdir_p(src, 0700, NULL), 0);
        ck_assert_int_eq(chmod(src, 01777), 0);
        ck_assert_int_eq(chown(src, 42, 43), 0);
        make_tree(src);

        _cleanup_volume_ struct pea_volume *vol = create_ok("cu", NULL, NULL);
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_volume_copy_up(vol, st, src, &err);
        ck_assert_msg(r == 1, "copy up: %d %s", r, err ? err->msg : "");
        check_tree(vol->row.mountpoint);
        struct stat sb;
        ck_assert_int_eq(stat(vol->row.mountpoint, &sb), 0);
        ck_assert_int_eq(sb.st_mode & 07777, 01777);
        ck_assert_int_eq(sb.st_uid, 42);
        ck_assert(!vol->row.needs_copy_up);
        /* recorded: a second use copies nothing */
        _cleanup_volume_ struct pea_volume *again = NULL;
        ck_assert_int_eq(pea_volume_lookup(st, "cu", &again, NULL), 0);
        ck_assert(!again->row.needs_copy_up);
        ck_assert_int_eq(pea_volume_copy_up(again, st, src, NULL), 0);

        /* nocopy, a non-empty volume and a missing source copy nothing */
        char *nocopy[] = {(char *)"nocopy", NULL};
        _cleanup_volume_ struct pea_volume *nc = create_ok("nc", NULL, nocopy);
        ck_assert_int_eq(pea_volume_copy_up(nc, st, src, NULL), 0);
        ck_assert_int_eq(count_entries(nc->row.mountpoint), 0);
        _cleanup_volume_ struct pea_volume *full = create_ok("full", NULL, NULL);
        _cleanup_free_ char *mine = xasprintf("%s/mine", full->row.mountpoint);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, mine, "m", 1, 0644, NULL), 0);
        ck_assert_int_eq(pea_volume_copy_up(full, st, src, NULL), 0);
        ck_assert_int_eq(count_entries(full->row.mountpoint), 1);
        _cleanup_volume_ struct pea_volume *miss = create_ok("miss", NULL, NULL);
        _cleanup_free_ char *nowhere = xasprintf("%s/nowhere", tmpdir);
        ck_assert_int_eq(pea_volume_copy_up(miss, st, nowhere, NULL), 0);
}

END_TEST

START_TEST(test_export_import)
{
        _cleanup_volume_ struct pea_volume *a = create_ok("a", NULL, NULL);
        _cleanup_volume_ struct pea_volume *b = create_ok("b", NULL, NULL);
        if (geteuid() == 0)
                make_tree(a->row.mountpoint);
        _cleanup_free_ char *tar = xasprintf("%s/a.tar", tmpdir);
        _cleanup_close_ int fd = open(tar, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_volume_export(a, fd, &err);
        ck_assert_msg(r == 0, "export: %s", err ? err->msg : "");
        ck_assert_int_gt(lseek(fd, 0, SEEK_CUR), 1024);
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        r = pea_volume_import(b, fd, &err);
        ck_assert_msg(r == 0, "import: %s", err ? err->msg : "");
        if (geteuid() == 0)
                check_tree(b->row.mountpoint);
        _cleanup_free_ char *top = xasprintf("%s/top", b->row.mountpoint);
        ck_assert(geteuid() != 0 || pea_path_exists(top));

        /* garbage is refused */
        _cleanup_free_ char *junk = xasprintf("%s/junk", tmpdir);
        ck_assert_int_eq(
                pea_write_file_atomic_at(AT_FDCWD, junk, "not a tar at all", 16, 0600, NULL), 0);
        _cleanup_close_ int jfd = open(junk, O_RDONLY | O_CLOEXEC);
        ck_assert_int_lt(pea_volume_import(b, jfd, &err), 0);
}

END_TEST

START_TEST(test_chown)
{
        if (geteuid() != 0)
                return;
        _cleanup_volume_ struct pea_volume *vol = create_ok("ch", NULL, NULL);
        make_tree(vol->row.mountpoint);
        ck_assert_int_eq(pea_volume_chown(vol, 1000, 1001, NULL), 0);
        const char *paths[] = {"", "/d", "/d/f", "/d/l", "/top"};
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                _cleanup_free_ char *p = xasprintf("%s%s", vol->row.mountpoint, paths[i]);
                struct stat sb;
                ck_assert_int_eq(lstat(p, &sb), 0);
                ck_assert_msg(sb.st_uid == 1000 && sb.st_gid == 1001, "%s is %u:%u", p, sb.st_uid,
                              sb.st_gid);
        }
}

END_TEST

START_TEST(test_options_uid)
{
        if (geteuid() != 0)
                return;
        char *opts[] = {(char *)"uid=1234", (char *)"gid=99", NULL};
        _cleanup_volume_ struct pea_volume *vol = create_ok("own", NULL, opts);
        struct stat sb;
        ck_assert_int_eq(stat(vol->row.mountpoint, &sb), 0);
        ck_assert_int_eq(sb.st_uid, 1234);
        ck_assert_int_eq(sb.st_gid, 99);
}

END_TEST

START_TEST(test_mount_tmpfs)
{
        if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0)
                return; /* needs root (Check forks each test: the namespace is private) */
        ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        char *opts[] = {(char *)"type=tmpfs", (char *)"device=tmpfs", (char *)"o=size=1m,nodev",
                        NULL};
        _cleanup_volume_ struct pea_volume *vol = create_ok("tm", NULL, opts);
        ck_assert(pea_volume_needs_mount(vol));
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_volume_mount(vol, st, &err);
        ck_assert_msg(r == 0, "mount: %s", err ? err->msg : "");
        ck_assert_int_eq(vol->row.mount_count, 1);
        struct statfs sf;
        ck_assert_int_eq(statfs(vol->row.mountpoint, &sf), 0);
        ck_assert_int_eq((long)sf.f_type, (long)TMPFS_MAGIC);
        ck_assert_int_eq(pea_volume_mount(vol, st, NULL), 0); /* a second user */
        ck_assert_int_eq(vol->row.mount_count, 2);
        ck_assert_int_eq(pea_volume_umount(vol, st, NULL), 0);
        ck_assert_int_eq(statfs(vol->row.mountpoint, &sf), 0);
        ck_assert_int_eq((long)sf.f_type, (long)TMPFS_MAGIC);
        ck_assert_int_eq(pea_volume_umount(vol, st, NULL), 0);
        ck_assert_int_eq(vol->row.mount_count, 0);
        ck_assert_int_eq(statfs(vol->row.mountpoint, &sf), 0);
        ck_assert_int_ne((long)sf.f_type, (long)TMPFS_MAGIC);

        /* bind of a device directory */
        _cleanup_free_ char *src = xasprintf("%s/bindsrc", tmpdir);
        ck_assert_int_eq(pea_mkdir_p(src, 0755, NULL), 0);
        _cleanup_free_ char *dev = xasprintf("device=%s", src);
        char *bopts[] = {(char *)"type=bind", dev, NULL};
        _cleanup_volume_ struct pea_volume *bv = create_ok("bd", NULL, bopts);
        ck_assert_int_eq(pea_volume_mount(bv, st, NULL), 0);
        _cleanup_free_ char *probe = xasprintf("%s/probe", bv->row.mountpoint);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, probe, "p", 1, 0644, NULL), 0);
        ck_assert_int_eq(count_entries(src), 1);
        ck_assert_int_eq(pea_volume_remove(st, "bd", NULL, NULL), 0);
        ck_assert(pea_path_exists(src)); /* the bound directory itself survives */
}

END_TEST

START_TEST(test_remove_anonymous)
{
        _cleanup_volume_ struct pea_volume *a1 = NULL, *a2 = NULL;
        ck_assert_int_eq(pea_volume_create_anonymous(st, graph, &a1, NULL), 0);
        ck_assert_int_eq(pea_volume_create_anonymous(st, graph, &a2, NULL), 0);
        pea_volume_free(create_ok("named", NULL, NULL));
        char *mine[] = {a1->row.name, a2->row.name, (char *)"named", NULL};
        char *other[] = {a2->row.name, NULL};
        _cleanup_free_ char *c1 = add_container("c1", mine);
        _cleanup_free_ char *c2 = add_container("c2", other);

        /* as `rm -v c1` does: the list first, then the container, then the volumes */
        _cleanup_strv_ char **names = NULL;
        ck_assert_int_eq(pea_state_container_get_volumes(st, c1, &names, NULL), 0);
        ck_assert_uint_eq(strv_length(names), 3);
        ck_assert_int_eq(pea_state_container_remove(st, c1, NULL), 0);
        _cleanup_strv_ char **removed = NULL;
        ck_assert_int_eq(pea_volume_remove_anonymous(st, names, &removed, NULL), 0);
        ck_assert_uint_eq(strv_length(removed), 1);
        ck_assert_str_eq(removed[0], a1->row.name);
        ck_assert(!pea_path_exists(a1->dir));
        ck_assert_int_eq(pea_volume_exists(st, a2->row.name, NULL), 1); /* c2 uses it */
        ck_assert_int_eq(pea_volume_exists(st, "named", NULL), 1);      /* not anonymous */
}

END_TEST

/* A rootfs with data/x, and links that point out of it: abs -> <tmpdir>/host, up -> ../../.. */
static char *make_rootfs(void)
{
        char *root = xasprintf("%s/rootfs", tmpdir);
        _cleanup_free_ char *data = xasprintf("%s/data", root);
        _cleanup_free_ char *x = xasprintf("%s/data/x", root);
        _cleanup_free_ char *host = xasprintf("%s/host", tmpdir);
        _cleanup_free_ char *secret = xasprintf("%s/host/secret", tmpdir);
        _cleanup_free_ char *abs = xasprintf("%s/abs", root);
        _cleanup_free_ char *up = xasprintf("%s/up", root);
        ck_assert_int_eq(pea_mkdir_p(data, 0755, NULL), 0);
        ck_assert_int_eq(pea_mkdir_p(host, 0755, NULL), 0);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, x, "x", 1, 0644, NULL), 0);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, secret, "s", 1, 0600, NULL), 0);
        ck_assert_int_eq(symlink(host, abs), 0);
        ck_assert_int_eq(symlink("../../../../../../..", up), 0);
        return root;
}

static void copy_up_at_checks(const char *root)
{
        _cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(root_fd, 0);
        _cleanup_volume_ struct pea_volume *ok = create_ok(NULL, NULL, NULL);
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_volume_copy_up_at(ok, st, root_fd, "/data", &err);
        ck_assert_msg(r == 1, "copy up /data: %d %s", r, err ? err->msg : "");
        _cleanup_free_ char *x = xasprintf("%s/x", ok->row.mountpoint);
        ck_assert(pea_path_exists(x));
        /* links resolve inside the rootfs: nothing of the host is copied */
        const char *const escapes[] = {"/abs", "/up", "/up/tmp", "/../../..", "/abs/.."};
        for (size_t i = 0; i < ELEMENTSOF(escapes); i++) {
                _cleanup_volume_ struct pea_volume *v = create_ok(NULL, NULL, NULL);
                _cleanup_error_ struct pea_error *e = NULL;
                r = pea_volume_copy_up_at(v, st, root_fd, escapes[i], &e);
                bool fallback = getenv("PEA_NO_OPENAT2") != NULL;
                /* the fallback refuses "..", never in a cleaned destination */
                if (fallback && strstr(escapes[i], "..") && r == -EINVAL)
                        continue;
                ck_assert_msg(r == 0 || r == 1, "copy up %s (%s): %d %s", escapes[i],
                              fallback ? "fallback" : "openat2", r, e ? e->msg : "");
                _cleanup_free_ char *secret = xasprintf("%s/secret", v->row.mountpoint);
                _cleanup_free_ char *tmp = xasprintf("%s/tmp", v->row.mountpoint);
                _cleanup_free_ char *data = xasprintf("%s/data", v->row.mountpoint);
                ck_assert_msg(!pea_path_exists(secret), "%s escaped", escapes[i]);
                ck_assert_msg(!pea_path_exists(tmp), "%s escaped", escapes[i]);
                /* what was copied, if anything, is the rootfs's own root */
                ck_assert_msg(r == 0 || pea_path_exists(data), "%s: %d", escapes[i], r);
        }
}

START_TEST(test_copy_up_at)
{
        _cleanup_free_ char *root = make_rootfs();
        copy_up_at_checks(root);
        /* the same without openat2: no symlink followed at all */
        ck_assert_int_eq(setenv("PEA_NO_OPENAT2", "1", 1), 0);
        copy_up_at_checks(root);
        ck_assert_int_eq(unsetenv("PEA_NO_OPENAT2"), 0);
}

END_TEST

START_TEST(test_chown_path)
{
        if (geteuid() != 0)
                return; /* chown needs root */
        _cleanup_free_ char *dir = xasprintf("%s/ch", tmpdir);
        ck_assert_int_eq(pea_mkdir_p(dir, 0755, NULL), 0);
        make_tree(dir);
        _cleanup_free_ char *outside = xasprintf("%s/outside", tmpdir);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, outside, "o", 1, 0644, NULL), 0);
        _cleanup_free_ char *link = xasprintf("%s/ch/d/out", tmpdir);
        ck_assert_int_eq(symlink(outside, link), 0);
        ck_assert_int_eq(pea_volume_chown_path(dir, 77, 88, NULL), 0);
        const char *const paths[] = {"", "/d", "/d/f", "/top"};
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                _cleanup_free_ char *p = xasprintf("%s%s", dir, paths[i]);
                struct stat sb;
                ck_assert_int_eq(lstat(p, &sb), 0);
                ck_assert_int_eq(sb.st_uid, 77);
                ck_assert_int_eq(sb.st_gid, 88);
        }
        struct stat sb;
        ck_assert_int_eq(stat(outside, &sb), 0);
        ck_assert_int_eq(sb.st_uid, 0); /* the symlink's target is left alone */
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_volume_chown_path(outside, 1, 1, &err), -ENOTDIR);
}

END_TEST

START_TEST(test_fix_permissions)
{
        if (geteuid() != 0)
                return; /* owners need root */
        _cleanup_free_ char *root = make_rootfs();
        _cleanup_free_ char *data = xasprintf("%s/data", root);
        ck_assert_int_eq(chmod(data, 0711), 0);
        ck_assert_int_eq(chown(data, 5, 6), 0);
        _cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(root_fd, 0);
        struct stat sb;

        /* the image has the directory: its owner and mode */
        _cleanup_volume_ struct pea_volume *a = create_ok(NULL, NULL, NULL);
        ck_assert(a->row.needs_chown);
        ck_assert_int_eq(pea_volume_fix_permissions(a, st, root_fd, "/data", 1000, 1001, NULL), 0);
        ck_assert_int_eq(stat(a->row.mountpoint, &sb), 0);
        ck_assert_int_eq(sb.st_uid, 5);
        ck_assert_int_eq(sb.st_gid, 6);
        ck_assert_int_eq(sb.st_mode & 07777, 0711);
        _cleanup_volume_ struct pea_volume *again = NULL;
        ck_assert_int_eq(pea_volume_lookup(st, a->row.name, &again, NULL), 0);
        ck_assert(!again->row.needs_chown);
        /* done once: a later user changes nothing */
        ck_assert_int_eq(pea_volume_fix_permissions(again, st, root_fd, "/nowhere", 7, 7, NULL), 0);
        ck_assert_int_eq(stat(a->row.mountpoint, &sb), 0);
        ck_assert_int_eq(sb.st_uid, 5);

        /* no such directory (or one behind a link out of the rootfs): the user */
        const char *const dests[] = {"/nowhere", "/abs"};
        for (size_t i = 0; i < ELEMENTSOF(dests); i++) {
                _cleanup_volume_ struct pea_volume *b = create_ok(NULL, NULL, NULL);
                ck_assert_int_eq(
                        pea_volume_fix_permissions(b, st, root_fd, dests[i], 1000, 1001, NULL), 0);
                ck_assert_int_eq(stat(b->row.mountpoint, &sb), 0);
                ck_assert_int_eq(sb.st_uid, 1000);
                ck_assert_int_eq(sb.st_gid, 1001);
                ck_assert_int_eq(sb.st_mode & 07777, 0755);
        }
}

END_TEST

/* --mount: what it gives as a volume ("SRC DEST opt,opt") or a tmpfs. */
static void expect_mount(const char *arg, const char *volume, const char *tmpfs)
{
        struct pea_spec_volume v = {0};
        _cleanup_free_ char *t = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_container_parse_mount(arg, &v, &t, &err);
        ck_assert_msg(r == 0, "%s: %s", arg, err ? err->msg : "?");
        if (tmpfs) {
                ck_assert_str_eq(t, tmpfs);
                return;
        }
        ck_assert_ptr_null(t);
        _cleanup_free_ char *opts = v.options ? strv_join(v.options, ",") : xstrdup("");
        _cleanup_free_ char *got = xasprintf("%s %s %s", v.source ? v.source : "-", v.dest, opts);
        ck_assert_str_eq(got, volume);
        pea_spec_volume_done(&v);
}

static void expect_mount_error(const char *arg, int code, const char *msg)
{
        struct pea_spec_volume v = {0};
        char *t = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_container_parse_mount(arg, &v, &t, &err);
        ck_assert_msg(r == -code, "%s: %d", arg, r);
        ck_assert_ptr_nonnull(err);
        ck_assert_str_eq(err->msg, msg);
        ck_assert_ptr_null(t);
        ck_assert_ptr_null(v.dest);
}

START_TEST(test_parse_mount)
{
        expect_mount("type=bind,src=/tmp,dst=/x", "/tmp /x ", NULL);
        expect_mount("type=bind,source=/tmp,target=/x/../y/,readonly,bind-propagation=rshared",
                     "/tmp /y ro,rshared", NULL);
        expect_mount("type=bind,src=/tmp,destination=/x,ro=false,relabel=private,U",
                     "/tmp /x rw,Z,U", NULL);
        expect_mount("type=volume,src=data,dst=/d,volume-nocopy,chown=true", "data /d nocopy,U",
                     NULL);
        expect_mount("type=volume,dst=/anon", "- /anon ", NULL);
        expect_mount("type=tmpfs,dst=/t", NULL, "/t");
        expect_mount("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777,noexec", NULL,
                     "/t:size=1m,mode=1777,noexec");
        expect_mount_error("src=/tmp,dst=/x", EINVAL,
                           "incorrect mount format: should be --mount "
                           "type=<bind|tmpfs|volume>,[src=<host-dir|volume-name>,]"
                           "target=<ctr-dir>[,options]");
        expect_mount_error("type=foo,dst=/x", EINVAL, "invalid filesystem type \"foo\"");
        expect_mount_error("type=bind,src=/tmp", EINVAL, "must set volume destination");
        expect_mount_error("type=volume,dst=/x,foo=bar", EINVAL, "foo: invalid mount option");
        expect_mount_error("type=bind,src=/tmp,dst=/x,volume-nocopy", EINVAL,
                           "volume-nocopy: invalid mount option");
        expect_mount_error("type=tmpfs,src=/tmp,dst=/x", EINVAL,
                           "source is not supported with tmpfs mounts");
        expect_mount_error("type=bind,type=volume,dst=/x", EINVAL,
                           "cannot set mount type more than once");
        expect_mount_error("type=image,src=busybox,dst=/x", ENOTSUP,
                           "--mount type=image is not supported yet");
        expect_mount_error("type=bind,src=/tmp,dst=x", EINVAL,
                           "invalid container path 'x', must be an absolute path");
        expect_mount_error("type=volume,src=/tmp,dst=/x", EINVAL,
                           "creating named volume \"/tmp\": names must match "
                           "[a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument");
        expect_mount_error("type=volume,dst=/x,ro=maybe", EINVAL, "ro=maybe: invalid mount option");
}

END_TEST

static Suite *volume_suite(void)
{
        Suite *s = suite_create("volume");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_create_lookup);
        tcase_add_test(tc, test_duplicate_and_ignore);
        tcase_add_test(tc, test_bad_input);
        tcase_add_test(tc, test_random_and_anonymous);
        tcase_add_test(tc, test_inspect_json);
        tcase_add_test(tc, test_list_filters);
        tcase_add_test(tc, test_remove_in_use);
        tcase_add_test(tc, test_force_drops_references);
        tcase_add_test(tc, test_prune);
        tcase_add_test(tc, test_remove_anonymous);
        tcase_add_test(tc, test_orphans_repaired);
        tcase_add_test(tc, test_copy_up);
        tcase_add_test(tc, test_export_import);
        tcase_add_test(tc, test_chown);
        tcase_add_test(tc, test_options_uid);
        tcase_add_test(tc, test_mount_tmpfs);
        tcase_add_test(tc, test_copy_up_at);
        tcase_add_test(tc, test_chown_path);
        tcase_add_test(tc, test_fix_permissions);
        tcase_add_test(tc, test_parse_mount);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(volume_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed != 0;
}
