/*
 * test_xchg.c - the server's request path as bytes: requests in, replies
 * out, through the real decoder and stuffer, with no sockets.  Checks the
 * replies of text and binary requests, errors replacing held text
 * replies, exactly one reply per request, pipelining, and that a client
 * flooding tiny bad requests is held back by the output bound instead of
 * growing memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"
#include "xchg.h"

/* A connection without a network: what is committed is "sent" into
 * wire, as the server's flush would. */
struct fixture {
    struct bs_xchg x;
    struct bs_outbuf o;
    uint8_t *wire;
    size_t wire_len, wire_cap;
};

static struct fixture *fx_new(const struct bs_proto_limits *lim)
{
    struct fixture *f = calloc(1, sizeof *f);

    assert_non_null(f);
    bs_xchg_init(&f->x, lim, NULL);
    f->o.cap = bs_xchg_outbuf_size(lim);
    f->o.buf = malloc(f->o.cap);
    f->wire_cap = 4u << 20;
    f->wire = malloc(f->wire_cap);
    assert_non_null(f->o.buf);
    assert_non_null(f->wire);
    return f;
}

static void fx_free(struct fixture *f)
{
    free(f->o.buf);
    free(f->wire);
    free(f);
}

/* A fixture with the default limits, one per test. */
static int fx_setup(void **state)
{
    *state = fx_new(NULL);
    return 0;
}

static int fx_teardown(void **state)
{
    fx_free(*state);
    return 0;
}

#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

static void fx_send(struct fixture *f)
{
    size_t n;

    bs_xchg_seal(&f->x, &f->o);
    n = f->o.commit - f->o.head;
    assert_true(n <= f->wire_cap - f->wire_len);
    memcpy(f->wire + f->wire_len, f->o.buf + f->o.head, n);
    f->wire_len += n;
    f->o.head = f->o.commit;
}

/* Feed everything, sending whenever feed stops for room. */
static void fx_feed(struct fixture *f, const void *in, size_t len)
{
    const uint8_t *p = in;
    int rounds = 0;

    for (;;) {
        size_t used = bs_xchg_feed(&f->x, &f->o, p, len);
        assert_true(f->o.head <= f->o.commit);
        assert_true(f->o.commit <= f->o.tail);
        assert_true(f->o.tail <= f->o.cap);
        p += used;
        len -= used;
        if ((len == 0 && !bs_xchg_stalled(&f->x)) || bs_xchg_fatal(&f->x)) {
            return;
        }
        fx_send(f);
        assert_true(++rounds < 100000);
    }
}

static void fx_expect(struct fixture *f, const char *want)
{
    fx_send(f);
    if (f->wire_len != strlen(want) || memcmp(f->wire, want, f->wire_len)) {
        fail_msg("got '%.*s', want '%s'", (int) f->wire_len, f->wire, want);
    }
    f->wire_len = 0;
}

/* The reply sent so far begins with want (an error's code and name);
 * the wire is then emptied for the next one. */
static void fx_expect_start(struct fixture *f, const char *want)
{
    fx_send(f);
    if (f->wire_len < strlen(want) || memcmp(f->wire, want, strlen(want))) {
        fail_msg("got '%.*s', want '%s...'", (int) f->wire_len, f->wire, want);
    }
    f->wire_len = 0;
}

/* Send the text req; the reply is want, or with fx_ask_start begins
 * with it. */
static void fx_ask(struct fixture *f, const char *req, const char *want)
{
    fx_feed(f, req, strlen(req));
    fx_expect(f, want);
}

static void fx_ask_start(struct fixture *f, const char *req, const char *want)
{
    fx_feed(f, req, strlen(req));
    fx_expect_start(f, want);
}

static void test_lab_example_text(void **state)
{
    struct fixture *f = *state;

    fx_ask(f, "0101111110011111001010\n", "OK 010111110100111110001010\n");
    fx_ask(f, "unstuff can 00000111110\r\n", "OK 000001111\n");
}

static void test_text_byte_by_byte_is_held_until_lf(void **state)
{
    struct fixture *f = *state;
    const char *req = "stuff usb 1111111111111\n";

    for (size_t i = 0; req[i] != '\0'; i++) {
        fx_feed(f, req + i, 1);
        if (req[i] != '\n') {
            fx_send(f);
            assert_int_equal(f->wire_len, 0); /* nothing before the LF */
        }
    }
    fx_expect(f, "OK 111111011111101\n");
}

