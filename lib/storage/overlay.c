/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base.h"
#include "storage-internal.h"

/*
 * Native overlay, and the layout it shares with fuse-overlayfs.
 *
 * mount(2) copies at most one page of options, so a lowerdir of 30 absolute
 * layer paths may not fit. As containers/storage does, every layer gets a
 * short symlink <graph_root>/l/<13 chars> -> ../layers/<chain>/diff, and the
 * mount runs with graph_root as its working directory so that the options
 * name "l/<short>" and "containers/<id>/upper": about 16 bytes a layer.
 */

#define MOUNT_DATA_MAX 4096
#define SHORT_LEN      13
#define SHORT_TRIES    8

/* 13 base32 characters of FNV-1a 64 of target and salt. */
static void short_name(const char *target, unsigned salt, char ret[static SHORT_LEN + 1])
{
        static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        uint64_t h = 1469598103934665603ULL;
        for (const char *p = target; *p; p++) {
                h ^= (unsigned char)*p;
                h *= 1099511628211ULL;
        }
        h ^= salt;
        h *= 1099511628211ULL;
        for (int i = 0; i < SHORT_LEN; i++) {
                ret[i] = b32[h & 31];
                h >>= 5;
        }
        ret[SHORT_LEN] = '\0';
}

static bool link_points_to(int dfd, const char *name, const char *target)
{
        _cleanup_free_ char *buf = xmalloc(PATH_MAX + 1);
        ssize_t n = readlinkat(dfd, name, buf, PATH_MAX);
        if (n < 0)
                return false;
        buf[n] = '\0';
        return streq(buf, target);
}

/* Makes (or finds) the l/ link of one layer; *ret is "l/<short>". */
static int link_lower(const struct pea_storage *s, int ldfd, const char *lower, char **ret,
                      struct pea_error **err)
{
        _cleanup_free_ char *real = realpath(lower, NULL);
        if (!real)
                return pea_error_syscall(err, errno, "resolving layer '%s'", lower);
        const char *rest = startswith(real, s->graph_root);
        _cleanup_free_ char *target =
                rest && *rest == '/' ? xasprintf("..%s", rest) : xstrdup(real);
        char name[SHORT_LEN + 1];
        for (unsigned salt = 0; salt < SHORT_TRIES; salt++) {
                short_name(target, salt, name);
                if (symlinkat(target, ldfd, name) < 0 && errno != EEXIST)
                        return pea_error_syscall(err, errno, "linking layer '%s'", lower);
                if (link_points_to(ldfd, name, target)) {
                        *ret = xasprintf("l/%s", name);
                        return 0;
                }
        }
        return pea_error_set(err, EEXIST, "no free short name for layer '%s'", lower);
}

