/*
 * test_cli.c - the client's command line: options and their checks,
 * message validation, line trimming, labels and the exit-code mapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "expect.h"
#include "refusals.h"

#define MAXARGS 32

/* Parse a NULL-terminated list of arguments (after the program name). */
static enum bs_cli_parse_result parse(struct bs_cli_opts *o, char *err,
                                      size_t errlen, const char *first, ...)
{
    static char storage[MAXARGS][128];
    static char *argv[MAXARGS + 2]; /* o->bits points into it */
    int argc = 0;
    va_list ap;
    const char *a = first;

    argv[argc++] = (char *) (uintptr_t) "bitstuff";
    va_start(ap, first);
    while (a != NULL && argc <= MAXARGS) {
        snprintf(storage[argc - 1], sizeof(storage[0]), "%s", a);
        argv[argc] = storage[argc - 1];
        argc++;
        a = va_arg(ap, const char *);
    }
    va_end(ap);
    argv[argc] = NULL;
    return bs_cli_parse(argc, argv, o, err, errlen);
}

/* parse() for tests that do not read the error. */
static char parse_err[256];
#define PARSE(o, ...)                                                          \
    parse((o), parse_err, sizeof(parse_err), __VA_ARGS__, NULL)

/* parse() of a table's arguments: up to REFUSAL_MAX_ARGS, NULL after the
 * last. */
static enum bs_cli_parse_result parse_args(struct bs_cli_opts *o, char *err,
                                           size_t errlen, const char *const *a)
{
    return parse(o, err, errlen, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
                 a[8], a[9], NULL);
}

static void test_messages(void **state)
{
    struct bs_cli_opts o;

    (void) state;
    assert_int_equal(PARSE(&o, "0101111110011111001010", "", "1"), BS_CLI_RUN);
    assert_int_equal(o.nbits, 3);
    assert_string_equal(o.bits[0], "0101111110011111001010");
    assert_string_equal(o.bits[1], "");
    assert_string_equal(o.bits[2], "1");
}

static void test_bad_message_named(void **state)
{
    struct bs_cli_opts o;
    char err[256];

    (void) state;
    /* a bad message does not stop the parse (issue 10 item 5): the
     * session checks each, as it checks lines of standard input */
    assert_int_equal(parse(&o, err, sizeof(err), "0101", "01x1", NULL),
                     BS_CLI_RUN);
    assert_int_equal(o.nbits, 2);
    assert_int_equal(
        bs_cli_check_message("message 1", "0101", 4, err, sizeof(err)), 0);
    assert_int_equal(
        bs_cli_check_message("message 2", "01x1", 4, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "message 2: 'x' at offset 2 is not a bit"));

    assert_int_equal(bs_cli_check_message("line 7", "012", 3, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "line 7: '2' at offset 2"));

    /* a non-printable byte is shown by value */
    assert_int_equal(
        bs_cli_check_message("message 1", "0\t1", 3, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "byte 0x09 at offset 1"));
    assert_int_equal(bs_cli_check_message("message 1", "", 0, err, sizeof(err)),
                     0);
}

static void test_defaults_and_all_options(void **state)
{
    struct bs_cli_opts d, o; /* the defaults, and after every option */

    (void) state;
    assert_int_equal(parse(&d, parse_err, sizeof(parse_err), NULL), BS_CLI_RUN);
    assert_int_equal(PARSE(&o, "-c", "[::1]:4000", "--ca-file", "ca.pem",
                           "--cert", "c.crt", "--key", "c.key", "--servername",
                           "host.example", "--min-tls", "1.2", "--timeout",
                           "2.5", "-u", "--rule", "CAN", "-q", "-v",
                           "--keylog-file", "k.log", "--insecure", "111"),
                     BS_CLI_RUN);
    /* each field: its default, and its value after every option */
    const struct expect want[] = {
        EXPECT_TLS_CLIENT(d, o, "[::1]:4000", "ca.pem", "c.crt", "c.key",
                          "host.example"),
        EXPECT_STRS(d, o, keylog_file, NULL, "k.log"),
        EXPECT_STRS(d, o, in_file, NULL, NULL),
        EXPECT_INTS(d, o, timeout_ms, 10000, 2500),
        EXPECT_INTS(d, o, op, BS_PROTO_STUFF, BS_PROTO_UNSTUFF),
        EXPECT_INTS(d, o, rule, BS_RULE_HDLC, BS_RULE_CAN),
        EXPECT_FLAG(d, o, quiet),
        EXPECT_FLAG(d, o, verbose),
        EXPECT_FLAG(d, o, insecure),
        EXPECT_INTS(d, o, nbits, 0, 1),
    };
    CHECK_EXPECT(want);

    /* issue 13: --explain, and -v twice for the record headers */
    assert_int_equal(PARSE(&o, "--explain", "-vv"), BS_CLI_RUN);
    assert_int_equal(o.explain, 1);
    assert_int_equal(o.verbose, 2);

    /* --stuff after -u wins; --connect= form */
    assert_int_equal(PARSE(&o, "-u", "--stuff", "--connect=h:1", "--rule=usb"),
                     BS_CLI_RUN);
    assert_int_equal(o.op, BS_PROTO_STUFF);
    assert_int_equal(o.rule, BS_RULE_USB);
    assert_string_equal(o.connect, "h:1");
}

