/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <check.h>
#include <gnutls/crypto.h>

#include "base.h"
#include "registry/registry-internal.h"
#include "registry/registry.h"

/*
 * Pure parts always run. The network parts need the test registries:
 *   /work/shared/testenv/registry start && /work/shared/testenv/load-fixtures
 *   set -a; eval "$(/work/shared/testenv/registry env)"; set +a        (PEA_REGISTRY...)
 *   eval "$(tests/tools/token-registry.sh start | sed 's/^/export /')" (PEA_TOKEN_...)
 */

#define BUSYBOX_DIGEST "sha256:e9b0884eda78e825459b2ff789b7d31ce3e377402b4a21abfd89ea849aa9859c"

/*
 * The manifest digest the test registries serve for fixture NAME: the digest
 * column of $PEA_FIXTURES_LIST (../shared/fixtures/images.txt, or the list of
 * tests/tools/mkfixtures, whose digests depend on the host's busybox), else
 * FALLBACK (the ../shared digest).
 */
static char *fixture_digest(const char *name, const char *fallback)
{
        const char *list = getenv("PEA_FIXTURES_LIST");
        if (!list || !list[0])
                return xstrdup(fallback);
        _cleanup_fclose_ FILE *f = fopen(list, "re");
        ck_assert_msg(f != NULL, "cannot open PEA_FIXTURES_LIST '%s'", list);
        char line[1024];
        while (fgets(line, sizeof(line), f)) {
                char *save = NULL, *n = strtok_r(line, "\t", &save);
                if (line[0] == '#' || !n || !streq(n, name))
                        continue;
                char *d = NULL;
                for (int i = 0; i < 3; i++)
                        d = strtok_r(NULL, "\t\n", &save);
                ck_assert_msg(d && startswith(d, "sha256:"), "no digest for '%s' in '%s'", name,
                              list);
                return xstrdup(d);
        }
        ck_abort_msg("fixture '%s' is not in '%s'", name, list);
        return NULL;
}

static char *tmpdir;

static void make_tmpdir(void)
{
        tmpdir = xstrdup("/tmp/test-registry-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        /* Every test sees only its own auth files and certs.d. */
        _cleanup_free_ char *run = xasprintf("%s/run", tmpdir);
        _cleanup_free_ char *cfg = xasprintf("%s/cfg", tmpdir);
        _cleanup_free_ char *home = xasprintf("%s/home", tmpdir);
        setenv("XDG_RUNTIME_DIR", run, 1);
        setenv("XDG_CONFIG_HOME", cfg, 1);
        setenv("HOME", home, 1);
        unsetenv("REGISTRY_AUTH_FILE");
        unsetenv("DOCKER_CONFIG");
}

static void remove_tmpdir(void)
{
        (void)pea_rm_rf(tmpdir, NULL);
        free(tmpdir);
        tmpdir = NULL;
}

static void write_file(const char *path, const char *data)
{
        _cleanup_free_ char *dir = xstrdup(path);
        *strrchr(dir, '/') = '\0';
        ck_assert_int_eq(pea_mkdir_p(dir, 0755, NULL), 0);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, path, data, strlen(data), 0644, NULL),
                         0);
}

static char *read_text(const char *path)
{
        char *data = NULL;
        ck_assert_int_eq(pea_read_file_at(AT_FDCWD, path, 1 << 20, &data, NULL, NULL), 0);
        return data;
}

/* ---- pure parts ---- */

START_TEST(base64_vectors)
{
        static const char *const v[][2] = {
                {"", ""},
                {"f", "Zg=="},
                {"fo", "Zm8="},
                {"foo", "Zm9v"},
                {"foob", "Zm9vYg=="},
                {"fooba", "Zm9vYmE="},
                {"foobar", "Zm9vYmFy"},
                {"pea:peapass", "cGVhOnBlYXBhc3M="},
        };
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                _cleanup_free_ char *e = reg_base64_encode(v[i][0], strlen(v[i][0]));
                ck_assert_str_eq(e, v[i][1]);
                _cleanup_free_ char *d = NULL;
                size_t len = 0;
                ck_assert_int_eq(reg_base64_decode(v[i][1], &d, &len), 0);
                ck_assert_uint_eq(len, strlen(v[i][0]));
                ck_assert_str_eq(d, v[i][0]);
        }
        /* Padding is optional; junk and impossible lengths are refused. */
        _cleanup_free_ char *d = NULL;
        ck_assert_int_eq(reg_base64_decode("Zm9vYg", &d, NULL), 0);
        ck_assert_str_eq(d, "foob");
        char *bad = NULL;
        ck_assert_int_eq(reg_base64_decode("Zm9v!A==", &bad, NULL), -EBADMSG);
        ck_assert_int_eq(reg_base64_decode("Zm9vY", &bad, NULL), -EBADMSG);
        ck_assert_int_eq(reg_base64_decode("Zg===", &bad, NULL), -EBADMSG);
        ck_assert_ptr_null(bad);
        /* Binary round trip. */
        unsigned char bin[256];
        for (size_t i = 0; i < sizeof(bin); i++)
                bin[i] = (unsigned char)(255 - i);
        _cleanup_free_ char *e = reg_base64_encode(bin, sizeof(bin));
        _cleanup_free_ char *back = NULL;
        size_t len = 0;
        ck_assert_int_eq(reg_base64_decode(e, &back, &len), 0);
        ck_assert_uint_eq(len, sizeof(bin));
        ck_assert_int_eq(memcmp(back, bin, sizeof(bin)), 0);
}

END_TEST

