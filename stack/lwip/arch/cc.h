/*
 * lwIP port for tcpcryptd: Linux, glibc, gcc or clang, 32- or 64-bit.
 *
 * Included by lwip/arch.h before lwIP defines its own types, so only standard
 * types appear here. With NO_SYS=1 and SYS_LIGHTWEIGHT_PROT=0 lwIP needs no
 * arch/sys_arch.h. The functions declared here live in stack/lwip_port.c.
 */
#ifndef TCPCRYPT_LWIP_ARCH_CC_H
#define TCPCRYPT_LWIP_ARCH_CC_H

#include <stdint.h>

/*
 * Byte order from glibc. lwip/arch.h defines LITTLE_ENDIAN as 1234 and
 * BIG_ENDIAN as 4321 when they are not defined yet, and glibc's <endian.h>
 * (under _DEFAULT_SOURCE) defines them again as __LITTLE_ENDIAN and
 * __BIG_ENDIAN: same values, different spelling, so the compiler would warn
 * about a redefinition. Let glibc's spelling win, whatever the include order.
 */
#undef LITTLE_ENDIAN
#undef BIG_ENDIAN
#include <endian.h>
#ifndef LITTLE_ENDIAN
#define LITTLE_ENDIAN __LITTLE_ENDIAN
#define BIG_ENDIAN __BIG_ENDIAN
#endif
#ifndef BYTE_ORDER
#define BYTE_ORDER __BYTE_ORDER
#endif

#if BYTE_ORDER == LITTLE_ENDIAN
/* One instruction instead of lwIP's out-of-line shifts (def.c), on every
 * header field of every packet. */
#define lwip_htons(x) ((uint16_t)__builtin_bswap16((uint16_t)(x)))
#define lwip_htonl(x) ((uint32_t)__builtin_bswap32((uint32_t)(x)))
#endif

/*
 * Diagnostics. LWIP_PLATFORM_DIAG is only reached through LWIP_DEBUGF (off in
 * lwipopts.h) and stats display (off). LWIP_PLATFORM_ASSERT prints one line
 * and aborts: lwIP asserts internal invariants (programming errors, ours or
 * lwIP's, such as an option hook writing a length it did not announce). Input
 * from peers is validated with LWIP_ERROR and dropped, never asserted: the
 * daemon must not crash on anything a peer sends.
 */
void tc_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void tc_lwip_assert_fail(const char *msg, const char *file, int line);

#define LWIP_PLATFORM_DIAG(x) \
    do {                      \
        tc_lwip_diag x;       \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x) tc_lwip_assert_fail((x), __FILE__, __LINE__)

/* Randomness for ephemeral ports, DHCP/ND identifiers and (through the ISN
 * hook) initial sequence numbers: getrandom(), never rand(). */
uint32_t tc_lwip_rand(void);
#define LWIP_RAND() tc_lwip_rand()

#endif
