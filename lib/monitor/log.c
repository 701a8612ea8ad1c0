/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/uio.h>

#include "base.h"
#include "monitor-internal.h"

/*
 * The k8s-file log, as conmon writes it for podman: one record per line,
 * "<RFC3339Nano> <stream> <F|P> <text>\n", F for a full line and P for a
 * partial one (a read that ended without a newline). Over max_size the file
 * is truncated and writing goes on, as conmon does.
 */

int64_t monitor_now_ns(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

char *monitor_rfc3339_nano(int64_t ns)
{
        time_t sec = (time_t)(ns / 1000000000);
        long nsec = (long)(ns % 1000000000);
        struct tm tm;
        char date[32], zone[8];
        if (!localtime_r(&sec, &tm))
                return xstrdup("1970-01-01T00:00:00.000000000+00:00");
        (void)strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        (void)strftime(zone, sizeof(zone), "%z", &tm);
        /* +hhmm -> +hh:mm */
        return xasprintf("%s.%09ld%.3s:%.2s", date, nsec, zone, zone + 3);
}

int monitor_log_open(struct monitor_log *l, const char *path, uint64_t max_size,
                     struct pea_error **err)
{
        struct stat st;
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening log file '%s'", path);
        if (fstat(fd, &st) < 0) {
                int e = errno;
                (void)close(fd);
                return pea_error_syscall(err, e, "checking log file '%s'", path);
        }
        *l = (struct monitor_log){.fd = fd, .max_size = max_size, .size = (uint64_t)st.st_size};
        return 0;
}

void monitor_log_close(struct monitor_log *l)
{
        if (l->fd >= 0)
                (void)close(l->fd);
        l->fd = -1;
}

static void write_full(struct monitor_log *l, const struct iovec *iov, int n, size_t total)
{
        if (l->max_size > 0 && l->size + total > l->max_size) {
                if (ftruncate(l->fd, 0) < 0)
                        syslog(LOG_WARNING, "truncating the log: %m");
                l->size = 0;
        }
        ssize_t w = writev(l->fd, iov, n);
        if (w < 0) {
                syslog(LOG_WARNING, "writing the log: %m");
                return;
        }
        l->size += (uint64_t)w;
}

static void write_record(struct monitor_log *l, const char *prefix, const char *text, size_t len,
                         bool full)
{
        char tail[] = " F ";
        tail[1] = full ? 'F' : 'P';
        struct iovec iov[4] = {
                {(void *)prefix, strlen(prefix)},
                {tail, 3},
                {(void *)text, len},
                {(void *)"\n", 1},
        };
        write_full(l, iov, 4, iov[0].iov_len + 3 + len + 1);
}

void monitor_log_write(struct monitor_log *l, const char *stream, const char *buf, size_t len)
{
        if (l->fd < 0 || len == 0)
                return;
        _cleanup_free_ char *ts = monitor_rfc3339_nano(monitor_now_ns());
        _cleanup_free_ char *prefix = xasprintf("%s %s", ts, stream);
        while (len > 0) {
                const char *nl = memchr(buf, '\n', len);
                size_t n = nl ? (size_t)(nl - buf) : len;
                write_record(l, prefix, buf, n, nl != NULL);
                if (!nl)
                        break;
                buf += n + 1;
                len -= n + 1;
        }
}
