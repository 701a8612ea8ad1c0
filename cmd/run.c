/* SPDX-License-Identifier: Apache-2.0 */
/* pea run, create, start and rm. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "container/container.h"
#include "image.h"
#include "pod.h"
#include "pods/pods.h"
#include "run.h"
#include "runtime/runtime.h"
#include "runtime/specgen.h"
#include "state/state.h"
#include "storage/storage.h"

#define run_env pea_run_env

void pea_run_env_done(struct run_env *e)
{
        e->storage = pea_storage_free(e->storage);
        e->store = pea_image_store_close(e->store);
        pea_registries_done(&e->regs);
}

int pea_run_env_open(struct pea_cli *cli, struct run_env *e, struct pea_error **err)
{
        const struct pea_config *c = &cli->config;
        int r = pea_cmd_open_store(cli, &e->store, &e->regs, err);
        if (r < 0)
                return r;
        r = pea_storage_open(c->graph_root, c->run_root, c->storage_driver, c->rootless,
                             &e->storage, err);
        if (r < 0)
                return r;
        e->ctx = (struct pea_container_ctx){
                .state = cli->state,
                .store = e->store,
                .storage = e->storage,
                .graph_root = c->graph_root,
                .run_root = c->run_root,
                .rootless = c->rootless,
        };
        return 0;
}

static int pull(struct pea_cli *cli, struct run_env *e, const struct pea_run_opts *o, char **ret_id,
                struct pea_error **err)
{
        struct pea_image_pull_opts po;
        pea_cmd_pull_defaults(cli, &po);
        struct pea_cmd_registry_flags rf = {.tls_verify = o->tls_verify};
        po.tls_verify = o->tls_verify;
        return pea_cmd_pull_image(cli, e->store, &e->regs, o->image, &rf, &po, false, ret_id, err);
}

/* The image's ID and the name it was found by, pulling per --pull. */
static int resolve_image(struct pea_cli *cli, struct run_env *e, const struct pea_run_opts *o,
                         char **ret_id, char **ret_name, struct pea_error **err)
{
        const char *policy = o->pull ? o->pull : "missing";
        _cleanup_free_ char *pulled = NULL;
        int r = 0;
        if (streq(policy, "always")) {
                r = pull(cli, e, o, &pulled, err);
                if (r < 0)
                        return r;
        }
        struct pea_image_record rec = {};
        char *name = NULL;
        r = pea_image_store_lookup(e->store, pulled ? pulled : o->image, &rec, &name, err);
        if (r == -ENOENT && !pulled && !streq(policy, "never")) {
                pea_error_clear(err);
                r = pull(cli, e, o, &pulled, err);
                if (r >= 0)
                        r = pea_image_store_lookup(e->store, pulled, &rec, &name, err);
        }
        if (r < 0)
                return r;
        *ret_id = xstrdup(rec.id);
        *ret_name = name ? name : xstrdup(rec.names && rec.names[0] ? rec.names[0] : o->image);
        pea_image_record_done(&rec);
        return 0;
}

static void spec_opts_from(const struct pea_cli *cli, const struct pea_run_opts *o,
                           struct pea_spec_opts *s)
{
        *s = (struct pea_spec_opts){
                .command = o->command,
                .entrypoint = o->entrypoint,
                .env = o->env,
                .env_files = o->env_files,
                .workdir = o->workdir,
                .user = o->user,
                .terminal = o->tty,
                .init = o->init,
                .init_path = o->init_path,
                .ulimits = o->ulimits,
                .annotations = o->annotations,
                .read_only = o->read_only,
                .tmpfs = o->tmpfs,
                .volumes = o->volumes,
                .shm_size = o->shm_size,
                .privileged = o->privileged,
                .cap_add = o->cap_add,
                .cap_drop = o->cap_drop,
                .security_opts = o->security_opts,
                .network = o->network,
                .ipc = o->ipc,
                .pid = o->pid,
                .uts = o->uts,
                .userns = o->userns,
                .hostname = o->hostname,
                .umask = o->umask,
                .no_read_only_tmpfs = o->read_only_tmpfs == 0,
                .rootless_uid = cli->config.uid,
                .rootless_gid = cli->config.gid,
        };
}

