/* SPDX-License-Identifier: Apache-2.0 */
/* pea pod ps (ls, list), top, logs, pause and unpause. */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "jsonutil.h"
#include "pod.h"
#include "pods/pods.h"
#include "run.h"
#include "state/state.h"
#include "template.h"
#include "units.h"

#define POD_FLAGS (PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS)

struct ps_opts {
        bool ctr_names, ctr_ids, ctr_status, no_trunc, quiet, no_heading, latest;
        const char *format;
        char **filters;
};

/* One pod as ps shows it: its inspect object plus the template's fields. */
static json_t *ps_row(json_t *j, const struct ps_opts *o, int64_t now)
{
        const char *id = json_string_value(json_object_get(j, "Id"));
        const char *infra = json_string_value(json_object_get(j, "InfraContainerID"));
        int64_t created = 0;
        (void)pea_time_parse_rfc3339(json_string_value(json_object_get(j, "Created")), &created);
        _cleanup_free_ char *since = pea_human_since(created, now);
        _cleanup_strv_ char **names = xcalloc(1, sizeof(char *)),
                            **ids = xcalloc(1, sizeof(char *)),
                            **states = xcalloc(1, sizeof(char *));
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(j, "Containers"), i, c) {
                strv_push(&names, json_string_value(json_object_get(c, "Name")));
                const char *cid = json_string_value(json_object_get(c, "Id"));
                strv_consume(&ids, o->no_trunc ? xstrdup(cid) : xstrndup(cid, 12));
                strv_push(&states, json_string_value(json_object_get(c, "State")));
        }
        _cleanup_free_ char *jn = strv_join(names, ","), *ji = strv_join(ids, ","),
                            *js = strv_join(states, ",");
        json_t *row = json_deep_copy(j);
        int w = o->no_trunc ? 64 : 12;
        json_object_set_new(row, "Id", json_stringn(id, strnlen(id, (size_t)w)));
        json_object_set_new(row, "InfraId", json_stringn(infra, strnlen(infra, (size_t)w)));
        json_object_set_new(row, "Created", json_string(since));
        json_object_set_new(row, "Status", json_object_get(j, "State"));
        json_incref(json_object_get(j, "State"));
        json_object_set_new(row, "NumberOfContainers", json_integer((json_int_t)i));
        json_object_set_new(row, "ContainerNames", json_string(jn));
        json_object_set_new(row, "ContainerIds", json_string(ji));
        json_object_set_new(row, "ContainerStatuses", json_string(js));
        return row;
}

static const char *network_of(json_t *j)
{
        const char *n =
                json_string_value(json_array_get(pea_json_path(j, "InfraConfig.Networks"), 0));
        return n ? n : "";
}

/* podman pod ps --format json: one ListPodsReport. */
static json_t *json_row(json_t *j)
{
        json_t *ctrs = json_array();
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(j, "Containers"), i, c)
                json_array_append_new(
                        ctrs, json_pack("{s:O, s:O, s:O, s:i}", "Id", json_object_get(c, "Id"),
                                        "Names", json_object_get(c, "Name"), "Status",
                                        json_object_get(c, "State"), "RestartCount", 0));
        return json_pack("{s:s, s:o, s:O, s:O, s:O, s:O, s:O, s:s, s:[s], s:O}", "Cgroup", "",
                         "Containers", ctrs, "Created", json_object_get(j, "Created"), "Id",
                         json_object_get(j, "Id"), "InfraId",
                         json_object_get(j, "InfraContainerID"), "Name", json_object_get(j, "Name"),
                         "Labels", json_object_get(j, "Labels"), "Namespace", "", "Networks",
                         network_of(j), "Status", json_object_get(j, "State"));
}

static bool any_container(json_t *j, const char *key, const char *v)
{
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(j, "Containers"), i, c) {
                const char *s = json_string_value(json_object_get(c, key));
                if (s && (streq(s, v) || (streq(key, "Id") && startswith(s, v))))
                        return true;
        }
        return false;
}

