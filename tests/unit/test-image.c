/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <check.h>

#include "base.h"
#include "image/image.h"

#define HEX64_A      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_A     "sha256:" HEX64_A
#define SHA256_EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_ABC   "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA512_EMPTY                                                                               \
        "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0f" \
        "f8318d2877eec2f63b931bd47417a81a538327af927da3e"
#define MULTIARCH_INDEX "sha256:fac10874eeb4c79b6629ea0c31ffb4020597c0563b271b468c2a7a20be69f265"
#define MULTIARCH_AMD64 "sha256:7a4f02264f22b6df75d67b38c72db6499b95a410406bbcf79197b019c61d27eb"
#define MULTIARCH_ARM64 "sha256:7ffacf0267a402077e67dc98e68862f9134cadc5b9ed5b83a341a709052c442c"
#define AMD64_CONFIG    "sha256:09ad3a7176744cfc804639a371b6d99ada2774d6caff7b65c9277f334f64fb16"
#define LAYERS_MANIFEST "sha256:6d70fe9eb1dc3d47bfe83a9d00852a4583f24836e6763059cb7208c9dd70b92f"
#define LAYERS_CONFIG   "sha256:380bf5cbd18dc4c4cff8faf04432370d00408ba86c5394284e4696196bad38e0"

static char tmpdir[64];

static void setup(void)
{
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/pea-test-image-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
        _cleanup_error_ struct pea_error *err = NULL;
        (void)pea_rm_rf(tmpdir, &err);
}

static char *write_file(const char *name, const char *text)
{
        _cleanup_error_ struct pea_error *err = NULL;
        char *p = xasprintf("%s/%s", tmpdir, name);
        _cleanup_free_ char *dir = xstrdup(p);
        *strrchr(dir, '/') = '\0';
        ck_assert_int_eq(pea_mkdir_p(dir, 0755, &err), 0);
        ck_assert_int_eq(pea_write_file_atomic_at(AT_FDCWD, p, text, strlen(text), 0644, &err), 0);
        return p;
}

/* ---- references ---------------------------------------------------------- */

static const struct {
        const char *in, *domain, *path, *tag, *digest, *normalized;
} ref_valid[] = {
        {"busybox", NULL, "busybox", NULL, NULL, "docker.io/library/busybox:latest"},
        {"busybox:1.36", NULL, "busybox", "1.36", NULL, "docker.io/library/busybox:1.36"},
        {"library/busybox", NULL, "library/busybox", NULL, NULL,
         "docker.io/library/busybox:latest"},
        {"user/repo", NULL, "user/repo", NULL, NULL, "docker.io/user/repo:latest"},
        {"docker.io/busybox", "docker.io", "busybox", NULL, NULL,
         "docker.io/library/busybox:latest"},
        {"index.docker.io/busybox", "index.docker.io", "busybox", NULL, NULL,
         "docker.io/library/busybox:latest"},
        {"docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", NULL,
         "docker.io/library/busybox:latest"},
        {"localhost/foo", "localhost", "foo", NULL, NULL, "localhost/foo:latest"},
        {"localhost:5000/a/b:tag", "localhost:5000", "a/b", "tag", NULL, "localhost:5000/a/b:tag"},
        {"127.0.0.1:5000/foo", "127.0.0.1:5000", "foo", NULL, NULL, "127.0.0.1:5000/foo:latest"},
        {"quay.io/podman/stable", "quay.io", "podman/stable", NULL, NULL,
         "quay.io/podman/stable:latest"},
        {"Example.com/foo", "Example.com", "foo", NULL, NULL, "Example.com/foo:latest"},
        {"example.com:8080/ns/img@" DIGEST_A, "example.com:8080", "ns/img", NULL, DIGEST_A,
         "example.com:8080/ns/img@" DIGEST_A},
        {"busybox@" DIGEST_A, NULL, "busybox", NULL, DIGEST_A,
         "docker.io/library/busybox@" DIGEST_A},
        {"busybox:1.36@" DIGEST_A, NULL, "busybox", "1.36", DIGEST_A,
         "docker.io/library/busybox:1.36@" DIGEST_A},
        {"foo/a-b_c__d.e---f", NULL, "foo/a-b_c__d.e---f", NULL, NULL,
         "docker.io/foo/a-b_c__d.e---f:latest"},
        {"foo:_Tag.1-x", NULL, "foo", "_Tag.1-x", NULL, "docker.io/library/foo:_Tag.1-x"},
        {"my-reg.example.com/x@" SHA512_EMPTY, "my-reg.example.com", "x", NULL, SHA512_EMPTY,
         "my-reg.example.com/x@" SHA512_EMPTY},
};

START_TEST(ref_parse_valid)
{
        for (size_t i = 0; i < ELEMENTSOF(ref_valid); i++) {
                _cleanup_image_ref_ struct pea_image_ref r = {}, n = {};
                _cleanup_error_ struct pea_error *err = NULL;
                ck_assert_msg(pea_image_ref_parse(ref_valid[i].in, &r, &err) == 0, "%s: %s",
                              ref_valid[i].in, err ? err->msg : "");
                ck_assert_pstr_eq(r.domain, ref_valid[i].domain);
                ck_assert_pstr_eq(r.path, ref_valid[i].path);
                ck_assert_pstr_eq(r.tag, ref_valid[i].tag);
                ck_assert_pstr_eq(r.digest, ref_valid[i].digest);
                /* The string form gives the input back. */
                _cleanup_free_ char *s = pea_image_ref_string(&r);
                ck_assert_str_eq(s, ref_valid[i].in);
                ck_assert_int_eq(pea_image_ref_parse_normalized(ref_valid[i].in, &n, &err), 0);
                _cleanup_free_ char *ns = pea_image_ref_string(&n);
                ck_assert_str_eq(ns, ref_valid[i].normalized);
                ck_assert_int_eq(pea_image_ref_is_short(ref_valid[i].in), !ref_valid[i].domain);
        }
}

END_TEST

#define LOWER  "invalid reference format: repository name must be lowercase"
#define FORMAT "invalid reference format"

static const struct {
        const char *in, *msg;
} ref_invalid[] = {
        {"", FORMAT},
        {"BusyBox", LOWER},
        {"docker.io/Library/busybox", LOWER},
        {"UPPER/x", LOWER},
        {"busybox:", FORMAT},
        {":tag", FORMAT},
        {"foo//bar", FORMAT},
        {"foo/", FORMAT},
        {"/foo", FORMAT},
        {"-foo", FORMAT},
        {"foo_", FORMAT},
        {"foo..bar", FORMAT},
        {"foo___bar", FORMAT},
        {"foo:tag with space", FORMAT},
        {"foo:-tag", FORMAT},
        {"foo:bar:baz", FORMAT},
        {"localhost:abc/foo", FORMAT},
        {"-example.com/foo", FORMAT},
        {"exa_mple.com/foo", FORMAT},
        {"foo@sha256:abc", FORMAT},
        {"foo@@" DIGEST_A, FORMAT},
        {"foo@sha256:" HEX64_A "@x", FORMAT},
        {"foo@sha256:0123456789abcdef0123456789abcdef01234567", "invalid checksum digest length"},
        {"foo@sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
         "invalid checksum digest format"},
        {"foo@md5:0123456789abcdef0123456789abcdef", "unsupported digest algorithm"},
        {HEX64_A,
         "invalid repository name (" HEX64_A "), cannot specify 64-byte hexadecimal strings"},
};

