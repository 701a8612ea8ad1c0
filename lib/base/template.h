/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

struct pea_error;
struct pea_template;

/*
 * Go text/template, the part podman's --format uses, evaluated over JSON.
 * Field lookup .A.B tries the exact key, then a case-insensitive match, so
 * {{.Host.Arch}} finds "host": {"arch": ...}. A leading "table" keyword marks
 * table output (header row, tab-aligned columns).
 */
int pea_template_parse(const char *text, struct pea_template **ret, struct pea_error **err);
struct pea_template *pea_template_free(struct pea_template *t);
bool pea_template_is_table(const struct pea_template *t);

/* Renders t with dot = data, writing to out. */
int pea_template_execute(const struct pea_template *t, json_t *data, FILE *out,
                         struct pea_error **err);

/*
 * The header row of a table template: one cell per top-level {{.Field}}
 * action, taken from headers (an object mapping field names to titles) or
 * else made from the field name (CreatedAt -> CREATED AT), tab-separated.
 */
char *pea_template_header(const struct pea_template *t, json_t *headers);

/*
 * Prints data as --format asks, the one place every command goes through:
 * - "json": the JSON (indent spaces as given);
 * - "table ...": header (from headers) and rows aligned like Go's tabwriter
 *   (podman's report writer: minwidth 12, tabwidth 2, padding 2, padchar ' ');
 * - any other text: a template rendered per item, each followed by a newline
 *   unless it already ends in one.
 * With list true, data is a JSON array and the template runs per element.
 */
int pea_format_print(FILE *out, const char *format, json_t *data, bool list, json_t *headers,
                     int json_indent, struct pea_error **err);

/*
 * pea_format_print with --noheading: no_heading drops a table's header row.
 *
 * Details of both, after podman's report package: "json" also matches
 * "{{json}}" and "{{ json. }}", while "{{json .}}" is a template (one compact
 * line per item). A bare "table" makes one column per key of headers, or
 * else of the (first) item. In the template text a typed \t or \n is a tab
 * or newline and, in a table, a space is a column break. The newline after
 * each rendering is left out when the template text itself ends in one. A
 * template that already has {{range .}}...{{end}} gets the whole list once.
 * Header titles from headers are upper-cased; the header row returned by
 * pea_template_header has no final newline. Functions: Go's builtins (and,
 * or, not, len, index, slice, print, printf, println, eq, ne, lt, le, gt, ge)
 * and podman's (json, join, split, upper, lower, title, truncate, pad) plus
 * replace, contains, hasPrefix and hasSuffix.
 */
int pea_format_print_full(FILE *out, const char *format, json_t *data, bool list, json_t *headers,
                          bool no_heading, int json_indent, struct pea_error **err);
