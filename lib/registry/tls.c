/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "base.h"
#include "registry-internal.h"

/* The system bundle is ~200 KiB; anything beyond this is not a CA file. */
#define CA_FILE_MAX      (16u * 1024 * 1024)
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static bool is_dir(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *reg_tls_cert_dir(const char *hostport, const char *cert_dir)
{
        if (cert_dir && *cert_dir)
                return xstrdup(cert_dir);
        /* containers/image order: the user's certs.d, then the system ones; first wins. */
        _cleanup_free_ char *user = NULL;
        const char *cfg = getenv("XDG_CONFIG_HOME");
        const char *home = getenv("HOME");
        if (cfg && *cfg)
                user = xasprintf("%s/containers/certs.d", cfg);
        else if (home && *home)
                user = xasprintf("%s/.config/containers/certs.d", home);
        const char *bases[] = {user, "/etc/containers/certs.d", "/etc/docker/certs.d"};
        for (size_t i = 0; i < ELEMENTSOF(bases); i++) {
                if (!bases[i])
                        continue;
                _cleanup_free_ char *d = xasprintf("%s/%s", bases[i], hostport);
                if (is_dir(d))
                        return TAKE_PTR(d);
        }
        return NULL;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir, sorted, so the bundle and the chosen client pair are stable. */
static int list_dir(const char *dir, char ***ret, struct pea_error **err)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d && (errno == ENOENT || errno == EACCES)) {
                /* As containers/image: a missing or unreadable directory adds nothing. */
                pea_debug("skipping certificate directory '%s': %s", dir, strerror(errno));
                *ret = NULL;
                return 0;
        }
        if (!d)
                return pea_error_syscall(err, errno, "opening certificate directory '%s'", dir);
        _cleanup_strv_ char **l = NULL;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        strv_push(&l, de->d_name);
        if (l)
                qsort(l, strv_length(l), sizeof(char *), cmp_names);
        *ret = TAKE_PTR(l);
        return 0;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
        *buf = xrealloc(*buf, *len + n + 2);
        memcpy(*buf + *len, data, n);
        *len += n;
        if (n > 0 && data[n - 1] != '\n')
                (*buf)[(*len)++] = '\n';
        (*buf)[*len] = '\0';
}

static int add_ca_file(struct reg_tls *t, const char *path, struct pea_error **err)
{
        _cleanup_free_ char *data = NULL;
        size_t n = 0;
        int r = pea_read_file_at(AT_FDCWD, path, CA_FILE_MAX, &data, &n, err);
        if (r < 0)
                return r;
        append(&t->ca_bundle, &t->ca_len, data, n);
        return 0;
}

static int add_client_pair(struct reg_tls *t, const char *dir, char *const *names, const char *f,
                           struct pea_error **err)
{
        _cleanup_free_ char *base = xstrndup(f, strlen(f) - strlen(".cert"));
        _cleanup_free_ char *key = xasprintf("%s.key", base);
        if (!strv_contains(names, key))
                return pea_error_set(err, ENOENT, "missing key '%s' for client certificate '%s'",
                                     key, f);
        if (t->client_cert) {
                pea_debug("using client certificate '%s', ignoring '%s/%s'", t->client_cert, dir,
                          f);
                return 0;
        }
        t->client_cert = xasprintf("%s/%s", dir, f);
        t->client_key = xasprintf("%s/%s", dir, key);
        return 0;
}

static int check_key(char *const *names, const char *f, struct pea_error **err)
{
        _cleanup_free_ char *base = xstrndup(f, strlen(f) - strlen(".key"));
        _cleanup_free_ char *cert = xasprintf("%s.cert", base);
        if (!strv_contains(names, cert))
                return pea_error_set(err, ENOENT, "missing client certificate '%s' for key '%s'",
                                     cert, f);
        return 0;
}

