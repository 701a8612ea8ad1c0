/* SPDX-License-Identifier: Apache-2.0 */
/* pea cp: files between a container and the host, or a tar stream on stdin/stdout. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <jansson.h>

#include "cmd.h"
#include "container/container.h"
#include "image.h"
#include "run.h"
#include "state/state.h"

struct pea_cp_opts {
        bool archive;
        bool overwrite;
        bool single_id; /* rootless with one mapped id: nothing can be chowned */
};

/* One side of the copy: a container path (ctr set) or a host path. */
struct cp_side {
        char *ctr;
        char *path;
};

static void cp_side_done(struct cp_side *s)
{
        free(s->ctr);
        free(s->path);
}

struct cp_job {
        struct pea_run_env env;
        struct pea_container_row row;
        struct pea_container_mount mnt;
        bool mounted;
};

static void cp_job_done(struct cp_job *j)
{
        if (j->mounted)
                pea_container_cp_umount(&j->env.ctx, j->row.id, &j->mnt);
        pea_container_row_done(&j->row);
        pea_run_env_done(&j->env);
}

static int not_found(const char *path, const char *ctr, int code, struct pea_error **err)
{
        if (ctr)
                return pea_error_set(err, code, "\"%s\" could not be found on container %s: %s",
                                     path, ctr,
                                     code == ENOENT ? "no such file or directory" : strerror(code));
        return pea_error_set(err, code, "\"%s\" could not be found on the host: %s", path,
                             code == ENOENT ? "no such file or directory" : strerror(code));
}

static int tmpfile_fd(struct pea_error **err)
{
        const char *d = getenv("TMPDIR");
        if (!d || !*d)
                d = "/var/tmp";
        int fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating a temporary file in '%s'", d);
        return fd;
}

/* Opens a path on the host (following symlinks) as O_PATH. */
static int host_open(const char *path, struct stat *st, struct pea_error **err)
{
        int fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return not_found(path, NULL, errno, err);
        if (fstat(fd, st) < 0) {
                int e = errno;
                (void)close(fd);
                return pea_error_syscall(err, e, "'%s'", path);
        }
        return fd;
}

/* Opens a path in the container (or on the host when rootfd < 0); -ENOENT without err. */
static int side_open(int rootfd, const char *path, struct stat *st)
{
        if (rootfd >= 0)
                return pea_container_cp_resolve(rootfd, path, st, NULL);
        int fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, st) < 0) {
                (void)close(fd);
                return -EIO;
        }
        return fd;
}

