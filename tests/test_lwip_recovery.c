/*
 * Loss recovery when the peer's window closes in the middle of it, over the
 * test wire of tests/lwip_wire.h (lwIP as tcpcryptd builds it: the copies of
 * tcp_in.c and tcp_out.c that stack/Makefile.inc makes, no hooks).
 *
 * A (10.0.0.1) sends a stream to B (10.0.0.2), which reads everything; A's
 * application writes 4000 bytes at a time (Nagle off, as in tcpcryptd)
 * whenever less than that waits unsent.
 * Once the congestion window has grown, the wire loses two of A's segments
 * in one window: H1 and, at least four segments later, H2, a short segment
 * (the end of a write).  Three duplicate ACKs make A retransmit H1; B's ACK
 * up to H2 is then a partial acknowledgement (RFC 6582), and the wire
 * rewrites the window of that ACK, and of everything B sends for the next
 * 3 s, to zero, as a receiver whose application stopped reading would.  A
 * moves H2 to its unsent queue to retransmit it, but the closed window holds
 * it there, where it is the last unsent segment; the application writes
 * again; then A's retransmission timer fires, with H2 in front of the unsent
 * queue and later segments still unacknowledged.
 *
 * lwIP 2.1.3 failed here twice.  tcp_write() appended the new bytes to H2,
 * which had room, as if H2 ended the stream: they went out at H2's sequence
 * numbers, and those they had been given were never sent.  And the timeout
 * put the unacknowledged segments in front of the unsent queue as they were,
 * so its head was no longer H2, did not fit the one-segment congestion window
 * that follows a timeout, and A never sent again.  tcpcryptd's soak test saw
 * both on a lossy path (stack/Makefile.inc has the fixes).  The check: every
 * byte arrives, in order and intact, and the wire saw each step happen.
 */
#include "tests/check.h"

#include <stdbool.h>

#include "lwip/ip_addr.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "tests/lwip_wire.h"

#define STREAM_LEN 600000
#define WARMUP 200000  /* bytes before the first loss: cwnd has grown */
#define H2_AFTER 4     /* H2 is a short segment at least 4 after H1 */
#define CLOSED_MS 3000 /* how long B's window reads zero */
#define PORT 5101

enum phase { P_WARM, P_AFTER_H1, P_AFTER_H2, P_CLOSED, P_REOPENED };

static struct {
    enum phase phase;
    bool have_isn;
    u32_t isn;      /* A's initial sequence number */
    u32_t next_new; /* the end of A's highest data so far */
    unsigned new_since_h1;
    u32_t h1, h2;
    unsigned h1_sent, h2_sent; /* transmissions of each, the lost one included */
    unsigned zeroed;           /* B's segments whose window was rewritten */
    u32_t closed_at;
    unsigned h2_after_reopen; /* H2 sent again once the window reopened */
} w;

static u8_t *tx, *rx;
static size_t tx_off, rx_len;
static struct tcp_pcb *client, *server;
static bool client_err, server_err;

static enum wire_verdict mutate(void *ctx, struct wire_frame *f, const struct wire_capture *c)
{
    struct wire_tcp t;

    (void)ctx;
    if (!c->is_tcp) {
        return WIRE_PASS;
    }
    if (c->from == WIRE_A) {
        if ((c->flags & TCP_SYN) != 0) {
            w.isn = c->seq;
            w.next_new = c->seq + 1;
            w.have_isn = true;
        }
        if (c->payload_len == 0 || !w.have_isn) {
            return WIRE_PASS;
        }
        if (c->seq == w.h1 && w.phase >= P_AFTER_H1) {
            w.h1_sent++;
        }
        if (c->seq == w.h2 && w.phase >= P_AFTER_H2) {
            w.h2_sent++;
            if (w.phase == P_REOPENED) {
                w.h2_after_reopen++;
            }
        }
        if (TCP_SEQ_LT(c->seq, w.next_new)) {
            return WIRE_PASS; /* a retransmission or a probe */
        }
        w.next_new = c->seq + c->payload_len;
        if (w.phase == P_WARM && c->seq - w.isn >= WARMUP) {
            w.phase = P_AFTER_H1;
            w.h1 = c->seq;
            w.h1_sent = 1;
            return WIRE_DROP;
        }
        /* H2: a short segment (one that ends a write), so that it has room
         * left for more data. */
        if (w.phase == P_AFTER_H1 && ++w.new_since_h1 >= H2_AFTER && c->payload_len < 1400) {
            w.phase = P_AFTER_H2;
            w.h2 = c->seq;
            w.h2_sent = 1;
            return WIRE_DROP;
        }
        return WIRE_PASS;
    }
    /* From B: the partial acknowledgement closes the window for a while. */
    if (w.phase == P_AFTER_H2 && c->ack == w.h2) {
        w.phase = P_CLOSED;
        w.closed_at = wire_now_ms;
    }
    if (w.phase == P_CLOSED && wire_now_ms - w.closed_at >= CLOSED_MS) {
        w.phase = P_REOPENED;
    }
    if (w.phase == P_CLOSED && wire_tcp_locate(f, &t)) {
        t.tcp[14] = 0;
        t.tcp[15] = 0;
        wire_tcp_fix_checksums(f);
        w.zeroed++;
    }
    return WIRE_PASS;
}

