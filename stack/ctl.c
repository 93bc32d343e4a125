/*
 * Control socket server.  Requests are answered at once (CONNECT replies
 * before the connection is established: connect gating makes the
 * application end writable later), so a control connection lives from
 * accept to one reply; an idle one is dropped after a few seconds.
 */
#include "stack/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "stack/admin.h"
#include "stack/conn.h"
#include "stack/ctl_proto.h"
#include "stack/fdmsg.h"
#include "stack/log.h"
#include "stack/loop.h"
#include "stack/netif.h"

#define CLIENTS_MAX 1024
#define CLIENT_IDLE_S 5
#define FDS_MAX 4
#define MSG_BUF 1024

struct client {
    struct tc_watch w;
    struct client *prev, *next;
    time_t since;
};

static struct tc_watch lw = {.fd = -1};
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct client *clients;
static size_t nclients;

static time_t now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void client_free(void *obj)
{
    free(obj);
}

static void client_close(struct client *c)
{
    int fd = c->w.fd;

    if (fd < 0) {
        return;
    }
    tc_loop_del(&c->w);
    close(fd);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        clients = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    nclients--;
    tc_loop_defer_free(c, client_free);
}

static void reply(int sock, void *msg, size_t len, int fd)
{
    /* The client waits for this one message; a full buffer cannot happen on
     * a fresh connection, and a vanished client simply loses its reply. */
    (void)tc_send_with_fd(sock, msg, len, fd, MSG_DONTWAIT | MSG_NOSIGNAL);
}

union request {
    struct tc_ctl_hdr h;
    struct tc_ctl_connect connect;
    struct tc_ctl_listen listen;
    struct tc_ctl_status status;
    struct tc_ctl_opt opt;
    struct tc_ctl_admin admin;
    uint8_t raw[MSG_BUF];
};

union answer {
    struct tc_ctl_hdr h;
    struct tc_ctl_r_hello hello;
    struct tc_ctl_r_connect connect;
    struct tc_ctl_r_listen listen;
    struct tc_ctl_r_status status;
    struct tc_ctl_opt opt;
    struct tc_ctl_r_admin admin;
};

/* Serve one request; fd is the descriptor that came with it (or -1), which
 * is ours to close unless a handler kept it. */
static void serve(int sock, const union request *rq, size_t n, int fd)
{
    union answer a;
    size_t alen = sizeof(struct tc_ctl_hdr);
    enum tc_ctl_verdict verdict;
    uint16_t op;
    int out_fd = -1, err;
    bool keep_fd = false;

    memset(&a, 0, sizeof(a));
    verdict = tc_ctl_parse(rq, n, &op);
    if (verdict == TC_CTL_REQ_UNKNOWN) {
        tc_debug("control: unknown request %u", rq->h.op);
        goto out; /* no reply op to give: just close */
    }
    a.h.op = (uint16_t)(op + 100);
    if (verdict == TC_CTL_REQ_BAD_LEN) {
        err = EINVAL;
    } else {
        switch (rq->h.op) {
        case TC_CTL_HELLO:
            a.hello.version = TC_CTL_VERSION;
            tc_netif_hello(&a.hello);
            alen = sizeof(a.hello);
            err = 0;
            break;
        case TC_CTL_CONNECT:
            err = tc_conn_connect(&rq->connect, &a.connect, &out_fd);
            alen = sizeof(a.connect);
            break;
        case TC_CTL_LISTEN:
            err = tc_listen(&rq->listen, fd, &a.listen, &out_fd);
            keep_fd = err == 0;
            alen = sizeof(a.listen);
            break;
        case TC_CTL_STATUS:
            err = tc_conn_status(fd, &rq->status, &a.status);
            alen = sizeof(a.status);
            break;
        case TC_CTL_GETOPT:
            err = tc_conn_getopt(fd, &rq->opt, &a.opt);
            alen = sizeof(a.opt);
            break;
        case TC_CTL_ADMIN:
            err = tc_admin(sock, &rq->admin, fd, &a.admin, &out_fd);
            alen = sizeof(a.admin);
            break;
        default: /* TC_CTL_SETOPT */
            err = verdict == TC_CTL_REQ_BAD_VALUE ? EINVAL : tc_conn_setopt(fd, &rq->opt);
            a.opt.name = rq->opt.name;
            alen = sizeof(a.opt);
            break;
        }
    }
    a.h.err = err;
    a.h.len = (uint16_t)alen;
    reply(sock, &a, alen, out_fd);
out:
    if (out_fd >= 0) {
        close(out_fd);
    }
    if (fd >= 0 && !keep_fd) {
        close(fd);
    }
}

