/*
 * optparse.c - table-driven command lines (see optparse.h).
 */
#include "optparse.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "num.h"

#define HELP_WIDTH 79 /* --help lines stay within 79 columns */

const struct bs_opt_word bs_opt_words_tls[] = {
    {"1.2", 12},
    {"1.3", 13},
    {NULL, 0},
};

/* ---- durations ---- */

int bs_opt_parse_duration(const char *s, uint64_t min_ms, uint64_t max_ms,
                          uint64_t *ms)
{
    uint64_t whole = 0, frac = 0, div = 1, scale, v;
    const char *p = s;

    if (s == NULL || *p < '0' || *p > '9') {
        return -1;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t) (*p - '0');

        if (whole > (UINT64_MAX - d) / 10) {
            return -1;
        }
        whole = whole * 10 + d;
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            return -1;
        }
        for (; *p >= '0' && *p <= '9'; p++) {
            if (div < 1000000000u) { /* finer digits are dropped */
                frac = frac * 10 + (uint64_t) (*p - '0');
                div *= 10;
            }
        }
    }
    if (strcmp(p, "ms") == 0) {
        scale = 1;
    } else if (*p == '\0' || strcmp(p, "s") == 0) {
        scale = 1000;
    } else if (strcmp(p, "m") == 0) {
        scale = 60u * 1000u;
    } else if (strcmp(p, "h") == 0) {
        scale = 3600u * 1000u;
    } else {
        return -1;
    }
    if (whole > UINT64_MAX / scale) {
        return -1;
    }
    v = whole * scale;
    if (v > UINT64_MAX - frac * scale / div) {
        return -1;
    }
    v += frac * scale / div;
    if (v < min_ms || v > max_ms) {
        return -1;
    }
    *ms = v;
    return 0;
}

void bs_opt_format_duration(uint64_t ms, char *buf, size_t len)
{
    static const struct {
        uint64_t ms;
        const char *unit;
    } units[] = {{3600000u, "h"}, {60000u, "m"}, {1000u, "s"}};

    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ms != 0 && ms % units[i].ms == 0) {
            snprintf(buf, len, "%" PRIu64 "%s", ms / units[i].ms,
                     units[i].unit);
            return;
        }
    }
    snprintf(buf, len, "%" PRIu64 "ms", ms);
}

/* ---- storage ---- */

static void store_int(void *opts, const struct bs_opt *o, uint64_t v)
{
    unsigned char *at = (unsigned char *) opts + o->off;

    switch (o->size) {
    case 1: {
        uint8_t x = (uint8_t) v;
        memcpy(at, &x, 1);
        break;
    }
    case 2: {
        uint16_t x = (uint16_t) v;
        memcpy(at, &x, 2);
        break;
    }
    case 4: {
        uint32_t x = (uint32_t) v;
        memcpy(at, &x, 4);
        break;
    }
    default:
        memcpy(at, &v, 8);
        break;
    }
}

static uint64_t load_int(const void *opts, const struct bs_opt *o)
{
    const unsigned char *at = (const unsigned char *) opts + o->off;
    uint8_t b;
    uint16_t h;
    uint32_t w;
    uint64_t q;

    switch (o->size) {
    case 1:
        memcpy(&b, at, 1);
        return b;
    case 2:
        memcpy(&h, at, 2);
        return h;
    case 4:
        memcpy(&w, at, 4);
        return w;
    default:
        memcpy(&q, at, 8);
        return q;
    }
}

static void store_ptr(void *opts, size_t off, const char *s)
{
    memcpy((unsigned char *) opts + off, &s, sizeof s);
}

static const char *load_ptr(const void *opts, size_t off)
{
    const char *s;

    memcpy(&s, (const unsigned char *) opts + off, sizeof s);
    return s;
}

/* ---- errors ---- */

/* "a, b or c" from a word list. */
static void word_list(const struct bs_opt_word *w, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; w[i].word != NULL && used < len; i++) {
        const char *sep = i == 0 ? "" : w[i + 1].word == NULL ? " or " : ", ";
        int n = snprintf(buf + used, len - used, "%s%s", sep, w[i].word);

        if (n < 0) {
            break;
        }
        used += (size_t) n;
    }
}

