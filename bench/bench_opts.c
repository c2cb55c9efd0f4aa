/*
 * bench_opts.c - option parsing for bitstuff-bench.
 */
#include "bench_opts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "num.h"
#include "tls.h"

enum opt_id {
    O_CONNECT,
    O_CA,
    O_CERT,
    O_KEY,
    O_SNI,
    O_INSECURE,
    O_MIN_TLS,
    O_CONNS,
    O_REQS,
    O_PIPE,
    O_BITS,
    O_OP,
    O_RULE,
    O_NEWCONN,
    O_RESUME,
    O_THREADS,
    O_DURATION,
    O_SEED,
    O_TEXT,
    O_IDLE,
    O_ERRORS,
    O_POOL,
    O_TIMEOUT,
    O_JSON,
    O_QUIET,
    O_HELP,
    O_VERSION,
};

struct opt {
    const char *name;
    char short_name;
    int has_arg;
    enum opt_id id;
};

static const struct opt opts[] = {
    {"connect", 'c', 1, O_CONNECT},   {"ca-file", 0, 1, O_CA},
    {"cert", 0, 1, O_CERT},           {"key", 0, 1, O_KEY},
    {"servername", 0, 1, O_SNI},      {"insecure", 0, 0, O_INSECURE},
    {"min-tls", 0, 1, O_MIN_TLS},     {"connections", 'n', 1, O_CONNS},
    {"requests", 'r', 1, O_REQS},     {"pipeline", 'P', 1, O_PIPE},
    {"bits", 's', 1, O_BITS},         {"op", 0, 1, O_OP},
    {"rule", 0, 1, O_RULE},           {"new-conn", 0, 0, O_NEWCONN},
    {"resume", 0, 1, O_RESUME},       {"threads", 't', 1, O_THREADS},
    {"duration", 'd', 1, O_DURATION}, {"seed", 0, 1, O_SEED},
    {"text", 0, 0, O_TEXT},           {"idle", 0, 1, O_IDLE},
    {"errors", 0, 1, O_ERRORS},       {"pool", 0, 1, O_POOL},
    {"timeout", 0, 1, O_TIMEOUT},     {"json", 0, 0, O_JSON},
    {"quiet", 'q', 0, O_QUIET},       {"help", 'h', 0, O_HELP},
    {"version", 'V', 0, O_VERSION},
};

void bs_bench_opts_default(struct bs_bench_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->connect = BS_NET_DEFAULT_ADDR;
    o->min_tls = 13;
    o->connections = 50;
    o->requests = 100000;
    o->pipeline = 1;
    o->min_bits = 64;
    o->max_bits = 64;
    o->op = BS_BENCH_OP_STUFF;
    o->rule = 0;
    o->resume = 1;
    o->seed = 1;
    o->pool = 1024;
    o->timeout_ms = 30000;
}

/* A decimal count with an optional k, M or G (x1000) suffix, <= max. */
static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
    return bs_num_parse_count(s, 0, max, out);
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    uint64_t v;

    if (parse_count(s, max, &v) != 0 || v < min) {
        return -1;
    }
    *out = (unsigned) v;
    return 0;
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
static int parse_bits(const char *s, uint64_t *min, uint64_t *max)
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

