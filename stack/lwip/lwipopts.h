/*
 * lwIP 2.1.3 options for tcpcryptd.
 *
 * One single-threaded daemon runs one lwIP instance (NO_SYS=1, raw API) over an
 * Ethernet link (tap or DPDK) and holds thousands of TCP connections. Every
 * value below says why it differs from lwIP's default (src/include/lwip/opt.h);
 * anything not listed keeps lwIP's default.
 *
 * This file is included by every lwIP source file and by our own files that
 * include lwIP headers; keep it free of declarations (those live in
 * arch/cc.h and tc_lwip_hooks.h).
 */
#ifndef TCPCRYPT_LWIPOPTS_H
#define TCPCRYPT_LWIPOPTS_H

/* ------------------------------------------------------------ system model */

/* One event loop, no threads, no OS abstraction layer: the loop calls
 * ethernet input, sys_check_timeouts() and the raw TCP API itself. */
#define NO_SYS 1
/* Nothing interrupts lwIP, so SYS_ARCH_PROTECT needs no lock (and with
 * NO_SYS=1 and this at 0, no arch/sys_arch.h is needed). */
#define SYS_LIGHTWEIGHT_PROT 0
/* The sequential APIs need threads; the daemon uses the raw TCP API. */
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_NETIF_API 0
/* The application layered TCP API (TLS over altcp) is not used: tcpcrypt hooks
 * plain TCP pcbs directly. */
#define LWIP_ALTCP 0

/* lwIP's htons/ntohs/htonl/ntohl macros would clash with glibc's
 * <arpa/inet.h> (and DPDK's) in daemon files that include both; lwIP itself
 * only uses lwip_htons() and friends. */
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1

/* ------------------------------------------------------------ memory */

/* The lwIP heap (PBUF_RAM: every copied tcp_write segment, outgoing headers,
 * reassembly) comes from glibc malloc instead of a fixed MEM_SIZE array:
 * its use grows with the bytes in flight across thousands of connections, which
 * no fixed size fits (a fixed heap would either waste memory or stall every
 * connection once one busy peer fills it), and ASan sees overflows in it. */
#define MEM_LIBC_MALLOC 1
/* Pool elements and pbuf payloads hold pointers and u32_t fields: align them to
 * 8 bytes on 64-bit hosts (lwIP's default of 1 suits only 8-bit MCUs). */
#define MEM_ALIGNMENT 8

/* Fixed-size objects stay in lwIP's pools (MEMP_MEM_MALLOC=0): a pool is a hard
 * cap, and lwIP only evicts (oldest TIME_WAIT, then LAST_ACK, CLOSING, lowest
 * priority; see tcp_alloc) when a pool is exhausted, which is what keeps a SYN
 * or TIME_WAIT flood from exhausting the daemon's memory. Pools are static
 * arrays touched by memp_init: about 14 MB in total on x86-64 with the sizes
 * below (5.4 MB of pcbs, 6.1 MB of frame buffers, 2 MB of segments). */

/* Connection pcbs, including SYN_RCVD and TIME_WAIT ones: sized for a server
 * holding thousands of connections (344 bytes each on x86-64). */
#define MEMP_NUM_TCP_PCB 16384
/* One listening pcb per listening application socket (not per worker). */
#define MEMP_NUM_TCP_PCB_LISTEN 1024
/* Queued TCP segments (unsent, unacked, out of order) across all connections:
 * the most a pool can hold (struct memp_desc counts in u16_t, 65536 would wrap
 * to an empty pool). A connection with a full send buffer holds up to
 * TCP_SND_QUEUELEN (719) of them;
 * exhaustion makes tcp_write() return ERR_MEM (back-pressure, retried from
 * the sent/poll callbacks), it never loses data. */
#define MEMP_NUM_TCP_SEG 65535
/* PBUF_REF/PBUF_ROM headers (zero-copy tcp_write, IP fragments). The daemon
 * copies into lwIP (encrypt once into the send buffer), so few are needed. */
#define MEMP_NUM_PBUF 1024
/* Receive frame buffers for link drivers that use PBUF_POOL (fixed-size, no
 * malloc per frame). Drivers may also allocate PBUF_RAM; received data that an
 * application has not drained yet sits in these buffers, bounded per connection
 * by TCP_WND, so the pool is a shared fast path, not the bound. */
#define PBUF_POOL_SIZE 4096
/* Timers: lwIP's own plus a few for the daemon (e.g. rekey, status). */
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)

/* ------------------------------------------------------------ link, IPv4, IPv6 */

#define LWIP_ETHERNET 1
#define LWIP_ARP 1
/* A server answers many on-link peers; the default of 10 entries would thrash. */
#define ARP_TABLE_SIZE 256
/* Queue every packet (not only the last) while a neighbour resolves, so several
 * connections opened at once to a new neighbour all get their SYN out. */
#define ARP_QUEUEING 1
#define MEMP_NUM_ARP_QUEUE 256
/* Static neighbour entries: handy for tests and fixed deployments. */
#define ETHARP_SUPPORT_STATIC_ENTRIES 1

