/* SPDX-License-Identifier: Apache-2.0 */
/* Volume rows and which containers use them (schema v3). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <jansson.h>
#include <sqlite3.h>

#include "state-internal.h"

/* Column order of row_from_stmt() and the ?N of bind_row(). */
#define COLUMNS                                                                          \
        "name, driver, mountpoint, options, labels, created, anonymous, needs_copy_up, " \
        "needs_chown, mount_count"

void pea_volume_row_done(struct pea_volume_row *row)
{
        if (!row)
                return;
        free(row->name);
        free(row->driver);
        free(row->mountpoint);
        json_decref(row->options);
        json_decref(row->labels);
        *row = (struct pea_volume_row){0};
}

struct pea_volume_row *pea_volume_rows_free(struct pea_volume_row *rows, size_t n)
{
        for (size_t i = 0; rows && i < n; i++)
                pea_volume_row_done(&rows[i]);
        free(rows);
        return NULL;
}

static int row_from_stmt(sqlite3_stmt *st, struct pea_volume_row *ret, struct pea_error **err)
{
        _cleanup_json_ json_t *options = NULL;
        json_t *labels = NULL;
        int r = state_column_json(st, 3, &options, err);
        if (r >= 0)
                r = state_column_json(st, 4, &labels, err);
        if (r < 0)
                return r;
        *ret = (struct pea_volume_row){
                .name = state_column_strdup(st, 0),
                .driver = state_column_strdup(st, 1),
                .mountpoint = state_column_strdup(st, 2),
                .options = TAKE_PTR(options),
                .labels = labels,
                .created = sqlite3_column_int64(st, 5),
                .anonymous = sqlite3_column_int(st, 6) != 0,
                .needs_copy_up = sqlite3_column_int(st, 7) != 0,
                .needs_chown = sqlite3_column_int(st, 8) != 0,
                .mount_count = sqlite3_column_int(st, 9),
        };
        return 0;
}

static int bind_row(struct pea_state *s, sqlite3_stmt *st, const struct pea_volume_row *row,
                    struct pea_error **err)
{
        int rc = sqlite3_bind_text(st, 1, row->name, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 2, row->driver ? row->driver : "local", -1,
                                       SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 3, row->mountpoint, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = state_bind_json(st, 4, row->options);
        if (rc == SQLITE_OK)
                rc = state_bind_json(st, 5, row->labels);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 6, row->created ? row->created : state_now_ns());
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int(st, 7, row->anonymous);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int(st, 8, row->needs_copy_up);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int(st, 9, row->needs_chown);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int(st, 10, row->mount_count);
        if (rc != SQLITE_OK)
                return state_sql_error(s, rc, err, "binding volume '%s'", row->name);
        return 0;
}

static int exists_in_tx(struct pea_state *s, const char *name, struct pea_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "SELECT 1 FROM volumes WHERE name = ?1", &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        return state_step(s, st, err);
}

static int add_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct pea_volume_row *row = userdata;
        int r = exists_in_tx(s, row->name, err);
        if (r < 0)
                return r;
        if (r > 0)
                return pea_error_set(err, EEXIST,
                                     "volume with name %s already exists: volume already exists",
                                     row->name);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = state_prepare(s,
                          "INSERT INTO volumes (" COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                          "?8, ?9, ?10)",
                          &st, err);
        if (r >= 0)
                r = bind_row(s, st, row, err);
        if (r >= 0)
                r = state_step(s, st, err);
        return r < 0 ? r : 0;
}

int pea_state_volume_add(struct pea_state *s, const struct pea_volume_row *row,
                         struct pea_error **err)
{
        if (!row->name || !row->name[0] || !row->mountpoint || !row->mountpoint[0])
                return pea_error_set(err, EINVAL, "volume without a name or mount point");
        return state_run(s, true, add_fn, (void *)row, err);
}

struct get_ctx {
        const char *name;
        struct pea_volume_row row;
};

