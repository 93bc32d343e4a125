/*
 * The tcpcrypt session engine between two in-memory endpoints: the Init
 * exchange in any segmentation, the same session ID at both ends, data both
 * ways, FINp, and the exact abort for each bad Init.
 */
#include <string.h>

#include "stack/session.h"
#include "tests/check.h"

static struct tc_sess a, b; /* large: off the stack */
static const uint8_t transcript[] = {0x45, 0x04, 0x24, 0x23, 0x45, 0x04, 0x01, 0x23};

/* The private key is gone once the keys are derived. */
static int sodium_is_zero_priv(const struct tc_sess *s)
{
    for (size_t i = 0; i < sizeof(s->priv); i++) {
        if (s->priv[i] != 0) {
            return 0;
        }
    }
    return 1;
}

static struct tc_sess_config config(void)
{
    struct tc_sess_config c = {.rng = &tc_rng_system,
                               .aeads = {TC_AEAD_AES_128_GCM, TC_AEAD_CHACHA20_POLY1305},
                               .naeads = 2,
                               .now_ms = 1000};
    return c;
}

/* Move what `from` must send into `to`, chunk bytes at a time. */
static int pump(struct tc_sess *from, struct tc_sess *to, size_t chunk)
{
    const uint8_t *p;
    size_t n = tc_sess_pending(from, &p), used;
    struct tc_plain pl;
    int err = TC_WANT_MORE;

    for (size_t off = 0; off < n; off += used) {
        size_t k = n - off < chunk ? n - off : chunk;

        err = tc_sess_input(to, p + off, k, &used, &pl);
        if (err != TC_WANT_MORE) {
            return err;
        }
        CHECK_INT(used, k);
    }
    tc_sess_sent(from, n);
    return err;
}

static void handshake(uint8_t tep, size_t chunk, struct tc_eph_cache *eph)
{
    struct tc_sess_config ca = config(), cb = config();
    uint8_t sa[TC_SESSID_LEN], sb[TC_SESSID_LEN], frame[256], msg[] = "ping";
    uint8_t tr[8];
    size_t flen = 0, used;
    struct tc_plain pl;

    memcpy(tr, transcript, sizeof(tr));
    tr[3] = tep;
    tr[7] = tep;
    cb.aeads[0] = TC_AEAD_CHACHA20_POLY1305;
    cb.eph = eph;
    CHECK_INT(tc_sess_start(&a, false, tep, tr, sizeof(tr), &ca), TC_OK);
    CHECK_INT(tc_sess_start(&b, true, tep, tr, sizeof(tr), &cb), TC_OK);
    CHECK_INT(tc_sess_can_seal(&a), false);
    CHECK_INT(tc_sess_seal(&a, 0, msg, 4, frame, sizeof(frame), &flen), TC_E_STATE);
    CHECK_INT(pump(&a, &b, chunk), TC_WANT_MORE); /* Init1 */
    CHECK_INT(b.state, TC_SESS_OPEN);
    /* B may seal only once Init2 is on its way. */
    CHECK_INT(tc_sess_can_seal(&b), false);
    CHECK_INT(pump(&b, &a, chunk), TC_WANT_MORE); /* Init2 */
    CHECK_INT(tc_sess_can_seal(&b), true);
    CHECK_INT(tc_sess_can_seal(&a), true);
    CHECK_INT(tc_sess_init_done(&a), true);
    CHECK(tc_sess_session_id(&a, sa));
    CHECK(tc_sess_session_id(&b, sb));
    CHECK_MEM(sa, sb, TC_SESSID_LEN);
    CHECK_INT(sa[0], tep);
    /* B chose its preference among A's offer. */
    CHECK_INT(a.aead->id, TC_AEAD_CHACHA20_POLY1305);

    CHECK_INT(tc_sess_seal(&a, 0, msg, 4, frame, sizeof(frame), &flen), TC_OK);
    CHECK_INT(tc_sess_input(&b, frame, flen, &used, &pl), TC_OK);
    CHECK_INT(pl.len, 4);
    CHECK_MEM(pl.data, msg, 4);
    CHECK_INT(tc_sess_seal(&b, TC_FLAG_FINP, NULL, 0, frame, sizeof(frame), &flen), TC_OK);
    CHECK_INT(tc_sess_input(&a, frame, flen, &used, &pl), TC_OK);
    CHECK_INT(pl.fin, true);
    CHECK_INT(tc_sess_peer_fin(&a), TC_OK);
    CHECK_INT(tc_sess_peer_fin(&b), TC_E_FIN_WITHOUT_FINP);
    CHECK_INT(tc_sess_seal(&b, 0, msg, 4, frame, sizeof(frame), &flen), TC_E_FIN_WITHOUT_FINP);
    tc_sess_wipe(&a);
    tc_sess_wipe(&b);
}

