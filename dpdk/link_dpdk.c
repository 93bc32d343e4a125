/*
 * The DPDK link: one Ethernet port of a poll-mode driver (a NIC bound to
 * vfio-pci, or a virtual device such as net_memif or net_tap), one RX and
 * one TX queue, polled by the daemon's loop (tc_link.fd is -1).
 *
 * Buffers: one mbuf pool of --dpdk-mbufs buffers, each with TC_LINK_RX_PRIV
 * bytes of private area where the netif puts the custom pbuf that lets lwIP
 * keep a received frame in place (no copy, no allocation per frame).  When
 * fewer than a quarter of the buffers are free, frames are offered for
 * copying instead, so connections whose application reads slowly cannot
 * starve the receive ring.  Transmitted frames are copied into an mbuf each
 * and sent in bursts of TC_LINK_BURST; a frame the port does not take is
 * retried on the next rounds and dropped (freed, counted) when the port
 * makes no progress.
 *
 * DPDK's headers stay in dpdk/ (their byte-order and IP macros clash with
 * lwIP's).  Only one link per process: the EAL is initialised once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_net.h>

#include "stack/link.h"
#include "stack/log.h"

#define MAX_EAL_ARGS 64
#define RING_DESC_MAX 1024
#define POOL_CACHE 64
/* Rounds in a row in which the port took none of the queued frames before
 * they are dropped (a port whose link is down). */
#define TX_STALL_ROUNDS 8
#define CAPTURE_MAX 16384

struct dpdk_link {
    struct tc_link l; /* first: a struct tc_link * is a struct dpdk_link * */
    uint16_t port;
    bool port_open, port_started, eal_up;
    struct rte_mempool *pool;
    unsigned in_use_start;
    uint64_t tx_ol_ip4; /* ol_flags asked for an IPv4 frame */
    struct rte_mbuf *txq[TC_LINK_BURST];
    unsigned ntx, tx_stall;
    uint64_t rx_frames, rx_dropped, tx_frames, tx_dropped;
    uint64_t rx_lent, rx_copied; /* frames offered to keep in place, to copy */
    uint8_t mac[6];
    char driver[32];
    char runtime_dir[PATH_MAX];
    bool runtime_dir_ours;
    char *args;
    char *argv[MAX_EAL_ARGS + 2];
};

/* ------------------------------------------------------------ receive */

static int dpdk_rx_burst(struct tc_link *l, struct tc_link_frame *f, unsigned max)
{
    struct dpdk_link *d = (struct dpdk_link *)l;
    struct rte_mbuf *m[TC_LINK_BURST];
    uint16_t n;
    bool hold;
    int k = 0;

    if (max > TC_LINK_BURST) {
        max = TC_LINK_BURST;
    }
    n = rte_eth_rx_burst(d->port, 0, m, (uint16_t)max);
    if (n == 0) {
        return 0;
    }
    hold = rte_mempool_avail_count(d->pool) > d->pool->size / 4;
    for (uint16_t i = 0; i < n; i++) {
        d->rx_frames++;
        /* lwIP's MTU is at most 1500: a frame in several segments is a
         * jumbo frame it would not take anyway. */
        if (m[i]->nb_segs != 1 || m[i]->data_len == 0) {
            rte_pktmbuf_free(m[i]);
            d->rx_dropped++;
            continue;
        }
        f[k].data = rte_pktmbuf_mtod(m[i], uint8_t *);
        f[k].len = m[i]->data_len;
        f[k].handle = m[i];
        f[k].priv = rte_mbuf_to_priv(m[i]);
        f[k].hold = hold;
        if (hold) {
            d->rx_lent++;
        } else {
            d->rx_copied++;
        }
        k++;
    }
    return k;
}

static void dpdk_rx_release(struct tc_link *l, void *handle)
{
    (void)l;
    rte_pktmbuf_free(handle);
}

/* ------------------------------------------------------------ transmit */

