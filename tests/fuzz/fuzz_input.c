/*
 * The daemon's TCP input path fed raw Ethernet frames: the netif of
 * tcpcryptd (stack/netif.c) over a fake link, lwIP with our TCP-ENO hooks
 * (stack/eno_lwip.c) and the tcpcrypt session engine (stack/session.c),
 * which a small relay here drives as stack/relay.c does (Init messages
 * first, then frames; only opened frames reach the application side).
 *
 * The host is 10.0.0.2 / fd00::2 with a listener on port 80 (ENO on) and,
 * at the start of each input, an active connection from port 5000 to
 * 10.0.0.1:4000 whose SYN is waiting for an answer.  Frames it sends are
 * discarded.  Time is virtual and randomness seeded per input, so an input
 * replays exactly.
 *
 * Input: records of [ctl][length, 2 bytes big-endian][frame].  ctl:
 *   bits 0-2  advance the clock (0, 10 ms ... 10 s) before the frame
 *   0x08      set the TCP sequence number to what the matching pcb expects
 *   0x10      set the TCP acknowledgment to what it sent last (snd_nxt)
 *   0x20      recompute the IPv4 header and TCP checksums
 *   0x40      afterwards every open connection's application writes
 *   0x80      afterwards every open connection's application closes
 * The first byte of the input chooses the listener's and the active
 * connection's TCP-ENO options.
 *
 * Invariants: a connection that negotiated encryption delivers only the
 * plaintext of frames that opened; its outcome names a TEP we offered; and
 * once every connection is gone, lwIP's pools and heap are back where they
 * were (no pcb, segment, buffer or byte leaked by any path).
 */
#include <arpa/inet.h>
#include <string.h>

#include "crypto/frame.h"
#include "crypto/resume.h"
#include "crypto/wire.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "stack/eno_lwip.h"
#include "stack/link.h"
#include "stack/netif.h"
#include "stack/session.h"
#include "tc_lwip_hooks.h"
#include "tests/fuzz/fuzz.h"

#define FRAME_MAX 1600
#define CONNS_MAX 32
#define LISTEN_PORT 80
#define ACTIVE_PORT 5000
#define PEER_PORT 4000

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t our_teps[] = {TC_TEP_P256, TC_TEP_X448, TC_TEP_X25519};

/* ------------------------------------------------------------ time, randomness */

static u32_t now_ms = 1000;
static uint64_t rand_state, sess_rand_state;

static u32_t fake_clock(void)
{
    return now_ms;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t fake_rand(void)
{
    return (uint32_t)splitmix(&rand_state);
}

static int fake_fill(void *ctx, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)splitmix(ctx);
    }
    return TC_OK;
}

static const struct tc_rng sess_rng = {fake_fill, &sess_rand_state};

/* FUZZ_INPUT_TRACE=1: one line per event on stderr (to check that seeds
 * reach what they are meant to). */
static bool trace;
#define TRACE(...)                                       \
    do {                                                 \
        if (trace) {                                     \
            fprintf(stderr, "fuzz_input: " __VA_ARGS__); \
        }                                                \
    } while (0)

/* What tcpcryptd's loop does after its events each round: timers, frames
 * lwIP sent to its own addresses, the link's queue. */
static void release_time_wait(void);

static void loop_round(void)
{
    release_time_wait();
    sys_check_timeouts();
    for (int i = 0; i < 16 && tc_netif_poll(); i++) {
    }
    (void)tc_netif_flush();
}

static void advance(u32_t ms)
{
    u32_t end = now_ms + ms;

    do {
        now_ms = now_ms + 50 < end ? now_ms + 50 : end;
        loop_round();
    } while (now_ms != end);
}

/* ------------------------------------------------------------ the fake link */

static uint8_t rx_buf[FRAME_MAX];
static size_t rx_len;
static bool rx_ready;

