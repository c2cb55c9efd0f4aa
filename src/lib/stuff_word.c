/*
 * stuff_word.c - the word engines: HDLC and USB stuffing 64 bits at a time.
 *
 * A word x holds 64 input bits, the first in bit 63.  For a run rule of
 * R 1s, e = x & x>>1 & ... & x>>(R-1) (with the run carried in from the
 * previous word shifted in at the top) marks every bit that completes R
 * 1s in a row.  Unstuffing drops the bit after each such mark, and a 1
 * there is an error.  Stuffing marks the first completion of each run and
 * then every R-th bit after it while the run lasts, because the inserted 0
 * restarts the count.  The zeros are then inserted (stuffing) or the
 * marked bits removed (unstuffing) either one at a time in plain C or all
 * at once with the BMI2 deposit and extract instructions.
 *
 * Every step is checked against the reference loop in stuff.c by
 * tests/unit/test_kernels.c and tests/fuzz/fuzz_kernels.c.
 */
#include <string.h>

#include "stuff_kernel.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define BS_X86 1
#include <immintrin.h>
#else
#define BS_X86 0
#endif

/* The drivers below are written once and specialised by their constant
 * arguments; forcing the inlining is what makes that free. */
#define BS_INLINE inline __attribute__((always_inline))

#define ONES8  UINT64_C(0x0101010101010101)
#define CHARS0 UINT64_C(0x3030303030303030) /* eight '0' */
#define CHARS1 UINT64_C(0x3131313131313131) /* eight '1' */
#define BITSEL UINT64_C(0x0102040810204080) /* byte k keeps bit 7-k */
#define GATHER UINT64_C(0x8040201008040201) /* 8 byte LSBs -> top byte */
#define EVEN   UINT64_C(0x5555555555555555)
#define ODD    UINT64_C(0xaaaaaaaaaaaaaaaa)
#define LOW32  UINT64_C(0xffffffff)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BS_LITTLE 1
#else
#define BS_LITTLE 0
#endif

/* memcpy, not a cast: the input and output may sit at any address. */
static BS_INLINE uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;

    if (BS_LITTLE) {
        memcpy(&v, p, 8);
        return __builtin_bswap64(v);
    }
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static BS_INLINE void store_be64(uint8_t *p, uint64_t v)
{
    if (BS_LITTLE) {
        v = __builtin_bswap64(v);
        memcpy(p, &v, 8);
        return;
    }
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t) (v >> (56 - 8 * i));
    }
}

static BS_INLINE uint64_t load_le64(const char *p)
{
    uint64_t v = 0;

    if (BS_LITTLE) {
        memcpy(&v, p, 8);
        return v;
    }
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | (uint8_t) p[i];
    }
    return v;
}

static BS_INLINE void store_le64(char *p, uint64_t v)
{
    if (BS_LITTLE) {
        memcpy(p, &v, 8);
        return;
    }
    for (int i = 0; i < 8; i++) {
        p[i] = (char) (uint8_t) (v >> (8 * i));
    }
}

/* Count trailing zeros, 64 for 0. */
static BS_INLINE unsigned ctz64(uint64_t x)
{
    return x == 0 ? 64 : (unsigned) __builtin_ctzll(x);
}

/* Bits of x that complete `r` 1s in a row, after `run` 1s before x. */
static BS_INLINE uint64_t run_ends(uint64_t x, unsigned run, unsigned r)
{
    uint64_t prev = (UINT64_C(1) << run) - 1;
    uint64_t e = x;

    for (unsigned k = 1; k < r; k++) {
        e &= x >> k | prev << (64 - k);
    }
    return e;
}

/* Stuffing: the bits after which a 0 goes, given the run ends e. */
static BS_INLINE uint64_t stuff_marks(uint64_t e, unsigned r)
{
    uint64_t t = e & ~(e >> 1);
    uint64_t s = t;

    /* runs of 2r or more 1s need more than one 0; rare in real data */
    while ((t = t >> r & e) != 0) {
        s |= t;
    }
    return s;
}

