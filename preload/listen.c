/*
 * listen(), accept()/accept4(), getsockname()/getpeername().  A listener on
 * an address the daemon serves becomes the app end of a SEQPACKET socketpair
 * on which each accepted connection arrives as one TC_CTL_ACCEPTED message
 * (ctl_proto.h), so processes that share the listener share its queue.
 */
#include "preload/preload.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ listen, accept */

PL_EXPORT int listen(int fd, int backlog)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct tc_ctl_listen req;
    struct pl_ctl_reply r;
    struct pl_sock s;
    struct pl_addr local;
    struct timeval unused;
    enum pl_ctl_result res;
    int e;

    if (!pl_fd_lookup(fd, &s)) {
        return PL_REAL(listen)(fd, backlog);
    }
    if (s.kind == PL_LISTEN) {
        return 0; /* a new backlog: the daemon's queue is its own */
    }
    if (s.kind != PL_TCP) {
        return PL_REAL(listen)(fd, backlog);
    }
    if (PL_REAL(listen)(fd, backlog) < 0) {
        return -1;
    }
    memset(&local, 0, sizeof(local));
    if (PL_REAL(getsockname)(fd, (struct sockaddr *)&ss, &sl) == 0) {
        pl_addr_set(&local, (const struct sockaddr *)&ss, sl);
    }
    if (local.len == 0 || pl_addr_is_loopback(&local.u.sa, local.len)) {
        goto pass;
    }
    memset(&req, 0, sizeof(req));
    req.h.op = TC_CTL_LISTEN;
    req.h.len = sizeof(req);
    req.backlog = backlog;
    req.opts = s.opts;
    pl_addr_to_ctl(&req.local, &local);
    res = pl_ctl_call(&req, sizeof(req), fd, TC_CTL_R_LISTEN, sizeof(struct tc_ctl_r_listen), &r);
    if (res == PL_CTL_NO_DAEMON) {
        pl_warn_unreachable();
    }
    if (res != PL_CTL_OK) {
        goto pass;
    }
    if (r.u.h.err == TC_CTL_PASS) {
        pl_close_quietly(r.fd);
        goto pass;
    }
    if (r.u.h.err != 0) {
        pl_close_quietly(r.fd);
        errno = pl_ctl_errno(r.u.h.err);
        return -1;
    }
    if (r.fd < 0) {
        pl_debug("listen fd %d: reply without a listener, the kernel's stays", fd);
        goto pass;
    }
    if (pl_install(fd, r.fd, &s, &unused) < 0) {
        e = errno;
        pl_close_quietly(r.fd);
        errno = e;
        return -1;
    }
    pl_close_quietly(r.fd);
    s.kind = PL_LISTEN;
    s.local = local;
    if (r.u.listen.local.len != 0) {
        pl_addr_from_ctl(&s.local, &r.u.listen.local);
    }
    pl_fd_stat(fd, &s);
    pl_fd_put(fd, &s);
    pl_debug("listen fd %d: the daemon's listener", fd);
    return 0;
pass:
    if (s.opts.flags & TC_CTL_O_MANDATORY) {
        /* Only the kernel would serve it: plain TCP, which is refused. */
        errno = EOPNOTSUPP;
        return -1;
    }
    pl_mark_pass(fd, &s);
    return 0;
}

/* One TC_CTL_ACCEPTED message from the daemon's listener: the connection's
 * fd and its addresses. */
