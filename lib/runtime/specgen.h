/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include <jansson.h>

/*
 * The OCI spec generator: image config + parsed CLI options + facts about the
 * environment -> an OCI runtime-spec 1.0.2 config.json, as podman 4.3 builds
 * it. Nothing here runs anything; the bundle written by pea_spec_write() is
 * the single source of truth for how the container runs.
 */

struct pea_error;
struct pea_image_config;

#define PEA_SPEC_OCI_VERSION      "1.0.2"
#define PEA_SPEC_DEFAULT_PATH     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define PEA_SPEC_INIT_PATH        "/run/pea-init"
#define PEA_SPEC_DEFAULT_SHM_SIZE (64ull * 1024 * 1024)
#define PEA_SPEC_DEFAULT_UMASK    0022u
/* Root's default rlimits (podman's), clamped to the current hard limits. */
#define PEA_SPEC_DEFAULT_NOFILE 1048576ull
#define PEA_SPEC_DEFAULT_NPROC  4194304ull
/* Caps on what the user controls. */
#define PEA_SPEC_FILE_MAX   (16u * 1024 * 1024) /* env files, seccomp profiles, passwd */
#define PEA_SPEC_CONFIG_MAX (16u * 1024 * 1024)
#define PEA_SPEC_MAX_GROUPS 65536u

/*
 * Everything cmd/run.c parsed. Strings are podman's syntax and are validated
 * here; NULL means "not given". Vectors are NULL-terminated (NULL: empty).
 */
struct pea_spec_opts {
        /* The image (NULL: none) and the container. */
        const struct pea_image_config *image;
        const char *rootfs; /* required: the mounted root file system, absolute */
        const char *id;     /* required: the full container id */

        /* The process. */
        char **command;         /* the arguments after IMAGE */
        const char *entrypoint; /* --entrypoint: "" clears; '["a","b"]' is a JSON array */
        char **env;             /* -e KEY=VAL, KEY (from host_env), PREFIX* (from host_env) */
        char **env_files;       /* --env-file paths: read in order, before -e */
        char *const *host_env;  /* where KEY-alone values come from; NULL: environ */
        const char *workdir;    /* -w; NULL: the image's WorkingDir, else "/" */
        const char *user;       /* -u user[:group]; NULL: the image's User, else root */
        const char *umask;      /* --umask (octal); NULL: 0022 */
        bool terminal;          /* -t */
        bool init;              /* --init */
        const char *init_path;  /* the init binary on the host, required with init */
        char **ulimits;         /* --ulimit name=soft[:hard], or "host" */
        char **annotations;     /* --annotation KEY=VALUE */

        /* Mounts. */
        bool read_only;            /* --read-only */
        bool no_read_only_tmpfs;   /* --read-only-tmpfs=false: no tmpfs on /run, /tmp, /var/tmp */
        char **tmpfs;              /* --tmpfs /path[:opts] */
        char **volumes;            /* -v /host:/ctr[:opts] (named volumes resolved by the caller) */
        const char *shm_size;      /* --shm-size; NULL: 64m */
        const char *shm_path;      /* a host directory bound at /dev/shm instead of a tmpfs */
        const char *hosts_path;    /* bound at /etc/hosts when set */
        const char *resolv_path;   /* bound at /etc/resolv.conf */
        const char *hostname_path; /* bound at /etc/hostname */
        const char *containerenv_path; /* bound at /run/.containerenv */

        /* Security. */
        bool privileged;
        char **cap_add; /* names with or without CAP_, any case, or ALL */
        char **cap_drop;
        char **security_opts; /* --security-opt seccomp=unconfined|PATH, no-new-privileges, ... */

        /* Namespaces, podman's values; NULL: private. */
        const char *network;  /* none | private | host | ns:PATH */
        const char *ipc;      /* private | shareable | none | host | ns:PATH */
        const char *uts;      /* private | host | ns:PATH */
        const char *pid;      /* private | host | ns:PATH */
        const char *userns;   /* "" | host | keep-id | ns:PATH */
        const char *hostname; /* --hostname; NULL: the first 12 characters of id */

        /* Facts about the environment. */
        bool rootless;      /* pea runs in its own user namespace */
        uid_t rootless_uid; /* the user's uid and gid on the host (keep-id) */
        gid_t rootless_gid;
        uint64_t outer_uids;   /* ids mapped in pea's namespace (1 + subuids); 0: uid_map */
        uint64_t outer_gids;   /* likewise for gids; 0: /proc/self/gid_map */
        int cgroup_version;    /* 1 or 2; 0: detect (statfs /sys/fs/cgroup) */
        uint64_t cap_bounding; /* capabilities pea may grant (bit n: cap n); 0: this process's */
        const char *arch;      /* Go name of the seccomp native arch; NULL: this build's */
};

/*
 * Builds the OCI config. Fails with podman's messages on invalid options
 * (-EINVAL), and when the user cannot be resolved in the rootfs (-ENOENT).
 */
int pea_spec_generate(const struct pea_spec_opts *o, json_t **ret_spec, struct pea_error **err);

/*
 * Writes bundle_dir/config.json atomically, mode 0600. jansson's integers
 * are int64: in memory RLIM_INFINITY is -1 in process.rlimits; the file has
 * 18446744073709551615 as runc and crun expect. pea_spec_read() undoes it.
 */
int pea_spec_write(const char *bundle_dir, const json_t *spec, struct pea_error **err);
/* The text of config.json (indented), with the rlimits conversion above. */
char *pea_spec_dumps(const json_t *spec);
/*
 * Parses config.json text as jansson can: the number 18446744073709551615
 * (uint64 max, RLIM_INFINITY, which jansson rejects as "too big integer")
 * becomes -1 first.
 */
