/*
 * fuzz_container.c - libFuzzer harness for the stuffed-file container.
 *
 * Target functions: bs_ctr_reader_feed, bs_ctr_reader_finish,
 * bs_ctr_reader_has_header, bs_ctr_writer_init, bs_ctr_writer_update,
 * bs_ctr_writer_finish.
 *
 * Input: the bytes of a would-be container file.  It is read whole and
 * in pieces of sizes drawn from a generator seeded by the input, each
 * piece in its own exact-size heap block so ASan sees any read past it.
 * Checked:
 *   - a feed never gives out more bytes than it was given;
 *   - every split gives the same verdict, the same payload and bit count;
 *   - an accepted file is canonical: the writer, given its rule, payload
 *     and bit count, produces exactly the same bytes;
 *   - an accepted payload has ceil(bits / 8) bytes.
 * Then the input itself is wrapped as a payload (its bit count taken from
 * its length, less up to 7 bits): that container must be accepted and
 * give the payload back.  Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"

struct verdict {
    enum bs_ctr_status st;
    uint8_t *payload; /* malloc'd when st is BS_CTR_OK */
    size_t plen;
    uint64_t bits;
    enum bs_rule rule;
};

static uint32_t next_rand(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

static void read_container(const uint8_t *data, size_t size, uint32_t seed,
                           int whole, struct verdict *v)
{
    struct bs_ctr_reader r;
    uint8_t *out = malloc(size + 1);
    size_t off = 0, got = 0, nt = 0;

    memset(v, 0, sizeof(*v));
    if (out == NULL || bs_ctr_reader_init(&r) != 0) {
        abort();
    }
    v->st = BS_CTR_OK;
    while (off < size && v->st == BS_CTR_OK) {
        size_t k = whole ? size : 1 + next_rand(&seed) % 97u;
        uint8_t *piece;
        size_t n = 0;

        if (k > size - off) {
            k = size - off;
        }
        piece = malloc(k);
        if (piece == NULL) {
            abort();
        }
        memcpy(piece, data + off, k);
        v->st = bs_ctr_reader_feed(&r, piece, k, out + got, &n);
        free(piece);
        if (n > k) {
            abort();
        }
        got += n;
        off += k;
    }
    if (v->st == BS_CTR_OK) {
        v->st = bs_ctr_reader_finish(&r, out + got, &nt, &v->bits);
    }
    if (v->st == BS_CTR_OK) {
        got += nt;
        if (got != v->bits / 8 + (v->bits % 8 != 0) ||
            !bs_ctr_reader_has_header(&r)) {
            abort();
        }
        v->rule = bs_ctr_reader_rule(&r);
        v->payload = out;
        v->plen = got;
    } else {
        free(out);
    }
    bs_ctr_reader_free(&r);
}

/* The container the writer makes for (rule, payload, bits). */
static uint8_t *write_container(enum bs_rule rule, const uint8_t *payload,
                                size_t plen, uint64_t bits, size_t *len)
{
    struct bs_ctr_writer w;
    uint8_t *buf = malloc(BS_CTR_HDR_LEN + plen + BS_CTR_TRAILER_LEN);

    if (buf == NULL || bs_ctr_writer_init(&w, rule, buf) != 0) {
        abort();
    }
    if (plen > 0) {
        memcpy(buf + BS_CTR_HDR_LEN, payload, plen);
        bs_ctr_writer_update(&w, payload, plen);
    }
    bs_ctr_writer_finish(&w, bits, buf + BS_CTR_HDR_LEN + plen);
    *len = BS_CTR_HDR_LEN + plen + BS_CTR_TRAILER_LEN;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct verdict a, b;
    uint32_t seed = 2166136261u;
    uint8_t *again, *wrapped;
    size_t len;
    uint64_t bits;

    for (size_t i = 0; i < size && i < 64; i++) {
        seed = (seed ^ data[i]) * 16777619u;
    }
    read_container(data, size, seed, 1, &a);
    read_container(data, size, seed, 0, &b);
    if (a.st != b.st ||
        (a.st == BS_CTR_OK &&
         (a.bits != b.bits || a.plen != b.plen || a.rule != b.rule ||
          (a.plen > 0 && memcmp(a.payload, b.payload, a.plen) != 0))))
    {
        abort();
    }
    if (a.st == BS_CTR_OK) {
        again = write_container(a.rule, a.payload, a.plen, a.bits, &len);
        if (len != size || memcmp(again, data, size) != 0) {
            abort();
        }
        free(again);
    }
    free(a.payload);
    free(b.payload);

    /* the input as a payload: bits = 8 * size less (seed % 8) when that
     * keeps the byte count, with the padding cleared */
    if (size > 0) {
        uint8_t *p = malloc(size);

        if (p == NULL) {
            abort();
        }
        memcpy(p, data, size);
        bits = (uint64_t) size * 8u - seed % 8u;
        if (bits % 8 != 0) {
            p[size - 1] &= (uint8_t) (0xffu << (8 - bits % 8));
        }
        wrapped = write_container((enum bs_rule)(seed % BS_RULE_COUNT), p, size,
                                  bits, &len);
        read_container(wrapped, len, seed, 0, &a);
        if (a.st != BS_CTR_OK || a.bits != bits || a.plen != size ||
            memcmp(a.payload, p, size) != 0 ||
            a.rule != (enum bs_rule)(seed % BS_RULE_COUNT))
        {
            abort();
        }
        free(a.payload);
        free(wrapped);
        free(p);
    }
    return 0;
}
