/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --format: the public side of the template engine, table headers and
 * pea_format_print, which every command prints through.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jsonutil.h"
#include "template-internal.h"
#include "template.h"
#include "util.h"

/* podman's report writer: tabwriter.NewWriter(w, 12, 2, 2, ' ', 0) */
#define TABLE_MINWIDTH 12
#define TABLE_PADDING  2

DEFINE_TRIVIAL_CLEANUP_FUNC(struct pea_template *, pea_template_free);

static bool is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static const char *skip_ws(const char *s)
{
        while (is_ws(*s))
                s++;
        return s;
}

int pea_template_parse(const char *text, struct pea_template **ret, struct pea_error **err)
{
        _cleanup_(pea_template_freep) struct pea_template *t = xcalloc(1, sizeof(*t));
        const char *body = text;
        int r = 0;
        if (!text)
                return pea_error_set(err, EINVAL, "template: missing format");
        if (startswith(text, "table") && (text[5] == '\0' || is_ws(text[5]))) {
                t->table = true;
                body = text[5] ? text + 6 : text + 5;
        }
        t->src = xstrdup(body);
        t->ends_nl = endswith(t->src, "\n") || endswith(t->src, "\\n");
        r = tpl_parse(t, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

struct pea_template *pea_template_free(struct pea_template *t)
{
        if (!t)
                return NULL;
        tpl_nodes_free(t);
        free(t->src);
        free(t);
        return NULL;
}

bool pea_template_is_table(const struct pea_template *t)
{
        return t && t->table;
}

int pea_template_execute(const struct pea_template *t, json_t *data, FILE *out,
                         struct pea_error **err)
{
        return tpl_exec(t, data, out, err);
}

static int char_class(char c)
{
        if (c >= 'a' && c <= 'z')
                return 1;
        if (c >= 'A' && c <= 'Z')
                return 2;
        if (c >= '0' && c <= '9')
                return 3;
        return 4;
}

/* fatih/camelcase.Split joined by spaces, upper-cased: "ImageID" -> "IMAGE ID". */
static char *camel_title(const char *name)
{
        size_t len = strlen(name), n = 0;
        _cleanup_free_ size_t *starts = xcalloc(len + 2, sizeof(*starts));
        struct tpl_buf b = {};
        for (size_t i = 0; i < len; i++)
                if (i == 0 || char_class(name[i]) != char_class(name[i - 1]))
                        starts[n++] = i;
        starts[n] = len;
        /* "PDFL" "oader" -> "PDF" "Loader" */
        for (size_t k = 0; k + 1 < n; k++)
                if (char_class(name[starts[k]]) == 2 && char_class(name[starts[k + 1]]) == 1)
                        starts[k + 1]--;
        tpl_buf_add(&b, "", 0);
        for (size_t k = 0; k < n; k++) {
                if (starts[k + 1] <= starts[k])
                        continue;
                if (b.len > 0)
                        tpl_buf_putc(&b, ' ');
                for (size_t i = starts[k]; i < starts[k + 1]; i++)
                        tpl_buf_putc(&b, name[i] >= 'a' && name[i] <= 'z' ? (char)(name[i] - 32)
                                                                          : name[i]);
        }
        return tpl_buf_steal(&b);
}

static char *upper_dup(const char *s)
{
        char *u = xstrdup(s);
        for (char *p = u; *p; p++)
                if (*p >= 'a' && *p <= 'z')
                        *p = (char)(*p - 32);
        return u;
}

/* The title of a column: headers[path] or headers[field], upper-cased, else from the name. */
static char *column_title(const struct tpl_node *field, json_t *headers)
{
        const char *name = field->idents[field->n_idents - 1];
        _cleanup_strv_ char **parts = NULL;
        _cleanup_free_ char *path = NULL;
        json_t *h = NULL;
        for (size_t i = 0; i < field->n_idents; i++)
                strv_push(&parts, field->idents[i]);
        path = strv_join(parts, ".");
        if (json_is_object(headers)) {
                h = json_object_get(headers, path);
                if (!json_is_string(h))
                        h = json_object_get(headers, name);
        }
        if (json_is_string(h))
                return upper_dup(json_string_value(h));
        return camel_title(name);
}

/* The first .Field argument of an action's first command, as in {{.Names}} or {{upper .Names}}. */
static const struct tpl_node *action_field(const struct tpl_node *action)
{
        const struct tpl_node *pipe = action->pipe, *cmd = NULL;
        if (pipe->n_decls > 0 || pipe->n_kids == 0)
                return NULL;
        cmd = pipe->kids[0];
        for (size_t i = 0; i < cmd->n_kids; i++)
                if (cmd->kids[i]->type == TPL_FIELD)
                        return cmd->kids[i];
        return NULL;
}

char *pea_template_header(const struct pea_template *t, json_t *headers)
{
        struct tpl_buf b = {};
        tpl_buf_add(&b, "", 0);
        for (size_t i = 0; t && t->root && i < t->root->n_kids; i++) {
                const struct tpl_node *n = t->root->kids[i], *field = NULL;
                if (n->type == TPL_TEXT) {
                        tpl_buf_add(&b, n->text, n->len);
                } else if (n->type == TPL_ACTION && (field = action_field(n))) {
                        _cleanup_free_ char *title = column_title(field, headers);
                        tpl_buf_puts(&b, title);
                }
        }
        if (b.len > 0 && b.s[b.len - 1] == '\n')
                b.s[--b.len] = '\0';
        return tpl_buf_steal(&b);
}

/* podman's IsJSON: ^\s*(json|{{\s*json\.?\s*}})\s*$ */
static bool is_json_format(const char *f)
{
        const char *p = skip_ws(f), *q;
        if ((q = startswith(p, "json"))) {
                p = q;
        } else if ((q = startswith(p, "{{"))) {
                p = startswith(skip_ws(q), "json");
                if (!p)
                        return false;
                p = skip_ws(p + (*p == '.'));
                if (!(p = startswith(p, "}}")))
                        return false;
        } else {
                return false;
        }
        return *skip_ws(p) == '\0';
}

/* At "{{": whether "{{\s*WORD\s*" then (with dot) "\.\s*" or "-?\s*", then "}}" follows. */
static const char *match_action(const char *s, const char *word, bool dot)
{
        const char *p = startswith(s, "{{");
        if (!p || !(p = startswith(skip_ws(p), word)))
                return NULL;
        p = skip_ws(p);
        if (dot && *p != '.')
                return NULL;
        if (*p == '.' || (!dot && *p == '-'))
                p = skip_ws(p + 1);
        return startswith(p, "}}");
}

/* podman's EnforceRange test: the user ranges over the list already. */
static bool has_user_range(const char *f)
{
        const char *p = f, *after = NULL;
        while ((p = strstr(p, "{{")) && !(after = match_action(p, "range", true)))
                p += 2;
        if (!after)
                return false;
        for (p = after; (p = strstr(p, "{{")); p += 2)
                if (match_action(p, "end", false))
                        return true;
        return false;
}

/* A bare "table": one column per key of headers, or else of the (first) item. */
static char *bare_table_format(json_t *data, bool list, json_t *headers)
{
        json_t *cols = json_object_size(headers) > 0 ? headers
                       : list                        ? json_array_get(data, 0)
                                                     : data;
        struct tpl_buf b = {};
        const char *k = NULL;
        json_t *v = NULL;
        tpl_buf_puts(&b, "table ");
        json_object_foreach(cols, k, v) {
                bool ident = *k != '\0';
                for (const char *p = k; *p; p++)
                        ident = ident && (char_class(*p) != 4 || *p == '_');
                if (!ident)
                        continue;
                tpl_buf_printf(&b, "%s{{.%s}}", b.len > 6 ? "\t" : "", k);
        }
        return tpl_buf_steal(&b);
}

static int render(const struct pea_template *t, json_t *data, bool list, bool ranged,
                  json_t *headers, bool no_heading, FILE *f, struct pea_error **err)
{
        size_t n = list && !ranged ? json_array_size(data) : 1;
        if (t->table && !no_heading) {
                _cleanup_free_ char *h = pea_template_header(t, headers);
                fprintf(f, "%s\n", h);
        }
        for (size_t i = 0; i < n; i++) {
                int r = tpl_exec(t, list && !ranged ? json_array_get(data, i) : data, f, err);
                if (r < 0)
                        return r;
                if (!t->ends_nl)
                        fputc('\n', f);
        }
        return 0;
}

int pea_format_print_full(FILE *out, const char *format, json_t *data, bool list, json_t *headers,
                          bool no_heading, int json_indent, struct pea_error **err)
{
        _cleanup_(pea_template_freep) struct pea_template *t = NULL;
        _cleanup_free_ char *bare = NULL, *buf = NULL;
        _cleanup_tpl_buf_ struct tpl_buf table = {};
        _cleanup_json_ json_t *empty = NULL;
        size_t size = 0;
        FILE *f = NULL;
        int r = 0;
        if (!format)
                return pea_error_set(err, EINVAL, "template: missing format");
        if (!data)
                data = empty = list ? json_array() : json_null();
        if (is_json_format(format)) {
                if (pea_json_print(out, data, json_indent) < 0)
                        return pea_error_set(err, EIO, "writing output failed");
                return 0;
        }
        if (list && !json_is_array(data))
                return pea_error_set(err, EINVAL, "template: expected a list to format");
        if (streq(format, "table"))
                format = bare = bare_table_format(data, list, headers);
        r = pea_template_parse(format, &t, err);
        if (r < 0)
                return r;
        f = open_memstream(&buf, &size);
        if (!f)
                return pea_error_syscall(err, errno, "opening output buffer");
        r = render(t, data, list, list && !t->table && has_user_range(format), headers, no_heading,
                   f, err);
        if (fclose(f) != 0 && r >= 0)
                r = pea_error_syscall(err, errno, "writing output buffer");
        if (r < 0)
                return r;
        if (t->table) {
                tpl_tabwrite(&table, buf, size, TABLE_MINWIDTH, TABLE_PADDING, ' ');
                free(buf);
                size = table.len;
                buf = tpl_buf_steal(&table);
        }
        if (size > 0 && fwrite(buf, 1, size, out) != size)
                return pea_error_set(err, EIO, "writing output failed");
        return 0;
}

int pea_format_print(FILE *out, const char *format, json_t *data, bool list, json_t *headers,
                     int json_indent, struct pea_error **err)
{
        return pea_format_print_full(out, format, data, list, headers, false, json_indent, err);
}
