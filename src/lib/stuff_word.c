/*
 * stuff_word.c - the word engines: stuffing 64 bits at a time.
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
 * Speed comes from what one word leaves to the next being short to
 * compute: the run carried out depends on the word alone (unless it is
 * all 1s), and the output writer carries only a bit count and a few
 * bits, so the processor can work on several words at once.  What a word
 * needs from the previous one enters only where it is used: the carried
 * run in the word's first bits, the pending bits in its first byte.
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

/*
 * Bits of x that complete `r` 1s in a row, after `run` 1s before x.
 * Inside the word, a tree of shifted ANDs.  The run carried in only
 * counts in the top r - 1 bits, and only as far as x starts with 1s:
 * there a bit completes a run when it is 1, every bit before it in x is
 * 1, and run + its position reaches r.  A table gives the leading 1s of
 * the top bits, which is cheaper than ORing the run into every shift.
 */
static BS_INLINE uint64_t run_ends(uint64_t x, unsigned run, unsigned r)
{
    /* the leading 1s of a 4- or 5-bit value, e.g. 1101 -> 1100 */
    static const uint8_t lead4[16] = {0, 0, 0, 0, 0,  0,  0,  0,
                                      8, 8, 8, 8, 12, 12, 14, 15};
    static const uint8_t lead5[32] = {
        0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
        16, 16, 16, 16, 16, 16, 16, 16, 24, 24, 24, 24, 28, 28, 30, 31};
    uint64_t two = x & x >> 1, four = two & two >> 2;
    uint64_t e = r == 6 ? four & two >> 4 : four & x >> 4;
    /* bit k of the top bits, counted from the last of them, completes a
     * run when run > k */
    uint64_t carried =
        ((UINT64_C(1) << run) - 1) & (r == 6 ? lead5[x >> 59] : lead4[x >> 60]);

    return e | carried << (65 - r);
}

/*
 * The run a stuffing word leaves for the next one.  A 0 inside x ends the
 * carried run, so the trailing 1s of x, counted modulo r (each inserted 0
 * restarts the count), depend on x alone; only an all-ones word carries
 * the run through.  Not going through the stuffing marks keeps the chain
 * from word to word down to a compare and a select.
 */
static BS_INLINE unsigned stuff_run_out(uint64_t x, unsigned run, unsigned r)
{
    /* n % r for n = 0..64, a load instead of a multiply */
    static const uint8_t mod5[65] = {
        0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1,
        2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3,
        4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4};
    static const uint8_t mod6[65] = {
        0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3,
        4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1,
        2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4};
    unsigned through = run + 64 % r;

    through = through >= r ? through - r : through;
    if (x == UINT64_MAX) {
        return through;
    }
    return r == 6 ? mod6[ctz64(~x)] : mod5[ctz64(~x)];
}

/*
 * Stuffing: the bits after which a 0 goes, given the run ends e.  The
 * first completion of each run, then every r-th bit after it while the
 * run lasts, since the inserted 0 restarts the count.  Runs of 2r or more
 * 1s are rare in real data; for them the marks spread by doubling steps
 * (r, 2r, 4r, 8r bits), each allowed only where e holds at every step in
 * between.
 */
static BS_INLINE uint64_t stuff_marks(uint64_t e, unsigned r)
{
    uint64_t s = e & ~(e >> 1);
    uint64_t e2, e4;

    if ((s >> r & e) == 0) {
        return s;
    }
    e2 = e & e >> r;
    e4 = e2 & e2 >> 2 * r;
    s |= s >> r & e;
    s |= s >> 2 * r & e2;
    s |= s >> 4 * r & e4;
    return s | (s >> 8 * r & e4 & e4 >> 4 * r);
}

/* A stuffed word: 64 + n bits, the first in bit 63 of hi, the last n in
 * lo; the bits past the end are 0. */
struct span {
    uint64_t hi, lo;
    unsigned n;
};

/*
 * Insert a 0 after the latest marked bit of v, if there is one, and
 * return the other marks (earlier ones keep their positions).  Without a
 * mark it changes nothing, so it can run without a branch.
 */
