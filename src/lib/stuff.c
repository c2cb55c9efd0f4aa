/*
 * stuff.c - the public calls, the choice of kernel, and the reference
 * engine: one bit at a time, simple enough to check by hand.  Every other
 * kernel (stuff_word.c) is tested against it, and hands it whatever it
 * does not do itself: short tails, words with errors, a pending flag.
 */
#include "stuff.h"

#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "stuff_kernel.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#define BS_X86 1
#else
#define BS_X86 0
#endif

enum { FORM_NONE = 0, FORM_PACKED = 1, FORM_TEXT = 2 };

/*
 * The rules (stuff_kernel.h says what each field means).  Every property
 * of a rule, its name, validity, run, growth and kernels included, is
 * read from here; the tests check each entry against the rule's
 * definition bit by bit.
 */
static const struct bs_rule_info rules[] = {
    [BS_RULE_HDLC] = {.name = "hdlc",
                      .run = 5,
                      .flag = 1,
                      .word = BS_WORD_ONES},
    [BS_RULE_USB] = {.name = "usb", .run = 6, .word = BS_WORD_ONES},
    [BS_RULE_CAN] = {.name = "can",
                     .run = 5,
                     .compl = 1,
                     .word = BS_WORD_COMPL},
};

_Static_assert(sizeof(rules) / sizeof(rules[0]) == BS_RULE_COUNT,
               "one entry in rules[] for every enum bs_rule value");

static int rule_valid(unsigned rule)
{
    return rule < BS_RULE_COUNT && rules[rule].name != NULL;
}

const struct bs_rule_info *bs_rule_info(unsigned rule)
{
    return rule_valid(rule) ? &rules[rule] : NULL;
}

/* Length of the run that triggers a stuffed bit. */
static unsigned rule_run(unsigned rule)
{
    return rules[rule].run;
}

/* Each status: its short name, and the sentence bs_strerror gives. */
static const struct {
    const char *name, *text;
} statuses[BS_STATUS_COUNT] = {
    [BS_OK] = {"ok", "success"},
    [BS_ERR_ARG] = {"argument", "invalid argument (NULL buffer, unknown "
                                "rule, or packed and text input mixed on "
                                "one stream)"},
    [BS_ERR_NOSPACE] = {"nospace",
                        "output buffer too small for the worst case"},
    [BS_ERR_CHAR] = {"char",
                     "not a bit: only the characters 0 and 1 are allowed"},
    [BS_ERR_FLAG] = {"flag", "six 1s in a row: a 1 where the stuffed 0 must "
                             "be (an HDLC flag inside the data); this is not "
                             "stuffed data"},
    [BS_ERR_ABORT] = {"abort", "seven or more 1s in a row (an HDLC abort "
                               "sequence); this is not stuffed data"},
    [BS_ERR_STUFF_BIT] = {"stuff-bit", "the stuffed bit has the wrong value; "
                                       "this is not stuffed data for this "
                                       "rule"},
    [BS_ERR_TRUNCATED] = {"truncated", "input ends where a stuffed bit is "
                                       "still due; the message is cut short"},
};

const char *bs_status_name(bs_status st)
{
    if ((unsigned) st >= BS_STATUS_COUNT) {
        return "unknown";
    }
    return statuses[st].name;
}

const char *bs_strerror(bs_status st)
{
    if ((unsigned) st >= BS_STATUS_COUNT) {
        return "unknown error";
    }
    return statuses[st].text;
}

const char *bs_rule_name(enum bs_rule rule)
{
    return rule_valid(rule) ? rules[rule].name : NULL;
}

int bs_rule_parse(const char *name, size_t len, enum bs_rule *rule)
{
    if (name == NULL) {
        return -1;
    }
    for (unsigned i = 0; i < BS_RULE_COUNT; i++) {
        const char *n = rules[i].name;
        if (n != NULL && len == strlen(n) && strncasecmp(name, n, len) == 0) {
            *rule = (enum bs_rule) i;
            return 0;
        }
    }
    return -1;
}