START_TEST(www_authenticate_parse)
{
        struct reg_challenge *chs = NULL;
        size_t n = 0;
        const char *h = "Bearer realm=\"https://auth.example.com/token\",service=\"registry."
                        "example.com\",scope=\"repository:ns/app:pull,push\",error=\"insufficient_"
                        "scope\"";
        ck_assert_int_eq(reg_parse_www_authenticate(h, &chs, &n, NULL), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(chs[0].scheme, "bearer");
        ck_assert_str_eq(chs[0].realm, "https://auth.example.com/token");
        ck_assert_str_eq(chs[0].service, "registry.example.com");
        ck_assert_str_eq(chs[0].scope, "repository:ns/app:pull,push");
        ck_assert_str_eq(chs[0].error, "insufficient_scope");
        reg_challenges_free(chs, n);

        /* Two challenges in one value, spaces, escapes, case, unknown params, tokens. */
        h = "BASIC realm=\"a \\\"quoted\\\", realm\" , Bearer  Realm = \"https://t/x?a=1,2\" ,"
            "service=reg, foo=\"bar\"";
        ck_assert_int_eq(reg_parse_www_authenticate(h, &chs, &n, NULL), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(chs[0].scheme, "basic");
        ck_assert_str_eq(chs[0].realm, "a \"quoted\", realm");
        ck_assert_str_eq(chs[1].scheme, "bearer");
        ck_assert_str_eq(chs[1].realm, "https://t/x?a=1,2");
        ck_assert_str_eq(chs[1].service, "reg");
        ck_assert_ptr_null(chs[1].scope);
        reg_challenges_free(chs, n);

        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(reg_parse_www_authenticate("Bearer realm=\"open", &chs, &n, &err),
                         -EBADMSG);
        ck_assert_ptr_nonnull(strstr(err->msg, "invalid WWW-Authenticate header"));
        pea_error_clear(&err);
        ck_assert_int_eq(reg_parse_www_authenticate("Bearer realm=\"x\" junk", &chs, &n, &err),
                         -EBADMSG);
}

END_TEST

START_TEST(challenge_pick)
{
        char *values[] = {(char *)"Basic realm=\"r\"",
                          (char *)"Bearer realm=\"http://t/token\",service=\"s\"", NULL};
        struct reg_challenge ch = {0};
        ck_assert_int_eq(reg_pick_challenge(values, &ch), 1);
        ck_assert_str_eq(ch.scheme, "bearer");
        ck_assert_str_eq(ch.realm, "http://t/token");
        reg_challenge_done(&ch);
        char *basic[] = {(char *)"Basic realm=\"r\"", NULL};
        ck_assert_int_eq(reg_pick_challenge(basic, &ch), 1);
        ck_assert_str_eq(ch.scheme, "basic");
        reg_challenge_done(&ch);
        /* A Bearer challenge without realm is useless; unknown schemes are skipped. */
        char *none[] = {(char *)"Bearer service=\"s\"", (char *)"Negotiate", NULL};
        ck_assert_int_eq(reg_pick_challenge(none, &ch), 0);
        ck_assert_int_eq(reg_pick_challenge(NULL, &ch), 0);
}

END_TEST

START_TEST(authfile_paths)
{
        make_tmpdir();
        _cleanup_strv_ char **l = pea_registry_authfile_search_paths(NULL);
        ck_assert_uint_eq(strv_length(l), 3);
        _cleanup_free_ char *p0 = xasprintf("%s/run/containers/auth.json", tmpdir);
        _cleanup_free_ char *p1 = xasprintf("%s/cfg/containers/auth.json", tmpdir);
        _cleanup_free_ char *p2 = xasprintf("%s/home/.docker/config.json", tmpdir);
        ck_assert_str_eq(l[0], p0);
        ck_assert_str_eq(l[1], p1);
        ck_assert_str_eq(l[2], p2);
        _cleanup_free_ char *w = pea_registry_authfile_path(NULL);
        ck_assert_str_eq(w, p0);
        /* ~/.config and $DOCKER_CONFIG. */
        unsetenv("XDG_CONFIG_HOME");
        setenv("DOCKER_CONFIG", "/dc", 1);
        _cleanup_strv_ char **l2 = pea_registry_authfile_search_paths(NULL);
        _cleanup_free_ char *q1 = xasprintf("%s/home/.config/containers/auth.json", tmpdir);
        ck_assert_str_eq(l2[1], q1);
        ck_assert_str_eq(l2[2], "/dc/config.json");
        /* Without XDG_RUNTIME_DIR: /run/containers/<uid>. */
        unsetenv("XDG_RUNTIME_DIR");
        _cleanup_free_ char *w2 = pea_registry_authfile_path(NULL);
        _cleanup_free_ char *want = xasprintf("/run/containers/%u/auth.json", getuid());
        ck_assert_str_eq(w2, want);
        /* --authfile and REGISTRY_AUTH_FILE are the only file. */
        _cleanup_strv_ char **l3 = pea_registry_authfile_search_paths("/x/auth.json");
        ck_assert_uint_eq(strv_length(l3), 1);
        ck_assert_str_eq(l3[0], "/x/auth.json");
        setenv("REGISTRY_AUTH_FILE", "/y/auth.json", 1);
        _cleanup_strv_ char **l4 = pea_registry_authfile_search_paths(NULL);
        ck_assert_uint_eq(strv_length(l4), 1);
        ck_assert_str_eq(l4[0], "/y/auth.json");
        _cleanup_strv_ char **l5 = pea_registry_authfile_search_paths("/x/auth.json");
        ck_assert_str_eq(l5[0], "/x/auth.json");
        remove_tmpdir();
}

END_TEST

static void expect_creds(const char *authfile, const char *key, const char *user,
                         const char *password)
{
        _cleanup_free_ char *u = NULL, *p = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_registry_authfile_lookup(authfile, key, &u, &p, &err);
        ck_assert_msg(r == (user ? 1 : 0), "lookup '%s': %d %s", key, r, err ? err->msg : "");
        if (user) {
                ck_assert_str_eq(u, user);
                ck_assert_str_eq(p, password);
        }
}

START_TEST(authfile_roundtrip)
{
        make_tmpdir();
        _cleanup_free_ char *path = pea_registry_authfile_path(NULL);
        write_file(path,
                   "{\"auths\":{\"other:1\":{\"auth\":\"eDp5\"}},\"credHelpers\":{\"a\":\"b\"}}");
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_registry_authfile_set(path, "localhost:5001", "pea", "pea:pass", &err),
                         0);
        expect_creds(NULL, "localhost:5001", "pea", "pea:pass");
        expect_creds(NULL, "localhost:5001/ns/repo", "pea", "pea:pass");
        expect_creds(NULL, "other:1", "x", "y");
        /* Rewritten, not replaced: other entries and keys stay; 0600 in a 0700 dir. */
        _cleanup_free_ char *text = read_text(path);
        _cleanup_json_ json_t *j = json_loads(text, 0, NULL);
        ck_assert_str_eq(pea_json_path_string(j, "credHelpers.a", ""), "b");
        ck_assert_str_eq(pea_json_path_string(j, "auths.localhost:5001.auth", ""),
                         "cGVhOnBlYTpwYXNz");
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        /* A fresh file in a missing directory. */
        _cleanup_free_ char *fresh = xasprintf("%s/new/dir/auth.json", tmpdir);
        ck_assert_int_eq(pea_registry_authfile_set(fresh, "quay.io", "u", "p", &err), 0);
        ck_assert_int_eq(stat(fresh, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        _cleanup_free_ char *dir = xasprintf("%s/new/dir", tmpdir);
        ck_assert_int_eq(stat(dir, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0700);
        expect_creds(fresh, "quay.io", "u", "p");
        /* Remove keeps the rest; removing again is ENOENT. */
        ck_assert_int_eq(pea_registry_authfile_remove(path, "localhost:5001", &err), 0);
        expect_creds(NULL, "localhost:5001", NULL, NULL);
        expect_creds(NULL, "other:1", "x", "y");
        ck_assert_int_eq(pea_registry_authfile_remove(path, "localhost:5001", &err), -ENOENT);
        ck_assert_str_eq(err->msg, "not logged into 'localhost:5001'");
        pea_error_clear(&err);
        /* Bad input. */
        ck_assert_int_eq(pea_registry_authfile_set(path, "h", "a:b", "p", &err), -EINVAL);
        pea_error_clear(&err);
        write_file(path, "{not json");
        _cleanup_free_ char *u = NULL, *p = NULL;
        ck_assert_int_eq(pea_registry_authfile_lookup(NULL, "h", &u, &p, &err), -EBADMSG);
        pea_error_clear(&err);
        ck_assert_int_eq(pea_registry_authfile_set(path, "h", "a", "b", &err), -EBADMSG);
        remove_tmpdir();
}

END_TEST

START_TEST(authfile_precedence)
{
        make_tmpdir();
        _cleanup_free_ char *run = pea_registry_authfile_path(NULL);
        _cleanup_free_ char *cfg = xasprintf("%s/cfg/containers/auth.json", tmpdir);
        _cleanup_free_ char *docker = xasprintf("%s/home/.docker/config.json", tmpdir);
        /* base64: h:1 = aDox, ns:2 = bnM6Mg==, repo:3 = cmVwbzoz, cfg:4 = Y2ZnOjQ=, d:5 = ZDo1 */
        write_file(run, "{\"auths\":{"
                        "\"reg:5000\":{\"auth\":\"aDox\"},"
                        "\"reg:5000/ns\":{\"auth\":\"bnM6Mg==\"},"
                        "\"reg:5000/ns/repo\":{\"auth\":\"cmVwbzoz\"},"
                        "\"scoped:1/only\":{\"auth\":\"aDox\"}}}");
        write_file(cfg, "{\"auths\":{\"reg:5000\":{\"auth\":\"Y2ZnOjQ=\"},"
                        "\"quay.io\":{\"auth\":\"Y2ZnOjQ=\"}}}");
        write_file(docker, "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"ZDo1\"},"
                           "\"http://old:5000/v2/\":{\"auth\":\"ZDo1\"}}}");
        expect_creds(NULL, "reg:5000/ns/repo", "repo", "3");
        expect_creds(NULL, "reg:5000/ns/other", "ns", "2");
        expect_creds(NULL, "reg:5000/ns", "ns", "2");
        expect_creds(NULL, "reg:5000/x/y", "h", "1");
        expect_creds(NULL, "reg:5000", "h", "1");
        expect_creds(NULL, "reg:5001", NULL, NULL);
        /* A repository-scoped key is not a host key. */
        expect_creds(NULL, "scoped:1/other", NULL, NULL);
        expect_creds(NULL, "scoped:1/only/sub", "h", "1");
        /* Later files; legacy keys with a scheme normalise to the host, docker.io too. */
        expect_creds(NULL, "quay.io/a/b", "cfg", "4");
        expect_creds(NULL, "docker.io/library/busybox", "d", "5");
        expect_creds(NULL, "old:5000/app", "d", "5");
        /* With --authfile only that file counts. */
        expect_creds(cfg, "reg:5000/ns/repo", "cfg", "4");
        expect_creds(cfg, "docker.io", NULL, NULL);
        remove_tmpdir();
}

END_TEST

START_TEST(retry_classification)
{
        ck_assert(reg_transient_curl(CURLE_COULDNT_CONNECT));
        ck_assert(reg_transient_curl(CURLE_OPERATION_TIMEDOUT));
        ck_assert(reg_transient_curl(CURLE_RECV_ERROR));
        ck_assert(reg_transient_curl(CURLE_SEND_ERROR));
        ck_assert(reg_transient_curl(CURLE_PARTIAL_FILE));
        ck_assert(reg_transient_curl(CURLE_GOT_NOTHING));
        ck_assert(!reg_transient_curl(CURLE_OK));
        ck_assert(!reg_transient_curl(CURLE_PEER_FAILED_VERIFICATION));
        ck_assert(!reg_transient_curl(CURLE_SSL_CONNECT_ERROR));
        ck_assert(!reg_transient_curl(CURLE_COULDNT_RESOLVE_HOST));
        ck_assert(!reg_transient_curl(CURLE_WRITE_ERROR));
        long yes[] = {429, 502, 503, 504};
        long no[] = {200, 201, 400, 401, 403, 404, 405, 409, 416, 500};
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                ck_assert(reg_transient_status(yes[i]));
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                ck_assert(!reg_transient_status(no[i]));
        ck_assert_int_eq(reg_backoff_ms(0, -1), 200);
        ck_assert_int_eq(reg_backoff_ms(1, -1), 400);
        ck_assert_int_eq(reg_backoff_ms(2, -1), 800);
        ck_assert_int_eq(reg_backoff_ms(0, 3), 3000);
        ck_assert_int_eq(reg_backoff_ms(2, 100), 10000);
}

END_TEST

static char *message_for(long status, const char *body, bool sent_creds)
{
        struct reg_resp r = {.status = status,
                             .body = (char *)body,
                             .body_len = body ? strlen(body) : 0,
                             .sent_creds = sent_creds};
        return reg_http_error_message(&r);
}

START_TEST(error_messages)
{
        static const struct {
                long status;
                const char *body;
                bool creds;
                const char *want;
        } t[] = {
                {404,
                 "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
                 "\"detail\":{\"Tag\":\"latest\"}}]}",
                 false, "manifest unknown"},
                {404,
                 "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not "
                 "known to registry\"}]}",
                 false, "name unknown: repository name not known to registry"},
                {400,
                 "{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"\"},"
                 "{\"code\":\"SIZE_INVALID\",\"message\":\"bad size\"}]}",
                 false, "digest invalid; size invalid: bad size"},
                {401, NULL, false, "authentication required"},
                {401,
                 "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication "
                 "required\"}]}",
                 true, "invalid username/password: unauthorized: authentication required"},
                {502, "<html>bad gateway</html>", false,
                 "received unexpected HTTP status: 502 Bad Gateway"},
                {418, NULL, false, "received unexpected HTTP status: 418"},
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *m = message_for(t[i].status, t[i].body, t[i].creds);
                ck_assert_str_eq(m, t[i].want);
        }
        struct reg_resp r = {.status = 404};
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(reg_http_error(&r, &err, "reading manifest %s in %s", "latest", "x/y"),
                         -ENOENT);
        ck_assert_str_eq(err->msg,
                         "reading manifest latest in x/y: received unexpected HTTP status: 404 "
                         "Not Found");
        pea_error_clear(&err);
        r.status = 401;
        ck_assert_int_eq(reg_http_error(&r, &err, "x"), -EACCES);
        pea_error_clear(&err);
        r.status = 503;
        ck_assert_int_eq(reg_http_error(&r, &err, "x"), -EPROTO);
}

END_TEST

START_TEST(names_and_digests)
{
        const char *repos_ok[] = {"busybox", "library/busybox", "a/b/c", "a__b",
                                  "a_b.c-d", "a---b",           "x0/9y"};
        const char *repos_bad[] = {"",   "Busybox", "a//b", "/a",  "a/",  "a..b", "a___b",
                                   "-a", "a-",      "a b",  "a:b", "a?x", "../x", "a/./b"};
        for (size_t i = 0; i < ELEMENTSOF(repos_ok); i++)
                ck_assert_msg(reg_valid_repo(repos_ok[i]), "%s", repos_ok[i]);
        for (size_t i = 0; i < ELEMENTSOF(repos_bad); i++)
                ck_assert_msg(!reg_valid_repo(repos_bad[i]), "%s", repos_bad[i]);
        ck_assert(!reg_valid_repo(NULL));
        ck_assert(reg_valid_tag("latest"));
        ck_assert(reg_valid_tag("v1.2_3-rc.1"));
        ck_assert(!reg_valid_tag(".x"));
        ck_assert(!reg_valid_tag("a/b"));
        ck_assert(!reg_valid_tag("a:b"));
        ck_assert(!reg_valid_tag(""));
        ck_assert_int_eq(reg_digest_algorithm(BUSYBOX_DIGEST), GNUTLS_DIG_SHA256);
        ck_assert_int_eq(reg_digest_algorithm("sha256:E9b0"), -EINVAL);
        ck_assert_int_eq(reg_digest_algorithm("md5:00"), -EINVAL);
        ck_assert_int_eq(reg_digest_algorithm("sha256:" /* 63 */
                                              "e9b0884eda78e825459b2ff789b7d31ce3e377402b4a21"
                                              "abfd89ea849aa9859"),
                         -EINVAL);
        _cleanup_free_ char *d = pea_registry_digest_data("abc", 3);
        ck_assert_str_eq(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f200"
                            "15ad");
        _cleanup_free_ char *d5 = reg_digest_data(GNUTLS_DIG_SHA512, "", 0);
        ck_assert_int_eq(reg_digest_algorithm(d5), GNUTLS_DIG_SHA512);
}

END_TEST

START_TEST(scopes_and_tokens)
{
        _cleanup_free_ char *s1 = reg_scope("ns/app", false, NULL);
        _cleanup_free_ char *s2 = reg_scope("ns/app", true, NULL);
        _cleanup_free_ char *s3 = reg_scope("ns/app", true, "other/src");
        _cleanup_free_ char *s4 = reg_scope(NULL, false, NULL);
        ck_assert_str_eq(s1, "repository:ns/app:pull");
        ck_assert_str_eq(s2, "repository:ns/app:pull,push");
        ck_assert_str_eq(s3, "repository:ns/app:pull,push repository:other/src:pull");
        ck_assert_str_eq(s4, "registry:catalog:*");
        ck_assert_int_eq(reg_token_lifetime_ms(2), 1800);
        ck_assert_int_eq(reg_token_lifetime_ms(0), 54000);
        ck_assert_int_eq(reg_token_lifetime_ms(300), 290000);

        struct pea_registry_client *c = NULL;
        ck_assert_int_eq(pea_registry_client_new("example.com:5000", NULL, &c, NULL), 0);
        ck_assert_ptr_null(reg_token_cache_get(c, s1));
        reg_token_cache_put(c, s1, "tok1", 60000);
        reg_token_cache_put(c, s2, "tok2", 0); /* already expired */
        _cleanup_free_ char *t1 = reg_token_cache_get(c, s1);
        ck_assert_str_eq(t1, "tok1");
        ck_assert_ptr_null(reg_token_cache_get(c, s2));
        reg_token_cache_put(c, s1, "tok1b", 60000);
        _cleanup_free_ char *t1b = reg_token_cache_get(c, s1);
        ck_assert_str_eq(t1b, "tok1b");
        reg_token_cache_drop(c, s1);
        ck_assert_ptr_null(reg_token_cache_get(c, s1));
        c = pea_registry_client_free(c);
}

END_TEST

START_TEST(url_resolution)
{
        _cleanup_free_ char *u1 =
                reg_resolve_url("http://h:5000/v2/x/blobs/uploads/",
                                "/v2/x/blobs/uploads/u1?_state=ab%3D", "digest=sha256:00");
        ck_assert_str_eq(u1, "http://h:5000/v2/x/blobs/uploads/u1?_state=ab%3D&digest=sha256%3a00");
        _cleanup_free_ char *u2 =
                reg_resolve_url("https://h/v2/", "https://s3.example/b?sig=1", NULL);
        ck_assert_str_eq(u2, "https://s3.example/b?sig=1");
        _cleanup_free_ char *u3 =
                reg_resolve_url("https://h/v2/_catalog", "/v2/_catalog?n=1&last=a", NULL);
        ck_assert_str_eq(u3, "https://h/v2/_catalog?n=1&last=a");
        ck_assert_ptr_null(reg_resolve_url("https://h/v2/", "file:///etc/passwd", NULL));
}

END_TEST

START_TEST(client_options)
{
        make_tmpdir();
        struct pea_registry_client *c = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_registry_client_new("docker.io", NULL, &c, &err), 0);
        ck_assert_str_eq(pea_registry_client_endpoint(c), "registry-1.docker.io");
        ck_assert_str_eq(pea_registry_client_name(c), "docker.io");
        ck_assert_ptr_null(pea_registry_client_scheme(c));
        c = pea_registry_client_free(c);
        ck_assert_int_eq(pea_registry_client_new("https://x", NULL, &c, &err), -EINVAL);
        pea_error_clear(&err);
        ck_assert_int_eq(pea_registry_client_new("x/y", NULL, &c, &err), -EINVAL);
        pea_error_clear(&err);
        struct pea_registry_opts o = {.creds = "nocolon"};
        ck_assert_int_eq(pea_registry_client_new("x", &o, &c, &err), -EINVAL);
        ck_assert_ptr_null(strstr(err->msg, "nocolon")); /* never echo credentials */
        pea_error_clear(&err);
        /* --creds wins over auth.json. */
        _cleanup_free_ char *path = pea_registry_authfile_path(NULL);
        ck_assert_int_eq(pea_registry_authfile_set(path, "x", "file", "fp", &err), 0);
        o.creds = "cli:pw:with:colons";
        ck_assert_int_eq(pea_registry_client_new("x", &o, &c, &err), 0);
        _cleanup_free_ char *u = NULL, *p = NULL;
        ck_assert_int_eq(reg_credentials(c, "a/b", &u, &p, &err), 1);
        ck_assert_str_eq(u, "cli");
        ck_assert_str_eq(p, "pw:with:colons");
        c = pea_registry_client_free(c);
        ck_assert_int_eq(pea_registry_client_new("x", NULL, &c, &err), 0);
        _cleanup_free_ char *u2 = NULL, *p2 = NULL;
        ck_assert_int_eq(reg_credentials(c, "a/b", &u2, &p2, &err), 1);
        ck_assert_str_eq(u2, "file");
        c = pea_registry_client_free(c);
        remove_tmpdir();
}

END_TEST

START_TEST(tls_cert_dirs)
{
        make_tmpdir();
        _cleanup_free_ char *d = xasprintf("%s/cfg/containers/certs.d/reg.example:5001", tmpdir);
        ck_assert_ptr_null(reg_tls_cert_dir("reg.example:5001", NULL));
        _cleanup_free_ char *ca = xasprintf("%s/ca.crt", d);
        write_file(ca, "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----");
        _cleanup_free_ char *found = reg_tls_cert_dir("reg.example:5001", NULL);
        ck_assert_str_eq(found, d);
        _cleanup_free_ char *explicit_dir = reg_tls_cert_dir("reg.example:5001", "/given");
        ck_assert_str_eq(explicit_dir, "/given");

        struct reg_tls t;
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(reg_tls_init(&t, "reg.example:5001", NULL, &err), 0);
        ck_assert_ptr_nonnull(t.ca_bundle);
        ck_assert_ptr_nonnull(strstr(t.ca_bundle, "MIIBfake"));
        ck_assert(t.use_blob || t.ca_path);
        if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
                ck_assert_uint_gt(t.ca_len, 1000); /* the system CAs come first */
        if (t.ca_path) {
                _cleanup_free_ char *copy = read_text(t.ca_path);
                ck_assert_str_eq(copy, t.ca_bundle);
        }
        ck_assert_ptr_null(t.client_cert);
        reg_tls_done(&t);

        /* Client pairs: .cert needs its .key and the other way round. */
        _cleanup_free_ char *cert = xasprintf("%s/client.cert", d);
        write_file(cert, "cert");
        ck_assert_int_eq(reg_tls_init(&t, "reg.example:5001", NULL, &err), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err->msg, "missing key 'client.key'"));
        pea_error_clear(&err);
        _cleanup_free_ char *key = xasprintf("%s/client.key", d);
        write_file(key, "key");
        ck_assert_int_eq(reg_tls_init(&t, "reg.example:5001", NULL, &err), 0);
        ck_assert_str_eq(t.client_cert, cert);
        ck_assert_str_eq(t.client_key, key);
        reg_tls_done(&t);
        _cleanup_free_ char *key2 = xasprintf("%s/lonely.key", d);
        write_file(key2, "key");
        ck_assert_int_eq(reg_tls_init(&t, "reg.example:5001", NULL, &err), -ENOENT);
        pea_error_clear(&err);
        /* A --cert-dir that does not exist adds nothing, as in podman. */
        struct pea_registry_opts o = {.cert_dir = "/nonexistent/certs"};
        struct pea_registry_client *c = NULL;
        ck_assert_int_eq(pea_registry_client_new("h:1", &o, &c, &err), 0);
        ck_assert_ptr_null(c->tls.ca_bundle);
        pea_registry_client_free(c);
        remove_tmpdir();
}

END_TEST

/* ---- a scripted HTTP server on 127.0.0.1: one canned answer per connection ---- */

#define MOCK_MAX 8

struct mock {
        int fd;
        int port;
        pthread_t thread;
        const char *responses[MOCK_MAX];
        size_t lens[MOCK_MAX];
        size_t n;
        size_t served;
        char line[MOCK_MAX][256];
        char range[MOCK_MAX][64];
};

static void mock_serve_one(struct mock *m, int cfd, size_t i)
{
        char buf[8192];
        size_t len = 0;
        while (len < sizeof(buf) - 1) {
                ssize_t k = read(cfd, buf + len, sizeof(buf) - 1 - len);
                if (k <= 0)
                        break;
                len += (size_t)k;
                buf[len] = '\0';
                if (strstr(buf, "\r\n\r\n"))
                        break;
        }
        buf[len] = '\0';
        snprintf(m->line[i], sizeof(m->line[i]), "%.*s", (int)strcspn(buf, "\r\n"), buf);
        const char *r = strcasestr(buf, "\r\nRange: ");
        if (r)
                snprintf(m->range[i], sizeof(m->range[i]), "%.*s", (int)strcspn(r + 9, "\r\n"),
                         r + 9);
        size_t total = m->lens[i] ? m->lens[i] : strlen(m->responses[i]);
        for (size_t off = 0; off < total;) {
                ssize_t k = send(cfd, m->responses[i] + off, total - off, MSG_NOSIGNAL);
                if (k <= 0)
                        break;
                off += (size_t)k;
        }
}

static void *mock_main(void *p)
{
        struct mock *m = p;
        for (size_t i = 0; i < m->n; i++) {
                int cfd = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
                if (cfd < 0)
                        break;
                mock_serve_one(m, cfd, i);
                close(cfd);
                __atomic_store_n(&m->served, i + 1, __ATOMIC_SEQ_CST);
        }
        return NULL;
}

static int listen_any(int *ret_port)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        socklen_t alen = sizeof(a);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
        *ret_port = ntohs(a.sin_port);
        return fd;
}

static void mock_start(struct mock *m)
{
        m->fd = listen_any(&m->port);
        ck_assert_int_eq(listen(m->fd, 16), 0);
        ck_assert_int_eq(pthread_create(&m->thread, NULL, mock_main, m), 0);
}

static size_t mock_stop(struct mock *m)
{
        shutdown(m->fd, SHUT_RDWR);
        pthread_join(m->thread, NULL);
        close(m->fd);
        return m->served;
}

/* A client for the mock, already "pinged" over plain HTTP with no auth. */
static struct pea_registry_client *mock_client(const struct mock *m)
{
        _cleanup_free_ char *host = xasprintf("127.0.0.1:%d", m->port);
        struct pea_registry_opts o = {.insecure = true};
        struct pea_registry_client *c = NULL;
        ck_assert_int_eq(pea_registry_client_new(host, &o, &c, NULL), 0);
        c->scheme = xstrdup("http");
        return c;
}

#define R503 "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define R502 "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

/* An answer with the right Content-Length. */
static char *answer(const char *status, const char *body)
{
        return xasprintf("HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: "
                         "%zu\r\nConnection: close\r\n\r\n%s",
                         status, strlen(body), body);
}

START_TEST(mock_retry_then_success)
{
        _cleanup_free_ char *ok = answer("200 OK", "{\"name\":\"x\",\"tags\":[\"a\",\"b\"]}");
        struct mock m = {.n = 3, .responses = {R503, R502, ok}};
        mock_start(&m);
        struct pea_registry_client *c = mock_client(&m);
        _cleanup_strv_ char **tags = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_registry_list_tags(c, "x", &tags, &err);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        ck_assert_uint_eq(strv_length(tags), 2);
        ck_assert_str_eq(tags[1], "b");
        ck_assert_uint_eq(mock_stop(&m), 3);
        ck_assert_str_eq(m.line[2], "GET /v2/x/tags/list HTTP/1.1");
        pea_registry_client_free(c);
}

END_TEST

START_TEST(mock_no_retry_on_4xx)
{
        _cleanup_free_ char *nf =
                answer("404 Not Found", "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":"
                                        "\"manifest unknown\",\"detail\":{\"Tag\":\"latest\"}}]}");
        struct mock m = {.n = 2, .responses = {nf, R503}};
        mock_start(&m);
        struct pea_registry_client *c = mock_client(&m);
        struct pea_registry_manifest man = {0};
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_registry_get_manifest(c, "nope", "latest", &man, &err), -ENOENT);
        _cleanup_free_ char *want = xasprintf("reading manifest latest in 127.0.0.1:%d/nope: "
                                              "manifest unknown",
                                              m.port);
        ck_assert_str_eq(err->msg, want);
        ck_assert_ptr_null(man.data);
        ck_assert_uint_eq(mock_stop(&m), 1);
        pea_registry_client_free(c);
}

