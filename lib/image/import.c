/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "base.h"
#include "image/transfer-internal.h"

/*
 * pea import: a rootfs tarball becomes a one-layer image. The tarball is kept
 * as the layer's blob (gzip and zstd as they are, other compressions inflated
 * first), so push and save send it unchanged. --change applies Dockerfile
 * instructions to the config.
 */

/* ---- --change ------------------------------------------------------------------------------ */

/* Splits shell-like words: whitespace separates, quotes and backslashes escape. */
static int split_words(const char *s, char ***ret, struct pea_error **err)
{
        _cleanup_strv_ char **words = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *cur = xmalloc(strlen(s) + 1);
        size_t n = 0;
        bool in_word = false;
        char quote = 0;
        for (const char *p = s; *p; p++) {
                if (!quote && isspace((unsigned char)*p)) {
                        if (in_word)
                                strv_consume(&words, xstrndup(cur, n));
                        in_word = false;
                        n = 0;
                        continue;
                }
                in_word = true;
                if (quote != '\'' && *p == '\\' && p[1]) {
                        cur[n++] = *++p;
                } else if (!quote && (*p == '"' || *p == '\'')) {
                        quote = *p;
                } else if (quote && *p == quote) {
                        quote = 0;
                } else {
                        cur[n++] = *p;
                }
        }
        if (quote)
                return pea_error_set(err, EINVAL, "unterminated quote in '%s'", s);
        if (in_word)
                strv_consume(&words, xstrndup(cur, n));
        *ret = TAKE_PTR(words);
        return 0;
}

/* A JSON array of strings, or NULL when s is not one. */
static json_t *json_string_array(const char *s)
{
        json_t *j = json_loads(s, 0, NULL);
        if (!json_is_array(j))
                goto fail;
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
                if (!json_is_string(v))
                        goto fail;
        return j;
fail:
        json_decref(j);
        return NULL;
}

/* CMD and ENTRYPOINT: exec form (JSON) or shell form. */
static json_t *command_value(const char *rest)
{
        json_t *j = rest[0] == '[' ? json_string_array(rest) : NULL;
        if (j)
                return j;
        if (!*rest)
                return json_array();
        return json_pack("[s, s, s]", "/bin/sh", "-c", rest);
}

/* "k=v k2='v 2'" pairs, or the old "k v" form: calls set for each. */
static int key_values(const char *rest, json_t *target,
                      void (*set)(json_t *target, const char *k, const char *v),
                      struct pea_error **err)
{
        size_t klen = strcspn(rest, "= \t");
        if (rest[klen] != '=') {
                _cleanup_free_ char *k = xstrndup(rest, klen);
                const char *v = rest + klen;
                while (isspace((unsigned char)*v))
                        v++;
                if (!*k)
                        return pea_error_set(err, EINVAL, "missing name in '%s'", rest);
                /* a value that is one quoted word loses its quotes */
                _cleanup_strv_ char **w = NULL;
                int r = split_words(v, &w, err);
                if (r < 0)
                        return r;
                set(target, k, strv_length(w) == 1 ? w[0] : v);
                return 0;
        }
        _cleanup_strv_ char **words = NULL;
        int r = split_words(rest, &words, err);
        if (r < 0)
                return r;
        STRV_FOREACH(w, words) {
                char *eq = strchr(*w, '=');
                if (!eq || eq == *w)
                        return pea_error_set(err, EINVAL,
                                             "syntax error: '%s' is not of the form name=value",
                                             *w);
                *eq = '\0';
                set(target, *w, eq + 1);
        }
        return 0;
}

static void set_env(json_t *env, const char *k, const char *v)
{
        size_t klen = strlen(k), i;
        json_t *e;
        _cleanup_free_ char *kv = xasprintf("%s=%s", k, v);
        json_array_foreach(env, i, e) {
                const char *s = json_string_value(e);
                if (s && strncmp(s, k, klen) == 0 && s[klen] == '=') {
                        json_array_set_new(env, i, json_string(kv));
                        return;
                }
        }
        json_array_append_new(env, json_string(kv));
}

static void set_label(json_t *labels, const char *k, const char *v)
{
        json_object_set_new(labels, k, json_string(v));
}

/* The object or array at config[key], created when missing. */
static json_t *member(json_t *config, const char *key, bool array)
{
        json_t *v = json_object_get(config, key);
        if (array ? json_is_array(v) : json_is_object(v))
                return v;
        v = array ? json_array() : json_object();
        json_object_set_new(config, key, v);
        return v;
}

static int port_valid(const char *p)
{
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || digits > 5)
                return false;
        if (p[digits] == '-')
                return port_valid(p + digits + 1);
        return p[digits] == '\0' || streq(p + digits, "/tcp") || streq(p + digits, "/udp")
               || streq(p + digits, "/sctp");
}

