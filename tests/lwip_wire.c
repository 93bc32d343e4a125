/*
 * The two-netif lwIP test wire (see lwip_wire.h).
 */
#include "tests/lwip_wire.h"

#include "tests/check.h"

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

struct netif wire_netif_a, wire_netif_b;
u32_t wire_now_ms = 1000;
struct wire_capture wire_captured[WIRE_CAPTURE_LEN];
unsigned wire_n_captured;
unsigned wire_capture_overflow;

static struct wire_frame queue[WIRE_QUEUE_LEN];
static unsigned queue_head, queue_count;
static unsigned events;
static wire_mutator_fn mutator;
static void *mutator_ctx;

/* ------------------------------------------------------------ virtual clock */

static u32_t wire_clock(void)
{
    return wire_now_ms;
}

/* ------------------------------------------------------------ parsing */

static uint16_t be16(const u8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t be32(const u8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put16(u8_t *p, uint16_t v)
{
    p[0] = (u8_t)(v >> 8);
    p[1] = (u8_t)v;
}

static uint32_t sum16(uint32_t acc, const u8_t *p, size_t n)
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

bool wire_parse_tcp_options(struct wire_capture *c)
{
    size_t i = 0;

    while (i < c->optlen) {
        u8_t kind = c->opts[i];
        u8_t len;

        if (kind == 0) {
            break;
        }
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= c->optlen) {
            return false;
        }
        len = c->opts[i + 1];
        if (len < 2 || i + len > c->optlen) {
            return false;
        }
        switch (kind) {
        case 2:
            c->has_mss = true;
            break;
        case 3:
            c->has_ws = len == 3;
            c->ws_shift = len == 3 ? c->opts[i + 2] : 0;
            break;
        case 4:
            c->has_sack_perm = true;
            break;
        case 5:
            c->has_sack = true;
            break;
        case 8:
            c->has_ts = true;
            break;
        case WIRE_ENO_KIND:
            if (c->eno_count++ == 0) {
                memcpy(c->eno, c->opts + i, len);
                c->eno_len = len;
            }
            break;
        default:
            break;
        }
        i += len;
    }
    return true;
}

/* Find the TCP segment of an Ethernet frame: TCP over IPv4 or IPv6 (no
 * extension headers), lengths checked against the frame. */
static bool locate(const u8_t *f, size_t len, size_t *ip_off, size_t *tcp_off, size_t *tcp_len,
                   bool *ipv6)
{
    if (len < 14) {
        return false;
    }
    if (be16(f + 12) == 0x0800 && len >= 14 + 20) {
        const u8_t *ip = f + 14;
        size_t ihl = (size_t)(ip[0] & 0x0f) * 4, tot = be16(ip + 2);

        if (ip[9] != 6 || ihl < 20 || tot < ihl + 20 || 14 + tot > len) {
            return false;
        }
        *ip_off = 14;
        *tcp_off = 14 + ihl;
        *tcp_len = tot - ihl;
        *ipv6 = false;
        return true;
    }
    if (be16(f + 12) == 0x86dd && len >= 14 + 40) {
        const u8_t *ip = f + 14;

        if (ip[6] != 6 || 14 + 40 + (size_t)be16(ip + 4) > len || be16(ip + 4) < 20) {
            return false;
        }
        *ip_off = 14;
        *tcp_off = 14 + 40;
        *tcp_len = be16(ip + 4);
        *ipv6 = true;
        return true;
    }
    return false;
}

/* The pseudo-header sum of a TCP segment. */
static uint32_t pseudo_sum(const u8_t *ip, bool ipv6, size_t tcp_len)
{
    if (ipv6) {
        return sum16(0, ip + 8, 32) + 6 + (uint32_t)tcp_len;
    }
    return sum16(0, ip + 12, 8) + 6 + (uint32_t)tcp_len;
}

void wire_parse_frame(struct wire_capture *c, const u8_t *f, size_t len)
{
    size_t ip_off, tcp_off, tcp_len, doff;
    const u8_t *ip, *tcp;
    bool ipv6;

    c->len = (u16_t)(len <= WIRE_FRAME_MAX ? len : WIRE_FRAME_MAX);
    memcpy(c->frame, f, c->len);
    if (!locate(f, len, &ip_off, &tcp_off, &tcp_len, &ipv6)) {
        return;
    }
    ip = f + ip_off;
    tcp = f + tcp_off;
    c->ipv6 = ipv6;
    c->csum_ok = ipv6 || fold(sum16(0, ip, tcp_off - ip_off)) == 0xffff;
    doff = (size_t)(tcp[12] >> 4) * 4;
    if (doff < 20 || doff > tcp_len) {
        return;
    }
    c->is_tcp = true;
    c->csum_ok = c->csum_ok && fold(sum16(pseudo_sum(ip, ipv6, tcp_len), tcp, tcp_len)) == 0xffff;
    c->flags = tcp[13];
    c->sport = be16(tcp);
    c->dport = be16(tcp + 2);
    c->seq = be32(tcp + 4);
    c->ack = be32(tcp + 8);
    c->payload_off = (u16_t)(tcp_off + doff);
    c->payload_len = (u16_t)(tcp_len - doff);
    c->optlen = (u8_t)(doff - 20);
    memcpy(c->opts, tcp + 20, c->optlen);
    c->opts_ok = wire_parse_tcp_options(c);
}

/* ------------------------------------------------------------ frame surgery */

bool wire_tcp_locate(struct wire_frame *f, struct wire_tcp *t)
{
    size_t ip_off, tcp_off, tcp_len;
    bool ipv6;

    memset(t, 0, sizeof(*t));
    if (!locate(f->data, f->len, &ip_off, &tcp_off, &tcp_len, &ipv6)) {
        return false;
    }
    t->ip = f->data + ip_off;
    t->tcp = f->data + tcp_off;
    t->tcp_len = tcp_len;
    t->hlen = (size_t)(t->tcp[12] >> 4) * 4;
    t->ipv6 = ipv6;
    return t->hlen >= 20 && t->hlen <= tcp_len;
}

void wire_tcp_fix_checksums(struct wire_frame *f)
{
    struct wire_tcp t;

    if (!wire_tcp_locate(f, &t)) {
        return;
    }
    if (!t.ipv6) {
        put16(t.ip + 10, 0);
        put16(t.ip + 10, (uint16_t)~fold(sum16(0, t.ip, (size_t)(t.tcp - t.ip))));
    }
    put16(t.tcp + 16, 0);
    put16(t.tcp + 16,
          (uint16_t)~fold(sum16(pseudo_sum(t.ip, t.ipv6, t.tcp_len), t.tcp, t.tcp_len)));
}

bool wire_tcp_set_options(struct wire_frame *f, const u8_t *opts, size_t len)
{
    struct wire_tcp t;
    size_t old_opts, payload, end;

    if (len % 4 != 0 || len > TC_TCP_MAX_OPTION_BYTES || !wire_tcp_locate(f, &t)) {
        return false;
    }
    old_opts = t.hlen - 20;
    payload = t.tcp_len - t.hlen;
    end = (size_t)(t.tcp - f->data) + 20 + len + payload;
    if (end > sizeof(f->data)) {
        return false;
    }
    memmove(t.tcp + 20 + len, t.tcp + 20 + old_opts, payload);
    memcpy(t.tcp + 20, opts, len);
    t.tcp[12] = (u8_t)(((20 + len) / 4) << 4 | (t.tcp[12] & 0x0f));
    t.tcp_len = 20 + len + payload;
    if (t.ipv6) {
        put16(t.ip + 4, (uint16_t)t.tcp_len);
    } else {
        put16(t.ip + 2, (uint16_t)((size_t)(t.tcp - t.ip) + t.tcp_len));
    }
    f->len = (u16_t)end;
    wire_tcp_fix_checksums(f);
    return true;
}

/* ------------------------------------------------------------ the wire */

static err_t wire_linkoutput(struct netif *netif, struct pbuf *p)
{
    int from = netif == &wire_netif_a ? WIRE_A : WIRE_B;
    struct wire_capture scratch, *c;
    struct wire_frame *fr;
    enum wire_verdict verdict = WIRE_PASS;
    int idx = -1;

    CHECK(p->tot_len <= WIRE_FRAME_MAX);
    if (p->tot_len > WIRE_FRAME_MAX) {
        return ERR_IF;
    }
    /* Build the frame in the queue slot; it only counts once queued. */
    fr = &queue[(queue_head + queue_count) % WIRE_QUEUE_LEN];
    if (queue_count == WIRE_QUEUE_LEN) {
        static struct wire_frame overflow;

        fr = &overflow;
    }
    CHECK_INT(pbuf_copy_partial(p, fr->data, p->tot_len, 0), p->tot_len);
    fr->from = from;
    fr->len = p->tot_len;

    if (wire_n_captured < WIRE_CAPTURE_LEN) {
        idx = (int)wire_n_captured++;
        c = &wire_captured[idx];
    } else {
        wire_capture_overflow++;
        c = &scratch;
    }
    memset(c, 0, offsetof(struct wire_capture, frame));
    c->from = from;
    c->sent_ev = ++events;
    wire_parse_frame(c, fr->data, fr->len);
    fr->capture = idx;

    if (mutator != NULL) {
        verdict = mutator(mutator_ctx, fr, c);
        c->mutated = fr->len != c->len || memcmp(fr->data, c->frame, c->len) != 0;
    }
    if (verdict == WIRE_DROP) {
        c->dropped = true;
        return ERR_OK;
    }

    CHECK(queue_count < WIRE_QUEUE_LEN);
    if (queue_count == WIRE_QUEUE_LEN) {
        return ERR_MEM;
    }
    queue_count++;
    return ERR_OK;
}

unsigned wire_deliver_all(void)
{
    unsigned n = 0;

    while (queue_count > 0) {
        struct wire_frame *fr = &queue[queue_head];
        struct netif *to = fr->from == WIRE_A ? &wire_netif_b : &wire_netif_a;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, fr->len, PBUF_POOL);

        CHECK(p != NULL);
        if (p != NULL) {
            CHECK_INT(pbuf_take(p, fr->data, fr->len), ERR_OK);
        }
        if (fr->capture >= 0 && (unsigned)fr->capture < wire_n_captured) {
            wire_captured[fr->capture].delivered_ev = ++events;
        }
        queue_head = (queue_head + 1) % WIRE_QUEUE_LEN;
        queue_count--;
        if (p != NULL && to->input(p, to) != ERR_OK) {
            pbuf_free(p);
        }
        n++;
    }
    return n;
}

