/*
 * The tcpcrypt key exchange and data phase of one connection (RFC 8548 §3.3
 * to §3.8), as a small state machine over crypto/.
 *
 *   A: EXPECT_INIT2 --Init2--> OPEN        (Init1 queued at start)
 *   B: EXPECT_INIT1 --Init1--> OPEN        (Init2 queued on the way)
 *   resumed (§3.5), either role: OPEN at start
 *   any error: FAILED (abort: RST, an error distinct from EOF)
 */
#include "stack/session.h"

#include <sodium.h>
#include <string.h>

#include "crypto/keys.h"

static int fail(struct tc_sess *s, int err)
{
    if (s->state != TC_SESS_FAILED) {
        s->state = TC_SESS_FAILED;
        s->err = err;
        /* Nothing secret survives a failed session. */
        sodium_memzero(s->priv, sizeof(s->priv));
        sodium_memzero(s->es, sizeof(s->es));
        sodium_memzero(s->ss, sizeof(s->ss));
        sodium_memzero(s->ss_next, sizeof(s->ss_next));
        tc_channel_wipe(&s->ch);
    }
    return s->err;
}

static int eph_slot(const struct tc_kex *kx)
{
    return kx->tep - TC_TEP_P256; /* 0x21..0x24 -> 0..3 */
}

/* B's key pair: reused from the cache while young enough, else fresh. */
static int keypair(struct tc_sess *s)
{
    struct tc_eph_cache *c = s->is_b ? s->cfg.eph : NULL;
    int err;

    if (c == NULL || c->lifetime_ms == 0) {
        return tc_kex_keygen(s->kx, s->cfg.rng, s->priv, s->pub);
    }
    tc_eph_cache_expire(c, s->cfg.now_ms);
    if (!c->slot[eph_slot(s->kx)].valid) {
        err = tc_kex_keygen(s->kx, s->cfg.rng, c->slot[eph_slot(s->kx)].priv,
                            c->slot[eph_slot(s->kx)].pub);
        if (err != TC_OK) {
            return err;
        }
        c->slot[eph_slot(s->kx)].valid = true;
        c->slot[eph_slot(s->kx)].created_ms = s->cfg.now_ms;
    }
    memcpy(s->priv, c->slot[eph_slot(s->kx)].priv, sizeof(s->priv));
    memcpy(s->pub, c->slot[eph_slot(s->kx)].pub, sizeof(s->pub));
    return TC_OK;
}

void tc_eph_cache_expire(struct tc_eph_cache *c, uint64_t now_ms)
{
    for (size_t k = 0; k < sizeof(c->slot) / sizeof(c->slot[0]); k++) {
        if (c->slot[k].valid && now_ms - c->slot[k].created_ms >= c->lifetime_ms) {
            sodium_memzero(&c->slot[k], sizeof(c->slot[k]));
        }
    }
}

void tc_eph_cache_wipe(struct tc_eph_cache *c)
{
    sodium_memzero(c->slot, sizeof(c->slot));
}

/* Every field of a session cleared or set from the arguments, the channel's
 * receive buffer aside (written before it is read, see struct tc_channel). */
static void sess_reset(struct tc_sess *s, bool is_b, uint8_t tep_byte,
                       const struct tc_sess_config *cfg)
{
    memset(s, 0, offsetof(struct tc_sess, ch));
    memset(&s->ch, 0, offsetof(struct tc_channel, rx_buf));
    s->is_b = is_b;
    s->tep_byte = tep_byte;
    s->cfg = *cfg;
}

