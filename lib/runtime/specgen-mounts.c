/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/statvfs.h>

#include "base.h"
#include "specgen-internal.h"

/*
 * The mounts of the spec, after podman 4.3 (runtime-tools' defaults,
 * SpecGenToOCI's rootless adjustments, SupersedeUserMounts, InitFSMounts and
 * util.ProcessOptions), and the masked and read-only paths.
 */

/* ---- sizes --------------------------------------------------------------- */

int pea_spec_parse_size(const char *s, uint64_t *ret, struct pea_error **err)
{
        /* docker's units.RAMInBytes: ^(\d+(\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$, binary. */
        const char *p = s ? s : "";
        size_t n = strspn(p, "0123456789");
        if (n == 0)
                return pea_error_set(err, EINVAL, "invalid size: '%s'", p);
        if (p[n] == '.') {
                size_t f = strspn(p + n + 1, "0123456789");
                if (f == 0)
                        return pea_error_set(err, EINVAL, "invalid size: '%s'", p);
                n += 1 + f;
        }
        _cleanup_free_ char *num = xstrndup(p, n);
        double v = strtod(num, NULL);
        const char *u = p + n;
        if (*u == ' ')
                u++;
        static const char units[] = "kmgtp";
        double mult = 1;
        const char *x = *u ? strchr(units, tolower((unsigned char)*u)) : NULL;
        if (x) {
                for (const char *y = units; y <= x; y++)
                        mult *= 1024;
                u++;
        }
        if (*u == 'i' || *u == 'I')
                u++;
        if (*u == 'b' || *u == 'B')
                u++;
        if (*u || v * mult >= 18446744073709551616.0)
                return pea_error_set(err, EINVAL, "invalid size: '%s'", p);
        *ret = (uint64_t)(v * mult);
        return 0;
}

/* ---- paths --------------------------------------------------------------- */

char *spec_path_clean(const char *p)
{
        _cleanup_strv_ char **parts = strv_split(p, "/");
        _cleanup_strv_ char **out = NULL;
        STRV_FOREACH(c, parts) {
                if (streq(*c, "."))
                        continue;
                if (streq(*c, "..")) {
                        size_t n = strv_length(out);
                        if (n > 0) {
                                free(out[n - 1]);
                                out[n - 1] = NULL;
                        }
                        continue;
                }
                strv_push(&out, *c);
        }
        _cleanup_free_ char *j = strv_join(out, "/");
        return xasprintf("/%s", j);
}

static size_t path_depth(const char *p)
{
        size_t n = 0;
        for (; *p; p++)
                if (*p == '/' && p[1])
                        n++;
        return n;
}

/* ---- mount options (podman's ValidateVolumeOpts and ProcessOptions) ------ */

enum opt_class {
        OPT_EXEC,
        OPT_SUID,
        OPT_DEV,
        OPT_RW,
        OPT_PROP,
        OPT_BIND,
        OPT_Z,
        OPT_U,
        OPT_COPYUP,
        OPT_SIZE,
        OPT_MODE,
        OPT_UID,
        OPT_GID,
        OPT_INODES,
        OPT_DROP, /* accepted, not passed to the runtime */
        _OPT_CLASS_MAX,
};

#define FOR_BIND  1u
#define FOR_TMPFS 2u

