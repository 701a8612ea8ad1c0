/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base.h"
#include "runtime-internal.h"

/*
 * /dev inside the container. mknod is impossible in a user namespace, so the
 * standard nodes are the host's, bind-mounted onto empty files: that works
 * for root and rootless alike. linux.devices are made with mknod when we may,
 * else bound from the host as well.
 */

static const char *const default_devices[] = {
        "/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/random", "/dev/urandom",
};

static const struct {
        const char *name;
        const char *target;
} dev_symlinks[] = {
        {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
        {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"},
};

static int bind_host_node(int rootfd, const char *host, const char *dest, struct pea_error **err)
{
        _cleanup_close_ int fd = runtime_resolve(rootfd, dest, RESOLVE_KIND_FILE, err);
        if (fd < 0)
                return fd;
        _cleanup_free_ char *target = runtime_fd_path(fd);
        if (mount(host, target, NULL, MS_BIND, NULL) < 0)
                return pea_error_syscall(err, errno, "bind mounting device '%s'", host);
        return 0;
}

/* Splits "/dev/x/y" into the parent, opened (created) inside the root, and "y". */
static int open_parent(int rootfd, const char *path, const char **ret_base, struct pea_error **err)
{
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        if (base[0] == '\0' || streq(base, ".") || streq(base, ".."))
                return pea_error_set(err, EINVAL, "invalid device path '%s'", path);
        _cleanup_free_ char *parent = slash ? xstrndup(path, (size_t)(slash - path)) : NULL;
        int fd = runtime_resolve(rootfd, parent && parent[0] ? parent : "/", RESOLVE_KIND_DIR, err);
        if (fd < 0)
                return fd;
        *ret_base = base;
        return fd;
}

static int make_device(int rootfd, const struct runtime_device *d, struct pea_error **err)
{
        const char *base = NULL;
        _cleanup_close_ int dirfd = open_parent(rootfd, d->path, &base, err);
        if (dirfd < 0)
                return dirfd;
        mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
        if (mknodat(dirfd, base, type | d->mode, makedev(d->major, d->minor)) == 0) {
                if (fchmodat(dirfd, base, d->mode, 0) < 0
                    || fchownat(dirfd, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return pea_error_syscall(err, errno, "setting up device '%s'", d->path);
                return 0;
        }
        if (errno == EEXIST)
                return 0;
        if (errno != EPERM || type == S_IFIFO)
                return pea_error_syscall(err, errno, "creating device '%s'", d->path);
        /* In a user namespace: the host's node, when it has one. */
        return bind_host_node(rootfd, d->path, d->path, err);
}

static bool dev_is_bind(struct runtime_spec *s)
{
        for (size_t i = 0; i < s->n_mounts; i++) {
                struct runtime_mount *m = &s->mounts[i];
                if (!streq(m->destination, "/dev") && !streq(m->destination, "/dev/"))
                        continue;
                if (streq_ptr(m->type, "bind") || strv_contains(m->options, "bind")
                    || strv_contains(m->options, "rbind"))
                        return true;
        }
        return false;
}

static int make_symlinks(int rootfd, struct pea_error **err)
{
        _cleanup_close_ int devfd = runtime_resolve(rootfd, "/dev", RESOLVE_KIND_DIR, err);
        if (devfd < 0)
                return devfd;
        for (size_t i = 0; i < ELEMENTSOF(dev_symlinks); i++) {
                /* /dev/core only where the kernel has /proc/kcore, as runc */
                if (streq(dev_symlinks[i].name, "core") && !pea_path_exists("/proc/kcore"))
                        continue;
                if (symlinkat(dev_symlinks[i].target, devfd, dev_symlinks[i].name) < 0
                    && errno != EEXIST)
                        return pea_error_syscall(err, errno, "creating '/dev/%s'",
                                                 dev_symlinks[i].name);
        }
        return 0;
}

int runtime_devices_setup(struct runtime_spec *s, int rootfd, struct pea_error **err)
{
        if (dev_is_bind(s))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(default_devices); i++) {
                if (!pea_path_exists(default_devices[i]))
                        continue;
                int r = bind_host_node(rootfd, default_devices[i], default_devices[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->n_devices; i++) {
                int r = make_device(rootfd, &s->devices[i], err);
                if (r < 0)
                        return r;
        }
        return make_symlinks(rootfd, err);
}

int runtime_console_bind(int rootfd, int slave, struct pea_error **err)
{
        _cleanup_free_ char *src = runtime_fd_path(slave);
        return bind_host_node(rootfd, src, "/dev/console", err);
}
