/*
 * optparse.h - one table-driven command-line parser for every program.
 *
 * A program describes its options as a const array of struct bs_opt; this
 * module runs getopt_long from it, stores each value into the program's
 * options struct (at offsetof), words every error the same way, prints
 * the --help option list and the bare option names from the same table,
 * so --help, the man pages and bash completion cannot disagree with the
 * parser.  Parsing prints nothing; strings point into argv (borrowed).
 *
 * ADDING AN OPTION: add its storage field to the program's struct (and its
 * default to the program's defaults function), then one line to the
 * program's table, e.g.
 *
 *     {BS_OPT_NAME("max-conns", 0, BS_OPT_UINT, "N"),
 *      BS_OPT_AT(struct bs_opts, max_conns), .min = 1, .max = 1000000,
 *      .what = "a connection count", .flags = BS_OPT_SHOW_DEFAULT,
 *      .help = "open connections at most; more are closed at once"},
 *
 * (long name, short letter or 0, kind, argument name in --help or NULL;
 * then where it is stored, its range, and its words).
 *
 * Checks that involve several options stay in the program, after parsing.
 *
 * Errors read "OPT: 'VALUE' is not WHAT from MIN to MAX", "OPT needs a
 * value", "unknown option 'X' (see --help)", "too many --OPT options (at
 * most N)"; OPT is spelled as the user typed it (-n or --connections).
 *
 * Durations (BS_OPT_DURATION, stored in milliseconds) have one syntax in
 * every program: a number with an optional fraction and unit ms, s, m or
 * h; a bare number is seconds: 500ms, 10, 10s, 1.5s, 5m, 1h.
 */
#ifndef BS_OPTPARSE_H
#define BS_OPTPARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum bs_opt_kind {
    BS_OPT_FLAG,     /* no argument: stores .min (give .min = 1) */
    BS_OPT_REPEAT,   /* no argument: each use adds 1, up to .max (-vv) */
    BS_OPT_ACTION,   /* no argument: the parse returns .min at once (help) */
    BS_OPT_STRING,   /* any argument, stored as given */
    BS_OPT_NONEMPTY, /* a string that must not be empty */
    BS_OPT_FILE,     /* a file name: not empty */
    BS_OPT_LIST,     /* repeatable, not empty, at most .max; see .count */
    BS_OPT_UINT,     /* decimal digits, in [.min, .max] */
    BS_OPT_COUNT,    /* the same with a k, M or G suffix (x 1000) */
    BS_OPT_DURATION, /* milliseconds in [.min, .max] (see above) */
    BS_OPT_CHOICE,   /* one of .words (any case): stores its value */
    BS_OPT_CUSTOM,   /* .parse(opts, arg) does it; .what names the value */
    BS_OPT_SECTION,  /* no option: .help is a heading line of --help */
};

/* A word of a BS_OPT_CHOICE and the value it stores; {NULL} ends a list. */
struct bs_opt_word {
    const char *word;
    int value;
};

/* An entry's first four fields: long name, letter (or 0), kind, and the
 * argument's name in --help (NULL for flags and actions). */
#define BS_OPT_NAME(long_name, letter, kind_, arg_name)                        \
    .name = (long_name), .short_name = (letter), .kind = (kind_),              \
    .arg = (arg_name)

/* Where a value goes: the field's offset and size in the options struct.
 * Integer fields may be 1, 2, 4 or 8 bytes wide (int, unsigned, enum,
 * uint64_t, size_t); strings are const char *; lists const char *[N]. */
#define BS_OPT_AT(type, member)                                                \
    .off = offsetof(type, member), .size = sizeof(((type *) 0)->member)
/* A BS_OPT_LIST's size_t counter. */
#define BS_OPT_COUNTER(type, member) .count = offsetof(type, member) + 1
/* An int set to 1 when the option is given (e.g. has_rule). */
#define BS_OPT_SEEN(type, member) .seen = offsetof(type, member) + 1

enum {
    BS_OPT_SHOW_DEFAULT = 1, /* --help appends "(default: X)" */
    BS_OPT_HIDDEN = 2,       /* not in --help (still in the name list) */
};

