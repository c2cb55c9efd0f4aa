/*
 * explain.c - what the rule did to a message, bit by bit; see explain.h.
 *
 * The reference engine is fed one bit at a time: a bit that comes out as
 * two (stuff) or as none (unstuff) is an event.  The only thing read from
 * the rule besides that is its table entry (stuff_kernel.h), for the run
 * length and the wording.
 */
#include "explain.h"

#include <stdlib.h>
#include <string.h>

#include "stuff_kernel.h"

#define NO_BIT UINT64_MAX

static const char *const number_words[] = {"zero",  "one",  "two", "three",
                                           "four",  "five", "six", "seven",
                                           "eight", "nine", "ten"};

/* "five", or the digits for a run no word is listed for. */
static const char *run_words(unsigned run, char *buf, size_t len)
{
    if (run < sizeof(number_words) / sizeof(number_words[0])) {
        return number_words[run];
    }
    snprintf(buf, len, "%u", run);
    return buf;
}

static int add_event(struct bs_explain *x, size_t *cap,
                     const struct bs_explain_event *e)
{
    if (x->n_ev == *cap) {
        size_t ncap = *cap == 0 ? 16 : *cap * 2;
        struct bs_explain_event *p = realloc(x->ev, ncap * sizeof(*p));

        if (p == NULL) {
            return -1;
        }
        x->ev = p;
        *cap = ncap;
    }
    x->ev[x->n_ev++] = *e;
    return 0;
}

/* One input bit through the engine: out gets 0, 1 or 2 characters. */
static int walk_bit(struct bs_explain *x, const struct bs_rule_info *ri,
                    struct bs_stream *st, size_t i, size_t *ev_cap,
                    uint64_t *last_stuffed)
{
    struct bs_explain_event e = {.run = ri->run};
    char o[2];
    size_t k = 0;
    bs_status rc = bs_stream_update_text(st, &x->in[i], 1, o, sizeof(o), &k);

    if (rc != BS_OK) {
        x->status = rc;
        x->err_offset = bs_stream_error_offset(st);
        return 0;
    }
    memcpy(x->out + x->out_n, o, k);
    x->out_n += k;
    if (x->dir == BS_DIR_STUFF) {
        if (k != 2) {
            return 0;
        }
        e.out_bit = x->out_n - 1;
        e.in_bit = i;
        e.bit = (uint8_t) (o[1] - '0');
        e.run_bit = (uint8_t) (o[0] - '0');
        e.run_out_first = e.out_bit - ri->run;
        e.led_by_stuffed = *last_stuffed == e.run_out_first;
        e.run_in_first = i + 1 - (ri->run - e.led_by_stuffed);
        *last_stuffed = e.out_bit;
        return add_event(x, ev_cap, &e);
    }
    /* Unstuff: a bit that gives nothing is a removed stuffed bit, except
     * under a rule that stuffs 0s after 1s, where a 1 that gives nothing
     * is the sixth 1 of a flag or an abort, decided by the next bit. */
    if (k != 0 || (!ri->compl &&x->in[i] != '0')) {
        return 0;
    }
    e.in_bit = i;
    e.out_bit = x->out_n;
    e.bit = (uint8_t) (x->in[i] - '0');
    e.run_in_first = i - ri->run;
    e.run_bit = (uint8_t) (x->in[i - 1] - '0');
    e.led_by_stuffed = *last_stuffed == e.run_in_first;
    *last_stuffed = i;
    return add_event(x, ev_cap, &e);
}

int bs_explain_run(struct bs_explain *x, enum bs_rule rule, enum bs_dir dir,
                   const char *in, size_t n)
{
    const struct bs_rule_info *ri = bs_rule_info((unsigned) rule);
    struct bs_stream st;
    size_t out_cap, ev_cap = 0;
    uint64_t last_stuffed = NO_BIT;

    memset(x, 0, sizeof(*x));
    if (ri == NULL || (in == NULL && n > 0) ||
        bs_stream_init_kernel(&st, rule, dir, BS_KERNEL_REFERENCE) != BS_OK)
    {
        return -1;
    }
    out_cap = dir == BS_DIR_STUFF ? bs_max_stuffed_bits(rule, n) : n;
    if (out_cap == SIZE_MAX) {
        return -1;
    }
    x->rule = rule;
    x->dir = dir;
    x->in = malloc(n + 1);
    x->out = malloc(out_cap + 2);
    if (x->in == NULL || x->out == NULL) {
        goto fail;
    }
    if (n > 0) {
        memcpy(x->in, in, n);
    }
    x->in_n = n;
    for (size_t i = 0; i < n && x->status == BS_OK; i++) {
        if (walk_bit(x, ri, &st, i, &ev_cap, &last_stuffed) != 0) {
            goto fail;
        }
    }
    if (x->status == BS_OK) {
        uint64_t total = 0;
        bs_status rc = bs_stream_finish_text(&st, &total);

        if (rc != BS_OK) {
            x->status = rc;
            x->err_offset = bs_stream_error_offset(&st);
        }
    }
    return 0;

fail:
    bs_explain_free(x);
    return -1;
}

