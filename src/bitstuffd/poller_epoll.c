/*
 * poller_epoll.c - poller.h with Linux's epoll.
 *
 * Streams are edge-triggered (EPOLLET) with both directions and
 * EPOLLRDHUP registered once, so a connection never calls epoll_ctl
 * again: its owner remembers which readiness it waits for.  Listening
 * sockets use EPOLLEXCLUSIVE, so the kernel wakes one idle worker per
 * new connection from the shared accept queue.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "poller.h"

#define WAIT_MAX 128

struct bs_poller {
    int epfd;
};

struct bs_poller *bs_poller_new(char *err, size_t errlen)
{
    struct bs_poller *p = malloc(sizeof *p);

    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epfd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        free(p);
        return NULL;
    }
    return p;
}

void bs_poller_free(struct bs_poller *p)
{
    if (p == NULL) {
        return;
    }
    close(p->epfd);
    free(p);
}

int bs_poller_add(struct bs_poller *p, struct bs_loop_src *src,
                  enum bs_loop_mode mode, char *err, size_t errlen)
{
    struct epoll_event ev = {.data.ptr = src};

    switch (mode) {
    case BS_LOOP_STREAM:
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        break;
    case BS_LOOP_ACCEPT:
        ev.events = EPOLLIN | EPOLLEXCLUSIVE;
        break;
    case BS_LOOP_LEVEL:
        ev.events = EPOLLIN;
        break;
    }
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, src->fd, &ev) != 0) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void bs_poller_del(struct bs_poller *p, int fd)
{
    epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int bs_poller_wait(struct bs_poller *p, struct bs_poller_event *ev, int max,
                   int timeout_ms, char *err, size_t errlen)
{
    struct epoll_event evs[WAIT_MAX];
    int n =
        epoll_wait(p->epfd, evs, max < WAIT_MAX ? max : WAIT_MAX, timeout_ms);

    if (n < 0) {
        if (errno == EINTR) {
            return 0;
        }
        snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        uint32_t e = evs[i].events;
        ev[i].src = evs[i].data.ptr;
        ev[i].events = ((e & EPOLLIN) ? BS_LOOP_IN : 0u) |
                       ((e & EPOLLOUT) ? BS_LOOP_OUT : 0u) |
                       ((e & EPOLLRDHUP) ? BS_LOOP_RDHUP : 0u) |
                       ((e & EPOLLHUP) ? BS_LOOP_HUP : 0u) |
                       ((e & EPOLLERR) ? BS_LOOP_ERR : 0u);
    }
    return n;
}
