/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base.h"
#include "registry-internal.h"
#include "sha.h"

/* The content API: digests, blobs (get, exists, upload), manifests, tags. */

int reg_digest_algorithm(const char *digest)
{
        const char *hex = NULL;
        size_t n = 0;
        int alg = -EINVAL;
        if (!digest)
                return -EINVAL;
        if ((hex = startswith(digest, "sha256:"))) {
                n = 64;
                alg = PEA_SHA256;
        } else if ((hex = startswith(digest, "sha512:"))) {
                n = 128;
                alg = PEA_SHA512;
        } else {
                return -EINVAL;
        }
        if (strlen(hex) != n)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!isdigit((unsigned char)hex[i]) && !(hex[i] >= 'a' && hex[i] <= 'f'))
                        return -EINVAL;
        return alg;
}

static char *format_digest(int alg, const unsigned char *md)
{
        size_t n = pea_sha_size((enum pea_sha_alg)alg);
        const char *name = alg == PEA_SHA512 ? "sha512" : "sha256";
        char *out = xmalloc(strlen(name) + 1 + 2 * n + 1);
        char *p = out + strlen(name) + 1;
        memcpy(out, name, strlen(name));
        out[strlen(name)] = ':';
        for (size_t i = 0; i < n; i++) {
                *p++ = "0123456789abcdef"[md[i] >> 4];
                *p++ = "0123456789abcdef"[md[i] & 15];
        }
        *p = '\0';
        return out;
}

char *reg_digest_data(int algorithm, const void *data, size_t size)
{
        unsigned char md[64];
        pea_sha_buffer((enum pea_sha_alg)algorithm, data, size, md);
        return format_digest(algorithm, md);
}

char *pea_registry_digest_data(const void *data, size_t size)
{
        return reg_digest_data(PEA_SHA256, data, size);
}

static int check_blob_args(const char *repo, const char *digest, struct pea_error **err)
{
        if (!reg_valid_repo(repo))
                return pea_error_set(err, EINVAL, "invalid repository name '%s'", repo ? repo : "");
        int alg = reg_digest_algorithm(digest);
        if (alg < 0)
                return pea_error_set(err, EINVAL, "invalid digest '%s'", digest ? digest : "");
        return alg;
}

struct blob_sink {
        struct pea_sha hash;
        int64_t got;
        int64_t size;
        const char *digest;
        pea_registry_write_fn write;
        void *userdata;
};

static int blob_write(void *userdata, const void *buf, size_t len, struct pea_error **err)
{
        struct blob_sink *s = userdata;
        if (s->size >= 0 && s->got + (int64_t)len > s->size)
                return pea_error_set(err, EBADMSG, "blob %s is larger than %lld bytes", s->digest,
                                     (long long)s->size);
        pea_sha_update(&s->hash, buf, len);
        s->got += (int64_t)len;
        return s->write(s->userdata, buf, len, err);
}

static int verify_blob(struct blob_sink *s, int alg, struct pea_error **err)
{
        unsigned char md[64];
        pea_sha_final(&s->hash, md);
        _cleanup_free_ char *got = format_digest(alg, md);
        if (s->size >= 0 && s->got != s->size)
                return pea_error_set(err, EBADMSG,
                                     "size mismatch for blob %s: expected %lld bytes, got %lld",
                                     s->digest, (long long)s->size, (long long)s->got);
        if (!streq(got, s->digest))
                return pea_error_set(err, EBADMSG, "digest mismatch for blob %s: got %s", s->digest,
                                     got);
        return 0;
}

static int fetch_blob(struct pea_registry_client *c, const char *repo, struct blob_sink *s, int alg,
                      struct pea_error **err)
{
        _cleanup_free_ char *url = reg_url(c, "/v2/%s/blobs/%s", repo, s->digest);
        struct reg_req req = {.method = "GET",
                              .url = url,
                              .repo = repo,
                              .sink = blob_write,
                              .sink_data = s,
                              .follow = true};
        struct reg_resp resp = {.content_length = -1, .retry_after = -1};
        int r = reg_request(c, &req, &resp, err);
        if (r < 0)
                r = reg_wrap(r, err, "reading blob %s", s->digest);
        else if (resp.status != 200 && resp.status != 206)
                r = reg_http_error(&resp, err, "reading blob %s", s->digest);
        else
                r = verify_blob(s, alg, err);
        reg_resp_done(&resp);
        return r;
}

