/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include <sys/types.h>

#include <jansson.h>

#include "cleanup.h"
#include "runtime/runtime.h"

struct pea_error;

/* Caps on what config.json may hold. */
#define RUNTIME_MAX_CONFIG_SIZE (4u * 1024 * 1024)
#define RUNTIME_MAX_MSG         4000u

/* spec.c: config.json, parsed before anything is executed. */
struct runtime_idmap {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
};

struct runtime_ns {
        int type; /* CLONE_NEW* */
        char *path;
};

struct runtime_mount {
        char *destination;
        char *type;
        char *source;
        char **options;
};

struct runtime_rlimit {
        int resource;
        char *name;
        uint64_t soft;
        uint64_t hard;
};

struct runtime_device {
        char *path;
        char type; /* 'c', 'b', 'p' ('u' is 'c') */
        uint32_t major;
        uint32_t minor;
        uint32_t mode; /* permission bits; 0666 when absent */
        uint32_t uid;
        uint32_t gid;
};

struct runtime_sysctl {
        char *key;
        char *value;
};

struct runtime_caps {
        bool present;
        uint64_t bounding;
        uint64_t effective;
        uint64_t inheritable;
        uint64_t permitted;
        uint64_t ambient;
};

struct runtime_spec {
        bool terminal;
        uid_t uid;
        gid_t gid;
        gid_t *additional_gids;
        size_t n_additional_gids;
        char **args;
        char **env;
        char *cwd;
        struct runtime_caps caps;
        struct runtime_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        bool has_umask;
        mode_t umask;
        bool has_oom_score_adj;
        int oom_score_adj;
        char *root_path; /* absolute */
        bool root_readonly;
        char *hostname;
        struct runtime_mount *mounts;
        size_t n_mounts;
        struct runtime_ns *namespaces;
        size_t n_namespaces;
        struct runtime_idmap *uid_mappings;
        size_t n_uid_mappings;
        struct runtime_idmap *gid_mappings;
        size_t n_gid_mappings;
        char **masked_paths;
        char **readonly_paths;
        json_t *seccomp; /* linux.seccomp, or NULL */
        struct runtime_sysctl *sysctl;
        size_t n_sysctl;
        struct runtime_device *devices;
        size_t n_devices;
        unsigned long rootfs_propagation; /* MS_* flags, 0: the default (rslave) */
};

/* Parses config.json text; root.path is made absolute against bundle_dir. */
int runtime_spec_parse(const char *text, const char *bundle_dir, struct runtime_spec **ret,
                       struct pea_error **err);
int runtime_spec_load(const char *bundle_dir, struct runtime_spec **ret, struct pea_error **err);
struct runtime_spec *runtime_spec_free(struct runtime_spec *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct runtime_spec *, runtime_spec_free)
#define _cleanup_spec_ _cleanup_(runtime_spec_freep)

/* The CLONE_NEW* flag of a spec namespace type, or -EINVAL. */
int runtime_ns_type_from_string(const char *s);
const char *runtime_ns_type_to_string(int type);
/* The spec's entry for a namespace type, or NULL. */
struct runtime_ns *runtime_spec_ns(struct runtime_spec *s, int type);
/* Adds or replaces a namespace to join. */
int runtime_spec_join_ns(struct runtime_spec *s, const char *type, const char *path,
                         struct pea_error **err);

/* Capability names (CAP_*) as a mask; unknown names are skipped. */
int runtime_caps_mask(json_t *names, const char *what, uint64_t *ret, struct pea_error **err);

/* sync.c: the parent/child socket (SOCK_SEQPACKET) and its messages. */
enum runtime_sync_type {
        SYNC_EOF = 0,    /* the peer closed the socket (execve, or death) */
        SYNC_USERNS = 1, /* child -> parent: write my id maps */
        SYNC_USERNS_DONE,
        SYNC_PID,     /* value: the container's pid */
        SYNC_CONSOLE, /* carries the pty master */
        SYNC_READY,   /* the container waits for SYNC_START */
        SYNC_START,
        SYNC_ERROR, /* value: errno, payload: message */
        _SYNC_TYPE_MAX,
        _SYNC_TYPE_INVALID = -EINVAL,
};

struct runtime_sync_msg {
        int type;
        int value;
        int fd; /* with SYNC_CONSOLE; -EBADF otherwise */
};

int runtime_sync_send(int sock, int type, int value, int fd, struct pea_error **err);
/* Sends an error as {code, len, msg}; the child's last words. Never fails. */
void runtime_sync_send_error(int sock, const struct pea_error *e);
/*
 * Receives a message. A SYNC_ERROR comes back as that error (its code and
 * message); EOF as a SYNC_EOF message. The caller owns ret->fd.
 */
int runtime_sync_recv(int sock, struct runtime_sync_msg *ret, struct pea_error **err);
/* Receives a message that must be of the given type; EOF is -EPIPE. */
int runtime_sync_expect(int sock, int type, struct runtime_sync_msg *ret, struct pea_error **err);
/* Sends an fd (SCM_RIGHTS) as a SYNC_CONSOLE message: to the runtime or a console socket. */
int runtime_send_fd(int sock, int fd, struct pea_error **err);

