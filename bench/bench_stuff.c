/*
 * bench_stuff.c - throughput of every stuffing kernel this CPU supports,
 * against the reference bit loop and memcpy, in one run.
 *
 *   bench_stuff [-m MiB] [-r repetitions] [-d random|ones|ascii]... [-M]
 *
 * Input is MiB mebibytes of packed bits (packed) or of '0'/'1' characters
 * (text); unstuffing gets the stuffing of that data.  Speeds are MB/s
 * (10^6 bytes) of input, the best of the repetitions, since the machine
 * is shared and the best run is the one least disturbed.  The reference
 * loop is timed on a prefix of at most 4 MiB, run again and again until
 * it has taken at least REF_SECONDS, and its best run counts.  Every
 * kernel's output is checked against the reference's.  -M prints the
 * results as markdown tables, ready for README.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stuff.h"
#include "stuff_kernel.h"

#define REF_MAX     ((size_t) 4 << 20)
#define REF_SECONDS 0.5

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (p == NULL) {
        fprintf(stderr, "bench_stuff: out of memory for %zu bytes\n", n);
        exit(1);
    }
    memset(p, 0, n); /* fault the pages in before timing */
    return p;
}

struct op {
    enum bs_dir dir;
    int text;
    const void *in;
    size_t n;     /* bits (packed) or characters (text) */
    size_t bytes; /* of input, for the MB/s */
};

/* One whole-message run: init, update, finish.  Returns the output
 * length in bits (packed) or characters (text). */
static uint64_t run(size_t kernel, const struct op *op, void *out, size_t cap)
{
    struct bs_stream st;
    size_t len = 0, last = 0;
    uint64_t total = 0;
    bs_status rc = bs_stream_init_kernel(&st, BS_RULE_HDLC, op->dir, kernel);

    if (rc == BS_OK && op->text) {
        rc = bs_stream_update_text(&st, op->in, op->n, out, cap, &len);
        if (rc == BS_OK) {
            rc = bs_stream_finish_text(&st, &total);
        }
    } else if (rc == BS_OK) {
        rc = bs_stream_update(&st, op->in, op->n, out, cap, &len);
        if (rc == BS_OK) {
            rc = bs_stream_finish(&st, (uint8_t *) out + len, cap - len, &last,
                                  &total);
        }
    }
    if (rc != BS_OK) {
        fprintf(stderr, "bench_stuff: kernel %s failed: %s\n",
                bs_kernel_name(kernel), bs_strerror(rc));
        exit(1);
    }
    return total;
}

/* Best MB/s over at least reps runs that take at least min_seconds in
 * all; 0 if the input is empty. */
static double measure(size_t kernel, const struct op *op, void *out, size_t cap,
                      int reps, double min_seconds, uint64_t *total)
{
    double best = 1e30, spent = 0;

    for (int r = 0; r < reps || spent < min_seconds; r++) {
        double t = now();
        *total = run(kernel, op, out, cap);
        t = now() - t;
        spent += t;
        best = t < best ? t : best;
    }
    return best > 0 ? (double) op->bytes / best / 1e6 : 0;
}

/* The reference's shorter input: a prefix of op; for unstuffing, one
 * that ends on a 0, so that no stuffed bit is due at its end (stuffed
 * data has a 0 at least every six bits). */
static struct op prefix(const struct op *op)
{
    struct op p = *op;
    size_t n = op->text ? REF_MAX : REF_MAX * 8;

    if (op->n <= n) {
        return p;
    }
    if (op->dir == BS_DIR_STUFF) {
        p.bytes = op->text ? n : n / 8;
    } else if (op->text) {
        while (n > 1 && ((const char *) op->in)[n - 1] != '0') {
            n--;
        }
        p.bytes = n;
    } else {
        const uint8_t *b = op->in;
        while (n > 1 && ((b[(n - 1) / 8] >> (7 - (n - 1) % 8)) & 1) != 0) {
            n--;
        }
        p.bytes = n / 8;
    }
    p.n = n;
    return p;
}

