/*
 * tcpcryptctl's output (see ctl_format.h).  Strings from the daemon are
 * fixed-size fields: each is read only up to its size, even when the
 * daemon left no NUL in it.
 */
#include "tools/ctl_format.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpcrypt/tcpcrypt.h"

#define FIELD(buf, arr) field(buf, sizeof(buf), arr, sizeof(arr))
#define CELL_MAX 160
#define COLS_MAX 16

/* A fixed-size daemon field into a NUL-terminated string. */
static const char *field(char *buf, size_t len, const char *src, size_t srclen)
{
    size_t n = strnlen(src, srclen);

    if (n >= len) {
        n = len - 1;
    }
    memcpy(buf, src, n);
    buf[n] = '\0';
    return buf;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(f, "\\u%04x", *p);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* len bytes as lower-case hex into out (2 * len + 1 bytes). */
static char *hex(char *out, const uint8_t *in, size_t len)
{
    return tcpcrypt_sessid_hex(in, len, out, 2 * len + 1);
}

char *tc_fmt_duration(char *buf, size_t len, uint64_t ms)
{
    uint64_t s = ms / 1000;

    if (s < 60) {
        snprintf(buf, len, "%" PRIu64 "s", s);
    } else if (s < 3600) {
        snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
    } else if (s < 86400) {
        snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
    } else {
        snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
    }
    return buf;
}

char *tc_fmt_peer(char *buf, size_t len, const uint8_t *peer, size_t peer_len)
{
    char a[INET6_ADDRSTRLEN];
    const uint8_t *p = peer;
    size_t n = peer_len;

    /* An optional leading family byte: 4, 6, AF_INET or AF_INET6. */
    if ((n == 5 && (p[0] == 4 || p[0] == AF_INET)) ||
        (n == 17 && (p[0] == 6 || p[0] == AF_INET6))) {
        p++;
        n--;
    }
    if ((n == 4 && inet_ntop(AF_INET, p, a, sizeof(a)) != NULL) ||
        (n == 16 && inet_ntop(AF_INET6, p, a, sizeof(a)) != NULL)) {
        snprintf(buf, len, "%s", a);
        return buf;
    }
    if (len >= 2 * peer_len + 1) {
        return hex(buf, peer, peer_len);
    }
    snprintf(buf, len, "?");
    return buf;
}

/* "10.0.0.1:80", "[fd00::1]:80", "-" when unknown. */
static char *addr_str(char *buf, size_t len, const struct tc_ctl_addr *a)
{
    char s[INET6_ADDRSTRLEN];

    if (a->ss.ss_family == AF_INET && a->len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;

        inet_ntop(AF_INET, &s4->sin_addr, s, sizeof(s));
        snprintf(buf, len, "%s:%u", s, ntohs(s4->sin_port));
    } else if (a->ss.ss_family == AF_INET6 && a->len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;

        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], s, sizeof(s));
            snprintf(buf, len, "%s:%u", s, ntohs(s6->sin6_port));
        } else {
            inet_ntop(AF_INET6, &s6->sin6_addr, s, sizeof(s));
            snprintf(buf, len, "[%s]:%u", s, ntohs(s6->sin6_port));
        }
    } else {
        snprintf(buf, len, "-");
    }
    return buf;
}

static const char *err_name(int e)
{
    switch (e) {
    case 0:
        return NULL;
    case EBADMSG:
        return "EBADMSG";
    case ECONNRESET:
        return "ECONNRESET";
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case EHOSTUNREACH:
        return "EHOSTUNREACH";
    case ECONNABORTED:
        return "ECONNABORTED";
    case ENOMEM:
        return "ENOMEM";
    default:
        return "error";
    }
}

/* ------------------------------------------------------------ aligned tables */

struct table {
    size_t ncols, nrows;
    char (*cells)[COLS_MAX][CELL_MAX];
    size_t width[COLS_MAX];
};

static bool table_init(struct table *t, size_t ncols, size_t nrows)
{
    t->ncols = ncols;
    t->nrows = 0;
    memset(t->width, 0, sizeof(t->width));
    t->cells = calloc(nrows + 1, sizeof(*t->cells));
    return t->cells != NULL;
}

static void table_row(struct table *t, const char *const *cells)
{
    for (size_t c = 0; c < t->ncols; c++) {
        size_t w;

        snprintf(t->cells[t->nrows][c], CELL_MAX, "%s", cells[c]);
        w = strlen(t->cells[t->nrows][c]);
        if (w > t->width[c]) {
            t->width[c] = w;
        }
    }
    t->nrows++;
}

