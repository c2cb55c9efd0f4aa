/*
 * outfile.c - output files written to a temporary file and renamed on
 * success (see outfile.h for the contract).
 */
#include "outfile.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Symbolic links followed at most (as the kernel's MAXSYMLINKS). */
#define MAX_LINKS 40
/* Names tried for the temporary file before giving up. */
#define TMP_TRIES 100

__attribute__((format(printf, 3, 4))) static int
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The directory part of path ("." if none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n;
    char *d;

    if (slash == NULL) {
        return strdup(".");
    }
    n = slash == path ? 1 : (size_t) (slash - path);
    d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* Follow symbolic links from path to the final name, which may not exist
 * yet (a dangling link names the file to create).  malloc'd, or NULL
 * with errno set (ELOOP for a loop). */
static char *resolve(const char *path)
{
    char *cur = strdup(path);

    for (int i = 0; cur != NULL && i <= MAX_LINKS; i++) {
        struct stat st;
        char target[PATH_MAX];
        ssize_t n;
        char *next, *dir;

        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) {
            return cur; /* the final name: exists or not, lstat again later */
        }
        n = readlink(cur, target, sizeof(target) - 1);
        if (n < 0) {
            free(cur);
            return NULL;
        }
        target[n] = '\0';
        if (target[0] == '/') {
            next = strdup(target);
        } else {
            dir = dir_of(cur);
            next = NULL;
            if (dir != NULL) {
                size_t len = strlen(dir) + 1 + (size_t) n + 1;

                next = malloc(len);
                if (next != NULL) {
                    snprintf(next, len, "%s/%s", dir, target);
                }
                free(dir);
            }
        }
        free(cur);
        cur = next;
    }
    if (cur != NULL) {
        free(cur);
        errno = ELOOP;
    }
    return NULL;
}

/* Create the temporary file next to final: ".NAME.bitstuff-XXXXXXXX". */
static int make_temp(struct bs_outfile *f, const struct stat *old, char *err,
                     size_t errlen)
{
    const char *slash = strrchr(f->final_path, '/');
    const char *base = slash != NULL ? slash + 1 : f->final_path;
    size_t dirlen = (size_t) (base - f->final_path);
    size_t len = strlen(f->final_path) + 32;

    f->tmp_path = malloc(len);
    if (f->tmp_path == NULL) {
        return set_err(err, errlen, "out of memory");
    }
    for (int i = 0; i < TMP_TRIES; i++) {
        uint32_t r = 0;

        if (getrandom(&r, sizeof(r), 0) != (ssize_t) sizeof(r)) {
            r = (uint32_t) getpid() * 2654435761u + (uint32_t) i;
        }
        snprintf(f->tmp_path, len, "%.*s.%s.bitstuff-%08x", (int) dirlen,
                 f->final_path, base, (unsigned) r);
        /* created no wider than the file it replaces, from the start */
        f->fd = open(f->tmp_path,
                     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                     old != NULL ? old->st_mode & 0777 : 0666);
        if (f->fd >= 0) {
            break;
        }
        if (errno != EEXIST) {
            int e = errno;

            set_err(err, errlen,
                    "cannot create a temporary file in the directory of %s: "
                    "%s",
                    f->final_path, strerror(e));
            free(f->tmp_path);
            f->tmp_path = NULL;
            return -1;
        }
    }
    if (f->fd < 0) {
        set_err(err, errlen,
                "cannot create a temporary file next to %s: %d names taken",
                f->final_path, TMP_TRIES);
        free(f->tmp_path);
        f->tmp_path = NULL;
        return -1;
    }
    if (old != NULL) {
        /* replacing a file must not widen who may read it: keep its
         * permission bits (and, where we may, its owner) */
        (void) fchmod(f->fd, old->st_mode & 0777);
        if (old->st_uid != geteuid() || old->st_gid != getegid()) {
            (void) fchown(f->fd, old->st_uid, old->st_gid);
            (void) fchmod(f->fd, old->st_mode & 0777);
        }
    }
    return 0;
}

