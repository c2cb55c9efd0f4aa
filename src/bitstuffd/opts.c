/*
 * opts.c - bitstuffd's command line; see opts.h.
 */
#include "opts.h"

#include <string.h>

#include "log.h"
#include "optparse.h"
#include "proto.h"

/* --groups: the names are checked by OpenSSL when the context is made. */
static int parse_groups(void *opts, const char *s)
{
    struct bs_opts *o = opts;

    if (s[0] == '\0' || strlen(s) > 256) {
        return -1;
    }
    o->tls.groups = s;
    return 0;
}

static const struct bs_opt_word verify_words[] = {
    {"none", BS_TLS_VERIFY_NONE},
    {"optional", BS_TLS_VERIFY_OPTIONAL},
    {"require", BS_TLS_VERIFY_REQUIRE},
    {NULL, 0},
};

static const struct bs_opt_word log_level_words[] = {
    {"error", BS_LOG_LVL_ERROR},
    {"warning", BS_LOG_LVL_WARNING},
    {"info", BS_LOG_LVL_INFO},
    {"debug", BS_LOG_LVL_DEBUG},
    {NULL, 0},
};

static const struct bs_opt_word log_format_words[] = {
    {"text", BS_LOG_FORMAT_TEXT},
    {"json", BS_LOG_FORMAT_JSON},
    {NULL, 0},
};

#define O(member) BS_OPT_AT(struct bs_opts, member)
#define N(member) BS_OPT_COUNTER(struct bs_opts, member)
#define SHOW      BS_OPT_SHOW_DEFAULT

/* A line's reply must fit a connection's output buffer, which is sized
 * from max_line; 1 MiB keeps that buffer at about 1.3 MiB. */
#define MAX_LINE_LIMIT  (1u << 20)
#define MAX_DURATION_MS (24u * 3600u * 1000u)

