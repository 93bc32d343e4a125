/*
 * tc-mbox: a middlebox and impairment relay for the network tests.
 *
 *   tc-mbox IF_A IF_B [options]
 *
 * Forwards every Ethernet frame between two interfaces (two AF_PACKET raw
 * sockets, as a two-port bridge would) and applies to IPv4 TCP segments the
 * behaviours of middleboxes seen on real paths (RFC 8547 §8.1 and §9,
 * RFC 8548 §8).  Other frames (ARP, IPv6, ICMP) pass unchanged.  Checksums
 * (IPv4 header and TCP) are recomputed on every segment the relay changes.
 *
 * Option stripping (the ENO option, kind 69, is overwritten with NOPs, as
 * iptables' TCPOPTSTRIP does):
 *   --strip-eno syn      from SYNs (no ACK flag)
 *   --strip-eno synack   from SYN-ACKs
 *   --strip-eno third    from the third segment only: the active opener's
 *                        first non-SYN segment after the SYN-ACK
 *   --strip-eno after    from every non-SYN segment except the third one
 *                        (the handshake keeps ENO, the rest loses it)
 *   --echo-syn-opts      a SYN-ACK's ENO option is replaced by the ENO option
 *                        of the flow's SYN, verbatim (load balancers that echo
 *                        unknown SYN options, RFC 8547 §8.1)
 * Rewriting:
 *   --seq-offset N       every segment's sequence number + N and its
 *                        acknowledgment number (and SACK edges) - N, both
 *                        ways: each end sees the other's numbers shifted by N
 *   --mss N              MSS option of SYNs and SYN-ACKs lowered to N
 *   --split N            segments with more than N payload bytes are cut into
 *                        segments of at most N bytes (FIN and PSH on the last)
 *   --coalesce           a data segment is held up to 2 ms and merged with the
 *                        next contiguous one of the same flow and direction
 *                        when the result fits in 1500 IP bytes (headers and
 *                        options of the later one, the earlier one's sequence
 *                        number); combine with --mss to see it often
 *   --proxy-ack          each data segment is forwarded unchanged and, at once,
 *                        acknowledged toward its sender by the relay (an ACK
 *                        for the contiguous data seen so far, with the far
 *                        end's last window and timestamps); the far end's own
 *                        ACKs still pass.  The relay keeps no copy of the data:
 *                        it relies on dropping nothing itself, so it refuses
 *                        to run with --drop or --corrupt
 * Impairments (rates P are fractions, 0.02, or percentages, 2%; they apply
 * to TCP segments, SYNs included, drawn from a PRNG seeded by --seed):
 *   --drop P --dup P     drop, or send twice
 *   --reorder P          hold a segment until the next one of its direction
 *                        has gone (at most 20 ms)
 *   --delay-ms N         every frame, TCP or not, leaves N ms late
 *   --corrupt P          flip one bit of one payload byte of a data segment and
 *                        fix the TCP checksum, so that TCP accepts it and only
 *                        tcpcrypt can notice
 *   --seed N             PRNG seed (default 1)
 * Scope:
 *   --port N             apply every mode above only to segments from or to
 *                        TCP port N; everything else passes unchanged (other
 *                        connections through the box are the control group)
 * Output:
 *   --stats FILE         the counters line, written at exit
 *   --verbose            one line per modified segment
 * On SIGUSR1 it prints the counters line (and rewrites --stats) and goes on;
 * on SIGTERM or SIGINT it prints one line of counters to stdout and exits 0:
 *   tc-mbox: frames=F tcp=T forwarded=W modified=M eno_stripped=S ... dropped=D
 * One error line and exit status 1 for bad arguments or interfaces.
 *
 * The relay is a test tool: it assumes 1500-byte MTUs and no offloads (set
 * with ethtool -K IF tx off rx off tso off gso off gro off on its interfaces
 * and the hosts' veth ends, as tests/netns/lib.sh's setup_hosts_mbox does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_MAX 65600
#define ETH_HDR 14
#define MBOX_MTU 1500
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_SACK 5
#define OPT_TS 8
#define OPT_ENO 69
#define QUEUE_MAX 8192
#define FLOWS_MAX 512
#define HOLD_COALESCE_MS 2
#define HOLD_REORDER_MS 20

enum strip_mode { STRIP_NONE, STRIP_SYN, STRIP_SYNACK, STRIP_THIRD, STRIP_AFTER };

static struct {
    enum strip_mode strip;
    bool echo_syn;
    uint32_t seq_offset;
    unsigned mss;
    unsigned split;
    bool coalesce;
    bool proxy_ack;
    double drop, dup, reorder, corrupt;
    unsigned delay_ms;
    unsigned port; /* 0: all TCP */
    uint64_t seed;
    const char *stats_file;
    bool verbose;
} cfg = {.seed = 1};