static const struct {
        const char *name; /* "size=" matches by prefix */
        enum opt_class cls;
        unsigned where;
} opt_table[] = {
        {"exec", OPT_EXEC, FOR_BIND | FOR_TMPFS},
        {"noexec", OPT_EXEC, FOR_BIND | FOR_TMPFS},
        {"suid", OPT_SUID, FOR_BIND | FOR_TMPFS},
        {"nosuid", OPT_SUID, FOR_BIND | FOR_TMPFS},
        {"dev", OPT_DEV, FOR_BIND | FOR_TMPFS},
        {"nodev", OPT_DEV, FOR_BIND | FOR_TMPFS},
        {"rw", OPT_RW, FOR_BIND | FOR_TMPFS},
        {"ro", OPT_RW, FOR_BIND | FOR_TMPFS},
        {"private", OPT_PROP, FOR_BIND | FOR_TMPFS},
        {"rprivate", OPT_PROP, FOR_BIND | FOR_TMPFS},
        {"shared", OPT_PROP, FOR_BIND | FOR_TMPFS},
        {"rshared", OPT_PROP, FOR_BIND | FOR_TMPFS},
        {"slave", OPT_PROP, FOR_BIND | FOR_TMPFS},
        {"rslave", OPT_PROP, FOR_BIND | FOR_TMPFS},
        {"unbindable", OPT_PROP, FOR_BIND},
        {"runbindable", OPT_PROP, FOR_BIND},
        {"bind", OPT_BIND, FOR_BIND},
        {"rbind", OPT_BIND, FOR_BIND},
        {"z", OPT_Z, FOR_BIND},
        {"Z", OPT_Z, FOR_BIND},
        {"U", OPT_U, FOR_BIND | FOR_TMPFS},
        {"tmpcopyup", OPT_COPYUP, FOR_TMPFS},
        {"notmpcopyup", OPT_COPYUP, FOR_TMPFS},
        {"size=", OPT_SIZE, FOR_TMPFS},
        {"mode=", OPT_MODE, FOR_TMPFS},
        {"uid=", OPT_UID, FOR_TMPFS},
        {"gid=", OPT_GID, FOR_TMPFS},
        {"nr_inodes=", OPT_INODES, FOR_TMPFS},
        {"cached", OPT_DROP, FOR_BIND},
        {"delegated", OPT_DROP, FOR_BIND},
        {"copy", OPT_DROP, FOR_BIND},
        {"nocopy", OPT_DROP, FOR_BIND},
};

static const char *const dup_msg[_OPT_CLASS_MAX] = {
        [OPT_EXEC] = "only one of 'noexec' and 'exec' can be used",
        [OPT_SUID] = "only one of 'nosuid' and 'suid' can be used",
        [OPT_DEV] = "only one of 'nodev' and 'dev' can be used",
        [OPT_RW] = "only one of 'rw' and 'ro' can be used",
        [OPT_PROP] = "only one root propagation mode can be used",
        [OPT_BIND] = "only one of 'rbind' and 'bind' can be used",
        [OPT_Z] = "only one of 'z' and 'Z' can be used",
        [OPT_U] = "the 'U' option can only be set once",
        [OPT_COPYUP] = "the 'tmpcopyup' or 'notmpcopyup' option can only be set once",
        [OPT_SIZE] = "only one tmpfs size can be specified",
        [OPT_MODE] = "only one tmpfs mode can be specified",
        [OPT_UID] = "only one tmpfs uid can be specified",
        [OPT_GID] = "only one tmpfs gid can be specified",
        [OPT_INODES] = "only one tmpfs nr_inodes can be specified",
};

static int opt_lookup(const char *opt)
{
        for (size_t i = 0; i < ELEMENTSOF(opt_table); i++) {
                const char *n = opt_table[i].name;
                if (endswith(n, "=") ? startswith(opt, n) != NULL : streq(opt, n))
                        return (int)i;
        }
        return -1;
}

/* Validates options; *ret_found gets a bit per class seen. */
static int opts_check(char *const *opts, unsigned where, unsigned *ret_found,
                      struct pea_error **err)
{
        unsigned found = 0;
        STRV_FOREACH(o, (char **)opts) {
                int i = opt_lookup(*o);
                if (i >= 0 && !(opt_table[i].where & where))
                        return pea_error_set(err, EINVAL,
                                             "the '%s' option is only allowed with %s "
                                             "mounts",
                                             *o, where == FOR_BIND ? "tmpfs" : "bind");
                if (i < 0 && where == FOR_BIND)
                        return pea_error_set(err, EINVAL, "invalid option type '%s'", *o);
                if (i < 0)
                        return pea_error_set(err, EINVAL,
                                             "unknown mount option '%s': invalid "
                                             "mount option",
                                             *o);
                enum opt_class c = opt_table[i].cls;
                if (c != OPT_DROP && (found & (1u << c)))
                        return pea_error_set(err, EINVAL, "%s", dup_msg[c]);
                found |= 1u << c;
        }
        *ret_found = found;
        return 0;
}

/* The source's nosuid/nodev/noexec carry over to a bind (they cannot be cleared rootless). */
static int source_flags(const char *source, unsigned long *ret, struct pea_error **err)
{
        struct statvfs sv;
        if (!source) {
                *ret = ST_NOSUID | ST_NODEV | ST_NOEXEC;
                return 0;
        }
        if (statvfs(source, &sv) < 0)
                return pea_error_syscall(err, errno, "statfs '%s'", source);
        *ret = sv.f_flag;
        return 0;
}

