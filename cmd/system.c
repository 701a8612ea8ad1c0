/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "image.h"
#include "rootless/rootless.h"
#include "run.h"
#include "state/state.h"
#include "storage/storage.h"
#include "units.h"
#include "volume/volume.h"

struct pea_doctor_cmd_opts {
        const char *format;
};

static void print_report(const struct pea_doctor_report *rep)
{
        for (size_t i = 0; i < rep->n; i++) {
                _cleanup_free_ char *line = pea_doctor_format_line(&rep->checks[i]);
                printf("%s\n", line);
        }
}

static int print_formatted(const struct pea_doctor_report *rep, const char *format,
                           struct pea_error **err)
{
        _cleanup_json_ json_t *j = pea_doctor_report_json(rep);
        if (streq(format, "json")) {
                if (pea_json_print(stdout, j, 4) < 0)
                        return pea_error_syscall(err, EIO, "writing output");
                return 0;
        }
        return pea_format_print(stdout, format, j, true, NULL, 4, err);
}

static int parse_doctor(struct pea_cli *cli, int argc, char **argv, struct pea_doctor_cmd_opts *o,
                        struct pea_error **err)
{
        static const struct option longopts[] = {
                {"format", required_argument, NULL, 'f'},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        o->format = optarg;
                        break;
                case 'h':
                        pea_cli_print_help(cli, &pea_cmd_doctor);
                        return 1;
                default:
                        return pea_cli_opt_error(c, argc, argv, err);
                }
        }
        return pea_cli_check_args(cli, argc - optind, 0, 0, err);
}

static int cmd_doctor(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct pea_doctor_cmd_opts o = {0};
        int r = parse_doctor(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        const struct pea_doctor_opts dopts = {
                .uid = cli->config.uid,
                .gid = cli->config.gid,
                .user = cli->config.user,
                .runtime_dir = getenv("XDG_RUNTIME_DIR"),
                .storage_dir = cli->config.graph_root,
        };
        _cleanup_(pea_doctor_report_done) struct pea_doctor_report rep = {0};
        pea_doctor_run(&dopts, &rep);
        if (o.format && *o.format) {
                r = print_formatted(&rep, o.format, err);
                if (r < 0)
                        return r;
        } else {
                print_report(&rep);
        }
        return pea_doctor_report_failed(&rep) ? 1 : 0;
}

#define DOCTOR_SUMMARY "Check that every rootless prerequisite is in place"
#define DOCTOR_OPTIONS "  -f, --format string   Change the output format to JSON or a Go template\n"

const struct pea_cmd pea_cmd_doctor = {
        .name = "doctor",
        .fn = cmd_doctor,
        .flags = PEA_NEEDS_CONFIG,
        .summary = DOCTOR_SUMMARY,
        .usage = "[options]",
        .options = DOCTOR_OPTIONS,
};

/* ---- shared by df, prune and reset ---------------------------------------------------------- */

/* docker's units.HumanSize: four significant digits, decimal units, no space ("2.142MB"). */
static char *df_size(double bytes)
{
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
        size_t i = 0;
        while (bytes >= 1000.0 && i + 1 < ELEMENTSOF(units)) {
                bytes /= 1000.0;
                i++;
        }
        return xasprintf("%.4g%s", bytes, units[i]);
}

static int64_t du_total;

static int du_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)path;
        (void)ftw;
        if (flag == FTW_F || flag == FTW_SL)
                du_total += st->st_size;
        return 0;
}

/* The bytes of the files below path (one file system, symlinks not followed); 0 when missing. */
static int64_t disk_usage(const char *path)
{
        du_total = 0;
        (void)nftw(path, du_add, 32, FTW_PHYS | FTW_MOUNT);
        return du_total;
}

/* The writable layer of a container: upper (overlay drivers) or rootfs (vfs). */
static int64_t container_size(const struct pea_container_ctx *ctx, const char *id)
{
        bool vfs = streq(pea_storage_driver_name(ctx->storage), "vfs");
        _cleanup_free_ char *p =
                xasprintf("%s/containers/%s/%s", ctx->graph_root, id, vfs ? "rootfs" : "upper");
        return disk_usage(p);
}

