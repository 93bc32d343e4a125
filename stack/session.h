/*
 * One tcpcrypt connection after TCP-ENO chose a tcpcrypt TEP (RFC 8548 §3.3,
 * §3.6): the Init1/Init2 exchange at the start of each byte stream, the key
 * schedule, then frames.  Pure code over crypto/: the relay feeds it the TCP
 * receive stream, sends what it asks to send, and seals application bytes.
 *
 *   tc_sess_start()    after ENO succeeded; A queues Init1
 *   tc_sess_start_resumed()  instead, when ENO resumed a cached session (§3.5):
 *                      no Init messages, open at once
 *   tc_sess_pending()  bytes the session itself must send first (Init1, Init2),
 *   tc_sess_sent()     in stream order, before any frame; send them with PSH
 *   tc_sess_input()    the peer's stream: Init, then frames (plaintext out)
 *   tc_sess_can_seal() true once application data may be sent: B right after
 *                      queueing Init2, A after receiving Init2 (§3.3)
 *   tc_sess_seal()     one frame of application data (or the FINp frame)
 *   tc_sess_wipe()     at the end, on every path
 */
#ifndef TCPCRYPT_STACK_SESSION_H
#define TCPCRYPT_STACK_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/frame.h"
#include "crypto/init.h"
#include "crypto/kex.h"
#include "crypto/resume.h"
#include "crypto/rng.h"

#define TC_ENO_TRANSCRIPT_MAX 80 /* two SYN-form options of at most 40 bytes */
#define TC_SESS_AEADS_MAX 8

/*
 * B may reuse an ephemeral key pair for a bounded time (RFC 8548 §8: "they
 * MUST limit the lifetime of the private parameters as far as is
 * practical"); one slot per TEP, in memory only, wiped when replaced.
 */
struct tc_eph_cache {
    uint64_t lifetime_ms; /* 0: a fresh key for every connection */
    struct {
        bool valid;
        uint64_t created_ms;
        uint8_t priv[TC_PRIV_MAX];
        uint8_t pub[TC_PUB_MAX];
    } slot[4];
};

struct tc_sess_config {
    const struct tc_rng *rng;
    /* A: the AEADs to offer, in order; B: its preference, most preferred first. */
    uint16_t aeads[TC_SESS_AEADS_MAX];
    size_t naeads;
    struct tc_eph_cache *eph; /* B only; NULL: fresh keys always */
    uint64_t now_ms;
    /* Keep N_A, ES and ss[0] in the session for a key log (debugging
     * captures only); otherwise they are wiped as soon as they are used. */
    bool keylog;
    /* A fresh session stores ss[1] here for resumption once it opens
     * (RFC 8548 §3.5), filed under peer; NULL: it is not cached. */
    struct tc_resume_cache *resume;
    uint8_t peer[TC_PEER_ID_MAX];
    size_t peer_len;
};

enum tc_sess_state {
    TC_SESS_EXPECT_INIT1, /* B */
    TC_SESS_EXPECT_INIT2, /* A, Init1 queued */
    TC_SESS_OPEN,         /* keys set: frames both ways */
    TC_SESS_FAILED,       /* aborted: see err */
};

