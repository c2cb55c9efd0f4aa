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

#define BS_PROTO_ALPN           "bitstuff/1"
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

/* Largest encoded error reply, text or binary. */
#define BS_PROTO_ERROR_MAX (BS_PROTO_HDR_LEN + 12u + BS_PROTO_MAX_ERR_MSG)

enum bs_proto_op {
    BS_PROTO_STUFF = 0,
    BS_PROTO_UNSTUFF = 1,
};

enum bs_proto_form {
    BS_PROTO_TEXT = 0,
    BS_PROTO_BINARY = 1,
};

/* Stable error codes on the wire (3-7 are the bs_status values). */
enum bs_proto_code {
    BS_PROTO_E_CHAR = 3,
    BS_PROTO_E_FLAG = 4,
    BS_PROTO_E_ABORT = 5,
    BS_PROTO_E_STUFF_BIT = 6,
    BS_PROTO_E_TRUNCATED = 7,
    BS_PROTO_E_BAD_COMMAND = 20,
    BS_PROTO_E_BAD_RULE = 21,
    BS_PROTO_E_LINE_TOO_LONG = 22,
    BS_PROTO_E_TOO_LONG = 23,
    BS_PROTO_E_BAD_PADDING = 24,
    BS_PROTO_E_SEQUENCE = 25,
    BS_PROTO_E_BAD_FRAME = 26,
    BS_PROTO_E_BUSY = 27,
};

/* "flag", "line-too-long", ...; "unknown" for other values. */
const char *bs_proto_code_name(unsigned code);
/* A default sentence for the code, for replies and logs. */
const char *bs_proto_code_text(unsigned code);
/* The wire code for a stuffing error (BS_ERR_CHAR .. BS_ERR_TRUNCATED). */
unsigned bs_proto_code_from_status(bs_status st);

enum bs_proto_role {
    BS_PROTO_ROLE_SERVER = 0, /* decodes requests */
    BS_PROTO_ROLE_CLIENT = 1, /* decodes replies ('R' and 'E' frames) */
};

enum bs_proto_ev {
    /* Everything given was consumed; feed more. */
    BS_PROTO_EV_NONE = 0,
    /* A message begins: form, op, rule are set. */
    BS_PROTO_EV_BEGIN,
    /* Payload of the open message: data/nbits.  Binary: packed bits from
     * the most significant bit of data[0]; every DATA event but the last
     * of a chunk holds whole bytes.  Text: nbits characters, each '0' or
     * '1' (already checked).  data points into the caller's input and is
     * valid until the caller reuses that buffer. */
    BS_PROTO_EV_DATA,
    /* The open message ended normally. */
    BS_PROTO_EV_END,
    /* A bad request (server) or an 'E' frame (client): code, offset and
     * message are set.  It ends the open message if there is one; if none
     * was open it stands alone and still needs exactly one reply.  The
     * decoder has already arranged to skip the rest of the bad request. */
    BS_PROTO_EV_ERROR,
    /* Unrecoverable framing error: code/offset/message set.  The server
     * replies and closes; every later call returns FATAL again. */
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
                            valid until the next call */
};

struct bs_proto_limits {
    size_t max_line;           /* bytes in a text line, LF included */
    uint64_t max_message_bits; /* bits in one request message */
};

/*
 * Decoder state.  Caller-allocated; fields are private.  Small (a few
 * hundred bytes) so that an idle connection costs little.
 */
struct bs_proto_decoder {
    struct bs_proto_limits lim;
    uint8_t role;
    uint8_t state;
    uint8_t hdr_len; /* bytes of a frame header gathered */
    uint8_t hdr[BS_PROTO_HDR_LEN];
    uint8_t word_len; /* bytes of a text word gathered */
    char word[16];    /* text op/rule word being gathered */
    uint8_t msg_open; /* a message has begun and not ended */
    uint8_t msg_op, msg_rule, msg_form;
    uint8_t chunk_flags;
    uint32_t chunk_bits_left; /* payload bits of the current chunk left */
    uint64_t msg_bits;        /* bits of the open message so far */
    size_t line_len;          /* bytes of the current text line so far */
    unsigned pending_code;    /* text: error to report at the LF */
    uint64_t pending_offset;
    char errmsg[BS_PROTO_MAX_ERR_MSG + 1]; /* client role: 'E' text */
    size_t errmsg_len;
};

/* Prepare a decoder.  lim may be NULL for the defaults. */
void bs_proto_decoder_init(struct bs_proto_decoder *d, enum bs_proto_role role,
                           const struct bs_proto_limits *lim);

/*
 * Decode from in[0..len).  Returns the number of bytes consumed (0..len)
 * and fills *ev with one event; EV_NONE means all len bytes were consumed
 * and more input is needed.  Call again with the unconsumed rest to get
 * the next event.  Never reads past len, never fails on any input.
 */
size_t bs_proto_decode(struct bs_proto_decoder *d, const uint8_t *in,
                       size_t len, struct bs_proto_event *ev);

/* True if the decoder is between requests (no message or line open). */
int bs_proto_decoder_idle(const struct bs_proto_decoder *d);

/* Encoders.  Each returns bytes written, or 0 if cap is too small. */

/* A frame header (type 'M', 'R' or 'E'). */
size_t bs_proto_put_header(uint8_t *out, size_t cap, unsigned type,
                           unsigned flags, enum bs_proto_op op,
                           enum bs_rule rule, uint32_t length);

/* A complete error reply in the given form: an "ERR ..." line or an 'E'
 * frame (flags LAST).  message may be NULL for the code's default text;
 * it is cut to BS_PROTO_MAX_ERR_MSG bytes.  At most BS_PROTO_ERROR_MAX. */
size_t bs_proto_put_error(uint8_t *out, size_t cap, enum bs_proto_form form,
                          enum bs_proto_op op, enum bs_rule rule, unsigned code,
                          uint64_t offset, const char *message);

#endif /* BS_PROTO_H */
