/*
 * test_outfile.c - output files (issue 10): a regular target is replaced
 * only on commit, and an abort leaves it byte for byte and removes only
 * our temporary file; devices, FIFOs and symbolic links are never
 * replaced.  Everything happens in a fresh temporary directory.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <dirent.h>
#include <errno.h>
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

#include "outfile.h"
#include "test_tmpdir.h"

struct fixture {
    char dir[128];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (fx == NULL || tmpdir_make(fx->dir, sizeof(fx->dir), "test_outfile")) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    int rc = tmpdir_remove(fx->dir);

    free(fx);
    return rc;
}

static void path(const struct fixture *fx, const char *name, char *out,
                 size_t len)
{
    snprintf(out, len, "%s/%s", fx->dir, name);
}

static void put(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void expect_content(const char *p, const char *text)
{
    char buf[256];
    FILE *f = fopen(p, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, text);
}

/* Entries in the directory, "." and ".." excluded. */
static int entries(const struct fixture *fx)
{
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    closedir(d);
    return n;
}

static void write_text(const struct bs_outfile *f, const char *text)
{
    assert_int_equal(write(f->fd, text, strlen(text)), (ssize_t) strlen(text));
}

/* Write text to p through a committed bs_outfile. */
static void replace_with(const char *p, const char *text)
{
    struct bs_outfile f;
    char err[256];

    assert_int_equal(bs_outfile_open(&f, p, err, sizeof(err)), 0);
    write_text(&f, text);
    assert_int_equal(bs_outfile_commit(&f, err, sizeof(err)), 0);
}

/* Write text to p through a bs_outfile, then abort it (which removes its
 * temporary file). */
static void abort_with(const char *p, const char *text)
{
    struct bs_outfile f;
    char err[256];

    assert_int_equal(bs_outfile_open(&f, p, err, sizeof(err)), 0);
    write_text(&f, text);
    assert_int_equal(bs_outfile_abort(&f), 1);
}

static void test_new_file_commit(void **state)
{
    struct fixture *fx = *state;
    struct bs_outfile f;
    char p[256], err[256];
    struct stat st;
    mode_t um = umask(022);

    path(fx, "new", p, sizeof(p));
    assert_int_equal(bs_outfile_open(&f, p, err, sizeof(err)), 0);
    assert_int_equal(f.kind, BS_OUTFILE_TEMP);
    assert_int_equal(f.existed, 0);
    /* nothing at the target until the commit */
    assert_int_not_equal(access(p, F_OK), 0);
    assert_int_equal(entries(fx), 1);
    write_text(&f, "data");
    assert_int_equal(bs_outfile_commit(&f, err, sizeof(err)), 0);
    expect_content(p, "data");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644); /* 0666 less the umask */
    assert_int_equal(entries(fx), 1);
    umask(um);
}

static void test_existing_kept_on_abort(void **state)
{
    struct fixture *fx = *state;
    struct bs_outfile f;
    char p[256], err[256];

    path(fx, "old", p, sizeof(p));
    put(p, "hello\n");
    assert_int_equal(bs_outfile_open(&f, p, err, sizeof(err)), 0);
    assert_int_equal(f.existed, 1);
    write_text(&f, "partial");
    expect_content(p, "hello\n");
    assert_int_equal(bs_outfile_abort(&f), 1);
    expect_content(p, "hello\n");
    assert_int_equal(entries(fx), 1); /* no temporary file left */
    assert_int_equal(f.fd, -1);
    assert_int_equal(bs_outfile_abort(&f), 0); /* twice is harmless */
}

static void test_existing_replaced_keeps_mode(void **state)
{
    struct fixture *fx = *state;
    char p[256];
    struct stat st;

    path(fx, "secret", p, sizeof(p));
    put(p, "old");
    assert_int_equal(chmod(p, 0600), 0);
    replace_with(p, "new");
    expect_content(p, "new");
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(entries(fx), 1);
}

