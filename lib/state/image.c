/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "state-internal.h"

/*
 * Rows of the image store (schema v2). Every function is one transaction, or
 * joins the caller's pea_state_transaction().
 */

#define LAYER_COLUMNS \
        "chain_id, diff_id, parent_chain_id, digest, media_type, whiteout, size, created"
#define IMAGE_COLUMNS                                                                \
        "id, digest, manifest_media_type, repo_digests, os, architecture, variant, " \
        "created, size, added"

/* Binds texts[i] to ?(i + 1); NULL binds SQL NULL. */
static int bind_texts(struct pea_state *s, sqlite3_stmt *st, const char *const *texts, size_t n,
                      struct pea_error **err)
{
        for (size_t i = 0; i < n; i++) {
                int rc = sqlite3_bind_text(st, (int)i + 1, texts[i], -1, SQLITE_STATIC);
                if (rc != SQLITE_OK)
                        return state_sql_error(s, rc, err, "binding an image store row");
        }
        return 0;
}

/* Runs sql with ?1..?n bound to texts and returns state_step()'s result (first row only). */
static int exec_texts(struct pea_state *s, const char *sql, const char *const *texts, size_t n,
                      struct pea_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, sql, &st, err);
        if (r >= 0)
                r = bind_texts(s, st, texts, n, err);
        if (r >= 0)
                r = state_step(s, st, err);
        return r;
}

/* The first column of every row of sql (?1 bound to arg, when not NULL). */
static int query_strv(struct pea_state *s, const char *sql, const char *arg, char ***ret,
                      struct pea_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_strv_ char **l = xcalloc(1, sizeof(char *));
        int r = state_prepare(s, sql, &st, err);
        if (r >= 0 && arg)
                r = bind_texts(s, st, &arg, 1, err);
        while (r >= 0 && (r = state_step(s, st, err)) > 0)
                strv_consume(&l, state_column_strdup(st, 0));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- layers ------------------------------------------------------------------------------ */

void pea_layer_row_done(struct pea_layer_row *row)
{
        if (!row)
                return;
        free(row->chain_id);
        free(row->diff_id);
        free(row->parent_chain_id);
        free(row->digest);
        free(row->media_type);
        free(row->whiteout);
        *row = (struct pea_layer_row){0};
}

struct pea_layer_row *pea_layer_rows_free(struct pea_layer_row *rows, size_t n)
{
        for (size_t i = 0; rows && i < n; i++)
                pea_layer_row_done(&rows[i]);
        free(rows);
        return NULL;
}

static void layer_from_stmt(sqlite3_stmt *st, struct pea_layer_row *ret)
{
        *ret = (struct pea_layer_row){
                .chain_id = state_column_strdup(st, 0),
                .diff_id = state_column_strdup(st, 1),
                .parent_chain_id = state_column_strdup(st, 2),
                .digest = state_column_strdup(st, 3),
                .media_type = state_column_strdup(st, 4),
                .whiteout = state_column_strdup(st, 5),
                .size = sqlite3_column_int64(st, 6),
                .created = sqlite3_column_int64(st, 7),
        };
}

static int layer_exists(struct pea_state *s, const char *chain_id, struct pea_error **err)
{
        return exec_texts(s, "SELECT 1 FROM layers WHERE chain_id = ?1", &chain_id, 1, err);
}

static int layer_add_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct pea_layer_row *row = userdata;
        int r = layer_exists(s, row->chain_id, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (row->parent_chain_id) {
                r = layer_exists(s, row->parent_chain_id, err);
                if (r == 0)
                        return pea_error_set(err, ENOENT, "parent layer '%s' of '%s' not known",
                                             row->parent_chain_id, row->chain_id);
                if (r < 0)
                        return r;
        }
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = state_prepare(s,
                          "INSERT INTO layers (" LAYER_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, "
                          "?6, ?7, ?8)",
                          &st, err);
        const char *texts[] = {row->chain_id, row->diff_id,    row->parent_chain_id,
                               row->digest,   row->media_type, row->whiteout ?: "overlay"};
        if (r >= 0)
                r = bind_texts(s, st, texts, ELEMENTSOF(texts), err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_int64(st, 7, row->size);
        (void)sqlite3_bind_int64(st, 8, row->created ? row->created : state_now_ns());
        r = state_step(s, st, err);
        if (r < 0) {
                (void)pea_error_wrap(err, "adding layer '%s'", row->chain_id);
                return r;
        }
        return 1;
}

int pea_state_layer_add(struct pea_state *s, const struct pea_layer_row *row,
                        struct pea_error **err)
{
        if (!row->chain_id || !row->diff_id)
                return pea_error_set(err, EINVAL, "layer row without chain ID or diff ID");
        return state_run(s, true, layer_add_fn, (void *)row, err);
}

struct layer_get {
        const char *chain_id;
        struct pea_layer_row row;
};

static int layer_get_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct layer_get *g = userdata;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "SELECT " LAYER_COLUMNS " FROM layers WHERE chain_id = ?1", &st,
                              err);
        if (r >= 0)
                r = bind_texts(s, st, &g->chain_id, 1, err);
        if (r >= 0)
                r = state_step(s, st, err);
        if (r == 0)
                return pea_error_set(err, ENOENT, "layer '%s' not known", g->chain_id);
        if (r < 0)
                return r;
        pea_layer_row_done(&g->row);
        layer_from_stmt(st, &g->row);
        return 0;
}

