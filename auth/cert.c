/*
 * A server certificate: the server signs the Merkle root of (role, session
 * ID) leaves with its X.509 key -- one leaf when it signs alone, a batch
 * when connections share a signature (auth/batch.c) -- and sends the
 * signature, the path to its leaf and its chain.  The client checks the
 * chain against its CA file, the dates, the host, then the path and the
 * signature.  RSA keys sign with RSA-PSS (SHA-256, salt of the digest's
 * length), EC keys with ECDSA-SHA256, Ed25519/Ed448 keys as themselves.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "auth/wire.h"

struct tcpcrypt_auth_signer {
    EVP_PKEY *key;
    uint8_t *chain; /* certificate count (1), then length (3) and DER each */
    size_t chain_len;
};

/* Sets up ctx to sign (sign = 1) or verify with key; -1 for a key type we
 * do not sign with. */
static int sig_init(EVP_MD_CTX *ctx, EVP_PKEY *key, int sign)
{
    EVP_PKEY_CTX *pctx = NULL;
    const char *md;
    int id = EVP_PKEY_get_base_id(key), rsa = 0;

    switch (id) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
        rsa = 1;
        md = "SHA256";
        break;
    case EVP_PKEY_EC:
        md = "SHA256";
        break;
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
        md = NULL;
        break;
    default:
        return -1;
    }
    if ((sign ? EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL)
              : EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL)) != 1) {
        return -1;
    }
    if (rsa && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
        return -1;
    }
    return 0;
}

int tc_auth_sign(const struct tcpcrypt_auth_signer *signer, const uint8_t *tbs, size_t tbs_len,
                 uint8_t *sig, size_t *sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = 0;
    int err = TCPCRYPT_AUTH_EINTERNAL;

    if (ctx == NULL || sig_init(ctx, signer->key, 1) != 0) {
        goto out;
    }
    if (EVP_DigestSign(ctx, NULL, &len, tbs, tbs_len) != 1 || len > TC_AUTH_SIG_MAX) {
        goto out;
    }
    if (EVP_DigestSign(ctx, sig, &len, tbs, tbs_len) != 1) {
        goto out;
    }
    *sig_len = len;
    err = TCPCRYPT_AUTH_OK;
out:
    EVP_MD_CTX_free(ctx);
    return err;
}

static int fail(int *err, int code)
{
    if (err != NULL) {
        *err = code;
    }
    return code;
}

struct tcpcrypt_auth_signer *tcpcrypt_auth_signer_new(const char *cert_file, const char *key_file,
                                                      int *err)
{
    struct tcpcrypt_auth_signer *sg = NULL;
    X509 *certs[TC_AUTH_CHAIN_MAX];
    size_t count = 0, total = 1;
    BIO *bio = NULL;
    EVP_MD_CTX *probe = NULL;
    int code = TCPCRYPT_AUTH_ECONFIG;

    if (cert_file == NULL || key_file == NULL) {
        fail(err, code);
        return NULL;
    }
    sg = calloc(1, sizeof(*sg));
    if (sg == NULL) {
        code = TCPCRYPT_AUTH_EINTERNAL;
        goto out;
    }
    bio = BIO_new_file(cert_file, "r");
    if (bio == NULL) {
        goto out;
    }
    while (count < TC_AUTH_CHAIN_MAX) {
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        int len;

        if (x == NULL) {
            break;
        }
        certs[count++] = x;
        len = i2d_X509(x, NULL);
        if (len <= 0 || len > TC_AUTH_CERT_MAX) {
            goto out;
        }
        total += 3 + (size_t)len;
    }
    ERR_clear_error();
    BIO_free(bio);
    bio = NULL;
    if (count == 0) {
        goto out;
    }
    bio = BIO_new_file(key_file, "r");
    if (bio == NULL) {
        goto out;
    }
    sg->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    if (sg->key == NULL || X509_check_private_key(certs[0], sg->key) != 1) {
        goto out;
    }
    probe = EVP_MD_CTX_new();
    if (probe == NULL || sig_init(probe, sg->key, 1) != 0) {
        goto out; /* a key type we do not sign with */
    }
    sg->chain = malloc(total);
    if (sg->chain == NULL) {
        code = TCPCRYPT_AUTH_EINTERNAL;
        goto out;
    }
    sg->chain[0] = (uint8_t)count;
    sg->chain_len = 1;
    for (size_t i = 0; i < count; i++) {
        uint8_t *p = sg->chain + sg->chain_len + 3;
        int len = i2d_X509(certs[i], &p);

        sg->chain[sg->chain_len] = (uint8_t)(len >> 16);
        sg->chain[sg->chain_len + 1] = (uint8_t)(len >> 8);
        sg->chain[sg->chain_len + 2] = (uint8_t)len;
        sg->chain_len += 3 + (size_t)len;
    }
    code = TCPCRYPT_AUTH_OK;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(probe);
    BIO_free(bio);
    for (size_t i = 0; i < count; i++) {
        X509_free(certs[i]);
    }
    if (code != TCPCRYPT_AUTH_OK) {
        tcpcrypt_auth_signer_free(sg);
        sg = NULL;
    }
    fail(err, code);
    return sg;
}