/* Flags that parse but have no effect yet: refused rather than ignored. */
static int check_unsupported(const struct pea_run_opts *o, struct pea_error **err)
{
        const struct {
                bool set;
                const char *flag;
        } u[] = {
                {o->pod && o->pod_id_file, "--pod together with --pod-id-file"},
        };

        for (size_t i = 0; i < ELEMENTSOF(u); i++)
                if (u[i].set)
                        return pea_error_set(err, ENOTSUP, "%s: not supported yet", u[i].flag);
        return 0;
}

/* Validates what the spec generator cannot: the runtime and init binaries. */
static int check_opts(struct pea_run_opts *o, char **ret_init, struct pea_error **err)
{
        int r = check_unsupported(o, err);
        if (r < 0)
                return r;
        if (o->runtime && o->runtime[0] != '/') {
                char *p = pea_find_executable(o->runtime);
                if (!p)
                        return pea_error_set(err, ENOENT,
                                             "could not find OCI runtime '%s' in $PATH",
                                             o->runtime);
                o->runtime = p; /* leaked on purpose: lives as long as the command */
        }
        *ret_init = NULL;
        if (o->init && !o->init_path) {
                *ret_init = pea_find_helper("pea-init");
                if (!*ret_init)
                        return pea_error_set(err, ENOENT, "init binary 'pea-init' not found");
                o->init_path = *ret_init;
        }
        return 0;
}

static void net_opts_from(const struct pea_run_opts *o, struct pea_container_net_opts *n)
{
        *n = (struct pea_container_net_opts){
                .network = o->network,
                .publish = o->publish,
                .publish_all = o->publish_all,
                .expose = o->expose,
                .dns = o->dns,
                .dns_search = o->dns_search,
                .dns_options = o->dns_options,
                .add_hosts = o->add_hosts,
                .no_hosts = o->no_hosts,
                .ipc = o->ipc,
                .pid = o->pid,
                .uts = o->uts,
        };
}

