/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The functions a --format template can call: Go's text/template builtins
 * and podman's additions (containers/common/pkg/report), over JSON values.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"
#include "util.h"

/* A failure reported as Go's "error calling NAME: ...". */
static _printf_(2, 3) int call_fail(struct tpl_call *c, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);
        free(c->msg);
        c->msg = xasprintf("error calling %s: %s", c->func->name, msg);
        return -1;
}

/* An argument of the wrong type, reported without the "error calling" prefix. */
static int type_fail(struct tpl_call *c, const json_t *v, const char *want)
{
        free(c->msg);
        c->bad_arg = true;
        c->bad = v;
        if (!v || json_is_null(v))
                c->msg = xasprintf("invalid value; expected %s", want);
        else
                c->msg = xasprintf("wrong type for value; expected %s; got %s", want,
                                   tpl_type_name(v));
        return -1;
}

static int arg_string(struct tpl_call *c, const json_t *v, const char **ret, size_t *ret_len)
{
        if (!json_is_string(v))
                return type_fail(c, v, "string");
        *ret = json_string_value(v);
        *ret_len = json_string_length(v);
        return 0;
}

static int arg_int(struct tpl_call *c, const json_t *v, long long *ret)
{
        if (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v)) {
                *ret = (long long)json_real_value(v);
                return 0;
        }
        if (!json_is_integer(v))
                return type_fail(c, v, "int");
        *ret = json_integer_value(v);
        return 0;
}

static json_t *string_take(struct tpl_buf *b)
{
        tpl_buf_add(b, "", 0);
        json_t *j = json_stringn_nocheck(b->s, b->len);
        tpl_buf_done(b);
        return j;
}

static int fn_not(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        (void)c, (void)n;
        *ret = json_boolean(!tpl_truth(a[0]));
        return 0;
}

static int fn_len(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        (void)n;
        if (json_is_string(a[0]))
                *ret = json_integer((json_int_t)json_string_length(a[0]));
        else if (json_is_array(a[0]))
                *ret = json_integer((json_int_t)json_array_size(a[0]));
        else if (json_is_object(a[0]))
                *ret = json_integer((json_int_t)json_object_size(a[0]));
        else if (!a[0] || json_is_null(a[0]))
                *ret = json_integer(0);
        else
                return call_fail(c, "len of type %s", tpl_type_name(a[0]));
        return 0;
}

/* index ITEM KEYS...: arrays by int, objects by string; a null item gives no value. */
static int fn_index(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        json_t *item = a[0];
        for (size_t i = 1; i < n && item && !json_is_null(item); i++) {
                long long k = 0;
                if (json_is_array(item)) {
                        if (!json_is_integer(a[i]))
                                return call_fail(c, "cannot index slice/array with type %s",
                                                 tpl_type_name(a[i]));
                        k = json_integer_value(a[i]);
                        if (k < 0 || (size_t)k >= json_array_size(item))
                                return call_fail(c, "index out of range: %lld", k);
                        item = json_array_get(item, (size_t)k);
                } else if (json_is_string(item)) {
                        /* a byte, as Go indexes strings */
                        if (!json_is_integer(a[i]))
                                return call_fail(c, "cannot index slice/array with type %s",
                                                 tpl_type_name(a[i]));
                        k = json_integer_value(a[i]);
                        if (k < 0 || (size_t)k >= json_string_length(item))
                                return call_fail(c, "index out of range: %lld", k);
                        *ret = json_integer((unsigned char)json_string_value(item)[k]);
                        return 0;
                } else if (json_is_object(item)) {
                        if (!json_is_string(a[i]))
                                return call_fail(c, "value has type %s; should be string",
                                                 tpl_type_name(a[i]));
                        item = json_object_get(item, json_string_value(a[i]));
                } else {
                        return call_fail(c, "can't index item of type %s", tpl_type_name(item));
                }
        }
        *ret = item && !json_is_null(item) ? json_incref(item) : NULL;
        return 0;
}

