/*
 * Each crypto backend against the other, on random inputs: the OpenSSL and
 * libsodium AEADs must produce byte-identical ciphertexts and open each
 * other's; X25519 through both libraries must agree.  Then, for every
 * algorithm and backend, forgery rejection (TC_E_AUTH with a zeroed output),
 * in-place operation, and the lookup tables.
 */
#include "tests/check.h"

#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/kex.h"
#include "crypto/rng.h"

#define MSG_MAX 65519 /* the largest length below; more than a frame holds */
#define AD_MAX 64

static const size_t lengths[] = {0, 1, 15, 16, 17, 1000, 65519};
static const struct tc_aead_backend *const backends[] = {&tc_aead_openssl, &tc_aead_sodium};

static unsigned cross_messages, forgeries, x25519_pairs;

static void rnd(uint8_t *buf, size_t len)
{
    if (tc_random(&tc_rng_system, buf, len) != TC_OK) {
        fprintf(stderr, "random source failed\n");
        exit(1);
    }
}

static size_t rnd_below(size_t n)
{
    uint32_t r;

    rnd((uint8_t *)&r, sizeof r);
    return r % n;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < len; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

/* ---------------------------------------------------------- cross-backend */

/* Seal with a, compare with b's ciphertext, open each with the other. */
static void cross_one(const struct tc_aead_alg *alg, size_t len, uint8_t *pt, uint8_t *ct_a,
                      uint8_t *ct_b, uint8_t *back)
{
    struct tc_aead_key ka, kb;
    uint8_t key[TC_AEAD_KEY_MAX], nonce[TC_AEAD_NONCE_LEN], ad[AD_MAX];
    /* The frame's 3-byte AD (RFC 8548 §4.2.2) often, other lengths too. */
    size_t adlen = rnd_below(2) ? TC_FRAME_AD_LEN : rnd_below(AD_MAX + 1);

    rnd(key, alg->key_len);
    rnd(nonce, sizeof nonce);
    rnd(ad, adlen);
    rnd(pt, len);

    CHECK_INT(tc_aead_key_init(&ka, alg, &tc_aead_openssl, key), TC_OK);
    CHECK_INT(tc_aead_key_init(&kb, alg, &tc_aead_sodium, key), TC_OK);
    CHECK_INT(tc_aead_seal(&ka, nonce, ad, adlen, pt, len, ct_a), TC_OK);
    CHECK_INT(tc_aead_seal(&kb, nonce, ad, adlen, pt, len, ct_b), TC_OK);
    CHECK_MEM(ct_a, ct_b, len + TC_AEAD_TAG_LEN);

    memset(back, 0xa5, len);
    CHECK_INT(tc_aead_open(&kb, nonce, ad, adlen, ct_a, len + TC_AEAD_TAG_LEN, back), TC_OK);
    CHECK_MEM(back, pt, len);
    memset(back, 0xa5, len);
    CHECK_INT(tc_aead_open(&ka, nonce, ad, adlen, ct_b, len + TC_AEAD_TAG_LEN, back), TC_OK);
    CHECK_MEM(back, pt, len);

    tc_aead_key_wipe(&ka);
    tc_aead_key_wipe(&kb);
    cross_messages++;
}

static void test_cross_aead(void)
{
    static uint8_t pt[MSG_MAX], ct_a[MSG_MAX + TC_AEAD_TAG_LEN], ct_b[MSG_MAX + TC_AEAD_TAG_LEN],
        back[MSG_MAX];
    static const uint16_t ids[] = {TC_AEAD_CHACHA20_POLY1305, TC_AEAD_AES_256_GCM};

    for (size_t a = 0; a < sizeof ids / sizeof ids[0]; a++) {
        const struct tc_aead_alg *alg = tc_aead_find(ids[a]);

        if (!tc_aead_sodium.supports(ids[a])) {
            printf("test_aead: libsodium cannot run %s here; not cross-checked\n", alg->name);
            continue;
        }
        for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
            for (int rep = 0; rep < 4; rep++) {
                cross_one(alg, lengths[l], pt, ct_a, ct_b, back);
            }
        }
        /* And some lengths in between. */
        for (int rep = 0; rep < 32; rep++) {
            cross_one(alg, rnd_below(2048), pt, ct_a, ct_b, back);
        }
    }
}

/* X25519 through libsodium and OpenSSL on random scalars and random u (on
 * the curve or its twist, both of which RFC 7748 defines the function on);
 * and the base-point product against the table's public key. */