int tc_sess_start(struct tc_sess *s, bool is_b, uint8_t tep_byte, const uint8_t *transcript,
                  size_t transcript_len, const struct tc_sess_config *cfg)
{
    int err;

    sess_reset(s, is_b, tep_byte, cfg);
    s->state = is_b ? TC_SESS_EXPECT_INIT1 : TC_SESS_EXPECT_INIT2;
    s->kx = tc_kex_find(tep_byte);
    /* A resumed session (v = 1) has no Init messages; it is not negotiated
     * by this host yet, so a v = 1 TEP byte cannot start a session here. */
    if (s->kx == NULL || (tep_byte & TC_TEP_V_BIT) != 0) {
        return fail(s, TC_E_UNSUPPORTED);
    }
    if (transcript_len > sizeof(s->transcript) || cfg->naeads == 0 ||
        cfg->naeads > TC_SESS_AEADS_MAX) {
        return fail(s, TC_E_INVALID);
    }
    memcpy(s->transcript, transcript, transcript_len);
    s->transcript_len = transcript_len;
    if (is_b) {
        return TC_OK;
    }

    /* A: "Init1 = { INIT1_MAGIC, sym_cipher_list, N_A, Pub_A }", the first
     * bytes of A's stream (§3.3).  Offer only what is implemented. */
    for (size_t k = 0; k < cfg->naeads; k++) {
        if (tc_aead_find(cfg->aeads[k]) != NULL) {
            s->offered[s->noffered++] = cfg->aeads[k];
        }
    }
    if (s->noffered == 0) {
        return fail(s, TC_E_NO_COMMON_CIPHER);
    }
    err = keypair(s);
    if (err == TC_OK) {
        err = tc_random(s->cfg.rng, s->nonce, TC_NONCE_LEN);
    }
    if (err == TC_OK) {
        err = tc_init1_encode(s->init_out, sizeof(s->init_out), &s->init_out_len, s->kx,
                              s->offered, s->noffered, s->nonce, s->pub);
    }
    if (err != TC_OK) {
        return fail(s, err);
    }
    memcpy(s->n_a, s->nonce, TC_NONCE_LEN);
    return TC_OK;
}

int tc_sess_start_resumed(struct tc_sess *s, bool is_b, uint8_t tep_byte,
                          struct tc_resume_ticket *t, const struct tc_sess_config *cfg)
{
    uint8_t sn[TC_SN_MAX], mk0[TC_K_LEN];
    size_t sn_len;
    int err;

    sess_reset(s, is_b, tep_byte, cfg);
    s->cfg.resume = NULL; /* the cache advanced to ss[i+1] when t was taken */
    s->resumed = true;
    s->resume_i = t->i;
    s->kx = tc_kex_find(tep_byte);
    s->aead = tc_aead_find(t->aead);
    s->state = TC_SESS_EXPECT_INIT1; /* not open until the keys are set */
    /* "the first byte will always have v = 1", and the TEP is the one of
     * the previous session (§3.5). */
    if (s->kx == NULL || s->aead == NULL || (tep_byte & TC_TEP_V_BIT) == 0 ||
        (uint8_t)(tep_byte & ~TC_TEP_V_BIT) != t->tep) {
        err = TC_E_UNSUPPORTED;
        goto out;
    }
    /* "sn[i] = nonce_a | nonce_b" by the roles of the original session. */
    sn_len = tc_resume_sn(t, sn);
    err = tc_keys_mk0(mk0, t->ss, sn, sn_len);
    if (err == TC_OK) {
        err = tc_keys_session_id(s->sid, tep_byte, t->ss, sn, sn_len);
    }
    /* "if a host played role "A" in the first session, it will use keys
     * k_ab[j] to encrypt in each derived session" (§3.3); both streams
     * start with frames at offset 0. */
    if (err == TC_OK) {
        err = tc_channel_init(&s->ch, s->aead, NULL, mk0, t->orig_a, 0, 0);
    }
    if (err == TC_OK && s->cfg.keylog) {
        memcpy(s->ss, t->ss, TC_K_LEN);
    }
out:
    sodium_memzero(sn, sizeof(sn));
    sodium_memzero(mk0, sizeof(mk0));
    tc_resume_ticket_wipe(t);
    if (err != TC_OK) {
        return fail(s, err);
    }
    s->state = TC_SESS_OPEN;
    return TC_OK;
}

size_t tc_sess_pending(const struct tc_sess *s, const uint8_t **p)
{
    if (s->state == TC_SESS_FAILED) {
        return 0;
    }
    *p = s->init_out + s->init_out_sent;
    return s->init_out_len - s->init_out_sent;
}

void tc_sess_sent(struct tc_sess *s, size_t n)
{
    size_t left = s->init_out_len - s->init_out_sent;

    s->init_out_sent += n < left ? n : left;
}

bool tc_sess_init_done(const struct tc_sess *s)
{
    if (s->resumed) {
        return s->state == TC_SESS_OPEN;
    }
    return s->init_out_len > 0 && s->init_out_sent == s->init_out_len;
}

/*
 * The common end of both Init handlers: ES, the key schedule, the channel.
 * init1/init2 are the transmitted encodings, tails included.
 */
