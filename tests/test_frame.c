/*
 * Frames and channels (RFC 8548 §3.6-§3.8, §4.2): streaming decode at every
 * split, tampering caught everywhere, reserved bits ignored, FINp and rekey
 * rules, and each AEAD backend against the other.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/frame.h"
#include "crypto/keys.h"
#include "tests/check.h"

static struct tc_channel ca, cb; /* large: keep them off the stack */

static void det_bytes(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

static void pair(uint16_t aead, const struct tc_aead_backend *be_a,
                 const struct tc_aead_backend *be_b, uint64_t a_off, uint64_t b_off)
{
    uint8_t mk0[TC_K_LEN];

    /* Whatever a previous case left behind is released first. */
    tc_channel_wipe(&ca);
    tc_channel_wipe(&cb);
    det_bytes(mk0, sizeof(mk0), aead);
    CHECK_INT(tc_channel_init(&ca, tc_aead_find(aead), be_a, mk0, true, a_off, b_off), TC_OK);
    CHECK_INT(tc_channel_init(&cb, tc_aead_find(aead), be_b, mk0, false, b_off, a_off), TC_OK);
}

/* Seal n frames of assorted sizes from a into one stream, and check b
 * decodes the stream split into chunks of the given size. */
static void stream_split(uint16_t aead, size_t chunk)
{
    static uint8_t stream[200000], data[70000];
    static const size_t sizes[] = {0, 1, 100, 1500, 16384, TC_FRAME_DATA_MAX, 7};
    size_t slen = 0, olen, used, got = 0, frames = 0, want_total = 0;
    size_t off_data = 0;
    struct tc_plain pl;
    int err = TC_OK;

    pair(aead, NULL, NULL, 75, 74);
    det_bytes(data, sizeof(data), 7);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t flags = i + 1 == sizeof(sizes) / sizeof(sizes[0]) ? TC_FLAG_FINP : 0;

        CHECK_INT(tc_channel_seal(&ca, flags, 0, data + want_total % 1000, sizes[i], stream + slen,
                                  sizeof(stream) - slen, &olen),
                  TC_OK);
        CHECK_INT(olen, tc_frame_size(sizes[i], false));
        slen += olen;
        want_total += sizes[i];
    }
    /* Data after FINp is refused by the sender. */
    CHECK_INT(tc_channel_seal(&ca, 0, 0, data, 1, stream + slen, sizeof(stream) - slen, &olen),
              TC_E_STATE);

    want_total = 0;
    for (size_t pos = 0; pos < slen;) {
        size_t n = slen - pos < chunk ? slen - pos : chunk;

        err = tc_channel_open(&cb, stream + pos, n, &used, &pl);
        CHECK(used <= n);
        pos += used;
        if (err == TC_OK) {
            size_t expect = sizes[frames];

            CHECK_INT(pl.len, expect);
            CHECK(expect == 0 || memcmp(pl.data, data + off_data % 1000, expect) == 0);
            off_data += expect;
            got += pl.len;
            frames++;
        } else if (err != TC_WANT_MORE) {
            CHECK_INT(err, TC_OK);
            break;
        }
    }
    CHECK_INT(frames, sizeof(sizes) / sizeof(sizes[0]));
    CHECK_INT(pl.fin, true);
    CHECK_INT(tc_channel_peer_fin(&cb), TC_OK);
    /* Bytes after the FINp frame abort. */
    CHECK_INT(tc_channel_open(&cb, stream, 1, &used, &pl), TC_E_AFTER_FINP);
    (void)got;
    tc_channel_wipe(&ca);
    tc_channel_wipe(&cb);
}

