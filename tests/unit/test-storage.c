/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <check.h>

#include "base.h"
#include "storage/storage.h"

/*
 * Every test runs as root (CI) in a private mount namespace under a fresh
 * /var/tmp directory (tmpfs may lack the xattrs overlay needs); teardown
 * detaches whatever a failed test left mounted there. Without root the tests
 * print "SKIP: ..." and pass.
 */

#define NOBODY 65534

/* How a layer marks deletions: 0:0 devices with either opaque xattr, or AUFS files. */
enum wh { WH_TRUSTED, WH_USER, WH_AUFS };

static char *g_root;  /* all tests' directory, removed at the end */
static char *g_base;  /* the test's directory */
static char *g_graph; /* graph root */
static char *g_run;   /* run root */

static bool skip_unless_root(void)
{
        if (geteuid() == 0)
                return false;
        printf("SKIP: storage tests need root\n");
        return true;
}

static void setup(void)
{
        if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0)
                (void)mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
        g_base = xasprintf("%s/t-XXXXXX", g_root);
        ck_assert_ptr_nonnull(mkdtemp(g_base));
        ck_assert_int_eq(chmod(g_base, 0755), 0);
        g_graph = xasprintf("%s/graph", g_base);
        g_run = xasprintf("%s/run", g_base);
}

/* Mount points under prefix, read straight from mountinfo (not through pea). */
static int mounts_under(const char *prefix)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0, n = strlen(prefix);
        int count = 0;
        ck_assert_ptr_nonnull(f);
        while (getline(&line, &cap, f) > 0) {
                char mp[4096];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && strncmp(mp, prefix, n) == 0
                    && (mp[n] == '\0' || mp[n] == '/'))
                        count++;
        }
        return count;
}

static void detach_all(const char *prefix)
{
        for (int i = 0; i < 64 && mounts_under(prefix) > 0; i++) {
                _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
                _cleanup_free_ char *line = NULL;
                size_t cap = 0;
                while (f && getline(&line, &cap, f) > 0) {
                        char mp[4096];
                        if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1
                            && startswith(mp, prefix))
                                (void)umount2(mp, MNT_DETACH);
                }
        }
}

/* Runs after a successful test, in its process and mount namespace. */
static void teardown(void)
{
        detach_all(g_base);
        free(g_base);
        free(g_graph);
        free(g_run);
}

/* fuse-overlayfs daemons with an argument under prefix, from /proc/<pid>/cmdline. */
static pid_t find_daemon(const char *prefix, bool exact)
{
        _cleanup_closedir_ DIR *d = opendir("/proc");
        struct dirent *de;
        while (d && (de = readdir(d))) {
                char buf[8192];
                _cleanup_free_ char *p = xasprintf("/proc/%s/cmdline", de->d_name);
                _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
                if (n <= 0)
                        continue;
                buf[n] = '\0';
                if (!strstr(buf, "fuse-overlayfs"))
                        continue;
                for (char *a = buf; a < buf + n; a += strlen(a) + 1)
                        if (exact ? streq(a, prefix) : startswith(a, prefix) != NULL)
                                return (pid_t)atoi(de->d_name);
        }
        return 0;
}

static void global_setup(void)
{
        g_root = xstrdup("/var/tmp/pea-test-storage-XXXXXX");
        if (!mkdtemp(g_root))
                abort();
        (void)chmod(g_root, 0755);
}

/* Runs once in the runner: also cleans up after failed tests. */
static void global_teardown(void)
{
        pid_t pid;
        for (int i = 0; i < 100 && (pid = find_daemon(g_root, false)) > 0; i++)
                (void)kill(pid, SIGKILL);
        _cleanup_free_ char *cmd =
                xasprintf("chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", g_root, g_root);
        (void)!system(cmd);
        free(g_root);
}

static void mkdirs(const char *path)
{
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_msg(pea_mkdir_p(path, 0755, &err) == 0, "%s", err ? err->msg : "");
}

/* Creates dir/rel with content (parents 0755, file 0644). */
static void put(const char *dir, const char *rel, const char *content)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
        _cleanup_free_ char *parent = xstrdup(p);
        *strrchr(parent, '/') = '\0';
        mkdirs(parent);
        _cleanup_fclose_ FILE *f = fopen(p, "we");
        ck_assert_msg(f != NULL, "creating '%s'", p);
        fputs(content, f);
}

