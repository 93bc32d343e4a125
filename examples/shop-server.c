/*
 * tc-shop-server: the "online shop" row.  The shop has a certificate; the
 * customer has nothing.  A tcpcrypt-aware client gets the session ID signed
 * with the certificate's key (server authentication for one signature, or
 * one per batch of connections with --batch-window-us); any other client
 * gets what it had before tcpcrypt, TLS 1.3 with the same certificate, over
 * the same connection, so nothing is encrypted twice.  Then orders, one per
 * line: "ORDER <quantity> <item>", answered "CONFIRMED #<n>: ...".
 *
 *   tc-shop-server --port PORT --cert CERT.pem --key KEY.pem
 *                  [--batch-window-us US] [--no-aa] [--count N]
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "examples/common.h"

struct shop {
    SSL_CTX *tls;
    struct tcpcrypt_auth_signer *signer;
    struct tcpcrypt_auth_batch *batch; /* NULL: one signature per connection */
    int aa;
    atomic_ulong orders;
};

struct job {
    struct shop *shop;
    int fd;
};

static int take_order(struct shop *shop, struct ex_chan *ch)
{
    char line[EX_LINE_MAX], reply[EX_LINE_MAX + 64], item[64];
    unsigned qty;

    while (ex_read_line(ch, line, sizeof(line)) == 0) {
        if (strcmp(line, "QUIT") == 0) {
            return 0;
        }
        if (sscanf(line, "ORDER %u %63s", &qty, item) != 2 || qty == 0 || qty > 1000) {
            if (ex_write_line(ch, "ERROR want: ORDER <quantity 1-1000> <item>") != 0) {
                return -1;
            }
            continue;
        }
        snprintf(reply, sizeof(reply), "CONFIRMED #%lu: %u x %s",
                 atomic_fetch_add(&shop->orders, 1) + 1, qty, item);
        ex_say("order %s", reply + strlen("CONFIRMED "));
        if (ex_write_line(ch, reply) != 0) {
            return -1;
        }
    }
    return 0;
}

static void *serve(void *arg)
{
    struct job *job = arg;
    struct shop *shop = job->shop;
    struct ex_chan ch = {.fd = job->fd, .ssl = NULL};
    char hex[TCPCRYPT_SESSID_HEX_LEN];
    const char *sid = ex_sessid(ch.fd, hex);
    int err;

    free(job);
    if (ex_use_tcpcrypt(ch.fd, shop->aa)) {
        if (shop->batch != NULL) {
            err = tcpcrypt_auth_cert_server_batch(ch.fd, NULL, shop->batch);
        } else {
            err = tcpcrypt_auth_cert_server(ch.fd, NULL, shop->signer);
        }
        if (err != TCPCRYPT_AUTH_OK) {
            ex_err("authentication failed: %s", tcpcrypt_auth_strerror(err));
            goto out;
        }
        ex_say("authenticated to the client via certificate%s, session %s",
               shop->batch != NULL ? " (batch signature)" : "", EX_SID(sid));
    } else {
        ch.ssl = ex_tls_accept(shop->tls, ch.fd);
        if (ch.ssl == NULL) {
            goto out;
        }
        ex_say("client not tcpcrypt-aware: TLS 1.3 with the same certificate%s%s",
               sid != NULL ? ", inside tcpcrypt session " : " over plain TCP",
               sid != NULL ? sid : "");
    }
    (void)take_order(shop, &ch);
out:
    ex_chan_close(&ch);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: %s --port PORT --cert CERT.pem --key KEY.pem [--batch-window-us US]\n"
            "       [--no-aa] [--count N]\n",
            ex_prog);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'}, {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},  {"batch-window-us", required_argument, NULL, 'w'},
        {"no-aa", no_argument, NULL, 'A'},      {"count", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    struct shop shop = {.aa = 1};
    const char *cert = NULL, *key = NULL;
    long count = 0, window = -1, i, nt = 0;
    pthread_t *threads = NULL;
    int port = 0, lfd, c, err, rc = 1;

    ex_init("tc-shop-server");
    atomic_init(&shop.orders, 0);
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
        case 'w':
            if (ex_parse_count(optarg, &window) != 0) {
                return 2;
            }
            break;
        case 'A':
            shop.aa = 0;
            break;
        default:
            usage();
        }
    }
    if (port == 0 || cert == NULL || key == NULL || optind != argc || count < 0 ||
        window > 10000000) {
        usage();
    }
    shop.signer = tcpcrypt_auth_signer_new(cert, key, &err);
    if (shop.signer == NULL) {
        ex_err("%s: %s", cert, tcpcrypt_auth_strerror(err));
        return 1;
    }
    if (window >= 0) {
        shop.batch = tcpcrypt_auth_batch_new(shop.signer, (unsigned)window, 64, &err);
        if (shop.batch == NULL) {
            ex_err("batch signer: %s", tcpcrypt_auth_strerror(err));
            goto out;
        }
    }
    shop.tls = ex_tls_server_ctx(cert, key);
    if (shop.tls == NULL) {
        goto out;
    }
    lfd = ex_listen(port, shop.aa);
    if (lfd < 0) {
        goto out;
    }
    if (count > 0) {
        threads = calloc((size_t)count, sizeof(*threads));
        if (threads == NULL) {
            ex_err("out of memory");
            close(lfd);
            goto out;
        }
    }
    for (nt = 0; count == 0 || nt < count;) {
        struct job *job = malloc(sizeof(*job));
        pthread_t t;

        if (job == NULL) {
            ex_err("out of memory");
            break;
        }
        job->shop = &shop;
        job->fd = ex_accept(lfd);
        if (job->fd < 0) {
            free(job);
            break;
        }
        if (pthread_create(&t, NULL, serve, job) != 0) {
            ex_err("cannot start a thread for the connection");
            close(job->fd);
            free(job);
            continue;
        }
        if (threads != NULL) {
            threads[nt++] = t;
        } else {
            pthread_detach(t);
        }
    }
    for (i = 0; i < nt; i++) {
        pthread_join(threads[i], NULL);
    }
    close(lfd);
    if (shop.batch != NULL) {
        unsigned long sessions, sigs;

        tcpcrypt_auth_batch_stats(shop.batch, &sessions, &sigs);
        ex_say("batch signing: %lu sessions, %lu signatures", sessions, sigs);
    }
    rc = 0;
out:
    free(threads);
    tcpcrypt_auth_batch_free(shop.batch);
    tcpcrypt_auth_signer_free(shop.signer);
    SSL_CTX_free(shop.tls);
    return rc;
}
