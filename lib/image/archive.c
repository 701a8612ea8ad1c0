/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "base.h"
#include "image/transfer-internal.h"

/*
 * Archives: writing a tar stream (libarchive, streaming) or a directory,
 * and reading a tar as random access: the input is made an uncompressed,
 * seekable file once (a pipe or a compressed tar is spooled to a temporary
 * file), indexed in one pass, and each member read by a pass that skips to it
 * (libarchive seeks over the data of a regular file).
 */

#define SINK_CHUNK (128u * 1024)

/* ---- sinks --------------------------------------------------------------------------------- */

struct xfer_sink {
        struct archive *a; /* tar, or NULL for a directory */
        int fd;            /* the tar's fd (borrowed) or the directory (borrowed) */
        char **names;      /* written so far */
        struct pea_error *e;
};

struct xfer_sink *xfer_sink_free(struct xfer_sink *k)
{
        if (!k)
                return NULL;
        if (k->a)
                archive_write_free(k->a);
        strv_free(k->names);
        pea_error_clear(&k->e);
        free(k);
        return NULL;
}

static la_ssize_t sink_write(struct archive *a _unused_, void *userdata, const void *buf, size_t n)
{
        struct xfer_sink *k = userdata;
        const char *p = buf;
        size_t left = n;
        while (left > 0) {
                ssize_t w = write(k->fd, p, left);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        if (!k->e)
                                (void)pea_error_syscall(&k->e, errno, "writing the archive");
                        return -1;
                }
                p += w;
                left -= (size_t)w;
        }
        return (la_ssize_t)n;
}

/* The error of a failed libarchive call: the write callback's, else libarchive's. */
static int sink_error(struct xfer_sink *k, const char *name, struct pea_error **err)
{
        if (k->e) {
                int code = k->e->code;
                if (err && !*err)
                        *err = TAKE_PTR(k->e);
                pea_error_clear(&k->e);
                return -code;
        }
        return pea_error_set(err, EIO, "writing '%s' to the archive: %s", name,
                             k->a ? archive_error_string(k->a) ?: "unknown error" : "");
}

int xfer_sink_tar(int fd, struct xfer_sink **ret, struct pea_error **err)
{
        struct xfer_sink *k = xcalloc(1, sizeof(*k));
        k->fd = fd;
        k->names = xcalloc(1, sizeof(char *));
        k->a = archive_write_new();
        if (!k->a)
                abort();
        if (archive_write_set_format_pax_restricted(k->a) != ARCHIVE_OK
            || archive_write_open(k->a, k, NULL, sink_write, NULL) != ARCHIVE_OK) {
                int r = sink_error(k, "header", err);
                xfer_sink_free(k);
                return r;
        }
        *ret = k;
        return 0;
}

int xfer_sink_dir(int dirfd, struct xfer_sink **ret, struct pea_error **err _unused_)
{
        struct xfer_sink *k = xcalloc(1, sizeof(*k));
        k->fd = dirfd;
        k->names = xcalloc(1, sizeof(char *));
        *ret = k;
        return 0;
}

bool xfer_sink_has(struct xfer_sink *k, const char *name)
{
        return strv_contains(k->names, name);
}

static struct archive_entry *sink_entry(const char *name, mode_t type, mode_t perm, int64_t size)
{
        struct archive_entry *e = archive_entry_new();
        if (!e)
                abort();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, perm);
        archive_entry_set_size(e, size);
        archive_entry_set_mtime(e, 0, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        return e;
}

static int sink_header(struct xfer_sink *k, struct archive_entry *e, struct pea_error **err)
{
        int r = archive_write_header(k->a, e) < ARCHIVE_WARN
                        ? sink_error(k, archive_entry_pathname(e), err)
                        : 0;
        archive_entry_free(e);
        return r;
}

int xfer_sink_mkdir(struct xfer_sink *k, const char *name, struct pea_error **err)
{
        if (xfer_sink_has(k, name))
                return 0;
        strv_push(&k->names, name);
        if (!k->a) {
                if (mkdirat(k->fd, name, 0755) < 0 && errno != EEXIST)
                        return pea_error_syscall(err, errno, "creating directory '%s'", name);
                return 0;
        }
        _cleanup_free_ char *slash = endswith(name, "/") ? xstrdup(name) : xasprintf("%s/", name);
        return sink_header(k, sink_entry(slash, AE_IFDIR, 0755, 0), err);
}

