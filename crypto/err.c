#include "crypto/err.h"

const char *tc_strerror(int err)
{
    switch (err) {
    case TC_OK:
        return "success";
    case TC_WANT_MORE:
        return "need more bytes";
    case TC_E_BAD_MAGIC:
        return "Init message has the wrong magic";
    case TC_E_INIT_SHORT:
        return "Init message shorter than its fixed fields";
    case TC_E_INIT_TOO_LONG:
        return "Init message longer than this host accepts";
    case TC_E_CIPHER_LIST:
        return "Init1 cipher list inconsistent with message length";
    case TC_E_CIPHER_NOT_OFFERED:
        return "Init2 selected a cipher that was not offered";
    case TC_E_NO_COMMON_CIPHER:
        return "no AEAD algorithm in common";
    case TC_E_BAD_PUBKEY:
        return "peer public key failed validation";
    case TC_E_ZERO_SECRET:
        return "key agreement produced an all-zero secret";
    case TC_E_AUTH:
        return "frame failed authentication";
    case TC_E_FRAME_SHORT:
        return "frame too short for its fields";
    case TC_E_FIN_WITHOUT_FINP:
        return "TCP FIN without a FINp frame";
    case TC_E_AFTER_FINP:
        return "bytes after the FINp frame";
    case TC_E_ENO_ABSENT:
        return "peer sent no ENO option";
    case TC_E_ENO_MALFORMED:
        return "ill-formed ENO option";
    case TC_E_ENO_DUPLICATE:
        return "more than one ENO option in a SYN";
    case TC_E_ENO_SAME_ROLE:
        return "both hosts chose the same ENO role";
    case TC_E_ENO_NOT_AWARE:
        return "peer is not application-aware";
    case TC_E_ENO_NO_TEP:
        return "no encryption protocol in common";
    case TC_E_UNSUPPORTED:
        return "algorithm not supported";
    case TC_E_INVALID:
        return "invalid argument";
    case TC_E_NOSPACE:
        return "output buffer too small";
    case TC_E_NOMEM:
        return "out of memory";
    case TC_E_RANDOM:
        return "random source failed";
    case TC_E_BACKEND:
        return "crypto library failure";
    case TC_E_STATE:
        return "operation not allowed in this state";
    case TC_E_REKEY_PENDING:
        return "a rekey is already outstanding";
    case TC_E_EXHAUSTED:
        return "stream offset or generation exhausted";
    case TC_E_NOT_FOUND:
        return "no matching cache entry";
    default:
        return "unknown error";
    }
}
