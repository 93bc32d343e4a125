/*
 * Init1/Init2 encoding and decoding (RFC 8548 §4.1), with every malformed
 * message answered by its exact error.
 */
#include <string.h>

#include "crypto/init.h"
#include "tests/check.h"

static const uint16_t three[3] = {TC_AEAD_AES_128_GCM, TC_AEAD_AES_256_GCM,
                                  TC_AEAD_CHACHA20_POLY1305};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static size_t make_init1(uint8_t *buf, const struct tc_kex *kx, size_t nc)
{
    uint8_t n_a[32], pub[TC_PUB_MAX];
    size_t len = 0;

    memset(n_a, 0xa1, sizeof(n_a));
    memset(pub, 0x55, sizeof(pub));
    CHECK_INT(tc_init1_encode(buf, TC_INIT_MAX_LEN, &len, kx, three, nc, n_a, pub), TC_OK);
    return len;
}

static void test_sizes(void)
{
    const struct tc_kex *x25519 = tc_kex_find(TC_TEP_X25519);
    const struct tc_kex *p256 = tc_kex_find(TC_TEP_P256);
    const struct tc_kex *p521 = tc_kex_find(TC_TEP_P521);

    /* The sizes RFC 8548's layouts give (see TCPCRYPT-NOTES §2.4, §2.5). */
    CHECK_INT(tc_init1_size(x25519, 1), 75);
    CHECK_INT(tc_init1_size(x25519, 3), 79);
    CHECK_INT(tc_init2_size(x25519), 74);
    CHECK_INT(tc_init1_size(p256, 3), 82);
    CHECK_INT(tc_init2_size(p256), 77);
    CHECK_INT(tc_init1_size(p521, 3), 116);
    CHECK_INT(tc_init2_size(p521), 111);
}

static void test_roundtrip_and_stream(void)
{
    const struct tc_kex *kx = tc_kex_find(TC_TEP_X25519);
    uint8_t buf[TC_INIT_MAX_LEN + 8];
    struct tc_init1 d;
    size_t len = make_init1(buf, kx, 3);

    /* Every prefix asks for more; the magic is judged as soon as it shows. */
    for (size_t n = 0; n < len; n++) {
        CHECK_INT(tc_init1_decode(buf, n, kx, &d), TC_WANT_MORE);
    }
    /* Frames after the message are not part of it. */
    memset(buf + len, 0xee, 8);
    CHECK_INT(tc_init1_decode(buf, len + 8, kx, &d), TC_OK);
    CHECK_INT(d.len, len);
    CHECK_INT(d.nciphers, 3);
    CHECK_INT(d.ciphers[0], TC_AEAD_AES_128_GCM);
    CHECK_INT(d.ciphers[2], TC_AEAD_CHACHA20_POLY1305);
    CHECK_INT(d.n_a[31], 0xa1);
    CHECK_INT(d.pub[0], 0x55);

    /* "MUST permit and ignore any bytes following Pub_A": message_len grows. */
    put32(buf + 4, (uint32_t)(len + 8));
    CHECK_INT(tc_init1_decode(buf, len + 7, kx, &d), TC_WANT_MORE);
    CHECK_INT(tc_init1_decode(buf, len + 8, kx, &d), TC_OK);
    CHECK_INT(d.len, len + 8);
}

static void test_init1_errors(void)
{
    const struct tc_kex *kx = tc_kex_find(TC_TEP_X25519);
    uint8_t buf[TC_INIT_MAX_LEN + 16];
    struct tc_init1 d;
    size_t len;

    /* Wrong magic, noticed from the first byte; Init2's magic is wrong too. */
    len = make_init1(buf, kx, 1);
    buf[0] ^= 0x01;
    CHECK_INT(tc_init1_decode(buf, 1, kx, &d), TC_E_BAD_MAGIC);
    CHECK_INT(tc_init1_decode(buf, len, kx, &d), TC_E_BAD_MAGIC);
    put32(buf, TC_INIT2_MAGIC);
    CHECK_INT(tc_init1_decode(buf, len, kx, &d), TC_E_BAD_MAGIC);

    /* message_len below the fixed fields (truncated message). */
    len = make_init1(buf, kx, 1);
    put32(buf + 4, (uint32_t)(len - 1));
    CHECK_INT(tc_init1_decode(buf, len, kx, &d), TC_E_INIT_SHORT);
    put32(buf + 4, 0);
    CHECK_INT(tc_init1_decode(buf, len, kx, &d), TC_E_INIT_SHORT);
    put32(buf + 4, 8);
    CHECK_INT(tc_init1_decode(buf, 8, kx, &d), TC_E_INIT_SHORT);

    /* Oversized: refused as soon as the length is known, before the bytes. */
    put32(buf + 4, TC_INIT_MAX_LEN + 1);
    CHECK_INT(tc_init1_decode(buf, 8, kx, &d), TC_E_INIT_TOO_LONG);
    put32(buf + 4, 0xffffffffU);
    CHECK_INT(tc_init1_decode(buf, 8, kx, &d), TC_E_INIT_TOO_LONG);
    put32(buf + 4, TC_INIT_MAX_LEN);
    CHECK_INT(tc_init1_decode(buf, 8, kx, &d), TC_WANT_MORE);

    /* A cipher list longer than message_len allows, or empty. */
    len = make_init1(buf, kx, 3);
    buf[8] = 4;
    CHECK_INT(tc_init1_decode(buf, len, kx, &d), TC_E_CIPHER_LIST);
    buf[8] = 255;
    CHECK_INT(tc_init1_decode(buf, len, kx, &d), TC_E_CIPHER_LIST);
    buf[8] = 0;
    CHECK_INT(tc_init1_decode(buf, len, kx, &d), TC_E_CIPHER_LIST);
    /* Fewer ciphers than sent is a consistent message whose tail is ignored. */
    buf[8] = 2;
    CHECK_INT(tc_init1_decode(buf, len, kx, &d), TC_OK);
    CHECK_INT(d.nciphers, 2);

    /* The encoder refuses what it must never send. */
    CHECK_INT(tc_init1_encode(buf, sizeof(buf), &len, kx, three, 0, buf, buf), TC_E_INVALID);
    CHECK_INT(tc_init1_encode(buf, 74, &len, kx, three, 1, buf, buf), TC_E_NOSPACE);
}

