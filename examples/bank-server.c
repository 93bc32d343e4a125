/*
 * tc-bank-server: the "banking" row.  The customer has a password, the
 * bank a certificate.  With a tcpcrypt-aware client both prove the
 * password over the session ID (SPAKE2 in libtcpcrypt: mutual
 * authentication whenever the password is right, and a man in the middle
 * learns nothing to guess offline).  The bank keeps only the value derived
 * from the password (tcpcrypt_auth_password_derive), never the password.
 * Any other client gets what it had before tcpcrypt: TLS 1.3 with the
 * certificate, and the password sent inside it ("LOGIN <user> <password>").
 *
 * After "USER <name>" (tcpcrypt) or the login (TLS): "BALANCE", "QUIT".
 *
 *   tc-bank-server --port PORT --cert CERT.pem --key KEY.pem --name NAME
 *                  --user USER --password-file FILE [--no-aa] [--count N]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "examples/common.h"

struct bank {
    SSL_CTX *tls;
    const char *name; /* the bank's identity in SPAKE2, its certificate's host */
    const char *user;
    unsigned char w[TCPCRYPT_AUTH_W_LEN];     /* the user's stored verifier */
    unsigned char decoy[TCPCRYPT_AUTH_W_LEN]; /* for unknown users */
    int aa;
};

/* "LOGIN <user> <password>" inside TLS: the password is checked against
 * the stored value, in constant time. */
static int tls_login(struct bank *bank, struct ex_chan *ch)
{
    char line[EX_LINE_MAX], *user, *pass;
    unsigned char w[TCPCRYPT_AUTH_W_LEN];
    int ok = 0;

    if (ex_read_line(ch, line, sizeof(line)) != 0) {
        ex_err("authentication failed: no login from the client");
        return -1;
    }
    user = strncmp(line, "LOGIN ", 6) == 0 ? line + 6 : NULL;
    pass = user != NULL ? strchr(user, ' ') : NULL;
    if (pass != NULL) {
        *pass++ = '\0';
        ok = tcpcrypt_auth_password_derive(pass, user, bank->name, w) == TCPCRYPT_AUTH_OK &&
             strcmp(user, bank->user) == 0 && CRYPTO_memcmp(w, bank->w, sizeof(w)) == 0;
    }
    OPENSSL_cleanse(line, sizeof(line));
    OPENSSL_cleanse(w, sizeof(w));
    if (!ok) {
        ex_err("authentication failed: wrong user or password (TLS login)");
        if (ex_write_line(ch, "DENIED") != 0) {
            ex_err("could not tell the client");
        }
        return -1;
    }
    return ex_write_line(ch, "WELCOME");
}

static void serve(int fd, void *arg)
{
    struct bank *bank = arg;
    struct ex_chan ch = {.fd = fd, .ssl = NULL};
    char hex[TCPCRYPT_SESSID_HEX_LEN], line[EX_LINE_MAX], reply[EX_LINE_MAX + 32];
    const char *sid = ex_sessid(fd, hex);
    int err;

    if (ex_use_tcpcrypt(fd, bank->aa)) {
        const unsigned char *w;

        if (ex_read_line(&ch, line, sizeof(line)) != 0 || strncmp(line, "USER ", 5) != 0) {
            ex_err("authentication failed: no user name from the client");
            goto out;
        }
        /* An unknown user runs the exchange against a random value and
         * fails like a wrong password. */
        w = strcmp(line + 5, bank->user) == 0 ? bank->w : bank->decoy;
        err = tcpcrypt_auth_password_w(fd, NULL, w, line + 5, bank->name);
        if (err != TCPCRYPT_AUTH_OK) {
            ex_err("authentication failed: %s", tcpcrypt_auth_strerror(err));
            goto out;
        }
        ex_say("authenticated: %s via password (mutual), session %s", bank->user, EX_SID(sid));
    } else {
        ch.ssl = ex_tls_accept(bank->tls, fd);
        if (ch.ssl == NULL || tls_login(bank, &ch) != 0) {
            goto out;
        }
        ex_say("authenticated: %s via password inside TLS 1.3 (client not tcpcrypt-aware)",
               bank->user);
    }
    while (ex_read_line(&ch, line, sizeof(line)) == 0 && strcmp(line, "QUIT") != 0) {
        if (strcmp(line, "BALANCE") == 0) {
            snprintf(reply, sizeof(reply), "BALANCE %s 1024.00 EUR", bank->user);
        } else {
            snprintf(reply, sizeof(reply), "ERROR want: BALANCE or QUIT");
        }
        if (ex_write_line(&ch, reply) != 0) {
            break;
        }
    }
out:
    OPENSSL_cleanse(line, sizeof(line));
    ex_chan_close(&ch);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: %s --port PORT --cert CERT.pem --key KEY.pem --name NAME --user USER\n"
            "       --password-file FILE [--no-aa] [--count N]\n",
            ex_prog);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'}, {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},  {"name", required_argument, NULL, 'N'},
        {"user", required_argument, NULL, 'u'}, {"password-file", required_argument, NULL, 'P'},
        {"no-aa", no_argument, NULL, 'A'},      {"count", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    struct bank bank = {.aa = 1};
    const char *cert = NULL, *key = NULL, *pwfile = NULL;
    char password[256];
    size_t pwlen;
    long count = 0;
    int port = 0, lfd, c, err, rc = 1;

    ex_init("tc-bank-server");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ex_server_opt(c, optarg, &port, &count)) {
            continue;
        }
        switch (c) {
        case 'c':
            cert = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'N':
            bank.name = optarg;
            break;
        case 'u':
            bank.user = optarg;
            break;
        case 'P':
            pwfile = optarg;
            break;
        case 'A':
            bank.aa = 0;
            break;
        default:
            usage();
        }
    }
    if (port == 0 || cert == NULL || key == NULL || bank.name == NULL || bank.user == NULL ||
        pwfile == NULL || optind != argc || count < 0 || strchr(bank.user, ' ') != NULL) {
        usage();
    }
    if (ex_read_secret(pwfile, password, sizeof(password), &pwlen) != 0) {
        goto out;
    }
    err = tcpcrypt_auth_password_derive(password, bank.user, bank.name, bank.w);
    OPENSSL_cleanse(password, sizeof(password));
    if (err != TCPCRYPT_AUTH_OK || RAND_bytes(bank.decoy, sizeof(bank.decoy)) != 1) {
        ex_err("cannot derive the stored password value: %s", tcpcrypt_auth_strerror(err));
        goto out;
    }
    bank.tls = ex_tls_server_ctx(cert, key);
    if (bank.tls == NULL) {
        goto out;
    }
    lfd = ex_listen(port, bank.aa);
    if (lfd < 0) {
        goto out;
    }
    ex_serve(lfd, count, serve, &bank);
    rc = 0;
out:
    OPENSSL_cleanse(bank.w, sizeof(bank.w));
    OPENSSL_cleanse(bank.decoy, sizeof(bank.decoy));
    SSL_CTX_free(bank.tls);
    return rc;
}
