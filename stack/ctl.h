/*
 * The control socket server (stack/ctl_proto.h): a SOCK_SEQPACKET listener
 * at the control path, one request and one reply per connection.
 */
#ifndef TCPCRYPT_STACK_CTL_H
#define TCPCRYPT_STACK_CTL_H

#include <stddef.h>
#include <stdint.h>

/* Create the socket (and its parent directory), refusing to take over from
 * another daemon that answers there.  -1 with a one-line reason in err. */
int tc_ctl_open(const char *path, char *err, size_t errlen);
/* Once a second: drop control connections that never sent their request. */
void tc_ctl_tick(void);
/* Close everything and remove the socket. */
void tc_ctl_close(void);

/* What a received request is (stack/ctl_msg.c). */
enum tc_ctl_verdict {
    TC_CTL_REQ_OK,        /* serve it */
    TC_CTL_REQ_UNKNOWN,   /* no header or an unknown op: close without a reply */
    TC_CTL_REQ_BAD_LEN,   /* shorter than its op needs, or len is not its size: EINVAL */
    TC_CTL_REQ_BAD_VALUE, /* SETOPT's value length beyond its buffer: EINVAL */
};
/* The size of a request with this op, 0 for an unknown op. */
size_t tc_ctl_request_size(uint16_t op);
/* Check the n bytes of a received request; *op is its op (0 when unknown). */
enum tc_ctl_verdict tc_ctl_parse(const void *buf, size_t n, uint16_t *op);

#endif
