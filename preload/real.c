/*
 * The real libc functions behind the interposed ones, found with
 * dlsym(RTLD_NEXT) on first use.  Racing threads resolve the same values, so
 * no lock is needed; nothing here is reset across fork.
 */
#include "preload/preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

struct pl_real pl_real_fns;

static void *next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* Store only once found, so that a failed lookup is retried next time. */
#define RESOLVE(field, name)                                                 \
    do {                                                                     \
        if (__atomic_load_n(&pl_real_fns.field, __ATOMIC_ACQUIRE) == NULL) { \
            void *p_ = next(name);                                           \
            __typeof__(pl_real_fns.field) f_;                                \
            memcpy(&f_, &p_, sizeof(f_));                                    \
            __atomic_store_n(&pl_real_fns.field, f_, __ATOMIC_RELEASE);      \
        }                                                                    \
    } while (0)

void pl_real_resolve(void)
{
    RESOLVE(socket, "socket");
    RESOLVE(bind, "bind");
    RESOLVE(connect, "connect");
    RESOLVE(listen, "listen");
    RESOLVE(accept, "accept");
    RESOLVE(accept4, "accept4");
    RESOLVE(getsockname, "getsockname");
    RESOLVE(getpeername, "getpeername");
    RESOLVE(getsockopt, "getsockopt");
    RESOLVE(setsockopt, "setsockopt");
    RESOLVE(close, "close");
    RESOLVE(dup, "dup");
    RESOLVE(dup2, "dup2");
    RESOLVE(dup3, "dup3");
    RESOLVE(fcntl, "fcntl");
    RESOLVE(fcntl64, "fcntl64");
    if (pl_real_fns.fcntl64 == NULL) {
        /* glibc before 2.28: one fcntl for both. */
        __atomic_store_n(&pl_real_fns.fcntl64, pl_real_fns.fcntl, __ATOMIC_RELEASE);
    }
    RESOLVE(read, "read");
    RESOLVE(readv, "readv");
    RESOLVE(recv, "recv");
    RESOLVE(recvfrom, "recvfrom");
    RESOLVE(recvmsg, "recvmsg");
    RESOLVE(read_chk, "__read_chk");
    RESOLVE(recv_chk, "__recv_chk");
    RESOLVE(recvfrom_chk, "__recvfrom_chk");
    RESOLVE(epoll_ctl, "epoll_ctl");
}

int pl_fcntl_int(int fd, int cmd, int arg)
{
    int (*f)(int, int, ...) = PL_REAL(fcntl);

    if (f == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return f(fd, cmd, arg);
}
