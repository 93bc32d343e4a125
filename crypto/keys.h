/*
 * The key schedule of RFC 8548 §3.3-§3.5:
 *
 *   PRK           = Extract(N_A, eno_transcript | Init1 | Init2 | ES)
 *   ss[0] = PRK,    ss[i] = CPRF(ss[i-1], CONST_NEXTK, K_LEN)
 *   mk[0]         = CPRF(ss[i], CONST_REKEY | sn[i], K_LEN)
 *   mk[j]         = CPRF(mk[j-1], CONST_REKEY, K_LEN)
 *   k_ab[j]       = CPRF(mk[j], CONST_KEY_A, ae_key_len + ae_nonce_len)
 *   k_ba[j]       = CPRF(mk[j], CONST_KEY_B, ae_key_len + ae_nonce_len)
 *   session_id[i] = TEP-byte | CPRF(ss[i], CONST_SESSID | sn[i], K_LEN)
 *   resume[i]     = CPRF(ss[i], CONST_RESUME, 18)
 *
 * CPRF(K, CONST, L) is HKDF-Expand-SHA256 with info = CONST, followed by sn[i]
 * where the formula names it (§2, Figure 1).
 */
#ifndef TCPCRYPT_CRYPTO_KEYS_H
#define TCPCRYPT_CRYPTO_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/aead.h"
#include "crypto/err.h"
#include "crypto/wire.h"

#define TC_SN_MAX (2 * TC_RESUME_NONCE_MAX)

TC_MUST_CHECK int tc_keys_prk(uint8_t ss0[TC_K_LEN], const uint8_t n_a[TC_NONCE_LEN],
                              const uint8_t *transcript, size_t transcript_len,
                              const uint8_t *init1, size_t init1_len, const uint8_t *init2,
                              size_t init2_len, const uint8_t *es, size_t es_len);
TC_MUST_CHECK int tc_keys_next_ss(uint8_t next[TC_K_LEN], const uint8_t ss[TC_K_LEN]);
TC_MUST_CHECK int tc_keys_mk0(uint8_t mk[TC_K_LEN], const uint8_t ss[TC_K_LEN], const uint8_t *sn,
                              size_t sn_len);
TC_MUST_CHECK int tc_keys_next_mk(uint8_t next[TC_K_LEN], const uint8_t mk[TC_K_LEN]);
/* k_ab[j] when key_a, else k_ba[j]: alg->key_len + alg->nonce_len bytes. */
TC_MUST_CHECK int tc_keys_traffic(uint8_t out[TC_TRAFFIC_KEY_MAX], const uint8_t mk[TC_K_LEN],
                                  bool key_a, const struct tc_aead_alg *alg);
/* tep_byte is the TEP byte exactly as B sent it, v bit included (§3.4). */
TC_MUST_CHECK int tc_keys_session_id(uint8_t sid[TC_SESSID_LEN], uint8_t tep_byte,
                                     const uint8_t ss[TC_K_LEN], const uint8_t *sn, size_t sn_len);
TC_MUST_CHECK int tc_keys_resume_id(uint8_t out[TC_RESUME_ID_LEN], const uint8_t ss[TC_K_LEN]);

#endif
