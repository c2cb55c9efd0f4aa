/*
 * test_explain.c - the explanation of a message: events where the engine
 * inserted or removed a bit, their wording from the rule table, the row
 * layout of long messages, the error caret, and colour only on request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "explain.h"
#include "stuff.h"

#define LAB_IN  "0101111110011111001010"
#define LAB_OUT "010111110100111110001010"

/* Render x into a NUL-terminated heap string. */
static char *render(const struct bs_explain *x, int colour)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    assert_int_equal(bs_explain_render(x, f, colour), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static char *explain_text(enum bs_rule rule, enum bs_dir dir, const char *in,
                          int colour)
{
    struct bs_explain x;
    char *s;

    assert_int_equal(bs_explain_run(&x, rule, dir, in, strlen(in)), 0);
    s = render(&x, colour);
    bs_explain_free(&x);
    return s;
}

/* The line of text that follows the line starting with prefix. */
static const char *line_after(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);

    assert_non_null(p);
    p = strchr(p, '\n');
    assert_non_null(p);
    return p + 1;
}

static int line_equal(const char *p, const char *want)
{
    size_t n = strlen(want);

    return strncmp(p, want, n) == 0 && p[n] == '\n';
}

static void test_lab_example_stuff(void **state)
{
    struct bs_explain x;
    char line[BS_EXPLAIN_LINE_MAX];
    char *s;

    (void) state;
    assert_int_equal(bs_explain_run(&x, BS_RULE_HDLC, BS_DIR_STUFF, LAB_IN, 22),
                     0);
    assert_int_equal(x.status, BS_OK);
    assert_int_equal(x.out_n, 24);
    assert_memory_equal(x.out, LAB_OUT, 24);
    assert_int_equal(x.n_ev, 2);
    assert_int_equal(x.ev[0].run_in_first, 3);
    assert_int_equal(x.ev[0].in_bit, 7);
    assert_int_equal(x.ev[0].out_bit, 8);
    assert_int_equal(x.ev[1].run_in_first, 11);
    assert_int_equal(x.ev[1].in_bit, 15);
    assert_int_equal(x.ev[1].out_bit, 17);
    assert_string_equal(bs_explain_describe(&x, 0, line, sizeof(line)),
                        "five 1s at input bits 3-7 -> 0 inserted at output "
                        "bit 8");
    assert_string_equal(bs_explain_describe(&x, 1, line, sizeof(line)),
                        "five 1s at input bits 11-15 -> 0 inserted at output "
                        "bit 17");
    s = render(&x, 0);
    assert_non_null(strstr(s, "stuff, rule hdlc: after five 1s, a 0 is "
                              "inserted\n"));
    /* the input with its runs, the output with its inserted bits */
    assert_true(
        line_equal(line_after(s, "input, 22 bits:"), "      0  " LAB_IN));
    assert_true(line_equal(line_after(line_after(s, "input, 22 bits:"), ""),
                           "            -----   ====="));
    assert_true(line_equal(line_after(s, "output, 24 bits (2 inserted):"),
                           "      0  " LAB_OUT));
    assert_true(line_equal(line_after(line_after(s, "output, 24 bits"), ""),
                           "            -----^   =====^"));
    assert_non_null(strstr(s, "2 bits inserted:\n"
                              "  five 1s at input bits 3-7 -> 0 inserted at "
                              "output bit 8\n"
                              "  five 1s at input bits 11-15 -> 0 inserted at "
                              "output bit 17\n"));
    assert_null(strchr(s, '\033'));
    free(s);
    bs_explain_free(&x);
}

static void test_lab_example_unstuff(void **state)
{
    struct bs_explain x;
    char line[BS_EXPLAIN_LINE_MAX];
    char *s;

    (void) state;
    assert_int_equal(
        bs_explain_run(&x, BS_RULE_HDLC, BS_DIR_UNSTUFF, LAB_OUT, 24), 0);
    assert_int_equal(x.status, BS_OK);
    assert_int_equal(x.out_n, 22);
    assert_memory_equal(x.out, LAB_IN, 22);
    assert_int_equal(x.n_ev, 2);
    assert_int_equal(x.ev[0].in_bit, 8);
    assert_int_equal(x.ev[0].out_bit, 8);
    assert_int_equal(x.ev[1].in_bit, 17);
    assert_int_equal(x.ev[1].out_bit, 16);
    assert_string_equal(bs_explain_describe(&x, 1, line, sizeof(line)),
                        "five 1s at input bits 12-16 -> stuffed 0 at input "
                        "bit 17 removed (output continues at bit 16)");
    s = render(&x, 0);
    assert_true(line_equal(line_after(line_after(s, "input, 24 bits:"), ""),
                           "            -----^   =====^"));
    assert_non_null(strstr(s, "output, 22 bits (2 removed):\n"));
    assert_non_null(strstr(s, "2 bits removed:\n"));
    free(s);
    bs_explain_free(&x);
}

