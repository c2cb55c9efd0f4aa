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

/* The frame at each boundary: its size and its FIRST/LAST flags. */
static void test_boundaries(void **state)
{
    enum { F = BS_PROTO_FLAG_FIRST, L = BS_PROTO_FLAG_LAST };
    static const struct {
        size_t len, pos; /* the message's bits, and where the frame starts */
        uint32_t bits;
        unsigned flags;
    } frames[] = {
        {0, 0, 0, F | L},        /* the empty message: one frame */
        {1, 0, 1, F | L},        /* one bit */
        {MAX, 0, MAX, F | L},    /* exactly one full frame */
        {MAX + 1u, 0, MAX, F},   /* one bit more: two frames */
        {MAX + 1u, MAX, 1, L},   /* ... and the second */
        {3u * MAX, MAX, MAX, 0}, /* a middle frame: no flag */
    };

    (void) state;
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        struct bs_chunk c = bs_chunk_next(frames[i].len, frames[i].pos);

        if (c.bits != frames[i].bits || c.flags != frames[i].flags) {
            fail_msg(
                "the frame at bit %zu of %zu: %u bits, flags %u; want %u, %u",
                frames[i].pos, frames[i].len, (unsigned) c.bits, c.flags,
                (unsigned) frames[i].bits, frames[i].flags);
        }
    }
    /* the empty message's one frame is a header alone */
    assert_int_equal(bs_chunk_wire_len(0), BS_PROTO_HDR_LEN);
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
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_walk_adds_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
