/* SPDX-License-Identifier: Apache-2.0 */
/* pea inspect and pea container inspect: podman's container JSON; images through cmd/image.h. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "image.h"
#include "jsonutil.h"
#include "run.h"
#include "state/state.h"
#include "template.h"
#include "units.h"

static json_t *time_json(int64_t ns)
{
        if (ns == 0)
                return json_string("0001-01-01T00:00:00Z");
        _cleanup_free_ char *s = pea_time_rfc3339(ns);
        return json_string(s);
}

static json_t *state_json(const struct pea_container_row *c, struct pea_state *st)
{
        const char *status = streq(c->state, "stopped") ? "exited" : c->state;
        const char *error = json_string_value(json_object_get(c->config, "error"));
        json_t *s = json_pack(
                "{s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:o, s:o}", "OciVersion",
                "1.1.0", "Status", status, "Running", streq(c->state, "running"), "Paused",
                streq(c->state, "paused"), "Restarting", false, "OOMKilled",
                json_is_true(json_object_get(c->config, "OOMKilled")), "Dead", false, "Pid", c->pid,
                "ExitCode", c->exit_code, "Error", error ? error : "", "StartedAt",
                time_json(c->started_at), "FinishedAt", time_json(c->finished_at));
        json_t *health = NULL;
        if (pea_state_container_get_health(st, c->id, &health, NULL) >= 0 && health)
                json_object_set_new(s, "Health", health);
        return s;
}

/* The image's entrypoint when args start with it, and the rest as Cmd. */
static void split_command(json_t *args, json_t *entry, json_t **ret_cmd)
{
        size_t ne = json_array_size(entry), n = json_array_size(args);
        bool prefix = ne <= n;
        for (size_t i = 0; prefix && i < ne; i++)
                prefix = json_equal(json_array_get(entry, i), json_array_get(args, i));
        json_t *cmd = json_array();
        for (size_t i = prefix ? ne : 0; i < n; i++)
                json_array_append(cmd, json_array_get(args, i));
        *ret_cmd = cmd;
}

static json_t *config_json(const struct pea_container_row *c)
{
        json_t *cfg = c->config;
        json_t *args = json_object_get(cfg, "args");
        json_t *entry = json_object_get(cfg, "image_entrypoint");
        json_t *cmd = NULL;
        split_command(args, entry, &cmd);
        const char *ss = json_string_value(json_object_get(cfg, "stop_signal"));
        int sig = SIGTERM;
        if (ss && *ss && pea_cmd_parse_signal(ss, &sig, NULL) < 0)
                sig = SIGTERM;
        json_t *labels = json_object_get(cfg, "labels");
        const char *hostname = json_string_value(json_object_get(cfg, "hostname"));
        const char *user = json_string_value(json_object_get(cfg, "user"));
        const char *cwd = json_string_value(json_object_get(cfg, "cwd"));
        json_t *env = json_object_get(cfg, "env");
        json_t *j = json_pack(
                "{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:O, s:o, s:s, s:n, "
                "s:s, s:O, s:n, s:O, s:{}, s:i}",
                "Hostname", hostname ? hostname : "", "Domainname", "", "User", user ? user : "",
                "AttachStdin", false, "AttachStdout", false, "AttachStderr", false, "Tty",
                json_is_true(json_object_get(cfg, "terminal")), "OpenStdin", false, "StdinOnce",
                false, "Env", env ? env : json_array(), "Cmd", cmd, "Image",
                c->image_name ? c->image_name : "", "Volumes", "WorkingDir", cwd ? cwd : "/",
                "Entrypoint", entry ? entry : json_array(), "OnBuild", "Labels",
                labels ? labels : json_object(), "Annotations", "StopSignal", sig);
        json_t *hc = pea_cmd_container_healthcheck(cfg);
        if (hc)
                json_object_set(j, "Healthcheck", hc);
        json_object_set_new(j, "StopTimeout", json_integer(pea_cmd_container_stop_timeout(cfg)));
        return j;
}

