/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cleanup.h"

/*
 * Internals of the Go text/template engine behind --format, shared by
 * template.c (API, tables), template-parse.c (lexer, parser),
 * template-exec.c (evaluation), template-funcs.c (functions),
 * template-fmt.c (Go's fmt and encoding/json printing) and tabwriter.c.
 */

struct pea_error;

/* Caps on what a format string can ask for. */
#define TPL_MAX_NESTING     100  /* nested if/range/with and parentheses */
#define TPL_MAX_VALUE_DEPTH 1000 /* nested arrays and objects when printing */

/* A growable string; s is NUL-terminated once anything was added. */
struct tpl_buf {
        char *s;
        size_t len;
        size_t cap;
};

void tpl_buf_add(struct tpl_buf *b, const char *s, size_t n);
void tpl_buf_puts(struct tpl_buf *b, const char *s);
void tpl_buf_putc(struct tpl_buf *b, char c);
void tpl_buf_printf(struct tpl_buf *b, const char *fmt, ...) _printf_(2, 3);
void tpl_buf_repeat(struct tpl_buf *b, char c, size_t n);
/* Returns the string (never NULL) and empties b. */
char *tpl_buf_steal(struct tpl_buf *b);
void tpl_buf_done(struct tpl_buf *b);

static inline void tpl_buf_donep(struct tpl_buf *b)
{
        tpl_buf_done(b);
}

#define _cleanup_tpl_buf_ _cleanup_(tpl_buf_donep)

enum tpl_node_type {
        TPL_LIST,
        TPL_TEXT,
        TPL_ACTION,
        TPL_IF,
        TPL_RANGE,
        TPL_WITH,
        TPL_BREAK,
        TPL_CONTINUE,
        TPL_PIPE,
        TPL_COMMAND,
        TPL_FIELD,    /* .A.B */
        TPL_VARIABLE, /* $x.A.B */
        TPL_CHAIN,    /* (pipe).A.B */
        TPL_IDENT,    /* a function name */
        TPL_DOT,
        TPL_NIL,
        TPL_BOOL,
        TPL_NUMBER,
        TPL_STRING,
        TPL_ELSE, /* parse time only */
        TPL_END,  /* parse time only */
};

struct tpl_func;

struct tpl_node {
        enum tpl_node_type type;
        size_t pos;     /* where errors are reported, a byte offset in the source */
        size_t ctx_pos; /* [ctx_pos, end) is the text quoted in errors */
        size_t end;
        char *text; /* TEXT: the text; VARIABLE: "$x"; IDENT: the name */
        size_t len;
        char **idents; /* FIELD, VARIABLE, CHAIN: field names */
        size_t n_idents;
        json_t *value;          /* BOOL, NUMBER, STRING */
        struct tpl_node **kids; /* LIST: nodes; PIPE: commands; COMMAND: args */
        size_t n_kids;
        char **decls; /* PIPE: declared or assigned variables */
        size_t n_decls;
        bool is_assign;
        struct tpl_node *pipe; /* IF, RANGE, WITH, ACTION; CHAIN: the operand */
        struct tpl_node *list;
        struct tpl_node *else_list;
        const struct tpl_func *func; /* IDENT */
};

struct pea_template {
        char *src; /* the text parsed ("table " removed) */
        struct tpl_node *root;
        struct tpl_node **nodes; /* every node, owned here */
        size_t n_nodes;
        size_t cap_nodes;
        bool table;
        bool ends_nl; /* the text ends in a newline (also a typed \n) */
};

/* template-lex.c */
enum tpl_tok_type {
        TPL_T_ERROR,
        TPL_T_EOF,
        TPL_T_TEXT,
        TPL_T_LDELIM,
        TPL_T_RDELIM,
        TPL_T_SPACE,
        TPL_T_ASSIGN,
        TPL_T_DECLARE,
        TPL_T_PIPE,
        TPL_T_CHAR,
        TPL_T_LPAREN,
        TPL_T_RPAREN,
        TPL_T_STRING,
        TPL_T_RAWSTRING,
        TPL_T_CHARCONST,
        TPL_T_NUMBER,
        TPL_T_BOOL,
        TPL_T_DOT,
        TPL_T_FIELD,
        TPL_T_VARIABLE,
        TPL_T_IDENT,
        TPL_T_NIL,
        TPL_T_KEYWORD, /* keywords after this */
        TPL_T_BLOCK,
        TPL_T_BREAK,
        TPL_T_CONTINUE,
        TPL_T_DEFINE,
        TPL_T_ELSE,
        TPL_T_END,
        TPL_T_IF,
        TPL_T_RANGE,
        TPL_T_TEMPLATE,
        TPL_T_WITH,
};

struct tpl_token {
        enum tpl_tok_type type;
        size_t pos;
        char *val; /* TEXT: the text; ERROR: the message; else the source */
        size_t len;
};

/*
 * Splits src into tokens, the last being EOF or ERROR. With table, spaces in
 * text become tabs (podman's table normalisation).
 */
void tpl_lex(const char *src, size_t len, bool table, struct tpl_token **ret, size_t *ret_n);
void tpl_tokens_free(struct tpl_token *toks, size_t n);

/* template-parse.c */
int tpl_parse(struct pea_template *t, struct pea_error **err);
void tpl_nodes_free(struct pea_template *t);
/* Line (1-based) and column (0-based byte) of pos in src. */
void tpl_position(const char *src, size_t pos, int *ret_line, int *ret_col);

/* template-exec.c */
int tpl_exec(const struct pea_template *t, json_t *data, FILE *out, struct pea_error **err);

/* template-funcs.c: a call's failure message goes to msg. */
struct tpl_call {
        const struct tpl_func *func;
        char *msg;
        bool bad_arg; /* msg is about the argument bad */
        const json_t *bad;
};

struct tpl_func {
        const char *name;
        int min_args;
        int max_args; /* < 0: any number */
        int (*fn)(struct tpl_call *c, json_t **args, size_t n, json_t **ret);
};

const struct tpl_func *tpl_func_lookup(const char *name);
/* and/or evaluate lazily, in the evaluator. */
bool tpl_func_is_lazy(const struct tpl_func *f, bool *ret_is_and);

/* template-fmt.c */
bool tpl_truth(const json_t *v);
/* Go's type name of a JSON value: string, int, float64, bool, []interface {}, ... */
const char *tpl_type_name(const json_t *v);
/* fmt's %v; NULL and JSON null print as <nil>. */
void tpl_fmt_value(struct tpl_buf *b, const json_t *v);
/* fmt.Sprintf over JSON values; fmt is not NUL-terminated. */
void tpl_sprintf(struct tpl_buf *b, const char *fmt, size_t fmt_len, json_t **args, size_t n);
/* strconv.Quote */
void tpl_quote(struct tpl_buf *b, const char *s, size_t n);
/* encoding/json's Marshal without HTML escaping, keys in stored order; -EINVAL if too deep. */
int tpl_json_encode(struct tpl_buf *b, const json_t *v, int depth);
/* Decodes one UTF-8 sequence at s (n > 0), returning its length; invalid bytes are 1 long. */
size_t tpl_utf8_len(const char *s, size_t n, unsigned *ret_rune);
size_t tpl_utf8_count(const char *s, size_t n);
void tpl_utf8_put(struct tpl_buf *b, unsigned r);

/* tabwriter.c: Go's text/tabwriter with flags 0. */
void tpl_tabwrite(struct tpl_buf *out, const char *text, size_t len, size_t minwidth,
                  size_t padding, char padchar);