int pea_state_layer_get(struct pea_state *s, const char *chain_id, struct pea_layer_row *ret,
                        struct pea_error **err)
{
        struct layer_get g = {.chain_id = chain_id};
        int r = state_run(s, false, layer_get_fn, &g, err);
        if (r < 0)
                return r;
        *ret = g.row;
        return 0;
}

struct layer_list {
        struct pea_layer_row *rows;
        size_t n;
};

static int layer_list_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct layer_list *l = userdata;
        l->rows = pea_layer_rows_free(l->rows, l->n);
        l->n = 0;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "SELECT " LAYER_COLUMNS " FROM layers ORDER BY created, chain_id",
                              &st, err);
        while (r >= 0 && (r = state_step(s, st, err)) > 0) {
                l->rows = xrealloc(l->rows, (l->n + 1) * sizeof(*l->rows));
                layer_from_stmt(st, &l->rows[l->n++]);
        }
        return r;
}

int pea_state_layer_list(struct pea_state *s, struct pea_layer_row **ret, size_t *ret_n,
                         struct pea_error **err)
{
        struct layer_list l = {0};
        int r = state_run(s, false, layer_list_fn, &l, err);
        if (r < 0) {
                pea_layer_rows_free(l.rows, l.n);
                return r;
        }
        *ret = l.rows;
        *ret_n = l.n;
        return 0;
}

struct strv_query {
        const char *sql;
        const char *arg;
        char **result;
};

static int strv_query_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct strv_query *q = userdata;
        q->result = strv_free(q->result);
        return query_strv(s, q->sql, q->arg, &q->result, err);
}

/* query_strv() as its own read transaction (or joining the caller's). */
static int run_strv_query(struct pea_state *s, const char *sql, const char *arg, char ***ret,
                          struct pea_error **err)
{
        struct strv_query q = {.sql = sql, .arg = arg};
        int r = state_run(s, false, strv_query_fn, &q, err);
        if (r < 0) {
                strv_free(q.result);
                return r;
        }
        *ret = q.result;
        return 0;
}

int pea_state_layer_list_unused(struct pea_state *s, char ***ret, struct pea_error **err)
{
        return run_strv_query(s,
                              "SELECT chain_id FROM layers l WHERE NOT EXISTS "
                              "(SELECT 1 FROM image_layers i WHERE i.chain_id = l.chain_id) "
                              "AND NOT EXISTS (SELECT 1 FROM layers c "
                              "WHERE c.parent_chain_id = l.chain_id) ORDER BY chain_id",
                              NULL, ret, err);
}

