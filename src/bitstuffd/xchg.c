/*
 * xchg.c - requests to replies for one connection; see xchg.h.
 */
#include "xchg.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

#define CHUNK_MAX_BYTES (BS_PROTO_MAX_CHUNK_BITS / 8u)

void bs_xchg_init(struct bs_xchg *x, const struct bs_proto_limits *lim,
                  const char *peer)
{
    memset(x, 0, sizeof *x);
    bs_proto_decoder_init(&x->dec, BS_PROTO_ROLE_SERVER, lim);
    x->peer = peer;
}

size_t bs_xchg_outbuf_size(const struct bs_proto_limits *lim)
{
    size_t line = lim != NULL ? lim->max_line : BS_PROTO_DEFAULT_MAX_LINE;
    size_t need;

    /* A text reply is held whole until its LF: "OK " plus the stuffing of
     * up to a line of bits under any rule, and room for the input of one
     * more feed step. */
    if (line > (SIZE_MAX - 4096u) / 2u) {
        return SIZE_MAX;
    }
    need = 3u + bs_max_stuffed_any(line) + BS_XCHG_RESERVE + 64u;
    if (need < BS_XCHG_MIN_OUTBUF) {
        need = BS_XCHG_MIN_OUTBUF;
    }
    return (need + 4095u) & ~(size_t) 4095u;
}

int bs_xchg_fatal(const struct bs_xchg *x)
{
    return x->fatal;
}

int bs_xchg_open(const struct bs_xchg *x)
{
    return x->open;
}

static size_t room(const struct bs_outbuf *o)
{
    return o->cap - o->tail;
}

/* Slide unsent bytes to the front; the sender only needs their order. */
static void compact(struct bs_outbuf *o)
{
    if (o->head == 0) {
        return;
    }
    memmove(o->buf, o->buf + o->head, o->tail - o->head);
    o->commit -= o->head;
    o->tail -= o->head;
    o->head = 0;
}

static void put(struct bs_outbuf *o, const void *p, size_t n)
{
    memcpy(o->buf + o->tail, p, n);
    o->tail += n;
}

static const char *op_name(unsigned op)
{
    return op == BS_PROTO_UNSTUFF ? "unstuff" : "stuff";
}

static const char *rule_name(unsigned rule)
{
    const char *s = bs_rule_name((enum bs_rule) rule);
    return s != NULL ? s : "?";
}

static void show_bits(const struct bs_xchg *x, const char *what,
                      const struct bs_display_bits *d)
{
    char bits[BS_DISPLAY_BITS_STRLEN];

    if (x->peer == NULL) {
        return;
    }
    bs_display_format(d, bits, sizeof bits);
    bs_log_put(x->log, BS_LOG_OUT, "[%s] %s %s %s %s", x->peer, op_name(x->op),
               rule_name(x->rule), what, bits);
}

static void show_error(const struct bs_xchg *x, int in_message, unsigned code,
                       uint64_t offset, const char *message)
{
    char at[40] = "";

    if (x->peer == NULL) {
        return;
    }
    if (offset != BS_PROTO_NO_OFFSET) {
        snprintf(at, sizeof at, " at bit %llu", (unsigned long long) offset);
    }
    if (in_message) {
        bs_log_put(x->log, BS_LOG_OUT, "[%s] %s %s error %s%s", x->peer,
                   op_name(x->op), rule_name(x->rule), bs_proto_code_name(code),
                   at);
    } else {
        bs_log_put(x->log, BS_LOG_OUT, "[%s] error %s%s: %s", x->peer,
                   bs_proto_code_name(code), at,
                   message != NULL ? message : bs_proto_code_text(code));
    }
}

/* --explain: what the rule did to each bit of the message just
 * answered, after its display lines. */
static void show_explain(const struct bs_xchg *x)
{
    if (x->peer != NULL && x->explain != NULL) {
        bs_display_explain_show(x->explain, x->log, x->peer,
                                (enum bs_proto_op) x->op,
                                (enum bs_rule) x->rule);
    }
}

