/*
 * The C core reproduces, byte for byte, every vector made by the independent
 * Python implementation of RFC 8548 (tests/vectors/gen_vectors.py).
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/frame.h"
#include "crypto/init.h"
#include "crypto/kex.h"
#include "crypto/keys.h"
#include "crypto/resume.h"
#include "tests/check.h"
#include "tests/vectors.h"

static unsigned n_fresh, n_resume, n_frame, n_stream;

/* Compare a computed value with a vector field. */
static void want(const struct tc_vec_record *r, const char *key, const uint8_t *got, size_t len)
{
    size_t wlen;
    uint8_t *w = tc_vec_hex(r, key, &wlen);

    CHECK_INT(len, wlen);
    if (len == wlen) {
        tc_checks_run++;
        if (memcmp(got, w, len) != 0) {
            tc_check_mem_fail(tc_vec_str(r, "name"), 0, key, got, w, len);
        }
    }
    free(w);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Append a tail and rewrite message_len, as a peer sending "ignored" bytes would. */
static size_t add_tail(uint8_t *msg, size_t len, const uint8_t *tail, size_t tlen)
{
    size_t m = len + tlen;

    memcpy(msg + len, tail, tlen);
    msg[4] = (uint8_t)(m >> 24);
    msg[5] = (uint8_t)(m >> 16);
    msg[6] = (uint8_t)(m >> 8);
    msg[7] = (uint8_t)m;
    return m;
}

static void check_fresh(const struct tc_vec_record *r)
{
    uint8_t tep, priv_a[TC_PRIV_MAX], priv_b[TC_PRIV_MAX], n_a[32], n_b[32];
    uint8_t pub_a[TC_PUB_MAX], pub_b[TC_PUB_MAX], es_a[TC_ES_MAX], es_b[TC_ES_MAX];
    uint8_t init1[TC_INIT_MAX_LEN], init2[TC_INIT_MAX_LEN];
    uint8_t ss[3][TC_K_LEN], mk[3][TC_K_LEN], k[TC_TRAFFIC_KEY_MAX];
    uint8_t sid[TC_SESSID_LEN], rid[TC_RESUME_ID_LEN];
    uint16_t ciphers[TC_CIPHERS_MAX], chosen = 0, vec_aead;
    size_t nc, ciphers_len, tlen, t1len, t2len, i1len = 0, i2len = 0;
    uint8_t *craw, *transcript, *tail1, *tail2;
    const struct tc_kex *kx;
    const struct tc_aead_alg *alg;
    struct tc_init1 d1;
    struct tc_init2 d2;
    char name[16];

    tc_vec_fixed(r, "tep", &tep, 1);
    kx = tc_kex_find(tep);
    CHECK(kx != NULL);
    if (kx == NULL) {
        return;
    }
    craw = tc_vec_hex(r, "ciphers", &ciphers_len);
    nc = ciphers_len / 2;
    for (size_t i = 0; i < nc; i++) {
        ciphers[i] = get16(craw + 2 * i);
    }
    vec_aead = (uint16_t)tc_vec_uint(r, "aead");
    alg = tc_aead_find(vec_aead);
    CHECK(alg != NULL);
    tc_vec_fixed(r, "priv_a", priv_a, kx->priv_len);
    tc_vec_fixed(r, "priv_b", priv_b, kx->priv_len);
    tc_vec_fixed(r, "n_a", n_a, 32);
    tc_vec_fixed(r, "n_b", n_b, 32);
    transcript = tc_vec_hex(r, "transcript", &tlen);
    tail1 = tc_vec_hex(r, "init1_tail", &t1len);
    tail2 = tc_vec_hex(r, "init2_tail", &t2len);

    /* Both public keys, and Init1 as A sends it (plus the vector's tail). */
    CHECK_INT(tc_kex_public(kx, pub_a, priv_a), TC_OK);
    CHECK_INT(tc_kex_public(kx, pub_b, priv_b), TC_OK);
    want(r, "pub_a", pub_a, kx->pub_len);
    want(r, "pub_b", pub_b, kx->pub_len);
    CHECK_INT(tc_init1_encode(init1, sizeof(init1), &i1len, kx, ciphers, nc, n_a, pub_a), TC_OK);
    i1len = add_tail(init1, i1len, tail1, t1len);
    want(r, "init1", init1, i1len);

    /* B decodes it, chooses the vector's AEAD, answers with Init2. */
    CHECK_INT(tc_init1_decode(init1, i1len, kx, &d1), TC_OK);
    CHECK_INT(d1.len, i1len);
    CHECK_INT(d1.nciphers, nc);
    CHECK_MEM(d1.n_a, n_a, 32);
    CHECK_MEM(d1.pub, pub_a, kx->pub_len);
    CHECK_INT(tc_aead_choose(&chosen, d1.ciphers, d1.nciphers, &vec_aead, 1), TC_OK);
    CHECK_INT(chosen, vec_aead);
    CHECK_INT(tc_init2_encode(init2, sizeof(init2), &i2len, kx, chosen, n_b, pub_b), TC_OK);
    i2len = add_tail(init2, i2len, tail2, t2len);
    want(r, "init2", init2, i2len);
    CHECK_INT(tc_init2_decode(init2, i2len, kx, ciphers, nc, &d2), TC_OK);
    CHECK_INT(d2.len, i2len);
    CHECK_INT(d2.cipher, vec_aead);

    /* ES from each side. */
    CHECK_INT(tc_kex_shared(kx, es_a, priv_a, d2.pub), TC_OK);
    CHECK_INT(tc_kex_shared(kx, es_b, priv_b, d1.pub), TC_OK);
    want(r, "es", es_a, kx->es_len);
    want(r, "es", es_b, kx->es_len);

    CHECK_INT(
        tc_keys_prk(ss[0], n_a, transcript, tlen, init1, i1len, init2, i2len, es_a, kx->es_len),
        TC_OK);
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            CHECK_INT(tc_keys_next_ss(ss[i], ss[i - 1]), TC_OK);
        }
        snprintf(name, sizeof(name), "ss%d", i);
        want(r, name, ss[i], TC_K_LEN);
    }
    for (int j = 0; j < 3; j++) {
        if (j == 0) {
            CHECK_INT(tc_keys_mk0(mk[0], ss[0], NULL, 0), TC_OK);
        } else {
            CHECK_INT(tc_keys_next_mk(mk[j], mk[j - 1]), TC_OK);
        }
        snprintf(name, sizeof(name), "mk%d", j);
        want(r, name, mk[j], TC_K_LEN);
        if (alg != NULL) {
            CHECK_INT(tc_keys_traffic(k, mk[j], true, alg), TC_OK);
            snprintf(name, sizeof(name), "kab%d", j);
            want(r, name, k, alg->key_len + alg->nonce_len);
            CHECK_INT(tc_keys_traffic(k, mk[j], false, alg), TC_OK);
            snprintf(name, sizeof(name), "kba%d", j);
            want(r, name, k, alg->key_len + alg->nonce_len);
        }
    }
    /* A fresh session: B sent the TEP with v = 0. */
    CHECK_INT(tc_keys_session_id(sid, tep, ss[0], NULL, 0), TC_OK);
    want(r, "sid", sid, TC_SESSID_LEN);
    CHECK_INT(tc_keys_resume_id(rid, ss[1]), TC_OK);
    want(r, "resume1", rid, TC_RESUME_ID_LEN);

    free(craw);
    free(transcript);
    free(tail1);
    free(tail2);
    n_fresh++;
}

