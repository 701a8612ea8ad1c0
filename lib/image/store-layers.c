/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/stat.h>

#include <jansson.h>

#include "base.h"
#include "image/image-internal.h"
#include "image/image.h"
#include "image/store-internal.h"
#include "state/state.h"

/* Layers: unpacked under .tmp-*, renamed to their chain ID, then recorded. */

#define LAYER_JSON     "layer.json"
#define LAYER_JSON_MAX (64u * 1024)

static const char *const whiteouts[_PEA_IMAGE_WHITEOUT_MAX] = {
        [PEA_IMAGE_WHITEOUT_OVERLAY] = "overlay",
        [PEA_IMAGE_WHITEOUT_OVERLAY_USERXATTR] = "overlay-userxattr",
        [PEA_IMAGE_WHITEOUT_AUFS] = "aufs",
};

const char *pea_image_whiteout_to_string(enum pea_image_whiteout w)
{
        return w >= 0 && w < _PEA_IMAGE_WHITEOUT_MAX ? whiteouts[w] : NULL;
}

enum pea_image_whiteout pea_image_whiteout_from_string(const char *s)
{
        for (int i = 0; s && i < _PEA_IMAGE_WHITEOUT_MAX; i++)
                if (streq(s, whiteouts[i]))
                        return (enum pea_image_whiteout)i;
        return _PEA_IMAGE_WHITEOUT_INVALID;
}

int pea_image_chain_id(const char *parent_chain_id, const char *diff_id, char **ret,
                       struct pea_error **err)
{
        int r = pea_digest_validate(diff_id, err);
        if (r < 0)
                return r;
        if (!parent_chain_id) {
                *ret = xstrdup(diff_id);
                return 0;
        }
        if (!store_chain_hex(parent_chain_id))
                return pea_error_set(err, EINVAL, "invalid chain ID '%s'", parent_chain_id);
        _cleanup_free_ char *text = xasprintf("%s %s", parent_chain_id, diff_id);
        return pea_digest_data(PEA_DIGEST_SHA256, text, strlen(text), ret, err);
}

/* ---- locks and pins ------------------------------------------------------------------------ */

