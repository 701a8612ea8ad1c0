/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * `pea generate systemd`: the unit text (cmd/generate-unit.c, no state, unit
 * tested) and the command (cmd/generate.c).
 */

struct pea_error;

struct pea_gen_opts {
        bool use_name;              /* --name: names instead of IDs */
        bool new_unit;              /* --new: the unit creates and removes the container */
        bool files;                 /* --files */
        bool no_header;             /* --no-header */
        bool template_unit;         /* --template: NAME@.service, %i in the container name */
        const char *restart_policy; /* NULL: on-failure, or the container's --restart */
        long restart_sec;           /* -1: not set */
        long stop_timeout;          /* -1: the container's */
        long start_timeout;         /* -1: not set */
        const char *container_prefix, *pod_prefix, *separator;
        char **after, **wants, **requires, **env;
};

/* Sets the defaults: prefixes "container" and "pod", separator "-", timeouts unset. */
void pea_gen_opts_init(struct pea_gen_opts *o);

/* What is known about one container. */
struct pea_gen_ctr {
        const char *id, *name;
        const char *exe;       /* the absolute path of pea */
        char **globals;        /* pea's global flags for the unit's commands ("--root", "/r") */
        const char *run_root;  /* RequiresMountsFor (already with %t for --new) */
        unsigned stop_timeout; /* the container's (--stop-timeout), 10 by default */
        const char *restart;   /* the container's --restart, or NULL */
        const char *pod_unit;  /* the unit of its pod, or NULL */
        char **run_argv;       /* --new: ExecStart's argv, escaped (pea_gen_new_argv) */
};

/* How the original command line was parsed (pea_run_parse over create_command). */
struct pea_gen_cmdline {
        char **argv;        /* ["pea", global flags..., "create"|"run", flags..., IMAGE, ...] */
        size_t cmd_index;   /* where "create" or "run" is */
        size_t image_index; /* where IMAGE is */
        bool detach, name, replace, sdnotify;
        const char *pod_id_file; /* a pod member: replaces --pod and --pod-id-file */
};

/* What is known about one pod. */
struct pea_gen_pod {
        const char *id, *name; /* name: the name or the ID, per --name */
        const char *exe;
        char **globals; /* as in struct pea_gen_ctr */
        const char *run_root;
        const char *pod_id_file; /* --new: "%t/pod-NAME.pod-id" */
        char **create_argv; /* --new: ExecStartPre's pod create argv (pea_gen_pod_create_argv) */
        char **members;     /* the member units */
};

/* The index of the command word in a create_command (after pea's global flags). */
size_t pea_gen_command_index(char *const *argv);

/* One argument for an Exec line: $ and % doubled, quoted when it has blanks or quotes. */
char *pea_gen_escape(const char *arg);

/*
 * ExecStart's argv of a --new unit: pea, the global flags, run --cidfile --rm
 * [--sdnotify=conmon] [-d] [--replace], the original flags minus --rm,
 * --cidfile and --restart, IMAGE and the command. template: "-%i" is
 * appended to --name's value.
 */
char **pea_gen_new_argv(const struct pea_gen_cmdline *c, const char *exe, bool template_unit);

/*
 * ExecStartPre's argv of a --new pod unit: pea, the global flags, pod create
 * --pod-id-file FILE, the original flags minus --pod-id-file and --replace,
 * --replace. create_command is what the pod row keeps.
 */
char **pea_gen_pod_create_argv(char *const *create_command, const char *exe,
                               const char *pod_id_file);

/* The unit of a pod: Requires= and Before= its members' units. */
char *pea_gen_pod_unit(const struct pea_gen_opts *o, const struct pea_gen_pod *p,
                       const char *unit_name, const char *date);

/* "container-NAME.service" (template: "container-NAME@.service"); pod: the pod prefix. */
char *pea_gen_unit_name(const struct pea_gen_opts *o, bool pod, const char *name,
                        bool template_unit);

/* Whether s is a systemd Restart= value. */
bool pea_gen_restart_valid(const char *s);

/*
 * The unit of a container: header (unless no_header; date is its third
 * line, NULL: none), [Unit], [Service] and [Install].
 */
char *pea_gen_container_unit(const struct pea_gen_opts *o, const struct pea_gen_ctr *c,
                             const char *unit_name, const char *date);
