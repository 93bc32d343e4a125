/*
 * TCP-ENO (RFC 8547) and tcpcrypt (RFC 8548) end to end inside lwIP, through
 * the public APIs only: tc_eno_lwip_init/attach/outcome on a client pcb (A's
 * netif) and a listening pcb (B's netif) of the two-netif wire in
 * tests/lwip_wire.h, and a small relay here that drives tc_sess_* over the
 * raw TCP API the way tcpcryptd will: the Init message first (its last byte
 * written without TCP_WRITE_FLAG_MORE, so PSH), then sealed frames, FINp
 * before TCP FIN, tcp_recved after consuming, tcp_abort on a session error.
 *
 * Every frame is captured as lwIP sent it and checked against the RFCs:
 * option 69 on exactly the segments RFC 8547 §4.6 requires, the transcript
 * equal to the bytes on the wire, PSH on the last Init byte (RFC 8548 §3.3),
 * retransmissions byte-identical (§3.6), no plaintext on the wire once
 * encrypted. A mutator rewrites frames in flight (checksums fixed) for the
 * fallback and tampering cases.
 */
#include "tests/check.h"

#include <limits.h>
#include <stdbool.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "crypto/resume.h"
#include "stack/eno_lwip.h"
#include "stack/session.h"
#include "tests/lwip_wire.h"

#define NAME "test_eno_lwip"
#define MARKER "PLAINTEXT-MARKER-42"
#define FRAMES_MAX 4096
#define TS_OPTLEN 12 /* lwIP's own options on a non-SYN segment: NOP NOP timestamps */

static const u8_t eno_ack[2] = {0x45, 0x02};
static const u8_t eno_syn_a[4] = {0x45, 0x04, 0x24, 0x23};
static const u8_t eno_syn_b[4] = {0x45, 0x04, 0x01, 0x23};
/* The SYN-ACK's option made malformed: a length byte (0x9f: 32 data bytes)
 * followed by a TEP byte with v = 0, running past the end (RFC 8547 §4.4). */
static const u8_t eno_malformed[5] = {0x45, 0x05, 0x01, 0x9f, 0x20};

/* ------------------------------------------------------------ deterministic randomness */

/* splitmix64: the sessions' keys and nonces depend only on the scenario. */
static int det_fill(void *ctx, uint8_t *buf, size_t len)
{
    uint64_t *s = ctx;

    for (size_t i = 0; i < len; i++) {
        uint64_t z;

        if (i % 8 == 0) {
            *s += 0x9e3779b97f4a7c15ULL;
        }
        z = *s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        buf[i] = (uint8_t)(z >> (8 * (i % 8)));
    }
    return TC_OK;
}

/* ------------------------------------------------------------ one end of the relay */

struct sealed {
    size_t start;        /* stream offset of the frame (0 = the byte after the SYN) */
    size_t len;          /* frame bytes */
    size_t plain_before; /* application bytes in earlier frames */
};

struct ep {
    const char *name;
    struct tcp_pcb *pcb; /* NULL once closed, aborted or reset */
    bool up;             /* connected / accepted */
    struct tc_eno_outcome out;
    /* tcpcrypt */
    struct tc_sess sess;
    uint64_t rng_state;
    struct tc_rng rng;
    size_t init_len; /* our Init message (0 until known) */
    uint8_t init_msg[TC_INIT_MAX_LEN];
    uint8_t stage[TC_FRAME_MAX]; /* a sealed frame not yet all handed to lwIP */
    size_t stage_len, stage_off;
    struct sealed frames[FRAMES_MAX];
    size_t nframes;
    unsigned chunk;
    /* application data */
    u8_t *tx;
    size_t tx_len, tx_off;
    u8_t *rx;
    size_t rx_len, rx_cap;
    /* everything handed to tcp_write, in order */
    u8_t *wrote;
    size_t wrote_len, wrote_cap;
    /* the end */
    bool closing, finp_sealed, fin_sent, got_finp, peer_fin;
    int peer_fin_rc;
    int sess_err;
    bool aborted;
    bool got_err;
    err_t err;
    unsigned late; /* callbacks after we let go of the pcb */
};

static struct ep client, server;
static struct tcp_pcb *listener;

static bool ep_failed(const struct ep *e)
{
    return e->sess_err != 0 || e->aborted || e->got_err;
}

static void ep_free(struct ep *e)
{
    tc_sess_wipe(&e->sess);
    free(e->tx);
    free(e->rx);
    free(e->wrote);
    memset(e, 0, sizeof(*e));
}

static void ep_reset(struct ep *e, const char *name, size_t tx_len, size_t rx_cap, uint64_t seed)
{
    static const char *const dir[2] = {"c2s", "s2c"};
    char rec[64];
    size_t n;

    ep_free(e);
    e->name = name;
    e->tx_len = tx_len;
    e->rx_cap = rx_cap;
    e->tx = malloc(tx_len + 1);
    e->rx = malloc(rx_cap + 1);
    /* Room for the Init message and every frame's overhead. */
    e->wrote_cap = tx_len + tx_len / 4 + TC_INIT_MAX_LEN + 2 * TC_FRAME_MAX;
    e->wrote = malloc(e->wrote_cap);
    CHECK(e->tx != NULL && e->rx != NULL && e->wrote != NULL);
    if (e->tx == NULL || e->rx == NULL || e->wrote == NULL) {
        exit(2);
    }
    /* Numbered records, each with the marker the wire must never show in
     * an encrypted connection. */
    for (size_t off = 0, k = 0; off < tx_len; off += n, k++) {
        n = (size_t)snprintf(rec, sizeof(rec), "%s %s %06zu\n", MARKER, dir[seed & 1], k);
        n = n < tx_len - off ? n : tx_len - off;
        memcpy(e->tx + off, rec, n);
    }
    e->rng_state = seed * 0x1000193u;
    e->rng = (struct tc_rng){det_fill, &e->rng_state};
}

static void ep_append(struct ep *e, const u8_t *p, size_t n)
{
    CHECK(e->rx_len + n <= e->rx_cap);
    if (e->rx_len + n <= e->rx_cap) {
        memcpy(e->rx + e->rx_len, p, n);
        e->rx_len += n;
    }
}

/* Hand up to n bytes to lwIP (copied); returns how many it took. */
static size_t ep_write(struct ep *e, const u8_t *p, size_t n, bool more)
{
    size_t room = tcp_sndbuf(e->pcb);
    err_t err;

    if (n > room) {
        n = room;
        more = true;
    }
    if (n > 0xffff) {
        n = 0xffff;
        more = true;
    }
    if (n == 0 || tcp_sndqueuelen(e->pcb) + 8 >= TCP_SND_QUEUELEN) {
        return 0;
    }
    err = tcp_write(e->pcb, p, (u16_t)n,
                    (u8_t)(TCP_WRITE_FLAG_COPY | (more ? TCP_WRITE_FLAG_MORE : 0)));
    if (err == ERR_MEM) {
        return 0;
    }
    CHECK_INT(err, ERR_OK);
    if (err != ERR_OK) {
        return 0;
    }
    CHECK(e->wrote_len + n <= e->wrote_cap);
    if (e->wrote_len + n <= e->wrote_cap) {
        memcpy(e->wrote + e->wrote_len, p, n);
    }
    e->wrote_len += n;
    return n;
}

/* Our Init message: in two writes, the first with MORE; true once it is all
 * handed over. */
static bool push_init(struct ep *e)
{
    const uint8_t *p;
    size_t n = tc_sess_pending(&e->sess, &p);

    if (n > 0 && e->init_len == 0) {
        CHECK_INT(e->wrote_len, 0); /* the first bytes of the stream (§3.3) */
        e->init_len = n <= sizeof(e->init_msg) ? n : sizeof(e->init_msg);
        memcpy(e->init_msg, p, e->init_len);
    }
    while (n > 0) {
        size_t want = e->wrote_len == 0 && n > 10 ? 10 : n, k;

        k = ep_write(e, p, want, want < n);
        if (k == 0) {
            return false;
        }
        tc_sess_sent(&e->sess, k);
        n = tc_sess_pending(&e->sess, &p);
    }
    return tc_sess_init_done(&e->sess);
}

/* Odd frame sizes, so frames and segments never line up. */
static size_t next_chunk(struct ep *e)
{
    static const size_t sizes[] = {1200, 4000, 333, 16000, 1, 9000, 65518};

    return sizes[e->chunk++ % (sizeof(sizes) / sizeof(sizes[0]))];
}

/* Seal application data (then FINp when closing) and hand it over. */
static void push_frames(struct ep *e)
{
    for (;;) {
        if (e->stage_off == e->stage_len) {
            size_t n = 0, outlen = 0;
            uint8_t flags = 0;
            int rc;

            if (e->tx_off < e->tx_len) {
                n = next_chunk(e);
                n = n < e->tx_len - e->tx_off ? n : e->tx_len - e->tx_off;
            } else if (e->closing && !e->finp_sealed) {
                flags = TC_FLAG_FINP;
            } else {
                return;
            }
            rc = tc_sess_seal(&e->sess, flags, e->tx + e->tx_off, n, e->stage, sizeof(e->stage),
                              &outlen);
            CHECK_INT(rc, TC_OK);
            if (rc != TC_OK) {
                return;
            }
            if (e->nframes < FRAMES_MAX) {
                e->frames[e->nframes++] = (struct sealed){e->wrote_len, outlen, e->tx_off};
            }
            e->tx_off += n;
            e->finp_sealed = flags != 0;
            e->stage_len = outlen;
            e->stage_off = 0;
        }
        size_t k = ep_write(e, e->stage + e->stage_off, e->stage_len - e->stage_off, false);

        if (k == 0) {
            return;
        }
        e->stage_off += k;
    }
}

