/* SPDX-License-Identifier: Apache-2.0 */
/* pea port: the published ports of running containers, as podman prints them. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "network/network.h"
#include "run.h"
#include "state/state.h"

struct port_opts {
        bool all;
        const char *filter; /* "80" or "80/udp"; NULL: all */
        unsigned port;
        const char *proto; /* NULL: any */
};

/* "80", "80/tcp": podman's wording for bad input. */
static int parse_filter(struct port_opts *o, const char *arg, struct pea_error **err)
{
        _cleanup_free_ char *num = xstrdup(arg);
        char *slash = strchr(num, '/');
        if (slash) {
                *slash++ = '\0';
                if (pea_port_proto_from_string(slash) < 0)
                        return pea_error_set(err, EINVAL, "failed to find published port \"%s\"",
                                             arg);
                o->proto = strchr(arg, '/') + 1;
        }
        if (safe_atou32(num, &o->port) < 0 || o->port > 65535)
                return pea_error_set(err, EINVAL,
                                     "strconv.ParseUint: parsing \"%s\": invalid "
                                     "syntax",
                                     num);
        o->filter = arg;
        return 0;
}

static int parse(struct pea_cli *cli, int argc, char **argv, struct port_opts *o,
                 struct pea_error **err)
{
        static const struct option longopts[] = {
                {"all", no_argument, NULL, 'a'},
                {"latest", no_argument, NULL, 'l'},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":alh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_port);
                        return 1;
                }
                if (c == 'l')
                        return pea_error_set(err, ENOTSUP, "--latest is not supported");
                if (c != 'a')
                        return pea_cli_opt_error(c, argc, argv, err);
                o->all = true;
        }
        int n = argc - optind;
        if (o->all && n > 0)
                return pea_error_set(err, EINVAL, "no arguments are needed with --all");
        if (n > 2)
                return pea_error_set(err, EINVAL, "`port` accepts at most 2 arguments");
        if (!o->all && n < 1)
                return pea_error_set(err, EINVAL, "you must supply a running container name or id");
        return n == 2 ? parse_filter(o, argv[optind + 1], err) : 0;
}

/* Prints one container's bindings; *found tells whether the filter matched. */
static void print_ports(const struct pea_container_row *row, const struct port_opts *o, bool *found)
{
        json_t *ports = json_object_get(json_object_get(row->config, "network"), "ports");
        const char *key = NULL;
        json_t *list = NULL;
        _cleanup_free_ char *short_id = xstrndup(row->id, 12);
        json_object_foreach(ports, key, list) {
                unsigned port = (unsigned)strtoul(key, NULL, 10);
                const char *proto = strchr(key, '/');
                proto = proto ? proto + 1 : "tcp";
                if (o->filter && (port != o->port || (o->proto && !streq(o->proto, proto))))
                        continue;
                size_t i = 0;
                json_t *b = NULL;
                json_array_foreach(list, i, b) {
                        const char *ip = json_string_value(json_object_get(b, "HostIp"));
                        const char *hp = json_string_value(json_object_get(b, "HostPort"));
                        ip = ip && *ip ? ip : "0.0.0.0";
                        *found = true;
                        if (o->filter)
                                printf("%s:%s\n", ip, hp ? hp : "");
                        else
                                printf("%s%s%s -> %s:%s\n", o->all ? short_id : "",
                                       o->all ? "\t" : "", key, ip, hp ? hp : "");
                }
        }
}

static int port_all(struct pea_run_env *e, const struct port_opts *o, struct pea_error **err)
{
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        int r = pea_state_container_list(e->ctx.state, NULL, &rows, &n, err);
        if (r < 0)
                return r;
        bool found = false;
        for (size_t i = 0; i < n; i++) {
                if (pea_cmd_container_sync(&e->ctx, &rows[i], NULL) >= 0
                    && streq(rows[i].state, "running"))
                        print_ports(&rows[i], o, &found);
        }
        pea_container_rows_free(rows, n);
        return 0;
}

static int cmd_port(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct port_opts o = {};
        int r = parse(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct pea_run_env e = {};
        r = pea_run_env_open(cli, &e, err);
        if (r >= 0 && o.all)
                r = port_all(&e, &o, err);
        else if (r >= 0) {
                struct pea_container_row row = {};
                bool found = false;
                r = pea_cmd_container_get(&e.ctx, argv[optind], &row, err);
                if (r >= 0 && streq(row.state, "running")) {
                        print_ports(&row, &o, &found);
                        if (o.filter && !found)
                                r = pea_error_set(err, ENOENT,
                                                  "failed to find published port \"%s\"", o.filter);
                }
                pea_container_row_done(&row);
        }
        pea_run_env_done(&e);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_port = {
        .name = "port",
        .fn = cmd_port,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "List port mappings or a specific mapping for the container",
        .usage = "[options] CONTAINER [PORT]",
        .options = "  -a, --all   Display port information for all containers\n",
};