/* n + the most bits stuffing can insert into n more input bits when the
 * current run is already run long; saturates at SIZE_MAX. */
static size_t max_out_bits(unsigned rule, unsigned dir, unsigned run, size_t n)
{
    unsigned r = rule_run(rule);
    size_t extra;

    if (dir == BS_DIR_UNSTUFF || n == 0) {
        return n;
    }
    if (rules[rule].compl ) {
        /* first insertion after r - run bits, then one every r - 1 */
        unsigned k = r - 1;
        if (run == 0) {
            extra = (n - 1) / k;
        } else {
            extra = n / k + (n % k + run - 1) / k;
        }
    } else {
        extra = n / r + (n % r + run) / r;
    }
    return n > SIZE_MAX - extra ? SIZE_MAX : n + extra;
}

/* A rule's worst-case growth as out/in = *num / *den. */
static void rule_growth(unsigned rule, size_t *num, size_t *den)
{
    unsigned r = rule_run(rule);

    *num = rules[rule].compl ? r : r + 1u;
    *den = rules[rule].compl ? r - 1u : r;
}

/* The largest growth of any rule. */
static void max_growth(size_t *num, size_t *den)
{
    *num = 1;
    *den = 1;
    for (unsigned i = 0; i < BS_RULE_COUNT; i++) {
        size_t p, q;
        rule_growth(i, &p, &q);
        if (p * *den > *num * q) {
            *num = p;
            *den = q;
        }
    }
}

size_t bs_max_stuffed_any(size_t n)
{
    size_t p, q, whole;

    max_growth(&p, &q);
    whole = n / q;
    if (whole > (SIZE_MAX - p) / p) {
        return SIZE_MAX;
    }
    return whole * p + n % q * p / q;
}

size_t bs_max_input_any(size_t room)
{
    size_t p, q;

    max_growth(&p, &q);
    return room / p * q;
}

size_t bs_max_stuffed_bits(enum bs_rule rule, size_t n)
{
    if (!rule_valid((unsigned) rule)) {
        return SIZE_MAX;
    }
    return max_out_bits(rule, BS_DIR_STUFF, 0, n);
}

static const char *const kernel_names[] = {
    [BS_KERNEL_REFERENCE] = "reference", [BS_KERNEL_PORTABLE] = "portable",
    [BS_KERNEL_BMI2] = "bmi2",           [BS_KERNEL_AVX2] = "avx2",
    [BS_KERNEL_AVX512] = "avx512",
};

#define KERNEL_COUNT (sizeof(kernel_names) / sizeof(kernel_names[0]))

size_t bs_kernel_count(void)
{
    return KERNEL_COUNT;
}

const char *bs_kernel_name(size_t kernel)
{
    return kernel < KERNEL_COUNT ? kernel_names[kernel] : NULL;
}

int bs_kernel_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < KERNEL_COUNT; i++) {
        if (strcmp(name, kernel_names[i]) == 0) {
            return (int) i;
        }
    }
    return -1;
}

int bs_kernel_supported(size_t kernel)
{
    switch (kernel) {
    case BS_KERNEL_REFERENCE:
    case BS_KERNEL_PORTABLE:
        return 1;
#if BS_X86
    /* libgcc reads CPUID once at start-up; these only test its bits.
     * AVX2 also checks that the OS saves the YMM registers. */
    case BS_KERNEL_BMI2:
        return __builtin_cpu_supports("bmi") &&
               __builtin_cpu_supports("bmi2") &&
               __builtin_cpu_supports("popcnt");
    case BS_KERNEL_AVX2:
        return bs_kernel_supported(BS_KERNEL_BMI2) &&
               __builtin_cpu_supports("avx2");
    /* libgcc sets the AVX-512 bits only if the OS saves the ZMM and mask
     * registers (XCR0) */
    case BS_KERNEL_AVX512:
        return bs_kernel_supported(BS_KERNEL_AVX2) &&
               __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw");
#endif
    default:
        return 0;
    }
}

