/*
 * The system random source: libsodium's randombytes_buf, which reads
 * getrandom(2) (or /dev/urandom) and blocks until the kernel pool is seeded.
 */
#include "crypto/rng.h"

#include <stdatomic.h>

#include <sodium.h>

/*
 * sodium_init() is itself thread-safe and idempotent (it takes an internal
 * lock), so racing first callers are harmless; the flag only spares later
 * calls that lock.  sodium_init() returns 0 the first time, 1 afterwards and
 * -1 when it cannot initialise (e.g. it cannot reach the kernel's
 * generator): then no random bytes may be produced, and the caller must not
 * negotiate tcpcrypt (RFC 8547 §7.1).
 */
static atomic_bool sodium_ready;

TC_MUST_CHECK static int system_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    if (!atomic_load_explicit(&sodium_ready, memory_order_acquire)) {
        if (sodium_init() < 0) {
            return TC_E_RANDOM;
        }
        atomic_store_explicit(&sodium_ready, true, memory_order_release);
    }
    if (len > 0) {
        randombytes_buf(buf, len);
    }
    return TC_OK;
}

const struct tc_rng tc_rng_system = {
    .fill = system_fill,
    .ctx = NULL,
};