END_TEST

START_TEST(mock_gives_up)
{
        struct mock m = {.n = 4};
        for (size_t i = 0; i < 4; i++)
                m.responses[i] = R503;
        mock_start(&m);
        struct pea_registry_client *c = mock_client(&m);
        struct pea_registry_manifest man = {0};
        _cleanup_error_ struct pea_error *err = NULL;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ck_assert_int_eq(pea_registry_get_manifest(c, "a", "b", &man, &err), -EPROTO);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ck_assert_ptr_nonnull(strstr(err->msg, "received unexpected HTTP status: 503 Service "
                                               "Unavailable"));
        ck_assert_uint_eq(mock_stop(&m), 4);
        long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        ck_assert_int_ge(ms, 1400); /* 200 + 400 + 800 */
        pea_registry_client_free(c);
}

END_TEST

struct collect {
        char *buf;
        size_t len;
        int fail_after; /* > 0: the sink fails once it has this many bytes */
};

static int collect_write(void *userdata, const void *buf, size_t len, struct pea_error **err)
{
        struct collect *c = userdata;
        if (c->fail_after > 0 && c->len + len >= (size_t)c->fail_after)
                return pea_error_set(err, ENOSPC, "disk full");
        c->buf = xrealloc(c->buf, c->len + len + 1);
        memcpy(c->buf + c->len, buf, len);
        c->len += len;
        c->buf[c->len] = '\0';
        return 0;
}