/*
 * Insert a 0 after each marked bit of the 32-bit value h (first bit in
 * bit 31).  Returns the result left-aligned in 64 bits; *w gets its width.
 */
static BS_INLINE uint64_t insert_portable(uint64_t h, uint64_t m, unsigned *w)
{
    uint64_t v = h << 32;

    m <<= 32;
    *w = 32;
    /* the latest mark first, so earlier ones keep their positions */
    while (m != 0) {
        uint64_t below = (m & -m) - 1;
        v = (v & ~below) | (v & below) >> 1;
        m &= m - 1;
        (*w)++;
    }
    return v;
}

/* Remove the marked bits of x; the result is left-aligned, width in *w. */
static BS_INLINE uint64_t remove_portable(uint64_t x, uint64_t d, unsigned *w)
{
    *w = 64;
    while (d != 0) {
        uint64_t below = (d & -d) - 1;
        x = (x & ~(below << 1 | 1)) | (x & below) << 1;
        d &= d - 1;
        (*w)--;
    }
    return x;
}

#if BS_X86
#define BS_TARGET_BMI2 __attribute__((target("bmi,bmi2,popcnt")))
#define BS_TARGET_AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt")))

/* Spread h over the odd bits, so each bit has an empty slot after it,
 * then keep the odd bits and the slots after marked bits. */
static inline BS_TARGET_BMI2 uint64_t insert_bmi2(uint64_t h, uint64_t m,
                                                  unsigned *w)
{
    uint64_t spread = _pdep_u64(h, ODD);
    uint64_t keep = ODD | _pdep_u64(m, EVEN);

    *w = 32 + (unsigned) _mm_popcnt_u64(m);
    return _pext_u64(spread, keep) << (64 - *w);
}

static inline BS_TARGET_BMI2 uint64_t remove_bmi2(uint64_t x, uint64_t d,
                                                  unsigned *w)
{
    *w = 64 - (unsigned) _mm_popcnt_u64(d);
    return _pext_u64(x, ~d) << (64 - *w);
}

/* 64 characters to a word; 0 if one is not '0' or '1'.  Reversing the
 * bytes of each lane puts the first character in the top mask bit. */
static inline BS_TARGET_AVX2 int load_text_avx2(const char *p, uint64_t *x)
{
    const __m256i one = _mm256_set1_epi8('1');
    const __m256i lsb = _mm256_set1_epi8(1);
    const __m256i rev =
        _mm256_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
                         15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m256i a = _mm256_loadu_si256((const __m256i *) (const void *) p);
    __m256i b = _mm256_loadu_si256((const __m256i *) (const void *) (p + 32));
    __m256i ok =
        _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_or_si256(a, lsb), one),
                         _mm256_cmpeq_epi8(_mm256_or_si256(b, lsb), one));
    uint32_t ma, mb;

    if (_mm256_movemask_epi8(ok) != -1) {
        return 0;
    }
    /* bit 0 of each character moved to bit 7, where movemask reads */
    ma = (uint32_t) _mm256_movemask_epi8(
        _mm256_slli_epi16(_mm256_shuffle_epi8(a, rev), 7));
    mb = (uint32_t) _mm256_movemask_epi8(
        _mm256_slli_epi16(_mm256_shuffle_epi8(b, rev), 7));
    ma = ma << 16 | ma >> 16;
    mb = mb << 16 | mb >> 16;
    *x = (uint64_t) ma << 32 | mb;
    return 1;
}

