/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printing JSON values the way Go does: fmt's verbs (%v, Sprintf) and
 * encoding/json's Marshal, plus the string buffer and UTF-8 helpers of the
 * template engine.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"
#include "util.h"

#define FMT_MAX_WIDTH 1000000 /* Go's fmt refuses wider or more precise */

struct spec {
        bool minus, plus, sharp, space, zero;
        int width; /* -1: none */
        int prec;  /* -1: none */
};

static void fmt_arg(struct tpl_buf *b, const json_t *v, unsigned verb, const struct spec *sp,
                    int depth);

void tpl_buf_add(struct tpl_buf *b, const char *s, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->s = xrealloc(b->s, b->cap);
        }
        if (n > 0)
                memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = '\0';
}

void tpl_buf_puts(struct tpl_buf *b, const char *s)
{
        tpl_buf_add(b, s, strlen(s));
}

void tpl_buf_putc(struct tpl_buf *b, char c)
{
        tpl_buf_add(b, &c, 1);
}

void tpl_buf_printf(struct tpl_buf *b, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        s = xvasprintf(fmt, ap);
        va_end(ap);
        tpl_buf_puts(b, s);
}

void tpl_buf_repeat(struct tpl_buf *b, char c, size_t n)
{
        tpl_buf_add(b, "", 0);
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->s = xrealloc(b->s, b->cap);
        }
        memset(b->s + b->len, c, n);
        b->len += n;
        b->s[b->len] = '\0';
}

char *tpl_buf_steal(struct tpl_buf *b)
{
        tpl_buf_add(b, "", 0);
        b->len = b->cap = 0;
        return TAKE_PTR(b->s);
}

void tpl_buf_done(struct tpl_buf *b)
{
        free(b->s);
        b->s = NULL;
        b->len = b->cap = 0;
}

size_t tpl_utf8_len(const char *s, size_t n, unsigned *ret_rune)
{
        const unsigned char *u = (const unsigned char *)s;
        unsigned r = 0xFFFD, min = 0;
        size_t len = 1;
        if (u[0] < 0x80) {
                r = u[0];
        } else if (u[0] >= 0xC2 && u[0] < 0xF5) {
                len = u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
                min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
                r = u[0] & (0x3F >> (len - 1));
                for (size_t i = 1; i < len; i++) {
                        if (i >= n || (u[i] & 0xC0) != 0x80) {
                                r = 0xFFFD;
                                len = 1;
                                break;
                        }
                        r = (r << 6) | (u[i] & 0x3F);
                }
                if (len > 1 && (r < min || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000))) {
                        r = 0xFFFD;
                        len = 1;
                }
        }
        if (ret_rune)
                *ret_rune = r;
        return len;
}

size_t tpl_utf8_count(const char *s, size_t n)
{
        size_t count = 0;
        for (size_t i = 0; i < n; count++)
                i += tpl_utf8_len(s + i, n - i, NULL);
        return count;
}

void tpl_utf8_put(struct tpl_buf *b, unsigned r)
{
        char u[4] = {0};
        if (r < 0x80) {
                tpl_buf_putc(b, (char)r);
        } else if (r < 0x800) {
                u[0] = (char)(0xC0 | (r >> 6));
                u[1] = (char)(0x80 | (r & 0x3F));
                tpl_buf_add(b, u, 2);
        } else if (r < 0x10000) {
                u[0] = (char)(0xE0 | (r >> 12));
                u[1] = (char)(0x80 | ((r >> 6) & 0x3F));
                u[2] = (char)(0x80 | (r & 0x3F));
                tpl_buf_add(b, u, 3);
        } else {
                u[0] = (char)(0xF0 | (r >> 18));
                u[1] = (char)(0x80 | ((r >> 12) & 0x3F));
                u[2] = (char)(0x80 | ((r >> 6) & 0x3F));
                u[3] = (char)(0x80 | (r & 0x3F));
                tpl_buf_add(b, u, 4);
        }
}

bool tpl_truth(const json_t *v)
{
        switch (v ? json_typeof(v) : JSON_NULL) {
        case JSON_OBJECT:
                return json_object_size(v) > 0;
        case JSON_ARRAY:
                return json_array_size(v) > 0;
        case JSON_STRING:
                return json_string_length(v) > 0;
        case JSON_INTEGER:
                return json_integer_value(v) != 0;
        case JSON_REAL:
                return json_real_value(v) != 0;
        case JSON_TRUE:
                return true;
        default:
                return false;
        }
}