static int change_set(json_t *config, const char *key, const char *rest, struct pea_error **err)
{
        _cleanup_json_ json_t *arr = rest[0] == '[' ? json_string_array(rest) : NULL;
        _cleanup_strv_ char **words = NULL;
        if (!arr) {
                int r = split_words(rest, &words, err);
                if (r < 0)
                        return r;
        }
        json_t *obj = member(config, key, false);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
                json_object_set_new(obj, json_string_value(v), json_object());
        STRV_FOREACH(w, words) {
                bool port = streq(key, "ExposedPorts");
                if (port && !port_valid(*w))
                        return pea_error_set(err, EINVAL, "invalid port '%s'", *w);
                _cleanup_free_ char *name =
                        port && !strchr(*w, '/') ? xasprintf("%s/tcp", *w) : xstrdup(*w);
                json_object_set_new(obj, name, json_object());
        }
        return 0;
}

static int apply_one(json_t *config, const char *instr, const char *rest, struct pea_error **err)
{
        static const struct {
                const char *instr, *key;
        } strings[] = {{"USER", "User"}, {"WORKDIR", "WorkingDir"}, {"STOPSIGNAL", "StopSignal"}};

        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (strcasecmp(instr, strings[i].instr) == 0) {
                        json_object_set_new(config, strings[i].key, json_string(rest));
                        return 0;
                }
        if (strcasecmp(instr, "CMD") == 0)
                return json_object_set_new(config, "Cmd", command_value(rest)), 0;
        if (strcasecmp(instr, "ENTRYPOINT") == 0)
                return json_object_set_new(config, "Entrypoint", command_value(rest)), 0;
        if (strcasecmp(instr, "ENV") == 0)
                return key_values(rest, member(config, "Env", true), set_env, err);
        if (strcasecmp(instr, "LABEL") == 0)
                return key_values(rest, member(config, "Labels", false), set_label, err);
        if (strcasecmp(instr, "EXPOSE") == 0)
                return change_set(config, "ExposedPorts", rest, err);
        if (strcasecmp(instr, "VOLUME") == 0)
                return change_set(config, "Volumes", rest, err);
        if (strcasecmp(instr, "ONBUILD") == 0)
                return json_array_append_new(member(config, "OnBuild", true), json_string(rest)), 0;
        return pea_error_set(err, EINVAL, "unknown instruction '%s'", instr);
}

/* Puts the keys in the order of the image spec (and podman's output). */
static void order_keys(json_t *config)
{
        static const char *const order[] = {
                "User",    "ExposedPorts", "Env",    "Entrypoint", "Cmd",
                "Volumes", "WorkingDir",   "Labels", "StopSignal", "OnBuild"};
        _cleanup_json_ json_t *copy = json_copy(config);
        json_object_clear(config);
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                json_t *v = json_object_get(copy, order[i]);
                if (v) {
                        json_object_set(config, order[i], v);
                        json_object_del(copy, order[i]);
                }
        }
        json_object_update(config, copy);
}

int pea_image_config_apply_changes(json_t *config, char *const *changes, struct pea_error **err)
{
        STRV_FOREACH(c, (char **)changes) {
                const char *s = *c;
                while (isspace((unsigned char)*s))
                        s++;
                size_t n = strcspn(s, "= \t");
                _cleanup_free_ char *instr = xstrndup(s, n);
                const char *rest = s[n] ? s + n + 1 : s + n;
                while (isspace((unsigned char)*rest))
                        rest++;
                _cleanup_free_ char *value = strstrip(xstrdup(rest));
                int r = n == 0 ? pea_error_set(err, EINVAL, "empty instruction")
                               : apply_one(config, instr, value, err);
                if (r < 0)
                        return pea_error_wrap(err, "invalid change '%s'", *c);
        }
        order_keys(config);
        return 0;
}

/* ---- the tarball --------------------------------------------------------------------------- */

struct pipe_source {
        int fd;
};

static ssize_t pipe_read(void *userdata, void *buf, size_t len, struct pea_error **err)
{
        struct pipe_source *p = userdata;
        ssize_t n;
        do
                n = read(p->fd, buf, len);
        while (n < 0 && errno == EINTR);
        return n < 0 ? pea_error_syscall(err, errno, "reading the tarball") : n;
}

