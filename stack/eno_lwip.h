/*
 * TCP-ENO inside lwIP: the hook table that puts ENO options on our segments
 * and reads them off the peer's, the per-pcb negotiation state (in the pcb's
 * ext-arg slot) and its outcome for the relay.
 *
 * Usage by the relay:
 *   tc_eno_lwip_init(&cfg)            once, after lwip_init()
 *   active open:  pcb = tcp_new(); tc_eno_lwip_attach(pcb, &opts); tcp_connect(...)
 *   passive open: lpcb = tcp_listen(...); tc_eno_lwip_attach(lpcb, &opts)
 *                 (every pcb accepted from it inherits opts)
 *   when connected / accepted: tc_eno_lwip_outcome(pcb, &out)
 */
#ifndef TCPCRYPT_STACK_ENO_LWIP_H
#define TCPCRYPT_STACK_ENO_LWIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/resume.h"
#include "crypto/rng.h"
#include "lwip/ip_addr.h"
#include "stack/session.h"

struct tcp_pcb;

struct tc_eno_config {
    /* TEPs this host negotiates, in increasing priority (the last is the
     * most preferred, as ENO lists them, RFC 8547 §4.5). */
    uint8_t teps[4];
    size_t nteps;
    /* Called for each RST dropped under TCP_CRYPT_SECURST (inside lwIP's
     * input processing: only take note, send later). */
    void (*rst_ignored)(struct tcp_pcb *pcb);
};

/*
 * Session resumption (RFC 8548 §3.5).  cache() names the cache of the host
 * that owns pcb (tcpcryptd has one; a test wire with two hosts in one lwIP
 * has two); NULL, or no tc_eno_lwip_set_resume() at all: no resumption.
 */
struct tc_eno_resume {
    struct tc_resume_cache *(*cache)(void *ctx, const struct tcp_pcb *pcb);
    uint64_t (*now_ms)(void *ctx);
    void *ctx;
    const struct tc_rng *rng;
    size_t nonce_len; /* wanted nonce bytes, 0..8 (see tc_eno_fit_resume) */
};

/* Per-socket choices (RFC 8547 §4.2, §9.1 of the notes). */
struct tc_eno_opts {
    bool disable;      /* plain TCP, no ENO option at all */
    bool role_b;       /* b = 1 on an active opener (simultaneous open) */
    bool app_aware;    /* a = 1 */
    bool aa_mandatory; /* fall back unless the peer sets a = 1 */
    /* TCP_CRYPT_PKCONF: the TEPs this socket may negotiate, in increasing
     * priority like tc_eno_config; nteps 0: the daemon's. */
    uint8_t teps[4];
    size_t nteps;
    bool securst; /* drop RST segments once encryption is on */
    /* RFC 8548 §3.5 "resumption requests will be ignored ... and ... no
     * session secrets will be cached": this connection neither offers nor
     * accepts resumption, and its secrets never enter the cache. */
    bool nocache;
};

enum tc_eno_state {
    TC_ENO_OFF,      /* disabled by configuration or fallen back */
    TC_ENO_SYN_SENT, /* active: our SYN carried ENO */
    TC_ENO_SYN_RCVD, /* passive: our SYN-ACK carried ENO, waiting for the ACK */
    TC_ENO_ON,       /* both sent and received an ACK with ENO: encryption is on */
};

struct tc_eno_outcome {
    bool encrypted; /* false: plain TCP (fallback or disabled) */
    int reason;     /* when not encrypted: TC_E_ENO_* (0 when disabled) */
    bool is_b;
    uint8_t tep_byte;    /* the negotiated TEP byte as B sent it */
    uint8_t peer_global; /* the peer's global suboption (its a bit) */
    uint8_t transcript[TC_ENO_TRANSCRIPT_MAX];
    size_t transcript_len;
    /* Session resumption: the TEP came with v = 1 from both ends and the
     * secret waits in the pcb (tc_eno_lwip_take_ticket). */
    bool resumed;
    /* Where a fresh session stores ss[1] (tc_sess_config.resume): NULL when
     * caching is off for this connection; peer names the other host. */
    struct tc_resume_cache *resume;
    uint8_t peer[TC_PEER_ID_MAX];
    size_t peer_len;
};

void tc_eno_lwip_init(const struct tc_eno_config *cfg);
/* Turn session resumption on (r) or off (NULL); r is copied. */
void tc_eno_lwip_set_resume(const struct tc_eno_resume *r);
/* Attach ENO state to a new pcb (before tcp_connect) or a listening pcb
 * (after tcp_listen).  Returns TC_E_NOMEM on allocation failure. */
TC_MUST_CHECK int tc_eno_lwip_attach(struct tcp_pcb *pcb, const struct tc_eno_opts *opts);

/* RFC 6298's initial retransmission timeout, 1 s, on a new pcb before its
 * SYN or SYN-ACK is sent (lwIP 2.1.3 starts at 3 s, RFC 2988's value, so a
 * lost SYN, SYN-ACK or first segment cost three seconds).  Called for every
 * active pcb and, from the passive-open callback, for every accepted one. */
void tc_lwip_initial_rto(struct tcp_pcb *pcb);
/* New options for a pcb already attached (a listener: the connections it
 * accepts from then on). */
void tc_eno_lwip_set_opts(struct tcp_pcb *pcb, const struct tc_eno_opts *opts);
/* The outcome for an established pcb.  Encryption is on only when the state
 * is TC_ENO_ON; then raw payload must never reach the application. */
void tc_eno_lwip_outcome(const struct tcp_pcb *pcb, struct tc_eno_outcome *out);
/* A resumed connection: move the session secret out of the pcb (once) for
 * tc_sess_start_resumed.  TC_E_NOT_FOUND when there is none. */
TC_MUST_CHECK int tc_eno_lwip_take_ticket(struct tcp_pcb *pcb, struct tc_resume_ticket *t);
/* The peer name the resumption cache files a pcb's secrets under: address
 * family and the peer's address (not the port).  Returns its length. */
size_t tc_eno_peer_id(const ip_addr_t *ip, uint8_t out[TC_PEER_ID_MAX]);
size_t tc_eno_lwip_peer_id(const struct tcp_pcb *pcb, uint8_t out[TC_PEER_ID_MAX]);
/* Counters for status output. */
struct tc_eno_stats {
    uint64_t syn_with_eno, syn_without_eno, fallbacks, malformed, duplicate, negotiated;
    uint64_t resume_offered, resumed, resume_declined;
};
const struct tc_eno_stats *tc_eno_lwip_stats(void);

#endif
