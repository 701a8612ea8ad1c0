/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <pwd.h>
#include <stdlib.h>

#include <sys/stat.h>

#include "base.h"

static char *xdg_dir(const struct pea_config *c, const char *env, const char *fallback)
{
        const char *v = getenv(env);
        if (v && v[0] == '/')
                return xstrdup(v);
        return xasprintf("%s/%s", c->home, fallback);
}

static void load_identity(struct pea_config *c)
{
        const char *rl = getenv("_PEA_ROOTLESS_UID");
        unsigned ruid = 0;
        c->uid = geteuid();
        c->gid = getegid();
        if (rl && safe_atou32(rl, &ruid) == 0 && ruid != 0) {
                /* Inside our own user namespace: still the unprivileged user. */
                c->uid = ruid;
                const char *rg = getenv("_PEA_ROOTLESS_GID");
                unsigned rgid = 0;
                if (rg && safe_atou32(rg, &rgid) == 0)
                        c->gid = rgid;
        }
        c->rootless = c->uid != 0;
        struct passwd *pw = getpwuid(c->uid);
        c->user = xstrdup(pw ? pw->pw_name : "");
        const char *home = getenv("HOME");
        if (home && home[0] == '/')
                c->home = xstrdup(home);
        else
                c->home = xstrdup(pw && pw->pw_dir ? pw->pw_dir : "/");
}

static char *default_run_root(const struct pea_config *c)
{
        if (!c->rootless)
                return xstrdup("/run/pea");
        const char *xrd = getenv("XDG_RUNTIME_DIR");
        struct stat st;
        if (xrd && xrd[0] == '/' && stat(xrd, &st) == 0 && S_ISDIR(st.st_mode)
            && st.st_uid == geteuid() && access(xrd, W_OK) == 0)
                return xasprintf("%s/pea", xrd);
        return xasprintf("/tmp/pea-run-%u", (unsigned)c->uid);
}

/* Reads one TOML file into *merged; a missing file is not an error. */
static int merge_toml(json_t *merged, const char *path, bool *ret_found, struct pea_error **err)
{
        _cleanup_json_ json_t *j = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        int r = pea_toml_parse_file(path, &j, &e);
        if (r == -ENOENT || r == -EACCES) {
                *ret_found = false;
                return 0;
        }
        if (r < 0) {
                *err = TAKE_PTR(e);
                return r;
        }
        pea_json_merge(merged, j);
        *ret_found = true;
        return 0;
}

static int dropin_filter(const struct dirent *d)
{
        return d->d_name[0] != '.' && endswith(d->d_name, ".conf");
}

static int load_one_conf(struct pea_config *c, const char *path, struct pea_error **err)
{
        bool found = false;
        int r = merge_toml(c->containers_conf, path, &found, err);
        if (r < 0)
                return r;
        if (found)
                strv_push(&c->containers_confs, path);
        return 0;
}

static int load_dropins(struct pea_config *c, const char *dir, struct pea_error **err)
{
        struct dirent **names = NULL;
        int n = scandir(dir, &names, dropin_filter, alphasort);
        int r = 0;
        for (int i = 0; i < n; i++) {
                if (r == 0) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", dir, names[i]->d_name);
                        r = load_one_conf(c, p, err);
                }
                free(names[i]);
        }
        free(names);
        return r;
}

static int load_containers_conf(struct pea_config *c, struct pea_error **err)
{
        c->containers_conf = json_object();
        const char *env = getenv("CONTAINERS_CONF");
        if (env && *env)
                return load_one_conf(c, env, err);
        _cleanup_free_ char *cfg = xdg_dir(c, "XDG_CONFIG_HOME", ".config");
        _cleanup_free_ char *user_conf = xasprintf("%s/containers/containers.conf", cfg);
        _cleanup_free_ char *user_dir = xasprintf("%s/containers/containers.conf.d", cfg);
        const char *files[] = {"/usr/share/containers/containers.conf",
                               "/etc/containers/containers.conf"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                int r = load_one_conf(c, files[i], err);
                if (r < 0)
                        return r;
        }
        int r = load_dropins(c, "/etc/containers/containers.conf.d", err);
        if (r >= 0 && c->rootless)
                r = load_one_conf(c, user_conf, err);
        if (r >= 0 && c->rootless)
                r = load_dropins(c, user_dir, err);
        return r;
}