static const struct bs_opt options[] = {
    {BS_OPT_NAME("listen", 'l', BS_OPT_LIST, "HOST:PORT"), O(listen),
     N(nlisten), .max = BS_OPTS_MAX_LISTEN,
     .help = "listen there; repeatable; IPv6 as [::1]:PORT; port 0 picks a "
             "free port; :PORT listens on every address "
             "(default: " BS_OPTS_DEFAULT_LISTEN "); not with socket "
             "activation, which passes the sockets"},
    {BS_OPT_NAME("cert", 0, BS_OPT_LIST, "FILE"), O(cert_files), N(ncerts),
     .max = BS_TLS_MAX_CERTS,
     .help = "server certificate chain, PEM (default: server.crt in "
             "$CREDENTIALS_DIRECTORY, <sysconfdir>/bitstuff or certs, the "
             "first that has it); repeatable, one per key type (RSA, ECDSA, "
             "Ed25519): each client gets one it supports"},
    {BS_OPT_NAME("key", 0, BS_OPT_LIST, "FILE"), O(key_files), N(nkeys),
     .max = BS_TLS_MAX_CERTS,
     .help = "its private key, PEM (default: server.key beside the "
             "default certificate); the Nth --key goes with the Nth --cert"},
    {BS_OPT_NAME("ca-file", 0, BS_OPT_STRING, "FILE"), O(tls.ca_file),
     .help = "CA that signs client certificates (mutual TLS)"},
    {BS_OPT_NAME("crl-file", 0, BS_OPT_FILE, "FILE"), O(tls.crl_file),
     .help = "refuse client certificates this CRL (PEM) revokes"},
    {BS_OPT_NAME("allow-cn", 0, BS_OPT_LIST, "NAME"), O(allow_cn),
     N(tls.nallow_cn), .max = BS_OPTS_MAX_ALLOW,
     .help = "admit only client certificates with this subject CN; "
             "repeatable; with --allow-dns NAME and --allow-uri URI "
             "(subjectAltName), any match admits"},
    {BS_OPT_NAME("allow-dns", 0, BS_OPT_LIST, "NAME"), O(allow_dns),
     N(tls.nallow_dns), .max = BS_OPTS_MAX_ALLOW,
     .help = "admit client certificates with this DNS subjectAltName"},
    {BS_OPT_NAME("allow-uri", 0, BS_OPT_LIST, "URI"), O(allow_uri),
     N(tls.nallow_uri), .max = BS_OPTS_MAX_ALLOW,
     .help = "admit client certificates with this URI subjectAltName"},
    {BS_OPT_NAME("no-strict-modes", 0, BS_OPT_FLAG, NULL), O(strict_modes),
     .min = 0,
     .help = "do not refuse a key readable by others, or files and "
             "directories others can write"},
    {BS_OPT_NAME("ticket-key-file", 0, BS_OPT_FILE, "FILE"),
     O(tls.ticket_key_file),
     .help = "TLS session-ticket keys shared by every instance, so a client "
             "resumes on any: one key a line, 160 hex digits (openssl rand "
             "-hex 80); the first encrypts, all decrypt; reloaded on SIGHUP "
             "(default: keys of its own)"},
    {BS_OPT_NAME("verify-client", 0, BS_OPT_CHOICE, "MODE"),
     O(tls.verify_client), BS_OPT_SEEN(struct bs_opts, verify_client_set),
     .words = verify_words, .what = "a verification mode",
     .help = "none, optional or require (default: require with --ca-file, "
             "else none)"},
    BS_OPT_MIN_TLS(struct bs_opts, tls.min_version,
                   "lowest TLS version to accept"),
    {BS_OPT_NAME("groups", 0, BS_OPT_CUSTOM, "LIST"), .parse = parse_groups,
     .what = "a list of group names; give names separated by ':', "
             "e.g. " BS_TLS_DEFAULT_GROUPS,
     .help = "key-exchange groups, ':' between names "
             "(default: " BS_TLS_DEFAULT_GROUPS ")"},
    {BS_OPT_NAME("threads", 0, BS_OPT_UINT, "N"), O(threads), .min = 1,
     .max = BS_OPTS_MAX_THREADS, .what = "a thread count",
     .help = "worker threads (default: one per CPU)"},
    {BS_OPT_NAME("max-conns", 0, BS_OPT_UINT, "N"), O(max_conns), .min = 1,
     .max = 1000000, .what = "a connection count", .flags = SHOW,
     .help = "open connections at most; more are closed at once"},
    {BS_OPT_NAME("reuse-port", 0, BS_OPT_FLAG, NULL), O(reuse_port), .min = 1,
     .help = "SO_REUSEPORT: a new server may listen on the same address "
             "while this one drains; on SIGTERM it leaves the port at once "
             "(docs/DEPLOY.md: what that loses)"},
    {BS_OPT_NAME("handshake-timeout", 0, BS_OPT_DURATION, "T"), O(handshake_ms),
     .min = 1, .max = MAX_DURATION_MS, .flags = SHOW,
     .help = "whole TLS handshake, from accept"},
    {BS_OPT_NAME("idle-timeout", 0, BS_OPT_DURATION, "T"), O(idle_ms), .min = 1,
     .max = MAX_DURATION_MS, .flags = SHOW,
     .help = "close a connection idle that long"},
    {BS_OPT_NAME("max-message-bits", 0, BS_OPT_UINT, "N"), O(max_message_bits),
     .min = 1, .max = UINT64_MAX - 1, .what = "a number of bits", .flags = SHOW,
     .help = "largest message"},
    {BS_OPT_NAME("max-line", 0, BS_OPT_UINT, "N"), O(max_line), .min = 2,
     .max = MAX_LINE_LIMIT, .what = "a number of bytes", .flags = SHOW,
     .help = "longest text line in bytes, LF included; at most 1048576"},
    {BS_OPT_NAME("keylog-file", 0, BS_OPT_FILE, "FILE"), O(tls.keylog_file),
     .help = "append every session's TLS secrets to FILE (mode 0600) for "
             "Wireshark: DEBUGGING ONLY, anyone with FILE can read the "
             "traffic"},
    {BS_OPT_NAME("max-conns-per-ip", 0, BS_OPT_UINT, "N"), O(max_conns_per_ip),
     .min = 1, .max = 1000000, .what = "a connection count",
     .help = "open connections per client address at most (the real one, "
             "after a PROXY header); more are closed at once (default: no "
             "limit)"},
    {BS_OPT_NAME("proxy-protocol", 0, BS_OPT_FLAG, NULL), O(proxy_protocol),
     .min = 1,
     .help = "every connection begins with a PROXY v1 or v2 header "
             "(HAProxy send-proxy-v2) naming the client; needs --proxy-from"},
    {BS_OPT_NAME("proxy-from", 0, BS_OPT_LIST, "CIDR"), O(proxy_from),
     N(nproxy_from), .max = BS_OPTS_MAX_PROXY_FROM,
     .help = "accept PROXY headers only from this range (10.0.0.0/8, ::1); "
             "repeatable"},
    {BS_OPT_NAME("log-level", 0, BS_OPT_CHOICE, "LEVEL"), O(log_level),
     .words = log_level_words, .what = "a log level", .flags = SHOW,
     .help = "error, warning, info (a line per closed connection) or debug"},
    {BS_OPT_NAME("log-format", 0, BS_OPT_CHOICE, "FORMAT"), O(log_format),
     .words = log_format_words, .what = "a log format", .flags = SHOW,
     .help = "text, or json: one JSON object per log line"},
    {BS_OPT_NAME("quiet", 'q', BS_OPT_FLAG, NULL), O(quiet), .min = 1,
     .help = "do not display the exchanges"},
    {BS_OPT_NAME("explain", 0, BS_OPT_FLAG, NULL), O(explain), .min = 1,
     .help = "display each message bit by bit: the bits the rule inserted "
             "or removed, the runs that made it, an offending bit (for "
             "teaching; messages up to 65536 bits)"},
    {BS_OPT_NAME("verbose", 'v', BS_OPT_REPEAT, NULL), O(verbose), .max = 2,
     .help = "log each connection's TLS handshake: every message, then "
             "version, cipher, group, ALPN, SNI and the client's "
             "certificates; -vv adds every record header"},
    BS_OPT_STANDARD(BS_OPTS_HELP, BS_OPTS_VERSION, BS_OPTS_LIST),
};

