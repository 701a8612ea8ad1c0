/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "base.h"
#include "registry-internal.h"

/* auth.json is small; a bigger one is not ours. */
#define AUTHFILE_MAX (4u * 1024 * 1024)

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *reg_base64_encode(const void *data, size_t len)
{
        const unsigned char *p = data;
        char *out = xmalloc((len + 2) / 3 * 4 + 1);
        char *o = out;
        for (size_t i = 0; i < len; i += 3) {
                unsigned v = (unsigned)p[i] << 16;
                if (i + 1 < len)
                        v |= (unsigned)p[i + 1] << 8;
                if (i + 2 < len)
                        v |= p[i + 2];
                *o++ = b64chars[(v >> 18) & 63];
                *o++ = b64chars[(v >> 12) & 63];
                *o++ = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
                *o++ = i + 2 < len ? b64chars[v & 63] : '=';
        }
        *o = '\0';
        return out;
}

static int b64value(char ch)
{
        const char *p = ch ? strchr(b64chars, ch) : NULL;
        return p ? (int)(p - b64chars) : -1;
}

int reg_base64_decode(const char *s, char **ret, size_t *ret_len)
{
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '=')
                n--;
        if (n % 4 == 1 || strlen(s) - n > 2)
                return -EBADMSG;
        _cleanup_free_ char *out = xmalloc(n / 4 * 3 + 3);
        size_t len = 0;
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
                int d = b64value(s[i]);
                if (d < 0)
                        return -EBADMSG;
                v = (v << 6) | (unsigned)d;
                if (i % 4 == 3) {
                        out[len++] = (char)(v >> 16);
                        out[len++] = (char)(v >> 8);
                        out[len++] = (char)v;
                        v = 0;
                }
        }
        if (n % 4 == 2) {
                out[len++] = (char)(v >> 4);
        } else if (n % 4 == 3) {
                out[len++] = (char)(v >> 10);
                out[len++] = (char)(v >> 2);
        }
        out[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(out);
        return 0;
}

static char *home_dir(void)
{
        const char *h = getenv("HOME");
        if (h && *h)
                return xstrdup(h);
        struct passwd *pw = getpwuid(getuid());
        return xstrdup(pw && pw->pw_dir ? pw->pw_dir : "/");
}

char *pea_registry_authfile_path(const char *authfile)
{
        if (authfile && *authfile)
                return xstrdup(authfile);
        const char *env = getenv("REGISTRY_AUTH_FILE");
        if (env && *env)
                return xstrdup(env);
        /* As containers/image: root without XDG_RUNTIME_DIR gets /run/containers/0. */
        const char *rt = getenv("XDG_RUNTIME_DIR");
        if (rt && *rt)
                return xasprintf("%s/containers/auth.json", rt);
        /* Inside pea's user namespace we are uid 0 but still the unprivileged user: use
         * the same private fallback as pea's run root, inside or outside. */
        const char *rl = getenv("_PEA_ROOTLESS_UID");
        unsigned uid = (unsigned)getuid();
        if (rl && safe_atou32(rl, &uid) < 0)
                uid = (unsigned)getuid();
        if (uid != 0)
                return xasprintf("/tmp/pea-run-%u/containers/auth.json", uid);
        return xstrdup("/run/containers/0/auth.json");
}

char **pea_registry_authfile_search_paths(const char *authfile)
{
        char **l = NULL;
        strv_consume(&l, pea_registry_authfile_path(authfile));
        const char *env = getenv("REGISTRY_AUTH_FILE");
        if ((authfile && *authfile) || (env && *env))
                return l;
        _cleanup_free_ char *home = home_dir();
        const char *cfg = getenv("XDG_CONFIG_HOME");
        if (cfg && *cfg)
                strv_consume(&l, xasprintf("%s/containers/auth.json", cfg));
        else
                strv_consume(&l, xasprintf("%s/.config/containers/auth.json", home));
        const char *docker = getenv("DOCKER_CONFIG");
        if (docker && *docker)
                strv_consume(&l, xasprintf("%s/config.json", docker));
        else
                strv_consume(&l, xasprintf("%s/.docker/config.json", home));
        return l;
}

static char *normalize_registry(char *host)
{
        if (streq(host, "index.docker.io") || streq(host, "registry-1.docker.io")) {
                free(host);
                return xstrdup("docker.io");
        }
        return host;
}

char *reg_authfile_normalize_key(const char *key)
{
        /* As containers/image: the path goes only with a scheme ("https://host/v1/"). */
        const char *k = startswith(key, "https://");
        if (!k)
                k = startswith(key, "http://");
        if (!k)
                return normalize_registry(xstrdup(key));
        return normalize_registry(xstrndup(k, strcspn(k, "/")));
}

static int read_authfile(const char *path, json_t **ret, struct pea_error **err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if (access(path, F_OK) < 0 && errno == ENOENT) {
                *ret = NULL;
                return 0;
        }
        int r = pea_read_file_at(AT_FDCWD, path, AUTHFILE_MAX, &data, &len, err);
        if (r < 0)
                return r;
        json_error_t je;
        json_t *j = json_loadb(data, len, 0, &je);
        if (!json_is_object(j)) {
                json_decref(j);
                return pea_error_set(err, EBADMSG, "parsing '%s': %s", path,
                                     j ? "not a JSON object" : je.text);
        }
        *ret = j;
        return 1;
}

