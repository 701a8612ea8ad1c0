/* SPDX-License-Identifier: Apache-2.0 */
/* systemd unit files: parser, lookups, writer, word splitting and escaping. */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "quadlet.h"

struct pea_unitfile *pea_unitfile_new(const char *filename)
{
        struct pea_unitfile *u = xcalloc(1, sizeof(*u));

        u->filename = xstrdup(filename ? filename : "");
        return u;
}

static void group_done(struct pea_unit_group *g)
{
        for (size_t i = 0; i < g->n_lines; i++) {
                free(g->lines[i].key);
                free(g->lines[i].value);
        }
        free(g->lines);
        free(g->name);
}

struct pea_unitfile *pea_unitfile_free(struct pea_unitfile *u)
{
        if (!u)
                return NULL;
        for (size_t i = 0; i < u->n_groups; i++)
                group_done(&u->groups[i]);
        free(u->groups);
        strv_free(u->comments);
        free(u->filename);
        free(u->path);
        free(u);
        return NULL;
}

struct pea_unit_group *pea_unitfile_group(const struct pea_unitfile *u, const char *group)
{
        for (size_t i = 0; i < u->n_groups; i++)
                if (streq(u->groups[i].name, group))
                        return &u->groups[i];
        return NULL;
}

static struct pea_unit_group *ensure_group(struct pea_unitfile *u, const char *group)
{
        struct pea_unit_group *g = pea_unitfile_group(u, group);

        if (g)
                return g;
        u->groups = xrealloc(u->groups, (u->n_groups + 1) * sizeof(*u->groups));
        g = &u->groups[u->n_groups++];
        *g = (struct pea_unit_group){.name = xstrdup(group)};
        return g;
}

static void group_append(struct pea_unit_group *g, const char *key, const char *value)
{
        g->lines = xrealloc(g->lines, (g->n_lines + 1) * sizeof(*g->lines));
        g->lines[g->n_lines++] = (struct pea_unit_line){
                .key = key ? xstrdup(key) : NULL,
                .value = xstrdup(value),
        };
}

struct pea_unitfile *pea_unitfile_dup(const struct pea_unitfile *u, const char *filename)
{
        struct pea_unitfile *d = pea_unitfile_new(filename ? filename : u->filename);

        d->path = u->path ? xstrdup(u->path) : NULL;
        STRV_FOREACH(c, u->comments)
                strv_push(&d->comments, *c);
        for (size_t i = 0; i < u->n_groups; i++) {
                struct pea_unit_group *g = ensure_group(d, u->groups[i].name);

                for (size_t j = 0; j < u->groups[i].n_lines; j++)
                        group_append(g, u->groups[i].lines[j].key, u->groups[i].lines[j].value);
        }
        return d;
}

/* Parsing */

struct parser {
        struct pea_unitfile *u;
        struct pea_unit_group *cur;
        unsigned lineno;
};

static bool ends_in_escape(const char *s)
{
        bool escaped = false;

        for (; *s; s++)
                escaped = escaped ? false : *s == '\\';
        return escaped;
}

static int parse_group_line(struct parser *p, char *l, struct pea_error **err)
{
        size_t n = strlen(l);

        if (n < 3 || l[n - 1] != ']')
                return pea_error_set(err, EBADMSG, "line %u: invalid section header '%s'",
                                     p->lineno, l);
        l[n - 1] = '\0';
        for (char *c = l + 1; *c; c++)
                if (*c == '[' || *c == ']' || iscntrl((unsigned char)*c))
                        return pea_error_set(err, EBADMSG, "line %u: invalid section name '%s'",
                                             p->lineno, l + 1);
        p->cur = ensure_group(p->u, l + 1);
        return 0;
}