static BS_INLINE uint64_t insert_one(struct span *v, uint64_t s)
{
    uint64_t has = s != 0, below = (s & -s) - has, after = v->hi & below;

    v->lo = v->lo >> has | after << 63;
    v->hi = (v->hi & ~below) | after >> 1;
    v->n += (unsigned) has;
    return s & (s - has);
}

/* Remove the latest marked bit of x, if there is one; the bits after it
 * move up.  Returns the other marks; *w counts the bits kept. */
static BS_INLINE uint64_t remove_one(uint64_t *x, uint64_t d, unsigned *w)
{
    uint64_t has = d != 0, low = d & -d, below = low - has;

    *x = (*x & ~(below | low)) | (*x & below) << 1;
    *w -= (unsigned) has;
    return d & (d - has);
}

/* Remove the marked bits of x; the result is left-aligned, width in *w. */
static BS_INLINE uint64_t remove_portable(uint64_t x, uint64_t d, unsigned *w)
{
    *w = 64;
    d = remove_one(&x, d, w);
    d = remove_one(&x, d, w);
    while (d != 0) {
        d = remove_one(&x, d, w);
    }
    return x;
}

/*
 * The CAN rule (after five identical bits insert their complement; the
 * inserted bit counts toward the next run) in words.  eq marks the bits
 * equal to the bit before them, so four eq bits in a row end five
 * identical bits.  Unstuffing is then local: in valid stuffed data no six
 * bits are equal, so a stuffed bit is exactly a bit after five equal ones,
 * and one equal to its predecessor is an error.  Stuffing has a chain: a
 * run that ends on an inserted bit lends it to the next run (the next
 * run's first insertion comes after 4 of its bits, not 5).  Such a run
 * follows a run of exactly 5 (or 4, 9, 10, ...) bits, and it matters only
 * when it is itself at least 4 long, one word in eight of random data; a
 * short loop settles those runs in order.
 */

/* Bits of x equal to the bit before them; for the first, the carried
 * last bit, if a run is carried. */
static BS_INLINE uint64_t can_eq(uint64_t x, unsigned run, unsigned last)
{
    uint64_t eq = ~(x ^ (x >> 1 | (uint64_t) last << 63));

    return eq & ~((uint64_t) (run == 0) << 63);
}

/* Bits that end five identical bits, the carried run of run bits
 * included; the carried run counts in the top three bits (bit 60 sees
 * it through eq's top bit). */
static BS_INLINE uint64_t can_run_ends(uint64_t eq, unsigned run)
{
    /* the leading 1s of a 3-bit value, e.g. 110 -> 110, 101 -> 100 */
    static const uint8_t lead3[8] = {0, 0, 0, 0, 4, 4, 6, 7};
    uint64_t two = eq & eq >> 1;
    uint64_t carried = ((1u << run) - 1) >> 1 & lead3[eq >> 61];

    return (two & two >> 2) | carried << 61;
}

/* Marks f, then one every 5 bits while the run goes on: m marks a bit
 * that ends six identical bits, the condition for a mark 5 bits before
 * it to be followed by one here.  Doubling steps as in stuff_marks. */
static BS_INLINE uint64_t can_spread(uint64_t f, uint64_t m)
{
    uint64_t m2, m4;

    if ((f >> 5 & m) == 0) {
        return f;
    }
    m2 = m & m >> 5;
    m4 = m2 & m2 >> 10;
    f |= f >> 5 & m;
    f |= f >> 10 & m2;
    f |= f >> 20 & m4;
    return f | (f >> 40 & m4 & m4 >> 20);
}

/* n % 5 for n = 0..68 */
static const uint8_t can_mod5[69] = {
    0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2,
    3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0,
    1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3};

/*
 * CAN stuffing: the bits of x after which a complement goes, given the
 * carried run and last bit, which it updates as the reference loop would.
 * b holds the first bits of the runs that start with a borrowed inserted
 * bit (and are 4 or more long): their first mark is their 4th bit, not
 * their 5th.  Each pass settles at least one more such run in order, so
 * b stops changing after at most one pass per run.
 */