/* Write the 64 bits of v (first in bit 63) as 64 characters. */
static inline BS_TARGET_AVX2 void store_text_avx2(char *p, uint64_t v)
{
    const __m256i idx0 =
        _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
                         2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i idx1 =
        _mm256_setr_epi8(4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6,
                         6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7);
    const __m256i sel = _mm256_set1_epi64x((long long) BITSEL);
    const __m256i zero = _mm256_set1_epi8('0');
    __m256i all = _mm256_set1_epi64x((long long) __builtin_bswap64(v));
    __m256i c0 = _mm256_cmpeq_epi8(
        _mm256_and_si256(_mm256_shuffle_epi8(all, idx0), sel), sel);
    __m256i c1 = _mm256_cmpeq_epi8(
        _mm256_and_si256(_mm256_shuffle_epi8(all, idx1), sel), sel);

    /* '0' - (-1) is '1' */
    _mm256_storeu_si256((__m256i *) (void *) p, _mm256_sub_epi8(zero, c0));
    _mm256_storeu_si256((__m256i *) (void *) (p + 32),
                        _mm256_sub_epi8(zero, c1));
}
#endif /* BS_X86 */

/* 64 characters to a word, 8 at a time; 0 if one is not '0' or '1'. */
static BS_INLINE int load_text_portable(const char *p, uint64_t *x)
{
    uint64_t acc = 0, bad = 0;

    for (int g = 0; g < 8; g++) {
        uint64_t v = load_le64(p + 8 * g);
        bad |= (v | ONES8) ^ CHARS1;
        acc = acc << 8 | ((v & ONES8) * GATHER) >> 56;
    }
    *x = acc;
    return bad == 0;
}

/* Write the top groups*8 bits of v as characters, 8 at a time. */
static BS_INLINE void store_text_portable(char *p, uint64_t v, int groups)
{
    for (int g = 0; g < groups; g++) {
        uint64_t c = ((v >> (56 - 8 * g)) & 0xff) * ONES8 & BITSEL;
        /* a byte is 0 or a single bit up to 0x80: adding 0x7f sets bit 7
         * exactly when the bit was there, without carrying */
        c = ((c + 0x7f * ONES8) >> 7 & ONES8) + CHARS0;
        store_le64(p + 8 * g, c);
    }
}

enum impl { IMPL_PORTABLE, IMPL_BMI2, IMPL_AVX2 };

static BS_INLINE uint64_t insert_zeros(enum impl im, uint64_t h, uint64_t m,
                                       unsigned *w)
{
#if BS_X86
    if (im != IMPL_PORTABLE) {
        return insert_bmi2(h, m, w);
    }
#endif
    (void) im;
    return insert_portable(h, m, w);
}

static BS_INLINE uint64_t remove_bits(enum impl im, uint64_t x, uint64_t d,
                                      unsigned *w)
{
#if BS_X86
    if (im != IMPL_PORTABLE) {
        return remove_bmi2(x, d, w);
    }
#endif
    (void) im;
    return remove_portable(x, d, w);
}

/* Packed output: whole bytes go out, up to 7 bits wait in acc (top). */
struct bitw {
    uint8_t *p;
    uint64_t acc;
    unsigned nb;
};

/* Append the top w bits of v (the rest 0), w <= 64.  Always stores 8
 * bytes, so the caller keeps 8 bytes of room. */
static BS_INLINE void put_bits(struct bitw *b, uint64_t v, unsigned w)
{
    unsigned total = b->nb + w;
    uint64_t first = b->acc | v >> b->nb;
    uint64_t spill = v << (63 - b->nb) << 1; /* what did not fit, if any */
    unsigned bytes = total / 8;

    store_be64(b->p, first);
    b->p += bytes;
    b->acc = total >= 64 ? spill : first << (8 * (bytes & 7));
    b->nb = total % 8;
}

