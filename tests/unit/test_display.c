/*
 * test_display.c - the display keeps the first 64 bits and a count, and
 * shortens long messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "display.h"

static void test_lab_example_text(void **state)
{
    struct bs_display_bits d;
    char buf[BS_DISPLAY_BITS_STRLEN];

    (void) state;
    bs_display_reset(&d);
    bs_display_add_text(&d, "0101111110", 10);
    bs_display_add_text(&d, "011111001010", 12);
    bs_display_format(&d, buf, sizeof buf);
    assert_string_equal(buf, "22 bits: 0101111110011111001010");
}

static void test_packed_chunks_any_alignment(void **state)
{
    struct bs_display_bits d;
    char buf[BS_DISPLAY_BITS_STRLEN];
    const uint8_t a[] = {0x5F, 0xFF}; /* 01011111 1... */

    (void) state;
    bs_display_reset(&d);
    bs_display_add_packed(&d, a, 3); /* 010 */
    bs_display_add_packed(&d, a, 9); /* 010111111 */
    bs_display_add_packed(&d, a, 0); /* nothing */
    bs_display_format(&d, buf, sizeof buf);
    assert_string_equal(buf, "12 bits: 010010111111");
}

static void test_empty(void **state)
{
    struct bs_display_bits d;
    char buf[BS_DISPLAY_BITS_STRLEN];

    (void) state;
    bs_display_reset(&d);
    bs_display_format(&d, buf, sizeof buf);
    assert_string_equal(buf, "0 bits");
}

static void test_exactly_64_is_not_shortened(void **state)
{
    struct bs_display_bits d;
    char buf[BS_DISPLAY_BITS_STRLEN], want[100];
    char bits[65];

    (void) state;
    memset(bits, '1', 64);
    bits[64] = '\0';
    bs_display_reset(&d);
    bs_display_add_text(&d, bits, 64);
    bs_display_format(&d, buf, sizeof buf);
    snprintf(want, sizeof want, "64 bits: %s", bits);
    assert_string_equal(buf, want);
}

static void test_long_message_is_shortened_with_count(void **state)
{
    struct bs_display_bits d;
    char buf[BS_DISPLAY_BITS_STRLEN], want[200], first[65];
    uint8_t chunk[1000];

    (void) state;
    memset(chunk, 0xAA, sizeof chunk); /* 1010... */
    bs_display_reset(&d);
    for (int i = 0; i < 1000; i++) {
        bs_display_add_packed(&d, chunk, 8000); /* 8,000,000 bits */
    }
    bs_display_add_packed(&d, chunk, 5);
    for (int i = 0; i < 64; i++) {
        first[i] = i % 2 ? '0' : '1';
    }
    first[64] = '\0';
    bs_display_format(&d, buf, sizeof buf);
    snprintf(want, sizeof want, "8000005 bits: %s... (8000005 bits)", first);
    assert_string_equal(buf, want);
}

static void test_huge_count_fits_and_small_buffer_is_cut(void **state)
{
    struct bs_display_bits d;
    char buf[BS_DISPLAY_BITS_STRLEN], tiny[8];

    (void) state;
    bs_display_reset(&d);
    bs_display_add_text(&d, "1", 1);
    d.n = UINT64_MAX;
    bs_display_format(&d, buf, sizeof buf);
    assert_non_null(strstr(buf, "(18446744073709551615 bits)"));
    bs_display_format(&d, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lab_example_text),
        cmocka_unit_test(test_packed_chunks_any_alignment),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_exactly_64_is_not_shortened),
        cmocka_unit_test(test_long_message_is_shortened_with_count),
        cmocka_unit_test(test_huge_count_fits_and_small_buffer_is_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
