/*
 * Encryption frames (RFC 8548 §4.2):
 *
 *   control(1) | clen(2) | ciphertext = AEAD(K, N, flags(1) [urgent(2)] data, A = control|clen)
 *   N = frame_ID XOR NR,  frame_ID = zeros | offset_be64 (§4.2.3)
 */
#include "crypto/frame.h"

#include <sodium.h>
#include <string.h>

#include "crypto/keys.h"

/* Key direction dir with the traffic key of its current mk. */
static int direction_key(struct tc_direction *dir, const struct tc_aead_alg *alg,
                         const struct tc_aead_backend *be, bool key_a)
{
    uint8_t traffic[TC_TRAFFIC_KEY_MAX];
    int err;

    tc_aead_key_wipe(&dir->key);
    err = tc_keys_traffic(traffic, dir->mk, key_a, alg);
    if (err != TC_OK) {
        goto out;
    }
    /* "The algorithm uses the first ae_key_len bytes of each traffic key as
     * an authenticated-encryption key, and it uses the following
     * ae_nonce_len bytes as a nonce randomizer" (§3.3). */
    err = tc_aead_key_init(&dir->key, alg, be, traffic);
    if (err != TC_OK) {
        goto out;
    }
    memcpy(dir->nr, traffic + alg->key_len, TC_AEAD_NONCE_LEN);
out:
    sodium_memzero(traffic, sizeof(traffic));
    return err;
}

/* Step a direction to its next generation: mk[j+1] = CPRF(mk[j], CONST_REKEY). */
static int direction_advance(struct tc_direction *dir, const struct tc_aead_alg *alg,
                             const struct tc_aead_backend *be, bool key_a)
{
    uint8_t next[TC_K_LEN];
    int err;

    if (dir->gen == UINT64_MAX) {
        return TC_E_EXHAUSTED;
    }
    err = tc_keys_next_mk(next, dir->mk);
    if (err == TC_OK) {
        /* The old generation's keys are deleted at once: bytes are sealed
         * once, so nothing will need them again (§3.8 SHOULD). */
        memcpy(dir->mk, next, TC_K_LEN);
        dir->gen++;
        err = direction_key(dir, alg, be, key_a);
    }
    sodium_memzero(next, sizeof(next));
    return err;
}