static void test_init2_errors(void)
{
    const struct tc_kex *kx = tc_kex_find(TC_TEP_X448);
    uint8_t buf[TC_INIT_MAX_LEN], n_b[32], pub[TC_PUB_MAX];
    struct tc_init2 d;
    size_t len = 0;

    memset(n_b, 0xb2, sizeof(n_b));
    memset(pub, 0x66, sizeof(pub));
    CHECK_INT(tc_init2_encode(buf, sizeof(buf), &len, kx, TC_AEAD_AES_256_GCM, n_b, pub), TC_OK);
    CHECK_INT(len, 10 + 32 + 56);
    CHECK_INT(tc_init2_decode(buf, len, kx, three, 3, &d), TC_OK);
    CHECK_INT(d.cipher, TC_AEAD_AES_256_GCM);
    CHECK_INT(d.n_b[0], 0xb2);
    CHECK_INT(d.pub[55], 0x66);
    for (size_t n = 0; n < len; n++) {
        CHECK_INT(tc_init2_decode(buf, n, kx, three, 3, &d), TC_WANT_MORE);
    }

    /* A receiving a cipher it did not offer MUST abort (§3.3). */
    CHECK_INT(tc_init2_decode(buf, len, kx, three, 1, &d), TC_E_CIPHER_NOT_OFFERED);
    buf[9] = 0x03;
    CHECK_INT(tc_init2_decode(buf, len, kx, three, 3, &d), TC_E_CIPHER_NOT_OFFERED);
    buf[9] = 0x02;

    put32(buf, TC_INIT1_MAGIC);
    CHECK_INT(tc_init2_decode(buf, len, kx, three, 3, &d), TC_E_BAD_MAGIC);
    put32(buf, TC_INIT2_MAGIC);
    put32(buf + 4, (uint32_t)len - 1);
    CHECK_INT(tc_init2_decode(buf, len, kx, three, 3, &d), TC_E_INIT_SHORT);
    put32(buf + 4, 0x10000);
    CHECK_INT(tc_init2_decode(buf, len, kx, three, 3, &d), TC_E_INIT_TOO_LONG);
}

static void test_choose(void)
{
    static const uint16_t offered[3] = {TC_AEAD_CHACHA20_POLY1305, 0x7777, TC_AEAD_AES_128_GCM};
    static const uint16_t prefs[3] = {0x7777, TC_AEAD_AES_128_GCM, TC_AEAD_CHACHA20_POLY1305};
    static const uint16_t only256[1] = {TC_AEAD_AES_256_GCM};
    uint16_t chosen = 0;

    /* B's order decides; an identifier it does not implement is skipped. */
    CHECK_INT(tc_aead_choose(&chosen, offered, 3, prefs, 3), TC_OK);
    CHECK_INT(chosen, TC_AEAD_AES_128_GCM);
    CHECK_INT(tc_aead_choose(&chosen, offered, 3, only256, 1), TC_E_NO_COMMON_CIPHER);
    CHECK_INT(tc_aead_choose(&chosen, offered, 0, prefs, 3), TC_E_NO_COMMON_CIPHER);
}

int main(void)
{
    test_sizes();
    test_roundtrip_and_stream();
    test_init1_errors();
    test_init2_errors();
    test_choose();
    return tc_check_exit("test_init");
}
