/*
 * test_opts.c - bitstuffd's command line: defaults, every option, and
 * the refusals with their sentences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "opts.h"
#include "proto.h"
#include "refusals.h"

#define PARSE(o, err, ...)                                                     \
    parse_args((o), (err), (const char *[]){"bitstuffd", __VA_ARGS__, NULL})

#define MAX_ARGS 48

/* getopt wants mutable strings; copy the literals into a static store
 * that outlives the parse (opts keeps pointers into it). */
static enum bs_opts_result parse_args(struct bs_opts *o, char *err,
                                      const char *const *args)
{
    static char store[MAX_ARGS][64];
    static char *argv[MAX_ARGS + 1];
    int argc = 0;

    while (args[argc] != NULL && argc < MAX_ARGS) {
        snprintf(store[argc], sizeof store[argc], "%s", args[argc]);
        argv[argc] = store[argc];
        argc++;
    }
    argv[argc] = NULL;
    err[0] = '\0';
    return bs_opts_parse(argc, argv, o, err, 256);
}

/* The numbers a parse stores, in the order of --help, checked together
 * by test_defaults and test_every_option. */
struct numbers {
    enum bs_tls_verify verify_client;
    int min_tls;
    unsigned threads, max_conns;
    uint64_t handshake_ms, idle_ms, max_message_bits;
    size_t max_line;
};

static void assert_numbers(const struct bs_opts *o, struct numbers want)
{
    assert_int_equal(o->tls.verify_client, want.verify_client);
    assert_int_equal(o->tls.min_version, want.min_tls);
    assert_int_equal(o->threads, want.threads);
    assert_int_equal(o->max_conns, want.max_conns);
    assert_true(o->handshake_ms == want.handshake_ms);
    assert_true(o->idle_ms == want.idle_ms);
    assert_true(o->max_message_bits == want.max_message_bits);
    assert_int_equal(o->max_line, want.max_line);
}

static void test_defaults(void **state)
{
    struct bs_opts o;
    char err[256];
    const char *argv[] = {"bitstuffd", NULL};

    (void) state;
    assert_int_equal(parse_args(&o, err, argv), BS_OPTS_RUN);
    assert_int_equal(o.nlisten, 1);
    assert_string_equal(o.listen[0], "localhost:55000");
    assert_string_equal(o.tls.cert_file, "certs/server.crt");
    assert_string_equal(o.tls.key_file, "certs/server.key");
    /* neither given: main looks for them (certpath.h), and the default
     * address gives way to socket activation */
    assert_true(o.cert_default);
    assert_true(o.listen_default);
    assert_null(o.tls.ca_file);
    /* verify, min TLS, threads, max conns, handshake and idle timeouts
     * (ms), max message bits, max line */
    assert_numbers(&o,
                   (struct numbers){BS_TLS_VERIFY_NONE, 13, 0, 10000, 10000,
                                    300000, BS_PROTO_DEFAULT_MAX_MESSAGE_BITS,
                                    BS_PROTO_DEFAULT_MAX_LINE});
    assert_null(o.tls.keylog_file); /* off unless asked, whatever the env */
    assert_false(o.quiet);
    assert_null(o.tls.ticket_key_file);
    assert_false(o.reuse_port);
}

static void test_every_option(void **state)
{
    struct bs_opts o;
    char err[256];

    (void) state;
    assert_int_equal(PARSE(&o, err, "-l", "127.0.0.1:0", "--listen", "[::1]:7",
                           "--cert", "c.crt", "--key", "c.key", "--ca-file",
                           "ca.crt", "--verify-client", "optional", "--min-tls",
                           "1.2", "--threads", "3", "--max-conns", "5",
                           "--handshake-timeout", "500ms", "--idle-timeout",
                           "2s", "--max-message-bits", "1000", "--max-line",
                           "100", "--keylog-file", "k.log", "-q",
                           "--ticket-key-file", "t.keys", "--reuse-port"),
                     BS_OPTS_RUN);
    assert_int_equal(o.nlisten, 2);
    assert_string_equal(o.listen[1], "[::1]:7");
    assert_string_equal(o.tls.cert_file, "c.crt");
    assert_string_equal(o.tls.ca_file, "ca.crt");
    assert_numbers(&o, (struct numbers){BS_TLS_VERIFY_OPTIONAL, 12, 3, 5, 500,
                                        2000, 1000, 100});
    assert_string_equal(o.tls.keylog_file, "k.log");
    assert_true(o.quiet);
    assert_string_equal(o.tls.ticket_key_file, "t.keys");
    assert_true(o.reuse_port);
    assert_false(o.cert_default);
    assert_false(o.listen_default);
}

