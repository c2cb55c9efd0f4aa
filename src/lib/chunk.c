/*
 * chunk.c - a message cut into protocol frames; see chunk.h.
 */
#include "chunk.h"

#include "proto.h"
#include "stuff.h"

struct bs_chunk bs_chunk_next(size_t len, size_t pos)
{
    struct bs_chunk c = {.bits = BS_PROTO_MAX_CHUNK_BITS, .flags = 0};

    if (pos == 0) {
        c.flags |= BS_PROTO_FLAG_FIRST;
    }
    if (len - pos <= BS_PROTO_MAX_CHUNK_BITS) {
        c.bits = (uint32_t) (len - pos);
        c.flags |= BS_PROTO_FLAG_LAST;
    }
    return c;
}

size_t bs_chunk_wire_len(size_t len)
{
    size_t chunks = len == 0 ? 1 : (len - 1) / BS_PROTO_MAX_CHUNK_BITS + 1;

    return bs_bytes_for_bits(len) + chunks * BS_PROTO_HDR_LEN;
}