static char *get(const char *dir, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
        _cleanup_error_ struct pea_error *err = NULL;
        char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, p, 1 << 20, &text, NULL, &err) < 0)
                return NULL;
        return text;
}

static bool exists(const char *dir, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
        return pea_path_exists(p);
}

static void whiteout(const char *dir, const char *rel, enum wh wh)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
        if (wh == WH_AUFS) {
                char *slash = strrchr(p, '/');
                _cleanup_free_ char *w = xasprintf(".wh.%s", slash + 1);
                *slash = '\0';
                put(p, w, "");
                return;
        }
        ck_assert_int_eq(mknod(p, S_IFCHR | 0600, makedev(0, 0)), 0);
}

static void opaque(const char *dir, const char *rel, enum wh wh)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
        mkdirs(p);
        if (wh == WH_AUFS)
                put(p, ".wh..wh..opq", "");
        else
                ck_assert_int_eq(
                        setxattr(p,
                                 wh == WH_USER ? "user.overlay.opaque" : "trusted.overlay.opaque",
                                 "y", 1, 0),
                        0);
}

/*
 * Three layers (returned top-most first, NULL-terminated):
 *   L0: a b dir/{x,y} opq/old wdir/sub/file hl1=hl2 sym->a own(1234:5678 04755)
 *   L1: a (new), whiteouts b and wdir, opaque opq with new, dir/z
 *   L2: c, dir/x (new)
 */
static char **make_layers(enum wh wh)
{
        const char *const chains[] = {"chain0", "chain1", "chain2"};
        char **l = xcalloc(4, sizeof(char *));
        for (int i = 0; i < 3; i++) {
                l[2 - i] = xasprintf("%s/layers/%s/diff", g_graph, chains[i]);
                mkdirs(l[2 - i]);
        }
        const char *L0 = l[2], *L1 = l[1], *L2 = l[0];
        put(L0, "a", "a0");
        put(L0, "b", "b0");
        put(L0, "dir/x", "x0");
        put(L0, "dir/y", "y0");
        put(L0, "opq/old", "old");
        put(L0, "wdir/sub/file", "w");
        put(L0, "hl1", "hard");
        put(L0, "own", "owned");
        _cleanup_free_ char *hl1 = xasprintf("%s/hl1", L0), *hl2 = xasprintf("%s/hl2", L0);
        _cleanup_free_ char *sym = xasprintf("%s/sym", L0), *own = xasprintf("%s/own", L0);
        ck_assert_int_eq(link(hl1, hl2), 0);
        ck_assert_int_eq(symlink("a", sym), 0);
        ck_assert_int_eq(chown(own, 1234, 5678), 0);
        ck_assert_int_eq(chmod(own, 04755), 0);
        ck_assert_int_eq(setxattr(own, "user.test", "v", 1, 0), 0);
        struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
        ck_assert_int_eq(utimensat(AT_FDCWD, own, ts, AT_SYMLINK_NOFOLLOW), 0);
        put(L1, "a", "a1");
        whiteout(L1, "b", wh);
        whiteout(L1, "wdir", wh);
        opaque(L1, "opq", wh);
        put(L1, "opq/new", "new");
        put(L1, "dir/z", "z1");
        put(L2, "c", "c2");
        put(L2, "dir/x", "x2");
        return l;
}

static void check_text(const char *dir, const char *rel, const char *want)
{
        _cleanup_free_ char *got = get(dir, rel);
        ck_assert_msg(got && streq(got, want), "'%s/%s' is '%s', want '%s'", dir, rel,
                      got ? got : "(missing)", want);
}

