/*
 * bitstuff_bench.c - bitstuff-bench, a load generator for bitstuffd in the
 * style of redis-benchmark that checks every reply against the reference
 * stuffing library.  Options: bench_opts.c; the engine: bench_run.c.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bench_hist.h"
#include "bench_opts.h"
#include "bench_run.h"

/* Exit codes, as --help documents them. */
enum {
    EXIT_ALL_OK = 0,
    EXIT_SETUP = 1,
    EXIT_FAILED = 2,
};

static const char *op_name(enum bs_bench_op op)
{
    return op == BS_BENCH_OP_STUFF     ? "stuff"
           : op == BS_BENCH_OP_UNSTUFF ? "unstuff"
                                       : "mixed";
}

static const char *rule_name(int rule)
{
    return rule == BS_BENCH_RULE_MIXED ? "mixed"
                                       : bs_rule_name((enum bs_rule) rule);
}

static double ms(uint64_t ns)
{
    return (double) ns / 1e6;
}

/* The figures both reports give, from the run's totals. */
struct figures {
    double secs;           /* never 0 */
    double rps, mbps;      /* requests/s, MB/s of request payload */
    double p50, p99, p999; /* latency percentiles, ms */
    double max;            /* the slowest, ms */
};

static struct figures figures_of(const struct bs_bench_result *r)
{
    struct figures f;

    f.secs = r->secs > 0 ? r->secs : 1e-9;
    f.rps = (double) r->ok / f.secs;
    f.mbps = (double) r->payload_bits / 8e6 / f.secs;
    f.p50 = ms(bs_bench_hist_percentile(&r->lat, 50.0));
    f.p99 = ms(bs_bench_hist_percentile(&r->lat, 99.0));
    f.p999 = ms(bs_bench_hist_percentile(&r->lat, 99.9));
    f.max = ms(r->lat.max);
    return f;
}

/* Each kind of failure and its count: ": name n, name n" for people,
 * "\"name\":n,..." in JSON. */
static void print_fail_counts(const struct bs_bench_result *r, int json)
{
    for (unsigned i = 0; i < BS_BENCH_F_COUNT; i++) {
        const char *name = bs_bench_fail_name((enum bs_bench_fail) i);
        unsigned long long n = r->fail[i];

        if (json) {
            printf("%s\"%s\":%llu", i == 0 ? "" : ",", name, n);
        } else {
            printf("%s %s %llu", i == 0 ? ":" : ",", name, n);
        }
    }
}

static void print_human(const struct bs_bench_opts *o,
                        const struct bs_bench_result *r)
{
    struct figures f = figures_of(r);
    uint64_t fails = bs_bench_result_failures(r);
    unsigned i;

    printf("bitstuff-bench: %s, %s %s\n", o->connect,
           r->tls_version[0] != '\0' ? r->tls_version : "(no TLS session)",
           r->tls_cipher);
    printf("  load        %u connection(s), %u thread(s), pipeline %u%s\n",
           o->connections, r->threads, o->pipeline,
           o->new_conn ? ", a new connection per request" : "");
    if (o->min_bits == o->max_bits) {
        printf("  messages    %llu bits, %s %s, %s",
               (unsigned long long) o->min_bits, op_name(o->op),
               rule_name(o->rule), o->text ? "text" : "binary");
    } else {
        printf("  messages    %llu-%llu bits, %s %s, %s",
               (unsigned long long) o->min_bits,
               (unsigned long long) o->max_bits, op_name(o->op),
               rule_name(o->rule), o->text ? "text" : "binary");
    }
    if (r->pool_count > 0) {
        printf(", pool of %zu\n", r->pool_count);
    } else {
        printf(", streamed\n");
    }
    if (!o->new_conn) {
        printf("  connect     %u up in %.3f s\n", r->connected,
               r->connect_secs);
    }
    printf("  requests    %llu ok", (unsigned long long) r->ok);
    if (r->bad_replies > 0) {
        printf(" (%llu of them the expected error replies)",
               (unsigned long long) r->bad_replies);
    }
    printf(" in %.3f s\n", r->secs);
    printf("  throughput  %.*f requests/s, %.2f MB/s of request payload\n",
           f.rps < 100 ? 2 : 0, f.rps, f.mbps);
    printf("  latency     p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f "
           "ms%s\n",
           f.p50, f.p99, f.p999, f.max, o->new_conn ? " (from connect)" : "");
    if (o->new_conn) {
        printf("  handshakes  %llu, %.0f/s, %llu resumed\n",
               (unsigned long long) r->handshakes,
               (double) r->handshakes / f.secs,
               (unsigned long long) r->resumed);
    }
    if (o->idle > 0) {
        printf("  idle        %llu of %u still answered at the end\n",
               (unsigned long long) r->idle_ok, o->idle);
    }
    printf("  errors      %llu", (unsigned long long) fails);
    print_fail_counts(r, 0);
    printf("\n");
    for (i = 0; i < BS_BENCH_F_COUNT; i++) {
        if (r->first[i][0] != '\0') {
            printf("  first %-9s %s\n",
                   bs_bench_fail_name((enum bs_bench_fail) i), r->first[i]);
        }
    }
}

