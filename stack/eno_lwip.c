/*
 * TCP-ENO in lwIP (RFC 8547 §4.6): our ENO option on every segment until
 * encryption is disabled or a non-SYN segment arrives, the peer's options
 * checked on every segment up to the first ACK, and the negotiation outcome
 * kept per pcb (ext-arg slot) for the relay.
 *
 * Option space.  lwIP asks for a pcb's option length when it builds a segment
 * and again for every (re)transmission of it, without telling the flags, and
 * the header room of a queued segment is fixed.  So each pcb keeps one
 * reservation, changed only while nothing is queued: the SYN-form option
 * while in SYN_SENT / SYN_RCVD, four bytes ("01 01 45 02") while the
 * non-SYN form is still owed, none afterwards.  A segment built under an old
 * reservation is padded with NOPs.
 *
 * Session resumption (RFC 8548 §3.5).  Whether a resumption suboption fits
 * depends on lwIP's own SYN options (24 bytes with our lwipopts.h: MSS,
 * window scale, SACK-permitted, timestamps, each NOP-aligned), known only when
 * lwIP first asks for the SYN's option length.  So the final SYN-form option
 * is settled there, once (retransmissions carry the same bytes): the active
 * opener takes the lowest unused secret it has for the peer and adds its
 * resumption suboption last; the passive opener agrees to the one it was
 * offered if the secret is cached (tc_eno_fit_resume says what gives way).
 * Taking a secret consumes it, whatever happens to the connection.
 */
#include "stack/eno_lwip.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "stack/eno.h"
#include "tc_lwip_hooks.h"

#define TCP_OPT_NOP 0x01

struct eno_pcb {
    enum tc_eno_state state;
    int reason; /* why ENO is off (0: disabled by choice) */
    struct tc_eno_opts opts;
    bool rcvd_non_syn; /* "until ... the host receives a non-SYN segment" */
    bool is_b;
    uint8_t tep_byte;
    uint8_t peer_global;
    uint8_t reserved; /* option bytes we add to each segment (multiple of 4) */
    uint8_t syn_opt[TC_ENO_OPT_MAX]; /* our SYN-form option, kind and length included */
    uint8_t syn_len;
    uint8_t peer_opt[TC_ENO_OPT_MAX]; /* the peer's, as received */
    uint8_t peer_len;
    /* session resumption */
    bool syn_final;                /* syn_opt is what goes on the wire */
    bool offered;                  /* A: syn_opt carries our resumption suboption */
    bool resumed;                  /* the negotiated TEP has v = 1 at both ends */
    bool ticket_taken;             /* the relay has the secret now */
    struct tc_resume_cache *cache; /* NULL: no resumption, nothing cached */
    uint8_t peer_id[TC_PEER_ID_MAX];
    size_t peer_id_len;
    struct tc_resume_ticket ticket; /* the secret taken for this connection */
};

static struct tc_eno_config config;
static struct tc_eno_resume resume;
static bool resume_on;
static u8_t ext_id;
static struct tc_eno_stats stats;

/* The ENO option of the SYN that a listening pcb is processing, kept between
 * the input hook and the passive_open callback of the same tcp_input call. */
static struct {
    bool valid;
    size_t count;
    uint8_t opt[TC_ENO_OPT_MAX];
    uint8_t len;
} last_syn;

static struct eno_pcb *state_of(const struct tcp_pcb *pcb)
{
    if (pcb == NULL || pcb->state == LISTEN) {
        return NULL;
    }
    return tcp_ext_arg_get(pcb, ext_id);
}

static void on_destroy(u8_t id, void *data)
{
    (void)id;
    if (data != NULL) {
        sodium_memzero(data, sizeof(struct eno_pcb)); /* the ticket's secret */
    }
    free(data);
}

static err_t on_passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb);

static const struct tcp_ext_arg_callbacks callbacks = {
    .destroy = on_destroy,
    .passive_open = on_passive_open,
};

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* The TEPs a connection may negotiate, in increasing priority: its own
 * (TCP_CRYPT_PKCONF) or the daemon's. */
static size_t pcb_teps(const struct eno_pcb *st, const uint8_t **teps)
{
    if (st->opts.nteps > 0 && st->opts.nteps <= sizeof(st->opts.teps)) {
        *teps = st->opts.teps;
        return st->opts.nteps;
    }
    *teps = config.teps;
    return config.nteps;
}

