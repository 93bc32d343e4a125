/*
 * What the example programs share: sockets with bounded waits, line I/O
 * over a plain (tcpcrypt) connection or a TLS one, the session line each
 * program prints, and the TLS 1.3 fallback for peers that are not
 * tcpcrypt-aware.
 */
#ifndef TC_EXAMPLES_COMMON_H
#define TC_EXAMPLES_COMMON_H

#include <stddef.h>

#include <openssl/ssl.h>
#include <tcpcrypt/auth.h>

/* Every wait on the network: connect, each read, each write. */
#define EX_TIMEOUT_S 10
#define EX_LINE_MAX 512

/* The program's name, the prefix of every line it prints. */
extern const char *ex_prog;

/* Names the program and ignores SIGPIPE (a peer that goes away during a
 * TLS write is an error return, not the end of the process). */
void ex_init(const char *name);

/* "name: text" on stdout (results) or stderr (errors). */
void ex_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ex_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* IP:PORT into its parts; 0 or -1 (with an error line). */
int ex_parse_addr(const char *s, char *ip, size_t iplen, int *port)
    __attribute__((warn_unused_result));
int ex_parse_port(const char *s, int *port) __attribute__((warn_unused_result));
/* A count or a time, 0 .. 1000000; 0 or -1 (with an error line). */
int ex_parse_count(const char *s, long *count) __attribute__((warn_unused_result));

/* The options every server has, --port PORT and --count N (getopt_long's
 * 'p' and 'n'): 1 when c is one of them, 0 when not; a bad value ends the
 * program with status 2, after an error line. */
int ex_server_opt(int c, const char *arg, int *port, long *count);
/* Serves connections on lfd one at a time, count of them (0: until
 * accept() fails), then closes lfd; serve owns the descriptor it gets. */
void ex_serve(int lfd, long count, void (*serve)(int fd, void *arg), void *arg);

/* A listening socket on every address (aa: 0 off, 1 announce
 * application-aware); -1 with an error line. */
int ex_listen(int port, int aa) __attribute__((warn_unused_result));
/* accept() with the timeouts set. */
int ex_accept(int lfd) __attribute__((warn_unused_result));
/* A connected socket (aa as above, set before connect()); -1 with an error
 * line. */
int ex_connect(const char *ip, int port, int aa) __attribute__((warn_unused_result));

/* The session ID of fd in hex, or NULL for plain TCP. */
const char *ex_sessid(int fd, char hex[TCPCRYPT_SESSID_HEX_LEN]);
/* A session ID from ex_sessid() for printing. */
#define EX_SID(sid) ((sid) != NULL ? (sid) : "(none)")

/* 1: this program announced a = 1 and the peer did too, so the session ID
 * is authenticated with libtcpcrypt; 0: the peer is not tcpcrypt-aware (or
 * the connection is plain TCP), do what was done before tcpcrypt. */
int ex_use_tcpcrypt(int fd, int aa_announced);

/* A connection carrying lines: the socket itself, or TLS over it. */
struct ex_chan {
    int fd;
    SSL *ssl;
};
int ex_write_line(struct ex_chan *c, const char *line) __attribute__((warn_unused_result));
/* One line without its newline; -1 on EOF, error or an over-long line. */
int ex_read_line(struct ex_chan *c, char *buf, size_t cap) __attribute__((warn_unused_result));
void ex_chan_close(struct ex_chan *c);

/* A secret from a file (a cookie or a password): the first line, without
 * its newline; 0 or -1 with an error line.  The caller wipes buf. */
int ex_read_secret(const char *path, char *buf, size_t cap, size_t *len)
    __attribute__((warn_unused_result));

/* TLS 1.3 with the server's certificate, over an accepted or connected
 * socket; NULL with an error line. */
SSL_CTX *ex_tls_server_ctx(const char *cert_file, const char *key_file);
SSL *ex_tls_accept(SSL_CTX *ctx, int fd);
/* The client checks the chain against ca_file and the host name. */
SSL *ex_tls_connect(int fd, const char *ca_file, const char *host);

#endif
