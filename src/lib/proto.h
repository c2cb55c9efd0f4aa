/*
 * proto.h - the bitstuff/1 request/response protocol (docs/PROTOCOL.md).
 *
 * Pure code: no I/O, no allocation, no OpenSSL.  The decoder is fed bytes
 * as they arrive and returns one event at a time; message payload is never
 * copied: a DATA event points into the caller's input buffer.  The
 * encoders write into caller buffers whose size they bound with macros.
 *
 * Server side: decodes requests (text lines and 'M' frames) and encodes
 * replies ("OK"/"ERR" lines, 'R' and 'E' frames).
 * Client side: encodes 'M' frames and decodes 'R'/'E' replies.
 */
#ifndef BS_PROTO_H
#define BS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "stuff.h"

/* Every value below is on the wire: proto.c pins each one to its number
 * in docs/PROTOCOL.md with a _Static_assert, and test_proto checks them
 * again through the encoders. */
#define BS_PROTO_ALPN           "bitstuff/1"
#define BS_PROTO_ALPN_LEN       (sizeof(BS_PROTO_ALPN) - 1u) /* 10 */
#define BS_PROTO_MAGIC          0xB5u
#define BS_PROTO_HDR_LEN        8u
#define BS_PROTO_TYPE_MSG       0x4Du /* 'M' */
#define BS_PROTO_TYPE_REPLY     0x52u /* 'R' */
#define BS_PROTO_TYPE_ERROR     0x45u /* 'E' */
#define BS_PROTO_FLAG_FIRST     0x01u
#define BS_PROTO_FLAG_LAST      0x02u
#define BS_PROTO_MAX_CHUNK_BITS 524288u /* 64 KiB of payload */
#define BS_PROTO_MAX_ERR_MSG    1024u   /* bytes of message in an 'E' frame */
#define BS_PROTO_NO_OFFSET      UINT64_MAX

#define BS_PROTO_DEFAULT_MAX_LINE         65536u
#define BS_PROTO_DEFAULT_MAX_MESSAGE_BITS 8589934592ull

/* Largest encoded error reply, text or binary: the text form is the longer,
 * "ERR 65535 line-too-long 18446744073709551615 " + message + LF. */
#define BS_PROTO_ERROR_MAX (BS_PROTO_MAX_ERR_MSG + 46u)

/* Largest 'M' or 'R' frame: a header and a full chunk. */
#define BS_PROTO_FRAME_MAX (BS_PROTO_HDR_LEN + BS_PROTO_MAX_CHUNK_BITS / 8u)

enum bs_proto_op {
    BS_PROTO_STUFF = 0,
    BS_PROTO_UNSTUFF = 1,
    BS_PROTO_OP_COUNT /* not an op: the number of ops */
};

/* The stuffing direction an op asks for, and the op of a direction; an
 * explicit map, so the order of neither enum is part of the protocol. */
enum bs_dir bs_proto_op_dir(enum bs_proto_op op);
enum bs_proto_op bs_proto_dir_op(enum bs_dir dir);

enum bs_proto_form {
    BS_PROTO_TEXT = 0,
    BS_PROTO_BINARY = 1,
};

/*
 * Stable error codes on the wire (docs/PROTOCOL.md section 5), one row
 * each: X(id, number, status, name, text) gives BS_PROTO_E_<id> = number.
 * 3-7 are the stuffing errors: status is the bs_status each stands for,
 * whose name and sentence are the library's (bs_status_name,
 * bs_strerror), so name and text are NULL.  The rest are the protocol's
 * own, with status BS_OK, a name and a default sentence.  This list makes
 * the enum below and proto.c's table of codes; codes map to and from
 * bs_status by it, never by value.
 */
#define BS_PROTO_CODES(X)                                                      \
    X(CHAR, 3, BS_ERR_CHAR, NULL, NULL)                                        \
    X(FLAG, 4, BS_ERR_FLAG, NULL, NULL)                                        \
    X(ABORT, 5, BS_ERR_ABORT, NULL, NULL)                                      \
    X(STUFF_BIT, 6, BS_ERR_STUFF_BIT, NULL, NULL)                              \
    X(TRUNCATED, 7, BS_ERR_TRUNCATED, NULL, NULL)                              \
    X(BAD_COMMAND, 20, BS_OK, "bad-command",                                   \
      "a line is [stuff|unstuff [hdlc|usb|can]] followed by bits (0 and 1)")   \
    X(BAD_RULE, 21, BS_OK, "bad-rule", "unknown rule: use hdlc, usb or can")   \
    X(LINE_TOO_LONG, 22, BS_OK, "line-too-long",                               \
      "the line is longer than the server's limit; send long messages as "     \
      "binary frames")                                                         \
    X(TOO_LONG, 23, BS_OK, "too-long",                                         \
      "the message is longer than the server's limit")                         \
    X(BAD_PADDING, 24, BS_OK, "bad-padding",                                   \
      "the unused bits after the last bit of a chunk must be 0")               \
    X(SEQUENCE, 25, BS_OK, "sequence",                                         \
      "chunks out of order: a message is FIRST ... LAST with one op and rule") \
    X(BAD_FRAME, 26, BS_OK, "bad-frame",                                       \
      "broken framing; the connection is closed")                              \
    X(BUSY, 27, BS_OK, "busy",                                                 \
      "the server cannot take this request now; retry later")

