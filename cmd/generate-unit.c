/* SPDX-License-Identifier: Apache-2.0 */
/* The text of the units `pea generate systemd` writes, after podman 4's. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "generate.h"

#define CIDFILE_ARG "--cidfile=%t/%n.ctr-id"

void pea_gen_opts_init(struct pea_gen_opts *o)
{
        *o = (struct pea_gen_opts){
                .restart_sec = -1,
                .stop_timeout = -1,
                .start_timeout = -1,
                .container_prefix = "container",
                .pod_prefix = "pod",
                .separator = "-",
        };
}

/* pea's global flags, each with a value. */
static bool global_flag(const char *a)
{
        return streq(a, "--root") || streq(a, "--runroot") || streq(a, "--storage-driver")
               || streq(a, "--log-level");
}

size_t pea_gen_command_index(char *const *argv)
{
        size_t i = 1;
        while (argv[0] && argv[i] && argv[i][0] == '-') {
                if (global_flag(argv[i]) && argv[i + 1])
                        i++;
                i++;
        }
        return i;
}

char *pea_gen_escape(const char *arg)
{
        bool quote = !*arg || strpbrk(arg, " \t\n\"'\\;") != NULL;
        size_t n = 3;
        for (const char *p = arg; *p; p++)
                n += 2;
        char *out = xmalloc(n), *w = out;
        if (quote)
                *w++ = '"';
        for (const char *p = arg; *p; p++) {
                if (*p == '$' || *p == '%')
                        *w++ = *p;
                else if (quote && (*p == '"' || *p == '\\'))
                        *w++ = '\\';
                if (quote && *p == '\n') {
                        *w++ = '\\';
                        *w++ = 'n';
                        continue;
                }
                *w++ = *p;
        }
        if (quote)
                *w++ = '"';
        *w = '\0';
        return out;
}

/* Flags of the original command the unit sets itself: 0 keep, 1 drop, 2 drop with its value. */
static int dropped(const char *a, bool pod_member)
{
        static const char *const with_value[] = {"--cidfile", "--restart", NULL};
        static const char *const pod_flags[] = {"--pod", "--pod-id-file", NULL};
        if (streq(a, "--rm") || startswith(a, "--rm=") || startswith(a, "--cidfile=")
            || startswith(a, "--restart="))
                return 1;
        if (pod_member && (startswith(a, "--pod=") || startswith(a, "--pod-id-file=")))
                return 1;
        if (pod_member && strv_contains((char **)pod_flags, a))
                return 2;
        return strv_contains((char **)with_value, a) ? 2 : 0;
}

static void push_escaped(char ***l, const char *a)
{
        strv_consume(l, pea_gen_escape(a));
}

/* The original flags between the command word and IMAGE, filtered; --name gets -%i. */
static void push_flags(char ***l, const struct pea_gen_cmdline *c, bool template_unit)
{
        for (size_t i = c->cmd_index + 1; i < c->image_index; i++) {
                const char *a = c->argv[i];
                int d = dropped(a, c->pod_id_file != NULL);
                if (d > 0) {
                        i += (size_t)d - 1;
                        continue;
                }
                if (template_unit && startswith(a, "--name=")) {
                        _cleanup_free_ char *v = pea_gen_escape(a);
                        strv_consume(l, xasprintf("%s-%%i", v));
                        continue;
                }
                push_escaped(l, a);
                if (template_unit && streq(a, "--name") && i + 1 < c->image_index) {
                        _cleanup_free_ char *v = pea_gen_escape(c->argv[++i]);
                        strv_consume(l, xasprintf("%s-%%i", v));
                }
        }
}

char **pea_gen_new_argv(const struct pea_gen_cmdline *c, const char *exe, bool template_unit)
{
        char **l = NULL;
        push_escaped(&l, exe);
        for (size_t i = 1; i < c->cmd_index; i++)
                push_escaped(&l, c->argv[i]);
        strv_push(&l, "run");
        strv_push(&l, CIDFILE_ARG);
        strv_push(&l, "--rm");
        if (!c->sdnotify)
                strv_push(&l, "--sdnotify=conmon");
        if (!c->detach)
                strv_push(&l, "-d");
        if (c->name && !c->replace)
                strv_push(&l, "--replace");
        if (c->pod_id_file) {
                strv_push(&l, "--pod-id-file");
                strv_push(&l, c->pod_id_file);
        }
        push_flags(&l, c, template_unit);
        for (size_t i = c->image_index; c->argv[i]; i++)
                push_escaped(&l, c->argv[i]);
        return l;
}

