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

/* One event an explanation must hold: the first input bit of its run, the
 * stuffed bit's place in the input and the output, whether the previous
 * event's stuffed bit leads the run, and the event in words (NULL: the
 * words are not checked). */
struct ev_want {
    uint64_t run_in_first, in_bit, out_bit;
    uint8_t led_by_stuffed;
    const char *text;
};

/* A message and the output of its explanation, with an event for every
 * bit of difference in length. */
struct explain_case {
    struct {
        enum bs_rule rule;
        enum bs_dir dir;
        const char *in, *out;
    } msg;
    struct ev_want ev[2];
};

static const struct explain_case cases[] = {
    /* stuffing: the lab's example */
    {{BS_RULE_HDLC, BS_DIR_STUFF, LAB_IN, LAB_OUT},
     {{3, 7, 8, 0, "five 1s at input bits 3-7 -> 0 inserted at output bit 8"},
      {11, 15, 17, 0,
       "five 1s at input bits 11-15 -> 0 inserted at output bit 17"}}},
    /* CAN: five equal bits, the complement inserted, and the inserted bit
     * starting the next run; the wording comes from the rule table */
    {{BS_RULE_CAN, BS_DIR_STUFF, "0000011111111", "000001111101111"},
     {{0, 4, 5, 0, "five 0s at input bits 0-4 -> 1 inserted at output bit 5"},
      {5, 8, 10, 1,
       "five 1s: the stuffed 1 at output bit 5 and input bits 5-8 -> 0 "
       "inserted at output bit 10"}}},
    /* USB: six 1s; five are nothing */
    {{BS_RULE_USB, BS_DIR_STUFF, "01111111", "011111101"},
     {{1, 6, 7, 0, "six 1s at input bits 1-6 -> 0 inserted at output bit 7"}}},
    {{BS_RULE_USB, BS_DIR_STUFF, "111110", "111110"}, {{0}}},
    /* nothing in, nothing out */
    {{BS_RULE_HDLC, BS_DIR_STUFF, "", ""}, {{0}}},
    /* unstuffing: the lab's example and CAN back */
    {{BS_RULE_HDLC, BS_DIR_UNSTUFF, LAB_OUT, LAB_IN},
     {{3, 8, 8, 0, NULL},
      {12, 17, 16, 0,
       "five 1s at input bits 12-16 -> stuffed 0 at input bit 17 removed "
       "(output continues at bit 16)"}}},
    {{BS_RULE_CAN, BS_DIR_UNSTUFF, "000001111101111", "0000011111111"},
     {{0, 5, 5, 0, NULL},
      {5, 10, 9, 1,
       "five 1s at input bits 5-9 (the first is itself a stuffed bit) -> "
       "stuffed 0 at input bit 10 removed (output continues at bit 9)"}}},
};

/* Every case's output and events, in numbers and in words. */
static void test_events(void **state)
{
    char line[BS_EXPLAIN_LINE_MAX];

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct explain_case *c = &cases[i];
        size_t in_n = strlen(c->msg.in), out_n = strlen(c->msg.out);
        struct bs_explain x;

        assert_int_equal(
            bs_explain_run(&x, c->msg.rule, c->msg.dir, c->msg.in, in_n), 0);
        assert_int_equal(x.status, BS_OK);
        assert_int_equal(x.out_n, out_n);
        assert_memory_equal(x.out, c->msg.out, out_n);
        assert_int_equal(x.n_ev, c->msg.dir == BS_DIR_STUFF ? out_n - in_n
                                                            : in_n - out_n);
        for (size_t e = 0; e < x.n_ev; e++) {
            const struct ev_want *w = &c->ev[e];

            assert_int_equal(x.ev[e].run_in_first, w->run_in_first);
            assert_int_equal(x.ev[e].in_bit, w->in_bit);
            assert_int_equal(x.ev[e].out_bit, w->out_bit);
            assert_int_equal(x.ev[e].led_by_stuffed, w->led_by_stuffed);
            if (w->text != NULL) {
                assert_string_equal(
                    bs_explain_describe(&x, e, line, sizeof(line)), w->text);
            }
        }
        bs_explain_free(&x);
    }
}

