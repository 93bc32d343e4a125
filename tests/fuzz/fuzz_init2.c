/* Init2 decoder: any bytes, every TEP, against a fixed offer. */
#include <string.h>

#include "crypto/init.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t teps[4] = {TC_TEP_P256, TC_TEP_P521, TC_TEP_X25519, TC_TEP_X448};
    static const uint16_t offered[2] = {TC_AEAD_AES_128_GCM, TC_AEAD_CHACHA20_POLY1305};
    static uint8_t again[TC_INIT_MAX_LEN];

    for (int t = 0; t < 4; t++) {
        const struct tc_kex *kx = tc_kex_find(teps[t]);
        struct tc_init2 m;
        size_t len = 0;
        int err = tc_init2_decode(data, size, kx, offered, 2, &m);

        FUZZ_ASSERT(err == TC_OK || err == TC_WANT_MORE || tc_err_aborts(err));
        if (err != TC_OK) {
            continue;
        }
        FUZZ_ASSERT(m.len <= size && m.len >= tc_init2_size(kx));
        FUZZ_ASSERT(m.cipher == offered[0] || m.cipher == offered[1]);
        FUZZ_ASSERT(tc_init2_encode(again, sizeof(again), &len, kx, m.cipher, m.n_b, m.pub) ==
                    TC_OK);
        FUZZ_ASSERT(len <= m.len && memcmp(again + 8, data + 8, len - 8) == 0);
    }
    return 0;
}
