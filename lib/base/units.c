/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "units.h"
#include "util.h"

#define NS_PER_SEC  1000000000LL
#define NS_PER_HOUR (3600LL * NS_PER_SEC)

char *pea_human_duration(int64_t ns)
{
        if (ns < 0)
                ns = 0;
        long long seconds = ns / NS_PER_SEC;
        long long minutes = seconds / 60;
        /* time.Duration.Round(time.Hour): half away from zero */
        long long hours = (ns + NS_PER_HOUR / 2) / NS_PER_HOUR;
        if (seconds < 1)
                return xstrdup("Less than a second");
        if (seconds == 1)
                return xstrdup("1 second");
        if (seconds < 60)
                return xasprintf("%lld seconds", seconds);
        if (minutes == 1)
                return xstrdup("About a minute");
        if (minutes < 60)
                return xasprintf("%lld minutes", minutes);
        if (hours == 1)
                return xstrdup("About an hour");
        if (hours < 48)
                return xasprintf("%lld hours", hours);
        if (hours < 24 * 7 * 2)
                return xasprintf("%lld days", hours / 24);
        if (hours < 24 * 30 * 2)
                return xasprintf("%lld weeks", hours / 24 / 7);
        if (hours < 24 * 365 * 2)
                return xasprintf("%lld months", hours / 24 / 30);
        return xasprintf("%lld years", ns / NS_PER_HOUR / 24 / 365);
}

char *pea_human_since(int64_t then_ns, int64_t now_ns)
{
        char *d = pea_human_duration(now_ns - then_ns);
        char *s = xasprintf("%s ago", d);
        free(d);
        return s;
}

static const char *const decimal_units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
static const char *const binary_units[] = {"B",   "KiB", "MiB", "GiB", "TiB",
                                           "PiB", "EiB", "ZiB", "YiB"};

char *pea_human_size(double bytes)
{
        size_t i = 0;
        while (bytes >= 1000.0 && i + 1 < ELEMENTSOF(decimal_units)) {
                bytes /= 1000.0;
                i++;
        }
        return xasprintf("%.3g %s", bytes, decimal_units[i]);
}

char *pea_human_size_binary(double bytes)
{
        size_t i = 0;
        while (bytes >= 1024.0 && i + 1 < ELEMENTSOF(binary_units)) {
                bytes /= 1024.0;
                i++;
        }
        if (i == 0)
                return xasprintf("%.0f %s", bytes, binary_units[i]);
        return xasprintf("%.1f %s", bytes, binary_units[i]);
}

/* Splits ns into seconds and a non-negative nanosecond part (floor division). */
static void split_ns(int64_t ns, time_t *ret_sec, long *ret_nsec)
{
        long long sec = ns / NS_PER_SEC;
        long long rest = ns % NS_PER_SEC;
        if (rest < 0) {
                rest += NS_PER_SEC;
                sec--;
        }
        *ret_sec = (time_t)sec;
        *ret_nsec = (long)rest;
}

/* ".5", ".000123": Go's fractional seconds without trailing zeros; "" for 0. */
static void fraction(long nsec, char *buf, size_t size)
{
        buf[0] = '\0';
        if (nsec <= 0)
                return;
        (void)snprintf(buf, size, ".%09ld", nsec);
        size_t n = strlen(buf);
        while (n > 1 && buf[n - 1] == '0')
                buf[--n] = '\0';
}

char *pea_time_rfc3339(int64_t ns)
{
        time_t sec;
        long nsec;
        split_ns(ns, &sec, &nsec);
        struct tm tm = {0};
        if (!gmtime_r(&sec, &tm))
                return xstrdup("0001-01-01T00:00:00Z");
        char frac[32] = "";
        fraction(nsec, frac, sizeof(frac));
        return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

char *pea_time_go_string(int64_t ns)
{
        time_t sec;
        long nsec;
        split_ns(ns, &sec, &nsec);
        struct tm tm = {0};
        if (!gmtime_r(&sec, &tm))
                return xstrdup("0001-01-01 00:00:00 +0000 UTC");
        char frac[32] = "";
        fraction(nsec, frac, sizeof(frac));
        return xasprintf("%04d-%02d-%02d %02d:%02d:%02d%s +0000 UTC", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

int64_t pea_now_ns(void)
{
        struct timespec ts = {0};
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* "+hh:mm", "-hh:mm" or "Z" (also lowercase): the offset in seconds. */
static int parse_zone(const char *p, long *ret)
{
        if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
                *ret = 0;
                return 0;
        }
        int hh = 0, mm = 0, n = 0;
        if ((p[0] != '+' && p[0] != '-') || sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2
            || p[1 + n] != '\0' || hh > 23 || mm > 59)
                return -EINVAL;
        *ret = (p[0] == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
        return 0;
}

int pea_time_parse_rfc3339(const char *s, int64_t *ret)
{
        struct tm tm = {0};
        const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
        if (!p)
                return -EINVAL;
        long long frac = 0;
        if (*p == '.') {
                int digits = 0;
                for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                        if (digits < 9)
                                frac = frac * 10 + (*p - '0');
                if (digits == 0)
                        return -EINVAL;
                for (; digits < 9; digits++)
                        frac *= 10;
        }
        long zone = 0;
        if (parse_zone(p, &zone) < 0)
                return -EINVAL;
        time_t t = timegm(&tm);
        *ret = ((int64_t)t - zone) * NS_PER_SEC + frac;
        return 0;
}