static const struct opt *find_long(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        if (strlen(opts[i].name) == len &&
            strncmp(opts[i].name, name, len) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

static const struct opt *find_short(char c)
{
    size_t i;

    for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        if (opts[i].short_name == c) {
            return &opts[i];
        }
    }
    return NULL;
}

#define BAD(...)                                                               \
    do {                                                                       \
        snprintf(err, errlen, __VA_ARGS__);                                    \
        return -1;                                                             \
    } while (0)

/* Apply one option; name is how the user spelled it, for messages. */
static int apply(struct bs_bench_opts *o, enum opt_id id, const char *name,
                 const char *v, char *err, size_t errlen)
{
    uint64_t u;

    switch (id) {
    case O_CONNECT:
        o->connect = v;
        break;
    case O_CA:
        o->ca_file = v;
        break;
    case O_CERT:
        o->cert_file = v;
        break;
    case O_KEY:
        o->key_file = v;
        break;
    case O_SNI:
        o->servername = v;
        break;
    case O_INSECURE:
        o->insecure = 1;
        break;
    case O_MIN_TLS:
        o->min_tls = bs_tls_parse_version(v);
        if (o->min_tls == 0) {
            BAD("%s: '%s' is not a TLS version; use 1.2 or 1.3", name, v);
        }
        break;
    case O_CONNS:
        if (parse_uint(v, 1, 1000000, &o->connections) != 0) {
            BAD("%s: '%s' is not a connection count from 1 to 1000000", name,
                v);
        }
        break;
    case O_REQS:
        if (parse_count(v, UINT64_MAX / 2, &u) != 0) {
            BAD("%s: '%s' is not a request count (a number, k/M/G allowed)",
                name, v);
        }
        o->requests = u;
        o->requests_set = 1;
        break;
    case O_PIPE:
        if (parse_uint(v, 1, 65536, &o->pipeline) != 0) {
            BAD("%s: '%s' is not a pipeline depth from 1 to 65536", name, v);
        }
        break;
    case O_BITS:
        if (parse_bits(v, &o->min_bits, &o->max_bits) != 0) {
            BAD("%s: '%s' is not a size in bits (SIZE or MIN-MAX, each up "
                "to %" PRIu64 ")",
                name, v, (uint64_t) BS_BENCH_MAX_BITS);
        }
        break;
    case O_OP:
        if (strcmp(v, "stuff") == 0) {
            o->op = BS_BENCH_OP_STUFF;
        } else if (strcmp(v, "unstuff") == 0) {
            o->op = BS_BENCH_OP_UNSTUFF;
        } else if (strcmp(v, "mixed") == 0) {
            o->op = BS_BENCH_OP_MIXED;
        } else {
            BAD("%s: '%s' is not an operation; use stuff, unstuff or mixed",
                name, v);
        }
        break;
    case O_RULE: {
        enum bs_rule r;

        if (strcmp(v, "mixed") == 0) {
            o->rule = BS_BENCH_RULE_MIXED;
        } else if (bs_rule_parse(v, strlen(v), &r) == 0) {
            o->rule = (int) r;
        } else {
            BAD("%s: '%s' is not a rule; use hdlc, usb, can or mixed", name, v);
        }
        break;
    }
    case O_NEWCONN:
        o->new_conn = 1;
        break;
    case O_RESUME:
        if (strcmp(v, "on") == 0) {
            o->resume = 1;
        } else if (strcmp(v, "off") == 0) {
            o->resume = 0;
        } else {
            BAD("%s: '%s' is neither on nor off", name, v);
        }
        break;
    case O_THREADS:
        if (parse_uint(v, 1, 256, &o->threads) != 0) {
            BAD("%s: '%s' is not a thread count from 1 to 256", name, v);
        }
        break;
    case O_DURATION:
        if (parse_double(v, 0.001, 1e6, &o->duration) != 0) {
            BAD("%s: '%s' is not a number of seconds (0.001 to 1000000)", name,
                v);
        }
        break;
    case O_SEED:
        if (parse_count(v, UINT64_MAX, &o->seed) != 0) {
            BAD("%s: '%s' is not a number", name, v);
        }
        break;
    case O_TEXT:
        o->text = 1;
        break;
    case O_IDLE:
        if (parse_uint(v, 0, 1000000, &o->idle) != 0) {
            BAD("%s: '%s' is not a connection count from 0 to 1000000", name,
                v);
        }
        break;
    case O_ERRORS:
        if (parse_double(v, 0.0, 1.0, &o->errors) != 0) {
            BAD("%s: '%s' is not a fraction from 0 to 1 (e.g. 0.1)", name, v);
        }
        break;
    case O_POOL:
        if (parse_uint(v, 1, 1000000, &o->pool) != 0) {
            BAD("%s: '%s' is not a message count from 1 to 1000000", name, v);
        }
        break;
    case O_TIMEOUT:
        if (parse_uint(v, 1, 3600000, &o->timeout_ms) != 0) {
            BAD("%s: '%s' is not a time in milliseconds (1 to 3600000)", name,
                v);
        }
        break;
    case O_JSON:
        o->json = 1;
        break;
    case O_QUIET:
        o->quiet = 1;
        break;
    case O_HELP:
    case O_VERSION:
        break;
    }
    return 0;
}

/* Checks that involve several options. */
static int check(struct bs_bench_opts *o, char *err, size_t errlen)
{
    if ((o->cert_file == NULL) != (o->key_file == NULL)) {
        BAD("--cert and --key go together: give both for mutual TLS, or "
            "neither");
    }
    if (o->duration > 0 && !o->requests_set) {
        o->requests = 0; /* until the time is up */
    }
    if (o->requests == 0 && o->duration <= 0) {
        BAD("-r/--requests 0 needs --duration SECONDS as the stop condition");
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
    int i, help = 0, version = 0;

    bs_bench_opts_default(o);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL, *eq;
        const struct opt *op;
        char name[40];

        if (a[0] != '-' || a[1] == '\0') {
            snprintf(err, errlen,
                     "unexpected argument '%s'; options start with - (see "
                     "--help)",
                     a);
            return BS_BENCH_OPTS_ERROR;
        }
        if (a[1] == '-') {
            eq = strchr(a + 2, '=');
            op = find_long(a + 2,
                           eq != NULL ? (size_t) (eq - a - 2) : strlen(a + 2));
            snprintf(name, sizeof(name), "--%.*s",
                     (int) (eq != NULL ? eq - a - 2 : (long) strlen(a + 2)),
                     a + 2);
            if (op != NULL && eq != NULL) {
                val = eq + 1;
            }
        } else {
            op = find_short(a[1]);
            snprintf(name, sizeof(name), "-%c", a[1]);
            if (op != NULL && a[2] != '\0') {
                val = a + 2;
            }
        }
        if (op == NULL) {
            snprintf(err, errlen, "unknown option '%s' (see --help)", a);
            return BS_BENCH_OPTS_ERROR;
        }
        if (!op->has_arg && val != NULL) {
            snprintf(err, errlen, "%s takes no value", name);
            return BS_BENCH_OPTS_ERROR;
        }
        if (op->has_arg && val == NULL) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "%s needs a value (see --help)", name);
                return BS_BENCH_OPTS_ERROR;
            }
            val = argv[++i];
        }
        help |= op->id == O_HELP;
        version |= op->id == O_VERSION;
        if (apply(o, op->id, name, val, err, errlen) != 0) {
            return BS_BENCH_OPTS_ERROR;
        }
    }
    if (help) {
        return BS_BENCH_OPTS_HELP;
    }
    if (version) {
        return BS_BENCH_OPTS_VERSION;
    }
    if (check(o, err, errlen) != 0) {
        return BS_BENCH_OPTS_ERROR;
    }
    return BS_BENCH_OPTS_RUN;
}

