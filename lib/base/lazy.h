/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <stdbool.h>

/*
 * Lazy loading of heavy shared libraries (libarchive, libcurl-gnutls).
 *
 * pea is not linked against them: lazy-archive.c and lazy-curl.c define every
 * function the code base calls, with the real headers' prototypes, and each
 * stub forwards to the real function looked up here on first use. Commands
 * that never touch a tarball or the network then start without loading (and
 * running the constructors of) some 35 shared libraries.
 *
 * Failure path: if the library cannot be loaded or lacks a symbol, pea never
 * aborts. pea_lazy_sym() logs one debug line per library and returns NULL;
 * the stub then returns the library's own failure value (NULL from
 * archive_read_new() or curl_easy_init(), ARCHIVE_FATAL, CURLE_FAILED_INIT,
 * CURLUE_OUT_OF_MEMORY...) or does nothing for void functions, so callers
 * report an ordinary error ("cannot create archive reader" and the like).
 */

struct pea_lazy_lib {
        const char *soname;  /* e.g. "libarchive.so.13" */
        void *handle;        /* set once by pea_lazy_sym(); NULL on failure */
        int loaded;          /* 1 once dlopen() has been tried */
        pthread_once_t once; /* guards the single dlopen() */
};

#define PEA_LAZY_LIB(so)                                                               \
        {                                                                              \
                .soname = (so), .handle = NULL, .loaded = 0, .once = PTHREAD_ONCE_INIT \
        }

/* Returns the address of `name` in `lib` (dlopen'ed RTLD_NOW|RTLD_LOCAL on
 * first use, once per process), or NULL after logging why at debug level. */
void *pea_lazy_sym(struct pea_lazy_lib *lib, const char *name);

/* Whether `lib` can be loaded (dlopen'ing it if not done yet). */
bool pea_lazy_available(struct pea_lazy_lib *lib);

/*
 * Defines `name` with the prototype its header declared (typeof checks it)
 * forwarding to the real function. `params` is the parenthesised parameter
 * list, `args` the parenthesised argument list, `fail` the value returned when
 * the library is unavailable.
 */
#define PEA_LAZY_FN(lib, ret, name, params, args, fail)                          \
        ret name params                                                          \
        {                                                                        \
                static __typeof__(&name) real;                                   \
                __typeof__(&name) fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE); \
                if (!fn) {                                                       \
                        fn = (__typeof__(&name))pea_lazy_sym(&(lib), #name);     \
                        if (!fn)                                                 \
                                return fail;                                     \
                        __atomic_store_n(&real, fn, __ATOMIC_RELEASE);           \
                }                                                                \
                return fn args;                                                  \
        }

/* The same for functions returning void. */
#define PEA_LAZY_VOID(lib, name, params, args)                                   \
        void name params                                                         \
        {                                                                        \
                static __typeof__(&name) real;                                   \
                __typeof__(&name) fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE); \
                if (!fn) {                                                       \
                        fn = (__typeof__(&name))pea_lazy_sym(&(lib), #name);     \
                        if (!fn)                                                 \
                                return;                                          \
                        __atomic_store_n(&real, fn, __ATOMIC_RELEASE);           \
                }                                                                \
                fn args;                                                         \
        }