static int layer_remove_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const char *chain_id = userdata;
        int r = layer_exists(s, chain_id, err);
        if (r == 0)
                return pea_error_set(err, ENOENT, "layer '%s' not known", chain_id);
        if (r > 0)
                r = exec_texts(s,
                               "SELECT 1 FROM image_layers WHERE chain_id = ?1 "
                               "UNION ALL SELECT 1 FROM layers WHERE parent_chain_id = ?1 LIMIT 1",
                               &chain_id, 1, err);
        if (r > 0)
                return pea_error_set(err, EBUSY, "layer '%s' is in use", chain_id);
        if (r == 0)
                r = exec_texts(s, "DELETE FROM layers WHERE chain_id = ?1", &chain_id, 1, err);
        return r < 0 ? r : 0;
}

int pea_state_layer_remove(struct pea_state *s, const char *chain_id, struct pea_error **err)
{
        return state_run(s, true, layer_remove_fn, (void *)chain_id, err);
}

/* The layer ?1 and every layer above it. */
#define BROKEN_CTE                                                                   \
        "WITH RECURSIVE bad(c) AS (SELECT ?1 UNION SELECT l.chain_id FROM layers l " \
        "JOIN bad ON l.parent_chain_id = bad.c) "

struct broken {
        const char *chain_id;
        char **images;
};

static int remove_broken_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct broken *b = userdata;
        b->images = strv_free(b->images);
        int r = query_strv(s,
                           BROKEN_CTE "SELECT DISTINCT image_id FROM image_layers "
                                      "WHERE chain_id IN bad ORDER BY image_id",
                           b->chain_id, &b->images, err);
        if (r >= 0)
                r = exec_texts(s,
                               BROKEN_CTE "DELETE FROM images WHERE id IN (SELECT image_id FROM "
                                          "image_layers WHERE chain_id IN bad)",
                               &b->chain_id, 1, err);
        /* One statement: foreign keys are checked at its end, children and parents gone. */
        if (r >= 0)
                r = exec_texts(s, BROKEN_CTE "DELETE FROM layers WHERE chain_id IN bad",
                               &b->chain_id, 1, err);
        return r < 0 ? r : 0;
}

int pea_state_layer_remove_broken(struct pea_state *s, const char *chain_id, char ***ret_image_ids,
                                  struct pea_error **err)
{
        struct broken b = {.chain_id = chain_id};
        int r = state_run(s, true, remove_broken_fn, &b, err);
        if (r >= 0 && ret_image_ids)
                *ret_image_ids = TAKE_PTR(b.images);
        strv_free(b.images);
        return r;
}

/* ---- images ------------------------------------------------------------------------------ */

void pea_image_row_done(struct pea_image_row *row)
{
        if (!row)
                return;
        free(row->id);
        free(row->digest);
        free(row->manifest_media_type);
        free(row->config);
        strv_free(row->names);
        strv_free(row->repo_digests);
        free(row->os);
        free(row->architecture);
        free(row->variant);
        strv_free(row->layers);
        *row = (struct pea_image_row){0};
}

struct pea_image_row *pea_image_rows_free(struct pea_image_row *rows, size_t n)
{
        for (size_t i = 0; rows && i < n; i++)
                pea_image_row_done(&rows[i]);
        free(rows);
        return NULL;
}

/* A JSON array of strings as a vector; anything else in it is skipped. */
static char **strv_from_json_text(const char *text)
{
        _cleanup_json_ json_t *j = json_loads(text ? text : "[]", 0, NULL);
        char **l = xcalloc(1, sizeof(char *));
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
                if (json_is_string(v))
                        strv_push(&l, json_string_value(v));
        return l;
}

static char *strv_to_json_text(char *const *l)
{
        _cleanup_json_ json_t *a = json_array();
        STRV_FOREACH(p, (char **)l)
                (void)json_array_append_new(a, json_string(*p));
        return pea_json_dumps(a, 0);
}

/* Fills names and layers of a row read by image_from_stmt(). */
static int image_fill(struct pea_state *s, struct pea_image_row *row, struct pea_error **err)
{
        int r = query_strv(s, "SELECT name FROM image_names WHERE image_id = ?1 ORDER BY rowid",
                           row->id, &row->names, err);
        if (r >= 0)
                r = query_strv(s,
                               "SELECT chain_id FROM image_layers WHERE image_id = ?1 "
                               "ORDER BY idx",
                               row->id, &row->layers, err);
        return r;
}

