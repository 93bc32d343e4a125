/*
 * Smoke test: lwIP built with our lwipopts.h runs real TCP, and our hooks fire.
 *
 * The wire of tests/lwip_wire.h: one lwIP instance with two Ethernet netifs on
 * the same subnet, A (10.0.0.1, fd00::1) and B (10.0.0.2, fd00::2), frames
 * delivered by hand over a FIFO, a virtual clock. The client pcb
 * is bound to A and the listener to B (tcp_bind_netif), so every segment really
 * crosses the wire: ARP or neighbour discovery, the three-way handshake, data
 * both ways, a lost segment with SACK and retransmission, FIN/ACK and
 * TIME_WAIT, with both the active and the passive side of lwIP exercised.
 * (Acting as the peer by hand-crafting frames would test only one side.)
 *
 * The test hook table adds a fixed TCP option 69 (not real TCP-ENO, which
 * comes later): 45 04 00 23 on a SYN, 45 04 01 23 on a SYN-ACK, 45 02 on other
 * segments until the pcb has received a non-SYN segment; the inpacket hook
 * records the option 69 of every received segment. Each frame on the wire is
 * parsed and its checksums are verified by the wire, independently of lwIP.
 */
#include "tests/check.h"

#include <stdbool.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "tc_lwip_hooks.h"
#include "tests/lwip_wire.h"

#define ENO_KIND WIRE_ENO_KIND

/* ------------------------------------------------------------ losing a frame */

/* Drop the n-th data-carrying TCP frame from A (0 = drop nothing), once. */
static unsigned drop_nth_data_from_a;
static unsigned data_frames_from_a;
static u32_t dropped_seq;
static bool dropped_one;

static enum wire_verdict drop_nth_data(void *ctx, struct wire_frame *f,
                                       const struct wire_capture *c)
{
    (void)ctx;
    (void)f;
    if (c->from == WIRE_A && c->is_tcp && c->payload_len > 0) {
        data_frames_from_a++;
        if (!dropped_one && drop_nth_data_from_a != 0 &&
            data_frames_from_a == drop_nth_data_from_a) {
            dropped_one = true;
            dropped_seq = c->seq;
            return WIRE_DROP;
        }
    }
    return WIRE_PASS;
}

/* ------------------------------------------------------------ connections */

#define C2S_LEN 300000 /* more than TCP_WND: window updates and scaling */
#define S2C_LEN 100000
#define SEEN_MAX 16

struct seen {
    u8_t flags;
    u8_t eno_len;
    u8_t eno[TC_TCP_MAX_OPTION_BYTES];
};

struct conn {
    const char *name;
    struct tcp_pcb *pcb;
    /* ext-arg callbacks */
    int destroyed;
    int passive_opens;
    /* hooks */
    bool got_non_syn;
    struct seen seen[SEEN_MAX];
    unsigned n_seen;
    /* data */
    u8_t *tx;
    size_t tx_len, tx_off;
    u8_t *rx;
    size_t rx_len, rx_cap;
    bool established, peer_closed, closed;
    err_t err;
    bool got_err;
};

static u8_t ext_id;
static struct conn client, server, listener;
static int hook_calls; /* any call of a test hook */

static void ext_destroy(u8_t id, void *data)
{
    struct conn *c = data;

    CHECK_INT(id, ext_id);
    if (c != NULL) {
        c->destroyed++;
        c->pcb = NULL; /* lwIP frees it right after this returns */
    }
}

static err_t ext_passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb);

static const struct tcp_ext_arg_callbacks ext_callbacks = {
    .destroy = ext_destroy,
    .passive_open = ext_passive_open,
};

/* The listener's slot hands the accepted pcb its own state before lwIP sends
 * the SYN-ACK (so the option hooks already see it). */
static err_t ext_passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb)
{
    struct conn *l = tcp_ext_arg_get((struct tcp_pcb *)lpcb, id);

    CHECK(l == &listener);
    listener.passive_opens++;
    tcp_ext_arg_set_callbacks(cpcb, id, &ext_callbacks);
    tcp_ext_arg_set(cpcb, id, &server);
    server.pcb = cpcb;
    return ERR_OK;
}

