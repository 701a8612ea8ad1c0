/* SPDX-License-Identifier: Apache-2.0 */
/* pea ps: podman's columns, Status wording, JSON and templates; rows made truthful first. */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "jsonutil.h"
#include "network/network.h"
#include "run.h"
#include "state/state.h"
#include "template.h"
#include "units.h"

struct ps_opts {
        bool all, quiet, no_trunc, latest, no_heading, pod;
        long last; /* -1: all */
        const char *format;
        char **filters;
};

/* The healthcheck's status of a running container ("healthy", ...), "" without one. */
static const char *health_status(const struct pea_container_row *c)
{
        if (!streq(c->state, "running") || !pea_cmd_container_healthcheck(c->config))
                return "";
        const char *h = pea_json_path_string(c->config, "Health.Status", NULL);
        return h ? h : "starting";
}

/* podman's State(): "Up 2 seconds", "Exited (0) 3 seconds ago", "Created". */
static char *status_human(const struct pea_container_row *c, int64_t now)
{
        if (streq(c->state, "running")) {
                _cleanup_free_ char *d = pea_human_duration(now - c->started_at);
                const char *h = health_status(c);
                return *h ? xasprintf("Up %s (%s)", d, h) : xasprintf("Up %s", d);
        }
        if (streq(c->state, "created") || streq(c->state, "configured"))
                return xstrdup("Created");
        if (streq(c->state, "exited") || streq(c->state, "stopped")) {
                _cleanup_free_ char *d = pea_human_since(c->finished_at, now);
                return xasprintf("Exited (%d) %s", c->exit_code, d);
        }
        if (streq(c->state, "paused"))
                return xstrdup("Paused");
        return xstrdup(c->state);
}

static char *command_line(const struct pea_container_row *c, bool no_trunc)
{
        json_t *args = json_object_get(c->config, "args");
        _cleanup_strv_ char **l = xcalloc(1, sizeof(char *));
        size_t i;
        json_t *v;
        json_array_foreach(args, i, v)
                strv_push(&l, json_string_value(v) ? json_string_value(v) : "");
        char *s = strv_join(l, " ");
        if (!no_trunc && strlen(s) > 17) {
                s[17] = '\0';
                char *t = xasprintf("%s...", s);
                free(s);
                s = t;
        }
        return s;
}

static char *labels_text(json_t *labels)
{
        _cleanup_strv_ char **l = xcalloc(1, sizeof(char *));
        const char *k;
        json_t *v;
        json_object_foreach(labels, k, v)
                strv_consume(&l, xasprintf("%s:%s", k, json_string_value(v)));
        _cleanup_free_ char *j = strv_join(l, " ");
        return xasprintf("map[%s]", j);
}

/* PORTS: "0.0.0.0:8080->80/tcp" as podman ps shows it. */
static char *ports_text(const struct pea_container_row *c)
{
        json_t *j = json_object_get(json_object_get(c->config, "network"), "ports");
        struct pea_ports p = {};
        if (!j || pea_ports_from_json(j, &p, NULL) < 0) {
                pea_ports_done(&p);
                return xstrdup("");
        }
        pea_ports_merge(&p);
        char *s = pea_ports_format(&p);
        pea_ports_done(&p);
        return s;
}

static json_t *template_row(const struct pea_container_row *c, bool no_trunc, int64_t now)
{
        _cleanup_free_ char *ports = ports_text(c);
        _cleanup_free_ char *cmd = command_line(c, no_trunc);
        _cleanup_free_ char *since = pea_human_since(c->created, now);
        _cleanup_free_ char *at = pea_time_go_string(c->created);
        _cleanup_free_ char *status = status_human(c, now);
        _cleanup_free_ char *labels = labels_text(json_object_get(c->config, "labels"));
        _cleanup_free_ char *id = no_trunc ? xstrdup(c->id) : xstrndup(c->id, 12);
        json_t *pod = json_pack("{s:s%, s:s}", "Pod", c->pod_id ? c->pod_id : "",
                                (size_t)(c->pod_id ? (no_trunc ? 64 : 12) : 0), "PodName",
                                pea_json_path_string(c->config, "pod_name", ""));
        json_t *row =
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, "
                          "s:i, s:b}",
                          "ID", id, "Image", c->image_name ? c->image_name : "", "Command", cmd,
                          "CreatedAt", at, "Created", since, "CreatedHuman", since, "Status",
                          status, "State", status, "Ports", ports, "Names", c->name, "Labels",
                          labels, "Mounts", "", "ExitCode", c->exit_code, "Pid", c->pid, "Exited",
                          streq(c->state, "exited") || streq(c->state, "stopped"));
        json_object_update(row, pod);
        json_decref(pod);
        return row;
}