const char *tpl_type_name(const json_t *v)
{
        switch (v ? json_typeof(v) : JSON_NULL) {
        case JSON_OBJECT:
                return "map[string]interface {}";
        case JSON_ARRAY:
                return "[]interface {}";
        case JSON_STRING:
                return "string";
        case JSON_INTEGER:
                return "int";
        case JSON_REAL:
                return "float64";
        case JSON_TRUE:
        case JSON_FALSE:
                return "bool";
        default:
                return "<nil>";
        }
}

static bool is_print(unsigned r)
{
        if (r < 0x80)
                return r >= 0x20 && r < 0x7f;
        return r >= 0xA0 && r != 0xAD && r != 0x2028 && r != 0x2029 && r != 0xFEFF;
}

static bool verb_in(unsigned verb, const char *set)
{
        return verb > 0 && verb < 0x80 && strchr(set, (int)verb);
}

static void quote_rune(struct tpl_buf *b, unsigned r, char q)
{
        static const char esc[] = "\aa\bb\ff\nn\rr\tt\vv";
        if (r == (unsigned char)q || r == '\\') {
                tpl_buf_putc(b, '\\');
                tpl_buf_putc(b, (char)r);
                return;
        }
        if (is_print(r)) {
                tpl_utf8_put(b, r);
                return;
        }
        for (size_t k = 0; esc[k]; k += 2)
                if (r == (unsigned char)esc[k]) {
                        tpl_buf_putc(b, '\\');
                        tpl_buf_putc(b, esc[k + 1]);
                        return;
                }
        if (r < 0x20 || r == 0x7f)
                tpl_buf_printf(b, "\\x%02x", r);
        else if (r < 0x10000)
                tpl_buf_printf(b, "\\u%04x", r);
        else
                tpl_buf_printf(b, "\\U%08x", r);
}

void tpl_quote(struct tpl_buf *b, const char *s, size_t n)
{
        tpl_buf_putc(b, '"');
        for (size_t i = 0; i < n;) {
                unsigned r = 0;
                size_t len = tpl_utf8_len(s + i, n - i, &r);
                if (r == 0xFFFD && len == 1)
                        tpl_buf_printf(b, "\\x%02x", (unsigned char)s[i]);
                else
                        quote_rune(b, r, '"');
                i += len;
        }
        tpl_buf_putc(b, '"');
}

/* Pads s to the width in runes; zero padding goes after a numeric sign. */
static void pad_out(struct tpl_buf *b, const char *s, size_t n, const struct spec *sp, bool numeric)
{
        size_t w = tpl_utf8_count(s, n), pad = sp->width > (int)w ? (size_t)sp->width - w : 0;
        size_t k = numeric && n > 0 && strchr("+- ", s[0]) ? 1 : 0;
        if (pad == 0) {
                tpl_buf_add(b, s, n);
        } else if (sp->minus) {
                tpl_buf_add(b, s, n);
                tpl_buf_repeat(b, ' ', pad);
        } else if (sp->zero) {
                tpl_buf_add(b, s, k);
                tpl_buf_repeat(b, '0', pad);
                tpl_buf_add(b, s + k, n - k);
        } else {
                tpl_buf_repeat(b, ' ', pad);
                tpl_buf_add(b, s, n);
        }
}

static void bad_verb(struct tpl_buf *b, const json_t *v, unsigned verb, const struct spec *sp,
                     int depth)
{
        tpl_buf_puts(b, "%!");
        tpl_utf8_put(b, verb);
        tpl_buf_putc(b, '(');
        if (v && !json_is_null(v)) {
                tpl_buf_puts(b, tpl_type_name(v));
                tpl_buf_putc(b, '=');
                fmt_arg(b, v, 'v', sp, depth + 1);
        } else {
                tpl_buf_puts(b, "<nil>");
        }
        tpl_buf_putc(b, ')');
}

