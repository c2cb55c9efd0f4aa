/*
 * test_proto.c - the protocol codec: every event and error path of the
 * decoder in both roles, the encoders, and split-invariance.
 *
 * Most tests state a byte stream and the event log it must give.  expect()
 * decodes the stream whole, one byte at a time and in random splits, each
 * piece in its own exact-size heap block (so ASan catches a read past len),
 * checks the invariants of every event, and compares each log with the
 * expected one.  Log tokens: B(form,op,rule) D(bits) END ERR(code,offset)
 * FATAL(code); consecutive DATA events are merged into one D().
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
#include "test_rng.h"

/* ---- helpers ------------------------------------------------------- */

struct buf {
    uint8_t *b;
    size_t n, cap;
};

/* The stream most tests build, one per test, freed after it. */
static int buf_setup(void **state)
{
    *state = calloc(1, sizeof(struct buf));
    return *state == NULL ? -1 : 0;
}

static int buf_teardown(void **state)
{
    struct buf *s = *state;

    free(s->b);
    free(s);
    return 0;
}

#define BUF_TEST(f) cmocka_unit_test_setup_teardown(f, buf_setup, buf_teardown)

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->cap - b->n < n + 1) {
        b->cap = (b->n + n + 1) * 2;
        b->b = realloc(b->b, b->cap);
        assert_non_null(b->b);
    }
    memcpy(b->b + b->n, p, n);
    b->n += n;
    b->b[b->n] = 0; /* so a log is a string */
}

