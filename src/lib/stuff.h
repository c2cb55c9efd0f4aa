/*
 * stuff.h - bit stuffing and unstuffing (HDLC, USB, CAN).
 *
 * Bit stuffing keeps a run of identical bits from looking like a frame
 * delimiter on the line.  The HDLC rule inserts a 0 after every run of
 * five consecutive 1s, so the flag 01111110 can never appear inside data:
 *
 *     0101111110011111001010  stuffs to  010111110100111110001010
 *
 * Three rules are supported, chosen by a parameter; each is one entry of
 * the rule table in stuff.c, from which every property below (name,
 * run, inserted bit, worst-case growth, word kernels) is derived:
 *
 *   BS_RULE_HDLC  after five 1s insert a 0 (the default; RFC 1662 sec. 5)
 *   BS_RULE_USB   after six 1s insert a 0 (USB 2.0 sec. 7.1.9)
 *   BS_RULE_CAN   after five identical bits insert their complement; the
 *                 inserted bit starts the next run (ISO 11898-1)
 *
 * Stuffing always inserts, even when the run ends the input: "11111"
 * stuffs to "111110".  Unstuffing is strict: its input must be exactly
 * the stuffing of some data, otherwise it fails and names the offset of
 * the first bad bit.  Unstuff(stuff(x)) == x for every x.
 *
 * Two representations give the same results:
 *   - packed: bytes, most significant bit first, plus an exact bit count;
 *     bits past the count in the last byte are ignored on input and
 *     written as 0 on output;
 *   - text: one character '0' or '1' per bit, as in the socket lab.
 *
 * The one-shot functions take the whole input; struct bs_stream takes it
 * in chunks of any size, down to one bit, and gives the same output.
 * Nothing here allocates, blocks or touches global state; every buffer is
 * the caller's and travels with its capacity.
 *
 * This is libbitstuff's public API, installed as <bitstuff/stuff.h> and
 * included by <bitstuff/bitstuff.h> (libbitstuff(3)): every call marked
 * BS_API is exported from libbitstuff.so, and changing one breaks the ABI
 * (cmake/BitstuffInstall.cmake, BS_SOVERSION).
 */
#ifndef BS_STUFF_H
#define BS_STUFF_H

#include <stddef.h>
#include <stdint.h>

#include "bs_api.h"

/* A rule's value is also its code on the wire (docs/PROTOCOL.md) and in
 * the container header (docs/CONTAINER.md): never renumber one. */
enum bs_rule {
    BS_RULE_HDLC = 0,
    BS_RULE_USB = 1,
    BS_RULE_CAN = 2,
    BS_RULE_COUNT /* not a rule: the number of rules */
};

/* Longest rule name, in characters ("hdlc"). */
#define BS_RULE_NAME_MAX 4u

enum bs_dir {
    BS_DIR_STUFF = 0,
    BS_DIR_UNSTUFF = 1,
};

typedef enum bs_status {
    BS_OK = 0,
    /* A NULL pointer where data is needed, an unknown rule or direction,
     * or packed and text calls mixed on one stream. */
    BS_ERR_ARG,
    /* The output buffer is smaller than the bound documented for the call.
     * Nothing was consumed; retry with a larger buffer. */
    BS_ERR_NOSPACE,
    /* Text input holds a character other than '0' or '1'. */
    BS_ERR_CHAR,
    /* Unstuff, HDLC: six 1s, a 1 where the stuffed 0 must be (a flag). */
    BS_ERR_FLAG,
    /* Unstuff, HDLC: seven or more 1s (an abort sequence). */
    BS_ERR_ABORT,
    /* Unstuff, USB or CAN: the bit where the stuffed bit must be has the
     * wrong value (seven 1s for USB, six identical bits for CAN). */
    BS_ERR_STUFF_BIT,
    /* Unstuff: the input ends where a stuffed bit is still due. */
    BS_ERR_TRUNCATED,
    /* Not a status: the number of them; codes are 0 .. BS_STATUS_COUNT - 1.
     * The protocol's wire codes map to these by a table in proto.c, not
     * by value. */
    BS_STATUS_COUNT
} bs_status;