static void test_text_error_replaces_held_ok(void **state)
{
    struct fixture *f = *state;

    fx_feed(f, "unstuff 0000111111", 18);
    fx_send(f);
    assert_int_equal(f->wire_len, 0);
    fx_feed(f, "0\n", 2);
    fx_send(f);
    assert_true(f->wire_len > 10);
    assert_memory_equal(f->wire, "ERR 4 flag 9 ", 13);
    assert_int_equal(f->wire[f->wire_len - 1], '\n');
    assert_null(memchr(f->wire, 'K', f->wire_len)); /* no "OK" leaked */
    f->wire_len = 0;
    /* the connection stays usable */
    fx_ask(f, "1\n", "OK 1\n");
}

static void test_text_empty_and_blank(void **state)
{
    struct fixture *f = *state;

    fx_ask(f, "stuff\n   \t \nunstuff hdlc\n", "OK\nOK\n");
}

static void test_text_bad_requests_get_codes(void **state)
{
    struct fixture *f = *state;

    fx_ask_start(f, "hello\n", "ERR 20 bad-command");
    fx_ask_start(f, "stuff bogus 1\n", "ERR 21 bad-rule");
    fx_ask_start(f, "0120\n", "ERR 3 char 2 ");
}

static void test_text_line_too_long(void **state)
{
    struct bs_proto_limits lim = {.max_line = 100, .max_message_bits = 1000};
    struct fixture *f = fx_new(&lim);
    char line[301];

    (void) state;
    memset(line, '1', 300);
    line[300] = '\n';
    fx_feed(f, line, sizeof line);
    fx_expect_start(f, "ERR 22 line-too-long");
    fx_ask(f, "0\n", "OK 0\n");
    fx_free(f);
}

/* The codec names the broken limit in protocol terms; bitstuffd's
 * replies keep naming the option that sets it, word for word as before
 * the codec was made neutral. */
static void test_limit_replies_name_the_server_option(void **state)
{
    struct bs_proto_limits lim = {.max_line = 100, .max_message_bits = 8};
    struct fixture *f = fx_new(&lim);
    char line[301];

    (void) state;
    memset(line, ' ', 300); /* no bits: only the line limit is crossed */
    memcpy(line, "stuff", 5);
    line[300] = '\n';
    fx_feed(f, line, sizeof line);
    fx_expect(f, "ERR 22 line-too-long - the line is longer than the "
                 "server's --max-line limit; send long messages as binary "
                 "frames\n");
    fx_ask(f, "000000000\n",
           "ERR 23 too-long 8 the message is longer than the server's "
           "--max-message-bits limit\n");
    fx_free(f);
}

static size_t frame(uint8_t *out, unsigned flags, unsigned op, unsigned rule,
                    const uint8_t *bits, uint32_t nbits)
{
    size_t n = bs_proto_put_frame(out, BS_PROTO_FRAME_MAX, BS_PROTO_TYPE_MSG,
                                  flags, (enum bs_proto_op) op,
                                  (enum bs_rule) rule, bits, nbits);
    assert_true(n > 0);
    return n;
}

#define FL_ONE (BS_PROTO_FLAG_FIRST | BS_PROTO_FLAG_LAST)

static void test_binary_lab_example_is_answered_at_once(void **state)
{
    struct fixture *f = *state;
    const uint8_t lab[] = {0x5F, 0x9F, 0x28}; /* 0101111110011111001010 */
    const uint8_t want[] = {0xB5, 'R', FL_ONE, 0x00, 0,   0,
                            0,    24,  0x5F,   0x4F, 0x8A};
    uint8_t req[64];
    size_t n = frame(req, FL_ONE, 0, 0, lab, 22);

    /* The whole frame in one feed: the reply must be complete without
     * more input (the decoder's END consumes no bytes). */
    fx_feed(f, req, n);
    fx_send(f);
    assert_int_equal(f->wire_len, sizeof want);
    assert_memory_equal(f->wire, want, sizeof want);
}

/* Reassemble one binary reply from wire at *pos: bits into out.
 * Returns 0 for R...LAST, or the 'E' code. */
static unsigned read_reply(const uint8_t *wire, size_t len, size_t *pos,
                           uint8_t *out, uint64_t *nbits, int *chunks)
{
    *nbits = 0;
    *chunks = 0;
    for (;;) {
        const uint8_t *h = wire + *pos;
        uint32_t length;

        assert_true(len - *pos >= 8);
        assert_int_equal(h[0], 0xB5);
        length = (uint32_t) h[4] << 24 | (uint32_t) h[5] << 16 |
                 (uint32_t) h[6] << 8 | h[7];
        *pos += 8;
        if (h[1] == 'E') {
            unsigned code = (unsigned) wire[*pos] << 8 | wire[*pos + 1];
            assert_true(h[2] & BS_PROTO_FLAG_LAST);
            *pos += length;
            return code;
        }
        assert_int_equal(h[1], 'R');
        assert_int_equal(!!(h[2] & BS_PROTO_FLAG_FIRST), *chunks == 0);
        if (!(h[2] & BS_PROTO_FLAG_LAST)) {
            assert_int_equal(length % 8, 0); /* whole bytes but the last */
        }
        assert_int_equal(*nbits % 8, 0);
        memcpy(out + *nbits / 8, wire + *pos, bs_bytes_for_bits(length));
        *pos += bs_bytes_for_bits(length);
        *nbits += length;
        (*chunks)++;
        if (h[2] & BS_PROTO_FLAG_LAST) {
            return 0;
        }
    }
}

