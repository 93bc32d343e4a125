/*
 * A test wire for lwIP: one lwIP instance (lwIP has global state, so two
 * instances in one process are impossible) with two Ethernet netifs on one
 * subnet, A (10.0.0.1, fd00::1) and B (10.0.0.2, fd00::2). Each netif's
 * linkoutput captures the frame, parses it (IPv4/IPv6, TCP header, options,
 * payload) and verifies its checksums independently of lwIP, lets the test's
 * mutator drop or rewrite it, and queues it on a FIFO that wire_run_until()
 * delivers, frame by frame, into the other netif's input. No threads, no
 * sockets, a virtual clock: a test is deterministic apart from lwIP's random
 * numbers (ISNs, neighbour discovery delays).
 *
 *   wire_setup()              once: clock, lwip_init(), both netifs up, IPv6 DAD done
 *   wire_reset()              per scenario: clear the capture and the mutator
 *   wire_set_mutator(fn, ctx) see each frame in flight (drop, corrupt, rewrite)
 *   wire_run_until(done, ms)  deliver frames and run lwIP's timers
 *   wire_captured[0..wire_n_captured)   what lwIP sent, in order
 */
#ifndef TCPCRYPT_TESTS_LWIP_WIRE_H
#define TCPCRYPT_TESTS_LWIP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/netif.h"
#include "tc_lwip_hooks.h"

#define WIRE_FRAME_MAX 1518 /* 1500-byte MTU + Ethernet header, with room to spare */
#define WIRE_QUEUE_LEN 1024
#define WIRE_CAPTURE_LEN 8192
#define WIRE_ENO_KIND 69

enum wire_side {
    WIRE_A = 0, /* sent by netif A */
    WIRE_B = 1,
};

/* A frame in flight. */
struct wire_frame {
    int from;    /* WIRE_A or WIRE_B */
    int capture; /* index in wire_captured, or -1 */
    u16_t len;
    u8_t data[WIRE_FRAME_MAX];
};

/* What the wire saw of one frame, parsed when it was sent: the bytes are
 * those lwIP sent, before any mutation. */
struct wire_capture {
    int from;
    bool dropped; /* the mutator dropped it */
    bool mutated; /* the mutator changed its bytes */
    /* Event numbers on one counter shared by sends and deliveries, so the
     * order of "sent" and "arrived" across both hosts is known. */
    unsigned sent_ev;
    unsigned delivered_ev; /* 0: not (yet) delivered */
    bool is_tcp;
    bool ipv6;
    bool csum_ok; /* IPv4 header and TCP checksums verified from scratch */
    u8_t flags;
    u32_t seq, ack;
    u16_t sport, dport;
    u16_t payload_off; /* of the TCP payload in frame */
    u16_t payload_len;
    u8_t optlen;
    u8_t opts[TC_TCP_MAX_OPTION_BYTES];
    bool opts_ok;   /* the strict option walk succeeded */
    u8_t eno_count; /* option 69 occurrences */
    u8_t eno_len;   /* the first one's length (0: none) */
    u8_t eno[TC_TCP_MAX_OPTION_BYTES];
    bool has_mss, has_ws, has_sack_perm, has_ts, has_sack;
    u8_t ws_shift;
    u16_t len;
    u8_t frame[WIRE_FRAME_MAX];
};

enum wire_verdict {
    WIRE_PASS, /* deliver the frame (as possibly rewritten) */
    WIRE_DROP, /* lose it */
};

/*
 * Called for each frame as it leaves a netif, after it was captured. c is
 * its parse (never NULL; a scratch copy when the capture is full). The
 * mutator may rewrite f in place (f->len included) and must then leave valid
 * checksums (wire_tcp_fix_checksums, wire_tcp_set_options) unless it wants
 * the frame dropped by lwIP for a bad checksum.
 */
typedef enum wire_verdict (*wire_mutator_fn)(void *ctx, struct wire_frame *f,
                                             const struct wire_capture *c);

extern struct netif wire_netif_a, wire_netif_b;
extern u32_t wire_now_ms;
extern struct wire_capture wire_captured[WIRE_CAPTURE_LEN];
extern unsigned wire_n_captured;
extern unsigned wire_capture_overflow;

/* Virtual clock, lwIP init, both netifs with IPv4 and IPv6 addresses, up,
 * duplicate address detection finished over the wire. */
void wire_setup(void);
/* Forget the capture and the mutator (start of a scenario). */
void wire_reset(void);
void wire_set_mutator(wire_mutator_fn fn, void *ctx);
/* Deliver every queued frame (frames sent meanwhile are delivered too). */
unsigned wire_deliver_all(void);
/* Run the wire and lwIP's timers (10 ms virtual steps) until done() or
 * max_ms of virtual time. */
bool wire_run_until(bool (*done)(void), u32_t max_ms);

/* Strict TCP option walk over c->opts[0..c->optlen): fills the option
 * fields; false on a bad length. */
bool wire_parse_tcp_options(struct wire_capture *c);
/* Parse a frame into c (everything but from and the event numbers). */
void wire_parse_frame(struct wire_capture *c, const u8_t *f, size_t len);

static inline const u8_t *wire_payload(const struct wire_capture *c)
{
    return c->frame + c->payload_off;
}

/* Where the TCP segment of a frame lies: NULL tcp if it is not TCP. */
struct wire_tcp {
    u8_t *ip;
    u8_t *tcp;
    size_t tcp_len; /* header and payload */
    size_t hlen;    /* TCP header, options included */
    bool ipv6;
};
bool wire_tcp_locate(struct wire_frame *f, struct wire_tcp *t);
/* Recompute the TCP checksum (and the IPv4 header checksum). */
void wire_tcp_fix_checksums(struct wire_frame *f);
/* Replace the TCP options with len bytes (a multiple of 4, at most 40),
 * moving the payload and fixing lengths and checksums. */
bool wire_tcp_set_options(struct wire_frame *f, const u8_t *opts, size_t len);

#endif