/* --filter: name, id, status, label, ctr-names, ctr-ids, ctr-status, ctr-number. */
static int filter_one(json_t *j, const char *f, struct pea_error **err)
{
        const char *v, *name = json_string_value(json_object_get(j, "Name"));
        if ((v = startswith(f, "name=")))
                return strstr(name, v) != NULL || fnmatch(v, name, 0) == 0;
        if ((v = startswith(f, "id=")))
                return startswith(json_string_value(json_object_get(j, "Id")), v) != NULL;
        if ((v = startswith(f, "status=")))
                return strcasecmp(json_string_value(json_object_get(j, "State")), v) == 0;
        if ((v = startswith(f, "ctr-names=")))
                return any_container(j, "Name", v);
        if ((v = startswith(f, "ctr-ids=")))
                return any_container(j, "Id", v);
        if ((v = startswith(f, "ctr-status=")))
                return any_container(j, "State", v);
        if ((v = startswith(f, "ctr-number="))) {
                long long n = 0;
                return safe_atoll(v, &n) >= 0
                       && (size_t)n == json_array_size(json_object_get(j, "Containers"));
        }
        if ((v = startswith(f, "label="))) {
                _cleanup_free_ char *k = xstrdup(v);
                char *eq = strchr(k, '=');
                if (eq)
                        *eq++ = '\0';
                json_t *lv = json_object_get(json_object_get(j, "Labels"), k);
                return lv && (!eq || streq(json_string_value(lv), eq));
        }
        return pea_error_set(err, EINVAL, "%s is an invalid filter", f);
}

/* Filters of one key are ORed, different keys ANDed, as podman does. */
static int matches(json_t *j, char **filters, struct pea_error **err)
{
        STRV_FOREACH(f, filters) {
                size_t klen = strcspn(*f, "=");
                bool any = false;
                STRV_FOREACH(g, filters) {
                        if (strncmp(*f, *g, klen + 1) != 0)
                                continue;
                        int r = filter_one(j, *g, err);
                        if (r < 0)
                                return r;
                        any = any || r > 0;
                }
                if (!any)
                        return 0;
        }
        return 1;
}

/* The inspect objects of the pods to list, newest first. */
static int select_pods(struct pea_cli *cli, const struct ps_opts *o, json_t **ret,
                       struct pea_error **err)
{
        struct pea_container_ctx ctx;
        pea_cmd_container_ctx_light(cli, &ctx);
        struct pea_pod_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_pod_list(cli->state, &rows, &n, err);
        _cleanup_json_ json_t *a = json_array();
        for (size_t i = n; r >= 0 && i-- > 0;) {
                json_t *j = NULL;
                r = pea_cmd_pod_inspect_json(&ctx, rows[i].id, &j, err);
                int m = r < 0 ? r : matches(j, o->filters, err);
                if (m > 0 && (!o->latest || json_array_size(a) == 0))
                        json_array_append(a, j);
                json_decref(j);
                r = m < 0 ? m : r;
        }
        pea_pod_rows_free(rows, n);
        if (r >= 0)
                *ret = TAKE_PTR(a);
        return r;
}

static const char *default_format(const struct ps_opts *o)
{
        if (o->ctr_names && o->ctr_status)
                return "table {{.Id}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraId}}\t"
                       "{{.ContainerNames}}\t{{.ContainerStatuses}}";
        if (o->ctr_names)
                return "table {{.Id}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraId}}\t"
                       "{{.ContainerNames}}";
        if (o->ctr_status)
                return "table {{.Id}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraId}}\t"
                       "{{.ContainerStatuses}}";
        if (o->ctr_ids)
                return "table {{.Id}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraId}}\t"
                       "{{.ContainerIds}}";
        return "table {{.Id}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraId}}\t"
               "{{.NumberOfContainers}}";
}