/* slice ITEM [i [j]] of a string or an array. */
static int fn_slice(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        long long idx[2] = {0, 0};
        size_t len = 0;
        if (json_is_string(a[0]))
                len = json_string_length(a[0]);
        else if (json_is_array(a[0]))
                len = json_array_size(a[0]);
        else
                return call_fail(c, "can't slice item of type %s", tpl_type_name(a[0]));
        idx[1] = (long long)len;
        for (size_t i = 1; i < n && i < 3; i++) {
                if (!json_is_integer(a[i]))
                        return call_fail(c, "cannot index slice/array with type %s",
                                         tpl_type_name(a[i]));
                idx[i - 1] = json_integer_value(a[i]);
                if (idx[i - 1] < 0 || idx[i - 1] > (long long)len)
                        return call_fail(c, "index out of range: %lld", idx[i - 1]);
        }
        if (n > 3)
                return call_fail(c, "too many slice indexes: %zu", n - 1);
        if (idx[0] > idx[1])
                return call_fail(c, "invalid slice index: %lld > %lld", idx[0], idx[1]);
        if (json_is_string(a[0])) {
                *ret = json_stringn_nocheck(json_string_value(a[0]) + idx[0],
                                            (size_t)(idx[1] - idx[0]));
                return 0;
        }
        *ret = json_array();
        for (long long i = idx[0]; i < idx[1]; i++)
                json_array_append(*ret, json_array_get(a[0], (size_t)i));
        return 0;
}

/* fmt.Sprint: a space between operands when neither is a string. */
static int fn_print(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        struct tpl_buf b = {};
        bool ln = streq(c->func->name, "println");
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && (ln || (!json_is_string(a[i]) && !json_is_string(a[i - 1]))))
                        tpl_buf_putc(&b, ' ');
                tpl_fmt_value(&b, a[i]);
        }
        if (ln)
                tpl_buf_putc(&b, '\n');
        *ret = string_take(&b);
        return 0;
}

static int fn_printf(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        struct tpl_buf b = {};
        const char *f = NULL;
        size_t len = 0;
        if (arg_string(c, a[0], &f, &len) < 0)
                return -1;
        tpl_sprintf(&b, f, len, a + 1, n - 1);
        *ret = string_take(&b);
        return 0;
}

static int fn_json(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        struct tpl_buf b = {};
        (void)n;
        if (tpl_json_encode(&b, a[0], 0) < 0) {
                tpl_buf_done(&b);
                return call_fail(c, "json: exceeded max depth");
        }
        *ret = string_take(&b);
        return 0;
}

enum kind {
        KIND_NIL,
        KIND_BOOL,
        KIND_NUMBER,
        KIND_STRING,
        KIND_OTHER,
};

static enum kind kind_of(const json_t *v)
{
        if (!v || json_is_null(v))
                return KIND_NIL;
        if (json_is_boolean(v))
                return KIND_BOOL;
        if (json_is_number(v))
                return KIND_NUMBER;
        return json_is_string(v) ? KIND_STRING : KIND_OTHER;
}

/* Compares numbers (ints exactly) and strings: <0, 0, >0. */
static int compare(const json_t *x, const json_t *y)
{
        if (json_is_integer(x) && json_is_integer(y))
                return (json_integer_value(x) > json_integer_value(y))
                       - (json_integer_value(x) < json_integer_value(y));
        if (json_is_number(x))
                return (json_number_value(x) > json_number_value(y))
                       - (json_number_value(x) < json_number_value(y));
        return strcmp(json_string_value(x), json_string_value(y));
}

static int equal(struct tpl_call *c, const json_t *x, const json_t *y, bool *ret)
{
        enum kind kx = kind_of(x), ky = kind_of(y);
        if (kx == KIND_NIL || ky == KIND_NIL) {
                *ret = kx == ky;
                return 0;
        }
        if (kx != ky)
                return call_fail(c, "incompatible types for comparison");
        if (kx == KIND_OTHER)
                return call_fail(c, "non-comparable type %s", tpl_type_name(x));
        *ret = kx == KIND_BOOL ? json_is_true(x) == json_is_true(y) : compare(x, y) == 0;
        return 0;
}

static int less(struct tpl_call *c, const json_t *x, const json_t *y, bool *ret)
{
        enum kind kx = kind_of(x), ky = kind_of(y);
        if (kx != KIND_NUMBER && kx != KIND_STRING)
                return call_fail(c, "invalid type for comparison");
        if (ky != KIND_NUMBER && ky != KIND_STRING)
                return call_fail(c, "invalid type for comparison");
        if (kx != ky)
                return call_fail(c, "incompatible types for comparison");
        *ret = compare(x, y) < 0;
        return 0;
}

