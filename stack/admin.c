/*
 * tcpcryptctl's requests (TC_CTL_ADMIN, stack/ctl_proto.h).
 *
 * Who may ask: the control socket is mode 0666 (every application that
 * uses tcpcrypt reaches it), so the requester's SO_PEERCRED decides.
 * STATUS (counters since start and the daemon's own addresses, which any
 * application learns from HELLO anyway) is open to every local user, but
 * only root and the daemon's uid see where the key log goes.
 * SESSIONS (the addresses and session IDs of every user's connections),
 * CACHE (peers), FLUSH and the key log are for root and the daemon's own
 * uid only; others get EPERM.
 *
 * Listings go back in a memfd, so their size is not bounded by one
 * message.  The key log arrives as a descriptor the requester opened with
 * its own rights, never as a path the daemon would open with its own.
 */
#include "stack/admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/resume.h"
#include "crypto/wire.h"
#include "stack/conn.h"
#include "stack/log.h"
#include "stack/netif.h"
#include "stack/stats.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool privileged(int sock)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
        return false;
    }
    return cred.uid == 0 || cred.uid == geteuid();
}

/* A memfd holding len bytes of buf: the descriptor, or -1 with an errno
 * value in *err. */
static int memfd_with(const void *buf, size_t len, int *err)
{
    const uint8_t *p = buf;
    int fd = memfd_create("tcpcryptctl", MFD_CLOEXEC);

    if (fd < 0) {
        *err = errno;
        return -1;
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            *err = n < 0 ? errno : EIO;
            close(fd);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return fd;
}

/* ------------------------------------------------------------ status */

struct counts {
    uint64_t open, records;
};

static void count_conn(const struct tc_conn_info *i, void *arg)
{
    struct counts *k = arg;

    k->records++;
    k->open += i->open;
}

/* "10.0.0.2/24 fd00::2/64 fe80::.../64, gw 10.0.0.1, mac 02:..." (see
 * tc_netif_describe) into its fields. */
static void link_fields(struct tc_ctl_a_status *s)
{
    char desc[512], *save = NULL;

    tc_netif_describe(desc, sizeof(desc));
    for (char *part = strtok_r(desc, ",", &save); part != NULL; part = strtok_r(NULL, ",", &save)) {
        while (*part == ' ') {
            part++;
        }
        if (strncmp(part, "gw ", 3) == 0) {
            if (s->ngateways < sizeof(s->gateways) / sizeof(s->gateways[0])) {
                snprintf(s->gateways[s->ngateways++], sizeof(s->gateways[0]), "%s", part + 3);
            }
        } else if (strncmp(part, "mac ", 4) == 0) {
            snprintf(s->mac, sizeof(s->mac), "%s", part + 4);
        } else {
            char *save2 = NULL;

            for (char *a = strtok_r(part, " ", &save2); a != NULL;
                 a = strtok_r(NULL, " ", &save2)) {
                if (s->naddrs < sizeof(s->addrs) / sizeof(s->addrs[0])) {
                    snprintf(s->addrs[s->naddrs++], sizeof(s->addrs[0]), "%s", a);
                }
            }
        }
    }
}

static int do_status(bool privileged, struct tc_ctl_r_admin *rep, int *out_fd)
{
    struct tc_ctl_a_status *s = calloc(1, sizeof(*s));
    struct counts k = {0, 0};
    uint64_t now = now_ms();
    const struct tc_netif_stats *ns = tc_netif_stats();
    int err = 0;

    if (s == NULL) {
        return ENOMEM;
    }
    snprintf(s->version, sizeof(s->version), "%s", PACKAGE_VERSION);
    snprintf(s->link, sizeof(s->link), "%s", tc_stats.link);
    tc_stats_link_status(s->link_status, sizeof(s->link_status));
    link_fields(s);
    if (privileged) {
        /* Where secrets go is for those who may switch it. */
        tc_keylog_where(s->keylog, sizeof(s->keylog));
    }
    s->keylog_on = tc_keylog_on();
    s->eno = tc_conn_get_config()->eno;
    s->uptime_ms = now - tc_stats.start_ms;
    s->encrypted = tc_stats.encrypted;
    s->resumed = tc_stats.resumed;
    s->plain = tc_stats.plain;
    s->closed = tc_stats.closed;
    tc_conn_foreach(count_conn, &k);
    s->open = k.open;
    s->records = k.records;
    s->listeners = tc_stats.listeners;
    s->cache_entries = tc_resume_count(tc_conn_resume_cache(), now);
    s->app_in = tc_stats.bytes.app_in;
    s->app_out = tc_stats.bytes.app_out;
    s->wire_in = tc_stats.bytes.wire_in;
    s->wire_out = tc_stats.bytes.wire_out;
    s->rx_frames = ns->rx_frames;
    s->tx_frames = ns->tx_frames;
    tc_stats_lwip_memory(s);
    for (int r = 0; r < TC_FB_MAX && s->nfallback < TC_CTL_A_REASONS; r++) {
        if (tc_stats.fallback[r] > 0) {
            tc_stats_fallback_reason((enum tc_stats_fallback)r, &s->fallback[s->nfallback++]);
        }
    }
    for (int r = 0; r < TC_END_MAX; r++) {
        s->failed += tc_stats.failed[r];
        s->aborted += tc_stats.aborted[r];
        if (tc_stats.failed[r] > 0 && s->nfailed < TC_CTL_A_REASONS) {
            tc_stats_end_reason((enum tc_stats_end)r, &s->failures[s->nfailed]);
            s->failures[s->nfailed++].count = tc_stats.failed[r];
        }
        if (tc_stats.aborted[r] > 0 && s->naborted < TC_CTL_A_REASONS) {
            tc_stats_end_reason((enum tc_stats_end)r, &s->aborts[s->naborted]);
            s->aborts[s->naborted++].count = tc_stats.aborted[r];
        }
    }
    *out_fd = memfd_with(s, sizeof(*s), &err);
    free(s);
    rep->rec_len = sizeof(struct tc_ctl_a_status);
    rep->count = 1;
    return err;
}

/* ------------------------------------------------------------ sessions */

struct conn_list {
    struct tc_ctl_a_conn *v;
    size_t n, cap;
    bool nomem;
};

static void add_conn(const struct tc_conn_info *i, void *arg)
{
    struct conn_list *l = arg;
    struct tc_ctl_a_conn *r;

    if (l->nomem) {
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct tc_ctl_a_conn *v = realloc(l->v, cap * sizeof(*v));

        if (v == NULL) {
            l->nomem = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    r = &l->v[l->n++];
    memset(r, 0, sizeof(*r));
    r->id = i->id;
    r->local = i->local;
    r->remote = i->remote;
    snprintf(r->state, sizeof(r->state), "%s", i->state);
    r->flags = (i->encrypted ? TC_CTL_A_F_ENCRYPTED : 0) | (i->passive ? TC_CTL_A_F_PASSIVE : 0) |
               (i->open ? TC_CTL_A_F_OPEN : 0);
    r->error = i->read_error;
    if (i->encrypted) {
        r->tep = i->tep_byte & (uint8_t)~TC_TEP_V_BIT;
        snprintf(r->tep_name, sizeof(r->tep_name), "%s", tc_admin_tep_name(i->tep_byte));
        snprintf(r->aead_name, sizeof(r->aead_name), "%s", i->aead != NULL ? i->aead : "");
        r->flags |= i->is_b ? TC_CTL_A_F_ROLE_B : 0;
        if (i->has_sid) {
            r->flags |= TC_CTL_A_F_SID;
            r->sid_len = TC_SESSID_LEN;
            memcpy(r->sid, i->sid, TC_SESSID_LEN);
            /* RFC 8548 §3.5: v = 1 in the session ID's TEP byte. */
            r->flags |= (i->sid[0] & TC_TEP_V_BIT) ? TC_CTL_A_F_RESUMED : 0;
        }
    }
    r->app_in = i->bytes.app_in;
    r->app_out = i->bytes.app_out;
    r->wire_in = i->bytes.wire_in;
    r->wire_out = i->bytes.wire_out;
    r->age_ms = i->age_ms;
}

static int do_sessions(struct tc_ctl_r_admin *rep, int *out_fd)
{
    struct conn_list l = {NULL, 0, 0, false};
    int err = 0;

    tc_conn_foreach(add_conn, &l);
    if (l.nomem) {
        free(l.v);
        return ENOMEM;
    }
    *out_fd = memfd_with(l.v, l.n * sizeof(*l.v), &err);
    free(l.v);
    rep->rec_len = sizeof(struct tc_ctl_a_conn);
    rep->count = l.n;
    return err;
}

/* ------------------------------------------------------------ the cache */

static int do_cache(struct tc_ctl_r_admin *rep, int *out_fd)
{
    const struct tc_resume_cache *c = tc_conn_resume_cache();
    uint64_t now = now_ms();
    /* Room for the live entries only: the cache may have a million slots. */
    size_t live = tc_resume_count(c, now), n;
    struct tc_ctl_a_cache *v = calloc(live > 0 ? live : 1, sizeof(*v));
    int err = 0;

    if (v == NULL) {
        return ENOMEM;
    }
    n = tc_admin_cache_records(c, now, v, live);
    *out_fd = memfd_with(v, n * sizeof(*v), &err);
    free(v);
    rep->rec_len = sizeof(struct tc_ctl_a_cache);
    rep->count = n;
    return err;
}

/* ------------------------------------------------------------ dispatch */

int tc_admin(int sock, const struct tc_ctl_admin *req, int fd, struct tc_ctl_r_admin *rep,
             int *out_fd)
{
    bool priv;
    int err;

    *out_fd = -1;
    rep->what = req->what;
    if (req->what < TC_CTL_A_STATUS || req->what > TC_CTL_A_KEYLOG_OFF || req->flags != 0) {
        return EINVAL;
    }
    priv = privileged(sock);
    if (req->what != TC_CTL_A_STATUS && !priv) {
        return EPERM;
    }
    switch (req->what) {
    case TC_CTL_A_STATUS:
        return do_status(priv, rep, out_fd);
    case TC_CTL_A_SESSIONS:
        return do_sessions(rep, out_fd);
    case TC_CTL_A_CACHE:
        return do_cache(rep, out_fd);
    case TC_CTL_A_FLUSH:
        rep->count = tc_resume_flush_all(tc_conn_resume_cache());
        tc_info("resumption cache flushed (%llu entries)", (unsigned long long)rep->count);
        return 0;
    case TC_CTL_A_KEYLOG_ON:
        if (fd < 0) {
            return EBADF;
        }
        err = tc_keylog_use_fd(fd);
        if (err == 0) {
            char where[256];

            tc_keylog_where(where, sizeof(where));
            tc_info("key log %s: session secrets are written to disk (debugging only)", where);
        }
        return err;
    default: /* TC_CTL_A_KEYLOG_OFF */
        if (tc_keylog_on()) {
            tc_keylog_close();
            tc_info("key log off");
        }
        return 0;
    }
}
