/*
 * HMAC-SHA256 (RFC 2104) and HKDF (RFC 5869) over libsodium's incremental
 * crypto_auth_hmacsha256 API, which accepts keys of any length (a key longer
 * than the 64-byte block is hashed first, as RFC 2104 §2 requires).
 */
#include "crypto/kdf.h"

#include <string.h>

#include <sodium.h>

void tc_hmac_sha256(uint8_t out[TC_SHA256_LEN], const uint8_t *key, size_t keylen,
                    const struct tc_iovec *pieces, size_t n)
{
    static const uint8_t no_key[1];
    crypto_auth_hmacsha256_state st;

    /* libsodium declares key nonnull even when keylen is 0 (an empty salt). */
    if (keylen == 0) {
        key = no_key;
    }
    /* The libsodium HMAC functions cannot fail; they return 0 always. */
    crypto_auth_hmacsha256_init(&st, key, keylen);
    for (size_t i = 0; i < n; i++) {
        if (pieces[i].len > 0) {
            crypto_auth_hmacsha256_update(&st, pieces[i].p, pieces[i].len);
        }
    }
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

/*
 * RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); "if not provided, [salt] is set
 * to a string of HashLen zeros".  An HMAC key shorter than the block is
 * zero-padded (RFC 2104 §2), so an empty salt and HashLen zero bytes give the
 * same PRK; no special case is needed.
 */
void tc_hkdf_extract(uint8_t prk[TC_SHA256_LEN], const uint8_t *salt, size_t saltlen,
                     const struct tc_iovec *ikm, size_t n)
{
    tc_hmac_sha256(prk, salt, saltlen, ikm, n);
}

/*
 * RFC 5869 §2.3:
 *   T(0) = empty string
 *   T(n) = HMAC-Hash(PRK, T(n-1) | info | n),  n a single octet from 0x01
 *   OKM  = first L octets of T(1) | T(2) | ... ,  L <= 255 * HashLen
 *
 * The PRK is absorbed once into a keyed state that is copied for every block,
 * so out may overlap prk (e.g. ss[i+1] = CPRF(ss[i], ...) computed in place).
 * out must not overlap info.
 */
int tc_hkdf_expand(uint8_t *out, size_t len, const uint8_t *prk, size_t prklen, const uint8_t *info,
                   size_t infolen)
{
    crypto_auth_hmacsha256_state keyed, st;
    uint8_t t[TC_SHA256_LEN];
    size_t tlen = 0, done = 0;
    uint8_t counter = 1;

    if (len > TC_HKDF_MAX_OUT) {
        return TC_E_INVALID;
    }
    /* RFC 5869 §2.3: "PRK  a pseudorandom key of at least HashLen octets". */
    if (prklen < TC_SHA256_LEN || (infolen > 0 && info == NULL)) {
        return TC_E_INVALID;
    }
    if (len == 0) {
        return TC_OK;
    }

    crypto_auth_hmacsha256_init(&keyed, prk, prklen);
    while (done < len) {
        size_t take = len - done < TC_SHA256_LEN ? len - done : TC_SHA256_LEN;

        st = keyed;
        if (tlen > 0) {
            crypto_auth_hmacsha256_update(&st, t, tlen);
        }
        if (infolen > 0) {
            crypto_auth_hmacsha256_update(&st, info, infolen);
        }
        crypto_auth_hmacsha256_update(&st, &counter, 1);
        crypto_auth_hmacsha256_final(&st, t);
        tlen = TC_SHA256_LEN;
        memcpy(out + done, t, take);
        done += take;
        counter++; /* wraps only after block 255, which len <= 255 * 32 rules out */
    }

    sodium_memzero(&keyed, sizeof keyed);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(t, sizeof t);
    return TC_OK;
}
