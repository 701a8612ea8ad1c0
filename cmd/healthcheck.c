/* SPDX-License-Identifier: Apache-2.0 */
/* pea healthcheck run: one check now, recorded as the monitor records its own. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "jsonutil.h"
#include "monitor/monitor.h"
#include "run.h"
#include "state/state.h"

static char **env_of(json_t *config)
{
        char **l = xcalloc(1, sizeof(char *));
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(config, "env"), i, v)
                if (json_string_value(v))
                        strv_push(&l, json_string_value(v));
        return l;
}

/* The on-failure action, taken by the caller as the monitor would. */
static void act(const struct pea_run_env *e, const struct pea_container_row *row,
                enum pea_monitor_health_action a)
{
        if (a == PEA_MONITOR_HEALTH_ACTION_NONE)
                return;
        if (a == PEA_MONITOR_HEALTH_ACTION_STOP)
                (void)pea_monitor_request_stop(e->ctx.run_root, row->id, NULL);
        (void)kill(row->pid, SIGKILL);
}

static int check(struct pea_run_env *e, const struct pea_container_row *row, char **ret_status,
                 struct pea_error **err)
{
        struct pea_monitor_config cfg;
        pea_monitor_config_init(&cfg);
        _cleanup_strv_ char **test = NULL;
        int r = pea_cmd_monitor_config_from_row(row->config, &cfg, &test, err);
        if (r < 0)
                return r;
        if (!streq(row->state, "running") || row->pid <= 0)
                return pea_error_set(err, EINVAL, "container %s is not running", row->id);
        if (!cfg.health.test)
                return pea_error_set(err, EINVAL, "container %s has no defined healthcheck",
                                     row->id);
        _cleanup_strv_ char **env = env_of(row->config);
        const char *cwd = json_string_value(json_object_get(row->config, "cwd"));
        _cleanup_free_ char *old = NULL;
        json_t *h = json_object_get(row->config, "Health");
        if (h)
                old = pea_json_dumps(h, 0);
        _cleanup_free_ char *state = NULL;
        bool unhealthy = false;
        r = pea_monitor_health_run(row->pid, &cfg.health, env, cwd, old, row->started_at, &state,
                                   &unhealthy, err);
        if (r < 0)
                return r;
        r = pea_state_container_set_health(e->ctx.state, row->id, state, err);
        if (r < 0)
                return r;
        if (unhealthy)
                act(e, row, cfg.health.on_failure);
        _cleanup_json_ json_t *j = json_loads(state, 0, NULL);
        *ret_status = xstrdup(pea_json_path_string(j, "Status", "unhealthy"));
        return 0;
}

static int cmd_healthcheck_run(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {PEA_HELP_OPTION, {}};
        int c;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
                if (c != 'h')
                        return pea_cli_opt_error(c, argc, argv, err);
                pea_cli_print_help(cli, &pea_cmd_healthcheck_run);
                return 0;
        }
        int r = pea_cli_check_args(cli, argc - optind, 1, 1, err);
        if (r < 0)
                return r;
        struct pea_run_env e = {};
        struct pea_container_row row = {};
        _cleanup_free_ char *status = NULL;
        r = pea_run_env_open(cli, &e, err);
        if (r >= 0)
                r = pea_cmd_container_get(&e.ctx, argv[optind], &row, err);
        if (r >= 0)
                r = check(&e, &row, &status, err);
        pea_container_row_done(&row);
        pea_run_env_done(&e);
        if (r < 0)
                return r;
        /* podman prints only a failing status, and exits 1 with it */
        if (streq(status, "healthy"))
                return 0;
        printf("%s\n", status);
        return 1;
}

const struct pea_cmd pea_cmd_healthcheck_run = {
        .name = "run",
        .fn = cmd_healthcheck_run,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Run the health check of a container",
        .usage = "CONTAINER",
};

static const struct pea_cmd *const healthcheck_cmds[] = {&pea_cmd_healthcheck_run, NULL};

const struct pea_cmd pea_cmd_healthcheck = {
        .name = "healthcheck",
        .summary = "Manage health checks on containers",
        .usage = "COMMAND",
        .sub = healthcheck_cmds,
};