static int print_pods(json_t *pods, const struct ps_opts *o, struct pea_error **err)
{
        size_t i;
        json_t *j;
        if (o->quiet) {
                json_array_foreach(pods, i, j)
                        printf("%.*s\n", o->no_trunc ? 64 : 12,
                               json_string_value(json_object_get(j, "Id")));
                return 0;
        }
        bool json = o->format && (streq(o->format, "json") || streq(o->format, "{{json .}}"));
        int64_t now = pea_now_ns();
        _cleanup_json_ json_t *data = json_array();
        json_array_foreach(pods, i, j)
                json_array_append_new(data, json ? json_row(j) : ps_row(j, o, now));
        if (json)
                return pea_json_print(stdout, data, 4) < 0
                               ? pea_error_syscall(err, EIO, "writing output")
                               : 0;
        _cleanup_json_ json_t *headers =
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Id", "POD ID", "InfraId", "INFRA ID",
                          "NumberOfContainers", "# OF CONTAINERS", "ContainerNames", "NAMES",
                          "ContainerIds", "IDS", "ContainerStatuses", "STATUS");
        return pea_format_print_full(stdout, o->format ? o->format : default_format(o), data, true,
                                     headers, o->no_heading, 4, err);
}

enum {
        OPT_CTR_NAMES = 0x100,
        OPT_CTR_IDS,
        OPT_CTR_STATUS,
        OPT_FORMAT,
        OPT_NO_TRUNC,
        OPT_NOHEAD,
        OPT_SORT
};

static int ps_flag(struct ps_opts *o, int c)
{
        switch (c) {
        case OPT_CTR_NAMES:
                o->ctr_names = true;
                return 0;
        case OPT_CTR_IDS:
                o->ctr_ids = true;
                return 0;
        case OPT_CTR_STATUS:
                o->ctr_status = true;
                return 0;
        case OPT_FORMAT:
                o->format = optarg;
                return 0;
        case OPT_NO_TRUNC:
                o->no_trunc = true;
                return 0;
        case OPT_NOHEAD:
                o->no_heading = true;
                return 0;
        case 'q':
                o->quiet = true;
                return 0;
        case 'l':
                o->latest = true;
                return 0;
        case 'f':
                strv_push(&o->filters, optarg);
                return 0;
        case OPT_SORT:
                return 0;
        default:
                return -1;
        }
}

static int parse_ps(struct pea_cli *cli, int argc, char **argv, struct ps_opts *o,
                    struct pea_error **err)
{
        static const struct option longopts[] = {
                {"ctr-names", no_argument, NULL, OPT_CTR_NAMES},
                {"ctr-ids", no_argument, NULL, OPT_CTR_IDS},
                {"ctr-status", no_argument, NULL, OPT_CTR_STATUS},
                {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, OPT_FORMAT},
                {"latest", no_argument, NULL, 'l'},
                {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
                {"noheading", no_argument, NULL, OPT_NOHEAD},
                {"quiet", no_argument, NULL, 'q'},
                {"sort", required_argument, NULL, OPT_SORT},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":hf:lq", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_pod_ps);
                        return 1;
                }
                if (ps_flag(o, c) < 0)
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        return pea_cli_check_args(cli, argc - optind, 0, 0, err);
}

static int cmd_ps(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct ps_opts o = {.filters = xcalloc(1, sizeof(char *))};
        _cleanup_json_ json_t *pods = NULL;
        int r = parse_ps(cli, argc, argv, &o, err);
        if (r == 0)
                r = select_pods(cli, &o, &pods, err);
        if (r == 0)
                r = print_pods(pods, &o, err);
        strv_free(o.filters);
        return r < 0 ? r : 0;
}

/* ---- top, logs, pause, unpause: the container commands on the pod's containers -------------- */

/* Runs cmd (a container command) with argv as if typed. */
static int delegate(struct pea_cli *cli, const struct pea_cmd *cmd, char **argv,
                    struct pea_error **err)
{
        optind = 0;
        opterr = 0;
        return cmd->fn(cli, (int)strv_length(argv), argv, err);
}

