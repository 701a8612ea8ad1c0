/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/* What cmd/run.c and cmd/run-opts.c share: pea run / create options. */

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
        int tls_verify; /* -1 unset */
        char **env, **env_files, **volumes, **tmpfs, **cap_add, **cap_drop;
        char **security_opts, **ulimits, **labels, **annotations;
        const char *image;
        char **command; /* borrowed from argv */
};

void pea_run_opts_done(struct pea_run_opts *o);

/* Parses argv (getopt_long, "+": stops at IMAGE); 1 when --help was printed. */
int pea_run_parse(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                  struct pea_run_opts *o, struct pea_error **err);

extern const char pea_run_options_help[];
