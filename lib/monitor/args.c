/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base.h"
#include "monitor-internal.h"

/* Options, defaults, and the helper's command line. */

void pea_monitor_config_init(struct pea_monitor_config *cfg)
{
        *cfg = (struct pea_monitor_config){
                .log_driver = PEA_MONITOR_LOG_K8S_FILE,
                .restart = PEA_MONITOR_RESTART_NO,
                .health =
                        {
                                .interval_ns = PEA_MONITOR_HEALTH_INTERVAL_DEFAULT,
                                .timeout_ns = PEA_MONITOR_HEALTH_TIMEOUT_DEFAULT,
                                .retries = PEA_MONITOR_HEALTH_RETRIES_DEFAULT,
                                .on_failure = PEA_MONITOR_HEALTH_ACTION_NONE,
                        },
        };
}

static const char *const restart_names[] = {"no", "on-failure", "always", "unless-stopped"};
static const char *const action_names[] = {"none", "kill", "restart", "stop"};
static const char *const driver_names[] = {"k8s-file", "none"};

int pea_monitor_restart_parse(const char *s, enum pea_monitor_restart *ret_policy,
                              unsigned *ret_max, struct pea_error **err)
{
        unsigned max = 0;
        if (!s || !*s)
                s = "no";
        const char *n = startswith(s, "on-failure:");
        if (n) {
                if (safe_atou32(n, &max) < 0)
                        return pea_error_set(err, EINVAL,
                                             "invalid restart policy '%s': bad retry count", s);
                *ret_policy = PEA_MONITOR_RESTART_ON_FAILURE;
                *ret_max = max;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(restart_names); i++)
                if (streq(s, restart_names[i])) {
                        *ret_policy = (enum pea_monitor_restart)i;
                        *ret_max = 0;
                        return 0;
                }
        return pea_error_set(err, EINVAL, "invalid restart policy '%s'", s);
}

int pea_monitor_log_driver_parse(const char *s, enum pea_monitor_log_driver *ret,
                                 struct pea_error **err)
{
        for (size_t i = 0; s && i < ELEMENTSOF(driver_names); i++)
                if (streq(s, driver_names[i])) {
                        *ret = (enum pea_monitor_log_driver)i;
                        return 0;
                }
        return pea_error_set(err, EINVAL, "unsupported log driver '%s'", s ? s : "");
}

int pea_monitor_health_action_parse(const char *s, enum pea_monitor_health_action *ret,
                                    struct pea_error **err)
{
        for (size_t i = 0; s && i < ELEMENTSOF(action_names); i++)
                if (streq(s, action_names[i])) {
                        *ret = (enum pea_monitor_health_action)i;
                        return 0;
                }
        return pea_error_set(err, EINVAL, "invalid healthcheck on-failure action '%s'", s ? s : "");
}

static int health_cmd_from_json(const char *s, json_t *j, char ***ret, struct pea_error **err)
{
        size_t n = json_array_size(j);
        const char *kind = json_string_value(json_array_get(j, 0));
        if (!kind)
                return pea_error_set(err, EINVAL, "invalid healthcheck command '%s'", s);
        if (streq(kind, "NONE")) {
                *ret = NULL;
                return 0;
        }
        size_t first = streq(kind, "CMD") || streq(kind, "CMD-SHELL") ? 1 : 0;
        if (n <= first)
                return pea_error_set(err, EINVAL, "healthcheck command '%s' is empty", s);
        _cleanup_strv_ char **argv = NULL;
        if (streq(kind, "CMD-SHELL")) {
                _cleanup_free_ char *script = NULL;
                for (size_t i = 1; i < n; i++) {
                        const char *part = json_string_value(json_array_get(j, i));
                        char *joined = script ? xasprintf("%s %s", script, part ? part : "")
                                              : xstrdup(part ? part : "");
                        free(script);
                        script = joined;
                }
                strv_push(&argv, "/bin/sh");
                strv_push(&argv, "-c");
                strv_push(&argv, script);
        } else {
                for (size_t i = first; i < n; i++) {
                        const char *a = json_string_value(json_array_get(j, i));
                        if (!a)
                                return pea_error_set(err, EINVAL,
                                                     "invalid healthcheck command '%s'", s);
                        strv_push(&argv, a);
                }
        }
        *ret = TAKE_PTR(argv);
        return 0;
}

int pea_monitor_health_cmd_parse(const char *s, char ***ret, struct pea_error **err)
{
        if (!s || !*s)
                return pea_error_set(err, EINVAL, "healthcheck command is empty");
        if (*s == '[') {
                _cleanup_json_ json_t *j = json_loads(s, 0, NULL);
                if (json_is_array(j))
                        return health_cmd_from_json(s, j, ret, err);
        }
        if (streq(s, "none") || streq(s, "NONE")) {
                *ret = NULL;
                return 0;
        }
        char **argv = NULL;
        strv_push(&argv, "/bin/sh");
        strv_push(&argv, "-c");
        strv_push(&argv, s);
        *ret = argv;
        return 0;
}

char *pea_monitor_dir(const char *run_root, const char *id)
{
        return xasprintf("%s/containers/%s", run_root, id);
}

