/*
 * lwIP platform functions for Linux/glibc: time, randomness, diagnostics.
 * Declared in stack/lwip/arch/cc.h, lwip/sys.h and stack/lwip/tc_lwip_hooks.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "lwip/sys.h"
#include "tc_lwip_hooks.h"

unsigned char tc_syn_max_rtx = 6;

static u32_t (*tc_clock)(void);
static uint32_t (*tc_rand)(void);

void tc_lwip_set_clock(u32_t (*now)(void))
{
    tc_clock = now;
}

/* Milliseconds on a clock that never jumps; lwIP's timers and TCP timestamps
 * work on differences, so wrapping after 49 days is fine. */
u32_t sys_now(void)
{
    struct timespec ts;

    if (tc_clock != NULL) {
        return tc_clock();
    }
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        tc_lwip_assert_fail("clock_gettime(CLOCK_MONOTONIC) failed", __FILE__, __LINE__);
    }
    return (u32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

void tc_lwip_set_rand(uint32_t (*rand)(void))
{
    tc_rand = rand;
}

/* One getrandom() per call: lwIP asks for randomness per connection (ISN,
 * ephemeral port) and for DHCP/ND identifiers, rarely enough that a buffer is
 * not worth its fork-safety question. */
uint32_t tc_lwip_rand(void)
{
    uint32_t v;
    ssize_t n;

    if (tc_rand != NULL) {
        return tc_rand();
    }
    do {
        n = getrandom(&v, sizeof(v), 0);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(v)) {
        /* No kernel randomness means predictable ISNs: refuse to run. */
        tc_lwip_assert_fail("getrandom() failed", __FILE__, __LINE__);
    }
    return v;
}

u32_t tc_lwip_isn(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip,
                  u16_t remote_port)
{
    (void)local_ip;
    (void)local_port;
    (void)remote_ip;
    (void)remote_port;
    return tc_lwip_rand();
}

void tc_lwip_diag(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void tc_lwip_assert_fail(const char *msg, const char *file, int line)
{
    fprintf(stderr, "lwip: assertion \"%s\" failed at %s:%d\n", msg, file, line);
    fflush(stderr);
    abort();
}