int pea_registry_get_blob(struct pea_registry_client *c, const char *repo, const char *digest,
                          int64_t size, pea_registry_write_fn write, void *userdata,
                          struct pea_error **err)
{
        int alg = check_blob_args(repo, digest, err);
        if (alg < 0)
                return alg;
        int r = reg_ensure_ping(c, err);
        if (r < 0)
                return r;
        struct blob_sink s = {.size = size, .digest = digest, .write = write, .userdata = userdata};
        pea_sha_init(&s.hash, (enum pea_sha_alg)alg);
        r = fetch_blob(c, repo, &s, alg, err);
        return r;
}

int pea_registry_blob_exists(struct pea_registry_client *c, const char *repo, const char *digest,
                             int64_t *ret_size, struct pea_error **err)
{
        int r = check_blob_args(repo, digest, err);
        if (r >= 0)
                r = reg_ensure_ping(c, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *url = reg_url(c, "/v2/%s/blobs/%s", repo, digest);
        struct reg_req req = {.method = "HEAD", .url = url, .repo = repo, .follow = true};
        struct reg_resp resp = {.content_length = -1, .retry_after = -1};
        r = reg_request(c, &req, &resp, err);
        if (r < 0)
                r = reg_wrap(r, err, "checking whether blob %s exists in %s/%s", digest, c->name,
                             repo);
        else if (resp.status == 200)
                r = 1;
        else if (resp.status == 404)
                r = 0;
        else
                r = reg_http_error(&resp, err, "checking whether blob %s exists in %s/%s", digest,
                                   c->name, repo);
        if (r == 1 && ret_size)
                *ret_size = resp.content_length;
        reg_resp_done(&resp);
        return r;
}

/* POST .../blobs/uploads/: 1 mounted, 0 with ret_location set for the PUT. */
static int start_upload(struct pea_registry_client *c, const char *repo,
                        const struct pea_registry_blob_upload *up, char **ret_location,
                        struct pea_error **err)
{
        _cleanup_free_ char *url = up->mount_from
                                           ? reg_url(c, "/v2/%s/blobs/uploads/?mount=%s&from=%s",
                                                     repo, up->digest, up->mount_from)
                                           : reg_url(c, "/v2/%s/blobs/uploads/", repo);
        struct reg_req req = {.method = "POST",
                              .url = url,
                              .repo = repo,
                              .push = true,
                              .mount_from = up->mount_from};
        struct reg_resp resp = {.content_length = -1, .retry_after = -1};
        int r = reg_request(c, &req, &resp, err);
        if (r < 0)
                r = reg_wrap(r, err, "initiating layer upload to /v2/%s/blobs/uploads/ in %s", repo,
                             c->name);
        else if (resp.status == 201 && up->mount_from)
                r = 1;
        else if (resp.status != 202)
                r = reg_http_error(&resp, err,
                                   "initiating layer upload to /v2/%s/blobs/uploads/ in %s", repo,
                                   c->name);
        if (r == 0) {
                _cleanup_free_ char *query = xasprintf("digest=%s", up->digest);
                *ret_location = resp.location ? reg_resolve_url(url, resp.location, query) : NULL;
                if (!*ret_location)
                        r = pea_error_set(err, EPROTO,
                                          "initiating layer upload in %s: invalid Location '%s'",
                                          c->name, resp.location ? resp.location : "");
        }
        reg_resp_done(&resp);
        return r;
}

int pea_registry_put_blob(struct pea_registry_client *c, const char *repo,
                          const struct pea_registry_blob_upload *up, struct pea_error **err)
{
        int r = check_blob_args(repo, up->digest, err);
        if (r >= 0 && up->mount_from && !reg_valid_repo(up->mount_from))
                r = pea_error_set(err, EINVAL, "invalid repository name '%s'", up->mount_from);
        if (r >= 0)
                r = reg_ensure_ping(c, err);
        _cleanup_free_ char *location = NULL;
        if (r >= 0)
                r = start_upload(c, repo, up, &location, err);
        if (r != 0)
                return r;
        struct reg_req req = {.method = "PUT",
                              .url = location,
                              .repo = repo,
                              .push = true,
                              .content_type = "application/octet-stream",
                              .upload = up};
        struct reg_resp resp = {.content_length = -1, .retry_after = -1};
        r = reg_request(c, &req, &resp, err);
        if (r < 0)
                r = reg_wrap(r, err, "uploading blob %s to %s/%s", up->digest, c->name, repo);
        else if (resp.status < 200 || resp.status >= 300)
                r = reg_http_error(&resp, err, "uploading blob %s to %s/%s", up->digest, c->name,
                                   repo);
        else if (resp.digest && !streq(resp.digest, up->digest))
                r = pea_error_set(err, EBADMSG, "uploading blob %s to %s/%s: registry stored %s",
                                  up->digest, c->name, repo, resp.digest);
        reg_resp_done(&resp);
        return r < 0 ? r : 0;
}

struct mem_source {
        const char *data;
        size_t size;
        size_t off;
};

static ssize_t mem_read(void *userdata, void *buf, size_t len, struct pea_error **err _unused_)
{
        struct mem_source *m = userdata;
        size_t n = m->size - m->off < len ? m->size - m->off : len;
        memcpy(buf, m->data + m->off, n);
        m->off += n;
        return (ssize_t)n;
}

static int mem_rewind(void *userdata, struct pea_error **err _unused_)
{
        struct mem_source *m = userdata;
        m->off = 0;
        return 0;
}

int pea_registry_put_blob_data(struct pea_registry_client *c, const char *repo, const void *data,
                               size_t size, char **ret_digest, struct pea_error **err)
{
        _cleanup_free_ char *digest = pea_registry_digest_data(data, size);
        struct mem_source m = {.data = data, .size = size};
        struct pea_registry_blob_upload up = {.digest = digest,
                                              .size = (int64_t)size,
                                              .read = mem_read,
                                              .rewind = mem_rewind,
                                              .userdata = &m};
        int r = pea_registry_put_blob(c, repo, &up, err);
        if (r < 0)
                return r;
        if (ret_digest)
                *ret_digest = TAKE_PTR(digest);
        return 0;
}

static bool is_alnum_lower(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool valid_component(const char *s, size_t n)
{
        if (n == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (is_alnum_lower(s[i]))
                        continue;
                if (s[i] == '_' && s[i + 1] == '_')
                        i++;
                else if (s[i] == '-')
                        while (s[i + 1] == '-')
                                i++;
                else if (s[i] != '.' && s[i] != '_')
                        return false;
                if (!is_alnum_lower(s[i + 1]))
                        return false;
        }
        return true;
}

bool reg_valid_repo(const char *repo)
{
        size_t n = repo ? strlen(repo) : 0;
        if (n == 0 || n > 255)
                return false;
        for (const char *p = repo;;) {
                size_t len = strcspn(p, "/");
                if (!valid_component(p, len))
                        return false;
                if (!p[len])
                        return true;
                p += len + 1;
        }
}

bool reg_valid_tag(const char *tag)
{
        size_t n = tag ? strlen(tag) : 0;
        if (n == 0 || n > 128 || tag[0] == '.' || tag[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)tag[i]) && !strchr("_.-", tag[i]))
                        return false;
        return true;
}

static int check_ref(const char *repo, const char *ref, struct pea_error **err)
{
        if (!reg_valid_repo(repo))
                return pea_error_set(err, EINVAL, "invalid repository name '%s'", repo ? repo : "");
        if (!ref || (!reg_valid_tag(ref) && reg_digest_algorithm(ref) < 0))
                return pea_error_set(err, EINVAL, "invalid tag or digest '%s'", ref ? ref : "");
        return 0;
}

void pea_registry_manifest_done(struct pea_registry_manifest *m)
{
        free(m->data);
        free(m->media_type);
        free(m->digest);
        *m = (struct pea_registry_manifest){0};
}

static const char manifest_accept[] = PEA_MEDIA_TYPE_OCI_MANIFEST
        ", " PEA_MEDIA_TYPE_OCI_INDEX ", " PEA_MEDIA_TYPE_DOCKER_MANIFEST
        ", " PEA_MEDIA_TYPE_DOCKER_LIST;

/* The Content-Type without parameters; from the body's mediaType when it is generic. */
static char *manifest_media_type(const struct reg_resp *resp)
{
        const char *ct = resp->content_type ? resp->content_type : "";
        _cleanup_free_ char *mt = xstrndup(ct, strcspn(ct, "; \t"));
        if (*mt && !streq(mt, "application/json") && !streq(mt, "text/plain"))
                return TAKE_PTR(mt);
        _cleanup_json_ json_t *j = resp->body ? json_loads(resp->body, 0, NULL) : NULL;
        const char *body_mt = pea_json_path_string(j, "mediaType", NULL);
        return xstrdup(body_mt ? body_mt : mt);
}

/* The digest of a fetched manifest, checked against a digest ref and the header. */
static int manifest_digest(const char *ref, const struct reg_resp *resp, char **ret,
                           struct pea_error **err)
{
        const char *expect[] = {reg_digest_algorithm(ref) >= 0 ? ref : NULL, resp->digest};
        for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
                int alg = expect[i] ? reg_digest_algorithm(expect[i]) : -EINVAL;
                if (alg < 0)
                        continue;
                _cleanup_free_ char *got = reg_digest_data(alg, resp->body, resp->body_len);
                if (!streq(got, expect[i]))
                        return pea_error_set(err, EBADMSG,
                                             "manifest digest mismatch: expected %s, got %s",
                                             expect[i], got);
        }
        *ret = resp->digest ? xstrdup(resp->digest)
                            : pea_registry_digest_data(resp->body, resp->body_len);
        return 0;
}