int store_lock_layer(struct pea_image_store *s, const char *hex, bool exclusive, bool wait,
                     int *ret_fd, struct pea_error **err)
{
        _cleanup_free_ char *name = xasprintf("%s.lock", hex);
        int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
        for (;;) {
                _cleanup_close_ int fd =
                        openat(s->layers_fd, name,
                               O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
                if (fd < 0)
                        return pea_error_syscall(err, errno, "opening lock file '%s/%s'",
                                                 s->layers_path, name);
                int r;
                while ((r = flock(fd, op)) < 0 && errno == EINTR)
                        ;
                if (r < 0 && errno == EWOULDBLOCK)
                        return 0;
                if (r < 0)
                        return pea_error_syscall(err, errno, "locking '%s/%s'", s->layers_path,
                                                 name);
                /* A remover unlinks the file under LOCK_EX: make sure ours is still the one. */
                struct stat held, now;
                if (fstat(fd, &held) < 0)
                        return pea_error_syscall(err, errno, "checking '%s'", name);
                if (fstatat(s->layers_fd, name, &now, AT_SYMLINK_NOFOLLOW) == 0
                    && held.st_ino == now.st_ino && held.st_dev == now.st_dev) {
                        *ret_fd = TAKE_FD(fd);
                        return 1;
                }
        }
}

void store_unlink_lock(struct pea_image_store *s, const char *hex)
{
        _cleanup_free_ char *name = xasprintf("%s.lock", hex);
        (void)unlinkat(s->layers_fd, name, 0);
}

int pea_image_store_layer_pin(struct pea_image_store *s, const char *chain_id,
                              struct pea_error **err)
{
        const char *hex = store_chain_hex(chain_id);
        if (!hex)
                return pea_error_set(err, EINVAL, "invalid chain ID '%s'", chain_id ?: "");
        for (size_t i = 0; i < s->n_pins; i++)
                if (streq(s->pins[i].hex, hex))
                        return 0;
        int fd = -EBADF;
        int r = store_lock_layer(s, hex, false, true, &fd, err);
        if (r < 0)
                return r;
        s->pins = xrealloc(s->pins, (s->n_pins + 1) * sizeof(*s->pins));
        s->pins[s->n_pins++] = (struct store_pin){.hex = xstrdup(hex), .fd = fd};
        return 0;
}

void store_unpin(struct pea_image_store *s, const char *hex)
{
        for (size_t i = 0; i < s->n_pins; i++) {
                if (!streq(s->pins[i].hex, hex))
                        continue;
                closep(&s->pins[i].fd);
                free(s->pins[i].hex);
                s->pins[i] = s->pins[--s->n_pins];
                return;
        }
}

void pea_image_store_unpin_all(struct pea_image_store *s)
{
        for (size_t i = 0; i < s->n_pins; i++) {
                closep(&s->pins[i].fd);
                free(s->pins[i].hex);
        }
        free(s->pins);
        s->pins = NULL;
        s->n_pins = 0;
}

/* ---- lookups ------------------------------------------------------------------------------- */

bool store_layer_dir_exists(struct pea_image_store *s, const char *hex)
{
        _cleanup_free_ char *diff = xasprintf("%s/diff", hex);
        struct stat st;
        return fstatat(s->layers_fd, diff, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

int pea_image_store_layer_exists(struct pea_image_store *s, const char *chain_id,
                                 struct pea_error **err)
{
        int r = pea_image_store_layer_pin(s, chain_id, err);
        if (r < 0)
                return r;
        _cleanup_(pea_layer_row_done) struct pea_layer_row row = {0};
        _cleanup_error_ struct pea_error *e = NULL;
        r = pea_state_layer_get(s->state, chain_id, &row, &e);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return store_forward(r, err, &e);
        return store_layer_dir_exists(s, store_chain_hex(chain_id)) ? 1 : 0;
}

void pea_image_layer_done(struct pea_image_layer *l)
{
        if (!l)
                return;
        free(l->chain_id);
        free(l->diff_id);
        free(l->parent_chain_id);
        free(l->digest);
        free(l->media_type);
        *l = (struct pea_image_layer){0};
}

void store_layer_from_row(struct pea_layer_row *row, struct pea_image_layer *ret)
{
        int w = pea_image_whiteout_from_string(row->whiteout);
        *ret = (struct pea_image_layer){
                .chain_id = TAKE_PTR(row->chain_id),
                .diff_id = TAKE_PTR(row->diff_id),
                .parent_chain_id = TAKE_PTR(row->parent_chain_id),
                .digest = TAKE_PTR(row->digest),
                .media_type = TAKE_PTR(row->media_type),
                .size = row->size,
                .created = row->created,
                .whiteout = w < 0 ? PEA_IMAGE_WHITEOUT_AUFS : (enum pea_image_whiteout)w,
        };
}

int pea_image_store_layer_get(struct pea_image_store *s, const char *chain_id,
                              struct pea_image_layer *ret, struct pea_error **err)
{
        _cleanup_(pea_layer_row_done) struct pea_layer_row row = {0};
        int r = pea_state_layer_get(s->state, chain_id, &row, err);
        if (r < 0)
                return r;
        store_layer_from_row(&row, ret);
        return 0;
}

char *pea_image_store_layer_path(struct pea_image_store *s, const char *chain_id)
{
        const char *hex = store_chain_hex(chain_id);
        return hex ? xasprintf("%s/%s/diff", s->layers_path, hex) : NULL;
}

/* ---- removal ------------------------------------------------------------------------------- */

int store_remove_layer_dir(struct pea_image_store *s, const char *name, struct pea_error **err)
{
        _cleanup_free_ char *del = store_random_name(".tmp-del-");
        /* Locked like a .tmp directory, so repair leaves it to us. */
        _cleanup_close_ int fd =
                openat(s->layers_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s/%s'", s->layers_path, name);
        (void)flock(fd, LOCK_EX | LOCK_NB);
        if (renameat(s->layers_fd, name, s->layers_fd, del) < 0)
                return pea_error_syscall(err, errno, "renaming '%s/%s'", s->layers_path, name);
        return store_rm_rf(s->layers_path, del, err);
}

/* ---- begin, commit, abort ------------------------------------------------------------------ */

static struct pea_image_store_tmp *tmp_free(struct pea_image_store_tmp *t)
{
        if (!t)
                return NULL;
        closep(&t->diff_fd);
        closep(&t->dir_fd);
        free(t->diff_path);
        free(t->name);
        free(t);
        return NULL;
}

struct pea_image_store_tmp *pea_image_store_layer_abort(struct pea_image_store *s,
                                                        struct pea_image_store_tmp *tmp)
{
        if (!tmp)
                return NULL;
        closep(&tmp->diff_fd);
        tmp->diff_fd = -EBADF;
        /* Still flocked by us: nobody else removes it meanwhile. */
        if (tmp->name)
                (void)store_rm_rf(s->layers_path, tmp->name, NULL);
        return tmp_free(tmp);
}

/* Creates and flocks layers/.tmp-<random>; 0 when repair removed it before we locked it. */
static int tmp_create(struct pea_image_store *s, struct pea_image_store_tmp *t,
                      struct pea_error **err)
{
        t->name = store_random_name(".tmp-");
        if (mkdirat(s->layers_fd, t->name, 0700) < 0)
                return pea_error_syscall(err, errno, "creating '%s/%s'", s->layers_path, t->name);
        t->dir_fd = openat(s->layers_fd, t->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (t->dir_fd < 0)
                return errno == ENOENT ? 0
                                       : pea_error_syscall(err, errno, "opening '%s/%s'",
                                                           s->layers_path, t->name);
        while (flock(t->dir_fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return pea_error_syscall(err, errno, "locking '%s'", t->name);
        struct stat st;
        if (fstat(t->dir_fd, &st) < 0)
                return pea_error_syscall(err, errno, "checking '%s'", t->name);
        return st.st_nlink > 0 ? 1 : 0;
}

int pea_image_store_layer_begin(struct pea_image_store *s, struct pea_image_store_tmp **ret,
                                struct pea_error **err)
{
        for (int attempt = 0; attempt < 100; attempt++) {
                struct pea_image_store_tmp *t = xcalloc(1, sizeof(*t));
                *t = (struct pea_image_store_tmp){.diff_fd = -EBADF, .dir_fd = -EBADF};
                int r = tmp_create(s, t, err);
                if (r == 0) {
                        tmp_free(t);
                        continue;
                }
                if (r > 0 && mkdirat(t->dir_fd, "diff", 0755) < 0)
                        r = pea_error_syscall(err, errno, "creating '%s/diff'", t->name);
                if (r > 0) {
                        t->diff_fd = openat(t->dir_fd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (t->diff_fd < 0)
                                r = pea_error_syscall(err, errno, "opening '%s/diff'", t->name);
                }
                if (r < 0) {
                        pea_image_store_layer_abort(s, t);
                        return r;
                }
                t->diff_path = xasprintf("%s/%s/diff", s->layers_path, t->name);
                *ret = t;
                return 0;
        }
        return pea_error_set(err, EAGAIN, "cannot create a layer directory in '%s'",
                             s->layers_path);
}

static int check_info(const struct pea_image_layer_info *info, struct pea_error **err)
{
        if (!info->diff_id || !startswith(info->diff_id, "sha256:"))
                return pea_error_set(err, EINVAL, "invalid diff ID '%s'", info->diff_id ?: "");
        int r = pea_digest_validate(info->diff_id, err);
        if (r >= 0 && info->digest)
                r = pea_digest_validate(info->digest, err);
        if (r >= 0 && info->parent_chain_id && !store_chain_hex(info->parent_chain_id))
                r = pea_error_set(err, EINVAL, "invalid chain ID '%s'", info->parent_chain_id);
        if (r >= 0 && !pea_image_whiteout_to_string(info->whiteout))
                r = pea_error_set(err, EINVAL, "invalid whiteout format %d", (int)info->whiteout);
        if (r >= 0 && info->size < 0)
                r = pea_error_set(err, EINVAL, "invalid layer size %lld", (long long)info->size);
        return r;
}

static char *layer_json(const char *chain_id, const struct pea_image_layer_info *info)
{
        _cleanup_json_ json_t *j = json_pack(
                "{s:s, s:s, s:s*, s:s*, s:s*, s:I, s:s, s:I}", "chain_id", chain_id, "diff_id",
                info->diff_id, "parent_chain_id", info->parent_chain_id, "digest", info->digest,
                "media_type", info->media_type, "size", (json_int_t)info->size, "whiteout",
                pea_image_whiteout_to_string(info->whiteout), "created",
                (json_int_t)(time(NULL) * 1000000000LL));
        return pea_json_dumps(j, 2);
}

/* Reads layers/<hex>/layer.json into a row. */
static int read_layer_json(struct pea_image_store *s, const char *hex, struct pea_layer_row *ret,
                           struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/" LAYER_JSON, hex);
        _cleanup_free_ char *text = NULL;
        int r = pea_read_file_at(s->layers_fd, path, LAYER_JSON_MAX, &text, NULL, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *j = json_loads(text, 0, NULL);
        const char *chain = NULL, *diff = NULL, *parent = NULL, *digest = NULL, *mt = NULL;
        const char *wh = NULL;
        json_int_t size = 0, created = 0;
        if (!j
            || json_unpack(j, "{s:s, s:s, s?:s, s?:s, s?:s, s:I, s:s, s?:I}", "chain_id", &chain,
                           "diff_id", &diff, "parent_chain_id", &parent, "digest", &digest,
                           "media_type", &mt, "size", &size, "whiteout", &wh, "created", &created)
                       < 0)
                return pea_error_set(err, EBADMSG, "malformed '%s/%s'", s->layers_path, path);
        if (!streq_ptr(store_chain_hex(chain), hex) || pea_image_whiteout_from_string(wh) < 0)
                return pea_error_set(err, EBADMSG, "'%s/%s' describes another layer",
                                     s->layers_path, path);
        *ret = (struct pea_layer_row){
                .chain_id = xstrdup(chain),
                .diff_id = xstrdup(diff),
                .parent_chain_id = parent ? xstrdup(parent) : NULL,
                .digest = digest ? xstrdup(digest) : NULL,
                .media_type = mt ? xstrdup(mt) : NULL,
                .whiteout = xstrdup(wh),
                .size = size,
                .created = created,
        };
        return 0;
}

/* Records layers/<hex> (ours or a rename winner's) from its layer.json. */
static int record_layer(struct pea_image_store *s, const char *hex, struct pea_error **err)
{
        _cleanup_(pea_layer_row_done) struct pea_layer_row row = {0};
        int r = read_layer_json(s, hex, &row, err);
        if (r >= 0)
                r = pea_state_layer_add(s->state, &row, err);
        return r < 0 ? r : 0;
}

/* Pins the parent and checks that it is stored. */
static int need_parent(struct pea_image_store *s, const char *parent, struct pea_error **err)
{
        if (!parent)
                return 0;
        int r = pea_image_store_layer_exists(s, parent, err);
        if (r == 0)
                return pea_error_set(err, ENOENT, "parent layer '%s' not known", parent);
        return r < 0 ? r : 0;
}

/* Writes layer.json, syncs, and renames the tmp directory to hex; 0 when another won. */
static int move_into_place(struct pea_image_store *s, struct pea_image_store_tmp *tmp,
                           const char *chain_id, const struct pea_image_layer_info *info,
                           struct pea_error **err)
{
        _cleanup_free_ char *json = layer_json(chain_id, info);
        int r = pea_write_file_atomic_at(tmp->dir_fd, LAYER_JSON, json, strlen(json), 0644, err);
        if (r < 0)
                return r;
        /* The row will say the layer is complete: make its files durable first. */
        if (syncfs(tmp->dir_fd) < 0)
                return pea_error_syscall(err, errno, "syncing '%s'", tmp->diff_path);
        if (renameat(s->layers_fd, tmp->name, s->layers_fd, store_chain_hex(chain_id)) < 0) {
                if (errno == EEXIST || errno == ENOTEMPTY)
                        return 0;
                return pea_error_syscall(err, errno, "renaming '%s' to '%s'", tmp->name,
                                         store_chain_hex(chain_id));
        }
        /* Now the layer itself: abort must not remove it. */
        free(tmp->name);
        tmp->name = NULL;
        return 1;
}

int pea_image_store_layer_commit(struct pea_image_store *s, struct pea_image_store_tmp *tmp,
                                 const struct pea_image_layer_info *info, char **ret_chain_id,
                                 struct pea_error **err)
{
        _cleanup_free_ char *chain = NULL;
        int r = check_info(info, err);
        if (r >= 0)
                r = pea_image_chain_id(info->parent_chain_id, info->diff_id, &chain, err);
        if (r >= 0)
                r = need_parent(s, info->parent_chain_id, err);
        if (r >= 0)
                r = pea_image_store_layer_exists(s, chain, err);
        if (r == 0)
                r = move_into_place(s, tmp, chain, info, err);
        if (r >= 0) {
                pea_image_store_layer_abort(s, tmp); /* the copy that lost, or just the fds */
                tmp = NULL;
                r = record_layer(s, store_chain_hex(chain), err);
        }
        pea_image_store_layer_abort(s, tmp);
        if (r < 0)
                return image_error_wrap(r, err, "storing layer '%s'", chain ?: info->diff_id ?: "");
        pea_debug("stored layer '%s'", chain);
        if (ret_chain_id)
                *ret_chain_id = TAKE_PTR(chain);
        return 0;
}