static void test_symlink_followed(void **state)
{
    struct fixture *fx = *state;
    char p[256], link[256];
    struct stat st;

    path(fx, "target", p, sizeof(p));
    path(fx, "link", link, sizeof(link));
    put(p, "old");
    assert_int_equal(symlink("target", link), 0); /* relative */
    replace_with(link, "new");
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode)); /* the link stays a link */
    expect_content(p, "new");
    assert_int_equal(entries(fx), 2);

    /* abort through a link: the target stays */
    abort_with(link, "lost");
    expect_content(p, "new");
    assert_int_equal(entries(fx), 2);
}

static void test_dangling_symlink_and_loop(void **state)
{
    struct fixture *fx = *state;
    struct bs_outfile f;
    char p[256], link[256], a[256], b[256], err[256];

    path(fx, "later", p, sizeof(p));
    path(fx, "dangling", link, sizeof(link));
    assert_int_equal(symlink(p, link), 0); /* absolute */
    replace_with(link, "made");
    expect_content(p, "made");

    path(fx, "a", a, sizeof(a));
    path(fx, "b", b, sizeof(b));
    assert_int_equal(symlink("b", a), 0);
    assert_int_equal(symlink("a", b), 0);
    assert_int_equal(bs_outfile_open(&f, a, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "symbolic link"));
    assert_int_equal(entries(fx), 4);
}

static void test_fifo_in_place(void **state)
{
    struct fixture *fx = *state;
    struct bs_outfile f;
    char p[256], err[256], buf[16];
    struct stat st;
    int rd;

    path(fx, "fifo", p, sizeof(p));
    assert_int_equal(mkfifo(p, 0600), 0);
    rd = open(p, O_RDONLY | O_NONBLOCK); /* a reader, so open won't block */
    assert_true(rd >= 0);
    assert_int_equal(bs_outfile_open(&f, p, err, sizeof(err)), 0);
    assert_int_equal(f.kind, BS_OUTFILE_INPLACE);
    write_text(&f, "abc");
    assert_int_equal(read(rd, buf, sizeof(buf)), 3);
    assert_int_equal(bs_outfile_abort(&f), 0);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISFIFO(st.st_mode)); /* never unlinked */
    assert_int_equal(bs_outfile_open(&f, p, err, sizeof(err)), 0);
    assert_int_equal(bs_outfile_commit(&f, err, sizeof(err)), 0);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    close(rd);
    assert_int_equal(entries(fx), 1);
}

static void test_device_in_place(void **state)
{
    struct fixture *fx = *state;
    struct bs_outfile f;
    char p[256], err[256];
    struct stat st;

    path(fx, "null", p, sizeof(p));
    /* a null device of our own, inside the temporary directory */
    if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        print_message("mknod: %s: skipped (needs root)\n", strerror(errno));
        skip();
    }
    assert_int_equal(bs_outfile_open(&f, p, err, sizeof(err)), 0);
    assert_int_equal(f.kind, BS_OUTFILE_INPLACE);
    write_text(&f, "into the void");
    assert_int_equal(bs_outfile_abort(&f), 0);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(bs_outfile_open(&f, p, err, sizeof(err)), 0);
    assert_int_equal(bs_outfile_commit(&f, err, sizeof(err)), 0);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(entries(fx), 1);
}

static void test_refusals(void **state)
{
    struct fixture *fx = *state;
    struct bs_outfile f;
    char p[256], err[256];

    /* a directory */
    assert_int_equal(bs_outfile_open(&f, fx->dir, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is a directory"));
    /* a directory that does not exist: nothing created */
    path(fx, "no/such", p, sizeof(p));
    assert_int_equal(bs_outfile_open(&f, p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(bs_outfile_open(&f, "", err, sizeof(err)), -1);
    assert_int_equal(entries(fx), 0);
    /* standard output */
    assert_int_equal(bs_outfile_open(&f, "-", err, sizeof(err)), 0);
    assert_int_equal(f.kind, BS_OUTFILE_STDOUT);
    assert_int_equal(f.fd, 1);
    assert_int_equal(bs_outfile_abort(&f), 0);
    assert_int_equal(fcntl(1, F_GETFD), 0); /* still open */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_file_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_kept_on_abort, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_existing_replaced_keeps_mode,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dangling_symlink_and_loop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fifo_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