/* Each refusal: arguments (after the program name) and words its error
 * must contain ("" when any error will do).  --timeout's are with its
 * units in test_timeout_units, combinations in bad_combinations[]. */
static const struct refusal refusals[] = {
    {{"--rule", "ppp"}, "hdlc, usb or can"},
    {{"--min-tls", "1.1"}, "1.2 or 1.3"},
    {{"--in", "f", "--in-bits", "-3"}, ""},
    {{"--servername", ""}, ""},
    {{"--bogus"}, "unknown option '--bogus'"},
    {{"-z"}, "unknown option '-z'"},
    {{"-c"}, "needs a value"},
    {{"--rule"}, "--rule needs a value"},
    /* a long option that has a short alias is named as it was typed */
    {{"--connect"}, "--connect needs a value"},
    {{"--quiet=yes"}, "--quiet=yes"},
};

static int refuses(const char *const *a, char *err, size_t errlen)
{
    struct bs_cli_opts o;

    return parse_args(&o, err, errlen, a) == BS_CLI_ERROR;
}

REFUSALS_TEST(test_bad_values, refusals, refuses)

/* Options that need others or exclude them, refused as refusals[] are. */
static const struct refusal bad_combinations[] = {
    {{"--out", "x"}, "--out needs --in"},
    {{"--in-bits", "8"}, ""},
    {{"--in", "f", "0101"}, "not both"},
    /* the key may be in the certificate file, but not the reverse */
    {{"--key", "k"}, "--key needs --cert"},
    /* file-mode options without a file */
    {{"--raw"}, "--raw needs --in"},
    {{"--progress", "01"}, ""},
    /* a container carries its length: --in-bits on -u is for --raw */
    {{"-u", "--in", "f", "--in-bits", "8"}, "--raw"},
};

/* One duration syntax (issue 12 item 6): --timeout takes units, from 1ms
 * to 24h.  Each value: its milliseconds, or words its refusal must
 * contain ("" when any error will do). */
static void test_timeout_units(void **state)
{
    static const struct {
        const char *arg;
        int ms;
        const char *refusal; /* NULL: accepted */
    } cases[] = {
        {"500ms", 500, NULL},  {"1.5s", 1500, NULL},
        {"2m", 120000, NULL},  {"86400", 86400000, NULL},
        {"1h", 3600000, NULL}, {"0", 0, "--timeout: '0'"},
        {"-1", 0, ""},         {"5x", 0, ""},
        {"nan", 0, ""},        {"86401", 0, "from 1ms to 24h"},
    };
    struct bs_cli_opts o;

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        enum bs_cli_parse_result r =
            parse(&o, err, sizeof(err), "--timeout", cases[i].arg, NULL);

        if (cases[i].refusal == NULL) {
            assert_int_equal(r, BS_CLI_RUN);
            assert_int_equal(o.timeout_ms, cases[i].ms);
        } else {
            assert_int_equal(r, BS_CLI_ERROR);
            assert_non_null(strstr(err, cases[i].refusal));
        }
    }
    assert_int_equal(PARSE(&o, "--list-options"), BS_CLI_LIST);
}

static void test_combinations(void **state)
{
    struct bs_cli_opts o;

    (void) state;
    check_refusals(bad_combinations,
                   sizeof(bad_combinations) / sizeof(bad_combinations[0]),
                   refuses);
    assert_int_equal(PARSE(&o, "--cert", "c"), BS_CLI_RUN);
    assert_int_equal(PARSE(&o, "--in", "f", "--out", "g", "--in-bits",
                           "18446744073709551615"),
                     BS_CLI_RUN);
    assert_int_equal(o.has_in_bits, 1);
    assert_true(o.in_bits == UINT64_MAX);
}

