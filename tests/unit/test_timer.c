/*
 * test_timer.c - deadline lists: order, re-arming, cancelling, expiry and
 * the epoll timeout they give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "timer.h"

static void test_empty_list_never_fires(void **state)
{
    struct bs_timer_list l;

    (void) state;
    bs_timer_list_init(&l, 100);
    assert_true(bs_timer_list_next(&l) == BS_TIMER_NEVER);
    assert_null(bs_timer_list_pop_expired(&l, UINT64_MAX - 1));
    assert_int_equal(bs_timer_timeout_ms(bs_timer_list_next(&l), 5), -1);
}

static void test_expire_in_deadline_order(void **state)
{
    struct bs_timer_list l;
    struct bs_timer a, b, c;

    (void) state;
    bs_timer_list_init(&l, 100);
    bs_timer_init(&a);
    bs_timer_init(&b);
    bs_timer_init(&c);
    bs_timer_arm(&l, &a, 1000);
    bs_timer_arm(&l, &b, 1010);
    bs_timer_arm(&l, &c, 1020);
    assert_true(bs_timer_list_next(&l) == 1100);
    assert_null(bs_timer_list_pop_expired(&l, 1099));
    assert_ptr_equal(bs_timer_list_pop_expired(&l, 1115), &a);
    assert_ptr_equal(bs_timer_list_pop_expired(&l, 1115), &b);
    assert_null(bs_timer_list_pop_expired(&l, 1115));
    assert_false(bs_timer_armed(&a));
    assert_true(bs_timer_armed(&c));
    assert_true(bs_timer_list_next(&l) == 1120);
}

static void test_rearm_moves_to_tail(void **state)
{
    struct bs_timer_list l;
    struct bs_timer a, b;

    (void) state;
    bs_timer_list_init(&l, 50);
    bs_timer_init(&a);
    bs_timer_init(&b);
    bs_timer_arm(&l, &a, 0);
    bs_timer_arm(&l, &b, 10);
    bs_timer_arm(&l, &a, 20); /* activity on a: now the later one */
    assert_true(bs_timer_list_next(&l) == 60);
    assert_ptr_equal(bs_timer_list_pop_expired(&l, 100), &b);
    assert_ptr_equal(bs_timer_list_pop_expired(&l, 100), &a);
    assert_null(bs_timer_list_pop_expired(&l, 100));
}

static void test_move_between_lists_and_cancel(void **state)
{
    struct bs_timer_list hs, idle;
    struct bs_timer a, b;

    (void) state;
    bs_timer_list_init(&hs, 10);
    bs_timer_list_init(&idle, 1000);
    bs_timer_init(&a);
    bs_timer_init(&b);
    bs_timer_arm(&hs, &a, 0);
    bs_timer_arm(&hs, &b, 0);
    bs_timer_arm(&idle, &a, 5); /* handshake done: now idle-timed */
    assert_ptr_equal(bs_timer_list_pop_expired(&hs, 10), &b);
    assert_null(bs_timer_list_pop_expired(&hs, 10));
    assert_true(bs_timer_list_next(&idle) == 1005);
    bs_timer_cancel(&a);
    bs_timer_cancel(&a); /* twice is harmless */
    assert_true(bs_timer_list_next(&idle) == BS_TIMER_NEVER);
    assert_false(bs_timer_armed(&a));
}

static void test_saturates_and_timeout_clamps(void **state)
{
    struct bs_timer_list l;
    struct bs_timer a;

    (void) state;
    bs_timer_list_init(&l, UINT64_MAX - 5);
    bs_timer_init(&a);
    bs_timer_arm(&l, &a, 100);
    assert_true(a.deadline == BS_TIMER_NEVER);
    assert_int_equal(bs_timer_timeout_ms(90, 100), 0);
    assert_int_equal(bs_timer_timeout_ms(100, 100), 0);
    assert_int_equal(bs_timer_timeout_ms(350, 100), 250);
    assert_int_equal(bs_timer_timeout_ms(UINT64_MAX - 1, 0), INT32_MAX);
}

static void test_now_is_monotonic(void **state)
{
    uint64_t a, b;

    (void) state;
    a = bs_timer_now_ms();
    b = bs_timer_now_ms();
    assert_true(b >= a);

    /* one clock: milliseconds are its nanoseconds, cut */
    uint64_t ns0 = bs_timer_now_ns();
    uint64_t ms = bs_timer_now_ms();
    uint64_t ns1 = bs_timer_now_ns();
    assert_true(ns1 >= ns0);
    assert_true(ms >= ns0 / 1000000u);
    assert_true(ms <= ns1 / 1000000u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_list_never_fires),
        cmocka_unit_test(test_expire_in_deadline_order),
        cmocka_unit_test(test_rearm_moves_to_tail),
        cmocka_unit_test(test_move_between_lists_and_cancel),
        cmocka_unit_test(test_saturates_and_timeout_clamps),
        cmocka_unit_test(test_now_is_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
