/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "base.h"

static int error_setv(struct pea_error **err, int code, bool with_errno, const char *fmt,
                      va_list ap)
{
        if (code < 0)
                code = -code;
        if (code == 0)
                code = EIO;
        if (!err)
                return -code;
        if (*err) {
                /* Set twice is a bug: keep the first, which is the cause. */
                pea_log(PEA_LOG_DEBUG, "error already set, dropping a second one");
                return -code;
        }
        _cleanup_free_ char *m = xvasprintf(fmt, ap);
        struct pea_error *e = xmalloc(sizeof(*e));
        e->code = code;
        e->msg = with_errno ? xasprintf("%s: %s", m, strerror(code)) : TAKE_PTR(m);
        *err = e;
        return -code;
}

int pea_error_set(struct pea_error **err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_setv(err, code, false, fmt, ap);
        va_end(ap);
        return r;
}

int pea_error_syscall(struct pea_error **err, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = error_setv(err, code, true, fmt, ap);
        va_end(ap);
        return r;
}

int pea_error_wrap(struct pea_error **err, const char *fmt, ...)
{
        if (!err || !*err)
                return -EIO;
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *ctx = xvasprintf(fmt, ap);
        va_end(ap);
        char *m = xasprintf("%s: %s", ctx, (*err)->msg);
        free((*err)->msg);
        (*err)->msg = m;
        return -(*err)->code;
}

int pea_error_code(struct pea_error **err)
{
        if (!err || !*err)
                return -EIO;
        return -(*err)->code;
}

struct pea_error *pea_error_free(struct pea_error *e)
{
        if (!e)
                return NULL;
        free(e->msg);
        free(e);
        return NULL;
}

void pea_error_clear(struct pea_error **err)
{
        if (err && *err)
                *err = pea_error_free(*err);
}
