/*
 * One lwIP Ethernet netif over one link.  lwIP answers ARP, neighbour
 * discovery and ICMP echo by itself once the netif is up; this file moves
 * frames between the link and lwIP and answers address questions.
 */
#include "stack/netif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/ip4_addr.h"
#include "lwip/ip6_addr.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/priv/nd6_priv.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"
#include "stack/link.h"
#include "stack/log.h"

/* Frames read per wakeup before lwIP's timers and other fds get a turn. */
#define RX_BUDGET 256
/* The longest frame lwIP sends: 64 KB of IP, Ethernet and VLAN headers. */
#define TX_FRAME_MAX (65535 + 18)
#define TX_IOV_MAX 32

/* A received frame the link lets lwIP keep (zero copy): a custom pbuf in the
 * link's per-frame priv area, pointing at the frame's bytes; freeing the
 * pbuf gives the frame back to the link.  No allocation per frame. */
struct held_frame {
    struct pbuf_custom pc;
    void *handle;
};
_Static_assert(sizeof(struct held_frame) <= TC_LINK_RX_PRIV, "TC_LINK_RX_PRIV too small");

static struct netif nif;
static struct tc_link *lnk;
static struct tc_netif_config conf;
static ip6_addr_t gw6;
static bool started;
static struct tc_netif_stats stats;

static void ip6_router_install(void);

static err_t link_output(struct netif *n, struct pbuf *p)
{
    static uint8_t flat[TX_FRAME_MAX];
    struct iovec iov[TX_IOV_MAX];
    int iovcnt = 0;
    struct pbuf *q;

    (void)n;
    for (q = p; q != NULL && iovcnt < TX_IOV_MAX; q = q->next) {
        iov[iovcnt].iov_base = q->payload;
        iov[iovcnt].iov_len = q->len;
        iovcnt++;
    }
    if (q != NULL) {
        /* A very fragmented chain: send it flattened (tot_len < 64 KB). */
        iov[0].iov_base = flat;
        iov[0].iov_len = pbuf_copy_partial(p, flat, p->tot_len, 0);
        iovcnt = 1;
    }
    if (lnk->ops->tx(lnk, iov, iovcnt) != 0) {
        /* Like a full NIC queue: the frame is lost, TCP retransmits. */
        stats.tx_dropped++;
        return ERR_OK;
    }
    stats.tx_frames++;
    return ERR_OK;
}

static err_t nif_init(struct netif *n)
{
    n->name[0] = 't';
    n->name[1] = 'c';
    n->output = etharp_output;
    n->output_ip6 = ethip6_output;
    n->linkoutput = link_output;
    /* lwIP's pool buffers and TCP_MSS are sized for 1500. */
    n->mtu = (u16_t)(lnk->mtu < 1500 ? lnk->mtu : 1500);
    n->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(n->hwaddr, conf.mac, ETH_HWADDR_LEN);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
    /* Checksums the link computes on transmit are left to it (lwIP writes
     * 0 there); every received checksum is still checked by lwIP. */
    {
        u16_t ck = NETIF_CHECKSUM_ENABLE_ALL;

        if (lnk->tx_csum & TC_LINK_CSUM_IP4) {
            ck &= (u16_t)~NETIF_CHECKSUM_GEN_IP;
        }
        if (lnk->tx_csum & TC_LINK_CSUM_TCP) {
            ck &= (u16_t)~NETIF_CHECKSUM_GEN_TCP;
        }
        if (lnk->tx_csum & TC_LINK_CSUM_UDP) {
            ck &= (u16_t)~NETIF_CHECKSUM_GEN_UDP;
        }
        NETIF_SET_CHECKSUM_CTRL(n, ck);
    }
    return ERR_OK;
}

static void mask_of(unsigned len, ip4_addr_t *mask)
{
    ip4_addr_set_u32(mask, len == 0 ? 0 : lwip_htonl(0xffffffffu << (32 - len)));
}

