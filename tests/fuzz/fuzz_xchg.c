/*
 * fuzz_xchg.c - the server's request path fed as bytes.
 *
 * Target functions: bs_xchg_feed, bs_xchg_seal, bs_xchg_end (and through
 * them the decoder and the stuffing streams).
 *
 * Input: two bytes of limits (a short max_line and max_message_bits, so
 * the limits are hit), one byte seeding how the rest is split into reads
 * and when the "client" reads its replies, then the bytes a client sent.
 * Checks: the output buffer's cursors stay ordered and within bounds;
 * feed never stops for room when sending what is committed would not
 * let it continue (no deadlock); a stalled feed always progresses once
 * the committed output is sent.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "xchg.h"

static void check(const struct bs_outbuf *o)
{
    if (!(o->head <= o->commit && o->commit <= o->tail && o->tail <= o->cap)) {
        abort();
    }
}

static void send_all(struct bs_xchg *x, struct bs_outbuf *o)
{
    bs_xchg_seal(x, o);
    check(o);
    o->head = o->commit;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bs_proto_limits lim;
    struct bs_xchg x;
    struct bs_outbuf o;
    uint32_t rng;
    size_t pos = 3;

    if (size < 3) {
        return 0;
    }
    lim.max_line = 2u + (size_t) data[0] * 8u;
    lim.max_message_bits = data[1] == 255 ? BS_PROTO_DEFAULT_MAX_MESSAGE_BITS
                                          : 1u + (uint64_t) data[1] * 97u;
    rng = 0x9E3779B9u ^ data[2];
    bs_xchg_init(&x, &lim, NULL);
    o.cap = bs_xchg_outbuf_size(&lim);
    o.buf = malloc(o.cap);
    o.head = o.commit = o.tail = 0;
    if (o.buf == NULL) {
        return 0;
    }
    while ((pos < size || bs_xchg_stalled(&x)) && !bs_xchg_fatal(&x)) {
        size_t want, used;

        rng = rng * 1103515245u + 12345u;
        want = 1u + (rng >> 16) % 4096u;
        if (want > size - pos) {
            want = size - pos;
        }
        used = bs_xchg_feed(&x, &o, data + pos, want);
        check(&o);
        if (used > want) {
            abort();
        }
        pos += used;
        if (used < want || bs_xchg_stalled(&x)) {
            /* Out of room: the client reads what is complete; feed must
             * then consume input or commit a reply, or it never will. */
            send_all(&x, &o);
            used = bs_xchg_feed(&x, &o, data + pos, size - pos);
            check(&o);
            if (used == 0 && bs_xchg_stalled(&x) && o.commit == o.head) {
                abort();
            }
            pos += used;
        } else if ((rng >> 8) % 4u == 0) {
            send_all(&x, &o);
        }
    }
    if (bs_xchg_end(&x, &o, (rng & 1u) ? BS_PROTO_E_BUSY : 0) != 0) {
        send_all(&x, &o);
        if (bs_xchg_end(&x, &o, BS_PROTO_E_BUSY) != 0) {
            abort();
        }
    }
    send_all(&x, &o);
    free(o.buf);
    return 0;
}
