/*
 * Calls that replace, copy or drop fds: the shared pl_install() (the daemon's
 * socket under the application's fd number), close, the dup family, fcntl's
 * F_DUPFD, and epoll_ctl bookkeeping.
 */
#include "preload/preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

/* An errno value from the daemon, kept plausible. */
int pl_ctl_errno(int32_t e)
{
    return e > 0 && e < 4096 ? (int)e : EIO;
}

void pl_close_quietly(int fd)
{
    int saved = errno;

    if (fd >= 0) {
        PL_REAL(close)(fd);
    }
    errno = saved;
}

/*
 * Put newfd's file under fd: same number, fd's O_NONBLOCK and FD_CLOEXEC,
 * its socket timeouts, and its epoll registrations.  *sndtimeo gets fd's
 * SO_SNDTIMEO (a blocking connect() waits that long at most, as Linux does).
 */
int pl_install(int fd, int newfd, const struct pl_sock *s, struct timeval *sndtimeo)
{
    struct timeval rcvtimeo;
    socklen_t tl;
    int fl, fdfl, cur, e;

    fl = pl_fcntl_int(fd, F_GETFL, 0);
    fdfl = pl_fcntl_int(fd, F_GETFD, 0);
    if (fl < 0 || fdfl < 0) {
        return -1;
    }
    memset(sndtimeo, 0, sizeof(*sndtimeo));
    memset(&rcvtimeo, 0, sizeof(rcvtimeo));
    tl = sizeof(*sndtimeo);
    (void)PL_REAL(getsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, sndtimeo, &tl);
    tl = sizeof(rcvtimeo);
    (void)PL_REAL(getsockopt)(fd, SOL_SOCKET, SO_RCVTIMEO, &rcvtimeo, &tl);

    pl_fd_epoll_detach(fd, s);
    if (PL_REAL(dup3)(newfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
        e = errno;
        pl_fd_epoll_attach(fd, s);
        errno = e;
        return -1;
    }
    /* The daemon may have left O_NONBLOCK on its end (it fills it without
     * blocking); the application's setting is what counts. */
    cur = pl_fcntl_int(fd, F_GETFL, 0);
    if (cur >= 0 && (cur & O_NONBLOCK) != (fl & O_NONBLOCK)) {
        (void)pl_fcntl_int(fd, F_SETFL, (cur & ~O_NONBLOCK) | (fl & O_NONBLOCK));
    }
    if (sndtimeo->tv_sec != 0 || sndtimeo->tv_usec != 0) {
        (void)PL_REAL(setsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, sndtimeo, sizeof(*sndtimeo));
    }
    if (rcvtimeo.tv_sec != 0 || rcvtimeo.tv_usec != 0) {
        (void)PL_REAL(setsockopt)(fd, SOL_SOCKET, SO_RCVTIMEO, &rcvtimeo, sizeof(rcvtimeo));
    }
    pl_fd_epoll_attach(fd, s);
    return 0;
}

void pl_mark_pass(int fd, struct pl_sock *s)
{
    s->kind = PL_PASS;
    s->nep = 0;
    pl_fd_put(fd, s);
}

/* ------------------------------------------------------------ close, dup */

PL_EXPORT int close(int fd)
{
    /* Forget first: once closed, the number may be reused by another thread. */
    pl_fd_clear(fd);
    return PL_REAL(close)(fd);
}

/* newfd now names oldfd's file: it gets oldfd's entry, without the epoll
 * registrations (those were made for the old number). */
static void copy_entry(int oldfd, int newfd)
{
    struct pl_sock s;

    if (pl_fd_borrowed_memory()) {
        return; /* a vfork child: the table is its parent's */
    }
    if (pl_fd_get(oldfd, &s)) {
        s.nep = 0;
        pl_fd_put(newfd, &s);
    } else {
        pl_fd_clear(newfd);
    }
}

PL_EXPORT int dup(int oldfd)
{
    int fd = PL_REAL(dup)(oldfd);

    if (fd >= 0) {
        copy_entry(oldfd, fd);
    }
    return fd;
}

PL_EXPORT int dup2(int oldfd, int newfd)
{
    int fd = PL_REAL(dup2)(oldfd, newfd);

    if (fd >= 0 && oldfd != newfd) {
        copy_entry(oldfd, fd);
    }
    return fd;
}

PL_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    int fd = PL_REAL(dup3)(oldfd, newfd, flags);

    if (fd >= 0) {
        copy_entry(oldfd, fd);
    }
    return fd;
}

/* glibc itself reads the optional argument as a pointer for every command. */
static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
    int rc;

    if (real == NULL) {
        errno = ENOSYS;
        return -1;
    }
    rc = real(fd, cmd, arg);
    if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) {
        copy_entry(fd, rc);
    }
    return rc;
}

PL_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(PL_REAL(fcntl), fd, cmd, arg);
}

PL_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(PL_REAL(fcntl64), fd, cmd, arg);
}

PL_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    int rc = PL_REAL(epoll_ctl)(epfd, op, fd, ev);

    if (rc == 0) {
        pl_fd_epoll_note(fd, epfd, op, ev);
    }
    return rc;
}
