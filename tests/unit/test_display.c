/*
 * test_display.c - the display keeps the first 64 bits and a count, and
 * shortens long messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Run bs_display_explain_show with standard output sent to a temporary
 * file, and return what it wrote (NUL-terminated, heap). */
static char *capture_explain(const struct bs_display_explain *e,
                             enum bs_proto_op op, enum bs_rule rule)
{
    FILE *tmp = tmpfile();
    int saved = dup(1);
    long len;
    char *text;

    assert_non_null(tmp);
    assert_true(saved >= 0);
    fflush(stdout);
    assert_true(dup2(fileno(tmp), 1) == 1);
    bs_display_explain_show(e, NULL, "127.0.0.1:5", op, rule);
    assert_true(dup2(saved, 1) == 1);
    close(saved);
    len = lseek(fileno(tmp), 0, SEEK_END);
    assert_true(len >= 0);
    text = calloc(1, (size_t) len + 1);
    assert_non_null(text);
    assert_int_equal(pread(fileno(tmp), text, (size_t) len, 0), len);
    fclose(tmp);
    return text;
}

/* --explain on the server: the message kept whole, explained line by
 * line with the peer in front of each line. */
static void test_explain_lab_example(void **state)
{
    static struct bs_display_explain e;
    const uint8_t lab[] = {0x5F, 0x9F, 0x28}; /* 0101111110011111001010 */
    char *out;

    (void) state;
    bs_display_explain_reset(&e);
    bs_display_explain_add_packed(&e, lab, 10);
    bs_display_explain_add_text(&e, "011111001010", 12);
    assert_int_equal(e.n, 22);
    out = capture_explain(&e, BS_PROTO_STUFF, BS_RULE_HDLC);
    assert_non_null(strstr(out, "[127.0.0.1:5] explain: stuff, rule hdlc: "
                                "after five 1s, a 0 is inserted\n"));
    assert_non_null(strstr(out, "[127.0.0.1:5] explain:       0  "
                                "010111110100111110001010\n"
                                "[127.0.0.1:5] explain:             "
                                "-----^   =====^\n"));
    assert_non_null(strstr(out, "[127.0.0.1:5] explain:   five 1s at input "
                                "bits 11-15 -> 0 inserted at output bit 17\n"));
    assert_null(strchr(out, '\033'));
    /* every line carries the peer */
    for (const char *p = out; *p != '\0'; p = strchr(p, '\n') + 1) {
        assert_memory_equal(p, "[127.0.0.1:5] explain: ", 23);
    }
    free(out);

    /* an error: the caret under the offending bit */
    bs_display_explain_reset(&e);
    bs_display_explain_add_text(&e, "0111111010", 10);
    out = capture_explain(&e, BS_PROTO_UNSTUFF, BS_RULE_HDLC);
    assert_non_null(strstr(out, "[127.0.0.1:5] explain:       0  0111111010\n"
                                "[127.0.0.1:5] explain:           -----\n"
                                "[127.0.0.1:5] explain:                ^ flag "
                                "at input bit 6\n"));
    free(out);
}

/* Past BS_EXPLAIN_MAX_BITS the bits are counted, not kept, and the
 * message is not explained: one line says so. */
static void test_explain_too_long(void **state)
{
    static struct bs_display_explain e;
    static uint8_t ones[BS_EXPLAIN_MAX_BITS / 8];
    char *out;

    (void) state;
    memset(ones, 0xff, sizeof ones);
    bs_display_explain_reset(&e);
    bs_display_explain_add_packed(&e, ones, BS_EXPLAIN_MAX_BITS);
    bs_display_explain_add_text(&e, "101", 3);
    assert_int_equal(e.n, BS_EXPLAIN_MAX_BITS + 3);
    out = capture_explain(&e, BS_PROTO_STUFF, BS_RULE_HDLC);
    assert_string_equal(out, "[127.0.0.1:5] explain: not explained: 65539 "
                             "bits is more than --explain shows (65536 "
                             "bits)\n");
    free(out);
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
        cmocka_unit_test(test_explain_lab_example),
        cmocka_unit_test(test_explain_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
