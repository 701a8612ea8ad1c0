/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "base.h"
#include "registry-internal.h"

/* The request engine: handle pool, one attempt, retries, auth retry, error messages. */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init(void)
{
        curl_init_rc = curl_global_init(CURL_GLOBAL_ALL);
}

static void share_lock(CURL *h _unused_, curl_lock_data data, curl_lock_access access _unused_,
                       void *userptr)
{
        struct pea_registry_client *c = userptr;
        pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h _unused_, curl_lock_data data, void *userptr)
{
        struct pea_registry_client *c = userptr;
        pthread_mutex_unlock(&c->share_locks[data]);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct pea_registry_client *, pea_registry_client_free)

static int parse_creds(struct pea_registry_client *c, const char *creds, struct pea_error **err)
{
        const char *colon = strchr(creds, ':');
        if (!colon || colon == creds)
                return pea_error_set(err, EINVAL, "invalid credentials: expected 'user:password'");
        c->creds_user = xstrndup(creds, (size_t)(colon - creds));
        c->creds_password = xstrdup(colon + 1);
        return 0;
}

static void init_locks(struct pea_registry_client *c)
{
        pthread_mutex_init(&c->lock, NULL);
        pthread_mutex_init(&c->ping_lock, NULL);
        for (size_t i = 0; i < ELEMENTSOF(c->share_locks); i++)
                pthread_mutex_init(&c->share_locks[i], NULL);
        c->share = curl_share_init();
        if (!c->share)
                return;
        curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

int pea_registry_client_new(const char *registry, const struct pea_registry_opts *opts,
                            struct pea_registry_client **ret, struct pea_error **err)
{
        static const struct pea_registry_opts no_opts = {0};
        if (!opts)
                opts = &no_opts;
        if (!registry || !*registry || strpbrk(registry, "/ \t\r\n@?#"))
                return pea_error_set(err, EINVAL, "invalid registry '%s'",
                                     registry ? registry : "");
        pthread_once(&curl_once, curl_init);
        if (curl_init_rc != CURLE_OK)
                return pea_error_set(err, EIO, "initializing libcurl: %s",
                                     curl_easy_strerror(curl_init_rc));
        _cleanup_(pea_registry_client_freep) struct pea_registry_client *c = xcalloc(1, sizeof(*c));
        c->tls.ca_fd = -EBADF;
        init_locks(c);
        c->name = xstrdup(registry);
        bool hub = streq(registry, "docker.io") || streq(registry, "index.docker.io");
        c->endpoint = xstrdup(hub ? "registry-1.docker.io" : registry);
        c->insecure = opts->insecure;
        c->authfile = opts->authfile ? xstrdup(opts->authfile) : NULL;
        c->user_agent = xstrdup(opts->user_agent ? opts->user_agent : PEA_REGISTRY_USER_AGENT);
        int r = opts->creds ? parse_creds(c, opts->creds, err) : 0;
        if (r < 0)
                return r;
        /* certs.d/<name>, as containers/image: docker.io, not registry-1.docker.io. */
        r = reg_tls_init(&c->tls, c->name, opts->cert_dir, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

struct pea_registry_client *pea_registry_client_free(struct pea_registry_client *c)
{
        if (!c)
                return NULL;
        while (c->pool) {
                struct reg_handle *h = c->pool;
                c->pool = h->next;
                curl_easy_cleanup(h->curl);
                free(h);
        }
        if (c->share)
                curl_share_cleanup(c->share);
        for (size_t i = 0; i < ELEMENTSOF(c->share_locks); i++)
                pthread_mutex_destroy(&c->share_locks[i]);
        pthread_mutex_destroy(&c->lock);
        pthread_mutex_destroy(&c->ping_lock);
        reg_tokens_free(c->tokens);
        reg_challenge_done(&c->challenge);
        reg_tls_done(&c->tls);
        free(c->name);
        free(c->endpoint);
        free(c->creds_user);
        free(c->creds_password);
        free(c->authfile);
        free(c->user_agent);
        free(c->scheme);
        free(c);
        return NULL;
}

const char *pea_registry_client_name(const struct pea_registry_client *c)
{
        return c->name;
}

const char *pea_registry_client_endpoint(const struct pea_registry_client *c)
{
        return c->endpoint;
}

const char *pea_registry_client_scheme(struct pea_registry_client *c)
{
        pthread_mutex_lock(&c->lock);
        const char *s = c->scheme;
        pthread_mutex_unlock(&c->lock);
        return s;
}

static CURL *handle_get(struct pea_registry_client *c)
{
        pthread_mutex_lock(&c->lock);
        struct reg_handle *h = c->pool;
        if (h)
                c->pool = h->next;
        pthread_mutex_unlock(&c->lock);
        if (!h)
                return curl_easy_init();
        CURL *curl = h->curl;
        free(h);
        return curl;
}

static void handle_put(struct pea_registry_client *c, CURL *curl)
{
        if (!curl)
                return;
        curl_easy_reset(curl);
        struct reg_handle *h = xmalloc(sizeof(*h));
        h->curl = curl;
        pthread_mutex_lock(&c->lock);
        h->next = c->pool;
        c->pool = h;
        pthread_mutex_unlock(&c->lock);
}

void reg_resp_done(struct reg_resp *r)
{
        free(r->body);
        free(r->content_type);
        free(r->digest);
        free(r->location);
        free(r->link);
        free(r->content_range);
        strv_free(r->www_authenticate);
        *r = (struct reg_resp){.content_length = -1, .retry_after = -1};
}

/* The state of one request across its attempts. */
enum xfer_mode {
        MODE_UNSET,
        MODE_SINK,   /* 2xx body to req->sink */
        MODE_BUFFER, /* into resp->body */
};

struct xfer {
        const struct reg_req *req;
        struct reg_resp *resp;
        CURL *h;
        CURLcode rc;
        enum xfer_mode mode;
        int64_t delivered; /* bytes given to the sink, over all attempts */
        int64_t skip;      /* bytes of this answer the sink already has */
        int64_t uploaded;
        struct pea_error *err; /* from a callback */
        char errbuf[CURL_ERROR_SIZE];
};

static void set_header(char **field, const char *value)
{
        free(*field);
        *field = xstrdup(value);
}

static void store_header(struct reg_resp *r, const char *name, const char *value)
{
        if (strcasecmp(name, "content-type") == 0)
                set_header(&r->content_type, value);
        else if (strcasecmp(name, "docker-content-digest") == 0)
                set_header(&r->digest, value);
        else if (strcasecmp(name, "location") == 0)
                set_header(&r->location, value);
        else if (strcasecmp(name, "link") == 0)
                set_header(&r->link, value);
        else if (strcasecmp(name, "content-range") == 0)
                set_header(&r->content_range, value);
        else if (strcasecmp(name, "www-authenticate") == 0)
                strv_push(&r->www_authenticate, value);
        else if (strcasecmp(name, "content-length") == 0) {
                long long v = -1;
                r->content_length = safe_atoll(value, &v) == 0 && v >= 0 ? v : -1;
        } else if (strcasecmp(name, "retry-after") == 0) {
                long long v = -1;
                r->retry_after = safe_atoll(value, &v) == 0 && v >= 0 ? (long)v : -1;
        }
}

static size_t on_header(char *buf, size_t size, size_t n, void *userdata)
{
        struct xfer *x = userdata;
        size_t len = size * n;
        _cleanup_free_ char *line = xstrndup(buf, len);
        strstrip(line);
        if (startswith(line, "HTTP/")) {
                /* A new answer (redirect, 100 Continue): forget the previous one. */
                bool sent = x->resp->sent_creds;
                reg_resp_done(x->resp);
                x->resp->sent_creds = sent;
                x->mode = MODE_UNSET;
                return len;
        }
        char *colon = strchr(line, ':');
        if (colon) {
                *colon = '\0';
                store_header(x->resp, line, strstrip(colon + 1));
        }
        return len;
}

static int choose_mode(struct xfer *x)
{
        long status = 0;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
        x->resp->status = status;
        x->skip = 0;
        if (!x->req->sink || (status != 200 && status != 206)) {
                x->mode = MODE_BUFFER;
                return 0;
        }
        x->mode = MODE_SINK;
        if (status == 200) {
                x->skip = x->delivered;
                return 0;
        }
        long long start = -1;
        const char *cr =
                x->resp->content_range ? startswith(x->resp->content_range, "bytes ") : NULL;
        if (!cr || sscanf(cr, "%lld-", &start) != 1 || start != x->delivered)
                return pea_error_set(&x->err, EPROTO, "unexpected Content-Range '%s'",
                                     x->resp->content_range ? x->resp->content_range : "");
        return 0;
}

static size_t deliver(struct xfer *x, const char *ptr, size_t len)
{
        size_t total = len;
        if (x->skip > 0) {
                size_t s = (int64_t)len < x->skip ? len : (size_t)x->skip;
                x->skip -= (int64_t)s;
                ptr += s;
                len -= s;
        }
        if (len > 0 && x->req->sink(x->req->sink_data, ptr, len, &x->err) < 0) {
                if (!x->err)
                        pea_error_set(&x->err, EIO, "writing the response body");
                return 0;
        }
        x->delivered += (int64_t)len;
        return total;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *userdata)
{
        struct xfer *x = userdata;
        size_t len = size * n;
        if (x->mode == MODE_UNSET && choose_mode(x) < 0)
                return 0;
        if (x->mode == MODE_SINK)
                return deliver(x, ptr, len);
        struct reg_resp *r = x->resp;
        bool error_body = x->req->sink || r->status >= 300;
        size_t max = x->req->max_body ? x->req->max_body : REG_SMALL_BODY_MAX;
        if (r->body_len + len > max) {
                if (error_body)
                        return len; /* an error body only feeds the message: truncate */
                pea_error_set(&x->err, EFBIG, "response from '%s' is larger than %zu bytes",
                              x->req->url, max);
                return 0;
        }
        r->body = xrealloc(r->body, r->body_len + len + 1);
        memcpy(r->body + r->body_len, ptr, len);
        r->body_len += len;
        r->body[r->body_len] = '\0';
        return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *userdata)
{
        struct xfer *x = userdata;
        const struct pea_registry_blob_upload *up = x->req->upload;
        ssize_t r = up->read(up->userdata, buf, size * n, &x->err);
        if (r < 0) {
                if (!x->err)
                        pea_error_set(&x->err, (int)-r, "reading the upload");
                return CURL_READFUNC_ABORT;
        }
        x->uploaded += r;
        return (size_t)r;
}

static int upload_rewind(struct xfer *x)
{
        const struct pea_registry_blob_upload *up = x->req->upload;
        if (!up || x->uploaded == 0)
                return 0;
        if (!up->rewind)
                return -ESPIPE;
        struct pea_error *e = NULL;
        int r = up->rewind(up->userdata, &e);
        pea_error_clear(&e);
        if (r >= 0)
                x->uploaded = 0;
        return r;
}

static int on_seek(void *userdata, curl_off_t offset, int origin)
{
        struct xfer *x = userdata;
        if (offset != 0 || origin != SEEK_SET)
                return CURL_SEEKFUNC_CANTSEEK;
        return upload_rewind(x) < 0 ? CURL_SEEKFUNC_CANTSEEK : CURL_SEEKFUNC_OK;
}

static const char *go_method(const char *m)
{
        static const char *const names[][2] = {
                {"GET", "Get"},   {"HEAD", "Head"},   {"PUT", "Put"},
                {"POST", "Post"}, {"PATCH", "Patch"}, {"DELETE", "Delete"},
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(m, names[i][0]))
                        return names[i][1];
        return m;
}

static void slist_add(struct curl_slist **l, const char *fmt, ...) _printf_(2, 3);

static void slist_add(struct curl_slist **l, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *s = xvasprintf(fmt, ap);
        va_end(ap);
        struct curl_slist *n = curl_slist_append(*l, s);
        if (!n)
                abort(); /* out of memory, as xmalloc */
        *l = n;
}

static bool has_body(const struct reg_req *req)
{
        return req->body || streq(req->method, "POST") || streq(req->method, "PUT")
               || streq(req->method, "PATCH");
}

static struct curl_slist *build_headers(const struct xfer *x, const char *auth)
{
        const struct reg_req *req = x->req;
        struct curl_slist *l = NULL;
        if (req->accept)
                slist_add(&l, "Accept: %s", req->accept);
        if (req->content_type)
                slist_add(&l, "Content-Type: %s", req->content_type);
        else if (has_body(req) && !req->upload)
                slist_add(&l, "Content-Type:"); /* drop curl's form default */
        if (auth)
                slist_add(&l, "Authorization: %s", auth);
        if (req->sink && x->delivered > 0)
                slist_add(&l, "Range: bytes=%lld-", (long long)x->delivered);
        return l;
}

static void setup_method(CURL *h, struct xfer *x)
{
        const struct reg_req *req = x->req;
        const char *m = req->method;
        if (streq(m, "HEAD")) {
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (req->upload) {
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(h, CURLOPT_READDATA, x);
                curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
                curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->upload->size);
                if (!streq(m, "PUT"))
                        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        } else if (has_body(req)) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
                if (!streq(m, "POST"))
                        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        } else if (!streq(m, "GET")) {
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        }
}

static void setup_handle(struct pea_registry_client *c, struct xfer *x, struct curl_slist *hdrs)
{
        CURL *h = x->h;
        curl_easy_setopt(h, CURLOPT_URL, x->req->url);
        curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        if (c->share)
                curl_easy_setopt(h, CURLOPT_SHARE, c->share);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, x->req->follow ? 1L : 0L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        /* A stalled transfer (under 1 byte/s for 60 s) is a timeout, and retried. */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        setup_method(h, x);
        (void)reg_tls_apply(&c->tls, h, c->insecure);
}

static int attempt_once(struct pea_registry_client *c, struct xfer *x, bool refresh,
                        struct pea_error **err)
{
        const struct reg_req *req = x->req;
        _cleanup_free_ char *auth = NULL;
        bool sent = false;
        if (req->authorization) {
                auth = xstrdup(req->authorization);
                sent = startswith(auth, "Basic ") != NULL;
        } else if (!req->no_auth) {
                int r = reg_auth_header(c, req, refresh, &auth, &sent, err);
                if (r < 0)
                        return r;
        }
        reg_resp_done(x->resp);
        x->resp->sent_creds = sent;
        x->mode = MODE_UNSET;
        x->errbuf[0] = '\0';
        _cleanup_slist_ struct curl_slist *hdrs = build_headers(x, auth);
        curl_easy_reset(x->h);
        setup_handle(c, x, hdrs);
        x->rc = curl_easy_perform(x->h);
        long status = 0;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
        x->resp->status = status;
        if (x->err) {
                int code = x->err->code;
                if (err && !*err)
                        *err = TAKE_PTR(x->err);
                else
                        pea_error_clear(&x->err);
                return -code;
        }
        return 0;
}

bool reg_transient_curl(CURLcode rc)
{
        switch (rc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return true;
        default:
                return false;
        }
}

bool reg_transient_status(long status)
{
        return status == 429 || status == 502 || status == 503 || status == 504;
}

long reg_backoff_ms(unsigned attempt, long retry_after)
{
        long ms = (long)REG_BACKOFF_BASE_MS << (attempt < 10 ? attempt : 10);
        if (retry_after > 0) {
                long ra = (retry_after < 10 ? retry_after : 10) * 1000;
                if (ra > ms)
                        ms = ra;
        }
        return ms;
}

static void sleep_ms(long ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int curl_errno(CURLcode rc)
{
        switch (rc) {
        case CURLE_COULDNT_CONNECT:
                return ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return ETIMEDOUT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return EHOSTUNREACH;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return ECONNRESET;
        case CURLE_TOO_MANY_REDIRECTS:
                return ELOOP;
        case CURLE_UNSUPPORTED_PROTOCOL:
                return EPROTONOSUPPORT;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
                return EPROTO;
        default:
                return EIO;
        }
}

static bool retry_wanted(const struct xfer *x, unsigned attempt)
{
        if (attempt >= REG_MAX_RETRIES)
                return false;
        if (x->rc != CURLE_OK)
                return reg_transient_curl(x->rc);
        return reg_transient_status(x->resp->status);
}

static int run_attempts(struct pea_registry_client *c, struct xfer *x, struct pea_error **err)
{
        const struct reg_req *req = x->req;
        bool auth_retried = false, refresh = false;
        for (unsigned attempt = 0;;) {
                int r = attempt_once(c, x, refresh, err);
                if (r < 0)
                        return r;
                refresh = false;
                if (x->rc == CURLE_OK && x->resp->status == 401 && !auth_retried && !req->no_auth
                    && !req->authorization && reg_auth_on_401(c, req, x->resp) > 0
                    && upload_rewind(x) >= 0) {
                        auth_retried = refresh = true;
                        continue;
                }
                if (!retry_wanted(x, attempt) || upload_rewind(x) < 0)
                        break;
                long ms = reg_backoff_ms(attempt++, x->resp->retry_after);
                pea_debug("%s '%s': %s, retrying in %ld ms", req->method, req->url,
                          x->rc ? curl_easy_strerror(x->rc) : "transient HTTP status", ms);
                sleep_ms(ms);
        }
        if (x->rc != CURLE_OK)
                return pea_error_set(err, curl_errno(x->rc), "%s \"%s\": %s",
                                     go_method(req->method), req->url,
                                     x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->rc));
        return 0;
}

int reg_request(struct pea_registry_client *c, const struct reg_req *req, struct reg_resp *ret,
                struct pea_error **err)
{
        CURL *h = handle_get(c);
        if (!h)
                return pea_error_set(err, ENOMEM, "initializing libcurl");
        struct xfer x = {.req = req, .resp = ret, .h = h};
        int r = run_attempts(c, &x, err);
        handle_put(c, h);
        pea_debug("%s %s: %ld", req->method, req->url, ret->status);
        return r;
}

static const char *status_text(long status)
{
        static const struct {
                long code;
                const char *text;
        } t[] = {
                {400, "Bad Request"},
                {401, "Unauthorized"},
                {403, "Forbidden"},
                {404, "Not Found"},
                {405, "Method Not Allowed"},
                {409, "Conflict"},
                {413, "Request Entity Too Large"},
                {416, "Requested Range Not Satisfiable"},
                {429, "Too Many Requests"},
                {500, "Internal Server Error"},
                {502, "Bad Gateway"},
                {503, "Service Unavailable"},
                {504, "Gateway Timeout"},
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (t[i].code == status)
                        return t[i].text;
        return NULL;
}

static int status_errno(long status)
{
        switch (status) {
        case 404:
                return ENOENT;
        case 401:
        case 403:
                return EACCES;
        case 429:
                return EAGAIN;
        case 413:
                return EFBIG;
        case 405:
                return EOPNOTSUPP;
        default:
                return EPROTO;
        }
}

/* "MANIFEST_UNKNOWN" + "manifest unknown" → "manifest unknown", else "code: message". */
static char *format_errcode(const char *code, const char *message)
{
        _cleanup_free_ char *text = xstrdup(code && *code ? code : "unknown");
        for (char *p = text; *p; p++)
                *p = *p == '_' ? ' ' : (char)tolower((unsigned char)*p);
        if (!message || !*message)
                return TAKE_PTR(text);
        if (strcasecmp(message, text) == 0)
                return xstrdup(message);
        return xasprintf("%s: %s", text, message);
}

/* The registry's {"errors":[{"code","message"}]} joined with "; ", or NULL. */
static char *json_errors(const struct reg_resp *resp)
{
        if (!resp->body || resp->body_len == 0)
                return NULL;
        _cleanup_json_ json_t *j = json_loadb(resp->body, resp->body_len, 0, NULL);
        json_t *errors = json_object_get(j, "errors");
        if (!json_is_array(errors) || json_array_size(errors) == 0)
                return NULL;
        _cleanup_strv_ char **parts = NULL;
        size_t i;
        json_t *e;
        json_array_foreach(errors, i, e) {
                if (i >= 5)
                        break;
                strv_consume(&parts, format_errcode(pea_json_path_string(e, "code", NULL),
                                                    pea_json_path_string(e, "message", NULL)));
        }
        return strv_join(parts, "; ");
}

char *reg_http_error_message(const struct reg_resp *resp)
{
        _cleanup_free_ char *json = json_errors(resp);
        if (resp->status == 401) {
                const char *base = json ? json : "authentication required";
                if (resp->sent_creds)
                        return xasprintf("invalid username/password: %s", base);
                return xstrdup(base);
        }
        if (json)
                return TAKE_PTR(json);
        const char *text = status_text(resp->status);
        return xasprintf("received unexpected HTTP status: %ld%s%s", resp->status, text ? " " : "",
                         text ? text : "");
}

int reg_wrap(int r, struct pea_error **err, const char *fmt, ...)
{
        if (!err || !*err)
                return r;
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *ctx = xvasprintf(fmt, ap);
        va_end(ap);
        pea_error_wrap(err, "%s", ctx);
        return r;
}

int reg_http_error(const struct reg_resp *resp, struct pea_error **err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *ctx = xvasprintf(fmt, ap);
        va_end(ap);
        _cleanup_free_ char *msg = reg_http_error_message(resp);
        return pea_error_set(err, status_errno(resp->status), "%s: %s", ctx, msg);
}

static int ping_scheme(struct pea_registry_client *c, const char *scheme, struct pea_error **err)
{
        _cleanup_free_ char *url = xasprintf("%s://%s/v2/", scheme, c->endpoint);
        struct reg_req req = {.method = "GET", .url = url, .no_auth = true};
        struct reg_resp resp = {.content_length = -1, .retry_after = -1};
        int r = reg_request(c, &req, &resp, err);
        if (r >= 0 && resp.status != 200 && resp.status != 401)
                r = reg_http_error(&resp, err, "Get \"%s\"", url);
        if (r >= 0) {
                struct reg_challenge ch = {0};
                bool found = resp.status == 401 && reg_pick_challenge(resp.www_authenticate, &ch);
                pthread_mutex_lock(&c->lock);
                c->scheme = xstrdup(scheme);
                if (found) {
                        reg_challenge_done(&c->challenge);
                        c->challenge = ch;
                        c->auth = streq(ch.scheme, "bearer") ? REG_AUTH_BEARER : REG_AUTH_BASIC;
                }
                pthread_mutex_unlock(&c->lock);
        }
        reg_resp_done(&resp);
        return r;
}

int reg_ensure_ping(struct pea_registry_client *c, struct pea_error **err)
{
        if (pea_registry_client_scheme(c))
                return 0;
        pthread_mutex_lock(&c->ping_lock);
        int r = 0;
        if (!pea_registry_client_scheme(c)) {
                struct pea_error *https_err = NULL;
                r = ping_scheme(c, "https", &https_err);
                if (r < 0 && c->insecure) {
                        pea_debug("pinging '%s' over https: %s, trying http", c->endpoint,
                                  https_err->msg);
                        pea_error_clear(&https_err);
                        r = ping_scheme(c, "http", &https_err);
                }
                if (r < 0) {
                        r = reg_wrap(r, &https_err, "pinging container registry %s", c->name);
                        if (err && !*err)
                                *err = TAKE_PTR(https_err);
                        pea_error_clear(&https_err);
                }
        }
        pthread_mutex_unlock(&c->ping_lock);
        return r;
}

int pea_registry_ping(struct pea_registry_client *c, struct pea_error **err)
{
        return reg_ensure_ping(c, err);
}

char *reg_url(struct pea_registry_client *c, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *path = xvasprintf(fmt, ap);
        va_end(ap);
        const char *scheme = pea_registry_client_scheme(c);
        return xasprintf("%s://%s%s", scheme ? scheme : "https", c->endpoint, path);
}

char *reg_resolve_url(const char *base, const char *location, const char *query)
{
        _cleanup_curlu_ CURLU *u = curl_url();
        if (!u || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
                return NULL;
        if (curl_url_set(u, CURLUPART_URL, location, 0) != CURLUE_OK)
                return NULL;
        if (query
            && curl_url_set(u, CURLUPART_QUERY, query, CURLU_APPENDQUERY | CURLU_URLENCODE)
                       != CURLUE_OK)
                return NULL;
        char *scheme = NULL, *url = NULL;
        bool ok = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK
                  && (streq(scheme, "http") || streq(scheme, "https"))
                  && curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK;
        curl_free(scheme);
        char *ret = ok ? xstrdup(url) : NULL;
        curl_free(url);
        return ret;
}