/* Checks the overwrite rule on the entry that would be replaced. */
static int check_overwrite(int dirfd, const char *name, bool src_is_dir, const char *dir,
                           const struct pea_cp_opts *o, struct pea_error **err)
{
        struct stat st;
        if (o->overwrite || !*name || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        if (S_ISDIR(st.st_mode) == src_is_dir)
                return 0;
        size_t n = strlen(dir);
        while (n > 0 && dir[n - 1] == '/')
                n--;
        _cleanup_free_ char *path = xasprintf("%.*s/%s", (int)n, dir, name);
        if (S_ISDIR(st.st_mode))
                return pea_error_set(err, EEXIST,
                                     "cannot overwrite directory \"%s\" with non-directory", path);
        return pea_error_set(err, EEXIST, "cannot overwrite non-directory \"%s\" with directory",
                             path);
}

/*
 * Where src lands: opens the directory to unpack into (in the container when
 * rootfd >= 0) and gives the top entry's name.
 */
static int open_dest(int rootfd, const char *ctr, const char *src, bool src_is_dir,
                     const char *dest, bool overwrite, char **ret_dir, char **ret_name,
                     struct pea_error **err)
{
        struct stat st;
        int fd = side_open(rootfd, dest, &st);
        enum pea_cp_dest_kind kind = fd < 0                ? PEA_CP_DEST_MISSING
                                     : S_ISDIR(st.st_mode) ? PEA_CP_DEST_DIR
                                                           : PEA_CP_DEST_FILE;
        if (fd >= 0)
                (void)close(fd);
        /* --overwrite: a directory replaces the file of that name */
        if (overwrite && src_is_dir && kind == PEA_CP_DEST_FILE)
                kind = PEA_CP_DEST_MISSING;
        _cleanup_free_ char *dir = NULL, *name = NULL;
        _cleanup_error_ struct pea_error *e = NULL;
        int r = pea_container_cp_plan(src, src_is_dir, dest, kind, &dir, &name, &e);
        if (r == -ENOENT)
                return not_found(dest, ctr, ENOENT, err);
        if (r < 0) {
                *err = TAKE_PTR(e);
                return r;
        }
        fd = side_open(rootfd, dir, &st);
        if (fd < 0)
                return not_found(dest, ctr, -fd, err);
        if (!S_ISDIR(st.st_mode)) {
                (void)close(fd);
                return not_found(dest, ctr, ENOTDIR, err);
        }
        *ret_dir = TAKE_PTR(dir);
        *ret_name = TAKE_PTR(name);
        return fd;
}

/* Packs src_fd into a temporary file and unpacks it into dest (in the container when rootfd >= 0).
 */
static int copy_via_tar(int src_fd, const char *src, bool src_is_dir, int rootfd, const char *ctr,
                        const char *dest, const struct pea_container_cp_owner *owner, bool chown,
                        const struct pea_cp_opts *o, struct pea_error **err)
{
        _cleanup_free_ char *dir = NULL, *name = NULL;
        _cleanup_close_ int dirfd =
                open_dest(rootfd, ctr, src, src_is_dir, dest, o->overwrite, &dir, &name, err);
        if (dirfd < 0)
                return dirfd;
        int r = check_overwrite(dirfd, name, src_is_dir, dir, o, err);
        if (r < 0)
                return r;
        _cleanup_close_ int tfd = tmpfile_fd(err);
        if (tfd < 0)
                return tfd;
        r = pea_container_cp_pack_fd(src_fd, name, owner, tfd, err);
        if (r >= 0 && lseek(tfd, 0, SEEK_SET) < 0)
                r = pea_error_syscall(err, errno, "rewinding the temporary file");
        if (r >= 0)
                r = pea_container_cp_unpack_fd(tfd, dirfd, chown, err);
        return r;
}

/* The name the top entry gets in a tar stream on stdout. */
static char *stream_name(const char *src, bool is_dir)
{
        if (is_dir && pea_container_cp_wants_contents(src))
                return xstrdup("");
        _cleanup_free_ char *dir = NULL, *name = NULL;
        if (pea_container_cp_plan(src, is_dir, "/x", PEA_CP_DEST_DIR, &dir, &name, NULL) < 0)
                return xstrdup("");
        return TAKE_PTR(name);
}

static int copy_out(struct cp_job *j, const struct cp_side *src, const struct cp_side *dst,
                    const struct pea_cp_opts *o, struct pea_error **err)
{
        struct stat st;
        _cleanup_close_ int fd = pea_container_cp_resolve(j->mnt.rootfd, src->path, &st, NULL);
        if (fd < 0)
                return not_found(src->path, src->ctr, -fd, err);
        bool is_dir = S_ISDIR(st.st_mode);
        if (streq(dst->path, "-")) {
                _cleanup_free_ char *name = stream_name(src->path, is_dir);
                if (!is_dir && !*name)
                        return pea_error_set(err, EINVAL, "invalid source '%s'", src->path);
                return pea_container_cp_pack_fd(fd, name, NULL, STDOUT_FILENO, err);
        }
        return copy_via_tar(fd, src->path, is_dir, -1, NULL, dst->path, NULL, false, o, err);
}

/* The owner copied files get with --archive: the container's user when numeric, else root. */
static struct pea_container_cp_owner archive_owner(const struct pea_container_row *row)
{
        struct pea_container_cp_owner ow = {0, 0};
        const char *user = json_string_value(json_object_get(row->config, "user"));
        unsigned u = 0, g = 0;
        if (!user || !*user)
                return ow;
        _cleanup_free_ char *copy = xstrdup(user);
        char *colon = strchr(copy, ':');
        if (colon)
                *colon = '\0';
        if (safe_atou32(copy, &u) >= 0) {
                ow.uid = u;
                ow.gid = colon && safe_atou32(colon + 1, &g) >= 0 ? g : u;
        }
        return ow;
}

static int copy_in(struct cp_job *j, const struct cp_side *src, const struct cp_side *dst,
                   const struct pea_cp_opts *o, struct pea_error **err)
{
        struct stat st;
        if (streq(src->path, "-")) {
                _cleanup_close_ int dfd =
                        pea_container_cp_resolve(j->mnt.rootfd, dst->path, &st, NULL);
                if (dfd < 0 || !S_ISDIR(st.st_mode))
                        return pea_error_set(err, ENOTDIR,
                                             "destination must be a directory when copying from "
                                             "stdin");
                return pea_container_cp_unpack_fd(STDIN_FILENO, dfd, !o->single_id, err);
        }
        _cleanup_close_ int fd = host_open(src->path, &st, err);
        if (fd < 0)
                return fd;
        struct pea_container_cp_owner ow = archive_owner(&j->row);
        return copy_via_tar(fd, src->path, S_ISDIR(st.st_mode), j->mnt.rootfd, dst->ctr, dst->path,
                            o->archive ? &ow : NULL, !o->single_id, o, err);
}

static int cp_run(struct pea_cli *cli, const struct cp_side *src, const struct cp_side *dst,
                  const struct pea_cp_opts *o, struct pea_error **err)
{
        const char *ctr = src->ctr ? src->ctr : dst->ctr;
        _cleanup_(cp_job_done) struct cp_job j = {};
        int r = pea_run_env_open(cli, &j.env, err);
        if (r >= 0)
                r = pea_cmd_container_get(&j.env.ctx, ctr, &j.row, err);
        if (r >= 0)
                r = pea_container_cp_mount(&j.env.ctx, j.row.id, &j.mnt, err);
        if (r < 0)
                return r;
        j.mounted = true;
        if (src->ctr)
                return copy_out(&j, src, dst, o, err);
        return copy_in(&j, src, dst, o, err);
}

enum { OPT_OVERWRITE = 0x100 };

static int parse(struct pea_cli *cli, int argc, char **argv, struct pea_cp_opts *o,
                 struct pea_error **err)
{
        static const struct option longopts[] = {
                {"archive", optional_argument, NULL, 'a'},
                {"overwrite", no_argument, NULL, OPT_OVERWRITE},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":a::h", longopts, NULL)) != -1) {
                switch (c) {
                case 'a': {
                        const char *v = optarg && optarg[0] == '=' ? optarg + 1 : optarg;
                        int r = pea_cmd_parse_bool("archive", v, &o->archive, err);
                        if (r < 0)
                                return r;
                        break;
                }
                case OPT_OVERWRITE:
                        o->overwrite = true;
                        break;
                case 'h':
                        pea_cli_print_help(cli, &pea_cmd_cp);
                        return 1;
                default:
                        return pea_cli_opt_error(c, argc, argv, err);
                }
        }
        return pea_cli_check_args(cli, argc - optind, 2, 2, err);
}

