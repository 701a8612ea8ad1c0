/* SPDX-License-Identifier: Apache-2.0 */
/* pea push, save, load and import: images to and from registries, archives and tarballs. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <curl/curl.h>

#include "cmd.h"
#include "image.h"
#include "image/transfer.h"
#include "layer/layer.h"

#define STORE_FLAGS (PEA_NEEDS_CONFIG | PEA_NEEDS_DIRS | PEA_NEEDS_STATE | PEA_NEEDS_USERNS)

/* ---- shared -------------------------------------------------------------------------------- */

static void progress_line(void *userdata _unused_, enum pea_transfer_event ev, const char *digest)
{
        _cleanup_free_ char *line = pea_transfer_event_line(ev, digest);
        fprintf(stderr, "%s\n", line);
}

static struct pea_transfer_progress progress(bool quiet)
{
        return (struct pea_transfer_progress){.fn = quiet ? NULL : progress_line};
}

static const char *tmpdir(const struct pea_cli *cli)
{
        const char *d = pea_config_get(&cli->config, "engine.image_copy_tmp_dir", NULL);
        return d && *d && !streq(d, "storage") ? d : NULL;
}

static void unpack_opts(const struct pea_cli *cli, struct pea_layer_unpack_opts *ret)
{
        struct pea_image_pull_opts o;
        pea_cmd_pull_defaults(cli, &o);
        *ret = (struct pea_layer_unpack_opts){.whiteout = (enum pea_whiteout_mode)o.whiteout,
                                              .userxattr = o.userxattr,
                                              .rootless_single_id = o.single_id};
}

/* Handles -h and getopt's errors: 1 after --help, < 0 on a bad flag, 0 otherwise. */
static int opt_common(struct pea_cli *cli, const struct pea_cmd *cmd, int c, int argc, char **argv,
                      struct pea_error **err)
{
        if (c == 'h') {
                pea_cli_print_help(cli, cmd);
                return 1;
        }
        if (c == '?' || c == ':')
                return pea_cli_opt_error(c, argc, argv, err);
        return 0;
}

/* ---- push: the registry target ------------------------------------------------------------- */

struct push_target {
        struct pea_registry_client *client;
        const char *repo;
        const char *ref;
};

static int t_blob_exists(void *userdata, const char *digest, struct pea_error **err)
{
        struct push_target *t = userdata;
        return pea_registry_blob_exists(t->client, t->repo, digest, NULL, err);
}

struct fd_reader {
        int fd;
        off_t off;
};

static ssize_t fd_read(void *userdata, void *buf, size_t len, struct pea_error **err)
{
        struct fd_reader *f = userdata;
        ssize_t n;
        do
                n = pread(f->fd, buf, len, f->off);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return pea_error_syscall(err, errno, "reading a blob");
        f->off += n;
        return n;
}

static int fd_rewind(void *userdata, struct pea_error **err _unused_)
{
        ((struct fd_reader *)userdata)->off = 0;
        return 0;
}

static ssize_t no_bytes(void *userdata _unused_, void *buf _unused_, size_t len _unused_,
                        struct pea_error **err)
{
        return pea_error_set(err, ENODATA, "blob not available for upload");
}

/* A mount without local bytes: 1 when mounted, 0 when the registry would want an upload. */
static int mount_only(struct push_target *t, const struct pea_push_blob *b, struct pea_error **err)
{
        int r = pea_registry_blob_exists(t->client, b->mount_from, b->digest, NULL, err);
        if (r <= 0)
                return r;
        struct pea_registry_blob_upload up = {.digest = b->digest,
                                              .size = b->size,
                                              .mount_from = b->mount_from,
                                              .read = no_bytes};
        r = pea_registry_put_blob(t->client, t->repo, &up, err);
        if (r == -ENODATA) {
                pea_error_clear(err);
                return 0;
        }
        return r;
}