static const struct bs_opt_table table = BS_OPT_TABLE(options, 0, 28);

static void defaults(struct bs_opts *o)
{
    static const struct bs_opts d = {
        .tls = {.cert_file = BS_OPTS_DEFAULT_CERT,
                .key_file = BS_OPTS_DEFAULT_KEY,
                .verify_client = BS_TLS_VERIFY_NONE,
                .min_version = 13},
        .max_conns = BS_OPTS_DEFAULT_MAX_CONNS,
        .handshake_ms = BS_OPTS_DEFAULT_HANDSHAKE_MS,
        .idle_ms = BS_OPTS_DEFAULT_IDLE_MS,
        .max_message_bits = BS_PROTO_DEFAULT_MAX_MESSAGE_BITS,
        .max_line = BS_PROTO_DEFAULT_MAX_LINE,
        .strict_modes = 1,
        .log_level = BS_LOG_LVL_INFO,
        .log_format = BS_LOG_FORMAT_TEXT,
    };

    *o = d;
}

void bs_opts_usage(FILE *f, const char *prog)
{
    struct bs_opts d;

    defaults(&d);
    fprintf(f,
            "Usage: %s [OPTIONS]\n"
            "A TLS server that bit-stuffs what clients send (protocol "
            "bitstuff/1).\n"
            "\n",
            prog);
    bs_opt_print_help(f, &table, &d);
    fputs("\n"
          "Durations T are seconds, or a number with a unit: 500ms, 10s, "
          "1.5s, 5m, 1h.\n"
          "On SIGINT or SIGTERM the server stops accepting, answers the "
          "requests it\n"
          "has received, closes each connection with close_notify and "
          "exits 0.\n"
          "On SIGHUP it reloads --cert, --key, --ca-file and --crl-file "
          "for new\n"
          "connections (live ones keep theirs); if they do not load, or a "
          "new\n"
          "certificate is out of date, from another CA or drops a name, "
          "it says\n"
          "why and keeps the old ones.\n"
          "Under systemd it serves on the sockets passed by socket "
          "activation\n"
          "(LISTEN_FDS) and reports READY, RELOADING and STOPPING to "
          "$NOTIFY_SOCKET.\n"
          "Exit status: 0 after a clean stop, 1 on a bad option, "
          "certificate, key\n"
          "or address.\n",
          f);
}

void bs_opts_list(FILE *f)
{
    bs_opt_print_names(f, &table);
}

/* --proxy-protocol and --proxy-from go together: a header accepted from
 * anyone would let any client claim any address, and ranges without the
 * protocol would be a mistake that silently does nothing.  The ranges are
 * parsed here, so a typo stops the start. */
