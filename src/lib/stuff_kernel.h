/*
 * stuff_kernel.h - the stuffing kernels behind stuff.h.  Internal: for the
 * library itself, its tests and its benchmarks, not for applications.
 *
 * A kernel is one implementation of the stuffing engine.  Kernel 0 is the
 * reference, one bit at a time, available everywhere; the others are
 * faster and give the same output, errors and offsets for every input.
 * The fast kernels handle every rule in 64-bit words and hand everything
 * else (tails shorter than a word, a word that holds an error, a pending
 * HDLC flag) to the reference loop.
 *
 * The kernel is a property of a stream, chosen when it is initialised;
 * bs_stream_init() and the one-shot calls use bs_kernel_best().
 */
#ifndef BS_STUFF_KERNEL_H
#define BS_STUFF_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "stuff.h"

/*
 * The rule table.  Everything the engines know about a rule is here; a
 * new rule is one entry in stuff.c (and its enum value in stuff.h).
 *
 * run:    length of the run that triggers an inserted bit.
 * compl:  0: runs of 1s, the inserted bit is 0 and ends the run;
 *         1: runs of identical bits, the inserted bit is their complement
 *            and starts the next run (so later insertions come every
 *            run - 1 bits while the data repeats).
 * flag:   unstuffing: a 1 where the inserted 0 is due is an HDLC flag or
 *         abort, told apart by the next bit (BS_ERR_FLAG, BS_ERR_ABORT);
 *         otherwise it is BS_ERR_STUFF_BIT.
 * word:   the word-engine shape that runs the rule (stuff_word.c);
 *         BS_WORD_NONE, or a shape the word engines do not specialise for
 *         this run, keeps the rule on the reference loop.
 * Worst-case growth follows from run and compl: (run + 1) / run for runs
 * of 1s, run / (run - 1) with the complement.
 */
enum bs_word_shape {
    BS_WORD_NONE = 0, /* reference loop only */
    BS_WORD_ONES = 1, /* run of 1s, insert 0: specialised for runs 5, 6 */
    BS_WORD_COMPL = 2 /* run of equal bits, insert complement: run 5 */
};

struct bs_rule_info {
    const char *name;
    uint8_t run;
    uint8_t compl ;
    uint8_t flag;
    uint8_t word; /* enum bs_word_shape */
};

/* The entry of a valid rule, or NULL. */
const struct bs_rule_info *bs_rule_info(unsigned rule);

/* The kernels, in order of preference when supported. */
enum bs_kernel {
    BS_KERNEL_REFERENCE = 0, /* bit at a time, the specification */
    BS_KERNEL_PORTABLE = 1,  /* 64-bit words, plain C */
    BS_KERNEL_BMI2 = 2,      /* 64-bit words, pdep/pext (x86-64 BMI2) */
    BS_KERNEL_AVX2 = 3,      /* BMI2 words; text converted with AVX2 */
    BS_KERNEL_AVX512 = 4,    /* BMI2 words; text converted with AVX-512BW */
};

/* Number of kernels; indices are 0 .. bs_kernel_count() - 1. */
size_t bs_kernel_count(void);

/* "reference", "portable", "bmi2", "avx2", "avx512"; NULL for a bad
 * index. */
const char *bs_kernel_name(size_t kernel);

/* Index of the kernel called name, or -1 if there is none. */
int bs_kernel_find(const char *name);

/* 1 if this CPU can run the kernel, else 0 (also for a bad index). */
int bs_kernel_supported(size_t kernel);

/* The fastest supported kernel on this CPU. */
size_t bs_kernel_best(void);

/* bs_stream_init() with a given kernel.  BS_ERR_ARG for a bad rule,
 * direction or kernel index, or a kernel this CPU cannot run. */
bs_status bs_stream_init_kernel(struct bs_stream *st, enum bs_rule rule,
                                enum bs_dir dir, size_t kernel);

/*
 * The word engines (stuff_word.c), called by stuff.c only.
 *
 * Preconditions: st->rule is a valid rule, st->pending is 0, kernel is a
 * supported fast kernel.  They process whole 64-bit words (packed: 8 bytes
 * from in; text: 64 characters) while at least a word of input is left,
 * the output has room for the word's widest stores, and the word holds no
 * error (a bad character, a stuffed bit of the wrong value).  They update
 * st (counters, run, last bit, pending output bits) exactly as the reference
 * loop would for the same bits, write the same output, set *out_len to bytes
 * (packed) or characters (text) written, and return the number of input
 * bits consumed, a multiple of 64.  A word they stop at is left for the
 * reference loop, which reports its error with the exact offset.
 */
size_t bs_word_update(struct bs_stream *st, enum bs_kernel kernel,
                      const uint8_t *in, size_t in_bits, uint8_t *out,
                      size_t cap, size_t *out_len);
size_t bs_word_update_text(struct bs_stream *st, enum bs_kernel kernel,
                           const char *in, size_t in_len, char *out, size_t cap,
                           size_t *out_len);

#endif /* BS_STUFF_KERNEL_H */
