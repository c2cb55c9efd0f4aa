/*
 * num.h - the numbers people type on command lines, parsed strictly.
 *
 * Only decimal digits are accepted: no sign, no spaces, no "0x", no
 * trailing text, nothing beyond UINT64_MAX.  Both functions return 0 and
 * write *out, or return -1 and leave *out alone.
 */
#ifndef BS_NUM_H
#define BS_NUM_H

#include <stdint.h>

/* A decimal number in [min, max]. */
int bs_num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* The same with an optional suffix k/K, M or G (x 1000, x 10^6, x 10^9):
 * "20k" is 20000.  The scaled value must lie in [min, max]. */
int bs_num_parse_count(const char *s, uint64_t min, uint64_t max,
                       uint64_t *out);

#endif /* BS_NUM_H */
