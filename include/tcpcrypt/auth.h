/*
 * <tcpcrypt/auth.h>: authenticate a tcpcrypt session with what the
 * application already has (libtcpcrypt, pkg-config libtcpcrypt).
 *
 * tcpcrypt encrypts; it does not authenticate.  Two applications that see
 * the same session ID share a channel with no man in the middle, and each
 * call below proves that over the connection itself: it exchanges a few
 * messages on the connected socket, binding this host's role (A or B) and
 * the session ID (RFC 8547 §8.3, RFC 8548 §3.4), and returns
 * TCPCRYPT_AUTH_OK only when the peer proved what it claims.  Every failure
 * has its own code (below) and tcpcrypt_auth_strerror() text; after a
 * failure the connection must not be trusted (close it).
 *
 *   setting                      call                          result
 *   nothing shared               none                          no passive eavesdropping
 *   a shared secret (cookie)     tcpcrypt_auth_psk             mutual authentication
 *   a server certificate         tcpcrypt_auth_cert_server /   server authentication,
 *                                tcpcrypt_auth_cert_client     one signature per batch
 *   a password                   tcpcrypt_auth_password        mutual authentication,
 *                                (SPAKE2, RFC 9382)            no offline dictionary attack
 *
 * Both ends call the matching function once, after connect()/accept() and
 * before any application data.  The calls read exactly their own messages
 * and nothing more, so the application carries on with the socket after
 * them.  They block; the wait for each message is bounded by the socket's
 * SO_RCVTIMEO when set, else by TCPCRYPT_AUTH_TIMEOUT_MS.
 *
 * `s` may be NULL: the session ID and role are then read from the socket
 * (TCP_CRYPT_SESSID, TCP_CRYPT_ROLE; the program runs under tcpcrypt-run).
 * A caller that learned them elsewhere passes them in.
 *
 * Each exchange ends with a verdict message from each side that checked
 * something, so a call that returns TCPCRYPT_AUTH_OK knows the peer
 * accepted too, and a peer that refused makes it return
 * TCPCRYPT_AUTH_EREJECTED rather than see a bare close.  The wire format
 * is described in auth/wire.h of the source tree.
 */
#ifndef TCPCRYPT_AUTH_H
#define TCPCRYPT_AUTH_H

#include <stddef.h>
#include <tcpcrypt/tcpcrypt.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TCPCRYPT_AUTH_TIMEOUT_MS 10000

/* Results: 0 or a negative code. */
enum {
    TCPCRYPT_AUTH_OK = 0,
    TCPCRYPT_AUTH_ENOTENCRYPTED = -1, /* no session ID: the connection is plain TCP */
    TCPCRYPT_AUTH_EIO = -2,           /* send/recv failed (errno kept) */
    TCPCRYPT_AUTH_ETRUNCATED = -3,    /* the peer closed in the middle of a message */
    TCPCRYPT_AUTH_ETIMEOUT = -4,      /* no complete message in time */
    TCPCRYPT_AUTH_EPROTO = -5,        /* malformed message: magic, type, length */
    TCPCRYPT_AUTH_EMETHOD = -6,       /* the peer runs another method */
    TCPCRYPT_AUTH_EROLE = -7,         /* the peer claims our own role (reflection) */
    TCPCRYPT_AUTH_ESESSION = -8,      /* the peer saw another session ID: a man in
                                       * the middle, or a message replayed from
                                       * another connection */
    TCPCRYPT_AUTH_EBADMAC = -9,       /* shared secret: the MAC does not verify
                                       * (the peer holds another key) */
    TCPCRYPT_AUTH_ECERT = -10,        /* certificate: not issued by a trusted CA */
    TCPCRYPT_AUTH_EEXPIRED = -11,     /* certificate: expired or not yet valid */
    TCPCRYPT_AUTH_EHOST = -12,        /* certificate: not for the expected host name */
    TCPCRYPT_AUTH_EBADSIG = -13,      /* certificate: the signature (or batch path)
                                       * does not cover this session */
    TCPCRYPT_AUTH_EPASSWORD = -14,    /* password: key confirmation failed (another
                                       * password) */
    TCPCRYPT_AUTH_EREJECTED = -15,    /* the peer reported that it rejected us */
    TCPCRYPT_AUTH_ECONFIG = -16,      /* bad argument, unreadable key, CA or cert file */
    TCPCRYPT_AUTH_ENOTAWARE = -17,    /* the peer is not tcpcrypt-aware (a = 0); for
                                       * applications that act on tcpcrypt_aa_peer()
                                       * (the calls here do not return it) */
    TCPCRYPT_AUTH_EINTERNAL = -18     /* out of memory, library failure */
};

/* A short English sentence for a result code; never NULL. */
const char *tcpcrypt_auth_strerror(int err);

/* What a connection's authentication binds. */
struct tcpcrypt_session {
    unsigned char id[TCPCRYPT_SESSID_LEN];
    size_t id_len; /* TCPCRYPT_SESSID_LEN */
    int role;      /* 'A' or 'B' */
};

/* Reads the session ID and role of fd.  TCPCRYPT_AUTH_ENOTENCRYPTED when
 * the connection is not encrypted. */
