/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "cleanup.h"

/* Allocation that aborts on OOM: the one documented exception to "lib never exits". */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

/* Returns the rest of s after prefix, or NULL. */
const char *startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);

/* NULL-terminated string vectors. */
size_t strv_length(char *const *l);
char **strv_free(char **l);
/* Appends a copy of s. */
void strv_push(char ***l, const char *s);
/* Appends s, taking ownership. */
void strv_consume(char ***l, char *s);
bool strv_contains(char *const *l, const char *s);
char *strv_join(char *const *l, const char *sep);
/* Splits s on any character of seps, dropping empty fields. */
char **strv_split(const char *s, const char *seps);

/* Parses a base-10 integer strictly (no trailing junk); -EINVAL or -ERANGE. */
int safe_atoll(const char *s, long long *ret);
int safe_atou32(const char *s, unsigned *ret);

/* Trims leading and trailing white space in place; returns s. */
char *strstrip(char *s);

/* The host's architecture in Go/OCI names (amd64, arm64, arm, 386, ppc64le, s390x, riscv64). */
const char *pea_host_arch(void);
