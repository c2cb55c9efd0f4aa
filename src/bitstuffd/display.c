/*
 * display.c - the first bits of a message and its length; see display.h.
 */
#include "display.h"

#include <stdio.h>
#include <string.h>

void bs_display_reset(struct bs_display_bits *d)
{
    memset(d, 0, sizeof *d);
}

static void put_bit(struct bs_display_bits *d, unsigned bit)
{
    if (d->n < BS_DISPLAY_BITS && bit) {
        d->first[d->n / 8] |= (uint8_t) (0x80u >> (d->n % 8));
    }
    d->n++;
}

void bs_display_add_packed(struct bs_display_bits *d, const uint8_t *data,
                           size_t nbits)
{
    size_t i;

    for (i = 0; i < nbits && d->n < BS_DISPLAY_BITS; i++) {
        put_bit(d, ((unsigned) data[i / 8] >> (7 - i % 8)) & 1u);
    }
    d->n += nbits - i;
}

void bs_display_add_text(struct bs_display_bits *d, const char *text, size_t n)
{
    size_t i;

    for (i = 0; i < n && d->n < BS_DISPLAY_BITS; i++) {
        put_bit(d, text[i] == '1');
    }
    d->n += n - i;
}

void bs_display_format(const struct bs_display_bits *d, char *buf, size_t len)
{
    char digits[BS_DISPLAY_BITS + 1];
    size_t shown = d->n < BS_DISPLAY_BITS ? (size_t) d->n : BS_DISPLAY_BITS;

    if (len == 0) {
        return;
    }
    for (size_t i = 0; i < shown; i++) {
        digits[i] =
            ((unsigned) d->first[i / 8] >> (7 - i % 8)) & 1u ? '1' : '0';
    }
    digits[shown] = '\0';
    if (d->n == 0) {
        snprintf(buf, len, "0 bits");
    } else if (d->n <= BS_DISPLAY_BITS) {
        snprintf(buf, len, "%llu bits: %s", (unsigned long long) d->n, digits);
    } else {
        snprintf(buf, len, "%llu bits: %s... (%llu bits)",
                 (unsigned long long) d->n, digits, (unsigned long long) d->n);
    }
}
