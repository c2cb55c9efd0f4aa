/*
 * fsperm.h - is a key, certificate or CA file safe to trust?  The check
 * OpenSSH's StrictModes makes, for the files bitstuffd loads.
 *
 * A file passes when it is a regular file owned by root or by this
 * process's effective user, not writable by group or others (a private
 * key: not usable by group or others at all, mode 0600 or stricter), and
 * every directory from it up to "/" is owned by root or this user and
 * not writable by group or others.  Symbolic links are resolved first and
 * the real path is judged.
 *
 * One difference from OpenSSH, which refuses any group- or world-writable
 * directory: a sticky one (like /tmp, mode 1777) passes, because its
 * other users can neither rename nor remove what they do not own in it,
 * and what lies below it is checked as usual (owner root or this user).
 *
 * Pure apart from stat(2) and realpath(3): nothing is printed or changed.
 */
#ifndef BS_FSPERM_H
#define BS_FSPERM_H

#include <stddef.h>

enum bs_fsperm_kind {
    BS_FSPERM_PUBLIC = 0, /* certificate, CA file, CRL: nobody else writes */
    BS_FSPERM_SECRET = 1, /* private key: nobody else reads or writes */
};

/*
 * Check path.  what names it in the message ("private key", "CA file").
 * Returns 0 if it is safe, or if it does not exist or cannot be resolved
 * (loading it will then fail and say why).  Returns -1 and writes into
 * err a sentence naming the file or directory at fault, what is wrong,
 * and the command that fixes it ("chmod 600 FILE").
 */
int bs_fsperm_check(const char *path, const char *what,
                    enum bs_fsperm_kind kind, char *err, size_t errlen);

#endif /* BS_FSPERM_H */