static const char blob_text[] = "0123456789 the rest of the blob arrives on the second try";

START_TEST(mock_blob_resume)
{
        size_t n = strlen(blob_text);
        _cleanup_free_ char *digest = pea_registry_digest_data(blob_text, n);
        /* The first answer promises n bytes and closes after 10; the second is 206. */
        _cleanup_free_ char *r0 = xasprintf("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                                            "Connection: close\r\n\r\n%.10s",
                                            n, blob_text);
        _cleanup_free_ char *r1 = xasprintf("HTTP/1.1 206 Partial Content\r\nContent-Range: "
                                            "bytes 10-%zu/%zu\r\nContent-Length: %zu\r\n"
                                            "Connection: close\r\n\r\n%s",
                                            n - 1, n, n - 10, blob_text + 10);
        /* Same, but the server ignores Range and sends everything again. */
        _cleanup_free_ char *r2 = xasprintf("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                                            "Connection: close\r\n\r\n%s",
                                            n, blob_text);
        for (int variant = 0; variant < 2; variant++) {
                struct mock m = {.n = 2};
                m.responses[0] = r0;
                m.responses[1] = variant == 0 ? r1 : r2;
                mock_start(&m);
                struct pea_registry_client *c = mock_client(&m);
                struct collect col = {0};
                _cleanup_error_ struct pea_error *err = NULL;
                int r = pea_registry_get_blob(c, "a/b", digest, (int64_t)n, collect_write, &col,
                                              &err);
                ck_assert_msg(r == 0, "%s", err ? err->msg : "");
                ck_assert_uint_eq(col.len, n);
                ck_assert_str_eq(col.buf, blob_text);
                ck_assert_uint_eq(mock_stop(&m), 2);
                ck_assert_str_eq(m.range[0], "");
                ck_assert_str_eq(m.range[1], "bytes=10-");
                free(col.buf);
                pea_registry_client_free(c);
        }
}

