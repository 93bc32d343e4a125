/*
 * Listeners (stack/ctl_proto.h, "Listeners"): one lwIP listening pcb and the
 * application's own kernel listener, both delivering into one SOCK_SEQPACKET
 * socketpair whose other end the application holds in place of its
 * listening fd.  Each accepted connection is one TC_CTL_ACCEPTED message
 * carrying its fd, so processes sharing the listener share its queue.
 *
 * A connection lwIP accepted is handed over once it is ready (established
 * and, when encrypted, its tcpcrypt session open); until then it counts
 * against the application's backlog, and beyond it against lwIP's
 * (tcp_backlog_delayed), so a full queue makes lwIP drop new SYNs as a kernel
 * listener does.
 */
#include "stack/conn_priv.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lwip/tcp.h"
#include "stack/fdmsg.h"
#include "stack/log.h"
#include "stack/netif.h"

#define BACKLOG_MIN 16
#define BACKLOG_MAX 4096
#define LISTEN_SYN_BACKLOG 255

/* One connection waiting to be handed over. */
struct pending {
    int fd;               /* what the message carries */
    struct tc_conn *conn; /* NULL for a kernel connection */
    struct tc_ctl_accepted msg;
};

/*
 * SO_REUSEPORT ("listen ... reuseport" in nginx: one listening socket per
 * worker on the same address and port): lwIP allows one listening pcb per
 * address and port, so the listeners of such a group share it, and each new
 * connection goes to the next member in turn that has room in its backlog,
 * as the kernel spreads a group's connections.  The TCP-ENO options in the
 * SYN-ACK are the first member's.
 */
struct tc_lgroup {
    struct tcp_pcb *lpcb;
    struct tc_listener *members; /* linked by gnext */
    struct tc_listener *turn;    /* the next to get a connection */
};

struct tc_listener {
    struct tc_watch w;  /* the daemon end of the SEQPACKET pair */
    struct tc_watch kw; /* the application's kernel listener */
    int fd, kfd;
    struct tc_lgroup *g;
    struct tc_listener *gnext;
    ip_addr_t ip; /* as bound (any for a wildcard) */
    u8_t type;    /* IPADDR_TYPE_* of the lwIP pcb */
    bool mandatory;
    bool v6_sock;
    struct tc_ctl_sockopts sopts; /* effective TCP_CRYPT_* options */
    struct tc_eno_opts opts;
    ino_t ino; /* the application end's */
    uint16_t port;
    size_t backlog;
    struct pending *q;
    size_t qlen, qcap;
    struct tc_listener *prev, *next;
    bool closed;
};

static struct tc_listener *listeners;

static void listener_close(struct tc_listener *l);

/* ------------------------------------------------------------ the queue */

static bool enqueue(struct tc_listener *l, const struct pending *p)
{
    if (l->qlen == l->qcap) {
        size_t cap = l->qcap ? 2 * l->qcap : 16;
        struct pending *q = realloc(l->q, cap * sizeof(*q));

        if (q == NULL) {
            return false;
        }
        l->q = q;
        l->qcap = cap;
    }
    l->q[l->qlen++] = *p;
    return true;
}

static void dequeue(struct tc_listener *l, size_t i)
{
    memmove(&l->q[i], &l->q[i + 1], (l->qlen - i - 1) * sizeof(*l->q));
    l->qlen--;
}

static size_t kernel_pending(const struct tc_listener *l)
{
    size_t n = 0;

    for (size_t i = 0; i < l->qlen; i++) {
        n += l->q[i].conn == NULL;
    }
    return n;
}

/* Send one accepted message with its fd: 1 sent, 0 the application's
 * queue is full, -1 the application end is gone. */