/* The lab's example rendered both ways: the rule, each row with the
 * markers under it, and the events. */
static void test_lab_example(void **state)
{
    char *s;

    (void) state;
    s = explain_text(BS_RULE_HDLC, BS_DIR_STUFF, LAB_IN, 0);
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

    s = explain_text(BS_RULE_HDLC, BS_DIR_UNSTUFF, LAB_OUT, 0);
    assert_true(line_equal(line_after(line_after(s, "input, 24 bits:"), ""),
                           "            -----^   =====^"));
    assert_non_null(strstr(s, "output, 22 bits (2 removed):\n"));
    assert_non_null(strstr(s, "2 bits removed:\n"));
    free(s);
}

/* CAN rendered: the rule from the table, and the inserted bit marked as
 * the start of the next run. */
static void test_can(void **state)
{
    char *s;

    (void) state;
    s = explain_text(BS_RULE_CAN, BS_DIR_STUFF, "0000011111111", 0);
    assert_non_null(strstr(s, "can: after five equal bits, their complement "
                              "is inserted"));
    assert_true(line_equal(line_after(line_after(s, "output, 15 bits"), ""),
                           "         -----^====^"));
    free(s);
}

static void test_usb(void **state)
{
    char line[BS_EXPLAIN_LINE_MAX];

    (void) state;
    assert_string_equal(
        bs_explain_rule_text(BS_RULE_USB, BS_DIR_STUFF, line, sizeof(line)),
        "usb: after six 1s, a 0 is inserted");
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

/* The lines of text after the line starting with prefix, skip lines on,
 * begin with the lines of want. */
static void expect_lines(const char *text, const char *prefix, int skip,
                         const char *want)
{
    const char *p = line_after(text, prefix);

    for (int i = 0; i < skip; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    if (strncmp(p, want, strlen(want)) != 0) {
        fail_msg("after \"%s\", %d lines on:\n%s\nnot:\n%s", prefix, skip, p,
                 want);
    }
}

/* The explanation of unstuffing n bits under HDLC: 0s but for the bits of
 * run at offset at. */
static char *explain_zeros_but(size_t n, size_t at, const char *run)
{
    char in[80];

    assert_true(n < sizeof(in) && at + strlen(run) <= n);
    memset(in, '0', n);
    memcpy(in + at, run, strlen(run));
    in[n] = '\0';
    return explain_text(BS_RULE_HDLC, BS_DIR_UNSTUFF, in, 0);
}

static void test_error_caret(void **state)
{
    char *s;
    const char *p;

    (void) state;
    s = explain_text(BS_RULE_HDLC, BS_DIR_UNSTUFF, "0111111010", 0);
    expect_lines(s, "input, 10 bits:", 0,
                 "      0  0111111010\n"
                 "          -----\n"
                 "               ^ flag at input bit 6\n");
    assert_non_null(strstr(s, "error: flag at input bit 6: six 1s in a row"));
    assert_non_null(strstr(s, "output before the error, 6 bits:\n"
                              "      0  011111\n"));
    free(s);

    /* an error in the second row sits under that row */
    s = explain_zeros_but(70, 66, "1111");
    expect_lines(s, "input, 70 bits:", 1, "     64  001111\n");
    free(s);
    s = explain_zeros_but(71, 65, "111111");
    expect_lines(s, "input, 71 bits:", 1,
                 "     64  0111111\n"
                 "          -----\n"
                 "               ^ flag at input bit 70\n");
    free(s);

    /* truncated: the caret one past the last bit, at the end of a full
     * row */
    s = explain_zeros_but(64, 59, "11111");
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_lab_example),
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
