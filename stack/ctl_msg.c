/*
 * The first look at a control request (stack/ctl.h): which operation, and
 * whether its size and declared lengths hold, before any handler runs.
 * Pure code over the received bytes, so a fuzz target can drive it.
 */
#include "stack/ctl.h"

#include <string.h>

#include "stack/ctl_proto.h"

size_t tc_ctl_request_size(uint16_t op)
{
    switch (op) {
    case TC_CTL_HELLO:
        return sizeof(struct tc_ctl_hdr);
    case TC_CTL_CONNECT:
        return sizeof(struct tc_ctl_connect);
    case TC_CTL_LISTEN:
        return sizeof(struct tc_ctl_listen);
    case TC_CTL_STATUS:
        return sizeof(struct tc_ctl_status);
    case TC_CTL_GETOPT:
    case TC_CTL_SETOPT:
        return sizeof(struct tc_ctl_opt);
    case TC_CTL_ADMIN:
        return sizeof(struct tc_ctl_admin);
    default:
        return 0;
    }
}

enum tc_ctl_verdict tc_ctl_parse(const void *buf, size_t n, uint16_t *op)
{
    struct tc_ctl_hdr h;
    size_t need;

    *op = 0;
    if (n < sizeof(h)) {
        return TC_CTL_REQ_UNKNOWN;
    }
    memcpy(&h, buf, sizeof(h));
    need = tc_ctl_request_size(h.op);
    if (need == 0) {
        return TC_CTL_REQ_UNKNOWN;
    }
    *op = h.op;
    if (n < need || h.len != n) {
        return TC_CTL_REQ_BAD_LEN;
    }
    if (h.op == TC_CTL_SETOPT) {
        struct tc_ctl_opt o;

        memcpy(&o, buf, sizeof(o));
        if (o.len > sizeof(o.value)) {
            return TC_CTL_REQ_BAD_VALUE;
        }
    }
    return TC_CTL_REQ_OK;
}
