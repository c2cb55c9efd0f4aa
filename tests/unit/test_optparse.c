/*
 * test_optparse.c - the table-driven option parser: every kind, the
 * error sentences, repeat limits, durations, --help and the name list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "optparse.h"
#include "refusals.h"

struct t_opts {
    int flag, off_flag, seen_name;
    const char *name, *file, *nonempty;
    const char *list[3];
    size_t nlist;
    unsigned small;
    uint64_t big, count, ms;
    int ms32;
    int choice;
    int custom;
    int loud;
};

static int parse_even(void *opts, const char *s)
{
    struct t_opts *o = opts;

    if (strcmp(s, "2") != 0 && strcmp(s, "4") != 0) {
        return -1;
    }
    o->custom = s[0] - '0';
    return 0;
}

static const struct bs_opt_word colours[] = {
    {"red", 1}, {"green", 2}, {"blue", 3}, {NULL, 0}};

#define O(m) BS_OPT_AT(struct t_opts, m)

static const struct bs_opt options[] = {
    {.name = "", .kind = BS_OPT_SECTION, .help = "Things:"},
    {BS_OPT_NAME("flag", 'f', BS_OPT_FLAG, NULL), O(flag), .min = 1,
     .help = "a flag"},
    {BS_OPT_NAME("no-thing", 0, BS_OPT_FLAG, NULL), O(off_flag), .min = 0,
     .help = "turn the thing off"},
    {BS_OPT_NAME("name", 'n', BS_OPT_STRING, "NAME"), O(name),
     BS_OPT_SEEN(struct t_opts, seen_name), .flags = BS_OPT_SHOW_DEFAULT,
     .help = "a name"},
    {BS_OPT_NAME("file", 0, BS_OPT_FILE, "FILE"), O(file), .help = "a file"},
    {BS_OPT_NAME("word", 0, BS_OPT_NONEMPTY, "W"), O(nonempty),
     .help = "a word"},
    {BS_OPT_NAME("item", 'i', BS_OPT_LIST, "X"), O(list),
     BS_OPT_COUNTER(struct t_opts, nlist), .max = 3,
     .help = "repeatable, three at most"},
    {BS_OPT_NAME("small", 0, BS_OPT_UINT, "N"), O(small), .min = 2, .max = 9,
     .what = "a small number", .flags = BS_OPT_SHOW_DEFAULT,
     .help = "from two to nine"},
    {BS_OPT_NAME("big", 0, BS_OPT_UINT, "N"), O(big), .max = UINT64_MAX,
     .help = "any number"},
    {BS_OPT_NAME("count", 'c', BS_OPT_COUNT, "N"), O(count), .min = 1,
     .max = 5000000, .flags = BS_OPT_SHOW_DEFAULT, .help = "k/M/G"},
    {BS_OPT_NAME("wait", 'w', BS_OPT_DURATION, "T"), O(ms), .min = 1,
     .max = 86400000, .flags = BS_OPT_SHOW_DEFAULT,
     .help = "a duration in a 64-bit field"},
    {BS_OPT_NAME("wait32", 0, BS_OPT_DURATION, "T"), O(ms32), .min = 1,
     .max = 3600000, .help = "a duration in an int"},
    {BS_OPT_NAME("colour", 0, BS_OPT_CHOICE, "C"), O(choice), .words = colours,
     .what = "a colour", .flags = BS_OPT_SHOW_DEFAULT,
     .help = "a very long help text that goes on and on so that it must be "
             "wrapped over more than one line of the help output"},
    {BS_OPT_NAME("loud", 'v', BS_OPT_REPEAT, NULL), O(loud), .max = 2,
     .help = "louder; twice: loudest"},
    {BS_OPT_NAME("even", 0, BS_OPT_CUSTOM, "E"), .parse = parse_even,
     .what = "2 or 4", .help = "custom"},
    {BS_OPT_NAME("a-very-long-option-name", 0, BS_OPT_FLAG, NULL), O(flag),
     .min = 1, .help = "its text starts on the next line"},
    {BS_OPT_NAME("help", 'h', BS_OPT_ACTION, NULL), .min = 7, .help = "help"},
    {BS_OPT_NAME("secret", 0, BS_OPT_ACTION, NULL), .min = 8,
     .flags = BS_OPT_HIDDEN, .help = "hidden"},
};

static const struct bs_opt_table table = BS_OPT_TABLE(options, 0, 20);
static const struct bs_opt_table table_pos = BS_OPT_TABLE(options, 1, 20);

static void defaults(struct t_opts *o)
{
    memset(o, 0, sizeof *o);
    o->off_flag = 1;
    o->name = "anon";
    o->small = 5;
    o->count = 1000;
    o->ms = 1500;
    o->choice = 2;
}

#define MAXARGS 20

/* Parse the NULL-terminated args (after the program name). */
static int run(const struct bs_opt_table *t, struct t_opts *o, char *err,
               int *first, const char *const *args)
{
    static char store[MAXARGS][64];
    static char *argv[MAXARGS + 2];
    int argc = 1;

    argv[0] = store[MAXARGS - 1];
    snprintf(store[MAXARGS - 1], sizeof store[0], "prog");
    for (; args[argc - 1] != NULL && argc < MAXARGS; argc++) {
        snprintf(store[argc - 1], sizeof store[0], "%s", args[argc - 1]);
        argv[argc] = store[argc - 1];
    }
    argv[argc] = NULL;
    defaults(o);
    return bs_opt_parse(t, argc, argv, o, first, err, 256);
}