enum bs_proto_code {
#define BS_PROTO_CODE_ENUM(id, number, status, name, text)                     \
    BS_PROTO_E_##id = number,
    BS_PROTO_CODES(BS_PROTO_CODE_ENUM)
#undef BS_PROTO_CODE_ENUM
};

/* "flag", "line-too-long", ...; "unknown" for other values. */
const char *bs_proto_code_name(unsigned code);
/* A default sentence for the code, for replies and logs. */
const char *bs_proto_code_text(unsigned code);
/* The wire code for a stuffing error (BS_ERR_CHAR .. BS_ERR_TRUNCATED);
 * BS_PROTO_E_BUSY for any other status (a server bug, still answered). */
unsigned bs_proto_code_from_status(bs_status st);

enum bs_proto_role {
    BS_PROTO_ROLE_SERVER = 0, /* decodes requests */
    BS_PROTO_ROLE_CLIENT = 1, /* decodes replies ('R' and 'E' frames) */
};

enum bs_proto_ev {
    /* Everything given was consumed; feed more. */
    BS_PROTO_EV_NONE = 0,
    /* A message begins: form, op, rule are set.  Text: once the op and
     * rule words (or their defaults) are known, before any bit. */
    BS_PROTO_EV_BEGIN,
    /* Payload of the open message: data/nbits.  Binary: packed bits from
     * the most significant bit of data[0]; every DATA event but the last
     * of a chunk holds whole bytes, and the unused low bits of a last
     * partial byte are 0 (checked).  Text: nbits characters, each '0' or
     * '1' (already checked).  nbits >= 1.  data points into the caller's
     * input and is valid until the caller reuses that buffer. */
    BS_PROTO_EV_DATA,
    /* The open message ended normally. */
    BS_PROTO_EV_END,
    /* A bad request (server) or an 'E' frame (client): code, offset and
     * message are set.  It ends the open message if there is one; if none
     * was open it stands alone and still needs exactly one reply.  The
     * decoder has already arranged to skip the rest of the bad request.
     * form says how to reply; op and rule are the request's (0 when its
     * header named an unknown one).  A server that fails a message itself
     * (an unstuff error in its DATA) still gets that message's END or
     * ERROR later and must not reply twice. */
    BS_PROTO_EV_ERROR,
    /* Unrecoverable framing error: code/offset/message set.  The server
     * replies with an 'E' frame and closes.  Client role: any protocol
     * violation by the server is FATAL, with the code that names it (21,
     * 23, 24, 25 or 26).  Every later call returns FATAL again and
     * consumes all it is given. */
    BS_PROTO_EV_FATAL,
};

struct bs_proto_event {
    enum bs_proto_ev type;
    enum bs_proto_form form;
    enum bs_proto_op op;
    enum bs_rule rule;
    const uint8_t *data;
    size_t nbits;
    unsigned code;
    uint64_t offset;     /* bit offset in the message, or BS_PROTO_NO_OFFSET */
    const char *message; /* NUL-terminated; static or inside the decoder;
                            valid until the next call; NULL unless ERROR or
                            FATAL.  From an 'E' frame: control characters
                            are replaced by '?', so it is safe to print. */
};

struct bs_proto_limits {
    size_t max_line;           /* bytes in a text line, LF included */
    uint64_t max_message_bits; /* bits in one request message */
};

/*
 * Decoder state.  Caller-allocated; fields are private.  About a hundred
 * bytes, so a server holding 10,000 connections pays little for it.  The
 * client role keeps the text of an 'E' frame (which may arrive split
 * across reads) in a buffer the caller lends with
 * bs_proto_decoder_set_errbuf.
 */
