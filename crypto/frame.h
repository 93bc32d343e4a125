/*
 * Encryption frames (RFC 8548 §3.6-§3.8, §4.2) for one connection: a
 * tc_channel holds both directions' keys, generations and stream offsets,
 * seals outgoing frames and decodes the incoming byte stream.
 *
 * Seal produces bytes once; the caller keeps them and retransmits them
 * unchanged ("a retransmitted TCP segment MUST contain the same payload bytes
 * for the same TCP sequence numbers", §3.6).  The decoder takes the receive
 * stream split at any byte boundary and releases plaintext only after the
 * frame's tag has been verified.
 */
#ifndef TCPCRYPT_CRYPTO_FRAME_H
#define TCPCRYPT_CRYPTO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/aead.h"
#include "crypto/err.h"
#include "crypto/wire.h"

/* One direction: the key set of generation gen and the next frame offset. */
struct tc_direction {
    uint8_t mk[TC_K_LEN]; /* mk[gen], kept to step to the next generation */
    uint8_t nr[TC_AEAD_NONCE_LEN];
    struct tc_aead_key key;
    uint64_t gen;
    uint64_t offset; /* framing-stream offset of the next frame */
};

struct tc_channel {
    const struct tc_aead_alg *alg;
    const struct tc_aead_backend *be; /* NULL: the algorithm's default */
    bool send_ab;                     /* encrypt with k_ab: this host was A when ss[0] was made */
    bool tx_rekey;                    /* the next frame sent is the first of a new generation */
    bool rekey_reply_due;             /* §3.8: a frame must go out now, empty if need be */
    bool tx_fin;                      /* the FINp frame has been sealed */
    bool rx_fin;                      /* the FINp frame has been received */
    int failed;                       /* sticky abort reason, TC_OK while healthy */
    struct tc_direction tx, rx;
    size_t rx_have; /* bytes of the current frame in rx_buf */
    /* How far rx_buf was ever written (ciphertext or plaintext): the part
     * tc_channel_wipe erases.  rx_buf itself is never zeroed up front (64
     * KiB per connection: zeroing it twice cost more than the key schedule
     * of a resumed session). */
    size_t rx_high;
    uint8_t rx_buf[TC_FRAME_MAX];
};

/* What one received frame carried.  data points into the channel and stays
 * valid until the next call that feeds it. */
struct tc_plain {
    const uint8_t *data;
    size_t len;
    bool fin;        /* FINp: end of the peer's stream (§3.7) */
    bool urg;        /* URGp: urgent is meaningful */
    uint16_t urgent; /* as sent; see tc_channel_open */
    bool rekeyed;    /* the frame opened a new peer generation */
};

/*
 * One frame under an explicit key and nonce randomizer at a given stream
 * offset.  The channel below is built on these; tests and fuzzers use them
 * directly.  control is sent as given (senders pass 0 or TC_CTRL_REKEY).
 */
TC_MUST_CHECK int tc_frame_seal(struct tc_aead_key *k, const uint8_t nr[TC_AEAD_NONCE_LEN],
                                uint64_t offset, uint8_t control, uint8_t flags, uint16_t urgent,
                                const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                                size_t *outlen);
/* Open a complete frame of exactly len bytes; the plaintext (flags, urgent,
 * data) goes to pt, which needs len - 3 - 16 bytes and may be frame + 3.
 * out->rekeyed reports the control byte's rekey bit. */
TC_MUST_CHECK int tc_frame_open(struct tc_aead_key *k, const uint8_t nr[TC_AEAD_NONCE_LEN],
                                uint64_t offset, const uint8_t *frame, size_t len, uint8_t *pt,
                                struct tc_plain *out);

/*
 * Start a channel from mk[0].  send_ab: this host encrypts with k_ab (it was
 * A in the session that produced ss[0]).  tx_offset/rx_offset are where the
 * first frame of each direction starts in the TCP stream: the length of the
 * Init message sent/received in a fresh session, 0 in a resumed one.
 */
TC_MUST_CHECK int tc_channel_init(struct tc_channel *ch, const struct tc_aead_alg *alg,
                                  const struct tc_aead_backend *be, const uint8_t mk0[TC_K_LEN],
                                  bool send_ab, uint64_t tx_offset, uint64_t rx_offset);
/* Wipe every key and buffer; the channel is all zeros afterwards. */
void tc_channel_wipe(struct tc_channel *ch);

/* Bytes a frame with len application bytes takes on the wire. */
static inline size_t tc_frame_size(size_t len, bool urg)
{
    return TC_FRAME_HDR_LEN + 1 + (urg ? TC_URGENT_LEN : 0) + len + TC_AEAD_TAG_LEN;
}

/* Largest len for which a frame fits in room bytes (0 if not even an empty
 * frame fits: check room >= tc_frame_size(0, urg)). */
size_t tc_frame_data_fit(size_t room, bool urg);

/*
 * Seal one frame carrying len bytes of data into out.  flags is a set of
 * TC_FLAG_FINP / TC_FLAG_URGP; urgent is sent when URGp is set.  After FINp no
 * further frame may be sealed (TC_E_STATE).
 */
TC_MUST_CHECK int tc_channel_seal(struct tc_channel *ch, uint8_t flags, uint16_t urgent,
                                  const uint8_t *data, size_t len, uint8_t *out, size_t cap,
                                  size_t *outlen);

/* Initiate rekeying (§3.8): the next sealed frame uses generation gen+1 and
 * carries rekey = 1.  At most one rekey is outstanding at a time
 * (TC_E_REKEY_PENDING), which keeps the rule about empty-frame rekeys. */
TC_MUST_CHECK int tc_channel_rekey(struct tc_channel *ch);

/*
 * Feed received stream bytes.  Consumes up to inlen bytes (*used tells how
 * many) and stops after each complete frame:
 *   TC_OK        one frame opened; *out describes it
 *   TC_WANT_MORE every byte consumed, no complete frame yet
 *   < 0          abort the connection (TC_E_AUTH, TC_E_FRAME_SHORT, ...);
 *                the channel stays failed and returns the same error
 */
TC_MUST_CHECK int tc_channel_open(struct tc_channel *ch, const uint8_t *in, size_t inlen,
                                  size_t *used, struct tc_plain *out);

/* The peer's TCP FIN arrived: TC_OK if its FINp frame came before it,
 * TC_E_FIN_WITHOUT_FINP otherwise (§3.7: abort, distinct from EOF). */
TC_MUST_CHECK int tc_channel_peer_fin(struct tc_channel *ch);

#endif
