/*
 * socket(), bind() and connect().  A TCP socket stays the kernel's until
 * connect() asks the daemon; when the daemon serves the destination, its
 * socketpair end is put under the same fd number with dup3 (pl_install;
 * ctl_proto.h, DESIGN.md "Why a daemon and socketpairs"), otherwise the
 * kernel socket connects as usual.
 */
#include "preload/preload.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ socket, bind */

PL_EXPORT int socket(int domain, int type, int protocol)
{
    struct pl_sock s;
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    int fd = PL_REAL(socket)(domain, type, protocol);

    if (fd < 0) {
        return fd;
    }
    if ((domain == AF_INET || domain == AF_INET6) && base == SOCK_STREAM &&
        (protocol == 0 || protocol == IPPROTO_TCP)) {
        pl_sock_init(&s, PL_TCP, domain);
        if (pl_fd_stat(fd, &s)) {
            pl_fd_put(fd, &s);
        }
    } else {
        pl_fd_clear(fd);
    }
    return fd;
}

/* Is this one of the daemon's own addresses (TC_CTL_HELLO)? */
static bool daemon_has_addr(const struct sockaddr *sa, socklen_t len)
{
    struct tc_ctl_hdr req = {.op = TC_CTL_HELLO, .len = sizeof(req), .err = 0};
    struct pl_ctl_reply r;
    struct pl_addr want, have;

    if (!pl_addr_set(&want, sa, len) ||
        pl_ctl_call(&req, sizeof(req), -1, TC_CTL_R_HELLO, sizeof(struct tc_ctl_r_hello), &r) !=
            PL_CTL_OK) {
        return false;
    }
    pl_close_quietly(r.fd);
    for (uint32_t i = 0; i < r.u.hello.naddrs && i < 4; i++) {
        pl_addr_from_ctl(&have, &r.u.hello.addrs[i]);
        if (have.len == 0 || have.u.sa.sa_family != want.u.sa.sa_family) {
            continue;
        }
        if (want.u.sa.sa_family == AF_INET
                ? have.u.in.sin_addr.s_addr == want.u.in.sin_addr.s_addr
                : memcmp(&have.u.in6.sin6_addr, &want.u.in6.sin6_addr, 16) == 0) {
            return true;
        }
    }
    return false;
}

PL_EXPORT int bind(int fd, __CONST_SOCKADDR_ARG addr_arg, socklen_t len)
{
    const struct sockaddr *addr = addr_arg.__sockaddr__;
    struct pl_sock s;
    int rc = PL_REAL(bind)(fd, addr, len);
    int one = 1, e;

    if (!pl_fd_lookup(fd, &s) || s.kind != PL_TCP) {
        return rc;
    }
    /* The daemon's addresses belong to its own stack, not to the kernel's
     * interfaces: binding one (a server on the tap address) needs FREEBIND
     * on the kernel socket that stands in until listen()/connect(). */
    if (rc < 0 && errno == EADDRNOTAVAIL && daemon_has_addr(addr, len)) {
        if (PL_REAL(setsockopt)(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) == 0) {
            rc = PL_REAL(bind)(fd, addr, len);
        } else {
            errno = EADDRNOTAVAIL;
        }
    }
    if (rc == 0) {
        e = errno;
        pl_addr_set(&s.local, addr, len);
        pl_fd_put(fd, &s);
        errno = e;
    }
    return rc;
}

/* ------------------------------------------------------------ connect */

