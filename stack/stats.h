/*
 * tcpcryptd's counters, for tcpcryptctl status (stack/admin.c).  One global
 * struct, bumped where connections become encrypted, fall back, fail, end,
 * and where bytes move; nothing here decides anything.
 */
#ifndef TCPCRYPT_STACK_STATS_H
#define TCPCRYPT_STACK_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/ctl_proto.h"

/* Bytes of one connection, or of all: plaintext to and from the
 * application, and TCP payload (tcpcrypt frames and Init messages
 * included) from and to the peer. */
struct tc_bytes {
    uint64_t app_in, app_out, wire_in, wire_out;
};

/* Why a connection was plain, failed or aborted: a key per distinct cause. */
enum tc_stats_fallback {
    TC_FB_DISABLED, /* TCP-ENO off (--no-eno or TCP_CRYPT_DISABLE) */
    TC_FB_NO_ENO,
    TC_FB_MALFORMED,
    TC_FB_DUPLICATE,
    TC_FB_SAME_ROLE,
    TC_FB_NOT_AWARE,
    TC_FB_NO_TEP,
    TC_FB_OTHER,
    TC_FB_MAX
};

enum tc_stats_end {
    TC_END_INTEGRITY, /* EBADMSG: tag or tcpcrypt protocol failure */
    TC_END_HANDSHAKE, /* ETIMEDOUT before the tcpcrypt session opened */
    TC_END_TIMEOUT,   /* ETIMEDOUT otherwise */
    TC_END_RESET,     /* ECONNRESET */
    TC_END_REFUSED,   /* ECONNREFUSED (RST to SYN, or mandatory encryption) */
    TC_END_UNREACH,   /* EHOSTUNREACH */
    TC_END_NOMEM,     /* ENOMEM, ENOBUFS */
    TC_END_OTHER,
    TC_END_MAX
};

struct tc_stats {
    uint64_t encrypted, resumed, plain, closed, listeners;
    uint64_t fallback[TC_FB_MAX];
    uint64_t failed[TC_END_MAX];  /* before established */
    uint64_t aborted[TC_END_MAX]; /* once established */
    struct tc_bytes bytes;
    uint64_t start_ms;
    char link[32];
};

extern struct tc_stats tc_stats;

/* At start: the link's name (and the clock for uptime). */
struct tc_link;
/* At start: the link whose name and status line tcpcryptctl status shows. */
void tc_stats_start(const struct tc_link *link);
/* Its status line now (link state, driver, counters), for status queries. */
void tc_stats_link_status(char *buf, size_t len);
/* A connection is ready; sid (TC_SESSID_LEN bytes) when encrypted. */
void tc_stats_ready(bool encrypted, const uint8_t *sid);
/* Established as plain TCP: reason is tc_eno_outcome.reason, 0 when ENO
 * was disabled. */
void tc_stats_fallback(int reason);
/* A connection failed or was aborted with err; ready: it had been handed
 * out established; tcp_up: TCP was established. */
void tc_stats_ended(int err, bool tcp_up, bool ready);

/* Texts for replies. */
/* lwIP's heap and pool usage into a status record. */
void tc_stats_lwip_memory(struct tc_ctl_a_status *s);
void tc_stats_fallback_reason(enum tc_stats_fallback r, struct tc_ctl_a_reason *out);
void tc_stats_end_reason(enum tc_stats_end r, struct tc_ctl_a_reason *out);

static inline void tc_stats_app_in(struct tc_bytes *b, size_t n)
{
    b->app_in += n;
    tc_stats.bytes.app_in += n;
}

static inline void tc_stats_app_out(struct tc_bytes *b, size_t n)
{
    b->app_out += n;
    tc_stats.bytes.app_out += n;
}

static inline void tc_stats_wire_in(struct tc_bytes *b, size_t n)
{
    b->wire_in += n;
    tc_stats.bytes.wire_in += n;
}

static inline void tc_stats_wire_out(struct tc_bytes *b, size_t n)
{
    b->wire_out += n;
    tc_stats.bytes.wire_out += n;
}

#endif
