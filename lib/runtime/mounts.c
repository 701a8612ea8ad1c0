/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "base.h"
#include "runtime-internal.h"

/*
 * The container's mounts, done in stage 2 inside the new mount namespace and
 * before pivot_root. Every destination is resolved inside the rootfs to an
 * O_PATH fd and mounted on through /proc/self/fd/N, so a symlink in the image
 * cannot redirect a mount to the host.
 */

static const struct {
        const char *name;
        bool clear;
        unsigned long flag;
} flag_table[] = {
        {"defaults", false, 0},
        {"ro", false, MS_RDONLY},
        {"rw", true, MS_RDONLY},
        {"suid", true, MS_NOSUID},
        {"nosuid", false, MS_NOSUID},
        {"dev", true, MS_NODEV},
        {"nodev", false, MS_NODEV},
        {"exec", true, MS_NOEXEC},
        {"noexec", false, MS_NOEXEC},
        {"sync", false, MS_SYNCHRONOUS},
        {"async", true, MS_SYNCHRONOUS},
        {"dirsync", false, MS_DIRSYNC},
        {"mand", false, MS_MANDLOCK},
        {"nomand", true, MS_MANDLOCK},
        {"atime", true, MS_NOATIME},
        {"noatime", false, MS_NOATIME},
        {"diratime", true, MS_NODIRATIME},
        {"nodiratime", false, MS_NODIRATIME},
        {"relatime", false, MS_RELATIME},
        {"norelatime", true, MS_RELATIME},
        {"strictatime", false, MS_STRICTATIME},
        {"nostrictatime", true, MS_STRICTATIME},
        {"lazytime", false, MS_LAZYTIME},
        {"nolazytime", true, MS_LAZYTIME},
        {"silent", false, MS_SILENT},
        {"loud", true, MS_SILENT},
};

static const struct {
        const char *name;
        unsigned long flags;
} propagation_table[] = {
        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

/* Podman's own options; they mean nothing to the runtime. */
static const char *const ignored_options[] = {
        "z", "Z", "U", "copy", "nocopy", "tmpcopyup", "notmpcopyup", "idmap", "ridmap", NULL,
};

#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

static bool parse_flag(const char *opt, struct runtime_mount_opts *o)
{
        for (size_t i = 0; i < ELEMENTSOF(flag_table); i++) {
                if (!streq(flag_table[i].name, opt))
                        continue;
                if (flag_table[i].clear)
                        o->flags &= ~flag_table[i].flag;
                else
                        o->flags |= flag_table[i].flag;
                if (flag_table[i].flag & ATIME_FLAGS)
                        o->has_atime = true;
                return true;
        }
        for (size_t i = 0; i < ELEMENTSOF(propagation_table); i++)
                if (streq(propagation_table[i].name, opt)) {
                        o->propagation = propagation_table[i].flags;
                        return true;
                }
        return false;
}

int runtime_mount_opts_parse(char *const *options, struct runtime_mount_opts *ret,
                             struct pea_error **err)
{
        struct runtime_mount_opts o = {0};
        _cleanup_strv_ char **data = NULL;
        STRV_FOREACH(opt, (char **)options) {
                if (parse_flag(*opt, &o))
                        continue;
                if (streq(*opt, "bind") || streq(*opt, "rbind")) {
                        o.bind = true;
                        if (streq(*opt, "rbind"))
                                o.flags |= MS_REC;
                } else if (streq(*opt, "rro")) {
                        o.flags |= MS_RDONLY;
                        o.recursive_ro = true;
                } else if (strv_contains((char **)ignored_options, *opt) || streq(*opt, "")) {
                        continue;
                } else if (strchr(*opt, ',')) {
                        return pea_error_set(err, EINVAL, "invalid mount option '%s'", *opt);
                } else {
                        strv_push(&data, *opt);
                }
        }
        o.data = data ? strv_join(data, ",") : NULL;
        *ret = o;
        return 0;
}

void runtime_mount_opts_done(struct runtime_mount_opts *o)
{
        free(o->data);
        o->data = NULL;
}

char *runtime_fd_path(int fd)
{
        return xasprintf("/proc/self/fd/%d", fd);
}

static unsigned long statvfs_to_ms(unsigned long f)
{
        static const struct {
                unsigned long st, ms;
        } map[] = {
                {ST_RDONLY, MS_RDONLY},     {ST_NOSUID, MS_NOSUID},
                {ST_NODEV, MS_NODEV},       {ST_NOEXEC, MS_NOEXEC},
                {ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME},
                {ST_RELATIME, MS_RELATIME},
        };

        unsigned long ms = 0;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (f & map[i].st)
                        ms |= map[i].ms;
        return ms;
}

/* mount_setattr(AT_RECURSIVE): read-only down the whole tree, locked flags untouched. */
static int setattr_recursive(int fd, unsigned long flags)
{
        struct mount_attr attr = {0};
        if (flags & MS_RDONLY)
                attr.attr_set |= MOUNT_ATTR_RDONLY;
        if (flags & MS_NOSUID)
                attr.attr_set |= MOUNT_ATTR_NOSUID;
        if (flags & MS_NODEV)
                attr.attr_set |= MOUNT_ATTR_NODEV;
        if (flags & MS_NOEXEC)
                attr.attr_set |= MOUNT_ATTR_NOEXEC;
        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr))
            < 0)
                return -errno;
        return 0;
}