static void explain_add(struct bs_xchg *x, const struct bs_proto_event *ev)
{
    if (x->peer == NULL || x->explain == NULL) {
        return;
    }
    if (x->form == BS_PROTO_TEXT) {
        bs_display_explain_add_text(x->explain, (const char *) ev->data,
                                    ev->nbits);
    } else {
        bs_display_explain_add_packed(x->explain, ev->data, ev->nbits);
    }
}

/* Write a complete error reply and commit it.  Feed's budget keeps
 * BS_XCHG_RESERVE free, so it fits. */
static void put_error(struct bs_outbuf *o, unsigned form, unsigned op,
                      unsigned rule, unsigned code, uint64_t offset,
                      const char *message)
{
    o->tail += bs_proto_put_error(
        o->buf + o->tail, room(o), (enum bs_proto_form) form,
        (enum bs_proto_op) op, (enum bs_rule) rule, code, offset, message);
    o->commit = o->tail;
}

static void chunk_seal(struct bs_xchg *x, struct bs_outbuf *o, unsigned flags,
                       uint64_t bits)
{
    if (!x->sent_first) {
        flags |= BS_PROTO_FLAG_FIRST;
    }
    bs_proto_put_header(o->buf + o->commit, BS_PROTO_HDR_LEN,
                        BS_PROTO_TYPE_REPLY, flags, (enum bs_proto_op) x->op,
                        (enum bs_rule) x->rule, (uint32_t) bits);
    x->sent_first = 1;
    x->sealed_bits += bits;
    x->chunk_open = 0;
    o->commit = o->tail;
}

void bs_xchg_seal(struct bs_xchg *x, struct bs_outbuf *o)
{
    size_t bytes;

    if (!x->chunk_open) {
        return;
    }
    bytes = o->tail - o->commit - BS_PROTO_HDR_LEN;
    if (bytes == 0) {
        o->tail = o->commit; /* nothing in it yet: drop the header */
        x->chunk_open = 0;
        return;
    }
    chunk_seal(x, o, 0, (uint64_t) bytes * 8u);
}

static void chunk_open(struct bs_xchg *x, struct bs_outbuf *o, size_t more)
{
    if (x->chunk_open &&
        o->tail - o->commit - BS_PROTO_HDR_LEN + more > CHUNK_MAX_BYTES)
    {
        bs_xchg_seal(x, o);
    }
    if (!x->chunk_open) {
        o->tail += BS_PROTO_HDR_LEN; /* filled in by chunk_seal */
        x->chunk_open = 1;
    }
}

static void on_begin(struct bs_xchg *x, struct bs_outbuf *o,
                     const struct bs_proto_event *ev)
{
    x->open = 1;
    x->requests++;
    x->failed = 0;
    x->form = (uint8_t) ev->form;
    x->op = (uint8_t) ev->op;
    x->rule = (uint8_t) ev->rule;
    x->chunk_open = 0;
    x->sent_first = 0;
    x->sealed_bits = 0;
    bs_display_reset(&x->din);
    bs_display_reset(&x->dout);
    if (x->explain != NULL) {
        bs_display_explain_reset(x->explain);
    }
    if (bs_stream_init(&x->st, ev->rule, bs_proto_op_dir(ev->op)) != BS_OK) {
        /* The decoder only reports valid rules; stay safe anyway. */
        x->failed = 1;
        x->err_code = BS_PROTO_E_BAD_RULE;
        x->err_offset = BS_PROTO_NO_OFFSET;
    }
    if (x->form == BS_PROTO_TEXT) {
        put(o, "OK ", 3); /* the space is taken back if no bits follow */
    }
}

/* A binary message failed in the stream: answer now, ignore the rest. */
static void fail_binary(struct bs_xchg *x, struct bs_outbuf *o, unsigned code,
                        uint64_t offset)
{
    bs_xchg_seal(x, o);
    put_error(o, BS_PROTO_BINARY, x->op, x->rule, code, offset, NULL);
    show_bits(x, "received", &x->din);
    show_error(x, 1, code, offset, NULL);
    x->failed = 1;
    if (code != BS_PROTO_E_BUSY) {
        show_explain(x); /* a stuffing error: explained at its bit */
    }
}