#define LWIP_IPV4 1
#define LWIP_ICMP 1
/* Raw IP pcbs are not used (ICMP echo replies do not need them). */
#define LWIP_RAW 0
/* No multicast groups on IPv4. */
#define LWIP_IGMP 0
/* Link-local IPv4 autoconfiguration is not wanted on servers. */
#define LWIP_AUTOIP 0
/* The daemon is an endpoint, never a router. */
#define IP_FORWARD 0

#define LWIP_IPV6 1
/* SLAAC for IPv6 addresses (ICMPv6 only, no UDP); MLD stays on (default) so
 * switches with MLD snooping deliver neighbour solicitations to us. */
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_IPV6_FORWARD 0
/* Reassembly bookkeeping holds a pointer, which does not fit in the 8-byte
 * fragment header on 64-bit hosts: keep a copy of the header instead (lwIP
 * asserts this at run time). */
#define IPV6_FRAG_COPYHEADER 1
/* Neighbour and destination caches: every remote IPv6 peer needs a destination
 * entry, and the defaults (10) would evict on every new connection. 127 is
 * lwIP 2.1.3's hard limit for both: nd6_tmr() walks them with an s8_t index
 * and loops forever above 127 (lwIP does not check this; see the end of file). */
#define LWIP_ND6_NUM_NEIGHBORS 127
#define LWIP_ND6_NUM_DESTINATIONS 127
#define MEMP_NUM_ND6_QUEUE 256

/* UDP exists only for address configuration: DHCPv4 now ("addresses by flag or
 * DHCP"); DHCPv6 can be turned on later. No DNS: the daemon never resolves names. */
#define LWIP_UDP 1
#define MEMP_NUM_UDP_PCB 4
#define LWIP_DHCP 1
#define LWIP_IPV6_DHCP6 0
#define LWIP_DNS 0

/* Several netifs (tap plus others; the smoke test uses two). */
#define LWIP_SINGLE_NETIF 0
/* Connections from one application to another through the same daemon address
 * are delivered internally; the event loop then calls netif_poll_all(). */
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 1024
#define LWIP_HAVE_LOOPIF 0
/* Link and status callbacks let the daemon start DHCP/SLAAC when a link comes up. */
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1

/* Checksums are generated and checked in software on every protocol (lwIP's
 * defaults, stated here on purpose): a tap hands over complete checksums, and
 * an unchecked corrupt segment must never reach tcpcrypt. Per-netif control
 * lets a DPDK driver turn on hardware offload for its own netif only. */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_GEN_ICMP6 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1
#define CHECKSUM_CHECK_ICMP6 1
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1

/* ------------------------------------------------------------ TCP */

#define LWIP_TCP 1
/* Ethernet MTU 1500 minus 40 bytes of IPv4+TCP headers; lwIP lowers it per
 * netif MTU and for IPv6 (TCP_CALCULATE_EFF_SEND_MSS, default on). */
#define TCP_MSS 1460
/* lwIP's TCP timers tick every 50 ms (fast: delayed ACKs) and 100 ms (slow:
 * retransmission) instead of 250/500.  lwIP's retransmission timeout is
 * counted in slow ticks and bottoms out at about three of them on a LAN, so
 * the tick sets how long a segment lost beyond fast retransmit's reach
 * stalls the stream.  Through tc-mbox with 3% of segments dropped, 1 MB each
 * way (three seeds): 4.6-11.8 s with 500 ms ticks, 2.6-5.4 s with 200 ms,
 * and with these ticks plus NewReno partial ACKs (stack/Makefile.inc) and a
 * 1 s initial RTO (tc_lwip_initial_rto): 0.9-1.6 s.  Timeouts given in
 * milliseconds (SYN retries, keepalive, TIME-WAIT) are unchanged. */
#define TCP_TMR_INTERVAL 50
/* SYN retransmissions before connect() fails with ETIMEDOUT: a variable,
 * set by tcpcryptd --syn-retries (default 6, as lwIP's; the kernel's
 * net.ipv4.tcp_syn_retries is the same idea).  In lwIP's own #if checks an
 * identifier counts as 0. */
#ifndef __ASSEMBLER__
extern unsigned char tc_syn_max_rtx;
#endif
#define TCP_SYNMAXRTX tc_syn_max_rtx

/* RFC 7323 window scaling: without it the window is capped at 64 KB, about
 * 5 Mbit/s at 100 ms RTT. TCP_WND is only an advertised bound on unread data
 * per connection (nothing is preallocated), and the daemon calls tcp_recved()
 * only once the application's socketpair took the bytes, so the window also
 * carries back-pressure. 256 KB with shift 3 (max 512 KB - 8). */
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 3
#define TCP_WND (256 * 1024)
/* Send buffer per connection (bytes lwIP keeps until acknowledged), equal to
 * the window for symmetric throughput. Encrypted frames are written here once
 * and retransmitted byte-identical (RFC 8548 forbids re-encryption). */
