/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>

#include "base.h"
#include "layer-internal.h"
#include "sha.h"

/*
 * The mirror of unpack.c: a pax writer ("inner") whose output is hashed (the
 * diff_id) and handed to a raw writer ("outer") that compresses, hashes again
 * (the blob digest) and writes to the sink.
 */

#define READ_BUF_SIZE (128u * 1024u)

struct pack {
        struct pea_layer_pack_opts opts;
        const struct pea_layer_sink *dst;
        struct archive *inner;
        struct archive *outer;
        struct archive_entry_linkresolver *links;
        struct pea_sha diff_hash;
        struct pea_sha comp_hash;
        struct pea_layer_stats stats;
        struct pea_error *sink_err;
        char *buf;
};

static void pack_done(struct pack *p)
{
        if (p->inner)
                (void)archive_write_free(p->inner);
        if (p->outer)
                (void)archive_write_free(p->outer);
        if (p->links)
                archive_entry_linkresolver_free(p->links);
        pea_error_clear(&p->sink_err);
        free(p->buf);
}

static la_ssize_t outer_write(struct archive *a, void *userdata, const void *buf, size_t len)
{
        struct pack *p = userdata;
        int r = p->dst->write(p->dst->userdata, buf, len, &p->sink_err);
        if (r < 0) {
                if (!p->sink_err)
                        (void)pea_error_syscall(&p->sink_err, -r, "writing layer data");
                archive_set_error(a, -r, "writing layer data failed");
                return -1;
        }
        pea_sha_update(&p->comp_hash, buf, len);
        p->stats.compressed_size += len;
        return (la_ssize_t)len;
}

static la_ssize_t inner_write(struct archive *a, void *userdata, const void *buf, size_t len)
{
        struct pack *p = userdata;
        pea_sha_update(&p->diff_hash, buf, len);
        p->stats.uncompressed_size += len;
        la_ssize_t n = archive_write_data(p->outer, buf, len);
        if (n < 0 || (size_t)n != len) {
                const char *m = archive_error_string(p->outer);
                archive_set_error(a, EIO, "%s", m ? m : "compressing layer data failed");
                return -1;
        }
        return n;
}

static int pack_fail(struct pack *p, struct archive *a, const char *path, struct pea_error **err)
{
        if (p->sink_err) {
                int code = p->sink_err->code;
                if (!err || *err)
                        return -code;
                *err = TAKE_PTR(p->sink_err);
                return pea_error_wrap(err, "writing layer");
        }
        const char *m = archive_error_string(a);
        int code = archive_errno(a) > 0 ? archive_errno(a) : EIO;
        if (path)
                return pea_error_set(err, code, "writing layer entry '%s': %s", path,
                                     m ? m : "unknown error");
        return pea_error_set(err, code, "writing layer: %s", m ? m : "unknown error");
}

static int add_filter(struct pack *p, struct pea_error **err)
{
        switch (p->opts.compression) {
        case PEA_LAYER_COMPRESSION_NONE:
                return 0;
        case PEA_LAYER_COMPRESSION_GZIP:
                if (archive_write_add_filter_gzip(p->outer) < ARCHIVE_WARN)
                        return pack_fail(p, p->outer, NULL, err);
                return 0;
        case PEA_LAYER_COMPRESSION_ZSTD:
                if (archive_write_add_filter_zstd(p->outer) < ARCHIVE_WARN)
                        return pack_fail(p, p->outer, NULL, err);
                return 0;
        default:
                return pea_error_set(err, EINVAL, "invalid layer compression %d",
                                     (int)p->opts.compression);
        }
}

