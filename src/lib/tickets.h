/*
 * tickets.h - the ticket key file: TLS session-ticket keys that every
 * instance of a fleet shares, so a session made through one instance
 * resumes on any other (docs/DEPLOY.md).
 *
 * The file is text: one key per line, 160 hex digits (80 random bytes,
 * the layout of nginx's ssl_session_ticket_key): bytes 0-15 are the key's
 * name (sent in clear in every ticket, so the server knows which key made
 * it), 16-47 the HMAC-SHA256 key, 48-79 the AES-256-CBC key.  Make one
 * with `openssl rand -hex 80`.  Empty lines and lines starting with '#'
 * are skipped; spaces and tabs around a key and a CR before the LF are
 * ignored.  The first key encrypts new tickets; every key decrypts (a
 * ticket made with a later key is renewed with the first), which is how
 * keys are rotated.
 *
 * Pure: no I/O, no allocation, no OpenSSL; messages never quote a key.
 */
#ifndef BS_TICKETS_H
#define BS_TICKETS_H

#include <stddef.h>

#define BS_TICKET_KEY_BYTES 80
#define BS_TICKET_NAME_LEN  16
#define BS_TICKET_HMAC_LEN  32
#define BS_TICKET_AES_LEN   32
#define BS_TICKET_KEYS_MAX  8     /* keys in one file */
#define BS_TICKET_FILE_MAX  4096u /* bytes in one file (8 keys, comments) */

struct bs_ticket_key {
    unsigned char name[BS_TICKET_NAME_LEN];
    unsigned char hmac[BS_TICKET_HMAC_LEN];
    unsigned char aes[BS_TICKET_AES_LEN];
};

/*
 * Parse len bytes of text (need not end in NUL) into at most max keys.
 * Returns 0 with *n >= 1, or -1 with a sentence in err that says which
 * line is wrong and how (no key, a line that is not 160 hex digits, two
 * keys with one name, more than max keys).  out may hold parts of keys
 * after a failure: the caller wipes it either way.
 */
int bs_ticket_keys_parse(const char *text, size_t len,
                         struct bs_ticket_key *out, size_t max, size_t *n,
                         char *err, size_t errlen);

#endif /* BS_TICKETS_H */
