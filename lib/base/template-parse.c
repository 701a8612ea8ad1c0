/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parser of Go's text/template (text/template/parse/parse.go) over the
 * tokens of template-lex.c. Nodes are owned by the template, so an error can
 * simply stop: everything allocated so far is freed with the template.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "template-internal.h"
#include "util.h"

struct parser {
        struct pea_template *t;
        struct tpl_token *toks;
        size_t n;
        size_t i;
        const char **vars; /* names in scope, borrowed from the tokens */
        size_t n_vars;
        size_t cap_vars;
        int depth;
        int range_depth;
        size_t ldelim_pos; /* of the action being parsed */
        char *msg;         /* the first error */
        size_t err_pos;
};

static struct tpl_node *pipeline(struct parser *p, const char *context, enum tpl_tok_type end);
static struct tpl_node *item_list(struct parser *p, struct tpl_node **ret_next);
static struct tpl_node *control(struct parser *p, enum tpl_node_type type, size_t pos);

static _printf_(3, 4) void *perr(struct parser *p, size_t pos, const char *fmt, ...)
{
        if (!p->msg) {
                va_list ap;
                va_start(ap, fmt);
                p->msg = xvasprintf(fmt, ap);
                va_end(ap);
                p->err_pos = pos;
        }
        return NULL;
}

/* Past the end, the final token (EOF or ERROR) repeats. */
static struct tpl_token *peek(struct parser *p)
{
        return &p->toks[p->i < p->n ? p->i : p->n - 1];
}

static struct tpl_token *next(struct parser *p)
{
        struct tpl_token *tok = peek(p);
        p->i++;
        return tok;
}

static void backup(struct parser *p)
{
        p->i--;
}

static struct tpl_token *next_non_space(struct parser *p)
{
        struct tpl_token *tok = NULL;
        do
                tok = next(p);
        while (tok->type == TPL_T_SPACE);
        return tok;
}

static struct tpl_token *peek_non_space(struct parser *p)
{
        struct tpl_token *tok = next_non_space(p);
        backup(p);
        return tok;
}

static struct tpl_node *node_new(struct parser *p, enum tpl_node_type type, size_t pos)
{
        struct pea_template *t = p->t;
        struct tpl_node *n = xcalloc(1, sizeof(*n));
        n->type = type;
        n->pos = n->ctx_pos = n->end = pos;
        if (t->n_nodes == t->cap_nodes) {
                t->cap_nodes = t->cap_nodes ? t->cap_nodes * 2 : 32;
                t->nodes = xrealloc(t->nodes, t->cap_nodes * sizeof(*t->nodes));
        }
        t->nodes[t->n_nodes++] = n;
        return n;
}

static void append_kid(struct tpl_node *n, struct tpl_node *kid)
{
        n->kids = xrealloc(n->kids, (n->n_kids + 1) * sizeof(*n->kids));
        n->kids[n->n_kids++] = kid;
        if (kid->end > n->end)
                n->end = kid->end;
}

static void append_str(char ***l, size_t *n, const char *s, size_t len)
{
        *l = xrealloc(*l, (*n + 1) * sizeof(**l));
        (*l)[(*n)++] = xstrndup(s, len);
}

static void push_var(struct parser *p, const char *name)
{
        if (p->n_vars == p->cap_vars) {
                p->cap_vars = p->cap_vars ? p->cap_vars * 2 : 8;
                p->vars = xrealloc(p->vars, p->cap_vars * sizeof(*p->vars));
        }
        p->vars[p->n_vars++] = name;
}

static void set_end(struct tpl_node *n, const struct tpl_token *tok)
{
        n->end = tok->pos + tok->len;
}

/* Go's item.String(), for "unexpected ..." messages. */
static char *token_string(const struct tpl_token *tok)
{
        _cleanup_tpl_buf_ struct tpl_buf b = {};
        if (tok->type == TPL_T_EOF)
                return xstrdup("EOF");
        if (tok->type == TPL_T_ERROR)
                return xstrdup(tok->val);
        if (tok->type > TPL_T_KEYWORD)
                return xasprintf("<%s>", tok->val);
        if (tpl_utf8_count(tok->val, tok->len) > 10) {
                size_t n = 0;
                for (int k = 0; k < 10; k++)
                        n += tpl_utf8_len(tok->val + n, tok->len - n, NULL);
                tpl_quote(&b, tok->val, n);
                tpl_buf_puts(&b, "...");
        } else {
                tpl_quote(&b, tok->val, tok->len);
        }
        return tpl_buf_steal(&b);
}

