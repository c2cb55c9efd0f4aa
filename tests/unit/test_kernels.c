/*
 * test_kernels.c - every stuffing kernel this CPU supports against the
 * reference loop: the same output, errors, offsets and stream state after
 * every update, for packed and text input fed in chunks of many sizes.
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
#include "stuff_kernel.h"
#include "test_rng.h"

static unsigned get_bit(const uint8_t *p, size_t i)
{
    return (unsigned) (p[i / 8] >> (7 - i % 8)) & 1u;
}

static void set_bit(uint8_t *p, size_t i, unsigned b)
{
    uint8_t m = (uint8_t) (0x80u >> (i % 8));
    p[i / 8] = (uint8_t) (b ? p[i / 8] | m : p[i / 8] & ~m);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);

    assert_non_null(p);
    return p;
}

/* The kernel a test runs, or a skip if this CPU cannot run it. */
static size_t kernel_of(void **state)
{
    size_t k = (size_t) (uintptr_t) *state;

    if (!bs_kernel_supported(k)) {
        print_message("kernel %s: not supported by this CPU, skipped\n",
                      bs_kernel_name(k));
        skip();
    }
    return k;
}

/* The private state must match too: a kernel that produced the right
 * bytes but left a different run or pending bits would fail later. */
static void assert_same_state(const struct bs_stream *a,
                              const struct bs_stream *b)
{
    assert_int_equal(a->in_bits, b->in_bits);
    assert_int_equal(a->out_bits, b->out_bits);
    assert_int_equal(a->err_offset, b->err_offset);
    assert_int_equal(a->acc, b->acc);
    assert_int_equal(a->acc_bits, b->acc_bits);
    assert_int_equal(a->run, b->run);
    assert_int_equal(a->last, b->last);
    assert_int_equal(a->pending, b->pending);
    assert_int_equal(a->err, b->err);
    assert_int_equal(a->form, b->form);
}

struct job {
    size_t kernel;
    enum bs_rule rule;
    enum bs_dir dir;
    int text;
    const uint8_t *in; /* packed input bits */
    size_t n;
    size_t bad_char; /* text: index of a character to spoil, or SIZE_MAX */
};

/* Feed the same chunks to a reference stream and a kernel stream, each
 * output buffer exactly as large as the stream asks for (so the address
 * sanitizer sees any write past it), comparing after every call. */
static void compare(const struct job *j, const size_t *chunks, size_t nchunks)
{
    struct bs_stream ref, ker;
    size_t pos = 0;
    bs_status rc = BS_OK;
    char *text = xmalloc(j->n);
    uint8_t *chunk = xmalloc(j->n / 8 + 1);

    for (size_t i = 0; i < j->n; i++) {
        text[i] = (char) ('0' + get_bit(j->in, i));
    }
    if (j->bad_char < j->n) {
        text[j->bad_char] = '2';
    }
    assert_int_equal(
        bs_stream_init_kernel(&ref, j->rule, j->dir, BS_KERNEL_REFERENCE),
        BS_OK);
    assert_int_equal(bs_stream_init_kernel(&ker, j->rule, j->dir, j->kernel),
                     BS_OK);
    for (size_t c = 0; c < nchunks && rc == BS_OK; c++) {
        size_t k = chunks[c], cap, rlen = 0, klen = 0;
        bs_status krc;
        void *rout, *kout;

        if (j->text) {
            cap = bs_stream_out_max_text(&ref, k);
            assert_int_equal(cap, bs_stream_out_max_text(&ker, k));
            rout = xmalloc(cap);
            kout = xmalloc(cap);
            rc = bs_stream_update_text(&ref, text + pos, k, rout, cap, &rlen);
            krc = bs_stream_update_text(&ker, text + pos, k, kout, cap, &klen);
        } else {
            memset(chunk, 0, k / 8 + 1);
            for (size_t i = 0; i < k; i++) {
                set_bit(chunk, i, get_bit(j->in, pos + i));
            }
            cap = bs_stream_out_max(&ref, k);
            assert_int_equal(cap, bs_stream_out_max(&ker, k));
            rout = xmalloc(cap);
            kout = xmalloc(cap);
            rc = bs_stream_update(&ref, chunk, k, rout, cap, &rlen);
            krc = bs_stream_update(&ker, chunk, k, kout, cap, &klen);
        }
        if (krc != rc || klen != rlen) {
            print_error("kernel %s rule %s dir %d text %d n %zu chunk %zu "
                        "at %zu: %s/%zu, reference %s/%zu\n",
                        bs_kernel_name(j->kernel), bs_rule_name(j->rule),
                        (int) j->dir, j->text, j->n, k, pos,
                        bs_status_name(krc), klen, bs_status_name(rc), rlen);
        }
        assert_int_equal(krc, rc);
        assert_int_equal(klen, rlen);
        assert_memory_equal(kout, rout, rlen);
        assert_same_state(&ker, &ref);
        free(rout);
        free(kout);
        pos += k;
    }
    if (rc == BS_OK) {
        uint8_t rlast = 0xaa, klast = 0x55;
        size_t rlen = 9, klen = 9;
        uint64_t rtotal = 1, ktotal = 2;
        bs_status krc;

        if (j->text) {
            rc = bs_stream_finish_text(&ref, &rtotal);
            krc = bs_stream_finish_text(&ker, &ktotal);
        } else {
            rc = bs_stream_finish(&ref, &rlast, 1, &rlen, &rtotal);
            krc = bs_stream_finish(&ker, &klast, 1, &klen, &ktotal);
            assert_int_equal(klen, rlen);
            if (rlen > 0) {
                assert_int_equal(klast, rlast);
            }
        }
        assert_int_equal(krc, rc);
        if (rc == BS_OK) {
            assert_int_equal(ktotal, rtotal);
        }
    }
    assert_int_equal(bs_stream_error_offset(&ker),
                     bs_stream_error_offset(&ref));
    assert_same_state(&ker, &ref);
    free(text);
    free(chunk);
}