struct tc_sess {
    enum tc_sess_state state;
    int err;              /* why it failed */
    bool is_b;
    uint8_t tep_byte;     /* as B sent it, v bit included */
    const struct tc_kex *kx;
    const struct tc_aead_alg *aead;
    uint8_t transcript[TC_ENO_TRANSCRIPT_MAX];
    size_t transcript_len;
    struct tc_sess_config cfg;
    bool resumed;      /* keys from a cached ss[i] (§3.5), no Init messages */
    uint64_t resume_i; /* ... that i */
    uint8_t priv[TC_PRIV_MAX];
    uint8_t pub[TC_PUB_MAX];
    uint8_t nonce[TC_NONCE_LEN]; /* N_A or N_B */
    uint16_t offered[TC_SESS_AEADS_MAX];
    size_t noffered;
    /* Our Init message: sent from here, and hashed into PRK. */
    uint8_t init_out[TC_INIT_MAX_LEN];
    size_t init_out_len, init_out_sent;
    /* The peer's Init message as received, ignored tail included. */
    uint8_t init_in[TC_INIT_MAX_LEN];
    size_t init_in_len;
    /* Results, for the API and the key log. */
    uint8_t sid[TC_SESSID_LEN];
    uint8_t ss_next[TC_K_LEN]; /* ss[1], for a resumption cache */
    uint8_t n_a[TC_NONCE_LEN];
    /* Only with cfg.keylog: the key log lines
     *   TCPCRYPT_ES <n_a hex> <es hex>      (es_len bytes; fresh sessions)
     *   TCPCRYPT_SS <sid hex> <ss hex>      (ss = ss[0], or the ss[i] a
     *                                        resumed session was keyed from) */
    uint8_t es[TC_ES_MAX];
    size_t es_len;
    uint8_t ss[TC_K_LEN];
    struct tc_channel ch;
};

/* Start after ENO: is_b is this host's role, tep_byte the TEP byte B sent,
 * transcript A's SYN option then B's, each with kind and length. */
TC_MUST_CHECK int tc_sess_start(struct tc_sess *s, bool is_b, uint8_t tep_byte,
                                const uint8_t *transcript, size_t transcript_len,
                                const struct tc_sess_config *cfg);
/*
 * Start a resumed session (RFC 8548 §3.5): tep_byte is the TEP byte B sent
 * (v = 1), t the secret ENO took from the cache with both nonces.  mk[0] =
 * CPRF(ss[i], CONST_REKEY | sn[i]), the session ID from ss[i] and sn[i], and
 * each host encrypts with the keys of its role in the original session.  The
 * session is open on return; t is wiped either way.
 */
TC_MUST_CHECK int tc_sess_start_resumed(struct tc_sess *s, bool is_b, uint8_t tep_byte,
                                        struct tc_resume_ticket *t,
                                        const struct tc_sess_config *cfg);
/* Bytes to send before anything else; *p valid until the next call. */
size_t tc_sess_pending(const struct tc_sess *s, const uint8_t **p);
void tc_sess_sent(struct tc_sess *s, size_t n);
/* True once the last byte of the pending Init message has been handed over
 * (the segment carrying it must have PSH set, §3.3); always for a resumed
 * session, which has none. */
bool tc_sess_init_done(const struct tc_sess *s);

/*
 * Feed bytes of the peer's stream.  Returns TC_OK with out filled when a
 * frame opened (out->data valid until the next call), TC_WANT_MORE when all
 * bytes were used without completing a frame (the state may have advanced:
 * check tc_sess_pending and tc_sess_can_seal), or an error: abort the
 * connection (tc_err_aborts).
 */
TC_MUST_CHECK int tc_sess_input(struct tc_sess *s, const uint8_t *in, size_t len, size_t *used,
                                struct tc_plain *out);
bool tc_sess_can_seal(const struct tc_sess *s);
/* Seal len bytes (at most TC_FRAME_DATA_MAX) as one frame; flags as for
 * tc_channel_seal (TC_FLAG_FINP on the last frame). */
TC_MUST_CHECK int tc_sess_seal(struct tc_sess *s, uint8_t flags, const uint8_t *data, size_t len,
                               uint8_t *out, size_t cap, size_t *outlen);
/* The peer's TCP FIN arrived: TC_OK for a clean end (its FINp frame came
 * first), else an abort reason. */
TC_MUST_CHECK int tc_sess_peer_fin(struct tc_sess *s);
/* The session ID, once known (both sides know it when the state is OPEN). */
bool tc_sess_session_id(const struct tc_sess *s, uint8_t sid[TC_SESSID_LEN]);
void tc_sess_wipe(struct tc_sess *s);
/* Wipe expired ephemeral keys (call from a timer). */
void tc_eph_cache_expire(struct tc_eph_cache *c, uint64_t now_ms);
void tc_eph_cache_wipe(struct tc_eph_cache *c);

#endif