static int send_accepted(struct tc_listener *l, const struct tc_ctl_accepted *m, int fd)
{
    if (tc_send_with_fd(l->fd, m, sizeof(*m), fd, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
        return 1;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ? 0 : -1;
}

/* Hand over every connection that is ready; drop failed ones. */
static void flush(struct tc_listener *l)
{
    bool blocked = false;

    for (size_t i = 0; i < l->qlen && !l->closed;) {
        struct pending *p = &l->q[i];
        struct tc_conn *c = p->conn;
        int r;

        if (c != NULL && tc_conn_failed(c)) {
            close(p->fd);
            dequeue(l, i);
            tc_conn_dequeued(c, false);
            continue;
        }
        if ((c != NULL && !tc_conn_ready(c)) || blocked) {
            i++;
            continue;
        }
        if (c != NULL) {
            tc_conn_accepted_msg(c, &p->msg);
        }
        r = send_accepted(l, &p->msg, p->fd);
        if (r < 0) {
            listener_close(l);
            return;
        }
        if (r == 0) {
            blocked = true;
            i++;
            continue;
        }
        close(p->fd);
        dequeue(l, i);
        if (c != NULL) {
            tc_conn_dequeued(c, true);
        }
    }
    if (!l->closed) {
        /* Stop taking kernel connections while the application lags: the
         * kernel's own backlog holds them meanwhile. */
        tc_loop_set(&l->w, blocked ? EPOLLOUT : 0);
        tc_loop_set(&l->kw, kernel_pending(l) < l->backlog ? EPOLLIN : 0);
    }
}

void tc_listener_kick(struct tc_listener *l)
{
    if (l != NULL && !l->closed) {
        flush(l);
    }
}

/* ------------------------------------------------------------ events */

static void free_listener(void *obj)
{
    struct tc_listener *l = obj;

    free(l->q);
    free(l);
}

static void listener_close(struct tc_listener *l)
{
    if (l->closed) {
        return;
    }
    l->closed = true;
    if (l->g != NULL) {
        struct tc_lgroup *g = l->g;

        for (struct tc_listener **p = &g->members; *p != NULL; p = &(*p)->gnext) {
            if (*p == l) {
                *p = l->gnext;
                break;
            }
        }
        if (g->turn == l) {
            g->turn = g->members;
        }
        l->g = NULL;
        if (g->members == NULL) {
            tcp_arg(g->lpcb, NULL);
            tcp_accept(g->lpcb, NULL);
            (void)tcp_close(g->lpcb); /* a LISTEN pcb: frees it, never fails */
            free(g);
        } else if (tc_conn_eno_enabled()) {
            tc_eno_lwip_set_opts(g->lpcb, &g->members->opts);
        }
    }
    tc_loop_del(&l->kw);
    if (l->kfd >= 0) {
        close(l->kfd);
        l->kfd = -1;
    }
    tc_loop_del(&l->w);
    if (l->fd >= 0) {
        close(l->fd);
        l->fd = -1;
    }
    /* Connections never accepted are reset, as the kernel does when a
     * listener closes with a non-empty queue. */
    while (l->qlen > 0) {
        struct pending p = l->q[--l->qlen];

        close(p.fd);
        if (p.conn != NULL) {
            tc_conn_dequeued(p.conn, false);
        }
    }
    if (l->prev != NULL) {
        l->prev->next = l->next;
    } else {
        listeners = l->next;
    }
    if (l->next != NULL) {
        l->next->prev = l->prev;
    }
    tc_stats.listeners--;
    tc_debug("listener on port %u closed", l->port);
    tc_loop_defer_free(l, free_listener);
}

static void on_app(struct tc_watch *w, uint32_t events)
{
    struct tc_listener *l = (struct tc_listener *)((char *)w - offsetof(struct tc_listener, w));

    if (events & (EPOLLHUP | EPOLLERR)) {
        /* Every application copy of the listener is closed. */
        listener_close(l);
        return;
    }
    if (events & EPOLLIN) {
        char sink[TC_CTL_MSG_MAX];

        /* The application never writes here: discard (and close any fd). */
        while (recv(l->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0) {
        }
    }
    flush(l);
}

static void on_kernel(struct tc_watch *w, uint32_t events)
{
    struct tc_listener *l = (struct tc_listener *)((char *)w - offsetof(struct tc_listener, kw));

    (void)events;
    while (!l->closed && kernel_pending(l) < l->backlog) {
        struct pending p;
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        struct pollfd pfd = {.fd = l->kfd, .events = POLLIN};
        int fd;

        /* The kernel listener's file is the application's: its O_NONBLOCK
         * is not ours to change (the preload library copies the flags it
         * finds to the listener it installs).  Accept only what poll says
         * is there; after listen() was replaced, the daemon holds the only
         * copy, so nobody takes a connection in between. */
        if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN)) {
            break;
        }
        fd = accept4(l->kfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                tc_error("listener on port %u: accept: %s", l->port, strerror(errno));
                /* EMFILE and the like: try again on the next tick rather
                 * than spin on a readable listener. */
                tc_loop_set(&l->kw, 0);
            }
            break;
        }
        memset(&p, 0, sizeof(p));
        p.fd = fd;
        p.msg.h.op = TC_CTL_ACCEPTED;
        p.msg.h.len = sizeof(p.msg);
        p.msg.flags = TC_CTL_F_KERNEL;
        p.msg.remote.len = len <= sizeof(ss) ? len : sizeof(ss);
        memcpy(&p.msg.remote.ss, &ss, p.msg.remote.len);
        len = sizeof(ss);
        if (getsockname(fd, (struct sockaddr *)&p.msg.local.ss, &len) == 0) {
            p.msg.local.len = len;
        }
        if (!enqueue(l, &p)) {
            close(fd);
            break;
        }
    }
    if (!l->closed) {
        flush(l);
    }
}

