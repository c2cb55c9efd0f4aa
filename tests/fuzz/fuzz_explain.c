/*
 * fuzz_explain.c - libFuzzer harness for --explain's two parsers of
 * untrusted bytes.
 *
 * Target functions: bs_explain_run_packed, bs_explain_render (explain.c);
 * bs_tlsinfo_describe_cert_msg (tlsinfo.c), which reads a peer's
 * Certificate message.
 *
 * Input: byte 0 picks the target.  Even: the stuffing input of
 * fuzz_input.h after it; the explanation must agree with bs_stuff and
 * bs_unstuff (status, offset, output) and its events must account for
 * every bit of difference; rendering must succeed.  Odd: the rest is a
 * Certificate message (bit 1 of byte 0: TLS 1.3's form); it must be read
 * without a fault.  Any mismatch aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "fuzz_input.h"
#include "stuff.h"
#include "tlsinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size);

static void check(int ok)
{
    if (!ok) {
        abort();
    }
}

static void drop_line(void *arg, const char *line)
{
    (void) arg;
    check(strlen(line) < BS_TLSINFO_LINE_MAX);
}

static void one_dir(enum bs_rule rule, enum bs_dir dir, const uint8_t *in,
                    size_t n)
{
    struct bs_explain x;
    size_t cap = bs_bytes_for_bits(bs_max_stuffed_bits(rule, n)) + 1;
    uint8_t *out = malloc(cap);
    size_t on = 0;
    uint64_t off = 0;
    bs_status st;
    FILE *f;

    check(out != NULL);
    st = dir == BS_DIR_STUFF ? bs_stuff(rule, in, n, out, cap, &on, &off)
                             : bs_unstuff(rule, in, n, out, cap, &on, &off);
    check(bs_explain_run_packed(&x, rule, dir, in, n) == 0);
    check(x.status == st);
    if (st == BS_OK) {
        check(x.out_n == on);
        for (size_t i = 0; i < on; i++) {
            check(x.out[i] - '0' == ((out[i / 8] >> (7 - i % 8)) & 1));
        }
        check(x.n_ev == (dir == BS_DIR_STUFF ? on - n : n - on));
    } else {
        check(x.err_offset == off);
    }
    f = fopen("/dev/null", "w");
    check(f != NULL);
    check(bs_explain_render(&x, f, n % 2 == 0) == 0);
    fclose(f);
    bs_explain_free(&x);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *raw, size_t size)
{
    enum bs_rule rule;
    unsigned seed;
    const uint8_t *data;
    size_t n;

    if (size < 1) {
        return 0;
    }
    if (raw[0] % 2 == 1) {
        (void) bs_tlsinfo_describe_cert_msg(
            raw + 1, size - 1, (raw[0] & 2) != 0, "server", drop_line, NULL);
        return 0;
    }
    if (fuzz_input_read(raw + 1, size - 1, &rule, &seed, &data, &n) != 0) {
        return 0;
    }
    one_dir(rule, BS_DIR_STUFF, data, n);
    one_dir(rule, BS_DIR_UNSTUFF, data, n);
    return 0;
}
