/*
 * fuzz_kernels.c - libFuzzer harness: every stuffing kernel this CPU
 * supports against the reference loop.
 *
 * Target functions: bs_stream_update, bs_stream_update_text,
 * bs_stream_finish, bs_stream_finish_text, through each kernel of
 * stuff_kernel.h.
 *
 * Input: byte 0 picks the rule and whether a character of the text form
 * is spoilt, byte 1 the bit count modulo 8 and the chunk size seed; the
 * rest is the packed data.  For stuffing of the data, unstuffing of the
 * data, and unstuffing of its (reference) stuffing, in packed and text
 * form, each kernel is fed the same chunks as the reference; the status,
 * bytes written, error offset and total of every call must be the same.
 * Any mismatch aborts, which libFuzzer reports as a crash.  Every rule
 * (HDLC, USB and CAN) reaches every kernel's word engine; the seed
 * can-chains holds CAN runs that pass an inserted bit from run to run
 * across word boundaries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "stuff.h"
#include "stuff_kernel.h"

int LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size);

static void check(int ok)
{
    if (!ok) {
        abort();
    }
}

static unsigned get_bit(const uint8_t *p, size_t i)
{
    return (unsigned) (p[i / 8] >> (7 - i % 8)) & 1u;
}

struct result {
    bs_status rc;
    uint64_t off, total;
    size_t len;
    uint8_t *out;
};

/* Run one stream over in (n bits or characters) in seeded chunks. */
static void run(size_t kernel, enum bs_rule rule, enum bs_dir dir, int text,
                const uint8_t *in, const char *tin, size_t n, unsigned seed,
                struct result *r)
{
    struct bs_stream st;
    size_t cap = bs_bytes_for_bits(bs_max_stuffed_bits(rule, n)) +
                 bs_max_stuffed_bits(rule, n) + 2;
    uint8_t *chunk = malloc(n / 8 + 2);
    size_t pos = 0, on = 0;

    r->out = malloc(cap);
    check(r->out != NULL && chunk != NULL);
    r->len = 0;
    r->total = 0;
    r->rc = BS_OK;
    check(bs_stream_init_kernel(&st, rule, dir, kernel) == BS_OK);
    while (pos < n && r->rc == BS_OK) {
        size_t k = 1 + (seed = seed * 1103515245u + 12345u) % 200;
        k = k > n - pos ? n - pos : k;
        if (text) {
            r->rc = bs_stream_update_text(
                &st, tin + pos, k, (char *) r->out + r->len, cap - r->len, &on);
        } else {
            memset(chunk, 0, k / 8 + 1);
            for (size_t i = 0; i < k; i++) {
                chunk[i / 8] |= (uint8_t) (get_bit(in, pos + i) << (7 - i % 8));
            }
            r->rc = bs_stream_update(&st, chunk, k, r->out + r->len,
                                     cap - r->len, &on);
        }
        r->len += on;
        pos += k;
    }
    if (r->rc == BS_OK) {
        if (text) {
            r->rc = bs_stream_finish_text(&st, &r->total);
        } else {
            r->rc = bs_stream_finish(&st, r->out + r->len, cap - r->len, &on,
                                     &r->total);
            r->len += on;
        }
    }
    r->off = bs_stream_error_offset(&st);
    free(chunk);
}

static void compare(enum bs_rule rule, enum bs_dir dir, const uint8_t *in,
                    size_t n, unsigned seed, size_t bad_char)
{
    char *tin = malloc(n + 1);
    struct result want, got;

    check(tin != NULL);
    for (size_t i = 0; i < n; i++) {
        tin[i] = (char) ('0' + get_bit(in, i));
    }
    if (bad_char < n) {
        tin[bad_char] = 'x';
    }
    for (int text = 0; text < 2; text++) {
        run(BS_KERNEL_REFERENCE, rule, dir, text, in, tin, n, seed, &want);
        for (size_t k = 1; k < bs_kernel_count(); k++) {
            if (!bs_kernel_supported(k)) {
                continue;
            }
            run(k, rule, dir, text, in, tin, n, seed, &got);
            check(got.rc == want.rc && got.len == want.len);
            check(memcmp(got.out, want.out, want.len) == 0);
            if (want.rc == BS_OK) {
                check(got.total == want.total);
            } else {
                check(got.off == want.off);
            }
            free(got.out);
        }
        free(want.out);
    }
    free(tin);
}

int LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size)
{
    enum bs_rule rule;
    size_t n, bad_char, cap, len = 0, last = 0;
    unsigned seed;
    struct bs_stream st;
    uint64_t total = 0;
    uint8_t *stuffed;
    const uint8_t *data;

    if (fuzz_input_read(raw, size, &rule, &seed, &data, &n) != 0) {
        return 0;
    }
    /* a spoilt character in one input of eight, somewhere in the data */
    bad_char = (raw[0] & 0x38) == 0 && n > 0 ? (seed * 131u) % n : SIZE_MAX;

    compare(rule, BS_DIR_STUFF, data, n, seed, bad_char);
    compare(rule, BS_DIR_UNSTUFF, data, n, seed, bad_char);

    /* valid stuffed input reaches the word engines' main path */
    cap = bs_bytes_for_bits(bs_max_stuffed_bits(rule, n)) + 1;
    stuffed = malloc(cap);
    check(stuffed != NULL);
    check(bs_stream_init_kernel(&st, rule, BS_DIR_STUFF, BS_KERNEL_REFERENCE) ==
          BS_OK);
    check(bs_stream_update(&st, data, n, stuffed, cap, &len) == BS_OK);
    check(bs_stream_finish(&st, stuffed + len, cap - len, &last, &total) ==
          BS_OK);
    compare(rule, BS_DIR_UNSTUFF, stuffed, (size_t) total, seed, bad_char);
    free(stuffed);
    return 0;
}