static int t_put_blob(void *userdata, const struct pea_push_blob *b, struct pea_error **err)
{
        struct push_target *t = userdata;
        if (b->fd < 0 && !b->data)
                return b->mount_from ? mount_only(t, b, err) : 0;
        if (b->fd < 0)
                return pea_registry_put_blob_data(t->client, t->repo, b->data, (size_t)b->size,
                                                  NULL, err);
        struct fd_reader f = {.fd = b->fd};
        struct pea_registry_blob_upload up = {.digest = b->digest,
                                              .size = b->size,
                                              .mount_from = b->mount_from,
                                              .read = fd_read,
                                              .rewind = fd_rewind,
                                              .userdata = &f};
        return pea_registry_put_blob(t->client, t->repo, &up, err);
}

static int t_put_manifest(void *userdata, const char *media_type, const void *data, size_t len,
                          struct pea_error **err)
{
        struct push_target *t = userdata;
        return pea_registry_put_manifest(t->client, t->repo, t->ref, media_type, data, len, NULL,
                                         err);
}

/* ---- pea push ------------------------------------------------------------------------------ */

struct push_opts {
        struct pea_cmd_registry_flags rf;
        int format;
        const char *digestfile;
        bool quiet;
};

enum {
        OPT_DIGESTFILE = 0x100,
        OPT_IGNORED,
        OPT_IGNORED_ARG,
};

static int push_format(const char *s, int *ret, struct pea_error **err)
{
        if (streq(s, "oci"))
                *ret = PEA_MANIFEST_OCI;
        else if (streq(s, "v2s2") || streq(s, "docker"))
                *ret = PEA_MANIFEST_DOCKER_V2S2;
        else
                return pea_error_set(err, EINVAL, "unsupported manifest type \"%s\"", s);
        return 0;
}

static int push_opt(struct push_opts *o, int c, struct pea_error **err)
{
        int r = pea_cmd_registry_opt(&o->rf, c, optarg, err);
        if (r != 0)
                return r < 0 ? r : 0;
        switch (c) {
        case 'q':
                o->quiet = true;
                break;
        case 'f':
                r = push_format(optarg, &o->format, err);
                break;
        case OPT_DIGESTFILE:
                o->digestfile = optarg;
                break;
        default:
                break;
        }
        return r;
}

static int parse_push(struct pea_cli *cli, int argc, char **argv, struct push_opts *o,
                      struct pea_error **err)
{
        static const struct option longopts[] = {
                {"authfile", required_argument, NULL, PEA_CMD_OPT_AUTHFILE},
                {"cert-dir", required_argument, NULL, PEA_CMD_OPT_CERT_DIR},
                {"compress", no_argument, NULL, OPT_IGNORED},
                {"compression-format", required_argument, NULL, OPT_IGNORED_ARG},
                {"creds", required_argument, NULL, PEA_CMD_OPT_CREDS},
                {"digestfile", required_argument, NULL, OPT_DIGESTFILE},
                {"disable-content-trust", optional_argument, NULL, OPT_IGNORED},
                {"format", required_argument, NULL, 'f'},
                {"quiet", no_argument, NULL, 'q'},
                {"remove-signatures", no_argument, NULL, OPT_IGNORED},
                {"sign-by", required_argument, NULL, OPT_IGNORED_ARG},
                {"tls-verify", optional_argument, NULL, PEA_CMD_OPT_TLS_VERIFY},
                PEA_HELP_OPTION,
                {},
        };
        *o = (struct push_opts){.rf = {.tls_verify = -1}, .format = -1};
        int c;
        while ((c = getopt_long(argc, argv, ":f:qh", longopts, NULL)) != -1) {
                int r = opt_common(cli, &pea_cmd_push, c, argc, argv, err);
                if (r == 0)
                        r = push_opt(o, c, err);
                if (r != 0)
                        return r;
        }
        return pea_cli_check_args(cli, argc - optind, 1, 2, err);
}

static bool push_insecure(const struct pea_registries *regs, const char *dest, int tls_verify)
{
        if (tls_verify >= 0)
                return tls_verify == 0;
        const struct pea_registry *reg = pea_registries_find(regs, dest);
        return reg && reg->insecure;
}