static int fl_rx(struct tc_link *l, struct tc_link_frame *f, unsigned max)
{
    (void)l;
    if (!rx_ready || max == 0) {
        return 0;
    }
    rx_ready = false;
    memset(&f[0], 0, sizeof(f[0]));
    f[0].data = rx_buf;
    f[0].len = (uint16_t)rx_len;
    return 1;
}

static void fl_release(struct tc_link *l, void *handle)
{
    (void)l;
    (void)handle;
}

static int fl_tx(struct tc_link *l, const struct iovec *iov, int iovcnt)
{
    size_t n = 0;

    (void)l;
    for (int i = 0; i < iovcnt; i++) {
        n += iov[i].iov_len;
    }
    FUZZ_ASSERT(n >= 14 && n <= 65535 + 18);
    return 0; /* sent into the void */
}

static bool fl_flush(struct tc_link *l)
{
    (void)l;
    return false;
}

static bool fl_mac(const struct tc_link *l, uint8_t mac[6])
{
    (void)l;
    memcpy(mac, our_mac, 6);
    return true;
}

static void fl_status(const struct tc_link *l, char *buf, size_t len)
{
    (void)l;
    snprintf(buf, len, "fuzz");
}

static void fl_close(struct tc_link *l)
{
    (void)l;
}

static const struct tc_link_ops fake_ops = {
    "fuzz", fl_rx, fl_release, fl_tx, fl_flush, fl_mac, fl_status, fl_close,
};
static struct tc_link fake_link = {.ops = &fake_ops, .name = "fuzz0", .fd = -1, .mtu = 1500};

/* ------------------------------------------------------------ the relay */

struct conn {
    bool used, started, encrypted, closed;
    struct tcp_pcb *pcb;
    struct tc_sess sess;
    struct tc_eno_outcome out;
    size_t delivered; /* plaintext handed to the application side */
};

static struct conn conns[CONNS_MAX];
static struct tc_resume_cache cache;
static struct tcp_pcb *listener;

static void conn_free(struct conn *c)
{
    tc_sess_wipe(&c->sess); /* on every path, started or not */
    memset(c, 0, sizeof(*c));
}

static err_t conn_abort(struct conn *c)
{
    struct tcp_pcb *pcb = c->pcb;

    tcp_arg(pcb, NULL);
    conn_free(c);
    tcp_abort(pcb);
    return ERR_ABRT;
}

/* Hand the session's pending Init bytes to TCP. */
static void push_init(struct conn *c)
{
    const uint8_t *p;
    size_t n = tc_sess_pending(&c->sess, &p);

    while (n > 0) {
        u16_t room = tcp_sndbuf(c->pcb), k = (u16_t)(n < room ? n : room);

        if (k == 0 || tcp_write(c->pcb, p, k, TCP_WRITE_FLAG_COPY) != ERR_OK) {
            return;
        }
        tc_sess_sent(&c->sess, k);
        n = tc_sess_pending(&c->sess, &p);
    }
}