int tcpcrypt_session_get(int fd, struct tcpcrypt_session *s);

/* ---- 1. a shared secret: mutual authentication ----
 * Each side sends HMAC-SHA256(key, label || own role || session ID) and
 * checks the peer's in constant time.  16 <= keylen <= 4096, else
 * TCPCRYPT_AUTH_ECONFIG. */
int tcpcrypt_auth_psk(int fd, const struct tcpcrypt_session *s, const void *key, size_t keylen);

/* ---- 2. a server certificate: server authentication ----
 * The server signs (its role, session ID) with the private key of its X.509
 * certificate; the client checks the chain against ca_file, the validity
 * dates and host (DNS name or IP address), then the signature.
 * tcpcrypt_auth_cert_client() requires host (NULL or "" is
 * TCPCRYPT_AUTH_ECONFIG): an IPv4 or IPv6 literal is matched against the
 * certificate's IP addresses, anything else against its DNS names. */
struct tcpcrypt_auth_signer;
/* cert_file: PEM, the server certificate then any intermediates;
 * key_file: its PEM private key (RSA, ECDSA or Ed25519).  NULL on error
 * (*err set when err is not NULL). */
struct tcpcrypt_auth_signer *tcpcrypt_auth_signer_new(const char *cert_file, const char *key_file,
                                                      int *err);
void tcpcrypt_auth_signer_free(struct tcpcrypt_auth_signer *signer);
int tcpcrypt_auth_cert_server(int fd, const struct tcpcrypt_session *s,
                              struct tcpcrypt_auth_signer *signer);
int tcpcrypt_auth_cert_client(int fd, const struct tcpcrypt_session *s, const char *ca_file,
                              const char *host);

/*
 * Batch signing: connections that reach tcpcrypt_auth_cert_server_batch()
 * within window_us of the first one (or until max_batch have) share one
 * signature over the Merkle root of their (role, session ID) leaves; each
 * client receives the root's signature and its own inclusion path, and
 * tcpcrypt_auth_cert_client() verifies either form.  The call blocks its
 * thread until its batch is signed; any number of threads may use one
 * batch object.  window_us <= 10 s, 1 <= max_batch <= 65536, else
 * TCPCRYPT_AUTH_ECONFIG; the signer must outlive the batch, and
 * tcpcrypt_auth_batch_free() is called once no thread is inside the batch
 * any more.  The statistics count the sessions of each signed batch.
 */
struct tcpcrypt_auth_batch;
struct tcpcrypt_auth_batch *tcpcrypt_auth_batch_new(struct tcpcrypt_auth_signer *signer,
                                                    unsigned window_us, unsigned max_batch,
                                                    int *err);
int tcpcrypt_auth_cert_server_batch(int fd, const struct tcpcrypt_session *s,
                                    struct tcpcrypt_auth_batch *batch);
/* Sessions authenticated and signatures made so far. */
void tcpcrypt_auth_batch_stats(const struct tcpcrypt_auth_batch *batch, unsigned long *sessions,
                               unsigned long *signatures);
void tcpcrypt_auth_batch_free(struct tcpcrypt_auth_batch *batch);

/* ---- 3. a password: mutual authentication ----
 * SPAKE2 (RFC 9382, P256-SHA256-HKDF-HMAC) with the session ID in the key
 * confirmation's associated data.  Host A takes SPAKE2's A side.  a_id and
 * b_id name the two parties (for example a user name and a server name;
 * "" allowed) and must be equal at both ends.  A network attacker gets one
 * online guess per connection and nothing to test offline.
 *
 * tcpcrypt_auth_password() derives SPAKE2's w from the password with scrypt
 * (salted by the identities) on every call; a server that stores
 * verifiers calls tcpcrypt_auth_password_derive() once and then
 * tcpcrypt_auth_password_w(). */
#define TCPCRYPT_AUTH_W_LEN 32
int tcpcrypt_auth_password_derive(const char *password, const char *a_id, const char *b_id,
                                  unsigned char w[TCPCRYPT_AUTH_W_LEN]);
int tcpcrypt_auth_password(int fd, const struct tcpcrypt_session *s, const char *password,
                           const char *a_id, const char *b_id);
int tcpcrypt_auth_password_w(int fd, const struct tcpcrypt_session *s,
                             const unsigned char w[TCPCRYPT_AUTH_W_LEN], const char *a_id,
                             const char *b_id);

/* ---- 4. application-aware negotiation (RFC 8547 §4.2, §8.4) ----
 * tcpcrypt_aa_enable() before connect()/listen() sets the ENO a bit
 * (mandatory != 0: TCP-ENO only with peers that set it too).
 * tcpcrypt_aa_peer() on a connected socket: 1 when the connection is
 * encrypted and the peer set a = 1 (authenticate the session ID, and skip
 * the application's own encryption), 0 otherwise (do what the application
 * did before, for example TLS), negative on error. */
int tcpcrypt_aa_enable(int fd, int mandatory);
int tcpcrypt_aa_peer(int fd);

#ifdef __cplusplus
}
#endif

#endif