static void test_cross_x25519(void)
{
    const struct tc_kex *kx = tc_kex_find(TC_TEP_X25519);
    static const uint8_t nine[32] = {9};

    for (int i = 0; i < 256; i++) {
        uint8_t k[32], u[32], a[32], b[32], pub[TC_PUB_MAX];

        rnd(k, sizeof k);
        rnd(u, sizeof u);
        CHECK_INT(tc_x25519_raw(a, k, u), TC_OK);
        CHECK_INT(tc_x25519_openssl(b, k, u), TC_OK);
        CHECK_MEM(a, b, 32);

        CHECK_INT(tc_x25519_openssl(b, k, nine), TC_OK);
        CHECK_INT(tc_kex_public(kx, pub, k), TC_OK);
        CHECK_MEM(pub, b, 32);
        x25519_pairs++;
    }
}

/* --------------------------------------------------- per algorithm, backend */

/* Open must fail with TC_E_AUTH and leave out all zero. */
static void expect_forgery(struct tc_aead_key *k, const uint8_t *nonce, const uint8_t *ad,
                           size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *out,
                           const char *what, size_t bit)
{
    int rc;

    memset(out, 0xa5, ctlen - TC_AEAD_TAG_LEN);
    rc = tc_aead_open(k, nonce, ad, adlen, ct, ctlen, out);
    tc_checks_run += 2;
    if (rc != TC_E_AUTH) {
        tc_check_fail(__FILE__, __LINE__, "%s/%s: bit %zu of %s flipped: open = %d, want TC_E_AUTH",
                      k->alg->name, k->be->name, bit, what, rc);
    }
    if (!all_zero(out, ctlen - TC_AEAD_TAG_LEN)) {
        tc_check_fail(__FILE__, __LINE__, "%s/%s: bit %zu of %s flipped: output not zeroed",
                      k->alg->name, k->be->name, bit, what);
    }
    forgeries++;
}

static void test_forgery(const struct tc_aead_alg *alg, const struct tc_aead_backend *be)
{
    enum { LEN = 37 }; /* more than two AES blocks, not a multiple of one */
    struct tc_aead_key k, other;
    uint8_t key[TC_AEAD_KEY_MAX], nonce[TC_AEAD_NONCE_LEN], ad[TC_FRAME_AD_LEN];
    uint8_t pt[LEN], ct[LEN + TC_AEAD_TAG_LEN], out[LEN];

    rnd(key, alg->key_len);
    rnd(nonce, sizeof nonce);
    rnd(ad, sizeof ad);
    rnd(pt, sizeof pt);
    CHECK_INT(tc_aead_key_init(&k, alg, be, key), TC_OK);
    CHECK_INT(tc_aead_seal(&k, nonce, ad, sizeof ad, pt, sizeof pt, ct), TC_OK);
    CHECK_INT(tc_aead_open(&k, nonce, ad, sizeof ad, ct, sizeof ct, out), TC_OK);
    CHECK_MEM(out, pt, sizeof pt);

    /* Ciphertext and tag. */
    for (size_t bit = 0; bit < 8 * sizeof ct; bit++) {
        ct[bit / 8] ^= (uint8_t)(1u << bit % 8);
        expect_forgery(&k, nonce, ad, sizeof ad, ct, sizeof ct, out,
                       bit < 8 * LEN ? "ciphertext" : "tag", bit);
        ct[bit / 8] ^= (uint8_t)(1u << bit % 8);
    }
    for (size_t bit = 0; bit < 8 * sizeof nonce; bit++) {
        nonce[bit / 8] ^= (uint8_t)(1u << bit % 8);
        expect_forgery(&k, nonce, ad, sizeof ad, ct, sizeof ct, out, "nonce", bit);
        nonce[bit / 8] ^= (uint8_t)(1u << bit % 8);
    }
    for (size_t bit = 0; bit < 8 * sizeof ad; bit++) {
        ad[bit / 8] ^= (uint8_t)(1u << bit % 8);
        expect_forgery(&k, nonce, ad, sizeof ad, ct, sizeof ct, out, "AD", bit);
        ad[bit / 8] ^= (uint8_t)(1u << bit % 8);
    }
    /* AD dropped or extended, ciphertext truncated (tag taken early). */
    expect_forgery(&k, nonce, NULL, 0, ct, sizeof ct, out, "AD length", 0);
    expect_forgery(&k, nonce, ad, sizeof ad - 1, ct, sizeof ct, out, "AD length", 1);
    expect_forgery(&k, nonce, ad, sizeof ad, ct, sizeof ct - 1, out, "ciphertext length", 0);
    /* Another key. */
    key[0] ^= 1;
    CHECK_INT(tc_aead_key_init(&other, alg, be, key), TC_OK);
    expect_forgery(&other, nonce, ad, sizeof ad, ct, sizeof ct, out, "key", 0);
    tc_aead_key_wipe(&other);

    /* The key still works after all those failures. */
    CHECK_INT(tc_aead_open(&k, nonce, ad, sizeof ad, ct, sizeof ct, out), TC_OK);
    CHECK_MEM(out, pt, sizeof pt);

    /* A forged in-place open leaves zeros where the ciphertext was. */
    ct[0] ^= 1;
    CHECK_INT(tc_aead_open(&k, nonce, ad, sizeof ad, ct, sizeof ct, ct), TC_E_AUTH);
    CHECK(all_zero(ct, LEN));
    tc_aead_key_wipe(&k);
}

