/*
 * test_fsperm.c - the StrictModes-style file checks, in a 0700 temporary
 * directory under $TMPDIR (or /tmp): a sticky, world-writable parent
 * passes, a group- or world-writable one does not.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsperm.h"
#include "test_tmpdir.h"

struct dirs {
    char top[256]; /* mkdtemp, 0700 */
};

static void make_file(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x\n", 2), 2);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
    struct dirs *d = calloc(1, sizeof *d);

    if (d == NULL || tmpdir_make(d->top, sizeof d->top, "test_fsperm") != 0) {
        free(d);
        return -1;
    }
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct dirs *d = *state;

    /* only what setup made: the mkdtemp directory */
    if (tmpdir_remove(d->top) != 0) {
        return -1;
    }
    free(d);
    return 0;
}

/* A test that runs in a fresh directory of its own. */
#define DIR_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static void path_in(char *buf, size_t len, const struct dirs *d,
                    const char *name)
{
    snprintf(buf, len, "%s/%s", d->top, name);
}

/* bs_fsperm_check on path, its sentence in err (512 bytes). */
static int check(const char *path, const char *what, enum bs_fsperm_kind kind,
                 char err[512])
{
    return bs_fsperm_check(path, what, kind, err, 512);
}

static void test_safe_files_pass(void **state)
{
    struct dirs *d = *state;
    char key[300], crt[300], err[512] = "";

    path_in(key, sizeof key, d, "server.key");
    path_in(crt, sizeof crt, d, "server.crt");
    make_file(key, 0600);
    make_file(crt, 0644);
    assert_int_equal(check(key, "private key", BS_FSPERM_SECRET, err), 0);
    assert_int_equal(check(crt, "certificate", BS_FSPERM_PUBLIC, err), 0);
    make_file(key, 0400);
    assert_int_equal(check(key, "private key", BS_FSPERM_SECRET, err), 0);
}

static void test_key_readable_by_others(void **state)
{
    struct dirs *d = *state;
    char key[300], err[512] = "", want[400];
    static const mode_t modes[] = {0644, 0640, 0604, 0660, 0601};

    path_in(key, sizeof key, d, "server.key");
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        make_file(key, modes[i]);
        err[0] = '\0';
        assert_int_equal(check(key, "private key", BS_FSPERM_SECRET, err), -1);
        snprintf(want, sizeof want, "chmod 600 %s", key);
        assert_non_null(strstr(err, want));
        assert_non_null(strstr(err, "private key"));
    }
    /* the same mode is fine for a certificate */
    make_file(key, 0644);
    assert_int_equal(check(key, "certificate", BS_FSPERM_PUBLIC, err), 0);
}

static void test_file_writable_by_others(void **state)
{
    struct dirs *d = *state;
    char ca[300], err[512] = "";

    path_in(ca, sizeof ca, d, "ca.crt");
    make_file(ca, 0666);
    assert_int_equal(check(ca, "CA file", BS_FSPERM_PUBLIC, err), -1);
    assert_non_null(strstr(err, "writable by group or others"));
    assert_non_null(strstr(err, "chmod go-w"));
    make_file(ca, 0664);
    assert_int_equal(check(ca, "CA file", BS_FSPERM_PUBLIC, err), -1);
}

static void test_directory_writable_by_others(void **state)
{
    struct dirs *d = *state;
    char sub[300], ca[300], err[512] = "", want[400];

    path_in(sub, sizeof sub, d, "certs");
    assert_int_equal(mkdir(sub, 0700), 0);
    path_in(ca, sizeof ca, d, "certs/ca.crt");
    make_file(ca, 0644);
    assert_int_equal(check(ca, "CA file", BS_FSPERM_PUBLIC, err), 0);
    static const mode_t bad[] = {0777, 0770, 0702, 0720};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(chmod(sub, bad[i]), 0);
        err[0] = '\0';
        assert_int_equal(check(ca, "CA file", BS_FSPERM_PUBLIC, err), -1);
        snprintf(want, sizeof want, "chmod go-w %s", sub);
        assert_non_null(strstr(err, want));
    }
    /* a grandparent counts as much as the parent */
    assert_int_equal(chmod(sub, 0755), 0);
    assert_int_equal(chmod(d->top, 0777), 0);
    assert_int_equal(check(ca, "CA file", BS_FSPERM_PUBLIC, err), -1);
    assert_non_null(strstr(err, d->top));
    /* sticky, like /tmp: its other users cannot replace what we own */
    assert_int_equal(chmod(d->top, 01777), 0);
    assert_int_equal(check(ca, "CA file", BS_FSPERM_PUBLIC, err), 0);
    assert_int_equal(chmod(d->top, 0700), 0);
}