/* Flip every bit of a frame in turn: the receiver never returns plaintext. */
static void tamper(uint16_t aead)
{
    uint8_t frame[64], bad[64 + 4096], msg[9] = "tcpcrypt";
    size_t flen = 0, used;
    struct tc_plain pl;

    pair(aead, NULL, NULL, 0, 0);
    CHECK_INT(tc_channel_seal(&ca, TC_FLAG_URGP, 3, msg, sizeof(msg), frame, sizeof(frame), &flen),
              TC_OK);
    tc_channel_wipe(&ca);
    for (size_t bit = 0; bit < 8 * flen; bit++) {
        int err;
        size_t total = 0;

        pair(aead, NULL, NULL, 0, 0);
        memcpy(bad, frame, flen);
        /* Whatever follows in the stream, so a longer clen still completes. */
        det_bytes(bad + flen, sizeof(bad) - flen, (uint32_t)bit);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        do {
            err = tc_channel_open(&cb, bad + total, sizeof(bad) - total, &used, &pl);
            total += used;
        } while (err == TC_WANT_MORE && total < sizeof(bad));
        /* A smaller clen may leave a "frame" that still fails; a larger
         * one swallows the padding and fails.  Never TC_OK. */
        if (err != TC_E_AUTH && err != TC_E_FRAME_SHORT && err != TC_WANT_MORE) {
            tc_check_fail(__FILE__, __LINE__, "bit %zu: got %d", bit, err);
        }
        CHECK(err != TC_OK);
        if (err == TC_E_AUTH) {
            /* Sticky: the connection is dead. */
            CHECK_INT(tc_channel_open(&cb, frame, flen, &used, &pl), TC_E_AUTH);
        }
        tc_channel_wipe(&ca);
        tc_channel_wipe(&cb);
    }
    /* The untouched frame does open. */
    pair(aead, NULL, NULL, 0, 0);
    CHECK_INT(tc_channel_open(&cb, frame, flen, &used, &pl), TC_OK);
    CHECK_INT(pl.urg, true);
    CHECK_INT(pl.urgent, 3);
    CHECK_INT(pl.len, sizeof(msg));
    tc_channel_wipe(&ca);
    tc_channel_wipe(&cb);
}

/* "MUST set these bits to zero when sending and MUST ignore them when
 * receiving": a peer that sets cres or fres bits is still understood. */
static void reserved_bits(uint16_t aead)
{
    uint8_t frame[64], msg[4] = {1, 2, 3, 4};
    size_t flen = 0, used;
    struct tc_plain pl;

    pair(aead, NULL, NULL, 0, 0);
    CHECK_INT(tc_frame_seal(&ca.tx.key, ca.tx.nr, 0, 0xfe, 0xfc | TC_FLAG_FINP, 0, msg, 4, frame,
                            sizeof(frame), &flen),
              TC_OK);
    CHECK_INT(tc_channel_open(&cb, frame, flen, &used, &pl), TC_OK);
    CHECK_INT(pl.rekeyed, false);
    CHECK_INT(cb.rx.gen, 0);
    CHECK_INT(pl.fin, true);
    CHECK_INT(pl.urg, false);
    CHECK_INT(pl.len, 4);
    CHECK_MEM(pl.data, msg, 4);
    /* Our own sender never sets them. */
    CHECK_INT(tc_channel_seal(&cb, 0x04, 0, msg, 4, frame, sizeof(frame), &flen), TC_E_INVALID);
    tc_channel_wipe(&ca);
    tc_channel_wipe(&cb);
}

static void lengths(void)
{
    static uint8_t big[TC_FRAME_MAX + 64];
    uint8_t frame[64], pt[8] = {TC_FLAG_URGP};
    uint8_t nonce[TC_AEAD_NONCE_LEN];
    size_t flen = 0, used;
    struct tc_plain pl;

    pair(TC_AEAD_AES_128_GCM, NULL, NULL, 0, 0);
    /* clen < 2^16: the largest data fits, one more byte does not. */
    CHECK_INT(tc_channel_seal(&ca, 0, 0, big + 64, TC_FRAME_DATA_MAX, big, sizeof(big), &flen),
              TC_OK);
    CHECK_INT(flen, TC_FRAME_MAX);
    CHECK_INT(tc_channel_open(&cb, big, flen, &used, &pl), TC_OK);
    CHECK_INT(pl.len, TC_FRAME_DATA_MAX);
    CHECK_INT(tc_channel_seal(&ca, 0, 0, big, TC_FRAME_DATA_MAX + 1, big, sizeof(big), &flen),
              TC_E_INVALID);
    CHECK_INT(
        tc_channel_seal(&ca, TC_FLAG_URGP, 0, big, TC_FRAME_DATA_MAX - 1, big, sizeof(big), &flen),
        TC_E_INVALID);
    CHECK_INT(tc_channel_seal(&ca, 0, 0, big, 10, frame, 29, &flen), TC_E_NOSPACE);
    CHECK_INT(tc_frame_data_fit(20, false), 0);
    CHECK_INT(tc_frame_data_fit(21, false), 1);
    CHECK_INT(tc_frame_data_fit(1 << 20, false), TC_FRAME_DATA_MAX);
    CHECK_INT(tc_frame_data_fit(1 << 20, true), TC_FRAME_DATA_MAX - 2);

    /* clen too small to hold a tag and the flags byte. */
    frame[0] = 0;
    frame[1] = 0;
    frame[2] = 16;
    CHECK_INT(tc_channel_open(&cb, frame, 3, &used, &pl), TC_E_FRAME_SHORT);
    tc_channel_wipe(&cb);

    /* URGp set but no room for the urgent field: authentic, still wrong. */
    pair(TC_AEAD_AES_128_GCM, NULL, NULL, 0, 0);
    frame[0] = 0;
    frame[1] = 0;
    frame[2] = 2 + 16;
    memcpy(nonce, ca.tx.nr, sizeof(nonce));
    CHECK_INT(tc_aead_seal(&ca.tx.key, nonce, frame, 3, pt, 2, frame + 3), TC_OK);
    CHECK_INT(tc_channel_open(&cb, frame, 3 + 2 + 16, &used, &pl), TC_E_FRAME_SHORT);
    tc_channel_wipe(&ca);
    tc_channel_wipe(&cb);

    /* The stream offset must not wrap (§3.6). */
    pair(TC_AEAD_AES_128_GCM, NULL, NULL, UINT64_MAX - 30, 0);
    CHECK_INT(tc_channel_seal(&ca, 0, 0, big, 10, frame, sizeof(frame), &flen), TC_OK);
    CHECK_INT(tc_channel_seal(&ca, 0, 0, big, 0, frame, sizeof(frame), &flen), TC_E_EXHAUSTED);
    CHECK_INT(tc_channel_seal(&ca, 0, 0, big, 0, frame, sizeof(frame), &flen), TC_E_EXHAUSTED);
    tc_channel_wipe(&ca);
    tc_channel_wipe(&cb);
}

