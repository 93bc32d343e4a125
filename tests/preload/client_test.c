/*
 * libtcpcrypt_preload.so against the mock daemon (tests/preload/mockd.py),
 * run by tests/preload/run_mock.sh with LD_PRELOAD set.  Each scenario uses
 * only the plain socket API, as an unmodified application would.
 *
 *   client_test [mock]     every scenario against the mock
 *   client_test nodaemon   TCPCRYPT_SOCKET names nothing: kernel TCP as usual
 *   client_test adopt FD   (exec'd by the mock run) a connection inherited
 *   client_test echo       one echo through the daemon (for tcpcrypt-run)
 *
 * TC_TEST_KADDR: a local, non-loopback IPv4 address of the kernel (a kernel
 * listener the daemon does not serve); empty skips the checks that need it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stack/ctl_proto.h"
#include "tcpcrypt/tcpcrypt.h"
#include "tests/check.h"

/* mockd.py packs these layouts by hand: keep them in step. */
_Static_assert(sizeof(struct tc_ctl_hdr) == 8, "hdr");
_Static_assert(sizeof(struct tc_ctl_addr) == 136, "addr");
_Static_assert(sizeof(struct tc_ctl_sockopts) == 52, "sockopts");
_Static_assert(sizeof(struct tc_ctl_connect) == 336 &&
                   offsetof(struct tc_ctl_connect, local) == 64 &&
                   offsetof(struct tc_ctl_connect, remote) == 200,
               "connect");
_Static_assert(sizeof(struct tc_ctl_r_connect) == 144, "r_connect");
_Static_assert(sizeof(struct tc_ctl_listen) == 200 && offsetof(struct tc_ctl_listen, local) == 64,
               "listen");
_Static_assert(sizeof(struct tc_ctl_r_listen) == 144, "r_listen");
_Static_assert(sizeof(struct tc_ctl_accepted) == 288 &&
                   offsetof(struct tc_ctl_accepted, local) == 16 &&
                   offsetof(struct tc_ctl_accepted, remote) == 152,
               "accepted");
_Static_assert(sizeof(struct tc_ctl_status) == 12, "status");
_Static_assert(sizeof(struct tc_ctl_r_status) == 296 &&
                   offsetof(struct tc_ctl_r_status, local) == 24 &&
                   offsetof(struct tc_ctl_r_status, remote) == 160,
               "r_status");
_Static_assert(sizeof(struct tc_ctl_opt) == 296 && offsetof(struct tc_ctl_opt, value) == 16, "opt");
_Static_assert(sizeof(struct tc_ctl_r_hello) == 568 &&
                   offsetof(struct tc_ctl_r_hello, prefix_len) == 560,
               "r_hello");

#define SERVED4 "198.51.100.1"
#define SERVED6 "2001:db8::1"

static const char *kaddr; /* NULL: no kernel address to test with */

static struct sockaddr_in sin4(const char *ip, int port)
{
    struct sockaddr_in a;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", ip);
        exit(2);
    }
    return a;
}

static struct sockaddr_in6 sin6(const char *ip, int port)
{
    struct sockaddr_in6 a;

    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    a.sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, ip, &a.sin6_addr) != 1) {
        fprintf(stderr, "bad address %s\n", ip);
        exit(2);
    }
    return a;
}

#define SA(x) ((struct sockaddr *)&(x))

static long ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void now(struct timespec *t)
{
    clock_gettime(CLOCK_MONOTONIC, t);
}

static bool wait_for(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};

    return poll(&p, 1, ms) == 1;
}

/* Read exactly n bytes (waiting up to 3 s each): n, or what read returned. */
static ssize_t read_n(int fd, char *buf, size_t n)
{
    size_t got = 0;
    ssize_t r;

    while (got < n) {
        if (!wait_for(fd, POLLIN, 3000)) {
            return -2;
        }
        r = read(fd, buf + got, n - got);
        if (r <= 0) {
            return r;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static bool echo_ok(int fd, const char *msg)
{
    char buf[64];
    size_t n = strlen(msg);

    return write(fd, msg, n) == (ssize_t)n && read_n(fd, buf, n) == (ssize_t)n &&
           memcmp(buf, msg, n) == 0;
}

static int get_int(int fd, int level, int name, int *v)
{
    socklen_t len = sizeof(*v);

    *v = -12345;
    return getsockopt(fd, level, name, v, &len);
}

static int set_int(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof(v));
}

static int port_of(const struct sockaddr *sa)
{
    return sa->sa_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)sa)->sin6_port)
                                     : ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

static const char *ip_of(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *a = sa->sa_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

    return inet_ntop(sa->sa_family, a, buf, (socklen_t)len) ? buf : "?";
}

static void expected_sessid(int port, unsigned char sid[TCPCRYPT_SESSID_LEN])
{
    sid[0] = 0x23;
    for (int i = 0; i < 32; i++) {
        sid[1 + i] = (unsigned char)((port + i) & 0xff);
    }
}