static void on_data(struct bs_xchg *x, struct bs_outbuf *o,
                    const struct bs_proto_event *ev)
{
    size_t n = 0;
    bs_status st;

    if (x->peer != NULL) {
        if (x->form == BS_PROTO_TEXT) {
            bs_display_add_text(&x->din, (const char *) ev->data, ev->nbits);
        } else {
            bs_display_add_packed(&x->din, ev->data, ev->nbits);
        }
    }
    explain_add(x, ev);
    if (x->failed) {
        return;
    }
    if (x->form == BS_PROTO_TEXT) {
        char *out = (char *) o->buf + o->tail;
        st = bs_stream_update_text(&x->st, (const char *) ev->data, ev->nbits,
                                   out, room(o), &n);
        if (x->peer != NULL) {
            bs_display_add_text(&x->dout, out, n);
        }
        o->tail += n;
        if (st != BS_OK) {
            x->failed = 1;
            x->err_code = st == BS_ERR_NOSPACE ? BS_PROTO_E_BUSY
                                               : bs_proto_code_from_status(st);
            x->err_offset = bs_stream_error_offset(&x->st);
        }
        return;
    }
    chunk_open(x, o, bs_stream_out_max(&x->st, ev->nbits));
    st = bs_stream_update(&x->st, ev->data, ev->nbits, o->buf + o->tail,
                          room(o), &n);
    if (x->peer != NULL) {
        bs_display_add_packed(&x->dout, o->buf + o->tail, n * 8u);
    }
    o->tail += n;
    if (st == BS_ERR_NOSPACE) {
        fail_binary(x, o, BS_PROTO_E_BUSY, BS_PROTO_NO_OFFSET);
    } else if (st != BS_OK) {
        fail_binary(x, o, bs_proto_code_from_status(st),
                    bs_stream_error_offset(&x->st));
    }
}

static void on_end(struct bs_xchg *x, struct bs_outbuf *o)
{
    uint64_t total = 0;
    bs_status st;

    x->open = 0;
    if (x->form == BS_PROTO_TEXT) {
        if (!x->failed) {
            st = bs_stream_finish_text(&x->st, &total);
            if (st != BS_OK) {
                x->failed = 1;
                x->err_code = bs_proto_code_from_status(st);
                x->err_offset = bs_stream_error_offset(&x->st);
            }
        }
        if (x->failed) {
            o->tail = o->commit;
            put_error(o, BS_PROTO_TEXT, x->op, x->rule, x->err_code,
                      x->err_offset, NULL);
            show_bits(x, "received", &x->din);
            show_error(x, 1, x->err_code, x->err_offset, NULL);
            if (x->err_code != BS_PROTO_E_BUSY) {
                show_explain(x);
            }
            return;
        }
        if (total == 0) {
            o->tail--; /* "OK " becomes "OK" */
        }
        put(o, "\n", 1);
        o->commit = o->tail;
    } else {
        uint8_t last = 0;
        size_t n = 0;
        uint64_t before;

        if (x->failed) {
            return; /* answered when it failed */
        }
        st = bs_stream_finish(&x->st, &last, 1, &n, &total);
        if (st != BS_OK) {
            fail_binary(x, o, bs_proto_code_from_status(st),
                        bs_stream_error_offset(&x->st));
            return;
        }
        chunk_open(x, o, n);
        before = x->sealed_bits +
                 (uint64_t) (o->tail - o->commit - BS_PROTO_HDR_LEN) * 8u;
        put(o, &last, n);
        if (x->peer != NULL && total > before) {
            bs_display_add_packed(&x->dout, &last, (size_t) (total - before));
        }
        chunk_seal(x, o, BS_PROTO_FLAG_LAST, total - x->sealed_bits);
    }
    show_bits(x, "received", &x->din);
    show_bits(x, "sent", &x->dout);
    show_explain(x);
}

/* The codec names a broken limit in the protocol's terms; the server
 * says which of its options sets it. */
static const char *server_message(const struct bs_proto_event *ev)
{
    switch (ev->code) {
    case BS_PROTO_E_LINE_TOO_LONG:
        return "the line is longer than the server's --max-line limit; send "
               "long messages as binary frames";
    case BS_PROTO_E_TOO_LONG:
        return "the message is longer than the server's --max-message-bits "
               "limit";
    default:
        return ev->message;
    }
}

