/* SPDX-License-Identifier: Apache-2.0 */
/* Volumes: their content (export, import, copy-up, chown) and mounts. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <jansson.h>

#include "layer/layer.h"
#include "state/state.h"
#include "volume-internal.h"

#ifndef SYS_openat2
#        define SYS_openat2 437
#endif

/* Directory depth at which chown gives up (a cap on recursion). */
#define CHOWN_MAX_DEPTH 256

/* True when this process's user namespace maps a single id (rootless without subuids). */
static bool single_id_mapped(void)
{
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, "/proc/self/uid_map", 1 << 16, &text, NULL, NULL) < 0)
                return false;
        unsigned long long total = 0;
        _cleanup_strv_ char **lines = strv_split(text, "\n");
        STRV_FOREACH(l, lines) {
                unsigned long long inside = 0, outside = 0, count = 0;
                if (sscanf(*l, "%llu %llu %llu", &inside, &outside, &count) == 3)
                        total += count;
        }
        return total == 1;
}

static int open_data(const struct pea_volume *vol, struct pea_error **err)
{
        int fd = open(vol->row.mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening volume '%s' at '%s'", vol->row.name,
                                         vol->row.mountpoint);
        return fd;
}

static const struct pea_layer_pack_opts pack_opts = {
        .compression = PEA_LAYER_COMPRESSION_NONE,
        .whiteout = PEA_WHITEOUT_AUFS,
};

int pea_volume_export(struct pea_volume *vol, int fd, struct pea_error **err)
{
        _cleanup_close_ int dfd = open_data(vol, err);
        if (dfd < 0)
                return dfd;
        int r = pea_layer_pack_fd(dfd, fd, &pack_opts, NULL, err);
        if (r < 0)
                return pea_error_wrap(err, "exporting volume '%s'", vol->row.name);
        return 0;
}

static int unpack_into(int src_fd, int dfd, struct pea_error **err)
{
        struct pea_layer_unpack_opts o = {
                .whiteout = PEA_WHITEOUT_AUFS,
                .rootless_single_id = single_id_mapped(),
        };
        return pea_layer_unpack_fd(src_fd, dfd, &o, NULL, err);
}

int pea_volume_import(struct pea_volume *vol, int fd, struct pea_error **err)
{
        _cleanup_close_ int dfd = open_data(vol, err);
        if (dfd < 0)
                return dfd;
        int r = unpack_into(fd, dfd, err);
        if (r < 0)
                return pea_error_wrap(err, "importing into volume '%s'", vol->row.name);
        return 0;
}

/* 1 when the directory fd has no entries, else 0. */
static int dir_is_empty(int dfd, struct pea_error **err)
{
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening a volume directory");
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return pea_error_syscall(err, errno, "reading a volume directory");
        }
        struct dirent *de = NULL;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return 0;
        return 1;
}

/* Copies src's tree into dfd through a tar in an unnamed temporary file next to it. */
static int copy_tree(int src_fd, int dfd, const char *tmpdir, struct pea_error **err)
{
        _cleanup_close_ int tmp = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (tmp < 0)
                return pea_error_syscall(err, errno, "creating a temporary file in '%s'", tmpdir);
        int r = pea_layer_pack_fd(src_fd, tmp, &pack_opts, NULL, err);
        if (r < 0)
                return r;
        if (lseek(tmp, 0, SEEK_SET) < 0)
                return pea_error_syscall(err, errno, "rewinding a temporary file");
        return unpack_into(tmp, dfd, err);
}

/* Gives the volume root the mode and owner of the source directory. */
static int copy_root_attrs(int src_fd, int dfd, struct pea_error **err)
{
        struct stat st;
        if (fstat(src_fd, &st) < 0)
                return pea_error_syscall(err, errno, "reading the copy-up source");
        if (!single_id_mapped() && fchown(dfd, st.st_uid, st.st_gid) < 0)
                return pea_error_syscall(err, errno, "chowning the volume directory");
        if (fchmod(dfd, st.st_mode & 07777) < 0)
                return pea_error_syscall(err, errno, "changing the volume directory's mode");
        return 0;
}

