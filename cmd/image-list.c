/* SPDX-License-Identifier: Apache-2.0 */
/* pea images, pea image list/ls: podman's rows, filters, sorting and formats. */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "image.h"
#include "units.h"

struct pea_images_opts {
        bool all, digests, history, no_trunc, no_heading, quiet;
        const char *format;
        const char *sort;
        char **filters;
};

/* One line of the table: an image under one of its names. */
struct row {
        const struct pea_cmd_image *img;
        char *repository;
        char *tag;
        size_t image; /* the image's place in the store's list (newest added first) */
        size_t order; /* for a stable sort */
};

static const char *const sort_keys[] = {"created", "id", "repository", "size", "tag"};

/* ---- filters ------------------------------------------------------------------------------- */

/* containers/common's reference filter: the pattern against several forms of each name. */
static bool name_matches(const char *pattern, const char *name)
{
        _cleanup_image_ref_ struct pea_image_ref ref = {0};
        if (pea_image_ref_parse(name, &ref, NULL) < 0)
                return false;
        _cleanup_free_ char *trimmed = pea_image_ref_name(&ref); /* FQN without tag/digest */
        const char *suffix = name + strlen(trimmed);             /* ":tag" or "@digest" */
        _cleanup_free_ char *path_tagged = xasprintf("%s%s", ref.path, suffix);
        const char *last = strrchr(name, '/');
        const char *last_trimmed = strrchr(trimmed, '/');
        const char *candidates[] = {
                name,    ref.path,    last ? last + 1 : name,
                trimmed, path_tagged, last_trimmed ? last_trimmed + 1 : trimmed,
        };
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
                if (fnmatch(pattern, candidates[i], FNM_PATHNAME) == 0)
                        return true;
        return false;
}

static bool reference_matches(const struct pea_cmd_image *img, const char *pattern)
{
        STRV_FOREACH(n, img->rec.names)
                if (name_matches(pattern, *n))
                        return true;
        return false;
}

static bool label_matches(const struct pea_cmd_image *img, const char *kv)
{
        _cleanup_json_ json_t *labels = pea_cmd_image_labels(img);
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *key = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
        json_t *v = json_object_get(labels, key);
        if (!v)
                return false;
        return !eq || streq_ptr(json_string_value(v), eq + 1);
}

/* 1 when img passes the filter "key=value", 0 when not, < 0 for an unknown filter. */
static int filter_one(struct pea_image_store *s, const struct pea_cmd_image *img,
                      const char *filter, struct pea_error **err)
{
        const char *eq = strchr(filter, '=');
        if (!eq)
                return pea_error_set(err, EINVAL, "invalid image filter \"%s\": bad format",
                                     filter);
        _cleanup_free_ char *key = xstrndup(filter, (size_t)(eq - filter));
        const char *value = eq + 1;
        if (streq(key, "dangling")) {
                bool want = streq(value, "true") || streq(value, "1");
                if (!want && !streq(value, "false") && !streq(value, "0"))
                        return pea_error_set(err, EINVAL, "invalid dangling filter value \"%s\"",
                                             value);
                return (strv_length(img->rec.names) == 0) == want;
        }
        if (streq(key, "reference"))
                return reference_matches(img, value);
        if (streq(key, "label"))
                return label_matches(img, value);
        if (streq(key, "id"))
                return startswith(img->rec.id, startswith(value, "sha256:") ?: value) != NULL;
        if (streq(key, "before") || streq(key, "since")) {
                struct pea_image_record other = {0};
                int r = pea_image_store_lookup(s, value, &other, NULL, err);
                int64_t created = other.created;
                pea_image_record_done(&other);
                if (r < 0)
                        return r;
                return streq(key, "before") ? img->rec.created < created
                                            : img->rec.created > created;
        }
        return pea_error_set(err, EINVAL, "unsupported image filter \"%s\"", key);
}

/* Reference filters are alternatives; everything else must hold. */
static int filter_image(struct pea_image_store *s, const struct pea_cmd_image *img,
                        char *const *filters, struct pea_error **err)
{
        bool any_ref = false, ref_ok = false;
        STRV_FOREACH(f, (char **)filters) {
                int r = filter_one(s, img, *f, err);
                if (r < 0)
                        return r;
                if (startswith(*f, "reference=")) {
                        any_ref = true;
                        ref_ok = ref_ok || r > 0;
                } else if (r == 0) {
                        return 0;
                }
        }
        return !any_ref || ref_ok;
}

/* ---- rows ---------------------------------------------------------------------------------- */

static void add_row(struct row **rows, size_t *n, const struct pea_cmd_image *img, size_t image,
                    const char *repo, const char *tag)
{
        *rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
        (*rows)[*n] = (struct row){.img = img,
                                   .repository = xstrdup(repo),
                                   .tag = xstrdup(tag),
                                   .image = image,
                                   .order = *n};
        (*n)++;
}

