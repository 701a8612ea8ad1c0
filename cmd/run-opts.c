/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pea run / pea create: the command line, parsed without side effects. One
 * table holds every flag: its name, short letter, kind, where it goes in
 * struct pea_run_opts and its help line; getopt's options and --help are made
 * from it.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "image.h"
#include "run.h"

enum flag_kind {
        FLAG_BOOL,    /* bool: --x */
        FLAG_OPTBOOL, /* int: --x[=true|false], -1 when not given */
        FLAG_STR,     /* const char *: the last one wins */
        FLAG_STRV,    /* char **: each one appended */
        FLAG_SPLIT,   /* char **: appended, split on commas */
};

struct run_flag {
        const char *name;
        char short_name;
        enum flag_kind kind;
        size_t offset;
        const char *arg; /* the help's argument type */
        const char *help;
};

#define O(field) offsetof(struct pea_run_opts, field)

static const struct run_flag flags[] = {
        {"add-host", 0, FLAG_STRV, O(add_hosts), "host:ip", "Add a custom host-to-IP mapping"},
        {"annotation", 0, FLAG_STRV, O(annotations), "stringArray",
         "Add annotations to container (key=value)"},
        {"cap-add", 0, FLAG_SPLIT, O(cap_add), "strings", "Add capabilities to the container"},
        {"cap-drop", 0, FLAG_SPLIT, O(cap_drop), "strings", "Drop capabilities from the container"},
        {"cgroups", 0, FLAG_STR, O(cgroups), "string",
         "control container cgroup configuration (\"enabled\"|\"no-conmon\"|\"split\") "
         "(default \"enabled\")"},
        {"cidfile", 0, FLAG_STR, O(cidfile), "string", "Write the container ID to the file"},
        {"detach", 'd', FLAG_BOOL, O(detach), NULL,
         "Run container in background and print container ID"},
        {"detach-keys", 0, FLAG_STR, O(detach_keys), "string",
         "Override the key sequence for detaching a container (default \"ctrl-p,ctrl-q\")"},
        {"dns", 0, FLAG_SPLIT, O(dns), "strings", "Set custom DNS servers"},
        {"dns-option", 0, FLAG_STRV, O(dns_options), "strings", "Set custom DNS options"},
        {"dns-search", 0, FLAG_SPLIT, O(dns_search), "strings", "Set custom DNS search domains"},
        {"entrypoint", 0, FLAG_STR, O(entrypoint), "string",
         "Overwrite the default ENTRYPOINT of the image"},
        {"env", 'e', FLAG_STRV, O(env), "stringArray", "Set environment variables in container"},
        {"env-file", 0, FLAG_STRV, O(env_files), "strings",
         "Read in a file of environment variables"},
        {"expose", 0, FLAG_STRV, O(expose), "strings", "Expose a port or a range of ports"},
        {"health-cmd", 0, FLAG_STR, O(health_cmd), "string",
         "set a healthcheck command for the container ('none' disables the existing healthcheck)"},
        {"health-interval", 0, FLAG_STR, O(health_interval), "string",
         "set an interval for the healthcheck (a value of disable results in no automatic timer "
         "setup) (default \"30s\")"},
        {"health-on-failure", 0, FLAG_STR, O(health_on_failure), "string",
         "action to take once the container turns unhealthy (default \"none\")"},
        {"health-retries", 0, FLAG_STR, O(health_retries), "uint",
         "the number of retries allowed before a healthcheck is considered to be unhealthy "
         "(default 3)"},
        {"health-start-period", 0, FLAG_STR, O(health_start_period), "string",
         "the initialization time needed for a container to bootstrap (default \"0s\")"},
        {"health-timeout", 0, FLAG_STR, O(health_timeout), "string",
         "the maximum time allowed to complete the healthcheck before an interval is considered "
         "failed (default \"30s\")"},
        {"hostname", 0, FLAG_STR, O(hostname), "string", "Set container hostname"},
        {"init", 0, FLAG_BOOL, O(init), NULL,
         "Run an init binary inside the container that forwards signals and reaps processes"},
        {"init-path", 0, FLAG_STR, O(init_path), "string", "Path to the container-init binary"},
        {"interactive", 'i', FLAG_BOOL, O(interactive), NULL,
         "Keep STDIN open even if not attached"},
        {"ipc", 0, FLAG_STR, O(ipc), "string", "IPC namespace to use"},
        {"label", 'l', FLAG_STRV, O(labels), "stringArray", "Set metadata on container"},
        {"log-driver", 0, FLAG_STR, O(log_driver), "string",
         "Logging driver for the container (default \"k8s-file\")"},
        {"log-opt", 0, FLAG_STRV, O(log_opts), "stringArray", "Logging driver options"},
        {"mount", 0, FLAG_STRV, O(mounts), "stringArray",
         "Attach a filesystem mount to the container"},
        {"name", 0, FLAG_STR, O(name), "string", "Assign a name to the container"},
        {"net", 0, FLAG_STR, O(network), NULL, NULL},
        {"network", 0, FLAG_STR, O(network), "string",
         "Connect a container to a network (slirp4netns, pasta, none, host, container:NAME, "
         "ns:PATH)"},
        {"no-healthcheck", 0, FLAG_BOOL, O(no_healthcheck), NULL,
         "Disable healthchecks on container"},
        {"no-hosts", 0, FLAG_BOOL, O(no_hosts), NULL,
         "Do not create /etc/hosts within the container, instead use the version from the image"},
        {"pid", 0, FLAG_STR, O(pid), "string", "PID namespace to use"},
        {"pod", 0, FLAG_STR, O(pod), "string",
         "Run container in an existing pod (\"new:NAME\" creates one)"},
        {"pod-id-file", 0, FLAG_STR, O(pod_id_file), "string", "Read the pod ID from the file"},
        {"privileged", 0, FLAG_BOOL, O(privileged), NULL, "Give extended privileges to container"},
        {"publish", 'p', FLAG_STRV, O(publish), "strings",
         "Publish a container's port, or a range of ports, to the host"},
        {"publish-all", 'P', FLAG_BOOL, O(publish_all), NULL,
         "Publish all exposed ports to random ports on the host interface"},
        {"pull", 0, FLAG_STR, O(pull), "string",
         "Pull image before creating (always, missing, never) (default \"missing\")"},
        {"read-only", 0, FLAG_BOOL, O(read_only), NULL,
         "Make containers root filesystem read-only"},
        {"read-only-tmpfs", 0, FLAG_OPTBOOL, O(read_only_tmpfs), NULL,
         "When running containers in read-only mode mount a read-write tmpfs on /run, /tmp and "
         "/var/tmp (default true)"},
        {"replace", 0, FLAG_BOOL, O(replace), NULL,
         "If a container with the same name exists, replace it"},
        {"restart", 0, FLAG_STR, O(restart), "string",
         "Restart policy to apply when a container exits (\"always\", \"no\", \"on-failure\", "
         "\"unless-stopped\")"},
        {"rm", 0, FLAG_BOOL, O(rm), NULL, "Remove container (and pod if created) after exit"},
        {"runtime", 0, FLAG_STR, O(runtime), "string",
         "Path to the OCI runtime to use (default: built-in)"},
        {"sdnotify", 0, FLAG_STR, O(sdnotify), "string",
         "control sd-notify behavior (conmon, container, ignore) (default \"conmon\")"},
        {"security-opt", 0, FLAG_STRV, O(security_opts), "stringArray", "Security Options"},
        {"shm-size", 0, FLAG_STR, O(shm_size), "string", "Size of /dev/shm (default \"64m\")"},
        {"sig-proxy", 0, FLAG_OPTBOOL, O(sig_proxy), NULL,
         "Proxy received signals to the process (default true)"},
        {"stop-signal", 0, FLAG_STR, O(stop_signal), "string",
         "Signal to stop a container. Default is SIGTERM"},
        {"stop-timeout", 0, FLAG_STR, O(stop_timeout), "uint",
         "Timeout (in seconds) that containers stopped by user command have to exit (default 10)"},
        {"tls-verify", 0, FLAG_OPTBOOL, O(tls_verify), NULL,
         "Require HTTPS and verify certificates when contacting registries"},
        {"tmpfs", 0, FLAG_STRV, O(tmpfs), "tmpfs",
         "Mount a temporary filesystem (tmpfs) into a container"},
        {"tty", 't', FLAG_BOOL, O(tty), NULL, "Allocate a pseudo-TTY for container"},
        {"ulimit", 0, FLAG_STRV, O(ulimits), "strings", "Ulimit options"},
        {"umask", 0, FLAG_STR, O(umask), "string", "Set umask in container (default \"0022\")"},
        {"user", 'u', FLAG_STR, O(user), "string",
         "Username or UID (format: <name|uid>[:<group|gid>])"},
        {"userns", 0, FLAG_STR, O(userns), "string", "User namespace to use (keep-id, host)"},
        {"uts", 0, FLAG_STR, O(uts), "string", "UTS namespace to use"},
        {"volume", 'v', FLAG_STRV, O(volumes), "stringArray",
         "Bind mount a volume into the container"},
        {"volumes-from", 0, FLAG_STRV, O(volumes_from), "stringArray",
         "Mount volumes from the specified container(s)"},
        {"workdir", 'w', FLAG_STR, O(workdir), "string", "Working directory inside the container"},
};