static int load_storage_conf(struct pea_config *c, struct pea_error **err)
{
        c->storage_conf_json = json_object();
        _cleanup_free_ char *cfg = xdg_dir(c, "XDG_CONFIG_HOME", ".config");
        _cleanup_free_ char *user_conf = xasprintf("%s/containers/storage.conf", cfg);
        const char *env = getenv("CONTAINERS_STORAGE_CONF");
        const char *cands[3] = {NULL, NULL, NULL};
        size_t n = 0;
        if (env && *env)
                cands[n++] = env;
        else if (c->rootless)
                cands[n++] = user_conf;
        if (!env || !*env) {
                cands[n++] = "/etc/containers/storage.conf";
                cands[n++] = "/usr/share/containers/storage.conf";
        }
        for (size_t i = 0; i < n; i++) {
                bool found = false;
                int r = merge_toml(c->storage_conf_json, cands[i], &found, err);
                if (r < 0)
                        return r;
                if (found) {
                        c->storage_conf = xstrdup(cands[i]);
                        return 0;
                }
        }
        c->storage_conf = xstrdup("");
        return 0;
}

int pea_config_load(struct pea_config *c, const struct pea_config_overrides *o,
                    struct pea_error **err)
{
        *c = (struct pea_config){0};
        load_identity(c);
        int r = load_containers_conf(c, err);
        if (r >= 0)
                r = load_storage_conf(c, err);
        if (r < 0) {
                pea_config_done(c);
                return pea_error_wrap(err, "loading configuration");
        }
        if (o && o->root)
                c->graph_root = xstrdup(o->root);
        else if (c->rootless) {
                _cleanup_free_ char *data = xdg_dir(c, "XDG_DATA_HOME", ".local/share");
                c->graph_root = xasprintf("%s/containers/pea", data);
        } else
                c->graph_root = xstrdup("/var/lib/pea");
        c->run_root = o && o->runroot ? xstrdup(o->runroot) : default_run_root(c);
        const char *drv = o && o->storage_driver ? o->storage_driver : NULL;
        if (!drv)
                drv = getenv("STORAGE_DRIVER");
        if (!drv)
                drv = pea_json_path_string(c->storage_conf_json, "storage.driver", "");
        c->storage_driver = xstrdup(drv);
        return 0;
}

void pea_config_done(struct pea_config *c)
{
        free(c->user);
        free(c->home);
        free(c->graph_root);
        free(c->run_root);
        free(c->storage_driver);
        free(c->storage_conf);
        strv_free(c->containers_confs);
        json_decref(c->containers_conf);
        json_decref(c->storage_conf_json);
        *c = (struct pea_config){0};
}

static int ensure_private_dir(const char *path, uid_t uid, struct pea_error **err)
{
        int r = pea_mkdir_p(path, 0700, err);
        if (r < 0)
                return r;
        struct stat st;
        if (lstat(path, &st) < 0)
                return pea_error_syscall(err, errno, "checking '%s'", path);
        if (!S_ISDIR(st.st_mode) || st.st_uid != uid)
                return pea_error_set(err, EPERM, "'%s' is not a directory owned by uid %u", path,
                                     (unsigned)uid);
        return 0;
}

int pea_config_ensure_dirs(const struct pea_config *c, struct pea_error **err)
{
        uid_t owner = geteuid();
        int r = ensure_private_dir(c->graph_root, owner, err);
        if (r >= 0)
                r = ensure_private_dir(c->run_root, owner, err);
        return r;
}

const char *pea_config_get(const struct pea_config *c, const char *path, const char *def)
{
        return pea_json_path_string(c->containers_conf, path, def);
}