int bs_explain_run_packed(struct bs_explain *x, enum bs_rule rule,
                          enum bs_dir dir, const uint8_t *in, size_t n)
{
    char *text;
    int rc;

    if (in == NULL && n > 0) {
        memset(x, 0, sizeof(*x));
        return -1;
    }
    text = malloc(n + 1);
    if (text == NULL) {
        memset(x, 0, sizeof(*x));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        text[i] = (char) ('0' + ((in[i / 8] >> (7 - i % 8)) & 1));
    }
    rc = bs_explain_run(x, rule, dir, text, n);
    free(text);
    return rc;
}

void bs_explain_free(struct bs_explain *x)
{
    free(x->in);
    free(x->out);
    free(x->ev);
    memset(x, 0, sizeof(*x));
}

const char *bs_explain_rule_text(enum bs_rule rule, enum bs_dir dir, char *buf,
                                 size_t len)
{
    const struct bs_rule_info *ri = bs_rule_info((unsigned) rule);
    char nb[24];
    const char *run;

    if (len == 0) {
        return buf;
    }
    if (ri == NULL) {
        snprintf(buf, len, "unknown rule");
        return buf;
    }
    run = run_words(ri->run, nb, sizeof(nb));
    if (ri->compl &&dir == BS_DIR_STUFF) {
        snprintf(buf, len,
                 "%s: after %s equal bits, their complement is inserted "
                 "(and starts the next run)",
                 ri->name, run);
    } else if (ri->compl ) {
        snprintf(buf, len,
                 "%s: the bit after %s equal bits was inserted by stuffing "
                 "(their complement) and is removed; an equal bit there is "
                 "an error",
                 ri->name, run);
    } else if (dir == BS_DIR_STUFF) {
        snprintf(buf, len, "%s: after %s 1s, a 0 is inserted", ri->name, run);
    } else {
        snprintf(buf, len,
                 "%s: a 0 after %s 1s was inserted by stuffing and is "
                 "removed; a 1 there is an error%s",
                 ri->name, run,
                 ri->flag ? " (a flag, or an abort if another 1 follows)" : "");
    }
    return buf;
}

const char *bs_explain_describe(const struct bs_explain *x, size_t i, char *buf,
                                size_t len)
{
    const struct bs_explain_event *e;
    char nb[24];
    const char *run;

    if (len == 0) {
        return buf;
    }
    if (i >= x->n_ev) {
        buf[0] = '\0';
        return buf;
    }
    e = &x->ev[i];
    run = run_words(e->run, nb, sizeof(nb));
    if (x->dir == BS_DIR_STUFF && e->led_by_stuffed) {
        snprintf(buf, len,
                 "%s %us: the stuffed %u at output bit %llu and input bits "
                 "%llu-%llu -> %u inserted at output bit %llu",
                 run, e->run_bit, e->run_bit,
                 (unsigned long long) e->run_out_first,
                 (unsigned long long) e->run_in_first,
                 (unsigned long long) e->in_bit, e->bit,
                 (unsigned long long) e->out_bit);
    } else if (x->dir == BS_DIR_STUFF) {
        snprintf(buf, len,
                 "%s %us at input bits %llu-%llu -> %u inserted at "
                 "output bit %llu",
                 run, e->run_bit, (unsigned long long) e->run_in_first,
                 (unsigned long long) e->in_bit, e->bit,
                 (unsigned long long) e->out_bit);
    } else {
        snprintf(buf, len,
                 "%s %us at input bits %llu-%llu%s -> stuffed %u at input "
                 "bit %llu removed (output continues at bit %llu)",
                 run, e->run_bit, (unsigned long long) e->run_in_first,
                 (unsigned long long) (e->in_bit - 1),
                 e->led_by_stuffed ? " (the first is itself a stuffed bit)"
                                   : "",
                 e->bit, (unsigned long long) e->in_bit,
                 (unsigned long long) e->out_bit);
    }
    return buf;
}

