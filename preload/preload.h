/*
 * libtcpcrypt_preload.so: internal interfaces.
 *
 * The library lives inside someone else's process (STYLE.md, principle 9):
 * it exports only the interposed libc functions (preload/exports.map), never
 * aborts, never prints unless TCPCRYPT_DEBUG=1 (except one warning when the
 * daemon cannot be reached), and passes through everything that is not a
 * TCP socket tcpcryptd serves.  Inside the library, interposed functions are
 * only ever called through the pl_real_* pointers, never by name.
 *
 * Every .c file of the library includes this header first.
 */
#ifndef TCPCRYPT_PRELOAD_PRELOAD_H
#define TCPCRYPT_PRELOAD_PRELOAD_H

/* Fortified glibc headers define read() and recv() as inline wrappers, which
 * would collide with our definitions; the library is never fortified. */
#undef _FORTIFY_SOURCE

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "stack/ctl_proto.h"

#define PL_EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------ real libc */

/* The next definition of each interposed function (dlsym(RTLD_NEXT)),
 * resolved on first use.  NULL only if libc lacks it. */
struct pl_real {
    int (*socket)(int, int, int);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*listen)(int, int);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*getpeername)(int, struct sockaddr *, socklen_t *);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    int (*close)(int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*fcntl)(int, int, ...);
    int (*fcntl64)(int, int, ...);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    ssize_t (*read_chk)(int, void *, size_t, size_t);
    ssize_t (*recv_chk)(int, void *, size_t, size_t, int);
    ssize_t (*recvfrom_chk)(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
    int (*epoll_ctl)(int, int, int, struct epoll_event *);
};

/* Resolves every pointer not yet resolved (idempotent, thread-safe: racing
 * callers store the same values). */
void pl_real_resolve(void);
extern struct pl_real pl_real_fns;

/* PL_REAL(name) is the real function, resolved if needed. */
#define PL_REAL(name)                                                        \
    (__atomic_load_n(&pl_real_fns.name, __ATOMIC_ACQUIRE) ? pl_real_fns.name \
                                                          : (pl_real_resolve(), pl_real_fns.name))

/* fcntl without our interposition: F_GETFL/F_SETFL/F_GETFD helpers. */
int pl_fcntl_int(int fd, int cmd, int arg);

/* ------------------------------------------------------------ fd table */

enum pl_kind {
    PL_NONE = 0, /* nothing known: pass through (may be adopted, see pl_adopt) */
    PL_TCP,      /* our socket() AF_INET/AF_INET6 SOCK_STREAM, before connect/listen */
    PL_PASS,     /* a kernel TCP socket in use by the kernel (PASS, loopback, no daemon) */
    PL_CONN,     /* the app end of one of the daemon's connections (AF_UNIX stream) */
    PL_LISTEN,   /* the app end of one of the daemon's listeners (AF_UNIX seqpacket) */
    PL_FOREIGN,  /* checked: a socket that is not the daemon's (see pl_adopt) */
};

enum pl_cstate {
    PL_C_CONNECTING = 0, /* connect() returned EINPROGRESS (or was interrupted) */
    PL_C_ESTABLISHED,    /* known established (or accepted) */
    PL_C_FAILED,         /* the daemon reported the connection failed */
};

#define PL_B_NODELAY 0x01 /* TCP_NODELAY as the application last set it */
#define PL_B_CORK 0x02    /* TCP_CORK likewise */
#define PL_B_EOF 0x04     /* end of stream seen: eof_err is the answer for good */
#define PL_B_NAGLE 0x08   /* the daemon's connection has Nagle on (TCP_NODELAY 0 forwarded) */

#define PL_EP_MAX 4 /* epoll sets remembered per fd (see pl_fd_epoll_*) */

struct pl_ep {
    int epfd;
    uint32_t events;
    uint64_t data;
};

/* A remembered address: sockaddr_in or sockaddr_in6, len 0 when unknown. */
struct pl_addr {
    socklen_t len;
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } u;
};

struct pl_sock {
    uint8_t kind;      /* enum pl_kind */
    uint8_t cstate;    /* enum pl_cstate, PL_CONN only */
    uint8_t bits;      /* PL_B_* */
    uint8_t nep;       /* entries of ep in use */
    int32_t domain;    /* AF_INET or AF_INET6: what socket() was asked for */
    struct tc_ctl_sockopts opts; /* TCP_CRYPT_* options set before connect/listen */
    int32_t eof_err;   /* with PL_B_EOF: what every read at end of stream returns */
    uint64_t dev, ino; /* fstat of the file the fd referred to when recorded */
    struct pl_addr local, remote;
    struct pl_ep ep[PL_EP_MAX];
};

/* Copy of fd's entry into *s: true if fd has one (kind != PL_NONE). */
bool pl_fd_get(int fd, struct pl_sock *s);
/* Like pl_fd_get, and the fd still refers to the file recorded (the entry
 * is dropped when it does not: closed behind our back, e.g. by fclose). */
bool pl_fd_lookup(int fd, struct pl_sock *s);
/* Store s as fd's entry (s->kind == PL_NONE clears it).  False when fd is
 * beyond the table (the fd is then simply not tracked). */
bool pl_fd_put(int fd, const struct pl_sock *s);
/* Forget fd (no-op in a vfork child: see pl_fd_borrowed_memory). */
void pl_fd_clear(int fd);
/* Record this process as the table's owner; re-recorded in fork children. */
void pl_fd_table_init(void);
/* True in a vfork() child, which runs in its parent's memory. */
bool pl_fd_borrowed_memory(void);
/* Fill s->dev/ino from fstat(fd): false if fstat fails. */
bool pl_fd_stat(int fd, struct pl_sock *s);
/* A fresh entry of the given kind (no epoll sets, unknown addresses). */
void pl_sock_init(struct pl_sock *s, enum pl_kind kind, int domain);