void tcpcrypt_auth_signer_free(struct tcpcrypt_auth_signer *signer)
{
    if (signer == NULL) {
        return;
    }
    EVP_PKEY_free(signer->key);
    free(signer->chain);
    free(signer);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int tc_auth_cert_send(struct tc_auth_io *io, const struct tcpcrypt_session *s,
                      const struct tcpcrypt_auth_signer *signer, uint32_t tree_size, uint32_t index,
                      const uint8_t (*path)[TC_AUTH_HASH_LEN], size_t path_len, const uint8_t *sig,
                      size_t sig_len)
{
    size_t cap = TC_AUTH_SID_HDR + TCPCRYPT_SESSID_LEN + 9 + path_len * TC_AUTH_HASH_LEN + 2 +
                 sig_len + signer->chain_len;
    uint8_t *body;
    size_t n;
    int err;

    if (cap > TC_AUTH_BODY_MAX || path_len > TC_AUTH_PATH_MAX || sig_len > TC_AUTH_SIG_MAX) {
        return TCPCRYPT_AUTH_ECONFIG; /* a chain too large to send */
    }
    body = malloc(cap);
    if (body == NULL) {
        return TCPCRYPT_AUTH_EINTERNAL;
    }
    n = tc_auth_put_session(body, s);
    put32(body + n, tree_size);
    put32(body + n + 4, index);
    body[n + 8] = (uint8_t)path_len;
    n += 9;
    if (path_len > 0) {
        memcpy(body + n, path, path_len * TC_AUTH_HASH_LEN);
        n += path_len * TC_AUTH_HASH_LEN;
    }
    body[n] = (uint8_t)(sig_len >> 8);
    body[n + 1] = (uint8_t)sig_len;
    memcpy(body + n + 2, sig, sig_len);
    n += 2 + sig_len;
    memcpy(body + n, signer->chain, signer->chain_len);
    n += signer->chain_len;
    err = tc_auth_send(io, TC_AUTH_T_CERT_SIG, body, n);
    free(body);
    if (err == TCPCRYPT_AUTH_OK) {
        err = tc_auth_await_result(io);
    }
    return err;
}

int tcpcrypt_auth_cert_server(int fd, const struct tcpcrypt_session *s,
                              struct tcpcrypt_auth_signer *signer)
{
    uint8_t leaf[TC_AUTH_HASH_LEN], tbs[128], sig[TC_AUTH_SIG_MAX];
    struct tcpcrypt_session ses;
    struct tc_auth_io io;
    size_t tbs_len, sig_len = 0;
    int err;

    if (signer == NULL) {
        return TCPCRYPT_AUTH_ECONFIG;
    }
    err = tc_auth_begin(&io, fd, TC_AUTH_M_CERT, s, &ses);
    if (err != TCPCRYPT_AUTH_OK) {
        return err;
    }
    /* A batch of one: the root is the leaf. */
    tc_auth_leaf(&ses, leaf);
    tbs_len = tc_auth_root_tbs(leaf, 1, tbs, sizeof(tbs));
    err = tc_auth_sign(signer, tbs, tbs_len, sig, &sig_len);
    if (err != TCPCRYPT_AUTH_OK) {
        return err;
    }
    return tc_auth_cert_send(&io, &ses, signer, 1, 0, NULL, 0, sig, sig_len);
}

/* ---------------------------------------------------------------- client */

struct cert_msg {
    uint32_t tree_size, index;
    const uint8_t (*path)[TC_AUTH_HASH_LEN];
    size_t path_len;
    const uint8_t *sig;
    size_t sig_len;
    X509 *leaf;
    STACK_OF(X509) * untrusted;
};

static int parse_cert_msg(const uint8_t *b, size_t len, size_t off, struct cert_msg *m)
{
    size_t count;

    if (len - off < 9) {
        return TCPCRYPT_AUTH_EPROTO;
    }
    m->tree_size = get32(b + off);
    m->index = get32(b + off + 4);
    m->path_len = b[off + 8];
    off += 9;
    if (m->tree_size == 0 || m->tree_size > TC_AUTH_TREE_MAX || m->index >= m->tree_size ||
        m->path_len > TC_AUTH_PATH_MAX || len - off < m->path_len * TC_AUTH_HASH_LEN) {
        return TCPCRYPT_AUTH_EPROTO;
    }
    m->path = (const uint8_t(*)[TC_AUTH_HASH_LEN])(b + off);
    off += m->path_len * TC_AUTH_HASH_LEN;
    if (len - off < 2) {
        return TCPCRYPT_AUTH_EPROTO;
    }
    m->sig_len = (size_t)b[off] << 8 | b[off + 1];
    off += 2;
    if (m->sig_len == 0 || m->sig_len > TC_AUTH_SIG_MAX || len - off < m->sig_len) {
        return TCPCRYPT_AUTH_EPROTO;
    }
    m->sig = b + off;
    off += m->sig_len;
    if (len - off < 1) {
        return TCPCRYPT_AUTH_EPROTO;
    }
    count = b[off++];
    if (count == 0 || count > TC_AUTH_CHAIN_MAX) {
        return TCPCRYPT_AUTH_EPROTO;
    }
    m->untrusted = sk_X509_new_null();
    if (m->untrusted == NULL) {
        return TCPCRYPT_AUTH_EINTERNAL;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p;
        size_t clen;
        X509 *x;

        if (len - off < 3) {
            return TCPCRYPT_AUTH_EPROTO;
        }
        clen = (size_t)b[off] << 16 | (size_t)b[off + 1] << 8 | b[off + 2];
        off += 3;
        if (clen == 0 || clen > TC_AUTH_CERT_MAX || len - off < clen) {
            return TCPCRYPT_AUTH_EPROTO;
        }
        p = b + off;
        x = d2i_X509(NULL, &p, (long)clen);
        if (x == NULL || p != b + off + clen) {
            X509_free(x);
            return TCPCRYPT_AUTH_EPROTO;
        }
        off += clen;
        if (i == 0) {
            m->leaf = x;
        } else if (sk_X509_push(m->untrusted, x) <= 0) {
            X509_free(x);
            return TCPCRYPT_AUTH_EINTERNAL;
        }
    }
    return off == len ? TCPCRYPT_AUTH_OK : TCPCRYPT_AUTH_EPROTO;
}

static int check_chain(X509_STORE *store, struct cert_msg *m)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int err = TCPCRYPT_AUTH_EINTERNAL;

    if (ctx == NULL || X509_STORE_CTX_init(ctx, store, m->leaf, m->untrusted) != 1) {
        goto out;
    }
    if (X509_verify_cert(ctx) == 1) {
        err = TCPCRYPT_AUTH_OK;
        goto out;
    }
    switch (X509_STORE_CTX_get_error(ctx)) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        err = TCPCRYPT_AUTH_EEXPIRED;
        break;
    default:
        err = TCPCRYPT_AUTH_ECERT;
        break;
    }
