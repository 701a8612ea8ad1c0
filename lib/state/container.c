/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "state-internal.h"

/* Column order of row_from_stmt() and the ?N of bind_row(). */
#define COLUMNS                                                                            \
        "id, name, image_id, image_name, pod_id, state, config, created, pid, exit_code, " \
        "started_at, finished_at"

static const char *const container_states[] = {
        "created", "running", "paused", "stopped", "exited", "removing", "unknown",
};

bool pea_container_state_is_valid(const char *state)
{
        for (size_t i = 0; state && i < ELEMENTSOF(container_states); i++)
                if (streq(state, container_states[i]))
                        return true;
        return false;
}

void pea_container_row_done(struct pea_container_row *row)
{
        if (!row)
                return;
        free(row->id);
        free(row->name);
        free(row->image_id);
        free(row->image_name);
        free(row->pod_id);
        free(row->state);
        json_decref(row->config);
        *row = (struct pea_container_row){0};
}

struct pea_container_row *pea_container_rows_free(struct pea_container_row *rows, size_t n)
{
        for (size_t i = 0; rows && i < n; i++)
                pea_container_row_done(&rows[i]);
        free(rows);
        return NULL;
}

static int row_from_stmt(sqlite3_stmt *st, struct pea_container_row *ret, struct pea_error **err)
{
        json_t *config = NULL;
        int r = state_column_json(st, 6, &config, err);
        if (r < 0)
                return r;
        *ret = (struct pea_container_row){
                .id = state_column_strdup(st, 0),
                .name = state_column_strdup(st, 1),
                .image_id = state_column_strdup(st, 2),
                .image_name = state_column_strdup(st, 3),
                .pod_id = state_column_strdup(st, 4),
                .state = state_column_strdup(st, 5),
                .config = config,
                .created = sqlite3_column_int64(st, 7),
                .pid = sqlite3_column_int(st, 8),
                .exit_code = sqlite3_column_int(st, 9),
                .started_at = sqlite3_column_int64(st, 10),
                .finished_at = sqlite3_column_int64(st, 11),
        };
        return 0;
}

static int bind_row(struct pea_state *s, sqlite3_stmt *st, const struct pea_container_row *row,
                    struct pea_error **err)
{
        const char *texts[] = {row->id,         row->name,   row->image_id,
                               row->image_name, row->pod_id, row->state};
        const int64_t ints[] = {row->created ? row->created : state_now_ns(), row->pid,
                                row->exit_code, row->started_at, row->finished_at};
        int rc = SQLITE_OK;
        for (size_t i = 0; rc == SQLITE_OK && i < ELEMENTSOF(texts); i++)
                rc = sqlite3_bind_text(st, (int)i + 1, texts[i], -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = state_bind_json(st, 7, row->config);
        for (size_t i = 0; rc == SQLITE_OK && i < ELEMENTSOF(ints); i++)
                rc = sqlite3_bind_int64(st, (int)i + 8, ints[i]);
        if (rc != SQLITE_OK)
                return state_sql_error(s, rc, err, "binding container '%s'", row->id);
        return 0;
}

static int check_row(const struct pea_container_row *row, struct pea_error **err)
{
        if (!pea_id_is_valid(row->id))
                return pea_error_set(err, EINVAL, "invalid container ID '%s'",
                                     row->id ? row->id : "");
        if (!row->name || !row->name[0])
                return pea_error_set(err, EINVAL, "container '%s' has no name", row->id);
        if (!pea_container_state_is_valid(row->state))
                return pea_error_set(err, EINVAL, "invalid container state '%s'",
                                     row->state ? row->state : "");
        return 0;
}

/* -EEXIST when name belongs to a container or pod other than id. */
static int check_name(struct pea_state *s, const char *name, const char *id, struct pea_error **err)
{
        _cleanup_free_ char *owner = NULL;
        int r = state_name_owner(s, name, &owner, err);
        if (r < 0)
                return r;
        if (owner && !streq(owner, id))
                return pea_error_set(err, EEXIST,
                                     "the container name '%s' is already in use by %s. You have "
                                     "to remove that container to be able to reuse that name: "
                                     "that name is already in use",
                                     name, owner);
        return 0;
}

static int pod_exists(struct pea_state *s, const char *pod_id, struct pea_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "SELECT 1 FROM pods WHERE id = ?1", &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, pod_id, -1, SQLITE_STATIC);
        r = state_step(s, st, err);
        if (r == 0)
                return pea_error_set(err, ENOENT, "no pod with name or ID '%s' found: no such pod",
                                     pod_id);
        return r;
}

