/*
 * The key-exchange messages Init1 and Init2 (RFC 8548 §3.3, §4.1), and B's
 * choice of AEAD.  Decoders read from the start of a byte stream: they return
 * TC_WANT_MORE until the whole message is there, then consume exactly
 * message_len bytes, trailing "ignored" bytes included.
 */
#ifndef TCPCRYPT_CRYPTO_INIT_H
#define TCPCRYPT_CRYPTO_INIT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/err.h"
#include "crypto/kex.h"
#include "crypto/wire.h"

/* Local policy: the longest Init message accepted, ignored tail included.
 * The RFC sets no bound; the fields themselves need at most 620 bytes. */
#define TC_INIT_MAX_LEN 4096
#define TC_CIPHERS_MAX 255 /* nciphers is one byte */

struct tc_init1 {
    size_t len; /* message_len: bytes the message occupies in the stream */
    size_t nciphers;
    uint16_t ciphers[TC_CIPHERS_MAX];
    uint8_t n_a[TC_NONCE_LEN];
    uint8_t pub[TC_PUB_MAX]; /* kx->pub_len bytes, wire encoding */
};

struct tc_init2 {
    size_t len;
    uint16_t cipher;
    uint8_t n_b[TC_NONCE_LEN];
    uint8_t pub[TC_PUB_MAX];
};

/* Encoded sizes, as this host sends them (empty ignored field). */
size_t tc_init1_size(const struct tc_kex *kx, size_t nciphers);
size_t tc_init2_size(const struct tc_kex *kx);

TC_MUST_CHECK int tc_init1_encode(uint8_t *out, size_t cap, size_t *outlen, const struct tc_kex *kx,
                                  const uint16_t *ciphers, size_t nciphers,
                                  const uint8_t n_a[TC_NONCE_LEN], const uint8_t *pub);
TC_MUST_CHECK int tc_init2_encode(uint8_t *out, size_t cap, size_t *outlen, const struct tc_kex *kx,
                                  uint16_t cipher, const uint8_t n_b[TC_NONCE_LEN],
                                  const uint8_t *pub);

/* Decode Init1 from the first len bytes of B's receive stream. */
TC_MUST_CHECK int tc_init1_decode(const uint8_t *buf, size_t len, const struct tc_kex *kx,
                                  struct tc_init1 *out);
/* Decode Init2; A passes the list it offered, and a cipher not in it is
 * TC_E_CIPHER_NOT_OFFERED (RFC 8548 §3.3 MUST abort). */
TC_MUST_CHECK int tc_init2_decode(const uint8_t *buf, size_t len, const struct tc_kex *kx,
                                  const uint16_t *offered, size_t noffered, struct tc_init2 *out);

/* B's choice: the first of its preferences (most preferred first) that A
 * offered and this host implements; TC_E_NO_COMMON_CIPHER if none. */
TC_MUST_CHECK int tc_aead_choose(uint16_t *chosen, const uint16_t *offered, size_t noffered,
                                 const uint16_t *prefs, size_t nprefs);

#endif