/* Columns IMAGE_COLUMNS, then config when with_config. */
static void image_from_stmt(sqlite3_stmt *st, bool with_config, struct pea_image_row *ret)
{
        *ret = (struct pea_image_row){
                .id = state_column_strdup(st, 0),
                .digest = state_column_strdup(st, 1),
                .manifest_media_type = state_column_strdup(st, 2),
                .repo_digests = strv_from_json_text((const char *)sqlite3_column_text(st, 3)),
                .os = state_column_strdup(st, 4),
                .architecture = state_column_strdup(st, 5),
                .variant = state_column_strdup(st, 6),
                .created = sqlite3_column_int64(st, 7),
                .size = sqlite3_column_int64(st, 8),
                .added = sqlite3_column_int64(st, 9),
                .config = with_config ? state_column_strdup(st, 10) : NULL,
        };
}

static int image_exists(struct pea_state *s, const char *id, struct pea_error **err)
{
        return exec_texts(s, "SELECT 1 FROM images WHERE id = ?1", &id, 1, err);
}

static int insert_image(struct pea_state *s, const struct pea_image_row *row,
                        struct pea_error **err)
{
        _cleanup_free_ char *repo_digests = strv_to_json_text(row->repo_digests);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s,
                              "INSERT INTO images (" IMAGE_COLUMNS ", config) VALUES (?1, ?2, ?3, "
                              "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                              &st, err);
        const char *texts[] = {row->id,      row->digest, row->manifest_media_type,
                               repo_digests, row->os,     row->architecture,
                               row->variant};
        if (r >= 0)
                r = bind_texts(s, st, texts, ELEMENTSOF(texts), err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_int64(st, 8, row->created);
        (void)sqlite3_bind_int64(st, 9, row->size);
        (void)sqlite3_bind_int64(st, 10, row->added ? row->added : state_now_ns());
        (void)sqlite3_bind_text(st, 11, row->config ? row->config : "{}", -1, SQLITE_STATIC);
        r = state_step(s, st, err);
        for (size_t i = 0; r >= 0 && row->layers && row->layers[i]; i++) {
                _cleanup_stmt_ sqlite3_stmt *il = NULL;
                r = state_prepare(s, "INSERT INTO image_layers VALUES (?1, ?2, ?3)", &il, err);
                if (r < 0)
                        break;
                (void)sqlite3_bind_text(il, 1, row->id, -1, SQLITE_STATIC);
                (void)sqlite3_bind_int64(il, 2, (int64_t)i);
                (void)sqlite3_bind_text(il, 3, row->layers[i], -1, SQLITE_STATIC);
                r = state_step(s, il, err);
        }
        return r < 0 ? r : 0;
}

/* Merges into the stored image row->id: same layers, new digest, united repo digests. */
static int merge_image(struct pea_state *s, const struct pea_image_row *row, struct pea_error **err)
{
        _cleanup_(pea_image_row_done) struct pea_image_row old = {0};
        int r = pea_state_image_get(s, row->id, &old, err);
        if (r < 0)
                return r;
        size_t n = strv_length(old.layers);
        bool same = n == strv_length(row->layers);
        for (size_t i = 0; same && i < n; i++)
                same = streq(old.layers[i], row->layers[i]);
        if (!same)
                return pea_error_set(err, EINVAL, "image '%s' is stored with other layers",
                                     row->id);
        STRV_FOREACH(d, row->repo_digests)
                if (!strv_contains(old.repo_digests, *d))
                        strv_push(&old.repo_digests, *d);
        _cleanup_free_ char *repo_digests = strv_to_json_text(old.repo_digests);
        const char *texts[] = {row->id, row->digest ?: old.digest,
                               row->manifest_media_type ?: old.manifest_media_type, repo_digests};
        r = exec_texts(s,
                       "UPDATE images SET digest = ?2, manifest_media_type = ?3, "
                       "repo_digests = ?4 WHERE id = ?1",
                       texts, ELEMENTSOF(texts), err);
        return r < 0 ? r : 0;
}

static int tag_one(struct pea_state *s, const char *id, const char *name, struct pea_error **err)
{
        const char *texts[] = {name, id};
        /* A name moving here gets a new rowid: it is the image's newest name. */
        int r = exec_texts(s, "DELETE FROM image_names WHERE name = ?1 AND image_id <> ?2", texts,
                           2, err);
        if (r >= 0)
                r = exec_texts(s,
                               "INSERT OR IGNORE INTO image_names (name, image_id) "
                               "VALUES (?1, ?2)",
                               texts, 2, err);
        return r < 0 ? r : 0;
}

static int image_add_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct pea_image_row *row = userdata;
        int r = 0;
        STRV_FOREACH(l, row->layers) {
                r = layer_exists(s, *l, err);
                if (r == 0)
                        return pea_error_set(err, ENOENT, "layer '%s' of image '%s' not known", *l,
                                             row->id);
                if (r < 0)
                        return r;
        }
        r = image_exists(s, row->id, err);
        if (r < 0)
                return r;
        r = r > 0 ? merge_image(s, row, err) : insert_image(s, row, err);
        STRV_FOREACH(n, row->names)
                if (r >= 0)
                        r = tag_one(s, row->id, *n, err);
        return r < 0 ? r : 0;
}

