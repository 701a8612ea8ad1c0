/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>

#include "state-internal.h"

/*
 * What the monitor keeps in a container's config JSON besides the runtime
 * columns: "Health" (podman's State.Health) and "OOMKilled". json_set()
 * changes only that key, so a concurrent update of the rest is not lost.
 */

struct set_key {
        const char *id;
        const char *path;
        const char *json;
};

static int set_key_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct set_key *k = userdata;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s,
                              "UPDATE containers SET config = json_set(config, ?2, json(?3)) "
                              "WHERE id = ?1",
                              &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_text(st, 1, k->id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 2, k->path, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(st, 3, k->json, -1, SQLITE_STATIC);
        r = state_step(s, st, err);
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0)
                return pea_error_set(err, ENOENT,
                                     "no container with name or ID '%s' found: no such container",
                                     k->id);
        return 0;
}

int pea_state_container_set_health(struct pea_state *s, const char *id, const char *health_json,
                                   struct pea_error **err)
{
        struct set_key k = {id, "$.Health", health_json ? health_json : "null"};
        return state_run(s, true, set_key_fn, &k, err);
}

int pea_state_container_set_oom_killed(struct pea_state *s, const char *id, bool oom_killed,
                                       struct pea_error **err)
{
        struct set_key k = {id, "$.OOMKilled", oom_killed ? "true" : "false"};
        return state_run(s, true, set_key_fn, &k, err);
}

int pea_state_container_get_health(struct pea_state *s, const char *id, json_t **ret,
                                   struct pea_error **err)
{
        struct pea_container_row row = {0};
        int r = pea_state_container_get_by_id(s, id, &row, err);
        if (r < 0)
                return r;
        json_t *h = json_object_get(row.config, "Health");
        *ret = h && !json_is_null(h) ? json_incref(h) : NULL;
        pea_container_row_done(&row);
        return 0;
}
