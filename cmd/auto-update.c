/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pea auto-update: containers labelled io.containers.autoupdate=registry (or
 * local) whose image changed get the new image and their systemd unit (label
 * PODMAN_SYSTEMD_UNIT) restarted, as podman 4's auto-update does.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <jansson.h>

#include "cmd.h"
#include "image.h"
#include "registry/registry.h"
#include "run.h"
#include "state/state.h"

#define POLICY_LABEL "io.containers.autoupdate"
#define UNIT_LABEL   "PODMAN_SYSTEMD_UNIT"

struct au_opts {
        bool dry_run;
        const char *format; /* json, or NULL: the table */
        struct pea_cmd_registry_flags rf;
};

/* One row of the report. */
struct au_report {
        char *unit, *container, *image, *policy, *updated;
};

struct au {
        struct pea_cli *cli;
        struct au_opts o;
        struct pea_run_env e;
        struct au_report *rows;
        size_t n;
        int failed;
};

static void report_add(struct au *a, const struct pea_container_row *row, const char *unit,
                       const char *policy, const char *updated)
{
        a->rows = xrealloc(a->rows, (a->n + 1) * sizeof(*a->rows));
        a->rows[a->n++] = (struct au_report){
                .unit = xstrdup(unit),
                .container = xasprintf("%.12s (%s)", row->id, row->name),
                .image = xstrdup(row->image_name ? row->image_name : ""),
                .policy = xstrdup(policy),
                .updated = xstrdup(updated),
        };
}

/* The manifest digest the registry has for name (a full reference). */
static int remote_digest(struct au *a, const char *name, char **ret, struct pea_error **err)
{
        struct pea_image_ref ref = {};
        int r = pea_image_ref_parse(name, &ref, err);
        if (r < 0)
                return r;
        struct pea_registry_opts ro = {.authfile = a->o.rf.authfile, .cert_dir = a->o.rf.cert_dir};
        const struct pea_registry *reg = pea_registries_find(&a->e.regs, name);
        ro.insecure = a->o.rf.tls_verify == 0 || (a->o.rf.tls_verify < 0 && reg && reg->insecure);
        struct pea_registry_client *c = NULL;
        struct pea_registry_manifest m = {};
        r = pea_registry_client_new(ref.domain, &ro, &c, err);
        if (r >= 0)
                r = pea_registry_head_manifest(c, ref.path, ref.digest ? ref.digest : ref.tag, &m,
                                               err);
        if (r >= 0 && !m.digest)
                r = pea_registry_get_manifest(c, ref.path, ref.digest ? ref.digest : ref.tag, &m,
                                              err);
        if (r >= 0)
                *ret = xstrdup(m.digest);
        pea_registry_manifest_done(&m);
        pea_registry_client_free(c);
        pea_image_ref_done(&ref);
        return r;
}

/* Whether the image the container runs has digest (its manifest or a recorded repo digest). */
static bool image_has_digest(struct au *a, const char *image_id, const char *digest)
{
        struct pea_image_record rec = {};
        if (pea_image_store_get(a->e.store, image_id, &rec, NULL) < 0)
                return false;
        bool found = streq_ptr(rec.digest, digest);
        STRV_FOREACH(d, rec.repo_digests) {
                const char *at = strchr(*d, '@');
                found = found || (at && streq(at + 1, digest));
        }
        pea_image_record_done(&rec);
        return found;
}

/* Whether the local image called name is another one than image_id. */
static int local_changed(struct au *a, const char *name, const char *image_id,
                         struct pea_error **err)
{
        struct pea_image_record rec = {};
        int r = pea_image_store_lookup(a->e.store, name, &rec, NULL, err);
        if (r < 0)
                return r;
        r = !streq_ptr(rec.id, image_id);
        pea_image_record_done(&rec);
        return r;
}

