/*
 * fuzz_proto.c - libFuzzer harness for the protocol codec.
 *
 * Target functions: bs_proto_decode, bs_proto_decoder_idle,
 * bs_proto_put_error.
 *
 * Input: byte 0 picks the role (bit 0) and small limits (bit 1); the rest
 * is the byte stream.  It is decoded whole, one byte at a time and in
 * pieces of sizes drawn from a generator seeded by the input; each piece
 * sits in its own exact-size heap block so ASan sees any read past len.
 * Checked on every call and event:
 *   - consumed <= len, EV_NONE only when all was consumed, and at most
 *     three events in a row consume nothing (progress);
 *   - DATA has nbits >= 1 and is exactly the end of what the call
 *     consumed (inside the input); text DATA is only '0' and '1'; the
 *     pad bits of a partial binary byte are 0;
 *   - BEGIN only when no message is open, DATA and END only inside one;
 *     ERROR and FATAL close it; ERROR/FATAL carry a message; a server's
 *     error codes are known codes; FATAL sticks;
 *   - the event log (DATA merged) is the same for every split.
 * Then the tail of the input, as an error message, goes through
 * bs_proto_put_error in both forms: the text line is one well-formed line
 * and the 'E' frame decodes (client role) to the same code, offset and
 * cleaned message.  Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_rng.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok) {
        abort();
    }
}

struct log {
    uint8_t *b;
    size_t n, cap;
};

static void log_add(struct log *l, const void *p, size_t n)
{
    if (l->cap - l->n < n) {
        size_t cap = (l->n + n) * 2 + 64;
        uint8_t *b = realloc(l->b, cap);
        check(b != NULL);
        l->b = b;
        l->cap = cap;
    }
    memcpy(l->b + l->n, p, n);
    l->n += n;
}

static void log_u64(struct log *l, uint64_t v)
{
    log_add(l, &v, sizeof(v));
}

static int same(const struct log *a, const struct log *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->b, b->b, a->n) == 0);
}

enum split { WHOLE, BYTES, RANDOM };

static int known_code(unsigned c)
{
    return (c >= BS_PROTO_E_CHAR && c <= BS_PROTO_E_TRUNCATED) ||
           (c >= BS_PROTO_E_BAD_COMMAND && c <= BS_PROTO_E_BUSY);
}

struct run_state {
    struct log log;
    int open;
    int in_data;
};

static void on_event(struct run_state *rs, enum bs_proto_role role,
                     const struct bs_proto_event *ev, const uint8_t *p,
                     size_t used)
{
    struct log *l = &rs->log;

    if (ev->type != BS_PROTO_EV_DATA && rs->in_data) {
        log_add(l, "|", 1);
        rs->in_data = 0;
    }
    switch (ev->type) {
    case BS_PROTO_EV_BEGIN:
        check(!rs->open);
        check(ev->form == BS_PROTO_TEXT || ev->form == BS_PROTO_BINARY);
        check(ev->op <= BS_PROTO_UNSTUFF && ev->rule <= BS_RULE_CAN);
        rs->open = 1;
        log_u64(l, (uint64_t) ev->form << 16 | (uint64_t) ev->op << 8 |
                       (uint64_t) ev->rule);
        break;
    case BS_PROTO_EV_DATA: {
        size_t bytes =
            ev->form == BS_PROTO_TEXT ? ev->nbits : (ev->nbits + 7) / 8;
        check(rs->open);
        check(ev->nbits >= 1);
        check(ev->data >= p && bytes <= used && ev->data + bytes == p + used);
        if (!rs->in_data) {
            log_add(l, "D", 1);
            rs->in_data = 1;
        }
        for (size_t i = 0; i < ev->nbits; i++) {
            uint8_t c;
            if (ev->form == BS_PROTO_TEXT) {
                c = ev->data[i];
                check(c == '0' || c == '1');
            } else {
                c = (uint8_t) ('0' + ((ev->data[i / 8] >> (7 - i % 8)) & 1));
            }
            log_add(l, &c, 1);
        }
        if (ev->form == BS_PROTO_BINARY) {
            check(ev->nbits <= BS_PROTO_MAX_CHUNK_BITS);
            if (ev->nbits % 8 != 0) {
                check((ev->data[bytes - 1] & (0xFFu >> (ev->nbits % 8))) == 0);
            }
        }
        break;
    }
    case BS_PROTO_EV_END:
        check(rs->open);
        rs->open = 0;
        log_add(l, "E", 1);
        break;
    case BS_PROTO_EV_ERROR:
    case BS_PROTO_EV_FATAL:
        rs->open = 0;
        check(ev->message != NULL);
        check(strlen(ev->message) <= BS_PROTO_MAX_ERR_MSG);
        if (role == BS_PROTO_ROLE_SERVER || ev->type == BS_PROTO_EV_FATAL) {
            check(known_code(ev->code));
        }
        log_add(l, ev->type == BS_PROTO_EV_ERROR ? "X" : "F", 1);
        log_u64(l, ev->code);
        log_u64(l, ev->offset);
        log_add(l, ev->message, strlen(ev->message) + 1);
        break;
    case BS_PROTO_EV_NONE:
        break;
    }
}

static void run(enum bs_proto_role role, const struct bs_proto_limits *lim,
                const uint8_t *s, size_t n, enum split mode, uint64_t seed,
                struct log *out)
{
    struct bs_proto_decoder d;
    struct run_state rs = {{NULL, 0, 0}, 0, 0};
    size_t pos = 0;
    int fatal = 0;
    char errbuf[BS_PROTO_ERRBUF_SIZE];

    bs_proto_decoder_init(&d, role, lim);
    bs_proto_decoder_set_errbuf(&d, errbuf);
    while (pos < n && !fatal) {
        size_t k = n - pos, zero_run = 0, left;
        if (mode == BYTES) {
            k = 1;
        } else if (mode == RANDOM) {
            k = rng_piece(&seed, k, 23);
        }
        uint8_t *piece = malloc(k);
        check(piece != NULL);
        memcpy(piece, s + pos, k);
        const uint8_t *p = piece;
        left = k;
        for (;;) {
            struct bs_proto_event ev;
            size_t used = bs_proto_decode(&d, p, left, &ev);
            check(used <= left);
            if (ev.type == BS_PROTO_EV_NONE) {
                check(used == left);
                break;
            }
            zero_run = used == 0 ? zero_run + 1 : 0;
            check(zero_run <= 3);
            on_event(&rs, role, &ev, p, used);
            p += used;
            left -= used;
            if (ev.type == BS_PROTO_EV_FATAL) {
                /* it sticks, and swallows the rest */
                size_t again = bs_proto_decode(&d, p, left, &ev);
                check(again == left && ev.type == BS_PROTO_EV_FATAL);
                check(!bs_proto_decoder_idle(&d));
                fatal = 1;
                break;
            }
        }
        free(piece);
        pos += k;
    }
    if (rs.in_data) {
        log_add(&rs.log, "|", 1);
    }
    if (bs_proto_decoder_idle(&d)) {
        check(!rs.open);
    }
    *out = rs.log;
}