static bool supported(const struct eno_pcb *st, uint8_t id)
{
    const uint8_t *teps;
    size_t n = pcb_teps(st, &teps);

    for (size_t k = 0; k < n; k++) {
        if (teps[k] == id) {
            return true;
        }
    }
    return false;
}

/*
 * A's view: B's suboption for a TEP is valid when this host implements it
 * and B chose fresh key agreement (v = 0), or B agreed to the resumption we
 * offered with this TEP: "If an active opener sends a resumption suboption
 * with a particular TEP and the appropriate half of a resumption identifier,
 * and then ... receives a resumption suboption with the same TEP and an
 * identifier-half that does not match that resumption identifier, it MUST
 * ignore that suboption" (RFC 8548 §3.5); so must it a v = 1 answer to no
 * offer.  B's view: its own suboption is valid by construction.
 */
static bool valid_for_us(void *ctx, const struct tc_eno_tep *a, const struct tc_eno_tep *b)
{
    struct eno_pcb *st = ctx;

    (void)a;
    if (!supported(st, b->id)) {
        return false;
    }
    if (st->is_b || !b->v) {
        return true;
    }
    return st->offered && b->id == st->ticket.tep &&
           tc_resume_check_reply(&st->ticket, b->data, b->len) == TC_OK;
}

static uint64_t resume_now(void)
{
    return resume.now_ms != NULL ? resume.now_ms(resume.ctx) : 0;
}

size_t tc_eno_peer_id(const ip_addr_t *ip, uint8_t out[TC_PEER_ID_MAX])
{
    if (IP_IS_V6(ip)) {
        out[0] = 6;
        memcpy(out + 1, ip_2_ip6(ip)->addr, 16);
        return 17;
    }
    out[0] = 4;
    memcpy(out + 1, &ip_2_ip4(ip)->addr, 4);
    return 5;
}

size_t tc_eno_lwip_peer_id(const struct tcp_pcb *pcb, uint8_t out[TC_PEER_ID_MAX])
{
    return tc_eno_peer_id(&pcb->remote_ip, out);
}

/* The cache this connection may use, and the peer's name in it. */
static void pick_cache(struct eno_pcb *st, const struct tcp_pcb *pcb)
{
    st->cache = NULL;
    if (!resume_on || st->opts.nocache || resume.cache == NULL) {
        return;
    }
    st->cache = resume.cache(resume.ctx, pcb);
    st->peer_id_len = tc_eno_lwip_peer_id(pcb, st->peer_id);
}

/* The connection will not use its ticket: the secret was consumed anyway. */
static void drop_ticket(struct eno_pcb *st)
{
    tc_resume_ticket_wipe(&st->ticket);
    st->offered = false;
    st->resumed = false;
}

static void disable(struct eno_pcb *st, int reason)
{
    drop_ticket(st);
    /* Each connection that falls back is counted once. */
    if (reason != 0 && st->reason == 0) {
        stats.fallbacks++;
    }
    st->state = TC_ENO_OFF;
    st->reason = reason;
}

/* The option bytes our segments should carry now (see the file comment). */
static uint8_t wanted_reservation(const struct tcp_pcb *pcb, const struct eno_pcb *st)
{
    /* tcp_connect() queues the SYN while the pcb is still CLOSED and moves
     * it to SYN_SENT only afterwards. */
    if (pcb->state == CLOSED || pcb->state == SYN_SENT || pcb->state == SYN_RCVD) {
        return st->state == TC_ENO_OFF ? 0 : (uint8_t)pad4(st->syn_len);
    }
    if (st->state != TC_ENO_OFF && !st->rcvd_non_syn) {
        return 4;
    }
    return 0;
}

static void finish_active_option(struct eno_pcb *st, const struct tcp_pcb *pcb, size_t room);
static void finish_passive_option(struct eno_pcb *st, const struct tcp_pcb *pcb, size_t room);