int pea_state_image_add(struct pea_state *s, const struct pea_image_row *row,
                        struct pea_error **err)
{
        if (!pea_id_is_valid(row->id))
                return pea_error_set(err, EINVAL, "invalid image ID '%s'", row->id ?: "");
        int r = state_run(s, true, image_add_fn, (void *)row, err);
        if (r < 0)
                (void)pea_error_wrap(err, "adding image '%s'", row->id);
        return r < 0 ? r : 0;
}

struct image_get {
        const char *id;
        struct pea_image_row row;
};

static int image_get_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct image_get *g = userdata;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "SELECT " IMAGE_COLUMNS ", config FROM images WHERE id = ?1", &st,
                              err);
        if (r >= 0)
                r = bind_texts(s, st, &g->id, 1, err);
        if (r >= 0)
                r = state_step(s, st, err);
        if (r == 0)
                return pea_error_set(err, ENOENT, "image '%s' not known", g->id);
        if (r < 0)
                return r;
        pea_image_row_done(&g->row);
        image_from_stmt(st, true, &g->row);
        return image_fill(s, &g->row, err);
}

int pea_state_image_get(struct pea_state *s, const char *id, struct pea_image_row *ret,
                        struct pea_error **err)
{
        struct image_get g = {.id = id};
        int r = state_run(s, false, image_get_fn, &g, err);
        if (r < 0) {
                pea_image_row_done(&g.row);
                return r;
        }
        *ret = g.row;
        return 0;
}

struct image_list {
        bool with_config;
        struct pea_image_row *rows;
        size_t n;
};

static int image_list_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct image_list *l = userdata;
        l->rows = pea_image_rows_free(l->rows, l->n);
        l->n = 0;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s,
                              l->with_config ? "SELECT " IMAGE_COLUMNS ", config FROM images "
                                               "ORDER BY created DESC, added DESC, id"
                                             : "SELECT " IMAGE_COLUMNS " FROM images "
                                               "ORDER BY created DESC, added DESC, id",
                              &st, err);
        while (r >= 0 && (r = state_step(s, st, err)) > 0) {
                l->rows = xrealloc(l->rows, (l->n + 1) * sizeof(*l->rows));
                image_from_stmt(st, l->with_config, &l->rows[l->n++]);
                r = image_fill(s, &l->rows[l->n - 1], err);
        }
        return r;
}

int pea_state_image_list(struct pea_state *s, bool with_config, struct pea_image_row **ret,
                         size_t *ret_n, struct pea_error **err)
{
        struct image_list l = {.with_config = with_config};
        int r = state_run(s, false, image_list_fn, &l, err);
        if (r < 0) {
                pea_image_rows_free(l.rows, l.n);
                return r;
        }
        *ret = l.rows;
        *ret_n = l.n;
        return 0;
}

