/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base.h"

/*
 * A TOML 1.0 reader for containers.conf, storage.conf and registries.conf.
 * It walks the text once and builds the JSON tree directly. What TOML calls
 * "defining" a table is tracked on the side, in a JSON object keyed by the
 * address of each container ("meta"): how the table came to be (header,
 * implicitly on the way to a header, dotted key, inline table) and its depth.
 */

#define TOML_MAX_BYTES (4u * 1024u * 1024u)
#define TOML_MAX_DEPTH 64u

enum {
        META_IMPLICIT = 1 << 0, /* created on the way to a [header], may be defined later */
        META_HEADER = 1 << 1,   /* defined by [header] or [[header]] */
        META_DOTTED = 1 << 2,   /* created by a dotted key */
        META_FROZEN = 1 << 3,   /* inline table: closed for good */
        META_AOT = 1 << 4,      /* array of tables: [[header]] appends */
        META_FLAG_BITS = 8,
};

struct parser {
        const char *start;
        const char *p; /* the cursor; the text ends with a NUL */
        const char *origin;
        json_t *root;
        json_t *cur;  /* the table key/value lines go into */
        json_t *meta; /* "%p" of a container -> flags | depth << META_FLAG_BITS */
        struct pea_error **err;
};

struct buf {
        char *data;
        size_t len;
        size_t cap;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->data = xrealloc(b->data, b->cap);
        }
        if (n > 0)
                memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
}

static void buf_putc(struct buf *b, char c)
{
        buf_put(b, &c, 1);
}

static void buf_done(struct buf *b)
{
        free(b->data);
        *b = (struct buf){0};
}

#define _cleanup_buf_ _cleanup_(buf_done)

static unsigned line_of(const struct parser *ps, const char *at)
{
        unsigned line = 1;
        for (const char *q = ps->start; q < at; q++)
                if (*q == '\n')
                        line++;
        return line;
}

_printf_(3, 4) static int fail(struct parser *ps, const char *at, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *what = xvasprintf(fmt, ap);
        va_end(ap);
        return pea_error_set(ps->err, EBADMSG, "'%s' line %u: %s", ps->origin, line_of(ps, at),
                             what);
}

/* Fails at the cursor, naming what is there and what was expected instead. */
static int fail_unexpected(struct parser *ps, const char *expected)
{
        unsigned char c = (unsigned char)*ps->p;
        if (c == '\0')
                return fail(ps, ps->p, "unexpected end of file, %s", expected);
        if (c == '\n' || c == '\r')
                return fail(ps, ps->p, "unexpected end of line, %s", expected);
        if (c > 0x20 && c < 0x7f)
                return fail(ps, ps->p, "unexpected '%c', %s", c, expected);
        return fail(ps, ps->p, "unexpected byte 0x%02x, %s", c, expected);
}

static void meta_key(const json_t *j, char key[static 32])
{
        (void)snprintf(key, 32, "%p", (const void *)j);
}

static void meta_set(struct parser *ps, json_t *j, unsigned flags, unsigned depth)
{
        char key[32] = "";
        meta_key(j, key);
        (void)json_object_set_new(ps->meta, key,
                                  json_integer((json_int_t)(flags | depth << META_FLAG_BITS)));
}

static unsigned meta_get(struct parser *ps, json_t *j)
{
        char key[32] = "";
        meta_key(j, key);
        return (unsigned)json_integer_value(json_object_get(ps->meta, key));
}

#define meta_flags(ps, j) (meta_get(ps, j) & ((1u << META_FLAG_BITS) - 1))
#define meta_depth(ps, j) (meta_get(ps, j) >> META_FLAG_BITS)

/* Drops the records of a finished value nobody can reach by name any more. */
static void meta_forget(struct parser *ps, json_t *j)
{
        const char *k = NULL;
        json_t *v = NULL;
        char key[32] = "";
        if (!json_is_object(j))
                return;
        meta_key(j, key);
        (void)json_object_del(ps->meta, key);
        json_object_foreach(j, k, v)
                meta_forget(ps, v);
}

