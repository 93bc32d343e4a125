/*
 * The byte pump of one connection, between lwIP's pcb and the daemon end of
 * the application's socketpair, with back-pressure both ways:
 *
 *   application -> TCP: the daemon end is read only while lwIP has send
 *   space (tcp_sndbuf and the segment queue), and what is read is queued
 *   with TCP_WRITE_FLAG_COPY at once; bytes lwIP refuses (ERR_MEM) wait in
 *   c->carry and go first next time.  Encrypted connections seal each block
 *   into one tcpcrypt frame before tcp_write, exactly once: a retransmission
 *   resends lwIP's copy, never a re-encryption (RFC 8548 §3.6).
 *
 *   TCP -> application: received pbufs wait in c->rxq until the daemon end
 *   takes them; tcp_recved() (which reopens the TCP window) is called only
 *   for what it took.  Encrypted connections feed every received byte to
 *   the session and hand over only the plaintext of frames whose tag was
 *   verified; raw TCP payload never reaches the application.
 */
#include "stack/conn_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crypto/err.h"
#include "crypto/frame.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "stack/log.h"

/* Plain bytes read from the application per tcp_write (tcp_write takes a
 * u16_t length). */
#define IO_MAX 0xffff
/* Application bytes per tcpcrypt frame: large enough that the AEAD and
 * framing costs vanish, small enough that the receiver (which can only
 * release a frame once all of it arrived and its tag checks) sees data
 * flow without waiting for 64 KB. */
#define FRAME_DATA 16384
/* A frame smaller than this is sealed only when the application has no
 * more bytes waiting; otherwise the relay waits for send space. */
#define FRAME_DATA_MIN 512
#define RX_IOV 64
/* Segments kept free in lwIP's send queue (tcp_write may add one to the
 * last queued segment's chain besides the new ones). */
#define SEG_SPARE 4

static uint8_t io_buf[IO_MAX];
static uint8_t frame_buf[FRAME_DATA + TC_FRAME_OVERHEAD + TC_URGENT_LEN];

/* How many bytes tcp_write would take now. */
static size_t tx_room(const struct tc_conn *c)
{
    size_t qlen = tcp_sndqueuelen(c->pcb), room = tcp_sndbuf(c->pcb), mss = tcp_mss(c->pcb);

    if (mss == 0) {
        mss = 536;
    }
    if (qlen + SEG_SPARE >= TCP_SND_QUEUELEN) {
        return 0;
    }
    if (room > (TCP_SND_QUEUELEN - qlen - SEG_SPARE) * mss) {
        room = (TCP_SND_QUEUELEN - qlen - SEG_SPARE) * mss;
    }
    return room > IO_MAX ? IO_MAX : room;
}

/* Queue n bytes on the pcb; what lwIP refuses for lack of memory waits in
 * c->carry.  false when not everything is queued (or c was aborted). */
static bool send_tcp(struct tc_conn *c, const uint8_t *p, size_t n)
{
    err_t e = tcp_write(c->pcb, p, (u16_t)n, TCP_WRITE_FLAG_COPY);

    tc_stats_wire_out(&c->bytes, n); /* now, or later from c->carry */
    if (e == ERR_OK) {
        return true;
    }
    if (e == ERR_MEM) {
        c->carry = malloc(n);
        if (c->carry == NULL) {
            tc_conn_abort(c, ENOMEM, "out of memory");
            return false;
        }
        memcpy(c->carry, p, n);
        c->carry_len = n;
        return false;
    }
    tc_conn_abort(c, ECONNABORTED, "tcp_write failed");
    return false;
}

static bool flush_carry(struct tc_conn *c)
{
    err_t e;

    if (c->carry == NULL) {
        return true;
    }
    if (tx_room(c) < c->carry_len) {
        return false;
    }
    e = tcp_write(c->pcb, c->carry, (u16_t)c->carry_len, TCP_WRITE_FLAG_COPY);
    if (e == ERR_MEM) {
        return false;
    }
    if (e != ERR_OK) {
        tc_conn_abort(c, ECONNABORTED, "tcp_write failed");
        return false;
    }
    free(c->carry);
    c->carry = NULL;
    c->carry_len = 0;
    return true;
}

/* Read the application's bytes: > 0 bytes read, 0 none now (c->app_eof
 * tells EOF), -1 when c was aborted. */
