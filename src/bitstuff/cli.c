/*
 * cli.c - options, validation and exit codes of the bitstuff client.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"

enum {
    OPT_CA_FILE = 256,
    OPT_CERT,
    OPT_KEY,
    OPT_SERVERNAME,
    OPT_MIN_TLS,
    OPT_INSECURE,
    OPT_TIMEOUT,
    OPT_KEYLOG,
    OPT_RULE,
    OPT_IN,
    OPT_OUT,
    OPT_IN_BITS,
    OPT_STUFF,
    OPT_RAW,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
};

static const struct option long_opts[] = {
    {"connect", required_argument, NULL, 'c'},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"servername", required_argument, NULL, OPT_SERVERNAME},
    {"min-tls", required_argument, NULL, OPT_MIN_TLS},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"keylog-file", required_argument, NULL, OPT_KEYLOG},
    {"stuff", no_argument, NULL, OPT_STUFF},
    {"unstuff", no_argument, NULL, 'u'},
    {"rule", required_argument, NULL, OPT_RULE},
    {"in", required_argument, NULL, OPT_IN},
    {"out", required_argument, NULL, OPT_OUT},
    {"in-bits", required_argument, NULL, OPT_IN_BITS},
    {"raw", no_argument, NULL, OPT_RAW},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void bs_cli_usage(FILE *f, const char *prog)
{
    fprintf(
        f,
        "Usage: %s [options] [BITS...]\n"
        "       %s [options] --in FILE [--out FILE] [--in-bits N]\n"
        "\n"
        "Send messages of bits to a bitstuffd server over TLS and print what "
        "comes back.\n"
        "Each BITS argument is one message of the characters 0 and 1 (\"\" is "
        "an empty\n"
        "message).  With no BITS and no --in, each non-blank line of standard "
        "input is a\n"
        "message (prompt \"bits> \" on a terminal).  All messages are sent "
        "at once\n"
        "(pipelined); the replies come back in order.\n"
        "\n"
        "Operation:\n"
        "  -u, --unstuff          unstuff instead of stuff\n"
        "      --stuff            stuff (the default)\n"
        "      --rule RULE        hdlc (default: a 0 after five 1s), usb "
        "(after six 1s),\n"
        "                         can (the complement after five equal "
        "bits)\n"
        "  -q, --quiet            print only the resulting bits, one line per "
        "message\n"
        "  -v, --verbose          report the connection (TLS version, cipher) "
        "on stderr\n"
        "\n"
        "File mode (binary data of any size, streamed in bounded memory):\n"
        "      --in FILE          send FILE's bytes as one message, most "
        "significant bit\n"
        "                         first (- = standard input)\n"
        "      --out FILE         where the result goes (default -, standard "
        "output)\n"
        "      --in-bits N        stuff only the first N bits of FILE "
        "(default: all)\n"
        "      --raw              stuff: write bare packed bits, the last "
        "byte padded with\n"
        "                         0s (the exact length is the \"received N "
        "bits\" line);\n"
        "                         -u: read bare packed bits (with --in-bits "
        "N if padded)\n"
        "      --progress         show the progress line even when stderr is "
        "not a terminal\n"
        "      --no-progress      never show it (nor does -q)\n"
        "  Stuffing writes a container (docs/CONTAINER.md) that records the "
        "rule, the\n"
        "  exact bit count and a SHA-256; -u reads it back to the exact "
        "original bytes\n"
        "  and refuses a truncated, corrupted or wrong-rule one before "
        "anything is sent\n"
        "  when FILE is a regular file.  --out FILE is written to a temporary "
        "file next\n"
        "  to it and renamed over it only after success: a failed or "
        "interrupted run\n"
        "  leaves an existing FILE as it was.  A device or FIFO is written "
        "in place; a\n"
        "  symbolic link is followed.  On a terminal, a transfer longer than "
        "a second\n"
        "  shows a progress line on stderr.\n"
        "\n",
        prog, prog);
    /* two strings: one would pass the 4095 characters C17 guarantees */
    fprintf(
        f,
        "Connection:\n"
        "  -c, --connect HOST:PORT  server (default %s; IPv6 as "
        "[::1]:55000)\n"
        "      --ca-file FILE     CA certificates to trust (default %s if "
        "it exists,\n"
        "                         otherwise the system store)\n"
        "      --cert FILE        client certificate for mutual TLS\n"
        "      --key FILE         private key of --cert (default: in the "
        "--cert file)\n"
        "      --servername NAME  name sent as SNI and checked in the server's "
        "certificate\n"
        "                         (default: the host of --connect; an IP "
        "address is\n"
        "                         checked against the certificate's IP "
        "addresses)\n"
        "      --min-tls 1.2|1.3  lowest TLS version to accept (default 1.3)\n"
        "      --insecure         do NOT verify the server's certificate "
        "(testing only)\n"
        "      --timeout SECONDS  limit for connecting and for each wait on "
        "the server\n"
        "                         (default %d)\n"
        "      --keylog-file FILE append TLS secrets for Wireshark "
        "(debugging only)\n"
        "  -h, --help             this text\n"
        "  -V, --version          the version\n"
        "\n"
        "Output: for each message \"sent: BITS\" and \"received: BITS\" on "
        "stdout (labels\n"
        "name the operation when it is not stuff hdlc, e.g. \"sent (unstuff "
        "hdlc): \");\n"
        "a rejected message prints \"error: NAME at bit N: MESSAGE\" on stderr "
        "and the\n"
        "remaining messages are still sent.  A message with a character "
        "other than 0\n"
        "and 1, as an argument or as a line, is reported (\"error: message "
        "N: ...\" or\n"
        "\"error: line N: ...\"), skipped, and the others are sent; "
        "the exit status\n"
        "is then 1.  Arguments are all checked before connecting.\n"
        "\n"
        "Exit status (the first failure decides):\n"
        "  0  success\n"
        "  1  usage or configuration error (bad option, bad bits, unreadable "
        "file,\n"
        "     a damaged or wrong-rule container)\n"
        "  2  network error (cannot resolve, connection refused, timeout)\n"
        "  3  TLS handshake failed (version, ALPN, the peer hung up during "
        "the\n"
        "     handshake, or the server requires a client certificate and "
        "none was\n"
        "     given)\n"
        "  4  certificate verification failed: the server's (unknown CA,\n"
        "     name mismatch, expired) or ours (the server rejected --cert)\n"
        "  5  the server rejected a message (e.g. invalid stuffing on "
        "unstuff)\n"
        "  6  connection lost mid-exchange, or a reply that does not "
        "answer the request\n"
        "  130, 143  stopped by SIGINT or SIGTERM (an --out FILE is left as "
        "it was)\n",
        BS_CLI_DEFAULT_CONNECT, BS_CLI_DEFAULT_CA, BS_CLI_DEFAULT_TIMEOUT);
}

