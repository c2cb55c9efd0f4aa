/*
 * test_stuff.c - the stuffing module: vectors, every error with its
 * offset, and properties over seeded random inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stuff.h"
#include "test_rng.h"

/* text "0101" -> packed bytes; returns the bit count */
static size_t pack(const char *text, size_t n, uint8_t *out)
{
    memset(out, 0, bs_bytes_for_bits(n));
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '1') {
            out[i / 8] |= (uint8_t) (0x80u >> (i % 8));
        }
    }
    return n;
}

static void unpack(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (in[i / 8] >> (7 - i % 8)) & 1 ? '1' : '0';
    }
    out[n] = '\0';
}

/*
 * An oracle written differently from the library, for the rules that
 * count 1s only: scan the input for non-overlapping runs of `run` 1s,
 * left to right, and write a 0 after each.  (For HDLC this is
 * re.sub("11111", "111110", x).)
 */
static size_t oracle_stuff_ones(const char *in, size_t n, unsigned run,
                                char *out)
{
    size_t o = 0, i = 0;
    static const char ones[] = "111111";

    while (i < n) {
        if (n - i >= run && memcmp(in + i, ones, run) == 0) {
            memcpy(out + o, ones, run);
            o += run;
            out[o++] = '0';
            i += run;
        } else {
            out[o++] = in[i++];
        }
    }
    return o;
}

/* Stuff or unstuff text in one shot, checking the packed form agrees;
 * returns the status and fills out (NUL-terminated) and *offset. */
static bs_status run_both(enum bs_rule rule, enum bs_dir dir, const char *in,
                          char *out, uint64_t *offset)
{
    size_t n = strlen(in);
    size_t cap = bs_max_stuffed_bits(rule, n);
    char *tout = malloc(cap + 1);
    uint8_t *pin = malloc(bs_bytes_for_bits(n) + 1);
    uint8_t *pout = malloc(bs_bytes_for_bits(cap) + 1);
    size_t tn = 0, pn = 0;
    uint64_t toff = 0, poff = 0;
    bs_status trc, prc;

    assert_non_null(tout);
    assert_non_null(pin);
    assert_non_null(pout);
    pack(in, n, pin);
    if (dir == BS_DIR_STUFF) {
        trc = bs_stuff_text(rule, in, n, tout, cap, &tn, &toff);
        prc = bs_stuff(rule, pin, n, pout, bs_bytes_for_bits(cap), &pn, &poff);
    } else {
        trc = bs_unstuff_text(rule, in, n, tout, cap, &tn, &toff);
        prc =
            bs_unstuff(rule, pin, n, pout, bs_bytes_for_bits(cap), &pn, &poff);
    }
    assert_int_equal(trc, prc);
    assert_int_equal(tn, pn);
    if (trc != BS_OK) {
        assert_int_equal(toff, poff);
    }
    unpack(pout, pn, out);
    tout[tn] = '\0';
    assert_string_equal(tout, out);
    /* the packed output's padding bits are zero */
    if (pn % 8 != 0) {
        assert_int_equal(pout[pn / 8] & (0xffu >> (pn % 8)), 0);
    }
    *offset = trc != BS_OK ? toff : 0;
    free(tout);
    free(pin);
    free(pout);
    return trc;
}

struct vector {
    enum bs_rule rule;
    const char *in;
    const char *stuffed;
};

static const struct vector vectors[] = {
    /* the lab's example */
    {BS_RULE_HDLC, "0101111110011111001010", "010111110100111110001010"},
    {BS_RULE_HDLC, "", ""},
    {BS_RULE_HDLC, "0", "0"},
    {BS_RULE_HDLC, "1", "1"},
    {BS_RULE_HDLC, "1111", "1111"},
    {BS_RULE_HDLC, "11111", "111110"},
    {BS_RULE_HDLC, "111111", "1111101"},
    {BS_RULE_HDLC, "1111111111", "111110111110"},
    {BS_RULE_HDLC, "01111110", "011111010"},
    {BS_RULE_HDLC, "0000000000000000", "0000000000000000"},
    {BS_RULE_HDLC, "11111011111", "1111100111110"},
    {BS_RULE_USB, "111111", "1111110"},
    {BS_RULE_USB, "11111", "11111"},
    {BS_RULE_USB, "1111111", "11111101"},
    {BS_RULE_CAN, "0000011111", "000001111101"},
    {BS_RULE_CAN, "00000000", "000001000"},
    {BS_RULE_CAN, "11111", "111110"},
    {BS_RULE_CAN, "0000", "0000"},
    {BS_RULE_CAN, "010101", "010101"},
};