char **pea_gen_pod_create_argv(char *const *create_command, const char *exe,
                               const char *pod_id_file)
{
        char **l = NULL;
        size_t ci = pea_gen_command_index(create_command);
        push_escaped(&l, exe);
        for (size_t i = 1; i < ci && create_command[i]; i++)
                push_escaped(&l, create_command[i]);
        if (create_command[ci] && streq(create_command[ci], "pod"))
                ci++;
        strv_push(&l, "pod");
        strv_push(&l, "create");
        strv_push(&l, "--pod-id-file");
        strv_push(&l, pod_id_file);
        for (size_t i = ci + 1; create_command[ci] && create_command[i]; i++) {
                const char *a = create_command[i];
                if (streq(a, "--pod-id-file") && create_command[i + 1]) {
                        i++;
                        continue;
                }
                if (startswith(a, "--pod-id-file=") || streq(a, "--replace")
                    || startswith(a, "--replace="))
                        continue;
                push_escaped(&l, a);
        }
        strv_push(&l, "--replace");
        return l;
}

char *pea_gen_unit_name(const struct pea_gen_opts *o, bool pod, const char *name,
                        bool template_unit)
{
        return xasprintf("%s%s%s%s.service", pod ? o->pod_prefix : o->container_prefix,
                         o->separator, name, template_unit ? "@" : "");
}

bool pea_gen_restart_valid(const char *s)
{
        static const char *const v[] = {"no",          "on-success", "on-failure", "on-abnormal",
                                        "on-watchdog", "on-abort",   "always",     NULL};
        return strv_contains((char **)v, s);
}

/* pea and its global flags (the store the unit's commands use), escaped. */
static char *command_prefix(const char *exe, char *const *globals)
{
        char *s = pea_gen_escape(exe);
        STRV_FOREACH(g, (char **)globals) {
                _cleanup_free_ char *e = pea_gen_escape(*g);
                char *n = xasprintf("%s %s", s, e);
                free(s);
                s = n;
        }
        return s;
}

/* podman's layout: a flag starts a continuation line, its value stays with it. */
static void put_exec(FILE *f, const char *key, char *const *argv)
{
        fprintf(f, "%s=%s", key, argv[0]);
        for (size_t i = 1; argv[i]; i++)
                fprintf(f, argv[i][0] == '-' ? " \\\n\t%s" : " %s", argv[i]);
        fputc('\n', f);
}

static void put_list(FILE *f, const char *key, char **l)
{
        if (!l)
                return;
        fprintf(f, "%s=", key);
        STRV_FOREACH(s, l)
                fprintf(f, "%s%s", s == l ? "" : " ", *s);
        fputc('\n', f);
}

/* The systemd Restart= of the container's --restart. */
static const char *restart_of(const struct pea_gen_opts *o, const struct pea_gen_ctr *c)
{
        if (o->restart_policy)
                return o->restart_policy;
        if (!c->restart || !*c->restart || streq(c->restart, "no"))
                return "on-failure";
        if (startswith(c->restart, "on-failure"))
                return "on-failure";
        return "always";
}

static void put_unit(FILE *f, const struct pea_gen_opts *o, const struct pea_gen_ctr *c,
                     const char *unit_name)
{
        fprintf(f, "[Unit]\nDescription=Pea %s\nDocumentation=man:pea-generate-systemd(1)\n",
                unit_name);
        fprintf(f, "Wants=network-online.target\nAfter=network-online.target\n");
        fprintf(f, "RequiresMountsFor=%s\n", c->run_root);
        if (c->pod_unit)
                fprintf(f, "BindsTo=%s\nAfter=%s\n", c->pod_unit, c->pod_unit);
        put_list(f, "After", o->after);
        put_list(f, "Wants", o->wants);
        put_list(f, "Requires", o->requires);
}

static void put_service_head(FILE *f, const struct pea_gen_opts *o, const struct pea_gen_ctr *c,
                             unsigned stop_timeout)
{
        fprintf(f, "\n[Service]\nEnvironment=PODMAN_SYSTEMD_UNIT=%%n\n");
        STRV_FOREACH(e, o->env) {
                _cleanup_free_ char *v = pea_gen_escape(*e);
                fprintf(f, "Environment=%s\n", v);
        }
        fprintf(f, "Restart=%s\n", restart_of(o, c));
        if (o->restart_sec >= 0)
                fprintf(f, "RestartSec=%ld\n", o->restart_sec);
        if (o->start_timeout >= 0)
                fprintf(f, "TimeoutStartSec=%ld\n", o->start_timeout);
        fprintf(f, "TimeoutStopSec=%u\n", 60 + stop_timeout);
}

