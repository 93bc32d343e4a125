/* Placeholder until the tcpcrypt session engine lands: every session fails. */
#include "stack/session.h"

#include <string.h>

int tc_sess_start(struct tc_sess *s, bool is_b, uint8_t tep_byte, const uint8_t *transcript,
                  size_t transcript_len, const struct tc_sess_config *cfg)
{
    (void)is_b;
    (void)tep_byte;
    (void)transcript;
    (void)transcript_len;
    (void)cfg;
    memset(s, 0, sizeof(*s));
    s->state = TC_SESS_FAILED;
    s->err = TC_E_UNSUPPORTED;
    return TC_E_UNSUPPORTED;
}
