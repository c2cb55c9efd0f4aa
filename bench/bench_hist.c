/*
 * bench_hist.c - log-linear latency histogram.
 */
#include "bench_hist.h"

#include <string.h>

void bs_bench_hist_init(struct bs_bench_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned bs_bench_hist_index(uint64_t v)
{
    unsigned msb, shift;

    if (v < 2u * BS_BENCH_HIST_SUB) {
        return (unsigned) v;
    }
    msb = 63u - (unsigned) __builtin_clzll(v); /* >= 8 */
    shift = msb - 7u;                          /* keep 8 significant bits */
    return 2u * BS_BENCH_HIST_SUB + (shift - 1u) * BS_BENCH_HIST_SUB +
           (unsigned) ((v >> shift) - BS_BENCH_HIST_SUB);
}

uint64_t bs_bench_hist_bucket_top(unsigned idx)
{
    unsigned shift;
    uint64_t sub;

    if (idx < 2u * BS_BENCH_HIST_SUB) {
        return idx;
    }
    idx -= 2u * BS_BENCH_HIST_SUB;
    shift = idx / BS_BENCH_HIST_SUB + 1u;
    sub = BS_BENCH_HIST_SUB + idx % BS_BENCH_HIST_SUB;
    if (shift == 56u && sub == 2u * BS_BENCH_HIST_SUB - 1u) {
        return UINT64_MAX; /* (256 << 56) - 1 would overflow */
    }
    return ((sub + 1u) << shift) - 1u;
}

void bs_bench_hist_add(struct bs_bench_hist *h, uint64_t v)
{
    h->buckets[bs_bench_hist_index(v)]++;
    h->count++;
    h->sum = v > UINT64_MAX - h->sum ? UINT64_MAX : h->sum + v;
    if (v < h->min) {
        h->min = v;
    }
    if (v > h->max) {
        h->max = v;
    }
}

void bs_bench_hist_merge(struct bs_bench_hist *dst,
                         const struct bs_bench_hist *src)
{
    unsigned i;

    for (i = 0; i < BS_BENCH_HIST_BUCKETS; i++) {
        dst->buckets[i] += src->buckets[i];
    }
    dst->count += src->count;
    dst->sum =
        src->sum > UINT64_MAX - dst->sum ? UINT64_MAX : dst->sum + src->sum;
    if (src->min < dst->min) {
        dst->min = src->min;
    }
    if (src->max > dst->max) {
        dst->max = src->max;
    }
}

uint64_t bs_bench_hist_percentile(const struct bs_bench_hist *h, double p)
{
    uint64_t need, seen = 0, top;
    double want;
    unsigned i;

    if (h->count == 0) {
        return 0;
    }
    if (!(p > 0.0)) {
        return h->min;
    }
    want = p / 100.0 * (double) h->count;
    if (want >= (double) h->count) {
        need = h->count;
    } else {
        /* ceil(), forgiving the rounding of p / 100 (99.9 % of 1000 is
         * 999.0000000000001 in doubles, and must mean 999). */
        need = (uint64_t) want;
        if ((double) need < want - 1e-6) {
            need++;
        }
        if (need == 0) {
            need = 1;
        }
    }
    for (i = 0; i < BS_BENCH_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= need) {
            top = bs_bench_hist_bucket_top(i);
            return top > h->max ? h->max : top;
        }
    }
    return h->max;
}
