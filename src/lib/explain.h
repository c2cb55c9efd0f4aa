/*
 * explain.h - show, bit by bit, what stuffing or unstuffing did to one
 * message: every inserted (or removed) bit, where it sits, and the run
 * of the rule that made it, for students and for anyone debugging.
 *
 * bs_explain_run() stuffs or unstuffs a message of '0'/'1' characters
 * with the reference engine (stuff.h), one bit at a time, and records an
 * event for every bit the rule inserted or removed.  Nothing is worked
 * out twice: the events are what the engine did, and the words describing
 * them come from the rule table (run length, inserted bit), so HDLC, USB
 * and CAN are explained alike:
 *
 *     five 1s at input bits 3-7 -> 0 inserted at output bit 8
 *     six 1s at input bits 0-5 -> 0 inserted at output bit 6
 *     five 0s at input bits 0-4 -> 1 inserted at output bit 5
 *
 * bs_explain_render() prints the whole explanation: the rule, the input
 * and the output in rows of 64 bits with their offsets, a marker line
 * under each row ('-' under the run that fired the rule, '^' under the
 * inserted or removed bit), the count, one line per event and, for a
 * message that is not stuffed data, a caret under the offending bit with
 * the error's name and offset.  Colour only repeats what the markers say.
 *
 * Offsets are 0-based, as in the protocol's error replies.  The module
 * allocates (the explanation of a message is about 20 times its size in
 * memory) but does no I/O besides writing to the FILE * it is given;
 * callers bound the size of what they explain (BS_EXPLAIN_MAX_BITS).
 */
#ifndef BS_EXPLAIN_H
#define BS_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stuff.h"

/* The largest message the programs explain, in bits (8 KiB packed):
 * 1024 rows of 64 bits, already more than anyone reads bit by bit. */
#define BS_EXPLAIN_MAX_BITS 65536u

/* Bits per row of the rendering. */
#define BS_EXPLAIN_ROW_BITS 64u

/* One bit the rule inserted (stuff) or removed (unstuff). */
struct bs_explain_event {
    /* stuff: the last input bit of the run; unstuff: the removed bit */
    uint64_t in_bit;
    /* stuff: the inserted bit; unstuff: the output bits before the
     * removed one (where the output continues) */
    uint64_t out_bit;
    /* the first input bit of the run; for a stuffed run that a stuffed
     * bit starts (CAN), the first input bit after it */
    uint64_t run_in_first;
    /* stuff: the first output bit of the run */
    uint64_t run_out_first;
    uint8_t run;     /* bits in the run (the rule's run length) */
    uint8_t run_bit; /* the value of the run's bits */
    uint8_t bit;     /* the inserted or removed bit */
    /* the run begins with the previous event's stuffed bit (CAN: the
     * inserted complement starts the next run) */
    uint8_t led_by_stuffed;
};

struct bs_explain {
    enum bs_rule rule;
    enum bs_dir dir;
    char *in; /* copy of the input, in_n characters, not NUL-terminated */
    size_t in_n;
    char *out; /* the output; on an error, what came before the bad bit */
    size_t out_n;
    struct bs_explain_event *ev; /* in order of the input */
    size_t n_ev;
    bs_status status;    /* BS_OK, or the data error the input has */
    uint64_t err_offset; /* input offset of the bad bit, if status != OK */
};

/*
 * Explain stuffing (dir BS_DIR_STUFF) or unstuffing of in[0..n), '0' and
 * '1' characters (any other gives status BS_ERR_CHAR at its offset).
 * Fills *x; a data error is not a failure of the call: it is recorded in
 * x->status and x->err_offset, with the output and events up to it.
 * Returns 0, or -1 for a bad rule or direction, in == NULL with n > 0, or
 * no memory (*x then holds nothing to free).  Free with bs_explain_free.
 */
int bs_explain_run(struct bs_explain *x, enum bs_rule rule, enum bs_dir dir,
                   const char *in, size_t n);

/* The same for n packed bits, most significant bit of in[0] first. */
int bs_explain_run_packed(struct bs_explain *x, enum bs_rule rule,
                          enum bs_dir dir, const uint8_t *in, size_t n);

/* Free what bs_explain_run allocated; x may be zeroed or freed already. */
void bs_explain_free(struct bs_explain *x);

/*
 * The rule in one sentence, from the rule table, into buf (NUL-terminated,
 * cut to len): "hdlc: after five 1s, a 0 is inserted" (stuff) or
 * "hdlc: a 0 after five 1s was inserted by stuffing and is removed; ..."
 * (unstuff).  Returns buf.
 */
const char *bs_explain_rule_text(enum bs_rule rule, enum bs_dir dir, char *buf,
                                 size_t len);

/*
 * Event i in words, into buf (NUL-terminated, cut to len; 160 bytes are
 * always enough): "five 1s at input bits 3-7 -> 0 inserted at output bit
 * 8".  Returns buf.
 */
#define BS_EXPLAIN_LINE_MAX 160u
const char *bs_explain_describe(const struct bs_explain *x, size_t i, char *buf,
                                size_t len);

/*
 * Print the explanation of x to f, in lines ending in '\n'.  colour: 1 to
 * add ANSI colours (inserted bits green, removed red, runs yellow, the
 * offending bit reversed) on top of the markers, which are always there.
 * Returns 0, or -1 if a write failed or memory ran out.
 */
int bs_explain_render(const struct bs_explain *x, FILE *f, int colour);

/*
 * Whether to colour: only on a terminal (is_tty), never when the
 * NO_COLOR environment variable has a non-empty value (no_color, the
 * variable's value or NULL; https://no-color.org), nor for TERM=dumb
 * (term, or NULL).  Returns 1 or 0.
 */
int bs_explain_want_colour(int is_tty, const char *no_color, const char *term);

#endif /* BS_EXPLAIN_H */
