/*
 * fuzz_proxy.c - libFuzzer harness for the PROXY protocol parser and the
 * address ranges that decide whom to accept it from.
 *
 * Target functions: bs_proxy_init, bs_proxy_feed, bs_proxy_want,
 * bs_proxy_result, bs_proxy_error; bs_cidr_parse, bs_cidr_str,
 * bs_cidr_match.
 *
 * Input: byte 0 picks max_v2 (bit 0: the default 4 KiB or the smallest,
 * 232, so the size bound is reached often); the rest is the byte stream.
 * It is fed whole, one byte at a time and in pieces of sizes drawn from
 * a generator seeded by the input, each piece in its own exact-size heap
 * block so ASan sees any read past len, and through the exact-read loop
 * a server uses (reads of bs_proxy_want bytes).  Checked:
 *   - consumed <= len; NEED_MORE consumes all; want >= 1 while NEED_MORE
 *     and 0 after; DONE and errors are sticky and consume nothing;
 *   - every way of feeding gives the same status, bytes consumed, result
 *     and error text; the exact-read loop never reads past a header;
 *   - DONE: header_len is what was consumed, at most 107 (v1) or max_v2
 *     (v2); address lengths fit the family; a TCP4 line prints back to
 *     the very bytes given; v2 IPv4/IPv6 addresses are the bytes given;
 *   - an error has a printable message.
 * Then the stream up to its first NUL or newline (at most 80 bytes) is
 * parsed as a range: on success its canonical text parses back to the
 * same range and its own address matches it; on failure there is a
 * message.  Any violation aborts.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/test_rng.h"
#include "cidr.h"
#include "proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok) {
        abort();
    }
}

struct outcome {
    int st;
    size_t used;
    struct bs_proxy_result res;
    char err[BS_PROXY_ERRLEN];
};

/* Feed in[0..len) in pieces: piece sizes from rng (seed 0: all at once,
 * seed 1: one byte at a time). */
static void feed(const uint8_t *in, size_t len, size_t max_v2, uint64_t seed,
                 struct outcome *o)
{
    struct bs_proxy_parser p;
    size_t off = 0;

    bs_proxy_init(&p, max_v2);
    memset(o, 0, sizeof(*o));
    o->st = BS_PROXY_NEED_MORE;
    check(bs_proxy_want(&p) >= 1);
    while (off < len) {
        size_t n = len - off, used = SIZE_MAX;
        uint8_t *piece;
        int st;

        if (seed == 1) {
            n = 1;
        } else if (seed > 1) {
            n = 1 + (size_t) (rng_next(&seed) % (n < 40 ? n : 40));
        }
        piece = malloc(n);
        check(piece != NULL);
        memcpy(piece, in + off, n);
        st = bs_proxy_feed(&p, piece, n, &used);
        free(piece);
        check(used <= n);
        if (o->st != BS_PROXY_NEED_MORE) {
            check(st == o->st && used == 0);
        } else {
            o->st = st;
            o->used += used;
            if (st == BS_PROXY_NEED_MORE) {
                check(used == n && bs_proxy_want(&p) >= 1);
            } else {
                check(bs_proxy_want(&p) == 0);
            }
        }
        off += n;
    }
    if (o->st == BS_PROXY_DONE) {
        check(bs_proxy_result(&p) != NULL);
        o->res = *bs_proxy_result(&p);
        check(bs_proxy_error(&p)[0] == '\0');
    } else {
        check(bs_proxy_result(&p) == NULL);
        snprintf(o->err, sizeof(o->err), "%s", bs_proxy_error(&p));
    }
}

static void same(const struct outcome *a, const struct outcome *b)
{
    check(a->st == b->st);
    check(a->used == b->used);
    check(strcmp(a->err, b->err) == 0);
    check(memcmp(&a->res, &b->res, sizeof(a->res)) == 0);
}

/* The server's loop: reads of exactly bs_proxy_want bytes. */
static void exact_reads(const uint8_t *in, size_t len, size_t max_v2,
                        const struct outcome *want)
{
    struct bs_proxy_parser p;
    size_t off = 0;
    int st = BS_PROXY_NEED_MORE;

    bs_proxy_init(&p, max_v2);
    while (st == BS_PROXY_NEED_MORE && off < len) {
        size_t n = bs_proxy_want(&p), used;
        check(n >= 1);
        if (want->st == BS_PROXY_DONE) {
            check(off + n <= want->used);
        }
        if (n > len - off) {
            n = len - off;
        }
        st = bs_proxy_feed(&p, in + off, n, &used);
        off += used;
    }
    check(st == want->st);
    check(off == want->used);
}