static void buf_str(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* "0101" -> packed bytes (MSB first); returns the bit count */
static uint32_t pack(const char *bits, uint8_t *out)
{
    size_t n = strlen(bits);

    memset(out, 0, n / 8 + 1);
    for (size_t i = 0; i < n; i++) {
        if (bits[i] == '1') {
            out[i / 8] |= (uint8_t) (0x80u >> (i % 8));
        }
    }
    return (uint32_t) n;
}

/* Append a valid frame with the given bits (text). */
static void add_frame(struct buf *s, unsigned type, unsigned flags,
                      enum bs_proto_op op, enum bs_rule rule, const char *bits)
{
    uint8_t packed[256], out[BS_PROTO_HDR_LEN + 256];
    uint32_t n = pack(bits, packed);
    size_t len =
        bs_proto_put_frame(out, sizeof(out), type, flags, op, rule, packed, n);

    assert_int_not_equal(len, 0);
    buf_add(s, out, len);
}

/* The arguments of one add_frame(), for tables of frames. */
struct frame {
    unsigned type, flags;
    enum bs_proto_op op;
    enum bs_rule rule;
    const char *bits;
};

/* Append a header with any field values, valid or not. */
static void add_hdr(struct buf *s, unsigned type, unsigned flags, unsigned nib,
                    uint32_t length)
{
    uint8_t h[8] = {BS_PROTO_MAGIC,           (uint8_t) type,
                    (uint8_t) flags,          (uint8_t) nib,
                    (uint8_t) (length >> 24), (uint8_t) (length >> 16),
                    (uint8_t) (length >> 8),  (uint8_t) length};
    buf_add(s, h, sizeof(h));
}

#define M  BS_PROTO_TYPE_MSG
#define R  BS_PROTO_TYPE_REPLY
#define F  BS_PROTO_FLAG_FIRST
#define L  BS_PROTO_FLAG_LAST
#define FL (BS_PROTO_FLAG_FIRST | BS_PROTO_FLAG_LAST)

enum split { WHOLE, BYTES, RANDOM };

static const char *op_name(enum bs_proto_op op)
{
    return op == BS_PROTO_STUFF ? "stuff" : "unstuff";
}

/* Check one event against the invariants and append it to the log.
 * piece/used: the input of the call and what it consumed. */
static void log_event(struct buf *log, int *in_data, int *open,
                      const struct bs_proto_event *ev, const uint8_t *piece,
                      size_t used, int with_msg)
{
    char tok[BS_PROTO_MAX_ERR_MSG + 64];

    if (ev->type != BS_PROTO_EV_DATA && *in_data) {
        buf_str(log, ") ");
        *in_data = 0;
    }
    switch (ev->type) {
    case BS_PROTO_EV_BEGIN:
        assert_false(*open);
        *open = 1;
        snprintf(tok, sizeof(tok), "B(%c,%s,%s) ",
                 ev->form == BS_PROTO_TEXT ? 't' : 'b', op_name(ev->op),
                 bs_rule_name(ev->rule));
        buf_str(log, tok);
        break;
    case BS_PROTO_EV_DATA: {
        size_t bytes =
            ev->form == BS_PROTO_TEXT ? ev->nbits : (ev->nbits + 7) / 8;
        assert_true(*open);
        assert_true(ev->nbits >= 1);
        /* zero copy: the span is exactly the end of what was consumed */
        assert_true(ev->data >= piece);
        assert_true(ev->data + bytes == piece + used);
        if (!*in_data) {
            buf_str(log, "D(");
            *in_data = 1;
        }
        for (size_t i = 0; i < ev->nbits; i++) {
            char c;
            if (ev->form == BS_PROTO_TEXT) {
                c = (char) ev->data[i];
                assert_true(c == '0' || c == '1');
            } else {
                c = (char) ('0' + ((ev->data[i / 8] >> (7 - i % 8)) & 1));
            }
            buf_add(log, &c, 1);
        }
        if (ev->form == BS_PROTO_BINARY && ev->nbits % 8 != 0) {
            assert_int_equal(ev->data[bytes - 1] & (0xFFu >> (ev->nbits % 8)),
                             0);
        }
        break;
    }
    case BS_PROTO_EV_END:
        assert_true(*open);
        *open = 0;
        buf_str(log, "END ");
        break;
    case BS_PROTO_EV_ERROR:
    case BS_PROTO_EV_FATAL:
        *open = 0;
        assert_non_null(ev->message);
        assert_true(strlen(ev->message) <= BS_PROTO_MAX_ERR_MSG);
        if (ev->offset == BS_PROTO_NO_OFFSET) {
            snprintf(tok, sizeof(tok), "%s(%u,-",
                     ev->type == BS_PROTO_EV_ERROR ? "ERR" : "FATAL", ev->code);
        } else {
            snprintf(tok, sizeof(tok), "%s(%u,%llu",
                     ev->type == BS_PROTO_EV_ERROR ? "ERR" : "FATAL", ev->code,
                     (unsigned long long) ev->offset);
        }
        buf_str(log, tok);
        if (with_msg) {
            buf_str(log, ",");
            buf_str(log, ev->message);
        }
        buf_str(log, ") ");
        break;
    case BS_PROTO_EV_NONE:
        break;
    }
}

/* Decode s in pieces; returns the log (caller frees).  *dec_out, if not
 * NULL, receives the decoder's final state. */
static char *run(enum bs_proto_role role, const struct bs_proto_limits *lim,
                 const uint8_t *s, size_t n, enum split mode, uint64_t seed,
                 int with_msg, struct bs_proto_decoder *dec_out)
{
    struct bs_proto_decoder d;
    struct buf log = {0};
    int in_data = 0, open = 0, fatal = 0;
    size_t pos = 0;
    char errbuf[BS_PROTO_ERRBUF_SIZE];

    buf_str(&log, "");
    bs_proto_decoder_init(&d, role, lim);
    bs_proto_decoder_set_errbuf(&d, errbuf);
    while (pos < n && !fatal) {
        size_t k = n - pos, zero_run = 0;
        if (mode == BYTES) {
            k = 1;
        } else if (mode == RANDOM) {
            k = rng_piece(&seed, k, 19);
        }
        uint8_t *piece = malloc(k);
        assert_non_null(piece);
        memcpy(piece, s + pos, k);
        const uint8_t *p = piece;
        size_t left = k;
        for (;;) {
            struct bs_proto_event ev;
            size_t used = bs_proto_decode(&d, p, left, &ev);
            assert_true(used <= left);
            if (ev.type == BS_PROTO_EV_NONE) {
                assert_int_equal(used, left);
                break;
            }
            zero_run = used == 0 ? zero_run + 1 : 0;
            assert_true(zero_run <= 3);
            log_event(&log, &in_data, &open, &ev, p, used, with_msg);
            p += used;
            left -= used;
            if (ev.type == BS_PROTO_EV_FATAL) {
                fatal = 1;
                break;
            }
        }
        free(piece);
        pos += k;
    }
    if (in_data) {
        buf_str(&log, ") ");
    }
    if (bs_proto_decoder_idle(&d)) {
        assert_false(open);
    }
    if (log.n > 0 && log.b[log.n - 1] == ' ') {
        log.b[--log.n] = '\0';
    }
    if (dec_out != NULL) {
        *dec_out = d;
    }
    return (char *) log.b;
}

/* The log of s must be want, however s is split. */
static void expect_lim(enum bs_proto_role role,
                       const struct bs_proto_limits *lim, const void *s,
                       size_t n, int with_msg, const char *want)
{
    char *got = run(role, lim, s, n, WHOLE, 0, with_msg, NULL);
    assert_string_equal(got, want);
    free(got);
    got = run(role, lim, s, n, BYTES, 0, with_msg, NULL);
    assert_string_equal(got, want);
    free(got);
    for (uint64_t seed = 1; seed <= 8; seed++) {
        got = run(role, lim, s, n, RANDOM, seed * 0x9E3779B97F4A7C15ULL,
                  with_msg, NULL);
        assert_string_equal(got, want);
        free(got);
    }
}

/* Text request lines s under limits lim (NULL: the defaults). */
static void expect_text_lim(const struct bs_proto_limits *lim, const char *s,
                            const char *want)
{
    expect_lim(BS_PROTO_ROLE_SERVER, lim, s, strlen(s), 0, want);
}

static void expect_text(const char *s, const char *want)
{
    expect_text_lim(NULL, s, want);
}

static void expect_buf(enum bs_proto_role role, const struct buf *s,
                       const char *want)
{
    expect_lim(role, NULL, s->b, s->n, 0, want);
}

/* s gives want; then s is emptied for the next case. */
static void expect_next(enum bs_proto_role role, struct buf *s,
                        const char *want)
{
    expect_buf(role, s, want);
    s->n = 0;
}

/* A stream of one bare header (type, flags, rule nibble, length) gives
 * want. */
static void expect_hdr(enum bs_proto_role role, unsigned type, unsigned flags,
                       unsigned nib, uint32_t length, const char *want)
{
    struct buf s = {0};

    add_hdr(&s, type, flags, nib, length);
    expect_buf(role, &s, want);
    free(s.b);
}

static int idle_after(enum bs_proto_role role, const void *s, size_t n)
{
    struct bs_proto_decoder d;
    free(run(role, NULL, s, n, WHOLE, 0, 0, &d));
    return bs_proto_decoder_idle(&d);
}

/* ---- text requests ------------------------------------------------- */

static void test_lab_line(void **state)
{
    static const uint8_t line[] = "0101111110011111001010\n";
    struct bs_proto_decoder d;
    struct bs_proto_event ev;
    size_t n = sizeof(line) - 1, used;

    (void) state;
    expect_text((const char *) line,
                "B(t,stuff,hdlc) D(0101111110011111001010) END");

    /* zero copy: the DATA is the caller's bytes */
    bs_proto_decoder_init(&d, BS_PROTO_ROLE_SERVER, NULL);
    used = bs_proto_decode(&d, line, n, &ev);
    assert_int_equal(ev.type, BS_PROTO_EV_BEGIN);
    assert_int_equal(ev.form, BS_PROTO_TEXT);
    assert_int_equal(ev.op, BS_PROTO_STUFF);
    assert_int_equal(ev.rule, BS_RULE_HDLC);
    assert_int_equal(used, 0);
    used = bs_proto_decode(&d, line, n, &ev);
    assert_int_equal(ev.type, BS_PROTO_EV_DATA);
    assert_ptr_equal(ev.data, line);
    assert_int_equal(ev.nbits, 22);
    assert_int_equal(used, 22);
    assert_false(bs_proto_decoder_idle(&d));
    used = bs_proto_decode(&d, line + 22, 1, &ev);
    assert_int_equal(ev.type, BS_PROTO_EV_END);
    assert_int_equal(used, 1);
    assert_true(bs_proto_decoder_idle(&d));
    used = bs_proto_decode(&d, NULL, 0, &ev);
    assert_int_equal(ev.type, BS_PROTO_EV_NONE);
    assert_int_equal(used, 0);
}

static void test_op_rule_words(void **state)
{
    (void) state;
    expect_text("UNSTUFF Usb 0101\n", "B(t,unstuff,usb) D(0101) END");
    expect_text("stuff CAN 1\n", "B(t,stuff,can) D(1) END");
    expect_text("unstuff 0110\n", "B(t,unstuff,hdlc) D(0110) END");
    expect_text("\tStUfF\t\thDlC\t01 \t\n", "B(t,stuff,hdlc) D(01) END");
    expect_text("  1\n", "B(t,stuff,hdlc) D(1) END");
}

static void test_crlf(void **state)
{
    (void) state;
    expect_text("0101\r\n", "B(t,stuff,hdlc) D(0101) END");
    expect_text("stuff\r\n", "B(t,stuff,hdlc) END");
    expect_text("unstuff usb\r\n", "B(t,unstuff,usb) END");
    expect_text("unstuff \r\n", "B(t,unstuff,hdlc) END");
    expect_text("01 \t\r\n", "B(t,stuff,hdlc) D(01) END");
    expect_text("\r\n", "");
}

static void test_whitespace_lines(void **state)
{
    static const char s[] = " \t \n\n\r\n \r\n";

    (void) state;
    expect_text(s, "");
    assert_true(idle_after(BS_PROTO_ROLE_SERVER, s, strlen(s)));
    /* a line still open is not idle */
    assert_false(idle_after(BS_PROTO_ROLE_SERVER, "  ", 2));
    assert_false(idle_after(BS_PROTO_ROLE_SERVER, "01", 2));
}

static void test_empty_message(void **state)
{
    (void) state;
    expect_text("stuff\n", "B(t,stuff,hdlc) END");
    expect_text("unstuff can   \n", "B(t,unstuff,can) END");
    expect_text(" Unstuff\tUSB\n", "B(t,unstuff,usb) END");
}

static void test_char_errors(void **state)
{
    (void) state;
    expect_text("0120\n", "B(t,stuff,hdlc) D(01) ERR(3,2)");
    expect_text("x0\n", "ERR(20,-)"); /* not bits: a bad first word */
    expect_text("0101 x\n", "B(t,stuff,hdlc) D(0101) ERR(3,5)");
    expect_text("0101  1\n", "B(t,stuff,hdlc) D(0101) ERR(3,6)");
    expect_text("stuff hdlc x\n", "B(t,stuff,hdlc) ERR(3,0)");
    expect_text("stuff hdlc   x1\n", "B(t,stuff,hdlc) ERR(3,0)");
    expect_text("stuff usb hdlc\n", "B(t,stuff,usb) ERR(3,0)");
    expect_text("unstuff 01stuff\n", "B(t,unstuff,hdlc) D(01) ERR(3,2)");
    /* a CR not just before the LF is a bad character at its own offset */
    expect_text("01\r0\n", "B(t,stuff,hdlc) D(01) ERR(3,2)");
    expect_text("01 \r 1\n", "B(t,stuff,hdlc) D(01) ERR(3,3)");
    expect_text("01\r\r\n", "B(t,stuff,hdlc) D(01) ERR(3,2)");
    expect_text("stuff hdlc \rx\n", "B(t,stuff,hdlc) ERR(3,0)");
    /* NUL and high bytes are just bad characters */
    expect_lim(BS_PROTO_ROLE_SERVER, NULL, "01\0\n", 4, 0,
               "B(t,stuff,hdlc) D(01) ERR(3,2)");
    expect_text("011\xb5\n", "B(t,stuff,hdlc) D(011) ERR(3,3)");
    /* one reply per line; the next line is read normally */
    expect_text("0x1 1 x\n01\n",
                "B(t,stuff,hdlc) D(0) ERR(3,1) B(t,stuff,hdlc) D(01) END");
}

static void test_bad_command(void **state)
{
    (void) state;
    expect_text("hello 0101\n", "ERR(20,-)");
    expect_text("stuffing 01\n", "ERR(20,-)");
    expect_text("stuf\n", "ERR(20,-)");
    expect_text("2\n", "ERR(20,-)");
    expect_text("hdlc 01\n", "ERR(20,-)");
    expect_text("GET / HTTP/1.1\r\n", "ERR(20,-)");
    expect_text("\rstuff\n", "ERR(20,-)");
    expect_text("stuff\r01\n", "ERR(20,-)");
    expect_text("averyveryverylongword and more\n0\n",
                "ERR(20,-) B(t,stuff,hdlc) D(0) END");
}

static void test_bad_rule(void **state)
{
    (void) state;
    expect_text("stuff x 01\n", "ERR(21,-)");
    expect_text("unstuff hdlcx\n", "ERR(21,-)");
    expect_text("stuff hdl\n", "ERR(21,-)");
    expect_text("stuff usb2 0\n", "ERR(21,-)");
    expect_text("stuff \r01\n", "ERR(21,-)");
    expect_text("unstuff hdlc\rx\n", "ERR(21,-)");
    expect_text("stuff x\n1\n", "ERR(21,-) B(t,stuff,hdlc) D(1) END");
}

static void test_line_too_long(void **state)
{
    const struct bs_proto_limits lim = {8, BS_PROTO_DEFAULT_MAX_MESSAGE_BITS};

    (void) state;
    /* 8 bytes with the LF: just fits */
    expect_text_lim(&lim, "0101010\n", "B(t,stuff,hdlc) D(0101010) END");
    expect_text_lim(&lim, "010101\r\n", "B(t,stuff,hdlc) D(010101) END");
    /* 9 bytes: the LF is the byte too many */
    expect_text_lim(&lim, "01010101\n",
                    "B(t,stuff,hdlc) D(01010101) ERR(22,-)");
    expect_text_lim(
        &lim, "010101010101\n0\n",
        "B(t,stuff,hdlc) D(01010101) ERR(22,-) B(t,stuff,hdlc) D(0) "
        "END");
    /* words count too */
    expect_text_lim(&lim, "stuff 01\n", "B(t,stuff,hdlc) D(01) ERR(22,-)");
    expect_text_lim(&lim, "unstuff usb\n1\n",
                    "ERR(22,-) B(t,stuff,hdlc) D(1) END");
    /* a long line of whitespace is still a long line */
    expect_text_lim(&lim, "        \n", "ERR(22,-)");
    expect_text_lim(&lim, "       \n", "");
}

static void test_line_limit_default(void **state)
{
    struct buf *s = *state;
    char *want, *p;

    /* 65535 bits + LF fit; one more bit does not */
    for (int i = 0; i < 65535; i++) {
        buf_add(s, i % 3 ? "1" : "0", 1);
    }
    buf_str(s, "\n");
    want = malloc(65535 + 64);
    assert_non_null(want);
    p = want + sprintf(want, "B(t,stuff,hdlc) D(");
    memcpy(p, s->b, 65535);
    strcpy(p + 65535, ") END");
    {
        char *got =
            run(BS_PROTO_ROLE_SERVER, NULL, s->b, s->n, WHOLE, 0, 0, NULL);
        assert_string_equal(got, want);
        free(got);
    }
    s->n--; /* drop the LF, add a bit and the LF */
    buf_str(s, "1\n");
    strcpy(p + 65535, "1) ERR(22,-)");
    {
        char *got =
            run(BS_PROTO_ROLE_SERVER, NULL, s->b, s->n, RANDOM, 7, 0, NULL);
        assert_string_equal(got, want);
        free(got);
    }
    free(want);
}

static void test_text_message_limit(void **state)
{
    const struct bs_proto_limits lim = {BS_PROTO_DEFAULT_MAX_LINE, 4};

    (void) state;
    expect_text_lim(&lim, "0101\n", "B(t,stuff,hdlc) D(0101) END");
    expect_text_lim(
        &lim, "01010 \n1\n",
        "B(t,stuff,hdlc) D(0101) ERR(23,4) B(t,stuff,hdlc) D(1) END");
    expect_text_lim(&lim, "unstuff 11111\n",
                    "B(t,unstuff,hdlc) D(1111) ERR(23,4)");
}

/* ---- binary requests ----------------------------------------------- */

static void test_binary_one_chunk(void **state)
{
    struct buf *s = *state;
    struct bs_proto_decoder d;
    struct bs_proto_event ev;

    add_frame(s, M, FL, BS_PROTO_STUFF, BS_RULE_HDLC, "0101111110011111001010");
    expect_buf(BS_PROTO_ROLE_SERVER, s,
               "B(b,stuff,hdlc) D(0101111110011111001010) END");
    assert_true(idle_after(BS_PROTO_ROLE_SERVER, s->b, s->n));

    bs_proto_decoder_init(&d, BS_PROTO_ROLE_SERVER, NULL);
    assert_int_equal(bs_proto_decode(&d, s->b, s->n, &ev), 8);
    assert_int_equal(ev.type, BS_PROTO_EV_BEGIN);
    assert_int_equal(ev.form, BS_PROTO_BINARY);
    assert_int_equal(bs_proto_decode(&d, s->b + 8, s->n - 8, &ev), 3);
    assert_int_equal(ev.type, BS_PROTO_EV_DATA);
    assert_ptr_equal(ev.data, s->b + 8);
    assert_int_equal(ev.nbits, 22);
    assert_int_equal(bs_proto_decode(&d, s->b + 11, 0, &ev), 0);
    assert_int_equal(ev.type, BS_PROTO_EV_END);

    /* the empty message */
    s->n = 0;
    add_frame(s, M, FL, BS_PROTO_UNSTUFF, BS_RULE_CAN, "");
    expect_buf(BS_PROTO_ROLE_SERVER, s, "B(b,unstuff,can) END");
}

/* The examples of docs/PROTOCOL.md section 7, byte for byte. */
static void test_spec_examples(void **state)
{
    static const uint8_t req[] = {0xb5, 0x4d, 0x03, 0x00, 0x00, 0x00,
                                  0x00, 0x16, 0x5f, 0x9f, 0x28};
    static const uint8_t rep[] = {0xb5, 0x52, 0x03, 0x00, 0x00, 0x00,
                                  0x00, 0x18, 0x5f, 0x4f, 0x8a};
    static const uint8_t ereq[] = {0xb5, 0x4d, 0x03, 0x10, 0x00,
                                   0x00, 0x00, 0x06, 0xfc};
    static const uint8_t erep[] = {
        0xb5, 0x45, 0x02, 0x10, 0x00, 0x00, 0x00, 0x1b, 0x00, 0x04, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 's',  'i',  'x',  ' ',
        '1',  's',  ' ',  'i',  'n',  ' ',  'a',  ' ',  'r',  'o',  'w'};
    uint8_t packed[8], out[BS_PROTO_ERROR_MAX];

    (void) state;
    pack("0101111110011111001010", packed);
    assert_int_equal(bs_proto_put_frame(out, sizeof(out), M, FL, BS_PROTO_STUFF,
                                        BS_RULE_HDLC, packed, 22),
                     sizeof(req));
    assert_memory_equal(out, req, sizeof(req));
    expect_lim(BS_PROTO_ROLE_SERVER, NULL, req, sizeof(req), 0,
               "B(b,stuff,hdlc) D(0101111110011111001010) END");
    expect_lim(BS_PROTO_ROLE_CLIENT, NULL, rep, sizeof(rep), 0,
               "B(b,stuff,hdlc) D(010111110100111110001010) END");
    expect_lim(BS_PROTO_ROLE_SERVER, NULL, ereq, sizeof(ereq), 0,
               "B(b,unstuff,hdlc) D(111111) END");
    assert_int_equal(bs_proto_put_error(out, sizeof(out), BS_PROTO_BINARY,
                                        BS_PROTO_UNSTUFF, BS_RULE_HDLC,
                                        BS_PROTO_E_FLAG, 5, "six 1s in a row"),
                     sizeof(erep));
    assert_memory_equal(out, erep, sizeof(erep));
    expect_lim(BS_PROTO_ROLE_CLIENT, NULL, erep, sizeof(erep), 1,
               "ERR(4,5,six 1s in a row)");
}

/* A client decoder without an error buffer (as a server's decoder has
 * none) still reports the code and offset, with the code's own text. */
static void test_client_no_errbuf(void **state)
{
    uint8_t out[BS_PROTO_ERROR_MAX];
    struct bs_proto_decoder d;
    struct bs_proto_event ev;
    size_t n =
        bs_proto_put_error(out, sizeof(out), BS_PROTO_BINARY, BS_PROTO_UNSTUFF,
                           BS_RULE_HDLC, BS_PROTO_E_FLAG, 5, "six 1s in a row");

    (void) state;
    assert_true(sizeof(d) < 256);
    bs_proto_decoder_init(&d, BS_PROTO_ROLE_CLIENT, NULL);
    assert_int_equal(bs_proto_decode(&d, out, n, &ev), n);
    assert_int_equal(ev.type, BS_PROTO_EV_ERROR);
    assert_int_equal(ev.code, BS_PROTO_E_FLAG);
    assert_int_equal(ev.offset, 5);
    assert_string_equal(ev.message, bs_proto_code_text(BS_PROTO_E_FLAG));
    assert_true(bs_proto_decoder_idle(&d));
}

static void test_binary_chunks(void **state)
{
    struct buf *s = *state;

    add_frame(s, M, F, BS_PROTO_UNSTUFF, BS_RULE_USB, "11111101");
    add_frame(s, M, 0, BS_PROTO_UNSTUFF, BS_RULE_USB, "0110111111011");
    add_frame(s, M, 0, BS_PROTO_UNSTUFF, BS_RULE_USB, "");
    add_frame(s, M, L, BS_PROTO_UNSTUFF, BS_RULE_USB, "1");
    expect_buf(BS_PROTO_ROLE_SERVER, s,
               "B(b,unstuff,usb) D(1111110101101111110111) END");
    /* between chunks: not idle */
    assert_false(idle_after(BS_PROTO_ROLE_SERVER, s->b, 9));
}

static void test_mixed_forms(void **state)
{
    struct buf *s = *state;

    buf_str(s, "0101\n");
    add_frame(s, M, FL, BS_PROTO_UNSTUFF, BS_RULE_USB, "1111110");
    buf_str(s, "stuff can 000001\r\n");
    buf_str(s, "bad\n");
    add_frame(s, M, F, BS_PROTO_STUFF, BS_RULE_HDLC, "1");
    add_frame(s, M, L, BS_PROTO_STUFF, BS_RULE_HDLC, "0");
    buf_str(s, "\n  \nunstuff usb\n");
    expect_buf(BS_PROTO_ROLE_SERVER, s,
               "B(t,stuff,hdlc) D(0101) END "
               "B(b,unstuff,usb) D(1111110) END "
               "B(t,stuff,can) D(000001) END "
               "ERR(20,-) "
               "B(b,stuff,hdlc) D(10) END "
               "B(t,unstuff,usb) END");
}

static void test_bad_padding(void **state)
{
    struct buf *s = *state;

    /* 4 bits in 0x5F: the pad bits 1111 are not 0 */
    add_hdr(s, M, FL, 0x00, 4);
    buf_add(s, "\x5f", 1);
    add_frame(s, M, FL, BS_PROTO_STUFF, BS_RULE_HDLC, "1");
    expect_next(BS_PROTO_ROLE_SERVER, s,
                "B(b,stuff,hdlc) ERR(24,-) B(b,stuff,hdlc) D(1) END");

    /* the whole bytes before the bad one are delivered, the rest of the
     * message (to LAST) is skipped */
    add_hdr(s, M, F, 0x12, 12);
    buf_add(s, "\xab\xcd", 2);
    add_frame(s, M, 0, BS_PROTO_UNSTUFF, BS_RULE_CAN, "0101");
    add_hdr(s, M, L, 0x12, 3);
    buf_add(s, "\xff", 1); /* skipped: its padding is not looked at */
    add_frame(s, M, FL, BS_PROTO_UNSTUFF, BS_RULE_CAN, "11");
    expect_buf(BS_PROTO_ROLE_SERVER, s,
               "B(b,unstuff,can) D(10101011) ERR(24,-) "
               "B(b,unstuff,can) D(11) END");
    assert_true(idle_after(BS_PROTO_ROLE_SERVER, s->b, s->n));

    /* padding on a middle chunk counts too */
    s->n = 0;
    add_frame(s, M, F, BS_PROTO_STUFF, BS_RULE_USB, "1");
    add_hdr(s, M, L, 0x01, 1);
    buf_add(s, "\x81", 1);
    expect_buf(BS_PROTO_ROLE_SERVER, s, "B(b,stuff,usb) D(1) ERR(24,-)");
}

static void test_bad_nibble(void **state)
{
    struct buf *s = *state;

    add_hdr(s, M, FL, 0x20, 1); /* op 2 */
    buf_add(s, "\x80", 1);
    add_hdr(s, M, FL, 0x03, 0); /* rule 3 */
    add_hdr(s, M, F, 0x1F, 8);  /* rule 15, more chunks follow */
    buf_add(s, "\x00", 1);
    add_hdr(s, M, 0, 0x1F, 8);
    buf_add(s, "\x00", 1);
    add_hdr(s, M, L, 0x1F, 0);
    add_frame(s, M, FL, BS_PROTO_UNSTUFF, BS_RULE_CAN, "0");
    expect_next(BS_PROTO_ROLE_SERVER, s,
                "ERR(21,-) ERR(21,-) ERR(21,-) B(b,unstuff,can) D(0) END");
    /* a FIRST chunk ends the skipping: the failed message has had its
     * reply, so no sequence error */
    add_hdr(s, M, F, 0x40, 8);
    buf_add(s, "\xff", 1);
    add_frame(s, M, FL, BS_PROTO_STUFF, BS_RULE_USB, "01");
    add_frame(s, M, L, BS_PROTO_STUFF, BS_RULE_USB, "1");
    expect_buf(BS_PROTO_ROLE_SERVER, s,
               "ERR(21,-) B(b,stuff,usb) D(01) END ERR(25,-)");
}

static void test_huge_lengths(void **state)
{
    struct buf *s = *state;
    uint8_t *big = calloc(1, BS_PROTO_FRAME_MAX);
    uint8_t *payload = malloc(BS_PROTO_MAX_CHUNK_BITS / 8);
    size_t n;

    assert_non_null(big);
    assert_non_null(payload);
    memset(payload, 0x5a, BS_PROTO_MAX_CHUNK_BITS / 8);
    add_hdr(s, M, FL, 0x00, 0xFFFFFFFFu);
    expect_next(BS_PROTO_ROLE_SERVER, s, "FATAL(26,-)");
    add_hdr(s, M, FL, 0x00, BS_PROTO_MAX_CHUNK_BITS + 1);
    buf_add(s, big, 100);
    expect_buf(BS_PROTO_ROLE_SERVER, s, "FATAL(26,-)");

    /* the largest chunk is fine; its DATA comes as it arrives */
    n = bs_proto_put_frame(big, BS_PROTO_FRAME_MAX, M, FL, BS_PROTO_STUFF,
                           BS_RULE_HDLC, payload, BS_PROTO_MAX_CHUNK_BITS);
    assert_int_equal(n, BS_PROTO_FRAME_MAX);
    {
        char *got = run(BS_PROTO_ROLE_SERVER, NULL, big, n, RANDOM, 3, 0, NULL);
        assert_int_equal(strlen(got), strlen("B(b,stuff,hdlc) D() END") +
                                          BS_PROTO_MAX_CHUNK_BITS);
        assert_string_equal(got + strlen(got) - 5, ") END");
        free(got);
    }
    /* a declared length with too little data is just waited for */
    assert_false(idle_after(BS_PROTO_ROLE_SERVER, big, 1000));
    free(payload);
    free(big);
}

static void test_binary_message_limit(void **state)
{
    const struct bs_proto_limits lim = {BS_PROTO_DEFAULT_MAX_LINE, 12};
    struct buf *s = *state;

    /* one chunk over the limit: refused at its header */
    add_frame(s, M, FL, BS_PROTO_STUFF, BS_RULE_HDLC, "0000000011111111");
    add_frame(s, M, FL, BS_PROTO_STUFF, BS_RULE_HDLC, "000000001111");
    expect_lim(BS_PROTO_ROLE_SERVER, &lim, s->b, s->n, 0,
               "ERR(23,12) B(b,stuff,hdlc) D(000000001111) END");
    /* the chunk that crosses it: the message ends there, the rest of it
     * up to LAST is skipped */
    s->n = 0;
    add_frame(s, M, F, BS_PROTO_STUFF, BS_RULE_HDLC, "00000000");
    add_frame(s, M, 0, BS_PROTO_STUFF, BS_RULE_HDLC, "11111111");
    add_frame(s, M, L, BS_PROTO_STUFF, BS_RULE_HDLC, "1");
    add_frame(s, M, FL, BS_PROTO_STUFF, BS_RULE_USB, "1");
    expect_lim(BS_PROTO_ROLE_SERVER, &lim, s->b, s->n, 0,
               "B(b,stuff,hdlc) D(00000000) ERR(23,12) "
               "B(b,stuff,usb) D(1) END");
}

#define SEQ_FRAMES 6

static void test_sequence(void **state)
{
    /* Each step: its frames, then a text line (maybe empty), and the log
     * they give; the stream is emptied between steps. */
    static const struct {
        struct frame frame[SEQ_FRAMES]; /* up to the first without bits */
        const char *line;
        const char *want;
    } steps[] = {
        /* no FIRST, no message open: answered, skipped to its LAST */
        {{{M, 0, BS_PROTO_STUFF, BS_RULE_HDLC, "00000000"},
          {M, L, BS_PROTO_STUFF, BS_RULE_HDLC, "1"},
          {M, FL, BS_PROTO_STUFF, BS_RULE_HDLC, "1"},
          {M, L, BS_PROTO_STUFF, BS_RULE_HDLC, "0"}},
         "",
         "ERR(25,-) B(b,stuff,hdlc) D(1) END ERR(25,-)"},
        /* FIRST while a message is open: that one fails, this one begins */
        {{{M, F, BS_PROTO_STUFF, BS_RULE_HDLC, "00000000"},
          {M, FL, BS_PROTO_UNSTUFF, BS_RULE_USB, "0110"}},
         "",
         "B(b,stuff,hdlc) D(00000000) ERR(25,-) "
         "B(b,unstuff,usb) D(0110) END"},
        /* the most events in a row that consume nothing: ERROR, then BEGIN
         * and END of an empty chunk, then BEGIN of a text line */
        {{{M, F, BS_PROTO_STUFF, BS_RULE_USB, "11111101"},
          {M, FL, BS_PROTO_STUFF, BS_RULE_USB, ""}},
         "0\n",
         "B(b,stuff,usb) D(11111101) ERR(25,-) B(b,stuff,usb) END "
         "B(t,stuff,hdlc) D(0) END"},
        /* a later chunk with another op or rule */
        {{{M, F, BS_PROTO_STUFF, BS_RULE_HDLC, "0"},
          {M, 0, BS_PROTO_UNSTUFF, BS_RULE_HDLC, "1"},
          {M, L, BS_PROTO_STUFF, BS_RULE_HDLC, "1"},
          {M, F, BS_PROTO_STUFF, BS_RULE_HDLC, "0"},
          {M, L, BS_PROTO_STUFF, BS_RULE_CAN, "1"},
          {M, FL, BS_PROTO_STUFF, BS_RULE_CAN, ""}},
         "",
         "B(b,stuff,hdlc) D(0) ERR(25,-) "
         "B(b,stuff,hdlc) D(0) ERR(25,-) B(b,stuff,can) END"},
    };
    struct buf *s = *state;

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        for (size_t j = 0; j < SEQ_FRAMES && steps[i].frame[j].bits != NULL;
             j++) {
            const struct frame *f = &steps[i].frame[j];

            add_frame(s, f->type, f->flags, f->op, f->rule, f->bits);
        }
        buf_str(s, steps[i].line);
        expect_next(BS_PROTO_ROLE_SERVER, s, steps[i].want);
    }
}

