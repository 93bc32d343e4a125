/*
 * tc-forum-server: the "forum" row.  Member and forum share a secret (the
 * login cookie) and no certificate.  Both ends prove the cookie over the
 * session ID (libtcpcrypt's shared-secret mode: mutual authentication,
 * and the cookie itself never crosses the wire).  Without a tcpcrypt-aware
 * client there is nothing to authenticate with, so the forum refuses.
 * Then posts, one per line: "POST <text>", answered "POSTED #<n>".
 *
 *   tc-forum-server --port PORT --cookie-file FILE [--count N]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "examples/common.h"

/* What every connection of the forum shares. */
struct forum {
    char cookie[256];
    size_t cookie_len;
    unsigned long posts;
};

static void serve(int fd, void *arg)
{
    struct forum *forum = arg;
    struct ex_chan ch = {.fd = fd, .ssl = NULL};
    char hex[TCPCRYPT_SESSID_HEX_LEN], line[EX_LINE_MAX], reply[64];
    const char *sid = ex_sessid(fd, hex);
    int err;

    if (!ex_use_tcpcrypt(fd, 1)) {
        ex_err("refused: %s (no way to authenticate the member)",
               tcpcrypt_auth_strerror(TCPCRYPT_AUTH_ENOTAWARE));
        goto out;
    }
    err = tcpcrypt_auth_psk(fd, NULL, forum->cookie, forum->cookie_len);
    if (err != TCPCRYPT_AUTH_OK) {
        ex_err("authentication failed: %s", tcpcrypt_auth_strerror(err));
        goto out;
    }
    ex_say("authenticated: member via shared cookie (mutual), session %s", EX_SID(sid));
    while (ex_read_line(&ch, line, sizeof(line)) == 0) {
        if (strcmp(line, "QUIT") == 0) {
            break;
        }
        if (strncmp(line, "POST ", 5) != 0 || line[5] == '\0') {
            if (ex_write_line(&ch, "ERROR want: POST <text>") != 0) {
                break;
            }
            continue;
        }
        snprintf(reply, sizeof(reply), "POSTED #%lu", ++forum->posts);
        ex_say("post #%lu: %s", forum->posts, line + 5);
        if (ex_write_line(&ch, reply) != 0) {
            break;
        }
    }
out:
    ex_chan_close(&ch);
}

static void usage(void)
{
    fprintf(stderr, "usage: %s --port PORT --cookie-file FILE [--count N]\n", ex_prog);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"cookie-file", required_argument, NULL, 'k'},
        {"count", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cookie_file = NULL;
    struct forum forum = {.cookie_len = 0, .posts = 0};
    long count = 0;
    int port = 0, lfd, c, rc = 1;

    ex_init("tc-forum-server");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k') {
            cookie_file = optarg;
        } else if (!ex_server_opt(c, optarg, &port, &count)) {
            usage();
        }
    }
    if (port == 0 || cookie_file == NULL || optind != argc || count < 0) {
        usage();
    }
    if (ex_read_secret(cookie_file, forum.cookie, sizeof(forum.cookie), &forum.cookie_len) != 0) {
        goto out;
    }
    if (forum.cookie_len < 16) {
        ex_err("%s: the cookie must have at least 16 bytes", cookie_file);
        goto out;
    }
    lfd = ex_listen(port, 1);
    if (lfd < 0) {
        goto out;
    }
    ex_serve(lfd, count, serve, &forum);
    rc = 0;
out:
    OPENSSL_cleanse(forum.cookie, sizeof(forum.cookie));
    return rc;
}
