/*
 * tcpcryptctl's output: the records of TC_CTL_ADMIN replies
 * (stack/ctl_proto.h) as aligned text for people or as JSON for programs.
 */
#ifndef TCPCRYPT_TOOLS_CTL_FORMAT_H
#define TCPCRYPT_TOOLS_CTL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "stack/ctl_proto.h"

void tc_fmt_status(FILE *f, const struct tc_ctl_a_status *s, bool json);
void tc_fmt_sessions(FILE *f, const struct tc_ctl_a_conn *v, size_t n, bool json);
void tc_fmt_cache(FILE *f, const struct tc_ctl_a_cache *v, size_t n, bool json);

/* A resumption cache entry's peer name: an IPv4 or IPv6 address when it
 * looks like one (4 or 16 bytes, optionally after a family byte), else hex. */
char *tc_fmt_peer(char *buf, size_t len, const uint8_t *peer, size_t peer_len);
/* "45s", "3m07s", "2h05m", "4d03h". */
char *tc_fmt_duration(char *buf, size_t len, uint64_t ms);

#endif
