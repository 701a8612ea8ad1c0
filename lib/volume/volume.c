/* SPDX-License-Identifier: Apache-2.0 */
/* Volumes: create, look up, remove, repair (directories in step with state rows). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <sys/file.h>
#include <sys/stat.h>

#include <jansson.h>

#include "state/state.h"
#include "volume-internal.h"

struct pea_volume *pea_volume_free(struct pea_volume *vol)
{
        if (!vol)
                return NULL;
        pea_volume_row_done(&vol->row);
        free(vol->dir);
        free(vol);
        return NULL;
}

struct pea_volume **pea_volumes_free(struct pea_volume **vols)
{
        for (struct pea_volume **v = vols; v && *v; v++)
                pea_volume_free(*v);
        free(vols);
        return NULL;
}

bool pea_volume_name_is_valid(const char *name)
{
        static const char alnum[] =
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        if (!name || !name[0] || strlen(name) > PEA_VOLUME_NAME_MAX || !strchr(alnum, name[0]))
                return false;
        for (const char *p = name; *p; p++)
                if (!strchr(alnum, *p) && !strchr("_.-", *p))
                        return false;
        return true;
}

char *volume_root(const char *graph_root)
{
        return xasprintf("%s/volumes", graph_root);
}

int volume_lock(const char *graph_root, struct pea_error **err)
{
        _cleanup_free_ char *root = volume_root(graph_root);
        int r = pea_mkdir_p(root, 0700, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = xasprintf("%s/.lock", root);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return pea_error_syscall(err, errno, "locking '%s'", path);
        return TAKE_FD(fd);
}

struct pea_volume *volume_from_row(struct pea_volume_row *row)
{
        struct pea_volume *vol = xcalloc(1, sizeof(*vol));
        vol->row = *row;
        *row = (struct pea_volume_row){0};
        const char *slash = strrchr(vol->row.mountpoint, '/');
        vol->dir = slash ? xstrndup(vol->row.mountpoint, (size_t)(slash - vol->row.mountpoint))
                         : xstrdup(vol->row.mountpoint);
        return vol;
}

const char *volume_option(const struct pea_volume *vol, const char *key)
{
        return json_string_value(json_object_get(vol->row.options, key));
}

int pea_volume_lookup(struct pea_state *s, const char *name, struct pea_volume **ret,
                      struct pea_error **err)
{
        struct pea_volume_row row = {0};
        int r = pea_state_volume_get(s, name, &row, err);
        if (r < 0)
                return r;
        *ret = volume_from_row(&row);
        return 0;
}

int pea_volume_exists(struct pea_state *s, const char *name, struct pea_error **err)
{
        _cleanup_error_ struct pea_error *e = NULL;
        struct pea_volume_row row = {0};
        int r = pea_state_volume_get(s, name, &row, &e);
        pea_volume_row_done(&row);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                *err = TAKE_PTR(e);
                return r;
        }
        return 1;
}

/* ---- create -------------------------------------------------------------------------------- */

static int chown_opt(const char *dir, json_t *options, struct pea_error **err)
{
        const char *u = json_string_value(json_object_get(options, "uid"));
        const char *g = json_string_value(json_object_get(options, "gid"));
        unsigned uid = (unsigned)-1, gid = (unsigned)-1;
        if (u && safe_atou32(u, &uid) < 0)
                return pea_error_set(err, EINVAL, "cannot convert UID %s to integer", u);
        if (g && safe_atou32(g, &gid) < 0)
                return pea_error_set(err, EINVAL, "cannot convert GID %s to integer", g);
        if ((u || g) && chown(dir, (uid_t)uid, (gid_t)gid) < 0)
                return pea_error_syscall(err, errno, "chowning '%s'", dir);
        return 0;
}

/* Makes <root>/.tmp-XXXXXX/_data (0700 and 0755); returns the temp dir in *ret. */
static int make_temp_dir(const char *root, json_t *options, char **ret, struct pea_error **err)
{
        _cleanup_free_ char *tmp = xasprintf("%s/.tmp-XXXXXX", root);
        if (!mkdtemp(tmp))
                return pea_error_syscall(err, errno, "creating a directory in '%s'", root);
        _cleanup_free_ char *data = xasprintf("%s/_data", tmp);
        int r = 0;
        if (mkdir(data, 0755) < 0 || chmod(data, 0755) < 0)
                r = pea_error_syscall(err, errno, "creating '%s'", data);
        if (r >= 0)
                r = chown_opt(data, options, err);
        if (r < 0) {
                (void)pea_rm_rf(tmp, NULL);
                return r;
        }
        *ret = TAKE_PTR(tmp);
        return 0;
}

