/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl (GnuTLS flavour), loaded on first use (see lazy.h). Every libcurl
 * function the code base calls is defined here with the prototype of
 * <curl/curl.h> and forwards to the real one; contrib/scripts/
 * check-lazy-symbols fails when a new one is used without a stub here. If
 * libcurl-gnutls.so.4 cannot be loaded: curl_easy_init(), curl_share_init(),
 * curl_url() and curl_slist_append() return NULL, CURLcode functions
 * CURLE_FAILED_INIT, CURLSHcode ones CURLSHE_NOT_BUILT_IN, CURLUcode ones
 * CURLUE_OUT_OF_MEMORY, curl_easy_strerror() a fixed message.
 *
 * The variadic setopt/getinfo functions take exactly one more argument, whose
 * type class the option number encodes (CURLOPTTYPE_* ranges for setopt; a
 * pointer for getinfo): it is read with va_arg as that type and passed on.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>

/* Plain prototypes: typecheck-gcc.h would turn curl_easy_setopt into a macro. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "lazy.h"

static struct pea_lazy_lib libcurl = PEA_LAZY_LIB("libcurl-gnutls.so.4");

#define CURL_UNAVAILABLE "libcurl-gnutls.so.4 is not available"

/* A generic function pointer type, for CURLOPTTYPE_FUNCTIONPOINT values. */
typedef void (*pea_curl_fn)(void);

PEA_LAZY_FN(libcurl, CURLcode, curl_global_init, (long flags), (flags), CURLE_FAILED_INIT)
PEA_LAZY_FN(libcurl, CURL *, curl_easy_init, (void), (), NULL)
PEA_LAZY_VOID(libcurl, curl_easy_cleanup, (CURL * curl), (curl))
PEA_LAZY_VOID(libcurl, curl_easy_reset, (CURL * curl), (curl))
PEA_LAZY_FN(libcurl, CURLcode, curl_easy_perform, (CURL * curl), (curl), CURLE_FAILED_INIT)
PEA_LAZY_FN(libcurl, const char *, curl_easy_strerror, (CURLcode code), (code), CURL_UNAVAILABLE)
PEA_LAZY_FN(libcurl, char *, curl_easy_escape, (CURL * curl, const char *string, int length),
            (curl, string, length), NULL)
PEA_LAZY_VOID(libcurl, curl_free, (void *p), (p))
PEA_LAZY_FN(libcurl, CURLSH *, curl_share_init, (void), (), NULL)
PEA_LAZY_FN(libcurl, CURLSHcode, curl_share_cleanup, (CURLSH * share), (share),
            CURLSHE_NOT_BUILT_IN)
PEA_LAZY_FN(libcurl, struct curl_slist *, curl_slist_append,
            (struct curl_slist * list, const char *data), (list, data), NULL)
PEA_LAZY_VOID(libcurl, curl_slist_free_all, (struct curl_slist * list), (list))
PEA_LAZY_FN(libcurl, CURLU *, curl_url, (void), (), NULL)
PEA_LAZY_VOID(libcurl, curl_url_cleanup, (CURLU * handle), (handle))
PEA_LAZY_FN(libcurl, CURLUcode, curl_url_set,
            (CURLU * handle, CURLUPart what, const char *part, unsigned int flags),
            (handle, what, part, flags), CURLUE_OUT_OF_MEMORY)
PEA_LAZY_FN(libcurl, CURLUcode, curl_url_get,
            (CURLU * handle, CURLUPart what, char **part, unsigned int flags),
            (handle, what, part, flags), CURLUE_OUT_OF_MEMORY)

#define LAZY_REAL(name, fail)                                                   \
        static __typeof__(&name) real_##name;                                   \
        __typeof__(&name) fn = __atomic_load_n(&real_##name, __ATOMIC_ACQUIRE); \
        if (!fn) {                                                              \
                fn = (__typeof__(&name))pea_lazy_sym(&libcurl, #name);          \
                if (!fn)                                                        \
                        return fail;                                            \
                __atomic_store_n(&real_##name, fn, __ATOMIC_RELEASE);           \
        }

CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
        LAZY_REAL(curl_easy_setopt, CURLE_FAILED_INIT);
        CURLcode r;
        va_list ap;

        va_start(ap, option);
        if (option < CURLOPTTYPE_OBJECTPOINT) {
                long v = va_arg(ap, long);
                r = fn(curl, option, v);
        } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
                void *v = va_arg(ap, void *);
                r = fn(curl, option, v);
        } else if (option < CURLOPTTYPE_OFF_T) {
                pea_curl_fn v = va_arg(ap, pea_curl_fn);
                r = fn(curl, option, v);
        } else if (option < CURLOPTTYPE_BLOB) {
                curl_off_t v = va_arg(ap, curl_off_t);
                r = fn(curl, option, v);
        } else {
                struct curl_blob *v = va_arg(ap, struct curl_blob *);
                r = fn(curl, option, v);
        }
        va_end(ap);
        return r;
}

/* Every CURLINFO_* type (string, long, double, slist, ptr, socket, off_t)
 * takes a pointer to where the value is stored. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
        LAZY_REAL(curl_easy_getinfo, CURLE_FAILED_INIT);
        va_list ap;

        va_start(ap, info);
        void *p = va_arg(ap, void *);
        va_end(ap);
        return fn(curl, info, p);
}

/* libcurl reads CURLSHOPT_SHARE/UNSHARE as int (a curl_lock_data), the lock
 * functions as function pointers and CURLSHOPT_USERDATA as a pointer. */
CURLSHcode curl_share_setopt(CURLSH *share, CURLSHoption option, ...)
{
        LAZY_REAL(curl_share_setopt, CURLSHE_NOT_BUILT_IN);
        CURLSHcode r;
        va_list ap;

        va_start(ap, option);
        switch (option) {
        case CURLSHOPT_SHARE:
        case CURLSHOPT_UNSHARE: {
                int v = va_arg(ap, int);
                r = fn(share, option, v);
                break;
        }
        case CURLSHOPT_LOCKFUNC:
        case CURLSHOPT_UNLOCKFUNC: {
                pea_curl_fn v = va_arg(ap, pea_curl_fn);
                r = fn(share, option, v);
                break;
        }
        default: {
                void *v = va_arg(ap, void *);
                r = fn(share, option, v);
                break;
        }
        }
        va_end(ap);
        return r;
}
