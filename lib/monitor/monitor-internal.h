/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <sys/types.h>

#include <jansson.h>

#include "monitor/monitor.h"

struct pea_error;

/* Attach packets: the first byte says what the rest is. */
enum {
        ATTACH_STDIN = 1,  /* client -> monitor: data for stdin */
        ATTACH_STDOUT = 2, /* monitor -> client */
        ATTACH_STDERR = 3,
        ATTACH_RESIZE = 4,      /* client -> monitor: rows, cols (2 x uint16) */
        ATTACH_CLOSE_STDIN = 5, /* client -> monitor */
};

#define ATTACH_PACKET_MAX   8192
#define MONITOR_MAX_CLIENTS 64
#define HEALTH_OUTPUT_MAX   4096
#define HEALTH_LOG_MAX      5
#define RESTART_BACKOFF_MIN (100 * INT64_C(1000000))
#define RESTART_BACKOFF_MAX (60 * INT64_C(1000000000))

/* log.c: the k8s-file writer. */
struct monitor_log {
        int fd;
        uint64_t max_size;
        uint64_t size;
};

int monitor_log_open(struct monitor_log *l, const char *path, uint64_t max_size,
                     struct pea_error **err);
void monitor_log_close(struct monitor_log *l);
/* Writes buf as lines of stream ("stdout"/"stderr"): F for full lines, P for a partial tail. */
void monitor_log_write(struct monitor_log *l, const char *stream, const char *buf, size_t len);
/* RFC3339Nano in local time with a numeric offset: 2026-11-24T08:00:00.123456789+00:00. */
char *monitor_rfc3339_nano(int64_t ns);
int64_t monitor_now_ns(void);

/* attach.c: the server side. */
struct monitor_attach {
        int listen_fd;
        int clients[MONITOR_MAX_CLIENTS];
        size_t n_clients;
};

int monitor_attach_listen(struct monitor_attach *a, const char *dir, struct pea_error **err);
void monitor_attach_close(struct monitor_attach *a);
/* Accepts a client; returns its fd (to watch) or -errno. */
int monitor_attach_accept(struct monitor_attach *a);
void monitor_attach_drop(struct monitor_attach *a, int fd);
/* Sends an output packet to every client; clients that fail are dropped. */
void monitor_attach_broadcast(struct monitor_attach *a, int type, const char *buf, size_t len);
/* Opens a unix socket path that may be longer than sun_path: bind or connect. */
int monitor_unix_socket(const char *path, bool listen, struct pea_error **err);

/* exit.c */
/* <dir>/monitor.pid: "<pid> <start time>", so a monitor's death can be told from pid reuse. */
int monitor_pid_write(const char *dir);
void monitor_pid_remove(const char *dir);
int monitor_exit_write(const char *dir, int exit_code, int64_t finished_at, bool oom);
/* The oom_kill count of pid's cgroup (v2 memory.events), or -1. */
int64_t monitor_oom_count(pid_t pid);

/* restart.c */
/* Whether to restart after an exit with code; restarts so far given. */
bool monitor_restart_wanted(const struct pea_monitor_config *cfg, int exit_code, unsigned restarts,
                            bool stopped_by_user);
int64_t monitor_restart_backoff(unsigned restarts);
bool monitor_stop_requested(const char *dir);
void monitor_stop_clear(const char *dir);

/* health.c */
struct monitor_health {
        const struct pea_monitor_health *cfg;
        json_t *state; /* podman's State.Health */
        int64_t started_at;
        pid_t pid;    /* the running check, or 0 */
        int out_fd;   /* its output, or -1 */
        char *output; /* collected so far */
        size_t output_len;
        int64_t check_start;
};

void monitor_health_init(struct monitor_health *h, const struct pea_monitor_health *cfg);
void monitor_health_done(struct monitor_health *h);
/* Starts a check in the container (with its env and cwd); 0 when one runs (pid, out_fd set). */
int monitor_health_start(struct monitor_health *h, pid_t container_pid, char *const *env,
                         const char *cwd);
/* Reads output; returns 0 at EOF (out_fd closed). */
int monitor_health_read(struct monitor_health *h);
/*
 * Records the result of the check (exit code, or -ETIMEDOUT). Returns true
 * when the container just became unhealthy (the on-failure action is due).
 */
bool monitor_health_finish(struct monitor_health *h, int exit_code);
/* The current State.Health as JSON text. */
char *monitor_health_json(const struct monitor_health *h);

static inline void *mfree(void *p)
{
        free(p);
        return NULL;
}

/* The report on the ready fd: this header, then len bytes of message. */
struct monitor_ready {
        int32_t code; /* 0: the container runs; else a positive errno */
        int32_t monitor_pid;
        int32_t container_pid;
        uint32_t len;
};

/* sd_notify: sends text to the NOTIFY_SOCKET path ('@' for an abstract one). */
int monitor_sd_notify(const char *socket_path, const char *text);

/* trim.c: drops the page table entries of the code mappings (see there). */
void monitor_trim_memory(void);
