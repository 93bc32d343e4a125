/*
 * A password: SPAKE2 (RFC 9382, auth/spake2.c) over the connection.  Both
 * sides send their share (with role and session ID in clear), then their
 * key confirmation MAC, whose associated data is LABEL_PAKE || session ID:
 * a man in the middle who runs SPAKE2 with each end separately sees two
 * session IDs and fails the confirmation even with the right password.
 *
 * w comes from the password by scrypt salted with LABEL_SCRYPT and the two
 * identities (RFC 9382 §3.2: "w is derived from the password ... using a
 * memory-hard function"), so a server may store w instead of the password.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/spake2.h"
#include "auth/wire.h"

/* scrypt N = 2^15, r = 8, p = 1: 32 MiB and some tens of ms per call. */
#define SCRYPT_N (1u << 15)
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SCRYPT_MAXMEM (64u * 1024 * 1024)
#define ID_MAX 1024

static size_t put_id(uint8_t *p, const char *id, size_t len)
{
    p[0] = (uint8_t)(len >> 8);
    p[1] = (uint8_t)len;
    memcpy(p + 2, id, len);
    return 2 + len;
}

int tcpcrypt_auth_password_derive(const char *password, const char *a_id, const char *b_id,
                                  unsigned char w[TCPCRYPT_AUTH_W_LEN])
{
    uint8_t salt[sizeof(TC_AUTH_LABEL_SCRYPT) - 1 + 2 * (2 + ID_MAX)];
    size_t a_len, b_len, n = sizeof(TC_AUTH_LABEL_SCRYPT) - 1;

    if (password == NULL || a_id == NULL || b_id == NULL || w == NULL) {
        return TCPCRYPT_AUTH_ECONFIG;
    }
    a_len = strlen(a_id);
    b_len = strlen(b_id);
    if (a_len > ID_MAX || b_len > ID_MAX) {
        return TCPCRYPT_AUTH_ECONFIG;
    }
    memcpy(salt, TC_AUTH_LABEL_SCRYPT, n);
    n += put_id(salt + n, a_id, a_len);
    n += put_id(salt + n, b_id, b_len);
    if (EVP_PBE_scrypt(password, strlen(password), salt, n, SCRYPT_N, SCRYPT_R, SCRYPT_P,
                       SCRYPT_MAXMEM, w, TCPCRYPT_AUTH_W_LEN) != 1) {
        OPENSSL_cleanse(w, TCPCRYPT_AUTH_W_LEN);
        return TCPCRYPT_AUTH_EINTERNAL;
    }
    return TCPCRYPT_AUTH_OK;
}

int tcpcrypt_auth_password(int fd, const struct tcpcrypt_session *s, const char *password,
                           const char *a_id, const char *b_id)
{
    unsigned char w[TCPCRYPT_AUTH_W_LEN];
    int err = tcpcrypt_auth_password_derive(password, a_id, b_id, w);

    if (err == TCPCRYPT_AUTH_OK) {
        err = tcpcrypt_auth_password_w(fd, s, w, a_id, b_id);
    }
    OPENSSL_cleanse(w, sizeof(w));
    return err;
}

/* Receives the peer's message of the given type: role, session ID, then
 * exactly want bytes, copied to out. */
static int recv_part(struct tc_auth_io *io, uint8_t type, const struct tcpcrypt_session *ses,
                     uint8_t *out, size_t want)
{
    uint8_t in[TC_AUTH_SID_HDR + TCPCRYPT_SESSID_LEN + TC_SPAKE2_SHARE_LEN];
    size_t len, off = 0;
    int err = tc_auth_recv(io, type, in, sizeof(in), &len);

    if (err == TCPCRYPT_AUTH_OK) {
        err = tc_auth_check_session(in, len, &off, ses);
    }
    if (err == TCPCRYPT_AUTH_OK && len - off != want) {
        err = TCPCRYPT_AUTH_EPROTO;
    }
    if (err == TCPCRYPT_AUTH_OK) {
        memcpy(out, in + off, want);
    }
    return err;
}