static struct {
    uint64_t frames, tcp, forwarded, modified, eno_stripped, echoed, seq_rewritten, mss_rewritten,
        split_in, split_out, coalesced, proxy_acks, dropped, duplicated, reordered, delayed,
        corrupted, overflow;
} st;

static volatile sig_atomic_t stop, report;
static void on_signal(int sig)
{
    if (sig == SIGUSR1) {
        report = 1;
    } else {
        stop = 1;
    }
}

/* xorshift64*: reproducible draws from --seed. */
static uint64_t rng_state;
static double rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}
static bool chance(double p) { return p > 0 && rnd() < p; }

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (; n > 1; p += 2, n -= 2) {
        s += get16(p);
    }
    if (n) {
        s += (uint32_t)p[0] << 8;
    }
    return s;
}
static uint16_t fold(uint32_t s)
{
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

/* A parsed IPv4/TCP frame: offsets into the frame buffer. */
struct seg {
    uint8_t *f;
    size_t len;  /* frame bytes */
    size_t ip;   /* offset of the IP header */
    size_t ihl;  /* IP header bytes */
    size_t tcp;  /* offset of the TCP header */
    size_t doff; /* TCP header bytes, options included */
    size_t pay;  /* payload bytes */
    uint8_t flags;
};

static bool parse(uint8_t *f, size_t len, struct seg *s)
{
    size_t total;

    if (len < ETH_HDR + 20 || get16(f + 12) != ETH_P_IP) {
        return false;
    }
    s->f = f;
    s->ip = ETH_HDR;
    if ((f[s->ip] >> 4) != 4 || f[s->ip + 9] != 6) {
        return false;
    }
    s->ihl = (size_t)(f[s->ip] & 0x0f) * 4;
    total = get16(f + s->ip + 2);
    if (s->ihl < 20 || total < s->ihl + 20 || s->ip + total > len ||
        (get16(f + s->ip + 6) & 0x3fff) != 0) { /* fragments pass untouched */
        return false;
    }
    s->tcp = s->ip + s->ihl;
    s->doff = (size_t)(f[s->tcp + 12] >> 4) * 4;
    if (s->doff < 20 || s->ihl + s->doff > total) {
        return false;
    }
    s->pay = total - s->ihl - s->doff;
    s->len = s->ip + total; /* Ethernet padding dropped */
    s->flags = f[s->tcp + 13];
    return true;
}

static uint32_t seq_of(const struct seg *s) { return get32(s->f + s->tcp + 4); }
static uint32_t ack_of(const struct seg *s) { return get32(s->f + s->tcp + 8); }

/* Both checksums from scratch. */
static void fix_sums(struct seg *s)
{
    uint8_t *f = s->f;
    size_t tlen = s->doff + s->pay;
    uint32_t sum;

    put16(f + s->ip + 10, 0);
    put16(f + s->ip + 10, fold(sum16(f + s->ip, s->ihl, 0)));
    put16(f + s->tcp + 16, 0);
    sum = sum16(f + s->ip + 12, 8, 6 + (uint32_t)tlen);
    put16(f + s->tcp + 16, fold(sum16(f + s->tcp, tlen, sum)));
}

/* Walk the options: calls fn for each (kind, offset of the option, length). */
typedef void opt_fn(struct seg *s, uint8_t kind, size_t at, size_t olen, void *arg);
static void each_opt(struct seg *s, opt_fn *fn, void *arg)
{
    size_t i = s->tcp + 20, end = s->tcp + s->doff;

    while (i < end) {
        uint8_t kind = s->f[i];
        size_t olen;

        if (kind == OPT_EOL) {
            break;
        }
        if (kind == OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= end || s->f[i + 1] < 2 || i + s->f[i + 1] > end) {
            break; /* malformed: leave the rest alone */
        }
        olen = s->f[i + 1];
        fn(s, kind, i, olen, arg);
        i += olen;
    }
}

static void strip_eno_cb(struct seg *s, uint8_t kind, size_t at, size_t olen, void *arg)
{
    if (kind == OPT_ENO) {
        memset(s->f + at, OPT_NOP, olen);
        *(int *)arg += 1;
    }
}
static bool strip_eno(struct seg *s)
{
    int n = 0;

    each_opt(s, strip_eno_cb, &n);
    st.eno_stripped += n > 0;
    return n > 0;
}

struct eno_copy {
    uint8_t opt[40];
    size_t len;
};
static void find_eno_cb(struct seg *s, uint8_t kind, size_t at, size_t olen, void *arg)
{
    struct eno_copy *c = arg;

    if (kind == OPT_ENO && c->len + olen <= sizeof(c->opt)) {
        memcpy(c->opt + c->len, s->f + at, olen);
        c->len += olen;
    }
}

static void mss_cb(struct seg *s, uint8_t kind, size_t at, size_t olen, void *arg)
{
    if (kind == OPT_MSS && olen == 4 && get16(s->f + at + 2) > cfg.mss) {
        put16(s->f + at + 2, (uint16_t)cfg.mss);
        *(int *)arg += 1;
    }
}

static void sack_cb(struct seg *s, uint8_t kind, size_t at, size_t olen, void *arg)
{
    (void)arg;
    if (kind == OPT_SACK) {
        for (size_t k = at + 2; k + 4 <= at + olen; k += 4) {
            put32(s->f + k, get32(s->f + k) - cfg.seq_offset);
        }
    }
}

struct ts_copy {
    bool have;
    uint8_t val[8];
};
static void ts_cb(struct seg *s, uint8_t kind, size_t at, size_t olen, void *arg)
{
    struct ts_copy *t = arg;

    if (kind == OPT_TS && olen == 10) {
        t->have = true;
        memcpy(t->val, s->f + at + 2, 8);
    }
}

/* Per-flow state, only what the modes need. */
struct flow {
    bool used;
    uint32_t cip, sip; /* client (SYN sender) and server, network order */
    uint16_t cport, sport;
    bool synack_seen, third_seen;
    struct eno_copy syn_eno;
    /* per direction: 0 from the client, 1 from the server */
    uint32_t snd_nxt[2];  /* highest seq + len seen from that side */
    uint32_t rcv_nxt[2];  /* contiguous data from that side the relay acknowledged */
    bool rcv_valid[2];
    uint16_t window[2];   /* that side's last window field */
    struct ts_copy ts[2]; /* that side's last timestamps */
    uint8_t mac[2][6];    /* that side's MAC */
};
static struct flow flows[FLOWS_MAX];
static unsigned flow_next;

static struct flow *flow_of(const struct seg *s, int *dir)
{
    uint32_t src, dst;
    uint16_t sp = get16(s->f + s->tcp), dp = get16(s->f + s->tcp + 2);
    struct flow *fl;

    memcpy(&src, s->f + s->ip + 12, 4);
    memcpy(&dst, s->f + s->ip + 16, 4);
    for (unsigned k = 0; k < FLOWS_MAX; k++) {
        fl = &flows[k];
        if (!fl->used) {
            continue;
        }
        if (fl->cip == src && fl->cport == sp && fl->sip == dst && fl->sport == dp) {
            *dir = 0;
        } else if (fl->cip == dst && fl->cport == dp && fl->sip == src && fl->sport == sp) {
            *dir = 1;
        } else {
            continue;
        }
        /* A SYN on the same four-tuple (a retransmission or a new
         * connection) starts the flow afresh in the same slot. */
        if ((s->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
            goto fresh;
        }
        return fl;
    }
    if ((s->flags & (TCP_SYN | TCP_ACK)) != TCP_SYN) {
        return NULL;
    }
    fl = &flows[flow_next++ % FLOWS_MAX];
fresh:
    memset(fl, 0, sizeof(*fl));
    fl->used = true;
    fl->cip = src;
    fl->sip = dst;
    fl->cport = sp;
    fl->sport = dp;
    *dir = 0;
    return fl;
}

/* The output queue: frames with the time they may leave, in order. */
struct out {
    uint8_t *f;
    size_t len;
    int port; /* socket index */
    uint64_t due;
};
static struct out queue[QUEUE_MAX];
static size_t q_head, q_len;
static int socks[2];
static int ifindex[2];

static void enqueue(int port, const uint8_t *f, size_t len, uint64_t due)
{
    struct out *o;

    if (q_len == QUEUE_MAX) {
        st.overflow++;
        return;
    }
    o = &queue[(q_head + q_len) % QUEUE_MAX];
    o->f = malloc(len);
    if (o->f == NULL) {
        st.overflow++;
        return;
    }
    memcpy(o->f, f, len);
    o->len = len;
    o->port = port;
    o->due = due;
    q_len++;
}

static void send_frame(int port, const uint8_t *f, size_t len)
{
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = ifindex[port], .sll_halen = 6};

    memcpy(to.sll_addr, f, 6);
    for (int tries = 0; tries < 100; tries++) {
        if (sendto(socks[port], f, len, 0, (struct sockaddr *)&to, sizeof(to)) >= 0) {
            st.forwarded++;
            return;
        }
        if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
            break;
        }
        usleep(100);
    }
    st.overflow++;
}