/* The tarball as a seekable file a layer can be unpacked from: gzip, zstd or plain. */
static int tarball_fd(int fd, const char *tmpdir, struct pea_error **err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return pea_error_syscall(err, errno, "reading the tarball");
        if (S_ISREG(st.st_mode) && xfer_sniff_fd(fd) >= 0) {
                int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                return d < 0 ? pea_error_syscall(err, errno, "duplicating a descriptor") : d;
        }
        _cleanup_close_ int out = xfer_tmpfile(tmpdir, err);
        if (out < 0)
                return out;
        struct pipe_source ps = {.fd = fd};
        struct pea_layer_source src = {.read = pipe_read, .userdata = &ps};
        int r = S_ISREG(st.st_mode) ? 0 : xfer_copy_fd(&src, out, NULL, NULL, err);
        if (r >= 0 && xfer_sniff_fd(S_ISREG(st.st_mode) ? fd : out) < 0) {
                /* xz, bzip2: inflate into a plain tar */
                _cleanup_close_ int plain = xfer_tmpfile(tmpdir, err);
                struct xfer_unz *u = NULL;
                r = plain < 0 ? plain : xfer_unz_open(S_ISREG(st.st_mode) ? fd : out, &u, err);
                if (r >= 0) {
                        src = (struct pea_layer_source){.read = xfer_unz_read, .userdata = u};
                        r = xfer_copy_fd(&src, plain, NULL, NULL, err);
                }
                xfer_unz_free(u);
                if (r >= 0) {
                        closep(&out);
                        out = TAKE_FD(plain);
                }
        }
        return r < 0 ? r : TAKE_FD(out);
}

struct tarball {
        char *digest;  /* of the file */
        char *diff_id; /* of the tar inside */
        int64_t size;
        enum pea_compression compression;
};

static void tarball_done(struct tarball *t)
{
        free(t->digest);
        free(t->diff_id);
}

/* Fails unless fd holds a (possibly compressed) tar archive. */
static int tarball_check(int fd, struct pea_error **err)
{
        struct archive *a = archive_read_new();
        if (!a)
                abort();
        (void)archive_read_support_filter_all(a);
        (void)archive_read_support_format_tar(a);
        (void)archive_read_support_format_empty(a);
        struct archive_entry *e = NULL;
        int r = 0;
        if (lseek(fd, 0, SEEK_SET) < 0)
                r = pea_error_syscall(err, errno, "reading the tarball");
        else if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK
                 || archive_read_next_header(a, &e) < ARCHIVE_WARN)
                r = pea_error_set(err, EBADMSG, "the input is not a tar archive: %s",
                                  archive_error_string(a) ?: "unknown format");
        archive_read_free(a);
        return r;
}

/* Hashes the file and its inflated content. */
static int tarball_hash(int fd, struct tarball *ret, struct pea_error **err)
{
        _cleanup_digester_ struct pea_digester *d = NULL;
        _cleanup_close_ int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        struct xfer_fd_source fs = {.fd = fd};
        struct pea_layer_source src = {.read = xfer_fd_read, .userdata = &fs};
        uint64_t n = 0;
        int r = null < 0 ? pea_error_syscall(err, errno, "opening /dev/null")
                         : pea_digester_new(PEA_DIGEST_SHA256, &d, err);
        if (r >= 0)
                r = xfer_copy_fd(&src, null, d, &n, err);
        if (r >= 0)
                r = pea_digester_final(d, &ret->digest, err);
        d = pea_digester_free(d);
        struct xfer_unz *u = NULL;
        if (r >= 0)
                r = xfer_unz_open(fd, &u, err);
        if (r >= 0)
                r = pea_digester_new(PEA_DIGEST_SHA256, &d, err);
        if (r >= 0) {
                src = (struct pea_layer_source){.read = xfer_unz_read, .userdata = u};
                r = xfer_copy_fd(&src, null, d, NULL, err);
        }
        xfer_unz_free(u);
        if (r >= 0)
                r = pea_digester_final(d, &ret->diff_id, err);
        ret->size = (int64_t)n;
        ret->compression = xfer_sniff_fd(fd);
        return r;
}

/* ---- the image ----------------------------------------------------------------------------- */

static char *now_rfc3339(void)
{
        struct timespec ts;
        struct tm tm;
        char buf[64];
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        (void)gmtime_r(&ts.tv_sec, &tm);
        (void)strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

static int build_config(const struct tarball *tb, const struct pea_import_opts *opts, char **ret,
                        struct pea_error **err)
{
        _cleanup_free_ char *created = opts->created ? xstrdup(opts->created) : now_rfc3339();
        _cleanup_free_ char *by =
                xasprintf("/bin/sh -c #(nop) ADD file:%s in /", pea_digest_hex(tb->diff_id));
        _cleanup_json_ json_t *cfg = json_object();
        int r = pea_image_config_apply_changes(cfg, opts->changes, err);
        if (r < 0)
                return r;
        json_t *hist = json_pack("{s:s, s:s}", "created", created, "created_by", by);
        if (opts->message && *opts->message)
                json_object_set_new(hist, "comment", json_string(opts->message));
        _cleanup_json_ json_t *j =
                json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:[s]}, s:[o]}", "created", created,
                          "architecture", pea_host_arch(), "os", "linux", "config", cfg, "rootfs",
                          "type", "layers", "diff_ids", tb->diff_id, "history", hist);
        *ret = json_dumps(j, JSON_COMPACT);
        if (!*ret)
                abort();
        return 0;
}