START_TEST(ref_parse_invalid)
{
        for (size_t i = 0; i < ELEMENTSOF(ref_invalid); i++) {
                struct pea_image_ref r = {.path = (char *)"untouched"};
                _cleanup_error_ struct pea_error *err = NULL;
                ck_assert_msg(pea_image_ref_parse(ref_invalid[i].in, &r, &err) == -EINVAL, "%s",
                              ref_invalid[i].in);
                ck_assert_str_eq(err->msg, ref_invalid[i].msg);
                ck_assert_str_eq(r.path, "untouched");
                ck_assert(!pea_image_ref_is_short(ref_invalid[i].in));
        }
}

END_TEST

START_TEST(ref_limits)
{
        _cleanup_image_ref_ struct pea_image_ref r = {};
        _cleanup_error_ struct pea_error *err = NULL;
        char name[300], tag[140];

        /* A tag of 128 characters is fine, 129 is not. */
        memset(tag, 'x', 128);
        tag[128] = '\0';
        _cleanup_free_ char *t128 = xasprintf("foo:%s", tag);
        _cleanup_free_ char *t129 = xasprintf("foo:%sx", tag);
        ck_assert_int_eq(pea_image_ref_parse(t128, &r, &err), 0);
        pea_image_ref_done(&r);
        ck_assert_int_eq(pea_image_ref_parse(t129, &r, &err), -EINVAL);
        pea_error_clear(&err);
        /* 255 characters of name are fine, 256 are not. */
        memset(name, 'a', 256);
        name[256] = '\0';
        ck_assert_int_eq(pea_image_ref_parse(name, &r, &err), -EINVAL);
        ck_assert_str_eq(err->msg, "repository name must not be more than 255 characters");
        pea_error_clear(&err);
        name[255] = '\0';
        ck_assert_int_eq(pea_image_ref_parse(name, &r, &err), 0);
        /* ... but normalising adds "docker.io/library/". */
        ck_assert_int_eq(pea_image_ref_normalize(&r, NULL, &err), -EINVAL);
        ck_assert_ptr_null(r.domain);
        pea_image_ref_done(&r);
        pea_error_clear(&err);
        /* Normalising with another registry: no "library/". */
        ck_assert_int_eq(pea_image_ref_parse("busybox@" DIGEST_A, &r, &err), 0);
        ck_assert_int_eq(pea_image_ref_normalize(&r, "quay.io", &err), 0);
        _cleanup_free_ char *s = pea_image_ref_string(&r);
        ck_assert_str_eq(s, "quay.io/busybox@" DIGEST_A);
        _cleanup_free_ char *n = pea_image_ref_name(&r);
        ck_assert_str_eq(n, "quay.io/busybox");
        _cleanup_image_ref_ struct pea_image_ref c = {};
        pea_image_ref_copy(&c, &r);
        ck_assert_str_eq(c.domain, "quay.io");
        ck_assert_ptr_null(c.tag);
}

END_TEST

/* ---- digests ------------------------------------------------------------- */

START_TEST(digest_known)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *e = NULL, *abc = NULL, *e512 = NULL, *streamed = NULL;
        _cleanup_digester_ struct pea_digester *d = NULL;

        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, "", 0, &e, &err), 0);
        ck_assert_str_eq(e, SHA256_EMPTY);
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, "abc", 3, &abc, &err), 0);
        ck_assert_str_eq(abc, SHA256_ABC);
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA512, NULL, 0, &e512, &err), 0);
        ck_assert_str_eq(e512, SHA512_EMPTY);
        /* Streaming, in pieces. */
        ck_assert_int_eq(pea_digester_new(PEA_DIGEST_SHA256, &d, &err), 0);
        ck_assert_int_eq(pea_digester_update(d, "a", 1, &err), 0);
        ck_assert_int_eq(pea_digester_update(d, "", 0, &err), 0);
        ck_assert_int_eq(pea_digester_update(d, "bc", 2, &err), 0);
        ck_assert_int_eq(pea_digester_final(d, &streamed, &err), 0);
        ck_assert_str_eq(streamed, SHA256_ABC);
        ck_assert_int_eq(pea_digester_update(d, "x", 1, &err), -EINVAL);
        pea_error_clear(&err);
        ck_assert_str_eq(pea_digest_hex(SHA256_ABC), SHA256_ABC + 7);
        ck_assert_int_eq(pea_digest_algorithm_from_string("sha512"), PEA_DIGEST_SHA512);
        ck_assert_int_eq(pea_digest_algorithm_from_string("md5"), -EINVAL);
        ck_assert_str_eq(pea_digest_algorithm_to_string(PEA_DIGEST_SHA384), "sha384");
}

END_TEST

START_TEST(digest_verify)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_digester_ struct pea_digester *d = NULL, *d2 = NULL;

        ck_assert_int_eq(pea_digest_verify(SHA256_ABC, "abc", 3, &err), 0);
        ck_assert_int_eq(pea_digest_verify(SHA512_EMPTY, "", 0, &err), 0);
        ck_assert_int_eq(pea_digest_verify(SHA256_ABC, "abd", 3, &err), -EBADMSG);
        ck_assert_ptr_nonnull(strstr(err->msg, "digest mismatch: expected '" SHA256_ABC "'"));
        pea_error_clear(&err);
        ck_assert_int_eq(pea_digest_verify("sha256:abc", "abc", 3, &err), -EINVAL);
        pea_error_clear(&err);
        /* A streaming verifier takes the algorithm from the expected digest. */
        ck_assert_int_eq(pea_digester_new_for(SHA512_EMPTY, &d, &err), 0);
        ck_assert_int_eq(pea_digester_verify(d, SHA512_EMPTY, &err), 0);
        ck_assert_int_eq(pea_digester_new_for(SHA256_EMPTY, &d2, &err), 0);
        ck_assert_int_eq(pea_digester_update(d2, "x", 1, &err), 0);
        ck_assert_int_eq(pea_digester_verify(d2, SHA256_EMPTY, &err), -EBADMSG);
}

END_TEST

