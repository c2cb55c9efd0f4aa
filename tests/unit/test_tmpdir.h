/*
 * test_tmpdir.h - the unit tests' temporary directories: a fresh one,
 * 0700, under $TMPDIR (or /tmp), and its removal with all it holds.  A
 * test writes nothing outside the directory it made.
 */
#ifndef BS_TEST_TMPDIR_H
#define BS_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

/* Make $TMPDIR/name.XXXXXX in buf (len bytes); 0, or -1 if it cannot. */
static inline int tmpdir_make(char *buf, size_t len, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(buf, len, "%s/%s.XXXXXX",
                     tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", name);

    if (n < 0 || (size_t) n >= len) {
        return -1;
    }
    return mkdtemp(buf) != NULL ? 0 : -1;
}

static inline int tmpdir_remove_one(const char *path, const struct stat *sb,
                                    int type, struct FTW *ftw)
{
    (void) sb;
    (void) type;
    (void) ftw;
    return remove(path);
}

/* Remove dir, made by tmpdir_make, and everything below it (links are
 * removed, never followed); 0, or -1 if anything stays. */
static inline int tmpdir_remove(const char *dir)
{
    return nftw(dir, tmpdir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif /* BS_TEST_TMPDIR_H */
