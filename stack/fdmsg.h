/*
 * One message on a Unix socket with at most one descriptor attached
 * (SCM_RIGHTS): the control protocol's replies and accepted connections
 * (tcpcryptd), its requests (libtcpcrypt_preload.so, tcpcryptctl).
 */
#ifndef TCPCRYPT_STACK_FDMSG_H
#define TCPCRYPT_STACK_FDMSG_H

#include <stddef.h>
#include <sys/types.h>

/* sendmsg of len bytes at buf, with fd attached when fd >= 0; retried on
 * EINTR.  flags as for sendmsg (callers pass MSG_NOSIGNAL).  sendmsg's
 * result. */
ssize_t tc_send_with_fd(int sock, const void *buf, size_t len, int fd, int flags);

#endif