/* systemctl [--user] restart unit ($PEA_SYSTEMCTL replaces systemctl, for tests). */
static int restart_unit(struct au *a, const char *unit, struct pea_error **err)
{
        const char *systemctl = getenv("PEA_SYSTEMCTL");
        if (!systemctl || !*systemctl)
                systemctl = "systemctl";
        const char *argv[] = {systemctl, "restart", unit, NULL, NULL};
        if (a->cli->config.rootless) {
                argv[1] = "--user";
                argv[2] = "restart";
                argv[3] = unit;
        }
        pid_t pid = fork();
        if (pid < 0)
                return pea_error_syscall(err, errno, "forking systemctl");
        if (pid == 0) {
                execvp(argv[0], (char *const *)argv);
                _exit(127);
        }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return pea_error_set(err, EIO, "restarting unit '%s': %s failed (status %d)", unit,
                                     systemctl, WIFEXITED(st) ? WEXITSTATUS(st) : 128);
        return 0;
}

/* 1: the container's image changed (registry: remote digest; local: the store's name). */
static int needs_update(struct au *a, const struct pea_container_row *row, const char *policy,
                        struct pea_error **err)
{
        if (streq(policy, "local"))
                return local_changed(a, row->image_name, row->image_id, err);
        _cleanup_free_ char *digest = NULL;
        int r = remote_digest(a, row->image_name, &digest, err);
        if (r < 0)
                return r;
        return !image_has_digest(a, row->image_id, digest);
}

/* Pulls the new image (registry) and restarts the unit. */
static int update(struct au *a, const struct pea_container_row *row, const char *policy,
                  const char *unit, struct pea_error **err)
{
        if (streq(policy, "registry")) {
                struct pea_image_pull_opts po;
                pea_cmd_pull_defaults(a->cli, &po);
                po.tls_verify = a->o.rf.tls_verify;
                int r = pea_cmd_pull_image(a->cli, a->e.store, &a->e.regs, row->image_name,
                                           &a->o.rf, &po, true, NULL, err);
                if (r < 0)
                        return r;
        }
        return restart_unit(a, unit, err);
}

static int check_image_name(const struct pea_container_row *row, struct pea_error **err)
{
        struct pea_image_ref ref = {};
        const char *name = row->image_name;
        int r = name ? pea_image_ref_parse(name, &ref, NULL) : -EINVAL;
        bool full = r >= 0 && ref.domain;
        pea_image_ref_done(&ref);
        if (!full)
                return pea_error_set(err, EINVAL,
                                     "auto updates require fully-qualified image reference: '%s'",
                                     name ? name : "");
        return 0;
}

static int one(struct au *a, const struct pea_container_row *row, const char *policy,
               struct pea_error **err)
{
        json_t *labels = json_object_get(row->config, "labels");
        const char *unit = json_string_value(json_object_get(labels, UNIT_LABEL));
        if (!unit)
                return pea_error_set(err, ENOENT, "no %s label found", UNIT_LABEL);
        if (!streq(policy, "registry") && !streq(policy, "local"))
                return pea_error_set(err, EINVAL, "invalid auto-update policy '%s'", policy);
        int r = streq(policy, "registry") ? check_image_name(row, err) : 0;
        if (r >= 0)
                r = needs_update(a, row, policy, err);
        if (r < 0)
                return r;
        if (r == 0 || a->o.dry_run) {
                report_add(a, row, unit, policy, r == 0 ? "false" : "pending");
                return 0;
        }
        r = update(a, row, policy, unit, err);
        if (r < 0) {
                report_add(a, row, unit, policy, "failed");
                return r;
        }
        report_add(a, row, unit, policy, "true");
        return 0;
}

static void run_all(struct au *a, struct pea_container_row *rows, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                json_t *labels = json_object_get(rows[i].config, "labels");
                const char *policy = json_string_value(json_object_get(labels, POLICY_LABEL));
                if (!policy || streq(policy, "") || streq(policy, "disabled"))
                        continue;
                if (streq(policy, "image"))
                        policy = "registry"; /* podman's old name */
                _cleanup_error_ struct pea_error *e = NULL;
                if (one(a, &rows[i], policy, &e) < 0) {
                        fprintf(stderr, "Error: auto-updating container '%.12s': %s\n", rows[i].id,
                                e->msg);
                        a->failed++;
                }
        }
}

