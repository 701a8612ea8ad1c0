/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <jansson.h>
#include <sqlite3.h>

#include "state-internal.h"

/* Column order of row_from_stmt() and the ?N of bind_row(). */
#define COLUMNS "id, name, infra_id, config, created"

void pea_pod_row_done(struct pea_pod_row *row)
{
        if (!row)
                return;
        free(row->id);
        free(row->name);
        free(row->infra_id);
        json_decref(row->config);
        *row = (struct pea_pod_row){0};
}

struct pea_pod_row *pea_pod_rows_free(struct pea_pod_row *rows, size_t n)
{
        for (size_t i = 0; rows && i < n; i++)
                pea_pod_row_done(&rows[i]);
        free(rows);
        return NULL;
}

static int row_from_stmt(sqlite3_stmt *st, struct pea_pod_row *ret, struct pea_error **err)
{
        json_t *config = NULL;
        int r = state_column_json(st, 3, &config, err);
        if (r < 0)
                return r;
        *ret = (struct pea_pod_row){
                .id = state_column_strdup(st, 0),
                .name = state_column_strdup(st, 1),
                .infra_id = state_column_strdup(st, 2),
                .config = config,
                .created = sqlite3_column_int64(st, 4),
        };
        return 0;
}

static int bind_row(struct pea_state *s, sqlite3_stmt *st, const struct pea_pod_row *row,
                    struct pea_error **err)
{
        int rc = sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 2, row->name, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 3, row->infra_id, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = state_bind_json(st, 4, row->config);
        /* UPDATE leaves created alone and has no ?5. */
        if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) >= 5)
                rc = sqlite3_bind_int64(st, 5, row->created ? row->created : state_now_ns());
        if (rc != SQLITE_OK)
                return state_sql_error(s, rc, err, "binding pod '%s'", row->id);
        return 0;
}

static int check_row(const struct pea_pod_row *row, struct pea_error **err)
{
        if (!pea_id_is_valid(row->id))
                return pea_error_set(err, EINVAL, "invalid pod ID '%s'", row->id ? row->id : "");
        if (!row->name || !row->name[0])
                return pea_error_set(err, EINVAL, "pod '%s' has no name", row->id);
        return 0;
}

static int check_name(struct pea_state *s, const struct pea_pod_row *row, struct pea_error **err)
{
        _cleanup_free_ char *owner = NULL;
        int r = state_name_owner(s, row->name, &owner, err);
        if (r < 0)
                return r;
        if (owner && !streq(owner, row->id))
                return pea_error_set(err, EEXIST,
                                     "error adding pod to state: name '%s' is in use: pod "
                                     "already exists",
                                     row->name);
        return 0;
}

static int add_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct pea_pod_row *row = userdata;
        int r = check_name(s, row, err);
        if (r >= 0)
                r = state_id_in_use(s, row->id, err);
        if (r > 0)
                return pea_error_set(err, EEXIST,
                                     "error adding pod to state: ID '%s' is in use: pod "
                                     "already exists",
                                     row->id);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = state_prepare(s, "INSERT INTO pods (" COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5)", &st,
                          err);
        if (r >= 0)
                r = bind_row(s, st, row, err);
        if (r >= 0)
                r = state_step(s, st, err);
        return r < 0 ? r : 0;
}

int pea_state_pod_add(struct pea_state *s, const struct pea_pod_row *row, struct pea_error **err)
{
        int r = check_row(row, err);
        if (r < 0)
                return r;
        return state_run(s, true, add_fn, (void *)row, err);
}

struct get_ctx {
        const char *key;
        bool resolve; /* name, ID or prefix; else the full ID only */
        struct pea_pod_row row;
};

