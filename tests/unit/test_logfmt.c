/*
 * test_logfmt.c - what an operator reads (issue 12.5): each stderr line's
 * RFC 3339 timestamp and level, journald's "<N>" priorities, the JSON
 * format (one valid object per line, whatever the values hold), TEXT
 * values that cannot forge a field or end the line, --log-level
 * filtering, and the detection of a journal on stderr.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* 2026-12-07T17:42:48.123Z */
#define T0 1796665368123ull

static void test_text_stamp_and_level(void **state)
{
    char buf[256];
    size_t n;
    (void) state;

    n = bs_log_render(buf, sizeof buf, BS_LOG_FORMAT_TEXT, BS_LOG_DECOR_TIME,
                      BS_LOG_LVL_WARNING, T0, "bitstuffd: something", NULL, 0);
    assert_string_equal(
        buf, "2026-12-07T17:42:48.123Z warning bitstuffd: something\n");
    assert_int_equal(n, strlen(buf));
    /* milliseconds keep their leading zeros */
    bs_log_render(buf, sizeof buf, BS_LOG_FORMAT_TEXT, BS_LOG_DECOR_TIME,
                  BS_LOG_LVL_INFO, 5, "x", NULL, 0);
    assert_string_equal(buf, "1970-01-01T00:00:00.005Z info x\n");
    /* no decoration: the line as before */
    bs_log_render(buf, sizeof buf, BS_LOG_FORMAT_TEXT, BS_LOG_DECOR_NONE,
                  BS_LOG_LVL_ERROR, T0, "bitstuffd: plain", NULL, 0);
    assert_string_equal(buf, "bitstuffd: plain\n");
}

static void test_journal_priority(void **state)
{
    char buf[256];
    (void) state;

    bs_log_render(buf, sizeof buf, BS_LOG_FORMAT_TEXT, BS_LOG_DECOR_JOURNAL,
                  BS_LOG_LVL_ERROR, T0, "bitstuffd: e", NULL, 0);
    assert_string_equal(buf, "<3>bitstuffd: e\n");
    bs_log_render(buf, sizeof buf, BS_LOG_FORMAT_TEXT, BS_LOG_DECOR_JOURNAL,
                  BS_LOG_LVL_INFO, T0, "bitstuffd: i", NULL, 0);
    assert_string_equal(buf, "<6>bitstuffd: i\n");
    bs_log_render(buf, sizeof buf, BS_LOG_FORMAT_JSON, BS_LOG_DECOR_JOURNAL,
                  BS_LOG_LVL_DEBUG, T0, "bitstuffd: d", NULL, 0);
    assert_string_equal(buf, "<7>{\"time\":\"2026-12-07T17:42:48.123Z\","
                             "\"level\":\"debug\",\"msg\":\"d\"}\n");
}

/* Fields of a closed connection: in TEXT no value can add a field or end
 * the line */
static const struct bs_log_field text_fields[] = {
    {.key = "peer", .str = "127.0.0.1:5000"},
    {.key = "requests", .num = 12},
    {.key = "empty", .str = ""},
    {.key = "detail", .str = "two words"},
    /* a value from the network trying to add a field and a line */
    {.key = "client_cert", .str = "CN=a reason=x\n\"b\\"},
    {.key = "high", .str = "caf\xc3\xa9"},
};