static void push_plain(struct ep *e)
{
    while (e->tx_off < e->tx_len) {
        size_t n = e->tx_len - e->tx_off, k;

        k = ep_write(e, e->tx + e->tx_off, n < 5000 ? n : 5000, false);
        if (k == 0) {
            return;
        }
        e->tx_off += k;
    }
}

/* Let go of the pcb: lwIP finishes the close and frees it. */
static void ep_release(struct ep *e)
{
    struct tcp_pcb *pcb = e->pcb;

    /* lwIP may still report the FIN's ACK (sent) on a closed pcb. */
    e->pcb = NULL;
    tcp_arg(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_recv(pcb, NULL);
    CHECK_INT(tcp_close(pcb), ERR_OK);
}

static void ep_push(struct ep *e)
{
    bool all_out;

    if (e->pcb == NULL || !e->up) {
        return;
    }
    if (e->out.encrypted) {
        if (!push_init(e) || !tc_sess_can_seal(&e->sess)) {
            CHECK_INT(tcp_output(e->pcb), ERR_OK);
            return;
        }
        push_frames(e);
        all_out = e->finp_sealed && e->stage_off == e->stage_len;
    } else {
        push_plain(e);
        all_out = e->tx_off == e->tx_len;
    }
    if (all_out && e->closing) {
        if (!e->fin_sent) {
            /* FINp went first (RFC 8548 §3.7); now TCP FIN. */
            e->fin_sent = true;
            if (!e->peer_fin) {
                CHECK_INT(tcp_shutdown(e->pcb, 0, 1), ERR_OK);
            }
        }
        if (e->peer_fin) {
            ep_release(e);
            return;
        }
    }
    CHECK_INT(tcp_output(e->pcb), ERR_OK);
}

static void ep_start(struct ep *e, struct tcp_pcb *pcb)
{
    struct tc_sess_config cfg = {
        .rng = &e->rng,
        .aeads = {TC_AEAD_AES_128_GCM, TC_AEAD_CHACHA20_POLY1305},
        .naeads = 2,
        .now_ms = wire_now_ms,
        .keylog = true, /* keep ss[0] / ss[i] for the checks */
    };
    struct tc_resume_ticket t;

    e->up = true;
    tc_eno_lwip_outcome(pcb, &e->out);
    /* As tcpcryptd does: a fresh session caches ss[1] where ENO says. */
    cfg.resume = e->out.resume;
    memcpy(cfg.peer, e->out.peer, e->out.peer_len);
    cfg.peer_len = e->out.peer_len;
    if (e->out.encrypted && e->out.resumed) {
        CHECK_INT(tc_eno_lwip_take_ticket(pcb, &t), TC_OK);
        CHECK_INT(tc_sess_start_resumed(&e->sess, e->out.is_b, e->out.tep_byte, &t, &cfg), TC_OK);
        /* The secret goes to one session only. */
        CHECK_INT(tc_eno_lwip_take_ticket(pcb, &t), TC_E_NOT_FOUND);
    } else if (e->out.encrypted) {
        CHECK_INT(tc_sess_start(&e->sess, e->out.is_b, e->out.tep_byte, e->out.transcript,
                                e->out.transcript_len, &cfg),
                  TC_OK);
    }
    ep_push(e);
}

/* Feed received stream bytes: the session's plaintext, or the raw bytes of a
 * plain connection. Returns the session's error (abort) or TC_OK. */
static int ep_consume(struct ep *e, const u8_t *in, size_t len)
{
    size_t off = 0;

    if (!e->out.encrypted) {
        ep_append(e, in, len);
        return TC_OK;
    }
    while (off < len) {
        struct tc_plain pl;
        size_t used = 0;
        int rc = tc_sess_input(&e->sess, in + off, len - off, &used, &pl);

        CHECK(used <= len - off);
        off += used;
        if (rc == TC_OK) {
            CHECK(used > 0);
            ep_append(e, pl.data, pl.len);
            e->got_finp = e->got_finp || pl.fin;
            if (used == 0) {
                break;
            }
            continue;
        }
        if (rc == TC_WANT_MORE) {
            CHECK_INT(off, len);
            break;
        }
        return rc;
    }
    return TC_OK;
}

/* A session error: RST and an error distinct from EOF (RFC 8548 §3.3). */
static err_t ep_abort(struct ep *e, struct tcp_pcb *pcb)
{
    CHECK(tc_err_aborts(e->sess_err));
    e->aborted = true;
    e->pcb = NULL;
    tcp_abort(pcb);
    return ERR_ABRT;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct ep *e = arg;
    size_t total = 0;

    CHECK_INT(err, ERR_OK);
    if (e->pcb == NULL) {
        e->late++;
        if (p != NULL) {
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (p == NULL) {
        e->peer_fin = true;
        if (e->out.encrypted) {
            e->peer_fin_rc = tc_sess_peer_fin(&e->sess);
            if (e->peer_fin_rc != TC_OK) {
                e->sess_err = e->peer_fin_rc;
                return ep_abort(e, pcb);
            }
        }
        e->closing = true;
        ep_push(e);
        return ERR_OK;
    }
    for (struct pbuf *q = p; q != NULL; q = q->next) {
        int rc = ep_consume(e, q->payload, q->len);

        if (rc != TC_OK) {
            e->sess_err = rc;
            pbuf_free(p);
            return ep_abort(e, pcb);
        }
        total += q->len;
    }
    pbuf_free(p);
    while (total > 0) {
        u16_t k = (u16_t)(total < 0xffff ? total : 0xffff);

        tcp_recved(pcb, k);
        total -= k;
    }
    ep_push(e);
    return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct ep *e = arg;

    (void)pcb;
    (void)len;
    if (e->pcb == NULL) {
        e->late++;
        return ERR_OK;
    }
    ep_push(e);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct ep *e = arg;

    if (!e->aborted) {
        fprintf(stderr, NAME ": %s: tcp error %d\n", e->name, (int)err);
    }
    e->got_err = true;
    e->err = err;
    e->pcb = NULL;
}

static void ep_callbacks(struct ep *e, struct tcp_pcb *pcb)
{
    tcp_arg(pcb, e);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct ep *e = arg;

    CHECK_INT(err, ERR_OK);
    CHECK(pcb == e->pcb);
    ep_start(e, pcb);
    return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    CHECK_INT(err, ERR_OK);
    CHECK(server.pcb == NULL && !server.up);
    if (pcb == NULL || err != ERR_OK) {
        return ERR_VAL;
    }
    server.pcb = pcb;
    ep_callbacks(&server, pcb);
    ep_start(&server, pcb);
    return ERR_OK;
}

/* ------------------------------------------------------------ frames in flight */

enum mutation {
    MUT_NONE,
    MUT_DROP_DATA_A,      /* drop A's n-th data frame, once */
    MUT_SYNACK_MALFORMED, /* B's SYN-ACK ENO -> 45 05 01 9f 20 */
    MUT_SYNACK_ECHO,      /* B's SYN-ACK ENO -> a copy of A's SYN option */
    MUT_SYN_TWO_ENO,      /* A's SYN: a NOP pair becomes a second option, 45 02 */
    MUT_STRIP_A_ENO,      /* every ENO option in A's non-SYN segments -> NOPs */
    MUT_FLIP_A_DATA,      /* one bit of A's frames, once, well into the transfer */
    MUT_REPLAY_SYN,       /* A's SYN ENO -> mut.replay (an old SYN's option) */
    MUT_SYNACK_HALF,      /* one bit of the identifier half in B's SYN-ACK */
    MUT_ZERO_WINDOW_B,    /* from B's n-th segment on, for 5 s, a zero window */
};

static struct {
    enum mutation kind;
    unsigned n, count;
    bool done;
    int cap;     /* capture index of the frame acted on */
    u32_t a_isn; /* from A's SYN */
    u32_t until; /* MUT_ZERO_WINDOW_B: the virtual time it ends */
    size_t flip_at;
    size_t flip_frame;
    struct wire_capture after; /* the last rewritten frame, as delivered */
} mut;
/* For MUT_REPLAY_SYN (run() clears mut). */
static u8_t replay_syn[TC_TCP_MAX_OPTION_BYTES];
static size_t replay_syn_len;

/* The length of the option at c->opts[i]: 0 at EOL, at the end or on a
 * bad length. */
static size_t opt_len_at(const struct wire_capture *c, size_t i)
{
    if (i >= c->optlen || c->opts[i] == 0) {
        return 0;
    }
    if (c->opts[i] == 1) {
        return 1;
    }
    if (i + 1 >= c->optlen || c->opts[i + 1] < 2 || i + c->opts[i + 1] > c->optlen) {
        return 0;
    }
    return c->opts[i + 1];
}

/* The options of c with every ENO option removed and opt (raw bytes, maybe
 * malformed) appended after NOP padding; 0 if it does not fit. */
static size_t opts_with_eno(const struct wire_capture *c, const u8_t *opt, size_t n, u8_t *out)
{
    size_t i = 0, len = 0, pad, olen;

    while ((olen = opt_len_at(c, i)) > 0) {
        if (c->opts[i] != WIRE_ENO_KIND) {
            memcpy(out + len, c->opts + i, olen);
            len += olen;
        }
        i += olen;
    }
    pad = (4 - (len + n) % 4) % 4;
    if (len + pad + n > TC_TCP_MAX_OPTION_BYTES) {
        return 0;
    }
    memset(out + len, 1, pad);
    memcpy(out + len + pad, opt, n);
    return len + pad + n;
}

static bool replace_eno(struct wire_frame *f, const struct wire_capture *c, const u8_t *opt,
                        size_t n)
{
    u8_t opts[TC_TCP_MAX_OPTION_BYTES];
    size_t len = opts_with_eno(c, opt, n, opts);

    CHECK(len > 0);
    return len > 0 && wire_tcp_set_options(f, opts, len);
}

/* Find the frame (of client's) holding stream offset q. */
static const struct sealed *frame_at(const struct ep *e, size_t q, size_t *idx)
{
    for (size_t k = 0; k < e->nframes; k++) {
        if (q >= e->frames[k].start && q < e->frames[k].start + e->frames[k].len) {
            *idx = k;
            return &e->frames[k];
        }
    }
    return NULL;
}

static enum wire_verdict mutate_frame(struct wire_frame *f, const struct wire_capture *c)
{
    struct wire_tcp t;

    if (!c->is_tcp || !wire_tcp_locate(f, &t)) {
        return WIRE_PASS;
    }
    if (c->from == WIRE_A && c->flags == TCP_SYN) {
        mut.a_isn = c->seq;
    }
    switch (mut.kind) {
    case MUT_NONE:
        break;
    case MUT_DROP_DATA_A:
        if (c->from == WIRE_A && c->payload_len > 0 && ++mut.count == mut.n && !mut.done) {
            mut.done = true;
            mut.cap = f->capture;
            return WIRE_DROP;
        }
        break;
    case MUT_SYNACK_MALFORMED:
        if (c->from == WIRE_B && (c->flags & TCP_SYN) && c->eno_len > 0) {
            mut.done = replace_eno(f, c, eno_malformed, sizeof(eno_malformed));
            mut.count++;
        }
        break;
    case MUT_SYNACK_ECHO:
        if (c->from == WIRE_B && (c->flags & TCP_SYN) && c->eno_len > 0) {
            mut.done = replace_eno(f, c, eno_syn_a, sizeof(eno_syn_a));
            mut.count++;
        }
        break;
    case MUT_SYN_TWO_ENO:
        if (c->from == WIRE_A && c->flags == TCP_SYN) {
            /* The first NOP pair (at an option boundary) becomes 45 02. */
            for (size_t i = 0, olen; (olen = opt_len_at(c, i)) > 0; i += olen) {
                if (c->opts[i] == 1 && opt_len_at(c, i + 1) == 1) {
                    memcpy(t.tcp + 20 + i, eno_ack, 2);
                    wire_tcp_fix_checksums(f);
                    mut.done = true;
                    mut.count++;
                    break;
                }
            }
        }
        break;
    case MUT_STRIP_A_ENO:
        if (c->from == WIRE_A && !(c->flags & TCP_SYN) && c->eno_count > 0) {
            for (size_t i = 0, olen; (olen = opt_len_at(c, i)) > 0; i += olen) {
                if (c->opts[i] == WIRE_ENO_KIND) {
                    memset(t.tcp + 20 + i, 1, olen);
                }
            }
            wire_tcp_fix_checksums(f);
            mut.done = true;
            mut.count++;
        }
        break;
    case MUT_REPLAY_SYN:
        if (c->from == WIRE_A && c->flags == TCP_SYN) {
            mut.done = replace_eno(f, c, replay_syn, replay_syn_len);
            mut.count++;
        }
        break;
    case MUT_SYNACK_HALF:
        /* 45 len 01 a3 half...: flip a bit of the half's first byte. */
        if (c->from == WIRE_B && (c->flags & TCP_SYN) && c->eno_len > 4 && c->eno[3] >= 0xa0) {
            u8_t opt[TC_TCP_MAX_OPTION_BYTES];

            memcpy(opt, c->eno, c->eno_len);
            opt[4] ^= 0x01;
            mut.done = replace_eno(f, c, opt, c->eno_len);
            mut.count++;
        }
        break;
    case MUT_ZERO_WINDOW_B:
        if (c->from == WIRE_B && ++mut.count == mut.n) {
            mut.until = wire_now_ms + 5000;
        }
        if (c->from == WIRE_B && mut.count >= mut.n && (s32_t)(wire_now_ms - mut.until) < 0) {
            t.tcp[14] = 0;
            t.tcp[15] = 0;
            wire_tcp_fix_checksums(f);
            mut.done = true;
        }
        break;
    case MUT_FLIP_A_DATA:
        if (c->from == WIRE_A && c->payload_len > 0 && !mut.done) {
            size_t start = (size_t)(u32_t)(c->seq - mut.a_isn - 1), k;

            if (start < client.init_len + 50000) {
                break;
            }
            /* A byte past a frame's 3-byte header: the AEAD covers it. */
            for (size_t q = start; q < start + c->payload_len; q++) {
                const struct sealed *s = frame_at(&client, q, &k);

                if (s != NULL && q - s->start >= TC_FRAME_HDR_LEN) {
                    t.tcp[t.hlen + (q - start)] ^= 0x10;
                    wire_tcp_fix_checksums(f);
                    mut.done = true;
                    mut.cap = f->capture;
                    mut.flip_at = q;
                    mut.flip_frame = k;
                    break;
                }
            }
        }
        break;
    }
    return WIRE_PASS;
}

static enum wire_verdict mutate(void *ctx, struct wire_frame *f, const struct wire_capture *c)
{
    unsigned count = mut.count;
    bool done = mut.done;
    enum wire_verdict v = mutate_frame(f, c);

    (void)ctx;
    if (v == WIRE_PASS && (mut.count != count || mut.done != done)) {
        memset(&mut.after, 0, offsetof(struct wire_capture, frame));
        wire_parse_frame(&mut.after, f->data, f->len);
    }
    return v;
}

/* ------------------------------------------------------------ running one connection */

struct params {
    const char *name;
    bool ipv6;
    u16_t port;
    struct tc_eno_opts opts_a, opts_b;
    size_t c2s, s2c;
    enum mutation mutation;
    unsigned mut_n;
};
/* Resumption's role swap: the client on B's netif, the listener on A's. */
static bool run_swapped;

static bool transfer_over(void)
{
    return (client.rx_len == client.rx_cap && server.rx_len == server.rx_cap) ||
           ep_failed(&client) || ep_failed(&server);
}

static bool all_gone(void)
{
    return tcp_active_pcbs == NULL && tcp_tw_pcbs == NULL;
}

static struct tc_eno_stats stats_before;

static void run(const struct params *p)
{
    struct tcp_pcb *pcb;
    ip_addr_t addr_a, addr_b;

    fprintf(stderr, NAME ": scenario %s\n", p->name);
    ep_reset(&client, "client", p->c2s, p->s2c, 2 * p->port + 0);
    ep_reset(&server, "server", p->s2c, p->c2s, 2 * p->port + 1);
    wire_reset();
    memset(&mut, 0, sizeof(mut));
    mut.kind = p->mutation;
    mut.n = p->mut_n;
    mut.cap = -1;
    wire_set_mutator(mutate, NULL);
    stats_before = *tc_eno_lwip_stats();
    CHECK(ipaddr_aton(p->ipv6 ? "fd00::1" : "10.0.0.1", run_swapped ? &addr_b : &addr_a));
    CHECK(ipaddr_aton(p->ipv6 ? "fd00::2" : "10.0.0.2", run_swapped ? &addr_a : &addr_b));

    /* B listens; ENO state goes on the listening pcb, after tcp_listen(). */
    pcb = tcp_new_ip_type(p->ipv6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4);
    CHECK(pcb != NULL);
    if (pcb == NULL) {
        exit(2);
    }
    tcp_bind_netif(pcb, run_swapped ? &wire_netif_a : &wire_netif_b);
    CHECK_INT(tcp_bind(pcb, &addr_b, p->port), ERR_OK);
    listener = tcp_listen_with_backlog(pcb, 4);
    CHECK(listener != NULL);
    if (listener == NULL) {
        exit(2);
    }
    CHECK_INT(tc_eno_lwip_attach(listener, &p->opts_b), TC_OK);
    tcp_accept(listener, on_accept);

    /* A connects; ENO state before tcp_connect(). */
    client.pcb = tcp_new_ip_type(p->ipv6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4);
    CHECK(client.pcb != NULL);
    if (client.pcb == NULL) {
        exit(2);
    }
    tcp_bind_netif(client.pcb, run_swapped ? &wire_netif_b : &wire_netif_a);
    CHECK_INT(tcp_bind(client.pcb, &addr_a, 0), ERR_OK);
    CHECK_INT(tc_eno_lwip_attach(client.pcb, &p->opts_a), TC_OK);
    ep_callbacks(&client, client.pcb);
    CHECK_INT(tcp_connect(client.pcb, &addr_b, p->port, on_connected), ERR_OK);

    CHECK(wire_run_until(transfer_over, 120000));
    if (!ep_failed(&client) && !ep_failed(&server)) {
        /* A ends first: FINp, then FIN; B answers in kind from on_recv. */
        client.closing = true;
        ep_push(&client);
    }
    CHECK(wire_run_until(all_gone, 2 * TCP_MSL + 60000));
    CHECK_INT(tcp_close(listener), ERR_OK);
    listener = NULL;
    CHECK(tcp_active_pcbs == NULL && tcp_tw_pcbs == NULL);
    CHECK(tcp_listen_pcbs.listen_pcbs == NULL && tcp_bound_pcbs == NULL);
    CHECK_INT(wire_capture_overflow, 0);
    CHECK_INT(client.late + server.late, 0);
}

/* ------------------------------------------------------------ reading the capture */

static bool eno_is(const struct wire_capture *c, const u8_t *want, size_t len)
{
    return c->eno_count == 1 && c->eno_len == len && memcmp(c->eno, want, len) == 0;
}

static void print_eno(const char *what, const struct wire_capture *c)
{
    fprintf(stderr, NAME ":   %s ENO:", what);
    if (c == NULL || c->eno_len == 0) {
        fprintf(stderr, " none");
    }
    for (unsigned i = 0; c != NULL && i < c->eno_len; i++) {
        fprintf(stderr, " %02x", c->eno[i]);
    }
    fputc('\n', stderr);
}

/* The first TCP frame from side with exactly these flags (mask SYN|ACK). */
static const struct wire_capture *first_with(int side, u8_t flags)
{
    for (unsigned i = 0; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];

        if (c->is_tcp && c->from == side && (c->flags & (TCP_SYN | TCP_ACK)) == flags) {
            return c;
        }
    }
    return NULL;
}

static bool first_eno_is(int side, u8_t flags, const u8_t *want, size_t len)
{
    const struct wire_capture *c = first_with(side, flags);

    return c != NULL && eno_is(c, want, len);
}

static u32_t isn_of(int side)
{
    const struct wire_capture *c = first_with(side, side == WIRE_A ? TCP_SYN : TCP_SYN | TCP_ACK);

    CHECK(c != NULL);
    return c == NULL ? 0 : c->seq;
}

/* Stream offset of a frame's first payload byte. */
static size_t offset_of(const struct wire_capture *c, u32_t isn)
{
    return (size_t)(u32_t)(c->seq - isn - 1);
}

/*
 * Every payload byte on the wire from side equals the byte its relay wrote
 * at that stream offset (so retransmissions are byte-identical, §3.6), and
 * every written byte crossed the wire at least once (when complete).
 */
static void check_stream(int side, const struct ep *e, bool complete)
{
    u32_t isn = isn_of(side);
    unsigned char *seen = calloc(e->wrote_len + 1, 1);
    unsigned bad = 0;
    size_t covered = 0;

    CHECK(seen != NULL);
    if (seen == NULL) {
        return;
    }
    for (unsigned i = 0; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];
        size_t off;

        if (!c->is_tcp || c->from != side || c->payload_len == 0) {
            continue;
        }
        off = offset_of(c, isn);
        if (off + c->payload_len > e->wrote_len ||
            memcmp(wire_payload(c), e->wrote + off, c->payload_len) != 0) {
            bad++;
            continue;
        }
        for (size_t k = off; k < off + c->payload_len; k++) {
            covered += !seen[k];
            seen[k] = 1;
        }
    }
    free(seen);
    CHECK_INT(bad, 0);
    if (complete) {
        CHECK_INT(covered, e->wrote_len);
    }
}

/* Frames (from side, or any when side < 0) whose payload shows the marker. */
static unsigned marker_frames(int side)
{
    unsigned n = 0;

    for (unsigned i = 0; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];

        if (c->is_tcp && (side < 0 || c->from == side) && c->payload_len > 0 &&
            memmem(wire_payload(c), c->payload_len, MARKER, strlen(MARKER)) != NULL) {
            n++;
        }
    }
    return n;
}

