/*
 * The resumption cache (RFC 8548 §3.5): single use of each ss[i] in either
 * role, the lowest unused i, original-role halves and nonces, bounded size
 * and lifetime, and the cache-control operations.
 */
#include <sodium.h>
#include <string.h>

#include "crypto/keys.h"
#include "crypto/resume.h"
#include "tests/check.h"

static const uint8_t host_a[] = {4, 10, 0, 0, 1};
static const uint8_t host_b[] = {4, 10, 0, 0, 2};

static int counter_fill(void *ctx, uint8_t *buf, size_t len)
{
    uint8_t *c = ctx;

    for (size_t i = 0; i < len; i++) {
        buf[i] = (*c)++;
    }
    return TC_OK;
}

static int broken_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return TC_E_RANDOM;
}

static uint8_t counter;
static const struct tc_rng rng = {counter_fill, &counter};

/* Two hosts that completed a fresh session: A cached ss[1] under B's name and
 * B under A's. */
static void two_hosts(struct tc_resume_cache *ca, struct tc_resume_cache *cb, uint8_t ss1[32])
{
    for (int i = 0; i < 32; i++) {
        ss1[i] = (uint8_t)(i * 7 + 1);
    }
    CHECK_INT(tc_resume_cache_init(ca, 8, 60000), TC_OK);
    CHECK_INT(tc_resume_cache_init(cb, 8, 60000), TC_OK);
    CHECK_INT(tc_resume_store(ca, host_b, sizeof(host_b), TC_TEP_X25519, TC_AEAD_AES_128_GCM, true,
                              1, ss1, 0, NULL),
              TC_OK);
    CHECK_INT(tc_resume_store(cb, host_a, sizeof(host_a), TC_TEP_X25519, TC_AEAD_AES_128_GCM, false,
                              1, ss1, 0, NULL),
              TC_OK);
}

/* One resumed connection from `from` to `to`; returns the agreed i or -1. */
static long long resume_once(struct tc_resume_cache *from, const uint8_t *to_name,
                             struct tc_resume_cache *to, uint8_t tep, size_t nonce_len)
{
    struct tc_resume_ticket t1, t2;
    uint8_t sub[TC_RESUME_SUBOPT_MAX], sn1[16], sn2[16];
    uint8_t mk1[32], mk2[32];
    size_t n, l1, l2;
    long long i;

    if (tc_resume_offer(from, to_name, 5, tep, nonce_len, &rng, 1, &t1) != TC_OK) {
        return -1;
    }
    n = tc_resume_subopt(&t1, sub);
    CHECK_INT(n, 1 + 9 + nonce_len);
    CHECK_INT(sub[0], tep | 0x80);
    if (tc_resume_accept(to, sub[0], sub + 1, n - 1, nonce_len, &rng, 1, &t2) != TC_OK) {
        tc_resume_ticket_wipe(&t1);
        return -1;
    }
    n = tc_resume_subopt(&t2, sub);
    CHECK_INT(tc_resume_check_reply(&t1, sub + 1, n - 1), TC_OK);
    CHECK_INT(t1.i, t2.i);
    CHECK_MEM(t1.ss, t2.ss, 32);
    /* Original roles decide the halves and the order of sn. */
    CHECK(t1.orig_a != t2.orig_a);
    l1 = tc_resume_sn(&t1, sn1);
    l2 = tc_resume_sn(&t2, sn2);
    CHECK_INT(l1, 2 * nonce_len);
    CHECK_INT(l2, l1);
    CHECK_MEM(sn1, sn2, l1);
    CHECK_INT(tc_keys_mk0(mk1, t1.ss, sn1, l1), TC_OK);
    CHECK_INT(tc_keys_mk0(mk2, t2.ss, sn2, l2), TC_OK);
    CHECK_MEM(mk1, mk2, 32);
    i = (long long)t1.i;
    tc_resume_ticket_wipe(&t1);
    tc_resume_ticket_wipe(&t2);
    return i;
}