enum policy { WHOLE, RANDOM, BY_1, BY_63, BY_64, BY_65, MIXED, POLICIES };

/* Split n into chunks; returns how many. */
static size_t make_chunks(enum policy p, size_t n, uint64_t *seed,
                          size_t *chunks)
{
    size_t c = 0;

    for (size_t pos = 0; pos < n;) {
        size_t k;

        switch (p) {
        case RANDOM:
            k = 1 + rng_below(seed, 200);
            break;
        case BY_1:
            k = 1;
            break;
        case BY_63:
            k = 63;
            break;
        case BY_64:
            k = 64;
            break;
        case BY_65:
            k = 65;
            break;
        case MIXED:
            k = 63 + rng_below(seed, 3) + 64 * rng_below(seed, 3);
            break;
        default:
            k = n;
            break;
        }
        k = k > n - pos ? n - pos : k;
        chunks[c++] = k;
        pos += k;
    }
    return c;
}

static void compare_all_chunkings(struct job *j, uint64_t *seed)
{
    size_t *chunks = xmalloc((j->n + 1) * sizeof(size_t));

    for (int p = 0; p < POLICIES; p++) {
        size_t c;

        if (p == BY_1 && j->n > 300) {
            continue; /* slow and adds nothing past a few words */
        }
        c = make_chunks((enum policy) p, j->n, seed, chunks);
        compare(j, chunks, c);
    }
    free(chunks);
}

enum kind {
    RANDOM_BITS,
    ALL_ONES,
    ALL_ZEROS,
    ASCII,
    LONG_RUNS,
    NEAR_RUNS,
    KINDS
};

/* n bits of one kind into p (zeroed first). */
static void make_input(enum kind kind, size_t n, uint64_t *seed, uint8_t *p)
{
    static const char prose[] =
        "The quick brown fox jumps over the lazy dog; HDLC flags 0x7e~~ ";

    memset(p, 0, n / 8 + 1);
    for (size_t i = 0, run = 0, b = 0; i < n; i++) {
        switch (kind) {
        case RANDOM_BITS:
            set_bit(p, i, (unsigned) rng_next(seed) & 1u);
            break;
        case ALL_ONES:
            set_bit(p, i, 1);
            break;
        case ASCII:
            set_bit(p, i,
                    get_bit((const uint8_t *) prose,
                            i % ((sizeof(prose) - 1) * 8)));
            break;
        case LONG_RUNS:
        case NEAR_RUNS:
            /* runs of 1..40 bits, or of 4..7 around the stuffing length */
            if (run == 0) {
                run = kind == LONG_RUNS ? 1 + rng_below(seed, 40)
                                        : 4 + rng_below(seed, 4);
                b = !b;
            }
            set_bit(p, i, (unsigned) b);
            run--;
            break;
        default:
            break;
        }
    }
}

