/*
 * Addresses as the socket API sees them, and adopting connections the
 * library did not create (inherited across exec, passed with SCM_RIGHTS).
 */
#include "preload/preload.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static bool v4_is_loopback(const struct in_addr *a)
{
    return (ntohl(a->s_addr) >> 24) == 127;
}

static bool addr_is(const struct sockaddr *sa, socklen_t len, bool unspecified_too)
{
    if (sa == NULL) {
        return false;
    }
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return v4_is_loopback(&in->sin_addr) ||
               (unspecified_too && in->sin_addr.s_addr == htonl(INADDR_ANY));
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            struct in_addr v4;
            memcpy(&v4, &a->s6_addr[12], sizeof(v4));
            return v4_is_loopback(&v4) || (unspecified_too && v4.s_addr == htonl(INADDR_ANY));
        }
        return IN6_IS_ADDR_LOOPBACK(a) || (unspecified_too && IN6_IS_ADDR_UNSPECIFIED(a));
    }
    return false;
}

bool pl_addr_is_local(const struct sockaddr *sa, socklen_t len)
{
    /* Linux connects to 0.0.0.0 and :: as to the local host. */
    return addr_is(sa, len, true);
}

bool pl_addr_is_loopback(const struct sockaddr *sa, socklen_t len)
{
    return addr_is(sa, len, false);
}

bool pl_addr_set(struct pl_addr *a, const struct sockaddr *sa, socklen_t len)
{
    memset(a, 0, sizeof(*a));
    if (sa == NULL) {
        return false;
    }
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        a->len = sizeof(struct sockaddr_in);
    } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        a->len = sizeof(struct sockaddr_in6);
    } else {
        return false;
    }
    memcpy(&a->u, sa, a->len);
    return true;
}

void pl_addr_v4mapped(struct pl_addr *a)
{
    struct sockaddr_in in;

    if (a->len != sizeof(struct sockaddr_in) || a->u.sa.sa_family != AF_INET) {
        return;
    }
    in = a->u.in;
    memset(a, 0, sizeof(*a));
    a->len = sizeof(struct sockaddr_in6);
    a->u.in6.sin6_family = AF_INET6;
    a->u.in6.sin6_port = in.sin_port;
    a->u.in6.sin6_addr.s6_addr[10] = 0xff;
    a->u.in6.sin6_addr.s6_addr[11] = 0xff;
    memcpy(&a->u.in6.sin6_addr.s6_addr[12], &in.sin_addr, 4);
}

void pl_addr_from_ctl(struct pl_addr *a, const struct tc_ctl_addr *c)
{
    socklen_t len = c->len <= sizeof(c->ss) ? (socklen_t)c->len : 0;

    if (!pl_addr_set(a, (const struct sockaddr *)&c->ss, len)) {
        memset(a, 0, sizeof(*a));
    }
}

void pl_addr_to_ctl(struct tc_ctl_addr *c, const struct pl_addr *a)
{
    memset(c, 0, sizeof(*c));
    if (a->len > 0 && a->len <= sizeof(a->u)) {
        c->len = a->len;
        memcpy(&c->ss, &a->u, a->len);
    }
}

void pl_addr_copy_out(const struct pl_addr *a, int domain, struct sockaddr *sa, socklen_t *len)
{
    struct pl_addr any;
    socklen_t n;

    if (a->len == 0) {
        memset(&any, 0, sizeof(any));
        any.u.sa.sa_family = (sa_family_t)domain;
        any.len = domain == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        a = &any;
    }
    n = *len < a->len ? *len : a->len;
    if (sa != NULL) {
        memcpy(sa, &a->u, n);
    }
    *len = a->len;
}

void pl_sock_apply_status(struct pl_sock *s, const struct tc_ctl_r_status *st)
{
    if (st->state == TC_CTL_S_ESTABLISHED || st->state == TC_CTL_S_CLOSED) {
        s->cstate = PL_C_ESTABLISHED;
    } else if (st->state == TC_CTL_S_FAILED) {
        s->cstate = PL_C_FAILED;
    } else if (st->state == TC_CTL_S_CONNECTING) {
        s->cstate = PL_C_CONNECTING;
    }
    if (st->local.len != 0) {
        pl_addr_from_ctl(&s->local, &st->local);
    }
    if (st->remote.len != 0) {
        pl_addr_from_ctl(&s->remote, &st->remote);
    }
}

/*
 * After exec the table is empty, but the fds of the daemon's connections
 * live on (a shell's child, inetd-style programs), and an application may
 * pass one to another process.  Such an fd is an AF_UNIX stream socket; the
 * daemon recognises it by inode (ctl_proto.h).  Asked once per fd: the answer
 * is remembered either way.
 */
bool pl_adopt(int fd, struct pl_sock *s)
{
    struct tc_ctl_r_status st;
    struct stat sb;
    int domain = 0, type = 0;
    socklen_t l1 = sizeof(domain), l2 = sizeof(type);
    int saved = errno;
    bool ours = false;

    if (fstat(fd, &sb) < 0 || !S_ISSOCK(sb.st_mode)) {
        errno = saved;
        return false;
    }
    pl_sock_init(s, PL_FOREIGN, AF_UNSPEC);
    s->dev = (uint64_t)sb.st_dev;
    s->ino = (uint64_t)sb.st_ino;
    if (PL_REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l1) == 0 && domain == AF_UNIX &&
        PL_REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &l2) == 0 && type == SOCK_STREAM &&
        pl_ctl_status(fd, false, &st) == PL_CTL_OK && st.h.err == 0) {
        s->kind = PL_CONN;
        pl_sock_apply_status(s, &st);
        s->domain = st.remote.len != 0 ? st.remote.ss.ss_family
                                       : (st.local.len != 0 ? st.local.ss.ss_family : AF_INET);
        ours = true;
        pl_debug("fd %d: adopted a connection of the daemon", fd);
    }
    pl_fd_put(fd, s);
    errno = saved;
    return ours;
}
