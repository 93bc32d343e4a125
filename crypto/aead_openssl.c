/*
 * The OpenSSL 3 AEAD backend: AES-128-GCM, AES-256-GCM (RFC 5116 §5.1, §5.2)
 * and ChaCha20-Poly1305 (RFC 8439 §2.8).
 *
 * One EVP_CIPHER_CTX per key, keyed once (the AES key schedule and GHASH
 * table, or the ChaCha20 key, are computed here and not per frame); each
 * message only sets the nonce.  A key is used by one thread at a time.
 *
 * Errors raised inside OpenSSL are popped before returning, so nothing is
 * left on the error queue of the process we run in.
 */
#include "crypto/aead.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

static EVP_CIPHER *fetch_cipher(uint16_t id)
{
    const char *name;

    switch (id) {
    case TC_AEAD_AES_128_GCM:
        name = "AES-128-GCM";
        break;
    case TC_AEAD_AES_256_GCM:
        name = "AES-256-GCM";
        break;
    case TC_AEAD_CHACHA20_POLY1305:
        name = "ChaCha20-Poly1305";
        break;
    default:
        return NULL;
    }
    return EVP_CIPHER_fetch(NULL, name, NULL);
}

/* Whether the loaded providers implement the algorithm (e.g. a FIPS-only
 * configuration has no ChaCha20-Poly1305). */
static bool ossl_supports(uint16_t id)
{
    EVP_CIPHER *c;

    ERR_set_mark();
    c = fetch_cipher(id);
    ERR_pop_to_mark();
    EVP_CIPHER_free(c);
    return c != NULL;
}

TC_MUST_CHECK static int ossl_init(struct tc_aead_key *k)
{
    EVP_CIPHER *cipher;
    EVP_CIPHER_CTX *ctx = NULL;
    int rc = TC_E_BACKEND;

    ERR_set_mark();
    cipher = fetch_cipher(k->alg->id);
    if (cipher == NULL) {
        rc = TC_E_UNSUPPORTED;
        goto out;
    }
    /* The table's lengths are what the wire format assumes; refuse to run
     * if the library disagrees.  12 bytes is the default IV length of all
     * three, so no EVP_CTRL_AEAD_SET_IVLEN is needed. */
    if (EVP_CIPHER_get_key_length(cipher) != (int)k->alg->key_len ||
        EVP_CIPHER_get_iv_length(cipher) != (int)k->alg->nonce_len) {
        goto out;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        rc = TC_E_NOMEM;
        goto out;
    }
    /* Key only; the nonce comes with each message.  The direction set here
     * is switched per message by EVP_{En,De}cryptInit_ex with a NULL key,
     * which keeps the key schedule. */
    if (EVP_EncryptInit_ex(ctx, cipher, NULL, k->key, NULL) != 1) {
        goto out;
    }
    k->ctx = ctx;
    ctx = NULL;
    rc = TC_OK;

out:
    EVP_CIPHER_CTX_free(ctx); /* clears the key schedule */
    EVP_CIPHER_free(cipher);
    ERR_pop_to_mark();
    return rc;
}

TC_MUST_CHECK static int ossl_seal(struct tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCE_LEN],
                                   const uint8_t *ad, size_t adlen, const uint8_t *in, size_t inlen,
                                   uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = k->ctx;
    int n = 0, fin = 0, rc = TC_E_BACKEND;

    ERR_set_mark();
    if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1) {
        goto out;
    }
    if (adlen > 0 && EVP_EncryptUpdate(ctx, NULL, &n, ad, (int)adlen) != 1) {
        goto out;
    }
    n = 0;
    if (inlen > 0 && EVP_EncryptUpdate(ctx, out, &n, in, (int)inlen) != 1) {
        goto out;
    }
    /* Stream modes: Update emits every byte and Final none, but check. */
    if (n < 0 || (size_t)n > inlen || EVP_EncryptFinal_ex(ctx, out + n, &fin) != 1 ||
        (size_t)n + (size_t)fin != inlen) {
        goto out;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TC_AEAD_TAG_LEN, out + inlen) != 1) {
        goto out;
    }
    rc = TC_OK;

out:
    ERR_pop_to_mark();
    return rc;
}

/*
 * OpenSSL decrypts as it goes and checks the tag in EVP_DecryptFinal_ex, so
 * plaintext sits in out before it is authenticated; it is released only on
 * success, and the dispatcher (tc_aead_open) zeroes out on every failure.
 */
TC_MUST_CHECK static int ossl_open(struct tc_aead_key *k, const uint8_t nonce[TC_AEAD_NONCE_LEN],
                                   const uint8_t *ad, size_t adlen, const uint8_t *in, size_t inlen,
                                   uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = k->ctx;
    size_t clen = inlen - TC_AEAD_TAG_LEN;
    uint8_t tag[TC_AEAD_TAG_LEN];
    int n = 0, fin = 0, rc = TC_E_BACKEND;

    /* A copy, because an in-place open overwrites in, and ctrl takes a
     * non-const pointer. */
    memcpy(tag, in + clen, sizeof tag);
    ERR_set_mark();
    if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1) {
        goto out;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, sizeof tag, tag) != 1) {
        goto out;
    }
    if (adlen > 0 && EVP_DecryptUpdate(ctx, NULL, &n, ad, (int)adlen) != 1) {
        goto out;
    }
    n = 0;
    if (clen > 0 && EVP_DecryptUpdate(ctx, out, &n, in, (int)clen) != 1) {
        goto out;
    }
    if (n < 0 || (size_t)n > clen) {
        goto out;
    }
    /* The one failure that means the message is forged or damaged. */
    if (EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1) {
        rc = TC_E_AUTH;
        goto out;
    }
    if ((size_t)n + (size_t)fin != clen) {
        goto out;
    }
    rc = TC_OK;

out:
    ERR_pop_to_mark();
    if (rc != TC_OK) {
        OPENSSL_cleanse(out, clen);
    }
    return rc;
}

static void ossl_release(struct tc_aead_key *k)
{
    EVP_CIPHER_CTX_free(k->ctx);
    k->ctx = NULL;
}

const struct tc_aead_backend tc_aead_openssl = {
    .name = "openssl",
    .supports = ossl_supports,
    .init = ossl_init,
    .seal = ossl_seal,
    .open = ossl_open,
    .release = ossl_release,
};