static void test_vectors(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const struct vector *v = &vectors[i];
        char out[64], back[64];
        uint64_t off;

        assert_int_equal(run_both(v->rule, BS_DIR_STUFF, v->in, out, &off),
                         BS_OK);
        assert_string_equal(out, v->stuffed);
        assert_int_equal(
            run_both(v->rule, BS_DIR_UNSTUFF, v->stuffed, back, &off), BS_OK);
        assert_string_equal(back, v->in);
    }
}

static void test_all_ones_and_zeros(void **state)
{
    static const enum bs_rule rules[] = {BS_RULE_HDLC, BS_RULE_USB};
    char in[1001], out[1300], back[1300];
    uint64_t off;

    (void) state;
    for (size_t r = 0; r < 2; r++) {
        unsigned run = rules[r] == BS_RULE_USB ? 6 : 5;
        for (size_t n = 0; n <= 1000; n += (n < 40 ? 1 : 37)) {
            memset(in, '1', n);
            in[n] = '\0';
            assert_int_equal(run_both(rules[r], BS_DIR_STUFF, in, out, &off),
                             BS_OK);
            /* all 1s is the worst case: the bound is exact */
            assert_int_equal(strlen(out), n + n / run);
            assert_int_equal(strlen(out), bs_max_stuffed_bits(rules[r], n));
            for (size_t i = 0; i < strlen(out); i++) {
                assert_int_equal(out[i], (i + 1) % (run + 1) == 0 ? '0' : '1');
            }
            assert_int_equal(
                run_both(rules[r], BS_DIR_UNSTUFF, out, back, &off), BS_OK);
            assert_string_equal(back, in);

            memset(in, '0', n);
            assert_int_equal(run_both(rules[r], BS_DIR_STUFF, in, out, &off),
                             BS_OK);
            assert_string_equal(out, in);
        }
    }
}

static void test_can_worst_case(void **state)
{
    char in[200], out[300];
    uint64_t off;

    (void) state;
    /* 00000 1111 0000 1111 ...: each stuffed bit starts the next run */
    for (size_t n = 0; n < 160; n++) {
        for (size_t i = 0; i < n; i++) {
            in[i] = i < 5 ? '0' : ((i - 5) / 4 % 2 == 0 ? '1' : '0');
        }
        in[n] = '\0';
        assert_int_equal(run_both(BS_RULE_CAN, BS_DIR_STUFF, in, out, &off),
                         BS_OK);
        assert_int_equal(strlen(out), bs_max_stuffed_bits(BS_RULE_CAN, n));
    }
}

struct bad {
    enum bs_rule rule;
    const char *in;
    bs_status err;
    uint64_t offset;
};

static const struct bad bads[] = {
    {BS_RULE_HDLC, "111111", BS_ERR_FLAG, 5},
    {BS_RULE_HDLC, "0111111", BS_ERR_FLAG, 6},
    {BS_RULE_HDLC, "01111110", BS_ERR_FLAG, 6},
    {BS_RULE_HDLC, "1111111", BS_ERR_ABORT, 5},
    {BS_RULE_HDLC, "111111111111", BS_ERR_ABORT, 5},
    {BS_RULE_HDLC, "11111", BS_ERR_TRUNCATED, 5},
    {BS_RULE_HDLC, "0011111", BS_ERR_TRUNCATED, 7},
    {BS_RULE_HDLC, "11111011111", BS_ERR_TRUNCATED, 11},
    {BS_RULE_HDLC, "111110111111", BS_ERR_FLAG, 11},
    {BS_RULE_HDLC, "1111101111111", BS_ERR_ABORT, 11},
    {BS_RULE_HDLC, "010x", BS_ERR_CHAR, 3},
    {BS_RULE_HDLC, " 0", BS_ERR_CHAR, 0},
    {BS_RULE_HDLC, "1111102", BS_ERR_CHAR, 6},
    {BS_RULE_USB, "1111111", BS_ERR_STUFF_BIT, 6},
    {BS_RULE_USB, "111111", BS_ERR_TRUNCATED, 6},
    {BS_RULE_CAN, "000000", BS_ERR_STUFF_BIT, 5},
    {BS_RULE_CAN, "111111", BS_ERR_STUFF_BIT, 5},
    {BS_RULE_CAN, "00000", BS_ERR_TRUNCATED, 5},
    {BS_RULE_CAN, "0000011111", BS_ERR_TRUNCATED, 10},
    {BS_RULE_CAN, "00000111111", BS_ERR_STUFF_BIT, 10},
    {BS_RULE_CAN, "000001111100000", BS_ERR_TRUNCATED, 15},
};

