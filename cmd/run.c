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
                {o->publish || o->publish_all || o->expose, "--publish/--publish-all/--expose"},
                {o->dns || o->dns_search || o->dns_options || o->add_hosts || o->no_hosts,
                 "--dns/--dns-search/--dns-option/--add-host/--no-hosts"},
                {o->pod || o->pod_id_file, "--pod"},
                {o->ipc || o->pid || o->uts, "--ipc/--pid/--uts"},
                {o->mounts || o->volumes_from, "--mount/--volumes-from"},
                {o->restart, "--restart"},
                {o->log_driver || o->log_opts, "--log-driver/--log-opt"},
                {o->detach_keys || o->sig_proxy >= 0, "--detach-keys/--sig-proxy"},
                {o->stop_signal || o->stop_timeout, "--stop-signal/--stop-timeout"},
                {o->health_cmd || o->health_interval || o->health_retries || o->health_timeout
                         || o->health_start_period || o->health_on_failure || o->no_healthcheck,
                 "--health-*"},
                {o->cidfile || o->replace || o->sdnotify, "--cidfile/--replace/--sdnotify"},
        };

        for (size_t i = 0; i < ELEMENTSOF(u); i++)
                if (u[i].set)
                        return pea_error_set(err, ENOTSUP, "%s: not supported yet", u[i].flag);
        return 0;
}

/* Validates what the spec generator cannot: supported networks, the init binary. */
static int check_opts(struct pea_run_opts *o, char **ret_init, struct pea_error **err)
{
        int r = check_unsupported(o, err);
        if (r < 0)
                return r;
        if (o->network && !streq(o->network, "none") && !streq(o->network, "host")
            && !streq(o->network, "private"))
                return pea_error_set(err, ENOTSUP, "network mode '%s' is not supported yet",
                                     o->network);
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
        struct pea_container_create_opts co = {
                .name = o->name,
                .image_id = image_id,
                .image_name = image_name,
                .spec = &spec,
                .runtime = o->runtime,
                .remove = o->rm,
                .labels = o->labels,
        };
        struct pea_container_row row = {};
        r = pea_container_create(&e->ctx, &co, &row, err);
        if (r < 0)
                return r;
        *ret_id = xstrdup(row.id);
        pea_container_row_done(&row);
        return 0;
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
        int r = pea_container_start(&e->ctx, id, &status, err);
        if (r < 0)
                pea_cli_exit_code = pea_runtime_error_exit_code(*err);
        (void)pea_container_cleanup(&e->ctx, id, NULL);
        if (rm) {
                /* the first error wins; a failed removal after a good run is reported */
                int r2 = pea_container_remove(&e->ctx, id, true, r < 0 ? NULL : err);
                if (r >= 0 && r2 < 0)
                        return r2;
        }
        return r < 0 ? r : status;
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
        if (r == 0)
                r = create_container(cli, &e, &o, &id, err);
        if (r == 0 && create_only) {
                (void)pea_container_cleanup(&e.ctx, id, NULL);
                printf("%s\n", id);
        } else if (r == 0 && o.detach) {
                r = run_detached(&e, id, err);
                if (r < 0)
                        (void)pea_container_remove(&e.ctx, id, true, NULL);
        } else if (r == 0) {
                if (!o.interactive)
                        stdin_from_null();
                r = start_foreground(&e, id, o.rm, err);
        }
        pea_run_env_done(&e);
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

static int parse_flags(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                       char flag, const char *long_flag, bool *ret_flag, struct pea_error **err)
{
        const struct option longopts[] = {
                {long_flag, no_argument, NULL, flag},
                PEA_HELP_OPTION,
                {},
        };
        char optstring[8] = {':', 'h', flag, '\0'};
        int c;
        while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, cmd);
                        return 1;
                }
                if (c != flag)
                        return pea_cli_opt_error(c, argc, argv, err);
                *ret_flag = true;
        }
        return pea_cli_check_args(cli, argc - optind, 1, -1, err);
}

static int start_one(struct run_env *e, const char *name, bool attach, struct pea_error **err)
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
                return start_foreground(e, id, rm, err);
        if (!running) {
                r = pea_cmd_container_start_detached(&e->ctx, id, false, NULL, err);
                if (r < 0) {
                        pea_cli_exit_code = pea_runtime_error_exit_code(*err);
                        return r;
                }
        }
        printf("%s\n", name);
        return 0;
}

static int cmd_start(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        bool attach = false;
        int r = parse_flags(cli, &pea_cmd_start, argc, argv, 'a', "attach", &attach, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (attach && argc - optind != 1)
                return pea_error_set(err, EINVAL,
                                     "you cannot start and attach multiple containers at once");
        struct run_env e = {};
        r = pea_run_env_open(cli, &e, err);
        for (int i = optind; r >= 0 && i < argc; i++)
                r = start_one(&e, argv[i], attach, err);
        pea_run_env_done(&e);
        return r;
}

static int rm_one(struct run_env *e, const char *name, bool force, struct pea_error **err)
{
        struct pea_container_row row = {};
        int r = pea_state_container_lookup(e->ctx.state, name, &row, err);
        if (r == -ENOENT && force) {
                /* podman: rm -f ignores containers that do not exist */
                pea_error_clear(err);
                return 0;
        }
        if (r < 0)
                return r;
        _cleanup_free_ char *id = xstrdup(row.id);
        r = pea_cmd_container_sync(&e->ctx, &row, err);
        bool running = r >= 0 && streq(row.state, "running");
        pea_container_row_done(&row);
        if (r < 0)
                return r;
        /* -f: kill it and wait for the monitor to record the exit, then remove */
        if (running && force) {
                r = pea_cmd_container_stop(&e->ctx, id, SIGKILL, 0, err);
                if (r < 0)
                        return r;
        }
        r = pea_container_remove(&e->ctx, id, force, err);
        if (r < 0)
                return r;
        /* podman 4 prints the name or ID as the user gave it */
        printf("%s\n", name);
        return 0;
}

static int cmd_rm(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        bool force = false;
        int r = parse_flags(cli, &pea_cmd_rm, argc, argv, 'f', "force", &force, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct run_env e = {};
        r = pea_run_env_open(cli, &e, err);
        for (int i = optind; r >= 0 && i < argc; i++)
                r = rm_one(&e, argv[i], force, err);
        pea_run_env_done(&e);
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
        .options = "  -a, --attach   Attach container's STDOUT and STDERR\n",
};

const struct pea_cmd pea_cmd_rm = {
        .name = "rm",
        .fn = cmd_rm,
        .flags = CONTAINER_FLAGS,
        .summary = "Remove one or more containers",
        .usage = "[options] CONTAINER [CONTAINER...]",
        .options = "  -f, --force   Force removal of a running or unusable container\n",
};
