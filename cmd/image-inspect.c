/* SPDX-License-Identifier: Apache-2.0 */
/* pea image inspect and pea history: podman's JSON and columns. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "image.h"
#include "units.h"

#define STORE_FLAGS (PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS)

/* podman image inspect indents by five spaces. */
#define INSPECT_INDENT 5

static json_t *strv_json(char *const *l)
{
        json_t *a = json_array();
        STRV_FOREACH(s, (char **)l)
                json_array_append_new(a, json_string(*s));
        return a;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static json_t *sorted_json(char *const *l)
{
        size_t n = strv_length(l);
        char **copy = xcalloc(n + 1, sizeof(char *));
        memcpy(copy, l, n * sizeof(char *));
        qsort(copy, n, sizeof(char *), cmp_str);
        json_t *a = strv_json(copy);
        free(copy);
        return a;
}

/* Go's omitempty: null, "", false, 0, [] and {} are left out. */
static bool is_empty(json_t *v)
{
        return !v || json_is_null(v) || json_is_false(v)
               || (json_is_string(v) && json_string_length(v) == 0)
               || (json_is_array(v) && json_array_size(v) == 0)
               || (json_is_object(v) && json_object_size(v) == 0)
               || (json_is_integer(v) && json_integer_value(v) == 0);
}

/* The keys of src named in keys, in that order, without empty ones. */
static json_t *pick(json_t *src, const char *const *keys, size_t n)
{
        json_t *o = json_object();
        for (size_t i = 0; i < n; i++) {
                json_t *v = json_object_get(src, keys[i]);
                if (!is_empty(v))
                        json_object_set(o, keys[i], v);
        }
        return o;
}

/* podman's Config: the OCI image config's fields. */
static json_t *config_json(json_t *cfg)
{
        static const char *const keys[] = {"User",       "ExposedPorts", "Env",        "Entrypoint",
                                           "Cmd",        "Volumes",      "WorkingDir", "Labels",
                                           "StopSignal", "ArgsEscaped"};
        return pick(json_object_get(cfg, "config"), keys, ELEMENTSOF(keys));
}

static json_t *healthcheck_json(json_t *cfg)
{
        static const char *const keys[] = {"Test", "StartPeriod", "Interval", "Timeout", "Retries"};
        json_t *h = pea_json_path(cfg, "config.Healthcheck");
        return json_is_object(h) ? pick(h, keys, ELEMENTSOF(keys)) : NULL;
}

static json_t *graph_driver_json(struct pea_cli *cli, struct pea_image_store *s,
                                 const struct pea_cmd_image *img)
{
        const char *name = cli->config.storage_driver && *cli->config.storage_driver
                                   ? cli->config.storage_driver
                                   : "overlay";
        if (!streq(name, "overlay") && !streq(name, "fuse-overlayfs"))
                return json_pack("{s:s, s:n}", "Name", name, "Data");
        json_t *data = json_object();
        size_t n = img->rec.n_layers;
        _cleanup_strv_ char **lower = xcalloc(1, sizeof(char *));
        for (size_t i = n > 0 ? n - 1 : 0; i-- > 0;)
                strv_consume(&lower, pea_image_store_layer_path(s, img->rec.layers[i].chain_id));
        if (n > 1) {
                _cleanup_free_ char *l = strv_join(lower, ":");
                json_object_set_new(data, "LowerDir", json_string(l));
        }
        if (n > 0) {
                _cleanup_free_ char *up =
                        pea_image_store_layer_path(s, img->rec.layers[n - 1].chain_id);
                _cleanup_free_ char *work = xstrdup(up ? up : "");
                char *slash = strrchr(work, '/');
                if (slash && streq(slash + 1, "diff"))
                        memcpy(slash + 1, "work", 4);
                json_object_set_new(data, "UpperDir", json_string(up ? up : ""));
                json_object_set_new(data, "WorkDir", json_string(work));
        }
        return json_pack("{s:s, s:o}", "Name", name, "Data", data);
}

/* The manifest's annotations ({} when none). */
static json_t *annotations_json(struct pea_image_store *s, const struct pea_cmd_image *img)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_manifest_ struct pea_manifest *m = NULL;
        size_t len = 0;
        if (img->rec.digest && pea_image_store_get_blob(s, img->rec.digest, &data, &len, NULL) >= 0
            && pea_manifest_parse(data, len, img->rec.manifest_media_type, img->rec.digest, &m,
                                  NULL)
                       >= 0
            && json_is_object(m->annotations))
                return json_deep_copy(m->annotations);
        return json_object();
}

