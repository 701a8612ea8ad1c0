/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lexer of Go's text/template (text/template/parse/lex.go), run over the
 * whole text at once into a token array ending in EOF or an error token.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "template-internal.h"
#include "util.h"

struct lexer {
        const char *src;
        size_t len;
        size_t pos;
        bool table;
        int paren;
        struct tpl_token *toks;
        size_t n;
        size_t cap;
};

static const struct {
        const char *word;
        enum tpl_tok_type type;
} keywords[] = {
        {"block", TPL_T_BLOCK},   {"break", TPL_T_BREAK}, {"continue", TPL_T_CONTINUE},
        {"define", TPL_T_DEFINE}, {"else", TPL_T_ELSE},   {"end", TPL_T_END},
        {"if", TPL_T_IF},         {"range", TPL_T_RANGE}, {"template", TPL_T_TEMPLATE},
        {"with", TPL_T_WITH},     {"nil", TPL_T_NIL},
};

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alnum(char c)
{
        unsigned char u = (unsigned char)c;
        return u == '_' || u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z')
               || (u >= 'A' && u <= 'Z');
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static void emit(struct lexer *l, enum tpl_tok_type type, size_t pos, char *val, size_t len)
{
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 64;
                l->toks = xrealloc(l->toks, l->cap * sizeof(*l->toks));
        }
        l->toks[l->n++] = (struct tpl_token){type, pos, val, len};
}

static void emit_span(struct lexer *l, enum tpl_tok_type type, size_t start, size_t end)
{
        emit(l, type, start, xstrndup(l->src + start, end - start), end - start);
}

/* Ends the token stream with an error. */
static _printf_(3, 4) void lex_error(struct lexer *l, size_t pos, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        emit(l, TPL_T_ERROR, pos, msg, strlen(msg));
}

static bool has_prefix(const struct lexer *l, size_t pos, const char *p)
{
        size_t n = strlen(p);
        return pos + n <= l->len && memcmp(l->src + pos, p, n) == 0;
}

static bool left_trim_at(const struct lexer *l, size_t pos)
{
        return pos + 1 < l->len && l->src[pos] == '-' && is_space(l->src[pos + 1]);
}

static bool right_trim_at(const struct lexer *l, size_t pos)
{
        return pos + 1 < l->len && is_space(l->src[pos]) && l->src[pos + 1] == '-';
}

/* Whether pos is at "}}" or " -}}"; sets *trim for the latter. */
static bool at_right_delim(const struct lexer *l, size_t pos, bool *trim)
{
        *trim = right_trim_at(l, pos) && has_prefix(l, pos + 2, "}}");
        return *trim || has_prefix(l, pos, "}}");
}

/* Skips white space after a "-}}"; a typed \t or \n counts, as podman turns it into one. */
static void skip_trimmed_space(struct lexer *l)
{
        while (l->pos < l->len) {
                if (is_space(l->src[l->pos]))
                        l->pos++;
                else if (has_prefix(l, l->pos, "\\t") || has_prefix(l, l->pos, "\\n"))
                        l->pos += 2;
                else
                        break;
        }
}

/*
 * podman's NormalizeFormat: a typed \t or \n becomes a tab or a newline and,
 * in a table, a space becomes a tab. Writes at most n bytes to out.
 */
static size_t normalize_text(const char *s, size_t n, bool table, char *out)
{
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\' && i + 1 < n && (s[i + 1] == 't' || s[i + 1] == 'n')) {
                        out[o++] = s[i + 1] == 't' ? '\t' : '\n';
                        i++;
                } else if (table && s[i] == ' ') {
                        out[o++] = '\t';
                } else {
                        out[o++] = s[i];
                }
        }
        return o;
}

static void lex_text(struct lexer *l)
{
        const char *x = memmem(l->src + l->pos, l->len - l->pos, "{{", 2);
        size_t end = x ? (size_t)(x - l->src) : l->len;
        char *text = xmalloc(end - l->pos + 1);
        size_t n = normalize_text(l->src + l->pos, end - l->pos, l->table, text);
        if (x && left_trim_at(l, end + 2))
                while (n > 0 && is_space(text[n - 1]))
                        n--;
        text[n] = '\0';
        if (n > 0)
                emit(l, TPL_T_TEXT, l->pos, text, n);
        else
                free(text);
        l->pos = end;
}

static bool lex_comment(struct lexer *l)
{
        const char *e = memmem(l->src + l->pos + 2, l->len - l->pos - 2, "*/", 2);
        bool trim = false;
        if (!e) {
                lex_error(l, l->pos, "unclosed comment");
                return false;
        }
        l->pos = (size_t)(e - l->src) + 2;
        if (!at_right_delim(l, l->pos, &trim)) {
                lex_error(l, l->pos, "comment ends before closing delimiter");
                return false;
        }
        l->pos += trim ? 4 : 2;
        if (trim)
                skip_trimmed_space(l);
        return true;
}