/* A JSON string: the messages are ours or the server's, so escape. */
static void json_str(const char *s)
{
    putchar('"');
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char) *s;

        if (ch == '"' || ch == '\\') {
            printf("\\%c", ch);
        } else if (ch < 0x20) {
            printf("\\u%04x", ch);
        } else {
            putchar(ch);
        }
    }
    putchar('"');
}

static void print_json(const struct bs_bench_opts *o,
                       const struct bs_bench_result *r)
{
    struct figures f = figures_of(r);
    unsigned i;

    printf("{\"connect\":");
    json_str(o->connect);
    printf(",\"tls_version\":");
    json_str(r->tls_version);
    printf(",\"cipher\":");
    json_str(r->tls_cipher);
    printf(",\"connections\":%u,\"threads\":%u,\"pipeline\":%u,"
           "\"new_conn\":%s,\"text\":%s,\"op\":\"%s\",\"rule\":\"%s\","
           "\"min_bits\":%llu,\"max_bits\":%llu,\"pool\":%zu,"
           "\"connected\":%u,\"connect_seconds\":%.6f,",
           o->connections, r->threads, o->pipeline,
           o->new_conn ? "true" : "false", o->text ? "true" : "false",
           op_name(o->op), rule_name(o->rule), (unsigned long long) o->min_bits,
           (unsigned long long) o->max_bits, r->pool_count, r->connected,
           r->connect_secs);
    printf("\"ok\":%llu,\"error_replies_expected\":%llu,\"seconds\":%.6f,"
           "\"requests_per_sec\":%.1f,\"mb_per_sec\":%.3f,",
           (unsigned long long) r->ok, (unsigned long long) r->bad_replies,
           r->secs, f.rps, f.mbps);
    printf("\"latency_ms\":{\"p50\":%.4f,\"p99\":%.4f,\"p99_9\":%.4f,"
           "\"max\":%.4f,\"mean\":%.4f},",
           f.p50, f.p99, f.p999, f.max,
           r->lat.count > 0 ? ms(r->lat.sum / r->lat.count) : 0.0);
    printf("\"handshakes\":%llu,\"handshakes_per_sec\":%.1f,\"resumed\":%llu,"
           "\"idle\":%u,\"idle_ok\":%llu,\"failures\":%llu,\"errors\":{",
           (unsigned long long) r->handshakes, (double) r->handshakes / f.secs,
           (unsigned long long) r->resumed, o->idle,
           (unsigned long long) r->idle_ok,
           (unsigned long long) bs_bench_result_failures(r));
    print_fail_counts(r, 1);
    printf("},\"first_errors\":{");
    for (i = 0; i < BS_BENCH_F_COUNT; i++) {
        printf("%s\"%s\":", i == 0 ? "" : ",",
               bs_bench_fail_name((enum bs_bench_fail) i));
        json_str(r->first[i]);
    }
    printf("}}\n");
}

int main(int argc, char **argv)
{
    struct bs_bench_opts o;
    struct bs_bench_result r;
    char err[512];

    switch (bs_bench_opts_parse(&o, argc, argv, err, sizeof(err))) {
    case BS_BENCH_OPTS_HELP:
        bs_bench_opts_usage(stdout, "bitstuff-bench");
        return EXIT_ALL_OK;
    case BS_BENCH_OPTS_VERSION:
        printf("bitstuff-bench %s\n", BS_VERSION);
        return EXIT_ALL_OK;
    case BS_BENCH_OPTS_LIST:
        bs_bench_opts_list(stdout);
        return EXIT_ALL_OK;
    case BS_BENCH_OPTS_ERROR:
        fprintf(stderr, "bitstuff-bench: %s\n", err);
        return EXIT_SETUP;
    case BS_BENCH_OPTS_RUN:
        break;
    }
    /* a server that goes away must show up as lost replies, not kill us */
    signal(SIGPIPE, SIG_IGN);
    if (o.insecure && !o.quiet) {
        fprintf(stderr, "bitstuff-bench: warning: --insecure: the server's "
                        "certificate is not checked\n");
    }
    if (bs_bench_run(&o, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "bitstuff-bench: %s\n", err);
        return EXIT_SETUP;
    }
    if (o.json) {
        print_json(&o, &r);
    } else if (o.quiet) {
        struct figures f = figures_of(&r);

        printf("%.0f requests/s, %.2f MB/s, p50 %.3f ms, p99 %.3f ms, "
               "%llu failures\n",
               f.rps, f.mbps, f.p50, f.p99,
               (unsigned long long) bs_bench_result_failures(&r));
    } else {
        print_human(&o, &r);
    }
    return bs_bench_result_failures(&r) == 0 ? EXIT_ALL_OK : EXIT_FAILED;
}