/* podman ps --format json: one ListContainer. */
static json_t *json_row(const struct pea_container_row *c, int64_t now)
{
        _cleanup_free_ char *since = pea_human_since(c->created, now);
        json_t *args = json_object_get(c->config, "args");
        json_t *labels = json_object_get(c->config, "labels");
        bool exited = streq(c->state, "exited") || streq(c->state, "stopped");
        return json_pack("{s:b, s:O, s:s, s:b, s:I, s:i, s:s, s:s, s:s, s:b, s:O, s:[], s:[s], "
                         "s:{}, s:[], s:i, s:s, s:s, s:n, s:n, s:I, s:s, s:s, s:I}",
                         "AutoRemove", json_is_true(json_object_get(c->config, "rm")), "Command",
                         args ? args : json_null(), "CreatedAt", since, "Exited", exited,
                         "ExitedAt", (json_int_t)(c->finished_at / 1000000000), "ExitCode",
                         c->exit_code, "Id", c->id, "Image", c->image_name ? c->image_name : "",
                         "ImageID", c->image_id ? c->image_id : "", "IsInfra", false, "Labels",
                         labels && json_object_size(labels) ? labels : json_null(), "Mounts",
                         "Names", c->name, "Namespaces", "Networks", "Pid", c->pid, "Pod",
                         c->pod_id ? c->pod_id : "", "PodName",
                         pea_json_path_string(c->config, "pod_name", ""), "Ports", "Size",
                         "StartedAt", (json_int_t)(c->started_at / 1000000000), "State", c->state,
                         "Status", "", "Created", (json_int_t)(c->created / 1000000000));
}

/* --filter KEY=VALUE: name (regex-less glob), id (prefix), status, label, ancestor. */
static int filter_one(const struct pea_container_row *c, const char *f, struct pea_error **err)
{
        const char *v;
        if ((v = startswith(f, "name=")))
                return strstr(c->name, v) != NULL || fnmatch(v, c->name, 0) == 0;
        if ((v = startswith(f, "id=")))
                return startswith(c->id, v) != NULL;
        if ((v = startswith(f, "pod=")))
                return c->pod_id
                       && (startswith(c->pod_id, v)
                           || streq(pea_json_path_string(c->config, "pod_name", ""), v));
        if ((v = startswith(f, "status=")))
                return streq(c->state, v) || (streq(v, "exited") && streq(c->state, "stopped"));
        if ((v = startswith(f, "health=")))
                return streq(health_status(c), v) || (streq(v, "none") && !*health_status(c));
        if ((v = startswith(f, "ancestor=")))
                return (c->image_name && (streq(c->image_name, v) || strstr(c->image_name, v)))
                       || (c->image_id && startswith(c->image_id, v));
        if ((v = startswith(f, "label="))) {
                _cleanup_free_ char *k = xstrdup(v);
                char *eq = strchr(k, '=');
                if (eq)
                        *eq++ = '\0';
                json_t *lv = json_object_get(json_object_get(c->config, "labels"), k);
                return lv && (!eq || streq(json_string_value(lv), eq));
        }
        return pea_error_set(err, EINVAL, "invalid filter '%s'", f);
}

/* Filters of one key are ORed, different keys ANDed, as podman does. */
static int matches(const struct pea_container_row *c, char **filters, struct pea_error **err)
{
        STRV_FOREACH(f, filters) {
                size_t klen = strcspn(*f, "=");
                bool any = false;
                STRV_FOREACH(g, filters) {
                        if (strncmp(*f, *g, klen + 1) != 0)
                                continue;
                        int r = filter_one(c, *g, err);
                        if (r < 0)
                                return r;
                        any = any || r > 0;
                }
                if (!any)
                        return 0;
        }
        return 1;
}

/* The pod's name into the row's config (not stored), for PODNAME and --filter pod=. */
static void annotate_pod(struct pea_container_ctx *ctx, struct pea_container_row *c)
{
        struct pea_pod_row pod = {};
        if (c->pod_id && json_is_object(c->config)
            && pea_state_pod_get_by_id(ctx->state, c->pod_id, &pod, NULL) >= 0)
                json_object_set_new(c->config, "pod_name", json_string(pod.name));
        pea_pod_row_done(&pod);
}

static int select_rows(struct pea_container_ctx *ctx, const struct ps_opts *o,
                       struct pea_container_row **ret, size_t *ret_n, struct pea_error **err)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0, k = 0;
        int r = pea_state_container_list(ctx->state, NULL, &rows, &n, err);
        if (r < 0)
                return r;
        struct pea_container_row *out = xcalloc(n ? n : 1, sizeof(*out));
        bool any_filter = strv_length(o->filters) > 0;
        /* newest first, as podman sorts by default */
        for (size_t i = n; r >= 0 && i-- > 0;) {
                struct pea_container_row *c = &rows[i];
                r = pea_cmd_container_sync(ctx, c, err);
                annotate_pod(ctx, c);
                int m = r < 0 ? r : matches(c, o->filters, err);
                bool shown = o->all || o->last >= 0 || any_filter || streq(c->state, "running");
                if (m > 0 && shown && (o->last < 0 || (long)k < o->last)) {
                        out[k++] = *c;
                        *c = (struct pea_container_row){};
                }
                r = m < 0 ? m : r;
        }
        pea_container_rows_free(rows, n);
        if (r < 0) {
                pea_container_rows_free(out, k);
                return r;
        }
        *ret = out;
        *ret_n = k;
        return 0;
}