static void check_result(const uint8_t *in, const struct outcome *o,
                         size_t max_v2)
{
    const struct bs_proxy_result *r = &o->res;

    check(r->header_len == o->used);
    check(r->version == 1 || r->version == 2);
    if (r->version == 1) {
        check(r->header_len <= BS_PROXY_V1_MAX);
        check(in[r->header_len - 2] == '\r' && in[r->header_len - 1] == '\n');
    } else {
        check(r->header_len >= 16 && r->header_len <= max_v2);
        check(r->header_len == 16u + (size_t) (in[14] << 8 | in[15]));
    }
    switch (r->family) {
    case AF_UNSPEC:
        check(r->src_len == 0 && r->dst_len == 0);
        break;
    case AF_INET: {
        struct sockaddr_in s, d;
        check(r->src_len == sizeof(s) && r->dst_len == sizeof(d));
        check(!r->local);
        memcpy(&s, &r->src, sizeof(s));
        memcpy(&d, &r->dst, sizeof(d));
        if (r->version == 1) {
            char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], line[120];
            inet_ntop(AF_INET, &s.sin_addr, a, sizeof(a));
            inet_ntop(AF_INET, &d.sin_addr, b, sizeof(b));
            snprintf(line, sizeof(line), "PROXY TCP4 %s %s %u %u\r\n", a, b,
                     ntohs(s.sin_port), ntohs(d.sin_port));
            check(strlen(line) == r->header_len);
            check(memcmp(line, in, r->header_len) == 0);
        } else {
            check(memcmp(&s.sin_addr, in + 16, 4) == 0);
            check(memcmp(&d.sin_addr, in + 20, 4) == 0);
            check(ntohs(s.sin_port) == (in[24] << 8 | in[25]));
        }
        break;
    }
    case AF_INET6: {
        struct sockaddr_in6 s;
        check(r->src_len == sizeof(s) && r->dst_len == sizeof(s));
        memcpy(&s, &r->src, sizeof(s));
        if (r->version == 2) {
            check(memcmp(&s.sin6_addr, in + 16, 16) == 0);
        }
        break;
    }
    case AF_UNIX:
        check(r->version == 2);
        check(r->src_len > 2 && r->src_len <= sizeof(struct sockaddr_storage));
        break;
    default:
        check(0);
    }
}

static void fuzz_cidr(const uint8_t *data, size_t size, const struct outcome *o)
{
    char spec[81], err[256], txt[BS_CIDR_STRLEN];
    struct bs_cidr c, again;
    struct sockaddr_storage ss;
    socklen_t len;
    size_t n = 0;

    while (n < size && n < 80 && data[n] != 0 && data[n] != '\n') {
        spec[n] = (char) data[n];
        n++;
    }
    spec[n] = '\0';
    err[0] = '\0';
    if (bs_cidr_parse(spec, &c, err, sizeof(err)) != 0) {
        check(err[0] != '\0');
        return;
    }
    check(c.family == AF_INET || c.family == AF_INET6);
    check(c.prefix <= (c.family == AF_INET ? 32u : 128u));
    bs_cidr_str(&c, txt, sizeof(txt));
    check(bs_cidr_parse(txt, &again, err, sizeof(err)) == 0);
    check(memcmp(&c, &again, sizeof(c)) == 0);
    /* its own network address is inside it */
    memset(&ss, 0, sizeof(ss));
    if (c.family == AF_INET) {
        struct sockaddr_in sin = {.sin_family = AF_INET};
        memcpy(&sin.sin_addr, c.addr, 4);
        memcpy(&ss, &sin, sizeof(sin));
        len = sizeof(sin);
    } else {
        struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
        memcpy(&sin6.sin6_addr, c.addr, 16);
        memcpy(&ss, &sin6, sizeof(sin6));
        len = sizeof(sin6);
    }
    check(bs_cidr_match(&c, (const struct sockaddr *) &ss, len) == 1);
    if (o->st == BS_PROXY_DONE && o->res.family != AF_UNSPEC) {
        int m = bs_cidr_match(&c, (const struct sockaddr *) &o->res.src,
                              o->res.src_len);
        check(m == 0 || m == 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct outcome one, other;
    size_t max_v2;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;

    if (size < 1) {
        return 0;
    }
    max_v2 = (data[0] & 1) ? BS_PROXY_V2_MIN_MAX : 0;
    data++;
    size--;
    for (size_t i = 0; i < size; i++) {
        seed = (seed ^ data[i]) * 0x100000001B3ULL;
    }

    feed(data, size, max_v2, 0, &one);
    if (one.st == BS_PROXY_DONE) {
        check_result(data, &one,
                     max_v2 == 0 ? BS_PROXY_V2_DEFAULT_MAX : max_v2);
    } else if (one.st < 0) {
        check(one.err[0] != '\0');
        for (const char *c = one.err; *c != '\0'; c++) {
            check(*c >= 0x20 && *c < 0x7F);
        }
    } else {
        check(one.st == BS_PROXY_NEED_MORE && one.used == size);
    }
    feed(data, size, max_v2, 1, &other);
    same(&one, &other);
    for (int k = 0; k < 3; k++) {
        feed(data, size, max_v2, seed | 2u, &other);
        same(&one, &other);
        rng_next(&seed);
    }
    exact_reads(data, size, max_v2, &one);
    fuzz_cidr(data, size, &one);
    return 0;
}
