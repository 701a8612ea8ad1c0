/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "base.h"

struct pea_state;

/* What a command needs set up before it runs (git's RUN_SETUP). */
enum {
        PEA_NEEDS_CONFIG = 1 << 0, /* containers.conf, storage.conf, paths */
        PEA_NEEDS_DIRS = 1 << 1,   /* graph root and run root exist */
        PEA_NEEDS_STATE = 1 << 2,  /* the state store is open */
        PEA_NEEDS_USERNS = 1 << 3, /* rootless: inside the per-user user+mount namespace */
};

struct pea_cli {
        struct pea_config_overrides overrides;
        struct pea_config config;
        struct pea_state *state;
        const char *log_level;
        /* the command path for messages, e.g. "pea system doctor" */
        char *cmdpath;
};

struct pea_cmd {
        const char *name;
        int (*fn)(struct pea_cli *cli, int argc, char **argv, struct pea_error **err);
        unsigned flags;
        const char *summary;
        /* "[options] IMAGE [COMMAND [ARG...]]" */
        const char *usage;
        /* option help, one line per flag, printed by --help */
        const char *options;
        /* or a function printing it (commands with generated flag tables) */
        void (*print_options)(void);
        /* a command with subcommands has this table (NULL-terminated) and no fn */
        const struct pea_cmd *const *sub;
        bool hidden;
};

/*
 * A command returns its exit code (>= 0), or < 0 with err set: cmd/pea.c
 * prints "Error: <msg>" and exits 125 (or cli_exit_code when set).
 */
extern int pea_cli_exit_code;

/* Makes the error for a getopt_long return of '?' or ':'. */
int pea_cli_opt_error(int c, int argc, char **argv, struct pea_error **err);

/* Prints the --help of cmd to stdout. */
void pea_cli_print_help(const struct pea_cli *cli, const struct pea_cmd *cmd);

/* Runs a command: sets up what its flags need, dispatches subcommands. */
int pea_cli_run(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                struct pea_error **err);

/* Checks the positional argument count: min..max (max < 0: no limit). */
int pea_cli_check_args(const struct pea_cli *cli, int n, int min, int max, struct pea_error **err);

/* Common option handling: returns true when argv holds -h/--help first. */
#define PEA_HELP_OPTION                        \
        {                                      \
                "help", no_argument, NULL, 'h' \
        }

/* The command tables of each family (one file per family). */
extern const struct pea_cmd pea_cmd_version;
extern const struct pea_cmd pea_cmd_info;
extern const struct pea_cmd pea_cmd_system;
extern const struct pea_cmd *const pea_cmds[];
extern const struct pea_cmd pea_cmd_doctor;
extern const struct pea_cmd pea_cmd_unshare;
extern const struct pea_cmd pea_cmd_system_migrate;

/* Images: cmd/image.c, image-pull.c, image-list.c, image-inspect.c, login.c. */
extern const struct pea_cmd pea_cmd_image;
extern const struct pea_cmd pea_cmd_images;
extern const struct pea_cmd pea_cmd_image_list;
extern const struct pea_cmd pea_cmd_image_ls;
extern const struct pea_cmd pea_cmd_image_inspect;
extern const struct pea_cmd pea_cmd_image_exists;
extern const struct pea_cmd pea_cmd_image_prune;
extern const struct pea_cmd pea_cmd_image_rm;
extern const struct pea_cmd pea_cmd_history;
extern const struct pea_cmd pea_cmd_pull;
extern const struct pea_cmd pea_cmd_rmi;
extern const struct pea_cmd pea_cmd_tag;
extern const struct pea_cmd pea_cmd_untag;
extern const struct pea_cmd pea_cmd_login;
extern const struct pea_cmd pea_cmd_logout;
/* cmd/image-io.c; in the image table once PEA_HAVE_IMAGE_IO is 1 (cmd/image.c). */
extern const struct pea_cmd pea_cmd_push;
extern const struct pea_cmd pea_cmd_save;
extern const struct pea_cmd pea_cmd_load;
extern const struct pea_cmd pea_cmd_import;

/* cmd/run.c: run, create, start, rm */
extern const struct pea_cmd pea_cmd_run;
extern const struct pea_cmd pea_cmd_create;
extern const struct pea_cmd pea_cmd_start;
extern const struct pea_cmd pea_cmd_rm;

