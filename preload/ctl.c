/*
 * The library's side of the control protocol (stack/ctl_proto.h): one
 * short-lived SOCK_SEQPACKET connection per request, so nothing is shared
 * between threads or across fork.  Also the library's only output: the
 * warning when the daemon cannot be reached, and TCPCRYPT_DEBUG=1 lines.
 */
#include "preload/preload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "stack/fdmsg.h"

/* A request the daemon does not answer within this time is treated as a
 * daemon that is not there (the application must not hang on it). */
#define PL_CTL_TIMEOUT_SEC 10
#define PL_CTL_MAX_FDS 4

static char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static bool ctl_path_ok;
static bool debug_on;
static int init_state; /* 0: not yet, 1: done */
static int warned;

void pl_init(void)
{
    const char *p, *d;
    size_t n;

    if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE)) {
        return;
    }
    /* Read once: the application may later clear or rewrite its environment
     * (daemons often do), and getenv is not safe against setenv. */
    p = getenv(TC_CTL_ENV_SOCKET);
    if (p == NULL || p[0] == '\0') {
        p = TC_CTL_DEFAULT_PATH;
    }
    n = strlen(p);
    ctl_path_ok = n < sizeof(ctl_path);
    memcpy(ctl_path, p, ctl_path_ok ? n + 1 : sizeof(ctl_path) - 1);
    d = getenv("TCPCRYPT_DEBUG");
    debug_on = d != NULL && strcmp(d, "1") == 0;
    __atomic_store_n(&init_state, 1, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void pl_constructor(void)
{
    pl_init();
    pl_real_resolve();
    pl_fd_table_init();
}

const char *pl_ctl_path(void)
{
    pl_init();
    return ctl_path;
}

bool pl_debug_on(void)
{
    pl_init();
    return debug_on;
}

/* One line on stderr with one write(2). */
static void emit(const char *line, size_t len)
{
    ssize_t w;

    while (len > 0) {
        w = write(STDERR_FILENO, line, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return;
        }
        line += w;
        len -= (size_t)w;
    }
}

void pl_debug(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n, m;
    int saved = errno;

    if (!pl_debug_on()) {
        return;
    }
    n = snprintf(line, sizeof(line), "tcpcrypt[%d]: ", (int)getpid());
    if (n < 0 || (size_t)n >= sizeof(line)) {
        goto out;
    }
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) {
        goto out;
    }
    n += m;
    if ((size_t)n > sizeof(line) - 2) {
        n = (int)sizeof(line) - 2;
    }
    line[n++] = '\n';
    emit(line, (size_t)n);
out:
    errno = saved;
}

void pl_warn_unreachable(void)
{
    char line[sizeof(ctl_path) + 96];
    int n;
    int saved = errno;

    if (__atomic_exchange_n(&warned, 1, __ATOMIC_ACQ_REL)) {
        return;
    }
    n = snprintf(line, sizeof(line),
                 "tcpcrypt: daemon not reachable at %s: connections are not encrypted\n",
                 pl_ctl_path());
    if (n > 0) {
        emit(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
    errno = saved;
}

static int ctl_open(void)
{
    struct sockaddr_un sun;
    struct timeval tv = {.tv_sec = PL_CTL_TIMEOUT_SEC, .tv_usec = 0};
    int s, rc;

    if (!ctl_path_ok) {
        return -1;
    }
    s = PL_REAL(socket)(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) {
        return -1;
    }
    /* SO_SNDTIMEO also bounds connect() on a Unix socket whose backlog is full. */
    (void)PL_REAL(setsockopt)(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    (void)PL_REAL(setsockopt)(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, ctl_path, strlen(ctl_path));
    do {
        rc = PL_REAL(connect)(s, (const struct sockaddr *)&sun, sizeof(sun));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        PL_REAL(close)(s);
        return -1;
    }
    return s;
}

static bool ctl_send(int s, const void *req, size_t reqlen, int send_fd)
{
    /* MSG_NOSIGNAL: a daemon that died must not kill the application. */
    return tc_send_with_fd(s, req, reqlen, send_fd, MSG_NOSIGNAL) == (ssize_t)reqlen;
}

/* Receive one message; *fd gets its first descriptor (others are closed). */
static ssize_t ctl_recv(int s, void *buf, size_t cap, int *fd, int *mflags)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * PL_CTL_MAX_FDS)];
    } cm;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr msg;
    struct cmsghdr *c;
    ssize_t n;

    *fd = -1;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cm.buf;
    msg.msg_controllen = sizeof(cm.buf);
    do {
        n = PL_REAL(recvmsg)(s, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return -1;
    }
    *mflags = msg.msg_flags;
    for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int f;
            memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*fd < 0) {
                *fd = f;
            } else {
                PL_REAL(close)(f);
            }
        }
    }
    return n;
}

enum pl_ctl_result pl_ctl_call(const void *req, size_t reqlen, int send_fd, uint16_t want_op,
                               size_t minlen, struct pl_ctl_reply *r)
{
    enum pl_ctl_result res = PL_CTL_BROKEN;
    int saved = errno;
    int s, mflags = 0;
    ssize_t n;

    pl_init();
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    s = ctl_open();
    if (s < 0) {
        pl_debug("control socket %s: errno %d", ctl_path, ctl_path_ok ? errno : ENAMETOOLONG);
        errno = saved;
        return PL_CTL_NO_DAEMON;
    }
    if (!ctl_send(s, req, reqlen, send_fd)) {
        pl_debug("control request op %u: send failed: errno %d",
                 (unsigned)((const struct tc_ctl_hdr *)req)->op, errno);
        goto out;
    }
    n = ctl_recv(s, r->u.raw, sizeof(r->u.raw), &r->fd, &mflags);
    if (n < 0) {
        pl_debug("control reply (op %u): errno %d", (unsigned)want_op, errno);
        goto out;
    }
    r->len = (size_t)n;
    /* Replies that report an error may be a bare header (ctl_proto.h does
     * not require the rest); the buffer was zeroed, so the rest reads 0. */
    if ((mflags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || r->len < sizeof(struct tc_ctl_hdr) ||
        r->u.h.op != want_op || r->u.h.len != r->len || (r->u.h.err == 0 && r->len < minlen)) {
        pl_debug("control reply: bad message (op %u, len %u, %zu bytes, flags %#x), wanted op %u",
                 (unsigned)r->u.h.op, (unsigned)r->u.h.len, r->len, (unsigned)mflags,
                 (unsigned)want_op);
        if (r->fd >= 0) {
            PL_REAL(close)(r->fd);
            r->fd = -1;
        }
        goto out;
    }
    res = PL_CTL_OK;
out:
    PL_REAL(close)(s);
    errno = saved;
    return res;
}

enum pl_ctl_result pl_ctl_status(int fd, bool clear_error, struct tc_ctl_r_status *st)
{
    struct tc_ctl_status req;
    struct pl_ctl_reply r;
    enum pl_ctl_result res;

    memset(&req, 0, sizeof(req));
    req.h.op = TC_CTL_STATUS;
    req.h.len = sizeof(req);
    req.clear_error = clear_error ? 1 : 0;
    res = pl_ctl_call(&req, sizeof(req), fd, TC_CTL_R_STATUS, sizeof(*st), &r);
    if (res != PL_CTL_OK) {
        return res;
    }
    if (r.fd >= 0) {
        PL_REAL(close)(r.fd);
    }
    memcpy(st, &r.u.status, sizeof(*st));
    return PL_CTL_OK;
}