struct bs_opt {
    const char *name;      /* long name, without "--" */
    int short_name;        /* letter, or 0 */
    enum bs_opt_kind kind; /* what the argument is */
    const char *arg;       /* its name in --help: "FILE", "N" */
    size_t off, size;      /* BS_OPT_AT */
    size_t count;          /* BS_OPT_COUNTER (lists) */
    size_t seen;           /* BS_OPT_SEEN, optional */
    uint64_t min, max;     /* range; list length; flag or action value */
    const struct bs_opt_word *words;         /* BS_OPT_CHOICE */
    int (*parse)(void *opts, const char *s); /* BS_OPT_CUSTOM: 0 or -1 */
    const char *what; /* the value in errors: "a thread count" */
    const char *help; /* --help text; wrapped; '\n' forces a break */
    unsigned flags;   /* BS_OPT_SHOW_DEFAULT, BS_OPT_HIDDEN */
};

struct bs_opt_table {
    const struct bs_opt *opts;
    size_t n;
    int positional; /* 1: arguments after the options are allowed */
    int col;        /* --help: the column where the text starts */
};

#define BS_OPT_TABLE(array, positional, col)                                   \
    {                                                                          \
        (array), sizeof(array) / sizeof((array)[0]), (positional), (col)       \
    }

/* The entries every program has: -h/--help, -V/--version, and the hidden
 * --list-options; the parse returns the given codes for them. */
#define BS_OPT_STANDARD(help_code, version_code, list_code)                    \
    {BS_OPT_NAME("help", 'h', BS_OPT_ACTION, NULL), .min = (help_code),        \
     .help = "show this help and exit"},                                       \
        {BS_OPT_NAME("version", 'V', BS_OPT_ACTION, NULL),                     \
         .min = (version_code), .help = "show the version and exit"},          \
    {                                                                          \
        BS_OPT_NAME("list-options", 0, BS_OPT_ACTION, NULL),                   \
            .min = (list_code), .flags = BS_OPT_HIDDEN,                        \
            .help = "print every option name, one a line"                      \
    }

/* --min-tls 1.2|1.3 into an int field (12 or 13). */
#define BS_OPT_MIN_TLS(type, member, help_text)                                \
    {                                                                          \
        BS_OPT_NAME("min-tls", 0, BS_OPT_CHOICE, "1.2|1.3"),                   \
            BS_OPT_AT(type, member),                                           \
            .words = bs_opt_words_tls, .what = "a TLS version",                \
            .flags = BS_OPT_SHOW_DEFAULT, .help = (help_text)                  \
    }

/* Most options a table may hold. */
#define BS_OPT_MAX 96

/* The TLS versions, for a --min-tls choice: 1.2 -> 12, 1.3 -> 13. */
extern const struct bs_opt_word bs_opt_words_tls[];

/*
 * Parse argv into opts (which the caller has filled with its defaults).
 * Resets getopt's state first, so it may run more than once.  Returns 0
 * with *first_arg the index of the first positional argument, an
 * action's value (> 0) as soon as one is seen, or -1 with a sentence in
 * err.
 */
int bs_opt_parse(const struct bs_opt_table *t, int argc, char *const argv[],
                 void *opts, int *first_arg, char *err, size_t errlen);

/*
 * A duration: digits, an optional fraction, and a unit ms, s, m or h
 * (none: seconds).  Returns 0 and *ms, or -1 if it is malformed or not in
 * [min_ms, max_ms].  Fractions of a millisecond are dropped.
 */
int bs_opt_parse_duration(const char *s, uint64_t min_ms, uint64_t max_ms,
                          uint64_t *ms);

/* ms as the shortest exact duration: "24h", "5m", "10s", "1500ms". */
void bs_opt_format_duration(uint64_t ms, char *buf, size_t len);

/* The option list of --help, defaults taken from a struct that the
 * program's defaults filled (may be NULL: no defaults shown). */
void bs_opt_print_help(FILE *f, const struct bs_opt_table *t,
                       const void *defaults);

/* Every option name, one a line ("--listen", "-l"), hidden ones too: for
 * the man-page sync test and bash completion (--list-options). */
void bs_opt_print_names(FILE *f, const struct bs_opt_table *t);

#endif /* BS_OPTPARSE_H */
