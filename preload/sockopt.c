/*
 * getsockopt/setsockopt: the TCP_CRYPT_* options of <tcpcrypt/tcpcrypt.h>,
 * and the answers a TCP socket would give where the fd is now an AF_UNIX
 * socketpair end (SO_TYPE, SO_ERROR, TCP_NODELAY, ...).  Applications set
 * TCP options on every connection; on our fds those must not fail.
 */
#include "preload/preload.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "tcpcrypt/tcpcrypt.h"

static int fail(int e)
{
    errno = e;
    return -1;
}

/* Like Linux for int options: at most sizeof(int) bytes, length written back. */
static int put_int(void *val, socklen_t *len, int v)
{
    socklen_t n = *len < sizeof(int) ? *len : (socklen_t)sizeof(int);

    memcpy(val, &v, n);
    *len = n;
    return 0;
}

static bool is_crypt_opt(int name)
{
    return name >= TCP_CRYPT_SESSID && name <= TCP_CRYPT_SECURST;
}

/* The TC_CTL_O_* bit a boolean option maps to (TCP_CRYPT_ENABLE inverted). */
static uint32_t crypt_flag(int name)
{
    switch (name) {
    case TCP_CRYPT_ENABLE:
        return TC_CTL_O_DISABLE;
    case TCP_CRYPT_ROLE_B:
        return TC_CTL_O_ROLE_B;
    case TCP_CRYPT_APP_AWARE:
        return TC_CTL_O_APP_AWARE;
    case TCP_CRYPT_AA_MANDATORY:
        return TC_CTL_O_AA_MANDATORY;
    case TCP_CRYPT_MANDATORY:
        return TC_CTL_O_MANDATORY;
    case TCP_CRYPT_NOCACHE:
        return TC_CTL_O_NOCACHE;
    case TCP_CRYPT_SECURST:
        return TC_CTL_O_SECURST;
    default:
        return 0;
    }
}

/* Options kept in struct tc_ctl_sockopts until connect()/listen(). */
static bool is_setting(int name)
{
    return crypt_flag(name) != 0 || name == TCP_CRYPT_SUPPORT || name == TCP_CRYPT_CMODE ||
           name == TCP_CRYPT_PKCONF || name == TCP_CRYPT_CCONF || name == TCP_CRYPT_SCONF;
}

static bool has(const struct tc_ctl_sockopts *o, uint32_t flag)
{
    return (o->flags & flag) != 0;
}

static void set_flag(struct tc_ctl_sockopts *o, uint32_t flag, bool on)
{
    o->flags = on ? o->flags | flag : o->flags & ~flag;
    o->set |= flag;
}

static int cmode_of(const struct tc_ctl_sockopts *o)
{
    bool nk = has(o, TC_CTL_O_NOCACHE);

    if (has(o, TC_CTL_O_ONLY_A)) {
        return nk ? TCP_CRYPT_CMODE_ALWAYS_NK : TCP_CRYPT_CMODE_ALWAYS;
    }
    if (has(o, TC_CTL_O_ROLE_B)) {
        return nk ? TCP_CRYPT_CMODE_NEVER_NK : TCP_CRYPT_CMODE_NEVER;
    }
    return TCP_CRYPT_CMODE_DEFAULT;
}

/* The local setting of option name, as getsockopt returns it before the
 * connection exists. */
static int get_setting(const struct tc_ctl_sockopts *o, int name, void *val, socklen_t *len)
{
    const uint8_t *l8 = NULL;
    const uint16_t *l16 = NULL;
    int list[TC_CTL_LIST_MAX];
    size_t n = 0;
    socklen_t want;

    switch (name) {
    case TCP_CRYPT_ENABLE:
        return put_int(val, len, !has(o, TC_CTL_O_DISABLE));
    case TCP_CRYPT_SUPPORT:
        return put_int(val, len, has(o, TC_CTL_O_AA_MANDATORY) ? 2 : has(o, TC_CTL_O_APP_AWARE));
    case TCP_CRYPT_CMODE:
        return put_int(val, len, cmode_of(o));
    case TCP_CRYPT_PKCONF:
        l8 = o->teps;
        n = o->nteps;
        break;
    case TCP_CRYPT_CCONF:
        l16 = o->caeads;
        n = o->ncaeads;
        break;
    case TCP_CRYPT_SCONF:
        l16 = o->saeads;
        n = o->nsaeads;
        break;
    default:
        return put_int(val, len, has(o, crypt_flag(name)));
    }
    n = n < TC_CTL_LIST_MAX ? n : TC_CTL_LIST_MAX;
    for (size_t i = 0; i < n; i++) {
        list[i] = l8 != NULL ? l8[i] : l16[i];
    }
    want = (socklen_t)(n * sizeof(int));
    if (*len < want) {
        return fail(EINVAL); /* a cut list would mean something else */
    }
    memcpy(val, list, want);
    *len = want;
    return 0;
}

