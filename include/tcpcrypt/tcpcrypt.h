/*
 * <tcpcrypt/tcpcrypt.h>: for applications that know about tcpcrypt.
 *
 * tcpcrypt (RFC 8548) over TCP-ENO (RFC 8547) encrypts every TCP connection
 * of a program run under tcpcrypt-run (libtcpcrypt_preload.so and tcpcryptd).
 * Encryption alone stops passive eavesdroppers; an active attacker is stopped
 * only when the two applications authenticate the session ID (for example by
 * signing it, or by mixing it into a password exchange): RFC 8548 §3.4,
 * RFC 8547 §5.1.  This header gives the socket options to read it and to
 * steer negotiation, and a helper to print it.
 *
 * All options are at level IPPROTO_TCP, used with getsockopt/setsockopt on
 * the socket from socket() or accept().  Their numbers are in a private range
 * from 0x7c01, far above Linux's own TCP options (1 to about 40 in 2024) and
 * below 0x8000, so that a kernel without tcpcrypt, or a program run without
 * the preload library, answers -1/ENOPROTOOPT instead of setting an unrelated
 * option.
 *
 * Values are ints (4 bytes, 0 or 1 unless said otherwise) except
 * TCP_CRYPT_SESSID.  A connection that is not served by tcpcryptd (loopback,
 * destinations the daemon does not route, a program without the library)
 * fails every option with ENOPROTOOPT, as a kernel without tcpcrypt would.
 */
#ifndef TCPCRYPT_TCPCRYPT_H
#define TCPCRYPT_TCPCRYPT_H

#include <stddef.h>

/*
 * getsockopt: the session ID of an established, encrypted connection,
 * TCPCRYPT_SESSID_LEN bytes (the TEP byte sent by host B followed by K_LEN =
 * 32 bytes, RFC 8548 §3.4, §5); optlen must be at least that (else EINVAL).
 * -1/ENOPROTOOPT when the connection is not encrypted (the peer does not
 * speak tcpcrypt: plain TCP) or not established yet.
 */
#define TCP_CRYPT_SESSID 0x7c01

/*
 * int, default 1.  0 turns TCP-ENO off for this socket: plain TCP, as with a
 * kernel socket.  Set before connect() or listen().
 */
#define TCP_CRYPT_ENABLE 0x7c02

/* int: 1 sets the passive role bit b on an active opener (RFC 8547 §4.2,
 * §4.3: for a simultaneous open, exactly one end sets it and takes role B).
 * Before connect(). */
#define TCP_CRYPT_ROLE_B 0x7c03

/*
 * int: the application-aware bit a (RFC 8547 §4.2, §8.4).  setsockopt before
 * connect()/listen() announces that this application authenticates the
 * session ID.  getsockopt before the connection is established returns the
 * local setting; on an established connection it returns the PEER's a bit.
 */
#define TCP_CRYPT_APP_AWARE 0x7c04

/* int: mandatory application-aware mode (RFC 8547 §4.2): TCP-ENO is disabled
 * (plain TCP, or an abort with TCP_CRYPT_MANDATORY) unless the peer also sets
 * a = 1.  Before connect()/listen(). */
#define TCP_CRYPT_AA_MANDATORY 0x7c05

/* int: refuse plain TCP.  When TCP-ENO does not succeed the connection is
 * aborted and connect() (or SO_ERROR) reports ECONNREFUSED instead of falling
 * back to plain TCP; so does connect() to a destination tcpcryptd does not
 * serve (loopback, or no daemon running); listen() where only the kernel could
 * serve fails with EOPNOTSUPP.  Before connect()/listen(). */
#define TCP_CRYPT_MANDATORY 0x7c06

/* getsockopt, int: 'A' or 'B', this host's TCP-ENO role (RFC 8547 §4.3). */
#define TCP_CRYPT_ROLE 0x7c07

/* getsockopt, int: the negotiated TEP identifier (RFC 8547 §4.5; RFC 8548
 * §7: for example 0x23, TCPCRYPT_ECDHE_Curve25519); ENOPROTOOPT when not
 * encrypted. */
#define TCP_CRYPT_TEP 0x7c08

/* Reserved for the session-resumption cache controls (not implemented yet:
 * -1/ENOPROTOOPT). */
#define TCP_CRYPT_CACHE_FLUSH 0x7c09
#define TCP_CRYPT_NOCACHE 0x7c0a

/* The session ID's size: TEP byte + K_LEN (RFC 8548 §3.4, §5). */
#define TCPCRYPT_SESSID_LEN 33
/* Characters tcpcrypt_sessid_hex() needs for a whole session ID. */
#define TCPCRYPT_SESSID_HEX_LEN (2 * TCPCRYPT_SESSID_LEN + 1)

/*
 * Format len bytes of a session ID as lower-case hex into out (outlen bytes,
 * at least 2 * len + 1), NUL-terminated.  Returns out, or NULL (and out[0] =
 * '\0' when outlen > 0) when out is too small.
 */
#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L)
#define TCPCRYPT_INLINE inline
#else
#define TCPCRYPT_INLINE __inline__ /* C89: the GNU spelling */
#endif
static TCPCRYPT_INLINE char *tcpcrypt_sessid_hex(const unsigned char *sid, size_t len, char *out,
                                                 size_t outlen)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    if (out == NULL || outlen == 0) {
        return NULL;
    }
    if (len > (outlen - 1) / 2 || (sid == NULL && len > 0)) {
        out[0] = '\0';
        return NULL;
    }
    for (i = 0; i < len; i++) {
        out[2 * i] = digits[sid[i] >> 4];
        out[2 * i + 1] = digits[sid[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return out;
}

#endif