int bs_cli_check_bits(const char *s, size_t len, size_t *bad)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '0' && s[i] != '1') {
            *bad = i;
            return -1;
        }
    }
    return 0;
}

void bs_cli_trim(const char *line, size_t len, size_t *start, size_t *tlen)
{
    size_t a = 0, b = len;

    while (a < b && (line[a] == ' ' || line[a] == '\t')) {
        a++;
    }
    while (b > a &&
           (line[b - 1] == ' ' || line[b - 1] == '\t' || line[b - 1] == '\r'))
    {
        b--;
    }
    *start = a;
    *tlen = b - a;
}

const char *bs_cli_label(enum bs_proto_op op, enum bs_rule rule, char *buf,
                         size_t len)
{
    const char *name = bs_rule_name(rule);

    if (op == BS_PROTO_STUFF && rule == BS_RULE_HDLC) {
        if (len > 0) {
            buf[0] = '\0';
        }
    } else {
        snprintf(buf, len, " (%s %s)",
                 op == BS_PROTO_UNSTUFF ? "unstuff" : "stuff",
                 name != NULL ? name : "?");
    }
    return buf;
}

enum bs_cli_exit bs_cli_exit_for_tls(enum bs_tls_failure f,
                                     int during_handshake, int got_reply,
                                     int sent_cert)
{
    if (during_handshake) {
        switch (f) {
        case BS_TLS_FAIL_VERIFY:
            return BS_CLI_EXIT_VERIFY;
        case BS_TLS_FAIL_NETWORK: /* connected, then hung up on: not TLS */
        case BS_TLS_FAIL_NONE:
        case BS_TLS_FAIL_HANDSHAKE:
        case BS_TLS_FAIL_PROTOCOL:
            return BS_CLI_EXIT_HANDSHAKE;
        }
        return BS_CLI_EXIT_HANDSHAKE;
    }
    if (!got_reply) {
        if (f == BS_TLS_FAIL_VERIFY) {
            return sent_cert ? BS_CLI_EXIT_VERIFY : BS_CLI_EXIT_HANDSHAKE;
        }
        if (f == BS_TLS_FAIL_HANDSHAKE) {
            return BS_CLI_EXIT_HANDSHAKE;
        }
    }
    return BS_CLI_EXIT_LOST;
}

