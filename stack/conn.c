/*
 * Connections: the life of one lwIP TCP connection relayed to an AF_UNIX
 * socketpair (stack/ctl_proto.h), from CONNECT or from a listener's accept
 * to the last STATUS query about it.
 *
 * A connection record lives while the application may still ask about it:
 * after the TCP connection and the daemon end are gone, the record stays (a
 * "zombie" with the final state and errors) until the application end's
 * socket no longer exists, which the once-a-second tick learns from
 * /proc/self/net/unix (the daemon created the socket, so it is listed in
 * the daemon's network namespace whoever holds it).
 */
#include "stack/conn_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <tcpcrypt/tcpcrypt.h>

#include "crypto/aead.h"
#include "crypto/init.h"
#include "crypto/kex.h"
#include "crypto/resume.h"
#include "crypto/rng.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "stack/eno.h"
#include "stack/log.h"
#include "stack/netif.h"

#define HASH_BUCKETS 4096
/* An encrypted connection whose tcpcrypt handshake has not finished by then
 * is aborted (it holds a listener's backlog slot or a connect() caller);
 * tcpcryptd --handshake-timeout sets it. */
#define HANDSHAKE_TIMEOUT_DEFAULT_MS 10000
/* After the application closed an encrypted connection, its peer's FINp
 * frame and FIN are awaited this long (RFC 8548 §3.7), then RST. */
#define LINGER_TIMEOUT_MS 60000
/* No neighbour answer this long after connect(): EHOSTUNREACH, as the
 * kernel reports after its three ARP probes. */
#define UNREACH_MS 3000
/* lwIP calls the poll callback every POLL_TICKS slow ticks (TCP_SLOW_INTERVAL
 * ms each, lwipopts.h). */
#define POLL_TICKS 2

static struct tc_conn_config config;
static struct tc_eph_cache eph;
static struct tc_resume_cache resume_cache;
static struct tc_conn *conns;
static struct tc_conn *by_ino[HASH_BUCKETS];
static uint64_t next_id = 1;
static size_t nzombies;

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool tc_conn_eno_enabled(void)
{
    return config.eno;
}

/* TIME-WAIT bound.  lwIP keeps every connection it closed first in TIME-WAIT
 * for 2 x TCP_MSL (120 s) on one list, and tcp_input walks that whole list
 * for every segment that matches no active pcb, every SYN included, before it
 * looks at the listeners: a server closing 3000 connections per second holds
 * up to MEMP_NUM_TCP_PCB (16384) of them and pays a 16384-entry walk per new
 * connection.  Like Linux's tcp_max_tw_buckets, the newest TW_MAX keep their
 * full TIME-WAIT and older ones are released early (lwIP itself already
 * releases the oldest TIME-WAIT pcb whenever the pool runs out, see
 * tcp_alloc).  Early release costs only what TIME-WAIT guards against
 * (RFC 9293 §3.6.1): a lost last ACK is answered with RST instead of ACK
 * (the peer had closed already), and an old duplicate could reach a new
 * connection on the same address pair, which the random ISNs make unlikely
 * and which tcpcrypt's AEAD rejects.  New TIME-WAIT pcbs go to the head of
 * the list, so its tail holds the oldest. */
#define TW_MAX 128
#define TW_TRIM_MS 100

static void tw_trim(void *arg)
{
    struct tcp_pcb *pcb = tcp_tw_pcbs;
    size_t n = 1;

    (void)arg;
    while (pcb != NULL && n < TW_MAX) {
        pcb = pcb->next;
        n++;
    }
    while (pcb != NULL && pcb->next != NULL) {
        /* Frees a TIME-WAIT pcb, sends nothing (tcp_abandon). */
        tcp_abort(pcb->next);
    }
    sys_timeout(TW_TRIM_MS, tw_trim, NULL);
}

/* ---- session resumption (RFC 8548 §3.5): the daemon's one cache ---- */

static struct tc_resume_cache *resume_cache_for(void *ctx, const struct tcp_pcb *pcb)
{
    (void)ctx;
    (void)pcb;
    return &resume_cache;
}

static uint64_t resume_now(void *ctx)
{
    (void)ctx;
    return now_ms();
}

/* Keys for a session: fresh (Init1/Init2, ss[1] cached unless the
 * connection says not to) or resumed from the secret ENO took. */
static int sess_start(struct tc_sess *s, struct tcp_pcb *pcb, const struct tc_eno_outcome *o,
                      struct tc_sess_config *sc)
{
    struct tc_resume_ticket t;
    int rc;

    sc->resume = o->resume;
    memcpy(sc->peer, o->peer, o->peer_len);
    sc->peer_len = o->peer_len;
    if (!o->resumed) {
        return tc_sess_start(s, o->is_b, o->tep_byte, o->transcript, o->transcript_len, sc);
    }
    rc = tc_eno_lwip_take_ticket(pcb, &t);
    if (rc == TC_OK) {
        rc = tc_sess_start_resumed(s, o->is_b, o->tep_byte, &t, sc);
    }
    tc_resume_ticket_wipe(&t);
    return rc;
}

bool tc_conn_init(const struct tc_conn_config *cfg)
{
    config = *cfg;
    if (config.handshake_timeout_ms == 0) {
        config.handshake_timeout_ms = HANDSHAKE_TIMEOUT_DEFAULT_MS;
    }
    memset(&eph, 0, sizeof(eph));
    eph.lifetime_ms = cfg->eph_lifetime_ms;
    if (tc_resume_cache_init(&resume_cache, cfg->resume_entries > 0 ? cfg->resume_entries : 1,
                             cfg->resume_lifetime_ms) != TC_OK) {
        return false;
    }
    /* --resume-cache 0: no resumption offered or accepted, nothing cached. */
    if (cfg->eno && cfg->resume_entries > 0) {
        tc_eno_lwip_set_resume(&(struct tc_eno_resume){.cache = resume_cache_for,
                                                       .now_ms = resume_now,
                                                       .rng = &tc_rng_system,
                                                       .nonce_len = cfg->resume_nonce_len});
    } else {
        tc_eno_lwip_set_resume(NULL);
    }
    sys_timeout(TW_TRIM_MS, tw_trim, NULL);
    return true;
}

struct tc_resume_cache *tc_conn_resume_cache(void)
{
    return &resume_cache;
}

const struct tc_conn_config *tc_conn_get_config(void)
{
    return &config;
}

/* ------------------------------------------------------------ records */

static void hash_add(struct tc_conn *c)
{
    struct tc_conn **b = &by_ino[c->ino % HASH_BUCKETS];

    c->hnext = *b;
    *b = c;
}

static void hash_del(struct tc_conn *c)
{
    for (struct tc_conn **p = &by_ino[c->ino % HASH_BUCKETS]; *p != NULL; p = &(*p)->hnext) {
        if (*p == c) {
            *p = c->hnext;
            return;
        }
    }
}

static struct tc_conn *lookup_ino(ino_t ino)
{
    for (struct tc_conn *c = by_ino[ino % HASH_BUCKETS]; c != NULL; c = c->hnext) {
        if (c->ino == ino) {
            return c;
        }
    }
    return NULL;
}

