/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "runtime/specgen.h"

/* Shared between specgen*.c and seccomp-default.c; not for other modules. */

struct pea_error;

/* The highest capability number pea knows (CAP_CHECKPOINT_RESTORE). */
#define SPEC_CAP_LAST 40

/* The ids of the default caps (containers.conf default_capabilities). */
#define SPEC_CAPS_DEFAULT                                                                   \
        ((1ull << 0) | (1ull << 1) | (1ull << 3) | (1ull << 4) | (1ull << 5) | (1ull << 10) \
         | (1ull << 31) | (1ull << 6) | (1ull << 8) | (1ull << 7) | (1ull << 18))

enum spec_seccomp_mode {
        SPEC_SECCOMP_DEFAULT,
        SPEC_SECCOMP_UNCONFINED,
        SPEC_SECCOMP_PATH,
        _SPEC_SECCOMP_MODE_MAX,
        _SPEC_SECCOMP_MODE_INVALID = -EINVAL,
};

/* --security-opt, parsed. */
struct spec_secopts {
        bool no_new_privileges;
        enum spec_seccomp_mode seccomp;
        const char *seccomp_path; /* points into the option */
        char **mask;              /* extra masked paths */
        char **unmask;            /* paths (globs) not masked; "ALL" */
};

struct spec_ns {
        enum pea_spec_ns_mode mode;
        const char *path;
};

/* Everything derived from the options while the spec is built. */
struct spec_ctx {
        const struct pea_spec_opts *o;
        struct spec_ns net, ipc, uts, pid, user;
        bool keep_id;
        bool cgroup2;
        uint64_t bounding; /* what pea may grant at all */
        uint64_t caps;     /* the container's bounding set */
        uint64_t shm_size;
        uint64_t outer_uids, outer_gids;
        bool gid5_mapped; /* keep-id: gid 5 exists in the container */
        struct spec_secopts sec;
};

/* specgen-security.c */
int spec_secopts_parse(char *const *opts, struct spec_secopts *ret, struct pea_error **err);
void spec_secopts_done(struct spec_secopts *s);
uint64_t spec_bounding_set(void);
/* A sorted JSON array of the names of the caps in mask. */
json_t *spec_caps_json(uint64_t mask);
/* process.capabilities: user_is_root as podman decides it. */
int spec_capabilities(struct spec_ctx *c, bool user_is_root, json_t **ret, struct pea_error **err);
int spec_rlimits(const struct spec_ctx *c, json_t **ret, struct pea_error **err);
int spec_seccomp(const struct spec_ctx *c, json_t **ret, struct pea_error **err);

/* specgen-mounts.c */
int spec_mounts(const struct spec_ctx *c, json_t **ret, struct pea_error **err);
/* maskedPaths and readonlyPaths into linux. */
void spec_masked_paths(const struct spec_ctx *c, bool sys_bound, json_t *lnx);
/* Cleans an absolute path lexically ("//a/./b/../c/" -> "/a/c"). */
char *spec_path_clean(const char *p);
/* True when /sys can be a new sysfs (podman's canMountSys). */
bool spec_can_mount_sys(const struct spec_ctx *c);

/* specgen.c helpers used by the others. */
void spec_json_push_str(json_t *array, const char *s);
json_t *spec_strv_json(char *const *l);
