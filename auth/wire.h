/*
 * The wire format of libtcpcrypt's authentication messages, and the
 * internal calls that move them (auth/msg.c).
 *
 * Every message is an 8-byte header and a body:
 *
 *   0   2  magic "tA" (0x74 0x41)
 *   2   1  version (TC_AUTH_VERSION)
 *   3   1  method (TC_AUTH_M_*)
 *   4   1  type (TC_AUTH_T_*)
 *   5   3  body length, big-endian, at most TC_AUTH_BODY_MAX (and each
 *          type's own limit)
 *
 * Every authenticator's body begins with what its sender saw in clear:
 *
 *   role (1: 'A' or 'B'), session ID length (1), session ID
 *
 * so that a receiver tells a man in the middle or a message replayed from
 * another connection (another session ID: TCPCRYPT_AUTH_ESESSION) and a
 * reflected one (our own role: TCPCRYPT_AUTH_EROLE) from a wrong key or
 * signature, which it checks only afterwards.  Each MAC and signature input
 * starts with its own label (TC_AUTH_LABEL_*), so that no authenticator of
 * one method or step is valid for another.
 *
 * An exchange ends with one RESULT message from each side that verified
 * something: an empty body (accepted) or TC_AUTH_T_REJECT with one byte,
 * the rejecting side's (positive) error code, so that the peer returns
 * TCPCRYPT_AUTH_EREJECTED instead of seeing a bare close.  A REJECT is
 * accepted in place of any message.
 */
#ifndef TCPCRYPT_AUTH_WIRE_H
#define TCPCRYPT_AUTH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <tcpcrypt/auth.h>

#define TC_AUTH_MAGIC0 0x74
#define TC_AUTH_MAGIC1 0x41
#define TC_AUTH_VERSION 1
#define TC_AUTH_HDR_LEN 8
#define TC_AUTH_BODY_MAX 65536

/* Methods. */
#define TC_AUTH_M_PSK 1
#define TC_AUTH_M_CERT 2
#define TC_AUTH_M_PASSWORD 3

/* Types. */
#define TC_AUTH_T_PSK_MAC 1      /* role, sid, HMAC-SHA256 (32) */
#define TC_AUTH_T_CERT_SIG 2     /* role, sid, batch proof, signature, chain */
#define TC_AUTH_T_PAKE_SHARE 3   /* role, sid, SPAKE2 share (65) */
#define TC_AUTH_T_PAKE_CONFIRM 4 /* role, sid, SPAKE2 key confirmation MAC (32) */
#define TC_AUTH_T_RESULT 5       /* empty: the peer's proof was accepted */
#define TC_AUTH_T_REJECT 6       /* 1 byte: the rejecting side's error, negated */

/* The session ID field: 1 .. TCPCRYPT_SESSID_LEN bytes. */
#define TC_AUTH_SID_HDR 2 /* role, length */

/* Labels (domain separation). */
#define TC_AUTH_LABEL_PSK "tcpcrypt-auth v1 psk"
#define TC_AUTH_LABEL_LEAF "tcpcrypt-auth v1 cert leaf"
#define TC_AUTH_LABEL_ROOT "tcpcrypt-auth v1 cert batch root"
#define TC_AUTH_LABEL_PAKE "tcpcrypt-auth v1 spake2"
#define TC_AUTH_LABEL_SCRYPT "tcpcrypt-auth v1 password"

/*
 * TC_AUTH_T_CERT_SIG body after role and session ID:
 *
 *   tree size (4), leaf index (4), path length (1), path (32 each),
 *   signature length (2), signature,
 *   certificate count (1), then each certificate: length (3), DER
 *
 * The signature covers LABEL_ROOT || root (32) || tree size (4); a single
 * session is a tree of one (root = its leaf, empty path).
 */
#define TC_AUTH_HASH_LEN 32
#define TC_AUTH_PATH_MAX 32
#define TC_AUTH_TREE_MAX 65536u
#define TC_AUTH_SIG_MAX 1024
#define TC_AUTH_CHAIN_MAX 8
#define TC_AUTH_CERT_MAX 16384

/* ---- auth/msg.c ---- */