/* The connection behind an application end presented in a request. */
static struct tc_conn *lookup_fd(int fd)
{
    struct stat st;

    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        return NULL;
    }
    return lookup_ino(st.st_ino);
}

static struct tc_conn *conn_new(void)
{
    struct tc_conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->fd = -1;
    c->w.fd = -1;
    c->gate_fd = -1;
    c->id = next_id++;
    c->next = conns;
    if (conns != NULL) {
        conns->prev = c;
    }
    conns = c;
    return c;
}

static void conn_free(void *obj)
{
    struct tc_conn *c = obj;

    tc_relay_free(c);
    free(c);
}

/* Unlink the record and free it after this round of events. */
static void conn_drop(struct tc_conn *c)
{
    if (c->dropped) {
        return;
    }
    c->dropped = true;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    if (c->ino != 0) {
        hash_del(c);
    }
    if (c->zombie) {
        nzombies--;
    }
    tc_loop_defer_free(c, conn_free);
}

static const char *conn_name(const struct tc_conn *c, char *buf, size_t len)
{
    char l[64], r[64];

    snprintf(buf, len, "conn %llu %s %s %s", (unsigned long long)c->id,
             tc_addr_str(l, sizeof(l), &c->local_ip, c->local_port), c->passive ? "<-" : "->",
             tc_addr_str(r, sizeof(r), &c->remote_ip, c->remote_port));
    return buf;
}

/* ------------------------------------------------------------ the daemon end */

static void on_fd(struct tc_watch *w, uint32_t events);

int tc_conn_make_pair(int type, int *app, int *mine, ino_t *ino)
{
    int sv[2];
    struct stat st;

    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0) {
        return errno;
    }
    if (fcntl(sv[1], F_SETFL, O_NONBLOCK) != 0 || fstat(sv[0], &st) != 0) {
        int e = errno;

        close(sv[0]);
        close(sv[1]);
        return e;
    }
    *app = sv[0];
    *mine = sv[1];
    *ino = st.st_ino;
    return 0;
}

/* Close the daemon end.  With drain, what the application wrote and we did
 * not relay is read first: closing a unix socket with unread data would
 * make the application's next read fail with ECONNRESET instead of showing
 * the EOF it must see before asking for the real error. */
static void close_fd(struct tc_conn *c, bool drain)
{
    uint8_t sink[4096];

    if (c->fd < 0) {
        return;
    }
    tc_loop_del(&c->w);
    while (drain && read(c->fd, sink, sizeof(sink)) > 0) {
    }
    close(c->fd);
    c->fd = -1;
}

/* ------------------------------------------------------------ connect gating */

/* Make the application end unwritable until the connection is up (see
 * ctl_proto.h): a small send buffer, filled. */