static void test_fatal(void **state)
{
    struct buf *s = *state;
    struct bs_proto_decoder d;
    struct bs_proto_event ev;

    expect_hdr(BS_PROTO_ROLE_SERVER, R, FL, 0, 0, "FATAL(26,-)");
    expect_hdr(BS_PROTO_ROLE_SERVER, BS_PROTO_TYPE_ERROR, L, 0, 12,
               "FATAL(26,-)");
    expect_hdr(BS_PROTO_ROLE_SERVER, M, FL | 0x04, 0, 0, "FATAL(26,-)");
    expect_hdr(BS_PROTO_ROLE_SERVER, M, 0x80, 0, 0, "FATAL(26,-)");
    /* text where the next chunk of an open message must be */
    add_frame(s, M, F, BS_PROTO_STUFF, BS_RULE_HDLC, "01");
    buf_str(s, "01\n");
    expect_next(BS_PROTO_ROLE_SERVER, s, "B(b,stuff,hdlc) D(01) FATAL(26,-)");
    /* ... also while its rest is being skipped */
    add_hdr(s, M, F, 0x30, 0);
    buf_str(s, "01\n");
    expect_buf(BS_PROTO_ROLE_SERVER, s, "ERR(21,-) FATAL(26,-)");

    /* FATAL sticks and swallows whatever follows */
    bs_proto_decoder_init(&d, BS_PROTO_ROLE_SERVER, NULL);
    assert_int_equal(bs_proto_decode(&d, s->b, s->n, &ev), 8);
    assert_int_equal(ev.type, BS_PROTO_EV_ERROR);
    assert_int_equal(bs_proto_decode(&d, s->b + 8, 3, &ev), 0);
    assert_int_equal(ev.type, BS_PROTO_EV_FATAL);
    assert_int_equal(ev.code, BS_PROTO_E_BAD_FRAME);
    assert_non_null(ev.message);
    assert_int_equal(bs_proto_decode(&d, s->b + 8, 3, &ev), 3);
    assert_int_equal(ev.type, BS_PROTO_EV_FATAL);
    assert_int_equal(ev.code, BS_PROTO_E_BAD_FRAME);
    assert_int_equal(bs_proto_decode(&d, NULL, 0, &ev), 0);
    assert_int_equal(ev.type, BS_PROTO_EV_FATAL);
    assert_false(bs_proto_decoder_idle(&d));
}

