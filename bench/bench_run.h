/*
 * bench_run.h - the load engine of bitstuff-bench: threads, each with an
 * epoll loop over its share of non-blocking TLS connections, sending
 * requests and checking every reply.
 */
#ifndef BS_BENCH_RUN_H
#define BS_BENCH_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "bench_hist.h"
#include "bench_opts.h"

/* How a request or a connection failed. */
enum bs_bench_fail {
    BS_BENCH_F_CONNECT = 0, /* TCP connect failed (connections) */
    BS_BENCH_F_HANDSHAKE,   /* TLS handshake failed (connections) */
    BS_BENCH_F_WRONG,       /* a reply differed from the reference */
    BS_BENCH_F_LOST,        /* in flight when the connection closed */
    BS_BENCH_F_TIMEOUT,     /* no progress for --timeout */
    BS_BENCH_F_UNSENT,      /* never sent: no connection was left */
    BS_BENCH_F_IDLE,        /* an --idle connection closed or failed */
    BS_BENCH_F_COUNT,
};

/* The name of a failure kind ("connect", "wrong", ...). */
const char *bs_bench_fail_name(enum bs_bench_fail f);

struct bs_bench_result {
    uint64_t ok;          /* requests answered as the reference says */
    uint64_t bad_replies; /* of which error replies expected (--errors) */
    uint64_t fail[BS_BENCH_F_COUNT];
    char first[BS_BENCH_F_COUNT][256]; /* first message of each kind */
    uint64_t handshakes;
    uint64_t resumed;
    uint64_t idle_ok;
    uint64_t payload_bits; /* request payload of answered requests */
    unsigned threads;
    unsigned connected;  /* connections up after the connect phase */
    double connect_secs; /* the connect phase (not with --new-conn) */
    double secs;         /* the measured run */
    char tls_version[16];
    char tls_cipher[64];
    size_t pool_count;        /* 0 when messages are streamed */
    struct bs_bench_hist lat; /* ns per request; with --new-conn from the
                                 start of its connection */
};

/* Requests that failed for any reason, connection failures included. */
uint64_t bs_bench_result_failures(const struct bs_bench_result *r);

/*
 * Run the load described by o.  Returns 0 when the run took place (even
 * if requests failed: see r->fail), or -1 with err filled when it could
 * not start (bad address, bad certificate file, out of memory).
 */
int bs_bench_run(const struct bs_bench_opts *o, struct bs_bench_result *r,
                 char *err, size_t errlen);

#endif /* BS_BENCH_RUN_H */