/* A blocking connect to a served address: the fd, or -1. */
static int connect_served(int port)
{
    struct sockaddr_in a = sin4(SERVED4, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0 || connect(fd, SA(a), sizeof(a)) != 0) {
        fprintf(stderr, "connect to port %d: %s\n", port, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

/* ------------------------------------------------------------ scenarios */

static void test_blocking_echo(void)
{
    struct sockaddr_in a = sin4(SERVED4, 7), peer, me;
    unsigned char sid[64], want[TCPCRYPT_SESSID_LEN];
    char hex[TCPCRYPT_SESSID_HEX_LEN], wanthex[TCPCRYPT_SESSID_HEX_LEN], ip[64];
    socklen_t len;
    struct timespec t0;
    int fd, v;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1), 0);
    now(&t0);
    CHECK_INT(connect(fd, SA(a), sizeof(a)), 0);
    CHECK(ms_since(&t0) >= 300); /* the mock establishes after 0.4 s */
    CHECK(echo_ok(fd, "ping"));

    len = sizeof(peer);
    CHECK_INT(getpeername(fd, SA(peer), &len), 0);
    CHECK_INT(len, sizeof(struct sockaddr_in));
    CHECK_INT(peer.sin_family, AF_INET);
    CHECK(strcmp(ip_of(SA(peer), ip, sizeof(ip)), SERVED4) == 0);
    CHECK_INT(ntohs(peer.sin_port), 7);
    len = sizeof(me);
    CHECK_INT(getsockname(fd, SA(me), &len), 0);
    CHECK_INT(len, sizeof(struct sockaddr_in));
    CHECK(strcmp(ip_of(SA(me), ip, sizeof(ip)), "198.51.100.2") == 0);
    CHECK(ntohs(me.sin_port) > 50000);
    /* truncation, as the kernel does it */
    len = 4;
    memset(&me, 0, sizeof(me));
    CHECK_INT(getsockname(fd, SA(me), &len), 0);
    CHECK_INT(len, sizeof(struct sockaddr_in));
    CHECK_INT(me.sin_family, AF_INET);
    CHECK_INT(me.sin_addr.s_addr, 0);

    /* what a TCP socket answers */
    CHECK(get_int(fd, SOL_SOCKET, SO_TYPE, &v) == 0 && v == SOCK_STREAM);
    CHECK(get_int(fd, SOL_SOCKET, SO_DOMAIN, &v) == 0 && v == AF_INET);
    CHECK(get_int(fd, SOL_SOCKET, SO_PROTOCOL, &v) == 0 && v == IPPROTO_TCP);
    CHECK(get_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &v) == 0 && v == 0);
    CHECK(get_int(fd, SOL_SOCKET, SO_ERROR, &v) == 0 && v == 0);
    CHECK(get_int(fd, IPPROTO_TCP, TCP_NODELAY, &v) == 0 && v == 1);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 30), 0);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, 5), 0);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 3), 0);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_QUICKACK, 1), 0);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_CORK, 1), 0);
    CHECK(get_int(fd, IPPROTO_TCP, TCP_CORK, &v) == 0 && v == 1);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_CORK, 0), 0);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_NODELAY, 0), 0);
    CHECK(get_int(fd, IPPROTO_TCP, TCP_NODELAY, &v) == 0 && v == 0);
    CHECK_INT(set_int(fd, IPPROTO_IP, IP_TOS, 0x10), 0);
    CHECK_INT(set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
    /* TCP_INFO and TCP_MAXSEG are answered (iperf3 fails without them):
     * the state and the daemon's MSS, counters zero. */
    {
        struct tcp_info ti;
        socklen_t tl = sizeof(ti);

        memset(&ti, 0xff, sizeof(ti));
        CHECK_INT(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
        CHECK_INT(tl, sizeof(ti));
        CHECK_INT(ti.tcpi_state, TCP_ESTABLISHED);
        CHECK_INT(ti.tcpi_snd_mss, 1460);
        CHECK_INT(ti.tcpi_total_retrans, 0);
        CHECK(get_int(fd, IPPROTO_TCP, TCP_MAXSEG, &v) == 0 && v == 1460);
    }

    /* tcpcrypt facts from the daemon */
    len = sizeof(sid);
    CHECK_INT(getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len), 0);
    CHECK_INT(len, TCPCRYPT_SESSID_LEN);
    expected_sessid(7, want);
    CHECK_MEM(sid, want, TCPCRYPT_SESSID_LEN);
    len = 10;
    errno = 0;
    CHECK(getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) == -1 && errno == EINVAL);
    CHECK(get_int(fd, IPPROTO_TCP, TCP_CRYPT_ROLE, &v) == 0 && v == 'A');
    CHECK(get_int(fd, IPPROTO_TCP, TCP_CRYPT_TEP, &v) == 0 && v == 0x23);
    CHECK(get_int(fd, IPPROTO_TCP, TCP_CRYPT_APP_AWARE, &v) == 0 && v == 0);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_CRYPT_APP_AWARE, 1), 0);
    errno = 0;
    CHECK(set_int(fd, IPPROTO_TCP, TCP_CRYPT_ENABLE, 0) == -1 && errno == EISCONN);
    errno = 0;
    CHECK(connect(fd, SA(a), sizeof(a)) == -1 && errno == EISCONN);

    CHECK(tcpcrypt_sessid_hex(want, TCPCRYPT_SESSID_LEN, hex, sizeof(hex)) == hex);
    for (int i = 0; i < TCPCRYPT_SESSID_LEN; i++) {
        snprintf(wanthex + 2 * i, 3, "%02x", want[i]);
    }
    CHECK(strcmp(hex, wanthex) == 0);
    CHECK(tcpcrypt_sessid_hex(want, TCPCRYPT_SESSID_LEN, hex, 2 * TCPCRYPT_SESSID_LEN) == NULL);
    CHECK_INT(hex[0], '\0');

    /* our FIN: the mock sees EOF and ends too: a normal EOF reads 0 */
    CHECK_INT(shutdown(fd, SHUT_WR), 0);
    CHECK_INT(read_n(fd, (char *)sid, 1), 0);
    CHECK_INT(close(fd), 0);
}