struct create_plan {
        const char *graph_root;
        char *name;
        json_t *options;
        json_t *labels;
        bool anonymous;
};

/* With the lock held and no row of that name: directory, then row. */
static int create_locked(struct pea_state *s, const struct create_plan *p, struct pea_error **err)
{
        _cleanup_free_ char *root = volume_root(p->graph_root);
        _cleanup_free_ char *final = xasprintf("%s/%s", root, p->name);
        if (pea_path_exists(final)) {
                pea_debug("removing orphan volume directory '%s'", final);
                int r = pea_rm_rf(final, err);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *tmp = NULL;
        int r = make_temp_dir(root, p->options, &tmp, err);
        if (r < 0)
                return r;
        if (rename(tmp, final) < 0) {
                r = pea_error_syscall(err, errno, "renaming '%s' to '%s'", tmp, final);
                (void)pea_rm_rf(tmp, NULL);
                return r;
        }
        _cleanup_free_ char *mountpoint = xasprintf("%s/_data", final);
        struct pea_volume_row row = {
                .name = p->name,
                .driver = (char *)"local",
                .mountpoint = mountpoint,
                .options = p->options,
                .labels = p->labels,
                .anonymous = p->anonymous,
                .needs_copy_up = true,
                .needs_chown = true,
        };
        r = pea_state_volume_add(s, &row, err);
        if (r < 0)
                (void)pea_rm_rf(final, NULL);
        return r;
}

static int check_create_opts(const struct pea_volume_create_opts *o, const char *name,
                             struct pea_error **err)
{
        if (o->driver && o->driver[0] && !streq(o->driver, "local"))
                return pea_error_set(err, ENOTSUP,
                                     "volume %s uses volume plugin %s but it could not be "
                                     "retrieved: no volume plugin with name %s available: "
                                     "required plugin missing",
                                     name, o->driver, o->driver);
        if (!pea_volume_name_is_valid(name))
                return pea_error_set(err, EINVAL,
                                     "running volume create option: names must match "
                                     "[a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument");
        return 0;
}

static int create_plan_init(const struct pea_volume_create_opts *o, const char *graph_root,
                            struct create_plan *p, struct pea_error **err)
{
        *p = (struct create_plan){.graph_root = graph_root, .anonymous = o->anonymous};
        p->name = o->name ? xstrdup(o->name) : pea_generate_id();
        int r = check_create_opts(o, p->name, err);
        if (r >= 0)
                r = volume_parse_options(o->opts, &p->options, err);
        if (r >= 0)
                r = volume_parse_labels(o->labels, &p->labels, err);
        return r;
}

static void create_plan_done(struct create_plan *p)
{
        free(p->name);
        json_decref(p->options);
        json_decref(p->labels);
}

int pea_volume_create(struct pea_state *s, const char *graph_root,
                      const struct pea_volume_create_opts *o, struct pea_volume **ret,
                      bool *ret_created, struct pea_error **err)
{
        _cleanup_(create_plan_done) struct create_plan p = {0};
        int r = create_plan_init(o, graph_root, &p, err);
        if (r < 0)
                return r;
        _cleanup_close_ int lock = volume_lock(graph_root, err);
        if (lock < 0)
                return lock;
        r = pea_volume_exists(s, p.name, err);
        if (r < 0)
                return r;
        bool created = r == 0;
        if (r > 0 && !o->ignore)
                return pea_error_set(err, EEXIST,
                                     "volume with name %s already exists: volume already exists",
                                     p.name);
        if (created) {
                r = create_locked(s, &p, err);
                if (r < 0)
                        return r;
        }
        r = pea_volume_lookup(s, p.name, ret, err);
        if (r >= 0 && ret_created)
                *ret_created = created;
        return r;
}

int pea_volume_create_anonymous(struct pea_state *s, const char *graph_root,
                                struct pea_volume **ret, struct pea_error **err)
{
        struct pea_volume_create_opts o = {.anonymous = true};
        return pea_volume_create(s, graph_root, &o, ret, NULL, err);
}

int pea_volume_lookup_or_create(struct pea_state *s, const char *graph_root, const char *name,
                                struct pea_volume **ret, bool *ret_created, struct pea_error **err)
{
        struct pea_volume_create_opts o = {.name = name, .ignore = true};
        return pea_volume_create(s, graph_root, &o, ret, ret_created, err);
}

/* ---- remove -------------------------------------------------------------------------------- */

/* Drops name from the volume list of container id. */
static int drop_reference(struct pea_state *s, const char *id, const char *name,
                          struct pea_error **err)
{
        _cleanup_strv_ char **names = NULL;
        int r = pea_state_container_get_volumes(s, id, &names, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **keep = xcalloc(1, sizeof(char *));
        STRV_FOREACH(n, names)
                if (!streq(*n, name))
                        strv_push(&keep, *n);
        return pea_state_container_set_volumes(s, id, keep, err);
}

static int release_users(struct pea_state *s, const char *name, const struct pea_volume_rm_opts *o,
                         struct pea_error **err)
{
        _cleanup_strv_ char **users = NULL;
        int r = pea_state_volume_users(s, name, &users, err);
        STRV_FOREACH(id, users) {
                if (r < 0)
                        break;
                if (o->remove_container)
                        r = o->remove_container(o->userdata, *id, err);
                else
                        r = drop_reference(s, *id, name, err);
        }
        return r;
}

int pea_volume_remove(struct pea_state *s, const char *name, const struct pea_volume_rm_opts *o,
                      struct pea_error **err)
{
        static const struct pea_volume_rm_opts none = {0};
        _cleanup_volume_ struct pea_volume *vol = NULL;
        int r = pea_volume_lookup(s, name, &vol, err);
        if (r < 0)
                return r;
        o = o ? o : &none;
        if (o->force) {
                r = release_users(s, name, o, err);
                if (r < 0)
                        return r;
        }
        /* The lock file lives in the parent of vol->dir (<graph_root>/volumes). */
        _cleanup_free_ char *graph_root = xstrdup(vol->dir);
        for (int i = 0; i < 2; i++) {
                char *slash = strrchr(graph_root, '/');
                if (slash)
                        *slash = '\0';
        }
        _cleanup_close_ int lock = volume_lock(graph_root, err);
        if (lock < 0)
                return lock;
        r = pea_state_volume_remove(s, name, err);
        if (r < 0)
                return r;
        if (pea_volume_needs_mount(vol))
                (void)volume_force_umount(vol, NULL);
        r = pea_rm_rf(vol->dir, err);
        if (r < 0)
                return pea_error_wrap(err, "removing volume '%s'", name);
        return 0;
}

int pea_volume_remove_anonymous(struct pea_state *s, char *const *names, char ***ret_removed,
                                struct pea_error **err)
{
        _cleanup_strv_ char **removed = xcalloc(1, sizeof(char *));
        STRV_FOREACH(n, (char **)names) {
                _cleanup_volume_ struct pea_volume *vol = NULL;
                _cleanup_error_ struct pea_error *e = NULL;
                int r = pea_volume_lookup(s, *n, &vol, &e);
                if (r >= 0 && !vol->row.anonymous)
                        continue;
                if (r >= 0)
                        r = pea_volume_remove(s, *n, NULL, &e);
                if (r == -ENOENT || r == -EBUSY)
                        continue; /* gone already, or another container still uses it */
                if (r < 0) {
                        *err = TAKE_PTR(e);
                        return r;
                }
                strv_push(&removed, *n);
        }
        if (ret_removed)
                *ret_removed = TAKE_PTR(removed);
        return 0;
}

/* ---- repair -------------------------------------------------------------------------------- */

static int repair_entry(struct pea_state *s, const char *root, const char *entry,
                        struct pea_error **err)
{
        if (streq(entry, ".") || streq(entry, "..") || streq(entry, ".lock"))
                return 0;
        if (!startswith(entry, ".tmp-")) {
                int r = pea_volume_exists(s, entry, err);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        _cleanup_free_ char *path = xasprintf("%s/%s", root, entry);
        pea_debug("removing orphan volume directory '%s'", path);
        return pea_rm_rf(path, err);
}

int pea_volume_repair(struct pea_state *s, const char *graph_root, struct pea_error **err)
{
        _cleanup_close_ int lock = volume_lock(graph_root, err);
        if (lock < 0)
                return lock;
        _cleanup_free_ char *root = volume_root(graph_root);
        _cleanup_closedir_ DIR *d = opendir(root);
        if (!d)
                return pea_error_syscall(err, errno, "opening '%s'", root);
        int r = 0;
        struct dirent *de = NULL;
        while (r >= 0 && (de = readdir(d)))
                r = repair_entry(s, root, de->d_name, err);
        return r;
}
