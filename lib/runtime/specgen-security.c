/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <sys/prctl.h>
#include <sys/resource.h>

#include "base.h"
#include "specgen-internal.h"

/*
 * Capabilities (containers-common's MergeCapabilities), --security-opt,
 * rlimits (--ulimit, docker's go-units names) and the seccomp conversion
 * (containers-common's setupSeccomp).
 */

static const char *const cap_names[SPEC_CAP_LAST + 1] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

#define CAPS_ALL ((2ull << SPEC_CAP_LAST) - 1)

const char *pea_spec_cap_to_name(unsigned cap)
{
        return cap <= SPEC_CAP_LAST ? cap_names[cap] : NULL;
}

int pea_spec_cap_from_name(const char *name)
{
        const char *n = name;
        if (strncasecmp(n, "CAP_", 4) == 0)
                n += 4;
        for (unsigned i = 0; i <= SPEC_CAP_LAST; i++)
                if (strcasecmp(cap_names[i] + 4, n) == 0)
                        return (int)i;
        return -EINVAL;
}

uint64_t spec_bounding_set(void)
{
        uint64_t m = 0;
        for (unsigned i = 0; i <= SPEC_CAP_LAST; i++)
                if (prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0) == 1)
                        m |= 1ull << i;
        return m;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *spec_caps_json(uint64_t mask)
{
        const char *names[SPEC_CAP_LAST + 1];
        size_t n = 0;
        for (unsigned i = 0; i <= SPEC_CAP_LAST; i++)
                if (mask & (1ull << i))
                        names[n++] = cap_names[i];
        qsort(names, n, sizeof(names[0]), cmp_str);
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
                spec_json_push_str(a, names[i]);
        return a;
}

/* Normalises a list: *ret_all when it holds ALL, the others in *ret. */
static int caps_normalize(char *const *l, uint64_t *ret, bool *ret_all, struct pea_error **err)
{
        uint64_t m = 0;
        bool all = false;
        STRV_FOREACH(s, (char **)l) {
                if (strcasecmp(*s, "ALL") == 0) {
                        all = true;
                        continue;
                }
                int c = pea_spec_cap_from_name(*s);
                if (c < 0) {
                        _cleanup_free_ char *up = startswith(*s, "CAP_") || startswith(*s, "cap_")
                                                          ? xstrdup(*s)
                                                          : xasprintf("CAP_%s", *s);
                        for (char *p = up; *p; p++)
                                *p = (char)toupper((unsigned char)*p);
                        return pea_error_set(err, EINVAL, "unknown capability \"%s\"", up);
                }
                m |= 1ull << c;
        }
        *ret = m;
        *ret_all = all;
        return 0;
}

static int first_cap(uint64_t m)
{
        for (unsigned i = 0; i <= SPEC_CAP_LAST; i++)
                if (m & (1ull << i))
                        return (int)i;
        return -1;
}

int pea_spec_caps_merge(char *const *add, char *const *drop, bool privileged, uint64_t bounding,
                        uint64_t *ret, struct pea_error **err)
{
        uint64_t adds = 0, drops = 0;
        bool add_all = false, drop_all = false;
        int r = caps_normalize(add, &adds, &add_all, err);
        if (r < 0)
                return r;
        r = caps_normalize(drop, &drops, &drop_all, err);
        if (r < 0)
                return r;
        bounding &= CAPS_ALL;
        if (privileged) {
                *ret = bounding;
                return 0;
        }
        if (drop_all && add_all)
                return pea_error_set(err, EINVAL,
                                     "adding all caps and removing all caps not allowed");
        uint64_t base = SPEC_CAPS_DEFAULT;
        if (drop_all) {
                base = 0;
                drops = 0;
        } else if (add_all) {
                base = bounding;
                adds = 0;
        }
        if (adds & drops)
                return pea_error_set(err, EINVAL, "capability \"%s\" cannot be dropped and added",
                                     cap_names[first_cap(adds & drops)]);
        *ret = ((base & ~drops) | adds) & bounding;
        return 0;
}

