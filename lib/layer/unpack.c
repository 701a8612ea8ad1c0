/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>

#include "base.h"
#include "layer-internal.h"
#include "sha.h"

/*
 * Two libarchive readers in a row: "outer" only decompresses (gzip, zstd or
 * none, raw format) and "inner" parses the tar from outer's output. Between the
 * two, every uncompressed byte passes through inner_read(), which hashes it:
 * that is the diff_id, trailing padding after the end-of-archive blocks included
 * (stream_drain() reads it).
 */

#define SRC_BUF_SIZE (128u * 1024u)

struct layer_stream {
        const struct pea_layer_source *src;
        struct archive *outer;
        struct pea_sha diff_hash;
        struct pea_sha comp_hash;
        uint64_t comp_bytes;
        uint64_t raw_bytes;
        uint64_t max_size;
        void *buf;
        struct pea_error *src_err;
};

static void stream_done(struct layer_stream *s)
{
        if (s->outer)
                (void)archive_read_free(s->outer);
        free(s->buf);
        pea_error_clear(&s->src_err);
}

static la_ssize_t outer_read(struct archive *a, void *userdata, const void **ret_buf)
{
        struct layer_stream *s = userdata;
        ssize_t n = s->src->read(s->src->userdata, s->buf, SRC_BUF_SIZE, &s->src_err);
        if (n < 0) {
                if (!s->src_err)
                        (void)pea_error_syscall(&s->src_err, (int)-n, "reading layer data");
                archive_set_error(a, (int)-n, "reading layer data failed");
                return -1;
        }
        if ((size_t)n > SRC_BUF_SIZE)
                n = SRC_BUF_SIZE;
        pea_sha_update(&s->comp_hash, s->buf, (size_t)n);
        s->comp_bytes += (uint64_t)n;
        *ret_buf = s->buf;
        return n;
}

/* The next block of uncompressed data: its size, 0 at the end, or -1 (error in a). */
static la_ssize_t stream_next(struct layer_stream *s, struct archive *a, const void **ret_buf)
{
        for (;;) {
                size_t size = 0;
                la_int64_t off = 0;
                int r = archive_read_data_block(s->outer, ret_buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN) {
                        const char *m = archive_error_string(s->outer);
                        if (a != s->outer)
                                archive_set_error(a, EBADMSG, "%s", m ? m : "decompression failed");
                        return -1;
                }
                if (size == 0)
                        continue;
                if (s->max_size && s->raw_bytes + size > s->max_size) {
                        archive_set_error(a, EFBIG, "layer is larger than %" PRIu64 " bytes",
                                          s->max_size);
                        return -1;
                }
                pea_sha_update(&s->diff_hash, *ret_buf, size);
                s->raw_bytes += size;
                return (la_ssize_t)size;
        }
}

static la_ssize_t inner_read(struct archive *a, void *userdata, const void **ret_buf)
{
        return stream_next(userdata, a, ret_buf);
}

/* The error of a failed archive call: the source's own error first. */
static int stream_fail(struct layer_stream *s, struct archive *a, const char *path,
                       struct pea_error **err)
{
        if (s->src_err) {
                int code = s->src_err->code;
                if (!err || *err)
                        return -code;
                *err = TAKE_PTR(s->src_err);
                return pea_error_wrap(err, "reading layer");
        }
        if (s->comp_bytes == 0)
                return pea_error_set(err, EBADMSG, "reading layer: the stream is empty");
        const char *m = archive_error_string(a);
        if (!m)
                m = "malformed archive";
        if (path)
                return pea_error_set(err, EBADMSG, "reading layer entry '%s': %s", path, m);
        return pea_error_set(err, EBADMSG, "reading layer: %s", m);
}

