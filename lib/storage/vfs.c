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

#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "base.h"
#include "storage-internal.h"

/*
 * vfs: at create time the layers are copied, bottom-most first, into
 * <graph_root>/containers/<id>/rootfs, as overlay would show them merged:
 *   - a 0:0 character device NAME or a file ".wh.NAME" deletes NAME;
 *   - a directory with trusted.overlay.opaque=y or user.overlay.opaque=y, or
 *     holding ".wh..wh..opq", is emptied before its own entries are copied;
 *   - an entry replaces one of another type (a directory over a symlink too);
 *   - owners (lchown), modes, xattrs (except overlay's own), hard links within
 *     a layer, symlinks and times are kept. Rootless, owners and xattrs that
 *     the namespace refuses are skipped, as are device nodes.
 * Every walk uses directory fds and O_NOFOLLOW: nothing a layer contains can
 * lead the copy outside rootfs.
 */

#define MAX_DEPTH   256
#define XATTR_MAX   65536
#define COPY_BUFFER 65536

struct link_entry {
        dev_t dev;
        ino_t ino;
        char *path; /* relative to rootfs */
        struct link_entry *next;
};

/* The first copy of each multiply linked file of the current layer. */
struct link_table {
        struct link_entry *slots[256];
};

struct copy {
        bool rootless;
        int root; /* rootfs */
        unsigned depth;
        struct link_table links;
};

static size_t link_slot(dev_t dev, ino_t ino)
{
        return (size_t)((dev * 31u) ^ ino) % 256u;
}

static const char *links_find(const struct link_table *t, const struct stat *st)
{
        for (const struct link_entry *e = t->slots[link_slot(st->st_dev, st->st_ino)]; e;
             e = e->next)
                if (e->dev == st->st_dev && e->ino == st->st_ino)
                        return e->path;
        return NULL;
}

static void links_add(struct link_table *t, const struct stat *st, const char *path)
{
        struct link_entry *e = xmalloc(sizeof(*e));
        size_t i = link_slot(st->st_dev, st->st_ino);
        *e = (struct link_entry){st->st_dev, st->st_ino, xstrdup(path), t->slots[i]};
        t->slots[i] = e;
}

static void links_done(struct link_table *t)
{
        for (size_t i = 0; i < ELEMENTSOF(t->slots); i++) {
                while (t->slots[i]) {
                        struct link_entry *e = t->slots[i];
                        t->slots[i] = e->next;
                        free(e->path);
                        free(e);
                }
        }
}