static int accept_daemon(int fd, const struct pl_sock *ls, struct sockaddr *addr,
                         socklen_t *addrlen, int flags)
{
    union {
        struct tc_ctl_accepted a;
        uint8_t raw[1024];
    } m;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 4)];
    } cm;
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
    struct msghdr msg;
    struct cmsghdr *c;
    struct pl_sock s;
    ssize_t n;
    int nfd = -1, fl;

    if (addr != NULL && addrlen == NULL) {
        errno = EFAULT;
        return -1;
    }
    memset(&m, 0, sizeof(m));
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cm.buf;
    msg.msg_controllen = sizeof(cm.buf);
    n = PL_REAL(recvmsg)(fd, &msg, (flags & SOCK_CLOEXEC) ? MSG_CMSG_CLOEXEC : 0);
    if (n < 0) {
        return -1; /* EAGAIN on a non-blocking listener, EINTR, ... */
    }
    if (n == 0) {
        errno = EINVAL; /* the daemon closed the listener: like a shut down one */
        return -1;
    }
    for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            int f;
            memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (nfd < 0) {
                nfd = f;
            } else {
                pl_close_quietly(f);
            }
        }
    }
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
        (size_t)n < sizeof(struct tc_ctl_accepted) || m.a.h.op != TC_CTL_ACCEPTED ||
        m.a.h.len != (size_t)n || nfd < 0) {
        pl_debug("accept fd %d: bad message (op %u, %zd bytes, fd %d)", fd, (unsigned)m.a.h.op, n,
                 nfd);
        pl_close_quietly(nfd);
        errno = ECONNABORTED; /* the application tries again */
        return -1;
    }
    /* Linux: the accepted socket never inherits O_NONBLOCK; only the flag counts. */
    fl = pl_fcntl_int(nfd, F_GETFL, 0);
    if (fl >= 0 && ((fl & O_NONBLOCK) != 0) != ((flags & SOCK_NONBLOCK) != 0)) {
        (void)pl_fcntl_int(nfd, F_SETFL,
                           (flags & SOCK_NONBLOCK) ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
    }
    if ((m.a.flags & TC_CTL_F_KERNEL) && (ls->opts.flags & TC_CTL_O_MANDATORY)) {
        /* A plain kernel connection (loopback) to a listener that demands
         * tcpcrypt: refused, as ENO failing would be. */
        pl_debug("accept fd %d: plain connection refused (TCP_CRYPT_MANDATORY)", fd);
        pl_close_quietly(nfd);
        errno = ECONNABORTED;
        return -1;
    }
    pl_sock_init(&s, (m.a.flags & TC_CTL_F_KERNEL) ? PL_PASS : PL_CONN, ls->domain);
    s.cstate = PL_C_ESTABLISHED;
    s.opts = ls->opts;
    pl_addr_from_ctl(&s.local, &m.a.local);
    pl_addr_from_ctl(&s.remote, &m.a.remote);
    if (ls->domain == AF_INET6) {
        /* What an AF_INET6 socket reports for an IPv4 peer. */
        pl_addr_v4mapped(&s.local);
        pl_addr_v4mapped(&s.remote);
    }
    pl_fd_stat(nfd, &s);
    pl_fd_put(nfd, &s);
    if (addr != NULL) {
        pl_addr_copy_out(&s.remote, s.domain, addr, addrlen);
    }
    return nfd;
}

/* A new fd from the kernel: whatever was known about its number is stale. */
static int forget(int fd)
{
    if (fd >= 0) {
        pl_fd_clear(fd);
    }
    return fd;
}

PL_EXPORT int accept(int fd, __SOCKADDR_ARG addr_arg, socklen_t *restrict len)
{
    struct pl_sock s;

    if (!pl_fd_lookup(fd, &s) || s.kind != PL_LISTEN) {
        return forget(PL_REAL(accept)(fd, addr_arg.__sockaddr__, len));
    }
    return accept_daemon(fd, &s, addr_arg.__sockaddr__, len, 0);
}

PL_EXPORT int accept4(int fd, __SOCKADDR_ARG addr_arg, socklen_t *restrict len, int flags)
{
    struct pl_sock s;

    if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0 || !pl_fd_lookup(fd, &s) ||
        s.kind != PL_LISTEN) {
        return forget(PL_REAL(accept4)(fd, addr_arg.__sockaddr__, len, flags));
    }
    return accept_daemon(fd, &s, addr_arg.__sockaddr__, len, flags);
}

/* ------------------------------------------------------------ names */

static int name_of(int fd, struct sockaddr *sa, socklen_t *len, bool peer)
{
    int (*real)(int, struct sockaddr *, socklen_t *) =
        peer ? PL_REAL(getpeername) : PL_REAL(getsockname);
    struct tc_ctl_r_status st;
    struct pl_sock s;
    socklen_t cap;
    int rc;

    if (len == NULL) {
        return real(fd, sa, len);
    }
    cap = *len;
    if (!pl_fd_lookup(fd, &s)) {
        /* Unknown fd: the kernel's answer, unless it is an AF_UNIX socket
         * that turns out to be one of the daemon's connections (after exec). */
        rc = real(fd, sa, len);
        if (rc != 0 || sa == NULL || cap < sizeof(sa_family_t) || sa->sa_family != AF_UNIX ||
            !pl_adopt(fd, &s)) {
            return rc;
        }
        *len = cap;
    }
    if (s.kind == PL_LISTEN) {
        if (peer) {
            errno = ENOTCONN;
            return -1;
        }
        pl_addr_copy_out(&s.local, s.domain, sa, len);
        return 0;
    }
    if (s.kind != PL_CONN) {
        return real(fd, sa, len);
    }
    if (peer && s.cstate != PL_C_ESTABLISHED) {
        /* Linux: ENOTCONN until the handshake completed. */
        if (pl_ctl_status(fd, false, &st) == PL_CTL_OK && st.h.err == 0) {
            pl_sock_apply_status(&s, &st);
            pl_fd_put(fd, &s);
        }
        if (s.cstate != PL_C_ESTABLISHED) {
            errno = ENOTCONN;
            return -1;
        }
    }
    pl_addr_copy_out(peer ? &s.remote : &s.local, s.domain, sa, len);
    return 0;
}

PL_EXPORT int getsockname(int fd, __SOCKADDR_ARG addr_arg, socklen_t *restrict len)
{
    return name_of(fd, addr_arg.__sockaddr__, len, false);
}

PL_EXPORT int getpeername(int fd, __SOCKADDR_ARG addr_arg, socklen_t *restrict len)
{
    return name_of(fd, addr_arg.__sockaddr__, len, true);
}
