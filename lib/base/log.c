/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "base.h"

static enum pea_log_level current_level = PEA_LOG_WARN;

static const char *const level_names[_PEA_LOG_LEVEL_MAX] = {
        [PEA_LOG_ERROR] = "error", [PEA_LOG_WARN] = "warning", [PEA_LOG_INFO] = "info",
        [PEA_LOG_DEBUG] = "debug", [PEA_LOG_TRACE] = "trace",
};

int pea_log_level_from_string(const char *s)
{
        if (!s)
                return -EINVAL;
        if (streq(s, "fatal") || streq(s, "panic"))
                return PEA_LOG_ERROR;
        if (streq(s, "warn"))
                return PEA_LOG_WARN;
        for (int i = 0; i < _PEA_LOG_LEVEL_MAX; i++)
                if (streq(s, level_names[i]))
                        return i;
        return -EINVAL;
}

const char *pea_log_level_to_string(enum pea_log_level l)
{
        if (l < 0 || l >= _PEA_LOG_LEVEL_MAX)
                return NULL;
        return level_names[l];
}

void pea_log_set_level(enum pea_log_level l)
{
        current_level = l;
}

enum pea_log_level pea_log_get_level(void)
{
        return current_level;
}

void pea_log(enum pea_log_level l, const char *fmt, ...)
{
        if (l > current_level)
                return;
        int saved = errno;
        char ts[64] = "";
        struct timespec now;
        struct tm tm;
        if (clock_gettime(CLOCK_REALTIME, &now) == 0 && gmtime_r(&now.tv_sec, &tm))
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *m = xvasprintf(fmt, ap);
        va_end(ap);
        fprintf(stderr, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level_names[l], m);
        errno = saved;
}
