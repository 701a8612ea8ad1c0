/* SPDX-License-Identifier: Apache-2.0 */
/* pea image: the subcommand table, and tag, untag, rmi, image exists, image prune. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "image.h"

/* push, save, load and import (cmd/image-io.c) join the table when they exist. */
#ifndef PEA_HAVE_IMAGE_IO
#        define PEA_HAVE_IMAGE_IO 1
#endif

#define STORE_FLAGS (PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS)

/*
 * Parses a command whose flags are all booleans: flag i has the long option
 * with val i and the short letter shorts[i] (' ' for none); 1 after --help.
 */
static int parse_flags(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                       const char *shorts, const struct option *longopts, bool *flags,
                       struct pea_error **err)
{
        _cleanup_free_ char *letters = xstrdup(shorts);
        size_t k = 0;
        for (const char *p = shorts; *p; p++)
                if (*p != ' ')
                        letters[k++] = *p;
        letters[k] = '\0';
        _cleanup_free_ char *optstring = xasprintf(":%sh", letters);
        int c;
        while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, cmd);
                        return 1;
                }
                if (c == '?' || c == ':')
                        return pea_cli_opt_error(c, argc, argv, err);
                const char *p = c > ' ' ? strchr(shorts, c) : NULL;
                size_t i = p ? (size_t)(p - shorts) : (size_t)c;
                if (i < 8)
                        flags[i] = true;
        }
        return 0;
}

/* ---- tag, untag ---------------------------------------------------------------------------- */

static int cmd_tag(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {PEA_HELP_OPTION, {}};
        bool f[8] = {0};
        int r = parse_flags(cli, &pea_cmd_tag, argc, argv, "", longopts, f, err);
        if (r != 0)
                return r < 0 ? r : 0;
        r = pea_cli_check_args(cli, argc - optind, 2, -1, err);
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        if (r >= 0)
                r = pea_cmd_open_store(cli, &store, NULL, err);
        for (int i = optind + 1; r >= 0 && i < argc; i++) {
                _cleanup_free_ char *name = NULL;
                r = pea_cmd_normalize_local(argv[i], &name, err);
                if (r >= 0)
                        r = pea_image_store_tag(store, argv[optind], name, err);
                if (r >= 0)
                        pea_cmd_event(cli->config.run_root, "image", "tag", NULL, name);
        }
        return r < 0 ? r : 0;
}

static int untag_all(struct pea_image_store *store, const char *image, const char *run_root,
                     struct pea_error **err)
{
        struct pea_image_record rec = {0};
        int r = pea_image_store_lookup(store, image, &rec, NULL, err);
        STRV_FOREACH(n, rec.names)
                if (r >= 0 && (r = pea_image_store_untag(store, rec.id, *n, err)) >= 0)
                        pea_cmd_event(run_root, "image", "untag", rec.id, *n);
        pea_image_record_done(&rec);
        return r;
}

static int cmd_untag(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {PEA_HELP_OPTION, {}};
        bool f[8] = {0};
        int r = parse_flags(cli, &pea_cmd_untag, argc, argv, "", longopts, f, err);
        if (r != 0)
                return r < 0 ? r : 0;
        r = pea_cli_check_args(cli, argc - optind, 1, -1, err);
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        if (r >= 0)
                r = pea_cmd_open_store(cli, &store, NULL, err);
        if (r >= 0 && argc - optind == 1)
                return untag_all(store, argv[optind], cli->config.run_root, err);
        _cleanup_free_ char *id = NULL;
        if (r >= 0) {
                struct pea_image_record rec = {0};
                r = pea_image_store_lookup(store, argv[optind], &rec, NULL, err);
                id = TAKE_PTR(rec.id);
                pea_image_record_done(&rec);
        }
        for (int i = optind + 1; r >= 0 && i < argc; i++) {
                _cleanup_free_ char *name = NULL;
                r = pea_cmd_normalize_local(argv[i], &name, err);
                if (r >= 0)
                        r = pea_image_store_untag(store, id, name, err);
                if (r >= 0)
                        pea_cmd_event(cli->config.run_root, "image", "untag", id, name);
        }
        return r < 0 ? r : 0;
}

/* ---- rmi ----------------------------------------------------------------------------------- */

enum { RMI_ALL, RMI_FORCE, RMI_IGNORE, RMI_NO_PRUNE };

struct rmi_state {
        const char *run_root; /* for the events */
        int exit_code;        /* podman's: 1 not known, 2 in use, 125 else */
        struct pea_error *last;
};

static void rmi_failed(struct rmi_state *st, struct pea_error **e)
{
        int code = (*e)->code == ENOENT ? 1 : startswith((*e)->msg, "image used by") ? 2 : 125;
        if (st->last)
                fprintf(stderr, "Error: %s\n", st->last->msg);
        pea_error_clear(&st->last);
        st->last = TAKE_PTR(*e);
        if (st->exit_code == 0 || code > st->exit_code)
                st->exit_code = code;
}

