/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

struct pea_error;

/*
 * A systemd unit file as Quadlet sees it: groups in file order, each a list of
 * lines (assignments and comments) in file order. Values are stored raw, as
 * systemd reads them: continuation lines joined, surrounding white space
 * stripped, no unquoting and no % specifier expansion.
 */
struct pea_unit_line {
        char *key; /* NULL for a comment line */
        char *value;
};

struct pea_unit_group {
        char *name;
        struct pea_unit_line *lines;
        size_t n_lines;
};

struct pea_unitfile {
        char *filename;  /* foo.container */
        char *path;      /* /etc/containers/systemd/foo.container, or NULL */
        char **comments; /* comment lines before the first group */
        struct pea_unit_group *groups;
        size_t n_groups;
};

/* Input size cap of one unit file. */
#define PEA_UNITFILE_MAX (1024 * 1024)

struct pea_unitfile *pea_unitfile_new(const char *filename);
struct pea_unitfile *pea_unitfile_free(struct pea_unitfile *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pea_unitfile *, pea_unitfile_free)
#define _cleanup_unitfile_ _cleanup_(pea_unitfile_freep)

/* Parses systemd unit syntax; errors name the line ("line 3: ..."). */
int pea_unitfile_parse(const char *data, const char *filename, struct pea_unitfile **ret,
                       struct pea_error **err);
/* Reads and parses path; the file name is its basename. */
int pea_unitfile_load(const char *path, struct pea_unitfile **ret, struct pea_error **err);
struct pea_unitfile *pea_unitfile_dup(const struct pea_unitfile *u, const char *filename);

/* The group, or NULL. */
struct pea_unit_group *pea_unitfile_group(const struct pea_unitfile *u, const char *group);
bool pea_unitfile_has_key(const struct pea_unitfile *u, const char *group, const char *key);
/* The last value of key, or NULL. */
const char *pea_unitfile_lookup(const struct pea_unitfile *u, const char *group, const char *key);
/* All values of key in order; an empty value resets the list (systemd's rule). */
char **pea_unitfile_lookup_all(const struct pea_unitfile *u, const char *group, const char *key);
/* Every value split into words (pea_unitfile_split_words), concatenated; reset rule as above. */
int pea_unitfile_lookup_all_args(const struct pea_unitfile *u, const char *group, const char *key,
                                 char ***ret, struct pea_error **err);
/* The last value split into words; 0 and *ret = NULL when unset. */
int pea_unitfile_lookup_last_args(const struct pea_unitfile *u, const char *group, const char *key,
                                  char ***ret, struct pea_error **err);
/* The last value as a systemd boolean: *ret = def when unset or empty. */
int pea_unitfile_lookup_bool(const struct pea_unitfile *u, const char *group, const char *key,
                             bool def, bool *ret, struct pea_error **err);
/* KEY=VALUE words of all values, sorted by key, a later KEY replacing an earlier one. */
int pea_unitfile_lookup_all_keyval(const struct pea_unitfile *u, const char *group, const char *key,
                                   char ***ret, struct pea_error **err);

/* Appends key=value to group (created at the end when missing). */
void pea_unitfile_add(struct pea_unitfile *u, const char *group, const char *key,
                      const char *value);
/* Replaces the value of the last key in group, or appends it. */
void pea_unitfile_set(struct pea_unitfile *u, const char *group, const char *key,
                      const char *value);
/* Appends key=<argv escaped as one command line>. */
void pea_unitfile_add_cmdline(struct pea_unitfile *u, const char *group, const char *key,
                              char *const *argv);
void pea_unitfile_rename_group(struct pea_unitfile *u, const char *from, const char *to);
/* -EINVAL naming the first key of group that is not in supported (NULL-terminated). */
int pea_unitfile_check_keys(const struct pea_unitfile *u, const char *group,
                            const char *const *supported, struct pea_error **err);

/* The unit in systemd syntax: groups separated by an empty line. */
char *pea_unitfile_to_string(const struct pea_unitfile *u);

