/*
 * bs_faketime.c - an LD_PRELOAD shim that moves the wall clock, so tests
 * can see what a server does hours or days later without waiting.
 *
 * time(), gettimeofday() and clock_gettime(CLOCK_REALTIME*) return the
 * real time plus an offset in seconds read from the file named by
 * BS_FAKETIME_FILE (e.g. "5400\n"; may be negative).  The file is read
 * on every call, so a test moves a running server's clock by rewriting
 * it (write a new file and rename it over the old one).  No file or no
 * number: no offset.  Monotonic clocks are never moved (timers stay
 * true).  For tests only; never installed.
 */
#include <sys/time.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long fake_offset(void)
{
    const char *path = getenv("BS_FAKETIME_FILE");
    char buf[32];
    ssize_t n;
    int fd, saved = errno;

    if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        errno = saved;
        return 0;
    }
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    errno = saved;
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);

static clock_gettime_fn real_clock_gettime(void)
{
    static clock_gettime_fn fn;
    if (fn == NULL) {
        *(void **) &fn = dlsym(RTLD_NEXT, "clock_gettime");
    }
    return fn;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    int r = real_clock_gettime()(id, ts);
    if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        ts->tv_sec += fake_offset();
    }
    return r;
}

time_t time(time_t *t)
{
    struct timespec ts;
    time_t now = clock_gettime(CLOCK_REALTIME, &ts) == 0 ? ts.tv_sec : -1;
    if (t != NULL) {
        *t = now;
    }
    return now;
}

int gettimeofday(struct timeval *tv, void *tz)
{
    static gettimeofday_fn fn;
    if (fn == NULL) {
        *(void **) &fn = dlsym(RTLD_NEXT, "gettimeofday");
    }
    int r = fn(tv, tz);
    if (r == 0) {
        tv->tv_sec += fake_offset();
    }
    return r;
}
