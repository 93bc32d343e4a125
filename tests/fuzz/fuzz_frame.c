/*
 * The streaming frame decoder.  The first input byte picks a mode:
 *  even: the rest is a hostile receive stream, fed in chunks whose sizes come
 *        from the input; nothing may crash and no frame may open (the bytes
 *        were not sealed with the key);
 *  odd:  the rest is application data; A seals it in frames, B decodes the
 *        stream in chunks and must get back exactly the data.
 */
#include <string.h>

#include "crypto/frame.h"
#include "tests/fuzz/fuzz.h"

static struct tc_channel a, b;
static uint8_t stream[1 << 20];

static void start(uint16_t aead)
{
    static const uint8_t mk0[TC_K_LEN] = {0x42};

    FUZZ_ASSERT(tc_channel_init(&a, tc_aead_find(aead), NULL, mk0, true, 79, 74) == TC_OK);
    FUZZ_ASSERT(tc_channel_init(&b, tc_aead_find(aead), NULL, mk0, false, 74, 79) == TC_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ids[3] = {TC_AEAD_AES_128_GCM, TC_AEAD_AES_256_GCM,
                                    TC_AEAD_CHACHA20_POLY1305};
    struct tc_plain pl;
    size_t used, pos, slen = 0, got = 0;
    uint8_t mode;
    int err;

    if (size < 2) {
        return 0;
    }
    mode = data[0];
    start(ids[(mode >> 1) % 3]);
    data++;
    size--;

    if ((mode & 1) == 0) {
        for (pos = 0; pos < size;) {
            size_t chunk = 1 + data[pos] % 64;

            chunk = chunk < size - pos ? chunk : size - pos;
            err = tc_channel_open(&b, data + pos, chunk, &used, &pl);
            FUZZ_ASSERT(used <= chunk);
            FUZZ_ASSERT(err != TC_OK); /* forging a tag is not a fuzzer's job */
            if (err != TC_WANT_MORE) {
                FUZZ_ASSERT(tc_err_aborts(err));
                break;
            }
            pos += used;
        }
    } else {
        /* Frame sizes come from the data itself; rekey now and then. */
        for (pos = 0; pos < size;) {
            size_t n = data[pos] * 7u % 2000;
            size_t olen = 0;

            if (data[pos] == 0x5a && b.rx.gen == a.tx.gen) {
                FUZZ_ASSERT(tc_channel_rekey(&a) == TC_OK);
            }
            if (n == 0) {
                /* An empty frame, then at least one byte. */
                FUZZ_ASSERT(tc_channel_seal(&a, 0, 0, NULL, 0, stream + slen, sizeof(stream) - slen,
                                            &olen) == TC_OK);
                slen += olen;
                n = 1;
            }
            n = n < size - pos ? n : size - pos;
            FUZZ_ASSERT(tc_channel_seal(&a, 0, 0, data + pos, n, stream + slen,
                                        sizeof(stream) - slen, &olen) == TC_OK);
            slen += olen;
            pos += n;
        }
        for (pos = 0; pos < slen; pos += used) {
            size_t chunk = 1 + (pos * 131) % 1500;

            chunk = chunk < slen - pos ? chunk : slen - pos;
            err = tc_channel_open(&b, stream + pos, chunk, &used, &pl);
            FUZZ_ASSERT(err == TC_OK || err == TC_WANT_MORE);
            if (err == TC_OK) {
                FUZZ_ASSERT(got + pl.len <= size);
                FUZZ_ASSERT(pl.len == 0 || memcmp(pl.data, data + got, pl.len) == 0);
                got += pl.len;
                /* The rekey reply rule: the peer moves to our generation. */
                if (pl.rekeyed) {
                    FUZZ_ASSERT(b.tx.gen == b.rx.gen && b.rekey_reply_due);
                }
            }
        }
        FUZZ_ASSERT(b.rx_have == 0 && got == size);
    }
    tc_channel_wipe(&a);
    tc_channel_wipe(&b);
    return 0;
}
