/* SPDX-License-Identifier: Apache-2.0 */
/* pea volume: create, ls, inspect, rm, prune, exists, export, import. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "container/container.h"
#include "run.h"
#include "state/state.h"
#include "volume/volume.h"

/* The family's table, for cmd/pea.c (declared here until cmd.h lists it). */
extern const struct pea_cmd pea_cmd_volume;

/* podman prints inspect JSON with this indent. */
#define INSPECT_INDENT 5

/* Most commands write files as the user namespace's root. */
#define VOLUME_FLAGS (PEA_NEEDS_USERNS | PEA_NEEDS_STATE)

struct pea_volume_cmd_opts {
        int f_means; /* what -f is: 'F' --filter (ls), 'T' --format (inspect), else --force */
        bool all, force, quiet, no_heading, ignore;
        const char *format;
        const char *driver;
        const char *output;
        char **opts;
        char **labels;
        char **filters;
};

static void opts_done(struct pea_volume_cmd_opts *o)
{
        strv_free(o->opts);
        strv_free(o->labels);
        strv_free(o->filters);
}

static const struct option longopts[] = {
        {"all", no_argument, NULL, 'a'},
        {"driver", required_argument, NULL, 'd'},
        {"filter", required_argument, NULL, 'F'},
        {"force", no_argument, NULL, 'f'},
        {"format", required_argument, NULL, 'T'},
        {"ignore", no_argument, NULL, 'I'},
        {"label", required_argument, NULL, 'l'},
        {"noheading", no_argument, NULL, 'n'},
        {"opt", required_argument, NULL, 'o'},
        {"output", required_argument, NULL, 'O'},
        {"quiet", no_argument, NULL, 'q'},
        {"time", required_argument, NULL, 't'},
        PEA_HELP_OPTION,
        {},
};

/* Parses the flags every volume command may have (each takes those in its optstring). */
static int parse(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                 const char *optstring, struct pea_volume_cmd_opts *o, struct pea_error **err)
{
        int c;
        while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
                /* the table has every command's long flags: refuse those of others */
                if (c != '?' && c != ':' && !strchr(optstring, c))
                        return pea_error_set(err, EINVAL, "unknown flag: %s", argv[optind - 1]);
                if (c == 'f' && o->f_means)
                        c = o->f_means;
                switch (c) {
                case 'a':
                        o->all = true;
                        break;
                case 'd':
                        o->driver = optarg;
                        break;
                case 'F':
                        strv_push(&o->filters, optarg);
                        break;
                case 'f':
                        o->force = true;
                        break;
                case 'T':
                        o->format = optarg;
                        break;
                case 'I':
                        o->ignore = true;
                        break;
                case 'l':
                        strv_push(&o->labels, optarg);
                        break;
                case 'n':
                        o->no_heading = true;
                        break;
                case 'o':
                        strv_push(&o->opts, optarg);
                        break;
                case 'O':
                        o->output = optarg;
                        break;
                case 'q':
                        o->quiet = true;
                        break;
                case 't':
                        break;
                case 'h':
                        pea_cli_print_help(cli, cmd);
                        return 1;
                default:
                        return pea_cli_opt_error(c, argc, argv, err);
                }
        }
        return 0;
}

/* ---- create -------------------------------------------------------------------------------- */

static int cmd_create(struct pea_cli *cli, int argc, char **argv, struct pea_error **err);

static const struct pea_cmd pea_cmd_volume_create = {
        .name = "create",
        .fn = cmd_create,
        .flags = VOLUME_FLAGS,
        .summary = "Create a new volume",
        .usage = "[options] [NAME]",
        .options =
                "  -d, --driver string       Specify volume driver name (default \"local\")\n"
                "      --ignore              Don't fail if volume already exists\n"
                "  -l, --label stringArray   Set metadata for a volume (e.g. --label mykey=value)\n"
                "  -o, --opt stringArray     Set driver specific options (type, device, o)\n",
};

static int cmd_create(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        _cleanup_(opts_done) struct pea_volume_cmd_opts o = {0};
        int r = parse(cli, &pea_cmd_volume_create, argc, argv, ":d:l:o:hI", &o, err);
        if (r == 0)
                r = pea_cli_check_args(cli, argc - optind, 0, 1, err);
        if (r != 0)
                return r < 0 ? r : 0;
        const struct pea_volume_create_opts co = {
                .name = optind < argc ? argv[optind] : NULL,
                .driver = o.driver,
                .opts = o.opts,
                .labels = o.labels,
                .ignore = o.ignore,
        };
        _cleanup_volume_ struct pea_volume *vol = NULL;
        r = pea_volume_create(cli->state, cli->config.graph_root, &co, &vol, NULL, err);
        if (r < 0)
                return r;
        printf("%s\n", vol->row.name);
        pea_cmd_event(cli->config.run_root, "volume", "create", NULL, vol->row.name);
        return 0;
}