/* The names in a directory, without "." and "..". */
static int read_names(int fd, char ***ret)
{
        int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dup_fd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(dup_fd);
        _cleanup_strv_ char **names = NULL;
        struct dirent *de;
        if (!d) {
                int e = errno;
                (void)close(dup_fd);
                return -e;
        }
        while ((errno = 0, de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        strv_push(&names, de->d_name);
        if (errno != 0)
                return -errno;
        *ret = TAKE_PTR(names);
        return 0;
}

static int rm_at(int dfd, const char *name, unsigned depth);

static int empty_dir(int fd, unsigned depth)
{
        _cleanup_strv_ char **names = NULL;
        int r = read_names(fd, &names);
        STRV_FOREACH(n, names)
                if (r >= 0)
                        r = rm_at(fd, *n, depth);
        return r;
}

/* rm -rf of one entry, never following symlinks; missing is fine. */
static int rm_at(int dfd, const char *name, unsigned depth)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        if (depth >= MAX_DEPTH)
                return -ELOOP;
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == EACCES && fchmodat(dfd, name, 0700, 0) == 0)
                fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = empty_dir(fd, depth + 1);
        if (r < 0)
                return r;
        return unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

/* What a whiteout entry deletes, or NULL when name is no whiteout. */
static const char *whiteout_target(const char *name, const struct stat *st)
{
        if (S_ISCHR(st->st_mode) && st->st_rdev == 0)
                return name;
        const char *t = startswith(name, ".wh.");
        if (!t || startswith(t, ".wh.") || streq(t, "") || streq(t, ".") || streq(t, ".."))
                return NULL;
        return t;
}

/* ".wh..wh..opq" and the other AUFS metadata names are never copied. */
static bool is_marker(const char *name)
{
        return startswith(name, ".wh..wh.") != NULL;
}

static bool xattr_is_y(int fd, const char *xname)
{
        char v[2] = "";
        ssize_t n = fgetxattr(fd, xname, v, sizeof(v));
        return n == 1 && (v[0] == 'y' || v[0] == 'Y');
}

static bool dir_is_opaque(int fd)
{
        struct stat st;
        return xattr_is_y(fd, "trusted.overlay.opaque") || xattr_is_y(fd, "user.overlay.opaque")
               || fstatat(fd, ".wh..wh..opq", &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool xattr_skipped(const char *name)
{
        return startswith(name, "trusted.overlay.") || startswith(name, "user.overlay.")
               || startswith(name, "user.fuseoverlayfs.");
}

/* Copies the xattrs that may be set here; refusals (rootless, SELinux) are skipped. */
static int copy_xattrs(int in, int out)
{
        ssize_t len = flistxattr(in, NULL, 0);
        if (len <= 0)
                return len < 0 && errno != ENOTSUP ? -errno : 0;
        if (len > XATTR_MAX)
                return -E2BIG;
        _cleanup_free_ char *list = xmalloc((size_t)len + 1);
        _cleanup_free_ char *val = xmalloc(XATTR_MAX);
        len = flistxattr(in, list, (size_t)len);
        if (len < 0)
                return -errno;
        for (char *n = list; n < list + len; n += strlen(n) + 1) {
                if (xattr_skipped(n))
                        continue;
                ssize_t vl = fgetxattr(in, n, val, XATTR_MAX);
                if (vl < 0)
                        continue;
                if (fsetxattr(out, n, val, (size_t)vl, 0) < 0 && errno != EPERM && errno != ENOTSUP
                    && errno != EACCES && errno != EINVAL)
                        return -errno;
        }
        return 0;
}

static int owner_result(const struct copy *c, int r)
{
        if (r < 0 && c->rootless && (errno == EINVAL || errno == EPERM))
                return 0;
        return r < 0 ? -errno : 0;
}

/* Owner, then mode (chown clears setuid bits), then xattrs (and capabilities), then times. */
static int copy_attrs_fd(const struct copy *c, int in, int out, const struct stat *st)
{
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        int r = owner_result(c, fchown(out, st->st_uid, st->st_gid));
        if (r < 0)
                return r;
        if (fchmod(out, st->st_mode & 07777) < 0)
                return -errno;
        r = copy_xattrs(in, out);
        if (r < 0)
                return r;
        return futimens(out, ts) < 0 ? -errno : 0;
}

/* Owner, mode and times of an entry that cannot be opened (symlink, device, fifo). */
static int copy_attrs_at(const struct copy *c, int dfd, const char *name, const struct stat *st)
{
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        int r = owner_result(c, fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW));
        if (r < 0)
                return r;
        if (!S_ISLNK(st->st_mode) && fchmodat(dfd, name, st->st_mode & 07777, 0) < 0)
                return -errno;
        return utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int copy_data(int in, int out)
{
        if (ioctl(out, FICLONE, in) == 0)
                return 0;
        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30, 0);
                if (n == 0)
                        return 0;
                if (n > 0 || errno == EINTR)
                        continue;
                if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
                        return -errno;
                break;
        }
        _cleanup_free_ char *buf = xmalloc(COPY_BUFFER);
        for (;;) {
                ssize_t n = read(in, buf, COPY_BUFFER);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : 0;
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(out, buf + off, (size_t)(n - off));
                        if (w < 0 && errno != EINTR)
                                return -errno;
                        off += w > 0 ? w : 0;
                }
        }
}

static int copy_file(struct copy *c, int sfd, int dfd, const char *name, const struct stat *st,
                     const char *rel)
{
        const char *first = st->st_nlink > 1 ? links_find(&c->links, st) : NULL;
        int r = rm_at(dfd, name, c->depth);
        if (r < 0)
                return r;
        if (first)
                return linkat(c->root, first, dfd, name, 0) < 0 ? -errno : 0;
        _cleanup_close_ int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
                return -errno;
        _cleanup_close_ int out =
                openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        r = copy_data(in, out);
        if (r >= 0)
                r = copy_attrs_fd(c, in, out, st);
        if (r >= 0 && st->st_nlink > 1)
                links_add(&c->links, st, rel);
        return r;
}

static int copy_symlink(struct copy *c, int sfd, int dfd, const char *name, const struct stat *st)
{
        _cleanup_free_ char *target = xmalloc(PATH_MAX + 1);
        ssize_t n = readlinkat(sfd, name, target, PATH_MAX);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        int r = rm_at(dfd, name, c->depth);
        if (r < 0)
                return r;
        if (symlinkat(target, dfd, name) < 0)
                return -errno;
        return copy_attrs_at(c, dfd, name, st);
}

static int copy_special(struct copy *c, int dfd, const char *name, const struct stat *st)
{
        int r = rm_at(dfd, name, c->depth);
        if (r < 0 || S_ISSOCK(st->st_mode))
                return r;
        if (mknodat(dfd, name, st->st_mode & (S_IFMT | 0777), st->st_rdev) < 0) {
                if (errno == EPERM && !S_ISFIFO(st->st_mode)) {
                        pea_debug("storage: vfs: cannot create device '%s', skipping", name);
                        return 0;
                }
                return -errno;
        }
        return copy_attrs_at(c, dfd, name, st);
}