static u8_t hook_opt_length(const struct tcp_pcb *pcb, u8_t internal_len)
{
    struct eno_pcb *st = state_of(pcb);

    if (st == NULL) {
        return internal_len;
    }
    /* The first SYN (SYN-ACK) of the pcb: settle its option now that the
     * room beside lwIP's own is known. */
    if (!st->syn_final && pcb->unsent == NULL && pcb->unacked == NULL &&
        internal_len <= TC_TCP_MAX_OPTION_BYTES) {
        if (st->state == TC_ENO_SYN_SENT && (pcb->state == CLOSED || pcb->state == SYN_SENT)) {
            finish_active_option(st, pcb, TC_TCP_MAX_OPTION_BYTES - internal_len);
        } else if (st->state == TC_ENO_SYN_RCVD && pcb->state == SYN_RCVD) {
            finish_passive_option(st, pcb, TC_TCP_MAX_OPTION_BYTES - internal_len);
        }
    }
    if (pcb->unsent == NULL && pcb->unacked == NULL) {
        uint8_t want = wanted_reservation(pcb, st);

        /* Never more than the header can hold beside lwIP's own options. */
        st->reserved = internal_len + want <= 40 ? want : 0;
    }
    return (u8_t)(internal_len + st->reserved);
}

static u8_t *hook_add_opts(const struct pbuf *p, const struct tcp_hdr *hdr,
                           const struct tcp_pcb *pcb, u8_t *opts)
{
    struct eno_pcb *st = state_of(pcb);
    size_t n = 0, room;
    const uint8_t *opt = NULL;
    uint8_t non_syn[2] = {TC_ENO_KIND, 2};

    (void)p;
    if (st == NULL || st->reserved == 0) {
        return opts;
    }
    room = st->reserved;
    if (st->state != TC_ENO_OFF) {
        if ((TCPH_FLAGS(hdr) & TCP_SYN) != 0) {
            opt = st->syn_opt;
            n = st->syn_len;
        } else if (!st->rcvd_non_syn) {
            opt = non_syn;
            n = sizeof(non_syn);
        }
    }
    if (n > room) {
        n = 0; /* cannot happen: the reservation was made for it */
    }
    /* NOPs first, so the option ends on the 32-bit boundary. */
    memset(opts, TCP_OPT_NOP, room - n);
    if (n > 0) {
        memcpy(opts + (room - n), opt, n);
    }
    return opts + room;
}

/* Copy the options of a received segment into one buffer. */
static size_t gather_options(uint8_t out[TC_ENO_OPT_MAX], const struct tcp_hdr *hdr,
                             u16_t optlen, u16_t opt1len, const u8_t *opt2)
{
    size_t len = optlen <= TC_ENO_OPT_MAX ? optlen : TC_ENO_OPT_MAX;
    size_t first = opt1len < len ? opt1len : len;

    memcpy(out, (const uint8_t *)hdr + TCP_HLEN, first);
    if (len > first && opt2 != NULL) {
        memcpy(out + first, opt2, len - first);
    }
    return len;
}

/* Parse the peer's SYN-form option into st->peer_opt: TC_OK or TC_E_ENO_*. */
static int take_peer_syn(struct eno_pcb *st, size_t count, const uint8_t *opt, size_t len,
                         struct tc_eno_syn *parsed)
{
    if (count == 0) {
        return TC_E_ENO_ABSENT;
    }
    /* "If a SYN segment contains more than one ENO option, the receiver
     * MUST behave as though the segment contained no ENO options" (§4.1). */
    if (count > 1) {
        stats.duplicate++;
        return TC_E_ENO_DUPLICATE;
    }
    memcpy(st->peer_opt, opt, len);
    st->peer_len = (uint8_t)len;
    if (tc_eno_parse_syn(st->peer_opt + 2, len - 2, parsed) != TC_OK) {
        stats.malformed++;
        return TC_E_ENO_MALFORMED;
    }
    return TC_OK;
}

/* Active opener, SYN_SENT, the SYN-ACK arrived. */
static void on_syn_ack(struct eno_pcb *st, size_t count, const uint8_t *opt, size_t len)
{
    struct tc_eno_syn mine, peer;
    struct tc_eno_result res;
    int err;

    err = take_peer_syn(st, count, opt, len, &peer);
    if (err == TC_OK && tc_eno_parse_syn(st->syn_opt + 2, st->syn_len - 2, &mine) != TC_OK) {
        err = TC_E_ENO_MALFORMED; /* our own option: cannot happen */
    }
    if (err == TC_OK) {
        err = tc_eno_negotiate(&mine, &peer, st->opts.aa_mandatory, valid_for_us, st, &res);
    }
    if (err != TC_OK) {
        disable(st, err);
        return;
    }
    /* "Once a host has both sent and received an ACK segment containing an
     * ENO option, encryption MUST be enabled": the SYN-ACK is the ACK we
     * received, and our reply to it carries ENO. */
    st->is_b = res.we_are_b;
    st->tep_byte = tc_eno_tep_byte(res.b_tep);
    st->peer_global = res.peer_global;
    st->state = TC_ENO_ON;
    stats.negotiated++;
    /* "When a host concludes that TCP-ENO negotiation has succeeded for some
     * TEP that was received in a resumption suboption, it MUST then enable
     * encryption with that TEP using the cached session secret" (§3.5). */
    if (res.b_tep->v && st->offered) {
        st->resumed = true;
        st->offered = false;
        stats.resumed++;
    } else {
        if (st->offered) {
            stats.resume_declined++;
        }
        drop_ticket(st);
    }
}

