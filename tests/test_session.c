/*
 * The tcpcrypt session engine between two in-memory endpoints: the Init
 * exchange in any segmentation, the same session ID at both ends, data both
 * ways, FINp, and the exact abort for each bad Init.
 */
#include <string.h>

#include "crypto/keys.h"
#include "crypto/resume.h"
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

/*
 * Resumed sessions (RFC 8548 §3.5) from the caches' tickets: the session ID
 * is TEP|v then CPRF(ss[i], CONST_SESSID | sn[i]) with sn[i] = nonce_a |
 * nonce_b by original roles, no Init message, open at once, and each host
 * encrypts with the keys of its original role whichever end connects.
 */
static void resumed(bool swap)
{
    struct tc_resume_cache ca, cb; /* the hosts that were A and B */
    struct tc_resume_ticket ta, tb, bad;
    struct tc_sess_config cfg = config();
    uint8_t ss1[TC_K_LEN], sub[TC_RESUME_SUBOPT_MAX], sn[TC_SN_MAX], want[TC_SESSID_LEN];
    uint8_t sa[TC_SESSID_LEN], sb[TC_SESSID_LEN], frame[256], msg[] = "resumed";
    size_t n, flen = 0, used;
    struct tc_plain pl;
    const uint8_t *p;
    static const uint8_t peer_a[] = {4, 10, 0, 0, 1}, peer_b[] = {4, 10, 0, 0, 2};

    for (size_t k = 0; k < sizeof(ss1); k++) {
        ss1[k] = (uint8_t)(k * 7 + 1);
    }
    CHECK_INT(tc_resume_cache_init(&ca, 4, 1000), TC_OK);
    CHECK_INT(tc_resume_cache_init(&cb, 4, 1000), TC_OK);
    CHECK_INT(tc_resume_store(&ca, peer_b, 5, 0x23, TC_AEAD_CHACHA20_POLY1305, true, 1, ss1, 0,
                              NULL),
              TC_OK);
    CHECK_INT(tc_resume_store(&cb, peer_a, 5, 0x23, TC_AEAD_CHACHA20_POLY1305, false, 1, ss1, 0,
                              NULL),
              TC_OK);
    /* The connecting host offers, the other agrees and the offerer checks
     * the reply: after a swap, the former B connects. */
    {
        struct tc_resume_cache *oc = swap ? &cb : &ca, *pc = swap ? &ca : &cb;
        struct tc_resume_ticket *ot = swap ? &tb : &ta, *pt = swap ? &ta : &tb;
        const uint8_t *opeer = swap ? peer_a : peer_b;

        CHECK_INT(tc_resume_offer(oc, opeer, 5, 0x23, 4, &tc_rng_system, 1, ot), TC_OK);
        n = tc_resume_subopt(ot, sub);
        CHECK_INT(tc_resume_accept(pc, 0x23, sub + 1, n - 1, 3, &tc_rng_system, 1, pt), TC_OK);
        n = tc_resume_subopt(pt, sub);
        CHECK_INT(tc_resume_check_reply(ot, sub + 1, n - 1), TC_OK);
    }
    n = tc_resume_sn(&ta, sn);
    CHECK_INT(n, swap ? 3 + 4 : 4 + 3);
    CHECK_INT(tc_keys_session_id(want, 0xa3, ss1, sn, n), TC_OK);

    /* Mismatched TEP bytes are refused, and the ticket is wiped. */
    bad = ta;
    CHECK_INT(tc_sess_start_resumed(&a, false, 0x23, &bad, &cfg), TC_E_UNSUPPORTED);
    CHECK_INT(bad.orig_a, false);
    bad = ta;
    CHECK_INT(tc_sess_start_resumed(&a, false, 0xa4, &bad, &cfg), TC_E_UNSUPPORTED);
    tc_sess_wipe(&a);

    /* Current roles: the connecting host is A now. */
    CHECK_INT(tc_sess_start_resumed(&a, swap, 0xa3, &ta, &cfg), TC_OK);
    CHECK_INT(tc_sess_start_resumed(&b, !swap, 0xa3, &tb, &cfg), TC_OK);
    CHECK_INT(ta.orig_a, false); /* wiped */
    CHECK_INT(a.state, TC_SESS_OPEN);
    CHECK_INT(tc_sess_pending(&a, &p), 0);
    CHECK_INT(tc_sess_pending(&b, &p), 0);
    CHECK(tc_sess_init_done(&a) && tc_sess_init_done(&b));
    CHECK(tc_sess_can_seal(&a) && tc_sess_can_seal(&b));
    CHECK(tc_sess_session_id(&a, sa));
    CHECK(tc_sess_session_id(&b, sb));
    CHECK_MEM(sa, want, TC_SESSID_LEN);
    CHECK_MEM(sb, want, TC_SESSID_LEN);
    CHECK_INT(a.resume_i, 1);
    /* The host that was A keeps k_ab. */
    CHECK_INT(a.ch.send_ab, true);
    CHECK_INT(b.ch.send_ab, false);
    CHECK_INT(a.aead->id, TC_AEAD_CHACHA20_POLY1305);
    /* Frames from offset 0 both ways. */
    CHECK_INT(tc_sess_seal(&a, 0, msg, sizeof(msg), frame, sizeof(frame), &flen), TC_OK);
    CHECK_INT(tc_sess_input(&b, frame, flen, &used, &pl), TC_OK);
    CHECK_MEM(pl.data, msg, sizeof(msg));
    CHECK_INT(tc_sess_seal(&b, TC_FLAG_FINP, msg, sizeof(msg), frame, sizeof(frame), &flen), TC_OK);
    CHECK_INT(tc_sess_input(&a, frame, flen, &used, &pl), TC_OK);
    CHECK_INT(pl.fin, true);
    tc_sess_wipe(&a);
    tc_sess_wipe(&b);
    tc_resume_cache_destroy(&ca);
    tc_resume_cache_destroy(&cb);
}