START_TEST(digest_validate)
{
        static const struct {
                const char *in, *problem;
        } cases[] = {
                {SHA256_ABC, NULL},
                {SHA512_EMPTY, NULL},
                {"sha256", "invalid checksum digest format"},
                {":abc", "invalid checksum digest format"},
                {"sha256:", "invalid checksum digest format"},
                {"sha256:abc", "invalid checksum digest length"},
                {"sha512:" HEX64_A, "invalid checksum digest length"},
                {"sha256:" HEX64_A "0", "invalid checksum digest length"},
                {"sha256:gaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                 "invalid checksum digest format"},
                {"md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm"},
                {"SHA256:" HEX64_A, "invalid checksum digest format"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_error_ struct pea_error *err = NULL;
                int r = pea_digest_validate(cases[i].in, &err);
                if (!cases[i].problem) {
                        ck_assert_int_eq(r, 0);
                        continue;
                }
                ck_assert_int_eq(r, -EINVAL);
                _cleanup_free_ char *want =
                        xasprintf("invalid digest '%s': %s", cases[i].in, cases[i].problem);
                ck_assert_str_eq(err->msg, want);
        }
}

END_TEST

/* ---- registries.conf ----------------------------------------------------- */

/* clang-format off */
static const char registries_conf[] =
        "unqualified-search-registries = [\"registry.example.com/\", \"docker.io\"]\n"
        "short-name-mode = \"enforcing\"\n"
        "[[registry]]\nprefix = \"example.com/foo\"\nlocation = \"target.example.com/bar\"\n"
        "insecure = true\n"
        "[[registry.mirror]]\nlocation = \"mirror1.example.com/m\"\n"
        "[[registry.mirror]]\nlocation = \"mirror2.example.com\"\ninsecure = true\n"
        "pull-from-mirror = \"digest-only\"\n"
        "[[registry]]\nlocation = \"example.com\"\n"
        "[[registry]]\nprefix = \"*.wild.example.com\"\n"
        "[[registry]]\nlocation = \"blocked.example.com\"\nblocked = true\n"
        "[[registry]]\nlocation = \"localhost:5000\"\ninsecure = true\n"
        /* The same prefix again: the first table wins. */
        "[[registry]]\nlocation = \"localhost:5000\"\ninsecure = true\n"
        "[[registry.mirror]]\nlocation = \"ignored.example.com\"\n"
        "[aliases]\n\"busybox\" = \"docker.io/busybox\"\n\"myimg\" = \"quay.io/me/myimg\"\n";

/* clang-format on */

static void load_conf(struct pea_registries *c, const char *text, char *const *dirs)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *p = write_file("registries.conf", text);
        ck_assert_msg(pea_registries_load_from(c, p, dirs, &err) == 0, "%s", err ? err->msg : "");
}

static const char *find_prefix(const struct pea_registries *c, const char *ref)
{
        const struct pea_registry *r = pea_registries_find(c, ref);
        return r ? r->prefix : NULL;
}

START_TEST(registries_find)
{
        struct pea_registries c;
        load_conf(&c, registries_conf, NULL);
        ck_assert_int_eq(c.short_name_mode, PEA_SHORT_NAME_ENFORCING);
        ck_assert_uint_eq(strv_length(c.search), 2);
        ck_assert_str_eq(c.search[0], "registry.example.com");
        /* Sorted by prefix, the duplicate prefix dropped (the first wins). */
        ck_assert_uint_eq(c.n_registries, 5);
        ck_assert_str_eq(c.registries[0].prefix, "*.wild.example.com");
        ck_assert_str_eq(c.registries[0].location, "");
        ck_assert_pstr_eq(find_prefix(&c, "example.com/foo/bar"), "example.com/foo");
        ck_assert_pstr_eq(find_prefix(&c, "example.com/foo"), "example.com/foo");
        ck_assert_pstr_eq(find_prefix(&c, "example.com/foobar"), "example.com");
        ck_assert_pstr_eq(find_prefix(&c, "example.com/other:1"), "example.com");
        ck_assert_pstr_eq(find_prefix(&c, "example.com:5000/x"), "example.com");
        ck_assert_pstr_eq(find_prefix(&c, "example.community/x"), NULL);
        ck_assert_pstr_eq(find_prefix(&c, "a.wild.example.com/x"), "*.wild.example.com");
        ck_assert_pstr_eq(find_prefix(&c, "x.y.wild.example.com:443/z"), "*.wild.example.com");
        ck_assert_pstr_eq(find_prefix(&c, "wild.example.com/x"), NULL);
        ck_assert_pstr_eq(find_prefix(&c, "evil.com/a.wild.example.com"), NULL);
        const struct pea_registry *r = pea_registries_find(&c, "localhost:5000/foo/bar");
        ck_assert_ptr_nonnull(r);
        ck_assert(r->insecure);
        ck_assert_uint_eq(r->n_mirrors, 0);
        r = pea_registries_find(&c, "blocked.example.com/x");
        ck_assert(r && r->blocked);
        r = pea_registries_find(&c, "example.com/foo/x");
        ck_assert_uint_eq(r->n_mirrors, 2);
        ck_assert_str_eq(r->mirrors[1].location, "mirror2.example.com");
        ck_assert_int_eq(r->mirrors[1].use, PEA_MIRROR_DIGEST_ONLY);
        pea_registries_done(&c);
}

END_TEST

static void check_sources(const struct pea_registries *c, const char *ref, size_t n_want,
                          const char *const *want)
{
        _cleanup_image_ref_ struct pea_image_ref r = {};
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_pull_source *s = NULL;
        size_t n = 0;

        ck_assert_int_eq(pea_image_ref_parse_normalized(ref, &r, &err), 0);
        ck_assert_msg(pea_registries_pull_sources(c, &r, &s, &n, &err) == 0, "%s",
                      err ? err->msg : "");
        ck_assert_uint_eq(n, n_want);
        for (size_t i = 0; i < n; i++) {
                /* want[i]: "ref location insecure mirror" */
                _cleanup_free_ char *got = xasprintf("%s %s %d %d", s[i].ref, s[i].location,
                                                     s[i].insecure, s[i].mirror);
                ck_assert_str_eq(got, want[i]);
        }
        pea_pull_sources_free(s, n);
}

START_TEST(registries_pull_sources)
{
        struct pea_registries c;
        load_conf(&c, registries_conf, NULL);
        check_sources(&c, "example.com/foo/img:1", 2,
                      (const char *const[]){
                              "mirror1.example.com/m/img:1 mirror1.example.com/m 0 1",
                              "target.example.com/bar/img:1 target.example.com/bar 1 0",
                      });
        check_sources(&c, "example.com/foo/img@" DIGEST_A, 3,
                      (const char *const[]){
                              "mirror1.example.com/m/img@" DIGEST_A " mirror1.example.com/m 0 1",
                              "mirror2.example.com/img@" DIGEST_A " mirror2.example.com 1 1",
                              "target.example.com/bar/img@" DIGEST_A " target.example.com/bar 1 0",
                      });
        check_sources(&c, "a.wild.example.com/x:1", 1,
                      (const char *const[]){"a.wild.example.com/x:1 a.wild.example.com 0 0"});
        check_sources(&c, "quay.io/x", 1, (const char *const[]){"quay.io/x:latest quay.io 0 0"});
        check_sources(&c, "localhost:5000/a/b:t", 1,
                      (const char *const[]){"localhost:5000/a/b:t localhost:5000 1 0"});

        _cleanup_image_ref_ struct pea_image_ref r = {};
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_pull_source *s = NULL;
        size_t n = 0;
        ck_assert_int_eq(pea_image_ref_parse_normalized("blocked.example.com/x", &r, &err), 0);
        ck_assert_int_eq(pea_registries_pull_sources(&c, &r, &s, &n, &err), -EACCES);
        ck_assert_ptr_nonnull(strstr(err->msg, "registry 'blocked.example.com' is blocked"));
        pea_registries_done(&c);
}

END_TEST

static int resolve(const struct pea_registries *c, const char *name, const char *want)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_strv_ char **l = NULL;
        int r = pea_registries_resolve_short(c, name, &l, &err);
        ck_assert_msg(r >= 0, "%s: %s", name, err ? err->msg : "");
        _cleanup_free_ char *got = strv_join(l, " ");
        ck_assert_str_eq(got, want);
        return r;
}