/* podman's sortImages(): a row per tagged name, else one for the first name, else <none>. */
static void image_rows(const struct pea_cmd_image *img, size_t image, struct row **rows, size_t *n)
{
        bool tagged = false;
        STRV_FOREACH(name, img->rec.names) {
                _cleanup_image_ref_ struct pea_image_ref ref = {0};
                if (pea_image_ref_parse(*name, &ref, NULL) < 0 || !ref.tag || ref.digest)
                        continue;
                _cleanup_free_ char *repo = pea_image_ref_name(&ref);
                add_row(rows, n, img, image, repo, ref.tag);
                tagged = true;
        }
        if (tagged)
                return;
        _cleanup_image_ref_ struct pea_image_ref first = {0};
        if (img->rec.names && img->rec.names[0]
            && pea_image_ref_parse(img->rec.names[0], &first, NULL) >= 0) {
                _cleanup_free_ char *repo = pea_image_ref_name(&first);
                add_row(rows, n, img, image, repo, "<none>");
                return;
        }
        add_row(rows, n, img, image, "<none>", "<none>");
}

static void rows_free(struct row *rows, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(rows[i].repository);
                free(rows[i].tag);
        }
        free(rows);
}

static const char *g_sort_key; /* qsort has no context argument */

static int cmp_rows(const void *pa, const void *pb)
{
        const struct row *a = pa, *b = pb;
        int c = 0;
        if (streq(g_sort_key, "id"))
                c = strcmp(a->img->rec.id, b->img->rec.id);
        else if (streq(g_sort_key, "repository"))
                c = strcmp(a->repository, b->repository);
        else if (streq(g_sort_key, "size"))
                c = (a->img->size > b->img->size) - (a->img->size < b->img->size);
        else if (streq(g_sort_key, "tag"))
                c = strcmp(a->tag, b->tag);
        else /* created: newest first; the same time: as podman, the first added first */
                c = (a->img->rec.created < b->img->rec.created)
                                    - (a->img->rec.created > b->img->rec.created)
                            ?: (a->image < b->image) - (a->image > b->image);
        return c ? c : (a->order > b->order) - (a->order < b->order);
}

static char *display_id(const char *id, bool no_trunc)
{
        return no_trunc ? xasprintf("sha256:%s", id) : xstrndup(id, 12);
}

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

/* RepoDigests as podman lists them: sorted. */
static json_t *repo_digests_json(const struct pea_cmd_image *img)
{
        size_t n = strv_length(img->rec.repo_digests);
        char **copy = xcalloc(n + 1, sizeof(char *));
        memcpy(copy, img->rec.repo_digests, n * sizeof(char *));
        qsort(copy, n, sizeof(char *), cmp_str);
        json_t *a = strv_json(copy);
        free(copy);
        return a;
}

static json_t *labels_or_null(const struct pea_cmd_image *img)
{
        json_t *l = pea_cmd_image_labels(img);
        if (json_object_size(l) > 0)
                return l;
        json_decref(l);
        return json_null();
}

/* The fields a --format template sees for an image (podman's imageReporter), made once. */
static json_t *image_fields(const struct pea_cmd_image *img, const struct pea_images_opts *o,
                            int64_t now)
{
        _cleanup_free_ char *id = display_id(img->rec.id, o->no_trunc);
        _cleanup_free_ char *since = pea_human_since(img->rec.created, now);
        _cleanup_free_ char *at = pea_time_go_string(img->rec.created);
        _cleanup_free_ char *size = pea_human_size((double)img->size);
        _cleanup_free_ char *history = strv_join(img->rec.names, ", ");
        bool dangling = strv_length(img->rec.names) == 0;
        json_t *names = strv_json(img->rec.names);
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i,"
                         " s:o, s:O, s:o, s:s, s:s, s:b, s:b, s:b, s:o}",
                         "ID", id, "Id", img->rec.id, "Digest", img->digest, "Created", since,
                         "CreatedSince", since, "CreatedAt", at, "CreatedTime", at, "Size", size,
                         "VirtualSize", (json_int_t)img->size, "SharedSize", (json_int_t)0,
                         "Containers", 0, "Labels", labels_or_null(img), "Names", names,
                         "RepoDigests", repo_digests_json(img), "History", history, "ParentId", "",
                         "ReadOnly", 0, "IsReadOnly", 0, "Dangling", dangling, "RepoTags", names);
}

/* One row: the image's fields (shared, not copied) plus its repository and tag. */
static json_t *row_json(const struct row *r, json_t *fields)
{
        json_t *j = json_pack("{s:s, s:s}", "Repository", r->repository, "Tag", r->tag);
        json_object_update(j, fields);
        return j;
}