static void test_in_place(const struct tc_aead_alg *alg, const struct tc_aead_backend *be)
{
    static uint8_t buf[1000 + TC_AEAD_TAG_LEN], pt[1000], ct[1000 + TC_AEAD_TAG_LEN];
    struct tc_aead_key k;
    uint8_t key[TC_AEAD_KEY_MAX], nonce[TC_AEAD_NONCE_LEN], ad[TC_FRAME_AD_LEN];

    rnd(key, alg->key_len);
    CHECK_INT(tc_aead_key_init(&k, alg, be, key), TC_OK);
    for (size_t l = 0; l < 6; l++) { /* lengths up to 1000 */
        size_t len = lengths[l];

        rnd(nonce, sizeof nonce);
        rnd(ad, sizeof ad);
        rnd(pt, len);
        memcpy(buf, pt, len);
        CHECK_INT(tc_aead_seal(&k, nonce, ad, sizeof ad, pt, len, ct), TC_OK);
        CHECK_INT(tc_aead_seal(&k, nonce, ad, sizeof ad, buf, len, buf), TC_OK);
        CHECK_MEM(buf, ct, len + TC_AEAD_TAG_LEN);
        CHECK_INT(tc_aead_open(&k, nonce, ad, sizeof ad, buf, len + TC_AEAD_TAG_LEN, buf), TC_OK);
        CHECK_MEM(buf, pt, len);
    }
    /* Overlapping but shifted buffers are refused, not garbled. */
    CHECK_INT(tc_aead_seal(&k, nonce, ad, sizeof ad, buf, 100, buf + 1), TC_E_INVALID);
    CHECK_INT(tc_aead_open(&k, nonce, ad, sizeof ad, buf + 1, 100, buf), TC_E_INVALID);
    tc_aead_key_wipe(&k);
}

static void test_each_backend(void)
{
    size_t n;
    const struct tc_aead_alg *const *all = tc_aead_all(&n);

    for (size_t a = 0; a < n; a++) {
        int ran = 0;

        for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
            if (!backends[b]->supports(all[a]->id)) {
                continue;
            }
            test_forgery(all[a], backends[b]);
            test_in_place(all[a], backends[b]);
            ran++;
        }
        CHECK(ran > 0);
        /* The default backend too. */
        test_forgery(all[a], NULL);
    }
}

/* --------------------------------------------------------- tables, errors */

