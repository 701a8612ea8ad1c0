/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "base.h"
#include "monitor-internal.h"

/*
 * The exit record: <dir>/exit holds "<exit code> <finished at, unix ns>
 * <oom killed 0|1>\n", written atomically once the container is reaped, so a
 * later command can tell how it ended even when the state store was not
 * updated (the monitor was killed in between, or the database was busy).
 */

int monitor_exit_write(const char *dir, int exit_code, int64_t finished_at, bool oom)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *path = xasprintf("%s/exit", dir);
        _cleanup_free_ char *text =
                xasprintf("%d %" PRId64 " %d\n", exit_code, finished_at, oom ? 1 : 0);
        int r = pea_write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0600, &err);
        if (r < 0)
                syslog(LOG_ERR, "writing the exit file: %s", err->msg);
        return r;
}

int pea_monitor_read_exit(const char *run_root, const char *id, int *ret_exit_code,
                          int64_t *ret_finished_at, bool *ret_oom_killed, struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/containers/%s/exit", run_root, id);
        _cleanup_free_ char *text = NULL;
        int code = 0, oom = 0;
        int64_t at = 0;
        int r = pea_read_file_at(AT_FDCWD, path, 4096, &text, NULL, err);
        if (r < 0)
                return r;
        if (sscanf(text, "%d %" SCNd64 " %d", &code, &at, &oom) != 3)
                return pea_error_set(err, EBADMSG, "malformed exit file '%s'", path);
        *ret_exit_code = code;
        if (ret_finished_at)
                *ret_finished_at = at;
        if (ret_oom_killed)
                *ret_oom_killed = oom != 0;
        return 0;
}

/* The cgroup v2 path of pid ("0::/a/b"), under /sys/fs/cgroup. */
static char *cgroup_dir(pid_t pid)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)pid);
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, path, 65536, &text, NULL, NULL) < 0)
                return NULL;
        const char *line = strstr(text, "0::");
        if (!line)
                return NULL;
        line += 3;
        size_t n = strcspn(line, "\n");
        return xasprintf("/sys/fs/cgroup%.*s", (int)n, line);
}

int64_t monitor_oom_count(pid_t pid)
{
        _cleanup_free_ char *dir = cgroup_dir(pid);
        _cleanup_free_ char *text = NULL;
        if (!dir)
                return -1;
        _cleanup_free_ char *path = xasprintf("%s/memory.events", dir);
        if (pea_read_file_at(AT_FDCWD, path, 65536, &text, NULL, NULL) < 0)
                return -1;
        const char *p = strstr(text, "oom_kill ");
        long long n = 0;
        if (!p || sscanf(p + 9, "%lld", &n) != 1)
                return -1;
        return n;
}

/* Field 22 of /proc/<pid>/stat: the start time in clock ticks since boot; 0 when gone. */
static unsigned long long start_time(pid_t pid)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/stat", (int)pid);
        _cleanup_free_ char *text = NULL;
        unsigned long long t = 0;
        char state = 0;
        if (pea_read_file_at(AT_FDCWD, path, 4096, &text, NULL, NULL) < 0)
                return 0;
        const char *p = strrchr(text, ')');
        /* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
         * stime cutime cstime priority nice num_threads itrealvalue starttime */
        if (!p
            || sscanf(p + 2,
                      "%c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                      "%*s %*s %*s %llu",
                      &state, &t)
                       != 2)
                return 0;
        return state == 'Z' || state == 'X' ? 0 : t;
}

int monitor_pid_write(const char *dir)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *path = xasprintf("%s/monitor.pid", dir);
        _cleanup_free_ char *text = xasprintf("%d %llu\n", (int)getpid(), start_time(getpid()));
        return pea_write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0600, &err);
}

void monitor_pid_remove(const char *dir)
{
        _cleanup_free_ char *path = xasprintf("%s/monitor.pid", dir);
        (void)unlink(path);
}

int pea_monitor_is_alive(const char *run_root, const char *id, pid_t *ret_pid,
                         struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/containers/%s/monitor.pid", run_root, id);
        _cleanup_free_ char *text = NULL;
        int pid = 0;
        unsigned long long t = 0;
        int r = pea_read_file_at(AT_FDCWD, path, 4096, &text, NULL, err);
        if (r == -ENOENT) {
                pea_error_clear(err);
                return 0;
        }
        if (r < 0)
                return r;
        if (sscanf(text, "%d %llu", &pid, &t) != 2 || pid <= 0)
                return pea_error_set(err, EBADMSG, "malformed pid file '%s'", path);
        if (t == 0 || start_time(pid) != t)
                return 0;
        if (ret_pid)
                *ret_pid = pid;
        return 1;
}