static void test_chain(void)
{
    struct tc_resume_cache ca, cb;
    uint8_t ss1[32], next[32];
    struct tc_resume_ticket t;

    two_hosts(&ca, &cb, ss1);
    /* Many reconnects, either host opening, with nonce lengths 0..8: each
     * uses the next i. */
    for (long long i = 1; i <= 20; i++) {
        bool a_opens = i % 3 != 0;

        CHECK_INT(resume_once(a_opens ? &ca : &cb, a_opens ? host_b : host_a, a_opens ? &cb : &ca,
                              TC_TEP_X25519, (size_t)(i % 9)),
                  i);
    }
    /* The chain really advanced: the next ticket holds ss[22]. */
    CHECK_INT(tc_resume_offer(&ca, host_b, sizeof(host_b), TC_TEP_X25519, 8, &rng, 1, &t), TC_OK);
    CHECK_INT(t.i, 21);
    memcpy(next, ss1, 32);
    for (int i = 1; i < 21; i++) {
        CHECK_INT(tc_keys_next_ss(next, next), TC_OK);
    }
    CHECK_MEM(t.ss, next, 32);
    CHECK_INT(t.my_nonce_len, 8);
    tc_resume_ticket_wipe(&t);
    tc_resume_cache_destroy(&ca);
    tc_resume_cache_destroy(&cb);
}

static void test_single_use(void)
{
    struct tc_resume_cache ca, cb;
    struct tc_resume_ticket ta, tb, tr;
    uint8_t ss1[32], sub[TC_RESUME_SUBOPT_MAX], sub_b[TC_RESUME_SUBOPT_MAX];
    size_t n, nb;

    two_hosts(&ca, &cb, ss1);
    CHECK_INT(tc_resume_offer(&ca, host_b, 5, TC_TEP_X25519, 8, &rng, 1, &ta), TC_OK);
    n = tc_resume_subopt(&ta, sub);
    CHECK_INT(tc_resume_accept(&cb, sub[0], sub + 1, n - 1, 8, &rng, 1, &tb), TC_OK);
    /* A replayed SYN with the same half never gets the secret again. */
    CHECK_INT(tc_resume_accept(&cb, sub[0], sub + 1, n - 1, 8, &rng, 2, &tr), TC_E_NOT_FOUND);
    tc_resume_ticket_wipe(&ta);
    tc_resume_ticket_wipe(&tb);

    /* An offer that failed still used its i: the next offer moves on. */
    CHECK_INT(tc_resume_offer(&ca, host_b, 5, TC_TEP_X25519, 8, &rng, 3, &ta), TC_OK);
    CHECK_INT(ta.i, 2);
    tc_resume_ticket_wipe(&ta);
    CHECK_INT(tc_resume_offer(&ca, host_b, 5, TC_TEP_X25519, 8, &rng, 3, &ta), TC_OK);
    CHECK_INT(ta.i, 3);
    /* B, which saw i = 2 never arrive, does not accept i = 3 either. */
    n = tc_resume_subopt(&ta, sub);
    CHECK_INT(tc_resume_accept(&cb, sub[0], sub + 1, n - 1, 8, &rng, 3, &tb), TC_E_NOT_FOUND);
    tc_resume_ticket_wipe(&ta);
    tc_resume_cache_destroy(&ca);
    tc_resume_cache_destroy(&cb);

    /* Both hosts propose the same ss[i] at once, not as a simultaneous open:
     * neither accepts the other's, both go back to a fresh exchange. */
    two_hosts(&ca, &cb, ss1);
    CHECK_INT(tc_resume_offer(&ca, host_b, 5, TC_TEP_X25519, 8, &rng, 1, &ta), TC_OK);
    CHECK_INT(tc_resume_offer(&cb, host_a, 5, TC_TEP_X25519, 8, &rng, 1, &tb), TC_OK);
    CHECK_INT(ta.i, tb.i);
    n = tc_resume_subopt(&ta, sub);
    nb = tc_resume_subopt(&tb, sub_b);
    CHECK_INT(tc_resume_accept(&cb, sub[0], sub + 1, n - 1, 8, &rng, 1, &tr), TC_E_NOT_FOUND);
    CHECK_INT(tc_resume_accept(&ca, sub_b[0], sub_b + 1, nb - 1, 8, &rng, 1, &tr), TC_E_NOT_FOUND);
    tc_resume_ticket_wipe(&ta);
    tc_resume_ticket_wipe(&tb);
    tc_resume_cache_destroy(&ca);
    tc_resume_cache_destroy(&cb);
}