static void test_binary_big_message_in_chunks(void **state)
{
    struct fixture *f = *state;
    const size_t nbits = 2000003; /* four chunks, odd tail */
    uint8_t *in = malloc(nbits / 8 + 1), *want = malloc(nbits / 4);
    uint8_t *got = malloc(nbits / 4), *req = malloc(BS_PROTO_FRAME_MAX);
    size_t off = 0, pos = 0, want_bits = 0, req_len;
    uint64_t got_bits;
    uint32_t seed = 12345;
    int chunks;

    for (size_t i = 0; i < nbits / 8 + 1; i++) {
        seed = seed * 1103515245u + 12345u;
        in[i] = (uint8_t) (seed >> 16) | 0x7C; /* many runs of 1s */
    }
    in[nbits / 8] &= 0xE0; /* 3 valid bits in the last byte */
    assert_int_equal(
        bs_stuff(BS_RULE_HDLC, in, nbits, want, nbits / 4, &want_bits, NULL),
        BS_OK);
    while (off < nbits) {
        size_t take = nbits - off > 500000 ? 500000 : nbits - off;
        unsigned fl = (off == 0 ? BS_PROTO_FLAG_FIRST : 0) |
                      (off + take == nbits ? BS_PROTO_FLAG_LAST : 0);
        assert_int_equal(off % 8, 0);
        req_len = frame(req, fl, 0, 0, in + off / 8, (uint32_t) take);
        /* uneven pieces, as TCP would deliver them */
        for (size_t p = 0; p < req_len; p += 7777) {
            fx_feed(f, req + p, req_len - p < 7777 ? req_len - p : 7777);
        }
        off += take;
    }
    fx_send(f);
    assert_int_equal(
        read_reply(f->wire, f->wire_len, &pos, got, &got_bits, &chunks), 0);
    assert_true(got_bits == want_bits);
    assert_true(chunks > 1);
    assert_memory_equal(got, want, bs_bytes_for_bits(want_bits));
    assert_int_equal(pos, f->wire_len);
    free(in);
    free(want);
    free(got);
    free(req);
}

static void test_binary_unstuff_error_gets_one_reply(void **state)
{
    struct fixture *f = *state;
    const uint8_t ones[] = {0xFF, 0xFF};
    const uint8_t ok[] = {0x80};
    uint8_t req[256], out[64];
    size_t n = 0, pos = 0;
    uint64_t bits;
    int chunks;

    /* unstuff: the error is in the first chunk; two more chunks follow */
    n += frame(req + n, BS_PROTO_FLAG_FIRST, 1, 0, ones, 16);
    n += frame(req + n, 0, 1, 0, ones, 16);
    n += frame(req + n, BS_PROTO_FLAG_LAST, 1, 0, ones, 16);
    n += frame(req + n, FL_ONE, 0, 0, ok, 1); /* then a good request */
    fx_feed(f, req, n);
    fx_send(f);
    assert_int_equal(
        read_reply(f->wire, f->wire_len, &pos, out, &bits, &chunks),
        BS_PROTO_E_ABORT); /* seven 1s and more */
    assert_int_equal(
        read_reply(f->wire, f->wire_len, &pos, out, &bits, &chunks), 0);
    assert_true(bits == 1 && out[0] == 0x80);
    assert_int_equal(pos, f->wire_len); /* nothing more: one reply each */
}

static void test_binary_fatal_frame_closes(void **state)
{
    struct fixture *f = *state;
    uint8_t req[32] = {0xB5, 'R', FL_ONE, 0, 0, 0, 0, 8, 0xAA};
    size_t pos = 0;
    uint64_t bits;
    int chunks;
    uint8_t out[8];

    memcpy(req + 9, "0101\n", 5);
    fx_feed(f, req, 14);
    assert_true(bs_xchg_fatal(&f->x));
    fx_send(f);
    assert_int_equal(
        read_reply(f->wire, f->wire_len, &pos, out, &bits, &chunks),
        BS_PROTO_E_BAD_FRAME);
    assert_int_equal(pos, f->wire_len); /* the text after it is not read */
}