/* Frames held back: one per output port for --coalesce and one for --reorder. */
struct held {
    bool on;
    uint8_t f[FRAME_MAX];
    size_t len;
    uint64_t until;
};
static struct held coal[2], reord[2];

static void emit(int port, uint8_t *f, size_t len);

static void flush_queue(uint64_t now)
{
    while (q_len > 0 && queue[q_head].due <= now) {
        struct out *o = &queue[q_head];

        send_frame(o->port, o->f, o->len);
        free(o->f);
        o->f = NULL;
        q_head = (q_head + 1) % QUEUE_MAX;
        q_len--;
    }
}

/* Last stage: the delay line (after drop, dup, reorder). */
static void to_wire(int port, const uint8_t *f, size_t len)
{
    if (cfg.delay_ms > 0 || q_len > 0) {
        st.delayed += cfg.delay_ms > 0;
        enqueue(port, f, len, now_ms() + cfg.delay_ms);
        flush_queue(now_ms());
    } else {
        send_frame(port, f, len);
    }
}

/* Impairments of one TCP segment on its way out. */
static void impair(int port, uint8_t *f, size_t len, bool tcp)
{
    if (tcp && chance(cfg.drop)) {
        st.dropped++;
        return;
    }
    if (tcp && cfg.reorder > 0) {
        struct held *h = &reord[port];

        if (!h->on && chance(cfg.reorder)) {
            memcpy(h->f, f, len);
            h->len = len;
            h->on = true;
            h->until = now_ms() + HOLD_REORDER_MS;
            st.reordered++;
            return;
        }
        to_wire(port, f, len);
        if (h->on) {
            h->on = false;
            to_wire(port, h->f, h->len);
        }
    } else {
        to_wire(port, f, len);
    }
    if (tcp && chance(cfg.dup)) {
        st.duplicated++;
        to_wire(port, f, len);
    }
}

