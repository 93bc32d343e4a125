/*
 * SPAKE2 (RFC 9382) over P-256 with SHA-256, HKDF and HMAC
 * (SPAKE2-P256-SHA256-HKDF-HMAC, RFC 9382 §6), on OpenSSL's EC_POINT.
 *
 * Each scalar multiplication is a separate single-term EC_POINT_mul(): with
 * one scalar OpenSSL takes its constant-time path (the P-256 assembly or
 * the Montgomery ladder), where a combined x*P + w*M would take the
 * variable-time wNAF path.  Scalars carry BN_FLG_CONSTTIME.
 */
#include "auth/spake2.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

#define SCALAR_LEN 32 /* P-256 order, big-endian */
#define HASH_LEN 32   /* SHA-256 */

/* RFC 9382 §6, P-256, given there compressed (SEC1):
 *   M = 02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f
 *   N = 03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49
 * Here uncompressed (the y of that x with the prefix's parity), which spares
 * a square root per point and exchange. */
static const uint8_t spake2_m[TC_SPAKE2_SHARE_LEN] = {
    0x04, 0x88, 0x6e, 0x2f, 0x97, 0xac, 0xe4, 0x6e, 0x55, 0xba, 0x9d, 0xd7, 0x24,
    0x25, 0x79, 0xf2, 0x99, 0x3b, 0x64, 0xe1, 0x6e, 0xf3, 0xdc, 0xab, 0x95, 0xaf,
    0xd4, 0x97, 0x33, 0x3d, 0x8f, 0xa1, 0x2f, 0x5f, 0xf3, 0x55, 0x16, 0x3e, 0x43,
    0xce, 0x22, 0x4e, 0x0b, 0x0e, 0x65, 0xff, 0x02, 0xac, 0x8e, 0x5c, 0x7b, 0xe0,
    0x94, 0x19, 0xc7, 0x85, 0xe0, 0xca, 0x54, 0x7d, 0x55, 0xa1, 0x2e, 0x2d, 0x20};
static const uint8_t spake2_n[TC_SPAKE2_SHARE_LEN] = {
    0x04, 0xd8, 0xbb, 0xd6, 0xc6, 0x39, 0xc6, 0x29, 0x37, 0xb0, 0x4d, 0x99, 0x7f,
    0x38, 0xc3, 0x77, 0x07, 0x19, 0xc6, 0x29, 0xd7, 0x01, 0x4d, 0x49, 0xa2, 0x4b,
    0x4f, 0x98, 0xba, 0xa1, 0x29, 0x2b, 0x49, 0x07, 0xd6, 0x0a, 0xa6, 0xbf, 0xad,
    0xe4, 0x50, 0x08, 0xa6, 0x36, 0x33, 0x7f, 0x51, 0x68, 0xc6, 0x4d, 0x9b, 0xd3,
    0x60, 0x34, 0x80, 0x8c, 0xd5, 0x64, 0x49, 0x0b, 0x1e, 0x65, 0x6e, 0xdb, 0xe7};

enum spake2_state {
    SPAKE2_EXPECT_SHARE, /* new: share() or finish() next */
    SPAKE2_EXPECT_PEER,  /* own share computed: finish() next */
    SPAKE2_EXPECT_MAC,   /* keys derived: verify() next */
    SPAKE2_DONE,         /* verify() ran (either outcome); nothing more */
    SPAKE2_FAILED        /* an invalid peer share or an internal failure */
};

struct tc_spake2 {
    int side; /* 'A' or 'B' */
    enum spake2_state state;
    EC_GROUP *group;
    BIGNUM *w;      /* secret: the password scalar, mod the order */
    BIGNUM *scalar; /* secret: x (A) or y (B) */
    uint8_t share[TC_SPAKE2_SHARE_LEN];
    uint8_t *a_id, *b_id, *aad;
    size_t a_id_len, b_id_len, aad_len;
    uint8_t *tt; /* secret: contains K and w */
    size_t tt_len;
    uint8_t ke[TC_SPAKE2_KEY_LEN], ka[TC_SPAKE2_KEY_LEN]; /* secret */
    uint8_t kca[TC_SPAKE2_KEY_LEN], kcb[TC_SPAKE2_KEY_LEN];
    uint8_t mac_a[TC_SPAKE2_MAC_LEN], mac_b[TC_SPAKE2_MAC_LEN];
};

static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
    uint8_t *q = malloc(len == 0 ? 1 : len);
    if (q != NULL && len > 0) {
        memcpy(q, p, len);
    }
    return q;
}

