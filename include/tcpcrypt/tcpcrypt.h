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

/*
 * setsockopt, int 1: forget cached resumption secrets (RFC 8548 §3.5: "MUST
 * provide a way for applications to ... flush the cache").  On a connection:
 * the secrets shared with its peer; on any other TCP socket: every secret
 * the daemon holds.  The next connection makes a fresh key exchange.
 */
#define TCP_CRYPT_CACHE_FLUSH 0x7c09

/* int: 1 keeps this connection out of the resumption cache: it neither
 * offers nor accepts resumption, and its secrets are not remembered (RFC
 * 8548 §3.5, per-connection control).  Before connect()/listen(). */
#define TCP_CRYPT_NOCACHE 0x7c0a

/* getsockopt, struct tcp_crypt_conf: what was negotiated on an established,
 * encrypted connection; ENOPROTOOPT otherwise. */
#define TCP_CRYPT_CONF 0x7c0b
struct tcp_crypt_conf {
    int tep;     /* TEP identifier, v bit clear (RFC 8548 §7: 0x21 .. 0x25) */
    int aead;    /* AEAD identifier (RFC 8548 §7: 0x01 AES-128-GCM, 0x02
                  * AES-256-GCM, 0x10 ChaCha20-Poly1305) */
    int resumed; /* 1: a resumed session (§3.5), no key exchange */
    int role;    /* 'A' or 'B' */
};

/* getsockopt, struct tcp_crypt_pubkeys: the ephemeral public keys of the
 * key exchange, as sent in Init1 (A) and Init2 (B), and which one is this
 * host's.  A resumed session has none (both lengths 0). */
#define TCP_CRYPT_PUBKEY 0x7c0c
#define TCPCRYPT_PUBKEY_MAX 135
struct tcp_crypt_pubkeys {
    unsigned char ours;  /* 'A' or 'B' */
    unsigned char len_a; /* bytes of a */
    unsigned char len_b; /* bytes of b */
    unsigned char reserved;
    unsigned char a[TCPCRYPT_PUBKEY_MAX];
    unsigned char b[TCPCRYPT_PUBKEY_MAX];
};

/*
 * int, application-aware support (RFC 8547 §4.2, §8.4): setsockopt 0 (the
 * default), 1 (a = 1: this application authenticates the session ID) or 2
 * (mandatory application-aware mode: a = 1, and TCP-ENO is disabled unless
 * the peer sets a = 1 too).  getsockopt before the connection is
 * established returns the local setting; on an established connection it
 * returns the PEER's a bit.  Same effect as TCP_CRYPT_APP_AWARE and
 * TCP_CRYPT_AA_MANDATORY.  Before connect()/listen().
 */
#define TCP_CRYPT_SUPPORT 0x7c0d

/*
 * int, the role this host may take (RFC 8547 §4.3), TCP_CRYPT_CMODE_*:
 *   DEFAULT  an active opener is A, a passive opener B;
 *   ALWAYS   only ever A: a passive opener (which is always B unless the
 *            open is simultaneous) makes no TCP-ENO offer, plain TCP;
 *   NEVER    never A: an active opener sets b = 1 (TCP_CRYPT_ROLE_B), which
 *            succeeds only in a simultaneous open;
 *   *_NK     the same, and no session resumption (TCP_CRYPT_NOCACHE).
 * Before connect()/listen().
 */
#define TCP_CRYPT_CMODE 0x7c0e
#define TCP_CRYPT_CMODE_DEFAULT 0
#define TCP_CRYPT_CMODE_ALWAYS 1
#define TCP_CRYPT_CMODE_ALWAYS_NK 2
#define TCP_CRYPT_CMODE_NEVER 3
#define TCP_CRYPT_CMODE_NEVER_NK 4

/*
 * Arrays of int, at most TCPCRYPT_CONF_MAX entries, optlen = n * sizeof(int);
 * optlen 0 returns to the daemon's default.  Before connect()/listen();
 * getsockopt returns the socket's list (empty: the daemon's default).
 *   PKCONF  the TEPs this socket may negotiate (RFC 8548 §7 identifiers,
 *           e.g. 0x23 X25519), most preferred first; EINVAL for a TEP the
 *           daemon does not implement;
 *   CCONF   the AEADs offered in Init1 when this host is A, in order;
 *   SCONF   the AEAD preference when this host is B (the first one the
 *           peer offered in this list is chosen).
 */
#define TCP_CRYPT_PKCONF 0x7c0f
#define TCP_CRYPT_CCONF 0x7c10
#define TCP_CRYPT_SCONF 0x7c11
#define TCPCRYPT_CONF_MAX 8

/*
 * int: 1 ignores TCP RST segments on this connection once tcpcrypt is on
 * (they are not authenticated, RFC 8548 §6: an attacker can forge them).
 * Liveness then comes from the peer's answers: an ignored RST makes the
 * daemon start a key update (§3.8), whose answer from a live peer is
 * authenticated; a peer that is really gone stops acknowledging and the
 * connection times out.  Before connect()/listen().
 */
#define TCP_CRYPT_SECURST 0x7c12

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
