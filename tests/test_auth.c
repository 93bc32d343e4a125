/*
 * libtcpcrypt (<tcpcrypt/auth.h>) over socketpair()s with explicit
 * sessions, each side in its own thread: every method succeeds and leaves
 * the application's next bytes untouched, and every failure returns its
 * own code -- a man in the middle (two session IDs), a replayed or
 * reflected authenticator, a wrong key, certificates that are expired, for
 * another host or from another CA, a tampered batch path, truncated and
 * garbage messages, another method, silence.  Certificates are made at
 * run time in a temporary folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <tcpcrypt/auth.h>

#include "auth/wire.h"
#include "tests/check.h"

#define RCV_TIMEOUT_MS 5000

static char dir[64];
static char path_ca[128], path_ca2[128];
static char cert_ec[128], key_ec[128], cert_rsa[128], key_rsa[128], cert_ed[128], key_ed[128];
static char cert_exp[128], cert_host[128], cert_other[128];

/* ---------------------------------------------------------------- certificates */

static long serial = 1;

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

    if (e == NULL || X509_add_ext(x, e, -1) != 1) {
        fprintf(stderr, "test_auth: extension %s failed\n", value);
        exit(1);
    }
    X509_EXTENSION_free(e);
}

/* A certificate for key, signed by issuer_key (self-signed when issuer is
 * NULL), valid from nb to na days from now. */
static X509 *make_cert(const char *cn, const char *san, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key, long nb, long na, int ca)
{
    X509 *x = X509_new();
    X509_NAME *name;
    X509V3_CTX ctx;

    if (x == NULL) {
        exit(1);
    }
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), nb * 86400);
    X509_gmtime_adj(X509_getm_notAfter(x), na * 86400);
    X509_set_pubkey(x, key);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    add_ext(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (ca) {
        add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    add_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (san != NULL) {
        add_ext(x, &ctx, NID_subject_alt_name, san);
    }
    if (X509_sign(x, issuer_key, EVP_sha256()) <= 0) {
        fprintf(stderr, "test_auth: signing %s failed\n", cn);
        exit(1);
    }
    return x;
}

static void write_pem(const char *path, X509 *x1, X509 *x2, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || (x1 != NULL && PEM_write_X509(f, x1) != 1) ||
        (x2 != NULL && PEM_write_X509(f, x2) != 1) ||
        (key != NULL && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1)) {
        fprintf(stderr, "test_auth: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void make_pki(void)
{
    static const char san[] = "DNS:server.example,IP:192.0.2.7";
    EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *ca2_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *mid_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    X509 *ca, *ca2, *mid, *x;

    if (ca_key == NULL || ca2_key == NULL || mid_key == NULL || ec == NULL || rsa == NULL ||
        ed == NULL) {
        fprintf(stderr, "test_auth: key generation failed\n");
        exit(1);
    }
    ca = make_cert("Test CA", NULL, ca_key, NULL, ca_key, -1, 30, 1);
    ca2 = make_cert("Other CA", NULL, ca2_key, NULL, ca2_key, -1, 30, 1);
    mid = make_cert("Test intermediate", NULL, mid_key, ca, ca_key, -1, 30, 1);
#define OUT(var, name) snprintf(var, sizeof(var), "%s/%s", dir, name)
    OUT(path_ca, "ca.pem");
    OUT(path_ca2, "ca2.pem");
    OUT(cert_ec, "ec.pem");
    OUT(key_ec, "ec.key");
    OUT(cert_rsa, "rsa.pem");
    OUT(key_rsa, "rsa.key");
    OUT(cert_ed, "ed.pem");
    OUT(key_ed, "ed.key");
    OUT(cert_exp, "expired.pem");
    OUT(cert_host, "otherhost.pem");
    OUT(cert_other, "otherca.pem");
#undef OUT
    write_pem(path_ca, ca, NULL, NULL);
    write_pem(path_ca2, ca2, NULL, NULL);
    x = make_cert("server.example", san, ec, ca, ca_key, -1, 30, 0);
    write_pem(cert_ec, x, NULL, NULL);
    X509_free(x);
    write_pem(key_ec, NULL, NULL, ec);
    /* RSA behind an intermediate: the chain travels with the signature. */
    x = make_cert("server.example", san, rsa, mid, mid_key, -1, 30, 0);
    write_pem(cert_rsa, x, mid, NULL);
    X509_free(x);
    write_pem(key_rsa, NULL, NULL, rsa);
    x = make_cert("server.example", san, ed, ca, ca_key, -1, 30, 0);
    write_pem(cert_ed, x, NULL, NULL);
    X509_free(x);
    write_pem(key_ed, NULL, NULL, ed);
    /* The EC key again: expired, for another host, from another CA. */
    x = make_cert("server.example", san, ec, ca, ca_key, -30, -1, 0);
    write_pem(cert_exp, x, NULL, NULL);
    X509_free(x);
    x = make_cert("other.example", "DNS:other.example", ec, ca, ca_key, -1, 30, 0);
    write_pem(cert_host, x, NULL, NULL);
    X509_free(x);
    x = make_cert("server.example", san, ec, ca2, ca2_key, -1, 30, 0);
    write_pem(cert_other, x, NULL, NULL);
    X509_free(x);
    X509_free(ca);
    X509_free(ca2);
    X509_free(mid);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(ca2_key);
    EVP_PKEY_free(mid_key);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ed);
}

static void remove_pki(void)
{
    const char *files[] = {path_ca, path_ca2, cert_ec,  key_ec,    cert_rsa,  key_rsa,
                           cert_ed, key_ed,   cert_exp, cert_host, cert_other};

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        unlink(files[i]);
    }
    rmdir(dir);
}

/* ---------------------------------------------------------------- plumbing */

static struct tcpcrypt_session sess(int role, unsigned seed)
{
    struct tcpcrypt_session s;

    memset(&s, 0, sizeof(s));
    s.id[0] = 0x23; /* TEP byte, then K_LEN bytes */
    for (size_t i = 1; i < TCPCRYPT_SESSID_LEN; i++) {
        s.id[i] = (unsigned char)(seed * 131 + i * 7);
    }
    s.id_len = TCPCRYPT_SESSID_LEN;
    s.role = role;
    return s;
}

static void set_timeout(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
        perror("SO_RCVTIMEO");
        exit(1);
    }
}

