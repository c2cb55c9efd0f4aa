/*
 * container.c - the stuffed-file container codec (see container.h and
 * docs/CONTAINER.md).
 */
#include "container.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define DIGEST_LEN 32u
/* Trailer bytes covered by the digest: tag, count, reserved. */
#define TRAILER_SIGNED 16u

static const uint8_t magic[BS_CTR_MAGIC_LEN] = {0x89, 'B', 'S', 'T',
                                                'U',  'F', 'F', '\n'};
static const uint8_t end_tag[4] = {0x89, 'E', 'N', 'D'};

const char *bs_ctr_strerror(enum bs_ctr_status st)
{
    switch (st) {
    case BS_CTR_OK:
        return "a valid container";
    case BS_CTR_NOT_CONTAINER:
        return "not a bitstuff container (no \\x89BSTUFF header); for bare "
               "packed bits give --raw, with --in-bits N if the last byte is "
               "padded";
    case BS_CTR_BAD_VERSION:
        return "a bitstuff container of a version this client does not "
               "read; use a newer bitstuff";
    case BS_CTR_BAD_HEADER:
        return "a damaged container header (unknown rule or reserved bytes "
               "not 0)";
    case BS_CTR_TRUNCATED:
        return "a truncated container: the file ends without its end record "
               "(was the copy or the transfer cut short?)";
    case BS_CTR_BAD_LENGTH:
        return "a damaged container: its bit count does not match the size "
               "of its data";
    case BS_CTR_BAD_DIGEST:
        return "a corrupted container: the SHA-256 of its contents does not "
               "match the one it carries";
    case BS_CTR_NO_MEMORY:
        return "out of memory";
    }
    return "unknown container status";
}

int bs_ctr_has_magic(const uint8_t *p, size_t n)
{
    return memcmp(p, magic, n < BS_CTR_MAGIC_LEN ? n : BS_CTR_MAGIC_LEN) == 0;
}

static void *md_new(void)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        md = NULL;
    }
    return md;
}

static void md_update(void *md, const uint8_t *p, size_t n)
{
    if (n > 0) {
        (void) EVP_DigestUpdate(md, p, n);
    }
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t) v;
        v >>= 8;
    }
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

int bs_ctr_writer_init(struct bs_ctr_writer *w, enum bs_rule rule, uint8_t *hdr)
{
    w->md = md_new();
    if (w->md == NULL) {
        return -1;
    }
    memset(hdr, 0, BS_CTR_HDR_LEN);
    memcpy(hdr, magic, sizeof(magic));
    hdr[8] = BS_CTR_VERSION;
    hdr[9] = (uint8_t) rule;
    md_update(w->md, hdr, BS_CTR_HDR_LEN);
    return 0;
}

void bs_ctr_writer_update(struct bs_ctr_writer *w, const uint8_t *p, size_t n)
{
    md_update(w->md, p, n);
}

void bs_ctr_writer_finish(struct bs_ctr_writer *w, uint64_t bits,
                          uint8_t *trailer)
{
    unsigned int len = 0;

    memset(trailer, 0, BS_CTR_TRAILER_LEN);
    memcpy(trailer, end_tag, sizeof(end_tag));
    put_u64(trailer + 4, bits);
    md_update(w->md, trailer, TRAILER_SIGNED);
    (void) EVP_DigestFinal_ex(w->md, trailer + TRAILER_SIGNED, &len);
    bs_ctr_writer_free(w);
}

void bs_ctr_writer_free(struct bs_ctr_writer *w)
{
    EVP_MD_CTX_free(w->md);
    w->md = NULL;
}

int bs_ctr_reader_init(struct bs_ctr_reader *r)
{
    memset(r, 0, sizeof(*r));
    r->md = md_new();
    return r->md == NULL ? -1 : 0;
}

void bs_ctr_reader_free(struct bs_ctr_reader *r)
{
    EVP_MD_CTX_free(r->md);
    r->md = NULL;
}

int bs_ctr_reader_has_header(const struct bs_ctr_reader *r)
{
    return r->hdr_len == BS_CTR_HDR_LEN && r->failed == BS_CTR_OK;
}

enum bs_rule bs_ctr_reader_rule(const struct bs_ctr_reader *r)
{
    return r->rule;
}

