/*
 * A link carries Ethernet frames between the daemon's lwIP and the world.
 * Drivers: tap (a /dev/net/tun TAP device, link_tap.c) and DPDK (one port of
 * a poll-mode driver, dpdk/link_dpdk.c, built with configure --with-dpdk).
 * The netif (netif.c) and the event loop only use this interface.
 *
 * Receiving: the loop either watches fd (tap) or, when fd is -1, polls the
 * link every round (DPDK) with the idle back-off below.  rx_burst hands over
 * up to max frames.  A frame with a handle belongs to the caller until it
 * gives the handle back with rx_release (once): it may keep the frame's
 * bytes that long (zero copy), using the priv area the link reserved with
 * the frame.  A frame without a handle lives in the link's own buffer until
 * the next rx_burst: copy it.
 *
 * Sending: tx queues one frame (the link copies it); tx_flush pushes the
 * queue out, at the end of every loop round.  A frame the link cannot take
 * is dropped (counted), like a full NIC queue: TCP retransmits.
 */
#ifndef TCPCRYPT_STACK_LINK_H
#define TCPCRYPT_STACK_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define TC_LINK_NAME_MAX 32
#define TC_LINK_ERR_MAX 256
/* Frames per rx_burst and per transmit burst. */
#define TC_LINK_BURST 32
/* Bytes of caller data the link keeps with each frame that has a handle
 * (8-byte aligned): room for lwIP's struct pbuf_custom and a pointer. */
#define TC_LINK_RX_PRIV 64

/* Checksums the link fills in on transmit (tc_link.tx_csum): lwIP then
 * leaves them to it (per-netif checksum control).  Received checksums are
 * always checked by lwIP. */
#define TC_LINK_CSUM_IP4 0x1u /* IPv4 header */
#define TC_LINK_CSUM_TCP 0x2u /* TCP over IPv4 and IPv6 */
#define TC_LINK_CSUM_UDP 0x4u /* UDP over IPv4 and IPv6 */

struct tc_link;

struct tc_link_frame {
    uint8_t *data;
    uint16_t len;
    /* Set: the caller holds the frame until rx_release(handle).
     * NULL: data is valid until the next rx_burst only. */
    void *handle;
    void *priv; /* with a handle: TC_LINK_RX_PRIV bytes for the caller */
    /* With a handle: keeping the frame is welcome (the link has buffers to
     * spare); false asks the caller to copy and release at once. */
    bool hold;
};

struct tc_link_ops {
    const char *kind;
    /* Up to max received frames into f: their number, 0 when none is
     * waiting, -1 (errno) when the link failed.  Oversized frames are
     * dropped by the link. */
    int (*rx_burst)(struct tc_link *l, struct tc_link_frame *f, unsigned max);
    void (*rx_release)(struct tc_link *l, void *handle);
    /* Queue one frame given in pieces: 0, or -1 when it was dropped. */
    int (*tx)(struct tc_link *l, const struct iovec *iov, int iovcnt);
    /* Send what tx queued; true while frames are still waiting (the port
     * was busy: call again next round). */
    bool (*tx_flush)(struct tc_link *l);
    /* The link's own MAC address, when it has one (a NIC port); a tap has
     * none: the daemon picks its own. */
    bool (*mac)(const struct tc_link *l, uint8_t mac[6]);
    /* One line for a status query: "dpdk port 0 net_memif0, link up, ...". */
    void (*status)(const struct tc_link *l, char *buf, size_t len);
    void (*close)(struct tc_link *l);
};

struct tc_link {
    const struct tc_link_ops *ops;
    char name[TC_LINK_NAME_MAX];
    int fd;           /* to poll for received frames, -1 when the link is polled */
    unsigned mtu;     /* IP MTU */
    unsigned tx_csum; /* TC_LINK_CSUM_* the link computes on transmit */
    bool busy_poll;   /* polled link: never sleep when idle */
};

/*
 * Open the TAP device name (created if absent), bring its kernel side up.
 * NULL on failure, with a one-line reason in err.
 */
struct tc_link *tc_link_tap_open(const char *name, char err[TC_LINK_ERR_MAX]);

struct tc_link_dpdk_config {
    const char *eal_args; /* EAL arguments, separated by blanks */
    unsigned mbufs;       /* packet buffers in the pool */
    bool busy_poll;
};
#define TC_LINK_DPDK_MBUFS_DEFAULT 4095
#define TC_LINK_DPDK_MBUFS_MIN 512
#define TC_LINK_DPDK_MBUFS_MAX 1048575
/*
 * Initialise DPDK's EAL from cfg->eal_args and open its one Ethernet port
 * (one RX and one TX queue).  NULL on failure, with a one-line reason in err
 * and DPDK's runtime folder removed.  Without DPDK support compiled in, it
 * says so.
 */
struct tc_link *tc_link_dpdk_open(const struct tc_link_dpdk_config *cfg, char err[TC_LINK_ERR_MAX]);

static inline void tc_link_close(struct tc_link *l)
{
    if (l != NULL) {
        l->ops->close(l);
    }
}

/*
 * Idle back-off for a polled link: after TC_LINK_SPIN_POLLS empty rounds the
 * loop sleeps, 16 us at first, doubling up to 1 ms, until a round has work.
 */
#define TC_LINK_SPIN_POLLS 64
#define TC_LINK_SLEEP_MIN_US 16
#define TC_LINK_SLEEP_MAX_US 1000
struct tc_link_idle {
    unsigned empty;    /* rounds in a row without work */
    unsigned sleep_us; /* current sleep */
};
/* After a round (worked: frames moved): how long the next wait may last, in
 * microseconds (0: poll again at once). */
unsigned tc_link_idle_next(const struct tc_link *l, struct tc_link_idle *s, bool worked);

#endif
