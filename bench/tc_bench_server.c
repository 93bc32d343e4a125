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
 * serving one connection at a time. Each prints "ready <pid>" on stdout once
 * listening; they run until killed. Their CPU time is what `make bench`
 * measures. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSG 64
#define BUFSZ (256 * 1024)

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

int main(int argc, char **argv)
{
    const char *mode = "tcp", *addr = "0.0.0.0", *cert = NULL, *key = NULL;
    int port = 7100, tls12 = 0, one = 1, workers = 1, lfd, i;
    struct sockaddr_in sin;
    SSL_CTX *ctx = NULL;
    unsigned char *buf;

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
        else if (strcmp(argv[i], "--tls12") == 0)
            tls12 = 1;
        else {
            fprintf(stderr, "usage: tc_bench_server --mode tcp|tls|hold --port P [--addr A] "
                            "[--cert C --key K] [--tls12] [--workers W]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    buf = malloc(BUFSZ);
    if (buf == NULL)
        die("malloc");
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
    fflush(stdout);
    for (i = 1; i < workers; i++) {
        pid_t p = fork();
        if (p < 0)
            die("fork");
        if (p == 0)
            break;
    }
    printf("ready %ld\n", (long)getpid());
    fflush(stdout);

    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE) {
                usleep(10000);
                continue;
            }
            die("accept");
        }
        if (strcmp(mode, "hold") == 0)
            continue; /* kept open, never read */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        serve(fd, ctx, buf);
    }
}
