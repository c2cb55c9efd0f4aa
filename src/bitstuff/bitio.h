/*
 * bitio.h - moving bits between the client's forms: text ("0101"),
 * packed bytes (most significant bit first), and a writer that joins
 * packed pieces of any bit length into whole bytes.  Pure code.
 */
#ifndef BS_BITIO_H
#define BS_BITIO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Pack n characters '0'/'1' from text into out (bs_bytes_for_bits(n)
 * bytes); any character other than '1' counts as 0.  Unused low bits of
 * the last byte are 0, as the protocol requires.
 */
void bs_bitio_pack(const char *text, size_t n, uint8_t *out);

/* Write the first n bits of in as n characters '0'/'1' (no NUL). */
void bs_bitio_unpack(const uint8_t *in, size_t n, char *out);

/* Clear the bits past the first n in the last byte of buf. */
void bs_bitio_mask_tail(uint8_t *buf, size_t n);

/*
 * Writer: appends packed pieces of any bit count to buf, whole bytes
 * first; up to 7 bits wait in acc.  Fields are private.
 */
struct bs_bitio_writer {
    uint8_t *buf; /* borrowed; cap bytes */
    size_t cap;
    size_t len;     /* whole bytes in buf */
    uint64_t total; /* bits appended since init */
    unsigned acc;   /* pending bits, in the high bits of a byte */
    unsigned nacc;  /* how many (0..7) */
};

void bs_bitio_writer_init(struct bs_bitio_writer *w, uint8_t *buf, size_t cap);

/* Bytes an append of n bits may add to len: at most this much room must
 * be free (cap - len) before calling bs_bitio_append. */
size_t bs_bitio_append_room(size_t n);

/* Append the first n bits of in.  Returns 0, or -1 (nothing done) if
 * cap - len < bs_bitio_append_room(n). */
int bs_bitio_append(struct bs_bitio_writer *w, const uint8_t *in, size_t n);

/* Move the pending bits, zero-padded, into buf as a last byte (needs one
 * free byte; returns -1 if there is none).  After it only init is valid. */
int bs_bitio_finish(struct bs_bitio_writer *w);

/* The caller has written out buf[0..len): start again at buf[0]. */
void bs_bitio_drain(struct bs_bitio_writer *w);

#endif /* BS_BITIO_H */
