/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <seccomp.h>

#include "base.h"
#include "runtime-internal.h"
#include "sha.h"

/*
 * linux.seccomp into a BPF program. The parent compiles it with libseccomp
 * (or finds it in the cache: compiling the default profile costs more than
 * the rest of a container start), so a bad profile is reported before any
 * process exists; the container's process loads it with seccomp(2) as late
 * as it can, right before execve.
 */

struct runtime_seccomp {
        struct sock_fprog prog;
        unsigned flags; /* SECCOMP_FILTER_FLAG_* */
};

#define MAX_SYSCALL_RULES 4096

static int parse_action(const char *name, json_t *errno_ret, uint32_t *ret, struct pea_error **err)
{
        uint32_t e = EPERM;
        if (json_is_integer(errno_ret) && json_integer_value(errno_ret) >= 0
            && json_integer_value(errno_ret) < 4096)
                e = (uint32_t)json_integer_value(errno_ret);
        if (!name)
                return pea_error_set(err, EINVAL, "seccomp action is missing");
        if (streq(name, "SCMP_ACT_ALLOW"))
                *ret = SCMP_ACT_ALLOW;
        else if (streq(name, "SCMP_ACT_ERRNO"))
                *ret = SCMP_ACT_ERRNO(e);
        else if (streq(name, "SCMP_ACT_KILL") || streq(name, "SCMP_ACT_KILL_THREAD"))
                *ret = SCMP_ACT_KILL_THREAD;
        else if (streq(name, "SCMP_ACT_KILL_PROCESS"))
                *ret = SCMP_ACT_KILL_PROCESS;
        else if (streq(name, "SCMP_ACT_TRAP"))
                *ret = SCMP_ACT_TRAP;
        else if (streq(name, "SCMP_ACT_LOG"))
                *ret = SCMP_ACT_LOG;
        else if (streq(name, "SCMP_ACT_TRACE"))
                *ret = SCMP_ACT_TRACE(e);
        else
                return pea_error_set(err, EOPNOTSUPP, "unsupported seccomp action '%s'", name);
        return 0;
}

