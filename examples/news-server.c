/*
 * tc-news-server: the "news site" row.  The two ends share nothing, so
 * nothing is authenticated: tcpcrypt only keeps passive eavesdroppers out.
 * Each client gets the headlines, one per line, then the server closes.
 *
 *   tc-news-server --port PORT [--count N]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "examples/common.h"

static const char *const headlines[] = {
    "Local library extends its opening hours",
    "Rain expected over the weekend",
    "City council approves the new cycle lanes",
};

/* Each client gets the headlines, then the connection closes. */
static void serve(int fd, void *arg)
{
    struct ex_chan ch = {.fd = fd, .ssl = NULL};
    char hex[TCPCRYPT_SESSID_HEX_LEN];
    const char *sid = ex_sessid(fd, hex);
    size_t i;

    (void)arg;
    for (i = 0; i < sizeof(headlines) / sizeof(headlines[0]); i++) {
        if (ex_write_line(&ch, headlines[i]) != 0) {
            break;
        }
    }
    if (sid != NULL) {
        ex_say("served %zu headlines, unauthenticated session %s", i, sid);
    } else {
        ex_say("served %zu headlines over plain TCP (client without tcpcrypt)", i);
    }
    ex_chan_close(&ch);
}

static void usage(void)
{
    fprintf(stderr, "usage: %s --port PORT [--count N]\n", ex_prog);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"count", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int port = 0, lfd, c;
    long count = 0;

    ex_init("tc-news-server");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (!ex_server_opt(c, optarg, &port, &count)) {
            usage();
        }
    }
    if (port == 0 || optind != argc || count < 0) {
        usage();
    }
    lfd = ex_listen(port, 0);
    if (lfd < 0) {
        return 1;
    }
    ex_serve(lfd, count, serve, NULL);
    return 0;
}