int spec_capabilities(struct spec_ctx *c, bool user_is_root, json_t **ret, struct pea_error **err)
{
        const struct pea_spec_opts *o = c->o;
        int r = pea_spec_caps_merge(o->cap_add, o->cap_drop, o->privileged, c->bounding, &c->caps,
                                    err);
        if (r < 0)
                return r;
        uint64_t eff = c->caps, amb = 0;
        if (!user_is_root) {
                /* A non-root user gets only what --cap-add asks for, also as ambient. */
                uint64_t adds = 0;
                bool all = false;
                r = caps_normalize(o->cap_add, &adds, &all, err);
                if (r < 0)
                        return r;
                eff = (all ? c->bounding : adds) & c->bounding & CAPS_ALL;
                amb = eff;
        }
        json_t *caps = json_object();
        json_object_set_new(caps, "bounding", spec_caps_json(c->caps));
        json_object_set_new(caps, "effective", spec_caps_json(eff));
        json_object_set_new(caps, "inheritable", spec_caps_json(amb));
        json_object_set_new(caps, "permitted", spec_caps_json(eff));
        json_object_set_new(caps, "ambient", spec_caps_json(amb));
        *ret = caps;
        return 0;
}

/* ---- --security-opt ------------------------------------------------------ */

static int secopt_bool(const char *opt, const char *v, bool *ret, struct pea_error **err)
{
        if (streq(v, "true") || streq(v, "1"))
                *ret = true;
        else if (streq(v, "false") || streq(v, "0"))
                *ret = false;
        else
                return pea_error_set(err, EINVAL, "invalid --security-opt '%s'", opt);
        return 0;
}

static int secopt_one(const char *opt, struct spec_secopts *s, struct pea_error **err)
{
        if (streq(opt, "no-new-privileges")) {
                s->no_new_privileges = true;
                return 0;
        }
        const char *eq = strchr(opt, '=');
        if (!eq || eq == opt)
                return pea_error_set(err, EINVAL, "invalid --security-opt '%s'", opt);
        _cleanup_free_ char *key = xstrndup(opt, (size_t)(eq - opt));
        const char *v = eq + 1;
        if (streq(key, "no-new-privileges"))
                return secopt_bool(opt, v, &s->no_new_privileges, err);
        if (streq(key, "seccomp")) {
                if (!*v)
                        return pea_error_set(err, EINVAL, "invalid --security-opt '%s'", opt);
                s->seccomp = streq(v, "unconfined") ? SPEC_SECCOMP_UNCONFINED : SPEC_SECCOMP_PATH;
                s->seccomp_path = s->seccomp == SPEC_SECCOMP_PATH ? v : NULL;
                return 0;
        }
        if (streq(key, "mask") || streq(key, "unmask")) {
                _cleanup_strv_ char **l = strv_split(v, ":");
                STRV_FOREACH(p, l)
                        strv_push(streq(key, "mask") ? &s->mask : &s->unmask, *p);
                return 0;
        }
        if (streq(key, "systempaths")) {
                if (!streq(v, "unconfined"))
                        return pea_error_set(err, EINVAL,
                                             "invalid systempaths option '%s', only 'unconfined' "
                                             "is supported",
                                             v);
                strv_push(&s->unmask, "ALL");
                return 0;
        }
        /* No SELinux or AppArmor support: labels and profiles are accepted and ignored. */
        if (streq(key, "label") || streq(key, "apparmor")) {
                pea_debug("ignoring --security-opt '%s'", opt);
                return 0;
        }
        return pea_error_set(err, EINVAL, "invalid --security-opt '%s'", opt);
}

int spec_secopts_parse(char *const *opts, struct spec_secopts *ret, struct pea_error **err)
{
        struct spec_secopts s = {.seccomp = SPEC_SECCOMP_DEFAULT};
        STRV_FOREACH(o, (char **)opts) {
                int r = secopt_one(*o, &s, err);
                if (r < 0) {
                        spec_secopts_done(&s);
                        return r;
                }
        }
        *ret = s;
        return 0;
}

void spec_secopts_done(struct spec_secopts *s)
{
        s->mask = strv_free(s->mask);
        s->unmask = strv_free(s->unmask);
}

/* ---- rlimits ------------------------------------------------------------- */

