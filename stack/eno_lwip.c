/* Placeholder until the ENO hooks land: every connection is plain TCP. */
#include "stack/eno_lwip.h"

#include <string.h>

static struct tc_eno_stats stats;

void tc_eno_lwip_init(const struct tc_eno_config *cfg)
{
    (void)cfg;
}

int tc_eno_lwip_attach(struct tcp_pcb *pcb, const struct tc_eno_opts *opts)
{
    (void)pcb;
    (void)opts;
    return TC_OK;
}

void tc_eno_lwip_outcome(const struct tcp_pcb *pcb, struct tc_eno_outcome *out)
{
    (void)pcb;
    memset(out, 0, sizeof(*out));
}

const struct tc_eno_stats *tc_eno_lwip_stats(void)
{
    return &stats;
}
