/*
 * bench_msg.h - the load generator's messages and their expected replies.
 *
 * Everything is generated from a seed, so a run can be repeated, and every
 * reply is checked against the reference stuffing library:
 *
 *   - a pool of messages (small and medium sizes) made once at start, each
 *     with its expected reply computed by bs_stuff/bs_unstuff, so checking
 *     a reply is a memcmp;
 *   - streamed messages (any size, e.g. 100 MB) whose data come from a
 *     seeded PRNG in chunks, and whose reply is checked as it arrives by a
 *     second generator running a bs_stream over the same data: memory stays
 *     bounded whatever the size.
 *
 * Pure code: no I/O, no threads, no global state.  Allocation happens only
 * when a pool is built.
 */
#ifndef BS_BENCH_MSG_H
#define BS_BENCH_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "stuff.h"

/* xoshiro256**: fast, good enough for test data, never for secrets. */
struct bs_bench_rng {
    uint64_t s[4];
};

void bs_bench_rng_seed(struct bs_bench_rng *r, uint64_t seed);
uint64_t bs_bench_rng_next(struct bs_bench_rng *r);
/* Uniform in [0, n) (n > 0; 0 for n == 0). */
uint64_t bs_bench_rng_below(struct bs_bench_rng *r, uint64_t n);
/* n random bytes. */
void bs_bench_rng_fill(struct bs_bench_rng *r, uint8_t *buf, size_t n);

/* Operation and rule choices; MIXED picks one at random per message. */
enum bs_bench_op {
    BS_BENCH_OP_STUFF = 0,
    BS_BENCH_OP_UNSTUFF = 1,
    BS_BENCH_OP_MIXED = 2,
};
#define BS_BENCH_RULE_MIXED 3 /* next to enum bs_rule's 0..2 */

/*
 * True if nbits bits of got (from its first bit) equal the bits of exp
 * starting at bit offset exp_off.  Bits of got past nbits are ignored.
 */
int bs_bench_bits_equal(const uint8_t *exp, uint64_t exp_off,
                        const uint8_t *got, size_t nbits);

/* ------------------------------------------------------------------ */
/* Pool */

/*
 * One request and its expected reply.  Packed buffers, bits past the count
 * are 0.  For an invalid unstuff request (expect != BS_OK) out/out_bits is
 * what bs_unstuff wrote before the bad bit: the server may send a prefix
 * of it in 'R' chunks before its 'E' frame.
 *
 * Text form (pool built with text != 0): line is the whole request line,
 * LF included; reply is the expected reply line for a good message, or
 * for a bad one its start "ERR <code> <name> <offset> " (the message text
 * after it is the server's to choose, up to the LF).
 */
struct bs_bench_msg {
    uint8_t op;   /* enum bs_dir */
    uint8_t rule; /* enum bs_rule */
    uint8_t expect;
    uint64_t err_offset; /* valid when expect != BS_OK */
    uint8_t *in;
    size_t in_bits;
    uint8_t *out;
    size_t out_bits;
    char *line;
    size_t line_len;
    char *reply;
    size_t reply_len;
};

struct bs_bench_pool_config {
    size_t count;      /* distinct messages, >= 1 */
    uint64_t min_bits; /* message size range of the data, in bits */
    uint64_t max_bits;
    enum bs_bench_op op;
    int rule;      /* enum bs_rule or BS_BENCH_RULE_MIXED */
    double errors; /* fraction of unstuff (or text) requests made bad */
    int text;      /* also build the text lines */
    uint64_t seed;
};

struct bs_bench_pool {
    struct bs_bench_msg *msg; /* owned; count entries */
    size_t count;
    size_t max_in_bytes;    /* largest in, for sizing send buffers */
    size_t max_line;        /* largest text line */
    uint64_t total_in_bits; /* sum of in_bits over the pool */
    size_t bad;             /* messages expecting an error reply */
};

