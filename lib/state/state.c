/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sys/stat.h>

#include <jansson.h>
#include <sqlite3.h>

#include "state-internal.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct pea_state *, pea_state_close);

static int constraint_errno(int rc)
{
        switch (rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
                return EEXIST;
        default:
                return EINVAL;
        }
}

static int sqlite_errno(sqlite3 *db, int rc)
{
        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return EBUSY;
        case SQLITE_NOMEM:
                return ENOMEM;
        case SQLITE_READONLY:
                return EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return EACCES;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return EBADMSG;
        case SQLITE_FULL:
                return ENOSPC;
        case SQLITE_TOOBIG:
                return E2BIG;
        case SQLITE_CONSTRAINT:
                return constraint_errno(rc);
        case SQLITE_CANTOPEN:
        case SQLITE_IOERR: {
                int e = db ? sqlite3_system_errno(db) : 0;
                return e > 0 ? e : EIO;
        }
        default:
                return EIO;
        }
}

int state_sql_error(struct pea_state *s, int rc, struct pea_error **err, const char *fmt, ...)
{
        sqlite3 *db = s ? s->db : NULL;
        int primary = rc & 0xff;
        if (s && (primary == SQLITE_BUSY || primary == SQLITE_LOCKED))
                s->busy = true;

        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *ctx = xvasprintf(fmt, ap);
        va_end(ap);
        const char *msg =
                db && sqlite3_extended_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        return pea_error_set(err, sqlite_errno(db, rc), "%s: %s", ctx, msg);
}

int state_prepare(struct pea_state *s, const char *sql, sqlite3_stmt **ret, struct pea_error **err)
{
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK) {
                (void)sqlite3_finalize(st);
                return state_sql_error(s, rc, err, "preparing a state query");
        }
        *ret = st;
        return 0;
}

int state_exec(struct pea_state *s, const char *sql, struct pea_error **err)
{
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return state_sql_error(s, rc, err, "updating the state database");
        return 0;
}

int state_step(struct pea_state *s, sqlite3_stmt *st, struct pea_error **err)
{
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return state_sql_error(s, rc, err, "querying the state database");
}

int state_query_int(struct pea_state *s, const char *sql, int64_t *ret, struct pea_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, sql, &st, err);
        if (r < 0)
                return r;
        r = state_step(s, st, err);
        if (r < 0)
                return r;
        *ret = r > 0 ? sqlite3_column_int64(st, 0) : 0;
        return 0;
}

/* Sleeps 1, 2, 4 ... 64 ms (half of it random), so busy processes spread out. */
static void backoff(unsigned attempt)
{
        static unsigned seed;
        static pid_t seed_pid;
        if (seed_pid != getpid()) {
                seed_pid = getpid();
                seed = (unsigned)seed_pid ^ (unsigned)time(NULL);
        }
        unsigned cap = attempt < 6 ? 1u << attempt : 64;
        unsigned ms = cap / 2 + (unsigned)rand_r(&seed) % (cap / 2 + 1);
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Runs once() until it succeeds or fails for a reason other than a busy database. */
static int with_retries(struct pea_state *s,
                        int (*once)(struct pea_state *s, void *userdata, struct pea_error **err),
                        void *userdata, struct pea_error **err)
{
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_error_ struct pea_error *e = NULL;
                s->busy = false;
                int r = once(s, userdata, &e);
                if (r >= 0)
                        return r;
                if (!s->busy || attempt + 1 >= STATE_MAX_ATTEMPTS) {
                        if (err && !*err)
                                *err = TAKE_PTR(e);
                        return r;
                }
                pea_debug("state database '%s' is busy, retrying", s->path);
                backoff(attempt);
        }
}

struct txn {
        bool write;
        int (*fn)(struct pea_state *s, void *userdata, struct pea_error **err);
        void *userdata;
};