static void *unexpected(struct parser *p, const struct tpl_token *tok, const char *context)
{
        _cleanup_free_ char *s = token_string(tok);
        if (tok->type == TPL_T_ERROR)
                return perr(p, tok->pos, "%s", s);
        return perr(p, tok->pos, "unexpected %s in %s", s, context);
}

static bool use_var(struct parser *p, const struct tpl_token *tok)
{
        for (size_t i = p->n_vars; i > 0; i--)
                if (streq(p->vars[i - 1], tok->val))
                        return true;
        perr(p, tok->pos, "undefined variable \"%s\"", tok->val);
        return false;
}

static int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* One escape after a backslash at s[*i] (strconv.UnquoteChar); -1 if invalid. */
static long unescape(const char *s, size_t n, size_t *i, char quote, bool *ret_byte)
{
        static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\";
        int digits = 0, base = 16;
        long v = 0;
        char c = s[(*i)++];
        *ret_byte = false;
        for (size_t k = 0; simple[k]; k += 2)
                if (c == simple[k])
                        return simple[k + 1];
        if (c == '\'' || c == '"')
                return c == quote ? c : -1;
        if (c == 'x' || (c >= '0' && c <= '7')) {
                *ret_byte = true;
                digits = c == 'x' ? 2 : 3;
                base = c == 'x' ? 16 : 8;
                if (c != 'x')
                        (*i)--;
        } else if (c == 'u' || c == 'U') {
                digits = c == 'u' ? 4 : 8;
        } else {
                return -1;
        }
        for (int k = 0; k < digits; k++, (*i)++) {
                int d = *i < n ? hex_value(s[*i]) : -1;
                if (d < 0 || d >= base)
                        return -1;
                v = v * base + d;
        }
        if (v > (*ret_byte ? 255 : 0x10FFFF) || (!*ret_byte && v >= 0xD800 && v < 0xE000))
                return -1;
        return v;
}

/* strconv.Unquote of a "..." or `...` literal. */
static json_t *parse_string(struct parser *p, const struct tpl_token *tok)
{
        _cleanup_tpl_buf_ struct tpl_buf b = {};
        const char *s = tok->val + 1;
        size_t n = tok->len - 2;
        tpl_buf_puts(&b, "");
        for (size_t i = 0; i < n;) {
                bool byte = false;
                long v = 0;
                if (tok->type == TPL_T_RAWSTRING || s[i] != '\\') {
                        if (s[i] != '\r' || tok->type != TPL_T_RAWSTRING)
                                tpl_buf_putc(&b, s[i]);
                        i++;
                        continue;
                }
                i++;
                v = unescape(s, n, &i, '"', &byte);
                if (v < 0)
                        return perr(p, tok->pos, "invalid syntax");
                if (byte)
                        tpl_buf_putc(&b, (char)v);
                else
                        tpl_utf8_put(&b, (unsigned)v);
        }
        return json_stringn_nocheck(b.s, b.len);
}

/* A character constant: its rune. */
static json_t *parse_char(struct parser *p, const struct tpl_token *tok)
{
        const char *s = tok->val + 1;
        size_t n = tok->len - 2, i = 0;
        unsigned r = 0;
        long v = 0;
        bool byte = false;
        if (n > 0 && s[0] == '\\') {
                i = 1;
                v = unescape(s, n, &i, '\'', &byte);
        } else if (n > 0) {
                i = tpl_utf8_len(s, n, &r);
                v = r;
        } else {
                v = -1;
        }
        if (v < 0 || i != n)
                return perr(p, tok->pos, "malformed character constant: %s", tok->val);
        return json_integer(v);
}