static int cmd_cp(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct pea_cp_opts o = {.archive = true};
        int r = parse(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        struct pea_image_pull_opts po;
        pea_cmd_pull_defaults(cli, &po);
        o.single_id = po.single_id;
        _cleanup_(cp_side_done) struct cp_side src = {}, dst = {};
        r = pea_container_cp_parse_arg(argv[optind], &src.ctr, &src.path, err);
        if (r >= 0)
                r = pea_container_cp_parse_arg(argv[optind + 1], &dst.ctr, &dst.path, err);
        if (r < 0)
                return r;
        if (!src.ctr == !dst.ctr)
                return pea_error_set(err, EINVAL,
                                     "invalid arguments %s, %s you must use just one container",
                                     argv[optind], argv[optind + 1]);
        if (streq(src.path, "-") && streq(dst.path, "-"))
                return pea_error_set(err, EINVAL, "cannot copy from stdin to stdout");
        r = cp_run(cli, &src, &dst, &o, err);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_cp = {
        .name = "cp",
        .fn = cmd_cp,
        .flags = PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS,
        .summary = "Copy files/folders between a container and the local filesystem",
        .usage = "[options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
        .options =
                "  -a, --archive     Chown copied files to the primary uid/gid of the destination "
                "container. (default true)\n"
                "      --overwrite   Allow to overwrite directories with non-directories and "
                "vice versa\n",
};