#define RUN(o, err, ...)                                                       \
    run(&table, (o), (err), NULL, (const char *[]){__VA_ARGS__, NULL})

static void test_every_kind(void **state)
{
    struct t_opts o;
    char err[256];

    (void) state;
    assert_int_equal(RUN(&o, err, "-f", "--no-thing", "-n", "x", "--file",
                         "f.txt", "--word", "w", "-i", "a", "--item=b",
                         "--small", "9"),
                     0);
    assert_int_equal(o.flag, 1);
    assert_int_equal(o.off_flag, 0);
    assert_string_equal(o.name, "x");
    assert_int_equal(o.seen_name, 1);
    assert_string_equal(o.file, "f.txt");
    assert_string_equal(o.nonempty, "w");
    assert_int_equal(o.nlist, 2);
    assert_string_equal(o.list[0], "a");
    assert_string_equal(o.list[1], "b");
    assert_int_equal(o.small, 9);
    assert_int_equal(RUN(&o, err, "--big", "18446744073709551615", "-c2k", "-w",
                         "250ms", "--wait32", "1.5", "--colour", "BLUE",
                         "--even", "4"),
                     0);
    assert_true(o.big == UINT64_MAX);
    assert_true(o.count == 2000);
    assert_true(o.ms == 250);
    assert_int_equal(o.ms32, 1500);
    assert_int_equal(o.choice, 3);
    assert_int_equal(o.custom, 4);
    assert_int_equal(o.seen_name, 0);
    /* untouched fields keep the caller's defaults */
    assert_string_equal(o.name, "anon");
    assert_int_equal(o.small, 5);
}

static void test_actions_and_positionals(void **state)
{
    struct t_opts o;
    char err[256];
    int first = -1;

    (void) state;
    assert_int_equal(RUN(&o, err, "-h", "--bogus"), 7); /* at once */
    assert_int_equal(RUN(&o, err, "--secret"), 8);
    assert_int_equal(RUN(&o, err, "-f", "extra"), -1);
    assert_non_null(strstr(err, "unexpected argument 'extra' (see --help)"));
    assert_int_equal(run(&table_pos, &o, err, &first,
                         (const char *[]){"one", "-f", "two", NULL}),
                     0);
    assert_int_equal(o.flag, 1);
    assert_int_equal(first, 2); /* getopt moved the options first */
}

