/*
 * lwIP TCP hook dispatch: lwipopts.h routes LWIP_HOOK_TCP_INPACKET_PCB,
 * LWIP_HOOK_TCP_OUT_TCPOPT_LENGTH and LWIP_HOOK_TCP_OUT_ADD_TCPOPTS here, and
 * these forward to the table installed with tc_lwip_set_hooks(). With no table,
 * each returns what lwIP does without the hook.
 */
#include "tc_lwip_hooks.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

static const struct tc_lwip_hooks *tc_hooks;
static bool syn_evict;
static u32_t syn_evicted;

void tc_lwip_set_syn_evict(bool on)
{
    syn_evict = on;
}

u32_t tc_lwip_syn_evicted(void)
{
    return syn_evicted;
}

/* A SYN reached lpcb: if its backlog is full, abandon its oldest half-open
 * connection.  New pcbs go to the head of tcp_active_pcbs, so the last
 * SYN_RCVD pcb of this listener in the list is the oldest. */
static void syn_make_room(struct tcp_pcb_listen *lpcb)
{
    struct tcp_pcb *oldest = NULL;

    if (lpcb->accepts_pending < lpcb->backlog) {
        return;
    }
    for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next) {
        if (p->state == SYN_RCVD && p->listener == lpcb) {
            oldest = p;
        }
    }
    if (oldest != NULL) {
        /* Gives back its backlog slot (tcp_backlog_accepted) and frees it;
         * a half-open pcb has no callbacks of ours yet. */
        tcp_abandon(oldest, 0);
        syn_evicted++;
    }
}

void tc_lwip_set_hooks(const struct tc_lwip_hooks *hooks)
{
    if (hooks != NULL && (hooks->opt_length == NULL) != (hooks->add_opts == NULL)) {
        /* lwIP reserves header room from one and fills it from the other. */
        tc_lwip_assert_fail("tc_lwip_set_hooks: opt_length and add_opts must be set together",
                            __FILE__, __LINE__);
    }
    tc_hooks = hooks;
}

err_t tc_lwip_hook_inpacket(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, u16_t optlen,
                            u16_t opt1len, const u8_t *opt2, const struct pbuf *p)
{
    const struct tc_lwip_hooks *h = tc_hooks;
    err_t r = ERR_OK;

    if (h != NULL && h->inpacket != NULL) {
        r = h->inpacket(pcb, hdr, optlen, opt1len, opt2, p);
    }
    if (r == ERR_OK && syn_evict && pcb->state == LISTEN &&
        (TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
        syn_make_room((struct tcp_pcb_listen *)(void *)pcb);
    }
    return r;
}

u8_t tc_lwip_hook_opt_length(const struct tcp_pcb *pcb, u8_t internal_len)
{
    const struct tc_lwip_hooks *h = tc_hooks;
    u8_t len;

    if (h == NULL || h->opt_length == NULL) {
        return internal_len;
    }
    len = h->opt_length(pcb, internal_len);
    /* The header length is counted in 32-bit words and lwIP writes options as
     * u32_t: a bad answer here would corrupt the header, so stop at once. */
    if (len < internal_len || len > TC_TCP_MAX_OPTION_BYTES || (len & 3u) != 0) {
        tc_lwip_assert_fail("opt_length hook: length not a multiple of 4 in [internal_len, 40]",
                            __FILE__, __LINE__);
    }
    return len;
}

u32_t *tc_lwip_hook_add_opts(const struct pbuf *p, const struct tcp_hdr *hdr,
                             const struct tcp_pcb *pcb, u32_t *opts)
{
    const struct tc_lwip_hooks *h = tc_hooks;
    u8_t *start = (u8_t *)opts;
    u8_t *end;

    if (h == NULL || h->add_opts == NULL) {
        return opts;
    }
    end = h->add_opts(p, hdr, pcb, start);
    /* lwIP then asserts that the options end exactly where opt_length said. */
    if (end < start || ((size_t)(end - start) & 3u) != 0) {
        tc_lwip_assert_fail("add_opts hook: wrote a length that is not a multiple of 4", __FILE__,
                            __LINE__);
    }
    return (u32_t *)(void *)end;
}
