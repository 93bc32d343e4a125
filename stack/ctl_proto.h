/*
 * The control protocol between libtcpcrypt_preload.so (inside applications)
 * and tcpcryptd.  Shared by both sides; it never leaves the host.
 *
 * Transport: a Unix SOCK_SEQPACKET socket at the daemon's control path
 * (default TC_CTL_DEFAULT_PATH, or $TCPCRYPT_SOCKET).  The preload library
 * opens one short-lived connection per request (so fork and threads need no
 * locking: nothing is shared), sends one request message and reads one reply
 * message, then closes.  File descriptors travel with SCM_RIGHTS.  Every
 * message starts with struct tc_ctl_hdr; all fields are host byte order.
 *
 * Connections.  The daemon creates an AF_UNIX SOCK_STREAM socketpair per TCP
 * connection, keeps one end and hands the other ("app end") to the
 * application, which dup2()s it over the fd it got from socket(), so the fd
 * number never changes.  The daemon identifies a connection from any app end
 * the application later presents (dup'ed, inherited or passed on) by the
 * app end's inode (fstat st_ino), which it recorded at creation.
 *
 * Connect gating.  Before handing out the app end of an outgoing connection,
 * the daemon shrinks its send buffer (SO_SNDBUF) and fills it with filler
 * bytes until EAGAIN, so the app end is not writable.  When the TCP
 * connection is established (or has failed), the daemon reads and discards
 * exactly that filler, restores the send buffer and only then relays data:
 * the app end becomes writable exactly when a kernel socket's would, and
 * SO_ERROR (a TC_CTL_STATUS request) tells the result.  On failure the
 * daemon then shuts its end down (the app reads EOF and TC_CTL_STATUS gives
 * the error).
 *
 * Listeners.  For listen() on an address the daemon serves (its own, or the
 * wildcard), the daemon creates an AF_UNIX SOCK_SEQPACKET socketpair and
 * hands one end to the application, which dup2()s it over the listening fd.
 * Each accepted connection arrives on it as one TC_CTL_ACCEPTED message with
 * the connection's app end attached, so accept() is a recvmsg() and processes
 * that share the listener (fork) share its queue, as with the kernel.  The
 * application's original kernel socket, already bound and listening, is sent
 * along with TC_CTL_LISTEN: the daemon accepts kernel connections on it too
 * (loopback, other interfaces) and forwards those kernel fds unchanged in
 * TC_CTL_ACCEPTED messages (flag TC_CTL_F_KERNEL).
 *
 * Errors the kernel cannot express (RFC 8548 abort: EBADMSG; reset by peer:
 * ECONNRESET; timeouts) are kept by the daemon per connection; the preload
 * library asks for them with TC_CTL_STATUS when a read returns EOF.
 */
#ifndef TCPCRYPT_STACK_CTL_PROTO_H
#define TCPCRYPT_STACK_CTL_PROTO_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#define TC_CTL_DEFAULT_PATH "/run/tcpcrypt/tcpcryptd.sock"
#define TC_CTL_ENV_SOCKET "TCPCRYPT_SOCKET"
#define TC_CTL_VERSION 1
#define TC_CTL_MSG_MAX 512

enum tc_ctl_op {
    /* Requests (application -> daemon). */
    TC_CTL_HELLO = 1,   /* -> TC_CTL_R_HELLO: version and what the daemon serves */
    TC_CTL_CONNECT = 2, /* struct tc_ctl_connect -> TC_CTL_R_CONNECT + app end */
    TC_CTL_LISTEN = 3,  /* struct tc_ctl_listen + kernel listener fd -> TC_CTL_R_LISTEN + app end */
    TC_CTL_STATUS = 4,  /* app end attached -> TC_CTL_R_STATUS */
    TC_CTL_GETOPT = 5,  /* app end attached, struct tc_ctl_opt -> TC_CTL_R_GETOPT */
    TC_CTL_SETOPT = 6,  /* app end attached, struct tc_ctl_opt + value -> TC_CTL_R_SETOPT */
    TC_CTL_ADMIN = 7,   /* struct tc_ctl_admin (+ key log fd) -> TC_CTL_R_ADMIN (+ memfd) */

    /* Replies (daemon -> application). */
    TC_CTL_R_HELLO = 101,
    TC_CTL_R_CONNECT = 102,
    TC_CTL_R_LISTEN = 103,
    TC_CTL_R_STATUS = 104,
    TC_CTL_R_GETOPT = 105,
    TC_CTL_R_SETOPT = 106,
    TC_CTL_R_ADMIN = 107,