/* A random source that hands out the given bytes. */
struct script_rng {
    const uint8_t *p;
    size_t len;
};

static int script_fill(void *ctx, uint8_t *buf, size_t len)
{
    struct script_rng *s = ctx;

    if (len > s->len) {
        return TC_E_RANDOM;
    }
    memcpy(buf, s->p, len);
    s->p += len;
    s->len -= len;
    return TC_OK;
}

static void check_resume(const struct tc_vec_record *r)
{
    static const uint8_t host_a[] = {4, 10, 0, 0, 1}, host_b[] = {4, 10, 0, 0, 2};
    uint8_t tep, ss[TC_K_LEN], next[TC_K_LEN], rid[TC_RESUME_ID_LEN];
    uint8_t nonce_a[8], nonce_b[8], sub[TC_RESUME_SUBOPT_MAX];
    uint8_t sn_act[16], sn_pas[16], mk0[TC_K_LEN], k[TC_TRAFFIC_KEY_MAX], sid[TC_SESSID_LEN];
    size_t la, lb, sublen, snlen;
    uint16_t aead;
    bool active_was_a;
    struct tc_resume_cache cache_a, cache_b, *act, *pas;
    struct tc_resume_ticket ta, tp, again;
    struct script_rng sr_act, sr_pas;
    struct tc_rng rng_act = {script_fill, &sr_act}, rng_pas = {script_fill, &sr_pas};
    const struct tc_aead_alg *alg;
    uint8_t *na, *nb, *flag;
    size_t flen;

    tc_vec_fixed(r, "tep", &tep, 1);
    aead = (uint16_t)tc_vec_uint(r, "aead");
    alg = tc_aead_find(aead);
    CHECK(alg != NULL);
    tc_vec_fixed(r, "ss", ss, TC_K_LEN);
    flag = tc_vec_hex(r, "active_was_a", &flen);
    active_was_a = flen == 1 && flag[0] == 1;
    na = tc_vec_hex(r, "nonce_a", &la);
    nb = tc_vec_hex(r, "nonce_b", &lb);
    memcpy(nonce_a, na, la);
    memcpy(nonce_b, nb, lb);

    CHECK_INT(tc_keys_resume_id(rid, ss), TC_OK);
    want(r, "resume", rid, TC_RESUME_ID_LEN);

    /* Each host caches ss[i] of the chain under the other's name; i = 1 is
     * arbitrary here, the vectors only fix ss[i]. */
    CHECK_INT(tc_resume_cache_init(&cache_a, 4, 10000), TC_OK);
    CHECK_INT(tc_resume_cache_init(&cache_b, 4, 10000), TC_OK);
    CHECK_INT(tc_resume_store(&cache_a, host_b, sizeof(host_b), tep, aead, true, 1, ss, 0, NULL),
              TC_OK);
    CHECK_INT(tc_resume_store(&cache_b, host_a, sizeof(host_a), tep, aead, false, 1, ss, 0, NULL),
              TC_OK);
    act = active_was_a ? &cache_a : &cache_b;
    pas = active_was_a ? &cache_b : &cache_a;
    sr_act.p = active_was_a ? nonce_a : nonce_b;
    sr_act.len = active_was_a ? la : lb;
    sr_pas.p = active_was_a ? nonce_b : nonce_a;
    sr_pas.len = active_was_a ? lb : la;

    /* The active opener's SYN suboption. */
    CHECK_INT(tc_resume_offer(act, active_was_a ? host_b : host_a, sizeof(host_a), tep, sr_act.len,
                              &rng_act, 1, &ta),
              TC_OK);
    sublen = tc_resume_subopt(&ta, sub);
    want(r, "subopt_active", sub, sublen);

    /* The passive opener agrees and answers with the other half. */
    CHECK_INT(tc_resume_accept(pas, sub[0], sub + 1, sublen - 1, sr_pas.len, &rng_pas, 1, &tp),
              TC_OK);
    CHECK_INT(tp.aead, aead);
    sublen = tc_resume_subopt(&tp, sub);
    want(r, "subopt_passive", sub, sublen);
    CHECK_INT(tc_resume_check_reply(&ta, sub + 1, sublen - 1), TC_OK);

    /* Both derive the same session from ss[i] and sn[i]. */
    snlen = tc_resume_sn(&ta, sn_act);
    want(r, "sn", sn_act, snlen);
    CHECK_INT(tc_resume_sn(&tp, sn_pas), snlen);
    CHECK_MEM(sn_pas, sn_act, snlen);
    CHECK_INT(tc_keys_mk0(mk0, ta.ss, sn_act, snlen), TC_OK);
    want(r, "mk0", mk0, TC_K_LEN);
    if (alg != NULL) {
        CHECK_INT(tc_keys_traffic(k, mk0, true, alg), TC_OK);
        want(r, "kab0", k, alg->key_len + alg->nonce_len);
        CHECK_INT(tc_keys_traffic(k, mk0, false, alg), TC_OK);
        want(r, "kba0", k, alg->key_len + alg->nonce_len);
    }
    /* "the first byte will always have v = 1" for a resumed session. */
    CHECK_INT(tc_keys_session_id(sid, (uint8_t)(tep | TC_TEP_V_BIT), tp.ss, sn_pas, snlen), TC_OK);
    want(r, "sid", sid, TC_SESSID_LEN);
    CHECK_INT(tc_keys_next_ss(next, ss), TC_OK);
    want(r, "ss_next", next, TC_K_LEN);

    /* Single use: replaying the active opener's suboption finds nothing, and
     * the next offer moves on to ss[i+1]. */
    sublen = tc_resume_subopt(&ta, sub);
    CHECK_INT(tc_resume_accept(pas, sub[0], sub + 1, sublen - 1, 0, &rng_pas, 2, &again),
              TC_E_NOT_FOUND);
    sr_act.len = 0;
    CHECK_INT(tc_resume_offer(act, active_was_a ? host_b : host_a, sizeof(host_a), tep, 0, &rng_act,
                              2, &again),
              TC_OK);
    CHECK_INT(again.i, ta.i + 1);
    CHECK_MEM(again.ss, next, TC_K_LEN);

    tc_resume_cache_destroy(&cache_a);
    tc_resume_cache_destroy(&cache_b);
    free(na);
    free(nb);
    free(flag);
    n_resume++;
}