char *pea_monitor_attach_path(const char *run_root, const char *id)
{
        return xasprintf("%s/containers/%s/attach", run_root, id);
}

/* ---- the helper's command line --------------------------------------------- */

enum {
        OPT_ID = 256,
        OPT_BUNDLE,
        OPT_RUN_ROOT,
        OPT_DB,
        OPT_LOG_DRIVER,
        OPT_LOG_PATH,
        OPT_LOG_MAX,
        OPT_RESTART,
        OPT_HEALTH_CMD,
        OPT_HEALTH_INTERVAL,
        OPT_HEALTH_TIMEOUT,
        OPT_HEALTH_START,
        OPT_HEALTH_RETRIES,
        OPT_HEALTH_ACTION,
        OPT_STDIN,
        OPT_ATTACH_WAIT,
        OPT_NOTIFY,
        OPT_READY_FD,
};

static const struct option long_opts[] = {
        {"id", required_argument, NULL, OPT_ID},
        {"bundle", required_argument, NULL, OPT_BUNDLE},
        {"run-root", required_argument, NULL, OPT_RUN_ROOT},
        {"db", required_argument, NULL, OPT_DB},
        {"log-driver", required_argument, NULL, OPT_LOG_DRIVER},
        {"log-path", required_argument, NULL, OPT_LOG_PATH},
        {"log-max-size", required_argument, NULL, OPT_LOG_MAX},
        {"restart", required_argument, NULL, OPT_RESTART},
        {"health-cmd", required_argument, NULL, OPT_HEALTH_CMD},
        {"health-interval", required_argument, NULL, OPT_HEALTH_INTERVAL},
        {"health-timeout", required_argument, NULL, OPT_HEALTH_TIMEOUT},
        {"health-start-period", required_argument, NULL, OPT_HEALTH_START},
        {"health-retries", required_argument, NULL, OPT_HEALTH_RETRIES},
        {"health-on-failure", required_argument, NULL, OPT_HEALTH_ACTION},
        {"stdin", no_argument, NULL, OPT_STDIN},
        {"attach-wait", no_argument, NULL, OPT_ATTACH_WAIT},
        {"notify-socket", required_argument, NULL, OPT_NOTIFY},
        {"ready-fd", required_argument, NULL, OPT_READY_FD},
        {NULL, 0, NULL, 0},
};

static void push_opt(char ***argv, const char *name, const char *value)
{
        if (value)
                strv_consume(argv, xasprintf("--%s=%s", name, value));
}

static void push_int(char ***argv, const char *name, int64_t v)
{
        strv_consume(argv, xasprintf("--%s=%" PRId64, name, v));
}

static void push_health(char ***argv, const struct pea_monitor_health *h)
{
        if (!h->test)
                return;
        _cleanup_json_ json_t *a = json_array();
        json_array_append_new(a, json_string("CMD"));
        STRV_FOREACH(t, h->test)
                json_array_append_new(a, json_string(*t));
        _cleanup_free_ char *text = pea_json_dumps(a, 0);
        push_opt(argv, "health-cmd", text);
        push_int(argv, "health-interval", h->interval_ns);
        push_int(argv, "health-timeout", h->timeout_ns);
        push_int(argv, "health-start-period", h->start_period_ns);
        push_int(argv, "health-retries", h->retries);
        push_opt(argv, "health-on-failure", action_names[h->on_failure]);
}

char **pea_monitor_config_to_argv(const struct pea_monitor_config *cfg, const char *helper,
                                  int ready_fd)
{
        char **argv = NULL;
        strv_push(&argv, helper);
        push_opt(&argv, "id", cfg->id);
        push_opt(&argv, "bundle", cfg->bundle_dir);
        push_opt(&argv, "run-root", cfg->run_root);
        push_opt(&argv, "db", cfg->db_path);
        push_opt(&argv, "log-driver", driver_names[cfg->log_driver]);
        push_opt(&argv, "log-path", cfg->log_path);
        push_int(&argv, "log-max-size", (int64_t)cfg->log_max_size);
        if (cfg->restart == PEA_MONITOR_RESTART_ON_FAILURE)
                strv_consume(&argv, xasprintf("--restart=on-failure:%u", cfg->restart_max));
        else
                push_opt(&argv, "restart", restart_names[cfg->restart]);
        push_health(&argv, &cfg->health);
        if (cfg->stdin_open)
                strv_push(&argv, "--stdin");
        if (cfg->attach_wait)
                strv_push(&argv, "--attach-wait");
        push_opt(&argv, "notify-socket", cfg->notify_socket);
        if (ready_fd >= 0)
                push_int(&argv, "ready-fd", ready_fd);
        return argv;
}

static int parse_i64(const char *name, const char *v, int64_t *ret, struct pea_error **err)
{
        long long n = 0;
        if (safe_atoll(v, &n) < 0 || n < 0)
                return pea_error_set(err, EINVAL, "invalid value '%s' for '--%s'", v, name);
        *ret = n;
        return 0;
}

