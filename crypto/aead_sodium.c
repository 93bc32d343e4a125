/*
 * The libsodium AEAD backend: ChaCha20-Poly1305 as RFC 8439 §2.8 defines it
 * (libsodium's "ietf" variant: 96-bit nonce, 32-bit block counter) on every
 * CPU, and AES-256-GCM where libsodium 1.0.18 can run it (x86-64 with AES-NI
 * and PCLMULQDQ).  libsodium has no AES-128-GCM.
 *
 * The detached APIs put the tag right after the ciphertext, which is the
 * RFC 5116 §5.1 layout C = ciphertext | tag that the frames carry.
 */
#include "crypto/aead.h"

#include <stdlib.h>

#include <sodium.h>

static bool na_supports(uint16_t id)
{
    /* sodium_init() probes the CPU; the AES-256-GCM code must not run
     * without it (it would fault on a CPU without AES-NI). */
    if (sodium_init() < 0) {
        return false;
    }
    switch (id) {
    case TC_AEAD_CHACHA20_POLY1305:
        return true;
    case TC_AEAD_AES_256_GCM:
        return crypto_aead_aes256gcm_is_available() == 1;
    default:
        return false;
    }
}

TC_MUST_CHECK static int na_init(struct tc_aead_key *k)
{
    crypto_aead_aes256gcm_state *st;

    if (!na_supports(k->alg->id)) {
        return TC_E_UNSUPPORTED;
    }
    if (k->alg->id != TC_AEAD_AES_256_GCM) {
        return TC_OK; /* ChaCha20-Poly1305 keys each message from k->key */
    }
    /* Expand the AES key once; the state is 16-byte aligned and a multiple
     * of 16 bytes long, as aligned_alloc requires. */
    st = aligned_alloc(16, sizeof *st);
    if (st == NULL) {
        return TC_E_NOMEM;
    }
    if (crypto_aead_aes256gcm_beforenm(st, k->key) != 0) {
        sodium_memzero(st, sizeof *st);
        free(st);
        return TC_E_BACKEND;
    }
    k->ctx = st;
    return TC_OK;
}

TC_MUST_CHECK static int na_seal(struct tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCE_LEN],
                                 const uint8_t *ad, size_t adlen, const uint8_t *in, size_t inlen,
                                 uint8_t *out)
{
    unsigned long long maclen = 0;
    int ret;

    if (k->alg->id == TC_AEAD_CHACHA20_POLY1305) {
        ret = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
            out, out + inlen, &maclen, in, inlen, ad, adlen, NULL, nonce, k->key);
    } else {
        ret = crypto_aead_aes256gcm_encrypt_detached_afternm(out, out + inlen, &maclen, in, inlen,
                                                             ad, adlen, NULL, nonce, k->ctx);
    }
    if (ret != 0 || maclen != TC_AEAD_TAG_LEN) {
        return TC_E_BACKEND;
    }
    return TC_OK;
}

/*
 * Both functions compute the tag over AD and ciphertext and compare it in
 * constant time; ChaCha20-Poly1305 decrypts only after the tag matched.  A
 * nonzero return means the tag did not match: no other failure exists for
 * lengths the dispatcher has already bounded.
 */
TC_MUST_CHECK static int na_open(struct tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCE_LEN],
                                 const uint8_t *ad, size_t adlen, const uint8_t *in, size_t inlen,
                                 uint8_t *out)
{
    size_t clen = inlen - TC_AEAD_TAG_LEN;
    int ret;

    if (k->alg->id == TC_AEAD_CHACHA20_POLY1305) {
        ret = crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, in, clen, in + clen, ad,
                                                                 adlen, nonce, k->key);
    } else {
        ret = crypto_aead_aes256gcm_decrypt_detached_afternm(out, NULL, in, clen, in + clen, ad,
                                                             adlen, nonce, k->ctx);
    }
    if (ret != 0) {
        sodium_memzero(out, clen);
        return TC_E_AUTH;
    }
    return TC_OK;
}

static void na_release(struct tc_aead_key *k)
{
    if (k->ctx != NULL) {
        sodium_memzero(k->ctx, sizeof(crypto_aead_aes256gcm_state));
        free(k->ctx);
        k->ctx = NULL;
    }
}

const struct tc_aead_backend tc_aead_sodium = {
    .name = "libsodium",
    .supports = na_supports,
    .init = na_init,
    .seal = na_seal,
    .open = na_open,
    .release = na_release,
};
