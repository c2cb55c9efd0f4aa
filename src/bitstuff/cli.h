/*
 * cli.h - the client's command-line contract: options, bit-string
 * validation, and exit codes.  Pure code (no I/O besides the help text),
 * so every rule here is unit-tested.
 */
#ifndef BS_CLI_H
#define BS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "net.h"
#include "progress.h"
#include "proto.h"
#include "stuff.h"
#include "tls.h"

#define BS_CLI_DEFAULT_CONNECT BS_NET_DEFAULT_ADDR
#define BS_CLI_DEFAULT_PORT    BS_NET_DEFAULT_PORT
#define BS_CLI_DEFAULT_TIMEOUT 10    /* seconds */
#define BS_CLI_MAX_TIMEOUT     86400 /* seconds */
/* Longest line read from standard input, in characters (bits). */
#define BS_CLI_MAX_LINE (8u * 1024u * 1024u)

/* Exit codes; documented in --help and stable for scripts. */
enum bs_cli_exit {
    BS_CLI_EXIT_OK = 0,
    BS_CLI_EXIT_USAGE = 1,     /* usage or configuration */
    BS_CLI_EXIT_NETWORK = 2,   /* resolve, refused, timeout */
    BS_CLI_EXIT_HANDSHAKE = 3, /* TLS handshake failed */
    BS_CLI_EXIT_VERIFY = 4,    /* certificate verification failed */
    BS_CLI_EXIT_REJECTED = 5,  /* the server answered with an error */
    BS_CLI_EXIT_LOST = 6,      /* connection lost mid-exchange */
    /* Stopped by SIGINT or SIGTERM: main re-raises the signal after its
     * clean-up, so the shell sees 128 + the signal's number. */
    BS_CLI_EXIT_INTERRUPTED = 130,
};

struct bs_cli_opts {
    const char *connect;     /* HOST:PORT, not yet split */
    const char *ca_file;     /* NULL: default (see main) */
    const char *cert_file;   /* mutual TLS, or NULL */
    const char *key_file;    /* NULL: cert_file holds the key too */
    const char *servername;  /* NULL: the host from connect */
    const char *keylog_file; /* NULL: off */
    const char *in_file;     /* file mode: packed input, "-" = stdin */
    const char *out_file;    /* file mode: packed output, "-" = stdout */
    uint64_t in_bits;        /* bits of in_file to send, if has_in_bits */
    int has_in_bits;
    int raw;      /* file mode: bare packed bits, not a container */
    int has_rule; /* --rule given (else a container's rule is used) */
    enum bs_progress_mode progress;
    int min_tls; /* 12 or 13 */
    int insecure;
    int quiet;
    int verbose;
    int explain; /* --explain: show what the rule did to each bit */
    int timeout_ms;
    enum bs_proto_op op;
    enum bs_rule rule;
    char **bits; /* positional messages (pointers into argv) */
    size_t nbits;
};

enum bs_cli_parse_result {
    BS_CLI_RUN = 0,
    BS_CLI_HELP,    /* --help given: print bs_cli_usage(), exit 0 */
    BS_CLI_VERSION, /* --version given */
    BS_CLI_ERROR,   /* err holds the reason; exit BS_CLI_EXIT_USAGE */
    BS_CLI_LIST,    /* --list-options: print bs_cli_list(), exit 0 */
};

/*
 * Parse argv into *o (defaults first).  Checks option values and the
 * combinations (BITS with --in, ...); the positional messages are checked
 * later, one by one (bs_cli_check_message).
 * Pointers in *o point into argv.  Uses getopt_long, which keeps state in
 * globals: it resets optind itself, so it may be called more than once.
 * Writes nothing to stdout or stderr.
 */
enum bs_cli_parse_result bs_cli_parse(int argc, char **argv,
                                      struct bs_cli_opts *o, char *err,
                                      size_t errlen);

/* The --help text, exit codes included (options: the table in cli.c;
 * see optparse.h to add one). */
void bs_cli_usage(FILE *f, const char *prog);

/* Every option name, one a line (bash completion, man-page test). */
void bs_cli_list(FILE *f);

/*
 * Check that s[0..len) holds only '0' and '1'.  Returns 0, or -1 with
 * *bad set to the offset of the first other character.
 */
int bs_cli_check_bits(const char *s, size_t len, size_t *bad);

/*
 * Check one message of bits, named what ("message 2", "line 7") in the
 * error.  Returns 0, or -1 with err set to "WHAT: 'x' at offset N is not a
 * bit; ..." (a byte that is not printable is shown by value).  Arguments
 * and lines of standard input are checked alike: a bad one is reported
 * and skipped, the others are sent, and the exit status is 1.
 */
int bs_cli_check_message(const char *what, const char *s, size_t len, char *err,
                         size_t errlen);

/*
 * A line read from standard input, without its trailing LF: strip
 * leading and trailing spaces, tabs and the CR of a CRLF.  Sets *start
 * and *tlen to the part that remains (tlen 0: a blank line, skipped).
 */
void bs_cli_trim(const char *line, size_t len, size_t *start, size_t *tlen);

/*
 * The label shown after "sent"/"received": "" for the defaults (stuff,
 * hdlc), otherwise " (unstuff hdlc)" and the like.  buf holds >= 32.
 */
const char *bs_cli_label(enum bs_proto_op op, enum bs_rule rule, char *buf,
                         size_t len);

/*
 * Exit code for a TLS failure.  during_handshake: the failure came from
 * bs_tls_handshake(); verification 4, anything else 3 (a peer that hangs
 * up during the handshake included: the TCP connection was made, so it
 * is not a network failure; timeouts are the caller's, exit 2).
 * TLS 1.3 reports a refused client certificate only at the client's first
 * read, after its handshake finished: until something has been received
 * (got_reply 0) a handshake failure still maps to 3 and a certificate
 * alert to 4 if we sent a certificate (sent_cert: the server rejected it)
 * or to 3 if we sent none (the server requires one: not a verification
 * failure, a missing credential).  Anything else after the handshake is a
 * lost connection (6).
 */
enum bs_cli_exit bs_cli_exit_for_tls(enum bs_tls_failure f,
                                     int during_handshake, int got_reply,
                                     int sent_cert);

/*
 * The client's words for the TLS module's reasons (tls.h): its options
 * and scripts/gen-certs.sh.  Give it as the advice of the client's TLS
 * configuration; NULL where the TLS module's own words serve.
 */
const char *bs_cli_tls_advice(enum bs_tls_reason why);

/*
 * Does a reply event answer a request of this op and rule?  A binary
 * reply ('R' frames) repeats the request's op and rule (PROTOCOL.md 4.2):
 * one that names others answers some other request, a protocol error.
 * Text replies carry neither, and error events are judged by their code,
 * so both always match.
 */
int bs_cli_reply_matches(enum bs_proto_op op, enum bs_rule rule,
                         const struct bs_proto_event *ev);

#endif /* BS_CLI_H */
