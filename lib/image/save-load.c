/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "base.h"
#include "image/transfer-internal.h"

/*
 * pea save and pea load: the format dispatch, the atomic output file or
 * directory, and load's two phases (unpack every image's layers, then add
 * the images), so that a broken archive adds nothing.
 */

/* ---- save ---------------------------------------------------------------------------------- */

static void images_free(struct xfer_image **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                xfer_image_free(v[i]);
        free(v);
}

static int prepare_one(struct pea_image_store *s, const char *name,
                       const struct pea_save_opts *opts, struct xfer_image **ret,
                       struct pea_error **err)
{
        struct xfer_image *x = NULL;
        int r = xfer_image_open(s, name, &x, err);
        if (r < 0)
                return r;
        switch (opts->format) {
        case PEA_ARCHIVE_DOCKER:
                r = xfer_image_prepare(s, x, XFER_UNCOMPRESSED, false, opts->tmpdir, err);
                if (r >= 0)
                        r = xfer_image_finish(x, XFER_NO_MANIFEST, true, err);
                break;
        case PEA_ARCHIVE_DOCKER_DIR:
                r = xfer_image_prepare(s, x, XFER_COMPRESSED, false, opts->tmpdir, err);
                if (r >= 0)
                        r = xfer_image_finish(x, PEA_MANIFEST_DOCKER_V2S2, false, err);
                break;
        default:
                r = xfer_image_prepare(s, x, XFER_COMPRESSED, false, opts->tmpdir, err);
                if (r >= 0)
                        r = xfer_image_finish(x, PEA_MANIFEST_OCI, true, err);
                break;
        }
        if (r < 0) {
                xfer_image_free(x);
                return pea_error_wrap(err, "saving '%s'", name);
        }
        *ret = x;
        return 0;
}

static int save_to_sink(struct pea_image_store *s, char *const *images, struct xfer_sink *k,
                        const struct pea_save_opts *opts, struct pea_error **err)
{
        size_t n = strv_length(images);
        if (n == 0)
                return pea_error_set(err, EINVAL, "no image to save");
        if (n > 1 && opts->format != PEA_ARCHIVE_DOCKER && opts->format != PEA_ARCHIVE_OCI)
                return pea_error_set(err, EINVAL, "format '%s' holds only one image",
                                     pea_archive_format_to_string(opts->format) ?: "?");
        struct xfer_image **v = xcalloc(n, sizeof(*v));
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = prepare_one(s, images[i], opts, &v[i], err);
        if (r >= 0) {
                switch (opts->format) {
                case PEA_ARCHIVE_DOCKER:
                        r = xfer_save_docker(s, v, n, k, opts, err);
                        break;
                case PEA_ARCHIVE_DOCKER_DIR:
                        r = xfer_save_docker_dir(s, v[0], k, opts, err);
                        break;
                default:
                        r = xfer_save_oci(s, v, n, k, opts, err);
                        break;
                }
        }
        images_free(v, n);
        return r;
}

static bool format_is_dir(enum pea_archive_format f)
{
        return f == PEA_ARCHIVE_OCI_DIR || f == PEA_ARCHIVE_DOCKER_DIR;
}

static int check_format(const struct pea_save_opts *opts, struct pea_error **err)
{
        if (!pea_archive_format_to_string(opts->format))
                return pea_error_set(err, EINVAL, "unsupported archive format");
        return 0;
}

int pea_image_save_fd(struct pea_image_store *s, char *const *images, int fd,
                      const struct pea_save_opts *opts, struct pea_error **err)
{
        int r = check_format(opts, err);
        if (r < 0)
                return r;
        if (format_is_dir(opts->format))
                return pea_error_set(err, EINVAL, "format '%s' writes a directory, not a stream",
                                     pea_archive_format_to_string(opts->format));
        struct xfer_sink *k = NULL;
        r = xfer_sink_tar(fd, &k, err);
        if (r < 0)
                return r;
        r = save_to_sink(s, images, k, opts, err);
        if (r < 0) {
                xfer_sink_free(k);
                return r;
        }
        return xfer_sink_close(k, err);
}