/* A fresh session caches ss[1] under the peer once it opens, with the TEP,
 * AEAD and this host's role. */
static void fresh_stores(void)
{
    struct tc_resume_cache ca, cb;
    struct tc_sess_config cfa = config(), cfb = config();
    struct tc_resume_ticket t;

    CHECK_INT(tc_resume_cache_init(&ca, 4, 1000), TC_OK);
    CHECK_INT(tc_resume_cache_init(&cb, 4, 1000), TC_OK);
    cfa.resume = &ca;
    cfa.peer[0] = 'b';
    cfa.peer_len = 1;
    cfb.resume = &cb;
    cfb.peer[0] = 'a';
    cfb.peer_len = 1;
    CHECK_INT(tc_sess_start(&a, false, 0x23, transcript, sizeof(transcript), &cfa), TC_OK);
    CHECK_INT(tc_sess_start(&b, true, 0x23, transcript, sizeof(transcript), &cfb), TC_OK);
    CHECK_INT(tc_resume_count(&cb, 1), 0);
    CHECK_INT(pump(&a, &b, 100), TC_WANT_MORE);
    CHECK_INT(tc_resume_count(&cb, 1), 1);
    CHECK_INT(pump(&b, &a, 100), TC_WANT_MORE);
    CHECK_INT(tc_resume_count(&ca, 1), 1);
    CHECK_INT(tc_resume_offer(&ca, (const uint8_t *)"b", 1, 0x23, 0, &tc_rng_system, 1, &t), TC_OK);
    CHECK_INT(t.i, 1);
    CHECK_INT(t.orig_a, true);
    CHECK_INT(t.aead, a.aead->id);
    CHECK_MEM(t.ss, a.ss_next, TC_K_LEN);
    tc_resume_ticket_wipe(&t);
    tc_sess_wipe(&a);
    tc_sess_wipe(&b);
    tc_resume_cache_destroy(&ca);
    tc_resume_cache_destroy(&cb);
}

int main(void)
{
    resumed(false);
    resumed(true);
    fresh_stores();
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
