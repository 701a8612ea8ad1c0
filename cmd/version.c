/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <stdio.h>

#include "cmd.h"

#ifdef __clang__
#        define COMPILER "clang " __clang_version__
#else
#        define COMPILER "gcc " __VERSION__
#endif

struct version_opts {
        const char *format;
};

static json_t *version_json(void)
{
        _cleanup_free_ char *osarch = xasprintf("linux/%s", pea_host_arch());
        json_t *client = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "APIVersion",
                                   PEA_VERSION, "Version", PEA_VERSION, "Compiler", COMPILER,
                                   "GitCommit", "", "BuiltTime", __DATE__ " " __TIME__, "Built", 0,
                                   "OsArch", osarch, "Os", "linux");
        return json_pack("{s:o}", "Client", client);
}

static void print_plain(json_t *v)
{
        json_t *c = json_object_get(v, "Client");
        printf("Client:       Pea Engine\n");
        printf("Version:      %s\n", json_string_value(json_object_get(c, "Version")));
        printf("API Version:  %s\n", json_string_value(json_object_get(c, "APIVersion")));
        printf("C Compiler:   %s\n", json_string_value(json_object_get(c, "Compiler")));
        printf("Built:        %s\n", json_string_value(json_object_get(c, "BuiltTime")));
        printf("OS/Arch:      %s\n", json_string_value(json_object_get(c, "OsArch")));
}

static int cmd_version(struct pea_cli *cli _unused_, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"format", required_argument, NULL, 'f'},
                PEA_HELP_OPTION,
                {},
        };
        struct version_opts o = {0};
        int c;
        while ((c = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        o.format = optarg;
                        break;
                case 'h':
                        pea_cli_print_help(cli, &pea_cmd_version);
                        return 0;
                default:
                        return pea_cli_opt_error(c, argc, argv, err);
                }
        }
        int r = pea_cli_check_args(cli, argc - optind, 0, 0, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *v = version_json();
        if (!o.format || !*o.format) {
                print_plain(v);
                return 0;
        }
        r = pea_format_print(stdout, o.format, v, false, NULL, 0, err);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_version = {
        .name = "version",
        .fn = cmd_version,
        .summary = "Display the Pea version information",
        .usage = "[options]",
        .options = "  -f, --format string   Change the output format to JSON or a Go template\n",
};