int pea_spec_loads(const char *text, size_t len, json_t **ret_spec, struct pea_error **err);
/* Reads bundle_dir/config.json with pea_spec_loads(). */
int pea_spec_read(const char *bundle_dir, json_t **ret_spec, struct pea_error **err);

/* ---- parsers, also for cmd/ (each validates like podman) ----------------- */

/* RAM sizes as docker's units.RAMInBytes: "64m", "1g", "1.5GiB", "1024" (bytes). */
int pea_spec_parse_size(const char *s, uint64_t *ret, struct pea_error **err);

/* One --ulimit: "nofile=1024:2048", "core=-1" (-1, "unlimited": RLIM_INFINITY). */
struct pea_spec_rlimit {
        const char *type; /* "RLIMIT_NOFILE" (static) */
        int resource;     /* RLIMIT_NOFILE */
        uint64_t soft, hard;
};

int pea_spec_parse_ulimit(const char *s, struct pea_spec_rlimit *ret, struct pea_error **err);

/* A capability name ("chown", "CAP_CHOWN") -> its number; -EINVAL if unknown. */
int pea_spec_cap_from_name(const char *name);
/* "CAP_CHOWN" for 0; NULL when out of range. */
const char *pea_spec_cap_to_name(unsigned cap);

/*
 * The bounding set for the container (podman's MergeCapabilities): the
 * defaults (or all of bounding with --privileged or --cap-add ALL) minus
 * drops plus adds, limited to bounding. Errors: unknown capability "CAP_X",
 * capability "CAP_X" cannot be dropped and added, adding all caps and
 * removing all caps not allowed.
 */
int pea_spec_caps_merge(char *const *add, char *const *drop, bool privileged, uint64_t bounding,
                        uint64_t *ret, struct pea_error **err);

enum pea_spec_ns_mode {
        PEA_SPEC_NS_PRIVATE, /* a new namespace */
        PEA_SPEC_NS_NONE,    /* a new namespace without set-up: network none, ipc none */
        PEA_SPEC_NS_HOST,    /* pea's own: no namespace in the spec */
        PEA_SPEC_NS_PATH,    /* join the namespace at path */
        _PEA_SPEC_NS_MODE_MAX,
        _PEA_SPEC_NS_MODE_INVALID = -EINVAL,
};

/* kind is "network", "ipc", "uts", "pid" or "userns"; s NULL is private. */
int pea_spec_parse_ns(const char *kind, const char *s, enum pea_spec_ns_mode *ret_mode,
                      const char **ret_path, struct pea_error **err);

/* A -v argument split and validated; options keep podman's spelling. */
struct pea_spec_volume {
        char *source;   /* absolute host path, a volume name, or NULL (anonymous) */
        char *dest;     /* cleaned absolute container path */
        char **options; /* as given, validated */
        bool named;     /* source is a volume name, not a path */
        bool chown;     /* "U": the caller chowns the source to the container user */
};

int pea_spec_parse_volume(const char *arg, struct pea_spec_volume *ret, struct pea_error **err);
void pea_spec_volume_done(struct pea_spec_volume *v);

/* --entrypoint: a JSON array of strings, else the string as one element ("" -> [""]). */
char **pea_spec_parse_entrypoint(const char *s);

/* The final argv (podman's makeCommand, without --init). */
int pea_spec_command(const struct pea_image_config *image, const char *entrypoint,
                     char *const *command, char ***ret, struct pea_error **err);

/*
 * The environment, in order: the image's Env, PATH (when missing),
 * container=pea, TERM=xterm (with terminal) -- each default only when not
 * set -- then the --env-file lines and the -e values, each replacing an
 * earlier value of the same name in place. HOSTNAME and HOME come later
 * (pea_spec_generate) when still missing.
 */
int pea_spec_env(const struct pea_spec_opts *o, char ***ret, struct pea_error **err);

/* ---- userdb.c: -u against the rootfs's /etc/passwd and /etc/group -------- */

struct pea_userdb_user {
        uid_t uid;
        gid_t gid;
        gid_t *additional_gids; /* groups listing the user (implicit group only) */
        size_t n_additional_gids;
        char *home; /* "/" when the user has no passwd entry */
        char *name; /* the passwd name matched, NULL when none */
};

/*
 * Resolves "user[:group]" as runc/libcontainer's GetExecUser does. Files are
 * opened through rootfs_fd with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)
 * (without openat2: no symlink at all), so nothing outside the rootfs is read.
 * NULL or "" is uid 0. A name without entry fails with -ENOENT: "unable to
 * find user bob: no matching entries in passwd file" (group: "... group file").
 */
int pea_userdb_resolve(int rootfs_fd, const char *spec, struct pea_userdb_user *ret,
                       struct pea_error **err);
int pea_userdb_resolve_path(const char *rootfs, const char *spec, struct pea_userdb_user *ret,
                            struct pea_error **err);
void pea_userdb_user_done(struct pea_userdb_user *u);

/* ---- seccomp ------------------------------------------------------------- */

/* containers-common's default profile (seccomp.json format), a new reference. */
json_t *pea_seccomp_default_profile(void);

/*
 * A profile in containers-common/Docker format -> the OCI linux.seccomp
 * object, for a container with the bounding set caps on arch (Go names:
 * amd64, arm64, ...; NULL: this build's). NULL in *ret when the profile
 * disables seccomp (no defaultAction, no syscalls).
 */
int pea_seccomp_to_oci(json_t *profile, uint64_t caps, const char *arch, json_t **ret,
                       struct pea_error **err);

/* Reads a profile file and converts it. */
int pea_seccomp_load_file(const char *path, uint64_t caps, const char *arch, json_t **ret,
                          struct pea_error **err);