/* ProcessOptions: the given options (without pea-only ones) plus the defaults. */
static int opts_finish(char *const *opts, unsigned where, const char *source, json_t **ret,
                       struct pea_error **err)
{
        unsigned found = 0;
        unsigned long fl = 0;
        int r = opts_check(opts, where, &found, err);
        if (r >= 0)
                r = source_flags(where == FOR_TMPFS ? NULL : source, &fl, err);
        if (r < 0)
                return r;
        json_t *a = json_array();
        STRV_FOREACH(o, (char **)opts) {
                enum opt_class c = opt_table[opt_lookup(*o)].cls;
                if (c != OPT_DROP && c != OPT_Z && c != OPT_U && !streq(*o, "notmpcopyup"))
                        spec_json_push_str(a, *o);
        }
        if (!(found & (1u << OPT_RW)))
                spec_json_push_str(a, "rw");
        if (!(found & (1u << OPT_PROP)))
                spec_json_push_str(a, "rprivate");
        if (!(found & (1u << OPT_EXEC)) && (fl & ST_NOEXEC))
                spec_json_push_str(a, "noexec");
        if (!(found & (1u << OPT_SUID)) && (fl & ST_NOSUID))
                spec_json_push_str(a, "nosuid");
        if (!(found & (1u << OPT_DEV)) && (fl & ST_NODEV))
                spec_json_push_str(a, "nodev");
        if (where == FOR_TMPFS && !(found & (1u << OPT_COPYUP)))
                spec_json_push_str(a, "tmpcopyup");
        if (where == FOR_BIND && !(found & (1u << OPT_BIND)))
                spec_json_push_str(a, "rbind");
        *ret = a;
        return 0;
}

/* ---- -v and --tmpfs ------------------------------------------------------ */

static int ctr_path(const char *d, char **ret, struct pea_error **err)
{
        if (!d || d[0] != '/')
                return pea_error_set(err, EINVAL,
                                     "invalid container path '%s', must be an absolute path",
                                     d ? d : "");
        *ret = spec_path_clean(d);
        return 0;
}

static int volume_source(const char *src, struct pea_spec_volume *v, struct pea_error **err)
{
        if (!*src)
                return pea_error_set(err, EINVAL, "host directory cannot be empty");
        v->named = src[0] != '/' && src[0] != '.';
        if (v->named) {
                v->source = xstrdup(src);
                return 0;
        }
        _cleanup_free_ char *cwd = src[0] == '.' ? getcwd(NULL, 0) : NULL;
        if (src[0] == '.' && !cwd)
                return pea_error_syscall(err, errno, "getting the current directory");
        _cleanup_free_ char *abs = cwd ? xasprintf("%s/%s", cwd, src) : xstrdup(src);
        struct stat st;
        if (stat(abs, &st) < 0)
                return pea_error_syscall(err, errno, "stat '%s'", src);
        v->source = spec_path_clean(abs);
        return 0;
}

int pea_spec_parse_volume(const char *arg, struct pea_spec_volume *ret, struct pea_error **err)
{
        _cleanup_strv_ char **parts = NULL;
        /* Split on ':' keeping empty fields: "::" is malformed, not skipped. */
        for (const char *p = arg;; p++) {
                size_t n = strcspn(p, ":");
                strv_consume(&parts, xstrndup(p, n));
                p += n;
                if (!*p)
                        break;
        }
        size_t n = strv_length(parts);
        if (n > 3)
                return pea_error_set(err, EINVAL,
                                     "incorrect volume format '%s', should be "
                                     "[host-dir:]ctr-dir[:option]",
                                     arg);
        struct pea_spec_volume v = {0};
        int r = ctr_path(parts[n == 1 ? 0 : 1], &v.dest, err);
        if (r >= 0 && n == 3)
                v.options = strv_split(parts[2], ",");
        unsigned found = 0;
        if (r >= 0)
                r = opts_check(v.options, FOR_BIND, &found, err);
        if (r >= 0 && n > 1)
                r = volume_source(parts[0], &v, err);
        if (r < 0) {
                pea_spec_volume_done(&v);
                return r;
        }
        v.chown = found & (1u << OPT_U);
        *ret = v;
        return 0;
}

void pea_spec_volume_done(struct pea_spec_volume *v)
{
        free(v->source);
        free(v->dest);
        strv_free(v->options);
        *v = (struct pea_spec_volume){0};
}