static void test_mismatch(void)
{
    struct tc_resume_cache ca, cb;
    struct tc_resume_ticket ta, tb;
    uint8_t ss1[32], sub[TC_RESUME_SUBOPT_MAX];
    size_t n;

    two_hosts(&ca, &cb, ss1);
    /* No chain for another TEP or another peer. */
    CHECK_INT(tc_resume_offer(&ca, host_b, 5, TC_TEP_X448, 8, &rng, 1, &ta), TC_E_NOT_FOUND);
    CHECK_INT(tc_resume_offer(&ca, host_a, 5, TC_TEP_X25519, 8, &rng, 1, &ta), TC_E_NOT_FOUND);
    CHECK_INT(tc_resume_offer(&ca, host_b, 5, TC_TEP_X25519, 9, &rng, 1, &ta), TC_E_INVALID);

    CHECK_INT(tc_resume_offer(&ca, host_b, 5, TC_TEP_X25519, 4, &rng, 1, &ta), TC_OK);
    n = tc_resume_subopt(&ta, sub);
    /* The passive opener does not resume under another TEP. */
    CHECK_INT(tc_resume_accept(&cb, TC_TEP_X448 | 0x80, sub + 1, n - 1, 8, &rng, 1, &tb),
              TC_E_NOT_FOUND);
    /* "less than 9 bytes in length": a fresh offer, not a resumption. */
    CHECK_INT(tc_resume_accept(&cb, sub[0], sub + 1, 8, 8, &rng, 1, &tb), TC_E_NOT_FOUND);
    /* A nonce longer than 8 bytes is no valid suboption. */
    CHECK_INT(tc_resume_accept(&cb, sub[0], sub + 1, 18, 8, &rng, 1, &tb), TC_E_NOT_FOUND);
    /* A half that names nothing. */
    sub[3] ^= 0x40;
    CHECK_INT(tc_resume_accept(&cb, sub[0], sub + 1, n - 1, 8, &rng, 1, &tb), TC_E_NOT_FOUND);
    sub[3] ^= 0x40;
    /* None of the refusals above used up the secret. */
    CHECK_INT(tc_resume_accept(&cb, sub[0], sub + 1, n - 1, 8, &rng, 1, &tb), TC_OK);
    CHECK_INT(tb.peer_nonce_len, 4);
    CHECK_MEM(tb.peer_nonce, ta.my_nonce, 4);

    /* The active opener ignores a reply with the wrong half (§3.5). */
    n = tc_resume_subopt(&tb, sub);
    sub[9] ^= 1;
    CHECK_INT(tc_resume_check_reply(&ta, sub + 1, n - 1), TC_E_NOT_FOUND);
    CHECK_INT(tc_resume_check_reply(&ta, sub + 1, 8), TC_E_NOT_FOUND);
    sub[9] ^= 1;
    CHECK_INT(tc_resume_check_reply(&ta, sub + 1, n - 1), TC_OK);

    /* A failing random source fails the offer and leaves no ticket. */
    {
        const struct tc_rng bad = {broken_fill, NULL};

        CHECK_INT(tc_resume_offer(&ca, host_b, 5, TC_TEP_X25519, 8, &bad, 1, &ta), TC_E_RANDOM);
        CHECK_INT(ta.i, 0);
    }
    tc_resume_ticket_wipe(&ta);
    tc_resume_ticket_wipe(&tb);
    {
        static const uint8_t zero[sizeof(ta)];

        CHECK_MEM(&ta, zero, sizeof(ta));
    }
    tc_resume_cache_destroy(&ca);
    tc_resume_cache_destroy(&cb);
}