/* The member of g whose turn it is, skipping those with a full backlog
 * (unless all are full). */
static struct tc_listener *pick(struct tc_lgroup *g)
{
    struct tc_listener *start = g->turn != NULL ? g->turn : g->members, *l = start;

    if (start == NULL) {
        return NULL;
    }
    do {
        struct tc_listener *next = l->gnext != NULL ? l->gnext : g->members;

        if (l->qlen - kernel_pending(l) < l->backlog) {
            g->turn = next;
            return l;
        }
        l = next;
    } while (l != start);
    g->turn = start->gnext != NULL ? start->gnext : g->members;
    return start;
}

/*
 * An Init1 flood: peers that complete TCP and TCP-ENO and then send no Init1,
 * or never finish it, hold the listener's queue until the handshake timeout,
 * and beyond the application's backlog lwIP's slots too (tcp_backlog_delayed),
 * so real clients' SYNs would be dropped.  RFC 8548 sets no bound; when a new
 * connection finds the queue full, the oldest connection still in its
 * tcpcrypt handshake makes room (reset), as the oldest half-open one does for
 * a SYN (tc_lwip_set_syn_evict), once it has been at it for EVICT_AGE_MS: a
 * real host A sends Init1 right behind the ACK that completes TCP, so its
 * handshake takes a few milliseconds here whatever the round trip, and a
 * burst of real clients is held back rather than reset.  Younger ones go
 * too once half-open and held-back connections together take a quarter of
 * lwIP's slots (accepts_pending counts both), so that most of them stay
 * for SYNs: a real client's half-open connection then lives until some 190
 * newer SYNs came, not 60.  Connections ready for the application are
 * never evicted.
 */