bool wire_run_until(bool (*done)(void), u32_t max_ms)
{
    u32_t start = wire_now_ms;

    for (;;) {
        sys_check_timeouts();
        if (wire_deliver_all() > 0) {
            continue;
        }
        if (done()) {
            return true;
        }
        if (wire_now_ms - start >= max_ms) {
            return false;
        }
        wire_now_ms += 10;
    }
}

void wire_reset(void)
{
    /* Frames still queued refer to capture entries about to be reused. */
    for (unsigned i = 0; i < queue_count; i++) {
        queue[(queue_head + i) % WIRE_QUEUE_LEN].capture = -1;
    }
    wire_n_captured = 0;
    wire_capture_overflow = 0;
    mutator = NULL;
    mutator_ctx = NULL;
}

void wire_set_mutator(wire_mutator_fn fn, void *ctx)
{
    mutator = fn;
    mutator_ctx = ctx;
}

/* ------------------------------------------------------------ netifs */

static const u8_t mac_a[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
static const u8_t mac_b[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

static err_t wire_netif_init(struct netif *netif)
{
    netif->name[0] = 'w';
    netif->name[1] = netif == &wire_netif_a ? 'a' : 'b';
    netif->output = etharp_output;
    netif->output_ip6 = ethip6_output;
    netif->linkoutput = wire_linkoutput;
    netif->mtu = 1500;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, netif->state, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
    return ERR_OK;
}

static bool addrs_ready(void)
{
    for (s8_t i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
        if (ip6_addr_istentative(netif_ip6_addr_state(&wire_netif_a, i)) ||
            ip6_addr_istentative(netif_ip6_addr_state(&wire_netif_b, i))) {
            return false;
        }
    }
    return true;
}

void wire_setup(void)
{
    ip4_addr_t a4, b4, mask;
    ip6_addr_t a6, b6;
    s8_t idx;

    tc_lwip_set_clock(wire_clock);
    lwip_init();

    IP4_ADDR(&a4, 10, 0, 0, 1);
    IP4_ADDR(&b4, 10, 0, 0, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    CHECK(netif_add(&wire_netif_a, &a4, &mask, IP4_ADDR_ANY4, (void *)mac_a, wire_netif_init,
                    ethernet_input) != NULL);
    CHECK(netif_add(&wire_netif_b, &b4, &mask, IP4_ADDR_ANY4, (void *)mac_b, wire_netif_init,
                    ethernet_input) != NULL);
    CHECK(ip6addr_aton("fd00::1", &a6));
    CHECK(ip6addr_aton("fd00::2", &b6));
    CHECK_INT(netif_add_ip6_address(&wire_netif_a, &a6, &idx), ERR_OK);
    CHECK_INT(netif_add_ip6_address(&wire_netif_b, &b6, &idx), ERR_OK);
    netif_set_up(&wire_netif_a);
    netif_set_up(&wire_netif_b);
    netif_set_link_up(&wire_netif_a);
    netif_set_link_up(&wire_netif_b);
    /* Duplicate address detection runs over the wire. */
    CHECK(wire_run_until(addrs_ready, 10000));
}
