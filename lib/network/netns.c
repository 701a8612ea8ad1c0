/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "base.h"
#include "network/network.h"

/* Reports a child's failure to the parent: errno then the step, over a pipe. */
static _noreturn_ void child_fail(int fd, const char *step)
{
        int e = errno;
        (void)!write(fd, &e, sizeof(e));
        (void)!write(fd, step, strlen(step));
        _exit(1);
}

static int loopback_up(void)
{
        struct ifreq ifr = {0};
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        memcpy(ifr.ifr_name, "lo", 3);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return -errno;
        return 0;
}

/* In a forked child: a new network namespace, lo up, bound onto path. */
static _noreturn_ void netns_child(int fd, const char *path)
{
        if (unshare(CLONE_NEWNET) < 0)
                child_fail(fd, "unshare(CLONE_NEWNET)");
        int r = loopback_up();
        if (r < 0) {
                errno = -r;
                child_fail(fd, "bringing up 'lo'");
        }
        if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
                child_fail(fd, "bind-mounting the namespace");
        _exit(0);
}

static int netns_make(const char *path, struct pea_error **err)
{
        int p[2] = {-1, -1}, e = 0, status = 0;
        char msg[128] = {0};
        pid_t pid = 0;
        ssize_t n = 0;

        if (pipe2(p, O_CLOEXEC) < 0)
                return pea_error_syscall(err, errno, "creating a pipe");
        pid = fork();
        if (pid < 0) {
                e = errno;
                (void)close(p[0]);
                (void)close(p[1]);
                return pea_error_syscall(err, e, "forking");
        }
        if (pid == 0)
                netns_child(p[1], path);
        (void)close(p[1]);
        n = read(p[0], &e, sizeof(e));
        if (n == sizeof(e))
                (void)!read(p[0], msg, sizeof(msg) - 1);
        (void)close(p[0]);
        (void)waitpid(pid, &status, 0);
        if (n == sizeof(e))
                return pea_error_syscall(err, e, "creating network namespace '%s': %s", path, msg);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return pea_error_set(err, EIO, "creating network namespace '%s' failed", path);
        return 0;
}

int pea_network_netns_create(const char *run_root, const char *name, char **ret_path,
                             struct pea_error **err)
{
        _cleanup_free_ char *dir = xasprintf("%s/netns", run_root);
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (name[0] == '\0' || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return pea_error_set(err, EINVAL, "invalid network namespace name '%s'", name);
        r = pea_mkdir_p(dir, 0700, err);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        if (fd < 0 && errno == EEXIST)
                return pea_error_set(err, EEXIST, "network namespace '%s' already exists", name);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating '%s'", path);
        r = netns_make(path, err);
        if (r < 0) {
                (void)unlink(path);
                return r;
        }
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return 0;
}

int pea_network_netns_remove(const char *run_root, const char *name, struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/netns/%s", run_root, name);
        if (!pea_path_exists(path))
                return pea_error_set(err, ENOENT, "network namespace '%s' not found", name);
        if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
                return pea_error_syscall(err, errno, "unmounting '%s'", path);
        if (unlink(path) < 0 && errno != ENOENT)
                return pea_error_syscall(err, errno, "removing '%s'", path);
        return 0;
}