/* The directory part and the file part of path. */
static void split_path(const char *path, char **ret_dir, char **ret_base)
{
        _cleanup_free_ char *d = xstrdup(path), *b = xstrdup(path);
        *ret_dir = xstrdup(dirname(d));
        *ret_base = xstrdup(basename(b));
}

/* An unnamed file in dir (O_TMPFILE), else a named one (*ret_tmp_name set). */
static int open_output(int dfd, const char *dir, const char *base, char **ret_tmp_name,
                       struct pea_error **err)
{
        int fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        if (fd >= 0)
                return fd;
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
                return pea_error_syscall(err, errno, "creating '%s/%s'", dir, base);
        _cleanup_free_ char *tmp = xasprintf("%s/.%s.tmp-XXXXXX", dir, base);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating '%s/%s'", dir, base);
        (void)fchmod(fd, 0644);
        *ret_tmp_name = xstrdup(tmp + strlen(dir) + 1);
        return fd;
}

/* Gives the finished file its name: link the O_TMPFILE file, or rename the named one. */
static int publish_output(int dfd, int fd, const char *tmp_name, const char *base,
                          struct pea_error **err)
{
        if (fsync(fd) < 0)
                return pea_error_syscall(err, errno, "writing '%s'", base);
        _cleanup_free_ char *link = NULL;
        if (!tmp_name) {
                _cleanup_free_ char *proc = xasprintf("/proc/self/fd/%d", fd);
                link = xasprintf(".%s.tmp-%d", base, (int)getpid());
                (void)unlinkat(dfd, link, 0);
                if (linkat(AT_FDCWD, proc, dfd, link, AT_SYMLINK_FOLLOW) < 0)
                        return pea_error_syscall(err, errno, "creating '%s'", base);
                tmp_name = link;
        }
        if (renameat(dfd, tmp_name, dfd, base) < 0) {
                int e = errno;
                (void)unlinkat(dfd, tmp_name, 0);
                return pea_error_syscall(err, e, "renaming to '%s'", base);
        }
        return 0;
}

static int save_file(struct pea_image_store *s, char *const *images, const char *path,
                     const struct pea_save_opts *opts, struct pea_error **err)
{
        _cleanup_free_ char *dir = NULL, *base = NULL, *tmp = NULL;
        split_path(path, &dir, &base);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return pea_error_syscall(err, errno, "opening directory '%s'", dir);
        _cleanup_close_ int fd = open_output(dfd, dir, base, &tmp, err);
        if (fd < 0)
                return fd;
        int r = pea_image_save_fd(s, images, fd, opts, err);
        if (r >= 0)
                r = publish_output(dfd, fd, tmp, base, err);
        else if (tmp)
                (void)unlinkat(dfd, tmp, 0);
        return r;
}

static int save_dir(struct pea_image_store *s, char *const *images, const char *path,
                    const struct pea_save_opts *opts, struct pea_error **err)
{
        _cleanup_free_ char *dir = NULL, *base = NULL;
        split_path(path, &dir, &base);
        _cleanup_free_ char *tmp = xasprintf("%s/.%s.tmp-XXXXXX", dir, base);
        if (!mkdtemp(tmp))
                return pea_error_syscall(err, errno, "creating a directory in '%s'", dir);
        _cleanup_close_ int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct xfer_sink *k = NULL;
        int r = dfd < 0 ? pea_error_syscall(err, errno, "opening '%s'", tmp)
                        : xfer_sink_dir(dfd, &k, err);
        if (r >= 0)
                r = save_to_sink(s, images, k, opts, err);
        if (k)
                xfer_sink_free(k);
        if (r >= 0 && rename(tmp, path) < 0)
                r = pea_error_syscall(err, errno, "renaming to '%s'", path);
        if (r < 0) {
                _cleanup_error_ struct pea_error *e = NULL;
                (void)pea_rm_rf(tmp, &e);
        }
        return r;
}

