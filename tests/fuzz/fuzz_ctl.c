/*
 * The control socket's request check (stack/ctl_msg.c): any bytes, as the
 * daemon receives them from a local client.  A request is served only when
 * it holds at least its operation's message and its header gives its exact
 * size, and a SETOPT value length never exceeds its buffer; every other
 * verdict leaves the daemon nothing to read past the received bytes.
 */
#include <string.h>

#include "stack/ctl.h"
#include "stack/ctl_proto.h"
#include "tests/fuzz/fuzz.h"

/* The daemon receives into a buffer of this size (stack/ctl.c, MSG_BUF). */
#define RECV_MAX 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;
    struct tc_ctl_hdr h;
    enum tc_ctl_verdict v;
    uint16_t op = 0xffff;

    if (size > RECV_MAX) {
        return 0; /* truncated messages are dropped before this */
    }
    /* An exact-size heap copy: ASan sees any read beyond the message. */
    copy = malloc(size > 0 ? size : 1);
    FUZZ_ASSERT(copy != NULL);
    memcpy(copy, data, size);
    v = tc_ctl_parse(copy, size, &op);
    switch (v) {
    case TC_CTL_REQ_UNKNOWN:
        FUZZ_ASSERT(op == 0);
        if (size >= sizeof(h)) {
            memcpy(&h, data, sizeof(h));
            FUZZ_ASSERT(tc_ctl_request_size(h.op) == 0);
        }
        break;
    case TC_CTL_REQ_BAD_LEN:
        memcpy(&h, data, sizeof(h));
        FUZZ_ASSERT(op == h.op && tc_ctl_request_size(op) != 0);
        FUZZ_ASSERT(size < tc_ctl_request_size(op) || h.len != size);
        break;
    case TC_CTL_REQ_BAD_VALUE:
    case TC_CTL_REQ_OK: {
        memcpy(&h, data, sizeof(h));
        FUZZ_ASSERT(op == h.op && h.len == size && size >= tc_ctl_request_size(op));
        if (op == TC_CTL_SETOPT) {
            struct tc_ctl_opt o;

            memcpy(&o, data, sizeof(o));
            FUZZ_ASSERT((o.len <= sizeof(o.value)) == (v == TC_CTL_REQ_OK));
        } else {
            FUZZ_ASSERT(v == TC_CTL_REQ_OK);
        }
        break;
    }
    default:
        FUZZ_ASSERT(!"unknown verdict");
    }
    free(copy);
    return 0;
}
