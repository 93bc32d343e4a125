/*
 * The AEAD algorithms of RFC 8548 §6 behind one table, with pluggable
 * backends (OpenSSL 3 and libsodium).  A tc_aead_key is a keyed context ready
 * to seal or open many messages; all three algorithms take a 12-byte nonce
 * and produce a 16-byte tag appended to the ciphertext.
 */
#ifndef TCPCRYPT_CRYPTO_AEAD_H
#define TCPCRYPT_CRYPTO_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/err.h"
#include "crypto/wire.h"

struct tc_aead_key;

struct tc_aead_backend {
    const char *name;
    /* False when this backend cannot run the algorithm on this machine. */
    bool (*supports)(uint16_t aead_id);
    int (*init)(struct tc_aead_key *k);
    /* out receives inlen bytes of ciphertext followed by the tag; in and out
     * may be the same buffer. */
    int (*seal)(struct tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCE_LEN],
                const uint8_t *ad, size_t adlen, const uint8_t *in, size_t inlen, uint8_t *out);
    /* in holds inlen bytes of ciphertext and tag; out receives inlen - 16
     * bytes, or zeros when verification fails (TC_E_AUTH). */
    int (*open)(struct tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCE_LEN],
                const uint8_t *ad, size_t adlen, const uint8_t *in, size_t inlen, uint8_t *out);
    void (*release)(struct tc_aead_key *k);
};

struct tc_aead_alg {
    uint16_t id;
    const char *name;
    size_t key_len;   /* ae_key_len */
    size_t nonce_len; /* ae_nonce_len */
    size_t tag_len;
};

struct tc_aead_key {
    const struct tc_aead_alg *alg;
    const struct tc_aead_backend *be;
    uint8_t key[TC_AEAD_KEY_MAX];
    void *ctx; /* backend state, e.g. an EVP_CIPHER_CTX */
};

extern const struct tc_aead_backend tc_aead_openssl;
extern const struct tc_aead_backend tc_aead_sodium;

/* The algorithm for a wire identifier, or NULL if not implemented. */
const struct tc_aead_alg *tc_aead_find(uint16_t id);

/* All implemented algorithms, in this host's default order of preference
 * (most preferred first), and how many there are. */
const struct tc_aead_alg *const *tc_aead_all(size_t *n);

/* Key a context with the default backend for the algorithm (be == NULL) or
 * the one given.  key holds alg->key_len bytes. */
TC_MUST_CHECK int tc_aead_key_init(struct tc_aead_key *k, const struct tc_aead_alg *alg,
                                   const struct tc_aead_backend *be, const uint8_t *key);
TC_MUST_CHECK int tc_aead_seal(struct tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCE_LEN],
                               const uint8_t *ad, size_t adlen, const uint8_t *in, size_t inlen,
                               uint8_t *out);
TC_MUST_CHECK int tc_aead_open(struct tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCE_LEN],
                               const uint8_t *ad, size_t adlen, const uint8_t *in, size_t inlen,
                               uint8_t *out);
/* Free backend state and wipe the key. Safe on a zeroed or released key. */
void tc_aead_key_wipe(struct tc_aead_key *k);

#endif
