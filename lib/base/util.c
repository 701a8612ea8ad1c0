/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <sys/utsname.h>

#include "base.h"

static _noreturn_ void oom(void)
{
        static const char msg[] = "Error: out of memory\n";
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xcalloc(size_t n, size_t m)
{
        void *p = calloc(n ? n : 1, m ? m : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);
        if (!q)
                oom();
        return q;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s);
        if (!p)
                oom();
        return p;
}

char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);
        if (!p)
                oom();
        return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
        char *p = NULL;
        if (vasprintf(&p, fmt, ap) < 0)
                oom();
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *p = xvasprintf(fmt, ap);
        va_end(ap);
        return p;
}

const char *startswith(const char *s, const char *prefix)
{
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

bool endswith(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

size_t strv_length(char *const *l)
{
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

char **strv_free(char **l)
{
        STRV_FOREACH(s, l)
                free(*s);
        free(l);
        return NULL;
}

void strv_freep(char ***p)
{
        *p = strv_free(*p);
}

void strv_consume(char ***l, char *s)
{
        size_t n = strv_length(*l);
        *l = xrealloc(*l, (n + 2) * sizeof(char *));
        (*l)[n] = s;
        (*l)[n + 1] = NULL;
}

void strv_push(char ***l, const char *s)
{
        strv_consume(l, xstrdup(s));
}

bool strv_contains(char *const *l, const char *s)
{
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

char *strv_join(char *const *l, const char *sep)
{
        size_t len = 1, seplen = strlen(sep);
        for (size_t i = 0; l && l[i]; i++)
                len += strlen(l[i]) + seplen;
        char *r = xmalloc(len), *p = r;
        for (size_t i = 0; l && l[i]; i++) {
                if (i > 0)
                        p = stpcpy(p, sep);
                p = stpcpy(p, l[i]);
        }
        *p = '\0';
        return r;
}

char **strv_split(const char *s, const char *seps)
{
        char **l = xcalloc(1, sizeof(char *));
        while (s && *s) {
                size_t n = strcspn(s, seps);
                if (n > 0)
                        strv_consume(&l, xstrndup(s, n));
                s += n;
                s += strspn(s, seps);
        }
        return l;
}

int safe_atoll(const char *s, long long *ret)
{
        if (!s || !*s || isspace((unsigned char)*s))
                return -EINVAL;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (!end || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atou32(const char *s, unsigned *ret)
{
        long long v = 0;
        int r = safe_atoll(s, &v);
        if (r < 0)
                return r;
        if (v < 0 || v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned)v;
        return 0;
}

char *strstrip(char *s)
{
        char *b = s;
        while (isspace((unsigned char)*b))
                b++;
        size_t n = strlen(b);
        while (n > 0 && isspace((unsigned char)b[n - 1]))
                n--;
        memmove(s, b, n);
        s[n] = '\0';
        return s;
}

const char *pea_host_arch(void)
{
        static const struct {
                const char *uname, *go;
        } map[] = {
                {"x86_64", "amd64"},    {"aarch64", "arm64"}, {"armv7l", "arm"},
                {"armv6l", "arm"},      {"i686", "386"},      {"i386", "386"},
                {"ppc64le", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"},
        };

        static char cached[65];
        if (cached[0])
                return cached;
        struct utsname u;
        const char *m = uname(&u) == 0 ? u.machine : "unknown";
        const char *r = m;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(map[i].uname, m))
                        r = map[i].go;
        snprintf(cached, sizeof(cached), "%s", r);
        return cached;
}