static int parse_logical_line(struct parser *p, char *l, struct pea_error **err)
{
        char *eq = NULL;

        if (*l == '\0')
                return 0;
        if (*l == '[')
                return parse_group_line(p, l, err);
        eq = strchr(l, '=');
        if (!eq)
                return pea_error_set(err, EBADMSG, "line %u: missing '=' in '%s'", p->lineno, l);
        *eq = '\0';
        strstrip(l);
        if (*l == '\0')
                return pea_error_set(err, EBADMSG, "line %u: empty key", p->lineno);
        if (!p->cur)
                return pea_error_set(err, EBADMSG, "line %u: assignment '%s' outside of a section",
                                     p->lineno, l);
        group_append(p->cur, l, strstrip(eq + 1));
        return 0;
}

static void add_comment(struct parser *p, const char *l)
{
        if (p->cur)
                group_append(p->cur, NULL, l);
        else
                strv_push(&p->u->comments, l);
}

/* Feeds one physical line; *cont collects a continued logical line. */
static int parse_physical_line(struct parser *p, char *raw, char **cont, struct pea_error **err)
{
        char *l = raw + strspn(raw, " \t\r\n");
        _cleanup_free_ char *joined = NULL;

        strstrip(l);
        if (*l == '#' || *l == ';') {
                /* systemd drops comment lines inside a continued line */
                if (!*cont)
                        add_comment(p, l);
                return 0;
        }
        joined = *cont ? xasprintf("%s%s", *cont, l) : xstrdup(l);
        free(*cont);
        *cont = NULL;
        if (ends_in_escape(joined)) {
                joined[strlen(joined) - 1] = ' ';
                *cont = TAKE_PTR(joined);
                return 0;
        }
        return parse_logical_line(p, joined, err);
}

int pea_unitfile_parse(const char *data, const char *filename, struct pea_unitfile **ret,
                       struct pea_error **err)
{
        _cleanup_unitfile_ struct pea_unitfile *u = pea_unitfile_new(filename);
        _cleanup_free_ char *copy = xstrdup(data);
        _cleanup_free_ char *cont = NULL;
        struct parser p = {.u = u};
        char *line = copy;