static void test_unstuff_errors(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        const struct bad *b = &bads[i];
        char out[64];
        uint64_t off = 99;
        size_t n = strlen(b->in), on = 0;
        bs_status rc;

        if (b->err == BS_ERR_CHAR) {
            rc =
                bs_unstuff_text(b->rule, b->in, n, out, sizeof(out), &on, &off);
        } else {
            rc = run_both(b->rule, BS_DIR_UNSTUFF, b->in, out, &off);
        }
        if (rc != b->err || off != b->offset) {
            print_error("case %zu (%s): got %s at %llu\n", i, b->in,
                        bs_status_name(rc), (unsigned long long) off);
        }
        assert_int_equal(rc, b->err);
        assert_int_equal(off, b->offset);
    }
}

static void test_stuff_text_bad_char(void **state)
{
    char out[64];
    size_t on = 0;
    uint64_t off = 0;

    (void) state;
    assert_int_equal(
        bs_stuff_text(BS_RULE_HDLC, "0111112", 7, out, sizeof(out), &on, &off),
        BS_ERR_CHAR);
    assert_int_equal(off, 6);
    /* what came before the bad character is handed back */
    assert_int_equal(on, 7);
    assert_memory_equal(out, "0111110", 7);
}

static void test_error_output_before_bad_bit(void **state)
{
    uint8_t in[2], out[4];
    size_t on = 0;
    uint64_t off = 0;

    (void) state;
    /* 0100 11111 1: nine good bits, then a 1 where a 0 is due */
    pack("0100111111", 10, in);
    assert_int_equal(
        bs_unstuff(BS_RULE_HDLC, in, 10, out, sizeof(out), &on, &off),
        BS_ERR_FLAG);
    assert_int_equal(off, 9);
    assert_int_equal(on, 9);
    assert_int_equal(out[0], 0x4f);
    assert_int_equal(out[1], 0x80);
}

/* Six 1s split across chunks: flag or abort decided by the next chunk. */
static void test_stream_flag_abort_across_chunks(void **state)
{
    struct bs_stream st;
    char out[16];
    size_t on;

    (void) state;
    assert_int_equal(bs_stream_init(&st, BS_RULE_HDLC, BS_DIR_UNSTUFF), BS_OK);
    assert_int_equal(
        bs_stream_update_text(&st, "111111", 6, out, sizeof(out), &on), BS_OK);
    assert_int_equal(bs_stream_update_text(&st, "1", 1, out, sizeof(out), &on),
                     BS_ERR_ABORT);
    assert_int_equal(bs_stream_error_offset(&st), 5);
    /* sticky */
    assert_int_equal(bs_stream_update_text(&st, "0", 1, out, sizeof(out), &on),
                     BS_ERR_ABORT);
    assert_int_equal(bs_stream_finish_text(&st, NULL), BS_ERR_ABORT);

    assert_int_equal(bs_stream_init(&st, BS_RULE_HDLC, BS_DIR_UNSTUFF), BS_OK);
    assert_int_equal(
        bs_stream_update_text(&st, "111111", 6, out, sizeof(out), &on), BS_OK);
    assert_int_equal(bs_stream_finish_text(&st, NULL), BS_ERR_FLAG);
    assert_int_equal(bs_stream_error_offset(&st), 5);
}