static int check_authfile(const char *path, struct pea_error **err)
{
        struct stat st;
        if (!path || stat(path, &st) == 0)
                return 0;
        return pea_error_syscall(err, errno, "checking authfile: stat %s", path);
}

static int write_digestfile(const char *path, const char *digest, struct pea_error **err)
{
        if (!path)
                return 0;
        return pea_write_file_atomic_at(AT_FDCWD, path, digest, strlen(digest), 0644, err);
}

static int push_registry(struct pea_image_store *store, const struct pea_registries *regs,
                         const char *image, const char *dest, const struct push_opts *o,
                         const char *tmp, struct pea_error **err)
{
        _cleanup_image_ref_ struct pea_image_ref ref = {0};
        int r = pea_image_ref_parse_normalized(dest, &ref, err);
        if (r >= 0)
                r = check_authfile(o->rf.authfile, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *full = pea_image_ref_string(&ref);
        struct pea_registry_opts ro = {.insecure = push_insecure(regs, full, o->rf.tls_verify),
                                       .cert_dir = o->rf.cert_dir,
                                       .creds = o->rf.creds,
                                       .authfile = o->rf.authfile};
        struct pea_registry_client *client = NULL;
        r = pea_registry_client_new(ref.domain, &ro, &client, err);
        if (r < 0)
                return r;
        struct push_target pt = {
                .client = client, .repo = ref.path, .ref = ref.tag ? ref.tag : ref.digest};
        struct pea_push_target t = {.registry = ref.domain,
                                    .repository = ref.path,
                                    .blob_exists = t_blob_exists,
                                    .put_blob = t_put_blob,
                                    .put_manifest = t_put_manifest,
                                    .userdata = &pt};
        struct pea_push_opts po = {
                .format = o->format, .tmpdir = tmp, .progress = progress(o->quiet)};
        _cleanup_free_ char *digest = NULL;
        r = pea_image_push(store, image, &t, &po, &digest, err);
        pea_registry_client_free(client);
        if (r >= 0)
                r = write_digestfile(o->digestfile, digest, err);
        return r;
}

/* "oci-archive:PATH" and friends: push writes an archive. 1 when dest was one. */
static int push_archive(struct pea_image_store *store, const char *image, const char *dest,
                        const struct push_opts *o, const char *tmp, struct pea_error **err)
{
        static const struct {
                const char *prefix;
                enum pea_archive_format format;
        } transports[] = {{"docker-archive:", PEA_ARCHIVE_DOCKER},
                          {"oci-archive:", PEA_ARCHIVE_OCI},
                          {"oci:", PEA_ARCHIVE_OCI_DIR},
                          {"dir:", PEA_ARCHIVE_DOCKER_DIR}};

        for (size_t i = 0; i < ELEMENTSOF(transports); i++) {
                const char *path = startswith(dest, transports[i].prefix);
                if (!path)
                        continue;
                char *images[] = {(char *)image, NULL};
                struct pea_save_opts so = {.format = transports[i].format,
                                           .tmpdir = tmp,
                                           .progress = progress(o->quiet)};
                int r = pea_image_save(store, images, path, &so, err);
                return r < 0 ? r : 1;
        }
        return 0;
}

static int cmd_push(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct push_opts o;
        int r = parse_push(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        const char *image = argv[optind];
        const char *dest = optind + 1 < argc ? argv[optind + 1] : image;
        const char *d = startswith(dest, "docker://");
        dest = d ? d : dest;
        struct pea_registries regs = {0};
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        r = pea_cmd_open_store(cli, &store, &regs, err);
        if (r >= 0)
                r = push_archive(store, image, dest, &o, tmpdir(cli), err);
        if (r == 0)
                r = push_registry(store, &regs, image, dest, &o, tmpdir(cli), err);
        if (r >= 0)
                pea_cmd_event(cli->config.run_root, "image", "push", NULL, dest);
        pea_registries_done(&regs);
        return r < 0 ? r : 0;
}

#define PUSH_OPTIONS                                                                              \
        "      --authfile string        path of the authentication file\n"                        \
        "      --cert-dir string        use certificates at the specified path to access the "    \
        "registry\n"                                                                              \
        "      --creds string           use `[username[:password]]` for accessing the registry\n" \
        "      --digestfile string      write the digest of the pushed image to the specified "   \
        "file\n"                                                                                  \
        "  -f, --format string          manifest type (oci, v2s2) to use in the destination\n"    \
        "  -q, --quiet                  suppress output information when pushing images\n"        \
        "      --remove-signatures      discard any pre-existing signatures in the image\n"       \
        "      --tls-verify             require HTTPS and verify certificates when contacting "   \
        "registries (default true)\n"

const struct pea_cmd pea_cmd_push = {
        .name = "push",
        .fn = cmd_push,
        .flags = STORE_FLAGS,
        .summary = "Push an image to a specified destination",
        .usage = "[options] IMAGE [DESTINATION]",
        .options = PUSH_OPTIONS,
};

/* ---- pea save ------------------------------------------------------------------------------ */

struct save_opts {
        const char *output;
        enum pea_archive_format format;
        bool quiet;
};

static int parse_save(struct pea_cli *cli, int argc, char **argv, struct save_opts *o,
                      struct pea_error **err)
{
        static const struct option longopts[] = {
                {"compress", no_argument, NULL, OPT_IGNORED},
                {"format", required_argument, NULL, 'F'},
                {"multi-image-archive", no_argument, NULL, 'm'},
                {"output", required_argument, NULL, 'o'},
                {"quiet", no_argument, NULL, 'q'},
                {"uncompressed", no_argument, NULL, OPT_IGNORED},
                PEA_HELP_OPTION,
                {},
        };
        *o = (struct save_opts){.format = PEA_ARCHIVE_DOCKER};
        int c;
        while ((c = getopt_long(argc, argv, ":mo:qh", longopts, NULL)) != -1) {
                int r = opt_common(cli, &pea_cmd_save, c, argc, argv, err);
                if (r != 0)
                        return r;
                if (c == 'o')
                        o->output = optarg;
                else if (c == 'q')
                        o->quiet = true;
                else if (c == 'F' && (o->format = pea_archive_format_from_string(optarg)) < 0)
                        return pea_error_set(err, EINVAL, "unsupported format \"%s\"", optarg);
        }
        return pea_cli_check_args(cli, argc - optind, 1, -1, err);
}

/* -o naming a device or a pipe (/dev/stdout): written directly, not replaced. */
static bool output_is_special(const char *path)
{
        struct stat st;
        return startswith(path, "/dev/") || startswith(path, "/proc/")
               || (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode));
}

static int save_special(struct pea_image_store *store, char **images, const char *path,
                        const struct pea_save_opts *so, struct pea_error **err)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", path);
        return pea_image_save_fd(store, images, fd, so, err);
}