/* The shortest digits that read back as d > 0; d = 0.DIGITS * 10^dp. */
static size_t shortest_digits(double d, char dig[32], int *ret_dp)
{
        char buf[48], *e = NULL;
        size_t n = 0;
        for (int prec = 0; prec < 17; prec++) {
                (void)snprintf(buf, sizeof(buf), "%.*e", prec, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        for (const char *p = buf; *p && *p != 'e'; p++)
                if (*p >= '0' && *p <= '9')
                        dig[n++] = *p;
        while (n > 1 && dig[n - 1] == '0')
                n--;
        dig[n] = '\0';
        e = strchr(buf, 'e');
        *ret_dp = (int)strtol(e + 1, NULL, 10) + 1;
        return n;
}

/* strconv.FormatFloat(d, fmt, -1, 64), fmt being 'e', 'E', 'f' or 'g' (%v's %e threshold 6). */
static void format_shortest(struct tpl_buf *b, double d, char fmt)
{
        char dig[32] = {0};
        int dp = 1, exp = 0;
        size_t n = 1;
        if (isnan(d) || isinf(d)) {
                tpl_buf_puts(b, isnan(d) ? "NaN" : d < 0 ? "-Inf" : "+Inf");
                return;
        }
        if (signbit(d))
                tpl_buf_putc(b, '-');
        d = fabs(d);
        if (d == 0)
                dig[0] = '0';
        else
                n = shortest_digits(d, dig, &dp);
        exp = dp - 1;
        if (fmt == 'g' || fmt == 'G')
                fmt = exp < -4 || exp >= 6 ? (char)(fmt - 2) : 'f';
        if (fmt == 'e' || fmt == 'E') {
                tpl_buf_putc(b, dig[0]);
                if (n > 1) {
                        tpl_buf_putc(b, '.');
                        tpl_buf_add(b, dig + 1, n - 1);
                }
                tpl_buf_printf(b, "%c%c%02d", fmt, exp < 0 ? '-' : '+', abs(exp));
        } else if (dp <= 0) {
                tpl_buf_puts(b, "0.");
                tpl_buf_repeat(b, '0', (size_t)-dp);
                tpl_buf_add(b, dig, n);
        } else if ((size_t)dp >= n) {
                tpl_buf_add(b, dig, n);
                tpl_buf_repeat(b, '0', (size_t)dp - n);
        } else {
                tpl_buf_add(b, dig, (size_t)dp);
                tpl_buf_putc(b, '.');
                tpl_buf_add(b, dig + dp, n - (size_t)dp);
        }
}

/* %v, %g, %G (shortest unless a precision is given), %e, %E, %f, %F */
static void fmt_real(struct tpl_buf *b, double d, unsigned verb, const struct spec *sp,
                     const json_t *v, int depth)
{
        _cleanup_tpl_buf_ struct tpl_buf t = {};
        int prec = sp->prec < 0 ? 6 : sp->prec;
        if (!verb_in(verb, "vgGeEfF"))
                return bad_verb(b, v, verb, sp, depth);
        if (sp->plus && !signbit(d))
                tpl_buf_putc(&t, '+');
        else if (sp->space && !signbit(d))
                tpl_buf_putc(&t, ' ');
        if (sp->prec < 0 && verb_in(verb, "vgG"))
                format_shortest(&t, d, verb == 'G' ? 'G' : 'g');
        else if (verb == 'e')
                tpl_buf_printf(&t, "%.*e", prec, d);
        else if (verb == 'E')
                tpl_buf_printf(&t, "%.*E", prec, d);
        else if (verb == 'f' || verb == 'F')
                tpl_buf_printf(&t, "%.*f", prec, d);
        else if (verb == 'G')
                tpl_buf_printf(&t, "%.*G", prec, d);
        else
                tpl_buf_printf(&t, "%.*g", prec, d);
        pad_out(b, t.s, t.len, sp, true);
}

static void fmt_int(struct tpl_buf *b, long long v, unsigned verb, const struct spec *sp,
                    const json_t *jv, int depth)
{
        _cleanup_tpl_buf_ struct tpl_buf t = {};
        unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
        const char *digs = verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
        char dig[72] = {0};
        size_t n = 0;
        unsigned base = verb == 'b'                  ? 2
                        : verb == 'o' || verb == 'O' ? 8
                        : verb == 'x' || verb == 'X' ? 16
                                                     : 10;
        int prec = sp->prec;
        struct spec nozero = *sp;
        if (verb == 'c' || verb == 'q' || verb == 'U') {
                if (verb == 'c')
                        tpl_utf8_put(&t, u > 0x10FFFF ? 0xFFFD : (unsigned)u);
                else if (verb == 'U')
                        tpl_buf_printf(&t, "U+%04llX", u);
                else {
                        tpl_buf_putc(&t, '\'');
                        quote_rune(&t, u > 0x10FFFF ? 0xFFFD : (unsigned)u, '\'');
                        tpl_buf_putc(&t, '\'');
                }
                return pad_out(b, t.s, t.len, sp, false);
        }
        if (!verb_in(verb, "vdboOxX"))
                return bad_verb(b, jv, verb, sp, depth);
        if (prec < 0 && sp->zero && !sp->minus && sp->width > 0)
                prec = sp->width - (v < 0 || sp->plus || sp->space);
        do
                dig[n++] = digs[u % base];
        while ((u /= base) > 0);
        if (prec == 0 && v == 0)
                n = 0;
        if (v < 0 || sp->plus || sp->space)
                tpl_buf_putc(&t, v < 0 ? '-' : sp->plus ? '+' : ' ');
        if (verb == 'O' || (sp->sharp && base != 10))
                tpl_buf_puts(&t, base == 16    ? (verb == 'X' ? "0X" : "0x")
                                 : base == 2   ? "0b"
                                 : verb == 'O' ? "0o"
                                               : "");
        if (sp->sharp && base == 8 && verb == 'o' && (n == 0 || dig[n - 1] != '0')
            && prec <= (int)n)
                tpl_buf_putc(&t, '0');
        if (prec > (int)n)
                tpl_buf_repeat(&t, '0', (size_t)prec - n);
        while (n > 0)
                tpl_buf_putc(&t, dig[--n]);
        nozero.zero = false;
        pad_out(b, t.s, t.len, &nozero, true);
}

static void fmt_string(struct tpl_buf *b, const char *s, size_t n, unsigned verb,
                       const struct spec *sp, const json_t *v, int depth)
{
        _cleanup_tpl_buf_ struct tpl_buf t = {};
        if (sp->prec >= 0 && verb != 'x' && verb != 'X') {
                size_t end = 0;
                for (int k = 0; k < sp->prec && end < n; k++)
                        end += tpl_utf8_len(s + end, n - end, NULL);
                n = end;
        }
        switch (verb) {
        case 'v':
        case 's':
                return pad_out(b, s, n, sp, false);
        case 'q':
                tpl_quote(&t, s, n);
                return pad_out(b, t.s, t.len, sp, false);
        case 'x':
        case 'X':
                if (sp->prec >= 0 && (size_t)sp->prec < n)
                        n = (size_t)sp->prec;
                for (size_t i = 0; i < n; i++) {
                        if (i > 0 && sp->space)
                                tpl_buf_putc(&t, ' ');
                        if (sp->sharp && (i == 0 || sp->space))
                                tpl_buf_puts(&t, verb == 'x' ? "0x" : "0X");
                        tpl_buf_printf(&t, verb == 'x' ? "%02x" : "%02X", (unsigned char)s[i]);
                }
                return pad_out(b, t.s ? t.s : "", t.len, sp, false);
        default:
                return bad_verb(b, v, verb, sp, depth);
        }
}

static int compare_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void fmt_object(struct tpl_buf *b, const json_t *v, unsigned verb, const struct spec *sp,
                       int depth)
{
        size_t count = json_object_size(v), i = 0;
        _cleanup_free_ const char **keys = xcalloc(count + 1, sizeof(*keys));
        const char *k = NULL;
        json_t *val = NULL;
        json_object_foreach((json_t *)v, k, val)
                keys[i++] = k;
        qsort(keys, count, sizeof(*keys), compare_keys);
        tpl_buf_puts(b, "map[");
        for (i = 0; i < count; i++) {
                _cleanup_json_ json_t *key = json_string_nocheck(keys[i]);
                if (i > 0)
                        tpl_buf_putc(b, ' ');
                fmt_arg(b, key, verb, sp, depth + 1);
                tpl_buf_putc(b, ':');
                fmt_arg(b, json_object_get(v, keys[i]), verb, sp, depth + 1);
        }
        tpl_buf_putc(b, ']');
}

static void fmt_arg(struct tpl_buf *b, const json_t *v, unsigned verb, const struct spec *sp,
                    int depth)
{
        if (depth > TPL_MAX_VALUE_DEPTH)
                return tpl_buf_puts(b, "...");
        switch (v ? json_typeof(v) : JSON_NULL) {
        case JSON_ARRAY:
                tpl_buf_putc(b, '[');
                for (size_t i = 0; i < json_array_size(v); i++) {
                        if (i > 0)
                                tpl_buf_putc(b, ' ');
                        fmt_arg(b, json_array_get(v, i), verb, sp, depth + 1);
                }
                return tpl_buf_putc(b, ']');
        case JSON_OBJECT:
                return fmt_object(b, v, verb, sp, depth);
        case JSON_STRING:
                return fmt_string(b, json_string_value(v), json_string_length(v), verb, sp, v,
                                  depth);
        case JSON_INTEGER:
                return fmt_int(b, json_integer_value(v), verb, sp, v, depth);
        case JSON_REAL:
                return fmt_real(b, json_real_value(v), verb, sp, v, depth);
        case JSON_TRUE:
        case JSON_FALSE:
                if (verb != 'v' && verb != 't')
                        return bad_verb(b, v, verb, sp, depth);
                return pad_out(b, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5, sp,
                               false);
        default:
                if (verb != 'v' && depth == 0)
                        return bad_verb(b, NULL, verb, sp, depth);
                return pad_out(b, "<nil>", 5, sp, false);
        }
}

void tpl_fmt_value(struct tpl_buf *b, const json_t *v)
{
        struct spec sp = {.width = -1, .prec = -1};
        fmt_arg(b, v, 'v', &sp, 0);
}

/*
 * A width or precision, digits or '*' (taking an int argument): 0 and
 * *present false if absent, -1 if bad (Go's BADWIDTH, BADPREC).
 */
static int parse_num(const char *f, size_t n, size_t *i, json_t **args, size_t nargs, size_t *a,
                     int *ret, bool *present)
{
        long long v = 0;
        *present = false;
        *ret = 0;
        if (*i < n && f[*i] == '*') {
                const json_t *arg = *a < nargs ? args[*a] : NULL;
                (*i)++;
                (*a)++;
                if (!json_is_integer(arg))
                        return -1;
                v = json_integer_value(arg);
                if (v > FMT_MAX_WIDTH || v < -FMT_MAX_WIDTH)
                        return -1;
                *ret = (int)v;
                *present = true;
                return 0;
        }
        for (; *i < n && f[*i] >= '0' && f[*i] <= '9'; (*i)++) {
                *present = true;
                if (v <= FMT_MAX_WIDTH)
                        v = v * 10 + (f[*i] - '0');
        }
        if (v > FMT_MAX_WIDTH) {
                *present = false;
                return -1;
        }
        *ret = (int)v;
        return 0;
}

/* Flags, width and precision after a '%'. */
static void parse_spec(struct tpl_buf *b, const char *f, size_t n, size_t *i, struct spec *sp,
                       json_t **args, size_t nargs, size_t *a)
{
        bool present = false;
        int v = 0;
        for (; *i < n && f[*i] && strchr("#0+- ", f[*i]); (*i)++) {
                sp->sharp |= f[*i] == '#';
                sp->zero |= f[*i] == '0';
                sp->plus |= f[*i] == '+';
                sp->minus |= f[*i] == '-';
                sp->space |= f[*i] == ' ';
        }
        if (parse_num(f, n, i, args, nargs, a, &v, &present) < 0)
                tpl_buf_puts(b, "%!(BADWIDTH)");
        if (present && v < 0)
                sp->minus = true;
        sp->width = present ? abs(v) : -1;
        if (*i < n && f[*i] == '.') {
                (*i)++;
                if (parse_num(f, n, i, args, nargs, a, &v, &present) < 0 || v < 0)
                        tpl_buf_puts(b, "%!(BADPREC)");
                else
                        sp->prec = v;
        }
        if (sp->minus)
                sp->zero = false;
}

void tpl_sprintf(struct tpl_buf *b, const char *f, size_t n, json_t **args, size_t nargs)
{
        size_t a = 0;
        tpl_buf_add(b, "", 0);
        for (size_t i = 0; i < n;) {
                struct spec sp = {.width = -1, .prec = -1};
                size_t start = i;
                unsigned verb = 0;
                while (i < n && f[i] != '%')
                        i++;
                tpl_buf_add(b, f + start, i - start);
                if (i++ >= n)
                        break;
                parse_spec(b, f, n, &i, &sp, args, nargs, &a);
                if (i >= n) {
                        tpl_buf_puts(b, "%!(NOVERB)");
                        break;
                }
                i += tpl_utf8_len(f + i, n - i, &verb);
                if (verb == '%') {
                        tpl_buf_putc(b, '%');
                } else if (a >= nargs) {
                        tpl_buf_puts(b, "%!");
                        tpl_utf8_put(b, verb);
                        tpl_buf_puts(b, "(MISSING)");
                } else {
                        fmt_arg(b, args[a++], verb, &sp, 0);
                }
        }
        if (a >= nargs)
                return;
        tpl_buf_puts(b, "%!(EXTRA ");
        for (size_t k = a; k < nargs; k++) {
                if (k > a)
                        tpl_buf_puts(b, ", ");
                if (args[k] && !json_is_null(args[k]))
                        tpl_buf_printf(b, "%s=", tpl_type_name(args[k]));
                tpl_fmt_value(b, args[k]);
        }
        tpl_buf_putc(b, ')');
}

static void json_string_encode(struct tpl_buf *b, const char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        tpl_buf_putc(b, '"');
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char)s[i];
                unsigned r = 0;
                size_t len = 0;
                if (c < 0x80) {
                        const char *e = c == '"'    ? "\\\""
                                        : c == '\\' ? "\\\\"
                                        : c == '\b' ? "\\b"
                                        : c == '\f' ? "\\f"
                                        : c == '\n' ? "\\n"
                                        : c == '\r' ? "\\r"
                                        : c == '\t' ? "\\t"
                                                    : NULL;
                        if (e)
                                tpl_buf_puts(b, e);
                        else if (c < 0x20)
                                tpl_buf_printf(b, "\\u00%c%c", hex[c >> 4], hex[c & 0xF]);
                        else
                                tpl_buf_putc(b, (char)c);
                        i++;
                        continue;
                }
                len = tpl_utf8_len(s + i, n - i, &r);
                if (r == 0xFFFD && len == 1)
                        tpl_buf_puts(b, "\\ufffd");
                else if (r == 0x2028 || r == 0x2029)
                        tpl_buf_printf(b, "\\u%04x", r);
                else
                        tpl_buf_add(b, s + i, len);
                i += len;
        }
        tpl_buf_putc(b, '"');
}

