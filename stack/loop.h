/*
 * The daemon's one event loop: file descriptors watched with epoll, each
 * with a callback, and objects freed only between two rounds of events, so
 * a callback may end any object (a connection whose event is still queued
 * in the same round included) without leaving a dangling pointer.
 */
#ifndef TCPCRYPT_STACK_LOOP_H
#define TCPCRYPT_STACK_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct tc_watch;
typedef void (*tc_watch_fn)(struct tc_watch *w, uint32_t events);

struct tc_watch {
    int fd;          /* -1 once unwatched: queued events are then ignored */
    uint32_t events; /* as registered */
    tc_watch_fn fn;
};

/* -1 with errno on failure. */
int tc_loop_init(void);
/* Watch fd (level-triggered) for events; EPOLLHUP/EPOLLERR always come. */
int tc_loop_add(struct tc_watch *w, int fd, uint32_t events, tc_watch_fn fn);
/* Change the events of a watched fd (no system call when unchanged). */
void tc_loop_set(struct tc_watch *w, uint32_t events);
/* Stop watching (the fd stays open; the caller closes it). */
void tc_loop_del(struct tc_watch *w);
/* Free obj with fn after the current round of events. */
void tc_loop_defer_free(void *obj, void (*fn)(void *obj));
/* Wait up to timeout_ms (-1: forever) and dispatch; -1 with errno on an
 * epoll failure other than EINTR. */
int tc_loop_once(int timeout_ms);
/* The same with a timeout in microseconds (-1: forever), for the idle
 * back-off of a polled link. */
int tc_loop_once_us(long timeout_us);
/* Run the deferred frees. */
void tc_loop_reap(void);
void tc_loop_fini(void);

#endif