/* HostConfig.LogConfig: Size as podman's units.HumanSize ("10kB", "0B"). */
static json_t *log_config_json(const struct pea_run_env *e, const struct pea_container_row *c)
{
        json_t *cfg = c->config;
        const char *driver = json_string_value(json_object_get(cfg, "log_driver"));
        const char *path = json_string_value(json_object_get(cfg, "log_path"));
        const char *tag = json_string_value(json_object_get(cfg, "log_tag"));
        json_int_t size = json_integer_value(json_object_get(cfg, "log_max_size"));
        _cleanup_free_ char *log = pea_container_log_path(&e->ctx, c->id);
        _cleanup_free_ char *human = pea_human_size((double)size);
        _cleanup_free_ char *compact = xmalloc(strlen(human) + 1);
        char *w = compact;
        for (const char *p = human; *p; p++)
                if (*p != ' ')
                        *w++ = *p;
        *w = '\0';
        return json_pack("{s:s, s:n, s:s, s:s, s:s}", "Type", driver ? driver : "k8s-file",
                         "Config", "Path", path ? path : log, "Tag", tag ? tag : "", "Size",
                         compact);
}

static json_t *host_config_json(const struct pea_run_env *e, const struct pea_container_row *c)
{
        const char *policy = json_string_value(json_object_get(c->config, "restart_policy"));
        json_int_t retries = json_integer_value(json_object_get(c->config, "restart_retries"));
        return json_pack("{s:[], s:s, s:o, s:{s:s, s:I}, s:b, s:b, s:s}", "Binds", "NetworkMode",
                         pea_json_path_string(c->config, "network.mode", "slirp4netns"),
                         "LogConfig", log_config_json(e, c), "RestartPolicy", "Name",
                         policy && !streq(policy, "no") ? policy : "", "MaximumRetryCount", retries,
                         "AutoRemove", json_is_true(json_object_get(c->config, "rm")), "Privileged",
                         false, "Runtime", "oci");
}

/* podman's NetworkSettings: Ports has the bindings, and null for exposed-only ports. */
static json_t *network_settings_json(const struct pea_run_env *e, const struct pea_container_row *c)
{
        json_t *net = json_object_get(c->config, "network");
        json_t *ports = json_object();
        const char *k = NULL;
        json_t *v = NULL;
        json_object_foreach(json_object_get(net, "exposed"), k, v)
                json_object_set_new(ports, k, json_null());
        json_object_update(ports, json_object_get(net, "ports"));
        _cleanup_free_ char *ns = pea_container_net_netns_path(&e->ctx, c);
        bool up = ns && streq(c->state, "running");
        return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:s, s:b, s:o, s:s}",
                         "EndpointID", "", "Gateway", up ? "10.0.2.2" : "", "IPAddress",
                         up ? "10.0.2.100" : "", "IPPrefixLen", up ? 24 : 0, "IPv6Gateway", "",
                         "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0, "MacAddress", "",
                         "Bridge", "", "SandboxID", "", "HairpinMode", false, "Ports", ports,
                         "SandboxKey", up ? ns : "");
}

static json_t *container_json(const struct pea_run_env *e, const struct pea_container_row *c)
{
        json_t *args = json_object_get(c->config, "args");
        json_t *rest = json_array();
        for (size_t i = 1; i < json_array_size(args); i++)
                json_array_append(rest, json_array_get(args, i));
        const char *path = json_string_value(json_array_get(args, 0));
        _cleanup_free_ char *bundle = pea_container_bundle_dir(&e->ctx, c->id);
        _cleanup_free_ char *oci = xasprintf("%s/config.json", bundle);
        _cleanup_free_ char *log = pea_container_log_path(&e->ctx, c->id);
        json_t *j = json_pack("{s:s, s:o, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                              "s:i, s:s, s:s, s:s, s:s}",
                              "Id", c->id, "Created", time_json(c->created), "Path",
                              path ? path : "", "Args", rest, "State", state_json(c, e->ctx.state),
                              "Image", c->image_id ? c->image_id : "", "ImageName",
                              c->image_name ? c->image_name : "", "Pod", "", "OCIConfigPath", oci,
                              "LogPath", log, "OCIRuntime", "pea", "Name", c->name, "RestartCount",
                              (int)json_integer_value(json_object_get(c->config, "RestartCount")),
                              "Driver", e->storage ? "overlay" : "", "MountLabel", "",
                              "ProcessLabel", "", "AppArmorProfile", "");
        json_t *mounts = json_object_get(c->config, "mounts");
        json_object_set_new(j, "Mounts",
                            json_is_array(mounts) ? json_deep_copy(mounts) : json_array());
        json_object_set_new(j, "NetworkSettings", network_settings_json(e, c));
        json_object_set_new(j, "IsInfra", json_false());
        json_object_set_new(j, "Config", config_json(c));
        json_object_set_new(j, "HostConfig", host_config_json(e, c));
        return j;
}

struct inspect_opts {
        const char *format, *type;
};