#define EVICT_AGE_MS 200
#define DELAYED_MAX (LISTEN_SYN_BACKLOG / 4)

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void evict_handshake(struct tc_listener *l)
{
    const struct tcp_pcb_listen *lpcb =
        l->g != NULL ? (const struct tcp_pcb_listen *)(const void *)l->g->lpcb : NULL;
    bool crowded = lpcb != NULL && lpcb->accepts_pending >= DELAYED_MAX;

    for (size_t i = 0; i < l->qlen; i++) {
        struct tc_conn *c = l->q[i].conn;

        if (c != NULL && !tc_conn_ready(c) && !tc_conn_failed(c)) {
            /* The queue is in arrival order: this is the oldest. */
            if (crowded || now_ms() - c->up_ms >= EVICT_AGE_MS) {
                /* Removed from the queue at once (tc_listener_kick). */
                tc_conn_abort(c, ETIMEDOUT, "tcpcrypt handshake evicted (listener queue full)");
            }
            return;
        }
    }
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct tc_lgroup *g = arg;
    struct tc_listener *l = g != NULL ? pick(g) : NULL;
    struct pending p;
    struct tc_conn *c;
    bool aborted;

    if (l == NULL || l->closed || err != ERR_OK || pcb == NULL) {
        return ERR_VAL; /* lwIP aborts the pcb */
    }
    if (l->qlen - kernel_pending(l) >= l->backlog) {
        evict_handshake(l);
        if (l->closed) {
            return ERR_VAL;
        }
    }
    c = tc_conn_accepted(pcb, l, &l->sopts, l->v6_sock, &p.fd, &aborted);
    if (c == NULL) {
        return aborted ? ERR_ABRT : ERR_MEM;
    }
    /* The application's backlog (up to BACKLOG_MAX, as the kernel's
     * somaxconn) bounds the connections waiting here; lwIP's own backlog
     * counts in a u8_t (at most 255) and is left to bound the half-open
     * SYN_RCVD pcbs.  Holding lwIP's slot for every queued connection capped
     * a listener at 255 connections in flight: with more concurrent clients
     * lwIP dropped their SYNs silently and they came back only after SYN
     * retransmission timeouts (1, 3, 7 s...).  Beyond the application's
     * backlog, queued connections hold lwIP's slot again, so a full queue
     * still makes lwIP drop new SYNs as a kernel listener does. */
    if (!aborted && l->qlen - kernel_pending(l) >= l->backlog) {
        tcp_backlog_delayed(pcb);
    }
    p.conn = c;
    memset(&p.msg, 0, sizeof(p.msg));
    if (!enqueue(l, &p)) {
        close(p.fd);
        tc_conn_dequeued(c, false);
        return ERR_ABRT;
    }
    flush(l);
    return aborted ? ERR_ABRT : ERR_OK;
}

/* ------------------------------------------------------------ LISTEN */

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* A listener record for one address and port, nothing open yet. */
static struct tc_listener *listener_new(const struct tc_ctl_listen *req, const ip_addr_t *ip,
                                        u8_t type, uint16_t port, bool v6_sock)
{
    struct tc_listener *l = calloc(1, sizeof(*l));

    if (l == NULL) {
        return NULL;
    }
    l->w.fd = l->kw.fd = l->fd = l->kfd = -1;
    ip_addr_copy(l->ip, *ip);
    l->type = type;
    l->port = port;
    l->v6_sock = v6_sock;
    l->backlog = (size_t)clamp(req->backlog, BACKLOG_MIN, BACKLOG_MAX);
    return l;
}

/* The TCP_CRYPT_* options in force: the application's over the daemon's
 * defaults.  EOPNOTSUPP: encryption mandatory on a never-encrypt port. */
static int listener_options(struct tc_listener *l, const struct tc_ctl_listen *req)
{
    bool ok = tc_conn_effective(&req->opts, l->port, &l->sopts);

    tc_conn_opts(&l->sopts, true, &l->opts, &l->mandatory);
    return ok ? 0 : EOPNOTSUPP;
}

/* The SEQPACKET pair (the application's end in *app) and the watches on
 * it and on the kernel listener kfd.  0, or an errno value with nothing
 * left open. */
