/*
 * tc-news-client: reads the headlines of tc-news-server and says what the
 * connection protected: an unauthenticated tcpcrypt session stops passive
 * eavesdropping only; an active man in the middle can run one session with
 * each end (the two ends then print different session IDs, which only a
 * comparison over another channel would reveal).
 *
 *   tc-news-client IP:PORT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/common.h"

int main(int argc, char **argv)
{
    struct ex_chan ch = {.fd = -1, .ssl = NULL};
    char ip[64], line[EX_LINE_MAX], hex[TCPCRYPT_SESSID_HEX_LEN];
    const char *sid;
    int port, n = 0;

    ex_init("tc-news-client");
    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: %s IP:PORT\n", ex_prog);
        return 2;
    }
    if (ex_parse_addr(argv[1], ip, sizeof(ip), &port) != 0) {
        return 2;
    }
    ch.fd = ex_connect(ip, port, 0);
    if (ch.fd < 0) {
        return 1;
    }
    sid = ex_sessid(ch.fd, hex);
    if (sid != NULL) {
        ex_say("unauthenticated session %s (encrypted: stops passive eavesdropping only)", sid);
    } else {
        ex_say("plain TCP: the server or this host does not run tcpcrypt (not encrypted)");
    }
    while (ex_read_line(&ch, line, sizeof(line)) == 0) {
        ex_say("headline: %s", line);
        n++;
    }
    ex_chan_close(&ch);
    if (n == 0) {
        ex_err("no headlines received");
        return 1;
    }
    ex_say("%d headlines", n);
    return 0;
}