int bs_explain_want_colour(int is_tty, const char *no_color, const char *term)
{
    if (!is_tty || (no_color != NULL && no_color[0] != '\0')) {
        return 0;
    }
    return term == NULL || strcmp(term, "dumb") != 0;
}

/* ---- rendering ---- */

/* Runs are marked '-' and '=' in turn, so that two runs side by side
 * (eleven 1s: five, a stuffed 0, five) stay two. */
enum mark { M_NONE = 0, M_RUN, M_RUN2, M_INSERTED, M_REMOVED, M_ERROR };

static const char mark_chars[] = {' ', '-', '=', '^', '^', '^'};
static const char *const mark_colours[] = {
    "", "\033[33m", "\033[36m", "\033[1;32m", "\033[1;31m", "\033[1;7;31m"};
#define RESET "\033[0m"

static void mark_range(unsigned char *m, size_t n, uint64_t first,
                       uint64_t last, enum mark k)
{
    for (uint64_t b = first; b <= last && b < n; b++) {
        if (m[b] == M_NONE) {
            m[b] = (unsigned char) k;
        }
    }
}

/* A 1 where the stuffed 0 must be (flag, abort), a stuffed bit equal to
 * the run (CAN), or the end where a stuffed bit is due: errors right
 * after a run the rule counted. */
static int bad_stuffed_bit(bs_status st)
{
    return st == BS_ERR_FLAG || st == BS_ERR_ABORT || st == BS_ERR_STUFF_BIT ||
           st == BS_ERR_TRUNCATED;
}

/* Marks for the input (output 0) or the output (1), one per bit. */
static unsigned char *make_marks(const struct bs_explain *x, int output)
{
    size_t n = output ? x->out_n : x->in_n;
    unsigned char *m = calloc(n + 1, 1); /* + 1: never calloc(0) */

    if (m == NULL) {
        return NULL;
    }
    /* stuffed bits first: they win over the run that a stuffed bit
     * starts (CAN) */
    for (size_t i = 0; i < x->n_ev; i++) {
        const struct bs_explain_event *e = &x->ev[i];

        if (x->dir == BS_DIR_STUFF && output) {
            mark_range(m, n, e->out_bit, e->out_bit, M_INSERTED);
        } else if (x->dir == BS_DIR_UNSTUFF && !output) {
            mark_range(m, n, e->in_bit, e->in_bit, M_REMOVED);
        }
    }
    for (size_t i = 0; i < x->n_ev; i++) {
        const struct bs_explain_event *e = &x->ev[i];
        enum mark k = i % 2 == 0 ? M_RUN : M_RUN2;

        if (x->dir == BS_DIR_STUFF && output) {
            mark_range(m, n, e->run_out_first, e->out_bit - 1, k);
        } else if (!output) {
            mark_range(m, n, e->run_in_first,
                       x->dir == BS_DIR_STUFF ? e->in_bit : e->in_bit - 1, k);
        }
    }
    /* the run before a stuffed bit of the wrong value, or a missing one */
    if (!output && bad_stuffed_bit(x->status) && x->err_offset <= n) {
        const struct bs_rule_info *ri = bs_rule_info((unsigned) x->rule);
        uint64_t first = x->err_offset >= ri->run ? x->err_offset - ri->run : 0;

        if (x->err_offset > 0) {
            mark_range(m, n, first, x->err_offset - 1,
                       x->n_ev % 2 == 0 ? M_RUN : M_RUN2);
        }
    }
    return m;
}