/* The merged view of make_layers(): upper layers win, whiteouts and opaque dirs hide. */
static void check_view(const char *m)
{
        char buf[16] = "";
        check_text(m, "a", "a1");
        check_text(m, "c", "c2");
        check_text(m, "dir/x", "x2");
        check_text(m, "dir/y", "y0");
        check_text(m, "dir/z", "z1");
        check_text(m, "opq/new", "new");
        check_text(m, "hl2", "hard");
        ck_assert_msg(!exists(m, "b"), "whiteout did not hide 'b'");
        ck_assert_msg(!exists(m, "wdir"), "whiteout did not hide directory 'wdir'");
        ck_assert_msg(!exists(m, "opq/old"), "opaque directory shows lower 'old'");
        ck_assert(!exists(m, ".wh.b") && !exists(m, "opq/.wh..wh..opq"));
        _cleanup_free_ char *sym = xasprintf("%s/sym", m);
        ck_assert_int_eq(readlink(sym, buf, sizeof(buf) - 1), 1);
        ck_assert_str_eq(buf, "a");
}

static void check_merged(const char *m)
{
        struct stat st;
        check_view(m);
        _cleanup_free_ char *own = xasprintf("%s/own", m);
        ck_assert_int_eq(lstat(own, &st), 0);
        ck_assert_int_eq(st.st_uid, 1234);
        ck_assert_int_eq(st.st_gid, 5678);
        ck_assert_int_eq(st.st_mode & 07777, 04755);
}

static struct pea_storage *open_ok(const char *driver, bool rootless)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_storage *s = NULL;
        int r = pea_storage_open(g_graph, g_run, driver, rootless, &s, &err);
        ck_assert_msg(r == 0, "open '%s': %s", driver, err ? err->msg : "?");
        return s;
}

static void create_ok(struct pea_storage *s, const char *id, char **lowers)
{
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_storage_create(s, id, (const char *const *)lowers, &err);
        ck_assert_msg(r == 0, "create: %s", err ? err->msg : "?");
}

static char *mount_ok(struct pea_storage *s, const char *id)
{
        _cleanup_error_ struct pea_error *err = NULL;
        char *m = NULL;
        int r = pea_storage_mount(s, id, &m, &err);
        ck_assert_msg(r == 0, "mount: %s", err ? err->msg : "?");
        return m;
}

static void umount_ok(struct pea_storage *s, const char *id)
{
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_storage_umount(s, id, &err);
        ck_assert_msg(r == 0, "umount: %s", err ? err->msg : "?");
}

static void remove_ok(struct pea_storage *s, const char *id)
{
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_storage_remove(s, id, &err);
        ck_assert_msg(r == 0, "remove: %s", err ? err->msg : "?");
        _cleanup_free_ char *dir = xasprintf("%s/containers/%s", g_graph, id);
        _cleanup_free_ char *rec = xasprintf("%s/storage/mounts/%s", g_run, id);
        ck_assert_int_eq(mounts_under(dir), 0);
        ck_assert_msg(!pea_path_exists(dir), "'%s' survived remove", dir);
        ck_assert_msg(!pea_path_exists(rec), "mount record '%s' survived remove", rec);
}

static bool fuse_available(void)
{
        _cleanup_free_ char *prog = pea_find_executable(PEA_FUSE_OVERLAYFS);
        if (prog && access("/dev/fuse", R_OK | W_OK) == 0)
                return true;
        printf("SKIP: fuse-overlayfs or /dev/fuse missing\n");
        return false;
}

/* Where a write through the mount must land: upper (overlays) or rootfs (vfs). */
static char *write_dir(const char *driver)
{
        return xasprintf("%s/containers/c1/%s", g_graph, streq(driver, "vfs") ? "rootfs" : "upper");
}

/* The whole life cycle of one container on driver over layers of kind wh. */
static void lifecycle(const char *driver, enum wh wh)
{
        _cleanup_(pea_storage_freep) struct pea_storage *s = open_ok(driver, false);
        _cleanup_strv_ char **lowers = make_layers(wh);
        bool mounts = !streq(driver, "vfs");
        ck_assert_str_eq(pea_storage_driver_name(s), driver);
        create_ok(s, "c1", lowers);
        _cleanup_free_ char *m = mount_ok(s, "c1"), *m2 = mount_ok(s, "c1");
        ck_assert_str_eq(m, m2);
        ck_assert(pea_storage_is_mounted(s, "c1"));
        ck_assert_int_eq(mounts_under(m), mounts ? 1 : 0);
        check_merged(m);
        put(m, "new", "hello");
        _cleanup_free_ char *ma = xasprintf("%s/a", m);
        ck_assert_int_eq(unlink(ma), 0);
        _cleanup_free_ char *wd = write_dir(driver);
        check_text(wd, "new", "hello");
        STRV_FOREACH(l, lowers)
                ck_assert_msg(!exists(*l, "new"), "write reached layer '%s'", *l);
        check_text(lowers[1], "a", "a1");
        umount_ok(s, "c1");
        umount_ok(s, "c1");
        ck_assert(!pea_storage_is_mounted(s, "c1"));
        ck_assert_int_eq(mounts_under(m), 0);
        if (mounts)
                ck_assert(!exists(m, "new"));
        _cleanup_free_ char *m3 = mount_ok(s, "c1");
        check_text(m3, "new", "hello");
        check_text(m3, "dir/x", "x2");
        ck_assert(!exists(m3, "a"));
        remove_ok(s, "c1");
        remove_ok(s, "c1");
}