static int kernel_connect(int fd, struct pl_sock *s, const struct sockaddr *addr, socklen_t len)
{
    int rc, e;

    /* TCP_CRYPT_MANDATORY: plain TCP is a failure of ENO, not a fallback. */
    if ((s->opts.flags & TC_CTL_O_MANDATORY) && addr != NULL && addr->sa_family != AF_UNSPEC) {
        pl_debug("connect fd %d: no tcpcrypt for this destination (TCP_CRYPT_MANDATORY)", fd);
        errno = ECONNREFUSED;
        return -1;
    }
    rc = PL_REAL(connect)(fd, addr, len);
    e = errno;

    /* From now on the kernel owns this connection (or its attempt). */
    if ((rc == 0 || e == EINPROGRESS || e == EINTR || e == EALREADY || e == EISCONN) &&
        addr != NULL && addr->sa_family != AF_UNSPEC) {
        pl_mark_pass(fd, s);
    }
    errno = e;
    return rc;
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/*
 * A blocking connect(): the app end becomes writable when the connection is
 * established or has failed (the daemon's gating, ctl_proto.h); the daemon
 * then says which.  SO_SNDTIMEO bounds the wait with EINPROGRESS, as on
 * Linux.  Signals do not interrupt the wait (as with SA_RESTART).
 */
static int wait_connected(int fd, struct pl_sock *s, const struct timeval *sndtimeo)
{
    const struct timespec pause = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
    struct tc_ctl_r_status st;
    struct timespec start;
    long limit = -1, waited;
    int n, timeout, early = 0;

    if (sndtimeo->tv_sec != 0 || sndtimeo->tv_usec != 0) {
        limit = (long)sndtimeo->tv_sec * 1000 + (long)sndtimeo->tv_usec / 1000;
        limit = limit > 0 ? limit : 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLOUT, .revents = 0};

        timeout = -1;
        if (limit >= 0) {
            waited = elapsed_ms(&start);
            if (waited >= limit) {
                errno = EINPROGRESS;
                return -1;
            }
            timeout = (int)(limit - waited);
        }
        n = poll(&p, 1, timeout);
        if (n <= 0) {
            if (n < 0 && errno != EINTR) {
                return -1;
            }
            continue;
        }
        if (pl_ctl_status(fd, true, &st) != PL_CTL_OK || st.h.err != 0) {
            s->cstate = PL_C_FAILED;
            pl_fd_put(fd, s);
            errno = ECONNABORTED;
            return -1;
        }
        pl_sock_apply_status(s, &st);
        if (st.so_error != 0) {
            s->cstate = PL_C_FAILED;
        }
        pl_fd_put(fd, s);
        if (s->cstate == PL_C_FAILED) {
            errno = st.so_error != 0
                        ? pl_ctl_errno(st.so_error)
                        : (st.read_error != 0 ? pl_ctl_errno(st.read_error) : ECONNREFUSED);
            return -1;
        }
        if (s->cstate == PL_C_ESTABLISHED) {
            return 0;
        }
        /* Writable but still "connecting": the daemon drained the filler
         * just before recording the state.  Ask again shortly, boundedly. */
        if (++early > 500) {
            errno = ETIMEDOUT;
            return -1;
        }
        nanosleep(&pause, NULL);
    }
}