static int stream_open(struct layer_stream *s, struct archive **ret, struct pea_error **err)
{
        pea_sha_init(&s->diff_hash, PEA_SHA256);
        pea_sha_init(&s->comp_hash, PEA_SHA256);
        s->buf = xmalloc(SRC_BUF_SIZE);
        s->outer = archive_read_new();
        if (!s->outer)
                return pea_error_set(err, ENOMEM, "allocating an archive reader");
        (void)archive_read_support_filter_gzip(s->outer);
        (void)archive_read_support_filter_zstd(s->outer);
        (void)archive_read_support_format_raw(s->outer);
        struct archive_entry *e = NULL;
        if (archive_read_open(s->outer, s, NULL, outer_read, NULL) != ARCHIVE_OK
            || archive_read_next_header(s->outer, &e) != ARCHIVE_OK)
                return stream_fail(s, s->outer, NULL, err);
        _cleanup_archive_read_ struct archive *a = archive_read_new();
        if (!a)
                return pea_error_set(err, ENOMEM, "allocating an archive reader");
        (void)archive_read_support_format_tar(a);
        if (archive_read_open(a, s, NULL, inner_read, NULL) != ARCHIVE_OK)
                return stream_fail(s, a, NULL, err);
        *ret = TAKE_PTR(a);
        return 0;
}

static int stream_drain(struct layer_stream *s, struct pea_error **err)
{
        for (;;) {
                const void *buf = NULL;
                la_ssize_t n = stream_next(s, s->outer, &buf);
                if (n == 0)
                        return 0;
                if (n < 0)
                        return stream_fail(s, s->outer, NULL, err);
        }
}

static void digest_finish(struct pea_sha *h, char out[72])
{
        unsigned char d[32];
        pea_sha_final(h, d);
        memcpy(out, "sha256:", 7);
        for (size_t i = 0; i < sizeof(d); i++)
                (void)snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
}

/* One entry being applied: its normalised path and its parent directory. */
struct entry {
        struct archive *a;
        struct archive_entry *e;
        const char *path;
        int dirfd;
        const char *base;
};

static int set_owner(struct layer_unpack *u, const struct entry *x, int fd, const char *name,
                     struct pea_error **err)
{
        if (u->opts.rootless_single_id)
                return 0;
        la_int64_t uid = archive_entry_uid(x->e), gid = archive_entry_gid(x->e);
        if (uid < 0 || gid < 0 || uid >= UINT32_MAX || gid >= UINT32_MAX)
                return pea_error_set(err, EBADMSG, "layer entry '%s' has an invalid owner",
                                     x->path);
        int flags = *name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH;
        if (fchownat(fd, name, (uid_t)uid, (gid_t)gid, flags) == 0)
                return 0;
        if (errno == EINVAL)
                return pea_error_set(err, EINVAL,
                                     "chowning '%s' to %" PRId64 ":%" PRId64
                                     ": the id is not mapped in the user namespace",
                                     x->path, (int64_t)uid, (int64_t)gid);
        return pea_error_syscall(err, errno, "chowning '%s'", x->path);
}

static bool xattr_allowed(const char *name)
{
        if (startswith(name, "trusted.overlay.") || startswith(name, "user.overlay."))
                return false;
        return startswith(name, "user.") || startswith(name, "trusted.")
               || streq(name, "security.capability");
}

/* Sets the entry's xattrs on fd, or on dirfd/base when fd < 0. */
static int set_xattrs(struct layer_unpack *u, const struct entry *x, int fd, struct pea_error **err)
{
        if (archive_entry_xattr_reset(x->e) == 0)
                return 0;
        _cleanup_free_ char *proc =
                fd < 0 ? xasprintf("/proc/self/fd/%d/%s", x->dirfd, x->base) : NULL;
        const char *name = NULL;
        const void *value = NULL;
        size_t size = 0;
        while (archive_entry_xattr_next(x->e, &name, &value, &size) == ARCHIVE_OK) {
                if (!xattr_allowed(name) || size > PEA_LAYER_MAX_XATTR) {
                        pea_debug("not setting xattr '%s' on '%s'", name, x->path);
                        u->stats.skipped_xattrs++;
                        continue;
                }
                int r = fd >= 0 ? fsetxattr(fd, name, value, size, 0)
                                : lsetxattr(proc, name, value, size, 0);
                if (r == 0)
                        continue;
                if (errno != EPERM && errno != ENOTSUP && errno != EACCES)
                        return pea_error_syscall(err, errno, "setting xattr '%s' on '%s'", name,
                                                 x->path);
                pea_debug("setting xattr '%s' on '%s' failed (%s), ignoring", name, x->path,
                          strerror(errno));
                u->stats.skipped_xattrs++;
        }
        return 0;
}

