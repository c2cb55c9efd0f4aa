/*
 * fsperm.c - StrictModes-style checks of files to trust; see fsperm.h.
 */
#include "fsperm.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int owner_ok(const struct stat *st)
{
    return st->st_uid == 0 || st->st_uid == geteuid();
}

/* One directory on the way up: owned by root or us, and either not
 * writable by group or others, or sticky (see fsperm.h). */
static int check_dir(const char *dir, const char *what, const char *file,
                     char *err, size_t errlen)
{
    struct stat st;

    if (stat(dir, &st) == -1) {
        int e = errno;
        snprintf(err, errlen, "cannot check directory %s of %s %s: %s", dir,
                 what, file, strerror(e));
        return -1;
    }
    if (!owner_ok(&st)) {
        snprintf(err, errlen,
                 "directory %s of %s %s is owned by uid %u, not by root or "
                 "this user (uid %u), so its owner can replace the file: "
                 "move the file, or chown %u %s",
                 dir, what, file, (unsigned) st.st_uid, (unsigned) geteuid(),
                 (unsigned) geteuid(), dir);
        return -1;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0)
    {
        snprintf(err, errlen,
                 "directory %s of %s %s is writable by group or others "
                 "(mode %04o), so they can replace the file: chmod go-w %s",
                 dir, what, file, (unsigned) (st.st_mode & 07777), dir);
        return -1;
    }
    return 0;
}

/* Every directory from dir (resolved) up to "/": writable by nobody else.
 * A directory that does not resolve is left to the loader's message. */
static int check_dirs_up(const char *dir, const char *what, const char *file,
                         char *err, size_t errlen)
{
    char *real = realpath(dir, NULL);
    int rc = 0;

    if (real == NULL) {
        return 0;
    }
    for (;;) {
        rc = check_dir(real, what, file, err, errlen);
        char *slash = strrchr(real, '/');
        if (rc != 0 || slash == NULL || slash == real) {
            break;
        }
        *slash = '\0';
    }
    if (rc == 0 && strcmp(real, "/") != 0) {
        rc = check_dir("/", what, file, err, errlen);
    }
    free(real);
    return rc;
}

/*
 * A symbolic link is as safe as the directory that holds it: whoever may
 * write there may point it elsewhere.  So the directories of the path as
 * given, and of every link on the way to the file, are checked as well as
 * the file's own (at most 40 links, as the kernel allows).
 */
static int check_link_dirs(const char *path, const char *what, char *err,
                           size_t errlen)
{
    char cur[4096], next[4096];

    if (snprintf(cur, sizeof cur, "%s", path) >= (int) sizeof cur) {
        return 0; /* longer than any path: the loader says why */
    }
    for (int hop = 0; hop < 40; hop++) {
        struct stat st;
        char *slash = strrchr(cur, '/');
        char dir[4096];

        if (slash == NULL) {
            snprintf(dir, sizeof dir, ".");
        } else if (slash == cur) {
            snprintf(dir, sizeof dir, "/");
        } else {
            snprintf(dir, sizeof dir, "%.*s", (int) (slash - cur), cur);
        }
        if (check_dirs_up(dir, what, path, err, errlen) != 0) {
            return -1;
        }
        if (lstat(cur, &st) == -1 || !S_ISLNK(st.st_mode)) {
            return 0;
        }
        ssize_t n = readlink(cur, next, sizeof next - 1);
        if (n < 0) {
            return 0;
        }
        next[n] = '\0';
        if (next[0] == '/') {
            snprintf(cur, sizeof cur, "%s", next);
        } else if (snprintf(cur, sizeof cur, "%s/%s", dir, next) >=
                   (int) sizeof cur) {
            return 0;
        }
    }
    return 0;
}

int bs_fsperm_check(const char *path, const char *what,
                    enum bs_fsperm_kind kind, char *err, size_t errlen)
{
    struct stat st;
    char *real;
    int rc = -1;

    if (path == NULL) {
        return 0;
    }
    real = realpath(path, NULL);
    if (real == NULL) {
        return 0; /* missing or unreachable: the loader says why */
    }
    if (stat(real, &st) == -1) {
        rc = 0;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s %s is not a regular file: give a file", what,
                 path);
        goto out;
    }
    if (check_link_dirs(path, what, err, errlen) != 0) {
        goto out;
    }
    if (!owner_ok(&st)) {
        snprintf(err, errlen,
                 "%s %s is owned by uid %u, not by root or this user (uid "
                 "%u): chown %u %s",
                 what, path, (unsigned) st.st_uid, (unsigned) geteuid(),
                 (unsigned) geteuid(), path);
        goto out;
    }
    if (kind == BS_FSPERM_SECRET && (st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "%s %s is accessible by group or others (mode %04o): "
                 "chmod 600 %s",
                 what, path, (unsigned) (st.st_mode & 07777), path);
        goto out;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        snprintf(err, errlen,
                 "%s %s is writable by group or others (mode %04o): chmod "
                 "go-w %s",
                 what, path, (unsigned) (st.st_mode & 07777), path);
        goto out;
    }
    /* Every directory from the file's up to "/". */
    for (char *slash = strrchr(real, '/'); slash != NULL;
         slash = strrchr(real, '/'))
    {
        if (slash == real) {
            rc = check_dir("/", what, path, err, errlen);
            goto out;
        }
        *slash = '\0';
        if (check_dir(real, what, path, err, errlen) != 0) {
            goto out;
        }
    }
    rc = 0;
out:
    free(real);
    return rc;
}
