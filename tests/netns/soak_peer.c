/*
 * Short connections for tests/netns/soak.sh, many at a time.
 *
 *   soak_peer server PORT THREADS
 *       THREADS threads accept on one listener; each connection: read a
 *       64-byte request, answer 64 bytes (the request reversed, each byte
 *       xor 0x5c), close.  Prints "listening" once ready; runs until killed.
 *   soak_peer client HOST PORT THREADS COUNT
 *       THREADS threads open COUNT connections in all, back to back: each
 *       sends a request unique to its number, reads the answer and checks
 *       it byte for byte.  Prints one JSON line: ok, bad (wrong or short
 *       answers), errors (failed socket calls, with the first few reasons),
 *       seconds.  Exit status 0 when every connection answered correctly.
 *   soak_peer echo PORT
 *       a thread per connection sends back what it reads, until EOF.
 *   soak_peer stream HOST PORT STOPFILE MAX_SECONDS
 *       one long connection to an echo server: sends a pseudo-random byte
 *       stream (a function of each byte's offset) until STOPFILE exists or
 *       MAX_SECONDS passed, half-closes, and checks every echoed byte
 *       against the same function while it sends.  Prints one JSON line:
 *       bytes sent and received, the first wrong offset (-1: none), the
 *       error that ended it (null), the session ID (tcpcrypt's, in hex).
 *       Exit status 0 when everything came back intact.
 *
 * Plain socket calls only: under tcpcrypt-run every connection goes
 * through the daemon.  Every call has a timeout, so nothing hangs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tcpcrypt/tcpcrypt.h"

#define MSG 64
#define CHUNK 65536
#define IO_TIMEOUT_S 60
#define FIRST_ERRORS 5

static struct sockaddr_in peer;
static long total;
static atomic_long next_conn, n_ok, n_bad, n_err;
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_errors[FIRST_ERRORS][96];
static int n_first;

static int usage(void);

static void set_timeouts(int fd)
{
    struct timeval tv = {IO_TIMEOUT_S, 0};

    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int io_full(int fd, uint8_t *b, size_t n, int wr)
{
    size_t off = 0;

    while (off < n) {
        ssize_t k = wr ? send(fd, b + off, n - off, MSG_NOSIGNAL) : recv(fd, b + off, n - off, 0);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return k == 0 ? 0 : -1;
        }
        off += (size_t)k;
    }
    return 1;
}

static void answer(const uint8_t *req, uint8_t *rep)
{
    for (int i = 0; i < MSG; i++) {
        rep[i] = req[MSG - 1 - i] ^ 0x5c;
    }
}

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void note_error(long i, const char *what, int err)
{
    atomic_fetch_add(&n_err, 1);
    pthread_mutex_lock(&err_lock);
    if (n_first < FIRST_ERRORS) {
        snprintf(first_errors[n_first++], sizeof(first_errors[0]), "#%ld %s: %s", i, what,
                 err ? strerror(err) : "short answer");
    }
    pthread_mutex_unlock(&err_lock);
}

static void *serve(void *arg)
{
    int ls = *(int *)arg;

    for (;;) {
        uint8_t req[MSG], rep[MSG];
        int fd = accept(ls, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
                continue;
            }
            perror("soak_peer: accept");
            exit(1);
        }
        set_timeouts(fd);
        if (io_full(fd, req, MSG, 0) == 1) {
            answer(req, rep);
            (void)io_full(fd, rep, MSG, 1);
        }
        close(fd);
    }
    return NULL;
}

static void *client(void *arg)
{
    (void)arg;
    for (;;) {
        long i = atomic_fetch_add(&next_conn, 1);
        uint8_t req[MSG], rep[MSG], want[MSG];
        int fd, r;

        if (i >= total) {
            return NULL;
        }
        for (int k = 0; k < MSG / 8; k++) {
            uint64_t v = mix((uint64_t)i * 8 + (uint64_t)k);

            memcpy(req + 8 * k, &v, 8);
        }
        answer(req, want);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            note_error(i, "socket", errno);
            continue;
        }
        set_timeouts(fd);
        if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)) != 0) {
            note_error(i, "connect", errno);
        } else if (io_full(fd, req, MSG, 1) != 1) {
            note_error(i, "send", errno);
        } else if ((r = io_full(fd, rep, MSG, 0)) != 1) {
            note_error(i, "recv", r == 0 ? 0 : errno);
        } else if (memcmp(rep, want, MSG) != 0) {
            atomic_fetch_add(&n_bad, 1);
        } else {
            atomic_fetch_add(&n_ok, 1);
        }
        close(fd);
    }
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *echo_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    static _Thread_local uint8_t buf[CHUNK];

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || io_full(fd, buf, (size_t)n, 1) != 1) {
            break;
        }
    }
    close(fd);
    return NULL;
}

/* The stream's byte at offset o. */
static uint8_t stream_byte(uint64_t o)
{
    uint64_t v = mix(o >> 3);

    return (uint8_t)(v >> (8 * (o & 7)));
}

struct stream {
    int fd;
    const char *stop;
    double deadline;
    uint64_t sent;
    int err;
};

static void *stream_send(void *arg)
{
    struct stream *st = arg;
    static uint8_t buf[CHUNK];

    while (now_s() < st->deadline && access(st->stop, F_OK) != 0) {
        for (size_t i = 0; i < sizeof(buf); i++) {
            buf[i] = stream_byte(st->sent + i);
        }
        if (io_full(st->fd, buf, sizeof(buf), 1) != 1) {
            st->err = errno;
            break;
        }
        st->sent += sizeof(buf);
    }
    shutdown(st->fd, SHUT_WR);
    return NULL;
}

