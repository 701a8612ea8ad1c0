/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "base.h"
#include "layer-internal.h"

/*
 * Names from a layer are untrusted: every lookup below starts at the layer
 * directory and must stay beneath it. Symlinks inside the layer are followed
 * while they stay there; one that leads out (an absolute target, or ".." above
 * the layer directory) fails with EXDEV and the entry is refused. With openat2
 * the kernel does that (RESOLVE_BENEATH); otherwise, and to create missing
 * directories, walk() does it one component at a time with O_NOFOLLOW.
 */

#ifndef SYS_openat2
#        define SYS_openat2 437
#endif

#define MAX_SYMLINKS   40
#define OPENAT2_RETRY  8
#define DIR_PATH_FLAGS (O_PATH | O_DIRECTORY | O_CLOEXEC)

void layer_root_init(struct layer_root *r, int dirfd, bool no_openat2)
{
        const char *e = getenv("PEA_NO_OPENAT2");
        bool env_off = e && (streq(e, "1") || streq(e, "true") || streq(e, "yes"));

        r->fd = dirfd;
        r->use_openat2 = !no_openat2 && !env_off;
}

int layer_path_normalize(const char *name, char **ret, struct pea_error **err)
{
        size_t len = strlen(name);
        if (len > PEA_LAYER_MAX_PATH)
                return pea_error_set(err, EBADMSG, "layer entry name is longer than %u bytes",
                                     PEA_LAYER_MAX_PATH);
        _cleanup_free_ char *out = xmalloc(len + 1);
        size_t n = 0;
        for (const char *p = name + strspn(name, "/"); *p; p += strspn(p, "/")) {
                size_t l = strcspn(p, "/");
                if (l == 2 && p[0] == '.' && p[1] == '.')
                        return pea_error_set(err, EBADMSG,
                                             "layer entry '%s' escapes the layer directory", name);
                if (!(l == 1 && p[0] == '.')) {
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, p, l);
                        n += l;
                }
                p += l;
        }
        out[n] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

static int reopen_root(int rootfd)
{
        int fd = openat(rootfd, ".", DIR_PATH_FLAGS);
        return fd < 0 ? -errno : fd;
}

struct walk {
        int rootfd;
        unsigned flags;
        int cur;
        /* The real directories walked so far, for "..". */
        char **stack;
        size_t depth, cap;
        /* What is left to walk: the path, then symlink targets spliced in. */
        char *rest;
        size_t pos;
        unsigned links;
};

static void walk_done(struct walk *w)
{
        for (size_t i = 0; i < w->depth; i++)
                free(w->stack[i]);
        free(w->stack);
        free(w->rest);
        closep(&w->cur);
}

/* ".." at the root leaves the layer; elsewhere re-walk the real directories. */
static int walk_dotdot(struct walk *w)
{
        if (w->depth == 0)
                return -EXDEV;
        free(w->stack[--w->depth]);
        _cleanup_close_ int fd = reopen_root(w->rootfd);
        if (fd < 0)
                return fd;
        for (size_t i = 0; i < w->depth; i++) {
                int next = openat(fd, w->stack[i], DIR_PATH_FLAGS | O_NOFOLLOW);
                if (next < 0)
                        return -errno;
                closep(&fd);
                fd = next;
        }
        closep(&w->cur);
        w->cur = TAKE_FD(fd);
        return 0;
}

static int walk_symlink(struct walk *w, int linkfd)
{
        if (w->flags & LAYER_RESOLVE_NO_SYMLINKS)
                return -ELOOP;
        if (++w->links > MAX_SYMLINKS)
                return -ELOOP;
        _cleanup_free_ char *target = xmalloc(PEA_LAYER_MAX_PATH + 1);
        ssize_t n = readlinkat(linkfd, "", target, PEA_LAYER_MAX_PATH + 1);
        if (n < 0)
                return -errno;
        if ((size_t)n > PEA_LAYER_MAX_PATH)
                return -ENAMETOOLONG;
        target[n] = '\0';
        if (target[0] == '/')
                return -EXDEV;
        char *rest = xasprintf("%s/%s", target, w->rest + w->pos);
        free(w->rest);
        w->rest = rest;
        w->pos = 0;
        return 0;
}