END_TEST

START_TEST(mock_blob_checks)
{
        size_t n = strlen(blob_text);
        _cleanup_free_ char *digest = pea_registry_digest_data(blob_text, n);
        _cleanup_free_ char *other = pea_registry_digest_data("other", 5);
        _cleanup_free_ char *ok = xasprintf("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                                            "Connection: close\r\n\r\n%s",
                                            n, blob_text);
        _cleanup_free_ char *redirect = xasprintf("HTTP/1.1 307 Temporary Redirect\r\nLocation: "
                                                  "/storage/blob?sig=1\r\nContent-Length: 3\r\n"
                                                  "Connection: close\r\n\r\nxyz");
        struct mock m = {.n = 5};
        m.responses[0] = redirect;
        m.responses[1] = ok;
        m.responses[2] = ok; /* wrong digest */
        m.responses[3] = ok; /* wrong size */
        m.responses[4] = ok; /* failing sink */
        mock_start(&m);
        struct pea_registry_client *c = mock_client(&m);
        struct collect col = {0};
        _cleanup_error_ struct pea_error *err = NULL;
        /* Redirects are followed; the redirect's own body is not blob data. */
        ck_assert_int_eq(pea_registry_get_blob(c, "a", digest, -1, collect_write, &col, &err), 0);
        ck_assert_str_eq(col.buf, blob_text);
        col.len = 0;
        ck_assert_int_eq(pea_registry_get_blob(c, "a", other, -1, collect_write, &col, &err),
                         -EBADMSG);
        _cleanup_free_ char *want = xasprintf("digest mismatch for blob %s: got %s", other, digest);
        ck_assert_str_eq(err->msg, want);
        pea_error_clear(&err);
        col.len = 0;
        ck_assert_int_eq(pea_registry_get_blob(c, "a", digest, 5, collect_write, &col, &err),
                         -EBADMSG);
        ck_assert_ptr_nonnull(strstr(err->msg, "is larger than 5 bytes"));
        pea_error_clear(&err);
        /* The sink's own error comes back as is, and is not retried. */
        col.len = 0;
        col.fail_after = 5;
        ck_assert_int_eq(pea_registry_get_blob(c, "a", digest, -1, collect_write, &col, &err),
                         -ENOSPC);
        ck_assert_ptr_nonnull(strstr(err->msg, "disk full"));
        ck_assert_uint_eq(mock_stop(&m), 5);
        ck_assert_str_eq(m.line[1], "GET /storage/blob?sig=1 HTTP/1.1");
        free(col.buf);
        pea_registry_client_free(c);
}