static const char *const tls_words[BS_TLS_R_COUNT] = {
    [BS_TLS_R_PEER_UNTRUSTED] = "pass the right --ca-file",
    [BS_TLS_R_NAME_MISMATCH] = "use --servername or regenerate with --san",
    [BS_TLS_R_CERT_EXPIRED] =
        "renew it (scripts/gen-certs.sh --force) or check the clock",
    [BS_TLS_R_CERT_PURPOSE] = "make it with scripts/gen-certs.sh",
    [BS_TLS_R_CERT_REQUIRED] = "pass --cert and --key",
    [BS_TLS_R_KEY_NO_CERT] = "pass --cert too",
    [BS_TLS_R_NO_CA_STORE] = "pass --ca-file",
};

const char *bs_cli_tls_advice(enum bs_tls_reason why)
{
    return (unsigned) why < BS_TLS_R_COUNT ? tls_words[why] : NULL;
}

/* One character for a message: itself if printable, else \xNN. */
static void char_repr(char c, char *buf, size_t len)
{
    unsigned char u = (unsigned char) c;

    if (u >= 0x20 && u < 0x7f && c != '\'') {
        snprintf(buf, len, "'%c'", c);
    } else {
        snprintf(buf, len, "byte 0x%02x", u);
    }
}

int bs_cli_check_message(const char *what, const char *s, size_t len, char *err,
                         size_t errlen)
{
    size_t bad;
    char c[16];

    if (bs_cli_check_bits(s, len, &bad) == 0) {
        return 0;
    }
    char_repr(s[bad], c, sizeof(c));
    snprintf(err, errlen,
             "%s: %s at offset %zu is not a bit; a message is made of the "
             "characters 0 and 1 only",
             what, c, bad);
    return -1;
}

int bs_cli_reply_matches(enum bs_proto_op op, enum bs_rule rule,
                         const struct bs_proto_event *ev)
{
    if (ev->form != BS_PROTO_BINARY) {
        return 1;
    }
    switch (ev->type) {
    case BS_PROTO_EV_BEGIN:
    case BS_PROTO_EV_DATA:
    case BS_PROTO_EV_END:
        return ev->op == op && ev->rule == rule;
    case BS_PROTO_EV_NONE:
    case BS_PROTO_EV_ERROR:
    case BS_PROTO_EV_FATAL:
        break;
    }
    return 1;
}

static int parse_timeout(const char *s, int *ms)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0 ||
        v > BS_CLI_MAX_TIMEOUT)
    {
        return -1;
    }
    v *= 1000.0;
    *ms = v < 1.0 ? 1 : (int) v;
    return 0;
}

static void defaults(struct bs_cli_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->connect = BS_CLI_DEFAULT_CONNECT;
    o->min_tls = 13;
    o->timeout_ms = BS_CLI_DEFAULT_TIMEOUT * 1000;
    o->op = BS_PROTO_STUFF;
    o->rule = BS_RULE_HDLC;
}

__attribute__((format(printf, 3, 4))) static enum bs_cli_parse_result
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return BS_CLI_ERROR;
}

/* The option getopt_long just refused, as the user typed it: a long
 * option by its word (optopt then holds its short alias, if any, or 0),
 * a short one by its letter. */
static const char *typed_option(char **argv, int opt, char *buf, size_t len)
{
    const char *arg = argv[optind - 1];

    if (strncmp(arg, "--", 2) == 0 || opt <= 0 || opt >= 256) {
        return arg;
    }
    snprintf(buf, len, "-%c", opt);
    return buf;
}

