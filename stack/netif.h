/*
 * The daemon's lwIP Ethernet interface over a link (link.h): its MAC and
 * addresses, frames in and out, and the answers the control protocol needs
 * about addresses (is this destination ours to serve, is that address ours).
 */
#ifndef TCPCRYPT_STACK_NETIF_H
#define TCPCRYPT_STACK_NETIF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/ip_addr.h"
#include "stack/ctl_proto.h"

struct netif;
struct tc_link;

/* lwIP 2.1.3 holds one IPv4 address per netif and LWIP_IPV6_NUM_ADDRESSES
 * (3) IPv6 addresses, the first of them the link-local one. */
#define TC_NETIF_MAX_V6 2

struct tc_prefix {
    int family; /* AF_INET or AF_INET6 */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } a;
    unsigned len;
};

struct tc_netif_config {
    uint8_t mac[6];
    struct tc_prefix addrs[1 + TC_NETIF_MAX_V6];
    size_t naddrs;
    bool has_gw4, has_gw6;
    struct in_addr gw4;
    struct in6_addr gw6;
};

/* After lwip_init(): add the interface, its addresses and gateway, and bring
 * it up.  -1 with a one-line reason in err. */
int tc_netif_start(struct tc_link *link, const struct tc_netif_config *cfg, char *err,
                   size_t errlen);
/* The link's fd is readable, or its poll is due: pass the waiting frames
 * to lwIP (up to a budget); how many there were. */
unsigned tc_netif_rx(void);
/* Push out the frames the link queued this round; true while some wait. */
bool tc_netif_flush(void);
/* Deliver frames lwIP sent to its own addresses (LWIP_NETIF_LOOPBACK);
 * true while more are queued. */
bool tc_netif_poll(void);
void tc_netif_stop(void);

/* CONNECT: does the daemon serve this destination (on one of its prefixes,
 * or any non-local destination of a family with a gateway)? */
bool tc_netif_serves(const ip_addr_t *dst);
/* LISTEN: is this one of the daemon's addresses? */
bool tc_netif_is_own(const ip_addr_t *a);
/* True when no neighbour answers for dst's next hop (IPv4; IPv6 never
 * says), for connect()'s EHOSTUNREACH. */
bool tc_netif_unresolved(const ip_addr_t *dst);
void tc_netif_hello(struct tc_ctl_r_hello *r);
/* "10.0.0.1/24 fd00::1/64 fe80::.../64, gw 10.0.0.254, mac 02:...". */
void tc_netif_describe(char *buf, size_t len);

/* Once a second (keeps the configured IPv6 gateway in lwIP's router list). */
void tc_netif_tick(void);

struct tc_netif_stats {
    uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
};
const struct tc_netif_stats *tc_netif_stats(void);

/* Socket addresses <-> lwIP.  A v4-mapped IPv6 address becomes IPv4 (and
 * *v6_sock tells the caller to answer in AF_INET6 form).  false when the
 * family is neither. */
bool tc_addr_from_ctl(const struct tc_ctl_addr *a, ip_addr_t *ip, uint16_t *port, bool *v6_sock);
void tc_addr_to_ctl(const ip_addr_t *ip, uint16_t port, bool v6_sock, struct tc_ctl_addr *out);
/* "10.0.0.1:80", "[fd00::1]:80". */
char *tc_addr_str(char *buf, size_t len, const ip_addr_t *ip, uint16_t port);

#endif