END_TEST

START_TEST(mock_manifest_cap)
{
        size_t n = PEA_REGISTRY_MANIFEST_MAX + 10;
        _cleanup_free_ char *head = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
                                              "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                                              PEA_MEDIA_TYPE_OCI_MANIFEST, n);
        _cleanup_free_ char *resp = xmalloc(strlen(head) + n + 1);
        memcpy(resp, head, strlen(head));
        memset(resp + strlen(head), ' ', n);
        resp[strlen(head) + n] = '\0';
        struct mock m = {.n = 1};
        m.responses[0] = resp;
        mock_start(&m);
        struct pea_registry_client *c = mock_client(&m);
        struct pea_registry_manifest man = {0};
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_registry_get_manifest(c, "a", "b", &man, &err), -EFBIG);
        ck_assert_ptr_nonnull(strstr(err->msg, "is larger than 4194304 bytes"));
        mock_stop(&m);
        pea_registry_client_free(c);
}

END_TEST

START_TEST(connection_refused)
{
        int port = 0;
        close(listen_any(&port)); /* a port nobody listens on */
        _cleanup_free_ char *host = xasprintf("127.0.0.1:%d", port);
        struct pea_registry_client *c = NULL;
        ck_assert_int_eq(pea_registry_client_new(host, NULL, &c, NULL), 0);
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_registry_ping(c, &err), -ECONNREFUSED);
        _cleanup_free_ char *want = xasprintf("pinging container registry %s: Get "
                                              "\"https://%s/v2/\": ",
                                              host, host);
        ck_assert_msg(startswith(err->msg, want), "%s", err->msg);
        ck_assert_ptr_null(pea_registry_client_scheme(c));
        pea_registry_client_free(c);
}

END_TEST

/* ---- against the test registries ---- */

static const char *need_env(const char *var)
{
        const char *v = getenv(var);
        if (!v || !*v) {
                printf("SKIP: %s unset\n", var);
                fflush(stdout);
                return NULL;
        }
        return v;
}

static struct pea_registry_client *new_client(const char *host, const struct pea_registry_opts *o)
{
        struct pea_registry_client *c = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_registry_client_new(host, o, &c, &err);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        return c;
}

static json_t *get_manifest_json(struct pea_registry_client *c, const char *repo, const char *ref,
                                 struct pea_registry_manifest *man)
{
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_registry_get_manifest(c, repo, ref, man, &err);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        json_t *j = json_loads(man->data, 0, NULL);
        ck_assert_ptr_nonnull(j);
        return j;
}

/* Fetches blob digest and checks its sha256 independently. */
static void check_blob(struct pea_registry_client *c, const char *repo, const char *digest,
                       int64_t size)
{
        struct collect col = {0};
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_registry_get_blob(c, repo, digest, size, collect_write, &col, &err);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        ck_assert_int_eq((int64_t)col.len, size);
        _cleanup_free_ char *got = pea_registry_digest_data(col.buf, col.len);
        ck_assert_str_eq(got, digest);
        free(col.buf);
}

struct par {
        struct pea_registry_client *c;
        const char *repo;
        const char *digest;
        int64_t size;
};

static void *par_main(void *p)
{
        struct par *a = p;
        check_blob(a->c, a->repo, a->digest, a->size);
        return NULL;
}

/* Four threads fetch the same blob through one client. */
static void parallel_fetch(struct pea_registry_client *c, const char *repo, const char *digest,
                           int64_t size)
{
        pthread_t t[4];
        struct par a = {c, repo, digest, size};
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                ck_assert_int_eq(pthread_create(&t[i], NULL, par_main, &a), 0);
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                pthread_join(t[i], NULL);
}

START_TEST(net_manifests)
{
        const char *reg = need_env("PEA_REGISTRY");
        if (!reg)
                return;
        _cleanup_free_ char *want_digest = fixture_digest("busybox", BUSYBOX_DIGEST);
        struct pea_registry_opts o = {.insecure = true};
        struct pea_registry_client *c = new_client(reg, &o);
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_registry_ping(c, &err), 0);
        ck_assert_str_eq(pea_registry_client_scheme(c), "http");
        struct pea_registry_manifest man = {0}, byd = {0}, head = {0};
        _cleanup_json_ json_t *j = get_manifest_json(c, "busybox", "latest", &man);
        ck_assert_str_eq(man.digest, want_digest);
        ck_assert_str_eq(man.media_type, PEA_MEDIA_TYPE_OCI_MANIFEST);
        _cleanup_free_ char *computed = pea_registry_digest_data(man.data, man.size);
        ck_assert_str_eq(computed, want_digest);
        _cleanup_json_ json_t *j2 = get_manifest_json(c, "busybox", want_digest, &byd);
        ck_assert_mem_eq(byd.data, man.data, man.size);
        ck_assert_int_eq(pea_registry_head_manifest(c, "busybox", "latest", &head, &err), 0);
        ck_assert_str_eq(head.digest, want_digest);
        ck_assert_uint_eq(head.size, man.size);
        pea_registry_manifest_done(&man);
        pea_registry_manifest_done(&byd);
        pea_registry_manifest_done(&head);
        /* podman's message for a missing image. */
        ck_assert_int_eq(pea_registry_get_manifest(c, "nope", "latest", &man, &err), -ENOENT);
        _cleanup_free_ char *want =
                xasprintf("reading manifest latest in %s/nope: manifest unknown", reg);
        ck_assert_str_eq(err->msg, want);
        pea_error_clear(&err);
        ck_assert_int_eq(pea_registry_head_manifest(c, "busybox", "nope", &head, &err), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err->msg, "manifest unknown"));
        pea_error_clear(&err);
        pea_registry_client_free(c);
        /* Without --tls-verify=false there is no http fallback. */
        c = new_client(reg, NULL);
        ck_assert_int_lt(pea_registry_ping(c, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "pinging container registry"));
        pea_registry_client_free(c);
}

END_TEST

