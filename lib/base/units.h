/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

/*
 * Human-readable durations, sizes and times as podman prints them (Docker's
 * go-units and Go's time package), for CREATED and SIZE columns.
 */

/*
 * units.HumanDuration: "Less than a second", "1 second", "5 seconds", "About a
 * minute", "3 minutes", "About an hour", "5 hours", "3 days", "2 weeks", "4
 * months", "2 years". ns < 0 counts as 0. Never NULL.
 */
char *pea_human_duration(int64_t ns);

/* podman's "CREATED": pea_human_duration(now - then) + " ago"; times in unix ns. */
char *pea_human_since(int64_t then_ns, int64_t now_ns);

/*
 * units.HumanSizeWithPrecision(size, 3): decimal units, three significant
 * digits, "%g" style: 0 -> "0 B", 10240 -> "10.2 kB", 2141507 -> "2.14 MB".
 */
char *pea_human_size(double bytes);

/* Binary units for progress output: "512 B", "1.5 KiB", "36.4 MiB". */
char *pea_human_size_binary(double bytes);

/* Go's time.RFC3339Nano in UTC: "2025-05-20T00:00:00Z", "2025-05-20T00:00:00.5Z". */
char *pea_time_rfc3339(int64_t ns);

/* Go's time.Time.String() in UTC: "2025-05-20 00:00:00 +0000 UTC". */
char *pea_time_go_string(int64_t ns);

/* The current time in unix ns (CLOCK_REALTIME). */
int64_t pea_now_ns(void);

/*
 * Parses an RFC 3339 time ("2025-05-20T00:00:00Z", "...T10:00:00.5+02:00")
 * to unix ns; -EINVAL when malformed.
 */
int pea_time_parse_rfc3339(const char *s, int64_t *ret);