/* Stuff with the reference; returns the stuffed length. */
static size_t ref_stuff(enum bs_rule rule, const uint8_t *in, size_t n,
                        uint8_t *out)
{
    struct bs_stream st;
    size_t len = 0, last = 0;
    uint64_t total = 0;
    size_t cap = bs_bytes_for_bits(bs_max_stuffed_bits(rule, n)) + 1;

    assert_int_equal(
        bs_stream_init_kernel(&st, rule, BS_DIR_STUFF, BS_KERNEL_REFERENCE),
        BS_OK);
    assert_int_equal(bs_stream_update(&st, in, n, out, cap, &len), BS_OK);
    assert_int_equal(bs_stream_finish(&st, out + len, cap - len, &last, &total),
                     BS_OK);
    return (size_t) total;
}

static const size_t sizes[] = {0,   1,   5,   63,  64,  65,  127,  128, 129,
                               191, 192, 193, 255, 256, 257, 1000, 4099};

/* Every kind, size, rule and chunking; unstuffing also gets the stuffing
 * of the input spoilt in the ways real errors look. */
static void sweep(size_t kernel, int text)
{
    uint64_t seed =
        UINT64_C(0x5eed0000) + (uint64_t) kernel * 2 + (uint64_t) text;
    size_t maxn = 4099 * 2 + 16;
    uint8_t *in = xmalloc(maxn), *st = xmalloc(maxn);

    for (int kind = 0; kind < KINDS; kind++) {
        for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
            for (int rule = 0; rule < BS_RULE_COUNT; rule++) {
                size_t n = sizes[si], sn;
                struct job j = {
                    kernel,  (enum bs_rule) rule, BS_DIR_STUFF, text, in, n,
                    SIZE_MAX};

                make_input((enum kind) kind, n, &seed, in);
                compare_all_chunkings(&j, &seed);
                if (text && n > 0) {
                    j.bad_char = rng_below(&seed, n);
                    compare_all_chunkings(&j, &seed);
                    j.bad_char = SIZE_MAX;
                }

                /* unstuff: the raw input (mostly invalid) ... */
                j.dir = BS_DIR_UNSTUFF;
                compare_all_chunkings(&j, &seed);
                /* ... the valid stuffing ... */
                sn = ref_stuff((enum bs_rule) rule, in, n, st);
                j.in = st;
                j.n = sn;
                compare_all_chunkings(&j, &seed);
                if (sn == 0) {
                    continue;
                }
                /* ... a flipped bit, a flag, an abort, a bad character,
                 * and a cut where a stuffed bit is due */
                for (int v = 0; v < 5; v++) {
                    uint8_t *bad = xmalloc(maxn);
                    size_t at = rng_below(&seed, sn);

                    memcpy(bad, st, sn / 8 + 1);
                    j.in = bad;
                    if (v == 0) {
                        set_bit(bad, at, !get_bit(bad, at));
                    } else if (v == 1 || v == 2) {
                        for (size_t i = 0; i < (v == 1 ? 6u : 7u); i++) {
                            if (at + i < sn) {
                                set_bit(bad, at + i, 1);
                            }
                        }
                    } else if (v == 3) {
                        if (!text) {
                            free(bad);
                            continue;
                        }
                        j.bad_char = at;
                    } else {
                        size_t ones = 0, cut = 0;
                        unsigned r = rule == BS_RULE_USB ? 6 : 5;

                        for (size_t i = 0; i < sn && cut == 0; i++) {
                            ones = get_bit(bad, i) ? ones + 1 : 0;
                            if (ones == r && i > at / 2) {
                                cut = i + 1;
                            }
                        }
                        if (cut == 0 || rule == BS_RULE_CAN) {
                            free(bad);
                            continue;
                        }
                        j.n = cut;
                    }
                    compare_all_chunkings(&j, &seed);
                    j.n = sn;
                    j.bad_char = SIZE_MAX;
                    free(bad);
                }
                j.in = in;
            }
        }
    }
    free(in);
    free(st);
}

