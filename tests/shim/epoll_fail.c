/*
 * epoll_fail.c - an LD_PRELOAD shim for tests: make epoll_ctl fail when a
 * listening socket is armed, to check that the server notices.
 *
 * EPOLL_CTL_ADD with EPOLLEXCLUSIVE (how bitstuffd arms its listening
 * sockets, and only those) succeeds BS_SHIM_EPOLL_ALLOW times (default
 * 0), then fails with ENOMEM.  Everything else goes to the real call.
 * The counter is process-wide: this is a test tool, not the server.
 */
#include <sys/epoll.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef int epoll_ctl_fn(int, int, int, struct epoll_event *);

static atomic_long allowed_used;

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    epoll_ctl_fn *real;
    void *sym = dlsym(RTLD_NEXT, "epoll_ctl");

    if (sym == NULL) {
        errno = ENOSYS;
        return -1;
    }
    memcpy(&real, &sym, sizeof real);
    if (op == EPOLL_CTL_ADD && ev != NULL && (ev->events & EPOLLEXCLUSIVE)) {
        const char *s = getenv("BS_SHIM_EPOLL_ALLOW");
        long allow = s != NULL ? strtol(s, NULL, 10) : 0;
        if (atomic_fetch_add(&allowed_used, 1) >= allow) {
            errno = ENOMEM;
            return -1;
        }
    }
    return real(epfd, op, fd, ev);
}