static int load_dir(struct reg_tls *t, const char *dir, bool *ret_extra, struct pea_error **err)
{
        _cleanup_strv_ char **names = NULL;
        int r = list_dir(dir, &names, err);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                if (endswith(*n, ".crt")) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", dir, *n);
                        pea_debug("trusting CA certificates in '%s'", p);
                        r = add_ca_file(t, p, err);
                        *ret_extra = true;
                } else if (endswith(*n, ".cert")) {
                        r = add_client_pair(t, dir, names, *n, err);
                } else if (endswith(*n, ".key")) {
                        r = check_key(names, *n, err);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* libcurl's GnuTLS backend (Debian 12) lacks CURLOPT_CAINFO_BLOB: use a memfd then. */
static int setup_bundle(struct reg_tls *t, struct pea_error **err)
{
        _cleanup_curl_ CURL *probe = curl_easy_init();
        if (!probe)
                return pea_error_set(err, ENOMEM, "initializing libcurl");
        struct curl_blob blob = {.data = t->ca_bundle, .len = t->ca_len, .flags = CURL_BLOB_COPY};
        t->use_blob = curl_easy_setopt(probe, CURLOPT_CAINFO_BLOB, &blob) == CURLE_OK;
        if (t->use_blob)
                return 0;
        _cleanup_close_ int fd = memfd_create("pea-ca-bundle", MFD_CLOEXEC);
        if (fd < 0)
                return pea_error_syscall(err, errno, "creating the CA bundle");
        for (size_t off = 0; off < t->ca_len;) {
                ssize_t n = write(fd, t->ca_bundle + off, t->ca_len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return pea_error_syscall(err, errno, "writing the CA bundle");
                off += (size_t)n;
        }
        t->ca_path = xasprintf("/proc/self/fd/%d", fd);
        t->ca_fd = TAKE_FD(fd);
        return 0;
}

int reg_tls_init(struct reg_tls *t, const char *hostport, const char *cert_dir,
                 struct pea_error **err)
{
        *t = (struct reg_tls){.ca_fd = -EBADF};
        t->cert_dir = reg_tls_cert_dir(hostport, cert_dir);
        if (!t->cert_dir)
                return 0;
        const char *sys = getenv("SSL_CERT_FILE");
        if (!sys || !*sys)
                sys = SYSTEM_CA_BUNDLE;
        int r = 0;
        if (access(sys, R_OK) == 0)
                r = add_ca_file(t, sys, err);
        else
                pea_debug("no system CA bundle at '%s'", sys);
        bool extra = false;
        if (r >= 0)
                r = load_dir(t, t->cert_dir, &extra, err);
        if (r >= 0 && extra)
                r = setup_bundle(t, err);
        if (r < 0) {
                reg_tls_done(t);
                return reg_wrap(r, err, "loading certificates for '%s'", hostport);
        }
        if (!extra) {
                /* Only client certificates: libcurl's default trust store is the same. */
                free(t->ca_bundle);
                t->ca_bundle = NULL;
                t->ca_len = 0;
        }
        return 0;
}

void reg_tls_done(struct reg_tls *t)
{
        free(t->cert_dir);
        free(t->ca_bundle);
        free(t->ca_path);
        free(t->client_cert);
        free(t->client_key);
        closep(&t->ca_fd);
        *t = (struct reg_tls){.ca_fd = -EBADF};
}

static int apply_client(const struct reg_tls *t, CURL *h)
{
        bool bad = false;
        if (t->client_cert) {
                bad |= curl_easy_setopt(h, CURLOPT_SSLCERT, t->client_cert) != CURLE_OK;
                bad |= curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK;
                bad |= curl_easy_setopt(h, CURLOPT_SSLKEY, t->client_key) != CURLE_OK;
                bad |= curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK;
        }
        return bad ? -EINVAL : 0;
}

int reg_tls_apply(const struct reg_tls *t, CURL *h, bool insecure)
{
        bool bad = false;
        if (insecure) {
                bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK;
                bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK;
                /*
                 * Nothing is verified: do not let GnuTLS parse the system's
                 * whole CA bundle for each connection (tens of ms).
                 */
                (void)curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
                (void)curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
                return bad || apply_client(t, h) < 0 ? -EINVAL : 0;
        }
        if (t->ca_bundle && t->use_blob) {
                struct curl_blob blob = {
                        .data = t->ca_bundle, .len = t->ca_len, .flags = CURL_BLOB_NOCOPY};
                bad |= curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK;
        } else if (t->ca_path) {
                bad |= curl_easy_setopt(h, CURLOPT_CAINFO, t->ca_path) != CURLE_OK;
        }
        return bad || apply_client(t, h) < 0 ? -EINVAL : 0;
}
