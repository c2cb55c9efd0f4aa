/*
 * bench_opts.h - command-line options of bitstuff-bench.
 *
 * Parsing is pure (no printing, no exit, no getopt state) so it can be
 * unit tested; bitstuff_bench.c prints the error or the help.
 */
#ifndef BS_BENCH_OPTS_H
#define BS_BENCH_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_msg.h"

/* Largest message, in bits: 8 GiB of data (the server's default limit is
 * 1 GiB).  Larger -s values are refused with this number. */
#define BS_BENCH_MAX_BITS 68719476736ull
/* Largest message kept in the pool; larger ones are streamed. */
#define BS_BENCH_POOL_MAX_BITS 8388608ull
/* Text lines carry at most this many bits (the server's default line
 * limit is 65536 bytes with the words and LF). */
#define BS_BENCH_TEXT_MAX_BITS 65000ull

struct bs_bench_opts {
    const char *connect;   /* HOST:PORT; default "localhost:55000" */
    const char *ca_file;   /* NULL: system store */
    const char *cert_file; /* mutual TLS */
    const char *key_file;
    const char *servername; /* NULL: the host of --connect */
    int insecure;
    int min_tls;          /* 12 or 13 */
    unsigned connections; /* -n, default 50 */
    uint64_t requests;    /* -r, default 100000; 0: until --duration */
    int requests_set;
    unsigned pipeline; /* -P, default 1 */
    uint64_t min_bits; /* -s, default 64 */
    uint64_t max_bits;
    enum bs_bench_op op; /* default stuff */
    int rule;            /* enum bs_rule or BS_BENCH_RULE_MIXED */
    int new_conn;
    int resume;           /* default on */
    unsigned threads;     /* 0: choose */
    uint64_t duration_ms; /* -d, 0: off */
    uint64_t seed;        /* default 1 */
    int text;
    unsigned idle;
    double errors;       /* fraction of bad requests */
    unsigned pool;       /* distinct pool messages, default 1024 */
    unsigned timeout_ms; /* no progress for this long: timeout */
    int json;
    int quiet;
};

enum bs_bench_opts_result {
    BS_BENCH_OPTS_RUN = 0,
    BS_BENCH_OPTS_HELP = 1,    /* --help: print usage, exit 0 */
    BS_BENCH_OPTS_VERSION = 2, /* --version */
    BS_BENCH_OPTS_ERROR = -1,  /* err says what is wrong */
    BS_BENCH_OPTS_LIST = 3,    /* --list-options: bs_bench_opts_list */
};

/* Defaults into o. */
void bs_bench_opts_default(struct bs_bench_opts *o);

/*
 * Parse argv[1..argc) into o (defaults first).  Strings in o point into
 * argv.  On BS_BENCH_OPTS_ERROR, err holds a sentence naming the option
 * and what it accepts.
 */
enum bs_bench_opts_result bs_bench_opts_parse(struct bs_bench_opts *o, int argc,
                                              char *const argv[], char *err,
                                              size_t errlen);

/* The help text (options: the table in bench_opts.c; see optparse.h). */
void bs_bench_opts_usage(FILE *f, const char *prog);

/* Every option name, one a line (bash completion, man-page test). */
void bs_bench_opts_list(FILE *f);

#endif /* BS_BENCH_OPTS_H */