static int parse(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                 struct inspect_opts *o, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"format", required_argument, NULL, 'f'},
                {"type", required_argument, NULL, 't'},
                {"size", no_argument, NULL, 's'},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":f:t:sh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, cmd);
                        return 1;
                }
                if (c == 'f')
                        o->format = optarg;
                else if (c == 't')
                        o->type = optarg;
                else if (c != 's')
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        if (!streq(o->type, "all") && !streq(o->type, "container") && !streq(o->type, "image"))
                return pea_error_set(err, EINVAL,
                                     "invalid type \"%s\": must be one of \"container\", "
                                     "\"image\", \"all\"",
                                     o->type);
        return pea_cli_check_args(cli, argc - optind, 1, -1, err);
}

/* Hands the image names to `pea image inspect`. */
static int inspect_images(struct pea_cli *cli, const struct inspect_opts *o, char **names,
                          struct pea_error **err)
{
        _cleanup_strv_ char **av = xcalloc(1, sizeof(char *));
        strv_push(&av, "inspect");
        if (o->format)
                strv_consume(&av, xasprintf("--format=%s", o->format));
        STRV_FOREACH(n, names)
                strv_push(&av, *n);
        optind = 0;
        return pea_cmd_image_inspect.fn(cli, (int)strv_length(av), av, err);
}

static int print_containers(json_t *a, const char *format, struct pea_error **err)
{
        if (!format || streq(format, "json") || streq(format, "{{json .}}")) {
                if (pea_json_print(stdout, a, 4) < 0)
                        return pea_error_syscall(err, EIO, "writing output");
                return 0;
        }
        return pea_format_print(stdout, format, a, true, NULL, 4, err);
}

/* Containers into a, image names into *images, the first unknown name into *missing. */
static void collect(struct pea_run_env *e, const struct inspect_opts *o, int argc, char **argv,
                    json_t *a, char ***images, char **missing)
{
        for (int i = optind; i < argc; i++) {
                struct pea_container_row row = {};
                if (!streq(o->type, "image")
                    && pea_cmd_container_get(&e->ctx, argv[i], &row, NULL) >= 0) {
                        json_array_append_new(a, container_json(e, &row));
                        pea_container_row_done(&row);
                        continue;
                }
                struct pea_cmd_image img = {0};
                if (!streq(o->type, "container")
                    && pea_cmd_image_lookup(e->store, argv[i], &img, NULL) >= 0) {
                        pea_cmd_image_done(&img);
                        strv_push(images, argv[i]);
                        continue;
                }
                if (!*missing)
                        *missing = xstrdup(argv[i]);
        }
}

static int run_inspect(struct pea_cli *cli, const struct pea_cmd *cmd, const char *type, int argc,
                       char **argv, struct pea_error **err)
{
        struct inspect_opts o = {.type = type};
        int r = parse(cli, cmd, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct pea_run_env e = {};
        r = pea_run_env_open(cli, &e, err);
        _cleanup_json_ json_t *a = json_array();
        _cleanup_strv_ char **images = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *missing = NULL;
        if (r >= 0)
                collect(&e, &o, argc, argv, a, &images, &missing);
        if (r >= 0 && (json_array_size(a) > 0 || !images[0]))
                r = print_containers(a, o.format, err);
        if (r >= 0 && images[0])
                r = inspect_images(cli, &o, images, err);
        pea_run_env_done(&e);
        if (r >= 0 && missing)
                return pea_error_set(err, ENOENT, "inspecting object: no such %s: \"%s\"",
                                     streq(o.type, "container") ? "container" : "object", missing);
        return r < 0 ? r : 0;
}

static int cmd_inspect(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run_inspect(cli, &pea_cmd_inspect, "all", argc, argv, err);
}

static int cmd_container_inspect(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run_inspect(cli, &pea_cmd_container_inspect, "container", argc, argv, err);
}

#define INSPECT_OPTIONS                                                                     \
        "  -f, --format string   Format the output to a Go template or json\n"              \
        "  -s, --size            Display total file size\n"                                 \
        "  -t, --type string     Specify inspect-object type (\"image\", \"container\" or " \
        "\"all\") (default \"all\")\n"

const struct pea_cmd pea_cmd_inspect = {
        .name = "inspect",
        .fn = cmd_inspect,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Display the configuration of object denoted by ID",
        .usage = "[options] {CONTAINER|IMAGE} [...]",
        .options = INSPECT_OPTIONS,
};

const struct pea_cmd pea_cmd_container_inspect = {
        .name = "inspect",
        .fn = cmd_container_inspect,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Display the configuration of a container",
        .usage = "[options] CONTAINER [CONTAINER...]",
        .options = INSPECT_OPTIONS,
};