static json_t *mount_new(const char *dest, const char *type, const char *source, json_t *opts)
{
        json_t *m = json_object();
        json_object_set_new(m, "destination", json_string(dest));
        json_object_set_new(m, "type", json_string(type));
        json_object_set_new(m, "source", json_string(source));
        json_object_set_new(m, "options", opts ? opts : json_array());
        return m;
}

/* A mount with fixed options, NULL-terminated. */
static json_t *mount_fixed(const char *dest, const char *type, const char *source, ...)
{
        json_t *a = json_array();
        va_list ap;
        va_start(ap, source);
        for (const char *o = va_arg(ap, const char *); o; o = va_arg(ap, const char *))
                spec_json_push_str(a, o);
        va_end(ap);
        return mount_new(dest, type, source, a);
}

static json_t *mounts_find(json_t *mounts, const char *dest)
{
        size_t i;
        json_t *m;
        json_array_foreach(mounts, i, m)
                if (streq(json_string_value(json_object_get(m, "destination")), dest))
                        return m;
        return NULL;
}

static int add_user_mount(json_t *user, json_t *m, struct pea_error **err)
{
        const char *dest = json_string_value(json_object_get(m, "destination"));
        if (mounts_find(user, dest)) {
                int r = pea_error_set(err, EINVAL, "'%s': duplicate mount destination", dest);
                json_decref(m);
                return r;
        }
        json_array_append_new(user, m);
        return 0;
}

static int add_volume(json_t *user, const char *arg, struct pea_error **err)
{
        struct pea_spec_volume v = {0};
        int r = pea_spec_parse_volume(arg, &v, err);
        if (r < 0)
                return r;
        json_t *opts = NULL;
        if (!v.source || v.named)
                r = pea_error_set(err, EINVAL,
                                  "volume '%s': named and anonymous volumes must be resolved to a "
                                  "host path first",
                                  arg);
        else
                r = opts_finish(v.options, FOR_BIND, v.source, &opts, err);
        if (r >= 0)
                r = add_user_mount(user, mount_new(v.dest, "bind", v.source, opts), err);
        pea_spec_volume_done(&v);
        return r;
}

static int add_tmpfs(json_t *user, const char *arg, struct pea_error **err)
{
        const char *colon = strchr(arg, ':');
        _cleanup_free_ char *d = colon ? xstrndup(arg, (size_t)(colon - arg)) : xstrdup(arg);
        _cleanup_free_ char *dest = NULL;
        _cleanup_strv_ char **opts = colon ? strv_split(colon + 1, ",") : NULL;
        json_t *o = NULL;
        int r = ctr_path(d, &dest, err);
        if (r >= 0)
                r = opts_finish(opts, FOR_TMPFS, NULL, &o, err);
        if (r < 0)
                return r;
        return add_user_mount(user, mount_new(dest, "tmpfs", "tmpfs", o), err);
}

/* --read-only: tmpfs on /run, /tmp and /var/tmp unless mounted otherwise. */
static void add_read_only_tmpfs(const struct spec_ctx *c, json_t *user)
{
        static const char *const dirs[] = {"/run", "/tmp", "/var/tmp"};
        if (!c->o->read_only || c->o->no_read_only_tmpfs)
                return;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (!mounts_find(user, dirs[i]))
                        json_array_append_new(user, mount_fixed(dirs[i], "tmpfs", "tmpfs", "rw",
                                                                "rprivate", "nosuid", "nodev",
                                                                "tmpcopyup", NULL));
}

/* ---- the defaults -------------------------------------------------------- */

bool spec_can_mount_sys(const struct spec_ctx *c)
{
        bool new_userns = c->user.mode != PEA_SPEC_NS_HOST;
        if (c->net.mode == PEA_SPEC_NS_HOST && (c->o->rootless || new_userns))
                return false;
        if (new_userns)
                return c->net.mode == PEA_SPEC_NS_PRIVATE || c->net.mode == PEA_SPEC_NS_NONE;
        return true;
}