static void rmi_one(struct pea_image_store *store, const char *name, unsigned flags, bool ignore,
                    struct rmi_state *st)
{
        _cleanup_error_ struct pea_error *e = NULL;
        struct pea_image_remove_report rep = {0};
        int r = pea_image_store_remove(store, name, flags, &rep, &e);
        if (r < 0) {
                if (!(ignore && e->code == ENOENT))
                        rmi_failed(st, &e);
                return;
        }
        STRV_FOREACH(n, rep.untagged)
                printf("Untagged: %s\n", *n);
        if (rep.removed)
                printf("Deleted: %s\n", rep.id);
        if (rep.removed)
                pea_cmd_event(st->run_root, "image", "remove", rep.id, name);
        pea_image_remove_report_done(&rep);
}

static int rmi_all(struct pea_image_store *store, bool ignore, struct rmi_state *st,
                   struct pea_error **err)
{
        struct pea_image_record *recs = NULL;
        size_t n = 0;
        int r = pea_image_store_list(store, &recs, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                rmi_one(store, recs[i].id, PEA_IMAGE_REMOVE_FORCE, ignore, st);
        pea_image_records_free(recs, n);
        return r;
}

static int cmd_rmi(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"all", no_argument, NULL, RMI_ALL},
                {"force", no_argument, NULL, RMI_FORCE},
                {"ignore", no_argument, NULL, RMI_IGNORE},
                {"no-prune", no_argument, NULL, RMI_NO_PRUNE},
                PEA_HELP_OPTION,
                {},
        };
        bool f[8] = {0};
        int r = parse_flags(cli, &pea_cmd_rmi, argc, argv, "afi ", longopts, f, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (f[RMI_ALL] && optind < argc)
                return pea_error_set(err, EINVAL,
                                     "when using the --all switch, you may not pass any images "
                                     "names or IDs");
        if (!f[RMI_ALL] && optind >= argc)
                return pea_error_set(err, EINVAL, "image name or ID must be specified");
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        struct rmi_state st = {.run_root = cli->config.run_root};
        r = pea_cmd_open_store(cli, &store, NULL, err);
        if (r >= 0 && f[RMI_ALL])
                r = rmi_all(store, f[RMI_IGNORE], &st, err);
        unsigned flags = f[RMI_FORCE] ? PEA_IMAGE_REMOVE_FORCE : 0;
        for (int i = optind; r >= 0 && i < argc; i++)
                rmi_one(store, argv[i], flags, f[RMI_IGNORE], &st);
        (void)fflush(stdout);
        if (r >= 0 && st.last) {
                pea_cli_exit_code = st.exit_code;
                *err = TAKE_PTR(st.last);
                return -(*err)->code;
        }
        pea_error_clear(&st.last);
        return r < 0 ? r : 0;
}

/* ---- image exists -------------------------------------------------------------------------- */

static int cmd_exists(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {PEA_HELP_OPTION, {}};
        bool f[8] = {0};
        int r = parse_flags(cli, &pea_cmd_image_exists, argc, argv, "", longopts, f, err);
        if (r != 0)
                return r < 0 ? r : 0;
        r = pea_cli_check_args(cli, argc - optind, 1, 1, err);
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        if (r >= 0)
                r = pea_cmd_open_store(cli, &store, NULL, err);
        if (r < 0)
                return r;
        struct pea_image_record rec = {0};
        _cleanup_error_ struct pea_error *e = NULL;
        r = pea_image_store_lookup(store, argv[optind], &rec, NULL, &e);
        pea_image_record_done(&rec);
        if (r == -ENOENT)
                return 1;
        if (r < 0) {
                *err = TAKE_PTR(e);
                return r;
        }
        return 0;
}

/* ---- image prune --------------------------------------------------------------------------- */

enum { PRUNE_ALL, PRUNE_FORCE, PRUNE_EXTERNAL };

/* podman's prompt; false unless the answer starts with y. */
static int confirm(bool all, bool *ret, struct pea_error **err)
{
        if (all)
                printf("WARNING! This command removes all images without at least one container "
                       "associated with them.\n");
        else
                printf("WARNING! This command removes all dangling images.\n");
        printf("Are you sure you want to continue? [y/N] ");
        (void)fflush(stdout);
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        if (getline(&line, &cap, stdin) < 0)
                return pea_error_set(err, EIO, "EOF");
        strstrip(line);
        *ret = line[0] == 'y' || line[0] == 'Y';
        return 0;
}