static void test_arguments(void **state)
{
    struct bs_stream st;
    uint8_t out[8];
    char tout[8];
    size_t on = 0;
    uint64_t bits = 0;

    (void) state;
    assert_int_equal(bs_stream_init(&st, (enum bs_rule) 7, BS_DIR_STUFF),
                     BS_ERR_ARG);
    assert_int_equal(bs_stream_init(&st, BS_RULE_HDLC, (enum bs_dir) 2),
                     BS_ERR_ARG);
    assert_int_equal(bs_stream_init(NULL, BS_RULE_HDLC, BS_DIR_STUFF),
                     BS_ERR_ARG);
    assert_int_equal(
        bs_stuff(BS_RULE_HDLC, NULL, 3, out, sizeof(out), &on, NULL),
        BS_ERR_ARG);
    assert_int_equal(
        bs_stuff(BS_RULE_HDLC, out, 3, out, sizeof(out), NULL, NULL),
        BS_ERR_ARG);
    assert_int_equal(bs_stuff((enum bs_rule) BS_RULE_COUNT, out, 3, out,
                              sizeof(out), &on, NULL),
                     BS_ERR_ARG);
    /* empty input needs no buffer at all */
    assert_int_equal(bs_stuff(BS_RULE_HDLC, NULL, 0, NULL, 0, &on, NULL),
                     BS_OK);
    assert_int_equal(on, 0);
    assert_int_equal(bs_unstuff_text(BS_RULE_CAN, NULL, 0, NULL, 0, &on, NULL),
                     BS_OK);

    /* a stream is packed or text, not both */
    assert_int_equal(bs_stream_init(&st, BS_RULE_HDLC, BS_DIR_STUFF), BS_OK);
    assert_int_equal(
        bs_stream_update_text(&st, "1", 1, tout, sizeof(tout), &on), BS_OK);
    assert_int_equal(bs_stream_update(&st, out, 1, out, sizeof(out), &on),
                     BS_ERR_ARG);
    assert_int_equal(bs_stream_finish(&st, out, sizeof(out), &on, &bits),
                     BS_ERR_ARG);
    assert_int_equal(bs_stream_finish_text(&st, &bits), BS_OK);
    assert_int_equal(bits, 1);
}

static void test_nospace(void **state)
{
    uint8_t in[2] = {0xff, 0xff}, out[3] = {0xaa, 0xaa, 0xaa};
    char tout[20];
    size_t on = 5;
    struct bs_stream st;

    (void) state;
    /* 16 bits stuff to at most 19: three bytes; two are refused */
    assert_int_equal(bs_stuff(BS_RULE_HDLC, in, 16, out, 2, &on, NULL),
                     BS_ERR_NOSPACE);
    assert_int_equal(on, 0);
    assert_int_equal(out[0], 0xaa);
    assert_int_equal(bs_stuff(BS_RULE_HDLC, in, 16, out, 3, &on, NULL), BS_OK);
    assert_int_equal(on, 19);
    /* the bound is decided before work, even if the output would fit */
    assert_int_equal(
        bs_stuff_text(BS_RULE_HDLC, "00000", 5, tout, 6, &on, NULL), BS_OK);
    assert_int_equal(
        bs_stuff_text(BS_RULE_HDLC, "00000", 5, tout, 5, &on, NULL),
        BS_ERR_NOSPACE);
    /* a stream with a run carried over needs room for an early insert */
    assert_int_equal(bs_stream_init(&st, BS_RULE_HDLC, BS_DIR_STUFF), BS_OK);
    assert_int_equal(bs_stream_update_text(&st, "1111", 4, tout, 4, &on),
                     BS_OK);
    assert_int_equal(bs_stream_out_max_text(&st, 1), 2);
    assert_int_equal(bs_stream_update_text(&st, "1", 1, tout, 1, &on),
                     BS_ERR_NOSPACE);
    assert_int_equal(bs_stream_update_text(&st, "1", 1, tout, 2, &on), BS_OK);
    assert_int_equal(on, 2);
    assert_memory_equal(tout, "10", 2);
}

static void test_bounds(void **state)
{
    (void) state;
    assert_int_equal(bs_max_stuffed_bits(BS_RULE_HDLC, 0), 0);
    assert_int_equal(bs_max_stuffed_bits(BS_RULE_HDLC, 4), 4);
    assert_int_equal(bs_max_stuffed_bits(BS_RULE_HDLC, 5), 6);
    assert_int_equal(bs_max_stuffed_bits(BS_RULE_HDLC, 22), 26);
    assert_int_equal(bs_max_stuffed_bits(BS_RULE_USB, 6), 7);
    assert_int_equal(bs_max_stuffed_bits(BS_RULE_USB, 11), 12);
    assert_int_equal(bs_max_stuffed_bits(BS_RULE_CAN, 1), 1);
    assert_int_equal(bs_max_stuffed_bits(BS_RULE_CAN, 5), 6);
    assert_int_equal(bs_max_stuffed_bits(BS_RULE_CAN, 8), 9);
    assert_int_equal(bs_max_stuffed_bits(BS_RULE_CAN, 9), 11);
    assert_true(bs_max_stuffed_bits(BS_RULE_HDLC, SIZE_MAX) == SIZE_MAX);
    assert_true(bs_max_stuffed_bits(BS_RULE_CAN, SIZE_MAX - 5) == SIZE_MAX);
    assert_true(bs_max_stuffed_bits((enum bs_rule) 9, 1) == SIZE_MAX);
    assert_int_equal(bs_bytes_for_bits(0), 0);
    assert_int_equal(bs_bytes_for_bits(9), 2);
    assert_true(bs_bytes_for_bits(SIZE_MAX) == SIZE_MAX / 8 + 1);
}

