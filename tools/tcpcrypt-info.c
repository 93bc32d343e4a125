/*
 * tcpcrypt-info: set TCP_CRYPT_* options, make (or accept) a connection and
 * print what tcpcrypt says about it, one "name value" line each.  Run it
 * under tcpcrypt-run; without the library every option answers ENOPROTOOPT,
 * as on a kernel without tcpcrypt.
 *
 *   tcpcrypt-info [--set NAME=VALUE]... [--send TEXT] connect HOST PORT
 *   tcpcrypt-info [--set NAME=VALUE]... [--count N] listen PORT
 *
 * A listener echoes what each client sends until the client shuts down.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcpcrypt/tcpcrypt.h"

#define SETS_MAX 16

struct set {
    int name;
    int v[TCPCRYPT_CONF_MAX];
    size_t n;
    bool list;
};

static const struct {
    const char *key;
    int name;
    bool list;
} names[] = {
    {"enable", TCP_CRYPT_ENABLE, false},      {"role_b", TCP_CRYPT_ROLE_B, false},
    {"app_aware", TCP_CRYPT_APP_AWARE, false}, {"aa_mandatory", TCP_CRYPT_AA_MANDATORY, false},
    {"mandatory", TCP_CRYPT_MANDATORY, false}, {"nocache", TCP_CRYPT_NOCACHE, false},
    {"support", TCP_CRYPT_SUPPORT, false},     {"cmode", TCP_CRYPT_CMODE, false},
    {"securst", TCP_CRYPT_SECURST, false},     {"flush", TCP_CRYPT_CACHE_FLUSH, false},
    {"pkconf", TCP_CRYPT_PKCONF, true},        {"cconf", TCP_CRYPT_CCONF, true},
    {"sconf", TCP_CRYPT_SCONF, true},
};

static void __attribute__((noreturn)) usage(int code)
{
    fprintf(code == 0 ? stdout : stderr,
            "usage: tcpcrypt-info [--set NAME=VALUE]... [--send TEXT] connect HOST PORT\n"
            "       tcpcrypt-info [--set NAME=VALUE]... [--count N] listen PORT\n"
            "NAME: enable role_b app_aware aa_mandatory mandatory nocache support cmode\n"
            "      securst flush (ints); pkconf cconf sconf (comma-separated numbers)\n");
    exit(code);
}

static void __attribute__((noreturn)) die(const char *what)
{
    printf("error %s: %s\n", what, strerror(errno));
    exit(1);
}

static void parse_set(const char *arg, struct set *s)
{
    const char *eq = strchr(arg, '=');
    char *end;
    size_t k;

    if (eq == NULL) {
        usage(2);
    }
    for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        if (strlen(names[k].key) == (size_t)(eq - arg) &&
            strncmp(names[k].key, arg, (size_t)(eq - arg)) == 0) {
            break;
        }
    }
    if (k == sizeof(names) / sizeof(names[0])) {
        fprintf(stderr, "tcpcrypt-info: unknown option name in '%s'\n", arg);
        exit(2);
    }
    s->name = names[k].name;
    s->list = names[k].list;
    s->n = 0;
    for (const char *p = eq + 1; *p != '\0';) {
        long v = strtol(p, &end, 0);

        if (end == p || s->n == TCPCRYPT_CONF_MAX || (*end != ',' && *end != '\0')) {
            fprintf(stderr, "tcpcrypt-info: bad value in '%s'\n", arg);
            exit(2);
        }
        s->v[s->n++] = (int)v;
        p = *end == ',' ? end + 1 : end;
    }
    if (!s->list && s->n != 1) {
        fprintf(stderr, "tcpcrypt-info: '%s' needs one number\n", arg);
        exit(2);
    }
}

static void apply(int fd, const struct set *sets, size_t nsets, bool after)
{
    for (size_t i = 0; i < nsets; i++) {
        const struct set *s = &sets[i];

        /* A cache flush acts on a connection; the rest before it. */
        if ((s->name == TCP_CRYPT_CACHE_FLUSH) != after) {
            continue;
        }
        if (setsockopt(fd, IPPROTO_TCP, s->name, s->v, (socklen_t)(s->n * sizeof(int))) != 0) {
            printf("setsockopt 0x%x: %s\n", s->name, strerror(errno));
        }
    }
}