/* ---- ls ------------------------------------------------------------------------------------ */

static int print_list(struct pea_volume **vols, const struct pea_volume_cmd_opts *o,
                      struct pea_error **err)
{
        if (o->quiet) {
                for (struct pea_volume **v = vols; *v; v++)
                        printf("%s\n", (*v)->row.name);
                return 0;
        }
        _cleanup_json_ json_t *data = json_array();
        for (struct pea_volume **v = vols; *v; v++)
                json_array_append_new(data, pea_volume_inspect_json(*v));
        if (o->format && streq(o->format, "json")) {
                if (pea_json_print(stdout, data, 2) < 0)
                        return pea_error_syscall(err, EIO, "writing output");
                return 0;
        }
        _cleanup_json_ json_t *headers = json_pack("{s:s}", "Name", "VOLUME NAME");
        const char *format = o->format ? o->format : "table {{.Driver}}\t{{.Name}}";
        return pea_format_print_full(stdout, format, data, true, headers, o->no_heading, 2, err);
}

static int cmd_ls(struct pea_cli *cli, int argc, char **argv, struct pea_error **err);

#define LS_OPTIONS                                                                    \
        "  -f, --filter strings   Filter volume output\n"                             \
        "      --format string    Format volume output using JSON or a Go template\n" \
        "  -n, --noheading        Do not print headers\n"                             \
        "  -q, --quiet            Print volume output in quiet mode\n"

static const struct pea_cmd pea_cmd_volume_ls = {
        .name = "ls",
        .fn = cmd_ls,
        .flags = PEA_NEEDS_STATE,
        .summary = "List volumes",
        .usage = "[options]",
        .options = LS_OPTIONS,
};

static const struct pea_cmd pea_cmd_volume_list = {
        .name = "list",
        .fn = cmd_ls,
        .flags = PEA_NEEDS_STATE,
        .summary = "List volumes",
        .usage = "[options]",
        .options = LS_OPTIONS,
        .hidden = true,
};

