/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

struct pea_error;

/*
 * The per-container monitor (conmon's job, without glib): a small process
 * that outlives the command starting the container. It creates and starts
 * the container with lib/runtime (so the container is its child), holds the
 * container's stdio (pipes, or the pty master), writes the log, serves attach
 * on a unix socket, records the exit in the state store and in an exit file,
 * applies the restart policy, runs healthchecks, and exits when the container
 * is done. Its diagnostics go to syslog(3), tagged with the container id.
 *
 * Files, all under <run_root>/containers/<id>/ (created as needed):
 *   attach   the attach socket (SOCK_SEQPACKET; see pea_monitor_attach)
 *   exit     the exit record, read with pea_monitor_read_exit
 *   stopped  the stop marker: pea_monitor_request_stop
 *   monitor.pid  while the monitor runs: pea_monitor_is_alive
 */

enum pea_monitor_log_driver {
        PEA_MONITOR_LOG_K8S_FILE,
        PEA_MONITOR_LOG_NONE,
        _PEA_MONITOR_LOG_MAX,
        _PEA_MONITOR_LOG_INVALID = -EINVAL,
};

enum pea_monitor_restart {
        PEA_MONITOR_RESTART_NO,
        PEA_MONITOR_RESTART_ON_FAILURE,
        PEA_MONITOR_RESTART_ALWAYS,
        PEA_MONITOR_RESTART_UNLESS_STOPPED,
        _PEA_MONITOR_RESTART_MAX,
        _PEA_MONITOR_RESTART_INVALID = -EINVAL,
};

enum pea_monitor_health_action {
        PEA_MONITOR_HEALTH_ACTION_NONE,
        PEA_MONITOR_HEALTH_ACTION_KILL,
        PEA_MONITOR_HEALTH_ACTION_RESTART,
        PEA_MONITOR_HEALTH_ACTION_STOP,
        _PEA_MONITOR_HEALTH_ACTION_MAX,
        _PEA_MONITOR_HEALTH_ACTION_INVALID = -EINVAL,
};

#define PEA_MONITOR_HEALTH_INTERVAL_DEFAULT (30 * INT64_C(1000000000))
#define PEA_MONITOR_HEALTH_TIMEOUT_DEFAULT  (30 * INT64_C(1000000000))
#define PEA_MONITOR_HEALTH_RETRIES_DEFAULT  3u

struct pea_monitor_health {
        char **test;             /* argv run inside the container; NULL: no healthcheck */
        int64_t interval_ns;     /* 0: "disable" (no timer; `healthcheck run` only) */
        int64_t timeout_ns;      /* per check */
        int64_t start_period_ns; /* failures in this window do not count */
        unsigned retries;        /* consecutive failures that make it unhealthy */
        enum pea_monitor_health_action on_failure;
};

struct pea_monitor_config {
        const char *id;         /* 64 hex */
        const char *bundle_dir; /* config.json + rootfs, for pea_runtime_create */
        const char *run_root;   /* tmpfs runtime dir; the files above live under it */
        const char *db_path;    /* the state store; NULL: no state updates */
        enum pea_monitor_log_driver log_driver;
        const char *log_path;  /* k8s-file path */
        uint64_t log_max_size; /* bytes; 0: unlimited. Over it the log is truncated, as conmon */
        enum pea_monitor_restart restart;
        unsigned restart_max; /* on-failure:N; 0: no limit */
        struct pea_monitor_health health;
        bool stdin_open; /* -i: the container's stdin is a pipe fed by attach clients */
        /*
         * run without -d, start -a: pea_monitor_spawn returns once the container
         * is created, and the monitor starts it when the first attach client
         * connects (or after 60 s), so the client misses no output. A start
         * failure then shows only in the records (exit file, state: exited, 125-127).
         */
        bool attach_wait;
        const char *notify_socket; /* NOTIFY_SOCKET: READY=1, MAINPID=<container pid>; or NULL */
        const char *helper;        /* the pea-monitor binary; NULL: pea_find_helper(), then
                                      in-process (fork without exec) when there is none */
};

/* Zeroes cfg and sets the defaults (k8s-file, restart no, healthcheck defaults). */
void pea_monitor_config_init(struct pea_monitor_config *cfg);

/* "no", "on-failure[:N]", "always", "unless-stopped" ("" is "no"). -EINVAL. */
int pea_monitor_restart_parse(const char *s, enum pea_monitor_restart *ret_policy,
                              unsigned *ret_max, struct pea_error **err);
/* "k8s-file", "none". -EINVAL for anything else. */
int pea_monitor_log_driver_parse(const char *s, enum pea_monitor_log_driver *ret,
                                 struct pea_error **err);
/* "none", "kill", "restart", "stop". */
int pea_monitor_health_action_parse(const char *s, enum pea_monitor_health_action *ret,
                                    struct pea_error **err);
/* Go's time.ParseDuration: "30s", "1m30s", "1.5h", "500ms", "0". -EINVAL otherwise. */
int pea_monitor_duration_parse(const char *s, int64_t *ret_ns, struct pea_error **err);

/*
 * --health-cmd: a JSON array (["CMD", "a", "b"], ["CMD-SHELL", "s"], ["NONE"]) or a
 * plain string (run with /bin/sh -c). *ret is NULL for NONE.
 */
int pea_monitor_health_cmd_parse(const char *s, char ***ret, struct pea_error **err);

