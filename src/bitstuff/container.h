/*
 * container.h - the stuffed-file container (docs/CONTAINER.md): a file
 * that carries its rule, its exact bit count and a SHA-256, so that
 * unstuffing it gives back the exact original bytes.
 *
 *   header   16 bytes: magic 89 42 53 54 55 46 46 0A ("\x89BSTUFF\n"),
 *            version 1, rule (0 hdlc, 1 usb, 2 can), 6 bytes of 0
 *   payload  the stuffed bits packed into bytes, most significant bit
 *            first, the last byte padded with 0 bits
 *   trailer  48 bytes: 89 45 4E 44 ("\x89END"), the bit count as a
 *            big-endian 64-bit number, 4 bytes of 0, and the SHA-256 of
 *            everything before the digest (header, payload, the first 16
 *            bytes of the trailer)
 *
 * The writer needs no seek (the count and digest come last), so a stuff
 * streamed from a pipe can write one.  The reader is incremental: it
 * holds back the last 49 bytes it was fed (the trailer and the payload's
 * last byte) until bs_ctr_reader_finish() says how many bits that last
 * byte carries.  Pure code: no I/O; SHA-256 through OpenSSL's EVP.
 */
#ifndef BS_CONTAINER_H
#define BS_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "stuff.h"

#define BS_CTR_HDR_LEN     16u
#define BS_CTR_TRAILER_LEN 48u
#define BS_CTR_VERSION     1u
#define BS_CTR_MAGIC_LEN   8u

enum bs_ctr_status {
    BS_CTR_OK = 0,
    BS_CTR_NOT_CONTAINER, /* the magic is not there */
    BS_CTR_BAD_VERSION,   /* a version this code does not read */
    BS_CTR_BAD_HEADER,    /* unknown rule or reserved bytes not 0 */
    BS_CTR_TRUNCATED,     /* ends before a whole header or trailer */
    BS_CTR_BAD_LENGTH,    /* bit count and payload size disagree */
    BS_CTR_BAD_DIGEST,    /* SHA-256 mismatch, or padding bits not 0 */
    BS_CTR_NO_MEMORY,
};

/* A sentence for a status, for "error: FILE: <sentence>". */
const char *bs_ctr_strerror(enum bs_ctr_status st);

/* Does p[0..n) begin like a container?  With n < 8 only the bytes
 * there are compared (so a short file that is a prefix says yes). */
int bs_ctr_has_magic(const uint8_t *p, size_t n);

/* Writer: header first, payload bytes as they come, trailer last. */
struct bs_ctr_writer {
    void *md; /* EVP_MD_CTX; private */
};

/* Start a container for rule: fills hdr (BS_CTR_HDR_LEN bytes) to be
 * written first.  Returns 0, or -1 if out of memory. */
int bs_ctr_writer_init(struct bs_ctr_writer *w, enum bs_rule rule,
                       uint8_t *hdr);

/* Payload bytes, exactly as written to the file. */
void bs_ctr_writer_update(struct bs_ctr_writer *w, const uint8_t *p, size_t n);

/* The trailer (BS_CTR_TRAILER_LEN bytes) for a payload of bits bits;
 * the payload written must be ceil(bits / 8) bytes.  Frees w. */
void bs_ctr_writer_finish(struct bs_ctr_writer *w, uint64_t bits,
                          uint8_t *trailer);

/* Free w without finishing (safe after finish and on a zeroed w). */
void bs_ctr_writer_free(struct bs_ctr_writer *w);

/* Reader.  Fields are private. */
struct bs_ctr_reader {
    void *md; /* EVP_MD_CTX */
    uint8_t hdr[BS_CTR_HDR_LEN];
    size_t hdr_len;
    uint8_t hold[BS_CTR_TRAILER_LEN + 1];
    size_t hold_len;
    uint64_t payload_bytes; /* released so far */
    enum bs_rule rule;
    enum bs_ctr_status failed; /* sticky */
};

/* Returns 0, or -1 if out of memory. */
int bs_ctr_reader_init(struct bs_ctr_reader *r);

/*
 * Feed n bytes of the file.  Payload bytes that are certainly not the
 * last one are copied to out (room for n bytes needed), *outn of them.
 * Returns BS_CTR_OK, or the first error found (the magic, the version and
 * the header are checked as soon as their bytes arrive); an error sticks.
 */
enum bs_ctr_status bs_ctr_reader_feed(struct bs_ctr_reader *r,
                                      const uint8_t *in, size_t n, uint8_t *out,
                                      size_t *outn);

/* Has the whole header been read (and accepted)?  Then the rule. */
int bs_ctr_reader_has_header(const struct bs_ctr_reader *r);
enum bs_rule bs_ctr_reader_rule(const struct bs_ctr_reader *r);

/*
 * The end of the file: checks the trailer, the length and the digest.
 * On BS_CTR_OK, *ntail (0 or 1) payload bytes are in tail (room for 1)
 * and *bits is the payload's exact bit count.
 */
enum bs_ctr_status bs_ctr_reader_finish(struct bs_ctr_reader *r, uint8_t *tail,
                                        size_t *ntail, uint64_t *bits);

void bs_ctr_reader_free(struct bs_ctr_reader *r);

#endif /* BS_CONTAINER_H */