/* podman images --format json: one object per image. */
static json_t *image_json(const struct pea_cmd_image *img)
{
        _cleanup_free_ char *at = pea_time_rfc3339(img->rec.created);
        long long secs = img->rec.created / 1000000000LL;
        return json_pack("{s:s, s:s, s:n, s:o, s:I, s:I, s:I, s:o, s:i, s:o, s:s, s:o, s:I,"
                         " s:s}",
                         "Id", img->rec.id, "ParentId", "", "RepoTags", "RepoDigests",
                         repo_digests_json(img), "Size", (json_int_t)img->size, "SharedSize",
                         (json_int_t)0, "VirtualSize", (json_int_t)img->size, "Labels",
                         labels_or_null(img), "Containers", 0, "Names", strv_json(img->rec.names),
                         "Digest", img->digest, "History", strv_json(img->rec.names), "Created",
                         (json_int_t)secs, "CreatedAt", at);
}

/* ---- output -------------------------------------------------------------------------------- */

static void print_quiet(const struct row *rows, size_t n, bool no_trunc)
{
        _cleanup_strv_ char **seen = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                if (strv_contains(seen, rows[i].img->rec.id))
                        continue;
                strv_push(&seen, rows[i].img->rec.id);
                _cleanup_free_ char *id = display_id(rows[i].img->rec.id, no_trunc);
                printf("%s\n", id);
        }
}

static int print_json(const struct row *rows, size_t n, struct pea_error **err)
{
        _cleanup_json_ json_t *a = json_array();
        _cleanup_strv_ char **seen = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                if (strv_contains(seen, rows[i].img->rec.id))
                        continue;
                strv_push(&seen, rows[i].img->rec.id);
                json_array_append_new(a, image_json(rows[i].img));
        }
        if (pea_json_print(stdout, a, 4) < 0)
                return pea_error_syscall(err, EIO, "writing output");
        return 0;
}

static char *default_format(const struct pea_images_opts *o)
{
        return xasprintf("table {{.Repository}}\t{{.Tag}}\t%s{{.ID}}\t{{.Created}}\t{{.Size}}%s",
                         o->digests ? "{{.Digest}}\t" : "",
                         o->history ? "\t{{if .History}}{{.History}}{{else}}<none>{{end}}" : "");
}

static int print_rows(const struct row *rows, size_t n, const struct pea_images_opts *o,
                      struct pea_error **err)
{
        if (o->quiet) {
                print_quiet(rows, n, o->no_trunc);
                return 0;
        }
        if (o->format && (streq(o->format, "json") || streq(o->format, "{{json .}}")))
                return print_json(rows, n, err);
        _cleanup_free_ char *def = o->format ? NULL : default_format(o);
        _cleanup_json_ json_t *data = json_array();
        int64_t now = pea_now_ns();
        size_t n_images = 0;
        for (size_t i = 0; i < n; i++)
                n_images = rows[i].image + 1 > n_images ? rows[i].image + 1 : n_images;
        json_t **fields = xcalloc(n_images ? n_images : 1, sizeof(*fields));
        for (size_t i = 0; i < n; i++) {
                json_t **f = &fields[rows[i].image];
                if (!*f)
                        *f = image_fields(rows[i].img, o, now);
                json_array_append_new(data, row_json(&rows[i], *f));
        }
        for (size_t i = 0; i < n_images; i++)
                json_decref(fields[i]);
        free(fields);
        _cleanup_json_ json_t *headers =
                json_pack("{s:s, s:s}", "ID", "IMAGE ID", "ReadOnly", "R/O");
        return pea_format_print_full(stdout, o->format ? o->format : def, data, true, headers,
                                     o->no_heading, 4, err);
}

/* ---- the command --------------------------------------------------------------------------- */

enum {
        OPT_DIGESTS = 0x100,
        OPT_FORMAT,
        OPT_HISTORY,
        OPT_NO_TRUNC,
        OPT_SORT,
};

static int images_opt(struct pea_images_opts *o, int c, struct pea_error **err)
{
        switch (c) {
        case 'a':
                o->all = true;
                break;
        case 'f':
                strv_push(&o->filters, optarg);
                break;
        case 'n':
                o->no_heading = true;
                break;
        case 'q':
                o->quiet = true;
                break;
        case OPT_DIGESTS:
                o->digests = true;
                break;
        case OPT_FORMAT:
                o->format = optarg;
                break;
        case OPT_HISTORY:
                o->history = true;
                break;
        case OPT_NO_TRUNC:
                o->no_trunc = true;
                break;
        case OPT_SORT:
                o->sort = optarg;
                break;
        default:
                return pea_error_set(err, EINVAL, "unexpected option");
        }
        return 0;
}