static void test_nonblocking_epoll(void)
{
    struct sockaddr_in a = sin4(SERVED4, 7);
    struct epoll_event ev, out[4];
    struct timespec t0;
    int ep, ep2, fd, v, n;
    char c = 'x';

    ep = epoll_create1(EPOLL_CLOEXEC);
    ep2 = epoll_create1(0);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(ep >= 0 && ep2 >= 0 && fd >= 0);
    /* registered BEFORE connect(), as nginx does for an upstream */
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = 0xfeed;
    CHECK_INT(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
    ev.events = EPOLLOUT;
    ev.data.u64 = 0xbeef;
    CHECK_INT(epoll_ctl(ep2, EPOLL_CTL_ADD, fd, &ev), 0);

    now(&t0);
    errno = 0;
    CHECK(connect(fd, SA(a), sizeof(a)) == -1 && errno == EINPROGRESS);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK(!wait_for(fd, POLLOUT, 100));
    CHECK_INT(epoll_wait(ep, out, 4, 50), 0);
    CHECK_INT(epoll_wait(ep2, out, 4, 0), 0);
    errno = 0;
    CHECK(write(fd, &c, 1) == -1 && errno == EAGAIN);
    errno = 0;
    CHECK(connect(fd, SA(a), sizeof(a)) == -1 && errno == EALREADY);
    {
        struct sockaddr_in p;
        socklen_t len = sizeof(p);
        errno = 0;
        CHECK(getpeername(fd, SA(p), &len) == -1 && errno == ENOTCONN);
    }

    n = epoll_wait(ep, out, 4, 3000);
    CHECK_INT(n, 1);
    CHECK(n == 1 && out[0].data.u64 == 0xfeed && (out[0].events & EPOLLOUT) != 0);
    CHECK(ms_since(&t0) >= 300);
    n = epoll_wait(ep2, out, 4, 1000);
    CHECK(n == 1 && out[0].data.u64 == 0xbeef);
    CHECK(get_int(fd, SOL_SOCKET, SO_ERROR, &v) == 0 && v == 0);
    errno = 0;
    CHECK(connect(fd, SA(a), sizeof(a)) == -1 && errno == EISCONN);
    {
        struct sockaddr_in p;
        socklen_t len = sizeof(p);
        CHECK(getpeername(fd, SA(p), &len) == 0 && ntohs(p.sin_port) == 7);
    }
    /* the registration made before connect() reports the echo, too */
    CHECK(write(fd, "abc", 3) == 3);
    do { /* EPOLLOUT edges (the mock read our bytes) may come first */
        n = epoll_wait(ep, out, 4, 3000);
    } while (n == 1 && out[0].data.u64 == 0xfeed && (out[0].events & EPOLLIN) == 0);
    CHECK(n == 1 && out[0].data.u64 == 0xfeed && (out[0].events & EPOLLIN) != 0);
    CHECK(read_n(fd, (char *)&v, 3) == 3 && memcmp(&v, "abc", 3) == 0);
    close(fd);
    close(ep);
    close(ep2);
}

static void test_refused(void)
{
    struct sockaddr_in a9 = sin4(SERVED4, 9), a1 = sin4(SERVED4, 1), a7 = sin4(SERVED4, 7);
    char buf[8];
    int fd, v;

    /* non-blocking: writable when it failed, SO_ERROR says why, once */
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    errno = 0;
    CHECK(connect(fd, SA(a9), sizeof(a9)) == -1 && errno == EINPROGRESS);
    CHECK(wait_for(fd, POLLOUT, 3000));
    CHECK(get_int(fd, SOL_SOCKET, SO_ERROR, &v) == 0 && v == ECONNREFUSED);
    CHECK(get_int(fd, SOL_SOCKET, SO_ERROR, &v) == 0 && v == 0);
    errno = 0;
    CHECK(read(fd, buf, sizeof(buf)) == -1 && errno == ECONNREFUSED);
    /* Linux allows connecting again after a failure: port 7 this time */
    errno = 0;
    CHECK(connect(fd, SA(a7), sizeof(a7)) == -1 && errno == EINPROGRESS);
    CHECK(wait_for(fd, POLLOUT, 3000));
    CHECK(get_int(fd, SOL_SOCKET, SO_ERROR, &v) == 0 && v == 0);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    CHECK(wait_for(fd, POLLOUT, 100) && write(fd, "re", 2) == 2);
    CHECK(read_n(fd, buf, 2) == 2 && memcmp(buf, "re", 2) == 0);
    /* the new stream ends cleanly: the failed one's error is not repeated */
    CHECK_INT(shutdown(fd, SHUT_WR), 0);
    CHECK_INT(read_n(fd, buf, 1), 0);
    close(fd);

    /* blocking */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    CHECK(connect(fd, SA(a9), sizeof(a9)) == -1 && errno == ECONNREFUSED);
    close(fd);

    /* an immediate failure leaves the socket as it was */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    CHECK(connect(fd, SA(a1), sizeof(a1)) == -1 && errno == ENETUNREACH);
    CHECK_INT(connect(fd, SA(a7), sizeof(a7)), 0);
    CHECK(echo_ok(fd, "again"));
    close(fd);

    /* SO_SNDTIMEO bounds a blocking connect with EINPROGRESS, as on Linux */
    {
        struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
        struct timespec t0;
        fd = socket(AF_INET, SOCK_STREAM, 0);
        CHECK_INT(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
        now(&t0);
        errno = 0;
        CHECK(connect(fd, SA(a7), sizeof(a7)) == -1 && errno == EINPROGRESS);
        CHECK(ms_since(&t0) < 350);
        errno = 0;
        CHECK(connect(fd, SA(a7), sizeof(a7)) == -1 && errno == EALREADY);
        CHECK(wait_for(fd, POLLOUT, 3000));
        CHECK(get_int(fd, SOL_SOCKET, SO_ERROR, &v) == 0 && v == 0);
        CHECK(echo_ok(fd, "t"));
        close(fd);
    }
}

static void test_abort_and_eof(void)
{
    char buf[16];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
    struct msghdr msg;
    int fd;

    fd = connect_served(11);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(read_n(fd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0);
        errno = 0;
        CHECK(read(fd, buf, sizeof(buf)) == -1 && errno == EBADMSG);
        errno = 0;
        CHECK(read(fd, buf, sizeof(buf)) == -1 && errno == EBADMSG); /* stays */
        errno = 0;
        CHECK(recv(fd, buf, sizeof(buf), 0) == -1 && errno == EBADMSG);
        errno = 0;
        CHECK(recvfrom(fd, buf, sizeof(buf), 0, NULL, NULL) == -1 && errno == EBADMSG);
        errno = 0;
        CHECK(readv(fd, &iov, 1) == -1 && errno == EBADMSG);
        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        errno = 0;
        CHECK(recvmsg(fd, &msg, 0) == -1 && errno == EBADMSG);
        /* a zero-length read is not an end of stream */
        CHECK_INT(read(fd, buf, 0), 0);
        close(fd);
    }

    fd = connect_served(12);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(read_n(fd, buf, 3) == 3 && memcmp(buf, "bye", 3) == 0);
        CHECK_INT(read(fd, buf, sizeof(buf)), 0);
        CHECK_INT(recv(fd, buf, sizeof(buf), 0), 0);
        close(fd);
    }
}

static void test_options(void)
{
    struct sockaddr_in a = sin4(SERVED4, 14);
    unsigned char sid[64];
    char line[32];
    socklen_t len;
    int fd, v, two = 1;
    ssize_t n;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(get_int(fd, IPPROTO_TCP, TCP_CRYPT_ENABLE, &v) == 0 && v == 1);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_CRYPT_ENABLE, 0), 0);
    CHECK(get_int(fd, IPPROTO_TCP, TCP_CRYPT_ENABLE, &v) == 0 && v == 0);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_CRYPT_ROLE_B, 1), 0);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_CRYPT_MANDATORY, 1), 0);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_CRYPT_APP_AWARE, 1), 0);
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_CRYPT_APP_AWARE, 0), 0);
    CHECK(get_int(fd, IPPROTO_TCP, TCP_CRYPT_ROLE_B, &v) == 0 && v == 1);
    CHECK(get_int(fd, IPPROTO_TCP, TCP_CRYPT_AA_MANDATORY, &v) == 0 && v == 0);
    len = sizeof(sid);
    errno = 0;
    CHECK(getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) == -1 && errno == ENOPROTOOPT);
    errno = 0;
    CHECK(get_int(fd, IPPROTO_TCP, TCP_CRYPT_ROLE, &v) == -1 && errno == ENOPROTOOPT);
    errno = 0;
    CHECK(set_int(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, 1) == -1 && errno == ENOPROTOOPT);
    errno = 0;
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_CRYPT_CACHE_FLUSH, 1), 0); /* flushes everything */
    errno = 0;
    CHECK(setsockopt(fd, IPPROTO_TCP, TCP_CRYPT_ENABLE, &two, 2) == -1 && errno == EINVAL);
    CHECK_INT(connect(fd, SA(a), sizeof(a)), 0);
    n = read_n(fd, line, 8);
    line[n > 0 ? n : 0] = '\0';
    /* TC_CTL_O_DISABLE | TC_CTL_O_ROLE_B | TC_CTL_O_MANDATORY reached the daemon */
    CHECK(n == 8 && strcmp(line, "opts=19\n") == 0);
    CHECK_INT(TC_CTL_O_DISABLE | TC_CTL_O_ROLE_B | TC_CTL_O_MANDATORY, 19);
    close(fd);

    /* TCP_CRYPT_MANDATORY: where only plain TCP is possible, refused */
    {
        struct sockaddr_in lo = sin4("127.0.0.1", 9);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_CRYPT_MANDATORY, 1), 0);
        errno = 0;
        CHECK(connect(fd, SA(lo), sizeof(lo)) == -1 && errno == ECONNREFUSED);
        if (kaddr != NULL) {
            struct sockaddr_in k = sin4(kaddr, 9); /* the daemon answers PASS */
            errno = 0;
            CHECK(connect(fd, SA(k), sizeof(k)) == -1 && errno == ECONNREFUSED);
        }
        close(fd);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        lo.sin_port = 0;
        CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_CRYPT_MANDATORY, 1), 0);
        CHECK_INT(bind(fd, SA(lo), sizeof(lo)), 0);
        errno = 0;
        CHECK(listen(fd, 1) == -1 && errno == EOPNOTSUPP);
        close(fd);
    }

    /* plain TCP fallback (the mock's port 15): no session ID */
    fd = connect_served(15);
    CHECK(fd >= 0);
    len = sizeof(sid);
    errno = 0;
    CHECK(getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) == -1 && errno == ENOPROTOOPT);
    errno = 0;
    CHECK(get_int(fd, IPPROTO_TCP, TCP_CRYPT_TEP, &v) == -1 && errno == ENOPROTOOPT);
    CHECK(echo_ok(fd, "plain"));
    close(fd);
}

