/* examples/common.h: sockets, lines, TLS fallback. */
#include "examples/common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

const char *ex_prog = "example";

void ex_init(const char *name)
{
    ex_prog = name;
    (void)signal(SIGPIPE, SIG_IGN);
}

/* One write per line, so that lines from the shop's threads do not mix. */
__attribute__((format(printf, 2, 0))) static void put_line(FILE *f, const char *fmt, va_list ap)
{
    char msg[1024];
    int n;

    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (n < 0) {
        return;
    }
    fprintf(f, "%s: %s\n", ex_prog, msg);
    fflush(f);
}

void ex_say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    put_line(stdout, fmt, ap);
    va_end(ap);
}

void ex_err(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    va_start(ap, fmt);
    put_line(stderr, fmt, ap);
    va_end(ap);
}

int ex_parse_count(const char *s, long *count)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 1000000) {
        ex_err("bad number '%s'", s);
        return -1;
    }
    *count = v;
    return 0;
}

int ex_parse_port(const char *s, int *port)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535) {
        ex_err("bad port '%s'", s);
        return -1;
    }
    *port = (int)v;
    return 0;
}

int ex_parse_addr(const char *s, char *ip, size_t iplen, int *port)
{
    const char *colon = strrchr(s, ':');
    struct in_addr a;
    size_t n;

    if (colon == NULL || (n = (size_t)(colon - s)) == 0 || n >= iplen) {
        ex_err("bad address '%s' (want IPv4:PORT)", s);
        return -1;
    }
    memcpy(ip, s, n);
    ip[n] = '\0';
    if (inet_pton(AF_INET, ip, &a) != 1) {
        ex_err("bad address '%s' (want IPv4:PORT)", s);
        return -1;
    }
    return ex_parse_port(colon + 1, port);
}

static void set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = EX_TIMEOUT_S, .tv_usec = 0};

    /* Bounds every read and write, and libtcpcrypt's wait for each
     * authentication message (it reads SO_RCVTIMEO). */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* a = 1 before connect()/listen().  Without tcpcrypt (the program was not
 * started under tcpcrypt-run) the option does not exist: the program then
 * simply behaves as it did before tcpcrypt. */
static void announce_aa(int fd)
{
    int err = tcpcrypt_aa_enable(fd, 0);

    if (err != TCPCRYPT_AUTH_OK) {
        ex_err("note: cannot announce tcpcrypt awareness (%s)", tcpcrypt_auth_strerror(err));
    }
}