static void test_packed(void **state)
{
    sweep(kernel_of(state), 0);
}

static void test_text(void **state)
{
    sweep(kernel_of(state), 1);
}

/* A long stream of random data, random chunk sizes, both directions. */
static void test_long_random(void **state)
{
    size_t kernel = kernel_of(state);
    uint64_t seed = UINT64_C(0xfeed) + (uint64_t) kernel;
    size_t n = 1 << 17;
    uint8_t *in = xmalloc(n / 8 + 1);
    uint8_t *st = xmalloc(bs_bytes_for_bits(bs_max_stuffed_bits(0, n)) + 1);
    size_t *chunks = xmalloc((n * 2) * sizeof(size_t));

    for (int rule = 0; rule < BS_RULE_COUNT; rule++) {
        for (int text = 0; text < 2; text++) {
            struct job j = {
                kernel,  (enum bs_rule) rule, BS_DIR_STUFF, text, in, n,
                SIZE_MAX};

            make_input(RANDOM_BITS, n, &seed, in);
            compare(&j, chunks, make_chunks(RANDOM, n, &seed, chunks));
            compare(&j, chunks, make_chunks(WHOLE, n, &seed, chunks));
            j.dir = BS_DIR_UNSTUFF;
            j.in = st;
            j.n = ref_stuff((enum bs_rule) rule, in, n, st);
            compare(&j, chunks, make_chunks(RANDOM, j.n, &seed, chunks));
            compare(&j, chunks, make_chunks(WHOLE, j.n, &seed, chunks));
        }
    }
    free(in);
    free(st);
    free(chunks);
}

/*
 * A run of every length that matters at every offset in the first two
 * words, after a random head and before a random tail: the carried run,
 * the doubling for long runs, and flags and aborts that straddle a word
 * boundary, stuffed and unstuffed, packed and text.
 */
static void test_runs_at_every_offset(void **state)
{
    static const size_t lens[] = {1,  2,  3,  4,  5,  6,  7,  8,
                                  9,  10, 11, 12, 13, 14, 15, 16,
                                  19, 20, 25, 30, 41, 64, 65, 70};
    size_t kernel = kernel_of(state);
    uint64_t seed = UINT64_C(0x0ff5e7) + (uint64_t) kernel;
    size_t n = 320, chunks[2];
    uint8_t in[320 / 8 + 1], st[320 / 8 * 2];

    for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
        for (size_t at = 0; at < 128; at++) {
            for (int rule = 0; rule < BS_RULE_COUNT; rule++) {
                struct job j = {kernel,       (enum bs_rule) rule,
                                BS_DIR_STUFF, (int) (at % 2),
                                in,           n,
                                SIZE_MAX};

                make_input(RANDOM_BITS, n, &seed, in);
                for (size_t i = 0; i < lens[li] + 2; i++) {
                    /* a 0 on each side, so the run is exactly this long */
                    int inside = i > 0 && i <= lens[li];
                    if (at + i >= 1) {
                        set_bit(in, at + i - 1, (unsigned) inside);
                    }
                }
                chunks[0] = n;
                compare(&j, chunks, 1);
                j.dir = BS_DIR_UNSTUFF;
                compare(&j, chunks, 1);
                j.in = st;
                j.n = ref_stuff((enum bs_rule) rule, in, n, st);
                chunks[0] = 64 + at;
                chunks[1] = j.n - chunks[0];
                compare(&j, chunks, 2);
            }
        }
    }
}

/* The word engine alone on packed (text 0) or text input: it must take
 * every whole word (wanted bits of them) and leave the output and state
 * the reference stream leaves after the same bits. */
