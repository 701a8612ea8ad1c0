/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>

#include "cleanup.h"
#include "registry/registry.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all)
DEFINE_TRIVIAL_CLEANUP_FUNC(CURLU *, curl_url_cleanup)
#define _cleanup_curl_  _cleanup_(curl_easy_cleanupp)
#define _cleanup_slist_ _cleanup_(curl_slist_free_allp)
#define _cleanup_curlu_ _cleanup_(curl_url_cleanupp)

/* Retries of transient failures and their delays: 200, 400, 800 ms. */
#define REG_MAX_RETRIES     3
#define REG_BACKOFF_BASE_MS 200
/* Error and token bodies are read up to this size. */
#define REG_SMALL_BODY_MAX (1024u * 1024)

/* ---- auth.c ---- */

enum reg_auth_scheme {
        REG_AUTH_NONE,
        REG_AUTH_BASIC,
        REG_AUTH_BEARER,
        _REG_AUTH_SCHEME_MAX,
        _REG_AUTH_SCHEME_INVALID = -EINVAL,
};

/* One challenge of a WWW-Authenticate header; scheme is lowercase. */
struct reg_challenge {
        char *scheme;
        char *realm;
        char *service;
        char *scope;
        char *error;
};

void reg_challenge_done(struct reg_challenge *ch);
void reg_challenges_free(struct reg_challenge *chs, size_t n);

/* Parses every challenge of one header value (at most 16). -EBADMSG on bad syntax. */
int reg_parse_www_authenticate(const char *value, struct reg_challenge **ret, size_t *ret_n,
                               struct pea_error **err);

/* From several header values, the Bearer challenge, else the Basic one. 1 found, 0 none. */
int reg_pick_challenge(char **values, struct reg_challenge *ret);

struct reg_token {
        char *scope;
        char *token;
        struct timespec expiry; /* CLOCK_MONOTONIC */
        struct reg_token *next;
};

/* Stores a token for scope valid for lifetime_ms (replacing one for the same scope). */
void reg_token_cache_put(struct pea_registry_client *c, const char *scope, const char *token,
                         int64_t lifetime_ms);
/* A copy of an unexpired cached token, or NULL. */
char *reg_token_cache_get(struct pea_registry_client *c, const char *scope);
void reg_token_cache_drop(struct pea_registry_client *c, const char *scope);
void reg_tokens_free(struct reg_token *t);

/* Token lifetime to cache: expires_in seconds (default 60) minus a margin. */
int64_t reg_token_lifetime_ms(long long expires_in);

/* "repository:REPO:pull[,push][ repository:FROM:pull]", or registry:catalog:*. */
char *reg_scope(const char *repo, bool push, const char *mount_from);

/*
 * The credentials to use for repo (NULL: registry-wide): --creds, else auth.json.
 * 1 found, 0 none.
 */
int reg_credentials(struct pea_registry_client *c, const char *repo, char **ret_user,
                    char **ret_password, struct pea_error **err);

struct reg_req;
struct reg_resp;

/*
 * The Authorization header value for req, fetching a token if needed; NULL when
 * none applies. ret_sent_creds tells whether Basic credentials go out.
 */
int reg_auth_header(struct pea_registry_client *c, const struct reg_req *req, bool refresh,
                    char **ret_header, bool *ret_sent_creds, struct pea_error **err);

/* After a 401: learns the challenge. 1 when a retry with fresh auth may help. */
int reg_auth_on_401(struct pea_registry_client *c, const struct reg_req *req,
                    const struct reg_resp *resp);

/* ---- authfile.c ---- */

char *reg_base64_encode(const void *data, size_t len);
/* Decodes standard base64 (padding optional); -EBADMSG when invalid. */
int reg_base64_decode(const char *s, char **ret, size_t *ret_len);

/* The auth.json key a given key normalises to (scheme and path stripped, docker.io). */
char *reg_authfile_normalize_key(const char *key);

/* Looks up key in one file; missing file is 0 (none). */
int reg_authfile_lookup_in(const char *path, const char *key, char **ret_user, char **ret_password,
                           struct pea_error **err);

/* ---- tls.c ---- */

struct reg_tls {
        char *cert_dir;  /* the directory used, or NULL */
        char *ca_bundle; /* system CAs + *.crt, NULL when there are no extra CAs */
        size_t ca_len;
        bool use_blob; /* libcurl takes CURLOPT_CAINFO_BLOB */
        int ca_fd;     /* else a memfd holding the bundle ... */
        char *ca_path; /* ... passed as /proc/self/fd/N */
        char *client_cert;
        char *client_key;
};

