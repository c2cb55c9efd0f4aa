/*
 * test_certdir.h - the TLS tests' certificates: a fresh temporary
 * directory (test_tmpdir.h), made the working directory, holding the sets
 * scripts/gen-certs.sh makes there; and, after the tests, the way back and
 * the directory's removal.  A test names its files relative to it
 * ("a/ca.crt").
 */
#ifndef BS_TEST_CERTDIR_H
#define BS_TEST_CERTDIR_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_tmpdir.h"

#ifndef BS_GEN_CERTS
#error "BS_GEN_CERTS must name scripts/gen-certs.sh"
#endif

struct certdir {
    char dir[PATH_MAX];
    char cwd[PATH_MAX]; /* where the tests were started, to go back to */
};

/* Go back to where d was entered from, remove d and free it; 0, or -1 if
 * either fails. */
static inline int certdir_leave(struct certdir *d)
{
    int rc = chdir(d->cwd) == 0 && tmpdir_remove(d->dir) == 0 ? 0 : -1;

    free(d);
    return rc;
}

/* Make $TMPDIR/name.XXXXXX, enter it and run gen-certs.sh there once for
 * each argument string of sets, a NULL-terminated list (such as
 * {"--out a", "--out b", NULL}).  The directory, or NULL if any step
 * failed (and then nothing is left behind). */
static inline struct certdir *certdir_enter(const char *name,
                                            const char *const *sets)
{
    struct certdir *d = calloc(1, sizeof *d);
    char cmd[PATH_MAX + 256];

    if (d == NULL || getcwd(d->cwd, sizeof d->cwd) == NULL ||
        tmpdir_make(d->dir, sizeof d->dir, name) != 0)
    {
        free(d);
        return NULL;
    }
    if (chdir(d->dir) != 0) {
        (void) tmpdir_remove(d->dir);
        free(d);
        return NULL;
    }
    for (; *sets != NULL; sets++) {
        int n =
            snprintf(cmd, sizeof cmd, "%s %s >/dev/null", BS_GEN_CERTS, *sets);

        if (n < 0 || (size_t) n >= sizeof cmd || system(cmd) != 0) {
            (void) certdir_leave(d);
            return NULL;
        }
    }
    return d;
}

#endif /* BS_TEST_CERTDIR_H */