    /* On a listener's SEQPACKET socket (daemon -> application). */
    TC_CTL_ACCEPTED = 201, /* struct tc_ctl_accepted + the connection's fd */
};

struct tc_ctl_hdr {
    uint16_t op;
    uint16_t len; /* whole message, header included */
    int32_t err;  /* replies: 0, a positive errno value, or TC_CTL_PASS */
};

/* Reply to CONNECT or LISTEN: the daemon does not serve this address (say,
 * loopback or a route it does not have): use the kernel's socket as is. */
#define TC_CTL_PASS (-1)

/* An address as the socket API knows it (sockaddr_in or sockaddr_in6). */
struct tc_ctl_addr {
    uint32_t len; /* sizeof the sockaddr in ss, 0 when unknown */
    struct sockaddr_storage ss;
};

struct tc_ctl_r_hello {
    struct tc_ctl_hdr h;
    uint32_t version;
    uint32_t naddrs;
    struct tc_ctl_addr addrs[4]; /* the daemon's own addresses */
    /* The daemon serves destinations on these prefixes (its links), and any
     * other non-loopback destination when has_gateway is set. */
    uint8_t prefix_len[4];
    uint8_t has_gateway4, has_gateway6;
};

#define TC_CTL_F_NONBLOCK 0x01 /* connect: the caller's socket is non-blocking */
#define TC_CTL_F_KERNEL 0x02   /* accepted: a kernel socket, not served by the daemon */
#define TC_CTL_F_ENCRYPTED 0x04 /* accepted/status: tcpcrypt is on */

/* Per-socket options set before connect()/listen(), carried along (the
 * TCP_CRYPT_* options of <tcpcrypt/tcpcrypt.h>).  Where the application did
 * not set an option (its bit clear in set, an empty list), the daemon's
 * default applies. */
#define TC_CTL_LIST_MAX 8
struct tc_ctl_sockopts {
    uint32_t flags; /* TC_CTL_O_* */
    uint32_t set;   /* TC_CTL_O_* bits the application set explicitly */
    uint8_t nteps;  /* TCP_CRYPT_PKCONF, 0: the daemon's */
    uint8_t ncaeads; /* TCP_CRYPT_CCONF */
    uint8_t nsaeads; /* TCP_CRYPT_SCONF */
    uint8_t reserved;
    uint8_t teps[TC_CTL_LIST_MAX];
    uint16_t caeads[TC_CTL_LIST_MAX];
    uint16_t saeads[TC_CTL_LIST_MAX];
};
#define TC_CTL_O_DISABLE 0x01     /* no ENO on this connection (plain TCP) */
#define TC_CTL_O_ROLE_B 0x02      /* RFC 8547 §4.2: b = 1 on an active opener */
#define TC_CTL_O_APP_AWARE 0x04   /* a = 1 */
#define TC_CTL_O_AA_MANDATORY 0x08 /* mandatory application-aware mode */
#define TC_CTL_O_MANDATORY 0x10   /* abort (ECONNREFUSED) when ENO fails */
#define TC_CTL_O_NOCACHE 0x20     /* no session resumption, nothing cached */
#define TC_CTL_O_ONLY_A 0x40      /* TCP_CRYPT_CMODE_ALWAYS: never play B */
#define TC_CTL_O_SECURST 0x80     /* ignore RST once tcpcrypt is on */

struct tc_ctl_connect {
    struct tc_ctl_hdr h;
    uint32_t flags; /* TC_CTL_F_NONBLOCK */
    struct tc_ctl_sockopts opts;
    struct tc_ctl_addr local;  /* bound address, len 0 if unbound */
    struct tc_ctl_addr remote; /* destination */
};

struct tc_ctl_r_connect {
    struct tc_ctl_hdr h; /* err: immediate failure (ENETUNREACH, EADDRINUSE, ...) */
    struct tc_ctl_addr local; /* the address lwIP chose */
};

struct tc_ctl_listen {
    struct tc_ctl_hdr h;
    int32_t backlog;
    struct tc_ctl_sockopts opts;
    struct tc_ctl_addr local; /* bound address and port (port 0: kernel's choice, taken from the fd) */
};

struct tc_ctl_r_listen {
    struct tc_ctl_hdr h;
    struct tc_ctl_addr local;
};

struct tc_ctl_accepted {
    struct tc_ctl_hdr h;
    uint32_t flags; /* TC_CTL_F_KERNEL, TC_CTL_F_ENCRYPTED */
    struct tc_ctl_addr local;
    struct tc_ctl_addr remote;
};

