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

/* cmd/volume.c */
extern const struct pea_cmd pea_cmd_volume;
