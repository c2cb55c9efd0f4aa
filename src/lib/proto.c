/*
 * proto.c - the bitstuff/1 codec (docs/PROTOCOL.md).
 *
 * The decoder is one state machine over bytes.  Each call walks forward
 * from in[0] until it has one event to report or has used all its input,
 * so the cost of a call is linear in what it consumes.
 */
#include "proto.h"

#include <string.h>

enum {
    S_IDLE = 0,  /* between requests, or between chunks of a message */
    S_HDR,       /* gathering a frame header */
    S_HDR_READY, /* a whole header, not yet acted on */
    S_PAYLOAD,   /* 'M' or 'R' payload */
    S_EFRAME,    /* client: 'E' payload */
    S_FATAL,
    T_START,    /* text: leading whitespace */
    T_WORD1,    /* text: the op word */
    T_AFTER_OP, /* text: whitespace after the op */
    T_WORD2,    /* text: the rule word */
    T_BITS,     /* text: a message is open; bits and trailing space */
    T_SKIP,     /* text: discarding to LF after an error */
};

/* T_BITS sub-states */
enum { BEFORE_BITS = 0, IN_BITS, AFTER_BITS };

#define MAX_OP_WORD   7u /* "unstuff" */
#define MAX_RULE_WORD BS_RULE_NAME_MAX
#define E_HEAD        12u

/* The wire, pinned to docs/PROTOCOL.md: reordering or renumbering an
 * enum must not change the protocol, so every value is checked here. */
_Static_assert(BS_PROTO_ALPN_LEN == 10 && sizeof(BS_PROTO_ALPN) == 11,
               "ALPN id is \"bitstuff/1\" (section 1)");
_Static_assert(BS_PROTO_MAGIC == 0xB5 && BS_PROTO_HDR_LEN == 8,
               "frame magic and header length (section 4.1)");
_Static_assert(BS_PROTO_TYPE_MSG == 0x4D && BS_PROTO_TYPE_REPLY == 0x52 &&
                   BS_PROTO_TYPE_ERROR == 0x45,
               "frame types 'M', 'R', 'E' (section 4.1)");
_Static_assert(BS_PROTO_FLAG_FIRST == 0x01 && BS_PROTO_FLAG_LAST == 0x02,
               "frame flags (section 4.1)");
_Static_assert(BS_PROTO_STUFF == 0 && BS_PROTO_UNSTUFF == 1 &&
                   BS_PROTO_OP_COUNT == 2,
               "op nibble: 0 stuff, 1 unstuff (section 4.1)");
_Static_assert(BS_RULE_HDLC == 0 && BS_RULE_USB == 1 && BS_RULE_CAN == 2,
               "rule nibble: 0 hdlc, 1 usb, 2 can (section 4.1)");
_Static_assert(BS_RULE_COUNT <= 16 && BS_PROTO_OP_COUNT <= 16,
               "an op and a rule code fit their nibbles");
_Static_assert(BS_PROTO_MAX_CHUNK_BITS == 524288 &&
                   BS_PROTO_MAX_ERR_MSG == 1024 && E_HEAD == 12,
               "chunk and error-message limits (section 6)");
_Static_assert(BS_PROTO_E_CHAR == 3 && BS_PROTO_E_FLAG == 4 &&
                   BS_PROTO_E_ABORT == 5 && BS_PROTO_E_STUFF_BIT == 6 &&
                   BS_PROTO_E_TRUNCATED == 7,
               "stuffing error codes (section 5)");
_Static_assert(BS_PROTO_E_BAD_COMMAND == 20 && BS_PROTO_E_BAD_RULE == 21 &&
                   BS_PROTO_E_LINE_TOO_LONG == 22 &&
                   BS_PROTO_E_TOO_LONG == 23 && BS_PROTO_E_BAD_PADDING == 24 &&
                   BS_PROTO_E_SEQUENCE == 25 && BS_PROTO_E_BAD_FRAME == 26 &&
                   BS_PROTO_E_BUSY == 27,
               "protocol error codes (section 5)");
_Static_assert(BS_PROTO_DEFAULT_MAX_LINE == 65536 &&
                   BS_PROTO_DEFAULT_MAX_MESSAGE_BITS == 8589934592ull,
               "default limits (section 6)");
_Static_assert(MAX_OP_WORD <= sizeof(((struct bs_proto_decoder *) 0)->buf) &&
                   MAX_RULE_WORD <=
                       sizeof(((struct bs_proto_decoder *) 0)->buf),
               "a text op or rule word fits the decoder's buffer");

/* What a step of the decoder did: moved on (call the next state), needs
 * more input, or has an event.  STEP_GO_ON only passes between on_header
 * and its helpers: nothing decided yet. */
enum step { STEP_NEXT, STEP_MORE, STEP_EVENT, STEP_GO_ON };

/* What broke a limit, in the protocol's terms (docs/PROTOCOL.md section
 * 6); the too-long event's offset is the limit.  Which option sets the
 * limit is the program's business: bitstuffd adds it (xchg.c). */
