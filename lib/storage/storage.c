/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

#include <jansson.h>

#include "base.h"
#include "storage-internal.h"

/* Driver selection, the probe cache, mount records and the public entry points. */

#define ID_MAX         128
#define SMALL_FILE_MAX 65536

static const struct pea_storage_driver *const drivers[] = {
        &storage_driver_overlay,
        &storage_driver_fuse_overlayfs,
        &storage_driver_vfs,
};

static const struct pea_storage_driver *find_driver(const char *name)
{
        for (size_t i = 0; name && i < ELEMENTSOF(drivers); i++)
                if (streq(drivers[i]->name, name))
                        return drivers[i];
        return NULL;
}

static int check_id(const char *id, struct pea_error **err)
{
        static const char alnum[] =
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        size_t n = id ? strlen(id) : 0;
        if (n == 0 || n > ID_MAX || !memchr(alnum, id[0], sizeof(alnum) - 1))
                return pea_error_set(err, EINVAL, "invalid container id '%s'", id ? id : "");
        for (size_t i = 1; i < n; i++)
                if (!memchr(alnum, id[i], sizeof(alnum) - 1) && !strchr("_.-", id[i]))
                        return pea_error_set(err, EINVAL, "invalid container id '%s'", id);
        return 0;
}

char *storage_container_path(const struct pea_storage *s, const char *id, const char *sub)
{
        if (!sub)
                return xasprintf("%s/containers/%s", s->graph_root, id);
        return xasprintf("%s/containers/%s/%s", s->graph_root, id, sub);
}

char *pea_storage_rootfs_path(const struct pea_storage *s, const char *id)
{
        return storage_container_path(s, id,
                                      s->driver == &storage_driver_vfs ? "rootfs" : "merged");
}

const char *pea_storage_driver_name(const struct pea_storage *s)
{
        return s->driver->name;
}

const char *pea_storage_whiteout_mode(const struct pea_storage *s, bool *ret_userxattr)
{
        bool fuse = s->driver == &storage_driver_fuse_overlayfs;
        if (ret_userxattr)
                *ret_userxattr = s->rootless && !fuse;
        return fuse && !s->probe.mknod ? "aufs" : "overlay";
}

/* Mount table: mountinfo's fifth field, octal escapes (\040) undone. */
static void unescape_octal(char *s)
{
        char *w = s;
        for (const char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7'
                    && r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
                        r += 4;
                } else {
                        *w++ = *r++;
                }
        }
        *w = '\0';
}

static bool path_matches(const char *mnt, const char *path, bool subtree)
{
        size_t n = strlen(path);
        if (strncmp(mnt, path, n) != 0)
                return false;
        return mnt[n] == '\0' || (subtree && mnt[n] == '/');
}

int storage_mount_count(const char *path, bool subtree)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        int n = 0;
        if (!f)
                return 0;
        while (getline(&line, &cap, f) > 0) {
                char *p = line;
                for (int i = 0; i < 4 && p; i++) {
                        p = strchr(p, ' ');
                        p = p ? p + 1 : NULL;
                }
                char *end = p ? strchr(p, ' ') : NULL;
                if (!end)
                        continue;
                *end = '\0';
                unescape_octal(p);
                if (path_matches(p, path, subtree))
                        n++;
        }
        return n;
}

