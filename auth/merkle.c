/*
 * The batch tree: SHA-256 with distinct leaf (0x00) and node (0x01)
 * prefixes, shaped as RFC 9162 §2.1.1 (the left subtree holds the largest
 * power of two below n), so that a path proves one leaf at one index of a
 * tree of one size.
 */
#include <string.h>

#include <openssl/sha.h>

#include "auth/wire.h"

void tc_auth_leaf(const struct tcpcrypt_session *s, uint8_t out[TC_AUTH_HASH_LEN])
{
    uint8_t in[1 + sizeof(TC_AUTH_LABEL_LEAF) - 1 + TC_AUTH_SID_HDR + TCPCRYPT_SESSID_LEN];
    size_t n = 1 + sizeof(TC_AUTH_LABEL_LEAF) - 1;

    in[0] = 0x00;
    memcpy(in + 1, TC_AUTH_LABEL_LEAF, sizeof(TC_AUTH_LABEL_LEAF) - 1);
    n += tc_auth_put_session(in + n, s);
    SHA256(in, n, out);
}

static void node(const uint8_t left[TC_AUTH_HASH_LEN], const uint8_t right[TC_AUTH_HASH_LEN],
                 uint8_t out[TC_AUTH_HASH_LEN])
{
    uint8_t in[1 + 2 * TC_AUTH_HASH_LEN];

    in[0] = 0x01;
    memcpy(in + 1, left, TC_AUTH_HASH_LEN);
    memcpy(in + 1 + TC_AUTH_HASH_LEN, right, TC_AUTH_HASH_LEN);
    SHA256(in, sizeof(in), out);
}

/* The largest power of two below n (n >= 2). */
static size_t split(size_t n)
{
    size_t k = 1;

    while (k << 1 < n) {
        k <<= 1;
    }
    return k;
}

void tc_auth_merkle_root(const uint8_t (*leaves)[TC_AUTH_HASH_LEN], size_t n,
                         uint8_t root[TC_AUTH_HASH_LEN])
{
    uint8_t l[TC_AUTH_HASH_LEN], r[TC_AUTH_HASH_LEN];
    size_t k;

    if (n == 1) {
        memcpy(root, leaves[0], TC_AUTH_HASH_LEN);
        return;
    }
    k = split(n);
    tc_auth_merkle_root(leaves, k, l);
    tc_auth_merkle_root(leaves + k, n - k, r);
    node(l, r, root);
}

size_t tc_auth_merkle_path(const uint8_t (*leaves)[TC_AUTH_HASH_LEN], size_t n, size_t i,
                           uint8_t (*path)[TC_AUTH_HASH_LEN])
{
    size_t k, len;

    if (n <= 1) {
        return 0;
    }
    k = split(n);
    if (i < k) {
        len = tc_auth_merkle_path(leaves, k, i, path);
        tc_auth_merkle_root(leaves + k, n - k, path[len]);
    } else {
        len = tc_auth_merkle_path(leaves + k, n - k, i - k, path);
        tc_auth_merkle_root(leaves, k, path[len]);
    }
    return len + 1;
}

int tc_auth_merkle_verify(const uint8_t leaf[TC_AUTH_HASH_LEN], size_t i, size_t n,
                          const uint8_t (*path)[TC_AUTH_HASH_LEN], size_t path_len,
                          uint8_t root[TC_AUTH_HASH_LEN])
{
    uint8_t r[TC_AUTH_HASH_LEN];
    size_t fn = i, sn;

    if (n == 0 || i >= n) {
        return 0;
    }
    sn = n - 1;
    memcpy(r, leaf, TC_AUTH_HASH_LEN);
    for (size_t p = 0; p < path_len; p++) {
        if (sn == 0) {
            return 0;
        }
        if ((fn & 1) != 0 || fn == sn) {
            node(path[p], r, r);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            node(r, path[p], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) {
        return 0;
    }
    memcpy(root, r, TC_AUTH_HASH_LEN);
    return 1;
}

size_t tc_auth_root_tbs(const uint8_t root[TC_AUTH_HASH_LEN], uint32_t n, uint8_t *out, size_t cap)
{
    size_t l = sizeof(TC_AUTH_LABEL_ROOT) - 1;

    if (cap < l + TC_AUTH_HASH_LEN + 4) {
        return 0;
    }
    memcpy(out, TC_AUTH_LABEL_ROOT, l);
    memcpy(out + l, root, TC_AUTH_HASH_LEN);
    out[l + TC_AUTH_HASH_LEN] = (uint8_t)(n >> 24);
    out[l + TC_AUTH_HASH_LEN + 1] = (uint8_t)(n >> 16);
    out[l + TC_AUTH_HASH_LEN + 2] = (uint8_t)(n >> 8);
    out[l + TC_AUTH_HASH_LEN + 3] = (uint8_t)n;
    return l + TC_AUTH_HASH_LEN + 4;
}