static ssize_t app_read(struct tc_conn *c, uint8_t *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(c->fd, buf, n);

        if (r > 0) {
            return r;
        }
        if (r == 0) {
            c->app_eof = true;
            return 0;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }
        /* ECONNRESET: the application closed its end while bytes we wrote
         * were unread; a kernel resets the connection then. */
        c->app_gone = true;
        c->app_closed = true;
        tc_conn_abort(c, ECONNRESET, "application closed with unread data");
        return -1;
    }
}

/* Write to the application: bytes taken, 0 when its buffer is full, -1
 * when every copy of its end is closed. */
static ssize_t app_write(struct tc_conn *c, struct iovec *iov, int n)
{
    struct msghdr m;

    memset(&m, 0, sizeof(m));
    m.msg_iov = iov;
    m.msg_iovlen = (size_t)n;
    for (;;) {
        ssize_t r = sendmsg(c->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (r >= 0) {
            return r;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }
        return -1;
    }
}

static void eof_to_app(struct tc_conn *c)
{
    if (!c->eof_sent && c->fd >= 0) {
        (void)shutdown(c->fd, SHUT_WR);
        c->eof_sent = true;
    }
}

/* Our FIN, after everything queued. */
static void fin_to_peer(struct tc_conn *c)
{
    if (c->tx_fin || c->pcb == NULL || c->carry != NULL) {
        return;
    }
    /* ERR_CONN: already past ESTABLISHED/CLOSE_WAIT, the FIN went out. */
    (void)tcp_shutdown(c->pcb, 0, 1);
    c->tx_fin = true;
}

/* ------------------------------------------------------------ TCP -> application */

static void drop_empty_head(struct tc_conn *c)
{
    while (c->rxq != NULL && c->rx_off >= c->rxq->len) {
        struct pbuf *q = c->rxq;

        c->rxq = q->next;
        q->next = NULL;
        pbuf_free(q);
        c->rx_off = 0;
    }
    if (c->rxq == NULL) {
        c->rxq_tail = NULL;
    }
}

/* n bytes of rxq were passed on: free them and reopen the window. */
static void rx_consume(struct tc_conn *c, size_t n)
{
    size_t left = n;

    while (left > 0 && c->rxq != NULL) {
        size_t avail = (size_t)c->rxq->len - c->rx_off;

        if (left < avail) {
            c->rx_off = (uint16_t)(c->rx_off + left);
            break;
        }
        left -= avail;
        c->rx_off = c->rxq->len;
        drop_empty_head(c);
    }
    drop_empty_head(c);
    while (c->pcb != NULL && n > 0) {
        u16_t k = n > 0xffff ? 0xffff : (u16_t)n;

        tcp_recved(c->pcb, k);
        n -= k;
    }
}

void tc_relay_rx(struct tc_conn *c, struct pbuf *p)
{
    struct pbuf *q;

    tc_stats_wire_in(&c->bytes, p->tot_len);
    if (c->fd < 0 || (c->app_gone && c->sess == NULL)) {
        /* Data for a connection the application closed: a kernel answers
         * with RST. */
        pbuf_free(p);
        if (c->pcb != NULL) {
            tc_conn_abort(c, ECONNRESET, "data after the application closed");
        }
        return;
    }
    /* The queue is a chain of chains; pbuf tot_len (u16_t) is never used
     * on it, only each pbuf's own len. */
    if (c->rxq == NULL) {
        c->rxq = p;
        c->rx_off = 0;
    } else {
        c->rxq_tail->next = p;
    }
    for (q = p; q->next != NULL; q = q->next) {
    }
    c->rxq_tail = q;
    drop_empty_head(c);
}

static void rx_plain(struct tc_conn *c)
{
    while (c->rxq != NULL) {
        struct iovec iov[RX_IOV];
        int k = 0;
        size_t off = c->rx_off;
        ssize_t n;

        for (struct pbuf *q = c->rxq; q != NULL && k < RX_IOV; q = q->next, off = 0) {
            if (q->len > off) {
                iov[k].iov_base = (uint8_t *)q->payload + off;
                iov[k].iov_len = q->len - off;
                k++;
            }
        }
        n = app_write(c, iov, k);
        if (n < 0) {
            tc_conn_app_gone(c);
            return;
        }
        if (n == 0) {
            return;
        }
        tc_stats_app_in(&c->bytes, (size_t)n);
        rx_consume(c, (size_t)n);
    }
    if (c->peer_fin) {
        eof_to_app(c);
    }
}

static void session_opened(struct tc_conn *c)
{
    if (c->has_sid || c->sess->state != TC_SESS_OPEN) {
        return;
    }
    c->has_sid = tc_sess_session_id(c->sess, c->sid);
    tc_keylog_session(c->sess);
    tc_conn_became_ready(c);
}

static void abort_sess(struct tc_conn *c, int err)
{
    /* RFC 8548 §3.3, §3.6, §3.7: abort with RST and report an error that
     * differs from EOF. */
    tc_conn_abort(c, EBADMSG, tc_strerror(err));
}

static void rx_sess(struct tc_conn *c)
{
    struct tc_sess *s = c->sess;

    /* A resumed session (RFC 8548 §3.5) is open before any byte arrives. */
    session_opened(c);
    if (c->fd < 0) {
        return;
    }
    for (;;) {
        if (c->plain_len > 0) {
            struct iovec iov = {.iov_base = (void *)c->plain, .iov_len = c->plain_len};
            ssize_t n;

            if (c->app_gone) {
                tc_conn_abort(c, ECONNRESET, "data after the application closed");
                return;
            }
            n = app_write(c, &iov, 1);
            if (n < 0) {
                tc_conn_app_gone(c);
                return;
            }
            if (n == 0) {
                return;
            }
            tc_stats_app_in(&c->bytes, (size_t)n);
            c->plain += n;
            c->plain_len -= (size_t)n;
            continue;
        }
        if (c->plain_fin) {
            /* FINp: the peer's end of stream (§3.7). */
            c->plain_fin = false;
            eof_to_app(c);
        }
        if (c->rxq == NULL) {
            break;
        }
        struct tc_plain out;
        size_t used = 0;
        const uint8_t *in = (const uint8_t *)c->rxq->payload + c->rx_off;
        size_t len = (size_t)c->rxq->len - c->rx_off;
        int rc = tc_sess_input(s, in, len, &used, &out);

        if (rc != TC_OK && rc != TC_WANT_MORE) {
            abort_sess(c, rc);
            return;
        }
        rx_consume(c, used);
        session_opened(c);
        if (c->fd < 0) {
            return; /* aborted while becoming ready */
        }
        if (rc == TC_OK) {
            c->plain = out.data;
            c->plain_len = out.len;
            c->plain_fin = out.fin;
        } else if (used == 0) {
            break; /* no progress: never spin */
        }
    }
    if (c->peer_fin && !c->fin_checked && c->rxq == NULL && c->plain_len == 0) {
        /* "If a host receives a TCP FIN ... before it has received a frame
         * with FINp set, it MUST abort" (§3.7): never a plain EOF. */
        int rc = tc_sess_peer_fin(s);

        c->fin_checked = true;
        if (rc != TC_OK) {
            abort_sess(c, rc);
            return;
        }
        eof_to_app(c);
    }
}

/* ------------------------------------------------------------ application -> TCP */

static void tx_plain(struct tc_conn *c)
{
    while (c->pcb != NULL && !c->app_eof) {
        size_t room;
        ssize_t n;

        if (!flush_carry(c)) {
            return;
        }
        room = tx_room(c);
        if (room == 0) {
            return;
        }
        n = app_read(c, io_buf, room);
        if (n <= 0) {
            break;
        }
        tc_stats_app_out(&c->bytes, (size_t)n);
        if (!send_tcp(c, io_buf, (size_t)n)) {
            return;
        }
    }
    if (c->pcb != NULL && c->app_eof && flush_carry(c)) {
        fin_to_peer(c);
    }
}

/* Seal one frame and queue it.  false when it waits in carry or c was
 * aborted; either way the frame is committed. */
static bool seal_send(struct tc_conn *c, uint8_t flags, const uint8_t *data, size_t len)
{
    size_t flen = 0;
    int rc = tc_sess_seal(c->sess, flags, data, len, frame_buf, sizeof(frame_buf), &flen);

    if (rc != TC_OK) {
        abort_sess(c, rc);
        return false;
    }
    return send_tcp(c, frame_buf, flen);
}

static void tx_sess(struct tc_conn *c)
{
    struct tc_sess *s = c->sess;
    const uint8_t *p;
    size_t pend;

    /* The session's own Init message first, in stream order.  lwIP sets PSH
     * on the last segment of a write without TCP_WRITE_FLAG_MORE: the one
     * carrying the last Init byte (§3.3). */
    while ((pend = tc_sess_pending(s, &p)) > 0) {
        size_t n = tx_room(c);
        err_t e;

        if (n == 0) {
            return;
        }
        if (n > pend) {
            n = pend;
        }
        e = tcp_write(c->pcb, p, (u16_t)n,
                      TCP_WRITE_FLAG_COPY | (n < pend ? TCP_WRITE_FLAG_MORE : 0));
        if (e == ERR_MEM) {
            return;
        }
        if (e != ERR_OK) {
            tc_conn_abort(c, ECONNABORTED, "tcp_write failed");
            return;
        }
        tc_sess_sent(s, n);
        tc_stats_wire_out(&c->bytes, n);
    }
    if (!flush_carry(c) || !tc_sess_can_seal(s)) {
        return;
    }
    if (s->ch.rekey_reply_due && !c->finp_sealed) {
        /* §3.8: answer a rekey at once, with an empty frame if need be. */
        if (tx_room(c) < TC_FRAME_OVERHEAD || !seal_send(c, 0, NULL, 0)) {
            return;
        }
    }
    if (!c->ready || c->gating) {
        return;
    }
    while (c->pcb != NULL && !c->app_eof && !c->finp_sealed) {
        size_t room = tx_room(c), dmax;
        int avail = 0;
        ssize_t n;

        if (room < TC_FRAME_OVERHEAD + 1) {
            return;
        }
        dmax = room - TC_FRAME_OVERHEAD;
        if (dmax > FRAME_DATA) {
            dmax = FRAME_DATA;
        }
        if (dmax < FRAME_DATA_MIN && ioctl(c->fd, FIONREAD, &avail) == 0 && (size_t)avail > dmax) {
            return; /* wait for room for a reasonable frame */
        }
        n = app_read(c, io_buf, dmax);
        if (n <= 0) {
            break;
        }
        tc_stats_app_out(&c->bytes, (size_t)n);
        if (!seal_send(c, 0, io_buf, (size_t)n)) {
            return;
        }
    }
    if (c->pcb != NULL && c->app_eof && !c->finp_sealed) {
        /* §3.7: the application's EOF is a frame with FINp, then TCP FIN. */
        if (tx_room(c) < TC_FRAME_OVERHEAD) {
            return;
        }
        c->finp_sealed = true;
        if (!seal_send(c, TC_FLAG_FINP, NULL, 0)) {
            return;
        }
    }
    if (c->pcb != NULL && c->finp_sealed && flush_carry(c)) {
        fin_to_peer(c);
    }
}

/* ------------------------------------------------------------ the pump */

static bool want_read(const struct tc_conn *c)
{
    if (c->pcb == NULL || !c->ready || c->gating || c->app_eof || c->carry != NULL) {
        return false;
    }
    if (c->sess == NULL) {
        return tx_room(c) > 0;
    }
    return !c->finp_sealed && tc_sess_can_seal(c->sess) &&
           tx_room(c) >= TC_FRAME_OVERHEAD + FRAME_DATA_MIN;
}

void tc_relay_pump(struct tc_conn *c)
{
    if (c->fd >= 0 && c->tcp_up) {
        if (c->sess != NULL) {
            rx_sess(c);
        } else {
            rx_plain(c);
        }
    }
    if (c->fd >= 0 && c->pcb != NULL && c->tcp_up) {
        if (c->sess != NULL) {
            tx_sess(c);
        } else if (c->ready && !c->gating) {
            tx_plain(c);
        }
    }
    if (c->fd >= 0 && c->w.fd >= 0) {
        uint32_t ev = 0;

        if (want_read(c)) {
            ev |= EPOLLIN;
        }
        if (c->rxq != NULL || c->plain_len > 0) {
            ev |= EPOLLOUT;
        }
        tc_loop_set(&c->w, ev);
    }
    if (c->pcb != NULL) {
        (void)tcp_output(c->pcb);
    }
    tc_conn_check_done(c);
}

void tc_relay_free(struct tc_conn *c)
{
    if (c->rxq != NULL) {
        /* Free pbuf by pbuf: the queue is a chain of chains. */
        c->rx_off = 0;
        while (c->rxq != NULL) {
            struct pbuf *q = c->rxq;

            c->rxq = q->next;
            q->next = NULL;
            pbuf_free(q);
        }
        c->rxq_tail = NULL;
    }
    free(c->carry);
    c->carry = NULL;
    c->carry_len = 0;
    c->plain = NULL;
    c->plain_len = 0;
    if (c->sess != NULL) {
        tc_sess_wipe(c->sess);
        free(c->sess);
        c->sess = NULL;
    }
}
