/*
 * SPAKE2 (RFC 9382), ciphersuite SPAKE2-P256-SHA256-HKDF-HMAC: the
 * password exchange under tcpcrypt_auth_password() (<tcpcrypt/auth.h>).
 * Pure computation, no I/O:
 *
 *   A: share(pA) ------------------> B: share(pB)
 *   A <------------------------------ B
 *   both: finish(peer share) -> own confirmation MAC, sent to the peer
 *   both: verify(peer MAC)
 *
 * Neither side may trust anything before verify() returns 0.  A state
 * runs one exchange; free it afterwards (tc_spake2_free wipes w, the
 * ephemeral scalar, K, the transcript and every derived key).
 */
#ifndef TCPCRYPT_AUTH_SPAKE2_H
#define TCPCRYPT_AUTH_SPAKE2_H

#include <stddef.h>
#include <stdint.h>

#define TC_SPAKE2_SHARE_LEN 65 /* uncompressed P-256 point (SEC1: 04 || x || y) */
#define TC_SPAKE2_MAC_LEN 32   /* HMAC-SHA256 */
#define TC_SPAKE2_KEY_LEN 16   /* Ke, Ka, KcA, KcB: half a SHA-256 output (RFC 9382 §4) */
#define TC_SPAKE2_W_MAX 64     /* longest w accepted (reduced mod the group order) */

#define TC_SPAKE2_CHECK __attribute__((warn_unused_result))

struct tc_spake2;

/* side 'A' or 'B'; w: 32 bytes, big-endian (1 to TC_SPAKE2_W_MAX accepted,
 * reduced mod the group order inside; a w that reduces to 0 is refused);
 * a_id, b_id: the parties' identities (may be empty, NULL with length 0);
 * aad: bound into the key confirmation (RFC 9382 "AAD").  NULL on a bad
 * argument or when out of memory. */
struct tc_spake2 *tc_spake2_new(int side, const uint8_t *w, size_t w_len, const uint8_t *a_id,
                                size_t a_id_len, const uint8_t *b_id, size_t b_id_len,
                                const uint8_t *aad, size_t aad_len) TC_SPAKE2_CHECK;
/* This side's share, pA = x*P + w*M (A) or pB = y*P + w*N (B).  0 ok. */
int tc_spake2_share(struct tc_spake2 *st, uint8_t out[TC_SPAKE2_SHARE_LEN]) TC_SPAKE2_CHECK;
/* Takes the peer's share and returns this side's confirmation MAC.  0 ok,
 * -1 invalid peer share (not on the curve, the identity, a wrong
 * encoding; or K would be the identity), or a call out of order. */
int tc_spake2_finish(struct tc_spake2 *st, const uint8_t peer_share[TC_SPAKE2_SHARE_LEN],
                     uint8_t my_mac[TC_SPAKE2_MAC_LEN]) TC_SPAKE2_CHECK;
/* 0 when the peer's MAC verifies (constant time), -1 otherwise. */
int tc_spake2_verify(struct tc_spake2 *st,
                     const uint8_t peer_mac[TC_SPAKE2_MAC_LEN]) TC_SPAKE2_CHECK;
void tc_spake2_free(struct tc_spake2 *st); /* wipes every secret; NULL is fine */

/*
 * For known-answer tests only (RFC 9382 Appendix B): a state whose
 * ephemeral scalar (x for A, y for B; big-endian, 1 to 32 bytes, reduced
 * mod the order, nonzero) is given instead of drawn at random, and read
 * access to what finish() derived.  Protocol code never calls these.
 */
struct tc_spake2 *tc_spake2_new_with_scalar(int side, const uint8_t *w, size_t w_len,
                                            const uint8_t *scalar, size_t scalar_len,
                                            const uint8_t *a_id, size_t a_id_len,
                                            const uint8_t *b_id, size_t b_id_len,
                                            const uint8_t *aad, size_t aad_len) TC_SPAKE2_CHECK;
/* After a successful finish(): the transcript TT (valid until free), and
 * Ke, Ka, KcA, KcB (TC_SPAKE2_KEY_LEN each).  -1 before. */
int tc_spake2_transcript(const struct tc_spake2 *st, const uint8_t **tt,
                         size_t *tt_len) TC_SPAKE2_CHECK;
int tc_spake2_keys(const struct tc_spake2 *st, uint8_t ke[TC_SPAKE2_KEY_LEN],
                   uint8_t ka[TC_SPAKE2_KEY_LEN], uint8_t kca[TC_SPAKE2_KEY_LEN],
                   uint8_t kcb[TC_SPAKE2_KEY_LEN]) TC_SPAKE2_CHECK;

#endif
