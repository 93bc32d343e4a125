/* tc_bench_server: the server side of `make bench`.
 *
 *   tc_bench_server --mode tcp|tls|hold --port P [--addr A] [--cert C --key K] [--tls12]
 *
 * tcp:  accept, read a 64-byte request, read the payload it announces (bytes
 *       0..7, big-endian; 0 for the connection benchmark), write a 64-byte
 *       reply (bytes 0..7: payload bytes received), close.
 * tls:  the same over TLS (1.3, or 1.2 with --tls12; session tickets on).
 * hold: accept and keep every connection open, idle (memory per connection).
 *
 * --workers W: W processes (forked after listen) share the listener, each
 * serving one connection at a time (--threads T: T threads per process,
 * each serving one connection at a time). Each prints "ready <pid>" on
 * stdout once listening; they run until killed. Their CPU time is what
 * `make bench` measures.
 *
 * --auth psk|cert|batch|password (tcp mode, under tcpcrypt-run): after
 * accept() and before the request, authenticate the session with
 * libtcpcrypt (<tcpcrypt/auth.h>): a shared key, a signature by --cert/--key
 * per connection, one signature per batch (--batch-window-us, threads of
 * one process share the batch; SIGTERM prints "batch sessions=S
 * signatures=N" before exiting), or SPAKE2 with w derived once at start.
 * A connection whose authentication fails is closed without a reply. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "tcpcrypt/auth.h"

#define MSG 64
#define BUFSZ (256 * 1024)

/* Shared with bench/tc_bench_client.c: the bench's PSK, password and
 * identities. */
#define BENCH_PSK "tcpcrypt-bench-preshared-key-32B" /* 32 bytes */
#define BENCH_PASSWORD "correct horse battery staple"
#define BENCH_A_ID "bench-client"
#define BENCH_B_ID "bench-server"

enum auth_mode { AUTH_NONE, AUTH_PSK, AUTH_CERT, AUTH_BATCH, AUTH_PASSWORD };

static enum auth_mode g_auth = AUTH_NONE;
static struct tcpcrypt_auth_signer *g_signer;
static struct tcpcrypt_auth_batch *g_batch;
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
        rc = tcpcrypt_auth_cert_server(fd, NULL, g_signer);
        break;
    case AUTH_BATCH:
        rc = tcpcrypt_auth_cert_server_batch(fd, NULL, g_batch);
        break;
    case AUTH_PASSWORD:
        rc = tcpcrypt_auth_password_w(fd, NULL, g_w, BENCH_A_ID, BENCH_B_ID);
        break;
    default:
        return 0;
    }
    if (rc != TCPCRYPT_AUTH_OK && atomic_fetch_add(&g_auth_failed, 1) < 3) {
        fprintf(stderr, "tc_bench_server: authentication failed: %s\n",
                tcpcrypt_auth_strerror(rc));
    }
    return rc == TCPCRYPT_AUTH_OK ? 0 : -1;
}