static void pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        exit(1);
    }
    set_timeout(sv[0], RCV_TIMEOUT_MS);
    set_timeout(sv[1], RCV_TIMEOUT_MS);
}

enum kind { K_PSK, K_CERT_SERVER, K_CERT_CLIENT, K_BATCH, K_PASSWORD };

struct side {
    enum kind kind;
    struct tcpcrypt_session s;
    const void *key; /* PSK */
    size_t keylen;
    struct tcpcrypt_auth_signer *signer;
    struct tcpcrypt_auth_batch *batch;
    const char *ca, *host;
    const char *password;
    int fd;
    int rc;
    int data_ok; /* after OK: the peer's next application bytes arrived intact */
    pthread_t t;
};

static const char app_data[] = "application data after authentication";

static int run_auth(struct side *sd)
{
    switch (sd->kind) {
    case K_PSK:
        return tcpcrypt_auth_psk(sd->fd, &sd->s, sd->key, sd->keylen);
    case K_CERT_SERVER:
        return tcpcrypt_auth_cert_server(sd->fd, &sd->s, sd->signer);
    case K_CERT_CLIENT:
        return tcpcrypt_auth_cert_client(sd->fd, &sd->s, sd->ca, sd->host);
    case K_BATCH:
        return tcpcrypt_auth_cert_server_batch(sd->fd, &sd->s, sd->batch);
    case K_PASSWORD:
        return tcpcrypt_auth_password(sd->fd, &sd->s, sd->password, "alice", "server");
    }
    return TCPCRYPT_AUTH_EINTERNAL;
}

static void *side_main(void *arg)
{
    struct side *sd = arg;
    char buf[sizeof(app_data)];
    size_t got = 0;

    sd->rc = run_auth(sd);
    if (sd->rc != TCPCRYPT_AUTH_OK) {
        /* As an application must: no trust, close. */
        shutdown(sd->fd, SHUT_RDWR);
        return NULL;
    }
    /* The application's own bytes follow at once; the peer must read them
     * intact after its call (no read-ahead into them). */
    if (send(sd->fd, app_data, sizeof(app_data), MSG_NOSIGNAL) != (ssize_t)sizeof(app_data)) {
        return NULL;
    }
    while (got < sizeof(buf)) {
        ssize_t n = recv(sd->fd, buf + got, sizeof(buf) - got, 0);

        if (n <= 0) {
            return NULL;
        }
        got += (size_t)n;
    }
    sd->data_ok = memcmp(buf, app_data, sizeof(buf)) == 0;
    return NULL;
}

static void start(struct side *sd, int fd)
{
    sd->fd = fd;
    sd->rc = 1;
    sd->data_ok = 0;
    if (pthread_create(&sd->t, NULL, side_main, sd) != 0) {
        perror("pthread_create");
        exit(1);
    }
}

static void finish(struct side *sd)
{
    pthread_join(sd->t, NULL);
    close(sd->fd);
}

/* Runs a and b on the two ends of a fresh pair. */
static void run_pair(struct side *a, struct side *b)
{
    int sv[2];

    pair(sv);
    start(a, sv[0]);
    start(b, sv[1]);
    finish(a);
    finish(b);
}

static void say(const char *what, int ra, int rb)
{
    printf("test_auth: %-58s -> %s / %s\n", what, tcpcrypt_auth_strerror(ra),
           tcpcrypt_auth_strerror(rb));
}

static const char psk1[] = "a shared secret of 32 bytes.....";
static const char psk2[] = "another secret, also 32 bytes...";

static struct side psk_side(int role, unsigned seed, const char *key)
{
    struct side sd = {.kind = K_PSK, .s = sess(role, seed), .key = key, .keylen = 32};

    return sd;
}

/* ---------------------------------------------------------------- raw peers */

/* Reads one whole message (header and body) from fd into buf. */
static size_t read_msg(int fd, uint8_t *buf, size_t cap)
{
    size_t got = 0, want = TC_AUTH_HDR_LEN;

    while (got < want) {
        ssize_t n = recv(fd, buf + got, want - got, 0);

        if (n <= 0) {
            return 0;
        }
        got += (size_t)n;
        if (got == TC_AUTH_HDR_LEN && want == TC_AUTH_HDR_LEN) {
            want += (size_t)buf[5] << 16 | (size_t)buf[6] << 8 | buf[7];
            if (want > cap) {
                return 0;
            }
        }
    }
    return got;
}

