/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "rootless/rootless.h"
#include "state/state.h"

int pea_cli_exit_code = 125;

static const char global_options[] =
        "      --log-level string        Log messages above specified level (trace, debug, info, warn, error) (default \"warn\")\n"
        "      --root string             Path to the root directory in which data is stored\n"
        "      --runroot string          Path to the 'run directory' where all state information is stored\n"
        "      --storage-driver string   Select which storage driver is used to manage storage of images and containers\n"
        "  -h, --help                    Help for pea\n"
        "  -v, --version                 Version for pea\n";

int pea_cli_opt_error(int c, int argc, char **argv, struct pea_error **err)
{
        const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
        if (c == ':') {
                if (optopt && !startswith(arg, "--"))
                        return pea_error_set(err, EINVAL, "flag needs an argument: '%c' in -%c",
                                             optopt, optopt);
                return pea_error_set(err, EINVAL, "flag needs an argument: %s", arg);
        }
        if (optopt && !startswith(arg, "--"))
                return pea_error_set(err, EINVAL, "unknown shorthand flag: '%c' in %s", optopt,
                                     arg);
        _cleanup_free_ char *name = xstrdup(arg);
        char *eq = strchr(name, '=');
        if (eq)
                *eq = '\0';
        return pea_error_set(err, EINVAL, "unknown flag: %s", name);
}

int pea_cli_check_args(const struct pea_cli *cli, int n, int min, int max, struct pea_error **err)
{
        if (n < min && min == max)
                return pea_error_set(err, EINVAL, "`%s` requires exactly %d argument%s",
                                     cli->cmdpath, min, min == 1 ? "" : "s");
        if (n < min)
                return pea_error_set(err, EINVAL, "`%s` requires at least %d argument%s",
                                     cli->cmdpath, min, min == 1 ? "" : "s");
        if (max >= 0 && n > max) {
                if (max == 0)
                        return pea_error_set(err, EINVAL, "`%s` takes no arguments", cli->cmdpath);
                return pea_error_set(err, EINVAL, "`%s` accepts at most %d argument%s",
                                     cli->cmdpath, max, max == 1 ? "" : "s");
        }
        return 0;
}

void pea_cli_print_help(const struct pea_cli *cli, const struct pea_cmd *cmd)
{
        printf("%s\n\n", cmd->summary ? cmd->summary : "");
        if (cmd->sub) {
                printf("Usage:\n  %s [command]\n\nAvailable Commands:\n", cli->cmdpath);
                for (const struct pea_cmd *const *s = cmd->sub; *s; s++)
                        if (!(*s)->hidden)
                                printf("  %-12s %s\n", (*s)->name,
                                       (*s)->summary ? (*s)->summary : "");
        } else {
                printf("Usage:\n  %s %s\n", cli->cmdpath, cmd->usage ? cmd->usage : "[options]");
        }
        printf("\nOptions:\n%s", cmd->options ? cmd->options : "");
        if (cmd->print_options)
                cmd->print_options();
        printf("  -h, --help   help for %s\n", cmd->name);
        if (streq(cmd->name, "pea"))
                printf("\nGlobal Options:\n%s", global_options);
}

static const struct pea_cmd *lookup(const struct pea_cmd *const *table, const char *name)
{
        for (const struct pea_cmd *const *c = table; *c; c++)
                if (streq((*c)->name, name))
                        return *c;
        return NULL;
}