static int pack_open(struct pack *p, struct pea_error **err)
{
        pea_sha_init(&p->diff_hash, PEA_SHA256);
        pea_sha_init(&p->comp_hash, PEA_SHA256);
        p->buf = xmalloc(READ_BUF_SIZE);
        p->outer = archive_write_new();
        p->inner = archive_write_new();
        p->links = archive_entry_linkresolver_new();
        if (!p->outer || !p->inner || !p->links)
                return pea_error_set(err, ENOMEM, "allocating an archive writer");
        archive_entry_linkresolver_set_strategy(p->links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
        int r = add_filter(p, err);
        if (r < 0)
                return r;
        if (archive_write_set_format_raw(p->outer) != ARCHIVE_OK
            || archive_write_set_bytes_in_last_block(p->outer, 1) != ARCHIVE_OK
            || archive_write_open(p->outer, p, NULL, outer_write, NULL) != ARCHIVE_OK)
                return pack_fail(p, p->outer, NULL, err);
        _cleanup_archive_entry_ struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "layer.tar");
        archive_entry_set_filetype(e, AE_IFREG);
        if (archive_write_header(p->outer, e) != ARCHIVE_OK)
                return pack_fail(p, p->outer, NULL, err);
        if (archive_write_set_format_pax_restricted(p->inner) != ARCHIVE_OK
            || archive_write_set_options(p->inner, "xattrheader=SCHILY") != ARCHIVE_OK
            || archive_write_set_bytes_in_last_block(p->inner, 1) != ARCHIVE_OK
            || archive_write_open(p->inner, p, NULL, inner_write, NULL) != ARCHIVE_OK)
                return pack_fail(p, p->inner, NULL, err);
        return 0;
}

static int write_header(struct pack *p, struct archive_entry *e, struct pea_error **err)
{
        if (archive_write_header(p->inner, e) < ARCHIVE_WARN)
                return pack_fail(p, p->inner, archive_entry_pathname(e), err);
        p->stats.entries++;
        return 0;
}

/* A whiteout entry: ".wh.NAME" beside name, or ".wh..wh..opq" inside dir. */
static int write_whiteout(struct pack *p, const char *path, const char *wh, const struct stat *st,
                          mode_t perm, struct pea_error **err)
{
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *name =
                streq(wh, WH_OPAQUE) ? xasprintf("%s/%s", path, wh)
                : slash ? xasprintf("%.*s/%s%s", (int)(slash - path), path, wh, slash + 1)
                        : xasprintf("%s%s", wh, path);
        _cleanup_archive_entry_ struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, perm);
        archive_entry_set_uid(e, st->st_uid);
        archive_entry_set_gid(e, st->st_gid);
        archive_entry_set_size(e, 0);
        archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        p->stats.whiteouts++;
        return write_header(p, e, err);
}

static bool pack_xattr_allowed(const char *key)
{
        if (startswith(key, "user.overlay.") || startswith(key, "user.fuseoverlayfs."))
                return false;
        return startswith(key, "user.") || streq(key, "security.capability");
}

static bool is_opaque_key(const struct pack *p, const char *key)
{
        if (p->opts.whiteout != PEA_WHITEOUT_OVERLAY)
                return false;
        return streq(key, p->opts.userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque");
}

static int read_xattr(const char *proc, const char *key, struct archive_entry *e, bool *ret_opaque)
{
        char *v = xmalloc(PEA_LAYER_MAX_XATTR);
        ssize_t n = lgetxattr(proc, key, v, PEA_LAYER_MAX_XATTR);
        int r = n < 0 && errno != ENODATA && errno != ERANGE ? -errno : 0;
        if (n >= 0 && ret_opaque)
                *ret_opaque = n == 1 && v[0] == 'y';
        else if (n >= 0)
                archive_entry_xattr_add_entry(e, key, v, (size_t)n);
        free(v);
        return r;
}

/* Adds security.capability and user.* xattrs; reports the overlay opaque flag. */
static int add_xattrs(struct pack *p, struct archive_entry *e, const char *proc, const char *path,
                      bool *ret_opaque, struct pea_error **err)
{
        ssize_t n = llistxattr(proc, NULL, 0);
        if (n <= 0)
                return n < 0 && errno != ENOTSUP
                               ? pea_error_syscall(err, errno, "listing xattrs of '%s'", path)
                               : 0;
        _cleanup_free_ char *list = xmalloc((size_t)n + 1);
        n = llistxattr(proc, list, (size_t)n);
        if (n < 0)
                return pea_error_syscall(err, errno, "listing xattrs of '%s'", path);
        for (char *k = list; k < list + n; k += strlen(k) + 1) {
                int r = 0;
                if (is_opaque_key(p, k))
                        r = read_xattr(proc, k, e, ret_opaque);
                else if (pack_xattr_allowed(k))
                        r = read_xattr(proc, k, e, NULL);
                if (r < 0)
                        return pea_error_syscall(err, -r, "reading xattr '%s' of '%s'", k, path);
        }
        return 0;
}

static int write_data(struct pack *p, int dirfd, const char *name, const char *path,
                      struct pea_error **err)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        for (;;) {
                ssize_t n = read(fd, p->buf, READ_BUF_SIZE);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pea_error_syscall(err, errno, "reading '%s'", path);
                if (n == 0)
                        return 0;
                if (archive_write_data(p->inner, p->buf, (size_t)n) < 0)
                        return pack_fail(p, p->inner, path, err);
        }
}

