/*
 * bitio.c - text <-> packed bits, and joining packed pieces.
 */
#include "bitio.h"

#include <string.h>

void bs_bitio_pack(const char *text, size_t n, uint8_t *out)
{
    size_t i = 0, o = 0;

    for (; n - i >= 8; i += 8) {
        unsigned b = 0;

        for (unsigned k = 0; k < 8; k++) {
            b = (b << 1) | (text[i + k] == '1');
        }
        out[o++] = (uint8_t) b;
    }
    if (i < n) {
        unsigned b = 0, k = 0;

        for (; i < n; i++, k++) {
            b = (b << 1) | (text[i] == '1');
        }
        out[o] = (uint8_t) (b << (8 - k));
    }
}

void bs_bitio_unpack(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned bit = ((unsigned) in[i / 8] >> (7u - (unsigned) (i % 8))) & 1u;

        out[i] = bit != 0 ? '1' : '0';
    }
}

void bs_bitio_mask_tail(uint8_t *buf, size_t n)
{
    if (n % 8 != 0) {
        buf[n / 8] &= (uint8_t) (0xFFu << (8 - n % 8));
    }
}

void bs_bitio_writer_init(struct bs_bitio_writer *w, uint8_t *buf, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->cap = cap;
}

size_t bs_bitio_append_room(size_t n)
{
    /* up to 7 pending bits plus n bits: (n + 7) / 8 whole bytes at most */
    return n / 8 + 1;
}

int bs_bitio_append(struct bs_bitio_writer *w, const uint8_t *in, size_t n)
{
    size_t whole = n / 8, rest = n % 8;

    if (w->cap - w->len < bs_bitio_append_room(n)) {
        return -1;
    }
    if (w->nacc == 0) {
        memcpy(w->buf + w->len, in, whole);
        w->len += whole;
    } else {
        /* Each input byte completes the pending byte and leaves nacc bits
         * of itself pending. */
        for (size_t i = 0; i < whole; i++) {
            w->buf[w->len++] = (uint8_t) (w->acc | (in[i] >> w->nacc));
            w->acc = (unsigned) (in[i] << (8 - w->nacc)) & 0xFFu;
        }
    }
    if (rest > 0) {
        unsigned b = (unsigned) in[whole] & (0xFFu << (8 - rest)) & 0xFFu;

        w->acc |= b >> w->nacc;
        w->nacc += (unsigned) rest;
        if (w->nacc >= 8) {
            w->buf[w->len++] = (uint8_t) w->acc;
            w->nacc -= 8;
            w->acc = (b << (rest - w->nacc)) & 0xFFu;
        }
    }
    w->total += n;
    return 0;
}

int bs_bitio_finish(struct bs_bitio_writer *w)
{
    if (w->nacc == 0) {
        return 0;
    }
    if (w->len >= w->cap) {
        return -1;
    }
    w->buf[w->len++] = (uint8_t) w->acc;
    w->acc = 0;
    w->nacc = 0;
    return 0;
}

void bs_bitio_drain(struct bs_bitio_writer *w)
{
    w->len = 0;
}
