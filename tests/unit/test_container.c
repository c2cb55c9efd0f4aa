/*
 * test_container.c - the stuffed-file container (docs/CONTAINER.md):
 * round trips at awkward sizes fed in awkward pieces, the exact header
 * bytes, and every truncation and every single-bit flip refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "container.h"

/* Build a container of payload (bits bits) under rule; returns its
 * length, the bytes in *out (malloc'd). */
static size_t build(const uint8_t *payload, uint64_t bits, enum bs_rule rule,
                    uint8_t **out)
{
    size_t plen = (size_t) (bits / 8 + (bits % 8 != 0));
    size_t len = BS_CTR_HDR_LEN + plen + BS_CTR_TRAILER_LEN;
    uint8_t *buf = malloc(len);
    struct bs_ctr_writer w;

    assert_non_null(buf);
    assert_int_equal(bs_ctr_writer_init(&w, rule, buf), 0);
    if (plen > 0) {
        memcpy(buf + BS_CTR_HDR_LEN, payload, plen);
        /* in two pieces, as a streaming writer would */
        bs_ctr_writer_update(&w, payload, plen / 2);
        bs_ctr_writer_update(&w, payload + plen / 2, plen - plen / 2);
    }
    bs_ctr_writer_finish(&w, bits, buf + BS_CTR_HDR_LEN + plen);
    *out = buf;
    return len;
}

/* Read buf[0..len) in pieces of step bytes; on success the payload and
 * its bit count come back in *payload (malloc'd) and *bits. */
static enum bs_ctr_status read_all(const uint8_t *buf, size_t len, size_t step,
                                   uint8_t **payload, uint64_t *bits)
{
    struct bs_ctr_reader r;
    uint8_t *out = malloc(len + 1);
    size_t got = 0, off = 0, n, nt;
    enum bs_ctr_status st = BS_CTR_OK;

    assert_non_null(out);
    assert_int_equal(bs_ctr_reader_init(&r), 0);
    while (off < len && st == BS_CTR_OK) {
        size_t k = len - off < step ? len - off : step;

        st = bs_ctr_reader_feed(&r, buf + off, k, out + got, &n);
        assert_true(n <= k);
        got += n;
        off += k;
    }
    if (st == BS_CTR_OK) {
        st = bs_ctr_reader_finish(&r, out + got, &nt, bits);
        got += nt;
    }
    bs_ctr_reader_free(&r);
    if (st == BS_CTR_OK) {
        assert_int_equal(got, (size_t) (*bits / 8 + (*bits % 8 != 0)));
        *payload = out;
    } else {
        free(out);
    }
    return st;
}

static void test_round_trips(void **state)
{
    static const uint64_t sizes[] = {0,     1, 7, 8, 13, 392, 65536 * 8 + 3,
                                     200000};
    static const size_t steps[] = {1, 3, 16, 49, 50, 4096, SIZE_MAX};

    (void) state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t bits = sizes[i];
        size_t plen = (size_t) (bits / 8 + (bits % 8 != 0));
        uint8_t *payload = malloc(plen + 1), *file;
        size_t len;

        assert_non_null(payload);
        for (size_t k = 0; k < plen; k++) {
            payload[k] = (uint8_t) (k * 131u + 7u);
        }
        if (bits % 8 != 0) {
            payload[plen - 1] &= (uint8_t) (0xffu << (8 - bits % 8));
        }
        len = build(payload, bits, BS_RULE_USB, &file);
        for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
            uint8_t *back = NULL;
            uint64_t got_bits = 0;

            if (steps[s] == 1 && len > 5000) {
                continue; /* byte by byte only for the small ones */
            }
            assert_int_equal(read_all(file, len, steps[s], &back, &got_bits),
                             BS_CTR_OK);
            assert_true(got_bits == bits);
            if (plen > 0) {
                assert_memory_equal(back, payload, plen);
            }
            free(back);
        }
        free(file);
        free(payload);
    }
}