static int get_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct get_ctx *c = userdata;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "SELECT " COLUMNS " FROM volumes WHERE name = ?1", &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
        r = state_step(s, st, err);
        if (r < 0)
                return r;
        if (r == 0)
                return pea_error_set(err, ENOENT,
                                     "no volume with name \"%s\" found: no such volume", c->name);
        pea_volume_row_done(&c->row);
        return row_from_stmt(st, &c->row, err);
}

int pea_state_volume_get(struct pea_state *s, const char *name, struct pea_volume_row *ret,
                         struct pea_error **err)
{
        struct get_ctx c = {.name = name};
        int r = state_run(s, false, get_fn, &c, err);
        if (r < 0) {
                pea_volume_row_done(&c.row);
                return r;
        }
        *ret = c.row;
        return 0;
}

struct list_ctx {
        struct pea_volume_row *rows;
        size_t n;
};

static int list_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct list_ctx *c = userdata;
        c->rows = pea_volume_rows_free(c->rows, c->n);
        c->n = 0;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "SELECT " COLUMNS " FROM volumes ORDER BY name", &st, err);
        if (r < 0)
                return r;
        size_t cap = 0;
        while ((r = state_step(s, st, err)) > 0) {
                if (c->n == cap) {
                        cap = cap ? 2 * cap : 8;
                        c->rows = xrealloc(c->rows, cap * sizeof(*c->rows));
                }
                r = row_from_stmt(st, &c->rows[c->n], err);
                if (r < 0)
                        return r;
                c->n++;
        }
        return r;
}

int pea_state_volume_list(struct pea_state *s, struct pea_volume_row **ret, size_t *ret_n,
                          struct pea_error **err)
{
        struct list_ctx c = {0};
        int r = state_run(s, false, list_fn, &c, err);
        if (r < 0) {
                pea_volume_rows_free(c.rows, c.n);
                return r;
        }
        *ret = c.rows;
        *ret_n = c.n;
        return 0;
}

static int update_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct pea_volume_row *row = userdata;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s,
                              "UPDATE volumes SET driver = ?2, mountpoint = ?3, options = ?4, "
                              "labels = ?5, anonymous = ?7, needs_copy_up = ?8, "
                              "needs_chown = ?9, mount_count = ?10 "
                              "WHERE name = ?1 AND ?6 IS NOT NULL /* created is kept */",
                              &st, err);
        if (r >= 0)
                r = bind_row(s, st, row, err);
        if (r >= 0)
                r = state_step(s, st, err);
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0)
                return pea_error_set(err, ENOENT,
                                     "no volume with name \"%s\" found: no such volume", row->name);
        return 0;
}

int pea_state_volume_update(struct pea_state *s, const struct pea_volume_row *row,
                            struct pea_error **err)
{
        return state_run(s, true, update_fn, (void *)row, err);
}

struct users_ctx {
        const char *name;
        char **ids;
};

static int users_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct users_ctx *c = userdata;
        c->ids = strv_free(c->ids);
        c->ids = xcalloc(1, sizeof(char *));
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s,
                              "SELECT cv.container_id FROM container_volumes cv JOIN containers c "
                              "ON c.id = cv.container_id WHERE cv.volume_name = ?1 "
                              "ORDER BY c.created, c.rowid",
                              &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
        while ((r = state_step(s, st, err)) > 0)
                strv_consume(&c->ids, state_column_strdup(st, 0));
        return r;
}

int pea_state_volume_users(struct pea_state *s, const char *name, char ***ret,
                           struct pea_error **err)
{
        struct users_ctx c = {.name = name};
        int r = state_run(s, false, users_fn, &c, err);
        if (r < 0) {
                strv_free(c.ids);
                return r;
        }
        *ret = c.ids;
        return 0;
}

static int in_use_error(struct pea_state *s, const char *name, struct pea_error **err)
{
        struct users_ctx c = {.name = name};
        int r = users_fn(s, &c, err);
        _cleanup_strv_ char **ids = c.ids;
        if (r < 0)
                return r;
        if (!ids || !ids[0])
                return 0;
        _cleanup_free_ char *list = strv_join(ids, ", ");
        return pea_error_set(err, EBUSY,
                             "volume %s is being used by the following container(s): %s: volume "
                             "is being used",
                             name, list);
}