/* Every TCP frame parsed, with good checksums and a strict option walk. */
static unsigned check_frames(void)
{
    unsigned n_tcp = 0, bad = 0;

    for (unsigned i = 0; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];

        if (c->is_tcp) {
            n_tcp++;
            bad += !c->csum_ok || !c->opts_ok;
        }
    }
    CHECK_INT(bad, 0);
    return n_tcp;
}

/*
 * RFC 8547 §4.6: "A host employing TCP-ENO for a connection MUST include an
 * ENO option in every TCP segment sent until either encryption is disabled
 * or the host receives a non-SYN segment." So side's non-SYN segments sent
 * before the peer's first non-SYN segment reached it carry 45 02, and none
 * sent afterwards carries ENO. Returns how many carried 45 02.
 */
static unsigned check_eno_until_non_syn(int side)
{
    unsigned arrived = UINT_MAX, with = 0, bad = 0;

    for (unsigned i = 0; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];

        if (c->is_tcp && c->from != side && !(c->flags & TCP_SYN) && c->delivered_ev != 0 &&
            c->delivered_ev < arrived) {
            arrived = c->delivered_ev;
        }
    }
    CHECK(arrived != UINT_MAX);
    for (unsigned i = 0; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];

        if (!c->is_tcp || c->from != side || (c->flags & TCP_SYN)) {
            continue;
        }
        if (c->sent_ev < arrived) {
            bad += !eno_is(c, eno_ack, sizeof(eno_ack));
            with++;
        } else {
            bad += c->eno_count != 0;
        }
    }
    CHECK_INT(bad, 0);
    return with;
}