/* RFC 8548 §7 identifiers the daemon implements. */
static bool known_tep(int v)
{
    return v >= 0x21 && v <= 0x24;
}

static bool known_aead(int v)
{
    return v == 0x01 || v == 0x02 || v == 0x10;
}

static int set_list(struct tc_ctl_sockopts *o, int name, const void *val, socklen_t len)
{
    int list[TC_CTL_LIST_MAX];
    size_t n;

    if (len % sizeof(int) != 0 || len / sizeof(int) > TC_CTL_LIST_MAX) {
        return fail(EINVAL);
    }
    n = len / sizeof(int);
    memcpy(list, val, len);
    for (size_t i = 0; i < n; i++) {
        if (name == TCP_CRYPT_PKCONF ? !known_tep(list[i]) : !known_aead(list[i])) {
            return fail(EINVAL);
        }
        for (size_t j = 0; j < i; j++) {
            if (list[j] == list[i]) {
                return fail(EINVAL);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (name == TCP_CRYPT_PKCONF) {
            o->teps[i] = (uint8_t)list[i];
        } else if (name == TCP_CRYPT_CCONF) {
            o->caeads[i] = (uint16_t)list[i];
        } else {
            o->saeads[i] = (uint16_t)list[i];
        }
    }
    if (name == TCP_CRYPT_PKCONF) {
        o->nteps = (uint8_t)n;
    } else if (name == TCP_CRYPT_CCONF) {
        o->ncaeads = (uint8_t)n;
    } else {
        o->nsaeads = (uint8_t)n;
    }
    return 0;
}

/* setsockopt of a setting into o (validated; o unchanged on failure). */
static int put_setting(struct tc_ctl_sockopts *o, int name, const void *val, socklen_t len)
{
    uint32_t flag = crypt_flag(name);
    int v;

    if (name == TCP_CRYPT_PKCONF || name == TCP_CRYPT_CCONF || name == TCP_CRYPT_SCONF) {
        return set_list(o, name, val, len);
    }
    if (len < sizeof(int)) {
        return fail(EINVAL);
    }
    memcpy(&v, val, sizeof(v));
    switch (name) {
    case TCP_CRYPT_SUPPORT:
        if (v < 0 || v > 2) {
            return fail(EINVAL);
        }
        set_flag(o, TC_CTL_O_APP_AWARE, v >= 1);
        set_flag(o, TC_CTL_O_AA_MANDATORY, v == 2);
        return 0;
    case TCP_CRYPT_CMODE:
        if (v < TCP_CRYPT_CMODE_DEFAULT || v > TCP_CRYPT_CMODE_NEVER_NK) {
            return fail(EINVAL);
        }
        set_flag(o, TC_CTL_O_ONLY_A,
                 v == TCP_CRYPT_CMODE_ALWAYS || v == TCP_CRYPT_CMODE_ALWAYS_NK);
        set_flag(o, TC_CTL_O_ROLE_B, v == TCP_CRYPT_CMODE_NEVER || v == TCP_CRYPT_CMODE_NEVER_NK);
        set_flag(o, TC_CTL_O_NOCACHE,
                 v == TCP_CRYPT_CMODE_ALWAYS_NK || v == TCP_CRYPT_CMODE_NEVER_NK);
        return 0;
    case TCP_CRYPT_AA_MANDATORY:
        /* Mandatory application-aware mode implies a = 1 (RFC 8547 §4.2). */
        set_flag(o, TC_CTL_O_AA_MANDATORY, v != 0);
        if (v != 0) {
            set_flag(o, TC_CTL_O_APP_AWARE, true);
        }
        return 0;
    default:
        set_flag(o, flag, name == TCP_CRYPT_ENABLE ? v == 0 : v != 0);
        return 0;
    }
}

/* TC_CTL_GETOPT / TC_CTL_SETOPT with fd attached. */
static enum pl_ctl_result daemon_opt(int fd, uint16_t op, int name, const void *val, socklen_t len,
                                     struct pl_ctl_reply *r)
{
    struct tc_ctl_opt req;

    memset(&req, 0, sizeof(req));
    req.h.op = op;
    req.h.len = sizeof(req);
    req.name = name;
    req.len = len < sizeof(req.value) ? len : (uint32_t)sizeof(req.value);
    if (val != NULL) {
        memcpy(req.value, val, req.len);
    }
    return pl_ctl_call(
        &req, sizeof(req), fd, op == TC_CTL_GETOPT ? TC_CTL_R_GETOPT : TC_CTL_R_SETOPT,
        op == TC_CTL_GETOPT ? offsetof(struct tc_ctl_opt, value) : sizeof(struct tc_ctl_hdr), r);
}

/* SETOPT name (TCP_*, or TC_CTL_OPT_SOCKET(SO_*)) on a connection: 0 or an
 * errno value. */
static int forward_opt(int fd, int name, const void *val, socklen_t len)
{
    struct pl_ctl_reply r;

    if (daemon_opt(fd, TC_CTL_SETOPT, name, val, len, &r) != PL_CTL_OK) {
        return ENOPROTOOPT;
    }
    if (r.fd >= 0) {
        PL_REAL(close)(r.fd);
    }
    if (r.u.h.err != 0) {
        pl_debug("fd %d: option 0x%x not taken by the daemon: errno %d", fd, name, r.u.h.err);
        return pl_ctl_errno(r.u.h.err);
    }
    return 0;
}

void pl_forward_nodelay(int fd, int on)
{
    (void)forward_opt(fd, TCP_NODELAY, &on, sizeof(on));
}

void pl_kernel_opts_read(int fd, struct pl_kopts *k)
{
    socklen_t len = sizeof(int);

    memset(k, 0, sizeof(*k));
    if (PL_REAL(getsockopt)(fd, SOL_SOCKET, SO_KEEPALIVE, &k->keepalive, &len) != 0) {
        k->keepalive = 0;
    }
    len = sizeof(int);
    (void)PL_REAL(getsockopt)(fd, IPPROTO_TCP, TCP_KEEPIDLE, &k->idle, &len);
    len = sizeof(int);
    (void)PL_REAL(getsockopt)(fd, IPPROTO_TCP, TCP_KEEPINTVL, &k->intvl, &len);
    len = sizeof(int);
    (void)PL_REAL(getsockopt)(fd, IPPROTO_TCP, TCP_KEEPCNT, &k->cnt, &len);
    len = sizeof(k->linger);
    if (PL_REAL(getsockopt)(fd, SOL_SOCKET, SO_LINGER, &k->linger, &len) != 0) {
        memset(&k->linger, 0, sizeof(k->linger));
    }
}

void pl_kernel_opts_forward(int fd, const struct pl_kopts *k)
{
    if (k->keepalive) {
        (void)forward_opt(fd, TCP_KEEPIDLE, &k->idle, sizeof(int));
        (void)forward_opt(fd, TCP_KEEPINTVL, &k->intvl, sizeof(int));
        (void)forward_opt(fd, TCP_KEEPCNT, &k->cnt, sizeof(int));
        (void)forward_opt(fd, TC_CTL_OPT_SOCKET(SO_KEEPALIVE), &k->keepalive, sizeof(int));
    }
    if (k->linger.l_onoff) {
        (void)PL_REAL(setsockopt)(fd, SOL_SOCKET, SO_LINGER, &k->linger, sizeof(k->linger));
        (void)forward_opt(fd, TC_CTL_OPT_SOCKET(SO_LINGER), &k->linger, sizeof(k->linger));
    }
}

/* Linux's ranges for the keepalive parameters. */
static bool keep_value_ok(int name, int v)
{
    return v >= 1 && v <= (name == TCP_KEEPCNT ? 127 : 32767);
}

static bool crypt_sock(int fd, struct pl_sock *s)
{
    return pl_fd_lookup(fd, s) || pl_adopt(fd, s);
}

static int get_crypt(int fd, int name, void *val, socklen_t *len)
{
    struct pl_ctl_reply r;
    struct pl_sock s;
    uint32_t vlen;
    socklen_t n;

    if (val == NULL || len == NULL) {
        return fail(EFAULT);
    }
    if (!crypt_sock(fd, &s)) {
        return fail(ENOPROTOOPT);
    }
    switch (s.kind) {
    case PL_TCP:
    case PL_LISTEN:
        /* Not a connection (yet): only the settings are known. */
        if (!is_setting(name)) {
            return fail(ENOPROTOOPT);
        }
        return get_setting(&s.opts, name, val, len);
    case PL_CONN:
        if (daemon_opt(fd, TC_CTL_GETOPT, name, NULL, *len, &r) != PL_CTL_OK) {
            return fail(ENOPROTOOPT);
        }
        if (r.fd >= 0) {
            PL_REAL(close)(r.fd);
        }
        if (r.u.h.err != 0) {
            return fail(pl_ctl_errno(r.u.h.err));
        }
        vlen = r.u.opt.len;
        if (vlen > sizeof(r.u.opt.value) || offsetof(struct tc_ctl_opt, value) + vlen > r.len) {
            pl_debug("getsockopt fd %d: bad value length %u from the daemon", fd, (unsigned)vlen);
            return fail(ENOPROTOOPT);
        }
        /* A truncated session ID (or list) would compare equal to the wrong
         * one. */
        if ((name == TCP_CRYPT_SESSID || name == TCP_CRYPT_PKCONF || name == TCP_CRYPT_CCONF ||
             name == TCP_CRYPT_SCONF) &&
            *len < vlen) {
            return fail(EINVAL);
        }
        n = *len < vlen ? *len : (socklen_t)vlen;
        memcpy(val, r.u.opt.value, n);
        *len = n;
        return 0;
    default:
        /* The kernel's connection, or not a TCP socket: no tcpcrypt here. */
        return fail(ENOPROTOOPT);
    }
}

/* TCP_CRYPT_CACHE_FLUSH: on a connection, its peer's secrets; otherwise
 * everything (a SETOPT without a connection attached). */
static int flush_cache(int fd, const struct pl_sock *s, const void *val, socklen_t len)
{
    struct pl_ctl_reply r;
    int v;

    if (len < sizeof(int)) {
        return fail(EINVAL);
    }
    memcpy(&v, val, sizeof(v));
    if (v == 0) {
        return 0;
    }
    if (daemon_opt(s->kind == PL_CONN ? fd : -1, TC_CTL_SETOPT, TCP_CRYPT_CACHE_FLUSH, val, len,
                   &r) != PL_CTL_OK) {
        return fail(ENOPROTOOPT);
    }
    if (r.fd >= 0) {
        PL_REAL(close)(r.fd);
    }
    return r.u.h.err != 0 ? fail(pl_ctl_errno(r.u.h.err)) : 0;
}

static int set_crypt(int fd, int name, const void *val, socklen_t len)
{
    struct pl_ctl_reply r;
    struct pl_sock s;
    struct tc_ctl_sockopts o;

    if (!crypt_sock(fd, &s)) {
        return fail(ENOPROTOOPT);
    }
    if (val == NULL) {
        return fail(EFAULT);
    }
    if (name == TCP_CRYPT_CACHE_FLUSH &&
        (s.kind == PL_TCP || s.kind == PL_LISTEN || s.kind == PL_CONN)) {
        return flush_cache(fd, &s, val, len);
    }
    switch (s.kind) {
    case PL_TCP:
        if (!is_setting(name)) {
            return fail(ENOPROTOOPT); /* read-only */
        }
        o = s.opts;
        if (put_setting(&o, name, val, len) != 0) {
            return -1;
        }
        s.opts = o;
        pl_fd_put(fd, &s);
        return 0;
    case PL_LISTEN:
        /* Applies to the connections accepted from now on: the daemon takes
         * the whole new set. */
        if (!is_setting(name)) {
            return fail(ENOPROTOOPT);
        }
        o = s.opts;
        if (put_setting(&o, name, val, len) != 0) {
            return -1;
        }
        if (daemon_opt(fd, TC_CTL_SETOPT, TC_CTL_OPT_LISTENER, &o, sizeof(o), &r) != PL_CTL_OK) {
            return fail(ENOPROTOOPT);
        }
        if (r.fd >= 0) {
            PL_REAL(close)(r.fd);
        }
        if (r.u.h.err != 0) {
            return fail(pl_ctl_errno(r.u.h.err));
        }
        s.opts = o;
        pl_fd_put(fd, &s);
        return 0;
    case PL_CONN:
        /* The daemon decides what may change on a connection. */
        if (daemon_opt(fd, TC_CTL_SETOPT, name, val, len, &r) != PL_CTL_OK) {
            return fail(ENOPROTOOPT);
        }
        if (r.fd >= 0) {
            PL_REAL(close)(r.fd);
        }
        if (r.u.h.err != 0) {
            return fail(pl_ctl_errno(r.u.h.err));
        }
        return 0;
    default:
        return fail(ENOPROTOOPT);
    }
}

/* Options whose getsockopt the library answers on its own fds. */
static bool emulated_get(int level, int name)
{
    if (level == SOL_SOCKET) {
        return name == SO_ERROR || name == SO_TYPE || name == SO_DOMAIN || name == SO_PROTOCOL ||
               name == SO_ACCEPTCONN;
    }
    return level == IPPROTO_TCP || level == IPPROTO_IP || level == IPPROTO_IPV6;
}

static bool ours(int fd, struct pl_sock *s)
{
    /* Cheap test first (no syscall), then check the fd still is that file. */
    return pl_fd_get(fd, s) && (s->kind == PL_CONN || s->kind == PL_LISTEN) && pl_fd_lookup(fd, s);
}

/*
 * The kernel refused a TCP/IP-level option on an fd the library knows
 * nothing about: an AF_UNIX socket says EOPNOTSUPP.  If it is one of the
 * daemon's connections (inherited across exec), answer as for our own.
 */
static bool adopted_after_refusal(int fd, int level, struct pl_sock *s)
{
    int e = errno;

    if ((level != IPPROTO_TCP && level != IPPROTO_IP && level != IPPROTO_IPV6) ||
        (e != EOPNOTSUPP && e != ENOPROTOOPT) || pl_fd_get(fd, s) || !pl_adopt(fd, s)) {
        errno = e;
        return false;
    }
    return true;
}

/* lwIP's TCP_MSS in the daemon (stack/lwip/lwipopts.h). */
#define PL_TCP_MSS 1460

/*
 * TCP_INFO on the daemon's fds: the state and MSS the library knows, every
 * counter zero (the TCP is in the daemon; its numbers are not the
 * application's to see).  iperf3 (and nginx's $tcpinfo_*, ss-like tools)
 * read it on every connection and report an error when it fails.
 */
static int tcp_info_of(const struct pl_sock *s, void *val, socklen_t *len)
{
    struct tcp_info ti;
    socklen_t n = *len < (socklen_t)sizeof(ti) ? *len : (socklen_t)sizeof(ti);

    memset(&ti, 0, sizeof(ti));
    ti.tcpi_state = s->kind == PL_LISTEN               ? TCP_LISTEN
                    : s->cstate == PL_C_ESTABLISHED    ? TCP_ESTABLISHED
                    : s->cstate == PL_C_CONNECTING     ? TCP_SYN_SENT
                                                       : TCP_CLOSE;
    ti.tcpi_snd_mss = ti.tcpi_rcv_mss = ti.tcpi_advmss = ti.tcpi_pmtu = PL_TCP_MSS;
    ti.tcpi_pmtu += 40;
    memcpy(val, &ti, n);
    *len = n;
    return 0;
}

PL_EXPORT int getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len)
{
    struct tc_ctl_r_status st;
    struct pl_sock s;

    if (level == IPPROTO_TCP && is_crypt_opt(name)) {
        return get_crypt(fd, name, val, len);
    }
    if (!emulated_get(level, name) || !ours(fd, &s)) {
        if (PL_REAL(getsockopt)(fd, level, name, val, len) == 0) {
            return 0;
        }
        if (!adopted_after_refusal(fd, level, &s)) {
            return -1;
        }
    }
    if (val == NULL || len == NULL) {
        return fail(EFAULT);
    }
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_TYPE:
            return put_int(val, len, SOCK_STREAM);
        case SO_DOMAIN:
            return put_int(val, len, s.domain);
        case SO_PROTOCOL:
            return put_int(val, len, IPPROTO_TCP);
        case SO_ACCEPTCONN:
            return put_int(val, len, s.kind == PL_LISTEN);
        default: /* SO_ERROR */
            if (s.kind == PL_CONN && pl_ctl_status(fd, true, &st) == PL_CTL_OK && st.h.err == 0) {
                pl_sock_apply_status(&s, &st);
                if (st.so_error != 0) {
                    s.cstate = PL_C_FAILED;
                }
                pl_fd_put(fd, &s);
                return put_int(val, len, st.so_error != 0 ? pl_ctl_errno(st.so_error) : 0);
            }
            return PL_REAL(getsockopt)(fd, level, name, val, len);
        }
    }
    if (level == IPPROTO_TCP && name == TCP_NODELAY) {
        return put_int(val, len, (s.bits & PL_B_NODELAY) != 0);
    }
    if (level == IPPROTO_TCP && name == TCP_CORK) {
        return put_int(val, len, (s.bits & PL_B_CORK) != 0);
    }
    if (level == IPPROTO_TCP && name == TCP_MAXSEG) {
        /* iperf3 reads it after connect() and fails without it.  The TCP
         * is the daemon's: its lwIP MSS (lwipopts.h TCP_MSS). */
        return put_int(val, len, PL_TCP_MSS);
    }
    if (level == IPPROTO_TCP &&
        (name == TCP_INFO || name == TCP_KEEPIDLE || name == TCP_KEEPINTVL || name == TCP_KEEPCNT) &&
        s.kind == PL_CONN) {
        /* The TCP is the daemon's: its figures. */
        struct pl_ctl_reply r;

        if (daemon_opt(fd, TC_CTL_GETOPT, name, NULL, *len, &r) == PL_CTL_OK) {
            if (r.fd >= 0) {
                PL_REAL(close)(r.fd);
            }
            if (r.u.h.err == 0 && r.u.opt.len <= sizeof(r.u.opt.value) &&
                offsetof(struct tc_ctl_opt, value) + r.u.opt.len <= r.len) {
                socklen_t n = *len < r.u.opt.len ? *len : (socklen_t)r.u.opt.len;

                memcpy(val, r.u.opt.value, n);
                *len = n;
                return 0;
            }
        }
    }
    if (level == IPPROTO_TCP && name == TCP_INFO) {
        return tcp_info_of(&s, val, len);
    }
    return fail(ENOPROTOOPT);
}

