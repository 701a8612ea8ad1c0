/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "base.h"
#include "image/image-internal.h"
#include "image/image.h"
#include "image/store-internal.h"
#include "state/state.h"

/*
 * Removing images, collecting unused layers and blobs, and repairing what an
 * interrupted operation left. See the locking protocol in store.h.
 */

/* A layer locked LOCK_EX for deletion. */
struct held {
        char *hex;
        int fd;
        bool deleted; /* its row is deleted in the current attempt */
};

struct gc {
        struct pea_image_store *s;
        const char *image_id; /* to remove first, or NULL */
        struct held *held;
        size_t n_held;
        char **skipped; /* chain IDs somebody pins: kept */
        char **blobs;   /* digests staged for deletion in the current attempt */
        size_t n_deleted;
};

/* ---- the transaction ----------------------------------------------------------------------- */

static void gc_restore_blobs(struct gc *g)
{
        STRV_FOREACH(b, g->blobs)
                store_blob_unstage(g->s, *b);
        g->blobs = strv_free(g->blobs);
}

/* 1 and *ret when hex is (or now gets) locked LOCK_EX, 0 when somebody holds it. */
static int gc_lock(struct gc *g, const char *hex, struct held **ret, struct pea_error **err)
{
        for (size_t i = 0; i < g->n_held; i++)
                if (streq(g->held[i].hex, hex)) {
                        *ret = &g->held[i];
                        return 1;
                }
        int fd = -EBADF;
        int r = store_lock_layer(g->s, hex, true, false, &fd, err);
        if (r <= 0)
                return r;
        g->held = xrealloc(g->held, (g->n_held + 1) * sizeof(*g->held));
        g->held[g->n_held] = (struct held){.hex = xstrdup(hex), .fd = fd};
        *ret = &g->held[g->n_held++];
        return 1;
}

/* Deletes the rows of unused layers nobody pins, children before parents. */
static int gc_layers(struct pea_state *state, struct gc *g, char ***blobs, struct pea_error **err)
{
        for (bool progress = true; progress;) {
                _cleanup_strv_ char **unused = NULL;
                int r = pea_state_layer_list_unused(state, &unused, err);
                if (r < 0)
                        return r;
                progress = false;
                STRV_FOREACH(c, unused) {
                        struct held *h = NULL;
                        if (strv_contains(g->skipped, *c))
                                continue;
                        r = gc_lock(g, store_chain_hex(*c), &h, err);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                strv_push(&g->skipped, *c);
                                continue;
                        }
                        _cleanup_(pea_layer_row_done) struct pea_layer_row row = {0};
                        r = pea_state_layer_get(state, *c, &row, err);
                        if (r >= 0)
                                r = pea_state_layer_remove(state, *c, err);
                        if (r < 0)
                                return r;
                        if (row.digest)
                                strv_push(blobs, row.digest);
                        h->deleted = progress = true;
                }
        }
        return 0;
}

/* Stages for deletion the candidate blobs no remaining row refers to. */
static int gc_blobs(struct pea_state *state, struct gc *g, char **candidates,
                    struct pea_error **err)
{
        STRV_FOREACH(d, candidates) {
                if (strv_contains(g->blobs, *d))
                        continue;
                int r = pea_state_blob_in_use(state, *d, err);
                if (r > 0)
                        continue;
                if (r >= 0)
                        r = store_blob_stage_delete(g->s, *d, err);
                if (r < 0)
                        return r;
                strv_push(&g->blobs, *d);
        }
        return 0;
}

static int gc_image(struct pea_state *state, struct gc *g, char ***blobs, struct pea_error **err)
{
        /* The hook for containers: they use an image's layers as long as they exist. */
        _cleanup_strv_ char **users = NULL;
        int r = pea_state_image_users(state, g->image_id, &users, err);
        if (r < 0)
                return r;
        if (users[0])
                return pea_error_set(err, EBUSY,
                                     "image used by %s: image is in use by a container: consider "
                                     "listing external containers and force-removing image",
                                     users[0]);
        _cleanup_(pea_image_row_done) struct pea_image_row row = {0};
        r = pea_state_image_get(state, g->image_id, &row, err);
        if (r < 0)
                return r;
        strv_consume(blobs, xasprintf("sha256:%s", row.id));
        if (row.digest)
                strv_push(blobs, row.digest);
        STRV_FOREACH(rd, row.repo_digests) {
                const char *at = strchr(*rd, '@');
                if (at)
                        strv_push(blobs, at + 1);
        }
        return pea_state_image_remove(state, g->image_id, err);
}

