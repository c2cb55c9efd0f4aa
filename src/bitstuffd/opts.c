/*
 * opts.c - bitstuffd's command line; see opts.h.
 */
#include "opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "proto.h"

enum {
    OPT_CERT = 256,
    OPT_KEY,
    OPT_CA_FILE,
    OPT_VERIFY_CLIENT,
    OPT_MIN_TLS,
    OPT_THREADS,
    OPT_MAX_CONNS,
    OPT_HANDSHAKE_TIMEOUT,
    OPT_IDLE_TIMEOUT,
    OPT_MAX_MESSAGE_BITS,
    OPT_MAX_LINE,
    OPT_KEYLOG_FILE,
    OPT_GROUPS,
    OPT_CRL_FILE,
    OPT_ALLOW_CN,
    OPT_ALLOW_DNS,
    OPT_ALLOW_URI,
    OPT_NO_STRICT_MODES,
};

static const struct option long_opts[] = {
    {"listen", required_argument, NULL, 'l'},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"verify-client", required_argument, NULL, OPT_VERIFY_CLIENT},
    {"min-tls", required_argument, NULL, OPT_MIN_TLS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"max-message-bits", required_argument, NULL, OPT_MAX_MESSAGE_BITS},
    {"max-line", required_argument, NULL, OPT_MAX_LINE},
    {"keylog-file", required_argument, NULL, OPT_KEYLOG_FILE},
    {"groups", required_argument, NULL, OPT_GROUPS},
    {"crl-file", required_argument, NULL, OPT_CRL_FILE},
    {"allow-cn", required_argument, NULL, OPT_ALLOW_CN},
    {"allow-dns", required_argument, NULL, OPT_ALLOW_DNS},
    {"allow-uri", required_argument, NULL, OPT_ALLOW_URI},
    {"no-strict-modes", no_argument, NULL, OPT_NO_STRICT_MODES},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* A line's reply must fit a connection's output buffer, which is sized
 * from max_line; 1 MiB keeps that buffer at about 1.3 MiB. */
#define MAX_LINE_LIMIT  (1u << 20)
#define MAX_DURATION_MS (24u * 3600u * 1000u)

void bs_opts_usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s [OPTIONS]\n"
            "A TLS server that bit-stuffs what clients send (protocol "
            "bitstuff/1).\n"
            "\n"
            "  -l, --listen HOST:PORT    listen there; repeatable; IPv6 as "
            "[::1]:PORT;\n"
            "                            port 0 picks a free port "
            "(default: %s)\n"
            "      --cert FILE           server certificate chain, PEM "
            "(default: %s);\n"
            "                            repeatable, one per key type (RSA, "
            "ECDSA,\n"
            "                            Ed25519): each client gets one it "
            "supports\n"
            "      --key FILE            its private key, PEM (default: %s);\n"
            "                            the Nth --key goes with the Nth "
            "--cert\n"
            "      --ca-file FILE        CA that signs client certificates "
            "(mutual TLS)\n"
            "      --crl-file FILE       refuse client certificates this CRL "
            "(PEM) revokes\n"
            "      --allow-cn NAME       admit only client certificates with "
            "this subject\n"
            "                            CN; repeatable; with --allow-dns "
            "NAME and\n"
            "                            --allow-uri URI (subjectAltName), any "
            "match admits\n"
            "      --no-strict-modes     do not refuse a key readable by "
            "others, or\n"
            "                            files and directories others can "
            "write\n"
            "      --verify-client MODE  none, optional or require (default: "
            "require\n"
            "                            with --ca-file, else none)\n"
            "      --min-tls VERSION     1.2 or 1.3 (default: 1.3)\n"
            "      --groups LIST         key-exchange groups, ':' between "
            "names\n"
            "                            (default: " BS_TLS_DEFAULT_GROUPS ")\n"
            "      --threads N           worker threads (default: one per "
            "CPU)\n"
            "      --max-conns N         open connections at most; more are "
            "closed at\n"
            "                            once (default: %u)\n"
            "      --handshake-timeout T whole TLS handshake, from accept "
            "(default: 10s)\n"
            "      --idle-timeout T      close a connection idle that long "
            "(default: 300s)\n"
            "      --max-message-bits N  largest message (default: %llu)\n"
            "      --max-line N          longest text line in bytes, LF "
            "included\n"
            "                            (default: %u, at most %u)\n"
            "      --keylog-file FILE    append every session's TLS secrets "
            "to FILE\n"
            "                            (mode 0600) for Wireshark: DEBUGGING "
            "ONLY,\n"
            "                            anyone with FILE can read the "
            "traffic\n"
            "  -q, --quiet               do not display the exchanges\n"
            "  -h, --help                show this help and exit\n"
            "  -V, --version             show the version and exit\n"
            "\n"
            "Durations T are seconds, or a number with a unit: 500ms, 10s.\n"
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
            "Exit status: 0 after a clean stop, 1 on a bad option, "
            "certificate, key\n"
            "or address.\n",
            prog, BS_OPTS_DEFAULT_LISTEN, BS_OPTS_DEFAULT_CERT,
            BS_OPTS_DEFAULT_KEY, BS_OPTS_DEFAULT_MAX_CONNS,
            (unsigned long long) BS_PROTO_DEFAULT_MAX_MESSAGE_BITS,
            BS_PROTO_DEFAULT_MAX_LINE, MAX_LINE_LIMIT);
}