#define MSG_LINE_TOO_LONG                                                      \
    "the line is longer than the server's max_line limit; send long "          \
    "messages as binary frames"
#define MSG_TOO_LONG                                                           \
    "the message is longer than the server's max_message_bits limit"

/* Every code by its wire number, from BS_PROTO_CODES; the numbers
 * between codes are zero rows (status BS_OK, no name). */
static const struct {
    bs_status status; /* a stuffing error's, else BS_OK */
    const char *name, *text;
} codes[] = {
#define CODE_ROW(id, number, status, name, text)                               \
    [number] = {status, name, text},
    BS_PROTO_CODES(CODE_ROW)
#undef CODE_ROW
};

#define N_CODES (sizeof(codes) / sizeof(codes[0]))

/* The status a stuffing-error code stands for, or BS_OK for other codes. */
static bs_status code_status(unsigned code)
{
    return code < N_CODES ? codes[code].status : BS_OK;
}

/* A code's name, or with text its sentence: the library's for a stuffing
 * error, the table's for the protocol's own codes, else unknown. */
static const char *code_string(unsigned code, int text)
{
    bs_status st = code_status(code);

    if (st != BS_OK) {
        return text ? bs_strerror(st) : bs_status_name(st);
    }
    if (code < N_CODES && codes[code].name != NULL) {
        return text ? codes[code].text : codes[code].name;
    }
    return text ? "unknown error" : "unknown";
}

const char *bs_proto_code_name(unsigned code)
{
    return code_string(code, 0);
}

const char *bs_proto_code_text(unsigned code)
{
    return code_string(code, 1);
}

unsigned bs_proto_code_from_status(bs_status st)
{
    for (unsigned code = 0; st != BS_OK && code < N_CODES; code++) {
        if (codes[code].status == st) {
            return code;
        }
    }
    /* Not a data error but a server bug: the client still gets a reply. */
    return BS_PROTO_E_BUSY;
}

enum bs_dir bs_proto_op_dir(enum bs_proto_op op)
{
    return op == BS_PROTO_UNSTUFF ? BS_DIR_UNSTUFF : BS_DIR_STUFF;
}

enum bs_proto_op bs_proto_dir_op(enum bs_dir dir)
{
    return dir == BS_DIR_UNSTUFF ? BS_PROTO_UNSTUFF : BS_PROTO_STUFF;
}

void bs_proto_decoder_init(struct bs_proto_decoder *d, enum bs_proto_role role,
                           const struct bs_proto_limits *lim)
{
    memset(d, 0, sizeof(*d));
    d->role = (uint8_t) role;
    d->state = S_IDLE;
    if (lim != NULL) {
        d->lim = *lim;
    } else {
        d->lim.max_line = BS_PROTO_DEFAULT_MAX_LINE;
        d->lim.max_message_bits = BS_PROTO_DEFAULT_MAX_MESSAGE_BITS;
    }
}

void bs_proto_decoder_set_errbuf(struct bs_proto_decoder *d, char *buf)
{
    d->errmsg = buf;
}

int bs_proto_decoder_idle(const struct bs_proto_decoder *d)
{
    return d->state == S_IDLE && !d->msg_open && !d->skip;
}

static int is_wsp(uint8_t b)
{
    return b == ' ' || b == '\t';
}

