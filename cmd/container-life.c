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
#include "jsonutil.h"
#include "monitor/monitor.h"
#include "pod.h"
#include "pods/pods.h"
#include "run.h"
#include "runtime/specgen.h"
#include "state/state.h"
#include "storage/storage.h"
#include "units.h"

/* The store cmd/pea.c opens: <graph_root>/state.db. */
static char *db_path(const struct pea_container_ctx *ctx)
{
        return xasprintf("%s/state.db", ctx->graph_root);
}

/* Gives an exiting monitor (it records the exit first) up to 3 s to be gone: 0 when it is. */
static int wait_monitor_gone(const struct pea_container_ctx *ctx, const char *id)
{
        for (int i = 0; i < 300; i++) {
                if (pea_monitor_is_alive(ctx->run_root, id, NULL, NULL) <= 0)
                        return 0;
                struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
                (void)nanosleep(&ts, NULL);
        }
        return 0;
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
        _cleanup_json_ json_t *config = json_incref(row.config);
        _cleanup_free_ char *pod_id = row.pod_id ? xstrdup(row.pod_id) : NULL;
        bool infra = pea_pod_row_is_infra(&row);
        pea_container_row_done(&row);
        if (r < 0)
                return r;
        if (running)
                return pea_error_set(err, EBUSY, "container '%s' is already running", id);
        /* a monitor still tearing down would remove the new one's socket */
        (void)wait_monitor_gone(ctx, id);
        if (pea_monitor_is_alive(ctx->run_root, id, NULL, NULL) > 0 && !attach_wait)
                return 0; /* between restarts: its monitor starts it again */
        if (external)
                return pea_error_set(err, ENOTSUP,
                                     "detached containers with an external OCI runtime are not "
                                     "supported yet");
        r = pea_container_bundle_restore(ctx, id, err);
        if (r >= 0) /* a pod's member: its infra first */
                r = pea_cmd_pod_before_start(ctx, id, pod_id, infra, err);
        if (r >= 0)
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
        _cleanup_strv_ char **test = NULL;
        r = pea_cmd_monitor_config_from_row(config, &cfg, &test, err);
        if (r < 0)
                return r;
        pid_t mon = 0, pid = 0;
        _cleanup_close_ int notify_fd = pea_cmd_sd_notify_prepare(config); /* -1: none */
        r = pea_container_net_setup(ctx, id, err);
        if (r >= 0)
                r = pea_monitor_spawn(&cfg, &mon, &pid, err);
        if (r < 0) {
                (void)pea_container_net_teardown(ctx, id, NULL);
                return r;
        }
        pea_cmd_event_id(ctx, id, "init");
        pea_cmd_event_id(ctx, id, "start");
        pea_cmd_sd_notify_ready(config, mon, TAKE_FD(notify_fd));
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
        if ((streq(row.state, "running") || streq(row.state, "paused")) && row.pid == rp->pid) {
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
        /* a stopped container's slirp4netns or pasta goes with it */
        if (pea_container_net_is_stale(ctx, row))
                (void)pea_container_net_teardown(ctx, row->id, NULL);
        if (!streq(row->state, "running") && !streq(row->state, "paused"))
                return 0;
        /* the monitor records the exit itself; an orphaned process still runs. Without its
         * runtime dir the container predates a reboot: a live pid is someone else's */
        _cleanup_free_ char *rundir = pea_monitor_dir(ctx->run_root, row->id);
        if (pea_path_exists(rundir)
            && (pea_monitor_is_alive(ctx->run_root, row->id, NULL, NULL) > 0
                || !process_gone(row->pid)))
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
        if (pea_container_net_is_stale(ctx, row))
                (void)pea_container_net_teardown(ctx, row->id, NULL);
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
        bool paused = streq(row.state, "paused");
        bool running = (streq(row.state, "running") || paused) && row.pid > 0;
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
        pea_cmd_event_id(ctx, full, "kill");
        /* a frozen process takes its signal once thawed */
        return paused ? pea_cmd_container_thaw(ctx, full, err) : 0;
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
        bool running = (streq(row.state, "running") || streq(row.state, "paused")) && row.pid > 0;
        int pid = row.pid;
        pea_container_row_done(&row);
        pid_t mon = 0;
        bool monitor = pea_monitor_is_alive(ctx->run_root, id, &mon, NULL) > 0;
        if (!running && !monitor)
                return 0;
        r = pea_monitor_request_stop(ctx->run_root, id, err);
        if (r >= 0 && running)
                r = pea_cmd_container_thaw(ctx, id, err);
        if (r < 0)
                return r;
        if (!running) {
                /* between restarts: the monitor ends on a signal once it sees the mark */
                (void)kill(mon, SIGTERM);
                return wait_monitor_gone(ctx, id);
        }
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
        if (r >= 0)
                r = wait_monitor_gone(ctx, id);
        if (r >= 0) /* "died" came from the monitor */
                pea_cmd_event_id(ctx, id, "stop");
        return r;
}

/* ---- lifecycle settings: run/create flags kept in the row's config ------------------------- */

static int health_flags(const struct pea_run_opts *o, json_t *h, struct pea_error **err)
{
        const struct {
                const char *value, *key;
        } durations[] = {
                {o->health_interval, "Interval"},
                {o->health_timeout, "Timeout"},
                {o->health_start_period, "StartPeriod"},
        };

        for (size_t i = 0; i < ELEMENTSOF(durations); i++) {
                int64_t ns = 0;
                const char *v = durations[i].value;
                if (!v)
                        continue;
                if (i == 0 && streq(v, "disable"))
                        ns = 0;
                else if (pea_monitor_duration_parse(v, &ns, err) < 0)
                        return -EINVAL;
                if (i == 0 && ns > 0 && ns < 1000000000)
                        return pea_error_set(err, EINVAL,
                                             "healthcheck-interval must be at least "
                                             "1 second");
                json_object_set_new(h, durations[i].key, json_integer(ns));
        }
        unsigned n = 0;
        if (o->health_retries && safe_atou32(o->health_retries, &n) < 0)
                return pea_error_set(err, EINVAL,
                                     "invalid argument \"%s\" for \"--health-retries\"",
                                     o->health_retries);
        if (o->health_retries)
                json_object_set_new(h, "Retries", json_integer(n));
        if (!o->health_cmd)
                return 0;
        _cleanup_strv_ char **argv = NULL;
        if (pea_monitor_health_cmd_parse(o->health_cmd, &argv, err) < 0)
                return -EINVAL;
        json_t *test = o->health_cmd[0] == '[' ? json_loads(o->health_cmd, 0, NULL) : NULL;
        if (!json_is_array(test)) {
                json_decref(test);
                test = argv ? json_pack("[s, s]", "CMD-SHELL", o->health_cmd)
                            : json_pack("[s]", "NONE");
        }
        json_object_set_new(h, "Test", test);
        return 0;
}

static int log_flags(const struct pea_run_opts *o, json_t *set, struct pea_error **err)
{
        enum pea_monitor_log_driver d;
        if (o->log_driver) {
                if (pea_monitor_log_driver_parse(o->log_driver, &d, err) < 0)
                        return -EINVAL;
                json_object_set_new(set, "log_driver", json_string(o->log_driver));
        }
        STRV_FOREACH(opt, o->log_opts) {
                const char *v;
                uint64_t size = 0;
                if ((v = startswith(*opt, "max-size="))) {
                        if (pea_spec_parse_size(v, &size, err) < 0)
                                return -EINVAL;
                        json_object_set_new(set, "log_max_size", json_integer((json_int_t)size));
                } else if ((v = startswith(*opt, "path="))) {
                        json_object_set_new(set, "log_path", json_string(v));
                } else if ((v = startswith(*opt, "tag="))) {
                        json_object_set_new(set, "log_tag", json_string(v));
                } else {
                        return pea_error_set(err, EINVAL, "unknown log opt '%s'", *opt);
                }
        }
        return 0;
}

static int restart_flags(const struct pea_run_opts *o, json_t *set, struct pea_error **err)
{
        enum pea_monitor_restart policy;
        unsigned max = 0;
        if (!o->restart)
                return 0;
        if (pea_monitor_restart_parse(o->restart, &policy, &max, err) < 0)
                return -EINVAL;
        if (o->rm && policy != PEA_MONITOR_RESTART_NO)
                return pea_error_set(err, EINVAL,
                                     "the --rm option conflicts with --restart, when the "
                                     "restartPolicy is not \"\" and \"no\"");
        const char *name = strchr(o->restart, ':') ? "on-failure" : o->restart;
        json_object_set_new(set, "restart_policy", json_string(*name ? name : "no"));
        json_object_set_new(set, "restart_retries", json_integer(max));
        return 0;
}

static int stop_flags(const struct pea_run_opts *o, json_t *set, struct pea_error **err)
{
        int sig = 0;
        unsigned t = 0;
        if (o->stop_signal) {
                if (pea_cmd_parse_signal(o->stop_signal, &sig, err) < 0)
                        return -EINVAL;
                json_object_set_new(set, "stop_signal", json_string(o->stop_signal));
        }
        if (o->stop_timeout) {
                if (safe_atou32(o->stop_timeout, &t) < 0)
                        return pea_error_set(err, EINVAL,
                                             "invalid argument \"%s\" for \"--stop-timeout\"",
                                             o->stop_timeout);
                json_object_set_new(set, "stop_timeout", json_integer(t));
        }
        if (o->detach_keys) {
                _cleanup_free_ char *keys = NULL;
                size_t n = 0;
                if (pea_monitor_detach_keys_parse(o->detach_keys, &keys, &n, err) < 0)
                        return -EINVAL;
                json_object_set_new(set, "detach_keys", json_string(o->detach_keys));
        }
        if (o->sig_proxy >= 0)
                json_object_set_new(set, "sig_proxy", json_boolean(o->sig_proxy));
        return 0;
}

int pea_cmd_lifecycle_from_opts(const struct pea_run_opts *o, json_t **ret, struct pea_error **err)
{
        if (o->no_healthcheck && o->health_cmd)
                return pea_error_set(err, EINVAL,
                                     "cannot specify both --no-healthcheck and --health-cmd");
        _cleanup_json_ json_t *set = json_object();
        _cleanup_json_ json_t *h = json_object();
        int r = restart_flags(o, set, err);
        if (r >= 0)
                r = log_flags(o, set, err);
        if (r >= 0)
                r = stop_flags(o, set, err);
        if (r >= 0)
                r = health_flags(o, h, err);
        if (r < 0)
                return r;
        if (o->health_on_failure) {
                enum pea_monitor_health_action a;
                if (pea_monitor_health_action_parse(o->health_on_failure, &a, err) < 0)
                        return -EINVAL;
                json_object_set_new(set, "health_on_failure", json_string(o->health_on_failure));
        }
        if (json_object_size(h) > 0)
                json_object_set(set, "health_flags", h);
        if (o->no_healthcheck)
                json_object_set_new(set, "no_healthcheck", json_true());
        if (o->interactive)
                json_object_set_new(set, "interactive", json_true());
        *ret = json_object_size(set) > 0 ? TAKE_PTR(set) : NULL;
        return 0;
}

static int lifecycle_tx(struct pea_state *s, void *userdata, struct pea_error **err)
{
        json_t *add = userdata;
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(s, json_string_value(json_object_get(add, "id")),
                                              &row, err);
        if (r < 0)
                return r;
        json_t *set = json_object_get(add, "set");
        json_object_update(row.config, set);
        json_t *flags = json_object_get(set, "health_flags");
        if (flags) {
                json_t *img = json_object_get(row.config, "image_healthcheck");
                json_t *h = json_is_object(img) ? json_deep_copy(img) : json_object();
                json_object_update(h, flags);
                /* podman shows the defaults it applies */
                if (!json_object_get(h, "Interval"))
                        json_object_set_new(h, "Interval", json_integer(30 * INT64_C(1000000000)));
                if (!json_object_get(h, "Timeout"))
                        json_object_set_new(h, "Timeout", json_integer(30 * INT64_C(1000000000)));
                if (!json_object_get(h, "Retries"))
                        json_object_set_new(h, "Retries", json_integer(3));
                json_object_set_new(row.config, "healthcheck", h);
        }
        r = pea_state_container_update(s, &row, err);
        pea_container_row_done(&row);
        return r;
}

int pea_cmd_lifecycle_store(const struct pea_container_ctx *ctx, const char *id, json_t *set,
                            struct pea_error **err)
{
        if (!set)
                return 0;
        _cleanup_json_ json_t *add = json_pack("{s:s, s:O}", "id", id, "set", set);
        return pea_state_transaction(ctx->state, lifecycle_tx, add, err);
}

json_t *pea_cmd_container_healthcheck(json_t *config)
{
        if (json_is_true(json_object_get(config, "no_healthcheck")))
                return NULL;
        json_t *h = json_object_get(config, "healthcheck");
        if (!json_is_object(h))
                h = json_object_get(config, "image_healthcheck");
        json_t *test = json_object_get(h, "Test");
        const char *kind = json_string_value(json_array_get(test, 0));
        if (!json_is_object(h) || !kind || streq(kind, "NONE"))
                return NULL;
        return h;
}

static int64_t json_ns(json_t *o, const char *key, int64_t def)
{
        json_t *v = json_object_get(o, key);
        return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

static int health_config(json_t *config, struct pea_monitor_health *h, char ***ret_owned,
                         struct pea_error **err)
{
        json_t *hc = pea_cmd_container_healthcheck(config);
        const char *action = json_string_value(json_object_get(config, "health_on_failure"));
        if (action && pea_monitor_health_action_parse(action, &h->on_failure, err) < 0)
                return -EINVAL;
        if (!hc)
                return 0;
        _cleanup_free_ char *test = pea_json_dumps(json_object_get(hc, "Test"), 0);
        int r = pea_monitor_health_cmd_parse(test, ret_owned, err);
        if (r < 0)
                return r;
        h->test = *ret_owned;
        h->interval_ns = json_ns(hc, "Interval", PEA_MONITOR_HEALTH_INTERVAL_DEFAULT);
        h->timeout_ns = json_ns(hc, "Timeout", PEA_MONITOR_HEALTH_TIMEOUT_DEFAULT);
        h->start_period_ns = json_ns(hc, "StartPeriod", 0);
        h->retries = (unsigned)json_ns(hc, "Retries", PEA_MONITOR_HEALTH_RETRIES_DEFAULT);
        /* docker images say 0 for "the default" */
        if (h->timeout_ns == 0)
                h->timeout_ns = PEA_MONITOR_HEALTH_TIMEOUT_DEFAULT;
        if (h->retries == 0)
                h->retries = PEA_MONITOR_HEALTH_RETRIES_DEFAULT;
        /* 0 is "disable" only when the user said so (--health-interval=disable) */
        json_t *fi = json_object_get(json_object_get(config, "health_flags"), "Interval");
        if (h->interval_ns == 0 && !(json_is_integer(fi) && json_integer_value(fi) == 0))
                h->interval_ns = PEA_MONITOR_HEALTH_INTERVAL_DEFAULT;
        return 0;
}

int pea_cmd_monitor_config_from_row(json_t *config, struct pea_monitor_config *cfg,
                                    char ***ret_owned, struct pea_error **err)
{
        const char *restart = json_string_value(json_object_get(config, "restart_policy"));
        const char *driver = json_string_value(json_object_get(config, "log_driver"));
        const char *path = json_string_value(json_object_get(config, "log_path"));
        int r = 0;
        if (restart && streq(restart, "on-failure")) {
                cfg->restart = PEA_MONITOR_RESTART_ON_FAILURE;
                cfg->restart_max = (unsigned)json_ns(config, "restart_retries", 0);
        } else if (restart) {
                r = pea_monitor_restart_parse(restart, &cfg->restart, &cfg->restart_max, err);
        }
        if (r >= 0 && driver)
                r = pea_monitor_log_driver_parse(driver, &cfg->log_driver, err);
        if (r < 0)
                return r;
        if (path)
                cfg->log_path = path;
        cfg->log_max_size = (uint64_t)json_ns(config, "log_max_size", 0);
        cfg->stdin_open = json_is_true(json_object_get(config, "interactive"));
        return health_config(config, &cfg->health, ret_owned, err);
}

unsigned pea_cmd_container_stop_timeout(json_t *config)
{
        return (unsigned)json_ns(config, "stop_timeout", 10);
}

bool pea_cmd_container_needs_monitor(const struct pea_container_ctx *ctx, const char *id)
{
        struct pea_container_row row = {};
        if (pea_state_container_get_by_id(ctx->state, id, &row, NULL) < 0)
                return false;
        const char *policy = json_string_value(json_object_get(row.config, "restart_policy"));
        bool needs = (policy && !streq(policy, "no")) || pea_cmd_container_healthcheck(row.config);
        pea_container_row_done(&row);
        return needs;
}