static int cmd_save(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct save_opts o;
        int r = parse_save(cli, argc, argv, &o, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!o.output && isatty(STDOUT_FILENO))
                return pea_error_set(err, EINVAL,
                                     "refusing to save to terminal. Use -o flag or redirect");
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        r = pea_cmd_open_store(cli, &store, NULL, err);
        if (r < 0)
                return r;
        struct pea_save_opts so = {
                .format = o.format, .tmpdir = tmpdir(cli), .progress = progress(o.quiet)};
        char **images = argv + optind;
        if (!o.output)
                r = pea_image_save_fd(store, images, STDOUT_FILENO, &so, err);
        else if (output_is_special(o.output))
                r = save_special(store, images, o.output, &so, err);
        else
                r = pea_image_save(store, images, o.output, &so, err);
        for (char **i = images; r >= 0 && *i; i++)
                pea_cmd_event(cli->config.run_root, "image", "save", NULL, *i);
        return r < 0 ? r : 0;
}

#define SAVE_OPTIONS                                                                               \
        "      --compress               compress tarball image layers when saving to a directory " \
        "(accepted)\n"                                                                             \
        "      --format string          save image to oci-archive, oci-dir (directory with oci "   \
        "manifest type), docker-archive, docker-dir (directory with v2s2 manifest type) "          \
        "(default \"docker-archive\")\n"                                                           \
        "  -m, --multi-image-archive    interpret additional arguments as images not tags and "    \
        "create a multi-image-archive (only for docker-archive and oci-archive)\n"                 \
        "  -o, --output string          write to a specified file (default: stdout, which must "   \
        "be redirected)\n"                                                                         \
        "  -q, --quiet                  suppress the output\n"

