/*
 * A shared secret: each side sends HMAC-SHA256(key, LABEL_PSK || role ||
 * session ID length || session ID) for its own role, and checks the peer's
 * for the peer's role in constant time (RFC 8547 §8.3: bind the role and
 * the session ID).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/wire.h"

#define PSK_MAC_LEN 32
#define PSK_KEY_MIN 16
#define PSK_KEY_MAX 4096

static int psk_mac(const void *key, size_t keylen, const uint8_t *sid_field, size_t sid_field_len,
                   uint8_t mac[PSK_MAC_LEN])
{
    uint8_t in[sizeof(TC_AUTH_LABEL_PSK) - 1 + TC_AUTH_SID_HDR + TCPCRYPT_SESSID_LEN];
    unsigned int out_len = 0;
    size_t n = sizeof(TC_AUTH_LABEL_PSK) - 1;

    memcpy(in, TC_AUTH_LABEL_PSK, n);
    memcpy(in + n, sid_field, sid_field_len);
    n += sid_field_len;
    if (HMAC(EVP_sha256(), key, (int)keylen, in, n, mac, &out_len) == NULL ||
        out_len != PSK_MAC_LEN) {
        return TCPCRYPT_AUTH_EINTERNAL;
    }
    return TCPCRYPT_AUTH_OK;
}

int tcpcrypt_auth_psk(int fd, const struct tcpcrypt_session *s, const void *key, size_t keylen)
{
    uint8_t msg[TC_AUTH_SID_HDR + TCPCRYPT_SESSID_LEN + PSK_MAC_LEN];
    uint8_t in[sizeof(msg)], want[PSK_MAC_LEN];
    struct tcpcrypt_session ses;
    struct tc_auth_io io;
    size_t n, len, off = 0;
    int err;

    if (key == NULL || keylen < PSK_KEY_MIN || keylen > PSK_KEY_MAX) {
        return TCPCRYPT_AUTH_ECONFIG;
    }
    err = tc_auth_begin(&io, fd, TC_AUTH_M_PSK, s, &ses);
    if (err != TCPCRYPT_AUTH_OK) {
        return err;
    }
    n = tc_auth_put_session(msg, &ses);
    err = psk_mac(key, keylen, msg, n, msg + n);
    if (err != TCPCRYPT_AUTH_OK) {
        goto out;
    }
    err = tc_auth_send(&io, TC_AUTH_T_PSK_MAC, msg, n + PSK_MAC_LEN);
    if (err != TCPCRYPT_AUTH_OK) {
        goto out;
    }
    err = tc_auth_recv(&io, TC_AUTH_T_PSK_MAC, in, sizeof(in), &len);
    if (err != TCPCRYPT_AUTH_OK) {
        goto verdict;
    }
    err = tc_auth_check_session(in, len, &off, &ses);
    if (err != TCPCRYPT_AUTH_OK) {
        goto verdict;
    }
    if (len - off != PSK_MAC_LEN) {
        err = TCPCRYPT_AUTH_EPROTO;
        goto verdict;
    }
    /* The peer's MAC is over its own role: the field it sent, which
     * tc_auth_check_session() found to be the other role and our session. */
    err = psk_mac(key, keylen, in, off, want);
    if (err != TCPCRYPT_AUTH_OK) {
        goto verdict;
    }
    if (CRYPTO_memcmp(want, in + off, PSK_MAC_LEN) != 0) {
        err = TCPCRYPT_AUTH_EBADMAC;
    }
verdict:
    err = tc_auth_verdict(&io, err);
    if (err == TCPCRYPT_AUTH_OK) {
        err = tc_auth_await_result(&io);
    }
out:
    OPENSSL_cleanse(want, sizeof(want));
    OPENSSL_cleanse(msg, sizeof(msg));
    return err;
}