/* Init1 and the first frame in one segment: B must not swallow the frame
 * into the Init message. */
static void coalesced(void)
{
    struct tc_sess_config ca = config(), cb = config();
    uint8_t buf[1024], msg[] = "first bytes";
    const uint8_t *p;
    size_t n, flen = 0, used, total;
    struct tc_plain pl;

    CHECK_INT(tc_sess_start(&a, false, 0x23, transcript, sizeof(transcript), &ca), TC_OK);
    CHECK_INT(tc_sess_start(&b, true, 0x23, transcript, sizeof(transcript), &cb), TC_OK);
    CHECK_INT(pump(&a, &b, 1000), TC_WANT_MORE);
    /* Init2 followed at once by B's first frame, delivered together. */
    n = tc_sess_pending(&b, &p);
    memcpy(buf, p, n);
    tc_sess_sent(&b, n);
    CHECK_INT(tc_sess_seal(&b, 0, msg, sizeof(msg), buf + n, sizeof(buf) - n, &flen), TC_OK);
    total = n + flen;
    CHECK_INT(tc_sess_input(&a, buf, total, &used, &pl), TC_OK);
    CHECK_INT(used, total);
    CHECK_INT(pl.len, sizeof(msg));
    CHECK_MEM(pl.data, msg, sizeof(msg));
    tc_sess_wipe(&a);
    tc_sess_wipe(&b);
}

/* Each bad Init aborts with its own error. */
static void bad_init(void)
{
    struct tc_sess_config ca = config(), cb = config();
    uint8_t msg[TC_INIT_MAX_LEN];
    const uint8_t *p;
    size_t n, used;
    struct tc_plain pl;

    /* B receives an Init2 magic where Init1 belongs. */
    CHECK_INT(tc_sess_start(&b, true, 0x23, transcript, sizeof(transcript), &cb), TC_OK);
    msg[0] = 0x09;
    CHECK_INT(tc_sess_input(&b, msg, 1, &used, &pl), TC_E_BAD_MAGIC);
    CHECK_INT(tc_sess_input(&b, msg, 1, &used, &pl), TC_E_BAD_MAGIC); /* sticky */
    tc_sess_wipe(&b);

    /* A's Pub_A replaced by a small-order point: B aborts. */
    CHECK_INT(tc_sess_start(&a, false, 0x23, transcript, sizeof(transcript), &ca), TC_OK);
    CHECK_INT(tc_sess_start(&b, true, 0x23, transcript, sizeof(transcript), &cb), TC_OK);
    n = tc_sess_pending(&a, &p);
    memcpy(msg, p, n);
    memset(msg + n - 32, 0, 32);
    CHECK_INT(tc_sess_input(&b, msg, n, &used, &pl), TC_E_ZERO_SECRET);
    CHECK_INT(b.state, TC_SESS_FAILED);
    tc_sess_wipe(&b);

    /* Init2 choosing a cipher A did not offer. */
    CHECK_INT(tc_sess_start(&b, true, 0x23, transcript, sizeof(transcript), &cb), TC_OK);
    CHECK_INT(pump(&a, &b, 7), TC_WANT_MORE);
    n = tc_sess_pending(&b, &p);
    memcpy(msg, p, n);
    msg[9] = 0x02; /* AES-256-GCM was not in A's list */
    CHECK_INT(tc_sess_input(&a, msg, n, &used, &pl), TC_E_CIPHER_NOT_OFFERED);
    tc_sess_wipe(&a);
    tc_sess_wipe(&b);

    /* B prefers nothing A offers. */
    cb.aeads[0] = TC_AEAD_AES_256_GCM;
    cb.naeads = 1;
    CHECK_INT(tc_sess_start(&a, false, 0x23, transcript, sizeof(transcript), &ca), TC_OK);
    CHECK_INT(tc_sess_start(&b, true, 0x23, transcript, sizeof(transcript), &cb), TC_OK);
    CHECK_INT(pump(&a, &b, 100), TC_E_NO_COMMON_CIPHER);
    /* A FIN before the Init exchange finished is an abort, not EOF. */
    CHECK_INT(tc_sess_peer_fin(&a), TC_E_FIN_WITHOUT_FINP);
    tc_sess_wipe(&a);
    tc_sess_wipe(&b);

    /* Different transcripts (a tampered SYN): keys differ, first frame fails. */
    {
        uint8_t other[8], frame[64];
        size_t flen = 0;

        memcpy(other, transcript, 8);
        other[2] = 0x23;
        cb = config();
        CHECK_INT(tc_sess_start(&a, false, 0x23, transcript, 8, &ca), TC_OK);
        CHECK_INT(tc_sess_start(&b, true, 0x23, other, 8, &cb), TC_OK);
        CHECK_INT(pump(&a, &b, 100), TC_WANT_MORE);
        CHECK_INT(pump(&b, &a, 100), TC_WANT_MORE);
        CHECK_INT(tc_sess_seal(&a, 0, (const uint8_t *)"x", 1, frame, sizeof(frame), &flen),
                  TC_OK);
        CHECK_INT(tc_sess_input(&b, frame, flen, &used, &pl), TC_E_AUTH);
        tc_sess_wipe(&a);
        tc_sess_wipe(&b);
    }
    /* v = 1 (resumption) is not started here. */
    CHECK_INT(tc_sess_start(&a, false, 0xa3, transcript, sizeof(transcript), &ca),
              TC_E_UNSUPPORTED);
}