const struct pea_cmd pea_cmd_save = {
        .name = "save",
        .fn = cmd_save,
        .flags = STORE_FLAGS,
        .summary = "Save image(s) to an archive",
        .usage = "[options] IMAGE [IMAGE...]",
        .options = SAVE_OPTIONS,
};

/* ---- pea load ------------------------------------------------------------------------------ */

static int cmd_load(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        static const struct option longopts[] = {
                {"input", required_argument, NULL, 'i'},
                {"quiet", no_argument, NULL, 'q'},
                {"signature-policy", required_argument, NULL, OPT_IGNORED_ARG},
                PEA_HELP_OPTION,
                {},
        };
        const char *input = NULL;
        bool quiet = false;
        int c, r;
        while ((c = getopt_long(argc, argv, ":i:qh", longopts, NULL)) != -1) {
                r = opt_common(cli, &pea_cmd_load, c, argc, argv, err);
                if (r != 0)
                        return r < 0 ? r : 0;
                if (c == 'i')
                        input = optarg;
                else if (c == 'q')
                        quiet = true;
        }
        r = pea_cli_check_args(cli, argc - optind, 0, 0, err);
        if (r < 0)
                return r;
        if (!input && isatty(STDIN_FILENO))
                return pea_error_set(err, EINVAL,
                                     "cannot read from terminal, use command-line redirection "
                                     "or the --input flag");
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        r = pea_cmd_open_store(cli, &store, NULL, err);
        if (r < 0)
                return r;
        struct pea_layer_unpack_opts uo;
        unpack_opts(cli, &uo);
        struct pea_load_opts lo = {
                .tmpdir = tmpdir(cli), .unpack = &uo, .progress = progress(quiet)};
        _cleanup_strv_ char **loaded = NULL;
        r = input ? pea_image_load(store, input, &lo, &loaded, err)
                  : pea_image_load_fd(store, STDIN_FILENO, &lo, &loaded, err);
        STRV_FOREACH(l, loaded)
                printf("Loaded image: %s\n", *l);
        STRV_FOREACH(l, loaded)
                pea_cmd_event(cli->config.run_root, "image", "load", NULL, *l);
        return r < 0 ? r : 0;
}

const struct pea_cmd pea_cmd_load = {
        .name = "load",
        .fn = cmd_load,
        .flags = STORE_FLAGS,
        .summary = "Load image(s) from a tar archive",
        .usage = "[options]",
        .options = "  -i, --input string   read from specified archive file (default: stdin)\n"
                   "  -q, --quiet          suppress the output\n",
};

/* ---- pea import ---------------------------------------------------------------------------- */

static size_t curl_write(char *buf, size_t size, size_t n, void *userdata)
{
        int fd = *(int *)userdata;
        size_t len = size * n, done = 0;
        while (done < len) {
                ssize_t w = write(fd, buf + done, len - done);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return 0;
                done += (size_t)w;
        }
        return len;
}

/* Downloads url into an unnamed temporary file: its fd. */
static int download(const char *url, const char *tmp, struct pea_error **err)
{
        const char *dir = tmp ? tmp : getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
        _cleanup_close_ int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
                _cleanup_free_ char *path = xasprintf("%s/.pea-import-XXXXXX", dir);
                fd = mkostemp(path, O_CLOEXEC);
                if (fd >= 0)
                        (void)unlink(path);
        }
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating a temporary file in '%s'", dir);
        CURL *c = curl_easy_init();
        if (!c)
                return pea_error_set(err, ENOMEM, "initializing libcurl");
        char errbuf[CURL_ERROR_SIZE] = "";
        (void)curl_easy_setopt(c, CURLOPT_URL, url);
        (void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        (void)curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        (void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_write);
        (void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &fd);
        CURLcode cr = curl_easy_perform(c);
        curl_easy_cleanup(c);
        if (cr != CURLE_OK)
                return pea_error_set(err, EIO, "downloading '%s': %s", url,
                                     errbuf[0] ? errbuf : curl_easy_strerror(cr));
        if (lseek(fd, 0, SEEK_SET) < 0)
                return pea_error_syscall(err, errno, "rewinding '%s'", url);
        return TAKE_FD(fd);
}

