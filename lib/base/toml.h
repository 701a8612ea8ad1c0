/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>

struct pea_error;

/*
 * Parses TOML (the part of TOML 1.0 that containers.conf, storage.conf and
 * registries.conf use) into JSON: tables become objects, arrays of tables
 * arrays of objects; strings, integers, floats, booleans and arrays map to
 * their JSON kinds. Dates are kept as strings. origin names the input in
 * error messages ("'/etc/containers/registries.conf' line 3: ...").
 */
int pea_toml_parse(const char *text, const char *origin, json_t **ret, struct pea_error **err);

/* Reads and parses a file; -ENOENT (with err set) when it does not exist. */
int pea_toml_parse_file(const char *path, json_t **ret, struct pea_error **err);