/* r = (big-endian bytes) mod order, nonzero; constant-time flag set. */
static BIGNUM *scalar_from_bytes(const EC_GROUP *g, const uint8_t *p, size_t len, BN_CTX *bn)
{
    BIGNUM *r = BN_secure_new(), *t = BN_secure_new();
    if (r == NULL || t == NULL) {
        goto fail;
    }
    BN_set_flags(r, BN_FLG_CONSTTIME);
    BN_set_flags(t, BN_FLG_CONSTTIME);
    if (BN_bin2bn(p, (int)len, t) == NULL || BN_nnmod(r, t, EC_GROUP_get0_order(g), bn) != 1 ||
        BN_is_zero(r)) {
        goto fail;
    }
    BN_clear_free(t);
    return r;
fail:
    BN_clear_free(r);
    BN_clear_free(t);
    return NULL;
}

static struct tc_spake2 *spake2_new(int side, const uint8_t *w, size_t w_len, const uint8_t *scalar,
                                    size_t scalar_len, const uint8_t *a_id, size_t a_id_len,
                                    const uint8_t *b_id, size_t b_id_len, const uint8_t *aad,
                                    size_t aad_len)
{
    struct tc_spake2 *st = NULL;
    BN_CTX *bn = NULL;

    if ((side != 'A' && side != 'B') || w == NULL || w_len == 0 || w_len > TC_SPAKE2_W_MAX ||
        (a_id == NULL && a_id_len != 0) || (b_id == NULL && b_id_len != 0) ||
        (aad == NULL && aad_len != 0) ||
        (scalar != NULL && (scalar_len == 0 || scalar_len > SCALAR_LEN))) {
        return NULL;
    }
    st = calloc(1, sizeof(*st));
    bn = BN_CTX_secure_new();
    if (st == NULL || bn == NULL) {
        goto fail;
    }
    st->side = side;
    st->state = SPAKE2_EXPECT_SHARE;
    st->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (st->group == NULL) {
        goto fail;
    }
    st->w = scalar_from_bytes(st->group, w, w_len, bn);
    if (st->w == NULL) {
        goto fail;
    }
    if (scalar != NULL) {
        st->scalar = scalar_from_bytes(st->group, scalar, scalar_len, bn);
    } else {
        /* RFC 9382 §3.3: x (and y) uniformly at random from [0, p); 0 is
         * redrawn (probability 2^-256) so that the share hides w. */
        st->scalar = BN_secure_new();
        if (st->scalar != NULL) {
            BN_set_flags(st->scalar, BN_FLG_CONSTTIME);
            do {
                if (BN_priv_rand_range_ex(st->scalar, EC_GROUP_get0_order(st->group), 0, bn) != 1) {
                    BN_clear_free(st->scalar);
                    st->scalar = NULL;
                    break;
                }
            } while (BN_is_zero(st->scalar));
        }
    }
    if (st->scalar == NULL) {
        goto fail;
    }
    st->a_id = dup_bytes(a_id, a_id_len);
    st->b_id = dup_bytes(b_id, b_id_len);
    st->aad = dup_bytes(aad, aad_len);
    if (st->a_id == NULL || st->b_id == NULL || st->aad == NULL) {
        goto fail;
    }
    st->a_id_len = a_id_len;
    st->b_id_len = b_id_len;
    st->aad_len = aad_len;
    BN_CTX_free(bn);
    return st;
fail:
    BN_CTX_free(bn);
    tc_spake2_free(st);
    ERR_clear_error();
    return NULL;
}

struct tc_spake2 *tc_spake2_new(int side, const uint8_t *w, size_t w_len, const uint8_t *a_id,
                                size_t a_id_len, const uint8_t *b_id, size_t b_id_len,
                                const uint8_t *aad, size_t aad_len)
{
    return spake2_new(side, w, w_len, NULL, 0, a_id, a_id_len, b_id, b_id_len, aad, aad_len);
}

struct tc_spake2 *tc_spake2_new_with_scalar(int side, const uint8_t *w, size_t w_len,
                                            const uint8_t *scalar, size_t scalar_len,
                                            const uint8_t *a_id, size_t a_id_len,
                                            const uint8_t *b_id, size_t b_id_len,
                                            const uint8_t *aad, size_t aad_len)
{
    if (scalar == NULL) {
        return NULL;
    }
    return spake2_new(side, w, w_len, scalar, scalar_len, a_id, a_id_len, b_id, b_id_len, aad,
                      aad_len);
}