START_TEST(overlay_lifecycle)
{
        if (skip_unless_root())
                return;
        lifecycle("overlay", WH_TRUSTED);
}

END_TEST

/* Whether the mount at path shows opt in /proc/self/mountinfo (6.x: "fsync=volatile"). */
static bool mount_has_option(const char *path, const char *opt)
{
        _cleanup_free_ char *info = NULL;
        ck_assert_int_eq(
                pea_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 22, &info, NULL, NULL), 0);
        _cleanup_strv_ char **lines = strv_split(info, "\n");
        _cleanup_free_ char *word = xasprintf(" %s ", path);
        STRV_FOREACH(l, lines)
                if (strstr(*l, word) && strstr(*l, opt))
                        return true;
        return false;
}

/* A volatile container's overlay is mounted with "volatile", the others without. */
START_TEST(overlay_volatile)
{
        if (skip_unless_root())
                return;
        _cleanup_(pea_storage_freep) struct pea_storage *s = open_ok("overlay", false);
        _cleanup_strv_ char **lowers = make_layers(WH_TRUSTED);
        create_ok(s, "c1", lowers);
        create_ok(s, "c2", lowers);
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_storage_set_volatile(s, "c2", &err), 0);
        ck_assert_int_eq(pea_storage_set_volatile(s, "../x", &err), -EINVAL);
        _cleanup_free_ char *m1 = mount_ok(s, "c1"), *m2 = mount_ok(s, "c2");
        ck_assert(!mount_has_option(m1, "volatile"));
        ck_assert(mount_has_option(m2, "volatile"));
        put(m2, "new", "hello");
        check_merged(m2);
        umount_ok(s, "c2");
        remove_ok(s, "c1");
        remove_ok(s, "c2");
}

END_TEST

START_TEST(fuse_lifecycle)
{
        if (skip_unless_root() || !fuse_available())
                return;
        lifecycle("fuse-overlayfs", _i == 0 ? WH_TRUSTED : WH_AUFS);
}

END_TEST

START_TEST(vfs_lifecycle)
{
        if (skip_unless_root())
                return;
        lifecycle("vfs", _i == 0 ? WH_TRUSTED : _i == 1 ? WH_USER : WH_AUFS);
}

END_TEST

START_TEST(vfs_copy_details)
{
        if (skip_unless_root())
                return;
        _cleanup_(pea_storage_freep) struct pea_storage *s = open_ok("vfs", false);
        _cleanup_strv_ char **l = make_layers(WH_TRUSTED);
        _cleanup_free_ char *fifo = xasprintf("%s/fifo", l[2]), *esc = xasprintf("%s/esc", l[2]);
        ck_assert_int_eq(mkfifo(fifo, 0640), 0);
        ck_assert_int_eq(symlink("/etc", esc), 0);
        put(l[2], "d/deep/file", "deep");
        put(l[1], "esc/pea-test-storage-escape", "inside"); /* a dir over a symlink */
        put(l[1], "d", "now a file");                       /* a file over a dir */
        create_ok(s, "c1", l);
        _cleanup_free_ char *root = xasprintf("%s/containers/c1/rootfs", g_graph);
        _cleanup_free_ char *m = mount_ok(s, "c1");
        ck_assert_str_eq(m, root);
        check_merged(root);
        struct stat a, b;
        _cleanup_free_ char *h1 = xasprintf("%s/hl1", root), *h2 = xasprintf("%s/hl2", root);
        ck_assert(stat(h1, &a) == 0 && stat(h2, &b) == 0);
        ck_assert_msg(a.st_ino == b.st_ino && a.st_nlink == 2, "hard link not kept");
        _cleanup_free_ char *own = xasprintf("%s/own", root);
        char v[8] = "";
        ck_assert_int_eq(getxattr(own, "user.test", v, sizeof(v)), 1);
        ck_assert_str_eq(v, "v");
        ck_assert(stat(own, &a) == 0 && a.st_mtim.tv_sec == 1000000000);
        _cleanup_free_ char *rf = xasprintf("%s/fifo", root), *re = xasprintf("%s/esc", root);
        ck_assert(lstat(rf, &a) == 0 && S_ISFIFO(a.st_mode) && (a.st_mode & 0777) == 0640);
        ck_assert(lstat(re, &a) == 0 && S_ISDIR(a.st_mode));
        check_text(root, "esc/pea-test-storage-escape", "inside");
        ck_assert(!pea_path_exists("/etc/pea-test-storage-escape"));
        check_text(root, "d", "now a file");
        remove_ok(s, "c1");
}