#if BS_X86
/* AMD before Zen 3 (family 19h), and Hygon's Zen 1, run pdep and pext in
 * microcode, many times slower than the portable kernel's shifts. */
static int pdep_is_slow(void)
{
    unsigned a, b, c, d, family;
    int amd, hygon;

    if (!__get_cpuid(0, &a, &b, &c, &d)) {
        return 0;
    }
    amd = b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163;
    hygon = b == 0x6f677948 && d == 0x6e65476e && c == 0x656e6975;
    if (!(amd || hygon) || !__get_cpuid(1, &a, &b, &c, &d)) {
        return 0;
    }
    family = (a >> 8) & 0xf;
    if (family == 0xf) {
        family += (a >> 20) & 0xff;
    }
    return family < 0x19;
}
#endif

static size_t detect_best(void)
{
#if BS_X86
    if (!pdep_is_slow()) {
        /* AVX512 is not chosen here: no machine it has run on has passed
         * the reference comparisons yet (the project's build and CI
         * machines lack AVX-512).  It is used only when named (bench,
         * tests), and joins this list once it has passed them. */
        if (bs_kernel_supported(BS_KERNEL_AVX2)) {
            return BS_KERNEL_AVX2;
        }
        if (bs_kernel_supported(BS_KERNEL_BMI2)) {
            return BS_KERNEL_BMI2;
        }
    }
#endif
    return BS_KERNEL_PORTABLE;
}

/*
 * The answer is a fixed property of the machine, but CPUID traps to the
 * hypervisor in a virtual machine, which would cost more than stuffing a
 * short message; so the first call remembers it.  Every thread computes
 * the same value, so a race only repeats the work, and the atomic makes
 * that race well defined.
 */
size_t bs_kernel_best(void)
{
    static atomic_int best = -1;
    int k = atomic_load_explicit(&best, memory_order_relaxed);

    if (k < 0) {
        k = (int) detect_best();
        atomic_store_explicit(&best, k, memory_order_relaxed);
    }
    return (size_t) k;
}

bs_status bs_stream_init_kernel(struct bs_stream *st, enum bs_rule rule,
                                enum bs_dir dir, size_t kernel)
{
    if (st == NULL || !rule_valid((unsigned) rule) ||
        (dir != BS_DIR_STUFF && dir != BS_DIR_UNSTUFF) ||
        !bs_kernel_supported(kernel))
    {
        return BS_ERR_ARG;
    }
    *st = (struct bs_stream){.rule = (uint8_t) rule,
                             .dir = (uint8_t) dir,
                             .kernel = (uint8_t) kernel};
    return BS_OK;
}

bs_status bs_stream_init(struct bs_stream *st, enum bs_rule rule,
                         enum bs_dir dir)
{
    return bs_stream_init_kernel(st, rule, dir, bs_kernel_best());
}

size_t bs_stream_out_max(const struct bs_stream *st, size_t in_bits)
{
    size_t bits = max_out_bits(st->rule, st->dir, st->run, in_bits);

    if (bits > SIZE_MAX - 8) {
        return SIZE_MAX;
    }
    return (bits + st->acc_bits) / 8;
}

size_t bs_stream_out_max_text(const struct bs_stream *st, size_t in_len)
{
    return max_out_bits(st->rule, st->dir, st->run, in_len);
}

static bs_status fail(struct bs_stream *st, bs_status err, uint64_t offset)
{
    st->err = (uint8_t) err;
    st->err_offset = offset;
    return err;
}

/*
 * Advance the state machine by one input bit b.  Returns how many output
 * bits it produces (0, 1 or 2), stored most significant first in *bits,
 * or -1 after recording an error in st.
 */