static char *build_manifest(const struct tarball *tb, const char *config)
{
        _cleanup_free_ char *cdigest = NULL;
        if (pea_digest_data(PEA_DIGEST_SHA256, config, strlen(config), &cdigest, NULL) < 0)
                abort();
        _cleanup_json_ json_t *m = json_pack(
                "{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2,
                "mediaType", PEA_MEDIA_OCI_MANIFEST, "config", "mediaType", PEA_MEDIA_OCI_CONFIG,
                "digest", cdigest, "size", (json_int_t)strlen(config), "layers", "mediaType",
                xfer_layer_media_type(PEA_MANIFEST_OCI, tb->compression), "digest", tb->digest,
                "size", (json_int_t)tb->size);
        char *s = json_dumps(m, JSON_COMPACT);
        if (!s)
                abort();
        return s;
}

static int import_layer(struct pea_image_store *s, int fd, const struct tarball *tb,
                        const struct pea_import_opts *opts, struct pea_error **err)
{
        struct xfer_fd_source fs = {.fd = fd};
        struct pea_layer_source src = {.read = xfer_fd_read, .userdata = &fs};
        struct pea_load_opts lo = {.unpack = opts->unpack};
        xfer_progress(&opts->progress, PEA_TRANSFER_BLOB, tb->digest);
        return xfer_import_layer(s, NULL, tb->diff_id, tb->digest,
                                 xfer_layer_media_type(PEA_MANIFEST_OCI, tb->compression), &src,
                                 &lo, NULL, err);
}

static int import_image(struct pea_image_store *s, int fd, const struct tarball *tb,
                        const struct pea_import_opts *opts, char **ret_id, struct pea_error **err)
{
        _cleanup_free_ char *config = NULL, *manifest = NULL, *name = NULL;
        _cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
        int r = opts->reference ? pea_image_local_name(opts->reference, &name, err) : 0;
        if (r >= 0)
                r = build_config(tb, opts, &config, err);
        if (r < 0)
                return r;
        if (name)
                strv_push(&names, name);
        xfer_progress(&opts->progress, PEA_TRANSFER_START, NULL);
        r = import_layer(s, fd, tb, opts, err);
        if (r < 0)
                return r;
        manifest = build_manifest(tb, config);
        struct pea_image_record rec = {.manifest = manifest,
                                       .manifest_len = strlen(manifest),
                                       .manifest_media_type = (char *)PEA_MEDIA_OCI_MANIFEST,
                                       .config = config,
                                       .config_len = strlen(config)};
        _cleanup_free_ char *cdigest = NULL;
        (void)pea_digest_data(PEA_DIGEST_SHA256, config, strlen(config), &cdigest, NULL);
        xfer_progress(&opts->progress, PEA_TRANSFER_CONFIG, cdigest);
        xfer_progress(&opts->progress, PEA_TRANSFER_MANIFEST, NULL);
        r = pea_image_store_add_image(s, &rec, names, ret_id, err);
        if (r >= 0)
                xfer_progress(&opts->progress, PEA_TRANSFER_DONE, NULL);
        return r;
}

int pea_image_import_fd(struct pea_image_store *s, int fd, const struct pea_import_opts *opts,
                        char **ret_id, struct pea_error **err)
{
        _cleanup_(tarball_done) struct tarball tb = {0};
        /* the changes and the name are checked before any input is read */
        _cleanup_json_ json_t *scratch = json_object();
        _cleanup_free_ char *name = NULL;
        int r = pea_image_config_apply_changes(scratch, opts->changes, err);
        if (r >= 0 && opts->reference)
                r = pea_image_local_name(opts->reference, &name, err);
        if (r < 0)
                return r;
        _cleanup_close_ int tfd = tarball_fd(fd, opts->tmpdir, err);
        if (tfd < 0)
                return tfd;
        r = tarball_check(tfd, err);
        if (r >= 0)
                r = tarball_hash(tfd, &tb, err);
        if (r >= 0)
                r = import_image(s, tfd, &tb, opts, ret_id, err);
        pea_image_store_unpin_all(s);
        return r < 0 ? r : 0;
}
