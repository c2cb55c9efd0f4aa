/*
 * test_bitio.c - the client's bit moving: text <-> packed, tail masking,
 * and the writer that joins pieces of any length (checked against a
 * bit-by-bit model over seeded random splits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bitio.h"
#include "stuff.h"
#include "test_rng.h"

static unsigned bit_at(const uint8_t *p, size_t i)
{
    return ((unsigned) p[i / 8] >> (7u - (unsigned) (i % 8))) & 1u;
}

static void test_pack(void **state)
{
    uint8_t out[4];

    (void) state;
    memset(out, 0xAA, sizeof(out));
    bs_bitio_pack("0101111110011111001010", 22, out);
    assert_int_equal(out[0], 0x5F);
    assert_int_equal(out[1], 0x9F);
    assert_int_equal(out[2], 0x28); /* 001010 then two 0 bits of padding */
    assert_int_equal(out[3], 0xAA); /* nothing past ceil(22/8) bytes */

    memset(out, 0xAA, sizeof(out));
    bs_bitio_pack("1", 1, out);
    assert_int_equal(out[0], 0x80);
    assert_int_equal(out[1], 0xAA);

    memset(out, 0xAA, sizeof(out));
    bs_bitio_pack("", 0, out);
    assert_int_equal(out[0], 0xAA);

    bs_bitio_pack("11111111", 8, out);
    assert_int_equal(out[0], 0xFF);
    assert_int_equal(out[1], 0xAA);
}

static void test_unpack(void **state)
{
    const uint8_t in[] = {0x5F, 0x9F, 0x28};
    char out[32];

    (void) state;
    memset(out, 'x', sizeof(out));
    bs_bitio_unpack(in, 22, out);
    assert_memory_equal(out, "0101111110011111001010", 22);
    assert_int_equal(out[22], 'x');
}

static void test_round_trip(void **state)
{
    uint64_t seed = 0x1234567;
    char text[300], back[300];
    uint8_t packed[40];

    (void) state;
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t) (rng_next(&seed) % sizeof(text));

        for (size_t i = 0; i < n; i++) {
            text[i] = (char) ('0' + (rng_next(&seed) & 1u));
        }
        memset(packed, 0xFF, sizeof(packed));
        bs_bitio_pack(text, n, packed);
        if (n % 8 != 0) {
            /* padding bits are 0 */
            assert_int_equal(packed[n / 8] & (0xFFu >> (n % 8)), 0);
        }
        bs_bitio_unpack(packed, n, back);
        assert_memory_equal(text, back, n);
    }
}

static void test_mask_tail(void **state)
{
    uint8_t b[2] = {0xFF, 0xFF};

    (void) state;
    bs_bitio_mask_tail(b, 11);
    assert_int_equal(b[0], 0xFF);
    assert_int_equal(b[1], 0xE0);
    b[1] = 0xFF;
    bs_bitio_mask_tail(b, 16); /* whole bytes: nothing to clear */
    assert_int_equal(b[1], 0xFF);
    bs_bitio_mask_tail(b, 9);
    assert_int_equal(b[1], 0x80);
}

/* Split a random bit string into random pieces, append them, compare. */
static void test_writer_random_splits(void **state)
{
    uint64_t seed = 42;
    uint8_t src[256], dst[300];

    (void) state;
    for (int round = 0; round < 500; round++) {
        struct bs_bitio_writer w;
        size_t total = (size_t) (rng_next(&seed) % (sizeof(src) * 8));
        size_t pos = 0;

        for (size_t i = 0; i < sizeof(src); i++) {
            src[i] = (uint8_t) rng_next(&seed);
        }
        memset(dst, 0xFF, sizeof(dst));
        bs_bitio_writer_init(&w, dst, sizeof(dst));
        while (pos < total) {
            size_t n = (size_t) (rng_next(&seed) % 40);
            uint8_t piece[8];

            if (n > total - pos) {
                n = total - pos;
            }
            /* the piece starts at its own byte 0, with garbage after n */
            memset(piece, 0xFF, sizeof(piece));
            for (size_t i = 0; i < n; i++) {
                if (!bit_at(src, pos + i)) {
                    piece[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
                }
            }
            assert_int_equal(bs_bitio_append(&w, piece, n), 0);
            pos += n;
        }
        assert_int_equal(bs_bitio_finish(&w), 0);
        assert_true(w.total == total);
        assert_int_equal(w.len, bs_bytes_for_bits(total));
        for (size_t i = 0; i < total; i++) {
            assert_int_equal(bit_at(dst, i), bit_at(src, i));
        }
        for (size_t i = total; i < w.len * 8; i++) {
            assert_int_equal(bit_at(dst, i), 0); /* zero padding */
        }
    }
}

static void test_writer_room_and_drain(void **state)
{
    uint8_t buf[3];
    const uint8_t ones[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    struct bs_bitio_writer w;

    (void) state;
    bs_bitio_writer_init(&w, buf, sizeof(buf));
    assert_int_equal(bs_bitio_append(&w, ones, 3), 0);
    /* 3 + 16 bits need room for 3 bytes; 3 + 24 would not fit */
    assert_int_equal(bs_bitio_append(&w, ones, 24), -1);
    assert_true(w.total == 3); /* the refused append changed nothing */
    assert_int_equal(bs_bitio_append(&w, ones, 16), 0);
    assert_int_equal(w.len, 2);
    bs_bitio_drain(&w);
    assert_int_equal(w.len, 0);
    assert_int_equal(bs_bitio_append(&w, ones, 5), 0); /* 3 + 5 = 8 */
    assert_int_equal(w.len, 1);
    assert_int_equal(buf[0], 0xFF);
    assert_true(w.total == 24);
    /* finish with nothing pending adds no byte */
    assert_int_equal(bs_bitio_finish(&w), 0);
    assert_int_equal(w.len, 1);
    /* finish with pending bits and a full buffer fails */
    bs_bitio_writer_init(&w, buf, 1);
    assert_int_equal(bs_bitio_append(&w, ones, 7), 0);
    assert_int_equal(bs_bitio_append(&w, ones, 7), 0);
    assert_int_equal(w.len, 1);
    assert_int_equal(bs_bitio_finish(&w), -1);
    bs_bitio_drain(&w);
    assert_int_equal(bs_bitio_finish(&w), 0);
    assert_int_equal(w.len, 1);
    assert_int_equal(buf[0], 0xFC); /* six 1s, two 0s of padding */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack),
        cmocka_unit_test(test_unpack),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_mask_tail),
        cmocka_unit_test(test_writer_random_splits),
        cmocka_unit_test(test_writer_room_and_drain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