#undef O

void pea_run_print_options(void)
{
        for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
                const struct run_flag *f = &flags[i];
                if (!f->help)
                        continue; /* an alias */
                _cleanup_free_ char *left =
                        xasprintf("%c%c%s --%s%s%s", f->short_name ? '-' : ' ',
                                  f->short_name ? f->short_name : ' ', f->short_name ? "," : " ",
                                  f->name, f->arg ? " " : "", f->arg ? f->arg : "");
                printf("  %-32s %s\n", left, f->help);
        }
}

void pea_run_opts_done(struct pea_run_opts *o)
{
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (flags[i].kind == FLAG_STRV || flags[i].kind == FLAG_SPLIT) {
                        char ***v = (char ***)((char *)o + flags[i].offset);
                        *v = strv_free(*v);
                }
        *o = (struct pea_run_opts){};
}

static int set_flag(const struct run_flag *f, const char *arg, struct pea_run_opts *o,
                    struct pea_error **err)
{
        void *field = (char *)o + f->offset;
        bool b = true;
        int r = 0;
        switch (f->kind) {
        case FLAG_BOOL:
                *(bool *)field = true;
                break;
        case FLAG_OPTBOOL: {
                _cleanup_free_ char *name = xasprintf("--%s", f->name);
                r = pea_cmd_parse_bool(name, arg, &b, err);
                *(int *)field = b;
                break;
        }
        case FLAG_STR:
                *(const char **)field = arg;
                break;
        case FLAG_STRV:
                strv_push((char ***)field, arg);
                break;
        case FLAG_SPLIT: {
                _cleanup_strv_ char **parts = strv_split(arg, ",");
                STRV_FOREACH(p, parts)
                        if (**p)
                                strv_push((char ***)field, *p);
                break;
        }
        default:
                return -ENOENT;
        }
        return r;
}