/* No non-SYN segment from side carries ENO. */
static void check_no_eno_after_syn(int side)
{
    unsigned bad = 0;

    for (unsigned i = 0; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];

        bad += c->is_tcp && c->from == side && !(c->flags & TCP_SYN) && c->eno_count != 0;
    }
    CHECK_INT(bad, 0);
}

/* RFC 8548 §3.3: "the segment containing the last byte of Init1 (Init2)
 * MUST have PSH set" -- every copy of it on the wire. */
static void check_init_psh(int side, size_t init_len)
{
    u32_t last = isn_of(side) + (u32_t)init_len; /* ISN + 1 + init_len - 1 */
    unsigned found = 0;

    CHECK(init_len > 0);
    for (unsigned i = 0; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];

        if (c->is_tcp && c->from == side && c->payload_len > 0 &&
            (u32_t)(last - c->seq) < c->payload_len) {
            found++;
            CHECK(c->flags & TCP_PSH);
        }
    }
    CHECK(found >= 1);
}

/* The last segment from side carries only lwIP's own options: the ENO
 * reservation went away once the queue drained. */
static void check_last_plain(int side)
{
    const struct wire_capture *last = NULL;

    for (unsigned i = 0; i < wire_n_captured; i++) {
        if (wire_captured[i].is_tcp && wire_captured[i].from == side) {
            last = &wire_captured[i];
        }
    }
    CHECK(last != NULL);
    if (last != NULL) {
        CHECK_INT(last->eno_count, 0);
        CHECK_INT(last->optlen, TS_OPTLEN);
    }
}

static void check_outcome(const struct ep *e, bool encrypted, int reason)
{
    CHECK(e->up);
    CHECK_INT(e->out.encrypted, encrypted);
    CHECK_INT(e->out.reason, encrypted ? 0 : reason);
}

/* Data arrived whole and in order, both ways. */
static void check_data(void)
{
    CHECK_INT(server.rx_len, client.tx_len);
    CHECK_INT(client.rx_len, server.tx_len);
    if (server.rx_len == client.tx_len) {
        CHECK_MEM(server.rx, client.tx, client.tx_len);
    }
    if (client.rx_len == server.tx_len) {
        CHECK_MEM(client.rx, server.tx, server.tx_len);
    }
}

/* A clean end: FINp then FIN both ways, no error, no RST. */
static void check_clean_end(bool encrypted)
{
    unsigned rst = 0;

    CHECK(!client.got_err && !server.got_err);
    CHECK(!client.aborted && !server.aborted);
    CHECK_INT(client.sess_err, 0);
    CHECK_INT(server.sess_err, 0);
    CHECK(client.peer_fin && server.peer_fin);
    CHECK(client.fin_sent && server.fin_sent);
    if (encrypted) {
        CHECK(client.finp_sealed && server.finp_sealed);
        CHECK(client.got_finp && server.got_finp);
        CHECK_INT(client.peer_fin_rc, TC_OK);
        CHECK_INT(server.peer_fin_rc, TC_OK);
    }
    for (unsigned i = 0; i < wire_n_captured; i++) {
        rst += wire_captured[i].is_tcp && (wire_captured[i].flags & TCP_RST) != 0;
    }
    CHECK_INT(rst, 0);
}

/* Session IDs (RFC 8547 §4.7): equal at both ends, starting with B's TEP byte. */
static void check_session_ids(uint8_t tep)
{
    uint8_t sa[TC_SESSID_LEN], sb[TC_SESSID_LEN];

    CHECK(tc_sess_session_id(&client.sess, sa));
    CHECK(tc_sess_session_id(&server.sess, sb));
    CHECK_MEM(sa, sb, TC_SESSID_LEN);
    CHECK_INT(sa[0], tep);
}

/* The ENO handshake of an encrypted connection as it crossed the wire, and
 * both outcomes' transcripts equal to it (RFC 8547 §4.8). */
