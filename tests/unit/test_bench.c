/*
 * test_bench.c - the pure parts of bitstuff-bench: latency histogram,
 * message pool and its expected replies, streamed generator and checker,
 * option parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench_hist.h"
#include "bench_msg.h"
#include "bench_opts.h"
#include "expect.h"
#include "refusals.h"

/* ------------------------------------------------------------------ */
/* Histogram */

static void test_hist_buckets(void **state)
{
    uint64_t v, top, lo;
    unsigned idx, prev = 0;
    int shift;

    (void) state;
    /* exact below 256 */
    for (v = 0; v < 256; v++) {
        assert_int_equal(bs_bench_hist_index(v), v);
        assert_int_equal(bs_bench_hist_bucket_top((unsigned) v), v);
    }
    /* above: every value lies in its bucket, buckets are at most 1/128 of
     * their values wide, and indexes grow with the values */
    for (shift = 8; shift < 64; shift++) {
        uint64_t probes[] = {(uint64_t) 1 << shift, ((uint64_t) 1 << shift) + 1,
                             ((uint64_t) 3 << (shift - 1)) + 7,
                             ((uint64_t) 1 << shift) - 1 +
                                 ((uint64_t) 1 << shift)};
        size_t i;

        for (i = 0; i < 4; i++) {
            v = probes[i];
            idx = bs_bench_hist_index(v);
            assert_true(idx < BS_BENCH_HIST_BUCKETS);
            assert_true(idx >= prev);
            prev = idx;
            top = bs_bench_hist_bucket_top(idx);
            lo = bs_bench_hist_bucket_top(idx - 1) + 1;
            assert_true(lo <= v && v <= top);
            assert_true(top - lo < (lo >> 7) + 1);
        }
    }
    assert_int_equal(bs_bench_hist_index(UINT64_MAX),
                     BS_BENCH_HIST_BUCKETS - 1);
    assert_true(bs_bench_hist_bucket_top(BS_BENCH_HIST_BUCKETS - 1) ==
                UINT64_MAX);
}

static void test_hist_percentiles(void **state)
{
    static struct bs_bench_hist h, a, b;
    uint64_t v, p;

    (void) state;
    bs_bench_hist_init(&h);
    assert_int_equal(bs_bench_hist_percentile(&h, 50.0), 0);

    for (v = 1; v <= 200; v++) { /* exact range */
        bs_bench_hist_add(&h, v);
    }
    assert_int_equal(bs_bench_hist_percentile(&h, 50.0), 100);
    assert_int_equal(bs_bench_hist_percentile(&h, 99.0), 198);
    assert_int_equal(bs_bench_hist_percentile(&h, 99.5), 199);
    assert_int_equal(bs_bench_hist_percentile(&h, 100.0), 200);
    assert_int_equal(bs_bench_hist_percentile(&h, 0.0), 1);
    assert_int_equal(h.min, 1);
    assert_int_equal(h.max, 200);
    assert_int_equal(h.count, 200);
    assert_int_equal(h.sum, 200 * 201 / 2);

    /* 1..1000 microseconds in ns: within 0.8 % above the truth */
    bs_bench_hist_init(&h);
    for (v = 1; v <= 1000; v++) {
        bs_bench_hist_add(&h, v * 1000);
    }
    p = bs_bench_hist_percentile(&h, 50.0);
    assert_true(p >= 500000 && p <= 500000 + 500000 / 128);
    p = bs_bench_hist_percentile(&h, 99.9); /* the 999th value, not 1000th */
    assert_true(p >= 999000 && p <= 999000 + 999000 / 128);
    assert_true(p < 1000000);
    /* never above the largest value */
    assert_int_equal(bs_bench_hist_percentile(&h, 100.0), 1000000);

    /* merging equals adding everything into one */
    bs_bench_hist_init(&a);
    bs_bench_hist_init(&b);
    for (v = 1; v <= 1000; v++) {
        bs_bench_hist_add(v % 3 == 0 ? &a : &b, v * 1000);
    }
    bs_bench_hist_merge(&a, &b);
    assert_int_equal(a.count, h.count);
    assert_int_equal(a.min, h.min);
    assert_int_equal(a.max, h.max);
    assert_int_equal(a.sum, h.sum);
    assert_memory_equal(a.buckets, h.buckets, sizeof(h.buckets));

    /* one huge value does not overflow */
    bs_bench_hist_init(&h);
    bs_bench_hist_add(&h, UINT64_MAX);
    bs_bench_hist_add(&h, 5);
    assert_true(h.sum == UINT64_MAX);
    assert_int_equal(bs_bench_hist_percentile(&h, 50.0), 5);
    assert_true(bs_bench_hist_percentile(&h, 99.0) == UINT64_MAX);
}