static int fetch_manifest(struct pea_registry_client *c, const char *method, const char *repo,
                          const char *ref, struct reg_resp *resp, struct pea_error **err)
{
        int r = check_ref(repo, ref, err);
        if (r >= 0)
                r = reg_ensure_ping(c, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *url = reg_url(c, "/v2/%s/manifests/%s", repo, ref);
        struct reg_req req = {.method = method,
                              .url = url,
                              .repo = repo,
                              .accept = manifest_accept,
                              .max_body = PEA_REGISTRY_MANIFEST_MAX,
                              .follow = true};
        r = reg_request(c, &req, resp, err);
        if (r >= 0 && resp->status == 404 && !resp->body)
                return pea_error_set(err, ENOENT, "reading manifest %s in %s/%s: manifest unknown",
                                     ref, c->name, repo);
        if (r >= 0 && resp->status != 200)
                return reg_http_error(resp, err, "reading manifest %s in %s/%s", ref, c->name,
                                      repo);
        if (r < 0)
                return reg_wrap(r, err, "reading manifest %s in %s/%s", ref, c->name, repo);
        return 0;
}

int pea_registry_get_manifest(struct pea_registry_client *c, const char *repo, const char *ref,
                              struct pea_registry_manifest *ret, struct pea_error **err)
{
        struct reg_resp resp = {.content_length = -1, .retry_after = -1};
        _cleanup_free_ char *digest = NULL;
        int r = fetch_manifest(c, "GET", repo, ref, &resp, err);
        if (r >= 0 && !resp.body)
                resp.body = xstrdup("");
        if (r >= 0)
                r = manifest_digest(ref, &resp, &digest, err);
        if (r < 0) {
                reg_resp_done(&resp);
                return r;
        }
        *ret = (struct pea_registry_manifest){
                .size = resp.body_len,
                .media_type = manifest_media_type(&resp),
                .digest = TAKE_PTR(digest),
        };
        ret->data = TAKE_PTR(resp.body);
        reg_resp_done(&resp);
        return 0;
}

int pea_registry_head_manifest(struct pea_registry_client *c, const char *repo, const char *ref,
                               struct pea_registry_manifest *ret, struct pea_error **err)
{
        struct reg_resp resp = {.content_length = -1, .retry_after = -1};
        int r = fetch_manifest(c, "HEAD", repo, ref, &resp, err);
        if (r >= 0) {
                *ret = (struct pea_registry_manifest){
                        .size = resp.content_length > 0 ? (size_t)resp.content_length : 0,
                        .media_type = manifest_media_type(&resp),
                        .digest = resp.digest ? xstrdup(resp.digest) : NULL,
                };
        }
        reg_resp_done(&resp);
        return r;
}

int pea_registry_put_manifest(struct pea_registry_client *c, const char *repo, const char *ref,
                              const char *media_type, const void *data, size_t size,
                              char **ret_digest, struct pea_error **err)
{
        int r = check_ref(repo, ref, err);
        if (r >= 0)
                r = reg_ensure_ping(c, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *url = reg_url(c, "/v2/%s/manifests/%s", repo, ref);
        struct reg_req req = {.method = "PUT",
                              .url = url,
                              .repo = repo,
                              .push = true,
                              .content_type = media_type,
                              .body = data,
                              .body_len = size};
        struct reg_resp resp = {.content_length = -1, .retry_after = -1};
        r = reg_request(c, &req, &resp, err);
        if (r >= 0 && (resp.status < 200 || resp.status >= 300))
                r = reg_http_error(&resp, err, "uploading manifest %s to %s/%s", ref, c->name,
                                   repo);
        else if (r < 0)
                r = reg_wrap(r, err, "uploading manifest %s to %s/%s", ref, c->name, repo);
        if (r >= 0 && ret_digest)
                *ret_digest =
                        resp.digest ? xstrdup(resp.digest) : pea_registry_digest_data(data, size);
        reg_resp_done(&resp);
        return r;
}

/* The target of a Link: <url>; rel="next" header, resolved against url. */
static char *next_link(const char *url, const char *link)
{
        const char *lt = link ? strchr(link, '<') : NULL;
        const char *gt = lt ? strchr(lt, '>') : NULL;
        if (!gt || !strstr(gt, "rel=\"next\""))
                return NULL;
        _cleanup_free_ char *target = xstrndup(lt + 1, (size_t)(gt - lt - 1));
        return reg_resolve_url(url, target, NULL);
}

#define LIST_MAX 100000

static int list_page(struct pea_registry_client *c, const struct reg_req *req, const char *key,
                     char ***list, char **ret_next, struct pea_error **err)
{
        struct reg_resp resp = {.content_length = -1, .retry_after = -1};
        int r = reg_request(c, req, &resp, err);
        if (r >= 0 && resp.status != 200)
                r = reg_http_error(&resp, err, "Get \"%s\"", req->url);
        _cleanup_json_ json_t *j =
                r >= 0 ? json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL) : NULL;
        json_t *arr = json_object_get(j, key);
        if (r >= 0 && !json_is_array(arr) && !json_is_null(arr))
                r = pea_error_set(err, EBADMSG, "parsing the answer of '%s'", req->url);
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
                if (r >= 0 && strv_length(*list) >= LIST_MAX)
                        r = pea_error_set(err, EFBIG, "more than %d entries", LIST_MAX);
                if (r >= 0 && json_is_string(v))
                        strv_push(list, json_string_value(v));
        }
        if (r >= 0)
                *ret_next = next_link(req->url, resp.link);
        reg_resp_done(&resp);
        return r;
}