static void engine_matches(size_t kernel, enum bs_rule rule, enum bs_dir dir,
                           int text, const void *in, size_t n, size_t wanted)
{
    struct bs_stream ker, ref;
    char kout[2048], rout[2048];
    size_t klen = 0, rlen = 0, took;
    bs_status rc;

    assert_int_equal(bs_stream_init_kernel(&ker, rule, dir, kernel), BS_OK);
    assert_int_equal(bs_stream_init_kernel(&ref, rule, dir, 0), BS_OK);
    if (text) {
        took = bs_word_update_text(&ker, (enum bs_kernel) kernel, in, n, kout,
                                   sizeof(kout), &klen);
        rc = bs_stream_update_text(&ref, in, took, rout, sizeof(rout), &rlen);
    } else {
        /* packed output: 512 bytes of room, as text has 2048 chars */
        took = bs_word_update(&ker, (enum bs_kernel) kernel, in, n,
                              (uint8_t *) kout, 512, &klen);
        rc = bs_stream_update(&ref, in, took, (uint8_t *) rout, 512, &rlen);
    }
    assert_int_equal(took, wanted);
    assert_int_equal(rc, BS_OK);
    assert_int_equal(klen, rlen);
    assert_memory_equal(kout, rout, rlen);
    ker.form = ref.form; /* the engine alone does not fix the form */
    assert_same_state(&ker, &ref);
}

/* The tests above would also pass if a kernel left every word to the
 * reference loop; make sure the word engine does the work, for every
 * rule and both directions, and does it right on its own. */
static void test_engine_takes_words(void **state)
{
    size_t kernel = kernel_of(state);
    uint64_t seed = 7;
    uint8_t in[129], sin[256];
    char tin[1024], tsin[2048];

    make_input(RANDOM_BITS, 128 * 8, &seed, in);
    for (size_t i = 0; i < sizeof(tin); i++) {
        tin[i] = (char) ('0' + get_bit(in, i));
    }
    for (int rule = 0; rule < BS_RULE_COUNT; rule++) {
        size_t sn = ref_stuff((enum bs_rule) rule, in, 128 * 8, sin);
        /* a rule the table gives no word shape stays on the bit loop */
        int words = bs_rule_info((unsigned) rule)->word != BS_WORD_NONE;

        for (size_t i = 0; i < sn; i++) {
            tsin[i] = (char) ('0' + get_bit(sin, i));
        }
        engine_matches(kernel, (enum bs_rule) rule, BS_DIR_STUFF, 0, in,
                       128 * 8, words ? 128 * 8 : 0);
        engine_matches(kernel, (enum bs_rule) rule, BS_DIR_STUFF, 1, tin,
                       sizeof(tin), words ? sizeof(tin) : 0);
        engine_matches(kernel, (enum bs_rule) rule, BS_DIR_UNSTUFF, 0, sin, sn,
                       words ? sn / 64 * 64 : 0);
        engine_matches(kernel, (enum bs_rule) rule, BS_DIR_UNSTUFF, 1, tsin, sn,
                       words ? sn / 64 * 64 : 0);
    }
}

/*
 * CAN's chain: a run that ends on an inserted bit lends it to the next
 * run, whose first insertion then comes after 4 bits; runs of 4 after a
 * run of 5 pass it on and on.  Runs of the lengths around 4, 5, 9 and 10
 * bits, of both values, chained across word boundaries at every offset,
 * stuffed and unstuffed (valid and spoilt), packed and text, against the
 * reference.
 */
static void test_can_chains(void **state)
{
    static const size_t lens[] = {1, 2, 3, 4, 4, 4, 5, 5, 6, 8, 9, 10, 11, 14};
    size_t kernel = kernel_of(state);
    uint64_t seed = UINT64_C(0xca11) + (uint64_t) kernel;
    size_t n = 384, chunks[2];
    uint8_t in[384 / 8 + 1], st[384 / 8 * 2];

    for (int iter = 0; iter < 2000; iter++) {
        struct job j = {kernel, BS_RULE_CAN, BS_DIR_STUFF, iter % 2,
                        in,     n,           SIZE_MAX};
        unsigned b = (unsigned) rng_next(&seed) & 1u;
        size_t i = rng_below(&seed, 130);

        /* a random head (the carried run), then chained runs */
        make_input(RANDOM_BITS, n, &seed, in);
        while (i < n) {
            size_t len = iter % 3 == 0 ? 4 + (rng_below(&seed, 4) == 0)
                                       : lens[rng_below(&seed, 14)];
            for (size_t k = 0; k < len && i < n; k++, i++) {
                set_bit(in, i, b);
            }
            b ^= 1u;
        }
        chunks[0] = n;
        compare(&j, chunks, 1);
        chunks[0] = 1 + rng_below(&seed, n - 1);
        chunks[1] = n - chunks[0];
        compare(&j, chunks, 2);
        j.dir = BS_DIR_UNSTUFF;
        compare(&j, chunks, 2);
        j.in = st;
        j.n = ref_stuff(BS_RULE_CAN, in, n, st);
        chunks[0] = 1 + rng_below(&seed, j.n - 1);
        chunks[1] = j.n - chunks[0];
        compare(&j, chunks, 2);
        /* a flipped stuffed-looking bit somewhere */
        {
            size_t at = rng_below(&seed, j.n);
            set_bit(st, at, !get_bit(st, at));
            compare(&j, chunks, 2);
        }
    }
}

