/* SPDX-License-Identifier: Apache-2.0 */
/* pea container: the group of container commands, plus exists, prune and their shared helpers. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "events/events.h"
#include "run.h"
#include "state/state.h"
#include "units.h"

void pea_cmd_container_ctx_light(struct pea_cli *cli, struct pea_container_ctx *ctx)
{
        *ctx = (struct pea_container_ctx){
                .state = cli->state,
                .graph_root = cli->config.graph_root,
                .run_root = cli->config.run_root,
                .rootless = cli->config.rootless,
        };
}

int pea_cmd_container_targets(const struct pea_container_ctx *ctx, bool latest, int argc,
                              char **argv, char ***ret, struct pea_error **err)
{
        char **l = xcalloc(1, sizeof(char *));
        for (int i = 0; !latest && i < argc; i++)
                strv_push(&l, argv[i]);
        if (latest) {
                struct pea_container_row *rows = NULL;
                size_t n = 0;
                int r = pea_state_container_list(ctx->state, NULL, &rows, &n, err);
                if (r < 0) {
                        strv_free(l);
                        return r;
                }
                if (n > 0)
                        strv_push(&l, rows[n - 1].id);
                pea_container_rows_free(rows, n);
                if (n == 0) {
                        strv_free(l);
                        return pea_error_set(err, ENOENT, "no containers to act on");
                }
        }
        *ret = l;
        return 0;
}

int pea_cmd_container_remove(const struct pea_container_ctx *ctx, const char *id, bool force,
                             bool volumes, struct pea_error **err)
{
        struct pea_container_row row = {};
        bool have = pea_state_container_get_by_id(ctx->state, id, &row, NULL) >= 0;
        int r = pea_container_remove_with_volumes(ctx, id, force, volumes, err);
        if (r >= 0 && have)
                pea_cmd_event_container(ctx->run_root, &row, "remove");
        pea_container_row_done(&row);
        return r;
}

/* ---- exists ------------------------------------------------------------------------------- */

static int cmd_exists(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"external", no_argument, NULL, 'e'},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_container_exists);
                        return 0;
                }
                if (c != 'e')
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        int r = pea_cli_check_args(cli, argc - optind, 1, 1, err);
        if (r < 0)
                return r;
        struct pea_container_row row = {};
        _cleanup_error_ struct pea_error *e = NULL;
        r = pea_state_container_lookup(cli->state, argv[optind], &row, &e);
        pea_container_row_done(&row);
        if (r == -ENOENT)
                return 1;
        if (r < 0)
                *err = TAKE_PTR(e);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_container_exists = {
        .name = "exists",
        .fn = cmd_exists,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE,
        .summary = "Check if a container exists in local storage",
        .usage = "[options] CONTAINER",
        .options = "      --external   Check external storage containers as well as pea "
                   "containers\n",
};

/* ---- prune -------------------------------------------------------------------------------- */

struct prune_opts {
        bool force;
        char **filters; /* label=K[=V], label!=K[=V], until=TIME */
};

static bool label_match(json_t *labels, const char *v)
{
        _cleanup_free_ char *k = xstrdup(v);
        char *eq = strchr(k, '=');
        if (eq)
                *eq++ = '\0';
        const char *have = json_string_value(json_object_get(labels, k));
        return have && (!eq || streq(have, eq));
}

static int prune_match(const struct pea_container_row *row, char **filters, struct pea_error **err)
{
        json_t *labels = json_object_get(row->config, "labels");
        STRV_FOREACH(f, filters) {
                const char *v;
                int64_t t = 0;
                if ((v = startswith(*f, "label="))) {
                        if (!label_match(labels, v))
                                return 0;
                } else if ((v = startswith(*f, "label!="))) {
                        if (label_match(labels, v))
                                return 0;
                } else if ((v = startswith(*f, "until="))) {
                        int r = pea_event_parse_time(v, pea_now_ns(), &t, err);
                        if (r < 0)
                                return r;
                        if (row->created >= t)
                                return 0;
                } else {
                        return pea_error_set(err, EINVAL, "%s is an invalid filter", *f);
                }
        }
        return 1;
}