struct bs_proto_decoder {
    struct bs_proto_limits lim;
    uint64_t msg_bits;        /* bits of the open message so far */
    size_t line_len;          /* text: bytes of the current line so far */
    size_t trail;             /* text: bytes after the last bit */
    const char *fatal_msg;    /* why the decoder stopped */
    uint32_t chunk_bits_left; /* payload bits of the current chunk left */
    uint16_t e_len;           /* 'E' payload bytes gathered */
    uint16_t e_total;         /* 'E' payload bytes in all */
    uint8_t role;
    uint8_t state;
    uint8_t sub;      /* text: before, inside or after the bits token */
    uint8_t cr;       /* text: the last byte was a CR */
    uint8_t msg_open; /* a message has begun and not ended */
    uint8_t skip;     /* binary: discarding the rest of a failed message */
    uint8_t msg_op, msg_rule;
    uint8_t chunk_flags;
    uint8_t fatal_code;
    uint8_t hdr_len; /* bytes of a frame header gathered */
    uint8_t hdr[BS_PROTO_HDR_LEN];
    uint8_t word_len; /* bytes of a text word gathered */
    uint8_t buf[12];  /* server: text op/rule word; client: 'E' head */
    char *errmsg;     /* client role: 'E' text (set_errbuf), or NULL */
};

/* Bytes of the buffer bs_proto_decoder_set_errbuf needs. */
#define BS_PROTO_ERRBUF_SIZE (BS_PROTO_MAX_ERR_MSG + 1u)

/* Prepare a decoder.  lim may be NULL for the defaults. */
void bs_proto_decoder_init(struct bs_proto_decoder *d, enum bs_proto_role role,
                           const struct bs_proto_limits *lim);

/* Client role: lend buf (BS_PROTO_ERRBUF_SIZE bytes, borrowed until the
 * decoder is no longer used) for the text of 'E' frames; call after
 * bs_proto_decoder_init.  Without it an ERROR event's message is the
 * code's default text (bs_proto_code_text); code and offset are exact. */
void bs_proto_decoder_set_errbuf(struct bs_proto_decoder *d, char *buf);

/*
 * Decode from in[0..len).  Returns the number of bytes consumed (0..len)
 * and fills *ev with one event; EV_NONE means all len bytes were consumed
 * and more input is needed.  Call again with the unconsumed rest to get
 * the next event.  Never reads past len, never fails on any input.
 * An event may consume no bytes (a BEGIN before the first bit, an END
 * after the last chunk's DATA), but never more than three in a row, so
 * the loop
 *
 *     while ((n = bs_proto_decode(d, p, left, &ev)), ev.type != NONE) {
 *         p += n; left -= n; handle(&ev);  (stop on FATAL)
 *     }
 *
 * always ends.  in may be NULL when len is 0.
 */
size_t bs_proto_decode(struct bs_proto_decoder *d, const uint8_t *in,
                       size_t len, struct bs_proto_event *ev);

/* True if the decoder is between requests (no message or line open,
 * no frame partly read).  False after FATAL. */
int bs_proto_decoder_idle(const struct bs_proto_decoder *d);

/* Encoders.  Each returns bytes written, or 0 if cap is too small or an
 * argument is out of range (so they never write an invalid frame).  out
 * is borrowed and must not overlap the input. */

/* A frame header (type 'M', 'R' or 'E').  flags only FIRST and LAST; op
 * and rule valid; length at most BS_PROTO_MAX_CHUNK_BITS ('M', 'R') or
 * 12 .. 12 + BS_PROTO_MAX_ERR_MSG ('E'). */
size_t bs_proto_put_header(uint8_t *out, size_t cap, unsigned type,
                           unsigned flags, enum bs_proto_op op,
                           enum bs_rule rule, uint32_t length);

/* A whole 'M' or 'R' frame: the header and ceil(nbits / 8) bytes copied
 * from bits (packed, most significant bit first), with the unused low
 * bits of the last byte cleared.  nbits at most BS_PROTO_MAX_CHUNK_BITS;
 * bits may be NULL when nbits is 0.  At most BS_PROTO_FRAME_MAX. */
size_t bs_proto_put_frame(uint8_t *out, size_t cap, unsigned type,
                          unsigned flags, enum bs_proto_op op,
                          enum bs_rule rule, const uint8_t *bits,
                          uint32_t nbits);

/* A text success reply: "OK\n" when n is 0, else "OK " bits "\n".  bits
 * holds n characters, each '0' or '1' (else 0 is returned).  Needs
 * n + 4 bytes. */
size_t bs_proto_put_ok_line(uint8_t *out, size_t cap, const char *bits,
                            size_t n);

/* A complete error reply in the given form: an "ERR ..." line or an 'E'
 * frame (flags LAST).  code below 65536.  message may be NULL or "" for
 * the code's default text; CR and LF are removed from it and it is cut to
 * BS_PROTO_MAX_ERR_MSG bytes (at a UTF-8 character boundary).  op and
 * rule are written in the 'E' header (text: ignored).  At most
 * BS_PROTO_ERROR_MAX. */
size_t bs_proto_put_error(uint8_t *out, size_t cap, enum bs_proto_form form,
                          enum bs_proto_op op, enum bs_rule rule, unsigned code,
                          uint64_t offset, const char *message);

#endif /* BS_PROTO_H */