/* Ask the port for the checksums lwIP left out (tc_link.tx_csum): ol_flags,
 * header lengths and the pseudo-header sum the offload starts from.  The
 * frame is lwIP's own output, read by offset after a length check. */
#define ETH_TYPE_OFF 12
#define IP4_FRAG_OFF (RTE_ETHER_HDR_LEN + 6)
#define IP4_PROTO_OFF (RTE_ETHER_HDR_LEN + 9)
#define IP6_NEXT_OFF (RTE_ETHER_HDR_LEN + 6)
static void tx_offload(struct dpdk_link *d, struct rte_mbuf *m)
{
    const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
    size_t len = m->data_len;
    uint16_t type;
    uint8_t proto;
    uint64_t fl;

    if (len < RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr)) {
        return;
    }
    type = (uint16_t)(p[ETH_TYPE_OFF] << 8 | p[ETH_TYPE_OFF + 1]);
    if (type == RTE_ETHER_TYPE_IPV4) {
        size_t ihl = (size_t)(p[RTE_ETHER_HDR_LEN] & 0x0f) * 4;
        uint16_t frag = (uint16_t)(p[IP4_FRAG_OFF] << 8 | p[IP4_FRAG_OFF + 1]);

        if (ihl < sizeof(struct rte_ipv4_hdr) || RTE_ETHER_HDR_LEN + ihl > len) {
            return;
        }
        m->l3_len = ihl;
        proto = p[IP4_PROTO_OFF];
        fl = d->tx_ol_ip4;
        /* A fragment's L4 checksum covers the whole datagram: not the port's
         * business (lwIP fragments only UDP, whose 0 means "none"). */
        if ((frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
            proto = 0;
        }
    } else if (type == RTE_ETHER_TYPE_IPV6) {
        if (len < RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv6_hdr)) {
            return;
        }
        /* lwIP puts no extension header before TCP or UDP. */
        m->l3_len = sizeof(struct rte_ipv6_hdr);
        proto = p[IP6_NEXT_OFF];
        fl = RTE_MBUF_F_TX_IPV6;
    } else {
        return;
    }
    if (proto == IPPROTO_TCP && (d->l.tx_csum & TC_LINK_CSUM_TCP)) {
        fl |= RTE_MBUF_F_TX_TCP_CKSUM;
    } else if (proto == IPPROTO_UDP && (d->l.tx_csum & TC_LINK_CSUM_UDP)) {
        fl |= RTE_MBUF_F_TX_UDP_CKSUM;
    }
    if ((fl & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK)) == 0) {
        return;
    }
    m->l2_len = RTE_ETHER_HDR_LEN;
    m->ol_flags |= fl;
    (void)rte_net_intel_cksum_prepare(m);
}

static bool dpdk_tx_flush(struct tc_link *l)
{
    struct dpdk_link *d = (struct dpdk_link *)l;
    uint16_t sent;

    if (d->ntx == 0) {
        return false;
    }
    sent = rte_eth_tx_burst(d->port, 0, d->txq, (uint16_t)d->ntx);
    d->tx_frames += sent;
    if (sent > 0) {
        d->ntx -= sent;
        memmove(d->txq, d->txq + sent, d->ntx * sizeof(d->txq[0]));
        d->tx_stall = 0;
    } else if (++d->tx_stall >= TX_STALL_ROUNDS) {
        /* The port takes nothing (link down?): drop, TCP retransmits. */
        rte_pktmbuf_free_bulk(d->txq, d->ntx);
        d->tx_dropped += d->ntx;
        d->ntx = 0;
        d->tx_stall = 0;
    }
    return d->ntx > 0;
}

