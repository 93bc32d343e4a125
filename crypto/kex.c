/*
 * Key agreement for the tcpcrypt TEPs (RFC 8548 §5):
 *   0x23 ECDHE-Curve25519  X25519 (RFC 7748) through libsodium;
 *   0x24 ECDHE-Curve448    X448 (RFC 7748) through OpenSSL's EVP_PKEY;
 *   0x21 ECDHE-P256,
 *   0x22 ECDHE-P521        ECSVDP-DH (IEEE 1363) through OpenSSL's EC_POINT
 *                          and BIGNUM, with compressed points on the wire.
 *
 * OpenSSL errors are popped before returning (ERR_set_mark/ERR_pop_to_mark),
 * so nothing is left on the error queue of the process we run in.
 */
#include "crypto/kex.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <sodium.h>

/* A P-curve private key that comes out of range this many times in a row
 * means the random source is broken, not unlucky: the chance per draw is
 * below 2^-32 for P-256 and 2^-260 for P-521 (top bits masked). */
#define KEYGEN_TRIES 8

/* ------------------------------------------------------------ X25519, X448 */

/*
 * RFC 8548 §5: "implementations MUST check whether the computed
 * Diffie-Hellman shared secret is the all-zero value and abort if so, as
 * described in Section 6 of [RFC7748]."
 *
 * libsodium's crypto_scalarmult_curve25519 returns -1 in two cases: the
 * result is all zero, or (ref10 code) the input u is on its list of
 * small-order encodings (0, 1, p-1, the two points of order 8, and the
 * non-canonical p, p+1), which it refuses before computing.  Those points
 * have order dividing 8 and the clamped scalar is a multiple of 8, so X25519
 * would have returned all zeros for them too.  Both cases are therefore the
 * RFC's all-zero result: TC_E_ZERO_SECRET.
 */
TC_MUST_CHECK static int x25519_public(uint8_t *pub, const uint8_t *priv)
{
    if (crypto_scalarmult_curve25519_base(pub, priv) != 0) {
        return TC_E_BACKEND;
    }
    return TC_OK;
}

TC_MUST_CHECK static int x25519_shared(uint8_t *es, const uint8_t *priv, const uint8_t *peer_pub)
{
    if (crypto_scalarmult_curve25519(es, priv, peer_pub) != 0) {
        return TC_E_ZERO_SECRET;
    }
    /* libsodium already checked; the RFC's MUST is cheap to honour here too
     * (sodium_is_zero ORs every byte, as RFC 7748 §6.1 suggests). */
    if (sodium_is_zero(es, crypto_scalarmult_curve25519_BYTES)) {
        return TC_E_ZERO_SECRET;
    }
    return TC_OK;
}

/*
 * X25519 or X448 through EVP_PKEY_derive.  OpenSSL itself refuses an
 * all-zero result (ossl_x25519 / ossl_x448 return failure): derive has no
 * other data-dependent failure once both keys are loaded, so a failing
 * derive is reported as TC_E_ZERO_SECRET.
 */
TC_MUST_CHECK static int evp_xdh(int type, size_t len, uint8_t *out, const uint8_t *scalar,
                                 const uint8_t *point)
{
    EVP_PKEY *priv = NULL, *peer = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    size_t outlen = len;
    int rc = TC_E_BACKEND;

    ERR_set_mark();
    priv = EVP_PKEY_new_raw_private_key(type, NULL, scalar, len);
    peer = EVP_PKEY_new_raw_public_key(type, NULL, point, len);
    if (priv == NULL || peer == NULL) {
        goto out;
    }
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1) {
        goto out;
    }
    if (EVP_PKEY_derive(ctx, out, &outlen) != 1) {
        rc = TC_E_ZERO_SECRET;
        goto out;
    }
    if (outlen != len) {
        goto out;
    }
    rc = sodium_is_zero(out, len) ? TC_E_ZERO_SECRET : TC_OK;

out:
    if (rc != TC_OK) {
        sodium_memzero(out, len);
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(priv); /* clears the private key */
    ERR_pop_to_mark();
    return rc;
}

TC_MUST_CHECK static int x448_public(uint8_t *pub, const uint8_t *priv)
{
    EVP_PKEY *pkey;
    size_t len = TC_X448_PUB_LEN;
    int rc = TC_E_BACKEND;

    ERR_set_mark();
    pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X448, NULL, priv, TC_X448_PUB_LEN);
    if (pkey != NULL && EVP_PKEY_get_raw_public_key(pkey, pub, &len) == 1 &&
        len == TC_X448_PUB_LEN) {
        rc = TC_OK;
    }
    EVP_PKEY_free(pkey);
    ERR_pop_to_mark();
    return rc;
}