static double measure_memcpy(void *dst, const void *src, size_t n, int reps)
{
    double best = 1e30;

    for (int r = 0; r < reps; r++) {
        double t = now();
        memcpy(dst, src, n);
        /* keep the copy from being optimised away */
        __asm__ volatile("" : : "r"(dst) : "memory");
        t = now() - t;
        best = t < best ? t : best;
    }
    return (double) n / best / 1e6;
}

static void make_data(const char *kind, uint8_t *p, size_t n)
{
    static const char prose[] =
        "It was the best of times, it was the worst of times, it was the "
        "age of wisdom, it was the age of foolishness. ";
    uint64_t seed = 0x243f6a8885a308d3ULL;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(kind, "ones") == 0) {
            p[i] = 0xff;
        } else if (strcmp(kind, "ascii") == 0) {
            p[i] = (uint8_t) prose[i % (sizeof(prose) - 1)];
        } else {
            p[i] = (uint8_t) rng_next(&seed);
        }
    }
}

static void to_text(const uint8_t *p, size_t bits, char *t)
{
    for (size_t i = 0; i < bits; i++) {
        t[i] = (char) ('0' + ((p[i / 8] >> (7 - i % 8)) & 1));
    }
}

/* A ratio, or "-" when there is no baseline to divide by. */
static const char *ratio(char *buf, size_t len, double a, double b, int digits)
{
    if (a < 0 || b <= 0) {
        return "-";
    }
    snprintf(buf, len, "%.*f", digits, a / b);
    return buf;
}

/* One result: mbs < 0 for an unsupported kernel, base 0 for none. */
static void row(int md, const char *op, const char *kernel, double mbs,
                double base, double copy)
{
    char speed[32], vs_ref[32], vs_copy[32];

    if (mbs < 0) {
        snprintf(speed, sizeof(speed), "unsupported");
    } else {
        snprintf(speed, sizeof(speed), "%.0f", mbs);
    }
    if (md) {
        printf("| %s | %s | %s | %s | %s |\n", op, kernel, speed,
               ratio(vs_ref, sizeof(vs_ref), mbs, base, 1),
               ratio(vs_copy, sizeof(vs_copy), mbs, copy, 3));
    } else {
        printf("%-16s %-12s %10s %10s %9s\n", op, kernel, speed,
               ratio(vs_ref, sizeof(vs_ref), mbs, base, 1),
               ratio(vs_copy, sizeof(vs_copy), mbs, copy, 3));
    }
}