static int is_bit(uint8_t b)
{
    return b == '0' || b == '1';
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
           (uint32_t) p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

static void set_event(const struct bs_proto_decoder *d,
                      struct bs_proto_event *ev, enum bs_proto_ev type,
                      enum bs_proto_form form)
{
    ev->type = type;
    ev->form = form;
    ev->op = (enum bs_proto_op) d->msg_op;
    ev->rule = (enum bs_rule) d->msg_rule;
}

static enum step error_event(struct bs_proto_decoder *d,
                             struct bs_proto_event *ev, enum bs_proto_form form,
                             unsigned code, uint64_t offset, const char *msg)
{
    set_event(d, ev, BS_PROTO_EV_ERROR, form);
    ev->code = code;
    ev->offset = offset;
    ev->message = msg;
    d->msg_open = 0;
    return STEP_EVENT;
}

static enum step fatal_event(struct bs_proto_decoder *d,
                             struct bs_proto_event *ev, unsigned code,
                             const char *msg)
{
    d->state = S_FATAL;
    d->fatal_code = (uint8_t) code;
    d->fatal_msg = msg;
    d->msg_open = 0;
    set_event(d, ev, BS_PROTO_EV_FATAL, BS_PROTO_BINARY);
    ev->code = code;
    ev->message = msg;
    return STEP_EVENT;
}

/* ---- text lines ---------------------------------------------------- */

static int word_is(const uint8_t *w, size_t n, const char *lit)
{
    size_t i;

    for (i = 0; i < n && lit[i] != '\0'; i++) {
        uint8_t c = w[i];
        if (c >= 'A' && c <= 'Z') {
            c = (uint8_t) (c - 'A' + 'a');
        }
        if (c != (uint8_t) lit[i]) {
            return 0;
        }
    }
    return i == n && lit[i] == '\0';
}

static enum step text_begin(struct bs_proto_decoder *d,
                            struct bs_proto_event *ev)
{
    d->state = T_BITS;
    d->sub = BEFORE_BITS;
    d->msg_open = 1;
    d->msg_bits = 0;
    d->trail = 0;
    set_event(d, ev, BS_PROTO_EV_BEGIN, BS_PROTO_TEXT);
    return STEP_EVENT;
}

/* The byte b that showed the error has been consumed; skip the rest of
 * the line unless b was its LF. */
static enum step text_error(struct bs_proto_decoder *d,
                            struct bs_proto_event *ev, uint8_t b, unsigned code,
                            uint64_t offset, const char *msg)
{
    d->state = b == '\n' ? S_IDLE : T_SKIP;
    d->cr = 0;
    return error_event(d, ev, BS_PROTO_TEXT, code, offset, msg);
}

/* A byte that cannot be where it is: what it breaks depends on where the
 * line is.  cr: the bad byte is a CR seen one byte ago (so b is the byte
 * after it, and the CR's offset is one less). */
static enum step text_bad_byte(struct bs_proto_decoder *d,
                               struct bs_proto_event *ev, uint8_t b, int cr)
{
    uint64_t off = 0;

    switch (d->state) {
    case T_START:
    case T_WORD1:
        return text_error(d, ev, b, BS_PROTO_E_BAD_COMMAND, BS_PROTO_NO_OFFSET,
                          "the first word must be stuff, unstuff or bits "
                          "(0 and 1)");
    case T_AFTER_OP:
    case T_WORD2:
        return text_error(d, ev, b, BS_PROTO_E_BAD_RULE, BS_PROTO_NO_OFFSET,
                          "the word after the op must be a rule (hdlc, usb "
                          "or can) or bits");
    default:
        break;
    }
    if (d->sub != BEFORE_BITS) {
        off = d->msg_bits + d->trail - (cr ? 1u : 0u);
    }
    return text_error(d, ev, b, BS_PROTO_E_CHAR, off,
                      cr ? "a CR is allowed only just before the LF"
                         : "not a bit: only 0 and 1 may follow the op and "
                           "rule, in one run");
}

static enum step text_bits(struct bs_proto_decoder *d, const uint8_t *in,
                           size_t len, size_t *pos, struct bs_proto_event *ev)
{
    size_t p = *pos, n = 0, room = d->lim.max_line - d->line_len;
    uint64_t left = d->lim.max_message_bits - d->msg_bits;

    if (left == 0) {
        *pos = p + 1;
        return text_error(d, ev, in[p], BS_PROTO_E_TOO_LONG, d->msg_bits,
                          MSG_TOO_LONG);
    }
    if (room > len - p) {
        room = len - p;
    }
    if (room > left) {
        room = (size_t) left;
    }
    while (n < room && is_bit(in[p + n])) {
        n++;
    }
    d->sub = IN_BITS;
    d->line_len += n;
    d->msg_bits += n;
    set_event(d, ev, BS_PROTO_EV_DATA, BS_PROTO_TEXT);
    ev->data = in + p;
    ev->nbits = n;
    *pos = p + n;
    return STEP_EVENT;
}

/* The op words of a text line. */
static const struct {
    const char *word;
    enum bs_proto_op op;
} op_words[] = {
    {"stuff", BS_PROTO_STUFF},
    {"unstuff", BS_PROTO_UNSTUFF},
};

/* A text state's handler: acts on the byte at in[*pos], which is not a
 * CR and not past the line limit, and returns as text_step does. */
typedef enum step text_fn(struct bs_proto_decoder *d, const uint8_t *in,
                          size_t len, size_t *pos, struct bs_proto_event *ev);

/* T_SKIP: discard up to and including the LF. */
static enum step text_skip(struct bs_proto_decoder *d, const uint8_t *in,
                           size_t len, size_t *pos)
{
    const uint8_t *lf = memchr(in + *pos, '\n', len - *pos);

    if (lf == NULL) {
        *pos = len;
        return STEP_MORE;
    }
    *pos = (size_t) (lf - in) + 1;
    d->state = S_IDLE;
    return STEP_NEXT;
}

static enum step text_start(struct bs_proto_decoder *d, const uint8_t *in,
                            size_t len, size_t *pos, struct bs_proto_event *ev)
{
    uint8_t b = in[*pos];

    (void) len;
    if (b == '\n') {
        /* a line of whitespace: nothing to answer */
        (*pos)++;
        d->state = S_IDLE;
        return STEP_NEXT;
    }
    if (is_wsp(b)) {
        (*pos)++;
        d->line_len++;
    } else if (is_bit(b)) {
        return text_begin(d, ev);
    } else {
        d->state = T_WORD1;
        d->word_len = 0;
    }
    return STEP_MORE;
}

/* The op (T_WORD1) or rule (T_WORD2) word is complete: set it, or 0 if
 * it names none. */
static int text_word_known(struct bs_proto_decoder *d)
{
    enum bs_rule rule;

    if (d->state == T_WORD2) {
        if (bs_rule_parse((const char *) d->buf, d->word_len, &rule) != 0) {
            return 0;
        }
        d->msg_rule = (uint8_t) rule;
        return 1;
    }
    for (size_t i = 0; i < sizeof(op_words) / sizeof(op_words[0]); i++) {
        if (word_is(d->buf, d->word_len, op_words[i].word)) {
            d->msg_op = (uint8_t) op_words[i].op;
            return 1;
        }
    }
    return 0;
}

/* T_WORD1, T_WORD2: gather the word up to whitespace or the LF. */
static enum step text_word(struct bs_proto_decoder *d, const uint8_t *in,
                           size_t len, size_t *pos, struct bs_proto_event *ev)
{
    uint8_t b = in[*pos];
    int first = d->state == T_WORD1;

    (void) len;
    if (!is_wsp(b) && b != '\n') {
        if (d->word_len == (first ? MAX_OP_WORD : MAX_RULE_WORD)) {
            (*pos)++;
            return text_bad_byte(d, ev, b, 0);
        }
        d->buf[d->word_len++] = b;
        d->line_len++;
        (*pos)++;
        return STEP_MORE;
    }
    if (!text_word_known(d)) {
        (*pos)++;
        return text_bad_byte(d, ev, b, 0);
    }
    if (b == '\n') {
        return text_begin(d, ev); /* the LF ends it next call */
    }
    (*pos)++;
    d->line_len++;
    if (first) {
        d->state = T_AFTER_OP;
        return STEP_MORE;
    }
    return text_begin(d, ev);
}

static enum step text_after_op(struct bs_proto_decoder *d, const uint8_t *in,
                               size_t len, size_t *pos,
                               struct bs_proto_event *ev)
{
    uint8_t b = in[*pos];

    (void) len;
    if (is_wsp(b)) {
        (*pos)++;
        d->line_len++;
    } else if (b == '\n' || is_bit(b)) {
        return text_begin(d, ev);
    } else {
        d->state = T_WORD2;
        d->word_len = 0;
    }
    return STEP_MORE;
}

/* T_BITS: a message is open; its bits, then trailing whitespace. */
static enum step text_in_bits(struct bs_proto_decoder *d, const uint8_t *in,
                              size_t len, size_t *pos,
                              struct bs_proto_event *ev)
{
    uint8_t b = in[*pos];

    if (b == '\n') {
        (*pos)++;
        d->state = S_IDLE;
        d->msg_open = 0;
        set_event(d, ev, BS_PROTO_EV_END, BS_PROTO_TEXT);
        return STEP_EVENT;
    }
    if (is_wsp(b)) {
        (*pos)++;
        d->line_len++;
        if (d->sub != BEFORE_BITS) {
            d->sub = AFTER_BITS;
            d->trail++;
        }
        return STEP_MORE;
    }
    if (is_bit(b) && d->sub != AFTER_BITS) {
        return text_bits(d, in, len, pos, ev);
    }
    (*pos)++;
    return text_bad_byte(d, ev, b, 0);
}

static text_fn *const text_states[] = {
    [T_START - T_START] = text_start,       [T_WORD1 - T_START] = text_word,
    [T_AFTER_OP - T_START] = text_after_op, [T_WORD2 - T_START] = text_word,
    [T_BITS - T_START] = text_in_bits,
};

/* One byte of a line in any state but T_SKIP: what every state checks
 * first (the line limit, a CR), then the state's handler. */
static enum step text_byte(struct bs_proto_decoder *d, const uint8_t *in,
                           size_t len, size_t *pos, struct bs_proto_event *ev)
{
    uint8_t b = in[*pos];

    if (d->line_len >= d->lim.max_line) {
        (*pos)++;
        return text_error(d, ev, b, BS_PROTO_E_LINE_TOO_LONG,
                          BS_PROTO_NO_OFFSET, MSG_LINE_TOO_LONG);
    }
    if (d->cr && b != '\n') {
        (*pos)++;
        return text_bad_byte(d, ev, b, 1);
    }
    if (b == '\r') {
        d->cr = 1;
        d->line_len++;
        (*pos)++;
        if (d->state == T_BITS && d->sub != BEFORE_BITS) {
            d->sub = AFTER_BITS;
            d->trail++;
        }
        return STEP_MORE;
    }
    d->cr = 0;
    return text_states[d->state - T_START](d, in, len, pos, ev);
}

/* Walk a text line from in[*pos] until an event, the line's end or the
 * end of the input. */
static enum step text_step(struct bs_proto_decoder *d, const uint8_t *in,
                           size_t len, size_t *pos, struct bs_proto_event *ev)
{
    enum step r = STEP_MORE;

    while (*pos < len && r == STEP_MORE) {
        r = d->state == T_SKIP ? text_skip(d, in, len, pos)
                               : text_byte(d, in, len, pos, ev);
    }
    return r;
}

/* ---- binary frames ------------------------------------------------- */

/* A frame header, taken apart. */
struct header {
    unsigned type, flags, op, rule;
    uint32_t length;
    int nibble_ok; /* op and rule name ones this decoder knows */
};

/* A chunk that breaks the rules of a message.  Client role: the server
 * broke the protocol, FATAL.  Server: answer the request with code (at
 * offset at) and skip the rest of the message. */
static enum step refuse(struct bs_proto_decoder *d, struct bs_proto_event *ev,
                        unsigned code, uint64_t at, const char *client_msg,
                        const char *server_msg)
{
    if (d->role == BS_PROTO_ROLE_CLIENT) {
        return fatal_event(d, ev, code, client_msg);
    }
    d->skip = 1;
    return error_event(d, ev, BS_PROTO_BINARY, code, at, server_msg);
}

/* The op and rule a reply or an error names: the header's, or 0 (stuff,
 * hdlc) when its nibbles are not valid ones. */
static void note_kind(struct bs_proto_decoder *d, const struct header *h)
{
    d->msg_op = (uint8_t) (h->nibble_ok ? h->op : 0);
    d->msg_rule = (uint8_t) (h->nibble_ok ? h->rule : 0);
}

/* Client: an 'E' frame's header; its payload comes next. */
static enum step eframe_header(struct bs_proto_decoder *d,
                               struct bs_proto_event *ev,
                               const struct header *h)
{
    if ((h->flags & BS_PROTO_FLAG_LAST) == 0) {
        return fatal_event(d, ev, BS_PROTO_E_BAD_FRAME,
                           "an 'E' frame without the LAST flag");
    }
    if (h->length < E_HEAD || h->length - E_HEAD > BS_PROTO_MAX_ERR_MSG) {
        return fatal_event(d, ev, BS_PROTO_E_BAD_FRAME,
                           "an 'E' frame length outside 12..1036 bytes");
    }
    /* an 'E' frame names the failed request's op and rule */
    note_kind(d, h);
    d->e_total = (uint16_t) h->length;
    d->e_len = 0;
    d->state = S_EFRAME;
    return STEP_NEXT;
}

/* A FIRST chunk: a new message, unless one is open or the op or rule is
 * unknown.  STEP_GO_ON when it may start. */
static enum step first_chunk(struct bs_proto_decoder *d,
                             struct bs_proto_event *ev, const struct header *h)
{
    if (d->msg_open) {
        if (d->role == BS_PROTO_ROLE_CLIENT) {
            return fatal_event(d, ev, BS_PROTO_E_SEQUENCE,
                               "a reply began before the last one "
                               "ended");
        }
        /* answer the open message, then read this header again */
        d->state = S_HDR_READY;
        return error_event(d, ev, BS_PROTO_BINARY, BS_PROTO_E_SEQUENCE,
                           BS_PROTO_NO_OFFSET,
                           "a new message (FIRST) began before the "
                           "open one ended (LAST)");
    }
    d->skip = 0;
    d->msg_bits = 0;
    note_kind(d, h);
    if (!h->nibble_ok) {
        return refuse(d, ev, BS_PROTO_E_BAD_RULE, BS_PROTO_NO_OFFSET,
                      "a reply names an unknown op or rule",
                      "unknown op or rule in a frame header (op 0 "
                      "or 1; rule 0 hdlc, 1 usb, 2 can)");
    }
    return STEP_GO_ON;
}

/* A later chunk: it must continue the open message with its op and rule
 * (or belong to one being skipped).  STEP_GO_ON when it does. */
static enum step next_chunk(struct bs_proto_decoder *d,
                            struct bs_proto_event *ev, const struct header *h)
{
    if (d->skip) {
        return STEP_NEXT;
    }
    if (!d->msg_open) {
        if (d->role == BS_PROTO_ROLE_SERVER) {
            note_kind(d, h);
        }
        return refuse(d, ev, BS_PROTO_E_SEQUENCE, BS_PROTO_NO_OFFSET,
                      "a reply chunk without FIRST and no reply "
                      "open",
                      "a chunk without FIRST while no message is open");
    }
    if (h->op != d->msg_op || h->rule != d->msg_rule) {
        return refuse(d, ev, BS_PROTO_E_SEQUENCE, BS_PROTO_NO_OFFSET,
                      "a reply chunk changes op or rule",
                      "a chunk's op or rule differs from its "
                      "message's FIRST chunk");
    }
    return STEP_GO_ON;
}

/* Act on a whole header: start, continue or refuse a chunk. */
static enum step on_header(struct bs_proto_decoder *d,
                           struct bs_proto_event *ev)
{
    int client = d->role == BS_PROTO_ROLE_CLIENT;
    struct header h = {
        .type = d->hdr[1],
        .flags = d->hdr[2],
        .op = d->hdr[3] >> 4,
        .rule = d->hdr[3] & 0x0Fu,
        .length = get32(d->hdr + 4),
    };
    enum step r;

    h.nibble_ok = h.op < BS_PROTO_OP_COUNT && h.rule < BS_RULE_COUNT;
    if ((h.flags & ~(BS_PROTO_FLAG_FIRST | BS_PROTO_FLAG_LAST)) != 0) {
        return fatal_event(d, ev, BS_PROTO_E_BAD_FRAME,
                           "reserved flag bits are set in a frame header");
    }
    if (client && h.type == BS_PROTO_TYPE_ERROR) {
        return eframe_header(d, ev, &h);
    }
    if (h.type != (client ? BS_PROTO_TYPE_REPLY : BS_PROTO_TYPE_MSG)) {
        return fatal_event(d, ev, BS_PROTO_E_BAD_FRAME,
                           client ? "the server sent a frame type other "
                                    "than 'R' or 'E'"
                                  : "a client may send only 'M' frames "
                                    "(type 0x4D)");
    }
    if (h.length > BS_PROTO_MAX_CHUNK_BITS) {
        return fatal_event(d, ev, BS_PROTO_E_BAD_FRAME,
                           "a chunk declares more than 524288 bits");
    }
    d->chunk_bits_left = h.length;
    d->chunk_flags = (uint8_t) h.flags;
    d->state = S_PAYLOAD;

    r = h.flags & BS_PROTO_FLAG_FIRST ? first_chunk(d, ev, &h)
                                      : next_chunk(d, ev, &h);
    if (r != STEP_GO_ON) {
        return r;
    }
    /* msg_bits <= max_message_bits always holds, so this cannot wrap */
    if (h.length > d->lim.max_message_bits - d->msg_bits) {
        return refuse(d, ev, BS_PROTO_E_TOO_LONG, d->lim.max_message_bits,
                      "the reply is longer than the client's "
                      "limit",
                      MSG_TOO_LONG);
    }
    if (h.flags & BS_PROTO_FLAG_FIRST) {
        d->msg_open = 1;
        set_event(d, ev, BS_PROTO_EV_BEGIN, BS_PROTO_BINARY);
        return STEP_EVENT;
    }
    return STEP_NEXT;
}

static enum step payload_step(struct bs_proto_decoder *d, const uint8_t *in,
                              size_t len, size_t *pos,
                              struct bs_proto_event *ev)
{
    uint32_t bits = d->chunk_bits_left;
    size_t p = *pos, need = bits / 8u + (bits % 8u != 0), avail = len - p;
    unsigned pad = (8u - bits % 8u) % 8u;

    if (bits == 0) {
        d->state = S_IDLE;
        if ((d->chunk_flags & BS_PROTO_FLAG_LAST) == 0) {
            return STEP_NEXT;
        }
        if (d->skip) {
            d->skip = 0;
            return STEP_NEXT;
        }
        d->msg_open = 0;
        set_event(d, ev, BS_PROTO_EV_END, BS_PROTO_BINARY);
        return STEP_EVENT;
    }
    if (avail == 0) {
        return STEP_MORE;
    }
    if (d->skip) {
        size_t n = avail < need ? avail : need;
        *pos = p + n;
        d->chunk_bits_left = n == need ? 0 : bits - (uint32_t) n * 8u;
        return STEP_NEXT;
    }
    if (avail >= need && pad != 0 &&
        (in[p + need - 1] & ((1u << pad) - 1u)) != 0) {
        if (need > 1) {
            avail = need - 1; /* deliver the good bytes first */
        } else {
            *pos = p + 1;
            d->chunk_bits_left = 0;
            if (d->role == BS_PROTO_ROLE_CLIENT) {
                return fatal_event(d, ev, BS_PROTO_E_BAD_PADDING,
                                   "nonzero padding bits in a reply chunk");
            }
            d->skip = 1;
            return error_event(d, ev, BS_PROTO_BINARY, BS_PROTO_E_BAD_PADDING,
                               BS_PROTO_NO_OFFSET,
                               "the unused bits after the last bit of a "
                               "chunk must be 0");
        }
    }
    set_event(d, ev, BS_PROTO_EV_DATA, BS_PROTO_BINARY);
    ev->data = in + p;
    if (avail >= need) {
        ev->nbits = bits;
        *pos = p + need;
    } else {
        ev->nbits = avail * 8u;
        *pos = p + avail;
    }
    d->chunk_bits_left = bits - (uint32_t) ev->nbits;
    d->msg_bits += ev->nbits;
    return STEP_EVENT;
}

static enum step eframe_step(struct bs_proto_decoder *d, const uint8_t *in,
                             size_t len, size_t *pos, struct bs_proto_event *ev)
{
    size_t p = *pos;
    unsigned code;

    while (p < len && d->e_len < d->e_total) {
        uint8_t b = in[p++];
        if (d->e_len < E_HEAD) {
            d->buf[d->e_len] = b;
        } else if (d->errmsg != NULL) {
            /* the text ends up on a terminal: no control characters */
            d->errmsg[d->e_len - E_HEAD] =
                b < 0x20 || b == 0x7F ? '?' : (char) b;
        }
        d->e_len++;
    }
    *pos = p;
    if (d->e_len < d->e_total) {
        return STEP_MORE;
    }
    code = (unsigned) d->buf[0] << 8 | d->buf[1];
    if (d->errmsg != NULL) {
        d->errmsg[d->e_total - E_HEAD] = '\0';
    }
    d->state = S_IDLE;
    return error_event(d, ev, BS_PROTO_BINARY, code,
                       (uint64_t) get32(d->buf + 4) << 32 | get32(d->buf + 8),
                       d->errmsg != NULL ? d->errmsg
                                         : bs_proto_code_text(code));
}

size_t bs_proto_decode(struct bs_proto_decoder *d, const uint8_t *in,
                       size_t len, struct bs_proto_event *ev)
{
    size_t pos = 0;
    enum step r = STEP_NEXT;

    *ev = (struct bs_proto_event){.type = BS_PROTO_EV_NONE,
                                  .offset = BS_PROTO_NO_OFFSET};
    if (in == NULL) {
        len = 0;
    }
    if (d->state == S_FATAL) {
        set_event(d, ev, BS_PROTO_EV_FATAL, BS_PROTO_BINARY);
        ev->code = d->fatal_code;
        ev->message = d->fatal_msg;
        return len;
    }
    while (r != STEP_EVENT) {
        switch (d->state) {
        case S_IDLE:
            if (pos == len) {
                return len;
            }
            if (in[pos] == BS_PROTO_MAGIC) {
                d->state = S_HDR;
                d->hdr_len = 0;
            } else if (d->role == BS_PROTO_ROLE_CLIENT) {
                r = fatal_event(d, ev, BS_PROTO_E_BAD_FRAME,
                                "the server sent a byte that does not start "
                                "a frame (0xB5)");
            } else if (d->msg_open || d->skip) {
                r = fatal_event(d, ev, BS_PROTO_E_BAD_FRAME,
                                "expected the next chunk (0xB5) of the open "
                                "binary message");
            } else {
                d->state = T_START;
                d->line_len = 0;
                d->cr = 0;
                d->msg_op = BS_PROTO_STUFF;
                d->msg_rule = BS_RULE_HDLC;
            }
            break;
        case S_HDR: {
            size_t n = BS_PROTO_HDR_LEN - d->hdr_len;
            if (n > len - pos) {
                n = len - pos;
            }
            memcpy(d->hdr + d->hdr_len, in + pos, n);
            d->hdr_len = (uint8_t) (d->hdr_len + n);
            pos += n;
            if (d->hdr_len < BS_PROTO_HDR_LEN) {
                return len;
            }
            d->state = S_HDR_READY;
            break;
        }
        case S_HDR_READY:
            r = on_header(d, ev);
            break;
        case S_PAYLOAD:
            r = payload_step(d, in, len, &pos, ev);
            break;
        case S_EFRAME:
            r = eframe_step(d, in, len, &pos, ev);
            break;
        case S_FATAL:
            return pos; /* on_header or S_IDLE set ev already */
        default:
            r = text_step(d, in, len, &pos, ev);
            break;
        }
        if (r == STEP_MORE) {
            return len;
        }
    }
    return pos;
}

/* ---- encoders ------------------------------------------------------ */

size_t bs_proto_put_header(uint8_t *out, size_t cap, unsigned type,
                           unsigned flags, enum bs_proto_op op,
                           enum bs_rule rule, uint32_t length)
{
    if (out == NULL || cap < BS_PROTO_HDR_LEN ||
        (flags & ~(BS_PROTO_FLAG_FIRST | BS_PROTO_FLAG_LAST)) != 0 ||
        (unsigned) op >= BS_PROTO_OP_COUNT || (unsigned) rule >= BS_RULE_COUNT)
    {
        return 0;
    }
    if (type == BS_PROTO_TYPE_ERROR) {
        if (length < E_HEAD || length - E_HEAD > BS_PROTO_MAX_ERR_MSG) {
            return 0;
        }
    } else if (type != BS_PROTO_TYPE_MSG && type != BS_PROTO_TYPE_REPLY) {
        return 0;
    } else if (length > BS_PROTO_MAX_CHUNK_BITS) {
        return 0;
    }
    out[0] = BS_PROTO_MAGIC;
    out[1] = (uint8_t) type;
    out[2] = (uint8_t) flags;
    out[3] = (uint8_t) ((unsigned) op << 4 | (unsigned) rule);
    put32(out + 4, length);
    return BS_PROTO_HDR_LEN;
}

size_t bs_proto_put_frame(uint8_t *out, size_t cap, unsigned type,
                          unsigned flags, enum bs_proto_op op,
                          enum bs_rule rule, const uint8_t *bits,
                          uint32_t nbits)
{
    size_t n = nbits / 8u + (nbits % 8u != 0);

    if (type == BS_PROTO_TYPE_ERROR || (bits == NULL && nbits != 0) ||
        out == NULL || cap < BS_PROTO_HDR_LEN || n > cap - BS_PROTO_HDR_LEN ||
        bs_proto_put_header(out, cap, type, flags, op, rule, nbits) == 0)
    {
        return 0;
    }
    if (n > 0) {
        memcpy(out + BS_PROTO_HDR_LEN, bits, n);
        if (nbits % 8u != 0) {
            out[BS_PROTO_HDR_LEN + n - 1] &=
                (uint8_t) (0xFFu << (8u - nbits % 8u));
        }
    }
    return BS_PROTO_HDR_LEN + n;
}

size_t bs_proto_put_ok_line(uint8_t *out, size_t cap, const char *bits,
                            size_t n)
{
    size_t need = n == 0 ? 3 : n + 4;

    if (out == NULL || (bits == NULL && n != 0) || n > SIZE_MAX - 4 ||
        cap < need) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (bits[i] != '0' && bits[i] != '1') {
            return 0;
        }
    }
    memcpy(out, "OK ", 3);
    if (n > 0) {
        memcpy(out + 3, bits, n);
    }
    out[need - 1] = '\n';
    return need;
}