static int pack_dir(struct pack *p, int dirfd, const char *prefix, struct pea_error **err);

static int pack_subdir(struct pack *p, int dirfd, const char *name, const char *path,
                       const struct stat *st, bool opaque, struct pea_error **err)
{
        if (opaque) {
                int r = write_whiteout(p, path, WH_OPAQUE, st, st->st_mode & 0777, err);
                if (r < 0)
                        return r;
        }
        _cleanup_close_ int fd =
                openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening directory '%s'", path);
        return pack_dir(p, fd, path, err);
}

static int new_entry(int dirfd, const char *name, const char *path, const struct stat *st,
                     struct archive_entry **ret, struct pea_error **err)
{
        _cleanup_archive_entry_ struct archive_entry *e = archive_entry_new();
        archive_entry_copy_stat(e, st);
        archive_entry_unset_atime(e);
        archive_entry_unset_ctime(e);
        archive_entry_unset_birthtime(e);
        archive_entry_set_pathname(e, path);
        if (!S_ISREG(st->st_mode))
                archive_entry_set_size(e, 0);
        if (S_ISLNK(st->st_mode)) {
                _cleanup_free_ char *target = xmalloc(PEA_LAYER_MAX_PATH + 1);
                ssize_t n = readlinkat(dirfd, name, target, PEA_LAYER_MAX_PATH + 1);
                if (n < 0)
                        return pea_error_syscall(err, errno, "reading symlink '%s'", path);
                if ((size_t)n > PEA_LAYER_MAX_PATH)
                        return pea_error_set(err, ENAMETOOLONG, "symlink '%s' is too long", path);
                target[n] = '\0';
                archive_entry_set_symlink(e, target);
        }
        *ret = TAKE_PTR(e);
        return 0;
}

