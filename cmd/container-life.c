/* SPDX-License-Identifier: Apache-2.0 */
/* The container commands' lifecycle: detached start through the monitor, kill, stop, the truthful
 * state (here, not in lib/container, which may not use lib/monitor). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base.h"
#include "cmd.h"
#include "container/container.h"
#include "monitor/monitor.h"
#include "run.h"
#include "state/state.h"
#include "storage/storage.h"
#include "units.h"

/* The store cmd/pea.c opens: <graph_root>/state.db. */
static char *db_path(const struct pea_container_ctx *ctx)
{
        return xasprintf("%s/state.db", ctx->graph_root);
}

int pea_cmd_container_start_detached(const struct pea_container_ctx *ctx, const char *id,
                                     bool attach_wait, pid_t *ret_pid, struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(ctx->state, id, &row, err);
        if (r < 0)
                return r;
        r = pea_cmd_container_sync(ctx, &row, err);
        bool running = r >= 0 && streq(row.state, "running");
        bool external = json_object_get(row.config, "runtime") != NULL;
        bool stdin_open = json_is_true(json_object_get(row.config, "interactive"));
        pea_container_row_done(&row);
        if (r < 0)
                return r;
        if (running)
                return pea_error_set(err, EBUSY, "container '%s' is already running", id);
        if (external)
                return pea_error_set(err, ENOTSUP,
                                     "detached containers with an external OCI runtime are not "
                                     "supported yet");
        r = pea_storage_mount(ctx->storage, id, NULL, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *bundle = pea_container_bundle_dir(ctx, id);
        _cleanup_free_ char *log = pea_container_log_path(ctx, id);
        _cleanup_free_ char *db = db_path(ctx);
        struct pea_monitor_config cfg;
        pea_monitor_config_init(&cfg);
        cfg.id = id;
        cfg.bundle_dir = bundle;
        cfg.run_root = ctx->run_root;
        cfg.db_path = db;
        cfg.log_path = log;
        cfg.attach_wait = attach_wait;
        cfg.stdin_open = stdin_open;
        pid_t mon = 0, pid = 0;
        r = pea_monitor_spawn(&cfg, &mon, &pid, err);
        if (r < 0)
                return r;
        if (ret_pid)
                *ret_pid = pid;
        return 0;
}

struct repair {
        const char *id;
        int pid;
        const char *state;
        int code;
        int64_t finished;
        const char *error;
};

static int repair_tx(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct repair *rp = userdata;
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(s, rp->id, &row, err);
        if (r < 0)
                return r;
        if (streq(row.state, "running") && row.pid == rp->pid) {
                free(row.state);
                row.state = xstrdup(rp->state);
                row.pid = 0;
                row.exit_code = rp->code;
                row.finished_at = rp->finished;
                if (!json_is_object(row.config)) {
                        json_decref(row.config);
                        row.config = json_object();
                }
                if (rp->error)
                        json_object_set_new(row.config, "error", json_string(rp->error));
                r = pea_state_container_update(s, &row, err);
        }
        pea_container_row_done(&row);
        return r;
}

/* Whether the container's process is gone; a zombie counts as gone. */
static bool process_gone(int pid)
{
        if (pid <= 0)
                return true;
        if (kill(pid, 0) < 0 && errno == ESRCH)
                return true;
        _cleanup_free_ char *path = xasprintf("/proc/%d/stat", pid);
        _cleanup_free_ char *text = NULL;
        if (pea_read_file_at(AT_FDCWD, path, 4096, &text, NULL, NULL) < 0)
                return true;
        const char *p = strrchr(text, ')');
        return p && (p[2] == 'Z' || p[2] == 'X');
}

int pea_cmd_container_sync(const struct pea_container_ctx *ctx, struct pea_container_row *row,
                           struct pea_error **err)
{
        if (!streq(row->state, "running"))
                return 0;
        /* the monitor records the exit itself; an orphaned process still runs */
        if (pea_monitor_is_alive(ctx->run_root, row->id, NULL, NULL) > 0 || !process_gone(row->pid))
                return 0;
        struct repair rp = {.id = row->id, .pid = row->pid, .state = "exited"};
        bool oom = false;
        int r = pea_monitor_read_exit(ctx->run_root, row->id, &rp.code, &rp.finished, &oom, NULL);
        if (r < 0) {
                rp.state = "stopped";
                rp.code = -1;
                rp.finished = pea_now_ns();
                rp.error = "the container's monitor exited before recording its exit";
        }
        r = pea_state_transaction(ctx->state, repair_tx, &rp, err);
        if (r < 0)
                return r;
        struct pea_container_row fresh = {};
        r = pea_state_container_get_by_id(ctx->state, row->id, &fresh, err);
        if (r < 0)
                return r;
        pea_container_row_done(row);
        *row = fresh;
        return 1;
}

int pea_cmd_container_get(const struct pea_container_ctx *ctx, const char *name_or_id,
                          struct pea_container_row *ret, struct pea_error **err)
{
        int r = pea_state_container_lookup(ctx->state, name_or_id, ret, err);
        if (r < 0)
                return r;
        r = pea_cmd_container_sync(ctx, ret, err);
        if (r < 0)
                pea_container_row_done(ret);
        return r < 0 ? r : 0;
}

int pea_cmd_container_kill(const struct pea_container_ctx *ctx, const char *id, int sig,
                           struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_cmd_container_get(ctx, id, &row, err);
        if (r < 0)
                return r;
        bool running = streq(row.state, "running") && row.pid > 0;
        int pid = row.pid;
        _cleanup_free_ char *state = xstrdup(row.state), *full = xstrdup(row.id);
        pea_container_row_done(&row);
        if (!running)
                return pea_error_set(err, EINVAL,
                                     "can only kill running containers. %s is in state %s: "
                                     "container state improper",
                                     full, state);
        if (kill(pid, sig) < 0 && errno != ESRCH)
                return pea_error_syscall(err, errno, "sending signal %d to container '%s'", sig,
                                         id);
        return 0;
}

int pea_cmd_container_wait_stopped(const struct pea_container_ctx *ctx, const char *id,
                                   int64_t timeout_ns, struct pea_error **err)
{
        int64_t deadline = pea_now_ns() + timeout_ns;
        for (;;) {
                struct pea_container_row row = {};
                int r = pea_cmd_container_get(ctx, id, &row, err);
                if (r < 0)
                        return r;
                bool running = streq(row.state, "running");
                pea_container_row_done(&row);
                if (!running)
                        return 0;
                if (pea_now_ns() >= deadline)
                        return -ETIMEDOUT;
                struct timespec ts = {.tv_nsec = 20 * 1000 * 1000};
                (void)nanosleep(&ts, NULL);
        }
}

int pea_cmd_container_stop(const struct pea_container_ctx *ctx, const char *id, int sig,
                           unsigned timeout_s, struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_cmd_container_get(ctx, id, &row, err);
        if (r < 0)
                return r;
        bool running = streq(row.state, "running") && row.pid > 0;
        int pid = row.pid;
        pea_container_row_done(&row);
        if (!running)
                return 0;
        r = pea_monitor_request_stop(ctx->run_root, id, err);
        if (r < 0)
                return r;
        if (timeout_s > 0) {
                (void)kill(pid, sig ? sig : SIGTERM);
                r = pea_cmd_container_wait_stopped(ctx, id, (int64_t)timeout_s * 1000000000, err);
                if (r != -ETIMEDOUT)
                        return r;
        }
        (void)kill(pid, SIGKILL);
        r = pea_cmd_container_wait_stopped(ctx, id, INT64_C(30) * 1000000000, err);
        if (r == -ETIMEDOUT)
                return pea_error_set(err, ETIMEDOUT, "container '%s' did not stop after SIGKILL",
                                     id);
        return r;
}