START_TEST(registries_short_names)
{
        struct pea_registries c;
        load_conf(&c, registries_conf, NULL);
        ck_assert_int_eq(resolve(&c, "busybox", "docker.io/library/busybox:latest"), 1);
        ck_assert_int_eq(resolve(&c, "busybox:1.2", "docker.io/library/busybox:1.2"), 1);
        ck_assert_int_eq(resolve(&c, "myimg@" DIGEST_A, "quay.io/me/myimg@" DIGEST_A), 1);
        ck_assert_int_eq(
                resolve(&c, "alpine",
                        "registry.example.com/alpine:latest docker.io/library/alpine:latest"),
                0);
        ck_assert_int_eq(
                resolve(&c, "ns/app:2", "registry.example.com/ns/app:2 docker.io/ns/app:2"), 0);
        ck_assert_int_eq(resolve(&c, "quay.io/x", "quay.io/x:latest"), 0);
        ck_assert_int_eq(resolve(&c, "localhost/x:1", "localhost/x:1"), 0);

        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_strv_ char **l = NULL;
        ck_assert_int_eq(pea_registries_resolve_short(&c, "Bad", &l, &err), -EINVAL);
        ck_assert_str_eq(err->msg, LOWER);
        pea_registries_done(&c);

        /* No search registries: podman's message, naming the file. */
        load_conf(&c, "# nothing\n", NULL);
        pea_error_clear(&err);
        ck_assert_int_eq(pea_registries_resolve_short(&c, "busybox", &l, &err), -EINVAL);
        _cleanup_free_ char *want = xasprintf(
                "short-name \"busybox\" did not resolve to an alias and no unqualified-search "
                "registries are defined in \"%s/registries.conf\"",
                tmpdir);
        ck_assert_str_eq(err->msg, want);
        ck_assert_int_eq(c.short_name_mode, PEA_SHORT_NAME_PERMISSIVE);
        pea_registries_done(&c);
}

END_TEST

START_TEST(registries_drop_ins)
{
        struct pea_registries c;
        _cleanup_free_ char *dir = xasprintf("%s/registries.conf.d", tmpdir);
        _cleanup_free_ char *a = write_file("registries.conf.d/10-a.conf",
                                            "unqualified-search-registries = [\"quay.io\"]\n"
                                            "[[registry]]\n"
                                            "prefix = \"example.com\"\n"
                                            "location = \"other.example.com\"\n"
                                            "[aliases]\n"
                                            "\"busybox\" = \"\"\n"
                                            "\"new\" = \"localhost/new\"\n");
        _cleanup_free_ char *b =
                write_file("registries.conf.d/20-b.conf", "short-name-mode = \"disabled\"\n");
        _cleanup_free_ char *ign = write_file("registries.conf.d/30-c.txt", "junk = [");
        _cleanup_free_ char *sub = write_file("registries.conf.d/sub.conf/x.conf", "junk = [");
        char *dirs[] = {dir, NULL};

        load_conf(&c, registries_conf, dirs);
        ck_assert_uint_eq(strv_length(c.files), 3);
        ck_assert_str_eq(c.files[1], a);
        ck_assert_str_eq(c.files[2], b);
        ck_assert_int_eq(c.short_name_mode, PEA_SHORT_NAME_DISABLED);
        ck_assert_str_eq(c.search_origin, a);
        /* The alias was reset, so the (new) search list applies. */
        ck_assert_int_eq(resolve(&c, "busybox", "quay.io/busybox:latest"), 0);
        ck_assert_int_eq(resolve(&c, "new", "localhost/new:latest"), 1);
        ck_assert_int_eq(resolve(&c, "myimg", "quay.io/me/myimg:latest"), 1);
        /* The drop-in's example.com replaced the main file's; the others stay. */
        ck_assert_uint_eq(c.n_registries, 5);
        const struct pea_registry *r = pea_registries_find(&c, "example.com/x");
        ck_assert_str_eq(r->location, "other.example.com");
        ck_assert_pstr_eq(find_prefix(&c, "example.com/foo/x"), "example.com/foo");
        pea_registries_done(&c);
}

END_TEST

static void expect_conf_error(const char *text, const char *msg)
{
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *p = write_file("bad.conf", text);
        struct pea_registries c = {};
        ck_assert_msg(pea_registries_load_from(&c, p, NULL, &err) < 0, "%s", text);
        ck_assert_msg(strstr(err->msg, msg), "'%s' lacks '%s'", err->msg, msg);
        ck_assert_ptr_null(c.files);
}

START_TEST(registries_errors)
{
        expect_conf_error("[[registry]]\nlocation = \"http://x.com\"\n",
                          "invalid location 'http://x.com': URI schemes are not supported");
        expect_conf_error(
                "[[registry]]\nlocation = \"x.com\"\ninsecure = true\n"
                "[[registry]]\nprefix = \"x.com/a\"\nlocation = \"x.com\"\n",
                "registry 'x.com' is defined multiple times with conflicting 'insecure' setting");
        expect_conf_error("[[registry]]\nprefix = \"x.com/a\"\n",
                          "location is unset and prefix is not in the format: *.example.com");
        expect_conf_error("[[registry]]\ninsecure = true\n", "both location and prefix are unset");
        expect_conf_error("[[registry]]\nprefix = \"*.x.com/a\"\n", "incorrectly formatted");
        expect_conf_error("[[registry]]\nlocation = \"x.com\"\ninsecure = \"yes\"\n",
                          "'insecure' must be a boolean");
        expect_conf_error("[[registry]]\nlocation = \"x.com\"\n[[registry.mirror]]\n"
                          "location = \"m.com\"\npull-from-mirror = \"sometimes\"\n",
                          "unsupported pull-from-mirror value 'sometimes'");
        expect_conf_error("short-name-mode = \"strict\"\n", "invalid short-name mode: 'strict'");
        expect_conf_error("[aliases]\n\"busybox\" = \"docker.io/busybox:1\"\n",
                          "invalid alias 'docker.io/busybox:1': must not contain tag");
        expect_conf_error("[aliases]\n\"busybox\" = \"busybox\"\n",
                          "must contain registry and repository");
        expect_conf_error("[aliases]\n\"quay.io/busybox\" = \"quay.io/busybox\"\n",
                          "invalid short name 'quay.io/busybox': must not contain registry");
        expect_conf_error("unqualified-search-registries = \"docker.io\"\n",
                          "'unqualified-search-registries' must be an array of strings");
        expect_conf_error("unqualified-search-registries = [\"bad_host\"]\n",
                          "invalid unqualified-search-registries entry 'bad_host'");
        expect_conf_error("unqualified-search-registries = [\"b.com\"]\n"
                          "[registries.search]\nregistries = [\"a.com\"]\n",
                          "mixing sysregistry v1/v2 is not supported");
        expect_conf_error("this is not toml", "bad.conf");

        /* A missing file named explicitly is an error. */
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_registries c = {};
        ck_assert_int_eq(pea_registries_load_from(&c, "/nonexistent/registries.conf", NULL, &err),
                         -ENOENT);
        /* A drop-in must be v2. */
        pea_error_clear(&err);
        _cleanup_free_ char *dir = xasprintf("%s/d", tmpdir);
        _cleanup_free_ char *p = write_file("d/v1.conf", "[registries.search]\nregistries = []\n");
        char *dirs[] = {dir, NULL};
        ck_assert_int_lt(pea_registries_load_from(&c, NULL, dirs, &err), 0);
        ck_assert_ptr_nonnull(strstr(err->msg, "registry must be in v2 format but is in v1"));
}

END_TEST

