/* SPDX-License-Identifier: Apache-2.0 */
/* Event filters and the times and durations of --since, --until and --interval. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base.h"
#include "events.h"
#include "units.h"

static const char *const filter_keys[] = {
        "type", "event", "status", "container", "image", "label", "pod", "volume",
};

int pea_event_filters_check(char *const *filters, struct pea_error **err)
{
        STRV_FOREACH(f, (char **)filters) {
                size_t klen = strcspn(*f, "=");
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(filter_keys) && (*f)[klen] == '='; i++)
                        known = known
                                || (strlen(filter_keys[i]) == klen
                                    && strncmp(filter_keys[i], *f, klen) == 0);
                if (!known)
                        return pea_error_set(err, EINVAL, "'%s' is an invalid filter", *f);
        }
        return 0;
}

static bool id_or_name(const struct pea_event *e, const char *v)
{
        return (e->id && *v && startswith(e->id, v)) || streq_ptr(e->name, v);
}

static bool match_label(const struct pea_event *e, const char *v)
{
        _cleanup_free_ char *k = xstrdup(v);
        char *eq = strchr(k, '=');
        if (eq)
                *eq++ = '\0';
        const char *have = json_string_value(json_object_get(e->attrs, k));
        return have && (!eq || streq(have, eq));
}

static bool match_one(const struct pea_event *e, const char *f)
{
        const char *v = strchr(f, '=') + 1;
        const char *type = e->type ? e->type : "";
        if (startswith(f, "type="))
                return streq(type, v);
        if (startswith(f, "event=") || startswith(f, "status="))
                return streq_ptr(e->status, v);
        if (startswith(f, "container="))
                return streq(type, "container") && id_or_name(e, v);
        if (startswith(f, "pod="))
                return streq(type, "pod") && id_or_name(e, v);
        if (startswith(f, "volume="))
                return streq(type, "volume") && id_or_name(e, v);
        if (startswith(f, "image="))
                return streq_ptr(e->image, v) || (streq(type, "image") && id_or_name(e, v));
        if (startswith(f, "label="))
                return match_label(e, v);
        return false;
}

bool pea_event_match(const struct pea_event *e, char *const *filters)
{
        STRV_FOREACH(f, (char **)filters) {
                if (!strchr(*f, '='))
                        return false;
                size_t klen = strcspn(*f, "=");
                bool any = false;
                STRV_FOREACH(g, (char **)filters)
                        if (strncmp(*f, *g, klen + 1) == 0)
                                any = any || match_one(e, *g);
                if (!any)
                        return false;
        }
        return true;
}

/* The length of a unit at s, and its size in ns; 0 when there is none. */
static size_t duration_unit(const char *s, double *ret_mult)
{
        static const struct {
                const char *name;
                double mult;
        } units[] = {
                {"ns", 1},  {"us", 1e3}, {"µs", 1e3},   {"ms", 1e6},
                {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
        };

        size_t best = 0;
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                size_t n = strlen(units[i].name);
                if (n > best && strncmp(s, units[i].name, n) == 0) {
                        best = n;
                        *ret_mult = units[i].mult;
                }
        }
        return best;
}

int pea_duration_parse(const char *s, int64_t *ret_ns, struct pea_error **err)
{
        if (streq(s, "0")) {
                *ret_ns = 0;
                return 0;
        }
        const char *p = s;
        double total = 0;
        while (*p) {
                char *end = NULL;
                if (!(*p >= '0' && *p <= '9') && *p != '.')
                        break;
                double v = strtod(p, &end);
                double mult = 0;
                size_t n = end > p ? duration_unit(end, &mult) : 0;
                if (n == 0)
                        break;
                total += v * mult;
                p = end + n;
        }
        if (*p || p == s || total > 9.2e18)
                return pea_error_set(err, EINVAL, "invalid duration '%s'", s);
        *ret_ns = (int64_t)total;
        return 0;
}

/* "2025-05-20T10:00:00" or "2025-05-20" in UTC. */
static int parse_plain_date(const char *s, int64_t *ret)
{
        struct tm tm = {0};
        const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end || *end) {
                tm = (struct tm){0};
                end = strptime(s, "%Y-%m-%d", &tm);
        }
        if (!end || *end)
                return -EINVAL;
        *ret = (int64_t)timegm(&tm) * 1000000000;
        return 0;
}

/* "1700000000" or "1700000000.5". */
static int parse_unix(const char *s, int64_t *ret)
{
        const char *dot = strchr(s, '.');
        _cleanup_free_ char *sec = dot ? xstrndup(s, (size_t)(dot - s)) : xstrdup(s);
        long long n = 0;
        if (safe_atoll(sec, &n) < 0 || n < 0 || n > INT64_MAX / 1000000000)
                return -EINVAL;
        int64_t ns = 0, scale = 100000000;
        for (const char *p = dot ? dot + 1 : ""; *p; p++, scale /= 10) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                ns += (*p - '0') * scale;
        }
        *ret = (int64_t)n * 1000000000 + ns;
        return 0;
}

int pea_event_parse_time(const char *s, int64_t now_ns, int64_t *ret_ns, struct pea_error **err)
{
        int64_t t = 0;
        if (pea_time_parse_rfc3339(s, &t) >= 0 || parse_plain_date(s, &t) >= 0
            || parse_unix(s, &t) >= 0) {
                *ret_ns = t;
                return 0;
        }
        if (pea_duration_parse(s, &t, NULL) >= 0) {
                *ret_ns = now_ns - t;
                return 0;
        }
        return pea_error_set(err, EINVAL, "invalid time '%s'", s);
}
