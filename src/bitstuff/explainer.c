/*
 * explainer.c - the client's --explain; see explainer.h.
 */
#include "explainer.h"

#include <stdlib.h>
#include <string.h>

#include "stuff.h"

int bs_explainer_add(struct bs_explainer_bits *b, const uint8_t *data,
                     size_t nbits)
{
    size_t cap = bs_max_stuffed_any(BS_EXPLAIN_MAX_BITS);
    size_t keep = 0;

    if (b->total < cap) {
        keep = cap - (size_t) b->total;
        keep = keep < nbits ? keep : nbits;
    }
    if (keep > 0 && b->text == NULL) {
        b->text = malloc(cap);
        if (b->text == NULL) {
            return -1;
        }
    }
    for (size_t i = 0; i < keep; i++) {
        b->text[b->n++] = (char) ('0' + ((data[i / 8] >> (7 - i % 8)) & 1));
    }
    b->total += nbits;
    return 0;
}

void bs_explainer_reset(struct bs_explainer_bits *b)
{
    free(b->text);
    memset(b, 0, sizeof(*b));
}

int bs_explainer_too_long(uint64_t bits, char *buf, size_t len)
{
    if (bits <= BS_EXPLAIN_MAX_BITS) {
        return 0;
    }
    snprintf(buf, len,
             "--explain shows every bit of a message, so it takes at most "
             "%u bits (%u bytes), and this input holds %llu: explain a piece "
             "of it (--in-bits %u), or leave out --explain",
             BS_EXPLAIN_MAX_BITS, BS_EXPLAIN_MAX_BITS / 8,
             (unsigned long long) bits, BS_EXPLAIN_MAX_BITS);
    return 1;
}

/* The server's answer against the explanation, in one line. */
static void compare(FILE *f, const struct bs_explain *x, const char *reply,
                    size_t reply_n, uint64_t reply_total,
                    const struct bs_proto_event *err)
{
    if (err != NULL) {
        const char *name = bs_proto_code_name(err->code);
        int stuffing = bs_proto_code_from_status(x->status) == err->code &&
                       x->status != BS_OK;

        if (stuffing && err->offset == x->err_offset) {
            fprintf(f, "server: agrees (%s at bit %llu)\n", name,
                    (unsigned long long) err->offset);
        } else if (err->offset != BS_PROTO_NO_OFFSET) {
            fprintf(f, "server: answered %s at bit %llu: %s\n", name,
                    (unsigned long long) err->offset, err->message);
        } else {
            fprintf(f,
                    "server: answered %s: %s (the explanation above is what "
                    "the rule gives)\n",
                    name, err->message);
        }
        return;
    }
    if (x->status != BS_OK) {
        fprintf(f,
                "server: DIFFERS: it answered %llu bits, not an error at "
                "bit %llu\n",
                (unsigned long long) reply_total,
                (unsigned long long) x->err_offset);
        return;
    }
    if (reply_total == x->out_n && reply_n == x->out_n &&
        (reply_n == 0 || memcmp(reply, x->out, x->out_n) == 0))
    {
        fprintf(f, "server: agrees (the same %zu bits)\n", x->out_n);
        return;
    }
    {
        size_t i = 0;

        while (i < x->out_n && i < reply_n && reply[i] == x->out[i]) {
            i++;
        }
        fprintf(f,
                "server: DIFFERS: it answered %llu bits, the first "
                "difference at output bit %zu\n",
                (unsigned long long) reply_total, i);
    }
}

int bs_explainer_show(FILE *f, int colour, const char *what,
                      enum bs_proto_op op, enum bs_rule rule, const char *in,
                      uint64_t in_n, const char *reply, size_t reply_n,
                      uint64_t reply_total, const struct bs_proto_event *err)
{
    struct bs_explain x;

    fprintf(f, "explain %s:\n", what);
    if (in_n > BS_EXPLAIN_MAX_BITS || (in_n > 0 && in == NULL)) {
        fprintf(f,
                "not explained: %llu bits is more than --explain shows "
                "(%u bits)\n\n",
                (unsigned long long) in_n, BS_EXPLAIN_MAX_BITS);
        return 0;
    }
    if (bs_explain_run(&x, rule, bs_proto_op_dir(op), in, (size_t) in_n) != 0) {
        return -1;
    }
    if (bs_explain_render(&x, f, colour) != 0) {
        bs_explain_free(&x);
        return -1;
    }
    compare(f, &x, reply, reply_n, reply_total, err);
    fputc('\n', f);
    bs_explain_free(&x);
    return 0;
}
