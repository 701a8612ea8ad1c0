/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "base.h"
#include "image/image.h"
#include "specgen-internal.h"

extern char **environ;

/*
 * pea_spec_generate(): the process (argv, env, user, caps, rlimits), root,
 * hostname, mounts (specgen-mounts.c) and linux (namespaces, id mappings,
 * seccomp, masked paths), in podman 4.3's shape. Capabilities are computed
 * with the process and must precede seccomp, whose rules depend on them.
 */

void spec_json_push_str(json_t *array, const char *s)
{
        json_array_append_new(array, json_string(s));
}

json_t *spec_strv_json(char *const *l)
{
        json_t *a = json_array();
        STRV_FOREACH(s, (char **)l)
                spec_json_push_str(a, *s);
        return a;
}

/* ---- namespaces ---------------------------------------------------------- */

static int ns_private_word(const char *kind, const char *s, enum pea_spec_ns_mode *ret)
{
        static const char *const net_words[] = {"private", "bridge", "slirp4netns", "pasta"};
        if (streq(s, "private") && !streq(kind, "userns")) {
                *ret = PEA_SPEC_NS_PRIVATE;
                return 0;
        }
        if ((streq(kind, "network") || streq(kind, "ipc")) && streq(s, "none")) {
                *ret = PEA_SPEC_NS_NONE;
                return 0;
        }
        if (streq(kind, "ipc") && streq(s, "shareable")) {
                *ret = PEA_SPEC_NS_PRIVATE;
                return 0;
        }
        if (streq(kind, "userns") && streq(s, "keep-id")) {
                *ret = PEA_SPEC_NS_PRIVATE; /* the one private userns pea builds */
                return 0;
        }
        for (size_t i = 0; streq(kind, "network") && i < ELEMENTSOF(net_words); i++) {
                const char *rest = startswith(s, net_words[i]);
                if (rest && (!*rest || *rest == ':')) {
                        *ret = PEA_SPEC_NS_PRIVATE; /* lib/network attaches it later */
                        return 0;
                }
        }
        return -EINVAL;
}

int pea_spec_parse_ns(const char *kind, const char *s, enum pea_spec_ns_mode *ret_mode,
                      const char **ret_path, struct pea_error **err)
{
        bool user = streq(kind, "userns");
        enum pea_spec_ns_mode m = user ? PEA_SPEC_NS_HOST : PEA_SPEC_NS_PRIVATE;
        const char *path = NULL;
        if (!s || !*s || streq(s, "host")) {
                m = s && streq(s, "host") ? PEA_SPEC_NS_HOST : m;
        } else if (startswith(s, "ns:")) {
                path = s + 3;
                m = PEA_SPEC_NS_PATH;
                if (path[0] != '/')
                        return pea_error_set(err, EINVAL,
                                             "invalid --%s '%s': the namespace path must be "
                                             "absolute",
                                             kind, s);
        } else if (ns_private_word(kind, s, &m) < 0) {
                return pea_error_set(err, EINVAL, "unrecognized namespace mode '%s' passed to --%s",
                                     s, kind);
        }
        *ret_mode = m;
        *ret_path = path;
        return 0;
}

static int ctx_namespaces(struct spec_ctx *c, struct pea_error **err)
{
        const struct pea_spec_opts *o = c->o;

        const struct {
                const char *kind, *value;
                struct spec_ns *ns;
        } l[] = {
                {"network", o->network, &c->net}, {"ipc", o->ipc, &c->ipc},
                {"uts", o->uts, &c->uts},         {"pid", o->pid, &c->pid},
                {"userns", o->userns, &c->user},
        };

        for (size_t i = 0; i < ELEMENTSOF(l); i++) {
                int r = pea_spec_parse_ns(l[i].kind, l[i].value, &l[i].ns->mode, &l[i].ns->path,
                                          err);
                if (r < 0)
                        return r;
        }
        c->keep_id = c->user.mode == PEA_SPEC_NS_PRIVATE;
        if (c->keep_id && !o->rootless)
                return pea_error_set(err, EINVAL, "keep-id is only supported in rootless mode");
        if (o->hostname && c->uts.mode == PEA_SPEC_NS_HOST)
                return pea_error_set(err, EINVAL,
                                     "cannot set hostname when running in the host UTS namespace");
        return 0;
}