static enum bs_ctr_status check_header(struct bs_ctr_reader *r)
{
    if (!bs_ctr_has_magic(r->hdr, r->hdr_len)) {
        return BS_CTR_NOT_CONTAINER;
    }
    if (r->hdr_len > 8 && r->hdr[8] != BS_CTR_VERSION) {
        return BS_CTR_BAD_VERSION;
    }
    if (r->hdr_len > 9 && r->hdr[9] >= BS_RULE_COUNT) {
        return BS_CTR_BAD_HEADER;
    }
    for (size_t i = 10; i < r->hdr_len; i++) {
        if (r->hdr[i] != 0) {
            return BS_CTR_BAD_HEADER;
        }
    }
    if (r->hdr_len == BS_CTR_HDR_LEN) {
        r->rule = (enum bs_rule) r->hdr[9];
    }
    return BS_CTR_OK;
}

enum bs_ctr_status bs_ctr_reader_feed(struct bs_ctr_reader *r,
                                      const uint8_t *in, size_t n, uint8_t *out,
                                      size_t *outn)
{
    size_t total, release, from_hold;

    *outn = 0;
    if (r->failed != BS_CTR_OK) {
        return r->failed;
    }
    if (r->hdr_len < BS_CTR_HDR_LEN) {
        size_t take = BS_CTR_HDR_LEN - r->hdr_len;

        if (take > n) {
            take = n;
        }
        memcpy(r->hdr + r->hdr_len, in, take);
        r->hdr_len += take;
        in += take;
        n -= take;
        r->failed = check_header(r);
        if (r->failed != BS_CTR_OK) {
            return r->failed;
        }
        if (r->hdr_len < BS_CTR_HDR_LEN) {
            return BS_CTR_OK;
        }
        if (take > 0) {
            md_update(r->md, r->hdr, BS_CTR_HDR_LEN);
        }
    }
    /* keep the last sizeof(hold) bytes; release the rest, oldest first */
    total = r->hold_len + n;
    if (total <= sizeof(r->hold)) {
        memcpy(r->hold + r->hold_len, in, n);
        r->hold_len = total;
        return BS_CTR_OK;
    }
    release = total - sizeof(r->hold);
    from_hold = release < r->hold_len ? release : r->hold_len;
    memcpy(out, r->hold, from_hold);
    memcpy(out + from_hold, in, release - from_hold);
    md_update(r->md, out, release);
    r->payload_bytes += release;
    *outn = release;
    /* the new hold: what is left of the old one, then the input's tail */
    memmove(r->hold, r->hold + from_hold, r->hold_len - from_hold);
    r->hold_len -= from_hold;
    memcpy(r->hold + r->hold_len, in + (release - from_hold),
           n - (release - from_hold));
    r->hold_len = sizeof(r->hold);
    return BS_CTR_OK;
}

enum bs_ctr_status bs_ctr_reader_finish(struct bs_ctr_reader *r, uint8_t *tail,
                                        size_t *ntail, uint64_t *bits)
{
    const uint8_t *tr;
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    size_t nt;
    uint64_t nbits, bytes;

    *ntail = 0;
    *bits = 0;
    if (r->failed != BS_CTR_OK) {
        return r->failed;
    }
    if (r->hdr_len == 0) {
        return r->failed = BS_CTR_NOT_CONTAINER;
    }
    if (r->hdr_len < BS_CTR_HDR_LEN || r->hold_len < BS_CTR_TRAILER_LEN) {
        return r->failed = BS_CTR_TRUNCATED;
    }
    nt = r->hold_len - BS_CTR_TRAILER_LEN; /* 0 or 1 */
    tr = r->hold + nt;
    if (memcmp(tr, end_tag, sizeof(end_tag)) != 0) {
        return r->failed = BS_CTR_TRUNCATED;
    }
    nbits = get_u64(tr + 4);
    bytes = r->payload_bytes + nt;
    if (nbits / 8 + (nbits % 8 != 0) != bytes) {
        return r->failed = BS_CTR_BAD_LENGTH;
    }
    if (tr[12] != 0 || tr[13] != 0 || tr[14] != 0 || tr[15] != 0) {
        return r->failed = BS_CTR_BAD_HEADER;
    }
    md_update(r->md, r->hold, nt + TRAILER_SIGNED);
    if (EVP_DigestFinal_ex(r->md, digest, &dlen) != 1 || dlen != DIGEST_LEN ||
        CRYPTO_memcmp(digest, tr + TRAILER_SIGNED, DIGEST_LEN) != 0)
    {
        return r->failed = BS_CTR_BAD_DIGEST;
    }
    /* the digest matched, so the padding is what the writer wrote: still
     * refuse a writer that left bits in it */
    if (nt == 1 && nbits % 8 != 0 && (r->hold[0] & (0xffu >> (nbits % 8))) != 0)
    {
        return r->failed = BS_CTR_BAD_DIGEST;
    }
    if (nt == 1) {
        tail[0] = r->hold[0];
    }
    *ntail = nt;
    *bits = nbits;
    return BS_CTR_OK;
}
