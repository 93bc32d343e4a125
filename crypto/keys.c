#include "crypto/keys.h"

#include <string.h>

#include "crypto/kdf.h"

/* CPRF(K, CONST | extra, L) = HKDF-Expand(K, CONST | extra, L). */
static int cprf(uint8_t *out, size_t len, const uint8_t key[TC_K_LEN], uint8_t c,
                const uint8_t *extra, size_t extra_len)
{
    uint8_t info[1 + TC_SN_MAX];

    if (extra_len > TC_SN_MAX) {
        return TC_E_INVALID;
    }
    info[0] = c;
    if (extra_len > 0) {
        memcpy(info + 1, extra, extra_len);
    }
    return tc_hkdf_expand(out, len, key, TC_K_LEN, info, 1 + extra_len);
}

int tc_keys_prk(uint8_t ss0[TC_K_LEN], const uint8_t n_a[TC_NONCE_LEN], const uint8_t *transcript,
                size_t transcript_len, const uint8_t *init1, size_t init1_len, const uint8_t *init2,
                size_t init2_len, const uint8_t *es, size_t es_len)
{
    /* "PRK = Extract(N_A, eno_transcript | Init1 | Init2 | ES)" (§3.3): the
     * salt is N_A alone; N_B enters through Init2. */
    const struct tc_iovec ikm[4] = {
        {transcript, transcript_len},
        {init1, init1_len},
        {init2, init2_len},
        {es, es_len},
    };

    tc_hkdf_extract(ss0, n_a, TC_NONCE_LEN, ikm, 4);
    return TC_OK;
}

int tc_keys_next_ss(uint8_t next[TC_K_LEN], const uint8_t ss[TC_K_LEN])
{
    return cprf(next, TC_K_LEN, ss, TC_CONST_NEXTK, NULL, 0);
}

int tc_keys_mk0(uint8_t mk[TC_K_LEN], const uint8_t ss[TC_K_LEN], const uint8_t *sn, size_t sn_len)
{
    return cprf(mk, TC_K_LEN, ss, TC_CONST_REKEY, sn, sn_len);
}

int tc_keys_next_mk(uint8_t next[TC_K_LEN], const uint8_t mk[TC_K_LEN])
{
    return cprf(next, TC_K_LEN, mk, TC_CONST_REKEY, NULL, 0);
}

int tc_keys_traffic(uint8_t out[TC_TRAFFIC_KEY_MAX], const uint8_t mk[TC_K_LEN], bool key_a,
                    const struct tc_aead_alg *alg)
{
    return cprf(out, alg->key_len + alg->nonce_len, mk, key_a ? TC_CONST_KEY_A : TC_CONST_KEY_B,
                NULL, 0);
}

int tc_keys_session_id(uint8_t sid[TC_SESSID_LEN], uint8_t tep_byte, const uint8_t ss[TC_K_LEN],
                       const uint8_t *sn, size_t sn_len)
{
    sid[0] = tep_byte;
    return cprf(sid + 1, TC_K_LEN, ss, TC_CONST_SESSID, sn, sn_len);
}

int tc_keys_resume_id(uint8_t out[TC_RESUME_ID_LEN], const uint8_t ss[TC_K_LEN])
{
    return cprf(out, TC_RESUME_ID_LEN, ss, TC_CONST_RESUME, NULL, 0);
}
