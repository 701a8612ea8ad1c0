/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <sys/types.h>

/*
 * lib/layer: image layers as tar streams.
 *
 * pea_layer_unpack() applies one layer (tar, tar+gzip or tar+zstd, detected from
 * the data) into a directory, refusing every path that would leave it, and
 * computes the layer's diff_id (sha256 of the uncompressed tar) on the way.
 * pea_layer_pack() is the reverse: a directory (a layer's diff) as a tar stream,
 * with overlay whiteouts turned back into ".wh." entries.
 *
 * Path safety: entry names are normalised ("./" and "/" prefixes and "//"
 * dropped); an entry or hard-link target with a ".." component fails with
 * -EBADMSG. Every parent directory is resolved inside the destination as if it
 * were "/" (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS, what container
 * engines do): a symlink "evil -> /etc" from this or a lower layer makes
 * "evil/passwd" land in DEST/etc/passwd, never in the host's /etc. The last
 * component of an entry is never followed. Hard-link targets may not cross any
 * symlink at all. Without openat2 (ENOSYS, or opts.no_openat2, or the
 * environment variable PEA_NO_OPENAT2=1) a component-by-component walk with
 * O_NOFOLLOW gives the same in-root result. Missing parent directories are
 * created (0755, owned by the caller), also through a dangling in-root symlink.
 *
 * Limits: PEA_LAYER_MAX_ENTRIES entries (opts.max_entries), PEA_LAYER_MAX_PATH
 * bytes per name and link target, PEA_LAYER_MAX_XATTR bytes per xattr value.
 * A malformed, truncated or oversized stream fails with -EBADMSG.
 */

struct pea_error;

#define PEA_LAYER_MAX_ENTRIES 1000000u
#define PEA_LAYER_MAX_PATH    4096u
#define PEA_LAYER_MAX_XATTR   65536u

/* How ".wh.NAME" and ".wh..wh..opq" entries are applied (and read back by pack). */
enum pea_whiteout_mode {
        /*
         * Native overlay layer directory: ".wh.NAME" becomes a character device
         * 0:0 named NAME, ".wh..wh..opq" the xattr trusted.overlay.opaque=y (or
         * user.overlay.opaque=y with opts.userxattr) on its directory. When
         * mknod or setxattr is refused (EPERM, ENOTSUP) the ".wh." file is kept
         * as in PEA_WHITEOUT_AUFS and stats.whiteout_fallbacks counts it.
         */
        PEA_WHITEOUT_OVERLAY,
        /* Keep ".wh." entries as empty regular files (fuse-overlayfs reads them). */
        PEA_WHITEOUT_AUFS,
        /*
         * vfs: the destination already holds the lower layers. ".wh.NAME"
         * removes NAME (recursively, without following symlinks); an opaque
         * marker empties its directory of everything this layer did not write.
         */
        PEA_WHITEOUT_APPLY,
        _PEA_WHITEOUT_MODE_MAX,
        _PEA_WHITEOUT_MODE_INVALID = -EINVAL,
};

enum pea_layer_compression {
        PEA_LAYER_COMPRESSION_NONE,
        PEA_LAYER_COMPRESSION_GZIP,
        PEA_LAYER_COMPRESSION_ZSTD,
        _PEA_LAYER_COMPRESSION_MAX,
        _PEA_LAYER_COMPRESSION_INVALID = -EINVAL,
};

struct pea_layer_unpack_opts {
        enum pea_whiteout_mode whiteout;
        /* Overlay xattrs in the user.overlay.* namespace (overlay in a user namespace). */
        bool userxattr;
        /*
         * Only one id is mapped: chown is skipped, every entry belongs to the
         * caller. Otherwise entries are chowned to their tar uid/gid (mapped by
         * the kernel when the caller runs inside a user namespace).
         */
        bool rootless_single_id;
        /* Use the fallback resolver even when openat2 is available (tests, CI). */
        bool no_openat2;
        /* 0 means PEA_LAYER_MAX_ENTRIES. */
        uint64_t max_entries;
        /* Cap on the uncompressed stream in bytes; 0 means none. */
        uint64_t max_size;
};

