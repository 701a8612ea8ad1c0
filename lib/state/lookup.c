/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <sqlite3.h>

#include "state-internal.h"

/* A possible ID prefix: 1 to 64 lowercase hex characters (and so no GLOB metacharacters). */
static bool is_id_prefix(const char *s)
{
        size_t n = strlen(s);
        return n > 0 && n <= 64 && strspn(s, "0123456789abcdef") == n;
}

/* 1 and the ID when exactly one row matches id or name (ID first), 0 when none. */
static int resolve_exact(struct pea_state *s, const char *table, const char *name_or_id,
                         char **ret_id, struct pea_error **err)
{
        _cleanup_free_ char *sql = xasprintf("SELECT id FROM %s WHERE id = ?1 OR name = ?1 "
                                             "ORDER BY id = ?1 DESC LIMIT 1",
                                             table);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, sql, &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, name_or_id, -1, SQLITE_STATIC);
        r = state_step(s, st, err);
        if (r > 0)
                *ret_id = state_column_strdup(st, 0);
        return r;
}

/* The number of IDs starting with prefix (0, 1 or 2 for "more"); the ID when 1. */
static int resolve_prefix(struct pea_state *s, const char *table, const char *prefix, char **ret_id,
                          struct pea_error **err)
{
        _cleanup_free_ char *sql = xasprintf("SELECT id FROM %s WHERE id GLOB ?1 LIMIT 2", table);
        _cleanup_free_ char *pattern = xasprintf("%s*", prefix);
        _cleanup_free_ char *id = NULL;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, sql, &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
        int n = 0;
        while ((r = state_step(s, st, err)) > 0) {
                if (n++ == 0)
                        id = state_column_strdup(st, 0);
        }
        if (r < 0)
                return r;
        if (n == 1)
                *ret_id = TAKE_PTR(id);
        return n;
}

int state_resolve(struct pea_state *s, const char *table, const char *kind, const char *name_or_id,
                  char **ret_id, struct pea_error **err)
{
        int r = resolve_exact(s, table, name_or_id, ret_id, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (is_id_prefix(name_or_id)) {
                r = resolve_prefix(s, table, name_or_id, ret_id, err);
                if (r < 0 || r == 1)
                        return r < 0 ? r : 0;
                if (r > 1)
                        return pea_error_set(err, EINVAL, "more than one result for %s '%s'", kind,
                                             name_or_id);
        }
        return pea_error_set(err, ENOENT, "no %s with name or ID '%s' found: no such %s", kind,
                             name_or_id, kind);
}

int state_name_owner(struct pea_state *s, const char *name, char **ret_id, struct pea_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s,
                              "SELECT id FROM containers WHERE name = ?1 "
                              "UNION ALL SELECT id FROM pods WHERE name = ?1 LIMIT 1",
                              &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        r = state_step(s, st, err);
        if (r < 0)
                return r;
        *ret_id = r > 0 ? state_column_strdup(st, 0) : NULL;
        return 0;
}

int state_id_in_use(struct pea_state *s, const char *id, struct pea_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s,
                              "SELECT 1 FROM containers WHERE id = ?1 "
                              "UNION ALL SELECT 1 FROM pods WHERE id = ?1 LIMIT 1",
                              &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        return state_step(s, st, err);
}
