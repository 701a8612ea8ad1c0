/* SPDX-License-Identifier: Apache-2.0 */
/* pea pod: create, start, stop, restart, kill, rm, exists, inspect, prune (ps etc.: pod-ps.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "image.h"
#include "pod.h"
#include "pods/pods.h"
#include "run.h"
#include "state/state.h"
#include "template.h"

#define POD_FLAGS (PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS)

extern const struct pea_cmd pea_cmd_pod;
static const struct pea_cmd pea_cmd_pod_create, pea_cmd_pod_start, pea_cmd_pod_stop,
        pea_cmd_pod_restart, pea_cmd_pod_kill, pea_cmd_pod_rm, pea_cmd_pod_exists,
        pea_cmd_pod_inspect, pea_cmd_pod_prune;

/* ---- create ------------------------------------------------------------------------------- */

enum {
        OPT_INFRA = 0x100,
        OPT_NO_INFRA,
        OPT_INFRA_IMAGE,
        OPT_INFRA_NAME,
        OPT_INFRA_COMMAND,
        OPT_SHARE,
        OPT_DNS,
        OPT_DNS_SEARCH,
        OPT_DNS_OPTION,
        OPT_ADD_HOST,
        OPT_USERNS,
        OPT_REPLACE,
        OPT_POD_ID_FILE,
        OPT_IGNORED,
};

static const struct option create_longopts[] = {
        {"name", required_argument, NULL, 'n'},
        {"publish", required_argument, NULL, 'p'},
        {"network", required_argument, NULL, OPT_IGNORED + 1},
        {"net", required_argument, NULL, OPT_IGNORED + 1},
        {"hostname", required_argument, NULL, OPT_IGNORED + 2},
        {"share", required_argument, NULL, OPT_SHARE},
        {"infra", optional_argument, NULL, OPT_INFRA},
        {"no-infra", no_argument, NULL, OPT_NO_INFRA},
        {"infra-image", required_argument, NULL, OPT_INFRA_IMAGE},
        {"infra-name", required_argument, NULL, OPT_INFRA_NAME},
        {"infra-command", required_argument, NULL, OPT_INFRA_COMMAND},
        {"label", required_argument, NULL, 'l'},
        {"add-host", required_argument, NULL, OPT_ADD_HOST},
        {"dns", required_argument, NULL, OPT_DNS},
        {"dns-search", required_argument, NULL, OPT_DNS_SEARCH},
        {"dns-option", required_argument, NULL, OPT_DNS_OPTION},
        {"userns", required_argument, NULL, OPT_USERNS},
        {"replace", no_argument, NULL, OPT_REPLACE},
        {"pod-id-file", required_argument, NULL, OPT_POD_ID_FILE},
        PEA_HELP_OPTION,
        {},
};

static char ***create_list(struct pea_pod_create_opts *o, int c)
{
        switch (c) {
        case 'p':
                return &o->publish;
        case 'l':
                return &o->labels;
        case OPT_ADD_HOST:
                return &o->add_hosts;
        case OPT_DNS:
                return &o->dns;
        case OPT_DNS_SEARCH:
                return &o->dns_search;
        case OPT_DNS_OPTION:
                return &o->dns_options;
        default:
                return NULL;
        }
}

static const char **create_string(struct pea_pod_create_opts *o, int c)
{
        switch (c) {
        case 'n':
                return &o->name;
        case OPT_IGNORED + 1:
                return &o->network;
        case OPT_IGNORED + 2:
                return &o->hostname;
        case OPT_SHARE:
                return &o->share;
        case OPT_INFRA_IMAGE:
                return &o->infra_image;
        case OPT_INFRA_NAME:
                return &o->infra_name;
        case OPT_INFRA_COMMAND:
                return &o->infra_command;
        case OPT_USERNS:
                return &o->userns;
        case OPT_POD_ID_FILE:
                return &o->pod_id_file;
        default:
                return NULL;
        }
}

