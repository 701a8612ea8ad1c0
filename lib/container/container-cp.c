/* SPDX-License-Identifier: Apache-2.0 */
/* pea cp and export: paths inside a container's root, tar streams in and out. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "base.h"
#include "container/container.h"
#include "layer/layer.h"
#include "runtime/runtime.h"
#include "storage/storage.h"

#define CP_MAX_DEPTH 512
#define CP_BUF_SIZE  (128u * 1024u)

/* ---- pure helpers -------------------------------------------------------------------------- */

int pea_container_cp_parse_arg(const char *arg, char **ret_ctr, char **ret_path,
                               struct pea_error **err)
{
        if (!arg || !*arg)
                return pea_error_set(err, EINVAL, "invalid empty path");
        const char *colon = strchr(arg, ':');
        /* "./a:b" and "/x:y" are host paths, as in podman */
        if (!colon || colon == arg || memchr(arg, '/', (size_t)(colon - arg)) || arg[0] == '.') {
                *ret_ctr = NULL;
                *ret_path = xstrdup(arg);
                return 0;
        }
        if (colon[1] == '\0')
                return pea_error_set(err, EINVAL, "invalid empty path in '%s'", arg);
        *ret_ctr = xstrndup(arg, (size_t)(colon - arg));
        *ret_path = xstrdup(colon + 1);
        return 0;
}

/* The last component of path without trailing slashes ("" for "/" and "."). */
static char *last_component(const char *path)
{
        size_t n = strlen(path);
        while (n > 0 && path[n - 1] == '/')
                n--;
        size_t start = n;
        while (start > 0 && path[start - 1] != '/')
                start--;
        _cleanup_free_ char *c = xstrndup(path + start, n - start);
        if (streq(c, ".") || streq(c, ".."))
                return xstrdup("");
        return TAKE_PTR(c);
}

/* The directory part of path ("." when there is none, "/" for the root). */
static char *parent_dir(const char *path)
{
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/')
                n--;
        while (n > 0 && path[n - 1] != '/')
                n--;
        while (n > 1 && path[n - 1] == '/')
                n--;
        if (n == 0)
                return xstrdup(".");
        return xstrndup(path, n);
}

bool pea_container_cp_wants_contents(const char *src)
{
        return streq(src, ".") || endswith(src, "/.");
}

int pea_container_cp_plan(const char *src, bool src_is_dir, const char *dest,
                          enum pea_cp_dest_kind kind, char **ret_dir, char **ret_name,
                          struct pea_error **err)
{
        _cleanup_free_ char *src_name = last_component(src);
        bool contents = src_is_dir && (pea_container_cp_wants_contents(src) || !*src_name);
        switch (kind) {
        case PEA_CP_DEST_DIR:
                *ret_dir = xstrdup(dest);
                *ret_name = contents ? xstrdup("") : TAKE_PTR(src_name);
                return 0;
        case PEA_CP_DEST_FILE:
                if (src_is_dir)
                        return pea_error_set(err, ENOTDIR,
                                             "destination '%s' exists and is not a directory",
                                             dest);
                break;
        case PEA_CP_DEST_MISSING:
                if (!src_is_dir && endswith(dest, "/"))
                        return pea_error_set(err, ENOENT, "'%s': no such file or directory", dest);
                break;
        default:
                return pea_error_set(err, EINVAL, "invalid destination kind %d", (int)kind);
        }
        _cleanup_free_ char *name = last_component(dest);
        if (!*name)
                return pea_error_set(err, EINVAL, "invalid destination '%s'", dest);
        *ret_dir = parent_dir(dest);
        *ret_name = TAKE_PTR(name);
        return 0;
}

/* ---- resolving ----------------------------------------------------------------------------- */

int pea_container_cp_resolve(int rootfd, const char *path, struct stat *ret_st,
                             struct pea_error **err)
{
        _cleanup_error_ struct pea_error *e = NULL;
        _cleanup_close_ int fd = pea_runtime_resolve_in_root(rootfd, path, &e);
        if (fd < 0)
                return pea_error_syscall(err, -fd, "'%s'", path);
        if (ret_st && fstat(fd, ret_st) < 0)
                return pea_error_syscall(err, errno, "'%s'", path);
        return TAKE_FD(fd);
}