/* namespaces.c */
/* Joins and creates the namespaces (stage 1); new user namespaces ask the parent for maps. */
int runtime_ns_enter(struct runtime_spec *s, int sync, struct pea_error **err);
/* Parent: writes uid_map, setgroups and gid_map of pid. */
int runtime_ns_write_maps(struct runtime_spec *s, pid_t pid, struct pea_error **err);
/* Brings up "lo" in a new network namespace (best effort). */
void runtime_ns_loopback_up(void);

/* resolve.c: paths inside the rootfs, never escaping it. */
enum runtime_resolve_kind {
        RESOLVE_KIND_ANY,  /* must exist */
        RESOLVE_KIND_DIR,  /* created as a directory when missing */
        RESOLVE_KIND_FILE, /* created as an empty file when missing */
};

/*
 * Opens path (absolute or not, relative to rootfd as "/") as O_PATH, with
 * symlinks and ".." resolved inside the root (openat2 RESOLVE_IN_ROOT, or a
 * manual walk when openat2 is unavailable or PEA_NO_OPENAT2=1), creating the
 * missing components as kind says.
 */
int runtime_resolve(int rootfd, const char *path, enum runtime_resolve_kind kind,
                    struct pea_error **err);
/* Opens an existing path inside the root with real open flags (O_RDWR, ...). */
int runtime_open_in_root(int rootfd, const char *path, int flags, struct pea_error **err);

/* mounts.c */
struct runtime_mount_opts {
        unsigned long flags; /* MS_* set */
        unsigned long propagation;
        bool bind;
        bool recursive_ro; /* "rro" */
        bool has_atime;    /* one of the atime options was given */
        char *data;        /* everything else, comma-joined */
};

int runtime_mount_opts_parse(char *const *options, struct runtime_mount_opts *ret,
                             struct pea_error **err);
void runtime_mount_opts_done(struct runtime_mount_opts *o);
/* The path to reach an fd through /proc ("/proc/self/fd/N"). */
char *runtime_fd_path(int fd);
/*
 * Remounts the mount at fd with flags (MS_RDONLY, MS_NOSUID, ...): the whole
 * tree with mount_setattr when recursive, else the top mount; on EPERM again
 * with the flags a user namespace locked (read with fstatvfs) added.
 */
int runtime_remount(int fd, unsigned long flags, bool recursive, struct pea_error **err);
/* Stage 2, before pivot_root: propagation, the rootfs bind and the spec's mounts. */
int runtime_mounts_setup(struct runtime_spec *s, int *ret_rootfd, struct pea_error **err);
/* Masked and read-only paths. */
int runtime_mounts_protect(struct runtime_spec *s, int rootfd, struct pea_error **err);
/* pivot_root into rootfd; then / read-only when asked. */
int runtime_mounts_pivot(struct runtime_spec *s, int rootfd, struct pea_error **err);
/* Writes linux.sysctl under rootfs/proc/sys. */
int runtime_sysctl_apply(struct runtime_spec *s, int rootfd, struct pea_error **err);

/* devices.c: /dev nodes (bound from the host), symlinks, linux.devices, /dev/console. */
int runtime_devices_setup(struct runtime_spec *s, int rootfd, struct pea_error **err);
int runtime_console_bind(int rootfd, int slave, struct pea_error **err);

/* pty.c */
/* Creates a pty in the container's devpts (or the host's). */
int runtime_pty_setup(int rootfd, int *ret_master, int *ret_slave, struct pea_error **err);
/* setsid, the slave as controlling terminal and stdio; closes slave. */
int runtime_pty_make_controlling(int slave, struct pea_error **err);

struct runtime_tty {
        int fd;
        bool raw;
        struct termios saved;
};

/* Puts fd in raw mode when it is a terminal. */
void runtime_tty_raw(struct runtime_tty *t, int fd);
void runtime_tty_restore(struct runtime_tty *t);
void runtime_winsize_copy(int from, int to);
/* One read from 'from' written fully to 'to': 1 when data moved, 0 at EOF (or EIO), -errno. */
int runtime_copy_once(int from, int to);

/* caps.c */
int runtime_caps_bounding(const struct runtime_caps *c, struct pea_error **err);
int runtime_caps_apply(const struct runtime_caps *c, struct pea_error **err);

/* seccomp.c: the filter is built by the parent and loaded by the child. */
/* cache_dir: where compiled programs are kept (created as needed); NULL: no cache. */
int runtime_seccomp_build(json_t *seccomp, const char *cache_dir, void **ret,
                          struct pea_error **err);
int runtime_seccomp_load(void *ctx, struct pea_error **err);
void *runtime_seccomp_free(void *ctx);

/* process.c: stage 2's process attributes. */
int runtime_rlimits_apply(struct runtime_spec *s, struct pea_error **err);
int runtime_user_apply(struct runtime_spec *s, struct pea_error **err);
int runtime_env_apply(struct runtime_spec *s);
int runtime_oom_score_adj_apply(struct runtime_spec *s, struct pea_error **err);
/* Finds args[0] in the (already applied) PATH, as execvpe does. */
int runtime_find_executable(const char *name, char **ret, struct pea_error **err);
/* Sets the execve error, worded as podman for ENOENT/EACCES. */
int runtime_exec_error(int code, const char *name, struct pea_error **err);
int runtime_fds_prepare(unsigned preserve_fds, struct pea_error **err);
void runtime_signals_reset(void);
