/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

struct pea_config;
struct pea_error;

/* The holder's comm (prctl PR_SET_NAME): how a pid file's pid is recognised. */
#define PEA_USERNS_HOLDER_COMM "pea-holder"

/* Files in the run root. */
#define PEA_USERNS_PID_FILE  "userns.pid"
#define PEA_USERNS_LOCK_FILE "userns.lock"

/*
 * Starts a holder for c (the caller holds the lock): a double-forked child
 * that unshares a user namespace, gets the mapping of /etc/subuid and
 * /etc/subgid, unshares a mount namespace, writes its pid to pid_path and
 * sleeps until SIGTERM.
 */
int pea_userns_holder_start(const struct pea_config *c, const char *pid_path, pid_t *ret_pid,
                            struct pea_error **err);