static void die(const char *what)
{
    fprintf(stderr, "tc_bench_server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int read_full(int fd, SSL *ssl, unsigned char *b, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = ssl != NULL ? SSL_read(ssl, b + got, (int)(n - got)) : read(fd, b + got, n - got);
        if (r <= 0) {
            if (r < 0 && ssl == NULL && errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, SSL *ssl, const unsigned char *b, size_t n)
{
    size_t off = 0;

    while (off < n) {
        ssize_t r = ssl != NULL ? SSL_write(ssl, b + off, (int)(n - off)) : write(fd, b + off, n - off);
        if (r <= 0) {
            if (r < 0 && ssl == NULL && errno == EINTR)
                continue;
            return -1;
        }
        off += (size_t)r;
    }
    return 0;
}

static void serve(int fd, SSL_CTX *ctx, unsigned char *buf)
{
    unsigned char req[MSG], rep[MSG];
    uint64_t len = 0, got = 0;
    SSL *ssl = NULL;
    int i;

    if (ctx != NULL) {
        ssl = SSL_new(ctx);
        if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
            goto out;
    } else if (authenticate(fd) != 0) {
        goto out;
    }
    if (read_full(fd, ssl, req, MSG) != 0)
        goto out;
    for (i = 0; i < 8; i++)
        len = len << 8 | req[i];
    while (got < len) {
        size_t want = len - got > BUFSZ ? BUFSZ : (size_t)(len - got);
        ssize_t r = ssl != NULL ? SSL_read(ssl, buf, (int)want) : read(fd, buf, want);
        if (r <= 0) {
            if (r < 0 && ssl == NULL && errno == EINTR)
                continue;
            goto out;
        }
        got += (uint64_t)r;
    }
    memset(rep, 'R', sizeof(rep));
    for (i = 0; i < 8; i++)
        rep[i] = (unsigned char)(got >> (56 - 8 * i));
    if (write_full(fd, ssl, rep, MSG) != 0)
        goto out;
    if (ssl != NULL)
        SSL_shutdown(ssl);
out:
    if (ssl != NULL)
        SSL_free(ssl);
    else
        ERR_clear_error();
    close(fd);
}

static int g_lfd;
static int g_hold;
static SSL_CTX *g_ctx;

static void *accept_loop(void *arg)
{
    unsigned char *buf = malloc(BUFSZ);
    int one = 1;

    (void)arg;
    if (buf == NULL)
        die("malloc");
    for (;;) {
        int fd = accept(g_lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE) {
                usleep(10000);
                continue;
            }
            die("accept");
        }
        if (g_hold)
            continue; /* kept open, never read */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        serve(fd, g_ctx, buf);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = "tcp", *addr = "0.0.0.0", *cert = NULL, *key = NULL, *auth = "none";
    int port = 7100, tls12 = 0, one = 1, workers = 1, threads = 1, lfd, i, err = 0;
    unsigned window_us = 5000, max_batch = 64;
    struct sockaddr_in sin;
    SSL_CTX *ctx = NULL;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
            mode = argv[++i];
        else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--addr") == 0 && i + 1 < argc)
            addr = argv[++i];
        else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc)
            cert = argv[++i];
        else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
            key = argv[++i];
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            workers = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--auth") == 0 && i + 1 < argc)
            auth = argv[++i];
        else if (strcmp(argv[i], "--batch-window-us") == 0 && i + 1 < argc)
            window_us = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--batch-max") == 0 && i + 1 < argc)
            max_batch = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--tls12") == 0)
            tls12 = 1;
        else {
            fprintf(stderr, "usage: tc_bench_server --mode tcp|tls|hold --port P [--addr A] "
                            "[--cert C --key K] [--tls12] [--workers W] [--threads T]\n"
                            "       [--auth none|psk|cert|batch|password] [--batch-window-us U] "
                            "[--batch-max N]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (threads < 1)
        threads = 1;
    if (strcmp(auth, "none") == 0) {
        g_auth = AUTH_NONE;
    } else if (strcmp(auth, "psk") == 0) {
        g_auth = AUTH_PSK;
    } else if (strcmp(auth, "cert") == 0 || strcmp(auth, "batch") == 0) {
        g_auth = auth[0] == 'c' ? AUTH_CERT : AUTH_BATCH;
        if (cert == NULL || key == NULL) {
            fprintf(stderr, "tc_bench_server: --auth %s needs --cert and --key\n", auth);
            return 2;
        }
        g_signer = tcpcrypt_auth_signer_new(cert, key, &err);
        if (g_signer == NULL) {
            fprintf(stderr, "tc_bench_server: signer: %s\n", tcpcrypt_auth_strerror(err));
            return 1;
        }
        if (g_auth == AUTH_BATCH) {
            g_batch = tcpcrypt_auth_batch_new(g_signer, window_us, max_batch, &err);
            if (g_batch == NULL) {
                fprintf(stderr, "tc_bench_server: batch: %s\n", tcpcrypt_auth_strerror(err));
                return 1;
            }
        }
    } else if (strcmp(auth, "password") == 0) {
        /* A server stores w (tcpcrypt_auth_password_derive once), not the
         * password: each connection runs SPAKE2 alone. */
        g_auth = AUTH_PASSWORD;
        err = tcpcrypt_auth_password_derive(BENCH_PASSWORD, BENCH_A_ID, BENCH_B_ID, g_w);
        if (err != TCPCRYPT_AUTH_OK) {
            fprintf(stderr, "tc_bench_server: derive: %s\n", tcpcrypt_auth_strerror(err));
            return 1;
        }
    } else {
        fprintf(stderr, "tc_bench_server: unknown --auth %s\n", auth);
        return 2;
    }
    if (g_auth == AUTH_BATCH && workers > 1) {
        fprintf(stderr, "tc_bench_server: --auth batch shares one batch: --workers 1 --threads T\n");
        return 2;
    }
    if (g_auth != AUTH_NONE && strcmp(mode, "tcp") != 0) {
        fprintf(stderr, "tc_bench_server: --auth needs --mode tcp\n");
        return 2;
    }
    if (strcmp(mode, "tls") == 0) {
        if (cert == NULL || key == NULL) {
            fprintf(stderr, "tc_bench_server: tls needs --cert and --key\n");
            return 2;
        }
        ctx = SSL_CTX_new(TLS_server_method());
        if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
            ERR_print_errors_fp(stderr);
            return 1;
        }
        SSL_CTX_set_min_proto_version(ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
        SSL_CTX_set_max_proto_version(ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
        if (tls12)
            SSL_CTX_set_cipher_list(ctx, "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256");
        else
            SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
        /* Session tickets on (OpenSSL's default, stated): resumption works for
         * clients that offer one. */
        SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_set_num_tickets(ctx, 1);
    } else if (strcmp(mode, "tcp") != 0 && strcmp(mode, "hold") != 0) {
        fprintf(stderr, "tc_bench_server: unknown mode %s\n", mode);
        return 2;
    }

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        fprintf(stderr, "tc_bench_server: bad address %s\n", addr);
        return 2;
    }
    if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        die("bind");
    if (listen(lfd, 4096) != 0)
        die("listen");
    g_lfd = lfd;
    g_ctx = ctx;
    g_hold = strcmp(mode, "hold") == 0;
    fflush(stdout);
    for (i = 1; i < workers; i++) {
        pid_t p = fork();
        if (p < 0)
            die("fork");
        if (p == 0)
            break;
    }
    if (threads > 1 || g_auth == AUTH_BATCH) {
        pthread_t th;
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        /* Only the thread below takes SIGTERM: it reports the batch counts. */
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        for (i = 0; i < threads; i++) {
            if (pthread_create(&th, NULL, accept_loop, NULL) != 0)
                die("pthread_create");
        }
        printf("ready %ld\n", (long)getpid());
        fflush(stdout);
        for (;;) {
            int sig;
            if (sigwait(&set, &sig) == 0)
                break;
        }
        if (g_batch != NULL) {
            unsigned long sessions = 0, signatures = 0;
            tcpcrypt_auth_batch_stats(g_batch, &sessions, &signatures);
            printf("batch sessions=%lu signatures=%lu\n", sessions, signatures);
        }
        printf("auth_failed=%ld\n", (long)atomic_load(&g_auth_failed));
        fflush(stdout);
        _exit(0);
    }
    printf("ready %ld\n", (long)getpid());
    fflush(stdout);
    accept_loop(NULL);
    return 0;
}
