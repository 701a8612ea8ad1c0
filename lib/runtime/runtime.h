/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

struct pea_error;

/*
 * The built-in OCI runtime: runs an OCI runtime-spec bundle (config.json and
 * the rootfs it names) without runc or crun. The caller is single-threaded.
 */

/* A namespace to join, on top of the spec's: type as in the spec ("network", "ipc", ...). */
struct pea_runtime_ns_path {
        const char *type;
        const char *path;
};

struct pea_runtime_opts {
        /*
         * With process.terminal: a unix socket the pty master is sent to
         * (SCM_RIGHTS), as runc's --console-socket. -1: the master comes back
         * in pea_runtime_container.console_fd (pea_runtime_run relays it).
         */
        int console_socket;
        /* Written with the container's pid once it is created; NULL: none. */
        const char *pid_file;
        /* fds 3 .. 3+preserve_fds-1 stay open in the container. */
        unsigned preserve_fds;
        /* Namespaces joined in addition to (or instead of) the spec's. */
        const struct pea_runtime_ns_path *ns_paths;
        size_t n_ns_paths;
        /* The container's stdin, stdout and stderr; -1 inherits the caller's. */
        int stdio[3];
        /* Where compiled seccomp programs are cached (pea_runtime_seccomp_cache_dir); NULL: none.
         */
        const char *seccomp_cache_dir;
};

/* <run_root>/seccomp: the cache of compiled seccomp programs (NULL for NULL). */
char *pea_runtime_seccomp_cache_dir(const char *run_root);

/* Sets the defaults: no console socket, inherited stdio, nothing else. */
void pea_runtime_opts_init(struct pea_runtime_opts *opts);

/* A created container: its init is blocked just before execve until started. */
struct pea_runtime_container {
        pid_t pid;      /* the container's init, in the caller's pid namespace */
        int sync_fd;    /* the parent end of the sync socket; -1 once started */
        int console_fd; /* the pty master when the spec asks for a terminal and no console
                           socket was given; else -1 */
        bool started;
        bool reaped;     /* the process was waited for */
        int exit_status; /* when reaped: its code, or 128+signal */
};

/*
 * Creates the namespaces, mounts and process of the bundle's config.json and
 * stops the container's process right before execve (runc create). Errors
 * from the container's setup come back in err, including a command that
 * cannot be found or run. The container's process is the caller's child:
 * the caller must not ignore SIGCHLD and reaps it with pea_runtime_wait (or
 * its own waitpid when it watches several).
 */
int pea_runtime_create(const char *bundle_dir, const struct pea_runtime_opts *opts,
                       struct pea_runtime_container **ret, struct pea_error **err);

/*
 * Lets the container run its command. Fails with the execve error (ENOENT,
 * EACCES, ENOEXEC, ...) when the command cannot be run; the process is reaped
 * then.
 */
int pea_runtime_start(struct pea_runtime_container *c, struct pea_error **err);

/* Waits for the container's process; *ret_exit_status is its code or 128+signal. */
int pea_runtime_wait(struct pea_runtime_container *c, int *ret_exit_status, struct pea_error **err);

int pea_runtime_kill(struct pea_runtime_container *c, int sig, struct pea_error **err);

/* Closes the fds; a container that was never started is killed and reaped. */
struct pea_runtime_container *pea_runtime_container_free(struct pea_runtime_container *c);

/*
 * create + start + wait in the foreground. SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1, SIGUSR2 and SIGWINCH are forwarded to the container; with a
 * terminal and no console socket the pty is relayed to the caller's stdio.
 * Returns 0 when the container ran, whatever its exit status.
 */
int pea_runtime_run(const char *bundle_dir, const struct pea_runtime_opts *opts,
                    int *ret_exit_status, struct pea_error **err);

/*
 * The exit code for a failed create/start/run, as Podman: 127 when the
 * container's command was not found, 126 when it could not be executed
 * (EACCES, ENOEXEC, ...), 125 for everything else (including ENOENT from the
 * container's setup, say a missing bind-mount source).
 */
int pea_runtime_error_exit_code(const struct pea_error *err);

/* A wait status as an exit code: the code, or 128+signal. */
int pea_runtime_exit_status(int wstatus);

/*
 * Opens path as O_PATH inside the directory rootfd taken as "/": symlinks
 * (the last component too) and ".." resolved inside it, never leaving it
 * (resolve.c; openat2 RESOLVE_IN_ROOT or a manual walk). -ENOENT when missing.
 */
int pea_runtime_resolve_in_root(int rootfd, const char *path, struct pea_error **err);

/* pea exec: a new process in a running container (see exec-process.c). */
struct pea_runtime_exec_opts {
        char *const *args;
        char *const *env; /* KEY=VALUE added to, or replacing, the spec's process.env */
        const char *cwd;  /* NULL: the spec's */
        const char *user; /* "user[:group]" resolved in the container; NULL: the spec's */
        bool terminal;    /* a new pty in the container: its master comes back */
        bool privileged;  /* every capability, no seccomp filter */
        int stdio[3];     /* -1: inherited */
        const char *seccomp_cache_dir;
};

/*
 * Runs o->args in the running container pid (its bundle's config.json gives
 * the process's attributes), as the caller's child: *ret_pid, to be reaped
 * by the caller; with o->terminal the pty master in *ret_console_fd. Returns
 * once the process has called execve; when it could not, err has the execve
 * error (pea_runtime_error_exit_code: 126, 127).
 */
int pea_runtime_exec(const char *bundle_dir, pid_t pid, const struct pea_runtime_exec_opts *o,
                     pid_t *ret_pid, int *ret_console_fd, struct pea_error **err);