static int pack_one(struct pack *p, int dirfd, const char *name, const char *path,
                    struct pea_error **err)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return pea_error_syscall(err, errno, "inspecting '%s'", path);
        if (S_ISCHR(st.st_mode) && st.st_rdev == 0 && p->opts.whiteout == PEA_WHITEOUT_OVERLAY)
                return write_whiteout(p, path, WH_PREFIX, &st, 0600, err);
        if (S_ISSOCK(st.st_mode)) {
                pea_debug("not packing socket '%s'", path);
                p->stats.skipped_other++;
                return 0;
        }
        _cleanup_archive_entry_ struct archive_entry *e = NULL;
        int r = new_entry(dirfd, name, path, &st, &e, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d/%s", dirfd, name);
        bool opaque = false;
        r = add_xattrs(p, e, proc, path, &opaque, err);
        if (r < 0)
                return r;
        struct archive_entry *spare = NULL;
        if (S_ISREG(st.st_mode) && st.st_nlink > 1)
                archive_entry_linkify(p->links, &e, &spare);
        archive_entry_free(spare);
        r = write_header(p, e, err);
        if (r < 0)
                return r;
        if (S_ISDIR(st.st_mode))
                return pack_subdir(p, dirfd, name, path, &st, opaque, err);
        if (S_ISREG(st.st_mode) && !archive_entry_hardlink(e) && st.st_size > 0)
                return write_data(p, dirfd, name, path, err);
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, so the same tree gives the same tar. */
static int list_dir(int fd, char ***ret, size_t *ret_n)
{
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        if (!d) {
                int r = -errno;
                (void)close(dfd);
                return r;
        }
        _cleanup_strv_ char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de = NULL;
        for (errno = 0; (de = readdir(d)); errno = 0) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n + 1 >= cap) {
                        cap = cap ? cap * 2 : 32;
                        names = xrealloc(names, cap * sizeof(char *));
                }
                names[n++] = xstrdup(de->d_name);
                names[n] = NULL;
        }
        if (errno)
                return -errno;
        if (n)
                qsort(names, n, sizeof(char *), cmp_str);
        *ret = TAKE_PTR(names);
        *ret_n = n;
        return 0;
}

static int pack_dir(struct pack *p, int dirfd, const char *prefix, struct pea_error **err)
{
        _cleanup_strv_ char **names = NULL;
        size_t n = 0;
        int r = list_dir(dirfd, &names, &n);
        if (r < 0)
                return pea_error_syscall(err, -r, "listing '%s'", *prefix ? prefix : ".");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path =
                        *prefix ? xasprintf("%s/%s", prefix, names[i]) : xstrdup(names[i]);
                if (strlen(path) > PEA_LAYER_MAX_PATH)
                        return pea_error_set(err, ENAMETOOLONG, "'%s' is too long for a layer",
                                             path);
                r = pack_one(p, dirfd, names[i], path, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void hash_hex(struct pea_sha *h, char out[72])
{
        unsigned char d[32];
        pea_sha_final(h, d);
        memcpy(out, "sha256:", 7);
        for (size_t i = 0; i < sizeof(d); i++)
                (void)snprintf(out + 7 + 2 * i, 3, "%02x", d[i]);
}

int pea_layer_pack(int src_dirfd, const struct pea_layer_sink *dst,
                   const struct pea_layer_pack_opts *opts, struct pea_layer_stats *ret_stats,
                   struct pea_error **err)
{
        _cleanup_(pack_done) struct pack p = {.dst = dst};
        if (opts)
                p.opts = *opts;
        int r = pack_open(&p, err);
        if (r < 0)
                return r;
        r = pack_dir(&p, src_dirfd, "", err);
        if (r < 0)
                return r;
        if (archive_write_close(p.inner) != ARCHIVE_OK)
                return pack_fail(&p, p.inner, NULL, err);
        if (archive_write_close(p.outer) != ARCHIVE_OK)
                return pack_fail(&p, p.outer, NULL, err);
        hash_hex(&p.diff_hash, p.stats.diff_id);
        hash_hex(&p.comp_hash, p.stats.digest);
        if (ret_stats)
                *ret_stats = p.stats;
        return 0;
}

static int fd_write(void *userdata, const void *buf, size_t len, struct pea_error **err)
{
        int fd = *(int *)userdata;
        for (const char *b = buf; len > 0;) {
                ssize_t n = write(fd, b, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pea_error_syscall(err, errno, "writing layer file");
                b += n;
                len -= (size_t)n;
        }
        return 0;
}

int pea_layer_pack_fd(int src_dirfd, int dst_fd, const struct pea_layer_pack_opts *opts,
                      struct pea_layer_stats *ret_stats, struct pea_error **err)
{
        struct pea_layer_sink dst = {.write = fd_write, .userdata = &dst_fd};
        return pea_layer_pack(src_dirfd, &dst, opts, ret_stats, err);
}