static int walk_open(struct walk *w, const char *comp)
{
        int fd = openat(w->cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        if (errno != ENOENT || !(w->flags & LAYER_RESOLVE_CREATE))
                return -errno;
        if (mkdirat(w->cur, comp, 0755) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(w->cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int walk_component(struct walk *w, const char *comp)
{
        if (streq(comp, "."))
                return 0;
        if (streq(comp, ".."))
                return walk_dotdot(w);
        _cleanup_close_ int fd = walk_open(w, comp);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode))
                return walk_symlink(w, fd);
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        if (w->depth == w->cap) {
                w->cap = w->cap ? w->cap * 2 : 16;
                w->stack = xrealloc(w->stack, w->cap * sizeof(char *));
        }
        w->stack[w->depth++] = xstrdup(comp);
        closep(&w->cur);
        w->cur = TAKE_FD(fd);
        return 0;
}

/* Resolves path inside the root without openat2; returns an O_PATH directory fd. */
static int walk(int rootfd, const char *path, unsigned flags)
{
        _cleanup_(walk_done) struct walk w = {
                .rootfd = rootfd,
                .flags = flags,
                .cur = reopen_root(rootfd),
                .rest = xstrdup(path),
        };
        if (w.cur < 0)
                return w.cur;
        for (;;) {
                w.pos += strspn(w.rest + w.pos, "/");
                size_t l = strcspn(w.rest + w.pos, "/");
                if (l == 0)
                        break;
                _cleanup_free_ char *comp = xstrndup(w.rest + w.pos, l);
                w.pos += l;
                int r = walk_component(&w, comp);
                if (r < 0)
                        return r;
        }
        return TAKE_FD(w.cur);
}

static int openat2_dir(int dirfd, const char *path, unsigned flags)
{
        struct open_how how = {
                .flags = DIR_PATH_FLAGS,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        if (flags & LAYER_RESOLVE_NO_SYMLINKS)
                how.resolve |= RESOLVE_NO_SYMLINKS;
        for (int i = 0; i < OPENAT2_RETRY; i++) {
                long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                if (errno != EAGAIN)
                        break;
        }
        return -errno;
}

static int resolve(struct layer_root *r, const char *path, unsigned flags)
{
        if (r->use_openat2) {
                int fd = openat2_dir(r->fd, path, flags);
                if (fd >= 0)
                        return fd;
                if (fd == -ENOSYS || fd == -EPERM) {
                        pea_debug("openat2 is not available (%s), walking paths instead",
                                  strerror(-fd));
                        r->use_openat2 = false;
                } else if (fd != -ENOENT || !(flags & LAYER_RESOLVE_CREATE)) {
                        return fd;
                }
        }
        /* Also the way to create what is missing: one component at a time. */
        return walk(r->fd, path, flags);
}

int layer_open_dir(struct layer_root *r, const char *path, unsigned flags, struct pea_error **err)
{
        int fd = *path ? resolve(r, path, flags) : reopen_root(r->fd);
        if (fd >= 0)
                return fd;
        if (fd == -ELOOP && (flags & LAYER_RESOLVE_NO_SYMLINKS))
                return pea_error_set(err, EBADMSG, "layer path '%s' crosses a symlink", path);
        if (fd == -EXDEV)
                return pea_error_set(err, EBADMSG,
                                     "layer path '%s' leads out of the layer directory through a "
                                     "symlink",
                                     path);
        return pea_error_syscall(err, -fd, "resolving '%s' in the layer directory", path);
}

int layer_open_parent(struct layer_root *r, const char *path, unsigned flags, const char **ret_base,
                      struct pea_error **err)
{
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *parent = xstrndup(path, slash ? (size_t)(slash - path) : 0);
        int fd = layer_open_dir(r, parent, flags, err);
        if (fd < 0)
                return fd;
        *ret_base = slash ? slash + 1 : path;
        return fd;
}
