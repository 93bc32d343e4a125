/*
 * What the library knows about each file descriptor of the process.
 *
 * A two-level table indexed by fd: chunks of PL_CHUNK entries, allocated with
 * mmap on first use and never freed (no malloc: the host may be in a fork
 * child or a signal handler).  Each entry is a seqlock: writers bump seq to
 * odd, write, bump it to even; readers copy and retry while seq was odd or
 * changed, a bounded number of times.  No lock is ever held, so fork (the
 * child inherits plain memory), signal handlers and threads cannot deadlock
 * on it.  Two threads writing the entry of the SAME fd at once is a race the
 * application already has with the kernel; the worst outcome here is a torn
 * entry, which pl_fd_lookup() drops when it no longer matches the file
 * (fstat) and which is sanitised before use.
 */
#include "preload/preload.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PL_CHUNK_SHIFT 8
#define PL_CHUNK (1u << PL_CHUNK_SHIFT)
#define PL_NCHUNKS 4096u /* fds up to 2^20: beyond, sockets are passed through */
#define PL_READ_TRIES 64

struct pl_slot {
    uint32_t seq;
    struct pl_sock s;
};

struct pl_chunk {
    struct pl_slot slot[PL_CHUNK];
};

static struct pl_chunk *chunks[PL_NCHUNKS];

/* The process whose memory this table is: 0 until known.  A vfork() child
 * runs in its parent's memory until it execs; the close() and dup2() it
 * makes there must not erase the parent's entries.  fork() runs the atfork
 * handler below, vfork() does not, so getpid() != owner means "not my table". */
static pid_t owner;

static void owner_after_fork(void)
{
    __atomic_store_n(&owner, getpid(), __ATOMIC_RELAXED);
}

void pl_fd_table_init(void)
{
    __atomic_store_n(&owner, getpid(), __ATOMIC_RELAXED);
    (void)pthread_atfork(NULL, NULL, owner_after_fork);
}

bool pl_fd_borrowed_memory(void)
{
    pid_t o = __atomic_load_n(&owner, __ATOMIC_RELAXED);

    return o != 0 && getpid() != o;
}

static struct pl_slot *slot_of(int fd, bool create)
{
    struct pl_chunk *c, *expected = NULL;
    unsigned ci;
    void *m;

    if (fd < 0 || (unsigned)fd >= PL_NCHUNKS * PL_CHUNK) {
        return NULL;
    }
    ci = (unsigned)fd >> PL_CHUNK_SHIFT;
    c = __atomic_load_n(&chunks[ci], __ATOMIC_ACQUIRE);
    if (c == NULL) {
        if (!create) {
            return NULL;
        }
        m = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            return NULL;
        }
        if (__atomic_compare_exchange_n(&chunks[ci], &expected, (struct pl_chunk *)m, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            c = m;
        } else {
            munmap(m, sizeof(*c));
            c = expected;
        }
    }
    return &c->slot[(unsigned)fd & (PL_CHUNK - 1)];
}

static void sanitize(struct pl_sock *s)
{
    if (s->kind > PL_FOREIGN) {
        s->kind = PL_NONE;
    }
    if (s->local.len > sizeof(s->local.u)) {
        s->local.len = 0;
    }
    if (s->remote.len > sizeof(s->remote.u)) {
        s->remote.len = 0;
    }
    if (s->nep > PL_EP_MAX) {
        s->nep = 0;
    }
}

static void slot_read(struct pl_slot *sl, struct pl_sock *out)
{
    uint32_t a, b;

    for (int i = 0; i < PL_READ_TRIES; i++) {
        a = __atomic_load_n(&sl->seq, __ATOMIC_ACQUIRE);
        if (a & 1) {
            continue;
        }
        memcpy(out, &sl->s, sizeof(*out));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        b = __atomic_load_n(&sl->seq, __ATOMIC_RELAXED);
        if (a == b) {
            sanitize(out);
            return;
        }
    }
    /* A writer stopped half-way (it was interrupted by this very signal
     * handler, or it was another thread when the process forked): use what
     * is there, checked by the caller against the file. */
    memcpy(out, &sl->s, sizeof(*out));
    sanitize(out);
}

static void slot_write(struct pl_slot *sl, const struct pl_sock *s)
{
    __atomic_fetch_add(&sl->seq, 1, __ATOMIC_ACQ_REL);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(&sl->s, s, sizeof(*s));
    __atomic_fetch_add(&sl->seq, 1, __ATOMIC_RELEASE);
}

void pl_sock_init(struct pl_sock *s, enum pl_kind kind, int domain)
{
    memset(s, 0, sizeof(*s));
    s->kind = (uint8_t)kind;
    s->domain = domain;
}

bool pl_fd_get(int fd, struct pl_sock *s)
{
    struct pl_slot *sl = slot_of(fd, false);

    if (sl == NULL) {
        return false;
    }
    slot_read(sl, s);
    return s->kind != PL_NONE;
}