static int gc_fn(struct pea_state *state, void *userdata, struct pea_error **err)
{
        struct gc *g = userdata;
        /* A retried attempt starts over; the locks stay ours. */
        gc_restore_blobs(g);
        for (size_t i = 0; i < g->n_held; i++)
                g->held[i].deleted = false;
        g->skipped = strv_free(g->skipped);
        _cleanup_strv_ char **blobs = xcalloc(1, sizeof(char *));
        int r = g->image_id ? gc_image(state, g, &blobs, err) : 0;
        if (r >= 0)
                r = gc_layers(state, g, &blobs, err);
        if (r >= 0)
                r = gc_blobs(state, g, blobs, err);
        return r;
}

/* After the transaction: removes what it deleted (or undoes the staging). */
static void gc_finish(struct gc *g, bool committed)
{
        if (!committed)
                gc_restore_blobs(g);
        STRV_FOREACH(b, g->blobs)
                store_blob_finish_delete(g->s, *b);
        for (size_t i = 0; i < g->n_held; i++) {
                struct held *h = &g->held[i];
                if (committed && h->deleted) {
                        _cleanup_error_ struct pea_error *e = NULL;
                        if (store_remove_layer_dir(g->s, h->hex, &e) < 0)
                                pea_debug("%s, left for repair", e->msg);
                        store_unlink_lock(g->s, h->hex);
                        g->n_deleted++;
                }
                closep(&h->fd);
                free(h->hex);
        }
        free(g->held);
        g->held = NULL;
        g->n_held = 0;
        g->skipped = strv_free(g->skipped);
        g->blobs = strv_free(g->blobs);
}

static int gc_run(struct pea_image_store *s, const char *image_id, size_t *ret_n,
                  struct pea_error **err)
{
        struct gc g = {.s = s, .image_id = image_id};
        int r = pea_state_transaction(s->state, gc_fn, &g, err);
        gc_finish(&g, r >= 0);
        if (r >= 0 && ret_n)
                *ret_n = g.n_deleted;
        return r;
}

/* ---- rmi ----------------------------------------------------------------------------------- */

void pea_image_remove_report_done(struct pea_image_remove_report *r)
{
        if (!r)
                return;
        free(r->id);
        strv_free(r->untagged);
        *r = (struct pea_image_remove_report){0};
}

int pea_image_store_remove(struct pea_image_store *s, const char *name_or_id, unsigned flags,
                           struct pea_image_remove_report *ret, struct pea_error **err)
{
        _cleanup_free_ char *id = NULL, *name = NULL;
        _cleanup_(pea_image_row_done) struct pea_image_row row = {0};
        int r = store_resolve(s, name_or_id, &id, &name, err);
        if (r >= 0)
                r = pea_state_image_get(s->state, id, &row, err);
        if (r < 0)
                return r;
        struct pea_image_remove_report rep = {.id = xstrdup(id)};
        size_t n_names = strv_length(row.names);
        if (name && n_names > 1 && strv_contains(row.names, name)) {
                r = pea_state_image_untag(s->state, id, name, err);
                rep.untagged = xcalloc(1, sizeof(char *));
                strv_push(&rep.untagged, name);
        } else if (n_names > 1 && !(flags & PEA_IMAGE_REMOVE_FORCE)) {
                _cleanup_free_ char *list = strv_join(row.names, " ");
                r = pea_error_set(err, EBUSY,
                                  "unable to delete image \"%s\" by ID with more than one tag "
                                  "([%s]): please force removal",
                                  id, list);
        } else {
                r = gc_run(s, id, &rep.layers_removed, err);
                rep.untagged = TAKE_PTR(row.names);
                rep.removed = true;
        }
        if (r >= 0 && ret)
                *ret = rep;
        else
                pea_image_remove_report_done(&rep);
        return r < 0 ? r : 0;
}