static int create_flag(int c, struct pea_pod_create_opts *o, struct pea_error **err)
{
        char ***l = create_list(o, c);
        const char **s = create_string(o, c);
        bool b = true;
        if (l)
                strv_push(l, optarg);
        else if (s)
                *s = optarg;
        else if (c == OPT_NO_INFRA)
                o->no_infra = true;
        else if (c == OPT_REPLACE)
                o->replace = true;
        else if (c == OPT_INFRA) {
                int r = optarg ? pea_cmd_parse_bool("--infra", optarg, &b, err) : 0;
                if (r < 0)
                        return r;
                o->no_infra = !b;
        } else
                return -1;
        return 0;
}

static void create_opts_done(struct pea_pod_create_opts *o)
{
        strv_free(o->publish);
        strv_free(o->labels);
        strv_free(o->add_hosts);
        strv_free(o->dns);
        strv_free(o->dns_search);
        strv_free(o->dns_options);
        strv_free(o->create_command);
}

static int parse_create(struct pea_cli *cli, int argc, char **argv, struct pea_pod_create_opts *o,
                        struct pea_error **err)
{
        int c;
        while ((c = getopt_long(argc, argv, ":hn:p:l:", create_longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_pod_create);
                        return 1;
                }
                int r = create_flag(c, o, err);
                if (r == -1)
                        return pea_cli_opt_error(c, argc, argv, err);
                if (r < 0)
                        return r;
        }
        int r = pea_cli_check_args(cli, argc - optind, 0, 1, err);
        if (r < 0)
                return r;
        if (optind < argc && o->name)
                return pea_error_set(err, EINVAL, "cannot specify both a pod name and --name");
        if (optind < argc)
                o->name = argv[optind];
        return 0;
}

/* --replace: removes the pod called name (and its containers), if there is one. */
static int replace_pod(struct pea_run_env *e, const char *name, struct pea_error **err);

static int cmd_create(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct pea_pod_create_opts o = {};
        struct pea_run_env e = {};
        _cleanup_free_ char *id = NULL, *random = NULL;
        int r = parse_create(cli, argc, argv, &o, err);
        if (r == 0 && !o.name)
                o.name = random = pea_container_random_name();
        if (r == 0)
                r = pea_run_env_open(cli, &e, err);
        if (r == 0 && o.replace)
                r = replace_pod(&e, o.name, err);
        if (r == 0) {
                _cleanup_strv_ char **args = NULL;
                strv_push(&args, "pod");
                for (int i = 0; i < argc; i++)
                        strv_push(&args, argv[i]);
                o.create_command = pea_cmd_create_command(cli, argc + 1, args);
                r = pea_cmd_pod_new(cli, &e, &o, &id, err);
        }
        if (r == 0 && o.pod_id_file) {
                _cleanup_free_ char *text = xasprintf("%s\n", id);
                r = pea_write_file_atomic_at(AT_FDCWD, o.pod_id_file, text, strlen(text), 0644,
                                             err);
        }
        if (r == 0)
                printf("%s\n", id);
        pea_run_env_done(&e);
        create_opts_done(&o);
        return r < 0 ? r : 0;
}

/* ---- the pods and their containers ---------------------------------------------------------- */

/* The pod's containers (states made truthful), the infra first. */
static int members(const struct pea_container_ctx *ctx, const struct pea_pod_row *pod,
                   struct pea_container_row **ret, size_t *ret_n, struct pea_error **err)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_container_list(ctx->state, pod->id, &rows, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = pea_cmd_container_sync(ctx, &rows[i], err);
        if (r < 0) {
                pea_container_rows_free(rows, n);
                return r;
        }
        for (size_t i = 1; i < n; i++)
                if (pea_pod_row_is_infra(&rows[i])) {
                        struct pea_container_row t = rows[0];
                        rows[0] = rows[i];
                        rows[i] = t;
                }
        *ret = rows;
        *ret_n = n;
        return 0;
}

static bool is_running(const struct pea_container_row *row)
{
        return streq(row->state, "running") || streq(row->state, "paused");
}