/* The application writes len bytes (0 with fin: just the FINp frame). */
static void app_write(struct conn *c, size_t len, bool fin)
{
    static const uint8_t data[200] = {'x'};
    uint8_t frame[sizeof(data) + TC_FRAME_OVERHEAD];
    size_t flen;

    if (c->encrypted) {
        if (!tc_sess_can_seal(&c->sess) || tc_sess_seal(&c->sess, fin ? TC_FLAG_FINP : 0, data, len,
                                                        frame, sizeof(frame), &flen) != TC_OK) {
            return;
        }
        if (tcp_sndbuf(c->pcb) >= flen) {
            (void)tcp_write(c->pcb, frame, (u16_t)flen, TCP_WRITE_FLAG_COPY);
        }
    } else if (len > 0 && tcp_sndbuf(c->pcb) >= len) {
        (void)tcp_write(c->pcb, data, (u16_t)len, TCP_WRITE_FLAG_COPY);
    }
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct conn *c = arg;
    size_t total = 0;

    if (c == NULL) {
        if (p != NULL) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    FUZZ_ASSERT(err == ERR_OK && c->pcb == pcb && c->started);
    if (p == NULL) {
        if (c->encrypted && tc_sess_peer_fin(&c->sess) != TC_OK) {
            return conn_abort(c); /* FIN without FINp: abort, not EOF (§3.7) */
        }
        return ERR_OK;
    }
    for (struct pbuf *q = p; q != NULL; q = q->next) {
        const uint8_t *in = q->payload;
        size_t off = 0;

        total += q->len;
        if (!c->encrypted) {
            c->delivered += q->len;
            continue;
        }
        while (off < q->len) {
            struct tc_plain pl;
            size_t used = 0;
            int rc = tc_sess_input(&c->sess, in + off, q->len - off, &used, &pl);

            FUZZ_ASSERT(used <= q->len - off);
            off += used;
            if (rc == TC_WANT_MORE) {
                FUZZ_ASSERT(off == q->len);
                break;
            }
            if (rc != TC_OK) {
                FUZZ_ASSERT(tc_err_aborts(rc));
                TRACE("port %u: session error %d, abort\n", pcb->local_port, rc);
                pbuf_free(p);
                return conn_abort(c);
            }
            /* Only an opened frame gives plaintext, and only once the
             * session is open. */
            FUZZ_ASSERT(c->sess.state == TC_SESS_OPEN && used > 0);
            c->delivered += pl.len;
        }
        TRACE("port %u: %u bytes in, session state %d\n", pcb->local_port, q->len,
              (int)c->sess.state);
        push_init(c);
    }
    pbuf_free(p);
    tcp_recved(pcb, (u16_t)(total < 0xffff ? total : 0xffff));
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct conn *c = arg;

    (void)err;
    if (c != NULL) {
        conn_free(c); /* the pcb is already gone */
    }
}

static struct conn *conn_new(struct tcp_pcb *pcb)
{
    for (size_t i = 0; i < CONNS_MAX; i++) {
        if (!conns[i].used) {
            conns[i].used = true;
            conns[i].pcb = pcb;
            tcp_arg(pcb, &conns[i]);
            tcp_recv(pcb, on_recv);
            tcp_err(pcb, on_err);
            return &conns[i];
        }
    }
    return NULL;
}

/* TCP is up: as tcpcryptd, start the session ENO agreed on, if any. */
static bool conn_start(struct conn *c)
{
    struct tc_sess_config cfg = {
        .rng = &sess_rng,
        .aeads = {TC_AEAD_AES_128_GCM, TC_AEAD_CHACHA20_POLY1305},
        .naeads = 2,
        .now_ms = now_ms,
    };
    int rc = TC_OK;

    tc_eno_lwip_outcome(c->pcb, &c->out);
    c->started = true;
    c->encrypted = c->out.encrypted;
    TRACE("port %u: established, %s (reason %d, tep 0x%02x)\n", c->pcb->local_port,
          c->encrypted ? "encrypted" : "plain", c->out.reason, c->out.tep_byte);
    if (!c->encrypted) {
        return true;
    }
    /* The TEP is one this host offered; the transcript is two options. */
    FUZZ_ASSERT(memchr(our_teps, c->out.tep_byte & 0x7f, sizeof(our_teps)) != NULL);
    FUZZ_ASSERT(c->out.transcript_len >= 4 && c->out.transcript_len <= TC_ENO_TRANSCRIPT_MAX);
    FUZZ_ASSERT(!c->out.resumed || (c->out.tep_byte & TC_TEP_V_BIT));
    cfg.resume = c->out.resume;
    memcpy(cfg.peer, c->out.peer, c->out.peer_len);
    cfg.peer_len = c->out.peer_len;
    if (c->out.resumed) {
        struct tc_resume_ticket t;

        FUZZ_ASSERT(tc_eno_lwip_take_ticket(c->pcb, &t) == TC_OK);
        rc = tc_sess_start_resumed(&c->sess, c->out.is_b, c->out.tep_byte, &t, &cfg);
    } else {
        rc = tc_sess_start(&c->sess, c->out.is_b, c->out.tep_byte, c->out.transcript,
                           c->out.transcript_len, &cfg);
    }
    if (rc != TC_OK) {
        return false;
    }
    push_init(c);
    return true;
}

/* lwIP frees TIME-WAIT pcbs without a callback: let go of them first, as
 * tcpcryptd does once both directions are finished. */
static void release_time_wait(void)
{
    for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb != NULL; pcb = pcb->next) {
        struct conn *c = pcb->callback_arg;

        if (c != NULL) {
            tcp_arg(pcb, NULL);
            conn_free(c);
        }
    }
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct conn *c;

    (void)arg;
    if (err != ERR_OK || pcb == NULL) {
        return ERR_VAL;
    }
    c = conn_new(pcb);
    if (c == NULL) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    if (!conn_start(c)) {
        return conn_abort(c);
    }
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct conn *c = arg;

    FUZZ_ASSERT(c != NULL && c->pcb == pcb && err == ERR_OK);
    if (!conn_start(c)) {
        return conn_abort(c);
    }
    return ERR_OK;
}

