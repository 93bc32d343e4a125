/*
 * A minimal test harness: each CHECK prints file:line and what differed,
 * counts the failure and carries on; main returns tc_check_exit().
 */
#ifndef TCPCRYPT_TESTS_CHECK_H
#define TCPCRYPT_TESTS_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern unsigned tc_checks_run, tc_checks_failed;

void tc_check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tc_check_mem_fail(const char *file, int line, const char *what, const uint8_t *got,
                       const uint8_t *want, size_t len);
int tc_check_exit(const char *name);

/* Decode a hex string (spaces and newlines allowed) into out; returns the
 * byte count, or aborts the test program on bad input or overflow. */
size_t tc_unhex(uint8_t *out, size_t cap, const char *hex);

#define CHECK(cond)                                         \
    do {                                                    \
        tc_checks_run++;                                    \
        if (!(cond)) {                                      \
            tc_check_fail(__FILE__, __LINE__, "%s", #cond); \
        }                                                   \
    } while (0)

#define CHECK_INT(got, want)                                                                  \
    do {                                                                                      \
        long long got_ = (long long)(got), want_ = (long long)(want);                         \
        tc_checks_run++;                                                                      \
        if (got_ != want_) {                                                                  \
            tc_check_fail(__FILE__, __LINE__, "%s = %lld, want %s = %lld", #got, got_, #want, \
                          want_);                                                             \
        }                                                                                     \
    } while (0)

#define CHECK_MEM(got, want, len)                                               \
    do {                                                                        \
        tc_checks_run++;                                                        \
        if (memcmp((got), (want), (len)) != 0) {                                \
            tc_check_mem_fail(__FILE__, __LINE__, #got, (const uint8_t *)(got), \
                              (const uint8_t *)(want), (len));                  \
        }                                                                       \
    } while (0)

#endif