/* What an option accepts, for its error. */
static void accepts(const struct bs_opt *o, char *buf, size_t len)
{
    char lo[24], hi[24], words[160];

    switch (o->kind) {
    case BS_OPT_UINT:
    case BS_OPT_COUNT:
        snprintf(buf, len, "%s from %" PRIu64 " to %" PRIu64 "%s",
                 o->what != NULL ? o->what : "a number", o->min, o->max,
                 o->kind == BS_OPT_COUNT ? " (k/M/G allowed)" : "");
        break;
    case BS_OPT_DURATION:
        bs_opt_format_duration(o->min, lo, sizeof lo);
        bs_opt_format_duration(o->max, hi, sizeof hi);
        snprintf(buf, len,
                 "%s from %s to %s: seconds, or a number with a unit "
                 "(500ms, 10s, 1.5s, 5m)",
                 o->what != NULL ? o->what : "a duration", lo, hi);
        break;
    case BS_OPT_CHOICE:
        word_list(o->words, words, sizeof words);
        snprintf(buf, len, "%s; use %s",
                 o->what != NULL ? o->what : "a valid value", words);
        break;
    default:
        snprintf(buf, len, "%s", o->what != NULL ? o->what : "valid");
        break;
    }
}

static int bad_value(const struct bs_opt *o, const char *typed, const char *s,
                     char *err, size_t errlen)
{
    char what[256];

    accepts(o, what, sizeof what);
    snprintf(err, errlen, "%s: '%.60s' is not %s", typed, s, what);
    return -1;
}

/* ---- parsing ---- */

static int choose(const struct bs_opt_word *w, const char *s, int *value)
{
    for (; w->word != NULL; w++) {
        if (strcasecmp(w->word, s) == 0) {
            *value = w->value;
            return 0;
        }
    }
    return -1;
}

static int add_to_list(const struct bs_opt *o, void *opts, const char *s,
                       char *err, size_t errlen)
{
    size_t n;

    memcpy(&n, (unsigned char *) opts + o->count - 1, sizeof n);
    if (n >= o->max) {
        snprintf(err, errlen, "too many --%s options (at most %" PRIu64 ")",
                 o->name, o->max);
        return -1;
    }
    store_ptr(opts, o->off + n * sizeof(const char *), s);
    n++;
    memcpy((unsigned char *) opts + o->count - 1, &n, sizeof n);
    return 0;
}

/* Apply one option o with argument s (NULL for flags); typed is how the
 * user spelled the option.  Returns 0, an action's value, or -1. */
static int apply(const struct bs_opt *o, void *opts, const char *s,
                 const char *typed, char *err, size_t errlen)
{
    uint64_t v = 0;
    int word = 0;

    switch (o->kind) {
    case BS_OPT_FLAG:
        store_int(opts, o, o->min);
        break;
    case BS_OPT_REPEAT:
        v = load_int(opts, o);
        store_int(opts, o, v < o->max ? v + 1 : o->max);
        break;
    case BS_OPT_ACTION:
        return (int) o->min;
    case BS_OPT_NONEMPTY:
    case BS_OPT_FILE:
        if (s[0] == '\0') {
            snprintf(err, errlen, "--%s needs a %s", o->name,
                     o->kind == BS_OPT_FILE ? "file name" : "value");
            return -1;
        }
        store_ptr(opts, o->off, s);
        break;
    case BS_OPT_STRING:
        store_ptr(opts, o->off, s);
        break;
    case BS_OPT_LIST:
        if (s[0] == '\0') {
            snprintf(err, errlen, "--%s needs a value", o->name);
            return -1;
        }
        if (add_to_list(o, opts, s, err, errlen) != 0) {
            return -1;
        }
        break;
    case BS_OPT_UINT:
    case BS_OPT_COUNT:
        if ((o->kind == BS_OPT_UINT
                 ? bs_num_parse_u64(s, o->min, o->max, &v)
                 : bs_num_parse_count(s, o->min, o->max, &v)) != 0)
        {
            return bad_value(o, typed, s, err, errlen);
        }
        store_int(opts, o, v);
        break;
    case BS_OPT_DURATION:
        if (bs_opt_parse_duration(s, o->min, o->max, &v) != 0) {
            return bad_value(o, typed, s, err, errlen);
        }
        store_int(opts, o, v);
        break;
    case BS_OPT_CHOICE:
        if (choose(o->words, s, &word) != 0) {
            return bad_value(o, typed, s, err, errlen);
        }
        store_int(opts, o, (uint64_t) (int64_t) word);
        break;
    case BS_OPT_CUSTOM:
        if (o->parse(opts, s) != 0) {
            return bad_value(o, typed, s, err, errlen);
        }
        break;
    case BS_OPT_SECTION:
        break;
    }
    if (o->seen != 0) {
        int one = 1;

        memcpy((unsigned char *) opts + o->seen - 1, &one, sizeof one);
    }
    return 0;
}

static int takes_arg(const struct bs_opt *o)
{
    return o->kind != BS_OPT_FLAG && o->kind != BS_OPT_REPEAT &&
           o->kind != BS_OPT_ACTION && o->kind != BS_OPT_SECTION;
}