static json_t *str_or_empty(json_t *cfg, const char *path)
{
        return json_string(pea_json_path_string(cfg, path, ""));
}

static json_t *inspect_json(struct pea_cli *cli, struct pea_image_store *s,
                            const struct pea_cmd_image *img)
{
        _cleanup_json_ json_t *cfg = json_loads(img->rec.config ? img->rec.config : "{}", 0, NULL);
        _cleanup_strv_ char **tags = pea_cmd_image_tags(img);
        _cleanup_free_ char *created = pea_time_rfc3339(img->rec.created);
        json_t *diff_ids = json_array();
        for (size_t i = 0; i < img->rec.n_layers; i++)
                json_array_append_new(diff_ids, json_string(img->rec.layers[i].diff_id));
        json_t *labels = pea_cmd_image_labels(img);
        if (json_object_size(labels) == 0) {
                json_decref(labels);
                labels = json_null();
        }
        json_t *history = json_object_get(cfg, "history");
        json_t *j = json_pack(
                "{s:s, s:s, s:o, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:s, s:s, s:I, s:I, s:o,"
                " s:{s:s, s:o}, s:o, s:o, s:s, s:o, s:o, s:o}",
                "Id", img->rec.id, "Digest", img->digest, "RepoTags", strv_json(tags),
                "RepoDigests", sorted_json(img->rec.repo_digests), "Parent", "", "Comment",
                str_or_empty(cfg, "comment"), "Created", created, "Config", config_json(cfg),
                "Version", str_or_empty(cfg, "docker_version"), "Author",
                str_or_empty(cfg, "author"), "Architecture",
                img->rec.architecture ? img->rec.architecture : "", "Os",
                img->rec.os ? img->rec.os : "", "Size", (json_int_t)img->size, "VirtualSize",
                (json_int_t)img->size, "GraphDriver", graph_driver_json(cli, s, img), "RootFS",
                "Type", "layers", "Layers", diff_ids, "Labels", labels, "Annotations",
                annotations_json(s, img), "ManifestType",
                img->rec.manifest_media_type ? img->rec.manifest_media_type : "", "User",
                str_or_empty(cfg, "config.User"), "History",
                json_is_array(history) ? json_incref(history) : json_array(), "NamesHistory",
                strv_json(img->rec.names));
        json_t *hc = streq_ptr(img->rec.manifest_media_type, PEA_MEDIA_DOCKER_MANIFEST)
                             ? healthcheck_json(cfg)
                             : NULL;
        if (hc && json_object_size(hc) > 0)
                json_object_set(j, "Healthcheck", hc);
        json_decref(hc);
        return j;
}

/* ---- pea image inspect --------------------------------------------------------------------- */

static int parse_format_only(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                             const char **ret_format, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"format", required_argument, NULL, 'f'},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, cmd);
                        return 1;
                }
                if (c != 'f')
                        return pea_cli_opt_error(c, argc, argv, err);
                *ret_format = optarg;
        }
        return pea_cli_check_args(cli, argc - optind, 1, -1, err);
}

static int print_inspect(json_t *a, const char *format, struct pea_error **err)
{
        if (!format || streq(format, "json") || streq(format, "{{json .}}")) {
                if (pea_json_print(stdout, a, INSPECT_INDENT) < 0)
                        return pea_error_syscall(err, EIO, "writing output");
                return 0;
        }
        return pea_format_print(stdout, format, a, true, NULL, INSPECT_INDENT, err);
}

