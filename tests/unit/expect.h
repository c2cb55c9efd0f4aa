/*
 * expect.h - table-driven checks of what a parse produced: a test lists
 * the fields it expects (EXPECT_INT, EXPECT_STR) and one loop checks them
 * all, naming the field that differs; and the words a text must contain.
 * Include after <cmocka.h>.
 */
#ifndef BS_TEST_EXPECT_H
#define BS_TEST_EXPECT_H

#include <stddef.h>
#include <string.h>

struct expect {
    const char *field;
    int is_string;
    unsigned long long got, want; /* numbers, flags and enums */
    const char *got_s, *want_s;   /* strings; want_s NULL: got_s must be */
};

/* Field f of struct o must equal v (an integer, flag or enum: a double
 * would be cut to an integer here, so check one with a range, as
 * test_bench does --errors). */
#define EXPECT_INT(o, f, v)                                                    \
    {                                                                          \
        .field = #o "." #f, .got = (unsigned long long) (o).f,                 \
        .want = (unsigned long long) (v)                                       \
    }

/* Field f of struct o must hold the string v, or be NULL if v is. */
#define EXPECT_STR(o, f, v)                                                    \
    {                                                                          \
        .field = #o "." #f, .is_string = 1, .got_s = (o).f, .want_s = (v)      \
    }

/* One field of two parses, such as the defaults and every option: f must
 * be va in struct a and vb in struct b. */
#define EXPECT_INTS(a, b, f, va, vb) EXPECT_INT(a, f, va), EXPECT_INT(b, f, vb)
#define EXPECT_STRS(a, b, f, va, vb) EXPECT_STR(a, f, va), EXPECT_STR(b, f, vb)

/* A flag: off in the defaults (a), on once given (b). */
#define EXPECT_FLAG(a, b, f) EXPECT_INTS(a, b, f, 0, 1)

/* The TLS client options bitstuff and bitstuff-bench share: by default
 * localhost:55000 and TLS 1.3, with neither CA, client certificate, key
 * nor server name given; then as a command line with --min-tls 1.2 set
 * them. */
#define EXPECT_TLS_CLIENT(a, b, connect_b, ca_b, cert_b, key_b, name_b)        \
    EXPECT_STRS(a, b, connect, "localhost:55000", connect_b),                  \
        EXPECT_STRS(a, b, ca_file, NULL, ca_b),                                \
        EXPECT_STRS(a, b, cert_file, NULL, cert_b),                            \
        EXPECT_STRS(a, b, key_file, NULL, key_b),                              \
        EXPECT_STRS(a, b, servername, NULL, name_b),                           \
        EXPECT_INTS(a, b, min_tls, 13, 12)

static inline void check_expect(const struct expect *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!e[i].is_string) {
            if (e[i].got != e[i].want) {
                fail_msg("%s: %llu, expected %llu", e[i].field, e[i].got,
                         e[i].want);
            }
        } else if (e[i].want_s == NULL
                       ? e[i].got_s != NULL
                       : e[i].got_s == NULL ||
                             strcmp(e[i].got_s, e[i].want_s) != 0)
        {
            fail_msg("%s: '%s', expected '%s'", e[i].field,
                     e[i].got_s ? e[i].got_s : "(null)",
                     e[i].want_s ? e[i].want_s : "(null)");
        }
    }
}

/* Check every entry of an array of struct expect. */
#define CHECK_EXPECT(table)                                                    \
    check_expect((table), sizeof(table) / sizeof((table)[0]))

/* Each of the n words must occur in text. */
static inline void check_contains(const char *text, const char *const *words,
                                  size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strstr(text, words[i]) == NULL) {
            fail_msg("'%s' not found in:\n%s", words[i], text);
        }
    }
}

#endif /* BS_TEST_EXPECT_H */