bool pl_fd_stat(int fd, struct pl_sock *s)
{
    struct stat st;
    int saved = errno;

    if (fstat(fd, &st) < 0) {
        errno = saved;
        return false;
    }
    s->dev = (uint64_t)st.st_dev;
    s->ino = (uint64_t)st.st_ino;
    return true;
}

bool pl_fd_lookup(int fd, struct pl_sock *s)
{
    struct pl_sock now;

    if (!pl_fd_get(fd, s)) {
        return false;
    }
    now = *s;
    if (!pl_fd_stat(fd, &now) || now.dev != s->dev || now.ino != s->ino) {
        pl_debug("fd %d: no longer the file recorded, forgotten", fd);
        pl_fd_clear(fd);
        return false;
    }
    return true;
}

bool pl_fd_put(int fd, const struct pl_sock *s)
{
    struct pl_slot *sl = slot_of(fd, s->kind != PL_NONE);

    if (sl == NULL) {
        if (s->kind != PL_NONE) {
            pl_debug("fd %d: beyond the table, not tracked", fd);
        }
        return false;
    }
    slot_write(sl, s);
    return true;
}

void pl_fd_clear(int fd)
{
    static const struct pl_sock none;
    struct pl_slot *sl = slot_of(fd, false);

    /* Racy peek at kind: a clear that races a write to the same fd is the
     * application's own race (close vs. use). */
    if (sl != NULL && __atomic_load_n(&sl->s.kind, __ATOMIC_RELAXED) != PL_NONE &&
        !pl_fd_borrowed_memory()) {
        slot_write(sl, &none);
    }
}

/* ------------------------------------------------------------ epoll */

/*
 * The kernel keys an epoll registration by (file, fd).  When connect() or
 * listen() puts a new file under the application's fd with dup3(), the
 * registration of the old file disappears with it (or, if the old file lives
 * on elsewhere, keeps reporting for a file the fd no longer names).  nginx
 * registers an upstream socket before connect(), so the library remembers,
 * for the fds it may replace, in which epoll sets they are and with what
 * events and data, and re-registers the new file in each.
 */
void pl_fd_epoll_note(int fd, int epfd, int op, const struct epoll_event *ev)
{
    struct pl_sock s;
    unsigned n, i;

    if (!pl_fd_get(fd, &s) || (s.kind != PL_TCP && s.kind != PL_CONN && s.kind != PL_LISTEN)) {
        return;
    }
    n = s.nep;
    for (i = 0; i < n && s.ep[i].epfd != epfd; i++) {
    }
    if (op == EPOLL_CTL_DEL) {
        if (i == n) {
            return;
        }
        s.ep[i] = s.ep[n - 1];
        s.nep = (uint8_t)(n - 1);
    } else if (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) {
        if (ev == NULL) {
            return;
        }
        if (i == n) {
            if (n == PL_EP_MAX) {
                pl_debug("fd %d: in more than %d epoll sets, epoll fd %d not remembered", fd,
                         PL_EP_MAX, epfd);
                return;
            }
            s.nep = (uint8_t)(n + 1);
        }
        s.ep[i].epfd = epfd;
        s.ep[i].events = ev->events;
        memcpy(&s.ep[i].data, &ev->data, sizeof(s.ep[i].data));
    } else {
        return;
    }
    pl_fd_put(fd, &s);
}

void pl_fd_epoll_detach(int fd, const struct pl_sock *s)
{
    int (*ctl)(int, int, int, struct epoll_event *) = PL_REAL(epoll_ctl);
    struct epoll_event ev;
    int saved = errno;

    memset(&ev, 0, sizeof(ev));
    for (unsigned i = 0; i < s->nep && ctl != NULL; i++) {
        (void)ctl(s->ep[i].epfd, EPOLL_CTL_DEL, fd, &ev);
    }
    errno = saved;
}

void pl_fd_epoll_attach(int fd, const struct pl_sock *s)
{
    int (*ctl)(int, int, int, struct epoll_event *) = PL_REAL(epoll_ctl);
    struct epoll_event ev;
    int saved = errno;

    for (unsigned i = 0; i < s->nep && ctl != NULL; i++) {
        memset(&ev, 0, sizeof(ev));
        ev.events = s->ep[i].events;
        memcpy(&ev.data, &s->ep[i].data, sizeof(s->ep[i].data));
        int rc = ctl(s->ep[i].epfd, EPOLL_CTL_ADD, fd, &ev);
        if (rc < 0 && errno == EEXIST) {
            rc = ctl(s->ep[i].epfd, EPOLL_CTL_MOD, fd, &ev);
        }
        if (rc < 0) {
            pl_debug("fd %d: not registered again in epoll fd %d: errno %d", fd, s->ep[i].epfd,
                     errno);
        }
    }
    errno = saved;
}