int ex_listen(int port, int aa)
{
    struct sockaddr_in sin;
    int fd, one = 1;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        ex_err("socket: %s", strerror(errno));
        return -1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (aa) {
        announce_aa(fd);
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 64) != 0) {
        ex_err("listen on port %d: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int ex_accept(int lfd)
{
    int fd;

    do {
        fd = accept(lfd, NULL, NULL);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        ex_err("accept: %s", strerror(errno));
        return -1;
    }
    set_timeouts(fd);
    return fd;
}

int ex_server_opt(int c, const char *arg, int *port, long *count)
{
    if (c == 'p') {
        if (ex_parse_port(arg, port) != 0) {
            exit(2);
        }
        return 1;
    }
    if (c == 'n') {
        if (ex_parse_count(arg, count) != 0) {
            exit(2);
        }
        return 1;
    }
    return 0;
}

void ex_serve(int lfd, long count, void (*serve)(int fd, void *arg), void *arg)
{
    for (long served = 0; count == 0 || served < count; served++) {
        int fd = ex_accept(lfd);

        if (fd < 0) {
            break;
        }
        serve(fd, arg);
    }
    close(lfd);
}

int ex_connect(const char *ip, int port, int aa)
{
    struct sockaddr_in sin;
    int fd;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        ex_err("socket: %s", strerror(errno));
        return -1;
    }
    set_timeouts(fd);
    if (aa) {
        announce_aa(fd);
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        ex_err("connect to %s:%d: %s", ip, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

const char *ex_sessid(int fd, char hex[TCPCRYPT_SESSID_HEX_LEN])
{
    struct tcpcrypt_session s;

    if (tcpcrypt_session_get(fd, &s) != TCPCRYPT_AUTH_OK) {
        return NULL;
    }
    return tcpcrypt_sessid_hex(s.id, s.id_len, hex, TCPCRYPT_SESSID_HEX_LEN);
}

int ex_use_tcpcrypt(int fd, int aa_announced)
{
    return aa_announced && tcpcrypt_aa_peer(fd) == 1;
}

int ex_write_line(struct ex_chan *c, const char *line)
{
    char buf[EX_LINE_MAX + 1];
    size_t len = strlen(line), off = 0;

    if (len >= EX_LINE_MAX) {
        return -1;
    }
    memcpy(buf, line, len);
    buf[len++] = '\n';
    while (off < len) {
        ssize_t n;

        if (c->ssl != NULL) {
            n = SSL_write(c->ssl, buf + off, (int)(len - off));
            if (n <= 0) {
                return -1;
            }
        } else {
            n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return -1;
            }
        }
        off += (size_t)n;
    }
    return 0;
}

int ex_read_line(struct ex_chan *c, char *buf, size_t cap)
{
    size_t len = 0;

    for (;;) {
        char ch;
        ssize_t n;

        if (c->ssl != NULL) {
            n = SSL_read(c->ssl, &ch, 1);
        } else {
            n = recv(c->fd, &ch, 1, 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
        }
        if (n <= 0) {
            return -1;
        }
        if (ch == '\n') {
            break;
        }
        if (len + 1 >= cap) {
            return -1;
        }
        buf[len++] = ch;
    }
    buf[len] = '\0';
    return 0;
}

/* Closes after our FIN and the peer's, so that bytes still arriving (the
 * rest of a message we refused) do not turn the close into a reset that
 * would destroy what we sent last (a REJECT, our own message) before the
 * peer reads it.  Bounded: one second, 64 KB. */
static void drain_close(int fd)
{
    char buf[4096];
    size_t total = 0;
    struct timespec t0, t;

    (void)shutdown(fd, SHUT_WR);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (total < 65536) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long ms;
        ssize_t n;

        clock_gettime(CLOCK_MONOTONIC, &t);
        ms = 1000 - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (ms <= 0 || poll(&p, 1, (int)ms) <= 0) {
            break;
        }
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n <= 0) {
            break;
        }
        total += (size_t)n;
    }
    close(fd);
}

void ex_chan_close(struct ex_chan *c)
{
    if (c->ssl != NULL) {
        (void)SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        drain_close(c->fd);
        c->fd = -1;
    }
}

int ex_read_secret(const char *path, char *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL) {
        ex_err("cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (fgets(buf, (int)cap, f) == NULL) {
        fclose(f);
        ex_err("%s is empty", path);
        return -1;
    }
    fclose(f);
    n = strcspn(buf, "\r\n");
    buf[n] = '\0';
    if (n == 0) {
        ex_err("%s is empty", path);
        return -1;
    }
    *len = n;
    return 0;
}

static void tls_error(const char *what)
{
    unsigned long e = ERR_get_error();
    char msg[256];

    if (e != 0) {
        ERR_error_string_n(e, msg, sizeof(msg));
        ex_err("TLS %s failed: %s", what, msg);
    } else {
        ex_err("TLS %s failed", what);
    }
    ERR_clear_error();
}

SSL_CTX *ex_tls_server_ctx(const char *cert_file, const char *key_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        tls_error("set-up (certificate or key)");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL *ex_tls_accept(SSL_CTX *ctx, int fd)
{
    SSL *ssl = SSL_new(ctx);

    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
        tls_error("handshake");
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

SSL *ex_tls_connect(int fd, const char *ca_file, const char *host)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    long vr;

    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        tls_error("set-up (CA file)");
        goto out;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, host) != 1 ||
        SSL_set1_host(ssl, host) != 1) {
        tls_error("set-up");
        SSL_free(ssl);
        ssl = NULL;
        goto out;
    }
    if (SSL_connect(ssl) != 1) {
        vr = SSL_get_verify_result(ssl);
        if (vr != X509_V_OK) {
            ex_err("TLS handshake failed: certificate: %s", X509_verify_cert_error_string(vr));
            ERR_clear_error();
        } else {
            tls_error("handshake");
        }
        SSL_free(ssl);
        ssl = NULL;
    }
out:
    SSL_CTX_free(ctx); /* the SSL keeps its own reference */
    return ssl;
}