/* An integer if the text is one (Go's ParseInt with base 0), else NULL. */
static json_t *parse_int(struct parser *p, const struct tpl_token *tok, const char *s, bool *fail)
{
        const char *d = s + (*s == '+' || *s == '-');
        bool neg = *s == '-';
        int base = 10;
        char *e = NULL;
        unsigned long long u = 0;
        if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
                base = 16, d += 2;
        else if (d[0] == '0' && (d[1] == 'o' || d[1] == 'O'))
                base = 8, d += 2;
        else if (d[0] == '0' && (d[1] == 'b' || d[1] == 'B'))
                base = 2, d += 2;
        else if (d[0] == '0' && d[1])
                base = 8, d += 1;
        if (hex_value(*d) < 0 || hex_value(*d) >= base)
                return NULL;
        errno = 0;
        u = strtoull(d, &e, base);
        if (*e)
                return NULL;
        if (errno == ERANGE || u > (unsigned long long)LLONG_MAX + neg) {
                *fail = true;
                return perr(p, tok->pos, "%s overflows int", tok->val);
        }
        return json_integer(neg ? (long long)(0 - u) : (long long)u);
}

static json_t *parse_number(struct parser *p, const struct tpl_token *tok)
{
        _cleanup_free_ char *s = xmalloc(tok->len + 1);
        size_t n = 0;
        char *e = NULL;
        bool fail = false;
        double f = 0;
        json_t *v = NULL;
        if (tok->type == TPL_T_CHARCONST)
                return parse_char(p, tok);
        for (size_t i = 0; i < tok->len; i++)
                if (tok->val[i] != '_')
                        s[n++] = tok->val[i];
        s[n] = '\0';
        v = parse_int(p, tok, s, &fail);
        if (v || fail)
                return v;
        errno = 0;
        f = strtod(s, &e);
        if (n == 0 || *e || errno == ERANGE || !(v = json_real(f)))
                return perr(p, tok->pos, "illegal number syntax: \"%s\"", tok->val);
        /* An integral float without a dot or exponent is an int, as in Go. */
        if (!strpbrk(s, ".eEpP") && f >= (double)LLONG_MIN && f < (double)LLONG_MAX
            && (double)(long long)f == f) {
                json_decref(v);
                v = json_integer((long long)f);
        }
        return v;
}

static struct tpl_node *paren_pipeline(struct parser *p, const struct tpl_token *lparen)
{
        struct tpl_node *pipe = NULL;
        if (++p->depth > TPL_MAX_NESTING)
                return perr(p, lparen->pos, "max nesting depth exceeded");
        pipe = pipeline(p, "parenthesized pipeline", TPL_T_RPAREN);
        p->depth--;
        if (pipe) {
                pipe->pos = pipe->ctx_pos = lparen->pos;
                set_end(pipe, &p->toks[p->i - 1]);
        }
        return pipe;
}

static struct tpl_node *literal(struct parser *p, struct tpl_token *tok, enum tpl_node_type type)
{
        struct tpl_node *n = node_new(p, type, tok->pos);
        set_end(n, tok);
        if (type == TPL_BOOL)
                n->value = json_boolean(streq(tok->val, "true"));
        else if (type == TPL_NUMBER)
                n->value = parse_number(p, tok);
        else
                n->value = parse_string(p, tok);
        return n->value ? n : NULL;
}

/* A literal, function name, ., .Field, $x or (pipeline); NULL if none. */
static struct tpl_node *term(struct parser *p)
{
        struct tpl_token *tok = next_non_space(p);
        struct tpl_node *n = NULL;
        switch (tok->type) {
        case TPL_T_IDENT:
                n = node_new(p, TPL_IDENT, tok->pos);
                n->text = xstrdup(tok->val);
                n->func = tpl_func_lookup(tok->val);
                if (!n->func)
                        return perr(p, tok->pos, "function \"%s\" not defined", tok->val);
                break;
        case TPL_T_DOT:
        case TPL_T_NIL:
                n = node_new(p, tok->type == TPL_T_DOT ? TPL_DOT : TPL_NIL, tok->pos);
                break;
        case TPL_T_VARIABLE:
                if (!use_var(p, tok))
                        return NULL;
                n = node_new(p, TPL_VARIABLE, tok->pos);
                n->text = xstrdup(tok->val);
                break;
        case TPL_T_FIELD:
                n = node_new(p, TPL_FIELD, tok->pos);
                append_str(&n->idents, &n->n_idents, tok->val + 1, tok->len - 1);
                break;
        case TPL_T_BOOL:
                return literal(p, tok, TPL_BOOL);
        case TPL_T_CHARCONST:
        case TPL_T_NUMBER:
                return literal(p, tok, TPL_NUMBER);
        case TPL_T_STRING:
        case TPL_T_RAWSTRING:
                return literal(p, tok, TPL_STRING);
        case TPL_T_LPAREN:
                return paren_pipeline(p, tok);
        default:
                backup(p);
                return NULL;
        }
        set_end(n, tok);
        return n;
}

