/*
 * tc-bank-client: a customer of tc-bank-server with a password.  With a
 * tcpcrypt-aware bank it runs SPAKE2 over the session ID: both ends are
 * authenticated when the password is right, whether or not anyone checks
 * a certificate.  With any other bank (or --no-aa, as a client from before
 * tcpcrypt) it checks the certificate with TLS 1.3 and sends the password
 * inside.  Then it asks for the balance.
 *
 *   tc-bank-client --connect IP:PORT --name NAME --user USER
 *                  --password-file FILE --ca CA.pem [--no-aa]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "examples/common.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: %s --connect IP:PORT --name NAME --user USER --password-file FILE --ca CA.pem\n"
            "       [--no-aa]\n",
            ex_prog);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"connect", required_argument, NULL, 'c'}, {"name", required_argument, NULL, 'N'},
        {"user", required_argument, NULL, 'u'},    {"password-file", required_argument, NULL, 'P'},
        {"ca", required_argument, NULL, 'a'},      {"no-aa", no_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *addr = NULL, *name = NULL, *user = NULL, *pwfile = NULL, *ca = NULL, *sid;
    char ip[64], hex[TCPCRYPT_SESSID_HEX_LEN], line[EX_LINE_MAX], req[EX_LINE_MAX];
    char password[256];
    struct ex_chan ch = {.fd = -1, .ssl = NULL};
    size_t pwlen = 0;
    int port, aa = 1, c, err, rc = 1;

    ex_init("tc-bank-client");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            addr = optarg;
            break;
        case 'N':
            name = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case 'P':
            pwfile = optarg;
            break;
        case 'a':
            ca = optarg;
            break;
        case 'A':
            aa = 0;
            break;
        default:
            usage();
        }
    }
    if (addr == NULL || name == NULL || user == NULL || pwfile == NULL || ca == NULL ||
        optind != argc || strlen(user) > 64 || strchr(user, ' ') != NULL) {
        usage();
    }
    if (ex_parse_addr(addr, ip, sizeof(ip), &port) != 0) {
        return 2;
    }
    if (ex_read_secret(pwfile, password, sizeof(password), &pwlen) != 0) {
        goto out;
    }
    ch.fd = ex_connect(ip, port, aa);
    if (ch.fd < 0) {
        goto out;
    }
    sid = ex_sessid(ch.fd, hex);
    if (ex_use_tcpcrypt(ch.fd, aa)) {
        snprintf(req, sizeof(req), "USER %s", user);
        if (ex_write_line(&ch, req) != 0) {
            ex_err("the bank closed the connection");
            goto out;
        }
        err = tcpcrypt_auth_password(ch.fd, NULL, password, user, name);
        if (err != TCPCRYPT_AUTH_OK) {
            ex_err("authentication failed: %s", tcpcrypt_auth_strerror(err));
            goto out;
        }
        ex_say("authenticated: bank %s and user %s via password (mutual), session %s", name, user,
               EX_SID(sid));
    } else {
        ch.ssl = ex_tls_connect(ch.fd, ca, name);
        if (ch.ssl == NULL) {
            goto out;
        }
        if (pwlen + strlen(user) + 8 > sizeof(req)) {
            ex_err("password too long");
            goto out;
        }
        snprintf(req, sizeof(req), "LOGIN %s %s", user, password);
        err = ex_write_line(&ch, req);
        OPENSSL_cleanse(req, sizeof(req));
        if (err != 0 || ex_read_line(&ch, line, sizeof(line)) != 0) {
            ex_err("the bank closed the connection during the login");
            goto out;
        }
        if (strcmp(line, "WELCOME") != 0) {
            ex_err("authentication failed: the bank refused the password (TLS login)");
            goto out;
        }
        ex_say("authenticated: bank %s via TLS 1.3 certificate, user %s via password (%s)", name,
               user, aa ? "server not tcpcrypt-aware" : "tcpcrypt awareness off");
    }
    OPENSSL_cleanse(password, sizeof(password));
    if (ex_write_line(&ch, "BALANCE") != 0 || ex_read_line(&ch, line, sizeof(line)) != 0) {
        ex_err("the bank closed the connection before answering");
        goto out;
    }
    ex_say("bank: %s", line);
    if (strncmp(line, "BALANCE ", 8) != 0 || ex_write_line(&ch, "QUIT") != 0) {
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(password, sizeof(password));
    ex_chan_close(&ch);
    return rc;
}