static EC_POINT *point_from_oct(const EC_GROUP *g, const uint8_t *p, size_t len, BN_CTX *bn)
{
    EC_POINT *q = EC_POINT_new(g);
    /* oct2point refuses coordinates >= the field prime and points off the
     * curve; P-256 has cofactor 1, so every curve point but the identity is
     * in the prime-order group (RFC 9382 §7: elements "MUST be checked for
     * group membership"). */
    if (q == NULL || EC_POINT_oct2point(g, q, p, len, bn) != 1 || EC_POINT_is_at_infinity(g, q) ||
        EC_POINT_is_on_curve(g, q, bn) != 1) {
        EC_POINT_free(q);
        return NULL;
    }
    return q;
}

/* out = k*P (p == NULL: the generator), through a single-scalar mul. */
static int mul1(const EC_GROUP *g, EC_POINT *out, const EC_POINT *p, const BIGNUM *k, BN_CTX *bn)
{
    if (p == NULL) {
        return EC_POINT_mul(g, out, k, NULL, NULL, bn) == 1 ? 0 : -1;
    }
    return EC_POINT_mul(g, out, NULL, p, k, bn) == 1 ? 0 : -1;
}

static int compute_share(struct tc_spake2 *st, BN_CTX *bn)
{
    EC_POINT *mn = NULL, *xp = NULL, *wm = NULL;
    int rc = -1;

    /* pA = x*P + w*M (A); pB = y*P + w*N (B) (RFC 9382 §3.3). */
    mn = point_from_oct(st->group, st->side == 'A' ? spake2_m : spake2_n, sizeof(spake2_m), bn);
    xp = EC_POINT_new(st->group);
    wm = EC_POINT_new(st->group);
    if (mn == NULL || xp == NULL || wm == NULL || mul1(st->group, xp, NULL, st->scalar, bn) != 0 ||
        mul1(st->group, wm, mn, st->w, bn) != 0 || EC_POINT_add(st->group, xp, xp, wm, bn) != 1 ||
        EC_POINT_is_at_infinity(st->group, xp) ||
        EC_POINT_point2oct(st->group, xp, POINT_CONVERSION_UNCOMPRESSED, st->share,
                           TC_SPAKE2_SHARE_LEN, bn) != TC_SPAKE2_SHARE_LEN) {
        goto out;
    }
    rc = 0;
out:
    EC_POINT_free(mn);
    EC_POINT_clear_free(xp);
    EC_POINT_clear_free(wm);
    return rc;
}

int tc_spake2_share(struct tc_spake2 *st, uint8_t out[TC_SPAKE2_SHARE_LEN])
{
    BN_CTX *bn;
    int rc = -1;

    if (st == NULL || out == NULL) {
        return -1;
    }
    if (st->state == SPAKE2_EXPECT_PEER) {
        memcpy(out, st->share, TC_SPAKE2_SHARE_LEN);
        return 0;
    }
    if (st->state != SPAKE2_EXPECT_SHARE) {
        return -1;
    }
    bn = BN_CTX_secure_new();
    if (bn != NULL && compute_share(st, bn) == 0) {
        st->state = SPAKE2_EXPECT_PEER;
        memcpy(out, st->share, TC_SPAKE2_SHARE_LEN);
        rc = 0;
    } else {
        st->state = SPAKE2_FAILED;
        ERR_clear_error();
    }
    BN_CTX_free(bn);
    return rc;
}

static uint8_t *put_field(uint8_t *p, const uint8_t *v, size_t len)
{
    /* RFC 9382 §3, Setup: len() is the length as an eight-byte little-endian number. */
    uint64_t n = len;
    for (int i = 0; i < 8; i++) {
        *p++ = (uint8_t)(n >> (8 * i));
    }
    if (len > 0) {
        memcpy(p, v, len);
    }
    return p + len;
}

static int hmac_sha256(uint8_t out[HASH_LEN], const uint8_t *key, size_t keylen, const uint8_t *msg,
                       size_t msglen)
{
    size_t outlen = 0;
    return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, msg, msglen, out, HASH_LEN,
                     &outlen) != NULL &&
                   outlen == HASH_LEN
               ? 0
               : -1;
}

/* out = HKDF-SHA256(salt = nil, ikm, info, len) (RFC 5869). */
static int hkdf_sha256(uint8_t *out, size_t len, const uint8_t *ikm, size_t ikmlen,
                       const uint8_t *info, size_t infolen)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[4];
    int rc = -1;

    EVP_KDF_free(kdf);
    if (kctx == NULL) {
        return -1;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
    params[3] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, out, len, params) == 1) {
        rc = 0;
    }
    EVP_KDF_CTX_free(kctx);
    return rc;
}