out:
    X509_STORE_CTX_free(ctx);
    return err;
}

static int check_host(X509 *leaf, const char *host)
{
    unsigned char addr[16];
    int ok;

    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
        ok = X509_check_ip_asc(leaf, host, 0);
    } else {
        ok = X509_check_host(leaf, host, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
    }
    return ok == 1 ? TCPCRYPT_AUTH_OK : TCPCRYPT_AUTH_EHOST;
}

static int check_sig(const struct tcpcrypt_session *peer, struct cert_msg *m)
{
    uint8_t leaf[TC_AUTH_HASH_LEN], root[TC_AUTH_HASH_LEN], tbs[128];
    EVP_PKEY *key = X509_get0_pubkey(m->leaf);
    EVP_MD_CTX *ctx;
    size_t tbs_len;
    int err = TCPCRYPT_AUTH_EBADSIG;

    if (key == NULL) {
        return TCPCRYPT_AUTH_ECERT;
    }
    tc_auth_leaf(peer, leaf);
    if (!tc_auth_merkle_verify(leaf, m->index, m->tree_size, m->path, m->path_len, root)) {
        return TCPCRYPT_AUTH_EBADSIG;
    }
    tbs_len = tc_auth_root_tbs(root, m->tree_size, tbs, sizeof(tbs));
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return TCPCRYPT_AUTH_EINTERNAL;
    }
    if (sig_init(ctx, key, 0) != 0) {
        err = TCPCRYPT_AUTH_ECERT; /* a key type we do not accept */
    } else if (EVP_DigestVerify(ctx, m->sig, m->sig_len, tbs, tbs_len) == 1) {
        err = TCPCRYPT_AUTH_OK;
    }
    EVP_MD_CTX_free(ctx);
    return err;
}