static void maybe_corrupt(struct seg *s)
{
    size_t at;

    if (s->pay == 0 || !chance(cfg.corrupt)) {
        return;
    }
    at = (size_t)(rnd() * (double)s->pay);
    if (at >= s->pay) {
        at = s->pay - 1;
    }
    s->f[s->tcp + s->doff + at] ^= (uint8_t)(1u << (unsigned)(rnd() * 8) % 8);
    fix_sums(s);
    st.corrupted++;
    if (cfg.verbose) {
        printf("tc-mbox: corrupted payload byte %zu of %zu (seq %" PRIu32 ")\n", at, s->pay,
               seq_of(s));
        fflush(stdout);
    }
}

/* After the per-flow modes: cut, merge, impair. */
static void emit(int port, uint8_t *f, size_t len)
{
    struct seg s;
    bool tcp = parse(f, len, &s);

    if (!tcp) {
        to_wire(port, f, len);
        return;
    }
    len = s.len;
    if (cfg.split > 0 && s.pay > cfg.split && (s.flags & (TCP_SYN | TCP_RST)) == 0) {
        static uint8_t piece[FRAME_MAX];
        size_t hdr = s.tcp + s.doff, done = 0;
        uint8_t flags = s.flags;

        st.split_in++;
        while (done < s.pay) {
            size_t n = s.pay - done > cfg.split ? cfg.split : s.pay - done;
            struct seg p;
            bool last = done + n == s.pay;

            memcpy(piece, f, hdr);
            memcpy(piece + hdr, f + hdr + done, n);
            put16(piece + s.ip + 2, (uint16_t)(s.ihl + s.doff + n));
            put32(piece + s.tcp + 4, seq_of(&s) + (uint32_t)done);
            piece[s.tcp + 13] = last ? flags : (uint8_t)(flags & ~(TCP_FIN | TCP_PSH));
            if (!parse(piece, hdr + n, &p)) {
                break;
            }
            fix_sums(&p);
            if (cfg.corrupt > 0) {
                maybe_corrupt(&p);
            }
            impair(port, piece, hdr + n, true);
            st.split_out++;
            done += n;
        }
        return;
    }
    if (cfg.corrupt > 0) {
        maybe_corrupt(&s);
    }
    impair(port, f, len, true);
}

/* --coalesce: merge held H (same flow, direction) with S when contiguous. */
static bool same_flow(const struct seg *a, const struct seg *b)
{
    return memcmp(a->f + a->ip + 12, b->f + b->ip + 12, 8) == 0 &&
           memcmp(a->f + a->tcp, b->f + b->tcp, 4) == 0;
}