/* epoll bookkeeping for fds that connect()/listen() may replace. */
void pl_fd_epoll_note(int fd, int epfd, int op, const struct epoll_event *ev);
/* Before replacing fd's file: remove it from every epoll set remembered. */
void pl_fd_epoll_detach(int fd, const struct pl_sock *s);
/* After replacing: add the new file to each of them again, same events and data. */
void pl_fd_epoll_attach(int fd, const struct pl_sock *s);

/* ------------------------------------------------------------ control client */

enum pl_ctl_result {
    PL_CTL_OK = 0,    /* a well-formed reply of the expected op */
    PL_CTL_NO_DAEMON, /* nobody accepts at the control path */
    PL_CTL_BROKEN,    /* the daemon accepted, but the exchange failed */
};

struct pl_ctl_reply {
    union {
        struct tc_ctl_hdr h;
        struct tc_ctl_r_connect connect;
        struct tc_ctl_r_listen listen;
        struct tc_ctl_r_status status;
        struct tc_ctl_opt opt;
        struct tc_ctl_r_hello hello;
        uint8_t raw[1024];
    } u;
    size_t len; /* bytes received */
    int fd;     /* the descriptor that came with it (SCM_RIGHTS, close-on-exec), or -1 */
};

/*
 * One request, one reply, on a fresh control connection (ctl_proto.h):
 * send req (reqlen bytes) with send_fd attached when >= 0, receive the reply,
 * check it is want_op and at least minlen bytes.  Bounded in time.
 */
enum pl_ctl_result pl_ctl_call(const void *req, size_t reqlen, int send_fd, uint16_t want_op,
                               size_t minlen, struct pl_ctl_reply *reply);
/* The control path (from $TCPCRYPT_SOCKET at load time, or the default). */
const char *pl_ctl_path(void);
/* The one warning line, printed at most once per process. */
void pl_warn_unreachable(void);

/* TC_CTL_STATUS for fd.  PL_CTL_OK with st->h.err == 0 when the daemon knows
 * it; st->h.err == ENOENT when it does not. */
enum pl_ctl_result pl_ctl_status(int fd, bool clear_error, struct tc_ctl_r_status *st);

/* Tell the daemon the application's TCP_NODELAY (TC_CTL_SETOPT; lwIP's
 * Nagle is the daemon's).  Best effort: failures are ignored. */
void pl_forward_nodelay(int fd, int on);
/* Keepalive and linger set on the kernel socket before connect(): read
 * before the daemon's fd replaces it, then passed to the daemon. */
struct pl_kopts {
    int keepalive, idle, intvl, cnt;
    struct linger linger;
};
void pl_kernel_opts_read(int fd, struct pl_kopts *k);
void pl_kernel_opts_forward(int fd, const struct pl_kopts *k);

/* ------------------------------------------------------------ fds (fdops.c) */

/*
 * Put newfd's file under fd: same number, fd's O_NONBLOCK and FD_CLOEXEC,
 * its socket timeouts and its epoll registrations (s->ep).  *sndtimeo gets
 * fd's SO_SNDTIMEO.  newfd stays open (the caller closes it).
 */
int pl_install(int fd, int newfd, const struct pl_sock *s, struct timeval *sndtimeo);
/* From now on the kernel's socket, untouched: an entry of kind PL_PASS. */
void pl_mark_pass(int fd, struct pl_sock *s);
/* An errno value from the daemon, kept plausible (EIO otherwise). */
int pl_ctl_errno(int32_t e);
/* close() that keeps errno (for error paths). */
void pl_close_quietly(int fd);

/* ------------------------------------------------------------ misc */

bool pl_debug_on(void);
void pl_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pl_init(void);

/* Addresses the daemon is never asked about: loopback and the unspecified
 * address (which Linux connects to the local host). */
bool pl_addr_is_local(const struct sockaddr *sa, socklen_t len);
/* Loopback only (127/8, ::1, ::ffff:127/104): listeners the daemon never serves. */
bool pl_addr_is_loopback(const struct sockaddr *sa, socklen_t len);
/* Copy a sockaddr_in/in6 into a pl_addr (false for other families or bad lengths). */
bool pl_addr_set(struct pl_addr *a, const struct sockaddr *sa, socklen_t len);
void pl_addr_from_ctl(struct pl_addr *a, const struct tc_ctl_addr *c);
/* An IPv4 address as an AF_INET6 socket shows it (::ffff:a.b.c.d); others unchanged. */
void pl_addr_v4mapped(struct pl_addr *a);
void pl_addr_to_ctl(struct tc_ctl_addr *c, const struct pl_addr *a);
/* getsockname()-style copy out: truncates to *len and sets *len to the full size.
 * An unknown address comes out as the unspecified address of domain, port 0. */
void pl_addr_copy_out(const struct pl_addr *a, int domain, struct sockaddr *sa, socklen_t *len);
/* Adopt fd if it is an AF_UNIX stream socket the daemon knows (a connection
 * inherited across exec or passed with SCM_RIGHTS): true and *s filled when it
 * is one of the daemon's connections; otherwise it is remembered as
 * PL_FOREIGN and false is returned. */
bool pl_adopt(int fd, struct pl_sock *s);
/* The daemon's status as a PL_CONN entry update. */
void pl_sock_apply_status(struct pl_sock *s, const struct tc_ctl_r_status *st);

/* Fortified entry points: declared by glibc only when fortifying. */
ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                       struct sockaddr *from, socklen_t *fromlen);

#endif
