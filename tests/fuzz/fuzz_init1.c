/* Init1 decoder: any bytes, every TEP; what decodes re-encodes to itself. */
#include <string.h>

#include "crypto/init.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t teps[4] = {TC_TEP_P256, TC_TEP_P521, TC_TEP_X25519, TC_TEP_X448};
    static uint8_t again[TC_INIT_MAX_LEN];

    for (int t = 0; t < 4; t++) {
        const struct tc_kex *kx = tc_kex_find(teps[t]);
        struct tc_init1 m;
        size_t len = 0;
        int err = tc_init1_decode(data, size, kx, &m);

        FUZZ_ASSERT(err == TC_OK || err == TC_WANT_MORE || tc_err_aborts(err));
        if (err != TC_OK) {
            continue;
        }
        FUZZ_ASSERT(m.len <= size && m.len <= TC_INIT_MAX_LEN);
        FUZZ_ASSERT(m.nciphers >= 1 && tc_init1_size(kx, m.nciphers) <= m.len);
        FUZZ_ASSERT(tc_init1_encode(again, sizeof(again), &len, kx, m.ciphers, m.nciphers, m.n_a,
                                    m.pub) == TC_OK);
        /* Identical but for message_len, which also counts an ignored tail. */
        FUZZ_ASSERT(len <= m.len && memcmp(again + 8, data + 8, len - 8) == 0);
        FUZZ_ASSERT(memcmp(again, data, 4) == 0);
    }
    return 0;
}