static void fin_rules(void)
{
    uint8_t frame[64];
    size_t flen = 0, used;
    struct tc_plain pl;

    pair(TC_AEAD_CHACHA20_POLY1305, NULL, NULL, 0, 0);
    /* A TCP FIN with no FINp frame before it is an abort, not EOF. */
    CHECK_INT(tc_channel_peer_fin(&cb), TC_E_FIN_WITHOUT_FINP);
    CHECK_INT(tc_channel_open(&cb, frame, 1, &used, &pl), TC_E_FIN_WITHOUT_FINP);
    tc_channel_wipe(&cb);

    /* An empty FINp frame ends the stream; half a frame then FIN aborts. */
    pair(TC_AEAD_CHACHA20_POLY1305, NULL, NULL, 0, 0);
    CHECK_INT(tc_channel_seal(&ca, TC_FLAG_FINP, 0, NULL, 0, frame, sizeof(frame), &flen), TC_OK);
    CHECK_INT(flen, 20);
    CHECK_INT(tc_channel_open(&cb, frame, 10, &used, &pl), TC_WANT_MORE);
    CHECK_INT(tc_channel_peer_fin(&cb), TC_E_FIN_WITHOUT_FINP);
    tc_channel_wipe(&ca);
    tc_channel_wipe(&cb);
}

/* §3.8: generations advance on both sides; one outstanding rekey at a time;
 * no rekey after FINp; the receiver of a rekey answers at once. */
static void rekey_rules(void)
{
    uint8_t frame[256], msg[5] = "hello";
    size_t flen = 0, used;
    struct tc_plain pl;

    pair(TC_AEAD_AES_256_GCM, NULL, NULL, 79, 74);
    for (int round = 1; round <= 5; round++) {
        CHECK_INT(tc_channel_rekey(&ca), TC_OK);
        CHECK_INT(tc_channel_rekey(&ca), TC_E_REKEY_PENDING);
        CHECK_INT(tc_channel_seal(&ca, 0, 0, NULL, 0, frame, sizeof(frame), &flen), TC_OK);
        CHECK_INT(frame[0], TC_CTRL_REKEY);
        /* Still outstanding until the peer answers. */
        CHECK_INT(tc_channel_rekey(&ca), TC_E_REKEY_PENDING);
        CHECK_INT(tc_channel_open(&cb, frame, flen, &used, &pl), TC_OK);
        CHECK_INT(pl.rekeyed, true);
        CHECK_INT(cb.rekey_reply_due, true);
        CHECK_INT(cb.tx.gen, (uint64_t)round);
        CHECK_INT(tc_channel_seal(&cb, 0, 0, msg, 5, frame, sizeof(frame), &flen), TC_OK);
        CHECK_INT(frame[0], TC_CTRL_REKEY);
        CHECK_INT(cb.rekey_reply_due, false);
        CHECK_INT(tc_channel_open(&ca, frame, flen, &used, &pl), TC_OK);
        CHECK_MEM(pl.data, msg, 5);
        CHECK_INT(ca.rekey_reply_due, false);
        CHECK_INT(ca.rx.gen, (uint64_t)round);
        /* Later frames carry rekey = 0. */
        CHECK_INT(tc_channel_seal(&cb, 0, 0, msg, 5, frame, sizeof(frame), &flen), TC_OK);
        CHECK_INT(frame[0], 0);
        CHECK_INT(tc_channel_open(&ca, frame, flen, &used, &pl), TC_OK);
    }
    /* A frame claiming a rekey that did not happen fails authentication. */
    CHECK_INT(tc_channel_seal(&ca, 0, 0, msg, 5, frame, sizeof(frame), &flen), TC_OK);
    frame[0] |= TC_CTRL_REKEY;
    CHECK_INT(tc_channel_open(&cb, frame, flen, &used, &pl), TC_E_AUTH);
    /* After FINp there is no rekey. */
    CHECK_INT(tc_channel_seal(&ca, TC_FLAG_FINP, 0, NULL, 0, frame, sizeof(frame), &flen), TC_OK);
    CHECK_INT(tc_channel_rekey(&ca), TC_E_STATE);
    tc_channel_wipe(&ca);
    tc_channel_wipe(&cb);
}

