/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "base.h"
#include "image/transfer-internal.h"

/*
 * What push, save, load and import share: temporary files, sniffing and
 * changing compression (libarchive's filters), byte streams and names.
 */

#define XFER_CHUNK (128u * 1024)

char *pea_transfer_event_line(enum pea_transfer_event ev, const char *digest)
{
        switch (ev) {
        case PEA_TRANSFER_START:
                return xstrdup("Getting image source signatures");
        case PEA_TRANSFER_BLOB:
                return xasprintf("Copying blob %s", digest ?: "");
        case PEA_TRANSFER_BLOB_SKIPPED:
                return xasprintf("Copying blob %s skipped: already exists", digest ?: "");
        case PEA_TRANSFER_CONFIG:
                return xasprintf("Copying config %s", digest ?: "");
        case PEA_TRANSFER_MANIFEST:
                return xstrdup("Writing manifest to image destination");
        case PEA_TRANSFER_DONE:
                return xstrdup("Storing signatures");
        default:
                return xstrdup("");
        }
}

static const char *const archive_format_names[_PEA_ARCHIVE_FORMAT_MAX] = {
        [PEA_ARCHIVE_DOCKER] = "docker-archive",
        [PEA_ARCHIVE_OCI] = "oci-archive",
        [PEA_ARCHIVE_OCI_DIR] = "oci-dir",
        [PEA_ARCHIVE_DOCKER_DIR] = "docker-dir",
};

const char *pea_archive_format_to_string(enum pea_archive_format f)
{
        if (f < 0 || f >= _PEA_ARCHIVE_FORMAT_MAX)
                return NULL;
        return archive_format_names[f];
}

enum pea_archive_format pea_archive_format_from_string(const char *s)
{
        for (int i = 0; s && i < _PEA_ARCHIVE_FORMAT_MAX; i++)
                if (streq(s, archive_format_names[i]))
                        return (enum pea_archive_format)i;
        return _PEA_ARCHIVE_FORMAT_INVALID;
}

int pea_image_local_name(const char *reference, char **ret, struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref ref = {0};
        int r = pea_image_ref_parse(reference, &ref, err);
        if (r < 0)
                return r;
        r = pea_image_ref_normalize(&ref, ref.domain ? ref.domain : "localhost", err);
        if (r < 0)
                return r;
        *ret = pea_image_ref_string(&ref);
        return 0;
}

const char *xfer_tmpdir(const char *tmpdir)
{
        if (tmpdir && *tmpdir)
                return tmpdir;
        const char *e = getenv("TMPDIR");
        return e && *e ? e : "/var/tmp";
}

int xfer_tmpfile(const char *tmpdir, struct pea_error **err)
{
        const char *dir = xfer_tmpdir(tmpdir);
        int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0)
                return fd;
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
                return pea_error_syscall(err, errno, "creating a temporary file in '%s'", dir);
        _cleanup_free_ char *path = xasprintf("%s/.pea-tmp-XXXXXX", dir);
        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating a temporary file in '%s'", dir);
        (void)unlink(path);
        return fd;
}

