/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <sys/socket.h>

#include "base.h"
#include "runtime-internal.h"

/*
 * Stage 1 of the container's setup: join the namespaces that have a path
 * (the user namespace first, the mount namespace last) and create the
 * others. A new user namespace gets its maps from the parent, which still
 * has the privileges in the outer namespace.
 */

static int write_proc_file(pid_t pid, const char *name, const char *text, struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, name);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        size_t len = strlen(text);
        ssize_t n = write(fd, text, len);
        if (n < 0)
                return pea_error_syscall(err, errno, "writing '%s'", path);
        if ((size_t)n != len)
                return pea_error_set(err, EIO, "short write to '%s'", path);
        return 0;
}

static char *idmap_text(const struct runtime_idmap *m, size_t n)
{
        _cleanup_free_ char *text = xstrdup("");
        for (size_t i = 0; i < n; i++) {
                char *t =
                        xasprintf("%s%u %u %u\n", text, m[i].container_id, m[i].host_id, m[i].size);
                free(text);
                text = t;
        }
        return TAKE_PTR(text);
}

int runtime_ns_write_maps(struct runtime_spec *s, pid_t pid, struct pea_error **err)
{
        _cleanup_free_ char *uids = idmap_text(s->uid_mappings, s->n_uid_mappings);
        _cleanup_free_ char *gids = idmap_text(s->gid_mappings, s->n_gid_mappings);
        int r = write_proc_file(pid, "uid_map", uids, err);
        if (r < 0)
                return r;
        _cleanup_error_ struct pea_error *first = NULL;
        r = write_proc_file(pid, "gid_map", gids, &first);
        if (r != -EPERM)
                return r < 0 ? pea_error_set(err, first->code, "%s", first->msg) : 0;
        /* Without CAP_SETGID outside, gid_map needs setgroups denied first. */
        r = write_proc_file(pid, "setgroups", "deny", err);
        if (r < 0)
                return r;
        return write_proc_file(pid, "gid_map", gids, err);
}

static int join_ns(struct runtime_ns *ns, int fd, struct pea_error **err)
{
        if (setns(fd, ns->type) < 0)
                return pea_error_syscall(err, errno, "joining %s namespace '%s'",
                                         runtime_ns_type_to_string(ns->type), ns->path);
        return 0;
}

static int open_ns_fds(struct runtime_spec *s, int *fds, struct pea_error **err)
{
        for (size_t i = 0; i < s->n_namespaces; i++) {
                fds[i] = -EBADF;
                if (!s->namespaces[i].path)
                        continue;
                fds[i] = open(s->namespaces[i].path, O_RDONLY | O_CLOEXEC);
                if (fds[i] < 0)
                        return pea_error_syscall(err, errno, "opening %s namespace '%s'",
                                                 runtime_ns_type_to_string(s->namespaces[i].type),
                                                 s->namespaces[i].path);
        }
        return 0;
}

static void become_root(struct runtime_spec *s)
{
        /* Root in the new namespace, when 0 is mapped; the final ids come later. */
        bool uid0 = false, gid0 = false;
        for (size_t i = 0; i < s->n_uid_mappings; i++)
                uid0 = uid0 || s->uid_mappings[i].container_id == 0;
        for (size_t i = 0; i < s->n_gid_mappings; i++)
                gid0 = gid0 || s->gid_mappings[i].container_id == 0;
        if (gid0)
                (void)setresgid(0, 0, 0);
        if (uid0)
                (void)setresuid(0, 0, 0);
}

static int enter_user_ns(struct runtime_spec *s, int sync, const int *fds, struct pea_error **err)
{
        for (size_t i = 0; i < s->n_namespaces; i++) {
                struct runtime_ns *ns = &s->namespaces[i];
                if (ns->type != CLONE_NEWUSER)
                        continue;
                if (ns->path)
                        return join_ns(ns, fds[i], err);
                if (unshare(CLONE_NEWUSER) < 0)
                        return pea_error_syscall(err, errno, "creating a user namespace");
                int r = runtime_sync_send(sync, SYNC_USERNS, 0, -EBADF, err);
                if (r < 0)
                        return r;
                r = runtime_sync_expect(sync, SYNC_USERNS_DONE, NULL, err);
                if (r < 0)
                        return r;
                become_root(s);
        }
        return 0;
}

static bool creates_user_ns(const struct runtime_spec *s)
{
        for (size_t i = 0; i < s->n_namespaces; i++)
                if (s->namespaces[i].type == CLONE_NEWUSER && !s->namespaces[i].path)
                        return true;
        return false;
}

/* Joins the namespaces given by path, the mount namespace last (it changes our root). */
static int join_paths(struct runtime_spec *s, const int *fds, struct pea_error **err)
{
        int r = 0;
        for (int pass = 0; pass < 2 && r >= 0; pass++)
                for (size_t i = 0; i < s->n_namespaces && r >= 0; i++) {
                        struct runtime_ns *ns = &s->namespaces[i];
                        if (ns->type == CLONE_NEWUSER || !ns->path
                            || (ns->type == CLONE_NEWNS) != pass)
                                continue;
                        r = join_ns(ns, fds[i], err);
                }
        return r;
}

/*
 * A new user namespace comes after joining the others (their owner is ours:
 * from inside the new one we could no longer join them), a joined one first.
 */
int runtime_ns_enter(struct runtime_spec *s, int sync, struct pea_error **err)
{
        _cleanup_free_ int *fds = xcalloc(s->n_namespaces + 1, sizeof(int));
        int r = open_ns_fds(s, fds, err);
        bool user_last = creates_user_ns(s);
        if (r >= 0 && user_last)
                r = join_paths(s, fds, err);
        if (r >= 0)
                r = enter_user_ns(s, sync, fds, err);
        if (r >= 0 && !user_last)
                r = join_paths(s, fds, err);
        int unshare_flags = 0;
        for (size_t i = 0; i < s->n_namespaces; i++) {
                if (s->namespaces[i].type != CLONE_NEWUSER && !s->namespaces[i].path)
                        unshare_flags |= s->namespaces[i].type;
                closep(&fds[i]);
        }
        if (r < 0)
                return r;
        if (unshare_flags && unshare(unshare_flags) < 0)
                return pea_error_syscall(err, errno, "creating namespaces");
        if (unshare_flags & CLONE_NEWNET)
                runtime_ns_loopback_up();
        return 0;
}

void runtime_ns_loopback_up(void)
{
        _cleanup_close_ int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return;
        struct ifreq ifr = {0};
        memcpy(ifr.ifr_name, "lo", 3);
        if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
                return;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
                pea_debug("bringing up 'lo': %s, ignoring", strerror(errno));
}