static inline int step(struct bs_stream *st, unsigned b, unsigned *bits)
{
    const struct bs_rule_info *r = &rules[st->rule];
    uint64_t off = st->in_bits;

    if (st->dir == BS_DIR_STUFF) {
        if (r->compl ) {
            if (st->run > 0 && b == st->last) {
                st->run++;
            } else {
                st->last = (uint8_t) b;
                st->run = 1;
            }
            if (st->run == r->run) {
                st->last = (uint8_t) !b;
                st->run = 1;
                *bits = b << 1 | !b;
                return 2;
            }
            *bits = b;
            return 1;
        }
        st->run = b ? (uint8_t) (st->run + 1) : 0;
        if (st->run == r->run) {
            st->run = 0;
            *bits = b << 1; /* b, then the stuffed 0 */
            return 2;
        }
        *bits = b;
        return 1;
    }

    /* unstuff */
    if (st->pending) {
        /* the bit after six 1s: a seventh 1 makes an abort */
        fail(st, b ? BS_ERR_ABORT : BS_ERR_FLAG, st->err_offset);
        return -1;
    }
    if (r->compl ) {
        if (st->run == r->run) {
            if (b == st->last) {
                fail(st, BS_ERR_STUFF_BIT, off);
                return -1;
            }
            st->last = (uint8_t) b;
            st->run = 1;
            return 0; /* drop the stuffed bit */
        }
        if (st->run > 0 && b == st->last) {
            st->run++;
        } else {
            st->last = (uint8_t) b;
            st->run = 1;
        }
        *bits = b;
        return 1;
    }
    if (st->run == r->run) {
        if (b == 0) {
            st->run = 0;
            return 0; /* drop the stuffed 0 */
        }
        if (r->flag) {
            /* flag or abort: decided by the next bit */
            st->pending = 1;
            st->err_offset = off;
            return 0;
        }
        fail(st, BS_ERR_STUFF_BIT, off);
        return -1;
    }
    st->run = b ? (uint8_t) (st->run + 1) : 0;
    *bits = b;
    return 1;
}

/* Checks shared by the update calls; fixes the stream's form. */
static bs_status update_check(struct bs_stream *st, const void *in, size_t in_n,
                              const void *out, size_t cap,
                              const size_t *out_len, unsigned form)
{
    size_t need;

    if (st == NULL || out_len == NULL || (in == NULL && in_n > 0) ||
        (st->form != FORM_NONE && st->form != form))
    {
        return BS_ERR_ARG;
    }
    if (st->err != BS_OK) {
        return st->err;
    }
    need = form == FORM_TEXT ? bs_stream_out_max_text(st, in_n)
                             : bs_stream_out_max(st, in_n);
    if (cap < need) {
        return BS_ERR_NOSPACE;
    }
    if (out == NULL && need > 0) {
        return BS_ERR_ARG;
    }
    st->form = (uint8_t) form;
    return BS_OK;
}

/* The reference loop over packed input bits [from, to), appending whole
 * bytes at out[*n]. */
static bs_status ref_update(struct bs_stream *st, const uint8_t *in,
                            size_t from, size_t to, uint8_t *out, size_t *n)
{
    for (size_t i = from; i < to; i++) {
        unsigned b = (unsigned) (in[i / 8] >> (7 - i % 8)) & 1u;
        unsigned bits = 0;
        int k = step(st, b, &bits);

        if (k < 0) {
            return (bs_status) st->err;
        }
        st->in_bits++;
        st->out_bits += (unsigned) k;
        st->acc = st->acc << k | bits;
        st->acc_bits = (uint8_t) (st->acc_bits + k);
        if (st->acc_bits >= 8) {
            st->acc_bits = (uint8_t) (st->acc_bits - 8);
            out[(*n)++] = (uint8_t) (st->acc >> st->acc_bits);
            st->acc &= (1u << st->acc_bits) - 1;
        }
    }
    return BS_OK;
}