static void on_error(struct bs_xchg *x, struct bs_outbuf *o,
                     const struct bs_proto_event *ev)
{
    const char *message = server_message(ev);

    if (x->open) {
        x->open = 0;
        if (x->form == BS_PROTO_BINARY) {
            if (x->failed) {
                return; /* this message was answered when it failed */
            }
            bs_xchg_seal(x, o);
        } else {
            o->tail = o->commit; /* the held "OK ..." never goes out */
        }
        put_error(o, x->form, x->op, x->rule, ev->code, ev->offset, message);
        show_bits(x, "received", &x->din);
        show_error(x, 1, ev->code, ev->offset, message);
        return;
    }
    put_error(o, ev->form, ev->op, ev->rule, ev->code, ev->offset, message);
    show_error(x, 0, ev->code, ev->offset, message);
}

static void on_fatal(struct bs_xchg *x, struct bs_outbuf *o,
                     const struct bs_proto_event *ev)
{
    if (x->open && x->form == BS_PROTO_TEXT) {
        o->tail = o->commit;
    }
    bs_xchg_seal(x, o);
    x->open = 0;
    x->fatal = 1;
    put_error(o, ev->form, ev->op, ev->rule, ev->code, ev->offset, ev->message);
    show_error(x, 0, ev->code, ev->offset, ev->message);
}

size_t bs_xchg_feed(struct bs_xchg *x, struct bs_outbuf *o, const uint8_t *in,
                    size_t len)
{
    size_t done = 0;

    /* Decode until the decoder wants more input: an event may consume no
     * bytes (the END after a last chunk), so "all bytes consumed" is not
     * the same as "all events seen". */
    x->stalled = 0;
    while (!x->fatal) {
        struct bs_proto_event ev;
        size_t n;

        if (room(o) < BS_XCHG_RESERVE + 8u) {
            compact(o);
        }
        if (room(o) < BS_XCHG_RESERVE + 8u) {
            x->stalled = 1;
            break;
        }
        /* Take only input whose worst-case reply fits: its stuffing under
         * any rule, plus a header or an error reply, which the reserve
         * covers. */
        n = bs_max_input_any(room(o) - BS_XCHG_RESERVE);
        if (n > len - done) {
            n = len - done;
        }
        if (n > BS_XCHG_FEED_MAX) {
            n = BS_XCHG_FEED_MAX;
        }
        done += bs_proto_decode(&x->dec, in + done, n, &ev);
        switch (ev.type) {
        case BS_PROTO_EV_NONE:
            if (done == len) {
                return done;
            }
            break;
        case BS_PROTO_EV_BEGIN:
            on_begin(x, o, &ev);
            break;
        case BS_PROTO_EV_DATA:
            on_data(x, o, &ev);
            break;
        case BS_PROTO_EV_END:
            on_end(x, o);
            break;
        case BS_PROTO_EV_ERROR:
            on_error(x, o, &ev);
            break;
        case BS_PROTO_EV_FATAL:
            on_fatal(x, o, &ev);
            break;
        }
    }
    return done;
}

int bs_xchg_stalled(const struct bs_xchg *x)
{
    return x->stalled;
}

int bs_xchg_end(struct bs_xchg *x, struct bs_outbuf *o, unsigned code)
{
    if (!x->open) {
        return 0;
    }
    if (code == 0) {
        if (x->form == BS_PROTO_TEXT) {
            o->tail = o->commit;
        } else {
            bs_xchg_seal(x, o);
        }
        x->open = 0;
        return 0;
    }
    if (x->form == BS_PROTO_TEXT) {
        o->tail = o->commit;
    }
    if (room(o) < BS_PROTO_ERROR_MAX + BS_PROTO_HDR_LEN) {
        compact(o);
    }
    if (room(o) < BS_PROTO_ERROR_MAX + BS_PROTO_HDR_LEN) {
        return -1;
    }
    x->open = 0;
    if (x->form == BS_PROTO_BINARY) {
        if (x->failed) {
            return 0;
        }
        bs_xchg_seal(x, o);
    }
    put_error(o, x->form, x->op, x->rule, code, BS_PROTO_NO_OFFSET, NULL);
    show_bits(x, "received", &x->din);
    show_error(x, 1, code, BS_PROTO_NO_OFFSET, NULL);
    return 0;
}
