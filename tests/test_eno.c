/*
 * TCP-ENO option parsing, building and negotiation (RFC 8547 §4), with the
 * malformed and incompatible cases each giving its exact outcome.
 */
#include <string.h>

#include "stack/eno.h"
#include "tests/check.h"

static int parse(const char *hex, struct tc_eno_syn *s)
{
    uint8_t buf[64];
    static uint8_t keep[16][64];
    static int slot;
    size_t n = tc_unhex(buf, sizeof(buf), hex);

    /* Parsed data points into the bytes: keep them alive for the test. */
    slot = (slot + 1) % 16;
    memcpy(keep[slot], buf, n);
    return tc_eno_parse_syn(keep[slot], n, s);
}

static void test_parse(void)
{
    struct tc_eno_syn s;

    /* §1.11 example: A offers X448 and X25519, implicit global 0x00. */
    CHECK_INT(parse("2423", &s), TC_OK);
    CHECK_INT(s.explicit_global, false);
    CHECK_INT(s.global, 0);
    CHECK_INT(s.nteps, 2);
    CHECK_INT(s.teps[0].id, 0x24);
    CHECK_INT(s.teps[1].id, 0x23);

    /* Only the first global suboption counts; the others are ignored. */
    CHECK_INT(parse("01 23 00 1f", &s), TC_OK);
    CHECK_INT(s.global, 0x01);
    CHECK_INT(s.nteps, 1);

    /* A TEP with data and no length byte runs to the end of the option. */
    CHECK_INT(parse("01 a3 00112233445566778899aabbccddeeff", &s), TC_OK);
    CHECK_INT(s.nteps, 1);
    CHECK_INT(s.teps[0].id, 0x23);
    CHECK_INT(s.teps[0].v, true);
    CHECK_INT(s.teps[0].len, 16);

    /* A length byte: 0x90 is 17 data bytes for the next TEP, then more. */
    CHECK_INT(parse("90 a3 0102030405060708090a0b0c0d0e0f1011 24 21", &s), TC_OK);
    CHECK_INT(s.nteps, 3);
    CHECK_INT(s.teps[0].len, 17);
    CHECK_INT(s.teps[0].data[16], 0x11);
    CHECK_INT(s.teps[1].id, 0x24);
    CHECK_INT(s.teps[2].id, 0x21);

    /* A v = 1 suboption with no data at all is well-formed. */
    CHECK_INT(parse("23 a4", &s), TC_OK);
    CHECK_INT(s.teps[1].len, 0);

    /* Vacuous: no TEP at all is well-formed (and negotiates nothing). */
    CHECK_INT(parse("", &s), TC_OK);
    CHECK_INT(s.nteps, 0);
    CHECK_INT(parse("01", &s), TC_OK);
    CHECK_INT(s.nteps, 0);

    /* §4.4 malformed: a length byte running past the end ... */
    CHECK_INT(parse("80", &s), TC_E_ENO_MALFORMED);
    CHECK_INT(parse("81 a3 00", &s), TC_E_ENO_MALFORMED);
    CHECK_INT(parse("23 9f a3", &s), TC_E_ENO_MALFORMED);
    /* ... or followed by a byte in 0x00-0x9f. */
    CHECK_INT(parse("9f 20", &s), TC_E_ENO_MALFORMED);
    CHECK_INT(parse("80 23 00", &s), TC_E_ENO_MALFORMED);
    CHECK_INT(parse("80 01 00", &s), TC_E_ENO_MALFORMED);
    CHECK_INT(parse("80 80 a3 00", &s), TC_E_ENO_MALFORMED);
    CHECK_INT(parse("80 9f 00", &s), TC_E_ENO_MALFORMED);
    CHECK_INT(parse("80 a0 00", &s), TC_OK);
}

static void test_find(void)
{
    uint8_t opts[40];
    const uint8_t *opt;
    size_t optlen, n;

    /* MSS, SACK-permitted, NOP, NOP, ENO. */
    n = tc_unhex(opts, sizeof(opts), "020405b4 0402 0101 45042423");
    CHECK_INT(tc_eno_find(opts, n, &opt, &optlen), 1);
    CHECK_INT(optlen, 4);
    CHECK(opt == opts + 8);
    /* Two ENO options: counted, so the caller can treat the SYN as having none. */
    n = tc_unhex(opts, sizeof(opts), "4503 23 01 4503 24");
    CHECK_INT(tc_eno_find(opts, n, &opt, &optlen), 2);
    /* An option whose length runs past the end stops the scan. */
    n = tc_unhex(opts, sizeof(opts), "020405b4 4509 2323");
    CHECK_INT(tc_eno_find(opts, n, &opt, &optlen), 0);
    n = tc_unhex(opts, sizeof(opts), "4500 23");
    CHECK_INT(tc_eno_find(opts, n, &opt, &optlen), 0);
    /* After end-of-list nothing counts. */
    n = tc_unhex(opts, sizeof(opts), "00 4503 23");
    CHECK_INT(tc_eno_find(opts, n, &opt, &optlen), 0);
    /* The non-SYN form 45 02. */
    n = tc_unhex(opts, sizeof(opts), "0101 080a0000000100000002 4502");
    CHECK_INT(tc_eno_find(opts, n, &opt, &optlen), 1);
    CHECK_INT(optlen, 2);
}