/* ---- repair -------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dirfd/path (sorted, without . and ..); an empty vector when unreadable. */
static char **list_dir(int dirfd, const char *path)
{
        char **l = xcalloc(1, sizeof(char *));
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                closep(&fd);
                return l;
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        strv_push(&l, de->d_name);
        qsort(l, strv_length(l), sizeof(char *), cmp_str);
        return l;
}

/* "<hex>" for "<hex>.lock", else NULL. */
static char *lock_hex(const char *name)
{
        size_t n = strlen(name);
        if (n != 64 + 5 || !endswith(name, ".lock"))
                return NULL;
        _cleanup_free_ char *hex = xstrndup(name, 64);
        return store_is_hex64(hex) ? TAKE_PTR(hex) : NULL;
}

/* Sorted hex chain IDs of the layer rows. */
static int row_hexes(struct pea_image_store *s, char ***ret, struct pea_error **err)
{
        struct pea_layer_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_layer_list(s->state, &rows, &n, err);
        if (r < 0)
                return r;
        char **l = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                l[i] = xstrdup(store_chain_hex(rows[i].chain_id) ?: "");
        pea_layer_rows_free(rows, n);
        qsort(l, n, sizeof(char *), cmp_str);
        *ret = l;
        return 0;
}

bool store_needs_repair(struct pea_image_store *s)
{
        _cleanup_strv_ char **names = list_dir(s->layers_fd, ".");
        _cleanup_strv_ char **dirs = xcalloc(1, sizeof(char *));
        _cleanup_strv_ char **rows = NULL;
        if (row_hexes(s, &rows, NULL) < 0)
                return true;
        /* Lock files without a directory are left for repair and gc: pins create them. */
        STRV_FOREACH(n, names) {
                if (startswith(*n, ".tmp-"))
                        return true;
                if (store_is_hex64(*n))
                        strv_push(&dirs, *n);
        }
        size_t nd = strv_length(dirs);
        if (nd != strv_length(rows))
                return true;
        for (size_t i = 0; i < nd; i++)
                if (!streq(dirs[i], rows[i]))
                        return true;
        _cleanup_strv_ char **algs = list_dir(s->blobs_fd, ".");
        STRV_FOREACH(a, algs) {
                _cleanup_strv_ char **blobs = list_dir(s->blobs_fd, *a);
                STRV_FOREACH(b, blobs)
                        if (startswith(*b, ".tmp-"))
                                return true;
        }
        return false;
}

static int lost_fn(struct pea_state *state, void *userdata, struct pea_error **err)
{
        struct pea_image_store *s = userdata;
        struct pea_layer_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_layer_list(state, &rows, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const char *hex = store_chain_hex(rows[i].chain_id);
                if (hex && store_layer_dir_exists(s, hex))
                        continue;
                _cleanup_strv_ char **images = NULL;
                r = pea_state_layer_remove_broken(state, rows[i].chain_id, &images, err);
                if (r >= 0)
                        pea_debug("layer '%s' lost its directory: removed it and %zu images",
                                  rows[i].chain_id, strv_length(images));
        }
        pea_layer_rows_free(rows, n);
        return r;
}

/* A layer directory without a row: removed once nobody pins it. */
static int repair_orphan(struct pea_image_store *s, const char *hex, struct pea_error **err)
{
        int fd = -EBADF;
        int r = store_lock_layer(s, hex, true, false, &fd, err);
        if (r <= 0)
                return r;
        _cleanup_close_ int lock = fd;
        _cleanup_free_ char *chain = xasprintf("sha256:%s", hex);
        _cleanup_(pea_layer_row_done) struct pea_layer_row row = {0};
        _cleanup_error_ struct pea_error *e = NULL;
        r = pea_state_layer_get(s->state, chain, &row, &e);
        if (r != -ENOENT)
                return r < 0 ? store_forward(r, err, &e) : 0;
        pea_debug("removing layer directory '%s' without a row", hex);
        r = store_remove_layer_dir(s, hex, err);
        if (r >= 0)
                store_unlink_lock(s, hex);
        return r;
}

