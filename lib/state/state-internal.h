/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "base.h"
#include "state.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize);
#define _cleanup_stmt_ _cleanup_(sqlite3_finalizep)

/* Per attempt; pea_state_transaction() retries on top of it. */
#define STATE_BUSY_TIMEOUT_MS 30000
/* Attempts of a busy transaction before giving up. */
#define STATE_MAX_ATTEMPTS 100

struct pea_state {
        sqlite3 *db;
        char *path;
        bool in_txn;    /* inside state_run(): nested calls join */
        bool txn_write; /* ... and it is BEGIN IMMEDIATE */
        bool busy;      /* the last SQLite failure was SQLITE_BUSY or SQLITE_LOCKED */
};

/* Sets err from an SQLite result code and the connection's message; marks s->busy. */
int state_sql_error(struct pea_state *s, int rc, struct pea_error **err, const char *fmt, ...)
        _printf_(4, 5);

int state_prepare(struct pea_state *s, const char *sql, sqlite3_stmt **ret, struct pea_error **err);
/* Runs statements that return no rows we need. */
int state_exec(struct pea_state *s, const char *sql, struct pea_error **err);
/* 1 on a row, 0 when done, -errno on failure. */
int state_step(struct pea_state *s, sqlite3_stmt *st, struct pea_error **err);
/* The first column of the first row of sql (0 when there is no row). */
int state_query_int(struct pea_state *s, const char *sql, int64_t *ret, struct pea_error **err);

/* Runs fn in a transaction (BEGIN IMMEDIATE when write, else BEGIN), retrying when busy. */
int state_run(struct pea_state *s, bool write,
              int (*fn)(struct pea_state *s, void *userdata, struct pea_error **err),
              void *userdata, struct pea_error **err);

void state_set_busy_timeout(struct pea_state *s, int ms);

char *state_column_strdup(sqlite3_stmt *st, int col);
/* Binds a JSON value as compact text ({} for NULL). */
int state_bind_json(sqlite3_stmt *st, int idx, const json_t *j);
/* Parses a JSON text column; -EBADMSG when it is malformed. */
int state_column_json(sqlite3_stmt *st, int col, json_t **ret, struct pea_error **err);
int64_t state_now_ns(void);

/*
 * Resolves a full ID, a name, or a unique ID prefix in table ("containers" or
 * "pods") to a full ID. kind ("container" or "pod") goes into podman's messages.
 */
int state_resolve(struct pea_state *s, const char *table, const char *kind, const char *name_or_id,
                  char **ret_id, struct pea_error **err);

/* The ID of the container or pod called name, or NULL. */
int state_name_owner(struct pea_state *s, const char *name, char **ret_id, struct pea_error **err);
/* True when a container or pod has this ID. */
int state_id_in_use(struct pea_state *s, const char *id, struct pea_error **err);

/* The newest schema version this pea knows. */
int state_schema_latest(void);
int state_schema_version(struct pea_state *s, int *ret, struct pea_error **err);
int state_migrate(struct pea_state *s, struct pea_error **err);