/* The one-shot calls use the best kernel: compare them with the
 * reference stream, partial last byte and output before errors included. */
static void test_oneshot_best(void **state)
{
    uint64_t seed = 99;
    size_t n = 3000;
    uint8_t in[3000 / 8 + 1], out[3000 / 8 * 2], ref[3000 / 8 * 2];

    (void) state;
    for (int iter = 0; iter < 300; iter++) {
        enum bs_rule rule = (enum bs_rule)(iter % BS_RULE_COUNT);
        enum bs_dir dir = (enum bs_dir)(iter / BS_RULE_COUNT % 2);
        size_t len = rng_below(&seed, n), on = 0, rn = 0;
        uint64_t off = 0;
        struct bs_stream st;
        bs_status rc, want;

        make_input((enum kind)(iter / 6 % KINDS), len, &seed, in);
        if (dir == BS_DIR_UNSTUFF && iter % 4 != 0) {
            uint8_t tmp[3000 / 8 * 2];
            size_t sn = ref_stuff(rule, in, len, tmp);
            len = sn < n ? sn : n;
            memcpy(in, tmp, len / 8 + 1);
            if (iter % 4 == 1 && len > 0) {
                size_t at = rng_below(&seed, len);
                set_bit(in, at, !get_bit(in, at));
            }
        }
        rc = (dir == BS_DIR_STUFF ? bs_stuff : bs_unstuff)(
            rule, in, len, out, sizeof(out), &on, &off);
        assert_int_equal(
            bs_stream_init_kernel(&st, rule, dir, BS_KERNEL_REFERENCE), BS_OK);
        want = bs_stream_update(&st, in, len, ref, sizeof(ref), &rn);
        if (want == BS_OK) {
            size_t last = 0;
            uint64_t total = 0;
            want = bs_stream_finish(&st, ref + rn, 1, &last, &total);
        }
        if (st.acc_bits > 0) {
            ref[rn] = (uint8_t) (st.acc << (8 - st.acc_bits));
        }
        assert_int_equal(rc, want);
        assert_int_equal(on, st.out_bits);
        assert_memory_equal(out, ref, bs_bytes_for_bits(on));
        if (rc != BS_OK) {
            assert_int_equal(off, st.err_offset);
        }
    }
}

/* The rule table as the engines see it.  Today's rules keep their word
 * engines (a change here would silently send a rule to the bit loop).  A
 * rule with no table entry, or no word shape, is never handed to a word
 * engine, and the engines refuse it themselves: it goes to the bit loop,
 * never to another rule's fast path. */