int tc_netif_start(struct tc_link *l, const struct tc_netif_config *cfg, char *err, size_t errlen)
{
    ip4_addr_t a4, m4, g4;
    uint8_t mac[6];

    lnk = l;
    conf = *cfg;
    if (lnk->ops->mac(lnk, mac)) {
        memcpy(conf.mac, mac, sizeof(mac));
    }
    ip4_addr_set_zero(&a4);
    ip4_addr_set_zero(&m4);
    ip4_addr_set_zero(&g4);
    for (size_t i = 0; i < conf.naddrs; i++) {
        if (conf.addrs[i].family == AF_INET) {
            ip4_addr_set_u32(&a4, conf.addrs[i].a.v4.s_addr);
            mask_of(conf.addrs[i].len, &m4);
        }
    }
    if (conf.has_gw4) {
        ip4_addr_set_u32(&g4, conf.gw4.s_addr);
    }
    if (netif_add(&nif, &a4, &m4, &g4, NULL, nif_init, ethernet_input) == NULL) {
        snprintf(err, errlen, "lwIP refused the interface");
        return -1;
    }
    /* RFC 4862 link-local address from the MAC (modified EUI-64). */
    netif_create_ip6_linklocal_address(&nif, 1);
    for (size_t i = 0; i < conf.naddrs; i++) {
        ip6_addr_t a6;
        s8_t idx;
        char s[INET6_ADDRSTRLEN];

        if (conf.addrs[i].family != AF_INET6) {
            continue;
        }
        memcpy(a6.addr, &conf.addrs[i].a.v6, sizeof(a6.addr));
        ip6_addr_clear_zone(&a6);
        if (netif_add_ip6_address(&nif, &a6, &idx) != ERR_OK) {
            inet_ntop(AF_INET6, &conf.addrs[i].a.v6, s, sizeof(s));
            snprintf(err, errlen, "lwIP has no room for the address %s", s);
            netif_remove(&nif);
            return -1;
        }
        /* Duplicate address detection runs from here (the address is
         * tentative), as on any host. */
    }
    if (conf.has_gw6) {
        memcpy(gw6.addr, &conf.gw6, sizeof(gw6.addr));
        ip6_addr_clear_zone(&gw6);
        if (ip6_addr_islinklocal(&gw6)) {
            ip6_addr_assign_zone(&gw6, IP6_UNICAST, &nif);
        }
    }
    netif_set_default(&nif);
    netif_set_up(&nif);
    netif_set_link_up(&nif);
    started = true;
    ip6_router_install();
    return 0;
}

static void held_free(struct pbuf *p)
{
    struct held_frame *h = (struct held_frame *)p;

    lnk->ops->rx_release(lnk, h->handle);
}

/* One received frame into lwIP: kept in place when the link allows it,
 * else copied into PBUF_POOL buffers (fixed-size, no malloc). */
static void rx_frame(const struct tc_link_frame *f)
{
    struct pbuf *p;

    stats.rx_frames++;
    if (f->len < SIZEOF_ETH_HDR) {
        goto drop;
    }
    if (f->handle != NULL && f->hold) {
        struct held_frame *h = f->priv;

        h->handle = f->handle;
        h->pc.custom_free_function = held_free;
        p = pbuf_alloced_custom(PBUF_RAW, f->len, PBUF_REF, &h->pc, f->data, f->len);
        if (p == NULL) {
            goto drop;
        }
        if (nif.input(p, &nif) != ERR_OK) {
            pbuf_free(p); /* releases the frame */
            stats.rx_dropped++;
        }
        return;
    }
    p = pbuf_alloc(PBUF_RAW, f->len, PBUF_POOL);
    if (p == NULL) {
        /* Pool exhausted (a burst over thousands of connections whose data
         * waits for their applications): take heap memory rather than drop,
         * which would cost the peer a retransmission timeout of seconds.
         * TCP windows bound what can wait. */
        p = pbuf_alloc(PBUF_RAW, f->len, PBUF_RAM);
    }
    if (p == NULL || pbuf_take(p, f->data, f->len) != ERR_OK) {
        /* No memory at all: drop like a NIC with no free descriptor. */
        if (p != NULL) {
            pbuf_free(p);
        }
        goto drop;
    }
    if (f->handle != NULL) {
        lnk->ops->rx_release(lnk, f->handle);
    }
    if (nif.input(p, &nif) != ERR_OK) {
        pbuf_free(p);
        stats.rx_dropped++;
    }
    return;
drop:
    if (f->handle != NULL) {
        lnk->ops->rx_release(lnk, f->handle);
    }
    stats.rx_dropped++;
}