/* The number of ids in /proc/self/{uid,gid}_map. */
static uint64_t idmap_total(const char *path)
{
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, path, 65536, &text, NULL, NULL) < 0)
                return 0;
        uint64_t total = 0;
        _cleanup_strv_ char **lines = strv_split(text, "\n");
        STRV_FOREACH(l, lines) {
                unsigned long long a = 0, b = 0, n = 0;
                if (sscanf(*l, "%llu %llu %llu", &a, &b, &n) == 3)
                        total += n;
        }
        return total;
}

static bool cgroup2_detect(void)
{
        struct statfs fs;
        return statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

static int ctx_init(struct spec_ctx *c, struct pea_error **err)
{
        const struct pea_spec_opts *o = c->o;
        if (!o->rootfs || o->rootfs[0] != '/')
                return pea_error_set(err, EINVAL, "invalid rootfs '%s': must be an absolute path",
                                     o->rootfs ? o->rootfs : "");
        if (!o->id || !*o->id)
                return pea_error_set(err, EINVAL, "missing container id");
        if (o->init && (!o->init_path || o->init_path[0] != '/'))
                return pea_error_set(err, EINVAL,
                                     "--init needs the absolute path of the init "
                                     "binary");
        int r = ctx_namespaces(c, err);
        if (r < 0)
                return r;
        r = spec_secopts_parse(o->security_opts, &c->sec, err);
        if (r < 0)
                return r;
        c->shm_size = PEA_SPEC_DEFAULT_SHM_SIZE;
        if (o->shm_size) {
                r = pea_spec_parse_size(o->shm_size, &c->shm_size, err);
                if (r >= 0 && c->shm_size == 0)
                        r = pea_error_set(err, EINVAL,
                                          "invalid --shm-size '%s': must be greater "
                                          "than 0",
                                          o->shm_size);
                if (r < 0)
                        return r;
        }
        c->cgroup2 = o->cgroup_version ? o->cgroup_version == 2 : cgroup2_detect();
        c->bounding = o->cap_bounding ? o->cap_bounding : spec_bounding_set();
        c->outer_uids = o->outer_uids ? o->outer_uids : idmap_total("/proc/self/uid_map");
        c->outer_gids = o->outer_gids ? o->outer_gids : idmap_total("/proc/self/gid_map");
        c->gid5_mapped = true;
        return 0;
}

/* ---- the command --------------------------------------------------------- */

char **pea_spec_parse_entrypoint(const char *s)
{
        char **l = NULL;
        if (s && s[0] == '[') {
                _cleanup_json_ json_t *j = json_loads(s, 0, NULL);
                bool ok = json_is_array(j);
                size_t i;
                json_t *x;
                json_array_foreach(j, i, x)
                        ok = ok && json_is_string(x);
                if (ok) {
                        l = xcalloc(1, sizeof(char *));
                        json_array_foreach(j, i, x)
                                strv_push(&l, json_string_value(x));
                        return l;
                }
        }
        strv_push(&l, s ? s : "");
        return l;
}

int pea_spec_command(const struct pea_image_config *image, const char *entrypoint,
                     char *const *command, char ***ret, struct pea_error **err)
{
        _cleanup_strv_ char **user_ep = entrypoint ? pea_spec_parse_entrypoint(entrypoint) : NULL;
        char **ep = entrypoint ? user_ep : image ? image->entrypoint : NULL;
        _cleanup_strv_ char **argv = xcalloc(1, sizeof(char *));
        /* An entrypoint of [""] is none. */
        if (!(strv_length(ep) == 1 && streq(ep[0], "")))
                STRV_FOREACH(s, ep)
                        strv_push(&argv, *s);
        /* The image's Cmd only when no entrypoint was given. */
        char *const *cmd = command;
        if (strv_length(command) == 0 && image && strv_length(user_ep) == 0)
                cmd = image->cmd;
        STRV_FOREACH(s, (char **)cmd)
                strv_push(&argv, *s);
        if (strv_length(argv) == 0)
                return pea_error_set(err, EINVAL,
                                     "no command or entrypoint provided, and no CMD "
                                     "or ENTRYPOINT from image");
        *ret = TAKE_PTR(argv);
        return 0;
}

/* ---- the environment ----------------------------------------------------- */

static char **env_find(char **l, const char *key, size_t klen)
{
        STRV_FOREACH(e, l)
                if (strncmp(*e, key, klen) == 0 && (*e)[klen] == '=')
                        return e;
        return NULL;
}

/* Sets key (klen bytes) to val, in place when present; only_missing keeps a value. */
static void env_set(char ***l, const char *key, size_t klen, const char *val, bool only_missing)
{
        char **e = env_find(*l, key, klen);
        if (e && only_missing)
                return;
        char *s = xasprintf("%.*s=%s", (int)klen, key, val);
        if (e) {
                free(*e);
                *e = s;
        } else {
                strv_consume(l, s);
        }
}

/* podman's parseEnv: KEY=VAL, KEY (from the host), PREFIX* (all matching host vars). */
static int env_parse_one(char ***l, const char *line, char *const *host, struct pea_error **err)
{
        const char *eq = strchr(line, '=');
        if (eq == line || !*line)
                return pea_error_set(err, EINVAL, "invalid environment variable: '%s'", line);
        const char *name = line + strspn(line, " \t\n\r\v\f");
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        if (strcspn(name, " \t\n\r\v\f") < nlen)
                return pea_error_set(err, EINVAL,
                                     "name '%.*s' has white spaces, poorly "
                                     "formatted name",
                                     (int)nlen, name);
        if (eq) {
                env_set(l, name, nlen, eq + 1, false);
                return 0;
        }
        bool prefix = nlen > 0 && name[nlen - 1] == '*';
        size_t plen = prefix ? nlen - 1 : nlen;
        STRV_FOREACH(h, (char **)host) {
                const char *heq = strchr(*h, '=');
                if (!heq || strncmp(*h, name, plen) != 0)
                        continue;
                if (prefix || (size_t)(heq - *h) == plen)
                        env_set(l, *h, (size_t)(heq - *h), heq + 1, false);
        }
        return 0;
}

static int env_file(char ***l, const char *path, char *const *host, struct pea_error **err)
{
        _cleanup_free_ char *text = NULL;
        int r = pea_read_file_at(AT_FDCWD, path, PEA_SPEC_FILE_MAX, &text, NULL, err);
        if (r < 0)
                return pea_error_wrap(err, "reading env file");
        for (char *line = text, *next = NULL; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                const char *s = line + strspn(line, " \t\n\r\v\f");
                if (!*s || *s == '#')
                        continue;
                r = env_parse_one(l, s, host, err);
                if (r < 0)
                        return pea_error_wrap(err, "env file '%s'", path);
        }
        return 0;
}

int pea_spec_env(const struct pea_spec_opts *o, char ***ret, struct pea_error **err)
{
        char *const *host = o->host_env ? o->host_env : environ;
        _cleanup_strv_ char **l = xcalloc(1, sizeof(char *));
        STRV_FOREACH(e, o->image ? o->image->env : NULL) {
                const char *eq = strchr(*e, '=');
                if (eq && eq != *e)
                        env_set(&l, *e, (size_t)(eq - *e), eq + 1, false);
        }
        env_set(&l, "PATH", 4, PEA_SPEC_DEFAULT_PATH, true);
        env_set(&l, "container", 9, "pea", true);
        if (o->terminal)
                env_set(&l, "TERM", 4, "xterm", true);
        STRV_FOREACH(f, o->env_files) {
                int r = env_file(&l, *f, host, err);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(e, o->env) {
                int r = env_parse_one(&l, *e, host, err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- the process --------------------------------------------------------- */

static const char *user_spec(const struct pea_spec_opts *o)
{
        if (o->user)
                return o->user;
        return o->image && o->image->user ? o->image->user : "";
}

/* podman: caps of root unless a user other than root/0 runs (keep-id counts as one). */
static bool user_is_root(const struct spec_ctx *c)
{
        const char *u = user_spec(c->o);
        size_t n = strcspn(u, ":");
        if (n == 0)
                return !c->keep_id;
        return (n == 4 && strncmp(u, "root", 4) == 0) || (n == 1 && u[0] == '0');
}

static int resolve_user(const struct spec_ctx *c, struct pea_userdb_user *ret,
                        struct pea_error **err)
{
        const struct pea_spec_opts *o = c->o;
        _cleanup_free_ char *keep = NULL;
        const char *spec = user_spec(o);
        if (!o->user && c->keep_id)
                spec = keep =
                        xasprintf("%u:%u", (unsigned)o->rootless_uid, (unsigned)o->rootless_gid);
        return pea_userdb_resolve_path(o->rootfs, spec, ret, err);
}

static json_t *user_json(const struct pea_userdb_user *u, unsigned umask_v)
{
        json_t *j = json_object();
        json_object_set_new(j, "uid", json_integer(u->uid));
        json_object_set_new(j, "gid", json_integer(u->gid));
        json_object_set_new(j, "umask", json_integer(umask_v));
        if (u->n_additional_gids > 0) {
                json_t *g = json_array();
                for (size_t i = 0; i < u->n_additional_gids; i++)
                        json_array_append_new(g, json_integer(u->additional_gids[i]));
                json_object_set_new(j, "additionalGids", g);
        }
        return j;
}

static int parse_umask(const char *s, unsigned *ret, struct pea_error **err)
{
        if (!s) {
                *ret = PEA_SPEC_DEFAULT_UMASK;
                return 0;
        }
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(s, &end, 8);
        if (!*s || *end || errno || v > 0777)
                return pea_error_set(err, EINVAL, "invalid umask string %s", s);
        *ret = (unsigned)v;
        return 0;
}

static char *spec_hostname(const struct spec_ctx *c)
{
        if (c->uts.mode == PEA_SPEC_NS_HOST) {
                char buf[256] = "";
                (void)gethostname(buf, sizeof(buf) - 1);
                return xstrdup(buf);
        }
        if (c->o->hostname)
                return xstrdup(c->o->hostname);
        return xstrndup(c->o->id, 12);
}

static int process_argv_env(const struct spec_ctx *c, const struct pea_userdb_user *u, json_t *p,
                            struct pea_error **err)
{
        const struct pea_spec_opts *o = c->o;
        _cleanup_strv_ char **argv = NULL, **env = NULL;
        int r = pea_spec_command(o->image, o->entrypoint, o->command, &argv, err);
        if (r >= 0)
                r = pea_spec_env(o, &env, err);
        if (r < 0)
                return r;
        if (o->init) {
                _cleanup_strv_ char **old = TAKE_PTR(argv);
                strv_push(&argv, PEA_SPEC_INIT_PATH);
                strv_push(&argv, "--");
                STRV_FOREACH(s, old)
                        strv_push(&argv, *s);
        }
        _cleanup_free_ char *host = spec_hostname(c);
        env_set(&env, "HOSTNAME", 8, host, true);
        env_set(&env, "HOME", 4, u->home, true);
        json_object_set_new(p, "args", spec_strv_json(argv));
        json_object_set_new(p, "env", spec_strv_json(env));
        return 0;
}

static int process_cwd(const struct pea_spec_opts *o, json_t *p, struct pea_error **err)
{
        const char *wd = o->workdir;
        if (wd && wd[0] != '/')
                return pea_error_set(err, EINVAL,
                                     "invalid --workdir '%s': must be an absolute path", wd);
        if (!wd)
                wd = o->image && o->image->working_dir && *o->image->working_dir
                             ? o->image->working_dir
                             : "/";
        _cleanup_free_ char *clean = spec_path_clean(wd);
        json_object_set_new(p, "cwd", json_string(clean));
        return 0;
}

static int build_process(struct spec_ctx *c, json_t **ret, struct pea_error **err)
{
        const struct pea_spec_opts *o = c->o;
        _cleanup_json_ json_t *p = json_object();
        struct pea_userdb_user u = {0};
        json_t *caps = NULL, *rl = NULL;
        unsigned umask_v = 0;
        int r = parse_umask(o->umask, &umask_v, err);
        if (r >= 0)
                r = resolve_user(c, &u, err);
        if (r < 0)
                return r;
        json_object_set_new(p, "terminal", json_boolean(o->terminal));
        json_object_set_new(p, "user", user_json(&u, umask_v));
        r = process_argv_env(c, &u, p, err);
        pea_userdb_user_done(&u);
        if (r >= 0)
                r = process_cwd(o, p, err);
        if (r >= 0)
                r = spec_capabilities(c, user_is_root(c), &caps, err);
        if (r < 0)
                return r;
        json_object_set_new(p, "capabilities", caps);
        r = spec_rlimits(c, &rl, err);
        if (r < 0)
                return r;
        if (json_array_size(rl) > 0)
                json_object_set_new(p, "rlimits", rl);
        else
                json_decref(rl);
        json_object_set_new(p, "noNewPrivileges", json_boolean(c->sec.no_new_privileges));
        *ret = TAKE_PTR(p);
        return 0;
}

/* ---- linux --------------------------------------------------------------- */

static void ns_add(json_t *a, const char *type, const struct spec_ns *ns)
{
        if (ns->mode == PEA_SPEC_NS_HOST)
                return;
        json_t *n = json_object();
        json_object_set_new(n, "type", json_string(type));
        if (ns->mode == PEA_SPEC_NS_PATH)
                json_object_set_new(n, "path", json_string(ns->path));
        json_array_append_new(a, n);
}

static json_t *build_namespaces(const struct spec_ctx *c)
{
        json_t *a = json_array();
        const struct spec_ns priv = {PEA_SPEC_NS_PRIVATE, NULL};
        ns_add(a, "pid", &c->pid);
        ns_add(a, "network", &c->net);
        ns_add(a, "ipc", &c->ipc);
        ns_add(a, "uts", &c->uts);
        ns_add(a, "mount", &priv);
        /* On cgroup v1 podman keeps the host's cgroup namespace. */
        if (c->cgroup2)
                ns_add(a, "cgroup", &priv);
        ns_add(a, "user", &c->user);
        return a;
}

static void idmap_push(json_t *a, uint64_t ctr, uint64_t host, uint64_t size)
{
        json_t *m = json_object();
        json_object_set_new(m, "containerID", json_integer((json_int_t)ctr));
        json_object_set_new(m, "hostID", json_integer((json_int_t)host));
        json_object_set_new(m, "size", json_integer((json_int_t)size));
        json_array_append_new(a, m);
}

/*
 * keep-id (podman's getRootlessKeepIDMapping), relative to pea's namespace
 * where the user is 0 and the subordinate ids are 1..outer-1: container ids
 * below id come from the subordinate range, id is the user, and the rest of
 * the range maps to itself.
 */
static json_t *keep_id_map(uint64_t id, uint64_t outer)
{
        json_t *a = json_array();
        uint64_t max = outer > 0 ? outer - 1 : 0;
        if (max > 0 && id != 0)
                idmap_push(a, 0, 1, id < max ? id : max);
        idmap_push(a, id, 0, 1);
        if (max > id)
                idmap_push(a, id + 1, id + 1, max - id);
        return a;
}

static bool idmap_has(json_t *a, uint64_t id)
{
        size_t i;
        json_t *m;
        json_array_foreach(a, i, m) {
                uint64_t ctr = (uint64_t)json_integer_value(json_object_get(m, "containerID"));
                uint64_t size = (uint64_t)json_integer_value(json_object_get(m, "size"));
                if (id >= ctr && id - ctr < size)
                        return true;
        }
        return false;
}

static json_t *build_resources(const struct spec_ctx *c)
{
        bool in_userns = c->o->rootless || c->user.mode != PEA_SPEC_NS_HOST;
        if (in_userns)
                return NULL;
        json_t *dev = json_object();
        json_object_set_new(dev, "allow", json_boolean(c->o->privileged));
        json_object_set_new(dev, "access", json_string("rwm"));
        json_t *devs = json_array(), *res = json_object();
        json_array_append_new(devs, dev);
        json_object_set_new(res, "devices", devs);
        return res;
}

static int build_linux(struct spec_ctx *c, json_t **ret, struct pea_error **err)
{
        _cleanup_json_ json_t *l = json_object();
        json_object_set_new(l, "namespaces", build_namespaces(c));
        if (c->keep_id) {
                json_object_set_new(l, "uidMappings",
                                    keep_id_map(c->o->rootless_uid, c->outer_uids));
                json_t *g = keep_id_map(c->o->rootless_gid, c->outer_gids);
                c->gid5_mapped = idmap_has(g, 5);
                json_object_set_new(l, "gidMappings", g);
        }
        if (c->net.mode == PEA_SPEC_NS_PRIVATE || c->net.mode == PEA_SPEC_NS_NONE) {
                json_t *sysctl = json_object();
                json_object_set_new(sysctl, "net.ipv4.ping_group_range", json_string("0 0"));
                json_object_set_new(l, "sysctl", sysctl);
        }
        json_t *res = build_resources(c);
        if (res)
                json_object_set_new(l, "resources", res);
        json_t *seccomp = NULL;
        int r = spec_seccomp(c, &seccomp, err);
        if (r < 0)
                return r;
        if (seccomp)
                json_object_set_new(l, "seccomp", seccomp);
        spec_masked_paths(c, !spec_can_mount_sys(c), l);
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- annotations --------------------------------------------------------- */

/* "SIGTERM", "TERM", "15", "RTMIN+3" -> the number; -EINVAL. */
static int parse_signal(const char *s)
{
        long long v = 0;
        if (safe_atoll(s, &v) == 0)
                return v >= 1 && v < NSIG ? (int)v : -EINVAL;
        const char *n = startswith(s, "SIG") ? s + 3 : s;
        const char *rest = startswith(n, "RTMIN");
        if (rest && (!*rest || (*rest == '+' && safe_atoll(rest + 1, &v) == 0)))
                return SIGRTMIN + (int)v <= SIGRTMAX ? SIGRTMIN + (int)v : -EINVAL;
        rest = startswith(n, "RTMAX");
        if (rest && (!*rest || (*rest == '-' && safe_atoll(rest + 1, &v) == 0)))
                return SIGRTMAX - (int)v >= SIGRTMIN ? SIGRTMAX - (int)v : -EINVAL;
        for (int i = 1; i < SIGRTMIN; i++) {
                const char *a = sigabbrev_np(i);
                if (a && streq(a, n))
                        return i;
        }
        return -EINVAL;
}

static int build_annotations(const struct spec_ctx *c, json_t **ret, struct pea_error **err)
{
        const struct pea_spec_opts *o = c->o;
        _cleanup_json_ json_t *a = json_object();
        json_object_set_new(a, "io.container.manager", json_string("pea"));
        const char *stop = o->image ? o->image->stop_signal : NULL;
        if (stop && *stop) {
                int sig = parse_signal(stop);
                if (sig < 0)
                        return pea_error_set(err, EINVAL, "invalid stop signal '%s' in the image",
                                             stop);
                _cleanup_free_ char *v = xasprintf("%d", sig);
                json_object_set_new(a, "org.opencontainers.image.stopSignal", json_string(v));
        }
        STRV_FOREACH(s, o->annotations) {
                const char *eq = strchr(*s, '=');
                if (!eq || eq == *s)
                        return pea_error_set(err, EINVAL,
                                             "annotations must be formatted KEY=VALUE: '%s'", *s);
                _cleanup_free_ char *k = xstrndup(*s, (size_t)(eq - *s));
                json_object_set_new(a, k, json_string(eq + 1));
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* ---- the spec ------------------------------------------------------------ */

static int build(struct spec_ctx *c, json_t *spec, struct pea_error **err)
{
        json_t *process = NULL, *lnx = NULL, *mounts = NULL, *ann = NULL;
        int r = build_process(c, &process, err);
        if (r < 0)
                return r;
        json_object_set_new(spec, "process", process);
        json_t *root = json_object();
        json_object_set_new(root, "path", json_string(c->o->rootfs));
        json_object_set_new(root, "readonly", json_boolean(c->o->read_only));
        json_object_set_new(spec, "root", root);
        if (c->uts.mode == PEA_SPEC_NS_PRIVATE) {
                _cleanup_free_ char *h = spec_hostname(c);
                json_object_set_new(spec, "hostname", json_string(h));
        }
        /* linux first: it settles gid5_mapped, which /dev/pts depends on. */
        r = build_linux(c, &lnx, err);
        if (r >= 0)
                r = spec_mounts(c, &mounts, err);
        if (r >= 0)
                r = build_annotations(c, &ann, err);
        if (r < 0) {
                json_decref(lnx);
                json_decref(mounts);
                return r;
        }
        json_object_set_new(spec, "mounts", mounts);
        json_object_set_new(spec, "annotations", ann);
        json_object_set_new(spec, "linux", lnx);
        return 0;
}

int pea_spec_generate(const struct pea_spec_opts *o, json_t **ret_spec, struct pea_error **err)
{
        struct spec_ctx c = {.o = o};
        int r = ctx_init(&c, err);
        if (r < 0) {
                spec_secopts_done(&c.sec);
                return r;
        }
        _cleanup_json_ json_t *spec = json_object();
        json_object_set_new(spec, "ociVersion", json_string(PEA_SPEC_OCI_VERSION));
        r = build(&c, spec, err);
        spec_secopts_done(&c.sec);
        if (r < 0)
                return r;
        *ret_spec = TAKE_PTR(spec);
        return 0;
}

/* ---- config.json --------------------------------------------------------- */

#define U64_MAX_TEXT "18446744073709551615"
#define U64_MARKER   "\001pea-u64-max\001"

/*
 * jansson's integers are int64: RLIM_INFINITY is -1 in memory and written as
 * 18446744073709551615, what runc and crun expect for uint64 fields.
 */
static void rlimits_mark(json_t *spec)
{
        static const char *const keys[] = {"soft", "hard"};
        size_t i;
        json_t *rl;
        json_array_foreach(pea_json_path(spec, "process.rlimits"), i, rl) {
                for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                        json_t *v = json_object_get(rl, keys[k]);
                        if (json_is_integer(v) && json_integer_value(v) == -1)
                                json_object_set_new(rl, keys[k], json_string(U64_MARKER));
                }
        }
}

char *pea_spec_dumps(const json_t *spec)
{
        _cleanup_json_ json_t *copy = json_deep_copy(spec);
        rlimits_mark(copy);
        _cleanup_free_ char *s = pea_json_dumps(copy, 2);
        const char *quoted = "\"\\u0001pea-u64-max\\u0001\"";
        size_t ql = strlen(quoted);
        char *out = xmalloc(strlen(s) + 1);
        size_t n = 0;
        for (const char *p = s; *p;) {
                if (strncmp(p, quoted, ql) == 0) {
                        memcpy(out + n, U64_MAX_TEXT, strlen(U64_MAX_TEXT));
                        n += strlen(U64_MAX_TEXT);
                        p += ql;
                        continue;
                }
                out[n++] = *p++;
        }
        out[n] = '\0';
        return out;
}

int pea_spec_write(const char *bundle_dir, const json_t *spec, struct pea_error **err)
{
        _cleanup_close_ int dfd = open(bundle_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return pea_error_syscall(err, errno, "opening bundle '%s'", bundle_dir);
        _cleanup_free_ char *s = pea_spec_dumps(spec);
        _cleanup_free_ char *data = xasprintf("%s\n", s);
        int r = pea_write_file_replace_at(dfd, "config.json", data, strlen(data), 0600, err);
        if (r < 0)
                return pea_error_wrap(err, "writing the OCI config of '%s'", bundle_dir);
        return 0;
}

static bool isdigit_c(char c)
{
        return c >= '0' && c <= '9';
}

/* Replaces the number token 18446744073709551615 (outside strings) with -1. */
static void u64_max_to_minus_one(char *s)
{
        bool in_str = false;
        size_t tl = strlen(U64_MAX_TEXT);
        for (char *p = s; *p; p++) {
                if (in_str) {
                        if (*p == '\\' && p[1])
                                p++;
                        else if (*p == '"')
                                in_str = false;
                        continue;
                }
                if (*p == '"') {
                        in_str = true;
                } else if (strncmp(p, U64_MAX_TEXT, tl) == 0 && (p == s || !isdigit_c(p[-1]))
                           && !isdigit_c(p[tl])) {
                        memset(p, ' ', tl);
                        p[0] = '-';
                        p[1] = '1';
                        p += tl - 1;
                }
        }
}

int pea_spec_loads(const char *text, size_t len, json_t **ret_spec, struct pea_error **err)
{
        _cleanup_free_ char *copy = xstrndup(text, len);
        u64_max_to_minus_one(copy);
        json_error_t jerr;
        json_t *j = json_loadb(copy, strlen(copy), JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(j)) {
                json_decref(j);
                return pea_error_set(err, EBADMSG, "parsing the OCI config: %s",
                                     j ? "not an object" : jerr.text);
        }
        *ret_spec = j;
        return 0;
}

int pea_spec_read(const char *bundle_dir, json_t **ret_spec, struct pea_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/config.json", bundle_dir);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = pea_read_file_at(AT_FDCWD, path, PEA_SPEC_CONFIG_MAX, &text, &len, err);
        if (r >= 0)
                r = pea_spec_loads(text, len, ret_spec, err);
        if (r < 0)
                return pea_error_wrap(err, "reading '%s'", path);
        return 0;
}