static BS_INLINE uint64_t can_stuff_marks(uint64_t x, unsigned *run,
                                          unsigned *last)
{
    uint64_t eq = can_eq(x, *run, *last);
    uint64_t e = can_run_ends(eq, *run);
    uint64_t two = eq & eq >> 1;
    uint64_t four = two & eq >> 2;         /* ends four identical bits */
    uint64_t m = two & two >> 2 & eq >> 4; /* ends six */
    uint64_t first = e & ~(e >> 1);
    uint64_t s = can_spread(first, m);
    uint64_t starts = ~eq & four << 3; /* runs of 4 or more bits */
    uint64_t b = s >> 1 & starts, prev = 0;
    unsigned cnt;

    while (b != prev) {
        prev = b;
        s = can_spread((first & ~(b >> 4)) | (b >> 3 & four), m);
        b = s >> 1 & starts;
    }
    /* the last run: its length, plus the inserted bit it borrowed */
    if (~eq == 0) {
        cnt = *run + 64;
    } else {
        unsigned t = (unsigned) __builtin_ctzll(~eq) + 1;
        cnt = t + (t < 64 ? (unsigned) (s >> t) & 1u : 0);
    }
    cnt = can_mod5[cnt];
    *run = cnt == 0 ? 1 : cnt;
    *last = (unsigned) (x & 1) ^ (cnt == 0);
    return s;
}

/*
 * CAN unstuffing: the stuffed bits of x, given the carried run; 0 in *ok
 * when one of them equals the bit before it (an error for the reference
 * loop to report).  The run and last bit left depend on x alone.
 */
static BS_INLINE uint64_t can_unstuff_marks(uint64_t x, unsigned *run,
                                            unsigned *last, int *ok)
{
    uint64_t eq = can_eq(x, *run, *last);
    uint64_t d = can_run_ends(eq, *run) >> 1 | (uint64_t) (*run == 5) << 63;

    *ok = (d & eq) == 0;
    /* no error: no six equal bits, so the last run is 1..5 bits, all in x */
    *run = ctz64(~eq) + 1;
    *last = (unsigned) (x & 1);
    return d;
}

/* Insert after the latest marked bit of v the complement of that bit. */
static BS_INLINE uint64_t insert_one_compl(struct span *v, uint64_t s)
{
    uint64_t has = s != 0, low = s & -s, below = low - has;
    uint64_t after = v->hi & below, comp = has & ((v->hi & low) == 0);

    v->lo = v->lo >> has | after << 63 | (comp & low) << 63;
    v->hi = (v->hi & ~below) | after >> 1 | (comp * low) >> 1;
    v->n += (unsigned) has;
    return s & (s - has);
}

/* insert_one, or with compl (a constant after inlining) insert_one_compl. */
static BS_INLINE uint64_t insert_next(struct span *v, uint64_t s, int compl )
{
    return compl ? insert_one_compl(v, s) : insert_one(v, s);
}

#if BS_X86
#define BS_TARGET_BMI2 __attribute__((target("bmi,bmi2,popcnt")))
#define BS_TARGET_AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt")))
#define BS_TARGET_AVX512                                                       \
    __attribute__((target("avx512f,avx512bw,avx2,bmi,bmi2,popcnt")))

/* Spread each 32-bit half over the odd bits, so each bit has an empty
 * slot after it (or, with compl, one holding its complement), then keep
 * the odd bits and the slots after marked bits.
 * The halves come out right-aligned: h1 of 32 + n1 bits, h2 of the rest. */
