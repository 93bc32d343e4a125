/*
 * The control socket server (stack/ctl_proto.h): a SOCK_SEQPACKET listener
 * at the control path, one request and one reply per connection.
 */
#ifndef TCPCRYPT_STACK_CTL_H
#define TCPCRYPT_STACK_CTL_H

#include <stddef.h>

/* Create the socket (and its parent directory), refusing to take over from
 * another daemon that answers there.  -1 with a one-line reason in err. */
int tc_ctl_open(const char *path, char *err, size_t errlen);
/* Once a second: drop control connections that never sent their request. */
void tc_ctl_tick(void);
/* Close everything and remove the socket. */
void tc_ctl_close(void);

#endif