static int create_container(struct pea_cli *cli, struct run_env *e, struct pea_run_opts *o,
                            char **ret_id, struct pea_error **err)
{
        _cleanup_free_ char *init = NULL;
        int r = check_opts(o, &init, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *image_id = NULL, *image_name = NULL;
        r = resolve_image(cli, e, o, &image_id, &image_name, err);
        if (r < 0)
                return r;
        struct pea_spec_opts spec;
        spec_opts_from(cli, o, &spec);
        struct pea_container_net_opts net;
        net_opts_from(o, &net);
        _cleanup_(pea_cmd_pod_member_done) struct pea_cmd_pod_member pod = {};
        r = pea_cmd_pod_member_prepare(cli, e, o, &net, &pod, err);
        if (r < 0)
                return r;
        struct pea_container_create_opts co = {
                .name = o->name,
                .image_id = image_id,
                .image_name = image_name,
                .pod_id = pod.pod_id,
                .spec = &spec,
                .runtime = o->runtime,
                .remove = o->rm,
                .labels = o->labels,
                .net = &net,
                .mounts = o->mounts,
                .volumes_from = o->volumes_from,
        };
        _cleanup_json_ json_t *life = NULL;
        r = pea_cmd_lifecycle_from_opts(o, &life, err);
        if (r < 0)
                return r;
        (void)pea_cmd_systemd_store(o, &life);
        struct pea_container_row row = {};
        r = pea_container_create(&e->ctx, &co, &row, err);
        if (r < 0)
                return r;
        r = pea_cmd_lifecycle_store(&e->ctx, row.id, life, err);
        if (r < 0)
                (void)pea_container_remove_with_volumes(&e->ctx, row.id, true, true, NULL);
        else
                *ret_id = xstrdup(row.id);
        if (r >= 0)
                pea_cmd_event_container(e->ctx.run_root, &row, "create");
        if (r >= 0 && pod.pod_id && !o->pod_infra)
                pea_cmd_pod_member_added(&e->ctx, &row);
        pea_container_row_done(&row);
        return r;
}

/* create_container with --replace and --cidfile (cmd/run-systemd.c). */
static int create_systemd(struct pea_cli *cli, struct run_env *e, struct pea_run_opts *o,
                          char **ret_id, struct pea_error **err)
{
        _cleanup_close_ int cidfd = -EBADF;
        int r = pea_cmd_systemd_prepare(&e->ctx, o, &cidfd, err);
        if (r < 0)
                return r;
        r = create_container(cli, e, o, ret_id, err);
        int r2 = pea_cmd_cidfile_finish(cidfd, o->cidfile, r < 0 ? NULL : *ret_id, err);
        return r < 0 ? r : r2;
}

int pea_cmd_run_create(struct pea_cli *cli, struct pea_run_env *e, struct pea_run_opts *o,
                       char **ret_id, struct pea_error **err)
{
        return create_systemd(cli, e, o, ret_id, err);
}

/* -d: hand the created container to its monitor and print its ID. */
static int run_detached(struct run_env *e, const char *id, struct pea_error **err)
{
        int r = pea_cmd_container_start_detached(&e->ctx, id, false, NULL, err);
        if (r < 0) {
                pea_cli_exit_code = pea_runtime_error_exit_code(*err);
                return r;
        }
        printf("%s\n", id);
        return 0;
}

/* Runs a created container in the foreground; returns its exit code (or < 0, err set). */
static int start_foreground(struct run_env *e, const char *id, bool rm, struct pea_error **err)
{
        int status = 0;
        pea_cmd_event_id(&e->ctx, id, "start");
        int r = pea_container_bundle_restore(&e->ctx, id, err);
        if (r >= 0)
                r = pea_container_start(&e->ctx, id, &status, err);
        if (r < 0)
                pea_cli_exit_code = pea_runtime_error_exit_code(*err);
        pea_cmd_event_id(&e->ctx, id, "died");
        (void)pea_container_cleanup(&e->ctx, id, NULL);
        if (rm) {
                /* the first error wins; a failed removal after a good run is reported */
                int r2 = pea_cmd_container_remove(&e->ctx, id, true, true, r < 0 ? NULL : err);
                if (r >= 0 && r2 < 0)
                        return r2;
        }
        return r < 0 ? r : status;
}

/*
 * Through the monitor, attached until the container is done: start -a, and run
 * when the monitor is needed (a restart policy, a healthcheck).
 */
static int start_monitored(struct run_env *e, const char *id, bool rm, bool interactive,
                           struct pea_error **err)
{
        int code = 0;
        int r = pea_cmd_container_start_attached(&e->ctx, id, interactive, &code, err);
        if (r < 0) {
                pea_cli_exit_code = pea_runtime_error_exit_code(*err);
                return r;
        }
        if (r == 1)
                return 0; /* detached */
        if (rm) {
                r = pea_cmd_container_remove(&e->ctx, id, true, true, err);
                if (r < 0)
                        return r;
        }
        return code;
}

static void stdin_from_null(void)
{
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && fd != STDIN_FILENO) {
                (void)dup2(fd, STDIN_FILENO);
                (void)close(fd);
        }
}

static int cmd_run_common(struct pea_cli *cli, const struct pea_cmd *cmd, bool create_only,
                          int argc, char **argv, struct pea_error **err)
{
        struct pea_run_opts o = {.create_only = create_only};
        struct run_env e = {};
        _cleanup_free_ char *id = NULL;
        int r = pea_run_parse(cli, cmd, argc, argv, &o, err);
        if (r == 0)
                r = pea_run_env_open(cli, &e, err);
        if (r == 0) {
                o.create_command = pea_cmd_create_command(cli, argc, argv);
                r = create_systemd(cli, &e, &o, &id, err);
        }
        if (r == 0 && create_only) {
                (void)pea_container_cleanup(&e.ctx, id, NULL);
                printf("%s\n", id);
        } else if (r == 0 && o.detach) {
                r = run_detached(&e, id, err);
                if (r < 0)
                        (void)pea_container_remove_with_volumes(&e.ctx, id, true, true, NULL);
        } else if (r == 0) {
                if (!o.interactive)
                        stdin_from_null();
                if (pea_cmd_container_needs_monitor(&e.ctx, id))
                        r = start_monitored(&e, id, o.rm, o.interactive, err);
                else
                        r = start_foreground(&e, id, o.rm, err);
        }
        pea_run_env_done(&e);
        o.create_command = strv_free(o.create_command);
        free(o.notify_dir);
        pea_run_opts_done(&o);
        return r == 1 && !id ? 0 : r;
}