static void frame_nonce(uint8_t nonce[TC_AEAD_NONCE_LEN], const uint8_t nr[TC_AEAD_NONCE_LEN],
                        uint64_t offset)
{
    memcpy(nonce, nr, TC_AEAD_NONCE_LEN);
    for (int i = 0; i < 8; i++) {
        nonce[TC_AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(offset >> (8 * i));
    }
}

int tc_channel_init(struct tc_channel *ch, const struct tc_aead_alg *alg,
                    const struct tc_aead_backend *be, const uint8_t mk0[TC_K_LEN], bool send_ab,
                    uint64_t tx_offset, uint64_t rx_offset)
{
    int err;

    memset(ch, 0, offsetof(struct tc_channel, rx_buf));
    ch->alg = alg;
    ch->be = be;
    ch->send_ab = send_ab;
    memcpy(ch->tx.mk, mk0, TC_K_LEN);
    memcpy(ch->rx.mk, mk0, TC_K_LEN);
    ch->tx.offset = tx_offset;
    ch->rx.offset = rx_offset;
    /* "traffic keys k_ab[j] are used by host A to encrypt and host B to
     * decrypt, while keys k_ba[j] are used by host B to encrypt and host A to
     * decrypt" (§3.3); a resumed session keeps the original direction. */
    err = direction_key(&ch->tx, alg, be, send_ab);
    if (err == TC_OK) {
        err = direction_key(&ch->rx, alg, be, !send_ab);
    }
    if (err != TC_OK) {
        tc_channel_wipe(ch);
    }
    return err;
}

void tc_channel_wipe(struct tc_channel *ch)
{
    size_t high = ch->rx_high < sizeof(ch->rx_buf) ? ch->rx_high : sizeof(ch->rx_buf);

    tc_aead_key_wipe(&ch->tx.key);
    tc_aead_key_wipe(&ch->rx.key);
    sodium_memzero(ch->rx_buf, high);
    sodium_memzero(ch, offsetof(struct tc_channel, rx_buf));
}

/* rx_buf has been written up to n bytes. */
static void rx_mark(struct tc_channel *ch, size_t n)
{
    if (n > ch->rx_high) {
        ch->rx_high = n;
    }
}

size_t tc_frame_data_fit(size_t room, bool urg)
{
    size_t empty = tc_frame_size(0, urg);
    size_t max = urg ? TC_FRAME_DATA_MAX - TC_URGENT_LEN : TC_FRAME_DATA_MAX;

    if (room <= empty) {
        return 0;
    }
    return room - empty < max ? room - empty : max;
}

static int channel_fail(struct tc_channel *ch, int err)
{
    if (ch->failed == TC_OK) {
        ch->failed = err;
    }
    return ch->failed;
}

int tc_frame_seal(struct tc_aead_key *k, const uint8_t nr[TC_AEAD_NONCE_LEN], uint64_t offset,
                  uint8_t control, uint8_t flags, uint16_t urgent, const uint8_t *data, size_t len,
                  uint8_t *out, size_t cap, size_t *outlen)
{
    bool urg = (flags & TC_FLAG_URGP) != 0;
    size_t hdr = 1 + (urg ? TC_URGENT_LEN : 0);
    size_t plen, size;
    uint8_t nonce[TC_AEAD_NONCE_LEN];
    uint8_t *p;
    int err;

    if (len > TC_CLEN_MAX - TC_AEAD_TAG_LEN - hdr) {
        return TC_E_INVALID; /* "ciphertext ... has length less than 2^16" (§3.6) */
    }
    plen = hdr + len;
    size = TC_FRAME_HDR_LEN + plen + TC_AEAD_TAG_LEN;
    if (size > cap) {
        return TC_E_NOSPACE;
    }
    /* The offset must not wrap (§3.6). */
    if (offset > UINT64_MAX - size) {
        return TC_E_EXHAUSTED;
    }
    out[0] = control;
    out[1] = (uint8_t)((plen + TC_AEAD_TAG_LEN) >> 8);
    out[2] = (uint8_t)(plen + TC_AEAD_TAG_LEN);
    p = out + TC_FRAME_HDR_LEN;
    /* data may already sit where it belongs (callers that build in place). */
    if (len > 0) {
        memmove(p + hdr, data, len);
    }
    p[0] = flags;
    if (urg) {
        p[1] = (uint8_t)(urgent >> 8);
        p[2] = (uint8_t)urgent;
    }
    frame_nonce(nonce, nr, offset);
    err = tc_aead_seal(k, nonce, out, TC_FRAME_AD_LEN, p, plen, p);
    if (err != TC_OK) {
        sodium_memzero(out, size);
        return err;
    }
    *outlen = size;
    return TC_OK;
}

int tc_frame_open(struct tc_aead_key *k, const uint8_t nr[TC_AEAD_NONCE_LEN], uint64_t offset,
                  const uint8_t *frame, size_t len, uint8_t *pt, struct tc_plain *out)
{
    uint8_t ad[TC_FRAME_AD_LEN];
    uint8_t nonce[TC_AEAD_NONCE_LEN];
    size_t clen, plen, hlen = 1;
    int err;

    if (len < TC_FRAME_HDR_LEN) {
        return TC_E_FRAME_SHORT;
    }
    clen = (size_t)frame[1] << 8 | frame[2];
    if (clen + TC_FRAME_HDR_LEN != len) {
        return TC_E_INVALID;
    }
    if (clen < TC_AEAD_TAG_LEN + 1) {
        return TC_E_FRAME_SHORT;
    }
    plen = clen - TC_AEAD_TAG_LEN;
    /* The associated data is control | clen as received, reserved bits
     * included (§4.2.2); copied first because pt may overlap the frame. */
    memcpy(ad, frame, TC_FRAME_AD_LEN);
    frame_nonce(nonce, nr, offset);
    /* The backend verifies the tag before writing plaintext and zeroes the
     * output when it fails: nothing unauthenticated ever leaves here. */
    err = tc_aead_open(k, nonce, ad, TC_FRAME_AD_LEN, frame + TC_FRAME_HDR_LEN, clen, pt);
    if (err != TC_OK) {
        return err;
    }
    out->rekeyed = (ad[0] & TC_CTRL_REKEY) != 0; /* cres ignored */
    out->fin = (pt[0] & TC_FLAG_FINP) != 0;      /* fres ignored */
    out->urg = (pt[0] & TC_FLAG_URGP) != 0;
    out->urgent = 0;
    if (out->urg) {
        if (plen < 1 + TC_URGENT_LEN) {
            sodium_memzero(pt, plen);
            return TC_E_FRAME_SHORT;
        }
        /* Passed up as sent: an offset from this frame's start (§3.7); the
         * stack maps it onto the application stream. */
        out->urgent = (uint16_t)(pt[1] << 8 | pt[2]);
        hlen += TC_URGENT_LEN;
    }
    out->data = pt + hlen;
    out->len = plen - hlen;
    return TC_OK;
}

int tc_channel_seal(struct tc_channel *ch, uint8_t flags, uint16_t urgent, const uint8_t *data,
                    size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
    int err;

    if (ch->failed != TC_OK) {
        return ch->failed;
    }
    /* "A sender MUST set the FINp bit on the last frame it sends ... and MUST
     * NOT set FINp on any other frame" (§3.7). */
    if (ch->tx_fin) {
        return TC_E_STATE;
    }
    if ((flags & ~(TC_FLAG_FINP | TC_FLAG_URGP)) != 0) {
        return TC_E_INVALID; /* fres: "MUST set these six bits to zero" */
    }
    err = tc_frame_seal(&ch->tx.key, ch->tx.nr, ch->tx.offset, ch->tx_rekey ? TC_CTRL_REKEY : 0,
                        flags, urgent, data, len, out, cap, outlen);
    if (err == TC_E_EXHAUSTED || err == TC_E_BACKEND) {
        return channel_fail(ch, err);
    }
    if (err != TC_OK) {
        return err;
    }
    ch->tx.offset += *outlen;
    ch->tx_rekey = false;
    ch->rekey_reply_due = false;
    ch->tx_fin = (flags & TC_FLAG_FINP) != 0;
    return TC_OK;
}

int tc_channel_rekey(struct tc_channel *ch)
{
    int err;

    if (ch->failed != TC_OK) {
        return ch->failed;
    }
    if (ch->tx_fin) {
        return TC_E_STATE;
    }
    if (ch->tx_rekey || ch->tx.gen > ch->rx.gen) {
        return TC_E_REKEY_PENDING;
    }
    err = direction_advance(&ch->tx, ch->alg, ch->be, ch->send_ab);
    if (err != TC_OK) {
        return channel_fail(ch, err);
    }
    /* "When a host has incremented its local generation number and uses the
     * new key set for the first time to encrypt an outgoing frame, it MUST
     * set rekey = 1 for that frame" (§3.8). */
    ch->tx_rekey = true;
    return TC_OK;
}

/* Open the complete frame (header and ciphertext contiguous at frame) with
 * the receive direction, stepping its generation first when the frame says
 * so. */
static int open_frame(struct tc_channel *ch, const uint8_t *frame, size_t len, struct tc_plain *out)
{
    int err;

    /* "When a host receives a frame with rekey = 1, it increments its record
     * of the remote generation number" (§3.8); cres bits are ignored. */
    if ((frame[0] & TC_CTRL_REKEY) != 0) {
        err = direction_advance(&ch->rx, ch->alg, ch->be, !ch->send_ab);
        if (err != TC_OK) {
            return channel_fail(ch, err);
        }
    }
    rx_mark(ch, len); /* the plaintext goes to rx_buf + TC_FRAME_HDR_LEN */
    err = tc_frame_open(&ch->rx.key, ch->rx.nr, ch->rx.offset, frame, len,
                        ch->rx_buf + TC_FRAME_HDR_LEN, out);
    if (err != TC_OK) {
        return channel_fail(ch, err);
    }
    ch->rx.offset += len;
    ch->rx_fin = out->fin;

    /* "If the remote generation number is now greater than the local
     * generation number, the receiver MUST immediately increment its local
     * generation number to match.  Moreover, if the receiver has not yet
     * transmitted a segment with the FIN flag set, it MUST immediately send a
     * frame (with empty application data if necessary) with rekey = 1."
     * Read together: the reply answers a rekey that raised our generation;
     * answering the echo of our own rekey would rekey forever. */
    if (out->rekeyed && ch->rx.gen > ch->tx.gen && !ch->tx_fin) {
        err = direction_advance(&ch->tx, ch->alg, ch->be, ch->send_ab);
        if (err != TC_OK) {
            return channel_fail(ch, err);
        }
        ch->tx_rekey = true;
        ch->rekey_reply_due = true;
    }
    return TC_OK;
}

int tc_channel_open(struct tc_channel *ch, const uint8_t *in, size_t inlen, size_t *used,
                    struct tc_plain *out)
{
    size_t take, clen, total, pos = 0;
    int err;

    *used = 0;
    if (ch->failed != TC_OK) {
        return ch->failed;
    }
    if (inlen == 0) {
        return TC_WANT_MORE;
    }
    if (ch->rx_fin) {
        /* The FINp frame is the last one (§3.7). */
        return channel_fail(ch, TC_E_AFTER_FINP);
    }
    if (ch->rx_have < TC_FRAME_HDR_LEN) {
        take = TC_FRAME_HDR_LEN - ch->rx_have;
        take = take < inlen ? take : inlen;
        memcpy(ch->rx_buf + ch->rx_have, in, take);
        ch->rx_have += take;
        rx_mark(ch, ch->rx_have);
        pos += take;
        if (ch->rx_have < TC_FRAME_HDR_LEN) {
            *used = pos;
            return TC_WANT_MORE;
        }
    }
    clen = (size_t)ch->rx_buf[1] << 8 | ch->rx_buf[2];
    if (clen < TC_AEAD_TAG_LEN + 1) {
        *used = pos;
        return channel_fail(ch, TC_E_FRAME_SHORT);
    }
    total = TC_FRAME_HDR_LEN + clen;
    if (UINT64_MAX - ch->rx.offset < total) {
        *used = pos;
        return channel_fail(ch, TC_E_EXHAUSTED);
    }

    /* Fast path: the whole frame is in the caller's buffer; open it from
     * there without first copying it in. */
    if (pos == TC_FRAME_HDR_LEN && inlen >= total) {
        err = open_frame(ch, in, total, out);
        pos = total;
    } else {
        take = total - ch->rx_have;
        take = take < inlen - pos ? take : inlen - pos;
        memcpy(ch->rx_buf + ch->rx_have, in + pos, take);
        ch->rx_have += take;
        rx_mark(ch, ch->rx_have);
        pos += take;
        if (ch->rx_have < total) {
            *used = pos;
            return TC_WANT_MORE;
        }
        err = open_frame(ch, ch->rx_buf, total, out);
    }
    ch->rx_have = 0;
    *used = pos;
    return err;
}

int tc_channel_peer_fin(struct tc_channel *ch)
{
    if (ch->failed != TC_OK) {
        return ch->failed;
    }
    /* "If a host receives a segment with the TCP FIN flag set but the
     * received datastream including this segment does not contain a frame
     * with FINp set, the host SHOULD abort the connection" (§3.7). */
    if (!ch->rx_fin) {
        return channel_fail(ch, TC_E_FIN_WITHOUT_FINP);
    }
    return TC_OK;
}