int storage_umount_path(const char *path, struct pea_error **err)
{
        for (int i = 0; i < 16 && storage_mount_count(path, false) > 0; i++) {
                if (umount2(path, UMOUNT_NOFOLLOW) == 0)
                        continue;
                int e = errno;
                if (e == EBUSY && umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                        continue;
                return pea_error_syscall(err, e, "unmounting '%s'", path);
        }
        if (storage_mount_count(path, false) > 0)
                return pea_error_set(err, EBUSY, "'%s' is still mounted", path);
        return 0;
}

int storage_remove_container_dir(const struct pea_storage *s, const char *id,
                                 struct pea_error **err)
{
        _cleanup_free_ char *dir = storage_container_path(s, id, NULL);
        _cleanup_free_ char *ww = storage_container_path(s, id, "work/work");
        (void)chmod(ww, 0700);
        return pea_rm_rf(dir, err);
}

/* The lock that serialises mounts, unmounts and removals. */
static int lock_storage(const struct pea_storage *s, struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/storage/lock", s->run_root);
        _cleanup_close_ int fd =
                open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening lock '%s'", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return pea_error_syscall(err, errno, "locking '%s'", path);
        return TAKE_FD(fd);
}

/* Probe cache: {"kernel", "rootless", "overlay", "overlay_error", "mknod"}. */
static char *probe_path(const struct pea_storage *s)
{
        return xasprintf("%s/storage/driver-probe.json", s->graph_root);
}

static bool probe_load(struct pea_storage *s, const char *release)
{
        _cleanup_free_ char *path = probe_path(s);
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        if (pea_read_file_at(AT_FDCWD, path, SMALL_FILE_MAX, &text, NULL, &e) < 0)
                return false;
        _cleanup_json_ json_t *j = json_loads(text, 0, NULL);
        json_t *rl = json_object_get(j, "rootless");
        if (!j || !json_is_boolean(rl) || json_is_true(rl) != s->rootless
            || !streq(pea_json_path_string(j, "kernel", ""), release)
            || !json_is_boolean(json_object_get(j, "overlay"))
            || !json_is_boolean(json_object_get(j, "mknod")))
                return false;
        s->probe.overlay = json_is_true(json_object_get(j, "overlay"));
        s->probe.mknod = json_is_true(json_object_get(j, "mknod"));
        const char *why = pea_json_path_string(j, "overlay_error", NULL);
        s->probe.overlay_error = why ? xstrdup(why) : NULL;
        return true;
}

static int probe_save(const struct pea_storage *s, const char *release, struct pea_error **err)
{
        _cleanup_free_ char *path = probe_path(s);
        _cleanup_json_ json_t *j = json_pack(
                "{s:s, s:b, s:b, s:s?, s:b}", "kernel", release, "rootless", s->rootless, "overlay",
                s->probe.overlay, "overlay_error", s->probe.overlay_error, "mknod", s->probe.mknod);
        _cleanup_free_ char *text = pea_json_dumps(j, 2);
        _cleanup_free_ char *data = xasprintf("%s\n", text);
        return pea_write_file_atomic_at(AT_FDCWD, path, data, strlen(data), 0644, err);
}

int storage_get_probe(struct pea_storage *s, const struct storage_probe **ret,
                      struct pea_error **err)
{
        struct utsname u;
        if (!s->probed) {
                if (uname(&u) < 0)
                        return pea_error_syscall(err, errno, "uname");
                if (!probe_load(s, u.release)) {
                        pea_debug("storage: probing native overlay under '%s'", s->graph_root);
                        storage_probe_run(s, &s->probe);
                        int r = probe_save(s, u.release, err);
                        if (r < 0)
                                return r;
                }
                s->probed = true;
        }
        *ret = &s->probe;
        return 0;
}

/* The driver record: which driver the containers of this graph root use. */
static char *driver_record_path(const struct pea_storage *s)
{
        return xasprintf("%s/storage/driver", s->graph_root);
}

static char *driver_record_read(const struct pea_storage *s)
{
        _cleanup_free_ char *path = driver_record_path(s);
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        if (pea_read_file_at(AT_FDCWD, path, 256, &text, NULL, &e) < 0)
                return NULL;
        strstrip(text);
        return *text ? TAKE_PTR(text) : NULL;
}

static int driver_record_write(const struct pea_storage *s, struct pea_error **err)
{
        _cleanup_free_ char *cur = driver_record_read(s);
        if (streq_ptr(cur, s->driver->name))
                return 0;
        _cleanup_free_ char *path = driver_record_path(s);
        _cleanup_free_ char *data = xasprintf("%s\n", s->driver->name);
        return pea_write_file_atomic_at(AT_FDCWD, path, data, strlen(data), 0644, err);
}

static bool has_containers(const struct pea_storage *s)
{
        _cleanup_free_ char *path = xasprintf("%s/containers", s->graph_root);
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return true;
        return false;
}

static const struct pea_storage_driver *auto_driver(struct pea_storage *s, struct pea_error **err)
{
        const struct storage_probe *p = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        if (storage_get_probe(s, &p, err) < 0)
                return NULL;
        if (p->overlay)
                return &storage_driver_overlay;
        pea_debug("storage: native overlay unusable (%s)", p->overlay_error);
        if (storage_driver_fuse_overlayfs.probe(s, &e) > 0)
                return &storage_driver_fuse_overlayfs;
        pea_debug("storage: fuse-overlayfs unusable (%s), using vfs", e ? e->msg : "?");
        return &storage_driver_vfs;
}

static int select_driver(struct pea_storage *s, const char *name, struct pea_error **err)
{
        _cleanup_free_ char *recorded = driver_record_read(s);
        const struct pea_storage_driver *d = NULL;
        if (name && *name) {
                d = find_driver(name);
                if (!d)
                        return pea_error_set(err, EINVAL,
                                             "unknown storage driver '%s' (overlay, "
                                             "fuse-overlayfs or vfs)",
                                             name);
                if (recorded && !streq(recorded, name) && has_containers(s))
                        return pea_error_set(err, EINVAL,
                                             "storage driver '%s' requested, but '%s' holds "
                                             "containers created with driver '%s'",
                                             name, s->graph_root, recorded);
        } else if (recorded) {
                d = find_driver(recorded);
                if (!d)
                        return pea_error_set(err, EBADMSG, "unknown storage driver '%s' in '%s'",
                                             recorded, s->graph_root);
        } else {
                d = auto_driver(s, err);
                if (!d)
                        return pea_error_code(err);
        }
        int r = d->probe(s, err);
        if (r < 0)
                return pea_error_wrap(err, "storage driver '%s' is not usable", d->name);
        s->driver = d;
        pea_debug("storage: using driver '%s'", d->name);
        return 0;
}

static int make_dirs(const char *graph_root, const char *run_root, struct pea_error **err)
{
        const char *const subs[] = {"storage", "containers", "l"};
        for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", graph_root, subs[i]);
                int r = pea_mkdir_p(p, 0700, err);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *m = xasprintf("%s/storage/mounts", run_root);
        return pea_mkdir_p(m, 0700, err);
}

int pea_storage_open(const char *graph_root, const char *run_root, const char *driver_name,
                     bool rootless, struct pea_storage **ret, struct pea_error **err)
{
        if (!graph_root || graph_root[0] != '/')
                return pea_error_set(err, EINVAL, "graph root '%s' is not an absolute path",
                                     graph_root ? graph_root : "");
        if (!run_root || run_root[0] != '/')
                return pea_error_set(err, EINVAL, "run root '%s' is not an absolute path",
                                     run_root ? run_root : "");
        int r = make_dirs(graph_root, run_root, err);
        if (r < 0)
                return r;
        _cleanup_storage_ struct pea_storage *s = xcalloc(1, sizeof(*s));
        s->rootless = rootless;
        s->graph_root = realpath(graph_root, NULL);
        if (!s->graph_root)
                return pea_error_syscall(err, errno, "resolving '%s'", graph_root);
        s->run_root = realpath(run_root, NULL);
        if (!s->run_root)
                return pea_error_syscall(err, errno, "resolving '%s'", run_root);
        r = select_driver(s, driver_name, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

struct pea_storage *pea_storage_free(struct pea_storage *s)
{
        if (!s)
                return NULL;
        free(s->graph_root);
        free(s->run_root);
        free(s->probe.overlay_error);
        free(s->fuse_program);
        free(s);
        return NULL;
}

/* Mount records: <run_root>/storage/mounts/<id> = {"driver", "merged", "pid"}. */
static char *record_path(const struct pea_storage *s, const char *id)
{
        return xasprintf("%s/storage/mounts/%s", s->run_root, id);
}

static int record_write(const struct pea_storage *s, const char *id, const char *merged,
                        struct pea_error **err)
{
        _cleanup_free_ char *path = record_path(s, id);
        _cleanup_json_ json_t *j = json_pack("{s:s, s:s, s:i}", "driver", s->driver->name, "merged",
                                             merged, "pid", (int)getpid());
        _cleanup_free_ char *text = pea_json_dumps(j, 0);
        _cleanup_free_ char *data = xasprintf("%s\n", text);
        return pea_write_file_replace_at(AT_FDCWD, path, data, strlen(data), 0600, err);
}

static void record_delete(const struct pea_storage *s, const char *id)
{
        _cleanup_free_ char *path = record_path(s, id);
        (void)unlink(path);
}

/* The driver a record names; NULL when there is no (valid) record. */
static const struct pea_storage_driver *record_driver(const struct pea_storage *s, const char *id)
{
        _cleanup_free_ char *path = record_path(s, id);
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        if (pea_read_file_at(AT_FDCWD, path, SMALL_FILE_MAX, &text, NULL, &e) < 0)
                return NULL;
        _cleanup_json_ json_t *j = json_loads(text, 0, NULL);
        return find_driver(pea_json_path_string(j, "driver", NULL));
}

static int check_lowers(const char *const *lowers, size_t *ret_n, struct pea_error **err)
{
        size_t n = 0;
        for (; lowers && lowers[n]; n++) {
                struct stat st;
                if (n >= PEA_STORAGE_MAX_LAYERS)
                        return pea_error_set(err, E2BIG, "more than %u layers",
                                             PEA_STORAGE_MAX_LAYERS);
                if (lowers[n][0] != '/' || strchr(lowers[n], '\n'))
                        return pea_error_set(err, EINVAL, "layer '%s' is not an absolute path",
                                             lowers[n]);
                if (stat(lowers[n], &st) < 0)
                        return pea_error_syscall(err, errno, "layer '%s'", lowers[n]);
                if (!S_ISDIR(st.st_mode))
                        return pea_error_set(err, ENOTDIR, "layer '%s' is not a directory",
                                             lowers[n]);
        }
        *ret_n = n;
        return 0;
}

static int create_locked(struct pea_storage *s, const char *id, const char *const *lowers, size_t n,
                         struct pea_error **err)
{
        _cleanup_free_ char *dir = storage_container_path(s, id, NULL);
        if (mkdir(dir, 0700) < 0) {
                if (errno == EEXIST)
                        return pea_error_set(err, EEXIST, "container '%s' already has storage", id);
                return pea_error_syscall(err, errno, "creating '%s'", dir);
        }
        int r = driver_record_write(s, err);
        if (r >= 0)
                r = s->driver->create(s, id, lowers, n, err);
        if (r < 0) {
                _cleanup_error_ struct pea_error *e = NULL;
                (void)storage_remove_container_dir(s, id, &e);
        }
        return r;
}

int pea_storage_create(struct pea_storage *s, const char *id, const char *const *lower_dirs,
                       struct pea_error **err)
{
        size_t n = 0;
        int r = check_id(id, err);
        if (r >= 0)
                r = check_lowers(lower_dirs, &n, err);
        if (r < 0)
                return r;
        _cleanup_close_ int lock = lock_storage(s, err);
        if (lock < 0)
                return lock;
        r = create_locked(s, id, lower_dirs, n, err);
        if (r < 0)
                return pea_error_wrap(err, "creating storage of container '%s'", id);
        return 0;
}

int pea_storage_set_volatile(struct pea_storage *s, const char *id, struct pea_error **err)
{
        int r = check_id(id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *marker = storage_container_path(s, id, "volatile");
        _cleanup_close_ int fd =
                open(marker, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating '%s'", marker);
        return 0;
}

/*
 * Mounted, and not a dead fuse mount (whose daemon is gone). statfs, unlike
 * stat, is never answered from fuse's attribute cache.
 */
static bool mounted_alive(const char *merged, bool *ret_dead)
{
        struct statfs sfs;
        *ret_dead = false;
        if (storage_mount_count(merged, false) == 0)
                return false;
        *ret_dead = statfs(merged, &sfs) < 0 && errno == ENOTCONN;
        return !*ret_dead;
}

static int mount_locked(struct pea_storage *s, const char *id, const char *merged,
                        struct pea_error **err)
{
        bool dead = false;
        int r = 0;
        if (s->driver->mounts && mounted_alive(merged, &dead))
                return record_write(s, id, merged, err);
        if (dead && (r = s->driver->umount(s, id, err)) < 0)
                return r;
        /* The record goes first: a crash after the mount leaves a findable mount. */
        r = record_write(s, id, merged, err);
        if (r < 0 || !s->driver->mounts)
                return r;
        r = s->driver->mount(s, id, err);
        if (r < 0)
                record_delete(s, id);
        return r;
}

int pea_storage_mount(struct pea_storage *s, const char *id, char **ret_merged_path,
                      struct pea_error **err)
{
        int r = check_id(id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = storage_container_path(s, id, NULL);
        if (!pea_path_exists(dir))
                return pea_error_set(err, ENOENT, "container '%s' has no storage", id);
        _cleanup_close_ int lock = lock_storage(s, err);
        if (lock < 0)
                return lock;
        _cleanup_free_ char *merged = pea_storage_rootfs_path(s, id);
        r = mount_locked(s, id, merged, err);
        if (r < 0)
                return pea_error_wrap(err, "mounting storage of container '%s'", id);
        if (ret_merged_path)
                *ret_merged_path = TAKE_PTR(merged);
        return 0;
}

static int umount_locked(struct pea_storage *s, const char *id, struct pea_error **err)
{
        const struct pea_storage_driver *d = record_driver(s, id);
        if (!d)
                d = s->driver;
        if (d->mounts) {
                int r = d->umount(s, id, err);
                if (r < 0)
                        return r;
        }
        record_delete(s, id);
        return 0;
}

int pea_storage_umount(struct pea_storage *s, const char *id, struct pea_error **err)
{
        int r = check_id(id, err);
        if (r < 0)
                return r;
        _cleanup_close_ int lock = lock_storage(s, err);
        if (lock < 0)
                return lock;
        r = umount_locked(s, id, err);
        if (r < 0)
                return pea_error_wrap(err, "unmounting storage of container '%s'", id);
        return 0;
}

static int remove_locked(struct pea_storage *s, const char *id, struct pea_error **err)
{
        _cleanup_free_ char *dir = storage_container_path(s, id, NULL);
        int r = umount_locked(s, id, err);
        if (r < 0)
                return r;
        if (storage_mount_count(dir, true) > 0)
                return pea_error_set(err, EBUSY, "something is still mounted under '%s'", dir);
        if (!pea_path_exists(dir))
                return 0;
        return s->driver->remove(s, id, err);
}

int pea_storage_remove(struct pea_storage *s, const char *id, struct pea_error **err)
{
        int r = check_id(id, err);
        if (r < 0)
                return r;
        _cleanup_close_ int lock = lock_storage(s, err);
        if (lock < 0)
                return lock;
        r = remove_locked(s, id, err);
        if (r < 0)
                return pea_error_wrap(err, "removing storage of container '%s'", id);
        return 0;
}

bool pea_storage_is_mounted(struct pea_storage *s, const char *id)
{
        if (check_id(id, NULL) < 0)
                return false;
        if (!s->driver->mounts) {
                _cleanup_free_ char *rec = record_path(s, id);
                _cleanup_free_ char *dir = storage_container_path(s, id, NULL);
                return pea_path_exists(rec) && pea_path_exists(dir);
        }
        _cleanup_free_ char *merged = pea_storage_rootfs_path(s, id);
        return storage_mount_count(merged, false) > 0;
}

/* 1 when the record of id was stale and is gone, 0 when it stays. */
static int cleanup_one(struct pea_storage *s, const char *id, struct pea_error **err)
{
        const struct pea_storage_driver *d = record_driver(s, id) ?: s->driver;
        _cleanup_free_ char *dir = storage_container_path(s, id, NULL);
        _cleanup_free_ char *merged =
                storage_container_path(s, id, d->mounts ? "merged" : "rootfs");
        bool dead = false;
        bool alive = d->mounts && mounted_alive(merged, &dead);
        if (pea_path_exists(dir) && (alive || !d->mounts))
                return 0;
        if (alive || dead) {
                int r = d->umount(s, id, err);
                if (r < 0)
                        return r;
        }
        pea_debug("storage: dropping stale mount record of '%s'", id);
        record_delete(s, id);
        return 1;
}

int pea_storage_cleanup_stale(struct pea_storage *s, struct pea_error **err)
{
        _cleanup_close_ int lock = lock_storage(s, err);
        if (lock < 0)
                return lock;
        _cleanup_free_ char *path = xasprintf("%s/storage/mounts", s->run_root);
        _cleanup_closedir_ DIR *d = opendir(path);
        if (!d)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        struct dirent *de;
        int n = 0;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp-")
                    || check_id(de->d_name, NULL) < 0)
                        continue;
                int r = cleanup_one(s, de->d_name, err);
                if (r < 0)
                        return pea_error_wrap(err, "cleaning up container '%s'", de->d_name);
                n += r;
        }
        storage_prune_links(s);
        return n;
}