END_TEST

static void write_proc(const char *path, const char *text)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        ck_assert_msg(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text),
                      "writing '%s': %s", path, strerror(errno));
}

/* The overlay result of the probe, for a SKIP message. */
static char *probe_reason(void)
{
        _cleanup_free_ char *text = get(g_graph, "storage/driver-probe.json");
        return xstrdup(text ? text : "no probe file");
}

/* In the forked child: nobody, then root of a user namespace mapping 0 -> nobody. */
static int rootless_child(char **lowers)
{
        bool ux = false;
        if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0
            || setresuid(NOBODY, NOBODY, NOBODY) < 0 || prctl(PR_SET_DUMPABLE, 1) < 0)
                return 2;
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
                printf("SKIP: rootless: unshare: %s\n", strerror(errno));
                return 77;
        }
        write_proc("/proc/self/setgroups", "deny");
        write_proc("/proc/self/uid_map", "0 65534 1");
        write_proc("/proc/self/gid_map", "0 65534 1");
        ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        _cleanup_(pea_storage_freep) struct pea_storage *s = open_ok("", true);
        if (!streq(pea_storage_driver_name(s), "overlay")) {
                _cleanup_free_ char *why = probe_reason();
                printf("SKIP: rootless native overlay refused: %s\n", why);
                return 77;
        }
        ck_assert_str_eq(pea_storage_whiteout_mode(s, &ux), "overlay");
        ck_assert(ux);
        create_ok(s, "c1", lowers);
        _cleanup_free_ char *m = mount_ok(s, "c1"), *upper = write_dir("overlay");
        check_view(m);
        put(m, "new", "hello");
        check_text(upper, "new", "hello");
        _cleanup_free_ char *ma = xasprintf("%s/a", m), *ua = xasprintf("%s/a", upper);
        struct stat st;
        ck_assert_int_eq(unlink(ma), 0);
        ck_assert(lstat(ua, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0);
        umount_ok(s, "c1");
        ck_assert_int_eq(mounts_under(m), 0);
        _cleanup_free_ char *m2 = mount_ok(s, "c1");
        check_text(m2, "new", "hello");
        ck_assert(!exists(m2, "a"));
        remove_ok(s, "c1");
        return 0;
}

START_TEST(rootless_overlay)
{
        int status = 0;
        if (skip_unless_root())
                return;
        mkdirs(g_graph);
        mkdirs(g_run);
        ck_assert(chown(g_graph, NOBODY, NOBODY) == 0 && chown(g_run, NOBODY, NOBODY) == 0);
        _cleanup_strv_ char **lowers = make_layers(WH_USER);
        fflush(stdout);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int r = rootless_child(lowers);
                fflush(stdout);
                _exit(r);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status), "rootless child died");
        ck_assert_msg(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 77,
                      "rootless child failed with %d", WEXITSTATUS(status));
}

END_TEST

static void write_probe(const char *kernel, bool overlay, bool mknod)
{
        _cleanup_free_ char *text =
                xasprintf("{\"kernel\": \"%s\", \"rootless\": false, \"overlay\": %s, "
                          "\"overlay_error\": \"faked by the test\", \"mknod\": %s}",
                          kernel, overlay ? "true" : "false", mknod ? "true" : "false");
        put(g_graph, "storage/driver-probe.json", text);
}

