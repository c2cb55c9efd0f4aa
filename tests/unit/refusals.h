/*
 * refusals.h - table-driven checks of a command line's refusals, shared
 * by the option tests of the three programs and of optparse: each case
 * is the arguments after the program name and words its error must
 * contain.  Include after <cmocka.h>.
 */
#ifndef BS_TEST_REFUSALS_H
#define BS_TEST_REFUSALS_H

#include <stddef.h>
#include <string.h>

#define REFUSAL_MAX_ARGS 10

struct refusal {
    const char *args[REFUSAL_MAX_ARGS]; /* NULL after the last */
    const char *words;                  /* "" when any error will do */
};

/* Parse args with the program's parser: 1 if it refused (err filled),
 * 0 if it accepted them. */
typedef int refusal_parse_fn(const char *const *args, char *err, size_t errlen);

static inline void check_refusals(const struct refusal *r, size_t n,
                                  refusal_parse_fn *parse)
{
    for (size_t i = 0; i < n; i++) {
        char err[256] = "";

        if (!parse(r[i].args, err, sizeof err) ||
            strstr(err, r[i].words) == NULL) {
            fail_msg("refusal %zu (%s ...): '%s' lacks '%s'", i, r[i].args[0],
                     err, r[i].words);
        }
    }
}

/* A cmocka test named name that checks every case of table with parse. */
#define REFUSALS_TEST(name, table, parse)                                      \
    static void name(void **state)                                             \
    {                                                                          \
        (void) state;                                                          \
        check_refusals((table), sizeof(table) / sizeof((table)[0]), (parse));  \
    }

#endif /* BS_TEST_REFUSALS_H */
