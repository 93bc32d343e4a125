/*
 * One end of an authenticated connection for tests/netns/auth_e2e.sh:
 * the session ID and role come from the socket (s = NULL, the program runs
 * under tcpcrypt-run), the application-aware bit decides whether to
 * authenticate at all, and a line each way follows the exchange.
 *
 *   auth_peer [--aa] server PORT METHOD ARGS...
 *   auth_peer [--aa] client HOST PORT METHOD ARGS...
 *   METHOD ARGS: psk KEY | password PW | cert CERT KEY (server) | cert CA HOST (client)
 *
 * Prints one line: "aa_peer=N sessid=HEX|none auth=RESULT data=ok|bad";
 * exit 0 only when authenticated (or plain by choice, see --aa) and the
 * lines arrived intact.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <tcpcrypt/auth.h>

static int usage(void)
{
    fprintf(stderr, "usage: auth_peer [--aa] server PORT METHOD ARGS... | "
                    "client HOST PORT METHOD ARGS...\n");
    return 2;
}

static int authenticate(int fd, int server, char **m, int n)
{
    if (n >= 2 && strcmp(m[0], "psk") == 0) {
        return tcpcrypt_auth_psk(fd, NULL, m[1], strlen(m[1]));
    }
    if (n >= 2 && strcmp(m[0], "password") == 0) {
        return tcpcrypt_auth_password(fd, NULL, m[1], "user", "server");
    }
    if (n >= 3 && strcmp(m[0], "cert") == 0 && server) {
        int err = TCPCRYPT_AUTH_EINTERNAL;
        struct tcpcrypt_auth_signer *sg = tcpcrypt_auth_signer_new(m[1], m[2], &err);

        if (sg == NULL) {
            return err;
        }
        err = tcpcrypt_auth_cert_server(fd, NULL, sg);
        tcpcrypt_auth_signer_free(sg);
        return err;
    }
    if (n >= 3 && strcmp(m[0], "cert") == 0) {
        return tcpcrypt_auth_cert_client(fd, NULL, m[1], m[2]);
    }
    return TCPCRYPT_AUTH_ECONFIG;
}

static int line_exchange(int fd, int server)
{
    const char *mine = server ? "from the server\n" : "from the client\n";
    const char *theirs = server ? "from the client\n" : "from the server\n";
    char buf[64];
    size_t got = 0, want = strlen(theirs);

    if (send(fd, mine, strlen(mine), MSG_NOSIGNAL) != (ssize_t)strlen(mine)) {
        return 0;
    }
    while (got < want) {
        ssize_t r = recv(fd, buf + got, want - got, 0);

        if (r <= 0) {
            return 0;
        }
        got += (size_t)r;
    }
    return memcmp(buf, theirs, want) == 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    struct timeval tv = {.tv_sec = 10};
    struct tcpcrypt_session s;
    char hex[TCPCRYPT_SESSID_HEX_LEN] = "none";
    int aa = 0, server, fd, lfd = -1, one = 1, peer_aa, err, data, i = 1;
    char **m;

    if (argc > i && strcmp(argv[i], "--aa") == 0) {
        aa = 1;
        i++;
    }
    if (argc - i < 3) {
        return usage();
    }
    server = strcmp(argv[i], "server") == 0;
    if (server) {
        sa.sin_port = htons((uint16_t)atoi(argv[i + 1]));
        m = argv + i + 2;
    } else {
        if (argc - i < 4 || inet_pton(AF_INET, argv[i + 1], &sa.sin_addr) != 1) {
            return usage();
        }
        sa.sin_port = htons((uint16_t)atoi(argv[i + 2]));
        m = argv + i + 3;
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    if (aa && tcpcrypt_aa_enable(fd, 0) != TCPCRYPT_AUTH_OK) {
        /* Not under tcpcrypt-run: the kernel has no such option. */
        fprintf(stderr, "auth_peer: application-aware bit not set (no tcpcrypt here)\n");
    }
    if (server) {
        lfd = fd;
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 1) != 0) {
            perror("bind/listen");
            return 1;
        }
        printf("listening\n");
        fflush(stdout);
        fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            perror("accept");
            return 1;
        }
    } else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("connect");
        return 1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    peer_aa = tcpcrypt_aa_peer(fd);
    if (tcpcrypt_session_get(fd, &s) == TCPCRYPT_AUTH_OK) {
        tcpcrypt_sessid_hex(s.id, s.id_len, hex, sizeof(hex));
    }
    if (aa && peer_aa != 1) {
        /* The peer is not tcpcrypt-aware: do what the application did
         * before (here: nothing). */
        err = TCPCRYPT_AUTH_ENOTAWARE;
    } else {
        err = authenticate(fd, server, m, (int)(argc - (m - argv)));
    }
    data = (err == TCPCRYPT_AUTH_OK || err == TCPCRYPT_AUTH_ENOTAWARE) && line_exchange(fd, server);
    printf("aa_peer=%d sessid=%s auth=%s data=%s\n", peer_aa, hex,
           err == TCPCRYPT_AUTH_OK ? "ok" : tcpcrypt_auth_strerror(err), data ? "ok" : "bad");
    close(fd);
    if (lfd >= 0) {
        close(lfd);
    }
    return data ? 0 : 1;
}