/* The pods named in argv, all of them (-a), or the newest (-l): their full IDs. */
static int targets(struct pea_cli *cli, bool all, bool latest, int argc, char **argv, char ***ret,
                   struct pea_error **err)
{
        _cleanup_strv_ char **ids = NULL;
        if (all || latest) {
                struct pea_pod_row *rows = NULL;
                size_t n = 0;
                int r = pea_state_pod_list(cli->state, &rows, &n, err);
                if (r < 0)
                        return r;
                for (size_t i = latest && n ? n - 1 : 0; i < n; i++)
                        strv_push(&ids, rows[i].id);
                pea_pod_rows_free(rows, n);
        }
        for (int i = 0; !all && !latest && i < argc; i++) {
                struct pea_pod_row pod = {};
                int r = pea_state_pod_lookup(cli->state, argv[i], &pod, err);
                if (r < 0)
                        return r;
                strv_push(&ids, pod.id);
                pea_pod_row_done(&pod);
        }
        *ret = TAKE_PTR(ids);
        return 0;
}

struct act_opts {
        bool all, latest, force, ignore;
        long timeout; /* -1: each container's own */
        int sig;
};

/* Starts the pod: the infra first, then every member that does not run. */
static int start_pod(struct pea_run_env *e, const struct pea_pod_row *pod, struct pea_error **err)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        int r = members(&e->ctx, pod, &rows, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (!is_running(&rows[i]))
                        r = pea_cmd_container_start_detached(&e->ctx, rows[i].id, false, NULL, err);
        pea_container_rows_free(rows, n);
        return r;
}

/* Stops the members, the infra last. */
static int stop_pod(struct pea_run_env *e, const struct pea_pod_row *pod, long timeout,
                    struct pea_error **err)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        int r = members(&e->ctx, pod, &rows, &n, err);
        for (size_t i = n; r >= 0 && i > 0; i--) {
                const struct pea_container_row *c = &rows[i - 1];
                if (!is_running(c))
                        continue;
                unsigned t = timeout >= 0 ? (unsigned)timeout
                                          : pea_cmd_container_stop_timeout(c->config);
                (void)pea_cmd_container_thaw(&e->ctx, c->id, NULL);
                r = pea_cmd_container_stop(&e->ctx, c->id, 0, t, err);
        }
        pea_container_rows_free(rows, n);
        return r;
}

static int kill_pod(struct pea_run_env *e, const struct pea_pod_row *pod, int sig,
                    struct pea_error **err)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0, killed = 0;
        int r = members(&e->ctx, pod, &rows, &n, err);
        for (size_t i = n; r >= 0 && i > 0; i--)
                if (is_running(&rows[i - 1])) {
                        r = pea_cmd_container_kill(&e->ctx, rows[i - 1].id, sig, err);
                        killed++;
                }
        pea_container_rows_free(rows, n);
        if (r >= 0 && killed == 0)
                return pea_error_set(err, EINVAL, "no containers in pod '%s' are running",
                                     pod->name);
        return r;
}

/* Removes the pod's containers (running ones only with force), the infra last, then the pod. */
static int rm_pod(struct pea_run_env *e, const struct pea_pod_row *pod, const struct act_opts *o,
                  struct pea_error **err)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        int r = members(&e->ctx, pod, &rows, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (is_running(&rows[i]) && !o->force)
                        r = pea_error_set(err, EBUSY,
                                          "pod %s has containers that are not ready to be "
                                          "removed: cannot remove container %s as it is "
                                          "running - running or paused containers cannot be "
                                          "removed without force: container state improper",
                                          pod->id, rows[i].id);
        if (r >= 0 && o->force)
                r = stop_pod(e, pod, o->timeout < 0 ? 10 : o->timeout, err);
        for (size_t i = n; r >= 0 && i > 0; i--)
                r = pea_cmd_container_remove(&e->ctx, rows[i - 1].id, true, false, err);
        pea_container_rows_free(rows, n);
        if (r >= 0)
                r = pea_state_pod_remove(e->ctx.state, pod->id, err);
        if (r >= 0)
                pea_cmd_event(e->ctx.run_root, "pod", "remove", pod->id, pod->name);
        return r;
}

static int replace_pod(struct pea_run_env *e, const char *name, struct pea_error **err)
{
        struct pea_pod_row pod = {};
        int r = pea_state_pod_lookup(e->ctx.state, name, &pod, NULL);
        if (r < 0 || !streq(pod.name, name)) {
                pea_pod_row_done(&pod);
                return 0;
        }
        struct act_opts o = {.force = true, .timeout = 10};
        r = rm_pod(e, &pod, &o, err);
        pea_pod_row_done(&pod);
        return r;
}

