/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "cleanup.h"

/* Podman's --log-level names. */
enum pea_log_level {
        PEA_LOG_ERROR,
        PEA_LOG_WARN,
        PEA_LOG_INFO,
        PEA_LOG_DEBUG,
        PEA_LOG_TRACE,
        _PEA_LOG_LEVEL_MAX,
        _PEA_LOG_LEVEL_INVALID = -EINVAL,
};

/* Returns the level for a name (also "fatal"/"panic" as error), or -EINVAL. */
int pea_log_level_from_string(const char *s);
const char *pea_log_level_to_string(enum pea_log_level l);
void pea_log_set_level(enum pea_log_level l);
enum pea_log_level pea_log_get_level(void);

/* Writes to stderr as podman does: time="..." level=warning msg="...". */
void pea_log(enum pea_log_level l, const char *fmt, ...) _printf_(2, 3);

#define pea_debug(...) pea_log(PEA_LOG_DEBUG, __VA_ARGS__)
