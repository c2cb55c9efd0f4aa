/*
 * cli.c - options, validation and exit codes of the bitstuff client.
 */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

#include "optparse.h"

static void defaults(struct bs_cli_opts *o)
{
    static const struct bs_cli_opts d = {
        .connect = BS_CLI_DEFAULT_CONNECT,
        .min_tls = 13,
        .timeout_ms = BS_CLI_DEFAULT_TIMEOUT * 1000,
        .op = BS_PROTO_STUFF,
        .rule = BS_RULE_HDLC,
    };

    *o = d;
}

/* --rule: the stuffing module's names, in any case. */
static int parse_rule(void *opts, const char *s)
{
    struct bs_cli_opts *o = opts;

    return bs_rule_parse(s, strlen(s), &o->rule);
}

#define O(member) BS_OPT_AT(struct bs_cli_opts, member)
#define SHOW      BS_OPT_SHOW_DEFAULT

static const struct bs_opt options[] = {
    {.name = "", .kind = BS_OPT_SECTION, .help = "Operation:"},
    {BS_OPT_NAME("unstuff", 'u', BS_OPT_FLAG, NULL), O(op),
     .min = BS_PROTO_UNSTUFF, .help = "unstuff instead of stuff"},
    {BS_OPT_NAME("stuff", 0, BS_OPT_FLAG, NULL), O(op), .min = BS_PROTO_STUFF,
     .help = "stuff (the default)"},
    {BS_OPT_NAME("rule", 0, BS_OPT_CUSTOM, "RULE"), .parse = parse_rule,
     BS_OPT_SEEN(struct bs_cli_opts, has_rule),
     .what = "a rule; give hdlc, usb or can",
     .help = "hdlc (default: a 0 after five 1s), usb (after six 1s), can "
             "(the complement after five equal bits)"},
    {BS_OPT_NAME("quiet", 'q', BS_OPT_FLAG, NULL), O(quiet), .min = 1,
     .help = "print only the resulting bits, one line per message"},
    {BS_OPT_NAME("verbose", 'v', BS_OPT_REPEAT, NULL), O(verbose), .max = 2,
     .help = "report the connection on stderr, as curl -v: each TLS "
             "handshake message, then version, cipher, group, ALPN, SNI, "
             "the server's certificates and what was checked; -vv adds "
             "every record header"},
    {BS_OPT_NAME("explain", 0, BS_OPT_FLAG, NULL), O(explain), .min = 1,
     .help = "after each result, show which bits the rule inserted or "
             "removed and why, and whether the server agrees (file mode: "
             "on stderr, inputs up to 65536 bits)"},
    {.name = "",
     .kind = BS_OPT_SECTION,
     .help = "\nFile mode (binary data of any size, streamed in bounded "
             "memory):"},
    {BS_OPT_NAME("in", 0, BS_OPT_STRING, "FILE"), O(in_file),
     .help = "send FILE's bytes as one message, most significant bit first "
             "(- = standard input)"},
    {BS_OPT_NAME("out", 0, BS_OPT_STRING, "FILE"), O(out_file),
     .help = "where the result goes (default -, standard output)"},
    {BS_OPT_NAME("in-bits", 0, BS_OPT_UINT, "N"), O(in_bits), .min = 0,
     .max = UINT64_MAX, BS_OPT_SEEN(struct bs_cli_opts, has_in_bits),
     .what = "a whole number of bits",
     .help = "stuff only the first N bits of FILE (default: all)"},
    {BS_OPT_NAME("raw", 0, BS_OPT_FLAG, NULL), O(raw), .min = 1,
     .help = "stuff: write bare packed bits, the last byte padded with 0s "
             "(the exact length is the \"received N bits\" line);\n-u: read "
             "bare packed bits (with --in-bits N if padded)"},
    {BS_OPT_NAME("progress", 0, BS_OPT_FLAG, NULL), O(progress),
     .min = BS_PROGRESS_ON,
     .help = "show the progress line even when stderr is not a terminal"},
    {BS_OPT_NAME("no-progress", 0, BS_OPT_FLAG, NULL), O(progress),
     .min = BS_PROGRESS_OFF, .help = "never show it (nor does -q)"},
    {.name = "",
     .kind = BS_OPT_SECTION,
     .help = "  Stuffing writes a container (docs/CONTAINER.md) that records "
             "the rule, the\n"
             "  exact bit count and a SHA-256; -u reads it back to the exact "
             "original bytes\n"
             "  and refuses a truncated, corrupted or wrong-rule one before "
             "anything is sent\n"
             "  when FILE is a regular file.  --out FILE is written to a "
             "temporary file next\n"
             "  to it and renamed over it only after success: a failed or "
             "interrupted run\n"
             "  leaves an existing FILE as it was.  A device or FIFO is "
             "written in place; a\n"
             "  symbolic link is followed.  On a terminal, a transfer longer "
             "than a second\n"
             "  shows a progress line on stderr.\n"
             "\n"
             "Connection:"},
    {BS_OPT_NAME("connect", 'c', BS_OPT_STRING, "HOST:PORT"), O(connect),
     .flags = SHOW, .help = "server; IPv6 as [::1]:55000"},
    {BS_OPT_NAME("ca-file", 0, BS_OPT_STRING, "FILE"), O(ca_file),
     .help = "CA certificates to trust (default: ca.crt in "
             "$CREDENTIALS_DIRECTORY, <sysconfdir>/bitstuff or certs, the "
             "first that has it, otherwise the system store)"},
    {BS_OPT_NAME("cert", 0, BS_OPT_STRING, "FILE"), O(cert_file),
     .help = "client certificate for mutual TLS"},
    {BS_OPT_NAME("key", 0, BS_OPT_STRING, "FILE"), O(key_file),
     .help = "private key of --cert (default: in the --cert file)"},
    {BS_OPT_NAME("servername", 0, BS_OPT_NONEMPTY, "NAME"), O(servername),
     .help = "name sent as SNI and checked in the server's certificate "
             "(default: the host of --connect; an IP address is checked "
             "against the certificate's IP addresses)"},
    BS_OPT_MIN_TLS(struct bs_cli_opts, min_tls, "lowest TLS version to accept"),
    {BS_OPT_NAME("insecure", 0, BS_OPT_FLAG, NULL), O(insecure), .min = 1,
     .help = "do NOT verify the server's certificate (testing only)"},
    {BS_OPT_NAME("timeout", 0, BS_OPT_DURATION, "T"), O(timeout_ms), .min = 1,
     .max = BS_CLI_MAX_TIMEOUT * 1000u, .flags = SHOW,
     .help = "limit for connecting and for each wait on the server: "
             "seconds, or 500ms, 1.5s, 5m"},
    {BS_OPT_NAME("keylog-file", 0, BS_OPT_STRING, "FILE"), O(keylog_file),
     .help = "append TLS secrets for Wireshark (debugging only)"},
    BS_OPT_STANDARD(BS_CLI_HELP, BS_CLI_VERSION, BS_CLI_LIST),
};

