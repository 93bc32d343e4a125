/* tc_bench_client: the client side of `make bench`.
 *
 *   tc_bench_client --host H --port P [--mode tcp|tls] [-c C] [-n N | -t SECONDS]
 *                   [--tls12] [--resume] [--count-resumed]
 *       C threads open connections one after another, N in all or for SECONDS:
 *       connect, (TLS handshake), send a 64-byte request, read the 64-byte
 *       reply. Latency: connect() to the reply read. With --resume each thread
 *       offers the session (TLS 1.3 ticket) of its previous connection.
 *   tc_bench_client --host H --port P [--mode tcp|tls] --bytes X
 *       one connection sends X bytes one way; MB/s up to the server's reply.
 *   tc_bench_client --host H --port P --hold N
 *       opens N connections, prints "held N", and keeps them idle until killed.
 *
 *   --auth psk|cert|password|password-w (under tcpcrypt-run): after connect()
 *       and before the request, authenticate the session with libtcpcrypt
 *       (<tcpcrypt/auth.h>), inside the timed part: a shared key; the
 *       server's signature (per connection or batched) checked against --ca
 *       for --auth-host; SPAKE2 with scrypt on every connection (password) or
 *       with w derived once at start (password-w).
 *   --mode tls --ca FILE --auth-host NAME: the TLS client verifies the
 *       server's chain and name, as --auth cert does.
 *   tc_bench_client --derive-bench N
 *       times N calls of tcpcrypt_auth_password_derive() (scrypt).
 *
 * Prints one line of key=value pairs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tcpcrypt/auth.h"
#include "tcpcrypt/tcpcrypt.h"

#define MSG 64
#define BUFSZ (256 * 1024)

/* Shared with bench/tc_bench_server.c. */
#define BENCH_PSK "tcpcrypt-bench-preshared-key-32B" /* 32 bytes */
#define BENCH_PASSWORD "correct horse battery staple"
#define BENCH_A_ID "bench-client"
#define BENCH_B_ID "bench-server"

enum auth_mode { AUTH_NONE, AUTH_PSK, AUTH_CERT, AUTH_PASSWORD, AUTH_PASSWORD_W };

static enum auth_mode g_auth = AUTH_NONE;
static const char *g_ca, *g_auth_host;
static unsigned char g_w[TCPCRYPT_AUTH_W_LEN];
static atomic_long g_auth_failed;

/* 0 when the session is authenticated (or no authentication is asked). */
static int authenticate(int fd)
{
    int rc;

    switch (g_auth) {
    case AUTH_PSK:
        rc = tcpcrypt_auth_psk(fd, NULL, BENCH_PSK, strlen(BENCH_PSK));
        break;
    case AUTH_CERT:
        rc = tcpcrypt_auth_cert_client(fd, NULL, g_ca, g_auth_host);
        break;
    case AUTH_PASSWORD:
        rc = tcpcrypt_auth_password(fd, NULL, BENCH_PASSWORD, BENCH_A_ID, BENCH_B_ID);
        break;
    case AUTH_PASSWORD_W:
        rc = tcpcrypt_auth_password_w(fd, NULL, g_w, BENCH_A_ID, BENCH_B_ID);
        break;
    default:
        return 0;
    }
    if (rc != TCPCRYPT_AUTH_OK && atomic_fetch_add(&g_auth_failed, 1) < 3) {
        fprintf(stderr, "tc_bench_client: authentication failed: %s\n",
                tcpcrypt_auth_strerror(rc));
    }
    return rc == TCPCRYPT_AUTH_OK ? 0 : -1;
}

static struct sockaddr_in g_sin;
static SSL_CTX *g_ctx;
static int g_resume;
static int g_count_tc; /* --count-resumed: ask tcpcrypt whether each session was resumed */
static long g_total = -1;
static double g_deadline;
static atomic_long g_next, g_errors, g_resumed;

