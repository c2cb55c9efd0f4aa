/*
 * test_chunk.c - a message cut into frames (src/lib/chunk.c): sizes and
 * FIRST/LAST flags at every boundary, and the wire length they add up to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chunk.h"
#include "proto.h"

enum { MAX = BS_PROTO_MAX_CHUNK_BITS };

static void test_empty_message_is_one_empty_frame(void **state)
{
    (void) state;
    struct bs_chunk c = bs_chunk_next(0, 0);

    assert_int_equal(c.bits, 0);
    assert_int_equal(c.flags, BS_PROTO_FLAG_FIRST | BS_PROTO_FLAG_LAST);
    assert_int_equal(bs_chunk_wire_len(0), BS_PROTO_HDR_LEN);
}

static void test_boundaries(void **state)
{
    (void) state;
    struct bs_chunk c = bs_chunk_next(1, 0);

    assert_int_equal(c.bits, 1);
    assert_int_equal(c.flags, BS_PROTO_FLAG_FIRST | BS_PROTO_FLAG_LAST);
    c = bs_chunk_next(MAX, 0); /* exactly one full frame */
    assert_int_equal(c.bits, MAX);
    assert_int_equal(c.flags, BS_PROTO_FLAG_FIRST | BS_PROTO_FLAG_LAST);
    c = bs_chunk_next(MAX + 1u, 0); /* one bit more: two frames */
    assert_int_equal(c.bits, MAX);
    assert_int_equal(c.flags, BS_PROTO_FLAG_FIRST);
    c = bs_chunk_next(MAX + 1u, MAX);
    assert_int_equal(c.bits, 1);
    assert_int_equal(c.flags, BS_PROTO_FLAG_LAST);
    c = bs_chunk_next(3u * MAX, MAX); /* a middle frame: no flag */
    assert_int_equal(c.bits, MAX);
    assert_int_equal(c.flags, 0);
}

/* Walking a message frame by frame covers it exactly once, and its wire
 * length is the sum of headers and whole bytes of each frame. */
static void test_walk_adds_up(void **state)
{
    (void) state;
    static const size_t lens[] = {1,
                                  7,
                                  8,
                                  9,
                                  MAX - 1u,
                                  MAX,
                                  MAX + 1u,
                                  2u * MAX,
                                  2u * MAX + 13u,
                                  5u * MAX - 3u};

    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t pos = 0, wire = 0, frames = 0;
        struct bs_chunk c;

        do {
            c = bs_chunk_next(lens[i], pos);
            assert_true(c.bits > 0 && c.bits <= MAX);
            assert_int_equal((c.flags & BS_PROTO_FLAG_FIRST) != 0, pos == 0);
            pos += c.bits;
            wire += BS_PROTO_HDR_LEN + (c.bits + 7u) / 8u;
            frames++;
            assert_true(frames <= 6);
        } while (!(c.flags & BS_PROTO_FLAG_LAST));
        assert_int_equal(pos, lens[i]);
        assert_int_equal(bs_chunk_wire_len(lens[i]), wire);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_message_is_one_empty_frame),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_walk_adds_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