static void check_encrypted_handshake(const u8_t *syn_eno, size_t syn_len, const u8_t *synack_eno,
                                      size_t synack_len)
{
    const struct wire_capture *syn = first_with(WIRE_A, TCP_SYN);
    const struct wire_capture *synack = first_with(WIRE_B, TCP_SYN | TCP_ACK);
    const struct wire_capture *third = first_with(WIRE_A, TCP_ACK);
    u8_t transcript[TC_ENO_TRANSCRIPT_MAX];

    check_outcome(&client, true, 0);
    check_outcome(&server, true, 0);
    CHECK(!client.out.is_b);
    CHECK(server.out.is_b);
    CHECK_INT(client.out.tep_byte, 0x23);
    CHECK_INT(server.out.tep_byte, 0x23);
    CHECK(syn != NULL && synack != NULL && third != NULL);
    if (syn == NULL || synack == NULL || third == NULL) {
        return;
    }
    CHECK(eno_is(syn, syn_eno, syn_len));
    CHECK(eno_is(synack, synack_eno, synack_len));
    /* "an active opener MUST include a non-SYN-form ENO option in the third
     * segment of a three-way handshake" (§4.6) */
    CHECK(third->sent_ev > synack->sent_ev);
    CHECK(eno_is(third, eno_ack, sizeof(eno_ack)));
    memcpy(transcript, syn->eno, syn->eno_len);
    memcpy(transcript + syn->eno_len, synack->eno, synack->eno_len);
    CHECK_INT(client.out.transcript_len, syn->eno_len + synack->eno_len);
    CHECK_INT(server.out.transcript_len, syn->eno_len + synack->eno_len);
    CHECK_MEM(client.out.transcript, transcript, syn->eno_len + synack->eno_len);
    CHECK_MEM(server.out.transcript, transcript, syn->eno_len + synack->eno_len);
}

static void summary(const char *name, unsigned failed_before, unsigned n_tcp)
{
    fprintf(stderr,
            NAME ": scenario %s: A %s (%d), B %s (%d), %u frames, %u TCP, %zu/%zu bytes, %s\n",
            name, client.out.encrypted ? "encrypted" : "plain", client.out.reason,
            server.out.encrypted ? "encrypted" : "plain", server.out.reason, wire_n_captured, n_tcp,
            server.rx_len, client.rx_len, tc_checks_failed == failed_before ? "ok" : "FAILED");
}

static void check_stats(uint64_t syn_with, uint64_t syn_without, uint64_t negotiated,
                        uint64_t malformed, uint64_t duplicate)
{
    const struct tc_eno_stats *s = tc_eno_lwip_stats();

    CHECK_INT(s->syn_with_eno - stats_before.syn_with_eno, syn_with);
    CHECK_INT(s->syn_without_eno - stats_before.syn_without_eno, syn_without);
    CHECK_INT(s->negotiated - stats_before.negotiated, negotiated);
    CHECK_INT(s->malformed - stats_before.malformed, malformed);
    CHECK_INT(s->duplicate - stats_before.duplicate, duplicate);
}

/* ------------------------------------------------------------ scenarios */

#define KB 1024

/* (a), (f): both hosts ENO, a full tcpcrypt connection. */
static void scenario_encrypted(const char *name, bool ipv6, u16_t port, size_t len)
{
    struct params p = {name, ipv6, port, {0}, {0}, len, len, MUT_NONE, 0};
    unsigned failed = tc_checks_failed, n_tcp, a_with, b_with;

    run(&p);
    n_tcp = check_frames();
    check_encrypted_handshake(eno_syn_a, sizeof(eno_syn_a), eno_syn_b, sizeof(eno_syn_b));
    a_with = check_eno_until_non_syn(WIRE_A);
    b_with = check_eno_until_non_syn(WIRE_B);
    CHECK(a_with >= 1);   /* the third segment, with or without Init1 */
    CHECK_INT(b_with, 0); /* B heard A's third segment before it sent any */
    /* A's Init1 went out before B's first non-SYN segment arrived, so with 45 02. */
    {
        const struct wire_capture *init1 = NULL;

        for (unsigned i = 0; i < wire_n_captured && init1 == NULL; i++) {
            if (wire_captured[i].is_tcp && wire_captured[i].from == WIRE_A &&
                wire_captured[i].payload_len > 0) {
                init1 = &wire_captured[i];
            }
        }
        CHECK(init1 != NULL && offset_of(init1, isn_of(WIRE_A)) == 0);
        CHECK(init1 != NULL && eno_is(init1, eno_ack, sizeof(eno_ack)));
    }
    check_last_plain(WIRE_A);
    check_last_plain(WIRE_B);
    check_init_psh(WIRE_A, client.init_len);
    check_init_psh(WIRE_B, server.init_len);
    check_stream(WIRE_A, &client, true);
    check_stream(WIRE_B, &server, true);
    check_session_ids(0x23);
    check_data();
    CHECK_INT(marker_frames(-1), 0);
    check_clean_end(true);
    check_stats(1, 0, 2, 0, 0);
    print_eno("SYN    ", first_with(WIRE_A, TCP_SYN));
    print_eno("SYN-ACK", first_with(WIRE_B, TCP_SYN | TCP_ACK));
    print_eno("third  ", first_with(WIRE_A, TCP_ACK));
    fprintf(stderr, NAME ":   Init1 %zu bytes, Init2 %zu, %zu + %zu frames, 45 02 on %u of A\n",
            client.init_len, server.init_len, client.nframes, server.nframes, a_with);
    summary(name, failed, n_tcp);
}

/* (b): one encrypted data frame from A lost once and retransmitted. */
static void scenario_drop(void)
{
    struct params p = {"ipv4, ENO, one data frame dropped",
                       false,
                       6002,
                       {0},
                       {0},
                       200 * KB,
                       200 * KB,
                       MUT_DROP_DATA_A,
                       30};
    unsigned failed = tc_checks_failed, n_tcp, identical = 0, differ = 0;
    const struct wire_capture *lost;
    u8_t covered[WIRE_FRAME_MAX] = {0};
    size_t n_covered = 0;

    run(&p);
    n_tcp = check_frames();
    check_encrypted_handshake(eno_syn_a, sizeof(eno_syn_a), eno_syn_b, sizeof(eno_syn_b));
    CHECK(mut.done && mut.cap >= 0);
    if (!mut.done || mut.cap < 0) {
        return;
    }
    lost = &wire_captured[mut.cap];
    CHECK(lost->dropped && lost->payload_len > 0);
    CHECK(offset_of(lost, isn_of(WIRE_A)) > client.init_len); /* a sealed frame, not Init1 */
    /* "a retransmitted TCP segment MUST contain the same payload bytes for
     * the same TCP sequence numbers" (RFC 8548 §3.6). */
    for (unsigned i = (unsigned)mut.cap + 1; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];

        if (!c->is_tcp || c->from != WIRE_A || c->payload_len == 0 || c->dropped) {
            continue;
        }
        if (c->seq == lost->seq && c->payload_len == lost->payload_len &&
            memcmp(wire_payload(c), wire_payload(lost), lost->payload_len) == 0) {
            identical++;
        }
        for (size_t k = 0; k < lost->payload_len; k++) {
            u32_t at = (u32_t)(lost->seq + k - c->seq);

            if (at < c->payload_len) {
                differ += wire_payload(c)[at] != wire_payload(lost)[k];
                n_covered += !covered[k];
                covered[k] = 1;
            }
        }
    }
    CHECK_INT(differ, 0);
    CHECK(identical >= 1);
    CHECK_INT(n_covered, lost->payload_len);
    check_stream(WIRE_A, &client, true);
    check_stream(WIRE_B, &server, true);
    check_session_ids(0x23);
    check_data();
    CHECK_INT(marker_frames(-1), 0);
    check_clean_end(true);
    fprintf(stderr, NAME ":   dropped %u payload bytes at A offset %zu, %u identical resend(s)\n",
            lost->payload_len, offset_of(lost, isn_of(WIRE_A)), identical);
    summary(p.name, failed, n_tcp);
}

/*
 * (b2): B's window seen as zero for 5 s from its SYN-ACK on (its segments
 * rewritten) while A has Init1 and data to send: A's persist timer probes
 * with one byte of its stream, which B takes since its window is really
 * open, and A's segments still carry the 4 option bytes it reserves until
 * it hears a non-SYN segment (RFC 8547 §4.6).  Every byte on the wire,
 * probes included, is the stream's byte at that sequence number ("a
 * retransmitted TCP segment MUST contain the same payload bytes for the
 * same TCP sequence numbers", RFC 8548 §3.6), and the transfer ends intact.
 */
static void scenario_zero_window(void)
{
    struct params p = {"ipv4, ENO, B's window zeroed from its SYN-ACK (persist probes)",
                       false,
                       6003,
                       {0},
                       {0},
                       100 * KB,
                       1 * KB,
                       MUT_ZERO_WINDOW_B,
                       1};
    unsigned failed = tc_checks_failed, n_tcp, probes = 0;

    run(&p);
    n_tcp = check_frames();
    CHECK(mut.done);
    for (unsigned i = 0; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];

        probes += c->is_tcp && c->from == WIRE_A && c->payload_len == 1 && c->optlen > 0;
    }
    CHECK(probes >= 1);
    check_stream(WIRE_A, &client, true);
    check_stream(WIRE_B, &server, true);
    check_data();
    check_clean_end(true);
    fprintf(stderr, NAME ":   %u one-byte probes with options from A\n", probes);
    summary(p.name, failed, n_tcp);
}

/*
 * A fallback: both hosts plain with these reasons, the ENO options on the
 * wire as given (NULL: none), and the data intact as plain TCP (the marker
 * is on the wire: the check that finds none elsewhere would see it).
 */
