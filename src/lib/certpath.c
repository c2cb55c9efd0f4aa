/*
 * certpath.c - the default certificate search; see certpath.h.
 */
#include "certpath.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BS_SYSCONFDIR
#define BS_SYSCONFDIR "/etc"
#endif

void bs_certpath_default_dirs(struct bs_certpath_dirs *d)
{
    d->dir[0] = getenv("CREDENTIALS_DIRECTORY");
    d->dir[1] = BS_SYSCONFDIR "/bitstuff";
    d->dir[2] = "certs";
}

static int set(const char *dir)
{
    return dir != NULL && dir[0] != '\0';
}

/* dir/name into out; 1 if it exists (or exists but stat is refused for a
 * reason other than absence), 0 if not, -1 if the path is too long. */
static int probe(const char *dir, const char *name, char *out, size_t outlen)
{
    struct stat st;
    int n = snprintf(out, outlen, "%s/%s", dir, name);

    if (n < 0 || (size_t) n >= outlen) {
        return -1;
    }
    if (stat(out, &st) == 0) {
        return 1;
    }
    return errno == ENOENT || errno == ENOTDIR ? 0 : 1;
}

/* "no NAME in $CREDENTIALS_DIRECTORY (not set), /etc/bitstuff or certs
 * (in /cwd)" */
static void none_found(const struct bs_certpath_dirs *d, const char *name,
                       char *err, size_t errlen)
{
    char cwd[BS_CERTPATH_MAX], places[3 * BS_CERTPATH_MAX];
    size_t used = 0;

    places[0] = '\0';
    for (int i = 0; i < BS_CERTPATH_NDIRS; i++) {
        const char *sep = i == 0                       ? ""
                          : i == BS_CERTPATH_NDIRS - 1 ? " or "
                                                       : ", ";
        int n;
        if (i == 0) {
            n = snprintf(places + used, sizeof places - used,
                         "$CREDENTIALS_DIRECTORY (%s)",
                         set(d->dir[0]) ? d->dir[0] : "not set");
        } else if (!set(d->dir[i])) {
            continue;
        } else if (d->dir[i][0] != '/' && getcwd(cwd, sizeof cwd) != NULL) {
            n = snprintf(places + used, sizeof places - used, "%s%s (in %s)",
                         sep, d->dir[i], cwd);
        } else {
            n = snprintf(places + used, sizeof places - used, "%s%s", sep,
                         d->dir[i]);
        }
        if (n < 0 || (size_t) n >= sizeof places - used) {
            break;
        }
        used += (size_t) n;
    }
    snprintf(err, errlen, "no %s in %s", name, places);
}

static int find_dir(const struct bs_certpath_dirs *d, const char *name,
                    char *out, size_t outlen, char *err, size_t errlen)
{
    for (int i = 0; i < BS_CERTPATH_NDIRS; i++) {
        int r;
        if (!set(d->dir[i])) {
            continue;
        }
        r = probe(d->dir[i], name, out, outlen);
        if (r < 0) {
            snprintf(err, errlen, "the path %s/%s is too long", d->dir[i],
                     name);
            return -1;
        }
        if (r == 1) {
            return i;
        }
    }
    none_found(d, name, err, errlen);
    return -1;
}

int bs_certpath_find(const struct bs_certpath_dirs *d, const char *name,
                     char *out, size_t outlen, char *err, size_t errlen)
{
    return find_dir(d, name, out, outlen, err, errlen) < 0 ? -1 : 0;
}

int bs_certpath_find_default(const char *name, char *out, size_t outlen,
                             char *err, size_t errlen)
{
    struct bs_certpath_dirs d;

    bs_certpath_default_dirs(&d);
    return bs_certpath_find(&d, name, out, outlen, err, errlen);
}

int bs_certpath_find_pair(const struct bs_certpath_dirs *d,
                          const char *cert_name, const char *key_name,
                          char *cert_out, char *key_out, size_t outlen,
                          char *err, size_t errlen)
{
    int i = find_dir(d, cert_name, cert_out, outlen, err, errlen);
    int r;

    if (i < 0) {
        return -1;
    }
    r = probe(d->dir[i], key_name, key_out, outlen);
    if (r != 1) {
        snprintf(err, errlen,
                 "found %s but no %s beside it (a certificate and its key "
                 "are taken from one directory)",
                 cert_out, key_name);
        return -1;
    }
    return 0;
}