/* The word loop for packed input; dir and r are constants after inlining. */
static BS_INLINE size_t packed_words(struct bs_stream *st, enum impl im,
                                     enum bs_dir dir, unsigned r,
                                     const uint8_t *in, size_t in_bits,
                                     uint8_t *out, size_t cap, size_t *out_len)
{
    struct bitw b = {out, 0, st->acc_bits};
    unsigned run = st->run;
    uint64_t produced = 0;
    size_t i = 0;

    if (b.nb > 0) {
        b.acc = (uint64_t) st->acc << (64 - b.nb);
    }
    while (in_bits - i >= 64 && cap - (size_t) (b.p - out) >= 16) {
        uint64_t x = load_be64(in + i / 8);
        uint64_t e = run_ends(x, run, r);
        unsigned w1, w2;

        if (dir == BS_DIR_STUFF) {
            uint64_t s = stuff_marks(e, r);
            uint64_t v1 = insert_zeros(im, x >> 32, s >> 32, &w1);
            uint64_t v2 = insert_zeros(im, x & LOW32, s & LOW32, &w2);
            unsigned t = ctz64(~x), q = ctz64(s);

            put_bits(&b, v1, w1);
            put_bits(&b, v2, w2);
            run = t < q ? t : q;
            produced += w1 + w2;
        } else {
            uint64_t d = e >> 1 | (uint64_t) (run == r) << 63;
            uint64_t v;

            if ((d & x) != 0) {
                break; /* a 1 where a stuffed 0 is due */
            }
            v = remove_bits(im, x, d, &w1);
            put_bits(&b, v, w1);
            /* every 0 ends a run when unstuffing, so the run depends on
             * this word alone: no chain from word to word */
            run = ctz64(~x);
            produced += w1;
        }
        i += 64;
    }
    st->in_bits += i;
    st->out_bits += produced;
    st->run = (uint8_t) run;
    st->acc = b.nb > 0 ? (uint32_t) (b.acc >> (64 - b.nb)) : 0;
    st->acc_bits = (uint8_t) b.nb;
    *out_len = (size_t) (b.p - out);
    return i;
}

static BS_INLINE int load_text(enum impl im, const char *p, uint64_t *x)
{
#if BS_X86
    if (im == IMPL_AVX2) {
        return load_text_avx2(p, x);
    }
#endif
    (void) im;
    return load_text_portable(p, x);
}

/* Write v as characters; at least `bits` of them, maybe a few more. */
static BS_INLINE void store_text(enum impl im, char *p, uint64_t v,
                                 unsigned bits)
{
#if BS_X86
    if (im == IMPL_AVX2) {
        store_text_avx2(p, v);
        return;
    }
#endif
    (void) im;
    store_text_portable(p, v, (int) (bits + 7) / 8);
}

/* The word loop for text: one character per bit, no pending bits. */
static BS_INLINE size_t text_words(struct bs_stream *st, enum impl im,
                                   enum bs_dir dir, unsigned r, const char *in,
                                   size_t in_len, char *out, size_t cap,
                                   size_t *out_len)
{
    unsigned run = st->run;
    size_t i = 0, o = 0;
    uint64_t x;

    /* the widest stores: two 64-character stores per stuffed word */
    while (in_len - i >= 64 && cap - o >= 128 && load_text(im, in + i, &x)) {
        uint64_t e = run_ends(x, run, r);
        unsigned w1, w2;

        if (dir == BS_DIR_STUFF) {
            uint64_t s = stuff_marks(e, r);
            uint64_t v1 = insert_zeros(im, x >> 32, s >> 32, &w1);
            uint64_t v2 = insert_zeros(im, x & LOW32, s & LOW32, &w2);
            unsigned t = ctz64(~x), q = ctz64(s);

            store_text(im, out + o, v1, 39);
            o += w1;
            store_text(im, out + o, v2, 39);
            o += w2;
            run = t < q ? t : q;
        } else {
            uint64_t d = e >> 1 | (uint64_t) (run == r) << 63;
            uint64_t v;

            if ((d & x) != 0) {
                break;
            }
            v = remove_bits(im, x, d, &w1);
            store_text(im, out + o, v, 64);
            o += w1;
            run = ctz64(~x);
        }
        i += 64;
    }
    st->in_bits += i;
    st->out_bits += o;
    st->run = (uint8_t) run;
    *out_len = o;
    return i;
}