/* The IDs of the pod's containers: all, or those (not) in state (state "!x": not x). */
static int pod_containers(struct pea_cli *cli, const char *pod, bool with_infra, const char *state,
                          char ***ids, struct pea_error **err)
{
        struct pea_container_ctx ctx;
        pea_cmd_container_ctx_light(cli, &ctx);
        _cleanup_json_ json_t *j = NULL;
        int r = pea_cmd_pod_inspect_json(&ctx, pod, &j, err);
        if (r < 0)
                return r;
        const char *infra = json_string_value(json_object_get(j, "InfraContainerID"));
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(j, "Containers"), i, c) {
                const char *id = json_string_value(json_object_get(c, "Id"));
                const char *st = json_string_value(json_object_get(c, "State"));
                bool not = state && state[0] == '!';
                if (!with_infra && infra && streq(id, infra))
                        continue;
                if (state && streq(st, not ? state + 1 : state) == not )
                        continue;
                strv_push(ids, id);
        }
        return 0;
}

static int cmd_top(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                pea_cli_print_help(cli, &pea_cmd_pod_top);
                return 0;
        }
        int r = pea_cli_check_args(cli, argc - 1, 1, -1, err);
        _cleanup_strv_ char **ids = NULL;
        if (r >= 0)
                r = pod_containers(cli, argv[1], true, "running", &ids, err);
        if (r >= 0 && !ids)
                return pea_error_set(err, EINVAL, "no containers in pod '%s' are running", argv[1]);
        STRV_FOREACH(id, ids) {
                _cleanup_strv_ char **args = NULL;
                strv_push(&args, "top");
                strv_push(&args, *id);
                for (int i = 2; i < argc; i++)
                        strv_push(&args, argv[i]);
                if (r >= 0)
                        r = delegate(cli, &pea_cmd_top, args, err);
        }
        return r;
}

/* pod logs: logs --names of the pod's containers (but the infra), or of -c CTR. */
static int cmd_logs(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        _cleanup_strv_ char **args = NULL;
        strv_push(&args, "logs");
        strv_push(&args, "--names");
        const char *pod = NULL, *only = NULL;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
                        pea_cli_print_help(cli, &pea_cmd_pod_logs);
                        return 0;
                }
                if ((streq(argv[i], "-c") || streq(argv[i], "--container")) && i + 1 < argc)
                        only = argv[++i];
                else if (startswith(argv[i], "--container="))
                        only = argv[i] + strlen("--container=");
                else if (argv[i][0] != '-' && !pod && (i == 1 || !streq(argv[i - 1], "--tail")))
                        pod = argv[i];
                else
                        strv_push(&args, argv[i]);
        }
        if (!pod)
                return pea_error_set(err, EINVAL, "requires exactly 1 arg(s), only received 0");
        _cleanup_strv_ char **ids = NULL;
        int r = pod_containers(cli, pod, false, NULL, &ids, err);
        if (r < 0)
                return r;
        if (only)
                strv_push(&args, only);
        STRV_FOREACH(id, only ? NULL : ids)
                strv_push(&args, *id);
        if (!only && !ids)
                return 0;
        return delegate(cli, &pea_cmd_logs, args, err);
}

static int pause_common(struct pea_cli *cli, const struct pea_cmd *self, const struct pea_cmd *cmd,
                        const char *state, int argc, char **argv, struct pea_error **err)
{
        if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
                pea_cli_print_help(cli, self);
                return 0;
        }
        int r = pea_cli_check_args(cli, argc - 1, 1, -1, err);
        for (int i = 1; r >= 0 && i < argc; i++) {
                _cleanup_strv_ char **args = NULL;
                strv_push(&args, cmd->name);
                r = pod_containers(cli, argv[i], true, state, &args, err);
                struct pea_pod_row pod = {};
                if (r >= 0)
                        r = pea_state_pod_lookup(cli->state, argv[i], &pod, err);
                /* the container command prints each container: quiet it */
                FILE *saved = stdout, *null = fopen("/dev/null", "we");
                if (null)
                        stdout = null;
                if (r >= 0 && strv_length(args) > 1)
                        r = delegate(cli, cmd, args, err);
                stdout = saved;
                if (null)
                        (void)fclose(null);
                if (r >= 0)
                        printf("%s\n", pod.id);
                pea_pod_row_done(&pod);
        }
        return r < 0 ? r : 0;
}

