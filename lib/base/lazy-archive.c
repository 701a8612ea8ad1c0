/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libarchive, loaded on first use (see lazy.h). Every libarchive function the
 * code base calls is defined here with the prototype of <archive.h> or
 * <archive_entry.h> and forwards to the real one; contrib/scripts/
 * check-lazy-symbols fails when a new one is used without a stub here. If
 * libarchive.so.13 cannot be loaded, constructors return NULL, int and
 * la_ssize_t functions ARCHIVE_FATAL, getters 0 and void functions nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "lazy.h"

static struct pea_lazy_lib libarchive = PEA_LAZY_LIB("libarchive.so.13");

PEA_LAZY_FN(libarchive, time_t, archive_entry_atime, (struct archive_entry * e), (e), 0)
PEA_LAZY_FN(libarchive, int, archive_entry_atime_is_set, (struct archive_entry * e), (e), 0)
PEA_LAZY_FN(libarchive, long, archive_entry_atime_nsec, (struct archive_entry * e), (e), 0)
PEA_LAZY_VOID(libarchive, archive_entry_copy_stat,
              (struct archive_entry * e, const struct stat *st), (e, st))
PEA_LAZY_FN(libarchive, __LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e), 0)
PEA_LAZY_VOID(libarchive, archive_entry_free, (struct archive_entry * e), (e))
PEA_LAZY_FN(libarchive, la_int64_t, archive_entry_gid, (struct archive_entry * e), (e), 0)
PEA_LAZY_FN(libarchive, const char *, archive_entry_hardlink, (struct archive_entry * e), (e), NULL)
PEA_LAZY_FN(libarchive, const char *, archive_entry_hardlink_utf8, (struct archive_entry * e), (e),
            NULL)
PEA_LAZY_VOID(libarchive, archive_entry_linkify,
              (struct archive_entry_linkresolver * r, struct archive_entry **e,
               struct archive_entry **spare),
              (r, e, spare))
PEA_LAZY_VOID(libarchive, archive_entry_linkresolver_free, (struct archive_entry_linkresolver * r),
              (r))
PEA_LAZY_FN(libarchive, struct archive_entry_linkresolver *, archive_entry_linkresolver_new, (void),
            (), NULL)
PEA_LAZY_VOID(libarchive, archive_entry_linkresolver_set_strategy,
              (struct archive_entry_linkresolver * r, int format), (r, format))
PEA_LAZY_FN(libarchive, time_t, archive_entry_mtime, (struct archive_entry * e), (e), 0)
PEA_LAZY_FN(libarchive, int, archive_entry_mtime_is_set, (struct archive_entry * e), (e), 0)
PEA_LAZY_FN(libarchive, long, archive_entry_mtime_nsec, (struct archive_entry * e), (e), 0)
PEA_LAZY_FN(libarchive, struct archive_entry *, archive_entry_new, (void), (), NULL)
PEA_LAZY_FN(libarchive, const char *, archive_entry_pathname, (struct archive_entry * e), (e), NULL)
PEA_LAZY_FN(libarchive, const char *, archive_entry_pathname_utf8, (struct archive_entry * e), (e),
            NULL)
PEA_LAZY_FN(libarchive, __LA_MODE_T, archive_entry_perm, (struct archive_entry * e), (e), 0)
PEA_LAZY_FN(libarchive, dev_t, archive_entry_rdevmajor, (struct archive_entry * e), (e), 0)
PEA_LAZY_FN(libarchive, dev_t, archive_entry_rdevminor, (struct archive_entry * e), (e), 0)
PEA_LAZY_VOID(libarchive, archive_entry_set_filetype, (struct archive_entry * e, unsigned int type),
              (e, type))
PEA_LAZY_VOID(libarchive, archive_entry_set_gid, (struct archive_entry * e, la_int64_t gid),
              (e, gid))
PEA_LAZY_VOID(libarchive, archive_entry_set_hardlink,
              (struct archive_entry * e, const char *target), (e, target))
PEA_LAZY_VOID(libarchive, archive_entry_set_mtime,
              (struct archive_entry * e, time_t sec, long nsec), (e, sec, nsec))
PEA_LAZY_VOID(libarchive, archive_entry_set_pathname, (struct archive_entry * e, const char *path),
              (e, path))
PEA_LAZY_VOID(libarchive, archive_entry_set_perm, (struct archive_entry * e, __LA_MODE_T perm),
              (e, perm))
PEA_LAZY_VOID(libarchive, archive_entry_set_rdev, (struct archive_entry * e, dev_t rdev), (e, rdev))
PEA_LAZY_VOID(libarchive, archive_entry_set_size, (struct archive_entry * e, la_int64_t size),
              (e, size))
PEA_LAZY_VOID(libarchive, archive_entry_set_symlink, (struct archive_entry * e, const char *target),
              (e, target))
PEA_LAZY_VOID(libarchive, archive_entry_set_uid, (struct archive_entry * e, la_int64_t uid),
              (e, uid))