static int stream_main(const char *host, int port, const char *stop, double seconds)
{
    static uint8_t buf[CHUNK];
    struct stream st = {.stop = stop, .deadline = now_s() + seconds};
    uint8_t sid[64];
    socklen_t sidlen = sizeof(sid);
    int64_t wrong = -1;
    uint64_t got = 0;
    int rerr = 0;
    pthread_t th;

    peer.sin_family = AF_INET;
    peer.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &peer.sin_addr) != 1) {
        return usage();
    }
    st.fd = socket(AF_INET, SOCK_STREAM, 0);
    set_timeouts(st.fd);
    if (st.fd < 0 || connect(st.fd, (struct sockaddr *)&peer, sizeof(peer)) != 0) {
        printf("{\"error\": \"connect: %s\"}\n", strerror(errno));
        return 1;
    }
    if (getsockopt(st.fd, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &sidlen) != 0) {
        sidlen = 0;
    }
    if (pthread_create(&th, NULL, stream_send, &st) != 0) {
        perror("soak_peer: pthread_create");
        return 1;
    }
    for (;;) {
        ssize_t n = recv(st.fd, buf, sizeof(buf), 0);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rerr = n < 0 ? errno : 0;
            break;
        }
        for (ssize_t i = 0; i < n && wrong < 0; i++) {
            if (buf[i] != stream_byte(got + (uint64_t)i)) {
                wrong = (int64_t)(got + (uint64_t)i);
            }
        }
        got += (uint64_t)n;
    }
    pthread_join(th, NULL);
    close(st.fd);
    printf("{\"sent\": %llu, \"received\": %llu, \"wrong_at\": %lld, \"error\": ",
           (unsigned long long)st.sent, (unsigned long long)got, (long long)wrong);
    if (st.err != 0 || rerr != 0) {
        printf("\"%s\"", strerror(st.err != 0 ? st.err : rerr));
    } else {
        printf("null");
    }
    printf(", \"sessid\": \"");
    for (socklen_t i = 0; i < sidlen; i++) {
        printf("%02x", sid[i]);
    }
    printf("\"}\n");
    return st.sent > 0 && got == st.sent && wrong < 0 && st.err == 0 && rerr == 0 && sidlen > 0 ? 0
                                                                                                : 1;
}

static int listener(int port)
{
    struct sockaddr_in sa;
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(ls, 4096) != 0) {
        perror("soak_peer: listen");
        exit(1);
    }
    return ls;
}

static int usage(void)
{
    fprintf(stderr, "usage: soak_peer server PORT THREADS | client HOST PORT THREADS COUNT |\n"
                    "       echo PORT | stream HOST PORT STOPFILE MAX_SECONDS\n");
    return 2;
}

int main(int argc, char **argv)
{
    pthread_t *th, th1;
    int nth;

    if (argc == 3 && strcmp(argv[1], "echo") == 0) {
        int ls = listener(atoi(argv[2]));

        printf("listening\n");
        fflush(stdout);
        for (;;) {
            int fd = accept(ls, NULL, NULL);

            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED) {
                    continue;
                }
                perror("soak_peer: accept");
                return 1;
            }
            if (pthread_create(&th1, NULL, echo_conn, (void *)(intptr_t)fd) != 0 ||
                pthread_detach(th1) != 0) {
                perror("soak_peer: pthread_create");
                return 1;
            }
        }
    }
    if (argc == 6 && strcmp(argv[1], "stream") == 0) {
        return stream_main(argv[2], atoi(argv[3]), argv[4], atof(argv[5]));
    }
    if (argc == 4 && strcmp(argv[1], "server") == 0) {
        int ls = listener(atoi(argv[2]));

        nth = atoi(argv[3]);
        th = nth > 0 ? calloc((size_t)nth, sizeof(*th)) : NULL;
        for (int t = 0; th != NULL && t < nth; t++) {
            if (pthread_create(&th[t], NULL, serve, &ls) != 0) {
                perror("soak_peer: pthread_create");
                return 1;
            }
        }
        printf("listening\n");
        fflush(stdout);
        pause();
        return 0;
    }
    if (argc == 6 && strcmp(argv[1], "client") == 0) {
        double t0, t1;

        memset(&peer, 0, sizeof(peer));
        peer.sin_family = AF_INET;
        peer.sin_port = htons((uint16_t)atoi(argv[3]));
        nth = atoi(argv[4]);
        total = atol(argv[5]);
        if (inet_pton(AF_INET, argv[2], &peer.sin_addr) != 1 || nth < 1 || total < 1) {
            return usage();
        }
        th = calloc((size_t)nth, sizeof(*th));
        if (th == NULL) {
            return 1;
        }
        t0 = now_s();
        for (int t = 0; t < nth; t++) {
            if (pthread_create(&th[t], NULL, client, NULL) != 0) {
                perror("soak_peer: pthread_create");
                return 1;
            }
        }
        for (int t = 0; t < nth; t++) {
            pthread_join(th[t], NULL);
        }
        t1 = now_s();
        printf(
            "{\"ok\": %ld, \"bad\": %ld, \"errors\": %ld, \"seconds\": %.1f, \"first_errors\": [",
            atomic_load(&n_ok), atomic_load(&n_bad), atomic_load(&n_err), t1 - t0);
        for (int k = 0; k < n_first; k++) {
            printf("%s\"%s\"", k ? ", " : "", first_errors[k]);
        }
        printf("]}\n");
        free(th);
        return atomic_load(&n_ok) == total ? 0 : 1;
    }
    return usage();
}
