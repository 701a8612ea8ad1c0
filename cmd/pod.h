/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/* What cmd/pod*.c share with run/create (cmd/run.c) and start (cmd/container-life.c). */

struct json_t;
struct pea_cli;
struct pea_cmd;
struct pea_container_ctx;
struct pea_container_net_opts;
struct pea_container_row;
struct pea_error;
struct pea_run_env;
struct pea_run_opts;

/* pod create's options (also --pod new:NAME with defaults). */
struct pea_pod_create_opts {
        const char *name, *hostname, *network, *userns, *share;
        const char *infra_image, *infra_name, *infra_command;
        const char *pod_id_file;
        char **publish, **labels, **add_hosts, **dns, **dns_search, **dns_options;
        bool no_infra, replace;
        char **create_command;
};

/* Creates a pod (and its infra container, not started); *ret_id gets its ID. */
int pea_cmd_pod_new(struct pea_cli *cli, struct pea_run_env *e, const struct pea_pod_create_opts *o,
                    char **ret_id, struct pea_error **err);

/* What run/create --pod resolved; the net opts borrow from it. */
struct pea_cmd_pod_member {
        char *pod_id;
        char *infra; /* "container:<infra id>" */
        char **names;
};

/*
 * run/create --pod NAME|ID|new:NAME (and --pod-id-file): refuses -p on a
 * member (the ports belong to the pod), creates the pod for new:NAME (taking
 * the -p), starts the infra and points net's namespaces at it. 0 without
 * --pod; o->pod_infra: only the pod's ID.
 */
int pea_cmd_pod_member_prepare(struct pea_cli *cli, struct pea_run_env *e, struct pea_run_opts *o,
                               struct pea_container_net_opts *net, struct pea_cmd_pod_member *m,
                               struct pea_error **err);
void pea_cmd_pod_member_done(struct pea_cmd_pod_member *m);

/* After a member was created: its name is appended to the other members' /etc/hosts. */
void pea_cmd_pod_member_added(const struct pea_container_ctx *ctx,
                              const struct pea_container_row *row);

/* Starts the pod's infra container unless it runs; *ret_pid (may be NULL) gets its pid. */
int pea_cmd_pod_start_infra(const struct pea_container_ctx *ctx, const char *pod_id, int *ret_pid,
                            struct pea_error **err);

/*
 * Before a member id of pod_id starts: the infra first, and the member's
 * namespace paths pointed at the infra's current pid. 0 for the infra itself.
 */
int pea_cmd_pod_before_start(const struct pea_container_ctx *ctx, const char *id,
                             const char *pod_id, bool infra, struct pea_error **err);

/* pod inspect's object for a pod (name, ID or prefix), its containers' states made truthful. */
int pea_cmd_pod_inspect_json(const struct pea_container_ctx *ctx, const char *name_or_id,
                             struct json_t **ret, struct pea_error **err);

/* cmd/pod-ps.c: ps/ls/list, top, logs, pause, unpause. */
extern const struct pea_cmd pea_cmd_pod_ps, pea_cmd_pod_ls, pea_cmd_pod_list, pea_cmd_pod_top,
        pea_cmd_pod_logs, pea_cmd_pod_pause, pea_cmd_pod_unpause;