static bool at_terminator(const struct lexer *l, size_t pos)
{
        if (pos >= l->len || is_space(l->src[pos]))
                return true;
        if (strchr(".,|:()", l->src[pos]))
                return true;
        return has_prefix(l, pos, "}}");
}

static bool bad_char(struct lexer *l, size_t pos)
{
        unsigned r = 0;
        size_t n = pos < l->len ? tpl_utf8_len(l->src + pos, l->len - pos, &r) : 0;
        /* Go's %#U: U+007D '}' */
        if (r >= 0x20 && r != 0x7f && r != 0xFFFD)
                lex_error(l, pos, "bad character U+%04X '%.*s'", r, (int)n, l->src + pos);
        else
                lex_error(l, pos, "bad character U+%04X", r);
        return false;
}

/* ".Field", "." or "$x", "$". */
static bool lex_field_or_var(struct lexer *l, bool var)
{
        size_t start = l->pos, i = l->pos + 1;
        while (i < l->len && is_alnum(l->src[i]))
                i++;
        if (!at_terminator(l, i))
                return bad_char(l, i);
        if (i == start + 1 && !var)
                emit_span(l, TPL_T_DOT, start, i);
        else
                emit_span(l, var ? TPL_T_VARIABLE : TPL_T_FIELD, start, i);
        l->pos = i;
        return true;
}

static bool lex_identifier(struct lexer *l)
{
        size_t start = l->pos, i = l->pos;
        enum tpl_tok_type type = TPL_T_IDENT;
        while (i < l->len && is_alnum(l->src[i]))
                i++;
        if (!at_terminator(l, i))
                return bad_char(l, i);
        for (size_t k = 0; k < ELEMENTSOF(keywords); k++)
                if (strlen(keywords[k].word) == i - start
                    && memcmp(keywords[k].word, l->src + start, i - start) == 0)
                        type = keywords[k].type;
        if ((i - start == 4 && memcmp(l->src + start, "true", 4) == 0)
            || (i - start == 5 && memcmp(l->src + start, "false", 5) == 0))
                type = TPL_T_BOOL;
        emit_span(l, type, start, i);
        l->pos = i;
        return true;
}

static size_t accept_run(const struct lexer *l, size_t i, const char *set)
{
        while (i < l->len && l->src[i] && strchr(set, l->src[i]))
                i++;
        return i;
}

static size_t accept(const struct lexer *l, size_t i, const char *set)
{
        return i < l->len && l->src[i] && strchr(set, l->src[i]) ? i + 1 : i;
}

/* Go's scanNumber: the text only; the parser converts it. */
static bool lex_number(struct lexer *l)
{
        const char *digits = "0123456789_";
        size_t i = accept(l, l->pos, "+-"), j;
        if ((j = accept(l, i, "0")) > i) {
                i = j;
                if ((j = accept(l, i, "xX")) > i)
                        digits = "0123456789abcdefABCDEF_";
                else if ((j = accept(l, i, "oO")) > i)
                        digits = "01234567_";
                else if ((j = accept(l, i, "bB")) > i)
                        digits = "01_";
                i = j;
        }
        i = accept_run(l, i, digits);
        if ((j = accept(l, i, ".")) > i)
                i = accept_run(l, j, digits);
        if (strlen(digits) == 11 && (j = accept(l, i, "eE")) > i)
                i = accept_run(l, accept(l, j, "+-"), "0123456789_");
        if (strlen(digits) == 23 && (j = accept(l, i, "pP")) > i)
                i = accept_run(l, accept(l, j, "+-"), "0123456789_");
        i = accept(l, i, "i");
        if (i < l->len && is_alnum(l->src[i])) {
                lex_error(l, l->pos, "bad number syntax: \"%.*s\"", (int)(i + 1 - l->pos),
                          l->src + l->pos);
                return false;
        }
        emit_span(l, TPL_T_NUMBER, l->pos, i);
        l->pos = i;
        return true;
}

/* "...", '...' (escapes skipped, not decoded) or `...`. */
static bool lex_quoted(struct lexer *l, char q, enum tpl_tok_type type, const char *what)
{
        size_t i = l->pos + 1;
        for (;;) {
                if (i >= l->len || (q != '`' && l->src[i] == '\n')) {
                        lex_error(l, l->pos, "unterminated %s", what);
                        return false;
                }
                if (l->src[i] == q)
                        break;
                if (q != '`' && l->src[i] == '\\' && i + 1 < l->len && l->src[i + 1] != '\n')
                        i++;
                i++;
        }
        emit_span(l, type, l->pos, i + 1);
        if (q == '`') {
                struct tpl_token *tok = &l->toks[l->n - 1];
                tok->len = normalize_text(tok->val, tok->len, false, tok->val);
                tok->val[tok->len] = '\0';
        }
        l->pos = i + 1;
        return true;
}