/* ---- writing a tar stream ------------------------------------------------------------------ */

struct cp_writer {
        struct archive *a;
        const struct pea_container_cp_owner *owner;
        int fd;
        char *buf;
        uint64_t entries;
};

static la_ssize_t cp_write_cb(struct archive *a, void *userdata, const void *buf, size_t len)
{
        struct cp_writer *w = userdata;
        size_t done = 0;
        while (done < len) {
                ssize_t n = write(w->fd, (const char *)buf + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        archive_set_error(a, errno, "writing the tar stream");
                        return -1;
                }
                done += (size_t)n;
        }
        return (la_ssize_t)len;
}

static int archive_fail(struct cp_writer *w, const char *what, const char *path,
                        struct pea_error **err)
{
        int e = archive_errno(w->a);
        const char *m = archive_error_string(w->a);
        return pea_error_set(err, e > 0 ? e : EIO, "%s '%s': %s", what, path,
                             m ? m : "unknown error");
}

static int copy_data(struct cp_writer *w, int fd, const char *path, struct pea_error **err)
{
        for (;;) {
                ssize_t n = read(fd, w->buf, CP_BUF_SIZE);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pea_error_syscall(err, errno, "reading '%s'", path);
                if (n == 0)
                        return 0;
                if (archive_write_data(w->a, w->buf, (size_t)n) != n)
                        return archive_fail(w, "writing", path, err);
        }
}

static int write_header(struct cp_writer *w, const struct stat *st, const char *path,
                        const char *link, struct pea_error **err)
{
        struct archive_entry *e = archive_entry_new();
        if (!e)
                abort();
        archive_entry_copy_stat(e, st);
        archive_entry_set_pathname(e, path);
        archive_entry_unset_atime(e);
        archive_entry_unset_ctime(e);
        archive_entry_unset_birthtime(e);
        if (w->owner) {
                archive_entry_set_uid(e, w->owner->uid);
                archive_entry_set_gid(e, w->owner->gid);
        }
        if (link)
                archive_entry_set_symlink(e, link);
        if (!S_ISREG(st->st_mode))
                archive_entry_set_size(e, 0);
        int r = archive_write_header(w->a, e);
        archive_entry_free(e);
        w->entries++;
        return r < ARCHIVE_WARN ? archive_fail(w, "writing", path, err) : 0;
}

static int write_tree(struct cp_writer *w, int fd, const char *path, unsigned depth,
                      struct pea_error **err);

static int write_child(struct cp_writer *w, int dirfd, const char *name, const char *path,
                       unsigned depth, struct pea_error **err)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return pea_error_syscall(err, errno, "reading '%s'", path);
        if (S_ISLNK(st.st_mode)) {
                _cleanup_free_ char *target = xmalloc(PEA_LAYER_MAX_PATH + 1);
                ssize_t n = readlinkat(dirfd, name, target, PEA_LAYER_MAX_PATH);
                if (n < 0)
                        return pea_error_syscall(err, errno, "reading link '%s'", path);
                target[n] = '\0';
                return write_header(w, &st, path, target, err);
        }
        if (S_ISSOCK(st.st_mode))
                return 0;
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
                return write_header(w, &st, path, NULL, err);
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
        _cleanup_close_ int fd = openat(dirfd, name, flags);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        return write_tree(w, fd, path, depth, err);
}

static int write_dir_entries(struct cp_writer *w, int fd, const char *path, unsigned depth,
                             struct pea_error **err)
{
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        _cleanup_closedir_ DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
                if (dfd >= 0)
                        (void)close(dfd);
                return pea_error_syscall(err, errno, "reading directory '%s'", path);
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *child =
                        *path ? xasprintf("%s/%s", path, de->d_name) : xstrdup(de->d_name);
                int r = write_child(w, fd, de->d_name, child, depth + 1, err);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return pea_error_syscall(err, errno, "reading directory '%s'", path);
        return 0;
}