static int cmd_inspect(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        const char *format = NULL;
        int r = parse_format_only(cli, &pea_cmd_image_inspect, argc, argv, &format, err);
        if (r != 0)
                return r < 0 ? r : 0;
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        r = pea_cmd_open_store(cli, &store, NULL, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *a = json_array();
        _cleanup_error_ struct pea_error *first = NULL;
        for (int i = optind; i < argc; i++) {
                struct pea_cmd_image img = {0};
                _cleanup_error_ struct pea_error *e = NULL;
                if (pea_cmd_image_lookup(store, argv[i], &img, &e) < 0) {
                        if (!first)
                                first = TAKE_PTR(e);
                        continue;
                }
                json_array_append_new(a, inspect_json(cli, store, &img));
                pea_cmd_image_done(&img);
        }
        r = print_inspect(a, format, err);
        if (r >= 0 && first) {
                r = -first->code;
                *err = TAKE_PTR(first);
                (void)pea_error_wrap(err, "inspecting object");
        }
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_image_inspect = {
        .name = "inspect",
        .fn = cmd_inspect,
        .flags = STORE_FLAGS,
        .summary = "Display the configuration of an image",
        .usage = "[options] IMAGE [IMAGE...]",
        .options = "  -f, --format string   Format the output to a Go template or json\n",
};

/* ---- pea history --------------------------------------------------------------------------- */

struct pea_history_opts {
        bool human, no_trunc, quiet;
        const char *format;
};

/* For each image, the chain ID of its top layer (pairs: chain, image ID). */
static char **top_layers(struct pea_image_store *s)
{
        struct pea_image_record *recs = NULL;
        size_t n = 0;
        char **pairs = xcalloc(1, sizeof(char *));
        if (pea_image_store_list(s, &recs, &n, NULL) < 0)
                return pairs;
        for (size_t i = 0; i < n; i++) {
                _cleanup_strv_ char **layers = NULL;
                if (pea_image_store_layers_of(s, recs[i].id, &layers, NULL) < 0 || !layers[0])
                        continue;
                strv_push(&pairs, layers[strv_length(layers) - 1]);
                strv_push(&pairs, recs[i].id);
        }
        pea_image_records_free(recs, n);
        return pairs;
}

/* The first image whose top layer is chain, unless already shown. */
static const char *image_on_top(char **pairs, const char *chain, char ***used)
{
        for (size_t i = 0; pairs[i] && pairs[i + 1]; i += 2)
                if (streq(pairs[i], chain)) {
                        if (strv_contains(*used, pairs[i + 1]))
                                return NULL;
                        strv_push(used, pairs[i + 1]);
                        return pairs[i + 1];
                }
        return NULL;
}

static json_t *history_entry(const struct pea_history *h, const char *id, int64_t size,
                             const struct pea_history_opts *o, int64_t now)
{
        int64_t t = 0;
        (void)pea_time_parse_rfc3339(h->created, &t);
        _cleanup_free_ char *rfc = pea_time_rfc3339(t);
        _cleanup_free_ char *human = pea_human_since(t, now);
        _cleanup_free_ char *hsize = pea_human_size((double)size);
        _cleanup_free_ char *nsize = xasprintf("%lld", (long long)size);
        const char *by = h->created_by ? h->created_by : "";
        _cleanup_free_ char *short_by =
                strlen(by) > 45 && !o->no_trunc ? xasprintf("%.42s...", by) : xstrdup(by);
        _cleanup_free_ char *short_id =
                streq(id, "<missing>") || o->no_trunc ? xstrdup(id) : xstrndup(id, 12);
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "ID", short_id, "Id", id,
                         "Created", o->human ? human : rfc, "CreatedAt", rfc, "CreatedSince", human,
                         "CreatedBy", short_by, "Size", o->human ? hsize : nsize, "SizeBytes",
                         (json_int_t)size, "Comment", h->comment ? h->comment : "");
}

/* podman's libimage History(): entries top first, sizes and IDs walked down the layers. */
static json_t *history_rows(struct pea_image_store *s, const struct pea_cmd_image *img,
                            const struct pea_history_opts *o)
{
        _cleanup_strv_ char **pairs = top_layers(s);
        _cleanup_strv_ char **used = xcalloc(1, sizeof(char *));
        json_t *rows = json_array();
        const struct pea_image_config *c = img->config;
        size_t li = img->rec.n_layers; /* current layer + 1; 0: none */
        int64_t now = pea_now_ns();
        for (size_t x = c ? c->n_history : 0; x-- > 0;) {
                const struct pea_history *h = &c->history[x];
                const char *id = "<missing>";
                int64_t size = 0;
                if (li > 0) {
                        const struct pea_image_layer *l = &img->rec.layers[li - 1];
                        size = h->empty_layer ? 0 : l->size;
                        id = image_on_top(pairs, l->chain_id, &used) ?: id;
                        if (li > 1 && !h->empty_layer)
                                li--;
                }
                json_array_append_new(rows, history_entry(h, id, size, o, now));
        }
        return rows;
}

/* podman history --format json: compact, its own field names. */
static int print_history_json(json_t *rows, const struct pea_cmd_image *img, struct pea_error **err)
{
        _cleanup_json_ json_t *a = json_array();
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) {
                const struct pea_history *h = &img->config->history[img->config->n_history - 1 - i];
                json_t *e = json_pack("{s:O, s:O, s:s, s:O}", "id", json_object_get(r, "Id"),
                                      "created", json_object_get(r, "CreatedAt"), "CreatedBy",
                                      h->created_by ? h->created_by : "", "size",
                                      json_object_get(r, "SizeBytes"));
                if (h->comment && *h->comment)
                        json_object_set_new(e, "comment", json_string(h->comment));
                json_object_set(e, "Created", json_object_get(r, "CreatedAt"));
                json_array_append_new(a, e);
        }
        if (pea_json_print(stdout, a, 0) < 0)
                return pea_error_syscall(err, EIO, "writing output");
        return 0;
}