static const struct {
        const char *name, *type;
        int resource;
} rlimit_table[] = {
        {"as", "RLIMIT_AS", RLIMIT_AS},
        {"core", "RLIMIT_CORE", RLIMIT_CORE},
        {"cpu", "RLIMIT_CPU", RLIMIT_CPU},
        {"data", "RLIMIT_DATA", RLIMIT_DATA},
        {"fsize", "RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"locks", "RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"memlock", "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"msgqueue", "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"nice", "RLIMIT_NICE", RLIMIT_NICE},
        {"nofile", "RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"nproc", "RLIMIT_NPROC", RLIMIT_NPROC},
        {"rss", "RLIMIT_RSS", RLIMIT_RSS},
        {"rtprio", "RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"rttime", "RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"sigpending", "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"stack", "RLIMIT_STACK", RLIMIT_STACK},
};

/* -1 or "unlimited" is infinity; otherwise a non-negative integer. */
static int ulimit_value(const char *s, uint64_t *ret)
{
        if (streq(s, "-1") || streq(s, "unlimited")) {
                *ret = UINT64_MAX;
                return 0;
        }
        long long v = 0;
        if (!isdigit((unsigned char)*s) || safe_atoll(s, &v) < 0)
                return -EINVAL;
        *ret = (uint64_t)v;
        return 0;
}

static char *ulimit_str(uint64_t v)
{
        return v == UINT64_MAX ? xstrdup("-1") : xasprintf("%llu", (unsigned long long)v);
}

int pea_spec_parse_ulimit(const char *s, struct pea_spec_rlimit *ret, struct pea_error **err)
{
        const char *eq = strchr(s, '=');
        if (!eq)
                return pea_error_set(err, EINVAL,
                                     "invalid --ulimit format '%s': expected name=soft[:hard]", s);
        size_t i = 0;
        for (; i < ELEMENTSOF(rlimit_table); i++)
                if (strlen(rlimit_table[i].name) == (size_t)(eq - s)
                    && strncmp(rlimit_table[i].name, s, (size_t)(eq - s)) == 0)
                        break;
        if (i == ELEMENTSOF(rlimit_table))
                return pea_error_set(err, EINVAL, "invalid --ulimit type '%.*s'", (int)(eq - s), s);
        _cleanup_strv_ char **v = strv_split(eq + 1, ":");
        uint64_t soft = 0, hard = 0;
        size_t n = strv_length(v);
        if (n < 1 || n > 2 || strchr(eq + 1, ':') != strrchr(eq + 1, ':')
            || ulimit_value(v[0], &soft) < 0 || (n == 2 && ulimit_value(v[1], &hard) < 0))
                return pea_error_set(err, EINVAL,
                                     "invalid --ulimit format '%s': expected name=soft[:hard]", s);
        if (n == 1)
                hard = soft;
        if (soft > hard) {
                _cleanup_free_ char *a = ulimit_str(soft), *b = ulimit_str(hard);
                return pea_error_set(err, EINVAL,
                                     "ulimit soft limit must be less than or equal to hard "
                                     "limit: %s > %s",
                                     a, b);
        }
        *ret = (struct pea_spec_rlimit){rlimit_table[i].type, rlimit_table[i].resource, soft, hard};
        return 0;
}

static uint64_t rlim_u64(rlim_t v)
{
        return v == RLIM_INFINITY ? UINT64_MAX : (uint64_t)v;
}

/* Appends or replaces (same type) an entry of process.rlimits. */
static void rlimits_set(json_t *a, const char *type, uint64_t soft, uint64_t hard)
{
        json_t *e = json_object();
        json_object_set_new(e, "type", json_string(type));
        json_object_set_new(e, "hard", json_integer((json_int_t)hard));
        json_object_set_new(e, "soft", json_integer((json_int_t)soft));
        size_t i;
        json_t *x;
        json_array_foreach(a, i, x) {
                if (streq(json_string_value(json_object_get(x, "type")), type)) {
                        json_array_set_new(a, i, e);
                        return;
                }
        }
        json_array_append_new(a, e);
}

static bool rlimits_has(json_t *a, const char *type)
{
        size_t i;
        json_t *x;
        json_array_foreach(a, i, x)
                if (streq(json_string_value(json_object_get(x, "type")), type))
                        return true;
        return false;
}

static void rlimits_host(json_t *a)
{
        for (size_t i = 0; i < ELEMENTSOF(rlimit_table); i++) {
                struct rlimit rl;
                if (getrlimit(rlimit_table[i].resource, &rl) == 0)
                        rlimits_set(a, rlimit_table[i].type, rlim_u64(rl.rlim_cur),
                                    rlim_u64(rl.rlim_max));
        }
}

/* Root's default, clamped to the current hard limit (raising it needs CAP_SYS_RESOURCE). */
static void rlimits_default(json_t *a, const char *type, int resource, uint64_t def)
{
        struct rlimit rl;
        uint64_t v = def;
        if (rlimits_has(a, type))
                return;
        if (getrlimit(resource, &rl) == 0 && rlim_u64(rl.rlim_max) < v)
                v = rlim_u64(rl.rlim_max);
        rlimits_set(a, type, v, v);
}

int spec_rlimits(const struct spec_ctx *c, json_t **ret, struct pea_error **err)
{
        _cleanup_json_ json_t *a = json_array();
        STRV_FOREACH(s, c->o->ulimits) {
                if (streq(*s, "host")) {
                        rlimits_host(a);
                        continue;
                }
                struct pea_spec_rlimit rl;
                int r = pea_spec_parse_ulimit(*s, &rl, err);
                if (r < 0)
                        return r;
                rlimits_set(a, rl.type, rl.soft, rl.hard);
        }
        if (!c->o->rootless) {
                rlimits_default(a, "RLIMIT_NOFILE", RLIMIT_NOFILE, PEA_SPEC_DEFAULT_NOFILE);
                rlimits_default(a, "RLIMIT_NPROC", RLIMIT_NPROC, PEA_SPEC_DEFAULT_NPROC);
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* ---- seccomp ------------------------------------------------------------- */

int spec_seccomp(const struct spec_ctx *c, json_t **ret, struct pea_error **err)
{
        const struct spec_secopts *s = &c->sec;
        if (s->seccomp == SPEC_SECCOMP_UNCONFINED
            || (c->o->privileged && s->seccomp != SPEC_SECCOMP_PATH)) {
                *ret = NULL;
                return 0;
        }
        if (s->seccomp == SPEC_SECCOMP_PATH)
                return pea_seccomp_load_file(s->seccomp_path, c->caps, c->o->arch, ret, err);
        _cleanup_json_ json_t *profile = pea_seccomp_default_profile();
        return pea_seccomp_to_oci(profile, c->caps, c->o->arch, ret, err);
}

/* Go (libseccomp-golang) names of the native architecture. */
static const char *native_arch(void)
{
#if defined(__x86_64__)
#        if defined(__ILP32__)
        return "x32";
#        else
        return "amd64";
#        endif
#elif defined(__i386__)
        return "x86";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__arm__)
        return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return "ppc64le";
#elif defined(__s390x__)
        return "s390x";
#else
        return "";
#endif
}

/* containers-common's nativeToSeccomp: which archMap entry applies. */
static const char *arch_to_scmp(const char *arch)
{
        static const char *const map[][2] = {
                {"amd64", "SCMP_ARCH_X86_64"},      {"arm64", "SCMP_ARCH_AARCH64"},
                {"mips64", "SCMP_ARCH_MIPS64"},     {"mips64n32", "SCMP_ARCH_MIPS64N32"},
                {"mipsel64", "SCMP_ARCH_MIPSEL64"}, {"mipsel64n32", "SCMP_ARCH_MIPSEL64N32"},
                {"s390x", "SCMP_ARCH_S390X"},
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(map[i][0], arch))
                        return map[i][1];
        return NULL;
}

static bool json_strv_contains(json_t *a, const char *s)
{
        size_t i;
        json_t *x;
        json_array_foreach(a, i, x)
                if (json_is_string(x) && streq(json_string_value(x), s))
                        return true;
        return false;
}

static bool cap_in(uint64_t caps, const char *name)
{
        for (unsigned i = 0; i <= SPEC_CAP_LAST; i++)
                if (streq(cap_names[i], name))
                        return caps & (1ull << i);
        return false;
}

/* Whether a rule's includes/excludes let it apply to caps on arch. */
static bool rule_applies(json_t *rule, uint64_t caps, const char *arch)
{
        json_t *exc = json_object_get(rule, "excludes"), *inc = json_object_get(rule, "includes");
        size_t i;
        json_t *x;
        if (json_strv_contains(json_object_get(exc, "arches"), arch))
                return false;
        json_array_foreach(json_object_get(exc, "caps"), i, x)
                if (json_is_string(x) && cap_in(caps, json_string_value(x)))
                        return false;
        json_t *arches = json_object_get(inc, "arches");
        if (json_array_size(arches) > 0 && !json_strv_contains(arches, arch))
                return false;
        json_array_foreach(json_object_get(inc, "caps"), i, x)
                if (!json_is_string(x) || !cap_in(caps, json_string_value(x)))
                        return false;
        return true;
}

/* containers-common's getErrno: the name (or number) wins over the number. */
static int errno_get(json_t *name, json_t *num, json_int_t *ret, struct pea_error **err)
{
        const char *s = json_string_value(name);
        if (s && *s) {
                long long v = 0;
                if (safe_atoll(s, &v) == 0 && v >= 0 && v <= UINT32_MAX) {
                        *ret = v;
                        return 1;
                }
                for (int e = 1; e < 4096; e++) {
                        const char *n = strerrorname_np(e);
                        if (n && streq(n, s)) {
                                *ret = e;
                                return 1;
                        }
                }
                return pea_error_set(err, EINVAL, "unknown errno %s", s);
        }
        if (json_is_integer(num) && json_integer_value(num) >= 0) {
                *ret = json_integer_value(num);
                return 1;
        }
        if (num && !json_is_null(num))
                return pea_error_set(err, EINVAL, "invalid seccomp profile: bad errnoRet");
        return 0;
}

static int convert_args(json_t *args, json_t **ret, struct pea_error **err)
{
        _cleanup_json_ json_t *out = json_array();
        size_t i;
        json_t *a;
        if (args && !json_is_null(args) && !json_is_array(args))
                return pea_error_set(err, EINVAL, "invalid seccomp profile: 'args' is not a list");
        json_array_foreach(args, i, a) {
                json_t *idx = json_object_get(a, "index"), *v = json_object_get(a, "value"),
                       *v2 = json_object_get(a, "valueTwo"), *op = json_object_get(a, "op");
                if (!json_is_integer(idx) || !json_is_integer(v) || (v2 && !json_is_integer(v2))
                    || !json_is_string(op))
                        return pea_error_set(err, EINVAL,
                                             "invalid seccomp profile: malformed syscall argument");
                json_t *o = json_object();
                json_object_set(o, "index", idx);
                json_object_set(o, "value", v);
                if (v2 && json_integer_value(v2) != 0)
                        json_object_set(o, "valueTwo", v2);
                json_object_set(o, "op", op);
                json_array_append_new(out, o);
        }
        *ret = json_array_size(out) > 0 ? TAKE_PTR(out) : NULL;
        return 0;
}

static int convert_rule(json_t *rule, json_t **ret, struct pea_error **err)
{
        json_t *name = json_object_get(rule, "name"), *names = json_object_get(rule, "names");
        const char *action = json_string_value(json_object_get(rule, "action"));
        if (json_string_length(name) > 0 && json_array_size(names) > 0)
                return pea_error_set(err, EINVAL,
                                     "'name' and 'names' were specified in the seccomp profile, "
                                     "use either 'name' or 'names'");
        if (!action || !*action)
                return pea_error_set(err, EINVAL, "invalid seccomp profile: a rule has no action");
        _cleanup_json_ json_t *out = json_object(), *n = json_array();
        if (json_string_length(name) > 0)
                json_array_append(n, name);
        size_t i;
        json_t *x;
        json_array_foreach(names, i, x) {
                if (!json_is_string(x))
                        return pea_error_set(err, EINVAL,
                                             "invalid seccomp profile: a syscall name is not a "
                                             "string");
                json_array_append(n, x);
        }
        json_object_set_new(out, "names", TAKE_PTR(n));
        json_object_set_new(out, "action", json_string(action));
        json_int_t e = 0;
        int r = errno_get(json_object_get(rule, "errno"), json_object_get(rule, "errnoRet"), &e,
                          err);
        if (r < 0)
                return r;
        if (r > 0)
                json_object_set_new(out, "errnoRet", json_integer(e));
        json_t *args = NULL;
        r = convert_args(json_object_get(rule, "args"), &args, err);
        if (r < 0)
                return r;
        if (args)
                json_object_set_new(out, "args", args);
        *ret = TAKE_PTR(out);
        return 0;
}

static void convert_arches(json_t *profile, const char *arch, json_t *out)
{
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(profile, "architectures"), i, x)
                json_array_append(a, x);
        const char *scmp = arch_to_scmp(arch);
        json_array_foreach(json_object_get(profile, "archMap"), i, x) {
                if (!scmp
                    || !streq_ptr(json_string_value(json_object_get(x, "architecture")), scmp))
                        continue;
                spec_json_push_str(a, scmp);
                size_t j;
                json_t *sub;
                json_array_foreach(json_object_get(x, "subArchitectures"), j, sub)
                        json_array_append(a, sub);
                break;
        }
        if (json_array_size(a) > 0)
                json_object_set_new(out, "architectures", a);
        else
                json_decref(a);
}

static int convert_header(json_t *profile, const char *arch, json_t *out, struct pea_error **err)
{
        if (json_array_size(json_object_get(profile, "architectures")) > 0
            && json_array_size(json_object_get(profile, "archMap")) > 0)
                return pea_error_set(err, EINVAL,
                                     "'architectures' and 'archMap' were specified in the seccomp "
                                     "profile, use either 'architectures' or 'archMap'");
        json_object_set_new(out, "defaultAction",
                            json_string(pea_json_path_string(profile, "defaultAction", "")));
        json_int_t e = 0;
        int r = errno_get(json_object_get(profile, "defaultErrno"),
                          json_object_get(profile, "defaultErrnoRet"), &e, err);
        if (r < 0)
                return r;
        if (r > 0)
                json_object_set_new(out, "defaultErrnoRet", json_integer(e));
        convert_arches(profile, arch, out);
        json_t *flags = json_object_get(profile, "flags");
        if (json_array_size(flags) > 0)
                json_object_set(out, "flags", flags);
        return 0;
}

int pea_seccomp_to_oci(json_t *profile, uint64_t caps, const char *arch, json_t **ret,
                       struct pea_error **err)
{
        if (!arch)
                arch = native_arch();
        json_t *rules = json_object_get(profile, "syscalls");
        if (!json_is_object(profile) || (rules && !json_is_null(rules) && !json_is_array(rules)))
                return pea_error_set(err, EINVAL,
                                     "invalid seccomp profile: not an object with "
                                     "a 'syscalls' list");
        const char *def = json_string_value(json_object_get(profile, "defaultAction"));
        if ((!def || !*def) && json_array_size(rules) == 0) {
                *ret = NULL;
                return 0;
        }
        _cleanup_json_ json_t *out = json_object(), *calls = json_array();
        int r = convert_header(profile, arch, out, err);
        if (r < 0)
                return r;
        size_t i;
        json_t *rule;
        json_array_foreach(rules, i, rule) {
                if (!json_is_object(rule))
                        return pea_error_set(err, EINVAL,
                                             "invalid seccomp profile: a syscall "
                                             "rule is not an object");
                if (!rule_applies(rule, caps, arch))
                        continue;
                json_t *c = NULL;
                r = convert_rule(rule, &c, err);
                if (r < 0)
                        return r;
                json_array_append_new(calls, c);
        }
        json_object_set_new(out, "syscalls", TAKE_PTR(calls));
        *ret = TAKE_PTR(out);
        return 0;
}

int pea_seccomp_load_file(const char *path, uint64_t caps, const char *arch, json_t **ret,
                          struct pea_error **err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = pea_read_file_at(AT_FDCWD, path, PEA_SPEC_FILE_MAX, &data, &len, err);
        if (r < 0)
                return pea_error_wrap(err, "opening seccomp profile failed");
        json_error_t jerr;
        _cleanup_json_ json_t *profile = json_loadb(data, len, 0, &jerr);
        if (!profile)
                return pea_error_set(err, EINVAL, "decoding seccomp profile '%s' failed: %s", path,
                                     jerr.text);
        r = pea_seccomp_to_oci(profile, caps, arch, ret, err);
        if (r < 0)
                return pea_error_wrap(err, "seccomp profile '%s'", path);
        return r;
}