START_TEST(registries_v1_and_env)
{
        struct pea_registries c;
        load_conf(&c,
                  "[registries.search]\nregistries = [\"a.example.com\", \"docker.io\"]\n"
                  "[registries.insecure]\nregistries = [\"b.example.com\"]\n"
                  "[registries.block]\nregistries = [\"c.example.com\", \"b.example.com\"]\n",
                  NULL);
        ck_assert_uint_eq(strv_length(c.search), 2);
        ck_assert_uint_eq(c.n_registries, 2);
        const struct pea_registry *r = pea_registries_find(&c, "b.example.com/x");
        ck_assert(r->insecure && r->blocked);
        r = pea_registries_find(&c, "c.example.com/x");
        ck_assert(!r->insecure && r->blocked);
        pea_registries_done(&c);

        /* The standard places: $CONTAINERS_REGISTRIES_CONF, then the user's drop-ins. */
        _cleanup_error_ struct pea_error *err = NULL;
        _cleanup_free_ char *conf = write_file("env.conf", "unqualified-search-registries = "
                                                           "[\"env.example.com\"]\n");
        _cleanup_free_ char *xdg = xasprintf("%s/xdg", tmpdir);
        _cleanup_free_ char *user =
                write_file("xdg/containers/registries.conf.d/99-user.conf",
                           "[aliases]\n\"userimg\" = \"user.example.com/img\"\n");
        setenv("CONTAINERS_REGISTRIES_CONF", conf, 1);
        setenv("XDG_CONFIG_HOME", xdg, 1);
        ck_assert_msg(pea_registries_load(&c, &err) == 0, "%s", err ? err->msg : "");
        ck_assert_str_eq(c.files[0], conf);
        ck_assert_str_eq(c.files[strv_length(c.files) - 1], user);
        ck_assert_int_eq(resolve(&c, "userimg", "user.example.com/img:latest"), 1);
        pea_registries_done(&c);
        /* The user's own registries.conf replaces the system's. */
        unsetenv("CONTAINERS_REGISTRIES_CONF");
        _cleanup_free_ char *uc =
                write_file("xdg/containers/registries.conf",
                           "unqualified-search-registries = [\"u.example.com\"]\n");
        ck_assert_int_eq(pea_registries_load(&c, &err), 0);
        ck_assert_uint_eq(strv_length(c.files), 2);
        ck_assert_str_eq(c.config_path, uc);
        ck_assert_int_eq(resolve(&c, "x", "u.example.com/x:latest"), 0);
        pea_registries_done(&c);
        unsetenv("XDG_CONFIG_HOME");
}

END_TEST

/* ---- manifests from the fixtures ----------------------------------------- */

static char *fixtures_dir(void)
{
        const char *env = getenv("PEA_SHARED_FIXTURES"), *src = getenv("PEA_TEST_SRCDIR");
        if (env && env[0])
                return xstrdup(env);
        if (src && src[0])
                return xasprintf("%s/../../../shared/fixtures", src);
#ifdef PEA_SOURCE_ROOT
        return xstrdup(PEA_SOURCE_ROOT "/../shared/fixtures");
#else
        return xstrdup("../shared/fixtures");
#endif
}

/* The path of a fixture archive, or NULL (after saying why) to skip. */
static char *fixture(const char *name)
{
        _cleanup_free_ char *dir = fixtures_dir();
        char *p = xasprintf("%s/%s", dir, name);
        if (access(p, R_OK) == 0)
                return p;
        const char *strict = getenv("PEA_TEST_STRICT");
        ck_assert_msg(!strict || !streq(strict, "1"), "fixture '%s' missing", p);
        printf("SKIP: fixture '%s' not found (set PEA_SHARED_FIXTURES)\n", p);
        free(p);
        return NULL;
}

/* A member of a tar archive, read whole (NUL-terminated). */
static char *tar_member(const char *tar, const char *name, size_t *ret_len)
{
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        char *buf = NULL;

        archive_read_support_format_tar(a);
        ck_assert_int_eq(archive_read_open_filename(a, tar, 65536), ARCHIVE_OK);
        while (!buf && archive_read_next_header(a, &e) == ARCHIVE_OK) {
                if (!streq(archive_entry_pathname(e), name))
                        continue;
                size_t n = (size_t)archive_entry_size(e);
                buf = xmalloc(n + 1);
                ck_assert_int_eq(archive_read_data(a, buf, n), (la_ssize_t)n);
                buf[n] = '\0';
                *ret_len = n;
        }
        archive_read_free(a);
        ck_assert_msg(buf, "'%s' has no '%s'", tar, name);
        return buf;
}

static char *blob(const char *tar, const char *digest, size_t *ret_len)
{
        _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", pea_digest_hex(digest));
        return tar_member(tar, name, ret_len);
}

static struct pea_manifest *parse_blob(const char *tar, const char *digest)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_manifest *m = NULL;
        size_t n = 0;
        _cleanup_free_ char *b = blob(tar, digest, &n);
        ck_assert_msg(pea_manifest_parse(b, n, NULL, digest, &m, &err) == 0, "%s",
                      err ? err->msg : "");
        ck_assert_str_eq(m->digest, digest);
        ck_assert_uint_eq(m->raw_len, n);
        return m;
}

static const char *select_digest(const struct pea_manifest *idx, const char *platform)
{
        _cleanup_(pea_platform_done) struct pea_platform p = {};
        _cleanup_error_ struct pea_error *err = NULL;
        const struct pea_descriptor *d = NULL;
        if (platform)
                ck_assert_int_eq(pea_platform_parse(platform, &p, &err), 0);
        if (pea_manifest_select(idx, platform ? &p : NULL, &d, &err) < 0)
                return NULL;
        return d->digest;
}