int runtime_remount(int fd, unsigned long flags, bool recursive, struct pea_error **err)
{
        if (recursive) {
                int r = setattr_recursive(fd, flags);
                if (r == 0)
                        return 0;
                pea_debug("mount_setattr: %s, remounting the top mount only", strerror(-r));
        }
        _cleanup_free_ char *path = runtime_fd_path(fd);
        flags &= ~(MS_BIND | MS_REC | MS_REMOUNT);
        if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | flags, NULL) == 0)
                return 0;
        if (errno != EPERM)
                return pea_error_syscall(err, errno, "remounting");
        /* In a user namespace the flags of mounts from outside are locked: keep them. */
        struct statvfs sv;
        if (fstatvfs(fd, &sv) < 0)
                return pea_error_syscall(err, errno, "statvfs");
        unsigned long cur = statvfs_to_ms(sv.f_flag);
        if (flags & ATIME_FLAGS)
                cur &= ~ATIME_FLAGS;
        if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | flags | cur, NULL) < 0)
                return pea_error_syscall(err, errno, "remounting");
        return 0;
}

/* The mount now on top of dest, to remount or change its propagation. */
static int reopen_dest(int rootfd, const char *dest, struct pea_error **err)
{
        return runtime_resolve(rootfd, dest, RESOLVE_KIND_ANY, err);
}

static int bind_at(int rootfd, const char *src, const char *dest, int dfd,
                   const struct runtime_mount_opts *o, struct pea_error **err)
{
        _cleanup_free_ char *target = runtime_fd_path(dfd);
        if (mount(src, target, NULL, MS_BIND | (o->flags & MS_REC), NULL) < 0)
                return pea_error_syscall(err, errno, "bind mounting '%s' on '%s'", src, dest);
        unsigned long extra = o->flags & ~(MS_REC | MS_SILENT);
        if (!extra && !o->recursive_ro)
                return 0;
        _cleanup_close_ int nfd = reopen_dest(rootfd, dest, err);
        if (nfd < 0)
                return nfd;
        int r = runtime_remount(nfd, extra, o->recursive_ro, err);
        if (r < 0)
                return pea_error_wrap(err, "'%s'", dest);
        return 0;
}

/* A file system the user namespace may not mount: bind the host's instead, as runc. */
static const char *fallback_source(const char *type)
{
        if (streq(type, "sysfs"))
                return "/sys";
        if (streq(type, "proc"))
                return "/proc";
        if (streq(type, "mqueue"))
                return "/dev/mqueue";
        if (streq(type, "cgroup") || streq(type, "cgroup2"))
                return "/sys/fs/cgroup";
        return NULL;
}

static int mount_fallback(int rootfd, const char *type, const char *dest, int dfd,
                          const struct runtime_mount_opts *o, struct pea_error **err)
{
        struct runtime_mount_opts b = *o;
        b.flags |= MS_REC;
        /* Whatever is below /sys is read-only too when /sys is. */
        b.recursive_ro = (b.flags & MS_RDONLY) != 0;
        pea_debug("cannot mount %s on '%s', binding '%s'", type, dest, fallback_source(type));
        return bind_at(rootfd, fallback_source(type), dest, dfd, &b, err);
}

/* cgroup2 when the host has it, else the host's hierarchy bound; skipped when neither works. */
static int mount_cgroup(int rootfd, struct runtime_mount *m, int dfd,
                        const struct runtime_mount_opts *o)
{
        struct statfs sf;
        _cleanup_free_ char *target = runtime_fd_path(dfd);
        if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC
            && mount("cgroup2", target, "cgroup2", o->flags, NULL) == 0)
                return 0;
        _cleanup_error_ struct pea_error *e = NULL;
        if (mount_fallback(rootfd, "cgroup", m->destination, dfd, o, &e) < 0)
                pea_debug("%s, skipping the cgroup mount", e->msg);
        return 0;
}