static void put_exec_new(FILE *f, const struct pea_gen_ctr *c, unsigned t)
{
        _cleanup_free_ char *exe = command_prefix(c->exe, c->globals);
        fprintf(f, "ExecStartPre=/bin/rm \\\n\t-f %%t/%%n.ctr-id\n");
        put_exec(f, "ExecStart", c->run_argv);
        fprintf(f, "ExecStop=%s stop \\\n\t--ignore -t %u \\\n\t%s\n", exe, t, CIDFILE_ARG);
        fprintf(f, "ExecStopPost=%s rm \\\n\t-f \\\n\t--ignore -t %u \\\n\t%s\n", exe, t,
                CIDFILE_ARG);
}

static void put_exec_existing(FILE *f, const struct pea_gen_ctr *c, unsigned t)
{
        _cleanup_free_ char *exe = command_prefix(c->exe, c->globals);
        _cleanup_free_ char *who = pea_gen_escape(c->name ? c->name : c->id);
        fprintf(f, "ExecStart=%s start %s\n", exe, who);
        fprintf(f, "ExecStop=%s stop \\\n\t-t %u %s\n", exe, t, who);
        fprintf(f, "ExecStopPost=%s stop \\\n\t-t %u %s\n", exe, t, who);
}

char *pea_gen_container_unit(const struct pea_gen_opts *o, const struct pea_gen_ctr *c,
                             const char *unit_name, const char *date)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort();
        unsigned t = o->stop_timeout >= 0 ? (unsigned)o->stop_timeout : c->stop_timeout;
        if (!o->no_header) {
                fprintf(f, "# %s\n# autogenerated by pea %s\n", unit_name, PEA_VERSION);
                if (date)
                        fprintf(f, "# %s\n", date);
                fputc('\n', f);
        }
        put_unit(f, o, c, unit_name);
        put_service_head(f, o, c, t);
        if (o->new_unit)
                put_exec_new(f, c, t);
        else
                put_exec_existing(f, c, t);
        fprintf(f, "Type=notify\nNotifyAccess=all\n\n[Install]\nWantedBy=default.target\n");
        if (fclose(f) != 0)
                abort();
        return buf;
}

static void put_pod_exec(FILE *f, const struct pea_gen_opts *o, const struct pea_gen_pod *p)
{
        _cleanup_free_ char *exe = command_prefix(p->exe, p->globals);
        unsigned t = o->stop_timeout >= 0 ? (unsigned)o->stop_timeout : 10;
        if (!o->new_unit) {
                _cleanup_free_ char *who = pea_gen_escape(p->name);
                fprintf(f, "ExecStart=%s pod start %s\n", exe, who);
                fprintf(f, "ExecStop=%s pod stop \\\n\t-t %u %s\n", exe, t, who);
                fprintf(f, "ExecStopPost=%s pod stop \\\n\t-t %u %s\n", exe, t, who);
                return;
        }
        fprintf(f, "ExecStartPre=/bin/rm \\\n\t-f %s\n", p->pod_id_file);
        put_exec(f, "ExecStartPre", p->create_argv);
        fprintf(f, "ExecStart=%s pod start \\\n\t--pod-id-file %s\n", exe, p->pod_id_file);
        fprintf(f, "ExecStop=%s pod stop \\\n\t--ignore \\\n\t--pod-id-file %s \\\n\t-t %u\n", exe,
                p->pod_id_file, t);
        fprintf(f, "ExecStopPost=%s pod rm \\\n\t--ignore \\\n\t-f \\\n\t--pod-id-file %s\n", exe,
                p->pod_id_file);
}

char *pea_gen_pod_unit(const struct pea_gen_opts *o, const struct pea_gen_pod *p,
                       const char *unit_name, const char *date)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort();
        unsigned t = o->stop_timeout >= 0 ? (unsigned)o->stop_timeout : 10;
        if (!o->no_header) {
                fprintf(f, "# %s\n# autogenerated by pea %s\n", unit_name, PEA_VERSION);
                if (date)
                        fprintf(f, "# %s\n", date);
                fputc('\n', f);
        }
        struct pea_gen_ctr c = {.run_root = p->run_root};
        put_unit(f, o, &c, unit_name);
        put_list(f, "Requires", p->members);
        put_list(f, "Before", p->members);
        put_service_head(f, o, &c, t);
        put_pod_exec(f, o, p);
        fprintf(f, "Type=notify\nNotifyAccess=all\n\n[Install]\nWantedBy=default.target\n");
        if (fclose(f) != 0)
                abort();
        return buf;
}