/* Best effort: the receiver may have given up and closed already. */
static void send_all(int fd, const void *p, size_t len)
{
    (void)!send(fd, p, len, MSG_NOSIGNAL);
}

/* One side against bytes written by the test: returns the side's result. */
static int against_bytes(struct side *sd, const void *bytes, size_t len, int close_after)
{
    uint8_t sink[TC_AUTH_HDR_LEN + TC_AUTH_BODY_MAX];
    int sv[2];

    pair(sv);
    start(sd, sv[0]);
    if (len > 0) {
        send_all(sv[1], bytes, len);
    }
    if (close_after) {
        shutdown(sv[1], SHUT_WR);
    }
    finish(sd);
    (void)!read_msg(sv[1], sink, sizeof(sink));
    close(sv[1]);
    return sd->rc;
}

/* ---------------------------------------------------------------- cases */

static void test_errors_and_strings(void)
{
    int codes[] = {TCPCRYPT_AUTH_OK,         TCPCRYPT_AUTH_ENOTENCRYPTED, TCPCRYPT_AUTH_EIO,
                   TCPCRYPT_AUTH_ETRUNCATED, TCPCRYPT_AUTH_ETIMEOUT,      TCPCRYPT_AUTH_EPROTO,
                   TCPCRYPT_AUTH_EMETHOD,    TCPCRYPT_AUTH_EROLE,         TCPCRYPT_AUTH_ESESSION,
                   TCPCRYPT_AUTH_EBADMAC,    TCPCRYPT_AUTH_ECERT,         TCPCRYPT_AUTH_EEXPIRED,
                   TCPCRYPT_AUTH_EHOST,      TCPCRYPT_AUTH_EBADSIG,       TCPCRYPT_AUTH_EPASSWORD,
                   TCPCRYPT_AUTH_EREJECTED,  TCPCRYPT_AUTH_ECONFIG,       TCPCRYPT_AUTH_ENOTAWARE,
                   TCPCRYPT_AUTH_EINTERNAL};
    size_t n = sizeof(codes) / sizeof(codes[0]);
    int distinct = 1;

    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (strcmp(tcpcrypt_auth_strerror(codes[i]), tcpcrypt_auth_strerror(codes[j])) == 0) {
                distinct = 0;
            }
        }
    }
    CHECK(distinct);
    CHECK(tcpcrypt_auth_strerror(12345) != NULL);
    printf("test_auth: %zu result codes, each with its own message: %s\n", n,
           distinct ? "yes" : "no");
}

static void test_not_encrypted(void)
{
    struct tcpcrypt_session s;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rs, rp, ra, re;

    CHECK(fd >= 0);
    /* A kernel TCP socket: no tcpcrypt there (ENOPROTOOPT). */
    rs = tcpcrypt_session_get(fd, &s);
    rp = tcpcrypt_auth_psk(fd, NULL, psk1, 32);
    ra = tcpcrypt_aa_peer(fd);
    re = tcpcrypt_aa_enable(fd, 0);
    CHECK_INT(rs, TCPCRYPT_AUTH_ENOTENCRYPTED);
    CHECK_INT(rp, TCPCRYPT_AUTH_ENOTENCRYPTED);
    CHECK_INT(ra, 0);
    CHECK_INT(re, TCPCRYPT_AUTH_ENOTENCRYPTED);
    printf("test_auth: kernel TCP socket: session_get %d, psk(s = NULL) %d, aa_peer %d, "
           "aa_enable %d\n",
           rs, rp, ra, re);
    close(fd);
}

static void test_psk(void)
{
    struct side a, b;

    a = psk_side('A', 1, psk1);
    b = psk_side('B', 1, psk1);
    run_pair(&a, &b);
    CHECK_INT(a.rc, TCPCRYPT_AUTH_OK);
    CHECK_INT(b.rc, TCPCRYPT_AUTH_OK);
    CHECK(a.data_ok && b.data_ok);
    say("psk: same key, same session", a.rc, b.rc);
    printf("test_auth: psk: application bytes after the exchange intact: %s\n",
           a.data_ok && b.data_ok ? "yes" : "no");

    a = psk_side('A', 1, psk1);
    b = psk_side('B', 1, psk2);
    run_pair(&a, &b);
    CHECK_INT(a.rc, TCPCRYPT_AUTH_EBADMAC);
    CHECK_INT(b.rc, TCPCRYPT_AUTH_EBADMAC);
    say("psk: wrong key", a.rc, b.rc);

    /* A man in the middle: each end has its own session with him. */
    a = psk_side('A', 1, psk1);
    b = psk_side('B', 2, psk1);
    run_pair(&a, &b);
    CHECK_INT(a.rc, TCPCRYPT_AUTH_ESESSION);
    CHECK_INT(b.rc, TCPCRYPT_AUTH_ESESSION);
    say("psk: two session IDs (man in the middle)", a.rc, b.rc);

    /* Reflection: both ends believe they are A. */
    a = psk_side('A', 1, psk1);
    b = psk_side('A', 1, psk1);
    run_pair(&a, &b);
    CHECK_INT(a.rc, TCPCRYPT_AUTH_EROLE);
    CHECK_INT(b.rc, TCPCRYPT_AUTH_EROLE);
    say("psk: both ends claim role A (reflection)", a.rc, b.rc);

    a = psk_side('A', 1, psk1);
    a.keylen = 8;
    CHECK_INT(tcpcrypt_auth_psk(0, &a.s, psk1, 8), TCPCRYPT_AUTH_ECONFIG);
}

