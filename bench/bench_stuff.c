/*
 * bench_stuff.c - throughput of every stuffing kernel this CPU supports,
 * against the reference bit loop and memcpy, in one run.
 *
 *   bench_stuff [-m MiB] [-r rounds] [-d random|ones|ascii]...
 *               [-R RULE|all]... [-M]      (RULE: hdlc, usb, ... as in stuff.c)
 *
 * Input is MiB mebibytes of packed bits (packed) or of '0'/'1' characters
 * (text); unstuffing gets the stuffing of that data under each rule.
 * Speeds are MB/s (10^6 bytes) of input.  The machine is shared, so every
 * kernel of every rule (-R, default hdlc) runs once per round, in turn,
 * and the best round is reported beside the median.  The reference loop
 * runs in the rounds too, on a prefix of at most 4 MiB.  Every kernel's
 * output is checked against the reference's.  -M prints the results as
 * markdown tables, ready for README.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stuff.h"
#include "stuff_kernel.h"

#define REF_MAX ((size_t) 4 << 20)

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
static uint64_t run(size_t kernel, enum bs_rule rule, const struct op *op,
                    void *out, size_t cap)
{
    struct bs_stream st;
    size_t len = 0, last = 0;
    uint64_t total = 0;
    bs_status rc = bs_stream_init_kernel(&st, rule, op->dir, kernel);

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

/* Seconds of one run. */
static double time_run(size_t kernel, enum bs_rule rule, const struct op *op,
                       void *out, size_t cap, uint64_t *total)
{
    double t = now();

    *total = run(kernel, rule, op, out, cap);
    return now() - t;
}

/* Best MB/s over at least reps runs that take at least min_seconds in
 * all; 0 if the input is empty. */
static double measure(size_t kernel, enum bs_rule rule, const struct op *op,
                      void *out, size_t cap, int reps, double min_seconds,
                      uint64_t *total)
{
    double best = 1e30, spent = 0;

    for (int r = 0; r < reps || spent < min_seconds; r++) {
        double t = time_run(kernel, rule, op, out, cap, total);
        spent += t;
        best = t < best ? t : best;
    }
    return best > 0 ? (double) op->bytes / best / 1e6 : 0;
}