static int gate_start(struct tc_conn *c, int app)
{
    static const uint8_t filler[4096];
    socklen_t len = sizeof(c->gate_sndbuf);
    int small = 1;

    if (getsockopt(app, SOL_SOCKET, SO_SNDBUF, &c->gate_sndbuf, &len) != 0) {
        return errno;
    }
    /* getsockopt reports the doubled value the kernel keeps. */
    c->gate_sndbuf /= 2;
    if (setsockopt(app, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) != 0) {
        return errno;
    }
    for (;;) {
        ssize_t n = send(app, filler, sizeof(filler), MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n > 0) {
            c->gate_fill += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        return n < 0 ? errno : EIO;
    }
    c->gate_fd = fcntl(app, F_DUPFD_CLOEXEC, 0);
    if (c->gate_fd < 0) {
        return errno;
    }
    c->gating = true;
    return 0;
}

/* Established or failed: restore the send buffer and take the filler back,
 * which makes the application end writable. */
static void gate_end(struct tc_conn *c)
{
    uint8_t sink[4096];

    if (!c->gating) {
        return;
    }
    c->gating = false;
    if (c->gate_fd >= 0) {
        (void)setsockopt(c->gate_fd, SOL_SOCKET, SO_SNDBUF, &c->gate_sndbuf,
                         sizeof(c->gate_sndbuf));
    }
    while (c->gate_fill > 0 && c->fd >= 0) {
        size_t want = c->gate_fill < sizeof(sink) ? c->gate_fill : sizeof(sink);
        ssize_t n = read(c->fd, sink, want);

        if (n > 0) {
            c->gate_fill -= (size_t)n;
        } else if (!(n < 0 && errno == EINTR)) {
            break; /* the filler is all there; this is not expected */
        }
    }
    if (c->gate_fd >= 0) {
        close(c->gate_fd);
        c->gate_fd = -1;
    }
}

/* ------------------------------------------------------------ endings */

/* The pcb whose lwIP callback is running, and whether the daemon aborted
 * (freed) it meanwhile.  A callback must return ERR_ABRT exactly when
 * tcp_abort() freed its pcb: a pcb released with tcp_close() is still lwIP's,
 * and ERR_ABRT would make tcp_input skip the rest of the segment, including
 * the ACK of the peer's FIN (left unsent until the peer retransmitted it,
 * 1 s or more later, since TIME_WAIT pcbs get no timer output). */
static struct tcp_pcb *cb_pcb;
static bool cb_pcb_aborted;

static void pcb_abort(struct tcp_pcb *pcb)
{
    if (pcb == cb_pcb) {
        cb_pcb_aborted = true;
    }
    tcp_abort(pcb);
}

static void cb_enter(struct tcp_pcb *pcb)
{
    cb_pcb = pcb;
    cb_pcb_aborted = false;
}

/* What a callback for pcb returns once the daemon is done with it. */
static err_t cb_result(struct tcp_pcb *pcb)
{
    bool aborted = pcb == cb_pcb && cb_pcb_aborted;

    cb_pcb = NULL;
    cb_pcb_aborted = false;
    return aborted ? ERR_ABRT : ERR_OK;
}

static void detach_pcb(struct tc_conn *c)
{
    struct tcp_pcb *pcb = c->pcb;

    if (pcb == NULL) {
        return;
    }
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
    c->pcb = NULL;
}

void tc_conn_release_pcb(struct tc_conn *c)
{
    struct tcp_pcb *pcb = c->pcb;

    if (pcb == NULL) {
        return;
    }
    detach_pcb(c);
    if (tcp_close(pcb) != ERR_OK) {
        pcb_abort(pcb);
    }
}

void tc_conn_check_done(struct tc_conn *c)
{
    bool rx_done, tx_done;

    if (c->zombie || c->dropped || c->gating) {
        return;
    }
    rx_done = c->peer_fin && c->rxq == NULL && c->plain_len == 0 &&
              (c->sess == NULL || c->fin_checked) && (c->eof_sent || c->app_gone);
    tx_done = c->tx_fin && c->carry == NULL;
    /* The TCP side is finished when both directions are; for plain TCP also
     * when the application is gone and our FIN is out (lwIP answers later
     * data with RST, as a kernel does after close()).  An encrypted
     * connection waits for the peer's FINp and FIN (§3.7), which are data
     * to TCP. */
    if (c->pcb != NULL && tx_done && (rx_done || (c->app_gone && c->sess == NULL))) {
        if (c->state == TC_CTL_S_ESTABLISHED) {
            c->state = TC_CTL_S_CLOSED;
        }
        tc_conn_release_pcb(c);
    }
    if (c->pcb == NULL && c->fd >= 0 && c->app_gone) {
        close_fd(c, false);
    }
    if (c->pcb != NULL || c->fd >= 0 || c->listener != NULL) {
        return;
    }
    tc_relay_free(c);
    if (c->state == TC_CTL_S_ESTABLISHED) {
        c->state = TC_CTL_S_CLOSED;
    }
    tc_stats.closed++;
    if (tc_log_enabled(TC_LOG_DEBUG)) {
        char n[160];

        tc_debug("%s closed", conn_name(c, n, sizeof(n)));
    }
    if (c->app_closed) {
        /* No application end left to ask about it. */
        conn_drop(c);
        return;
    }
    c->zombie = true;
    nzombies++;
}

/* Failed (pcb already gone or aborted): record err, let the application
 * see EOF, and it reads err with STATUS. */
static void conn_failed(struct tc_conn *c, int err, const char *why)
{
    char n[160];

    c->so_error = err;
    c->read_error = err;
    tc_stats_ended(err, c->tcp_up, c->ready);
    if (!c->tcp_up || c->gating) {
        c->state = TC_CTL_S_FAILED;
        gate_end(c);
        tc_log_conn("%s failed: %s", conn_name(c, n, sizeof(n)), why);
    } else {
        c->state = TC_CTL_S_CLOSED;
        tc_log_conn("%s aborted: %s", conn_name(c, n, sizeof(n)), why);
    }
    close_fd(c, true);
    if (c->listener != NULL) {
        tc_listener_kick(c->listener);
    }
    tc_conn_check_done(c);
}

void tc_conn_abort(struct tc_conn *c, int err, const char *why)
{
    struct tcp_pcb *pcb = c->pcb;

    if (pcb != NULL) {
        detach_pcb(c);
        pcb_abort(pcb); /* sends RST */
    }
    conn_failed(c, err, why);
}

void tc_conn_app_gone(struct tc_conn *c)
{
    if (c->app_gone) {
        return;
    }
    c->app_gone = true;
    c->gone_ms = now_ms();
    /* EPOLLHUP is level-triggered: stop watching; what the application
     * wrote before closing is still read (from lwIP's sent callback). */
    tc_loop_del(&c->w);
    if (c->rxq != NULL || c->plain_len > 0) {
        /* Closed with data it never read: a kernel resets such a connection. */
        tc_conn_abort(c, ECONNRESET, "application closed with unread data");
    }
}

void tc_conn_became_ready(struct tc_conn *c)
{
    char n[160], sid[2 * TC_SESSID_LEN + 1];

    if (c->ready) {
        return;
    }
    c->ready = true;
    c->state = TC_CTL_S_ESTABLISHED;
    tc_stats_ready(c->encrypted, c->has_sid ? c->sid : NULL);
    gate_end(c);
    if (c->encrypted) {
        tc_log_conn("%s established encrypted (TEP 0x%02x, %s%s), session %s",
                    conn_name(c, n, sizeof(n)), c->tep_byte,
                    c->sess->aead != NULL ? c->sess->aead->name : "?",
                    c->sess->resumed ? ", resumed" : "", tc_hex(sid, c->sid, TC_SESSID_LEN));
    }
    if (c->fd >= 0 && c->w.fd < 0 && !c->app_gone) {
        if (tc_loop_add(&c->w, c->fd, 0, on_fd) != 0) {
            tc_conn_abort(c, ENOMEM, "cannot watch the socketpair");
            return;
        }
    }
    if (c->listener != NULL) {
        tc_listener_kick(c->listener);
    }
}

/* ------------------------------------------------------------ lwIP callbacks */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct tc_conn *c = arg;

    (void)err;
    if (c == NULL) {
        if (p != NULL) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    cb_enter(pcb);
    if (p == NULL) {
        c->peer_fin = true;
    } else {
        tc_relay_rx(c, p);
    }
    tc_relay_pump(c);
    return cb_result(pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct tc_conn *c = arg;

    (void)len;
    if (c == NULL) {
        return ERR_OK;
    }
    cb_enter(pcb);
    tc_relay_pump(c);
    return cb_result(pcb);
}

void tc_conn_rst_ignored(struct tcp_pcb *pcb)
{
    struct tc_conn *c = pcb->callback_arg;
    char n[160];

    if (c == NULL || c->sess == NULL || c->sess->state != TC_SESS_OPEN || c->finp_sealed) {
        return;
    }
    /* §3.9: "implementations SHOULD ... initiate a re-key and send an
     * (empty) frame"; the peer must answer with a frame of its own.  The
     * poll callback sends it (not from inside lwIP's input processing). */
    if (tc_channel_rekey(&c->sess->ch) == TC_OK) {
        c->sess->ch.rekey_reply_due = true;
    }
    tc_log_conn("%s RST ignored (TCP_CRYPT_SECURST); checking the peer with a key update",
                conn_name(c, n, sizeof(n)));
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
    struct tc_conn *c = arg;

    if (c == NULL) {
        return ERR_OK;
    }
    /* Retries what tcp_write refused for lack of memory. */
    cb_enter(pcb);
    tc_relay_pump(c);
    return cb_result(pcb);
}

static void on_err(void *arg, err_t err)
{
    struct tc_conn *c = arg;
    int e;
    const char *why;

    if (c == NULL) {
        return;
    }
    c->pcb = NULL; /* lwIP has freed it */
    if (err == ERR_CLSD && c->tcp_up) {
        /* Both FINs exchanged and acknowledged: a normal end. */
        c->peer_fin = true;
        if (c->state == TC_CTL_S_ESTABLISHED) {
            c->state = TC_CTL_S_CLOSED;
        }
        tc_relay_pump(c);
        tc_conn_check_done(c);
        return;
    }
    if (err == ERR_RST) {
        e = c->tcp_up ? ECONNRESET : ECONNREFUSED;
        why = c->tcp_up ? "reset by peer" : "connection refused";
    } else if (err == ERR_ABRT) {
        e = ETIMEDOUT;
        why = "timed out";
    } else {
        e = ECONNABORTED;
        why = "aborted by the TCP stack";
    }
    if (c->tcp_up && c->fd >= 0) {
        /* Hand over what already arrived before the error shows. */
        tc_relay_pump(c);
    }
    if (c->fd >= 0 || c->gating || c->listener != NULL) {
        conn_failed(c, e, why);
    } else {
        tc_conn_check_done(c);
    }
}

static void set_callbacks(struct tc_conn *c, struct tcp_pcb *pcb)
{
    c->pcb = pcb;
    tcp_arg(pcb, c);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
    tcp_poll(pcb, on_poll, POLL_TICKS);
    /* The daemon reads what the application wrote in large blocks, so
     * Nagle would only add delay (TCP_NODELAY through SETOPT turns it back). */
    tcp_nagle_disable(pcb);
}

static int start_session(struct tc_conn *c, const struct tc_eno_outcome *o)
{
    struct tc_sess_config sc;
    const struct tc_aead_alg *const *all;
    size_t n;
    int rc;

    memset(&sc, 0, sizeof(sc));
    sc.rng = &tc_rng_system;
    /* TCP_CRYPT_CCONF (offered as A) or TCP_CRYPT_SCONF (preference as B),
     * else every AEAD the build has. */
    n = o->is_b ? c->sopts.nsaeads : c->sopts.ncaeads;
    if (n > 0) {
        const uint16_t *l = o->is_b ? c->sopts.saeads : c->sopts.caeads;

        for (size_t i = 0; i < n && i < TC_CTL_LIST_MAX && sc.naeads < TC_SESS_AEADS_MAX; i++) {
            sc.aeads[sc.naeads++] = l[i];
        }
    } else {
        all = tc_aead_all(&n);
        for (size_t i = 0; i < n && sc.naeads < TC_SESS_AEADS_MAX; i++) {
            sc.aeads[sc.naeads++] = all[i]->id;
        }
    }
    sc.eph = o->is_b && eph.lifetime_ms > 0 ? &eph : NULL;
    sc.now_ms = now_ms();
    sc.keylog = tc_keylog_on();
    /* Not calloc: the channel's 64 KiB receive buffer needs no zeroing (see
     * struct tc_channel); everything before it does. */
    c->sess = malloc(sizeof(*c->sess));
    if (c->sess != NULL) {
        memset(c->sess, 0, offsetof(struct tc_sess, ch) + offsetof(struct tc_channel, rx_buf));
    }
    if (c->sess == NULL) {
        return TC_E_NOMEM;
    }
    rc = sess_start(c->sess, c->pcb, o, &sc);
    return rc;
}

/* TCP is established (connected or accepted).  false when c was aborted. */
static bool tcp_established(struct tc_conn *c, struct tcp_pcb *pcb)
{
    struct tc_eno_outcome o;
    char n[160];
    int rc;

    c->tcp_up = true;
    c->up_ms = now_ms();
    ip_addr_copy(c->local_ip, pcb->local_ip);
    c->local_port = pcb->local_port;
    if (config.eno) {
        tc_eno_lwip_outcome(pcb, &o);
    } else {
        memset(&o, 0, sizeof(o));
    }
    if (!o.encrypted) {
        if (c->mandatory) {
            /* TCP_CRYPT_MANDATORY: refuse plain TCP. */
            tc_conn_abort(c, ECONNREFUSED, "TCP-ENO failed and encryption is mandatory");
            return false;
        }
        tc_stats_fallback(config.eno ? o.reason : 0);
        tc_log_conn("%s established plain (%s)", conn_name(c, n, sizeof(n)),
                    !config.eno || o.reason == 0 ? "TCP-ENO disabled" : tc_strerror(o.reason));
        tc_conn_became_ready(c);
        return c->pcb == pcb;
    }
    /* RFC 8547 §4.6: once ENO succeeded there is no falling back; from here
     * every byte either way is tcpcrypt. */
    c->encrypted = true;
    c->is_b = o.is_b;
    c->tep_byte = o.tep_byte;
    c->peer_global = o.peer_global;
    rc = start_session(c, &o);
    if (rc != TC_OK) {
        tc_conn_abort(c, EBADMSG, tc_strerror(rc));
        return false;
    }
    return true;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct tc_conn *c = arg;

    (void)err; /* always ERR_OK in lwIP 2.1.3 */
    if (c == NULL) {
        return ERR_OK;
    }
    cb_enter(pcb);
    if (!tcp_established(c, pcb)) {
        return cb_result(pcb);
    }
    tc_relay_pump(c);
    return cb_result(pcb);
}

/* ------------------------------------------------------------ the daemon end's events */

static void on_fd(struct tc_watch *w, uint32_t events)
{
    struct tc_conn *c = (struct tc_conn *)((char *)w - offsetof(struct tc_conn, w));

    if (events & EPOLLERR) {
        int e = 0;
        socklen_t len = sizeof(e);

        (void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len);
        if (e == ECONNRESET) {
            /* The application closed its end without reading what we wrote. */
            c->app_gone = true;
            c->app_closed = true;
            tc_conn_abort(c, ECONNRESET, "application closed with unread data");
            return;
        }
    }
    if ((events & EPOLLHUP) && c->linger_rst && !c->eof_sent) {
        /* SO_LINGER with a zero timeout: close() resets the connection. */
        c->app_gone = true;
        c->app_closed = true;
        tc_conn_abort(c, ECONNRESET, "application closed with SO_LINGER 0");
        return;
    }
    if (events & (EPOLLHUP | EPOLLERR)) {
        /* Every application copy is closed, or, once we sent EOF, the
         * application shut its side down too: nothing more either way. */
        c->app_closed = !c->eof_sent;
        tc_conn_app_gone(c);
        if (c->fd < 0) {
            return;
        }
    }
    tc_relay_pump(c);
}

/* ------------------------------------------------------------ CONNECT */

bool tc_conn_effective(const struct tc_ctl_sockopts *app, uint16_t port,
                       struct tc_ctl_sockopts *eff)
{
    const struct tc_ctl_sockopts *d = &config.defaults;

    memset(eff, 0, sizeof(*eff));
    eff->flags = (d->flags & ~app->set) | (app->flags & app->set);
    eff->set = app->set;
    if (app->nteps > 0 && app->nteps <= TC_CTL_LIST_MAX) {
        eff->nteps = app->nteps;
        memcpy(eff->teps, app->teps, sizeof(eff->teps));
    } else {
        eff->nteps = d->nteps;
        memcpy(eff->teps, d->teps, sizeof(eff->teps));
    }
    if (app->ncaeads > 0 && app->ncaeads <= TC_CTL_LIST_MAX) {
        eff->ncaeads = app->ncaeads;
        memcpy(eff->caeads, app->caeads, sizeof(eff->caeads));
    } else {
        eff->ncaeads = d->ncaeads;
        memcpy(eff->caeads, d->caeads, sizeof(eff->caeads));
    }
    if (app->nsaeads > 0 && app->nsaeads <= TC_CTL_LIST_MAX) {
        eff->nsaeads = app->nsaeads;
        memcpy(eff->saeads, app->saeads, sizeof(eff->saeads));
    } else {
        eff->nsaeads = d->nsaeads;
        memcpy(eff->saeads, d->saeads, sizeof(eff->saeads));
    }
    for (size_t i = 0; i < config.nplain_ports; i++) {
        if (config.plain_ports[i] == port) {
            /* Never offered here, whatever the defaults say; an application
             * that itself demands encryption is refused, not given plain
             * TCP. */
            if ((app->set & app->flags & TC_CTL_O_MANDATORY) != 0) {
                return false;
            }
            eff->flags = (eff->flags | TC_CTL_O_DISABLE) & ~TC_CTL_O_MANDATORY;
            break;
        }
    }
    return true;
}

void tc_conn_opts(const struct tc_ctl_sockopts *eff, bool passive, struct tc_eno_opts *eno,
                  bool *mandatory)
{
    uint32_t f = eff->flags;

    memset(eno, 0, sizeof(*eno));
    /* TCP_CRYPT_CMODE_ALWAYS: a passive opener is B (RFC 8547 §4.3), a role
     * this socket refuses: no TCP-ENO offer at all. */
    eno->disable = (f & TC_CTL_O_DISABLE) != 0 || (passive && (f & TC_CTL_O_ONLY_A) != 0);
    eno->role_b = !passive && (f & TC_CTL_O_ROLE_B) != 0;
    eno->app_aware = (f & (TC_CTL_O_APP_AWARE | TC_CTL_O_AA_MANDATORY)) != 0;
    eno->aa_mandatory = (f & TC_CTL_O_AA_MANDATORY) != 0;
    eno->securst = (f & TC_CTL_O_SECURST) != 0;
    eno->nocache = (f & TC_CTL_O_NOCACHE) != 0;
    *mandatory = (f & TC_CTL_O_MANDATORY) != 0 && (f & TC_CTL_O_DISABLE) == 0;
    /* TCP_CRYPT_PKCONF lists the most preferred first, ENO the other way
     * round; TEPs this build lacks are left out (none: no offer at all). */
    if (eff->nteps > 0) {
        for (size_t i = eff->nteps; i-- > 0 && eno->nteps < sizeof(eno->teps);) {
            if (tc_kex_find(eff->teps[i]) != NULL) {
                eno->teps[eno->nteps++] = eff->teps[i];
            }
        }
        if (eno->nteps == 0) {
            eno->disable = true;
        }
    }
}

static int lwip_errno(err_t e)
{
    switch (e) {
    case ERR_RTE:
        return ENETUNREACH;
    case ERR_USE:
        return EADDRINUSE;
    case ERR_MEM:
    case ERR_BUF:
        return ENOBUFS;
    case ERR_VAL:
    case ERR_ARG:
        return EINVAL;
    case ERR_ISCONN:
        return EISCONN;
    default:
        return EIO;
    }
}

int tc_conn_connect(const struct tc_ctl_connect *req, struct tc_ctl_r_connect *rep, int *app_fd)
{
    ip_addr_t rip, lip;
    uint16_t rport, lport = 0;
    bool v6_sock, lv6;
    bool has_local = req->local.len != 0;
    struct tc_eno_opts eo;
    struct tcp_pcb *pcb;
    struct tc_conn *c;
    int app = -1, e;
    err_t le;

    *app_fd = -1;
    if (!tc_addr_from_ctl(&req->remote, &rip, &rport, &v6_sock)) {
        return EAFNOSUPPORT;
    }
    if (!tc_netif_serves(&rip)) {
        return TC_CTL_PASS;
    }
    if (has_local) {
        if (!tc_addr_from_ctl(&req->local, &lip, &lport, &lv6)) {
            return EAFNOSUPPORT;
        }
        if (ip_addr_isany(&lip)) {
            has_local = lport != 0;
        } else if (IP_GET_TYPE(&lip) != IP_GET_TYPE(&rip)) {
            return EINVAL;
        } else if (!tc_netif_is_own(&lip)) {
            /* Bound to a kernel address: the kernel's business. */
            return TC_CTL_PASS;
        }
    }
    pcb = tcp_new_ip_type(IP_GET_TYPE(&rip));
    if (pcb == NULL) {
        return ENOBUFS;
    }
    c = conn_new();
    if (c == NULL) {
        tcp_close(pcb);
        return ENOMEM;
    }
    if (!tc_conn_effective(&req->opts, rport, &c->sopts)) {
        e = ECONNREFUSED;
        goto fail;
    }
    tc_conn_opts(&c->sopts, false, &eo, &c->mandatory);
    c->v6_sock = v6_sock;
    c->state = TC_CTL_S_CONNECTING;
    c->start_ms = now_ms();
    ip_addr_copy(c->remote_ip, rip);
    c->remote_port = rport;
    tc_lwip_initial_rto(pcb);
    if (config.eno && tc_eno_lwip_attach(pcb, &eo) != TC_OK) {
        e = ENOMEM;
        goto fail;
    }
    if (has_local) {
        if (ip_addr_isany(&lip)) {
            le = tcp_bind(pcb, IP_IS_V6(&rip) ? IP6_ADDR_ANY : IP4_ADDR_ANY, lport);
        } else {
            le = tcp_bind(pcb, &lip, lport);
        }
        if (le != ERR_OK) {
            e = le == ERR_USE ? EADDRINUSE : lwip_errno(le);
            goto fail;
        }
    }
    e = tc_conn_make_pair(SOCK_STREAM, &app, &c->fd, &c->ino);
    if (e == 0) {
        e = gate_start(c, app);
    }
    if (e != 0) {
        goto fail;
    }
    set_callbacks(c, pcb);
    le = tcp_connect(pcb, &rip, rport, on_connected);
    if (le != ERR_OK) {
        e = le == ERR_USE ? EADDRNOTAVAIL : lwip_errno(le);
        detach_pcb(c);
        goto fail;
    }
    ip_addr_copy(c->local_ip, pcb->local_ip);
    c->local_port = pcb->local_port;
    tc_addr_to_ctl(&c->local_ip, c->local_port, v6_sock, &rep->local);
    hash_add(c);
    *app_fd = app;
    if (tc_log_enabled(TC_LOG_DEBUG)) {
        char n[160];

        tc_debug("%s connecting", conn_name(c, n, sizeof(n)));
    }
    return 0;

fail:
    c->pcb = NULL;
    tcp_close(pcb); /* not connected: frees it, sends nothing */
    if (app >= 0) {
        close(app);
    }
    if (c->gate_fd >= 0) {
        close(c->gate_fd);
        c->gate_fd = -1;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->ino = 0;
    conn_drop(c);
    return e;
}

/* ------------------------------------------------------------ accepted by a listener */

struct tc_conn *tc_conn_accepted(struct tcp_pcb *pcb, struct tc_listener *l,
                                 const struct tc_ctl_sockopts *eff, bool v6_sock, int *app_fd,
                                 bool *aborted)
{
    struct tc_conn *c = conn_new();
    struct tc_eno_opts eo; /* the pcb inherited them from its listener */
    int app;

    *aborted = false;
    *app_fd = -1;
    if (c == NULL) {
        return NULL;
    }
    c->passive = true;
    c->sopts = *eff;
    tc_conn_opts(eff, true, &eo, &c->mandatory);
    c->v6_sock = v6_sock;
    c->state = TC_CTL_S_CONNECTING;
    ip_addr_copy(c->remote_ip, pcb->remote_ip);
    c->remote_port = pcb->remote_port;
    if (tc_conn_make_pair(SOCK_STREAM, &app, &c->fd, &c->ino) != 0) {
        conn_drop(c);
        return NULL;
    }
    hash_add(c);
    set_callbacks(c, pcb);
    if (!tcp_established(c, pcb)) {
        /* Aborted (mandatory encryption failed, or no memory): the
         * application never sees it. */
        close(app);
        c->app_closed = true;
        c->app_gone = true;
        tc_conn_check_done(c);
        *aborted = true;
        return NULL;
    }
    c->listener = l;
    *app_fd = app;
    tc_relay_pump(c);
    *aborted = c->pcb != pcb;
    return c;
}

bool tc_conn_ready(const struct tc_conn *c)
{
    return c->ready && c->state == TC_CTL_S_ESTABLISHED;
}

bool tc_conn_failed(const struct tc_conn *c)
{
    return c->state == TC_CTL_S_FAILED || (!c->ready && c->fd < 0);
}

void tc_conn_accepted_msg(const struct tc_conn *c, struct tc_ctl_accepted *m)
{
    memset(m, 0, sizeof(*m));
    m->h.op = TC_CTL_ACCEPTED;
    m->h.len = sizeof(*m);
    m->flags = c->encrypted ? TC_CTL_F_ENCRYPTED : 0;
    tc_addr_to_ctl(&c->local_ip, c->local_port, c->v6_sock, &m->local);
    tc_addr_to_ctl(&c->remote_ip, c->remote_port, c->v6_sock, &m->remote);
}

void tc_conn_dequeued(struct tc_conn *c, bool delivered)
{
    c->listener = NULL;
    if (!delivered) {
        if (c->pcb != NULL || c->fd >= 0) {
            tc_conn_abort(c, ECONNRESET, "listener closed before accept");
        }
        c->app_gone = true;
        c->app_closed = true;
        tc_conn_check_done(c);
        return;
    }
    if (c->pcb != NULL) {
        tcp_backlog_accepted(c->pcb);
    }
    tc_conn_check_done(c);
}

/* ------------------------------------------------------------ STATUS, GETOPT, SETOPT */

int tc_conn_status(int fd, const struct tc_ctl_status *req, struct tc_ctl_r_status *rep)
{
    struct tc_conn *c = lookup_fd(fd);

    if (c == NULL) {
        return ENOENT;
    }
    rep->state = c->state;
    rep->so_error = c->so_error;
    rep->read_error = c->read_error;
    rep->flags = c->encrypted ? TC_CTL_F_ENCRYPTED : 0;
    tc_addr_to_ctl(&c->local_ip, c->local_port, c->v6_sock, &rep->local);
    tc_addr_to_ctl(&c->remote_ip, c->remote_port, c->v6_sock, &rep->remote);
    if (req->clear_error) {
        /* SO_ERROR reads clear the pending error; read_error stays. */
        c->so_error = 0;
    }
    return 0;
}

static void opt_int(struct tc_ctl_opt *rep, int v)
{
    rep->len = sizeof(v);
    memcpy(rep->value, &v, sizeof(v));
}

/* The key exchange's public keys (TCP_CRYPT_PUBKEY): ours from the
 * session, the peer's decoded again from its Init message. */
static int opt_pubkeys(const struct tc_conn *c, struct tc_ctl_opt *rep)
{
    struct tcp_crypt_pubkeys pk;
    const struct tc_sess *s = c->sess;
    const uint8_t *peer = NULL;
    union {
        struct tc_init1 i1;
        struct tc_init2 i2;
    } m;
    size_t n;

    memset(&pk, 0, sizeof(pk));
    pk.ours = c->is_b ? 'B' : 'A';
    if (s != NULL && s->kx != NULL && s->init_in_len > 0) {
        if (s->is_b ? tc_init1_decode(s->init_in, s->init_in_len, s->kx, &m.i1) == TC_OK
                    : tc_init2_decode(s->init_in, s->init_in_len, s->kx, s->offered, s->noffered,
                                      &m.i2) == TC_OK) {
            peer = s->is_b ? m.i1.pub : m.i2.pub;
        }
        n = s->kx->pub_len;
        if (peer == NULL || n > TCPCRYPT_PUBKEY_MAX) {
            return ENOPROTOOPT;
        }
        memcpy(s->is_b ? pk.b : pk.a, s->pub, n);
        memcpy(s->is_b ? pk.a : pk.b, peer, n);
        pk.len_a = pk.len_b = (unsigned char)n;
    }
    /* else a resumed session: no key exchange, both lengths 0 */
    rep->len = sizeof(pk);
    memcpy(rep->value, &pk, sizeof(pk));
    return 0;
}

/* TCP_INFO from the daemon's TCP: lwIP's own figures (its timers tick in
 * TCP_SLOW_INTERVAL steps, so RTT and RTO are that coarse). */
static int opt_tcp_info(const struct tc_conn *c, struct tc_ctl_opt *rep)
{
    const struct tcp_pcb *p = c->pcb;
    struct tcp_info ti;
    const uint32_t tick_us = TCP_SLOW_INTERVAL * 1000;

    memset(&ti, 0, sizeof(ti));
    if (p == NULL) {
        ti.tcpi_state = TCP_CLOSE;
    } else {
        switch (p->state) {
        case SYN_SENT:
            ti.tcpi_state = TCP_SYN_SENT;
            break;
        case SYN_RCVD:
            ti.tcpi_state = TCP_SYN_RECV;
            break;
        case ESTABLISHED:
            ti.tcpi_state = TCP_ESTABLISHED;
            break;
        case FIN_WAIT_1:
            ti.tcpi_state = TCP_FIN_WAIT1;
            break;
        case FIN_WAIT_2:
            ti.tcpi_state = TCP_FIN_WAIT2;
            break;
        case CLOSE_WAIT:
            ti.tcpi_state = TCP_CLOSE_WAIT;
            break;
        case CLOSING:
            ti.tcpi_state = TCP_CLOSING;
            break;
        case LAST_ACK:
            ti.tcpi_state = TCP_LAST_ACK;
            break;
        case TIME_WAIT:
            ti.tcpi_state = TCP_TIME_WAIT;
            break;
        default:
            ti.tcpi_state = TCP_CLOSE;
            break;
        }
        ti.tcpi_retransmits = p->nrtx;
        ti.tcpi_backoff = p->nrtx;
        if (p->flags & TF_WND_SCALE) {
            ti.tcpi_options |= TCPI_OPT_WSCALE;
            ti.tcpi_snd_wscale = p->snd_scale & 0xf;
            ti.tcpi_rcv_wscale = p->rcv_scale & 0xf;
        }
        if (p->flags & TF_SACK) {
            ti.tcpi_options |= TCPI_OPT_SACK;
        }
        ti.tcpi_rto = (uint32_t)(p->rto > 0 ? p->rto : 0) * tick_us;
        ti.tcpi_snd_mss = p->mss;
        ti.tcpi_rcv_mss = p->mss;
        ti.tcpi_advmss = TCP_MSS;
        ti.tcpi_pmtu = p->mss + 40;
        ti.tcpi_unacked = p->snd_queuelen;
        ti.tcpi_rtt = (uint32_t)(p->sa > 0 ? p->sa >> 3 : 0) * tick_us;
        ti.tcpi_rttvar = (uint32_t)(p->sv > 0 ? p->sv >> 2 : 0) * tick_us;
        ti.tcpi_snd_ssthresh = p->mss > 0 ? p->ssthresh / p->mss : 0;
        ti.tcpi_snd_cwnd = p->mss > 0 ? p->cwnd / p->mss : 0;
        ti.tcpi_rcv_space = p->rcv_wnd;
        ti.tcpi_rcv_ssthresh = p->rcv_ann_wnd;
    }
    rep->len = sizeof(ti);
    memcpy(rep->value, &ti, sizeof(ti));
    return 0;
}

static void opt_list(struct tc_ctl_opt *rep, const void *list, size_t n, bool wide)
{
    int v[TC_CTL_LIST_MAX];

    n = n < TC_CTL_LIST_MAX ? n : TC_CTL_LIST_MAX;
    for (size_t i = 0; i < n; i++) {
        v[i] = wide ? ((const uint16_t *)list)[i] : ((const uint8_t *)list)[i];
    }
    rep->len = (uint32_t)(n * sizeof(int));
    memcpy(rep->value, v, rep->len);
}

int tc_conn_getopt(int fd, const struct tc_ctl_opt *req, struct tc_ctl_opt *rep)
{
    struct tc_conn *c = lookup_fd(fd);
    const struct tc_ctl_sockopts *o;
    struct tcp_crypt_conf cf;

    if (c == NULL) {
        return ENOENT;
    }
    o = &c->sopts;
    rep->name = req->name;
    rep->len = 0;
    /* The settings in force hold on every connection, plain or not. */
    switch (req->name) {
    case TCP_CRYPT_ENABLE:
        opt_int(rep, (o->flags & TC_CTL_O_DISABLE) == 0);
        return 0;
    case TCP_CRYPT_MANDATORY:
        opt_int(rep, (o->flags & TC_CTL_O_MANDATORY) != 0);
        return 0;
    case TCP_CRYPT_NOCACHE:
        opt_int(rep, (o->flags & TC_CTL_O_NOCACHE) != 0);
        return 0;
    case TCP_CRYPT_SECURST:
        opt_int(rep, (o->flags & TC_CTL_O_SECURST) != 0);
        return 0;
    case TCP_CRYPT_ROLE_B:
        opt_int(rep, (o->flags & TC_CTL_O_ROLE_B) != 0);
        return 0;
    case TCP_CRYPT_AA_MANDATORY:
        opt_int(rep, (o->flags & TC_CTL_O_AA_MANDATORY) != 0);
        return 0;
    case TCP_CRYPT_CMODE: {
        bool nk = (o->flags & TC_CTL_O_NOCACHE) != 0;

        opt_int(rep, (o->flags & TC_CTL_O_ONLY_A)   ? (nk ? TCP_CRYPT_CMODE_ALWAYS_NK
                                                          : TCP_CRYPT_CMODE_ALWAYS)
                     : (o->flags & TC_CTL_O_ROLE_B) ? (nk ? TCP_CRYPT_CMODE_NEVER_NK
                                                          : TCP_CRYPT_CMODE_NEVER)
                                                    : TCP_CRYPT_CMODE_DEFAULT);
        return 0;
    }
    case TCP_CRYPT_PKCONF:
        opt_list(rep, o->teps, o->nteps, false);
        return 0;
    case TCP_CRYPT_CCONF:
        opt_list(rep, o->caeads, o->ncaeads, true);
        return 0;
    case TCP_CRYPT_SCONF:
        opt_list(rep, o->saeads, o->nsaeads, true);
        return 0;
    case TCP_INFO:
        return opt_tcp_info(c, rep);
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
    case TCP_KEEPCNT:
        if (c->pcb == NULL) {
            return ENOTCONN;
        }
        opt_int(rep, req->name == TCP_KEEPIDLE    ? (int)(c->pcb->keep_idle / 1000)
                     : req->name == TCP_KEEPINTVL ? (int)(c->pcb->keep_intvl / 1000)
                                                  : (int)c->pcb->keep_cnt);
        return 0;
    default:
        break;
    }
    if (!c->encrypted || !c->has_sid) {
        /* Not encrypted (plain TCP), or the tcpcrypt handshake has not
         * finished: as a kernel without tcpcrypt would answer. */
        return ENOPROTOOPT;
    }
    switch (req->name) {
    case TCP_CRYPT_SESSID:
        rep->len = TC_SESSID_LEN;
        memcpy(rep->value, c->sid, TC_SESSID_LEN);
        return 0;
    case TCP_CRYPT_ROLE:
        opt_int(rep, c->is_b ? 'B' : 'A');
        return 0;
    case TCP_CRYPT_TEP:
        opt_int(rep, c->tep_byte & 0x7f);
        return 0;
    case TCP_CRYPT_APP_AWARE:
    case TCP_CRYPT_SUPPORT:
        opt_int(rep, (c->peer_global & TC_ENO_GOPT_A) != 0);
        return 0;
    case TCP_CRYPT_CONF:
        memset(&cf, 0, sizeof(cf));
        cf.tep = c->tep_byte & 0x7f;
        cf.aead = c->sess != NULL && c->sess->aead != NULL ? c->sess->aead->id : 0;
        cf.resumed = (c->sid[0] & 0x80) != 0; /* §3.5: TEP|0x80 */
        cf.role = c->is_b ? 'B' : 'A';
        rep->len = sizeof(cf);
        memcpy(rep->value, &cf, sizeof(cf));
        return 0;
    case TCP_CRYPT_PUBKEY:
        return opt_pubkeys(c, rep);
    default:
        return ENOPROTOOPT;
    }
}

int tc_conn_setopt(int fd, const struct tc_ctl_opt *req)
{
    struct tc_conn *c;
    uint8_t peer[TC_PEER_ID_MAX];
    size_t peer_len;
    int v;

    if (req->name == TCP_CRYPT_CACHE_FLUSH && fd < 0) {
        tc_info("resumption cache flushed on request (%zu entries)",
                tc_resume_flush_all(&resume_cache));
        return 0;
    }
    if (req->name == TC_CTL_OPT_LISTENER) {
        if (req->len != sizeof(struct tc_ctl_sockopts)) {
            return EINVAL;
        }
        return tc_listener_setopts(fd, (const struct tc_ctl_sockopts *)(const void *)req->value);
    }
    c = lookup_fd(fd);
    if (c == NULL) {
        return ENOENT;
    }
    if (req->name == TCP_CRYPT_CACHE_FLUSH) {
        peer_len = tc_eno_peer_id(&c->remote_ip, peer);
        tc_debug("resumption cache: %zu entries of a peer flushed on request",
                 tc_resume_flush_peer(&resume_cache, peer, peer_len));
        return 0;
    }
    if (req->name == TC_CTL_OPT_SOCKET(SO_LINGER)) {
        struct linger lg;

        if (req->len < sizeof(lg)) {
            return EINVAL;
        }
        memcpy(&lg, req->value, sizeof(lg));
        /* l_linger 0: close() resets the connection (RFC 9293 abort), as
         * with the kernel; other values: a normal close (the application's
         * close() cannot wait for the daemon). */
        c->linger_rst = lg.l_onoff != 0 && lg.l_linger == 0;
        return 0;
    }
    if (req->name == TC_CTL_OPT_SOCKET(SO_KEEPALIVE) || req->name == TCP_KEEPIDLE ||
        req->name == TCP_KEEPINTVL || req->name == TCP_KEEPCNT) {
        if (req->len < sizeof(v)) {
            return EINVAL;
        }
        memcpy(&v, req->value, sizeof(v));
        if (c->pcb == NULL) {
            return 0;
        }
        if (req->name == TC_CTL_OPT_SOCKET(SO_KEEPALIVE)) {
            if (v) {
                ip_set_option(c->pcb, SOF_KEEPALIVE);
            } else {
                ip_reset_option(c->pcb, SOF_KEEPALIVE);
            }
        } else if (v < 1 || v > (req->name == TCP_KEEPCNT ? 127 : 32767)) {
            return EINVAL;
        } else if (req->name == TCP_KEEPIDLE) {
            c->pcb->keep_idle = (u32_t)v * 1000;
        } else if (req->name == TCP_KEEPINTVL) {
            c->pcb->keep_intvl = (u32_t)v * 1000;
        } else {
            c->pcb->keep_cnt = (u32_t)v;
        }
        return 0;
    }
    if (req->name == TCP_NODELAY) {
        if (req->len != sizeof(v)) {
            return EINVAL;
        }
        memcpy(&v, req->value, sizeof(v));
        if (c->pcb != NULL) {
            if (v) {
                tcp_nagle_disable(c->pcb);
            } else {
                tcp_nagle_enable(c->pcb);
            }
        }
        return 0;
    }
    /* TCP_CRYPT_* options are carried with CONNECT/LISTEN; nothing can be
     * changed on an established connection. */
    return EISCONN;
}

/* ------------------------------------------------------------ listing */

static const char *state_name(const struct tc_conn *c)
{
    if (c->state == TC_CTL_S_FAILED) {
        return "failed";
    }
    if (c->state == TC_CTL_S_CONNECTING) {
        return c->tcp_up ? "handshake" : "connecting";
    }
    if (c->zombie || (c->pcb == NULL && c->fd < 0)) {
        return "closed";
    }
    if (c->state == TC_CTL_S_CLOSED || c->tx_fin || c->peer_fin || c->app_gone) {
        return "closing";
    }
    return "established";
}

void tc_conn_foreach(void (*fn)(const struct tc_conn_info *info, void *arg), void *arg)
{
    uint64_t now = now_ms();

    for (struct tc_conn *c = conns; c != NULL; c = c->next) {
        struct tc_conn_info i;
        uint64_t since = c->start_ms != 0 ? c->start_ms : c->up_ms;

        if (c->dropped) {
            continue;
        }
        memset(&i, 0, sizeof(i));
        i.id = c->id;
        tc_addr_to_ctl(&c->local_ip, c->local_port, c->v6_sock, &i.local);
        tc_addr_to_ctl(&c->remote_ip, c->remote_port, c->v6_sock, &i.remote);
        i.state = state_name(c);
        i.passive = c->passive;
        i.encrypted = c->encrypted;
        i.is_b = c->is_b;
        i.has_sid = c->has_sid;
        i.open = c->pcb != NULL || c->fd >= 0;
        i.tep_byte = c->tep_byte;
        i.aead = c->sess != NULL && c->sess->aead != NULL ? c->sess->aead->name : NULL;
        i.sid = c->sid;
        i.read_error = c->read_error;
        i.bytes = c->bytes;
        i.age_ms = since != 0 && now > since ? now - since : 0;
        fn(&i, arg);
    }
}

/* ------------------------------------------------------------ timers, shutdown */

static int cmp_ino(const void *a, const void *b)
{
    ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;

    return x < y ? -1 : x > y;
}

/* Drop the records whose application end no longer exists. */
static void reap_zombies(void)
{
    FILE *f = fopen("/proc/self/net/unix", "re");
    ino_t *inos = NULL;
    size_t n = 0, cap = 0, dropped = 0;
    char line[512];

    if (f == NULL) {
        return;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned long long ino;

        /* Num RefCount Protocol Flags Type St Inode [Path] */
        if (sscanf(line, "%*s %*s %*s %*s %*s %*s %llu", &ino) != 1) {
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 1024;
            ino_t *p = realloc(inos, ncap * sizeof(*p));

            if (p == NULL) {
                fclose(f);
                free(inos);
                return;
            }
            inos = p;
            cap = ncap;
        }
        inos[n++] = (ino_t)ino;
    }
    fclose(f);
    if (n > 0) {
        qsort(inos, n, sizeof(*inos), cmp_ino);
    }
    for (struct tc_conn *c = conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->zombie && (n == 0 || bsearch(&c->ino, inos, n, sizeof(*inos), cmp_ino) == NULL)) {
            conn_drop(c);
            dropped++;
        }
    }
    free(inos);
    if (dropped > 0) {
        tc_debug("%zu records of closed connections dropped, %zu kept", dropped, nzombies);
    }
}

void tc_conn_tick(void)
{
    static unsigned ticks;
    uint64_t now = now_ms();

    /* Aborting one connection may end others (a listener dropping its
     * queue): unlinked records stay valid until the next reap, and are
     * skipped. */
    for (struct tc_conn *c = conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->zombie || c->dropped) {
            continue;
        }
        if (c->pcb != NULL && c->gating && !c->tcp_up && now - c->start_ms >= UNREACH_MS &&
            tc_netif_unresolved(&c->remote_ip)) {
            tc_conn_abort(c, EHOSTUNREACH, "no route to host (no neighbour answers)");
        } else if (c->tcp_up && !c->ready && c->pcb != NULL &&
                   now - c->up_ms >= config.handshake_timeout_ms) {
            tc_conn_abort(c, ETIMEDOUT, "tcpcrypt handshake timed out");
        } else if (c->app_gone && c->pcb != NULL && now - c->gone_ms >= LINGER_TIMEOUT_MS) {
            tc_conn_abort(c, ETIMEDOUT, "peer did not finish closing");
        }
    }
    tc_eph_cache_expire(&eph, now);
    if (nzombies > 0 && ++ticks % 2 == 0) {
        reap_zombies();
    }
}

void tc_conn_fini(void)
{
    tc_listeners_fini();
    while (conns != NULL) {
        struct tc_conn *c = conns;
        struct tcp_pcb *pcb = c->pcb;

        if (pcb != NULL) {
            detach_pcb(c);
            tcp_abort(pcb);
        }
        close_fd(c, false);
        if (c->gate_fd >= 0) {
            close(c->gate_fd);
            c->gate_fd = -1;
        }
        c->listener = NULL;
        conn_drop(c);
    }
    tc_loop_reap();
    tc_eph_cache_wipe(&eph);
    tc_resume_cache_destroy(&resume_cache);
}