/* B's authenticator from one connection, replayed into another. */
static void test_psk_replay(void)
{
    uint8_t msg[TC_AUTH_HDR_LEN + 128];
    struct side a, b;
    size_t len;
    int sv[2], rc;

    b = psk_side('B', 1, psk1);
    pair(sv);
    start(&b, sv[1]);
    len = read_msg(sv[0], msg, sizeof(msg));
    close(sv[0]);
    finish(&b);
    CHECK(len > TC_AUTH_HDR_LEN);
    CHECK_INT(b.rc, TCPCRYPT_AUTH_ETRUNCATED);
    say("psk: peer closes before its message", b.rc, b.rc);

    a = psk_side('A', 3, psk1);
    rc = against_bytes(&a, msg, len, 0);
    CHECK_INT(rc, TCPCRYPT_AUTH_ESESSION);
    say("psk: authenticator replayed from another connection", rc, rc);

    /* The same message with its session ID edited to match: the MAC
     * does not. */
    a = psk_side('A', 3, psk1);
    memcpy(msg + TC_AUTH_HDR_LEN + TC_AUTH_SID_HDR, a.s.id, a.s.id_len);
    rc = against_bytes(&a, msg, len, 0);
    CHECK_INT(rc, TCPCRYPT_AUTH_EBADMAC);
    say("psk: replay with the session ID rewritten", rc, rc);

    /* Half of a message, then the peer closes. */
    a = psk_side('A', 1, psk1);
    rc = against_bytes(&a, msg, len / 2, 1);
    CHECK_INT(rc, TCPCRYPT_AUTH_ETRUNCATED);
    say("psk: half a message, then close", rc, rc);

    /* A body longer than the type allows. */
    a = psk_side('A', 1, psk1);
    msg[7] = 0xff;
    rc = against_bytes(&a, msg, len, 1);
    CHECK_INT(rc, TCPCRYPT_AUTH_EPROTO);
    say("psk: length beyond the limit", rc, rc);
}

static void test_garbage_silence(void)
{
    static const char http[] = "GET / HTTP/1.1\r\nHost: server.example\r\n\r\n";
    struct side a;
    struct timespec t0, t1;
    double secs;
    int rc, sv[2];

    a = psk_side('A', 1, psk1);
    rc = against_bytes(&a, http, sizeof(http) - 1, 0);
    CHECK_INT(rc, TCPCRYPT_AUTH_EPROTO);
    say("psk: an HTTP request instead", rc, rc);

    a = (struct side){
        .kind = K_CERT_CLIENT, .s = sess('A', 1), .ca = path_ca, .host = "server.example"};
    rc = against_bytes(&a, http, sizeof(http) - 1, 0);
    CHECK_INT(rc, TCPCRYPT_AUTH_EPROTO);
    say("cert client: an HTTP request instead", rc, rc);

    /* Silence: the socket's SO_RCVTIMEO bounds the wait. */
    a = psk_side('A', 1, psk1);
    pair(sv);
    set_timeout(sv[0], 300);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    start(&a, sv[0]);
    finish(&a);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(sv[1]);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK_INT(a.rc, TCPCRYPT_AUTH_ETIMEOUT);
    CHECK(secs >= 0.25 && secs < 3.0);
    printf("test_auth: psk: silent peer, SO_RCVTIMEO 300 ms -> %s after %.2f s\n",
           tcpcrypt_auth_strerror(a.rc), secs);
}

static struct side cert_server(int role, unsigned seed, struct tcpcrypt_auth_signer *sg)
{
    struct side sd = {.kind = K_CERT_SERVER, .s = sess(role, seed), .signer = sg};

    return sd;
}

static struct side cert_client(int role, unsigned seed, const char *ca, const char *host)
{
    struct side sd = {.kind = K_CERT_CLIENT, .s = sess(role, seed), .ca = ca, .host = host};

    return sd;
}

static struct tcpcrypt_auth_signer *signer(const char *cert, const char *key)
{
    int err = 1;
    struct tcpcrypt_auth_signer *sg = tcpcrypt_auth_signer_new(cert, key, &err);

    CHECK(sg != NULL);
    CHECK_INT(err, TCPCRYPT_AUTH_OK);
    if (sg == NULL) {
        exit(1);
    }
    return sg;
}

static void cert_case(const char *what, struct tcpcrypt_auth_signer *sg, unsigned seed_b,
                      int role_b, const char *ca, const char *host, int want_client,
                      int want_server)
{
    struct side srv = cert_server('A', 1, sg), cli = cert_client(role_b, seed_b, ca, host);

    run_pair(&srv, &cli);
    CHECK_INT(cli.rc, want_client);
    CHECK_INT(srv.rc, want_server);
    if (want_client == TCPCRYPT_AUTH_OK) {
        CHECK(cli.data_ok && srv.data_ok);
    }
    say(what, cli.rc, srv.rc);
}

