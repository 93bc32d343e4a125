/*
 * tc-forum-client: a member of tc-forum-server.  It proves the shared
 * cookie over the session ID and checks that the forum holds it too
 * (mutual authentication), then posts one message.  A server that is not
 * tcpcrypt-aware gets no post.
 *
 *   tc-forum-client --connect IP:PORT --cookie-file FILE [--post TEXT]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "examples/common.h"

static void usage(void)
{
    fprintf(stderr, "usage: %s --connect IP:PORT --cookie-file FILE [--post TEXT]\n", ex_prog);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"connect", required_argument, NULL, 'c'},
        {"cookie-file", required_argument, NULL, 'k'},
        {"post", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *addr = NULL, *cookie_file = NULL, *post = "hello from a member", *sid;
    char ip[64], hex[TCPCRYPT_SESSID_HEX_LEN], line[EX_LINE_MAX], req[EX_LINE_MAX], cookie[256];
    struct ex_chan ch = {.fd = -1, .ssl = NULL};
    size_t cookie_len = 0;
    int port, c, err, rc = 1;

    ex_init("tc-forum-client");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            addr = optarg;
            break;
        case 'k':
            cookie_file = optarg;
            break;
        case 'P':
            post = optarg;
            break;
        default:
            usage();
        }
    }
    if (addr == NULL || cookie_file == NULL || optind != argc || strlen(post) > EX_LINE_MAX - 8 ||
        strchr(post, '\n') != NULL) {
        usage();
    }
    if (ex_parse_addr(addr, ip, sizeof(ip), &port) != 0) {
        return 2;
    }
    if (ex_read_secret(cookie_file, cookie, sizeof(cookie), &cookie_len) != 0) {
        goto out;
    }
    if (cookie_len < 16) {
        ex_err("%s: the cookie must have at least 16 bytes", cookie_file);
        goto out;
    }
    ch.fd = ex_connect(ip, port, 1);
    if (ch.fd < 0) {
        goto out;
    }
    if (!ex_use_tcpcrypt(ch.fd, 1)) {
        ex_err("refused: %s (the cookie would have no protection)",
               tcpcrypt_auth_strerror(TCPCRYPT_AUTH_ENOTAWARE));
        goto out;
    }
    sid = ex_sessid(ch.fd, hex);
    err = tcpcrypt_auth_psk(ch.fd, NULL, cookie, cookie_len);
    OPENSSL_cleanse(cookie, sizeof(cookie));
    if (err != TCPCRYPT_AUTH_OK) {
        ex_err("authentication failed: %s", tcpcrypt_auth_strerror(err));
        goto out;
    }
    ex_say("authenticated: forum via shared cookie (mutual), session %s", EX_SID(sid));
    snprintf(req, sizeof(req), "POST %s", post);
    if (ex_write_line(&ch, req) != 0 || ex_read_line(&ch, line, sizeof(line)) != 0) {
        ex_err("the forum closed the connection before accepting the post");
        goto out;
    }
    ex_say("forum: %s", line);
    if (strncmp(line, "POSTED ", 7) != 0 || ex_write_line(&ch, "QUIT") != 0) {
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(cookie, sizeof(cookie));
    ex_chan_close(&ch);
    return rc;
}
