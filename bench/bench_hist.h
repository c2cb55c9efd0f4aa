/*
 * bench_hist.h - a latency histogram with fixed memory (HDR-like).
 *
 * Values (nanoseconds, or any unsigned count) go into log-linear buckets:
 * values below 256 are exact; above, each power of two is split into 128
 * buckets, so a bucket is at most 1/128 (0.8 %) of its value wide.  The
 * whole 64-bit range fits in BS_BENCH_HIST_BUCKETS counters (about 58 KiB),
 * so recording is a few instructions and never allocates.  Histograms of
 * several threads are merged by adding them.
 */
#ifndef BS_BENCH_HIST_H
#define BS_BENCH_HIST_H

#include <stdint.h>

#define BS_BENCH_HIST_SUB     128u /* buckets per power of two */
#define BS_BENCH_HIST_BUCKETS (58u * BS_BENCH_HIST_SUB) /* 256 + 56 * 128 */

struct bs_bench_hist {
    uint64_t count;
    uint64_t min;
    uint64_t max;
    uint64_t sum; /* saturates at UINT64_MAX */
    uint64_t buckets[BS_BENCH_HIST_BUCKETS];
};

/* Empty the histogram. */
void bs_bench_hist_init(struct bs_bench_hist *h);

/* Record one value. */
void bs_bench_hist_add(struct bs_bench_hist *h, uint64_t v);

/* Add every value of src into dst. */
void bs_bench_hist_merge(struct bs_bench_hist *dst,
                         const struct bs_bench_hist *src);

/*
 * The value at percentile p (0 < p <= 100): the smallest recorded value v
 * such that at least p % of the values are <= v, rounded up to the top of
 * its bucket but never above the largest value recorded.  0 when empty.
 * Exact for values below 256; otherwise at most 0.8 % above the truth.
 */
uint64_t bs_bench_hist_percentile(const struct bs_bench_hist *h, double p);

/* Bucket index of a value, and the largest value of a bucket (exposed for
 * the unit test). */
unsigned bs_bench_hist_index(uint64_t v);
uint64_t bs_bench_hist_bucket_top(unsigned idx);

#endif /* BS_BENCH_HIST_H */