/* podman's prompt: true when the answer starts with y. */
static bool confirm(void)
{
        printf("Are you sure you want to continue? [y/N] ");
        (void)fflush(stdout);
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        if (getline(&line, &cap, stdin) < 0)
                return false;
        strstrip(line);
        return line[0] == 'y' || line[0] == 'Y';
}

/* Everything the three commands look at, loaded once. */
struct usage {
        struct pea_run_env env;
        struct pea_cmd_image *imgs;
        size_t n_imgs;
        struct pea_container_row *ctrs;
        size_t n_ctrs;
        struct pea_volume_row *vols;
        size_t n_vols;
};

static void usage_done(struct usage *u)
{
        pea_cmd_images_free(u->imgs, u->n_imgs);
        pea_container_rows_free(u->ctrs, u->n_ctrs);
        pea_volume_rows_free(u->vols, u->n_vols);
        pea_run_env_done(&u->env);
}

static int usage_load(struct pea_cli *cli, struct usage *u, struct pea_error **err)
{
        int r = pea_run_env_open(cli, &u->env, err);
        if (r >= 0)
                r = pea_cmd_images_load_all(u->env.store, &u->imgs, &u->n_imgs, err);
        if (r >= 0)
                r = pea_state_container_list(cli->state, NULL, &u->ctrs, &u->n_ctrs, err);
        for (size_t i = 0; r >= 0 && i < u->n_ctrs; i++)
                r = pea_cmd_container_sync(&u->env.ctx, &u->ctrs[i], err);
        if (r >= 0)
                r = pea_state_volume_list(cli->state, &u->vols, &u->n_vols, err);
        return r < 0 ? r : 0;
}

static size_t image_containers(const struct usage *u, const char *id)
{
        size_t n = 0;
        for (size_t i = 0; i < u->n_ctrs; i++)
                if (streq_ptr(u->ctrs[i].image_id, id))
                        n++;
        return n;
}

static bool is_running(const struct pea_container_row *c)
{
        return streq(c->state, "running") || streq(c->state, "paused");
}

static size_t volume_links(struct pea_state *s, const char *name)
{
        _cleanup_strv_ char **users = NULL;
        if (pea_state_volume_users(s, name, &users, NULL) < 0)
                return 0;
        return strv_length(users);
}

/* ---- df ------------------------------------------------------------------------------------ */

struct df_opts {
        const char *format;
        bool verbose;
};

static json_t *df_row(const char *type, size_t total, size_t active, int64_t size,
                      int64_t reclaimable)
{
        int percent = size > 0 ? (int)((reclaimable * 200 + size) / (size * 2)) : 0;
        _cleanup_free_ char *s = df_size((double)size), *rs = df_size((double)reclaimable);
        _cleanup_free_ char *rec = xasprintf("%s (%d%%)", rs, percent);
        return json_pack("{s:s, s:I, s:I, s:s, s:s, s:I, s:I}", "Type", type, "Total",
                         (json_int_t)total, "Active", (json_int_t)active, "Size", s, "Reclaimable",
                         rec, "RawSize", (json_int_t)size, "RawReclaimable",
                         (json_int_t)reclaimable);
}

static json_t *df_summary(const struct usage *u)
{
        json_t *rows = json_array();
        size_t active = 0;
        int64_t size = 0, rec = 0;
        for (size_t i = 0; i < u->n_imgs; i++) {
                bool used = image_containers(u, u->imgs[i].rec.id) > 0;
                active += used;
                size += u->imgs[i].size;
                rec += used ? 0 : u->imgs[i].size;
        }
        json_array_append_new(rows, df_row("Images", u->n_imgs, active, size, rec));
        active = 0, size = 0, rec = 0;
        for (size_t i = 0; i < u->n_ctrs; i++) {
                int64_t cs = container_size(&u->env.ctx, u->ctrs[i].id);
                bool running = is_running(&u->ctrs[i]);
                active += running;
                size += cs;
                rec += running ? 0 : cs;
        }
        json_array_append_new(rows, df_row("Containers", u->n_ctrs, active, size, rec));
        active = 0, size = 0, rec = 0;
        for (size_t i = 0; i < u->n_vols; i++) {
                int64_t vs = disk_usage(u->vols[i].mountpoint);
                bool used = volume_links(u->env.ctx.state, u->vols[i].name) > 0;
                active += used;
                size += vs;
                rec += used ? 0 : vs;
        }
        json_array_append_new(rows, df_row("Local Volumes", u->n_vols, active, size, rec));
        return rows;
}