unsigned tc_netif_rx(void)
{
    struct tc_link_frame f[TC_LINK_BURST];
    unsigned got = 0;

    while (got < RX_BUDGET) {
        int n = lnk->ops->rx_burst(lnk, f, TC_LINK_BURST);

        if (n <= 0) {
            if (n < 0) {
                tc_error("link %s: receive failed: %s", lnk->name, strerror(errno));
            }
            break;
        }
        for (int i = 0; i < n; i++) {
            rx_frame(&f[i]);
        }
        got += (unsigned)n;
    }
    return got;
}

bool tc_netif_flush(void)
{
    return lnk != NULL && lnk->ops->tx_flush(lnk);
}

bool tc_netif_poll(void)
{
    if (!started) {
        return false;
    }
    netif_poll(&nif);
    return nif.loop_first != NULL;
}

void tc_netif_stop(void)
{
    if (started) {
        netif_set_down(&nif);
        netif_remove(&nif);
        started = false;
    }
}

const struct tc_netif_stats *tc_netif_stats(void)
{
    return &stats;
}

/*
 * The IPv6 gateway (--gw).  lwIP 2.1.3 learns default routers only from
 * Router Advertisements (and LWIP_HOOK_ND6_GET_GW is not wired), so the
 * configured one is entered into its default router list the way
 * nd6_new_router() does for an RA: a neighbour entry marked as a router
 * (lwIP never expires an unresolved router's entry, it keeps soliciting),
 * with a lifetime that never runs out.  Re-entered by the tick should an RA
 * with router lifetime 0 have removed it.
 */
static void ip6_router_install(void)
{
    s8_t n = -1, r = -1;

    if (!conf.has_gw6) {
        return;
    }
    for (s8_t i = 0; i < LWIP_ND6_NUM_ROUTERS; i++) {
        struct nd6_neighbor_cache_entry *e = default_router_list[i].neighbor_entry;

        if (e != NULL && ip6_addr_cmp(&e->next_hop_address, &gw6)) {
            return; /* present (from us or from an RA) */
        }
        if (e == NULL && r < 0) {
            r = i;
        }
    }
    for (s8_t i = 0; i < LWIP_ND6_NUM_NEIGHBORS; i++) {
        if (neighbor_cache[i].state != ND6_NO_ENTRY &&
            ip6_addr_cmp(&neighbor_cache[i].next_hop_address, &gw6)) {
            n = i;
            break;
        }
        if (neighbor_cache[i].state == ND6_NO_ENTRY && n < 0) {
            n = i;
        }
    }
    if (r < 0 || n < 0) {
        return; /* tables full: retried at the next tick */
    }
    if (neighbor_cache[n].state == ND6_NO_ENTRY) {
        memset(&neighbor_cache[n], 0, sizeof(neighbor_cache[n]));
        ip6_addr_set(&neighbor_cache[n].next_hop_address, &gw6);
        neighbor_cache[n].netif = &nif;
        neighbor_cache[n].state = ND6_INCOMPLETE; /* nd6_tmr solicits it */
    }
    neighbor_cache[n].isrouter = 1;
    default_router_list[r].neighbor_entry = &neighbor_cache[n];
    default_router_list[r].invalidation_timer = 0xffffffffu;
    default_router_list[r].flags = 0;
}

void tc_netif_tick(void)
{
    if (started) {
        ip6_router_install();
    }
}

/* ------------------------------------------------------------ address questions */

static bool v6_in_prefix(const ip6_addr_t *a, const struct in6_addr *p, unsigned len)
{
    const uint8_t *x = (const uint8_t *)a->addr, *y = p->s6_addr;
    unsigned full = len / 8, rest = len % 8;

    if (memcmp(x, y, full) != 0) {
        return false;
    }
    return rest == 0 || ((x[full] ^ y[full]) & (0xff00 >> rest)) == 0;
}