static void test_cert(void)
{
    struct tcpcrypt_auth_signer *ec = signer(cert_ec, key_ec), *rsa = signer(cert_rsa, key_rsa);
    struct tcpcrypt_auth_signer *ed = signer(cert_ed, key_ed), *exp = signer(cert_exp, key_ec);
    struct tcpcrypt_auth_signer *host = signer(cert_host, key_ec);
    struct tcpcrypt_auth_signer *other = signer(cert_other, key_ec);
    int err = 0;

    printf("test_auth: results below: client / server\n");
    cert_case("cert: ECDSA, host name", ec, 1, 'B', path_ca, "server.example", TCPCRYPT_AUTH_OK,
              TCPCRYPT_AUTH_OK);
    cert_case("cert: RSA-PSS via an intermediate, IP address", rsa, 1, 'B', path_ca, "192.0.2.7",
              TCPCRYPT_AUTH_OK, TCPCRYPT_AUTH_OK);
    cert_case("cert: Ed25519", ed, 1, 'B', path_ca, "server.example", TCPCRYPT_AUTH_OK,
              TCPCRYPT_AUTH_OK);
    cert_case("cert: expired", exp, 1, 'B', path_ca, "server.example", TCPCRYPT_AUTH_EEXPIRED,
              TCPCRYPT_AUTH_EREJECTED);
    cert_case("cert: for another host", host, 1, 'B', path_ca, "server.example",
              TCPCRYPT_AUTH_EHOST, TCPCRYPT_AUTH_EREJECTED);
    cert_case("cert: another IP address", ec, 1, 'B', path_ca, "192.0.2.8", TCPCRYPT_AUTH_EHOST,
              TCPCRYPT_AUTH_EREJECTED);
    cert_case("cert: from another CA", other, 1, 'B', path_ca, "server.example",
              TCPCRYPT_AUTH_ECERT, TCPCRYPT_AUTH_EREJECTED);
    cert_case("cert: two session IDs (man in the middle)", ec, 2, 'B', path_ca, "server.example",
              TCPCRYPT_AUTH_ESESSION, TCPCRYPT_AUTH_EREJECTED);
    cert_case("cert: client also claims role A (reflection)", ec, 1, 'A', path_ca, "server.example",
              TCPCRYPT_AUTH_EROLE, TCPCRYPT_AUTH_EREJECTED);
    {
        struct side srv = cert_server('A', 1, ec);
        struct side cli = cert_client('B', 1, "/nonexistent/ca.pem", "server.example");

        /* The client gives up before reading; the server sees the close
         * (EOF or a reset, whichever comes first). */
        run_pair(&srv, &cli);
        CHECK_INT(cli.rc, TCPCRYPT_AUTH_ECONFIG);
        CHECK(srv.rc == TCPCRYPT_AUTH_ETRUNCATED || srv.rc == TCPCRYPT_AUTH_EIO);
        say("cert: unreadable CA file", cli.rc, srv.rc);
    }

    /* Another method on each end. */
    {
        struct side srv = cert_server('A', 1, ec), p = psk_side('B', 1, psk1);

        run_pair(&srv, &p);
        CHECK_INT(p.rc, TCPCRYPT_AUTH_EMETHOD);
        CHECK_INT(srv.rc, TCPCRYPT_AUTH_EMETHOD);
        say("cert server against a psk peer", p.rc, srv.rc);
    }

    /* Signers that cannot be made. */
    CHECK(tcpcrypt_auth_signer_new("/nonexistent.pem", key_ec, &err) == NULL);
    CHECK_INT(err, TCPCRYPT_AUTH_ECONFIG);
    err = 0;
    CHECK(tcpcrypt_auth_signer_new(cert_rsa, key_ec, &err) == NULL); /* key of another cert */
    CHECK_INT(err, TCPCRYPT_AUTH_ECONFIG);
    printf("test_auth: signer with a missing file or the key of another certificate: %s\n",
           tcpcrypt_auth_strerror(err));

    tcpcrypt_auth_signer_free(ec);
    tcpcrypt_auth_signer_free(rsa);
    tcpcrypt_auth_signer_free(ed);
    tcpcrypt_auth_signer_free(exp);
    tcpcrypt_auth_signer_free(host);
    tcpcrypt_auth_signer_free(other);
}

/* A single-session signature with one byte of the signature flipped in
 * flight. */
