/*
 * SPAKE2 (auth/spake2.c): every P-256/SHA-256 test vector of RFC 9382
 * Appendix B, byte for byte, then the properties the password mode rests
 * on: equal passwords agree, a different password, AAD (the session ID) or
 * identity makes both confirmations fail, and invalid peer shares are
 * refused with -1.
 */
#include "tests/check.h"

#include "auth/spake2.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#define BUF_MAX 512

static size_t unhex(uint8_t *out, const char *hex)
{
    return tc_unhex(out, BUF_MAX, hex);
}

/* RFC 9382 Appendix B, SPAKE2-P256-SHA256-HKDF-HMAC, AAD empty. */
static const struct rfc_vector {
    const char *a_id, *b_id;
    const char *w, *x, *y, *pa, *pb, *k, *tt, *ke, *ka, *kca, *kcb, *ca, *cb;
} rfc_vectors[] = {
    {"server", "client",
     /* w */ "2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
     /* x */ "43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729",
     /* y */ "dcb60106f276b02606d8ef0a328c02e4b629f84f89786af5befb0bc75b6e66be",
     /* pA */
     "04"
     "a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9"
     "010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c",
     /* pB */
     "04"
     "06557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d0"
     "9857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b7",
     /* K */
     "04"
     "12af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69"
     "f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d3325",
     /* TT */
     "06000000000000007365727665720600000000000000636c69656e7441000000"
     "0000000004a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a87984"
     "34751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb411698"
     "8ede5f912c41000000000000000406557e482bd03097ad0cbaa5df82115460d9"
     "51e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed6e4a115"
     "5cf8f1543ceca528afb591a1e0b741000000000000000412af7e897178506719"
     "13e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2"
     "fa6a406d528501f907e04d97515fbe83db277b715d332520000000000000002e"
     "e57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
     /* Ke */ "0e0672dc86f8e45565d338b0540abe69",
     /* Ka */ "15bdf72e2b35b5c9e5663168e960a91b",
     /* KcA */ "00c12546835755c86d8c0db7851ae86f",
     /* KcB */ "a9fa3406c3b781b93d804485430ca27a",
     /* A conf */ "58ad4aa88e0b60d5061eb6b5dd93e80d9c4f00d127c65b3b35b1b5281fee38f0",
     /* B conf */ "d3e2e547f1ae04f2dbdbf0fc4b79f8ecff2dff314b5d32fe9fcef2fb26dc459b"},
    {"", "client",
     /* w */ "0548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae",
     /* x */ "403abbe3b1b4b9ba17e3032849759d723939a27a27b9d921c500edde18ed654b",
     /* y */ "903023b6598908936ea7c929bd761af6039577a9c3f9581064187c3049d87065",
     /* pA */
     "04"
     "a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44"
     "fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a",
     /* pB */
     "04"
     "e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b"
     "881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc",
     /* K */
     "04"
     "8f83ec9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebd"
     "a82eac03e00112fd6a5710682767cff5361f7e819e53d8d3c3a2922e0d837aa6",
     /* TT */
     "00000000000000000600000000000000636c69656e74410000000000000004a8"
     "97b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44fb"
     "92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a41"
     "0000000000000004e0f816fd1c35e22065d5556215c097e799390d16661c386e"
     "0ecc84593974a61b881a8c82327687d0501862970c64565560cb5671f6960480"
     "50ca66ca5f8cc7fc4100000000000000048f83ec9f6e4f87cc6f9dc740bdc276"
     "9725f923364f01c84148c049a39a735ebda82eac03e00112fd6a5710682767cf"
     "f5361f7e819e53d8d3c3a2922e0d837aa620000000000000000548d8729f7305"
     "89e579b0475a582c1608138ddf7054b73b5381c7e883e2efae",
     /* Ke */ "642f05c473c2cd79909f9a841e2f30a7",
     /* Ka */ "0bf89b18180af97353ba198789c2b963",
     /* KcA */ "c6be376fc7cd1301fd0a13adf3e7bffd",
     /* KcB */ "b7243f4ae60440a49b3f8cab3c1fba07",
     /* A conf */ "47d29e6666af1b7dd450d571233085d7a9866e4d49d2645e2df975489521232b",
     /* B conf */ "3313c5cefc361d27fb16847a91c2a73b766ffa90a4839122a9b70a2f6bd1d6df"},
    {"server", "",
     /* w */ "626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254",
     /* x */ "07adb3db6bc623d3399726bfdbfd3d15a58ea776ab8a308b00392621291f9633",
     /* y */ "b6a4fc8dbb629d4ba51d6f91ed1532cf87adec98f25dd153a75accafafedec16",
     /* pA */
     "04"
     "f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e1"
     "5a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b0",
     /* pB */
     "04"
     "0c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7"
     "cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db",
     /* K */
     "04"
     "45ee233b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3"
     "ec8a988dc9c626fa3b99f58a7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe",
     /* TT */
     "06000000000000007365727665720000000000000000410000000000000004f8"
     "8fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e15a"
     "873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b041"
     "00000000000000040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4"
     "bdfd353f031101e7cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39b"
     "a0f31a9661bd34db41000000000000000445ee233b8ecb51ebd6e7da3f307e88"
     "a1616bae2166121221fdc0dadb986afaf3ec8a988dc9c626fa3b99f58a7ca7c9"
     "b844bb3e8dd9554aafc5b53813504c1cbe2000000000000000626e0cdc7b14c9"
     "db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254",
     /* Ke */ "005184ff460da2ce59062c87733c299c",
     /* Ka */ "3521297d736598fc0a1127600efa1afb",
     /* KcA */ "f3da53604f0aeecea5a33be7bddf6edf",
     /* KcB */ "9e3f86848736f159bd92b6e107ec6799",
     /* A conf */ "bc9f9bbe99f26d0b2260e6456e05a86196a3307ec6663a18bf6ac825736533b2",
     /* B conf */ "c2370e1bf813b086dff0d834e74425a06e6390f48f5411900276dcccc5a297ec"},
    {"", "",
     /* w */ "7bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca",
     /* x */ "8cef65df64bb2d0f83540c53632de911b5b24b3eab6cc74a97609fd659e95473",
     /* y */ "d7a66f64074a84652d8d623a92e20c9675c61cb5b4f6a0063e4648a2fdc02d53",
     /* pA */
     "04"
     "a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46c"
     "a1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66",
     /* pB */
     "04"
     "589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc049466"
     "2eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d",
     /* K */
     "04"
     "1a3c03d51b452537ca2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a9"
     "94b4477f93c64d928edbbcd3e85a7c709b7ea73ee97986ce3d1438e135543772",
     /* TT */
     "00000000000000000000000000000000410000000000000004a65b367a3f613c"
     "f9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46ca1ef6a67659888"
     "9fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d6641000000000000"
     "0004589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc04"
     "94662eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6"
     "f58d4100000000000000041a3c03d51b452537ca2a1fea6110353c6d5ed483c4"
     "f0f86f4492ca3f378d40a994b4477f93c64d928edbbcd3e85a7c709b7ea73ee9"
     "7986ce3d1438e13554377220000000000000007bf46c454b4c1b25799527d896"
     "508afd5fc62ef4ec59db1efb49113063d70cca",
     /* Ke */ "fc6374762ba5cf11f4b2caa08b2cd1b9",
     /* Ka */ "907ae0e26e8d6234318d91583cd74c86",
     /* KcA */ "5dbd2f477166b7fb6d61febbd77a5563",
     /* KcB */ "7689b4654407a5faeffdc8f18359d8a3",
     /* A conf */ "dfb4db8d48ae5a675963ea5e6c19d98d4ea028d8e898dad96ea19a80ade95dca",
     /* B conf */ "d0f0609d1613138d354f7e95f19fb556bf52d751947241e8c7118df5ef0ae175"},
};

