/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

struct pea_error;

/* One line of a uid_map/gid_map. */
struct pea_idmap {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
};

/*
 * Parses /etc/subuid-style text ("name:start:count" or "uid:start:count" per
 * line, '#' comments) and returns the ranges that belong to user or uid, in
 * file order, with container_id 0. Malformed lines are skipped.
 */
int pea_subid_parse(const char *text, const char *user, uid_t uid, struct pea_idmap **ret,
                    size_t *ret_n, struct pea_error **err);

/* Reads and parses a subid file; a missing file gives no ranges. */
int pea_subid_read(const char *path, const char *user, uid_t uid, struct pea_idmap **ret,
                   size_t *ret_n, struct pea_error **err);

/* The total number of ids in the ranges. */
uint64_t pea_subid_total(const struct pea_idmap *m, size_t n);

/*
 * The mapping a rootless user namespace gets: container 0 -> id (size 1),
 * then the subordinate ranges from container id 1 on, as podman does.
 * subid_path is /etc/subuid or /etc/subgid (tests pass their own).
 */
int pea_rootless_idmap(const char *subid_path, const char *user, uid_t id, struct pea_idmap **ret,
                       size_t *ret_n, struct pea_error **err);

/*
 * pea doctor: checks of every rootless prerequisite. Each check appends one
 * result per line it reports; nothing here prints.
 */
#include <errno.h>
#include <stdbool.h>

struct json_t;

enum pea_doctor_status {
        PEA_DOCTOR_OK,
        PEA_DOCTOR_WARN,
        PEA_DOCTOR_FAIL,
        _PEA_DOCTOR_STATUS_MAX,
        _PEA_DOCTOR_STATUS_INVALID = -EINVAL,
};

struct pea_doctor_check {
        char *name;
        enum pea_doctor_status status;
        char *message;
        char *fix; /* the shell command that fixes a non-OK check, NULL when OK */
};

struct pea_doctor_report {
        struct pea_doctor_check *checks;
        size_t n;
};

/* Who is checked, and where; NULL paths take the system defaults. */
struct pea_doctor_opts {
        uid_t uid;
        gid_t gid;
        const char *user;        /* login name, "" when unknown */
        const char *subuid_path; /* /etc/subuid */
        const char *subgid_path; /* /etc/subgid */
        const char *runtime_dir; /* $XDG_RUNTIME_DIR, NULL when unset */
        const char *storage_dir; /* the overlay probe runs in its first existing ancestor */
};

const char *pea_doctor_status_to_string(enum pea_doctor_status s);

/* Appends a result; fix may be NULL. */
void pea_doctor_add(struct pea_doctor_report *r, const char *name, enum pea_doctor_status s,
                    const char *fix, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void pea_doctor_report_done(struct pea_doctor_report *r);
bool pea_doctor_report_failed(const struct pea_doctor_report *r);

/* Runs every check below, in order. */
void pea_doctor_run(const struct pea_doctor_opts *o, struct pea_doctor_report *r);

/* newuidmap/newgidmap: present and setuid root or with cap_setuid/cap_setgid. */
void pea_doctor_check_idmap_helpers(const struct pea_doctor_opts *o, struct pea_doctor_report *r);
/* /etc/subuid and /etc/subgid hold >= 65536 ids for the user. */
void pea_doctor_check_subid(const struct pea_doctor_opts *o, struct pea_doctor_report *r);
/* Unprivileged user namespaces enabled, and one actually created. */
void pea_doctor_check_userns(const struct pea_doctor_opts *o, struct pea_doctor_report *r);
/* Native overlay mounted in a user namespace, else fuse-overlayfs usable. */
void pea_doctor_check_overlay(const struct pea_doctor_opts *o, struct pea_doctor_report *r);
/* /dev/net/tun and slirp4netns (and pasta). */
void pea_doctor_check_network(const struct pea_doctor_opts *o, struct pea_doctor_report *r);
/* cgroup version and delegation (never FAIL). */
void pea_doctor_check_cgroups(const struct pea_doctor_opts *o, struct pea_doctor_report *r);
/* XDG_RUNTIME_DIR set, owned by the user, mode 0700. */
void pea_doctor_check_runtime_dir(const struct pea_doctor_opts *o, struct pea_doctor_report *r);

/* The end (start + count) of the highest range of any owner in subid text, 0 if none. */
uint64_t pea_subid_highest(const char *text);

/*
 * The command that gives user (or uid, when user is "") count more subuids
 * (uids) and/or subgids (gids) from start on; NULL when neither is asked.
 */
char *pea_doctor_subid_fix(const char *user, uid_t uid, bool uids, bool gids, uint64_t start,
                           uint32_t count);

/* The cgroup v2 path ("/user.slice/...") in /proc/self/cgroup text, or NULL. */
char *pea_doctor_cgroup2_path(const char *proc_cgroup);

/* "FAIL  subuid         message (fix: command)", without a newline. */
char *pea_doctor_format_line(const struct pea_doctor_check *c);

/* [{"Name", "Status", "Message", "Fix"}, ...] */
struct json_t *pea_doctor_report_json(const struct pea_doctor_report *r);

/*
 * The per-user namespace holder (userns.c, holder.c): one long-lived process
 * per user and run root owns a user namespace (0 -> uid, 1.. -> the subuid
 * ranges; likewise for gids) and a mount namespace; every rootless command
 * that touches storage joins both. Its pid is in $run_root/userns.pid.
 */
struct pea_config;

/*
 * Joins the holder's user and mount namespaces, starting the holder first when
 * none runs (under $run_root/userns.lock). Afterwards the process is uid 0 in
 * the namespace, keeps its cwd (or '/'), and has _PEA_ROOTLESS_UID/GID set.
 * Does nothing as root, or when already inside.
 */
int pea_userns_join(const struct pea_config *c, struct pea_error **err);

/* 1 with *ret_pid when a live holder runs for c, 0 when none does. */
int pea_userns_holder_pid(const struct pea_config *c, pid_t *ret_pid, struct pea_error **err);

/* Stops the holder (SIGTERM, SIGKILL after 5 s), waits for it, removes the pid file. */
int pea_userns_stop(const struct pea_config *c, struct pea_error **err);

/* Parses a pid file's text ("1234\n"): -EBADMSG unless it is one pid > 0. */
int pea_userns_parse_pid(const char *text, pid_t *ret, struct pea_error **err);

/* newuidmap/newgidmap's argv: helper PID then "container host size" per entry. */
char **pea_userns_idmap_argv(const char *helper, pid_t pid, const struct pea_idmap *m, size_t n);

/* The text of a uid_map/gid_map: "container host size\n" per entry. */
char *pea_userns_idmap_text(const struct pea_idmap *m, size_t n);