static int listener_open(struct tc_listener *l, int kfd, int *app)
{
    ino_t ino;
    int e = tc_conn_make_pair(SOCK_SEQPACKET, app, &l->fd, &ino);

    l->ino = ino;
    if (e == 0 && (tc_loop_add(&l->w, l->fd, 0, on_app) != 0 ||
                   tc_loop_add(&l->kw, kfd, EPOLLIN, on_kernel) != 0)) {
        e = errno;
    }
    if (e != 0) {
        tc_loop_del(&l->w);
        tc_loop_del(&l->kw);
        if (*app >= 0) {
            close(*app);
            *app = -1;
        }
        if (l->fd >= 0) {
            close(l->fd);
            l->fd = -1;
        }
    }
    return e;
}

/* Open and served: keeps kfd, joins the list of listeners. */
static void listener_link(struct tc_listener *l, int kfd)
{
    l->kfd = kfd;
    l->next = listeners;
    if (listeners != NULL) {
        listeners->prev = l;
    }
    listeners = l;
    tc_stats.listeners++;
}

/* A new member of an SO_REUSEPORT group (see struct tc_lgroup). */
static int join(struct tc_lgroup *g, const struct tc_ctl_listen *req, int kfd,
                const struct tc_ctl_addr *kaddr, uint16_t port, bool v6_sock,
                struct tc_ctl_r_listen *rep, int *app_fd)
{
    struct tc_listener *first = g->members;
    struct tc_listener *l = listener_new(req, &first->ip, first->type, port, v6_sock);
    int app = -1, e;

    if (l == NULL) {
        return ENOMEM;
    }
    e = listener_options(l, req);
    if (e == 0) {
        e = listener_open(l, kfd, &app);
    }
    if (e != 0) {
        free(l);
        return e;
    }
    l->g = g;
    l->gnext = first->gnext;
    first->gnext = l;
    listener_link(l, kfd);
    rep->local = *kaddr;
    *app_fd = app;
    tc_debug("listening on port %u (SO_REUSEPORT, sharing)", port);
    return 0;
}

