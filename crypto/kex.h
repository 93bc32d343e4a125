/*
 * Key agreement for the four tcpcrypt TEPs (RFC 8548 §5): key generation
 * from injected randomness, the public key's wire encoding, validation of the
 * peer's key, and the shared secret ES.
 */
#ifndef TCPCRYPT_CRYPTO_KEX_H
#define TCPCRYPT_CRYPTO_KEX_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/err.h"
#include "crypto/rng.h"
#include "crypto/wire.h"

struct tc_kex {
    uint8_t tep; /* v = 0 identifier */
    const char *name;
    size_t priv_len; /* raw private key: X25519/X448 scalar bytes, P-curves big-endian scalar */
    size_t pub_len;  /* on the wire, including the P-curves' two-byte length */
    size_t es_len;   /* shared secret ES */
    /* pub = public key for priv, in its wire encoding. */
    int (*public_key)(uint8_t *pub, const uint8_t *priv);
    /* es = DH(priv, peer_pub); validates peer_pub (pub_len bytes). */
    int (*shared)(uint8_t *es, const uint8_t *priv, const uint8_t *peer_pub);
};

/* The TEP for an identifier (the v bit is ignored), or NULL. */
const struct tc_kex *tc_kex_find(uint8_t tep);

/* A fresh key pair: priv_len random bytes (rejection-sampled below the group
 * order for the P-curves) and its public key. */
TC_MUST_CHECK int tc_kex_keygen(const struct tc_kex *kx, const struct tc_rng *rng,
                                uint8_t priv[TC_PRIV_MAX], uint8_t pub[TC_PUB_MAX]);
TC_MUST_CHECK int tc_kex_public(const struct tc_kex *kx, uint8_t pub[TC_PUB_MAX],
                                const uint8_t *priv);
/* Returns TC_E_BAD_PUBKEY for an invalid peer key and TC_E_ZERO_SECRET for an
 * all-zero X25519/X448 result; es is zeroed on failure. */
TC_MUST_CHECK int tc_kex_shared(const struct tc_kex *kx, uint8_t es[TC_ES_MAX],
                                const uint8_t *priv, const uint8_t *peer_pub);

/* The X25519 function through the other library, for cross-backend tests:
 * OpenSSL here, libsodium in the table. */
TC_MUST_CHECK int tc_x25519_openssl(uint8_t out[32], const uint8_t scalar[32],
                                    const uint8_t point[32]);
/* Raw RFC 7748 functions, for the iterated test: no all-zero check. */
TC_MUST_CHECK int tc_x25519_raw(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32]);
TC_MUST_CHECK int tc_x448_raw(uint8_t out[56], const uint8_t scalar[56], const uint8_t point[56]);

#endif