static enum bs_cli_parse_result check_combination(struct bs_cli_opts *o,
                                                  char *err, size_t errlen)
{
    if (o->in_file == NULL) {
        if (o->out_file != NULL) {
            return fail(err, errlen, "--out needs --in FILE (file mode)");
        }
        if (o->has_in_bits) {
            return fail(err, errlen, "--in-bits needs --in FILE (file mode)");
        }
        if (o->raw) {
            return fail(err, errlen, "--raw needs --in FILE (file mode)");
        }
        if (o->progress == BS_PROGRESS_ON) {
            return fail(err, errlen, "--progress needs --in FILE (file mode)");
        }
    } else if (o->nbits > 0) {
        return fail(err, errlen,
                    "give either BITS arguments or --in FILE, not both");
    } else if (o->op == BS_PROTO_UNSTUFF && o->has_in_bits && !o->raw) {
        return fail(err, errlen,
                    "-u --in-bits reads bare packed bits: add --raw (a "
                    "container from a stuff run carries its own length)");
    }
    if (o->quiet && o->progress == BS_PROGRESS_AUTO) {
        o->progress = BS_PROGRESS_OFF;
    }
    if (o->key_file != NULL && o->cert_file == NULL) {
        return fail(err, errlen, "--key needs --cert FILE (mutual TLS)");
    }
    return BS_CLI_RUN;
}

enum bs_cli_parse_result bs_cli_parse(int argc, char **argv,
                                      struct bs_cli_opts *o, char *err,
                                      size_t errlen)
{
    int c;
    char opt_name[4];

    defaults(o);
    if (errlen > 0) {
        err[0] = '\0';
    }
    optind = 0; /* GNU: full reinitialisation, so tests can parse again */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:uqvhV", long_opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->connect = optarg;
            break;
        case OPT_CA_FILE:
            o->ca_file = optarg;
            break;
        case OPT_CERT:
            o->cert_file = optarg;
            break;
        case OPT_KEY:
            o->key_file = optarg;
            break;
        case OPT_SERVERNAME:
            if (*optarg == '\0') {
                return fail(err, errlen, "--servername must not be empty");
            }
            o->servername = optarg;
            break;
        case OPT_MIN_TLS:
            o->min_tls = bs_tls_parse_version(optarg);
            if (o->min_tls == 0) {
                return fail(err, errlen, "--min-tls '%s': give 1.2 or 1.3",
                            optarg);
            }
            break;
        case OPT_INSECURE:
            o->insecure = 1;
            break;
        case OPT_TIMEOUT:
            if (parse_timeout(optarg, &o->timeout_ms) != 0) {
                return fail(err, errlen,
                            "--timeout '%s': give a number of seconds "
                            "greater than 0 and at most 86400",
                            optarg);
            }
            break;
        case OPT_KEYLOG:
            o->keylog_file = optarg;
            break;
        case OPT_STUFF:
            o->op = BS_PROTO_STUFF;
            break;
        case 'u':
            o->op = BS_PROTO_UNSTUFF;
            break;
        case OPT_RULE:
            if (bs_rule_parse(optarg, strlen(optarg), &o->rule) != 0) {
                return fail(err, errlen, "--rule '%s': give hdlc, usb or can",
                            optarg);
            }
            o->has_rule = 1;
            break;
        case OPT_RAW:
            o->raw = 1;
            break;
        case OPT_PROGRESS:
            o->progress = BS_PROGRESS_ON;
            break;
        case OPT_NO_PROGRESS:
            o->progress = BS_PROGRESS_OFF;
            break;
        case OPT_IN:
            o->in_file = optarg;
            break;
        case OPT_OUT:
            o->out_file = optarg;
            break;
        case OPT_IN_BITS:
            if (bs_num_parse_u64(optarg, 0, UINT64_MAX, &o->in_bits) != 0) {
                return fail(err, errlen,
                            "--in-bits '%s': give a whole number of bits",
                            optarg);
            }
            o->has_in_bits = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 'h':
            return BS_CLI_HELP;
        case 'V':
            return BS_CLI_VERSION;
        case ':':
            return fail(err, errlen, "option %s needs a value",
                        typed_option(argv, optopt, opt_name, sizeof(opt_name)));
        default:
            /* "--quiet=yes" comes here too: a value for a flag */
            return fail(err, errlen, "unknown option %s (see --help)",
                        typed_option(argv, optopt, opt_name, sizeof(opt_name)));
        }
    }

    /* the messages themselves are checked one by one by the session, as
     * lines of standard input are: a bad one is skipped, not fatal */
    o->bits = argv + optind;
    o->nbits = (size_t) (argc - optind);
    return check_combination(o, err, errlen);
}
