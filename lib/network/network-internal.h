/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <sys/types.h>

#include "network/network.h"

struct pea_error;

/* A network backend (DESIGN.md rule 4); the state is its handle. */
struct pea_network_backend {
        const char *name;
        int (*setup)(const char *netns_path, const struct pea_network_opts *o,
                     struct pea_network_state *ret, struct pea_error **err);
        int (*add_port)(struct pea_network_state *s, const struct pea_port_mapping *m,
                        struct pea_error **err);
        int (*teardown)(struct pea_network_state *s, struct pea_error **err);
};

extern const struct pea_network_backend pea_network_slirp4netns;
extern const struct pea_network_backend pea_network_pasta;

/* Appends a copy of m (host_ip copied). */
void network_ports_push(struct pea_ports *p, const struct pea_port_mapping *m);

/* Binds proto on ip:port (0: any port) and returns the port bound, or -errno. */
int network_port_probe(const char *ip, uint16_t port, enum pea_port_proto proto);

/* "cannot expose port N: address already in use" when the host port is taken, else 0. */
int network_port_in_use_error(const struct pea_port_mapping *m, unsigned k, struct pea_error **err);

/*
 * Runs argv detached from the caller (double fork, new session, stdin and
 * stdout /dev/null, stderr appended to log_path), keeping keep_fd (-1: none)
 * open in it. *ret_pid is the program's pid (an orphan, not our child).
 */
int network_spawn_detached(char *const *argv, int keep_fd, const char *log_path, pid_t *ret_pid,
                           struct pea_error **err);

/* Runs argv as a child with stderr to log_path and waits for it; returns its exit status. */
int network_run(char *const *argv, const char *log_path, struct pea_error **err);

/* True when pid runs a program whose argv holds both words (NULL: any). */
bool network_pid_matches(pid_t pid, const char *word1, const char *word2);

/* SIGTERM (SIGKILL after 2 s) to pid, if it is still the helper; waits until it is gone. */
int network_kill_helper(pid_t pid, const char *prog, const char *word, struct pea_error **err);

/* The last line of a helper's log file, for error messages ("" when none). */
char *network_log_tail(const char *log_path);

/* Reads a pid file; -ENOENT, -EBADMSG. */
int network_read_pid(const char *path, pid_t *ret);

/* Fills the state's file names from prefix and backend name. */
void network_state_init(struct pea_network_state *s, const char *backend, const char *netns_path,
                        const struct pea_network_opts *o);

/* Removes the helper's files. */
void network_state_unlink(const struct pea_network_state *s);