/* Issue 10: --raw, --progress, --no-progress, and what -u --in-bits
 * means now that a stuffed file carries its own length. */
static void test_file_options(void **state)
{
    static const struct {
        const char *args[REFUSAL_MAX_ARGS];
        struct {
            int raw, has_rule;
            enum bs_progress_mode progress;
        } want;
    } cases[] = {
        {{"--in", "f"}, {0, 0, BS_PROGRESS_AUTO}},
        {{"--in", "f", "--raw", "--progress", "--rule", "hdlc"},
         {1, 1, BS_PROGRESS_ON}},
        {{"--in", "f", "--no-progress"}, {0, 0, BS_PROGRESS_OFF}},
        /* -q silences the automatic line; --progress still forces it */
        {{"--in", "f", "-q"}, {0, 0, BS_PROGRESS_OFF}},
        {{"--in", "f", "-q", "--progress"}, {0, 0, BS_PROGRESS_ON}},
        /* the refusals are in refusals[]; a raw file has no length of its
         * own */
        {{"-u", "--raw", "--in", "f", "--in-bits", "8"},
         {1, 0, BS_PROGRESS_AUTO}},
        /* stuffing may still send part of a file */
        {{"--in", "f", "--in-bits", "8"}, {0, 0, BS_PROGRESS_AUTO}},
    };
    struct bs_cli_opts o;

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(
            parse_args(&o, parse_err, sizeof(parse_err), cases[i].args),
            BS_CLI_RUN);
        assert_int_equal(o.raw, cases[i].want.raw);
        assert_int_equal(o.has_rule, cases[i].want.has_rule);
        assert_int_equal(o.progress, cases[i].want.progress);
    }
}

/* Issue 9 item 10: a binary reply must name the request's op and rule. */
static void test_reply_matches(void **state)
{
    struct bs_proto_event ev;
    static const enum bs_proto_ev reply[] = {BS_PROTO_EV_BEGIN,
                                             BS_PROTO_EV_DATA, BS_PROTO_EV_END};

    (void) state;
    memset(&ev, 0, sizeof(ev));
    ev.form = BS_PROTO_BINARY;
    ev.op = BS_PROTO_STUFF;
    ev.rule = BS_RULE_HDLC;
    for (size_t i = 0; i < sizeof(reply) / sizeof(reply[0]); i++) {
        ev.type = reply[i];
        ev.op = BS_PROTO_STUFF;
        ev.rule = BS_RULE_HDLC;
        assert_true(bs_cli_reply_matches(BS_PROTO_STUFF, BS_RULE_HDLC, &ev));
        ev.op = BS_PROTO_UNSTUFF;
        assert_false(bs_cli_reply_matches(BS_PROTO_STUFF, BS_RULE_HDLC, &ev));
        ev.op = BS_PROTO_STUFF;
        ev.rule = BS_RULE_USB;
        assert_false(bs_cli_reply_matches(BS_PROTO_STUFF, BS_RULE_HDLC, &ev));
        assert_true(bs_cli_reply_matches(BS_PROTO_STUFF, BS_RULE_USB, &ev));
    }
    /* an 'E' frame may carry 0s for a request it could not parse */
    ev.type = BS_PROTO_EV_ERROR;
    ev.op = BS_PROTO_STUFF;
    ev.rule = BS_RULE_HDLC;
    assert_true(bs_cli_reply_matches(BS_PROTO_UNSTUFF, BS_RULE_CAN, &ev));
    /* text replies name neither */
    ev.type = BS_PROTO_EV_BEGIN;
    ev.form = BS_PROTO_TEXT;
    assert_true(bs_cli_reply_matches(BS_PROTO_UNSTUFF, BS_RULE_CAN, &ev));
}

static void test_help_version(void **state)
{
    struct bs_cli_opts o;

    (void) state;
    assert_int_equal(PARSE(&o, "--help"), BS_CLI_HELP);
    assert_int_equal(PARSE(&o, "-h", "--bogus"), BS_CLI_HELP);
    assert_int_equal(PARSE(&o, "--version"), BS_CLI_VERSION);
}

static void test_usage_documents_exit_codes(void **state)
{
    static const char *const words[] = {
        "  0  success", "  4  certificate verification failed",
        "  6  connection lost", "received N bits"};
    char buf[8192] = {0};
    FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

    (void) state;
    assert_non_null(f);
    bs_cli_usage(f, "bitstuff");
    fclose(f);
    check_contains(buf, words, sizeof(words) / sizeof(words[0]));
}

