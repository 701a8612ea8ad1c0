/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <sys/stat.h>

#include "base.h"

int pea_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
                     struct pea_error **err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = xmalloc(cap);
        for (;;) {
                if (len + 1 >= cap) {
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pea_error_syscall(err, errno, "reading '%s'", path);
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return pea_error_set(err, EFBIG, "'%s' is larger than %zu bytes", path,
                                             max);
        }
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int write_replace(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                         bool sync, struct pea_error **err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
        _cleanup_close_ int fd =
                openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating '%s'", tmp);
        int r = write_all(fd, data, len);
        if (r == 0 && sync && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && renameat(dirfd, tmp, dirfd, path) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlinkat(dirfd, tmp, 0);
                return pea_error_syscall(err, -r, "writing '%s'", path);
        }
        return 0;
}

int pea_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                             struct pea_error **err)
{
        return write_replace(dirfd, path, data, len, mode, true, err);
}

int pea_write_file_replace_at(int dirfd, const char *path, const void *data, size_t len,
                              mode_t mode, struct pea_error **err)
{
        return write_replace(dirfd, path, data, len, mode, false, err);
}

int pea_mkdir_p(const char *path, mode_t mode, struct pea_error **err)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return pea_error_syscall(err, errno, "creating directory '%s'", p);
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return pea_error_syscall(err, errno, "creating directory '%s'", p);
        return 0;
}

static int rm_one(const char *path, const struct stat *st _unused_, int flag,
                  struct FTW *ftw _unused_)
{
        if (flag == FTW_DP)
                return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
        return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int pea_rm_rf(const char *path, struct pea_error **err)
{
        if (!pea_path_exists(path))
                return 0;
        if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
                return pea_error_syscall(err, errno, "removing '%s'", path);
        return 0;
}

bool pea_path_exists(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0;
}

char *pea_find_executable(const char *name)
{
        if (strchr(name, '/'))
                return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
        const char *path = getenv("PATH");
        _cleanup_strv_ char **dirs =
                strv_split(path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", ":");
        STRV_FOREACH(d, dirs) {
                _cleanup_free_ char *c = xasprintf("%s/%s", *d, name);
                struct stat st;
                if (stat(c, &st) == 0 && S_ISREG(st.st_mode) && access(c, X_OK) == 0)
                        return TAKE_PTR(c);
        }
        return NULL;
}

char *pea_self_dir(void)
{
        _cleanup_free_ char *exe = realpath("/proc/self/exe", NULL);
        if (!exe)
                return NULL;
        return xstrdup(dirname(exe));
}

char *pea_find_helper(const char *name)
{
        _cleanup_free_ char *dir = pea_self_dir();
        if (dir) {
                _cleanup_free_ char *c = xasprintf("%s/%s", dir, name);
                if (access(c, X_OK) == 0)
                        return TAKE_PTR(c);
        }
        _cleanup_free_ char *c = xasprintf("%s/%s", PEA_LIBEXECDIR, name);
        if (access(c, X_OK) == 0)
                return TAKE_PTR(c);
        return pea_find_executable(name);
}