static void rollback(struct pea_state *s)
{
        if (!sqlite3_get_autocommit(s->db))
                (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int txn_once(struct pea_state *s, void *userdata, struct pea_error **err)
{
        struct txn *t = userdata;
        int r = state_exec(s, t->write ? "BEGIN IMMEDIATE" : "BEGIN", err);
        if (r < 0)
                return r;
        s->in_txn = true;
        s->txn_write = t->write;
        r = t->fn(s, t->userdata, err);
        s->in_txn = false;
        if (r >= 0) {
                int q = state_exec(s, "COMMIT", err);
                if (q < 0)
                        r = q;
        }
        if (r < 0)
                rollback(s);
        return r;
}

int state_run(struct pea_state *s, bool write,
              int (*fn)(struct pea_state *s, void *userdata, struct pea_error **err),
              void *userdata, struct pea_error **err)
{
        if (s->in_txn) {
                if (write && !s->txn_write)
                        return pea_error_set(err, EINVAL,
                                             "writing inside a read-only state transaction");
                return fn(s, userdata, err);
        }
        struct txn t = {.write = write, .fn = fn, .userdata = userdata};
        return with_retries(s, txn_once, &t, err);
}

int pea_state_transaction(struct pea_state *s,
                          int (*fn)(struct pea_state *s, void *userdata, struct pea_error **err),
                          void *userdata, struct pea_error **err)
{
        return state_run(s, true, fn, userdata, err);
}

void state_set_busy_timeout(struct pea_state *s, int ms)
{
        (void)sqlite3_busy_timeout(s->db, ms);
}

char *state_column_strdup(sqlite3_stmt *st, int col)
{
        const unsigned char *t = sqlite3_column_text(st, col);
        return t ? xstrdup((const char *)t) : NULL;
}

int state_bind_json(sqlite3_stmt *st, int idx, const json_t *j)
{
        char *text = j ? pea_json_dumps(j, 0) : xstrdup("{}");
        /* SQLite frees text, also when binding fails. */
        return sqlite3_bind_text(st, idx, text, -1, free);
}

int state_column_json(sqlite3_stmt *st, int col, json_t **ret, struct pea_error **err)
{
        const char *text = (const char *)sqlite3_column_text(st, col);
        json_error_t jerr;
        json_t *j = json_loads(text ? text : "{}", JSON_DECODE_ANY, &jerr);
        if (!j)
                return pea_error_set(err, EBADMSG, "parsing JSON in the state database: %s",
                                     jerr.text);
        *ret = j;
        return 0;
}

int64_t state_now_ns(void)
{
        struct timespec ts = {0};
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Creates the file 0600 ourselves, so SQLite's -wal and -shm files copy that mode. */
static int precreate(const char *path, struct pea_error **err)
{
        _cleanup_close_ int fd =
                open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening state database '%s'", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return pea_error_syscall(err, errno, "checking state database '%s'", path);
        if (!S_ISREG(st.st_mode))
                return pea_error_set(err, EINVAL, "state database '%s' is not a regular file",
                                     path);
        return 0;
}

static int pragmas_once(struct pea_state *s, void *userdata _unused_, struct pea_error **err)
{
        int64_t fk = 0;
        int r = state_exec(s, "PRAGMA foreign_keys=ON", err);
        if (r >= 0)
                r = state_query_int(s, "PRAGMA foreign_keys", &fk, err);
        if (r < 0)
                return r;
        if (fk != 1)
                return pea_error_set(err, ENOTSUP, "sqlite has no foreign key support");

        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        r = state_prepare(s, "PRAGMA journal_mode=WAL", &st, err);
        if (r >= 0)
                r = state_step(s, st, err);
        if (r < 0)
                return r;
        const char *mode = r > 0 ? (const char *)sqlite3_column_text(st, 0) : NULL;
        if (!mode || strcasecmp(mode, "wal") != 0)
                return pea_error_set(err, ENOTSUP, "cannot use WAL mode (journal mode is '%s')",
                                     mode ? mode : "");
        return state_exec(s, "PRAGMA synchronous=NORMAL", err);
}

#define STATE_WAL_PAGES 48

int pea_state_open(const char *path, struct pea_state **ret, struct pea_error **err)
{
        int r = precreate(path, err);
        if (r < 0)
                return r;

        _cleanup_(pea_state_closep) struct pea_state *s = xcalloc(1, sizeof(*s));
        s->path = xstrdup(path);
        /* The unix VFS opens every file (db, -wal, -shm) with O_CLOEXEC. */
        int rc = sqlite3_open_v2(path, &s->db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW
                                         | SQLITE_OPEN_EXRESCODE,
                                 NULL);
        if (rc != SQLITE_OK)
                return state_sql_error(s, rc, err, "opening state database '%s'", path);
        (void)sqlite3_extended_result_codes(s->db, 1);
        (void)sqlite3_busy_timeout(s->db, STATE_BUSY_TIMEOUT_MS);
        /*
         * The last connection to close would checkpoint the WAL into the
         * database and fsync both: every command paid for it. The WAL stays
         * instead, kept short by checkpoints every STATE_WAL_PAGES pages,
         * since the next first opener reads all of it (recovery).
         */
        (void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        (void)sqlite3_wal_autocheckpoint(s->db, STATE_WAL_PAGES);

        r = with_retries(s, pragmas_once, NULL, err);
        if (r >= 0)
                r = state_migrate(s, err);
        if (r < 0)
                return pea_error_wrap(err, "opening state database '%s'", path);
        *ret = TAKE_PTR(s);
        return 0;
}

struct pea_state *pea_state_close(struct pea_state *s)
{
        if (!s)
                return NULL;
        (void)sqlite3_close_v2(s->db);
        free(s->path);
        free(s);
        return NULL;
}

static int count_containers(struct pea_state *s, json_t *c, struct pea_error **err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = state_prepare(s, "SELECT state, count(*) FROM containers GROUP BY state", &st, err);
        if (r < 0)
                return r;
        json_int_t total = 0, running = 0, paused = 0;
        while ((r = state_step(s, st, err)) > 0) {
                const char *state = (const char *)sqlite3_column_text(st, 0);
                json_int_t n = sqlite3_column_int64(st, 1);
                total += n;
                if (streq_ptr(state, "running"))
                        running += n;
                else if (streq_ptr(state, "paused"))
                        paused += n;
        }
        if (r < 0)
                return r;
        (void)json_object_set_new(c, "number", json_integer(total));
        (void)json_object_set_new(c, "paused", json_integer(paused));
        (void)json_object_set_new(c, "running", json_integer(running));
        (void)json_object_set_new(c, "stopped", json_integer(total - running - paused));
        return 0;
}

static int counts_fn(struct pea_state *s, void *userdata, struct pea_error **err)
{
        static const char *const tables[] = {"images", "pods", "volumes"};
        json_t **slot = userdata;
        _cleanup_json_ json_t *counts = json_object();
        json_t *c = json_object();
        (void)json_object_set_new(counts, "containers", c);
        int r = count_containers(s, c, err);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(tables); i++) {
                _cleanup_free_ char *sql = xasprintf("SELECT count(*) FROM %s", tables[i]);
                int64_t n = 0;
                r = state_query_int(s, sql, &n, err);
                (void)json_object_set_new(counts, tables[i], json_integer(n));
        }
        if (r < 0)
                return r;
        json_decref(*slot);
        *slot = TAKE_PTR(counts);
        return 0;
}

int pea_state_counts(struct pea_state *s, struct json_t **ret, struct pea_error **err)
{
        _cleanup_json_ json_t *counts = NULL;
        int r = state_run(s, false, counts_fn, &counts, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(counts);
        return 0;
}