static void test_header_bytes_and_rule(void **state)
{
    static const uint8_t want[BS_CTR_HDR_LEN] = {
        0x89, 'B', 'S', 'T', 'U', 'F', 'F', '\n', 1, 2, 0, 0, 0, 0, 0, 0};
    uint8_t *file;
    size_t len = build(NULL, 0, BS_RULE_CAN, &file);
    struct bs_ctr_reader r;
    uint8_t out[64];
    size_t n;

    (void) state;
    assert_int_equal(len, BS_CTR_HDR_LEN + BS_CTR_TRAILER_LEN);
    assert_memory_equal(file, want, sizeof(want));
    assert_memory_equal(file + BS_CTR_HDR_LEN,
                        "\x89"
                        "END",
                        4);
    assert_true(bs_ctr_has_magic(file, 3));
    assert_true(bs_ctr_has_magic(file, len));
    assert_false(bs_ctr_has_magic((const uint8_t *) "\x89"
                                                    "BSX",
                                  4));
    /* the rule is known as soon as the header is in */
    assert_int_equal(bs_ctr_reader_init(&r), 0);
    assert_int_equal(bs_ctr_reader_feed(&r, file, 15, out, &n), BS_CTR_OK);
    assert_false(bs_ctr_reader_has_header(&r));
    assert_int_equal(bs_ctr_reader_feed(&r, file + 15, 1, out, &n), BS_CTR_OK);
    assert_true(bs_ctr_reader_has_header(&r));
    assert_int_equal(bs_ctr_reader_rule(&r), BS_RULE_CAN);
    bs_ctr_reader_free(&r);
    free(file);
}

static void test_not_a_container(void **state)
{
    static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F'};
    uint8_t *back;
    uint64_t bits;

    (void) state;
    assert_int_equal(read_all(jpeg, sizeof(jpeg), 64, &back, &bits),
                     BS_CTR_NOT_CONTAINER);
    /* told at the first wrong byte, not at the end */
    assert_int_equal(read_all(jpeg, 1, 1, &back, &bits), BS_CTR_NOT_CONTAINER);
    assert_int_equal(read_all(jpeg, 0, 1, &back, &bits), BS_CTR_NOT_CONTAINER);
    assert_non_null(strstr(bs_ctr_strerror(BS_CTR_NOT_CONTAINER), "--raw"));
}

static void test_every_truncation_refused(void **state)
{
    uint8_t payload[100], *file, *back;
    uint64_t bits;
    size_t len;

    (void) state;
    for (size_t k = 0; k < sizeof(payload); k++) {
        payload[k] = (uint8_t) (k ^ 0x5a);
    }
    payload[99] &= 0xe0; /* 795 bits */
    len = build(payload, 795, BS_RULE_HDLC, &file);
    for (size_t cut = 0; cut < len; cut++) {
        enum bs_ctr_status st = read_all(file, cut, 7, &back, &bits);

        assert_int_not_equal(st, BS_CTR_OK);
        if (cut > 0) {
            assert_int_equal(st, BS_CTR_TRUNCATED);
        }
    }
    /* and a byte too many is not a valid container either */
    file = realloc(file, len + 1);
    assert_non_null(file);
    file[len] = 0;
    assert_int_not_equal(read_all(file, len + 1, 64, &back, &bits), BS_CTR_OK);
    free(file);
}

static void test_every_bit_flip_refused(void **state)
{
    uint8_t payload[40], *file, *back;
    uint64_t bits;
    size_t len;

    (void) state;
    memset(payload, 0xa5, sizeof(payload));
    payload[39] = 0x80; /* 313 bits */
    len = build(payload, 313, BS_RULE_HDLC, &file);
    for (size_t i = 0; i < len * 8; i++) {
        enum bs_ctr_status st;

        file[i / 8] ^= (uint8_t) (0x80u >> (i % 8));
        st = read_all(file, len, 32, &back, &bits);
        assert_int_not_equal(st, BS_CTR_OK);
        if (i / 8 >= BS_CTR_HDR_LEN && i / 8 < BS_CTR_HDR_LEN + 40) {
            assert_int_equal(st, BS_CTR_BAD_DIGEST); /* payload bits */
        }
        file[i / 8] ^= (uint8_t) (0x80u >> (i % 8));
    }
    assert_int_equal(read_all(file, len, 32, &back, &bits), BS_CTR_OK);
    free(back);
    free(file);
}

static void test_messages_distinct(void **state)
{
    (void) state;
    for (int a = BS_CTR_NOT_CONTAINER; a <= BS_CTR_NO_MEMORY; a++) {
        for (int b = a + 1; b <= BS_CTR_NO_MEMORY; b++) {
            assert_string_not_equal(bs_ctr_strerror((enum bs_ctr_status) a),
                                    bs_ctr_strerror((enum bs_ctr_status) b));
        }
    }
    assert_non_null(strstr(bs_ctr_strerror(BS_CTR_TRUNCATED), "truncated"));
    assert_non_null(strstr(bs_ctr_strerror(BS_CTR_BAD_DIGEST), "corrupted"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_header_bytes_and_rule),
        cmocka_unit_test(test_not_a_container),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_every_bit_flip_refused),
        cmocka_unit_test(test_messages_distinct),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
