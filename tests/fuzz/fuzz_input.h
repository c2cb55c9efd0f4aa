/*
 * fuzz_input.h - how the stuffing harnesses (fuzz_stuff, fuzz_kernels)
 * read their input: byte 0 picks the rule, byte 1 is the seed (its low
 * three bits the bit count modulo 8, the whole byte the chunk sizes); the
 * rest is the packed data.
 */
#ifndef BS_FUZZ_INPUT_H
#define BS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "stuff.h"

/* For an input of 2 to 4096 bytes: 0, and the rule, the seed, the packed
 * data after the two header bytes and its length in bits; -1 (skip the
 * input) else. */
static inline int fuzz_input_read(const uint8_t *raw, size_t size,
                                  enum bs_rule *rule, unsigned *seed,
                                  const uint8_t **data, size_t *n)
{
    if (size < 2 || size > 4096) {
        return -1;
    }
    *rule = (enum bs_rule)(raw[0] % BS_RULE_COUNT);
    *seed = raw[1];
    *data = raw + 2;
    size -= 2;
    *n = size * 8 - (size > 0 ? (*seed & 7u) : 0);
    return 0;
}

#endif