static int dpdk_tx(struct tc_link *l, const struct iovec *iov, int iovcnt)
{
    struct dpdk_link *d = (struct dpdk_link *)l;
    struct rte_mbuf *m;
    size_t total = 0;
    uint8_t *p;

    if (d->ntx == TC_LINK_BURST) {
        (void)dpdk_tx_flush(l);
    }
    for (int i = 0; i < iovcnt; i++) {
        total += iov[i].iov_len;
    }
    if (d->ntx == TC_LINK_BURST || (m = rte_pktmbuf_alloc(d->pool)) == NULL) {
        d->tx_dropped++;
        return -1;
    }
    if (total > rte_pktmbuf_tailroom(m) ||
        (p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)total)) == NULL) {
        rte_pktmbuf_free(m);
        d->tx_dropped++;
        return -1;
    }
    for (int i = 0; i < iovcnt; i++) {
        memcpy(p, iov[i].iov_base, iov[i].iov_len);
        p += iov[i].iov_len;
    }
    if (d->l.tx_csum != 0) {
        tx_offload(d, m);
    }
    d->txq[d->ntx++] = m;
    return 0;
}

/* ------------------------------------------------------------ the rest */

static bool dpdk_mac(const struct tc_link *l, uint8_t mac[6])
{
    memcpy(mac, ((const struct dpdk_link *)l)->mac, 6);
    return true;
}

static void dpdk_status(const struct tc_link *l, char *buf, size_t len)
{
    const struct dpdk_link *d = (const struct dpdk_link *)l;
    struct rte_eth_link link;
    char speed[64];

    memset(&link, 0, sizeof(link));
    if (rte_eth_link_get_nowait(d->port, &link) != 0) {
        snprintf(speed, sizeof(speed), "link unknown");
    } else if (link.link_status == RTE_ETH_LINK_DOWN) {
        snprintf(speed, sizeof(speed), "link down");
    } else {
        snprintf(speed, sizeof(speed), "link up %u Mbps", link.link_speed);
    }
    snprintf(buf, len,
             "dpdk port %u %s (%s), %s, mtu %u, mbufs %u/%u in use, rx %llu (in place %llu, "
             "copied %llu) tx %llu rx-dropped %llu tx-dropped %llu, tx checksums %s%s%s%s",
             d->port, d->l.name, d->driver, speed, d->l.mtu, rte_mempool_in_use_count(d->pool),
             d->pool->size, (unsigned long long)d->rx_frames, (unsigned long long)d->rx_lent,
             (unsigned long long)d->rx_copied, (unsigned long long)d->tx_frames,
             (unsigned long long)d->rx_dropped, (unsigned long long)d->tx_dropped,
             d->l.tx_csum == 0 ? "software" : "port", d->l.tx_csum & TC_LINK_CSUM_IP4 ? " ip4" : "",
             d->l.tx_csum & TC_LINK_CSUM_TCP ? " tcp" : "",
             d->l.tx_csum & TC_LINK_CSUM_UDP ? " udp" : "");
}

/* Remove DPDK's runtime folder (config, sockets, fbarray files) once the
 * EAL is gone, so nothing is left in /var/run/dpdk/<prefix>. */
static void remove_runtime_dir(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX + 256];

    if (dp == NULL) {
        return;
    }
    while ((e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            (void)unlink(path);
        }
    }
    closedir(dp);
    (void)rmdir(dir);
}

static void dpdk_teardown(struct dpdk_link *d)
{
    if (d->ntx > 0) {
        rte_pktmbuf_free_bulk(d->txq, d->ntx);
        d->tx_dropped += d->ntx;
        d->ntx = 0;
    }
    if (d->port_started) {
        (void)rte_eth_dev_stop(d->port);
    }
    if (d->port_open) {
        (void)rte_eth_dev_close(d->port); /* memif: removes its socket */
    }
    if (d->eal_up) {
        (void)rte_eal_cleanup();
    }
    if (d->runtime_dir_ours) {
        remove_runtime_dir(d->runtime_dir);
    }
    free(d->args);
    free(d);
}