/* CAN: five equal bits, the complement inserted, and the inserted bit
 * starting the next run; the wording comes from the rule table. */
static void test_can(void **state)
{
    struct bs_explain x;
    char line[BS_EXPLAIN_LINE_MAX];
    char *s;

    (void) state;
    assert_int_equal(
        bs_explain_run(&x, BS_RULE_CAN, BS_DIR_STUFF, "0000011111111", 13), 0);
    assert_int_equal(x.out_n, 15);
    assert_memory_equal(x.out, "000001111101111", 15);
    assert_int_equal(x.n_ev, 2);
    assert_string_equal(bs_explain_describe(&x, 0, line, sizeof(line)),
                        "five 0s at input bits 0-4 -> 1 inserted at output "
                        "bit 5");
    assert_true(x.ev[1].led_by_stuffed);
    assert_string_equal(bs_explain_describe(&x, 1, line, sizeof(line)),
                        "five 1s: the stuffed 1 at output bit 5 and input "
                        "bits 5-8 -> 0 inserted at output bit 10");
    s = render(&x, 0);
    assert_non_null(strstr(s, "can: after five equal bits, their complement "
                              "is inserted"));
    assert_true(line_equal(line_after(line_after(s, "output, 15 bits"), ""),
                           "         -----^====^"));
    free(s);
    bs_explain_free(&x);

    assert_int_equal(
        bs_explain_run(&x, BS_RULE_CAN, BS_DIR_UNSTUFF, "000001111101111", 15),
        0);
    assert_int_equal(x.status, BS_OK);
    assert_memory_equal(x.out, "0000011111111", 13);
    assert_int_equal(x.n_ev, 2);
    assert_int_equal(x.ev[0].in_bit, 5);
    assert_int_equal(x.ev[1].in_bit, 10);
    assert_true(x.ev[1].led_by_stuffed);
    assert_string_equal(bs_explain_describe(&x, 1, line, sizeof(line)),
                        "five 1s at input bits 5-9 (the first is itself a "
                        "stuffed bit) -> stuffed 0 at input bit 10 removed "
                        "(output continues at bit 9)");
    bs_explain_free(&x);
}

static void test_usb(void **state)
{
    struct bs_explain x;
    char line[BS_EXPLAIN_LINE_MAX];

    (void) state;
    assert_int_equal(
        bs_explain_run(&x, BS_RULE_USB, BS_DIR_STUFF, "01111111", 8), 0);
    assert_memory_equal(x.out, "011111101", 9);
    assert_int_equal(x.n_ev, 1);
    assert_string_equal(bs_explain_describe(&x, 0, line, sizeof(line)),
                        "six 1s at input bits 1-6 -> 0 inserted at output "
                        "bit 7");
    assert_string_equal(
        bs_explain_rule_text(BS_RULE_USB, BS_DIR_STUFF, line, sizeof(line)),
        "usb: after six 1s, a 0 is inserted");
    bs_explain_free(&x);
    /* five 1s are nothing under USB */
    assert_int_equal(bs_explain_run(&x, BS_RULE_USB, BS_DIR_STUFF, "111110", 6),
                     0);
    assert_int_equal(x.n_ev, 0);
    bs_explain_free(&x);
}

/* The explanation's output, status and offset are the one-shot calls',
 * and its events account for every bit of difference. */
static void test_agrees_with_engine(void **state)
{
    uint32_t seed = 12345;
    char in[300], out[400];

    (void) state;
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = (size_t) (iter % 300);
        int ones = iter % 3; /* mostly 1s makes runs and errors likely */

        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (seed >> 16) % 4 < (unsigned) (ones + 1) ? '1' : '0';
        }
        for (unsigned r = 0; r < BS_RULE_COUNT; r++) {
            for (unsigned d = 0; d < 2; d++) {
                struct bs_explain x;
                size_t on = 0;
                uint64_t off = 0;
                bs_status st =
                    d == BS_DIR_STUFF
                        ? bs_stuff_text(r, in, n, out, sizeof(out), &on, &off)
                        : bs_unstuff_text(r, in, n, out, sizeof(out), &on,
                                          &off);

                assert_int_equal(bs_explain_run(&x, r, d, in, n), 0);
                assert_int_equal(x.status, st);
                if (st == BS_OK) {
                    assert_int_equal(x.out_n, on);
                    assert_memory_equal(x.out, out, on);
                    assert_int_equal(d == BS_DIR_STUFF ? on - n : n - on,
                                     x.n_ev);
                } else {
                    assert_int_equal(x.err_offset, off);
                }
                for (size_t i = 0; i < x.n_ev; i++) {
                    const struct bs_explain_event *e = &x.ev[i];
                    const char *src = d == BS_DIR_STUFF ? x.out : x.in;
                    uint64_t at = d == BS_DIR_STUFF ? e->out_bit : e->in_bit;

                    assert_int_equal(src[at] - '0', e->bit);
                    assert_int_equal(src[at - 1] - '0', e->run_bit);
                }
                bs_explain_free(&x);
            }
        }
    }
}