/* devpts with gid=5 fails when gid 5 is not mapped in the user namespace: drop it. */
static char *data_without_gid(const char *data)
{
        _cleanup_strv_ char **l = strv_split(data, ",");
        _cleanup_strv_ char **out = NULL;
        STRV_FOREACH(opt, l)
                if (!startswith(*opt, "gid="))
                        strv_push(&out, *opt);
        return out ? strv_join(out, ",") : xstrdup("");
}

/*
 * bind_proc: the host's /proc may stand in for a proc that cannot be mounted
 * only when the container shares the host's pid namespace anyway.
 */
static int mount_fs(int rootfd, struct runtime_mount *m, const char *type, int dfd,
                    const struct runtime_mount_opts *o, bool bind_proc, struct pea_error **err)
{
        _cleanup_free_ char *target = runtime_fd_path(dfd);
        const char *src = m->source ? m->source : type;
        if (mount(src, target, type, o->flags, o->data) == 0)
                return 0;
        int e = errno;
        if (streq(type, "devpts") && o->data && strstr(o->data, "gid=")
            && (e == EINVAL || e == EPERM)) {
                _cleanup_free_ char *d = data_without_gid(o->data);
                if (mount(src, target, type, o->flags, d) == 0)
                        return 0;
        }
        if ((e == EPERM || e == EBUSY || e == EACCES) && fallback_source(type)
            && (bind_proc || !streq(type, "proc")))
                return mount_fallback(rootfd, type, m->destination, dfd, o, err);
        return pea_error_syscall(err, e, "mounting %s on '%s'", type, m->destination);
}

static int source_kind(const char *src, enum runtime_resolve_kind *ret, struct pea_error **err)
{
        struct stat st;
        if (stat(src, &st) < 0)
                return pea_error_syscall(err, errno, "bind mount source '%s'", src);
        *ret = S_ISDIR(st.st_mode) ? RESOLVE_KIND_DIR : RESOLVE_KIND_FILE;
        return 0;
}

static int mount_one(int rootfd, struct runtime_mount *m, const struct runtime_mount_opts *o,
                     bool bind_proc, struct pea_error **err)
{
        const char *type = m->type && m->type[0] ? m->type : (o->bind ? "bind" : "none");
        bool bind = o->bind || streq(type, "bind");
        enum runtime_resolve_kind kind = RESOLVE_KIND_DIR;
        if (bind) {
                if (!m->source)
                        return pea_error_set(err, EINVAL, "bind mount on '%s' without a source",
                                             m->destination);
                int r = source_kind(m->source, &kind, err);
                if (r < 0)
                        return r;
        }
        _cleanup_close_ int dfd = runtime_resolve(rootfd, m->destination, kind, err);
        if (dfd < 0)
                return dfd;
        if (bind)
                return bind_at(rootfd, m->source, m->destination, dfd, o, err);
        if (streq(type, "cgroup") || streq(type, "cgroup2"))
                return mount_cgroup(rootfd, m, dfd, o);
        return mount_fs(rootfd, m, type, dfd, o, bind_proc, err);
}

static int mount_entry(int rootfd, struct runtime_mount *m, bool bind_proc, struct pea_error **err)
{
        struct runtime_mount_opts o;
        int r = runtime_mount_opts_parse(m->options, &o, err);
        if (r < 0)
                return r;
        r = mount_one(rootfd, m, &o, bind_proc, err);
        if (r >= 0 && o.propagation) {
                _cleanup_close_ int fd = reopen_dest(rootfd, m->destination, err);
                _cleanup_free_ char *p = fd >= 0 ? runtime_fd_path(fd) : NULL;
                r = fd < 0 ? fd : mount(NULL, p, NULL, o.propagation, NULL);
                if (r < 0 && fd >= 0)
                        r = pea_error_syscall(err, errno, "setting the propagation of '%s'",
                                              m->destination);
        }
        runtime_mount_opts_done(&o);
        return r;
}

int runtime_mounts_setup(struct runtime_spec *s, int *ret_rootfd, struct pea_error **err)
{
        unsigned long prop = s->rootfs_propagation;
        /* pivot_root refuses shared mounts: a shared rootfs is made shared after it. */
        if (!prop || (prop & MS_SHARED))
                prop = MS_SLAVE | MS_REC;
        if (mount(NULL, "/", NULL, prop, NULL) < 0)
                return pea_error_syscall(err, errno, "setting the propagation of '/'");
        if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return pea_error_syscall(err, errno, "bind mounting rootfs '%s'", s->root_path);
        _cleanup_close_ int rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return pea_error_syscall(err, errno, "opening rootfs '%s'", s->root_path);
        struct runtime_ns *pidns = runtime_spec_ns(s, CLONE_NEWPID);
        bool bind_proc = !pidns || pidns->path;
        for (size_t i = 0; i < s->n_mounts; i++) {
                int r = mount_entry(rootfd, &s->mounts[i], bind_proc, err);
                if (r < 0)
                        return r;
        }
        *ret_rootfd = TAKE_FD(rootfd);
        return 0;
}