/* Copy message into out (room for BS_PROTO_MAX_ERR_MSG bytes) without CR
 * or LF, cut at a UTF-8 character boundary; returns its length. */
static size_t clean_message(char *out, const char *msg)
{
    size_t n = 0;

    for (; *msg != '\0'; msg++) {
        if (*msg == '\r' || *msg == '\n') {
            continue;
        }
        if (n == BS_PROTO_MAX_ERR_MSG) {
            /* the next byte continues a character (10xxxxxx): drop the
             * start of that character, at most 3 bytes; invalid UTF-8
             * is left as it is */
            if (((unsigned char) *msg & 0xC0u) == 0x80u) {
                size_t k = n;
                while (k > n - 2 &&
                       ((unsigned char) out[k - 1] & 0xC0u) == 0x80u) {
                    k--;
                }
                if ((unsigned char) out[k - 1] >= 0xC0u) {
                    n = k - 1;
                }
            }
            break;
        }
        out[n++] = *msg;
    }
    return n;
}

/* Decimal digits of v into out (room for 20); returns the count. */
static size_t put_dec(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0, i;

    do {
        tmp[n++] = (char) ('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    for (i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    return n;
}

size_t bs_proto_put_error(uint8_t *out, size_t cap, enum bs_proto_form form,
                          enum bs_proto_op op, enum bs_rule rule, unsigned code,
                          uint64_t offset, const char *message)
{
    char line[BS_PROTO_ERROR_MAX], msg[BS_PROTO_MAX_ERR_MSG];
    size_t mlen, n = 0;

    if (out == NULL || code > 0xFFFFu) {
        return 0;
    }
    if (message == NULL || message[0] == '\0') {
        message = bs_proto_code_text(code);
    }
    mlen = clean_message(msg, message);
    if (mlen == 0) { /* the message was only CR and LF */
        mlen = clean_message(msg, bs_proto_code_text(code));
    }

    if (form == BS_PROTO_BINARY) {
        size_t total = BS_PROTO_HDR_LEN + E_HEAD + mlen;
        if (cap < total || bs_proto_put_header(out, cap, BS_PROTO_TYPE_ERROR,
                                               BS_PROTO_FLAG_LAST, op, rule,
                                               (uint32_t) (E_HEAD + mlen)) == 0)
        {
            return 0;
        }
        out[8] = (uint8_t) (code >> 8);
        out[9] = (uint8_t) code;
        out[10] = 0;
        out[11] = 0;
        put32(out + 12, (uint32_t) (offset >> 32));
        put32(out + 16, (uint32_t) offset);
        memcpy(out + 20, msg, mlen);
        return total;
    }

    /* "ERR <code> <name> <offset|-> <message>\n" */
    const char *name = bs_proto_code_name(code);
    size_t nlen = strlen(name);
    memcpy(line, "ERR ", 4);
    n = 4;
    n += put_dec(line + n, code);
    line[n++] = ' ';
    memcpy(line + n, name, nlen);
    n += nlen;
    line[n++] = ' ';
    if (offset == BS_PROTO_NO_OFFSET) {
        line[n++] = '-';
    } else {
        n += put_dec(line + n, offset);
    }
    line[n++] = ' ';
    memcpy(line + n, msg, mlen);
    n += mlen;
    line[n++] = '\n';
    if (cap < n) {
        return 0;
    }
    memcpy(out, line, n);
    return n;
}