struct worker {
    pthread_t th;
    double *lat;
    size_t nlat, cap;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int io_full(int fd, SSL *ssl, unsigned char *b, size_t n, int wr)
{
    size_t off = 0;

    while (off < n) {
        int chunk = n - off > BUFSZ ? BUFSZ : (int)(n - off);
        ssize_t r;
        if (ssl != NULL)
            r = wr ? SSL_write(ssl, b + off, chunk) : SSL_read(ssl, b + off, chunk);
        else
            r = wr ? write(fd, b + off, (size_t)chunk) : read(fd, b + off, (size_t)chunk);
        if (r <= 0) {
            if (r < 0 && ssl == NULL && errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)r;
    }
    return 0;
}

static int dial(void)
{
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&g_sin, sizeof(g_sin)) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* One request/reply connection (payload bytes after the request); 0 on success. */
static int one_conn(SSL_SESSION **sess, uint64_t payload, unsigned char *buf, double *lat)
{
    unsigned char req[MSG], rep[MSG];
    double t0 = now();
    SSL *ssl = NULL;
    int fd, rc = -1, i;

    fd = dial();
    if (fd < 0)
        return -1;
    if (g_ctx != NULL) {
        ssl = SSL_new(g_ctx);
        if (ssl == NULL || SSL_set_fd(ssl, fd) != 1)
            goto out;
        if (sess != NULL && *sess != NULL)
            SSL_set_session(ssl, *sess);
        if (g_auth_host != NULL && SSL_set1_host(ssl, g_auth_host) != 1)
            goto out;
        if (SSL_connect(ssl) != 1)
            goto out;
    } else if (authenticate(fd) != 0) {
        goto out;
    }
    memset(req, 'Q', sizeof(req));
    for (i = 0; i < 8; i++)
        req[i] = (unsigned char)(payload >> (56 - 8 * i));
    if (io_full(fd, ssl, req, MSG, 1) != 0)
        goto out;
    while (payload > 0) {
        size_t n = payload > BUFSZ ? BUFSZ : (size_t)payload;
        if (io_full(fd, ssl, buf, n, 1) != 0)
            goto out;
        payload -= n;
    }
    if (io_full(fd, ssl, rep, MSG, 0) != 0)
        goto out;
    *lat = now() - t0;
    rc = 0;
    if (ssl != NULL) {
        if (SSL_session_reused(ssl))
            atomic_fetch_add(&g_resumed, 1);
        if (sess != NULL) {
            SSL_SESSION *s = SSL_get1_session(ssl);
            if (s != NULL && SSL_SESSION_is_resumable(s)) {
                if (*sess != NULL)
                    SSL_SESSION_free(*sess);
                *sess = s;
            } else if (s != NULL) {
                SSL_SESSION_free(s);
            }
        }
        SSL_shutdown(ssl);
    } else if (g_count_tc) {
        /* Under tcpcrypt-run: a resumed session (RFC 8548 §3.5), after the
         * timed part.  ENOPROTOOPT (not encrypted) counts as not resumed. */
        struct tcp_crypt_conf cf;
        socklen_t cl = sizeof(cf);

        if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_CONF, &cf, &cl) == 0 && cf.resumed)
            atomic_fetch_add(&g_resumed, 1);
    }
out:
    if (ssl != NULL)
        SSL_free(ssl);
    ERR_clear_error();
    close(fd);
    return rc;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    SSL_SESSION *sess = NULL;
    double lat;