static int connect_tcp(int fd, struct pl_sock *s, const struct sockaddr *addr, socklen_t len)
{
    struct tc_ctl_connect req;
    struct pl_ctl_reply r;
    struct pl_addr remote;
    struct timeval sndtimeo;
    struct pl_kopts kopts;
    enum pl_ctl_result res;
    int fl, e;

    if (addr == NULL || addr->sa_family != s->domain || !pl_addr_set(&remote, addr, len) ||
        pl_addr_is_local(addr, len)) {
        return kernel_connect(fd, s, addr, len);
    }
    fl = pl_fcntl_int(fd, F_GETFL, 0);
    if (fl < 0) {
        return -1;
    }
    memset(&req, 0, sizeof(req));
    req.h.op = TC_CTL_CONNECT;
    req.h.len = sizeof(req);
    req.flags = (fl & O_NONBLOCK) ? TC_CTL_F_NONBLOCK : 0;
    req.opts = s->opts;
    pl_addr_to_ctl(&req.local, &s->local);
    pl_addr_to_ctl(&req.remote, &remote);
    res = pl_ctl_call(&req, sizeof(req), -1, TC_CTL_R_CONNECT, sizeof(struct tc_ctl_r_connect), &r);
    if (res == PL_CTL_NO_DAEMON) {
        pl_warn_unreachable();
    }
    if (res != PL_CTL_OK) {
        return kernel_connect(fd, s, addr, len);
    }
    if (r.u.h.err == TC_CTL_PASS) {
        pl_close_quietly(r.fd);
        pl_debug("connect fd %d: the daemon does not serve this address", fd);
        return kernel_connect(fd, s, addr, len);
    }
    if (r.u.h.err != 0) {
        pl_close_quietly(r.fd);
        errno = pl_ctl_errno(r.u.h.err);
        return -1;
    }
    if (r.fd < 0) {
        pl_debug("connect fd %d: reply without a connection", fd);
        errno = ECONNABORTED;
        return -1;
    }
    pl_kernel_opts_read(fd, &kopts);
    if (pl_install(fd, r.fd, s, &sndtimeo) < 0) {
        e = errno;
        pl_close_quietly(r.fd);
        errno = e;
        return -1;
    }
    pl_close_quietly(r.fd);
    s->kind = PL_CONN;
    s->cstate = PL_C_CONNECTING;
    s->bits &= (uint8_t)~PL_B_EOF; /* a new stream (after a failed one, too) */
    s->eof_err = 0;
    s->remote = remote;
    if (r.u.connect.local.len != 0) {
        pl_addr_from_ctl(&s->local, &r.u.connect.local);
    }
    pl_fd_stat(fd, s);
    pl_fd_put(fd, s);
    pl_debug("connect fd %d: the daemon's connection", fd);
    /* TCP_NODELAY set on the kernel socket before connect() is the
     * daemon's default already (see pl_forward_nodelay). */
    pl_kernel_opts_forward(fd, &kopts);
    if (fl & O_NONBLOCK) {
        errno = EINPROGRESS;
        return -1;
    }
    return wait_connected(fd, s, &sndtimeo);
}

/* connect() again on a connection of the daemon: Linux's answers. */
static int connect_again(int fd, struct pl_sock *s, const struct sockaddr *addr, socklen_t len)
{
    struct tc_ctl_r_status st;
    struct timeval unused;
    int k, e;

    if (s->cstate == PL_C_ESTABLISHED) {
        errno = EISCONN;
        return -1;
    }
    if (pl_ctl_status(fd, true, &st) != PL_CTL_OK || st.h.err != 0) {
        errno = ECONNABORTED;
        return -1;
    }
    pl_sock_apply_status(s, &st);
    if (st.so_error != 0) {
        s->cstate = PL_C_FAILED;
        pl_fd_put(fd, s);
        errno = pl_ctl_errno(st.so_error);
        return -1;
    }
    pl_fd_put(fd, s);
    if (s->cstate == PL_C_CONNECTING) {
        errno = EALREADY;
        return -1;
    }
    if (s->cstate == PL_C_ESTABLISHED) {
        errno = EISCONN;
        return -1;
    }
    /* Failed and its error already reported: a new attempt, as Linux allows,
     * from a fresh kernel socket under the same fd. */
    k = PL_REAL(socket)(s->domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (k < 0) {
        return -1;
    }
    if (pl_install(fd, k, s, &unused) < 0) {
        e = errno;
        pl_close_quietly(k);
        errno = e;
        return -1;
    }
    pl_close_quietly(k);
    s->kind = PL_TCP;
    s->cstate = 0;
    memset(&s->local, 0, sizeof(s->local));
    memset(&s->remote, 0, sizeof(s->remote));
    pl_fd_stat(fd, s);
    pl_fd_put(fd, s);
    return connect_tcp(fd, s, addr, len);
}

PL_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr_arg, socklen_t len)
{
    const struct sockaddr *addr = addr_arg.__sockaddr__;
    struct pl_sock s;

    if (!pl_fd_lookup(fd, &s)) {
        return PL_REAL(connect)(fd, addr, len);
    }
    switch (s.kind) {
    case PL_TCP:
        return connect_tcp(fd, &s, addr, len);
    case PL_CONN:
        return connect_again(fd, &s, addr, len);
    case PL_LISTEN:
        errno = EISCONN; /* Linux, for a listening socket */
        return -1;
    default:
        return PL_REAL(connect)(fd, addr, len);
    }
}