static void scenario_plain(const struct params *p, int reason_a, int reason_b, const u8_t *syn_eno,
                           size_t syn_len, const u8_t *synack_eno, size_t synack_len)
{
    unsigned failed = tc_checks_failed, n_tcp;
    const struct wire_capture *syn, *synack;

    run(p);
    n_tcp = check_frames();
    syn = first_with(WIRE_A, TCP_SYN);
    synack = first_with(WIRE_B, TCP_SYN | TCP_ACK);
    CHECK(syn != NULL && synack != NULL);
    if (syn == NULL || synack == NULL) {
        return;
    }
    check_outcome(&client, false, reason_a);
    check_outcome(&server, false, reason_b);
    if (syn_eno != NULL) {
        CHECK(eno_is(syn, syn_eno, syn_len));
    } else {
        CHECK_INT(syn->eno_count, 0);
    }
    if (synack_eno != NULL) {
        CHECK(eno_is(synack, synack_eno, synack_len));
    } else {
        CHECK_INT(synack->eno_count, 0);
    }
    /* Fallen back: "refrain from sending any further ENO options". */
    check_no_eno_after_syn(WIRE_A);
    check_no_eno_after_syn(WIRE_B);
    check_stream(WIRE_A, &client, true);
    check_stream(WIRE_B, &server, true);
    check_data();
    CHECK(marker_frames(WIRE_A) > 0 && marker_frames(WIRE_B) > 0);
    check_clean_end(false);
    print_eno("SYN    ", syn);
    print_eno("SYN-ACK", synack);
    summary(p->name, failed, n_tcp);
}

/* (d) ENO stripped from A's non-SYN segments: B falls back, but A has sent
 * and received an ACK with ENO, so for A encryption is on (§4.6) -- the
 * "type-2 failure" of RFC 8547 §9. A must abort rather than fall back; its
 * plaintext never reaches the wire. */
static void scenario_stripped_ack(void)
{
    struct params p = {"ipv4, ENO stripped from A's third segment on",
                       false,
                       6030,
                       {0},
                       {0},
                       20 * KB,
                       20 * KB,
                       MUT_STRIP_A_ENO,
                       0};
    unsigned failed = tc_checks_failed, n_tcp, rst_a = 0;

    run(&p);
    n_tcp = check_frames();
    CHECK(mut.done);
    check_outcome(&client, true, 0);
    check_outcome(&server, false, TC_E_ENO_ABSENT);
    CHECK(first_eno_is(WIRE_A, TCP_SYN, eno_syn_a, sizeof(eno_syn_a)));
    CHECK(first_eno_is(WIRE_B, TCP_SYN | TCP_ACK, eno_syn_b, sizeof(eno_syn_b)));
    CHECK(first_eno_is(WIRE_A, TCP_ACK, eno_ack, sizeof(eno_ack))); /* as sent */
    /* B, plain, hands A's Init1 to its application as data ... */
    CHECK_INT(server.rx_len, client.init_len);
    CHECK_MEM(server.rx, client.init_msg, client.init_len);
    /* ... and A's session rejects B's plaintext where Init2 belongs. */
    CHECK_INT(client.sess_err, TC_E_BAD_MAGIC);
    CHECK(client.aborted);
    CHECK_INT(client.rx_len, 0);
    CHECK(server.got_err && server.err == ERR_RST);
    for (unsigned i = 0; i < wire_n_captured; i++) {
        rst_a += wire_captured[i].is_tcp && wire_captured[i].from == WIRE_A &&
                 (wire_captured[i].flags & TCP_RST) != 0;
    }
    CHECK(rst_a >= 1); /* one per segment of B's still in flight */
    CHECK_INT(client.nframes, 0);
    CHECK_INT(marker_frames(WIRE_A), 0);
    check_stream(WIRE_A, &client, false);
    check_stats(1, 0, 1, 0, 0);
    summary(p.name, failed, n_tcp);
}

/* (e) One flipped bit in an encrypted frame from A: B's session fails the
 * tag, delivers nothing of that frame, and B aborts with RST. */
static void scenario_flip(void)
{
    struct params p = {"ipv4, ENO, one bit flipped in a frame",
                       false,
                       6040,
                       {0},
                       {0},
                       200 * KB,
                       200 * KB,
                       MUT_FLIP_A_DATA,
                       0};
    unsigned failed = tc_checks_failed, n_tcp, rst_b = 0;
    const struct wire_capture *flipped;

    run(&p);
    n_tcp = check_frames();
    check_encrypted_handshake(eno_syn_a, sizeof(eno_syn_a), eno_syn_b, sizeof(eno_syn_b));
    CHECK(mut.done && mut.cap >= 0);
    if (!mut.done || mut.cap < 0) {
        return;
    }
    flipped = &wire_captured[mut.cap];
    CHECK(flipped->mutated && flipped->delivered_ev != 0);
    CHECK_INT(server.sess_err, TC_E_AUTH);
    CHECK(tc_err_aborts(server.sess_err));
    CHECK(server.aborted);
    /* Exactly the frames before the tampered one reached B's application. */
    CHECK_INT(server.rx_len, client.frames[mut.flip_frame].plain_before);
    CHECK(server.rx_len <= client.tx_len);
    if (server.rx_len <= client.tx_len) {
        CHECK_MEM(server.rx, client.tx, server.rx_len);
    }
    for (unsigned i = 0; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];

        if (c->is_tcp && c->from == WIRE_B && (c->flags & TCP_RST) != 0) {
            rst_b++;
            CHECK(c->sent_ev > flipped->delivered_ev);
        }
    }
    CHECK(rst_b >= 1);
    CHECK(client.got_err && client.err == ERR_RST);
    CHECK_INT(client.sess_err, 0);
    CHECK_INT(marker_frames(-1), 0);
    check_stream(WIRE_A, &client, false);
    check_stream(WIRE_B, &server, false);
    fprintf(stderr, NAME ":   bit flipped at A offset %zu (frame %zu), B delivered %zu bytes\n",
            mut.flip_at, mut.flip_frame, server.rx_len);
    summary(p.name, failed, n_tcp);
}

/* (d) B in mandatory application-aware mode, A with a = 1: encrypted, and
 * each side reads the other's a bit. */
static void scenario_aa_encrypted(void)
{
    static const u8_t syn[5] = {0x45, 0x05, 0x02, 0x24, 0x23};
    static const u8_t synack[4] = {0x45, 0x04, 0x03, 0x23};
    struct params p = {"ipv4, aa_mandatory listener, app_aware client",
                       false,
                       6060,
                       {0},
                       {0},
                       20 * KB,
                       20 * KB,
                       MUT_NONE,
                       0};
    unsigned failed = tc_checks_failed, n_tcp;

    p.opts_a.app_aware = true;
    p.opts_b.aa_mandatory = true;
    run(&p);
    n_tcp = check_frames();
    check_encrypted_handshake(syn, sizeof(syn), synack, sizeof(synack));
    CHECK_INT(client.out.peer_global, 0x03);
    CHECK_INT(server.out.peer_global, 0x02);
    check_init_psh(WIRE_A, client.init_len);
    check_init_psh(WIRE_B, server.init_len);
    check_stream(WIRE_A, &client, true);
    check_stream(WIRE_B, &server, true);
    check_session_ids(0x23);
    check_data();
    CHECK_INT(marker_frames(-1), 0);
    check_clean_end(true);
    summary(p.name, failed, n_tcp);
}