/* ---- client role --------------------------------------------------- */

static void add_error(struct buf *s, enum bs_proto_op op, enum bs_rule rule,
                      unsigned code, uint64_t offset, const char *msg)
{
    uint8_t out[BS_PROTO_ERROR_MAX];
    size_t n = bs_proto_put_error(out, sizeof(out), BS_PROTO_BINARY, op, rule,
                                  code, offset, msg);
    assert_int_not_equal(n, 0);
    buf_add(s, out, n);
}

static void test_client_replies(void **state)
{
    struct buf *s = *state;

    add_frame(s, R, FL, BS_PROTO_STUFF, BS_RULE_HDLC,
              "010111110100111110001010");
    add_frame(s, R, F, BS_PROTO_UNSTUFF, BS_RULE_CAN, "00000000");
    add_frame(s, R, L, BS_PROTO_UNSTUFF, BS_RULE_CAN, "1");
    add_frame(s, R, FL, BS_PROTO_UNSTUFF, BS_RULE_CAN, "");
    expect_buf(BS_PROTO_ROLE_CLIENT, s,
               "B(b,stuff,hdlc) D(010111110100111110001010) END "
               "B(b,unstuff,can) D(000000001) END B(b,unstuff,can) END");
    assert_true(idle_after(BS_PROTO_ROLE_CLIENT, s->b, s->n));
}