START_TEST(net_blobs)
{
        const char *reg = need_env("PEA_REGISTRY");
        if (!reg)
                return;
        struct pea_registry_opts o = {.insecure = true};
        struct pea_registry_client *c = new_client(reg, &o);
        struct pea_registry_manifest man = {0};
        _cleanup_json_ json_t *j = get_manifest_json(c, "busybox", "latest", &man);
        pea_registry_manifest_done(&man);
        /* Layer and config, streamed and verified; then four at once. */
        json_t *layer = json_array_get(json_object_get(j, "layers"), 0);
        const char *ld = pea_json_path_string(layer, "digest", "");
        int64_t lsize = json_integer_value(json_object_get(layer, "size"));
        check_blob(c, "busybox", ld, lsize);
        check_blob(c, "busybox", pea_json_path_string(j, "config.digest", ""),
                   json_integer_value(pea_json_path(j, "config.size")));
        parallel_fetch(c, "busybox", ld, lsize);
        int64_t size = 0;
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_registry_blob_exists(c, "busybox", ld, &size, &err), 1);
        ck_assert_int_eq(size, lsize);
        _cleanup_free_ char *absent = pea_registry_digest_data("absent", 6);
        ck_assert_int_eq(pea_registry_blob_exists(c, "busybox", absent, NULL, &err), 0);
        /* A wrong expected size or digest is caught. */
        struct collect col = {0};
        ck_assert_int_eq(
                pea_registry_get_blob(c, "busybox", ld, lsize - 1, collect_write, &col, &err),
                -EBADMSG);
        pea_error_clear(&err);
        ck_assert_int_eq(pea_registry_get_blob(c, "busybox", absent, -1, collect_write, &col, &err),
                         -ENOENT);
        ck_assert_ptr_nonnull(strstr(err->msg, "blob unknown"));
        free(col.buf);
        pea_registry_client_free(c);
}

END_TEST

static char *creds_from_env(const char *pass)
{
        const char *u = getenv("PEA_REGISTRY_USER");
        const char *p = getenv("PEA_REGISTRY_PASSWORD");
        return xasprintf("%s:%s", u ? u : "pea", pass ? pass : p ? p : "peapass");
}

static int fetch_busybox(const char *reg, const struct pea_registry_opts *o, struct pea_error **err)
{
        struct pea_registry_client *c = new_client(reg, o);
        struct pea_registry_manifest man = {0};
        int r = pea_registry_get_manifest(c, "busybox", "latest", &man, err);
        if (r == 0) {
                _cleanup_free_ char *want = fixture_digest("busybox", BUSYBOX_DIGEST);
                ck_assert_str_eq(man.digest, want);
        }
        pea_registry_manifest_done(&man);
        pea_registry_client_free(c);
        return r;
}

START_TEST(net_tls)
{
        const char *reg = need_env("PEA_REGISTRY_TLS");
        const char *certs = reg ? need_env("PEA_REGISTRY_CERT_DIR") : NULL;
        if (!certs)
                return;
        make_tmpdir();
        _cleanup_free_ char *good = creds_from_env(NULL), *bad = creds_from_env("wrong");
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_registry_opts o = {.cert_dir = certs, .creds = good};
        ck_assert_msg(fetch_busybox(reg, &o, &err) == 0, "%s", err ? err->msg : "");
        o.creds = bad;
        ck_assert_int_eq(fetch_busybox(reg, &o, &err), -EACCES);
        ck_assert_ptr_nonnull(strstr(err->msg, "invalid username/password"));
        pea_error_clear(&err);
        o.creds = NULL;
        ck_assert_int_eq(fetch_busybox(reg, &o, &err), -EACCES);
        ck_assert_ptr_nonnull(strstr(err->msg, "authentication required"));
        pea_error_clear(&err);
        /* Unknown CA: refused, unless insecure; certs.d is found by host:port. */
        struct pea_registry_opts plain = {.creds = good};
        ck_assert_int_eq(fetch_busybox(reg, &plain, &err), -EPROTO);
        pea_error_clear(&err);
        plain.insecure = true;
        ck_assert_int_eq(fetch_busybox(reg, &plain, &err), 0);
        plain.insecure = false;
        _cleanup_free_ char *ca = xasprintf("%s/ca.crt", certs), *pem = read_text(ca);
        _cleanup_free_ char *dst = xasprintf("%s/cfg/containers/certs.d/%s/ca.crt", tmpdir, reg);
        write_file(dst, pem);
        ck_assert_msg(fetch_busybox(reg, &plain, &err) == 0, "%s", err ? err->msg : "");
        /* Login checks before it saves; then auth.json alone is enough. */
        _cleanup_free_ char *authfile = xasprintf("%s/auth.json", tmpdir);
        struct pea_registry_opts lo = {.authfile = authfile};
        struct pea_registry_client *c = new_client(reg, &lo);
        ck_assert_int_eq(pea_registry_login(c, "pea", "wrong", &err), -EACCES);
        ck_assert_ptr_nonnull(strstr(err->msg, "invalid username/password"));
        pea_error_clear(&err);
        ck_assert(!pea_path_exists(authfile));
        ck_assert_int_eq(pea_registry_login(c, "pea", "peapass", &err), 0);
        pea_registry_client_free(c);
        ck_assert_int_eq(fetch_busybox(reg, &lo, &err), 0);
        remove_tmpdir();
}

END_TEST

struct source {
        const char *data;
        size_t size;
        size_t off;
};

/* Hands out at most 7000 bytes per call, so uploads take several reads. */
static ssize_t source_read(void *userdata, void *buf, size_t len, struct pea_error **err _unused_)
{
        struct source *src = userdata;
        size_t n = src->size - src->off;
        n = n < len ? n : len;
        n = n < 7000 ? n : 7000;
        memcpy(buf, src->data + src->off, n);
        src->off += n;
        return (ssize_t)n;
}

/* Pushes a two-blob image to repo:v1; returns the manifest digest. */
static char *push_image(struct pea_registry_client *c, const char *repo, char **ret_layer)
{
        _cleanup_error_ struct pea_error *err = NULL;
        size_t n = 100000;
        _cleanup_free_ char *layer = xmalloc(n);
        for (size_t i = 0; i < n; i++)
                layer[i] = (char)(i * 7);
        _cleanup_free_ char *ld = pea_registry_digest_data(layer, n);
        struct source src = {.data = layer, .size = n};
        struct pea_registry_blob_upload up = {
                .digest = ld, .size = (int64_t)n, .read = source_read, .userdata = &src};
        int r = pea_registry_put_blob(c, repo, &up, &err);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
        _cleanup_free_ char *cd = NULL, *md = NULL;
        r = pea_registry_put_blob_data(c, repo, config, strlen(config), &cd, &err);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        _cleanup_free_ char *man = xasprintf(
                "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"application/"
                "vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{"
                "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\","
                "\"size\":%zu}]}",
                PEA_MEDIA_TYPE_OCI_MANIFEST, cd, strlen(config), ld, n);
        r = pea_registry_put_manifest(c, repo, "v1", PEA_MEDIA_TYPE_OCI_MANIFEST, man, strlen(man),
                                      &md, &err);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        _cleanup_free_ char *want = pea_registry_digest_data(man, strlen(man));
        ck_assert_str_eq(md, want);
        /* Read it back. */
        struct pea_registry_manifest got = {0};
        _cleanup_json_ json_t *j = get_manifest_json(c, repo, "v1", &got);
        ck_assert_str_eq(got.digest, md);
        ck_assert_str_eq(got.data, man);
        check_blob(c, repo, ld, (int64_t)n);
        pea_registry_manifest_done(&got);
        *ret_layer = TAKE_PTR(ld);
        return TAKE_PTR(md);
}