/* 150 bits: rows of 64 with their offsets, every bit shown, none cut. */
static void test_long_rows(void **state)
{
    char in[151];
    char *s;
    const char *p;
    char joined[200] = "";

    (void) state;
    for (size_t i = 0; i < 150; i++) {
        in[i] = "0110"[i % 4];
    }
    in[150] = '\0';
    s = explain_text(BS_RULE_HDLC, BS_DIR_STUFF, in, 0);
    p = line_after(s, "input, 150 bits:");
    assert_memory_equal(p, "      0  ", 9);
    assert_memory_equal(p + 9, in, 64);
    assert_int_equal(p[9 + 64], '\n');
    p = strchr(p, '\n') + 1;
    assert_memory_equal(p, "     64  ", 9);
    assert_memory_equal(p + 9, in + 64, 64);
    p = strchr(p, '\n') + 1;
    assert_true(line_equal(p, "    128  0110011001100110011001"));
    free(s);

    /* a long run of 1s: rows of the output too, markers under each */
    memset(in, '1', 150);
    s = explain_text(BS_RULE_HDLC, BS_DIR_STUFF, in, 0);
    p = line_after(s, "output, 180 bits (30 inserted):");
    for (int row = 0; row < 3; row++) {
        char off[16];
        size_t len = strcspn(p, "\n");

        snprintf(off, sizeof(off), "  %5d  ", row * 64);
        assert_memory_equal(p, off, 9);
        assert_int_equal(len - 9, row < 2 ? 64 : 52);
        strncat(joined, p + 9, len - 9);
        p = strchr(p, '\n') + 1;
        assert_memory_equal(p, "         ", 9);
        assert_non_null(memchr(p, '^', strcspn(p, "\n")));
        p = strchr(p, '\n') + 1;
    }
    assert_memory_equal(p, "30 bits inserted:\n", 18);
    /* the rows joined are the whole output: 30 times 111110 */
    assert_int_equal(strlen(joined), 180);
    for (size_t i = 0; i < 180; i++) {
        assert_int_equal(joined[i], i % 6 == 5 ? '0' : '1');
    }
    assert_non_null(strstr(s, "  five 1s at input bits 145-149 -> 0 "
                              "inserted at output bit 179\n"));
    free(s);
}

/* Drop ANSI escape sequences (ESC [ ... m). */
static void strip_ansi(char *s)
{
    char *w = s;

    for (char *r = s; *r != '\0'; r++) {
        if (*r == '\033') {
            while (*r != '\0' && *r != 'm') {
                r++;
            }
            if (*r == '\0') {
                break;
            }
            continue;
        }
        *w++ = *r;
    }
    *w = '\0';
}

static void test_colour(void **state)
{
    char *plain, *col;

    (void) state;
    assert_int_equal(bs_explain_want_colour(1, NULL, "xterm"), 1);
    assert_int_equal(bs_explain_want_colour(1, "", "xterm"), 1);
    assert_int_equal(bs_explain_want_colour(1, "1", "xterm"), 0);
    assert_int_equal(bs_explain_want_colour(1, "0", NULL), 0);
    assert_int_equal(bs_explain_want_colour(0, NULL, "xterm"), 0);
    assert_int_equal(bs_explain_want_colour(1, NULL, "dumb"), 0);

    plain = explain_text(BS_RULE_HDLC, BS_DIR_UNSTUFF, "0111111010", 0);
    col = explain_text(BS_RULE_HDLC, BS_DIR_UNSTUFF, "0111111010", 1);
    assert_null(strchr(plain, '\033'));
    assert_non_null(strstr(col, "\033[1;7;31m1\033[0m"));
    /* colour adds nothing the markers do not say */
    strip_ansi(col);
    assert_string_equal(plain, col);
    free(plain);
    free(col);
}