static void test_check_bits(void **state)
{
    size_t bad = 99;

    (void) state;
    assert_int_equal(bs_cli_check_bits("", 0, &bad), 0);
    assert_int_equal(bad, 99);
    assert_int_equal(bs_cli_check_bits("0110", 4, &bad), 0);
    assert_int_equal(bs_cli_check_bits("0110 ", 5, &bad), -1);
    assert_int_equal(bad, 4);
    assert_int_equal(bs_cli_check_bits("a", 1, &bad), -1);
    assert_int_equal(bad, 0);
    /* a NUL inside the given length is not a bit either */
    assert_int_equal(bs_cli_check_bits("01\0"
                                       "1",
                                       4, &bad),
                     -1);
    assert_int_equal(bad, 2);
}

static void test_trim(void **state)
{
    size_t start, len;

    (void) state;
    bs_cli_trim("  0101\t\r", 8, &start, &len);
    assert_int_equal(start, 2);
    assert_int_equal(len, 4);
    bs_cli_trim(" \t \r", 4, &start, &len);
    assert_int_equal(len, 0);
    bs_cli_trim("", 0, &start, &len);
    assert_int_equal(len, 0);
    bs_cli_trim("0 1", 3, &start, &len);
    assert_int_equal(start, 0);
    assert_int_equal(len, 3); /* inner space stays, and fails validation */
}

static void test_label(void **state)
{
    char buf[40];

    (void) state;
    assert_string_equal(
        bs_cli_label(BS_PROTO_STUFF, BS_RULE_HDLC, buf, sizeof(buf)), "");
    assert_string_equal(
        bs_cli_label(BS_PROTO_UNSTUFF, BS_RULE_HDLC, buf, sizeof(buf)),
        " (unstuff hdlc)");
    assert_string_equal(
        bs_cli_label(BS_PROTO_STUFF, BS_RULE_USB, buf, sizeof(buf)),
        " (stuff usb)");
}

static void test_exit_mapping(void **state)
{
    (void) state;
    /* during the handshake */
    /* connected, then the peer hung up mid-handshake: it does not speak
     * our TLS, a handshake failure (issue 9), not a network one */
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_NETWORK, 1, 0, 1),
                     BS_CLI_EXIT_HANDSHAKE);
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_HANDSHAKE, 1, 0, 1),
                     BS_CLI_EXIT_HANDSHAKE);
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_VERIFY, 1, 0, 1),
                     BS_CLI_EXIT_VERIFY);
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_PROTOCOL, 1, 0, 1),
                     BS_CLI_EXIT_HANDSHAKE);
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_NONE, 1, 0, 1),
                     BS_CLI_EXIT_HANDSHAKE);
    /* TLS 1.3: a refused client certificate shows at the first read */
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_HANDSHAKE, 0, 0, 1),
                     BS_CLI_EXIT_HANDSHAKE);
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_VERIFY, 0, 0, 1),
                     BS_CLI_EXIT_VERIFY);
    /* ... and if we sent none, the server requires one: a handshake
     * failure, not a verification failure */
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_VERIFY, 0, 0, 0),
                     BS_CLI_EXIT_HANDSHAKE);
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_VERIFY, 1, 0, 0),
                     BS_CLI_EXIT_VERIFY);
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_NETWORK, 0, 0, 1),
                     BS_CLI_EXIT_LOST);
    /* once replies flowed, any failure is a lost connection */
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_HANDSHAKE, 0, 1, 1),
                     BS_CLI_EXIT_LOST);
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_VERIFY, 0, 1, 1),
                     BS_CLI_EXIT_LOST);
    assert_int_equal(bs_cli_exit_for_tls(BS_TLS_FAIL_PROTOCOL, 0, 1, 1),
                     BS_CLI_EXIT_LOST);
    /* the codes themselves are a documented contract */
    assert_int_equal(BS_CLI_EXIT_USAGE, 1);
    assert_int_equal(BS_CLI_EXIT_NETWORK, 2);
    assert_int_equal(BS_CLI_EXIT_HANDSHAKE, 3);
    assert_int_equal(BS_CLI_EXIT_VERIFY, 4);
    assert_int_equal(BS_CLI_EXIT_REJECTED, 5);
    assert_int_equal(BS_CLI_EXIT_LOST, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_bad_message_named),
        cmocka_unit_test(test_defaults_and_all_options),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_combinations),
        cmocka_unit_test(test_timeout_units),
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_usage_documents_exit_codes),
        cmocka_unit_test(test_check_bits),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_label),
        cmocka_unit_test(test_exit_mapping),
        cmocka_unit_test(test_file_options),
        cmocka_unit_test(test_reply_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
