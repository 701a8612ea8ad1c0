/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <sys/types.h>

/* What cmd/run.c and cmd/run-opts.c share: pea run / create options. */

#include "container/container.h"
#include "image/image.h"

struct pea_cli;
struct pea_cmd;
struct pea_error;
struct pea_monitor_config;
struct json_t;

struct pea_run_opts {
        bool create_only; /* pea create */
        bool rm, interactive, tty, detach;
        bool read_only, privileged, init;
        const char *name, *hostname, *user, *workdir;
        const char *entrypoint; /* NULL: not given; "" clears */
        const char *userns, *network, *shm_size, *runtime, *pull, *init_path;
        const char *umask;
        int tls_verify;      /* -1 unset */
        int read_only_tmpfs; /* -1 unset */
        char **env, **env_files, **volumes, **tmpfs, **cap_add, **cap_drop;
        char **security_opts, **ulimits, **labels, **annotations;

        /* Networking and sharing (pods issue): NULL/false when not given. */
        char **publish;   /* -p [ip:][hostPort:]containerPort[/proto] */
        bool publish_all; /* -P */
        char **expose;    /* --expose PORT[/proto] */
        char **dns, **dns_search, **dns_options, **add_hosts;
        bool no_hosts;
        const char *pod, *pod_id_file; /* --pod NAME|ID|new:NAME */
        bool pod_infra;                /* the infra container of the pod o->pod (cmd/pod-infra.c) */
        const char *ipc, *pid, *uts;   /* host | private | container:NAME | ns:PATH */

        /* Volumes. */
        char **mounts;       /* --mount type=...,src=,dst= */
        char **volumes_from; /* --volumes-from CTR[:ro|rw] */

        /* Lifecycle, handed to the monitor. */
        const char *restart;     /* no | on-failure[:N] | always | unless-stopped */
        const char *log_driver;  /* k8s-file | none | journald(refused) */
        char **log_opts;         /* max-size=, path=, tag= */
        const char *detach_keys; /* "ctrl-p,ctrl-q" */
        const char *stop_signal, *stop_timeout;
        const char *health_cmd, *health_interval, *health_retries, *health_timeout;
        const char *health_start_period, *health_on_failure;
        bool no_healthcheck;
        int sig_proxy; /* -1 unset */

        /* systemd. */
        const char *cidfile;   /* --cidfile: the ID is written there */
        bool replace;          /* --replace: remove a container of the same name first */
        const char *sdnotify;  /* conmon | container | ignore */
        char **create_command; /* the command line as given, kept for generate --new */
        char *notify_dir;      /* --sdnotify=container: the directory of the proxied socket */
        const char *cgroups;   /* enabled | no-conmon | split: where the monitor runs is not
                                  changed (units' Delegate=); disabled is refused */

        const char *image;
        char **command; /* borrowed from argv */
};

void pea_run_opts_done(struct pea_run_opts *o);

/* Parses argv (getopt_long, "+": stops at IMAGE); 1 when --help was printed. */
int pea_run_parse(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                  struct pea_run_opts *o, struct pea_error **err);

/* The option help of run and create (generated from the flag table). */
void pea_run_print_options(void);

/* What every container command opens (cmd/run.c). */
struct pea_run_env {
        struct pea_image_store *store;
        struct pea_storage *storage;
        struct pea_registries regs;
        struct pea_container_ctx ctx;
};

int pea_run_env_open(struct pea_cli *cli, struct pea_run_env *e, struct pea_error **err);
void pea_run_env_done(struct pea_run_env *e);

/* Creates a container as create does (--replace, --cidfile, --pod included); *ret_id its ID. */
int pea_cmd_run_create(struct pea_cli *cli, struct pea_run_env *e, struct pea_run_opts *o,
                       char **ret_id, struct pea_error **err);

/* ---- cmd/run-systemd.c: --cidfile, --replace, --sdnotify ---- */

/* Creates the --cidfile exclusively (podman's message when it exists). */
int pea_cmd_cidfile_open(const char *path, int *ret_fd, struct pea_error **err);
/* Writes id to fd (opened above); id NULL: the create failed, path is removed. fd < 0: no-op. */
int pea_cmd_cidfile_finish(int fd, const char *path, const char *id, struct pea_error **err);
/* The ID in a --cidfile; -ENOENT (err set) when it is missing. */
int pea_cmd_cidfile_read(const char *path, char **ret_id, struct pea_error **err);
/* --replace: stops and removes the container called name, if there is one. */
int pea_cmd_container_replace(const struct pea_container_ctx *ctx, const char *name,
                              struct pea_error **err);
/* Before a create: checks --sdnotify and --replace, opens --cidfile (*ret_cidfd), replaces. */
int pea_cmd_systemd_prepare(const struct pea_container_ctx *ctx, struct pea_run_opts *o,
                            int *ret_cidfd, struct pea_error **err);
/* ["pea", global flags given..., argv...]: the row's create_command. */
char **pea_cmd_create_command(const struct pea_cli *cli, int argc, char **argv);
/* Adds sdnotify and create_command to the row's config update (*life made when NULL). */
int pea_cmd_systemd_store(const struct pea_run_opts *o, struct json_t **life);
/*
 * Started: MAINPID=mainpid and READY=1 to $NOTIFY_SOCKET, unless unset or
 * --sdnotify=ignore; with proxy_fd >= 0 (--sdnotify=container) the proxy is
 * started on it instead (it takes the fd).
 */
