/*
 * test_progress.c - the progress line: its text, the one-second delay
 * when automatic, --progress and --no-progress, the redraw rate, and no
 * line at all when stderr is not a terminal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "progress.h"

#define MIB (1024u * 1024u)

static void test_format(void **state)
{
    char buf[128];

    (void) state;
    bs_progress_format(buf, sizeof(buf), 50u * MIB, 100u * MIB, 2000);
    assert_string_equal(buf, "  50.0 MiB / 100.0 MiB   50%  25.0 MiB/s  "
                             "ETA 0:02");
    bs_progress_format(buf, sizeof(buf), 3u * MIB / 2, BS_PROGRESS_UNKNOWN,
                       3000);
    assert_string_equal(buf, "  1.5 MiB  512.0 KiB/s  0:03");
    bs_progress_format(buf, sizeof(buf), 999, 999, 1000);
    assert_string_equal(buf, "  999 B / 999 B  100%  999 B/s  ETA 0:00");
    /* no time yet: no rate, no ETA */
    bs_progress_format(buf, sizeof(buf), 0, 10, 0);
    assert_string_equal(buf, "  0 B / 10 B    0%  0 B/s  ETA --:--");
    /* an hour and more */
    bs_progress_format(buf, sizeof(buf), 1024, 1024u * 3700u, 1000);
    assert_non_null(strstr(buf, "ETA 1:01:39"));
    /* a short buffer is cut, still terminated */
    assert_int_equal(bs_progress_format(buf, 8, 50u * MIB, 100u * MIB, 2000),
                     7);
    assert_int_equal(strlen(buf), 7);
}

/* Run updates at the given times into a memory stream; the text drawn. */
static size_t drawn(enum bs_progress_mode mode, int tty, const int64_t *t,
                    size_t nt, char *out, size_t cap)
{
    struct bs_progress p;
    FILE *f = fmemopen(out, cap, "w");
    size_t len;

    assert_non_null(f);
    bs_progress_init(&p, mode, f, tty, 1000, 0);
    for (size_t i = 0; i < nt; i++) {
        bs_progress_update(&p, (uint64_t) t[i], t[i]);
    }
    bs_progress_end(&p);
    fflush(f);
    len = (size_t) ftell(f);
    fclose(f);
    return len;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;

    for (const char *p = strstr(s, what); p != NULL; p = strstr(p + 1, what)) {
        n++;
    }
    return n;
}

static void test_when_drawn(void **state)
{
    static const int64_t quick[] = {10, 300, 900};
    static const int64_t slow[] = {10, 1000, 1100, 1300, 2000};
    char out[4096];

    (void) state;
    /* a terminal, a transfer under a second: nothing */
    memset(out, 0, sizeof(out));
    assert_int_equal(drawn(BS_PROGRESS_AUTO, 1, quick, 3, out, sizeof(out)), 0);
    /* a terminal, a longer one: drawn from 1 s, at most 4 times a second,
     * and erased at the end */
    memset(out, 0, sizeof(out));
    assert_true(drawn(BS_PROGRESS_AUTO, 1, slow, 5, out, sizeof(out)) > 0);
    assert_int_equal(count(out, "B/s"), 3); /* 1000, 1300, 2000 */
    assert_non_null(strstr(out, "\r\033[K"));
    assert_int_equal(out[strlen(out) - 1], 'K');
    /* not a terminal: nothing, however long */
    memset(out, 0, sizeof(out));
    assert_int_equal(drawn(BS_PROGRESS_AUTO, 0, slow, 5, out, sizeof(out)), 0);
    /* --no-progress / -q: nothing */
    assert_int_equal(drawn(BS_PROGRESS_OFF, 1, slow, 5, out, sizeof(out)), 0);
    /* --progress: from the start, terminal or not */
    memset(out, 0, sizeof(out));
    assert_true(drawn(BS_PROGRESS_ON, 0, quick, 3, out, sizeof(out)) > 0);
    assert_int_equal(count(out, "B/s"), 3); /* 10, 300, 900 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_when_drawn),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
