/*
 * timer.c - per-period deadline lists; see timer.h.
 */
#include "timer.h"

#include <time.h>

uint64_t bs_timer_now_ns(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

uint64_t bs_timer_now_ms(void)
{
    return bs_timer_now_ns() / 1000000u;
}

void bs_timer_init(struct bs_timer *t)
{
    t->prev = t->next = NULL;
    t->deadline = BS_TIMER_NEVER;
}

void bs_timer_list_init(struct bs_timer_list *l, uint64_t period_ms)
{
    l->head.prev = l->head.next = &l->head;
    l->head.deadline = BS_TIMER_NEVER;
    l->period_ms = period_ms;
}

void bs_timer_cancel(struct bs_timer *t)
{
    if (t->next == NULL) {
        return;
    }
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

void bs_timer_arm(struct bs_timer_list *l, struct bs_timer *t, uint64_t now)
{
    bs_timer_cancel(t);
    t->deadline = l->period_ms > BS_TIMER_NEVER - now ? BS_TIMER_NEVER
                                                      : now + l->period_ms;
    t->prev = l->head.prev;
    t->next = &l->head;
    l->head.prev->next = t;
    l->head.prev = t;
}

int bs_timer_armed(const struct bs_timer *t)
{
    return t->next != NULL;
}

uint64_t bs_timer_list_next(const struct bs_timer_list *l)
{
    return l->head.next == &l->head ? BS_TIMER_NEVER : l->head.next->deadline;
}

struct bs_timer *bs_timer_list_pop_expired(struct bs_timer_list *l,
                                           uint64_t now)
{
    struct bs_timer *t = l->head.next;

    if (t == &l->head || t->deadline > now) {
        return NULL;
    }
    bs_timer_cancel(t);
    return t;
}

int bs_timer_timeout_ms(uint64_t deadline, uint64_t now)
{
    if (deadline == BS_TIMER_NEVER) {
        return -1;
    }
    if (deadline <= now) {
        return 0;
    }
    return deadline - now > INT32_MAX ? INT32_MAX : (int) (deadline - now);
}