int bs_outfile_open(struct bs_outfile *f, const char *path, char *err,
                    size_t errlen)
{
    struct stat st;

    memset(f, 0, sizeof(*f));
    f->fd = -1;
    if (strcmp(path, "-") == 0) {
        f->kind = BS_OUTFILE_STDOUT;
        f->fd = 1;
        return 0;
    }
    if (path[0] == '\0') {
        return set_err(err, errlen, "the output file name is empty");
    }
    f->final_path = resolve(path);
    if (f->final_path == NULL) {
        return set_err(err, errlen, "cannot follow the symbolic link %s: %s",
                       path, strerror(errno));
    }
    if (stat(f->final_path, &st) == 0) {
        f->existed = 1;
        if (S_ISDIR(st.st_mode)) {
            set_err(err, errlen, "%s is a directory", path);
            goto fail;
        }
        if (!S_ISREG(st.st_mode)) {
            /* a device, FIFO or socket: write into it, never replace it */
            f->fd = open(f->final_path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
            if (f->fd < 0) {
                set_err(err, errlen, "cannot open %s for writing: %s", path,
                        strerror(errno));
                goto fail;
            }
            f->kind = BS_OUTFILE_INPLACE;
            return 0;
        }
        if (access(f->final_path, W_OK) != 0) {
            /* the rename would replace it anyway: refuse as cp(1) would */
            set_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
            goto fail;
        }
        if (make_temp(f, &st, err, errlen) != 0) {
            goto fail;
        }
    } else if (errno != ENOENT) {
        set_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
        goto fail;
    } else if (make_temp(f, NULL, err, errlen) != 0) {
        goto fail;
    }
    f->kind = BS_OUTFILE_TEMP;
    return 0;

fail:
    free(f->final_path);
    f->final_path = NULL;
    f->fd = -1;
    return -1;
}

static void release(struct bs_outfile *f)
{
    free(f->final_path);
    free(f->tmp_path);
    f->final_path = NULL;
    f->tmp_path = NULL;
    f->fd = -1;
    f->kind = BS_OUTFILE_NONE;
}

static void fsync_dir(const char *path)
{
    char *dir = dir_of(path);
    int fd;

    if (dir == NULL) {
        return;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void) fsync(fd); /* best effort: some file systems refuse */
        close(fd);
    }
    free(dir);
}

int bs_outfile_commit(struct bs_outfile *f, char *err, size_t errlen)
{
    switch (f->kind) {
    case BS_OUTFILE_NONE:
    case BS_OUTFILE_STDOUT:
        release(f);
        return 0;
    case BS_OUTFILE_INPLACE:
        if (close(f->fd) != 0) {
            set_err(err, errlen, "cannot write %s: %s", f->final_path,
                    strerror(errno));
            release(f);
            return -1;
        }
        release(f);
        return 0;
    case BS_OUTFILE_TEMP:
        break;
    }
    if (fsync(f->fd) != 0) {
        set_err(err, errlen, "cannot write %s: fsync: %s", f->tmp_path,
                strerror(errno));
        (void) bs_outfile_abort(f);
        return -1;
    }
    if (close(f->fd) != 0) {
        f->fd = -1;
        set_err(err, errlen, "cannot write %s: %s", f->tmp_path,
                strerror(errno));
        (void) bs_outfile_abort(f);
        return -1;
    }
    f->fd = -1;
    if (rename(f->tmp_path, f->final_path) != 0) {
        set_err(err, errlen, "cannot rename %s to %s: %s", f->tmp_path,
                f->final_path, strerror(errno));
        (void) bs_outfile_abort(f);
        return -1;
    }
    fsync_dir(f->final_path);
    release(f);
    return 0;
}

int bs_outfile_abort(struct bs_outfile *f)
{
    int removed = 0;

    if (f->fd >= 0 && f->kind != BS_OUTFILE_STDOUT) {
        close(f->fd);
    }
    if (f->kind == BS_OUTFILE_TEMP && f->tmp_path != NULL &&
        unlink(f->tmp_path) == 0)
    {
        removed = 1;
    }
    release(f);
    return removed;
}