static void check_frame(const struct tc_vec_record *r)
{
    const struct tc_aead_alg *alg = tc_aead_find((uint16_t)tc_vec_uint(r, "aead"));
    uint8_t key[TC_TRAFFIC_KEY_MAX], control, flags, urg[2] = {0, 0}, *data, *out;
    size_t dlen, ulen, olen = 0;
    uint64_t offset = tc_vec_uint(r, "offset");
    struct tc_aead_key k;
    struct tc_plain pl;
    uint8_t *u;
    const struct tc_aead_backend *backends[2] = {&tc_aead_openssl, &tc_aead_sodium};

    CHECK(alg != NULL);
    if (alg == NULL) {
        return;
    }
    tc_vec_fixed(r, "key", key, alg->key_len + alg->nonce_len);
    tc_vec_fixed(r, "control", &control, 1);
    tc_vec_fixed(r, "flags", &flags, 1);
    u = tc_vec_hex(r, "urgent", &ulen);
    memcpy(urg, u, ulen);
    data = tc_vec_hex(r, "data", &dlen);
    out = malloc(TC_FRAME_MAX);

    /* Every backend that runs this algorithm seals the same bytes. */
    for (int b = 0; b < 2; b++) {
        if (!backends[b]->supports(alg->id)) {
            continue;
        }
        memset(&k, 0, sizeof(k));
        CHECK_INT(tc_aead_key_init(&k, alg, backends[b], key), TC_OK);
        CHECK_INT(tc_frame_seal(&k, key + alg->key_len, offset, control, flags,
                                (uint16_t)(urg[0] << 8 | urg[1]), data, dlen, out, TC_FRAME_MAX,
                                &olen),
                  TC_OK);
        want(r, "frame", out, olen);
        /* And opens it back, in place. */
        CHECK_INT(tc_frame_open(&k, key + alg->key_len, offset, out, olen, out + 3, &pl), TC_OK);
        CHECK_INT(pl.len, dlen);
        CHECK(dlen == 0 || memcmp(pl.data, data, dlen) == 0);
        CHECK_INT(pl.fin, (flags & TC_FLAG_FINP) != 0);
        CHECK_INT(pl.urg, (flags & TC_FLAG_URGP) != 0);
        CHECK_INT(pl.rekeyed, control & 1);
        tc_aead_key_wipe(&k);
    }
    free(out);
    free(data);
    free(u);
    n_frame++;
}