static int prune(struct pea_image_store *store, bool all, struct pea_error **err)
{
        struct pea_image_record *recs = NULL;
        size_t n = 0;
        int r = pea_image_store_list(store, &recs, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (!all && strv_length(recs[i].names) > 0)
                        continue;
                _cleanup_error_ struct pea_error *e = NULL;
                struct pea_image_remove_report rep = {0};
                int k = pea_image_store_remove(store, recs[i].id, PEA_IMAGE_REMOVE_FORCE, &rep, &e);
                /* in use by a container, or gone meanwhile: not pruned */
                if (k >= 0 && rep.removed)
                        printf("%s\n", rep.id);
                pea_image_remove_report_done(&rep);
        }
        pea_image_records_free(recs, n);
        if (r >= 0)
                r = pea_image_store_gc(store, NULL, err);
        return r;
}

static int cmd_prune(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"all", no_argument, NULL, PRUNE_ALL},
                {"force", no_argument, NULL, PRUNE_FORCE},
                {"external", no_argument, NULL, PRUNE_EXTERNAL},
                PEA_HELP_OPTION,
                {},
        };
        bool f[8] = {0};
        int r = parse_flags(cli, &pea_cmd_image_prune, argc, argv, "af ", longopts, f, err);
        if (r != 0)
                return r < 0 ? r : 0;
        r = pea_cli_check_args(cli, argc - optind, 0, 0, err);
        bool yes = f[PRUNE_FORCE];
        if (r >= 0 && !yes)
                r = confirm(f[PRUNE_ALL], &yes, err);
        if (r < 0 || !yes)
                return r < 0 ? r : 0;
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        r = pea_cmd_open_store(cli, &store, NULL, err);
        if (r >= 0)
                r = prune(store, f[PRUNE_ALL], err);
        return r < 0 ? r : 0;
}

/* ---- tables -------------------------------------------------------------------------------- */

const struct pea_cmd pea_cmd_tag = {
        .name = "tag",
        .fn = cmd_tag,
        .flags = STORE_FLAGS,
        .summary = "Add an additional name to a local image",
        .usage = "IMAGE TARGET_NAME [TARGET_NAME...]",
        .options = "",
};

const struct pea_cmd pea_cmd_untag = {
        .name = "untag",
        .fn = cmd_untag,
        .flags = STORE_FLAGS,
        .summary = "Remove a name from a local image",
        .usage = "IMAGE [IMAGE...]",
        .options = "",
};

#define RMI_OPTIONS                                                              \
        "  -a, --all        Remove all images\n"                                 \
        "  -f, --force      Force Removal of the image\n"                        \
        "  -i, --ignore     Ignore errors if a specified image does not exist\n" \
        "      --no-prune   Do not remove dangling images\n"

const struct pea_cmd pea_cmd_rmi = {
        .name = "rmi",
        .fn = cmd_rmi,
        .flags = STORE_FLAGS,
        .summary = "Removes one or more images from local storage",
        .usage = "[options] IMAGE [IMAGE...]",
        .options = RMI_OPTIONS,
};

const struct pea_cmd pea_cmd_image_rm = {
        .name = "rm",
        .fn = cmd_rmi,
        .flags = STORE_FLAGS,
        .summary = "Removes one or more images from local storage",
        .usage = "[options] IMAGE [IMAGE...]",
        .options = RMI_OPTIONS,
};

const struct pea_cmd pea_cmd_image_exists = {
        .name = "exists",
        .fn = cmd_exists,
        .flags = STORE_FLAGS,
        .summary = "Check if an image exists in local storage",
        .usage = "IMAGE",
        .options = "",
};

const struct pea_cmd pea_cmd_image_prune = {
        .name = "prune",
        .fn = cmd_prune,
        .flags = STORE_FLAGS,
        .summary = "Remove unused images",
        .usage = "[options]",
        .options = "  -a, --all     Remove all images not in use by containers, not just dangling "
                   "ones\n"
                   "      --external   Remove images even when they are used by external "
                   "containers (e.g., by build containers)\n"
                   "  -f, --force   Do not prompt for confirmation\n",
};

static const struct pea_cmd *const image_cmds[] = {
        &pea_cmd_image_exists,
        &pea_cmd_history,
        &pea_cmd_image_inspect,
        &pea_cmd_image_list,
        &pea_cmd_image_ls,
        &pea_cmd_image_prune,
        &pea_cmd_pull,
        &pea_cmd_image_rm,
        &pea_cmd_tag,
        &pea_cmd_untag,
#if PEA_HAVE_IMAGE_IO
        &pea_cmd_push,
        &pea_cmd_save,
        &pea_cmd_load,
        &pea_cmd_import,
#endif
        NULL,
};

const struct pea_cmd pea_cmd_image = {
        .name = "image",
        .summary = "Manage images",
        .sub = image_cmds,
};