static void fallbacks(void)
{
    static const u8_t syn_b1[5] = {0x45, 0x05, 0x01, 0x24, 0x23};
    struct params p;

    /* (c) A with ENO disabled: no option 69 anywhere. */
    p = (struct params){
        "ipv4, client ENO disabled", false, 6010, {0}, {0}, 50 * KB, 50 * KB, MUT_NONE, 0};
    p.opts_a.disable = true;
    scenario_plain(&p, 0, TC_E_ENO_ABSENT, NULL, 0, NULL, 0);
    CHECK_INT(marker_frames(-1) > 0, 1);
    for (unsigned i = 0; i < wire_n_captured; i++) {
        CHECK_INT(wire_captured[i].eno_count, 0);
    }
    check_stats(0, 1, 0, 0, 0);

    /* (c) Listener with ENO disabled: A offers, B answers without ENO. */
    p = (struct params){
        "ipv4, listener ENO disabled", false, 6011, {0}, {0}, 50 * KB, 50 * KB, MUT_NONE, 0};
    p.opts_b.disable = true;
    scenario_plain(&p, TC_E_ENO_ABSENT, 0, eno_syn_a, sizeof(eno_syn_a), NULL, 0);
    check_stats(1, 0, 0, 0, 0);

    /* (d) B's SYN-ACK option made malformed (§4.4: a length byte followed by
     * a byte below 0xa0 and running past the end): A falls back and sends no
     * ENO in its third segment, so B falls back too. */
    p = (struct params){"ipv4, SYN-ACK ENO malformed", false, 6020, {0}, {0}, 50 * KB, 50 * KB,
                        MUT_SYNACK_MALFORMED,          0};
    scenario_plain(&p, TC_E_ENO_MALFORMED, TC_E_ENO_ABSENT, eno_syn_a, sizeof(eno_syn_a), eno_syn_b,
                   sizeof(eno_syn_b));
    CHECK_INT(mut.count, 1);
    CHECK(mut.after.csum_ok && mut.after.opts_ok);
    CHECK(eno_is(&mut.after, eno_malformed, sizeof(eno_malformed)));
    check_stats(1, 0, 0, 1, 0);

    /* (d) Two ENO options in A's SYN: "the receiver MUST behave as though
     * the segment contained no ENO options" (§4.1): no ENO in the SYN-ACK. */
    p = (struct params){"ipv4, two ENO options in the SYN",
                        false,
                        6021,
                        {0},
                        {0},
                        50 * KB,
                        50 * KB,
                        MUT_SYN_TWO_ENO,
                        0};
    scenario_plain(&p, TC_E_ENO_ABSENT, TC_E_ENO_DUPLICATE, eno_syn_a, sizeof(eno_syn_a), NULL, 0);
    CHECK_INT(mut.count, 1);
    CHECK_INT(mut.after.eno_count, 2); /* as delivered: 45 02 and 45 04 24 23 */
    check_stats(1, 0, 0, 0, 1);

    /* (d) A with b = 1 connecting to a listener: B sees the same role and
     * sends no further ENO (§4.6 rule 3), so A sees no ENO in the SYN-ACK. */
    p = (struct params){
        "ipv4, client role_b", false, 6022, {0}, {0}, 50 * KB, 50 * KB, MUT_NONE, 0};
    p.opts_a.role_b = true;
    scenario_plain(&p, TC_E_ENO_ABSENT, TC_E_ENO_SAME_ROLE, syn_b1, sizeof(syn_b1), NULL, 0);
    check_stats(1, 0, 0, 0, 0);

    /* (d) A load balancer echoing A's SYN option in the SYN-ACK (§8.1): b = 0
     * on both sides, A detects the same role and falls back. */
    p = (struct params){"ipv4, SYN-ACK echoes the SYN's ENO",
                        false,
                        6023,
                        {0},
                        {0},
                        50 * KB,
                        50 * KB,
                        MUT_SYNACK_ECHO,
                        0};
    scenario_plain(&p, TC_E_ENO_SAME_ROLE, TC_E_ENO_ABSENT, eno_syn_a, sizeof(eno_syn_a), eno_syn_b,
                   sizeof(eno_syn_b));
    CHECK_INT(mut.count, 1);
    CHECK(mut.after.csum_ok && eno_is(&mut.after, eno_syn_a, sizeof(eno_syn_a)));
    check_stats(1, 0, 0, 0, 0);

    /* (d) Listener in mandatory application-aware mode, A with a = 0. */
    p = (struct params){"ipv4, aa_mandatory listener, client a=0",
                        false,
                        6024,
                        {0},
                        {0},
                        50 * KB,
                        50 * KB,
                        MUT_NONE,
                        0};
    p.opts_b.aa_mandatory = true;
    scenario_plain(&p, TC_E_ENO_ABSENT, TC_E_ENO_NOT_AWARE, eno_syn_a, sizeof(eno_syn_a), NULL, 0);
    check_stats(1, 0, 0, 0, 0);
}

/* ------------------------------------------------------------ session resumption */

/* Each host's cache, as each tcpcryptd has one: A's netif is .1, B's .2. */
static struct tc_resume_cache cache_a, cache_b;
static uint8_t seen_sids[64][TC_SESSID_LEN];
static size_t n_seen;

static struct tc_resume_cache *cache_of(void *ctx, const struct tcp_pcb *pcb)
{
    const uint8_t *last = IP_IS_V6(&pcb->local_ip)
                              ? (const uint8_t *)ip_2_ip6(&pcb->local_ip)->addr + 15
                              : (const uint8_t *)&ip_2_ip4(&pcb->local_ip)->addr + 3;

    (void)ctx;
    return *last == 1 ? &cache_a : &cache_b;
}

static uint64_t virtual_now(void *ctx)
{
    (void)ctx;
    return wire_now_ms;
}

static uint64_t resume_rng_state = 77;
static const struct tc_rng resume_rng = {det_fill, &resume_rng_state};

static void resumption_on(size_t nonce_len)
{
    tc_eno_lwip_set_resume(&(struct tc_eno_resume){.cache = cache_of,
                                                   .now_ms = virtual_now,
                                                   .rng = &resume_rng,
                                                   .nonce_len = nonce_len});
}

/* The session ID is new: no two connections share keys. */
static void check_new_sid(const uint8_t sid[TC_SESSID_LEN])
{
    for (size_t k = 0; k < n_seen; k++) {
        CHECK(memcmp(seen_sids[k], sid, TC_SESSID_LEN) != 0);
    }
    if (n_seen < sizeof(seen_sids) / sizeof(seen_sids[0])) {
        memcpy(seen_sids[n_seen++], sid, TC_SESSID_LEN);
    }
}

/* The first TCP frame from the client (server) side with these flags. */
static const struct wire_capture *conn_first(bool from_client, bool swap, u8_t flags)
{
    return first_with(from_client != swap ? WIRE_A : WIRE_B, flags);
}

/* The SYN and SYN-ACK: no more than 40 option bytes, lwIP's own four
 * options all there, one ENO option. */
static void check_syn_options(bool swap)
{
    const struct wire_capture *syn = conn_first(true, swap, TCP_SYN);
    const struct wire_capture *synack = conn_first(false, swap, TCP_SYN | TCP_ACK);

    CHECK(syn != NULL && synack != NULL);
    if (syn == NULL || synack == NULL) {
        return;
    }
    for (int k = 0; k < 2; k++) {
        const struct wire_capture *c = k == 0 ? syn : synack;

        CHECK(c->opts_ok && c->csum_ok);
        CHECK(c->optlen <= TC_TCP_MAX_OPTION_BYTES);
        CHECK(c->has_mss && c->has_ws && c->has_sack_perm && c->has_ts);
        CHECK_INT(c->eno_count, 1);
    }
}

/*
 * One connection with resumption on.  want_resumed: both ends resumed with
 * ss[want_i]; otherwise both fresh.  Data both ways intact, a clean end; a
 * resumed one has no Init message in either stream and its session ID
 * starts with TEP|v; each direction keeps the keys of the sender's role in
 * the original session (orig_a_client).
 */
static void resume_conn(struct params *p, bool want_resumed, uint64_t want_i, bool orig_a_client)
{
    unsigned failed = tc_checks_failed, n_tcp;
    uint8_t sa[TC_SESSID_LEN], sb[TC_SESSID_LEN];
    static const u8_t magic1[4] = {0x15, 0x10, 0x1a, 0x0e}, magic2[4] = {0x09, 0x71, 0x05, 0xe0};

    run(p);
    n_tcp = check_frames();
    check_syn_options(run_swapped);
    check_outcome(&client, true, 0);
    check_outcome(&server, true, 0);
    CHECK_INT(client.out.resumed, want_resumed);
    CHECK_INT(server.out.resumed, want_resumed);
    CHECK_INT(client.sess.resumed, want_resumed);
    CHECK_INT(server.sess.resumed, want_resumed);
    CHECK_INT(client.out.tep_byte, want_resumed ? 0xa3 : 0x23);
    CHECK(tc_sess_session_id(&client.sess, sa));
    CHECK(tc_sess_session_id(&server.sess, sb));
    CHECK_MEM(sa, sb, TC_SESSID_LEN);
    CHECK_INT(sa[0], want_resumed ? 0xa3 : 0x23);
    check_new_sid(sa);
    if (want_resumed) {
        CHECK_INT(client.sess.resume_i, want_i);
        CHECK_INT(server.sess.resume_i, want_i);
        /* Both ends were keyed from the same ss[i] (kept for a key log). */
        CHECK_MEM(client.sess.ss, server.sess.ss, TC_K_LEN);
        /* "No Init1/Init2": frames from the first byte of each stream. */
        CHECK_INT(client.init_len, 0);
        CHECK_INT(server.init_len, 0);
        CHECK(client.wrote_len >= 4 && memcmp(client.wrote, magic1, 4) != 0);
        CHECK(server.wrote_len >= 4 && memcmp(server.wrote, magic2, 4) != 0);
        CHECK_INT(client.sess.ch.send_ab, orig_a_client);
        CHECK_INT(server.sess.ch.send_ab, !orig_a_client);
    } else {
        CHECK(client.init_len > 0 && server.init_len > 0);
        CHECK_MEM(client.wrote, magic1, 4);
        CHECK_MEM(server.wrote, magic2, 4);
        CHECK_INT(client.sess.ch.send_ab, true); /* a fresh session: A = the client */
    }
    /* RFC 8547 §4.6 holds as for fresh sessions: 45 02 on every segment
     * until the peer's first non-SYN segment arrived, then none. */
    CHECK(check_eno_until_non_syn(run_swapped ? WIRE_B : WIRE_A) >= 1);
    check_eno_until_non_syn(run_swapped ? WIRE_A : WIRE_B);
    check_data();
    CHECK_INT(marker_frames(-1), 0);
    check_clean_end(true);
    print_eno("SYN    ", conn_first(true, run_swapped, TCP_SYN));
    print_eno("SYN-ACK", conn_first(false, run_swapped, TCP_SYN | TCP_ACK));
    summary(p->name, failed, n_tcp);
}

static struct params resume_params(const char *name, u16_t port)
{
    return (struct params){name, false, port, {0}, {0}, 30 * KB, 20 * KB, MUT_NONE, 0};
}

/* The ENO option of the first SYN (SYN-ACK) as captured, into buf. */
static size_t eno_of(bool from_client, bool swap, u8_t flags, u8_t *buf)
{
    const struct wire_capture *c = conn_first(from_client, swap, flags);

    if (c == NULL) {
        return 0;
    }
    memcpy(buf, c->eno, c->eno_len);
    return c->eno_len;
}