static void test_names(void **state)
{
    enum bs_rule r = BS_RULE_HDLC;

    (void) state;
    for (int i = 0; i < BS_STATUS_COUNT; i++) {
        assert_true(strlen(bs_status_name((bs_status) i)) > 1);
        assert_true(strlen(bs_strerror((bs_status) i)) > 5);
    }
    assert_string_equal(bs_status_name(BS_ERR_FLAG), "flag");
    assert_string_equal(bs_status_name((bs_status) 99), "unknown");
    assert_int_equal(bs_rule_parse("USB", 3, &r), 0);
    assert_int_equal(r, BS_RULE_USB);
    assert_int_equal(bs_rule_parse("hdlc", 4, &r), 0);
    assert_int_equal(r, BS_RULE_HDLC);
    assert_int_equal(bs_rule_parse("canx", 3, &r), 0);
    assert_int_equal(r, BS_RULE_CAN);
    assert_int_equal(bs_rule_parse("hdl", 3, &r), -1);
    assert_int_equal(bs_rule_parse("usbx", 4, &r), -1);
    assert_null(bs_rule_name((enum bs_rule) 5));
}

/* The rule table as the public API shows it: every rule named, parsed
 * back, and its codes pinned (they are on the wire and in files). */
static void test_rule_table(void **state)
{
    enum bs_rule r;
    char upper[16];

    (void) state;
    assert_int_equal(BS_RULE_COUNT, 3);
    assert_string_equal(bs_rule_name(BS_RULE_HDLC), "hdlc");
    assert_string_equal(bs_rule_name(BS_RULE_USB), "usb");
    assert_string_equal(bs_rule_name(BS_RULE_CAN), "can");
    assert_int_equal(BS_RULE_HDLC, 0);
    assert_int_equal(BS_RULE_USB, 1);
    assert_int_equal(BS_RULE_CAN, 2);
    for (int i = 0; i < BS_RULE_COUNT; i++) {
        const char *name = bs_rule_name((enum bs_rule) i);
        size_t len;

        assert_non_null(name);
        len = strlen(name);
        assert_true(len >= 1 && len <= BS_RULE_NAME_MAX);
        for (size_t k = 0; k <= len; k++) {
            upper[k] =
                (char) (name[k] >= 'a' && name[k] <= 'z' ? name[k] - 'a' + 'A'
                                                         : name[k]);
        }
        r = (enum bs_rule) - 1;
        assert_int_equal(bs_rule_parse(name, len, &r), 0);
        assert_int_equal(r, i);
        r = (enum bs_rule) - 1;
        assert_int_equal(bs_rule_parse(upper, len, &r), 0);
        assert_int_equal(r, i);
    }
    assert_null(bs_rule_name(BS_RULE_COUNT));
    assert_int_equal(bs_rule_parse("", 0, &r), -1);
}

/* The worst case derived from the table is exact: for every rule and
 * every input of up to 12 bits, the longest stuffing is exactly
 * bs_max_stuffed_bits, and no rule exceeds bs_max_stuffed_any. */
static void test_worst_case_exhaustive(void **state)
{
    (void) state;
    for (int rule = 0; rule < BS_RULE_COUNT; rule++) {
        for (size_t n = 0; n <= 12; n++) {
            size_t longest = 0;

            for (uint32_t v = 0; v < (1u << n); v++) {
                uint32_t w = v << (16 - n); /* first bit at the top */
                uint8_t in[2] = {(uint8_t) (w >> 8), (uint8_t) w};
                uint8_t out[4];
                size_t on = 0;

                assert_int_equal(bs_stuff((enum bs_rule) rule, in, n, out,
                                          sizeof(out), &on, NULL),
                                 BS_OK);
                longest = on > longest ? on : longest;
            }
            assert_int_equal(longest,
                             bs_max_stuffed_bits((enum bs_rule) rule, n));
            assert_true(longest <= bs_max_stuffed_any(n));
        }
    }
}