static json_t *df_images(const struct usage *u)
{
        json_t *rows = json_array();
        int64_t now = pea_now_ns();
        for (size_t i = 0; i < u->n_imgs; i++) {
                const struct pea_cmd_image *im = &u->imgs[i];
                _cleanup_strv_ char **tags = pea_cmd_image_tags(im);
                _cleanup_free_ char *repo = xstrdup(tags[0] ? tags[0] : "<none>:<none>");
                char *colon = strrchr(repo, ':');
                const char *tag = "<none>";
                if (colon && !strchr(colon, '/')) {
                        *colon = '\0';
                        tag = colon + 1;
                }
                _cleanup_free_ char *created = pea_human_duration(now - im->rec.created);
                _cleanup_free_ char *size = df_size((double)im->size);
                json_array_append_new(rows, json_pack("{s:s, s:s, s:s#, s:s, s:s, s:s, s:s, s:I}",
                                                      "Repository", repo, "Tag", tag, "ID",
                                                      im->rec.id, (int)12, "Created", created,
                                                      "Size", size, "SharedSize", "0B",
                                                      "UniqueSize", size, "Containers",
                                                      (json_int_t)image_containers(u, im->rec.id)));
        }
        return rows;
}

static char *command_of(const struct pea_container_row *c)
{
        _cleanup_strv_ char **words = xcalloc(1, sizeof(char *));
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(c->config, "args"), i, v)
                strv_push(&words, json_string_value(v) ?: "");
        return strv_join(words, " ");
}

static json_t *df_containers(const struct usage *u)
{
        json_t *rows = json_array();
        int64_t now = pea_now_ns();
        for (size_t i = 0; i < u->n_ctrs; i++) {
                const struct pea_container_row *c = &u->ctrs[i];
                _cleanup_strv_ char **vols = NULL;
                (void)pea_state_container_get_volumes(u->env.ctx.state, c->id, &vols, NULL);
                _cleanup_free_ char *cmd = command_of(c);
                _cleanup_free_ char *created = pea_human_duration(now - c->created);
                _cleanup_free_ char *size = df_size((double)container_size(&u->env.ctx, c->id));
                json_array_append_new(
                        rows, json_pack("{s:s#, s:s#, s:s, s:I, s:s, s:s, s:s, s:s}", "ContainerID",
                                        c->id, (int)12, "Image", c->image_id ? c->image_id : "",
                                        (int)12, "Command", cmd, "LocalVolumes",
                                        (json_int_t)strv_length(vols), "Size", size, "Created",
                                        created, "Status", c->state, "Names", c->name));
        }
        return rows;
}

static json_t *df_volumes(const struct usage *u)
{
        json_t *rows = json_array();
        for (size_t i = 0; i < u->n_vols; i++) {
                _cleanup_free_ char *size = df_size((double)disk_usage(u->vols[i].mountpoint));
                json_array_append_new(
                        rows, json_pack("{s:s, s:I, s:s}", "VolumeName", u->vols[i].name, "Links",
                                        (json_int_t)volume_links(u->env.ctx.state, u->vols[i].name),
                                        "Size", size));
        }
        return rows;
}

static int df_verbose(const struct usage *u, struct pea_error **err)
{
        _cleanup_json_ json_t *imgs = df_images(u), *ctrs = df_containers(u);
        _cleanup_json_ json_t *vols = df_volumes(u);
        _cleanup_json_ json_t *ih = json_pack("{s:s, s:s, s:s}", "ID", "IMAGE ID", "SharedSize",
                                              "SHARED SIZE", "UniqueSize", "UNIQUE SIZE");
        _cleanup_json_ json_t *ch = json_pack("{s:s, s:s}", "ContainerID", "CONTAINER ID",
                                              "LocalVolumes", "LOCAL VOLUMES");
        _cleanup_json_ json_t *vh = json_pack("{s:s}", "VolumeName", "VOLUME NAME");
        printf("Images space usage:\n\n");
        int r = pea_format_print(stdout,
                                 "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Created}}\t"
                                 "{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
                                 imgs, true, ih, 4, err);
        if (r >= 0) {
                printf("\nContainers space usage:\n\n");
                r = pea_format_print(stdout,
                                     "table {{.ContainerID}}\t{{.Image}}\t{{.Command}}\t"
                                     "{{.LocalVolumes}}\t{{.Size}}\t{{.Created}}\t{{.Status}}\t"
                                     "{{.Names}}",
                                     ctrs, true, ch, 4, err);
        }
        if (r >= 0) {
                printf("\nLocal Volumes space usage:\n\n");
                r = pea_format_print(stdout, "table {{.VolumeName}}\t{{.Links}}\t{{.Size}}", vols,
                                     true, vh, 4, err);
        }
        return r;
}