static int parse_op(const char *name, enum scmp_compare *ret, struct pea_error **err)
{
        static const struct {
                const char *name;
                enum scmp_compare op;
        } ops[] = {
                {"SCMP_CMP_NE", SCMP_CMP_NE},
                {"SCMP_CMP_LT", SCMP_CMP_LT},
                {"SCMP_CMP_LE", SCMP_CMP_LE},
                {"SCMP_CMP_EQ", SCMP_CMP_EQ},
                {"SCMP_CMP_GE", SCMP_CMP_GE},
                {"SCMP_CMP_GT", SCMP_CMP_GT},
                {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
        };

        for (size_t i = 0; name && i < ELEMENTSOF(ops); i++)
                if (streq(ops[i].name, name)) {
                        *ret = ops[i].op;
                        return 0;
                }
        return pea_error_set(err, EINVAL, "invalid seccomp operator '%s'", name ? name : "");
}

static int add_arches(scmp_filter_ctx ctx, json_t *arches, struct pea_error **err)
{
        size_t i;
        json_t *v;
        json_array_foreach(arches, i, v) {
                const char *name = json_string_value(v);
                if (!name)
                        return pea_error_set(err, EINVAL, "invalid seccomp architecture");
                const char *p = startswith(name, "SCMP_ARCH_");
                _cleanup_free_ char *lower = xstrdup(p ? p : name);
                for (char *c = lower; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                uint32_t arch = seccomp_arch_resolve_name(lower);
                if (arch == 0) {
                        pea_debug("unknown seccomp architecture '%s', ignoring", name);
                        continue;
                }
                int r = seccomp_arch_add(ctx, arch);
                if (r < 0 && r != -EEXIST)
                        return pea_error_syscall(err, -r, "adding seccomp architecture '%s'", name);
        }
        return 0;
}

static int set_flags(scmp_filter_ctx ctx, json_t *flags, struct pea_error **err)
{
        size_t i;
        json_t *v;
        json_array_foreach(flags, i, v) {
                const char *f = json_string_value(v);
                int r = 0;
                if (streq_ptr(f, "SECCOMP_FILTER_FLAG_LOG"))
                        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
                else if (streq_ptr(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
                        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
                else if (!streq_ptr(f, "SECCOMP_FILTER_FLAG_TSYNC"))
                        return pea_error_set(err, EINVAL, "unsupported seccomp flag '%s'",
                                             f ? f : "");
                if (r < 0)
                        return pea_error_syscall(err, -r, "setting seccomp flag '%s'", f);
        }
        return 0;
}

static int parse_args(json_t *args, struct scmp_arg_cmp *cmp, unsigned *ret_n, bool *ret_dup,
                      struct pea_error **err)
{
        unsigned n = 0, seen = 0;
        bool dup = false;
        size_t i;
        json_t *a;
        json_array_foreach(args, i, a) {
                if (n >= 6)
                        return pea_error_set(err, EINVAL, "too many seccomp arguments");
                json_t *idx = json_object_get(a, "index");
                if (!json_is_integer(idx) || json_integer_value(idx) < 0
                    || json_integer_value(idx) > 5)
                        return pea_error_set(err, EINVAL, "invalid seccomp argument index");
                enum scmp_compare op = SCMP_CMP_EQ;
                int r = parse_op(json_string_value(json_object_get(a, "op")), &op, err);
                if (r < 0)
                        return r;
                unsigned index = (unsigned)json_integer_value(idx);
                dup = dup || (seen & (1u << index));
                seen |= 1u << index;
                cmp[n++] = (struct scmp_arg_cmp){
                        .arg = index,
                        .op = op,
                        .datum_a = (scmp_datum_t)json_integer_value(json_object_get(a, "value")),
                        .datum_b = (scmp_datum_t)json_integer_value(json_object_get(a, "valueTwo")),
                };
        }
        *ret_n = n;
        *ret_dup = dup;
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name,
                    const struct scmp_arg_cmp *cmp, unsigned n, bool dup, struct pea_error **err)
{
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) {
                pea_debug("unknown syscall '%s', ignoring", name);
                return 0;
        }
        int r = 0;
        if (!dup) {
                r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
        } else {
                /* libseccomp wants one comparison per argument: one rule per comparison. */
                for (unsigned i = 0; i < n && r >= 0; i++)
                        r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[i]);
        }
        if (r < 0)
                return pea_error_syscall(err, -r, "adding seccomp rule for '%s'", name);
        return 0;
}

static int add_syscall(scmp_filter_ctx ctx, uint32_t def, json_t *sc, struct pea_error **err)
{
        uint32_t action;
        int r = parse_action(json_string_value(json_object_get(sc, "action")),
                             json_object_get(sc, "errnoRet"), &action, err);
        if (r < 0)
                return r;
        if (action == def)
                return 0; /* libseccomp refuses rules that repeat the default */
        struct scmp_arg_cmp cmp[6];
        unsigned n = 0;
        bool dup = false;
        r = parse_args(json_object_get(sc, "args"), cmp, &n, &dup, err);
        if (r < 0)
                return r;
        json_t *names = json_object_get(sc, "names");
        if (!json_is_array(names))
                return pea_error_set(err, EINVAL, "seccomp rule without 'names'");
        size_t i;
        json_t *v;
        json_array_foreach(names, i, v) {
                if (!json_is_string(v))
                        return pea_error_set(err, EINVAL, "invalid seccomp syscall name");
                r = add_rule(ctx, action, json_string_value(v), cmp, n, dup, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int build(scmp_filter_ctx ctx, uint32_t def, json_t *seccomp, struct pea_error **err)
{
        /* no_new_privs is the spec's choice, not libseccomp's. */
        int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return pea_error_syscall(err, -r, "configuring seccomp");
        r = add_arches(ctx, json_object_get(seccomp, "architectures"), err);
        if (r < 0)
                return r;
        r = set_flags(ctx, json_object_get(seccomp, "flags"), err);
        if (r < 0)
                return r;
        json_t *syscalls = json_object_get(seccomp, "syscalls");
        if (json_array_size(syscalls) > MAX_SYSCALL_RULES)
                return pea_error_set(err, E2BIG, "too many seccomp rules");
        size_t i;
        json_t *sc;
        json_array_foreach(syscalls, i, sc) {
                r = add_syscall(ctx, def, sc, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int compile(json_t *seccomp, scmp_filter_ctx *ret, struct pea_error **err)
{
        uint32_t def;
        int r = parse_action(json_string_value(json_object_get(seccomp, "defaultAction")),
                             json_object_get(seccomp, "defaultErrnoRet"), &def, err);
        if (r < 0)
                return pea_error_wrap(err, "seccomp default action");
        scmp_filter_ctx ctx = seccomp_init(def);
        if (!ctx)
                return pea_error_set(err, EINVAL, "initialising the seccomp filter");
        r = build(ctx, def, seccomp, err);
        if (r < 0) {
                seccomp_release(ctx);
                return pea_error_wrap(err, "invalid seccomp profile");
        }
        *ret = ctx;
        return 0;
}

/* seccomp(2) flags of the profile's "flags" (validated by set_flags() when compiled). */
static unsigned filter_flags(json_t *flags)
{
        unsigned f = 0;
        size_t i;
        json_t *v;
        json_array_foreach(flags, i, v) {
                const char *name = json_string_value(v);
                if (streq_ptr(name, "SECCOMP_FILTER_FLAG_LOG"))
                        f |= SECCOMP_FILTER_FLAG_LOG;
                else if (streq_ptr(name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
                        f |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        }
        return f;
}

/* The BPF program libseccomp would load for ctx, through a memfd. */
static int export_bpf(scmp_filter_ctx ctx, struct runtime_seccomp *f, struct pea_error **err)
{
        _cleanup_close_ int fd = memfd_create("pea-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating a memfd");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return pea_error_syscall(err, -r, "generating the seccomp filter");
        off_t len = lseek(fd, 0, SEEK_END);
        if (len <= 0 || len % sizeof(struct sock_filter) != 0
            || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return pea_error_set(err, EINVAL, "the seccomp filter has an invalid size");
        f->prog.len = (unsigned short)(len / sizeof(struct sock_filter));
        f->prog.filter = xmalloc((size_t)len);
        if (pread(fd, f->prog.filter, (size_t)len, 0) != len)
                return pea_error_syscall(err, errno, "reading the seccomp filter");
        return 0;
}

/*
 * The cache: <dir>/<sha256 of the profile and libseccomp's version>.bpf holds
 * the program, so a profile seen before costs a file read, not a compile.
 */
static char *cache_path(const char *dir, json_t *seccomp)
{
        if (!dir)
                return NULL;
        _cleanup_free_ char *text = json_dumps(seccomp, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text)
                return NULL;
        const struct scmp_version *v = seccomp_version();
        _cleanup_free_ char *salt =
                xasprintf("pea-seccomp-1 %u.%u.%u\n", v->major, v->minor, v->micro);
        struct pea_sha sha;
        char hex[PEA_SHA_MAX_HEX];
        pea_sha_init(&sha, PEA_SHA256);
        pea_sha_update(&sha, salt, strlen(salt));
        pea_sha_update(&sha, text, strlen(text));
        pea_sha_final_hex(&sha, false, hex);
        return xasprintf("%s/%s.bpf", dir, hex);
}

static bool cache_read(const char *path, struct runtime_seccomp *f)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if (!path
            || pea_read_file_at(AT_FDCWD, path, BPF_MAXINSNS * sizeof(struct sock_filter), &data,
                                &len, NULL)
                       < 0)
                return false;
        if (len == 0 || len % sizeof(struct sock_filter) != 0)
                return false;
        f->prog.len = (unsigned short)(len / sizeof(struct sock_filter));
        f->prog.filter = (struct sock_filter *)TAKE_PTR(data);
        return true;
}

static void cache_write(const char *path, const struct runtime_seccomp *f)
{
        if (!path)
                return;
        _cleanup_free_ char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return;
        /* A lost or torn write only costs the next run a compile. */
        (void)pea_write_file_replace_at(AT_FDCWD, path, f->prog.filter,
                                        f->prog.len * sizeof(struct sock_filter), 0600, NULL);
}

int runtime_seccomp_build(json_t *seccomp, const char *cache_dir, void **ret,
                          struct pea_error **err)
{
        _cleanup_free_ struct runtime_seccomp *f = xcalloc(1, sizeof(*f));
        f->flags = filter_flags(json_object_get(seccomp, "flags"));
        _cleanup_free_ char *path = cache_path(cache_dir, seccomp);
        if (cache_read(path, f)) {
                *ret = TAKE_PTR(f);
                return 0;
        }
        scmp_filter_ctx ctx = NULL;
        int r = compile(seccomp, &ctx, err);
        if (r < 0)
                return r;
        r = export_bpf(ctx, f, err);
        seccomp_release(ctx);
        if (r < 0) {
                free(f->prog.filter);
                return r;
        }
        cache_write(path, f);
        *ret = TAKE_PTR(f);
        return 0;
}

char *pea_runtime_seccomp_cache_dir(const char *run_root)
{
        return run_root ? xasprintf("%s/seccomp", run_root) : NULL;
}

int runtime_seccomp_load(void *filter, struct pea_error **err)
{
        const struct runtime_seccomp *f = filter;
        if (!f)
                return 0;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &f->prog) < 0)
                return pea_error_syscall(err, errno, "loading the seccomp filter");
        return 0;
}

void *runtime_seccomp_free(void *filter)
{
        struct runtime_seccomp *f = filter;
        if (f) {
                free(f->prog.filter);
                free(f);
        }
        return NULL;
}