int tcpcrypt_auth_password_w(int fd, const struct tcpcrypt_session *s,
                             const unsigned char w[TCPCRYPT_AUTH_W_LEN], const char *a_id,
                             const char *b_id)
{
    uint8_t msg[TC_AUTH_SID_HDR + TCPCRYPT_SESSID_LEN + TC_SPAKE2_SHARE_LEN];
    uint8_t aad[sizeof(TC_AUTH_LABEL_PAKE) - 1 + TCPCRYPT_SESSID_LEN];
    uint8_t peer_share[TC_SPAKE2_SHARE_LEN], peer_mac[TC_SPAKE2_MAC_LEN];
    struct tcpcrypt_session ses;
    struct tc_spake2 *st = NULL;
    struct tc_auth_io io;
    size_t n, aad_len, a_len, b_len;
    int err;

    if (w == NULL || a_id == NULL || b_id == NULL) {
        return TCPCRYPT_AUTH_ECONFIG;
    }
    a_len = strlen(a_id);
    b_len = strlen(b_id);
    if (a_len > ID_MAX || b_len > ID_MAX) {
        return TCPCRYPT_AUTH_ECONFIG;
    }
    err = tc_auth_begin(&io, fd, TC_AUTH_M_PASSWORD, s, &ses);
    if (err != TCPCRYPT_AUTH_OK) {
        return err;
    }
    aad_len = sizeof(TC_AUTH_LABEL_PAKE) - 1;
    memcpy(aad, TC_AUTH_LABEL_PAKE, aad_len);
    memcpy(aad + aad_len, ses.id, ses.id_len);
    aad_len += ses.id_len;
    /* Host A takes SPAKE2's side A (auth.h). */
    st = tc_spake2_new(ses.role, w, TCPCRYPT_AUTH_W_LEN, (const uint8_t *)a_id, a_len,
                       (const uint8_t *)b_id, b_len, aad, aad_len);
    if (st == NULL) {
        return TCPCRYPT_AUTH_EINTERNAL;
    }
    n = tc_auth_put_session(msg, &ses);
    if (tc_spake2_share(st, msg + n) != 0) {
        err = TCPCRYPT_AUTH_EINTERNAL;
        goto out;
    }
    err = tc_auth_send(&io, TC_AUTH_T_PAKE_SHARE, msg, n + TC_SPAKE2_SHARE_LEN);
    if (err != TCPCRYPT_AUTH_OK) {
        goto out;
    }
    err = recv_part(&io, TC_AUTH_T_PAKE_SHARE, &ses, peer_share, TC_SPAKE2_SHARE_LEN);
    if (err != TCPCRYPT_AUTH_OK) {
        goto verdict;
    }
    if (tc_spake2_finish(st, peer_share, msg + n) != 0) {
        err = TCPCRYPT_AUTH_EPROTO; /* not a valid point */
        goto verdict;
    }
    err = tc_auth_send(&io, TC_AUTH_T_PAKE_CONFIRM, msg, n + TC_SPAKE2_MAC_LEN);
    if (err != TCPCRYPT_AUTH_OK) {
        goto out;
    }
    err = recv_part(&io, TC_AUTH_T_PAKE_CONFIRM, &ses, peer_mac, TC_SPAKE2_MAC_LEN);
    if (err != TCPCRYPT_AUTH_OK) {
        goto verdict;
    }
    if (tc_spake2_verify(st, peer_mac) != 0) {
        err = TCPCRYPT_AUTH_EPASSWORD;
    }
verdict:
    err = tc_auth_verdict(&io, err);
    if (err == TCPCRYPT_AUTH_OK) {
        err = tc_auth_await_result(&io);
    }
out:
    tc_spake2_free(st);
    OPENSSL_cleanse(msg, sizeof(msg));
    return err;
}
