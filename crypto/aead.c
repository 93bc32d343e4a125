/*
 * The AEAD table of RFC 8548 §6 and the dispatch to a backend.  Arguments are
 * checked here once, so the backends only translate to their library.
 */
#include "crypto/aead.h"

#include <limits.h>
#include <string.h>

#include <sodium.h>

/* OpenSSL counts bytes in an int; no frame comes near this (TC_FRAME_MAX). */
#define AEAD_IN_MAX ((size_t)INT_MAX - TC_AEAD_TAG_LEN)

/* RFC 8548 §6 Table 3; the algorithms themselves are RFC 5116 §5.1, §5.2 and
 * RFC 8439 §2.8. */
static const struct tc_aead_alg aes_128_gcm = {
    .id = TC_AEAD_AES_128_GCM,
    .name = "AEAD_AES_128_GCM",
    .key_len = 16,
    .nonce_len = TC_AEAD_NONCE_LEN,
    .tag_len = TC_AEAD_TAG_LEN,
};

static const struct tc_aead_alg aes_256_gcm = {
    .id = TC_AEAD_AES_256_GCM,
    .name = "AEAD_AES_256_GCM",
    .key_len = 32,
    .nonce_len = TC_AEAD_NONCE_LEN,
    .tag_len = TC_AEAD_TAG_LEN,
};

static const struct tc_aead_alg chacha20_poly1305 = {
    .id = TC_AEAD_CHACHA20_POLY1305,
    .name = "AEAD_CHACHA20_POLY1305",
    .key_len = 32,
    .nonce_len = TC_AEAD_NONCE_LEN,
    .tag_len = TC_AEAD_TAG_LEN,
};

/* With AES-NI and PCLMULQDQ, GCM is faster than ChaCha20-Poly1305 and runs in
 * constant time; without them, software AES is slow and leaks timing through
 * table lookups, so ChaCha20-Poly1305 comes first. */
static const struct tc_aead_alg *const order_aes_first[] = {
    &aes_128_gcm,
    &aes_256_gcm,
    &chacha20_poly1305,
};

static const struct tc_aead_alg *const order_chacha_first[] = {
    &chacha20_poly1305,
    &aes_128_gcm,
    &aes_256_gcm,
};

const struct tc_aead_alg *tc_aead_find(uint16_t id)
{
    switch (id) {
    case TC_AEAD_AES_128_GCM:
        return &aes_128_gcm;
    case TC_AEAD_AES_256_GCM:
        return &aes_256_gcm;
    case TC_AEAD_CHACHA20_POLY1305:
        return &chacha20_poly1305;
    default:
        return NULL;
    }
}

const struct tc_aead_alg *const *tc_aead_all(size_t *n)
{
    /* libsodium's CPU detection runs in sodium_init(); it sees x86 only, so
     * other architectures put ChaCha20-Poly1305 first. */
    bool aes_hw = sodium_init() >= 0 && sodium_runtime_has_aesni() && sodium_runtime_has_pclmul();

    if (n != NULL) {
        *n = sizeof order_aes_first / sizeof order_aes_first[0];
    }
    return aes_hw ? order_aes_first : order_chacha_first;
}

/*
 * The default backend.  OpenSSL for the GCMs: it supports both key sizes on
 * every CPU (libsodium 1.0.18 has AES-256-GCM only, and only with AES-NI).
 * libsodium for ChaCha20-Poly1305: it checks the tag before it decrypts, so
 * unauthenticated plaintext never reaches the output buffer, and it needs no
 * per-key heap context; OpenSSL decrypts first and checks at EVP_DecryptFinal.
 */
static const struct tc_aead_backend *default_backend(const struct tc_aead_alg *alg)
{
    return alg->id == TC_AEAD_CHACHA20_POLY1305 ? &tc_aead_sodium : &tc_aead_openssl;
}

int tc_aead_key_init(struct tc_aead_key *k, const struct tc_aead_alg *alg,
                     const struct tc_aead_backend *be, const uint8_t *key)
{
    int rc;

    if (k == NULL) {
        return TC_E_INVALID;
    }
    /* k may be uninitialised memory: clear it without releasing anything. */
    memset(k, 0, sizeof *k);
    /* Only our own table entries: the backends trust alg's lengths. */
    if (alg == NULL || tc_aead_find(alg->id) != alg || key == NULL) {
        return TC_E_INVALID;
    }
    if (be == NULL) {
        be = default_backend(alg);
    }
    if (!be->supports(alg->id)) {
        return TC_E_UNSUPPORTED;
    }
    k->alg = alg;
    k->be = be;
    memcpy(k->key, key, alg->key_len);
    rc = be->init(k);
    if (rc != TC_OK) {
        tc_aead_key_wipe(k);
    }
    return rc;
}

/* in and out must be the same buffer or not overlap at all: the libraries
 * process blocks in order and a shifted overlap would read overwritten
 * bytes. */
static bool overlap_ok(const uint8_t *in, size_t inlen, const uint8_t *out, size_t outlen)
{
    uintptr_t i = (uintptr_t)in, o = (uintptr_t)out;

    return inlen == 0 || in == out || i + inlen <= o || o + outlen <= i;
}

int tc_aead_seal(struct tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCE_LEN], const uint8_t *ad,
                 size_t adlen, const uint8_t *in, size_t inlen, uint8_t *out)
{
    if (k == NULL || k->be == NULL || nonce == NULL || out == NULL) {
        return TC_E_INVALID;
    }
    if (inlen > AEAD_IN_MAX || adlen > INT_MAX || (in == NULL && inlen > 0) ||
        (ad == NULL && adlen > 0) || !overlap_ok(in, inlen, out, inlen + TC_AEAD_TAG_LEN)) {
        return TC_E_INVALID;
    }
    return k->be->seal(k, nonce, ad, adlen, in, inlen, out);
}

int tc_aead_open(struct tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCE_LEN], const uint8_t *ad,
                 size_t adlen, const uint8_t *in, size_t inlen, uint8_t *out)
{
    int rc;

    /* Too short to hold a tag is the caller's to catch (RFC 8548 §4.2 frames
     * are at least tag plus flags: TC_E_FRAME_SHORT); here it is a bad
     * argument, and out is not touched because it has no bytes. */
    if (out == NULL || in == NULL || inlen < TC_AEAD_TAG_LEN) {
        return TC_E_INVALID;
    }
    if (k == NULL || k->be == NULL || nonce == NULL || inlen > AEAD_IN_MAX + TC_AEAD_TAG_LEN ||
        adlen > INT_MAX || (ad == NULL && adlen > 0) ||
        !overlap_ok(in, inlen, out, inlen - TC_AEAD_TAG_LEN)) {
        rc = TC_E_INVALID;
    } else {
        rc = k->be->open(k, nonce, ad, adlen, in, inlen, out);
    }
    /* The contract: out holds plaintext only when it was authenticated. */
    if (rc != TC_OK) {
        sodium_memzero(out, inlen - TC_AEAD_TAG_LEN);
    }
    return rc;
}

void tc_aead_key_wipe(struct tc_aead_key *k)
{
    if (k == NULL) {
        return;
    }
    if (k->be != NULL && k->be->release != NULL) {
        k->be->release(k);
    }
    sodium_memzero(k, sizeof *k);
}
