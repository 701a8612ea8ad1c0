/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include <sys/types.h>

struct pea_error;

/* Reads a whole file (at most max bytes, else -EFBIG); NUL-terminates the buffer. */
int pea_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
                     struct pea_error **err);

/* Writes data to path through a temporary file, fsync and rename. */
int pea_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode,
                             struct pea_error **err);

/*
 * The same without the fsync: readers see the old or the new content, never a
 * mix, but a power loss may lose it. For files under the run root (gone at
 * reboot anyway) and files made again from the state (hosts, resolv.conf...).
 */
int pea_write_file_replace_at(int dirfd, const char *path, const void *data, size_t len,
                              mode_t mode, struct pea_error **err);

/* mkdir -p; existing directories are fine. */
int pea_mkdir_p(const char *path, mode_t mode, struct pea_error **err);

/* rm -rf that does not follow symlinks and stays on one file system. */
int pea_rm_rf(const char *path, struct pea_error **err);

/* Returns true when path exists (lstat). */
bool pea_path_exists(const char *path);

/* Finds an executable: a name with a slash as is, else in PATH; NULL if none. */
char *pea_find_executable(const char *name);

/* The directory of the running binary (/proc/self/exe), for helpers found next to it. */
char *pea_self_dir(void);

/* Looks up a helper program: next to the binary, then libexecdir, then PATH. */
char *pea_find_helper(const char *name);
