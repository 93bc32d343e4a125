/*
 * tc_link_dpdk_open() of a tcpcryptd built without DPDK (configure found no
 * libdpdk, or --without-dpdk was given).
 */
#include "stack/link.h"

#include <stdio.h>

struct tc_link *tc_link_dpdk_open(const struct tc_link_dpdk_config *cfg, char err[TC_LINK_ERR_MAX])
{
    (void)cfg;
    snprintf(err, TC_LINK_ERR_MAX,
             "--dpdk: this tcpcryptd was built without DPDK (install libdpdk-dev, configure "
             "--with-dpdk)");
    return NULL;
}