static int derive(struct tc_sess *s, const uint8_t *peer_pub, const uint8_t *init1,
                  size_t init1_len, const uint8_t *init2, size_t init2_len)
{
    uint8_t es[TC_ES_MAX], ss0[TC_K_LEN], mk0[TC_K_LEN];
    int err;

    /* "If a host receives an ephemeral public key from its peer and a
     * key-validation step fails (see Section 5), it MUST abort" (§3.3). */
    err = tc_kex_shared(s->kx, es, s->priv, peer_pub);
    if (err != TC_OK) {
        goto out;
    }
    err = tc_keys_prk(ss0, s->n_a, s->transcript, s->transcript_len, init1, init1_len, init2,
                      init2_len, es, s->kx->es_len);
    if (err == TC_OK) {
        err = tc_keys_next_ss(s->ss_next, ss0);
    }
    if (err == TC_OK) {
        err = tc_keys_mk0(mk0, ss0, NULL, 0);
    }
    if (err == TC_OK) {
        err = tc_keys_session_id(s->sid, s->tep_byte, ss0, NULL, 0);
    }
    /* A encrypts with k_ab, B with k_ba; each direction's first frame
     * follows the Init message that opened it. */
    if (err == TC_OK) {
        err = tc_channel_init(&s->ch, s->aead, NULL, mk0, !s->is_b,
                              s->is_b ? init2_len : init1_len, s->is_b ? init1_len : init2_len);
    }
    if (err == TC_OK && s->cfg.keylog) {
        memcpy(s->es, es, s->kx->es_len);
        s->es_len = s->kx->es_len;
        memcpy(s->ss, ss0, TC_K_LEN);
    }
    /* "implementations SHOULD compute and cache ss[i+1] for possible use by
     * a later session" (§3.5): ss[1], with what a resumed session needs
     * and has no Init exchange to agree on: the TEP, the AEAD, and this
     * host's role, whose keys it keeps in every derived session.  A full
     * cache or none is no reason to fail the connection. */
    if (err == TC_OK && s->cfg.resume != NULL &&
        tc_resume_store(s->cfg.resume, s->cfg.peer, s->cfg.peer_len, s->tep_byte, s->aead->id,
                        !s->is_b, 1, s->ss_next, s->cfg.now_ms, NULL) != TC_OK) {
        s->cfg.resume = NULL;
    }
out:
    sodium_memzero(es, sizeof(es));
    sodium_memzero(ss0, sizeof(ss0));
    sodium_memzero(mk0, sizeof(mk0));
    sodium_memzero(s->priv, sizeof(s->priv));
    if (err != TC_OK) {
        return fail(s, err);
    }
    s->state = TC_SESS_OPEN;
    return TC_OK;
}

/* B has Init1: choose the AEAD, queue Init2, derive the keys. */
static int on_init1(struct tc_sess *s)
{
    struct tc_init1 m;
    uint16_t chosen;
    int err;

    err = tc_init1_decode(s->init_in, s->init_in_len, s->kx, &m);
    if (err == TC_OK) {
        err = tc_aead_choose(&chosen, m.ciphers, m.nciphers, s->cfg.aeads, s->cfg.naeads);
    }
    if (err == TC_OK) {
        s->aead = tc_aead_find(chosen);
        memcpy(s->n_a, m.n_a, TC_NONCE_LEN);
        err = keypair(s);
    }
    if (err == TC_OK) {
        err = tc_random(s->cfg.rng, s->nonce, TC_NONCE_LEN);
    }
    if (err == TC_OK) {
        err = tc_init2_encode(s->init_out, sizeof(s->init_out), &s->init_out_len, s->kx, chosen,
                              s->nonce, s->pub);
    }
    if (err != TC_OK) {
        return fail(s, err);
    }
    return derive(s, m.pub, s->init_in, m.len, s->init_out, s->init_out_len);
}

/* A has Init2: check the cipher, derive the keys. */
static int on_init2(struct tc_sess *s)
{
    struct tc_init2 m;
    int err;

    err = tc_init2_decode(s->init_in, s->init_in_len, s->kx, s->offered, s->noffered, &m);
    if (err != TC_OK) {
        return fail(s, err);
    }
    s->aead = tc_aead_find(m.cipher);
    return derive(s, m.pub, s->init_out, s->init_out_len, s->init_in, m.len);
}

/*
 * Take bytes of the peer's Init message without running past its end: the
 * header first, then exactly message_len bytes.  Returns TC_OK when the
 * message is whole, TC_WANT_MORE, or the decoder's error.
 */