/* Checks that need no state: the values of enumerated flags. */
static int check_choices(const struct pea_run_opts *o, struct pea_error **err)
{
        static const char *const pulls[] = {"missing", "always", "never", "newer", NULL};
        if (o->pull && !strv_contains((char **)pulls, o->pull))
                return pea_error_set(err, EINVAL, "invalid value '%s' for --pull", o->pull);
        return 0;
}

static void build_getopt(struct option *longopts, char *shortopts)
{
        size_t n = 0, s = 0;
        shortopts[s++] = '+';
        shortopts[s++] = ':';
        shortopts[s++] = 'h';
        for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
                const struct run_flag *f = &flags[i];
                int has_arg = f->kind == FLAG_BOOL      ? no_argument
                              : f->kind == FLAG_OPTBOOL ? optional_argument
                                                        : required_argument;
                longopts[n++] = (struct option){f->name, has_arg, NULL, 0x100 + (int)i};
                if (f->short_name) {
                        shortopts[s++] = f->short_name;
                        if (has_arg == required_argument)
                                shortopts[s++] = ':';
                }
        }
        longopts[n++] = (struct option)PEA_HELP_OPTION;
        longopts[n] = (struct option){};
        shortopts[s] = '\0';
}

static const struct run_flag *flag_of(int c)
{
        if (c >= 0x100 && c < 0x100 + (int)ELEMENTSOF(flags))
                return &flags[c - 0x100];
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (flags[i].short_name && flags[i].short_name == c)
                        return &flags[i];
        return NULL;
}

int pea_run_parse(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                  struct pea_run_opts *o, struct pea_error **err)
{
        struct option longopts[ELEMENTSOF(flags) + 2];
        char shortopts[3 + 2 * ELEMENTSOF(flags) + 1];
        build_getopt(longopts, shortopts);
        o->tls_verify = o->read_only_tmpfs = o->sig_proxy = -1;
        int c;
        while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, cmd);
                        return 1;
                }
                const struct run_flag *f = flag_of(c);
                if (!f)
                        return pea_cli_opt_error(c, argc, argv, err);
                int r = set_flag(f, optarg, o, err);
                if (r < 0)
                        return r;
        }
        int r = check_choices(o, err);
        if (r < 0)
                return r;
        r = pea_cli_check_args(cli, argc - optind, 1, -1, err);
        if (r < 0)
                return r;
        o->image = argv[optind];
        o->command = argv + optind + 1;
        return 0;
}