static struct timespec probe_mtime(void)
{
        struct stat st;
        _cleanup_free_ char *p = xasprintf("%s/storage/driver-probe.json", g_graph);
        ck_assert_int_eq(stat(p, &st), 0);
        return st.st_mtim;
}

START_TEST(probe_cached)
{
        struct utsname u;
        if (skip_unless_root())
                return;
        ck_assert_int_eq(uname(&u), 0);
        struct pea_storage *s = open_ok("", false);
        ck_assert_str_eq(pea_storage_driver_name(s), "overlay");
        s = pea_storage_free(s);
        struct timespec t1 = probe_mtime();
        _cleanup_free_ char *text = get(g_graph, "storage/driver-probe.json");
        ck_assert_ptr_nonnull(strstr(text, u.release));
        usleep(20000);
        s = pea_storage_free(open_ok("", false));
        struct timespec t2 = probe_mtime();
        ck_assert(t1.tv_sec == t2.tv_sec && t1.tv_nsec == t2.tv_nsec);
        /* A cached failure is believed: no second probe. */
        write_probe(u.release, false, false);
        s = open_ok("", false);
        ck_assert_str_ne(pea_storage_driver_name(s), "overlay");
        if (streq(pea_storage_driver_name(s), "fuse-overlayfs"))
                ck_assert_str_eq(pea_storage_whiteout_mode(s, NULL), "aufs");
        s = pea_storage_free(s);
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_storage_open(g_graph, g_run, "overlay", false, &s, &err), -ENOTSUP);
        ck_assert_ptr_nonnull(strstr(err->msg, "faked by the test"));
        /* Another kernel release: probed again, and overlay works. */
        write_probe("0.0.0-old", false, false);
        s = open_ok("", false);
        ck_assert_str_eq(pea_storage_driver_name(s), "overlay");
        s = pea_storage_free(s);
        _cleanup_free_ char *text2 = get(g_graph, "storage/driver-probe.json");
        ck_assert_ptr_nonnull(strstr(text2, u.release));
}

END_TEST

/* n layers with long paths, top-most first; layer i adds f<i> and rewrites "common". */
static char **many_layers(int n)
{
        char **l = xcalloc((size_t)n + 1, sizeof(char *));
        for (int i = 0; i < n; i++) {
                l[n - 1 - i] = xasprintf("%s/layers/%064x/diff", g_graph, i);
                _cleanup_free_ char *f = xasprintf("f%d", i), *v = xasprintf("%d", i);
                put(l[n - 1 - i], f, v);
                put(l[n - 1 - i], "common", v);
        }
        return l;
}

START_TEST(many_layers_mount)
{
        static const char *const drivers[] = {"overlay", "fuse-overlayfs", "vfs"};
        if (skip_unless_root() || (_i == 1 && !fuse_available()))
                return;
        const int n = 60;
        _cleanup_(pea_storage_freep) struct pea_storage *s = open_ok(drivers[_i], false);
        _cleanup_strv_ char **l = many_layers(n);
        _cleanup_free_ char *joined = strv_join(l, ":");
        ck_assert_int_gt(strlen(joined), 4096);
        create_ok(s, "c1", l);
        _cleanup_free_ char *m = mount_ok(s, "c1");
        check_text(m, "common", "59");
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *f = xasprintf("f%d", i), *v = xasprintf("%d", i);
                check_text(m, f, v);
        }
        remove_ok(s, "c1");
}

END_TEST

static bool record_exists(const char *id)
{
        _cleanup_free_ char *p = xasprintf("%s/storage/mounts/%s", g_run, id);
        return pea_path_exists(p);
}

static int cleanup_ok(struct pea_storage *s)
{
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_storage_cleanup_stale(s, &err);
        ck_assert_msg(r >= 0, "cleanup: %s", err ? err->msg : "?");
        return r;
}

