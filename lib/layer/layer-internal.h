/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "cleanup.h"
#include "layer/layer.h"

struct pea_error;

DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive_entry *, archive_entry_free)
#define _cleanup_archive_read_  _cleanup_(archive_read_freep)
#define _cleanup_archive_entry_ _cleanup_(archive_entry_freep)

static inline void archive_write_freep(struct archive **a)
{
        if (*a)
                (void)archive_write_free(*a);
}

#define _cleanup_archive_write_ _cleanup_(archive_write_freep)

#define WH_PREFIX      ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE      ".wh..wh..opq"

/* pathsafe.c: resolving names inside the layer directory. */
struct layer_root {
        int fd; /* borrowed */
        bool use_openat2;
};

enum {
        /* Create missing directories (0755) on the way. */
        LAYER_RESOLVE_CREATE = 1 << 0,
        /* Fail with -ELOOP on any symlink (hard-link targets). */
        LAYER_RESOLVE_NO_SYMLINKS = 1 << 1,
};

void layer_root_init(struct layer_root *r, int dirfd, bool no_openat2);

/*
 * Normalises a tar name: strips "./" and "/" prefixes, collapses "//" and "."
 * components. The root itself becomes "". -EBADMSG for ".." or too long names.
 */
int layer_path_normalize(const char *name, char **ret, struct pea_error **err);

/* Opens the directory at a normalised path inside the root (O_PATH). */
int layer_open_dir(struct layer_root *r, const char *path, unsigned flags, struct pea_error **err);

/*
 * Opens the parent directory of a normalised, non-empty path; *ret_base points
 * into path at the last component.
 */
int layer_open_parent(struct layer_root *r, const char *path, unsigned flags, const char **ret_base,
                      struct pea_error **err);

/* whiteout.c */
struct layer_pathset {
        char **slots;
        size_t n, cap;
};

void layer_pathset_add(struct layer_pathset *s, const char *path);
bool layer_pathset_contains(const struct layer_pathset *s, const char *path);
void layer_pathset_done(struct layer_pathset *s);

/* rm -rf of dirfd/name without following symlinks; ENOENT is success. */
int layer_rm_rf_at(int dirfd, const char *name);

/* Removes every child of the directory at path that is not in keep. */
int layer_empty_dir(struct layer_root *r, const char *path, const struct layer_pathset *keep,
                    struct pea_error **err);

struct layer_unpack;

/*
 * Handles a whiteout entry (its base name starts with ".wh."); path is the
 * normalised entry name.
 */
int layer_whiteout(struct layer_unpack *u, const char *path, struct pea_error **err);

/* unpack.c state shared with whiteout.c */
struct layer_dirmeta {
        char *path;
        mode_t mode;
        struct timespec times[2];
};

struct layer_stream;

struct layer_unpack {
        struct layer_root root;
        struct layer_stream *stream;
        struct pea_layer_unpack_opts opts;
        struct pea_layer_stats stats;
        struct layer_dirmeta *dirs;
        size_t n_dirs, cap_dirs;
        /* Paths written by this layer (APPLY mode, for opaque directories). */
        struct layer_pathset written;
};

/* Replaces whatever is at dirfd/name unless keep_dir and it is a directory. */
int layer_clear_slot(int dirfd, const char *name, bool keep_dir, const char *path,
                     struct pea_error **err);
