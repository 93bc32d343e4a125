/*
 * TCP-ENO (stack/eno.c): arbitrary bytes as a TCP options area, as the
 * contents of a SYN-form option, and as both hosts' options in a
 * negotiation, in every role.  Invariants: what tc_eno_find returns lies
 * inside the options area and is an ENO option; a parse stays inside its
 * input; a negotiated TEP is one both hosts offered, the last valid one of
 * B's list, and roles differ; a parsed option built again parses the same;
 * a fitted resumption offer fits.
 *
 * Input: byte 0 chooses the split and the flags, then the bytes.
 */
#include <stdbool.h>
#include <string.h>

#include "stack/eno.h"
#include "tests/fuzz/fuzz.h"

static bool inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
    return n == 0 || (p >= base && p + n <= base + len);
}

static void check_parsed(const struct tc_eno_syn *s, const uint8_t *p, size_t len)
{
    FUZZ_ASSERT(s->nteps <= len);
    FUZZ_ASSERT(s->explicit_global || s->global == 0);
    FUZZ_ASSERT(s->global < TC_ENO_TEP_MIN);
    for (size_t k = 0; k < s->nteps; k++) {
        const struct tc_eno_tep *t = &s->teps[k];

        FUZZ_ASSERT(t->id >= TC_ENO_TEP_MIN && t->id <= 0x7f);
        FUZZ_ASSERT(t->v || t->len == 0);
        FUZZ_ASSERT(inside(t->data, t->len, p, len));
    }
}

/* Parse an options area the way a received segment is read. */
static bool parse_area(const uint8_t *opts, size_t len, struct tc_eno_syn *out)
{
    const uint8_t *opt;
    size_t optlen, count = tc_eno_find(opts, len, &opt, &optlen);

    if (count == 0) {
        FUZZ_ASSERT(opt == NULL && optlen == 0);
        return false;
    }
    FUZZ_ASSERT(opt != NULL && optlen >= 2 && inside(opt, optlen, opts, len));
    FUZZ_ASSERT(opt[0] == TC_ENO_KIND && opt[1] == optlen);
    if (count > 1 || tc_eno_parse_syn(opt + 2, optlen - 2, out) != TC_OK) {
        return false; /* RFC 8547 §4.1, §4.4: as if there were no option */
    }
    check_parsed(out, opt + 2, optlen - 2);
    return true;
}

/* Build what was parsed and parse it again: the same suboptions. */
static void check_rebuild(const struct tc_eno_syn *s)
{
    struct tc_eno_offer offers[TC_ENO_SUBOPT_MAX];
    struct tc_eno_syn again;
    uint8_t buf[TC_ENO_OPT_MAX];
    size_t n;

    for (size_t k = 0; k < s->nteps; k++) {
        offers[k] =
            (struct tc_eno_offer){s->teps[k].id, s->teps[k].v, s->teps[k].data, s->teps[k].len};
    }
    n = tc_eno_build_syn(buf, sizeof(buf), s->explicit_global, s->global, offers, s->nteps);
    if (n == 0) {
        return; /* does not fit, or a datum too long for a length byte */
    }
    FUZZ_ASSERT(n >= 2 && n <= TC_ENO_OPT_MAX && buf[0] == TC_ENO_KIND && buf[1] == n);
    FUZZ_ASSERT(tc_eno_parse_syn(buf + 2, n - 2, &again) == TC_OK);
    FUZZ_ASSERT(again.nteps == s->nteps);
    FUZZ_ASSERT(again.global == (s->global & TC_ENO_GOPT_MASK));
    for (size_t k = 0; k < s->nteps; k++) {
        FUZZ_ASSERT(again.teps[k].id == s->teps[k].id && again.teps[k].v == s->teps[k].v);
        FUZZ_ASSERT(again.teps[k].len == s->teps[k].len);
        FUZZ_ASSERT(s->teps[k].len == 0 ||
                    memcmp(again.teps[k].data, s->teps[k].data, s->teps[k].len) == 0);
    }
}

/* A validity rule that depends on the input: odd identifiers are refused. */
static bool refuse_odd(void *ctx, const struct tc_eno_tep *a, const struct tc_eno_tep *b)
{
    (void)ctx;
    FUZZ_ASSERT(a->id == b->id);
    return (a->id & 1) == 0;
}