static inline BS_TARGET_BMI2 struct span insert_bmi2(uint64_t x, uint64_t s,
                                                     int compl )
{
    uint64_t y1 = _pdep_u64(x >> 32, ODD), y2 = _pdep_u64(x, ODD);
    uint64_t h1, h2;
    unsigned n1 = (unsigned) _mm_popcnt_u64(s >> 32);
    struct span v;

    if (compl ) {
        /* CAN: each slot holds the complement of the bit before it */
        y1 |= (y1 ^ ODD) >> 1;
        y2 |= (y2 ^ ODD) >> 1;
    }
    h1 = _pext_u64(y1, ODD | _pdep_u64(s >> 32, EVEN));
    h2 = _pext_u64(y2, ODD | _pdep_u64(s, EVEN));
    v.n = (unsigned) _mm_popcnt_u64(s);
    v.hi = h1 << (32 - n1) | h2 >> v.n;
    v.lo = h2 << 1 << (63 - v.n);
    return v;
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
    const __m256i zero = _mm256_set1_epi64x((long long) CHARS0);
    const __m256i high = _mm256_set1_epi8((char) 0xfe);
    const __m256i rev =
        _mm256_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
                         15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m256i a = _mm256_loadu_si256((const __m256i *) (const void *) p);
    __m256i b = _mm256_loadu_si256((const __m256i *) (const void *) (p + 32));
    uint32_t ma, mb;

    /* '0' and '1' differ from '0' in bit 0 at most */
    if (!_mm256_testz_si256(_mm256_or_si256(_mm256_xor_si256(a, zero),
                                            _mm256_xor_si256(b, zero)),
                            high))
    {
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

/* Write the top 16 bits of v as 16 characters. */
static inline BS_TARGET_AVX2 void store_text16_avx2(char *p, uint64_t v)
{
    const __m128i idx =
        _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m128i sel = _mm_set1_epi64x((long long) BITSEL);
    __m128i all = _mm_set1_epi64x((long long) __builtin_bswap64(v));
    __m128i c =
        _mm_cmpeq_epi8(_mm_and_si128(_mm_shuffle_epi8(all, idx), sel), sel);

    _mm_storeu_si128((__m128i *) (void *) p,
                     _mm_sub_epi8(_mm_set1_epi8('0'), c));
}

/* Reverse the 64 bytes of v: within each 128-bit lane, then the lanes.
 * A mask register's bit i is byte i, and our words put the first
 * character in bit 63, so characters go through this on the way in and
 * out. */
static inline BS_TARGET_AVX512 __m512i reverse_bytes_avx512(__m512i v)
{
    const __m512i rev = _mm512_broadcast_i32x4(
        _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));

    v = _mm512_shuffle_epi8(v, rev);
    return _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(0, 1, 2, 3));
}

/* 64 characters to a word in one vector; 0 if one is not '0' or '1'. */
static inline BS_TARGET_AVX512 int load_text_avx512(const char *p, uint64_t *x)
{
    __m512i v = _mm512_loadu_si512((const void *) p);

    /* '0' and '1' differ from '0' in bit 0 at most */
    if (_mm512_cmpneq_epi8_mask(
            _mm512_and_si512(v, _mm512_set1_epi8((char) 0xfe)),
            _mm512_set1_epi8('0')) != 0)
    {
        return 0;
    }
    *x = _mm512_test_epi8_mask(reverse_bytes_avx512(v), _mm512_set1_epi8(1));
    return 1;
}

