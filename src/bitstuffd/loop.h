/*
 * loop.h - a worker thread's event loop: readiness of its descriptors,
 * a queue of sources to run again without an event, and the turn's clock.
 *
 * One loop per thread; nothing here locks.  A source (struct bs_loop_src,
 * embedded in its owner) is watched in one of three modes and gets its
 * events through on_event; bs_loop_queue has on_ready called in the next
 * bs_loop_run_ready instead (fairness: a busy connection yields after a
 * budget of work, and queues itself to go on).  The system's interface
 * (epoll) is in the backend alone (poller.h).
 */
#ifndef BS_LOOP_H
#define BS_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "list.h"

/* What an event says about a source (several at once). */
enum {
    BS_LOOP_IN = 1u,    /* readable (for a stream: newly, an edge) */
    BS_LOOP_OUT = 2u,   /* writable, the same */
    BS_LOOP_RDHUP = 4u, /* the peer shut down its sending side */
    BS_LOOP_HUP = 8u,   /* both directions are closed */
    BS_LOOP_ERR = 16u,  /* an error waits on the socket */
};

enum bs_loop_mode {
    BS_LOOP_STREAM, /* a connection: edges both ways and the peer's hang-up */
    BS_LOOP_ACCEPT, /* a listening socket every worker shares: one is woken */
    BS_LOOP_LEVEL,  /* readable wakes every loop until it is read */
};

struct bs_loop_src {
    int fd;
    void (*on_event)(struct bs_loop_src *src, unsigned events);
    void (*on_ready)(struct bs_loop_src *src); /* after bs_loop_queue */
    struct bs_link ready;                      /* in the ready queue */
};

struct bs_loop {
    struct bs_poller *poller;
    struct bs_link ready; /* sources to run without an event */
    uint64_t now;         /* bs_timer_now_ms at the start of the turn */
};

/* Returns 0, or -1 with err ("cannot start a worker: " + err is read). */
int bs_loop_init(struct bs_loop *l, char *err, size_t errlen);
void bs_loop_destroy(struct bs_loop *l);

/* Set src's links; its fd and callbacks are the caller's to fill. */
void bs_loop_src_init(struct bs_loop_src *src);

/* Start or stop watching src->fd.  Returns 0, or -1 with err naming the
 * system call and its error, e.g. "epoll_ctl: Cannot allocate memory". */
int bs_loop_add(struct bs_loop *l, struct bs_loop_src *src,
                enum bs_loop_mode mode, char *err, size_t errlen);
void bs_loop_del(struct bs_loop *l, struct bs_loop_src *src);

/* Run src->on_ready in the next bs_loop_run_ready (once, however often it
 * is queued); bs_loop_dequeue undoes it. */
void bs_loop_queue(struct bs_loop *l, struct bs_loop_src *src);
void bs_loop_dequeue(struct bs_loop_src *src);

/* Read the clock into l->now. */
void bs_loop_tick(struct bs_loop *l);

/*
 * Wait for events until deadline (a bs_timer_now_ms time; BS_TIMER_NEVER:
 * no limit), or not at all while sources are queued, then tick and hand
 * each event to its source.  Returns 0, or -1 with err when waiting
 * failed (the loop cannot go on).
 */
int bs_loop_poll(struct bs_loop *l, uint64_t deadline, char *err,
                 size_t errlen);

/* Run the sources queued before this call; those they queue again wait
 * for the next turn. */
void bs_loop_run_ready(struct bs_loop *l);

#endif /* BS_LOOP_H */
