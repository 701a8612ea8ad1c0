/* SPDX-License-Identifier: Apache-2.0 */
/* pea diff: what a container changed in its file system. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "image.h"
#include "run.h"
#include "state/state.h"

struct pea_diff_opts {
        const char *format;
        bool latest;
};

/* podman's JSON: {"changed": [...], "added": [...], "deleted": [...]}, empty lists left out. */
static json_t *changes_json(const struct pea_container_change *c, size_t n)
{
        static const char *const keys[] = {"changed", "added", "deleted"};

        static const enum pea_container_change_kind kinds[] = {
                PEA_CHANGE_MODIFIED, PEA_CHANGE_ADDED, PEA_CHANGE_DELETED};

        json_t *j = json_object();
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++)
                        if (c[i].kind == kinds[k])
                                json_array_append_new(a, json_string(c[i].path));
                if (json_array_size(a) > 0)
                        json_object_set_new(j, keys[k], a);
                else
                        json_decref(a);
        }
        return j;
}

static int print_changes(const struct pea_container_change *c, size_t n, const char *format,
                         struct pea_error **err)
{
        if (format && *format) {
                if (!streq(format, "json"))
                        return pea_error_set(err, EINVAL,
                                             "only \"json\" is supported as a format, not '%s'",
                                             format);
                _cleanup_json_ json_t *j = changes_json(c, n);
                if (pea_json_print(stdout, j, 5) < 0)
                        return pea_error_syscall(err, EIO, "writing output");
                return 0;
        }
        for (size_t i = 0; i < n; i++)
                printf("%s %s\n", pea_container_change_kind_to_string(c[i].kind), c[i].path);
        return 0;
}

/* A container's changes, else an image's (podman diff takes both). */
static int load_changes(struct pea_run_env *e, const char *name, struct pea_container_change **ret,
                        size_t *ret_n, struct pea_error **err)
{
        struct pea_container_row row = {};
        _cleanup_error_ struct pea_error *e1 = NULL;
        int r = pea_state_container_lookup(e->ctx.state, name, &row, &e1);
        if (r >= 0) {
                r = pea_container_diff(&e->ctx, row.id, ret, ret_n, err);
                pea_container_row_done(&row);
                return r;
        }
        if (r != -ENOENT) {
                *err = TAKE_PTR(e1);
                return r;
        }
        struct pea_image_record rec = {};
        _cleanup_error_ struct pea_error *e2 = NULL;
        r = pea_image_store_lookup(e->store, name, &rec, NULL, &e2);
        if (r == -ENOENT)
                return pea_error_set(err, ENOENT, "%s not found: no such container or image", name);
        if (r >= 0)
                r = pea_container_image_diff(&e->ctx, rec.id, ret, ret_n, err);
        else
                *err = TAKE_PTR(e2);
        pea_image_record_done(&rec);
        return r;
}

static int diff_one(struct pea_cli *cli, const char *name, bool latest, const char *format,
                    struct pea_error **err)
{
        struct pea_run_env e = {};
        struct pea_container_change *c = NULL;
        size_t n = 0;
        _cleanup_strv_ char **targets = NULL;
        int r = pea_run_env_open(cli, &e, err);
        if (r >= 0)
                r = pea_cmd_container_targets(&e.ctx, latest, name ? 1 : 0,
                                              (char **)(name ? &name : NULL), &targets, err);
        if (r >= 0)
                r = load_changes(&e, targets[0], &c, &n, err);
        if (r >= 0)
                r = print_changes(c, n, format, err);
        pea_container_changes_free(c, n);
        pea_run_env_done(&e);
        return r;
}

static int cmd_diff(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"format", required_argument, NULL, 'f'},
                {"latest", no_argument, NULL, 'l'},
                PEA_HELP_OPTION,
                {},
        };
        struct pea_diff_opts o = {};
        int c;
        while ((c = getopt_long(argc, argv, ":lh", longopts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        o.format = optarg;
                        break;
                case 'l':
                        o.latest = true;
                        break;
                case 'h':
                        pea_cli_print_help(cli, &pea_cmd_diff);
                        return 0;
                default:
                        return pea_cli_opt_error(c, argc, argv, err);
                }
        }
        int r = pea_cli_check_args(cli, argc - optind, o.latest ? 0 : 1, o.latest ? 0 : 1, err);
        if (r < 0)
                return r;
        r = diff_one(cli, o.latest ? NULL : argv[optind], o.latest, o.format, err);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_diff = {
        .name = "diff",
        .fn = cmd_diff,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Display the changes to the object's file system",
        .usage = "[options] {CONTAINER|IMAGE}",
        .options = "      --format string   Change the output format (json)\n"
                   "  -l, --latest          Act on the latest container pea is aware of\n",
};