static void test_client_error_frames(void **state)
{
    struct buf *s = *state;
    char long_msg[2001], want[1200];

    add_error(s, BS_PROTO_UNSTUFF, BS_RULE_HDLC, BS_PROTO_E_FLAG, 5,
              "six 1s in a row");
    add_frame(s, R, F, BS_PROTO_UNSTUFF, BS_RULE_USB, "11111100");
    add_error(s, BS_PROTO_UNSTUFF, BS_RULE_USB, BS_PROTO_E_STUFF_BIT, 17,
              "wrong\r\nbit");
    add_error(s, BS_PROTO_STUFF, BS_RULE_HDLC, 999, BS_PROTO_NO_OFFSET, NULL);
    expect_lim(BS_PROTO_ROLE_CLIENT, NULL, s->b, s->n, 1,
               "ERR(4,5,six 1s in a row) B(b,unstuff,usb) D(11111100) "
               "ERR(6,17,wrongbit) ERR(999,-,unknown error)");

    /* the longest message arrives whole; longer ones were cut */
    s->n = 0;
    memset(long_msg, 'x', 2000);
    long_msg[2000] = '\0';
    long_msg[0] = 'A';
    long_msg[1023] = 'Z';
    add_error(s, BS_PROTO_STUFF, BS_RULE_CAN, BS_PROTO_E_BUSY, 0, long_msg);
    assert_int_equal(s->n, BS_PROTO_HDR_LEN + 12 + BS_PROTO_MAX_ERR_MSG);
    snprintf(want, sizeof(want), "ERR(27,0,%.1024s)", long_msg);
    expect_lim(BS_PROTO_ROLE_CLIENT, NULL, s->b, s->n, 1, want);

    /* control characters from the server never reach the terminal */
    s->n = 0;
    add_hdr(s, BS_PROTO_TYPE_ERROR, L, 0x01, 12 + 9);
    buf_add(s, "\x00\x1b\x00\x00\x00\x00\x00\x00\x00\x00\x01\x02", 12);
    buf_add(s, "a\x1b[31mb\0\x7f", 9);
    expect_lim(BS_PROTO_ROLE_CLIENT, NULL, s->b, s->n, 1,
               "ERR(27,258,a?[31mb?"
               "?)");
}

static void test_client_violations(void **state)
{
    const struct bs_proto_limits lim = {BS_PROTO_DEFAULT_MAX_LINE, 8};
    struct buf *s = *state;

    buf_str(s, "OK 0101\n");
    expect_next(BS_PROTO_ROLE_CLIENT, s, "FATAL(26,-)");
    add_frame(s, M, FL, BS_PROTO_STUFF, BS_RULE_HDLC, "1");
    expect_next(BS_PROTO_ROLE_CLIENT, s, "FATAL(26,-)");
    add_frame(s, R, L, BS_PROTO_STUFF, BS_RULE_HDLC, "1");
    expect_next(BS_PROTO_ROLE_CLIENT, s, "FATAL(25,-)");
    add_frame(s, R, F, BS_PROTO_STUFF, BS_RULE_HDLC, "1");
    add_frame(s, R, F, BS_PROTO_STUFF, BS_RULE_HDLC, "1");
    expect_next(BS_PROTO_ROLE_CLIENT, s, "B(b,stuff,hdlc) D(1) FATAL(25,-)");
    add_frame(s, R, F, BS_PROTO_STUFF, BS_RULE_HDLC, "1");
    add_frame(s, R, L, BS_PROTO_STUFF, BS_RULE_USB, "1");
    expect_next(BS_PROTO_ROLE_CLIENT, s, "B(b,stuff,hdlc) D(1) FATAL(25,-)");
    add_hdr(s, R, FL, 0x00, 1);
    buf_add(s, "\xc0", 1);
    expect_buf(BS_PROTO_ROLE_CLIENT, s, "B(b,stuff,hdlc) FATAL(24,-)");
    expect_hdr(BS_PROTO_ROLE_CLIENT, R, FL, 0x05, 0, "FATAL(21,-)");
    expect_hdr(BS_PROTO_ROLE_CLIENT, R, FL, 0x00, BS_PROTO_MAX_CHUNK_BITS + 1,
               "FATAL(26,-)");
    expect_hdr(BS_PROTO_ROLE_CLIENT, BS_PROTO_TYPE_ERROR, L, 0x00, 11,
               "FATAL(26,-)");
    expect_hdr(BS_PROTO_ROLE_CLIENT, BS_PROTO_TYPE_ERROR, L, 0x00,
               12 + BS_PROTO_MAX_ERR_MSG + 1, "FATAL(26,-)");
    expect_hdr(BS_PROTO_ROLE_CLIENT, BS_PROTO_TYPE_ERROR, F, 0x00, 12,
               "FATAL(26,-)");
    expect_hdr(BS_PROTO_ROLE_CLIENT, BS_PROTO_TYPE_ERROR, L | 0x08, 0x00, 12,
               "FATAL(26,-)");
    s->n = 0;
    add_frame(s, R, F, BS_PROTO_STUFF, BS_RULE_HDLC, "11110000");
    add_frame(s, R, L, BS_PROTO_STUFF, BS_RULE_HDLC, "1");
    expect_lim(BS_PROTO_ROLE_CLIENT, &lim, s->b, s->n, 0,
               "B(b,stuff,hdlc) D(11110000) FATAL(23,-)");
}