START_TEST(stale_mounts)
{
        const char *const ids[] = {"c1", "c2", "c3"};
        int status = 0;
        if (skip_unless_root())
                return;
        _cleanup_(pea_storage_freep) struct pea_storage *s = open_ok("overlay", false);
        _cleanup_strv_ char **l = make_layers(WH_TRUSTED);
        for (int i = 0; i < 3; i++)
                create_ok(s, ids[i], l);
        /* A process mounts all three and "crashes": no umount. */
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct pea_storage *cs = open_ok("overlay", false);
                for (int i = 0; i < 3; i++)
                        free(mount_ok(cs, ids[i]));
                _exit(0);
        }
        ck_assert(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status));
        _cleanup_(pea_storage_freep) struct pea_storage *s2 = open_ok("", false);
        for (int i = 0; i < 3; i++)
                ck_assert(pea_storage_is_mounted(s2, ids[i]) && record_exists(ids[i]));
        /* c2's mount disappears behind pea's back; c3 loses its directory too. */
        _cleanup_free_ char *m2 = xasprintf("%s/containers/c2/merged", g_graph);
        _cleanup_free_ char *m3 = xasprintf("%s/containers/c3/merged", g_graph);
        _cleanup_free_ char *d3 = xasprintf(
                "chmod -R u+rwx %s/containers/c3; rm -rf %s/containers/c3", g_graph, g_graph);
        ck_assert(umount2(m2, 0) == 0 && umount2(m3, 0) == 0 && system(d3) == 0);
        ck_assert_int_eq(cleanup_ok(s2), 2);
        ck_assert(record_exists("c1") && !record_exists("c2") && !record_exists("c3"));
        ck_assert(pea_storage_is_mounted(s2, "c1"));
        _cleanup_free_ char *m1 = mount_ok(s2, "c1");
        check_merged(m1);
        ck_assert_int_eq(cleanup_ok(s2), 0);
        remove_ok(s2, "c1");
        remove_ok(s2, "c2");
        remove_ok(s2, "c3");
}

END_TEST

static bool dead(const char *merged)
{
        struct statfs sfs;
        return statfs(merged, &sfs) < 0 && errno == ENOTCONN;
}

static void kill_daemon(const char *merged)
{
        pid_t pid = find_daemon(merged, true);
        ck_assert_int_gt(pid, 0);
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        for (int i = 0; i < 500 && !dead(merged); i++)
                usleep(10000);
        ck_assert_msg(dead(merged), "the mount outlived its fuse-overlayfs");
}

START_TEST(fuse_dead_daemon)
{
        if (skip_unless_root() || !fuse_available())
                return;
        _cleanup_(pea_storage_freep) struct pea_storage *s = open_ok("fuse-overlayfs", false);
        _cleanup_strv_ char **l = make_layers(WH_AUFS);
        create_ok(s, "c1", l);
        _cleanup_free_ char *m = mount_ok(s, "c1");
        put(m, "kept", "yes");
        kill_daemon(m);
        ck_assert(pea_storage_is_mounted(s, "c1"));
        /* Mounting over a dead mount replaces it. */
        _cleanup_free_ char *m2 = mount_ok(s, "c1");
        check_text(m2, "kept", "yes");
        ck_assert_int_eq(mounts_under(m2), 1);
        kill_daemon(m2);
        ck_assert_int_eq(cleanup_ok(s), 1);
        ck_assert_int_eq(mounts_under(m2), 0);
        ck_assert(!record_exists("c1") && !pea_storage_is_mounted(s, "c1"));
        remove_ok(s, "c1");
}

END_TEST

START_TEST(driver_mixing)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_storage *s = NULL;
        if (skip_unless_root())
                return;
        _cleanup_strv_ char **l = make_layers(WH_TRUSTED);
        s = open_ok("vfs", false);
        create_ok(s, "c1", l);
        s = pea_storage_free(s);
        _cleanup_free_ char *rec = get(g_graph, "storage/driver");
        ck_assert_str_eq(rec, "vfs\n");
        ck_assert_int_eq(pea_storage_open(g_graph, g_run, "overlay", false, &s, &err), -EINVAL);
        ck_assert_msg(strstr(err->msg, "'vfs'"), "unclear: %s", err->msg);
        pea_error_clear(&err);
        s = open_ok("", false);
        ck_assert_str_eq(pea_storage_driver_name(s), "vfs");
        remove_ok(s, "c1");
        s = pea_storage_free(s);
        s = open_ok("overlay", false);
        create_ok(s, "c2", l);
        s = pea_storage_free(s);
        _cleanup_free_ char *rec2 = get(g_graph, "storage/driver");
        ck_assert_str_eq(rec2, "overlay\n");
        ck_assert_int_eq(pea_storage_open(g_graph, g_run, "bogus", false, &s, &err), -EINVAL);
        ck_assert_ptr_null(s);
}