static void add_sys(const struct spec_ctx *c, json_t *m)
{
        const char *perm = c->o->privileged ? "rw" : "ro";
        if (!spec_can_mount_sys(c)) {
                json_array_append_new(m, mount_fixed("/sys", "bind", "/sys", "rprivate", "nosuid",
                                                     "noexec", "nodev", perm, "rbind", NULL));
                json_array_append_new(m, mount_fixed("/sys/fs/cgroup", "bind", "/sys/fs/cgroup",
                                                     "rprivate", "nosuid", "noexec", "nodev", perm,
                                                     "rbind", NULL));
                return;
        }
        if (c->o->privileged)
                json_array_append_new(m, mount_fixed("/sys", "sysfs", "sysfs", "rprivate", "nosuid",
                                                     "noexec", "nodev", "rw", NULL));
        else
                json_array_append_new(m, mount_fixed("/sys", "sysfs", "sysfs", "nosuid", "noexec",
                                                     "nodev", "ro", NULL));
        /* cgroup v1 cannot be mounted rootless. */
        if (c->o->rootless && !c->cgroup2)
                return;
        bool rw = c->o->privileged || (c->cgroup2 && strv_contains(c->sec.unmask, "ALL"));
        json_array_append_new(m, mount_fixed("/sys/fs/cgroup", "cgroup", "cgroup", "rprivate",
                                             "nosuid", "noexec", "nodev", "relatime",
                                             rw ? "rw" : "ro", NULL));
}

static void add_shm(const struct spec_ctx *c, json_t *m)
{
        const struct pea_spec_opts *o = c->o;
        if (o->shm_path) {
                json_array_append_new(m,
                                      mount_fixed("/dev/shm", "bind", o->shm_path, "bind",
                                                  "rprivate", "nosuid", "noexec", "nodev", NULL));
        } else if (c->ipc.mode == PEA_SPEC_NS_HOST) {
                json_array_append_new(m,
                                      mount_fixed("/dev/shm", "bind", "/dev/shm", "bind",
                                                  "rprivate", "nosuid", "noexec", "nodev", NULL));
        } else if (c->ipc.mode != PEA_SPEC_NS_NONE) {
                _cleanup_free_ char *size = xasprintf("size=%llu", (unsigned long long)c->shm_size);
                json_array_append_new(m, mount_fixed("/dev/shm", "tmpfs", "shm", "nosuid", "noexec",
                                                     "nodev", "mode=1777", size, NULL));
        }
}

static void add_defaults(const struct spec_ctx *c, json_t *m)
{
        bool in_userns = c->o->rootless || c->user.mode != PEA_SPEC_NS_HOST;
        bool gid5 = c->gid5_mapped && (!c->o->rootless || c->outer_gids >= 5);
        if (in_userns && c->pid.mode == PEA_SPEC_NS_HOST)
                json_array_append_new(m, mount_fixed("/proc", "bind", "/proc", "rbind", "nosuid",
                                                     "noexec", "nodev", NULL));
        else
                json_array_append_new(
                        m, mount_fixed("/proc", "proc", "proc", "nosuid", "noexec", "nodev", NULL));
        json_array_append_new(m, mount_fixed("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime",
                                             "mode=755", "size=65536k", NULL));
        json_array_append_new(m, mount_fixed("/dev/pts", "devpts", "devpts", "nosuid", "noexec",
                                             "newinstance", "ptmxmode=0666", "mode=0620",
                                             gid5 ? "gid=5" : NULL, NULL));
        if (in_userns && c->ipc.mode == PEA_SPEC_NS_HOST)
                json_array_append_new(m, mount_fixed("/dev/mqueue", "bind", "/dev/mqueue", "bind",
                                                     "nosuid", "noexec", "nodev", NULL));
        else
                json_array_append_new(m, mount_fixed("/dev/mqueue", "mqueue", "mqueue", "nosuid",
                                                     "noexec", "nodev", NULL));
        add_sys(c, m);
        add_shm(c, m);
}

/* /etc/hosts & co. (podman's BindMounts), and the init binary. */
static void add_files(const struct spec_ctx *c, json_t *m)
{
        const struct pea_spec_opts *o = c->o;
        const char *const files[][2] = {
                {"/etc/hostname", o->hostname_path},
                {"/etc/hosts", o->hosts_path},
                {"/etc/resolv.conf", o->resolv_path},
                {"/run/.containerenv", o->containerenv_path},
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                if (!files[i][1])
                        continue;
                if (o->read_only)
                        json_array_append_new(m, mount_fixed(files[i][0], "bind", files[i][1],
                                                             "bind", "rprivate", "ro", "nosuid",
                                                             "noexec", "nodev", NULL));
                else
                        json_array_append_new(m, mount_fixed(files[i][0], "bind", files[i][1],
                                                             "bind", "rprivate", NULL));
        }
        if (o->init)
                json_array_append_new(m, mount_fixed(PEA_SPEC_INIT_PATH, "bind", o->init_path,
                                                     "bind", "rprivate", "ro", NULL));
}