static void coalesce_out(int port, uint8_t *f, size_t len)
{
    struct held *h = &coal[port];
    struct seg s, hs;
    bool tcp = parse(f, len, &s);
    bool mergeable = tcp && s.pay > 0 && (s.flags & (TCP_SYN | TCP_RST | TCP_FIN | 0x20)) == 0;

    if (h->on) {
        bool ok = parse(h->f, h->len, &hs);

        if (ok && tcp && s.pay > 0 && (s.flags & (TCP_SYN | TCP_RST | 0x20)) == 0 &&
            same_flow(&hs, &s) && seq_of(&hs) + (uint32_t)hs.pay == seq_of(&s) &&
            s.ihl + s.doff + hs.pay + s.pay <= MBOX_MTU) {
            static uint8_t m[FRAME_MAX];
            size_t hdr = s.tcp + s.doff;
            struct seg ms;

            memcpy(m, f, hdr);
            memcpy(m + hdr, hs.f + hs.tcp + hs.doff, hs.pay);
            memcpy(m + hdr + hs.pay, f + hdr, s.pay);
            put16(m + s.ip + 2, (uint16_t)(s.ihl + s.doff + hs.pay + s.pay));
            put32(m + s.tcp + 4, seq_of(&hs));
            m[s.tcp + 13] |= (uint8_t)(hs.flags & TCP_PSH);
            h->on = false;
            if (parse(m, hdr + hs.pay + s.pay, &ms)) {
                fix_sums(&ms);
                st.coalesced++;
                if (cfg.verbose) {
                    printf("tc-mbox: coalesced %zu + %zu bytes\n", hs.pay, s.pay);
                }
                emit(port, m, ms.len);
            }
            return;
        }
        h->on = false;
        emit(port, h->f, h->len);
    }
    if (mergeable && s.len <= sizeof(h->f)) {
        memcpy(h->f, f, s.len);
        h->len = s.len;
        h->on = true;
        h->until = now_ms() + HOLD_COALESCE_MS;
        return;
    }
    emit(port, f, len);
}

/* --proxy-ack: acknowledge S toward its sender (port back) at once. */
static void proxy_ack(int back, struct flow *fl, int dir, const struct seg *s)
{
    uint32_t seq = seq_of(s), end = seq + (uint32_t)s->pay;
    uint8_t a[ETH_HDR + 20 + 32];
    size_t olen = 0;
    struct seg as;
    int far = 1 - dir;

    if (!fl->rcv_valid[dir]) {
        return;
    }
    /* Only data contiguous with what was seen (no holes acknowledged). */
    if ((int32_t)(seq - fl->rcv_nxt[dir]) > 0 || (int32_t)(end - fl->rcv_nxt[dir]) <= 0) {
        return;
    }
    fl->rcv_nxt[dir] = end;
    memset(a, 0, sizeof(a));
    memcpy(a, s->f + 6, 6); /* to the sender */
    memcpy(a + 6, s->f, 6);
    put16(a + 12, ETH_P_IP);
    a[ETH_HDR] = 0x45;
    a[ETH_HDR + 8] = 64;
    a[ETH_HDR + 9] = 6;
    memcpy(a + ETH_HDR + 12, s->f + s->ip + 16, 4);
    memcpy(a + ETH_HDR + 16, s->f + s->ip + 12, 4);
    memcpy(a + ETH_HDR + 20, s->f + s->tcp + 2, 2);
    memcpy(a + ETH_HDR + 22, s->f + s->tcp, 2);
    /* In the sender's view the far end's numbers are shifted by --seq-offset. */
    put32(a + ETH_HDR + 24, fl->snd_nxt[far] + cfg.seq_offset);
    put32(a + ETH_HDR + 28, end);
    a[ETH_HDR + 33] = TCP_ACK;
    put16(a + ETH_HDR + 34, fl->window[far]);
    if (fl->ts[far].have) {
        uint8_t *o = a + ETH_HDR + 40;

        o[0] = OPT_NOP;
        o[1] = OPT_NOP;
        o[2] = OPT_TS;
        o[3] = 10;
        memcpy(o + 4, fl->ts[far].val, 8);
        olen = 12;
    }
    a[ETH_HDR + 32] = (uint8_t)(((20 + olen) / 4) << 4);
    put16(a + ETH_HDR + 2, (uint16_t)(40 + olen));
    if (parse(a, ETH_HDR + 40 + olen, &as)) {
        fix_sums(&as);
        st.proxy_acks++;
        to_wire(back, a, as.len);
    }
}