/* ---- encoders ------------------------------------------------------ */

static void test_put_error_text(void **state)
{
    uint8_t out[BS_PROTO_ERROR_MAX + 1];
    char want[BS_PROTO_ERROR_MAX + 1], msg[1100];
    size_t n;

    (void) state;
    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_TEXT, BS_PROTO_UNSTUFF,
                           BS_RULE_HDLC, BS_PROTO_E_FLAG, 5, NULL);
    snprintf(want, sizeof(want), "ERR 4 flag 5 %s\n", bs_strerror(BS_ERR_FLAG));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);

    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_TEXT, BS_PROTO_STUFF,
                           BS_RULE_HDLC, BS_PROTO_E_BAD_COMMAND,
                           BS_PROTO_NO_OFFSET, "no\r\nsuch\rcommand\n");
    assert_int_equal(n, strlen("ERR 20 bad-command - nosuchcommand\n"));
    assert_memory_equal(out, "ERR 20 bad-command - nosuchcommand\n", n);

    /* a message of only line breaks gets the default text */
    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_TEXT, BS_PROTO_STUFF,
                           BS_RULE_HDLC, BS_PROTO_E_BUSY, 0, "\r\n");
    snprintf(want, sizeof(want), "ERR 27 busy 0 %s\n",
             bs_proto_code_text(BS_PROTO_E_BUSY));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);

    /* exact capacity works, one less does not */
    assert_int_equal(bs_proto_put_error(out, n, BS_PROTO_TEXT, BS_PROTO_STUFF,
                                        BS_RULE_HDLC, BS_PROTO_E_BUSY, 0,
                                        "\r\n"),
                     n);
    assert_int_equal(bs_proto_put_error(out, n - 1, BS_PROTO_TEXT,
                                        BS_PROTO_STUFF, BS_RULE_HDLC,
                                        BS_PROTO_E_BUSY, 0, NULL),
                     0);
    assert_int_equal(bs_proto_put_error(NULL, 100, BS_PROTO_TEXT,
                                        BS_PROTO_STUFF, BS_RULE_HDLC, 3, 0,
                                        NULL),
                     0);
    assert_int_equal(bs_proto_put_error(out, sizeof(out), BS_PROTO_TEXT,
                                        BS_PROTO_STUFF, BS_RULE_HDLC, 65536, 0,
                                        NULL),
                     0);

    /* the longest line fits BS_PROTO_ERROR_MAX */
    memset(msg, 'm', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_TEXT, BS_PROTO_STUFF,
                           BS_RULE_HDLC, BS_PROTO_E_LINE_TOO_LONG,
                           UINT64_MAX - 1, msg);
    assert_int_equal(n, strlen("ERR 22 line-too-long 18446744073709551614 ") +
                            BS_PROTO_MAX_ERR_MSG + 1);
    assert_true(n <= BS_PROTO_ERROR_MAX);
    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_TEXT, BS_PROTO_STUFF,
                           BS_RULE_HDLC, 65535, UINT64_MAX - 1, msg);
    assert_true(n > 0 && n <= BS_PROTO_ERROR_MAX);
    assert_memory_equal(out, "ERR 65535 unknown ", 18);

    /* the cut never splits a UTF-8 character */
    memset(msg, 'a', 1023);
    memcpy(msg + 1023, "\xc3\xa9z", 4);
    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_TEXT, BS_PROTO_STUFF,
                           BS_RULE_HDLC, BS_PROTO_E_CHAR, 0, msg);
    assert_int_equal(n, strlen("ERR 3 char 0 ") + 1023 + 1);
    assert_int_equal(out[n - 2], 'a');
    /* ... nor drops more than one character's start from bad UTF-8 */
    memset(msg, 0x80, 1099);
    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_TEXT, BS_PROTO_STUFF,
                           BS_RULE_HDLC, BS_PROTO_E_CHAR, 0, msg);
    assert_int_equal(n, strlen("ERR 3 char 0 ") + 1024 + 1);
    memset(msg, 'a', 1099);
    memcpy(msg + 1021, "\xf0\x9f\x98\x80", 4); /* a 4-byte character */
    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_TEXT, BS_PROTO_STUFF,
                           BS_RULE_HDLC, BS_PROTO_E_CHAR, 0, msg);
    assert_int_equal(n, strlen("ERR 3 char 0 ") + 1021 + 1);
}

static void test_put_error_binary(void **state)
{
    static const unsigned codes[] = {3,  4,  5,  6,  7,  20, 21,
                                     22, 23, 24, 25, 26, 27};
    static const uint64_t offsets[] = {0, 5, 1ULL << 40, BS_PROTO_NO_OFFSET};
    uint8_t out[BS_PROTO_ERROR_MAX];
    uint64_t seed = 42;

    (void) state;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        for (size_t j = 0; j < sizeof(offsets) / sizeof(offsets[0]); j++) {
            char msg[64], want[160];
            struct buf s = {0};
            size_t len = 1 + (size_t) (rng_next(&seed) % 60);
            for (size_t k = 0; k < len; k++) {
                msg[k] = (char) (' ' + rng_next(&seed) % 95);
            }
            msg[len] = '\0';
            add_error(&s, BS_PROTO_UNSTUFF, BS_RULE_USB, codes[i], offsets[j],
                      msg);
            if (offsets[j] == BS_PROTO_NO_OFFSET) {
                snprintf(want, sizeof(want), "ERR(%u,-,%s)", codes[i], msg);
            } else {
                snprintf(want, sizeof(want), "ERR(%u,%llu,%s)", codes[i],
                         (unsigned long long) offsets[j], msg);
            }
            expect_lim(BS_PROTO_ROLE_CLIENT, NULL, s.b, s.n, 1, want);
            free(s.b);
        }
    }
    /* the header: 'E', LAST, the request's op and rule */
    assert_int_equal(bs_proto_put_error(out, sizeof(out), BS_PROTO_BINARY,
                                        BS_PROTO_UNSTUFF, BS_RULE_CAN, 7, 9,
                                        "cut"),
                     8 + 12 + 3);
    assert_memory_equal(out,
                        "\xb5\x45\x02\x12\x00\x00\x00\x0f"
                        "\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x09"
                        "cut",
                        23);
    assert_int_equal(bs_proto_put_error(out, 22, BS_PROTO_BINARY,
                                        BS_PROTO_UNSTUFF, BS_RULE_CAN, 7, 9,
                                        "cut"),
                     0);
    assert_int_equal(bs_proto_put_error(out, sizeof(out), BS_PROTO_BINARY,
                                        BS_PROTO_UNSTUFF, (enum bs_rule) 3, 7,
                                        9, "cut"),
                     0);
}

static void test_put_header_and_frame(void **state)
{
    uint8_t out[BS_PROTO_HDR_LEN + 64], bits[64];
    uint64_t seed = 7;

    (void) state;
    assert_int_equal(bs_proto_put_header(out, sizeof(out), M, FL,
                                         BS_PROTO_UNSTUFF, BS_RULE_USB, 22),
                     8);
    assert_memory_equal(out, "\xb5\x4d\x03\x11\x00\x00\x00\x16", 8);
    assert_int_equal(
        bs_proto_put_header(out, 7, M, FL, BS_PROTO_STUFF, BS_RULE_HDLC, 0), 0);
    assert_int_equal(
        bs_proto_put_header(out, 8, 'X', FL, BS_PROTO_STUFF, BS_RULE_HDLC, 0),
        0);
    assert_int_equal(
        bs_proto_put_header(out, 8, M, 4, BS_PROTO_STUFF, BS_RULE_HDLC, 0), 0);
    assert_int_equal(bs_proto_put_header(out, 8, M, FL, (enum bs_proto_op) 2,
                                         BS_RULE_HDLC, 0),
                     0);
    assert_int_equal(
        bs_proto_put_header(out, 8, R, FL, BS_PROTO_STUFF, (enum bs_rule) 3, 0),
        0);
    assert_int_equal(bs_proto_put_header(out, 8, R, FL, BS_PROTO_STUFF,
                                         BS_RULE_HDLC,
                                         BS_PROTO_MAX_CHUNK_BITS + 1),
                     0);
    assert_int_equal(bs_proto_put_header(out, 8, BS_PROTO_TYPE_ERROR, L,
                                         BS_PROTO_STUFF, BS_RULE_HDLC, 11),
                     0);
    assert_int_equal(bs_proto_put_header(out, 8, BS_PROTO_TYPE_ERROR, L,
                                         BS_PROTO_STUFF, BS_RULE_HDLC, 12),
                     8);

    /* frames round-trip through the decoder; pad bits are cleared */
    for (int iter = 0; iter < 200; iter++) {
        uint32_t nbits = (uint32_t) (rng_next(&seed) % 200);
        char text[256], want[300];
        struct buf s = {0};
        size_t n;
        for (size_t i = 0; i < sizeof(bits); i++) {
            bits[i] = (uint8_t) rng_next(&seed);
        }
        for (uint32_t i = 0; i < nbits; i++) {
            text[i] = (char) ('0' + ((bits[i / 8] >> (7 - i % 8)) & 1));
        }
        text[nbits] = '\0';
        n = bs_proto_put_frame(out, sizeof(out), iter % 2 ? M : R, FL,
                               BS_PROTO_UNSTUFF, BS_RULE_CAN, bits, nbits);
        assert_int_equal(n, 8 + (nbits + 7) / 8);
        buf_add(&s, out, n);
        snprintf(want, sizeof(want),
                 nbits ? "B(b,unstuff,can) D(%s) END"
                       : "B(b,unstuff,can) END%s",
                 text);
        expect_lim(iter % 2 ? BS_PROTO_ROLE_SERVER : BS_PROTO_ROLE_CLIENT, NULL,
                   s.b, s.n, 0, want);
        free(s.b);
    }
    assert_int_equal(bs_proto_put_frame(out, sizeof(out), BS_PROTO_TYPE_ERROR,
                                        L, BS_PROTO_STUFF, BS_RULE_HDLC, bits,
                                        8),
                     0);
    assert_int_equal(bs_proto_put_frame(out, 8 + 2, M, FL, BS_PROTO_STUFF,
                                        BS_RULE_HDLC, bits, 17),
                     0);
    assert_int_equal(bs_proto_put_frame(out, 8 + 3, M, FL, BS_PROTO_STUFF,
                                        BS_RULE_HDLC, bits, 17),
                     11);
    assert_int_equal(bs_proto_put_frame(out, sizeof(out), M, FL, BS_PROTO_STUFF,
                                        BS_RULE_HDLC, NULL, 1),
                     0);
    assert_int_equal(bs_proto_put_frame(out, sizeof(out), M, FL, BS_PROTO_STUFF,
                                        BS_RULE_HDLC, NULL, 0),
                     8);
}

