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
#include "runtime/specgen.h"

/*
 * -u user[:group] against the container's /etc/passwd and /etc/group, with
 * libcontainer's GetExecUser rules: a numeric user is always a uid, a numeric
 * group always a gid; the first matching line wins; supplementary groups
 * (every group listing the user's name) only when no group is given. The
 * files come from an untrusted image: they are opened through the rootfs fd
 * with RESOLVE_IN_ROOT (symlinks resolve inside the rootfs), must be regular
 * files, and are read up to PEA_SPEC_FILE_MAX bytes.
 */

#ifndef SYS_openat2
#        define SYS_openat2 437
#endif

#define ID_MAX 2147483647LL /* libcontainer's maxId */

static bool no_openat2(void)
{
        const char *e = getenv("PEA_NO_OPENAT2");
        return e && (streq(e, "1") || streq(e, "true") || streq(e, "yes"));
}

/* Without openat2: "etc" then the file, refusing any symlink. */
static int open_fallback(int rootfd, const char *name)
{
        _cleanup_close_ int etc =
                openat(rootfd, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (etc < 0)
                return -errno;
        int fd = openat(etc, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* Opens /etc/<name> inside the rootfs; -ENOENT when missing. */
static int open_in_root(int rootfd, const char *name)
{
        _cleanup_free_ char *path = xasprintf("/etc/%s", name);
        struct open_how how = {
                .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        if (no_openat2())
                return open_fallback(rootfd, name);
        for (int i = 0; i < 8; i++) {
                long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                if (errno == EAGAIN || errno == EINTR)
                        continue;
                if (errno == ENOSYS)
                        return open_fallback(rootfd, name);
                return -errno;
        }
        return -EAGAIN;
}

/* Reads a regular file of at most PEA_SPEC_FILE_MAX bytes, NUL-terminated. */
static int read_fd(int fd, char **ret)
{
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = xmalloc(cap);
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap > PEA_SPEC_FILE_MAX)
                                return -EFBIG;
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

/* The file's text, or NULL (and 0) when it does not exist. */
static int read_etc(int rootfd, const char *name, char **ret, struct pea_error **err)
{
        _cleanup_close_ int fd = open_in_root(rootfd, name);
        if (fd == -ENOENT || fd == -ENOTDIR) {
                *ret = NULL;
                return 0;
        }
        if (fd < 0)
                return pea_error_syscall(err, -fd, "opening '/etc/%s' in the container", name);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return pea_error_syscall(err, errno, "reading '/etc/%s' in the container", name);
        if (!S_ISREG(st.st_mode))
                return pea_error_set(err, EINVAL, "'/etc/%s' in the container is not a file", name);
        if (st.st_size > (off_t)PEA_SPEC_FILE_MAX)
                return pea_error_set(err, EFBIG,
                                     "'/etc/%s' in the container is larger than %u "
                                     "bytes",
                                     name, PEA_SPEC_FILE_MAX);
        int r = read_fd(fd, ret);
        if (r < 0)
                return pea_error_syscall(err, -r, "reading '/etc/%s' in the container", name);
        return 0;
}

/* Splits a line on ':' in place, keeping empty fields; missing ones are "". */
static void split_fields(char *line, char **f, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                f[i] = line;
                char *c = line ? strchr(line, ':') : NULL;
                if (c)
                        *c = '\0';
                line = c ? c + 1 : NULL;
                if (!f[i])
                        f[i] = (char *)"";
        }
}

/* A non-negative decimal id; -ERANGE above libcontainer's maximum. */
static int parse_id(const char *s, long long *ret)
{
        long long v = 0;
        if (safe_atoll(s, &v) < 0)
                return -EINVAL;
        if (v < 0 || v > ID_MAX)
                return -ERANGE;
        *ret = v;
        return 0;
}

struct user_query {
        const char *user;  /* "" is uid 0 */
        const char *group; /* "" is none */
        long long uid_arg, gid_arg;
        bool uid_numeric, gid_numeric;
};

/* Finds the first passwd line for the query; true when found. */
static bool passwd_find(char *text, const struct user_query *q, struct pea_userdb_user *u)
{
        for (char *line = text, *next = NULL; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *f[7];
                split_fields(line, f, ELEMENTSOF(f));
                long long uid = 0, gid = 0;
                if (!*f[0] || f[0][0] == '#' || parse_id(f[2], &uid) < 0)
                        continue;
                bool match = !*q->user        ? uid == 0
                             : q->uid_numeric ? uid == q->uid_arg
                                              : streq(f[0], q->user);
                if (!match)
                        continue;
                (void)parse_id(f[3], &gid);
                u->uid = (uid_t)uid;
                u->gid = (gid_t)gid;
                u->name = xstrdup(f[0]);
                free(u->home);
                u->home = xstrdup(*f[5] ? f[5] : "/");
                return true;
        }
        return false;
}

static bool member_of(char *list, const char *name)
{
        _cleanup_strv_ char **l = strv_split(list, ",");
        STRV_FOREACH(m, l)
                if (streq(strstrip(*m), name))
                        return true;
        return false;
}

/* Applies the group file: the explicit group, or the supplementary groups. */
static bool group_scan(char *text, const struct user_query *q, struct pea_userdb_user *u)
{
        for (char *line = text, *next = NULL; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *f[4];
                split_fields(line, f, ELEMENTSOF(f));
                long long gid = 0;
                if (!*f[0] || f[0][0] == '#' || parse_id(f[2], &gid) < 0)
                        continue;
                if (*q->group) {
                        if (q->gid_numeric ? gid == q->gid_arg : streq(f[0], q->group)) {
                                u->gid = (gid_t)gid;
                                return true;
                        }
                } else if (u->name && member_of(f[3], u->name)
                           && u->n_additional_gids < PEA_SPEC_MAX_GROUPS) {
                        u->additional_gids = xrealloc(u->additional_gids,
                                                      (u->n_additional_gids + 1) * sizeof(gid_t));
                        u->additional_gids[u->n_additional_gids++] = (gid_t)gid;
                }
        }
        return false;
}

static int query_init(const char *spec, char **buf, struct user_query *q, struct pea_error **err)
{
        *buf = xstrdup(spec ? spec : "");
        char *colon = strchr(*buf, ':');
        if (colon)
                *colon = '\0';
        q->user = *buf;
        q->group = colon ? colon + 1 : "";
        int r = parse_id(q->user, &q->uid_arg);
        q->uid_numeric = r == 0;
        if (r == -ERANGE)
                return pea_error_set(err, ERANGE, "uids and gids must be in range 0-%lld", ID_MAX);
        r = parse_id(q->group, &q->gid_arg);
        q->gid_numeric = r == 0;
        if (r == -ERANGE)
                return pea_error_set(err, ERANGE, "uids and gids must be in range 0-%lld", ID_MAX);
        return 0;
}

static int resolve_user(int rootfs_fd, const struct user_query *q, struct pea_userdb_user *u,
                        struct pea_error **err)
{
        _cleanup_free_ char *passwd = NULL;
        int r = read_etc(rootfs_fd, "passwd", &passwd, err);
        if (r < 0)
                return r;
        if (passwd && passwd_find(passwd, q, u))
                return 0;
        if (!*q->user)
                return 0;
        if (!q->uid_numeric)
                return pea_error_set(err, ENOENT,
                                     "unable to find user %s: no matching entries in passwd file",
                                     q->user);
        u->uid = (uid_t)q->uid_arg;
        return 0;
}

static int resolve_group(int rootfs_fd, const struct user_query *q, struct pea_userdb_user *u,
                         struct pea_error **err)
{
        _cleanup_free_ char *group = NULL;
        int r = read_etc(rootfs_fd, "group", &group, err);
        if (r < 0)
                return r;
        if (group && group_scan(group, q, u))
                return 0;
        if (!*q->group)
                return 0;
        if (!q->gid_numeric)
                return pea_error_set(err, ENOENT,
                                     "unable to find group %s: no matching entries in group file",
                                     q->group);
        u->gid = (gid_t)q->gid_arg;
        return 0;
}

int pea_userdb_resolve(int rootfs_fd, const char *spec, struct pea_userdb_user *ret,
                       struct pea_error **err)
{
        _cleanup_free_ char *buf = NULL;
        struct user_query q = {0};
        int r = query_init(spec, &buf, &q, err);
        if (r < 0)
                return r;
        struct pea_userdb_user u = {.home = xstrdup("/")};
        r = resolve_user(rootfs_fd, &q, &u, err);
        if (r >= 0)
                r = resolve_group(rootfs_fd, &q, &u, err);
        if (r < 0) {
                pea_userdb_user_done(&u);
                return r;
        }
        *ret = u;
        return 0;
}

int pea_userdb_resolve_path(const char *rootfs, const char *spec, struct pea_userdb_user *ret,
                            struct pea_error **err)
{
        _cleanup_close_ int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening rootfs '%s'", rootfs);
        return pea_userdb_resolve(fd, spec, ret, err);
}

void pea_userdb_user_done(struct pea_userdb_user *u)
{
        free(u->additional_gids);
        free(u->home);
        free(u->name);
        *u = (struct pea_userdb_user){0};
}