static void ephemeral_reuse(void)
{
    static struct tc_eph_cache eph = {.lifetime_ms = 1000};
    struct tc_sess_config ca = config(), cb = config();
    uint8_t pub1[TC_PUB_MAX], sid1[TC_SESSID_LEN], sid2[TC_SESSID_LEN];

    cb.eph = &eph;
    for (int round = 0; round < 3; round++) {
        cb.now_ms = round == 2 ? 2500 : 1000 + (uint64_t)round * 500;
        CHECK_INT(tc_sess_start(&a, false, 0x23, transcript, sizeof(transcript), &ca), TC_OK);
        CHECK_INT(tc_sess_start(&b, true, 0x23, transcript, sizeof(transcript), &cb), TC_OK);
        CHECK_INT(pump(&a, &b, 1000), TC_WANT_MORE);
        CHECK_INT(pump(&b, &a, 1000), TC_WANT_MORE);
        if (round == 0) {
            memcpy(pub1, b.pub, sizeof(pub1));
            CHECK(tc_sess_session_id(&b, sid1));
        } else {
            CHECK(tc_sess_session_id(&b, sid2));
            /* Within the lifetime the key is reused; after it, a new one.
             * Session IDs differ either way (fresh nonces). */
            CHECK_INT(memcmp(b.pub, pub1, 32) == 0, round == 1);
            CHECK(memcmp(sid1, sid2, TC_SESSID_LEN) != 0);
        }
        CHECK(sodium_is_zero_priv(&b));
        tc_sess_wipe(&a);
        tc_sess_wipe(&b);
    }
    tc_eph_cache_wipe(&eph);
    CHECK_INT(eph.slot[2].valid, false);
}

int main(void)
{
    static const uint8_t teps[4] = {0x21, 0x22, 0x23, 0x24};
    static const size_t chunks[] = {1, 3, 8, 1500};

    for (int t = 0; t < 4; t++) {
        for (size_t c = 0; c < 4; c++) {
            handshake(teps[t], chunks[c], NULL);
        }
    }
    coalesced();
    bad_init();
    ephemeral_reuse();
    return tc_check_exit("test_session");
}