static void test_rule_table_kernels(void **state)
{
    static const struct {
        enum bs_rule rule;
        unsigned run, compl, flag, word;
    } want[] = {
        {BS_RULE_HDLC, 5, 0, 1, BS_WORD_ONES},
        {BS_RULE_USB, 6, 0, 0, BS_WORD_ONES},
        {BS_RULE_CAN, 5, 1, 0, BS_WORD_COMPL},
    };
    static const uint8_t ones[64] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    };
    char text[256];

    (void) state;
    assert_int_equal(sizeof(want) / sizeof(want[0]), BS_RULE_COUNT);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct bs_rule_info *r = bs_rule_info(want[i].rule);

        assert_non_null(r);
        assert_string_equal(r->name, bs_rule_name(want[i].rule));
        assert_int_equal(r->run, want[i].run);
        assert_int_equal(r->compl, want[i].compl );
        assert_int_equal(r->flag, want[i].flag);
        assert_int_equal(r->word, want[i].word);
    }
    assert_null(bs_rule_info(BS_RULE_COUNT));
    assert_null(bs_rule_info(255));

    memset(text, '1', sizeof(text));
    for (size_t k = 1; k < bs_kernel_count(); k++) {
        for (int dir = 0; dir < 2; dir++) {
            struct bs_stream st, before;
            uint8_t out[256];
            char tout[512];
            size_t n = 99;

            if (!bs_kernel_supported(k)) {
                continue;
            }
            assert_int_equal(
                bs_stream_init_kernel(&st, BS_RULE_HDLC, (enum bs_dir) dir, k),
                BS_OK);
            st.rule = BS_RULE_COUNT; /* a rule with no table entry */
            before = st;
            assert_int_equal(bs_word_update(&st, (enum bs_kernel) k, ones,
                                            sizeof(ones) * 8, out, sizeof(out),
                                            &n),
                             0);
            assert_int_equal(n, 0);
            n = 99;
            assert_int_equal(bs_word_update_text(&st, (enum bs_kernel) k, text,
                                                 sizeof(text), tout,
                                                 sizeof(tout), &n),
                             0);
            assert_int_equal(n, 0);
            assert_memory_equal(&st, &before, sizeof(st));
        }
    }
}

static void test_kernel_api(void **state)
{
    struct bs_stream st;

    (void) state;
    assert_int_equal(bs_kernel_count(), 5);
    for (size_t i = 0; i < bs_kernel_count(); i++) {
        assert_non_null(bs_kernel_name(i));
        assert_int_equal(bs_kernel_find(bs_kernel_name(i)), (int) i);
    }
    assert_null(bs_kernel_name(bs_kernel_count()));
    assert_int_equal(bs_kernel_find("nope"), -1);
    assert_int_equal(bs_kernel_find(NULL), -1);
    assert_true(bs_kernel_supported(BS_KERNEL_REFERENCE));
    assert_true(bs_kernel_supported(BS_KERNEL_PORTABLE));
    assert_false(bs_kernel_supported(bs_kernel_count()));
    assert_true(bs_kernel_supported(bs_kernel_best()));
    assert_int_not_equal(bs_kernel_best(), BS_KERNEL_REFERENCE);
    assert_int_equal(bs_stream_init_kernel(&st, BS_RULE_HDLC, BS_DIR_STUFF,
                                           bs_kernel_count()),
                     BS_ERR_ARG);
    assert_int_equal(
        bs_stream_init_kernel(&st, (enum bs_rule) 7, BS_DIR_STUFF, 0),
        BS_ERR_ARG);
    assert_int_equal(bs_stream_init_kernel(NULL, BS_RULE_HDLC, BS_DIR_STUFF, 0),
                     BS_ERR_ARG);
    for (size_t i = 0; i < bs_kernel_count(); i++) {
        print_message("kernel %s: %s%s\n", bs_kernel_name(i),
                      bs_kernel_supported(i) ? "supported" : "not supported",
                      i == bs_kernel_best() ? ", best" : "");
    }
}

/* One test per kernel, named after it. */
#define ONE_KERNEL(fn, k)                                                      \
    {                                                                          \
#fn "/" #k, fn, NULL, NULL, (void *) (uintptr_t) BS_KERNEL_##k         \
    }
#define PER_KERNEL(fn)                                                         \
    ONE_KERNEL(fn, PORTABLE), ONE_KERNEL(fn, BMI2), ONE_KERNEL(fn, AVX2),      \
        ONE_KERNEL(fn, AVX512)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_api),
        cmocka_unit_test(test_rule_table_kernels),
        PER_KERNEL(test_engine_takes_words),
        PER_KERNEL(test_packed),
        PER_KERNEL(test_text),
        PER_KERNEL(test_long_random),
        PER_KERNEL(test_runs_at_every_offset),
        PER_KERNEL(test_can_chains),
        cmocka_unit_test(test_oneshot_best),
    };
    return cmocka_run_group_tests_name("kernels", tests, NULL, NULL);
}