static int cmd_run(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return cmd_run_common(cli, &pea_cmd_run, false, argc, argv, err);
}

static int cmd_create(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return cmd_run_common(cli, &pea_cmd_create, true, argc, argv, err);
}

/* ---- start and rm (minimal; the lifecycle issue extends them) -------------------------------- */

static int start_one(struct run_env *e, const char *name, bool attach, bool interactive,
                     struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_cmd_container_get(&e->ctx, name, &row, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *id = xstrdup(row.id);
        bool rm = json_is_true(json_object_get(row.config, "rm"));
        bool running = streq(row.state, "running");
        pea_container_row_done(&row);
        if (running && attach)
                return pea_error_set(err, EBUSY, "container '%s' is already running", name);
        if (attach)
                return start_monitored(e, id, rm, interactive, err);
        if (!running) {
                r = pea_cmd_container_start_detached(&e->ctx, id, false, NULL, err);
                if (r < 0) {
                        pea_cli_exit_code = pea_runtime_error_exit_code(*err);
                        return r;
                }
        } else {
                pea_cmd_sd_notify_running(&e->ctx, id); /* a unit's start of a pod member */
        }
        printf("%s\n", name);
        return 0;
}

/* start: -a, -i (which attaches too, as podman's) */
static int parse_start(struct pea_cli *cli, int argc, char **argv, bool *attach, bool *interactive,
                       struct pea_error **err)
{
        static const struct option longopts[] = {
                {"attach", no_argument, NULL, 'a'},
                {"interactive", no_argument, NULL, 'i'},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":aih", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_start);
                        return 1;
                }
                if (c == 'a' || c == 'i')
                        *attach = true;
                if (c == 'i')
                        *interactive = true;
                else if (c != 'a')
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        return pea_cli_check_args(cli, argc - optind, 1, -1, err);
}

