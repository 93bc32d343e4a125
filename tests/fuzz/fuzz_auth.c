/*
 * libtcpcrypt's message reader and parsers: arbitrary bytes from the peer
 * against each method (the first input byte chooses: shared secret,
 * certificate client, password with a fixed w).  Whatever arrives, the
 * call returns one of the codes of <tcpcrypt/auth.h>, and never
 * TCPCRYPT_AUTH_OK: nothing here can hold a valid MAC, signature or key
 * confirmation.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <tcpcrypt/auth.h>

#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static char ca_path[64];

static void remove_ca(void)
{
    unlink(ca_path);
}

/* A throw-away self-signed CA: the certificate client needs a trust store
 * before it reads anything. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    FILE *f;
    int fd;

    (void)argc;
    (void)argv;
    snprintf(ca_path, sizeof(ca_path), "/tmp/tc_fuzz_auth_XXXXXX");
    fd = mkstemp(ca_path);
    FUZZ_ASSERT(fd >= 0 && key != NULL && x != NULL);
    f = fdopen(fd, "w");
    FUZZ_ASSERT(f != NULL);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"Fuzz CA", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    FUZZ_ASSERT(X509_sign(x, key, EVP_sha256()) > 0);
    FUZZ_ASSERT(PEM_write_X509(f, x) == 1);
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(key);
    atexit(remove_ca);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key[32] = {1, 2, 3};
    static const unsigned char w[TCPCRYPT_AUTH_W_LEN] = {9, 8, 7};
    struct tcpcrypt_session s = {.id_len = TCPCRYPT_SESSID_LEN, .role = 'B'};
    struct timeval tv = {.tv_sec = 0, .tv_usec = 1000};
    size_t off = 0;
    int sv[2], rc, method;

    if (size < 1) {
        return 0;
    }
    method = data[0] % 3;
    memset(s.id, 0x23, sizeof(s.id));
    FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    FUZZ_ASSERT(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
    FUZZ_ASSERT(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
    /* Bit 2 of the first byte: frame the rest as one message of this
     * method (type from the second byte), bit 3: start its body with the
     * role and session ID the receiver expects -- so that the parsers
     * behind the header and session checks are reached at once. */
    if ((data[0] & 0x04) != 0 && size >= 2) {
        uint8_t hdr[8 + 2 + TCPCRYPT_SESSID_LEN];
        size_t body = size - 2, hl = 8;

        if ((data[0] & 0x08) != 0) {
            hdr[hl] = 'A';
            hdr[hl + 1] = TCPCRYPT_SESSID_LEN;
            memcpy(hdr + hl + 2, s.id, TCPCRYPT_SESSID_LEN);
            hl += 2 + TCPCRYPT_SESSID_LEN;
            body += 2 + TCPCRYPT_SESSID_LEN;
        }
        hdr[0] = 0x74;
        hdr[1] = 0x41;
        hdr[2] = 1;
        hdr[3] = (uint8_t)(data[0] % 3 + 1);
        hdr[4] = (uint8_t)(data[1] % 7);
        hdr[5] = (uint8_t)(body >> 16);
        hdr[6] = (uint8_t)(body >> 8);
        hdr[7] = (uint8_t)body;
        FUZZ_ASSERT(send(sv[1], hdr, hl, MSG_NOSIGNAL) == (ssize_t)hl);
        data++;
        size--;
    }
    /* The peer's bytes, then its close (what does not fit is dropped). */
    while (off < size - 1) {
        ssize_t n = send(sv[1], data + 1 + off, size - 1 - off, MSG_NOSIGNAL);

        if (n <= 0) {
            break;
        }
        off += (size_t)n;
    }
    shutdown(sv[1], SHUT_WR);
    switch (method) {
    case 0:
        rc = tcpcrypt_auth_psk(sv[0], &s, key, sizeof(key));
        break;
    case 1:
        rc = tcpcrypt_auth_cert_client(sv[0], &s, ca_path, "server.example");
        break;
    default:
        rc = tcpcrypt_auth_password_w(sv[0], &s, w, "a", "b");
        break;
    }
    FUZZ_ASSERT(rc < TCPCRYPT_AUTH_OK && rc >= TCPCRYPT_AUTH_EINTERNAL);
    FUZZ_ASSERT(rc != TCPCRYPT_AUTH_ECONFIG && rc != TCPCRYPT_AUTH_EINTERNAL);
    FUZZ_ASSERT(strlen(tcpcrypt_auth_strerror(rc)) > 0);
    close(sv[0]);
    close(sv[1]);
    return 0;
}