/* ... and in JSON the line stays one valid object, whatever they hold */
static const struct bs_log_field json_fields[] = {
    {.key = "peer", .str = "[::1]:5000"},
    {.key = "bytes_in", .num = 18446744073709551615ull},
    {.key = "s", .str = "q\"b\\n\nt\tc\x01\x7f"},
    {.key = "utf8", .str = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
    /* invalid: a lone continuation, an overlong '/', a surrogate, a
     * sequence cut short */
    {.key = "bad", .str = "\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82"},
};

static void test_values_escaped(void **state)
{
    static const struct {
        enum bs_log_format format;
        enum bs_log_decor decor;
        const char *msg;
        const struct bs_log_field *f;
        size_t n;
        const char *want;
    } cases[] = {
        {BS_LOG_FORMAT_TEXT, BS_LOG_DECOR_NONE,
         "bitstuffd: [p] connection closed", text_fields,
         sizeof text_fields / sizeof text_fields[0],
         "bitstuffd: [p] connection closed peer=127.0.0.1:5000 "
         "requests=12 empty=\"\" detail=\"two words\" "
         "client_cert=\"CN=a reason=x\\x0a\\\"b\\\\\" "
         "high=\"caf\\xc3\\xa9\"\n"},
        /* a control character in the message does not end the line */
        {BS_LOG_FORMAT_TEXT, BS_LOG_DECOR_NONE, "a\nb\rc", NULL, 0, "a b c\n"},
        {BS_LOG_FORMAT_JSON, BS_LOG_DECOR_TIME, "bitstuffd: [::1]:5000 closed",
         json_fields, sizeof json_fields / sizeof json_fields[0],
         "{\"time\":\"2026-12-07T17:42:48.123Z\",\"level\":\"info\","
         "\"msg\":\"[::1]:5000 closed\",\"peer\":\"[::1]:5000\","
         "\"bytes_in\":18446744073709551615,"
         "\"s\":\"q\\\"b\\\\n\\nt\\tc\\u0001\\u007f\","
         "\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
         "\"bad\":\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
         "\\ufffd\\ufffd\"}\n"},
    };
    char buf[1024];
    (void) state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bs_log_render(buf, sizeof buf, cases[i].format, cases[i].decor,
                      BS_LOG_LVL_INFO, T0, cases[i].msg, cases[i].f,
                      cases[i].n);
        assert_string_equal(buf, cases[i].want);
    }
}

/* A line too long for the buffer stays one JSON object in JSON, and is
 * cut with its newline in TEXT. */