/* Each refusal and the words its error must contain. */
static const struct refusal refusals[] = {
    {{"--bogus"}, "unknown option '--bogus' (see --help)"},
    /* a prefix of several names: which ones, not "unknown" */
    {{"--wai", "5"}, "'--wai' is ambiguous: it could be --wait, --wait32"},
    {{"--n=x"}, "'--n' is ambiguous: it could be --no-thing, --name"},
    {{"--s"}, "'--s' is ambiguous: it could be --small, --secret"}, /* hidden */
    {{"-z"}, "unknown option '-z' (see --help)"},
    {{"--name"}, "--name needs a value (see --help)"},
    {{"-n"}, "-n needs a value (see --help)"},
    {{"--flag=yes"}, "--flag takes no value: '--flag=yes'"},
    {{"--file", ""}, "--file needs a file name"},
    {{"--word", ""}, "--word needs a value"},
    {{"-i", ""}, "--item needs a value"},
    {{"--small", "1"}, "--small: '1' is not a small number from 2 to 9"},
    {{"--small", "10"}, "from 2 to 9"},
    {{"--small", "5k"}, "--small: '5k'"},
    {{"--small", "-3"}, "--small: '-3'"},
    {{"--big", "18446744073709551616"}, "is not a number"},
    {{"-c", "6M"}, "-c: '6M' is not a number from 1 to 5000000 (k/M/G"},
    {{"-w", "0"}, "-w: '0' is not a duration from 1ms to 24h"},
    {{"--wait", "25h"}, "--wait: '25h'"},
    {{"--wait", "5 s"}, "500ms, 10s, 1.5s, 5m"},
    {{"--wait32", "2h"}, "from 1ms to 1h"},
    {{"--colour", "pink"}, "'pink' is not a colour; use red, green or blue"},
    {{"--even", "3"}, "--even: '3' is not 2 or 4"},
};

static int refuses(const char *const *args, char *err, size_t errlen)
{
    struct t_opts o;

    (void) errlen; /* run's err holds 256 */
    return run(&table, &o, err, NULL, args) == -1;
}

REFUSALS_TEST(test_refusals, refusals, refuses)

static void test_repeat_limit(void **state)
{
    struct t_opts o;
    char err[256];

    (void) state;
    assert_int_equal(RUN(&o, err, "-i", "a", "-i", "b", "-i", "c"), 0);
    assert_int_equal(o.nlist, 3);
    assert_string_equal(o.list[2], "c");
    assert_int_equal(RUN(&o, err, "-i", "a", "-i", "b", "-i", "c", "-i", "d"),
                     -1);
    assert_non_null(strstr(err, "too many --item options (at most 3)"));
    assert_int_equal(o.nlist, 3); /* nothing written past the array */
}

/* A repeated flag counts its uses, up to its maximum (-v, -vv). */
static void test_repeat_counts(void **state)
{
    struct t_opts o;
    char err[256];

    (void) state;
    assert_int_equal(RUN(&o, err, "-f"), 0);
    assert_int_equal(o.loud, 0);
    assert_int_equal(RUN(&o, err, "-v"), 0);
    assert_int_equal(o.loud, 1);
    assert_int_equal(RUN(&o, err, "-vv"), 0);
    assert_int_equal(o.loud, 2);
    assert_int_equal(RUN(&o, err, "-v", "--loud", "-fv"), 0);
    assert_int_equal(o.loud, 2); /* at most .max */
    assert_int_equal(o.flag, 1);
    assert_int_equal(RUN(&o, err, "--loud=3"), -1); /* takes no value */
}

#define DAY  86400000u
#define NONE UINT64_MAX /* refused */

/* Durations: text, range, and the milliseconds or NONE. */
static const struct {
    const char *s;
    uint64_t min, max, ms;
} durations[] = {
    /* the server's old cases (bs_opts_parse_duration), 1ms to a day */
    {"10", 1, DAY, 10000},
    {"10s", 1, DAY, 10000},
    {"250ms", 1, DAY, 250},
    {"86400", 1, DAY, DAY},
    {"86401", 1, DAY, NONE},
    {"0ms", 1, DAY, NONE},
    {"s", 1, DAY, NONE},
    {"10 s", 1, DAY, NONE},
    {"99999999999999999999999", 1, DAY, NONE},
    /* the one syntax of issue 12 item 6: fractions, m and h */
    {"1.5", 1, DAY, 1500},
    {"1.5s", 1, DAY, 1500},
    {"5m", 1, DAY, 300000},
    {"0.5m", 1, DAY, 30000},
    {"2h", 1, DAY, 7200000},
    {"24h", 1, DAY, DAY},
    {"0.001", 1, DAY, 1},
    {"1.9ms", 1, DAY, 1}, /* finer than a millisecond: dropped */
    {"0.0001", 1, DAY, NONE},
    {"0", 0, DAY, 0},
    /* overflow in every unit is refused, not wrapped */
    {"18446744073709551614ms", 0, UINT64_MAX, UINT64_MAX - 1},
    {"18446744073709551616ms", 0, UINT64_MAX, NONE},
    {"18446744073709551615s", 0, UINT64_MAX, NONE},
    {"5124095576030432h", 0, UINT64_MAX, NONE},
};

