/*
 * The TAP link: Ethernet frames through /dev/net/tun (IFF_TAP | IFF_NO_PI),
 * one frame per read(2) and write(2).  The kernel side of the tap is an
 * ordinary interface (bridge it, or route to it); the daemon's MAC and
 * addresses live in lwIP, not on it.
 */
#include "stack/link.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* A received frame: up to a 64 KB MTU, Ethernet and VLAN headers. */
#define TAP_FRAME_MAX (65535 + 18)

struct tap_link {
    struct tc_link l; /* first: a struct tc_link * is a struct tap_link * */
    uint64_t rx_frames, tx_frames, tx_dropped;
    uint8_t buf[TAP_FRAME_MAX];
};

/* One frame per call, in the link's buffer (read(2) gives one frame). */
static int tap_rx_burst(struct tc_link *l, struct tc_link_frame *f, unsigned max)
{
    struct tap_link *t = (struct tap_link *)l;

    if (max == 0) {
        return 0;
    }
    for (;;) {
        ssize_t n = read(l->fd, t->buf, sizeof(t->buf));

        if (n > 0) {
            t->rx_frames++;
            f->data = t->buf;
            f->len = (uint16_t)(n > 0xffff ? 0xffff : n);
            f->handle = NULL;
            f->priv = NULL;
            f->hold = false;
            return 1;
        }
        if (n == 0) {
            return 0;
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

static void tap_rx_release(struct tc_link *l, void *handle)
{
    (void)l;
    (void)handle;
}

/* Frames go out at once: one writev(2) each. */
static int tap_tx(struct tc_link *l, const struct iovec *iov, int iovcnt)
{
    struct tap_link *t = (struct tap_link *)l;

    for (;;) {
        ssize_t n = writev(l->fd, iov, iovcnt);

        if (n >= 0) {
            t->tx_frames++;
            return 0;
        }
        if (errno != EINTR) {
            t->tx_dropped++;
            return -1;
        }
    }
}

static bool tap_tx_flush(struct tc_link *l)
{
    (void)l;
    return false;
}

static void tap_status(const struct tc_link *l, char *buf, size_t len)
{
    const struct tap_link *t = (const struct tap_link *)l;

    snprintf(buf, len, "tap %s, mtu %u, rx %llu tx %llu tx-dropped %llu", l->name, l->mtu,
             (unsigned long long)t->rx_frames, (unsigned long long)t->tx_frames,
             (unsigned long long)t->tx_dropped);
}

static bool tap_mac(const struct tc_link *l, uint8_t mac[6])
{
    (void)l;
    (void)mac;
    return false;
}

static void tap_close(struct tc_link *l)
{
    if (l->fd >= 0) {
        close(l->fd);
    }
    free(l);
}

static const struct tc_link_ops tap_ops = {
    .kind = "tap",
    .rx_burst = tap_rx_burst,
    .rx_release = tap_rx_release,
    .tx = tap_tx,
    .tx_flush = tap_tx_flush,
    .mac = tap_mac,
    .status = tap_status,
    .close = tap_close,
};

#define TAP_QUEUE_LEN 16384

/* Bring the kernel side up (IFF_UP) so the kernel passes frames, read its
 * MTU, and lengthen its queue. */
static int tap_up(const char *name, unsigned *mtu)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int rc = -1, e;

    if (s < 0) {
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, name, strnlen(name, sizeof(ifr.ifr_name) - 1));
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
        goto out;
    }
    if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
            goto out;
        }
    }
    if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 1280) {
        *mtu = (unsigned)ifr.ifr_mtu;
    }
    /* The kernel queues frames for the daemon on the tap (its txqueuelen,
     * 1000 by default) and drops beyond.  A burst over thousands of
     * connections (one segment each) overflowed it, and the peers' lwIP
     * retransmitted only after seconds; a daemon serving thousands of
     * connections needs a queue of that order.  Best effort: a tap made by
     * someone else may refuse. */
    if (ioctl(s, SIOCGIFTXQLEN, &ifr) == 0 && ifr.ifr_qlen < TAP_QUEUE_LEN) {
        ifr.ifr_qlen = TAP_QUEUE_LEN;
        (void)ioctl(s, SIOCSIFTXQLEN, &ifr);
    }
    rc = 0;
out:
    e = errno;
    close(s);
    errno = e;
    return rc;
}

struct tc_link *tc_link_tap_open(const char *name, char err[TC_LINK_ERR_MAX])
{
    struct tap_link *t;
    struct tc_link *l;
    struct ifreq ifr;
    int fd;

    if (name[0] == '\0' || strlen(name) >= IFNAMSIZ) {
        snprintf(err, TC_LINK_ERR_MAX, "tap name '%s': 1 to %d characters", name, IFNAMSIZ - 1);
        return NULL;
    }
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, TC_LINK_ERR_MAX, "/dev/net/tun: %s%s", strerror(errno),
                 errno == ENOENT ? " (no TUN/TAP support: modprobe tun?)" : "");
        return NULL;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        int e = errno;

        close(fd);
        if (e == EBUSY) {
            snprintf(err, TC_LINK_ERR_MAX, "tap %s: device busy: another tcpcryptd?", name);
        } else if (e == EPERM) {
            snprintf(err, TC_LINK_ERR_MAX,
                     "tap %s: operation not permitted (needs CAP_NET_ADMIN, or a tap owned by "
                     "this user)",
                     name);
        } else if (e == EINVAL) {
            snprintf(err, TC_LINK_ERR_MAX, "tap %s: %s (an existing device that is not a tap?)",
                     name, strerror(e));
        } else {
            snprintf(err, TC_LINK_ERR_MAX, "tap %s: %s", name, strerror(e));
        }
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        close(fd);
        snprintf(err, TC_LINK_ERR_MAX, "tap %s: out of memory", name);
        return NULL;
    }
    l = &t->l;
    l->ops = &tap_ops;
    l->fd = fd;
    l->mtu = 1500;
    /* The kernel may have changed the name (a "%d" template). */
    snprintf(l->name, sizeof(l->name), "%s", ifr.ifr_name);
    if (tap_up(l->name, &l->mtu) != 0) {
        snprintf(err, TC_LINK_ERR_MAX, "tap %s: cannot bring it up: %s", l->name, strerror(errno));
        tap_close(l);
        return NULL;
    }
    return l;
}
