/*
 * The read paths.  Data moves through the kernel's own socketpair untouched;
 * the library steps in only when a read returns 0 (end of stream) on one of
 * the daemon's connections, and asks the daemon why.  RFC 8548 §8:
 *
 *   Implementations MUST give higher-level software a way to distinguish
 *   such errors from a clean end-of-stream (indicated by an authenticated
 *   FINp bit) so that applications can avoid semantic truncation attacks.
 *
 * and §3.6 (a frame that fails to decrypt): "abort the connection and raise
 * an error condition distinct from the end-of-file condition".  The daemon
 * keeps the reason (EBADMSG, ECONNRESET, ETIMEDOUT) and the read returns -1
 * with it instead of 0.
 */
#include "preload/preload.h"

#include <errno.h>
#include <unistd.h>

/* The error a read at end of stream must report on fd, or 0 for a real EOF. */
static int eof_error(int fd)
{
    struct tc_ctl_r_status st;
    struct pl_sock s;
    enum pl_ctl_result res;

    if (pl_fd_lookup(fd, &s)) {
        if (s.kind != PL_CONN) {
            return 0;
        }
    } else if (!pl_adopt(fd, &s)) {
        return 0;
    }
    /* Once a stream has ended, every later read ends the same way (as
     * with a kernel socket): the daemon is asked once. */
    if (s.bits & PL_B_EOF) {
        return s.eof_err;
    }
    res = pl_ctl_status(fd, false, &st);
    if (res != PL_CTL_OK) {
        /* The daemon that carried this connection is gone: the stream did
         * not end cleanly, whatever the socketpair says. */
        s.eof_err = ECONNRESET;
    } else if (st.h.err != 0) {
        s.eof_err = 0; /* the daemon does not know it (any more): nothing to add */
    } else {
        pl_sock_apply_status(&s, &st);
        s.eof_err = st.read_error > 0 && st.read_error < 4096 ? st.read_error : 0;
    }
    s.bits |= PL_B_EOF;
    pl_fd_put(fd, &s);
    return s.eof_err;
}

static ssize_t at_eof(int fd, ssize_t n, size_t asked)
{
    int saved = errno, e;

    /* The daemon closes its end of an aborted connection.  If the
     * application had written bytes the daemon never read, the kernel
     * reports ECONNRESET on the socketpair instead of the end of stream;
     * the daemon's reason (EBADMSG for a tcpcrypt abort) still wins. */
    if (n < 0 && saved == ECONNRESET) {
        e = eof_error(fd);
        errno = e != 0 ? e : ECONNRESET;
        return -1;
    }
    if (n != 0 || asked == 0) {
        return n;
    }
    e = eof_error(fd);
    if (e != 0) {
        errno = e;
        return -1;
    }
    errno = saved;
    return 0;
}

static size_t iov_total(const struct iovec *iov, size_t n)
{
    size_t total = 0;

    for (size_t i = 0; iov != NULL && i < n; i++) {
        total += iov[i].iov_len;
        if (total < iov[i].iov_len) {
            return SIZE_MAX;
        }
    }
    return total;
}

PL_EXPORT ssize_t read(int fd, void *buf, size_t count)
{
    return at_eof(fd, PL_REAL(read)(fd, buf, count), count);
}

PL_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
    return at_eof(fd, PL_REAL(readv)(fd, iov, iovcnt),
                  iovcnt > 0 ? iov_total(iov, (size_t)iovcnt) : 0);
}

PL_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    return at_eof(fd, PL_REAL(recv)(fd, buf, len, flags), len);
}

PL_EXPORT ssize_t recvfrom(int fd, void *restrict buf, size_t len, int flags, __SOCKADDR_ARG from,
                           socklen_t *restrict fromlen)
{
    return at_eof(fd, PL_REAL(recvfrom)(fd, buf, len, flags, from.__sockaddr__, fromlen), len);
}

PL_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    ssize_t n = PL_REAL(recvmsg)(fd, msg, flags);

    return at_eof(fd, n, msg != NULL ? iov_total(msg->msg_iov, msg->msg_iovlen) : 0);
}

/* _FORTIFY_SOURCE turns read(fd, buf, sizeof(buf)) into these. */
PL_EXPORT ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen)
{
    ssize_t (*real)(int, void *, size_t, size_t) = PL_REAL(read_chk);

    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return at_eof(fd, real(fd, buf, nbytes, buflen), nbytes);
}

PL_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    ssize_t (*real)(int, void *, size_t, size_t, int) = PL_REAL(recv_chk);

    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return at_eof(fd, real(fd, buf, len, buflen, flags), len);
}

PL_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                                 struct sockaddr *from, socklen_t *fromlen)
{
    ssize_t (*real)(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *) =
        PL_REAL(recvfrom_chk);

    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return at_eof(fd, real(fd, buf, len, buflen, flags, from, fromlen), len);
}
