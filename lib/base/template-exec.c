/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evaluation of a parsed template (Go's text/template/exec.go) over JSON.
 * Values are owned json_t references; NULL is Go's "no value" (a missing
 * key, or a JSON null reached through a field, index or range).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "template-internal.h"
#include "util.h"

enum {
        WALK_BREAK = 1,
        WALK_CONTINUE = 2,
};

struct var {
        const char *name;
        json_t *value;
};

struct state {
        const struct pea_template *t;
        FILE *out;
        struct var *vars;
        size_t n_vars;
        size_t cap_vars;
        struct pea_error **err;
};

static int walk(struct state *s, json_t *dot, const struct tpl_node *n);
static int eval_pipeline(struct state *s, json_t *dot, const struct tpl_node *pipe, json_t **ret);
static int eval_arg(struct state *s, json_t *dot, const struct tpl_node *n, json_t **ret);

/* "template: :1:2: executing "" at <.Foo>: ...", as Go words it. */
static _printf_(3, 4) int exec_fail(struct state *s, const struct tpl_node *at, const char *fmt,
                                    ...)
{
        _cleanup_free_ char *msg = NULL;
        size_t len = at->end > at->ctx_pos ? at->end - at->ctx_pos : 0;
        int line = 0, col = 0;
        va_list ap;
        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);
        tpl_position(s->t->src, at->pos, &line, &col);
        return pea_error_set(s->err, EINVAL, "template: :%d:%d: executing \"\" at <%.*s%s>: %s",
                             line, col, (int)(len > 20 ? 20 : len), s->t->src + at->ctx_pos,
                             len > 20 ? "..." : "", msg);
}

/* A JSON null read from the data is Go's nil interface, which prints <no value>. */
static json_t *value_ref(json_t *v)
{
        return v && !json_is_null(v) ? json_incref(v) : NULL;
}

static void push_var(struct state *s, const char *name, json_t *value)
{
        if (s->n_vars == s->cap_vars) {
                s->cap_vars = s->cap_vars ? s->cap_vars * 2 : 8;
                s->vars = xrealloc(s->vars, s->cap_vars * sizeof(*s->vars));
        }
        s->vars[s->n_vars++] = (struct var){name, value_ref(value)};
}

static void pop_vars(struct state *s, size_t mark)
{
        while (s->n_vars > mark)
                json_decref(s->vars[--s->n_vars].value);
}

static struct var *find_var(struct state *s, const char *name)
{
        for (size_t i = s->n_vars; i > 0; i--)
                if (streq(s->vars[i - 1].name, name))
                        return &s->vars[i - 1];
        return NULL;
}

static int set_var(struct state *s, const struct tpl_node *at, const char *name, json_t *value)
{
        struct var *v = find_var(s, name);
        if (!v)
                return exec_fail(s, at, "undefined variable: %s", name);
        json_decref(v->value);
        v->value = value_ref(value);
        return 0;
}

/* Compares ignoring case and '_', so a Go field HostID finds the JSON key "host_id". */
static bool key_matches_loosely(const char *k, const char *key)
{
        for (;;) {
                while (*k == '_')
                        k++;
                while (*key == '_')
                        key++;
                if (!*k || !*key)
                        return !*k && !*key;
                if (tolower((unsigned char)*k) != tolower((unsigned char)*key))
                        return false;
                k++;
                key++;
        }
}

/* Exact key first, then case-insensitive, then also ignoring underscores. */
static json_t *object_lookup(json_t *obj, const char *key)
{
        const char *k = NULL;
        json_t *v = json_object_get(obj, key);
        if (v)
                return v;
        json_object_foreach(obj, k, v)
                if (strcasecmp(k, key) == 0)
                        return v;
        json_object_foreach(obj, k, v)
                if (key_matches_loosely(k, key))
                        return v;
        return NULL;
}

/* .A.B.C from receiver; has_args: the command gave arguments to the last field. */
static int eval_fields(struct state *s, const struct tpl_node *at, json_t *receiver, char **idents,
                       size_t n, bool has_args, json_t **ret)
{
        json_t *r = receiver;
        for (size_t i = 0; i < n; i++) {
                if (!r || json_is_null(r)) {
                        *ret = NULL;
                        return 0;
                }
                if (!json_is_object(r))
                        return exec_fail(s, at, "can't evaluate field %s in type %s", idents[i],
                                         tpl_type_name(r));
                if (i == n - 1 && has_args)
                        return exec_fail(s, at, "%s is not a method but has arguments", idents[i]);
                r = object_lookup(r, idents[i]);
        }
        *ret = value_ref(r);
        return 0;
}