static struct conn *conn_of(const struct tcp_pcb *pcb)
{
    return pcb == NULL ? NULL : tcp_ext_arg_get(pcb, ext_id);
}

/* ------------------------------------------------------------ test hooks */

static void copy_options(u8_t *dst, const struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
                         const u8_t *opt2)
{
    memcpy(dst, (const u8_t *)(hdr + 1), opt1len);
    if (optlen > opt1len) {
        memcpy(dst + opt1len, opt2, (size_t)(optlen - opt1len));
    }
}

static err_t test_inpacket(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, u16_t optlen,
                           u16_t opt1len, const u8_t *opt2, const struct pbuf *p)
{
    struct conn *c = conn_of(pcb);
    struct wire_capture opt = {0};
    u8_t flags = (u8_t)TCPH_FLAGS(hdr);

    (void)p;
    hook_calls++;
    CHECK(optlen <= TC_TCP_MAX_OPTION_BYTES && opt1len <= optlen);
    if (c == NULL || optlen > TC_TCP_MAX_OPTION_BYTES || opt1len > optlen) {
        return ERR_OK;
    }
    copy_options(opt.opts, hdr, optlen, opt1len, opt2);
    opt.optlen = (u8_t)optlen;
    CHECK(wire_parse_tcp_options(&opt));
    if (c->n_seen < SEEN_MAX) {
        struct seen *s = &c->seen[c->n_seen++];

        s->flags = flags;
        s->eno_len = opt.eno_len;
        memcpy(s->eno, opt.eno, opt.eno_len);
    }
    if (!(flags & TCP_SYN)) {
        c->got_non_syn = true;
    }
    return ERR_OK;
}

/*
 * The length may depend only on the pcb, never on the segment: lwIP asks again
 * at every retransmission of a queued segment whose header room is already
 * fixed, and the answer must match. So this fixed rule reserves 4 bytes on
 * every segment of a pcb (none for an RST without pcb) and add_opts pads. The
 * real TCP-ENO code must keep the same invariant per queued segment.
 */
static u8_t test_opt_length(const struct tcp_pcb *pcb, u8_t internal_len)
{
    hook_calls++;
    return (u8_t)(internal_len + (pcb != NULL ? 4 : 0));
}

static u8_t *test_add_opts(const struct pbuf *p, const struct tcp_hdr *hdr,
                           const struct tcp_pcb *pcb, u8_t *opts)
{
    static const u8_t syn[4] = {0x45, 0x04, 0x00, 0x23};
    static const u8_t synack[4] = {0x45, 0x04, 0x01, 0x23};
    static const u8_t plain[4] = {0x01, 0x01, 0x45, 0x02};
    static const u8_t nops[4] = {0x01, 0x01, 0x01, 0x01};
    u8_t flags = (u8_t)TCPH_FLAGS(hdr);
    const struct conn *c = conn_of(pcb);

    (void)p;
    hook_calls++;
    if (pcb == NULL) {
        return opts;
    }
    if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        memcpy(opts, syn, 4);
    } else if (flags & TCP_SYN) {
        memcpy(opts, synack, 4);
    } else if (c == NULL || !c->got_non_syn) {
        memcpy(opts, plain, 4);
    } else {
        memcpy(opts, nops, 4);
    }
    return opts + 4;
}

static const struct tc_lwip_hooks test_hooks = {
    .inpacket = test_inpacket,
    .opt_length = test_opt_length,
    .add_opts = test_add_opts,
};

/* ------------------------------------------------------------ TCP callbacks */