END_TEST

START_TEST(whiteout_modes)
{
        static const char *const drivers[] = {"overlay", "vfs", "fuse-overlayfs"};
        if (skip_unless_root())
                return;
        for (size_t i = 0; i < ELEMENTSOF(drivers); i++) {
                bool ux = true;
                if (i == 2 && !fuse_available())
                        break;
                struct pea_storage *s = open_ok(drivers[i], false);
                ck_assert_str_eq(pea_storage_whiteout_mode(s, &ux), "overlay");
                ck_assert(!ux);
                pea_storage_free(s);
        }
}

END_TEST

static void expect_create(struct pea_storage *s, const char *id, const char *const *l, int code)
{
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_storage_create(s, id, l, &err), -code);
        ck_assert(err && err->msg && *err->msg);
}

START_TEST(invalid_input)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_storage *bad = NULL;
        if (skip_unless_root())
                return;
        ck_assert_int_eq(pea_storage_open("rel", g_run, "", false, &bad, &err), -EINVAL);
        _cleanup_(pea_storage_freep) struct pea_storage *s = open_ok("overlay", false);
        _cleanup_strv_ char **l = make_layers(WH_TRUSTED);
        _cleanup_free_ char *longid = xasprintf("%0200d", 1);
        const char *const bad_ids[] = {"", "../x", "a/b", ".x", "-x", longid};
        for (size_t i = 0; i < ELEMENTSOF(bad_ids); i++)
                expect_create(s, bad_ids[i], (const char *const *)l, EINVAL);
        _cleanup_free_ char *missing = xasprintf("%s/nope", g_base);
        _cleanup_free_ char *file = xasprintf("%s/a", l[2]);
        expect_create(s, "c1", (const char *const[]){"relative", NULL}, EINVAL);
        expect_create(s, "c1", (const char *const[]){l[0], missing, NULL}, ENOENT);
        expect_create(s, "c1", (const char *const[]){file, NULL}, ENOTDIR);
        _cleanup_free_ char *cdir = xasprintf("%s/containers/c1", g_graph);
        ck_assert(!pea_path_exists(cdir));
        create_ok(s, "c1", l);
        expect_create(s, "c1", (const char *const *)l, EEXIST);
        ck_assert_int_eq(pea_storage_mount(s, "nope", NULL, &err), -ENOENT);
        /* No layers at all is a valid (scratch) container. */
        create_ok(s, "empty", NULL);
        _cleanup_free_ char *m = mount_ok(s, "empty");
        put(m, "x", "y");
        remove_ok(s, "empty");
        remove_ok(s, "c1");
}

END_TEST

static Suite *storage_suite(void)
{
        Suite *s = suite_create("storage");
        TCase *tc = tcase_create("core");
        tcase_add_unchecked_fixture(tc, global_setup, global_teardown);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, overlay_lifecycle);
        tcase_add_test(tc, overlay_volatile);
        tcase_add_loop_test(tc, fuse_lifecycle, 0, 2);
        tcase_add_loop_test(tc, vfs_lifecycle, 0, 3);
        tcase_add_test(tc, vfs_copy_details);
        tcase_add_test(tc, rootless_overlay);
        tcase_add_test(tc, probe_cached);
        tcase_add_loop_test(tc, many_layers_mount, 0, 3);
        tcase_add_test(tc, stale_mounts);
        tcase_add_test(tc, fuse_dead_daemon);
        tcase_add_test(tc, driver_mixing);
        tcase_add_test(tc, whiteout_modes);
        tcase_add_test(tc, invalid_input);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(storage_suite());
        /* The rootless and crash tests fork; their children must not run other tests. */
        srunner_set_fork_status(sr, CK_FORK);
        srunner_run_all(sr, CK_ENV);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? 0 : 1;
}
