/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "base.h"
#include "image/store-internal.h"

char *store_random_name(const char *prefix)
{
        unsigned char b[8] = {0};
        size_t got = 0;
        while (got < sizeof(b)) {
                ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        abort(); /* no randomness at all: as pea_generate_id() */
                got += (size_t)n;
        }
        return xasprintf("%s%02x%02x%02x%02x%02x%02x%02x%02x", prefix, b[0], b[1], b[2], b[3], b[4],
                         b[5], b[6], b[7]);
}

bool store_is_hex64(const char *s)
{
        return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

const char *store_chain_hex(const char *chain_id)
{
        const char *hex = chain_id ? startswith(chain_id, "sha256:") : NULL;
        return store_is_hex64(hex) ? hex : NULL;
}

/* Pre-order: gives every directory u+rwx so its entries can be removed. */
static int make_writable(const char *path, const struct stat *st, int flag,
                         struct FTW *ftw _unused_)
{
        if (flag == FTW_D || flag == FTW_DNR)
                (void)chmod(path, (st->st_mode & 07777) | S_IRWXU);
        return 0;
}

int store_rm_rf(const char *dir, const char *name, struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
        _cleanup_error_ struct pea_error *first = NULL;
        if (pea_rm_rf(path, &first) >= 0)
                return 0;
        /* A layer's directory may be 0555 (/proc, /sys in many images). */
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                (void)chmod(path, (st.st_mode & 07777) | S_IRWXU);
        (void)nftw(path, make_writable, 32, FTW_PHYS | FTW_MOUNT);
        return pea_rm_rf(path, err);
}

int store_trylock_entry(int dirfd, const char *name)
{
        _cleanup_close_ int fd =
                openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EINTR)
                        return -errno;
        }
        return TAKE_FD(fd);
}

/* Parses "+hh:mm" / "-hh:mm" / "Z" into seconds east of UTC. */
static bool parse_zone(const char *p, long *ret)
{
        int hh = 0, mm = 0, n = 0;
        if (streq(p, "Z") || streq(p, "z")) {
                *ret = 0;
                return true;
        }
        if ((p[0] != '+' && p[0] != '-') || sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2
            || p[1 + n] != '\0')
                return false;
        *ret = (p[0] == '-' ? -1L : 1L) * (hh * 3600L + mm * 60L);
        return true;
}

int64_t store_parse_time(const char *s)
{
        struct tm tm = {0};
        int n = 0;
        if (!s
            || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n)
                       != 6
            || n == 0)
                return 0;
        const char *p = s + n;
        int64_t frac = 0, scale = 1000000000;
        if (*p == '.') {
                for (p++; *p >= '0' && *p <= '9'; p++)
                        if (scale > 1) {
                                scale /= 10;
                                frac += (*p - '0') * scale;
                        }
        }
        long zone = 0;
        if (!parse_zone(p, &zone))
                return 0;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        time_t t = timegm(&tm);
        if (t == (time_t)-1)
                return 0;
        return ((int64_t)t - zone) * 1000000000LL + frac;
}
