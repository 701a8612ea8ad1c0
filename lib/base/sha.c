/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-2 digests with nettle: see sha.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sha.h"

const char *pea_sha_name(enum pea_sha_alg alg)
{
        switch (alg) {
        case PEA_SHA256:
                return "sha256";
        case PEA_SHA384:
                return "sha384";
        case PEA_SHA512:
                return "sha512";
        default:
                return NULL;
        }
}

size_t pea_sha_size(enum pea_sha_alg alg)
{
        switch (alg) {
        case PEA_SHA256:
                return SHA256_DIGEST_SIZE;
        case PEA_SHA384:
                return SHA384_DIGEST_SIZE;
        case PEA_SHA512:
                return SHA512_DIGEST_SIZE;
        default:
                return 0;
        }
}

void pea_sha_init(struct pea_sha *s, enum pea_sha_alg alg)
{
        s->alg = alg;
        switch (alg) {
        case PEA_SHA256:
                sha256_init(&s->ctx.sha256);
                break;
        case PEA_SHA384:
                sha384_init(&s->ctx.sha512);
                break;
        case PEA_SHA512:
                sha512_init(&s->ctx.sha512);
                break;
        default:
                abort();
        }
}

void pea_sha_update(struct pea_sha *s, const void *data, size_t len)
{
        if (len == 0)
                return;
        if (s->alg == PEA_SHA256)
                sha256_update(&s->ctx.sha256, len, data);
        else
                sha512_update(&s->ctx.sha512, len, data); /* sha384_update is the same */
}

void pea_sha_final(struct pea_sha *s, uint8_t *out)
{
        switch (s->alg) {
        case PEA_SHA256:
                sha256_digest(&s->ctx.sha256, SHA256_DIGEST_SIZE, out);
                break;
        case PEA_SHA384:
                sha384_digest(&s->ctx.sha512, SHA384_DIGEST_SIZE, out);
                break;
        case PEA_SHA512:
                sha512_digest(&s->ctx.sha512, SHA512_DIGEST_SIZE, out);
                break;
        default:
                abort();
        }
}

void pea_sha_final_hex(struct pea_sha *s, bool with_prefix, char *hex)
{
        static const char digits[] = "0123456789abcdef";
        uint8_t md[PEA_SHA_MAX_BYTES];
        size_t n = pea_sha_size(s->alg);
        char *p = hex;

        pea_sha_final(s, md);
        if (with_prefix) {
                const char *name = pea_sha_name(s->alg);
                size_t l = strlen(name);
                memcpy(p, name, l);
                p[l] = ':';
                p += l + 1;
        }
        for (size_t i = 0; i < n; i++) {
                *p++ = digits[md[i] >> 4];
                *p++ = digits[md[i] & 15];
        }
        *p = '\0';
}

void pea_sha_buffer(enum pea_sha_alg alg, const void *data, size_t len, uint8_t *out)
{
        struct pea_sha s;

        pea_sha_init(&s, alg);
        pea_sha_update(&s, data, len);
        pea_sha_final(&s, out);
}