static void test_too_long(void **state)
{
    char big[3000], buf[600];
    const struct bs_log_field f[] = {
        {.key = "a", .str = big},
        {.key = "b", .str = big},
        {.key = "n", .num = 7},
    };
    size_t n;
    (void) state;

    memset(big, '"', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    n = bs_log_render(buf, sizeof buf, BS_LOG_FORMAT_JSON, BS_LOG_DECOR_NONE,
                      BS_LOG_LVL_INFO, T0, "m", f, 3);
    assert_true(n < sizeof buf);
    assert_int_equal(strlen(buf), n);
    assert_memory_equal(buf + n - 8, ",\"n\":7}\n", 8);
    assert_non_null(strstr(buf, "\"a\":\"\\\""));
    n = bs_log_render(buf, sizeof buf, BS_LOG_FORMAT_TEXT, BS_LOG_DECOR_NONE,
                      BS_LOG_LVL_INFO, T0, "m", f, 3);
    assert_int_equal(n, sizeof buf - 1);
    assert_int_equal(buf[n - 1], '\n');
    assert_null(memchr(buf, '\n', n - 1));
    /* a tiny buffer (found by fuzz_logrender): still one object */
    n = bs_log_render(buf, 8, BS_LOG_FORMAT_JSON, BS_LOG_DECOR_JOURNAL,
                      BS_LOG_LVL_INFO, T0, "m", f, 3);
    assert_string_equal(buf, "<6>{}\n");
    assert_int_equal(n, 6);
    n = bs_log_render(buf, 5, BS_LOG_FORMAT_JSON, BS_LOG_DECOR_JOURNAL,
                      BS_LOG_LVL_INFO, T0, "m", f, 3);
    assert_int_equal(n, 0);
    assert_string_equal(buf, "");
}

static void test_levels(void **state)
{
    (void) state;
    assert_int_equal(bs_log_parse_level("error"), BS_LOG_LVL_ERROR);
    assert_int_equal(bs_log_parse_level("warning"), BS_LOG_LVL_WARNING);
    assert_int_equal(bs_log_parse_level("info"), BS_LOG_LVL_INFO);
    assert_int_equal(bs_log_parse_level("debug"), BS_LOG_LVL_DEBUG);
    assert_int_equal(bs_log_parse_level("warn"), -1);
    assert_int_equal(bs_log_parse_level(""), -1);
    assert_string_equal(bs_log_level_name(BS_LOG_LVL_WARNING), "warning");
}

static void test_journal_detection(void **state)
{
    char path[] = "/tmp/bs-logfmt.XXXXXX", env[64];
    struct stat st;
    int fd = mkstemp(path), other = open("/dev/null", O_WRONLY);
    (void) state;

    assert_true(fd >= 0 && other >= 0);
    unlink(path);
    assert_int_equal(fstat(fd, &st), 0);
    snprintf(env, sizeof env, "%llu:%llu", (unsigned long long) st.st_dev,
             (unsigned long long) st.st_ino);
    assert_int_equal(bs_log_journal_stream(env, fd), 1);
    /* stderr was redirected elsewhere since systemd set the variable */
    assert_int_equal(bs_log_journal_stream(env, other), 0);
    assert_int_equal(bs_log_journal_stream(NULL, fd), 0);
    assert_int_equal(bs_log_journal_stream("", fd), 0);
    assert_int_equal(bs_log_journal_stream("12", fd), 0);
    snprintf(env, sizeof env, "%llu:%llux", (unsigned long long) st.st_dev,
             (unsigned long long) st.st_ino);
    assert_int_equal(bs_log_journal_stream(env, fd), 0);
    close(fd);
    close(other);
}

/* Read what the logger wrote to the pipe until it holds want (3 s). */
static int read_for(int fd, char *buf, size_t cap, const char *want)
{
    size_t len = 0;

    for (int i = 0; i < 300; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10) == 1) {
            ssize_t n = read(fd, buf + len, cap - 1 - len);
            if (n > 0) {
                len += (size_t) n;
                buf[len] = '\0';
            }
        }
        if (strstr(buf, want) != NULL) {
            return 1;
        }
    }
    return 0;
}

/* The logger shows lines at its level and above, in its format. */
static void test_logger_level_and_json(void **state)
{
    int out[2], err[2];
    char buf[4096] = "", e[256];
    const struct bs_log_field f[] = {{.key = "reason", .str = "idle-timeout"}};
    (void) state;

    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    struct bs_log_config cfg = {.fd = {out[1], err[1]},
                                .level = BS_LOG_LVL_WARNING,
                                .format = BS_LOG_FORMAT_JSON,
                                .decor = BS_LOG_DECOR_TIME,
                                .flush_ms = 3000};
    struct bs_log *lg = bs_log_new(&cfg, e, sizeof e);
    assert_non_null(lg);
    bs_log_msg(lg, BS_LOG_LVL_DEBUG, "bitstuffd: hidden debug");
    bs_log_event(lg, BS_LOG_LVL_INFO, NULL, "bitstuffd: hidden info", f, 1);
    bs_log_event(lg, BS_LOG_LVL_WARNING, NULL, "bitstuffd: shown", f, 1);
    bs_log_put(lg, BS_LOG_ERR, "bitstuffd: an error %d", 42);
    bs_log_free(lg);
    assert_true(read_for(err[0], buf, sizeof buf, "an error 42"));
    assert_null(strstr(buf, "hidden"));
    assert_non_null(strstr(buf, "\"level\":\"warning\",\"msg\":\"shown\","
                                "\"reason\":\"idle-timeout\"}\n"));
    assert_non_null(
        strstr(buf, "\"level\":\"error\",\"msg\":\"an error 42\"}\n"));
    for (int i = 0; i < 2; i++) {
        close(out[i]);
        close(err[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_stamp_and_level),
        cmocka_unit_test(test_journal_priority),
        cmocka_unit_test(test_values_escaped),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_journal_detection),
        cmocka_unit_test(test_logger_level_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