/* eq A B...: true if A equals any B; ne, lt, le, gt, ge compare two. */
static int fn_compare(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        const char *op = c->func->name;
        bool eq = false, lt = false;
        if (streq(op, "eq")) {
                if (n < 2)
                        return call_fail(c, "missing argument for comparison");
                for (size_t i = 1; i < n && !eq; i++)
                        if (equal(c, a[0], a[i], &eq) < 0)
                                return -1;
                *ret = json_boolean(eq);
                return 0;
        }
        if (streq(op, "ne")) {
                if (equal(c, a[0], a[1], &eq) < 0)
                        return -1;
                *ret = json_boolean(!eq);
                return 0;
        }
        if (less(c, a[0], a[1], &lt) < 0)
                return -1;
        eq = !lt && compare(a[0], a[1]) == 0;
        if (streq(op, "lt"))
                *ret = json_boolean(lt);
        else if (streq(op, "le"))
                *ret = json_boolean(lt || eq);
        else if (streq(op, "gt"))
                *ret = json_boolean(!lt && !eq);
        else
                *ret = json_boolean(!lt);
        return 0;
}

/* upper, lower, title (strings.Title: each letter after a separator), ASCII only. */
static int fn_case(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        const char *name = c->func->name, *s = NULL;
        size_t len = 0;
        bool sep = true;
        _cleanup_free_ char *out = NULL;
        (void)n;
        if (arg_string(c, a[0], &s, &len) < 0)
                return -1;
        out = xmalloc(len + 1);
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                if (streq(name, "upper") || (streq(name, "title") && sep))
                        out[i] = (char)toupper((unsigned char)ch);
                else if (streq(name, "lower"))
                        out[i] = (char)tolower((unsigned char)ch);
                else
                        out[i] = ch;
                sep = (unsigned char)ch < 0x80 && !isalnum((unsigned char)ch) && ch != '_';
        }
        *ret = json_stringn_nocheck(out, len);
        return 0;
}

/* join LIST SEP (strings.Join; elements that are not strings print as %v). */
static int fn_join(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        struct tpl_buf b = {};
        const char *sep = NULL;
        size_t sep_len = 0;
        (void)n;
        if (arg_string(c, a[1], &sep, &sep_len) < 0)
                return -1;
        if (a[0] && !json_is_null(a[0]) && !json_is_array(a[0]))
                return type_fail(c, a[0], "[]string");
        for (size_t i = 0; i < json_array_size(a[0]); i++) {
                json_t *e = json_array_get(a[0], i);
                if (i > 0)
                        tpl_buf_add(&b, sep, sep_len);
                if (json_is_string(e))
                        tpl_buf_add(&b, json_string_value(e), json_string_length(e));
                else
                        tpl_fmt_value(&b, e);
        }
        *ret = string_take(&b);
        return 0;
}

static const char *find(const char *s, size_t n, const char *sub, size_t sub_n)
{
        return sub_n == 0 ? s : memmem(s, n, sub, sub_n);
}

/* split S SEP (strings.Split: an empty SEP splits into UTF-8 characters). */
static int fn_split(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        const char *s = NULL, *sep = NULL, *hit = NULL;
        size_t len = 0, sep_len = 0;
        (void)n;
        if (arg_string(c, a[0], &s, &len) < 0 || arg_string(c, a[1], &sep, &sep_len) < 0)
                return -1;
        *ret = json_array();
        if (sep_len == 0) {
                for (size_t i = 0, k; i < len; i += k) {
                        k = tpl_utf8_len(s + i, len - i, NULL);
                        json_array_append_new(*ret, json_stringn_nocheck(s + i, k));
                }
                return 0;
        }
        while ((hit = find(s, len, sep, sep_len))) {
                json_array_append_new(*ret, json_stringn_nocheck(s, (size_t)(hit - s)));
                len -= (size_t)(hit - s) + sep_len;
                s = hit + sep_len;
        }
        json_array_append_new(*ret, json_stringn_nocheck(s, len));
        return 0;
}

/* truncate S N: the first N bytes (podman's truncateWithLength). */
static int fn_truncate(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        const char *s = NULL;
        size_t len = 0;
        long long k = 0;
        (void)n;
        if (arg_string(c, a[0], &s, &len) < 0 || arg_int(c, a[1], &k) < 0)
                return -1;
        if (k < 0)
                return call_fail(c, "runtime error: slice bounds out of range [:%lld]", k);
        *ret = json_stringn_nocheck(s, (size_t)k < len ? (size_t)k : len);
        return 0;
}