static void dpdk_close(struct tc_link *l)
{
    struct dpdk_link *d = (struct dpdk_link *)l;

    if (d->ntx > 0) {
        (void)dpdk_tx_flush(l);
    }
    rte_pktmbuf_free_bulk(d->txq, d->ntx);
    d->ntx = 0;
    /* Every buffer lwIP held is back once the connections are gone. */
    tc_info("dpdk: packet buffers in use: %u at start, %u at exit (of %u); received frames kept "
            "in place %llu, copied %llu",
            d->in_use_start, rte_mempool_in_use_count(d->pool), d->pool->size,
            (unsigned long long)d->rx_lent, (unsigned long long)d->rx_copied);
    dpdk_teardown(d);
}

static const struct tc_link_ops dpdk_ops = {
    .kind = "dpdk",
    .rx_burst = dpdk_rx_burst,
    .rx_release = dpdk_rx_release,
    .tx = dpdk_tx,
    .tx_flush = dpdk_tx_flush,
    .mac = dpdk_mac,
    .status = dpdk_status,
    .close = dpdk_close,
};

/* ------------------------------------------------------------ opening */

/* The EAL's messages while it starts (its log, getopt's complaints and its
 * usage text) go to a memory file; an error quotes the line that says
 * what went wrong, and -v replays them all. */
struct capture {
    int fd, saved_out, saved_err;
    FILE *log;
    char text[CAPTURE_MAX];
};

static bool capture_start(struct capture *c)
{
    c->fd = memfd_create("tcpcryptd-eal", MFD_CLOEXEC);
    c->log = NULL;
    c->text[0] = '\0';
    if (c->fd < 0) {
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    c->saved_out = dup(STDOUT_FILENO);
    c->saved_err = dup(STDERR_FILENO);
    c->log = fdopen(dup(c->fd), "w");
    if (c->saved_out < 0 || c->saved_err < 0 || c->log == NULL) {
        return false;
    }
    setvbuf(c->log, NULL, _IOLBF, 0);
    (void)rte_openlog_stream(c->log);
    /* stdout only ever gets the EAL's usage text: dropped. */
    {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

        if (null >= 0) {
            (void)dup2(null, STDOUT_FILENO);
            close(null);
        }
    }
    (void)dup2(c->fd, STDERR_FILENO);
    return true;
}

static void capture_end(struct capture *c)
{
    ssize_t n;

    if (c->fd < 0) {
        return;
    }
    fflush(stdout);
    fflush(stderr);
    (void)rte_openlog_stream(stderr);
    if (c->log != NULL) {
        fclose(c->log);
    }
    if (c->saved_out >= 0) {
        (void)dup2(c->saved_out, STDOUT_FILENO);
        close(c->saved_out);
    }
    if (c->saved_err >= 0) {
        (void)dup2(c->saved_err, STDERR_FILENO);
        close(c->saved_err);
    }
    n = pread(c->fd, c->text, sizeof(c->text) - 1, 0);
    c->text[n > 0 ? n : 0] = '\0';
    close(c->fd);
    c->fd = -1;
    if (tc_log_enabled(TC_LOG_DEBUG)) {
        for (char *s = c->text, *e; *s != '\0'; s = e + 1) {
            e = strchrnul(s, '\n');
            tc_debug("dpdk: %.*s", (int)(e - s), s);
            if (*e == '\0') {
                break;
            }
        }
    }
}

/* The first captured line that reports a problem, for the error message. */
static void capture_reason(const struct capture *c, char *out, size_t len)
{
    static const char *const words[] = {"fail",    "cannot",       "can't",   "error",
                                        "invalid", "unable",       "in use",  "unrecognized",
                                        "unknown", "no available", "refused", "denied"};
    const char *s = c->text;

    out[0] = '\0';
    while (*s != '\0') {
        const char *e = strchrnul(s, '\n');
        char line[256];

        snprintf(line, sizeof(line), "%.*s", (int)(e - s), s);
        for (size_t i = 0;
             strncmp(line, "TELEMETRY:", 10) != 0 && i < sizeof(words) / sizeof(words[0]); i++) {
            if (strcasestr(line, words[i]) != NULL) {
                snprintf(out, len, "%.*s", (int)(len - 1), line);
                return;
            }
        }
        s = *e == '\0' ? e : e + 1;
    }
}

/* Is option name among the EAL arguments ("-l 0", "-l0", "--lcores=...")? */
static bool has_arg(char **argv, int argc, const char *name)
{
    size_t n = strlen(name);
    bool is_short = n == 2;

    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], name, n) == 0 &&
            (is_short || argv[i][n] == '\0' || argv[i][n] == '=')) {
            return true;
        }
    }
    return false;
}

