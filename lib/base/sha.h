/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * SHA-2 with nettle (what GnuTLS uses underneath, without GnuTLS's start-up
 * cost). No failure modes: nettle's SHA-2 neither allocates nor fails.
 */

#include <nettle/sha2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The values are GnuTLS's gnutls_digest_algorithm_t ones (GNUTLS_DIG_SHA256 6,
 * SHA384 7, SHA512 8), so code that stored those keeps working. */
enum pea_sha_alg {
        PEA_SHA256 = 6,
        PEA_SHA384 = 7,
        PEA_SHA512 = 8,
};

#define PEA_SHA_MAX_BYTES 64
/* "sha512:" + 128 hex digits + NUL */
#define PEA_SHA_MAX_HEX (7 + 2 * PEA_SHA_MAX_BYTES + 1)

struct pea_sha {
        enum pea_sha_alg alg;

        union {
                struct sha256_ctx sha256;
                struct sha512_ctx sha512; /* also SHA-384 */
        } ctx;
};

/* "sha256", "sha384", "sha512"; NULL for anything else. */
const char *pea_sha_name(enum pea_sha_alg alg);
/* Digest size in bytes (32, 48, 64); 0 for anything else. */
size_t pea_sha_size(enum pea_sha_alg alg);

/* alg must be one of the enum values (anything else aborts: a programming error). */
void pea_sha_init(struct pea_sha *s, enum pea_sha_alg alg);
void pea_sha_update(struct pea_sha *s, const void *data, size_t len);
/* Writes pea_sha_size() bytes to out and resets s for a new message. */
void pea_sha_final(struct pea_sha *s, uint8_t *out);
/* Writes the lowercase hex digest (2 * size + 1 bytes with the NUL; at most
 * PEA_SHA_MAX_HEX with the prefix) to hex,
 * prefixed by "<name>:" if with_prefix; resets s. */
void pea_sha_final_hex(struct pea_sha *s, bool with_prefix, char *hex);
/* One-shot: pea_sha_size() bytes of the digest of data to out. */
void pea_sha_buffer(enum pea_sha_alg alg, const void *data, size_t len, uint8_t *out);
