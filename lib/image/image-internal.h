/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct pea_error;

/* pea_error_wrap() that returns r, also when err is NULL (the caller ignores messages). */
#define image_error_wrap(r, err, ...)                     \
        ({                                                \
                int _r_ = (r);                            \
                (void)pea_error_wrap((err), __VA_ARGS__); \
                _r_;                                      \
        })

/* reference.c */

/* domain-component ('.' domain-component)* (':' port)? */
bool image_domain_valid(const char *s, size_t n);

/* digest.c */

/* NULL when s is a valid digest, else go-digest's reason ("invalid checksum digest length"). */
const char *image_digest_problem(const char *s);

/* manifest.c: JSON helpers shared with registries.c. what names the document in errors. */

/*
 * Parses JSON of at most max bytes and PEA_IMAGE_JSON_MAX_DEPTH nesting; the
 * top level must be an object.
 */
int image_json_load(const void *data, size_t len, size_t max, const char *what, json_t **ret,
                    struct pea_error **err);

/* A string member: *ret NULL when missing (or null); error when of another type. */
int image_json_string(json_t *obj, const char *key, const char *what, const char **ret,
                      struct pea_error **err);

/* A boolean member, def when missing. */
int image_json_bool(json_t *obj, const char *key, const char *what, bool def, bool *ret,
                    struct pea_error **err);

/* An array of strings: *ret NULL when missing or null, an empty vector for []. */
int image_json_strv(json_t *obj, const char *key, const char *what, char ***ret,
                    struct pea_error **err);