TC_MUST_CHECK static int x448_shared(uint8_t *es, const uint8_t *priv, const uint8_t *peer_pub)
{
    return evp_xdh(EVP_PKEY_X448, TC_X448_PUB_LEN, es, priv, peer_pub);
}

int tc_x25519_openssl(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32])
{
    return evp_xdh(EVP_PKEY_X25519, 32, out, scalar, point);
}

/* Neither library will hand out an all-zero result, so for the inputs where
 * RFC 7748 returns zeros the raw functions fail with TC_E_ZERO_SECRET (out
 * zeroed) instead; they add no check of their own. */
int tc_x25519_raw(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32])
{
    if (crypto_scalarmult_curve25519(out, scalar, point) != 0) {
        sodium_memzero(out, 32);
        return TC_E_ZERO_SECRET;
    }
    return TC_OK;
}

int tc_x448_raw(uint8_t out[56], const uint8_t scalar[56], const uint8_t point[56])
{
    return evp_xdh(EVP_PKEY_X448, 56, out, scalar, point);
}

/* ------------------------------------------------------------- P-256, P-521 */

struct ec_curve {
    int nid;
    size_t len;     /* field element and scalar bytes: 32 or 66 */
    size_t pub_len; /* wire: pubkey_len(2) | compressed point(1 + len) */
};

static const struct ec_curve p256 = {NID_X9_62_prime256v1, 32, TC_P256_PUB_LEN};
static const struct ec_curve p521 = {NID_secp521r1, 66, TC_P521_PUB_LEN};

/* a < b for big-endian numbers of len bytes, without branching on them. */
static bool ct_less_be(const uint8_t *a, const uint8_t *b, size_t len)
{
    unsigned lt = 0, gt = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned x = a[i], y = b[i];
        unsigned undecided = ~(lt | gt) & 1;

        lt |= undecided & ((x - y) >> 8);
        gt |= undecided & ((y - x) >> 8);
    }
    return lt & 1;
}

/* The private scalar d must satisfy 1 <= d <= n - 1 (IEEE 1363 §7.2.1). */
TC_MUST_CHECK static int check_scalar(const struct ec_curve *c, const EC_GROUP *g,
                                      const uint8_t *priv)
{
    uint8_t n[TC_PRIV_MAX];
    const BIGNUM *order = EC_GROUP_get0_order(g);

    if (order == NULL || BN_bn2binpad(order, n, (int)c->len) != (int)c->len) {
        return TC_E_BACKEND;
    }
    if (sodium_is_zero(priv, c->len) || !ct_less_be(priv, n, c->len)) {
        return TC_E_INVALID;
    }
    return TC_OK;
}

/* priv as a BIGNUM flagged for OpenSSL's constant-time code paths. */
static BIGNUM *load_scalar(const struct ec_curve *c, const uint8_t *priv)
{
    BIGNUM *d = BN_bin2bn(priv, (int)c->len, NULL);

    if (d != NULL) {
        BN_set_flags(d, BN_FLG_CONSTTIME);
    }
    return d;
}

/* RFC 8548 §5: "Implementations MUST encode these pubkey values in
 * 'compressed format'", IEEE 1363 §E.2.3.2: 0x02 | (y mod 2), then x. */
TC_MUST_CHECK static int ec_public(const struct ec_curve *c, uint8_t *pub, const uint8_t *priv)
{
    EC_GROUP *g = NULL;
    BN_CTX *bn = NULL;
    BIGNUM *d = NULL;
    EC_POINT *p = NULL;
    size_t point_len = c->pub_len - 2;
    int rc = TC_E_BACKEND;

    ERR_set_mark();
    g = EC_GROUP_new_by_curve_name(c->nid);
    bn = BN_CTX_new();
    if (g == NULL || bn == NULL) {
        goto out;
    }
    rc = check_scalar(c, g, priv);
    if (rc != TC_OK) {
        goto out;
    }
    rc = TC_E_BACKEND;
    d = load_scalar(c, priv);
    p = EC_POINT_new(g);
    if (d == NULL || p == NULL || EC_POINT_mul(g, p, d, NULL, NULL, bn) != 1) {
        goto out;
    }
    if (EC_POINT_point2oct(g, p, POINT_CONVERSION_COMPRESSED, pub + 2, point_len, bn) !=
        point_len) {
        goto out;
    }
    /* pubkey_len counts its own two bytes (the figure in §5: bytes 0 to
     * L - 1, pubkey_len = L). */
    pub[0] = (uint8_t)(c->pub_len >> 8);
    pub[1] = (uint8_t)c->pub_len;
    rc = TC_OK;

out:
    EC_POINT_free(p);
    BN_clear_free(d);
    BN_CTX_free(bn);
    EC_GROUP_free(g);
    ERR_pop_to_mark();
    return rc;
}