static bs_status ref_update_text(struct bs_stream *st, const char *in,
                                 size_t from, size_t to, char *out, size_t *n)
{
    for (size_t i = from; i < to; i++) {
        unsigned bits = 0;
        int k;

        if (in[i] != '0' && in[i] != '1') {
            return fail(st, BS_ERR_CHAR, st->in_bits);
        }
        k = step(st, (unsigned) (in[i] - '0'), &bits);
        if (k < 0) {
            return (bs_status) st->err;
        }
        st->in_bits++;
        st->out_bits += (unsigned) k;
        for (int j = k - 1; j >= 0; j--) {
            out[(*n)++] = (char) ('0' + ((bits >> j) & 1u));
        }
    }
    return BS_OK;
}

/* Whether a word engine may take the next word: only for a rule whose
 * table entry names a word shape (a rule without one stays on the
 * reference loop), and never with a pending flag-or-abort, which the
 * reference loop settles. */
static int word_ready(const struct bs_stream *st)
{
    return st->kernel != BS_KERNEL_REFERENCE &&
           rules[st->rule].word != BS_WORD_NONE && !st->pending;
}

/*
 * The update loop of both forms, packed bits and '0'/'1' text.
 * The word engine takes as many words as it can; when it stops early
 * (an error in the next word, a pending flag, little room left) the
 * reference loop takes one word and the engine tries again, so an error
 * is always found, and reported, by the reference loop.
 */
static bs_status update_form(struct bs_stream *st, unsigned form,
                             const void *in, size_t in_n, void *out, size_t cap,
                             size_t *out_len)
{
    bs_status rc = update_check(st, in, in_n, out, cap, out_len, form);
    size_t n = 0, i = 0;

    if (out_len != NULL) {
        *out_len = 0;
    }
    if (rc != BS_OK) {
        return rc;
    }
    while (i < in_n) {
        size_t len;

        if (in_n - i >= 64 && word_ready(st)) {
            enum bs_kernel kernel = (enum bs_kernel) st->kernel;

            i += form == FORM_TEXT
                     ? bs_word_update_text(st, kernel, (const char *) in + i,
                                           in_n - i, (char *) out + n, cap - n,
                                           &len)
                     : bs_word_update(st, kernel, (const uint8_t *) in + i / 8,
                                      in_n - i, (uint8_t *) out + n, cap - n,
                                      &len);
            n += len;
        }
        len = in_n - i < 64 ? in_n - i : 64;
        rc = form == FORM_TEXT ? ref_update_text(st, in, i, i + len, out, &n)
                               : ref_update(st, in, i, i + len, out, &n);
        if (rc != BS_OK) {
            break;
        }
        i += len;
    }
    *out_len = n;
    return rc;
}

bs_status bs_stream_update(struct bs_stream *st, const uint8_t *in,
                           size_t in_bits, uint8_t *out, size_t cap,
                           size_t *out_len)
{
    return update_form(st, FORM_PACKED, in, in_bits, out, cap, out_len);
}

bs_status bs_stream_update_text(struct bs_stream *st, const char *in,
                                size_t in_len, char *out, size_t cap,
                                size_t *out_len)
{
    return update_form(st, FORM_TEXT, in, in_len, out, cap, out_len);
}

/* The end-of-input check: no stuffed bit may still be due. */
static bs_status finish_check(struct bs_stream *st)
{
    if (st->err != BS_OK) {
        return st->err;
    }
    if (st->pending) {
        return fail(st, BS_ERR_FLAG, st->err_offset);
    }
    if (st->dir == BS_DIR_UNSTUFF && st->run == rule_run(st->rule)) {
        return fail(st, BS_ERR_TRUNCATED, st->in_bits);
    }
    return BS_OK;
}

bs_status bs_stream_finish(struct bs_stream *st, uint8_t *out, size_t cap,
                           size_t *out_len, uint64_t *total_bits)
{
    bs_status rc;

    if (st == NULL || out_len == NULL || out == NULL || cap < 1 ||
        st->form == FORM_TEXT)
    {
        return BS_ERR_ARG;
    }
    *out_len = 0;
    rc = finish_check(st);
    if (rc != BS_OK) {
        return rc;
    }
    if (st->acc_bits > 0) {
        out[0] = (uint8_t) (st->acc << (8 - st->acc_bits));
        *out_len = 1;
        st->acc = 0;
        st->acc_bits = 0;
    }
    if (total_bits != NULL) {
        *total_bits = st->out_bits;
    }
    return BS_OK;
}