/* The first value of sql (?1 = arg) as *ret, NULL when no row; returns the row count (max 2). */
static int first_of_two(struct pea_state *s, const char *sql, const char *arg, char **ret,
                        struct pea_error **err)
{
        _cleanup_strv_ char **l = NULL;
        int r = run_strv_query(s, sql, arg, &l, err);
        if (r < 0)
                return r;
        size_t n = strv_length(l);
        *ret = n > 0 ? xstrdup(l[0]) : NULL;
        return n > 2 ? 2 : (int)n;
}

int pea_state_image_by_name(struct pea_state *s, const char *name, char **ret_id,
                            struct pea_error **err)
{
        int r = first_of_two(s, "SELECT image_id FROM image_names WHERE name = ?1", name, ret_id,
                             err);
        return r < 0 ? r : 0;
}

int pea_state_image_by_prefix(struct pea_state *s, const char *prefix, char **ret_id,
                              struct pea_error **err)
{
        size_t n = strlen(prefix);
        if (n == 0 || n > 64 || strspn(prefix, "0123456789abcdef") != n) {
                *ret_id = NULL;
                return 0;
        }
        _cleanup_free_ char *pattern = xasprintf("%s*", prefix);
        _cleanup_free_ char *id = NULL;
        int r = first_of_two(s, "SELECT id FROM images WHERE id GLOB ?1 LIMIT 2", pattern, &id,
                             err);
        if (r < 0)
                return r;
        *ret_id = r == 1 ? TAKE_PTR(id) : NULL;
        return r;
}

static int image_remove_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const char *id = userdata;
        int r = image_exists(s, id, err);
        if (r == 0)
                return pea_error_set(err, ENOENT, "image '%s' not known", id);
        if (r > 0)
                r = exec_texts(s, "DELETE FROM images WHERE id = ?1", &id, 1, err);
        return r < 0 ? r : 0;
}

int pea_state_image_remove(struct pea_state *s, const char *id, struct pea_error **err)
{
        return state_run(s, true, image_remove_fn, (void *)id, err);
}

struct tag {
        const char *id;
        const char *name;
};

static int image_tag_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct tag *t = userdata;
        int r = image_exists(s, t->id, err);
        if (r == 0)
                return pea_error_set(err, ENOENT, "image '%s' not known", t->id);
        return r < 0 ? r : tag_one(s, t->id, t->name, err);
}

int pea_state_image_tag(struct pea_state *s, const char *id, const char *name,
                        struct pea_error **err)
{
        struct tag t = {.id = id, .name = name};
        return state_run(s, true, image_tag_fn, &t, err);
}

static int image_untag_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct tag *t = userdata;
        const char *texts[] = {t->name, t->id};
        int r = exec_texts(s, "SELECT 1 FROM image_names WHERE name = ?1 AND image_id = ?2", texts,
                           2, err);
        if (r == 0)
                return pea_error_set(err, ENOENT, "%s: tag not known", t->name);
        if (r > 0)
                r = exec_texts(s, "DELETE FROM image_names WHERE name = ?1", texts, 1, err);
        return r < 0 ? r : 0;
}

int pea_state_image_untag(struct pea_state *s, const char *id, const char *name,
                          struct pea_error **err)
{
        struct tag t = {.id = id, .name = name};
        return state_run(s, true, image_untag_fn, &t, err);
}

int pea_state_image_users(struct pea_state *s, const char *id, char ***ret, struct pea_error **err)
{
        return run_strv_query(s, "SELECT id FROM containers WHERE image_id = ?1 ORDER BY created",
                              id, ret, err);
}

int pea_state_blob_in_use(struct pea_state *s, const char *digest, struct pea_error **err)
{
        _cleanup_free_ char *id = NULL;
        int r = first_of_two(s,
                             "SELECT 1 FROM images WHERE 'sha256:' || id = ?1 OR digest = ?1 "
                             "OR EXISTS (SELECT 1 FROM json_each(images.repo_digests) j "
                             "WHERE substr(j.value, instr(j.value, '@') + 1) = ?1) "
                             "UNION ALL SELECT 1 FROM layers WHERE digest = ?1 LIMIT 1",
                             digest, &id, err);
        return r < 0 ? r : r > 0;
}