static void table_print(FILE *f, struct table *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c + 1 == t->ncols) {
                fprintf(f, "%s\n", t->cells[r][c]);
            } else {
                fprintf(f, "%-*s  ", (int)t->width[c], t->cells[r][c]);
            }
        }
    }
    free(t->cells);
    t->cells = NULL;
}

/* ------------------------------------------------------------ status */

static void reasons_json(FILE *f, const char *name, const struct tc_ctl_a_reason *r, uint32_t n)
{
    char k[sizeof(r->key) + 1];

    fprintf(f, ", ");
    json_str(f, name);
    fprintf(f, ": {");
    for (uint32_t i = 0; i < n && i < TC_CTL_A_REASONS; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, FIELD(k, r[i].key));
        fprintf(f, ": %" PRIu64, r[i].count);
    }
    fprintf(f, "}");
}

static void status_json(FILE *f, const struct tc_ctl_a_status *s)
{
    char b[sizeof(s->keylog) + 1];

    fprintf(f, "{\"version\": ");
    json_str(f, FIELD(b, s->version));
    fprintf(f, ", \"uptime_ms\": %" PRIu64 ", \"link\": {\"name\": ", s->uptime_ms);
    json_str(f, FIELD(b, s->link));
    fprintf(f, ", \"status\": ");
    json_str(f, FIELD(b, s->link_status));
    fprintf(f, ", \"mac\": ");
    json_str(f, FIELD(b, s->mac));
    fprintf(f, ", \"addresses\": [");
    for (uint32_t i = 0; i < s->naddrs && i < 4; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, FIELD(b, s->addrs[i]));
    }
    fprintf(f, "], \"gateways\": [");
    for (uint32_t i = 0; i < s->ngateways && i < 2; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, FIELD(b, s->gateways[i]));
    }
    fprintf(f, "], \"rx_frames\": %" PRIu64 ", \"tx_frames\": %" PRIu64 "}", s->rx_frames,
            s->tx_frames);
    fprintf(f, ", \"tcp_eno\": %s, \"keylog\": ", s->eno ? "true" : "false");
    if (s->keylog_on) {
        json_str(f, s->keylog[0] != '\0' ? FIELD(b, s->keylog) : "on");
    } else {
        fprintf(f, "null");
    }
    fprintf(f,
            ", \"connections\": {\"encrypted\": %" PRIu64 ", \"resumed\": %" PRIu64
            ", \"plain\": %" PRIu64 ", \"failed\": %" PRIu64 ", \"aborted\": %" PRIu64
            ", \"closed\": %" PRIu64 ", \"open\": %" PRIu64 ", \"records\": %" PRIu64,
            s->encrypted, s->resumed, s->plain, s->failed, s->aborted, s->closed, s->open,
            s->records);
    reasons_json(f, "plain_reasons", s->fallback, s->nfallback);
    reasons_json(f, "failed_reasons", s->failures, s->nfailed);
    reasons_json(f, "aborted_reasons", s->aborts, s->naborted);
    fprintf(f,
            "}, \"listeners\": %" PRIu64 ", \"cache_entries\": %" PRIu64
            ", \"bytes\": {\"app_in\": %" PRIu64 ", \"app_out\": %" PRIu64 ", \"wire_in\": %" PRIu64
            ", \"wire_out\": %" PRIu64 "}",
            s->listeners, s->cache_entries, s->app_in, s->app_out, s->wire_in, s->wire_out);
    fprintf(f,
            ", \"lwip\": {\"tcp\": {\"active\": %" PRIu64 ", \"half_open\": %" PRIu64
            ", \"time_wait\": %" PRIu64 ", \"listen\": %" PRIu64 ", \"syn_evicted\": %" PRIu64
            "}, \"heap\": {\"used\": %" PRIu64 ", \"max\": %" PRIu64 ", \"err\": %" PRIu64
            "}, \"pools\": {",
            s->tcp_active, s->tcp_half_open, s->tcp_time_wait, s->tcp_listen, s->syn_evicted,
            s->heap_used, s->heap_max, s->heap_err);
    for (uint32_t i = 0; i < s->npools && i < TC_CTL_A_POOLS; i++) {
        const struct tc_ctl_a_pool *p = &s->pools[i];
        char n[sizeof(p->name) + 1];

        fprintf(f, "%s", i ? ", " : "");
        json_str(f, FIELD(n, p->name));
        fprintf(f, ": {\"used\": %" PRIu32 ", \"max\": %" PRIu32 ", \"avail\": %" PRIu32
                   ", \"err\": %" PRIu64 "}",
                p->used, p->max, p->avail, p->err);
    }
    fprintf(f, "}}}\n");
}