/* One frame read from port IN, bound for the other port. */
static void handle(int in, uint8_t *f, size_t len)
{
    int out = 1 - in, dir = 0;
    struct seg s;
    struct flow *fl;
    bool changed = false;
    bool syn, synack;

    st.frames++;
    if (!parse(f, len, &s)) {
        to_wire(out, f, len);
        return;
    }
    st.tcp++;
    if (cfg.port != 0 && get16(f + s.tcp) != cfg.port && get16(f + s.tcp + 2) != cfg.port) {
        to_wire(out, f, s.len);
        return;
    }
    syn = (s.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    synack = (s.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
    fl = flow_of(&s, &dir);
    if (fl != NULL) {
        uint32_t end = seq_of(&s) + (uint32_t)s.pay + ((s.flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
        bool third = false;

        if (syn) {
            memset(&fl->syn_eno, 0, sizeof(fl->syn_eno));
            each_opt(&s, find_eno_cb, &fl->syn_eno);
        }
        if (synack && dir == 1) {
            fl->synack_seen = true;
        }
        if (dir == 0 && !syn && (s.flags & TCP_ACK) && fl->synack_seen && !fl->third_seen) {
            fl->third_seen = third = true;
        }
        switch (cfg.strip) {
        case STRIP_SYN:
            changed |= syn && strip_eno(&s);
            break;
        case STRIP_SYNACK:
            changed |= synack && strip_eno(&s);
            break;
        case STRIP_THIRD:
            changed |= third && strip_eno(&s);
            break;
        case STRIP_AFTER:
            changed |= !syn && !synack && !third && strip_eno(&s);
            break;
        case STRIP_NONE:
            break;
        }
        if (cfg.echo_syn && synack && dir == 1 && fl->syn_eno.len > 0) {
            /* The SYN-ACK's own ENO option out, the SYN's in. */
            uint8_t opts[40];
            size_t n = 0, i = s.tcp + 20, end_o = s.tcp + s.doff;

            while (i < end_o) {
                uint8_t kind = f[i];
                size_t ol = kind <= OPT_NOP ? 1 : (i + 1 < end_o ? f[i + 1] : 0);

                if (kind == OPT_EOL || ol < 1 || i + ol > end_o) {
                    break;
                }
                if (kind != OPT_ENO) {
                    memcpy(opts + n, f + i, ol);
                    n += ol;
                }
                i += ol;
            }
            if (n + fl->syn_eno.len <= 40) {
                size_t newdoff;

                memcpy(opts + n, fl->syn_eno.opt, fl->syn_eno.len);
                n += fl->syn_eno.len;
                while (n % 4) {
                    opts[n++] = OPT_NOP;
                }
                newdoff = 20 + n;
                /* A SYN-ACK carries no payload here (checked: s.pay == 0). */
                if (s.pay == 0 && s.tcp + newdoff <= FRAME_MAX) {
                    memcpy(f + s.tcp + 20, opts, n);
                    f[s.tcp + 12] = (uint8_t)((newdoff / 4) << 4);
                    put16(f + s.ip + 2, (uint16_t)(s.ihl + newdoff));
                    len = s.tcp + newdoff;
                    parse(f, len, &s);
                    changed = true;
                    st.echoed++;
                }
            }
        }
        /* Flow tracking for --proxy-ack (before any rewriting of numbers). */
        if ((int32_t)(end - fl->snd_nxt[dir]) > 0 || syn || synack) {
            fl->snd_nxt[dir] = end;
        }
        if (syn || synack) {
            fl->rcv_nxt[dir] = end;
            fl->rcv_valid[dir] = true;
        }
        fl->window[dir] = get16(f + s.tcp + 14);
        each_opt(&s, ts_cb, &fl->ts[dir]);
    }
    if (cfg.mss > 0 && (syn || synack)) {
        int n = 0;

        each_opt(&s, mss_cb, &n);
        st.mss_rewritten += n > 0;
        changed |= n > 0;
    }
    if (cfg.seq_offset != 0) {
        put32(f + s.tcp + 4, seq_of(&s) + cfg.seq_offset);
        if (s.flags & TCP_ACK) {
            put32(f + s.tcp + 8, ack_of(&s) - cfg.seq_offset);
            each_opt(&s, sack_cb, NULL);
        }
        st.seq_rewritten++;
        changed = true;
    }
    if (changed) {
        fix_sums(&s);
        st.modified++;
        if (cfg.verbose) {
            printf("tc-mbox: modified a segment, flags 0x%02x, %zu payload bytes\n", s.flags,
                   s.pay);
            fflush(stdout);
        }
    }
    if (cfg.proxy_ack && fl != NULL && s.pay > 0 && !syn && !synack) {
        /* The original numbers: proxy_ack works in the sender's space. */
        proxy_ack(in, fl, dir, &s);
    }
    if (cfg.coalesce) {
        coalesce_out(out, f, s.len);
    } else {
        emit(out, f, s.len);
    }
}

static void timers(uint64_t now)
{
    for (int p = 0; p < 2; p++) {
        if (coal[p].on && now >= coal[p].until) {
            coal[p].on = false;
            emit(p, coal[p].f, coal[p].len);
        }
        if (reord[p].on && now >= reord[p].until) {
            reord[p].on = false;
            to_wire(p, reord[p].f, reord[p].len);
        }
    }
    flush_queue(now);
}

static int next_timeout(uint64_t now)
{
    uint64_t t = UINT64_MAX;

    for (int p = 0; p < 2; p++) {
        if (coal[p].on && coal[p].until < t) {
            t = coal[p].until;
        }
        if (reord[p].on && reord[p].until < t) {
            t = reord[p].until;
        }
    }
    if (q_len > 0 && queue[q_head].due < t) {
        t = queue[q_head].due;
    }
    if (t == UINT64_MAX) {
        return 200;
    }
    return t <= now ? 0 : (int)(t - now);
}

static void stats_line(FILE *out)
{
    fprintf(out,
            "tc-mbox: frames=%" PRIu64 " tcp=%" PRIu64 " forwarded=%" PRIu64 " modified=%" PRIu64
            " eno_stripped=%" PRIu64 " echoed=%" PRIu64 " seq_rewritten=%" PRIu64
            " mss_rewritten=%" PRIu64 " split_in=%" PRIu64 " split_out=%" PRIu64
            " coalesced=%" PRIu64 " proxy_acks=%" PRIu64 " dropped=%" PRIu64
            " duplicated=%" PRIu64 " reordered=%" PRIu64 " delayed=%" PRIu64
            " corrupted=%" PRIu64 " overflow=%" PRIu64 "\n",
            st.frames, st.tcp, st.forwarded, st.modified, st.eno_stripped, st.echoed,
            st.seq_rewritten, st.mss_rewritten, st.split_in, st.split_out, st.coalesced,
            st.proxy_acks, st.dropped, st.duplicated, st.reordered, st.delayed, st.corrupted,
            st.overflow);
}

/* The counters line to stdout and to --stats: 0, or -1 after one error line. */
static int write_stats(void)
{
    FILE *f;

    stats_line(stdout);
    fflush(stdout);
    if (cfg.stats_file == NULL) {
        return 0;
    }
    f = fopen(cfg.stats_file, "w");
    if (f == NULL) {
        fprintf(stderr, "tc-mbox: %s: %s\n", cfg.stats_file, strerror(errno));
        return -1;
    }
    stats_line(f);
    if (fclose(f) != 0) {
        fprintf(stderr, "tc-mbox: %s: write failed\n", cfg.stats_file);
        return -1;
    }
    return 0;
}

static int usage(const char *msg)
{
    fprintf(stderr, "tc-mbox: %s (usage: tc-mbox IF_A IF_B [options], see tests/mbox/tc-mbox.c)\n",
            msg);
    return 1;
}

static bool parse_rate(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s) {
        return false;
    }
    if (*end == '%') {
        v /= 100;
        end++;
    }
    if (*end != '\0' || !(v >= 0 && v <= 1)) {
        return false;
    }
    *out = v;
    return true;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 0);
    if (end == s || *end != '\0' || errno != 0 || v > max || s[0] == '-') {
        return false;
    }
    *out = v;
    return true;
}

static bool takes_value(const char *opt)
{
    static const char *const with_value[] = {"--strip-eno", "--seq-offset", "--mss", "--split",
                                             "--delay-ms", "--seed", "--port", "--drop", "--dup",
                                             "--reorder", "--corrupt", "--stats"};

    for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++) {
        if (strcmp(opt, with_value[k]) == 0) {
            return true;
        }
    }
    return false;
}

static int open_port(const char *name, int k)
{
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
    int fd, sz = 8 << 20;

    ifindex[k] = (int)if_nametoindex(name);
    if (ifindex[k] == 0) {
        fprintf(stderr, "tc-mbox: no interface %s\n", name);
        return -1;
    }
    fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) {
        fprintf(stderr, "tc-mbox: AF_PACKET socket: %s\n", strerror(errno));
        return -1;
    }
    sll.sll_ifindex = ifindex[k];
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
        fprintf(stderr, "tc-mbox: bind %s: %s\n", name, strerror(errno));
        close(fd);
        return -1;
    }
    /* Large buffers: a burst must not be lost in the relay itself. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
    socks[k] = fd;
    return 0;
}

int main(int argc, char **argv)
{
    static uint8_t buf[FRAME_MAX];
    const char *ifs[2] = {NULL, NULL};
    int nifs = 0;
    struct sigaction sa;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long n;

        if (a[0] != '-') {
            if (nifs == 2) {
                return usage("more than two interfaces");
            }
            ifs[nifs++] = a;
            continue;
        }
        if (strcmp(a, "--coalesce") == 0) {
            cfg.coalesce = true;
            continue;
        }
        if (strcmp(a, "--proxy-ack") == 0) {
            cfg.proxy_ack = true;
            continue;
        }
        if (strcmp(a, "--echo-syn-opts") == 0) {
            cfg.echo_syn = true;
            continue;
        }
        if (strcmp(a, "--verbose") == 0) {
            cfg.verbose = true;
            continue;
        }
        if (!takes_value(a)) {
            fprintf(stderr, "tc-mbox: unknown option %s\n", a);
            return 1;
        }
        if (v == NULL) {
            fprintf(stderr, "tc-mbox: %s needs a value\n", a);
            return 1;
        }
        i++;
        if (strcmp(a, "--strip-eno") == 0) {
            if (strcmp(v, "syn") == 0) {
                cfg.strip = STRIP_SYN;
            } else if (strcmp(v, "synack") == 0) {
                cfg.strip = STRIP_SYNACK;
            } else if (strcmp(v, "third") == 0) {
                cfg.strip = STRIP_THIRD;
            } else if (strcmp(v, "after") == 0) {
                cfg.strip = STRIP_AFTER;
            } else {
                fprintf(stderr, "tc-mbox: --strip-eno %s: want syn, synack, third or after\n", v);
                return 1;
            }
        } else if (strcmp(a, "--seq-offset") == 0) {
            if (!parse_uint(v, UINT32_MAX, &n)) {
                fprintf(stderr, "tc-mbox: --seq-offset %s: want 0..4294967295\n", v);
                return 1;
            }
            cfg.seq_offset = (uint32_t)n;
        } else if (strcmp(a, "--mss") == 0 || strcmp(a, "--split") == 0 ||
                   strcmp(a, "--delay-ms") == 0) {
            bool mss = strcmp(a, "--mss") == 0;

            if (!parse_uint(v, mss ? 65535 : 60000, &n) || (n == 0 && strcmp(a, "--delay-ms") != 0) ||
                (mss && n < 64)) {
                fprintf(stderr, "tc-mbox: %s %s: out of range\n", a, v);
                return 1;
            }
            if (mss) {
                cfg.mss = (unsigned)n;
            } else if (strcmp(a, "--split") == 0) {
                cfg.split = (unsigned)n;
            } else {
                cfg.delay_ms = (unsigned)n;
            }
        } else if (strcmp(a, "--port") == 0) {
            if (!parse_uint(v, 65535, &n) || n == 0) {
                fprintf(stderr, "tc-mbox: --port %s: want 1..65535\n", v);
                return 1;
            }
            cfg.port = (unsigned)n;
        } else if (strcmp(a, "--seed") == 0) {
            if (!parse_uint(v, ULONG_MAX, &n)) {
                fprintf(stderr, "tc-mbox: --seed %s: want a number\n", v);
                return 1;
            }
            cfg.seed = n;
        } else if (strcmp(a, "--drop") == 0 || strcmp(a, "--dup") == 0 ||
                   strcmp(a, "--reorder") == 0 || strcmp(a, "--corrupt") == 0) {
            double *d = strcmp(a, "--drop") == 0    ? &cfg.drop
                        : strcmp(a, "--dup") == 0   ? &cfg.dup
                        : strcmp(a, "--reorder") == 0 ? &cfg.reorder
                                                      : &cfg.corrupt;
            if (!parse_rate(v, d)) {
                fprintf(stderr, "tc-mbox: %s %s: want a rate such as 0.02 or 2%%\n", a, v);
                return 1;
            }
        } else if (strcmp(a, "--stats") == 0) {
            cfg.stats_file = v;
        } else {
            fprintf(stderr, "tc-mbox: unknown option %s\n", a);
            return 1;
        }
    }
    if (nifs != 2) {
        return usage("two interfaces needed");
    }
    if (cfg.proxy_ack && (cfg.drop > 0 || cfg.corrupt > 0)) {
        fprintf(stderr, "tc-mbox: --proxy-ack keeps no copy of the data: not with --drop or "
                        "--corrupt\n");
        return 1;
    }
    rng_state = cfg.seed * 0x9E3779B97F4A7C15ULL + 1;
    if (open_port(ifs[0], 0) != 0 || open_port(ifs[1], 1) != 0) {
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    printf("tc-mbox: relaying %s <-> %s\n", ifs[0], ifs[1]);
    fflush(stdout);

    while (!stop) {
        struct pollfd pfd[2] = {{socks[0], POLLIN, 0}, {socks[1], POLLIN, 0}};
        int rc = poll(pfd, 2, next_timeout(now_ms()));

        if (rc < 0 && errno != EINTR) {
            fprintf(stderr, "tc-mbox: poll: %s\n", strerror(errno));
            return 1;
        }
        for (int k = 0; rc > 0 && k < 2; k++) {
            /* Drain what is there, a bounded batch per port. */
            for (int b = 0; b < 64 && (pfd[k].revents & POLLIN); b++) {
                struct sockaddr_ll from;
                socklen_t fl = sizeof(from);
                ssize_t n = recvfrom(socks[k], buf, sizeof(buf), MSG_DONTWAIT,
                                     (struct sockaddr *)&from, &fl);

                if (n < 0) {
                    break;
                }
                if (from.sll_pkttype == PACKET_OUTGOING) {
                    continue; /* our own transmissions */
                }
                handle(k, buf, (size_t)n);
            }
        }
        timers(now_ms());
        if (report) {
            report = 0;
            (void)write_stats();
        }
    }
    /* Whatever is held or queued leaves before the counters are final. */
    for (int p = 0; p < 2; p++) {
        reord[p].until = coal[p].until = 0;
    }
    timers(now_ms());
    while (q_len > 0) {
        flush_queue(UINT64_MAX);
    }
    return write_stats() == 0 ? 0 : 1;
}
