/* SPDX-License-Identifier: Apache-2.0 */
/* dlopen() once, dlsym() on demand: see lazy.h. */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "lazy.h"
#include "log.h"

/* pthread_once() takes no argument: the library being opened is passed here. */
static __thread struct pea_lazy_lib *opening;

static void lazy_open(void)
{
        struct pea_lazy_lib *lib = opening;

        lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
        if (!lib->handle) {
                const char *e = dlerror();
                pea_debug("cannot load '%s': %s", lib->soname, e ? e : "unknown error");
        }
        __atomic_store_n(&lib->loaded, 1, __ATOMIC_RELEASE);
}

static void *lazy_handle(struct pea_lazy_lib *lib)
{
        if (!__atomic_load_n(&lib->loaded, __ATOMIC_ACQUIRE)) {
                opening = lib;
                (void)pthread_once(&lib->once, lazy_open);
                opening = NULL;
        }
        return lib->handle;
}

bool pea_lazy_available(struct pea_lazy_lib *lib)
{
        return lazy_handle(lib) != NULL;
}

void *pea_lazy_sym(struct pea_lazy_lib *lib, const char *name)
{
        void *h = lazy_handle(lib);

        if (!h)
                return NULL;
        (void)dlerror();
        void *p = dlsym(h, name);
        if (!p) {
                const char *e = dlerror();
                pea_debug("'%s' has no symbol '%s': %s", lib->soname, name, e ? e : "null symbol");
        }
        return p;
}
