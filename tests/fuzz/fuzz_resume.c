/*
 * Resumption suboption handling: arbitrary suboption data against a cache
 * holding a few chains, as passive opener (accept) and as active opener
 * (check_reply).  A secret is handed out at most once.
 */
#include <string.h>

#include "crypto/resume.h"
#include "tests/fuzz/fuzz.h"

static int fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0x33, len);
    return TC_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct tc_rng rng = {fill, NULL};
    struct tc_resume_cache c;
    struct tc_resume_ticket t, mine;
    uint8_t ss[TC_K_LEN] = {7}, peer[4] = {1, 2, 3, 0};
    size_t taken = 0;

    if (size < 1) {
        return 0;
    }
    FUZZ_ASSERT(tc_resume_cache_init(&c, 4, 1000) == TC_OK);
    for (uint8_t k = 0; k < 3; k++) {
        ss[1] = k;
        peer[3] = k;
        FUZZ_ASSERT(tc_resume_store(&c, peer, 4, TC_TEP_X25519, 1, k & 1, 1, ss, 0, NULL) == TC_OK);
    }
    /* Feed the same suboption twice: at most one acceptance. */
    for (int round = 0; round < 2; round++) {
        int err = tc_resume_accept(&c, data[0], data + 1, size - 1, data[0] % 9, &rng, 1, &t);

        FUZZ_ASSERT(err == TC_OK || err == TC_E_NOT_FOUND || err == TC_E_INVALID);
        if (err == TC_OK) {
            taken++;
            FUZZ_ASSERT(t.peer_nonce_len == size - 1 - TC_RESUME_HALF_LEN);
            tc_resume_ticket_wipe(&t);
        }
    }
    FUZZ_ASSERT(taken <= 1);
    peer[3] = 0;
    if (tc_resume_offer(&c, peer, 4, TC_TEP_X25519, 8, &rng, 1, &mine) == TC_OK) {
        int err = tc_resume_check_reply(&mine, data + 1, size - 1);

        FUZZ_ASSERT(err == TC_OK || err == TC_E_NOT_FOUND);
        tc_resume_ticket_wipe(&mine);
    }
    tc_resume_cache_destroy(&c);
    return 0;
}