/* fd: opened for reading (a directory or a regular file); path "" writes only the children. */
static int write_tree(struct cp_writer *w, int fd, const char *path, unsigned depth,
                      struct pea_error **err)
{
        if (depth > CP_MAX_DEPTH)
                return pea_error_set(err, ELOOP, "'%s' is nested too deeply", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return pea_error_syscall(err, errno, "reading '%s'", path);
        if (*path) {
                int r = write_header(w, &st, path, NULL, err);
                if (r < 0)
                        return r;
        }
        if (S_ISREG(st.st_mode))
                return copy_data(w, fd, path, err);
        if (S_ISDIR(st.st_mode))
                return write_dir_entries(w, fd, path, depth, err);
        return 0;
}

/* Reopens an O_PATH fd for reading. */
static int reopen_read(int fd, struct pea_error **err)
{
        _cleanup_free_ char *p = xasprintf("/proc/self/fd/%d", fd);
        int r = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (r < 0)
                return pea_error_syscall(err, errno, "reopening a descriptor");
        return r;
}

int pea_container_cp_pack_fd(int src_fd, const char *name,
                             const struct pea_container_cp_owner *owner, int out_fd,
                             struct pea_error **err)
{
        struct stat st;
        if (fstat(src_fd, &st) < 0)
                return pea_error_syscall(err, errno, "reading the source");
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && (!name || !*name))
                return pea_error_set(err, EINVAL, "the source is not a file or directory");
        _cleanup_close_ int fd = -EBADF;
        if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
                fd = reopen_read(src_fd, err);
                if (fd < 0)
                        return fd;
        }
        struct cp_writer w = {.a = archive_write_new(), .owner = owner, .fd = out_fd};
        if (!w.a)
                return pea_error_set(err, ENOMEM, "cannot create archive writer");
        w.buf = xmalloc(CP_BUF_SIZE);
        int r = 0;
        if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK
            || archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK
            || archive_write_open(w.a, &w, NULL, cp_write_cb, NULL) != ARCHIVE_OK)
                r = archive_fail(&w, "opening", "tar stream", err);
        if (r >= 0 && fd >= 0)
                r = write_tree(&w, fd, name ? name : "", 0, err);
        else if (r >= 0)
                r = write_header(&w, &st, name, NULL, err);
        if (r >= 0 && archive_write_close(w.a) != ARCHIVE_OK)
                r = archive_fail(&w, "finishing", "tar stream", err);
        (void)archive_write_free(w.a);
        free(w.buf);
        return r;
}

int pea_container_cp_unpack_fd(int in_fd, int dest_dirfd, bool chown_entries,
                               struct pea_error **err)
{
        const struct pea_layer_unpack_opts o = {
                .whiteout = PEA_WHITEOUT_AUFS,
                .rootless_single_id = !chown_entries,
        };
        return pea_layer_unpack_fd(in_fd, dest_dirfd, &o, NULL, err);
}

/* ---- mounting ------------------------------------------------------------------------------ */

int pea_container_cp_mount(const struct pea_container_ctx *ctx, const char *id,
                           struct pea_container_mount *ret, struct pea_error **err)
{
        bool was = pea_storage_is_mounted(ctx->storage, id);
        _cleanup_free_ char *merged = NULL;
        int r = pea_storage_mount(ctx->storage, id, &merged, err);
        if (r < 0)
                return r;
        int fd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = pea_error_syscall(err, errno, "opening '%s'", merged);
                if (!was)
                        (void)pea_storage_umount(ctx->storage, id, NULL);
                return r;
        }
        *ret = (struct pea_container_mount){
                .rootfs = TAKE_PTR(merged), .rootfd = fd, .mounted_here = !was};
        return 0;
}

void pea_container_cp_umount(const struct pea_container_ctx *ctx, const char *id,
                             struct pea_container_mount *m)
{
        closep(&m->rootfd);
        m->rootfd = -EBADF;
        if (m->mounted_here)
                (void)pea_storage_umount(ctx->storage, id, NULL);
        m->mounted_here = false;
        free(m->rootfs);
        m->rootfs = NULL;
}