/* DPDK 22.11's runtime folder: /var/run/dpdk/<prefix> for root, else under
 * $XDG_RUNTIME_DIR or /tmp; the prefix is --file-prefix's, or "rte". */
static void runtime_dir_of(char **argv, int argc, char *out, size_t len)
{
    const char *prefix = "rte", *base = "/var/run";

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--file-prefix") == 0 && i + 1 < argc) {
            prefix = argv[i + 1];
        } else if (strncmp(argv[i], "--file-prefix=", 14) == 0) {
            prefix = argv[i] + 14;
        }
    }
    if (getuid() != 0) {
        base = getenv("XDG_RUNTIME_DIR") != NULL ? getenv("XDG_RUNTIME_DIR") : "/tmp";
    }
    snprintf(out, len, "%s/dpdk/%s", base, prefix);
}

static int split_args(struct dpdk_link *d, const char *args)
{
    int argc = 0;
    char *save = NULL;

    d->args = strdup(args);
    if (d->args == NULL) {
        return -1;
    }
    d->argv[argc++] = (char *)"tcpcryptd";
    for (char *t = strtok_r(d->args, " \t\n", &save); t != NULL;
         t = strtok_r(NULL, " \t\n", &save)) {
        if (argc > MAX_EAL_ARGS) {
            return -2;
        }
        d->argv[argc++] = t;
    }
    d->argv[argc] = NULL;
    return argc;
}

static int eal_start(struct dpdk_link *d, int argc, const char *cfg_args, struct capture *cap,
                     char *err)
{
    char reason[200];
    bool pinned = has_arg(d->argv, argc, "-l") || has_arg(d->argv, argc, "-c") ||
                  has_arg(d->argv, argc, "--lcores");
    bool existed;
    cpu_set_t cpus;
    struct stat st;
    int rc;

    runtime_dir_of(d->argv, argc, d->runtime_dir, sizeof(d->runtime_dir));
    existed = stat(d->runtime_dir, &st) == 0;
    CPU_ZERO(&cpus);
    (void)sched_getaffinity(0, sizeof(cpus), &cpus);
    rc = rte_eal_init(argc, d->argv);
    if (rc < 0) {
        int e = rte_errno;

        capture_end(cap);
        capture_reason(cap, reason, sizeof(reason));
        if (!existed) {
            d->runtime_dir_ours = true; /* made by this failed start */
        }
        if (strstr(cap->text, "Cannot create lock") != NULL ||
            strstr(cap->text, "another primary") != NULL) {
            snprintf(
                err, TC_LINK_ERR_MAX,
                "--dpdk: the file prefix of %.100s is in use by another DPDK process (give each "
                "process its own --file-prefix)",
                d->runtime_dir);
        } else if (e == EINVAL) {
            snprintf(err, TC_LINK_ERR_MAX, "--dpdk \"%.80s\": bad EAL arguments%s%.100s", cfg_args,
                     reason[0] ? ": " : "", reason);
        } else if (strcasestr(cap->text, "hugepage") != NULL &&
                   !has_arg(d->argv, argc, "--no-huge")) {
            snprintf(err, TC_LINK_ERR_MAX,
                     "--dpdk: no hugepages (reserve some: echo 256 > /proc/sys/vm/nr_hugepages; "
                     "mount -t hugetlbfs nodev /dev/hugepages; or pass --no-huge -m 256)");
        } else {
            snprintf(err, TC_LINK_ERR_MAX, "--dpdk: EAL initialisation failed (%s)%s%.120s",
                     rte_strerror(e), reason[0] ? ": " : "", reason);
        }
        return -1;
    }
    d->eal_up = true;
    d->runtime_dir_ours = true;
    snprintf(d->runtime_dir, sizeof(d->runtime_dir), "%s", rte_eal_get_runtime_dir());
    if (!pinned) {
        /* The EAL pinned this thread to its main lcore's CPU: the daemon
         * keeps the CPUs it was given unless -l/-c/--lcores asked. */
        (void)sched_setaffinity(0, sizeof(cpus), &cpus);
    }
    return 0;
}