/* ------------------------------------------------------------------ */
/* Bits */

static int bit_at(const uint8_t *p, uint64_t i)
{
    return (p[i / 8] >> (7 - i % 8)) & 1;
}

static void test_bits_equal(void **state)
{
    uint8_t exp[64], got[64];
    struct bs_bench_rng rng;
    uint64_t off;
    size_t n, i;

    (void) state;
    bs_bench_rng_seed(&rng, 7);
    bs_bench_rng_fill(&rng, exp, sizeof(exp));
    for (off = 0; off < 24; off++) {
        for (n = 0; n < 300 && off + n <= 8 * sizeof(exp); n += 7) {
            memset(got, 0xA5, sizeof(got)); /* junk past n must not count */
            for (i = 0; i < n; i++) {
                if (bit_at(exp, off + i) != bit_at(got, i)) {
                    got[i / 8] ^= (uint8_t) (0x80u >> (i % 8));
                }
            }
            assert_true(bs_bench_bits_equal(exp, off, got, n));
            if (n > 0) {
                i = (size_t) bs_bench_rng_below(&rng, n);
                got[i / 8] ^= (uint8_t) (0x80u >> (i % 8));
                assert_false(bs_bench_bits_equal(exp, off, got, n));
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Pool */

static void check_msg_reply(const struct bs_bench_msg *m)
{
    size_t cap = bs_bytes_for_bits(bs_max_stuffed_bits(
                     (enum bs_rule) m->rule, m->in_bits + m->out_bits)) +
                 8;
    uint8_t *buf = malloc(cap);
    size_t n = 0;
    uint64_t off = 0;
    bs_status st;

    assert_non_null(buf);
    if (m->op == BS_DIR_STUFF) {
        /* the expected reply unstuffs back to the request */
        assert_int_equal(bs_unstuff((enum bs_rule) m->rule, m->out, m->out_bits,
                                    buf, cap, &n, NULL),
                         BS_OK);
        assert_int_equal(n, m->in_bits);
        assert_true(bs_bench_bits_equal(m->in, 0, buf, n));
    } else {
        st = bs_unstuff((enum bs_rule) m->rule, m->in, m->in_bits, buf, cap, &n,
                        &off);
        assert_int_equal(st, m->expect);
        assert_int_equal(n, m->out_bits);
        assert_true(bs_bench_bits_equal(m->out, 0, buf, n));
        if (st != BS_OK) {
            assert_int_equal(off, m->err_offset);
        } else {
            /* and the request is the stuffing of the expected reply */
            assert_int_equal(bs_stuff((enum bs_rule) m->rule, m->out,
                                      m->out_bits, buf, cap, &n, NULL),
                             BS_OK);
            assert_int_equal(n, m->in_bits);
            assert_true(bs_bench_bits_equal(m->in, 0, buf, n));
        }
    }
    /* bits past the count are 0, as the wire requires */
    if (m->in_bits % 8 != 0) {
        assert_int_equal(m->in[m->in_bits / 8] & (0xFFu >> (m->in_bits % 8)),
                         0);
    }
    free(buf);
}

static void test_pool_replies(void **state)
{
    struct bs_bench_pool p, q;
    struct bs_bench_pool_config c = {
        .count = 300,
        .min_bits = 0,
        .max_bits = 2000,
        .op = BS_BENCH_OP_MIXED,
        .rule = BS_BENCH_RULE_MIXED,
        .errors = 0.25,
        .text = 0,
        .seed = 42,
    };
    char err[200];
    size_t i, seen_rule[3] = {0}, seen_op[2] = {0}, bad_unstuff = 0;

    (void) state;
    assert_int_equal(bs_bench_pool_build(&p, &c, err, sizeof(err)), 0);
    assert_int_equal(p.count, 300);
    for (i = 0; i < p.count; i++) {
        const struct bs_bench_msg *m = &p.msg[i];

        check_msg_reply(m);
        seen_rule[m->rule]++;
        seen_op[m->op]++;
        if (m->op == BS_DIR_STUFF) {
            assert_true(m->in_bits <= 2000);
            assert_int_equal(m->expect, BS_OK); /* binary stuff: no errors */
        }
        bad_unstuff += m->expect != BS_OK;
        assert_null(m->line);
    }
    assert_true(seen_rule[0] > 0 && seen_rule[1] > 0 && seen_rule[2] > 0);
    assert_true(seen_op[0] > 0 && seen_op[1] > 0);
    /* about a quarter of the ~150 unstuff requests are bad */
    assert_true(bad_unstuff > 15 && bad_unstuff < 70);
    assert_int_equal(p.bad, bad_unstuff);

    /* the same seed gives the same pool, another seed another */
    assert_int_equal(bs_bench_pool_build(&q, &c, err, sizeof(err)), 0);
    for (i = 0; i < p.count; i++) {
        assert_int_equal(p.msg[i].in_bits, q.msg[i].in_bits);
        assert_memory_equal(p.msg[i].in, q.msg[i].in,
                            bs_bytes_for_bits(p.msg[i].in_bits));
    }
    bs_bench_pool_free(&q);
    c.seed = 43;
    assert_int_equal(bs_bench_pool_build(&q, &c, err, sizeof(err)), 0);
    assert_true(q.total_in_bits != p.total_in_bits);
    bs_bench_pool_free(&q);
    bs_bench_pool_free(&p);
    assert_null(p.msg);
    bs_bench_pool_free(NULL);
}

static void test_pool_text(void **state)
{
    struct bs_bench_pool p;
    struct bs_bench_pool_config c = {
        .count = 200,
        .min_bits = 0,
        .max_bits = 300,
        .op = BS_BENCH_OP_MIXED,
        .rule = BS_RULE_CAN,
        .errors = 0.3,
        .text = 1,
        .seed = 5,
    };
    char err[200], *txt;
    size_t i, n, bad_char = 0;
    bs_status st;
    uint64_t off;

    (void) state;
    assert_int_equal(bs_bench_pool_build(&p, &c, err, sizeof(err)), 0);
    txt = malloc(1000);
    assert_non_null(txt);
    for (i = 0; i < p.count; i++) {
        const struct bs_bench_msg *m = &p.msg[i];
        const char *bits;
        size_t nb;

        assert_true(m->line_len > 0 && m->line[m->line_len - 1] == '\n');
        assert_true(m->line_len <= p.max_line);
        if (m->op == BS_DIR_STUFF) {
            assert_memory_equal(m->line, "stuff can", 9);
        } else {
            assert_memory_equal(m->line, "unstuff can", 11);
        }
        /* the reply follows from the line's bits by the text functions */
        bits = strchr(m->line, ' ');
        bits = strchr(bits + 1, ' ');
        nb = bits == NULL ? 0 : (size_t) (m->line + m->line_len - 1 - bits - 1);
        bits = bits == NULL ? "" : bits + 1;
        st = (m->op == BS_DIR_STUFF ? bs_stuff_text : bs_unstuff_text)(
            BS_RULE_CAN, bits, nb, txt, 1000, &n, &off);
        assert_int_equal(st, m->expect);
        if (st == BS_OK) {
            assert_int_equal(m->reply_len, n == 0 ? 3 : n + 4);
            assert_memory_equal(m->reply, n == 0 ? "OK\n" : "OK ", 3);
            assert_memory_equal(m->reply + 3, txt, n);
        } else {
            char want[64];

            snprintf(want, sizeof(want), "ERR %d %s %llu ", (int) st,
                     bs_status_name(st), (unsigned long long) off);
            assert_int_equal(m->reply_len, strlen(want));
            assert_memory_equal(m->reply, want, m->reply_len);
            bad_char += st == BS_ERR_CHAR;
        }
    }
    assert_true(bad_char > 0); /* bad characters in stuff lines */
    free(txt);
    bs_bench_pool_free(&p);
}

static void test_pool_bad_config(void **state)
{
    static const struct bs_bench_pool_config bad[] = {
        {.count = 0, .min_bits = 1, .max_bits = 2, .rule = 0, .seed = 1},
        {.count = 4, .min_bits = 10, .max_bits = 9, .rule = 0, .seed = 1},
        {.count = 4, .min_bits = 1, .max_bits = 9, .rule = 7, .seed = 1},
    };
    struct bs_bench_pool p;

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[200] = "";

        assert_int_equal(bs_bench_pool_build(&p, &bad[i], err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "bad configuration"));
        assert_null(p.msg);
    }
}

/* ------------------------------------------------------------------ */
/* Streamed messages */

/* Data a stream spec stands for, as the generator draws it. */
static uint8_t *stream_data(const struct bs_bench_stream_spec *s)
{
    struct bs_bench_rng rng;
    size_t bytes = bs_bytes_for_bits((size_t) s->data_bits), at = 0, n;
    uint8_t *d = calloc(bytes + 1, 1);

    assert_non_null(d);
    bs_bench_rng_seed(&rng, s->seed);
    while (at < bytes) {
        n = bytes - at < BS_BENCH_GEN_DATA ? bytes - at : BS_BENCH_GEN_DATA;
        bs_bench_rng_fill(&rng, d + at, n);
        at += n;
    }
    if (s->data_bits % 8 != 0) {
        d[bytes - 1] &= (uint8_t) (0xFFu << (8 - s->data_bits % 8));
    }
    return d;
}

static void put_bits(uint8_t *dst, uint64_t at, const uint8_t *src, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (bit_at(src, i)) {
            dst[(at + i) / 8] |= (uint8_t) (0x80u >> ((at + i) % 8));
        }
    }
}

static void stream_case(uint64_t bits, uint8_t op, uint8_t rule)
{
    struct bs_bench_stream_spec spec = {
        .seed = 99 + bits, .data_bits = bits, .op = op, .rule = rule};
    struct bs_bench_gen *g = malloc(sizeof(*g));
    struct bs_bench_check *c = malloc(sizeof(*c));
    uint8_t *chunk = malloc(BS_BENCH_GEN_CHUNK);
    uint8_t *data = stream_data(&spec);
    size_t cap =
        bs_bytes_for_bits(bs_max_stuffed_bits(rule, (size_t) bits)) + 8;
    uint8_t *req = calloc(cap, 1), *stuffed = calloc(cap, 1);
    size_t nbits, sn = 0, piece, at;
    uint64_t total = 0;
    int last = 0;
    const uint8_t *reply;
    size_t reply_bits;

    assert_non_null(g);
    assert_non_null(c);
    assert_non_null(chunk);
    assert_non_null(req);
    assert_non_null(stuffed);
    assert_int_equal(
        bs_stuff(rule, data, (size_t) bits, stuffed, cap, &sn, NULL), BS_OK);

    /* the request chunks concatenate to the data (stuff) or its stuffing */
    bs_bench_gen_init(g, &spec);
    while (!last) {
        assert_int_equal(
            bs_bench_gen_next(g, chunk, BS_BENCH_GEN_CHUNK, &nbits, &last), 0);
        assert_true(nbits <= 8 * BS_BENCH_GEN_CHUNK);
        if (!last) {
            assert_int_equal(nbits % 8, 0);
        }
        put_bits(req, total, chunk, nbits);
        total += nbits;
    }
    assert_int_equal(
        bs_bench_gen_next(g, chunk, BS_BENCH_GEN_CHUNK, &nbits, &last), -1);
    if (op == BS_DIR_STUFF) {
        assert_int_equal(total, bits);
        assert_true(bs_bench_bits_equal(data, 0, req, (size_t) bits));
        reply = stuffed;
        reply_bits = sn;
    } else {
        assert_int_equal(total, sn);
        assert_true(bs_bench_bits_equal(stuffed, 0, req, sn));
        reply = data;
        reply_bits = (size_t) bits;
    }

    /* the checker accepts the reference reply fed in uneven pieces ... */
    bs_bench_check_init(c, &spec);
    for (at = 0; at < reply_bits; at += piece) {
        piece = 8 * (1 + (at / 8) % 20000);
        if (piece > reply_bits - at) {
            piece = reply_bits - at;
        }
        assert_int_equal(bs_bench_check_feed(c, reply + at / 8, piece), 0);
    }
    assert_int_equal(bs_bench_check_end(c), 0);

    /* ... rejects one flipped bit, as soon as it is compared (the last
     * bits of a stuffed reply wait in the unstuffer until the end) ... */
    if (reply_bits > 0) {
        uint8_t *bad = malloc(bs_bytes_for_bits(reply_bits));
        size_t flip;

        assert_non_null(bad);
        for (flip = 0; flip < reply_bits; flip += 1 + reply_bits / 7) {
            int fed;

            memcpy(bad, reply, bs_bytes_for_bits(reply_bits));
            bad[flip / 8] ^= (uint8_t) (0x80u >> (flip % 8));
            bs_bench_check_init(c, &spec);
            fed = bs_bench_check_feed(c, bad, reply_bits);
            if (reply_bits - flip > 64) {
                assert_int_equal(fed, -1);
            }
            assert_int_equal(bs_bench_check_end(c), -1);
        }
        free(bad);

        /* ... a reply one bit short ... */
        bs_bench_check_init(c, &spec);
        assert_int_equal(bs_bench_check_feed(c, reply, reply_bits - 1), 0);
        assert_int_equal(bs_bench_check_end(c), -1);
    }
    /* ... and one bit too many */
    bs_bench_check_init(c, &spec);
    assert_int_equal(bs_bench_check_feed(c, reply, reply_bits), 0);
    assert_int_equal(bs_bench_check_feed(c, reply, 1), -1);

    free(g);
    free(c);
    free(chunk);
    free(data);
    free(req);
    free(stuffed);
}

/* A stuff reply that ends where a stuffed bit is due, without it, is
 * wrong even though every bit it has is right. */
static void test_stream_missing_last_stuffed_bit(void **state)
{
    struct bs_bench_check *c = malloc(sizeof(*c));
    uint8_t stuffed[32];
    int found = 0;

    (void) state;
    assert_non_null(c);
    for (uint64_t seed = 1; seed < 100000 && !found; seed++) {
        struct bs_bench_stream_spec spec = {
            .seed = seed, .data_bits = 64, .op = BS_DIR_STUFF, .rule = 0};
        uint8_t *data = stream_data(&spec);
        size_t sn = 0;

        assert_non_null(data);
        if ((data[7] & 0x3F) == 0x1F) { /* ends in 011111: a 0 follows */
            found = 1;
            assert_int_equal(bs_stuff(BS_RULE_HDLC, data, 64, stuffed,
                                      sizeof stuffed, &sn, NULL),
                             BS_OK);
            bs_bench_check_init(c, &spec);
            assert_int_equal(bs_bench_check_feed(c, stuffed, sn), 0);
            assert_int_equal(bs_bench_check_end(c), 0);
            bs_bench_check_init(c, &spec);
            assert_int_equal(bs_bench_check_feed(c, stuffed, sn - 1), 0);
            assert_int_equal(bs_bench_check_end(c), -1);
        }
        free(data);
    }
    assert_true(found);
    free(c);
}

static void test_stream(void **state)
{
    static const uint64_t sizes[] = {0,    1,      7,      8,      63,
                                     1000, 393216, 393217, 800000, 1600003};
    size_t i;
    uint8_t rule;

    (void) state;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (rule = 0; rule < 3; rule++) {
            stream_case(sizes[i], BS_DIR_STUFF, rule);
            stream_case(sizes[i], BS_DIR_UNSTUFF, rule);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Options */

static enum bs_bench_opts_result parse(struct bs_bench_opts *o, char *err,
                                       const char *a0, ...)
{
    char *argv[40];
    int argc = 0;
    va_list ap;
    const char *a;

    argv[argc++] = (char *) (uintptr_t) "bitstuff-bench";
    va_start(ap, a0);
    for (a = a0; a != NULL; a = va_arg(ap, const char *)) {
        argv[argc++] = (char *) (uintptr_t) a;
    }
    va_end(ap);
    err[0] = '\0';
    return bs_bench_opts_parse(o, argc, argv, err, 256);
}

static void test_opts_defaults_and_all(void **state)
{
    struct bs_bench_opts d, o; /* the defaults, and after every option */
    char err[256];

    (void) state;
    assert_int_equal(parse(&d, err, NULL), BS_BENCH_OPTS_RUN);
    assert_int_equal(parse(&o, err, "-c", "127.0.0.1:4000", "--ca-file",
                           "ca.crt", "--cert=c.crt", "--key", "c.key",
                           "--servername", "localhost", "-n", "1000", "-r",
                           "1M", "-P16", "-s", "8-1024", "--op", "mixed",
                           "--rule", "USB", "--threads", "2", "--seed", "77",
                           "--text", "--idle", "10000", "--json", "-q",
                           "--errors", "0.1", "--timeout", "500ms", "--pool",
                           "64", "--min-tls", "1.2", "--resume", "off", NULL),
                     BS_BENCH_OPTS_RUN);
    /* each field: its default, and its value after every option */
    const struct expect want[] = {
        EXPECT_TLS_CLIENT(d, o, "127.0.0.1:4000", "ca.crt", "c.crt", "c.key",
                          "localhost"),
        EXPECT_INTS(d, o, connections, 50, 1000),
        EXPECT_INTS(d, o, requests, 100000, 1000000),
        EXPECT_INTS(d, o, pipeline, 1, 16),
        EXPECT_INTS(d, o, min_bits, 64, 8),
        EXPECT_INTS(d, o, max_bits, 64, 1024),
        EXPECT_INTS(d, o, op, BS_BENCH_OP_STUFF, BS_BENCH_OP_MIXED),
        EXPECT_INTS(d, o, rule, BS_RULE_HDLC, BS_RULE_USB),
        EXPECT_INTS(d, o, resume, 1, 0),
        EXPECT_INTS(d, o, new_conn, 0, 0),
        EXPECT_INTS(d, o, threads, 0, 2),
        EXPECT_INTS(d, o, seed, 1, 77),
        EXPECT_INTS(d, o, idle, 0, 10000),
        EXPECT_INTS(d, o, timeout_ms, 30000, 500),
        EXPECT_INTS(d, o, pool, 1024, 64),
        EXPECT_FLAG(d, o, text),
        EXPECT_FLAG(d, o, json),
        EXPECT_FLAG(d, o, quiet),
    };
    CHECK_EXPECT(want);
    assert_true(o.errors > 0.09 && o.errors < 0.11);

    assert_int_equal(parse(&o, err, "-s", "800000000", "--new-conn", "--rule",
                           "mixed", NULL),
                     BS_BENCH_OPTS_RUN);
    assert_int_equal(o.min_bits, 800000000);
    assert_int_equal(o.max_bits, 800000000);
    assert_int_equal(o.rule, BS_BENCH_RULE_MIXED);
    assert_true(o.new_conn);

    /* --duration alone means no request limit */
    assert_int_equal(parse(&o, err, "--duration", "2.5", NULL),
                     BS_BENCH_OPTS_RUN);
    assert_int_equal(o.requests, 0);
    assert_true(o.duration_ms == 2500);
    assert_int_equal(parse(&o, err, "-d", "1", "-r", "10", NULL),
                     BS_BENCH_OPTS_RUN);
    assert_int_equal(o.requests, 10);

    assert_int_equal(parse(&o, err, "--help", NULL), BS_BENCH_OPTS_HELP);
    assert_int_equal(parse(&o, err, "-V", NULL), BS_BENCH_OPTS_VERSION);
}

/* Each refusal: the arguments (after the program name) and words its
 * error must contain. */
static const struct refusal refusals[] = {
    {{"--frobnicate"}, "unknown option '--frobnicate'"},
    {{"-x"}, "unknown option '-x'"},
    {{"foo"}, "unexpected argument 'foo'"},
    {{"-n"}, "-n needs a value"},
    {{"--json=1"}, "--json takes no value"},
    {{"-n", "zero"}, "-n: 'zero' is not"},
    {{"-n", "0"}, "-n: '0' is not"},
    {{"-r", "-5"}, "-r: '-5' is not"},
    {{"-r", "99999999999999999999"}, "-r: '99999999999999999999' is not"},
    {{"-P", "0"}, "-P: '0' is not"},
    {{"-s", "10-5"}, "-s: '10-5' is not"},
    {{"-s", "-5"}, "-s: '-5' is not"},
    {{"-s", "1-"}, "-s: '1-' is not"},
    {{"-s", "99999999999"}, "-s: '99999999999' is not"},
    {{"--op", "copy"}, "--op: 'copy' is not"},
    {{"--rule", "x25"}, "--rule: 'x25' is not"},
    {{"--resume", "yes"}, "--resume: 'yes' is not on or off"},
    {{"--min-tls", "1.1"}, "--min-tls: '1.1'"},
    {{"--errors", "1.5"}, "--errors: '1.5' is not"},
    {{"--duration", "0"}, "--duration: '0' is not"},
    {{"--timeout", "0"}, "--timeout: '0' is not"},
    {{"--timeout", "3601"}, "from 1ms to 1h"},
    {{"--timeout", "5x"}, "500ms, 10s"},
    {{"--cert", "c.crt"}, "--cert and --key go together"},
    {{"-r", "0"}, "needs --duration"},
    {{"--text", "-s", "100000"}, "--text: a text line carries at most"},
    {{"--new-conn", "-P", "2"}, "-P must be 1"},
    {{"--errors", "0.1"}, "cannot be invalid"},
    {{"--errors", "0.1", "-s", "100000000"},
     "--errors works with messages of up to"},
};

static int refuses(const char *const *a, char *err, size_t errlen)
{
    struct bs_bench_opts o;

    (void) errlen; /* parse's err holds 256 */
    return parse(&o, err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
                 a[9], NULL) == BS_BENCH_OPTS_ERROR;
}

REFUSALS_TEST(test_opts_errors, refusals, refuses)

/* One duration syntax (issue 12 item 6): a bare number is seconds now,
 * for --timeout too (it was milliseconds). */
static void test_opts_durations(void **state)
{
    struct bs_bench_opts o;
    char err[256];

    (void) state;
    assert_int_equal(parse(&o, err, "--timeout", "2", NULL), BS_BENCH_OPTS_RUN);
    assert_int_equal(o.timeout_ms, 2000);
    assert_int_equal(parse(&o, err, "--timeout", "1.5s", "-d", "500ms", NULL),
                     BS_BENCH_OPTS_RUN);
    assert_int_equal(o.timeout_ms, 1500);
    assert_true(o.duration_ms == 500);
    assert_int_equal(parse(&o, err, "-d", "5m", NULL), BS_BENCH_OPTS_RUN);
    assert_true(o.duration_ms == 300000);
    assert_int_equal(parse(&o, err, NULL), BS_BENCH_OPTS_RUN);
    assert_int_equal(o.timeout_ms, 30000);
    assert_int_equal(parse(&o, err, "--list-options", NULL),
                     BS_BENCH_OPTS_LIST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist_buckets),
        cmocka_unit_test(test_hist_percentiles),
        cmocka_unit_test(test_bits_equal),
        cmocka_unit_test(test_pool_replies),
        cmocka_unit_test(test_pool_text),
        cmocka_unit_test(test_pool_bad_config),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_stream_missing_last_stuffed_bit),
        cmocka_unit_test(test_opts_defaults_and_all),
        cmocka_unit_test(test_opts_errors),
        cmocka_unit_test(test_opts_durations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
