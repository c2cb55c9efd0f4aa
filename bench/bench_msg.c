/*
 * bench_msg.c - seeded messages, their expected replies, and checkers.
 */
#include "bench_msg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void bs_bench_rng_seed(struct bs_bench_rng *r, uint64_t seed)
{
    int i;

    for (i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&seed);
    }
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t bs_bench_rng_next(struct bs_bench_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t bs_bench_rng_below(struct bs_bench_rng *r, uint64_t n)
{
    uint64_t x, lim;

    if (n == 0) {
        return 0;
    }
    /* Rejection keeps it uniform: draw again above the last full multiple. */
    lim = UINT64_MAX - UINT64_MAX % n;
    do {
        x = bs_bench_rng_next(r);
    } while (x >= lim);
    return x % n;
}

void bs_bench_rng_fill(struct bs_bench_rng *r, uint8_t *buf, size_t n)
{
    uint64_t x;

    while (n >= 8) {
        x = bs_bench_rng_next(r);
        memcpy(buf, &x, 8);
        buf += 8;
        n -= 8;
    }
    if (n > 0) {
        x = bs_bench_rng_next(r);
        memcpy(buf, &x, n);
    }
}

/* Clear the bits past nbits in the last byte, as the wire requires. */
static void mask_tail(uint8_t *buf, size_t nbits)
{
    if (nbits % 8 != 0) {
        buf[nbits / 8] &= (uint8_t) (0xFFu << (8 - nbits % 8));
    }
}

int bs_bench_bits_equal(const uint8_t *exp, uint64_t exp_off,
                        const uint8_t *got, size_t nbits)
{
    size_t whole = nbits / 8, i;
    unsigned rest = (unsigned) (nbits % 8);
    unsigned sh = (unsigned) (exp_off % 8);
    const uint8_t *e = exp + exp_off / 8;
    uint8_t mask = (uint8_t) (0xFFu << (8 - rest));
    uint8_t b;

    if (sh == 0) {
        if (memcmp(e, got, whole) != 0) {
            return 0;
        }
        return rest == 0 || ((e[whole] ^ got[whole]) & mask) == 0;
    }
    for (i = 0; i < whole; i++) {
        b = (uint8_t) ((e[i] << sh) | (e[i + 1] >> (8 - sh)));
        if (b != got[i]) {
            return 0;
        }
    }
    if (rest == 0) {
        return 1;
    }
    b = (uint8_t) (e[whole] << sh);
    if (sh + rest > 8) {
        b = (uint8_t) (b | (e[whole + 1] >> (8 - sh)));
    }
    return ((b ^ got[whole]) & mask) == 0;
}

/* ------------------------------------------------------------------ */
/* Pool */

static char *bits_to_text(const uint8_t *in, size_t nbits, char *out)
{
    size_t i;

    for (i = 0; i < nbits; i++) {
        *out++ = (char) ('0' + ((in[i / 8] >> (7 - i % 8)) & 1));
    }
    return out;
}

static void msg_free(struct bs_bench_msg *m)
{
    free(m->in);
    free(m->out);
    free(m->line);
    free(m->reply);
    memset(m, 0, sizeof(*m));
}

void bs_bench_pool_free(struct bs_bench_pool *p)
{
    size_t i;

    if (p == NULL) {
        return;
    }
    for (i = 0; p->msg != NULL && i < p->count; i++) {
        msg_free(&p->msg[i]);
    }
    free(p->msg);
    memset(p, 0, sizeof(*p));
}

/* The text request and reply of m; bad_char: offset of a '2' to put into
 * the bits, or SIZE_MAX for none. */
static int make_text(struct bs_bench_msg *m, size_t bad_char)
{
    /* "unstuff hdlc " + bits + LF; "ERR 23 line-too-long 2^64 " fits 48 */
    size_t line_cap = 16 + m->in_bits, reply_cap = 48 + m->out_bits;
    char *p;
    int n;

    m->line = malloc(line_cap);
    m->reply = malloc(reply_cap);
    if (m->line == NULL || m->reply == NULL) {
        return -1;
    }
    n = snprintf(m->line, line_cap, "%s %s%s",
                 m->op == BS_DIR_STUFF ? "stuff" : "unstuff",
                 bs_rule_name((enum bs_rule) m->rule),
                 m->in_bits > 0 ? " " : "");
    p = bits_to_text(m->in, m->in_bits, m->line + n);
    *p++ = '\n';
    m->line_len = (size_t) (p - m->line);
    if (bad_char != SIZE_MAX) {
        m->line[(size_t) n + bad_char] = '2';
    }
    if (m->expect != BS_OK) {
        n = snprintf(m->reply, reply_cap, "ERR %u %s %" PRIu64 " ",
                     (unsigned) m->expect,
                     bs_status_name((bs_status) m->expect), m->err_offset);
        m->reply_len = (size_t) n;
        return 0;
    }
    memcpy(m->reply, "OK", 2);
    p = m->reply + 2;
    if (m->out_bits > 0) {
        *p++ = ' ';
        p = bits_to_text(m->out, m->out_bits, p);
    }
    *p++ = '\n';
    m->reply_len = (size_t) (p - m->reply);
    return 0;
}

static int make_msg(struct bs_bench_msg *m,
                    const struct bs_bench_pool_config *c,
                    struct bs_bench_rng *rng)
{
    uint64_t span = c->max_bits - c->min_bits;
    size_t bits, cap, pos, i, bad_char = SIZE_MAX;
    uint8_t *data;
    int bad;
    bs_status st;

    m->op = (uint8_t) (c->op == BS_BENCH_OP_MIXED ? bs_bench_rng_below(rng, 2)
                                                  : (uint64_t) c->op);
    m->rule =
        (uint8_t) (c->rule == BS_BENCH_RULE_MIXED ? bs_bench_rng_below(rng, 3)
                                                  : (uint64_t) c->rule);
    bits = (size_t) (c->min_bits + (span == UINT64_MAX
                                        ? bs_bench_rng_next(rng)
                                        : bs_bench_rng_below(rng, span + 1)));
    /* Draw the choice even when unused, so the rest of the pool does not
     * depend on the error fraction's effect on earlier messages. */
    bad = (double) (bs_bench_rng_next(rng) >> 11) * 0x1.0p-53 < c->errors;

    data = malloc(bs_bytes_for_bits(bits) + 1);
    if (data == NULL) {
        return -1;
    }
    bs_bench_rng_fill(rng, data, bs_bytes_for_bits(bits));
    mask_tail(data, bits);

    cap = bs_bytes_for_bits(bs_max_stuffed_bits((enum bs_rule) m->rule, bits));
    if (m->op == BS_DIR_STUFF) {
        m->in = data;
        m->in_bits = bits;
        m->out = malloc(cap + 1);
        if (m->out == NULL ||
            bs_stuff((enum bs_rule) m->rule, m->in, bits, m->out, cap,
                     &m->out_bits, NULL) != BS_OK)
        {
            return -1;
        }
        if (bad && c->text) {
            bad_char = (size_t) bs_bench_rng_below(rng, bits > 0 ? bits : 1);
            if (bits == 0) {
                bad_char = SIZE_MAX; /* nothing to spoil */
            } else {
                m->expect = BS_ERR_CHAR;
                m->err_offset = bad_char;
                m->out_bits = 0;
            }
        }
        goto text;
    }

    /* Unstuff: send the stuffing of the data, expect the data back. */
    m->in = malloc(cap + 2);
    if (m->in == NULL) {
        free(data);
        return -1;
    }
    if (bs_stuff((enum bs_rule) m->rule, data, bits, m->in, cap, &m->in_bits,
                 NULL) != BS_OK)
    {
        free(data);
        return -1;
    }
    if (!bad) {
        m->out = data;
        m->out_bits = bits;
        goto text;
    }
    free(data);
    /* Seven 1s break every rule: HDLC sees a flag or abort, USB a missing
     * stuffed 0, CAN six identical bits.  The reference decides the exact
     * code and offset. */
    if (m->in_bits < 7) {
        m->in[0] = 0xFE;
        m->in_bits = 7;
    } else {
        pos = (size_t) bs_bench_rng_below(rng, m->in_bits - 6);
        for (i = pos; i < pos + 7; i++) {
            m->in[i / 8] = (uint8_t) (m->in[i / 8] | (0x80u >> (i % 8)));
        }
    }
    m->out = malloc(bs_bytes_for_bits(m->in_bits) + 1);
    if (m->out == NULL) {
        return -1;
    }
    st =
        bs_unstuff((enum bs_rule) m->rule, m->in, m->in_bits, m->out,
                   bs_bytes_for_bits(m->in_bits), &m->out_bits, &m->err_offset);
    if (st != BS_OK && (st < BS_ERR_CHAR || st > BS_ERR_TRUNCATED)) {
        return -1;
    }
    m->expect = (uint8_t) st;

text:
    if (c->text && make_text(m, bad_char) != 0) {
        return -1;
    }
    return 0;
}

int bs_bench_pool_build(struct bs_bench_pool *p,
                        const struct bs_bench_pool_config *c, char *err,
                        size_t errlen)
{
    struct bs_bench_rng rng;
    size_t i;

    memset(p, 0, sizeof(*p));
    if (c->count == 0 || c->min_bits > c->max_bits ||
        c->max_bits > SIZE_MAX / 2 || c->op > BS_BENCH_OP_MIXED ||
        c->rule < 0 || c->rule > BS_BENCH_RULE_MIXED)
    {
        snprintf(err, errlen,
                 "message pool: bad configuration (count %zu, "
                 "sizes %" PRIu64 "-%" PRIu64 " bits)",
                 c->count, c->min_bits, c->max_bits);
        return -1;
    }
    p->msg = calloc(c->count, sizeof(*p->msg));
    if (p->msg == NULL) {
        goto nomem;
    }
    p->count = c->count;
    bs_bench_rng_seed(&rng, c->seed);
    for (i = 0; i < c->count; i++) {
        struct bs_bench_msg *m = &p->msg[i];

        if (make_msg(m, c, &rng) != 0) {
            goto nomem;
        }
        if (bs_bytes_for_bits(m->in_bits) > p->max_in_bytes) {
            p->max_in_bytes = bs_bytes_for_bits(m->in_bits);
        }
        if (m->line_len > p->max_line) {
            p->max_line = m->line_len;
        }
        p->total_in_bits += m->in_bits;
        p->bad += m->expect != BS_OK;
    }
    return 0;

nomem:
    snprintf(err, errlen,
             "message pool: out of memory making %zu messages "
             "of up to %" PRIu64 " bits; use fewer or smaller messages",
             c->count, c->max_bits);
    bs_bench_pool_free(p);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Streamed messages */

static void stream_start(struct bs_bench_stream_spec *dst,
                         struct bs_bench_rng *rng, struct bs_stream *st,
                         uint64_t *left,
                         const struct bs_bench_stream_spec *spec)
{
    *dst = *spec;
    bs_bench_rng_seed(rng, spec->seed);
    bs_stream_init(st, (enum bs_rule) spec->rule, BS_DIR_STUFF);
    *left = spec->data_bits;
}

/* The next data bits of a stream into buf (BS_BENCH_GEN_DATA bytes):
 * returns the bit count.  Both ends draw the same bytes in the same
 * steps, so they see the same data. */
static size_t next_data(struct bs_bench_rng *rng, uint64_t *left, uint8_t *buf)
{
    size_t n = *left < (uint64_t) BS_BENCH_GEN_DATA * 8 ? (size_t) *left
                                                        : BS_BENCH_GEN_DATA * 8;

    bs_bench_rng_fill(rng, buf, bs_bytes_for_bits(n));
    mask_tail(buf, n);
    *left -= n;
    return n;
}

void bs_bench_gen_init(struct bs_bench_gen *g,
                       const struct bs_bench_stream_spec *spec)
{
    stream_start(&g->spec, &g->rng, &g->st, &g->left, spec);
    g->emitted = 0;
    g->done = 0;
}

int bs_bench_gen_next(struct bs_bench_gen *g, uint8_t *out, size_t cap,
                      size_t *nbits, int *last)
{
    size_t n, len = 0, fin = 0;
    uint64_t total;

    if (g->done || cap < BS_BENCH_GEN_CHUNK) {
        return -1;
    }
    if (g->spec.op == BS_DIR_STUFF) {
        n = next_data(&g->rng, &g->left, out);
        *nbits = n;
        g->emitted += n;
        *last = g->done = g->left == 0;
        return 0;
    }
    n = next_data(&g->rng, &g->left, g->data);
    if (bs_stream_update(&g->st, g->data, n, out, cap, &len) != BS_OK) {
        return -1;
    }
    if (g->left > 0) {
        *nbits = len * 8;
        g->emitted += *nbits;
        *last = 0;
        return 0;
    }
    if (bs_stream_finish(&g->st, out + len, cap - len, &fin, &total) != BS_OK) {
        return -1;
    }
    *nbits = (size_t) (total - g->emitted);
    g->emitted = total;
    *last = g->done = 1;
    return 0;
}

void bs_bench_check_init(struct bs_bench_check *c,
                         const struct bs_bench_stream_spec *spec)
{
    c->spec = *spec;
    bs_bench_rng_seed(&c->rng, spec->seed);
    /* a stuff reply is unstuffed; an unstuff reply is the data itself */
    bs_stream_init(&c->st, (enum bs_rule) spec->rule, BS_DIR_UNSTUFF);
    c->left = spec->data_bits;
    c->got = c->checked = 0;
    c->pos = c->len = 0;
    c->finished = c->bad = 0;
}

/* Generate the next data bits: called only when none are left unchecked. */
static void check_refill(struct bs_bench_check *c)
{
    c->pos = 0;
    c->len = next_data(&c->rng, &c->left, c->buf);
    c->finished = c->left == 0;
}

static int bit_at(const uint8_t *p, uint64_t i)
{
    return (p[i / 8] >> (7 - i % 8)) & 1;
}

static int bits_equal_slow(const uint8_t *exp, uint64_t exp_off,
                           const uint8_t *got, uint64_t got_off, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (bit_at(exp, exp_off + i) != bit_at(got, got_off + i)) {
            return 0;
        }
    }
    return 1;
}

/* Compare nbits data bits (from the start of data) with the next ones
 * generated.  Returns 0 if they match, -1 if not or if there are more. */
static int check_data(struct bs_bench_check *c, const uint8_t *data,
                      size_t nbits)
{
    size_t done = 0, avail, n;

    /* Pieces split here stay byte-aligned in practice (generation steps
     * are whole bytes but the last); odd splits take the slow path. */
    while (done < nbits) {
        avail = c->len - c->pos;
        if (avail == 0) {
            if (c->finished) {
                return -1; /* more than the data */
            }
            check_refill(c);
            continue;
        }
        n = nbits - done < avail ? nbits - done : avail;
        if (done % 8 != 0
                ? !bits_equal_slow(c->buf, c->pos, data, done, n)
                : !bs_bench_bits_equal(c->buf, c->pos, data + done / 8, n))
        {
            return -1;
        }
        c->pos += n;
        c->checked += n;
        done += n;
    }
    return 0;
}

int bs_bench_check_feed(struct bs_bench_check *c, const uint8_t *data,
                        size_t nbits)
{
    size_t done = 0, n, out;

    if (c->bad) {
        return -1;
    }
    c->got += nbits;
    if (c->spec.op == BS_DIR_UNSTUFF) {
        c->bad = check_data(c, data, nbits) != 0;
        return c->bad ? -1 : 0;
    }
    /* Steps of whole bytes, so each one starts at a byte of data. */
    while (done < nbits) {
        n = nbits - done < BS_BENCH_CHECK_STEP ? nbits - done
                                               : BS_BENCH_CHECK_STEP;
        out = 0;
        if (bs_stream_update(&c->st, data + done / 8, n, c->plain,
                             sizeof(c->plain), &out) != BS_OK ||
            check_data(c, c->plain, out * 8) != 0 ||
            bs_stream_out_bits(&c->st) > c->spec.data_bits)
        {
            c->bad = 1; /* not a stuffing, other data, or too long */
            return -1;
        }
        done += n;
    }
    return 0;
}

int bs_bench_check_end(struct bs_bench_check *c)
{
    if (c->bad) {
        return -1;
    }
    if (c->spec.op == BS_DIR_STUFF) {
        uint8_t last = 0;
        size_t n = 0;
        uint64_t total = 0;

        /* the stuffed bit still due, if any, is missing: an error */
        if (bs_stream_finish(&c->st, &last, 1, &n, &total) != BS_OK ||
            total != c->spec.data_bits ||
            check_data(c, &last, (size_t) (total - c->checked)) != 0)
        {
            c->bad = 1;
            return -1;
        }
    }
    /* Data of length 0 (or ending on a step boundary) may still owe a
     * refill that produces nothing. */
    while (c->pos == c->len && !c->finished) {
        check_refill(c);
    }
    if (c->pos != c->len) {
        c->bad = 1;
        return -1;
    }
    return 0;
}