static void entry_times(const struct entry *x, struct timespec ts[2])
{
        struct archive_entry *e = x->e;
        ts[1] = archive_entry_mtime_is_set(e)
                        ? (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)}
                        : (struct timespec){0, UTIME_OMIT};
        ts[0] = archive_entry_atime_is_set(e)
                        ? (struct timespec){archive_entry_atime(e), archive_entry_atime_nsec(e)}
                        : ts[1];
}

static int set_times_at(const struct entry *x, struct pea_error **err)
{
        struct timespec ts[2];
        entry_times(x, ts);
        if (utimensat(x->dirfd, x->base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return pea_error_syscall(err, errno, "setting times of '%s'", x->path);
        return 0;
}

static int write_data(struct layer_unpack *u, const struct entry *x, int fd, struct pea_error **err)
{
        off_t end = 0;
        for (;;) {
                const void *buf = NULL;
                size_t size = 0;
                la_int64_t off = 0;
                int r = archive_read_data_block(x->a, &buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return stream_fail(u->stream, x->a, x->path, err);
                for (size_t done = 0; done < size;) {
                        ssize_t n = pwrite(fd, (const char *)buf + done, size - done,
                                           (off_t)off + (off_t)done);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return pea_error_syscall(err, errno, "writing '%s'", x->path);
                        done += (size_t)n;
                }
                if ((off_t)off + (off_t)size > end)
                        end = (off_t)off + (off_t)size;
        }
        la_int64_t size = archive_entry_size(x->e);
        if (archive_entry_size_is_set(x->e) && size > end && ftruncate(fd, (off_t)size) < 0)
                return pea_error_syscall(err, errno, "extending '%s'", x->path);
        return 0;
}

static int make_file(struct layer_unpack *u, const struct entry *x, struct pea_error **err)
{
        int r = layer_clear_slot(x->dirfd, x->base, false, x->path, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat(x->dirfd, x->base,
                                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating '%s'", x->path);
        r = write_data(u, x, fd, err);
        if (r < 0)
                return r;
        /* chown clears setuid and file capabilities: mode and xattrs come after it. */
        r = set_owner(u, x, fd, "", err);
        if (r < 0)
                return r;
        if (fchmod(fd, archive_entry_perm(x->e) & 07777) < 0)
                return pea_error_syscall(err, errno, "setting the mode of '%s'", x->path);
        r = set_xattrs(u, x, fd, err);
        if (r < 0)
                return r;
        struct timespec ts[2];
        entry_times(x, ts);
        if (futimens(fd, ts) < 0)
                return pea_error_syscall(err, errno, "setting times of '%s'", x->path);
        return 0;
}

static void defer_dir(struct layer_unpack *u, const struct entry *x)
{
        if (u->n_dirs == u->cap_dirs) {
                u->cap_dirs = u->cap_dirs ? u->cap_dirs * 2 : 64;
                u->dirs = xrealloc(u->dirs, u->cap_dirs * sizeof(*u->dirs));
        }
        struct layer_dirmeta *d = &u->dirs[u->n_dirs++];
        d->path = xstrdup(x->path);
        d->mode = archive_entry_perm(x->e) & 07777;
        entry_times(x, d->times);
}

/* Directories are created 0700; mode and times come at the end (apply_dirs). */
static int make_dir(struct layer_unpack *u, const struct entry *x, struct pea_error **err)
{
        _cleanup_close_ int fd = -EBADF;
        if (!*x->path) {
                fd = openat(x->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else {
                int r = layer_clear_slot(x->dirfd, x->base, true, x->path, err);
                if (r < 0)
                        return r;
                if (r == 0 && mkdirat(x->dirfd, x->base, 0700) < 0 && errno != EEXIST)
                        return pea_error_syscall(err, errno, "creating directory '%s'", x->path);
                fd = openat(x->dirfd, x->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening directory '%s'", x->path);
        int r = set_owner(u, x, fd, "", err);
        if (r < 0)
                return r;
        r = set_xattrs(u, x, fd, err);
        if (r < 0)
                return r;
        defer_dir(u, x);
        return 0;
}

static int make_symlink(struct layer_unpack *u, const struct entry *x, struct pea_error **err)
{
        const char *target = archive_entry_symlink(x->e);
        if (!target)
                target = archive_entry_symlink_utf8(x->e);
        if (!target || !*target || strlen(target) > PEA_LAYER_MAX_PATH)
                return pea_error_set(err, EBADMSG, "layer entry '%s' has an invalid symlink target",
                                     x->path);
        int r = layer_clear_slot(x->dirfd, x->base, false, x->path, err);
        if (r < 0)
                return r;
        if (symlinkat(target, x->dirfd, x->base) < 0)
                return pea_error_syscall(err, errno, "creating symlink '%s'", x->path);
        r = set_owner(u, x, x->dirfd, x->base, err);
        if (r < 0)
                return r;
        r = set_xattrs(u, x, -EBADF, err);
        if (r < 0)
                return r;
        return set_times_at(x, err);
}

static int make_node(struct layer_unpack *u, const struct entry *x, mode_t type,
                     struct pea_error **err)
{
        int r = layer_clear_slot(x->dirfd, x->base, false, x->path, err);
        if (r < 0)
                return r;
        dev_t dev = type == S_IFIFO
                            ? 0
                            : makedev(archive_entry_rdevmajor(x->e), archive_entry_rdevminor(x->e));
        if (mknodat(x->dirfd, x->base, type | 0600, dev) < 0) {
                if (errno == EPERM && type != S_IFIFO) {
                        pea_debug("creating device '%s' is not permitted, skipping", x->path);
                        u->stats.skipped_devices++;
                        return 0;
                }
                return pea_error_syscall(err, errno, "creating '%s'", x->path);
        }
        r = set_owner(u, x, x->dirfd, x->base, err);
        if (r < 0)
                return r;
        if (fchmodat(x->dirfd, x->base, archive_entry_perm(x->e) & 07777, 0) < 0)
                return pea_error_syscall(err, errno, "setting the mode of '%s'", x->path);
        r = set_xattrs(u, x, -EBADF, err);
        if (r < 0)
                return r;
        return set_times_at(x, err);
}

static int make_hardlink(struct layer_unpack *u, const struct entry *x, const char *link,
                         struct pea_error **err)
{
        _cleanup_free_ char *target = NULL;
        int r = layer_path_normalize(link, &target, NULL);
        if (r < 0)
                return pea_error_set(err, EBADMSG,
                                     "layer entry '%s' links to '%s', which escapes the layer "
                                     "directory",
                                     x->path, link);
        if (!*target)
                return pea_error_set(err, EBADMSG, "layer entry '%s' links to the layer root",
                                     x->path);
        if (streq(target, x->path))
                return 0;
        const char *tbase = NULL;
        _cleanup_close_ int tfd =
                layer_open_parent(&u->root, target, LAYER_RESOLVE_NO_SYMLINKS, &tbase, err);
        if (tfd < 0)
                return pea_error_wrap(err, "layer entry '%s' links to '%s'", x->path, target);
        struct stat st;
        if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return pea_error_set(err, EBADMSG,
                                             "layer entry '%s' links to '%s', which does not exist",
                                             x->path, target);
                return pea_error_syscall(err, errno, "inspecting '%s'", target);
        }
        if (S_ISDIR(st.st_mode))
                return pea_error_set(err, EBADMSG, "layer entry '%s' links to the directory '%s'",
                                     x->path, target);
        r = layer_clear_slot(x->dirfd, x->base, false, x->path, err);
        if (r < 0)
                return r;
        if (linkat(tfd, tbase, x->dirfd, x->base, 0) < 0)
                return pea_error_syscall(err, errno, "linking '%s' to '%s'", x->path, target);
        return 0;
}

static int make_entry(struct layer_unpack *u, const struct entry *x, struct pea_error **err)
{
        const char *link = archive_entry_hardlink(x->e);
        if (!link)
                link = archive_entry_hardlink_utf8(x->e);
        if (link)
                return make_hardlink(u, x, link, err);
        mode_t type = archive_entry_filetype(x->e);
        switch (type) {
        case AE_IFREG:
                return make_file(u, x, err);
        case AE_IFDIR:
                return make_dir(u, x, err);
        case AE_IFLNK:
                return make_symlink(u, x, err);
        case AE_IFIFO:
        case AE_IFCHR:
        case AE_IFBLK:
                return make_node(u, x, type, err);
        default:
                pea_debug("skipping layer entry '%s' of type 0%o", x->path, (unsigned)type);
                u->stats.skipped_other++;
                return 0;
        }
}

static int unpack_entry(struct layer_unpack *u, struct archive *a, struct archive_entry *e,
                        struct pea_error **err)
{
        const char *name = archive_entry_pathname(e);
        if (!name)
                name = archive_entry_pathname_utf8(e);
        if (!name)
                return pea_error_set(err, EBADMSG, "layer entry without a name");
        _cleanup_free_ char *path = NULL;
        int r = layer_path_normalize(name, &path, err);
        if (r < 0)
                return r;
        struct entry x = {.a = a, .e = e, .path = path, .dirfd = u->root.fd, .base = ""};
        if (!*path) {
                if (archive_entry_filetype(e) != AE_IFDIR || archive_entry_hardlink(e))
                        return pea_error_set(err, EBADMSG,
                                             "layer root entry '%s' is not a directory", name);
                return make_dir(u, &x, err);
        }
        const char *slash = strrchr(path, '/');
        if (startswith(slash ? slash + 1 : path, WH_PREFIX)) {
                r = layer_whiteout(u, path, err);
                if (r <= 0)
                        return r;
        }
        if (u->opts.whiteout == PEA_WHITEOUT_APPLY)
                layer_pathset_add(&u->written, path);
        _cleanup_close_ int fd =
                layer_open_parent(&u->root, path, LAYER_RESOLVE_CREATE, &x.base, err);
        if (fd < 0)
                return pea_error_wrap(err, "layer entry '%s'", path);
        x.dirfd = fd;
        return make_entry(u, &x, err);
}

static int unpack_entries(struct layer_unpack *u, struct archive *a, struct pea_error **err)
{
        uint64_t max = u->opts.max_entries ? u->opts.max_entries : PEA_LAYER_MAX_ENTRIES;
        for (;;) {
                struct archive_entry *e = NULL;
                int r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r == ARCHIVE_WARN)
                        pea_debug("reading layer: %s", archive_error_string(a));
                else if (r != ARCHIVE_OK)
                        return stream_fail(u->stream, a, NULL, err);
                if (++u->stats.entries > max)
                        return pea_error_set(err, EBADMSG,
                                             "layer has more than %" PRIu64 " entries", max);
                r = unpack_entry(u, a, e, err);
                if (r < 0)
                        return r;
        }
}

static int apply_dir(struct layer_unpack *u, const struct layer_dirmeta *d, struct pea_error **err)
{
        const char *base = ".";
        _cleanup_close_ int pfd = -EBADF;
        if (*d->path) {
                _cleanup_error_ struct pea_error *e = NULL;
                pfd = layer_open_parent(&u->root, d->path, 0, &base, &e);
                if (pfd < 0)
                        return 0; /* removed or replaced later in the layer */
        }
        int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (*d->path ? O_NOFOLLOW : 0);
        _cleanup_close_ int fd = openat(*d->path ? pfd : u->root.fd, base, flags);
        if (fd < 0)
                return 0;
        if (fchmod(fd, d->mode) < 0)
                return pea_error_syscall(err, errno, "setting the mode of '%s'", d->path);
        if (futimens(fd, d->times) < 0)
                return pea_error_syscall(err, errno, "setting times of '%s'", d->path);
        return 0;
}

/* Deepest last written first; a directory listed twice takes its last entry. */
static int apply_dirs(struct layer_unpack *u, struct pea_error **err)
{
        struct layer_pathset done = {};
        int r = 0;
        for (size_t i = u->n_dirs; i-- > 0 && r >= 0;) {
                if (layer_pathset_contains(&done, u->dirs[i].path))
                        continue;
                layer_pathset_add(&done, u->dirs[i].path);
                r = apply_dir(u, &u->dirs[i], err);
        }
        layer_pathset_done(&done);
        return r;
}

static void unpack_done(struct layer_unpack *u)
{
        for (size_t i = 0; i < u->n_dirs; i++)
                free(u->dirs[i].path);
        free(u->dirs);
        layer_pathset_done(&u->written);
}

static int unpack_init(struct layer_unpack *u, int dest_dirfd,
                       const struct pea_layer_unpack_opts *opts, struct pea_error **err)
{
        if (opts)
                u->opts = *opts;
        if ((int)u->opts.whiteout < 0 || u->opts.whiteout >= _PEA_WHITEOUT_MODE_MAX)
                return pea_error_set(err, EINVAL, "invalid whiteout mode %d",
                                     (int)u->opts.whiteout);
        struct stat st;
        if (fstat(dest_dirfd, &st) < 0)
                return pea_error_syscall(err, errno, "inspecting the layer directory");
        if (!S_ISDIR(st.st_mode))
                return pea_error_set(err, ENOTDIR, "the layer destination is not a directory");
        layer_root_init(&u->root, dest_dirfd, u->opts.no_openat2);
        return 0;
}

int pea_layer_unpack(const struct pea_layer_source *src, int dest_dirfd,
                     const struct pea_layer_unpack_opts *opts, struct pea_layer_stats *ret_stats,
                     struct pea_error **err)
{
        _cleanup_(unpack_done) struct layer_unpack u = {};
        _cleanup_(stream_done) struct layer_stream s = {.src = src};
        _cleanup_archive_read_ struct archive *a = NULL;

        int r = unpack_init(&u, dest_dirfd, opts, err);
        if (r < 0)
                return r;
        s.max_size = u.opts.max_size;
        u.stream = &s;
        r = stream_open(&s, &a, err);
        if (r < 0)
                return r;
        r = unpack_entries(&u, a, err);
        if (r < 0)
                return r;
        r = stream_drain(&s, err);
        if (r < 0)
                return r;
        r = apply_dirs(&u, err);
        if (r < 0)
                return r;
        digest_finish(&s.diff_hash, u.stats.diff_id);
        digest_finish(&s.comp_hash, u.stats.digest);
        u.stats.compressed_size = s.comp_bytes;
        u.stats.uncompressed_size = s.raw_bytes;
        if (ret_stats)
                *ret_stats = u.stats;
        return 0;
}

static ssize_t fd_read(void *userdata, void *buf, size_t len, struct pea_error **err)
{
        int fd = *(int *)userdata;
        for (;;) {
                ssize_t n = read(fd, buf, len);
                if (n >= 0)
                        return n;
                if (errno != EINTR)
                        return pea_error_syscall(err, errno, "reading layer file");
        }
}

int pea_layer_unpack_fd(int src_fd, int dest_dirfd, const struct pea_layer_unpack_opts *opts,
                        struct pea_layer_stats *ret_stats, struct pea_error **err)
{
        struct pea_layer_source src = {.read = fd_read, .userdata = &src_fd};
        return pea_layer_unpack(&src, dest_dirfd, opts, ret_stats, err);
}