/*
 * Starts the monitor for a created (not running) container: fork, setsid,
 * fork again (the intermediate child is reaped here, so no zombie is left),
 * stdio to /dev/null, every other fd closed, then exec of the helper (or the
 * monitor loop in-process). Returns when the container runs or failed to:
 * a failure (the runtime's error: command not found, ...) comes back in err
 * with its code, and the monitor has exited by then. Runs in the caller's
 * namespaces (the rootless user+mount namespace is inherited).
 */
int pea_monitor_spawn(const struct pea_monitor_config *cfg, pid_t *ret_monitor_pid,
                      pid_t *ret_container_pid, struct pea_error **err);

/*
 * The monitor itself (what pea-monitor's main() calls): creates and starts
 * the container, reports {code, monitor pid, container pid, msg} on ready_fd
 * (-1: none) and supervises it until it is done. Returns the last exit code.
 */
int pea_monitor_run(const struct pea_monitor_config *cfg, int ready_fd, struct pea_error **err);

/* The helper's command line for cfg (argv[0] is helper) and its parser. */
char **pea_monitor_config_to_argv(const struct pea_monitor_config *cfg, const char *helper,
                                  int ready_fd);
/*
 * Fills cfg from argv; strings point into argv except health.test, which
 * *ret_owned holds (free with strv_free). *ret_ready_fd is -1 when absent.
 */
int pea_monitor_config_from_argv(int argc, char **argv, struct pea_monitor_config *cfg,
                                 int *ret_ready_fd, char ***ret_owned, struct pea_error **err);

/* <run_root>/containers/<id> and the attach socket in it. */
char *pea_monitor_dir(const char *run_root, const char *id);
char *pea_monitor_attach_path(const char *run_root, const char *id);

/*
 * Marks the container as stopped by the user (`pea stop`), before signalling
 * it: the monitor then does not restart it. A new monitor clears the mark.
 */
int pea_monitor_request_stop(const char *run_root, const char *id, struct pea_error **err);

/*
 * Reads the exit record the monitor wrote: -ENOENT when there is none (the
 * monitor died before the container, or it still runs).
 */
int pea_monitor_read_exit(const char *run_root, const char *id, int *ret_exit_code,
                          int64_t *ret_finished_at, bool *ret_oom_killed, struct pea_error **err);

/*
 * Whether the container's monitor runs: 1 (*ret_pid set) or 0, from
 * <run_root>/containers/<id>/monitor.pid ("<pid> <start time>", so a reused
 * pid does not count). A container whose row says running while this says 0
 * lost its monitor (kill -9, OOM): its process, if still there, has been
 * reparented and nothing records its exit; the CLI repairs that.
 */
int pea_monitor_is_alive(const char *run_root, const char *id, pid_t *ret_pid,
                         struct pea_error **err);

/*
 * The attach client. Output packets go to stdout_fd / stderr_fd (a pty has
 * only stdout); stdin_fd (-1: none) goes to the container's stdin, minus the
 * detach sequence (detach_keys as podman: "ctrl-p,ctrl-q", a comma list of
 * ctrl-<c> or single characters; "" disables; NULL is the default). EOF on
 * stdin closes the container's stdin. The socket path may be longer than
 * sun_path. Returns 0 when the container's output ended (it exited), 1 when
 * the user detached.
 */
int pea_monitor_attach(const char *socket_path, int stdin_fd, int stdout_fd, int stderr_fd,
                       const char *detach_keys, struct pea_error **err);

/* Parses detach keys into bytes (ret_len 0: disabled). -EINVAL on a bad key. */
int pea_monitor_detach_keys_parse(const char *s, char **ret, size_t *ret_len,
                                  struct pea_error **err);

/* Sends a terminal size to the container's pty through the attach socket. */
int pea_monitor_attach_resize(int sock, unsigned short rows, unsigned short cols,
                              struct pea_error **err);

/*
 * Runs argv inside the namespaces of pid (user when it differs from ours,
 * mnt, pid, net, ipc, uts, cgroup; the container's root and cwd) with env
 * (NULL: a default PATH) in cwd (NULL: "/"). Only namespaces are joined: no
 * caps, seccomp or uid change (pea exec adds those). The process's stdout
 * and stderr are captured (at most 4 KiB kept) into *ret_output (may be
 * NULL). timeout_ns 0: none; on timeout the process is killed and -ETIMEDOUT
 * returned. *ret_exit_code is the code or 128+signal.
 */
int pea_monitor_exec_in(pid_t pid, char *const *argv, char *const *env, const char *cwd,
                        int64_t timeout_ns, int *ret_exit_code, char **ret_output,
                        struct pea_error **err);

/*
 * `pea healthcheck run`: runs cfg's check once in pid's namespaces, as the
 * monitor does, and gives the updated State.Health (state_json: the stored
 * one, or NULL; started_at: when the container started, for the start
 * period). *ret_unhealthy: it just became unhealthy (the action is due).
 */
int pea_monitor_health_run(pid_t pid, const struct pea_monitor_health *cfg, char *const *env,
                           const char *cwd, const char *state_json, int64_t started_at,
                           char **ret_state_json, bool *ret_unhealthy, struct pea_error **err);

/*
 * The asynchronous form: forks the process, returns its pid (a child of the
 * caller, to be reaped by it) and the read end of its output pipe.
 */
int pea_monitor_exec_in_start(pid_t pid, char *const *argv, char *const *env, const char *cwd,
                              pid_t *ret_pid, int *ret_output_fd, struct pea_error **err);
