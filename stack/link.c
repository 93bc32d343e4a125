/*
 * What every link shares: the idle back-off of a polled link.
 */
#include "stack/link.h"

unsigned tc_link_idle_next(const struct tc_link *l, struct tc_link_idle *s, bool worked)
{
    if (worked || l->busy_poll) {
        s->empty = 0;
        s->sleep_us = 0;
        return 0;
    }
    if (s->empty < TC_LINK_SPIN_POLLS) {
        s->empty++;
        return 0;
    }
    s->sleep_us = s->sleep_us == 0 ? TC_LINK_SLEEP_MIN_US : 2 * s->sleep_us;
    if (s->sleep_us > TC_LINK_SLEEP_MAX_US) {
        s->sleep_us = TC_LINK_SLEEP_MAX_US;
    }
    return s->sleep_us;
}