/* ------------------------------------------------------------ frames */

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        acc += be16(p + i);
    }
    if (n & 1) {
        acc += (uint32_t)p[n - 1] << 8;
    }
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16) {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    return (uint16_t)acc;
}

/* Make a frame's TCP segment fit the pcb it is for, as ctl asks. */
static void patch(uint8_t *f, size_t len, uint8_t ctl)
{
    uint8_t *ip = f + 14, *tcp;
    size_t tcp_len;
    uint32_t pseudo;
    bool v6;

    if (len < 14 + 40) {
        return;
    }
    if (be16(f + 12) == 0x0800) {
        size_t ihl = (size_t)(ip[0] & 0x0f) * 4, tot = be16(ip + 2);

        if (ihl < 20 || tot < ihl + 20 || 14 + tot > len || ip[9] != 6) {
            return;
        }
        v6 = false;
        tcp = ip + ihl;
        tcp_len = tot - ihl;
        pseudo = sum16(0, ip + 12, 8) + 6 + (uint32_t)tcp_len;
        if (ctl & 0x20) {
            put16(ip + 10, 0);
            put16(ip + 10, (uint16_t)~fold(sum16(0, ip, ihl)));
        }
    } else if (be16(f + 12) == 0x86dd && len >= 14 + 60) {
        tcp_len = be16(ip + 4);
        if (ip[6] != 6 || tcp_len < 20 || 14 + 40 + tcp_len > len) {
            return;
        }
        v6 = true;
        tcp = ip + 40;
        pseudo = sum16(0, ip + 8, 32) + 6 + (uint32_t)tcp_len;
    } else {
        return;
    }
    if (ctl & 0x18) {
        for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next) {
            if (p->local_port == be16(tcp + 2) && p->remote_port == be16(tcp) &&
                IP_IS_V6_VAL(p->local_ip) == v6) {
                if (ctl & 0x08) {
                    put32(tcp + 4, p->rcv_nxt);
                }
                if (ctl & 0x10) {
                    put32(tcp + 8, p->snd_nxt);
                }
                break;
            }
        }
    }
    if (ctl & 0x20) {
        put16(tcp + 16, 0);
        put16(tcp + 16, (uint16_t)~fold(sum16(pseudo, tcp, tcp_len)));
    }
}

/* ------------------------------------------------------------ set-up and checks */

static struct netif *nif;
static size_t base_heap;

static void static_arp(void)
{
    ip4_addr_t peer;
    struct eth_addr mac;

    IP4_ADDR(&peer, 10, 0, 0, 1);
    memcpy(mac.addr, peer_mac, 6);
    FUZZ_ASSERT(etharp_add_static_entry(&peer, &mac) == ERR_OK);
}