/* Write the 64 bits of v (first in bit 63) as 64 characters. */
static inline BS_TARGET_AVX512 void store_text_avx512(char *p, uint64_t v)
{
    __m512i c = _mm512_mask_blend_epi8((__mmask64) v, _mm512_set1_epi8('0'),
                                       _mm512_set1_epi8('1'));

    _mm512_storeu_si512((void *) p, reverse_bytes_avx512(c));
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

enum impl { IMPL_PORTABLE, IMPL_BMI2, IMPL_AVX2, IMPL_AVX512 };

/* Insert after each marked bit of x a 0, or with compl its complement. */
static BS_INLINE struct span insert_bits(enum impl im, uint64_t x, uint64_t s,
                                         int compl )
{
    struct span v = {x, 0, 0};

#if BS_X86
    if (im != IMPL_PORTABLE) {
        return insert_bmi2(x, s, compl );
    }
#endif
    (void) im;
    /* Random data has two marks or fewer in nine words of ten: those
     * take no branch that could be mispredicted. */
    s = insert_next(&v, s, compl );
    s = insert_next(&v, s, compl );
    while (s != 0) {
        s = insert_next(&v, s, compl );
    }
    return v;
}

/* Stuff one word under the rule of shape compl and run r (constants
 * after inlining), updating the carried run and last bit. */
static BS_INLINE struct span stuff_word(enum impl im, int compl, unsigned r,
                                        uint64_t x, unsigned *run,
                                        unsigned *last)
{
    struct span v;

    if (compl ) {
        uint64_t s = can_stuff_marks(x, run, last);
        return insert_bits(im, x, s, 1);
    }
    v = insert_bits(im, x, stuff_marks(run_ends(x, *run, r), r), 0);
    *run = stuff_run_out(x, *run, r);
    return v;
}

/* The bits of x that unstuffing drops, updating the carried run and last
 * bit; 0 in *ok if one of them has the wrong value. */
static BS_INLINE uint64_t unstuff_marks(int compl, unsigned r, uint64_t x,
                                        unsigned *run, unsigned *last, int *ok)
{
    uint64_t d;

    if (compl ) {
        return can_unstuff_marks(x, run, last, ok);
    }
    d = run_ends(x, *run, r) >> 1 | (uint64_t) (*run == r) << 63;
    *ok = (d & x) == 0; /* a 1 where a stuffed 0 is due */
    /* every 0 ends a run when unstuffing, so the run depends on this
     * word alone: no chain from word to word; and the check above has
     * ruled out a word of 1s */
    *run = ctz64(~x);
    return d;
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

/*
 * Packed output: whole bytes go out, up to 7 bits wait in acc (top).
 * Every put stores 16 bytes, of which the next put rewrites the part past
 * the whole bytes, so the caller keeps 16 bytes of room.  What waits for
 * the next put is taken from this put's bits, not from the old acc, so
 * the only chain from word to word is the bit count.
 */
struct bitw {
    uint8_t *p;
    uint64_t acc;
    unsigned nb;
};

/* Append a stuffed word: 64 to 77 bits. */
static BS_INLINE void put_span(struct bitw *b, struct span v)
{
    uint64_t a0 = b->acc | v.hi >> b->nb;
    uint64_t a1 = v.hi << 1 << (63 - b->nb) | v.lo >> b->nb;
    unsigned total = b->nb + 64 + v.n, bytes = total / 8;

    store_be64(b->p, a0);
    store_be64(b->p + 8, a1);
    b->p += bytes;
    b->acc = a1 << (8 * bytes - 64);
    b->nb = total % 8;
}

/*
 * Unstuffing writes less than a word per word, so it keeps up to 63 bits
 * waiting and stores 8 bytes only when a word is full.  Append the top w
 * bits of v (the rest 0), w <= 64; stores 8 bytes at p.
 */
static BS_INLINE void put_word(struct bitw *b, uint64_t v, unsigned w)
{
    uint64_t a = b->acc | v >> b->nb;
    uint64_t spill = v << 1 << (63 - b->nb); /* what did not fit in a */
    unsigned total = b->nb + w;

    store_be64(b->p, a);
    b->p += 8 * (total / 64);
    b->acc = total >= 64 ? spill : a;
    b->nb = total % 64;
}

/* Write the whole bytes put_word left waiting; stores 8 bytes at p. */
static BS_INLINE void flush_word(struct bitw *b)
{
    store_be64(b->p, b->acc);
    b->p += b->nb / 8;
    b->acc <<= 8 * (b->nb / 8);
    b->nb %= 8;
}

/* The word loop for packed input; dir, compl and r are constants after
 * inlining. */
static BS_INLINE size_t packed_words(struct bs_stream *st, enum impl im,
                                     enum bs_dir dir, int compl, unsigned r,
                                     const uint8_t *in, size_t in_bits,
                                     uint8_t *out, size_t cap, size_t *out_len)
{
    /* a word advances the output by at most 10 bytes (stuffing: 77 bits
     * and 7 pending) or 8 (unstuffing), and stores 16 or 8 bytes; the
     * flush at the end stores 8 */
    const size_t adv = dir == BS_DIR_STUFF ? 10 : 8;
    struct bitw b = {out, 0, st->acc_bits};
    unsigned run = st->run, last = st->last;
    size_t i = 0, words = in_bits / 64, batch;

    if (b.nb > 0) {
        b.acc = (uint64_t) st->acc << (64 - b.nb);
    }
    /* batches that surely fit, so the inner loop checks no room; each
     * batch leaves room for the next, smaller one */
    while (cap - (size_t) (b.p - out) >= 16 && i < words) {
        batch = (cap - (size_t) (b.p - out) - 16) / adv + 1;
        batch = batch < words - i ? batch : words - i;
        for (size_t end = i + batch; i < end; i++) {
            uint64_t x = load_be64(in + 8 * i);

            if (dir == BS_DIR_STUFF) {
                put_span(&b, stuff_word(im, compl, r, x, &run, &last));
            } else {
                unsigned w, run2 = run, last2 = last;
                int ok;
                uint64_t d = unstuff_marks(compl, r, x, &run2, &last2, &ok), v;

                if (!ok) {
                    goto stop; /* left to the reference loop */
                }
                v = remove_bits(im, x, d, &w);
                put_word(&b, v, w);
                run = run2;
                last = last2;
            }
        }
    }
stop:
    if (b.nb >= 8) {
        flush_word(&b); /* only after a word, so the room is there */
    }
    st->in_bits += 64 * i;
    st->out_bits += 8 * (uint64_t) (b.p - out) + b.nb - st->acc_bits;
    st->run = (uint8_t) run;
    if (compl ) {
        st->last = (uint8_t) last; /* runs of 1s do not use it */
    }
    st->acc = b.nb > 0 ? (uint32_t) (b.acc >> (64 - b.nb)) : 0;
    st->acc_bits = (uint8_t) b.nb;
    *out_len = (size_t) (b.p - out);
    return 64 * i;
}

static BS_INLINE int load_text(enum impl im, const char *p, uint64_t *x)
{
#if BS_X86
    if (im == IMPL_AVX512) {
        return load_text_avx512(p, x);
    }
    if (im == IMPL_AVX2) {
        return load_text_avx2(p, x);
    }
#endif
    (void) im;
    return load_text_portable(p, x);
}

/* Write v as characters: 64 of them, or at least `bits` <= 16 of them
 * (16 written). */
static BS_INLINE void store_text(enum impl im, char *p, uint64_t v,
                                 unsigned bits)
{
#if BS_X86
    if (im == IMPL_AVX512 && bits > 16) {
        store_text_avx512(p, v);
        return;
    }
    if (im == IMPL_AVX2 || im == IMPL_AVX512) {
        if (bits <= 16) {
            store_text16_avx2(p, v);
        } else {
            store_text_avx2(p, v);
        }
        return;
    }
#endif
    (void) im;
    store_text_portable(p, v, (int) (bits + 7) / 8);
}

/* The word loop for text: one character per bit, no pending bits. */
static BS_INLINE size_t text_words(struct bs_stream *st, enum impl im,
                                   enum bs_dir dir, int compl, unsigned r,
                                   const char *in, size_t in_len, char *out,
                                   size_t cap, size_t *out_len)
{
    unsigned run = st->run, last = st->last;
    size_t i = 0, o = 0;
    uint64_t x;

    /* the widest stores: 64 + 16 characters per stuffed word */
    while (in_len - i >= 64 && cap - o >= 80 && load_text(im, in + i, &x)) {
        unsigned w1;

        if (dir == BS_DIR_STUFF) {
            struct span v = stuff_word(im, compl, r, x, &run, &last);

            store_text(im, out + o, v.hi, 64);
            store_text(im, out + o + 64, v.lo, 16);
            o += 64 + v.n;
        } else {
            unsigned run2 = run, last2 = last;
            int ok;
            uint64_t d = unstuff_marks(compl, r, x, &run2, &last2, &ok);

            if (!ok) {
                break;
            }
            store_text(im, out + o, remove_bits(im, x, d, &w1), 64);
            o += w1;
            run = run2;
            last = last2;
        }
        i += 64;
    }
    st->in_bits += i;
    st->out_bits += o;
    st->run = (uint8_t) run;
    if (compl ) {
        st->last = (uint8_t) last;
    }
    *out_len = o;
    return i;
}

/*
 * One function per kernel and form, specialised for direction and for
 * each word shape and run the engines implement.  The shape comes from
 * the rule table; a rule whose shape and run are not listed here does no
 * words at all, so it runs on the reference loop (never on another
 * rule's specialisation).  words is packed_words or text_words, im the
 * engine.
 */
#define SHAPE(word, run) ((unsigned) (word) << 8 | (unsigned) (run))
#define BS_SPECIALISE_DIR(words, im, dir)                                      \
    (shape == SHAPE(BS_WORD_ONES, 5)                                           \
         ? words(st, im, dir, 0, 5, in, n, out, cap, out_len)                  \
     : shape == SHAPE(BS_WORD_ONES, 6)                                         \
         ? words(st, im, dir, 0, 6, in, n, out, cap, out_len)                  \
     : shape == SHAPE(BS_WORD_COMPL, 5)                                        \
         ? words(st, im, dir, 1, 5, in, n, out, cap, out_len)                  \
         : (*out_len = 0, (size_t) 0))
#define BS_SPECIALISE(words, im)                                               \
    (st->dir == BS_DIR_STUFF ? BS_SPECIALISE_DIR(words, im, BS_DIR_STUFF)      \
                             : BS_SPECIALISE_DIR(words, im, BS_DIR_UNSTUFF))

/* The stream's rule as SHAPE(word shape, run), from the rule table. */
static unsigned shape_of(const struct bs_stream *st)
{
    const struct bs_rule_info *r = bs_rule_info(st->rule);

    return r == NULL ? 0 : SHAPE(r->word, r->run);
}

/*
 * The entry points, listed below: name, target (empty, or the BS_TARGET_
 * attribute of the instructions the compiler may use in the word loop
 * inlined there), the engine im, the loop words and the unit of in and out
 * (uint8_t: packed, n bits; char: text, n characters).
 */
#define BS_ENTRY(name, target, im, words, unit)                                \
    static target size_t name(struct bs_stream *st, const unit *in, size_t n,  \
                              unit *out, size_t cap, size_t *out_len)          \
    {                                                                          \
        unsigned shape = shape_of(st);                                         \
                                                                               \
        return BS_SPECIALISE(words, im);                                       \
    }

BS_ENTRY(packed_portable, , IMPL_PORTABLE, packed_words, uint8_t)
BS_ENTRY(text_portable, , IMPL_PORTABLE, text_words, char)
#if BS_X86
BS_ENTRY(packed_bmi2, BS_TARGET_BMI2, IMPL_BMI2, packed_words, uint8_t)
BS_ENTRY(text_bmi2, BS_TARGET_BMI2, IMPL_BMI2, text_words, char)
BS_ENTRY(text_avx512, BS_TARGET_AVX512, IMPL_AVX512, text_words, char)
BS_ENTRY(text_avx2, BS_TARGET_AVX2, IMPL_AVX2, text_words, char)
#endif

size_t bs_word_update(struct bs_stream *st, enum bs_kernel kernel,
                      const uint8_t *in, size_t in_bits, uint8_t *out,
                      size_t cap, size_t *out_len)
{
    *out_len = 0;
#if BS_X86
    if (kernel == BS_KERNEL_BMI2 || kernel == BS_KERNEL_AVX2 ||
        kernel == BS_KERNEL_AVX512)
    {
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
    if (kernel == BS_KERNEL_AVX512) {
        return text_avx512(st, in, in_len, out, cap, out_len);
    }
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