bs_status bs_stream_finish_text(struct bs_stream *st, uint64_t *total_bits)
{
    bs_status rc;

    if (st == NULL || st->form == FORM_PACKED) {
        return BS_ERR_ARG;
    }
    rc = finish_check(st);
    if (rc == BS_OK && total_bits != NULL) {
        *total_bits = st->out_bits;
    }
    return rc;
}

uint64_t bs_stream_error_offset(const struct bs_stream *st)
{
    return st->err_offset;
}

uint64_t bs_stream_in_bits(const struct bs_stream *st)
{
    return st->in_bits;
}

uint64_t bs_stream_out_bits(const struct bs_stream *st)
{
    return st->out_bits;
}

/* One-shot, packed or text: one update and a finish on a stream of our
 * own.  *out_n counts output bits (packed) or characters (text). */
static bs_status oneshot(enum bs_rule rule, enum bs_dir dir, unsigned form,
                         const void *in, size_t in_n, void *out, size_t cap,
                         size_t *out_n, uint64_t *err_offset)
{
    struct bs_stream st;
    size_t need, len = 0;
    bs_status rc;

    if (out_n == NULL) {
        return BS_ERR_ARG;
    }
    *out_n = 0;
    rc = bs_stream_init(&st, rule, dir);
    if (rc != BS_OK) {
        return rc;
    }
    need = max_out_bits(rule, dir, 0, in_n);
    if (form == FORM_PACKED) {
        need = bs_bytes_for_bits(need);
    }
    if (cap < need) {
        return BS_ERR_NOSPACE;
    }
    /* (text: the update refuses it, and the error offset is set) */
    if (form == FORM_PACKED && out == NULL && need > 0) {
        return BS_ERR_ARG;
    }
    rc = update_form(&st, form, in, in_n, out, cap, &len);
    if (rc == BS_OK) {
        rc = finish_check(&st);
    }
    /* the last partial byte, also what came before a bad bit; the bound
     * checked above leaves room for it */
    if (form == FORM_PACKED && st.acc_bits > 0) {
        ((uint8_t *) out)[len] = (uint8_t) (st.acc << (8 - st.acc_bits));
    }
    if (rc != BS_OK && err_offset != NULL) {
        *err_offset = st.err_offset;
    }
    *out_n = form == FORM_PACKED ? (size_t) st.out_bits : len;
    return rc;
}

bs_status bs_stuff(enum bs_rule rule, const uint8_t *in, size_t in_n,
                   uint8_t *out, size_t cap, size_t *out_n,
                   uint64_t *err_offset)
{
    return oneshot(rule, BS_DIR_STUFF, FORM_PACKED, in, in_n, out, cap, out_n,
                   err_offset);
}

bs_status bs_unstuff(enum bs_rule rule, const uint8_t *in, size_t in_n,
                     uint8_t *out, size_t cap, size_t *out_n,
                     uint64_t *err_offset)
{
    return oneshot(rule, BS_DIR_UNSTUFF, FORM_PACKED, in, in_n, out, cap, out_n,
                   err_offset);
}

bs_status bs_stuff_text(enum bs_rule rule, const char *in, size_t in_n,
                        char *out, size_t cap, size_t *out_n,
                        uint64_t *err_offset)
{
    return oneshot(rule, BS_DIR_STUFF, FORM_TEXT, in, in_n, out, cap, out_n,
                   err_offset);
}

bs_status bs_unstuff_text(enum bs_rule rule, const char *in, size_t in_n,
                          char *out, size_t cap, size_t *out_n,
                          uint64_t *err_offset)
{
    return oneshot(rule, BS_DIR_UNSTUFF, FORM_TEXT, in, in_n, out, cap, out_n,
                   err_offset);
}