/*
 * Build a pool.  Returns 0, or -1 with err filled (out of memory, bad
 * configuration).  On failure nothing is left allocated.  For an unstuff
 * message the data of the drawn size is stuffed first, so in is valid
 * stuffed data (longer than the drawn size) and out is the data itself.
 * A bad message is made by overwriting 7 bits of a stuffed one with 1s
 * (unstuff; the reference says which error and where), or by putting a
 * '2' into the bits of a text line (stuff, text form only).
 */
int bs_bench_pool_build(struct bs_bench_pool *p,
                        const struct bs_bench_pool_config *c, char *err,
                        size_t errlen);
void bs_bench_pool_free(struct bs_bench_pool *p); /* zeroed; NULL ok */

/* ------------------------------------------------------------------ */
/* Streamed messages */

/* What both ends of a streamed message agree on. */
struct bs_bench_stream_spec {
    uint64_t seed;
    uint64_t data_bits; /* bits of generated data */
    uint8_t op;         /* enum bs_dir */
    uint8_t rule;       /* enum bs_rule */
};

/* Largest chunk bs_bench_gen_next writes, in bytes (<= 64 KiB), and the
 * data generated per step (its stuffing still fits in a chunk). */
#define BS_BENCH_GEN_CHUNK 65536u
#define BS_BENCH_GEN_DATA  49152u
/* Reply bits unstuffed per step by the checker. */
#define BS_BENCH_CHECK_STEP (8u * 16384u)

/*
 * Request generator: yields the request payload (the data for stuff, the
 * stuffing of the data for unstuff) in chunks of at most
 * BS_BENCH_GEN_CHUNK bytes.
 */
struct bs_bench_gen {
    struct bs_bench_stream_spec spec;
    struct bs_bench_rng rng;
    struct bs_stream st;
    uint64_t left;    /* data bits still to generate */
    uint64_t emitted; /* payload bits given out */
    int done;
    uint8_t data[BS_BENCH_GEN_DATA];
};

void bs_bench_gen_init(struct bs_bench_gen *g,
                       const struct bs_bench_stream_spec *spec);
/*
 * Write the next chunk into out (cap >= BS_BENCH_GEN_CHUNK) and its bit
 * count into *nbits; *last is set on the final chunk.  Returns 0, or -1
 * when the generator is already done.
 */
int bs_bench_gen_next(struct bs_bench_gen *g, uint8_t *out, size_t cap,
                      size_t *nbits, int *last);

/*
 * Reply checker: checks reply payload, fed in pieces of any bit count,
 * against the data regenerated on the fly.  A stuffed reply is unstuffed
 * and compared with the data: unstuffing is strict (a wrong stuffed bit or
 * a missing last one is an error), so it accepts exactly the stuffing of
 * the data, at twice the speed of stuffing the data again, and it checks
 * the server's stuffing with the other half of the library.
 */
struct bs_bench_check {
    struct bs_bench_stream_spec spec;
    struct bs_bench_rng rng;
    struct bs_stream st; /* stuff replies: their unstuffing */
    uint64_t left;       /* data bits still to generate */
    uint64_t got;        /* reply bits fed so far */
    uint64_t checked;    /* data bits compared so far */
    size_t pos, len;     /* unchecked data bits in buf: [pos, len) */
    int finished;        /* all the data has been generated */
    int bad;             /* a mismatch was seen */
    uint8_t buf[BS_BENCH_GEN_DATA + 8];
    /* unstuffed reply bits: bs_stream_out_max of a step, its bits and
     * the up to 7 held from the step before */
    uint8_t plain[BS_BENCH_CHECK_STEP / 8 + 1];
};

void bs_bench_check_init(struct bs_bench_check *c,
                         const struct bs_bench_stream_spec *spec);
/* Check nbits more reply bits.  Returns 0 if they match, -1 if not (too
 * many bits, or different ones; sticky). */
int bs_bench_check_feed(struct bs_bench_check *c, const uint8_t *data,
                        size_t nbits);
/* The reply ended: 0 if exactly the expected bits came, else -1. */
int bs_bench_check_end(struct bs_bench_check *c);

#endif /* BS_BENCH_MSG_H */
