/*
 * test_tickets.c - the ticket key file's parser (src/lib/tickets.c):
 * layout of a key, comments and blanks, every refusal with its line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tickets.h"

/* 160 hex digits: byte i of the key is i + base. */
static void key_hex(char out[161], unsigned base)
{
    for (unsigned i = 0; i < BS_TICKET_KEY_BYTES; i++) {
        snprintf(out + 2 * i, 3, "%02x", (i + base) & 0xffu);
    }
}

static void expect_error(const char *text, const char *want)
{
    struct bs_ticket_key k[BS_TICKET_KEYS_MAX];
    size_t n = 99;
    char err[256] = "";

    assert_int_equal(bs_ticket_keys_parse(text, strlen(text), k,
                                          BS_TICKET_KEYS_MAX, &n, err,
                                          sizeof err),
                     -1);
    assert_int_equal(n, 0);
    if (strstr(err, want) == NULL) {
        fail_msg("\"%s\" does not contain \"%s\"", err, want);
    }
}

static void test_layout(void **state)
{
    (void) state;
    char a[161], b[161], text[512];
    struct bs_ticket_key k[BS_TICKET_KEYS_MAX];
    size_t n = 0;
    char err[256] = "";

    key_hex(a, 0);
    key_hex(b, 0x80);
    /* comments, blank lines, blanks around a key, CRLF, upper case, and
     * no LF after the last key */
    for (char *p = b; *p != '\0'; p++) {
        if (*p >= 'a' && *p <= 'f') {
            *p = (char) (*p - 'a' + 'A');
        }
    }
    snprintf(text, sizeof text, "# ticket keys\n\n  %s \r\n\t\n%s", a, b);
    assert_int_equal(
        bs_ticket_keys_parse(text, strlen(text), k, 8, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(k[0].name[0], 0);
    assert_int_equal(k[0].name[15], 15);
    assert_int_equal(k[0].hmac[0], 16);
    assert_int_equal(k[0].hmac[31], 47);
    assert_int_equal(k[0].aes[0], 48);
    assert_int_equal(k[0].aes[31], 79);
    assert_int_equal(k[1].name[0], 0x80);
    assert_int_equal(k[1].aes[31], 0x80 + 79);
}

static void test_refusals(void **state)
{
    (void) state;
    char a[161], text[2048];

    key_hex(a, 0);
    expect_error("", "no key in it");
    expect_error("# only a comment\n\n", "no key in it");
    snprintf(text, sizeof text, "%s\nabc\n", a);
    expect_error(text, "line 2: 3 hex digits, expected 160");
    snprintf(text, sizeof text, "%s0\n", a);
    expect_error(text, "line 1: 161 hex digits");
    snprintf(text, sizeof text, "%.80s %s\n", a, a + 80);
    expect_error(text, "line 1: character 81 is not a hex digit");
    snprintf(text, sizeof text, "\n%s\n%s\n", a, a);
    expect_error(text, "line 3: the same key name (first 32 hex digits) as "
                       "line 2");
    /* base64 of the same bytes is not taken for hex */
    expect_error("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
                 "is not a hex digit");
    /* a NUL inside a line */
    char nul[] = "00\0"
                 "11\n";
    struct bs_ticket_key k[2];
    size_t n = 5;
    char err[128] = "";
    assert_int_equal(
        bs_ticket_keys_parse(nul, sizeof nul - 1, k, 2, &n, err, sizeof err),
        -1);
    assert_non_null(strstr(err, "NUL"));
}

static void test_at_most_max(void **state)
{
    (void) state;
    char text[BS_TICKET_KEYS_MAX * 162 + 162];
    struct bs_ticket_key k[BS_TICKET_KEYS_MAX];
    size_t used = 0, n = 0;
    char err[256] = "";

    for (unsigned i = 0; i < BS_TICKET_KEYS_MAX; i++) {
        key_hex(text + used, i * 16);
        used += 160;
        text[used++] = '\n';
    }
    assert_int_equal(bs_ticket_keys_parse(text, used, k, BS_TICKET_KEYS_MAX, &n,
                                          err, sizeof err),
                     0);
    assert_int_equal(n, BS_TICKET_KEYS_MAX);
    /* a caller with room for fewer keys gets at most that many */
    assert_int_equal(
        bs_ticket_keys_parse(text, used, k, 2, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 3: more than 2 keys"));
    key_hex(text + used, 0xf0);
    used += 160;
    text[used] = '\0';
    expect_error(text, "line 9: more than 8 keys");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_at_most_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