static int eval_variable(struct state *s, const struct tpl_node *n, bool has_args, json_t **ret)
{
        struct var *v = find_var(s, n->text);
        if (!v)
                return exec_fail(s, n, "undefined variable: %s", n->text);
        if (n->n_idents == 0) {
                if (has_args)
                        return exec_fail(s, n, "can't give argument to non-function %s", n->text);
                *ret = value_ref(v->value);
                return 0;
        }
        return eval_fields(s, n, v->value, n->idents, n->n_idents, has_args, ret);
}

/* (pipeline).A.B or function.A.B */
static int eval_chain(struct state *s, json_t *dot, const struct tpl_node *n, bool has_args,
                      json_t **ret)
{
        _cleanup_json_ json_t *base = NULL;
        int r = eval_arg(s, dot, n->pipe, &base);
        if (r < 0)
                return r;
        return eval_fields(s, n, base, n->idents, n->n_idents, has_args, ret);
}

/* and/or: arguments are evaluated only until the result is known. */
static int eval_lazy(struct state *s, json_t *dot, struct tpl_node **args, size_t n, json_t *final,
                     bool has_final, bool is_and, json_t **ret)
{
        size_t total = n + has_final;
        json_t *v = NULL;
        for (size_t i = 0; i < total; i++) {
                json_decref(v);
                v = NULL;
                if (i < n) {
                        int r = eval_arg(s, dot, args[i], &v);
                        if (r < 0)
                                return r;
                } else {
                        v = value_ref(final);
                }
                if (tpl_truth(v) != is_and)
                        break;
        }
        *ret = v;
        return 0;
}

static int check_arg_count(struct state *s, const struct tpl_node *at, const struct tpl_func *f,
                           size_t n)
{
        if ((int)n < f->min_args && f->max_args < 0)
                return exec_fail(s, at, "wrong number of args for %s: want at least %d got %zu",
                                 f->name, f->min_args, n);
        if ((int)n < f->min_args || (f->max_args >= 0 && (int)n > f->max_args))
                return exec_fail(s, at, "wrong number of args for %s: want %d got %zu", f->name,
                                 (int)n < f->min_args ? f->min_args : f->max_args, n);
        return 0;
}

/* Where a failed call is reported: the bad argument, or else the command. */
static const struct tpl_node *call_context(const struct tpl_call *c, const struct tpl_node *at,
                                           struct tpl_node **args, size_t n, json_t **argv)
{
        for (size_t i = 0; c->bad_arg && i < n; i++)
                if (argv[i] == c->bad)
                        return args[i];
        return at;
}

static int eval_call(struct state *s, json_t *dot, const struct tpl_node *at,
                     const struct tpl_func *f, struct tpl_node **args, size_t n, json_t *final,
                     bool has_final, json_t **ret)
{
        size_t total = n + has_final, done = 0;
        json_t **argv = NULL;
        struct tpl_call c = {.func = f};
        bool is_and = false;
        int r = check_arg_count(s, at->type == TPL_COMMAND ? at->kids[0] : at, f, total);
        if (r < 0)
                return r;
        if (tpl_func_is_lazy(f, &is_and))
                return eval_lazy(s, dot, args, n, final, has_final, is_and, ret);
        argv = xcalloc(total + 1, sizeof(*argv));
        for (; done < n && r >= 0; done++)
                r = eval_arg(s, dot, args[done], &argv[done]);
        if (r >= 0 && has_final)
                argv[done++] = value_ref(final);
        if (r >= 0 && f->fn(&c, argv, total, ret) < 0)
                r = exec_fail(s, call_context(&c, at, args, n, argv), "%s", c.msg);
        for (size_t i = 0; i < done; i++)
                json_decref(argv[i]);
        free(argv);
        free(c.msg);
        return r;
}