static int cmd_ls(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        _cleanup_(opts_done) struct pea_volume_cmd_opts o = {.f_means = 'F'};
        int r = parse(cli, &pea_cmd_volume_ls, argc, argv, ":f:nqhF:T:", &o, err);
        if (r == 0)
                r = pea_cli_check_args(cli, argc - optind, 0, 0, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct pea_volume **vols = NULL;
        r = pea_volume_list(cli->state, o.filters, &vols, NULL, err);
        if (r < 0)
                return r;
        r = print_list(vols, &o, err);
        pea_volumes_free(vols);
        return r;
}

/* ---- inspect ------------------------------------------------------------------------------- */

static int cmd_inspect(struct pea_cli *cli, int argc, char **argv, struct pea_error **err);

static const struct pea_cmd pea_cmd_volume_inspect = {
        .name = "inspect",
        .fn = cmd_inspect,
        .flags = PEA_NEEDS_STATE,
        .summary = "Display detailed information on one or more volumes",
        .usage = "[options] VOLUME [VOLUME...]",
        .options = "  -a, --all             Inspect all volumes\n"
                   "  -f, --format string   Format volume output using JSON or a Go template "
                   "(default \"json\")\n",
};

/* Appends the named volumes to a; the first missing one goes to err. */
static int collect(struct pea_state *s, char **names, int n, json_t *a, struct pea_error **err)
{
        int ret = 0;
        for (int i = 0; i < n; i++) {
                _cleanup_volume_ struct pea_volume *vol = NULL;
                _cleanup_error_ struct pea_error *e = NULL;
                int r = pea_volume_lookup(s, names[i], &vol, &e);
                if (r == -ENOENT && ret == 0) {
                        ret = pea_error_set(err, ENOENT, "inspecting object: no such volume %s",
                                            names[i]);
                        continue;
                }
                if (r < 0 && ret == 0) {
                        *err = TAKE_PTR(e);
                        ret = r;
                }
                if (r >= 0)
                        json_array_append_new(a, pea_volume_inspect_json(vol));
        }
        return ret;
}

static int print_inspect(json_t *a, const char *format, struct pea_error **err)
{
        if (!format || streq(format, "json")) {
                if (pea_json_print(stdout, a, INSPECT_INDENT) < 0)
                        return pea_error_syscall(err, EIO, "writing output");
                return 0;
        }
        return pea_format_print(stdout, format, a, true, NULL, INSPECT_INDENT, err);
}

static int inspect_all(struct pea_state *s, json_t *a, struct pea_error **err)
{
        struct pea_volume **vols = NULL;
        int r = pea_volume_list(s, NULL, &vols, NULL, err);
        if (r < 0)
                return r;
        for (struct pea_volume **v = vols; *v; v++)
                json_array_append_new(a, pea_volume_inspect_json(*v));
        pea_volumes_free(vols);
        return 0;
}

static int cmd_inspect(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        _cleanup_(opts_done) struct pea_volume_cmd_opts o = {.f_means = 'T'};
        int r = parse(cli, &pea_cmd_volume_inspect, argc, argv, ":af:hT:", &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!o.all && argc - optind < 1)
                return pea_error_set(err, EINVAL, "provide one or more volume names or use --all");
        if (o.all && argc - optind > 0)
                return pea_error_set(err, EINVAL,
                                     "when using the --all switch, you may not pass any volume "
                                     "names or IDs");
        _cleanup_json_ json_t *a = json_array();
        _cleanup_error_ struct pea_error *missing = NULL;
        int rm = 0;
        if (o.all)
                r = inspect_all(cli->state, a, err);
        else
                rm = collect(cli->state, argv + optind, argc - optind, a, &missing);
        if (r < 0)
                return r;
        if (rm != -ENOENT || json_array_size(a) > 0)
                r = print_inspect(a, o.format, err);
        if (r >= 0 && rm < 0) {
                *err = TAKE_PTR(missing);
                return rm;
        }
        return r;
}

/* ---- rm ------------------------------------------------------------------------------------ */

static int cmd_rm(struct pea_cli *cli, int argc, char **argv, struct pea_error **err);

#define RM_OPTIONS                                                                      \
        "  -a, --all          Remove all volumes\n"                                     \
        "  -f, --force        Remove a volume by force, even if it is being used by a " \
        "container\n"                                                                   \
        "  -t, --time int     Seconds to wait before forcibly stopping running containers\n"

static const struct pea_cmd pea_cmd_volume_rm = {
        .name = "rm",
        .fn = cmd_rm,
        .flags = VOLUME_FLAGS,
        .summary = "Remove one or more volumes",
        .usage = "[options] VOLUME [VOLUME...]",
        .options = RM_OPTIONS,
};

static const struct pea_cmd pea_cmd_volume_remove = {
        .name = "remove",
        .fn = cmd_rm,
        .flags = VOLUME_FLAGS,
        .summary = "Remove one or more volumes",
        .usage = "[options] VOLUME [VOLUME...]",
        .options = RM_OPTIONS,
        .hidden = true,
};

/* What --force needs to remove the containers using a volume (opened on first use). */
struct rm_ctx {
        struct pea_cli *cli;
        struct pea_run_env env;
        bool opened;
};

/* --force on a volume in use: podman stops and removes the containers first. */
static int rm_user(void *userdata, const char *id, struct pea_error **err)
{
        struct rm_ctx *c = userdata;
        int r = 0;
        if (!c->opened) {
                r = pea_run_env_open(c->cli, &c->env, err);
                if (r < 0)
                        return r;
                c->opened = true;
        }
        struct pea_container_row row = {};
        r = pea_cmd_container_get(&c->env.ctx, id, &row, err);
        bool running = r >= 0 && streq(row.state, "running");
        pea_container_row_done(&row);
        if (r >= 0 && running)
                r = pea_cmd_container_stop(&c->env.ctx, id, SIGKILL, 0, err);
        if (r >= 0)
                r = pea_container_remove_with_volumes(&c->env.ctx, id, true, false, err);
        return r;
}

/* podman's exit codes: 1 when a volume did not exist, 2 when one was in use. */
static int rm_exit_code(int r)
{
        return r == -ENOENT ? 1 : r == -EBUSY ? 2 : 125;
}

/* Removes each; reports every failure but the last on stderr, returns the last. */
static int rm_names(struct rm_ctx *c, char *const *names, bool force, struct pea_error **err)
{
        struct pea_state *s = c->cli->state;
        int ret = 0;
        STRV_FOREACH(n, (char **)names) {
                struct pea_volume_rm_opts ro = {
                        .force = force, .remove_container = rm_user, .userdata = c};
                _cleanup_error_ struct pea_error *e = NULL;
                int r = pea_volume_remove(s, *n, &ro, &e);
                if (r >= 0) {
                        printf("%s\n", *n);
                        pea_cmd_event(c->cli->config.run_root, "volume", "remove", NULL, *n);
                        continue;
                }
                if (*err) {
                        fprintf(stderr, "Error: %s\n", (*err)->msg);
                        pea_error_clear(err);
                }
                *err = TAKE_PTR(e);
                ret = r;
                pea_cli_exit_code = rm_exit_code(r);
        }
        return ret;
}

static int cmd_rm(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        _cleanup_(opts_done) struct pea_volume_cmd_opts o = {0};
        int r = parse(cli, &pea_cmd_volume_rm, argc, argv, ":aft:h", &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!o.all && argc - optind < 1)
                return pea_error_set(err, EINVAL, "choose either one or more volumes or all");
        if (o.all && argc - optind > 0)
                return pea_error_set(err, EINVAL, "choose either one or more volumes or all");
        _cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
        for (int i = optind; i < argc; i++)
                strv_push(&names, argv[i]);
        if (o.all) {
                struct pea_volume **vols = NULL;
                r = pea_volume_list(cli->state, NULL, &vols, NULL, err);
                if (r < 0)
                        return r;
                for (struct pea_volume **v = vols; *v; v++)
                        strv_push(&names, (*v)->row.name);
                pea_volumes_free(vols);
        }
        struct rm_ctx c = {.cli = cli};
        r = rm_names(&c, names, o.force, err);
        if (c.opened)
                pea_run_env_done(&c.env);
        return r;
}

/* ---- prune --------------------------------------------------------------------------------- */

static int cmd_prune(struct pea_cli *cli, int argc, char **argv, struct pea_error **err);

static const struct pea_cmd pea_cmd_volume_prune = {
        .name = "prune",
        .fn = cmd_prune,
        .flags = VOLUME_FLAGS,
        .summary = "Remove all unused volumes",
        .usage = "[options]",
        .options =
                "      --filter stringArray   Provide filter values (e.g. 'label=<key>=<value>')\n"
                "  -f, --force                Do not prompt for confirmation\n",
};

/* podman's prompt; true when the answer is yes. */
static bool confirm(struct pea_state *s, char *const *filters)
{
        struct pea_volume **vols = NULL;
        _cleanup_strv_ char **f = xcalloc(1, sizeof(char *));
        STRV_FOREACH(x, (char **)filters)
                strv_push(&f, *x);
        strv_push(&f, "dangling=true");
        printf("WARNING! This will remove all volumes not used by at least one container. The "
               "following volumes will be removed:\n");
        if (pea_volume_list(s, f, &vols, NULL, NULL) >= 0)
                for (struct pea_volume **v = vols; *v; v++)
                        printf("%s\n", (*v)->row.name);
        pea_volumes_free(vols);
        printf("Are you sure you want to continue? [y/N] ");
        fflush(stdout);
        char line[64] = "";
        if (!fgets(line, sizeof(line), stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

static int cmd_prune(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        _cleanup_(opts_done) struct pea_volume_cmd_opts o = {0};
        int r = parse(cli, &pea_cmd_volume_prune, argc, argv, ":fhF:", &o, err);
        if (r == 0)
                r = pea_cli_check_args(cli, argc - optind, 0, 0, err);
        if (r == 0)
                r = pea_volume_filters_check(o.filters, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!o.force && !confirm(cli->state, o.filters))
                return 0;
        _cleanup_strv_ char **removed = NULL;
        r = pea_volume_prune(cli->state, o.filters, &removed, err);
        if (r < 0)
                return r;
        STRV_FOREACH(n, removed)
                printf("%s\n", *n);
        STRV_FOREACH(n, removed)
                pea_cmd_event(cli->config.run_root, "volume", "remove", NULL, *n);
        return 0;
}

/* ---- exists -------------------------------------------------------------------------------- */

static int cmd_exists(struct pea_cli *cli, int argc, char **argv, struct pea_error **err);

static const struct pea_cmd pea_cmd_volume_exists = {
        .name = "exists",
        .fn = cmd_exists,
        .flags = PEA_NEEDS_STATE,
        .summary = "Check if volume exists",
        .usage = "VOLUME",
};

static int cmd_exists(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        _cleanup_(opts_done) struct pea_volume_cmd_opts o = {0};
        int r = parse(cli, &pea_cmd_volume_exists, argc, argv, ":h", &o, err);
        if (r == 0)
                r = pea_cli_check_args(cli, argc - optind, 1, 1, err);
        if (r != 0)
                return r < 0 ? r : 0;
        r = pea_volume_exists(cli->state, argv[optind], err);
        if (r < 0)
                return r;
        return r > 0 ? 0 : 1;
}

/* ---- export / import ----------------------------------------------------------------------- */

static int cmd_export(struct pea_cli *cli, int argc, char **argv, struct pea_error **err);

static const struct pea_cmd pea_cmd_volume_export = {
        .name = "export",
        .fn = cmd_export,
        .flags = VOLUME_FLAGS,
        .summary = "Export volumes",
        .usage = "[options] VOLUME",
        .options = "  -o, --output string   Write to a specified file (default: stdout, which must "
                   "be redirected)\n",
};

static int lookup_volume(struct pea_state *s, const char *name, struct pea_volume **ret,
                         struct pea_error **err)
{
        _cleanup_error_ struct pea_error *e = NULL;
        int r = pea_volume_lookup(s, name, ret, &e);
        if (r == -ENOENT)
                return pea_error_set(err, ENOENT, "no such volume %s", name);
        if (r < 0)
                *err = TAKE_PTR(e);
        return r;
}

static int cmd_export(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        _cleanup_(opts_done) struct pea_volume_cmd_opts o = {0};
        int r = parse(cli, &pea_cmd_volume_export, argc, argv, ":o:hO:", &o, err);
        if (r == 0)
                r = pea_cli_check_args(cli, argc - optind, 1, 1, err);
        if (r != 0)
                return r < 0 ? r : 0;
        /* -o is --output here */
        const char *out = o.output ? o.output : o.opts ? o.opts[strv_length(o.opts) - 1] : NULL;
        _cleanup_volume_ struct pea_volume *vol = NULL;
        r = lookup_volume(cli->state, argv[optind], &vol, err);
        if (r < 0)
                return r;
        if (!out && isatty(STDOUT_FILENO))
                return pea_error_set(err, EINVAL,
                                     "cannot write to terminal, use command-line redirection or "
                                     "the --output flag");
        _cleanup_close_ int fd = -EBADF;
        if (out) {
                fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0)
                        return pea_error_syscall(err, errno, "creating '%s'", out);
        }
        fflush(stdout);
        return pea_volume_export(vol, out ? fd : STDOUT_FILENO, err);
}

static int cmd_import(struct pea_cli *cli, int argc, char **argv, struct pea_error **err);

static const struct pea_cmd pea_cmd_volume_import = {
        .name = "import",
        .fn = cmd_import,
        .flags = VOLUME_FLAGS,
        .summary = "Import a tarball contents into a volume",
        .usage = "VOLUME [SOURCE]",
};

static int cmd_import(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        _cleanup_(opts_done) struct pea_volume_cmd_opts o = {0};
        int r = parse(cli, &pea_cmd_volume_import, argc, argv, ":h", &o, err);
        if (r == 0)
                r = pea_cli_check_args(cli, argc - optind, 2, 2, err);
        if (r != 0)
                return r < 0 ? r : 0;
        _cleanup_volume_ struct pea_volume *vol = NULL;
        r = lookup_volume(cli->state, argv[optind], &vol, err);
        if (r < 0)
                return r;
        const char *src = argv[optind + 1];
        _cleanup_close_ int fd = -EBADF;
        if (!streq(src, "-")) {
                fd = open(src, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return pea_error_syscall(err, errno, "opening '%s'", src);
        }
        return pea_volume_import(vol, streq(src, "-") ? STDIN_FILENO : fd, err);
}

/* ---- the family ---------------------------------------------------------------------------- */

static const struct pea_cmd *const volume_cmds[] = {
        &pea_cmd_volume_create,
        &pea_cmd_volume_exists,
        &pea_cmd_volume_export,
        &pea_cmd_volume_import,
        &pea_cmd_volume_inspect,
        &pea_cmd_volume_ls,
        &pea_cmd_volume_list,
        &pea_cmd_volume_prune,
        &pea_cmd_volume_remove,
        &pea_cmd_volume_rm,
        NULL,
};

const struct pea_cmd pea_cmd_volume = {
        .name = "volume",
        .summary = "Manage volumes",
        .sub = volume_cmds,
};