static void conn_push(struct conn *c)
{
    while (c->pcb != NULL && c->tx_off < c->tx_len) {
        size_t room = tcp_sndbuf(c->pcb), n = c->tx_len - c->tx_off;
        err_t e;

        if (n > 5000) {
            n = 5000; /* odd-sized writes: segment boundaries differ from writes */
        }
        if (room < n || tcp_sndqueuelen(c->pcb) + 8 >= TCP_SND_QUEUELEN) {
            break;
        }
        e = tcp_write(c->pcb, c->tx + c->tx_off, (u16_t)n, TCP_WRITE_FLAG_COPY);
        if (e == ERR_MEM) {
            break;
        }
        CHECK_INT(e, ERR_OK);
        if (e != ERR_OK) {
            break;
        }
        c->tx_off += n;
    }
    if (c->pcb != NULL) {
        CHECK_INT(tcp_output(c->pcb), ERR_OK);
    }
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    conn_push(arg);
    return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct conn *c = arg;

    CHECK_INT(err, ERR_OK);
    if (p == NULL) {
        c->peer_closed = true;
        if (!c->closed) {
            c->closed = true;
            CHECK_INT(tcp_close(pcb), ERR_OK);
        }
        return ERR_OK;
    }
    CHECK(c->rx_len + p->tot_len <= c->rx_cap);
    if (c->rx_len + p->tot_len <= c->rx_cap) {
        CHECK_INT(pbuf_copy_partial(p, c->rx + c->rx_len, p->tot_len, 0), p->tot_len);
        c->rx_len += p->tot_len;
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct conn *c = arg;

    fprintf(stderr, "test_lwip: %s: tcp error %d\n", c->name, (int)err);
    c->err = err;
    c->got_err = true;
}

static void conn_callbacks(struct conn *c)
{
    tcp_arg(c->pcb, c);
    tcp_recv(c->pcb, on_recv);
    tcp_sent(c->pcb, on_sent);
    tcp_err(c->pcb, on_err);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct conn *c = arg;

    CHECK_INT(err, ERR_OK);
    CHECK(pcb == c->pcb);
    c->established = true;
    conn_push(c);
    return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    CHECK(arg == &listener);
    CHECK_INT(err, ERR_OK);
    if (pcb == NULL || err != ERR_OK) {
        return ERR_VAL;
    }
    /* Set by passive_open, before the SYN-ACK. */
    CHECK(tcp_ext_arg_get(pcb, ext_id) == &server);
    CHECK(pcb == server.pcb);
    server.established = true;
    conn_callbacks(&server);
    conn_push(&server);
    return ERR_OK;
}

/* ------------------------------------------------------------ scenario */

static bool data_done(void)
{
    return client.rx_len == S2C_LEN && server.rx_len == C2S_LEN;
}

static bool server_gone(void)
{
    return server.destroyed > 0 && client.pcb != NULL && client.pcb->state == TIME_WAIT;
}

static bool client_gone(void)
{
    return client.destroyed > 0;
}

static void conn_reset(struct conn *c, const char *name, size_t tx_len, size_t rx_cap, u8_t seed)
{
    free(c->tx);
    free(c->rx);
    memset(c, 0, sizeof(*c));
    c->name = name;
    c->tx_len = tx_len;
    c->rx_cap = rx_cap;
    c->tx = tx_len ? malloc(tx_len) : NULL;
    c->rx = rx_cap ? malloc(rx_cap) : NULL;
    CHECK((tx_len == 0 || c->tx != NULL) && (rx_cap == 0 || c->rx != NULL));
    for (size_t i = 0; i < tx_len; i++) {
        c->tx[i] = (u8_t)((i * 131u + (i >> 8) + seed) & 0xff);
    }
}

static bool eno_is(const struct wire_capture *c, const u8_t *want, u8_t len)
{
    return c->eno_len == len && memcmp(c->eno, want, len) == 0;
}

static bool seen_is(const struct seen *s, const u8_t *want, u8_t len)
{
    return s->eno_len == len && memcmp(s->eno, want, len) == 0;
}

static void print_options(const char *what, const struct wire_capture *c)
{
    fprintf(stderr, "test_lwip:   %s options:", what);
    for (unsigned i = 0; i < c->optlen; i++) {
        fprintf(stderr, " %02x", c->opts[i]);
    }
    fputc('\n', stderr);
}

struct scenario {
    const char *name;
    bool ipv6;
    bool hooks;
    unsigned drop_nth; /* drop this data frame from A once (0: none) */
    u16_t port;
};

/* Results a later scenario compares against. */
static u8_t syn_optlen_with_hooks = 0xff, syn_optlen_without_hooks = 0xff;

static void run_scenario(const struct scenario *sc)
{
    static const u8_t eno_syn[4] = {0x45, 0x04, 0x00, 0x23};
    static const u8_t eno_synack[4] = {0x45, 0x04, 0x01, 0x23};
    static const u8_t eno_plain[2] = {0x45, 0x02};
    ip_addr_t addr_a, addr_b;
    struct tcp_pcb *pcb, *lpcb;
    unsigned tcp_idx[WIRE_CAPTURE_LEN], n_tcp = 0, first_b_data = 0;
    bool retransmitted = false, sack_seen = false, all_csum_ok = true, any_eno = false;
    unsigned failed_before = tc_checks_failed;

    fprintf(stderr, "test_lwip: scenario %s\n", sc->name);
    if (sc->ipv6) {
        CHECK(ipaddr_aton("fd00::1", &addr_a));
        CHECK(ipaddr_aton("fd00::2", &addr_b));
    } else {
        CHECK(ipaddr_aton("10.0.0.1", &addr_a));
        CHECK(ipaddr_aton("10.0.0.2", &addr_b));
    }
    conn_reset(&client, "client", C2S_LEN, S2C_LEN, 1);
    conn_reset(&server, "server", S2C_LEN, C2S_LEN, 2);
    conn_reset(&listener, "listener", 0, 0, 0);
    wire_reset();
    wire_set_mutator(drop_nth_data, NULL);
    hook_calls = 0;
    drop_nth_data_from_a = sc->drop_nth;
    data_frames_from_a = 0;
    dropped_one = false;
    tc_lwip_set_hooks(sc->hooks ? &test_hooks : NULL);

    /* Listener on B. Ext args go on the listening pcb, after tcp_listen(). */
    pcb = tcp_new_ip_type(sc->ipv6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4);
    CHECK(pcb != NULL);
    if (pcb == NULL) {
        return;
    }
    tcp_bind_netif(pcb, &wire_netif_b);
    CHECK_INT(tcp_bind(pcb, &addr_b, sc->port), ERR_OK);
    lpcb = tcp_listen_with_backlog(pcb, 4);
    CHECK(lpcb != NULL);
    if (lpcb == NULL) {
        return;
    }
    listener.pcb = lpcb;
    tcp_ext_arg_set_callbacks(lpcb, ext_id, &ext_callbacks);
    tcp_ext_arg_set(lpcb, ext_id, &listener);
    CHECK(tcp_ext_arg_get(lpcb, ext_id) == &listener);
    tcp_arg(lpcb, &listener);
    tcp_accept(lpcb, on_accept);

    /* Client on A. */
    client.pcb = tcp_new_ip_type(sc->ipv6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4);
    CHECK(client.pcb != NULL);
    if (client.pcb == NULL) {
        return;
    }
    tcp_bind_netif(client.pcb, &wire_netif_a);
    CHECK_INT(tcp_bind(client.pcb, &addr_a, 0), ERR_OK);
    tcp_ext_arg_set_callbacks(client.pcb, ext_id, &ext_callbacks);
    tcp_ext_arg_set(client.pcb, ext_id, &client);
    CHECK(tcp_ext_arg_get(client.pcb, ext_id) == &client);
    conn_callbacks(&client);
    CHECK_INT(tcp_connect(client.pcb, &addr_b, sc->port, on_connected), ERR_OK);

    CHECK(wire_run_until(data_done, 60000));
    CHECK(client.established && server.established);
    CHECK_INT(listener.passive_opens, 1);
    CHECK(!client.got_err && !server.got_err);
    CHECK_INT(client.rx_len, S2C_LEN);
    CHECK_INT(server.rx_len, C2S_LEN);
    if (client.rx_len == S2C_LEN && server.rx_len == C2S_LEN) {
        CHECK_MEM(server.rx, client.tx, C2S_LEN);
        CHECK_MEM(client.rx, server.tx, S2C_LEN);
    }
    if (client.pcb != NULL && server.pcb != NULL) {
        /* RFC 7323 window scaling negotiated both ways. */
        CHECK_INT(client.pcb->snd_scale, TCP_RCV_SCALE);
        CHECK_INT(server.pcb->snd_scale, TCP_RCV_SCALE);
        CHECK_INT(client.pcb->rcv_scale, TCP_RCV_SCALE);
    }

    if (client.pcb == NULL || server.pcb == NULL) {
        return; /* reset or aborted: reported above */
    }
    /* Orderly close: client FIN first; the server answers from on_recv. */
    client.closed = true;
    CHECK_INT(tcp_close(client.pcb), ERR_OK);
    CHECK(wire_run_until(server_gone, 60000));
    CHECK_INT(server.destroyed, 1); /* LAST_ACK -> CLOSED frees the pcb */
    CHECK_INT(client.destroyed, 0); /* TIME_WAIT holds it for 2 MSL */
    CHECK(wire_run_until(client_gone, 2 * TCP_MSL + 10000));
    CHECK_INT(client.destroyed, 1);
    CHECK(client.peer_closed && server.peer_closed);

    CHECK_INT(tcp_close(lpcb), ERR_OK);
    CHECK_INT(listener.destroyed, 1);
    CHECK(tcp_active_pcbs == NULL && tcp_tw_pcbs == NULL);
    CHECK(tcp_listen_pcbs.listen_pcbs == NULL && tcp_bound_pcbs == NULL);
    CHECK_INT(wire_capture_overflow, 0);

    /* ---- what went over the wire */
    for (unsigned i = 0; i < wire_n_captured; i++) {
        const struct wire_capture *c = &wire_captured[i];

        if (!c->is_tcp) {
            continue;
        }
        tcp_idx[n_tcp++] = i;
        all_csum_ok = all_csum_ok && c->csum_ok;
        CHECK(c->opts_ok);
        any_eno = any_eno || c->eno_len > 0;
        if (c->from == 1 && c->has_sack) {
            sack_seen = true;
        }
        if (c->from == 0 && dropped_one && !c->dropped && c->payload_len > 0 &&
            c->seq == dropped_seq) {
            retransmitted = true;
        }
        if (c->from == 1 && !(c->flags & TCP_SYN) && first_b_data == 0 && c->payload_len > 0) {
            first_b_data = i;
        }
    }
    CHECK(all_csum_ok);
    CHECK(n_tcp >= 3);
    if (n_tcp < 3) {
        return;
    }
    const struct wire_capture *syn = &wire_captured[tcp_idx[0]],
                              *synack = &wire_captured[tcp_idx[1]],
                              *third = &wire_captured[tcp_idx[2]];

    CHECK(syn->from == 0 && syn->flags == TCP_SYN);
    CHECK(synack->from == 1 && synack->flags == (TCP_SYN | TCP_ACK));
    CHECK(third->from == 0 && (third->flags & TCP_ACK) && !(third->flags & TCP_SYN));
    /* Our options are compiled in: MSS, window scale 3, SACK permitted, timestamps. */
    CHECK(syn->has_mss && syn->has_ws && syn->has_sack_perm && syn->has_ts);
    CHECK(synack->has_mss && synack->has_ws && synack->has_sack_perm && synack->has_ts);
    CHECK_INT(syn->ws_shift, TCP_RCV_SCALE);
    if (sc->drop_nth != 0) {
        CHECK(dropped_one);
        CHECK(retransmitted);
        CHECK(sack_seen); /* B reported the hole with SACK (LWIP_TCP_SACK_OUT) */
    }

    if (sc->hooks) {
        syn_optlen_with_hooks = syn->optlen;
        CHECK(eno_is(syn, eno_syn, 4));
        CHECK(eno_is(synack, eno_synack, 4));
        CHECK(eno_is(third, eno_plain, 2));
        /* B received A's non-SYN before sending any non-SYN segment itself. */
        for (unsigned k = 2; k < n_tcp; k++) {
            const struct wire_capture *c = &wire_captured[tcp_idx[k]];

            if (c->from == 1) {
                CHECK_INT(c->eno_len, 0);
            }
        }
        /* A stopped once it had received a non-SYN from B. */
        for (unsigned k = n_tcp; k-- > 2;) {
            const struct wire_capture *c = &wire_captured[tcp_idx[k]];

            if (c->from == 0) {
                CHECK_INT(c->eno_len, 0);
                break;
            }
        }
        CHECK(first_b_data != 0);

        /* ---- what the inpacket hook recorded */
        CHECK(listener.n_seen >= 1);
        CHECK(client.n_seen >= 1);
        CHECK(server.n_seen >= 1);
        if (listener.n_seen >= 1) {
            CHECK_INT(listener.seen[0].flags, TCP_SYN);
            CHECK(seen_is(&listener.seen[0], eno_syn, 4));
        }
        if (client.n_seen >= 1) {
            CHECK_INT(client.seen[0].flags, TCP_SYN | TCP_ACK);
            CHECK(seen_is(&client.seen[0], eno_synack, 4));
        }
        if (server.n_seen >= 1) {
            CHECK(!(server.seen[0].flags & TCP_SYN));
            CHECK(seen_is(&server.seen[0], eno_plain, 2));
        }
        if (client.n_seen >= 2) {
            CHECK_INT(client.seen[1].eno_len, 0); /* B's first non-SYN: no 69 */
        }
        CHECK(hook_calls > 0);
    } else {
        syn_optlen_without_hooks = syn->optlen;
        CHECK(!any_eno);
        CHECK_INT(hook_calls, 0);
        CHECK_INT(listener.n_seen + client.n_seen + server.n_seen, 0);
    }
    print_options("SYN    ", syn);
    print_options("SYN-ACK", synack);
    print_options("third  ", third);
    fprintf(stderr, "test_lwip: scenario %s: %u frames, %u TCP, %s\n", sc->name, wire_n_captured,
            n_tcp, tc_checks_failed == failed_before ? "ok" : "FAILED");
}

/* lwIP 2.1.3 quirk the TCP-ENO code must respect: tcp_listen() copies the ext
 * args into the new listening pcb and frees the original pcb, which fires its
 * destroy callback while the listening pcb still points at the same data. */
static void check_listen_ext_arg_quirk(void)
{
    struct conn probe = {.name = "probe"};
    struct tcp_pcb *pcb = tcp_new(), *lpcb;

    CHECK(pcb != NULL);
    tcp_ext_arg_set_callbacks(pcb, ext_id, &ext_callbacks);
    tcp_ext_arg_set(pcb, ext_id, &probe);
    CHECK_INT(tcp_bind(pcb, IP4_ADDR_ANY, 7), ERR_OK);
    lpcb = tcp_listen(pcb);
    CHECK(lpcb != NULL);
    CHECK_INT(probe.destroyed, 1);
    CHECK(tcp_ext_arg_get(lpcb, ext_id) == &probe);
    /* lwIP asserts callbacks != NULL, so detach the data instead. */
    tcp_ext_arg_set(lpcb, ext_id, NULL);
    CHECK_INT(tcp_close(lpcb), ERR_OK);
    CHECK_INT(probe.destroyed, 1);
}

int main(void)
{
    static const struct scenario scenarios[] = {
        {"ipv4, hooks, one data segment lost", false, true, 20, 5001},
        {"ipv6, hooks", true, true, 0, 5002},
        {"ipv4, no hooks (stock lwIP)", false, false, 0, 5003},
    };

    wire_setup();
    ext_id = tcp_ext_arg_alloc_id();
    CHECK(ext_id < LWIP_TCP_PCB_NUM_EXT_ARGS);

    check_listen_ext_arg_quirk();
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        run_scenario(&scenarios[i]);
    }
    /* The hooks added exactly our 4 bytes to the SYN, nothing else changed. */
    CHECK_INT(syn_optlen_with_hooks, syn_optlen_without_hooks + 4);

    tc_lwip_set_hooks(NULL);
    conn_reset(&client, "client", 0, 0, 0);
    conn_reset(&server, "server", 0, 0, 0);
    return tc_check_exit("test_lwip");
}
