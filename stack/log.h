/*
 * tcpcryptd's diagnostics: one line per event on stderr, and the optional
 * key log (like SSLKEYLOGFILE, for decrypting captures while debugging).
 */
#ifndef TCPCRYPT_STACK_LOG_H
#define TCPCRYPT_STACK_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tc_log_level {
    TC_LOG_ERR = 0,   /* always shown */
    TC_LOG_INFO = 1,  /* startup and one line per connection (default) */
    TC_LOG_DEBUG = 2, /* --verbose */
};

void tc_log_set_level(int level);
bool tc_log_enabled(int level);
/* One line (no trailing newline in fmt), written with one write(2).  Lines
 * about connections (rate-limited: a peer decides how many there are) use
 * tc_log_conn. */
void tc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tc_log_conn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define tc_error(...) tc_log(TC_LOG_ERR, __VA_ARGS__)
#define tc_info(...) tc_log(TC_LOG_INFO, __VA_ARGS__)
#define tc_debug(...) tc_log(TC_LOG_DEBUG, __VA_ARGS__)

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
char *tc_hex(char *out, const uint8_t *in, size_t len);

struct tc_sess;
/* Open the key log (O_APPEND, created 0600); -1 with errno on failure. */
int tc_keylog_open(const char *path);
bool tc_keylog_on(void);
/* Append the TCPCRYPT_ES and TCPCRYPT_SS lines of a freshly opened session,
 * or the TCPCRYPT_SS line (with ss[i]) of a resumed one. */
void tc_keylog_session(const struct tc_sess *s);
void tc_keylog_close(void);

/* Run-time control (tcpcryptctl keylog on/off): take over fd, a regular
 * file open for writing that the requester opened itself (the daemon dups
 * it), as the key log from the next session on.  0 or an errno value. */
int tc_keylog_use_fd(int fd);
/* Where the key log goes ("" when off). */
void tc_keylog_where(char *buf, size_t len);

#endif
