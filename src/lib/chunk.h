/*
 * chunk.h - how a message of known length is cut into protocol frames
 * (docs/PROTOCOL.md): chunks of at most BS_PROTO_MAX_CHUNK_BITS, the
 * first flagged FIRST, the last LAST; an empty message is one empty
 * frame flagged both.  Written once for every sender (the client, the
 * load generator); pure.
 */
#ifndef BS_CHUNK_H
#define BS_CHUNK_H

#include <stddef.h>
#include <stdint.h>

struct bs_chunk {
    uint32_t bits;  /* payload bits of this frame */
    unsigned flags; /* BS_PROTO_FLAG_FIRST and/or BS_PROTO_FLAG_LAST */
};

/* The frame that carries bits [pos, ...) of a message of len bits
 * (pos < len, or pos == len == 0). */
struct bs_chunk bs_chunk_next(size_t len, size_t pos);

/* Bytes the whole message takes on the wire: headers and payloads. */
size_t bs_chunk_wire_len(size_t len);

#endif /* BS_CHUNK_H */
