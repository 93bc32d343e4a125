/*
 * tcpcryptctl: ask a running tcpcryptd about its connections and counters,
 * and manage its resumption cache and key log, over the control socket
 * (TC_CTL_ADMIN requests, stack/ctl_proto.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "stack/ctl_proto.h"
#include "stack/fdmsg.h"
#include "tools/ctl_format.h"

/* A reply longer than this is not believed (a million connections). */
#define LISTING_MAX ((size_t)1 << 30)

static const char *prog = "tcpcryptctl";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tcpcryptctl [--control PATH] [--json] COMMAND\n"
            "\n"
            "Talks to a running tcpcryptd over its control socket (--control, else\n"
            "$%s, else %s).\n"
            "\n"
            "commands:\n"
            "  status            link, uptime, version and counters (any user; the key\n"
            "                    log's path only for root and the daemon's user)\n"
            "  sessions          one line per connection: addresses, state, TEP, AEAD,\n"
            "                    role, session ID, bytes, age\n"
            "  cache             the session-resumption cache, without secrets\n"
            "  flush             empty the resumption cache\n"
            "  keylog on FILE    append key log lines to FILE (opened by tcpcryptctl\n"
            "                    with the caller's rights, created 0600)\n"
            "  keylog off        stop the key log\n"
            "all but status need root or the daemon's user\n"
            "\n"
            "options:\n"
            "  --control PATH    the daemon's control socket\n"
            "  --json            JSON instead of aligned text\n"
            "  -h, --help        this text\n",
            TC_CTL_ENV_SOCKET, TC_CTL_DEFAULT_PATH);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void __attribute__((noreturn, format(printf, 1, 2))) bad_usage(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (tcpcryptctl -h for help)\n");
    exit(2);
}

static int connect_daemon(const char *path)
{
    struct sockaddr_un sa;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
        die("control path '%s': 1 to %zu characters", path, sizeof(sa.sun_path) - 1);
    }
    memcpy(sa.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        die("socket: %s", strerror(errno));
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        die("cannot reach tcpcryptd at %s: %s (is it running? --control PATH or $%s)", path,
            strerror(errno), TC_CTL_ENV_SOCKET);
    }
    return fd;
}

/* One request and its reply; *fd_out gets the attached descriptor (or -1). */
static void transact(const char *path, uint32_t what, int fd_in, struct tc_ctl_r_admin *rep,
                     int *fd_out)
{
    struct tc_ctl_admin rq;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov;
    struct msghdr mh;
    int sock = connect_daemon(path);
    ssize_t n;

    memset(&rq, 0, sizeof(rq));
    rq.h.op = TC_CTL_ADMIN;
    rq.h.len = sizeof(rq);
    rq.what = what;
    n = tc_send_with_fd(sock, &rq, sizeof(rq), fd_in, MSG_NOSIGNAL);
    if (n != (ssize_t)sizeof(rq)) {
        die("sending the request to %s: %s", path, n < 0 ? strerror(errno) : "short write");
    }

    memset(rep, 0, sizeof(*rep));
    iov.iov_base = rep;
    iov.iov_len = sizeof(*rep);
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof(u.buf);
    /* The daemon answers at once; a silent one is not left to hang us. */
    {
        struct timeval tv = {.tv_sec = 10, .tv_usec = 0};

        (void)setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    do {
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    *fd_out = -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n > 0 && cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
            cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
            memcpy(fd_out, CMSG_DATA(cm), sizeof(int));
        }
    }
    close(sock);
    if (n < 0) {
        die("no answer from tcpcryptd at %s: %s", path,
            errno == EAGAIN ? "timed out" : strerror(errno));
    }
    if (n == 0) {
        /* An older daemon closes on requests it does not know. */
        die("tcpcryptd at %s closed the connection: it does not support tcpcryptctl requests",
            path);
    }
    if ((size_t)n != sizeof(*rep) || rep->h.op != TC_CTL_R_ADMIN || rep->h.len != sizeof(*rep)) {
        die("tcpcryptd at %s sent a malformed reply", path);
    }
}

static const char *what_name(uint32_t what)
{
    switch (what) {
    case TC_CTL_A_STATUS:
        return "status";
    case TC_CTL_A_SESSIONS:
        return "sessions";
    case TC_CTL_A_CACHE:
        return "cache";
    case TC_CTL_A_FLUSH:
        return "flush";
    case TC_CTL_A_KEYLOG_ON:
        return "keylog on";
    default:
        return "keylog off";
    }
}

static void check_err(uint32_t what, const struct tc_ctl_r_admin *rep)
{
    if (rep->h.err == 0) {
        return;
    }
    if (rep->h.err == EPERM) {
        die("%s: %s: only root or tcpcryptd's own user may do this", what_name(what),
            strerror(EPERM));
    }
    die("%s: %s", what_name(what), rep->h.err > 0 ? strerror(rep->h.err) : "refused by tcpcryptd");
}

