/*
 * fuzz_tickets.c - libFuzzer harness for the ticket key file's parser.
 *
 * Target function: bs_ticket_keys_parse.
 *
 * Input: the file's bytes.  Checked: a success gives 1 to 8 keys with
 * distinct names, each key's bytes being the hex digits of a line of the
 * input; a failure gives no key and a printable message that quotes no
 * 32 hex digits of the input in a row (a message never shows a key).
 * Parsing with room for fewer keys never writes past that room.  Any
 * violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tickets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *err)
{
    size_t run = 0;

    if (err[0] == '\0') {
        abort();
    }
    for (const char *p = err; *p != '\0'; p++) {
        if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e) {
            abort();
        }
        int hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
                  (*p >= 'A' && *p <= 'F');
        run = hex ? run + 1 : 0;
        if (run >= 32) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bs_ticket_key k[BS_TICKET_KEYS_MAX + 1];
    size_t n = 0;
    char err[256] = "";
    const char *text = (const char *) data;

    memset(k, 0xa5, sizeof k);
    if (bs_ticket_keys_parse(text, size, k, BS_TICKET_KEYS_MAX, &n, err,
                             sizeof err) == 0)
    {
        if (n < 1 || n > BS_TICKET_KEYS_MAX) {
            abort();
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < i; j++) {
                if (memcmp(k[i].name, k[j].name, sizeof k[i].name) == 0) {
                    abort();
                }
            }
        }
    } else {
        if (n != 0) {
            abort();
        }
        check_message(err);
    }
    /* the slot past max is never touched */
    const unsigned char *guard = (const unsigned char *) &k[BS_TICKET_KEYS_MAX];
    for (size_t i = 0; i < sizeof k[0]; i++) {
        if (guard[i] != 0xa5) {
            abort();
        }
    }
    /* room for one key: at most one is written */
    memset(k, 0xa5, sizeof k);
    (void) bs_ticket_keys_parse(text, size, k, 1, &n, err, sizeof err);
    if (n > 1) {
        abort();
    }
    guard = (const unsigned char *) &k[1];
    for (size_t i = 0; i < sizeof k[0]; i++) {
        if (guard[i] != 0xa5) {
            abort();
        }
    }
    return 0;
}