static void check_negotiation(const struct tc_eno_syn *mine, const struct tc_eno_syn *peer, bool aa,
                              bool use_rule)
{
    struct tc_eno_result res;
    tc_eno_tep_valid_fn rule = use_rule ? refuse_odd : NULL;
    bool my_b = (mine->global & TC_ENO_GOPT_B) != 0, peer_b = (peer->global & TC_ENO_GOPT_B) != 0;
    int err = tc_eno_negotiate(mine, peer, aa, rule, NULL, &res);
    const struct tc_eno_syn *a = my_b ? peer : mine, *b = my_b ? mine : peer;
    size_t last = SIZE_MAX;

    /* The expected TEP, found the slow way: the last valid id of B's list
     * that A's list has too. */
    for (size_t k = 0; k < b->nteps; k++) {
        for (size_t j = 0; j < a->nteps; j++) {
            if (a->teps[j].id == b->teps[k].id && (!use_rule || (b->teps[k].id & 1) == 0)) {
                last = k;
                break;
            }
        }
    }
    if (my_b == peer_b) {
        FUZZ_ASSERT(err == TC_E_ENO_SAME_ROLE);
        return;
    }
    if (aa && (peer->global & TC_ENO_GOPT_A) == 0) {
        FUZZ_ASSERT(err == TC_E_ENO_NOT_AWARE);
        return;
    }
    if (last == SIZE_MAX) {
        FUZZ_ASSERT(err == TC_E_ENO_NO_TEP);
        return;
    }
    FUZZ_ASSERT(err == TC_OK);
    FUZZ_ASSERT(res.we_are_b == my_b && res.peer_global == peer->global);
    FUZZ_ASSERT(res.b_tep == &b->teps[last]);
    FUZZ_ASSERT(res.a_tep >= a->teps && res.a_tep < a->teps + a->nteps);
    FUZZ_ASSERT(res.a_tep->id == res.b_tep->id);
    FUZZ_ASSERT((tc_eno_tep_byte(res.b_tep) & 0x7f) == res.b_tep->id);
}

static void check_fit(const uint8_t *d, size_t n)
{
    size_t room, fixed, nfresh, want, keep = 0, nonce = 0;

    if (n < 4) {
        return;
    }
    room = d[0] % 48;
    fixed = d[1] % 8;
    nfresh = d[2] % 6;
    want = d[3] % 12;
    if (tc_eno_fit_resume(room, fixed, nfresh, want, &keep, &nonce)) {
        size_t capped = want > TC_RESUME_NONCE_MAX ? TC_RESUME_NONCE_MAX : want;
        size_t floor = capped < TC_ENO_RESUME_NONCE_FLOOR ? capped : TC_ENO_RESUME_NONCE_FLOOR;

        FUZZ_ASSERT(keep <= nfresh);
        FUZZ_ASSERT(nonce <= capped);
        /* Never more than a TCP header holds, never less than the floor. */
        FUZZ_ASSERT(fixed + keep + 1 + TC_RESUME_HALF_LEN + nonce <= room);
        FUZZ_ASSERT(fixed + keep + 1 + TC_RESUME_HALF_LEN + nonce <= TC_ENO_OPT_MAX);
        FUZZ_ASSERT(nonce >= floor);
        /* Fresh offers give way before the nonce does. */
        FUZZ_ASSERT(nonce == capped || keep == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_eno_syn x, y;
    const uint8_t *p;
    size_t n, split;
    uint8_t ctl;
    bool have_x, have_y;

    if (size < 1) {
        return 0;
    }
    ctl = data[0];
    p = data + 1;
    n = size - 1;
    check_fit(p, n);

    /* The whole input as one options area (TCP holds at most 40 bytes; the
     * finder must cope with any length all the same). */
    (void)parse_area(p, n, &x);

    /* The whole input as the contents of one SYN-form option: only what
     * fits in a TCP header can arrive. */
    if (n <= TC_ENO_OPT_MAX - 2 && tc_eno_parse_syn(p, n, &x) == TC_OK) {
        check_parsed(&x, p, n);
        check_rebuild(&x);
    }

    /* Two options areas, ours and the peer's: negotiate both ways, as
     * SYN sender and as SYN-ACK sender, with and without the a bit rule. */
    split = n == 0 ? 0 : (size_t)(ctl & 0x3f) % (n + 1);
    if (split > TC_ENO_OPT_MAX || n - split > TC_ENO_OPT_MAX) {
        return 0;
    }
    have_x = parse_area(p, split, &x);
    have_y = parse_area(p + split, n - split, &y);
    if (have_x && have_y) {
        check_negotiation(&x, &y, (ctl & 0x40) != 0, (ctl & 0x80) != 0);
        check_negotiation(&y, &x, (ctl & 0x40) != 0, (ctl & 0x80) == 0);
    }
    return 0;
}