/* The certs.d directory for host:port: cert_dir when given, else the first that exists. */
char *reg_tls_cert_dir(const char *hostport, const char *cert_dir);
int reg_tls_init(struct reg_tls *t, const char *hostport, const char *cert_dir,
                 struct pea_error **err);
void reg_tls_done(struct reg_tls *t);
int reg_tls_apply(const struct reg_tls *t, CURL *h, bool insecure);

/* ---- client.c ---- */

struct reg_handle {
        CURL *curl;
        struct reg_handle *next;
};

struct pea_registry_client {
        char *name;
        char *endpoint;
        bool insecure;
        char *creds_user;
        char *creds_password;
        char *authfile;
        char *user_agent;
        struct reg_tls tls;

        pthread_mutex_t lock; /* everything below */
        char *scheme;         /* NULL until pinged */
        enum reg_auth_scheme auth;
        struct reg_challenge challenge;
        struct reg_token *tokens;
        struct reg_handle *pool;

        pthread_mutex_t ping_lock;
        CURLSH *share;
        pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
};

struct reg_req {
        const char *method; /* GET HEAD PUT POST PATCH DELETE */
        const char *url;
        const char *repo; /* auth scope; NULL: registry-wide */
        bool push;
        const char *mount_from;
        bool no_auth;              /* ping, token requests */
        const char *authorization; /* explicit Authorization value (implies no_auth) */
        const char *accept;
        const char *content_type;
        const void *body; /* in-memory request body */
        size_t body_len;
        const struct pea_registry_blob_upload *upload; /* streamed request body */
        pea_registry_write_fn sink; /* a 2xx body goes here, else into resp->body */
        void *sink_data;
        size_t max_body; /* cap of resp->body for a 2xx answer (0: REG_SMALL_BODY_MAX) */
        bool follow;     /* follow redirects */
};

struct reg_resp {
        long status;
        char *body;
        size_t body_len;
        char *content_type;
        char *digest;
        char *location;
        char *link;
        char *content_range;
        int64_t content_length; /* -1 unknown */
        long retry_after;       /* seconds, -1 none */
        char **www_authenticate;
        bool sent_creds;
};

void reg_resp_done(struct reg_resp *r);

/*
 * Performs req with auth, redirects and retries. Returns 0 with ret filled for any HTTP
 * status (check ret->status), or a negative errno for network failures and callback
 * errors. ret must be zero-initialised; it is reset between attempts.
 */
int reg_request(struct pea_registry_client *c, const struct reg_req *req, struct reg_resp *ret,
                struct pea_error **err);

/* Sets err from a non-success answer: "<context>: manifest unknown". */
int reg_http_error(const struct reg_resp *resp, struct pea_error **err, const char *fmt, ...)
        _printf_(3, 4);

/* pea_error_wrap() that returns r, so a NULL err keeps the real code. */
int reg_wrap(int r, struct pea_error **err, const char *fmt, ...) _printf_(3, 4);

/* The message for an answer: the registry's JSON errors, else the status. */
char *reg_http_error_message(const struct reg_resp *resp);

/* True when a failure is worth retrying: network errors, 429, 502, 503, 504. */
bool reg_transient_curl(CURLcode rc);
bool reg_transient_status(long status);
/* Delay before retry number attempt (0-based): 200, 400, 800 ms. */
long reg_backoff_ms(unsigned attempt, long retry_after);

/* Pings unless done; then "<scheme>://<endpoint><path>". */
int reg_ensure_ping(struct pea_registry_client *c, struct pea_error **err);
char *reg_url(struct pea_registry_client *c, const char *fmt, ...) _printf_(2, 3);

/* Resolves location against base and appends query (optional). NULL if invalid. */
char *reg_resolve_url(const char *base, const char *location, const char *query);

/* Validation of names that go into URLs. */
bool reg_valid_repo(const char *repo);
bool reg_valid_tag(const char *tag);
/* "sha256:<64 hex>" or "sha512:<128 hex>"; returns the GnuTLS algorithm or -EINVAL. */
int reg_digest_algorithm(const char *digest);
/* "<alg>:<hex>" of data. */
char *reg_digest_data(int algorithm, const void *data, size_t size);
