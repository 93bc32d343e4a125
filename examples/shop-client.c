/*
 * tc-shop-client: a customer of tc-shop-server.  It trusts one CA and wants
 * the shop's host name.  With a tcpcrypt-aware server it checks the
 * server's signature over the session ID (libtcpcrypt); with any other
 * server (or with --no-aa, as a client from before tcpcrypt) it runs TLS
 * 1.3 over the same connection and checks the same certificate there.
 * Only after that does it place its order.
 *
 *   tc-shop-client --connect IP:PORT --ca CA.pem --host NAME
 *                  [--order "QTY ITEM"] [--no-aa]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/common.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: %s --connect IP:PORT --ca CA.pem --host NAME [--order \"QTY ITEM\"] "
            "[--no-aa]\n",
            ex_prog);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"connect", required_argument, NULL, 'c'},
        {"ca", required_argument, NULL, 'a'},
        {"host", required_argument, NULL, 'H'},
        {"order", required_argument, NULL, 'o'},
        {"no-aa", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *addr = NULL, *ca = NULL, *host = NULL, *order = "1 book", *sid;
    char ip[64], hex[TCPCRYPT_SESSID_HEX_LEN], line[EX_LINE_MAX], req[EX_LINE_MAX];
    struct ex_chan ch = {.fd = -1, .ssl = NULL};
    int port, aa = 1, c, err, rc = 1;

    ex_init("tc-shop-client");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            addr = optarg;
            break;
        case 'a':
            ca = optarg;
            break;
        case 'H':
            host = optarg;
            break;
        case 'o':
            order = optarg;
            break;
        case 'A':
            aa = 0;
            break;
        default:
            usage();
        }
    }
    if (addr == NULL || ca == NULL || host == NULL || optind != argc ||
        strlen(order) > EX_LINE_MAX - 16) {
        usage();
    }
    if (ex_parse_addr(addr, ip, sizeof(ip), &port) != 0) {
        return 2;
    }
    ch.fd = ex_connect(ip, port, aa);
    if (ch.fd < 0) {
        return 1;
    }
    sid = ex_sessid(ch.fd, hex);
    if (ex_use_tcpcrypt(ch.fd, aa)) {
        err = tcpcrypt_auth_cert_client(ch.fd, NULL, ca, host);
        if (err != TCPCRYPT_AUTH_OK) {
            ex_err("authentication failed: %s", tcpcrypt_auth_strerror(err));
            goto out;
        }
        ex_say("authenticated: server %s via certificate, session %s", host, EX_SID(sid));
    } else {
        ch.ssl = ex_tls_connect(ch.fd, ca, host);
        if (ch.ssl == NULL) {
            goto out;
        }
        ex_say("authenticated: server %s via TLS 1.3 certificate (%s)%s%s", host,
               aa ? "server not tcpcrypt-aware" : "tcpcrypt awareness off",
               sid != NULL ? ", inside tcpcrypt session " : ", over plain TCP",
               sid != NULL ? sid : "");
    }
    snprintf(req, sizeof(req), "ORDER %s", order);
    if (ex_write_line(&ch, req) != 0 || ex_read_line(&ch, line, sizeof(line)) != 0) {
        ex_err("the shop closed the connection before confirming the order");
        goto out;
    }
    ex_say("shop: %s", line);
    if (strncmp(line, "CONFIRMED ", 10) != 0) {
        goto out;
    }
    if (ex_write_line(&ch, "QUIT") != 0) {
        goto out;
    }
    rc = 0;
out:
    ex_chan_close(&ch);
    return rc;
}