static int make_table(struct parser *ps, unsigned depth, unsigned flags, json_t **ret)
{
        if (depth > TOML_MAX_DEPTH)
                return fail(ps, ps->p, "nesting deeper than %u levels", TOML_MAX_DEPTH);
        *ret = json_object();
        meta_set(ps, *ret, flags, depth);
        return 0;
}

static bool is_ws(char c)
{
        return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_bare(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_'
               || c == '-';
}

static bool is_control(unsigned char c)
{
        return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool is_value_end(char c)
{
        return c == '\0' || is_ws(c) || c == '\n' || c == '\r' || c == '#' || c == ',' || c == ']'
               || c == '}';
}

static void skip_ws(struct parser *ps)
{
        while (is_ws(*ps->p))
                ps->p++;
}

/* Eats "\n" or "\r\n": 1 if it did, 0 if there is no newline, <0 for a lone CR. */
static int eat_newline(struct parser *ps)
{
        if (ps->p[0] == '\n') {
                ps->p++;
                return 1;
        }
        if (ps->p[0] != '\r')
                return 0;
        if (ps->p[1] != '\n')
                return fail(ps, ps->p, "carriage return not followed by a newline");
        ps->p += 2;
        return 1;
}

static int skip_comment(struct parser *ps)
{
        if (*ps->p != '#')
                return 0;
        for (ps->p++; *ps->p && *ps->p != '\n'; ps->p++) {
                if (ps->p[0] == '\r' && ps->p[1] == '\n')
                        break;
                if (is_control((unsigned char)*ps->p))
                        return fail(ps, ps->p, "control character in comment");
        }
        return 0;
}

/* After a header or a key/value pair: blanks, a comment, then a newline or the end. */
static int end_of_line(struct parser *ps)
{
        skip_ws(ps);
        int r = skip_comment(ps);
        if (r < 0)
                return r;
        if (*ps->p == '\0')
                return 0;
        r = eat_newline(ps);
        if (r != 0)
                return r < 0 ? r : 0;
        return fail_unexpected(ps, "expected the end of the line");
}

/* Inside arrays: blanks, comments and newlines. */
static int skip_blank(struct parser *ps)
{
        for (;;) {
                skip_ws(ps);
                int r = skip_comment(ps);
                if (r < 0)
                        return r;
                r = eat_newline(ps);
                if (r <= 0)
                        return r;
        }
}

static int hex_value(char c)
{
        static const char digits[] = "0123456789abcdef";
        const char *q = c != '\0' ? strchr(digits, c >= 'A' && c <= 'F' ? c + 32 : c) : NULL;
        return q ? (int)(q - digits) : -1;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
        static const unsigned char lead[] = {0, 0xC0, 0xE0, 0xF0};
        size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        char s[4];
        for (size_t i = n - 1; i > 0; i--, cp >>= 6)
                s[i] = (char)(0x80 | (cp & 0x3F));
        s[0] = (char)(lead[n - 1] | cp);
        buf_put(b, s, n);
}

/* At a backslash in a basic string. */
static int parse_escape(struct parser *ps, struct buf *b)
{
        static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
        const char *at = ps->p;
        char c = ps->p[1];
        const char *q = c != '\0' ? strchr(from, c) : NULL;
        if (q) {
                buf_putc(b, to[q - from]);
                ps->p += 2;
                return 0;
        }
        if (c != 'u' && c != 'U') {
                if (c > 0x20 && c < 0x7f)
                        return fail(ps, at, "invalid escape sequence '\\%c'", c);
                return fail(ps, at, "invalid escape sequence");
        }
        int len = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int i = 0; i < len; i++) {
                int h = hex_value(ps->p[2 + i]);
                if (h < 0)
                        return fail(ps, at, "invalid unicode escape, expected %d hex digits", len);
                cp = cp << 4 | (uint32_t)h;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return fail(ps, at, "unicode escape is not a scalar value");
        put_utf8(b, cp);
        ps->p += 2 + len;
        return 0;
}

/* A one-line string: "basic" (with escapes) or 'literal'. */
static int parse_line_string(struct parser *ps, struct buf *b)
{
        const char *open = ps->p;
        char quote = *ps->p++;
        for (;;) {
                unsigned char c = (unsigned char)*ps->p;
                if (c == (unsigned char)quote) {
                        ps->p++;
                        return 0;
                }
                if (c == '\\' && quote == '"') {
                        int r = parse_escape(ps, b);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (c == '\0' || c == '\n' || c == '\r')
                        return fail(ps, open, "unterminated string");
                if (is_control(c))
                        return fail(ps, ps->p, "control character in string");
                buf_putc(b, (char)c);
                ps->p++;
        }
}

/* At a run of quotes in a multi-line string: 1 if it closes it, 0 if it is content. */
static int ml_quotes(struct parser *ps, struct buf *b)
{
        size_t n = 0;
        while (ps->p[n] == ps->p[0])
                n++;
        if (n < 3) {
                buf_put(b, ps->p, n);
                ps->p += n;
                return 0;
        }
        if (n > 5)
                return fail(ps, ps->p, "too many quotes closing a multi-line string");
        buf_put(b, ps->p, n - 3);
        ps->p += n;
        return 1;
}

/* A backslash at the end of a line eats the newline and the blanks that follow. */
static bool ml_line_continuation(struct parser *ps)
{
        const char *q = ps->p + 1;
        while (is_ws(*q))
                q++;
        if (*q != '\n' && !(q[0] == '\r' && q[1] == '\n'))
                return false;
        while (is_ws(*q) || *q == '\n' || (q[0] == '\r' && q[1] == '\n'))
                q += *q == '\r' ? 2 : 1;
        ps->p = q;
        return true;
}

static int ml_step(struct parser *ps, struct buf *b, char quote)
{
        unsigned char c = (unsigned char)*ps->p;
        if (c == '\\' && quote == '"')
                return ml_line_continuation(ps) ? 0 : parse_escape(ps, b);
        if (c == '\n' || c == '\r') {
                int r = eat_newline(ps);
                if (r < 0)
                        return r;
                buf_putc(b, '\n');
                return 0;
        }
        if (is_control(c))
                return fail(ps, ps->p, "control character in string");
        buf_putc(b, (char)c);
        ps->p++;
        return 0;
}

/* A multi-line string: """basic""" or '''literal'''. */
static int parse_ml_string(struct parser *ps, struct buf *b)
{
        const char *open = ps->p;
        char quote = *ps->p;
        ps->p += 3;
        if (ps->p[0] == '\n')
                ps->p++;
        else if (ps->p[0] == '\r' && ps->p[1] == '\n')
                ps->p += 2;
        for (;;) {
                int r;
                if (*ps->p == '\0')
                        return fail(ps, open, "unterminated multi-line string");
                if (*ps->p == quote) {
                        r = ml_quotes(ps, b);
                        if (r != 0)
                                return r < 0 ? r : 0;
                        continue;
                }
                r = ml_step(ps, b, quote);
                if (r < 0)
                        return r;
        }
}

static bool at_ml_string(const struct parser *ps)
{
        char q = ps->p[0];
        return (q == '"' || q == '\'') && ps->p[1] == q && ps->p[2] == q;
}

static int parse_key_part(struct parser *ps, struct buf *b)
{
        const char *at = ps->p;
        buf_put(b, "", 0);
        if (*ps->p != '"' && *ps->p != '\'') {
                while (is_bare(*ps->p))
                        ps->p++;
                if (ps->p == at)
                        return fail_unexpected(ps, "expected a key");
                buf_put(b, at, (size_t)(ps->p - at));
                return 0;
        }
        if (at_ml_string(ps))
                return fail(ps, at, "multi-line string used as a key");
        int r = parse_line_string(ps, b);
        if (r < 0)
                return r;
        if (memchr(b->data, '\0', b->len))
                return fail(ps, at, "key contains a NUL character");
        return 0;
}

/* A possibly dotted key, into a string vector of its parts. */
static int parse_key(struct parser *ps, char ***ret)
{
        _cleanup_strv_ char **parts = NULL;
        for (size_t n = 0;; n++) {
                _cleanup_buf_ struct buf b = {0};
                skip_ws(ps);
                if (n >= TOML_MAX_DEPTH)
                        return fail(ps, ps->p, "key has more than %u parts", TOML_MAX_DEPTH);
                int r = parse_key_part(ps, &b);
                if (r < 0)
                        return r;
                strv_consume(&parts, TAKE_PTR(b.data));
                skip_ws(ps);
                if (*ps->p != '.')
                        break;
                ps->p++;
        }
        *ret = TAKE_PTR(parts);
        return 0;
}

/* The first n parts of a key, for messages. */
static char *key_name(char **key, size_t n)
{
        char *saved = key[n];
        key[n] = NULL;
        char *s = strv_join(key, ".");
        key[n] = saved;
        return s;
}

static int parse_value(struct parser *ps, unsigned depth, json_t **ret);

static int parse_string_value(struct parser *ps, json_t **ret)
{
        _cleanup_buf_ struct buf b = {0};
        buf_put(&b, "", 0);
        int r = at_ml_string(ps) ? parse_ml_string(ps, &b) : parse_line_string(ps, &b);
        if (r < 0)
                return r;
        *ret = json_stringn(b.data, b.len);
        if (!*ret)
                return fail(ps, ps->p, "string is not valid UTF-8");
        return 0;
}

static int parse_array(struct parser *ps, unsigned depth, json_t **ret)
{
        if (depth > TOML_MAX_DEPTH)
                return fail(ps, ps->p, "nesting deeper than %u levels", TOML_MAX_DEPTH);
        _cleanup_json_ json_t *arr = json_array();
        ps->p++;
        for (;;) {
                int r = skip_blank(ps);
                if (r < 0)
                        return r;
                if (*ps->p == ']')
                        break;
                json_t *v = NULL;
                r = parse_value(ps, depth + 1, &v);
                if (r < 0)
                        return r;
                meta_forget(ps, v);
                (void)json_array_append_new(arr, v);
                r = skip_blank(ps);
                if (r < 0)
                        return r;
                if (*ps->p == ']')
                        break;
                if (*ps->p != ',')
                        return fail_unexpected(ps, "expected ',' or ']' in array");
                ps->p++;
        }
        ps->p++;
        *ret = TAKE_PTR(arr);
        return 0;
}

static int parse_keyval(struct parser *ps, json_t *tbl);

static int parse_inline_body(struct parser *ps, json_t *tbl)
{
        for (;;) {
                int r = parse_keyval(ps, tbl);
                if (r < 0)
                        return r;
                skip_ws(ps);
                if (*ps->p == '}')
                        return 0;
                if (*ps->p != ',')
                        return fail_unexpected(ps, "expected ',' or '}' in inline table");
                ps->p++;
                skip_ws(ps);
                if (*ps->p == '}')
                        return fail(ps, ps->p, "trailing comma in inline table");
        }
}

static int parse_inline_table(struct parser *ps, unsigned depth, json_t **ret)
{
        _cleanup_json_ json_t *tbl = NULL;
        int r = make_table(ps, depth, 0, &tbl);
        if (r < 0)
                return r;
        ps->p++;
        skip_ws(ps);
        if (*ps->p != '}') {
                r = parse_inline_body(ps, tbl);
                if (r < 0)
                        return r;
        }
        ps->p++;
        meta_set(ps, tbl, META_FROZEN, depth);
        *ret = TAKE_PTR(tbl);
        return 0;
}

/* Matches the start of s against pat, where '9' stands for any digit. */
static bool match_pattern(const char *s, const char *pat)
{
        for (; *pat; s++, pat++)
                if (*pat == '9' ? !is_digit(*s) : *s != *pat)
                        return false;
        return true;
}

static int num_at(const char *s, size_t n)
{
        int v = 0;
        for (size_t i = 0; i < n; i++)
                v = v * 10 + (s[i] - '0');
        return v;
}

static bool looks_like_datetime(const char *s)
{
        return match_pattern(s, "9999-") || match_pattern(s, "99:");
}

/* YYYY-MM-DD; returns the end, or NULL. */
static const char *scan_date(const char *s)
{
        static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (!match_pattern(s, "9999-99-99"))
                return NULL;
        int y = num_at(s, 4), m = num_at(s + 5, 2), d = num_at(s + 8, 2);
        if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
                return NULL;
        if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
                return NULL;
        return s + 10;
}

/* HH:MM:SS[.fraction]; returns the end, or NULL. */
static const char *scan_time(const char *s)
{
        if (!match_pattern(s, "99:99:99"))
                return NULL;
        if (num_at(s, 2) > 23 || num_at(s + 3, 2) > 59 || num_at(s + 6, 2) > 60)
                return NULL;
        s += 8;
        if (*s == '.') {
                if (!is_digit(s[1]))
                        return NULL;
                for (s++; is_digit(*s); s++)
                        ;
        }
        return s;
}

/* Z or +HH:MM / -HH:MM, if there; returns the end, or NULL when malformed. */
static const char *scan_offset(const char *s)
{
        if (*s == 'Z' || *s == 'z')
                return s + 1;
        if (*s != '+' && *s != '-')
                return s;
        if (!match_pattern(s + 1, "99:99"))
                return NULL;
        if (num_at(s + 1, 2) > 23 || num_at(s + 4, 2) > 59)
                return NULL;
        return s + 6;
}

/* Dates, date-times and times, validated and kept as written. */
static int parse_datetime(struct parser *ps, json_t **ret)
{
        const char *s = ps->p, *q = NULL;
        if (s[4] == '-') {
                q = scan_date(s);
                bool has_time = q && (*q == 'T' || *q == 't' || match_pattern(q, " 99:"));
                if (has_time) {
                        q = scan_time(q + 1);
                        if (q)
                                q = scan_offset(q);
                }
        } else {
                q = scan_time(s);
        }
        if (!q || !is_value_end(*q))
                return fail(ps, s, "invalid date or time");
        *ret = json_stringn(s, (size_t)(q - s));
        ps->p = q;
        return 0;
}

/* Digits of base with single underscores between them. */
static bool valid_digits(const char *s, const char *e, int base)
{
        if (s >= e)
                return false;
        for (const char *q = s; q < e; q++) {
                if (*q == '_') {
                        if (q == s || q + 1 == e || q[1] == '_')
                                return false;
                        continue;
                }
                int v = hex_value(*q);
                if (v < 0 || v >= base)
                        return false;
        }
        return true;
}

static char *strip_underscores(const char *s)
{
        char *r = xmalloc(strlen(s) + 1), *p = r;
        for (; *s; s++)
                if (*s != '_')
                        *p++ = *s;
        *p = '\0';
        return r;
}

/* Decimal, 0x, 0o and 0b integers with underscores between digits; 64-bit signed. */
static int parse_integer(struct parser *ps, const char *tok, const char *at, json_t **ret)
{
        bool neg = tok[0] == '-';
        const char *body = tok + (neg || tok[0] == '+');
        int base = 10;
        if (body[0] == '0' && (body[1] == 'x' || body[1] == 'o' || body[1] == 'b')) {
                if (body != tok)
                        return fail(ps, at, "sign not allowed in '%s'", tok);
                base = body[1] == 'x' ? 16 : body[1] == 'o' ? 8 : 2;
                body += 2;
        }
        if (!valid_digits(body, body + strlen(body), base))
                return fail(ps, at, "invalid number '%s'", tok);
        if (base == 10 && body[0] == '0' && body[1] != '\0')
                return fail(ps, at, "leading zero in '%s'", tok);
        _cleanup_free_ char *clean = strip_underscores(body);
        errno = 0;
        unsigned long long v = strtoull(clean, NULL, base);
        if (errno == ERANGE || v > (unsigned long long)INT64_MAX + neg)
                return fail(ps, at, "integer '%s' out of range", tok);
        *ret = json_integer(!neg ? (json_int_t)v : v == 0 ? 0 : -(json_int_t)(v - 1) - 1);
        return 0;
}

/* int-part [. digits] [e [+-] digits], with at least one of the optional parts. */
static bool valid_float(const char *body)
{
        const char *e = body + strcspn(body, "eE");
        const char *dot = memchr(body, '.', (size_t)(e - body));
        const char *int_end = dot ? dot : e;
        if (!valid_digits(body, int_end, 10) || (body[0] == '0' && int_end - body > 1))
                return false;
        if (dot && !valid_digits(dot + 1, e, 10))
                return false;
        if (*e) {
                const char *x = e + 1 + (e[1] == '+' || e[1] == '-');
                if (!valid_digits(x, x + strlen(x), 10))
                        return false;
        }
        return dot || *e;
}

static double c_strtod(const char *s)
{
        locale_t loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
        if (loc == (locale_t)0)
                return strtod(s, NULL);
        double d = strtod_l(s, NULL, loc);
        freelocale(loc);
        return d;
}

/* Floats; what JSON cannot hold (inf, nan) is kept as a string. */
static int parse_float(struct parser *ps, const char *tok, const char *at, json_t **ret)
{
        const char *body = tok + (tok[0] == '+' || tok[0] == '-');
        bool neg = tok[0] == '-';
        if (streq(body, "inf") || streq(body, "nan")) {
                *ret = json_string(body[0] == 'i' && neg ? "-inf" : body);
                return 0;
        }
        if (!valid_float(body))
                return fail(ps, at, "invalid number '%s'", tok);
        _cleanup_free_ char *clean = strip_underscores(tok);
        double d = c_strtod(clean);
        if (isinf(d))
                *ret = json_string(neg ? "-inf" : "inf");
        else
                *ret = json_real(d);
        return 0;
}

static int parse_number(struct parser *ps, json_t **ret)
{
        const char *s = ps->p, *q = s;
        while (is_bare(*q) || *q == '+' || *q == '.')
                q++;
        _cleanup_free_ char *tok = xstrndup(s, (size_t)(q - s));
        const char *body = tok + (tok[0] == '+' || tok[0] == '-');
        bool is_float = !startswith(body, "0x")
                        && (strpbrk(body, ".eE") || streq(body, "inf") || streq(body, "nan"));
        int r = is_float ? parse_float(ps, tok, s, ret) : parse_integer(ps, tok, s, ret);
        if (r >= 0)
                ps->p = q;
        return r;
}

static bool match_word(struct parser *ps, const char *w)
{
        const char *e = startswith(ps->p, w);
        if (!e || !is_value_end(*e))
                return false;
        ps->p = e;
        return true;
}

/* A value; depth is the one it has if it is an array or an inline table. */
static int parse_value(struct parser *ps, unsigned depth, json_t **ret)
{
        char c = *ps->p;
        if (c == '"' || c == '\'')
                return parse_string_value(ps, ret);
        if (c == '[')
                return parse_array(ps, depth, ret);
        if (c == '{')
                return parse_inline_table(ps, depth, ret);
        bool t = match_word(ps, "true");
        if (t || match_word(ps, "false")) {
                *ret = json_boolean(t);
                return 0;
        }
        if (looks_like_datetime(ps->p))
                return parse_datetime(ps, ret);
        if (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n')
                return parse_number(ps, ret);
        return fail_unexpected(ps, "expected a value");
}

/* Fails on the first n parts of key, naming what they already are. */
static int fail_defined(struct parser *ps, const char *at, char **key, size_t n, json_t *v)
{
        _cleanup_free_ char *name = key_name(key, n);
        const char *what = json_is_array(v)                  ? "array"
                           : !json_is_object(v)              ? "key"
                           : meta_flags(ps, v) & META_FROZEN ? "inline table"
                                                             : "table";
        return fail(ps, at, "%s '%s' is already defined", what, name);
}

/* Gets tbl[k], creating it as a table with flags when missing: 1 when created. */
static int get_or_make(struct parser *ps, json_t *tbl, const char *k, unsigned flags, json_t **ret)
{
        *ret = json_object_get(tbl, k);
        if (*ret)
                return 0;
        int r = make_table(ps, meta_depth(ps, tbl) + 1, flags, ret);
        if (r < 0)
                return r;
        (void)json_object_set_new(tbl, k, *ret);
        return 1;
}

/* Steps into key[i] for a dotted key: only tables made by dotted keys can be extended. */
static int dotted_descend(struct parser *ps, json_t **tbl, char **key, size_t i, const char *at)
{
        json_t *v = NULL;
        int r = get_or_make(ps, *tbl, key[i], META_DOTTED, &v);
        if (r < 0)
                return r;
        if (!json_is_object(v) || !(meta_flags(ps, v) & META_DOTTED))
                return fail_defined(ps, at, key, i + 1, v);
        *tbl = v;
        return 0;
}

static int parse_keyval(struct parser *ps, json_t *tbl)
{
        _cleanup_strv_ char **key = NULL;
        skip_ws(ps);
        const char *at = ps->p;
        int r = parse_key(ps, &key);
        if (r < 0)
                return r;
        if (*ps->p != '=')
                return fail_unexpected(ps, "expected '=' after a key");
        ps->p++;
        skip_ws(ps);
        size_t n = strv_length(key);
        for (size_t i = 0; i + 1 < n; i++) {
                r = dotted_descend(ps, &tbl, key, i, at);
                if (r < 0)
                        return r;
        }
        json_t *v = json_object_get(tbl, key[n - 1]);
        if (v)
                return fail_defined(ps, at, key, n, v);
        r = parse_value(ps, meta_depth(ps, tbl) + 1, &v);
        if (r < 0)
                return r;
        (void)json_object_set_new(tbl, key[n - 1], v);
        return 0;
}

/* Steps into key[i] of a [header]: creates tables, enters the last of an array of tables. */
static int header_descend(struct parser *ps, json_t **tbl, char **key, size_t i, const char *at)
{
        json_t *v = NULL;
        int r = get_or_make(ps, *tbl, key[i], META_IMPLICIT, &v);
        if (r < 0)
                return r;
        if (json_is_array(v) && (meta_flags(ps, v) & META_AOT))
                v = json_array_get(v, json_array_size(v) - 1);
        else if (!json_is_object(v) || (meta_flags(ps, v) & META_FROZEN))
                return fail_defined(ps, at, key, i + 1, v);
        *tbl = v;
        return 0;
}

/* [key]: defines the table, which may exist only as created on the way to another. */
static int header_define(struct parser *ps, json_t *tbl, char **key, size_t n, const char *at)
{
        json_t *v = NULL;
        int r = get_or_make(ps, tbl, key[n - 1], META_HEADER, &v);
        if (r < 0)
                return r;
        if (r == 0) {
                if (!json_is_object(v) || meta_flags(ps, v) != META_IMPLICIT)
                        return fail_defined(ps, at, key, n, v);
                meta_set(ps, v, META_HEADER, meta_depth(ps, v));
        }
        ps->cur = v;
        return 0;
}

/* [[key]]: appends a table to an array of tables, creating the array if needed. */
static int header_append(struct parser *ps, json_t *tbl, char **key, size_t n, const char *at)
{
        json_t *arr = json_object_get(tbl, key[n - 1]);
        if (arr && (!json_is_array(arr) || !(meta_flags(ps, arr) & META_AOT)))
                return fail_defined(ps, at, key, n, arr);
        unsigned depth = arr ? meta_depth(ps, arr) : meta_depth(ps, tbl) + 1;
        json_t *elem = NULL;
        int r = make_table(ps, depth + 1, META_HEADER, &elem);
        if (r < 0)
                return r;
        if (!arr) {
                arr = json_array();
                meta_set(ps, arr, META_AOT, depth);
                (void)json_object_set_new(tbl, key[n - 1], arr);
        }
        (void)json_array_append_new(arr, elem);
        ps->cur = elem;
        return 0;
}

static int parse_header(struct parser *ps)
{
        const char *at = ps->p;
        bool aot = ps->p[1] == '[';
        ps->p += aot ? 2 : 1;
        _cleanup_strv_ char **key = NULL;
        int r = parse_key(ps, &key);
        if (r < 0)
                return r;
        if (*ps->p != ']' || (aot && ps->p[1] != ']'))
                return fail_unexpected(ps, aot ? "expected ']]'" : "expected ']'");
        ps->p += aot ? 2 : 1;
        json_t *tbl = ps->root;
        size_t n = strv_length(key);
        for (size_t i = 0; i + 1 < n; i++) {
                r = header_descend(ps, &tbl, key, i, at);
                if (r < 0)
                        return r;
        }
        return aot ? header_append(ps, tbl, key, n, at) : header_define(ps, tbl, key, n, at);
}

static int parse_document(struct parser *ps)
{
        for (;;) {
                skip_ws(ps);
                char c = *ps->p;
                int r = 0;
                if (c == '\0')
                        return 0;
                if (c == '[')
                        r = parse_header(ps);
                else if (c != '#' && c != '\n' && c != '\r')
                        r = parse_keyval(ps, ps->cur);
                r = r < 0 ? r : end_of_line(ps);
                if (r < 0)
                        return r;
        }
}

/* jansson checks UTF-8 (overlongs, surrogates, past U+10FFFF); lines are looked at on failure. */
static int check_utf8(struct parser *ps, size_t len)
{
        _cleanup_json_ json_t *all = json_stringn(ps->start, len);
        if (all)
                return 0;
        for (const char *l = ps->start;;) {
                const char *e = strchrnul(l, '\n');
                _cleanup_json_ json_t *line = json_stringn(l, (size_t)(e - l));
                if (!line || *e == '\0')
                        return fail(ps, l, "invalid UTF-8");
                l = e + 1;
        }
}

static int parse_text(const char *text, size_t len, const char *origin, json_t **ret,
                      struct pea_error **err)
{
        struct parser ps = {.start = text, .p = text, .origin = origin, .err = err};
        if (len > TOML_MAX_BYTES)
                return pea_error_set(err, EFBIG, "'%s' is larger than %u bytes", origin,
                                     TOML_MAX_BYTES);
        const char *bad = memchr(text, '\0', len);
        if (bad)
                return fail(&ps, bad, "NUL byte in the text");
        int r = check_utf8(&ps, len);
        if (r < 0)
                return r;
        if (startswith(text, "\xEF\xBB\xBF"))
                ps.p += 3;
        _cleanup_json_ json_t *root = json_object();
        _cleanup_json_ json_t *meta = json_object();
        ps.root = ps.cur = root;
        ps.meta = meta;
        meta_set(&ps, root, META_HEADER, 0);
        r = parse_document(&ps);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(root);
        return 0;
}

int pea_toml_parse(const char *text, const char *origin, json_t **ret, struct pea_error **err)
{
        return parse_text(text, strlen(text), origin ? origin : "<string>", ret, err);
}

int pea_toml_parse_file(const char *path, json_t **ret, struct pea_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = pea_read_file_at(AT_FDCWD, path, TOML_MAX_BYTES, &buf, &len, err);
        if (r < 0)
                return r;
        return parse_text(buf, len, path, ret, err);
}