static int dir_create(struct xfer_sink *k, const char *name, struct pea_error **err)
{
        int fd = openat(k->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating '%s'", name);
        return fd;
}

static int write_all(int fd, const void *buf, size_t len, const char *name, struct pea_error **err)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pea_error_syscall(err, errno, "writing '%s'", name);
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Writes a chunk of an entry's data to the tar or to fd. */
static int sink_data(struct xfer_sink *k, int fd, const char *name, const void *buf, size_t n,
                     struct pea_error **err)
{
        if (!k->a)
                return write_all(fd, buf, n, name, err);
        if (archive_write_data(k->a, buf, n) != (la_ssize_t)n)
                return sink_error(k, name, err);
        return 0;
}

int xfer_sink_file(struct xfer_sink *k, const char *name, const void *data, size_t len,
                   struct pea_error **err)
{
        if (xfer_sink_has(k, name))
                return 0;
        strv_push(&k->names, name);
        _cleanup_close_ int fd = -EBADF;
        int r = 0;
        if (!k->a)
                r = fd = dir_create(k, name, err);
        else
                r = sink_header(k, sink_entry(name, AE_IFREG, 0644, (int64_t)len), err);
        if (r >= 0)
                r = sink_data(k, fd, name, data, len, err);
        return r < 0 ? r : 0;
}

/* Copies exactly size bytes of src; verifies expected (a digest) when set. */
static int sink_copy(struct xfer_sink *k, int fd, const char *name, int64_t size,
                     const struct pea_layer_source *src, struct pea_digester *d,
                     struct pea_error **err)
{
        _cleanup_free_ char *buf = xmalloc(SINK_CHUNK);
        int64_t total = 0;
        for (;;) {
                ssize_t n = src->read(src->userdata, buf, SINK_CHUNK, err);
                if (n < 0)
                        return pea_error_wrap(err, "reading '%s'", name);
                if (n == 0)
                        break;
                if (total + n > size)
                        return pea_error_set(err, EBADMSG, "'%s' is longer than %lld bytes", name,
                                             (long long)size);
                int r = d ? pea_digester_update(d, buf, (size_t)n, err) : 0;
                if (r >= 0)
                        r = sink_data(k, fd, name, buf, (size_t)n, err);
                if (r < 0)
                        return r;
                total += n;
        }
        if (total != size)
                return pea_error_set(err, EBADMSG, "'%s' has %lld bytes, expected %lld", name,
                                     (long long)total, (long long)size);
        return 0;
}

int xfer_sink_stream(struct xfer_sink *k, const char *name, int64_t size,
                     const struct pea_layer_source *src, const char *expected,
                     struct pea_error **err)
{
        if (xfer_sink_has(k, name))
                return 0;
        strv_push(&k->names, name);
        _cleanup_digester_ struct pea_digester *d = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r = expected ? pea_digester_new_for(expected, &d, err) : 0;
        if (r >= 0 && !k->a)
                r = fd = dir_create(k, name, err);
        else if (r >= 0)
                r = sink_header(k, sink_entry(name, AE_IFREG, 0644, size), err);
        if (r >= 0)
                r = sink_copy(k, fd, name, size, src, d, err);
        if (r >= 0 && d)
                r = pea_digester_verify(d, expected, err);
        return r < 0 ? r : 0;
}

int xfer_sink_symlink(struct xfer_sink *k, const char *name, const char *target,
                      struct pea_error **err)
{
        if (xfer_sink_has(k, name))
                return 0;
        strv_push(&k->names, name);
        if (!k->a) {
                if (symlinkat(target, k->fd, name) < 0)
                        return pea_error_syscall(err, errno, "creating symlink '%s'", name);
                return 0;
        }
        struct archive_entry *e = sink_entry(name, AE_IFLNK, 0777, 0);
        archive_entry_set_symlink(e, target);
        return sink_header(k, e, err);
}

int xfer_sink_close(struct xfer_sink *k, struct pea_error **err)
{
        int r = 0;
        if (k->a && archive_write_close(k->a) != ARCHIVE_OK)
                r = sink_error(k, "end of archive", err);
        xfer_sink_free(k);
        return r;
}

/* ---- reading ------------------------------------------------------------------------------- */

enum tar_type {
        TAR_FILE,
        TAR_DIR,
        TAR_SYMLINK,
        TAR_HARDLINK,
        TAR_OTHER,
};

struct tar_entry {
        char *name; /* normalised: no "./" or "/" prefix, no trailing "/" */
        enum tar_type type;
        char *link; /* normalised target (hard links), or as written (symlinks) */
};

struct xfer_tar {
        int fd;
        struct tar_entry *v;
        size_t n;
};

struct xfer_tar *xfer_tar_free(struct xfer_tar *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n; i++) {
                free(t->v[i].name);
                free(t->v[i].link);
        }
        free(t->v);
        if (t->fd >= 0)
                (void)close(t->fd);
        free(t);
        return NULL;
}

/*
 * Normalises a path inside the archive, relative to dir (may be NULL: the
 * root): "." and empty components dropped, ".." pops. NULL when it leaves the root.
 */