enum pea_compression xfer_sniff(const void *data, size_t len)
{
        const unsigned char *p = data;
        if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
                return PEA_COMPRESSION_GZIP;
        if (len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
                return PEA_COMPRESSION_ZSTD;
        if (len >= 6
            && memcmp(p,
                      "\xfd"
                      "7zXZ\0",
                      6)
                       == 0)
                return _PEA_COMPRESSION_INVALID;
        if (len >= 3 && memcmp(p, "BZh", 3) == 0)
                return _PEA_COMPRESSION_INVALID;
        return PEA_COMPRESSION_NONE;
}

enum pea_compression xfer_sniff_fd(int fd)
{
        unsigned char buf[8] = {0};
        ssize_t n = pread(fd, buf, sizeof(buf), 0);
        return xfer_sniff(buf, n > 0 ? (size_t)n : 0);
}

const char *xfer_layer_media_type(enum pea_manifest_type t, enum pea_compression c)
{
        bool docker = t == PEA_MANIFEST_DOCKER_V2S2;
        switch (c) {
        case PEA_COMPRESSION_NONE:
                return docker ? "application/vnd.docker.image.rootfs.diff.tar"
                              : "application/vnd.oci.image.layer.v1.tar";
        case PEA_COMPRESSION_GZIP:
                return docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                              : "application/vnd.oci.image.layer.v1.tar+gzip";
        case PEA_COMPRESSION_ZSTD:
                return docker ? NULL : "application/vnd.oci.image.layer.v1.tar+zstd";
        default:
                return NULL;
        }
}

ssize_t xfer_fd_read(void *userdata, void *buf, size_t len, struct pea_error **err)
{
        struct xfer_fd_source *s = userdata;
        ssize_t n;
        do
                n = pread(s->fd, buf, len, s->off);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return pea_error_syscall(err, errno, "reading");
        s->off += n;
        return n;
}

struct xfer_unz {
        struct archive *a;
        bool eof;
};

struct xfer_unz *xfer_unz_free(struct xfer_unz *u)
{
        if (!u)
                return NULL;
        archive_read_free(u->a);
        free(u);
        return NULL;
}

int xfer_unz_open(int fd, struct xfer_unz **ret, struct pea_error **err)
{
        struct xfer_unz *u = xcalloc(1, sizeof(*u));
        u->a = archive_read_new();
        if (!u->a)
                abort();
        (void)archive_read_support_filter_all(u->a);
        (void)archive_read_support_format_raw(u->a);
        struct archive_entry *e = NULL;
        int r = 0;
        if (lseek(fd, 0, SEEK_SET) < 0 && errno != ESPIPE)
                r = pea_error_syscall(err, errno, "rewinding a blob");
        else if (archive_read_open_fd(u->a, fd, XFER_CHUNK) != ARCHIVE_OK)
                r = pea_error_set(err, EBADMSG, "decompressing: %s", archive_error_string(u->a));
        else {
                int ar = archive_read_next_header(u->a, &e);
                if (ar == ARCHIVE_EOF)
                        u->eof = true;
                else if (ar < ARCHIVE_WARN)
                        r = pea_error_set(err, EBADMSG, "decompressing: %s",
                                          archive_error_string(u->a));
        }
        if (r < 0) {
                xfer_unz_free(u);
                return r;
        }
        *ret = u;
        return 0;
}

ssize_t xfer_unz_read(void *userdata, void *buf, size_t len, struct pea_error **err)
{
        struct xfer_unz *u = userdata;
        if (u->eof)
                return 0;
        la_ssize_t n = archive_read_data(u->a, buf, len);
        if (n < 0)
                return pea_error_set(err, EBADMSG, "decompressing: %s",
                                     archive_error_string(u->a) ?: "unknown error");
        return n;
}

static int write_all(int fd, const void *buf, size_t len, struct pea_error **err)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pea_error_syscall(err, errno, "writing a temporary file");
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int xfer_copy_fd(const struct pea_layer_source *src, int dst_fd, struct pea_digester *d,
                 uint64_t *ret_n, struct pea_error **err)
{
        _cleanup_free_ char *buf = xmalloc(XFER_CHUNK);
        uint64_t total = 0;
        for (;;) {
                ssize_t n = src->read(src->userdata, buf, XFER_CHUNK, err);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        break;
                int r = d ? pea_digester_update(d, buf, (size_t)n, err) : 0;
                if (r >= 0)
                        r = write_all(dst_fd, buf, (size_t)n, err);
                if (r < 0)
                        return r;
                total += (uint64_t)n;
        }
        if (ret_n)
                *ret_n = total;
        return 0;
}

/* ---- gzip ---------------------------------------------------------------------------------- */

struct gz_out {
        int fd;
        struct pea_digester *d;
        int64_t size;
        struct pea_error *e;
};

static la_ssize_t gz_write(struct archive *a _unused_, void *userdata, const void *buf, size_t n)
{
        struct gz_out *o = userdata;
        int r = pea_digester_update(o->d, buf, n, &o->e);
        if (r >= 0)
                r = write_all(o->fd, buf, n, &o->e);
        if (r < 0)
                return -1;
        o->size += (int64_t)n;
        return (la_ssize_t)n;
}

static struct archive *gz_writer(struct gz_out *o)
{
        struct archive *a = archive_write_new();
        if (!a)
                abort();
        bool ok = archive_write_add_filter_gzip(a) == ARCHIVE_OK
                  && archive_write_set_format_raw(a) == ARCHIVE_OK
                  && archive_write_set_bytes_per_block(a, 0) == ARCHIVE_OK
                  && archive_write_set_filter_option(a, "gzip", "timestamp", NULL) == ARCHIVE_OK
                  && archive_write_open(a, o, NULL, gz_write, NULL) == ARCHIVE_OK;
        if (!ok) {
                archive_write_free(a);
                return NULL;
        }
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_pathname(e, "layer.tar");
        ok = archive_write_header(a, e) == ARCHIVE_OK;
        archive_entry_free(e);
        if (!ok) {
                archive_write_free(a);
                return NULL;
        }
        return a;
}

/* The error of a failed libarchive write: the callback's, else libarchive's. */
static int gz_error(struct gz_out *o, struct archive *a, struct pea_error **err)
{
        if (!o->e)
                return pea_error_set(err, EIO, "compressing: %s",
                                     archive_error_string(a) ?: "unknown error");
        int code = o->e->code;
        if (err && !*err)
                *err = TAKE_PTR(o->e);
        pea_error_clear(&o->e);
        return -code;
}

/* Feeds src through the gzip writer a, hashing the input into din. */
static int gz_feed(struct archive *a, struct gz_out *o, const struct pea_layer_source *src,
                   struct pea_digester *din, struct pea_error **err)
{
        _cleanup_free_ char *buf = xmalloc(XFER_CHUNK);
        for (;;) {
                ssize_t n = src->read(src->userdata, buf, XFER_CHUNK, err);
                if (n <= 0)
                        return (int)n;
                int r = pea_digester_update(din, buf, (size_t)n, err);
                if (r < 0)
                        return r;
                if (archive_write_data(a, buf, (size_t)n) != n)
                        return gz_error(o, a, err);
        }
}

int xfer_gzip_tmp(const struct pea_layer_source *src, const char *tmpdir, int *ret_fd,
                  char **ret_digest, int64_t *ret_size, char **ret_in_digest,
                  struct pea_error **err)
{
        _cleanup_digester_ struct pea_digester *din = NULL;
        _cleanup_digester_ struct pea_digester *dout = NULL;
        _cleanup_close_ int fd = xfer_tmpfile(tmpdir, err);
        if (fd < 0)
                return fd;
        int r = pea_digester_new(PEA_DIGEST_SHA256, &din, err);
        if (r >= 0)
                r = pea_digester_new(PEA_DIGEST_SHA256, &dout, err);
        if (r < 0)
                return r;
        struct gz_out o = {.fd = fd, .d = dout};
        struct archive *a = gz_writer(&o);
        if (!a)
                return pea_error_set(err, EIO, "setting up gzip compression");
        r = gz_feed(a, &o, src, din, err);
        if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
                r = gz_error(&o, a, err);
        archive_write_free(a);
        pea_error_clear(&o.e);
        _cleanup_free_ char *digest = NULL, *in = NULL;
        if (r >= 0)
                r = pea_digester_final(dout, &digest, err);
        if (r >= 0)
                r = pea_digester_final(din, &in, err);
        if (r >= 0 && lseek(fd, 0, SEEK_SET) < 0)
                r = pea_error_syscall(err, errno, "rewinding a temporary file");
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        *ret_digest = TAKE_PTR(digest);
        *ret_size = o.size;
        if (ret_in_digest)
                *ret_in_digest = TAKE_PTR(in);
        return 0;
}