static int check_proxy(struct bs_opts *o, char *err, size_t errlen)
{
    char why[160];

    if (o->proxy_protocol && o->nproxy_from == 0) {
        snprintf(err, errlen,
                 "--proxy-protocol needs --proxy-from CIDR: the addresses "
                 "of the load balancers allowed to send PROXY headers");
        return -1;
    }
    if (!o->proxy_protocol && o->nproxy_from > 0) {
        snprintf(err, errlen,
                 "--proxy-from is used only with --proxy-protocol: add it, "
                 "or drop --proxy-from");
        return -1;
    }
    for (size_t i = 0; i < o->nproxy_from; i++) {
        if (bs_cidr_parse(o->proxy_from[i], &o->proxy_cidr[i], why,
                          sizeof why) != 0) {
            snprintf(err, errlen, "--proxy-from %s", why);
            return -1;
        }
    }
    return 0;
}

/* The pairs of --cert and --key and the allow-lists into o->tls, and
 * what the client policy needs. */
static int check_certs(struct bs_opts *o, size_t nkeys, char *err,
                       size_t errlen)
{
    if (o->ncerts > 1 || nkeys > 1) {
        if (o->ncerts != nkeys) {
            snprintf(err, errlen,
                     "%zu --cert and %zu --key options: give one --key for "
                     "each --cert, in the same order",
                     o->ncerts, nkeys);
            return -1;
        }
    }
    if (o->ncerts == 0) {
        o->cert_files[o->ncerts++] = BS_OPTS_DEFAULT_CERT;
    }
    if (nkeys == 0) {
        o->key_files[0] = BS_OPTS_DEFAULT_KEY;
    }
    o->tls.cert_file = o->cert_files[0];
    o->tls.key_file = o->key_files[0];
    for (size_t i = 1; i < o->ncerts; i++) {
        o->tls.more_cert_files[i - 1] = o->cert_files[i];
        o->tls.more_key_files[i - 1] = o->key_files[i];
    }
    o->tls.nmore = o->ncerts - 1;
    o->tls.allow_cn = o->allow_cn;
    o->tls.allow_dns = o->allow_dns;
    o->tls.allow_uri = o->allow_uri;
    if ((o->tls.crl_file != NULL ||
         o->tls.nallow_cn + o->tls.nallow_dns + o->tls.nallow_uri != 0) &&
        o->tls.verify_client == BS_TLS_VERIFY_NONE)
    {
        snprintf(err, errlen,
                 "--%s checks client certificates: it needs --ca-file and "
                 "--verify-client require (or optional)",
                 o->tls.crl_file != NULL ? "crl-file"
                                         : "allow-cn/--allow-dns/--allow-uri");
        return -1;
    }
    return 0;
}

enum bs_opts_result bs_opts_parse(int argc, char **argv, struct bs_opts *o,
                                  char *err, size_t errlen)
{
    int rc;

    defaults(o);
    rc = bs_opt_parse(&table, argc, argv, o, NULL, err, errlen);
    if (rc != 0) {
        return rc < 0 ? BS_OPTS_ERROR : (enum bs_opts_result) rc;
    }
    o->listen_default = o->nlisten == 0;
    if (o->nlisten == 0) {
        o->listen[o->nlisten++] = BS_OPTS_DEFAULT_LISTEN;
    }
    o->cert_default = o->ncerts == 0 && o->nkeys == 0;
    if (o->tls.ca_file != NULL && !o->verify_client_set) {
        o->tls.verify_client = BS_TLS_VERIFY_REQUIRE;
    }
    if (o->tls.ca_file == NULL && o->tls.verify_client != BS_TLS_VERIFY_NONE) {
        snprintf(err, errlen,
                 "--verify-client %s needs --ca-file: the CA that signs the "
                 "client certificates",
                 o->tls.verify_client == BS_TLS_VERIFY_REQUIRE ? "require"
                                                               : "optional");
        return BS_OPTS_ERROR;
    }
    if (check_certs(o, o->nkeys, err, errlen) != 0 ||
        check_proxy(o, err, errlen) != 0)
    {
        return BS_OPTS_ERROR;
    }
    if (o->explain && o->quiet) {
        snprintf(err, errlen,
                 "--explain shows on the display, which --quiet turns off: "
                 "give one of them");
        return BS_OPTS_ERROR;
    }
    return BS_OPTS_RUN;
}