static char *tar_normalize(const char *dir, const char *path)
{
        _cleanup_strv_ char **out = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *joined =
                dir && path[0] != '/' ? xasprintf("%s/%s", dir, path) : xstrdup(path);
        _cleanup_strv_ char **parts = strv_split(joined, "/");
        STRV_FOREACH(p, parts) {
                if (streq(*p, "."))
                        continue;
                if (streq(*p, "..")) {
                        size_t n = strv_length(out);
                        if (n == 0)
                                return NULL;
                        free(out[n - 1]);
                        out[n - 1] = NULL;
                        continue;
                }
                strv_push(&out, *p);
        }
        return strv_join(out, "/");
}

static enum tar_type entry_type(struct archive_entry *e)
{
        if (archive_entry_hardlink(e))
                return TAR_HARDLINK;
        switch (archive_entry_filetype(e)) {
        case AE_IFREG:
                return TAR_FILE;
        case AE_IFDIR:
                return TAR_DIR;
        case AE_IFLNK:
                return TAR_SYMLINK;
        default:
                return TAR_OTHER;
        }
}

static struct archive *tar_reader(int fd, struct pea_error **err)
{
        if (lseek(fd, 0, SEEK_SET) < 0) {
                (void)pea_error_syscall(err, errno, "rewinding the archive");
                return NULL;
        }
        struct archive *a = archive_read_new();
        if (!a)
                abort();
        (void)archive_read_support_format_tar(a);
        if (archive_read_open_fd(a, fd, SINK_CHUNK) != ARCHIVE_OK) {
                (void)pea_error_set(err, EBADMSG, "reading the archive: %s",
                                    archive_error_string(a) ?: "unknown error");
                archive_read_free(a);
                return NULL;
        }
        return a;
}

static int tar_add(struct xfer_tar *t, struct archive_entry *e, struct pea_error **err)
{
        if (t->n >= XFER_MAX_ENTRIES)
                return pea_error_set(err, EFBIG, "the archive has more than %u entries",
                                     XFER_MAX_ENTRIES);
        const char *name = archive_entry_pathname(e);
        _cleanup_free_ char *norm = name ? tar_normalize(NULL, name) : NULL;
        if (!norm)
                return 0; /* an entry outside the archive's root is never looked up */
        struct tar_entry te = {.name = TAKE_PTR(norm), .type = entry_type(e)};
        if (te.type == TAR_HARDLINK)
                te.link = tar_normalize(NULL, archive_entry_hardlink(e));
        else if (te.type == TAR_SYMLINK && archive_entry_symlink(e))
                te.link = xstrdup(archive_entry_symlink(e));
        if (t->n % 64 == 0)
                t->v = xrealloc(t->v, (t->n + 64) * sizeof(*t->v));
        t->v[t->n++] = te;
        return 0;
}