/* getopt_long's tables from ours: long options return 256 + index. */
static int build(const struct bs_opt_table *t, struct option *lo, char *shorts,
                 size_t slen)
{
    size_t nl = 0, ns = 0;

    if (t->n > BS_OPT_MAX) {
        return -1;
    }
    shorts[ns++] = ':';
    for (size_t i = 0; i < t->n; i++) {
        const struct bs_opt *o = &t->opts[i];

        if (o->kind == BS_OPT_SECTION) {
            continue;
        }
        lo[nl].name = o->name;
        lo[nl].has_arg = takes_arg(o) ? required_argument : no_argument;
        lo[nl].flag = NULL;
        lo[nl].val = 256 + (int) i;
        nl++;
        if (o->short_name != 0 && ns + 3 < slen) {
            shorts[ns++] = (char) o->short_name;
            if (takes_arg(o)) {
                shorts[ns++] = ':';
            }
        }
    }
    shorts[ns] = '\0';
    memset(&lo[nl], 0, sizeof lo[nl]);
    return 0;
}

static const struct bs_opt *by_short(const struct bs_opt_table *t, int c)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->opts[i].short_name == c && t->opts[i].kind != BS_OPT_SECTION) {
            return &t->opts[i];
        }
    }
    return NULL;
}

/* "--pre" (or "--pre=value") that begins the names of two or more
 * options: getopt_long refuses it as it does an unknown option, but the
 * user needs to hear which options it could mean.  Returns 1 with err
 * written, else 0. */
static int ambiguous(const struct bs_opt_table *t, const char *arg, char *err,
                     size_t errlen)
{
    const char *name = arg + 2;
    size_t len = strcspn(name, "="), found = 0, shown = 0, used = 0;
    char list[160];

    if (strncmp(arg, "--", 2) != 0 || len == 0) {
        return 0;
    }
    list[0] = '\0';
    for (size_t i = 0; i < t->n; i++) {
        const struct bs_opt *o = &t->opts[i];
        int n;

        if (o->kind == BS_OPT_SECTION || strncmp(o->name, name, len) != 0) {
            continue;
        }
        found++;
        if (used >= sizeof list) {
            continue;
        }
        n = snprintf(list + used, sizeof list - used, "%s--%s",
                     shown > 0 ? ", " : "", o->name);
        used += n > 0 ? (size_t) n : 0;
        shown++;
    }
    if (found < 2) {
        return 0;
    }
    snprintf(err, errlen, "'%.*s' is ambiguous: it could be %s (see --help)",
             (int) (len + 2), arg, list);
    return 1;
}

/* getopt_long refused argv[optind - 1]: word why. */
static int refused(const struct bs_opt_table *t, int c, char *const argv[],
                   char *err, size_t errlen)
{
    const char *arg = argv[optind - 1];

    if (optopt >= 256 && (size_t) (optopt - 256) < t->n) {
        const char *name = t->opts[optopt - 256].name;

        if (c == ':') {
            snprintf(err, errlen, "--%s needs a value (see --help)", name);
        } else { /* "--quiet=yes" */
            snprintf(err, errlen, "--%s takes no value: '%s'", name, arg);
        }
    } else if (c == ':') {
        snprintf(err, errlen, "-%c needs a value (see --help)", optopt);
    } else if (optopt != 0) {
        snprintf(err, errlen, "unknown option '-%c' (see --help)", optopt);
    } else if (ambiguous(t, arg, err, errlen)) {
        /* err says which options "--pre" could be */
    } else {
        snprintf(err, errlen, "unknown option '%s' (see --help)", arg);
    }
    return -1;
}

int bs_opt_parse(const struct bs_opt_table *t, int argc, char *const argv[],
                 void *opts, int *first_arg, char *err, size_t errlen)
{
    struct option lo[BS_OPT_MAX + 1];
    char shorts[2 * BS_OPT_MAX + 2];
    int c, rc;

    if (errlen > 0) {
        err[0] = '\0';
    }
    if (build(t, lo, shorts, sizeof shorts) != 0) {
        snprintf(err, errlen, "too many options in the table (at most %d)",
                 BS_OPT_MAX);
        return -1;
    }
    optind = 0; /* GNU: a full reset, so a parse can run again */
    opterr = 0; /* we word the errors ourselves */
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        const struct bs_opt *o;
        char typed[64];

        if (c == ':' || c == '?') {
            return refused(t, c, argv, err, errlen);
        }
        if (c >= 256) {
            o = &t->opts[c - 256];
            snprintf(typed, sizeof typed, "--%s", o->name);
        } else {
            o = by_short(t, c);
            snprintf(typed, sizeof typed, "-%c", c);
        }
        if (o == NULL) { /* cannot happen: getopt knows only our letters */
            snprintf(err, errlen, "unknown option '-%c' (see --help)", c);
            return -1;
        }
        rc = apply(o, opts, takes_arg(o) ? optarg : NULL, typed, err, errlen);
        if (rc != 0) {
            return rc;
        }
    }
    if (!t->positional && optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)",
                 argv[optind]);
        return -1;
    }
    if (first_arg != NULL) {
        *first_arg = optind;
    }
    return 0;
}

