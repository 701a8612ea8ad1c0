/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "base.h"
#include "registry-internal.h"

#define MAX_CHALLENGES 16

void reg_challenge_done(struct reg_challenge *ch)
{
        free(ch->scheme);
        free(ch->realm);
        free(ch->service);
        free(ch->scope);
        free(ch->error);
        *ch = (struct reg_challenge){0};
}

void reg_challenges_free(struct reg_challenge *chs, size_t n)
{
        for (size_t i = 0; chs && i < n; i++)
                reg_challenge_done(&chs[i]);
        free(chs);
}

static bool is_tchar(char ch)
{
        return isalnum((unsigned char)ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static const char *skip_ws(const char *p)
{
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* A token or a quoted-string (with \-escapes) at *p; NULL on bad syntax. */
static char *parse_value(const char **p)
{
        const char *s = *p;
        if (*s != '"') {
                size_t n = 0;
                while (is_tchar(s[n]) || s[n] == '/' || s[n] == ':')
                        n++;
                *p = s + n;
                return n ? xstrndup(s, n) : NULL;
        }
        _cleanup_free_ char *out = xmalloc(strlen(s));
        size_t len = 0;
        for (s++; *s != '"'; s++) {
                if (!*s)
                        return NULL;
                if (*s == '\\' && s[1])
                        s++;
                out[len++] = *s;
        }
        out[len] = '\0';
        *p = s + 1;
        return TAKE_PTR(out);
}

static void store_param(struct reg_challenge *ch, const char *name, size_t n, char *value)
{
        char **field = NULL;
        if (n == 5 && strncasecmp(name, "realm", 5) == 0)
                field = &ch->realm;
        else if (n == 7 && strncasecmp(name, "service", 7) == 0)
                field = &ch->service;
        else if (n == 5 && strncasecmp(name, "scope", 5) == 0)
                field = &ch->scope;
        else if (n == 5 && strncasecmp(name, "error", 5) == 0)
                field = &ch->error;
        if (field) {
                free(*field);
                *field = value;
        } else {
                free(value);
        }
}

/*
 * Parses the auth-params after a scheme; stops (with *p at the name) at a token that is
 * not followed by '=', which starts the next challenge. -EBADMSG on bad syntax.
 */
static int parse_params(struct reg_challenge *ch, const char **p)
{
        const char *s = *p;
        for (;;) {
                s = skip_ws(s);
                while (*s == ',' || *s == ' ' || *s == '\t')
                        s++;
                const char *name = s;
                size_t n = 0;
                while (is_tchar(name[n]))
                        n++;
                const char *after = skip_ws(name + n);
                if (n == 0 || *after != '=') {
                        *p = name;
                        return n == 0 && *name ? -EBADMSG : 0;
                }
                s = skip_ws(after + 1);
                char *value = parse_value(&s);
                if (!value)
                        return -EBADMSG;
                store_param(ch, name, n, value);
                s = skip_ws(s);
                if (*s && *s != ',')
                        return -EBADMSG;
        }
}

int reg_parse_www_authenticate(const char *value, struct reg_challenge **ret, size_t *ret_n,
                               struct pea_error **err)
{
        struct reg_challenge *chs = xcalloc(MAX_CHALLENGES, sizeof(*chs));
        size_t n = 0;
        const char *p = value;
        int r = 0;
        for (;;) {
                while (*p == ',' || *p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                size_t len = 0;
                while (is_tchar(p[len]))
                        len++;
                if (len == 0 || n == MAX_CHALLENGES) {
                        r = -EBADMSG;
                        break;
                }
                struct reg_challenge *ch = &chs[n++];
                ch->scheme = xstrndup(p, len);
                for (char *c = ch->scheme; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                p += len;
                r = parse_params(ch, &p);
                if (r < 0)
                        break;
        }
        if (r < 0) {
                reg_challenges_free(chs, n);
                return pea_error_set(err, EBADMSG, "invalid WWW-Authenticate header '%s'", value);
        }
        *ret = chs;
        *ret_n = n;
        return 0;
}

int reg_pick_challenge(char **values, struct reg_challenge *ret)
{
        struct reg_challenge best = {0};
        STRV_FOREACH(v, values) {
                struct reg_challenge *chs = NULL;
                size_t n = 0;
                if (reg_parse_www_authenticate(*v, &chs, &n, NULL) < 0)
                        continue;
                for (size_t i = 0; i < n; i++) {
                        bool bearer = streq(chs[i].scheme, "bearer") && chs[i].realm;
                        bool basic = streq(chs[i].scheme, "basic");
                        if (bearer || (basic && !best.scheme)) {
                                reg_challenge_done(&best);
                                best = chs[i];
                                chs[i] = (struct reg_challenge){0};
                        }
                }
                reg_challenges_free(chs, n);
        }
        if (!best.scheme)
                return 0;
        *ret = best;
        return 1;
}

/* ---- token cache ---- */

static struct timespec now_mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts;
}

static bool ts_before(struct timespec a, struct timespec b)
{
        return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

int64_t reg_token_lifetime_ms(long long expires_in)
{
        if (expires_in <= 0)
                expires_in = 60;
        if (expires_in > 365LL * 24 * 3600)
                expires_in = 365LL * 24 * 3600;
        int64_t ms = expires_in * 1000;
        /* Renew a bit early (a tenth, at most 10 s) so a token does not expire in flight. */
        int64_t margin = ms / 10 < 10000 ? ms / 10 : 10000;
        return ms - margin;
}

void reg_tokens_free(struct reg_token *t)
{
        while (t) {
                struct reg_token *next = t->next;
                free(t->scope);
                free(t->token);
                free(t);
                t = next;
        }
}

static struct reg_token **token_find(struct pea_registry_client *c, const char *scope)
{
        struct reg_token **t = &c->tokens;
        while (*t && !streq((*t)->scope, scope))
                t = &(*t)->next;
        return t;
}

void reg_token_cache_drop(struct pea_registry_client *c, const char *scope)
{
        pthread_mutex_lock(&c->lock);
        struct reg_token **t = token_find(c, scope);
        struct reg_token *found = *t;
        if (found) {
                *t = found->next;
                found->next = NULL;
        }
        pthread_mutex_unlock(&c->lock);
        reg_tokens_free(found);
}

void reg_token_cache_put(struct pea_registry_client *c, const char *scope, const char *token,
                         int64_t lifetime_ms)
{
        struct timespec exp = now_mono();
        exp.tv_sec += lifetime_ms / 1000;
        exp.tv_nsec += (lifetime_ms % 1000) * 1000000L;
        if (exp.tv_nsec >= 1000000000L) {
                exp.tv_sec++;
                exp.tv_nsec -= 1000000000L;
        }
        char *copy = xstrdup(token);
        pthread_mutex_lock(&c->lock);
        struct reg_token *t = *token_find(c, scope);
        if (!t) {
                t = xcalloc(1, sizeof(*t));
                t->scope = xstrdup(scope);
                t->next = c->tokens;
                c->tokens = t;
        }
        free(t->token);
        t->token = copy;
        t->expiry = exp;
        pthread_mutex_unlock(&c->lock);
}

char *reg_token_cache_get(struct pea_registry_client *c, const char *scope)
{
        char *token = NULL;
        struct timespec now = now_mono();
        pthread_mutex_lock(&c->lock);
        struct reg_token *t = *token_find(c, scope);
        if (t && ts_before(now, t->expiry))
                token = xstrdup(t->token);
        pthread_mutex_unlock(&c->lock);
        return token;
}

char *reg_scope(const char *repo, bool push, const char *mount_from)
{
        if (!repo)
                return xstrdup("registry:catalog:*");
        const char *actions = push ? "pull,push" : "pull";
        if (mount_from)
                return xasprintf("repository:%s:%s repository:%s:pull", repo, actions, mount_from);
        return xasprintf("repository:%s:%s", repo, actions);
}

int reg_credentials(struct pea_registry_client *c, const char *repo, char **ret_user,
                    char **ret_password, struct pea_error **err)
{
        if (c->creds_user) {
                *ret_user = xstrdup(c->creds_user);
                *ret_password = xstrdup(c->creds_password);
                return 1;
        }
        _cleanup_free_ char *key = repo ? xasprintf("%s/%s", c->name, repo) : xstrdup(c->name);
        return pea_registry_authfile_lookup(c->authfile, key, ret_user, ret_password, err);
}

static char *basic_header(const char *user, const char *password)
{
        _cleanup_free_ char *pair = xasprintf("%s:%s", user, password);
        _cleanup_free_ char *b64 = reg_base64_encode(pair, strlen(pair));
        return xasprintf("Basic %s", b64);
}

static char *url_escape(const char *s)
{
        char *e = curl_easy_escape(NULL, s, 0);
        if (!e)
                abort(); /* out of memory, as xmalloc */
        char *ret = xstrdup(e);
        curl_free(e);
        return ret;
}

static void url_append(char **url, char *sep, const char *name, const char *value)
{
        _cleanup_free_ char *e = url_escape(value);
        char *next = xasprintf("%s%c%s=%s", *url, *sep, name, e);
        free(*url);
        *url = next;
        *sep = '&';
}

/* The token endpoint's URL: realm?service=..&scope=..[&scope=..]&account=.. */
static char *token_url(const char *realm, const char *service, const char *scope, const char *user)
{
        char *url = xstrdup(realm);
        char sep = strchr(realm, '?') ? '&' : '?';
        if (service)
                url_append(&url, &sep, "service", service);
        _cleanup_strv_ char **scopes = scope ? strv_split(scope, " ") : NULL;
        STRV_FOREACH(s, scopes)
                url_append(&url, &sep, "scope", *s);
        if (user)
                url_append(&url, &sep, "account", user);
        return url;
}

struct token_params {
        const char *realm;
        const char *service;
        const char *scope; /* NULL: login check */
        const char *user;  /* NULL: anonymous */
        const char *password;
};

static int parse_token(const struct reg_resp *resp, const char *url, char **ret_token,
                       int64_t *ret_lifetime, struct pea_error **err)
{
        _cleanup_json_ json_t *j =
                resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
        const char *token = pea_json_path_string(j, "token", NULL);
        if (!token || !*token)
                token = pea_json_path_string(j, "access_token", NULL);
        if (!token || !*token)
                return pea_error_set(err, EBADMSG, "no token in the answer of '%s'", url);
        json_t *exp = json_object_get(j, "expires_in");
        long long expires_in = json_is_integer(exp) ? json_integer_value(exp)
                               : json_is_real(exp)  ? (long long)json_real_value(exp)
                                                    : 0;
        *ret_token = xstrdup(token);
        *ret_lifetime = reg_token_lifetime_ms(expires_in);
        return 0;
}

static int fetch_token(struct pea_registry_client *c, const struct token_params *tp,
                       char **ret_token, int64_t *ret_lifetime, struct pea_error **err)
{
        _cleanup_free_ char *url = token_url(tp->realm, tp->service, tp->scope, tp->user);
        _cleanup_free_ char *auth = tp->user ? basic_header(tp->user, tp->password) : NULL;
        struct reg_req req = {.method = "GET",
                              .url = url,
                              .no_auth = true,
                              .authorization = auth,
                              .follow = true};
        struct reg_resp resp = {.content_length = -1, .retry_after = -1};
        pea_debug("requesting a token for scope '%s' from '%s'", tp->scope ? tp->scope : "",
                  tp->realm);
        int r = reg_request(c, &req, &resp, err);
        if (r < 0)
                r = reg_wrap(r, err, "unable to retrieve auth token");
        else if (resp.status == 401)
                r = pea_error_set(err, EACCES, "unable to retrieve auth token: %s",
                                  tp->user ? "invalid username/password"
                                           : "authentication required");
        else if (resp.status != 200)
                r = reg_http_error(&resp, err, "unable to retrieve auth token");
        else
                r = parse_token(&resp, tp->realm, ret_token, ret_lifetime, err);
        reg_resp_done(&resp);
        return r;
}

static void challenge_copy(struct pea_registry_client *c, char **ret_realm, char **ret_service)
{
        pthread_mutex_lock(&c->lock);
        *ret_realm = c->challenge.realm ? xstrdup(c->challenge.realm) : NULL;
        *ret_service = c->challenge.service ? xstrdup(c->challenge.service) : NULL;
        pthread_mutex_unlock(&c->lock);
}

static int bearer_header(struct pea_registry_client *c, const struct reg_req *req, bool refresh,
                         char **ret_header, struct pea_error **err)
{
        _cleanup_free_ char *scope = reg_scope(req->repo, req->push, req->mount_from);
        _cleanup_free_ char *token = refresh ? NULL : reg_token_cache_get(c, scope);
        if (!token) {
                _cleanup_free_ char *user = NULL, *password = NULL;
                int r = reg_credentials(c, req->repo, &user, &password, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *realm = NULL, *service = NULL;
                challenge_copy(c, &realm, &service);
                if (!realm)
                        return 0;
                struct token_params tp = {realm, service, scope, user, password};
                int64_t lifetime = 0;
                r = fetch_token(c, &tp, &token, &lifetime, err);
                if (r < 0)
                        return r;
                reg_token_cache_put(c, scope, token, lifetime);
        }
        *ret_header = xasprintf("Bearer %s", token);
        return 0;
}

int reg_auth_header(struct pea_registry_client *c, const struct reg_req *req, bool refresh,
                    char **ret_header, bool *ret_sent_creds, struct pea_error **err)
{
        pthread_mutex_lock(&c->lock);
        enum reg_auth_scheme auth = c->auth;
        pthread_mutex_unlock(&c->lock);
        *ret_header = NULL;
        *ret_sent_creds = false;
        if (auth == REG_AUTH_BEARER)
                return bearer_header(c, req, refresh, ret_header, err);
        if (auth != REG_AUTH_BASIC)
                return 0;
        _cleanup_free_ char *user = NULL, *password = NULL;
        int r = reg_credentials(c, req->repo, &user, &password, err);
        if (r <= 0)
                return r;
        *ret_header = basic_header(user, password);
        *ret_sent_creds = true;
        return 0;
}

int reg_auth_on_401(struct pea_registry_client *c, const struct reg_req *req,
                    const struct reg_resp *resp)
{
        struct reg_challenge ch = {0};
        if (!reg_pick_challenge(resp->www_authenticate, &ch))
                return 0;
        bool bearer = streq(ch.scheme, "bearer");
        pea_debug("401 from '%s': %s challenge%s%s", req->url, ch.scheme,
                  ch.error ? ", error " : "", ch.error ? ch.error : "");
        pthread_mutex_lock(&c->lock);
        reg_challenge_done(&c->challenge);
        c->challenge = ch;
        c->auth = bearer ? REG_AUTH_BEARER : REG_AUTH_BASIC;
        pthread_mutex_unlock(&c->lock);
        if (bearer)
                return 1; /* a new token (new scope, or the old one expired) */
        if (resp->sent_creds)
                return 0;
        _cleanup_free_ char *user = NULL, *password = NULL;
        struct pea_error *e = NULL;
        int r = reg_credentials(c, req->repo, &user, &password, &e);
        pea_error_clear(&e);
        return r > 0;
}

static int check_login(struct pea_registry_client *c, const char *user, const char *password,
                       struct pea_error **err)
{
        pthread_mutex_lock(&c->lock);
        enum reg_auth_scheme auth = c->auth;
        pthread_mutex_unlock(&c->lock);
        _cleanup_free_ char *realm = NULL, *service = NULL;
        challenge_copy(c, &realm, &service);
        if (auth == REG_AUTH_BEARER && realm) {
                struct token_params tp = {realm, service, NULL, user, password};
                _cleanup_free_ char *token = NULL;
                int64_t lifetime = 0;
                return fetch_token(c, &tp, &token, &lifetime, err);
        }
        if (auth != REG_AUTH_BASIC)
                return 0; /* the registry wants no credentials: podman logs in anyway */
        _cleanup_free_ char *url = reg_url(c, "/v2/");
        _cleanup_free_ char *hdr = basic_header(user, password);
        struct reg_req req = {.method = "GET", .url = url, .authorization = hdr};
        struct reg_resp resp = {.content_length = -1, .retry_after = -1};
        int r = reg_request(c, &req, &resp, err);
        if (r >= 0 && resp.status == 401)
                r = pea_error_set(err, EACCES, "invalid username/password");
        else if (r >= 0 && resp.status != 200)
                r = reg_http_error(&resp, err, "Get \"%s\"", url);
        reg_resp_done(&resp);
        return r;
}

int pea_registry_login(struct pea_registry_client *c, const char *user, const char *password,
                       struct pea_error **err)
{
        if (!user || !*user || strchr(user, ':') || !password || !*password)
                return pea_error_set(err, EINVAL, "invalid username or password for '%s'", c->name);
        int r = reg_ensure_ping(c, err);
        if (r >= 0)
                r = check_login(c, user, password, err);
        if (r < 0)
                return reg_wrap(r, err, "authenticating creds for '%s'", c->name);
        _cleanup_free_ char *path = pea_registry_authfile_path(c->authfile);
        return pea_registry_authfile_set(path, c->name, user, password, err);
}