static int setup(struct pea_cli *cli, unsigned flags, struct pea_error **err)
{
        if (!(flags & (PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS)))
                return 0;
        if (!cli->config.graph_root) {
                int r = pea_config_load(&cli->config, &cli->overrides, err);
                if (r < 0)
                        return r;
        }
        if ((flags & PEA_NEEDS_USERNS) && cli->config.rootless) {
                int r = pea_userns_join(&cli->config, err);
                if (r < 0)
                        return r;
        }
        if (flags & (PEA_NEEDS_DIRS | PEA_NEEDS_STATE)) {
                int r = pea_config_ensure_dirs(&cli->config, err);
                if (r < 0)
                        return r;
        }
        if ((flags & PEA_NEEDS_STATE) && !cli->state) {
                _cleanup_free_ char *db = xasprintf("%s/state.db", cli->config.graph_root);
                int r = pea_state_open(db, &cli->state, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_help(const char *a)
{
        return streq(a, "--help") || streq(a, "-h") || streq(a, "help");
}

int pea_cli_run(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                struct pea_error **err)
{
        if (cmd->sub) {
                if (argc < 2 || is_help(argv[1])) {
                        pea_cli_print_help(cli, cmd);
                        return argc < 2 && !streq(cmd->name, "pea") ? 125 : 0;
                }
                const struct pea_cmd *s = lookup(cmd->sub, argv[1]);
                if (!s && argv[1][0] == '-')
                        return pea_error_set(err, EINVAL, "unknown flag: %s", argv[1]);
                if (!s)
                        return pea_error_set(err, EINVAL, "unrecognized command `%s %s`",
                                             cli->cmdpath, argv[1]);
                char *path = xasprintf("%s %s", cli->cmdpath, s->name);
                free(cli->cmdpath);
                cli->cmdpath = path;
                return pea_cli_run(cli, s, argc - 1, argv + 1, err);
        }
        if (argc >= 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                pea_cli_print_help(cli, cmd);
                return 0;
        }
        int r = setup(cli, cmd->flags, err);
        if (r < 0)
                return r;
        optind = 0;
        opterr = 0;
        return cmd->fn(cli, argc, argv, err);
}

/* Alphabetical, as --help lists them. */
const struct pea_cmd *const pea_cmds[] = {
        &pea_cmd_attach,      &pea_cmd_auto_update, &pea_cmd_commit,  &pea_cmd_container,
        &pea_cmd_cp,          &pea_cmd_create,      &pea_cmd_diff,    &pea_cmd_doctor,
        &pea_cmd_events,      &pea_cmd_exec,        &pea_cmd_export,  &pea_cmd_generate,
        &pea_cmd_healthcheck, &pea_cmd_history,     &pea_cmd_image,   &pea_cmd_images,
        &pea_cmd_import,      &pea_cmd_info,        &pea_cmd_inspect, &pea_cmd_kill,
        &pea_cmd_load,        &pea_cmd_login,       &pea_cmd_logout,  &pea_cmd_logs,
        &pea_cmd_pause,       &pea_cmd_pod,         &pea_cmd_port,    &pea_cmd_ps,
        &pea_cmd_pull,        &pea_cmd_push,        &pea_cmd_rename,  &pea_cmd_restart,
        &pea_cmd_rm,          &pea_cmd_rmi,         &pea_cmd_run,     &pea_cmd_save,
        &pea_cmd_start,       &pea_cmd_stop,        &pea_cmd_system,  &pea_cmd_tag,
        &pea_cmd_top,         &pea_cmd_unpause,     &pea_cmd_unshare, &pea_cmd_untag,
        &pea_cmd_version,     &pea_cmd_volume,      &pea_cmd_wait,    NULL,
};

static const struct pea_cmd root_cmd = {
        .name = "pea",
        .summary = "Manage pods, containers and images",
        .sub = pea_cmds,
};

/* Parses "--flag value" or "--flag=value"; returns the value or NULL. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag,
                              struct pea_error **err)
{
        const char *a = argv[*i];
        const char *rest = startswith(a, flag);
        if (!rest)
                return NULL;
        if (*rest == '=')
                return rest + 1;
        if (*rest != '\0')
                return NULL;
        if (*i + 1 >= argc) {
                (void)pea_error_set(err, EINVAL, "flag needs an argument: %s", flag);
                return NULL;
        }
        return argv[++*i];
}

static int parse_global(struct pea_cli *cli, int argc, char **argv, int *ret_next,
                        struct pea_error **err)
{
        int i = 1;
        for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
                const char *v = NULL;
                if (streq(argv[i], "--")) {
                        i++;
                        break;
                }
                if (streq(argv[i], "-v") || streq(argv[i], "--version")) {
                        printf("pea version %s\n", PEA_VERSION);
                        return 1;
                }
                if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
                        pea_cli_print_help(cli, &root_cmd);
                        return 1;
                }
                if ((v = flag_value(argc, argv, &i, "--root", err)))
                        cli->overrides.root = v;
                else if ((v = flag_value(argc, argv, &i, "--runroot", err)))
                        cli->overrides.runroot = v;
                else if ((v = flag_value(argc, argv, &i, "--storage-driver", err)))
                        cli->overrides.storage_driver = v;
                else if ((v = flag_value(argc, argv, &i, "--log-level", err)))
                        cli->log_level = v;
                else if (*err)
                        return pea_error_code(err);
                else
                        return pea_error_set(err, EINVAL, "unknown flag: %s", argv[i]);
        }
        if (*err)
                return pea_error_code(err);
        *ret_next = i;
        return 0;
}

static int apply_log_level(const char *name, struct pea_error **err)
{
        if (!name)
                name = getenv("PEA_LOG_LEVEL");
        if (!name)
                return 0;
        int l = pea_log_level_from_string(name);
        if (l < 0)
                return pea_error_set(
                        err, EINVAL,
                        "log level '%s' is not supported, use one of trace, debug, info, warn, error",
                        name);
        pea_log_set_level(l);
        return 0;
}

static int run_main(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        int next = 0;
        int r = parse_global(cli, argc, argv, &next, err);
        if (r != 0)
                return r < 0 ? r : 0;
        r = apply_log_level(cli->log_level, err);
        if (r < 0)
                return r;
        if (next >= argc) {
                pea_cli_print_help(cli, &root_cmd);
                return 125;
        }
        const struct pea_cmd *c = lookup(pea_cmds, argv[next]);
        if (!c && streq(argv[next], "help")) {
                if (next + 1 < argc && (c = lookup(pea_cmds, argv[next + 1]))) {
                        free(cli->cmdpath);
                        cli->cmdpath = xasprintf("pea %s", c->name);
                        pea_cli_print_help(cli, c);
                        return 0;
                }
                pea_cli_print_help(cli, &root_cmd);
                return 0;
        }
        if (!c)
                return pea_error_set(err, EINVAL, "unrecognized command `pea %s`", argv[next]);
        free(cli->cmdpath);
        cli->cmdpath = xasprintf("pea %s", c->name);
        return pea_cli_run(cli, c, argc - next, argv + next, err);
}

int main(int argc, char **argv)
{
        struct pea_cli cli = {.cmdpath = xstrdup("pea")};
        _cleanup_error_ struct pea_error *err = NULL;
        int r = run_main(&cli, argc, argv, &err);
        if (fflush(stdout) != 0 && r >= 0)
                r = pea_error_syscall(&err, errno, "writing output");
        if (r < 0) {
                fprintf(stderr, "Error: %s\n", err ? err->msg : "unknown error");
                r = pea_cli_exit_code;
        }
        cli.state = pea_state_close(cli.state);
        if (cli.config.graph_root)
                pea_config_done(&cli.config);
        free(cli.cmdpath);
        return r;
}