static err_t hook_inpacket(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, u16_t optlen,
                           u16_t opt1len, const u8_t *opt2, const struct pbuf *p)
{
    uint8_t opts[TC_ENO_OPT_MAX];
    const uint8_t *opt;
    size_t len, optsize, count;
    u8_t flags = TCPH_FLAGS(hdr);
    struct eno_pcb *st;

    (void)p;
    optsize = gather_options(opts, hdr, optlen, opt1len, opt2);
    count = tc_eno_find(opts, optsize, &opt, &len);

    if (pcb->state == LISTEN) {
        last_syn.valid = (flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
        last_syn.count = count;
        last_syn.len = (uint8_t)len;
        if (count > 0) {
            memcpy(last_syn.opt, opt, len);
        }
        if (last_syn.valid) {
            stats.syn_with_eno += count > 0;
            stats.syn_without_eno += count == 0;
        }
        return ERR_OK;
    }
    st = tcp_ext_arg_get(pcb, ext_id);
    if (st == NULL || pcb->state == TIME_WAIT) {
        return ERR_OK;
    }
    /* TCP_CRYPT_SECURST: "RST segments are not authenticated" (RFC 8548 §6
     * leaves TCP headers unprotected), so once encryption is on an attacker
     * could end the connection with one.  Drop them; the relay then checks
     * liveness with a key update, whose answer is authenticated (§3.9). */
    if ((flags & TCP_RST) != 0 && st->opts.securst && st->state == TC_ENO_ON) {
        if (config.rst_ignored != NULL) {
            config.rst_ignored(pcb);
        }
        return ERR_VAL;
    }
    if (st->state == TC_ENO_SYN_SENT && pcb->state == SYN_SENT &&
        (flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
        on_syn_ack(st, count, opt, len);
    } else if (st->state == TC_ENO_SYN_RCVD && pcb->state == SYN_RCVD &&
               (flags & (TCP_SYN | TCP_ACK)) == TCP_ACK) {
        /* "Any segment it receives up to and including the first received
         * ACK segment does not contain an ENO option" -> fall back. */
        if (count == 0) {
            disable(st, TC_E_ENO_ABSENT);
        } else {
            st->state = TC_ENO_ON;
            stats.negotiated++;
        }
    }
    if ((flags & TCP_SYN) == 0) {
        st->rcvd_non_syn = true;
    }
    return ERR_OK;
}

/* Build our SYN-form option (A) from the configured TEPs. */
static void build_active_option(struct eno_pcb *st)
{
    struct tc_eno_offer offers[4];
    uint8_t global = 0;
    bool with_global;
    const uint8_t *teps;
    size_t nteps = pcb_teps(st, &teps);

    for (size_t k = 0; k < nteps; k++) {
        offers[k] = (struct tc_eno_offer){teps[k], false, NULL, 0};
    }
    if (st->opts.role_b) {
        global |= TC_ENO_GOPT_B;
    }
    if (st->opts.app_aware || st->opts.aa_mandatory) {
        global |= TC_ENO_GOPT_A;
    }
    /* The implicit global suboption is 0x00: send one only when needed. */
    with_global = global != 0;
    st->syn_len = (uint8_t)tc_eno_build_syn(st->syn_opt, sizeof(st->syn_opt), with_global, global,
                                            offers, nteps);
}

/*
 * Active opener, first SYN: offer resumption if a secret is cached for the
 * peer.  "When proposing resumption, the active opener MUST use the lowest
 * value of "i" that has not already been used" and "SHOULD NOT send more
 * than one resumption suboption" (§3.5): one suboption, for the most
 * preferred TEP with a cached secret, last in the option (its data runs to
 * the end, RFC 8547 §4.1), after fresh offers for the other TEPs (the
 * resumption suboption itself offers fresh key agreement with its TEP,
 * RFC 8548 §3.2, and one identifier twice would be a repetition the TEP does
 * not define).
 */
static void finish_active_option(struct eno_pcb *st, const struct tcp_pcb *pcb, size_t room)
{
    struct tc_eno_offer offers[4];
    uint8_t sub[TC_RESUME_SUBOPT_MAX], opt[TC_ENO_OPT_MAX];
    size_t fixed = 2 + (st->syn_len > 2 && st->syn_opt[2] < TC_ENO_TEP_MIN ? 1 : 0);
    size_t keep, nonce_len, n = 0, len, sublen;
    bool with_global = fixed == 3;
    int err = TC_E_NOT_FOUND;
    const uint8_t *teps;
    size_t nteps = pcb_teps(st, &teps);

    st->syn_final = true;
    pick_cache(st, pcb);
    if (st->cache == NULL || nteps == 0 ||
        !tc_eno_fit_resume(room, fixed, nteps - 1, resume.nonce_len, &keep, &nonce_len)) {
        return;
    }
    for (size_t k = nteps; k-- > 0 && err == TC_E_NOT_FOUND;) {
        err = tc_resume_offer(st->cache, st->peer_id, st->peer_id_len, teps[k], nonce_len,
                              resume.rng, resume_now(), &st->ticket);
    }
    if (err != TC_OK) {
        tc_resume_ticket_wipe(&st->ticket);
        return;
    }
    /* The most preferred `keep` of the other TEPs, in their order. */
    for (size_t k = 0, skip = nteps - 1 - keep; k < nteps; k++) {
        if (teps[k] == st->ticket.tep) {
            continue;
        }
        if (skip > 0) {
            skip--;
            continue;
        }
        offers[n++] = (struct tc_eno_offer){teps[k], false, NULL, 0};
    }
    sublen = tc_resume_subopt(&st->ticket, sub);
    offers[n++] = (struct tc_eno_offer){st->ticket.tep, true, sub + 1, sublen - 1};
    len = tc_eno_build_syn(opt, sizeof(opt), with_global, with_global ? st->syn_opt[2] : 0, offers,
                           n);
    sodium_memzero(sub, sizeof(sub));
    if (len == 0 || len > room) {
        tc_resume_ticket_wipe(&st->ticket); /* cannot happen: fitted above */
        return;
    }
    memcpy(st->syn_opt, opt, len);
    st->syn_len = (uint8_t)len;
    st->offered = true;
    stats.resume_offered++;
}

/*
 * Passive opener: a SYN reached a listener and lwIP made cpcb.  Decide now
 * what the SYN-ACK carries: B's explicit global suboption (b = 1) and the
 * one TEP it wants, the most preferred of ours that A offered (§4.5:
 * "a passive opener SHOULD include only one TEP identifier in SYN-ACK
 * segments and SHOULD ensure this TEP identifier is valid").
 */
void tc_lwip_initial_rto(struct tcp_pcb *pcb)
{
    /* rto and sv (4 x the deviation) in slow-timer ticks, as tcp_alloc()
     * sets them; the first RTT sample replaces both. */
    pcb->rto = (s16_t)(1000 / TCP_SLOW_INTERVAL);
    pcb->sv = (s16_t)(1000 / TCP_SLOW_INTERVAL);
}

static err_t on_passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb)
{
    struct eno_pcb *ls = tcp_ext_arg_get((struct tcp_pcb *)lpcb, id);
    struct eno_pcb *st = calloc(1, sizeof(*st));
    struct tc_eno_syn peer, mine;
    struct tc_eno_result res;
    struct tc_eno_offer offer;
    uint8_t global = TC_ENO_GOPT_B;
    bool found = false;
    const uint8_t *teps;
    size_t nteps;
    int err;

    tc_lwip_initial_rto(cpcb);
    if (st == NULL) {
        return ERR_MEM;
    }
    if (ls != NULL) {
        st->opts = ls->opts;
    }
    st->state = TC_ENO_OFF;
    tcp_ext_arg_set_callbacks(cpcb, id, &callbacks);
    tcp_ext_arg_set(cpcb, id, st);
    if (ls == NULL || ls->opts.disable || !last_syn.valid) {
        return ERR_OK;
    }
    /* "a passive opener MUST NOT send a vacuous ENO option in a SYN-ACK
     * segment unless there was an ENO option in the SYN": without a usable
     * ENO option in the SYN, send none at all. */
    err = take_peer_syn(st, last_syn.count, last_syn.opt, last_syn.len, &peer);
    if (err != TC_OK) {
        disable(st, err);
        return ERR_OK;
    }
    nteps = pcb_teps(st, &teps);
    for (size_t k = nteps; k-- > 0 && !found;) {
        for (size_t j = 0; j < peer.nteps; j++) {
            if (peer.teps[j].id == teps[k]) {
                offer = (struct tc_eno_offer){teps[k], false, NULL, 0};
                found = true;
                break;
            }
        }
    }
    if (!found) {
        disable(st, TC_E_ENO_NO_TEP);
        return ERR_OK;
    }
    if (st->opts.app_aware || st->opts.aa_mandatory) {
        global |= TC_ENO_GOPT_A;
    }
    st->syn_len = (uint8_t)tc_eno_build_syn(st->syn_opt, sizeof(st->syn_opt), true, global,
                                            &offer, 1);
    st->is_b = true;
    if (st->syn_len == 0 || tc_eno_parse_syn(st->syn_opt + 2, st->syn_len - 2, &mine) != TC_OK) {
        disable(st, TC_E_ENO_MALFORMED);
        return ERR_OK;
    }
    err = tc_eno_negotiate(&mine, &peer, st->opts.aa_mandatory, valid_for_us, st, &res);
    if (err != TC_OK) {
        disable(st, err);
        return ERR_OK;
    }
    st->tep_byte = tc_eno_tep_byte(res.b_tep);
    st->peer_global = res.peer_global;
    st->state = TC_ENO_SYN_RCVD;
    pick_cache(st, cpcb);
    return ERR_OK;
}

/*
 * Passive opener, the SYN-ACK: "If a passive opener receives a resumption
 * suboption containing an identifier-half that names a session secret that
 * it has cached, and the subobtion's TEP matches the TEP used in the
 * previous session, it SHOULD ... agree to resume from the cached session by
 * sending its own resumption suboption, which will contain the other half of
 * the identifier.  Otherwise, it MUST NOT agree to resumption" (§3.5).  The
 * fresh answer chosen in on_passive_open stands otherwise.
 */
static void finish_passive_option(struct eno_pcb *st, const struct tcp_pcb *pcb, size_t room)
{
    struct tc_eno_syn peer, mine;
    struct tc_eno_result res;
    struct tc_eno_offer offer;
    uint8_t sub[TC_RESUME_SUBOPT_MAX], opt[TC_ENO_OPT_MAX];
    size_t keep, nonce_len, sublen, len, nteps;
    const uint8_t *teps;
    int err = TC_E_NOT_FOUND;

    (void)pcb;
    st->syn_final = true;
    if (st->cache == NULL || !tc_eno_fit_resume(room, 3, 0, resume.nonce_len, &keep, &nonce_len) ||
        tc_eno_parse_syn(st->peer_opt + 2, st->peer_len - 2, &peer) != TC_OK) {
        return;
    }
    nteps = pcb_teps(st, &teps);
    /* Our TEPs from the most preferred; a v = 1 suboption with less than 9
     * bytes of data is a fresh offer (tc_resume_accept declines it). */
    for (size_t k = nteps; k-- > 0 && err == TC_E_NOT_FOUND;) {
        for (size_t j = 0; j < peer.nteps && err == TC_E_NOT_FOUND; j++) {
            const struct tc_eno_tep *t = &peer.teps[j];

            if (t->v && t->id == teps[k]) {
                err = tc_resume_accept(st->cache, t->id, t->data, t->len, nonce_len, resume.rng,
                                       resume_now(), &st->ticket);
            }
        }
    }
    if (err != TC_OK) {
        tc_resume_ticket_wipe(&st->ticket);
        return;
    }
    sublen = tc_resume_subopt(&st->ticket, sub);
    offer = (struct tc_eno_offer){st->ticket.tep, true, sub + 1, sublen - 1};
    len = tc_eno_build_syn(opt, sizeof(opt), true, st->syn_opt[2], &offer, 1);
    sodium_memzero(sub, sizeof(sub));
    err = len > 0 && len <= room ? tc_eno_parse_syn(opt + 2, len - 2, &mine) : TC_E_INVALID;
    if (err == TC_OK) {
        err = tc_eno_negotiate(&mine, &peer, st->opts.aa_mandatory, valid_for_us, st, &res);
    }
    if (err != TC_OK || !res.b_tep->v) {
        /* Cannot happen (the fresh answer negotiated already); the secret
         * is spent all the same. */
        tc_resume_ticket_wipe(&st->ticket);
        return;
    }
    memcpy(st->syn_opt, opt, len);
    st->syn_len = (uint8_t)len;
    st->tep_byte = tc_eno_tep_byte(res.b_tep);
    st->resumed = true;
    stats.resumed++;
}

static const struct tc_lwip_hooks hooks = {
    .inpacket = hook_inpacket,
    .opt_length = hook_opt_length,
    .add_opts = hook_add_opts,
};

void tc_eno_lwip_init(const struct tc_eno_config *cfg)
{
    config = *cfg;
    if (config.nteps > sizeof(config.teps)) {
        config.nteps = sizeof(config.teps);
    }
    ext_id = tcp_ext_arg_alloc_id();
    tc_lwip_set_hooks(&hooks);
}

void tc_eno_lwip_set_resume(const struct tc_eno_resume *r)
{
    resume_on = r != NULL && r->rng != NULL && r->cache != NULL;
    if (resume_on) {
        resume = *r;
        if (resume.nonce_len > TC_RESUME_NONCE_MAX) {
            resume.nonce_len = TC_RESUME_NONCE_MAX;
        }
    } else {
        memset(&resume, 0, sizeof(resume));
    }
}

int tc_eno_lwip_take_ticket(struct tcp_pcb *pcb, struct tc_resume_ticket *t)
{
    struct eno_pcb *st = state_of(pcb);

    if (st == NULL || st->state != TC_ENO_ON || !st->resumed || st->ticket_taken) {
        return TC_E_NOT_FOUND;
    }
    *t = st->ticket;
    tc_resume_ticket_wipe(&st->ticket);
    st->ticket_taken = true;
    return TC_OK;
}

int tc_eno_lwip_attach(struct tcp_pcb *pcb, const struct tc_eno_opts *opts)
{
    struct eno_pcb *st = calloc(1, sizeof(*st));

    if (st == NULL) {
        return TC_E_NOMEM;
    }
    st->opts = *opts;
    st->state = TC_ENO_OFF;
    if (pcb->state != LISTEN && !opts->disable && (config.nteps > 0 || opts->nteps > 0)) {
        build_active_option(st);
        st->state = st->syn_len > 0 ? TC_ENO_SYN_SENT : TC_ENO_OFF;
    }
    tcp_ext_arg_set_callbacks(pcb, ext_id, &callbacks);
    tcp_ext_arg_set(pcb, ext_id, st);
    return TC_OK;
}

void tc_eno_lwip_set_opts(struct tcp_pcb *pcb, const struct tc_eno_opts *opts)
{
    struct eno_pcb *st = tcp_ext_arg_get(pcb, ext_id);

    if (st != NULL) {
        st->opts = *opts;
    }
}

void tc_eno_lwip_outcome(const struct tcp_pcb *pcb, struct tc_eno_outcome *out)
{
    const struct eno_pcb *st = pcb == NULL ? NULL : tcp_ext_arg_get(pcb, ext_id);
    const uint8_t *a, *b;
    size_t alen, blen;

    memset(out, 0, sizeof(*out));
    if (st == NULL) {
        return;
    }
    out->reason = st->reason;
    if (st->state != TC_ENO_ON) {
        return;
    }
    out->encrypted = true;
    out->is_b = st->is_b;
    out->tep_byte = st->tep_byte;
    out->peer_global = st->peer_global;
    out->resumed = st->resumed;
    out->resume = st->cache;
    memcpy(out->peer, st->peer_id, st->peer_id_len);
    out->peer_len = st->peer_id_len;
    /* RFC 8547 §4.8: A's SYN option, then B's, as they appeared. */
    a = st->is_b ? st->peer_opt : st->syn_opt;
    alen = st->is_b ? st->peer_len : st->syn_len;
    b = st->is_b ? st->syn_opt : st->peer_opt;
    blen = st->is_b ? st->syn_len : st->peer_len;
    memcpy(out->transcript, a, alen);
    memcpy(out->transcript + alen, b, blen);
    out->transcript_len = alen + blen;
}

const struct tc_eno_stats *tc_eno_lwip_stats(void)
{
    return &stats;
}