static int add_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct pea_container_row *row = userdata;
        int r = check_name(s, row->name, row->id, err);
        if (r < 0)
                return r;
        r = state_id_in_use(s, row->id, err);
        if (r > 0)
                return pea_error_set(err, EEXIST,
                                     "container ID '%s' is already in use: "
                                     "container already exists",
                                     row->id);
        if (r >= 0 && row->pod_id)
                r = pod_exists(s, row->pod_id, err);
        if (r < 0)
                return r;

        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = state_prepare(s,
                          "INSERT INTO containers (" COLUMNS ") "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                          &st, err);
        if (r >= 0)
                r = bind_row(s, st, row, err);
        if (r >= 0)
                r = state_step(s, st, err);
        return r < 0 ? r : 0;
}

int pea_state_container_add(struct pea_state *s, const struct pea_container_row *row,
                            struct pea_error **err)
{
        int r = check_row(row, err);
        if (r < 0)
                return r;
        return state_run(s, true, add_fn, (void *)row, err);
}

struct get_ctx {
        const char *where; /* a literal: "id = ?1" or "name = ?1" */
        const char *key;
        struct pea_container_row row;
};

static int get_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct get_ctx *c = userdata;
        _cleanup_free_ char *sql =
                xasprintf("SELECT " COLUMNS " FROM containers WHERE %s", c->where);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, sql, &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
        r = state_step(s, st, err);
        if (r < 0)
                return r;
        if (r == 0)
                return pea_error_set(err, ENOENT,
                                     "no container with name or ID '%s' found: no such container",
                                     c->key);
        pea_container_row_done(&c->row);
        return row_from_stmt(st, &c->row, err);
}

static int get_where(struct pea_state *s, const char *where, const char *key,
                     struct pea_container_row *ret, struct pea_error **err)
{
        struct get_ctx c = {.where = where, .key = key};
        int r = state_run(s, false, get_fn, &c, err);
        if (r < 0) {
                pea_container_row_done(&c.row);
                return r;
        }
        *ret = c.row;
        return 0;
}

int pea_state_container_get_by_id(struct pea_state *s, const char *id,
                                  struct pea_container_row *ret, struct pea_error **err)
{
        return get_where(s, "id = ?1", id, ret, err);
}

int pea_state_container_get_by_name(struct pea_state *s, const char *name,
                                    struct pea_container_row *ret, struct pea_error **err)
{
        return get_where(s, "name = ?1", name, ret, err);
}

static int lookup_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct get_ctx *c = userdata;
        _cleanup_free_ char *id = NULL;
        int r = state_resolve(s, "containers", "container", c->key, &id, err);
        if (r < 0)
                return r;
        struct get_ctx by_id = {.where = "id = ?1", .key = id};
        r = get_fn(s, &by_id, err);
        if (r < 0)
                return r;
        pea_container_row_done(&c->row);
        c->row = by_id.row;
        return 0;
}

int pea_state_container_lookup(struct pea_state *s, const char *name_or_id,
                               struct pea_container_row *ret, struct pea_error **err)
{
        struct get_ctx c = {.key = name_or_id};
        int r = state_run(s, false, lookup_fn, &c, err);
        if (r < 0) {
                pea_container_row_done(&c.row);
                return r;
        }
        *ret = c.row;
        return 0;
}