static int port_start(struct dpdk_link *d, const struct tc_link_dpdk_config *cfg,
                      struct capture *cap, char *err)
{
    struct rte_eth_dev_info info;
    struct rte_eth_conf conf;
    struct rte_ether_addr mac;
    uint16_t nrxd, ntxd, mtu, nports = rte_eth_dev_count_avail(), p;
    uint64_t want;
    unsigned desc;
    char reason[200];
    int socket, rc;

    if (nports != 1) {
        capture_end(cap);
        capture_reason(cap, reason, sizeof(reason));
        if (nports == 0) {
            snprintf(err, TC_LINK_ERR_MAX,
                     "--dpdk: no Ethernet port (add --vdev=..., or bind a NIC with "
                     "dpdk-devbind.py)%s%.150s",
                     reason[0] ? ": " : "", reason);
        } else {
            snprintf(err, TC_LINK_ERR_MAX,
                     "--dpdk: %u Ethernet ports; exactly one is used (select it with -a or one "
                     "--vdev)",
                     nports);
        }
        return -1;
    }
    d->port = 0;
    RTE_ETH_FOREACH_DEV(p)
    {
        d->port = p;
        break;
    }
    if (rte_eth_dev_get_name_by_port(d->port, d->l.name) != 0) {
        snprintf(d->l.name, sizeof(d->l.name), "port%u", d->port);
    }
    d->l.name[sizeof(d->l.name) - 1] = '\0';
    d->port_open = true;
    if ((rc = rte_eth_dev_info_get(d->port, &info)) != 0) {
        snprintf(err, TC_LINK_ERR_MAX, "--dpdk: port %s: %s", d->l.name, rte_strerror(-rc));
        return -1;
    }
    snprintf(d->driver, sizeof(d->driver), "%s", info.driver_name);
    memset(&conf, 0, sizeof(conf));
    /* Checksum offload where the port offers it; lwIP computes the rest. */
    want = info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
                                   RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
    conf.txmode.offloads = want;
    d->tx_ol_ip4 = RTE_MBUF_F_TX_IPV4;
    if (want & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
        d->l.tx_csum |= TC_LINK_CSUM_IP4;
        d->tx_ol_ip4 |= RTE_MBUF_F_TX_IP_CKSUM;
    }
    d->l.tx_csum |= (want & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) ? TC_LINK_CSUM_TCP : 0;
    d->l.tx_csum |= (want & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) ? TC_LINK_CSUM_UDP : 0;
    if ((rc = rte_eth_dev_configure(d->port, 1, 1, &conf)) != 0) {
        snprintf(err, TC_LINK_ERR_MAX, "--dpdk: port %s: cannot configure it: %s%s", d->l.name,
                 rte_strerror(-rc), rc == -EBUSY ? " (in use?)" : "");
        return -1;
    }
    /* Rings of at most a quarter of the pool each, the rest for frames
     * lwIP holds and frames queued for transmit. */
    for (desc = RING_DESC_MAX; desc > 64 && desc > cfg->mbufs / 4; desc /= 2) {
    }
    nrxd = ntxd = (uint16_t)desc;
    (void)rte_eth_dev_adjust_nb_rx_tx_desc(d->port, &nrxd, &ntxd);
    if ((unsigned)nrxd + ntxd + 2 * TC_LINK_BURST + POOL_CACHE >= cfg->mbufs) {
        snprintf(err, TC_LINK_ERR_MAX, "--dpdk-mbufs %u: port %s needs more than %u", cfg->mbufs,
                 d->l.name, nrxd + ntxd + 2 * TC_LINK_BURST + POOL_CACHE);
        return -1;
    }
    socket = rte_eth_dev_socket_id(d->port);
    d->pool = rte_pktmbuf_pool_create("tcpcryptd", cfg->mbufs, POOL_CACHE,
                                      RTE_ALIGN(TC_LINK_RX_PRIV, RTE_MBUF_PRIV_ALIGN),
                                      RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (d->pool == NULL) {
        snprintf(err, TC_LINK_ERR_MAX,
                 "--dpdk: cannot allocate %u packet buffers (%s): lower --dpdk-mbufs or give "
                 "the EAL more memory (-m)",
                 cfg->mbufs, rte_strerror(rte_errno));
        return -1;
    }
    if ((rc = rte_eth_rx_queue_setup(d->port, 0, nrxd, (unsigned)socket, NULL, d->pool)) != 0 ||
        (rc = rte_eth_tx_queue_setup(d->port, 0, ntxd, (unsigned)socket, NULL)) != 0) {
        snprintf(err, TC_LINK_ERR_MAX, "--dpdk: port %s: queue setup: %s", d->l.name,
                 rte_strerror(-rc));
        return -1;
    }
    (void)rte_eth_dev_set_mtu(d->port, 1500);
    d->l.mtu = rte_eth_dev_get_mtu(d->port, &mtu) == 0 && mtu >= 1280 ? mtu : 1500;
    if ((rc = rte_eth_macaddr_get(d->port, &mac)) != 0) {
        snprintf(err, TC_LINK_ERR_MAX, "--dpdk: port %s: no MAC address: %s", d->l.name,
                 rte_strerror(-rc));
        return -1;
    }
    memcpy(d->mac, mac.addr_bytes, 6);
    if ((rc = rte_eth_dev_start(d->port)) != 0) {
        capture_end(cap);
        capture_reason(cap, reason, sizeof(reason));
        snprintf(err, TC_LINK_ERR_MAX, "--dpdk: port %s: cannot start it: %s%s%.100s", d->l.name,
                 rte_strerror(-rc), reason[0] ? ": " : "", reason);
        return -1;
    }
    d->port_started = true;
    d->in_use_start = rte_mempool_in_use_count(d->pool);
    return 0;
}

struct tc_link *tc_link_dpdk_open(const struct tc_link_dpdk_config *cfg, char err[TC_LINK_ERR_MAX])
{
    static bool opened;
    struct dpdk_link *d;
    struct capture cap;
    int argc;

