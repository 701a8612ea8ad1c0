/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base.h"
#include "storage-internal.h"

/*
 * fuse-overlayfs: the layout of native overlay, mounted by the external
 * program PEA_FUSE_OVERLAYFS, which daemonizes once the mount exists and
 * serves it until it is unmounted. It runs with graph_root as its working
 * directory, so that its options use the same short relative paths. It reads
 * both whiteout forms (0:0 devices and ".wh." files) and every opaque marker.
 */

#define OUTPUT_MAX 4096

extern char **environ;

static char *read_output(int fd)
{
        char *buf = xmalloc(OUTPUT_MAX + 1);
        ssize_t n = fd >= 0 ? pread(fd, buf, OUTPUT_MAX, 0) : -1;
        buf[n > 0 ? n : 0] = '\0';
        strstrip(buf);
        return buf;
}

/* Runs argv (argv[0] a path) in cwd with stdout and stderr captured; 0 on exit status 0. */
static int run_program(char *const argv[], const char *cwd, struct pea_error **err)
{
        _cleanup_close_ int out = memfd_create("pea-storage-output", MFD_CLOEXEC);
        posix_spawn_file_actions_t fa;
        pid_t pid = 0;
        int status = 0;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (out >= 0) {
                posix_spawn_file_actions_adddup2(&fa, out, 1);
                posix_spawn_file_actions_adddup2(&fa, out, 2);
        } else {
                posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
                posix_spawn_file_actions_adddup2(&fa, 1, 2);
        }
        if (cwd)
                posix_spawn_file_actions_addchdir_np(&fa, cwd);
        int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return pea_error_syscall(err, r, "running '%s'", argv[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return pea_error_syscall(err, errno, "waiting for '%s'", argv[0]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        _cleanup_free_ char *msg = read_output(out);
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return pea_error_set(err, EIO, "'%s' failed with status %d%s%s", argv[0], code,
                             *msg ? ": " : "", msg);
}

static int fuse_probe(struct pea_storage *s, struct pea_error **err)
{
        const struct storage_probe *p = NULL;
        int r = storage_get_probe(s, &p, err); /* whether whiteout devices can be made */
        if (r < 0)
                return r;
        _cleanup_free_ char *prog = pea_find_helper(PEA_FUSE_OVERLAYFS);
        if (!prog)
                return pea_error_set(err, ENOENT, "'%s' not found", PEA_FUSE_OVERLAYFS);
        _cleanup_close_ int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '/dev/fuse'");
        free(s->fuse_program);
        s->fuse_program = TAKE_PTR(prog);
        return 1;
}

static int fuse_create(struct pea_storage *s, const char *id, const char *const *lowers, size_t n,
                       struct pea_error **err)
{
        return storage_overlay_layout(s, id, lowers, n, err);
}

static int fuse_mount(struct pea_storage *s, const char *id, struct pea_error **err)
{
        _cleanup_free_ char *lower = NULL;
        int r = storage_overlay_read_lower(s, id, &lower, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *merged = storage_container_path(s, id, "merged");
        _cleanup_free_ char *opts =
                xasprintf("lowerdir=%s,upperdir=containers/%s/upper,workdir=containers/%s/work",
                          lower, id, id);
        char *const argv[] = {s->fuse_program, (char *)"-o", opts, merged, NULL};
        r = run_program(argv, s->graph_root, err);
        if (r < 0)
                return r;
        if (storage_mount_count(merged, false) == 0)
                return pea_error_set(err, EIO, "'%s' exited without mounting '%s'", s->fuse_program,
                                     merged);
        return 0;
}

/* Without privilege over the mount namespace, the setuid fusermount unmounts. */
static int fusermount(const char *merged, struct pea_error **err)
{
        _cleanup_free_ char *fm = pea_find_executable("fusermount3");
        if (!fm)
                fm = pea_find_executable("fusermount");
        if (!fm)
                return pea_error_set(err, ENOENT, "neither 'fusermount3' nor 'fusermount' found");
        char *const argv[] = {fm, (char *)"-u", (char *)merged, NULL};
        _cleanup_error_ struct pea_error *e = NULL;
        if (run_program(argv, NULL, &e) < 0) {
                char *const lazy[] = {fm, (char *)"-u", (char *)"-z", (char *)merged, NULL};
                int r = run_program(lazy, NULL, err);
                if (r < 0)
                        return r;
        }
        if (storage_mount_count(merged, false) > 0)
                return pea_error_set(err, EBUSY, "'%s' is still mounted", merged);
        return 0;
}

static int fuse_umount(struct pea_storage *s, const char *id, struct pea_error **err)
{
        _cleanup_free_ char *merged = storage_container_path(s, id, "merged");
        _cleanup_error_ struct pea_error *e = NULL;
        int r = storage_umount_path(merged, &e);
        if (r >= 0)
                return 0;
        if (r != -EPERM)
                return pea_error_set(err, e->code, "%s", e->msg);
        return fusermount(merged, err);
}

static int fuse_remove(struct pea_storage *s, const char *id, struct pea_error **err)
{
        return storage_remove_container_dir(s, id, err);
}

const struct pea_storage_driver storage_driver_fuse_overlayfs = {
        .name = "fuse-overlayfs",
        .mounts = true,
        .probe = fuse_probe,
        .create = fuse_create,
        .mount = fuse_mount,
        .umount = fuse_umount,
        .remove = fuse_remove,
};
