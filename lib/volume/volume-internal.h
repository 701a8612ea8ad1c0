/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "base.h"
#include "volume.h"

/* Takes the flock on <graph_root>/volumes/.lock (creating the directory); returns the fd. */
int volume_lock(const char *graph_root, struct pea_error **err);

/* <graph_root>/volumes */
char *volume_root(const char *graph_root);

/* Wraps a row (taking its contents) into a volume. */
struct pea_volume *volume_from_row(struct pea_volume_row *row);

/* The string value of option key, or NULL. */
const char *volume_option(const struct pea_volume *vol, const char *key);

/* Parses --opt "k=v" (and --label) lists into an object; -EINVAL on a bad one. */
int volume_parse_options(char *const *opts, json_t **ret, struct pea_error **err);
int volume_parse_labels(char *const *labels, json_t **ret, struct pea_error **err);

/* Unmounts _data if it is a mount point (lazy), ignoring "not mounted". */
int volume_force_umount(const struct pea_volume *vol, struct pea_error **err);

/*
 * Opens the directory path inside root_fd as if root_fd were "/" (openat2
 * RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS; without openat2 or with
 * PEA_NO_OPENAT2 set, no symlink at all). Returns the fd or -errno.
 */
int volume_open_dir_in_root(int root_fd, const char *path);