enum act { ACT_START, ACT_STOP, ACT_RESTART, ACT_KILL, ACT_RM };

static int act_one(struct pea_run_env *e, enum act a, const char *id, const struct act_opts *o,
                   struct pea_error **err)
{
        struct pea_pod_row pod = {};
        int r = pea_state_pod_get_by_id(e->ctx.state, id, &pod, err);
        if (r < 0)
                return r;
        if (a == ACT_STOP || a == ACT_RESTART)
                r = stop_pod(e, &pod, o->timeout, err);
        if (r >= 0 && (a == ACT_START || a == ACT_RESTART))
                r = start_pod(e, &pod, err);
        if (r >= 0 && a == ACT_KILL)
                r = kill_pod(e, &pod, o->sig, err);
        if (r >= 0 && a == ACT_RM)
                r = rm_pod(e, &pod, o, err);
        static const char *const events[] = {"start", "stop", "restart", "kill", NULL};
        if (r >= 0 && events[a])
                pea_cmd_event(e->ctx.run_root, "pod", events[a], pod.id, pod.name);
        pea_pod_row_done(&pod);
        return r;
}

static const struct option act_longopts[] = {
        {"all", no_argument, NULL, 'a'},
        {"latest", no_argument, NULL, 'l'},
        {"force", no_argument, NULL, 'f'},
        {"ignore", no_argument, NULL, 'i'},
        {"time", required_argument, NULL, 't'},
        {"signal", required_argument, NULL, 's'},
        {"pod-id-file", required_argument, NULL, OPT_POD_ID_FILE},
        PEA_HELP_OPTION,
        {},
};

static int act_flag(int c, struct act_opts *o, char ***files, struct pea_error **err)
{
        long long n = 0;
        if (c == 'a' || c == 'l' || c == 'f' || c == 'i')
                *(c == 'a'   ? &o->all
                  : c == 'l' ? &o->latest
                  : c == 'f' ? &o->force
                             : &o->ignore) = true;
        else if (c == OPT_POD_ID_FILE)
                strv_push(files, optarg);
        else if (c == 's')
                return pea_cmd_parse_signal(optarg, &o->sig, err);
        else if (c == 't' && safe_atoll(optarg, &n) >= 0 && n >= -1)
                o->timeout = (long)n;
        else if (c == 't')
                return pea_error_set(err, EINVAL, "invalid argument \"%s\" for \"-t, --time\" flag",
                                     optarg);
        else
                return -1;
        return 0;
}

/* The pod IDs read from --pod-id-file files (missing ones skipped with --ignore). */
static int id_files(char **files, bool ignore, char ***ids, struct pea_error **err)
{
        STRV_FOREACH(f, files) {
                _cleanup_free_ char *text = NULL;
                int r = pea_read_file_at(AT_FDCWD, *f, 4096, &text, NULL, err);
                if (r == -ENOENT && ignore) {
                        pea_error_clear(err);
                        continue;
                }
                if (r < 0)
                        return r;
                strv_push(ids, strstrip(text));
        }
        return 0;
}

static int parse_act(struct pea_cli *cli, const struct pea_cmd *cmd, const char *optstring,
                     int argc, char **argv, struct act_opts *o, char ***ret_names,
                     struct pea_error **err)
{
        _cleanup_strv_ char **files = NULL;
        int c;
        while ((c = getopt_long(argc, argv, optstring, act_longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, cmd);
                        return 1;
                }
                int r = strchr(optstring, c) || c == OPT_POD_ID_FILE ? act_flag(c, o, &files, err)
                                                                     : -1;
                if (r == -1)
                        return pea_cli_opt_error(c, argc, argv, err);
                if (r < 0)
                        return r;
        }
        strv_free(*ret_names);
        *ret_names = NULL;
        for (int i = optind; i < argc; i++)
                strv_push(ret_names, argv[i]);
        int r = id_files(files, o->ignore, ret_names, err);
        if (r < 0)
                return r;
        if ((o->all || o->latest) && *ret_names)
                return pea_error_set(err, EINVAL,
                                     "when using the --all or --latest flags, you cannot also "
                                     "specify a pod name or ID");
        if (!o->all && !o->latest && !*ret_names && !files)
                return pea_error_set(err, EINVAL,
                                     "you must provide at least one name or id, or --all/--latest");
        return 0;
}