/*
 * RFC 8548 §5: "Implementations MUST validate these pubkey values according
 * to the algorithm in Section A.16.10 of [IEEE-1363]": the encoding is
 * exactly pubkey_len bytes with a compressed-point prefix; x is a field
 * element (x < p); some y satisfies the curve equation (a square root
 * exists); the point is not the point at infinity.  The cofactor of both
 * curves is 1, so a point on the curve is in the prime-order group and no
 * order check is needed.  Then ES = x-coordinate of d * Q (ECSVDP-DH, RFC
 * 5903 §7), at its fixed length.
 */
TC_MUST_CHECK static int ec_shared(const struct ec_curve *c, uint8_t *es, const uint8_t *priv,
                                   const uint8_t *peer_pub)
{
    EC_GROUP *g = NULL;
    BN_CTX *bn = NULL;
    BIGNUM *x = NULL, *d = NULL, *z = NULL;
    EC_POINT *q = NULL, *r = NULL;
    const BIGNUM *field;
    uint8_t prefix = peer_pub[2];
    int rc = TC_E_BACKEND;

    ERR_set_mark();
    if (((size_t)peer_pub[0] << 8 | peer_pub[1]) != c->pub_len ||
        (prefix != 0x02 && prefix != 0x03)) {
        rc = TC_E_BAD_PUBKEY;
        goto out;
    }
    g = EC_GROUP_new_by_curve_name(c->nid);
    bn = BN_CTX_new();
    if (g == NULL || bn == NULL) {
        goto out;
    }
    rc = check_scalar(c, g, priv);
    if (rc != TC_OK) {
        goto out;
    }
    rc = TC_E_BACKEND;
    field = EC_GROUP_get0_field(g);
    x = BN_bin2bn(peer_pub + 3, (int)c->len, NULL);
    q = EC_POINT_new(g);
    if (field == NULL || x == NULL || q == NULL) {
        goto out;
    }
    if (BN_cmp(x, field) >= 0) {
        rc = TC_E_BAD_PUBKEY; /* public data: BN_cmp's timing is fine */
        goto out;
    }
    /* Fails when x^3 + ax + b has no square root: no point with this x. */
    if (EC_POINT_set_compressed_coordinates(g, q, x, prefix & 1, bn) != 1 ||
        EC_POINT_is_at_infinity(g, q) || EC_POINT_is_on_curve(g, q, bn) != 1) {
        rc = TC_E_BAD_PUBKEY;
        goto out;
    }

    d = load_scalar(c, priv);
    r = EC_POINT_new(g);
    z = BN_new();
    if (d == NULL || r == NULL || z == NULL || EC_POINT_mul(g, r, NULL, q, d, bn) != 1) {
        goto out;
    }
    /* d in [1, n-1] and Q of prime order n: R is never at infinity. */
    if (EC_POINT_get_affine_coordinates(g, r, z, NULL, bn) != 1 ||
        BN_bn2binpad(z, es, (int)c->len) != (int)c->len) {
        goto out;
    }
    rc = TC_OK;

out:
    if (rc != TC_OK) {
        sodium_memzero(es, c->len);
    }
    EC_POINT_clear_free(r);
    EC_POINT_free(q);
    BN_clear_free(z);
    BN_clear_free(d);
    BN_free(x);
    BN_CTX_free(bn); /* clears its temporaries */
    EC_GROUP_free(g);
    ERR_pop_to_mark();
    return rc;
}

TC_MUST_CHECK static int p256_public(uint8_t *pub, const uint8_t *priv)
{
    return ec_public(&p256, pub, priv);
}

TC_MUST_CHECK static int p256_shared(uint8_t *es, const uint8_t *priv, const uint8_t *peer_pub)
{
    return ec_shared(&p256, es, priv, peer_pub);
}

TC_MUST_CHECK static int p521_public(uint8_t *pub, const uint8_t *priv)
{
    return ec_public(&p521, pub, priv);
}

