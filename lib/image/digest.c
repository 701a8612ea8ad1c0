/* SPDX-License-Identifier: Apache-2.0 */
/* Content digests ("sha256:<hex>") with nettle (sha.h), validated like go-digest. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "base.h"
#include "image-internal.h"
#include "image.h"
#include "sha.h"

#define DIGEST_MAX_BYTES 64

static const struct {
        const char *name;
        enum pea_sha_alg sha;
        size_t bytes;
} algorithms[_PEA_DIGEST_ALGORITHM_MAX] = {
        [PEA_DIGEST_SHA256] = {"sha256", PEA_SHA256, 32},
        [PEA_DIGEST_SHA384] = {"sha384", PEA_SHA384, 48},
        [PEA_DIGEST_SHA512] = {"sha512", PEA_SHA512, 64},
};

struct pea_digester {
        struct pea_sha h;
        enum pea_digest_algorithm a;
        bool finished;
};

const char *pea_digest_algorithm_to_string(enum pea_digest_algorithm a)
{
        if (a < 0 || a >= _PEA_DIGEST_ALGORITHM_MAX)
                return NULL;
        return algorithms[a].name;
}

static enum pea_digest_algorithm algorithm_from_prefix(const char *s, size_t n)
{
        for (size_t i = 0; i < ELEMENTSOF(algorithms); i++)
                if (strlen(algorithms[i].name) == n && !memcmp(algorithms[i].name, s, n))
                        return (enum pea_digest_algorithm)i;
        return _PEA_DIGEST_ALGORITHM_INVALID;
}

enum pea_digest_algorithm pea_digest_algorithm_from_string(const char *s)
{
        return algorithm_from_prefix(s, strlen(s));
}

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* go-digest's DigestRegexp: [a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+ */
static bool digest_regexp_match(const char *s)
{
        const char *p = s;

        for (;;) {
                if (!is_lower_alnum(*p))
                        return false;
                while (is_lower_alnum(*p))
                        p++;
                if (*p == ':')
                        break;
                if (*p == '\0' || !strchr(".+_-", *p))
                        return false;
                p++;
        }
        if (*++p == '\0')
                return false;
        for (; *p; p++)
                if (!is_lower_alnum(*p) && !(*p >= 'A' && *p <= 'Z') && !strchr("=_-", *p))
                        return false;
        return true;
}

const char *image_digest_problem(const char *s)
{
        const char *colon = strchr(s, ':');

        if (!colon || colon == s || colon[1] == '\0')
                return "invalid checksum digest format";
        enum pea_digest_algorithm a = algorithm_from_prefix(s, colon - s);
        if (a < 0)
                return digest_regexp_match(s) ? "unsupported digest algorithm"
                                              : "invalid checksum digest format";
        if (strlen(colon + 1) != algorithms[a].bytes * 2)
                return "invalid checksum digest length";
        for (const char *p = colon + 1; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return "invalid checksum digest format";
        return NULL;
}

int pea_digest_validate(const char *digest, struct pea_error **err)
{
        const char *problem = image_digest_problem(digest);

        if (problem)
                return pea_error_set(err, EINVAL, "invalid digest '%s': %s", digest, problem);
        return 0;
}

const char *pea_digest_hex(const char *digest)
{
        const char *colon = strchr(digest, ':');

        return colon ? colon + 1 : digest;
}

static char *format_digest(enum pea_digest_algorithm a, const unsigned char *out)
{
        static const char hex[] = "0123456789abcdef";
        size_t n = algorithms[a].bytes, prefix = strlen(algorithms[a].name) + 1;
        char *s = xmalloc(prefix + 2 * n + 1);

        memcpy(s, algorithms[a].name, prefix - 1);
        s[prefix - 1] = ':';
        for (size_t i = 0; i < n; i++) {
                s[prefix + 2 * i] = hex[out[i] >> 4];
                s[prefix + 2 * i + 1] = hex[out[i] & 15];
        }
        s[prefix + 2 * n] = '\0';
        return s;
}

int pea_digester_new(enum pea_digest_algorithm a, struct pea_digester **ret, struct pea_error **err)
{
        if (a < 0 || a >= _PEA_DIGEST_ALGORITHM_MAX)
                return pea_error_set(err, EINVAL, "unsupported digest algorithm");
        struct pea_digester *d = xmalloc(sizeof(*d));
        *d = (struct pea_digester){.a = a};
        pea_sha_init(&d->h, algorithms[a].sha);
        *ret = d;
        return 0;
}

int pea_digester_new_for(const char *expected, struct pea_digester **ret, struct pea_error **err)
{
        int r = pea_digest_validate(expected, err);

        if (r < 0)
                return r;
        return pea_digester_new(algorithm_from_prefix(expected, strcspn(expected, ":")), ret, err);
}

int pea_digester_update(struct pea_digester *d, const void *data, size_t len,
                        struct pea_error **err)
{
        if (d->finished)
                return pea_error_set(err, EINVAL, "digest already finalised");
        if (len == 0)
                return 0;
        pea_sha_update(&d->h, data, len);
        return 0;
}

int pea_digester_final(struct pea_digester *d, char **ret, struct pea_error **err)
{
        unsigned char out[DIGEST_MAX_BYTES];

        if (d->finished)
                return pea_error_set(err, EINVAL, "digest already finalised");
        pea_sha_final(&d->h, out);
        d->finished = true;
        *ret = format_digest(d->a, out);
        return 0;
}

static int compare(const char *expected, const char *got, struct pea_error **err)
{
        if (!streq(expected, got))
                return pea_error_set(err, EBADMSG, "digest mismatch: expected '%s', got '%s'",
                                     expected, got);
        return 0;
}

int pea_digester_verify(struct pea_digester *d, const char *expected, struct pea_error **err)
{
        _cleanup_free_ char *got = NULL;
        int r = pea_digester_final(d, &got, err);

        if (r < 0)
                return r;
        return compare(expected, got, err);
}

struct pea_digester *pea_digester_free(struct pea_digester *d)
{
        if (!d)
                return NULL;
        free(d);
        return NULL;
}

int pea_digest_data(enum pea_digest_algorithm a, const void *data, size_t len, char **ret,
                    struct pea_error **err)
{
        unsigned char out[DIGEST_MAX_BYTES];

        if (a < 0 || a >= _PEA_DIGEST_ALGORITHM_MAX)
                return pea_error_set(err, EINVAL, "unsupported digest algorithm");
        pea_sha_buffer(algorithms[a].sha, data ? data : "", len, out);
        *ret = format_digest(a, out);
        return 0;
}

int pea_digest_verify(const char *expected, const void *data, size_t len, struct pea_error **err)
{
        _cleanup_free_ char *got = NULL;
        int r = pea_digest_validate(expected, err);

        if (r < 0)
                return r;
        r = pea_digest_data(algorithm_from_prefix(expected, strcspn(expected, ":")), data, len,
                            &got, err);
        if (r < 0)
                return r;
        return compare(expected, got, err);
}