int bs_opts_parse_duration(const char *s, uint64_t *ms)
{
    char num[24];
    size_t len = 0;
    uint64_t n, scale = 1000;

    if (s == NULL) {
        return -1;
    }
    while (s[len] >= '0' && s[len] <= '9') {
        len++;
    }
    if (len == 0 || len >= sizeof num) {
        return -1;
    }
    if (strcmp(s + len, "ms") == 0) {
        scale = 1;
    } else if (s[len] != '\0' && strcmp(s + len, "s") != 0) {
        return -1;
    }
    memcpy(num, s, len);
    num[len] = '\0';
    if (bs_num_parse_u64(num, 1, MAX_DURATION_MS, &n) != 0 ||
        n > MAX_DURATION_MS / scale)
    {
        return -1;
    }
    *ms = n * scale;
    return 0;
}

static void defaults(struct bs_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cert_file = BS_OPTS_DEFAULT_CERT;
    o->key_file = BS_OPTS_DEFAULT_KEY;
    o->verify_client = BS_TLS_VERIFY_NONE;
    o->min_tls = 13;
    o->max_conns = BS_OPTS_DEFAULT_MAX_CONNS;
    o->handshake_ms = BS_OPTS_DEFAULT_HANDSHAKE_MS;
    o->idle_ms = BS_OPTS_DEFAULT_IDLE_MS;
    o->max_message_bits = BS_PROTO_DEFAULT_MAX_MESSAGE_BITS;
    o->max_line = BS_PROTO_DEFAULT_MAX_LINE;
    o->strict_modes = 1;
}

/* Append optarg to a repeatable option's list. */
static int add_to(const char **list, size_t *n, size_t max, const char *name,
                  char *err, size_t errlen)
{
    if (optarg[0] == '\0') {
        snprintf(err, errlen, "--%s needs a value", name);
        return -1;
    }
    if (*n == max) {
        snprintf(err, errlen, "too many --%s options (at most %zu)", name, max);
        return -1;
    }
    list[(*n)++] = optarg;
    return 0;
}

/* Set *to to optarg, the file name of option --name: not empty. */
static int set_file(const char **to, const char *name, char *err, size_t errlen)
{
    if (optarg[0] == '\0') {
        snprintf(err, errlen, "--%s needs a file name", name);
        return -1;
    }
    *to = optarg;
    return 0;
}