/* A's application writes 4000 bytes at a time, each sent at once if the
 * windows allow (so each write ends with a short segment), as long as less
 * than a write's worth waits unsent (snd_lbb - snd_nxt), up to 16 writes per
 * call.  So it writes while H2 waits in the unsent queue, as an application
 * with more to say would. */
static void push(void)
{
    for (int i = 0; i < 16 && client != NULL && tx_off < STREAM_LEN; i++) {
        size_t n = STREAM_LEN - tx_off;

        if (n > 4000) {
            n = 4000;
        }
        if (client->snd_lbb - client->snd_nxt >= 4000 || tcp_sndbuf(client) < n ||
            tcp_write(client, tx + tx_off, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
            break;
        }
        tx_off += n;
        (void)tcp_output(client);
    }
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)arg;
    (void)pcb;
    (void)len;
    push();
    return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    CHECK_INT(err, ERR_OK);
    if (p == NULL) {
        return ERR_OK;
    }
    if (rx_len + p->tot_len <= STREAM_LEN) {
        pbuf_copy_partial(p, rx + rx_len, p->tot_len, 0);
    }
    rx_len += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    bool *flag = arg;

    fprintf(stderr, "test_lwip_recovery: tcp error %d\n", (int)err);
    *flag = true;
    if (flag == &client_err) {
        client = NULL;
    } else {
        server = NULL;
    }
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (pcb == NULL || err != ERR_OK) {
        return ERR_VAL;
    }
    server = pcb;
    tcp_arg(pcb, &server_err);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    CHECK_INT(err, ERR_OK);
    push();
    return ERR_OK;
}

/* Called by the wire every 10 ms of virtual time. */
static bool all_received(void)
{
    push();
    return rx_len >= STREAM_LEN || client_err || server_err;
}

int main(void)
{
    ip_addr_t addr_a, addr_b;
    struct tcp_pcb *pcb, *lpcb;
    bool done;

    tx = malloc(STREAM_LEN);
    rx = malloc(STREAM_LEN);
    if (tx == NULL || rx == NULL) {
        fprintf(stderr, "test_lwip_recovery: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < STREAM_LEN; i++) {
        tx[i] = (u8_t)((i * 7u + (i >> 9)) & 0xff);
    }
    wire_setup();
    wire_reset();
    wire_set_mutator(mutate, NULL);
    tc_lwip_set_hooks(NULL);
    CHECK(ipaddr_aton("10.0.0.1", &addr_a));
    CHECK(ipaddr_aton("10.0.0.2", &addr_b));

    pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    CHECK(pcb != NULL);
    if (pcb == NULL) {
        return tc_check_exit("test_lwip_recovery");
    }
    tcp_bind_netif(pcb, &wire_netif_b);
    CHECK_INT(tcp_bind(pcb, &addr_b, PORT), ERR_OK);
    lpcb = tcp_listen_with_backlog(pcb, 1);
    CHECK(lpcb != NULL);
    if (lpcb == NULL) {
        return tc_check_exit("test_lwip_recovery");
    }
    tcp_accept(lpcb, on_accept);

    client = tcp_new_ip_type(IPADDR_TYPE_V4);
    CHECK(client != NULL);
    if (client == NULL) {
        return tc_check_exit("test_lwip_recovery");
    }
    tcp_bind_netif(client, &wire_netif_a);
    CHECK_INT(tcp_bind(client, &addr_a, 0), ERR_OK);
    tcp_nagle_disable(client); /* as tcpcryptd does */
    tcp_arg(client, &client_err);
    tcp_sent(client, on_sent);
    tcp_err(client, on_err);
    CHECK_INT(tcp_connect(client, &addr_b, PORT, on_connected), ERR_OK);

    done = wire_run_until(all_received, 120000);
    fprintf(stderr,
            "test_lwip_recovery: %zu of %d bytes arrived by %u ms (virtual); H1 at +%u sent %u "
            "times, H2 at +%u sent %u times (%u after the window reopened); %u of B's "
            "segments showed a zero window\n",
            rx_len, STREAM_LEN, wire_now_ms, w.h1 - w.isn, w.h1_sent, w.h2 - w.isn, w.h2_sent,
            w.h2_after_reopen, w.zeroed);
    /* The case happened as described above. */
    CHECK(w.phase == P_REOPENED);
    CHECK(w.h1_sent >= 2);
    CHECK(w.zeroed > 0);
    /* The stream got through it. */
    CHECK(done);
    CHECK(!client_err && !server_err);
    CHECK_INT(rx_len, STREAM_LEN);
    /* What arrived is the stream's beginning, byte for byte. */
    CHECK_MEM(rx, tx, rx_len < STREAM_LEN ? rx_len : STREAM_LEN);
    CHECK(w.h2_sent >= 2);

    if (client != NULL) {
        tcp_err(client, NULL);
        tcp_abort(client);
    }
    if (server != NULL) {
        tcp_err(server, NULL);
        tcp_abort(server);
    }
    tcp_close(lpcb);
    free(tx);
    free(rx);
    return tc_check_exit("test_lwip_recovery");
}
