/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <sys/capability.h>
#include <sys/prctl.h>

#include "base.h"
#include "runtime-internal.h"

/*
 * Capabilities, in runc's order: the bounding set is dropped while we still
 * have CAP_SETPCAP (before the uid changes); effective, permitted and
 * inheritable are set after the uid change (PR_SET_KEEPCAPS keeps permitted
 * across it); ambient last, since it needs permitted and inheritable.
 */

int runtime_caps_mask(json_t *names, const char *what, uint64_t *ret, struct pea_error **err)
{
        uint64_t mask = 0;
        if (names && !json_is_null(names) && !json_is_array(names))
                return pea_error_set(err, EINVAL, "'process.capabilities.%s' must be an array",
                                     what);
        size_t i;
        json_t *v;
        json_array_foreach(names, i, v) {
                const char *name = json_string_value(v);
                cap_value_t cap;
                if (!name)
                        return pea_error_set(err, EINVAL,
                                             "'process.capabilities.%s' must hold strings", what);
                if (cap_from_name(name, &cap) < 0 || cap < 0 || cap >= 64) {
                        pea_debug("unknown capability '%s', ignoring", name);
                        continue;
                }
                mask |= UINT64_C(1) << cap;
        }
        *ret = mask;
        return 0;
}

static void cap_namep(char **p)
{
        if (*p)
                (void)cap_free(*p);
}

static int last_cap(void)
{
        int n = (int)cap_max_bits();
        return n > 0 && n <= 64 ? n - 1 : CAP_LAST_CAP;
}

int runtime_caps_bounding(const struct runtime_caps *c, struct pea_error **err)
{
        if (!c->present)
                return 0;
        for (int cap = 0; cap <= last_cap(); cap++) {
                if (c->bounding & (UINT64_C(1) << cap))
                        continue;
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
                        int e = errno;
                        _cleanup_(cap_namep) char *name = cap_to_name(cap);
                        return pea_error_syscall(err, e, "dropping '%s' from the bounding set",
                                                 name);
                }
        }
        return 0;
}

static void set_flags(cap_t caps, cap_flag_t flag, uint64_t mask)
{
        for (int cap = 0; cap <= last_cap(); cap++) {
                cap_value_t v = cap;
                if (mask & (UINT64_C(1) << cap))
                        (void)cap_set_flag(caps, flag, 1, &v, CAP_SET);
        }
}

static int raise_ambient(uint64_t mask, struct pea_error **err)
{
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return pea_error_syscall(err, errno, "clearing the ambient capabilities");
        for (int cap = 0; cap <= last_cap(); cap++) {
                if (!(mask & (UINT64_C(1) << cap)))
                        continue;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
                        int e = errno;
                        _cleanup_(cap_namep) char *name = cap_to_name(cap);
                        return pea_error_syscall(err, e, "raising ambient capability '%s'", name);
                }
        }
        return 0;
}

int runtime_caps_apply(const struct runtime_caps *c, struct pea_error **err)
{
        if (!c->present)
                return 0;
        cap_t caps = cap_init();
        if (!caps)
                return pea_error_syscall(err, errno, "allocating capabilities");
        set_flags(caps, CAP_EFFECTIVE, c->effective);
        set_flags(caps, CAP_PERMITTED, c->permitted);
        set_flags(caps, CAP_INHERITABLE, c->inheritable);
        int r = cap_set_proc(caps);
        int e = errno;
        cap_free(caps);
        if (r < 0)
                return pea_error_syscall(err, e, "setting capabilities");
        return raise_ambient(c->ambient, err);
}