static void kv(FILE *f, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void kv(FILE *f, const char *k, const char *fmt, ...)
{
    va_list ap;

    fprintf(f, "%-30s ", k);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
}

static void reasons_text(FILE *f, const struct tc_ctl_a_reason *r, uint32_t n)
{
    for (uint32_t i = 0; i < n && i < TC_CTL_A_REASONS; i++) {
        char t[sizeof(r->text) + 4];

        snprintf(t, sizeof(t), "  %.*s", (int)sizeof(r->text), r[i].text);
        kv(f, t, "%" PRIu64, r[i].count);
    }
}

static void status_text(FILE *f, const struct tc_ctl_a_status *s)
{
    char b[sizeof(s->keylog) + 1], d[32], a[TC_CTL_A_NAME + 1], list[4 * (TC_CTL_A_NAME + 1) + 8];

    kv(f, "version", "%s", FIELD(b, s->version));
    kv(f, "uptime", "%s", tc_fmt_duration(d, sizeof(d), s->uptime_ms));
    kv(f, "link", "%s", FIELD(b, s->link));
    if (s->link_status[0] != '\0') {
        kv(f, "link status", "%s", FIELD(b, s->link_status));
    }
    kv(f, "mac", "%s", FIELD(b, s->mac));
    list[0] = '\0';
    for (uint32_t i = 0; i < s->naddrs && i < 4; i++) {
        size_t o = strlen(list);

        snprintf(list + o, sizeof(list) - o, "%s%s", i ? " " : "", FIELD(a, s->addrs[i]));
    }
    kv(f, "addresses", "%s", list[0] ? list : "-");
    list[0] = '\0';
    for (uint32_t i = 0; i < s->ngateways && i < 2; i++) {
        size_t o = strlen(list);

        snprintf(list + o, sizeof(list) - o, "%s%s", i ? " " : "", FIELD(a, s->gateways[i]));
    }
    kv(f, "gateways", "%s", list[0] ? list : "-");
    kv(f, "tcp-eno", "%s", s->eno ? "on" : "off (--no-eno)");
    kv(f, "key log", "%s",
       !s->keylog_on          ? "off"
       : s->keylog[0] != '\0' ? FIELD(b, s->keylog)
                              : "on");
    kv(f, "encrypted", "%" PRIu64, s->encrypted);
    kv(f, "  resumed", "%" PRIu64, s->resumed);
    kv(f, "plain (fallback)", "%" PRIu64, s->plain);
    reasons_text(f, s->fallback, s->nfallback);
    kv(f, "failed", "%" PRIu64, s->failed);
    reasons_text(f, s->failures, s->nfailed);
    kv(f, "aborted", "%" PRIu64, s->aborted);
    reasons_text(f, s->aborts, s->naborted);
    kv(f, "closed", "%" PRIu64, s->closed);
    kv(f, "open", "%" PRIu64, s->open);
    kv(f, "listeners", "%" PRIu64, s->listeners);
    kv(f, "resumption cache", "%" PRIu64 " entries", s->cache_entries);
    kv(f, "application bytes", "in %" PRIu64 ", out %" PRIu64, s->app_in, s->app_out);
    kv(f, "wire bytes", "in %" PRIu64 ", out %" PRIu64, s->wire_in, s->wire_out);
    kv(f, "link frames", "rx %" PRIu64 ", tx %" PRIu64, s->rx_frames, s->tx_frames);
    kv(f, "lwip tcp pcbs",
       "%" PRIu64 " active (%" PRIu64 " half-open), %" PRIu64 " time-wait, %" PRIu64 " listening",
       s->tcp_active, s->tcp_half_open, s->tcp_time_wait, s->tcp_listen);
    kv(f, "SYN backlog evictions", "%" PRIu64, s->syn_evicted);
    kv(f, "lwip heap", "%" PRIu64 " bytes (peak %" PRIu64 ", refused %" PRIu64 ")", s->heap_used,
       s->heap_max, s->heap_err);
    for (uint32_t i = 0; i < s->npools && i < TC_CTL_A_POOLS; i++) {
        const struct tc_ctl_a_pool *p = &s->pools[i];
        char k[sizeof(p->name) + 8];

        snprintf(k, sizeof(k), "lwip %.*s", (int)sizeof(p->name), p->name);
        kv(f, k, "%" PRIu32 " of %" PRIu32 " (peak %" PRIu32 ", refused %" PRIu64 ")", p->used,
           p->avail, p->max, p->err);
    }
}

void tc_fmt_status(FILE *f, const struct tc_ctl_a_status *s, bool json)
{
    if (json) {
        status_json(f, s);
    } else {
        status_text(f, s);
    }
}

/* ------------------------------------------------------------ sessions */

static void sessions_json(FILE *f, const struct tc_ctl_a_conn *v, size_t n)
{
    fprintf(f, "[");
    for (size_t i = 0; i < n; i++) {
        const struct tc_ctl_a_conn *c = &v[i];
        char b[CELL_MAX], sid[2 * sizeof(c->sid) + 1];
        bool enc = (c->flags & TC_CTL_A_F_ENCRYPTED) != 0;
        const char *e = err_name(c->error);

        fprintf(f, "%s\n  {\"id\": %" PRIu64 ", \"local\": ", i ? "," : "", c->id);
        json_str(f, addr_str(b, sizeof(b), &c->local));
        fprintf(f, ", \"remote\": ");
        json_str(f, addr_str(b, sizeof(b), &c->remote));
        fprintf(f, ", \"direction\": \"%s\", \"state\": ",
                (c->flags & TC_CTL_A_F_PASSIVE) ? "in" : "out");
        json_str(f, FIELD(b, c->state));
        fprintf(f, ", \"open\": %s, \"encrypted\": %s",
                (c->flags & TC_CTL_A_F_OPEN) ? "true" : "false", enc ? "true" : "false");
        if (enc) {
            fprintf(f, ", \"tep\": %u, \"tep_name\": ", c->tep);
            json_str(f, FIELD(b, c->tep_name));
            fprintf(f, ", \"aead\": ");
            if (c->aead_name[0] != '\0') {
                json_str(f, FIELD(b, c->aead_name));
            } else {
                fprintf(f, "null");
            }
            fprintf(f, ", \"role\": \"%c\"", (c->flags & TC_CTL_A_F_ROLE_B) ? 'B' : 'A');
        } else {
            fprintf(f, ", \"tep\": null, \"tep_name\": null, \"aead\": null, \"role\": null");
        }
        fprintf(f, ", \"resumed\": %s, \"session_id\": ",
                (c->flags & TC_CTL_A_F_RESUMED) ? "true" : "false");
        if ((c->flags & TC_CTL_A_F_SID) && c->sid_len <= sizeof(c->sid)) {
            json_str(f, hex(sid, c->sid, c->sid_len));
        } else {
            fprintf(f, "null");
        }
        fprintf(f,
                ", \"app_in\": %" PRIu64 ", \"app_out\": %" PRIu64 ", \"wire_in\": %" PRIu64
                ", \"wire_out\": %" PRIu64 ", \"age_ms\": %" PRIu64 ", \"error\": ",
                c->app_in, c->app_out, c->wire_in, c->wire_out, c->age_ms);
        if (e != NULL) {
            json_str(f, e);
        } else {
            fprintf(f, "null");
        }
        fprintf(f, "}");
    }
    fprintf(f, "%s]\n", n ? "\n" : "");
}

static void sessions_text(FILE *f, const struct tc_ctl_a_conn *v, size_t n)
{
    static const char *const head[] = {"ID",  "LOCAL", "REMOTE",    "STATE",   "MODE",
                                       "TEP", "AEAD",  "ROLE",      "RESUMED", "IN",
                                       "OUT", "AGE",   "SESSION-ID"};
    struct table t;

    if (!table_init(&t, 13, n)) {
        fprintf(f, "out of memory\n");
        return;
    }
    table_row(&t, head);
    for (size_t i = 0; i < n; i++) {
        const struct tc_ctl_a_conn *c = &v[i];
        bool enc = (c->flags & TC_CTL_A_F_ENCRYPTED) != 0;
        char id[24], l[CELL_MAX], r[CELL_MAX], st[CELL_MAX], tep[24], aead[32], in[24], out[24],
            age[24], sid[2 * sizeof(c->sid) + 1];
        const char *e = err_name(c->error);
        const char *cells[13];

        snprintf(id, sizeof(id), "%" PRIu64, c->id);
        FIELD(st, c->state);
        if (e != NULL) {
            size_t o = strlen(st);

            snprintf(st + o, sizeof(st) - o, " (%s)", e);
        }
        snprintf(in, sizeof(in), "%" PRIu64, c->app_in);
        snprintf(out, sizeof(out), "%" PRIu64, c->app_out);
        cells[0] = id;
        cells[1] = addr_str(l, sizeof(l), &c->local);
        cells[2] = addr_str(r, sizeof(r), &c->remote);
        cells[3] = st;
        cells[4] = enc ? "encrypted" : "plain";
        cells[5] = enc ? FIELD(tep, c->tep_name) : "-";
        cells[6] = enc && c->aead_name[0] != '\0' ? FIELD(aead, c->aead_name) : "-";
        cells[7] = !enc ? "-" : (c->flags & TC_CTL_A_F_ROLE_B) ? "B" : "A";
        cells[8] = !enc ? "-" : (c->flags & TC_CTL_A_F_RESUMED) ? "yes" : "no";
        cells[9] = in;
        cells[10] = out;
        cells[11] = tc_fmt_duration(age, sizeof(age), c->age_ms);
        cells[12] = (c->flags & TC_CTL_A_F_SID) && c->sid_len <= sizeof(c->sid)
                        ? hex(sid, c->sid, c->sid_len)
                        : "-";
        table_row(&t, cells);
    }
    table_print(f, &t);
}

void tc_fmt_sessions(FILE *f, const struct tc_ctl_a_conn *v, size_t n, bool json)
{
    if (json) {
        sessions_json(f, v, n);
    } else {
        sessions_text(f, v, n);
    }
}

/* ------------------------------------------------------------ the resumption cache */

static void cache_json(FILE *f, const struct tc_ctl_a_cache *v, size_t n)
{
    fprintf(f, "[");
    for (size_t i = 0; i < n; i++) {
        const struct tc_ctl_a_cache *e = &v[i];
        size_t plen = e->peer_len < sizeof(e->peer) ? e->peer_len : sizeof(e->peer);
        char b[2 * sizeof(e->peer) + 1];

        fprintf(f, "%s\n  {\"id\": %" PRIu64 ", \"peer\": ", i ? "," : "", e->id);
        json_str(f, tc_fmt_peer(b, sizeof(b), e->peer, plen));
        fprintf(f, ", \"peer_hex\": ");
        json_str(f, hex(b, e->peer, plen));
        fprintf(f, ", \"tep\": %u, \"tep_name\": ", e->tep);
        json_str(f, FIELD(b, e->tep_name));
        fprintf(f, ", \"aead\": %u, \"aead_name\": ", e->aead);
        json_str(f, FIELD(b, e->aead_name));
        fprintf(f,
                ", \"orig_role\": \"%c\", \"i\": %" PRIu64 ", \"idle_ms\": %" PRIu64
                ", \"expires_in_ms\": %" PRIu64 "}",
                e->orig_a ? 'A' : 'B', e->i, e->idle_ms, e->expires_in_ms);
    }
    fprintf(f, "%s]\n", n ? "\n" : "");
}

static void cache_text(FILE *f, const struct tc_ctl_a_cache *v, size_t n)
{
    static const char *const head[] = {"ID",        "PEER", "TEP",  "AEAD",
                                       "ORIG-ROLE", "I",    "IDLE", "EXPIRES-IN"};
    struct table t;

    if (!table_init(&t, 8, n)) {
        fprintf(f, "out of memory\n");
        return;
    }
    table_row(&t, head);
    for (size_t i = 0; i < n; i++) {
        const struct tc_ctl_a_cache *e = &v[i];
        size_t plen = e->peer_len < sizeof(e->peer) ? e->peer_len : sizeof(e->peer);
        char id[24], peer[2 * sizeof(e->peer) + 1], tep[24], aead[32], idx[24], idle[24], exp[24];
        const char *cells[8];

        snprintf(id, sizeof(id), "%" PRIu64, e->id);
        snprintf(idx, sizeof(idx), "%" PRIu64, e->i);
        cells[0] = id;
        cells[1] = tc_fmt_peer(peer, sizeof(peer), e->peer, plen);
        cells[2] = FIELD(tep, e->tep_name);
        cells[3] = FIELD(aead, e->aead_name);
        cells[4] = e->orig_a ? "A" : "B";
        cells[5] = idx;
        cells[6] = tc_fmt_duration(idle, sizeof(idle), e->idle_ms);
        cells[7] = tc_fmt_duration(exp, sizeof(exp), e->expires_in_ms);
        table_row(&t, cells);
    }
    table_print(f, &t);
    fprintf(f, "%zu %s\n", n, n == 1 ? "entry" : "entries");
}

void tc_fmt_cache(FILE *f, const struct tc_ctl_a_cache *v, size_t n, bool json)
{
    if (json) {
        cache_json(f, v, n);
    } else {
        cache_text(f, v, n);
    }
}