/* The listing in the reply's memfd: count records of rec_len bytes. */
static void *read_listing(int fd, const struct tc_ctl_r_admin *rep, size_t rec_len)
{
    struct stat st;
    size_t len;
    uint8_t *buf;
    size_t off = 0;

    if (fd < 0) {
        die("tcpcryptd sent no listing");
    }
    if (rep->rec_len != rec_len) {
        die("tcpcryptd's records are %u bytes, expected %zu: tcpcryptctl and tcpcryptd differ "
            "in version",
            rep->rec_len, rec_len);
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || rep->count > LISTING_MAX / rec_len ||
        (uint64_t)st.st_size != rep->count * rec_len) {
        die("tcpcryptd's listing does not hold %llu records", (unsigned long long)rep->count);
    }
    len = (size_t)st.st_size;
    buf = malloc(len > 0 ? len : 1);
    if (buf == NULL) {
        die("out of memory");
    }
    while (off < len) {
        ssize_t n = pread(fd, buf + off, len - off, (off_t)off);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            die("reading tcpcryptd's listing: %s", n < 0 ? strerror(errno) : "short file");
        }
        off += (size_t)n;
    }
    close(fd);
    return buf;
}

int main(int argc, char **argv)
{
    enum { OPT_CONTROL = 256, OPT_JSON };
    static const struct option longopts[] = {
        {"control", required_argument, NULL, OPT_CONTROL},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = getenv(TC_CTL_ENV_SOCKET), *cmd;
    bool json = false;
    struct tc_ctl_r_admin rep;
    uint32_t what;
    int c, fd = -1, kfd = -1, nargs;

    if (path == NULL || path[0] == '\0') {
        path = TC_CTL_DEFAULT_PATH;
    }
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CONTROL:
            path = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            bad_usage("option '%s' needs an argument", argv[optind - 1]);
        default:
            bad_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        bad_usage("a command is needed: status, sessions, cache, flush, keylog");
    }
    cmd = argv[optind];
    nargs = argc - optind - 1;
    if (strcmp(cmd, "status") == 0 && nargs == 0) {
        what = TC_CTL_A_STATUS;
    } else if (strcmp(cmd, "sessions") == 0 && nargs == 0) {
        what = TC_CTL_A_SESSIONS;
    } else if (strcmp(cmd, "cache") == 0 && nargs == 0) {
        what = TC_CTL_A_CACHE;
    } else if (strcmp(cmd, "flush") == 0 && nargs == 0) {
        what = TC_CTL_A_FLUSH;
    } else if (strcmp(cmd, "keylog") == 0 && nargs == 2 && strcmp(argv[optind + 1], "on") == 0) {
        const char *file = argv[optind + 2];

        what = TC_CTL_A_KEYLOG_ON;
        /* Opened here, with the caller's rights; the daemon gets only the
         * descriptor. */
        kfd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (kfd < 0) {
            die("keylog on: %s: %s", file, strerror(errno));
        }
        {
            struct stat st;

            /* The daemon takes regular files only (a FIFO could block it). */
            if (fstat(kfd, &st) != 0 || !S_ISREG(st.st_mode)) {
                die("keylog on: %s: not a regular file", file);
            }
        }
    } else if (strcmp(cmd, "keylog") == 0 && nargs == 1 && strcmp(argv[optind + 1], "off") == 0) {
        what = TC_CTL_A_KEYLOG_OFF;
    } else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "sessions") == 0 ||
               strcmp(cmd, "cache") == 0 || strcmp(cmd, "flush") == 0) {
        bad_usage("%s takes no arguments", cmd);
    } else if (strcmp(cmd, "keylog") == 0) {
        bad_usage("keylog on FILE, or keylog off");
    } else {
        bad_usage("unknown command '%s' (status, sessions, cache, flush, keylog)", cmd);
    }

    transact(path, what, kfd, &rep, &fd);
    if (kfd >= 0) {
        close(kfd);
    }
    if (rep.what != what) {
        die("tcpcryptd at %s answered another request", path);
    }
    check_err(what, &rep);
    switch (what) {
    case TC_CTL_A_STATUS: {
        struct tc_ctl_a_status *s = read_listing(fd, &rep, sizeof(*s));

        if (rep.count != 1) {
            die("tcpcryptd sent %llu status records", (unsigned long long)rep.count);
        }
        tc_fmt_status(stdout, s, json);
        free(s);
        break;
    }
    case TC_CTL_A_SESSIONS: {
        struct tc_ctl_a_conn *v = read_listing(fd, &rep, sizeof(*v));

        tc_fmt_sessions(stdout, v, (size_t)rep.count, json);
        free(v);
        break;
    }
    case TC_CTL_A_CACHE: {
        struct tc_ctl_a_cache *v = read_listing(fd, &rep, sizeof(*v));

        tc_fmt_cache(stdout, v, (size_t)rep.count, json);
        free(v);
        break;
    }
    case TC_CTL_A_FLUSH:
        if (json) {
            printf("{\"flushed\": %llu}\n", (unsigned long long)rep.count);
        } else {
            printf("%llu %s removed from the resumption cache\n", (unsigned long long)rep.count,
                   rep.count == 1 ? "entry" : "entries");
        }
        break;
    default:
        if (fd >= 0) {
            close(fd);
        }
        if (json) {
            printf("{\"keylog\": \"%s\"}\n", what == TC_CTL_A_KEYLOG_ON ? "on" : "off");
        } else {
            printf("key log %s\n", what == TC_CTL_A_KEYLOG_ON ? "on" : "off");
        }
        break;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        die("writing the output: %s", strerror(errno));
    }
    return 0;
}