static int open_source(const char *src, const char *tmp, struct pea_error **err)
{
        if (streq(src, "-")) {
                int fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? pea_error_syscall(err, errno, "reading stdin") : fd;
        }
        if (startswith(src, "http://") || startswith(src, "https://"))
                return download(src, tmp, err);
        int fd = open(src, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "opening '%s'", src);
        return fd;
}

struct import_opts {
        char **changes;
        const char *message;
        bool quiet;
};

static int parse_import(struct pea_cli *cli, int argc, char **argv, struct import_opts *o,
                        struct pea_error **err)
{
        static const struct option longopts[] = {
                {"arch", required_argument, NULL, OPT_IGNORED_ARG},
                {"change", required_argument, NULL, 'c'},
                {"message", required_argument, NULL, 'm'},
                {"os", required_argument, NULL, OPT_IGNORED_ARG},
                {"quiet", no_argument, NULL, 'q'},
                {"signature-policy", required_argument, NULL, OPT_IGNORED_ARG},
                {"variant", required_argument, NULL, OPT_IGNORED_ARG},
                PEA_HELP_OPTION,
                {},
        };
        int c;
        while ((c = getopt_long(argc, argv, ":c:m:qh", longopts, NULL)) != -1) {
                int r = opt_common(cli, &pea_cmd_import, c, argc, argv, err);
                if (r != 0)
                        return r;
                if (c == 'c')
                        strv_push(&o->changes, optarg);
                else if (c == 'm')
                        o->message = optarg;
                else if (c == 'q')
                        o->quiet = true;
        }
        return pea_cli_check_args(cli, argc - optind, 1, 2, err);
}

static int cmd_import(struct pea_cli *cli, int argc, char **argv, struct pea_error **err)
{
        struct import_opts o = {0};
        int r = parse_import(cli, argc, argv, &o, err);
        _cleanup_strv_ char **changes = o.changes;
        if (r != 0)
                return r < 0 ? r : 0;
        _cleanup_image_store_ struct pea_image_store *store = NULL;
        r = pea_cmd_open_store(cli, &store, NULL, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open_source(argv[optind], tmpdir(cli), err);
        if (fd < 0)
                return fd;
        struct pea_layer_unpack_opts uo;
        unpack_opts(cli, &uo);
        struct pea_import_opts io = {.changes = changes,
                                     .message = o.message,
                                     .reference = optind + 1 < argc ? argv[optind + 1] : NULL,
                                     .tmpdir = tmpdir(cli),
                                     .unpack = &uo,
                                     .progress = progress(o.quiet)};
        _cleanup_free_ char *id = NULL;
        r = pea_image_import_fd(store, fd, &io, &id, err);
        if (r < 0)
                return r;
        printf("sha256:%s\n", id);
        return 0;
}

#define IMPORT_OPTIONS                                                                           \
        "  -c, --change stringArray   apply the following possible instructions to the created " \
        "image (default []): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | "  \
        "USER | VOLUME | WORKDIR\n"                                                              \
        "  -m, --message string       set commit message for imported image\n"                   \
        "  -q, --quiet                display quietly\n"

const struct pea_cmd pea_cmd_import = {
        .name = "import",
        .fn = cmd_import,
        .flags = STORE_FLAGS,
        .summary = "Import a tarball to create a filesystem image",
        .usage = "[options] PATH [REFERENCE]",
        .options = IMPORT_OPTIONS,
};
