/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "base.h"
#include "layer-internal.h"

/* A string set (open addressing, FNV-1a): the paths a layer wrote, for opaque dirs. */

static uint64_t hash_str(const char *s)
{
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 1099511628211ULL;
        }
        return h;
}

static void pathset_insert(char **slots, size_t cap, char *path)
{
        size_t i = hash_str(path) & (cap - 1);
        while (slots[i])
                i = (i + 1) & (cap - 1);
        slots[i] = path;
}

void layer_pathset_add(struct layer_pathset *s, const char *path)
{
        if (layer_pathset_contains(s, path))
                return;
        if ((s->n + 1) * 2 > s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 64;
                char **slots = xcalloc(cap, sizeof(char *));
                for (size_t i = 0; i < s->cap; i++)
                        if (s->slots[i])
                                pathset_insert(slots, cap, s->slots[i]);
                free(s->slots);
                s->slots = slots;
                s->cap = cap;
        }
        pathset_insert(s->slots, s->cap, xstrdup(path));
        s->n++;
}

bool layer_pathset_contains(const struct layer_pathset *s, const char *path)
{
        if (s->cap == 0)
                return false;
        for (size_t i = hash_str(path) & (s->cap - 1); s->slots[i]; i = (i + 1) & (s->cap - 1))
                if (streq(s->slots[i], path))
                        return true;
        return false;
}

void layer_pathset_done(struct layer_pathset *s)
{
        for (size_t i = 0; i < s->cap; i++)
                free(s->slots[i]);
        free(s->slots);
        *s = (struct layer_pathset){};
}

/* Removes the children of the directory fd; prefix/name in keep survive. */
static int rm_children(int fd, const struct layer_pathset *keep, const char *prefix)
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
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de)
                        return errno ? -errno : 0;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (keep) {
                        _cleanup_free_ char *p =
                                *prefix ? xasprintf("%s/%s", prefix, de->d_name) : NULL;
                        if (layer_pathset_contains(keep, p ? p : de->d_name))
                                continue;
                }
                int r = layer_rm_rf_at(fd, de->d_name);
                if (r < 0)
                        return r;
        }
}

int layer_rm_rf_at(int dirfd, const char *name)
{
        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;
        int saved = errno;
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -saved;
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = rm_children(fd, NULL, "");
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int layer_empty_dir(struct layer_root *r, const char *path, const struct layer_pathset *keep,
                    struct pea_error **err)
{
        _cleanup_close_ int fd = layer_open_dir(r, path, LAYER_RESOLVE_CREATE, err);
        if (fd < 0)
                return fd;
        int k = rm_children(fd, keep, path);
        if (k < 0)
                return pea_error_syscall(err, -k, "emptying opaque directory '%s'", path);
        return 0;
}

int layer_clear_slot(int dirfd, const char *name, bool keep_dir, const char *path,
                     struct pea_error **err)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return pea_error_syscall(err, errno, "inspecting '%s'", path);
        }
        if (keep_dir && S_ISDIR(st.st_mode))
                return 1;
        int r = layer_rm_rf_at(dirfd, name);
        if (r < 0)
                return pea_error_syscall(err, -r, "replacing '%s'", path);
        return 0;
}

static int whiteout_apply(struct layer_unpack *u, const char *path, const char *name,
                          struct pea_error **err)
{
        const char *base = NULL;
        _cleanup_free_ char *target =
                xasprintf("%.*s%s", (int)(name - path - strlen(WH_PREFIX)), path, name);
        if (layer_pathset_contains(&u->written, target)) {
                pea_debug("whiteout '%s' names an entry of its own layer, ignoring", path);
                return 0;
        }
        _cleanup_error_ struct pea_error *e = NULL;
        _cleanup_close_ int fd = layer_open_parent(&u->root, path, 0, &base, &e);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0; /* nothing below to delete */
        if (fd < 0) {
                if (err && !*err)
                        *err = TAKE_PTR(e);
                return fd;
        }
        int r = layer_rm_rf_at(fd, name);
        if (r < 0)
                return pea_error_syscall(err, -r, "applying whiteout '%s'", path);
        return 0;
}