/* A short, stable, lower-case name ("flag", "truncated", ...). */
BS_API const char *bs_status_name(bs_status st);

/* A sentence a user can act on ("six 1s in a row: a 1 where ..."). */
BS_API const char *bs_strerror(bs_status st);

/* "hdlc", "usb", "can"; NULL for an unknown rule. */
BS_API const char *bs_rule_name(enum bs_rule rule);

/* Parse a rule name, case-insensitively.  Returns 0 on success and -1 if
 * the name is not a rule; *rule is written only on success. */
BS_API int bs_rule_parse(const char *name, size_t len, enum bs_rule *rule);

/*
 * Worst-case length in bits of the stuffing of n bits under rule:
 * n + floor(n/5) for HDLC, n + floor(n/6) for USB and n + floor((n-1)/4)
 * for CAN (n >= 1).  Unstuffing never lengthens its input.  Saturates at
 * SIZE_MAX, which no buffer can hold.  For a bad rule it returns SIZE_MAX.
 */
BS_API size_t bs_max_stuffed_bits(enum bs_rule rule, size_t n);

/*
 * For sizing before the rule is known (a server that has not decoded the
 * request yet): floor(n * P / Q), where P/Q is the largest growth of any
 * rule (5/4, CAN's: one bit in per four after the first five), so
 * bs_max_stuffed_bits(rule, n) <= bs_max_stuffed_any(n) for every rule.
 * Saturates at SIZE_MAX.  bs_max_input_any(room) is the inverse,
 * floor(room / P) * Q: the most input whose bs_max_stuffed_any fits in
 * room.  Both work in any unit (bits, characters, bytes).
 */
BS_API size_t bs_max_stuffed_any(size_t n);
BS_API size_t bs_max_input_any(size_t room);

/* Bytes that hold n bits: ceil(n / 8), without overflow. */
static inline size_t bs_bytes_for_bits(size_t n)
{
    return n / 8 + (n % 8 != 0);
}

/*
 * One-shot calls.
 *
 * rule:       the stuffing rule.
 * in, in_n:   the input; in_n counts bits (packed) or characters (text).
 *             in may be NULL only when in_n is 0.  Borrowed.
 * out, cap:   the output buffer and its size in bytes (packed) or
 *             characters (text); it must not overlap in.  Borrowed.
 * out_n:      on success, bits (packed) or characters (text) written.
 *             On a data error, what was written before the bad bit.
 * err_offset: may be NULL; on BS_ERR_CHAR, BS_ERR_FLAG, BS_ERR_ABORT,
 *             BS_ERR_STUFF_BIT and BS_ERR_TRUNCATED it receives the 0-based
 *             offset in the input of the first bad bit (for TRUNCATED: the
 *             input length, where the stuffed bit was due).
 *
 * Capacity: stuffing needs bs_bytes_for_bits(bs_max_stuffed_bits(rule,
 * in_n)) bytes (packed) or bs_max_stuffed_bits(rule, in_n) characters
 * (text); unstuffing needs bs_bytes_for_bits(in_n) bytes or in_n
 * characters.  A smaller buffer gives BS_ERR_NOSPACE, decided before any
 * work, even when the actual output would have fitted.
 *
 * Text output is not NUL-terminated.
 */
BS_API bs_status bs_stuff(enum bs_rule rule, const uint8_t *in, size_t in_n,
                          uint8_t *out, size_t cap, size_t *out_n,
                          uint64_t *err_offset);
BS_API bs_status bs_unstuff(enum bs_rule rule, const uint8_t *in, size_t in_n,
                            uint8_t *out, size_t cap, size_t *out_n,
                            uint64_t *err_offset);
BS_API bs_status bs_stuff_text(enum bs_rule rule, const char *in, size_t in_n,
                               char *out, size_t cap, size_t *out_n,
                               uint64_t *err_offset);
BS_API bs_status bs_unstuff_text(enum bs_rule rule, const char *in, size_t in_n,
                                 char *out, size_t cap, size_t *out_n,
                                 uint64_t *err_offset);

