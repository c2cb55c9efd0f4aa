/*
 * test_certpath.c - the default certificate search: the credentials
 * directory first, then <sysconfdir>/bitstuff, then certs/ of the working
 * directory; a pair from one directory; an error that names every place.
 * Three directories in a temporary one; the test chdirs into it.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "certpath.h"

struct fx {
    char top[256], cred[300], etc[300];
    char old_cwd[PATH_MAX];
    struct bs_certpath_dirs d;
};

static void put(const char *dir, const char *name)
{
    char p[700];
    int fd;

    snprintf(p, sizeof p, "%s/%s", dir, name);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    close(fd);
}

static void rm(const char *dir, const char *name)
{
    char p[700];

    snprintf(p, sizeof p, "%s/%s", dir, name);
    unlink(p);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");

    if (f == NULL) {
        return -1;
    }
    snprintf(f->top, sizeof f->top, "%s/certpath.XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(f->top) == NULL ||
        getcwd(f->old_cwd, sizeof f->old_cwd) == NULL || chdir(f->top) != 0)
    {
        free(f);
        return -1;
    }
    snprintf(f->cred, sizeof f->cred, "%s/cred", f->top);
    snprintf(f->etc, sizeof f->etc, "%s/etc", f->top);
    if (mkdir(f->cred, 0700) != 0 || mkdir(f->etc, 0700) != 0 ||
        mkdir("certs", 0700) != 0)
    {
        free(f);
        return -1;
    }
    f->d.dir[0] = f->cred;
    f->d.dir[1] = f->etc;
    f->d.dir[2] = "certs";
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    const char *names[] = {"ca.crt", "server.crt", "server.key"};
    const char *dirs[] = {f->cred, f->etc, "certs"};

    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 3; j++) {
            rm(dirs[i], names[j]);
        }
        rmdir(dirs[i]);
    }
    if (chdir(f->old_cwd) != 0) {
        return -1;
    }
    rmdir(f->top);
    free(f);
    return 0;
}

/* A test that runs in a fresh directory of its own. */
#define DIR_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static void test_order(void **state)
{
    struct fx *f = *state;
    char out[BS_CERTPATH_MAX], err[512] = "", want[700];

    put("certs", "ca.crt");
    assert_int_equal(
        bs_certpath_find(&f->d, "ca.crt", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "certs/ca.crt");

    put(f->etc, "ca.crt");
    assert_int_equal(
        bs_certpath_find(&f->d, "ca.crt", out, sizeof out, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/ca.crt", f->etc);
    assert_string_equal(out, want);

    put(f->cred, "ca.crt");
    assert_int_equal(
        bs_certpath_find(&f->d, "ca.crt", out, sizeof out, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/ca.crt", f->cred);
    assert_string_equal(out, want);

    /* no credentials directory: the next one */
    f->d.dir[0] = NULL;
    assert_int_equal(
        bs_certpath_find(&f->d, "ca.crt", out, sizeof out, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/ca.crt", f->etc);
    assert_string_equal(out, want);
}

static void test_unreadable_counts(void **state)
{
    struct fx *f = *state;
    char out[BS_CERTPATH_MAX], err[512] = "", want[700];

    /* a file that exists but cannot be read is found (the loader then
     * says why): the search must not fall through to another one */
    put(f->etc, "ca.crt");
    put("certs", "ca.crt");
    snprintf(want, sizeof want, "%s/ca.crt", f->etc);
    assert_int_equal(chmod(want, 0), 0);
    assert_int_equal(
        bs_certpath_find(&f->d, "ca.crt", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, want);
}

static void test_none_names_every_place(void **state)
{
    struct fx *f = *state;
    char out[BS_CERTPATH_MAX], err[2048] = "", want[2048];

    assert_int_equal(
        bs_certpath_find(&f->d, "ca.crt", out, sizeof out, err, sizeof err),
        -1);
    snprintf(want, sizeof want,
             "no ca.crt in $CREDENTIALS_DIRECTORY (%s), %s or certs (in %s)",
             f->cred, f->etc, f->top);
    assert_string_equal(err, want);

    f->d.dir[0] = "";
    assert_int_equal(
        bs_certpath_find(&f->d, "ca.crt", out, sizeof out, err, sizeof err),
        -1);
    snprintf(want, sizeof want,
             "no ca.crt in $CREDENTIALS_DIRECTORY (not set), %s or certs (in "
             "%s)",
             f->etc, f->top);
    assert_string_equal(err, want);
}

static void test_pair(void **state)
{
    struct fx *f = *state;
    char crt[BS_CERTPATH_MAX], key[BS_CERTPATH_MAX], err[2048] = "";
    char want[700];

    put("certs", "server.crt");
    put("certs", "server.key");
    put(f->etc, "server.key"); /* a key alone does not choose a directory */
    assert_int_equal(bs_certpath_find_pair(&f->d, "server.crt", "server.key",
                                           crt, key, sizeof crt, err,
                                           sizeof err),
                     0);
    assert_string_equal(crt, "certs/server.crt");
    assert_string_equal(key, "certs/server.key");

    /* a certificate without its key: an error, not another one's key */
    put(f->cred, "server.crt");
    assert_int_equal(bs_certpath_find_pair(&f->d, "server.crt", "server.key",
                                           crt, key, sizeof crt, err,
                                           sizeof err),
                     -1);
    snprintf(want, sizeof want, "found %s/server.crt but no server.key",
             f->cred);
    assert_non_null(strstr(err, want));

    put(f->cred, "server.key");
    assert_int_equal(bs_certpath_find_pair(&f->d, "server.crt", "server.key",
                                           crt, key, sizeof crt, err,
                                           sizeof err),
                     0);
    snprintf(want, sizeof want, "%s/server.key", f->cred);
    assert_string_equal(key, want);

    rm(f->cred, "server.crt");
    rm(f->cred, "server.key");
    rm("certs", "server.crt");
    assert_int_equal(bs_certpath_find_pair(&f->d, "server.crt", "server.key",
                                           crt, key, sizeof crt, err,
                                           sizeof err),
                     -1);
    assert_non_null(strstr(err, "no server.crt in $CREDENTIALS_DIRECTORY"));
}

static void test_too_long(void **state)
{
    struct fx *f = *state;
    char out[16], err[512] = "";

    (void) f;
    assert_int_equal(
        bs_certpath_find(&f->d, "ca.crt", out, sizeof out, err, sizeof err),
        -1);
    assert_non_null(strstr(err, "too long"));
}

static void test_default_dirs(void **state)
{
    struct bs_certpath_dirs d;

    (void) state;
    assert_int_equal(setenv("CREDENTIALS_DIRECTORY", "/run/credentials/x", 1),
                     0);
    bs_certpath_default_dirs(&d);
    assert_string_equal(d.dir[0], "/run/credentials/x");
    assert_string_equal(d.dir[1], BS_TEST_SYSCONFDIR "/bitstuff");
    assert_string_equal(d.dir[2], "certs");
    assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
    bs_certpath_default_dirs(&d);
    assert_null(d.dir[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(test_order),
        DIR_TEST(test_unreadable_counts),
        DIR_TEST(test_none_names_every_place),
        DIR_TEST(test_pair),
        DIR_TEST(test_too_long),
        cmocka_unit_test(test_default_dirs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