/* Returns 1 when mknod was refused and the ".wh." file is to be kept instead. */
static int whiteout_overlay(struct layer_unpack *u, const char *path, const char *name,
                            struct pea_error **err)
{
        const char *base = NULL;
        _cleanup_close_ int fd =
                layer_open_parent(&u->root, path, LAYER_RESOLVE_CREATE, &base, err);
        if (fd < 0)
                return fd;
        int r = layer_clear_slot(fd, name, false, path, err);
        if (r < 0)
                return r;
        if (mknodat(fd, name, S_IFCHR | 0000, makedev(0, 0)) == 0)
                return 0;
        if (errno != EPERM && errno != EACCES)
                return pea_error_syscall(err, errno, "creating whiteout for '%s'", path);
        pea_debug("creating a 0:0 whiteout device for '%s' failed, keeping '%s'", name, path);
        u->stats.whiteout_fallbacks++;
        return 1;
}

static int opaque_overlay(struct layer_unpack *u, const char *dir, struct pea_error **err)
{
        const char *key = u->opts.userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque";
        _cleanup_close_ int pfd = layer_open_dir(&u->root, dir, LAYER_RESOLVE_CREATE, err);
        if (pfd < 0)
                return pfd;
        _cleanup_close_ int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", dir);
        if (fsetxattr(fd, key, "y", 1, 0) == 0)
                return 0;
        if (errno != EPERM && errno != ENOTSUP && errno != EACCES)
                return pea_error_syscall(err, errno, "setting '%s' on '%s'", key, dir);
        pea_debug("setting '%s' on '%s' failed (%s), keeping the opaque marker", key, dir,
                  strerror(errno));
        u->stats.whiteout_fallbacks++;
        return 1;
}

static int whiteout_opaque(struct layer_unpack *u, const char *path, const char *base,
                           struct pea_error **err)
{
        _cleanup_free_ char *dir = xstrndup(path, base > path ? (size_t)(base - path - 1) : 0);
        switch (u->opts.whiteout) {
        case PEA_WHITEOUT_APPLY:
                return layer_empty_dir(&u->root, dir, &u->written, err);
        case PEA_WHITEOUT_OVERLAY:
                return opaque_overlay(u, dir, err);
        case PEA_WHITEOUT_AUFS:
        default:
                return 1;
        }
}

int layer_whiteout(struct layer_unpack *u, const char *path, struct pea_error **err)
{
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        const char *name = base + strlen(WH_PREFIX);

        u->stats.whiteouts++;
        if (streq(base, WH_OPAQUE))
                return whiteout_opaque(u, path, base, err);
        if (startswith(base, WH_META_PREFIX)) {
                pea_debug("skipping aufs metadata entry '%s'", path);
                return 0;
        }
        if (!*name || streq(name, ".") || streq(name, ".."))
                return pea_error_set(err, EBADMSG, "layer entry '%s' is not a valid whiteout",
                                     path);
        switch (u->opts.whiteout) {
        case PEA_WHITEOUT_APPLY:
                return whiteout_apply(u, path, name, err);
        case PEA_WHITEOUT_OVERLAY:
                return whiteout_overlay(u, path, name, err);
        case PEA_WHITEOUT_AUFS:
        default:
                return 1;
        }
}

static const char *const whiteout_mode_table[_PEA_WHITEOUT_MODE_MAX] = {
        [PEA_WHITEOUT_OVERLAY] = "overlay",
        [PEA_WHITEOUT_AUFS] = "aufs",
        [PEA_WHITEOUT_APPLY] = "apply",
};

const char *pea_whiteout_mode_to_string(enum pea_whiteout_mode m)
{
        if ((int)m < 0 || m >= _PEA_WHITEOUT_MODE_MAX)
                return NULL;
        return whiteout_mode_table[m];
}

int pea_whiteout_mode_from_string(const char *s)
{
        for (int i = 0; i < _PEA_WHITEOUT_MODE_MAX; i++)
                if (streq_ptr(whiteout_mode_table[i], s))
                        return i;
        return -EINVAL;
}