/* One function per kernel and form, specialised for direction and rule. */
#define BS_SPECIALISE(call)                                                    \
    (st->dir == BS_DIR_STUFF                                                   \
         ? (st->rule == BS_RULE_USB ? call(BS_DIR_STUFF, 6)                    \
                                    : call(BS_DIR_STUFF, 5))                   \
         : (st->rule == BS_RULE_USB ? call(BS_DIR_UNSTUFF, 6)                  \
                                    : call(BS_DIR_UNSTUFF, 5)))

#define PACKED_PORTABLE(dir, r)                                                \
    packed_words(st, IMPL_PORTABLE, dir, r, in, in_bits, out, cap, out_len)
#define PACKED_BMI2(dir, r)                                                    \
    packed_words(st, IMPL_BMI2, dir, r, in, in_bits, out, cap, out_len)
#define TEXT_PORTABLE(dir, r)                                                  \
    text_words(st, IMPL_PORTABLE, dir, r, in, in_len, out, cap, out_len)
#define TEXT_BMI2(dir, r)                                                      \
    text_words(st, IMPL_BMI2, dir, r, in, in_len, out, cap, out_len)
#define TEXT_AVX2(dir, r)                                                      \
    text_words(st, IMPL_AVX2, dir, r, in, in_len, out, cap, out_len)

static size_t packed_portable(struct bs_stream *st, const uint8_t *in,
                              size_t in_bits, uint8_t *out, size_t cap,
                              size_t *out_len)
{
    return BS_SPECIALISE(PACKED_PORTABLE);
}

static size_t text_portable(struct bs_stream *st, const char *in, size_t in_len,
                            char *out, size_t cap, size_t *out_len)
{
    return BS_SPECIALISE(TEXT_PORTABLE);
}

#if BS_X86
static BS_TARGET_BMI2 size_t packed_bmi2(struct bs_stream *st,
                                         const uint8_t *in, size_t in_bits,
                                         uint8_t *out, size_t cap,
                                         size_t *out_len)
{
    return BS_SPECIALISE(PACKED_BMI2);
}

static BS_TARGET_BMI2 size_t text_bmi2(struct bs_stream *st, const char *in,
                                       size_t in_len, char *out, size_t cap,
                                       size_t *out_len)
{
    return BS_SPECIALISE(TEXT_BMI2);
}

static BS_TARGET_AVX2 size_t text_avx2(struct bs_stream *st, const char *in,
                                       size_t in_len, char *out, size_t cap,
                                       size_t *out_len)
{
    return BS_SPECIALISE(TEXT_AVX2);
}
#endif

size_t bs_word_update(struct bs_stream *st, enum bs_kernel kernel,
                      const uint8_t *in, size_t in_bits, uint8_t *out,
                      size_t cap, size_t *out_len)
{
    *out_len = 0;
#if BS_X86
    if (kernel == BS_KERNEL_BMI2 || kernel == BS_KERNEL_AVX2) {
        return packed_bmi2(st, in, in_bits, out, cap, out_len);
    }
#endif
    if (kernel == BS_KERNEL_PORTABLE) {
        return packed_portable(st, in, in_bits, out, cap, out_len);
    }
    return 0;
}

size_t bs_word_update_text(struct bs_stream *st, enum bs_kernel kernel,
                           const char *in, size_t in_len, char *out, size_t cap,
                           size_t *out_len)
{
    *out_len = 0;
#if BS_X86
    if (kernel == BS_KERNEL_AVX2) {
        return text_avx2(st, in, in_len, out, cap, out_len);
    }
    if (kernel == BS_KERNEL_BMI2) {
        return text_bmi2(st, in, in_len, out, cap, out_len);
    }
#endif
    if (kernel == BS_KERNEL_PORTABLE) {
        return text_portable(st, in, in_len, out, cap, out_len);
    }
    return 0;
}