static int bench_data(const char *kind, size_t bytes, int reps, int md)
{
    size_t maxbits = bs_max_stuffed_bits(BS_RULE_HDLC, bytes * 8);
    size_t tbytes = bytes; /* text: one character per bit */
    size_t tmax = bs_max_stuffed_bits(BS_RULE_HDLC, tbytes);
    uint8_t *data = xmalloc(bytes);
    uint8_t *stuffed = xmalloc(bs_bytes_for_bits(maxbits));
    char *text = xmalloc(tbytes), *tstuffed = xmalloc(tmax);
    size_t cap = bs_bytes_for_bits(maxbits) + tmax;
    uint8_t *out = xmalloc(cap), *ref = xmalloc(cap);
    double copy;
    struct op ops[4];
    const char *names[4] = {"stuff packed", "unstuff packed", "stuff text",
                            "unstuff text"};

    make_data(kind, data, bytes);
    to_text(data, tbytes, text);
    ops[0] = (struct op){BS_DIR_STUFF, 0, data, bytes * 8, bytes};
    ops[2] = (struct op){BS_DIR_STUFF, 1, text, tbytes, tbytes};
    ops[1] = (struct op){BS_DIR_UNSTUFF, 0, stuffed, 0, 0};
    ops[1].n = (size_t) run(BS_KERNEL_PORTABLE, &ops[0], stuffed,
                            bs_bytes_for_bits(maxbits));
    ops[1].bytes = bs_bytes_for_bits(ops[1].n);
    ops[3] = (struct op){BS_DIR_UNSTUFF, 1, tstuffed, 0, 0};
    ops[3].n = (size_t) run(BS_KERNEL_PORTABLE, &ops[2], tstuffed, tmax);
    ops[3].bytes = ops[3].n;
    copy = measure_memcpy(out, data, bytes, reps);

    if (md) {
        printf("\n%s input, %zu MiB, HDLC; best of %d runs (reference: best "
               "run of those in %.1f s on the first %zu MiB)\n\n",
               kind, bytes >> 20, reps, REF_SECONDS,
               (bytes < REF_MAX ? bytes : REF_MAX) >> 20);
        printf("| operation | kernel | MB/s | x bit loop | x memcpy |\n");
        printf("|---|---|--:|--:|--:|\n");
    } else {
        printf("\n%s input, %zu MiB, HDLC, best of %d (reference: best run "
               "in %.1f s on %zu MiB)\n",
               kind, bytes >> 20, reps, REF_SECONDS,
               (bytes < REF_MAX ? bytes : REF_MAX) >> 20);
        printf("%-16s %-12s %10s %10s %9s\n", "operation", "kernel", "MB/s",
               "x bitloop", "x memcpy");
    }
    row(md, "memcpy", "-", copy, 0, copy);
    for (int o = 0; o < 4; o++) {
        struct op small = prefix(&ops[o]);
        uint64_t ref_total = 0, total = 0;
        double base = measure(BS_KERNEL_REFERENCE, &small, ref, cap, 2,
                              REF_SECONDS, &ref_total);
        /* the reference ran on a prefix: its output, but for the last
         * byte or character, must begin the kernel's */
        size_t same = ops[o].text ? (size_t) ref_total : (size_t) ref_total / 8;

        row(md, names[o], "reference", base, base, copy);
        for (size_t k = 1; k < bs_kernel_count(); k++) {
            char label[32];
            double mbs;

            snprintf(label, sizeof(label), "%s%s", bs_kernel_name(k),
                     k == bs_kernel_best() ? " (chosen)" : "");
            if (!bs_kernel_supported(k)) {
                row(md, names[o], label, -1, base, copy);
                continue;
            }
            mbs = measure(k, &ops[o], out, cap, reps, 0, &total);
            if (total < ref_total ||
                memcmp(out, ref, same > 0 ? same - 1 : 0) != 0) {
                fprintf(stderr,
                        "bench_stuff: kernel %s: %s output differs from "
                        "the reference\n",
                        bs_kernel_name(k), names[o]);
                return 1;
            }
            row(md, names[o], label, mbs, base, copy);
        }
    }
    free(data);
    free(stuffed);
    free(text);
    free(tstuffed);
    free(out);
    free(ref);
    return 0;
}

int main(int argc, char **argv)
{
    size_t mib = 64;
    int reps = 9, opt, rc = 0, ndata = 0, md = 0;
    const char *data[8];

    while ((opt = getopt(argc, argv, "m:r:d:Mh")) != -1) {
        switch (opt) {
        case 'm':
            mib = (size_t) strtoul(optarg, NULL, 10);
            break;
        case 'r':
            reps = atoi(optarg);
            break;
        case 'd':
            if (strcmp(optarg, "random") != 0 && strcmp(optarg, "ones") != 0 &&
                strcmp(optarg, "ascii") != 0)
            {
                fprintf(stderr,
                        "bench_stuff: -d takes random, ones or "
                        "ascii, not %s\n",
                        optarg);
                return 2;
            }
            if (ndata < 8) {
                data[ndata++] = optarg;
            }
            break;
        case 'M':
            md = 1;
            break;
        default:
            fprintf(stderr, "usage: bench_stuff [-m MiB] [-r repetitions] "
                            "[-d random|ones|ascii]... [-M]\n");
            return 2;
        }
    }
    if (mib < 1 || mib > 4096 || reps < 1 || reps > 1000) {
        fprintf(stderr, "bench_stuff: -m takes 1..4096 MiB and -r 1..1000 "
                        "repetitions\n");
        return 2;
    }
    if (ndata == 0) {
        data[ndata++] = "random";
    }
    printf("kernel chosen on this CPU: %s\n", bs_kernel_name(bs_kernel_best()));
    for (int i = 0; i < ndata && rc == 0; i++) {
        rc = bench_data(data[i], mib << 20, reps, md);
    }
    return rc;
}