/* A term and the .Field accesses after it. */
static struct tpl_node *operand(struct parser *p)
{
        struct tpl_node *n = term(p), *chain = NULL;
        if (!n || peek(p)->type != TPL_T_FIELD)
                return n;
        switch (n->type) {
        case TPL_FIELD:
        case TPL_VARIABLE:
                chain = n;
                break;
        case TPL_IDENT:
        case TPL_PIPE:
                chain = node_new(p, TPL_CHAIN, n->pos);
                chain->pipe = n;
                break;
        default:
                return perr(p, n->pos, "unexpected . after term \"%.*s\"", (int)(n->end - n->pos),
                            p->t->src + n->pos);
        }
        while (peek(p)->type == TPL_T_FIELD) {
                struct tpl_token *tok = next(p);
                append_str(&chain->idents, &chain->n_idents, tok->val + 1, tok->len - 1);
                set_end(chain, tok);
        }
        return chain;
}

/* Space-separated operands up to a '|' (consumed) or a closing delimiter (not). */
static struct tpl_node *command(struct parser *p)
{
        struct tpl_node *cmd = node_new(p, TPL_COMMAND, peek_non_space(p)->pos);
        for (;;) {
                struct tpl_node *op = NULL;
                struct tpl_token *tok = NULL;
                (void)peek_non_space(p);
                op = operand(p);
                if (p->msg)
                        return NULL;
                if (op)
                        append_kid(cmd, op);
                tok = next(p);
                if (tok->type == TPL_T_SPACE)
                        continue;
                if (tok->type == TPL_T_RDELIM || tok->type == TPL_T_RPAREN)
                        backup(p);
                else if (tok->type != TPL_T_PIPE)
                        return unexpected(p, tok, "operand");
                break;
        }
        if (cmd->n_kids == 0)
                return perr(p, cmd->pos, "empty command");
        return cmd;
}

/* "$x :=", "$x =" or, in a range, "$i, $e :=". */
static bool declarations(struct parser *p, struct tpl_node *pipe, const char *context)
{
        for (;;) {
                size_t save = p->i;
                struct tpl_token *v = peek_non_space(p), *tok;
                if (v->type != TPL_T_VARIABLE)
                        return true;
                (void)next(p);
                tok = next_non_space(p);
                if (tok->type == TPL_T_ASSIGN || tok->type == TPL_T_DECLARE) {
                        pipe->is_assign = tok->type == TPL_T_ASSIGN;
                        append_str(&pipe->decls, &pipe->n_decls, v->val, v->len);
                        push_var(p, v->val);
                        return true;
                }
                if (tok->type != TPL_T_CHAR || !streq(tok->val, ",")) {
                        p->i = save;
                        return true;
                }
                append_str(&pipe->decls, &pipe->n_decls, v->val, v->len);
                push_var(p, v->val);
                if (!streq(context, "range") || pipe->n_decls >= 2)
                        return perr(p, tok->pos, "too many declarations in %s", context);
                tok = peek_non_space(p);
                if (tok->type != TPL_T_VARIABLE && tok->type != TPL_T_RDELIM
                    && tok->type != TPL_T_RPAREN)
                        return perr(p, tok->pos, "range can only initialize variables");
        }
}

static struct tpl_node *check_pipeline(struct parser *p, struct tpl_node *pipe, const char *context,
                                       const struct tpl_token *end)
{
        if (pipe->n_kids == 0)
                return perr(p, end->pos, "missing value for %s", context);
        for (size_t i = 1; i < pipe->n_kids; i++) {
                enum tpl_node_type type = pipe->kids[i]->kids[0]->type;
                if (type == TPL_BOOL || type == TPL_DOT || type == TPL_NIL || type == TPL_NUMBER
                    || type == TPL_STRING)
                        return perr(p, pipe->kids[i]->pos,
                                    "non executable command in pipeline stage %zu", i + 1);
        }
        return pipe;
}