/* TCP options applications commonly set: accepted (and ignored) on the
 * daemon's connections, whose TCP lives in the daemon. */
static bool tcp_opt_ignorable(int name)
{
    switch (name) {
    case TCP_NODELAY:
    case TCP_MAXSEG:
    case TCP_CORK:
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
    case TCP_KEEPCNT:
    case TCP_SYNCNT:
    case TCP_LINGER2:
    case TCP_DEFER_ACCEPT:
    case TCP_WINDOW_CLAMP:
    case TCP_QUICKACK:
    case TCP_CONGESTION:
    case TCP_USER_TIMEOUT:
    case TCP_FASTOPEN:
    case TCP_FASTOPEN_CONNECT:
    case TCP_NOTSENT_LOWAT:
    case TCP_THIN_LINEAR_TIMEOUTS:
        return true;
    default:
        return false;
    }
}

static uint8_t tcp_bit(int name)
{
    return name == TCP_NODELAY ? PL_B_NODELAY : name == TCP_CORK ? PL_B_CORK : 0;
}

static void note_bit(struct pl_sock *s, int name, const void *val, socklen_t len)
{
    int v;

    if (tcp_bit(name) != 0 && val != NULL && len >= sizeof(int)) {
        memcpy(&v, val, sizeof(v));
        s->bits = (uint8_t)(v ? s->bits | tcp_bit(name) : s->bits & ~tcp_bit(name));
    }
}

