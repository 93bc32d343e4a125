/*
 * Outcomes of the crypto core, grouped by what the connection must do next.
 * Only the preload boundary turns these into errno values.
 */
#ifndef TCPCRYPT_CRYPTO_ERR_H
#define TCPCRYPT_CRYPTO_ERR_H

#include <stdbool.h>

#define TC_MUST_CHECK __attribute__((warn_unused_result))

enum tc_err {
    TC_OK = 0,
    /* Not an error: the parser needs more bytes of the stream. */
    TC_WANT_MORE = 1,

    /* Abort the connection with RST, reporting an error distinct from EOF
     * (RFC 8548 §3.3, §3.6, §3.7). */
    TC_E_BAD_MAGIC = -1,          /* Init1/Init2 magic does not match */
    TC_E_INIT_SHORT = -2,         /* message_len below the fixed fields */
    TC_E_INIT_TOO_LONG = -3,      /* message_len beyond TC_INIT_MAX_LEN */
    TC_E_CIPHER_LIST = -4,        /* nciphers inconsistent with message_len */
    TC_E_CIPHER_NOT_OFFERED = -5, /* Init2 names a cipher A did not list */
    TC_E_NO_COMMON_CIPHER = -6,   /* B supports none of A's ciphers */
    TC_E_BAD_PUBKEY = -7,         /* key validation failed (§5) */
    TC_E_ZERO_SECRET = -8,        /* X25519/X448 all-zero shared secret (§5) */
    TC_E_AUTH = -9,               /* AEAD verification failed */
    TC_E_FRAME_SHORT = -10,       /* clen too small to hold tag and flags */
    TC_E_FIN_WITHOUT_FINP = -11,  /* TCP FIN before a FINp frame (§3.7) */
    TC_E_AFTER_FINP = -12,        /* bytes after the FINp frame */

    /* Fall back to plain TCP: TCP-ENO did not succeed (RFC 8547 §4.6). */
    TC_E_ENO_ABSENT = -16,      /* the peer's SYN (or first ACK) had no ENO option */
    TC_E_ENO_MALFORMED = -17,   /* ill-formed SYN-form option (§4.4) */
    TC_E_ENO_DUPLICATE = -18,   /* more than one ENO option in a SYN (§4.1) */
    TC_E_ENO_SAME_ROLE = -19,   /* both hosts sent the same b bit (§4.3) */
    TC_E_ENO_NOT_AWARE = -20,   /* mandatory application-aware mode, peer a = 0 */
    TC_E_ENO_NO_TEP = -21,      /* no valid TEP in common (§4.5) */

    /* Local conditions: nothing was sent or accepted. */
    TC_E_UNSUPPORTED = -32, /* TEP or AEAD not implemented */
    TC_E_INVALID = -33,     /* caller passed an impossible argument */
    TC_E_NOSPACE = -34,     /* output buffer too small */
    TC_E_NOMEM = -35,
    TC_E_RANDOM = -36,        /* the random source failed: send no ENO */
    TC_E_BACKEND = -37,       /* the crypto library failed unexpectedly */
    TC_E_STATE = -38,         /* call not allowed in this state (e.g. data after FINp) */
    TC_E_REKEY_PENDING = -39, /* §3.8: one empty-frame rekey at a time */
    TC_E_EXHAUSTED = -40,     /* §3.6: offset would wrap 2^64, or generation counter */
    TC_E_NOT_FOUND = -41,     /* no cache entry */
};

/* A short English description of an outcome, for logs and tests. */
const char *tc_strerror(int err);

/* True when the connection must be aborted with RST. */
static inline bool tc_err_aborts(int err)
{
    return err < 0 && err > -16;
}

/* True when the connection continues as plain TCP (TCP-ENO failed). */
static inline bool tc_err_falls_back(int err)
{
    return err <= -16 && err > -32;
}

#endif