#define TCP_SND_BUF (256 * 1024)
/* Segments per connection: enough for TCP_SND_BUF in small writes. */
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
/* "Writable" threshold of the sequential APIs (unused with the raw API), kept
 * in 16 bits: its default (half of TCP_SND_BUF) would overflow. */
#define TCP_SNDLOWAT (32 * 1024)

/* Out-of-order segments are queued (needed for SACK) but bounded per
 * connection, so one lossy or hostile peer cannot pin the frame pool. */
#define TCP_QUEUE_OOSEQ 1
#define TCP_OOSEQ_MAX_BYTES TCP_WND
#define TCP_OOSEQ_MAX_PBUFS 256
/* Selective acknowledgements out (RFC 2018; lwIP 2.1.3 sends SACK but does
 * not act on received SACK blocks). */
#define LWIP_TCP_SACK_OUT 1
#define LWIP_TCP_MAX_SACK_NUM 4
/* RFC 7323 timestamps: RTT measurement and PAWS on long fast transfers. */
#define LWIP_TCP_TIMESTAMPS 1
/* Applications set SO_KEEPALIVE/TCP_KEEPIDLE through the interposer. */
#define LWIP_TCP_KEEPALIVE 1
/* A restarted server must be able to bind while old connections on its port
 * are in TIME_WAIT (SO_REUSEADDR, which nginx and redis set). */
#define SO_REUSE 1
/* Per-listener backlog bounds the SYN_RCVD pcbs a SYN flood can take. */
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 255

/* One per-pcb slot for the TCP-ENO/tcpcrypt connection state, with
 * passive_open (listener to accepted pcb) and destroy callbacks. */
#define LWIP_TCP_PCB_NUM_EXT_ARGS 2

/* ------------------------------------------------------------ hooks */

/* Declarations of the functions below (stack/lwip/tc_lwip_hooks.h). The hooks
 * dispatch to a table installed at run time (tc_lwip_set_hooks()); with no
 * table, each returns what stock lwIP would do. */
#define LWIP_HOOK_FILENAME "tc_lwip_hooks.h"
/* Every TCP segment that passed its checksum and matched a pcb (listening,
 * active or TIME_WAIT); non-ERR_OK drops it. Where TCP-ENO reads option 69. */
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
    tc_lwip_hook_inpacket((pcb), (hdr), (optlen), (opt1len), (opt2), (p))
/* Total TCP option length of a segment about to be built (max 40). NOT told the
 * segment's flags, and asked again at every (re)transmission of a queued
 * segment whose header size is already fixed: the answer for a pcb must not
 * change while it has segments queued. pcb may be NULL (RST). */
#define LWIP_HOOK_TCP_OUT_TCPOPT_LENGTH(pcb, internal_len) \
    tc_lwip_hook_opt_length((pcb), (internal_len))
/* Writes our options after lwIP's own; flags can be read from hdr. */
#define LWIP_HOOK_TCP_OUT_ADD_TCPOPTS(p, hdr, pcb, opts) \
    tc_lwip_hook_add_opts((p), (hdr), (pcb), (opts))
/* lwIP's default ISN is a counter plus tcp_ticks, predictable to anyone; use
 * a random ISN instead (lwIP never reuses a TIME_WAIT pcb for a new SYN, so the
 * monotonic-ISN property of RFC 6528 is not needed). */
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) \
    tc_lwip_isn((local_ip), (local_port), (remote_ip), (remote_port))

/* ------------------------------------------------------------ debug, stats */

/* No LWIP_DEBUG: debug output is compiled out. LWIP_ASSERT stays on and
 * aborts (arch/cc.h): lwIP asserts internal invariants, e.g. that our option
 * hooks wrote exactly the length they announced. */
/* Counters are a few increments per packet and feed the daemon's status query
 * (drops, checksum errors, pool exhaustion per pool). */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
/* 32-bit counters: 16-bit ones wrap within seconds on a busy daemon. */
#define LWIP_STATS_LARGE 1
/* Heap bytes in use, also with MEM_LIBC_MALLOC (lwIP then keeps each block's
 * size in a word before it): the status query reports them, and the soak
 * test checks they come back to their level once connections are gone. */
#define MEM_STATS 1
#define MIB2_STATS 0

/* ------------------------------------------------------------ limits lwIP does not check */

#if LWIP_ND6_NUM_NEIGHBORS > 127 || LWIP_ND6_NUM_DESTINATIONS > 127
#error "lwIP 2.1.3 nd6.c indexes its caches with s8_t: at most 127 entries each"
#endif
#if MEMP_NUM_TCP_PCB > 65535 || MEMP_NUM_TCP_SEG > 65535 || PBUF_POOL_SIZE > 65535 || \
    MEMP_NUM_PBUF > 65535 || MEMP_NUM_TCP_PCB_LISTEN > 65535
#error "lwIP 2.1.3 struct memp_desc holds pool sizes in u16_t: at most 65535 elements"
#endif

#endif