/* Spaces inside an action, minding a " -}}" after them. */
static void lex_space(struct lexer *l)
{
        size_t start = l->pos;
        while (l->pos < l->len && is_space(l->src[l->pos]))
                l->pos++;
        if (l->src[l->pos] == '-' && has_prefix(l, l->pos + 1, "}}")) {
                l->pos--;
                if (l->pos == start)
                        return;
        }
        emit_span(l, TPL_T_SPACE, start, l->pos);
}

static bool lex_symbol(struct lexer *l, char c)
{
        switch (c) {
        case '=':
                emit_span(l, TPL_T_ASSIGN, l->pos, l->pos + 1);
                break;
        case ':':
                if (!has_prefix(l, l->pos, ":=")) {
                        lex_error(l, l->pos, "expected :=");
                        return false;
                }
                emit_span(l, TPL_T_DECLARE, l->pos, l->pos + 2);
                l->pos++;
                break;
        case '|':
                emit_span(l, TPL_T_PIPE, l->pos, l->pos + 1);
                break;
        case '(':
                emit_span(l, TPL_T_LPAREN, l->pos, l->pos + 1);
                l->paren++;
                break;
        case ')':
                if (--l->paren < 0) {
                        lex_error(l, l->pos, "unexpected right paren");
                        return false;
                }
                emit_span(l, TPL_T_RPAREN, l->pos, l->pos + 1);
                break;
        default:
                if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
                        lex_error(l, l->pos, "unrecognized character in action: U+%04X",
                                  (unsigned)(unsigned char)c);
                        return false;
                }
                emit_span(l, TPL_T_CHAR, l->pos, l->pos + 1);
                break;
        }
        l->pos++;
        return true;
}

static bool lex_operand(struct lexer *l, char c)
{
        switch (c) {
        case '"':
                return lex_quoted(l, '"', TPL_T_STRING, "quoted string");
        case '`':
                return lex_quoted(l, '`', TPL_T_RAWSTRING, "raw quoted string");
        case '\'':
                return lex_quoted(l, '\'', TPL_T_CHARCONST, "character constant");
        case '$':
                return lex_field_or_var(l, true);
        case '.':
                if (l->pos + 1 >= l->len || !is_digit(l->src[l->pos + 1]))
                        return lex_field_or_var(l, false);
                return lex_number(l);
        default:
                if (c == '+' || c == '-' || is_digit(c))
                        return lex_number(l);
                if (is_alnum(c))
                        return lex_identifier(l);
                return lex_symbol(l, c);
        }
}

/* From just after "{{" (and its trim marker) to just after "}}". */
static bool lex_action(struct lexer *l)
{
        for (;;) {
                bool trim = false;
                if (at_right_delim(l, l->pos, &trim)) {
                        if (l->paren > 0) {
                                lex_error(l, l->pos, "unclosed left paren");
                                return false;
                        }
                        l->pos += trim ? 2 : 0;
                        emit_span(l, TPL_T_RDELIM, l->pos, l->pos + 2);
                        l->pos += 2;
                        if (trim)
                                skip_trimmed_space(l);
                        return true;
                }
                if (l->pos >= l->len) {
                        lex_error(l, l->pos, "unclosed action");
                        return false;
                }
                if (is_space(l->src[l->pos]))
                        lex_space(l);
                else if (!lex_operand(l, l->src[l->pos]))
                        return false;
        }
}

static void lex(struct lexer *l)
{
        for (;;) {
                lex_text(l);
                if (l->pos >= l->len) {
                        emit(l, TPL_T_EOF, l->len, xstrdup(""), 0);
                        return;
                }
                size_t delim = l->pos;
                l->pos += 2;
                if (left_trim_at(l, l->pos))
                        l->pos += 2;
                if (has_prefix(l, l->pos, "/*")) {
                        if (!lex_comment(l))
                                return;
                        continue;
                }
                emit_span(l, TPL_T_LDELIM, delim, delim + 2);
                l->paren = 0;
                if (!lex_action(l))
                        return;
        }
}

void tpl_lex(const char *src, size_t len, bool table, struct tpl_token **ret, size_t *ret_n)
{
        struct lexer l = {.src = src, .len = len, .table = table};
        lex(&l);
        *ret = l.toks;
        *ret_n = l.n;
}

void tpl_tokens_free(struct tpl_token *toks, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(toks[i].val);
        free(toks);
}