static void test_pipelined_mixed_replies_in_order(void **state)
{
    struct fixture *f = *state;
    uint8_t *req = malloc(200 * 16);
    const uint8_t b = 0xF8; /* 11111 */
    size_t n = 0, pos = 0;
    uint8_t out[8];
    uint64_t bits;
    int chunks;

    for (int i = 0; i < 100; i++) {
        memcpy(req + n, "11111\n", 6);
        n += 6;
        n += frame(req + n, FL_ONE, 0, 0, &b, 5);
    }
    fx_feed(f, req, n);
    fx_send(f);
    for (int i = 0; i < 100; i++) {
        assert_memory_equal(f->wire + pos, "OK 111110\n", 10);
        pos += 10;
        assert_int_equal(
            read_reply(f->wire, f->wire_len, &pos, out, &bits, &chunks), 0);
        assert_true(bits == 6 && out[0] == 0xF8);
    }
    assert_int_equal(pos, f->wire_len);
    free(req);
}

static void test_flood_of_bad_requests_is_bounded(void **state)
{
    struct fixture *f = *state;
    const size_t count = 20000;
    char *req = malloc(count * 2);
    size_t used, lines = 0;

    for (size_t i = 0; i < count; i++) {
        memcpy(req + 2 * i, "x\n", 2);
    }
    /* Nobody sends: feed must stop early rather than outgrow the buffer
     * (each 2-byte request earns a ~90-byte reply). */
    used = bs_xchg_feed(&f->x, &f->o, (const uint8_t *) req, count * 2);
    assert_true(used < count * 2);
    assert_true(bs_xchg_stalled(&f->x));
    assert_true(f->o.tail <= f->o.cap);
    /* Once the client reads, everything is answered, once. */
    fx_send(f);
    fx_feed(f, req + used, count * 2 - used);
    fx_send(f);
    for (size_t i = 0; i < f->wire_len; i++) {
        lines += f->wire[i] == '\n';
    }
    assert_int_equal(lines, count);
    free(req);
}

static void test_end_drops_or_answers_busy(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(bs_xchg_end(&f->x, &f->o, BS_PROTO_E_BUSY), 0);
    fx_expect(f, ""); /* nothing open: nothing said */
    fx_feed(f, "0101", 4);
    assert_true(bs_xchg_open(&f->x));
    assert_int_equal(bs_xchg_end(&f->x, &f->o, 0), 0);
    fx_expect(f, ""); /* cut short by the peer: dropped */
    bs_xchg_init(&f->x, NULL, NULL);
    fx_feed(f, "stuff 0101", 10);
    assert_int_equal(bs_xchg_end(&f->x, &f->o, BS_PROTO_E_BUSY), 0);
    fx_expect_start(f, "ERR 27 busy");
    assert_false(bs_xchg_open(&f->x));
}

static void test_outbuf_size(void **state)
{
    struct bs_proto_limits lim = {.max_line = 1u << 20, .max_message_bits = 1};

    (void) state;
    assert_true(bs_xchg_outbuf_size(NULL) >= BS_XCHG_MIN_OUTBUF);
    assert_true(bs_xchg_outbuf_size(NULL) >=
                3 + 65536 + 65536 / 4 + BS_PROTO_ERROR_MAX);
    assert_int_equal(bs_xchg_outbuf_size(NULL) % 4096, 0);
    assert_true(bs_xchg_outbuf_size(&lim) > (1u << 20) + (1u << 18));
    lim.max_line = SIZE_MAX;
    assert_true(bs_xchg_outbuf_size(&lim) == SIZE_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_lab_example_text),
        FX_TEST(test_text_byte_by_byte_is_held_until_lf),
        FX_TEST(test_text_error_replaces_held_ok),
        FX_TEST(test_text_empty_and_blank),
        FX_TEST(test_text_bad_requests_get_codes),
        cmocka_unit_test(test_text_line_too_long),
        cmocka_unit_test(test_limit_replies_name_the_server_option),
        FX_TEST(test_binary_lab_example_is_answered_at_once),
        FX_TEST(test_binary_big_message_in_chunks),
        FX_TEST(test_binary_unstuff_error_gets_one_reply),
        FX_TEST(test_binary_fatal_frame_closes),
        FX_TEST(test_pipelined_mixed_replies_in_order),
        FX_TEST(test_flood_of_bad_requests_is_bounded),
        FX_TEST(test_end_drops_or_answers_busy),
        cmocka_unit_test(test_outbuf_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
