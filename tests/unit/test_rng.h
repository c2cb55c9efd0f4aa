/*
 * test_rng.h - the tests' pseudo-random numbers (unit tests and fuzzers).
 *
 * xorshift64*: fast, good enough to pick lengths and bits, and the same
 * sequence for the same seed on every machine, so a failing case can be
 * replayed from its seed.  The state must not be 0.  Not for secrets.
 */
#ifndef BS_TEST_RNG_H
#define BS_TEST_RNG_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* A number in [0, n), or 0 if n is 0 (the small bias of % is fine here). */
static inline size_t rng_below(uint64_t *s, size_t n)
{
    return n == 0 ? 0 : (size_t) (rng_next(s) % n);
}

/* The size of the next piece when input of which left bytes remain is
 * fed in random pieces of 1 to max bytes (max > 0). */
static inline size_t rng_piece(uint64_t *s, size_t left, size_t max)
{
    size_t r = 1 + (size_t) (rng_next(s) % max);

    return r < left ? r : left;
}

#endif /* BS_TEST_RNG_H */