struct list_ctx {
        const char *pod_id;
        struct pea_container_row *rows;
        size_t n;
};

static int list_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct list_ctx *c = userdata;
        c->rows = pea_container_rows_free(c->rows, c->n);
        c->n = 0;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s,
                              "SELECT " COLUMNS " FROM containers "
                              "WHERE ?1 IS NULL OR pod_id = ?1 ORDER BY created, rowid",
                              &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, c->pod_id, -1, SQLITE_STATIC);
        size_t cap = 0;
        while ((r = state_step(s, st, err)) > 0) {
                if (c->n == cap) {
                        cap = cap ? 2 * cap : 16;
                        c->rows = xrealloc(c->rows, cap * sizeof(*c->rows));
                }
                r = row_from_stmt(st, &c->rows[c->n], err);
                if (r < 0)
                        return r;
                c->n++;
        }
        return r;
}

int pea_state_container_list(struct pea_state *s, const char *pod_id,
                             struct pea_container_row **ret, size_t *ret_n, struct pea_error **err)
{
        struct list_ctx c = {.pod_id = pod_id};
        int r = state_run(s, false, list_fn, &c, err);
        if (r < 0) {
                pea_container_rows_free(c.rows, c.n);
                return r;
        }
        *ret = c.rows;
        *ret_n = c.n;
        return 0;
}

static int changed_or_enoent(struct pea_state *s, const char *id, struct pea_error **err)
{
        if (sqlite3_changes(s->db) == 0)
                return pea_error_set(err, ENOENT,
                                     "no container with name or ID '%s' found: no such container",
                                     id);
        return 0;
}

static int update_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct pea_container_row *row = userdata;
        int r = check_name(s, row->name, row->id, err);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = state_prepare(s,
                          "UPDATE containers SET name = ?2, state = ?6, config = ?7, "
                          "pid = ?9, exit_code = ?10, started_at = ?11, finished_at = ?12 "
                          "WHERE id = ?1",
                          &st, err);
        if (r >= 0)
                r = bind_row(s, st, row, err);
        if (r >= 0)
                r = state_step(s, st, err);
        if (r < 0)
                return r;
        return changed_or_enoent(s, row->id, err);
}

int pea_state_container_update(struct pea_state *s, const struct pea_container_row *row,
                               struct pea_error **err)
{
        int r = check_row(row, err);
        if (r < 0)
                return r;
        return state_run(s, true, update_fn, (void *)row, err);
}

static int set_state_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct pea_container_row *row = userdata;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s,
                              "UPDATE containers SET state = ?6, pid = ?9, exit_code = ?10, "
                              "started_at = ?11, finished_at = ?12 WHERE id = ?1",
                              &st, err);
        if (r >= 0)
                r = bind_row(s, st, row, err);
        if (r >= 0)
                r = state_step(s, st, err);
        if (r < 0)
                return r;
        return changed_or_enoent(s, row->id, err);
}

int pea_state_container_set_state(struct pea_state *s, const char *id, const char *state, int pid,
                                  int exit_code, int64_t started_at, int64_t finished_at,
                                  struct pea_error **err)
{
        if (!pea_container_state_is_valid(state))
                return pea_error_set(err, EINVAL, "invalid container state '%s'",
                                     state ? state : "");
        /* bind_row() wants every field; the statement uses only some. */
        struct pea_container_row row = {
                .id = (char *)id,
                .state = (char *)state,
                .created = 1,
                .pid = pid,
                .exit_code = exit_code,
                .started_at = started_at,
                .finished_at = finished_at,
        };
        return state_run(s, true, set_state_fn, &row, err);
}

static int remove_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const char *id = userdata;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "DELETE FROM containers WHERE id = ?1", &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        r = state_step(s, st, err);
        if (r < 0)
                return r;
        return changed_or_enoent(s, id, err);
}

int pea_state_container_remove(struct pea_state *s, const char *id, struct pea_error **err)
{
        return state_run(s, true, remove_fn, (void *)id, err);
}