static int run_act(struct pea_cli *cli, const struct pea_cmd *cmd, enum act a,
                   const char *optstring, int argc, char **argv, struct pea_error **err)
{
        struct act_opts o = {.timeout = -1, .sig = SIGKILL};
        _cleanup_strv_ char **names = NULL, **ids = NULL;
        int r = parse_act(cli, cmd, optstring, argc, argv, &o, &names, err);
        if (r != 0)
                return r < 0 ? r : 0;
        /* rm -f and --ignore: missing pods are fine */
        bool lenient = a == ACT_RM && (o.force || o.ignore);
        struct pea_run_env e = {};
        r = pea_run_env_open(cli, &e, err);
        for (size_t i = 0; r >= 0 && (o.all || o.latest ? i < 1 : names && names[i]); i++) {
                _cleanup_strv_ char **one = NULL;
                r = targets(cli, o.all, o.latest, 1, names ? &names[i] : NULL, &one, err);
                if (r == -ENOENT && lenient) {
                        pea_error_clear(err);
                        r = 0;
                }
                STRV_FOREACH(id, one) {
                        if (r >= 0)
                                r = act_one(&e, a, *id, &o, err);
                        if (r >= 0)
                                printf("%s\n", *id);
                }
        }
        pea_run_env_done(&e);
        return r < 0 ? r : 0;
}

static int cmd_start(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run_act(cli, &pea_cmd_pod_start, ACT_START, ":hal", argc, argv, err);
}

static int cmd_stop(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run_act(cli, &pea_cmd_pod_stop, ACT_STOP, ":halit:", argc, argv, err);
}

static int cmd_restart(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run_act(cli, &pea_cmd_pod_restart, ACT_RESTART, ":hal", argc, argv, err);
}

static int cmd_kill(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run_act(cli, &pea_cmd_pod_kill, ACT_KILL, ":hals:", argc, argv, err);
}

static int cmd_rm(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run_act(cli, &pea_cmd_pod_rm, ACT_RM, ":halfit:", argc, argv, err);
}

/* ---- exists, inspect, prune ------------------------------------------------------------------ */

static int cmd_exists(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {PEA_HELP_OPTION, {}};
        int c;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_pod_exists);
                        return 0;
                }
                return pea_cli_opt_error(c, argc, argv, err);
        }
        int r = pea_cli_check_args(cli, argc - optind, 1, 1, err);
        if (r < 0)
                return r;
        struct pea_pod_row pod = {};
        r = pea_state_pod_lookup(cli->state, argv[optind], &pod, err);
        pea_pod_row_done(&pod);
        if (r == -ENOENT) {
                pea_error_clear(err);
                return 1;
        }
        return r < 0 ? r : 0;
}

/* pod inspect's object for the pod id (containers' states made truthful). */
int pea_cmd_pod_inspect_json(const struct pea_container_ctx *ctx, const char *name_or_id,
                             json_t **ret, struct pea_error **err)
{
        struct pea_pod_row pod = {};
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_pod_lookup(ctx->state, name_or_id, &pod, err);
        if (r >= 0)
                r = members(ctx, &pod, &rows, &n, err);
        if (r >= 0)
                *ret = pea_pod_inspect_json(&pod, rows, n);
        pea_container_rows_free(rows, n);
        pea_pod_row_done(&pod);
        return r;
}

