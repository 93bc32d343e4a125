/*
 * Where lwIP calls into tcpcryptd, and how our code plugs in.
 *
 * lwIP includes this file (LWIP_HOOK_FILENAME in lwipopts.h) into the sources
 * that offer hooks; lwipopts.h maps its TCP hook macros onto the
 * tc_lwip_hook_*() dispatchers below, which call a table installed at run time
 * with tc_lwip_set_hooks(). With no table installed, each dispatcher returns
 * what stock lwIP does without the hook, so lwIP behaves exactly as stock.
 *
 * The table is global (lwIP is one instance per process) and per-connection
 * state belongs in the pcb's ext-arg slot (LWIP_TCP_PCB_NUM_EXT_ARGS = 1).
 */
#ifndef TCPCRYPT_TC_LWIP_HOOKS_H
#define TCPCRYPT_TC_LWIP_HOOKS_H

#include "lwip/arch.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"

struct pbuf;
struct tcp_hdr;
struct tcp_pcb;

/* RFC 9293 §3.1: the 4-bit data offset caps the header at 60 bytes, 40 of them
 * options. */
#define TC_TCP_MAX_OPTION_BYTES 40

struct tc_lwip_hooks {
    /*
     * A received TCP segment whose checksum passed and which matched pcb: a
     * LISTEN pcb (really a struct tcp_pcb_listen: check pcb->state first; the
     * connection pcb does not exist yet, lwIP creates it, calls the ext-arg
     * passive_open callback and sends the SYN-ACK within the same input call),
     * an active pcb (the SYN-ACK arrives in SYN_SENT) or a TIME_WAIT pcb.
     * Header fields seqno, ackno, src, dest and wnd are already in host byte
     * order; flags are read with TCPH_FLAGS(hdr). The options are optlen bytes:
     * the first opt1len right after hdr, the rest (optlen - opt1len) at opt2,
     * which is NULL when they are not split. lwIP stops parsing options at a
     * malformed one, so our own parsing must be strict.
     * Return ERR_OK to let lwIP process the segment; anything else drops it.
     */
    err_t (*inpacket)(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
                      const u8_t *opt2, const struct pbuf *p);
    /*
     * Total option length (lwIP's own internal_len plus ours) of a segment
     * that pcb is about to build; pcb is NULL for an RST that answers no
     * connection, and a LISTEN pcb for an RST from a listener. The answer must
     * be a multiple of 4, at least internal_len and at most 40.
     *
     * Not told the segment's flags, and asked again at every (re)transmission
     * of a queued segment whose header room was fixed when it was queued (and
     * when lwIP computes how much data still fits in the last queued one): for
     * a pcb with queued segments, the answer must not change. Set opt_length
     * and add_opts together or not at all.
     */
    u8_t (*opt_length)(const struct tcp_pcb *pcb, u8_t internal_len);
    /*
     * Write our options at opts, right after lwIP's own, and return the end:
     * exactly opt_length() - internal_len bytes, so padding is ours to write.
     * Called for SYN, SYN-ACK, data, FIN, RST, empty ACKs, keepalives and
     * window probes; the flags are in hdr (TCPH_FLAGS), pcb as for opt_length.
     */
    u8_t *(*add_opts)(const struct pbuf *p, const struct tcp_hdr *hdr, const struct tcp_pcb *pcb,
                      u8_t *opts);
};

/*
 * Install the hook table (NULL: none, stock lwIP). The table is referenced,
 * not copied. Install it before any pcb exists; remove or replace it only when
 * no pcb has queued segments (see opt_length). Aborts on a table with only one
 * of opt_length and add_opts.
 */
void tc_lwip_set_hooks(const struct tc_lwip_hooks *hooks);

/*
 * Replace sys_now() (milliseconds from CLOCK_MONOTONIC) with now, so tests
 * drive lwIP's timers deterministically; NULL restores the real clock. Set it
 * before lwip_init().
 */
void tc_lwip_set_clock(u32_t (*now)(void));
/* Replace lwIP's random numbers (ISNs, ephemeral ports, ND delays) with
 * rand, so a fuzz target replays an input exactly; NULL restores
 * getrandom().  Never in the daemon. */
void tc_lwip_set_rand(uint32_t (*rand)(void));

/* ---- called only by lwIP (through the macros in lwipopts.h) ---- */

err_t tc_lwip_hook_inpacket(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, u16_t optlen,
                            u16_t opt1len, const u8_t *opt2, const struct pbuf *p);
u8_t tc_lwip_hook_opt_length(const struct tcp_pcb *pcb, u8_t internal_len);
u32_t *tc_lwip_hook_add_opts(const struct pbuf *p, const struct tcp_hdr *hdr,
                             const struct tcp_pcb *pcb, u32_t *opts);
/* Initial sequence numbers: random (stack/lwip_port.c). */
u32_t tc_lwip_isn(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip,
                  u16_t remote_port);

#endif
