/*
 * tcpcryptd's counters (see stats.h).
 */
#include "stack/stats.h"

#include "stack/link.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto/err.h"
#include "lwip/memp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "tc_lwip_hooks.h"

/* Pool names, in lwIP's own order of memp_t. */
static const char *const pool_names[MEMP_MAX] = {
#define LWIP_MEMPOOL(name, num, size, desc) [MEMP_##name] = desc,
#include "lwip/priv/memp_std.h"
};

struct tc_stats tc_stats;

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const struct tc_link *stats_link;

void tc_stats_start(const struct tc_link *link)
{
    tc_stats.start_ms = now_ms();
    snprintf(tc_stats.link, sizeof(tc_stats.link), "%s", link->name);
    stats_link = link;
}

void tc_stats_link_status(char *buf, size_t len)
{
    if (len == 0) {
        return;
    }
    buf[0] = '\0';
    if (stats_link != NULL && stats_link->ops->status != NULL) {
        stats_link->ops->status(stats_link, buf, len);
    }
}

void tc_stats_ready(bool encrypted, const uint8_t *sid)
{
    if (!encrypted) {
        return; /* counted by tc_stats_fallback, with its reason */
    }
    tc_stats.encrypted++;
    /* RFC 8548 §3.5: a resumed session's ID starts with the TEP byte with
     * v = 1. */
    if (sid != NULL && (sid[0] & 0x80) != 0) {
        tc_stats.resumed++;
    }
}

void tc_stats_fallback(int reason)
{
    enum tc_stats_fallback r;

    switch (reason) {
    case 0:
        r = TC_FB_DISABLED;
        break;
    case TC_E_ENO_ABSENT:
        r = TC_FB_NO_ENO;
        break;
    case TC_E_ENO_MALFORMED:
        r = TC_FB_MALFORMED;
        break;
    case TC_E_ENO_DUPLICATE:
        r = TC_FB_DUPLICATE;
        break;
    case TC_E_ENO_SAME_ROLE:
        r = TC_FB_SAME_ROLE;
        break;
    case TC_E_ENO_NOT_AWARE:
        r = TC_FB_NOT_AWARE;
        break;
    case TC_E_ENO_NO_TEP:
        r = TC_FB_NO_TEP;
        break;
    default:
        r = TC_FB_OTHER;
        break;
    }
    tc_stats.plain++;
    tc_stats.fallback[r]++;
}

void tc_stats_ended(int err, bool tcp_up, bool ready)
{
    enum tc_stats_end r;

    switch (err) {
    case EBADMSG:
        r = TC_END_INTEGRITY;
        break;
    case ETIMEDOUT:
        r = tcp_up && !ready ? TC_END_HANDSHAKE : TC_END_TIMEOUT;
        break;
    case ECONNRESET:
        r = TC_END_RESET;
        break;
    case ECONNREFUSED:
        r = TC_END_REFUSED;
        break;
    case EHOSTUNREACH:
        r = TC_END_UNREACH;
        break;
    case ENOMEM:
    case ENOBUFS:
        r = TC_END_NOMEM;
        break;
    default:
        r = TC_END_OTHER;
        break;
    }
    if (ready) {
        tc_stats.aborted[r]++;
    } else {
        tc_stats.failed[r]++;
    }
}

static void reason(struct tc_ctl_a_reason *out, const char *key, const char *text, uint64_t n)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->key, sizeof(out->key), "%s", key);
    snprintf(out->text, sizeof(out->text), "%s", text);
    out->count = n;
}

void tc_stats_fallback_reason(enum tc_stats_fallback r, struct tc_ctl_a_reason *out)
{
    static const char *const k[TC_FB_MAX][2] = {
        [TC_FB_DISABLED] = {"disabled", "TCP-ENO disabled"},
        [TC_FB_NO_ENO] = {"no_eno", "peer sent no ENO option"},
        [TC_FB_MALFORMED] = {"malformed", "malformed ENO option"},
        [TC_FB_DUPLICATE] = {"duplicate", "duplicate ENO options"},
        [TC_FB_SAME_ROLE] = {"same_role", "both hosts chose the same role"},
        [TC_FB_NOT_AWARE] = {"not_app_aware", "peer not application-aware"},
        [TC_FB_NO_TEP] = {"no_common_tep", "no TEP in common"},
        [TC_FB_OTHER] = {"other", "other"},
    };

    reason(out, k[r][0], k[r][1], tc_stats.fallback[r]);
}

void tc_stats_end_reason(enum tc_stats_end r, struct tc_ctl_a_reason *out)
{
    static const char *const k[TC_END_MAX][2] = {
        [TC_END_INTEGRITY] = {"integrity", "integrity failure (EBADMSG)"},
        [TC_END_HANDSHAKE] = {"handshake_timeout", "tcpcrypt handshake timed out"},
        [TC_END_TIMEOUT] = {"timeout", "timed out (ETIMEDOUT)"},
        [TC_END_RESET] = {"reset", "reset (ECONNRESET)"},
        [TC_END_REFUSED] = {"refused", "refused (ECONNREFUSED)"},
        [TC_END_UNREACH] = {"unreachable", "no route to host (EHOSTUNREACH)"},
        [TC_END_NOMEM] = {"no_memory", "out of memory"},
        [TC_END_OTHER] = {"other", "other"},
    };

    /* The caller picks failed[] or aborted[]; count is filled by it. */
    reason(out, k[r][0], k[r][1], 0);
}

void tc_stats_lwip_memory(struct tc_ctl_a_status *s)
{
    s->heap_used = lwip_stats.mem.used;
    s->heap_max = lwip_stats.mem.max;
    s->heap_err = lwip_stats.mem.err;
    s->tcp_active = s->tcp_time_wait = s->tcp_listen = s->tcp_half_open = 0;
    for (const struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next) {
        s->tcp_active++;
        s->tcp_half_open += p->state == SYN_RCVD;
    }
    s->syn_evicted = tc_lwip_syn_evicted();
    for (const struct tcp_pcb *p = tcp_tw_pcbs; p != NULL; p = p->next) {
        s->tcp_time_wait++;
    }
    for (const struct tcp_pcb_listen *p = tcp_listen_pcbs.listen_pcbs; p != NULL; p = p->next) {
        s->tcp_listen++;
    }
    s->npools = 0;
    for (int i = 0; i < MEMP_MAX && s->npools < TC_CTL_A_POOLS; i++) {
        const struct stats_mem *m = lwip_stats.memp[i];
        struct tc_ctl_a_pool *p = &s->pools[s->npools];

        if (m == NULL || m->avail == 0) {
            continue; /* a pool the configuration leaves empty */
        }
        snprintf(p->name, sizeof(p->name), "%s", pool_names[i]);
        p->used = (uint32_t)m->used;
        p->max = (uint32_t)m->max;
        p->avail = (uint32_t)m->avail;
        p->err = m->err;
        s->npools++;
    }
}
