/* SPDX-License-Identifier: Apache-2.0 */
/* pea diff and pea commit: a container's writable layer against its image. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <jansson.h>

#include "base.h"
#include "container/container.h"
#include "image/image.h"
#include "image/store.h"
#include "image/transfer.h"
#include "layer/layer.h"
#include "state/state.h"
#include "storage/storage.h"

#define DIFF_MAX_DEPTH   512
#define DIFF_MAX_CHANGES 1000000u

/* ---- pure helpers -------------------------------------------------------------------------- */

struct pea_container_change *pea_container_changes_free(struct pea_container_change *c, size_t n)
{
        for (size_t i = 0; c && i < n; i++)
                free(c[i].path);
        free(c);
        return NULL;
}

const char *pea_container_change_kind_to_string(enum pea_container_change_kind k)
{
        static const char *const names[_PEA_CHANGE_KIND_MAX] = {
                [PEA_CHANGE_MODIFIED] = "C",
                [PEA_CHANGE_ADDED] = "A",
                [PEA_CHANGE_DELETED] = "D",
        };
        if ((int)k < 0 || k >= _PEA_CHANGE_KIND_MAX)
                return NULL;
        return names[k];
}

static int change_cmp(const void *a, const void *b)
{
        const struct pea_container_change *x = a, *y = b;
        return strcmp(x->path, y->path);
}

void pea_container_changes_sort(struct pea_container_change *c, size_t n)
{
        if (n > 1)
                qsort(c, n, sizeof(*c), change_cmp);
}

int pea_container_whiteout_name(const char *name, char **ret_name)
{
        const char *rest = startswith(name, ".wh.");
        if (!rest)
                return 0;
        if (streq(rest, ".wh..opq"))
                return 2;
        if (!*rest)
                return 0;
        if (ret_name)
                *ret_name = xstrdup(rest);
        return 1;
}

/* ---- diff ---------------------------------------------------------------------------------- */

struct diff {
        char **lowers; /* layer directories, top-most first */
        struct pea_container_change *changes;
        size_t n, cap;
        size_t skipped; /* mount points left out */
};

static int diff_add(struct diff *d, const char *path, enum pea_container_change_kind k,
                    struct pea_error **err)
{
        if (d->n >= DIFF_MAX_CHANGES)
                return pea_error_set(err, E2BIG, "more than %u changes", DIFF_MAX_CHANGES);
        if (d->n == d->cap) {
                d->cap = d->cap ? d->cap * 2 : 64;
                d->changes = xrealloc(d->changes, d->cap * sizeof(*d->changes));
        }
        d->changes[d->n++] = (struct pea_container_change){.path = xstrdup(path), .kind = k};
        return 0;
}

static bool in_lower(const struct diff *d, const char *path)
{
        struct stat st;
        STRV_FOREACH(l, d->lowers) {
                _cleanup_free_ char *p = xasprintf("%s%s", *l, path);
                if (lstat(p, &st) == 0)
                        return true;
        }
        return false;
}

/* The mount points pea creates for its bind mounts: not the user's changes. */
static bool is_mount_point(const char *path, const struct stat *st)
{
        static const char *const points[] = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
                                             "/run/.containerenv"};
        if (!S_ISREG(st->st_mode) || st->st_size != 0)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(points); i++)
                if (streq(path, points[i]))
                        return true;
        return false;
}

static int diff_dir(struct diff *d, int dirfd, const char *path, unsigned depth,
                    struct pea_error **err);

static int diff_entry(struct diff *d, int dirfd, const char *name, const char *path, unsigned depth,
                      struct pea_error **err)
{
        _cleanup_free_ char *deleted = NULL;
        int w = pea_container_whiteout_name(name, &deleted);
        if (w == 2)
                return 0;
        if (w == 1) {
                _cleanup_free_ char *p = xasprintf("%s/%s", *path ? path : "", deleted);
                return diff_add(d, p, PEA_CHANGE_DELETED, err);
        }
        _cleanup_free_ char *p = xasprintf("%s/%s", path, name);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return pea_error_syscall(err, errno, "reading '%s'", p);
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
                return diff_add(d, p, PEA_CHANGE_DELETED, err);
        bool lower = in_lower(d, p);
        if (!lower && is_mount_point(p, &st)) {
                d->skipped++;
                return 0;
        }
        int r = diff_add(d, p, lower ? PEA_CHANGE_MODIFIED : PEA_CHANGE_ADDED, err);
        if (r < 0 || !S_ISDIR(st.st_mode))
                return r;
        _cleanup_close_ int fd =
                openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", p);
        size_t n = d->n, skipped = d->skipped;
        r = diff_dir(d, fd, p, depth + 1, err);
        /* a directory made only to hold mount points (/run for .containerenv) */
        if (r >= 0 && !lower && d->n == n && d->skipped > skipped)
                free(d->changes[--d->n].path);
        return r;
}