/*
 * Streaming.
 *
 * A caller-allocated object (no heap) that stuffs or unstuffs input given
 * in chunks.  The concatenation of what every call writes equals what the
 * one-shot call writes for the concatenated input, errors and offsets
 * included.  Memory is bounded: the stream holds at most 7 pending output
 * bits and a few counters.
 *
 * A stream is either packed or text, fixed by its first update; mixing
 * the two gives BS_ERR_ARG.  Errors are sticky: after a data error every
 * call returns it again.  HDLC needs one bit of look-ahead to tell a flag
 * (six 1s) from an abort (seven): when a chunk ends on the sixth 1, the
 * error is returned by the next update or by finish.
 *
 * The fields are private; they are visible only so the object can live on
 * the stack or inside another struct.
 */
struct bs_stream {
    uint64_t in_bits;    /* input bits consumed */
    uint64_t out_bits;   /* output bits produced, pending ones included */
    uint64_t err_offset; /* offset of the first bad input bit */
    uint32_t acc;        /* packed output bits not yet written, low bits */
    uint8_t acc_bits;    /* how many bits acc holds (0..7) */
    uint8_t run;         /* length of the current run */
    uint8_t last;        /* value of the last bit of the run */
    uint8_t rule;        /* enum bs_rule */
    uint8_t dir;         /* enum bs_dir */
    uint8_t form;        /* 0 not yet known, 1 packed, 2 text */
    uint8_t pending;     /* HDLC: sixth 1 seen, flag or abort undecided */
    uint8_t err;         /* bs_status of the sticky error, or BS_OK */
    uint8_t kernel;      /* engine doing the work (stuff_kernel.h) */
};

/* Prepare st for a new message.  BS_ERR_ARG for a bad rule or direction. */
BS_API bs_status bs_stream_init(struct bs_stream *st, enum bs_rule rule,
                                enum bs_dir dir);

/* Most bytes a packed update of in_bits bits can write on st now, and
 * most characters a text update of in_len characters can write; both
 * saturate at SIZE_MAX. */
BS_API size_t bs_stream_out_max(const struct bs_stream *st, size_t in_bits);
BS_API size_t bs_stream_out_max_text(const struct bs_stream *st, size_t in_len);

/*
 * Feed in_bits packed bits from in (starting at the most significant bit
 * of in[0]).  Writes whole bytes only to out and sets *out_len to their
 * number; leftover bits wait for the next call or finish.  cap must be at
 * least bs_stream_out_max(st, in_bits), else BS_ERR_NOSPACE and nothing
 * consumed.  On a data error, *out_len is what was written before the
 * bad bit and bs_stream_error_offset() says where it was.
 */
BS_API bs_status bs_stream_update(struct bs_stream *st, const uint8_t *in,
                                  size_t in_bits, uint8_t *out, size_t cap,
                                  size_t *out_len);

/*
 * End a packed stream: checks that no stuffed bit is due (unstuff),
 * writes the last partial byte (0 or 1 byte, padded with 0s) and sets
 * *out_len to it and *total_bits to the exact length of the whole output.
 * cap must be at least 1.  total_bits may be NULL.
 */
BS_API bs_status bs_stream_finish(struct bs_stream *st, uint8_t *out,
                                  size_t cap, size_t *out_len,
                                  uint64_t *total_bits);

/* Text forms of update and finish: characters in, characters out; cap
 * must be at least bs_stream_out_max_text(st, in_len).  A character other
 * than '0' or '1' gives BS_ERR_CHAR at its offset. */
BS_API bs_status bs_stream_update_text(struct bs_stream *st, const char *in,
                                       size_t in_len, char *out, size_t cap,
                                       size_t *out_len);
BS_API bs_status bs_stream_finish_text(struct bs_stream *st,
                                       uint64_t *total_bits);

/* Offset of the first bad input bit, valid after a data error. */
BS_API uint64_t bs_stream_error_offset(const struct bs_stream *st);

/* Input bits consumed so far. */
BS_API uint64_t bs_stream_in_bits(const struct bs_stream *st);

/* Output bits produced so far, those still held for the next byte
 * included. */
BS_API uint64_t bs_stream_out_bits(const struct bs_stream *st);

#endif /* BS_STUFF_H */