static void test_cert_tampered_sig(void)
{
    struct tcpcrypt_auth_signer *ec = signer(cert_ec, key_ec);
    struct side srv = cert_server('A', 1, ec), cli = cert_client('B', 1, path_ca, "server.example");
    uint8_t *msg = malloc(TC_AUTH_HDR_LEN + TC_AUTH_BODY_MAX);
    size_t len, off = TC_AUTH_HDR_LEN + TC_AUTH_SID_HDR + TCPCRYPT_SESSID_LEN + 9;
    int s1[2], s2[2];
    uint8_t reply[TC_AUTH_HDR_LEN + 8];
    size_t rlen;

    CHECK(msg != NULL);
    pair(s1);
    pair(s2);
    start(&srv, s1[0]);
    start(&cli, s2[0]);
    len = read_msg(s1[1], msg, TC_AUTH_HDR_LEN + TC_AUTH_BODY_MAX);
    CHECK(len > off + 10);
    msg[off + 2 + 5] ^= 0x01; /* inside the signature (after its length) */
    send_all(s2[1], msg, len);
    rlen = read_msg(s2[1], reply, sizeof(reply));
    send_all(s1[1], reply, rlen);
    finish(&srv);
    finish(&cli);
    close(s1[1]);
    close(s2[1]);
    CHECK_INT(cli.rc, TCPCRYPT_AUTH_EBADSIG);
    CHECK_INT(srv.rc, TCPCRYPT_AUTH_EREJECTED);
    say("cert: one signature byte flipped in flight", cli.rc, srv.rc);
    {
        /* The same message cut in half by a peer that closes. */
        struct side c2 = cert_client('B', 1, path_ca, "server.example");
        int rc;

        msg[off + 2 + 5] ^= 0x01;
        rc = against_bytes(&c2, msg, len / 2, 1);
        CHECK_INT(rc, TCPCRYPT_AUTH_ETRUNCATED);
        say("cert: half the server's message, then close", rc, rc);
    }
    free(msg);
    tcpcrypt_auth_signer_free(ec);
}

/* ---------------------------------------------------------------- batch */

static void test_merkle(void)
{
    uint8_t leaves[20][TC_AUTH_HASH_LEN], root[TC_AUTH_HASH_LEN], got[TC_AUTH_HASH_LEN];
    uint8_t path[TC_AUTH_PATH_MAX][TC_AUTH_HASH_LEN];
    unsigned ok = 0, bad_ok = 0, total = 0;

    for (unsigned i = 0; i < 20; i++) {
        struct tcpcrypt_session s = sess('B', 100 + i);

        tc_auth_leaf(&s, leaves[i]);
    }
    for (size_t n = 1; n <= 20; n++) {
        tc_auth_merkle_root((const uint8_t(*)[TC_AUTH_HASH_LEN])leaves, n, root);
        for (size_t i = 0; i < n; i++) {
            size_t pl = tc_auth_merkle_path((const uint8_t(*)[TC_AUTH_HASH_LEN])leaves, n, i, path);

            total++;
            if (tc_auth_merkle_verify(leaves[i], i, n, (const uint8_t(*)[TC_AUTH_HASH_LEN])path, pl,
                                      got) &&
                memcmp(got, root, sizeof(root)) == 0) {
                ok++;
            }
            /* The same path at another index proves nothing. */
            if (n > 1 &&
                tc_auth_merkle_verify(leaves[i], (i + 1) % n, n,
                                      (const uint8_t(*)[TC_AUTH_HASH_LEN])path, pl, got) &&
                memcmp(got, root, sizeof(root)) == 0) {
                bad_ok++;
            }
        }
    }
    /* A path does not fix the tree size (a left leaf of a tree of 3 has the
     * path it would have in a tree of 4): the signature covers the size. */
    {
        uint8_t t1[128], t2[128];
        size_t l1 = tc_auth_root_tbs(root, 3, t1, sizeof(t1)),
               l2 = tc_auth_root_tbs(root, 4, t2, sizeof(t2));

        CHECK(l1 == l2 && l1 > 0 && memcmp(t1, t2, l1) != 0);
    }
    CHECK_INT(ok, total);
    CHECK_INT(bad_ok, 0);
    printf("test_auth: merkle: %u of %u paths (trees of 1 to 20) verify; %u at a wrong index "
           "accepted\n",
           ok, total, bad_ok);
}

struct batch_run {
    struct side srv, cli;
    int sv[2];
};

