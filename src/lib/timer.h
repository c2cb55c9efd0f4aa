/*
 * timer.h - cheap deadlines for an event loop.
 *
 * A server arms the same few timeouts (handshake, idle, linger) on many
 * connections.  When every timer in a list has the same period, arming
 * at "now + period" and appending keeps the list sorted by deadline, so
 * arming, re-arming, cancelling and finding the next expiry are all O(1):
 * no heap, no allocation.  One bs_timer_list per period; a loop takes the
 * earliest head of its lists as epoll_wait's timeout.
 *
 * Times are milliseconds of CLOCK_MONOTONIC (bs_timer_now_ms).  Nothing
 * here locks: a list belongs to one thread.
 */
#ifndef BS_TIMER_H
#define BS_TIMER_H

#include <stdint.h>

#define BS_TIMER_NEVER UINT64_MAX

/* A timer node, embedded in the object it times.  Zero-initialise it
 * (or call bs_timer_init) before first use. */
struct bs_timer {
    struct bs_timer *prev, *next; /* NULL when not armed */
    uint64_t deadline;
};

/* Timers sharing one period, oldest deadline first. */
struct bs_timer_list {
    struct bs_timer head; /* sentinel: head.next is the earliest */
    uint64_t period_ms;
};

/* The project's one clock: nanoseconds, and milliseconds, since an
 * arbitrary fixed point (CLOCK_MONOTONIC). */
uint64_t bs_timer_now_ns(void);
uint64_t bs_timer_now_ms(void);

void bs_timer_init(struct bs_timer *t);
void bs_timer_list_init(struct bs_timer_list *l, uint64_t period_ms);

/* Arm t to fire at now + l->period_ms (saturating), moving it from
 * whatever list it was in to the tail of l.  now must not be earlier
 * than the now of previous calls on l, or the order breaks. */
void bs_timer_arm(struct bs_timer_list *l, struct bs_timer *t, uint64_t now);

/* Disarm t (no-op if it is not armed). */
void bs_timer_cancel(struct bs_timer *t);

/* Nonzero if t is in a list. */
int bs_timer_armed(const struct bs_timer *t);

/* Deadline of the earliest timer in l, or BS_TIMER_NEVER if l is empty. */
uint64_t bs_timer_list_next(const struct bs_timer_list *l);

/* If the earliest timer of l is due (deadline <= now), disarm and return
 * it; else NULL.  Call in a loop to collect every expired timer. */
struct bs_timer *bs_timer_list_pop_expired(struct bs_timer_list *l,
                                           uint64_t now);

/* A timeout for epoll_wait: -1 for BS_TIMER_NEVER, 0 if due, else the
 * milliseconds until deadline (capped at INT32_MAX). */
int bs_timer_timeout_ms(uint64_t deadline, uint64_t now);

#endif /* BS_TIMER_H */