static int mask_path(int rootfd, const char *path, struct pea_error **err)
{
        _cleanup_error_ struct pea_error *e = NULL;
        _cleanup_close_ int fd = runtime_resolve(rootfd, path, RESOLVE_KIND_ANY, &e);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return pea_error_set(err, e->code, "masking: %s", e->msg);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return pea_error_syscall(err, errno, "masking '%s'", path);
        _cleanup_free_ char *target = runtime_fd_path(fd);
        int r = S_ISDIR(st.st_mode) ? mount("tmpfs", target, "tmpfs", MS_RDONLY, "mode=0755")
                                    : mount("/dev/null", target, NULL, MS_BIND, NULL);
        if (r < 0)
                return pea_error_syscall(err, errno, "masking '%s'", path);
        return 0;
}

static int readonly_path(int rootfd, const char *path, struct pea_error **err)
{
        _cleanup_error_ struct pea_error *e = NULL;
        _cleanup_close_ int fd = runtime_resolve(rootfd, path, RESOLVE_KIND_ANY, &e);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return pea_error_set(err, e->code, "making read-only: %s", e->msg);
        _cleanup_free_ char *target = runtime_fd_path(fd);
        if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
                return pea_error_syscall(err, errno, "making '%s' read-only", path);
        _cleanup_close_ int nfd = reopen_dest(rootfd, path, err);
        if (nfd < 0)
                return nfd;
        int r = runtime_remount(nfd, MS_RDONLY, true, err);
        if (r < 0)
                return pea_error_wrap(err, "making '%s' read-only", path);
        return 0;
}

int runtime_mounts_protect(struct runtime_spec *s, int rootfd, struct pea_error **err)
{
        STRV_FOREACH(p, s->readonly_paths) {
                int r = readonly_path(rootfd, *p, err);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(p, s->masked_paths) {
                int r = mask_path(rootfd, *p, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int pivot(int rootfd, struct pea_error **err)
{
        if (fchdir(rootfd) < 0)
                return pea_error_syscall(err, errno, "entering the rootfs");
        if (syscall(SYS_pivot_root, ".", ".") == 0) {
                /* The old root is now stacked on "." : detach it without propagating. */
                if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                        return pea_error_syscall(err, errno, "making the old root a slave");
                if (umount2(".", MNT_DETACH) < 0)
                        return pea_error_syscall(err, errno, "detaching the old root");
        } else if (errno == EINVAL) {
                /* The host root is not a mount (initramfs): move and chroot. */
                if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
                        return pea_error_syscall(err, errno, "moving into the rootfs");
        } else {
                return pea_error_syscall(err, errno, "pivot_root");
        }
        if (chdir("/") < 0)
                return pea_error_syscall(err, errno, "chdir to '/'");
        return 0;
}

int runtime_mounts_pivot(struct runtime_spec *s, int rootfd, struct pea_error **err)
{
        int r = pivot(rootfd, err);
        if (r < 0)
                return r;
        if (s->root_readonly) {
                _cleanup_close_ int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return pea_error_syscall(err, errno, "opening '/'");
                if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0
                    && runtime_remount(fd, MS_RDONLY, false, err) < 0)
                        return pea_error_wrap(err, "making the rootfs read-only");
        }
        if ((s->rootfs_propagation & MS_SHARED)
            && mount(NULL, "/", NULL, s->rootfs_propagation, NULL) < 0)
                return pea_error_syscall(err, errno, "setting the propagation of '/'");
        return 0;
}

int runtime_sysctl_apply(struct runtime_spec *s, int rootfd, struct pea_error **err)
{
        for (size_t i = 0; i < s->n_sysctl; i++) {
                _cleanup_free_ char *path = xasprintf("proc/sys/%s", s->sysctl[i].key);
                for (char *c = path + strlen("proc/sys/"); *c; c++)
                        if (*c == '.')
                                *c = '/';
                _cleanup_close_ int fd =
                        runtime_open_in_root(rootfd, path, O_WRONLY | O_TRUNC, err);
                if (fd < 0)
                        return pea_error_wrap(err, "setting sysctl '%s'", s->sysctl[i].key);
                size_t len = strlen(s->sysctl[i].value);
                if (write(fd, s->sysctl[i].value, len) != (ssize_t)len)
                        return pea_error_syscall(err, errno, "setting sysctl '%s'",
                                                 s->sysctl[i].key);
        }
        return 0;
}
