/*
 * Randomness is injected: every function that needs random bytes takes a
 * struct tc_rng, so tests and fuzzers are deterministic and the daemon can
 * refuse to negotiate until its source is seeded (RFC 8547 §7.1).
 */
#ifndef TCPCRYPT_CRYPTO_RNG_H
#define TCPCRYPT_CRYPTO_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/err.h"

struct tc_rng {
    /* Fill buf with len random bytes; return TC_OK or TC_E_RANDOM. */
    int (*fill)(void *ctx, uint8_t *buf, size_t len);
    void *ctx;
};

/* The operating system's generator (libsodium's randombytes). */
extern const struct tc_rng tc_rng_system;

TC_MUST_CHECK static inline int tc_random(const struct tc_rng *rng, uint8_t *buf, size_t len)
{
    return rng->fill(rng->ctx, buf, len);
}

#endif