static void setup(void)
{
    static const struct tc_eno_config cfg = {
        .teps = {TC_TEP_P256, TC_TEP_X448, TC_TEP_X25519}, .nteps = 3, .rst_ignored = NULL};
    struct tc_netif_config nc;
    char err[128];
    struct tcp_pcb *pcb;

    trace = getenv("FUZZ_INPUT_TRACE") != NULL;
    tc_lwip_set_clock(fake_clock);
    tc_lwip_set_rand(fake_rand);
    lwip_init();
    memset(&nc, 0, sizeof(nc));
    nc.addrs[0].family = AF_INET;
    nc.addrs[0].a.v4.s_addr = htonl(0x0a000002);
    nc.addrs[0].len = 24;
    nc.addrs[1].family = AF_INET6;
    FUZZ_ASSERT(inet_pton(AF_INET6, "fd00::2", &nc.addrs[1].a.v6) == 1);
    nc.addrs[1].len = 64;
    nc.naddrs = 2;
    FUZZ_ASSERT(tc_netif_start(&fake_link, &nc, err, sizeof(err)) == 0);
    nif = netif_default;
    tc_eno_lwip_init(&cfg);
    /* Duplicate address detection finds no one: addresses become valid. */
    advance(5000);
    static_arp();

    pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
    FUZZ_ASSERT(pcb != NULL && tcp_bind(pcb, IP_ANY_TYPE, LISTEN_PORT) == ERR_OK);
    listener = tcp_listen_with_backlog(pcb, 8);
    FUZZ_ASSERT(listener != NULL);
    FUZZ_ASSERT(tc_eno_lwip_attach(listener, &(struct tc_eno_opts){0}) == TC_OK);
    tcp_accept(listener, on_accept);
    base_heap = lwip_stats.mem.used;
}

static uint64_t resume_now(void *ctx)
{
    (void)ctx;
    return now_ms;
}

static struct tc_resume_cache *resume_cache(void *ctx, const struct tcp_pcb *pcb)
{
    (void)ctx;
    (void)pcb;
    return &cache;
}

static void options_from(uint8_t b, struct tc_eno_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->app_aware = b & 0x01;
    o->aa_mandatory = b & 0x02;
    o->securst = b & 0x04;
    o->nocache = b & 0x08;
    o->role_b = b & 0x10;
    o->disable = (b & 0x60) == 0x60;
}

static void abort_all(void)
{
    while (tcp_active_pcbs != NULL) {
        struct conn *c = tcp_active_pcbs->callback_arg;

        tcp_arg(tcp_active_pcbs, NULL);
        if (c != NULL) {
            conn_free(c);
        }
        tcp_abort(tcp_active_pcbs);
    }
    release_time_wait();
    while (tcp_tw_pcbs != NULL) {
        tcp_abort(tcp_tw_pcbs);
    }
}

static void dump_memory(const char *why)
{
    fprintf(
        stderr,
        "fuzz_input: %s: heap %zu (start %zu); used: TCP_PCB %u TCP_SEG %u PBUF_POOL %u "
        "PBUF %u REASSDATA %u IP6_REASSDATA %u ARP_QUEUE %u ND6_QUEUE %u; loopback queue %s\n",
        why, (size_t)lwip_stats.mem.used, base_heap, (unsigned)lwip_stats.memp[MEMP_TCP_PCB]->used,
        (unsigned)lwip_stats.memp[MEMP_TCP_SEG]->used,
        (unsigned)lwip_stats.memp[MEMP_PBUF_POOL]->used, (unsigned)lwip_stats.memp[MEMP_PBUF]->used,
        (unsigned)lwip_stats.memp[MEMP_REASSDATA]->used,
        (unsigned)lwip_stats.memp[MEMP_IP6_REASSDATA]->used,
        (unsigned)lwip_stats.memp[MEMP_ARP_QUEUE]->used,
        (unsigned)lwip_stats.memp[MEMP_ND6_QUEUE]->used,
        nif->loop_first != NULL ? "busy" : "empty");
}