/* TC_CTL_R_STATUS: the state of the connection behind an app end.  err is
 * the pending socket error (SO_ERROR semantics: reading it clears it, except
 * that an abort stays reported to later reads). */
#define TC_CTL_S_CONNECTING 1
#define TC_CTL_S_ESTABLISHED 2
#define TC_CTL_S_CLOSED 3
#define TC_CTL_S_FAILED 4
struct tc_ctl_r_status {
    struct tc_ctl_hdr h; /* err: ENOTSOCK-like "not ours" is ENOENT */
    uint32_t state;      /* TC_CTL_S_* */
    int32_t so_error;    /* pending error, cleared by this query when clear_error is set */
    int32_t read_error;  /* what a read at EOF must return: 0 (a real EOF), EBADMSG, ECONNRESET, ... */
    uint32_t flags;      /* TC_CTL_F_ENCRYPTED */
    struct tc_ctl_addr local;
    struct tc_ctl_addr remote;
};
struct tc_ctl_status {
    struct tc_ctl_hdr h;
    uint32_t clear_error; /* 1 for getsockopt(SO_ERROR) */
};

/* TC_CTL_GETOPT / TC_CTL_SETOPT: level IPPROTO_TCP options of tcpcrypt.
 * SETOPT of TCP_CRYPT_CACHE_FLUSH may come without an fd (flush
 * everything); SETOPT of TC_CTL_OPT_LISTENER on a listener's app end
 * replaces its options (value: struct tc_ctl_sockopts) for the connections
 * accepted from then on. */
#define TC_CTL_OPT_LISTENER 0
/* SOL_SOCKET options the daemon's TCP acts on (SO_KEEPALIVE, SO_LINGER);
 * other names are IPPROTO_TCP's (TCP_NODELAY, TCP_KEEP*, TCP_INFO). */
#define TC_CTL_OPT_SOCKET(so) (0x10000 | (so))
struct tc_ctl_opt {
    struct tc_ctl_hdr h;
    int32_t name;   /* TCP_CRYPT_* */
    uint32_t len;   /* value length */
    uint8_t value[280]; /* fits struct tcp_crypt_pubkeys */
};

/*
 * TC_CTL_ADMIN: tcpcryptctl's requests (statistics, listings, cache flush,
 * key log).  The control socket is open to every local user (mode 0666), so
 * the daemon checks the requester's SO_PEERCRED: TC_CTL_A_STATUS (aggregate
 * counters and the daemon's own addresses, which HELLO tells anyway) is
 * answered to anyone; every other request only to root or the daemon's own
 * uid, else the reply's err is EPERM.
 *
 * Listings can exceed TC_CTL_MSG_MAX, so STATUS, SESSIONS and CACHE replies
 * carry a memfd (SCM_RIGHTS) holding count records of rec_len bytes each
 * (struct tc_ctl_a_status, tc_ctl_a_conn, tc_ctl_a_cache); the reader checks
 * that the file holds exactly count * rec_len bytes and that rec_len is the
 * size it knows.  FLUSH answers the number of entries removed in count.
 * KEYLOG_ON carries the key log as an open, writable descriptor that the
 * requester opened itself (never a path: the daemon, often root, must not
 * write where the requester could not).
 */
#define TC_CTL_A_STATUS 1
#define TC_CTL_A_SESSIONS 2
#define TC_CTL_A_CACHE 3
#define TC_CTL_A_FLUSH 4      /* empty the resumption cache */
#define TC_CTL_A_KEYLOG_ON 5  /* fd attached: append key log lines there */
#define TC_CTL_A_KEYLOG_OFF 6 /* stop the key log */

struct tc_ctl_admin {
    struct tc_ctl_hdr h;
    uint32_t what;  /* TC_CTL_A_* */
    uint32_t flags; /* 0 */
};

struct tc_ctl_r_admin {
    struct tc_ctl_hdr h; /* err: 0, EPERM, EINVAL (unknown what), ... */
    uint32_t what;
    uint32_t rec_len; /* bytes per record in the attached memfd */
    uint64_t count;   /* records, or entries flushed */
};

#define TC_CTL_A_NAME 48
#define TC_CTL_A_REASONS 12

/* One of lwIP's memory pools (lwip/priv/memp_std.h names). */
#define TC_CTL_A_POOLS 24
struct tc_ctl_a_pool {
    char name[24];
    uint32_t used, max, avail;
    uint64_t err;
};