static bool confirm(void)
{
        printf("WARNING! This will remove all non running containers.\n"
               "Are you sure you want to continue? [y/N] ");
        fflush(stdout);
        char line[64] = "";
        if (!fgets(line, sizeof(line), stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

static int prune_parse(struct pea_cli *cli, int argc, char **argv, struct prune_opts *o,
                       struct pea_error **err)
{
        static const struct option longopts[] = {
                {"force", no_argument, NULL, 'f'},
                {"filter", required_argument, NULL, 'F'},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":fh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_container_prune);
                        return 1;
                }
                if (c == 'f')
                        o->force = true;
                else if (c == 'F')
                        strv_push(&o->filters, optarg);
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        int r = pea_cli_check_args(cli, argc - optind, 0, 0, err);
        /* the filters are checked before anything is removed, on a dummy row */
        struct pea_container_row dummy = {.config = NULL};
        return r < 0 ? r : prune_match(&dummy, o->filters, err) < 0 ? -EINVAL : 0;
}

/* The IDs of the containers to prune: not running, not paused, matching the filters. */
static int prune_targets(struct pea_container_ctx *ctx, char **filters, char ***ret,
                         struct pea_error **err)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_container_list(ctx->state, NULL, &rows, &n, err);
        if (r < 0)
                return r;
        char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = pea_cmd_container_sync(ctx, &rows[i], err);
                if (r < 0 || streq(rows[i].state, "running") || streq(rows[i].state, "paused"))
                        continue;
                r = prune_match(&rows[i], filters, err);
                if (r > 0)
                        strv_push(&l, rows[i].id);
        }
        pea_container_rows_free(rows, n);
        if (r < 0) {
                strv_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

static int cmd_prune(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct prune_opts o = {.filters = xcalloc(1, sizeof(char *))};
        int r = prune_parse(cli, argc, argv, &o, err);
        if (r == 0 && !o.force && !confirm())
                r = 1;
        struct pea_run_env e = {};
        if (r == 0)
                r = pea_run_env_open(cli, &e, err);
        _cleanup_strv_ char **ids = NULL;
        if (r == 0)
                r = prune_targets(&e.ctx, o.filters, &ids, err);
        int failed = 0;
        STRV_FOREACH(id, ids) {
                _cleanup_error_ struct pea_error *e1 = NULL;
                if (pea_cmd_container_remove(&e.ctx, *id, false, false, &e1) < 0) {
                        fprintf(stderr, "Error: %s\n", e1->msg);
                        failed++;
                } else {
                        printf("%s\n", *id);
                }
        }
        pea_run_env_done(&e);
        strv_free(o.filters);
        if (r < 0)
                return r;
        return failed ? 125 : 0;
}

const struct pea_cmd pea_cmd_container_prune = {
        .name = "prune",
        .fn = cmd_prune,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Remove all non running containers",
        .usage = "[options]",
        .options = "      --filter stringArray   Provide filter values (e.g. "
                   "'label=<key>=<value>')\n"
                   "  -f, --force                Do not prompt for confirmation.  The default "
                   "is false\n",
};

/* ---- the group ---------------------------------------------------------------------------- */

static int cmd_list(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return pea_cmd_ps.fn(cli, argc, argv, err);
}

static void ps_options(void)
{
        printf("%s", pea_cmd_ps.options);
}

static const struct pea_cmd pea_cmd_container_ls = {
        .name = "ls",
        .fn = cmd_list,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "List containers",
        .usage = "[options]",
        .print_options = ps_options,
};

static const struct pea_cmd pea_cmd_container_list = {
        .name = "list",
        .fn = cmd_list,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "List containers",
        .usage = "[options]",
        .print_options = ps_options,
};

/* Alphabetical, as --help lists them. */
static const struct pea_cmd *const container_cmds[] = {
        &pea_cmd_attach,
        &pea_cmd_commit,
        &pea_cmd_cp,
        &pea_cmd_create,
        &pea_cmd_diff,
        &pea_cmd_exec,
        &pea_cmd_container_exists,
        &pea_cmd_export,
        &pea_cmd_container_inspect,
        &pea_cmd_kill,
        &pea_cmd_container_list,
        &pea_cmd_logs,
        &pea_cmd_container_ls,
        &pea_cmd_pause,
        &pea_cmd_port,
        &pea_cmd_container_prune,
        &pea_cmd_ps,
        &pea_cmd_rename,
        &pea_cmd_restart,
        &pea_cmd_rm,
        &pea_cmd_run,
        &pea_cmd_start,
        &pea_cmd_stop,
        &pea_cmd_top,
        &pea_cmd_unpause,
        &pea_cmd_wait,
        NULL,
};

const struct pea_cmd pea_cmd_container = {
        .name = "container",
        .summary = "Manage containers",
        .sub = container_cmds,
};