static void test_put_ok_line(void **state)
{
    uint8_t out[32];

    (void) state;
    assert_int_equal(bs_proto_put_ok_line(out, sizeof(out), NULL, 0), 3);
    assert_memory_equal(out, "OK\n", 3);
    assert_int_equal(bs_proto_put_ok_line(out, sizeof(out), "0110", 4), 8);
    assert_memory_equal(out, "OK 0110\n", 8);
    assert_int_equal(bs_proto_put_ok_line(out, 8, "0110", 4), 8);
    assert_int_equal(bs_proto_put_ok_line(out, 7, "0110", 4), 0);
    assert_int_equal(bs_proto_put_ok_line(out, 2, NULL, 0), 0);
    assert_int_equal(bs_proto_put_ok_line(out, sizeof(out), "0120", 4), 0);
    assert_int_equal(bs_proto_put_ok_line(NULL, sizeof(out), "01", 2), 0);
}

static void test_code_names(void **state)
{
    static const char *const names[] = {
        [3] = "char",         [4] = "flag",           [5] = "abort",
        [6] = "stuff-bit",    [7] = "truncated",      [20] = "bad-command",
        [21] = "bad-rule",    [22] = "line-too-long", [23] = "too-long",
        [24] = "bad-padding", [25] = "sequence",      [26] = "bad-frame",
        [27] = "busy",
    };

    (void) state;
    for (unsigned c = 0; c < 40; c++) {
        const char *want = c < 28 && names[c] ? names[c] : "unknown";
        assert_string_equal(bs_proto_code_name(c), want);
        assert_non_null(bs_proto_code_text(c));
        if (c < 28 && names[c]) {
            assert_string_not_equal(bs_proto_code_text(c), "unknown error");
        }
    }
    assert_string_equal(bs_proto_code_text(BS_PROTO_E_FLAG),
                        bs_strerror(BS_ERR_FLAG));
    assert_string_equal(bs_proto_code_name(UINT32_MAX), "unknown");
    for (int st = BS_ERR_CHAR; st <= BS_ERR_TRUNCATED; st++) {
        assert_int_equal(bs_proto_code_from_status((bs_status) st), st);
        assert_string_equal(bs_proto_code_name((unsigned) st),
                            bs_status_name((bs_status) st));
    }
    assert_int_equal(bs_proto_code_from_status(BS_OK), BS_PROTO_E_BUSY);
    assert_int_equal(bs_proto_code_from_status(BS_ERR_NOSPACE),
                     BS_PROTO_E_BUSY);
}

/* Wire code code is named name, and goes out as it is in both forms. */
static void check_wire_code(unsigned code, const char *name)
{
    uint8_t out[BS_PROTO_ERROR_MAX + 8];
    char want[64];
    size_t n;

    assert_string_equal(bs_proto_code_name(code), name);
    /* text: "ERR <code> <name> - " */
    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_TEXT, BS_PROTO_STUFF,
                           BS_RULE_HDLC, code, BS_PROTO_NO_OFFSET, "m");
    snprintf(want, sizeof(want), "ERR %u %s - m\n", code, name);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    /* binary: the code big-endian in the 'E' payload */
    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_BINARY, BS_PROTO_STUFF,
                           BS_RULE_HDLC, code, BS_PROTO_NO_OFFSET, "m");
    assert_int_equal(n, 8 + 12 + 1);
    assert_int_equal(out[8] << 8 | out[9], code);
}

/*
 * Every wire value against its number in docs/PROTOCOL.md, read back
 * from what the encoders write (so a renumbered enum shows up here as
 * well as in proto.c's _Static_asserts).
 */
static void test_wire_values(void **state)
{
    /* the stuffing errors, and the statuses they stand for */
    static const struct {
        unsigned code;
        const char *name;
        bs_status status;
    } stuffing[] = {
        {3, "char", BS_ERR_CHAR},           {4, "flag", BS_ERR_FLAG},
        {5, "abort", BS_ERR_ABORT},         {6, "stuff-bit", BS_ERR_STUFF_BIT},
        {7, "truncated", BS_ERR_TRUNCATED},
    };
    /* the protocol's own codes: no status */
    static const struct {
        unsigned code;
        const char *name;
    } own[] = {
        {20, "bad-command"}, {21, "bad-rule"},    {22, "line-too-long"},
        {23, "too-long"},    {24, "bad-padding"}, {25, "sequence"},
        {26, "bad-frame"},   {27, "busy"},
    };
    static const struct {
        enum bs_proto_op op;
        enum bs_rule rule;
        uint8_t byte; /* header byte 3: op nibble, rule nibble */
    } nibbles[] = {
        {BS_PROTO_STUFF, BS_RULE_HDLC, 0x00},
        {BS_PROTO_STUFF, BS_RULE_USB, 0x01},
        {BS_PROTO_STUFF, BS_RULE_CAN, 0x02},
        {BS_PROTO_UNSTUFF, BS_RULE_HDLC, 0x10},
        {BS_PROTO_UNSTUFF, BS_RULE_USB, 0x11},
        {BS_PROTO_UNSTUFF, BS_RULE_CAN, 0x12},
    };
    static const uint8_t types[] = {0x4D, 0x52, 0x45};
    uint8_t out[BS_PROTO_ERROR_MAX + 8];

    (void) state;
    assert_string_equal(BS_PROTO_ALPN, "bitstuff/1");
    assert_int_equal(BS_PROTO_ALPN_LEN, 10);
    assert_int_equal(strlen(BS_PROTO_ALPN), BS_PROTO_ALPN_LEN);
    for (size_t i = 0; i < sizeof(stuffing) / sizeof(stuffing[0]); i++) {
        check_wire_code(stuffing[i].code, stuffing[i].name);
        assert_int_equal(bs_proto_code_from_status(stuffing[i].status),
                         stuffing[i].code);
    }
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        check_wire_code(own[i].code, own[i].name);
    }
    assert_int_equal(bs_proto_code_from_status(BS_OK), 27);
    assert_int_equal(bs_proto_code_from_status(BS_ERR_ARG), 27);
    assert_int_equal(bs_proto_code_from_status(BS_ERR_NOSPACE), 27);
    for (size_t i = 0; i < sizeof(nibbles) / sizeof(nibbles[0]); i++) {
        for (size_t t = 0; t < sizeof(types); t++) {
            uint32_t len = types[t] == 0x45 ? 12 : 3;

            assert_int_equal(bs_proto_put_header(out, 8, types[t], 0x03,
                                                 nibbles[i].op, nibbles[i].rule,
                                                 len),
                             8);
            assert_int_equal(out[0], 0xB5);
            assert_int_equal(out[1], types[t]);
            assert_int_equal(out[2], 0x03); /* FIRST 0x01 | LAST 0x02 */
            assert_int_equal(out[3], nibbles[i].byte);
            assert_int_equal(out[7], len);
        }
    }
    assert_int_equal(bs_proto_put_header(out, 8, 0x4D, 0x04, BS_PROTO_STUFF,
                                         BS_RULE_HDLC, 0),
                     0); /* bits 2-7 reserved */
    assert_int_equal(bs_proto_put_header(out, 8, 0x4D, 0x01, BS_PROTO_STUFF,
                                         BS_RULE_COUNT, 0),
                     0);
    assert_int_equal(bs_proto_op_dir(BS_PROTO_STUFF), BS_DIR_STUFF);
    assert_int_equal(bs_proto_op_dir(BS_PROTO_UNSTUFF), BS_DIR_UNSTUFF);
    assert_int_equal(bs_proto_dir_op(BS_DIR_STUFF), BS_PROTO_STUFF);
    assert_int_equal(bs_proto_dir_op(BS_DIR_UNSTUFF), BS_PROTO_UNSTUFF);
    assert_int_equal(BS_PROTO_MAX_CHUNK_BITS, 524288);
    assert_int_equal(BS_PROTO_MAX_ERR_MSG, 1024);
    assert_int_equal(BS_PROTO_DEFAULT_MAX_LINE, 65536);
    assert_true(BS_PROTO_DEFAULT_MAX_MESSAGE_BITS == 8589934592ull);
}