static void on_client(struct tc_watch *w, uint32_t events)
{
    struct client *c = (struct client *)((char *)w - offsetof(struct client, w));
    union request rq;
    union {
        char buf[CMSG_SPACE(FDS_MAX * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {.iov_base = &rq, .iov_len = sizeof(rq)};
    struct msghdr mh;
    int fds[FDS_MAX], nfds = 0;
    ssize_t n;

    (void)events;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof(u.buf);
    n = recvmsg(w->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

            for (size_t i = 0; i < k; i++) {
                int fd;

                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                if (nfds < FDS_MAX) {
                    fds[nfds++] = fd;
                } else {
                    close(fd);
                }
            }
        }
    }
    if (n >= (ssize_t)sizeof(struct tc_ctl_hdr) && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        serve(w->fd, &rq, (size_t)n, nfds > 0 ? fds[0] : -1);
    } else if (nfds > 0) {
        close(fds[0]);
    }
    for (int i = 1; i < nfds; i++) {
        close(fds[i]); /* one descriptor per request at most */
    }
    client_close(c);
}

static void on_listen(struct tc_watch *w, uint32_t events)
{
    (void)events;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct client *c;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                tc_error("control socket: accept: %s", strerror(errno));
            }
            return;
        }
        c = nclients < CLIENTS_MAX ? calloc(1, sizeof(*c)) : NULL;
        if (c == NULL || tc_loop_add(&c->w, fd, EPOLLIN, on_client) != 0) {
            free(c);
            close(fd);
            continue;
        }
        c->since = now_s();
        c->next = clients;
        if (clients != NULL) {
            clients->prev = c;
        }
        clients = c;
        nclients++;
    }
}

void tc_ctl_tick(void)
{
    time_t now = now_s();

    for (struct client *c = clients, *next; c != NULL; c = next) {
        next = c->next;
        if (now - c->since >= CLIENT_IDLE_S) {
            client_close(c);
        }
    }
}

/* mkdir -p of path's parent, mode 0755. */
static int make_parent(const char *path)
{
    char dir[PATH_MAX];
    char *slash;

    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) {
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        return -1;
    }
    return 0;
}

int tc_ctl_open(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    struct stat st;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "control path '%s': 1 to %zu characters", path,
                 sizeof(sa.sun_path) - 1);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path));
    if (make_parent(path) != 0) {
        snprintf(err, errlen, "control path %s: cannot create its directory: %s", path,
                 strerror(errno));
        return -1;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "control path %s exists and is not a socket", path);
            return -1;
        }
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(fd);
            snprintf(err, errlen, "another tcpcryptd is listening on %s", path);
            return -1;
        }
        if (fd >= 0) {
            close(fd);
        }
        /* Nobody answers: a stale socket of a daemon that died. */
        if (unlink(path) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "control path %s: cannot remove the stale socket: %s", path,
                     strerror(errno));
            return -1;
        }
    }
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "control socket: %s", strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(err, errlen, "control path %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    /* Any local user may ask for connections, as any user may open TCP
     * sockets; the directory's mode decides who reaches it. */
    (void)chmod(path, 0666);
    if (listen(fd, SOMAXCONN) != 0 || tc_loop_add(&lw, fd, EPOLLIN, on_listen) != 0) {
        snprintf(err, errlen, "control path %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    snprintf(sock_path, sizeof(sock_path), "%s", path);
    return 0;
}

void tc_ctl_close(void)
{
    while (clients != NULL) {
        client_close(clients);
    }
    if (lw.fd >= 0) {
        int fd = lw.fd;

        tc_loop_del(&lw);
        close(fd);
        unlink(sock_path);
    }
}
