/*
 * tcpcrypt-demo: two tcpcrypt endpoints in one process, talking through a
 * byte buffer instead of TCP.  It walks through what RFC 8548 does after
 * TCP-ENO has chosen a TEP: Init1/Init2, the key schedule, session IDs, AEAD
 * frames, tamper detection, rekeying and session resumption, and prints what
 * would be on the wire.
 *
 *   tcpcrypt-demo [--tep x25519|x448|p256|p521] [--aead aes128gcm|aes256gcm|chacha20poly1305]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/frame.h"
#include "crypto/init.h"
#include "crypto/kex.h"
#include "crypto/keys.h"
#include "crypto/resume.h"

static struct tc_channel chan_a, chan_b;

static void hex(const char *label, const uint8_t *p, size_t n)
{
    printf("  %-22s ", label);
    for (size_t i = 0; i < n && i < 40; i++) {
        printf("%02x", p[i]);
    }
    printf("%s (%zu bytes)\n", n > 40 ? "..." : "", n);
}

static void must(int err, const char *what)
{
    if (err != TC_OK) {
        fprintf(stderr, "tcpcrypt-demo: %s: %s\n", what, tc_strerror(err));
        exit(1);
    }
}

static int parse_args(int argc, char **argv, uint8_t *tep, uint16_t *aead)
{
    static const struct {
        const char *name;
        int value;
    } teps[] = {{"x25519", TC_TEP_X25519},
                {"x448", TC_TEP_X448},
                {"p256", TC_TEP_P256},
                {"p521", TC_TEP_P521}},
      aeads[] = {{"aes128gcm", TC_AEAD_AES_128_GCM},
                 {"aes256gcm", TC_AEAD_AES_256_GCM},
                 {"chacha20poly1305", TC_AEAD_CHACHA20_POLY1305}};

    for (int i = 1; i < argc; i++) {
        bool is_tep = strcmp(argv[i], "--tep") == 0, found = false;

        if ((!is_tep && strcmp(argv[i], "--aead") != 0) || i + 1 == argc) {
            fprintf(stderr, "usage: tcpcrypt-demo [--tep x25519|x448|p256|p521] "
                            "[--aead aes128gcm|aes256gcm|chacha20poly1305]\n");
            return -1;
        }
        i++;
        for (size_t k = 0; k < (is_tep ? 4u : 3u); k++) {
            if (strcmp(argv[i], is_tep ? teps[k].name : aeads[k].name) == 0) {
                if (is_tep) {
                    *tep = (uint8_t)teps[k].value;
                } else {
                    *aead = (uint16_t)aeads[k].value;
                }
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "tcpcrypt-demo: unknown %s '%s'\n", is_tep ? "TEP" : "AEAD", argv[i]);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint8_t tep = TC_TEP_X25519;
    uint16_t aead = TC_AEAD_AES_128_GCM;
    const struct tc_kex *kx;
    const struct tc_aead_alg *alg;
    uint8_t priv_a[TC_PRIV_MAX], priv_b[TC_PRIV_MAX], pub_a[TC_PUB_MAX], pub_b[TC_PUB_MAX];
    uint8_t n_a[32], n_b[32], es_a[TC_ES_MAX], es_b[TC_ES_MAX], ss_a[32], ss_b[32];
    uint8_t mk_a[32], mk_b[32], sid_a[TC_SESSID_LEN], sid_b[TC_SESSID_LEN], next[32];
    uint8_t init1[TC_INIT_MAX_LEN], init2[TC_INIT_MAX_LEN], wire[512];
    uint8_t transcript[16];
    uint16_t offer[3], chosen;
    size_t noffer, i1len, i2len, wlen, used, tlen;
    struct tc_init1 got1;
    struct tc_init2 got2;
    struct tc_plain pl;
    const char msg[] = "hello B, this is A";
    int err;

    if (parse_args(argc, argv, &tep, &aead) != 0) {
        return 2;
    }
    kx = tc_kex_find(tep);
    alg = tc_aead_find(aead);
    if (kx == NULL || alg == NULL) {
        fprintf(stderr, "tcpcrypt-demo: not supported by this build\n");
        return 1;
    }
    {
        size_t n;
        const struct tc_aead_alg *const *all = tc_aead_all(&n);

        for (noffer = 0; noffer < n && noffer < 3; noffer++) {
            offer[noffer] = all[noffer]->id;
        }
    }

    /* What TCP-ENO would have recorded: A's SYN option offering the TEP, B's
     * SYN-ACK option with b = 1 and the chosen TEP (RFC 8547 §4.8). */
    tlen = 0;
    transcript[tlen++] = TC_ENO_KIND;
    transcript[tlen++] = 3;
    transcript[tlen++] = tep;
    transcript[tlen++] = TC_ENO_KIND;
    transcript[tlen++] = 4;
    transcript[tlen++] = 0x01;
    transcript[tlen++] = tep;

    printf("tcpcrypt %s with %s, after TCP-ENO negotiated TEP 0x%02x\n", kx->name, alg->name, tep);
    hex("ENO transcript", transcript, tlen);

    /* Host A (the client) opens its stream with Init1. */
    must(tc_kex_keygen(kx, &tc_rng_system, priv_a, pub_a), "key generation");
    must(tc_random(&tc_rng_system, n_a, 32), "random");
    must(tc_init1_encode(init1, sizeof(init1), &i1len, kx, offer, noffer, n_a, pub_a), "Init1");
    printf("A -> B: Init1 offers %zu AEADs\n", noffer);
    hex("Init1", init1, i1len);

    /* Host B decodes it, picks the AEAD, answers with Init2. */
    must(tc_init1_decode(init1, i1len, kx, &got1), "decode Init1");
    must(tc_aead_choose(&chosen, got1.ciphers, got1.nciphers, &aead, 1), "choose AEAD");
    must(tc_kex_keygen(kx, &tc_rng_system, priv_b, pub_b), "key generation");
    must(tc_random(&tc_rng_system, n_b, 32), "random");
    must(tc_init2_encode(init2, sizeof(init2), &i2len, kx, chosen, n_b, pub_b), "Init2");
    printf("B -> A: Init2 selects AEAD 0x%04x\n", chosen);
    hex("Init2", init2, i2len);
    must(tc_init2_decode(init2, i2len, kx, offer, noffer, &got2), "decode Init2");

    /* Both compute ES and the same key schedule independently. */
    must(tc_kex_shared(kx, es_a, priv_a, got2.pub), "A's shared secret");
    must(tc_kex_shared(kx, es_b, priv_b, got1.pub), "B's shared secret");
    must(tc_keys_prk(ss_a, n_a, transcript, tlen, init1, i1len, init2, i2len, es_a, kx->es_len),
         "PRK");
    must(
        tc_keys_prk(ss_b, got1.n_a, transcript, tlen, init1, i1len, init2, i2len, es_b, kx->es_len),
        "PRK");
    must(tc_keys_session_id(sid_a, tep, ss_a, NULL, 0), "session ID");
    must(tc_keys_session_id(sid_b, tep, ss_b, NULL, 0), "session ID");
    hex("session ID at A", sid_a, sizeof(sid_a));
    hex("session ID at B", sid_b, sizeof(sid_b));
    if (memcmp(sid_a, sid_b, sizeof(sid_a)) != 0) {
        fprintf(stderr, "tcpcrypt-demo: session IDs differ\n");
        return 1;
    }
    must(tc_keys_mk0(mk_a, ss_a, NULL, 0), "mk[0]");
    must(tc_keys_mk0(mk_b, ss_b, NULL, 0), "mk[0]");
    must(tc_channel_init(&chan_a, alg, NULL, mk_a, true, i1len, i2len), "channel");
    must(tc_channel_init(&chan_b, alg, NULL, mk_b, false, i2len, i1len), "channel");

    /* Application data, framed and encrypted. */
    must(tc_channel_seal(&chan_a, 0, 0, (const uint8_t *)msg, strlen(msg), wire, sizeof(wire),
                         &wlen),
         "seal");
    printf("A -> B: %zu application bytes in one frame at stream offset %zu\n", strlen(msg), i1len);
    hex("on the wire", wire, wlen);
    must(tc_channel_open(&chan_b, wire, wlen, &used, &pl), "open");
    printf("  B reads: \"%.*s\"\n", (int)pl.len, (const char *)pl.data);

    /* One flipped bit, and the frame is refused: an abort, never data. */
    must(tc_channel_seal(&chan_a, 0, 0, (const uint8_t *)"x", 1, wire, sizeof(wire), &wlen),
         "seal");
    wire[wlen / 2] ^= 0x10;
    err = tc_channel_open(&chan_b, wire, wlen, &used, &pl);
    printf("A -> B: a frame with one bit flipped in transit: %s (abort with RST)\n",
           tc_strerror(err));
    if (err != TC_E_AUTH) {
        return 1;
    }

    /* Resumption: both cache ss[1]; A reconnects without any key exchange. */
    {
        static const uint8_t peer_a[] = {'A'}, peer_b[] = {'B'};
        struct tc_resume_cache cache_a, cache_b;
        struct tc_resume_ticket ta, tb;
        uint8_t sub[TC_RESUME_SUBOPT_MAX], sn[16], rsid_a[TC_SESSID_LEN], rsid_b[TC_SESSID_LEN];
        size_t n, snlen;

        must(tc_resume_cache_init(&cache_a, 16, 60000), "cache");
        must(tc_resume_cache_init(&cache_b, 16, 60000), "cache");
        must(tc_keys_next_ss(next, ss_a), "ss[1]");
        must(tc_resume_store(&cache_a, peer_b, 1, tep, chosen, true, 1, next, 0, NULL), "store");
        must(tc_keys_next_ss(next, ss_b), "ss[1]");
        must(tc_resume_store(&cache_b, peer_a, 1, tep, chosen, false, 1, next, 0, NULL), "store");
        must(tc_resume_offer(&cache_a, peer_b, 1, tep, TC_RESUME_NONCE_DEFAULT, &tc_rng_system, 1,
                             &ta),
             "resume offer");
        n = tc_resume_subopt(&ta, sub);
        printf("A reconnects: its SYN carries the resumption suboption\n");
        hex("ENO suboption", sub, n);
        must(tc_resume_accept(&cache_b, sub[0], sub + 1, n - 1, TC_RESUME_NONCE_DEFAULT,
                              &tc_rng_system, 1, &tb),
             "resume accept");
        n = tc_resume_subopt(&tb, sub);
        must(tc_resume_check_reply(&ta, sub + 1, n - 1), "resume reply");
        snlen = tc_resume_sn(&ta, sn);
        must(tc_keys_session_id(rsid_a, (uint8_t)(tep | TC_TEP_V_BIT), ta.ss, sn, snlen), "sid");
        snlen = tc_resume_sn(&tb, sn);
        must(tc_keys_session_id(rsid_b, (uint8_t)(tep | TC_TEP_V_BIT), tb.ss, sn, snlen), "sid");
        hex("resumed session ID", rsid_a, sizeof(rsid_a));
        printf("  both ends agree: %s; a replay of that SYN is %s\n",
               memcmp(rsid_a, rsid_b, sizeof(rsid_a)) == 0 ? "yes" : "NO",
               tc_resume_accept(&cache_b, sub[0] | TC_TEP_V_BIT, ta.my_half, TC_RESUME_HALF_LEN, 8,
                                &tc_rng_system, 2, &tb) == TC_E_NOT_FOUND
                   ? "refused (single use)"
                   : "ACCEPTED");
        tc_resume_ticket_wipe(&ta);
        tc_resume_ticket_wipe(&tb);
        tc_resume_cache_destroy(&cache_a);
        tc_resume_cache_destroy(&cache_b);
    }
    tc_channel_wipe(&chan_a);
    tc_channel_wipe(&chan_b);
    printf("ok\n");
    return 0;
}
