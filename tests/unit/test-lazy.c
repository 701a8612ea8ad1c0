/* SPDX-License-Identifier: Apache-2.0 */
/* lib/base/sha.c (nettle SHA-2) and lib/base/lazy*.c (dlopen'ed libarchive, libcurl). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <curl/curl.h>

#include "base.h"
#include "lazy.h"
#include "sha.h"

static void hex_of(enum pea_sha_alg alg, const char *msg, bool prefix, char *out)
{
        struct pea_sha s;

        pea_sha_init(&s, alg);
        /* in two pieces, to exercise update */
        pea_sha_update(&s, msg, strlen(msg) / 2);
        pea_sha_update(&s, msg + strlen(msg) / 2, strlen(msg) - strlen(msg) / 2);
        pea_sha_final_hex(&s, prefix, out);
}

START_TEST(test_sha_vectors)
{
        char hex[PEA_SHA_MAX_HEX];

        hex_of(PEA_SHA256, "abc", true, hex);
        ck_assert_str_eq(hex,
                         "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        hex_of(PEA_SHA256, "", false, hex);
        ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        hex_of(PEA_SHA384, "abc", true, hex);
        ck_assert_str_eq(hex,
                         "sha384:cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                         "8086072ba1e7cc2358baeca134c825a7");
        hex_of(PEA_SHA512, "abc", true, hex);
        ck_assert_str_eq(hex,
                         "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                         "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
        ck_assert_uint_eq(pea_sha_size(PEA_SHA384), 48);
        ck_assert_str_eq(pea_sha_name(PEA_SHA512), "sha512");
        ck_assert_ptr_null(pea_sha_name((enum pea_sha_alg)0));
}

END_TEST

START_TEST(test_sha_buffer_matches_stream)
{
        uint8_t a[32], b[32];
        struct pea_sha s;
        char *big = xmalloc(1 << 20);

        for (size_t i = 0; i < (1 << 20); i++)
                big[i] = (char)(i * 7);
        pea_sha_buffer(PEA_SHA256, big, 1 << 20, a);
        pea_sha_init(&s, PEA_SHA256);
        for (size_t off = 0; off < (1 << 20); off += 4099)
                pea_sha_update(&s, big + off, (1 << 20) - off < 4099 ? (1 << 20) - off : 4099);
        pea_sha_final(&s, b);
        ck_assert_mem_eq(a, b, 32);
        free(big);
}

END_TEST

START_TEST(test_lazy_missing_library)
{
        static struct pea_lazy_lib none = PEA_LAZY_LIB("libpea-does-not-exist.so.0");

        ck_assert(!pea_lazy_available(&none));
        ck_assert_ptr_null(pea_lazy_sym(&none, "anything"));
        ck_assert_ptr_null(pea_lazy_sym(&none, "anything"));
}

END_TEST

START_TEST(test_lazy_archive_roundtrip)
{
        char buf[4096];
        size_t used = 0;
        struct archive *w = archive_write_new();
        struct archive_entry *e = archive_entry_new();

        ck_assert_ptr_nonnull(w);
        ck_assert_int_eq(archive_write_set_format_pax_restricted(w), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_open_memory(w, buf, sizeof(buf), &used), ARCHIVE_OK);
        archive_entry_set_pathname(e, "hello.txt");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, 2);
        ck_assert_int_eq(archive_write_header(w, e), ARCHIVE_OK);
        ck_assert_int_eq(archive_write_data(w, "hi", 2), 2);
        ck_assert_int_eq(archive_write_close(w), ARCHIVE_OK);
        archive_write_free(w);
        archive_entry_free(e);

        struct archive *r = archive_read_new();
        struct archive_entry *got = NULL;
        char data[8] = {0};
        ck_assert_int_eq(archive_read_support_format_tar(r), ARCHIVE_OK);
        ck_assert_int_eq(archive_read_open_memory(r, buf, used), ARCHIVE_OK);
        ck_assert_int_eq(archive_read_next_header(r, &got), ARCHIVE_OK);
        ck_assert_str_eq(archive_entry_pathname(got), "hello.txt");
        ck_assert_int_eq(archive_entry_perm(got), 0644);
        ck_assert_int_eq(archive_read_data(r, data, sizeof(data)), 2);
        ck_assert_str_eq(data, "hi");
        archive_set_error(r, EPERM, "custom %s %d", "error", 42);
        ck_assert_str_eq(archive_error_string(r), "custom error 42");
        ck_assert_int_eq(archive_errno(r), EPERM);
        archive_read_free(r);
}

END_TEST

struct sink {
        char data[64];
        size_t len;
};

static size_t sink_write(char *buf, size_t size, size_t n, void *userdata)
{
        struct sink *s = userdata;
        size_t l = size * n;

        if (s->len + l >= sizeof(s->data))
                return 0;
        memcpy(s->data + s->len, buf, l);
        s->len += l;
        return l;
}

/* Every setopt type class (long, string/object, function, off_t) and getinfo
 * (pointer to long, off_t, ptr) through the stubs, on a file:// URL. */
START_TEST(test_lazy_curl_file)
{
        char path[] = "/tmp/pea-test-lazy-XXXXXX";
        int fd = mkstemp(path);
        struct sink s = {0};
        long code = -1;
        curl_off_t size = -1;
        char *priv = NULL;

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "hello lazy\n", 11), 11);
        close(fd);
        ck_assert_int_eq(curl_global_init(CURL_GLOBAL_ALL), CURLE_OK);
        CURL *c = curl_easy_init();
        ck_assert_ptr_nonnull(c);
        _cleanup_free_ char *url = xasprintf("file://%s", path);
        ck_assert_int_eq(curl_easy_setopt(c, CURLOPT_URL, url), CURLE_OK);
        ck_assert_int_eq(curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "file"), CURLE_OK);
        ck_assert_int_eq(curl_easy_setopt(c, CURLOPT_PRIVATE, path), CURLE_OK);
        ck_assert_int_eq(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write), CURLE_OK);
        ck_assert_int_eq(curl_easy_setopt(c, CURLOPT_WRITEDATA, &s), CURLE_OK);
        ck_assert_int_eq(curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L), CURLE_OK);
        ck_assert_int_eq(curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)6), CURLE_OK);
        ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
        ck_assert_uint_eq(s.len, 5);
        ck_assert_mem_eq(s.data, "lazy\n", 5);
        s.len = 0;
        ck_assert_int_eq(curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)0), CURLE_OK);
        ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
        ck_assert_uint_eq(s.len, 11);
        ck_assert_mem_eq(s.data, "hello lazy\n", 11);
        ck_assert_int_eq(curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code), CURLE_OK);
        ck_assert_int_eq(code, 0);
        ck_assert_int_eq(curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &size), CURLE_OK);
        ck_assert_int_eq(size, 11);
        ck_assert_int_eq(curl_easy_getinfo(c, CURLINFO_PRIVATE, &priv), CURLE_OK);
        ck_assert_ptr_eq(priv, path);
        ck_assert_str_eq(curl_easy_strerror(CURLE_OK), "No error");
        curl_easy_cleanup(c);
        unlink(path);
}

