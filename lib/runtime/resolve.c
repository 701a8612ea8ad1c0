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
#include "runtime-internal.h"

/*
 * Mount destinations and masked paths are names inside the rootfs, which the
 * image controls: a symlink there must not lead outside. openat2 with
 * RESOLVE_IN_ROOT treats the rootfs as "/"; the fallback (and the creation of
 * missing components) walks one component at a time with O_NOFOLLOW,
 * expanding symlinks by hand with "/" and ".." clamped at the root.
 */

#ifndef SYS_openat2
#        define SYS_openat2 437
#endif

#define MAX_SYMLINKS  40
#define MAX_PATH_LEN  4096
#define OPENAT2_TRIES 8

static bool openat2_broken;

static bool want_openat2(void)
{
        const char *e = getenv("PEA_NO_OPENAT2");
        if (e && (streq(e, "1") || streq(e, "true") || streq(e, "yes")))
                return false;
        return !openat2_broken;
}

/* Returns the fd, -errno, or -ENOSYS when openat2 cannot be used. */
static int try_openat2(int rootfd, const char *path, int flags)
{
        if (!want_openat2())
                return -ENOSYS;
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        for (int i = 0; i < OPENAT2_TRIES; i++) {
                long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                if (errno == EAGAIN || errno == EINTR)
                        continue;
                if (errno == ENOSYS || errno == E2BIG || errno == EPERM) {
                        /* Old kernel, or a seccomp filter that refuses it. */
                        openat2_broken = true;
                        return -ENOSYS;
                }
                return -errno;
        }
        return -EAGAIN;
}

struct walk {
        int rootfd;
        enum runtime_resolve_kind kind;
        int cur;
        size_t depth;
        unsigned links;
        char *rest; /* what is left: the path, with symlink targets spliced in */
        size_t pos;
};

static int reopen_root(int rootfd)
{
        int fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int walk_reset(struct walk *w)
{
        int fd = reopen_root(w->rootfd);
        if (fd < 0)
                return fd;
        closep(&w->cur);
        w->cur = fd;
        w->depth = 0;
        return 0;
}

static int walk_dotdot(struct walk *w)
{
        if (w->depth == 0)
                return 0; /* ".." at the root stays at the root */
        int fd = openat(w->cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        closep(&w->cur);
        w->cur = fd;
        w->depth--;
        return 0;
}

static int walk_symlink(struct walk *w, int linkfd)
{
        if (++w->links > MAX_SYMLINKS)
                return -ELOOP;
        _cleanup_free_ char *target = xmalloc(MAX_PATH_LEN + 1);
        ssize_t n = readlinkat(linkfd, "", target, MAX_PATH_LEN + 1);
        if (n < 0)
                return -errno;
        if (n > MAX_PATH_LEN)
                return -ENAMETOOLONG;
        target[n] = '\0';
        if (target[0] == '/') {
                int r = walk_reset(w);
                if (r < 0)
                        return r;
        }
        char *rest = xasprintf("%s/%s", target, w->rest + w->pos);
        free(w->rest);
        w->rest = rest;
        w->pos = 0;
        return 0;
}

/* Opens comp below w->cur, creating it when missing and asked to. */
static int walk_open(struct walk *w, const char *comp, bool last)
{
        int fd = openat(w->cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT || w->kind == RESOLVE_KIND_ANY)
                return fd < 0 ? -errno : fd;
        if (last && w->kind == RESOLVE_KIND_FILE) {
                int f = openat(w->cur, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                               0644);
                if (f < 0 && errno != EEXIST)
                        return -errno;
                if (f >= 0)
                        (void)close(f);
        } else if (mkdirat(w->cur, comp, 0755) < 0 && errno != EEXIST) {
                return -errno;
        }
        fd = openat(w->cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* One step; returns 1 with *ret set when comp was the last component. */
static int walk_step(struct walk *w, const char *comp, bool last, int *ret)
{
        if (streq(comp, "."))
                return 0;
        if (streq(comp, ".."))
                return walk_dotdot(w);
        _cleanup_close_ int fd = walk_open(w, comp, last);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode))
                return walk_symlink(w, fd);
        if (last) {
                *ret = TAKE_FD(fd);
                return 1;
        }
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        closep(&w->cur);
        w->cur = TAKE_FD(fd);
        w->depth++;
        return 0;
}

static int walk(int rootfd, const char *path, enum runtime_resolve_kind kind)
{
        struct walk w = {.rootfd = rootfd, .kind = kind, .cur = reopen_root(rootfd)};
        if (w.cur < 0)
                return w.cur;
        w.rest = xstrdup(path);
        int r = 0, fd = -EBADF;
        while (r == 0) {
                w.pos += strspn(w.rest + w.pos, "/");
                if (w.rest[w.pos] == '\0') {
                        /* Ends in "/", ".", "..": the directory we are in. */
                        fd = openat(w.cur, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        r = fd < 0 ? -errno : 1;
                        break;
                }
                size_t len = strcspn(w.rest + w.pos, "/");
                _cleanup_free_ char *comp = xstrndup(w.rest + w.pos, len);
                w.pos += len;
                bool last = w.rest[w.pos + strspn(w.rest + w.pos, "/")] == '\0';
                r = walk_step(&w, comp, last, &fd);
        }
        closep(&w.cur);
        free(w.rest);
        return r < 0 ? r : fd;
}

int runtime_resolve(int rootfd, const char *path, enum runtime_resolve_kind kind,
                    struct pea_error **err)
{
        if (strlen(path) > MAX_PATH_LEN)
                return pea_error_set(err, ENAMETOOLONG, "path '%s' is too long", path);
        int fd = try_openat2(rootfd, path, O_PATH);
        if (fd == -ENOSYS || (fd == -ENOENT && kind != RESOLVE_KIND_ANY))
                fd = walk(rootfd, path, kind);
        if (fd < 0)
                return pea_error_syscall(err, fd, "resolving '%s' in the rootfs", path);
        return fd;
}

int runtime_open_in_root(int rootfd, const char *path, int flags, struct pea_error **err)
{
        int fd = try_openat2(rootfd, path, flags);
        if (fd != -ENOSYS) {
                if (fd < 0)
                        return pea_error_syscall(err, fd, "opening '%s' in the rootfs", path);
                return fd;
        }
        _cleanup_close_ int pfd = runtime_resolve(rootfd, path, RESOLVE_KIND_ANY, err);
        if (pfd < 0)
                return pfd;
        _cleanup_free_ char *p = runtime_fd_path(pfd);
        fd = open(p, flags | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s' in the rootfs", path);
        return fd;
}

int pea_runtime_resolve_in_root(int rootfd, const char *path, struct pea_error **err)
{
        return runtime_resolve(rootfd, path, RESOLVE_KIND_ANY, err);
}