static struct tpl_node *pipeline(struct parser *p, const char *context, enum tpl_tok_type end)
{
        struct tpl_node *pipe = node_new(p, TPL_PIPE, peek_non_space(p)->pos);
        if (!declarations(p, pipe, context))
                return NULL;
        for (;;) {
                struct tpl_token *tok = next_non_space(p);
                struct tpl_node *cmd = NULL;
                if (tok->type == end)
                        return check_pipeline(p, pipe, context, tok);
                switch (tok->type) {
                case TPL_T_BOOL:
                case TPL_T_CHARCONST:
                case TPL_T_DOT:
                case TPL_T_FIELD:
                case TPL_T_IDENT:
                case TPL_T_NUMBER:
                case TPL_T_NIL:
                case TPL_T_RAWSTRING:
                case TPL_T_STRING:
                case TPL_T_VARIABLE:
                case TPL_T_LPAREN:
                        backup(p);
                        cmd = command(p);
                        if (!cmd)
                                return NULL;
                        append_kid(pipe, cmd);
                        break;
                default:
                        return unexpected(p, tok, context);
                }
        }
}

static const char *context_name(enum tpl_node_type type)
{
        return type == TPL_IF ? "if" : type == TPL_RANGE ? "range" : "with";
}

/* After {{else}}: the else list, or the "if"/"with" of an {{else if}} chain. */
static bool else_branch(struct parser *p, struct tpl_node *n, const struct tpl_node *else_node)
{
        struct tpl_node *end = NULL, *c = NULL;
        enum tpl_tok_type chained = n->type == TPL_IF     ? TPL_T_IF
                                    : n->type == TPL_WITH ? TPL_T_WITH
                                                          : TPL_T_EOF;
        if (chained != TPL_T_EOF && peek(p)->type == chained) {
                struct tpl_token *tok = next(p);
                n->else_list = node_new(p, TPL_LIST, else_node->pos);
                c = control(p, n->type, tok->pos);
                if (!c)
                        return false;
                append_kid(n->else_list, c);
                return true;
        }
        n->else_list = item_list(p, &end);
        if (!n->else_list)
                return false;
        if (end->type != TPL_END)
                return perr(p, end->pos, "expected end; found {{else}}");
        return true;
}

/* {{if}}, {{range}} or {{with}}, from after the keyword to after its {{end}}. */
static struct tpl_node *control(struct parser *p, enum tpl_node_type type, size_t pos)
{
        size_t vars_mark = p->n_vars, ldelim = p->ldelim_pos;
        struct tpl_node *n, *next_node = NULL;
        if (++p->depth > TPL_MAX_NESTING)
                return perr(p, pos, "max nesting depth exceeded");
        n = node_new(p, type, pos);
        n->pipe = pipeline(p, context_name(type), TPL_T_RDELIM);
        if (!n->pipe)
                return NULL;
        if (type == TPL_RANGE)
                p->range_depth++;
        n->list = item_list(p, &next_node);
        if (type == TPL_RANGE)
                p->range_depth--;
        if (!n->list)
                return NULL;
        if (next_node->type == TPL_ELSE && !else_branch(p, n, next_node))
                return NULL;
        /* Go reports errors at the pipeline and quotes the whole {{if}}...{{end}}. */
        n->ctx_pos = ldelim;
        n->pos = n->pipe->pos;
        set_end(n, &p->toks[p->i - 1]);
        p->n_vars = vars_mark;
        p->depth--;
        return n;
}

static struct tpl_node *keyword_end(struct parser *p, const struct tpl_token *kw,
                                    enum tpl_node_type type)
{
        struct tpl_token *tok = NULL;
        if (type == TPL_ELSE) {
                tok = peek_non_space(p);
                if (tok->type == TPL_T_IF || tok->type == TPL_T_WITH)
                        return node_new(p, TPL_ELSE, kw->pos);
        }
        tok = next_non_space(p);
        if (tok->type != TPL_T_RDELIM) {
                _cleanup_free_ char *ctx = type == TPL_BREAK || type == TPL_CONTINUE
                                                   ? xasprintf("{{%s}}", kw->val)
                                                   : xstrdup(kw->val);
                return unexpected(p, tok, ctx);
        }
        if ((type == TPL_BREAK || type == TPL_CONTINUE) && p->range_depth == 0)
                return perr(p, kw->pos, "{{%s}} outside {{range}}", kw->val);
        return node_new(p, type, kw->pos);
}