/* Issue 13: --explain on the display (which -q turns off), -v and -vv. */
static void test_explain_and_verbose(void **state)
{
    struct bs_opts o;
    char err[256];

    (void) state;
    assert_int_equal(PARSE(&o, err, "--explain", "-v"), BS_OPTS_RUN);
    assert_true(o.explain);
    assert_int_equal(o.verbose, 1);
    assert_int_equal(PARSE(&o, err, "-vv"), BS_OPTS_RUN);
    assert_false(o.explain);
    assert_int_equal(o.verbose, 2);
    assert_int_equal(PARSE(&o, err, "--explain", "-q"), BS_OPTS_ERROR);
    assert_non_null(strstr(err, "--explain shows on the display, which "
                                "--quiet turns off"));
}

static void test_ca_file_means_require(void **state)
{
    struct bs_opts o;
    char err[256];

    (void) state;
    assert_int_equal(PARSE(&o, err, "--ca-file", "ca.crt"), BS_OPTS_RUN);
    assert_int_equal(o.tls.verify_client, BS_TLS_VERIFY_REQUIRE);
    assert_int_equal(
        PARSE(&o, err, "--ca-file", "ca.crt", "--verify-client", "none"),
        BS_OPTS_RUN);
    assert_int_equal(o.tls.verify_client, BS_TLS_VERIFY_NONE);
}

static void test_help_and_version(void **state)
{
    struct bs_opts o;
    char err[256];

    (void) state;
    assert_int_equal(PARSE(&o, err, "--help"), BS_OPTS_HELP);
    assert_int_equal(PARSE(&o, err, "-h"), BS_OPTS_HELP);
    assert_int_equal(PARSE(&o, err, "--version"), BS_OPTS_VERSION);
    assert_int_equal(PARSE(&o, err, "-V"), BS_OPTS_VERSION);
}

/* Each refusal: the arguments (after the program name) and words its
 * error must contain. */
static const struct refusal refusals[] = {
    {{"--verify-client", "always"}, "none, optional or require"},
    {{"--verify-client", "require"}, "needs --ca-file"},
    {{"--min-tls", "1.1"}, "1.2 or 1.3"},
    {{"--threads", "0"}, "--threads: '0'"},
    {{"--threads", "1000"}, "1 to 256"},
    {{"--threads", "2x"}, "--threads"},
    {{"--max-conns", "-1"}, "--max-conns"},
    {{"--handshake-timeout", "0"}, "--handshake-timeout"},
    {{"--idle-timeout", "5x"}, "--idle-timeout"},
    {{"--idle-timeout", "25h"}, "from 1ms to 24h"},
    {{"--idle-timeout", ""}, "--idle-timeout"},
    {{"--max-message-bits", "0"}, "--max-message-bits"},
    {{"--max-message-bits", "99999999999999999999999"}, "--max-message-bits"},
    {{"--max-line", "1"}, "--max-line"},
    {{"--max-line", "99999999"}, "--max-line"},
    {{"--keylog-file", ""}, "--keylog-file needs a file name"},
    {{"--ticket-key-file", ""}, "--ticket-key-file needs a file name"},
    {{"--reuse-port=1"}, "--reuse-port"},
    {{"--bogus"}, "unknown option '--bogus'"},
    {{"-x"}, "unknown option"},
    {{"--cert"}, "needs a value"},
    {{"-q", "extra"}, "unexpected argument 'extra'"},
    /* issue 16 item 3 and issue 9 items 8 and 9 */
    {{"--cert", "a", "--key", "b", "--cert", "c"}, "one --key for each --cert"},
    {{"--cert", "a", "--cert", "b", "--cert", "c", "--cert", "d"},
     "too many --cert"},
    {{"--crl-file", "ca.crl"}, "needs --ca-file"},
    {{"--allow-cn", "x"}, "needs --ca-file"},
    {{"--ca-file", "ca", "--verify-client", "none", "--allow-uri", "x:y"},
     "needs --ca-file"},
    {{"--ca-file", "ca", "--allow-cn", ""}, "--allow-cn needs a value"},
    {{"--groups", ""}, "--groups"},
    {{"--groups", ""}, BS_TLS_DEFAULT_GROUPS},
    /* issue 14 items 1 and 4, issue 12 item 5 */
    {{"--proxy-protocol"}, "--proxy-protocol needs --proxy-from"},
    {{"--proxy-from", "10.0.0.0/8"}, "only with --proxy-protocol"},
    {{"--proxy-protocol", "--proxy-from", "10.1.2.3/8"},
     "did you mean 10.0.0.0/8?"},
    {{"--proxy-protocol", "--proxy-from", "example.com"}, "--proxy-from"},
    {{"--proxy-protocol", "--proxy-from", ""}, "--proxy-from"},
    {{"--max-conns-per-ip", "0"}, "--max-conns-per-ip"},
    {{"--log-level", "warn"}, "use error, warning, info or debug"},
    {{"--log-format", "xml"}, "use text or json"},
};