PEA_LAZY_FN(libarchive, la_int64_t, archive_entry_size, (struct archive_entry * e), (e), 0)
PEA_LAZY_FN(libarchive, int, archive_entry_size_is_set, (struct archive_entry * e), (e), 0)
PEA_LAZY_FN(libarchive, const char *, archive_entry_symlink, (struct archive_entry * e), (e), NULL)
PEA_LAZY_FN(libarchive, const char *, archive_entry_symlink_utf8, (struct archive_entry * e), (e),
            NULL)
PEA_LAZY_FN(libarchive, la_int64_t, archive_entry_uid, (struct archive_entry * e), (e), 0)
PEA_LAZY_VOID(libarchive, archive_entry_unset_atime, (struct archive_entry * e), (e))
PEA_LAZY_VOID(libarchive, archive_entry_unset_birthtime, (struct archive_entry * e), (e))
PEA_LAZY_VOID(libarchive, archive_entry_unset_ctime, (struct archive_entry * e), (e))
PEA_LAZY_VOID(libarchive, archive_entry_xattr_add_entry,
              (struct archive_entry * e, const char *name, const void *value, size_t size),
              (e, name, value, size))
PEA_LAZY_FN(libarchive, int, archive_entry_xattr_next,
            (struct archive_entry * e, const char **name, const void **value, size_t *size),
            (e, name, value, size), ARCHIVE_WARN)
PEA_LAZY_FN(libarchive, int, archive_entry_xattr_reset, (struct archive_entry * e), (e), 0)
PEA_LAZY_FN(libarchive, int, archive_errno, (struct archive * a), (a), ENOSYS)
PEA_LAZY_FN(libarchive, const char *, archive_error_string, (struct archive * a), (a),
            "libarchive is not available")
PEA_LAZY_FN(libarchive, la_ssize_t, archive_read_data, (struct archive * a, void *buf, size_t size),
            (a, buf, size), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_data_block,
            (struct archive * a, const void **buf, size_t *size, la_int64_t *offset),
            (a, buf, size, offset), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_data_skip, (struct archive * a), (a), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_free, (struct archive * a), (a), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, struct archive *, archive_read_new, (void), (), NULL)
PEA_LAZY_FN(libarchive, int, archive_read_next_header,
            (struct archive * a, struct archive_entry **e), (a, e), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_open,
            (struct archive * a, void *data, archive_open_callback *open_cb,
             archive_read_callback *read_cb, archive_close_callback *close_cb),
            (a, data, open_cb, read_cb, close_cb), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_open_fd, (struct archive * a, int fd, size_t block_size),
            (a, fd, block_size), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_open_filename,
            (struct archive * a, const char *filename, size_t block_size),
            (a, filename, block_size), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_open_memory,
            (struct archive * a, const void *buf, size_t size), (a, buf, size), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_support_filter_all, (struct archive * a), (a),
            ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_support_filter_gzip, (struct archive * a), (a),
            ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_support_filter_zstd, (struct archive * a), (a),
            ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_support_format_empty, (struct archive * a), (a),
            ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_support_format_raw, (struct archive * a), (a),
            ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_read_support_format_tar, (struct archive * a), (a),
            ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_add_filter_gzip, (struct archive * a), (a),
            ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_add_filter_zstd, (struct archive * a), (a),
            ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_close, (struct archive * a), (a), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, la_ssize_t, archive_write_data,
            (struct archive * a, const void *buf, size_t size), (a, buf, size), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_free, (struct archive * a), (a), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_header, (struct archive * a, struct archive_entry *e),
            (a, e), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, struct archive *, archive_write_new, (void), (), NULL)
PEA_LAZY_FN(libarchive, int, archive_write_open,
            (struct archive * a, void *data, archive_open_callback *open_cb,
             archive_write_callback *write_cb, archive_close_callback *close_cb),
            (a, data, open_cb, write_cb, close_cb), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_open_memory,
            (struct archive * a, void *buf, size_t size, size_t *used), (a, buf, size, used),
            ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_open_filename,
            (struct archive * a, const char *filename), (a, filename), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_set_bytes_in_last_block, (struct archive * a, int bytes),
            (a, bytes), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_set_bytes_per_block, (struct archive * a, int bytes),
            (a, bytes), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_set_filter_option,
            (struct archive * a, const char *m, const char *o, const char *v), (a, m, o, v),
            ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_set_format_pax, (struct archive * a), (a), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_set_format_pax_restricted, (struct archive * a), (a),
            ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_set_format_raw, (struct archive * a), (a), ARCHIVE_FATAL)
PEA_LAZY_FN(libarchive, int, archive_write_set_options, (struct archive * a, const char *opts),
            (a, opts), ARCHIVE_FATAL)

/* Variadic: formatted here, handed on as a plain string. */
void archive_set_error(struct archive *a, int error, const char *fmt, ...)
{
        static __typeof__(&archive_set_error) real;
        __typeof__(&archive_set_error) fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
        char msg[1024];
        va_list ap;

        if (!fn) {
                fn = (__typeof__(&archive_set_error))pea_lazy_sym(&libarchive, "archive_set_error");
                if (!fn)
                        return;
                __atomic_store_n(&real, fn, __ATOMIC_RELEASE);
        }
        if (!fmt) {
                fn(a, error, NULL);
                return;
        }
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        fn(a, error, "%s", msg);
}