static struct tpl_node *action(struct parser *p)
{
        struct tpl_token *tok = next_non_space(p);
        struct tpl_node *n = NULL;
        switch (tok->type) {
        case TPL_T_BLOCK:
        case TPL_T_DEFINE:
        case TPL_T_TEMPLATE:
                return perr(p, tok->pos, "{{%s}} is not supported", tok->val);
        case TPL_T_BREAK:
                return keyword_end(p, tok, TPL_BREAK);
        case TPL_T_CONTINUE:
                return keyword_end(p, tok, TPL_CONTINUE);
        case TPL_T_ELSE:
                return keyword_end(p, tok, TPL_ELSE);
        case TPL_T_END:
                return keyword_end(p, tok, TPL_END);
        case TPL_T_IF:
                return control(p, TPL_IF, tok->pos);
        case TPL_T_RANGE:
                return control(p, TPL_RANGE, tok->pos);
        case TPL_T_WITH:
                return control(p, TPL_WITH, tok->pos);
        default:
                break;
        }
        backup(p);
        n = node_new(p, TPL_ACTION, peek(p)->pos);
        n->pipe = pipeline(p, "command", TPL_T_RDELIM);
        if (!n->pipe)
                return NULL;
        n->end = n->pipe->end;
        return n;
}

static struct tpl_node *text_or_action(struct parser *p)
{
        struct tpl_token *tok = next_non_space(p);
        struct tpl_node *n = NULL;
        if (tok->type == TPL_T_LDELIM) {
                p->ldelim_pos = tok->pos;
                return action(p);
        }
        if (tok->type != TPL_T_TEXT)
                return unexpected(p, tok, "input");
        n = node_new(p, TPL_TEXT, tok->pos);
        n->text = TAKE_PTR(tok->val);
        n->len = tok->len;
        return n;
}

/* Nodes up to an {{end}} or {{else}}, which is returned in *ret_next. */
static struct tpl_node *item_list(struct parser *p, struct tpl_node **ret_next)
{
        struct tpl_node *list = node_new(p, TPL_LIST, peek_non_space(p)->pos);
        while (peek_non_space(p)->type != TPL_T_EOF) {
                struct tpl_node *n = text_or_action(p);
                if (!n)
                        return NULL;
                if (n->type == TPL_END || n->type == TPL_ELSE) {
                        *ret_next = n;
                        return list;
                }
                append_kid(list, n);
        }
        return perr(p, peek(p)->pos, "unexpected EOF");
}

void tpl_position(const char *src, size_t pos, int *ret_line, int *ret_col)
{
        int line = 1;
        size_t bol = 0;
        for (size_t i = 0; i < pos && src[i]; i++)
                if (src[i] == '\n') {
                        line++;
                        bol = i + 1;
                }
        *ret_line = line;
        *ret_col = (int)(pos - bol);
}

int tpl_parse(struct pea_template *t, struct pea_error **err)
{
        struct parser p = {.t = t};
        int line = 0, col = 0, r = 0;
        tpl_lex(t->src, strlen(t->src), t->table, &p.toks, &p.n);
        push_var(&p, "$");
        t->root = node_new(&p, TPL_LIST, 0);
        while (peek(&p)->type != TPL_T_EOF) {
                struct tpl_node *n = text_or_action(&p);
                if (!n)
                        break;
                if (n->type == TPL_END || n->type == TPL_ELSE) {
                        perr(&p, n->pos, "unexpected {{%s}}", n->type == TPL_END ? "end" : "else");
                        break;
                }
                append_kid(t->root, n);
        }
        if (p.msg) {
                tpl_position(t->src, p.err_pos, &line, &col);
                r = pea_error_set(err, EINVAL, "template: :%d: %s", line, p.msg);
        }
        free(p.msg);
        free(p.vars);
        tpl_tokens_free(p.toks, p.n);
        return r;
}

void tpl_nodes_free(struct pea_template *t)
{
        for (size_t i = 0; i < t->n_nodes; i++) {
                struct tpl_node *n = t->nodes[i];
                free(n->text);
                for (size_t k = 0; k < n->n_idents; k++)
                        free(n->idents[k]);
                free(n->idents);
                for (size_t k = 0; k < n->n_decls; k++)
                        free(n->decls[k]);
                free(n->decls);
                json_decref(n->value);
                free(n->kids);
                free(n);
        }
        free(t->nodes);
        t->nodes = NULL;
        t->n_nodes = t->cap_nodes = 0;
        t->root = NULL;
}