/* Malformed durations, refused whatever the range. */
static const char *const malformed[] = {
    "",   ".5", "1.",   "1.s",  "-1",   "+1",  "1e3", "1S",
    "1 ", " 1", "5min", "1sms", "0x10", "nan", "inf", "1.2.3",
};

/* bs_opt_parse_duration must read s as want milliseconds, or refuse it
 * (want NONE) and leave the result alone. */
static void check_duration(const char *s, uint64_t min, uint64_t max,
                           uint64_t want)
{
    uint64_t ms = 77;
    int rc = bs_opt_parse_duration(s, min, max, &ms);

    if (want == NONE ? rc != -1 || ms != 77 : rc != 0 || ms != want) {
        fail_msg("'%s': rc %d, %llu ms", s, rc, (unsigned long long) ms);
    }
}

static void test_duration(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        check_duration(durations[i].s, durations[i].min, durations[i].max,
                       durations[i].ms);
    }
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        check_duration(malformed[i], 0, DAY, NONE);
    }
    assert_int_equal(bs_opt_parse_duration(NULL, 1, DAY, NULL), -1);
}

static void test_format_duration(void **state)
{
    char buf[32];

    (void) state;
    bs_opt_format_duration(86400000, buf, sizeof buf);
    assert_string_equal(buf, "24h");
    bs_opt_format_duration(300000, buf, sizeof buf);
    assert_string_equal(buf, "5m");
    bs_opt_format_duration(10000, buf, sizeof buf);
    assert_string_equal(buf, "10s");
    bs_opt_format_duration(1500, buf, sizeof buf);
    assert_string_equal(buf, "1500ms");
    bs_opt_format_duration(0, buf, sizeof buf);
    assert_string_equal(buf, "0ms");
}

static void test_help(void **state)
{
    char buf[4096] = {0};
    struct t_opts d;
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    const char *line;

    (void) state;
    assert_non_null(f);
    defaults(&d);
    bs_opt_print_help(f, &table, &d);
    fclose(f);
    assert_non_null(strstr(buf, "Things:\n"));
    assert_non_null(strstr(buf, "  -f, --flag        a flag\n"));
    assert_non_null(strstr(buf, "      --file FILE   a file\n"));
    assert_non_null(strstr(buf, "a name (default: anon)"));
    assert_non_null(strstr(buf, "from two to nine (default: 5)"));
    assert_non_null(strstr(buf, "k/M/G (default: 1000)"));
    assert_non_null(strstr(buf, "(default: 1500ms)"));
    assert_non_null(strstr(buf, "(default: green)"));
    assert_null(strstr(buf, "secret"));
    assert_null(strstr(buf, "default: 0")); /* only where asked */
    /* too long for its column: the text starts on the next line */
    assert_non_null(strstr(buf, "      --a-very-long-option-name\n"
                                "                    its text"));
    /* wrapped within 79 columns, continuation lines in the column */
    assert_non_null(strstr(buf, "  --colour C    a very long help text"));
    assert_non_null(strstr(buf, "\n                    be wrapped over"));
    for (line = buf; *line != '\0';) {
        size_t n = strcspn(line, "\n");

        assert_true(n <= 79);
        line += n + (line[n] == '\n');
    }
}

static void test_names(void **state)
{
    char buf[1024] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");

    (void) state;
    assert_non_null(f);
    bs_opt_print_names(f, &table);
    fclose(f);
    assert_non_null(strstr(buf, "--flag\n-f\n--no-thing\n--name\n-n\n"));
    assert_non_null(strstr(buf, "--secret\n")); /* hidden ones too */
    assert_null(strstr(buf, "Things"));
    assert_int_equal(buf[0], '-');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_actions_and_positionals),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_repeat_limit),
        cmocka_unit_test(test_repeat_counts),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_format_duration),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