static const struct bs_opt_table table = BS_OPT_TABLE(options, 1, 25);

void bs_cli_usage(FILE *f, const char *prog)
{
    struct bs_cli_opts d;

    defaults(&d);
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
        "\n",
        prog, prog);
    bs_opt_print_help(f, &table, &d);
    fputs(
        "\n"
        "Durations T are seconds, or a number with a unit: 500ms, 10s, 1.5s, "
        "5m.\n"
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
        "\n",
        f);
    /* two strings: one would pass the 4095 characters C17 guarantees */
    fputs("Exit status (the first failure decides):\n"
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
          f);
}

void bs_cli_list(FILE *f)
{
    bs_opt_print_names(f, &table);
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

__attribute__((format(printf, 3, 4))) static enum bs_cli_parse_result
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return BS_CLI_ERROR;
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
    int rc, first = argc;

    defaults(o);
    rc = bs_opt_parse(&table, argc, argv, o, &first, err, errlen);
    if (rc != 0) {
        return rc < 0 ? BS_CLI_ERROR : (enum bs_cli_parse_result) rc;
    }
    /* the messages themselves are checked one by one by the session, as
     * lines of standard input are: a bad one is skipped, not fatal */
    o->bits = argv + first;
    o->nbits = (size_t) (argc - first);
    return check_combination(o, err, errlen);
}