/* Addresses the daemon never serves: they are the host's own business. */
static bool local_scope(const ip_addr_t *a)
{
    if (IP_IS_V4(a)) {
        const ip4_addr_t *x = ip_2_ip4(a);

        return ip4_addr_isany(x) || ip4_addr_isloopback(x) || ip4_addr_ismulticast(x) ||
               ip4_addr_get_u32(x) == IPADDR_BROADCAST;
    }
    /* Link-local destinations carry the kernel's interface index as their
     * zone, which names a kernel interface, never the daemon's. */
    return ip6_addr_isany(ip_2_ip6(a)) || ip6_addr_isloopback(ip_2_ip6(a)) ||
           ip6_addr_ismulticast(ip_2_ip6(a)) || ip6_addr_islinklocal(ip_2_ip6(a));
}

bool tc_netif_serves(const ip_addr_t *dst)
{
    if (!started || local_scope(dst)) {
        return false;
    }
    for (size_t i = 0; i < conf.naddrs; i++) {
        const struct tc_prefix *p = &conf.addrs[i];

        if (IP_IS_V4(dst) && p->family == AF_INET) {
            ip4_addr_t a, m;

            ip4_addr_set_u32(&a, p->a.v4.s_addr);
            mask_of(p->len, &m);
            if (ip4_addr_netcmp(ip_2_ip4(dst), &a, &m)) {
                return true;
            }
        } else if (IP_IS_V6(dst) && p->family == AF_INET6 &&
                   v6_in_prefix(ip_2_ip6(dst), &p->a.v6, p->len)) {
            return true;
        }
    }
    return IP_IS_V4(dst) ? conf.has_gw4 : conf.has_gw6;
}

bool tc_netif_is_own(const ip_addr_t *a)
{
    if (!started) {
        return false;
    }
    if (IP_IS_V4(a)) {
        return !ip4_addr_isany_val(*netif_ip4_addr(&nif)) &&
               ip4_addr_cmp(ip_2_ip4(a), netif_ip4_addr(&nif));
    }
    for (s8_t i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
        if (!ip6_addr_isinvalid(netif_ip6_addr_state(&nif, i)) &&
            ip6_addr_cmp_zoneless(ip_2_ip6(a), netif_ip6_addr(&nif, i))) {
            return true;
        }
    }
    return false;
}

bool tc_netif_unresolved(const ip_addr_t *dst)
{
    const ip4_addr_t *hop, *ip;
    struct eth_addr *eth;

    if (!started || !IP_IS_V4(dst) || tc_netif_is_own(dst)) {
        return false;
    }
    hop = ip_2_ip4(dst);
    if (!ip4_addr_netcmp(hop, netif_ip4_addr(&nif), netif_ip4_netmask(&nif))) {
        hop = netif_ip4_gw(&nif);
    }
    return etharp_find_addr(&nif, hop, &eth, &ip) < 0;
}

void tc_netif_hello(struct tc_ctl_r_hello *r)
{
    uint32_t n = 0;

    for (size_t i = 0; i < conf.naddrs && n < 4; i++) {
        ip_addr_t a;

        if (conf.addrs[i].family == AF_INET) {
            ip_addr_set_ip4_u32_val(a, conf.addrs[i].a.v4.s_addr);
        } else {
            IP_SET_TYPE_VAL(a, IPADDR_TYPE_V6);
            memcpy(ip_2_ip6(&a)->addr, &conf.addrs[i].a.v6, 16);
            ip6_addr_clear_zone(ip_2_ip6(&a));
        }
        tc_addr_to_ctl(&a, 0, conf.addrs[i].family == AF_INET6, &r->addrs[n]);
        r->prefix_len[n] = (uint8_t)conf.addrs[i].len;
        n++;
    }
    r->naddrs = n;
    r->has_gateway4 = conf.has_gw4;
    r->has_gateway6 = conf.has_gw6;
}