/* n sessions through one batch object at once; returns the seconds taken. */
static double batch_round(struct tcpcrypt_auth_batch *b, unsigned n, unsigned seed, int *all_ok)
{
    struct batch_run *runs = calloc(n, sizeof(*runs));
    struct timespec t0, t1;

    *all_ok = runs != NULL;
    if (runs == NULL) {
        return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 0; i < n; i++) {
        runs[i].srv = (struct side){.kind = K_BATCH, .s = sess('A', seed + i), .batch = b};
        runs[i].cli = cert_client('B', seed + i, path_ca, "server.example");
        pair(runs[i].sv);
        start(&runs[i].srv, runs[i].sv[0]);
        start(&runs[i].cli, runs[i].sv[1]);
    }
    for (unsigned i = 0; i < n; i++) {
        finish(&runs[i].srv);
        finish(&runs[i].cli);
        if (runs[i].srv.rc != TCPCRYPT_AUTH_OK || runs[i].cli.rc != TCPCRYPT_AUTH_OK ||
            !runs[i].cli.data_ok) {
            *all_ok = 0;
            fprintf(stderr, "batch session %u: client %d, server %d\n", i, runs[i].cli.rc,
                    runs[i].srv.rc);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(runs);
    return (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
}

static void test_batch(void)
{
    struct tcpcrypt_auth_signer *ec = signer(cert_ec, key_ec);
    struct tcpcrypt_auth_batch *b;
    unsigned long ses = 0, sigs = 0;
    int err = 1, all_ok;
    double secs;

    /* Ten sessions within one window: one signature. */
    b = tcpcrypt_auth_batch_new(ec, 500000, 64, &err);
    CHECK(b != NULL);
    CHECK_INT(err, TCPCRYPT_AUTH_OK);
    secs = batch_round(b, 10, 200, &all_ok);
    tcpcrypt_auth_batch_stats(b, &ses, &sigs);
    CHECK(all_ok);
    CHECK_INT(ses, 10);
    CHECK_INT(sigs, 1);
    printf("test_auth: batch: 10 concurrent sessions, window 500 ms: all verified %s, %lu "
           "sessions, %lu signature(s), %.2f s\n",
           all_ok ? "yes" : "no", ses, sigs, secs);
    tcpcrypt_auth_batch_free(b);

    /* max_batch 4 closes rounds before the (long) window ends. */
    b = tcpcrypt_auth_batch_new(ec, 5000000, 4, &err);
    CHECK(b != NULL);
    secs = batch_round(b, 8, 300, &all_ok);
    tcpcrypt_auth_batch_stats(b, &ses, &sigs);
    CHECK(all_ok);
    CHECK_INT(ses, 8);
    CHECK_INT(sigs, 2);
    CHECK(secs < 4.0);
    printf("test_auth: batch: 8 sessions, max_batch 4, window 5 s: all verified %s, %lu "
           "sessions, %lu signatures, %.2f s\n",
           all_ok ? "yes" : "no", ses, sigs, secs);
    tcpcrypt_auth_batch_free(b);

    CHECK(tcpcrypt_auth_batch_new(ec, 1000, 0, &err) == NULL);
    CHECK_INT(err, TCPCRYPT_AUTH_ECONFIG);
    tcpcrypt_auth_signer_free(ec);
}

/* Two sessions share a batch; one of them travels through a relay that
 * flips a byte of its inclusion path. */
static void test_batch_tampered(void)
{
    struct tcpcrypt_auth_signer *ec = signer(cert_ec, key_ec);
    struct tcpcrypt_auth_batch *b = tcpcrypt_auth_batch_new(ec, 2000000, 2, NULL);
    struct side s1 = {.kind = K_BATCH, .s = sess('A', 400), .batch = b};
    struct side s2 = {.kind = K_BATCH, .s = sess('A', 401), .batch = b};
    struct side c1 = cert_client('B', 400, path_ca, "server.example");
    struct side c2 = cert_client('B', 401, path_ca, "server.example");
    uint8_t *msg = malloc(TC_AUTH_HDR_LEN + TC_AUTH_BODY_MAX), reply[TC_AUTH_HDR_LEN + 8];
    size_t off = TC_AUTH_HDR_LEN + TC_AUTH_SID_HDR + TCPCRYPT_SESSID_LEN;
    size_t len, rlen;
    unsigned long ses = 0, sigs = 0;
    int p1[2], p2[2], r2[2];

    CHECK(b != NULL && msg != NULL);
    pair(p1);
    pair(p2);
    pair(r2);
    start(&s1, p1[0]);
    start(&c1, p1[1]);
    start(&s2, p2[0]);
    start(&c2, r2[0]);
    len = read_msg(p2[1], msg, TC_AUTH_HDR_LEN + TC_AUTH_BODY_MAX);
    CHECK(len > off + 9 + TC_AUTH_HASH_LEN);
    CHECK_INT(msg[off + 3], 2); /* a tree of two */
    CHECK_INT(msg[off + 8], 1); /* one path element */
    msg[off + 9 + 17] ^= 0x40;
    send_all(r2[1], msg, len);
    rlen = read_msg(r2[1], reply, sizeof(reply));
    send_all(p2[1], reply, rlen);
    finish(&s1);
    finish(&c1);
    finish(&s2);
    finish(&c2);
    close(p2[1]);
    close(r2[1]);
    tcpcrypt_auth_batch_stats(b, &ses, &sigs);
    CHECK_INT(c1.rc, TCPCRYPT_AUTH_OK);
    CHECK_INT(s1.rc, TCPCRYPT_AUTH_OK);
    CHECK_INT(c2.rc, TCPCRYPT_AUTH_EBADSIG);
    CHECK_INT(s2.rc, TCPCRYPT_AUTH_EREJECTED);
    CHECK_INT(sigs, 1);
    say("batch of 2: untouched session", c1.rc, s1.rc);
    say("batch of 2: path byte flipped in flight", c2.rc, s2.rc);
    free(msg);
    tcpcrypt_auth_batch_free(b);
    tcpcrypt_auth_signer_free(ec);
}

/* ---------------------------------------------------------------- password */

static struct side pw_side(int role, unsigned seed, const char *pw)
{
    struct side sd = {.kind = K_PASSWORD, .s = sess(role, seed), .password = pw};

    return sd;
}

/* A man in the middle who knows the password: he relays between two
 * connections with different session IDs, rewriting the session ID each
 * message carries in clear to the one its receiver expects. */
static void relay_rewrite(int fa, int fb, const struct tcpcrypt_session *sa,
                          const struct tcpcrypt_session *sb)
{
    uint8_t msg[TC_AUTH_HDR_LEN + 256];
    int open_a = 1, open_b = 1;

    while (open_a || open_b) {
        struct pollfd p[2] = {{.fd = open_a ? fa : -1, .events = POLLIN},
                              {.fd = open_b ? fb : -1, .events = POLLIN}};

        if (poll(p, 2, RCV_TIMEOUT_MS) <= 0) {
            break;
        }
        for (int i = 0; i < 2; i++) {
            int from = i == 0 ? fa : fb, to = i == 0 ? fb : fa;
            const struct tcpcrypt_session *dst = i == 0 ? sb : sa;
            size_t len;

            if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            len = read_msg(from, msg, sizeof(msg));
            if (len == 0) {
                shutdown(to, SHUT_WR);
                *(i == 0 ? &open_a : &open_b) = 0;
                continue;
            }
            if (len >= TC_AUTH_HDR_LEN + TC_AUTH_SID_HDR + dst->id_len &&
                (msg[4] == TC_AUTH_T_PAKE_SHARE || msg[4] == TC_AUTH_T_PAKE_CONFIRM)) {
                memcpy(msg + TC_AUTH_HDR_LEN + TC_AUTH_SID_HDR, dst->id, dst->id_len);
            }
            send_all(to, msg, len);
        }
    }
}

static void test_password_mitm(void)
{
    struct side a = pw_side('A', 1, "correct horse"), b = pw_side('B', 2, "correct horse");
    int p1[2], p2[2];

    pair(p1);
    pair(p2);
    start(&a, p1[0]);
    start(&b, p2[0]);
    relay_rewrite(p1[1], p2[1], &a.s, &b.s);
    finish(&a);
    finish(&b);
    close(p1[1]);
    close(p2[1]);
    CHECK(a.rc == TCPCRYPT_AUTH_EPASSWORD || a.rc == TCPCRYPT_AUTH_EREJECTED);
    CHECK(b.rc == TCPCRYPT_AUTH_EPASSWORD || b.rc == TCPCRYPT_AUTH_EREJECTED);
    CHECK(a.rc == TCPCRYPT_AUTH_EPASSWORD || b.rc == TCPCRYPT_AUTH_EPASSWORD);
    say("password: relay with the right password, session IDs rewritten", a.rc, b.rc);
}

static void test_password(void)
{
    unsigned char w1[TCPCRYPT_AUTH_W_LEN], w2[TCPCRYPT_AUTH_W_LEN], w3[TCPCRYPT_AUTH_W_LEN];
    struct side a, b;
    int ok;

    a = pw_side('A', 1, "correct horse");
    b = pw_side('B', 1, "correct horse");
    run_pair(&a, &b);
    CHECK_INT(a.rc, TCPCRYPT_AUTH_OK);
    CHECK_INT(b.rc, TCPCRYPT_AUTH_OK);
    CHECK(a.data_ok && b.data_ok);
    say("password: same password", a.rc, b.rc);

    a = pw_side('A', 1, "correct horse");
    b = pw_side('B', 1, "battery staple");
    run_pair(&a, &b);
    CHECK(a.rc == TCPCRYPT_AUTH_EPASSWORD || a.rc == TCPCRYPT_AUTH_EREJECTED);
    CHECK(b.rc == TCPCRYPT_AUTH_EPASSWORD || b.rc == TCPCRYPT_AUTH_EREJECTED);
    CHECK(a.rc == TCPCRYPT_AUTH_EPASSWORD || b.rc == TCPCRYPT_AUTH_EPASSWORD);
    say("password: wrong password", a.rc, b.rc);

    a = pw_side('A', 1, "correct horse");
    b = pw_side('B', 2, "correct horse");
    run_pair(&a, &b);
    CHECK_INT(a.rc, TCPCRYPT_AUTH_ESESSION);
    CHECK_INT(b.rc, TCPCRYPT_AUTH_ESESSION);
    say("password: two session IDs (man in the middle)", a.rc, b.rc);

    a = pw_side('B', 1, "correct horse");
    b = pw_side('B', 1, "correct horse");
    run_pair(&a, &b);
    CHECK_INT(a.rc, TCPCRYPT_AUTH_EROLE);
    CHECK_INT(b.rc, TCPCRYPT_AUTH_EROLE);
    say("password: both ends claim role B (reflection)", a.rc, b.rc);

    a = pw_side('A', 1, "correct horse");
    b = psk_side('B', 1, psk1);
    run_pair(&a, &b);
    CHECK_INT(a.rc, TCPCRYPT_AUTH_EMETHOD);
    CHECK_INT(b.rc, TCPCRYPT_AUTH_EMETHOD);
    say("password against psk (another method)", a.rc, b.rc);

    /* The stored verifier: derive once, same w; other identities, other w. */
    CHECK_INT(tcpcrypt_auth_password_derive("correct horse", "alice", "server", w1), 0);
    CHECK_INT(tcpcrypt_auth_password_derive("correct horse", "alice", "server", w2), 0);
    CHECK_INT(tcpcrypt_auth_password_derive("correct horse", "bob", "server", w3), 0);
    ok = memcmp(w1, w2, sizeof(w1)) == 0 && memcmp(w1, w3, sizeof(w1)) != 0;
    CHECK(ok);
    printf("test_auth: password: derive is deterministic and salted by the identities: %s\n",
           ok ? "yes" : "no");
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/tc_auth_XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    make_pki();
    test_errors_and_strings();
    test_not_encrypted();
    test_psk();
    test_psk_replay();
    test_garbage_silence();
    test_cert();
    test_cert_tampered_sig();
    test_merkle();
    test_batch();
    test_batch_tampered();
    test_password();
    test_password_mitm();
    remove_pki();
    return tc_check_exit("test_auth");
}