static int cmd_inspect(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"format", required_argument, NULL, 'f'},
                {"latest", no_argument, NULL, 'l'},
                PEA_HELP_OPTION,
                {},
        };
        const char *format = NULL;
        bool latest = false;
        int c;
        while ((c = getopt_long(argc, argv, ":hf:l", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_pod_inspect);
                        return 0;
                }
                if (c == 'f')
                        format = optarg;
                else if (c == 'l')
                        latest = true;
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        _cleanup_strv_ char **ids = NULL;
        int r = pea_cli_check_args(cli, argc - optind, latest ? 0 : 1, -1, err);
        if (r >= 0)
                r = targets(cli, false, latest, argc - optind, argv + optind, &ids, err);
        struct pea_container_ctx ctx;
        pea_cmd_container_ctx_light(cli, &ctx);
        _cleanup_json_ json_t *a = json_array();
        STRV_FOREACH(id, ids) {
                json_t *j = NULL;
                if (r >= 0)
                        r = pea_cmd_pod_inspect_json(&ctx, *id, &j, err);
                if (r >= 0)
                        json_array_append_new(a, j);
        }
        if (r < 0)
                return r;
        json_t *data = json_array_size(a) == 1 ? json_array_get(a, 0) : a;
        if (!format || streq(format, "json"))
                return pea_json_print(stdout, data, 4) < 0 ? pea_error_set(err, EIO,
                                                                           "writing "
                                                                           "output")
                                                           : 0;
        return pea_format_print(stdout, format, a, true, NULL, 4, err);
}