/* The pairs of --cert and --key, and what the client policy needs. */
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
    o->cert_file = o->cert_files[0];
    o->key_file = o->key_files[0];
    if ((o->crl_file != NULL ||
         o->nallow_cn + o->nallow_dns + o->nallow_uri != 0) &&
        o->verify_client == BS_TLS_VERIFY_NONE)
    {
        snprintf(err, errlen,
                 "--%s checks client certificates: it needs --ca-file and "
                 "--verify-client require (or optional)",
                 o->crl_file != NULL ? "crl-file"
                                     : "allow-cn/--allow-dns/--allow-uri");
        return -1;
    }
    return 0;
}

enum bs_opts_result bs_opts_parse(int argc, char **argv, struct bs_opts *o,
                                  char *err, size_t errlen)
{
    int c, verify_given = 0;
    uint64_t v;
    size_t nkeys = 0;

    defaults(o);
    optind = 0; /* GNU: a full reset, so parse can run again */
    opterr = 0; /* we word the errors ourselves */
    while ((c = getopt_long(argc, argv, ":l:qhV", long_opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (o->nlisten == BS_OPTS_MAX_LISTEN) {
                snprintf(err, errlen, "too many --listen options (at most %d)",
                         BS_OPTS_MAX_LISTEN);
                return BS_OPTS_ERROR;
            }
            o->listen[o->nlisten++] = optarg;
            break;
        case OPT_CERT:
            if (add_to(o->cert_files, &o->ncerts, BS_TLS_MAX_CERTS, "cert", err,
                       errlen) != 0)
            {
                return BS_OPTS_ERROR;
            }
            break;
        case OPT_KEY:
            if (add_to(o->key_files, &nkeys, BS_TLS_MAX_CERTS, "key", err,
                       errlen) != 0) {
                return BS_OPTS_ERROR;
            }
            break;
        case OPT_CRL_FILE:
            if (set_file(&o->crl_file, "crl-file", err, errlen) != 0) {
                return BS_OPTS_ERROR;
            }
            break;
        case OPT_ALLOW_CN:
        case OPT_ALLOW_DNS:
        case OPT_ALLOW_URI:
            if (add_to(c == OPT_ALLOW_CN    ? o->allow_cn
                       : c == OPT_ALLOW_DNS ? o->allow_dns
                                            : o->allow_uri,
                       c == OPT_ALLOW_CN    ? &o->nallow_cn
                       : c == OPT_ALLOW_DNS ? &o->nallow_dns
                                            : &o->nallow_uri,
                       BS_OPTS_MAX_ALLOW,
                       c == OPT_ALLOW_CN    ? "allow-cn"
                       : c == OPT_ALLOW_DNS ? "allow-dns"
                                            : "allow-uri",
                       err, errlen) != 0)
            {
                return BS_OPTS_ERROR;
            }
            break;
        case OPT_NO_STRICT_MODES:
            o->strict_modes = 0;
            break;
        case OPT_CA_FILE:
            o->ca_file = optarg;
            break;
        case OPT_VERIFY_CLIENT:
            verify_given = 1;
            if (strcmp(optarg, "none") == 0) {
                o->verify_client = BS_TLS_VERIFY_NONE;
            } else if (strcmp(optarg, "optional") == 0) {
                o->verify_client = BS_TLS_VERIFY_OPTIONAL;
            } else if (strcmp(optarg, "require") == 0) {
                o->verify_client = BS_TLS_VERIFY_REQUIRE;
            } else {
                snprintf(err, errlen,
                         "--verify-client '%s': use none, optional or require",
                         optarg);
                return BS_OPTS_ERROR;
            }
            break;
        case OPT_MIN_TLS:
            o->min_tls = bs_tls_parse_version(optarg);
            if (o->min_tls == 0) {
                snprintf(err, errlen, "--min-tls '%s': use 1.2 or 1.3", optarg);
                return BS_OPTS_ERROR;
            }
            break;
        case OPT_THREADS:
            if (bs_num_parse_u64(optarg, 1, BS_OPTS_MAX_THREADS, &v) != 0) {
                snprintf(err, errlen,
                         "--threads '%s': give a number from 1 to %d", optarg,
                         BS_OPTS_MAX_THREADS);
                return BS_OPTS_ERROR;
            }
            o->threads = (unsigned) v;
            break;
        case OPT_MAX_CONNS:
            if (bs_num_parse_u64(optarg, 1, 1000000, &v) != 0) {
                snprintf(err, errlen,
                         "--max-conns '%s': give a number from 1 to 1000000",
                         optarg);
                return BS_OPTS_ERROR;
            }
            o->max_conns = (unsigned) v;
            break;
        case OPT_HANDSHAKE_TIMEOUT:
        case OPT_IDLE_TIMEOUT:
            if (bs_opts_parse_duration(optarg, &v) != 0) {
                snprintf(err, errlen,
                         "--%s '%s': give seconds (10), or a number with a "
                         "unit (500ms, 10s), from 1ms to 24 hours",
                         c == OPT_IDLE_TIMEOUT ? "idle-timeout"
                                               : "handshake-timeout",
                         optarg);
                return BS_OPTS_ERROR;
            }
            if (c == OPT_IDLE_TIMEOUT) {
                o->idle_ms = v;
            } else {
                o->handshake_ms = v;
            }
            break;
        case OPT_MAX_MESSAGE_BITS:
            if (bs_num_parse_u64(optarg, 1, UINT64_MAX - 1, &v) != 0) {
                snprintf(err, errlen,
                         "--max-message-bits '%s': give a positive number of "
                         "bits",
                         optarg);
                return BS_OPTS_ERROR;
            }
            o->max_message_bits = v;
            break;
        case OPT_MAX_LINE:
            if (bs_num_parse_u64(optarg, 2, MAX_LINE_LIMIT, &v) != 0) {
                snprintf(err, errlen,
                         "--max-line '%s': give a number of bytes from 2 to "
                         "%u",
                         optarg, MAX_LINE_LIMIT);
                return BS_OPTS_ERROR;
            }
            o->max_line = (size_t) v;
            break;
        case OPT_KEYLOG_FILE:
            if (set_file(&o->keylog_file, "keylog-file", err, errlen) != 0) {
                return BS_OPTS_ERROR;
            }
            break;
        case OPT_GROUPS:
            /* The names are checked by OpenSSL when the context is made. */
            if (optarg[0] == '\0' || strlen(optarg) > 256) {
                snprintf(err, errlen,
                         "--groups '%.40s': give group names separated by "
                         "':', e.g. " BS_TLS_DEFAULT_GROUPS,
                         optarg);
                return BS_OPTS_ERROR;
            }
            o->groups = optarg;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            return BS_OPTS_HELP;
        case 'V':
            return BS_OPTS_VERSION;
        case ':':
            snprintf(err, errlen, "option '%s' needs a value",
                     argv[optind - 1]);
            return BS_OPTS_ERROR;
        default:
            snprintf(err, errlen, "unknown option '%s' (see --help)",
                     argv[optind - 1]);
            return BS_OPTS_ERROR;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)",
                 argv[optind]);
        return BS_OPTS_ERROR;
    }
    if (o->nlisten == 0) {
        o->listen[o->nlisten++] = BS_OPTS_DEFAULT_LISTEN;
    }
    if (o->ca_file != NULL && !verify_given) {
        o->verify_client = BS_TLS_VERIFY_REQUIRE;
    }
    if (o->ca_file == NULL && o->verify_client != BS_TLS_VERIFY_NONE) {
        snprintf(err, errlen,
                 "--verify-client %s needs --ca-file: the CA that signs the "
                 "client certificates",
                 o->verify_client == BS_TLS_VERIFY_REQUIRE ? "require"
                                                           : "optional");
        return BS_OPTS_ERROR;
    }
    if (check_certs(o, nkeys, err, errlen) != 0) {
        return BS_OPTS_ERROR;
    }
    return BS_OPTS_RUN;
}