END_TEST

START_TEST(test_lazy_curl_share_url)
{
        CURLSH *sh = curl_share_init();
        CURLU *u = curl_url();
        char *got = NULL;

        ck_assert_ptr_nonnull(sh);
        ck_assert_int_eq(curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS), CURLSHE_OK);
        ck_assert_int_eq(curl_share_setopt(sh, CURLSHOPT_USERDATA, u), CURLSHE_OK);
        ck_assert_int_eq(curl_share_setopt(sh, (CURLSHoption)999, NULL), CURLSHE_BAD_OPTION);
        ck_assert_int_eq(curl_share_cleanup(sh), CURLSHE_OK);
        ck_assert_int_eq(curl_url_set(u, CURLUPART_URL, "https://example.org/a?b=c", 0), CURLUE_OK);
        ck_assert_int_eq(curl_url_get(u, CURLUPART_HOST, &got, 0), CURLUE_OK);
        ck_assert_str_eq(got, "example.org");
        curl_free(got);
        struct curl_slist *l = curl_slist_append(NULL, "X-A: b");
        ck_assert_ptr_nonnull(l);
        ck_assert_str_eq(l->data, "X-A: b");
        curl_slist_free_all(l);
        curl_url_cleanup(u);
}

END_TEST

static Suite *lazy_suite(void)
{
        Suite *s = suite_create("lazy");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_sha_vectors);
        tcase_add_test(tc, test_sha_buffer_matches_stream);
        tcase_add_test(tc, test_lazy_missing_library);
        tcase_add_test(tc, test_lazy_archive_roundtrip);
        tcase_add_test(tc, test_lazy_curl_file);
        tcase_add_test(tc, test_lazy_curl_share_url);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(lazy_suite());

        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed != 0;
}