int pea_image_save(struct pea_image_store *s, char *const *images, const char *path,
                   const struct pea_save_opts *opts, struct pea_error **err)
{
        int r = check_format(opts, err);
        if (r < 0)
                return r;
        if (format_is_dir(opts->format))
                return save_dir(s, images, path, opts, err);
        return save_file(s, images, path, opts, err);
}

/* ---- load ---------------------------------------------------------------------------------- */

void xfer_pending_list_done(struct xfer_pending_list *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].config);
                free(l->v[i].manifest);
                free(l->v[i].media_type);
                strv_free(l->v[i].names);
        }
        free(l->v);
        *l = (struct xfer_pending_list){0};
}

int xfer_import_layer(struct pea_image_store *s, const char *parent, const char *diff_id,
                      const char *digest, const char *media_type,
                      const struct pea_layer_source *src, const struct pea_load_opts *opts,
                      char **ret_chain_id, struct pea_error **err)
{
        struct pea_image_layer_import imp = {.parent_chain_id = parent,
                                             .diff_id = diff_id,
                                             .digest = digest,
                                             .media_type = media_type,
                                             .keep_blob = true};
        return pea_image_store_layer_import(s, &imp, src, opts->unpack, ret_chain_id, err);
}

/* Adds one unpacked image; *ret_line gets its names (or "sha256:<id>"), one per line. */
static int add_pending(struct pea_image_store *s, const struct xfer_pending *p,
                       const struct pea_load_opts *opts, char ***loaded, struct pea_error **err)
{
        struct pea_image_record rec = {.manifest = p->manifest,
                                       .manifest_len = p->manifest_len,
                                       .manifest_media_type = p->media_type,
                                       .config = p->config,
                                       .config_len = p->config_len};
        _cleanup_free_ char *id = NULL;
        xfer_progress(&opts->progress, PEA_TRANSFER_MANIFEST, NULL);
        int r = pea_image_store_add_image(s, &rec, p->names, &id, err);
        if (r < 0)
                return r;
        xfer_progress(&opts->progress, PEA_TRANSFER_DONE, NULL);
        if (strv_length(p->names) == 0)
                strv_consume(loaded, xasprintf("sha256:%s", id));
        STRV_FOREACH(n, p->names)
                strv_push(loaded, *n);
        return 0;
}

static int load_tar(struct pea_image_store *s, struct xfer_tar *t, const struct pea_load_opts *opts,
                    char ***ret_loaded, struct pea_error **err)
{
        struct xfer_pending_list pl = {0};
        int r;
        if (xfer_tar_has(t, "manifest.json"))
                r = xfer_load_docker(s, t, opts, &pl, err);
        else if (xfer_tar_has(t, "index.json"))
                r = xfer_load_oci(s, t, opts, &pl, err);
        else
                r = pea_error_set(err, EINVAL,
                                  "payload does not match any of the supported image formats "
                                  "(docker-archive, oci-archive)");
        _cleanup_strv_ char **loaded = xcalloc(1, sizeof(char *));
        for (size_t i = 0; r >= 0 && i < pl.n; i++)
                r = add_pending(s, &pl.v[i], opts, &loaded, err);
        xfer_pending_list_done(&pl);
        pea_image_store_unpin_all(s);
        if (r < 0)
                return r;
        if (ret_loaded)
                *ret_loaded = TAKE_PTR(loaded);
        return 0;
}

int pea_image_load_fd(struct pea_image_store *s, int fd, const struct pea_load_opts *opts,
                      char ***ret_loaded, struct pea_error **err)
{
        static const struct pea_load_opts defaults = {0};
        if (!opts)
                opts = &defaults;
        _cleanup_xfer_tar_ struct xfer_tar *t = NULL;
        int r = xfer_tar_open(fd, opts->tmpdir, &t, err);
        if (r >= 0)
                r = load_tar(s, t, opts, ret_loaded, err);
        return r < 0 ? r : 0;
}

int pea_image_load(struct pea_image_store *s, const char *path, const struct pea_load_opts *opts,
                   char ***ret_loaded, struct pea_error **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        return pea_image_load_fd(s, fd, opts, ret_loaded, err);
}
