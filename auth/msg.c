/*
 * Messages on the connected socket (auth/wire.h): one at a time, exactly
 * its own bytes (the application reads what follows), each wait bounded.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <netinet/in.h>
#include <openssl/crypto.h>

#include "auth/wire.h"

const char *tcpcrypt_auth_strerror(int err)
{
    switch (err) {
    case TCPCRYPT_AUTH_OK:
        return "authenticated";
    case TCPCRYPT_AUTH_ENOTENCRYPTED:
        return "the connection is not encrypted by tcpcrypt (no session ID)";
    case TCPCRYPT_AUTH_EIO:
        return "sending or receiving on the connection failed";
    case TCPCRYPT_AUTH_ETRUNCATED:
        return "the peer closed the connection in the middle of the authentication";
    case TCPCRYPT_AUTH_ETIMEOUT:
        return "no complete authentication message from the peer in time";
    case TCPCRYPT_AUTH_EPROTO:
        return "malformed authentication message from the peer";
    case TCPCRYPT_AUTH_EMETHOD:
        return "the peer uses another authentication method";
    case TCPCRYPT_AUTH_EROLE:
        return "the peer claims this host's own role (a reflected message)";
    case TCPCRYPT_AUTH_ESESSION:
        return "the peer saw another session ID (a man in the middle, or a replayed message)";
    case TCPCRYPT_AUTH_EBADMAC:
        return "the peer's MAC does not verify (another shared key)";
    case TCPCRYPT_AUTH_ECERT:
        return "the peer's certificate is not issued by a trusted CA";
    case TCPCRYPT_AUTH_EEXPIRED:
        return "the peer's certificate has expired or is not yet valid";
    case TCPCRYPT_AUTH_EHOST:
        return "the peer's certificate is not for the expected host";
    case TCPCRYPT_AUTH_EBADSIG:
        return "the peer's signature does not cover this session";
    case TCPCRYPT_AUTH_EPASSWORD:
        return "password key confirmation failed (another password)";
    case TCPCRYPT_AUTH_EREJECTED:
        return "the peer rejected this host's authentication";
    case TCPCRYPT_AUTH_ECONFIG:
        return "bad argument, or unreadable key, certificate or CA file";
    case TCPCRYPT_AUTH_ENOTAWARE:
        return "the peer is not tcpcrypt-aware";
    case TCPCRYPT_AUTH_EINTERNAL:
        return "internal failure (out of memory or a crypto library error)";
    default:
        return "unknown tcpcrypt authentication error";
    }
}

int tcpcrypt_session_get(int fd, struct tcpcrypt_session *s)
{
    socklen_t len;
    int role = 0;

    if (s == NULL) {
        return TCPCRYPT_AUTH_ECONFIG;
    }
    memset(s, 0, sizeof(*s));
    len = sizeof(s->id);
    if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, s->id, &len) != 0) {
        return errno == ENOPROTOOPT ? TCPCRYPT_AUTH_ENOTENCRYPTED : TCPCRYPT_AUTH_EIO;
    }
    if (len == 0 || len > sizeof(s->id)) {
        return TCPCRYPT_AUTH_ENOTENCRYPTED;
    }
    s->id_len = len;
    len = sizeof(role);
    if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_ROLE, &role, &len) != 0) {
        return errno == ENOPROTOOPT ? TCPCRYPT_AUTH_ENOTENCRYPTED : TCPCRYPT_AUTH_EIO;
    }
    if (role != 'A' && role != 'B') {
        return TCPCRYPT_AUTH_EIO;
    }
    s->role = role;
    return TCPCRYPT_AUTH_OK;
}

int tcpcrypt_aa_enable(int fd, int mandatory)
{
    int v = mandatory ? 2 : 1;

    if (setsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SUPPORT, &v, sizeof(v)) != 0) {
        return errno == ENOPROTOOPT ? TCPCRYPT_AUTH_ENOTENCRYPTED : TCPCRYPT_AUTH_EIO;
    }
    return TCPCRYPT_AUTH_OK;
}

int tcpcrypt_aa_peer(int fd)
{
    unsigned char sid[TCPCRYPT_SESSID_LEN];
    socklen_t len = sizeof(sid);
    int a = 0;

    if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_SESSID, sid, &len) != 0) {
        /* Plain TCP (or no tcpcrypt at all): the application does what it
         * did before. */
        return errno == ENOPROTOOPT ? 0 : TCPCRYPT_AUTH_EIO;
    }
    len = sizeof(a);
    if (getsockopt(fd, IPPROTO_TCP, TCP_CRYPT_APP_AWARE, &a, &len) != 0) {
        return errno == ENOPROTOOPT ? 0 : TCPCRYPT_AUTH_EIO;
    }
    return a != 0 ? 1 : 0;
}