START_TEST(manifest_multiarch)
{
        _cleanup_free_ char *tar = fixture("multiarch.oci.tar");
        _cleanup_manifest_ struct pea_manifest *top = NULL, *idx = NULL, *amd = NULL, *bad = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        size_t n = 0;
        if (!tar)
                return;
        /* index.json of the layout: an index pointing to the image index. */
        _cleanup_free_ char *ij = tar_member(tar, "index.json", &n);
        ck_assert_int_eq(pea_manifest_parse(ij, n, NULL, NULL, &top, &err), 0);
        ck_assert_int_eq(top->type, PEA_MANIFEST_OCI_INDEX);
        ck_assert_uint_eq(top->n_manifests, 1);
        ck_assert_str_eq(top->manifests[0].digest, MULTIARCH_INDEX);
        ck_assert_str_eq(json_string_value(json_object_get(top->manifests[0].annotations,
                                                           "org.opencontainers.image.ref.name")),
                         "latest");

        idx = parse_blob(tar, MULTIARCH_INDEX);
        ck_assert(pea_manifest_is_index(idx));
        ck_assert_uint_eq(idx->n_manifests, 2);
        ck_assert_str_eq(idx->manifests[1].platform.variant, "v8");
        ck_assert_pstr_eq(select_digest(idx, "linux/amd64"), MULTIARCH_AMD64);
        ck_assert_pstr_eq(select_digest(idx, "linux/arm64"), MULTIARCH_ARM64);
        ck_assert_pstr_eq(select_digest(idx, "linux/arm64/v8"), MULTIARCH_ARM64);
        ck_assert_pstr_eq(select_digest(idx, "linux/aarch64"), MULTIARCH_ARM64);
        ck_assert_pstr_eq(select_digest(idx, "linux/x86_64"), MULTIARCH_AMD64);
        ck_assert_pstr_eq(select_digest(idx, "linux/s390x"), NULL);
        ck_assert_pstr_eq(select_digest(idx, "windows/amd64"), NULL);
        if (streq(pea_host_arch(), "amd64"))
                ck_assert_pstr_eq(select_digest(idx, NULL), MULTIARCH_AMD64);
        if (streq(pea_host_arch(), "arm64"))
                ck_assert_pstr_eq(select_digest(idx, NULL), MULTIARCH_ARM64);
        const struct pea_descriptor *d = NULL;
        struct pea_platform arm = {
                .os = (char *)"linux", .architecture = (char *)"arm", .variant = (char *)"v7"};
        ck_assert_int_eq(pea_manifest_select(idx, &arm, &d, &err), -ENOENT);
        ck_assert_str_eq(err->msg, "no image found in image index for architecture arm, "
                                   "variant \"v7\", OS linux");
        pea_error_clear(&err);

        amd = parse_blob(tar, MULTIARCH_AMD64);
        ck_assert_int_eq(amd->type, PEA_MANIFEST_OCI);
        ck_assert_str_eq(amd->config.digest, AMD64_CONFIG);
        ck_assert_str_eq(amd->config.media_type, PEA_MEDIA_OCI_CONFIG);
        ck_assert_int_eq(amd->config.size, 539);
        ck_assert_uint_eq(amd->n_layers, 1);
        ck_assert_int_eq(amd->layers[0].compression, PEA_COMPRESSION_GZIP);
        ck_assert(!amd->layers[0].foreign);
        ck_assert_int_eq(amd->layers[0].size, 1031637);
        ck_assert_int_eq(pea_manifest_select(amd, NULL, &d, &err), -EINVAL);
        pea_error_clear(&err);

        /* A manifest whose bytes do not have the expected digest is refused. */
        _cleanup_free_ char *b = blob(tar, MULTIARCH_AMD64, &n);
        ck_assert_int_eq(pea_manifest_parse(b, n, NULL, MULTIARCH_ARM64, &bad, &err), -EBADMSG);
        ck_assert_ptr_null(bad);
        ck_assert_ptr_nonnull(strstr(err->msg, "verifying manifest: digest mismatch"));
}

END_TEST

START_TEST(manifest_config_fixtures)
{
        _cleanup_free_ char *tar = fixture("layers.oci.tar"), *mtar = fixture("multiarch.oci.tar");
        _cleanup_manifest_ struct pea_manifest *m = NULL, *amd = NULL;
        _cleanup_image_config_ struct pea_image_config *c = NULL, *ac = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        size_t n = 0;
        if (!tar || !mtar)
                return;
        m = parse_blob(tar, LAYERS_MANIFEST);
        ck_assert_uint_eq(m->n_layers, 5);
        for (size_t i = 0; i < m->n_layers; i++)
                ck_assert_int_eq(m->layers[i].compression, PEA_COMPRESSION_GZIP);
        ck_assert_ptr_nonnull(
                json_object_get(m->annotations, "org.opencontainers.image.description"));
        _cleanup_free_ char *cb = blob(tar, LAYERS_CONFIG, &n);
        ck_assert_int_eq(pea_image_config_parse(cb, n, LAYERS_CONFIG, &c, &err), 0);
        ck_assert_str_eq(c->architecture, "amd64");
        ck_assert_str_eq(c->os, "linux");
        ck_assert_ptr_null(c->variant);
        ck_assert_str_eq(c->created, "2025-05-20T00:00:00Z");
        ck_assert_str_eq(c->author, "pea test fixtures");
        ck_assert_str_eq(c->user, "");
        ck_assert_str_eq(c->working_dir, "/work");
        ck_assert_str_eq(c->stop_signal, "SIGINT");
        ck_assert_uint_eq(strv_length(c->env), 4);
        ck_assert_str_eq(c->env[3], "EQUALS=x=y=z");
        ck_assert_str_eq(c->entrypoint[0], "/usr/local/bin/check-expected");
        ck_assert_str_eq(c->cmd[0], "/expected.txt");
        ck_assert_uint_eq(strv_length(c->exposed_ports), 1);
        ck_assert_str_eq(c->exposed_ports[0], "8080/tcp");
        ck_assert_ptr_null(c->volumes);
        ck_assert_str_eq(json_string_value(json_object_get(c->labels, "with.spaces")),
                         "a label value with spaces");
        ck_assert_str_eq(c->healthcheck->test[1], "test -f /expected.txt");
        ck_assert_int_eq(c->healthcheck->interval, 30000000000LL);
        ck_assert_int_eq(c->healthcheck->timeout, 5000000000LL);
        ck_assert_int_eq(c->healthcheck->start_period, 1000000000LL);
        ck_assert_int_eq(c->healthcheck->retries, 3);
        ck_assert_uint_eq(strv_length(c->diff_ids), 5);
        ck_assert_uint_eq(c->n_history, 8);
        ck_assert(c->history[1].empty_layer);
        ck_assert(!c->history[0].empty_layer);
        ck_assert_str_eq(c->history[4].created_by, "/bin/sh -c true  # an empty layer");
        ck_assert_int_eq(c->raw_len, n);
        ck_assert_ptr_nonnull(json_object_get(c->json, "rootfs"));
        ck_assert_int_eq(pea_image_config_check_manifest(c, m, &err), 0);

        amd = parse_blob(mtar, MULTIARCH_AMD64);
        ck_assert_int_eq(pea_image_config_check_manifest(c, amd, &err), -EBADMSG);
        pea_error_clear(&err);
        _cleanup_free_ char *ab = blob(mtar, AMD64_CONFIG, &n);
        ck_assert_int_eq(pea_image_config_parse(ab, n, NULL, &ac, &err), 0);
        ck_assert_str_eq(ac->digest, AMD64_CONFIG);
        ck_assert_ptr_null(ac->entrypoint);
        ck_assert_ptr_null(ac->healthcheck);
        ck_assert_str_eq(ac->cmd[0], "sh");
        ck_assert_int_eq(pea_image_config_check_manifest(ac, amd, &err), 0);
        /* A config blob that does not match its digest is refused. */
        _cleanup_image_config_ struct pea_image_config *bad = NULL;
        ck_assert_int_eq(pea_image_config_parse(ab, n, LAYERS_CONFIG, &bad, &err), -EBADMSG);
}

END_TEST

START_TEST(manifest_compression_fixtures)
{
        static const struct {
                const char *tar;
                enum pea_compression c;
        } cases[] = {
                {"busybox.oci.tar", PEA_COMPRESSION_GZIP},
                {"busybox-zstd.oci.tar", PEA_COMPRESSION_ZSTD},
                {"busybox-uncompressed.oci.tar", PEA_COMPRESSION_NONE},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *tar = fixture(cases[i].tar);
                _cleanup_manifest_ struct pea_manifest *top = NULL, *m = NULL;
                _cleanup_error_ struct pea_error *err = NULL;
                size_t n = 0;
                if (!tar)
                        return;
                _cleanup_free_ char *ij = tar_member(tar, "index.json", &n);
                ck_assert_int_eq(pea_manifest_parse(ij, n, "application/json", NULL, &top, &err),
                                 0);
                ck_assert_int_eq(top->manifests[0].has_platform, false);
                m = parse_blob(tar, top->manifests[0].digest);
                ck_assert_int_eq(m->type, PEA_MANIFEST_OCI);
                ck_assert_int_eq(m->layers[0].compression, cases[i].c);
        }
}