static int remove_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const char *name = userdata;
        int r = in_use_error(s, name, err);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = state_prepare(s, "DELETE FROM volumes WHERE name = ?1", &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        r = state_step(s, st, err);
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0)
                return pea_error_set(err, ENOENT,
                                     "no volume with name \"%s\" found: no such volume", name);
        return 0;
}

int pea_state_volume_remove(struct pea_state *s, const char *name, struct pea_error **err)
{
        return state_run(s, true, remove_fn, (void *)name, err);
}

struct cvol_ctx {
        const char *id;
        char *const *names;
};

static int set_volumes_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct cvol_ctx *c = userdata;
        _cleanup_stmt_ sqlite3_stmt *del = NULL;
        int r = state_prepare(s, "DELETE FROM container_volumes WHERE container_id = ?1", &del,
                              err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(del, 1, c->id, -1, SQLITE_STATIC);
        r = state_step(s, del, err);
        STRV_FOREACH(n, (char **)c->names) {
                if (r < 0)
                        return r;
                r = exists_in_tx(s, *n, err);
                if (r == 0)
                        return pea_error_set(err, ENOENT,
                                             "no volume with name \"%s\" found: no such volume",
                                             *n);
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                if (r >= 0)
                        r = state_prepare(s,
                                          "INSERT OR IGNORE INTO container_volumes "
                                          "(container_id, volume_name) VALUES (?1, ?2)",
                                          &st, err);
                if (r < 0)
                        return r;
                (void)sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
                (void)sqlite3_bind_text(st, 2, *n, -1, SQLITE_STATIC);
                r = state_step(s, st, err);
        }
        return r < 0 ? r : 0;
}

int pea_state_container_set_volumes(struct pea_state *s, const char *container_id,
                                    char *const *names, struct pea_error **err)
{
        struct cvol_ctx c = {.id = container_id, .names = names};
        return state_run(s, true, set_volumes_fn, &c, err);
}

static int get_volumes_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct users_ctx *c = userdata;
        c->ids = strv_free(c->ids);
        c->ids = xcalloc(1, sizeof(char *));
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s,
                              "SELECT volume_name FROM container_volumes WHERE container_id = ?1 "
                              "ORDER BY rowid",
                              &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
        while ((r = state_step(s, st, err)) > 0)
                strv_consume(&c->ids, state_column_strdup(st, 0));
        return r;
}

int pea_state_container_get_volumes(struct pea_state *s, const char *container_id, char ***ret,
                                    struct pea_error **err)
{
        struct users_ctx c = {.name = container_id};
        int r = state_run(s, false, get_volumes_fn, &c, err);
        if (r < 0) {
                strv_free(c.ids);
                return r;
        }
        *ret = c.ids;
        return 0;
}

struct count_ctx {
        const char *name;
        int delta;
        int count;
};

static int mount_count_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct count_ctx *c = userdata;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s,
                              "UPDATE volumes SET mount_count = max(mount_count + ?2, 0) "
                              "WHERE name = ?1 RETURNING mount_count",
                              &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int(st, 2, c->delta);
        r = state_step(s, st, err);
        if (r < 0)
                return r;
        if (r == 0)
                return pea_error_set(err, ENOENT,
                                     "no volume with name \"%s\" found: no such volume", c->name);
        c->count = sqlite3_column_int(st, 0);
        r = state_step(s, st, err);
        return r < 0 ? r : 0;
}

int pea_state_volume_add_mount_count(struct pea_state *s, const char *name, int delta,
                                     int *ret_count, struct pea_error **err)
{
        struct count_ctx c = {.name = name, .delta = delta};
        int r = state_run(s, true, mount_count_fn, &c, err);
        if (r < 0)
                return r;
        if (ret_count)
                *ret_count = c.count;
        return 0;
}