static void test_limits(void)
{
    struct tc_resume_cache c;
    struct tc_resume_ticket t;
    uint8_t ss[32] = {1}, peer[5] = {4, 1, 1, 1, 0};
    uint64_t id1 = 0, id2 = 0, id3 = 0;

    CHECK_INT(tc_resume_cache_init(&c, 0, 1000), TC_E_INVALID);
    CHECK_INT(tc_resume_cache_init(&c, 2, 1000), TC_OK);
    CHECK_INT(tc_resume_store(&c, peer, 5, TC_TEP_X25519, 1, true, 1, ss, 0, &id1), TC_OK);
    peer[4] = 1;
    CHECK_INT(tc_resume_store(&c, peer, 5, TC_TEP_X25519, 1, true, 1, ss, 10, &id2), TC_OK);
    /* Using the first entry makes the second the least recently used. */
    peer[4] = 0;
    CHECK_INT(tc_resume_offer(&c, peer, 5, TC_TEP_X25519, 8, &rng, 20, &t), TC_OK);
    peer[4] = 2;
    CHECK_INT(tc_resume_store(&c, peer, 5, TC_TEP_X25519, 1, true, 1, ss, 30, &id3), TC_OK);
    CHECK_INT(tc_resume_count(&c, 30), 2);
    peer[4] = 1;
    CHECK_INT(tc_resume_offer(&c, peer, 5, TC_TEP_X25519, 8, &rng, 30, &t), TC_E_NOT_FOUND);
    peer[4] = 0;
    CHECK_INT(tc_resume_offer(&c, peer, 5, TC_TEP_X25519, 8, &rng, 30, &t), TC_OK);

    /* Lifetime: entry 1 was stored at 0, entry 3 at 30; lifetime 1000. */
    CHECK_INT(tc_resume_count(&c, 999), 2);
    CHECK_INT(tc_resume_count(&c, 1000), 1);
    CHECK_INT(tc_resume_offer(&c, peer, 5, TC_TEP_X25519, 8, &rng, 1000, &t), TC_E_NOT_FOUND);

    /* Cache control. */
    CHECK_INT(tc_resume_flush_id(&c, id2), 0);
    CHECK_INT(tc_resume_flush_id(&c, id3), 1);
    CHECK_INT(tc_resume_count(&c, 0), 0);
    CHECK_INT(tc_resume_store(&c, peer, 5, TC_TEP_X25519, 1, true, 1, ss, 0, NULL), TC_OK);
    CHECK_INT(tc_resume_store(&c, peer, 5, TC_TEP_X448, 1, true, 1, ss, 0, NULL), TC_OK);
    CHECK_INT(tc_resume_flush_peer(&c, peer, 5), 2);
    CHECK_INT(tc_resume_store(&c, peer, 5, TC_TEP_X25519, 1, true, 1, ss, 0, NULL), TC_OK);
    CHECK_INT(tc_resume_flush_all(&c), 1);
    CHECK_INT(tc_resume_count(&c, 0), 0);
    CHECK_INT(tc_resume_store(&c, peer, TC_PEER_ID_MAX + 1, TC_TEP_X25519, 1, true, 1, ss, 0, NULL),
              TC_E_INVALID);
    tc_resume_ticket_wipe(&t);
    tc_resume_cache_destroy(&c);
    CHECK_INT(TC_RESUME_NONCE_DEFAULT, 8);
}

/*
 * Many peers in one cache: each passive lookup (by identifier half) and each
 * active lookup (by peer name) finds exactly its own chain through the hash
 * indexes, a taken secret's old half no longer matches, and flushing,
 * expiry and LRU eviction leave the indexes consistent.
 */