static int not_a_function(struct state *s, const struct tpl_node *cmd, bool has_final)
{
        const struct tpl_node *first = cmd->kids[0];
        if (cmd->n_kids > 1 || has_final)
                return exec_fail(s, first, "can't give argument to non-function %.*s",
                                 (int)(first->end - first->pos), s->t->src + first->pos);
        return 0;
}

static int eval_command(struct state *s, json_t *dot, const struct tpl_node *cmd, json_t *final,
                        bool has_final, json_t **ret)
{
        const struct tpl_node *first = cmd->kids[0];
        bool has_args = cmd->n_kids > 1 || has_final;
        int r = 0;
        switch (first->type) {
        case TPL_FIELD:
                return eval_fields(s, first, dot, first->idents, first->n_idents, has_args, ret);
        case TPL_CHAIN:
                return eval_chain(s, dot, first, has_args, ret);
        case TPL_VARIABLE:
                return eval_variable(s, first, has_args, ret);
        case TPL_IDENT:
                return eval_call(s, dot, cmd, first->func, cmd->kids + 1, cmd->n_kids - 1, final,
                                 has_final, ret);
        default:
                break;
        }
        r = not_a_function(s, cmd, has_final);
        if (r < 0)
                return r;
        if (first->type == TPL_NIL)
                return exec_fail(s, first, "nil is not a command");
        if (first->type == TPL_PIPE)
                return eval_pipeline(s, dot, first, ret);
        *ret = value_ref(first->type == TPL_DOT ? dot : first->value);
        return 0;
}

/* An argument of a function. */
static int eval_arg(struct state *s, json_t *dot, const struct tpl_node *n, json_t **ret)
{
        switch (n->type) {
        case TPL_DOT:
                *ret = value_ref(dot);
                return 0;
        case TPL_NIL:
                *ret = NULL;
                return 0;
        case TPL_FIELD:
                return eval_fields(s, n, dot, n->idents, n->n_idents, false, ret);
        case TPL_VARIABLE:
                return eval_variable(s, n, false, ret);
        case TPL_PIPE:
                return eval_pipeline(s, dot, n, ret);
        case TPL_IDENT:
                return eval_call(s, dot, n, n->func, NULL, 0, NULL, false, ret);
        case TPL_CHAIN:
                return eval_chain(s, dot, n, false, ret);
        default:
                *ret = value_ref(n->value);
                return 0;
        }
}

static int eval_pipeline(struct state *s, json_t *dot, const struct tpl_node *pipe, json_t **ret)
{
        json_t *val = NULL;
        for (size_t i = 0; i < pipe->n_kids; i++) {
                json_t *next = NULL;
                int r = eval_command(s, dot, pipe->kids[i], val, i > 0, &next);
                json_decref(val);
                if (r < 0)
                        return r;
                val = next;
        }
        if (json_is_null(val)) {
                json_decref(val);
                val = NULL;
        }
        for (size_t i = 0; i < pipe->n_decls; i++) {
                if (!pipe->is_assign) {
                        push_var(s, pipe->decls[i], val);
                } else if (set_var(s, pipe, pipe->decls[i], val) < 0) {
                        json_decref(val);
                        return -EINVAL;
                }
        }
        *ret = val;
        return 0;
}

static int print_value(struct state *s, const json_t *v)
{
        _cleanup_tpl_buf_ struct tpl_buf b = {};
        if (!v)
                tpl_buf_puts(&b, "<no value>");
        else
                tpl_fmt_value(&b, v);
        if (b.len > 0 && fwrite(b.s, 1, b.len, s->out) != b.len)
                return pea_error_set(s->err, EIO, "template: writing output failed");
        return 0;
}

static int walk_if_with(struct state *s, json_t *dot, const struct tpl_node *n)
{
        size_t mark = s->n_vars;
        _cleanup_json_ json_t *val = NULL;
        int r = eval_pipeline(s, dot, n->pipe, &val);
        if (r >= 0) {
                if (tpl_truth(val))
                        r = walk(s, n->type == TPL_WITH ? val : dot, n->list);
                else if (n->else_list)
                        r = walk(s, dot, n->else_list);
        }
        pop_vars(s, mark);
        return r;
}