static void test_build(void)
{
    static const uint8_t half[17] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
    const struct tc_eno_offer fresh[2] = {{0x24, false, NULL, 0}, {0x23, false, NULL, 0}};
    const struct tc_eno_offer resume_first[2] = {{0x23, true, half, 17}, {0x24, false, NULL, 0}};
    const struct tc_eno_offer resume_last[2] = {{0x24, false, NULL, 0}, {0x23, true, half, 17}};
    uint8_t out[64], want[64];
    struct tc_eno_syn s;
    size_t n, w;

    n = tc_eno_build_syn(out, sizeof(out), false, 0, fresh, 2);
    w = tc_unhex(want, sizeof(want), "45042423");
    CHECK_INT(n, w);
    CHECK_MEM(out, want, w);
    /* B's SYN-ACK: explicit global with b = 1, the chosen TEP. */
    n = tc_eno_build_syn(out, sizeof(out), true, TC_ENO_GOPT_B, fresh + 1, 1);
    w = tc_unhex(want, sizeof(want), "45040123");
    CHECK_INT(n, w);
    CHECK_MEM(out, want, w);
    /* Data not last needs a length byte (0x90 = 17 bytes); last does not. */
    n = tc_eno_build_syn(out, sizeof(out), false, 0, resume_first, 2);
    CHECK_INT(n, 2 + 1 + 1 + 17 + 1);
    CHECK_INT(out[2], 0x90);
    CHECK_INT(out[3], 0xa3);
    CHECK_INT(tc_eno_parse_syn(out + 2, n - 2, &s), TC_OK);
    CHECK_INT(s.nteps, 2);
    CHECK_INT(s.teps[0].len, 17);
    n = tc_eno_build_syn(out, sizeof(out), false, 0, resume_last, 2);
    CHECK_INT(n, 2 + 1 + 1 + 17);
    CHECK_INT(tc_eno_parse_syn(out + 2, n - 2, &s), TC_OK);
    CHECK_INT(s.teps[1].id, 0x23);
    CHECK_INT(s.teps[1].len, 17);
    /* The z bits are never sent; no room gives 0. */
    n = tc_eno_build_syn(out, sizeof(out), true, 0xff, fresh, 1);
    CHECK_INT(out[2], 0x1f);
    CHECK_INT(tc_eno_build_syn(out, 3, false, 0, fresh, 2), 0);
}

static bool only_x25519(void *ctx, const struct tc_eno_tep *a, const struct tc_eno_tep *b)
{
    (void)ctx;
    (void)b;
    return a->id == 0x23;
}

static void test_negotiate(void)
{
    struct tc_eno_syn a, b;
    struct tc_eno_result r;

    /* The normal case: A offers X448, X25519; B answers X25519. */
    CHECK_INT(parse("2423", &a), TC_OK);
    CHECK_INT(parse("0123", &b), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, false, NULL, NULL, &r), TC_OK);
    CHECK_INT(r.we_are_b, false);
    CHECK_INT(r.b_tep->id, 0x23);
    CHECK_INT(tc_eno_negotiate(&b, &a, false, NULL, NULL, &r), TC_OK);
    CHECK_INT(r.we_are_b, true);
    CHECK_INT(r.peer_global, 0);

    /* B's order decides: the last of its TEPs that A offered. */
    CHECK_INT(parse("01 21 24 23 22", &b), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, false, NULL, NULL, &r), TC_OK);
    CHECK_INT(r.b_tep->id, 0x23);
    CHECK_INT(tc_eno_negotiate(&a, &b, false, only_x25519, NULL, &r), TC_OK);
    CHECK_INT(r.b_tep->id, 0x23);
    CHECK_INT(parse("01 23 24", &b), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, false, NULL, NULL, &r), TC_OK);
    CHECK_INT(r.b_tep->id, 0x24);
    /* Validity is the TEP's to decide. */
    CHECK_INT(tc_eno_negotiate(&a, &b, false, only_x25519, NULL, &r), TC_OK);
    CHECK_INT(r.b_tep->id, 0x23);

    /* The v bit of B's byte is kept for the session ID. */
    CHECK_INT(parse("01 a3 000102030405060708 0a0b", &b), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, false, NULL, NULL, &r), TC_OK);
    CHECK_INT(tc_eno_tep_byte(r.b_tep), 0xa3);

    /* Same b: an active opener with b = 1 meeting a listener, or two b = 0. */
    CHECK_INT(parse("01 23", &a), TC_OK);
    CHECK_INT(parse("01 23", &b), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, false, NULL, NULL, &r), TC_E_ENO_SAME_ROLE);
    CHECK_INT(parse("23", &b), TC_OK);
    CHECK_INT(parse("00 23", &a), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, false, NULL, NULL, &r), TC_E_ENO_SAME_ROLE);

    /* Mandatory application-aware mode. */
    CHECK_INT(parse("02 23", &a), TC_OK);
    CHECK_INT(parse("01 23", &b), TC_OK);
    CHECK_INT(tc_eno_negotiate(&b, &a, true, NULL, NULL, &r), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, true, NULL, NULL, &r), TC_E_ENO_NOT_AWARE);
    CHECK_INT(parse("03 23", &b), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, true, NULL, NULL, &r), TC_OK);
    /* z bits are ignored. */
    CHECK_INT(parse("1d 23", &b), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, false, NULL, NULL, &r), TC_OK);

    /* Nothing in common, and vacuous options. */
    CHECK_INT(parse("24", &a), TC_OK);
    CHECK_INT(parse("01 23", &b), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, false, NULL, NULL, &r), TC_E_ENO_NO_TEP);
    CHECK_INT(parse("", &a), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, false, NULL, NULL, &r), TC_E_ENO_NO_TEP);
    CHECK_INT(parse("23", &a), TC_OK);
    CHECK_INT(parse("01", &b), TC_OK);
    CHECK_INT(tc_eno_negotiate(&a, &b, false, NULL, NULL, &r), TC_E_ENO_NO_TEP);
    CHECK_INT(tc_err_falls_back(TC_E_ENO_NO_TEP), true);
    CHECK_INT(tc_err_aborts(TC_E_ENO_NO_TEP), false);
}

