/*
 * TCP-ENO (RFC 8547) as pure code: finding ENO options in a TCP header,
 * parsing the SYN form strictly, building our own options, and the
 * negotiation that decides roles and the TEP.  No lwIP types; the glue that
 * calls this from lwIP's hooks lives in eno_lwip.c.
 */
#ifndef TCPCRYPT_STACK_ENO_H
#define TCPCRYPT_STACK_ENO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/err.h"
#include "crypto/wire.h"

#define TC_ENO_OPT_MAX 40 /* a TCP header holds at most 40 option bytes */
#define TC_ENO_SUBOPT_MAX TC_ENO_OPT_MAX
#define TC_ENO_GOPT_B 0x01 /* §4.2: passive role bit */
#define TC_ENO_GOPT_A 0x02 /* §4.2: application-aware bit */
#define TC_ENO_GOPT_MASK 0x1f
#define TC_ENO_TEP_MIN 0x20

/* A TEP suboption: identifier (glt, 0x20..0x7f), v bit and its data. */
struct tc_eno_tep {
    uint8_t id;
    bool v;
    const uint8_t *data;
    size_t len;
};

/* A parsed SYN-form option.  Data pointers point into the parsed bytes. */
struct tc_eno_syn {
    uint8_t global; /* the first global suboption, or the implicit 0x00 */
    bool explicit_global;
    size_t nteps;
    struct tc_eno_tep teps[TC_ENO_SUBOPT_MAX];
};

/*
 * Look through a TCP options area (the bytes after the fixed header) for
 * kind 69.  Returns how many ENO options there are (0, 1 or more) and the
 * first one's bytes (kind and length included) in *opt, *optlen.  A
 * malformed options area counts as no option (lwIP stops parsing too).
 */
size_t tc_eno_find(const uint8_t *opts, size_t len, const uint8_t **opt, size_t *optlen);

/* Parse the contents (after kind and length) of a SYN-form option:
 * TC_OK, or TC_E_ENO_MALFORMED for the two cases of §4.4 and for contents
 * longer than a TCP header can hold (TC_ENO_OPT_MAX - 2). */
TC_MUST_CHECK int tc_eno_parse_syn(const uint8_t *contents, size_t len, struct tc_eno_syn *out);

/*
 * Build a SYN-form option (kind and length included) from a global
 * suboption and suboptions.  The global suboption is written when
 * with_global is set (passive openers always must).  A suboption with data
 * that is not last gets a length byte.  Returns the option's length, or 0
 * if it does not fit in cap or a datum is too long for a length byte.
 */
struct tc_eno_offer {
    uint8_t id;
    bool v;
    const uint8_t *data;
    size_t len;
};
size_t tc_eno_build_syn(uint8_t *out, size_t cap, bool with_global, uint8_t global,
                        const struct tc_eno_offer *offers, size_t n);

/*
 * Room for a resumption suboption (RFC 8548 §3.5) in a SYN-form option that
 * must fit in room bytes (what the TCP header leaves beside the stack's own
 * SYN options).  fixed counts the option's other bytes (kind, length, the
 * global suboption if sent), nfresh the one-byte fresh offers wanted beside
 * it, want the configured nonce length (0..8).  What gives way, in order:
 * fresh offers (the least preferred first: sending a resumption suboption
 * already offers fresh key agreement with its own TEP, §3.2), then nonce
 * bytes down to min(want, TC_ENO_RESUME_NONCE_FLOOR); below that no
 * resumption is offered (false) and the caller sends its fresh offers alone.
 * On true, *keep fresh offers and *nonce_len nonce bytes fit.
 */
#define TC_ENO_RESUME_NONCE_FLOOR 3
bool tc_eno_fit_resume(size_t room, size_t fixed, size_t nfresh, size_t want, size_t *keep,
                       size_t *nonce_len);

/* The outcome of negotiation, seen from this host. */
struct tc_eno_result {
    bool we_are_b;
    uint8_t peer_global;
    const struct tc_eno_tep *a_tep; /* the negotiated TEP in A's option */
    const struct tc_eno_tep *b_tep; /* and in B's: its byte starts the session ID */
};

/* Decides whether a TEP identifier is valid for a connection, given A's and
 * B's suboptions for it (§4.5 rule 2).  NULL accepts every id. */
typedef bool (*tc_eno_tep_valid_fn)(void *ctx, const struct tc_eno_tep *a, const struct tc_eno_tep *b);

/*
 * Negotiate from both SYN-form options (RFC 8547 §4.3, §4.5, §4.6):
 * TC_OK with roles and the TEP, or the reason to fall back to plain TCP:
 * TC_E_ENO_SAME_ROLE, TC_E_ENO_NOT_AWARE (aa_mandatory and the peer's a = 0),
 * TC_E_ENO_NO_TEP.  The negotiated TEP is the last valid TEP identifier in
 * B's option that A's option also carries.
 */
TC_MUST_CHECK int tc_eno_negotiate(const struct tc_eno_syn *mine, const struct tc_eno_syn *peer,
                                   bool aa_mandatory, tc_eno_tep_valid_fn valid, void *ctx,
                                   struct tc_eno_result *res);

/* The byte B sent for the negotiated TEP, v bit included (RFC 8548 §3.4). */
static inline uint8_t tc_eno_tep_byte(const struct tc_eno_tep *t)
{
    return (uint8_t)(t->id | (t->v ? 0x80 : 0));
}

#endif
