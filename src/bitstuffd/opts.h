/*
 * opts.h - bitstuffd's command line: getopt_long into a plain struct.
 *
 * Pure: parsing prints nothing; the caller prints the help, the version
 * or the error sentence.  Strings point into argv (borrowed).  The
 * options are a table in opts.c (see optparse.h to add one).
 */
#ifndef BS_OPTS_H
#define BS_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cidr.h"
#include "net.h"
#include "tls.h"

#define BS_OPTS_MAX_LISTEN  16
#define BS_OPTS_MAX_THREADS 256
/* entries in each of --allow-cn, --allow-dns and --allow-uri */
#define BS_OPTS_MAX_ALLOW 64
/* ranges of --proxy-from */
#define BS_OPTS_MAX_PROXY_FROM 64

#define BS_OPTS_DEFAULT_LISTEN       BS_NET_DEFAULT_ADDR
#define BS_OPTS_DEFAULT_PORT         BS_NET_DEFAULT_PORT
#define BS_OPTS_DEFAULT_CERT         "certs/server.crt"
#define BS_OPTS_DEFAULT_KEY          "certs/server.key"
#define BS_OPTS_DEFAULT_MAX_CONNS    10000u
#define BS_OPTS_DEFAULT_HANDSHAKE_MS 10000u
#define BS_OPTS_DEFAULT_IDLE_MS      300000u

struct bs_opts {
    const char *listen[BS_OPTS_MAX_LISTEN];
    size_t nlisten; /* >= 1 after a successful parse */
    /* What the TLS context is made from, ready for bs_tls_ctx_new_server
     * but for tls.advice (the program's words, set by the caller):
     * tls.cert_file/key_file are pair 0 of --cert/--key, tls.more_* the
     * others; tls.allow_* point into allow_* below, so a parsed bs_opts
     * must not be copied.  tls.min_version is 12 or 13; tls.keylog_file
     * NULL: off (TLS secrets for Wireshark); tls.groups NULL:
     * BS_TLS_DEFAULT_GROUPS; tls.crl_file NULL: no CRL;
     * tls.ticket_key_file (tickets.h) NULL: the server's own keys. */
    struct bs_tls_server_config tls;
    unsigned threads; /* 0: one per CPU (decided by the caller) */
    unsigned max_conns;
    uint64_t handshake_ms, idle_ms;
    uint64_t max_message_bits;
    size_t max_line;
    int quiet;
    int explain; /* --explain: each message bit by bit on the display */
    int verbose; /* -v: each connection's handshake in the log; -vv: more */
    /* --cert and --key are repeatable: pair i is cert_files[i] with
     * key_files[i], one per key type. */
    const char *cert_files[BS_TLS_MAX_CERTS];
    const char *key_files[BS_TLS_MAX_CERTS];
    size_t ncerts; /* >= 1 after a successful parse */
    /* --allow-cn, --allow-dns, --allow-uri (counts in tls.nallow_*) */
    const char *allow_cn[BS_OPTS_MAX_ALLOW];
    const char *allow_dns[BS_OPTS_MAX_ALLOW];
    const char *allow_uri[BS_OPTS_MAX_ALLOW];
    int strict_modes;      /* 1 unless --no-strict-modes */
    size_t nkeys;          /* --key options given */
    int verify_client_set; /* --verify-client given */
    int listen_default;    /* no --listen: listen[0] is the default */
    int cert_default;      /* no --cert, no --key: the caller looks for them
                              (certpath.h); tls.cert_file/key_file hold the
                              old defaults */
    /* --proxy-protocol: a PROXY header from --proxy-from ranges only
     * (given as proxy_from, parsed into proxy_cidr) */
    int proxy_protocol;
    const char *proxy_from[BS_OPTS_MAX_PROXY_FROM];
    size_t nproxy_from;
    struct bs_cidr proxy_cidr[BS_OPTS_MAX_PROXY_FROM];
    unsigned max_conns_per_ip; /* 0: no limit */
    int log_level;             /* log.h's BS_LOG_LVL_*; INFO by default */
    int log_format;            /* BS_LOG_FORMAT_TEXT or _JSON */
    int reuse_port;            /* 1: SO_REUSEPORT, leave the port on SIGTERM */
};

enum bs_opts_result {
    BS_OPTS_RUN = 0, /* opts is filled; start the server */
    BS_OPTS_HELP,    /* --help was given: print bs_opts_usage, exit 0 */
    BS_OPTS_VERSION, /* --version: print the version, exit 0 */
    BS_OPTS_ERROR,   /* err holds a sentence; exit 1 */
    BS_OPTS_LIST,    /* --list-options: print bs_opts_list, exit 0 */
};

/* Parse argv.  Resets getopt's state first, so it may be called more
 * than once (tests).  On BS_OPTS_ERROR err says which option is wrong
 * and what is accepted. */
enum bs_opts_result bs_opts_parse(int argc, char **argv, struct bs_opts *o,
                                  char *err, size_t errlen);

/* The --help text, defaults included. */
void bs_opts_usage(FILE *f, const char *prog);

/* Every option name, one a line (--list-options: bash completion and
 * the man-page test). */
void bs_opts_list(FILE *f);

#endif /* BS_OPTS_H */