/* What gives way when a resumption suboption does not fit (RFC 8548 §3.5
 * in at most 40 option bytes): fresh offers, then nonce bytes to the
 * floor, then the whole resumption offer. */
static void test_fit_resume(void)
{
    size_t keep = 99, nonce = 99;

    /* Room to spare: everything as wanted (2 + 2 fresh + 1 + 9 + 8 = 22). */
    CHECK(tc_eno_fit_resume(40, 2, 2, 8, &keep, &nonce));
    CHECK_INT(keep, 2);
    CHECK_INT(nonce, 8);
    /* Beside lwIP's 24 bytes of SYN options, 16 left: the fresh offer
     * goes, then the nonce shrinks to 4 (active) or 3 (passive, with its
     * global suboption). */
    CHECK(tc_eno_fit_resume(16, 2, 1, 8, &keep, &nonce));
    CHECK_INT(keep, 0);
    CHECK_INT(nonce, 4);
    CHECK(tc_eno_fit_resume(16, 3, 0, 8, &keep, &nonce));
    CHECK_INT(keep, 0);
    CHECK_INT(nonce, 3);
    /* A short nonce leaves room for a fresh offer. */
    CHECK(tc_eno_fit_resume(16, 2, 1, 3, &keep, &nonce));
    CHECK_INT(keep, 1);
    CHECK_INT(nonce, 3);
    /* One fresh offer of two kept, nonce whole. */
    CHECK(tc_eno_fit_resume(20, 2, 2, 8, &keep, &nonce));
    CHECK_INT(keep, 0);
    CHECK_INT(nonce, 8);
    CHECK(tc_eno_fit_resume(21, 2, 2, 8, &keep, &nonce));
    CHECK_INT(keep, 1);
    /* Below the floor: no resumption offer (a fresh exchange instead). */
    CHECK(!tc_eno_fit_resume(14, 2, 1, 8, &keep, &nonce));
    CHECK(!tc_eno_fit_resume(12, 3, 0, 8, &keep, &nonce));
    /* ... unless fewer nonce bytes were asked for: 0 fits in 12. */
    CHECK(tc_eno_fit_resume(12, 2, 1, 0, &keep, &nonce));
    CHECK_INT(keep, 0);
    CHECK_INT(nonce, 0);
    CHECK(!tc_eno_fit_resume(11, 2, 0, 0, &keep, &nonce));
    /* Whatever fits, the option built from it is valid and fits. */
    for (size_t room = 0; room <= 40; room++) {
        for (size_t want = 0; want <= 8; want++) {
            uint8_t opt[TC_ENO_OPT_MAX], data[TC_RESUME_HALF_LEN + TC_RESUME_NONCE_MAX] = {0};
            struct tc_eno_offer offers[3] = {{0x24, false, NULL, 0}, {0x22, false, NULL, 0}};
            struct tc_eno_syn parsed;
            size_t len;

            if (!tc_eno_fit_resume(room, 3, 2, want, &keep, &nonce)) {
                CHECK(room < 3 + 1 + TC_RESUME_HALF_LEN + (want < 3 ? want : 3));
                continue;
            }
            CHECK(nonce <= want);
            offers[keep] = (struct tc_eno_offer){0x23, true, data, TC_RESUME_HALF_LEN + nonce};
            len = tc_eno_build_syn(opt, sizeof(opt), true, 0x01, offers, keep + 1);
            CHECK(len > 0 && len <= room);
            CHECK_INT(tc_eno_parse_syn(opt + 2, len - 2, &parsed), TC_OK);
            CHECK_INT(parsed.nteps, keep + 1);
            CHECK_INT(parsed.teps[keep].len, TC_RESUME_HALF_LEN + nonce);
        }
    }
}

int main(void)
{
    test_fit_resume();
    test_parse();
    test_find();
    test_build();
    test_negotiate();
    return tc_check_exit("test_eno");
}