/*
 * Channels built from a fresh case's mk[0] reproduce the rekey frames: A
 * seals generation 0 and 1 (rekey = 1), B's decoder opens them and answers,
 * and A's second rekey yields generation 2.
 */
static void check_stream(const struct tc_vec_file *f)
{
    const struct tc_vec_record *fr = tc_vec_find(f, "fresh", "x25519-chacha20poly1305");
    const char *ab[3] = {"frame-rekey-x25519-chacha20poly1305-kab0",
                         "frame-rekey-x25519-chacha20poly1305-kab1",
                         "frame-rekey-x25519-chacha20poly1305-kab2"};
    const char *ba[3] = {"frame-rekey-x25519-chacha20poly1305-kba0",
                         "frame-rekey-x25519-chacha20poly1305-kba1",
                         "frame-rekey-x25519-chacha20poly1305-kba2"};
    static struct tc_channel a, b;
    uint8_t mk0[TC_K_LEN], out[2048];
    size_t i1len, i2len, olen = 0, used;
    uint8_t *i1, *i2;
    struct tc_plain pl;
    const struct tc_aead_alg *alg = tc_aead_find(TC_AEAD_CHACHA20_POLY1305);

    CHECK(fr != NULL);
    if (fr == NULL) {
        return;
    }
    tc_vec_fixed(fr, "mk0", mk0, TC_K_LEN);
    i1 = tc_vec_hex(fr, "init1", &i1len);
    i2 = tc_vec_hex(fr, "init2", &i2len);
    CHECK_INT(tc_channel_init(&a, alg, NULL, mk0, true, i1len, i2len), TC_OK);
    CHECK_INT(tc_channel_init(&b, alg, NULL, mk0, false, i2len, i1len), TC_OK);

    for (int g = 0; g < 3; g++) {
        const struct tc_vec_record *ra = tc_vec_find(f, "frame", ab[g]);
        const struct tc_vec_record *rb = tc_vec_find(f, "frame", ba[g]);
        uint8_t *da, *db;
        size_t la, lb;

        CHECK(ra != NULL && rb != NULL);
        if (ra == NULL || rb == NULL) {
            break;
        }
        da = tc_vec_hex(ra, "data", &la);
        db = tc_vec_hex(rb, "data", &lb);
        if (g > 0) {
            CHECK_INT(tc_channel_rekey(&a), TC_OK);
            /* A second rekey before the peer answered is refused. */
            CHECK_INT(tc_channel_rekey(&a), TC_E_REKEY_PENDING);
        }
        CHECK_INT(tc_channel_seal(&a, 0, 0, da, la, out, sizeof(out), &olen), TC_OK);
        want(ra, "frame", out, olen);

        /* B opens A's frame, fed one byte at a time. */
        for (size_t pos = 0; pos < olen; pos += used) {
            int err = tc_channel_open(&b, out + pos, 1, &used, &pl);

            CHECK_INT(used, 1);
            if (pos + 1 < olen) {
                CHECK_INT(err, TC_WANT_MORE);
            } else {
                CHECK_INT(err, TC_OK);
            }
        }
        CHECK_INT(pl.len, la);
        CHECK(la == 0 || memcmp(pl.data, da, la) == 0);
        CHECK_INT(pl.rekeyed, g > 0);
        /* §3.8: a rekey that raised B's remote generation obliges B to send
         * a frame with rekey = 1 at once. */
        CHECK_INT(b.rekey_reply_due, g > 0);
        CHECK_INT(tc_channel_seal(&b, 0, 0, db, lb, out, sizeof(out), &olen), TC_OK);
        want(rb, "frame", out, olen);
        CHECK_INT(tc_channel_open(&a, out, olen, &used, &pl), TC_OK);
        CHECK_INT(used, olen);
        CHECK_INT(pl.rekeyed, g > 0);
        CHECK_INT(a.rekey_reply_due, false); /* the echo of A's own rekey */
        free(da);
        free(db);
    }
    CHECK_INT(a.tx.gen, 2);
    CHECK_INT(b.rx.gen, 2);
    tc_channel_wipe(&a);
    tc_channel_wipe(&b);
    free(i1);
    free(i2);
    n_stream++;
}

int main(void)
{
    struct tc_vec_file f;

    tc_vec_load(&f, "tests/vectors/tcpcrypt-kat.txt");
    for (size_t i = 0; i < f.nrecords; i++) {
        const struct tc_vec_record *r = &f.records[i];
        const char *kind = tc_vec_str(r, "kind");

        if (kind == NULL) {
            tc_check_fail(__FILE__, __LINE__, "record %zu has no kind", i);
        } else if (strcmp(kind, "fresh") == 0) {
            check_fresh(r);
        } else if (strcmp(kind, "resume") == 0) {
            check_resume(r);
        } else if (strcmp(kind, "frame") == 0) {
            check_frame(r);
        } else {
            tc_check_fail(__FILE__, __LINE__, "unknown kind %s", kind);
        }
    }
    check_stream(&f);
    printf("vectors: %u fresh, %u resume, %u frame, %u stream records reproduced\n", n_fresh,
           n_resume, n_frame, n_stream);
    /* Every kind must have been exercised. */
    CHECK(n_fresh >= 12 && n_resume >= 6 && n_frame >= 20 && n_stream == 1);
    tc_vec_free(&f);
    return tc_check_exit("test_vectors");
}
