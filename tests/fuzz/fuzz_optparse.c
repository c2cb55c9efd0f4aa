/*
 * fuzz_optparse.c - libFuzzer harness for the option parser.
 *
 * Target functions: bs_opt_parse_duration, bs_opt_format_duration,
 * bs_opt_parse (with a table that has every kind of option).
 *
 * Input: the whole input, up to its first NUL, is parsed as a duration
 * with the widest range; on success its formatted text parses back to the
 * same value.  Then the input split at NUL bytes is an argv (at most 32
 * arguments) for bs_opt_parse.  Checked: the parse returns 0, an action
 * code or -1; an error leaves a non-empty, NUL-terminated sentence; a
 * list never holds more than its maximum; a duration stays in its range.
 * Any violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "optparse.h"

struct f_opts {
    int flag;
    const char *str, *file;
    const char *list[4];
    size_t nlist;
    unsigned num;
    uint64_t count, ms;
    int choice;
};

static int parse_odd(void *opts, const char *s)
{
    (void) opts;
    return strlen(s) % 2 == 1 ? 0 : -1;
}

static const struct bs_opt_word words[] = {{"a", 1}, {"b", 2}, {NULL, 0}};

#define O(m) BS_OPT_AT(struct f_opts, m)

static const struct bs_opt options[] = {
    {BS_OPT_NAME("flag", 'f', BS_OPT_FLAG, NULL), O(flag), .min = 1},
    {BS_OPT_NAME("str", 's', BS_OPT_STRING, "S"), O(str)},
    {BS_OPT_NAME("file", 0, BS_OPT_FILE, "F"), O(file)},
    {BS_OPT_NAME("item", 'i', BS_OPT_LIST, "X"), O(list),
     BS_OPT_COUNTER(struct f_opts, nlist), .max = 4},
    {BS_OPT_NAME("num", 'n', BS_OPT_UINT, "N"), O(num), .min = 1, .max = 99},
    {BS_OPT_NAME("count", 'c', BS_OPT_COUNT, "N"), O(count), .max = 5000000},
    {BS_OPT_NAME("wait", 'w', BS_OPT_DURATION, "T"), O(ms), .min = 1,
     .max = 86400000},
    {BS_OPT_NAME("colour", 0, BS_OPT_CHOICE, "C"), O(choice), .words = words},
    {BS_OPT_NAME("odd", 0, BS_OPT_CUSTOM, "O"), .parse = parse_odd,
     .what = "odd"},
    {BS_OPT_NAME("help", 'h', BS_OPT_ACTION, NULL), .min = 5},
};

static const struct bs_opt_table table = BS_OPT_TABLE(options, 1, 20);

static void check_duration(const uint8_t *data, size_t len)
{
    char s[64], back[32];
    size_t n = strnlen((const char *) data, len);
    uint64_t ms, again;

    if (n >= sizeof s) {
        return;
    }
    memcpy(s, data, n);
    s[n] = '\0';
    if (bs_opt_parse_duration(s, 0, UINT64_MAX, &ms) != 0) {
        return;
    }
    bs_opt_format_duration(ms, back, sizeof back);
    if (bs_opt_parse_duration(back, 0, UINT64_MAX, &again) != 0 || again != ms)
    {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    static char prog[] = "prog";
    char *buf, *argv[34];
    int argc = 1, rc, first = 0;
    struct f_opts o;
    char err[256];
    size_t i = 0;

    check_duration(data, len);
    buf = malloc(len + 1);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, len);
    buf[len] = '\0';
    argv[0] = prog;
    while (i <= len && argc < 33) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    memset(&o, 0, sizeof o);
    memset(err, 'x', sizeof err);
    rc = bs_opt_parse(&table, argc, argv, &o, &first, err, sizeof err);
    if (rc == -1) {
        if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0') {
            abort();
        }
    } else if (rc != 0 && rc != 5) {
        abort();
    }
    if (o.nlist > 4 || (o.ms != 0 && (o.ms < 1 || o.ms > 86400000)) ||
        o.num > 99 || (rc == 0 && (first < 1 || first > argc)))
    {
        abort();
    }
    free(buf);
    return 0;
}