/*
 * systemd's word splitting for Exec and Environment values: white space
 * separates words, '...' and "..." quote (also inside a word), C escapes
 * (\n \t \\ \" \' \s \xHH \NNN \uXXXX ...) are resolved, an unknown escape
 * is kept as is; an unterminated quote is -EINVAL.
 */
int pea_unitfile_split_words(const char *s, char ***ret, struct pea_error **err);
/* The inverse: words quoted and escaped so that split_words gives them back. */
char *pea_unitfile_escape_words(char *const *argv);
/* systemd's booleans: 1 yes y true t on / 0 no n false f off; else -EINVAL. */
int pea_unitfile_parse_bool(const char *s);

/* Quadlet: the kinds of source units, by file extension. */
enum pea_quadlet_kind {
        PEA_QUADLET_CONTAINER,
        PEA_QUADLET_VOLUME,
        PEA_QUADLET_NETWORK,
        PEA_QUADLET_KUBE,
        PEA_QUADLET_POD,
        _PEA_QUADLET_KIND_MAX,
        _PEA_QUADLET_KIND_INVALID = -EINVAL,
};

/* The kind of a file name by its extension, or -EINVAL. */
int pea_quadlet_kind_from_filename(const char *filename);

/* Everything a conversion may look at: the binary to run and all source units. */
struct pea_quadlet_ctx {
        const char *binary; /* the pea binary written into the units */
        bool user;          /* --user: rootless generator */
        struct pea_unitfile **units;
        size_t n_units;
};

/* foo.container -> foo.service, foo.volume -> foo-volume.service, ... */
char *pea_quadlet_service_name(const char *filename);
/* The pea object name of a .volume/.network/.pod unit: its *Name= key or systemd-BASE. */
char *pea_quadlet_resource_name(const struct pea_quadlet_ctx *ctx, const char *filename);

/* Converts one source unit into its .service unit (filename set). */
int pea_quadlet_convert(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                        struct pea_unitfile **ret, struct pea_error **err);
int pea_quadlet_convert_container(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                                  struct pea_unitfile **ret, struct pea_error **err);
int pea_quadlet_convert_volume(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                               struct pea_unitfile **ret, struct pea_error **err);
int pea_quadlet_convert_network(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                                struct pea_unitfile **ret, struct pea_error **err);
int pea_quadlet_convert_kube(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                             struct pea_unitfile **ret, struct pea_error **err);
int pea_quadlet_convert_pod(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                            struct pea_unitfile **ret, struct pea_error **err);

/* Shared helpers of the converters (quadlet-other.c). */
/* Starts a service unit from src: a copy named NAME.service with [Unit] SourcePath. */
struct pea_unitfile *pea_quadlet_service_start(const struct pea_unitfile *src,
                                               const char *from_group, const char *to_group);
/* Appends "-p=..." for every PublishPort of group, validated like podman does. */
int pea_quadlet_add_ports(const struct pea_unitfile *src, const char *group, char ***argv,
                          struct pea_error **err);
/* Appends --network=... for every Network; NAME.network adds Requires/After on svc. */
void pea_quadlet_add_networks(const struct pea_quadlet_ctx *ctx, const struct pea_unitfile *src,
                              const char *group, struct pea_unitfile *svc, char ***argv);
/* Appends the words of every PodmanArgs and PeaArgs value. */
int pea_quadlet_add_extra_args(const struct pea_unitfile *src, const char *group, char ***argv,
                               struct pea_error **err);
/* Appends "FLAG" "K=V" for every pair of a key-value list. */
void pea_quadlet_add_pairs(char ***argv, const char *flag, char *const *pairs);
/* KillMode= must be mixed or control-group; mixed when unset. */
int pea_quadlet_set_killmode(struct pea_unitfile *svc, struct pea_error **err);
/* Appends [Service] key=<binary args...>. */
void pea_quadlet_add_cmd(struct pea_unitfile *svc, const char *key, const char *binary,
                         char *const *args);