static int cmd_df(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"format", required_argument, NULL, 'f'},
                {"verbose", no_argument, NULL, 'v'},
                PEA_HELP_OPTION,
                {},
        };
        struct df_opts o = {};
        int c;
        while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_system_df);
                        return 0;
                }
                if (c == 'f')
                        o.format = optarg;
                else if (c == 'v')
                        o.verbose = true;
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        int r = pea_cli_check_args(cli, argc - optind, 0, 0, err);
        if (r >= 0 && o.verbose && o.format)
                r = pea_error_set(err, EINVAL, "cannot combine --format and --verbose flags");
        _cleanup_(usage_done) struct usage u = {};
        if (r >= 0)
                r = usage_load(cli, &u, err);
        if (r >= 0 && o.verbose)
                return df_verbose(&u, err);
        _cleanup_json_ json_t *rows = r >= 0 ? df_summary(&u) : NULL;
        const char *fmt = o.format ? o.format
                                   : "table {{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t"
                                     "{{.Reclaimable}}";
        if (r >= 0)
                r = pea_format_print(stdout, fmt, rows, true, NULL, 4, err);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_system_df = {
        .name = "df",
        .fn = cmd_df,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Show pea disk usage",
        .usage = "[options]",
        .options = "      --format string   Pretty-print images using a Go template\n"
                   "  -v, --verbose         Show detailed information on disk usage\n",
};

/* ---- prune ----------------------------------------------------------------------------------- */

struct prune_opts {
        bool all, force, volumes;
};

static void print_section(const char *title, char *const *items)
{
        if (strv_length(items) == 0)
                return;
        printf("%s\n", title);
        STRV_FOREACH(i, (char **)items)
                printf("%s\n", *i);
}

static int prune_containers(struct usage *u, int64_t *reclaimed, struct pea_error **err)
{
        _cleanup_strv_ char **ids = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < u->n_ctrs; i++) {
                const struct pea_container_row *c = &u->ctrs[i];
                if (is_running(c))
                        continue;
                int64_t size = container_size(&u->env.ctx, c->id);
                _cleanup_error_ struct pea_error *e = NULL;
                if (pea_cmd_container_remove(&u->env.ctx, c->id, false, false, &e) < 0) {
                        fprintf(stderr, "Error: %s\n", e->msg);
                        continue;
                }
                *reclaimed += size;
                strv_push(&ids, c->id);
        }
        print_section("Deleted Containers", ids);
        (void)err;
        return 0;
}

static int prune_volumes(struct usage *u, int64_t *reclaimed, struct pea_error **err)
{
        _cleanup_strv_ char **names = NULL;
        int64_t *sizes = xcalloc(u->n_vols + 1, sizeof(int64_t));
        for (size_t i = 0; i < u->n_vols; i++)
                sizes[i] = disk_usage(u->vols[i].mountpoint);
        int r = pea_volume_prune(u->env.ctx.state, NULL, &names, err);
        for (size_t i = 0; r >= 0 && i < u->n_vols; i++)
                if (strv_contains(names, u->vols[i].name))
                        *reclaimed += sizes[i];
        free(sizes);
        if (r >= 0)
                print_section("Deleted Volumes", names);
        return r < 0 ? r : 0;
}

static int prune_images(struct usage *u, bool all, int64_t *reclaimed, struct pea_error **err)
{
        _cleanup_strv_ char **ids = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < u->n_imgs; i++) {
                const struct pea_image_record *rec = &u->imgs[i].rec;
                if (!all && strv_length(rec->names) > 0)
                        continue;
                _cleanup_error_ struct pea_error *e = NULL;
                struct pea_image_remove_report rep = {0};
                int k = pea_image_store_remove(u->env.store, rec->id, PEA_IMAGE_REMOVE_FORCE, &rep,
                                               &e);
                /* in use by a container, or gone meanwhile: not pruned */
                if (k >= 0 && rep.removed) {
                        strv_push(&ids, rep.id);
                        *reclaimed += u->imgs[i].size;
                }
                pea_image_remove_report_done(&rep);
        }
        print_section("Deleted Images", ids);
        return pea_image_store_gc(u->env.store, NULL, err);
}