static void scenario_resumption(void)
{
    u8_t syn[TC_TCP_MAX_OPTION_BYTES], synack[TC_TCP_MAX_OPTION_BYTES];
    u8_t old_syn[TC_TCP_MAX_OPTION_BYTES];
    size_t syn_len, synack_len, old_len;
    struct params p;
    char name[80];
    uint64_t i = 0;

    CHECK_INT(tc_resume_cache_init(&cache_a, 16, 3600 * 1000), TC_OK);
    CHECK_INT(tc_resume_cache_init(&cache_b, 16, 3600 * 1000), TC_OK);
    resumption_on(8);

    /* A fresh exchange first; both hosts cache ss[1] under the other. */
    p = resume_params("resumption: the first connection is fresh", 6100);
    resume_conn(&p, false, 0, true);
    CHECK(first_eno_is(WIRE_A, TCP_SYN, eno_syn_a, sizeof(eno_syn_a)));
    CHECK_INT(tc_resume_count(&cache_a, wire_now_ms), 1);
    CHECK_INT(tc_resume_count(&cache_b, wire_now_ms), 1);

    /* Then resumed, i = 1, 2, 3, 4.  Option space: lwIP's SYN options take
     * 24 bytes (MSS, window scale, SACK-permitted, timestamps), leaving 16
     * for ENO; with an 8-byte nonce wanted, the fresh X448 offer gives way
     * and the nonce shrinks to 4 bytes in the SYN (45 10 a3 half nonce) and
     * 3 in the SYN-ACK (45 10 01 a3 half nonce). */
    for (unsigned k = 1; k <= 4; k++) {
        snprintf(name, sizeof(name), "resumption: reconnect %u", k);
        p = resume_params(name, (u16_t)(6100 + k));
        resume_conn(&p, true, ++i, true);
        syn_len = eno_of(true, false, TCP_SYN, syn);
        synack_len = eno_of(false, false, TCP_SYN | TCP_ACK, synack);
        CHECK_INT(syn_len, 16);
        CHECK(syn_len == 16 && syn[1] == 16 && syn[2] == 0xa3);
        CHECK_INT(synack_len, 16);
        CHECK(synack_len == 16 && synack[2] == 0x01 && synack[3] == 0xa3);
    }
    CHECK_INT(tc_resume_count(&cache_a, wire_now_ms), 1);
    CHECK_INT(tc_resume_count(&cache_b, wire_now_ms), 1);
    memcpy(old_syn, syn, syn_len);
    old_len = syn_len;

    /* A 3-byte nonce leaves room for the fresh X448 offer beside it. */
    resumption_on(3);
    p = resume_params("resumption: 3-byte nonce, X448 offered too", 6110);
    resume_conn(&p, true, ++i, true);
    syn_len = eno_of(true, false, TCP_SYN, syn);
    CHECK(syn_len == 16 && syn[2] == 0x24 && syn[3] == 0xa3);
    resumption_on(8);

    /* Role swap: B connects to A and resumes the same chain; each host
     * still encrypts with the keys of its original role (the client, B
     * now, was B: k_ba). */
    for (unsigned k = 0; k < 2; k++) {
        snprintf(name, sizeof(name), "resumption: role swap %u", k + 1);
        p = resume_params(name, (u16_t)(6120 + k));
        run_swapped = true;
        resume_conn(&p, true, ++i, false);
        run_swapped = false;
    }
    p = resume_params("resumption: back to the first roles", 6125);
    resume_conn(&p, true, ++i, true);

    /* A replayed SYN: an old resumption suboption in place of A's.  B no
     * longer holds that secret (taken when first used), so it answers with
     * a fresh offer; the two ends' transcripts differ, so do their keys,
     * and the first frame fails: never the keys of an earlier connection. */
    {
        unsigned failed = tc_checks_failed, n_tcp;
        uint8_t sa[TC_SESSID_LEN], sb[TC_SESSID_LEN];

        p = resume_params("resumption: replayed SYN", 6130);
        p.mutation = MUT_REPLAY_SYN;
        memcpy(replay_syn, old_syn, old_len);
        replay_syn_len = old_len;
        run(&p);
        n_tcp = check_frames();
        CHECK_INT(mut.count, 1);
        CHECK(first_eno_is(WIRE_B, TCP_SYN | TCP_ACK, eno_syn_b, sizeof(eno_syn_b)));
        CHECK(server.out.encrypted && !server.out.resumed);
        CHECK(client.out.encrypted && !client.out.resumed);
        CHECK(ep_failed(&client) || ep_failed(&server));
        CHECK(server.sess_err == TC_E_AUTH || client.sess_err == TC_E_AUTH);
        if (tc_sess_session_id(&server.sess, sb)) {
            check_new_sid(sb);
        }
        if (tc_sess_session_id(&client.sess, sa)) {
            check_new_sid(sa);
        }
        summary(p.name, failed, n_tcp);
    }

    /* B's cache flushed (as after a restart): A's offer names nothing B
     * knows, B answers fresh, data intact; the next connection resumes
     * the new chain from i = 1. */
    CHECK(tc_resume_flush_all(&cache_b) >= 1);
    p = resume_params("resumption: server cache flushed -> fresh", 6140);
    resume_conn(&p, false, 0, true);
    CHECK(conn_first(true, false, TCP_SYN) != NULL &&
          conn_first(true, false, TCP_SYN)->eno[2] == 0xa3); /* A still offered */
    CHECK(first_eno_is(WIRE_B, TCP_SYN | TCP_ACK, eno_syn_b, sizeof(eno_syn_b)));
    p = resume_params("resumption: after the flush, resumed again", 6141);
    resume_conn(&p, true, 1, true);

    /* A mismatched half in B's answer "MUST be ignored" (§3.5): it was the
     * only suboption, so A disables TCP-ENO, and B, with no ENO in A's
     * third segment, falls back too: plain TCP, data intact. */
    {
        unsigned failed = tc_checks_failed, n_tcp;

        p = resume_params("resumption: SYN-ACK half altered", 6150);
        p.mutation = MUT_SYNACK_HALF;
        run(&p);
        n_tcp = check_frames();
        CHECK_INT(mut.count, 1);
        check_outcome(&client, false, TC_E_ENO_NO_TEP);
        check_outcome(&server, false, TC_E_ENO_ABSENT);
        check_no_eno_after_syn(WIRE_A);
        check_data();
        check_clean_end(false);
        summary(p.name, failed, n_tcp);
    }
    /* Both ends spent ss[2] on that attempt, whatever became of it: the
     * next connection resumes with ss[3], never ss[2] again. */
    p = resume_params("resumption: after the altered half, the next secret", 6151);
    resume_conn(&p, true, 3, true);

    /* nocache on the client: no offer (45 04 24 23), a fresh exchange, and
     * nothing of it enters A's cache (B caches its own side). */
    {
        size_t ca = tc_resume_count(&cache_a, wire_now_ms);
        size_t cb = tc_resume_count(&cache_b, wire_now_ms);

        p = resume_params("resumption: client nocache", 6160);
        p.opts_a.nocache = true;
        resume_conn(&p, false, 0, true);
        CHECK(first_eno_is(WIRE_A, TCP_SYN, eno_syn_a, sizeof(eno_syn_a)));
        CHECK_INT(tc_resume_count(&cache_a, wire_now_ms), ca);
        CHECK_INT(tc_resume_count(&cache_b, wire_now_ms), cb + 1);
    }
    /* nocache on the listener: A offers, B does not accept, B caches
     * nothing. */
    {
        size_t cb = tc_resume_count(&cache_b, wire_now_ms);

        p = resume_params("resumption: listener nocache", 6161);
        p.opts_b.nocache = true;
        resume_conn(&p, false, 0, true);
        CHECK(conn_first(true, false, TCP_SYN) != NULL &&
              conn_first(true, false, TCP_SYN)->eno[2] == 0xa3);
        CHECK(first_eno_is(WIRE_B, TCP_SYN | TCP_ACK, eno_syn_b, sizeof(eno_syn_b)));
        CHECK_INT(tc_resume_count(&cache_b, wire_now_ms), cb);
    }

    /* IPv6: the peer is named by its IPv6 address, a chain of its own. */
    p = resume_params("resumption: ipv6, fresh", 6165);
    p.ipv6 = true;
    resume_conn(&p, false, 0, true);
    p = resume_params("resumption: ipv6, resumed", 6166);
    p.ipv6 = true;
    resume_conn(&p, true, 1, true);

    /* Resumption off daemon-wide: no offer at all, nothing cached. */
    tc_eno_lwip_set_resume(NULL);
    {
        size_t ca = tc_resume_count(&cache_a, wire_now_ms);

        p = resume_params("resumption: off", 6170);
        resume_conn(&p, false, 0, true);
        CHECK(first_eno_is(WIRE_A, TCP_SYN, eno_syn_a, sizeof(eno_syn_a)));
        CHECK_INT(tc_resume_count(&cache_a, wire_now_ms), ca);
    }
    tc_resume_cache_destroy(&cache_a);
    tc_resume_cache_destroy(&cache_b);
}

int main(void)
{
    static const struct tc_eno_config cfg = {.teps = {0x24, 0x23}, .nteps = 2, .rst_ignored = NULL};

    wire_setup();
    tc_eno_lwip_init(&cfg);

    scenario_encrypted("ipv4, both ENO", false, 6001, 200 * KB);
    scenario_drop();
    scenario_zero_window();
    fallbacks();
    scenario_stripped_ack();
    scenario_aa_encrypted();
    scenario_flip();
    scenario_encrypted("ipv6, both ENO", true, 6050, 50 * KB);
    scenario_resumption();

    ep_free(&client);
    ep_free(&server);
    return tc_check_exit(NAME);
}