/* The numeric options; -ENOENT when c is not one. */
static int parse_number(int c, struct pea_monitor_config *cfg, int *ready_fd,
                        struct pea_error **err)
{
        int64_t n = 0;
        int r = parse_i64("option", optarg, &n, err);
        if (r < 0)
                return r;
        switch (c) {
        case OPT_LOG_MAX:
                cfg->log_max_size = (uint64_t)n;
                break;
        case OPT_HEALTH_INTERVAL:
                cfg->health.interval_ns = n;
                break;
        case OPT_HEALTH_TIMEOUT:
                cfg->health.timeout_ns = n;
                break;
        case OPT_HEALTH_START:
                cfg->health.start_period_ns = n;
                break;
        case OPT_HEALTH_RETRIES:
                cfg->health.retries = (unsigned)n;
                break;
        case OPT_READY_FD:
                *ready_fd = (int)n;
                break;
        default:
                return pea_error_set(err, EINVAL, "unknown monitor option");
        }
        return 0;
}

static int parse_one(int c, struct pea_monitor_config *cfg, int *ready_fd, char ***owned,
                     struct pea_error **err)
{
        const char **str = c == OPT_ID         ? &cfg->id
                           : c == OPT_BUNDLE   ? &cfg->bundle_dir
                           : c == OPT_RUN_ROOT ? &cfg->run_root
                           : c == OPT_DB       ? &cfg->db_path
                           : c == OPT_LOG_PATH ? &cfg->log_path
                           : c == OPT_NOTIFY   ? &cfg->notify_socket
                                               : NULL;
        if (str) {
                *str = optarg;
                return 0;
        }
        switch (c) {
        case OPT_STDIN:
                cfg->stdin_open = true;
                return 0;
        case OPT_ATTACH_WAIT:
                cfg->attach_wait = true;
                return 0;
        case OPT_LOG_DRIVER:
                return pea_monitor_log_driver_parse(optarg, &cfg->log_driver, err);
        case OPT_RESTART:
                return pea_monitor_restart_parse(optarg, &cfg->restart, &cfg->restart_max, err);
        case OPT_HEALTH_ACTION:
                return pea_monitor_health_action_parse(optarg, &cfg->health.on_failure, err);
        case OPT_HEALTH_CMD:
                *owned = strv_free(*owned);
                return pea_monitor_health_cmd_parse(optarg, owned, err);
        default:
                return parse_number(c, cfg, ready_fd, err);
        }
}

int pea_monitor_config_from_argv(int argc, char **argv, struct pea_monitor_config *cfg,
                                 int *ret_ready_fd, char ***ret_owned, struct pea_error **err)
{
        _cleanup_strv_ char **owned = NULL;
        int ready_fd = -1, c = 0;
        pea_monitor_config_init(cfg);
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+", long_opts, NULL)) != -1) {
                if (c == '?')
                        return pea_error_set(err, EINVAL, "unknown monitor option '%s'",
                                             argv[optind - 1]);
                int r = parse_one(c, cfg, &ready_fd, &owned, err);
                if (r < 0)
                        return r;
        }
        if (!cfg->id || !cfg->bundle_dir || !cfg->run_root)
                return pea_error_set(err, EINVAL, "'--id', '--bundle' and '--run-root' are needed");
        cfg->health.test = owned;
        *ret_ready_fd = ready_fd;
        *ret_owned = TAKE_PTR(owned);
        return 0;
}

/* ---- Go durations (--health-interval=1m30s) -------------------------------- */

static int64_t unit_ns(const char *u, size_t len)
{
        static const struct {
                const char *name;
                int64_t ns;
        } units[] = {
                {"ns", 1},
                {"us", 1000},
                {"\xc2\xb5s", 1000},
                {"ms", 1000000},
                {"s", INT64_C(1000000000)},
                {"m", INT64_C(60000000000)},
                {"h", INT64_C(3600000000000)},
        };

        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strlen(units[i].name) == len && strncmp(u, units[i].name, len) == 0)
                        return units[i].ns;
        return -1;
}

/* One "<number><unit>" term at *p; adds it to *total. */
static int duration_term(const char **p, int64_t *total)
{
        char *end = NULL;
        errno = 0;
        double v = strtod(*p, &end);
        if (end == *p || errno != 0 || v < 0 || **p == '-' || **p == '+')
                return -EINVAL;
        size_t len = strspn(end, "nsuµmh\xc2\xb5");
        int64_t u = unit_ns(end, len);
        if (u < 0 || v * (double)u > (double)INT64_MAX - (double)*total)
                return -EINVAL;
        *total += (int64_t)(v * (double)u);
        *p = end + len;
        return 0;
}

int pea_monitor_duration_parse(const char *s, int64_t *ret_ns, struct pea_error **err)
{
        int64_t total = 0;
        const char *p = s;
        if (!s || !*s)
                return pea_error_set(err, EINVAL, "invalid duration '%s'", s ? s : "");
        if (streq(s, "0")) {
                *ret_ns = 0;
                return 0;
        }
        while (*p)
                if (duration_term(&p, &total) < 0)
                        return pea_error_set(err, EINVAL, "time: invalid duration \"%s\"", s);
        *ret_ns = total;
        return 0;
}