static void prune_warning(const struct prune_opts *o)
{
        printf("WARNING! This command removes:\n"
               "\t- all stopped containers\n"
               "\t- all networks not used by at least one container\n");
        if (o->volumes)
                printf("\t- all volumes not used by at least one container\n");
        if (o->all)
                printf("\t- all images without at least one container associated with them\n"
                       "\t- all build cache\n\n");
        else
                printf("\t- all dangling images\n\t- all dangling build cache\n\n");
}

static int prune_parse(struct pea_cli *cli, int argc, char **argv, struct prune_opts *o,
                       struct pea_error **err)
{
        static const struct option longopts[] = {
                {"all", no_argument, NULL, 'a'},
                {"force", no_argument, NULL, 'f'},
                {"volumes", no_argument, NULL, 'V'},
                {"filter", required_argument, NULL, 'F'},
                {"external", no_argument, NULL, 'E'},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":afh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_system_prune);
                        return 1;
                }
                if (c == 'a')
                        o->all = true;
                else if (c == 'f')
                        o->force = true;
                else if (c == 'V')
                        o->volumes = true;
                else if (c == 'F' || c == 'E')
                        return pea_error_set(err, ENOTSUP, "--%s is not supported yet",
                                             c == 'F' ? "filter" : "external");
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        return pea_cli_check_args(cli, argc - optind, 0, 0, err);
}

static int cmd_prune(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct prune_opts o = {};
        int r = prune_parse(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!o.force) {
                prune_warning(&o);
                if (!confirm())
                        return 0;
        }
        _cleanup_(usage_done) struct usage u = {};
        int64_t reclaimed = 0;
        r = usage_load(cli, &u, err);
        if (r >= 0)
                r = prune_containers(&u, &reclaimed, err);
        if (r >= 0 && o.volumes)
                r = prune_volumes(&u, &reclaimed, err);
        if (r >= 0) {
                /* the containers are gone: reload which images they used */
                pea_container_rows_free(u.ctrs, u.n_ctrs);
                u.ctrs = NULL, u.n_ctrs = 0;
                r = prune_images(&u, o.all, &reclaimed, err);
        }
        if (r < 0)
                return r;
        _cleanup_free_ char *total = df_size((double)reclaimed);
        printf("Total reclaimed space: %s\n", total);
        return 0;
}

const struct pea_cmd pea_cmd_system_prune = {
        .name = "prune",
        .fn = cmd_prune,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Remove unused data",
        .usage = "[options]",
        .options = "  -a, --all       Remove all unused data\n"
                   "  -f, --force     Do not prompt for confirmation.  The default is false\n"
                   "      --volumes   Prune volumes\n",
};

/* ---- reset ----------------------------------------------------------------------------------- */

static int reset_container(struct usage *u, const struct pea_container_row *c, bool report)
{
        _cleanup_error_ struct pea_error *e = NULL;
        int r = 0;
        bool paused = streq(c->state, "paused");
        if (paused)
                r = pea_cmd_container_thaw(&u->env.ctx, c->id, &e);
        if (r >= 0 && (paused || streq(c->state, "running")))
                r = pea_cmd_container_stop(&u->env.ctx, c->id, SIGKILL, 0, &e);
        if (r >= 0)
                r = pea_cmd_container_remove(&u->env.ctx, c->id, true, true, &e);
        if (r < 0 && report)
                fprintf(stderr, "Error: removing container '%s': %s\n", c->id,
                        e ? e->msg : "unknown error");
        return r;
}

