#include "stack/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "stack/log.h"

#define EVENTS_PER_ROUND 128

struct deferred {
    void *obj;
    void (*fn)(void *obj);
};

static int epfd = -1;
static struct deferred *dead;
static size_t ndead, capdead;

int tc_loop_init(void)
{
    epfd = epoll_create1(EPOLL_CLOEXEC);
    return epfd < 0 ? -1 : 0;
}

int tc_loop_add(struct tc_watch *w, int fd, uint32_t events, tc_watch_fn fn)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};

    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return -1;
    }
    w->fd = fd;
    w->events = events;
    w->fn = fn;
    return 0;
}

void tc_loop_set(struct tc_watch *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};

    if (w->fd < 0 || w->events == events) {
        return;
    }
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev) != 0) {
        /* Only on a programming error (the fd is ours and registered). */
        tc_error("epoll_ctl(MOD, fd %d): %s", w->fd, strerror(errno));
        return;
    }
    w->events = events;
}

void tc_loop_del(struct tc_watch *w)
{
    if (w->fd >= 0) {
        (void)epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
        w->fd = -1;
    }
}

void tc_loop_defer_free(void *obj, void (*fn)(void *obj))
{
    if (ndead == capdead) {
        size_t cap = capdead ? 2 * capdead : 64;
        struct deferred *d = realloc(dead, cap * sizeof(*d));

        if (d == NULL) {
            /* Out of memory: leak rather than free under a queued event. */
            tc_error("out of memory: an object is leaked");
            return;
        }
        dead = d;
        capdead = cap;
    }
    dead[ndead].obj = obj;
    dead[ndead].fn = fn;
    ndead++;
}

static int dispatch(struct epoll_event *evs, int n);

int tc_loop_once(int timeout_ms)
{
    struct epoll_event evs[EVENTS_PER_ROUND];

    return dispatch(evs, epoll_wait(epfd, evs, EVENTS_PER_ROUND, timeout_ms));
}

int tc_loop_once_us(long timeout_us)
{
    static bool no_pwait2;
    struct epoll_event evs[EVENTS_PER_ROUND];
    struct timespec ts = {.tv_sec = timeout_us / 1000000, .tv_nsec = (timeout_us % 1000000) * 1000};
    int n;

    if (timeout_us < 0) {
        return tc_loop_once(-1);
    }
    if (!no_pwait2) {
        n = epoll_pwait2(epfd, evs, EVENTS_PER_ROUND, &ts, NULL);
        if (n >= 0 || errno != ENOSYS) {
            return dispatch(evs, n);
        }
        no_pwait2 = true; /* kernel older than 5.11: millisecond waits */
    }
    return tc_loop_once(timeout_us == 0 ? 0 : (int)((timeout_us + 999) / 1000));
}

static int dispatch(struct epoll_event *evs, int n)
{
    if (n < 0) {
        return errno == EINTR ? 0 : -1;
    }
    for (int i = 0; i < n; i++) {
        struct tc_watch *w = evs[i].data.ptr;

        if (w->fd >= 0) {
            w->fn(w, evs[i].events);
        }
    }
    return n;
}

void tc_loop_reap(void)
{
    /* A free function may defer more frees: loop until none is left. */
    while (ndead > 0) {
        struct deferred d = dead[--ndead];

        d.fn(d.obj);
    }
}

void tc_loop_fini(void)
{
    tc_loop_reap();
    free(dead);
    dead = NULL;
    capdead = 0;
    if (epfd >= 0) {
        close(epfd);
        epfd = -1;
    }
}
