/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "rootless/rootless.h"

struct pea_doctor_cmd_opts {
        const char *format;
};

static void print_report(const struct pea_doctor_report *rep)
{
        for (size_t i = 0; i < rep->n; i++) {
                _cleanup_free_ char *line = pea_doctor_format_line(&rep->checks[i]);
                printf("%s\n", line);
        }
}

static int print_formatted(const struct pea_doctor_report *rep, const char *format,
                           struct pea_error **err)
{
        _cleanup_json_ json_t *j = pea_doctor_report_json(rep);
        if (streq(format, "json")) {
                if (pea_json_print(stdout, j, 4) < 0)
                        return pea_error_syscall(err, EIO, "writing output");
                return 0;
        }
        return pea_format_print(stdout, format, j, true, NULL, 4, err);
}

static int parse_doctor(struct pea_cli *cli, int argc, char **argv, struct pea_doctor_cmd_opts *o,
                        struct pea_error **err)
{
        static const struct option longopts[] = {
                {"format", required_argument, NULL, 'f'},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        o->format = optarg;
                        break;
                case 'h':
                        pea_cli_print_help(cli, &pea_cmd_doctor);
                        return 1;
                default:
                        return pea_cli_opt_error(c, argc, argv, err);
                }
        }
        return pea_cli_check_args(cli, argc - optind, 0, 0, err);
}

static int cmd_doctor(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct pea_doctor_cmd_opts o = {0};
        int r = parse_doctor(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        const struct pea_doctor_opts dopts = {
                .uid = cli->config.uid,
                .gid = cli->config.gid,
                .user = cli->config.user,
                .runtime_dir = getenv("XDG_RUNTIME_DIR"),
                .storage_dir = cli->config.graph_root,
        };
        _cleanup_(pea_doctor_report_done) struct pea_doctor_report rep = {0};
        pea_doctor_run(&dopts, &rep);
        if (o.format && *o.format) {
                r = print_formatted(&rep, o.format, err);
                if (r < 0)
                        return r;
        } else {
                print_report(&rep);
        }
        return pea_doctor_report_failed(&rep) ? 1 : 0;
}

#define DOCTOR_SUMMARY "Check that every rootless prerequisite is in place"
#define DOCTOR_OPTIONS "  -f, --format string   Change the output format to JSON or a Go template\n"

const struct pea_cmd pea_cmd_doctor = {
        .name = "doctor",
        .fn = cmd_doctor,
        .flags = PEA_NEEDS_CONFIG,
        .summary = DOCTOR_SUMMARY,
        .usage = "[options]",
        .options = DOCTOR_OPTIONS,
};

static const struct pea_cmd *const system_cmds[] = {
        &pea_cmd_doctor,
        &pea_cmd_system_migrate,
        NULL,
};

const struct pea_cmd pea_cmd_system = {
        .name = "system",
        .summary = "Manage pea",
        .sub = system_cmds,
};