static void hex(const char *label, const unsigned char *p, size_t n)
{
    printf("%s ", label);
    for (size_t i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
    printf("%s\n", n == 0 ? "-" : "");
}

static void show_int(int fd, const char *label, int name, bool as_char)
{
    int v = 0;
    socklen_t len = sizeof(v);

    if (getsockopt(fd, IPPROTO_TCP, name, &v, &len) != 0) {
        printf("%s - (%s)\n", label, strerror(errno));
    } else if (as_char) {
        printf("%s %c\n", label, v);
    } else {
        printf("%s %d\n", label, v);
    }
}

static void show_list(int fd, const char *label, int name)
{
    int v[TCPCRYPT_CONF_MAX];
    socklen_t len = sizeof(v);

    if (getsockopt(fd, IPPROTO_TCP, name, v, &len) != 0) {
        printf("%s - (%s)\n", label, strerror(errno));
        return;
    }
    printf("%s", label);
    for (size_t i = 0; i < len / sizeof(int); i++) {
        printf("%s0x%02x", i == 0 ? " " : ",", v[i]);
    }
    printf("%s\n", len == 0 ? " -" : "");
}

static void show(int fd)
{
    unsigned char sid[TCPCRYPT_SESSID_LEN];
    struct tcp_crypt_conf cf;
    struct tcp_crypt_pubkeys pk;
    socklen_t len = sizeof(sid);

    if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) == 0) {
        printf("encrypted yes\n");
        hex("sessid", sid, len);
    } else {
        printf("encrypted no (%s)\n", strerror(errno));
    }
    len = sizeof(cf);
    if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_CONF, &cf, &len) == 0 && len == sizeof(cf)) {
        printf("role %c\ntep 0x%02x\naead 0x%02x\nresumed %d\n", cf.role, cf.tep, cf.aead,
               cf.resumed);
    }
    len = sizeof(pk);
    if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_PUBKEY, &pk, &len) == 0 && len == sizeof(pk)) {
        printf("pubkey_ours %c\n", pk.ours);
        hex("pubkey_a", pk.a, pk.len_a);
        hex("pubkey_b", pk.b, pk.len_b);
    }
    show_int(fd, "peer_app_aware", TCP_CRYPT_SUPPORT, false);
    show_int(fd, "enable", TCP_CRYPT_ENABLE, false);
    show_int(fd, "mandatory", TCP_CRYPT_MANDATORY, false);
    show_int(fd, "nocache", TCP_CRYPT_NOCACHE, false);
    show_int(fd, "securst", TCP_CRYPT_SECURST, false);
    show_int(fd, "cmode", TCP_CRYPT_CMODE, false);
    show_list(fd, "pkconf", TCP_CRYPT_PKCONF);
    show_list(fd, "cconf", TCP_CRYPT_CCONF);
    show_list(fd, "sconf", TCP_CRYPT_SCONF);
    fflush(stdout);
}

static int do_connect(const char *host, const char *port, const struct set *sets, size_t nsets,
                      const char *text)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    char buf[4096];
    ssize_t n;
    size_t got = 0, want;
    int fd, e;

    e = getaddrinfo(host, port, &hints, &ai);
    if (e != 0) {
        printf("error resolve: %s\n", gai_strerror(e));
        return 1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0) {
        die("socket");
    }
    apply(fd, sets, nsets, false);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        die("connect");
    }
    freeaddrinfo(ai);
    printf("connected %s %s\n", host, port);
    show(fd);
    apply(fd, sets, nsets, true);
    if (text != NULL) {
        want = strlen(text);
        if (write(fd, text, want) != (ssize_t)want) {
            die("write");
        }
        if (shutdown(fd, SHUT_WR) != 0) {
            die("shutdown");
        }
        while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
            got += (size_t)n;
        }
        if (n < 0) {
            die("read");
        }
        buf[got] = '\0';
        printf("echo %s\n", buf);
    }
    close(fd);
    return 0;
}

static int do_listen(const char *port, const struct set *sets, size_t nsets, long count)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
    char buf[4096];
    int l, one = 1, zero = 0;
    ssize_t n;

    a.sin6_port = htons((uint16_t)atoi(port));
    l = socket(AF_INET6, SOCK_STREAM, 0);
    if (l < 0) {
        die("socket");
    }
    (void)setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    (void)setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    apply(l, sets, nsets, false);
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) != 0) {
        die("bind");
    }
    if (listen(l, 16) != 0) {
        die("listen");
    }
    printf("listening %s\n", port);
    fflush(stdout);
    for (long i = 0; i < count; i++) {
        int c = accept(l, NULL, NULL);

        if (c < 0) {
            die("accept");
        }
        printf("accepted %ld\n", i + 1);
        show(c);
        while ((n = read(c, buf, sizeof(buf))) > 0) {
            if (write(c, buf, (size_t)n) != n) {
                break;
            }
        }
        if (n < 0) {
            printf("read error: %s\n", strerror(errno));
        }
        close(c);
        printf("closed %ld\n", i + 1);
        fflush(stdout);
    }
    close(l);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"set", required_argument, NULL, 's'},   {"send", required_argument, NULL, 't'},
        {"count", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct set sets[SETS_MAX];
    size_t nsets = 0;
    const char *text = NULL;
    long count = 1;
    int c;

    setvbuf(stdout, NULL, _IOLBF, 0);
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (nsets == SETS_MAX) {
                usage(2);
            }
            parse_set(optarg, &sets[nsets++]);
            break;
        case 't':
            text = optarg;
            break;
        case 'n':
            count = strtol(optarg, NULL, 10);
            if (count < 1) {
                usage(2);
            }
            break;
        case 'h':
            usage(0);
        default:
            usage(2);
        }
    }
    if (optind + 3 == argc && strcmp(argv[optind], "connect") == 0) {
        return do_connect(argv[optind + 1], argv[optind + 2], sets, nsets, text);
    }
    if (optind + 2 == argc && strcmp(argv[optind], "listen") == 0) {
        return do_listen(argv[optind + 1], sets, nsets, count);
    }
    usage(2);
}
