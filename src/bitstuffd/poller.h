/*
 * poller.h - the readiness backend under loop.c: the only code that knows
 * the system's interface for waiting on many descriptors.
 *
 * poller_epoll.c implements it with epoll.  Another backend (io_uring's
 * poll operations, kqueue) is one more file implementing these
 * functions, chosen in CMakeLists.txt; nothing else changes.
 *
 * Contract: a BS_LOOP_STREAM descriptor reports each direction's
 * readiness as an edge (after an operation met EAGAIN, the next event
 * says that direction may be retried) and reports the peer's shutdown
 * (BS_LOOP_RDHUP) once it happens.  BS_LOOP_ACCEPT descriptors are shared
 * by the pollers of all workers and wake one of them per event, level-
 * triggered.  BS_LOOP_LEVEL descriptors wake every poller as long as they
 * are readable.  Error strings name the system call that failed.
 */
#ifndef BS_POLLER_H
#define BS_POLLER_H

#include <stddef.h>

#include "loop.h"

struct bs_poller;

struct bs_poller *bs_poller_new(char *err, size_t errlen);
void bs_poller_free(struct bs_poller *p); /* NULL ok */

/* Watch fd; each event hands back src.  Returns 0, or -1 with err. */
int bs_poller_add(struct bs_poller *p, struct bs_loop_src *src,
                  enum bs_loop_mode mode, char *err, size_t errlen);
void bs_poller_del(struct bs_poller *p, int fd);

/* What one wake-up reported about one source. */
struct bs_poller_event {
    struct bs_loop_src *src;
    unsigned events; /* BS_LOOP_IN | BS_LOOP_OUT | ... */
};

/* Wait up to timeout_ms (-1: no limit) for events on the watched
 * descriptors and store at most max of them.  Returns how many (0 also
 * when interrupted by a signal), or -1 with err. */
int bs_poller_wait(struct bs_poller *p, struct bs_poller_event *ev, int max,
                   int timeout_ms, char *err, size_t errlen);

#endif /* BS_POLLER_H */
