/*
 * fuzz_stuff.c - libFuzzer harness for the stuffing module.
 *
 * Target functions: bs_stuff, bs_unstuff, bs_stuff_text, bs_unstuff_text,
 * bs_stream_update, bs_stream_update_text, bs_stream_finish.
 *
 * Input: byte 0 picks the rule, byte 1 the bit count modulo 8 and the
 * chunk size seed; the rest is the packed data.  Checked on every input:
 *   - unstuff(stuff(x)) == x, and the stuffed length is within the bound;
 *   - unstuff is strict: if it accepts y, stuff(unstuff(y)) == y, and if
 *     it rejects y the offset lies inside y;
 *   - the text forms agree with the packed ones;
 *   - streaming in chunks gives the one-shot result, errors included.
 * Any mismatch aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "stuff.h"

int LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size);

static void check(int ok)
{
    if (!ok) {
        abort();
    }
}

static void to_text(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (char) ('0' + ((in[i / 8] >> (7 - i % 8)) & 1));
    }
}

static int bits_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (((a[i / 8] ^ b[i / 8]) >> (7 - i % 8)) & 1) {
            return 0;
        }
    }
    return 1;
}

/* Run dir over the packed input in chunks sized from seed; compare. */
static void check_stream(enum bs_rule rule, enum bs_dir dir, const uint8_t *in,
                         size_t n, unsigned seed, bs_status want,
                         const uint8_t *want_out, size_t want_bits,
                         uint64_t want_off)
{
    struct bs_stream st;
    size_t cap = bs_bytes_for_bits(bs_max_stuffed_bits(rule, n)) + 2;
    uint8_t *out = malloc(cap), chunk[40];
    size_t pos = 0, o = 0, on = 0;
    bs_status rc = BS_OK;
    uint64_t total = 0;

    check(out != NULL);
    check(bs_stream_init(&st, rule, dir) == BS_OK);
    while (pos < n && rc == BS_OK) {
        size_t k = 1 + (seed = seed * 1103515245u + 12345u) % 300;
        k = k > n - pos ? n - pos : k;
        memset(chunk, 0, sizeof(chunk));
        for (size_t i = 0; i < k; i++) {
            size_t j = pos + i;
            chunk[i / 8] |=
                (uint8_t) (((in[j / 8] >> (7 - j % 8)) & 1) << (7 - i % 8));
        }
        rc = bs_stream_update(&st, chunk, k, out + o, cap - o, &on);
        o += on;
        pos += k;
    }
    if (rc == BS_OK) {
        rc = bs_stream_finish(&st, out + o, cap - o, &on, &total);
    }
    check(rc == want);
    if (rc == BS_OK) {
        check(total == want_bits && bits_equal(out, want_out, want_bits));
    } else {
        check(bs_stream_error_offset(&st) == want_off);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size)
{
    enum bs_rule rule;
    size_t n, scap, sbits = 0, ubits = 0, tn = 0;
    uint8_t *s = NULL, *u = NULL;
    char *tin = NULL, *tout = NULL, *tback = NULL;
    uint64_t off = 0, toff = 0;
    bs_status rc, trc;
    unsigned seed;
    const uint8_t *data;

    if (fuzz_input_read(raw, size, &rule, &seed, &data, &n) != 0) {
        return 0;
    }

    scap = bs_max_stuffed_bits(rule, n);
    s = malloc(bs_bytes_for_bits(scap) + 1);
    u = malloc(bs_bytes_for_bits(scap) + 1);
    tin = malloc(n + 1);
    tout = malloc(scap + 1);
    tback = malloc(scap + 1);
    check(s && u && tin && tout && tback);
    to_text(data, n, tin);

    /* round trip */
    check(bs_stuff(rule, data, n, s, bs_bytes_for_bits(scap), &sbits, NULL) ==
          BS_OK);
    check(sbits >= n && sbits <= scap);
    check(bs_unstuff(rule, s, sbits, u, bs_bytes_for_bits(scap), &ubits,
                     &off) == BS_OK);
    check(ubits == n && bits_equal(u, data, n));
    check(bs_stuff_text(rule, tin, n, tout, scap, &tn, NULL) == BS_OK);
    check(tn == sbits);
    to_text(s, sbits, tback);
    check(memcmp(tout, tback, tn) == 0);
    check_stream(rule, BS_DIR_STUFF, data, n, seed, BS_OK, s, sbits, 0);

    /* strict unstuff of arbitrary input */
    rc = bs_unstuff(rule, data, n, u, bs_bytes_for_bits(scap), &ubits, &off);
    trc = bs_unstuff_text(rule, tin, n, tout, scap, &tn, &toff);
    check(rc == trc && tn == ubits);
    if (rc == BS_OK) {
        check(bs_stuff(rule, u, ubits, s, bs_bytes_for_bits(scap), &sbits,
                       NULL) == BS_OK);
        check(sbits == n && bits_equal(s, data, n));
    } else {
        check(rc == BS_ERR_FLAG || rc == BS_ERR_ABORT ||
              rc == BS_ERR_STUFF_BIT || rc == BS_ERR_TRUNCATED);
        check(off == toff && off <= n);
    }
    check_stream(rule, BS_DIR_UNSTUFF, data, n, seed, rc, u, ubits, off);

    free(s);
    free(u);
    free(tin);
    free(tout);
    free(tback);
    return 0;
}