static void test_many_peers(void)
{
    enum { N = 300 };
    struct tc_resume_cache ca, cb;
    struct tc_resume_ticket t, u;
    uint8_t ss[32], name[5], sub[TC_RESUME_SUBOPT_MAX], old_half[TC_RESUME_HALF_LEN];
    size_t found = 0, n;

    CHECK_INT(tc_resume_cache_init(&ca, N, 60000), TC_OK);
    CHECK_INT(tc_resume_cache_init(&cb, N, 60000), TC_OK);
    /* A talked to N peers; each peer k (all in cb, stored under A's name
     * would collide, so under a name per k) shares ss with A. */
    for (int k = 0; k < N; k++) {
        memset(ss, k + 1, sizeof(ss));
        ss[0] = (uint8_t)(k >> 8);
        name[0] = 4, name[1] = 10, name[2] = 1, name[3] = (uint8_t)(k >> 8), name[4] = (uint8_t)k;
        CHECK_INT(tc_resume_store(&ca, name, sizeof(name), TC_TEP_X25519, TC_AEAD_AES_128_GCM, true, 1,
                                  ss, 0, NULL),
                  TC_OK);
        CHECK_INT(tc_resume_store(&cb, name, sizeof(name), TC_TEP_X25519, TC_AEAD_AES_128_GCM, false,
                                  1, ss, 0, NULL),
                  TC_OK);
    }
    for (int k = 0; k < N; k++) {
        name[3] = (uint8_t)(k >> 8), name[4] = (uint8_t)k;
        if (tc_resume_offer(&ca, name, sizeof(name), TC_TEP_X25519, 4, &rng, 1, &t) != TC_OK) {
            continue;
        }
        n = tc_resume_subopt(&t, sub);
        memcpy(old_half, sub + 1, sizeof(old_half));
        /* B (whichever peer) finds the matching chain by the half alone. */
        if (tc_resume_accept(&cb, TC_TEP_X25519, sub + 1, n - 1, 4, &rng, 1, &u) == TC_OK &&
            sodium_memcmp(u.ss, t.ss, 32) == 0 && u.i == 1) {
            found++;
        }
        /* The same half again: the secret is spent. */
        CHECK_INT(tc_resume_accept(&cb, TC_TEP_X25519, old_half, sizeof(old_half), 0, &rng, 1, &u),
                  TC_E_NOT_FOUND);
        tc_resume_ticket_wipe(&t);
        tc_resume_ticket_wipe(&u);
    }
    CHECK_INT(found, N);
    /* Round two: every chain advanced to i = 2 on both sides. */
    found = 0;
    for (int k = 0; k < N; k++) {
        name[3] = (uint8_t)(k >> 8), name[4] = (uint8_t)k;
        CHECK_INT(tc_resume_offer(&ca, name, sizeof(name), TC_TEP_X25519, 0, &rng, 2, &t), TC_OK);
        n = tc_resume_subopt(&t, sub);
        found += tc_resume_accept(&cb, TC_TEP_X25519, sub + 1, n - 1, 0, &rng, 2, &u) == TC_OK &&
                 u.i == 2 && t.i == 2;
        tc_resume_ticket_wipe(&t);
        tc_resume_ticket_wipe(&u);
    }
    CHECK_INT(found, N);
    /* Flush one peer: only its chain goes. */
    name[3] = 0, name[4] = 7;
    CHECK_INT(tc_resume_flush_peer(&ca, name, sizeof(name)), 1);
    CHECK_INT(tc_resume_offer(&ca, name, sizeof(name), TC_TEP_X25519, 0, &rng, 3, &t), TC_E_NOT_FOUND);
    CHECK_INT(tc_resume_count(&ca, 3), N - 1);
    /* Full cache: a new store evicts the least recently used chain (peer 0
     * was used at time 2 like the rest, first: evicted), and the others stay
     * reachable. */
    memset(ss, 0xee, sizeof(ss));
    name[3] = 0xff, name[4] = 0xff;
    CHECK_INT(tc_resume_store(&ca, name, sizeof(name), TC_TEP_X25519, TC_AEAD_AES_128_GCM, true, 1, ss,
                              3, NULL),
              TC_OK); /* into peer 7's freed slot */
    name[3] = 0xff, name[4] = 0xfe;
    CHECK_INT(tc_resume_store(&ca, name, sizeof(name), TC_TEP_X25519, TC_AEAD_AES_128_GCM, true, 1, ss,
                              3, NULL),
              TC_OK); /* evicts one */
    CHECK_INT(tc_resume_count(&ca, 3), N);
    found = 0;
    for (int k = 0; k < N; k++) {
        name[3] = (uint8_t)(k >> 8), name[4] = (uint8_t)k;
        if (tc_resume_offer(&ca, name, sizeof(name), TC_TEP_X25519, 0, &rng, 4, &t) == TC_OK) {
            found++;
            tc_resume_ticket_wipe(&t);
        }
    }
    CHECK_INT(found, N - 2); /* all but the flushed and the evicted */
    /* Expiry: after the lifetime nothing is offered, and stores reuse slots. */
    CHECK_INT(tc_resume_count(&ca, 60000 + 5), 0);
    CHECK_INT(tc_resume_offer(&ca, name, sizeof(name), TC_TEP_X25519, 0, &rng, 60000 + 5, &t),
              TC_E_NOT_FOUND);
    /* (Expired entries met on a lookup are already gone.) */
    n = tc_resume_flush_all(&ca);
    CHECK(n > 0 && n <= N);
    CHECK_INT(tc_resume_count(&ca, 0), 0);
    /* Every slot is free again: N new chains fit without eviction. */
    for (int k = 0; k < N; k++) {
        name[3] = (uint8_t)(k >> 8), name[4] = (uint8_t)k;
        CHECK_INT(tc_resume_store(&ca, name, sizeof(name), TC_TEP_X448, TC_AEAD_AES_128_GCM, true, 1,
                                  ss, 100000, NULL),
                  TC_OK);
    }
    CHECK_INT(tc_resume_count(&ca, 100000), N);
    tc_resume_cache_destroy(&ca);
    tc_resume_cache_destroy(&cb);
}

int main(void)
{
    test_chain();
    test_many_peers();
    test_single_use();
    test_mismatch();
    test_limits();
    return tc_check_exit("test_resume");
}