END_TEST

/* ---- manifests: synthetic documents -------------------------------------- */

#define DESC(mt, d) "{\"mediaType\":\"" mt "\",\"digest\":\"" d "\",\"size\":12}"

/* clang-format off */
static const char docker_manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" PEA_MEDIA_DOCKER_MANIFEST "\","
        "\"config\":" DESC(PEA_MEDIA_DOCKER_CONFIG, DIGEST_A) ",\"layers\":["
        DESC("application/vnd.docker.image.rootfs.diff.tar.gzip", DIGEST_A) ","
        "{\"mediaType\":\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\","
        "\"digest\":\"" SHA256_ABC "\",\"size\":3,\"urls\":[\"https://example.com/l\"]},"
        DESC("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", DIGEST_A) ","
        DESC("application/x-unknown", DIGEST_A) "]}";

/* Distinct digests for the list entries: sha256:111..., sha256:222..., ... */
#define HEX(c) c c c c c c c c c c c c c c c c
#define D(c) "sha256:" HEX(c c c c)
#define ENTRY(d, plat) \
        "{\"mediaType\":\"" PEA_MEDIA_DOCKER_MANIFEST "\",\"digest\":\"" d "\",\"size\":1," \
        "\"platform\":{" plat "}}"

static const char docker_list[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" PEA_MEDIA_DOCKER_LIST "\",\"manifests\":["
        ENTRY(D("1"), "\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"") ","
        ENTRY(D("2"), "\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"") ","
        ENTRY(D("3"), "\"architecture\":\"arm64\",\"os\":\"linux\"") ","
        ENTRY(D("4"), "\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"8\"") ","
        ENTRY(D("5"), "\"architecture\":\"amd64\",\"os\":\"linux\"") ","
        ENTRY(D("6"), "\"architecture\":\"amd64\",\"os\":\"windows\",\"os.version\":\"10.0\"") "]}";

/* clang-format on */

static struct pea_manifest *parse_ok(const char *json, const char *ct)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_manifest *m = NULL;
        ck_assert_msg(pea_manifest_parse(json, strlen(json), ct, NULL, &m, &err) == 0, "%s",
                      err ? err->msg : "");
        return m;
}

START_TEST(manifest_docker)
{
        _cleanup_manifest_ struct pea_manifest *m = parse_ok(docker_manifest, NULL);
        _cleanup_manifest_ struct pea_manifest *l = parse_ok(docker_list, NULL);

        ck_assert_int_eq(m->type, PEA_MANIFEST_DOCKER_V2S2);
        ck_assert_uint_eq(m->n_layers, 4);
        ck_assert_int_eq(m->layers[0].compression, PEA_COMPRESSION_GZIP);
        ck_assert(!m->layers[0].foreign);
        ck_assert_int_eq(m->layers[1].compression, PEA_COMPRESSION_GZIP);
        ck_assert(m->layers[1].foreign);
        ck_assert_str_eq(m->layers[1].urls[0], "https://example.com/l");
        ck_assert_int_eq(m->layers[2].compression, PEA_COMPRESSION_ZSTD);
        ck_assert(m->layers[2].foreign);
        ck_assert_int_eq(m->layers[3].compression, _PEA_COMPRESSION_INVALID);
        ck_assert_str_eq(pea_compression_to_string(PEA_COMPRESSION_ZSTD), "zstd");
        _cleanup_free_ char *own = NULL;
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_digest_data(PEA_DIGEST_SHA256, docker_manifest,
                                         strlen(docker_manifest), &own, &err),
                         0);
        ck_assert_str_eq(m->digest, own);

        ck_assert_int_eq(l->type, PEA_MANIFEST_DOCKER_LIST);
        ck_assert_str_eq(l->manifests[5].platform.os_version, "10.0");
        /* Exact variant first, then older compatible ones, then none. */
        ck_assert_str_eq(select_digest(l, "linux/arm/v7"), D("2"));
        ck_assert_str_eq(select_digest(l, "linux/arm/v6"), D("1"));
        ck_assert_str_eq(select_digest(l, "linux/arm/v8"), D("2"));
        ck_assert_pstr_eq(select_digest(l, "linux/arm/v5"), NULL);
        ck_assert_str_eq(select_digest(l, "linux/arm"), D("2"));
        ck_assert_str_eq(select_digest(l, "linux/armhf"), D("2"));
        /* arm64/v8 wants "v8" (the "8" entry, normalised) before the one without variant. */
        ck_assert_str_eq(select_digest(l, "linux/arm64/v8"), D("4"));
        /* An explicit arm64 without variant prefers the entry without variant. */
        ck_assert_str_eq(select_digest(l, "linux/arm64"), D("3"));
        ck_assert_str_eq(select_digest(l, "linux/amd64"), D("5"));
        ck_assert_str_eq(select_digest(l, "windows/amd64"), D("6"));
        struct pea_platform s390 = {.architecture = (char *)"s390x"};
        const struct pea_descriptor *d = NULL;
        ck_assert_int_eq(pea_manifest_select(l, &s390, &d, &err), -ENOENT);
        ck_assert_str_eq(err->msg, "no image found in manifest list for architecture s390x, "
                                   "variant \"\", OS linux");
}

END_TEST

START_TEST(manifest_detect_type)
{
        static const char oci_bare[] = "{\"schemaVersion\":2,\"config\":" DESC(
                PEA_MEDIA_OCI_CONFIG, DIGEST_A) ",\"layers\":[]}";
        static const char index_bare[] = "{\"schemaVersion\":2,\"manifests\":[]}";
        _cleanup_manifest_ struct pea_manifest *a = parse_ok(oci_bare, NULL);
        _cleanup_manifest_ struct pea_manifest *b =
                parse_ok(oci_bare, PEA_MEDIA_OCI_MANIFEST "; charset=utf-8");
        _cleanup_manifest_ struct pea_manifest *c = parse_ok(index_bare, NULL);
        _cleanup_manifest_ struct pea_manifest *d = parse_ok(index_bare, PEA_MEDIA_DOCKER_LIST);
        _cleanup_manifest_ struct pea_manifest *e =
                parse_ok(docker_manifest, PEA_MEDIA_DOCKER_MANIFEST);
        ck_assert_int_eq(a->type, PEA_MANIFEST_OCI);
        ck_assert_uint_eq(a->n_layers, 0);
        ck_assert_int_eq(b->type, PEA_MANIFEST_OCI);
        ck_assert_int_eq(c->type, PEA_MANIFEST_OCI_INDEX);
        ck_assert_int_eq(d->type, PEA_MANIFEST_DOCKER_LIST);
        ck_assert_int_eq(e->type, PEA_MANIFEST_DOCKER_V2S2);
        ck_assert_int_eq(pea_manifest_type_from_media_type(PEA_MEDIA_OCI_INDEX),
                         PEA_MANIFEST_OCI_INDEX);
        ck_assert_str_eq(pea_manifest_type_to_media_type(PEA_MANIFEST_DOCKER_LIST),
                         PEA_MEDIA_DOCKER_LIST);
}

END_TEST

static void expect_manifest_error(const char *json, size_t len, const char *ct, int code,
                                  const char *msg)
{
        _cleanup_error_ struct pea_error *err = NULL;
        struct pea_manifest *m = NULL;
        ck_assert_int_eq(pea_manifest_parse(json, len, ct, NULL, &m, &err), -code);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(err->msg, msg), "'%s' lacks '%s'", err->msg, msg);
}