void bs_bench_opts_usage(FILE *f, const char *prog)
{
    fprintf(
        f,
        "Usage: %s [options]\n"
        "Load generator for bitstuffd: many TLS connections send random "
        "messages,\n"
        "every reply is checked against the reference stuffing library.\n"
        "\n"
        "Connection:\n"
        "  -c, --connect HOST:PORT  server (default " BS_NET_DEFAULT_ADDR ")\n"
        "      --ca-file FILE       CA certificates to verify the server\n"
        "      --cert FILE --key FILE  client certificate for mutual TLS\n"
        "      --servername NAME    SNI and name to verify (default: the "
        "host)\n"
        "      --insecure           do not verify the server (testing only)\n"
        "      --min-tls 1.2|1.3    lowest TLS version (default 1.3)\n"
        "Load:\n"
        "  -n, --connections N      concurrent connections (default 50)\n"
        "  -r, --requests N         requests in total (default 100000; k/M/G "
        "ok)\n"
        "  -d, --duration SECONDS   stop after this time (alone: no request "
        "limit)\n"
        "  -P, --pipeline DEPTH     requests in flight per connection (default "
        "1)\n"
        "  -s, --bits SIZE|MIN-MAX  message size in bits, or a random range\n"
        "                           (default 64; over %llu bits: streamed)\n"
        "      --op stuff|unstuff|mixed      (default stuff)\n"
        "      --rule hdlc|usb|can|mixed     (default hdlc)\n"
        "      --errors FRACTION    make this share of requests invalid and "
        "check\n"
        "                           the error code and offset of their "
        "replies\n"
        "      --text               send text lines instead of binary frames\n"
        "      --new-conn           a new TLS connection per request "
        "(handshakes/s)\n"
        "      --resume on|off      TLS session resumption with --new-conn "
        "(on)\n"
        "      --idle N             hold N extra idle connections through the "
        "run,\n"
        "                           then check that each still answers\n"
        "  -t, --threads T          client threads (default: 1 or 2)\n"
        "      --seed N             seed of the random messages (default 1)\n"
        "      --pool N             distinct messages to cycle (default 1024)\n"
        "      --timeout MS         fail a connection without progress "
        "(30000)\n"
        "Output:\n"
        "      --json               machine-readable summary on stdout\n"
        "  -q, --quiet              no progress, summary only\n"
        "  -h, --help, -V, --version\n"
        "\n"
        "Exit status: 0 if every request got the expected reply; 1 on a usage "
        "or\n"
        "set-up error; 2 if any request failed, was answered wrongly or was "
        "lost.\n",
        prog, (unsigned long long) BS_BENCH_POOL_MAX_BITS);
}
