/*
 * explainer.h - the client's --explain: what the rule did to each message
 * (explain.h renders it) and whether the server's reply agrees.
 *
 * Text modes explain each message from its text and its reply.  File
 * mode streams, so the explainer keeps copies of the bits sent and
 * received, up to BS_EXPLAIN_MAX_BITS each; a message longer than that is
 * not explained, and says so (the client refuses a file known to be too
 * long before it connects).  Pure apart from writing to the FILE * given.
 */
#ifndef BS_EXPLAINER_H
#define BS_EXPLAINER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "explain.h"
#include "proto.h"

/* A message as text, collected from packed chunks. */
struct bs_explainer_bits {
    /* '0'/'1', NULL until used; at most bs_max_stuffed_any(
     * BS_EXPLAIN_MAX_BITS), room for the reply to the longest message
     * explained */
    char *text;
    size_t n;
    uint64_t total; /* bits seen, those not kept included */
};

/* Add nbits packed bits (most significant bit of data[0] first); bits
 * past the room are counted, not kept.  Returns 0, or -1 when
 * memory ran out. */
int bs_explainer_add(struct bs_explainer_bits *b, const uint8_t *data,
                     size_t nbits);

/* Free b's text and zero it. */
void bs_explainer_reset(struct bs_explainer_bits *b);

/*
 * Explain one message to f and compare with the server's answer: reply
 * (reply_n bits of text, of reply_total received) for a success, err (an
 * ERROR event) for an error reply; what names the message ("message 2", "line
 * 7", the file). After the explanation, a line says whether the server agrees:
 * the same output, or the same error at the same bit; a difference is shown
 * with its first bit.  A message longer than BS_EXPLAIN_MAX_BITS gets one line
 * saying it is not explained.  Returns 0, or -1 if memory ran out.
 */
int bs_explainer_show(FILE *f, int colour, const char *what,
                      enum bs_proto_op op, enum bs_rule rule, const char *in,
                      uint64_t in_n, const char *reply, size_t reply_n,
                      uint64_t reply_total, const struct bs_proto_event *err);

/* The message for a file of bits bits that --explain will not show,
 * into buf; returns 1 if bits is too many, else 0 (buf untouched). */
int bs_explainer_too_long(uint64_t bits, char *buf, size_t len);

#endif /* BS_EXPLAINER_H */
