/* SPDX-License-Identifier: Apache-2.0 */
/* pea rename: a new name for a container, running or not. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "run.h"
#include "state/state.h"

struct rename_tx {
        const char *id;
        const char *name;
};

/* Re-reads the row inside the transaction, so a concurrent state change is kept. */
static int rename_tx(struct pea_state *s, void *userdata, struct pea_error **err)
{
        const struct rename_tx *t = userdata;
        struct pea_container_row row = {};
        int r = pea_state_container_get_by_id(s, t->id, &row, err);
        if (r < 0)
                return r;
        free(row.name);
        row.name = xstrdup(t->name);
        _cleanup_error_ struct pea_error *e = NULL;
        r = pea_state_container_update(s, &row, &e);
        pea_container_row_done(&row);
        if (r == -EEXIST)
                return pea_error_set(err, EEXIST,
                                     "renaming container %s: name %s already in use, cannot "
                                     "rename container %s: container already exists",
                                     t->id, t->name, t->id);
        if (r < 0)
                *err = TAKE_PTR(e);
        return r;
}

static int cmd_rename(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
                if (c != 'h')
                        return pea_cli_opt_error(c, argc, argv, err);
                pea_cli_print_help(cli, &pea_cmd_rename);
                return 0;
        }
        int r = pea_cli_check_args(cli, argc - optind, 2, 2, err);
        if (r < 0)
                return r;
        const char *name = argv[optind + 1];
        if (!pea_container_name_is_valid(name))
                return pea_error_set(err, EINVAL,
                                     "names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid "
                                     "argument");
        struct pea_container_ctx ctx = {};
        pea_cmd_container_ctx_light(cli, &ctx);
        struct pea_container_row row = {};
        r = pea_cmd_container_get(&ctx, argv[optind], &row, err);
        if (r < 0)
                return r;
        struct rename_tx t = {.id = row.id, .name = name};
        bool same = streq(row.name, name);
        if (!same)
                r = pea_state_transaction(cli->state, rename_tx, &t, err);
        if (r >= 0 && !same) {
                free(row.name);
                row.name = xstrdup(name);
                pea_cmd_event_container(ctx.run_root, &row, "rename");
        }
        pea_container_row_done(&row);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_rename = {
        .name = "rename",
        .fn = cmd_rename,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Rename an existing container",
        .usage = "CONTAINER NEW_NAME",
};