/* InitFSMounts: the defaults of binds whose options are not complete yet. */
static int finish_binds(json_t *m, struct pea_error **err)
{
        size_t i;
        json_t *x;
        json_array_foreach(m, i, x) {
                if (!streq(json_string_value(json_object_get(x, "type")), "bind"))
                        continue;
                _cleanup_strv_ char **opts = NULL;
                size_t j;
                json_t *o;
                json_array_foreach(json_object_get(x, "options"), j, o)
                        strv_push(&opts, json_string_value(o));
                json_t *done = NULL;
                int r = opts_finish(opts, FOR_BIND, json_string_value(json_object_get(x, "source")),
                                    &done, err);
                if (r < 0)
                        return r;
                json_object_set_new(x, "options", done);
        }
        return 0;
}

/* Stable sort by depth, so parents are mounted before what lies below them. */
static json_t *sort_by_depth(json_t *m)
{
        size_t n = json_array_size(m);
        json_t *out = json_array();
        for (size_t depth = 0, left = n; left > 0; depth++)
                for (size_t i = 0; i < n; i++) {
                        json_t *x = json_array_get(m, i);
                        if (path_depth(json_string_value(json_object_get(x, "destination")))
                            != depth)
                                continue;
                        json_array_append(out, x);
                        left--;
                }
        return out;
}

int spec_mounts(const struct spec_ctx *c, json_t **ret, struct pea_error **err)
{
        _cleanup_json_ json_t *user = json_array(), *sys = json_array(), *all = json_array();
        STRV_FOREACH(v, c->o->volumes) {
                int r = add_volume(user, *v, err);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(t, c->o->tmpfs) {
                int r = add_tmpfs(user, *t, err);
                if (r < 0)
                        return r;
        }
        add_read_only_tmpfs(c, user);
        add_defaults(c, sys);
        add_files(c, sys);
        int r = finish_binds(sys, err);
        if (r < 0)
                return r;
        size_t i;
        json_t *x;
        /* User mounts supersede the defaults at the same destination. */
        json_array_foreach(sys, i, x)
                if (!mounts_find(user, json_string_value(json_object_get(x, "destination"))))
                        json_array_append(all, x);
        json_array_extend(all, user);
        *ret = sort_by_depth(all);
        return 0;
}

/* ---- masked and read-only paths ------------------------------------------ */

static const char *const masked_default[] = {
        "/proc/acpi",       "/proc/kcore",       "/proc/keys",        "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
        "/sys/firmware",    "/sys/fs/selinux",   "/sys/dev/block",
};

static const char *const readonly_default[] = {
        "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static bool should_mask(const char *path, char *const *unmask)
{
        STRV_FOREACH(u, (char **)unmask)
                if (strcasecmp(*u, "all") == 0 || fnmatch(*u, path, FNM_PATHNAME) == 0)
                        return false;
        return true;
}

static void push_unique(json_t *a, const char *s)
{
        size_t i;
        json_t *x;
        json_array_foreach(a, i, x)
                if (streq(json_string_value(x), s))
                        return;
        spec_json_push_str(a, s);
}

void spec_masked_paths(const struct spec_ctx *c, bool sys_bound, json_t *lnx)
{
        const struct pea_spec_opts *o = c->o;
        json_t *masked = json_array(), *ro = json_array();
        if (!o->privileged) {
                for (size_t i = 0; i < ELEMENTSOF(masked_default); i++)
                        if (should_mask(masked_default[i], c->sec.unmask))
                                push_unique(masked, masked_default[i]);
                for (size_t i = 0; i < ELEMENTSOF(readonly_default); i++)
                        if (should_mask(readonly_default[i], c->sec.unmask))
                                push_unique(ro, readonly_default[i]);
                if (sys_bound && o->rootless)
                        push_unique(masked, "/sys/kernel");
        }
        if (o->privileged || !(c->pid.mode == PEA_SPEC_NS_HOST && o->rootless))
                STRV_FOREACH(p, c->sec.mask)
                        if ((*p)[0] == '/')
                                push_unique(masked, *p);
        json_object_set_new(lnx, "maskedPaths", masked);
        json_object_set_new(lnx, "readonlyPaths", ro);
}