/* pad S PREFIX SUFFIX: S with that many spaces before and after (podman's padWithSpace). */
static int fn_pad(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        struct tpl_buf b = {};
        const char *s = NULL;
        size_t len = 0;
        long long pre = 0, post = 0;
        (void)n;
        if (arg_string(c, a[0], &s, &len) < 0 || arg_int(c, a[1], &pre) < 0
            || arg_int(c, a[2], &post) < 0)
                return -1;
        if (pre < 0 || post < 0 || pre > 1000000 || post > 1000000)
                return call_fail(c, "strings: negative Repeat count");
        tpl_buf_repeat(&b, ' ', (size_t)pre);
        tpl_buf_add(&b, s, len);
        tpl_buf_repeat(&b, ' ', (size_t)post);
        *ret = string_take(&b);
        return 0;
}

/* contains, hasPrefix, hasSuffix S SUB */
static int fn_match(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        const char *name = c->func->name, *s = NULL, *sub = NULL;
        size_t len = 0, sub_len = 0;
        bool match = false;
        (void)n;
        if (arg_string(c, a[0], &s, &len) < 0 || arg_string(c, a[1], &sub, &sub_len) < 0)
                return -1;
        if (sub_len > len)
                match = false;
        else if (streq(name, "hasPrefix"))
                match = memcmp(s, sub, sub_len) == 0;
        else if (streq(name, "hasSuffix"))
                match = memcmp(s + len - sub_len, sub, sub_len) == 0;
        else
                match = find(s, len, sub, sub_len) != NULL;
        *ret = json_boolean(match);
        return 0;
}

/* replace S OLD NEW [N]: strings.Replace, every match unless N >= 0 is given. */
static int fn_replace(struct tpl_call *c, json_t **a, size_t n, json_t **ret)
{
        struct tpl_buf b = {};
        const char *s = NULL, *old = NULL, *new = NULL;
        size_t len = 0, old_len = 0, new_len = 0, start = 0;
        long long count = -1, max = 0;
        if (arg_string(c, a[0], &s, &len) < 0 || arg_string(c, a[1], &old, &old_len) < 0
            || arg_string(c, a[2], &new, &new_len) < 0 || (n > 3 && arg_int(c, a[3], &count) < 0))
                return -1;
        /* An empty OLD matches before each rune and at the end. */
        max = old_len == 0 ? (long long)tpl_utf8_count(s, len) + 1 : (long long)len + 1;
        if (count < 0 || count > max)
                count = max;
        tpl_buf_add(&b, "", 0);
        for (long long i = 0; i < count; i++) {
                size_t j = start;
                if (old_len == 0 && i > 0)
                        j += tpl_utf8_len(s + start, len - start, NULL);
                else if (old_len > 0) {
                        const char *hit = find(s + start, len - start, old, old_len);
                        if (!hit)
                                break;
                        j = (size_t)(hit - s);
                }
                tpl_buf_add(&b, s + start, j - start);
                tpl_buf_add(&b, new, new_len);
                start = j + old_len;
        }
        tpl_buf_add(&b, s + start, len - start);
        *ret = string_take(&b);
        return 0;
}

static const struct tpl_func funcs[] = {
        {"and", 1, -1, NULL},          {"contains", 2, 2, fn_match},
        {"eq", 1, -1, fn_compare},     {"ge", 2, 2, fn_compare},
        {"gt", 2, 2, fn_compare},      {"hasPrefix", 2, 2, fn_match},
        {"hasSuffix", 2, 2, fn_match}, {"index", 1, -1, fn_index},
        {"join", 2, 2, fn_join},       {"json", 1, 1, fn_json},
        {"le", 2, 2, fn_compare},      {"len", 1, 1, fn_len},
        {"lower", 1, 1, fn_case},      {"lt", 2, 2, fn_compare},
        {"ne", 2, 2, fn_compare},      {"not", 1, 1, fn_not},
        {"or", 1, -1, NULL},           {"pad", 3, 3, fn_pad},
        {"print", 0, -1, fn_print},    {"printf", 1, -1, fn_printf},
        {"println", 0, -1, fn_print},  {"replace", 3, 4, fn_replace},
        {"slice", 1, -1, fn_slice},    {"split", 2, 2, fn_split},
        {"title", 1, 1, fn_case},      {"truncate", 2, 2, fn_truncate},
        {"upper", 1, 1, fn_case},
};

const struct tpl_func *tpl_func_lookup(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(funcs); i++)
                if (streq(funcs[i].name, name))
                        return &funcs[i];
        return NULL;
}

bool tpl_func_is_lazy(const struct tpl_func *f, bool *ret_is_and)
{
        *ret_is_and = streq(f->name, "and");
        return f->fn == NULL;
}