static int check_session_arg(const struct tcpcrypt_session *s)
{
    if (s->id_len == 0 || s->id_len > sizeof(s->id) || (s->role != 'A' && s->role != 'B')) {
        return TCPCRYPT_AUTH_ECONFIG;
    }
    return TCPCRYPT_AUTH_OK;
}

int tc_auth_begin(struct tc_auth_io *io, int fd, uint8_t method, const struct tcpcrypt_session *s,
                  struct tcpcrypt_session *out)
{
    struct timeval tv;
    socklen_t len = sizeof(tv);
    int err;

    if (fd < 0) {
        return TCPCRYPT_AUTH_ECONFIG;
    }
    io->fd = fd;
    io->method = method;
    io->timeout_ms = TCPCRYPT_AUTH_TIMEOUT_MS;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0 && len == sizeof(tv) &&
        (tv.tv_sec > 0 || tv.tv_usec > 0)) {
        long long ms = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;

        io->timeout_ms = ms > 24LL * 3600 * 1000 ? 24 * 3600 * 1000 : (int)ms;
    }
    if (s == NULL) {
        err = tcpcrypt_session_get(fd, out);
        if (err != TCPCRYPT_AUTH_OK) {
            return err;
        }
    } else {
        *out = *s;
    }
    return check_session_arg(out);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        long long left = deadline - now_ms();
        int n;

        if (left <= 0) {
            return TCPCRYPT_AUTH_ETIMEOUT;
        }
        n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
        if (n > 0) {
            return TCPCRYPT_AUTH_OK;
        }
        if (n < 0 && errno != EINTR) {
            return TCPCRYPT_AUTH_EIO;
        }
    }
}