/* The key schedule of RFC 9382 §4 from TT. */
static int derive_keys(struct tc_spake2 *st)
{
    static const char label[] = "ConfirmationKeys";
    uint8_t hash[HASH_LEN], kc[2 * TC_SPAKE2_KEY_LEN];
    uint8_t *info = NULL;
    size_t infolen = sizeof(label) - 1 + st->aad_len;
    unsigned int hlen = 0;
    int rc = -1;

    /* RFC 9382 §4: Ke || Ka = Hash(TT), half of the digest each. */
    if (EVP_Digest(st->tt, st->tt_len, hash, &hlen, EVP_sha256(), NULL) != 1 || hlen != HASH_LEN) {
        goto out;
    }
    memcpy(st->ke, hash, TC_SPAKE2_KEY_LEN);
    memcpy(st->ka, hash + TC_SPAKE2_KEY_LEN, TC_SPAKE2_KEY_LEN);
    /* KcA || KcB = KDF(salt nil, IKM Ka, info "ConfirmationKeys" || AAD), half each. */
    info = malloc(infolen);
    if (info == NULL) {
        goto out;
    }
    memcpy(info, label, sizeof(label) - 1);
    if (st->aad_len > 0) {
        memcpy(info + sizeof(label) - 1, st->aad, st->aad_len);
    }
    if (hkdf_sha256(kc, sizeof(kc), st->ka, TC_SPAKE2_KEY_LEN, info, infolen) != 0) {
        goto out;
    }
    memcpy(st->kca, kc, TC_SPAKE2_KEY_LEN);
    memcpy(st->kcb, kc + TC_SPAKE2_KEY_LEN, TC_SPAKE2_KEY_LEN);
    /* RFC 9382 §3.3: each side sends a confirmation MAC over TT, A's keyed
     * with KcA, B's with KcB. */
    if (hmac_sha256(st->mac_a, st->kca, TC_SPAKE2_KEY_LEN, st->tt, st->tt_len) != 0 ||
        hmac_sha256(st->mac_b, st->kcb, TC_SPAKE2_KEY_LEN, st->tt, st->tt_len) != 0) {
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(hash, sizeof(hash));
    OPENSSL_cleanse(kc, sizeof(kc));
    free(info);
    return rc;
}

int tc_spake2_finish(struct tc_spake2 *st, const uint8_t peer_share[TC_SPAKE2_SHARE_LEN],
                     uint8_t my_mac[TC_SPAKE2_MAC_LEN])
{
    BN_CTX *bn = NULL;
    EC_POINT *peer = NULL, *mn = NULL, *t = NULL, *k = NULL;
    uint8_t kbuf[TC_SPAKE2_SHARE_LEN], wbuf[SCALAR_LEN];
    const uint8_t *pa, *pb;
    uint8_t *p;
    int rc = -1;

    if (st == NULL || peer_share == NULL || my_mac == NULL) {
        return -1;
    }
    if (st->state != SPAKE2_EXPECT_SHARE && st->state != SPAKE2_EXPECT_PEER) {
        return -1;
    }
    bn = BN_CTX_secure_new();
    if (bn == NULL) {
        goto out;
    }
    if (st->state == SPAKE2_EXPECT_SHARE) {
        if (compute_share(st, bn) != 0) {
            goto out;
        }
        st->state = SPAKE2_EXPECT_PEER;
    }
    /* The only encoding accepted: SEC1 uncompressed, 04 || x || y. */
    if (peer_share[0] != 0x04) {
        goto out;
    }
    peer = point_from_oct(st->group, peer_share, TC_SPAKE2_SHARE_LEN, bn);
    if (peer == NULL) {
        goto out;
    }
    /* A: K = h*x*(pB - w*N); B: K = h*y*(pA - w*M); h = 1 for P-256. */
    mn = point_from_oct(st->group, st->side == 'A' ? spake2_n : spake2_m, sizeof(spake2_n), bn);
    t = EC_POINT_new(st->group);
    k = EC_POINT_new(st->group);
    if (mn == NULL || t == NULL || k == NULL || mul1(st->group, t, mn, st->w, bn) != 0 ||
        EC_POINT_invert(st->group, t, bn) != 1 || EC_POINT_add(st->group, t, peer, t, bn) != 1) {
        goto out;
    }
    /* A peer share equal to w*N (w*M) leaves the identity, a K every
     * guess of w would reproduce: refuse it, and an identity K likewise. */
    if (EC_POINT_is_at_infinity(st->group, t) || mul1(st->group, k, t, st->scalar, bn) != 0 ||
        EC_POINT_is_at_infinity(st->group, k) ||
        EC_POINT_point2oct(st->group, k, POINT_CONVERSION_UNCOMPRESSED, kbuf, sizeof(kbuf), bn) !=
            sizeof(kbuf) ||
        BN_bn2binpad(st->w, wbuf, SCALAR_LEN) != SCALAR_LEN) {
        goto out;
    }
    /* TT = len(A) || A || len(B) || B || len(pA) || pA || len(pB) || pB
     *      || len(K) || K || len(w) || w   (RFC 9382 §3.3) */
    st->tt_len = 6 * 8 + st->a_id_len + st->b_id_len + 3 * TC_SPAKE2_SHARE_LEN + SCALAR_LEN;
    st->tt = malloc(st->tt_len);
    if (st->tt == NULL) {
        goto out;
    }
    pa = st->side == 'A' ? st->share : peer_share;
    pb = st->side == 'A' ? peer_share : st->share;
    p = put_field(st->tt, st->a_id, st->a_id_len);
    p = put_field(p, st->b_id, st->b_id_len);
    p = put_field(p, pa, TC_SPAKE2_SHARE_LEN);
    p = put_field(p, pb, TC_SPAKE2_SHARE_LEN);
    p = put_field(p, kbuf, sizeof(kbuf));
    (void)put_field(p, wbuf, SCALAR_LEN);
    if (derive_keys(st) != 0) {
        goto out;
    }
    memcpy(my_mac, st->side == 'A' ? st->mac_a : st->mac_b, TC_SPAKE2_MAC_LEN);
    st->state = SPAKE2_EXPECT_MAC;
    rc = 0;
out:
    if (rc != 0) {
        st->state = SPAKE2_FAILED;
        ERR_clear_error(); /* an attacker's share must not leave errors queued */
    }
    /* The secrets needed from here on are the MAC keys' outputs; w and the
     * scalar served their one exchange. */
    OPENSSL_cleanse(kbuf, sizeof(kbuf));
    OPENSSL_cleanse(wbuf, sizeof(wbuf));
    BN_clear(st->w);
    BN_clear(st->scalar);
    EC_POINT_free(peer);
    EC_POINT_free(mn);
    EC_POINT_clear_free(t);
    EC_POINT_clear_free(k);
    BN_CTX_free(bn);
    return rc;
}

int tc_spake2_verify(struct tc_spake2 *st, const uint8_t peer_mac[TC_SPAKE2_MAC_LEN])
{
    const uint8_t *want;
    int ok;

    if (st == NULL || peer_mac == NULL || st->state != SPAKE2_EXPECT_MAC) {
        return -1;
    }
    want = st->side == 'A' ? st->mac_b : st->mac_a;
    ok = CRYPTO_memcmp(want, peer_mac, TC_SPAKE2_MAC_LEN) == 0;
    /* One verification per exchange: a second guess at the MAC gets nothing. */
    st->state = SPAKE2_DONE;
    return ok ? 0 : -1;
}

int tc_spake2_transcript(const struct tc_spake2 *st, const uint8_t **tt, size_t *tt_len)
{
    if (st == NULL || tt == NULL || tt_len == NULL ||
        (st->state != SPAKE2_EXPECT_MAC && st->state != SPAKE2_DONE)) {
        return -1;
    }
    *tt = st->tt;
    *tt_len = st->tt_len;
    return 0;
}

int tc_spake2_keys(const struct tc_spake2 *st, uint8_t ke[TC_SPAKE2_KEY_LEN],
                   uint8_t ka[TC_SPAKE2_KEY_LEN], uint8_t kca[TC_SPAKE2_KEY_LEN],
                   uint8_t kcb[TC_SPAKE2_KEY_LEN])
{
    if (st == NULL || (st->state != SPAKE2_EXPECT_MAC && st->state != SPAKE2_DONE)) {
        return -1;
    }
    memcpy(ke, st->ke, TC_SPAKE2_KEY_LEN);
    memcpy(ka, st->ka, TC_SPAKE2_KEY_LEN);
    memcpy(kca, st->kca, TC_SPAKE2_KEY_LEN);
    memcpy(kcb, st->kcb, TC_SPAKE2_KEY_LEN);
    return 0;
}

void tc_spake2_free(struct tc_spake2 *st)
{
    if (st == NULL) {
        return;
    }
    BN_clear_free(st->w);
    BN_clear_free(st->scalar);
    EC_GROUP_free(st->group);
    if (st->tt != NULL) {
        OPENSSL_cleanse(st->tt, st->tt_len);
        free(st->tt);
    }
    if (st->aad != NULL) {
        OPENSSL_cleanse(st->aad, st->aad_len);
    }
    free(st->a_id);
    free(st->b_id);
    free(st->aad);
    OPENSSL_cleanse(st, sizeof(*st));
    free(st);
}
