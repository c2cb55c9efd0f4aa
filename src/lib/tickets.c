/*
 * tickets.c - the ticket key file's parser (tickets.h).
 */
#include "tickets.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* One key line (blanks already trimmed) into raw; 0 or -1 with err. */
static int parse_line(const char *s, size_t len, size_t lineno,
                      unsigned char raw[BS_TICKET_KEY_BYTES], char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < len; i++) {
        if (hex_value(s[i]) < 0) {
            set_err(err, errlen,
                    "line %zu: character %zu is not a hex digit: a key is "
                    "%d hex digits on one line (make one with `openssl "
                    "rand -hex %d`)",
                    lineno, i + 1, 2 * BS_TICKET_KEY_BYTES,
                    BS_TICKET_KEY_BYTES);
            return -1;
        }
    }
    if (len != 2 * BS_TICKET_KEY_BYTES) {
        set_err(err, errlen,
                "line %zu: %zu hex digits, expected %d (%d bytes: a 16-byte "
                "name, a 32-byte HMAC key, a 32-byte AES key; make one with "
                "`openssl rand -hex %d`)",
                lineno, len, 2 * BS_TICKET_KEY_BYTES, BS_TICKET_KEY_BYTES,
                BS_TICKET_KEY_BYTES);
        return -1;
    }
    for (size_t i = 0; i < BS_TICKET_KEY_BYTES; i++) {
        raw[i] = (unsigned char) (hex_value(s[2 * i]) << 4 |
                                  hex_value(s[2 * i + 1]));
    }
    return 0;
}

int bs_ticket_keys_parse(const char *text, size_t len,
                         struct bs_ticket_key *out, size_t max, size_t *n,
                         char *err, size_t errlen)
{
    unsigned char raw[BS_TICKET_KEY_BYTES];
    size_t pos = 0, lineno = 0, lines[BS_TICKET_KEYS_MAX];
    int rc = -1;

    *n = 0;
    if (max > BS_TICKET_KEYS_MAX) {
        max = BS_TICKET_KEYS_MAX;
    }
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t) (nl - text) : len;
        size_t a = pos, b = end;

        lineno++;
        pos = end + 1;
        while (a < b && is_blank(text[a])) {
            a++;
        }
        while (b > a && is_blank(text[b - 1])) {
            b--;
        }
        if (a == b || text[a] == '#') {
            continue;
        }
        if (memchr(text + a, '\0', b - a) != NULL) {
            set_err(err, errlen, "line %zu holds a NUL byte: not a text file",
                    lineno);
            goto out;
        }
        if (*n == max) {
            set_err(err, errlen,
                    "line %zu: more than %zu keys; keep the key in use, the "
                    "next one and the few before it",
                    lineno, max);
            goto out;
        }
        if (parse_line(text + a, b - a, lineno, raw, err, errlen) != 0) {
            goto out;
        }
        struct bs_ticket_key *k = &out[*n];
        memcpy(k->name, raw, BS_TICKET_NAME_LEN);
        memcpy(k->hmac, raw + BS_TICKET_NAME_LEN, BS_TICKET_HMAC_LEN);
        memcpy(k->aes, raw + BS_TICKET_NAME_LEN + BS_TICKET_HMAC_LEN,
               BS_TICKET_AES_LEN);
        for (size_t i = 0; i < *n; i++) {
            if (memcmp(out[i].name, k->name, BS_TICKET_NAME_LEN) == 0) {
                set_err(err, errlen,
                        "line %zu: the same key name (first 32 hex digits) "
                        "as line %zu: each key needs its own",
                        lineno, lines[i]);
                goto out;
            }
        }
        lines[*n] = lineno;
        (*n)++;
    }
    if (*n == 0) {
        set_err(err, errlen,
                "no key in it: put one key per line, 160 hex digits (make "
                "one with `openssl rand -hex 80`)");
        goto out;
    }
    rc = 0;
out:
    /* not OPENSSL_cleanse (this module stays free of OpenSSL): a volatile
     * pointer keeps the compiler from dropping the wipe */
    for (volatile unsigned char *p = raw; p < raw + sizeof raw; p++) {
        *p = 0;
    }
    if (rc != 0) {
        *n = 0;
    }
    return rc;
}