    for (;;) {
        if (g_total >= 0) {
            if (atomic_fetch_add(&g_next, 1) >= g_total)
                break;
        } else if (now() >= g_deadline) {
            break;
        }
        if (one_conn(g_resume ? &sess : NULL, 0, NULL, &lat) != 0) {
            if (atomic_fetch_add(&g_errors, 1) > 1000)
                break;
            usleep(1000);
            continue;
        }
        if (w->nlat == w->cap) {
            w->cap = w->cap ? 2 * w->cap : 1024;
            w->lat = realloc(w->lat, w->cap * sizeof(double));
            if (w->lat == NULL)
                abort();
        }
        w->lat[w->nlat++] = lat;
    }
    if (sess != NULL)
        SSL_SESSION_free(sess);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *host = NULL, *mode = "tcp", *auth = "none";
    int port = 7100, conc = 1, tls12 = 0, i, derive_n = 0;
    long hold = 0;
    double secs = 0, t0, t1;
    unsigned long long bytes = 0;
    struct worker *w;
    pthread_attr_t attr;
    double *all;
    size_t n = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
            host = argv[++i];
        else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
            mode = argv[++i];
        else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            conc = atoi(argv[++i]);
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            g_total = atol(argv[++i]);
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            secs = atof(argv[++i]);
        else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
            bytes = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc)
            hold = atol(argv[++i]);
        else if (strcmp(argv[i], "--tls12") == 0)
            tls12 = 1;
        else if (strcmp(argv[i], "--resume") == 0)
            g_resume = 1;
        else if (strcmp(argv[i], "--count-resumed") == 0)
            g_count_tc = 1;
        else if (strcmp(argv[i], "--auth") == 0 && i + 1 < argc)
            auth = argv[++i];
        else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
            g_ca = argv[++i];
        else if (strcmp(argv[i], "--auth-host") == 0 && i + 1 < argc)
            g_auth_host = argv[++i];
        else if (strcmp(argv[i], "--derive-bench") == 0 && i + 1 < argc)
            derive_n = atoi(argv[++i]);
        else
            host = NULL, i = argc, derive_n = 0;
    }
    if (derive_n > 0) {
        /* scrypt's cost alone: what tcpcrypt_auth_password() adds on each
         * side over tcpcrypt_auth_password_w(). */
        double *d = calloc((size_t)derive_n, sizeof(double));
        if (d == NULL)
            return 1;
        for (i = 0; i < derive_n; i++) {
            t0 = now();
            if (tcpcrypt_auth_password_derive(BENCH_PASSWORD, BENCH_A_ID, BENCH_B_ID, g_w) !=
                TCPCRYPT_AUTH_OK) {
                fprintf(stderr, "tc_bench_client: tcpcrypt_auth_password_derive failed\n");
                return 1;
            }
            d[i] = now() - t0;
        }
        qsort(d, (size_t)derive_n, sizeof(double), cmp);
        printf("derive_n=%d derive_p50_us=%.0f derive_max_us=%.0f\n", derive_n,
               d[derive_n / 2] * 1e6, d[derive_n - 1] * 1e6);
        free(d);
        return 0;
    }
    if (strcmp(auth, "none") == 0) {
        g_auth = AUTH_NONE;
    } else if (strcmp(auth, "psk") == 0) {
        g_auth = AUTH_PSK;
    } else if (strcmp(auth, "cert") == 0) {
        g_auth = AUTH_CERT;
        if (g_ca == NULL || g_auth_host == NULL) {
            fprintf(stderr, "tc_bench_client: --auth cert needs --ca and --auth-host\n");
            return 2;
        }
    } else if (strcmp(auth, "password") == 0) {
        g_auth = AUTH_PASSWORD;
    } else if (strcmp(auth, "password-w") == 0) {
        g_auth = AUTH_PASSWORD_W;
        if (tcpcrypt_auth_password_derive(BENCH_PASSWORD, BENCH_A_ID, BENCH_B_ID, g_w) !=
            TCPCRYPT_AUTH_OK) {
            fprintf(stderr, "tc_bench_client: tcpcrypt_auth_password_derive failed\n");
            return 1;
        }
    } else {
        fprintf(stderr, "tc_bench_client: unknown --auth %s\n", auth);
        return 2;
    }
    if (host == NULL || conc < 1 || (g_total < 0 && secs <= 0 && bytes == 0 && hold == 0)) {
        fprintf(stderr, "usage: tc_bench_client --host H --port P [--mode tcp|tls] [-c C] "
                        "[-n N | -t SECONDS | --bytes X | --hold N] [--tls12] [--resume] [--count-resumed]\n"
                        "       [--auth none|psk|cert|password|password-w] [--ca FILE] [--auth-host NAME]\n"
                        "       tc_bench_client --derive-bench N\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    memset(&g_sin, 0, sizeof(g_sin));
    g_sin.sin_family = AF_INET;
    g_sin.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &g_sin.sin_addr) != 1) {
        fprintf(stderr, "tc_bench_client: bad address %s\n", host);
        return 2;
    }
    if (strcmp(mode, "tls") == 0) {
        g_ctx = SSL_CTX_new(TLS_client_method());
        if (g_ctx == NULL)
            return 1;
        SSL_CTX_set_min_proto_version(g_ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
        SSL_CTX_set_max_proto_version(g_ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
        if (g_ca != NULL) {
            /* Verify the chain and (--auth-host) the name, as --auth cert does. */
            if (SSL_CTX_load_verify_locations(g_ctx, g_ca, NULL) != 1) {
                fprintf(stderr, "tc_bench_client: cannot load %s\n", g_ca);
                return 1;
            }
            SSL_CTX_set_verify(g_ctx, SSL_VERIFY_PEER, NULL);
        } else {
            SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, NULL); /* server cost is what we measure */
        }
        if (!tls12)
            SSL_CTX_set_ciphersuites(g_ctx, "TLS_AES_128_GCM_SHA256");
        SSL_CTX_set_session_cache_mode(g_ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    }

    if (hold > 0) {
        long ok = 0;
        for (i = 0; i < hold; i++)
            ok += dial() >= 0;
        printf("held %ld\n", ok);
        fflush(stdout);
        for (;;)
            pause();
    }

    if (bytes > 0) {
        unsigned char *buf = malloc(BUFSZ);
        double lat;
        if (buf == NULL)
            return 1;
        memset(buf, 'x', BUFSZ);
        t0 = now();
        if (one_conn(NULL, bytes, buf, &lat) != 0) {
            fprintf(stderr, "tc_bench_client: throughput connection failed\n");
            return 1;
        }
        t1 = now();
        printf("bytes=%llu secs=%.3f mbps=%.1f\n", bytes, t1 - t0, (double)bytes / 1e6 / (t1 - t0));
        return 0;
    }

    w = calloc((size_t)conc, sizeof(*w));
    if (w == NULL)
        return 1;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    t0 = now();
    g_deadline = t0 + secs;
    for (i = 0; i < conc; i++)
        if (pthread_create(&w[i].th, &attr, run, &w[i]) != 0) {
            fprintf(stderr, "tc_bench_client: pthread_create failed at %d\n", i);
            conc = i;
            break;
        }
    for (i = 0; i < conc; i++) {
        pthread_join(w[i].th, NULL);
        n += w[i].nlat;
    }
    t1 = now();
    all = malloc((n ? n : 1) * sizeof(double));
    if (all == NULL)
        return 1;
    n = 0;
    for (i = 0; i < conc; i++) {
        if (w[i].nlat > 0)
            memcpy(all + n, w[i].lat, w[i].nlat * sizeof(double));
        n += w[i].nlat;
    }
    qsort(all, n, sizeof(double), cmp);
    printf("conns=%zu errors=%ld resumed=%ld secs=%.3f cps=%.1f p50_us=%.0f p99_us=%.0f\n", n,
           (long)atomic_load(&g_errors), (long)atomic_load(&g_resumed), t1 - t0,
           (double)n / (t1 - t0), n ? all[n / 2] * 1e6 : 0, n ? all[n * 99 / 100] * 1e6 : 0);
    for (i = 0; i < conc; i++)
        free(w[i].lat);
    free(w);
    free(all);
    if (g_ctx != NULL)
        SSL_CTX_free(g_ctx);
    return n > 0 ? 0 : 1;
}
