/*
 * Diagnostics and the key log.  Each line goes out with a single write(2) so
 * lines from concurrent writers (several daemons on one terminal, a test
 * harness) never interleave inside a line.
 */
#include "stack/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <tcpcrypt/tcpcrypt.h>

#include "stack/session.h"

#define LINE_MAX_LEN 1024
/* Connection lines are triggered by peers: at most this many per second. */
#define CONN_LINES_PER_SEC 200

static int log_level = TC_LOG_INFO;
static int keylog_fd = -1;

void tc_log_set_level(int level)
{
    log_level = level;
}

bool tc_log_enabled(int level)
{
    return level <= log_level;
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* nowhere to report a failing stderr */
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void __attribute__((format(printf, 1, 0))) vlog(const char *fmt, va_list ap)
{
    char line[LINE_MAX_LEN];
    int n = snprintf(line, sizeof(line), "tcpcryptd: ");
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    size_t len;

    if (m < 0) {
        return;
    }
    len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2;
    }
    line[len++] = '\n';
    write_all(STDERR_FILENO, line, len);
}

void tc_log(int level, const char *fmt, ...)
{
    va_list ap;

    if (!tc_log_enabled(level)) {
        return;
    }
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void tc_log_conn(const char *fmt, ...)
{
    static time_t window;
    static unsigned lines, suppressed;
    struct timespec ts;
    va_list ap;

    if (!tc_log_enabled(TC_LOG_INFO)) {
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ts.tv_sec != window) {
        if (suppressed > 0) {
            tc_log(TC_LOG_INFO, "%u connection messages suppressed", suppressed);
        }
        window = ts.tv_sec;
        lines = 0;
        suppressed = 0;
    }
    if (++lines > CONN_LINES_PER_SEC) {
        suppressed++;
        return;
    }
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

char *tc_hex(char *out, const uint8_t *in, size_t len)
{
    return tcpcrypt_sessid_hex(in, len, out, 2 * len + 1);
}

int tc_keylog_open(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

    if (fd < 0) {
        return -1;
    }
    tc_keylog_close();
    keylog_fd = fd;
    return 0;
}

bool tc_keylog_on(void)
{
    return keylog_fd >= 0;
}

void tc_keylog_session(const struct tc_sess *s)
{
    /* "TCPCRYPT_SS " + 33-byte session ID + " " + 32-byte ss[0] (ss[i]), in hex. */
    char line[16 + 2 * TC_NONCE_LEN + 2 * TC_ES_MAX + 2 * TC_SESSID_LEN + 2 * TC_K_LEN];
    char a[2 * TC_ES_MAX + 1], b[2 * TC_ES_MAX + 1];
    int n;

    if (keylog_fd < 0 || s->state != TC_SESS_OPEN || (s->es_len == 0 && !s->resumed)) {
        return;
    }
    /* A resumed session (RFC 8548 §3.5) has no key exchange: only its SS
     * line, whose secret is the ss[i] it was keyed from (a dissector finds
     * the connection from resume[i] = CPRF(ss[i], CONST_RESUME, 18)). */
    if (!s->resumed) {
        n = snprintf(line, sizeof(line), "TCPCRYPT_ES %s %s\n", tc_hex(a, s->n_a, TC_NONCE_LEN),
                     tc_hex(b, s->es, s->es_len));
        if (n > 0 && (size_t)n < sizeof(line)) {
            write_all(keylog_fd, line, (size_t)n);
        }
    }
    n = snprintf(line, sizeof(line), "TCPCRYPT_SS %s %s\n", tc_hex(a, s->sid, TC_SESSID_LEN),
                 tc_hex(b, s->ss, TC_K_LEN));
    if (n > 0 && (size_t)n < sizeof(line)) {
        write_all(keylog_fd, line, (size_t)n);
    }
    sodium_memzero(line, sizeof(line));
    sodium_memzero(b, sizeof(b));
}

void tc_keylog_close(void)
{
    if (keylog_fd >= 0) {
        close(keylog_fd);
        keylog_fd = -1;
    }
}

/* ------------------------------------------------------------ run-time key log control */

int tc_keylog_use_fd(int fd)
{
    struct stat st;
    int fl = fcntl(fd, F_GETFL), mine;

    if (fl < 0 || fstat(fd, &st) != 0) {
        return EBADF;
    }
    /* A regular file only: a pipe or socket could block the daemon. */
    if (!S_ISREG(st.st_mode)) {
        return EINVAL;
    }
    if ((fl & O_ACCMODE) != O_WRONLY && (fl & O_ACCMODE) != O_RDWR) {
        return EBADF;
    }
    mine = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (mine < 0) {
        return errno;
    }
    if (fcntl(mine, F_SETFL, (fl | O_APPEND) & ~O_NONBLOCK) != 0) {
        int e = errno;

        close(mine);
        return e;
    }
    tc_keylog_close();
    keylog_fd = mine;
    return 0;
}

void tc_keylog_where(char *buf, size_t len)
{
    char link[32];
    ssize_t n;

    if (len == 0) {
        return;
    }
    buf[0] = '\0';
    if (keylog_fd < 0) {
        return;
    }
    snprintf(link, sizeof(link), "/proc/self/fd/%d", keylog_fd);
    n = readlink(link, buf, len - 1);
    if (n < 0) {
        snprintf(buf, len, "fd %d", keylog_fd);
        return;
    }
    buf[n] = '\0';
}