int tcpcrypt_auth_cert_client(int fd, const struct tcpcrypt_session *s, const char *ca_file,
                              const char *host)
{
    struct cert_msg m = {0};
    struct tcpcrypt_session ses, peer;
    struct tc_auth_io io;
    X509_STORE *store = NULL;
    uint8_t *body = NULL;
    size_t len, off = 0;
    int err;

    if (ca_file == NULL || host == NULL || host[0] == '\0') {
        return TCPCRYPT_AUTH_ECONFIG;
    }
    err = tc_auth_begin(&io, fd, TC_AUTH_M_CERT, s, &ses);
    if (err != TCPCRYPT_AUTH_OK) {
        return err;
    }
    store = X509_STORE_new();
    if (store == NULL) {
        return TCPCRYPT_AUTH_EINTERNAL;
    }
    if (X509_STORE_load_file(store, ca_file) != 1) {
        err = TCPCRYPT_AUTH_ECONFIG;
        goto out;
    }
    body = malloc(TC_AUTH_BODY_MAX);
    if (body == NULL) {
        err = TCPCRYPT_AUTH_EINTERNAL;
        goto out;
    }
    err = tc_auth_recv(&io, TC_AUTH_T_CERT_SIG, body, TC_AUTH_BODY_MAX, &len);
    if (err != TCPCRYPT_AUTH_OK) {
        goto verdict;
    }
    err = tc_auth_check_session(body, len, &off, &ses);
    if (err != TCPCRYPT_AUTH_OK) {
        goto verdict;
    }
    err = parse_cert_msg(body, len, off, &m);
    if (err != TCPCRYPT_AUTH_OK) {
        goto verdict;
    }
    err = check_chain(store, &m);
    if (err != TCPCRYPT_AUTH_OK) {
        goto verdict;
    }
    err = check_host(m.leaf, host);
    if (err != TCPCRYPT_AUTH_OK) {
        goto verdict;
    }
    peer = ses;
    peer.role = ses.role == 'A' ? 'B' : 'A';
    err = check_sig(&peer, &m);
verdict:
    err = tc_auth_verdict(&io, err);
out:
    ERR_clear_error();
    X509_free(m.leaf);
    sk_X509_pop_free(m.untrusted, X509_free);
    X509_STORE_free(store);
    free(body);
    return err;
}