static int print_rows(const struct pea_container_row *rows, size_t n, const struct ps_opts *o,
                      struct pea_error **err)
{
        int64_t now = pea_now_ns();
        if (o->quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%.*s\n", o->no_trunc ? 64 : 12, rows[i].id);
                return 0;
        }
        _cleanup_json_ json_t *data = json_array();
        bool json = o->format && (streq(o->format, "json") || streq(o->format, "{{json .}}"));
        for (size_t i = 0; i < n; i++)
                json_array_append_new(data, json ? json_row(&rows[i], now)
                                                 : template_row(&rows[i], o->no_trunc, now));
        if (json) {
                if (pea_json_print(stdout, data, 4) < 0)
                        return pea_error_syscall(err, EIO, "writing output");
                return 0;
        }
        const char *def = o->pod ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t"
                                   "{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Pod}}\t{{.PodName}}"
                                 : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedHuman}}\t"
                                   "{{.Status}}\t{{.Ports}}\t{{.Names}}";
        _cleanup_json_ json_t *headers = json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "CONTAINER ID", "CreatedHuman", "CREATED",
                "Created", "CREATED", "Names", "NAMES", "Pod", "POD ID", "PodName", "PODNAME");
        return pea_format_print_full(stdout, o->format ? o->format : def, data, true, headers,
                                     o->no_heading, 4, err);
}

enum { OPT_FORMAT = 0x100, OPT_NO_TRUNC, OPT_NOHEADING, OPT_SORT, OPT_SIZE, OPT_POD };

static int ps_opt(struct ps_opts *o, int c, struct pea_error **err)
{
        long long n = 0;
        switch (c) {
        case 'a':
                o->all = true;
                return 0;
        case 'q':
                o->quiet = true;
                return 0;
        case 'l':
                o->last = 1;
                return 0;
        case 'n':
                if (safe_atoll(optarg, &n) < 0 || n < 0)
                        return pea_error_set(err, EINVAL, "invalid value '%s' for --last", optarg);
                o->last = (long)n;
                return 0;
        case 'f':
                strv_push(&o->filters, optarg);
                return 0;
        case OPT_FORMAT:
                o->format = optarg;
                return 0;
        case OPT_NO_TRUNC:
                o->no_trunc = true;
                return 0;
        case OPT_NOHEADING:
                o->no_heading = true;
                return 0;
        case OPT_POD:
                o->pod = true;
                return 0;
        case OPT_SORT:
        case OPT_SIZE:
                return 0;
        default:
                return pea_error_set(err, EINVAL, "unknown option");
        }
}

static int parse_ps(struct pea_cli *cli, int argc, char **argv, struct ps_opts *o,
                    struct pea_error **err)
{
        static const struct option longopts[] = {
                {"all", no_argument, NULL, 'a'},
                {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, OPT_FORMAT},
                {"last", required_argument, NULL, 'n'},
                {"latest", no_argument, NULL, 'l'},
                {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
                {"noheading", no_argument, NULL, OPT_NOHEADING},
                {"pod", no_argument, NULL, OPT_POD},
                {"quiet", no_argument, NULL, 'q'},
                {"size", no_argument, NULL, 's'},
                {"sort", required_argument, NULL, OPT_SORT},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":af:ln:qsh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_ps);
                        return 1;
                }
                if (c == '?' || c == ':')
                        return pea_cli_opt_error(c, argc, argv, err);
                int r = ps_opt(o, c == 's' ? OPT_SIZE : c, err);
                if (r < 0)
                        return r;
        }
        return pea_cli_check_args(cli, argc - optind, 0, 0, err);
}

static int cmd_ps(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct ps_opts o = {.last = -1, .filters = xcalloc(1, sizeof(char *))};
        int r = parse_ps(cli, argc, argv, &o, err);
        if (r != 0) {
                strv_free(o.filters);
                return r < 0 ? r : 0;
        }
        struct pea_container_ctx ctx = {
                .state = cli->state,
                .graph_root = cli->config.graph_root,
                .run_root = cli->config.run_root,
                .rootless = cli->config.rootless,
        };
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        r = select_rows(&ctx, &o, &rows, &n, err);
        if (r >= 0)
                r = print_rows(rows, n, &o, err);
        pea_container_rows_free(rows, n);
        strv_free(o.filters);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_ps = {
        .name = "ps",
        .fn = cmd_ps,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "List containers",
        .usage = "[options]",
        .options = "  -a, --all             Show all the containers, default is only running\n"
                   "  -f, --filter string   Filter output based on conditions given\n"
                   "      --format string   Pretty-print containers to JSON or using a Go "
                   "template\n"
                   "  -n, --last int        Print the n last created containers (default -1)\n"
                   "  -l, --latest          Act on the latest container pea is aware of\n"
                   "      --no-trunc        Display the extended information\n"
                   "      --noheading       Do not print headers\n"
                   "      --pod             Print the ID and name of the pod the containers "
                   "are in\n"
                   "  -q, --quiet           Print the numeric IDs of the containers only\n",
};