START_TEST(net_push)
{
        const char *reg = need_env("PEA_REGISTRY");
        if (!reg)
                return;
        struct pea_registry_opts o = {.insecure = true};
        struct pea_registry_client *c = new_client(reg, &o);
        /* A fixed name: the shared registry's catalog gains two entries, once. */
        const char *repo = "pea-unit/push";
        _cleanup_free_ char *layer = NULL, *md = push_image(c, repo, &layer);
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_strv_ char **tags = NULL;
        ck_assert_int_eq(pea_registry_list_tags(c, repo, &tags, &err), 0);
        ck_assert(strv_contains(tags, "v1"));
        /* Cross-repository mount. */
        _cleanup_free_ char *repo2 = xasprintf("%s-copy", repo);
        struct pea_registry_blob_upload up = {
                .digest = layer, .size = 100000, .mount_from = repo, .read = source_read};
        ck_assert_int_eq(pea_registry_put_blob(c, repo2, &up, &err), 1);
        ck_assert_int_eq(pea_registry_blob_exists(c, repo2, layer, NULL, &err), 1);
        _cleanup_strv_ char **repos = NULL;
        ck_assert_int_eq(pea_registry_catalog(c, &repos, &err), 0);
        ck_assert(strv_contains(repos, repo));
        pea_registry_client_free(c);
}

END_TEST

static size_t stats_body(char *p, size_t size, size_t n, void *userdata)
{
        struct collect *c = userdata;
        return collect_write(c, p, size * n, NULL) == 0 ? size * n : 0;
}

/* The token server's count of issued tokens, and whether scope was ever requested. */
static long token_stats(const char *scope, bool *ret_seen)
{
        struct collect col = {0};
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, getenv("PEA_TOKEN_STATS"));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stats_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &col);
        ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
        curl_easy_cleanup(h);
        _cleanup_json_ json_t *j = json_loadb(col.buf, col.len, 0, NULL);
        free(col.buf);
        size_t i;
        json_t *req;
        *ret_seen = false;
        json_array_foreach(json_object_get(j, "requests"), i, req) {
                size_t k;
                json_t *s;
                json_array_foreach(json_object_get(req, "scopes"), k, s)
                        *ret_seen |= scope && streq(json_string_value(s), scope);
        }
        return (long)json_integer_value(json_object_get(j, "issued"));
}

static void get_v1(struct pea_registry_client *c, const char *repo)
{
        struct pea_registry_manifest man = {0};
        _cleanup_error_ struct pea_error *err = NULL;
        int r = pea_registry_get_manifest(c, repo, "v1", &man, &err);
        ck_assert_msg(r == 0, "%s", err ? err->msg : "");
        pea_registry_manifest_done(&man);
}

static const char *token_registry(void)
{
        const char *reg = need_env("PEA_TOKEN_REGISTRY");
        return reg && need_env("PEA_TOKEN_STATS") ? reg : NULL;
}

START_TEST(net_token_flow)
{
        const char *reg = token_registry();
        if (!reg)
                return;
        struct pea_registry_opts o = {.insecure = true, .creds = "pea:peapass"};
        struct pea_registry_client *c = new_client(reg, &o);
        _cleanup_free_ char *repo = xasprintf("tok/app-%d-%ld", getpid(), (long)time(NULL));
        _cleanup_free_ char *push = reg_scope(repo, true, NULL),
                            *pull = reg_scope(repo, false, NULL);
        /* Push needs the push scope; reading back (pull after push) asks for pull. */
        _cleanup_free_ char *layer = NULL, *md = push_image(c, repo, &layer);
        bool seen = false;
        token_stats(push, &seen);
        ck_assert(seen);
        token_stats(pull, &seen);
        ck_assert(seen);
        /* The cached token serves the next request; a rejected one is replaced. */
        reg_token_cache_put(c, pull, "not-a-token", 60000);
        long before = token_stats(NULL, &seen);
        get_v1(c, repo);
        get_v1(c, repo);
        ck_assert_int_eq(token_stats(NULL, &seen), before + 1);
        /* An expired token is renewed. */
        const char *exp = getenv("PEA_TOKEN_EXPIRY");
        long long expiry = 0;
        if (exp && safe_atoll(exp, &expiry) == 0 && expiry > 0 && expiry <= 5) {
                sleep((unsigned)expiry + 1);
                before = token_stats(NULL, &seen);
                get_v1(c, repo);
                ck_assert_int_eq(token_stats(NULL, &seen), before + 1);
        } else {
                printf("SKIP: token expiry (PEA_TOKEN_EXPIRY is not 1-5 seconds)\n");
        }
        parallel_fetch(c, repo, layer, 100000);
        _cleanup_strv_ char **repos = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_registry_catalog(c, &repos, &err), 0);
        ck_assert(strv_contains(repos, repo));
        pea_registry_client_free(c);
}

END_TEST

START_TEST(net_token_users)
{
        const char *reg = token_registry();
        if (!reg)
                return;
        make_tmpdir();
        struct pea_registry_opts o = {.insecure = true, .creds = "pea:peapass"};
        struct pea_registry_client *c = new_client(reg, &o);
        _cleanup_free_ char *repo = xasprintf("tok/users-%d-%ld", getpid(), (long)time(NULL));
        _cleanup_free_ char *layer = NULL, *md = push_image(c, repo, &layer);
        pea_registry_client_free(c);
        /* A pull-only user can read but not push. */
        o.creds = "reader:readpass";
        c = new_client(reg, &o);
        get_v1(c, repo);
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_registry_put_blob_data(c, repo, "x", 1, NULL, &err), -EACCES);
        ck_assert_ptr_nonnull(strstr(err->msg, "authentication required"));
        pea_error_clear(&err);
        pea_registry_client_free(c);
        /* A wrong password gets no token; login checks before it saves. */
        o.creds = "pea:wrong";
        c = new_client(reg, &o);
        struct pea_registry_manifest man = {0};
        ck_assert_int_eq(pea_registry_get_manifest(c, repo, "v1", &man, &err), -EACCES);
        ck_assert_ptr_nonnull(
                strstr(err->msg, "unable to retrieve auth token: invalid username/password"));
        pea_error_clear(&err);
        ck_assert_int_eq(pea_registry_login(c, "pea", "wrong", &err), -EACCES);
        pea_error_clear(&err);
        ck_assert_int_eq(pea_registry_login(c, "pea", "peapass", &err), 0);
        pea_registry_client_free(c);
        /* The login was saved where a client without --creds finds it. */
        o.creds = NULL;
        c = new_client(reg, &o);
        get_v1(c, repo);
        pea_registry_client_free(c);
        remove_tmpdir();
}

END_TEST

static Suite *registry_suite(void)
{
        Suite *s = suite_create("registry");
        TCase *tc = tcase_create("pure");
        tcase_add_test(tc, base64_vectors);
        tcase_add_test(tc, www_authenticate_parse);
        tcase_add_test(tc, challenge_pick);
        tcase_add_test(tc, authfile_paths);
        tcase_add_test(tc, authfile_roundtrip);
        tcase_add_test(tc, authfile_precedence);
        tcase_add_test(tc, retry_classification);
        tcase_add_test(tc, error_messages);
        tcase_add_test(tc, names_and_digests);
        tcase_add_test(tc, scopes_and_tokens);
        tcase_add_test(tc, url_resolution);
        tcase_add_test(tc, client_options);
        tcase_add_test(tc, tls_cert_dirs);
        suite_add_tcase(s, tc);
        TCase *mock = tcase_create("mock");
        tcase_set_timeout(mock, 20);
        tcase_add_test(mock, mock_retry_then_success);
        tcase_add_test(mock, mock_no_retry_on_4xx);
        tcase_add_test(mock, mock_gives_up);
        tcase_add_test(mock, mock_blob_resume);
        tcase_add_test(mock, mock_blob_checks);
        tcase_add_test(mock, mock_manifest_cap);
        tcase_add_test(mock, connection_refused);
        suite_add_tcase(s, mock);
        TCase *net = tcase_create("network");
        tcase_set_timeout(net, 60);
        tcase_add_test(net, net_manifests);
        tcase_add_test(net, net_blobs);
        tcase_add_test(net, net_tls);
        tcase_add_test(net, net_push);
        tcase_add_test(net, net_token_flow);
        tcase_add_test(net, net_token_users);
        suite_add_tcase(s, net);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(registry_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