static void test_ipv6(void)
{
    struct sockaddr_in6 a = sin6(SERVED6, 7), p;
    socklen_t len = sizeof(p);
    char ip[64];
    int fd, v;

    fd = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK_INT(connect(fd, SA(a), sizeof(a)), 0);
    CHECK(echo_ok(fd, "six"));
    CHECK_INT(getpeername(fd, SA(p), &len), 0);
    CHECK_INT(len, sizeof(struct sockaddr_in6));
    CHECK(strcmp(ip_of(SA(p), ip, sizeof(ip)), SERVED6) == 0 && ntohs(p.sin6_port) == 7);
    CHECK(get_int(fd, SOL_SOCKET, SO_DOMAIN, &v) == 0 && v == AF_INET6);
    close(fd);
}

static void check_accepted(int l, int flags, int want_port, int listen_port, bool v6)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    unsigned char sid[64], want[TCPCRYPT_SESSID_LEN];
    char ip[64], line[32], expect[32];
    int a, v;

    a = flags < 0 ? accept(l, SA(ss), &len) : accept4(l, SA(ss), &len, flags);
    CHECK(a >= 0);
    if (a < 0) {
        return;
    }
    CHECK_INT(len, v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    CHECK(strcmp(ip_of(SA(ss), ip, sizeof(ip)), v6 ? "2001:db8::200" : "198.51.100.200") == 0);
    CHECK_INT(port_of(SA(ss)), want_port);
    CHECK_INT((fcntl(a, F_GETFL) & O_NONBLOCK) != 0, flags > 0 && (flags & SOCK_NONBLOCK));
    CHECK_INT((fcntl(a, F_GETFD) & FD_CLOEXEC) != 0, flags > 0 && (flags & SOCK_CLOEXEC));
    len = sizeof(ss);
    CHECK(getpeername(a, SA(ss), &len) == 0 && port_of(SA(ss)) == want_port);
    len = sizeof(ss);
    CHECK(getsockname(a, SA(ss), &len) == 0 && port_of(SA(ss)) == listen_port);
    CHECK(strcmp(ip_of(SA(ss), ip, sizeof(ip)), v6 ? SERVED6 : SERVED4) == 0);
    len = sizeof(sid);
    CHECK(getsockopt(a, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) == 0 &&
          len == TCPCRYPT_SESSID_LEN);
    expected_sessid(listen_port, want);
    CHECK_MEM(sid, want, TCPCRYPT_SESSID_LEN);
    CHECK(get_int(a, IPPROTO_TCP, TCP_CRYPT_ROLE, &v) == 0 && v == 'B');
    snprintf(expect, sizeof(expect), "accepted %d\n", want_port - 40000);
    CHECK(read_n(a, line, strlen(expect)) == (ssize_t)strlen(expect) &&
          memcmp(line, expect, strlen(expect)) == 0);
    CHECK(echo_ok(a, "srv"));
    close(a);
}