static int cmd_pause(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return pause_common(cli, &pea_cmd_pod_pause, &pea_cmd_pause, "running", argc, argv, err);
}

static int cmd_unpause(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return pause_common(cli, &pea_cmd_pod_unpause, &pea_cmd_unpause, "paused", argc, argv, err);
}

/* ---- the command table entries ------------------------------------------------------------ */

#define PS_OPTIONS                                                                            \
        "      --ctr-ids           Display the container UUIDs. If no-trunc is not set they " \
        "will be truncated\n"                                                                 \
        "      --ctr-names         Display the container names\n"                             \
        "      --ctr-status        Display the container status\n"                            \
        "  -f, --filter strings    Filter output based on conditions given\n"                 \
        "      --format string     Pretty-print pods to JSON or using a Go template\n"        \
        "  -l, --latest            Act on the latest pod pea is aware of\n"                   \
        "      --no-trunc          Do not truncate pod and container IDs\n"                   \
        "      --noheading         Do not print headers\n"                                    \
        "  -q, --quiet             Print the numeric IDs of the pods only\n"

const struct pea_cmd pea_cmd_pod_ps = {
        .name = "ps",
        .fn = cmd_ps,
        .flags = POD_FLAGS,
        .summary = "List pods",
        .usage = "[options]",
        .options = PS_OPTIONS,
};

const struct pea_cmd pea_cmd_pod_ls = {
        .name = "ls",
        .fn = cmd_ps,
        .flags = POD_FLAGS,
        .summary = "List pods",
        .usage = "[options]",
        .options = PS_OPTIONS,
        .hidden = true,
};

const struct pea_cmd pea_cmd_pod_list = {
        .name = "list",
        .fn = cmd_ps,
        .flags = POD_FLAGS,
        .summary = "List pods",
        .usage = "[options]",
        .options = PS_OPTIONS,
        .hidden = true,
};

const struct pea_cmd pea_cmd_pod_top = {
        .name = "top",
        .fn = cmd_top,
        .flags = POD_FLAGS,
        .summary = "Display the running processes of containers in a pod",
        .usage = "POD [FORMAT-DESCRIPTORS|ARGS...]",
};

const struct pea_cmd pea_cmd_pod_logs = {
        .name = "logs",
        .fn = cmd_logs,
        .flags = POD_FLAGS,
        .summary = "Fetch logs for pod with one or more containers",
        .usage = "[options] POD",
        .options = "  -c, --container string   Filter logs by container name or id which belongs "
                   "to pod\n"
                   "  -f, --follow             Follow log output (one container at a time)\n"
                   "      --since string       Show logs since TIMESTAMP\n"
                   "      --tail int           Output the specified number of LINES at the end "
                   "of the logs (default -1)\n"
                   "  -t, --timestamps         Output the timestamps in the log\n"
                   "      --until string       Show logs until TIMESTAMP\n",
};

const struct pea_cmd pea_cmd_pod_pause = {
        .name = "pause",
        .fn = cmd_pause,
        .flags = POD_FLAGS,
        .summary = "Pause one or more pods",
        .usage = "POD [POD...]",
};

const struct pea_cmd pea_cmd_pod_unpause = {
        .name = "unpause",
        .fn = cmd_unpause,
        .flags = POD_FLAGS,
        .summary = "Unpause one or more pods",
        .usage = "POD [POD...]",
};
