/* SPDX-License-Identifier: Apache-2.0 */
/* pea generate systemd: units for a container or a pod, as podman 4 writes them. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "fs.h"
#include "generate.h"
#include "run.h"
#include "state/state.h"

struct gen {
        struct pea_cli *cli;
        struct pea_gen_opts o;
        const char *format; /* --format json */
        char *exe;
        char **globals; /* our --root, --runroot, --storage-driver */
        char *date;
        json_t *units; /* [[name, text], ...] in order */
};

enum {
        OPT_AFTER = 0x100,
        OPT_CPREFIX,
        OPT_FORMAT,
        OPT_NEW,
        OPT_NO_HEADER,
        OPT_PPREFIX,
        OPT_REQUIRES,
        OPT_RESTART_POLICY,
        OPT_RESTART_SEC,
        OPT_SEPARATOR,
        OPT_START_TIMEOUT,
        OPT_STOP_TIMEOUT,
        OPT_TEMPLATE,
        OPT_WANTS,
};

static const struct option longopts[] = {
        {"after", required_argument, NULL, OPT_AFTER},
        {"container-prefix", required_argument, NULL, OPT_CPREFIX},
        {"env", required_argument, NULL, 'e'},
        {"files", no_argument, NULL, 'f'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"name", no_argument, NULL, 'n'},
        {"new", no_argument, NULL, OPT_NEW},
        {"no-header", no_argument, NULL, OPT_NO_HEADER},
        {"pod-prefix", required_argument, NULL, OPT_PPREFIX},
        {"requires", required_argument, NULL, OPT_REQUIRES},
        {"restart-policy", required_argument, NULL, OPT_RESTART_POLICY},
        {"restart-sec", required_argument, NULL, OPT_RESTART_SEC},
        {"separator", required_argument, NULL, OPT_SEPARATOR},
        {"start-timeout", required_argument, NULL, OPT_START_TIMEOUT},
        {"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
        {"time", required_argument, NULL, 't'},
        {"template", no_argument, NULL, OPT_TEMPLATE},
        {"wants", required_argument, NULL, OPT_WANTS},
        PEA_HELP_OPTION,
        {},
};

static int parse_uint(const char *flag, const char *v, long *ret, struct pea_error **err)
{
        long long n = 0;
        if (safe_atoll(v, &n) < 0 || n < 0 || n > 0x7fffffff)
                return pea_error_set(err, EINVAL, "invalid argument \"%s\" for \"%s\" flag", v,
                                     flag);
        *ret = (long)n;
        return 0;
}

static int set_opt(struct gen *g, int c, const char *v, struct pea_error **err)
{
        struct pea_gen_opts *o = &g->o;
        switch (c) {
        case OPT_AFTER:
                strv_push(&o->after, v);
                return 0;
        case OPT_WANTS:
                strv_push(&o->wants, v);
                return 0;
        case OPT_REQUIRES:
                strv_push(&o->requires, v);
                return 0;
        case 'e':
                strv_push(&o->env, v);
                return 0;
        case OPT_CPREFIX:
                o->container_prefix = v;
                return 0;
        case OPT_PPREFIX:
                o->pod_prefix = v;
                return 0;
        case OPT_SEPARATOR:
                o->separator = v;
                return 0;
        case OPT_FORMAT:
                g->format = v;
                return 0;
        case OPT_RESTART_POLICY:
                o->restart_policy = v;
                return 0;
        case OPT_RESTART_SEC:
                return parse_uint("--restart-sec", v, &o->restart_sec, err);
        case OPT_START_TIMEOUT:
                return parse_uint("--start-timeout", v, &o->start_timeout, err);
        case 't':
        case OPT_STOP_TIMEOUT:
                return parse_uint("--stop-timeout", v, &o->stop_timeout, err);
        default:
                return -ENOENT;
        }
}

static int set_bool(struct gen *g, int c)
{
        bool *b = c == 'f'             ? &g->o.files
                  : c == 'n'           ? &g->o.use_name
                  : c == OPT_NEW       ? &g->o.new_unit
                  : c == OPT_NO_HEADER ? &g->o.no_header
                  : c == OPT_TEMPLATE  ? &g->o.template_unit
                                       : NULL;
        if (!b)
                return -ENOENT;
        *b = true;
        return 0;
}

static int check(const struct gen *g, struct pea_error **err)
{
        const struct pea_gen_opts *o = &g->o;
        if (o->restart_policy && !pea_gen_restart_valid(o->restart_policy))
                return pea_error_set(err, EINVAL, "%s is not a valid restart policy",
                                     o->restart_policy);
        if (g->format && !streq(g->format, "json"))
                return pea_error_set(err, EINVAL, "unsupported format '%s': only json is supported",
                                     g->format);
        if (o->template_unit && !o->new_unit)
                return pea_error_set(err, EINVAL, "--template cannot be set without --new");
        return 0;
}

static int parse(struct gen *g, int argc, char **argv, struct pea_error **err)
{
        int c;
        while ((c = getopt_long(argc, argv, ":hfne:t:", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(g->cli, &pea_cmd_generate_systemd);
                        return 1;
                }
                int r = set_bool(g, c);
                if (r == -ENOENT)
                        r = set_opt(g, c, optarg, err);
                if (r == -ENOENT)
                        return pea_cli_opt_error(c, argc, argv, err);
                if (r < 0)
                        return r;
        }
        int r = check(g, err);
        if (r < 0)
                return r;
        return pea_cli_check_args(g->cli, argc - optind, 1, 1, err);
}

/* The absolute path of this pea, for the Exec lines. */
static char *self_exe(void)
{
        char *p = realpath("/proc/self/exe", NULL);
        if (!p)
                p = pea_find_executable("pea");
        return p ? p : xstrdup("/usr/bin/pea");
}

/* Our global flags (the store looked in), for the unit's commands. */
static char **global_flags(const struct pea_cli *cli)
{
        _cleanup_strv_ char **l = pea_cmd_create_command(cli, 0, NULL);
        char **rest = NULL;
        STRV_FOREACH(a, l + 1)
                strv_push(&rest, *a);
        return rest;
}

/* podman's time.UnixDate. */
static char *now_string(void)
{
        time_t t = time(NULL);
        struct tm tm;
        char buf[64];
        if (!localtime_r(&t, &tm)
            || strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Z %Y", &tm) == 0)
                return NULL;
        return xstrdup(buf);
}

/* The run root as the unit sees it: %t is the runtime dir of the unit's manager. */
static char *unit_run_root(const struct pea_cli *cli)
{
        const char *rr = cli->config.run_root;
        const char *base = cli->config.rootless ? getenv("XDG_RUNTIME_DIR") : "/run";
        const char *rest = base && *base ? startswith(rr, base) : NULL;
        if (rest && (*rest == '/' || !*rest))
                return xasprintf("%%t%s", rest);
        return xstrdup(rr);
}

static char **json_strv(json_t *a)
{
        char **l = NULL;
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
                strv_push(&l, json_string_value(v) ? json_string_value(v) : "");
        }
        return l;
}

/* The container's create command, parsed as run/create parse it. */
static int parse_cmdline(struct gen *g, const struct pea_container_row *row,
                         struct pea_gen_cmdline *c, struct pea_error **err)
{
        json_t *cc = json_object_get(row->config, "create_command");
        if (!json_is_array(cc) || json_array_size(cc) < 3)
                return pea_error_set(err, ENOTSUP,
                                     "container '%s' has no create command: --new needs a "
                                     "container created with pea run or pea create",
                                     row->name);
        c->argv = json_strv(cc);
        c->cmd_index = pea_gen_command_index(c->argv);
        size_t n = strv_length(c->argv);
        if (c->cmd_index >= n)
                return pea_error_set(err, EBADMSG, "container '%s': malformed create command",
                                     row->name);
        struct pea_run_opts o = {};
        int saved = optind;
        optind = 0;
        int r = pea_run_parse(g->cli, &pea_cmd_create, (int)(n - c->cmd_index),
                              c->argv + c->cmd_index, &o, err);
        optind = saved;
        for (size_t i = c->cmd_index; r == 0 && c->argv[i]; i++)
                if (c->argv[i] == o.image)
                        c->image_index = i;
        c->detach = o.detach;
        c->name = o.name != NULL;
        c->replace = o.replace;
        c->sdnotify = o.sdnotify != NULL;
        pea_run_opts_done(&o);
        if (r != 0 || c->image_index == 0)
                return r < 0 ? pea_error_wrap(err, "parsing the create command of '%s'", row->name)
                             : pea_error_set(err, EBADMSG,
                                             "container '%s': no image in its "
                                             "create command",
                                             row->name);
        return 0;
}

static void add_unit(struct gen *g, const char *name, char *text)
{
        json_array_append_new(g->units, json_pack("[s,s%]", name, text, strlen(text)));
        free(text);
}

static int gen_container(struct gen *g, const struct pea_container_row *row, const char *pod_unit,
                         const char *pod_id_file, char **ret_unit_name, struct pea_error **err)
{
        const char *restart = json_string_value(json_object_get(row->config, "restart_policy"));
        _cleanup_free_ char *rr =
                g->o.new_unit ? unit_run_root(g->cli) : xstrdup(g->cli->config.run_root);
        struct pea_gen_ctr c = {
                .id = row->id,
                .name = g->o.use_name ? row->name : row->id,
                .exe = g->exe,
                .globals = g->globals,
                .run_root = rr,
                .stop_timeout = pea_cmd_container_stop_timeout(row->config),
                .restart = restart,
                .pod_unit = pod_unit,
        };
        struct pea_gen_cmdline cl = {.pod_id_file = pod_id_file};
        _cleanup_strv_ char **globals = NULL;
        if (g->o.new_unit) {
                int r = parse_cmdline(g, row, &cl, err);
                if (r < 0) {
                        strv_free(cl.argv);
                        return r;
                }
                c.run_argv = pea_gen_new_argv(&cl, g->exe, g->o.template_unit);
                /* ExecStop and ExecStopPost use the store ExecStart uses */
                for (size_t i = 1; i < cl.cmd_index; i++)
                        strv_push(&globals, cl.argv[i]);
                c.globals = globals;
                strv_free(cl.argv);
        }
        _cleanup_free_ char *unit = pea_gen_unit_name(&g->o, false, c.name, g->o.template_unit);
        add_unit(g, unit, pea_gen_container_unit(&g->o, &c, unit, g->date));
        strv_free(c.run_argv);
        if (ret_unit_name)
                *ret_unit_name = TAKE_PTR(unit);
        return 0;
}

/* --files: writes each unit into the current directory; the paths replace the texts. */
static int write_files(struct gen *g, struct pea_error **err)
{
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        if (!cwd)
                return pea_error_syscall(err, errno, "getting the current directory");
        size_t i;
        json_t *u;
        json_array_foreach(g->units, i, u) {
                const char *name = json_string_value(json_array_get(u, 0));
                const char *text = json_string_value(json_array_get(u, 1));
                int r = pea_write_file_atomic_at(AT_FDCWD, name, text, strlen(text), 0644, err);
                if (r < 0)
                        return pea_error_wrap(err, "writing unit '%s'", name);
                json_array_set_new(u, 1, json_sprintf("%s/%s", cwd, name));
        }
        return 0;
}

static int output(struct gen *g, struct pea_error **err)
{
        int r = g->o.files ? write_files(g, err) : 0;
        if (r < 0)
                return r;
        _cleanup_json_ json_t *obj = json_object();
        size_t i;
        json_t *u;
        json_array_foreach(g->units, i, u) {
                const char *name = json_string_value(json_array_get(u, 0));
                const char *text = json_string_value(json_array_get(u, 1));
                _cleanup_free_ char *key = xstrndup(name, strlen(name) - strlen(".service"));
                json_object_set(obj, key, json_array_get(u, 1));
                if (!g->format)
                        printf(g->o.files ? "%s\n" : "%s", text);
                if (!g->format && !g->o.files && i + 1 < json_array_size(g->units))
                        putchar('\n');
        }
        if (g->format) {
                _cleanup_free_ char *s = json_dumps(obj, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
                printf("%s\n", s);
        }
        return 0;
}

/* The member units of a pod (not its infra), each added; their names in *ret_units. */
static int gen_members(struct gen *g, const struct pea_pod_row *pod, const char *pod_unit,
                       const char *pod_id_file, char ***ret_units, struct pea_error **err)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_container_list(g->cli->state, pod->id, &rows, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (pod->infra_id && streq(rows[i].id, pod->infra_id))
                        continue;
                char *unit = NULL;
                r = gen_container(g, &rows[i], pod_unit, pod_id_file, &unit, err);
                if (r >= 0)
                        strv_consume(ret_units, unit);
        }
        pea_container_rows_free(rows, n);
        return r;
}

static int gen_pod(struct gen *g, const struct pea_pod_row *row, struct pea_error **err)
{
        if (g->o.template_unit)
                return pea_error_set(err, EINVAL, "--template is not supported for pods");
        const char *name = g->o.use_name ? row->name : row->id;
        _cleanup_free_ char *unit = pea_gen_unit_name(&g->o, true, name, false);
        _cleanup_free_ char *base = xstrndup(unit, strlen(unit) - strlen(".service"));
        _cleanup_free_ char *id_file = xasprintf("%%t/%s.pod-id", base);
        _cleanup_free_ char *rr =
                g->o.new_unit ? unit_run_root(g->cli) : xstrdup(g->cli->config.run_root);
        _cleanup_json_ json_t *members_units = json_array();
        _cleanup_strv_ char **members = NULL;
        /* the pod's unit comes first: members are added after it */
        json_t *all = g->units;
        g->units = members_units;
        int r = gen_members(g, row, unit, g->o.new_unit ? id_file : NULL, &members, err);
        g->units = all;
        if (r < 0)
                return r;
        _cleanup_strv_ char **cmd = json_strv(json_object_get(row->config, "create_command"));
        if (g->o.new_unit && strv_length(cmd) < 2)
                return pea_error_set(err, ENOTSUP,
                                     "pod '%s' has no create command: --new needs a pod created "
                                     "with pea pod create",
                                     row->name);
        struct pea_gen_pod p = {
                .id = row->id,
                .name = name,
                .exe = g->exe,
                .globals = g->globals,
                .run_root = rr,
                .pod_id_file = id_file,
                .create_argv = g->o.new_unit ? pea_gen_pod_create_argv(cmd, g->exe, id_file) : NULL,
                .members = members,
        };
        add_unit(g, unit, pea_gen_pod_unit(&g->o, &p, unit, g->date));
        strv_free(p.create_argv);
        json_array_extend(g->units, members_units);
        return 0;
}

static int generate_pod(struct gen *g, const char *name, struct pea_error **err)
{
        struct pea_pod_row pod = {};
        int r = pea_state_pod_lookup(g->cli->state, name, &pod, err);
        if (r == -ENOENT) {
                pea_error_clear(err);
                return pea_error_set(err, ENOENT, "'%s' does not refer to a container or pod",
                                     name);
        }
        if (r < 0)
                return r;
        r = gen_pod(g, &pod, err);
        pea_pod_row_done(&pod);
        return r;
}

static int generate(struct gen *g, const char *name, struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_state_container_lookup(g->cli->state, name, &row, err);
        if (r == -ENOENT) {
                pea_error_clear(err);
                return generate_pod(g, name, err);
        }
        if (r < 0)
                return r;
        r = gen_container(g, &row, NULL, NULL, NULL, err);
        pea_container_row_done(&row);
        return r;
}

static int cmd_generate_systemd(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct gen g = {.cli = cli};
        pea_gen_opts_init(&g.o);
        int r = parse(&g, argc, argv, err);
        if (r == 0) {
                g.exe = self_exe();
                g.globals = global_flags(cli);
                g.date = now_string();
                g.units = json_array();
                r = generate(&g, argv[optind], err);
        }
        if (r == 0)
                r = output(&g, err);
        strv_free(g.o.after);
        strv_free(g.o.wants);
        strv_free(g.o.requires);
        strv_free(g.o.env);
        free(g.exe);
        strv_free(g.globals);
        free(g.date);
        json_decref(g.units);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_generate_systemd = {
        .name = "systemd",
        .fn = cmd_generate_systemd,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Generate systemd units",
        .usage = "[options] {CONTAINER|POD}",
        .options =
                "      --after stringArray         Add dependencies order to the generated unit "
                "file\n"
                "      --container-prefix string   Systemd unit name prefix for containers "
                "(default \"container\")\n"
                "  -e, --env stringArray           Set environment variables to the systemd unit "
                "files\n"
                "  -f, --files                     Generate .service files instead of printing to "
                "stdout\n"
                "      --format string             Print the created units in specified format "
                "(json)\n"
                "  -n, --name                      Use container/pod names instead of IDs\n"
                "      --new                       Create a new container or pod instead of "
                "starting an existing one\n"
                "      --no-header                 Skip header generation\n"
                "      --pod-prefix string         Systemd unit name prefix for pods (default "
                "\"pod\")\n"
                "      --requires stringArray      Similar to wants, but declares stronger "
                "requirement dependencies\n"
                "      --restart-policy string     Systemd restart-policy (default \"on-failure\")\n"
                "      --restart-sec uint          Systemd restart-sec\n"
                "      --separator string          Systemd unit name separator between name/id "
                "and prefix (default \"-\")\n"
                "      --start-timeout uint        Start timeout override\n"
                "      --stop-timeout uint         Stop timeout override (default 10)\n"
                "      --template                  Make it a template file and use %i and %I "
                "specifiers. Working only for containers\n"
                "      --wants stringArray         Add (weak) requirement dependencies to the "
                "generated unit file\n",
};

static const struct pea_cmd *const generate_cmds[] = {
        &pea_cmd_generate_systemd,
        NULL,
};

const struct pea_cmd pea_cmd_generate = {
        .name = "generate",
        .summary = "Generate structured data based on containers and pods",
        .sub = generate_cmds,
};
