/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/* Walks a dotted path ("a.b.c") of object keys; NULL when missing. */
json_t *pea_json_path(json_t *root, const char *path);

/* The string at a dotted path, or def. */
const char *pea_json_path_string(json_t *root, const char *path, const char *def);

/* Dumps with the given indent (0: compact), keys in insertion order. Never NULL. */
char *pea_json_dumps(const json_t *j, int indent);

/* Prints with the given indent and a final newline. */
int pea_json_print(FILE *f, const json_t *j, int indent);

/* Deep-merges src into dst: objects merge key by key, everything else replaces. */
void pea_json_merge(json_t *dst, json_t *src);