/* ---- --help and the name list ---- */

/* The default shown in --help, or "" when there is none to show. */
static void default_text(const struct bs_opt *o, const void *d, char *buf,
                         size_t len)
{
    const char *s;
    uint64_t v;

    buf[0] = '\0';
    if (d == NULL || !(o->flags & BS_OPT_SHOW_DEFAULT)) {
        return;
    }
    switch (o->kind) {
    case BS_OPT_UINT:
    case BS_OPT_COUNT:
        snprintf(buf, len, "%" PRIu64, load_int(d, o));
        break;
    case BS_OPT_DURATION:
        bs_opt_format_duration(load_int(d, o), buf, len);
        break;
    case BS_OPT_CHOICE:
        v = load_int(d, o);
        for (const struct bs_opt_word *w = o->words; w->word != NULL; w++) {
            if ((uint32_t) w->value == (uint32_t) v) {
                snprintf(buf, len, "%s", w->word);
                break;
            }
        }
        break;
    case BS_OPT_STRING:
    case BS_OPT_NONEMPTY:
    case BS_OPT_FILE:
        s = load_ptr(d, o->off);
        snprintf(buf, len, "%s", s != NULL ? s : "");
        break;
    default:
        break;
    }
}

/* Write text from column *pos, wrapped at HELP_WIDTH with continuation
 * lines starting at column col; '\n' in text forces a break. */
static void wrap(FILE *f, const char *text, int col, int *pos)
{
    const char *p = text;

    while (*p != '\0') {
        size_t w;

        if (*p == '\n') {
            fprintf(f, "\n%*s", col, "");
            *pos = col;
            p++;
            continue;
        }
        if (*p == ' ') {
            p++;
            continue;
        }
        w = strcspn(p, " \n");
        if (*pos > col && *pos + 1 + (int) w > HELP_WIDTH) {
            fprintf(f, "\n%*s", col, "");
            *pos = col;
        }
        if (*pos > col) {
            fputc(' ', f);
            (*pos)++;
        }
        fprintf(f, "%.*s", (int) w, p);
        *pos += (int) w;
        p += w;
    }
}

void bs_opt_print_help(FILE *f, const struct bs_opt_table *t,
                       const void *defaults)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct bs_opt *o = &t->opts[i];
        char left[96], def[96], tail[112];
        int pos;

        if (o->flags & BS_OPT_HIDDEN) {
            continue;
        }
        if (o->kind == BS_OPT_SECTION) {
            fprintf(f, "%s\n", o->help);
            continue;
        }
        if (o->short_name != 0) {
            pos = snprintf(left, sizeof left, "  -%c, --%s%s%s", o->short_name,
                           o->name, o->arg != NULL ? " " : "",
                           o->arg != NULL ? o->arg : "");
        } else {
            pos = snprintf(left, sizeof left, "      --%s%s%s", o->name,
                           o->arg != NULL ? " " : "",
                           o->arg != NULL ? o->arg : "");
        }
        fputs(left, f);
        if (pos + 1 <= t->col) { /* the text starts in its column */
            fprintf(f, "%*s", t->col - pos, "");
            pos = t->col;
        } else if (pos + 2 > t->col + 8) { /* far too long: next line */
            fprintf(f, "\n%*s", t->col, "");
            pos = t->col;
        } else { /* a little too long: two spaces, then wrap as usual */
            fputs(" ", f);
            pos += 1;
        }
        wrap(f, o->help != NULL ? o->help : "", t->col, &pos);
        default_text(o, defaults, def, sizeof def);
        if (def[0] != '\0') {
            snprintf(tail, sizeof tail, "(default: %s)", def);
            wrap(f, tail, t->col, &pos);
        }
        fputc('\n', f);
    }
}

void bs_opt_print_names(FILE *f, const struct bs_opt_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct bs_opt *o = &t->opts[i];

        if (o->kind == BS_OPT_SECTION) {
            continue;
        }
        fprintf(f, "--%s\n", o->name);
        if (o->short_name != 0) {
            fprintf(f, "-%c\n", o->short_name);
        }
    }
}