static int cmd_start(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        bool attach = false, interactive = false;
        int r = parse_start(cli, argc, argv, &attach, &interactive, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (attach && argc - optind != 1)
                return pea_error_set(err, EINVAL,
                                     "you cannot start and attach multiple containers at once");
        struct run_env e = {};
        r = pea_run_env_open(cli, &e, err);
        for (int i = optind; r >= 0 && i < argc; i++)
                r = start_one(&e, argv[i], attach, interactive, err);
        pea_run_env_done(&e);
        return r;
}

struct rm_opts {
        bool force, volumes, ignore;
        long timeout; /* -1: kill at once with -f */
        char **cidfiles;
};

static int rm_one(struct run_env *e, const char *name, const struct rm_opts *o,
                  struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_state_container_lookup(e->ctx.state, name, &row, err);
        if (r == -ENOENT && (o->force || o->ignore)) {
                /* podman: rm -f ignores containers that do not exist */
                pea_error_clear(err);
                return 0;
        }
        if (r < 0)
                return r;
        _cleanup_free_ char *id = xstrdup(row.id);
        if (pea_pod_row_is_infra(&row)) {
                r = pea_error_set(err, EBUSY,
                                  "container %s is the infra container of pod %s and cannot be "
                                  "removed without removing the pod",
                                  row.id, row.pod_id);
                pea_container_row_done(&row);
                return r;
        }
        r = pea_cmd_container_sync(&e->ctx, &row, err);
        pea_container_row_done(&row);
        if (r < 0)
                return r;
        /* -f: stop it (-t: gracefully first) and wait for the recorded exit, then remove;
         * between restarts (not running) its monitor is stopped too */
        if (o->force) {
                r = o->timeout < 0
                            ? pea_cmd_container_stop(&e->ctx, id, SIGKILL, 0, err)
                            : pea_cmd_container_stop(&e->ctx, id, 0, (unsigned)o->timeout, err);
                if (r < 0)
                        return r;
        }
        r = pea_cmd_container_remove(&e->ctx, id, o->force, o->volumes, err);
        if (r < 0)
                return r;
        /* podman 4 prints the name or ID as the user gave it */
        printf("%s\n", name);
        return 0;
}

enum { OPT_CIDFILE = 0x100 };

/* rm's -f, -v, -i, -t and --cidfile. */
static int parse_rm(struct pea_cli *cli, int argc, char **argv, struct rm_opts *o,
                    struct pea_error **err)
{
        static const struct option longopts[] = {
                {"force", no_argument, NULL, 'f'},
                {"volumes", no_argument, NULL, 'v'},
                {"ignore", no_argument, NULL, 'i'},
                {"time", required_argument, NULL, 't'},
                {"cidfile", required_argument, NULL, OPT_CIDFILE},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        long long n = 0;
        while ((c = getopt_long(argc, argv, ":hfvit:", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_rm);
                        return 1;
                }
                if (c == 'f' || c == 'v' || c == 'i')
                        *(c == 'f' ? &o->force : c == 'v' ? &o->volumes : &o->ignore) = true;
                else if (c == OPT_CIDFILE)
                        strv_push(&o->cidfiles, optarg);
                else if (c == 't' && safe_atoll(optarg, &n) >= 0 && n >= 0)
                        o->timeout = (long)n;
                else if (c == 't')
                        return pea_error_set(err, EINVAL,
                                             "invalid argument \"%s\" for \"-t, --time\" flag",
                                             optarg);
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        return pea_cli_check_args(cli, argc - optind, o->cidfiles ? 0 : 1, -1, err);
}

/* The IDs in --cidfile files; with --ignore a missing file is skipped (podman >= 4.4). */
static int rm_cidfiles(struct run_env *e, const struct rm_opts *o, struct pea_error **err)
{
        STRV_FOREACH(f, o->cidfiles) {
                _cleanup_free_ char *id = NULL;
                int r = pea_cmd_cidfile_read(*f, &id, err);
                if (r == -ENOENT && o->ignore) {
                        pea_error_clear(err);
                        continue;
                }
                if (r >= 0)
                        r = rm_one(e, id, o, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmd_rm(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct rm_opts o = {.timeout = -1};
        int r = parse_rm(cli, argc, argv, &o, err);
        if (r != 0) {
                strv_free(o.cidfiles);
                return r < 0 ? r : 0;
        }
        struct run_env e = {};
        r = pea_run_env_open(cli, &e, err);
        if (r >= 0)
                r = rm_cidfiles(&e, &o, err);
        for (int i = optind; r >= 0 && i < argc; i++)
                r = rm_one(&e, argv[i], &o, err);
        pea_run_env_done(&e);
        strv_free(o.cidfiles);
        return r < 0 ? r : 0;
}

#define CONTAINER_FLAGS (PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS)

const struct pea_cmd pea_cmd_run = {
        .name = "run",
        .fn = cmd_run,
        .flags = CONTAINER_FLAGS,
        .summary = "Run a command in a new container",
        .usage = "[options] IMAGE [COMMAND [ARG...]]",
        .print_options = pea_run_print_options,
};

const struct pea_cmd pea_cmd_create = {
        .name = "create",
        .fn = cmd_create,
        .flags = CONTAINER_FLAGS,
        .summary = "Create but do not start a container",
        .usage = "[options] IMAGE [COMMAND [ARG...]]",
        .print_options = pea_run_print_options,
};

const struct pea_cmd pea_cmd_start = {
        .name = "start",
        .fn = cmd_start,
        .flags = CONTAINER_FLAGS,
        .summary = "Start one or more containers",
        .usage = "[options] CONTAINER [CONTAINER...]",
        .options = "  -a, --attach        Attach container's STDOUT and STDERR\n"
                   "  -i, --interactive   Keep STDIN open even if not attached\n",
};

const struct pea_cmd pea_cmd_rm = {
        .name = "rm",
        .fn = cmd_rm,
        .flags = CONTAINER_FLAGS,
        .summary = "Remove one or more containers",
        .usage = "[options] CONTAINER [CONTAINER...]",
        .options = "      --cidfile stringArray   Read the container ID from the file\n"
                   "  -f, --force                 Force removal of a running or unusable "
                   "container\n"
                   "  -i, --ignore                Ignore errors when a specified container is "
                   "missing\n"
                   "  -t, --time uint             Seconds to wait for stop before killing the "
                   "container (default 10)\n"
                   "  -v, --volumes               Remove anonymous volumes associated with the "
                   "container\n",
};