static int range_once(struct state *s, const struct tpl_node *n, json_t *index, json_t *elem)
{
        const struct tpl_node *pipe = n->pipe;
        size_t mark = s->n_vars;
        int r = 0;
        if (pipe->n_decls == 1)
                r = set_var(s, pipe, pipe->decls[0], elem);
        else if (pipe->n_decls == 2)
                r = set_var(s, pipe, pipe->decls[0], index) < 0
                            ? -EINVAL
                            : set_var(s, pipe, pipe->decls[1], elem);
        if (r >= 0)
                r = walk(s, elem && !json_is_null(elem) ? elem : NULL, n->list);
        pop_vars(s, mark);
        return r == WALK_CONTINUE ? 0 : r;
}

static int compare_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Objects iterate in sorted key order, as Go's maps do. */
static int range_object(struct state *s, const struct tpl_node *n, json_t *obj)
{
        size_t count = json_object_size(obj), i = 0;
        _cleanup_free_ const char **keys = xcalloc(count + 1, sizeof(*keys));
        const char *k = NULL;
        json_t *v = NULL;
        int r = 0;
        json_object_foreach(obj, k, v)
                keys[i++] = k;
        qsort(keys, count, sizeof(*keys), compare_keys);
        for (i = 0; i < count && r == 0; i++) {
                _cleanup_json_ json_t *key = json_string(keys[i]);
                r = range_once(s, n, key, json_object_get(obj, keys[i]));
        }
        return r;
}

static int walk_range(struct state *s, json_t *dot, const struct tpl_node *n)
{
        size_t mark = s->n_vars;
        _cleanup_json_ json_t *val = NULL;
        bool empty = true;
        int r = eval_pipeline(s, dot, n->pipe, &val);
        if (r >= 0 && json_is_array(val)) {
                empty = json_array_size(val) == 0;
                for (size_t i = 0; i < json_array_size(val) && r == 0; i++) {
                        _cleanup_json_ json_t *index = json_integer((json_int_t)i);
                        r = range_once(s, n, index, json_array_get(val, i));
                }
        } else if (r >= 0 && json_is_object(val)) {
                empty = json_object_size(val) == 0;
                r = range_object(s, n, val);
        } else if (r >= 0 && val) {
                _cleanup_tpl_buf_ struct tpl_buf b = {};
                tpl_fmt_value(&b, val);
                r = exec_fail(s, n, "range can't iterate over %s", b.s);
        }
        if (r == WALK_BREAK)
                r = 0;
        if (r == 0 && empty && n->else_list)
                r = walk(s, dot, n->else_list);
        pop_vars(s, mark);
        return r;
}

static int walk_action(struct state *s, json_t *dot, const struct tpl_node *n)
{
        _cleanup_json_ json_t *val = NULL;
        int r = eval_pipeline(s, dot, n->pipe, &val);
        if (r < 0 || n->pipe->n_decls > 0)
                return r;
        return print_value(s, val);
}

/* Returns 0, a negative errno, or WALK_BREAK/WALK_CONTINUE inside a range. */
static int walk(struct state *s, json_t *dot, const struct tpl_node *n)
{
        switch (n->type) {
        case TPL_LIST:
                for (size_t i = 0; i < n->n_kids; i++) {
                        int r = walk(s, dot, n->kids[i]);
                        if (r != 0)
                                return r;
                }
                return 0;
        case TPL_TEXT:
                if (fwrite(n->text, 1, n->len, s->out) != n->len)
                        return pea_error_set(s->err, EIO, "template: writing output failed");
                return 0;
        case TPL_ACTION:
                return walk_action(s, dot, n);
        case TPL_IF:
        case TPL_WITH:
                return walk_if_with(s, dot, n);
        case TPL_RANGE:
                return walk_range(s, dot, n);
        case TPL_BREAK:
                return WALK_BREAK;
        case TPL_CONTINUE:
                return WALK_CONTINUE;
        default:
                return exec_fail(s, n, "unknown node");
        }
}

int tpl_exec(const struct pea_template *t, json_t *data, FILE *out, struct pea_error **err)
{
        struct state s = {.t = t, .out = out, .err = err};
        int r = 0;
        push_var(&s, "$", data);
        r = walk(&s, json_is_null(data) ? NULL : data, t->root);
        pop_vars(&s, 0);
        free(s.vars);
        return r < 0 ? r : 0;
}