/* The lifecycle: cmd/ps.c, container-inspect.c, logs.c, stop.c (stop, kill). */
extern const struct pea_cmd pea_cmd_ps;
extern const struct pea_cmd pea_cmd_inspect;
extern const struct pea_cmd pea_cmd_container_inspect;
extern const struct pea_cmd pea_cmd_logs;
extern const struct pea_cmd pea_cmd_stop;
extern const struct pea_cmd pea_cmd_kill;
/* cmd/attach.c, exec.c, restart.c, healthcheck.c */
extern const struct pea_cmd pea_cmd_attach;
extern const struct pea_cmd pea_cmd_exec;
extern const struct pea_cmd pea_cmd_restart;
extern const struct pea_cmd pea_cmd_healthcheck;
extern const struct pea_cmd pea_cmd_healthcheck_run;

/* cmd/auto-update.c */
extern const struct pea_cmd pea_cmd_auto_update;

/* cmd/generate.c: generate systemd */
extern const struct pea_cmd pea_cmd_generate;
extern const struct pea_cmd pea_cmd_generate_systemd;

/* cmd/port.c */
extern const struct pea_cmd pea_cmd_port;

/* cmd/volume.c */
extern const struct pea_cmd pea_cmd_volume;

/* cmd/pod.c: the pod family */
extern const struct pea_cmd pea_cmd_pod;

/* Container commands: cmd/wait.c, top.c, rename.c, pause.c, events.c, container.c. */
extern const struct pea_cmd pea_cmd_wait;
extern const struct pea_cmd pea_cmd_top;
extern const struct pea_cmd pea_cmd_rename;
extern const struct pea_cmd pea_cmd_pause;
extern const struct pea_cmd pea_cmd_unpause;
extern const struct pea_cmd pea_cmd_events;
extern const struct pea_cmd pea_cmd_container;
extern const struct pea_cmd pea_cmd_container_exists;
extern const struct pea_cmd pea_cmd_container_prune;
/* cmd/cp.c, export.c, commit.c, diff.c; system df, prune, reset in cmd/system.c. */
extern const struct pea_cmd pea_cmd_cp;
extern const struct pea_cmd pea_cmd_export;
extern const struct pea_cmd pea_cmd_commit;
extern const struct pea_cmd pea_cmd_diff;
extern const struct pea_cmd pea_cmd_system_df;
extern const struct pea_cmd pea_cmd_system_prune;
extern const struct pea_cmd pea_cmd_system_reset;

struct pea_container_ctx;
struct pea_container_row;

/* A context with state and paths only (no image store or storage), as ps uses. */
void pea_cmd_container_ctx_light(struct pea_cli *cli, struct pea_container_ctx *ctx);
/* The names to act on: argv[0..argc), or with latest the newest container's ID. */
int pea_cmd_container_targets(const struct pea_container_ctx *ctx, bool latest, int argc,
                              char **argv, char ***ret, struct pea_error **err);
/* pea_container_remove_with_volumes and the "remove" event. */
int pea_cmd_container_remove(const struct pea_container_ctx *ctx, const char *id, bool force,
                             bool volumes, struct pea_error **err);
/* cmd/top.c: the host pids of the processes in init's pid namespace, ascending (only init
 * when that is the host's own namespace). */
int pea_cmd_container_pids(pid_t init, pid_t **ret, size_t *ret_n, struct pea_error **err);
/* cmd/pause.c: thaws a paused container first (stop, kill, rm -f); 0 when it was not paused. */
int pea_cmd_container_thaw(const struct pea_container_ctx *ctx, const char *id,
                           struct pea_error **err);

/* cmd/events.c: appends to the event journal; a failure is logged as a warning. */
void pea_cmd_event_container(const char *run_root, const struct pea_container_row *row,
                             const char *status);
void pea_cmd_event_died(const char *run_root, const struct pea_container_row *row, int exit_code);
/* The event of the container id as stored now ("died" carries its exit code). */
void pea_cmd_event_id(const struct pea_container_ctx *ctx, const char *id, const char *status);
void pea_cmd_event(const char *run_root, const char *type, const char *status, const char *id,
                   const char *name);