static void test_error_caret(void **state)
{
    char in[80];
    char *s;
    const char *p;

    (void) state;
    s = explain_text(BS_RULE_HDLC, BS_DIR_UNSTUFF, "0111111010", 0);
    p = line_after(s, "input, 10 bits:");
    assert_true(line_equal(p, "      0  0111111010"));
    p = strchr(p, '\n') + 1;
    assert_true(line_equal(p, "          -----"));
    p = strchr(p, '\n') + 1;
    assert_true(line_equal(p, "               ^ flag at input bit 6"));
    assert_non_null(strstr(s, "error: flag at input bit 6: six 1s in a row"));
    assert_non_null(strstr(s, "output before the error, 6 bits:\n"
                              "      0  011111\n"));
    free(s);

    /* an error in the second row sits under that row */
    memset(in, '0', 70);
    memcpy(in + 66, "1111", 4);
    in[70] = '\0';
    s = explain_text(BS_RULE_HDLC, BS_DIR_UNSTUFF, in, 0);
    p = line_after(s, "input, 70 bits:");
    p = strchr(p, '\n') + 1;
    assert_true(line_equal(p, "     64  001111"));
    free(s);
    memcpy(in + 65, "111111", 6);
    in[71] = '\0';
    s = explain_text(BS_RULE_HDLC, BS_DIR_UNSTUFF, in, 0);
    p = line_after(s, "input, 71 bits:");
    p = strchr(p, '\n') + 1;
    assert_true(line_equal(p, "     64  0111111"));
    p = strchr(p, '\n') + 1;
    assert_true(line_equal(p, "          -----"));
    p = strchr(p, '\n') + 1;
    assert_true(line_equal(p, "               ^ flag at input bit 70"));
    free(s);

    /* truncated: the caret one past the last bit, at the end of a full
     * row */
    memset(in, '0', 64);
    memcpy(in + 59, "11111", 5);
    in[64] = '\0';
    s = explain_text(BS_RULE_HDLC, BS_DIR_UNSTUFF, in, 0);
    p = line_after(s, "input, 64 bits:");
    p = strchr(p, '\n') + 1;
    assert_int_equal(strspn(p, " "), 9 + 59);
    assert_memory_equal(p + 9 + 59, "-----\n", 6);
    p = strchr(p, '\n') + 1;
    assert_int_equal(strspn(p, " "), 9 + 64);
    assert_true(line_equal(p + 9 + 64, "^ truncated at input bit 64"));
    free(s);

    /* CAN: a sixth equal bit where the complement is due */
    s = explain_text(BS_RULE_CAN, BS_DIR_UNSTUFF, "1000000", 0);
    assert_non_null(strstr(s, "      0  1000000\n"
                              "          -----\n"
                              "               ^ stuff-bit at input bit 6\n"));
    free(s);
}

static void test_packed_and_bad_args(void **state)
{
    const uint8_t lab[] = {0x5F, 0x9F, 0x28}; /* 0101111110011111001010.. */
    struct bs_explain x;

    (void) state;
    assert_int_equal(
        bs_explain_run_packed(&x, BS_RULE_HDLC, BS_DIR_STUFF, lab, 22), 0);
    assert_memory_equal(x.out, LAB_OUT, 24);
    assert_int_equal(x.n_ev, 2);
    bs_explain_free(&x);
    bs_explain_free(&x); /* twice is harmless */

    assert_int_equal(bs_explain_run(&x, BS_RULE_COUNT, BS_DIR_STUFF, "1", 1),
                     -1);
    assert_int_equal(bs_explain_run(&x, BS_RULE_HDLC, (enum bs_dir) 7, "1", 1),
                     -1);
    assert_int_equal(bs_explain_run(&x, BS_RULE_HDLC, BS_DIR_STUFF, NULL, 3),
                     -1);
    /* a character that is not a bit is an error at its offset */
    assert_int_equal(
        bs_explain_run(&x, BS_RULE_HDLC, BS_DIR_STUFF, "0110x1", 6), 0);
    assert_int_equal(x.status, BS_ERR_CHAR);
    assert_int_equal(x.err_offset, 4);
    bs_explain_free(&x);
    /* nothing in, nothing out */
    assert_int_equal(bs_explain_run(&x, BS_RULE_HDLC, BS_DIR_STUFF, "", 0), 0);
    assert_int_equal(x.out_n, 0);
    assert_int_equal(x.n_ev, 0);
    bs_explain_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lab_example_stuff),
        cmocka_unit_test(test_lab_example_unstuff),
        cmocka_unit_test(test_can),
        cmocka_unit_test(test_usb),
        cmocka_unit_test(test_agrees_with_engine),
        cmocka_unit_test(test_long_rows),
        cmocka_unit_test(test_colour),
        cmocka_unit_test(test_error_caret),
        cmocka_unit_test(test_packed_and_bad_args),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