/* Go's tabwriter (minwidth 12, padding 2), as podman prints reports. */
static void print_table(const struct au *a)
{
        static const char *const head[] = {"UNIT", "CONTAINER", "IMAGE", "POLICY", "UPDATED"};
        int w[5];
        for (size_t c = 0; c < 5; c++)
                w[c] = (int)strlen(head[c]);
        for (size_t i = 0; i < a->n; i++) {
                const char *v[] = {a->rows[i].unit, a->rows[i].container, a->rows[i].image,
                                   a->rows[i].policy};
                for (size_t c = 0; c < 4; c++)
                        w[c] = (int)strlen(v[c]) > w[c] ? (int)strlen(v[c]) : w[c];
        }
        for (size_t c = 0; c < 4; c++)
                w[c] = w[c] + 2 < 12 ? 12 : w[c] + 2;
        printf("%-*s%-*s%-*s%-*s%s\n", w[0], head[0], w[1], head[1], w[2], head[2], w[3], head[3],
               head[4]);
        for (size_t i = 0; i < a->n; i++) {
                const struct au_report *r = &a->rows[i];
                printf("%-*s%-*s%-*s%-*s%s\n", w[0], r->unit, w[1], r->container, w[2], r->image,
                       w[3], r->policy, r->updated);
        }
}

static void print_json(const struct au *a)
{
        _cleanup_json_ json_t *arr = json_array();
        for (size_t i = 0; i < a->n; i++) {
                const struct au_report *r = &a->rows[i];
                json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s}", "Unit", r->unit,
                                                     "Container", r->container, "Image", r->image,
                                                     "Policy", r->policy, "Updated", r->updated));
        }
        _cleanup_free_ char *s = json_dumps(arr, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
}

enum { OPT_DRY_RUN = 0x100, OPT_FORMAT };

static int parse(struct au *a, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"dry-run", no_argument, NULL, OPT_DRY_RUN},
                {"format", required_argument, NULL, OPT_FORMAT},
                {"authfile", required_argument, NULL, PEA_CMD_OPT_AUTHFILE},
                {"tls-verify", optional_argument, NULL, PEA_CMD_OPT_TLS_VERIFY},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(a->cli, &pea_cmd_auto_update);
                        return 1;
                }
                int r = pea_cmd_registry_opt(&a->o.rf, c, optarg, err);
                if (r < 0)
                        return r;
                if (r == 1)
                        continue;
                if (c == OPT_DRY_RUN)
                        a->o.dry_run = true;
                else if (c == OPT_FORMAT && streq(optarg, "json"))
                        a->o.format = optarg;
                else if (c == OPT_FORMAT)
                        return pea_error_set(err, EINVAL,
                                             "unsupported format '%s': only json is "
                                             "supported",
                                             optarg);
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        return pea_cli_check_args(a->cli, argc - optind, 0, 0, err);
}

static int cmd_auto_update(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct au a = {.cli = cli, .o.rf.tls_verify = -1};
        int r = parse(&a, argc, argv, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct pea_container_row *rows = NULL;
        size_t n = 0;
        r = pea_run_env_open(cli, &a.e, err);
        if (r >= 0)
                r = pea_state_container_list(cli->state, NULL, &rows, &n, err);
        if (r >= 0) {
                run_all(&a, rows, n);
                if (a.o.format)
                        print_json(&a);
                else
                        print_table(&a);
        }
        pea_container_rows_free(rows, n);
        for (size_t i = 0; i < a.n; i++) {
                struct au_report *p = &a.rows[i];
                free(p->unit), free(p->container), free(p->image), free(p->policy),
                        free(p->updated);
        }
        free(a.rows);
        pea_run_env_done(&a.e);
        if (r < 0)
                return r;
        return a.failed ? 125 : 0;
}

const struct pea_cmd pea_cmd_auto_update = {
        .name = "auto-update",
        .fn = cmd_auto_update,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Auto update containers according to their auto-update policy",
        .usage = "[options]",
        .options =
                "      --authfile string   Path to the authentication file\n"
                "      --dry-run           Check for pending updates\n"
                "      --format string     Change the output format to JSON\n"
                "      --tls-verify        Require HTTPS and verify certificates when contacting "
                "registries (default true)\n",
};