static bool memory_back(void)
{
    return lwip_stats.memp[MEMP_TCP_PCB]->used == 0 && lwip_stats.memp[MEMP_TCP_SEG]->used == 0 &&
           lwip_stats.memp[MEMP_PBUF_POOL]->used == 0 && lwip_stats.memp[MEMP_PBUF]->used == 0 &&
           lwip_stats.memp[MEMP_REASSDATA]->used == 0 &&
           lwip_stats.memp[MEMP_IP6_REASSDATA]->used == 0 && lwip_stats.mem.used == base_heap;
}

/* Everything gone: nothing may be left in lwIP's pools or heap. */
static void teardown(void)
{
    abort_all();
    for (size_t i = 0; i < CONNS_MAX; i++) {
        FUZZ_ASSERT(!conns[i].used);
    }
    /* Reassembly, ARP and neighbour queues time out; frames lwIP sent to
     * itself are delivered (and what they opened is aborted in turn). */
    for (int round = 0; round < 3; round++) {
        advance(round == 0 ? 70000 : 1000);
        abort_all();
    }
    etharp_cleanup_netif(nif);
    nd6_cleanup_netif(nif);
    static_arp();
    if (trace || !memory_back()) {
        dump_memory("after teardown");
    }
    FUZZ_ASSERT(memory_back());
    tc_resume_cache_destroy(&cache);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    struct tc_eno_opts opts;
    struct tcp_pcb *pcb;
    struct conn *c;
    ip_addr_t peer;
    size_t pos = 1;

    if (!ready) {
        setup();
        ready = true;
    }
    if (size < 1) {
        return 0;
    }
    rand_state = 1;
    sess_rand_state = 2;
    FUZZ_ASSERT(tc_resume_cache_init(&cache, 8, 60000) == TC_OK);
    tc_eno_lwip_set_resume(&(struct tc_eno_resume){
        .cache = resume_cache, .now_ms = resume_now, .rng = &sess_rng, .nonce_len = 8});
    options_from(data[0], &opts);
    tc_eno_lwip_set_opts(listener, &opts);

    /* The active connection, its SYN sent. */
    options_from((uint8_t)(data[0] >> 1), &opts);
    pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    FUZZ_ASSERT(pcb != NULL);
    IP_ADDR4(&peer, 10, 0, 0, 1);
    c = conn_new(pcb);
    FUZZ_ASSERT(c != NULL);
    if (tc_eno_lwip_attach(pcb, &opts) != TC_OK ||
        tcp_bind(pcb, IP_ANY_TYPE, ACTIVE_PORT) != ERR_OK ||
        tcp_connect(pcb, &peer, PEER_PORT, on_connected) != ERR_OK) {
        (void)conn_abort(c);
    }
    loop_round();

    while (pos + 3 <= size) {
        static const u32_t steps[8] = {0, 10, 100, 250, 500, 1000, 3000, 10000};
        uint8_t ctl = data[pos];
        size_t len = be16(data + pos + 1);

        pos += 3;
        if (len > size - pos) {
            len = size - pos;
        }
        if (len > sizeof(rx_buf)) {
            len = sizeof(rx_buf);
        }
        advance(steps[ctl & 7]);
        memcpy(rx_buf, data + pos, len);
        pos += len;
        patch(rx_buf, len, ctl);
        rx_len = len;
        rx_ready = true;
        (void)tc_netif_rx();
        release_time_wait();
        for (size_t i = 0; i < CONNS_MAX; i++) {
            c = &conns[i];
            if (!c->used || !c->started || c->closed) {
                continue;
            }
            if (ctl & 0x40) {
                app_write(c, 100 + (ctl & 0x38), false);
            }
            if (ctl & 0x80) {
                app_write(c, 0, true);
                c->closed = true;
                (void)tcp_shutdown(c->pcb, 0, 1);
            }
            if (c->used && c->pcb != NULL) {
                (void)tcp_output(c->pcb);
            }
        }
        loop_round();
    }
    advance(1000);
    teardown();
    return 0;
}