    if (opened) {
        snprintf(err, TC_LINK_ERR_MAX, "--dpdk: one DPDK link per process");
        return NULL;
    }
    opened = true;
    d = calloc(1, sizeof(*d));
    if (d == NULL) {
        snprintf(err, TC_LINK_ERR_MAX, "--dpdk: out of memory");
        return NULL;
    }
    d->l.ops = &dpdk_ops;
    d->l.fd = -1;
    d->l.mtu = 1500;
    d->l.busy_poll = cfg->busy_poll;
    argc = split_args(d, cfg->eal_args);
    if (argc < 0) {
        snprintf(err, TC_LINK_ERR_MAX,
                 argc == -2 ? "--dpdk: more than %d EAL arguments" : "--dpdk: out of memory",
                 MAX_EAL_ARGS);
        dpdk_teardown(d);
        return NULL;
    }
    if (!capture_start(&cap)) {
        capture_end(&cap);
        snprintf(err, TC_LINK_ERR_MAX, "--dpdk: cannot capture the EAL's messages: %s",
                 strerror(errno));
        dpdk_teardown(d);
        return NULL;
    }
    if (eal_start(d, argc, cfg->eal_args, &cap, err) != 0 || port_start(d, cfg, &cap, err) != 0) {
        capture_end(&cap); /* no-op when already ended */
        dpdk_teardown(d);
        return NULL;
    }
    capture_end(&cap);
    return &d->l;
}
