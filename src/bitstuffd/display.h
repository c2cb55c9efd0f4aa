/*
 * display.h - what bitstuffd shows of each exchange.
 *
 * A message may be gigabytes and arrive in chunks, so the display keeps
 * only its first BS_DISPLAY_BITS bits and a count (struct bs_display_bits,
 * 16 bytes) and prints, for example:
 *
 *     [127.0.0.1:51234] stuff hdlc received 22 bits: 0101111110011111001010
 *     [127.0.0.1:51234] stuff hdlc sent 24 bits: 010111110100111110001010
 *     [127.0.0.1:51234] unstuff hdlc error flag at bit 5
 *
 * and for long messages the first 64 bits then "... (N bits)".
 * Formatting is pure; bs_display_* callers hand each line whole to the
 * log (log.h), so threads never interleave inside a line.
 */
#ifndef BS_DISPLAY_H
#define BS_DISPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "explain.h"
#include "log.h"
#include "proto.h"

#define BS_DISPLAY_BITS 64
/* Room for the bits of a line: "N bits: ", 64 digits, "... (N bits)"
 * with N up to 20 digits, and the NUL (123 bytes). */
#define BS_DISPLAY_BITS_STRLEN 128

struct bs_display_bits {
    uint8_t first[BS_DISPLAY_BITS / 8]; /* packed, MSB first */
    uint64_t n;                         /* bits seen in all */
};

void bs_display_reset(struct bs_display_bits *d);

/* Note nbits packed bits starting at the most significant bit of data[0]. */
void bs_display_add_packed(struct bs_display_bits *d, const uint8_t *data,
                           size_t nbits);

/* Note n characters '0'/'1' (anything but '1' counts as 0). */
void bs_display_add_text(struct bs_display_bits *d, const char *text, size_t n);

/* "22 bits: 0101..." (or "0 bits"), and for more than 64 bits
 * "100 bits: <64 digits>... (100 bits)", NUL-terminated, cut to fit len
 * (len >= BS_DISPLAY_BITS_STRLEN is always enough). */
void bs_display_format(const struct bs_display_bits *d, char *buf, size_t len);

/*
 * --explain: the whole of each message, up to BS_EXPLAIN_MAX_BITS, so
 * that the display can show what the rule did to every bit (explain.h).
 * A connection of a server run with --explain holds one (8 KiB); the
 * explanation itself is built when the message ends and freed once
 * logged.  Every line goes to the display prefixed with the peer, so the
 * explanations of concurrent connections stay apart:
 *
 *     [127.0.0.1:51234] explain: stuff, rule hdlc: after five 1s, a 0 ...
 *     [127.0.0.1:51234] explain:       0  0101111110011111001010
 *     [127.0.0.1:51234] explain:             -----   =====
 */
struct bs_display_explain {
    uint8_t bits[BS_EXPLAIN_MAX_BITS / 8]; /* packed, MSB first */
    uint64_t n;                            /* bits seen in all */
    int colour;                            /* ANSI colours in the lines */
};

void bs_display_explain_reset(struct bs_display_explain *e);
void bs_display_explain_add_packed(struct bs_display_explain *e,
                                   const uint8_t *data, size_t nbits);
void bs_display_explain_add_text(struct bs_display_explain *e, const char *text,
                                 size_t n);

/*
 * Explain the message noted in e (op, rule) to log's display, each line
 * "[peer] explain: ...".  A message longer than BS_EXPLAIN_MAX_BITS gets
 * one line saying it is not explained; memory running out, one line on
 * the log.  log may be NULL (written at once, bs_log_put).
 */
void bs_display_explain_show(const struct bs_display_explain *e,
                             struct bs_log *log, const char *peer,
                             enum bs_proto_op op, enum bs_rule rule);

#endif /* BS_DISPLAY_H */
