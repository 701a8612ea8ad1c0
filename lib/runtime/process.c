/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/close_range.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "base.h"
#include "runtime-internal.h"

/* The attributes of the container's process, set in stage 2. */

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int runtime_rlimits_apply(struct runtime_spec *s, struct pea_error **err)
{
        for (size_t i = 0; i < s->n_rlimits; i++) {
                struct runtime_rlimit *l = &s->rlimits[i];
                struct rlimit rl = {.rlim_cur = l->soft, .rlim_max = l->hard};
                if (setrlimit(l->resource, &rl) < 0)
                        return pea_error_syscall(err, errno, "setting rlimit '%s'", l->name);
        }
        return 0;
}

static bool setgroups_denied(void)
{
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, "/proc/self/setgroups", 64, &text, NULL, NULL) < 0)
                return false;
        return streq(strstrip(text), "deny");
}

int runtime_user_apply(struct runtime_spec *s, struct pea_error **err)
{
        if (!setgroups_denied() && setgroups(s->n_additional_gids, s->additional_gids) < 0)
                return pea_error_syscall(err, errno, "setting the additional gids");
        if (setresgid(s->gid, s->gid, s->gid) < 0)
                return pea_error_syscall(err, errno, "setting gid %u", (unsigned)s->gid);
        if (setresuid(s->uid, s->uid, s->uid) < 0)
                return pea_error_syscall(err, errno, "setting uid %u", (unsigned)s->uid);
        return 0;
}

int runtime_env_apply(struct runtime_spec *s)
{
        if (clearenv() != 0)
                return -ENOMEM;
        STRV_FOREACH(e, s->env)
                if (strchr(*e, '=') && putenv(*e) != 0)
                        return -errno;
        return 0;
}

int runtime_oom_score_adj_apply(struct runtime_spec *s, struct pea_error **err)
{
        if (!s->has_oom_score_adj)
                return 0;
        _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        _cleanup_free_ char *text = xasprintf("%d", s->oom_score_adj);
        if (fd < 0 || write(fd, text, strlen(text)) < 0)
                return pea_error_syscall(err, errno, "setting oom_score_adj %d", s->oom_score_adj);
        return 0;
}

/* 0 when path is an executable file, else -errno (EACCES for directories). */
static int check_executable(const char *path)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EACCES;
        if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
                return -errno;
        return 0;
}

int runtime_find_executable(const char *name, char **ret, struct pea_error **err)
{
        if (strchr(name, '/')) {
                int r = check_executable(name);
                if (r < 0)
                        return runtime_exec_error(-r, name, err);
                *ret = xstrdup(name);
                return 0;
        }
        const char *path = getenv("PATH");
        _cleanup_strv_ char **dirs = strv_split(path ? path : DEFAULT_PATH, ":");
        bool denied = false;
        STRV_FOREACH(d, dirs) {
                _cleanup_free_ char *p = xasprintf("%s/%s", *d, name);
                int r = check_executable(p);
                if (r == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
                denied = denied || r == -EACCES || r == -EPERM;
        }
        return runtime_exec_error(denied ? EACCES : ENOENT, name, err);
}

int runtime_exec_error(int code, const char *name, struct pea_error **err)
{
        if (code == ENOENT || code == ENOTDIR)
                return pea_error_set(err, ENOENT,
                                     "executable file '%s' not found%s: %s: OCI runtime attempted "
                                     "to invoke a command that was not found",
                                     name, strchr(name, '/') ? "" : " in $PATH", strerror(ENOENT));
        return pea_error_set(err, code,
                             "executable file '%s' cannot be run: %s: OCI permission denied", name,
                             strerror(code));
}

static int cloexec_from(int first)
{
        if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
                return 0;
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        if (!d)
                return -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                long long fd;
                if (safe_atoll(de->d_name, &fd) < 0 || fd < first || fd == dirfd(d))
                        continue;
                (void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        }
        return 0;
}

int runtime_fds_prepare(unsigned preserve_fds, struct pea_error **err)
{
        for (unsigned i = 0; i < preserve_fds; i++)
                if (fcntl((int)(3 + i), F_SETFD, 0) < 0 && errno != EBADF)
                        return pea_error_syscall(err, errno, "preserving fd %u", 3 + i);
        int r = cloexec_from((int)(3 + preserve_fds));
        if (r < 0)
                return pea_error_syscall(err, r, "closing the runtime's fds");
        return 0;
}

void runtime_signals_reset(void)
{
        sigset_t none;
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
}