static int print_history(struct pea_image_store *s, const struct pea_cmd_image *img,
                         const struct pea_history_opts *o, struct pea_error **err)
{
        _cleanup_json_ json_t *rows = history_rows(s, img, o);
        if (o->quiet) {
                size_t i;
                json_t *r;
                json_array_foreach(rows, i, r)
                        printf("%s\n", json_string_value(json_object_get(r, "ID")));
                return 0;
        }
        if (o->format && (streq(o->format, "json") || streq(o->format, "{{json .}}")))
                return print_history_json(rows, img, err);
        const char *def = "table {{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
        return pea_format_print(stdout, o->format ? o->format : def, rows, true, NULL, 4, err);
}

enum { OPT_NO_TRUNC = 0x100 };

static int parse_history(struct pea_cli *cli, int argc, char **argv, struct pea_history_opts *o,
                         struct pea_error **err)
{
        static const struct option longopts[] = {
                {"format", required_argument, NULL, 'f'},
                {"human", optional_argument, NULL, 'H'},
                {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
                {"notruncate", no_argument, NULL, OPT_NO_TRUNC},
                {"quiet", no_argument, NULL, 'q'},
                PEA_HELP_OPTION,
                {},
        };
        int c, r = 0;
        while (r >= 0 && (c = getopt_long(argc, argv, ":f:Hqh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, &pea_cmd_history);
                        return 1;
                }
                if (c == 'f')
                        o->format = optarg;
                else if (c == 'H')
                        r = pea_cmd_parse_bool("human", optarg, &o->human, err);
                else if (c == 'q')
                        o->quiet = true;
                else if (c == OPT_NO_TRUNC)
                        o->no_trunc = true;
                else
                        return pea_cli_opt_error(c, argc, argv, err);
        }
        return r < 0 ? r : pea_cli_check_args(cli, argc - optind, 1, 1, err);
}

static int cmd_history(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct pea_history_opts o = {.human = true};
        int r = parse_history(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        struct pea_cmd_image img = {0};
        r = pea_cmd_open_store(cli, &store, NULL, err);
        if (r >= 0)
                r = pea_cmd_image_lookup(store, argv[optind], &img, err);
        if (r >= 0)
                r = print_history(store, &img, &o, err);
        pea_cmd_image_done(&img);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_history = {
        .name = "history",
        .fn = cmd_history,
        .flags = STORE_FLAGS,
        .summary = "Show history of a specified image",
        .usage = "[options] IMAGE",
        .options = "      --format string   Change the output to JSON or a Go template\n"
                   "  -H, --human           Display sizes and dates in human readable format "
                   "(default true)\n"
                   "      --no-trunc        Do not truncate the output\n"
                   "  -q, --quiet           Display the numeric IDs only\n",
};