static int diff_dir(struct diff *d, int dirfd, const char *path, unsigned depth,
                    struct pea_error **err)
{
        if (depth > DIFF_MAX_DEPTH)
                return pea_error_set(err, ELOOP, "'%s' is nested too deeply", path);
        int dfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        _cleanup_closedir_ DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!dir) {
                if (dfd >= 0)
                        (void)close(dfd);
                return pea_error_syscall(err, errno, "reading directory '%s'", path);
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(dir))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int r = diff_entry(d, dirfd, de->d_name, path, depth, err);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return pea_error_syscall(err, errno, "reading directory '%s'", path);
        return 0;
}

/* The writable layer's directory of an overlay-based driver; -ENOTSUP for vfs. */
static int upper_dir(const struct pea_container_ctx *ctx, const char *id, char **ret,
                     struct pea_error **err)
{
        const char *driver = pea_storage_driver_name(ctx->storage);
        if (streq(driver, "vfs"))
                return pea_error_set(err, ENOTSUP,
                                     "the vfs storage driver keeps no writable layer of its own");
        *ret = xasprintf("%s/containers/%s/upper", ctx->graph_root, id);
        return 0;
}

/* The image's layer directories, top-most first. */
static int lower_dirs(const struct pea_container_ctx *ctx, const char *image_id, char ***ret,
                      struct pea_error **err)
{
        _cleanup_strv_ char **chains = NULL;
        int r = pea_image_store_layers_of(ctx->store, image_id, &chains, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **dirs = xcalloc(1, sizeof(char *));
        for (size_t i = strv_length(chains); i > 0; i--) {
                char *p = pea_image_store_layer_path(ctx->store, chains[i - 1]);
                if (p)
                        strv_consume(&dirs, p);
        }
        *ret = TAKE_PTR(dirs);
        return 0;
}

/* The changes of the layer directory upper over lowers (top-most first), sorted. */
static int diff_layers(const char *upper, char **lowers, struct pea_container_change **ret,
                       size_t *ret_n, struct pea_error **err)
{
        struct diff d = {.lowers = lowers};
        _cleanup_close_ int fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", upper);
        int r = diff_dir(&d, fd, "", 0, err);
        if (r < 0) {
                pea_container_changes_free(d.changes, d.n);
                return r;
        }
        pea_container_changes_sort(d.changes, d.n);
        *ret = d.changes;
        *ret_n = d.n;
        return 0;
}

int pea_container_diff(const struct pea_container_ctx *ctx, const char *id,
                       struct pea_container_change **ret, size_t *ret_n, struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(ctx->state, id, &row, err);
        _cleanup_free_ char *upper = NULL;
        _cleanup_strv_ char **lowers = NULL;
        if (r >= 0)
                r = upper_dir(ctx, row.id, &upper, err);
        if (r >= 0 && row.image_id)
                r = lower_dirs(ctx, row.image_id, &lowers, err);
        pea_container_row_done(&row);
        if (r >= 0)
                r = diff_layers(upper, lowers, ret, ret_n, err);
        return r;
}

int pea_container_image_diff(const struct pea_container_ctx *ctx, const char *image_id,
                             struct pea_container_change **ret, size_t *ret_n,
                             struct pea_error **err)
{
        _cleanup_strv_ char **dirs = NULL;
        int r = lower_dirs(ctx, image_id, &dirs, err);
        if (r < 0)
                return r;
        if (!dirs[0]) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        return diff_layers(dirs[0], dirs + 1, ret, ret_n, err);
}

/* ---- commit: the layer --------------------------------------------------------------------- */

static int tmpfile_in(const char *dir, struct pea_error **err)
{
        const char *d = dir;
        if (!d)
                d = getenv("TMPDIR");
        if (!d || !*d)
                d = "/var/tmp";
        int fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating a temporary file in '%s'", d);
        return fd;
}

struct fd_source {
        int fd;
};

static ssize_t fd_read(void *userdata, void *buf, size_t len, struct pea_error **err)
{
        struct fd_source *f = userdata;
        ssize_t n;
        do
                n = read(f->fd, buf, len);
        while (n < 0 && errno == EINTR);
        return n < 0 ? pea_error_syscall(err, errno, "reading the layer") : n;
}

struct new_layer {
        char *chain_id;
        char *parent;
        struct pea_layer_stats st;
};

/* Packs the writable layer into a temporary file and imports it into the store. */
static int commit_layer(const struct pea_container_ctx *ctx, const char *id,
                        const struct pea_container_commit_opts *o, struct new_layer *nl,
                        struct pea_error **err)
{
        _cleanup_free_ char *upper = NULL;
        int r = upper_dir(ctx, id, &upper, err);
        if (r < 0)
                return r;
        _cleanup_close_ int ufd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ufd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", upper);
        _cleanup_close_ int tfd = tmpfile_in(o->tmpdir, err);
        if (tfd < 0)
                return tfd;
        struct pea_layer_pack_opts po = {.compression = PEA_LAYER_COMPRESSION_NONE,
                                         .whiteout = PEA_WHITEOUT_OVERLAY};
        (void)pea_storage_whiteout_mode(ctx->storage, &po.userxattr);
        r = pea_layer_pack_fd(ufd, tfd, &po, &nl->st, err);
        if (r < 0)
                return pea_error_wrap(err, "packing the container's changes");
        if (lseek(tfd, 0, SEEK_SET) < 0)
                return pea_error_syscall(err, errno, "rewinding the layer");
        struct fd_source fs = {.fd = tfd};
        struct pea_layer_source src = {.read = fd_read, .userdata = &fs};
        struct pea_image_layer_import imp = {
                .parent_chain_id = nl->parent,
                .diff_id = nl->st.diff_id,
                .digest = nl->st.diff_id,
                .media_type = "application/vnd.oci.image.layer.v1.tar",
                .keep_blob = true,
        };
        r = pea_image_store_layer_import(ctx->store, &imp, &src, o->unpack, &nl->chain_id, err);
        return r < 0 ? r : 0;
}

/* ---- commit: config and manifest ----------------------------------------------------------- */

static char *now_rfc3339(void)
{
        struct timespec ts;
        struct tm tm;
        char buf[64];
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        (void)gmtime_r(&ts.tv_sec, &tm);
        (void)strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

/* Whether array a starts with the elements of prefix. */
static bool has_prefix(json_t *a, json_t *prefix)
{
        if (json_array_size(prefix) > json_array_size(a))
                return false;
        for (size_t i = 0; i < json_array_size(prefix); i++)
                if (!json_equal(json_array_get(a, i), json_array_get(prefix, i)))
                        return false;
        return true;
}

/* The container's command and environment as the image's defaults. */
static void config_from_container(json_t *cfg, json_t *ctr)
{
        json_t *args = json_object_get(ctr, "args");
        json_t *ep = json_object_get(ctr, "image_entrypoint");
        if (json_array_size(args) > 0) {
                json_t *cmd = json_array();
                size_t skip = has_prefix(args, ep) ? json_array_size(ep) : 0;
                if (skip == 0 && json_array_size(ep) > 0)
                        json_object_del(cfg, "Entrypoint");
                for (size_t i = skip; i < json_array_size(args); i++)
                        json_array_append(cmd, json_array_get(args, i));
                json_object_set_new(cfg, "Cmd", cmd);
        }
        json_t *env = json_object_get(ctr, "env");
        if (json_is_array(env)) {
                json_t *e = json_array();
                size_t i;
                json_t *v;
                json_array_foreach(env, i, v) {
                        const char *s = json_string_value(v);
                        if (s && !startswith(s, "HOSTNAME=") && !startswith(s, "container="))
                                json_array_append(e, v);
                }
                json_object_set_new(cfg, "Env", e);
        }
        const char *cwd = json_string_value(json_object_get(ctr, "cwd"));
        if (cwd && *cwd && !streq(cwd, "/"))
                json_object_set_new(cfg, "WorkingDir", json_string(cwd));
}

static json_t *history_entry(const char *created, const struct pea_container_commit_opts *o,
                             json_t *ctr)
{
        json_t *h = json_pack("{s:s}", "created", created);
        json_t *args = json_object_get(ctr, "args");
        _cleanup_strv_ char **words = xcalloc(1, sizeof(char *));
        size_t i;
        json_t *v;
        json_array_foreach(args, i, v)
                strv_push(&words, json_string_value(v) ?: "");
        _cleanup_free_ char *by = strv_join(words, " ");
        json_object_set_new(h, "created_by", json_string(by));
        if (o->author && *o->author)
                json_object_set_new(h, "author", json_string(o->author));
        if (o->message && *o->message)
                json_object_set_new(h, "comment", json_string(o->message));
        return h;
}

static int build_config(const char *base, size_t len, json_t *ctr,
                        const struct pea_container_commit_opts *o, const char *diff_id, char **ret,
                        struct pea_error **err)
{
        _cleanup_json_ json_t *j = json_loadb(base, len, 0, NULL);
        if (!json_is_object(j))
                return pea_error_set(err, EBADMSG, "the image's config is not a JSON object");
        json_t *cfg = json_object_get(j, "config");
        if (!json_is_object(cfg)) {
                cfg = json_object();
                json_object_set_new(j, "config", cfg);
        }
        config_from_container(cfg, ctr);
        int r = pea_image_config_apply_changes(cfg, o->changes, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *created = now_rfc3339();
        json_object_set_new(j, "created", json_string(created));
        if (o->author && *o->author)
                json_object_set_new(j, "author", json_string(o->author));
        json_t *rootfs = json_object_get(j, "rootfs");
        json_t *ids = json_object_get(rootfs, "diff_ids");
        if (!json_is_array(ids))
                return pea_error_set(err, EBADMSG, "the image's config has no diff_ids");
        json_array_append_new(ids, json_string(diff_id));
        json_t *hist = json_object_get(j, "history");
        if (!json_is_array(hist)) {
                hist = json_array();
                json_object_set_new(j, "history", hist);
        }
        json_array_append_new(hist, history_entry(created, o, ctr));
        json_object_del(j, "container_config");
        json_object_del(j, "container");
        *ret = json_dumps(j, JSON_COMPACT);
        if (!*ret)
                abort();
        return 0;
}

/* A layer media type in the other format's words. */
static const char *layer_type(const char *t, bool docker)
{
        static const char *const map[][2] = {
                {"application/vnd.oci.image.layer.v1.tar+gzip",
                 "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                {"application/vnd.oci.image.layer.v1.tar",
                 "application/vnd.docker.image.rootfs.diff.tar"},
                {"application/vnd.oci.image.layer.v1.tar+zstd",
                 "application/vnd.docker.image.rootfs.diff.tar.zstd"},
        };
        for (size_t i = 0; t && i < ELEMENTSOF(map); i++)
                if (streq(t, map[i][0]) || streq(t, map[i][1]))
                        return map[i][docker ? 1 : 0];
        return t ? t : map[0][docker ? 1 : 0];
}

static json_t *descriptor(const char *type, const char *digest, json_int_t size)
{
        return json_pack("{s:s, s:s, s:I}", "mediaType", type, "digest", digest, "size", size);
}

static int build_manifest(const char *base, size_t len, const char *config,
                          const struct new_layer *nl, bool docker, char **ret,
                          struct pea_error **err)
{
        _cleanup_json_ json_t *bm = json_loadb(base, len, 0, NULL);
        json_t *blayers = json_object_get(bm, "layers");
        if (!json_is_array(blayers))
                return pea_error_set(err, EBADMSG, "the image's manifest has no layers");
        _cleanup_free_ char *cdigest = NULL;
        int r = pea_digest_data(PEA_DIGEST_SHA256, config, strlen(config), &cdigest, err);
        if (r < 0)
                return r;
        json_t *layers = json_array();
        size_t i;
        json_t *l;
        json_array_foreach(blayers, i, l) {
                const char *t = json_string_value(json_object_get(l, "mediaType"));
                json_array_append_new(
                        layers, descriptor(layer_type(t, docker),
                                           json_string_value(json_object_get(l, "digest")) ?: "",
                                           json_integer_value(json_object_get(l, "size"))));
        }
        json_array_append_new(
                layers, descriptor(layer_type("application/vnd.oci.image.layer.v1.tar", docker),
                                   nl->st.diff_id, (json_int_t)nl->st.uncompressed_size));
        _cleanup_json_ json_t *m =
                json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType",
                          docker ? PEA_MEDIA_DOCKER_MANIFEST : PEA_MEDIA_OCI_MANIFEST, "config",
                          descriptor(docker ? PEA_MEDIA_DOCKER_CONFIG : PEA_MEDIA_OCI_CONFIG,
                                     cdigest, (json_int_t)strlen(config)),
                          "layers", layers);
        *ret = json_dumps(m, JSON_COMPACT);
        if (!*ret)
                abort();
        return 0;
}

static void progress(const struct pea_container_commit_opts *o, enum pea_transfer_event ev,
                     const char *digest)
{
        if (o->progress)
                o->progress(o->progress_userdata, (int)ev, digest);
}

/* The base image's layers are in the store already: podman says so per blob. */
static void progress_base(const struct pea_container_commit_opts *o, const char *manifest,
                          size_t len)
{
        _cleanup_json_ json_t *m = json_loadb(manifest, len, 0, NULL);
        size_t i;
        json_t *l;
        json_array_foreach(json_object_get(m, "layers"), i, l)
                progress(o, PEA_TRANSFER_BLOB_SKIPPED,
                         json_string_value(json_object_get(l, "digest")));
}

/* ---- commit -------------------------------------------------------------------------------- */

struct commit {
        struct pea_image_record img;
        char *manifest;
        size_t manifest_len;
        char *config;
        char *new_manifest;
};

static void commit_done(struct commit *c)
{
        pea_image_record_done(&c->img);
        free(c->manifest);
        free(c->config);
        free(c->new_manifest);
}

static int add_image(const struct pea_container_ctx *ctx, struct commit *c,
                     const struct pea_container_commit_opts *o, char **ret_id,
                     struct pea_error **err)
{
        _cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
        if (o->reference) {
                char *name = NULL;
                int r = pea_image_local_name(o->reference, &name, err);
                if (r < 0)
                        return r;
                strv_consume(&names, name);
        }
        _cleanup_free_ char *cdigest = NULL;
        if (pea_digest_data(PEA_DIGEST_SHA256, c->config, strlen(c->config), &cdigest, NULL) >= 0)
                progress(o, PEA_TRANSFER_CONFIG, cdigest);
        progress(o, PEA_TRANSFER_MANIFEST, NULL);
        const char *type = o->docker_format ? PEA_MEDIA_DOCKER_MANIFEST : PEA_MEDIA_OCI_MANIFEST;
        struct pea_image_record rec = {.manifest = c->new_manifest,
                                       .manifest_len = strlen(c->new_manifest),
                                       .manifest_media_type = (char *)type,
                                       .config = c->config,
                                       .config_len = strlen(c->config)};
        return pea_image_store_add_image(ctx->store, &rec, names, ret_id, err);
}

static int commit_steps(const struct pea_container_ctx *ctx, struct pea_container_row *row,
                        const struct pea_container_commit_opts *o, char **ret_id,
                        struct pea_error **err)
{
        _cleanup_(commit_done) struct commit c = {};
        struct new_layer nl = {};
        _cleanup_strv_ char **chains = NULL;
        int r = pea_image_store_get(ctx->store, row->image_id, &c.img, err);
        if (r >= 0)
                r = pea_image_store_get_blob(ctx->store, c.img.digest, &c.manifest, &c.manifest_len,
                                             err);
        if (r >= 0)
                r = pea_image_store_layers_of(ctx->store, row->image_id, &chains, err);
        size_t n = strv_length(chains);
        nl.parent = n > 0 ? chains[n - 1] : NULL;
        if (r >= 0) {
                progress(o, PEA_TRANSFER_START, NULL);
                progress_base(o, c.manifest, c.manifest_len);
                r = commit_layer(ctx, row->id, o, &nl, err);
        }
        if (r >= 0)
                progress(o, PEA_TRANSFER_BLOB, nl.st.diff_id);
        if (r >= 0)
                r = build_config(c.img.config, c.img.config_len, row->config, o, nl.st.diff_id,
                                 &c.config, err);
        if (r >= 0)
                r = build_manifest(c.manifest, c.manifest_len, c.config, &nl, o->docker_format,
                                   &c.new_manifest, err);
        if (r >= 0)
                r = add_image(ctx, &c, o, ret_id, err);
        if (r >= 0)
                progress(o, PEA_TRANSFER_DONE, NULL);
        free(nl.chain_id);
        return r;
}

int pea_container_commit(const struct pea_container_ctx *ctx, const char *id,
                         const struct pea_container_commit_opts *o, char **ret_id,
                         struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(ctx->state, id, &row, err);
        if (r < 0)
                return r;
        if (!row.image_id)
                r = pea_error_set(err, EINVAL, "container '%s' has no image", id);
        else
                r = commit_steps(ctx, &row, o, ret_id, err);
        pea_container_row_done(&row);
        pea_image_store_unpin_all(ctx->store);
        return r < 0 ? pea_error_wrap(err, "committing container '%s'", id) : 0;
}