/* Frames sealed through one backend open through the other. */
static void cross_backend(void)
{
    static const uint16_t ids[2] = {TC_AEAD_CHACHA20_POLY1305, TC_AEAD_AES_256_GCM};
    static uint8_t data[3000], frame[4000];
    size_t flen = 0, used;
    struct tc_plain pl;
    int tested = 0;

    det_bytes(data, sizeof(data), 99);
    for (int i = 0; i < 2; i++) {
        if (!tc_aead_sodium.supports(ids[i]) || !tc_aead_openssl.supports(ids[i])) {
            continue;
        }
        for (int dir = 0; dir < 2; dir++) {
            const struct tc_aead_backend *x = dir ? &tc_aead_sodium : &tc_aead_openssl;
            const struct tc_aead_backend *y = dir ? &tc_aead_openssl : &tc_aead_sodium;

            pair(ids[i], x, y, 1000, 2000);
            for (size_t n = 0; n < sizeof(data); n += 517) {
                CHECK_INT(tc_channel_seal(&ca, 0, 0, data, n, frame, sizeof(frame), &flen), TC_OK);
                CHECK_INT(tc_channel_open(&cb, frame, flen, &used, &pl), TC_OK);
                CHECK_INT(pl.len, n);
                CHECK(n == 0 || memcmp(pl.data, data, n) == 0);
            }
            tc_channel_wipe(&ca);
            tc_channel_wipe(&cb);
            tested++;
        }
    }
    CHECK(tested >= 2); /* ChaCha20-Poly1305 at least, both ways */
}

/* tc_channel_wipe erases every byte a channel received or decrypted into
 * its buffer (it tracks how far the buffer was written instead of zeroing
 * all 64 KiB). */
static void wipe_erases(void)
{
    static uint8_t data[40000], frame[40100];
    struct tc_plain pl;
    size_t flen, used, pos = 0;
    bool all_zero = true;

    pair(TC_AEAD_AES_128_GCM, NULL, NULL, 0, 0);
    memset(cb.rx_buf, 0x5a, sizeof(cb.rx_buf)); /* stale bytes never written */
    memset(data, 0xa7, sizeof(data));
    CHECK_INT(tc_channel_seal(&ca, 0, 0, data, sizeof(data), frame, sizeof(frame), &flen), TC_OK);
    /* Split so that the frame is reassembled in rx_buf and opened there. */
    while (pos < flen) {
        size_t n = flen - pos < 1000 ? flen - pos : 1000;
        int rc = tc_channel_open(&cb, frame + pos, n, &used, &pl);

        CHECK(rc == TC_OK || rc == TC_WANT_MORE);
        pos += used;
    }
    CHECK_INT(pl.len, sizeof(data));
    CHECK(cb.rx_high >= flen);
    tc_channel_wipe(&cb);
    for (size_t i = 0; i < flen; i++) {
        all_zero &= cb.rx_buf[i] == 0;
    }
    CHECK(all_zero);
    CHECK_INT(cb.rx_high, 0);
    CHECK(cb.rx_buf[sizeof(cb.rx_buf) - 1] == 0x5a); /* never written: left alone */
}

int main(void)
{
    wipe_erases();
    static const uint16_t ids[3] = {TC_AEAD_AES_128_GCM, TC_AEAD_AES_256_GCM,
                                    TC_AEAD_CHACHA20_POLY1305};
    static const size_t chunks[] = {1, 2, 3, 7, 20, 1460, 65536, 200000};

    for (int i = 0; i < 3; i++) {
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            stream_split(ids[i], chunks[c]);
        }
        tamper(ids[i]);
        reserved_bits(ids[i]);
    }
    lengths();
    fin_rules();
    rekey_rules();
    cross_backend();
    return tc_check_exit("test_frame");
}
