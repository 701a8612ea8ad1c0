/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "base.h"
#include "monitor-internal.h"

/*
 * Healthchecks, run by the monitor itself (no systemd timer): the check is
 * exec'd in the container's namespaces; its result goes into podman's
 * State.Health: Status starting|healthy|unhealthy, FailingStreak, and Log
 * (the last five results: Start, End, ExitCode, Output).
 */

void monitor_health_init(struct monitor_health *h, const struct pea_monitor_health *cfg)
{
        *h = (struct monitor_health){.cfg = cfg, .out_fd = -1};
        h->state = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
        h->started_at = monitor_now_ns();
}

void monitor_health_done(struct monitor_health *h)
{
        if (h->pid > 0) {
                (void)kill(h->pid, SIGKILL);
                h->pid = 0;
        }
        if (h->out_fd >= 0)
                (void)close(h->out_fd);
        h->out_fd = -1;
        h->output = mfree(h->output);
        json_decref(h->state);
        h->state = NULL;
}

int monitor_health_start(struct monitor_health *h, pid_t container_pid, char *const *env,
                         const char *cwd)
{
        _cleanup_error_ struct pea_error *err = NULL;
        if (h->pid > 0 || !h->cfg->test)
                return -EBUSY;
        int r = pea_monitor_exec_in_start(container_pid, h->cfg->test, env, cwd, &h->pid,
                                          &h->out_fd, &err);
        if (r < 0) {
                syslog(LOG_WARNING, "starting the healthcheck: %s", err->msg);
                return r;
        }
        h->output = mfree(h->output);
        h->output_len = 0;
        h->check_start = monitor_now_ns();
        return 0;
}

int monitor_health_read(struct monitor_health *h)
{
        char buf[1024];
        ssize_t n = read(h->out_fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 1;
        if (n <= 0) {
                (void)close(h->out_fd);
                h->out_fd = -1;
                return 0;
        }
        size_t take = (size_t)n;
        if (h->output_len + take > HEALTH_OUTPUT_MAX)
                take = HEALTH_OUTPUT_MAX - h->output_len;
        h->output = xrealloc(h->output, h->output_len + take + 1);
        memcpy(h->output + h->output_len, buf, take);
        h->output_len += take;
        h->output[h->output_len] = '\0';
        return 1;
}

static void add_log(struct monitor_health *h, int exit_code)
{
        _cleanup_free_ char *start = monitor_rfc3339_nano(h->check_start);
        _cleanup_free_ char *end = monitor_rfc3339_nano(monitor_now_ns());
        const char *out = exit_code == -ETIMEDOUT ? "healthcheck command timed out"
                                                  : (h->output ? h->output : "");
        json_t *log = json_object_get(h->state, "Log");
        json_array_append_new(log, json_pack("{s:s, s:s, s:i, s:s}", "Start", start, "End", end,
                                             "ExitCode", exit_code == -ETIMEDOUT ? 1 : exit_code,
                                             "Output", out));
        while (json_array_size(log) > HEALTH_LOG_MAX)
                json_array_remove(log, 0);
}

bool monitor_health_finish(struct monitor_health *h, int exit_code)
{
        h->pid = 0;
        if (h->out_fd >= 0) {
                (void)close(h->out_fd);
                h->out_fd = -1;
        }
        add_log(h, exit_code);
        h->output = mfree(h->output);
        h->output_len = 0;
        const char *status = json_string_value(json_object_get(h->state, "Status"));
        if (exit_code == 0) {
                json_object_set_new(h->state, "Status", json_string("healthy"));
                json_object_set_new(h->state, "FailingStreak", json_integer(0));
                return false;
        }
        bool starting = streq_ptr(status, "starting");
        if (starting && monitor_now_ns() - h->started_at < h->cfg->start_period_ns)
                return false;
        json_int_t streak = json_integer_value(json_object_get(h->state, "FailingStreak")) + 1;
        json_object_set_new(h->state, "FailingStreak", json_integer(streak));
        if (streak < (json_int_t)(h->cfg->retries ? h->cfg->retries : 1)
            || streq_ptr(status, "unhealthy"))
                return false;
        json_object_set_new(h->state, "Status", json_string("unhealthy"));
        return true;
}

char *monitor_health_json(const struct monitor_health *h)
{
        return pea_json_dumps(h->state, 0);
}

int pea_monitor_health_run(pid_t pid, const struct pea_monitor_health *cfg, char *const *env,
                           const char *cwd, const char *state_json, int64_t started_at,
                           char **ret_state_json, bool *ret_unhealthy, struct pea_error **err)
{
        struct monitor_health h;
        int code = 0;
        char *out = NULL;
        monitor_health_init(&h, cfg);
        json_t *old = state_json ? json_loads(state_json, 0, NULL) : NULL;
        if (json_is_object(old) && json_is_array(json_object_get(old, "Log"))) {
                json_decref(h.state);
                h.state = old;
        } else {
                json_decref(old);
        }
        h.started_at = started_at;
        h.check_start = monitor_now_ns();
        int r = pea_monitor_exec_in(pid, cfg->test, env, cwd, cfg->timeout_ns, &code, &out, err);
        if (r == -ETIMEDOUT) {
                pea_error_clear(err);
                code = -ETIMEDOUT;
        } else if (r < 0) {
                monitor_health_done(&h);
                return r;
        }
        h.output = out;
        h.output_len = out ? strlen(out) : 0;
        bool unhealthy = monitor_health_finish(&h, code);
        *ret_state_json = monitor_health_json(&h);
        *ret_unhealthy = unhealthy;
        monitor_health_done(&h);
        return 0;
}