void pea_cmd_sd_notify_ready(struct json_t *config, pid_t mainpid, int proxy_fd);

/* ---- cmd/notify-proxy.c: --sdnotify=container ---- */

/* Before the create: the socket directory (o->notify_dir), its bind mount and NOTIFY_SOCKET. */
int pea_cmd_notify_proxy_setup(const char *run_root, struct pea_run_opts *o,
                               struct pea_error **err);
/* Before the start: the bound socket of a --sdnotify=container row, or -1. */
int pea_cmd_sd_notify_prepare(struct json_t *config);
/* After the start: a daemon forwards what arrives on fd to $NOTIFY_SOCKET until mainpid exits. */
void pea_cmd_notify_proxy_start(int fd, pid_t mainpid);
/* The same for a container that runs already, its monitor as MAINPID. */
void pea_cmd_sd_notify_running(const struct pea_container_ctx *ctx, const char *id);

/* cmd/stop.c: "SIGTERM", "TERM", "15", "RTMIN+3" -> the number; -EINVAL otherwise. */
int pea_cmd_parse_signal(const char *s, int *ret, struct pea_error **err);

/* ---- cmd/container-life.c: detached containers through lib/monitor ---- */

/*
 * Mounts the storage and hands a created or exited container to its monitor
 * (lib/monitor), which records running and the pid; *ret_pid (may be NULL)
 * gets the container's host pid. attach_wait: the monitor starts it when the
 * first attach client connects. -EBUSY when it runs already.
 */
int pea_cmd_container_start_detached(const struct pea_container_ctx *ctx, const char *id,
                                     bool attach_wait, pid_t *ret_pid, struct pea_error **err);

/*
 * Makes row truthful: a row saying running whose monitor and process are
 * both gone becomes exited with the code of the monitor's exit record, or
 * stopped with exit code -1 and config "error" when there is none; written
 * in one transaction, and row re-read. 1 when repaired, 0 when left alone.
 * Needs only ctx->state and ctx->run_root.
 */
int pea_cmd_container_sync(const struct pea_container_ctx *ctx, struct pea_container_row *row,
                           struct pea_error **err);

/* pea_state_container_lookup + pea_cmd_container_sync. */
int pea_cmd_container_get(const struct pea_container_ctx *ctx, const char *name_or_id,
                          struct pea_container_row *ret, struct pea_error **err);

/* Sends sig to a running container; -EINVAL (podman's text) when it does not run. */
int pea_cmd_container_kill(const struct pea_container_ctx *ctx, const char *id, int sig,
                           struct pea_error **err);

/*
 * Stops a running container (a stopped one is fine): marks the stop for the
 * monitor (no restart), sends sig (0: SIGTERM), waits timeout_s seconds for
 * the recorded exit, then SIGKILL and waits again. timeout_s 0: SIGKILL at once.
 */
int pea_cmd_container_stop(const struct pea_container_ctx *ctx, const char *id, int sig,
                           unsigned timeout_s, struct pea_error **err);

/*
 * The lifecycle flags of run/create (--restart, --log-*, --health-*, --stop-*,
 * --detach-keys, --sig-proxy, -i), validated into what is merged into the row's
 * config (*ret NULL when none was given), and that merge after the create.
 */
int pea_cmd_lifecycle_from_opts(const struct pea_run_opts *o, struct json_t **ret,
                                struct pea_error **err);
int pea_cmd_lifecycle_store(const struct pea_container_ctx *ctx, const char *id, struct json_t *set,
                            struct pea_error **err);
/* The healthcheck in effect (podman's Config.Healthcheck; borrowed), or NULL. */
struct json_t *pea_cmd_container_healthcheck(struct json_t *config);
/* Fills the monitor's settings from a row's config; *ret_owned holds the healthcheck argv. */
int pea_cmd_monitor_config_from_row(struct json_t *config, struct pea_monitor_config *cfg,
                                    char ***ret_owned, struct pea_error **err);
/* The stop timeout of a row's config (--stop-timeout), 10 by default. */
unsigned pea_cmd_container_stop_timeout(struct json_t *config);

/* ---- cmd/attach.c ---- */
struct pea_cmd_attach_opts {
        const char *detach_keys; /* NULL: the container's (--detach-keys), else ctrl-p,ctrl-q */
        bool stdin;              /* our stdin goes to the container's */
        bool sig_proxy;          /* signals we get go to the container (not with a tty) */
};

/*
 * Attaches our stdio to the container's through its monitor (raw mode when
 * it has a terminal). 1 when the user detached; 0 when the container's
 * output ended, with *ret_code its recorded exit code.
 */
int pea_cmd_container_attach(const struct pea_container_ctx *ctx, const char *id,
                             const struct pea_cmd_attach_opts *o, int *ret_code,
                             struct pea_error **err);

/*
 * start -a, and run without -d when the monitor is needed (--restart, a
 * healthcheck): the monitor starts the container once we are attached.
 */
int pea_cmd_container_start_attached(const struct pea_container_ctx *ctx, const char *id,
                                     bool interactive, int *ret_code, struct pea_error **err);

/* Whether the container needs its monitor in the foreground too (restart policy, healthcheck). */
bool pea_cmd_container_needs_monitor(const struct pea_container_ctx *ctx, const char *id);

/* Polls until the row is not running (repairing it as above); -ETIMEDOUT, no err set. */
int pea_cmd_container_wait_stopped(const struct pea_container_ctx *ctx, const char *id,
                                   int64_t timeout_ns, struct pea_error **err);
