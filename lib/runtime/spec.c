/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mount.h>
#include <sys/resource.h>

#include <jansson.h>

#include "base.h"
#include "runtime-internal.h"
#include "specgen.h"

/*
 * config.json into struct runtime_spec. Everything is checked here, before
 * any process is forked, so the executor only executes a plan.
 */

static int type_error(const char *what, const char *type, struct pea_error **err)
{
        return pea_error_set(err, EINVAL, "'%s' must be %s", what, type);
}

static int get_string(json_t *obj, const char *key, const char *what, bool required, char **ret,
                      struct pea_error **err)
{
        json_t *v = obj ? json_object_get(obj, key) : NULL;
        if (!v || json_is_null(v)) {
                if (required)
                        return pea_error_set(err, EINVAL, "'%s' is missing", what);
                return 0;
        }
        if (!json_is_string(v))
                return type_error(what, "a string", err);
        *ret = xstrdup(json_string_value(v));
        return 0;
}

static int get_strv(json_t *arr, const char *what, char ***ret, struct pea_error **err)
{
        if (!arr || json_is_null(arr))
                return 0;
        if (!json_is_array(arr))
                return type_error(what, "an array of strings", err);
        _cleanup_strv_ char **l = xcalloc(json_array_size(arr) + 1, sizeof(char *));
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
                if (!json_is_string(v))
                        return type_error(what, "an array of strings", err);
                l[i] = xstrdup(json_string_value(v));
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int get_u32(json_t *v, const char *what, uint32_t *ret, struct pea_error **err)
{
        if (!json_is_integer(v) || json_integer_value(v) < 0
            || json_integer_value(v) > (json_int_t)UINT32_MAX)
                return type_error(what, "a 32-bit unsigned integer", err);
        *ret = (uint32_t)json_integer_value(v);
        return 0;
}

static int get_u64(json_t *v, const char *what, uint64_t *ret, struct pea_error **err)
{
        /* jansson reads values above INT64_MAX as reals; RLIM_INFINITY is one. */
        if (json_is_real(v) && json_real_value(v) >= 9.2e18) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (!json_is_integer(v))
                return type_error(what, "an unsigned integer", err);
        json_int_t n = json_integer_value(v);
        *ret = n < 0 ? UINT64_MAX : (uint64_t)n;
        return 0;
}

static int get_object(json_t *parent, const char *key, const char *what, json_t **ret,
                      struct pea_error **err)
{
        json_t *v = parent ? json_object_get(parent, key) : NULL;
        if (v && !json_is_null(v) && !json_is_object(v))
                return type_error(what, "an object", err);
        *ret = json_is_object(v) ? v : NULL;
        return 0;
}

static int get_array(json_t *parent, const char *key, const char *what, json_t **ret,
                     struct pea_error **err)
{
        json_t *v = parent ? json_object_get(parent, key) : NULL;
        if (v && !json_is_null(v) && !json_is_array(v))
                return type_error(what, "an array", err);
        *ret = json_is_array(v) ? v : NULL;
        return 0;
}

static const struct {
        const char *name;
        int resource;
} rlimit_table[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimit(json_t *o, struct runtime_rlimit *r, struct pea_error **err)
{
        const char *type = json_string_value(json_object_get(o, "type"));
        if (!type)
                return pea_error_set(err, EINVAL, "'process.rlimits' entry without a type");
        for (size_t i = 0; i < ELEMENTSOF(rlimit_table); i++)
                if (streq(rlimit_table[i].name, type)) {
                        r->resource = rlimit_table[i].resource;
                        r->name = xstrdup(type);
                }
        if (!r->name)
                return pea_error_set(err, EINVAL, "unknown rlimit '%s'", type);
        int k = get_u64(json_object_get(o, "soft"), "process.rlimits.soft", &r->soft, err);
        if (k < 0)
                return k;
        return get_u64(json_object_get(o, "hard"), "process.rlimits.hard", &r->hard, err);
}

static int parse_rlimits(json_t *process, struct runtime_spec *s, struct pea_error **err)
{
        json_t *arr = NULL;
        int r = get_array(process, "rlimits", "process.rlimits", &arr, err);
        if (r < 0 || !arr)
                return r;
        s->rlimits = xcalloc(json_array_size(arr) + 1, sizeof(*s->rlimits));
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
                if (!json_is_object(v))
                        return type_error("process.rlimits", "an array of objects", err);
                r = parse_rlimit(v, &s->rlimits[s->n_rlimits++], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_user(json_t *process, struct runtime_spec *s, struct pea_error **err)
{
        json_t *user = NULL;
        int r = get_object(process, "user", "process.user", &user, err);
        if (r < 0 || !user)
                return r;
        uint32_t id = 0;
        json_t *v = json_object_get(user, "uid");
        if (v && (r = get_u32(v, "process.user.uid", &id, err)) < 0)
                return r;
        s->uid = id;
        id = 0;
        v = json_object_get(user, "gid");
        if (v && (r = get_u32(v, "process.user.gid", &id, err)) < 0)
                return r;
        s->gid = id;
        v = json_object_get(user, "umask");
        if (v && !json_is_null(v)) {
                if ((r = get_u32(v, "process.user.umask", &id, err)) < 0)
                        return r;
                s->has_umask = true;
                s->umask = id & 0777;
        }
        json_t *arr = NULL;
        r = get_array(user, "additionalGids", "process.user.additionalGids", &arr, err);
        if (r < 0 || !arr)
                return r;
        s->additional_gids = xcalloc(json_array_size(arr) + 1, sizeof(gid_t));
        size_t i;
        json_array_foreach(arr, i, v) {
                r = get_u32(v, "process.user.additionalGids", &id, err);
                if (r < 0)
                        return r;
                s->additional_gids[s->n_additional_gids++] = id;
        }
        return 0;
}

static int parse_caps(json_t *process, struct runtime_caps *c, struct pea_error **err)
{
        json_t *caps = NULL;
        int r = get_object(process, "capabilities", "process.capabilities", &caps, err);
        if (r < 0 || !caps)
                return r;
        c->present = true;

        const struct {
                const char *key;
                uint64_t *mask;
        } sets[] = {
                {"bounding", &c->bounding},       {"effective", &c->effective},
                {"inheritable", &c->inheritable}, {"permitted", &c->permitted},
                {"ambient", &c->ambient},
        };

        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                r = runtime_caps_mask(json_object_get(caps, sets[i].key), sets[i].key, sets[i].mask,
                                      err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_process(json_t *root, struct runtime_spec *s, struct pea_error **err)
{
        json_t *process = NULL;
        int r = get_object(root, "process", "process", &process, err);
        if (r < 0)
                return r;
        if (!process)
                return pea_error_set(err, EINVAL, "'process' is missing");
        s->terminal = json_is_true(json_object_get(process, "terminal"));
        s->no_new_privileges = json_is_true(json_object_get(process, "noNewPrivileges"));
        json_t *oom = json_object_get(process, "oomScoreAdj");
        if (oom && !json_is_null(oom)) {
                if (!json_is_integer(oom) || json_integer_value(oom) < -1000
                    || json_integer_value(oom) > 1000)
                        return type_error("process.oomScoreAdj", "an integer in [-1000, 1000]",
                                          err);
                s->has_oom_score_adj = true;
                s->oom_score_adj = (int)json_integer_value(oom);
        }
        r = get_strv(json_object_get(process, "args"), "process.args", &s->args, err);
        if (r < 0)
                return r;
        if (strv_length(s->args) == 0 || s->args[0][0] == '\0')
                return pea_error_set(err, EINVAL, "'process.args' must not be empty");
        r = get_strv(json_object_get(process, "env"), "process.env", &s->env, err);
        if (r < 0)
                return r;
        r = get_string(process, "cwd", "process.cwd", false, &s->cwd, err);
        if (r < 0)
                return r;
        if (!s->cwd)
                s->cwd = xstrdup("/");
        if (s->cwd[0] != '/')
                return pea_error_set(err, EINVAL, "'process.cwd' must be absolute, not '%s'",
                                     s->cwd);
        r = parse_user(process, s, err);
        if (r < 0)
                return r;
        r = parse_caps(process, &s->caps, err);
        if (r < 0)
                return r;
        return parse_rlimits(process, s, err);
}

static int parse_root(json_t *root, const char *bundle_dir, struct runtime_spec *s,
                      struct pea_error **err)
{
        json_t *o = NULL;
        int r = get_object(root, "root", "root", &o, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = NULL;
        r = get_string(o, "path", "root.path", true, &path, err);
        if (r < 0)
                return r;
        s->root_readonly = json_is_true(json_object_get(o, "readonly"));
        if (path[0] == '/') {
                s->root_path = TAKE_PTR(path);
                return 0;
        }
        _cleanup_free_ char *bundle =
                bundle_dir[0] == '/' ? xstrdup(bundle_dir) : realpath(bundle_dir, NULL);
        if (!bundle)
                return pea_error_syscall(err, errno, "resolving bundle '%s'", bundle_dir);
        s->root_path = xasprintf("%s/%s", bundle, path);
        return 0;
}

static int parse_mount(json_t *o, struct runtime_mount *m, struct pea_error **err)
{
        if (!json_is_object(o))
                return type_error("mounts", "an array of objects", err);
        int r = get_string(o, "destination", "mounts.destination", true, &m->destination, err);
        if (r < 0)
                return r;
        r = get_string(o, "type", "mounts.type", false, &m->type, err);
        if (r < 0)
                return r;
        r = get_string(o, "source", "mounts.source", false, &m->source, err);
        if (r < 0)
                return r;
        return get_strv(json_object_get(o, "options"), "mounts.options", &m->options, err);
}

static int parse_mounts(json_t *root, struct runtime_spec *s, struct pea_error **err)
{
        json_t *arr = NULL;
        int r = get_array(root, "mounts", "mounts", &arr, err);
        if (r < 0 || !arr)
                return r;
        s->mounts = xcalloc(json_array_size(arr) + 1, sizeof(*s->mounts));
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
                r = parse_mount(v, &s->mounts[s->n_mounts++], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const struct {
        const char *name;
        int type;
} ns_table[] = {
        {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
        {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
        {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

int runtime_ns_type_from_string(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(ns_table); i++)
                if (streq(ns_table[i].name, s))
                        return ns_table[i].type;
        return -EINVAL;
}

const char *runtime_ns_type_to_string(int type)
{
        for (size_t i = 0; i < ELEMENTSOF(ns_table); i++)
                if (ns_table[i].type == type)
                        return ns_table[i].name;
        return "unknown";
}

struct runtime_ns *runtime_spec_ns(struct runtime_spec *s, int type)
{
        for (size_t i = 0; i < s->n_namespaces; i++)
                if (s->namespaces[i].type == type)
                        return &s->namespaces[i];
        return NULL;
}

int runtime_spec_join_ns(struct runtime_spec *s, const char *type, const char *path,
                         struct pea_error **err)
{
        int t = runtime_ns_type_from_string(type);
        if (t < 0)
                return pea_error_set(err, EINVAL, "unknown namespace type '%s'", type);
        if (!path || path[0] != '/')
                return pea_error_set(err, EINVAL, "namespace path for '%s' must be absolute", type);
        struct runtime_ns *ns = runtime_spec_ns(s, t);
        if (!ns) {
                s->namespaces =
                        xrealloc(s->namespaces, (s->n_namespaces + 1) * sizeof(*s->namespaces));
                ns = &s->namespaces[s->n_namespaces++];
                *ns = (struct runtime_ns){.type = t};
        }
        free(ns->path);
        ns->path = xstrdup(path);
        return 0;
}

static int parse_namespaces(json_t *linux_, struct runtime_spec *s, struct pea_error **err)
{
        json_t *arr = NULL;
        int r = get_array(linux_, "namespaces", "linux.namespaces", &arr, err);
        if (r < 0 || !arr)
                return r;
        s->namespaces = xcalloc(json_array_size(arr) + 1, sizeof(*s->namespaces));
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
                const char *type = json_string_value(json_object_get(v, "type"));
                int t = type ? runtime_ns_type_from_string(type) : -EINVAL;
                if (t < 0)
                        return pea_error_set(err, EINVAL, "unknown namespace type '%s'",
                                             type ? type : "");
                if (runtime_spec_ns(s, t))
                        return pea_error_set(err, EINVAL, "namespace '%s' listed twice", type);
                struct runtime_ns *ns = &s->namespaces[s->n_namespaces++];
                ns->type = t;
                r = get_string(v, "path", "linux.namespaces.path", false, &ns->path, err);
                if (r < 0)
                        return r;
                if (ns->path && ns->path[0] == '\0') {
                        free(ns->path);
                        ns->path = NULL;
                }
        }
        return 0;
}

static int parse_idmaps(json_t *linux_, const char *key, struct runtime_idmap **ret, size_t *ret_n,
                        struct pea_error **err)
{
        json_t *arr = NULL;
        int r = get_array(linux_, key, key, &arr, err);
        if (r < 0 || !arr)
                return r;
        _cleanup_free_ struct runtime_idmap *m = xcalloc(json_array_size(arr) + 1, sizeof(*m));
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
                if ((r = get_u32(json_object_get(v, "containerID"), key, &m[i].container_id, err))
                            < 0
                    || (r = get_u32(json_object_get(v, "hostID"), key, &m[i].host_id, err)) < 0
                    || (r = get_u32(json_object_get(v, "size"), key, &m[i].size, err)) < 0)
                        return r;
        }
        *ret_n = json_array_size(arr);
        *ret = TAKE_PTR(m);
        return 0;
}

static int parse_device(json_t *o, struct runtime_device *d, struct pea_error **err)
{
        int r = get_string(o, "path", "linux.devices.path", true, &d->path, err);
        if (r < 0)
                return r;
        const char *type = json_string_value(json_object_get(o, "type"));
        if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
                return pea_error_set(err, EINVAL, "device '%s' has an invalid type", d->path);
        d->type = type[0] == 'u' ? 'c' : type[0];
        d->mode = 0666;

        const struct {
                const char *key;
                uint32_t *val;
        } fields[] = {
                {"major", &d->major}, {"minor", &d->minor}, {"fileMode", &d->mode},
                {"uid", &d->uid},     {"gid", &d->gid},
        };

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                json_t *v = json_object_get(o, fields[i].key);
                if (v && (r = get_u32(v, "linux.devices", fields[i].val, err)) < 0)
                        return r;
        }
        d->mode &= 07777;
        return 0;
}

static int parse_devices(json_t *linux_, struct runtime_spec *s, struct pea_error **err)
{
        json_t *arr = NULL;
        int r = get_array(linux_, "devices", "linux.devices", &arr, err);
        if (r < 0 || !arr)
                return r;
        s->devices = xcalloc(json_array_size(arr) + 1, sizeof(*s->devices));
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
                r = parse_device(v, &s->devices[s->n_devices++], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_sysctl(json_t *linux_, struct runtime_spec *s, struct pea_error **err)
{
        json_t *o = NULL;
        int r = get_object(linux_, "sysctl", "linux.sysctl", &o, err);
        if (r < 0 || !o)
                return r;
        s->sysctl = xcalloc(json_object_size(o) + 1, sizeof(*s->sysctl));
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v) {
                if (!json_is_string(v))
                        return type_error("linux.sysctl", "an object of strings", err);
                if (key[0] == '\0' || strstr(key, ".."))
                        return pea_error_set(err, EINVAL, "invalid sysctl '%s'", key);
                s->sysctl[s->n_sysctl].key = xstrdup(key);
                s->sysctl[s->n_sysctl++].value = xstrdup(json_string_value(v));
        }
        return 0;
}

static int parse_propagation(json_t *linux_, struct runtime_spec *s, struct pea_error **err)
{
        static const struct {
                const char *name;
                unsigned long flags;
        } table[] = {
                {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
                {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
                {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
                {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
        };

        const char *p = json_string_value(json_object_get(linux_, "rootfsPropagation"));
        if (!p || p[0] == '\0')
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(table[i].name, p)) {
                        s->rootfs_propagation = table[i].flags;
                        return 0;
                }
        return pea_error_set(err, EINVAL, "invalid 'linux.rootfsPropagation' '%s'", p);
}

static int parse_linux(json_t *root, struct runtime_spec *s, struct pea_error **err)
{
        json_t *l = NULL;
        int r = get_object(root, "linux", "linux", &l, err);
        if (r < 0 || !l)
                return r;
        if ((r = parse_namespaces(l, s, err)) < 0
            || (r = parse_idmaps(l, "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err)) < 0
            || (r = parse_idmaps(l, "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err)) < 0
            || (r = parse_devices(l, s, err)) < 0 || (r = parse_sysctl(l, s, err)) < 0
            || (r = parse_propagation(l, s, err)) < 0)
                return r;
        r = get_strv(json_object_get(l, "maskedPaths"), "linux.maskedPaths", &s->masked_paths, err);
        if (r < 0)
                return r;
        r = get_strv(json_object_get(l, "readonlyPaths"), "linux.readonlyPaths", &s->readonly_paths,
                     err);
        if (r < 0)
                return r;
        json_t *sc = json_object_get(l, "seccomp");
        if (sc && !json_is_null(sc)) {
                if (!json_is_object(sc))
                        return type_error("linux.seccomp", "an object", err);
                s->seccomp = json_incref(sc);
        }
        return 0;
}

static int check_spec(struct runtime_spec *s, struct pea_error **err)
{
        if (!runtime_spec_ns(s, CLONE_NEWNS))
                return pea_error_set(err, EINVAL, "the runtime needs a 'mount' namespace");
        struct runtime_ns *user = runtime_spec_ns(s, CLONE_NEWUSER);
        if (user && !user->path && (s->n_uid_mappings == 0 || s->n_gid_mappings == 0))
                return pea_error_set(err, EINVAL,
                                     "a new user namespace needs 'linux.uidMappings' and "
                                     "'linux.gidMappings'");
        if (s->hostname && s->hostname[0] && !runtime_spec_ns(s, CLONE_NEWUTS))
                return pea_error_set(err, EINVAL,
                                     "cannot set the hostname without a private uts namespace");
        return 0;
}

int runtime_spec_parse(const char *text, const char *bundle_dir, struct runtime_spec **ret,
                       struct pea_error **err)
{
        /* pea_spec_loads() reads 18446744073709551615 (RLIM_INFINITY), which jansson refuses. */
        _cleanup_json_ json_t *root = NULL;
        int k = pea_spec_loads(text, strlen(text), &root, err);
        if (k < 0)
                return pea_error_wrap(err, "parsing 'config.json'");
        _cleanup_spec_ struct runtime_spec *s = xcalloc(1, sizeof(*s));
        int r = parse_process(root, s, err);
        if (r >= 0)
                r = parse_root(root, bundle_dir, s, err);
        if (r >= 0)
                r = get_string(root, "hostname", "hostname", false, &s->hostname, err);
        if (r >= 0)
                r = parse_mounts(root, s, err);
        if (r >= 0)
                r = parse_linux(root, s, err);
        if (r >= 0)
                r = check_spec(s, err);
        if (r < 0)
                return pea_error_wrap(err, "invalid 'config.json'");
        *ret = TAKE_PTR(s);
        return 0;
}

int runtime_spec_load(const char *bundle_dir, struct runtime_spec **ret, struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/config.json", bundle_dir);
        _cleanup_free_ char *text = NULL;
        int r = pea_read_file_at(AT_FDCWD, path, RUNTIME_MAX_CONFIG_SIZE, &text, NULL, err);
        if (r < 0)
                return r;
        return runtime_spec_parse(text, bundle_dir, ret, err);
}

struct runtime_spec *runtime_spec_free(struct runtime_spec *s)
{
        if (!s)
                return NULL;
        free(s->additional_gids);
        strv_free(s->args);
        strv_free(s->env);
        free(s->cwd);
        for (size_t i = 0; i < s->n_rlimits; i++)
                free(s->rlimits[i].name);
        free(s->rlimits);
        free(s->root_path);
        free(s->hostname);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].destination);
                free(s->mounts[i].type);
                free(s->mounts[i].source);
                strv_free(s->mounts[i].options);
        }
        free(s->mounts);
        for (size_t i = 0; i < s->n_namespaces; i++)
                free(s->namespaces[i].path);
        free(s->namespaces);
        free(s->uid_mappings);
        free(s->gid_mappings);
        strv_free(s->masked_paths);
        strv_free(s->readonly_paths);
        json_decref(s->seccomp);
        for (size_t i = 0; i < s->n_sysctl; i++) {
                free(s->sysctl[i].key);
                free(s->sysctl[i].value);
        }
        free(s->sysctl);
        for (size_t i = 0; i < s->n_devices; i++)
                free(s->devices[i].path);
        free(s->devices);
        free(s);
        return NULL;
}
