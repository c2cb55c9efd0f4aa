/*
 * num.c - strict command-line number parsing (see num.h).
 */
#include "num.h"

#include <stddef.h>

/* Digits of s up to end (or the NUL when end is NULL) into *out. */
static int digits(const char *s, const char *end, uint64_t *out)
{
    uint64_t n = 0;

    if (s == NULL || *s == '\0' || s == end) {
        return -1;
    }
    for (; *s != '\0' && s != end; s++) {
        unsigned d;

        if (*s < '0' || *s > '9') {
            return -1;
        }
        d = (unsigned) (*s - '0');
        if (n > (UINT64_MAX - d) / 10) {
            return -1;
        }
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

int bs_num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t n;

    if (digits(s, NULL, &n) != 0 || n < min || n > max) {
        return -1;
    }
    *out = n;
    return 0;
}

int bs_num_parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *last;
    uint64_t n, mul = 1;

    if (s == NULL || *s == '\0') {
        return -1;
    }
    for (last = s; last[1] != '\0'; last++) {
    }
    switch (*last) {
    case 'k':
    case 'K':
        mul = 1000;
        break;
    case 'M':
        mul = 1000000;
        break;
    case 'G':
        mul = 1000000000;
        break;
    default:
        last = NULL;
        break;
    }
    if (digits(s, last, &n) != 0 || n > UINT64_MAX / mul) {
        return -1;
    }
    n *= mul;
    if (n < min || n > max) {
        return -1;
    }
    *out = n;
    return 0;
}