/* A connection's message channel: the socket and the wait for each message. */
struct tc_auth_io {
    int fd;
    int timeout_ms;
    uint8_t method;
};

/* Resolves the session to bind (s, or the socket's when s is NULL) and the
 * wait; checks s. */
int tc_auth_begin(struct tc_auth_io *io, int fd, uint8_t method, const struct tcpcrypt_session *s,
                  struct tcpcrypt_session *out) __attribute__((warn_unused_result));

int tc_auth_send(struct tc_auth_io *io, uint8_t type, const uint8_t *body, size_t len)
    __attribute__((warn_unused_result));

/* Reads exactly one message of the given type into body (cap bytes, at
 * least the type's limit).  TCPCRYPT_AUTH_EREJECTED for a REJECT,
 * EMETHOD for another method, EPROTO for anything malformed. */
int tc_auth_recv(struct tc_auth_io *io, uint8_t type, uint8_t *body, size_t cap, size_t *len)
    __attribute__((warn_unused_result));

/* Writes the role and session ID field; returns its length. */
size_t tc_auth_put_session(uint8_t *p, const struct tcpcrypt_session *s);

/* Checks a received role and session ID field against ours (the sender
 * must hold the other role and the same session ID); *off moves past it. */
int tc_auth_check_session(const uint8_t *body, size_t len, size_t *off,
                          const struct tcpcrypt_session *ours) __attribute__((warn_unused_result));

/* After a local verdict err: a failure that the peer should learn (a
 * verification failure, not a broken connection) is sent as a REJECT and
 * returned; TCPCRYPT_AUTH_OK is sent as RESULT. */
int tc_auth_verdict(struct tc_auth_io *io, int err) __attribute__((warn_unused_result));

/* Waits for the peer's RESULT: OK, or EREJECTED. */
int tc_auth_await_result(struct tc_auth_io *io) __attribute__((warn_unused_result));

/* ---- auth/merkle.c ---- */

void tc_auth_leaf(const struct tcpcrypt_session *s, uint8_t out[TC_AUTH_HASH_LEN]);
/* The root of n >= 1 leaves (RFC 9162 §2.1.1 shape). */
void tc_auth_merkle_root(const uint8_t (*leaves)[TC_AUTH_HASH_LEN], size_t n,
                         uint8_t root[TC_AUTH_HASH_LEN]);
/* The inclusion path of leaf i; returns its length (<= TC_AUTH_PATH_MAX). */
size_t tc_auth_merkle_path(const uint8_t (*leaves)[TC_AUTH_HASH_LEN], size_t n, size_t i,
                           uint8_t (*path)[TC_AUTH_HASH_LEN]);
/* Recomputes the root from a leaf and its path (RFC 9162 §2.1.3.2); false
 * when the path has the wrong length for (i, n). */
int tc_auth_merkle_verify(const uint8_t leaf[TC_AUTH_HASH_LEN], size_t i, size_t n,
                          const uint8_t (*path)[TC_AUTH_HASH_LEN], size_t path_len,
                          uint8_t root[TC_AUTH_HASH_LEN]) __attribute__((warn_unused_result));
/* The signed message: LABEL_ROOT || root || n; returns its length. */
size_t tc_auth_root_tbs(const uint8_t root[TC_AUTH_HASH_LEN], uint32_t n, uint8_t *out, size_t cap);

/* ---- auth/cert.c ---- */

/* Sends the CERT_SIG message for one leaf of a signed tree, then waits for
 * the client's RESULT. */
int tc_auth_cert_send(struct tc_auth_io *io, const struct tcpcrypt_session *s,
                      const struct tcpcrypt_auth_signer *signer, uint32_t tree_size, uint32_t index,
                      const uint8_t (*path)[TC_AUTH_HASH_LEN], size_t path_len, const uint8_t *sig,
                      size_t sig_len) __attribute__((warn_unused_result));
/* Signs tbs with the signer's key. */
int tc_auth_sign(const struct tcpcrypt_auth_signer *signer, const uint8_t *tbs, size_t tbs_len,
                 uint8_t *sig, size_t *sig_len) __attribute__((warn_unused_result));

#endif