static int take_init(struct tc_sess *s, const uint8_t *in, size_t len, size_t *used)
{
    uint32_t magic = s->is_b ? TC_INIT1_MAGIC : TC_INIT2_MAGIC;
    size_t want, take;
    uint8_t m[4];

    *used = 0;
    for (;;) {
        if (s->init_in_len < TC_INIT_HDR_LEN) {
            want = TC_INIT_HDR_LEN;
        } else {
            const uint8_t *p = s->init_in + 4;

            want = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        }
        /* The magic is checked as soon as its bytes are in. */
        m[0] = (uint8_t)(magic >> 24);
        m[1] = (uint8_t)(magic >> 16);
        m[2] = (uint8_t)(magic >> 8);
        m[3] = (uint8_t)magic;
        if (memcmp(s->init_in, m, s->init_in_len < 4 ? s->init_in_len : 4) != 0) {
            return TC_E_BAD_MAGIC;
        }
        if (s->init_in_len >= TC_INIT_HDR_LEN) {
            /* Let the decoder judge the length before buffering it. */
            int err = s->is_b ? tc_init1_decode(s->init_in, s->init_in_len, s->kx,
                                                &(struct tc_init1){0})
                              : tc_init2_decode(s->init_in, s->init_in_len, s->kx, s->offered,
                                                s->noffered, &(struct tc_init2){0});

            if (err != TC_WANT_MORE) {
                return err;
            }
        }
        if (*used == len) {
            return TC_WANT_MORE;
        }
        take = want - s->init_in_len;
        take = take < len - *used ? take : len - *used;
        memcpy(s->init_in + s->init_in_len, in + *used, take);
        s->init_in_len += take;
        *used += take;
    }
}

int tc_sess_input(struct tc_sess *s, const uint8_t *in, size_t len, size_t *used,
                  struct tc_plain *out)
{
    size_t n = 0, m = 0;
    int err;

    *used = 0;
    if (s->state == TC_SESS_FAILED) {
        return s->err;
    }
    if (s->state != TC_SESS_OPEN) {
        err = take_init(s, in, len, &n);
        *used = n;
        if (err == TC_WANT_MORE) {
            return TC_WANT_MORE;
        }
        if (err != TC_OK) {
            return fail(s, err);
        }
        err = s->is_b ? on_init1(s) : on_init2(s);
        if (err != TC_OK) {
            return err;
        }
    }
    if (n == len) {
        return TC_WANT_MORE;
    }
    err = tc_channel_open(&s->ch, in + n, len - n, &m, out);
    *used = n + m;
    if (err != TC_OK && err != TC_WANT_MORE) {
        return fail(s, err);
    }
    return err;
}

bool tc_sess_can_seal(const struct tc_sess *s)
{
    /* "After host B sends Init2 or host A receives it, that host MAY
     * immediately begin transmitting protected application data" (§3.3);
     * frames follow the Init message in the stream. */
    return s->state == TC_SESS_OPEN && s->init_out_sent == s->init_out_len;
}

int tc_sess_seal(struct tc_sess *s, uint8_t flags, const uint8_t *data, size_t len, uint8_t *out,
                 size_t cap, size_t *outlen)
{
    int err;

    if (s->state == TC_SESS_FAILED) {
        return s->err;
    }
    if (!tc_sess_can_seal(s)) {
        return TC_E_STATE;
    }
    if ((flags & TC_FLAG_URGP) != 0) {
        return TC_E_UNSUPPORTED; /* urgent data is refused (RFC 8547 §5) */
    }
    err = tc_channel_seal(&s->ch, flags, 0, data, len, out, cap, outlen);
    if (tc_err_aborts(err) || err == TC_E_EXHAUSTED || err == TC_E_BACKEND) {
        return fail(s, err);
    }
    return err;
}

int tc_sess_peer_fin(struct tc_sess *s)
{
    if (s->state == TC_SESS_FAILED) {
        return s->err;
    }
    if (s->state != TC_SESS_OPEN) {
        return fail(s, TC_E_FIN_WITHOUT_FINP);
    }
    return tc_channel_peer_fin(&s->ch) == TC_OK ? TC_OK : fail(s, s->ch.failed);
}

bool tc_sess_session_id(const struct tc_sess *s, uint8_t sid[TC_SESSID_LEN])
{
    if (s->state != TC_SESS_OPEN) {
        return false;
    }
    memcpy(sid, s->sid, TC_SESSID_LEN);
    return true;
}

void tc_sess_wipe(struct tc_sess *s)
{
    tc_channel_wipe(&s->ch);
    sodium_memzero(s, offsetof(struct tc_sess, ch));
}