/* Builds "l/A:l/B:..." (or the container's empty dir without layers). */
static int lowerdir_string(struct pea_storage *s, const char *id, const char *const *lowers,
                           size_t n, char **ret, struct pea_error **err)
{
        _cleanup_free_ char *ldir = xasprintf("%s/l", s->graph_root);
        _cleanup_close_ int ldfd = open(ldir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_strv_ char **names = NULL;
        if (ldfd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", ldir);
        for (size_t i = 0; i < n; i++) {
                char *name = NULL;
                int r = link_lower(s, ldfd, lowers[i], &name, err);
                if (r < 0)
                        return r;
                strv_consume(&names, name);
        }
        if (n == 0) {
                _cleanup_free_ char *empty = storage_container_path(s, id, "empty");
                if (mkdir(empty, 0755) < 0)
                        return pea_error_syscall(err, errno, "creating '%s'", empty);
                strv_consume(&names, xasprintf("containers/%s/empty", id));
        }
        *ret = strv_join(names, ":");
        return 0;
}

/* The merged root shows upper's attributes: give it those of the top layer's root. */
static int init_upper(const struct pea_storage *s, const char *upper, const char *top,
                      struct pea_error **err)
{
        struct stat st = {.st_mode = S_IFDIR | 0755};
        if (top && stat(top, &st) < 0)
                return pea_error_syscall(err, errno, "layer '%s'", top);
        if (mkdir(upper, 0700) < 0)
                return pea_error_syscall(err, errno, "creating '%s'", upper);
        if (chown(upper, st.st_uid, st.st_gid) < 0 && !s->rootless && geteuid() == 0)
                return pea_error_syscall(err, errno, "changing the owner of '%s'", upper);
        if (chmod(upper, st.st_mode & 07777) < 0)
                return pea_error_syscall(err, errno, "changing the mode of '%s'", upper);
        return 0;
}

int storage_overlay_layout(struct pea_storage *s, const char *id, const char *const *lowers,
                           size_t n, struct pea_error **err)
{
        _cleanup_free_ char *lowerdir = NULL;
        _cleanup_free_ char *upper = storage_container_path(s, id, "upper");
        _cleanup_free_ char *lower = storage_container_path(s, id, "lower");
        int r = lowerdir_string(s, id, lowers, n, &lowerdir, err);
        if (r >= 0)
                r = init_upper(s, upper, n > 0 ? lowers[0] : NULL, err);
        if (r < 0)
                return r;
        const char *const subs[] = {"work", "merged"};
        for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
                _cleanup_free_ char *p = storage_container_path(s, id, subs[i]);
                if (mkdir(p, 0700) < 0)
                        return pea_error_syscall(err, errno, "creating '%s'", p);
        }
        _cleanup_free_ char *data = xasprintf("%s\n", lowerdir);
        return pea_write_file_atomic_at(AT_FDCWD, lower, data, strlen(data), 0600, err);
}

int storage_overlay_read_lower(const struct pea_storage *s, const char *id, char **ret,
                               struct pea_error **err)
{
        _cleanup_free_ char *path = storage_container_path(s, id, "lower");
        _cleanup_free_ char *text = NULL;
        int r = pea_read_file_at(AT_FDCWD, path, (size_t)64 * 1024, &text, NULL, err);
        if (r < 0)
                return r;
        strstrip(text);
        if (!*text)
                return pea_error_set(err, EBADMSG, "'%s' is empty", path);
        *ret = TAKE_PTR(text);
        return 0;
}

/* mount(2) of an overlay whose option paths are relative to dir. */
static int mount_in(const char *dir, const char *target, const char *opts, struct pea_error **err)
{
        if (strlen(opts) >= MOUNT_DATA_MAX)
                return pea_error_set(err, E2BIG, "overlay options are %zu bytes, more than %d",
                                     strlen(opts), MOUNT_DATA_MAX - 1);
        _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (chdir(dir) < 0)
                return pea_error_syscall(err, errno, "entering '%s'", dir);
        int r = mount("overlay", target, "overlay", 0, opts);
        int e = errno;
        if ((cwd >= 0 ? fchdir(cwd) : chdir("/")) < 0)
                (void)!chdir("/");
        if (r < 0)
                return pea_error_syscall(err, e, "mounting overlay on '%s'", target);
        return 0;
}

static int overlay_probe(struct pea_storage *s, struct pea_error **err)
{
        const struct storage_probe *p = NULL;
        int r = storage_get_probe(s, &p, err);
        if (r < 0)
                return r;
        if (!p->overlay)
                return pea_error_set(err, ENOTSUP, "native overlay does not work here: %s",
                                     p->overlay_error ? p->overlay_error : "unknown reason");
        return 1;
}

static int overlay_create(struct pea_storage *s, const char *id, const char *const *lowers,
                          size_t n, struct pea_error **err)
{
        return storage_overlay_layout(s, id, lowers, n, err);
}

static int overlay_mount(struct pea_storage *s, const char *id, struct pea_error **err)
{
        _cleanup_free_ char *lower = NULL;
        int r = storage_overlay_read_lower(s, id, &lower, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *merged = storage_container_path(s, id, "merged");
        _cleanup_free_ char *opts =
                xasprintf("lowerdir=%s,upperdir=containers/%s/upper,workdir=containers/%s/work%s",
                          lower, id, id, s->rootless ? ",userxattr" : "");
        _cleanup_free_ char *marker = storage_container_path(s, id, "volatile");
        if (pea_path_exists(marker)) {
                /* No syncs of the upper layer, unmount included (kernel 5.10+). */
                _cleanup_free_ char *vopts = xasprintf("%s,volatile", opts);
                if (mount_in(s->graph_root, merged, vopts, NULL) == 0)
                        return 0;
        }
        return mount_in(s->graph_root, merged, opts, err);
}

static int overlay_umount(struct pea_storage *s, const char *id, struct pea_error **err)
{
        _cleanup_free_ char *merged = storage_container_path(s, id, "merged");
        return storage_umount_path(merged, err);
}

static int overlay_remove(struct pea_storage *s, const char *id, struct pea_error **err)
{
        return storage_remove_container_dir(s, id, err);
}

const struct pea_storage_driver storage_driver_overlay = {
        .name = "overlay",
        .mounts = true,
        .probe = overlay_probe,
        .create = overlay_create,
        .mount = overlay_mount,
        .umount = overlay_umount,
        .remove = overlay_remove,
};

/*
 * The probe: low1 holds a 0:0 whiteout over low2's "gone"; the mount must
 * hide it, show "keep", and put a file written through it into upper.
 */
static int probe_check(bool mknod_ok, struct pea_error **err)
{
        if (!pea_path_exists("merged/keep"))
                return pea_error_set(err, EIO, "a lower file is missing from the overlay");
        if (mknod_ok && pea_path_exists("merged/gone"))
                return pea_error_set(err, EIO, "the overlay ignores whiteouts");
        _cleanup_close_ int fd =
                open("merged/probe", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return pea_error_syscall(err, errno, "writing to the overlay");
        if (!pea_path_exists("upper/probe"))
                return pea_error_set(err, EIO, "a file written to the overlay is not in upper");
        return 0;
}

static int probe_in(const char *dir, bool rootless, bool *ret_mknod, struct pea_error **err)
{
        static const char *const subs[] = {"low1", "low2", "upper", "work", "merged"};
        for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, subs[i]);
                if (mkdir(p, 0755) < 0)
                        return pea_error_syscall(err, errno, "creating '%s'", p);
        }
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", dir);
        const char *const files[] = {"low2/gone", "low2/keep"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_close_ int fd =
                        openat(dfd, files[i], O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0)
                        return pea_error_syscall(err, errno, "creating '%s/%s'", dir, files[i]);
        }
        *ret_mknod = mknodat(dfd, "low1/gone", S_IFCHR | 0600, makedev(0, 0)) == 0;
        const char *opts = rootless ? "lowerdir=low1:low2,upperdir=upper,workdir=work,userxattr"
                                    : "lowerdir=low1:low2,upperdir=upper,workdir=work";
        _cleanup_free_ char *merged = xasprintf("%s/merged", dir);
        int r = mount_in(dir, merged, opts, err);
        if (r < 0)
                return r;
        _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        r = fchdir(dfd) < 0 ? pea_error_syscall(err, errno, "entering '%s'", dir)
                            : probe_check(*ret_mknod, err);
        if ((cwd >= 0 ? fchdir(cwd) : chdir("/")) < 0)
                (void)!chdir("/");
        (void)umount2(merged, MNT_DETACH);
        return r;
}

void storage_probe_run(const struct pea_storage *s, struct storage_probe *ret)
{
        _cleanup_free_ char *dir = xasprintf("%s/storage/probe-XXXXXX", s->graph_root);
        _cleanup_error_ struct pea_error *e = NULL;
        *ret = (struct storage_probe){};
        if (!mkdtemp(dir)) {
                ret->overlay_error = xasprintf("creating '%s': %s", dir, strerror(errno));
                return;
        }
        ret->overlay = probe_in(dir, s->rootless, &ret->mknod, &e) >= 0;
        if (e)
                ret->overlay_error = TAKE_PTR(e->msg);
        _cleanup_free_ char *ww = xasprintf("%s/work/work", dir);
        _cleanup_error_ struct pea_error *e2 = NULL;
        (void)chmod(ww, 0700);
        (void)pea_rm_rf(dir, &e2);
}

void storage_prune_links(const struct pea_storage *s)
{
        _cleanup_free_ char *ldir = xasprintf("%s/l", s->graph_root);
        _cleanup_closedir_ DIR *d = opendir(ldir);
        struct dirent *de;
        struct stat st;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 && errno == ENOENT) {
                        pea_debug("storage: removing dangling layer link '%s'", de->d_name);
                        (void)unlinkat(dirfd(d), de->d_name, 0);
                }
        }
}
