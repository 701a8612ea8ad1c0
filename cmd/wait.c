/* SPDX-License-Identifier: Apache-2.0 */
/* pea wait: block until containers reach a condition, print their exit codes. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "events/events.h"
#include "run.h"
#include "state/state.h"
#include "units.h"

/* podman's container states accepted by --condition. */
static const char *const conditions[] = {
        "configured", "created", "exited",  "healthy",  "initialized", "paused",
        "removing",   "running", "stopped", "stopping", "unhealthy",
};

struct wait_opts {
        char **conditions;
        int64_t interval_ns;
        bool latest;
};

/* Whether the state satisfies cond; *ret_code gets what to print. */
static bool condition_met(const struct pea_container_row *row, const char *health, const char *cond,
                          int *ret_code)
{
        const char *st = row->state;
        bool stopped = !streq(st, "running") && !streq(st, "paused");
        *ret_code = -1;
        if (streq(cond, "stopped") || streq(cond, "exited") || streq(cond, "stopping")) {
                *ret_code = streq(st, "created") ? 0 : row->exit_code;
                return stopped;
        }
        if (streq(cond, "created") || streq(cond, "configured"))
                return streq(st, "created");
        if (streq(cond, "running") || streq(cond, "initialized"))
                return streq(st, "running");
        if (streq(cond, "paused"))
                return streq(st, "paused");
        if (streq(cond, "healthy") || streq(cond, "unhealthy"))
                return streq_ptr(health, cond);
        return false; /* removing: only when the row is gone */
}

static char *health_of(struct pea_state *s, const char *id)
{
        _cleanup_json_ json_t *h = NULL;
        if (pea_state_container_get_health(s, id, &h, NULL) < 0 || !h)
                return NULL;
        const char *st = json_string_value(json_object_get(h, "Status"));
        return st ? xstrdup(st) : NULL;
}

static int wait_one(const struct pea_container_ctx *ctx, const struct wait_opts *o,
                    const char *name, int *ret_code, struct pea_error **err)
{
        _cleanup_free_ char *id = NULL;
        for (;;) {
                struct pea_container_row row = {};
                int r = pea_cmd_container_get(ctx, id ? id : name, &row, err);
                if (r == -ENOENT && id && strv_contains(o->conditions, "removing")) {
                        pea_error_clear(err);
                        *ret_code = -1;
                        return 0;
                }
                if (r < 0)
                        return r;
                if (!id)
                        id = xstrdup(row.id);
                _cleanup_free_ char *health = health_of(ctx->state, row.id);
                bool met = false;
                STRV_FOREACH(c, o->conditions)
                        if (!met)
                                met = condition_met(&row, health, *c, ret_code);
                pea_container_row_done(&row);
                if (met)
                        return 0;
                struct timespec ts = {.tv_sec = o->interval_ns / 1000000000,
                                      .tv_nsec = o->interval_ns % 1000000000};
                (void)nanosleep(&ts, NULL);
        }
}

static int parse_interval(const char *s, int64_t *ret, struct pea_error **err)
{
        long long ms = 0;
        /* a bare number is milliseconds, as podman takes it */
        if (safe_atoll(s, &ms) >= 0 && ms >= 0) {
                *ret = ms * 1000000;
                return 0;
        }
        return pea_duration_parse(s, ret, err);
}

static int check_condition(const char *c, struct pea_error **err)
{
        for (size_t i = 0; i < ELEMENTSOF(conditions); i++)
                if (streq(conditions[i], c))
                        return 0;
        return pea_error_set(err, EINVAL, "unknown container state: %s: invalid argument", c);
}

static int parse(struct pea_cli *cli, int argc, char **argv, struct wait_opts *o,
                 struct pea_error **err)
{
        static const struct option longopts[] = {
                {"condition", required_argument, NULL, 'c'},
                {"interval", required_argument, NULL, 'i'},
                {"latest", no_argument, NULL, 'l'},
                PEA_HELP_OPTION,
                {},
        };
        int c, r = 0;
        while (r >= 0 && (c = getopt_long(argc, argv, ":i:lh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_wait);
                        return 1;
                } else if (c == 'c') {
                        _cleanup_strv_ char **l = strv_split(optarg, ",");
                        STRV_FOREACH(x, l)
                                if (r >= 0 && (r = check_condition(*x, err)) >= 0)
                                        strv_push(&o->conditions, *x);
                } else if (c == 'i') {
                        r = parse_interval(optarg, &o->interval_ns, err);
                } else if (c == 'l') {
                        o->latest = true;
                } else {
                        return pea_cli_opt_error(c, argc, argv, err);
                }
        }
        if (r < 0)
                return r;
        if (!o->conditions[0])
                strv_push(&o->conditions, "stopped");
        if (o->latest)
                return pea_cli_check_args(cli, argc - optind, 0, 0, err);
        return pea_cli_check_args(cli, argc - optind, 1, -1, err);
}

static int cmd_wait(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct wait_opts o = {.conditions = xcalloc(1, sizeof(char *)),
                              .interval_ns = 250 * 1000000};
        int r = parse(cli, argc, argv, &o, err);
        if (r != 0) {
                strv_free(o.conditions);
                return r < 0 ? r : 0;
        }
        struct pea_container_ctx ctx = {};
        pea_cmd_container_ctx_light(cli, &ctx);
        _cleanup_strv_ char **names = NULL;
        r = pea_cmd_container_targets(&ctx, o.latest, argc - optind, argv + optind, &names, err);
        int failed = 0;
        STRV_FOREACH(n, names) {
                int code = 0;
                _cleanup_error_ struct pea_error *e1 = NULL;
                if (wait_one(&ctx, &o, *n, &code, &e1) < 0) {
                        fprintf(stderr, "Error: %s\n", e1->msg);
                        failed++;
                        continue;
                }
                printf("%d\n", code);
                fflush(stdout);
        }
        strv_free(o.conditions);
        if (r < 0)
                return r;
        return failed ? 125 : 0;
}

const struct pea_cmd pea_cmd_wait = {
        .name = "wait",
        .fn = cmd_wait,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Block on one or more containers",
        .usage = "[options] CONTAINER [CONTAINER...]",
        .options = "      --condition strings   Condition to wait on\n"
                   "  -i, --interval string     Time Interval to wait before polling for "
                   "completion (default \"250ms\")\n"
                   "  -l, --latest              Act on the latest container pea is aware of\n",
};