/* What a message must look like after bs_proto_put_error and the client
 * decoder: no CR/LF, control characters as '?'. */
static size_t expected_message(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n && in[i] != 0; i++) {
        uint8_t b = in[i];
        if (b == '\r' || b == '\n') {
            continue;
        }
        out[o++] = b < 0x20 || b == 0x7F ? '?' : (char) b;
    }
    out[o] = '\0';
    return o;
}

static void check_put_error(const uint8_t *data, size_t size)
{
    uint8_t out[BS_PROTO_ERROR_MAX];
    char msg[1200], want[1200];
    size_t mlen = size < sizeof(msg) - 1 ? size : sizeof(msg) - 1, n, wlen;
    unsigned code = size >= 2 ? (unsigned) data[0] << 8 | data[1] : 3;
    uint64_t offset = size >= 3 && data[2] < 0x40 ? BS_PROTO_NO_OFFSET
                                                  : (uint64_t) size * 977u;
    struct bs_proto_decoder d;
    struct bs_proto_event ev;
    char errbuf[BS_PROTO_ERRBUF_SIZE];

    memcpy(msg, data, mlen);
    msg[mlen] = '\0';
    wlen = expected_message(data, mlen, want);

    /* text: one line, "ERR <code> <name> " ..., no other LF or CR */
    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_TEXT, BS_PROTO_STUFF,
                           BS_RULE_HDLC, code, offset, msg);
    check(n > 5 && n <= BS_PROTO_ERROR_MAX);
    check(memcmp(out, "ERR ", 4) == 0 && out[n - 1] == '\n');
    check(memchr(out, '\n', n - 1) == NULL && memchr(out, '\r', n) == NULL);

    /* binary: the client decoder gives back the same error */
    n = bs_proto_put_error(out, sizeof(out), BS_PROTO_BINARY, BS_PROTO_UNSTUFF,
                           BS_RULE_CAN, code, offset, msg);
    check(n >= BS_PROTO_HDR_LEN + 12 && n <= BS_PROTO_ERROR_MAX);
    bs_proto_decoder_init(&d, BS_PROTO_ROLE_CLIENT, NULL);
    bs_proto_decoder_set_errbuf(&d, errbuf);
    check(bs_proto_decode(&d, out, n, &ev) == n);
    check(ev.type == BS_PROTO_EV_ERROR && ev.code == code &&
          ev.offset == offset && ev.op == BS_PROTO_UNSTUFF &&
          ev.rule == BS_RULE_CAN);
    if (wlen == 0) {
        return; /* the default text was used */
    }
    size_t glen = strlen(ev.message);
    if (wlen <= BS_PROTO_MAX_ERR_MSG) {
        check(glen == wlen && memcmp(ev.message, want, wlen) == 0);
    } else {
        /* cut at a character boundary: at most 3 bytes short */
        check(glen <= BS_PROTO_MAX_ERR_MSG && glen + 3 >= BS_PROTO_MAX_ERR_MSG);
        check(memcmp(ev.message, want, glen) == 0);
    }
    check(bs_proto_decoder_idle(&d));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct bs_proto_limits small = {16, 24};
    struct log whole, other;
    uint64_t seed = 0xcbf29ce484222325ULL;
    enum bs_proto_role role;
    const struct bs_proto_limits *lim;

    if (size == 0) {
        return 0;
    }
    role = data[0] & 1 ? BS_PROTO_ROLE_CLIENT : BS_PROTO_ROLE_SERVER;
    lim = data[0] & 2 ? &small : NULL;
    for (size_t i = 0; i < size; i++) {
        seed = (seed ^ data[i]) * 0x100000001b3ULL;
    }
    seed |= 1;

    run(role, lim, data + 1, size - 1, WHOLE, 0, &whole);
    run(role, lim, data + 1, size - 1, BYTES, 0, &other);
    check(same(&whole, &other));
    free(other.b);
    for (int k = 0; k < 2; k++) {
        run(role, lim, data + 1, size - 1, RANDOM, seed + (uint64_t) k, &other);
        check(same(&whole, &other));
        free(other.b);
    }
    free(whole.b);

    check_put_error(data + 1, size - 1);
    return 0;
}
