/*
 * xchg.h - one connection's exchange: request bytes in, reply bytes out.
 *
 * Pure code between the TLS layer and the codec: it runs the protocol
 * decoder over decrypted input, stuffs or unstuffs each message with a
 * bs_stream, and writes the replies into the connection's output buffer.
 * No I/O and no allocation, so it can be fed bytes in tests and fuzzers.
 *
 * Output buffer (struct bs_outbuf), owned by the caller:
 *
 *     0 ....... head ....... commit ....... tail ....... cap
 *       sent      complete replies   reply in     free
 *                 not yet sent       progress
 *
 * The caller sends [head, commit).  [commit, tail) is held back: a text
 * reply until its LF ("OK ..." is replaced by an ERR line if the message
 * fails), or the 'R' chunk being filled (bs_xchg_seal closes it so it
 * can be sent).  Memory is bounded: bs_xchg_feed consumes input only
 * while the worst-case reply to it fits, so a client that does not read
 * makes feed stop early instead of making the buffer grow.
 */
#ifndef BS_XCHG_H
#define BS_XCHG_H

#include <stddef.h>
#include <stdint.h>

#include "display.h"
#include "log.h"
#include "proto.h"
#include "stuff.h"

struct bs_outbuf {
    uint8_t *buf; /* cap bytes, or NULL while the connection is idle */
    size_t cap;
    size_t head, commit, tail; /* head <= commit <= tail <= cap */
};

struct bs_xchg {
    struct bs_proto_decoder dec;
    struct bs_stream st;
    const char *peer;   /* display prefix; NULL: display nothing */
    struct bs_log *log; /* display lines go there; NULL: written at once */
    uint8_t open;       /* a message has begun and is not yet answered */
    uint8_t failed;     /* the stream failed (binary: already answered) */
    uint8_t fatal;      /* a fatal framing error was answered */
    uint8_t stalled;    /* feed stopped for lack of room */
    uint8_t form, op, rule;
    uint8_t chunk_open;   /* binary: an 'R' chunk is being filled at commit */
    uint8_t sent_first;   /* binary: an 'R' chunk with FIRST was sealed */
    uint64_t sealed_bits; /* bits in this message's sealed 'R' chunks */
    unsigned err_code;    /* text: a stream error kept until the LF */
    uint64_t err_offset;
    struct bs_display_bits din, dout;
    uint64_t requests; /* messages begun: the connection's close line */
    /* --explain: the caller's buffer for the whole message (display.h),
     * or NULL; explaining a message allocates while it is shown */
    struct bs_display_explain *explain;
};

/* Prepare x.  lim may be NULL for the defaults; peer (borrowed, must
 * outlive x) names the peer in display lines, NULL for no display. */
void bs_xchg_init(struct bs_xchg *x, const struct bs_proto_limits *lim,
                  const char *peer);

/* The output buffer size bs_xchg_feed needs under lim (NULL: defaults):
 * room for the longest text reply plus an error reply, and at least
 * BS_XCHG_MIN_OUTBUF. */
#define BS_XCHG_MIN_OUTBUF (64u * 1024u)
size_t bs_xchg_outbuf_size(const struct bs_proto_limits *lim);

/* Room feed keeps free beyond a reply's data: one error reply and a few
 * frame headers. */
#define BS_XCHG_RESERVE (BS_PROTO_ERROR_MAX + 4u * BS_PROTO_HDR_LEN + 16u)

/* Most input bytes feed takes in one step. */
#define BS_XCHG_FEED_MAX 16384u

/*
 * Decode in[0..len) and write the replies into o (o->buf must be set,
 * o->cap >= bs_xchg_outbuf_size).  Returns the bytes consumed.  When o is
 * too full, feed stops early and bs_xchg_stalled() is true: send
 * [head, commit) and call again with the rest, even if that is 0 bytes
 * (the decoder may still hold an event, such as a message's end).  After
 * a fatal error (bs_xchg_fatal) the rest is to be dropped.  Moves
 * [head, tail) to the start of the buffer when that makes room (the
 * bytes keep their order).  Writes display lines to stdout (queued on
 * x->log, or at once when it is NULL) unless peer is NULL.  in may be
 * NULL when len is 0.
 */
size_t bs_xchg_feed(struct bs_xchg *x, struct bs_outbuf *o, const uint8_t *in,
                    size_t len);

/* Nonzero when the last feed stopped for lack of room in o. */
int bs_xchg_stalled(const struct bs_xchg *x);

/* Close the 'R' chunk being filled, if any, so every byte written for a
 * binary message is in [head, commit).  A pending text reply stays. */
void bs_xchg_seal(struct bs_xchg *x, struct bs_outbuf *o);

/* Nonzero once a fatal framing error has been answered: send what is
 * committed, then close. */
int bs_xchg_fatal(const struct bs_xchg *x);

/* Nonzero while a message is open (begun, not answered in full). */
int bs_xchg_open(const struct bs_xchg *x);

/*
 * End the open message, if any, because no more input will come: with
 * code 0 its partial reply is dropped (a request cut short by the peer);
 * otherwise it is answered with that error code (BS_PROTO_E_BUSY when the
 * server shuts down).  Returns 0, or -1 if o (which must have a buffer
 * when a message is open) lacks room for the reply: send what is
 * committed and call again.
 */
int bs_xchg_end(struct bs_xchg *x, struct bs_outbuf *o, unsigned code);

#endif /* BS_XCHG_H */
