/*
 * certpath.h - where the programs find a certificate, key or CA file
 * they were not given the name of, whatever directory they run from.
 *
 * The places, in order (BS_CERTPATH_NDIRS):
 *   1. $CREDENTIALS_DIRECTORY: systemd's LoadCredential= (bitstuffd.service);
 *   2. <sysconfdir>/bitstuff: the installed configuration directory,
 *      compiled in from CMake's CMAKE_INSTALL_FULL_SYSCONFDIR (/etc for
 *      the prefix /usr, /usr/local/etc for /usr/local);
 *   3. certs: relative to the working directory, for the source tree
 *      (scripts/gen-certs.sh writes there).
 * A file counts as found when it exists (even if it cannot be read: the
 * loader then says why, naming it), so a search never skips a file an
 * operator put in place for one further down.
 *
 * bitstuffd looks for server.crt and server.key (from one directory),
 * bitstuff and bitstuff-bench for ca.crt.  No global state; nothing is
 * printed.
 */
#ifndef BS_CERTPATH_H
#define BS_CERTPATH_H

#include <stddef.h>

#define BS_CERTPATH_NDIRS 3
#define BS_CERTPATH_MAX   4096 /* bytes of a path found, NUL included */

/* The names the programs look for. */
#define BS_CERTPATH_SERVER_CERT "server.crt"
#define BS_CERTPATH_SERVER_KEY  "server.key"
#define BS_CERTPATH_CA          "ca.crt"

/* The directories searched, in order.  An entry NULL or "" is skipped
 * (and named as "not set" in messages when it is the credentials one). */
struct bs_certpath_dirs {
    const char *dir[BS_CERTPATH_NDIRS];
};

/* The programs' directories: getenv("CREDENTIALS_DIRECTORY"), the
 * compiled-in <sysconfdir>/bitstuff, and "certs".  The strings are
 * borrowed (environment, static). */
void bs_certpath_default_dirs(struct bs_certpath_dirs *d);

/*
 * Find name in the first directory of d that has it: 0 and the path in
 * out (outlen >= BS_CERTPATH_MAX is enough), or -1 with err naming every
 * place looked at ("no ca.crt in $CREDENTIALS_DIRECTORY (not set),
 * /etc/bitstuff or certs (in /home/me)").
 */
int bs_certpath_find(const struct bs_certpath_dirs *d, const char *name,
                     char *out, size_t outlen, char *err, size_t errlen);

/* bs_certpath_find in the programs' directories (bs_certpath_default_dirs):
 * how bitstuff and bitstuff-bench find ca.crt when not given --ca-file. */
int bs_certpath_find_default(const char *name, char *out, size_t outlen,
                             char *err, size_t errlen);

/*
 * A certificate and its key from the same directory: the first one that
 * has cert_name; key_name must then be there too (a key from another
 * place would not match).  0 with both paths, or -1 with err (every
 * place looked at, or the key missing beside the certificate found).
 */
int bs_certpath_find_pair(const struct bs_certpath_dirs *d,
                          const char *cert_name, const char *key_name,
                          char *cert_out, char *key_out, size_t outlen,
                          char *err, size_t errlen);

#endif /* BS_CERTPATH_H */