static void test_symlink_judged_by_target(void **state)
{
    struct dirs *d = *state;
    char sub[300], key[300], link[300], err[512] = "";

    path_in(sub, sizeof sub, d, "open");
    assert_int_equal(mkdir(sub, 0700), 0);
    path_in(key, sizeof key, d, "open/server.key");
    make_file(key, 0600);
    path_in(link, sizeof link, d, "server.key");
    assert_int_equal(symlink(key, link), 0);
    assert_int_equal(check(link, "private key", BS_FSPERM_SECRET, err), 0);
    assert_int_equal(chmod(sub, 0777), 0); /* the target's directory */
    assert_int_equal(check(link, "private key", BS_FSPERM_SECRET, err), -1);
    assert_non_null(strstr(err, sub));
    assert_int_equal(chmod(sub, 0700), 0);
    assert_int_equal(chmod(key, 0644), 0); /* the target's mode */
    assert_int_equal(check(link, "private key", BS_FSPERM_SECRET, err), -1);
}

/* A link in a directory others may write is refused even when it points
 * at a safe file: they could point it elsewhere (found in review). */
static void test_symlink_in_open_directory(void **state)
{
    struct dirs *d = *state;
    char safe[300], key[300], open_dir[300], link[300], link2[300];
    char err[512] = "";

    path_in(safe, sizeof safe, d, "safe");
    assert_int_equal(mkdir(safe, 0700), 0);
    path_in(key, sizeof key, d, "safe/server.key");
    make_file(key, 0600);
    path_in(open_dir, sizeof open_dir, d, "open");
    assert_int_equal(mkdir(open_dir, 0700), 0);
    path_in(link, sizeof link, d, "open/server.key");
    assert_int_equal(symlink(key, link), 0);
    /* a second hop, from the safe directory into the open one */
    path_in(link2, sizeof link2, d, "safe/via.key");
    assert_int_equal(symlink("../open/server.key", link2), 0);
    assert_int_equal(check(link, "private key", BS_FSPERM_SECRET, err), 0);
    assert_int_equal(check(link2, "private key", BS_FSPERM_SECRET, err), 0);
    assert_int_equal(chmod(open_dir, 0777), 0); /* not sticky */
    assert_int_equal(check(link, "private key", BS_FSPERM_SECRET, err), -1);
    assert_non_null(strstr(err, open_dir));
    err[0] = '\0';
    assert_int_equal(check(link2, "private key", BS_FSPERM_SECRET, err), -1);
    assert_non_null(strstr(err, open_dir));
    assert_int_equal(chmod(open_dir, 0700), 0);
}

static void test_owner_and_kind(void **state)
{
    struct dirs *d = *state;
    char ca[300], sub[300], err[512] = "";

    path_in(sub, sizeof sub, d, "fifo");
    assert_int_equal(mkfifo(sub, 0600), 0);
    assert_int_equal(check(sub, "CA file", BS_FSPERM_PUBLIC, err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    /* missing: not judged here, the loader reports it */
    path_in(ca, sizeof ca, d, "missing.crt");
    assert_int_equal(check(ca, "CA file", BS_FSPERM_PUBLIC, err), 0);
    if (geteuid() != 0) {
        skip(); /* only root can give a file to someone else */
    }
    path_in(ca, sizeof ca, d, "ca.crt");
    make_file(ca, 0644);
    assert_int_equal(chown(ca, 4242, 4242), 0);
    assert_int_equal(check(ca, "CA file", BS_FSPERM_PUBLIC, err), -1);
    assert_non_null(strstr(err, "owned by uid 4242"));
    assert_int_equal(chown(ca, 0, 0), 0);
    assert_int_equal(chown(d->top, 4242, 4242), 0);
    assert_int_equal(check(ca, "CA file", BS_FSPERM_PUBLIC, err), -1);
    assert_non_null(strstr(err, "directory"));
    assert_int_equal(chown(d->top, 0, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(test_safe_files_pass),
        DIR_TEST(test_key_readable_by_others),
        DIR_TEST(test_file_writable_by_others),
        DIR_TEST(test_directory_writable_by_others),
        DIR_TEST(test_symlink_in_open_directory),
        DIR_TEST(test_symlink_judged_by_target),
        DIR_TEST(test_owner_and_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
