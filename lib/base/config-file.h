/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include <sys/types.h>

#include <jansson.h>

struct pea_error;

/* What the command line overrides (NULL: not given). */
struct pea_config_overrides {
        const char *root;
        const char *runroot;
        const char *storage_driver;
};

/*
 * The engine's settings: who we are, where state lives, and the parsed
 * containers.conf and storage.conf (merged from the standard places, later
 * files winning; unknown keys are kept and ignored).
 */
struct pea_config {
        bool rootless;
        uid_t uid;
        gid_t gid;
        char *user;              /* login name, "" when unknown */
        char *home;              /* $HOME or the passwd entry */
        char *graph_root;        /* storage: /var/lib/pea or $XDG_DATA_HOME/containers/pea */
        char *run_root;          /* runtime state: /run/pea or $XDG_RUNTIME_DIR/pea */
        char *storage_driver;    /* "" when neither flag nor storage.conf sets one */
        char *storage_conf;      /* the storage.conf read, or "" */
        char **containers_confs; /* the containers.conf files read, in order */
        json_t *containers_conf; /* merged containers.conf */
        json_t *storage_conf_json;
};

int pea_config_load(struct pea_config *c, const struct pea_config_overrides *o,
                    struct pea_error **err);
void pea_config_done(struct pea_config *c);

/* Creates graph_root and run_root (0700) if missing. */
int pea_config_ensure_dirs(const struct pea_config *c, struct pea_error **err);

/* A string key of containers.conf ("engine.runtime"), or def. */
const char *pea_config_get(const struct pea_config *c, const char *path, const char *def);