static int digits(uint64_t v)
{
    int d = 1;

    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/* The row an error at offset e sits in: its own, or the last one for
 * the offset one past a full last row (truncated input). */
static size_t error_row(uint64_t e, size_t n)
{
    if (e == n && n > 0 && n % BS_EXPLAIN_ROW_BITS == 0) {
        return (size_t) (e / BS_EXPLAIN_ROW_BITS) - 1;
    }
    return (size_t) (e / BS_EXPLAIN_ROW_BITS);
}

static void put_bit(FILE *f, char c, enum mark k, int colour)
{
    if (colour && k != M_NONE) {
        fprintf(f, "%s%c%s", mark_colours[k], c, RESET);
    } else {
        fputc(c, f);
    }
}

/*
 * Rows of 64 bits: the offset and the bits, a marker line under a row
 * that has a mark, and under the row of the offending bit (err, or
 * NO_BIT) a caret line with label.
 */
static void render_rows(FILE *f, const char *bits, size_t n,
                        const unsigned char *m, int width, int colour,
                        uint64_t err, const char *label)
{
    size_t rows = n / BS_EXPLAIN_ROW_BITS + (n % BS_EXPLAIN_ROW_BITS != 0);

    if (n == 0) {
        fprintf(f, "  %*s  (no bits)\n", width, "");
    }
    for (size_t r = 0; r < rows; r++) {
        size_t start = r * BS_EXPLAIN_ROW_BITS;
        size_t end =
            n - start > BS_EXPLAIN_ROW_BITS ? start + BS_EXPLAIN_ROW_BITS : n;
        size_t last = start;

        fprintf(f, "  %*llu  ", width, (unsigned long long) start);
        for (size_t i = start; i < end; i++) {
            enum mark k = err == i ? M_ERROR : (enum mark) m[i];

            put_bit(f, bits[i], k, colour);
            if (m[i] != M_NONE) {
                last = i + 1;
            }
        }
        fputc('\n', f);
        if (last > start) {
            fprintf(f, "  %*s  ", width, "");
            for (size_t i = start; i < last; i++) {
                put_bit(f, mark_chars[m[i]], (enum mark) m[i], colour);
            }
            fputc('\n', f);
        }
        if (err != NO_BIT && error_row(err, n) == r) {
            fprintf(f, "  %*s  %*s", width, "", (int) (err - start), "");
            put_bit(f, '^', M_ERROR, colour);
            fprintf(f, " %s\n", label);
        }
    }
}

int bs_explain_render(const struct bs_explain *x, FILE *f, int colour)
{
    char line[BS_EXPLAIN_LINE_MAX + 64];
    char label[64] = "";
    unsigned char *min = make_marks(x, 0);
    unsigned char *mout = make_marks(x, 1);
    int stuff = x->dir == BS_DIR_STUFF;
    const char *verb = stuff ? "inserted" : "removed";
    uint64_t wide = x->in_n > x->out_n ? x->in_n : x->out_n;
    int width = digits(wide) < 5 ? 5 : digits(wide);
    int rc = 0;

    if (min == NULL || mout == NULL) {
        rc = -1;
        goto out;
    }
    fprintf(f, "%s, rule %s\n", stuff ? "stuff" : "unstuff",
            bs_explain_rule_text(x->rule, x->dir, line, sizeof(line)));
    fprintf(f, "marks: - and = the runs that fired the rule, ^ the %s bit\n",
            verb);
    if (x->status != BS_OK) {
        snprintf(label, sizeof(label), "%s at input bit %llu",
                 bs_status_name(x->status), (unsigned long long) x->err_offset);
    }
    fprintf(f, "input, %zu bit%s:\n", x->in_n, x->in_n == 1 ? "" : "s");
    render_rows(f, x->in, x->in_n, min, width, colour,
                x->status != BS_OK ? x->err_offset : NO_BIT, label);
    if (x->status != BS_OK) {
        fprintf(f, "error: %s: %s\n", label, bs_strerror(x->status));
        fprintf(f, "output before the error, %zu bit%s:\n", x->out_n,
                x->out_n == 1 ? "" : "s");
    } else {
        fprintf(f, "output, %zu bit%s (%zu %s):\n", x->out_n,
                x->out_n == 1 ? "" : "s", x->n_ev, verb);
    }
    render_rows(f, x->out, x->out_n, mout, width, colour, NO_BIT, "");
    if (x->n_ev == 0) {
        fprintf(f, "no bit %s\n", verb);
    } else {
        fprintf(f, "%zu bit%s %s:\n", x->n_ev, x->n_ev == 1 ? "" : "s", verb);
    }
    for (size_t i = 0; i < x->n_ev; i++) {
        fprintf(f, "  %s\n", bs_explain_describe(x, i, line, sizeof(line)));
    }
out:
    free(min);
    free(mout);
    if (ferror(f)) {
        rc = -1;
    }
    return rc;
}
