/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/stat.h>

#include "base.h"
#include "image/image-internal.h"
#include "image/image.h"
#include "image/store-internal.h"

/* Blobs: graph/blobs/<alg>/<hex>, written through a flocked .tmp-<random> file. */

struct store_blob_writer {
        int dir_fd; /* blobs/<alg> */
        int fd;
        char *dir; /* "<alg>", for messages */
        char *tmp; /* ".tmp-<random>" in dir_fd */
        struct pea_digester *digester;
};

char *store_blob_relpath(const char *digest)
{
        if (!digest || pea_digest_validate(digest, NULL) < 0)
                return NULL;
        const char *hex = pea_digest_hex(digest);
        return xasprintf("%.*s/%s", (int)(hex - digest - 1), digest, hex);
}

/* Opens blobs/<alg> of digest, creating it when create. */
static int open_alg_dir(struct pea_image_store *s, const char *digest, bool create,
                        struct pea_error **err)
{
        int r = pea_digest_validate(digest, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *alg = xstrndup(digest, (size_t)(pea_digest_hex(digest) - digest - 1));
        if (create && mkdirat(s->blobs_fd, alg, 0700) < 0 && errno != EEXIST)
                return pea_error_syscall(err, errno, "creating '%s/%s'", s->blobs_path, alg);
        int fd = openat(s->blobs_fd, alg, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s/%s'", s->blobs_path, alg);
        return fd;
}

struct store_blob_writer *store_blob_writer_free(struct store_blob_writer *w)
{
        if (!w)
                return NULL;
        if (w->tmp)
                (void)unlinkat(w->dir_fd, w->tmp, 0);
        closep(&w->fd);
        closep(&w->dir_fd);
        free(w->dir);
        free(w->tmp);
        pea_digester_free(w->digester);
        free(w);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct store_blob_writer *, store_blob_writer_free)

int store_blob_writer_new(struct pea_image_store *s, const char *expected,
                          struct store_blob_writer **ret, struct pea_error **err)
{
        _cleanup_(store_blob_writer_freep) struct store_blob_writer *w = xcalloc(1, sizeof(*w));
        *w = (struct store_blob_writer){.dir_fd = -EBADF, .fd = -EBADF};
        const char *probe =
                expected
                        ?: "sha256:" /* 64 zeros */
                           "0000000000000000000000000000000000000000000000000000000000000000";
        int r = expected ? pea_digester_new_for(expected, &w->digester, err)
                         : pea_digester_new(PEA_DIGEST_SHA256, &w->digester, err);
        if (r < 0)
                return r;
        w->dir_fd = open_alg_dir(s, probe, true, err);
        if (w->dir_fd < 0)
                return w->dir_fd;
        w->dir = xstrndup(probe, (size_t)(pea_digest_hex(probe) - probe - 1));
        w->tmp = store_random_name(".tmp-");
        w->fd = openat(w->dir_fd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                       0644);
        if (w->fd < 0) {
                r = pea_error_syscall(err, errno, "creating '%s/%s/%s'", s->blobs_path, w->dir,
                                      w->tmp);
                w->tmp = store_mfree(w->tmp);
                return r;
        }
        /* Held until the rename: repair removes only unlocked temporary files. */
        if (flock(w->fd, LOCK_EX) < 0)
                return pea_error_syscall(err, errno, "locking '%s'", w->tmp);
        *ret = TAKE_PTR(w);
        return 0;
}

int store_blob_writer_write(struct store_blob_writer *w, const void *data, size_t len,
                            struct pea_error **err)
{
        int r = pea_digester_update(w->digester, data, len, err);
        const char *p = data;
        while (r >= 0 && len > 0) {
                ssize_t n = write(w->fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pea_error_syscall(err, errno, "writing blob '%s/%s'", w->dir,
                                                 w->tmp);
                p += n;
                len -= (size_t)n;
        }
        return r;
}

int store_blob_writer_finish(struct store_blob_writer *w, const char *expected, char **ret_digest,
                             struct pea_error **err)
{
        _cleanup_(store_blob_writer_freep) struct store_blob_writer *owned = w;
        _cleanup_free_ char *digest = NULL;
        int r = pea_digester_final(w->digester, &digest, err);
        if (r >= 0 && expected && !streq(digest, expected))
                r = pea_error_set(err, EBADMSG, "blob digest mismatch: expected '%s', got '%s'",
                                  expected, digest);
        if (r >= 0 && fsync(w->fd) < 0)
                r = pea_error_syscall(err, errno, "syncing blob '%s'", digest);
        if (r < 0)
                return r;
        const char *hex = pea_digest_hex(digest);
        struct stat st;
        /* An existing blob is kept: same digest, same bytes. */
        if (fstatat(w->dir_fd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (renameat(w->dir_fd, w->tmp, w->dir_fd, hex) < 0)
                        return pea_error_syscall(err, errno, "storing blob '%s'", digest);
                w->tmp = store_mfree(w->tmp);
                (void)fsync(w->dir_fd);
        }
        if (ret_digest)
                *ret_digest = TAKE_PTR(digest);
        return 0;
}

bool pea_image_store_has_blob(struct pea_image_store *s, const char *digest)
{
        _cleanup_free_ char *rel = store_blob_relpath(digest);
        struct stat st;
        return rel && fstatat(s->blobs_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0
               && S_ISREG(st.st_mode);
}

int pea_image_store_put_blob(struct pea_image_store *s, const char *digest, const void *data,
                             size_t len, struct pea_error **err)
{
        int r = pea_digest_verify(digest, data, len, err);
        if (r < 0)
                return r;
        if (pea_image_store_has_blob(s, digest))
                return 0;
        struct store_blob_writer *w = NULL;
        r = store_blob_writer_new(s, digest, &w, err);
        if (r < 0)
                return r;
        r = store_blob_writer_write(w, data, len, err);
        if (r < 0) {
                store_blob_writer_free(w);
                return r;
        }
        return store_blob_writer_finish(w, digest, NULL, err);
}

int pea_image_store_put_blob_fd(struct pea_image_store *s, const char *digest, int fd,
                                struct pea_error **err)
{
        _cleanup_(store_blob_writer_freep) struct store_blob_writer *w = NULL;
        int r = store_blob_writer_new(s, digest, &w, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *buf = xmalloc(128 * 1024);
        for (;;) {
                ssize_t n = read(fd, buf, 128 * 1024);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pea_error_syscall(err, errno, "reading blob '%s'", digest);
                if (n == 0)
                        break;
                r = store_blob_writer_write(w, buf, (size_t)n, err);
                if (r < 0)
                        return r;
        }
        return store_blob_writer_finish(TAKE_PTR(w), digest, NULL, err);
}

int pea_image_store_open_blob(struct pea_image_store *s, const char *digest, struct pea_error **err)
{
        _cleanup_free_ char *rel = store_blob_relpath(digest);
        if (!rel)
                return pea_error_set(err, EINVAL, "invalid digest '%s'", digest ?: "");
        int fd = openat(s->blobs_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening blob '%s'", digest);
        return fd;
}

int pea_image_store_get_blob(struct pea_image_store *s, const char *digest, char **ret,
                             size_t *ret_len, struct pea_error **err)
{
        _cleanup_free_ char *rel = store_blob_relpath(digest);
        if (!rel)
                return pea_error_set(err, EINVAL, "invalid digest '%s'", digest ?: "");
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = pea_read_file_at(s->blobs_fd, rel, PEA_IMAGE_STORE_BLOB_MAX, &data, &len, err);
        if (r >= 0)
                r = pea_digest_verify(digest, data, len, err);
        if (r < 0)
                return image_error_wrap(r, err, "reading blob '%s'", digest);
        *ret = TAKE_PTR(data);
        if (ret_len)
                *ret_len = len;
        return 0;
}

/* "<alg>/.tmp-del-<hex>" of a valid digest. */
static char *staged_relpath(const char *digest)
{
        const char *hex = pea_digest_hex(digest);
        return xasprintf("%.*s/.tmp-del-%s", (int)(hex - digest - 1), digest, hex);
}

int store_blob_stage_delete(struct pea_image_store *s, const char *digest, struct pea_error **err)
{
        _cleanup_free_ char *rel = store_blob_relpath(digest);
        if (!rel)
                return 0;
        _cleanup_free_ char *staged = staged_relpath(digest);
        if (renameat(s->blobs_fd, rel, s->blobs_fd, staged) < 0 && errno != ENOENT)
                return pea_error_syscall(err, errno, "removing blob '%s'", digest);
        return 0;
}

void store_blob_unstage(struct pea_image_store *s, const char *digest)
{
        _cleanup_free_ char *rel = store_blob_relpath(digest);
        if (!rel)
                return;
        _cleanup_free_ char *staged = staged_relpath(digest);
        struct stat st;
        if (fstatat(s->blobs_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                (void)renameat(s->blobs_fd, staged, s->blobs_fd, rel);
        else
                (void)unlinkat(s->blobs_fd, staged, 0);
}

void store_blob_finish_delete(struct pea_image_store *s, const char *digest)
{
        if (pea_digest_validate(digest, NULL) < 0)
                return;
        _cleanup_free_ char *staged = staged_relpath(digest);
        (void)unlinkat(s->blobs_fd, staged, 0);
}