/* Sizing for any rule: today the widest rule is CAN, 5 out per 4 in, and
 * the server's buffers were sized with exactly that; pin it so the table
 * cannot change them unnoticed, and check the two functions agree. */
static void test_max_any(void **state)
{
    (void) state;
    for (size_t n = 0; n < 20000; n++) {
        assert_int_equal(bs_max_stuffed_any(n), n + n / 4);
        assert_int_equal(bs_max_input_any(n), n / 5 * 4);
        assert_true(bs_max_stuffed_any(bs_max_input_any(n)) <= n);
        for (int rule = 0; rule < BS_RULE_COUNT; rule++) {
            assert_true(bs_max_stuffed_bits((enum bs_rule) rule, n) <=
                        bs_max_stuffed_any(n));
        }
    }
    assert_true(bs_max_stuffed_any(16384) == 20480);
    assert_true(bs_max_stuffed_any(SIZE_MAX) == SIZE_MAX);
    assert_true(bs_max_stuffed_any(SIZE_MAX / 5 * 4) == SIZE_MAX / 5 * 5);
    assert_true(bs_max_input_any(SIZE_MAX) == SIZE_MAX / 5 * 4);
}

/* A random bit string: uniform, or biased to 1s so runs are common. */
static void random_bits(uint64_t *s, char *buf, size_t n)
{
    unsigned bias = (unsigned) rng_below(s, 4);
    for (size_t i = 0; i < n; i++) {
        unsigned x = (unsigned) rng_below(s, 16);
        buf[i] = (bias == 0 ? x < 8 : x < 12 + bias) ? '1' : '0';
    }
    buf[n] = '\0';
}

/* The longest run of c (or of identical bits, when c is 0). */
static size_t longest_run(const char *s, char c)
{
    size_t best = 0, cur = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        int same = c ? s[i] == c : (i > 0 && s[i] == s[i - 1]);
        cur = same ? (c ? cur + 1 : cur + 1) : (c ? 0 : 1);
        if (c == 0 && i == 0) {
            cur = 1;
        }
        best = cur > best ? cur : best;
    }
    return best;
}

enum { MAXN = 3000 };

/* How a random property test makes its cases, {seed, count, few,
 * short_max, max}: count cases, the rules in turn, each with n random bits
 * (random_bits) drawn from seed, n below short_max in the first few cases
 * and below max (at most MAXN) after. */
struct random_cases {
    uint64_t seed;
    int count, few;
    size_t short_max, max;
};

/* One case: its number, its rule and its bits; and the generator, for a
 * property that draws more from it. */
struct random_case {
    int iter;
    enum bs_rule rule;
    const char *in;
    size_t n;
    uint64_t *seed;
};

/* Check property on every case that spec makes; arg is the property's. */
static void check_random_cases(struct random_cases spec,
                               void (*property)(const struct random_case *k,
                                                void *arg),
                               void *arg)
{
    static char in[MAXN + 1];

    for (int iter = 0; iter < spec.count; iter++) {
        struct random_case k = {.iter = iter,
                                .rule = (enum bs_rule)(iter % BS_RULE_COUNT),
                                .in = in,
                                .seed = &spec.seed};

        k.n =
            rng_below(&spec.seed, iter < spec.few ? spec.short_max : spec.max);
        random_bits(&spec.seed, in, k.n);
        property(&k, arg);
    }
}

/* Stuffing stays within its bound, leaves no run the rule forbids, agrees
 * with the oracle (HDLC, USB), and unstuffing gives the input back. */
static void stuff_round_trip(const struct random_case *k, void *arg)
{
    static char out[MAXN * 2], back[MAXN * 2], ora[MAXN * 2];
    uint64_t off;

    (void) arg;
    assert_int_equal(run_both(k->rule, BS_DIR_STUFF, k->in, out, &off), BS_OK);
    assert_true(strlen(out) <= bs_max_stuffed_bits(k->rule, k->n));
    if (k->rule == BS_RULE_HDLC) {
        assert_true(longest_run(out, '1') <= 5);
    } else if (k->rule == BS_RULE_USB) {
        assert_true(longest_run(out, '1') <= 6);
    } else {
        assert_true(longest_run(out, 0) <= 5);
    }
    if (k->rule != BS_RULE_CAN) {
        size_t on =
            oracle_stuff_ones(k->in, k->n, k->rule == BS_RULE_USB ? 6 : 5, ora);
        ora[on] = '\0';
        assert_string_equal(out, ora);
    }
    assert_int_equal(run_both(k->rule, BS_DIR_UNSTUFF, out, back, &off), BS_OK);
    assert_string_equal(back, k->in);
}