static void test_tables(void)
{
    size_t n = 0;
    const struct tc_aead_alg *const *all = tc_aead_all(&n);
    bool aes_hw = sodium_runtime_has_aesni() && sodium_runtime_has_pclmul();

    CHECK_INT(n, 3);
    CHECK(all[0] != all[1] && all[1] != all[2] && all[0] != all[2]);
    CHECK_INT(all[0]->id, aes_hw ? TC_AEAD_AES_128_GCM : TC_AEAD_CHACHA20_POLY1305);
    for (size_t i = 0; i < n; i++) {
        CHECK(tc_aead_find(all[i]->id) == all[i]);
        CHECK_INT(all[i]->nonce_len, TC_AEAD_NONCE_LEN);
        CHECK_INT(all[i]->tag_len, TC_AEAD_TAG_LEN);
    }
    CHECK_INT(tc_aead_find(TC_AEAD_AES_128_GCM)->key_len, 16);
    CHECK_INT(tc_aead_find(TC_AEAD_AES_256_GCM)->key_len, 32);
    CHECK_INT(tc_aead_find(TC_AEAD_CHACHA20_POLY1305)->key_len, 32);
    CHECK(tc_aead_find(0x0000) == NULL);
    CHECK(tc_aead_find(0x0003) == NULL);
    CHECK(tc_aead_find(0xffff) == NULL);
    CHECK(tc_aead_find(0x1000) == NULL);

    /* RFC 8547 §4.1: the v bit is not part of the identifier. */
    for (uint8_t tep = TC_TEP_P256; tep <= TC_TEP_X448; tep++) {
        const struct tc_kex *kx = tc_kex_find(tep);

        CHECK(kx != NULL && kx->tep == tep);
        CHECK(tc_kex_find((uint8_t)(tep | TC_TEP_V_BIT)) == kx);
        CHECK(kx != NULL && kx->pub_len <= TC_PUB_MAX && kx->es_len <= TC_ES_MAX &&
              kx->priv_len <= TC_PRIV_MAX);
    }
    CHECK(tc_kex_find(0x00) == NULL);
    CHECK(tc_kex_find(0x20) == NULL);
    CHECK(tc_kex_find(0x25) == NULL);
    CHECK(tc_kex_find(TC_TEP_V_BIT) == NULL);
    CHECK(tc_kex_find(0xa5) == NULL);
    CHECK(tc_kex_find(0xff) == NULL);
}

static void test_bad_arguments(void)
{
    struct tc_aead_key k, zeroed;
    struct tc_aead_alg fake = *tc_aead_find(TC_AEAD_AES_128_GCM);
    uint8_t key[32] = {0}, nonce[12] = {0}, buf[64] = {0};

    CHECK_INT(tc_aead_key_init(&k, &tc_aead_find(TC_AEAD_AES_128_GCM)[0], &tc_aead_sodium, key),
              TC_E_UNSUPPORTED);
    CHECK_INT(tc_aead_key_init(&k, &fake, NULL, key), TC_E_INVALID);
    CHECK_INT(tc_aead_key_init(&k, NULL, NULL, key), TC_E_INVALID);

    CHECK_INT(tc_aead_key_init(&k, tc_aead_find(TC_AEAD_CHACHA20_POLY1305), NULL, key), TC_OK);
    /* Too short to hold a tag. */
    CHECK_INT(tc_aead_open(&k, nonce, NULL, 0, buf, TC_AEAD_TAG_LEN - 1, buf + 32), TC_E_INVALID);
    CHECK_INT(tc_aead_seal(&k, nonce, NULL, 1, buf, 1, buf + 32), TC_E_INVALID);
    tc_aead_key_wipe(&k);
    tc_aead_key_wipe(&k); /* twice is fine */
    CHECK_INT(tc_aead_seal(&k, nonce, NULL, 0, buf, 1, buf + 32), TC_E_INVALID);

    memset(&zeroed, 0, sizeof zeroed);
    tc_aead_key_wipe(&zeroed);
    CHECK(all_zero((const uint8_t *)&zeroed, sizeof zeroed));
}

/* Each TEP's key pairs from the system source agree. */
static void test_keygen(void)
{
    for (uint8_t tep = TC_TEP_P256; tep <= TC_TEP_X448; tep++) {
        const struct tc_kex *kx = tc_kex_find(tep);

        for (int i = 0; i < 8; i++) {
            uint8_t pa[TC_PRIV_MAX], pb[TC_PRIV_MAX], qa[TC_PUB_MAX], qb[TC_PUB_MAX];
            uint8_t ea[TC_ES_MAX], eb[TC_ES_MAX];

            CHECK_INT(tc_kex_keygen(kx, &tc_rng_system, pa, qa), TC_OK);
            CHECK_INT(tc_kex_keygen(kx, &tc_rng_system, pb, qb), TC_OK);
            CHECK_INT(tc_kex_shared(kx, ea, pa, qb), TC_OK);
            CHECK_INT(tc_kex_shared(kx, eb, pb, qa), TC_OK);
            CHECK_MEM(ea, eb, kx->es_len);
            CHECK(!all_zero(ea, kx->es_len));
        }
    }
}

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    test_tables();
    test_cross_aead();
    test_cross_x25519();
    test_each_backend();
    test_bad_arguments();
    test_keygen();
    printf("test_aead: %u cross-backend messages, %u X25519 pairs, %u forgeries rejected\n",
           cross_messages, x25519_pairs, forgeries);
    return tc_check_exit("test_aead");
}