static int tar_index(struct xfer_tar *t, struct pea_error **err)
{
        struct archive *a = tar_reader(t->fd, err);
        if (!a)
                return -EBADMSG;
        struct archive_entry *e = NULL;
        int r = 0, ar;
        while (r >= 0 && (ar = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
                if (ar < ARCHIVE_WARN) {
                        r = pea_error_set(err, EBADMSG, "reading the archive: %s",
                                          archive_error_string(a) ?: "unknown error");
                        break;
                }
                r = tar_add(t, e, err);
                if (r >= 0 && archive_read_data_skip(a) < ARCHIVE_WARN)
                        r = pea_error_set(err, EBADMSG, "reading the archive: %s",
                                          archive_error_string(a) ?: "unknown error");
        }
        archive_read_free(a);
        if (r >= 0 && t->n == 0)
                r = pea_error_set(err, EBADMSG, "reading the archive: no entries");
        return r;
}

/* Makes fd's content an uncompressed tar in a temporary file, unless it is one. */
static int tar_spool(int fd, const char *tmpdir, struct pea_error **err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return pea_error_syscall(err, errno, "reading the archive");
        if (S_ISDIR(st.st_mode))
                return pea_error_set(err, EISDIR, "the archive is a directory");
        if (S_ISREG(st.st_mode) && xfer_sniff_fd(fd) == PEA_COMPRESSION_NONE) {
                int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                return d < 0 ? pea_error_syscall(err, errno, "duplicating a descriptor") : d;
        }
        _cleanup_close_ int out = xfer_tmpfile(tmpdir, err);
        if (out < 0)
                return out;
        struct xfer_unz *u = NULL;
        int r = xfer_unz_open(fd, &u, err);
        if (r >= 0) {
                struct pea_layer_source src = {.read = xfer_unz_read, .userdata = u};
                r = xfer_copy_fd(&src, out, NULL, NULL, err);
        }
        xfer_unz_free(u);
        if (r < 0)
                return pea_error_wrap(err, "reading the archive");
        return TAKE_FD(out);
}

int xfer_tar_open(int fd, const char *tmpdir, struct xfer_tar **ret, struct pea_error **err)
{
        struct xfer_tar *t = xcalloc(1, sizeof(*t));
        t->fd = tar_spool(fd, tmpdir, err);
        int r = t->fd < 0 ? t->fd : tar_index(t, err);
        if (r < 0) {
                xfer_tar_free(t);
                return r;
        }
        *ret = t;
        return 0;
}

static const struct tar_entry *tar_find(struct xfer_tar *t, const char *name)
{
        /* the last entry of a name wins, as when extracting */
        for (size_t i = t->n; i > 0; i--)
                if (streq(t->v[i - 1].name, name))
                        return &t->v[i - 1];
        return NULL;
}

/* Follows links to a regular file; NULL when there is none. */
static const struct tar_entry *tar_resolve(struct xfer_tar *t, const char *name)
{
        _cleanup_free_ char *cur = tar_normalize(NULL, name);
        for (int hops = 0; cur && hops < 16; hops++) {
                const struct tar_entry *e = tar_find(t, cur);
                if (!e || e->type == TAR_FILE || !e->link)
                        return e && e->type == TAR_FILE ? e : NULL;
                char *next = NULL;
                if (e->type == TAR_HARDLINK) {
                        next = xstrdup(e->link);
                } else {
                        _cleanup_free_ char *dir = xstrdup(e->name);
                        char *slash = strrchr(dir, '/');
                        if (slash)
                                *slash = '\0';
                        next = tar_normalize(slash ? dir : NULL, e->link);
                }
                free(cur);
                cur = next;
        }
        return NULL;
}

bool xfer_tar_has(struct xfer_tar *t, const char *name)
{
        return tar_resolve(t, name) != NULL;
}

static ssize_t member_read(void *userdata, void *buf, size_t len, struct pea_error **err)
{
        struct archive *a = userdata;
        la_ssize_t n = archive_read_data(a, buf, len);
        if (n < 0)
                return pea_error_set(err, EBADMSG, "reading the archive: %s",
                                     archive_error_string(a) ?: "unknown error");
        return n;
}

int xfer_tar_member_open(struct xfer_tar *t, const char *name, struct xfer_tar_member *ret,
                         struct pea_error **err)
{
        const struct tar_entry *te = tar_resolve(t, name);
        if (!te)
                return pea_error_set(err, ENOENT, "file '%s' not found in the archive", name);
        struct archive *a = tar_reader(t->fd, err);
        if (!a)
                return -EBADMSG;
        struct archive_entry *e = NULL;
        int ar;
        while ((ar = archive_read_next_header(a, &e)) >= ARCHIVE_WARN) {
                _cleanup_free_ char *n = tar_normalize(NULL, archive_entry_pathname(e) ?: "");
                if (n && streq(n, te->name) && entry_type(e) == TAR_FILE) {
                        *ret = (struct xfer_tar_member){.src = {.read = member_read, .userdata = a},
                                                        .a = a};
                        return 0;
                }
        }
        int r = ar == ARCHIVE_EOF
                        ? pea_error_set(err, ENOENT, "file '%s' not found in the archive", name)
                        : pea_error_set(err, EBADMSG, "reading the archive: %s",
                                        archive_error_string(a) ?: "unknown error");
        archive_read_free(a);
        return r;
}

void xfer_tar_member_done(struct xfer_tar_member *m)
{
        if (m->a)
                archive_read_free(m->a);
        *m = (struct xfer_tar_member){0};
}

int xfer_tar_read(struct xfer_tar *t, const char *name, size_t max, char **ret, size_t *ret_len,
                  struct pea_error **err)
{
        struct xfer_tar_member m = {0};
        int r = xfer_tar_member_open(t, name, &m, err);
        if (r < 0)
                return r;
        size_t len = 0, cap = 4096;
        _cleanup_free_ char *buf = xmalloc(cap + 1);
        for (;;) {
                if (len == cap) {
                        if (cap >= max) {
                                xfer_tar_member_done(&m);
                                return pea_error_set(err, EFBIG,
                                                     "'%s' in the archive is larger than %zu bytes",
                                                     name, max);
                        }
                        cap = cap * 2 > max ? max : cap * 2;
                        buf = xrealloc(buf, cap + 1);
                }
                ssize_t n = m.src.read(m.src.userdata, buf + len, cap - len, err);
                if (n < 0) {
                        xfer_tar_member_done(&m);
                        return (int)n;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        xfer_tar_member_done(&m);
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}