static void test_random_properties(void **state)
{
    (void) state;
    /* 3000 cases: the first 300 below 40 bits, the rest below MAXN */
    check_random_cases(
        (struct random_cases){0x5eed1234abcdULL, 3000, 300, 40, MAXN},
        stuff_round_trip, NULL);
}

struct outcomes {
    int accepted, rejected;
};

/* Strictness: whenever unstuff accepts y, y is exactly stuff(unstuff(y));
 * else it names the error and an offset within y.  Counts both in arg. */
static void unstuff_strict(const struct random_case *k, void *arg)
{
    static char out[MAXN * 2], again[MAXN * 2];
    struct outcomes *seen = arg;
    uint64_t off = 0;
    bs_status rc = run_both(k->rule, BS_DIR_UNSTUFF, k->in, out, &off);

    if (rc == BS_OK) {
        seen->accepted++;
        assert_int_equal(run_both(k->rule, BS_DIR_STUFF, out, again, &off),
                         BS_OK);
        assert_string_equal(again, k->in);
    } else {
        seen->rejected++;
        assert_true(rc == BS_ERR_FLAG || rc == BS_ERR_ABORT ||
                    rc == BS_ERR_STUFF_BIT || rc == BS_ERR_TRUNCATED);
        assert_true(off <= k->n);
    }
}

static void test_random_strict_unstuff(void **state)
{
    struct outcomes seen = {0, 0};

    (void) state;
    /* 4000 cases: the first 2000 below 24 bits, the rest below 400 */
    check_random_cases((struct random_cases){0xfeedULL, 4000, 2000, 24, 400},
                       unstuff_strict, &seen);
    /* the generator must exercise both outcomes */
    assert_true(seen.accepted > 500);
    assert_true(seen.rejected > 500);
}

/* A random chunk length, mostly short, at most max and at most left. */
static size_t chunk_len(uint64_t *seed, uint64_t max, size_t left)
{
    size_t k = 1 + rng_below(seed, 1 + rng_below(seed, max));

    return k > left ? left : k;
}

/* Feed text through a stream in random chunks; returns the status. */
static bs_status stream_text(uint64_t *seed, enum bs_rule rule, enum bs_dir dir,
                             const char *in, char *out, uint64_t *offset)
{
    struct bs_stream st;
    size_t n = strlen(in), pos = 0, o = 0;
    bs_status rc = BS_OK;
    uint64_t total = 0;

    assert_int_equal(bs_stream_init(&st, rule, dir), BS_OK);
    while (pos < n && rc == BS_OK) {
        size_t k = chunk_len(seed, 70, n - pos), on = 0;
        assert_true(bs_stream_out_max_text(&st, k) <= 2 * k + 1);
        rc = bs_stream_update_text(&st, in + pos, k, out + o,
                                   bs_stream_out_max_text(&st, k), &on);
        o += on;
        pos += k;
    }
    if (rc == BS_OK) {
        rc = bs_stream_finish_text(&st, &total);
        if (rc == BS_OK) {
            assert_int_equal(total, o);
        }
    }
    out[o] = '\0';
    *offset = bs_stream_error_offset(&st);
    return rc;
}

static bs_status stream_packed(uint64_t *seed, enum bs_rule rule,
                               enum bs_dir dir, const char *in, char *out,
                               uint64_t *offset)
{
    struct bs_stream st;
    size_t n = strlen(in), pos = 0, o = 0;
    uint8_t chunk[16], res[MAXN];
    bs_status rc = BS_OK;
    uint64_t total = 0;

    assert_int_equal(bs_stream_init(&st, rule, dir), BS_OK);
    while (pos < n && rc == BS_OK) {
        size_t k = chunk_len(seed, 100, n - pos), on = 0;
        pack(in + pos, k, chunk);
        /* bits past the count must be ignored */
        if (k % 8 != 0) {
            chunk[k / 8] |= (uint8_t) (0xffu >> (k % 8));
        }
        rc = bs_stream_update(&st, chunk, k, res + o, bs_stream_out_max(&st, k),
                              &on);
        o += on;
        pos += k;
    }
    if (rc == BS_OK) {
        size_t on = 0;
        rc = bs_stream_finish(&st, res + o, 1, &on, &total);
        o += on;
        if (rc == BS_OK) {
            assert_int_equal(bs_bytes_for_bits(total), o);
            unpack(res, total, out);
        }
    }
    *offset = bs_stream_error_offset(&st);
    return rc;
}

