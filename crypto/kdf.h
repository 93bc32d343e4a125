/*
 * HMAC-SHA256 and HKDF (RFC 5869) as RFC 8548 §2 uses them:
 *   Extract(salt, IKM) = HKDF-Extract, the IKM given in pieces;
 *   CPRF(K, CONST, L)  = HKDF-Expand(PRK = K, info = CONST | sn, L).
 */
#ifndef TCPCRYPT_CRYPTO_KDF_H
#define TCPCRYPT_CRYPTO_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/err.h"

#define TC_SHA256_LEN 32
#define TC_HKDF_MAX_OUT (255 * TC_SHA256_LEN)

struct tc_iovec {
    const uint8_t *p;
    size_t len;
};

/* out = HMAC-SHA256(key, concatenation of the n pieces). */
void tc_hmac_sha256(uint8_t out[TC_SHA256_LEN], const uint8_t *key, size_t keylen,
                    const struct tc_iovec *pieces, size_t n);

/* prk = HKDF-Extract(salt, concatenation of the n IKM pieces). */
void tc_hkdf_extract(uint8_t prk[TC_SHA256_LEN], const uint8_t *salt, size_t saltlen,
                     const struct tc_iovec *ikm, size_t n);

/* out = first len bytes of HKDF-Expand(prk, info); len <= TC_HKDF_MAX_OUT. */
TC_MUST_CHECK int tc_hkdf_expand(uint8_t *out, size_t len, const uint8_t *prk, size_t prklen,
                                 const uint8_t *info, size_t infolen);

#endif