static bool confirm(const char *question)
{
        printf("%s", question);
        (void)fflush(stdout);
        char line[16] = "";
        if (!fgets(line, sizeof(line), stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

static int cmd_prune(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"force", no_argument, NULL, 'f'},
                PEA_HELP_OPTION,
                {},
        };
        bool force = false;
        int c;
        while ((c = getopt_long(argc, argv, ":hf", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_pod_prune);
                        return 0;
                }
                if (c != 'f')
                        return pea_cli_opt_error(c, argc, argv, err);
                force = true;
        }
        if (!force
            && !confirm("WARNING! This will remove all stopped/exited pods..\nAre you sure "
                        "you want to continue? [y/N] "))
                return 0;
        struct pea_run_env e = {};
        _cleanup_strv_ char **ids = NULL;
        int r = pea_run_env_open(cli, &e, err);
        if (r >= 0)
                r = targets(cli, true, false, 0, NULL, &ids, err);
        struct act_opts o = {.timeout = -1};
        STRV_FOREACH(id, ids) {
                _cleanup_json_ json_t *j = NULL;
                if (r >= 0)
                        r = pea_cmd_pod_inspect_json(&e.ctx, *id, &j, err);
                const char *st = json_string_value(json_object_get(j, "State"));
                /* podman prunes the stopped and exited pods only */
                if (r < 0 || !st || !(streq(st, "Exited") || streq(st, "Stopped")))
                        continue;
                r = act_one(&e, ACT_RM, *id, &o, err);
                if (r >= 0)
                        printf("%s\n", *id);
        }
        pea_run_env_done(&e);
        return r < 0 ? r : 0;
}

/* ---- the family ---------------------------------------------------------------------------- */

#define CREATE_OPTIONS                                                                             \
        "      --add-host host:ip         Add a custom host-to-IP mapping (host:ip)\n"             \
        "      --dns strings              Set custom DNS servers\n"                                \
        "      --dns-option strings       Set custom DNS options\n"                                \
        "      --dns-search strings       Set custom DNS search domains\n"                         \
        "      --hostname string          Set container hostname\n"                                \
        "      --infra                    Create an infra container associated with the pod to "   \
        "share namespaces with (default true)\n"                                                   \
        "      --infra-command string     The command to run on the infra container when the pod " \
        "is started\n"                                                                             \
        "      --infra-image string       The image of the infra container to associate with the " \
        "pod (default: pea's built-in pause image)\n"                                              \
        "      --infra-name string        The name used as infra container name\n"                 \
        "  -l, --label stringArray        Set metadata on pod (default [])\n"                      \
        "  -n, --name string              Assign a name to the pod\n"                              \
        "      --network string           Connect a container to a network\n"                      \
        "      --no-infra                 Do not create an infra container\n"                      \
        "      --pod-id-file string       Write the pod ID to the file\n"                          \
        "  -p, --publish strings          Publish a container's port, or a range of ports, to "    \
        "the host (default [])\n"                                                                  \
        "      --replace                  If a pod with the same name exists, replace it\n"        \
        "      --share string             A comma delimited list of kernel namespaces the pod "    \
        "will share (default \"ipc,net,uts\")\n"                                                   \
        "      --userns string            User namespace to use\n"

static const struct pea_cmd pea_cmd_pod_create = {
        .name = "create",
        .fn = cmd_create,
        .flags = POD_FLAGS,
        .summary = "Create a new empty pod",
        .usage = "[options] [NAME]",
        .options = CREATE_OPTIONS,
};

#define ALL_LATEST                                                              \
        "  -a, --all                   Act on all pods\n"                       \
        "  -l, --latest                Act on the latest pod pea is aware of\n" \
        "      --pod-id-file strings   Read the pod ID from the file\n"

static const struct pea_cmd pea_cmd_pod_start = {
        .name = "start",
        .fn = cmd_start,
        .flags = POD_FLAGS,
        .summary = "Start one or more pods",
        .usage = "[options] POD [POD...]",
        .options = ALL_LATEST,
};

static const struct pea_cmd pea_cmd_pod_stop = {
        .name = "stop",
        .fn = cmd_stop,
        .flags = POD_FLAGS,
        .summary = "Stop one or more pods",
        .usage = "[options] POD [POD...]",
        .options = ALL_LATEST "  -i, --ignore                Ignore errors when a specified pod "
                              "is missing\n"
                              "  -t, --time int              Seconds to wait for pod stop before "
                              "killing the container (default 10)\n",
};

static const struct pea_cmd pea_cmd_pod_restart = {
        .name = "restart",
        .fn = cmd_restart,
        .flags = POD_FLAGS,
        .summary = "Restart one or more pods",
        .usage = "[options] POD [POD...]",
        .options = ALL_LATEST,
};

static const struct pea_cmd pea_cmd_pod_kill = {
        .name = "kill",
        .fn = cmd_kill,
        .flags = POD_FLAGS,
        .summary = "Send the specified signal or SIGKILL to containers in pod",
        .usage = "[options] POD [POD...]",
        .options = ALL_LATEST "  -s, --signal string         signal to send to the container "
                              "processes in the pod (default \"KILL\")\n",
};

static const struct pea_cmd pea_cmd_pod_rm = {
        .name = "rm",
        .fn = cmd_rm,
        .flags = POD_FLAGS,
        .summary = "Remove one or more pods",
        .usage = "[options] POD [POD...]",
        .options = ALL_LATEST "  -f, --force                 Stop running containers and delete "
                              "all stopped containers\n"
                              "  -i, --ignore                Ignore errors when a specified pod "
                              "is missing\n"
                              "  -t, --time int              Seconds to wait for pod stop before "
                              "killing the container (default 10)\n",
};

static const struct pea_cmd pea_cmd_pod_exists = {
        .name = "exists",
        .fn = cmd_exists,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_STATE,
        .summary = "Check if a pod exists in local storage",
        .usage = "POD",
};

static const struct pea_cmd pea_cmd_pod_inspect = {
        .name = "inspect",
        .fn = cmd_inspect,
        .flags = POD_FLAGS,
        .summary = "Displays a pod configuration",
        .usage = "[options] POD [POD...]",
        .options = "  -f, --format string   Format the output to a Go template or json\n"
                   "  -l, --latest          Act on the latest pod pea is aware of\n",
};

static const struct pea_cmd pea_cmd_pod_prune = {
        .name = "prune",
        .fn = cmd_prune,
        .flags = POD_FLAGS,
        .summary = "Remove all stopped pods and their containers",
        .usage = "[options]",
        .options = "  -f, --force   Do not prompt for confirmation.  The default is false\n",
};

static const struct pea_cmd *const pod_cmds[] = {
        &pea_cmd_pod_create,
        &pea_cmd_pod_exists,
        &pea_cmd_pod_inspect,
        &pea_cmd_pod_kill,
        &pea_cmd_pod_logs,
        &pea_cmd_pod_ls,
        &pea_cmd_pod_list,
        &pea_cmd_pod_pause,
        &pea_cmd_pod_prune,
        &pea_cmd_pod_ps,
        &pea_cmd_pod_restart,
        &pea_cmd_pod_rm,
        &pea_cmd_pod_start,
        &pea_cmd_pod_stop,
        &pea_cmd_pod_top,
        &pea_cmd_pod_unpause,
        NULL,
};

const struct pea_cmd pea_cmd_pod = {
        .name = "pod",
        .summary = "Manage pods",
        .sub = pod_cmds,
};