#define BAD(json, ct, code, msg) expect_manifest_error(json, strlen(json), ct, code, msg)

START_TEST(manifest_invalid)
{
        /* clang-format off */
        BAD(docker_manifest, PEA_MEDIA_OCI_MANIFEST, EBADMSG, "does not match content type");
        BAD("{\"schemaVersion\":1,\"name\":\"x\"}", NULL, ENOTSUP, "unsupported manifest schema version 1");
        BAD("{\"name\":\"x\"}", NULL, EBADMSG, "'schemaVersion' must be an integer");
        BAD("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.artifact.manifest.v1+json\"}",
            NULL, ENOTSUP, "unsupported manifest media type");
        BAD("{\"schemaVersion\":2,\"manifests\":[]}",
            "application/vnd.docker.distribution.manifest.v1+prettyjws", ENOTSUP,
            "unsupported manifest media type");
        BAD("{\"schemaVersion\":2}", NULL, EBADMSG, "cannot determine the type");
        BAD("{\"schemaVersion\":2,\"mediaType\":\"" PEA_MEDIA_OCI_MANIFEST "\",\"manifests\":[]}",
            NULL, EBADMSG, "must not have 'manifests'");
        BAD("{\"schemaVersion\":2,\"mediaType\":\"" PEA_MEDIA_OCI_INDEX "\",\"manifests\":[],\"layers\":[]}",
            NULL, EBADMSG, "must not have 'layers'");
        BAD("{\"schemaVersion\":2,\"mediaType\":\"" PEA_MEDIA_OCI_MANIFEST "\",\"layers\":[]}",
            NULL, EBADMSG, "'config' is required");
        BAD("{\"schemaVersion\":2,\"config\":" DESC("x", "sha256:abc") ",\"layers\":[]}",
            NULL, EINVAL, "invalid digest 'sha256:abc'");
        BAD("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" DIGEST_A "\",\"size\":-1},\"layers\":[]}",
            NULL, EBADMSG, "'size' must be a non-negative integer");
        BAD("{\"schemaVersion\":2,\"config\":" DESC("x", DIGEST_A) ",\"layers\":[{\"digest\":\"" DIGEST_A "\",\"size\":1}]}",
            NULL, EBADMSG, "manifest layer 1: 'mediaType' and 'digest' are required");
        BAD("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"" DIGEST_A "\",\"size\":1,\"platform\":{\"os\":\"linux\"}}]}",
            NULL, EBADMSG, "platform needs 'os' and 'architecture'");
        BAD("{\"schemaVersion\":2,\"schemaVersion\":2}", NULL, EBADMSG, "duplicate");
        BAD("[1,2]", NULL, EBADMSG, "not a JSON object");
        BAD("{\"schemaVersion\":2,", NULL, EBADMSG, "parsing manifest");
        BAD("{\"schemaVersion\":2,\"config\":" DESC("x", DIGEST_A) ",\"layers\":[],\"annotations\":{\"a\":1}}",
            NULL, EBADMSG, "'annotations' value of 'a' must be a string");
        /* clang-format on */
}

END_TEST

START_TEST(manifest_caps)
{
        /* More than 1000 layers. */
        static const char head[] =
                "{\"schemaVersion\":2,\"config\":" DESC("x", DIGEST_A) ",\"layers\":[";
        static const char layer[] = DESC("application/vnd.oci.image.layer.v1.tar", DIGEST_A) ",";
        size_t nl = PEA_MANIFEST_MAX_LAYERS + 1, off = strlen(head);
        _cleanup_free_ char *many = xmalloc(off + nl * strlen(layer) + 3);
        memcpy(many, head, off);
        for (size_t i = 0; i < nl; i++, off += strlen(layer))
                memcpy(many + off, layer, strlen(layer));
        memcpy(many + off - 1, "]}", 3);
        BAD(many, NULL, E2BIG, "manifest has 1001 layers, at most 1000 are allowed");
        /* More than 4 MiB. */
        size_t big = PEA_MANIFEST_MAX_BYTES + 1;
        _cleanup_free_ char *huge = xmalloc(big);
        memset(huge, ' ', big);
        expect_manifest_error(huge, big, NULL, EFBIG, "manifest is too large");
        /* Nested deeper than 32 levels. */
        _cleanup_free_ char *deep = xstrdup("{\"schemaVersion\":2,\"annotations\":");
        char *s = NULL;
        for (int i = 0; i < 40; i++) {
                s = xasprintf("%s{\"a\":", deep);
                free(deep);
                deep = s;
        }
        s = xasprintf("%s1%.*s}", deep, 40, "}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}");
        free(deep);
        deep = s;
        BAD(deep, NULL, EBADMSG, "nested more than 32 levels");
}

END_TEST

START_TEST(platform_parse)
{
        _cleanup_(pea_platform_done) struct pea_platform p = {}, h = {};
        _cleanup_error_ struct pea_error *err = NULL;
        ck_assert_int_eq(pea_platform_parse("Linux/aarch64/8", &p, &err), 0);
        ck_assert_str_eq(p.os, "linux");
        ck_assert_str_eq(p.architecture, "arm64");
        ck_assert_str_eq(p.variant, "v8");
        static const char *const bad[] = {"linux",   "linux/",       "/amd64",
                                          "a/b/c/d", "linux//amd64", ""};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct pea_platform q = {};
                ck_assert_int_eq(pea_platform_parse(bad[i], &q, &err), -EINVAL);
                ck_assert_ptr_null(q.os);
                pea_error_clear(&err);
        }
        pea_platform_host(&h);
        ck_assert_str_eq(h.os, "linux");
        ck_assert_str_eq(h.architecture, pea_host_arch());
        if (streq(h.architecture, "arm64"))
                ck_assert_str_eq(h.variant, "v8");
        if (streq(h.architecture, "amd64"))
                ck_assert_ptr_null(h.variant);
}

END_TEST

static Suite *image_suite(void)
{
        Suite *s = suite_create("image");
        TCase *tc = tcase_create("image");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, ref_parse_valid);
        tcase_add_test(tc, ref_parse_invalid);
        tcase_add_test(tc, ref_limits);
        tcase_add_test(tc, digest_known);
        tcase_add_test(tc, digest_verify);
        tcase_add_test(tc, digest_validate);
        tcase_add_test(tc, registries_find);
        tcase_add_test(tc, registries_pull_sources);
        tcase_add_test(tc, registries_short_names);
        tcase_add_test(tc, registries_drop_ins);
        tcase_add_test(tc, registries_errors);
        tcase_add_test(tc, registries_v1_and_env);
        tcase_add_test(tc, manifest_multiarch);
        tcase_add_test(tc, manifest_config_fixtures);
        tcase_add_test(tc, manifest_compression_fixtures);
        tcase_add_test(tc, manifest_docker);
        tcase_add_test(tc, manifest_detect_type);
        tcase_add_test(tc, manifest_invalid);
        tcase_add_test(tc, manifest_caps);
        tcase_add_test(tc, platform_parse);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(image_suite());
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed != 0;
}
