/* SPDX-License-Identifier: Apache-2.0 */
/* pea run / pea create: the command line, parsed without side effects. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "image.h"
#include "run.h"

enum {
        OPT_RM = 0x100,
        OPT_ENV_FILE,
        OPT_NAME,
        OPT_HOSTNAME,
        OPT_ENTRYPOINT,
        OPT_TMPFS,
        OPT_READ_ONLY,
        OPT_CAP_ADD,
        OPT_CAP_DROP,
        OPT_PRIVILEGED,
        OPT_SECURITY_OPT,
        OPT_USERNS,
        OPT_INIT,
        OPT_INIT_PATH,
        OPT_PULL,
        OPT_NETWORK,
        OPT_ULIMIT,
        OPT_SHM_SIZE,
        OPT_LABEL,
        OPT_ANNOTATION,
        OPT_RUNTIME,
        OPT_TLS_VERIFY,
};

static const struct option longopts[] = {
        {"rm", no_argument, NULL, OPT_RM},
        {"interactive", no_argument, NULL, 'i'},
        {"tty", no_argument, NULL, 't'},
        {"detach", no_argument, NULL, 'd'},
        {"env", required_argument, NULL, 'e'},
        {"env-file", required_argument, NULL, OPT_ENV_FILE},
        {"name", required_argument, NULL, OPT_NAME},
        {"hostname", required_argument, NULL, OPT_HOSTNAME},
        {"user", required_argument, NULL, 'u'},
        {"workdir", required_argument, NULL, 'w'},
        {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
        {"volume", required_argument, NULL, 'v'},
        {"tmpfs", required_argument, NULL, OPT_TMPFS},
        {"read-only", no_argument, NULL, OPT_READ_ONLY},
        {"cap-add", required_argument, NULL, OPT_CAP_ADD},
        {"cap-drop", required_argument, NULL, OPT_CAP_DROP},
        {"privileged", no_argument, NULL, OPT_PRIVILEGED},
        {"security-opt", required_argument, NULL, OPT_SECURITY_OPT},
        {"userns", required_argument, NULL, OPT_USERNS},
        {"init", no_argument, NULL, OPT_INIT},
        {"init-path", required_argument, NULL, OPT_INIT_PATH},
        {"pull", required_argument, NULL, OPT_PULL},
        {"network", required_argument, NULL, OPT_NETWORK},
        {"net", required_argument, NULL, OPT_NETWORK},
        {"ulimit", required_argument, NULL, OPT_ULIMIT},
        {"shm-size", required_argument, NULL, OPT_SHM_SIZE},
        {"label", required_argument, NULL, OPT_LABEL},
        {"annotation", required_argument, NULL, OPT_ANNOTATION},
        {"runtime", required_argument, NULL, OPT_RUNTIME},
        {"tls-verify", optional_argument, NULL, OPT_TLS_VERIFY},
        PEA_HELP_OPTION,
        {},
};

const char pea_run_options_help[] =
        "      --annotation strings     Add annotations to container (key=value)\n"
        "      --cap-add strings        Add capabilities to the container\n"
        "      --cap-drop strings       Drop capabilities from the container\n"
        "  -d, --detach                 Run container in background and print container ID\n"
        "      --entrypoint string      Overwrite the default ENTRYPOINT of the image\n"
        "  -e, --env stringArray        Set environment variables in container\n"
        "      --env-file strings       Read in a file of environment variables\n"
        "      --hostname string        Set container hostname\n"
        "      --init                   Run an init binary inside the container that forwards "
        "signals and reaps processes\n"
        "  -i, --interactive            Keep STDIN open even if not attached\n"
        "      --label stringArray      Set metadata on container\n"
        "      --name string            Assign a name to the container\n"
        "      --network string         Connect a container to a network (none, host)\n"
        "      --privileged             Give extended privileges to container\n"
        "      --pull string            Pull image before creating (always, missing, never) "
        "(default \"missing\")\n"
        "      --read-only              Make containers root filesystem read-only\n"
        "      --rm                     Remove container (and pod if created) after exit\n"
        "      --runtime string         Path to the OCI runtime to use (default: built-in)\n"
        "      --security-opt stringArray   Security Options\n"
        "      --shm-size string        Size of /dev/shm (default \"64m\")\n"
        "      --tls-verify             Require HTTPS and verify certificates when contacting "
        "registries\n"
        "      --tmpfs tmpfs            Mount a temporary filesystem (tmpfs) into a container\n"
        "  -t, --tty                    Allocate a pseudo-TTY for container\n"
        "      --ulimit strings         Ulimit options\n"
        "  -u, --user string            Username or UID (format: <name|uid>[:<group|gid>])\n"
        "      --userns string          User namespace to use (keep-id)\n"
        "  -v, --volume stringArray     Bind mount a volume into the container\n"
        "  -w, --workdir string         Working directory inside the container\n";

void pea_run_opts_done(struct pea_run_opts *o)
{
        char **const v[] = {o->env,      o->env_files,     o->volumes, o->tmpfs,  o->cap_add,
                            o->cap_drop, o->security_opts, o->ulimits, o->labels, o->annotations};
        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                strv_free(v[i]);
        *o = (struct pea_run_opts){};
}

/* --cap-add a,b: podman splits on commas. */
static void push_split(char ***l, const char *arg)
{
        _cleanup_strv_ char **parts = strv_split(arg, ",");
        STRV_FOREACH(p, parts)
                if (**p)
                        strv_push(l, *p);
}