/* A lock file without a layer directory: unlinked once nobody holds it. */
static void repair_lock(struct pea_image_store *s, const char *hex)
{
        int fd = -EBADF;
        if (store_lock_layer(s, hex, true, false, &fd, NULL) <= 0)
                return;
        struct stat st;
        if (fstatat(s->layers_fd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                store_unlink_lock(s, hex);
        closep(&fd);
}

static int repair_layers(struct pea_image_store *s, struct pea_error **err)
{
        _cleanup_strv_ char **names = list_dir(s->layers_fd, ".");
        _cleanup_strv_ char **rows = NULL;
        int r = row_hexes(s, &rows, err);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                if (startswith(*n, ".tmp-")) {
                        int fd = store_trylock_entry(s->layers_fd, *n);
                        if (fd >= 0)
                                (void)store_rm_rf(s->layers_path, *n, NULL);
                        closep(&fd);
                } else if (store_is_hex64(*n) && !strv_contains(rows, *n)) {
                        r = repair_orphan(s, *n, err);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

struct staged {
        struct pea_image_store *s;
        const char *digest;
};

/* A blob staged for deletion: finished, or put back when a row refers to it again. */
static int staged_fn(struct pea_state *state, void *userdata, struct pea_error **err)
{
        struct staged *st = userdata;
        int r = pea_state_blob_in_use(state, st->digest, err);
        if (r > 0)
                store_blob_unstage(st->s, st->digest);
        else if (r == 0)
                store_blob_finish_delete(st->s, st->digest);
        return r < 0 ? r : 0;
}

static int repair_blobs(struct pea_image_store *s, struct pea_error **err)
{
        _cleanup_strv_ char **algs = list_dir(s->blobs_fd, ".");
        STRV_FOREACH(a, algs) {
                _cleanup_strv_ char **names = list_dir(s->blobs_fd, *a);
                _cleanup_close_ int dfd =
                        openat(s->blobs_fd, *a, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                STRV_FOREACH(n, names) {
                        const char *hex = startswith(*n, ".tmp-del-");
                        if (hex) {
                                _cleanup_free_ char *d = xasprintf("%s:%s", *a, hex);
                                struct staged st = {.s = s, .digest = d};
                                int r = pea_digest_validate(d, NULL) < 0
                                                ? 0
                                                : pea_state_transaction(s->state, staged_fn, &st,
                                                                        err);
                                if (r < 0)
                                        return r;
                        } else if (startswith(*n, ".tmp-") && dfd >= 0) {
                                int fd = store_trylock_entry(dfd, *n);
                                if (fd >= 0)
                                        (void)unlinkat(dfd, *n, 0);
                                closep(&fd);
                        }
                }
        }
        return 0;
}

/* 1 when a layer row has no directory (checked again in lost_fn()'s transaction). */
static int any_lost(struct pea_image_store *s, struct pea_error **err)
{
        struct pea_layer_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_layer_list(s->state, &rows, &n, err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                const char *hex = store_chain_hex(rows[i].chain_id);
                if (!hex || !store_layer_dir_exists(s, hex))
                        r = 1;
        }
        pea_layer_rows_free(rows, n);
        return r;
}

/* Unlinks lock files of layers that do not exist and nobody holds. */
static void remove_stray_locks(struct pea_image_store *s)
{
        _cleanup_strv_ char **names = list_dir(s->layers_fd, ".");
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *hex = lock_hex(*n);
                if (hex && !strv_contains(names, hex))
                        repair_lock(s, hex);
        }
}

int pea_image_store_gc(struct pea_image_store *s, size_t *ret_n, struct pea_error **err)
{
        int r = gc_run(s, NULL, ret_n, err);
        if (r >= 0)
                remove_stray_locks(s);
        return r;
}

int pea_image_store_repair(struct pea_image_store *s, struct pea_error **err)
{
        int r = any_lost(s, err);
        if (r > 0)
                r = pea_state_transaction(s->state, lost_fn, s, err);
        if (r >= 0)
                r = repair_layers(s, err);
        if (r >= 0)
                remove_stray_locks(s);
        if (r >= 0)
                r = repair_blobs(s, err);
        if (r < 0)
                return image_error_wrap(r, err, "repairing image store '%s'", s->graph_root);
        return 0;
}