int tc_auth_send(struct tc_auth_io *io, uint8_t type, const uint8_t *body, size_t len)
{
    uint8_t hdr[TC_AUTH_HDR_LEN];
    long long deadline = now_ms() + io->timeout_ms;
    size_t done = 0, total = TC_AUTH_HDR_LEN + len;

    if (len > TC_AUTH_BODY_MAX) {
        return TCPCRYPT_AUTH_EINTERNAL;
    }
    hdr[0] = TC_AUTH_MAGIC0;
    hdr[1] = TC_AUTH_MAGIC1;
    hdr[2] = TC_AUTH_VERSION;
    hdr[3] = io->method;
    hdr[4] = type;
    hdr[5] = (uint8_t)(len >> 16);
    hdr[6] = (uint8_t)(len >> 8);
    hdr[7] = (uint8_t)len;
    while (done < total) {
        struct iovec iov[2];
        struct msghdr mh = {.msg_iov = iov};
        ssize_t n;

        if (done < TC_AUTH_HDR_LEN) {
            iov[0].iov_base = hdr + done;
            iov[0].iov_len = TC_AUTH_HDR_LEN - done;
            iov[1].iov_base = (void *)body;
            iov[1].iov_len = len;
            mh.msg_iovlen = len > 0 ? 2 : 1;
        } else {
            iov[0].iov_base = (void *)(body + (done - TC_AUTH_HDR_LEN));
            iov[0].iov_len = total - done;
            mh.msg_iovlen = 1;
        }
        n = sendmsg(io->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int err = wait_fd(io->fd, POLLOUT, deadline);

            if (err != TCPCRYPT_AUTH_OK) {
                return err;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return TCPCRYPT_AUTH_EIO;
    }
    return TCPCRYPT_AUTH_OK;
}

/* Reads exactly len bytes; *got counts what arrived (0 .. len). */
static int read_exact(struct tc_auth_io *io, uint8_t *buf, size_t len, long long deadline,
                      size_t *got)
{
    *got = 0;
    while (*got < len) {
        ssize_t n = recv(io->fd, buf + *got, len - *got, MSG_DONTWAIT);

        if (n > 0) {
            *got += (size_t)n;
            continue;
        }
        if (n == 0) {
            return TCPCRYPT_AUTH_ETRUNCATED;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int err = wait_fd(io->fd, POLLIN, deadline);

            if (err != TCPCRYPT_AUTH_OK) {
                return err;
            }
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        return TCPCRYPT_AUTH_EIO;
    }
    return TCPCRYPT_AUTH_OK;
}

static size_t type_max(uint8_t type)
{
    switch (type) {
    case TC_AUTH_T_PSK_MAC:
    case TC_AUTH_T_PAKE_CONFIRM:
        return TC_AUTH_SID_HDR + TCPCRYPT_SESSID_LEN + 32;
    case TC_AUTH_T_PAKE_SHARE:
        return TC_AUTH_SID_HDR + TCPCRYPT_SESSID_LEN + 65;
    case TC_AUTH_T_CERT_SIG:
        return TC_AUTH_BODY_MAX;
    case TC_AUTH_T_RESULT:
        return 0;
    case TC_AUTH_T_REJECT:
        return 1;
    default:
        return 0;
    }
}

int tc_auth_recv(struct tc_auth_io *io, uint8_t type, uint8_t *body, size_t cap, size_t *len)
{
    uint8_t hdr[TC_AUTH_HDR_LEN], rej;
    long long deadline = now_ms() + io->timeout_ms;
    size_t got, blen;
    int err;

    *len = 0;
    err = read_exact(io, hdr, sizeof(hdr), deadline, &got);
    if (err != TCPCRYPT_AUTH_OK) {
        return err;
    }
    if (hdr[0] != TC_AUTH_MAGIC0 || hdr[1] != TC_AUTH_MAGIC1 || hdr[2] != TC_AUTH_VERSION) {
        return TCPCRYPT_AUTH_EPROTO;
    }
    blen = (size_t)hdr[5] << 16 | (size_t)hdr[6] << 8 | hdr[7];
    if (hdr[4] == TC_AUTH_T_REJECT) {
        /* Any method: the peer tells why it gave up. */
        if (blen != 1) {
            return TCPCRYPT_AUTH_EPROTO;
        }
        err = read_exact(io, &rej, 1, deadline, &got);
        return err != TCPCRYPT_AUTH_OK ? err : TCPCRYPT_AUTH_EREJECTED;
    }
    if (hdr[3] != io->method) {
        return hdr[3] >= TC_AUTH_M_PSK && hdr[3] <= TC_AUTH_M_PASSWORD ? TCPCRYPT_AUTH_EMETHOD
                                                                       : TCPCRYPT_AUTH_EPROTO;
    }
    if (hdr[4] != type || blen > type_max(type) || blen > cap) {
        return TCPCRYPT_AUTH_EPROTO;
    }
    err = read_exact(io, body, blen, deadline, &got);
    if (err != TCPCRYPT_AUTH_OK) {
        return err;
    }
    *len = blen;
    return TCPCRYPT_AUTH_OK;
}

size_t tc_auth_put_session(uint8_t *p, const struct tcpcrypt_session *s)
{
    p[0] = (uint8_t)s->role;
    p[1] = (uint8_t)s->id_len;
    memcpy(p + 2, s->id, s->id_len);
    return TC_AUTH_SID_HDR + s->id_len;
}

int tc_auth_check_session(const uint8_t *body, size_t len, size_t *off,
                          const struct tcpcrypt_session *ours)
{
    size_t sid_len;

    if (len - *off < TC_AUTH_SID_HDR) {
        return TCPCRYPT_AUTH_EPROTO;
    }
    sid_len = body[*off + 1];
    if (body[*off] != 'A' && body[*off] != 'B') {
        return TCPCRYPT_AUTH_EPROTO;
    }
    if (sid_len == 0 || sid_len > TCPCRYPT_SESSID_LEN || len - *off - TC_AUTH_SID_HDR < sid_len) {
        return TCPCRYPT_AUTH_EPROTO;
    }
    /* RFC 8547 §8.3: "applications MUST ... include the role" -- a message
     * carrying our own role was made by us (reflected) or by a peer that
     * believes it holds our role. */
    if (body[*off] == ours->role) {
        return TCPCRYPT_AUTH_EROLE;
    }
    if (sid_len != ours->id_len ||
        CRYPTO_memcmp(body + *off + TC_AUTH_SID_HDR, ours->id, sid_len) != 0) {
        return TCPCRYPT_AUTH_ESESSION;
    }
    *off += TC_AUTH_SID_HDR + sid_len;
    return TCPCRYPT_AUTH_OK;
}

static int peer_should_learn(int err)
{
    return err != TCPCRYPT_AUTH_EIO && err != TCPCRYPT_AUTH_ETRUNCATED &&
           err != TCPCRYPT_AUTH_ETIMEOUT && err != TCPCRYPT_AUTH_EREJECTED &&
           err != TCPCRYPT_AUTH_ECONFIG && err != TCPCRYPT_AUTH_ENOTENCRYPTED;
}

int tc_auth_verdict(struct tc_auth_io *io, int err)
{
    if (err == TCPCRYPT_AUTH_OK) {
        return tc_auth_send(io, TC_AUTH_T_RESULT, NULL, 0);
    }
    if (peer_should_learn(err)) {
        uint8_t code = (uint8_t)-err;

        /* Best effort: our own verdict is what the caller needs. */
        (void)!tc_auth_send(io, TC_AUTH_T_REJECT, &code, 1);
    }
    return err;
}

int tc_auth_await_result(struct tc_auth_io *io)
{
    uint8_t none[1];
    size_t len;

    return tc_auth_recv(io, TC_AUTH_T_RESULT, none, 0, &len);
}
