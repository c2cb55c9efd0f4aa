/*
 * test_explainer.c - the client's --explain: the bits of file mode kept
 * up to the limit, the refusal of a file too long to explain, and the
 * line that says whether the server's answer agrees with the rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "explainer.h"
#include "stuff.h"

#define LAB_IN  "0101111110011111001010"
#define LAB_OUT "010111110100111110001010"

/* What --explain prints for one message; total is the reply's length as
 * received, of which the explainer kept the reply's strlen bits. */
static char *show_total(enum bs_proto_op op, const char *in, const char *reply,
                        uint64_t total, const struct bs_proto_event *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    size_t rn = reply != NULL ? strlen(reply) : 0;

    assert_non_null(f);
    assert_int_equal(bs_explainer_show(f, 0, "message 1", op, BS_RULE_HDLC, in,
                                       strlen(in), reply, rn, total, err),
                     0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static char *show(enum bs_proto_op op, const char *in, const char *reply,
                  const struct bs_proto_event *err)
{
    return show_total(op, in, reply, reply != NULL ? strlen(reply) : 0, err);
}

static void test_agrees(void **state)
{
    char *s;

    (void) state;
    s = show(BS_PROTO_STUFF, LAB_IN, LAB_OUT, NULL);
    assert_memory_equal(s, "explain message 1:\nstuff, rule hdlc:", 35);
    assert_non_null(strstr(s, "  five 1s at input bits 3-7 -> 0 inserted at "
                              "output bit 8\n"));
    assert_non_null(strstr(s, "server: agrees (the same 24 bits)\n\n"));
    free(s);
}

static void test_differs(void **state)
{
    char *s;

    (void) state;
    /* a reply with the second stuffed 0 missing */
    s = show(BS_PROTO_STUFF, LAB_IN, "01011111010011111001010", NULL);
    assert_non_null(strstr(s, "server: DIFFERS: it answered 23 bits, the "
                              "first difference at output bit 19\n"));
    free(s);
    /* an answer where the rule finds an error */
    s = show(BS_PROTO_UNSTUFF, "0111111010", "011111010", NULL);
    assert_non_null(strstr(s, "server: DIFFERS: it answered 9 bits, not an "
                              "error at bit 6\n"));
    free(s);
}

/* File mode keeps at most so many bits of a reply and counts the rest:
 * a reply that matches in what was kept but is longer in all is not
 * agreement, and the empty message agrees with an empty reply. */
static void test_counted_not_kept(void **state)
{
    char *s;

    (void) state;
    s = show_total(BS_PROTO_STUFF, LAB_IN, LAB_OUT, 25, NULL);
    assert_non_null(strstr(s, "server: DIFFERS: it answered 25 bits, the "
                              "first difference at output bit 24\n"));
    free(s);
    s = show(BS_PROTO_STUFF, "", "", NULL);
    assert_non_null(strstr(s, "server: agrees (the same 0 bits)\n"));
    free(s);
}

static void test_error_reply(void **state)
{
    struct bs_proto_event ev = {.type = BS_PROTO_EV_ERROR,
                                .code = BS_PROTO_E_FLAG,
                                .offset = 6,
                                .message = "six 1s in a row"};
    char *s;

    (void) state;
    s = show(BS_PROTO_UNSTUFF, "0111111010", NULL, &ev);
    assert_non_null(strstr(s, "               ^ flag at input bit 6\n"));
    assert_non_null(strstr(s, "server: agrees (flag at bit 6)\n"));
    free(s);
    /* the same code at another bit is not agreement */
    ev.offset = 5;
    s = show(BS_PROTO_UNSTUFF, "0111111010", NULL, &ev);
    assert_non_null(strstr(s, "server: answered flag at bit 5: six 1s"));
    free(s);
    /* a refusal that is not about the bits */
    ev.code = BS_PROTO_E_TOO_LONG;
    ev.offset = BS_PROTO_NO_OFFSET;
    ev.message = "the message is too long";
    s = show(BS_PROTO_STUFF, LAB_IN, NULL, &ev);
    assert_non_null(strstr(s, "server: answered too-long: the message is too "
                              "long (the explanation above is what the rule "
                              "gives)\n"));
    free(s);
}

/* File mode keeps a copy of the bits; past the room they are counted,
 * and a message longer than --explain shows is not explained. */
static void test_file_bits_and_limit(void **state)
{
    struct bs_explainer_bits b = {0};
    const uint8_t lab[] = {0x5F, 0x9F, 0x28};
    static uint8_t zeros[BS_EXPLAIN_MAX_BITS / 8 + 16];
    char why[256];
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    (void) state;
    assert_int_equal(bs_explainer_add(&b, lab, 22), 0);
    assert_int_equal(b.n, 22);
    assert_memory_equal(b.text, LAB_IN, 22);
    bs_explainer_reset(&b);
    assert_null(b.text);

    assert_int_equal(bs_explainer_add(&b, zeros, sizeof(zeros) * 8), 0);
    assert_int_equal(b.total, sizeof(zeros) * 8);
    assert_true(b.n <= bs_max_stuffed_any(BS_EXPLAIN_MAX_BITS));
    f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(bs_explainer_show(f, 0, "in.bin", BS_PROTO_STUFF,
                                       BS_RULE_HDLC, b.text, b.total, NULL, 0,
                                       0, NULL),
                     0);
    fclose(f);
    assert_string_equal(buf, "explain in.bin:\nnot explained: 65664 bits is "
                             "more than --explain shows (65536 bits)\n\n");
    free(buf);
    bs_explainer_reset(&b);

    assert_int_equal(
        bs_explainer_too_long(BS_EXPLAIN_MAX_BITS, why, sizeof(why)), 0);
    assert_int_equal(
        bs_explainer_too_long(BS_EXPLAIN_MAX_BITS + 1, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "at most 65536 bits (8192 bytes), and this "
                                "input holds 65537"));
    assert_non_null(strstr(why, "--in-bits 65536"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agrees),
        cmocka_unit_test(test_differs),
        cmocka_unit_test(test_counted_not_kept),
        cmocka_unit_test(test_error_reply),
        cmocka_unit_test(test_file_bits_and_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
