/*
 * Init1 and Init2 (RFC 8548 §4.1).  All integers are big-endian.
 */
#include "crypto/init.h"

#include <string.h>

#include "crypto/aead.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

size_t tc_init1_size(const struct tc_kex *kx, size_t nciphers)
{
    return TC_INIT1_FIXED_LEN + 2 * nciphers + TC_NONCE_LEN + kx->pub_len;
}

size_t tc_init2_size(const struct tc_kex *kx)
{
    return TC_INIT2_FIXED_LEN + TC_NONCE_LEN + kx->pub_len;
}

/*
 * "Implementations of this protocol MUST construct Init1 such that the
 * ignored field has zero length" (§4.1): message_len is exactly the fields.
 */
int tc_init1_encode(uint8_t *out, size_t cap, size_t *outlen, const struct tc_kex *kx,
                    const uint16_t *ciphers, size_t nciphers, const uint8_t n_a[TC_NONCE_LEN],
                    const uint8_t *pub)
{
    size_t len, off;

    if (nciphers == 0 || nciphers > TC_CIPHERS_MAX) {
        return TC_E_INVALID;
    }
    len = tc_init1_size(kx, nciphers);
    if (len > cap) {
        return TC_E_NOSPACE;
    }
    put_u32(out, TC_INIT1_MAGIC);
    put_u32(out + 4, (uint32_t)len);
    out[8] = (uint8_t)nciphers;
    off = TC_INIT1_FIXED_LEN;
    for (size_t i = 0; i < nciphers; i++, off += 2) {
        put_u16(out + off, ciphers[i]);
    }
    memcpy(out + off, n_a, TC_NONCE_LEN);
    off += TC_NONCE_LEN;
    memcpy(out + off, pub, kx->pub_len);
    *outlen = len;
    return TC_OK;
}

int tc_init2_encode(uint8_t *out, size_t cap, size_t *outlen, const struct tc_kex *kx,
                    uint16_t cipher, const uint8_t n_b[TC_NONCE_LEN], const uint8_t *pub)
{
    size_t len = tc_init2_size(kx);

    if (len > cap) {
        return TC_E_NOSPACE;
    }
    put_u32(out, TC_INIT2_MAGIC);
    put_u32(out + 4, (uint32_t)len);
    put_u16(out + 8, cipher);
    memcpy(out + TC_INIT2_FIXED_LEN, n_b, TC_NONCE_LEN);
    memcpy(out + TC_INIT2_FIXED_LEN + TC_NONCE_LEN, pub, kx->pub_len);
    *outlen = len;
    return TC_OK;
}

/*
 * The common header: the magic is checked as soon as four bytes are in, so a
 * peer that sends something else is caught without waiting for more; then
 * message_len bounds the rest.  *msglen is set once the whole message is
 * available in buf.
 */
static int init_header(const uint8_t *buf, size_t len, uint32_t magic, size_t min_len,
                       size_t *msglen)
{
    uint8_t want[4];
    size_t m;

    put_u32(want, magic);
    /* The magic is public: plain compares are fine. */
    if (memcmp(buf, want, len < 4 ? len : 4) != 0) {
        return TC_E_BAD_MAGIC;
    }
    if (len < TC_INIT_HDR_LEN) {
        return TC_WANT_MORE;
    }
    m = get_u32(buf + 4);
    if (m < min_len) {
        return TC_E_INIT_SHORT;
    }
    if (m > TC_INIT_MAX_LEN) {
        return TC_E_INIT_TOO_LONG;
    }
    if (len < m) {
        return TC_WANT_MORE;
    }
    *msglen = m;
    return TC_OK;
}

int tc_init1_decode(const uint8_t *buf, size_t len, const struct tc_kex *kx, struct tc_init1 *out)
{
    size_t m, k, off;
    int err;

    /* The smallest Init1 carries one cipher. */
    err = init_header(buf, len, TC_INIT1_MAGIC, tc_init1_size(kx, 1), &m);
    if (err != TC_OK) {
        return err;
    }
    k = buf[8];
    /* nciphers must fit inside message_len with N_A and Pub_A after it; zero
     * ciphers is a list nobody can choose from. */
    if (k == 0 || tc_init1_size(kx, k) > m) {
        return TC_E_CIPHER_LIST;
    }
    out->len = m;
    out->nciphers = k;
    off = TC_INIT1_FIXED_LEN;
    for (size_t i = 0; i < k; i++, off += 2) {
        out->ciphers[i] = get_u16(buf + off);
    }
    memcpy(out->n_a, buf + off, TC_NONCE_LEN);
    off += TC_NONCE_LEN;
    memcpy(out->pub, buf + off, kx->pub_len);
    /* "When receiving Init1, however, implementations MUST permit and ignore
     * any bytes following Pub_A."  They still enter the key schedule, which
     * hashes the transmitted encoding (all m bytes). */
    return TC_OK;
}

int tc_init2_decode(const uint8_t *buf, size_t len, const struct tc_kex *kx,
                    const uint16_t *offered, size_t noffered, struct tc_init2 *out)
{
    size_t m;
    uint16_t cipher;
    int err;
    bool found = false;

    err = init_header(buf, len, TC_INIT2_MAGIC, tc_init2_size(kx), &m);
    if (err != TC_OK) {
        return err;
    }
    cipher = get_u16(buf + 8);
    /* "If host A receives Init2 with a sym_cipher value that was not present
     * in the sym_cipher_list it previously transmitted in Init1, it MUST
     * abort the connection" (§3.3). */
    for (size_t i = 0; i < noffered; i++) {
        found |= offered[i] == cipher;
    }
    if (!found) {
        return TC_E_CIPHER_NOT_OFFERED;
    }
    out->len = m;
    out->cipher = cipher;
    memcpy(out->n_b, buf + TC_INIT2_FIXED_LEN, TC_NONCE_LEN);
    memcpy(out->pub, buf + TC_INIT2_FIXED_LEN + TC_NONCE_LEN, kx->pub_len);
    return TC_OK;
}

int tc_aead_choose(uint16_t *chosen, const uint16_t *offered, size_t noffered,
                   const uint16_t *prefs, size_t nprefs)
{
    for (size_t p = 0; p < nprefs; p++) {
        if (tc_aead_find(prefs[p]) == NULL) {
            continue;
        }
        for (size_t i = 0; i < noffered; i++) {
            if (offered[i] == prefs[p]) {
                *chosen = prefs[p];
                return TC_OK;
            }
        }
    }
    return TC_E_NO_COMMON_CIPHER;
}