TC_MUST_CHECK static int p521_shared(uint8_t *es, const uint8_t *priv, const uint8_t *peer_pub)
{
    return ec_shared(&p521, es, priv, peer_pub);
}

/* ------------------------------------------------------------------- table */

/* RFC 8548 §7 Table 4 and the sizes of §5. */
static const struct tc_kex kex_p256 = {
    .tep = TC_TEP_P256,
    .name = "TCPCRYPT_ECDHE_P256",
    .priv_len = 32,
    .pub_len = TC_P256_PUB_LEN,
    .es_len = 32,
    .public_key = p256_public,
    .shared = p256_shared,
};

static const struct tc_kex kex_p521 = {
    .tep = TC_TEP_P521,
    .name = "TCPCRYPT_ECDHE_P521",
    .priv_len = 66,
    .pub_len = TC_P521_PUB_LEN,
    .es_len = 66,
    .public_key = p521_public,
    .shared = p521_shared,
};

static const struct tc_kex kex_x25519 = {
    .tep = TC_TEP_X25519,
    .name = "TCPCRYPT_ECDHE_Curve25519",
    .priv_len = 32,
    .pub_len = TC_X25519_PUB_LEN,
    .es_len = 32,
    .public_key = x25519_public,
    .shared = x25519_shared,
};

static const struct tc_kex kex_x448 = {
    .tep = TC_TEP_X448,
    .name = "TCPCRYPT_ECDHE_Curve448",
    .priv_len = 56,
    .pub_len = TC_X448_PUB_LEN,
    .es_len = 56,
    .public_key = x448_public,
    .shared = x448_shared,
};

const struct tc_kex *tc_kex_find(uint8_t tep)
{
    /* RFC 8547 §4.1: the v bit says whether the suboption carries a value;
     * it is not part of the TEP's identity. */
    switch (tep & ~TC_TEP_V_BIT) {
    case TC_TEP_P256:
        return &kex_p256;
    case TC_TEP_P521:
        return &kex_p521;
    case TC_TEP_X25519:
        return &kex_x25519;
    case TC_TEP_X448:
        return &kex_x448;
    default:
        return NULL;
    }
}

int tc_kex_keygen(const struct tc_kex *kx, const struct tc_rng *rng, uint8_t priv[TC_PRIV_MAX],
                  uint8_t pub[TC_PUB_MAX])
{
    int rc = TC_E_INVALID;

    if (kx == NULL || rng == NULL || priv == NULL || pub == NULL) {
        return TC_E_INVALID;
    }
    /* X25519 and X448 take any bytes (RFC 7748 §5 clamps them).  The
     * P-curves rejection-sample d until 1 <= d < n; P-521's order has 521
     * bits, so the 7 unused top bits of the 66 bytes are cleared first,
     * which keeps the acceptance rate near 1. */
    for (int tries = 0; tries < KEYGEN_TRIES; tries++) {
        rc = tc_random(rng, priv, kx->priv_len);
        if (rc != TC_OK) {
            goto out;
        }
        if (kx->tep == TC_TEP_P521) {
            priv[0] &= 0x01;
        }
        rc = kx->public_key(pub, priv);
        if (rc != TC_E_INVALID) {
            break;
        }
    }
    if (rc == TC_E_INVALID) {
        rc = TC_E_RANDOM;
    }

out:
    if (rc != TC_OK) {
        sodium_memzero(priv, kx->priv_len);
        sodium_memzero(pub, kx->pub_len);
    }
    return rc;
}

int tc_kex_public(const struct tc_kex *kx, uint8_t pub[TC_PUB_MAX], const uint8_t *priv)
{
    int rc;

    if (kx == NULL || pub == NULL || priv == NULL) {
        return TC_E_INVALID;
    }
    rc = kx->public_key(pub, priv);
    if (rc != TC_OK) {
        sodium_memzero(pub, kx->pub_len);
    }
    return rc;
}

int tc_kex_shared(const struct tc_kex *kx, uint8_t es[TC_ES_MAX], const uint8_t *priv,
                  const uint8_t *peer_pub)
{
    int rc;

    if (kx == NULL || es == NULL || priv == NULL || peer_pub == NULL) {
        return TC_E_INVALID;
    }
    rc = kx->shared(es, priv, peer_pub);
    if (rc != TC_OK) {
        sodium_memzero(es, kx->es_len);
    }
    return rc;
}