static int list_all(struct pea_registry_client *c, const char *repo, const char *path,
                    const char *key, char ***ret, struct pea_error **err)
{
        int r = reg_ensure_ping(c, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *url = reg_url(c, "%s", path);
        _cleanup_strv_ char **list = NULL;
        for (unsigned page = 0; url && r >= 0; page++) {
                struct reg_req req = {.method = "GET", .url = url, .repo = repo, .follow = true};
                char *next = NULL;
                r = page < 1000 ? list_page(c, &req, key, &list, &next, err)
                                : pea_error_set(err, EFBIG, "too many pages");
                free(url);
                url = next;
        }
        if (r < 0)
                return r;
        *ret = list ? TAKE_PTR(list) : xcalloc(1, sizeof(char *));
        return 0;
}

int pea_registry_list_tags(struct pea_registry_client *c, const char *repo, char ***ret_tags,
                           struct pea_error **err)
{
        if (!reg_valid_repo(repo))
                return pea_error_set(err, EINVAL, "invalid repository name '%s'", repo ? repo : "");
        _cleanup_free_ char *path = xasprintf("/v2/%s/tags/list", repo);
        int r = list_all(c, repo, path, "tags", ret_tags, err);
        if (r < 0)
                return reg_wrap(r, err, "fetching tags list of %s/%s", c->name, repo);
        return 0;
}

int pea_registry_catalog(struct pea_registry_client *c, char ***ret_repos, struct pea_error **err)
{
        int r = list_all(c, NULL, "/v2/_catalog", "repositories", ret_repos, err);
        if (r < 0)
                return reg_wrap(r, err, "fetching the catalog of %s", c->name);
        return 0;
}
