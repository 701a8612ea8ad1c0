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
        const char *cidfile;  /* --cidfile: the ID is written there */
        bool replace;         /* --replace: remove a container of the same name first */
        const char *sdnotify; /* conmon | container | ignore */

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

/* Polls until the row is not running (repairing it as above); -ETIMEDOUT, no err set. */
int pea_cmd_container_wait_stopped(const struct pea_container_ctx *ctx, const char *id,
                                   int64_t timeout_ns, struct pea_error **err);