/* The one-shot calls, the text stream and the packed stream, fed in
 * random chunks, agree: on the output, or on the error and its offset. */
static void streams_agree(const struct random_case *k, void *arg)
{
    static char one[MAXN * 2], text[MAXN * 2], packed[MAXN * 2];
    enum bs_dir dir = (enum bs_dir)(k->iter / BS_RULE_COUNT % 2);
    uint64_t off1 = 0, off2 = 0, off3 = 0;
    bs_status rc1, rc2, rc3;

    (void) arg;
    rc1 = run_both(k->rule, dir, k->in, one, &off1);
    rc2 = stream_text(k->seed, k->rule, dir, k->in, text, &off2);
    rc3 = stream_packed(k->seed, k->rule, dir, k->in, packed, &off3);
    assert_int_equal(rc1, rc2);
    assert_int_equal(rc1, rc3);
    if (rc1 == BS_OK) {
        assert_string_equal(one, text);
        assert_string_equal(one, packed);
    } else {
        assert_int_equal(off1, off2);
        assert_int_equal(off1, off3);
    }
}

static void test_random_streaming(void **state)
{
    (void) state;
    /* 2000 cases: the first 500 below 30 bits, the rest below 1200 */
    check_random_cases((struct random_cases){0xc0ffeeULL, 2000, 500, 30, 1200},
                       streams_agree, NULL);
}

/* 64 Mbit of 1s streamed through 4 KiB chunks in a fixed buffer. */
static void test_large_stream_bounded_memory(void **state)
{
    static uint8_t in[4096], out[4096 + 4096 / 5 + 2];
    struct bs_stream st, un;
    uint64_t total = 0, untotal = 0;
    static uint8_t back[sizeof(out) + 1];
    size_t on, bn;

    (void) state;
    memset(in, 0xff, sizeof(in));
    assert_int_equal(bs_stream_init(&st, BS_RULE_HDLC, BS_DIR_STUFF), BS_OK);
    assert_int_equal(bs_stream_init(&un, BS_RULE_HDLC, BS_DIR_UNSTUFF), BS_OK);
    for (int i = 0; i < 2048; i++) {
        assert_int_equal(
            bs_stream_update(&st, in, sizeof(in) * 8, out, sizeof(out), &on),
            BS_OK);
        /* and undo it as it comes */
        assert_int_equal(
            bs_stream_update(&un, out, on * 8, back, sizeof(back), &bn), BS_OK);
        untotal += bn;
    }
    assert_int_equal(bs_stream_finish(&st, out, sizeof(out), &on, &total),
                     BS_OK);
    assert_int_equal(total, 2048ULL * 4096 * 8 * 6 / 5);
    assert_int_equal(
        bs_stream_update(&un, out, total % 8, back, sizeof(back), &bn), BS_OK);
    untotal += bn;
    assert_int_equal(bs_stream_finish(&un, back, sizeof(back), &bn, &total),
                     BS_OK);
    assert_int_equal(total, 2048ULL * 4096 * 8);
    assert_int_equal(untotal + bn, 2048ULL * 4096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_all_ones_and_zeros),
        cmocka_unit_test(test_can_worst_case),
        cmocka_unit_test(test_unstuff_errors),
        cmocka_unit_test(test_stuff_text_bad_char),
        cmocka_unit_test(test_error_output_before_bad_bit),
        cmocka_unit_test(test_stream_flag_abort_across_chunks),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_nospace),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_rule_table),
        cmocka_unit_test(test_worst_case_exhaustive),
        cmocka_unit_test(test_max_any),
        cmocka_unit_test(test_random_properties),
        cmocka_unit_test(test_random_strict_unstuff),
        cmocka_unit_test(test_random_streaming),
        cmocka_unit_test(test_large_stream_bounded_memory),
    };
    return cmocka_run_group_tests_name("stuff", tests, NULL, NULL);
}
