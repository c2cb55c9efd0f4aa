/*
 * test_log.c - the log module: the line ring, the rate limit, and the
 * logger against pipes nobody reads (issue 9.3).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "timer.h"

static void test_ring_whole_lines(void **state)
{
    struct bs_log_ring r;
    const char *p;
    (void) state;

    assert_int_equal(bs_log_ring_init(&r, 16), 0);
    assert_int_equal(bs_log_ring_put(&r, "hello\n", 6), 1);
    assert_int_equal(bs_log_ring_put(&r, "world!!\n", 8), 1);
    /* 2 bytes left: a 3-byte line is refused whole and counted */
    assert_int_equal(bs_log_ring_put(&r, "ab\n", 3), 0);
    assert_int_equal(r.dropped, 1);
    assert_int_equal(bs_log_ring_put(&r, "a\n", 2), 1); /* exact fit */
    assert_int_equal(r.len, 16);
    assert_int_equal(bs_log_ring_peek(&r, &p), 16);
    assert_memory_equal(p, "hello\nworld!!\na\n", 16);
    bs_log_ring_free(&r);
}

static void test_ring_wraps(void **state)
{
    struct bs_log_ring r;
    const char *p;
    char got[16];
    size_t n, have = 0;
    (void) state;

    assert_int_equal(bs_log_ring_init(&r, 10), 0);
    assert_int_equal(bs_log_ring_put(&r, "1234567\n", 8), 1);
    bs_log_ring_consume(&r, 4); /* "567\n" left at 4..7 */
    assert_int_equal(bs_log_ring_put(&r, "abcde\n", 6), 1); /* wraps */
    assert_int_equal(r.len, 10);
    assert_int_equal(bs_log_ring_copy(&r, got, 7), 7); /* across the wrap */
    assert_memory_equal(got, "567\nabc", 7);
    while ((n = bs_log_ring_peek(&r, &p)) > 0) {
        memcpy(got + have, p, n);
        have += n;
        bs_log_ring_consume(&r, n);
    }
    assert_int_equal(have, 10);
    assert_memory_equal(got, "567\nabcde\n", 10);
    assert_int_equal(r.len, 0);
    assert_int_equal(r.dropped, 0);
    bs_log_ring_free(&r);
}

static void test_limit_burst_then_count(void **state)
{
    struct bs_log_limit l = {0};
    uint64_t span = 0;
    (void) state;

    for (int i = 0; i < 3; i++) {
        assert_int_equal(bs_log_limit_pass(&l, 1000 + (uint64_t) i, 3, 100), 1);
    }
    for (int i = 0; i < 812; i++) {
        assert_int_equal(bs_log_limit_pass(&l, 1010, 3, 100), 0);
    }
    /* not before the interval ends */
    assert_int_equal(bs_log_limit_due(&l, 1099, 100, &span), 0);
    assert_int_equal(bs_log_limit_due(&l, 1100, 100, &span), 812);
    assert_int_equal(span, 100);
    /* reported once; a new interval lets a burst through again */
    assert_int_equal(bs_log_limit_due(&l, 1300, 100, &span), 0);
    assert_int_equal(bs_log_limit_pass(&l, 1300, 3, 100), 1);
}

static void test_limit_quiet_resets(void **state)
{
    struct bs_log_limit l = {0};
    uint64_t span = 0;
    (void) state;

    assert_int_equal(bs_log_limit_pass(&l, 0, 2, 100), 1);
    assert_int_equal(bs_log_limit_pass(&l, 10, 2, 100), 1);
    /* an interval later with nothing held back: a fresh burst */
    assert_int_equal(bs_log_limit_pass(&l, 200, 2, 100), 1);
    assert_int_equal(bs_log_limit_pass(&l, 210, 2, 100), 1);
    assert_int_equal(bs_log_limit_pass(&l, 220, 2, 100), 0);
    assert_int_equal(bs_log_limit_due(&l, 300, 100, &span), 1);
}

/* Read fd (non-blocking) into buf until it holds needle or limit_ms. */
static int read_until(int fd, char *buf, size_t cap, size_t *len,
                      const char *needle, int limit_ms)
{
    uint64_t end = bs_timer_now_ms() + (uint64_t) limit_ms;

    while (bs_timer_now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0) {
            ssize_t n = read(fd, buf + *len, cap - 1 - *len);
            if (n > 0) {
                *len += (size_t) n;
                buf[*len] = '\0';
                if (*len > cap / 2) { /* keep the tail only */
                    size_t keep = cap / 4;
                    memmove(buf, buf + *len - keep, keep);
                    *len = keep;
                    buf[*len] = '\0';
                }
            }
        }
        if (strstr(buf, needle) != NULL) {
            return 1;
        }
    }
    return 0;
}

static void test_logger_never_blocks(void **state)
{
    int out[2], err[2];
    struct bs_log *lg;
    char e[256];
    static char buf[1 << 16];
    size_t len = 0;
    (void) state;

    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    struct bs_log_config cfg = {.fd = {out[1], err[1]},
                                .ring_bytes = 8192,
                                .burst = 5,
                                .interval_ms = 200,
                                .flush_ms = 300};
    lg = bs_log_new(&cfg, e, sizeof e);
    assert_non_null(lg);
    /* far more than the pipe (64 KiB) and the ring hold: never blocks */
    for (int i = 0; i < 20000; i++) {
        bs_log_put(lg, BS_LOG_OUT, "[peer] stuff hdlc line %d with bits", i);
    }
    assert_true(bs_log_dropped(lg, BS_LOG_OUT) > 0);
    /* rate-limited lines: 5 pass, 95 are counted */
    for (int i = 0; i < 100; i++) {
        bs_log_limited(lg, "kind", "bitstuffd: [peer %d] kind: why", i);
    }
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    assert_true(read_until(err[0], buf, sizeof buf, &len,
                           "(repeated 95 more times in", 3000));
    assert_non_null(strstr(buf, "bitstuffd: [peer 99] kind: why (repeated"));
    /* once stdout is read again, the drop is reported on stderr */
    {
        static char obuf[1 << 16];
        size_t olen = 0;
        (void) read_until(out[0], obuf, sizeof obuf, &olen, "line 19999", 300);
    }
    assert_true(read_until(err[0], buf, sizeof buf, &len,
                           "display lines dropped", 3000));
    /* stopping with stdout full again and unread returns (after
     * flush_ms; a hang would end in ctest's timeout) */
    for (int i = 0; i < 20000; i++) {
        bs_log_put(lg, BS_LOG_OUT, "[peer] more line %d", i);
    }
    bs_log_free(lg);
    close(out[0]);
    close(out[1]);
    close(err[0]);
    close(err[1]);
}

static void test_logger_null_writes_at_once(void **state)
{
    (void) state;
    /* NULL: the direct path (tests and tools); must not crash */
    bs_log_limited(NULL, "k", "bitstuffd: test_log: a direct line %d", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_whole_lines),
        cmocka_unit_test(test_ring_wraps),
        cmocka_unit_test(test_limit_burst_then_count),
        cmocka_unit_test(test_limit_quiet_resets),
        cmocka_unit_test(test_logger_never_blocks),
        cmocka_unit_test(test_logger_null_writes_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