static int check_choice(const char *flag, const char *v, const char *const *choices,
                        struct pea_error **err)
{
        for (const char *const *c = choices; *c; c++)
                if (streq(*c, v))
                        return 0;
        return pea_error_set(err, EINVAL, "invalid value '%s' for %s", v, flag);
}

static int parse_long(int c, struct pea_run_opts *o, struct pea_error **err)
{
        static const char *const pulls[] = {"missing", "always", "never", "newer", NULL};
        bool b = false;
        int r = 0;
        switch (c) {
        case OPT_RM:
                o->rm = true;
                break;
        case OPT_ENV_FILE:
                strv_push(&o->env_files, optarg);
                break;
        case OPT_NAME:
                o->name = optarg;
                break;
        case OPT_HOSTNAME:
                o->hostname = optarg;
                break;
        case OPT_ENTRYPOINT:
                o->entrypoint = optarg;
                break;
        case OPT_TMPFS:
                strv_push(&o->tmpfs, optarg);
                break;
        case OPT_READ_ONLY:
                o->read_only = true;
                break;
        case OPT_CAP_ADD:
                push_split(&o->cap_add, optarg);
                break;
        case OPT_CAP_DROP:
                push_split(&o->cap_drop, optarg);
                break;
        case OPT_PRIVILEGED:
                o->privileged = true;
                break;
        case OPT_SECURITY_OPT:
                strv_push(&o->security_opts, optarg);
                break;
        case OPT_USERNS:
                o->userns = optarg;
                break;
        case OPT_INIT:
                o->init = true;
                break;
        case OPT_INIT_PATH:
                o->init_path = optarg;
                break;
        case OPT_PULL:
                o->pull = optarg;
                return check_choice("--pull", optarg, pulls, err);
        case OPT_NETWORK:
                o->network = optarg;
                break;
        case OPT_ULIMIT:
                strv_push(&o->ulimits, optarg);
                break;
        case OPT_SHM_SIZE:
                o->shm_size = optarg;
                break;
        case OPT_LABEL:
                strv_push(&o->labels, optarg);
                break;
        case OPT_ANNOTATION:
                strv_push(&o->annotations, optarg);
                break;
        case OPT_RUNTIME:
                o->runtime = optarg;
                break;
        case OPT_TLS_VERIFY:
                r = pea_cmd_parse_bool("--tls-verify", optarg, &b, err);
                o->tls_verify = b;
                return r;
        default:
                return -ENOENT;
        }
        return 0;
}

static int parse_one(int c, struct pea_run_opts *o, struct pea_error **err)
{
        switch (c) {
        case 'i':
                o->interactive = true;
                return 0;
        case 't':
                o->tty = true;
                return 0;
        case 'd':
                o->detach = true;
                return 0;
        case 'e':
                strv_push(&o->env, optarg);
                return 0;
        case 'u':
                o->user = optarg;
                return 0;
        case 'w':
                o->workdir = optarg;
                return 0;
        case 'v':
                strv_push(&o->volumes, optarg);
                return 0;
        default:
                return parse_long(c, o, err);
        }
}

int pea_run_parse(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                  struct pea_run_opts *o, struct pea_error **err)
{
        int c;
        o->tls_verify = -1;
        while ((c = getopt_long(argc, argv, "+:hitde:u:w:v:", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, cmd);
                        return 1;
                }
                int r = parse_one(c, o, err);
                if (r == -ENOENT)
                        return pea_cli_opt_error(c, argc, argv, err);
                if (r < 0)
                        return r;
        }
        int r = pea_cli_check_args(cli, argc - optind, 1, -1, err);
        if (r < 0)
                return r;
        o->image = argv[optind];
        o->command = argv + optind + 1;
        return 0;
}