int tc_listen(const struct tc_ctl_listen *req, int kfd, struct tc_ctl_r_listen *rep, int *app_fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    struct tc_ctl_addr kaddr;
    struct tc_listener *l;
    struct tc_lgroup *g;
    struct tcp_pcb *pcb = NULL, *lpcb;
    ip_addr_t ip;
    uint16_t port;
    bool v6_sock, any;
    int v6only = 0, app = -1, e, type, listening = 0, proto = 0;
    socklen_t ol = sizeof(v6only), il = sizeof(listening), pl = sizeof(proto);
    err_t le;

    *app_fd = -1;
    if (kfd < 0 || getsockname(kfd, (struct sockaddr *)&ss, &sl) != 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
        getsockopt(kfd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &il) != 0 || listening != 1 ||
        getsockopt(kfd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl) != 0 || proto != IPPROTO_TCP) {
        /* Not a listening TCP socket. */
        return EINVAL;
    }
    /* The kernel socket is bound and listening: its address and port (the
     * kernel's choice when the application asked for port 0) are the truth. */
    memset(&kaddr, 0, sizeof(kaddr));
    kaddr.len = sl;
    memcpy(&kaddr.ss, &ss, sl);
    if (!tc_addr_from_ctl(&kaddr, &ip, &port, &v6_sock)) {
        return EINVAL;
    }
    any = ip_addr_isany(&ip) && !(IP_IS_V4(&ip) && v6_sock);
    if (v6_sock && ip_addr_isany(&ip)) {
        /* "::" (a v4-mapped 0.0.0.0 is not a wildcard) */
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

        any = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
    }
    if (!any && !tc_netif_is_own(&ip)) {
        return TC_CTL_PASS;
    }
    if (v6_sock) {
        (void)getsockopt(kfd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &ol);
    }
    /* An AF_INET6 wildcard listener takes IPv4 too unless IPV6_V6ONLY. */
    type = !v6_sock ? IPADDR_TYPE_V4 : (any && !v6only ? IPADDR_TYPE_ANY : IP_GET_TYPE(&ip));
    /* The kernel let this socket bind where one of ours already listens:
     * both set SO_REUSEPORT (the kernel checked it, and the user): join. */
    for (struct tc_listener *o = listeners; o != NULL; o = o->next) {
        if (!o->closed && o->g != NULL && o->port == port && o->type == type &&
            ip_addr_cmp(&o->ip, &ip)) {
            return join(o->g, req, kfd, &kaddr, port, v6_sock, rep, app_fd);
        }
    }
    pcb = tcp_new_ip_type((u8_t)type);
    if (pcb == NULL) {
        return ENOBUFS;
    }
    /* The kernel already let this application bind the port; SO_REUSEADDR
     * keeps lwIP from refusing it for connections in TIME_WAIT. */
    ip_set_option(pcb, SOF_REUSEADDR);
    if (!any) {
        le = tcp_bind(pcb, &ip, port);
    } else if (type == IPADDR_TYPE_ANY) {
        le = tcp_bind(pcb, IP_ANY_TYPE, port);
    } else {
        le = tcp_bind(pcb, type == IPADDR_TYPE_V6 ? IP6_ADDR_ANY : IP4_ADDR_ANY, port);
    }
    if (le != ERR_OK) {
        tcp_close(pcb);
        return le == ERR_USE ? EADDRINUSE : EINVAL;
    }
    /* lwIP's backlog bounds the half-open (SYN_RCVD) connections, and the
     * established ones beyond the application's backlog (see on_accept); it
     * counts in a u8_t.  Always the most, whatever the application's backlog:
     * the application's queue is bounded by l->backlog, and a small SYN queue
     * is what a SYN flood fills fastest (see tc_lwip_set_syn_evict). */
    lpcb = tcp_listen_with_backlog_and_err(pcb, LISTEN_SYN_BACKLOG, &le);
    if (lpcb == NULL) {
        tcp_close(pcb);
        /* ERR_USE: lwIP already listens on this address and port, for a
         * listener that is not ours (or a different address type): say so,
         * not "no buffer space". */
        return le == ERR_USE ? EADDRINUSE : ENOBUFS;
    }
    l = listener_new(req, &ip, (u8_t)type, port, v6_sock);
    g = calloc(1, sizeof(*g));
    if (l == NULL || g == NULL) {
        free(l);
        free(g);
        tcp_close(lpcb);
        return ENOMEM;
    }
    g->lpcb = lpcb;
    g->members = l;
    l->g = g;
    e = listener_options(l, req);
    if (e == 0 && tc_conn_eno_enabled() && tc_eno_lwip_attach(lpcb, &l->opts) != TC_OK) {
        e = ENOMEM;
    }
    if (e == 0) {
        e = listener_open(l, kfd, &app);
    }
    if (e != 0) {
        tcp_close(lpcb);
        free(g);
        free(l);
        return e;
    }
    tcp_arg(lpcb, g);
    tcp_accept(lpcb, on_accept);
    listener_link(l, kfd);
    rep->local = kaddr;
    *app_fd = app;
    tc_debug("listening on port %u%s", port, l->mandatory ? " (tcpcrypt mandatory)" : "");
    return 0;
}

int tc_listener_setopts(int fd, const struct tc_ctl_sockopts *app)
{
    struct stat st;

    if (fd < 0 || fstat(fd, &st) != 0) {
        return ENOENT;
    }
    for (struct tc_listener *l = listeners; l != NULL; l = l->next) {
        if (l->ino != st.st_ino || l->closed) {
            continue;
        }
        if (!tc_conn_effective(app, l->port, &l->sopts)) {
            return EOPNOTSUPP;
        }
        tc_conn_opts(&l->sopts, true, &l->opts, &l->mandatory);
        if (tc_conn_eno_enabled() && l->g != NULL && l->g->members == l) {
            tc_eno_lwip_set_opts(l->g->lpcb, &l->opts);
        }
        return 0;
    }
    return ENOENT;
}

void tc_listeners_fini(void)
{
    while (listeners != NULL) {
        listener_close(listeners);
    }
}