        while (line) {
                char *next = strchr(line, '\n');
                int r = 0;

                if (next)
                        *next++ = '\0';
                p.lineno++;
                r = parse_physical_line(&p, line, &cont, err);
                if (r < 0)
                        return r;
                line = next;
        }
        if (cont) {
                int r = parse_logical_line(&p, strstrip(cont), err);

                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(u);
        return 0;
}

int pea_unitfile_load(const char *path, struct pea_unitfile **ret, struct pea_error **err)
{
        _cleanup_free_ char *data = NULL;
        struct pea_unitfile *u = NULL;
        const char *base = strrchr(path, '/');
        size_t len = 0;
        int r = pea_read_file_at(AT_FDCWD, path, PEA_UNITFILE_MAX, &data, &len, err);

        if (r < 0)
                return pea_error_wrap(err, "loading '%s'", path);
        if (strlen(data) != len)
                return pea_error_set(err, EBADMSG, "loading '%s': binary data", path);
        r = pea_unitfile_parse(data, base ? base + 1 : path, &u, err);
        if (r < 0)
                return pea_error_wrap(err, "loading '%s'", path);
        u->path = xstrdup(path);
        *ret = u;
        return 0;
}

/* Lookups */

bool pea_unitfile_has_key(const struct pea_unitfile *u, const char *group, const char *key)
{
        return pea_unitfile_lookup(u, group, key) != NULL;
}

const char *pea_unitfile_lookup(const struct pea_unitfile *u, const char *group, const char *key)
{
        struct pea_unit_group *g = pea_unitfile_group(u, group);

        if (!g)
                return NULL;
        for (size_t i = g->n_lines; i > 0; i--)
                if (g->lines[i - 1].key && streq(g->lines[i - 1].key, key))
                        return g->lines[i - 1].value;
        return NULL;
}

char **pea_unitfile_lookup_all(const struct pea_unitfile *u, const char *group, const char *key)
{
        struct pea_unit_group *g = pea_unitfile_group(u, group);
        char **l = NULL;

        for (size_t i = 0; g && i < g->n_lines; i++) {
                if (!g->lines[i].key || !streq(g->lines[i].key, key))
                        continue;
                if (g->lines[i].value[0] == '\0')
                        l = strv_free(l);
                else
                        strv_push(&l, g->lines[i].value);
        }
        return l;
}

int pea_unitfile_lookup_all_args(const struct pea_unitfile *u, const char *group, const char *key,
                                 char ***ret, struct pea_error **err)
{
        _cleanup_strv_ char **values = pea_unitfile_lookup_all(u, group, key);
        _cleanup_strv_ char **all = NULL;

        STRV_FOREACH(v, values) {
                _cleanup_strv_ char **words = NULL;
                int r = pea_unitfile_split_words(*v, &words, err);

                if (r < 0)
                        return pea_error_wrap(err, "key '%s'", key);
                STRV_FOREACH(w, words)
                        strv_push(&all, *w);
        }
        *ret = TAKE_PTR(all);
        return 0;
}

int pea_unitfile_lookup_last_args(const struct pea_unitfile *u, const char *group, const char *key,
                                  char ***ret, struct pea_error **err)
{
        const char *v = pea_unitfile_lookup(u, group, key);
        char **words = NULL;
        int r = 0;

        if (!v || !*v) {
                *ret = NULL;
                return 0;
        }
        r = pea_unitfile_split_words(v, &words, err);
        if (r < 0)
                return pea_error_wrap(err, "key '%s'", key);
        *ret = words;
        return 0;
}

int pea_unitfile_parse_bool(const char *s)
{
        static const char *const yes[] = {"1", "yes", "y", "true", "t", "on"};
        static const char *const no[] = {"0", "no", "n", "false", "f", "off"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

int pea_unitfile_lookup_bool(const struct pea_unitfile *u, const char *group, const char *key,
                             bool def, bool *ret, struct pea_error **err)
{
        const char *v = pea_unitfile_lookup(u, group, key);
        int b = 0;

        if (!v || !*v) {
                *ret = def;
                return 0;
        }
        b = pea_unitfile_parse_bool(v);
        if (b < 0)
                return pea_error_set(err, EINVAL, "invalid boolean '%s' for key '%s'", v, key);
        *ret = b;
        return 0;
}

static int keycmp(const void *a, const void *b)
{
        const char *x = *(const char *const *)a, *y = *(const char *const *)b;
        size_t nx = strcspn(x, "="), ny = strcspn(y, "=");
        int c = strncmp(x, y, nx < ny ? nx : ny);

        return c ? c : (nx > ny) - (nx < ny);
}

int pea_unitfile_lookup_all_keyval(const struct pea_unitfile *u, const char *group, const char *key,
                                   char ***ret, struct pea_error **err)
{
        _cleanup_strv_ char **words = NULL;
        _cleanup_strv_ char **pairs = NULL;
        size_t n = 0;
        int r = pea_unitfile_lookup_all_args(u, group, key, &words, err);

        if (r < 0)
                return r;
        STRV_FOREACH(w, words) {
                if (!strchr(*w, '=') || **w == '=')
                        return pea_error_set(err, EINVAL, "invalid %s '%s', expected KEY=VALUE",
                                             key, *w);
                /* a later assignment of the same key wins */
                for (size_t i = 0; i < n; i++) {
                        if (keycmp(&pairs[i], w) == 0) {
                                free(pairs[i]);
                                pairs[i] = xstrdup(*w);
                                goto next;
                        }
                }
                strv_push(&pairs, *w);
                n++;
next:;
        }
        if (n > 1)
                qsort(pairs, n, sizeof(char *), keycmp);
        *ret = TAKE_PTR(pairs);
        return 0;
}

/* Changes */

void pea_unitfile_add(struct pea_unitfile *u, const char *group, const char *key, const char *value)
{
        group_append(ensure_group(u, group), key, value);
}

void pea_unitfile_set(struct pea_unitfile *u, const char *group, const char *key, const char *value)
{
        struct pea_unit_group *g = ensure_group(u, group);

        for (size_t i = g->n_lines; i > 0; i--) {
                struct pea_unit_line *l = &g->lines[i - 1];

                if (l->key && streq(l->key, key)) {
                        free(l->value);
                        l->value = xstrdup(value);
                        return;
                }
        }
        group_append(g, key, value);
}

void pea_unitfile_add_cmdline(struct pea_unitfile *u, const char *group, const char *key,
                              char *const *argv)
{
        _cleanup_free_ char *s = pea_unitfile_escape_words(argv);

        pea_unitfile_add(u, group, key, s);
}

void pea_unitfile_rename_group(struct pea_unitfile *u, const char *from, const char *to)
{
        struct pea_unit_group *g = pea_unitfile_group(u, from);

        if (!g)
                return;
        free(g->name);
        g->name = xstrdup(to);
}

int pea_unitfile_check_keys(const struct pea_unitfile *u, const char *group,
                            const char *const *supported, struct pea_error **err)
{
        struct pea_unit_group *g = pea_unitfile_group(u, group);

        for (size_t i = 0; g && i < g->n_lines; i++) {
                bool ok = !g->lines[i].key;

                for (size_t j = 0; !ok && supported[j]; j++)
                        ok = streq(supported[j], g->lines[i].key);
                if (!ok)
                        return pea_error_set(err, EINVAL, "unsupported key '%s' in group '%s'",
                                             g->lines[i].key, group);
        }
        return 0;
}

/* Writing */

static void fputs_group(FILE *f, const struct pea_unit_group *g)
{
        fprintf(f, "[%s]\n", g->name);
        for (size_t i = 0; i < g->n_lines; i++) {
                if (g->lines[i].key)
                        fprintf(f, "%s=%s\n", g->lines[i].key, g->lines[i].value);
                else
                        fprintf(f, "%s\n", g->lines[i].value);
        }
}

char *pea_unitfile_to_string(const struct pea_unitfile *u)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                abort(); /* out of memory */
        STRV_FOREACH(c, u->comments)
                fprintf(f, "%s\n", *c);
        for (size_t i = 0; i < u->n_groups; i++) {
                if (i > 0 || u->comments)
                        fputc('\n', f);
                fputs_group(f, &u->groups[i]);
        }
        if (fclose(f) != 0)
                abort();
        return buf;
}

/* Word splitting and escaping */

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)tolower((unsigned char)c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

static void put_utf8(FILE *f, uint32_t c)
{
        if (c < 0x80) {
                fputc((int)c, f);
        } else if (c < 0x800) {
                fputc((int)(0xc0 | (c >> 6)), f);
                fputc((int)(0x80 | (c & 0x3f)), f);
        } else if (c < 0x10000) {
                fputc((int)(0xe0 | (c >> 12)), f);
                fputc((int)(0x80 | ((c >> 6) & 0x3f)), f);
                fputc((int)(0x80 | (c & 0x3f)), f);
        } else {
                fputc((int)(0xf0 | (c >> 18)), f);
                fputc((int)(0x80 | ((c >> 12) & 0x3f)), f);
                fputc((int)(0x80 | ((c >> 6) & 0x3f)), f);
                fputc((int)(0x80 | (c & 0x3f)), f);
        }
}

/* Reads n hex (base 16) or octal (base 8) digits at s; -1 when they are not there. */
static long read_digits(const char *s, int n, int base)
{
        long v = 0;

        for (int i = 0; i < n; i++) {
                int d = hexval(s[i]);

                if (d < 0 || d >= base)
                        return -1;
                v = v * base + d;
        }
        return v;
}

/* Resolves the escape after a backslash at *p (which points past it); returns chars used. */
static size_t unescape_one(const char *p, FILE *f)
{
        static const char from[] = "abfnrtv\\\"'s", to[] = "\a\b\f\n\r\t\v\\\"' ";
        const char *k = *p ? strchr(from, *p) : NULL;
        long v = -1;

        if (k) {
                fputc(to[k - from], f);
                return 1;
        }
        if (*p == 'x' && (v = read_digits(p + 1, 2, 16)) > 0) {
                fputc((int)v, f);
                return 3;
        }
        if (*p >= '0' && *p <= '7' && (v = read_digits(p, 3, 8)) > 0 && v < 256) {
                fputc((int)v, f);
                return 3;
        }
        if ((*p == 'u' && (v = read_digits(p + 1, 4, 16)) > 0)
            || (*p == 'U' && (v = read_digits(p + 1, 8, 16)) > 0 && v <= 0x10ffff)) {
                put_utf8(f, (uint32_t)v);
                return *p == 'u' ? 5 : 9;
        }
        /* unknown escape (or a trailing backslash): kept as is, systemd's "relax" mode */
        fputc('\\', f);
        return 0;
}

/* Extracts one word from *s; 0 at the end, 1 with *ret set, -EINVAL on a bad quote. */
static int next_word(const char *whole, const char **s, char **ret, struct pea_error **err)
{
        const char *p = *s + strspn(*s, " \t\n\r");
        char quote = 0, *buf = NULL;
        size_t len = 0;
        FILE *f = NULL;

        if (*p == '\0')
                return 0;
        f = open_memstream(&buf, &len);
        if (!f)
                abort();
        for (; *p && (quote || !strchr(" \t\n\r", *p)); p++) {
                if (*p == '\\')
                        p += unescape_one(p + 1, f);
                else if (quote && *p == quote)
                        quote = 0;
                else if (!quote && (*p == '"' || *p == '\''))
                        quote = *p;
                else
                        fputc(*p, f);
        }
        if (fclose(f) != 0)
                abort();
        if (quote) {
                free(buf);
                return pea_error_set(err, EINVAL, "unterminated quote in '%s'", whole);
        }
        *s = p;
        *ret = buf;
        return 1;
}

int pea_unitfile_split_words(const char *s, char ***ret, struct pea_error **err)
{
        _cleanup_strv_ char **words = NULL;
        const char *p = s;

        for (;;) {
                char *w = NULL;
                int r = next_word(s, &p, &w, err);

                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                strv_consume(&words, w);
        }
        *ret = TAKE_PTR(words);
        return 0;
}

static bool needs_quotes(const char *w)
{
        if (*w == '\0')
                return true;
        for (const unsigned char *c = (const unsigned char *)w; *c; c++)
                if (*c <= ' ' || *c == 0x7f || *c == '"' || *c == '\'' || *c == '\\')
                        return true;
        return false;
}

static void escape_word(FILE *f, const char *w)
{
        static const char from[] = "\a\b\f\n\r\t\v\\\"'", to[] = "abfnrtv\\\"'";

        for (const unsigned char *c = (const unsigned char *)w; *c; c++) {
                const char *k = strchr(from, *c);

                if (k)
                        fprintf(f, "\\%c", to[k - from]);
                else if (*c < ' ' || *c == 0x7f)
                        fprintf(f, "\\x%02x", *c);
                else
                        fputc(*c, f);
        }
}

char *pea_unitfile_escape_words(char *const *argv)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                abort();
        for (char *const *a = argv; a && *a; a++) {
                bool q = needs_quotes(*a);

                if (a != argv)
                        fputc(' ', f);
                if (q)
                        fputc('"', f);
                escape_word(f, *a);
                if (q)
                        fputc('"', f);
        }
        if (fclose(f) != 0)
                abort();
        return buf;
}