static int check_sort(const char *key, struct pea_error **err)
{
        for (size_t i = 0; i < ELEMENTSOF(sort_keys); i++)
                if (streq(key, sort_keys[i]))
                        return 0;
        return pea_error_set(err, EINVAL,
                             "\"%s\" is not a valid field for sorting. Choose from: created, id, "
                             "repository, size, tag",
                             key);
}

static int parse_images(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                        struct pea_images_opts *o, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"all", no_argument, NULL, 'a'},
                {"digests", no_argument, NULL, OPT_DIGESTS},
                {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, OPT_FORMAT},
                {"history", no_argument, NULL, OPT_HISTORY},
                {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
                {"noheading", no_argument, NULL, 'n'},
                {"quiet", no_argument, NULL, 'q'},
                {"sort", required_argument, NULL, OPT_SORT},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        o->filters = xcalloc(1, sizeof(char *));
        while ((c = getopt_long(argc, argv, ":af:nqh", longopts, NULL)) != -1) {
                if (c == 'h') {
                        pea_cli_print_help(cli, cmd);
                        return 1;
                }
                if (c == '?' || c == ':')
                        return pea_cli_opt_error(c, argc, argv, err);
                int r = images_opt(o, c, err);
                if (r < 0)
                        return r;
        }
        if (o->sort) {
                int r = check_sort(o->sort, err);
                if (r < 0)
                        return r;
        }
        /* podman images NAME: a reference filter */
        if (argc - optind == 1)
                strv_consume(&o->filters, xasprintf("reference=%s", argv[optind]));
        return pea_cli_check_args(cli, argc - optind, 0, 1, err);
}

static int list_images(struct pea_image_store *store, const struct pea_images_opts *o,
                       struct pea_error **err)
{
        struct pea_cmd_image *imgs = NULL;
        struct row *rows = NULL;
        size_t n = 0, n_rows = 0;
        int r = pea_cmd_images_load_all(store, &imgs, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = filter_image(store, &imgs[i], o->filters, err);
                if (r > 0)
                        image_rows(&imgs[i], i, &rows, &n_rows);
        }
        if (r >= 0) {
                g_sort_key = o->sort ? o->sort : "created";
                if (n_rows > 1)
                        qsort(rows, n_rows, sizeof(*rows), cmp_rows);
                r = print_rows(rows, n_rows, o, err);
        }
        rows_free(rows, n_rows);
        pea_cmd_images_free(imgs, n);
        return r;
}

static int run_images(struct pea_cli *cli, const struct pea_cmd *cmd, int argc, char **argv,
                      struct pea_error **err)
{
        struct pea_images_opts o = {0};
        int r = parse_images(cli, cmd, argc, argv, &o, err);
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        if (r == 0)
                r = pea_cmd_open_store(cli, &store, NULL, err);
        if (r == 0)
                r = list_images(store, &o, err);
        strv_free(o.filters);
        return r < 0 ? r : 0;
}

static int cmd_images(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run_images(cli, &pea_cmd_images, argc, argv, err);
}

static int cmd_image_list(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        return run_images(cli, &pea_cmd_image_list, argc, argv, err);
}

#define IMAGES_OPTIONS                                                                          \
        "  -a, --all                 Show all images (default hides intermediate images)\n"     \
        "      --digests             Show digests\n"                                            \
        "  -f, --filter stringSlice  Filter output based on conditions provided (default [])\n" \
        "      --format string       Change the output format to JSON or a Go template\n"       \
        "      --history             Display the image name history\n"                          \
        "      --no-trunc            Do not truncate output\n"                                  \
        "  -n, --noheading           Do not print column headings\n"                            \
        "  -q, --quiet               Display only image IDs\n"                                  \
        "      --sort string         Sort by created, id, repository, size, tag (default "      \
        "\"created\")\n"

#define IMAGES_FLAGS (PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS)

const struct pea_cmd pea_cmd_images = {
        .name = "images",
        .fn = cmd_images,
        .flags = IMAGES_FLAGS,
        .summary = "List images in local storage",
        .usage = "[options] [IMAGE]",
        .options = IMAGES_OPTIONS,
};

const struct pea_cmd pea_cmd_image_list = {
        .name = "list",
        .fn = cmd_image_list,
        .flags = IMAGES_FLAGS,
        .summary = "List images in local storage",
        .usage = "[options] [IMAGE]",
        .options = IMAGES_OPTIONS,
};

const struct pea_cmd pea_cmd_image_ls = {
        .name = "ls",
        .fn = cmd_image_list,
        .flags = IMAGES_FLAGS,
        .summary = "List images in local storage",
        .usage = "[options] [IMAGE]",
        .options = IMAGES_OPTIONS,
        .hidden = true,
};