/* Without openat2: each component in turn, refusing any symlink. */
static int open_beneath_fallback(int root_fd, const char *path)
{
        _cleanup_close_ int fd = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_strv_ char **parts = strv_split(path, "/");
        STRV_FOREACH(c, parts) {
                if (streq(*c, ".") || streq(*c, ".."))
                        return -EINVAL;
                int next = openat(fd, *c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return -errno;
                (void)close(fd);
                fd = next;
        }
        int dir = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return dir < 0 ? -errno : dir;
}

int volume_open_dir_in_root(int root_fd, const char *path)
{
        struct open_how how = {
                .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        if (getenv("PEA_NO_OPENAT2"))
                return open_beneath_fallback(root_fd, path);
        for (int i = 0; i < 8; i++) {
                long fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                if (errno == ENOSYS)
                        return open_beneath_fallback(root_fd, path);
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
        }
        return -EAGAIN;
}

static int do_copy_up(struct pea_volume *vol, int src_fd, struct pea_error **err)
{
        _cleanup_close_ int src = src_fd;
        _cleanup_close_ int dfd = open_data(vol, err);
        if (dfd < 0)
                return dfd;
        int r = dir_is_empty(dfd, err);
        if (r <= 0)
                return r;
        r = dir_is_empty(src, err);
        if (r < 0)
                return r;
        bool copy = r == 0;
        if (copy)
                r = copy_tree(src, dfd, vol->dir, err);
        if (r >= 0)
                r = copy_root_attrs(src, dfd, err);
        return r < 0 ? r : copy;
}

/* Copies from src (an fd it takes; -ENOENT/-ENOTDIR: nothing to copy). */
static int copy_up_fd(struct pea_volume *vol, struct pea_state *s, int src, const char *what,
                      struct pea_error **err)
{
        int r = 0;
        if (src >= 0)
                r = do_copy_up(vol, src, err);
        else if (src != -ENOENT && src != -ENOTDIR)
                r = pea_error_syscall(err, -src, "opening '%s'", what);
        if (r < 0)
                return pea_error_wrap(err, "copying up '%s' into volume '%s'", what, vol->row.name);
        vol->row.needs_copy_up = false;
        if (s) {
                int q = pea_state_volume_update(s, &vol->row, err);
                if (q < 0)
                        return q;
        }
        return r;
}

int pea_volume_copy_up(struct pea_volume *vol, struct pea_state *s, const char *src_dir,
                       struct pea_error **err)
{
        if (!vol->row.needs_copy_up || volume_option(vol, "nocopy"))
                return 0;
        int src = open(src_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return copy_up_fd(vol, s, src < 0 ? -errno : src, src_dir, err);
}

int pea_volume_copy_up_at(struct pea_volume *vol, struct pea_state *s, int root_fd,
                          const char *path, struct pea_error **err)
{
        if (!vol->row.needs_copy_up || volume_option(vol, "nocopy"))
                return 0;
        return copy_up_fd(vol, s, volume_open_dir_in_root(root_fd, path), path, err);
}

/* ---- chown --------------------------------------------------------------------------------- */

static int chown_children(int dfd, uid_t uid, gid_t gid, int depth, struct pea_error **err);

static int chown_entry(int dfd, const char *name, uid_t uid, gid_t gid, int depth,
                       struct pea_error **err)
{
        if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return pea_error_syscall(err, errno, "chowning '%s'", name);
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return pea_error_syscall(err, errno, "reading '%s'", name);
        if (!S_ISDIR(st.st_mode))
                return 0;
        _cleanup_close_ int sub =
                openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
                return pea_error_syscall(err, errno, "opening '%s'", name);
        return chown_children(sub, uid, gid, depth + 1, err);
}

static int chown_children(int dfd, uid_t uid, gid_t gid, int depth, struct pea_error **err)
{
        if (depth > CHOWN_MAX_DEPTH)
                return pea_error_set(err, ELOOP, "volume tree deeper than %d levels",
                                     CHOWN_MAX_DEPTH);
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening a directory");
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return pea_error_syscall(err, errno, "reading a directory");
        }
        struct dirent *de = NULL;
        int r = 0;
        while (r >= 0 && (de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        r = chown_entry(dirfd(d), de->d_name, uid, gid, depth, err);
        return r;
}

int pea_volume_chown_path(const char *path, uid_t uid, gid_t gid, struct pea_error **err)
{
        _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        if (fchown(dfd, uid, gid) < 0)
                return pea_error_syscall(err, errno, "chowning '%s'", path);
        return chown_children(dfd, uid, gid, 0, err);
}

int pea_volume_chown(struct pea_volume *vol, uid_t uid, gid_t gid, struct pea_error **err)
{
        int r = pea_volume_chown_path(vol->row.mountpoint, uid, gid, err);
        if (r < 0)
                return pea_error_wrap(err, "chowning volume '%s' to %u:%u", vol->row.name,
                                      (unsigned)uid, (unsigned)gid);
        return 0;
}

/* ---- first use: podman's fixVolumePermissions ------------------------------------------- */

/* _data gets the owner and mode of the directory at dest in the rootfs, when there is one. */
static int match_dest(int dfd, int root_fd, const char *dest, struct pea_error **err)
{
        _cleanup_close_ int src = volume_open_dir_in_root(root_fd, dest);
        if (src == -ENOENT || src == -ENOTDIR)
                return 0;
        if (src < 0)
                return pea_error_syscall(err, -src, "opening '%s'", dest);
        struct stat st;
        if (fstat(src, &st) < 0)
                return pea_error_syscall(err, errno, "reading '%s'", dest);
        if (fchown(dfd, st.st_uid, st.st_gid) < 0 && !single_id_mapped())
                return pea_error_syscall(err, errno, "chowning a volume directory");
        if (fchmod(dfd, st.st_mode & 07777) < 0)
                return pea_error_syscall(err, errno, "changing a volume directory's mode");
        return 0;
}

int pea_volume_fix_permissions(struct pea_volume *vol, struct pea_state *s, int root_fd,
                               const char *dest, uid_t uid, gid_t gid, struct pea_error **err)
{
        if (!vol->row.needs_chown)
                return 0;
        _cleanup_close_ int dfd = open_data(vol, err);
        if (dfd < 0)
                return dfd;
        int r = 0;
        if (fchown(dfd, uid, gid) < 0 && !single_id_mapped())
                r = pea_error_syscall(err, errno, "chowning '%s'", vol->row.mountpoint);
        if (r >= 0)
                r = match_dest(dfd, root_fd, dest, err);
        if (r < 0)
                return pea_error_wrap(err, "setting the owner of volume '%s'", vol->row.name);
        vol->row.needs_chown = false;
        return s ? pea_state_volume_update(s, &vol->row, err) : 0;
}

/* ---- mounts -------------------------------------------------------------------------------- */

bool pea_volume_needs_mount(const struct pea_volume *vol)
{
        return volume_option(vol, "type") || volume_option(vol, "device");
}

struct mount_flag {
        const char *name;
        unsigned long set, clear;
};

static const struct mount_flag mount_flags[] = {
        {"ro", MS_RDONLY, 0},
        {"rw", 0, MS_RDONLY},
        {"nosuid", MS_NOSUID, 0},
        {"suid", 0, MS_NOSUID},
        {"nodev", MS_NODEV, 0},
        {"dev", 0, MS_NODEV},
        {"noexec", MS_NOEXEC, 0},
        {"exec", 0, MS_NOEXEC},
        {"sync", MS_SYNCHRONOUS, 0},
        {"async", 0, MS_SYNCHRONOUS},
        {"noatime", MS_NOATIME, 0},
        {"relatime", MS_RELATIME, 0},
        {"strictatime", MS_STRICTATIME, 0},
        {"bind", MS_BIND, 0},
        {"rbind", MS_BIND | MS_REC, 0},
};

/* Splits o= into mount flags and the data string for the file system. */
static void parse_mount_o(const char *o, unsigned long *ret_flags, char **ret_data)
{
        _cleanup_strv_ char **opts = strv_split(o ? o : "", ",");
        _cleanup_strv_ char **data = xcalloc(1, sizeof(char *));
        unsigned long flags = 0;
        STRV_FOREACH(opt, opts) {
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(mount_flags); i++) {
                        if (!streq(*opt, mount_flags[i].name))
                                continue;
                        flags = (flags | mount_flags[i].set) & ~mount_flags[i].clear;
                        known = true;
                }
                if (!known)
                        strv_push(&data, *opt);
        }
        *ret_flags = flags;
        *ret_data = data[0] ? strv_join(data, ",") : NULL;
}

static int do_mount(const struct pea_volume *vol, struct pea_error **err)
{
        const char *type = volume_option(vol, "type");
        const char *device = volume_option(vol, "device");
        unsigned long flags = 0;
        _cleanup_free_ char *data = NULL;
        parse_mount_o(volume_option(vol, "o"), &flags, &data);
        if (streq_ptr(type, "bind"))
                flags |= MS_BIND;
        if (!device && !streq_ptr(type, "tmpfs"))
                return pea_error_set(err, EINVAL, "volume '%s' has type %s but no device",
                                     vol->row.name, type ? type : "bind");
        const char *source = device ? device : "tmpfs";
        if (flags & MS_BIND) {
                unsigned long ro = flags & ~(MS_BIND | MS_REC);
                if (mount(source, vol->row.mountpoint, NULL, flags & (MS_BIND | MS_REC), NULL) < 0)
                        return pea_error_syscall(err, errno, "bind mounting '%s' on '%s'", source,
                                                 vol->row.mountpoint);
                if (ro
                    && mount(NULL, vol->row.mountpoint, NULL, MS_REMOUNT | MS_BIND | ro, NULL) < 0)
                        return pea_error_syscall(err, errno, "remounting '%s'",
                                                 vol->row.mountpoint);
                return 0;
        }
        if (mount(source, vol->row.mountpoint, type ? type : "tmpfs", flags, data) < 0)
                return pea_error_syscall(err, errno, "mounting %s '%s' on '%s'",
                                         type ? type : "tmpfs", source, vol->row.mountpoint);
        return 0;
}

int pea_volume_mount(struct pea_volume *vol, struct pea_state *s, struct pea_error **err)
{
        if (!pea_volume_needs_mount(vol))
                return 0;
        int count = 0;
        int r = pea_state_volume_add_mount_count(s, vol->row.name, 1, &count, err);
        if (r < 0)
                return r;
        vol->row.mount_count = count;
        if (count > 1)
                return 0;
        r = do_mount(vol, err);
        if (r < 0) {
                (void)pea_state_volume_add_mount_count(s, vol->row.name, -1, &vol->row.mount_count,
                                                       NULL);
                return pea_error_wrap(err, "mounting volume '%s'", vol->row.name);
        }
        return 0;
}

int volume_force_umount(const struct pea_volume *vol, struct pea_error **err)
{
        if (umount2(vol->row.mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
                return pea_error_syscall(err, errno, "unmounting '%s'", vol->row.mountpoint);
        return 0;
}

int pea_volume_umount(struct pea_volume *vol, struct pea_state *s, struct pea_error **err)
{
        if (!pea_volume_needs_mount(vol))
                return 0;
        int count = 0;
        int r = pea_state_volume_add_mount_count(s, vol->row.name, -1, &count, err);
        if (r < 0)
                return r;
        vol->row.mount_count = count;
        if (count > 0)
                return 0;
        return volume_force_umount(vol, err);
}