/* How many connections ended one way, and why. */
struct tc_ctl_a_reason {
    char key[24];             /* short, for JSON: "no_eno", "integrity", ... */
    char text[TC_CTL_A_NAME]; /* for people */
    uint64_t count;
};

struct tc_ctl_a_status {
    char version[32];
    char link[32]; /* the link's name: tap device or DPDK port */
    char mac[24];
    char addrs[4][TC_CTL_A_NAME]; /* "10.0.0.2/24", "fd00::2/64", link-local */
    uint32_t naddrs;
    uint32_t ngateways;
    char gateways[2][TC_CTL_A_NAME];
    char keylog[256]; /* where the key log goes ("" when off, or for other users) */
    uint32_t keylog_on;
    uint32_t eno; /* TCP-ENO negotiated (not --no-eno) */
    uint64_t uptime_ms;
    /* Connections since start. */
    uint64_t encrypted; /* tcpcrypt session opened */
    uint64_t resumed;   /* ... of them resumed (session ID byte 0 has v = 0x80) */
    uint64_t plain;     /* established as plain TCP (fallback) */
    uint64_t failed;    /* never established (refused, unreachable, handshake timeout) */
    uint64_t aborted;   /* ended abnormally once established (RST, integrity failure) */
    uint64_t closed;    /* finished, any way */
    /* Now. */
    uint64_t open;    /* connections with a TCP side or an application end */
    uint64_t records; /* connection records kept (closed ones the application still holds) */
    uint64_t listeners;
    uint64_t cache_entries;
    /* Bytes since start: application bytes (plaintext) and TCP payload
     * bytes (tcpcrypt frames included), in = from peers, out = to peers. */
    uint64_t app_in, app_out, wire_in, wire_out;
    uint64_t rx_frames, tx_frames; /* Ethernet frames on the link */
    uint32_t nfallback, nfailed, naborted;
    struct tc_ctl_a_reason fallback[TC_CTL_A_REASONS];
    struct tc_ctl_a_reason failures[TC_CTL_A_REASONS];
    struct tc_ctl_a_reason aborts[TC_CTL_A_REASONS];
    char link_status[128]; /* the link driver's own line ("tap tc0, ...", "dpdk port 0 ...") */
    /* lwIP's memory now: its heap (bytes, from malloc) and each of its
     * fixed pools (elements): in use, the peak since start, the size, and
     * allocations refused because it was empty. */
    uint64_t heap_used, heap_max, heap_err;
    /* lwIP's TCP pcbs now: connections (any state but these two), in
     * TIME-WAIT, listening; and of the connections, the half-open ones (a
     * SYN received, the handshake not finished). */
    uint64_t tcp_active, tcp_time_wait, tcp_listen, tcp_half_open;
    /* Half-open connections evicted by newer SYNs since start: a listener's
     * SYN backlog was full (a SYN flood). */
    uint64_t syn_evicted;
    uint32_t npools;
    struct tc_ctl_a_pool pools[TC_CTL_A_POOLS];
};

#define TC_CTL_A_F_ENCRYPTED 0x01
#define TC_CTL_A_F_PASSIVE 0x02 /* accepted by a listener */
#define TC_CTL_A_F_ROLE_B 0x04
#define TC_CTL_A_F_RESUMED 0x08
#define TC_CTL_A_F_SID 0x10  /* sid is known */
#define TC_CTL_A_F_OPEN 0x20 /* TCP side or daemon end still there */

struct tc_ctl_a_conn {
    uint64_t id;
    struct tc_ctl_addr local, remote;
    char state[16]; /* connecting, handshake, established, closing, closed, failed */
    uint32_t flags; /* TC_CTL_A_F_* */
    int32_t error;  /* what a read at EOF returns: 0, EBADMSG, ECONNRESET, ... */
    uint8_t tep;    /* TEP byte (v bit cleared), 0 when plain */
    uint8_t sid_len;
    uint8_t sid[64];
    char tep_name[16];
    char aead_name[24];
    uint64_t app_in, app_out, wire_in, wire_out;
    uint64_t age_ms;
};

/* A resumption cache entry, without its secrets (RFC 8548 §3.5). */
struct tc_ctl_a_cache {
    uint64_t id;
    uint8_t peer[20];
    uint32_t peer_len;
    uint8_t tep;
    uint8_t orig_a; /* this host was A in the original session */
    uint16_t aead;
    char tep_name[16];
    char aead_name[24];
    uint64_t i;       /* index of the next unused secret */
    uint64_t idle_ms; /* since stored or last used */
    uint64_t expires_in_ms;
};

#endif
