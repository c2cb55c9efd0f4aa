/*
 * test_num.c - strict parsing of command-line numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "num.h"

static void test_u64(void **state)
{
    uint64_t v = 7;

    (void) state;
    assert_int_equal(bs_num_parse_u64("0", 0, 10, &v), 0);
    assert_true(v == 0);
    assert_int_equal(
        bs_num_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(
        bs_num_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -1);
    assert_true(v == UINT64_MAX); /* untouched on failure */
    assert_int_equal(bs_num_parse_u64("11", 0, 10, &v), -1);
    assert_int_equal(bs_num_parse_u64("4", 5, 10, &v), -1);
    assert_int_equal(bs_num_parse_u64("10", 0, 10, &v), 0);
    assert_true(v == 10);
    assert_int_equal(bs_num_parse_u64("", 0, 10, &v), -1);
    assert_int_equal(bs_num_parse_u64("+1", 0, 10, &v), -1);
    assert_int_equal(bs_num_parse_u64("-1", 0, 10, &v), -1);
    assert_int_equal(bs_num_parse_u64(" 1", 0, 10, &v), -1);
    assert_int_equal(bs_num_parse_u64("1 ", 0, 10, &v), -1);
    assert_int_equal(bs_num_parse_u64("0x10", 0, 100, &v), -1);
    assert_int_equal(bs_num_parse_u64("1k", 0, 10000, &v), -1);
    assert_int_equal(bs_num_parse_u64(NULL, 0, 10, &v), -1);
}

static void test_count(void **state)
{
    uint64_t v = 0;

    (void) state;
    assert_int_equal(bs_num_parse_count("20000", 0, UINT64_MAX, &v), 0);
    assert_true(v == 20000);
    assert_int_equal(bs_num_parse_count("20k", 0, UINT64_MAX, &v), 0);
    assert_true(v == 20000);
    assert_int_equal(bs_num_parse_count("3K", 0, UINT64_MAX, &v), 0);
    assert_true(v == 3000);
    assert_int_equal(bs_num_parse_count("1M", 0, UINT64_MAX, &v), 0);
    assert_true(v == 1000000);
    assert_int_equal(bs_num_parse_count("2G", 0, UINT64_MAX, &v), 0);
    assert_true(v == 2000000000ULL);
    /* the scaled value is what the bounds apply to */
    assert_int_equal(bs_num_parse_count("2k", 0, 1999, &v), -1);
    assert_int_equal(bs_num_parse_count("2k", 2001, 5000, &v), -1);
    assert_int_equal(
        bs_num_parse_count("18446744073709552k", 0, UINT64_MAX, &v), -1);
    assert_int_equal(bs_num_parse_count("k", 0, 10, &v), -1);
    assert_int_equal(bs_num_parse_count("1m", 0, UINT64_MAX, &v), -1);
    assert_int_equal(bs_num_parse_count("1kk", 0, UINT64_MAX, &v), -1);
    assert_int_equal(bs_num_parse_count("", 0, 10, &v), -1);
    assert_int_equal(bs_num_parse_count(NULL, 0, 10, &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64),
        cmocka_unit_test(test_count),
    };
    return cmocka_run_group_tests_name("num", tests, NULL, NULL);
}