/* The reference's shorter input: a prefix of op; for unstuffing, one
 * whose last two bits differ, so that no stuffed bit is due at its end
 * under any rule (stuffed data changes value at least every six bits). */
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
        const char *t = op->in;
        while (n > 2 && t[n - 1] == t[n - 2]) {
            n--;
        }
        p.bytes = n;
    } else {
        const uint8_t *b = op->in;
        while (n > 2 && ((b[(n - 1) / 8] >> (7 - (n - 1) % 8)) & 1) ==
                            ((b[(n - 2) / 8] >> (7 - (n - 2) % 8)) & 1))
        {
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

#define MAX_RULES BS_RULE_COUNT
#define OPS       4
#define MAX_K     8

/* What one rule is measured on, and what it measured. */
struct rule_run {
    enum bs_rule rule;
    struct op ops[OPS];
    uint8_t *stuffed;
    char *tstuffed;
    struct op small[OPS];    /* the reference's prefix of each op */
    uint64_t ref_total[OPS]; /* its output length on the prefix */
    uint8_t *ref_out[OPS];   /* its output on the prefix */
    double *mbs[OPS][MAX_K]; /* MB/s of each round; [0] the reference */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t) n, sizeof(v[0]), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double best(const double *v, int n)
{
    double b = 0;

    for (int i = 0; i < n; i++) {
        b = v[i] > b ? v[i] : b;
    }
    return b;
}

static const char *const op_names[OPS] = {"stuff packed", "unstuff packed",
                                          "stuff text", "unstuff text"};

/* Inputs of one rule: the data, and its stuffing under the rule. */
static void prepare(struct rule_run *rr, enum bs_rule rule, uint8_t *data,
                    char *text, size_t bytes, size_t cap, int reps)
{
    size_t maxbits = bs_max_stuffed_bits(rule, bytes * 8);
    size_t tmax = bs_max_stuffed_bits(rule, bytes);

    rr->rule = rule;
    rr->stuffed = xmalloc(bs_bytes_for_bits(maxbits));
    rr->tstuffed = xmalloc(tmax);
    rr->ops[0] = (struct op){BS_DIR_STUFF, 0, data, bytes * 8, bytes};
    rr->ops[2] = (struct op){BS_DIR_STUFF, 1, text, bytes, bytes};
    rr->ops[1] = (struct op){BS_DIR_UNSTUFF, 0, rr->stuffed, 0, 0};
    rr->ops[1].n = (size_t) run(BS_KERNEL_PORTABLE, rule, &rr->ops[0],
                                rr->stuffed, bs_bytes_for_bits(maxbits));
    rr->ops[1].bytes = bs_bytes_for_bits(rr->ops[1].n);
    rr->ops[3] = (struct op){BS_DIR_UNSTUFF, 1, rr->tstuffed, 0, 0};
    rr->ops[3].n =
        (size_t) run(BS_KERNEL_PORTABLE, rule, &rr->ops[2], rr->tstuffed, tmax);
    rr->ops[3].bytes = rr->ops[3].n;
    for (int o = 0; o < OPS; o++) {
        rr->small[o] = prefix(&rr->ops[o]);
        rr->ref_out[o] = xmalloc(cap);
        (void) measure(BS_KERNEL_REFERENCE, rule, &rr->small[o], rr->ref_out[o],
                       cap, 1, 0, &rr->ref_total[o]);
        for (size_t k = 0; k < bs_kernel_count() && k < MAX_K; k++) {
            rr->mbs[o][k] = xmalloc((size_t) reps * sizeof(double));
        }
    }
}

static void release(struct rule_run *rr)
{
    free(rr->stuffed);
    free(rr->tstuffed);
    for (int o = 0; o < OPS; o++) {
        free(rr->ref_out[o]);
        for (size_t k = 0; k < bs_kernel_count() && k < MAX_K; k++) {
            free(rr->mbs[o][k]);
        }
    }
}

/* One timed run of kernel k on op o of rr; the first round also checks
 * that the output begins with the reference's (which ran on a prefix;
 * all but its last byte or character must match). */
static int round_one(struct rule_run *rr, int o, size_t k, void *out,
                     size_t cap, int round)
{
    uint64_t total = 0;
    const struct op *op = &rr->ops[o];
    double t = time_run(k, rr->rule, op, out, cap, &total);
    size_t same =
        op->text ? (size_t) rr->ref_total[o] : (size_t) rr->ref_total[o] / 8;

    if (round == 0 &&
        (total < rr->ref_total[o] ||
         memcmp(out, rr->ref_out[o], same > 0 ? same - 1 : 0) != 0))
    {
        fprintf(stderr,
                "bench_stuff: kernel %s, rule %s: %s output differs from "
                "the reference\n",
                bs_kernel_name(k), bs_rule_name(rr->rule), op_names[o]);
        return -1;
    }
    rr->mbs[o][k][round] = t > 0 ? (double) op->bytes / t / 1e6 : 0;
    return 0;
}

/* One line of a table: markdown or aligned columns. */
static void line(int md, const char *op, const char *kernel, const char *mbs,
                 const char *mid, const char *vs_ref, const char *vs_hdlc,
                 const char *vs_copy)
{
    if (md) {
        printf("| %s | %s | %s | %s | %s | %s | %s |\n", op, kernel, mbs, mid,
               vs_ref, vs_hdlc, vs_copy);
    } else {
        printf("%-15s %-17s %11s %9s %10s %8s %8s\n", op, kernel, mbs, mid,
               vs_ref, vs_hdlc, vs_copy);
    }
}

/* Median over the rounds of a[r] / b[r]; "-" without b. */
static const char *round_ratio(char *buf, size_t len, const double *a,
                               const double *b, int reps, int digits)
{
    double q[1000];

    if (b == NULL) {
        return "-";
    }
    for (int r = 0; r < reps; r++) {
        q[r] = b[r] > 0 ? a[r] / b[r] : 0;
    }
    snprintf(buf, len, "%.*f", digits, median(q, reps));
    return buf;
}

/* One rule's table.  The ratios are medians of the rounds' ratios: in a
 * round the two runs met the same neighbours. */
static void print_table(const struct rule_run *rr, const struct rule_run *hdlc,
                        int reps, int md, double copy)
{
    printf("\n%s%s rule\n\n", md ? "#### " : "", bs_rule_name(rr->rule));
    line(md, "operation", "kernel", "MB/s", "median", "x bit loop", "x hdlc",
         "x memcpy");
    if (md) {
        printf("|---|---|--:|--:|--:|--:|--:|\n");
    }
    for (int o = 0; o < OPS; o++) {
        for (size_t k = 0; k < bs_kernel_count() && k < MAX_K; k++) {
            char label[40], a[32], b[32], c[32], d[32], e[32];
            double tmp[1000];

            snprintf(label, sizeof(label), "%s%s", bs_kernel_name(k),
                     k == bs_kernel_best() ? " (chosen)" : "");
            if (!bs_kernel_supported(k)) {
                line(md, op_names[o], label, "unsupported", "-", "-", "-", "-");
                continue;
            }
            snprintf(a, sizeof(a), "%.0f", best(rr->mbs[o][k], reps));
            memcpy(tmp, rr->mbs[o][k], (size_t) reps * sizeof(double));
            snprintf(b, sizeof(b), "%.0f", median(tmp, reps));
            line(md, op_names[o], label, a, b,
                 round_ratio(c, sizeof(c), rr->mbs[o][k], rr->mbs[o][0], reps,
                             1),
                 round_ratio(d, sizeof(d), rr->mbs[o][k],
                             hdlc != NULL ? hdlc->mbs[o][k] : NULL, reps, 2),
                 ratio(e, sizeof(e), median(tmp, reps), copy, 3));
        }
    }
}

/*
 * Every rule in rules, every kernel and operation, in rounds: each round
 * times one run of each, rule after rule, so that a disturbance on the
 * shared machine hits all of them alike.  MB/s is the best round, and
 * the median is printed beside it; "x hdlc" compares with HDLC's best
 * for the same operation and kernel, measured in the same rounds.
 */
static int bench_data(const char *kind, size_t bytes, int reps, int md,
                      const enum bs_rule *rules, int nrules)
{
    size_t maxbits = bs_max_stuffed_any(bytes * 8);
    size_t cap = bs_bytes_for_bits(maxbits) + bs_max_stuffed_any(bytes);
    uint8_t *data = xmalloc(bytes), *out = xmalloc(cap);
    char *text = xmalloc(bytes);
    struct rule_run rr[MAX_RULES];
    const struct rule_run *hdlc = NULL;
    double copy;
    int rc = 0;

    make_data(kind, data, bytes);
    to_text(data, bytes, text);
    copy = measure_memcpy(out, data, bytes, reps);
    for (int i = 0; i < nrules; i++) {
        prepare(&rr[i], rules[i], data, text, bytes, cap, reps);
        if (rules[i] == BS_RULE_HDLC) {
            hdlc = &rr[i];
        }
    }
    for (int round = 0; round < reps && rc == 0; round++) {
        for (int o = 0; o < OPS && rc == 0; o++) {
            for (int i = 0; i < nrules && rc == 0; i++) {
                /* the bit loop too, so that its ratio is of one run */
                rr[i].mbs[o][0][round] =
                    measure(BS_KERNEL_REFERENCE, rr[i].rule, &rr[i].small[o],
                            out, cap, 1, 0, &(uint64_t){0});
                for (size_t k = 1; k < bs_kernel_count() && k < MAX_K; k++) {
                    if (bs_kernel_supported(k) &&
                        round_one(&rr[i], o, k, out, cap, round) != 0) {
                        rc = 1;
                        break;
                    }
                }
            }
        }
    }
    if (rc == 0) {
        printf("\n%s input, %zu MiB; %d rounds, MB/s of input, best round and "
               "median; the reference on the first %zu MiB; ratios: medians of "
               "the rounds' ratios; memcpy "
               "%.0f MB/s\n",
               kind, bytes >> 20, reps,
               (bytes < REF_MAX ? bytes : REF_MAX) >> 20, copy);
        for (int i = 0; i < nrules; i++) {
            print_table(&rr[i], hdlc, reps, md, copy);
        }
    }
    for (int i = 0; i < nrules; i++) {
        release(&rr[i]);
    }
    free(data);
    free(text);
    free(out);
    return rc;
}

/* " hdlc, usb, can": the rule names, from the library's table. */
static void print_rules(FILE *f)
{
    for (int i = 0; i < BS_RULE_COUNT; i++) {
        fprintf(f, "%s %s", i > 0 ? "," : "", bs_rule_name((enum bs_rule) i));
    }
}

int main(int argc, char **argv)
{
    size_t mib = 64;
    int reps = 9, opt, rc = 0, ndata = 0, md = 0, nrules = 0;
    const char *data[8];
    enum bs_rule rules[MAX_RULES], rule;

    while ((opt = getopt(argc, argv, "m:r:d:R:Mh")) != -1) {
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
        case 'R':
            if (strcmp(optarg, "all") == 0) {
                for (nrules = 0; nrules < BS_RULE_COUNT; nrules++) {
                    rules[nrules] = (enum bs_rule) nrules;
                }
                break;
            }
            if (bs_rule_parse(optarg, strlen(optarg), &rule) != 0) {
                fprintf(stderr, "bench_stuff: -R takes");
                print_rules(stderr);
                fprintf(stderr, " or all, not %s\n", optarg);
                return 2;
            }
            for (int i = 0; i < nrules; i++) {
                if (rules[i] == rule) {
                    rule = (enum bs_rule) - 1;
                }
            }
            if ((int) rule >= 0 && nrules < MAX_RULES) {
                rules[nrules++] = rule;
            }
            break;
        case 'M':
            md = 1;
            break;
        default:
            fprintf(stderr, "usage: bench_stuff [-m MiB] [-r rounds] "
                            "[-d random|ones|ascii]... [-R RULE|all]... "
                            "[-M]\n  RULE:");
            print_rules(stderr);
            fprintf(stderr, "\n");
            return 2;
        }
    }
    if (mib < 1 || mib > 4096 || reps < 1 || reps > 1000) {
        fprintf(stderr, "bench_stuff: -m takes 1..4096 MiB and -r 1..1000 "
                        "rounds\n");
        return 2;
    }
    if (ndata == 0) {
        data[ndata++] = "random";
    }
    if (nrules == 0) {
        rules[nrules++] = BS_RULE_HDLC;
    }
    printf("kernel chosen on this CPU: %s\n", bs_kernel_name(bs_kernel_best()));
    for (int i = 0; i < ndata && rc == 0; i++) {
        rc = bench_data(data[i], mib << 20, reps, md, rules, nrules);
    }
    return rc;
}