static int refuses(const char *const *args, char *err, size_t errlen)
{
    const char *argv[REFUSAL_MAX_ARGS + 2] = {"bitstuffd"};
    struct bs_opts o;

    (void) errlen; /* parse_args' err holds 256 */
    for (size_t j = 0; j < REFUSAL_MAX_ARGS && args[j] != NULL; j++) {
        argv[j + 1] = args[j];
    }
    return parse_args(&o, err, argv) == BS_OPTS_ERROR;
}

REFUSALS_TEST(test_refusals_name_the_problem, refusals, refuses)

static void test_certs_and_client_policy(void **state)
{
    struct bs_opts o;
    char err[256];

    (void) state;
    assert_int_equal(PARSE(&o, err, "--cert", "e.crt", "--key", "e.key",
                           "--cert", "r.crt", "--key", "r.key"),
                     BS_OPTS_RUN);
    assert_int_equal(o.ncerts, 2);
    assert_string_equal(o.tls.cert_file, "e.crt");
    assert_string_equal(o.tls.key_file, "e.key");
    assert_string_equal(o.cert_files[1], "r.crt");
    assert_string_equal(o.key_files[1], "r.key");
    /* pair 1 is the TLS configuration's first extra pair */
    assert_int_equal(o.tls.nmore, 1);
    assert_string_equal(o.tls.more_cert_files[0], "r.crt");
    assert_string_equal(o.tls.more_key_files[0], "r.key");
    assert_true(o.strict_modes);
    assert_null(o.tls.crl_file);
    assert_int_equal(o.tls.nallow_cn + o.tls.nallow_dns + o.tls.nallow_uri, 0);

    assert_int_equal(PARSE(&o, err, "--cert", "a.crt"), BS_OPTS_RUN);
    assert_int_equal(o.ncerts, 1);
    assert_string_equal(o.tls.key_file, "certs/server.key"); /* as before */
    assert_false(o.cert_default); /* one of them given: no search */
    assert_int_equal(PARSE(&o, err, "--key", "a.key", "-l", "localhost:55000"),
                     BS_OPTS_RUN);
    assert_false(o.cert_default);
    assert_false(o.listen_default); /* given, even if it is the default */

    assert_int_equal(PARSE(&o, err, "--ca-file", "ca.crt", "--crl-file",
                           "ca.crl", "--allow-cn", "alice", "--allow-cn", "bob",
                           "--allow-dns", "c.example", "--allow-uri",
                           "spiffe://x/d", "--no-strict-modes"),
                     BS_OPTS_RUN);
    assert_string_equal(o.tls.crl_file, "ca.crl");
    assert_int_equal(o.tls.nallow_cn, 2);
    assert_string_equal(o.tls.allow_cn[1], "bob");
    assert_int_equal(o.tls.nallow_dns, 1);
    assert_string_equal(o.tls.allow_dns[0], "c.example");
    assert_int_equal(o.tls.nallow_uri, 1);
    assert_string_equal(o.tls.allow_uri[0], "spiffe://x/d");
    assert_false(o.strict_modes);
}

static void test_too_many_listeners(void **state)
{
    struct bs_opts o;
    char err[256];
    const char *argv[2 + 2 * (BS_OPTS_MAX_LISTEN + 1)];
    int argc = 1;

    (void) state;
    argv[0] = "bitstuffd";
    for (int i = 0; i <= BS_OPTS_MAX_LISTEN; i++) {
        argv[argc++] = "-l";
        argv[argc++] = "127.0.0.1:0";
    }
    argv[argc] = NULL;
    assert_int_equal(parse_args(&o, err, argv), BS_OPTS_ERROR);
    assert_non_null(strstr(err, "too many --listen"));
}