/* The P-256 group order n. */
static const char p256_order[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
/* The P-256 field prime p. */
static const char p256_prime[] = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

static const uint8_t *id(const char *s)
{
    return (const uint8_t *)s;
}

/* One side of a vector: its share, then finish() against the other's
 * published share, checking every derived value. */
static void vector_side(const struct rfc_vector *v, int side)
{
    uint8_t w[32], sc[32], share[BUF_MAX], peer[BUF_MAX], k[BUF_MAX], tt[BUF_MAX];
    uint8_t want[BUF_MAX], mac[TC_SPAKE2_MAC_LEN], peer_mac[TC_SPAKE2_MAC_LEN];
    uint8_t ke[16], ka[16], kca[16], kcb[16];
    const uint8_t *got_tt = NULL;
    size_t got_tt_len = 0, tt_len, k_len;
    struct tc_spake2 *st;

    CHECK_INT(unhex(w, v->w), 32);
    CHECK_INT(unhex(sc, side == 'A' ? v->x : v->y), 32);
    CHECK_INT(unhex(share, side == 'A' ? v->pa : v->pb), TC_SPAKE2_SHARE_LEN);
    CHECK_INT(unhex(peer, side == 'A' ? v->pb : v->pa), TC_SPAKE2_SHARE_LEN);
    k_len = unhex(k, v->k);
    tt_len = unhex(tt, v->tt);

    st = tc_spake2_new_with_scalar(side, w, sizeof(w), sc, sizeof(sc), id(v->a_id), strlen(v->a_id),
                                   id(v->b_id), strlen(v->b_id), NULL, 0);
    CHECK(st != NULL);
    if (st == NULL) {
        return;
    }
    CHECK_INT(tc_spake2_share(st, want), 0);
    CHECK_MEM(want, share, TC_SPAKE2_SHARE_LEN);
    CHECK_INT(tc_spake2_finish(st, peer, mac), 0);
    CHECK_INT(tc_spake2_transcript(st, &got_tt, &got_tt_len), 0);
    CHECK_INT(got_tt_len, tt_len);
    if (got_tt != NULL && got_tt_len == tt_len) {
        CHECK_MEM(got_tt, tt, tt_len);
    }
    /* K sits in TT after len(A) || A || len(B) || B || len(pA) || pA ||
     * len(pB) || pB || len(K). */
    CHECK_INT(k_len, TC_SPAKE2_SHARE_LEN);
    if (got_tt != NULL && got_tt_len == tt_len) {
        size_t off = 8 + strlen(v->a_id) + 8 + strlen(v->b_id) + 2 * (8 + 65) + 8;
        CHECK_MEM(got_tt + off, k, TC_SPAKE2_SHARE_LEN);
    }
    CHECK_INT(tc_spake2_keys(st, ke, ka, kca, kcb), 0);
    CHECK_INT(unhex(want, v->ke), 16);
    CHECK_MEM(ke, want, 16);
    CHECK_INT(unhex(want, v->ka), 16);
    CHECK_MEM(ka, want, 16);
    CHECK_INT(unhex(want, v->kca), 16);
    CHECK_MEM(kca, want, 16);
    CHECK_INT(unhex(want, v->kcb), 16);
    CHECK_MEM(kcb, want, 16);
    CHECK_INT(unhex(want, side == 'A' ? v->ca : v->cb), TC_SPAKE2_MAC_LEN);
    CHECK_MEM(mac, want, TC_SPAKE2_MAC_LEN);
    CHECK_INT(unhex(peer_mac, side == 'A' ? v->cb : v->ca), TC_SPAKE2_MAC_LEN);
    CHECK_INT(tc_spake2_verify(st, peer_mac), 0);
    tc_spake2_free(st);
}

static void test_rfc_vectors(void)
{
    for (size_t i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
        const struct rfc_vector *v = &rfc_vectors[i];
        unsigned before = tc_checks_failed;

        vector_side(v, 'A');
        vector_side(v, 'B');
        printf("RFC 9382 B, A='%s' B='%s': pA pB K TT Ke Ka KcA KcB, both MACs and verify: %s\n",
               v->a_id, v->b_id, tc_checks_failed == before ? "match" : "MISMATCH");
    }
}

struct run {
    int rc_finish_a, rc_finish_b, rc_verify_a, rc_verify_b;
};

/* A full exchange with random scalars; each side has its own parameters. */
static struct run exchange(const uint8_t wa[32], const uint8_t wb[32], const char *ida_a,
                           const char *idb_a, const char *ida_b, const char *idb_b,
                           const char *aad_a, const char *aad_b)
{
    struct run r = {-2, -2, -2, -2};
    uint8_t pa[TC_SPAKE2_SHARE_LEN], pb[TC_SPAKE2_SHARE_LEN];
    uint8_t ma[TC_SPAKE2_MAC_LEN], mb[TC_SPAKE2_MAC_LEN];
    struct tc_spake2 *a, *b;

    a = tc_spake2_new('A', wa, 32, id(ida_a), strlen(ida_a), id(idb_a), strlen(idb_a), id(aad_a),
                      strlen(aad_a));
    b = tc_spake2_new('B', wb, 32, id(ida_b), strlen(ida_b), id(idb_b), strlen(idb_b), id(aad_b),
                      strlen(aad_b));
    CHECK(a != NULL && b != NULL);
    if (a != NULL && b != NULL && tc_spake2_share(a, pa) == 0 && tc_spake2_share(b, pb) == 0) {
        r.rc_finish_a = tc_spake2_finish(a, pb, ma);
        r.rc_finish_b = tc_spake2_finish(b, pa, mb);
        r.rc_verify_a = tc_spake2_verify(a, mb);
        r.rc_verify_b = tc_spake2_verify(b, ma);
    }
    tc_spake2_free(a);
    tc_spake2_free(b);
    return r;
}

static void test_agreement(void)
{
    uint8_t w1[32], w2[32];
    struct run r;

    memset(w1, 0x5a, sizeof(w1));
    memcpy(w2, w1, sizeof(w2));
    w2[31] ^= 1;

    r = exchange(w1, w1, "alice", "server", "alice", "server", "sessid-1", "sessid-1");
    CHECK_INT(r.rc_finish_a, 0);
    CHECK_INT(r.rc_finish_b, 0);
    CHECK_INT(r.rc_verify_a, 0);
    CHECK_INT(r.rc_verify_b, 0);
    printf("equal w, identities and AAD: A verifies B (%d), B verifies A (%d)\n", r.rc_verify_a,
           r.rc_verify_b);

    r = exchange(w1, w2, "alice", "server", "alice", "server", "sessid-1", "sessid-1");
    CHECK_INT(r.rc_finish_a, 0);
    CHECK_INT(r.rc_finish_b, 0);
    CHECK_INT(r.rc_verify_a, -1);
    CHECK_INT(r.rc_verify_b, -1);
    printf("w differing in one bit: A rejects B (%d), B rejects A (%d)\n", r.rc_verify_a,
           r.rc_verify_b);

    r = exchange(w1, w1, "alice", "server", "alice", "server", "sessid-1", "sessid-2");
    CHECK_INT(r.rc_verify_a, -1);
    CHECK_INT(r.rc_verify_b, -1);
    printf("AAD (session ID) differing: A rejects B (%d), B rejects A (%d)\n", r.rc_verify_a,
           r.rc_verify_b);

    r = exchange(w1, w1, "alice", "server", "mallory", "server", "sessid-1", "sessid-1");
    CHECK_INT(r.rc_verify_a, -1);
    CHECK_INT(r.rc_verify_b, -1);
    printf("identity A differing: A rejects B (%d), B rejects A (%d)\n", r.rc_verify_a,
           r.rc_verify_b);

    r = exchange(w1, w1, "", "", "", "", "", "");
    CHECK_INT(r.rc_verify_a, 0);
    CHECK_INT(r.rc_verify_b, 0);
    printf("empty identities and AAD, equal w: both verify (%d, %d)\n", r.rc_verify_a,
           r.rc_verify_b);
}

/* A wrong MAC, a second verify, calls out of order. */
static void test_mac_and_order(void)
{
    const struct rfc_vector *v = &rfc_vectors[0];
    uint8_t w[32], x[32], pb[TC_SPAKE2_SHARE_LEN], mac[TC_SPAKE2_MAC_LEN], cb[TC_SPAKE2_MAC_LEN];
    uint8_t share[TC_SPAKE2_SHARE_LEN];
    struct tc_spake2 *st;

    (void)unhex(w, v->w);
    (void)unhex(x, v->x);
    (void)unhex(pb, v->pb);
    (void)unhex(cb, v->cb);

    st = tc_spake2_new_with_scalar('A', w, 32, x, 32, id("server"), 6, id("client"), 6, NULL, 0);
    CHECK(st != NULL);
    CHECK_INT(tc_spake2_verify(st, cb), -1); /* before finish */
    CHECK_INT(tc_spake2_finish(st, pb, mac), 0);
    CHECK_INT(tc_spake2_share(st, share), -1); /* after finish */
    CHECK_INT(tc_spake2_finish(st, pb, mac), -1);
    cb[7] ^= 0x20;
    CHECK_INT(tc_spake2_verify(st, cb), -1);
    cb[7] ^= 0x20;
    CHECK_INT(tc_spake2_verify(st, cb), -1); /* the right MAC, but only one try */
    tc_spake2_free(st);
    printf("B's MAC with one bit flipped: -1; the right MAC on a second try: -1\n");

    /* finish() without share() first computes the share itself. */
    st = tc_spake2_new_with_scalar('A', w, 32, x, 32, id("server"), 6, id("client"), 6, NULL, 0);
    CHECK(st != NULL);
    CHECK_INT(tc_spake2_finish(st, pb, mac), 0);
    CHECK_INT(tc_spake2_verify(st, cb), 0);
    tc_spake2_free(st);
}

/* finish() on the A side of vector 1 with a given peer share; returns its
 * result and checks that a failed state verifies nothing afterwards. */
static int finish_with(const uint8_t peer[TC_SPAKE2_SHARE_LEN])
{
    const struct rfc_vector *v = &rfc_vectors[0];
    uint8_t w[32], x[32], mac[TC_SPAKE2_MAC_LEN], cb[TC_SPAKE2_MAC_LEN];
    struct tc_spake2 *st;
    int rc;

    (void)unhex(w, v->w);
    (void)unhex(x, v->x);
    (void)unhex(cb, v->cb);
    st = tc_spake2_new_with_scalar('A', w, 32, x, 32, id("server"), 6, id("client"), 6, NULL, 0);
    CHECK(st != NULL);
    if (st == NULL) {
        return -2;
    }
    memset(mac, 0xee, sizeof(mac));
    rc = tc_spake2_finish(st, peer, mac);
    if (rc != 0) {
        CHECK_INT(tc_spake2_verify(st, cb), -1);
    }
    tc_spake2_free(st);
    return rc;
}

/* out = w*N, uncompressed, computed independently of auth/spake2.c. */
static int scalar_times_n(const uint8_t w[32], uint8_t out[TC_SPAKE2_SHARE_LEN])
{
    uint8_t n_oct[33];
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *n = g != NULL ? EC_POINT_new(g) : NULL, *r = g != NULL ? EC_POINT_new(g) : NULL;
    BIGNUM *k = BN_bin2bn(w, 32, NULL);
    int rc = -1;

    (void)tc_unhex(n_oct, sizeof(n_oct),
                   "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49");
    if (n != NULL && r != NULL && k != NULL &&
        EC_POINT_oct2point(g, n, n_oct, sizeof(n_oct), NULL) == 1 &&
        EC_POINT_mul(g, r, NULL, n, k, NULL) == 1 &&
        EC_POINT_point2oct(g, r, POINT_CONVERSION_UNCOMPRESSED, out, TC_SPAKE2_SHARE_LEN, NULL) ==
            TC_SPAKE2_SHARE_LEN) {
        rc = 0;
    }
    BN_free(k);
    EC_POINT_free(n);
    EC_POINT_free(r);
    EC_GROUP_free(g);
    return rc;
}

static void test_invalid_shares(void)
{
    const struct rfc_vector *v = &rfc_vectors[0];
    uint8_t good[TC_SPAKE2_SHARE_LEN], bad[TC_SPAKE2_SHARE_LEN], w[32];
    uint8_t prime[32];
    int rc;

    (void)unhex(good, v->pb);
    (void)unhex(w, v->w);
    (void)unhex(prime, p256_prime);
    CHECK_INT(finish_with(good), 0);

    /* The identity: SEC1 encodes it as the single byte 00. */
    memset(bad, 0, sizeof(bad));
    rc = finish_with(bad);
    CHECK_INT(rc, -1);
    printf("peer share 00...00 (the identity's encoding, padded): %d\n", rc);

    /* Off the curve: pB with y + 1. */
    memcpy(bad, good, sizeof(bad));
    bad[64] ^= 1;
    rc = finish_with(bad);
    CHECK_INT(rc, -1);
    printf("peer share off the curve (y's last bit flipped): %d\n", rc);

    /* x = 0, y = 0 is not on P-256. */
    memset(bad, 0, sizeof(bad));
    bad[0] = 0x04;
    rc = finish_with(bad);
    CHECK_INT(rc, -1);
    printf("peer share 04 || 0 || 0: %d\n", rc);

    /* A coordinate equal to the field prime. */
    memcpy(bad, good, sizeof(bad));
    memcpy(bad + 1, prime, 32);
    rc = finish_with(bad);
    CHECK_INT(rc, -1);
    printf("peer share with x = p: %d\n", rc);

    /* Compressed and hybrid prefixes on otherwise valid bytes, and junk. */
    static const uint8_t prefixes[] = {0x00, 0x02, 0x03, 0x05, 0x06, 0x07, 0xff};
    for (size_t i = 0; i < sizeof(prefixes); i++) {
        memcpy(bad, good, sizeof(bad));
        bad[0] = prefixes[i];
        rc = finish_with(bad);
        CHECK_INT(rc, -1);
        printf("peer share with prefix %02x instead of 04: %d\n", prefixes[i], rc);
    }

    /* The hybrid form 06/07 || x || y with the right parity bit is a valid
     * SEC1 encoding of pB that OpenSSL would parse; only 04 is taken. */
    memcpy(bad, good, sizeof(bad));
    bad[0] = (uint8_t)(0x06 | (good[64] & 1));
    rc = finish_with(bad);
    CHECK_INT(rc, -1);
    printf("peer share in hybrid form (%02x, a valid encoding of pB): %d\n", bad[0], rc);

    /* A share equal to w*N: pB - w*N is the identity and so would be K,
     * the same for every guess of w.  w*N computed here with OpenSSL. */
    rc = scalar_times_n(w, bad);
    CHECK_INT(rc, 0);
    rc = rc == 0 ? finish_with(bad) : -2;
    CHECK_INT(rc, -1);
    printf("peer share w*N (pB - w*N the identity): %d\n", rc);

    /* And a valid point that is not w*N is accepted: P + w*N, B's share for y = 1. */
    {
        uint8_t one[1] = {1}, pb1[TC_SPAKE2_SHARE_LEN];
        struct tc_spake2 *b = tc_spake2_new_with_scalar('B', w, 32, one, 1, id("server"), 6,
                                                        id("client"), 6, NULL, 0);
        CHECK(b != NULL);
        CHECK_INT(b != NULL ? tc_spake2_share(b, pb1) : -1, 0);
        tc_spake2_free(b);
        CHECK_INT(finish_with(pb1), 0);
    }
}

/* new() refuses bad arguments; w is reduced mod n. */
static void test_arguments(void)
{
    const struct rfc_vector *v = &rfc_vectors[0];
    uint8_t w[32], x[32], pa[TC_SPAKE2_SHARE_LEN], got[TC_SPAKE2_SHARE_LEN], zero[32] = {0};
    uint8_t order[32], wn[33], big[65];
    struct tc_spake2 *st;
    unsigned carry = 0;

    (void)unhex(w, v->w);
    (void)unhex(x, v->x);
    (void)unhex(pa, v->pa);
    (void)unhex(order, p256_order);

    CHECK(tc_spake2_new('C', w, 32, NULL, 0, NULL, 0, NULL, 0) == NULL);
    CHECK(tc_spake2_new('A', w, 0, NULL, 0, NULL, 0, NULL, 0) == NULL);
    CHECK(tc_spake2_new('A', NULL, 32, NULL, 0, NULL, 0, NULL, 0) == NULL);
    CHECK(tc_spake2_new('A', zero, 32, NULL, 0, NULL, 0, NULL, 0) == NULL);
    CHECK(tc_spake2_new('A', order, 32, NULL, 0, NULL, 0, NULL, 0) == NULL); /* n mod n = 0 */
    CHECK(tc_spake2_new('A', w, 32, NULL, 3, NULL, 0, NULL, 0) == NULL);
    memset(big, 1, sizeof(big));
    CHECK(tc_spake2_new('A', big, sizeof(big), NULL, 0, NULL, 0, NULL, 0) == NULL);
    CHECK(tc_spake2_new_with_scalar('A', w, 32, zero, 32, NULL, 0, NULL, 0, NULL, 0) == NULL);
    printf("new() refuses side 'C', empty, NULL, zero, n and 65-byte w, a NULL identity with a "
           "length, and x = 0\n");

    /* w + n (33 bytes) gives the same share as w. */
    for (int i = 31; i >= 0; i--) {
        unsigned s = (unsigned)w[i] + order[i] + carry;
        wn[i + 1] = (uint8_t)s;
        carry = s >> 8;
    }
    wn[0] = (uint8_t)carry;
    st = tc_spake2_new_with_scalar('A', wn, sizeof(wn), x, 32, id("server"), 6, id("client"), 6,
                                   NULL, 0);
    CHECK(st != NULL);
    CHECK_INT(st != NULL ? tc_spake2_share(st, got) : -1, 0);
    CHECK_MEM(got, pa, TC_SPAKE2_SHARE_LEN);
    tc_spake2_free(st);
    printf("w + n (33 bytes) reduces to w: vector 1's pA\n");

    /* Two random scalars give two different shares for the same w. */
    {
        uint8_t s1[TC_SPAKE2_SHARE_LEN], s2[TC_SPAKE2_SHARE_LEN];
        struct tc_spake2 *a1 = tc_spake2_new('A', w, 32, NULL, 0, NULL, 0, NULL, 0);
        struct tc_spake2 *a2 = tc_spake2_new('A', w, 32, NULL, 0, NULL, 0, NULL, 0);
        CHECK(a1 != NULL && a2 != NULL);
        if (a1 != NULL && a2 != NULL) {
            CHECK_INT(tc_spake2_share(a1, s1), 0);
            CHECK_INT(tc_spake2_share(a2, s2), 0);
            CHECK(memcmp(s1, s2, sizeof(s1)) != 0);
            CHECK_INT(s1[0], 0x04);
        }
        tc_spake2_free(a1);
        tc_spake2_free(a2);
    }
    tc_spake2_free(NULL);
}

int main(void)
{
    test_rfc_vectors();
    test_agreement();
    test_mac_and_order();
    test_invalid_shares();
    test_arguments();
    return tc_check_exit("test_spake2");
}
