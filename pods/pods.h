/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * pods/: the pod model. A pod is a row of the state store (lib/state) whose
 * config holds what `pod create` was given; its infra container (the pause
 * process, contrib/pause) owns the shared namespaces, and members join them
 * by path (/proc/<infra pid>/ns/<kind>, or the infra's network namespace
 * under the run root). The pod's status is derived from its containers'.
 */

struct json_t;
struct pea_container_row;
struct pea_error;
struct pea_pod_row;

/* The namespaces a pod can share (--share). */
enum {
        PEA_POD_SHARE_CGROUP = 1 << 0,
        PEA_POD_SHARE_IPC = 1 << 1,
        PEA_POD_SHARE_NET = 1 << 2,
        PEA_POD_SHARE_PID = 1 << 3,
        PEA_POD_SHARE_UTS = 1 << 4,
};

#define PEA_POD_SHARE_DEFAULT (PEA_POD_SHARE_IPC | PEA_POD_SHARE_NET | PEA_POD_SHARE_UTS)

/*
 * --share: a comma-separated list of cgroup, ipc, net, pid, uts (or "none",
 * or ""); a list starting with "+" adds to the default net,ipc,uts.
 * -EINVAL naming the bad kind.
 */
int pea_pod_share_parse(const char *arg, unsigned *ret, struct pea_error **err);

/* The kinds of mask as inspect's SharedNamespaces (["cgroup", "ipc", ...]). */
struct json_t *pea_pod_share_to_json(unsigned mask);
/* The mask of such an array; unknown names are ignored. */
unsigned pea_pod_share_from_json(struct json_t *a);

/*
 * podman's pod status from its containers' states (infra included):
 * "Created" without containers, "Running" when all run, "Degraded" when some
 * do, "Paused"/"Exited" when all are, "Error" for an unknown state.
 */
const char *pea_pod_status(const char *const *states, size_t n);

/* The status of a pod from its container rows. */
const char *pea_pod_status_of(const struct pea_container_row *ctrs, size_t n);

/*
 * Points the namespaces of an OCI config (bundle/config.json) that were
 * joined from another process (/proc/N/ns/KIND) at pid's: a member of a pod
 * whose infra was restarted. 1 when the file was rewritten, 0 when nothing
 * pointed at /proc.
 */
int pea_pod_refresh_namespaces(const char *config_path, int pid, struct pea_error **err);

/* Whether the container row is the infra container of a pod. */
bool pea_pod_row_is_infra(const struct pea_container_row *row);

/*
 * podman's `pod inspect` object: Id, Name, Created, State, Hostname, Labels,
 * CreateInfra, InfraContainerID, InfraConfig, SharedNamespaces,
 * NumContainers, Containers [{Id, Name, State}].
 */
struct json_t *pea_pod_inspect_json(const struct pea_pod_row *pod,
                                    const struct pea_container_row *ctrs, size_t n);