static int decode_entry(const char *path, const char *key, json_t *entry, char **ret_user,
                        char **ret_password, struct pea_error **err)
{
        const char *auth = pea_json_path_string(entry, "auth", NULL);
        if (!auth || !*auth)
                return 0;
        _cleanup_free_ char *dec = NULL;
        if (reg_base64_decode(auth, &dec, NULL) < 0)
                return pea_error_set(err, EBADMSG, "decoding credentials for '%s' in '%s'", key,
                                     path);
        char *colon = strchr(dec, ':');
        if (!colon)
                return pea_error_set(err, EBADMSG, "invalid credentials for '%s' in '%s'", key,
                                     path);
        *ret_user = xstrndup(dec, (size_t)(colon - dec));
        *ret_password = xstrdup(colon + 1);
        return 1;
}

/* Tries "host/ns/repo", "host/ns", "host", then keys that normalise to host. */
static json_t *find_entry(json_t *auths, const char *key, const char **ret_key)
{
        _cleanup_free_ char *k = xstrdup(key);
        for (;;) {
                json_t *e = json_object_get(auths, k);
                if (json_is_object(e)) {
                        *ret_key = json_object_iter_key(json_object_iter_at(auths, k));
                        return e;
                }
                char *slash = strrchr(k, '/');
                if (!slash)
                        break;
                *slash = '\0';
        }
        _cleanup_free_ char *host = normalize_registry(xstrndup(key, strcspn(key, "/")));
        const char *name;
        json_t *v;
        json_object_foreach(auths, name, v) {
                _cleanup_free_ char *n = reg_authfile_normalize_key(name);
                if (json_is_object(v) && streq(n, host)) {
                        *ret_key = name;
                        return v;
                }
        }
        return NULL;
}

int reg_authfile_lookup_in(const char *path, const char *key, char **ret_user, char **ret_password,
                           struct pea_error **err)
{
        _cleanup_json_ json_t *root = NULL;
        int r = read_authfile(path, &root, err);
        if (r <= 0)
                return r;
        json_t *auths = json_object_get(root, "auths");
        if (!json_is_object(auths))
                return 0;
        const char *found = NULL;
        json_t *entry = find_entry(auths, key, &found);
        if (!entry)
                return 0;
        pea_debug("credentials for '%s' from key '%s' in '%s'", key, found, path);
        return decode_entry(path, found, entry, ret_user, ret_password, err);
}

int pea_registry_authfile_lookup(const char *authfile, const char *key, char **ret_user,
                                 char **ret_password, struct pea_error **err)
{
        _cleanup_strv_ char **paths = pea_registry_authfile_search_paths(authfile);
        STRV_FOREACH(p, paths) {
                int r = reg_authfile_lookup_in(*p, key, ret_user, ret_password, err);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int write_authfile(const char *path, json_t *root, struct pea_error **err)
{
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                int r = pea_mkdir_p(dir, 0700, err);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *data = pea_json_dumps(root, 8);
        _cleanup_free_ char *text = xasprintf("%s\n", data);
        int r = pea_write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0600, err);
        if (r < 0)
                return r;
        /* The temporary file got 0600 minus the umask; make sure of it. */
        if (chmod(path, 0600) < 0)
                return pea_error_syscall(err, errno, "setting the mode of '%s'", path);
        return 0;
}

int pea_registry_authfile_set(const char *path, const char *key, const char *user,
                              const char *password, struct pea_error **err)
{
        if (!key || !*key || !user || !*user || strchr(user, ':') || !password)
                return pea_error_set(err, EINVAL, "invalid credentials for '%s'", key ? key : "");
        _cleanup_json_ json_t *root = NULL;
        int r = read_authfile(path, &root, err);
        if (r < 0)
                return r;
        if (!root)
                root = json_object();
        json_t *auths = json_object_get(root, "auths");
        if (!json_is_object(auths)) {
                auths = json_object();
                json_object_set_new(root, "auths", auths);
        }
        _cleanup_free_ char *pair = xasprintf("%s:%s", user, password);
        _cleanup_free_ char *b64 = reg_base64_encode(pair, strlen(pair));
        json_object_set_new(auths, key, json_pack("{s:s}", "auth", b64));
        return write_authfile(path, root, err);
}

int pea_registry_authfile_remove(const char *path, const char *key, struct pea_error **err)
{
        _cleanup_json_ json_t *root = NULL;
        int r = read_authfile(path, &root, err);
        if (r < 0)
                return r;
        json_t *auths = root ? json_object_get(root, "auths") : NULL;
        if (!json_is_object(auths) || !json_object_get(auths, key))
                return pea_error_set(err, ENOENT, "not logged into '%s'", key);
        json_object_del(auths, key);
        return write_authfile(path, root, err);
}