PL_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    struct pl_sock s;
    int rc, e;

    if (level == IPPROTO_TCP && is_crypt_opt(name)) {
        return set_crypt(fd, name, val, len);
    }
    if (!ours(fd, &s)) {
        rc = PL_REAL(setsockopt)(fd, level, name, val, len);
        /* Remember TCP_NODELAY/TCP_CORK set before connect(): getsockopt
         * must still see them when the fd is the daemon's. */
        if (rc == 0 && level == IPPROTO_TCP && tcp_bit(name) != 0 && pl_fd_get(fd, &s) &&
            s.kind == PL_TCP) {
            e = errno;
            note_bit(&s, name, val, len);
            pl_fd_put(fd, &s);
            errno = e;
        }
        if (rc == 0 || !adopted_after_refusal(fd, level, &s)) {
            return rc;
        }
    }
    switch (level) {
    case IPPROTO_TCP:
        if (!tcp_opt_ignorable(name)) {
            return fail(ENOPROTOOPT);
        }
        if (tcp_bit(name) != 0) {
            if (val == NULL) {
                return fail(EFAULT);
            }
            if (len < sizeof(int)) {
                return fail(EINVAL);
            }
            note_bit(&s, name, val, len);
            if (name == TCP_NODELAY && s.kind == PL_CONN) {
                bool on = (s.bits & PL_B_NODELAY) != 0;

                /* The daemon's connections start with Nagle off (it reads
                 * what the application wrote in large blocks, so Nagle would
                 * only add delay): TCP_NODELAY 1, which nearly every server
                 * sets on every connection, changes nothing there unless an
                 * earlier 0 turned Nagle on, and costs no round trip. */
                if (on == ((s.bits & PL_B_NAGLE) != 0)) {
                    pl_forward_nodelay(fd, on);
                    s.bits = (uint8_t)(on ? s.bits & ~PL_B_NAGLE : s.bits | PL_B_NAGLE);
                }
            }
            pl_fd_put(fd, &s);
        }
        if ((name == TCP_KEEPIDLE || name == TCP_KEEPINTVL || name == TCP_KEEPCNT) &&
            s.kind == PL_CONN) {
            int v, e2;

            if (val == NULL) {
                return fail(EFAULT);
            }
            if (len < sizeof(int)) {
                return fail(EINVAL);
            }
            memcpy(&v, val, sizeof(v));
            if (!keep_value_ok(name, v)) {
                return fail(EINVAL);
            }
            e2 = forward_opt(fd, name, &v, sizeof(v));
            return e2 != 0 && e2 != ENOENT ? fail(e2) : 0;
        }
        return 0;
    case IPPROTO_IP:
    case IPPROTO_IPV6:
        /* IP_TOS, IPV6_TCLASS, ...: the daemon's stack sends the packets. */
        return 0;
    case SOL_SOCKET:
        /* The send buffer of a connecting app end is what keeps it from
         * being writable too early (ctl_proto.h, connect gating). */
        if ((name == SO_SNDBUF || name == SO_SNDBUFFORCE) && s.kind == PL_CONN &&
            s.cstate == PL_C_CONNECTING) {
            return 0;
        }
        rc = PL_REAL(setsockopt)(fd, level, name, val, len);
        if (rc < 0 && (errno == EOPNOTSUPP || errno == ENOPROTOOPT)) {
            return 0; /* SO_REUSEPORT and the like: meaningless on the socketpair */
        }
        /* The daemon's TCP keeps the connection alive or resets it on
         * close (SO_LINGER with a zero timeout). */
        if (rc == 0 && s.kind == PL_CONN && (name == SO_KEEPALIVE || name == SO_LINGER)) {
            e = errno;
            (void)forward_opt(fd, TC_CTL_OPT_SOCKET(name), val, len);
            errno = e;
        }
        return rc;
    default:
        return PL_REAL(setsockopt)(fd, level, name, val, len);
    }
}
