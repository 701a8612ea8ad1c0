/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "cleanup.h"

/*
 * The one error type. code is a positive errno; msg is the message chain,
 * outermost context first ("pulling 'x': fetching manifest: 401 Unauthorized").
 * Fallible functions return >= 0 on success or -code on failure and take
 * struct pea_error **err last; on failure *err is set exactly once.
 */
struct pea_error {
        int code;
        char *msg;
};

/* Sets *err (if err is non-NULL) and returns -code. code <= 0 becomes EIO. */
int pea_error_set(struct pea_error **err, int code, const char *fmt, ...) _printf_(3, 4);

/* Like pea_error_set, and appends ": strerror(code)". */
int pea_error_syscall(struct pea_error **err, int code, const char *fmt, ...) _printf_(3, 4);

/* Prefixes context to an error already set; returns -code. */
int pea_error_wrap(struct pea_error **err, const char *fmt, ...) _printf_(2, 3);

/* Returns -code of a set error, or -EIO when none was set (a bug). */
int pea_error_code(struct pea_error **err);

struct pea_error *pea_error_free(struct pea_error *e);

/* Releases a deliberately ignored error. */
void pea_error_clear(struct pea_error **err);

static inline void pea_error_freep(struct pea_error **e)
{
        pea_error_clear(e);
}

#define _cleanup_error_ _cleanup_(pea_error_freep)