struct pea_layer_stats {
        /* "sha256:<hex>" of the uncompressed tar stream (the layer's diff_id). */
        char diff_id[72];
        /* "sha256:<hex>" of the stream as read or written (compressed) bytes. */
        char digest[72];
        uint64_t compressed_size;
        uint64_t uncompressed_size;
        /* Tar entries read or written, whiteouts included. */
        uint64_t entries;
        uint64_t whiteouts;
        /* Whiteouts kept as ".wh." files because mknod or setxattr was refused. */
        uint64_t whiteout_fallbacks;
        /* Device nodes not created because mknod failed with EPERM (rootless). */
        uint64_t skipped_devices;
        /* Xattrs not set: refused (EPERM, ENOTSUP), disallowed name, or too large. */
        uint64_t skipped_xattrs;
        /* Sockets and unknown entry types. */
        uint64_t skipped_other;
};

/*
 * Where pea_layer_unpack() reads the layer from, e.g. the registry client's
 * blob stream. read() fills up to len bytes and returns the count, 0 at the end,
 * or -errno; it may set *err (which is then passed on, wrapped).
 */
struct pea_layer_source {
        ssize_t (*read)(void *userdata, void *buf, size_t len, struct pea_error **err);
        void *userdata;
};

/* Where pea_layer_pack() writes to: write() takes all of buf or fails with -errno. */
struct pea_layer_sink {
        int (*write)(void *userdata, const void *buf, size_t len, struct pea_error **err);
        void *userdata;
};

/*
 * Applies the layer read from src into dest_dirfd (a directory fd, O_PATH is
 * fine). opts may be NULL (overlay mode, chown, openat2). ret_stats may be NULL.
 * Directories are created 0700 and get their mode and times at the end, in
 * reverse tar order. A tar that ends at a header boundary without the two zero
 * blocks is accepted (as Docker does): the caller checks stats.diff_id. On
 * failure the destination holds a partial layer: the caller removes it.
 */
int pea_layer_unpack(const struct pea_layer_source *src, int dest_dirfd,
                     const struct pea_layer_unpack_opts *opts, struct pea_layer_stats *ret_stats,
                     struct pea_error **err);

/* pea_layer_unpack() reading from a file descriptor until EOF. */
int pea_layer_unpack_fd(int src_fd, int dest_dirfd, const struct pea_layer_unpack_opts *opts,
                        struct pea_layer_stats *ret_stats, struct pea_error **err);

struct pea_layer_pack_opts {
        enum pea_layer_compression compression;
        /*
         * How the source directory marks deletions. PEA_WHITEOUT_OVERLAY: 0:0
         * character devices become ".wh.NAME" entries and directories with the
         * opaque xattr (trusted.overlay.opaque, or user.overlay.opaque with
         * userxattr) get a ".wh..wh..opq" entry. AUFS and APPLY: everything
         * is written as it is (".wh." files are already whiteouts).
         */
        enum pea_whiteout_mode whiteout;
        bool userxattr;
};

/*
 * Writes the tree under src_dirfd (not its root directory entry) as a pax tar
 * stream to dst, names sorted, hard links as link entries, security.capability
 * and user.* xattrs as SCHILY.xattr records, owners numeric. stats.diff_id is
 * the digest of the tar, stats.digest that of what was written to dst.
 */
int pea_layer_pack(int src_dirfd, const struct pea_layer_sink *dst,
                   const struct pea_layer_pack_opts *opts, struct pea_layer_stats *ret_stats,
                   struct pea_error **err);

/* pea_layer_pack() writing to a file descriptor. */
int pea_layer_pack_fd(int src_dirfd, int dst_fd, const struct pea_layer_pack_opts *opts,
                      struct pea_layer_stats *ret_stats, struct pea_error **err);

const char *pea_whiteout_mode_to_string(enum pea_whiteout_mode m);
/* "overlay", "aufs" or "apply"; -EINVAL otherwise. */
int pea_whiteout_mode_from_string(const char *s);