/* Every container (a pod's infra container may have to wait for its members), then the pods. */
static int reset_containers(struct usage *u)
{
        int failed = 0;
        bool *left = xcalloc(u->n_ctrs + 1, sizeof(bool));
        for (size_t i = 0; i < u->n_ctrs; i++)
                left[i] = reset_container(u, &u->ctrs[i], false) < 0;
        for (size_t i = 0; i < u->n_ctrs; i++)
                if (left[i] && reset_container(u, &u->ctrs[i], true) < 0)
                        failed++;
        free(left);
        struct pea_pod_row *pods = NULL;
        size_t n = 0;
        if (pea_state_pod_list(u->env.ctx.state, &pods, &n, NULL) < 0)
                return failed + 1;
        for (size_t i = 0; i < n; i++) {
                _cleanup_error_ struct pea_error *e = NULL;
                if (pea_state_pod_remove(u->env.ctx.state, pods[i].id, &e) < 0) {
                        fprintf(stderr, "Error: removing pod '%s': %s\n", pods[i].id, e->msg);
                        failed++;
                }
        }
        pea_pod_rows_free(pods, n);
        return failed;
}

static int reset_images_volumes(struct usage *u)
{
        int failed = 0;
        for (size_t i = 0; i < u->n_imgs; i++) {
                _cleanup_error_ struct pea_error *e = NULL;
                struct pea_image_remove_report rep = {0};
                if (pea_image_store_remove(u->env.store, u->imgs[i].rec.id, PEA_IMAGE_REMOVE_FORCE,
                                           &rep, &e)
                            < 0
                    && pea_error_code(&e) != -ENOENT) {
                        fprintf(stderr, "Error: removing image '%s': %s\n", u->imgs[i].rec.id,
                                e->msg);
                        failed++;
                }
                pea_image_remove_report_done(&rep);
        }
        (void)pea_image_store_gc(u->env.store, NULL, NULL);
        const struct pea_volume_rm_opts ro = {.force = true};
        for (size_t i = 0; i < u->n_vols; i++) {
                _cleanup_error_ struct pea_error *e = NULL;
                if (pea_volume_remove(u->env.ctx.state, u->vols[i].name, &ro, &e) < 0
                    && pea_error_code(&e) != -ENOENT) {
                        fprintf(stderr, "Error: removing volume '%s': %s\n", u->vols[i].name,
                                e->msg);
                        failed++;
                }
        }
        return failed;
}

/* Removes both directories and stops the user namespace holder (as system migrate does). */
static int reset_dirs(struct pea_cli *cli, struct pea_error **err)
{
        cli->state = pea_state_close(cli->state);
        int r = pea_rm_rf(cli->config.graph_root, err);
        if (r < 0)
                return r;
        r = pea_userns_stop(&cli->config, err);
        if (r < 0)
                return r;
        return pea_rm_rf(cli->config.run_root, err);
}

static int cmd_reset(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"force", no_argument, NULL, 'f'},
                PEA_HELP_OPTION,
                {},
        };
        bool force = false;
        int c;
        while ((c = getopt_long(argc, argv, ":fh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_system_reset);
                        return 0;
                }
                if (c != 'f')
                        return pea_cli_opt_error(c, argc, argv, err);
                force = true;
        }
        int r = pea_cli_check_args(cli, argc - optind, 0, 0, err);
        if (r < 0)
                return r;
        if (!force) {
                printf("WARNING! This will remove:\n        - all containers\n        - all pods\n"
                       "        - all images\n        - all networks\n"
                       "        - all build cache\n        - all volumes\n"
                       "        - the graphRoot directory: \"%s\"\n"
                       "        - the runRoot directory: \"%s\"\n",
                       cli->config.graph_root, cli->config.run_root);
                if (!confirm())
                        return 0;
        }
        struct usage u = {};
        r = usage_load(cli, &u, err);
        int failed = r >= 0 ? reset_containers(&u) : 0;
        if (r >= 0)
                failed += reset_images_volumes(&u);
        usage_done(&u);
        if (r >= 0)
                r = reset_dirs(cli, err);
        if (r < 0)
                return r;
        return failed ? 125 : 0;
}

const struct pea_cmd pea_cmd_system_reset = {
        .name = "reset",
        .fn = cmd_reset,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Reset pea storage",
        .usage = "[options]",
        .options = "  -f, --force   Do not prompt for confirmation\n",
};

static const struct pea_cmd *const system_cmds[] = {
        &pea_cmd_doctor,       &pea_cmd_system_df,    &pea_cmd_system_migrate,
        &pea_cmd_system_prune, &pea_cmd_system_reset, NULL,
};

const struct pea_cmd pea_cmd_system = {
        .name = "system",
        .summary = "Manage pea",
        .sub = system_cmds,
};
