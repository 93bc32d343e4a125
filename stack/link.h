/*
 * A link carries Ethernet frames between the daemon's lwIP and the world.
 * Drivers: tap (a /dev/net/tun TAP device, link_tap.c) and, later, DPDK.
 * The netif (netif.c) only uses this interface.
 */
#ifndef TCPCRYPT_STACK_LINK_H
#define TCPCRYPT_STACK_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define TC_LINK_NAME_MAX 32
#define TC_LINK_ERR_MAX 160

struct tc_link;

struct tc_link_ops {
    const char *kind;
    /* One received frame into buf: its length, 0 when none is waiting, -1
     * (errno) when the link failed. A frame longer than cap is dropped. */
    ssize_t (*recv)(struct tc_link *l, uint8_t *buf, size_t cap);
    /* Send one frame given in pieces: 0, or -1 (errno) when it was dropped. */
    int (*send)(struct tc_link *l, const struct iovec *iov, int iovcnt);
    /* The link's own MAC address, when it has one (a NIC port); a tap has
     * none: the daemon picks its own. */
    bool (*mac)(const struct tc_link *l, uint8_t mac[6]);
    void (*close)(struct tc_link *l);
};

struct tc_link {
    const struct tc_link_ops *ops;
    char name[TC_LINK_NAME_MAX];
    int fd;       /* to poll for received frames, -1 when the link is polled */
    unsigned mtu; /* IP MTU */
};

/*
 * Open the TAP device name (created if absent), bring its kernel side up.
 * NULL on failure, with a one-line reason in err.
 */
struct tc_link *tc_link_tap_open(const char *name, char err[TC_LINK_ERR_MAX]);

static inline void tc_link_close(struct tc_link *l)
{
    if (l != NULL) {
        l->ops->close(l);
    }
}

#endif
