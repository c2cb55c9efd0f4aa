/*
 * loop.c - the backend-independent half of the event loop: the ready
 * queue, the clock and the turn; see loop.h.  Waiting is poller.h's.
 */
#include "loop.h"

#include <stdio.h>

#include "poller.h"
#include "timer.h"

#define MAX_EVENTS 128

int bs_loop_init(struct bs_loop *l, char *err, size_t errlen)
{
    bs_link_init(&l->ready);
    l->now = bs_timer_now_ms();
    l->poller = bs_poller_new(err, errlen);
    return l->poller != NULL ? 0 : -1;
}

void bs_loop_destroy(struct bs_loop *l)
{
    bs_poller_free(l->poller);
    l->poller = NULL;
}

void bs_loop_src_init(struct bs_loop_src *src)
{
    bs_link_init(&src->ready);
}

int bs_loop_add(struct bs_loop *l, struct bs_loop_src *src,
                enum bs_loop_mode mode, char *err, size_t errlen)
{
    return bs_poller_add(l->poller, src, mode, err, errlen);
}

void bs_loop_del(struct bs_loop *l, struct bs_loop_src *src)
{
    bs_poller_del(l->poller, src->fd);
}

void bs_loop_queue(struct bs_loop *l, struct bs_loop_src *src)
{
    if (!bs_link_linked(&src->ready)) {
        bs_link_append(&l->ready, &src->ready);
    }
}

void bs_loop_dequeue(struct bs_loop_src *src)
{
    bs_link_remove(&src->ready);
}

void bs_loop_tick(struct bs_loop *l)
{
    l->now = bs_timer_now_ms();
}

int bs_loop_poll(struct bs_loop *l, uint64_t deadline, char *err, size_t errlen)
{
    struct bs_poller_event evs[MAX_EVENTS];
    int timeout =
        bs_link_linked(&l->ready) ? 0 : bs_timer_timeout_ms(deadline, l->now);
    int n = bs_poller_wait(l->poller, evs, MAX_EVENTS, timeout, err, errlen);

    if (n < 0) {
        return -1;
    }
    l->now = bs_timer_now_ms();
    for (int i = 0; i < n; i++) {
        evs[i].src->on_event(evs[i].src, evs[i].events);
    }
    return 0;
}

void bs_loop_run_ready(struct bs_loop *l)
{
    struct bs_link batch;

    if (!bs_link_linked(&l->ready)) {
        return;
    }
    bs_link_take(&batch, &l->ready);
    while (bs_link_linked(&batch)) {
        struct bs_link *r = batch.next;
        struct bs_loop_src *src = BS_CONTAINER(r, struct bs_loop_src, ready);
        bs_link_remove(r);
        src->on_ready(src);
    }
}