/* The codec says which limit broke in the protocol's words (max_line,
 * max_message_bits, docs/PROTOCOL.md section 6), never a program's
 * command-line option: those are for the program to add. */
static void test_limit_messages_are_neutral(void **state)
{
    const struct bs_proto_limits lim = {16, 8};
    static const char *const inputs[] = {
        "stuff                    0\n", /* over max_line */
        "000000000\n",                  /* over max_message_bits */
    };
    struct bs_proto_decoder d;
    struct bs_proto_event ev;
    int seen = 0;

    (void) state;
    for (size_t i = 0; i < 2; i++) {
        const uint8_t *p = (const uint8_t *) inputs[i];
        size_t left = strlen(inputs[i]), n;

        bs_proto_decoder_init(&d, BS_PROTO_ROLE_SERVER, &lim);
        while ((n = bs_proto_decode(&d, p, left, &ev)),
               ev.type != BS_PROTO_EV_NONE) {
            p += n;
            left -= n;
            if (ev.type == BS_PROTO_EV_ERROR) {
                assert_int_equal(ev.code, i == 0 ? BS_PROTO_E_LINE_TOO_LONG
                                                 : BS_PROTO_E_TOO_LONG);
                assert_null(strstr(ev.message, "--"));
                assert_non_null(
                    strstr(ev.message, ev.code == BS_PROTO_E_TOO_LONG
                                           ? "max_message_bits"
                                           : "max_line"));
                seen++;
            }
        }
    }
    /* and a binary message over the limit, refused at its header */
    {
        uint8_t frame[BS_PROTO_FRAME_MAX];
        uint8_t bits[2] = {0, 0};
        size_t len =
            bs_proto_put_frame(frame, sizeof(frame), BS_PROTO_TYPE_MSG, 0x03,
                               BS_PROTO_STUFF, BS_RULE_HDLC, bits, 9);

        bs_proto_decoder_init(&d, BS_PROTO_ROLE_SERVER, &lim);
        bs_proto_decode(&d, frame, len, &ev);
        assert_int_equal(ev.type, BS_PROTO_EV_ERROR);
        assert_int_equal(ev.code, BS_PROTO_E_TOO_LONG);
        assert_int_equal(ev.offset, 8);
        assert_null(strstr(ev.message, "--"));
        seen++;
    }
    assert_int_equal(seen, 3);
}

/* The sentences that list the rules for a user name every rule in the
 * table (a new rule fails here until they do), with its nibble in the
 * binary one. */
static void test_rule_lists_name_every_rule(void **state)
{
    struct bs_proto_decoder d;
    struct bs_proto_event ev;
    const char *word_msg, *nibble_msg;
    uint8_t hdr[BS_PROTO_HDR_LEN] = {0xB5, 0x4D, 0x03, 0x0F, 0, 0, 0, 0};
    char want[32];

    (void) state;
    bs_proto_decoder_init(&d, BS_PROTO_ROLE_SERVER, NULL);
    bs_proto_decode(&d, (const uint8_t *) "stuff x\n", 8, &ev);
    assert_int_equal(ev.type, BS_PROTO_EV_ERROR);
    assert_int_equal(ev.code, BS_PROTO_E_BAD_RULE);
    word_msg = ev.message;
    bs_proto_decoder_init(&d, BS_PROTO_ROLE_SERVER, NULL);
    bs_proto_decode(&d, hdr, sizeof(hdr), &ev);
    assert_int_equal(ev.type, BS_PROTO_EV_ERROR);
    assert_int_equal(ev.code, BS_PROTO_E_BAD_RULE);
    nibble_msg = ev.message;
    for (int i = 0; i < BS_RULE_COUNT; i++) {
        const char *name = bs_rule_name((enum bs_rule) i);

        assert_non_null(strstr(bs_proto_code_text(BS_PROTO_E_BAD_RULE), name));
        assert_non_null(strstr(word_msg, name));
        snprintf(want, sizeof(want), "%d %s", i, name);
        assert_non_null(strstr(nibble_msg, want));
    }
}

/* ---- split invariance over random streams --------------------------- */

/* A random stream made of protocol-shaped pieces, valid and not. */
static void random_stream(struct buf *s, uint64_t *seed, int client)
{
    static const char *const words[] = {
        "stuff", "UNSTUFF", "usb", "hdlc", "can", "0", "1",   "0101111110",
        " ",     "\t",      "\r",  "\n",   "\n",  "x", "\xb5"};
    int pieces = 1 + (int) (rng_next(seed) % 30);

    for (int i = 0; i < pieces; i++) {
        uint64_t r = rng_next(seed);
        if (r % 3 == 0) {
            unsigned type = client ? (r & 8 ? R : BS_PROTO_TYPE_ERROR) : M;
            unsigned flags = (unsigned) (r >> 8) % 4;
            uint32_t len = (uint32_t) ((r >> 16) % 40);
            if (r % 97 == 0) {
                type = (unsigned) (r >> 24) & 0xFF;
            }
            if (r % 89 == 0) {
                flags |= 0x40;
            }
            if (type == BS_PROTO_TYPE_ERROR) {
                flags |= (r % 13 != 0) ? L : 0;
                len += 12;
            }
            add_hdr(s, type, flags,
                    (unsigned) (r >> 32) % 19 < 16 ? 0x01 : 0x31, len);
            for (uint32_t k = 0;
                 k < (type == BS_PROTO_TYPE_ERROR ? len : (len + 7) / 8); k++)
            {
                uint8_t b = (uint8_t) rng_next(seed);
                if (r % 5 != 0 && k + 1 == (len + 7) / 8) {
                    b = (uint8_t) (b & (0xFF00u >> (len % 8 ? len % 8 : 8)));
                }
                buf_add(s, &b, 1);
            }
        } else {
            buf_str(s, words[r % (sizeof(words) / sizeof(words[0]))]);
        }
    }
}

static void test_random_splits(void **state)
{
    const struct bs_proto_limits small = {12, 20};
    uint64_t seed = 12345;

    (void) state;
    for (int iter = 0; iter < 400; iter++) {
        struct buf s = {0};
        int client = iter % 4 == 3;
        const struct bs_proto_limits *lim = iter % 3 == 0 ? &small : NULL;
        enum bs_proto_role role =
            client ? BS_PROTO_ROLE_CLIENT : BS_PROTO_ROLE_SERVER;
        random_stream(&s, &seed, client);
        buf_str(&s, "");
        char *whole = run(role, lim, s.b, s.n, WHOLE, 0, 1, NULL);
        char *bytes = run(role, lim, s.b, s.n, BYTES, 0, 1, NULL);
        assert_string_equal(whole, bytes);
        for (uint64_t k = 0; k < 3; k++) {
            char *some = run(role, lim, s.b, s.n, RANDOM, seed + k, 1, NULL);
            assert_string_equal(whole, some);
            free(some);
        }
        free(whole);
        free(bytes);
        free(s.b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lab_line),
        cmocka_unit_test(test_op_rule_words),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_whitespace_lines),
        cmocka_unit_test(test_empty_message),
        cmocka_unit_test(test_char_errors),
        cmocka_unit_test(test_bad_command),
        cmocka_unit_test(test_bad_rule),
        cmocka_unit_test(test_line_too_long),
        BUF_TEST(test_line_limit_default),
        cmocka_unit_test(test_text_message_limit),
        BUF_TEST(test_binary_one_chunk),
        cmocka_unit_test(test_client_no_errbuf),
        cmocka_unit_test(test_spec_examples),
        BUF_TEST(test_binary_chunks),
        BUF_TEST(test_mixed_forms),
        BUF_TEST(test_bad_padding),
        BUF_TEST(test_bad_nibble),
        BUF_TEST(test_huge_lengths),
        BUF_TEST(test_binary_message_limit),
        BUF_TEST(test_sequence),
        BUF_TEST(test_fatal),
        BUF_TEST(test_client_replies),
        BUF_TEST(test_client_error_frames),
        BUF_TEST(test_client_violations),
        cmocka_unit_test(test_put_error_text),
        cmocka_unit_test(test_put_error_binary),
        cmocka_unit_test(test_put_header_and_frame),
        cmocka_unit_test(test_put_ok_line),
        cmocka_unit_test(test_code_names),
        cmocka_unit_test(test_wire_values),
        cmocka_unit_test(test_limit_messages_are_neutral),
        cmocka_unit_test(test_rule_lists_name_every_rule),
        cmocka_unit_test(test_random_splits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