static int get_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct get_ctx *c = userdata;
        _cleanup_free_ char *id = NULL;
        if (c->resolve) {
                int r = state_resolve(s, "pods", "pod", c->key, &id, err);
                if (r < 0)
                        return r;
        }
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "SELECT " COLUMNS " FROM pods WHERE id = ?1", &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, id ? id : c->key, -1, SQLITE_STATIC);
        r = state_step(s, st, err);
        if (r < 0)
                return r;
        if (r == 0)
                return pea_error_set(err, ENOENT, "no pod with name or ID '%s' found: no such pod",
                                     c->key);
        pea_pod_row_done(&c->row);
        return row_from_stmt(st, &c->row, err);
}

static int get(struct pea_state *s, const char *key, bool resolve, struct pea_pod_row *ret,
               struct pea_error **err)
{
        struct get_ctx c = {.key = key, .resolve = resolve};
        int r = state_run(s, false, get_fn, &c, err);
        if (r < 0) {
                pea_pod_row_done(&c.row);
                return r;
        }
        *ret = c.row;
        return 0;
}

int pea_state_pod_get_by_id(struct pea_state *s, const char *id, struct pea_pod_row *ret,
                            struct pea_error **err)
{
        return get(s, id, false, ret, err);
}

int pea_state_pod_lookup(struct pea_state *s, const char *name_or_id, struct pea_pod_row *ret,
                         struct pea_error **err)
{
        return get(s, name_or_id, true, ret, err);
}

struct list_ctx {
        struct pea_pod_row *rows;
        size_t n;
};

static int list_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct list_ctx *c = userdata;
        c->rows = pea_pod_rows_free(c->rows, c->n);
        c->n = 0;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "SELECT " COLUMNS " FROM pods ORDER BY created, rowid", &st, err);
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

int pea_state_pod_list(struct pea_state *s, struct pea_pod_row **ret, size_t *ret_n,
                       struct pea_error **err)
{
        struct list_ctx c = {0};
        int r = state_run(s, false, list_fn, &c, err);
        if (r < 0) {
                pea_pod_rows_free(c.rows, c.n);
                return r;
        }
        *ret = c.rows;
        *ret_n = c.n;
        return 0;
}

static int changed_or_enoent(struct pea_state *s, const char *id, struct pea_error **err)
{
        if (sqlite3_changes(s->db) == 0)
                return pea_error_set(err, ENOENT, "no pod with name or ID '%s' found: no such pod",
                                     id);
        return 0;
}

static int update_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct pea_pod_row *row = userdata;
        int r = check_name(s, row, err);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = state_prepare(s, "UPDATE pods SET name = ?2, infra_id = ?3, config = ?4 WHERE id = ?1",
                          &st, err);
        if (r >= 0)
                r = bind_row(s, st, row, err);
        if (r >= 0)
                r = state_step(s, st, err);
        if (r < 0)
                return r;
        return changed_or_enoent(s, row->id, err);
}

int pea_state_pod_update(struct pea_state *s, const struct pea_pod_row *row, struct pea_error **err)
{
        int r = check_row(row, err);
        if (r < 0)
                return r;
        return state_run(s, true, update_fn, (void *)row, err);
}

static int remove_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const char *id = userdata;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "SELECT count(*) FROM containers WHERE pod_id = ?1", &st, err);
        if (r >= 0) {
                (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
                r = state_step(s, st, err);
        }
        if (r < 0)
                return r;
        int64_t n = r > 0 ? sqlite3_column_int64(st, 0) : 0;
        if (n > 0)
                return pea_error_set(err, EBUSY, "pod '%s' is not empty: it has %lld containers",
                                     id, (long long)n);

        _cleanup_stmt_ sqlite3_stmt *del = NULL;
        r = state_prepare(s, "DELETE FROM pods WHERE id = ?1", &del, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(del, 1, id, -1, SQLITE_STATIC);
        r = state_step(s, del, err);
        if (r < 0)
                return r;
        return changed_or_enoent(s, id, err);
}

int pea_state_pod_remove(struct pea_state *s, const char *id, struct pea_error **err)
{
        return state_run(s, true, remove_fn, (void *)id, err);
}
