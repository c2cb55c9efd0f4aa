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