static int copy_dir(struct copy *c, int sfd, int dfd, const char *rel, char **ret_where);

static int copy_subdir(struct copy *c, int sfd, int dfd, const char *name, const struct stat *st,
                       const char *rel, char **ret_where)
{
        struct stat dst;
        if (c->depth >= MAX_DEPTH)
                return -ELOOP;
        if (fstatat(dfd, name, &dst, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(dst.st_mode)) {
                int r = rm_at(dfd, name, c->depth);
                if (r < 0)
                        return r;
        }
        if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
                return -errno;
        _cleanup_close_ int in = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int out =
                openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0 || out < 0)
                return -errno;
        c->depth++;
        int r = copy_dir(c, in, out, rel, ret_where);
        c->depth--;
        if (r < 0)
                return r;
        return copy_attrs_fd(c, in, out, st);
}

static int copy_entry(struct copy *c, int sfd, int dfd, const char *name, const char *parent,
                      char **ret_where)
{
        struct stat st;
        _cleanup_free_ char *rel = *parent ? xasprintf("%s/%s", parent, name) : xstrdup(name);
        int r = 0;
        if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                r = -errno;
        else if (whiteout_target(name, &st) || is_marker(name))
                return 0;
        else if (S_ISDIR(st.st_mode))
                return copy_subdir(c, sfd, dfd, name, &st, rel, ret_where);
        else if (S_ISREG(st.st_mode))
                r = copy_file(c, sfd, dfd, name, &st, rel);
        else if (S_ISLNK(st.st_mode))
                r = copy_symlink(c, sfd, dfd, name, &st);
        else
                r = copy_special(c, dfd, name, &st);
        if (r < 0 && !*ret_where)
                *ret_where = TAKE_PTR(rel);
        return r;
}

/* Applies the whiteouts of a layer directory, then copies its other entries. */
static int copy_dir(struct copy *c, int sfd, int dfd, const char *rel, char **ret_where)
{
        _cleanup_strv_ char **names = NULL;
        int r = read_names(sfd, &names);
        if (r >= 0 && dir_is_opaque(sfd))
                r = empty_dir(dfd, c->depth);
        STRV_FOREACH(n, names) {
                struct stat st;
                const char *t = NULL;
                if (r >= 0 && fstatat(sfd, *n, &st, AT_SYMLINK_NOFOLLOW) == 0
                    && (t = whiteout_target(*n, &st)))
                        r = rm_at(dfd, t, c->depth);
        }
        STRV_FOREACH(n, names)
                if (r >= 0)
                        r = copy_entry(c, sfd, dfd, *n, rel, ret_where);
        if (r < 0 && !*ret_where)
                *ret_where = xstrdup(*rel ? rel : ".");
        return r;
}

static int copy_layer(struct copy *c, const char *layer, struct pea_error **err)
{
        _cleanup_free_ char *where = NULL;
        struct stat st;
        _cleanup_close_ int in = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (in < 0 || fstat(in, &st) < 0)
                return pea_error_syscall(err, errno, "opening layer '%s'", layer);
        int r = copy_dir(c, in, c->root, "", &where);
        if (r >= 0)
                r = copy_attrs_fd(c, in, c->root, &st);
        links_done(&c->links);
        if (r < 0)
                return pea_error_syscall(err, -r, "copying '%s' of layer '%s'", where ? where : ".",
                                         layer);
        return 0;
}

static int vfs_probe(struct pea_storage *s _unused_, struct pea_error **err _unused_)
{
        return 1;
}

static int vfs_create(struct pea_storage *s, const char *id, const char *const *lowers, size_t n,
                      struct pea_error **err)
{
        _cleanup_free_ char *rootfs = storage_container_path(s, id, "rootfs");
        if (mkdir(rootfs, 0755) < 0)
                return pea_error_syscall(err, errno, "creating '%s'", rootfs);
        _cleanup_close_ int root = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root < 0)
                return pea_error_syscall(err, errno, "opening '%s'", rootfs);
        struct copy c = {.rootless = s->rootless, .root = root};
        for (size_t i = n; i > 0; i--) {
                int r = copy_layer(&c, lowers[i - 1], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int vfs_nothing(struct pea_storage *s _unused_, const char *id _unused_,
                       struct pea_error **err _unused_)
{
        return 0;
}

static int vfs_remove(struct pea_storage *s, const char *id, struct pea_error **err)
{
        return storage_remove_container_dir(s, id, err);
}

const struct pea_storage_driver storage_driver_vfs = {
        .name = "vfs",
        .mounts = false,
        .probe = vfs_probe,
        .create = vfs_create,
        .mount = vfs_nothing,
        .umount = vfs_nothing,
        .remove = vfs_remove,
};