/* One duration syntax (issue 12 item 6): units and fractions. */
static void test_durations(void **state)
{
    struct bs_opts o;
    char err[256];

    (void) state;
    assert_int_equal(
        PARSE(&o, err, "--handshake-timeout", "1.5s", "--idle-timeout", "5m"),
        BS_OPTS_RUN);
    assert_true(o.handshake_ms == 1500);
    assert_true(o.idle_ms == 300000);
    assert_int_equal(PARSE(&o, err, "--idle-timeout", "24h"), BS_OPTS_RUN);
    assert_true(o.idle_ms == 86400000);
    assert_int_equal(PARSE(&o, err, "--idle-timeout", "10"), BS_OPTS_RUN);
    assert_true(o.idle_ms == 10000);
}

/* --list-options names every option, hidden ones included; --help lists
 * the same ones (but not the hidden --list-options). */
static void test_names_and_help(void **state)
{
    struct bs_opts o;
    char err[256], names[4096] = {0}, help[8192] = {0};
    FILE *f;

    (void) state;
    assert_int_equal(PARSE(&o, err, "--list-options"), BS_OPTS_LIST);
    f = fmemopen(names, sizeof names - 1, "w");
    assert_non_null(f);
    bs_opts_list(f);
    fclose(f);
    f = fmemopen(help, sizeof help - 1, "w");
    assert_non_null(f);
    bs_opts_usage(f, "bitstuffd");
    fclose(f);
    assert_non_null(strstr(names, "--listen\n-l\n"));
    assert_non_null(strstr(names, "--list-options\n"));
    assert_null(strstr(help, "--list-options"));
    for (char *line = strtok(names, "\n"); line != NULL;
         line = strtok(NULL, "\n")) {
        if (strcmp(line, "--list-options") != 0 && strstr(help, line) == NULL) {
            fail_msg("--help does not mention %s", line);
        }
    }
    assert_non_null(strstr(help, "(default: 10s)"));
    assert_non_null(strstr(help, "(default: 10000)"));
    assert_non_null(strstr(help, "On SIGHUP"));
}

/* --groups: off by default (the library's list), taken as given (OpenSSL
 * checks the names when the context is made), empty refused. */
static void test_groups(void **state)
{
    struct bs_opts o;
    char err[256];

    (void) state;
    assert_int_equal(PARSE(&o, err, "-q"), BS_OPTS_RUN);
    assert_null(o.tls.groups);
    assert_int_equal(PARSE(&o, err, "--groups", "P-384:X25519"), BS_OPTS_RUN);
    assert_string_equal(o.tls.groups, "P-384:X25519");
    /* the rest is in refusals[] */
}

/* The PROXY protocol's ranges are parsed; the limit and the log
 * settings are stored; the defaults are info and text without either. */
static void test_proxy_limit_and_logs(void **state)
{
    struct bs_opts o;
    char err[256];

    (void) state;
    assert_int_equal(PARSE(&o, err, "-q"), BS_OPTS_RUN);
    assert_false(o.proxy_protocol);
    assert_int_equal(o.nproxy_from, 0);
    assert_int_equal(o.max_conns_per_ip, 0);
    assert_int_equal(o.log_level, BS_LOG_LVL_INFO);
    assert_int_equal(o.log_format, BS_LOG_FORMAT_TEXT);
    assert_int_equal(PARSE(&o, err, "--proxy-protocol", "--proxy-from",
                           "10.0.0.0/8", "--proxy-from", "::1",
                           "--max-conns-per-ip", "20", "--log-level", "debug",
                           "--log-format", "json"),
                     BS_OPTS_RUN);
    assert_true(o.proxy_protocol);
    assert_int_equal(o.nproxy_from, 2);
    assert_int_equal(o.proxy_cidr[0].family, AF_INET);
    assert_int_equal(o.proxy_cidr[0].prefix, 8);
    assert_int_equal(o.proxy_cidr[1].family, AF_INET6);
    assert_int_equal(o.proxy_cidr[1].prefix, 128);
    assert_int_equal(o.max_conns_per_ip, 20);
    assert_int_equal(o.log_level, BS_LOG_LVL_DEBUG);
    assert_int_equal(o.log_format, BS_LOG_FORMAT_JSON);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_proxy_limit_and_logs),
        cmocka_unit_test(test_every_option),
        cmocka_unit_test(test_explain_and_verbose),
        cmocka_unit_test(test_ca_file_means_require),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_refusals_name_the_problem),
        cmocka_unit_test(test_certs_and_client_policy),
        cmocka_unit_test(test_too_many_listeners),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_names_and_help),
        cmocka_unit_test(test_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