/* encoding/json: 'f' form, or 'e' for very small or large numbers, "e-07" becoming "e-7". */
static void json_float_encode(struct tpl_buf *b, double d)
{
        double a = fabs(d);
        size_t start = b->len;
        if (a != 0 && (a < 1e-6 || a >= 1e21)) {
                format_shortest(b, d, 'e');
                if (b->len - start >= 4 && b->s[b->len - 4] == 'e' && b->s[b->len - 3] == '-'
                    && b->s[b->len - 2] == '0') {
                        b->s[b->len - 2] = b->s[b->len - 1];
                        b->s[--b->len] = '\0';
                }
        } else {
                format_shortest(b, d, 'f');
        }
}

int tpl_json_encode(struct tpl_buf *b, const json_t *v, int depth)
{
        const char *k = NULL;
        json_t *val = NULL;
        size_t i = 0;
        if (depth > TPL_MAX_VALUE_DEPTH)
                return -EINVAL;
        switch (v ? json_typeof(v) : JSON_NULL) {
        case JSON_OBJECT:
                tpl_buf_putc(b, '{');
                json_object_foreach((json_t *)v, k, val) {
                        if (i++ > 0)
                                tpl_buf_putc(b, ',');
                        json_string_encode(b, k, strlen(k));
                        tpl_buf_putc(b, ':');
                        if (tpl_json_encode(b, val, depth + 1) < 0)
                                return -EINVAL;
                }
                tpl_buf_putc(b, '}');
                return 0;
        case JSON_ARRAY:
                tpl_buf_putc(b, '[');
                for (i = 0; i < json_array_size(v); i++) {
                        if (i > 0)
                                tpl_buf_putc(b, ',');
                        if (tpl_json_encode(b, json_array_get(v, i), depth + 1) < 0)
                                return -EINVAL;
                }
                tpl_buf_putc(b, ']');
                return 0;
        case JSON_STRING:
                json_string_encode(b, json_string_value(v), json_string_length(v));
                return 0;
        case JSON_INTEGER:
                tpl_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return 0;
        case JSON_REAL:
                json_float_encode(b, json_real_value(v));
                return 0;
        case JSON_TRUE:
                tpl_buf_puts(b, "true");
                return 0;
        case JSON_FALSE:
                tpl_buf_puts(b, "false");
                return 0;
        default:
                tpl_buf_puts(b, "null");
                return 0;
        }
}
