/*
 * bench_opts.c - option parsing for bitstuff-bench.
 */
#include "bench_opts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net.h"
#include "num.h"
#include "optparse.h"
#include "tls.h"

void bs_bench_opts_default(struct bs_bench_opts *o)
{
    static const struct bs_bench_opts d = {
        .connect = BS_NET_DEFAULT_ADDR,
        .min_tls = 13,
        .connections = 50,
        .requests = 100000,
        .pipeline = 1,
        .min_bits = 64,
        .max_bits = 64,
        .op = BS_BENCH_OP_STUFF,
        .resume = 1,
        .seed = 1,
        .pool = 1024,
        .timeout_ms = 30000,
    };

    *o = d;
}

static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
    return bs_num_parse_count(s, 0, max, out);
}

static int parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max)) {
        return -1;
    }
    *out = v;
    return 0;
}

/* "SIZE" or "MIN-MAX" in bits. */
static int parse_bits_range(const char *s, uint64_t *min, uint64_t *max)
{
    char buf[64];
    const char *dash = strchr(s, '-');
    size_t n;

    if (dash == NULL) {
        if (parse_count(s, BS_BENCH_MAX_BITS, min) != 0) {
            return -1;
        }
        *max = *min;
        return 0;
    }
    n = (size_t) (dash - s);
    if (n == 0 || n >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (parse_count(buf, BS_BENCH_MAX_BITS, min) != 0 ||
        parse_count(dash + 1, BS_BENCH_MAX_BITS, max) != 0 || *min > *max)
    {
        return -1;
    }
    return 0;
}

/* -s: SIZE or MIN-MAX. */
static int parse_bits(void *opts, const char *s)
{
    struct bs_bench_opts *o = opts;

    return parse_bits_range(s, &o->min_bits, &o->max_bits);
}

/* --rule: a rule of the stuffing module, or mixed. */
static int parse_rule(void *opts, const char *s)
{
    struct bs_bench_opts *o = opts;
    enum bs_rule r;

    if (strcasecmp(s, "mixed") == 0) {
        o->rule = BS_BENCH_RULE_MIXED;
        return 0;
    }
    if (bs_rule_parse(s, strlen(s), &r) != 0) {
        return -1;
    }
    o->rule = (int) r;
    return 0;
}

static int parse_errors(void *opts, const char *s)
{
    return parse_double(s, 0.0, 1.0, &((struct bs_bench_opts *) opts)->errors);
}

static const struct bs_opt_word op_words[] = {
    {"stuff", BS_BENCH_OP_STUFF},
    {"unstuff", BS_BENCH_OP_UNSTUFF},
    {"mixed", BS_BENCH_OP_MIXED},
    {NULL, 0},
};

static const struct bs_opt_word on_off[] = {{"on", 1}, {"off", 0}, {NULL, 0}};

#define O(member) BS_OPT_AT(struct bs_bench_opts, member)
#define SHOW      BS_OPT_SHOW_DEFAULT
/* How most rows begin: a string stored as given, and a flag that stores
 * 1 (long name, letter or 0, argument name, field). */
#define STRING(name, letter, arg, member)                                      \
    BS_OPT_NAME(name, letter, BS_OPT_STRING, arg), O(member)
#define FLAG(name, letter, member)                                             \
    BS_OPT_NAME(name, letter, BS_OPT_FLAG, NULL), O(member), .min = 1
/* -d: from 1ms to 1,000,000 s; --timeout: from 1ms to an hour */
#define MAX_DURATION_MS (1000000ull * 1000u)
#define MAX_TIMEOUT_MS  (3600u * 1000u)

static const struct bs_opt options[] = {
    {.name = "", .kind = BS_OPT_SECTION, .help = "Connection:"},
    {STRING("connect", 'c', "HOST:PORT", connect), .flags = SHOW,
     .help = "server"},
    {STRING("ca-file", 0, "FILE", ca_file),
     .help = "CA certificates to verify the server (default: ca.crt "
             "found as bitstuff finds it, otherwise the system store)"},
    {STRING("cert", 0, "FILE", cert_file),
     .help = "client certificate for mutual TLS (with --key)"},
    {STRING("key", 0, "FILE", key_file), .help = "its private key"},
    {STRING("servername", 0, "NAME", servername),
     .help = "SNI and name to verify (default: the host)"},
    {FLAG("insecure", 0, insecure),
     .help = "do not verify the server (testing only)"},
    BS_OPT_MIN_TLS(struct bs_bench_opts, min_tls, "lowest TLS version"),
    {.name = "", .kind = BS_OPT_SECTION, .help = "Load:"},
    {BS_OPT_NAME("connections", 'n', BS_OPT_COUNT, "N"), O(connections),
     .min = 1, .max = 1000000, .what = "a connection count", .flags = SHOW,
     .help = "concurrent connections"},
    {BS_OPT_NAME("requests", 'r', BS_OPT_COUNT, "N"), O(requests),
     .max = UINT64_MAX / 2, BS_OPT_SEEN(struct bs_bench_opts, requests_set),
     .what = "a request count", .flags = SHOW,
     .help = "requests in total; k/M/G ok"},
    {BS_OPT_NAME("duration", 'd', BS_OPT_DURATION, "T"), O(duration_ms),
     .min = 1, .max = MAX_DURATION_MS,
     .help = "stop after this time (alone: no request limit)"},
    {BS_OPT_NAME("pipeline", 'P', BS_OPT_COUNT, "DEPTH"), O(pipeline), .min = 1,
     .max = 65536, .what = "a pipeline depth", .flags = SHOW,
     .help = "requests in flight per connection"},
    {BS_OPT_NAME("bits", 's', BS_OPT_CUSTOM, "SIZE|MIN-MAX"),
     .parse = parse_bits,
     .what = "a size in bits (SIZE or MIN-MAX, each up to 68719476736)",
     .help = "message size in bits, or a random range (default 64; over "
             "8388608 bits: streamed)"},
    {BS_OPT_NAME("op", 0, BS_OPT_CHOICE, "stuff|unstuff|mixed"), O(op),
     .words = op_words, .what = "an operation", .flags = SHOW,
     .help = "the operation requested"},
    {BS_OPT_NAME("rule", 0, BS_OPT_CUSTOM, "hdlc|usb|can|mixed"),
     .parse = parse_rule, .what = "a rule; use hdlc, usb, can or mixed",
     .help = "the stuffing rule (default hdlc)"},
    {BS_OPT_NAME("errors", 0, BS_OPT_CUSTOM, "FRACTION"), .parse = parse_errors,
     .what = "a fraction from 0 to 1 (e.g. 0.1)",
     .help = "make this share of requests invalid and check the error code "
             "and offset of their replies"},
    {FLAG("text", 0, text), .help = "send text lines instead of binary frames"},
    {FLAG("new-conn", 0, new_conn),
     .help = "a new TLS connection per request (handshakes/s)"},
    {BS_OPT_NAME("resume", 0, BS_OPT_CHOICE, "on|off"), O(resume),
     .words = on_off, .what = "on or off", .flags = SHOW,
     .help = "TLS session resumption with --new-conn"},
    {BS_OPT_NAME("idle", 0, BS_OPT_COUNT, "N"), O(idle), .max = 1000000,
     .what = "a connection count",
     .help = "hold N extra idle connections through the run, then check "
             "that each still answers"},
    {BS_OPT_NAME("threads", 't', BS_OPT_COUNT, "T"), O(threads), .min = 1,
     .max = 256, .what = "a thread count",
     .help = "client threads (default: 1 or 2)"},
    {BS_OPT_NAME("seed", 0, BS_OPT_COUNT, "N"), O(seed), .max = UINT64_MAX,
     .flags = SHOW, .help = "seed of the random messages"},
    {BS_OPT_NAME("pool", 0, BS_OPT_COUNT, "N"), O(pool), .min = 1,
     .max = 1000000, .what = "a message count", .flags = SHOW,
     .help = "distinct messages to cycle"},
    {BS_OPT_NAME("timeout", 0, BS_OPT_DURATION, "T"), O(timeout_ms), .min = 1,
     .max = MAX_TIMEOUT_MS, .flags = SHOW,
     .help = "fail a connection without progress for this long"},
    {.name = "", .kind = BS_OPT_SECTION, .help = "Output:"},
    {FLAG("json", 0, json), .help = "machine-readable summary on stdout"},
    {FLAG("quiet", 'q', quiet), .help = "no progress, summary only"},
    BS_OPT_STANDARD(BS_BENCH_OPTS_HELP, BS_BENCH_OPTS_VERSION,
                    BS_BENCH_OPTS_LIST),
};

static const struct bs_opt_table table = BS_OPT_TABLE(options, 0, 27);

#define BAD(...)                                                               \
    do {                                                                       \
        snprintf(err, errlen, __VA_ARGS__);                                    \
        return -1;                                                             \
    } while (0)

/* Checks that involve several options. */
static int check(struct bs_bench_opts *o, char *err, size_t errlen)
{
    if ((o->cert_file == NULL) != (o->key_file == NULL)) {
        BAD("--cert and --key go together: give both for mutual TLS, or "
            "neither");
    }
    if (o->duration_ms > 0 && !o->requests_set) {
        o->requests = 0; /* until the time is up */
    }
    if (o->requests == 0 && o->duration_ms == 0) {
        BAD("-r/--requests 0 needs --duration T as the stop condition");
    }
    if (o->text && o->max_bits > BS_BENCH_TEXT_MAX_BITS) {
        BAD("--text: a text line carries at most %" PRIu64
            " bits (the server's line limit); use binary frames for larger "
            "messages",
            (uint64_t) BS_BENCH_TEXT_MAX_BITS);
    }
    if (o->max_bits > BS_BENCH_POOL_MAX_BITS && o->errors > 0) {
        BAD("--errors works with messages of up to %" PRIu64
            " bits (larger ones are streamed, always valid)",
            (uint64_t) BS_BENCH_POOL_MAX_BITS);
    }
    if (o->errors > 0 && o->op == BS_BENCH_OP_STUFF && !o->text) {
        BAD("--errors: a binary stuff request cannot be invalid; use --op "
            "unstuff or mixed, or --text (bad characters)");
    }
    if (o->new_conn && o->pipeline > 1) {
        BAD("--new-conn sends one request per connection; -P must be 1");
    }
    return 0;
}

enum bs_bench_opts_result bs_bench_opts_parse(struct bs_bench_opts *o, int argc,
                                              char *const argv[], char *err,
                                              size_t errlen)
{
    int rc;

    bs_bench_opts_default(o);
    rc = bs_opt_parse(&table, argc, argv, o, NULL, err, errlen);
    if (rc != 0) {
        return rc < 0 ? BS_BENCH_OPTS_ERROR : (enum bs_bench_opts_result) rc;
    }
    if (check(o, err, errlen) != 0) {
        return BS_BENCH_OPTS_ERROR;
    }
    return BS_BENCH_OPTS_RUN;
}

void bs_bench_opts_usage(FILE *f, const char *prog)
{
    struct bs_bench_opts d;

    bs_bench_opts_default(&d);
    fprintf(f,
            "Usage: %s [options]\n"
            "Load generator for bitstuffd: many TLS connections send random "
            "messages,\n"
            "every reply is checked against the reference stuffing library.\n"
            "\n",
            prog);
    bs_opt_print_help(f, &table, &d);
    fputs("\n"
          "Durations T are seconds, or a number with a unit: 500ms, 10s, "
          "1.5s, 5m.\n"
          "Exit status: 0 if every request got the expected reply; 1 on a "
          "usage or\n"
          "set-up error; 2 if any request failed, was answered wrongly or was "
          "lost.\n",
          f);
}

void bs_bench_opts_list(FILE *f)
{
    bs_opt_print_names(f, &table);
}