static void test_accept(bool v6)
{
    struct sockaddr_storage ss;
    struct sockaddr_in6 any6 = sin6("::", 0);
    struct sockaddr_in any4 = sin4("0.0.0.0", 0);
    socklen_t len = sizeof(ss);
    int l, v, port, k, a;
    char buf[8], ip[64];

    l = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    CHECK_INT(set_int(l, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    CHECK_INT(v6 ? bind(l, SA(any6), sizeof(any6)) : bind(l, SA(any4), sizeof(any4)), 0);
    CHECK_INT(listen(l, 16), 0);
    CHECK_INT(getsockname(l, SA(ss), &len), 0);
    port = port_of(SA(ss));
    CHECK(port != 0);
    CHECK_INT(ss.ss_family, v6 ? AF_INET6 : AF_INET);
    CHECK(get_int(l, SOL_SOCKET, SO_ACCEPTCONN, &v) == 0 && v == 1);
    CHECK(get_int(l, IPPROTO_TCP, TCP_CRYPT_ENABLE, &v) == 0 && v == 1);
    /* On a listener: for the connections accepted from now on. */
    CHECK_INT(set_int(l, IPPROTO_TCP, TCP_CRYPT_ENABLE, 0), 0);
    CHECK(get_int(l, IPPROTO_TCP, TCP_CRYPT_ENABLE, &v) == 0 && v == 0);
    CHECK_INT(set_int(l, IPPROTO_TCP, TCP_CRYPT_ENABLE, 1), 0);
    CHECK(get_int(l, SOL_SOCKET, SO_TYPE, &v) == 0 && v == SOCK_STREAM);
    len = sizeof(ss);
    errno = 0;
    CHECK(getpeername(l, SA(ss), &len) == -1 && errno == ENOTCONN);

    check_accepted(l, -1, 40001, port, v6);
    check_accepted(l, SOCK_NONBLOCK | SOCK_CLOEXEC, 40002, port, v6);

    CHECK_INT(fcntl(l, F_SETFL, fcntl(l, F_GETFL) | O_NONBLOCK), 0);
    errno = 0;
    CHECK(accept(l, NULL, NULL) == -1 && errno == EAGAIN);

    /* a connection to the kernel listener (loopback: never the daemon's),
     * accepted by the daemon and handed over as is (TC_CTL_F_KERNEL) */
    k = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (v6) {
        struct sockaddr_in6 lo = sin6("::1", port);
        CHECK_INT(connect(k, SA(lo), sizeof(lo)), 0);
    } else {
        struct sockaddr_in lo = sin4("127.0.0.1", port);
        CHECK_INT(connect(k, SA(lo), sizeof(lo)), 0);
    }
    CHECK(wait_for(l, POLLIN, 3000));
    len = sizeof(ss);
    a = accept4(l, SA(ss), &len, SOCK_CLOEXEC);
    CHECK(a >= 0);
    CHECK(strcmp(ip_of(SA(ss), ip, sizeof(ip)), v6 ? "::1" : "127.0.0.1") == 0);
    len = sizeof(ss);
    CHECK(getpeername(a, SA(ss), &len) == 0 &&
          strcmp(ip_of(SA(ss), ip, sizeof(ip)), v6 ? "::1" : "127.0.0.1") == 0);
    len = sizeof(buf);
    errno = 0;
    CHECK(getsockopt(a, IPPROTO_TCP, TCP_CRYPT_SESSID, buf, &len) == -1 && errno == ENOPROTOOPT);
    CHECK((fcntl(a, F_GETFL) & O_NONBLOCK) == 0);
    CHECK(write(k, "kern", 4) == 4 && read_n(a, buf, 4) == 4 && memcmp(buf, "kern", 4) == 0);
    close(a);
    close(k);
    close(l);
}

/* A server bound to the daemon's own address (which the kernel does not
 * have): bind() succeeds for that address only, and the listener is the
 * daemon's. */
static void test_bind_daemon_addr(void)
{
    struct sockaddr_in mine = sin4(SERVED4, 0), other = sin4("198.51.100.77", 0), ss;
    socklen_t len = sizeof(ss);
    int l, l2, a;

    l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_INT(bind(l, SA(mine), sizeof(mine)), 0);
    CHECK_INT(listen(l, 4), 0);
    CHECK(getsockname(l, SA(ss), &len) == 0 && ss.sin_addr.s_addr == mine.sin_addr.s_addr &&
          ss.sin_port != 0);
    a = accept(l, NULL, NULL);
    CHECK(a >= 0);
    close(a);
    close(l);
    l2 = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    CHECK(bind(l2, SA(other), sizeof(other)) == -1 && errno == EADDRNOTAVAIL);
    close(l2);
}

static int kernel_listener(int *port)
{
    struct sockaddr_in a = sin4(kaddr, 0);
    socklen_t len = sizeof(a);
    int l = socket(AF_INET, SOCK_STREAM, 0);

    if (l < 0 || set_int(l, SOL_SOCKET, SO_REUSEADDR, 1) < 0 || bind(l, SA(a), sizeof(a)) < 0 ||
        listen(l, 8) < 0 || getsockname(l, SA(a), &len) < 0) {
        fprintf(stderr, "kernel listener on %s: %s\n", kaddr, strerror(errno));
        return -1;
    }
    *port = ntohs(a.sin_port);
    return l;
}

/* Destinations the daemon answers PASS for: the kernel's socket, untouched. */
static void test_pass(void)
{
    struct sockaddr_in a;
    unsigned char sid[64];
    socklen_t len;
    int l, c, s, port, v;
    char buf[4];

    if (kaddr == NULL) {
        printf("client_test: skip: PASS to a kernel listener (no TC_TEST_KADDR)\n");
        return;
    }
    l = kernel_listener(&port);
    CHECK(l >= 0);
    if (l < 0) {
        return;
    }
    len = sizeof(sid);
    errno = 0;
    CHECK(getsockopt(l, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) == -1 && errno == ENOPROTOOPT);
    a = sin4(kaddr, port);
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_INT(connect(c, SA(a), sizeof(a)), 0);
    s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    CHECK(write(c, "k1", 2) == 2 && read_n(s, buf, 2) == 2 && memcmp(buf, "k1", 2) == 0);
    len = sizeof(sid);
    errno = 0;
    CHECK(getsockopt(c, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) == -1 && errno == ENOPROTOOPT);
    errno = 0;
    CHECK(get_int(c, IPPROTO_TCP, TCP_CRYPT_ENABLE, &v) == -1 && errno == ENOPROTOOPT);
    CHECK(get_int(c, IPPROTO_TCP, TCP_NODELAY, &v) == 0 && v == 0); /* the kernel's answer */
    close(s);
    close(c);

    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    v = connect(c, SA(a), sizeof(a));
    CHECK(v == 0 || errno == EINPROGRESS);
    CHECK(wait_for(c, POLLOUT, 3000));
    CHECK(get_int(c, SOL_SOCKET, SO_ERROR, &v) == 0 && v == 0);
    s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    close(s);
    close(c);
    close(l);
}

static void test_loopback(void)
{
    struct sockaddr_in a = sin4("127.0.0.1", 0);
    socklen_t len = sizeof(a);
    int l, c, s;
    char buf[2];

    /* loopback listeners and destinations never reach the daemon (the mock
     * would answer EPERM and log them) */
    l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(bind(l, SA(a), sizeof(a)) == 0 && listen(l, 4) == 0 && getsockname(l, SA(a), &len) == 0);
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_INT(connect(c, SA(a), sizeof(a)), 0);
    s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    CHECK(write(c, "lo", 2) == 2 && read_n(s, buf, 2) == 2);
    close(s);
    close(c);
    close(l);
}

static void test_dup(void)
{
    struct sockaddr_in p;
    unsigned char sid[64];
    socklen_t len;
    int fd, d, d2, u;

    fd = connect_served(7);
    CHECK(fd >= 0);
    d = dup(fd);
    d2 = fcntl(fd, F_DUPFD_CLOEXEC, 100);
    CHECK(d >= 0 && d2 >= 100);
    CHECK((fcntl(d2, F_GETFD) & FD_CLOEXEC) != 0);
    len = sizeof(p);
    CHECK(getpeername(d, SA(p), &len) == 0 && ntohs(p.sin_port) == 7);
    len = sizeof(sid);
    CHECK(getsockopt(d2, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) == 0);
    CHECK_INT(close(fd), 0);
    CHECK(echo_ok(d, "dup"));
    /* dup2 over a tracked fd replaces what is known about it */
    u = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_INT(dup2(u, d2), d2);
    len = sizeof(sid);
    errno = 0;
    CHECK(getsockopt(d2, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) == -1 && errno == ENOPROTOOPT);
    len = sizeof(p);
    errno = 0;
    CHECK(getpeername(d2, SA(p), &len) == -1 && errno == ENOTCONN);
    close(u);
    close(d2);
    close(d);
}

static void test_fork(void)
{
    int fd = connect_served(7), status = -1;
    pid_t pid;

    CHECK(fd >= 0);
    pid = fork();
    if (pid == 0) {
        struct sockaddr_in p;
        socklen_t len = sizeof(p);
        bool ok =
            echo_ok(fd, "child") && getpeername(fd, SA(p), &len) == 0 && ntohs(p.sin_port) == 7;
        _exit(ok ? 0 : 1);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(echo_ok(fd, "parent"));
    close(fd);
}

static void test_untouched(void)
{
    struct sockaddr_in a = sin4("127.0.0.1", 0), from, served = sin4(SERVED4, 5353);
    socklen_t len = sizeof(a), flen = sizeof(from);
    int u1, u2, u3, sp[2], v, rc;
    char buf[8];

    /* UDP */
    u1 = socket(AF_INET, SOCK_DGRAM, 0);
    u2 = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(bind(u1, SA(a), sizeof(a)) == 0 && getsockname(u1, SA(a), &len) == 0);
    CHECK(sendto(u2, "udp", 3, 0, SA(a), sizeof(a)) == 3);
    CHECK(recvfrom(u1, buf, sizeof(buf), 0, SA(from), &flen) == 3 && memcmp(buf, "udp", 3) == 0);
    CHECK(get_int(u1, SOL_SOCKET, SO_TYPE, &v) == 0 && v == SOCK_DGRAM);
    /* a UDP "connect" to a served address is the kernel's business (the
     * mock would log a CONNECT to port 5353) */
    u3 = socket(AF_INET, SOCK_DGRAM, 0);
    rc = connect(u3, SA(served), sizeof(served));
    CHECK(rc == 0 || errno == ENETUNREACH);
    close(u1);
    close(u2);
    close(u3);

    /* AF_UNIX */
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    CHECK(write(sp[0], "ux", 2) == 2 && read(sp[1], buf, 2) == 2);
    errno = 0;
    CHECK(set_int(sp[0], IPPROTO_TCP, TCP_NODELAY, 1) == -1 && errno == EOPNOTSUPP);
    {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        CHECK(getsockname(sp[0], SA(ss), &sl) == 0 && ss.ss_family == AF_UNIX);
    }
    CHECK(get_int(sp[0], SOL_SOCKET, SO_TYPE, &v) == 0 && v == SOCK_STREAM);
    CHECK(get_int(sp[0], SOL_SOCKET, SO_DOMAIN, &v) == 0 && v == AF_UNIX);
    close(sp[0]);
    CHECK_INT(read(sp[1], buf, sizeof(buf)), 0); /* EOF stays EOF */
    CHECK_INT(read(sp[1], buf, sizeof(buf)), 0);
    close(sp[1]);

    /* a pipe at EOF */
    CHECK_INT(pipe(sp), 0);
    close(sp[1]);
    CHECK_INT(read(sp[0], buf, sizeof(buf)), 0);
    close(sp[0]);
}

/* Threads connecting, echoing and closing at once: each fd's entry is its
 * own, whatever the others do (and a thread churning UDP sockets). */
#define THREADS 4
#define ROUNDS 5

static void *thread_conns(void *arg)
{
    int id = (int)(intptr_t)arg, bad = 0;
    char msg[32];

    for (int i = 0; i < ROUNDS; i++) {
        struct sockaddr_in p;
        socklen_t len = sizeof(p);
        int fd = connect_served(15), v;

        snprintf(msg, sizeof(msg), "t%d-%d", id, i);
        if (fd < 0 || !echo_ok(fd, msg) || getpeername(fd, SA(p), &len) != 0 ||
            ntohs(p.sin_port) != 15 || get_int(fd, SOL_SOCKET, SO_TYPE, &v) != 0 ||
            v != SOCK_STREAM) {
            bad++;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    return (void *)(intptr_t)bad;
}

static void *thread_churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        int u = socket(AF_INET, SOCK_DGRAM, 0), d = dup(u);
        close(u);
        close(d);
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[THREADS + 1];
    void *bad;

    for (int i = 0; i < THREADS; i++) {
        CHECK_INT(pthread_create(&t[i], NULL, thread_conns, (void *)(intptr_t)i), 0);
    }
    CHECK_INT(pthread_create(&t[THREADS], NULL, thread_churn, NULL), 0);
    for (int i = 0; i <= THREADS; i++) {
        bad = (void *)1;
        CHECK_INT(pthread_join(t[i], &bad), 0);
        CHECK_INT((intptr_t)bad, 0);
    }
}

/* A vfork() child runs in its parent's memory: its close() before exec must
 * not make the parent forget its listener or its unconnected socket. */
static void test_vfork(void)
{
    struct sockaddr_in any = sin4("0.0.0.0", 0), a7 = sin4(SERVED4, 7);
    int l, fd, a, status = -1;
    pid_t pid;

    l = socket(AF_INET, SOCK_STREAM, 0);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(bind(l, SA(any), sizeof(any)) == 0 && listen(l, 4) == 0);
    pid = vfork();
    if (pid == 0) {
        close(l);
        close(fd);
        _exit(0);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    a = accept(l, NULL, NULL);
    CHECK(a >= 0);
    close(a);
    CHECK_INT(connect(fd, SA(a7), sizeof(a7)), 0);
    CHECK(echo_ok(fd, "vfork"));
    close(fd);
    close(l);
}

/* An aborted connection inherited across exec: the table starts empty, the
 * library learns it from the daemon. */
static void test_exec_adopt(const char *self)
{
    int fd = connect_served(11), status = -1;
    char arg[16];
    pid_t pid;

    CHECK(fd >= 0);
    if (fd < 0) {
        return;
    }
    snprintf(arg, sizeof(arg), "%d", fd);
    pid = fork();
    if (pid == 0) {
        execl(self, self, "adopt", arg, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(fd);
}

static int run_adopt(int fd)
{
    struct sockaddr_in p;
    socklen_t len = sizeof(p);
    char buf[8];
    int v;

    /* the first call the library sees is refused by the kernel (an AF_UNIX
     * socket has no TCP level): the library asks the daemon and adopts it */
    CHECK_INT(set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1), 0);
    CHECK(get_int(fd, IPPROTO_TCP, TCP_NODELAY, &v) == 0 && v == 1);
    CHECK(getpeername(fd, SA(p), &len) == 0 && ntohs(p.sin_port) == 11 &&
          len == sizeof(struct sockaddr_in));
    CHECK(get_int(fd, SOL_SOCKET, SO_TYPE, &v) == 0 && v == SOCK_STREAM);
    CHECK(read_n(fd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0);
    errno = 0;
    CHECK(read(fd, buf, sizeof(buf)) == -1 && errno == EBADMSG);
    return tc_check_exit("client_test adopt");
}

static int run_nodaemon(void)
{
    struct sockaddr_in a;
    unsigned char sid[64];
    socklen_t len = sizeof(sid);
    int l, c, s, port, v;
    char buf[4];

    if (kaddr == NULL) {
        printf("client_test nodaemon: skip (no TC_TEST_KADDR)\n");
        return 0;
    }
    l = kernel_listener(&port);
    CHECK(l >= 0);
    a = sin4(kaddr, port);
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_INT(connect(c, SA(a), sizeof(a)), 0);
    s = accept(l, NULL, NULL);
    CHECK(s >= 0 && write(c, "nd", 2) == 2 && read_n(s, buf, 2) == 2);
    errno = 0;
    CHECK(getsockopt(c, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) == -1 && errno == ENOPROTOOPT);
    close(s);
    close(c);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    v = connect(c, SA(a), sizeof(a));
    CHECK(v == 0 || errno == EINPROGRESS);
    CHECK(wait_for(c, POLLOUT, 3000) && get_int(c, SOL_SOCKET, SO_ERROR, &v) == 0 && v == 0);
    s = accept(l, NULL, NULL);
    CHECK(s >= 0);
    close(s);
    close(c);
    close(l);
    return tc_check_exit("client_test nodaemon");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "mock";
    const char *k = getenv("TC_TEST_KADDR");

    alarm(120); /* never hang a test run */
    signal(SIGPIPE, SIG_IGN);
    kaddr = k != NULL && k[0] != '\0' ? k : NULL;
    if (strcmp(mode, "adopt") == 0 && argc > 2) {
        return run_adopt(atoi(argv[2]));
    }
    if (strcmp(mode, "nodaemon") == 0) {
        return run_nodaemon();
    }
    if (strcmp(mode, "echo") == 0) {
        int fd = connect_served(7);
        CHECK(fd >= 0 && echo_ok(fd, "run"));
        return tc_check_exit("client_test echo");
    }
    test_blocking_echo();
    test_nonblocking_epoll();
    test_refused();
    test_abort_and_eof();
    test_options();
    test_ipv6();
    test_accept(false);
    test_accept(true);
    test_bind_daemon_addr();
    test_pass();
    test_loopback();
    test_dup();
    test_fork();
    test_vfork();
    test_threads();
    test_untouched();
    test_exec_adopt("/proc/self/exe");
    return tc_check_exit("client_test");
}