void tc_netif_describe(char *buf, size_t len)
{
    size_t off = 0;
    char s[INET6_ADDRSTRLEN];

#define APPEND(...)                                                                  \
    do {                                                                             \
        int n_ = snprintf(buf + off, len - off, __VA_ARGS__);                        \
        off = n_ < 0 ? off : (off + (size_t)n_ >= len ? len - 1 : off + (size_t)n_); \
    } while (0)

    buf[0] = '\0';
    for (size_t i = 0; i < conf.naddrs; i++) {
        inet_ntop(conf.addrs[i].family, &conf.addrs[i].a, s, sizeof(s));
        APPEND("%s%s/%u", off ? " " : "", s, conf.addrs[i].len);
    }
    if (started && ip6_addr_islinklocal(netif_ip6_addr(&nif, 0))) {
        inet_ntop(AF_INET6, netif_ip6_addr(&nif, 0)->addr, s, sizeof(s));
        APPEND("%s%s/64", off ? " " : "", s);
    }
    if (conf.has_gw4) {
        inet_ntop(AF_INET, &conf.gw4, s, sizeof(s));
        APPEND(", gw %s", s);
    }
    if (conf.has_gw6) {
        inet_ntop(AF_INET6, &conf.gw6, s, sizeof(s));
        APPEND(", gw %s", s);
    }
    APPEND(", mac %02x:%02x:%02x:%02x:%02x:%02x", conf.mac[0], conf.mac[1], conf.mac[2],
           conf.mac[3], conf.mac[4], conf.mac[5]);
#undef APPEND
}

/* ------------------------------------------------------------ socket addresses */

bool tc_addr_from_ctl(const struct tc_ctl_addr *a, ip_addr_t *ip, uint16_t *port, bool *v6_sock)
{
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;

    if (a->ss.ss_family == AF_INET && a->len >= sizeof(*s4)) {
        ip_addr_set_ip4_u32_val(*ip, s4->sin_addr.s_addr);
        *port = ntohs(s4->sin_port);
        *v6_sock = false;
        return true;
    }
    if (a->ss.ss_family == AF_INET6 && a->len >= sizeof(*s6)) {
        *port = ntohs(s6->sin6_port);
        *v6_sock = true;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            uint32_t v4;

            memcpy(&v4, s6->sin6_addr.s6_addr + 12, 4);
            ip_addr_set_ip4_u32_val(*ip, v4);
            return true;
        }
        IP_SET_TYPE_VAL(*ip, IPADDR_TYPE_V6);
        memcpy(ip_2_ip6(ip)->addr, &s6->sin6_addr, 16);
        ip6_addr_clear_zone(ip_2_ip6(ip));
        if (ip6_addr_islinklocal(ip_2_ip6(ip)) && started) {
            ip6_addr_assign_zone(ip_2_ip6(ip), IP6_UNICAST, &nif);
        }
        return true;
    }
    return false;
}

void tc_addr_to_ctl(const ip_addr_t *ip, uint16_t port, bool v6_sock, struct tc_ctl_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (IP_IS_V4(ip) && !v6_sock) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;

        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        s4->sin_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(ip));
        out->len = sizeof(*s4);
        return;
    }
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;

    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    if (IP_IS_V4(ip)) {
        uint32_t v4 = ip4_addr_get_u32(ip_2_ip4(ip));

        s6->sin6_addr.s6_addr[10] = 0xff;
        s6->sin6_addr.s6_addr[11] = 0xff;
        memcpy(s6->sin6_addr.s6_addr + 12, &v4, 4);
    } else {
        memcpy(&s6->sin6_addr, ip_2_ip6(ip)->addr, 16);
    }
    out->len = sizeof(*s6);
}

char *tc_addr_str(char *buf, size_t len, const ip_addr_t *ip, uint16_t port)
{
    char s[INET6_ADDRSTRLEN];

    if (IP_IS_V4(ip)) {
        uint32_t v4 = ip4_addr_get_u32(ip_2_ip4(ip));

        inet_ntop(AF_INET, &v4, s, sizeof(s));
        snprintf(buf, len, "%s:%u", s, port);
    } else {
        inet_ntop(AF_INET6, ip_2_ip6(ip)->addr, s, sizeof(s));
        snprintf(buf, len, "[%s]:%u", s, port);
    }
    return buf;
}
