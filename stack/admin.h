/*
 * tcpcryptctl's requests on the control socket (TC_CTL_ADMIN, see
 * stack/ctl_proto.h): statistics, connection and cache listings, cache
 * flush, key log on/off.
 */
#ifndef TCPCRYPT_STACK_ADMIN_H
#define TCPCRYPT_STACK_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "stack/ctl_proto.h"

struct tc_resume_cache;

/* Serve req from the client on sock (its SO_PEERCRED decides what is
 * allowed); fd is the descriptor that came with it or -1 (not kept).  The
 * reply's err is returned; a listing hands back its memfd in *out_fd. */
int tc_admin(int sock, const struct tc_ctl_admin *req, int fd, struct tc_ctl_r_admin *rep,
             int *out_fd);

/* The live entries of cache c at time now (ms, the cache's clock) as
 * records without secrets, at most max of them; returns how many. */
size_t tc_admin_cache_records(const struct tc_resume_cache *c, uint64_t now,
                              struct tc_ctl_a_cache *out, size_t max);

/* "X25519", "X448", "P-256", "P-521" for a TEP byte (v bit ignored). */
const char *tc_admin_tep_name(uint8_t tep);

#endif
