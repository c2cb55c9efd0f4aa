/*
 * test_proxy.c - the PROXY protocol header parser (src/lib/proxy.c).
 *
 * Every case goes through run(): the input is fed whole, one byte at a
 * time, split in two at every boundary, and through the exact-read loop a
 * server uses (reads of bs_proxy_want bytes from a stream in which TLS
 * bytes follow the header).  Each piece sits in its own exact-size heap
 * block so ASan sees a read past len.  All ways must give the same
 * status, the same bytes consumed, the same result and the same error
 * text; the exact-read loop must never take a byte past the header.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy.h"

/* ---- helpers ------------------------------------------------------- */

static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* What the TLS client sends after the header: must never be consumed. */
static const uint8_t tls_tail[5] = {0x16, 0x03, 0x01, 0x02, 0x00};

struct outcome {
    int st;
    size_t used;
    struct bs_proxy_result res;
    char err[BS_PROXY_ERRLEN];
};

/* Feed pieces of in (cuts: ascending split points) into a fresh parser. */
static void feed_pieces(const uint8_t *in, size_t len, size_t max_v2,
                        const size_t *cuts, size_t ncuts, struct outcome *o)
{
    struct bs_proxy_parser p;
    size_t start = 0;

    bs_proxy_init(&p, max_v2);
    memset(o, 0, sizeof(*o));
    o->st = BS_PROXY_NEED_MORE;
    for (size_t c = 0; c <= ncuts; c++) {
        size_t end = c < ncuts ? cuts[c] : len;
        size_t n = end - start, used = 99999;
        uint8_t *piece = malloc(n > 0 ? n : 1);
        int st;

        assert_non_null(piece);
        memcpy(piece, in + start, n);
        st = bs_proxy_feed(&p, n > 0 ? piece : NULL, n, &used);
        free(piece);
        assert_true(used <= n);
        if (o->st == BS_PROXY_NEED_MORE) {
            o->used += used;
            o->st = st;
            if (st == BS_PROXY_NEED_MORE) {
                assert_int_equal(used, n);
                assert_true(bs_proxy_want(&p) >= 1);
            } else {
                assert_int_equal(bs_proxy_want(&p), 0);
            }
        } else {
            /* sticky: same answer, nothing consumed */
            assert_int_equal(st, o->st);
            assert_int_equal(used, 0);
        }
        start = end;
    }
    if (o->st == BS_PROXY_DONE) {
        assert_non_null(bs_proxy_result(&p));
        o->res = *bs_proxy_result(&p);
        assert_string_equal(bs_proxy_error(&p), "");
    } else {
        assert_null(bs_proxy_result(&p));
        snprintf(o->err, sizeof(o->err), "%s", bs_proxy_error(&p));
        if (o->st < 0) {
            assert_true(strlen(o->err) > 10);
        }
    }
}

static void same(const struct outcome *a, const struct outcome *b)
{
    assert_int_equal(a->st, b->st);
    assert_int_equal(a->used, b->used);
    assert_string_equal(a->err, b->err);
    assert_memory_equal(&a->res, &b->res, sizeof(a->res));
}

/* A server's loop: read exactly bs_proxy_want bytes at a time from the
 * header followed by TLS bytes; the TLS bytes must still be unread. */
static void exact_reads(const uint8_t *in, size_t len, size_t max_v2,
                        const struct outcome *want)
{
    struct bs_proxy_parser p;
    uint8_t *stream = malloc(len + sizeof(tls_tail));
    size_t off = 0;
    int st = BS_PROXY_NEED_MORE;

    assert_non_null(stream);
    memcpy(stream, in, len);
    memcpy(stream + len, tls_tail, sizeof(tls_tail));
    bs_proxy_init(&p, max_v2);
    for (int rounds = 0; st == BS_PROXY_NEED_MORE && off < len; rounds++) {
        size_t n = bs_proxy_want(&p), used;
        assert_true(n >= 1);
        assert_true(rounds < 200);
        if (want->st == BS_PROXY_DONE) {
            /* the heart of it: never read into the TLS bytes */
            assert_true(off + n <= want->used);
        }
        if (off + n > len + sizeof(tls_tail)) {
            n = len + sizeof(tls_tail) - off;
        }
        st = bs_proxy_feed(&p, stream + off, n, &used);
        assert_true(st != BS_PROXY_DONE || used == n);
        off += used;
    }
    if (want->st != BS_PROXY_NEED_MORE) {
        assert_int_equal(st, want->st);
        assert_int_equal(off, want->used);
    }
    free(stream);
}

/* All ways of feeding in agree; returns the one-shot outcome. */
static void run(const uint8_t *in, size_t len, size_t max_v2, struct outcome *o)
{
    struct outcome other;
    size_t *cuts = malloc((len + 1) * sizeof(*cuts));

    assert_non_null(cuts);
    feed_pieces(in, len, max_v2, NULL, 0, o);
    for (size_t i = 0; i < len; i++) {
        cuts[i] = i + 1;
    }
    feed_pieces(in, len, max_v2, cuts, len > 0 ? len - 1 : 0, &other);
    same(o, &other);
    for (size_t k = 0; k <= len; k++) {
        cuts[0] = k;
        feed_pieces(in, len, max_v2, cuts, 1, &other);
        same(o, &other);
    }
    free(cuts);
    exact_reads(in, len, max_v2, o);
}

/* The input plus TLS bytes after it: DONE, consuming exactly the header. */
static struct bs_proxy_result ok(const uint8_t *in, size_t len, size_t max_v2)
{
    uint8_t *withtail = malloc(len + sizeof(tls_tail));
    struct outcome o;

    assert_non_null(withtail);
    memcpy(withtail, in, len);
    memcpy(withtail + len, tls_tail, sizeof(tls_tail));
    run(withtail, len + sizeof(tls_tail), max_v2, &o);
    free(withtail);
    if (o.st != BS_PROXY_DONE) {
        fail_msg("expected DONE, got %s: %s", bs_proxy_status_name(o.st),
                 o.err);
    }
    assert_int_equal(o.used, len);
    assert_int_equal(o.res.header_len, len);
    return o.res;
}

static struct bs_proxy_result ok_str(const char *s)
{
    return ok((const uint8_t *) s, strlen(s), 0);
}

/* Refused with st after consuming `at` bytes (0: do not check), with
 * words in the message. */
static void bad(const uint8_t *in, size_t len, size_t max_v2, int st, size_t at,
                const char *words)
{
    struct outcome o;

    run(in, len, max_v2, &o);
    if (o.st != st) {
        char shown[80];
        size_t k;
        for (k = 0; k < len && k + 1 < sizeof(shown); k++) {
            shown[k] = in[k] >= 0x20 && in[k] < 0x7F ? (char) in[k] : '.';
        }
        shown[k] = '\0';
        fail_msg("'%s': expected %s, got %s (%s)", shown,
                 bs_proxy_status_name(st), bs_proxy_status_name(o.st), o.err);
    }
    if (at != 0) {
        assert_int_equal(o.used, at);
    }
    if (strstr(o.err, words) == NULL) {
        fail_msg("error '%s' does not say '%s'", o.err, words);
    }
}

static void bad_str(const char *s, int st, const char *words)
{
    bad((const uint8_t *) s, strlen(s), 0, st, 0, words);
}

/* *ss, of len bytes, holds the address addr of family and port. */
static void check_addr(const struct sockaddr_storage *ss, socklen_t len,
                       int family, const char *addr, unsigned port)
{
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } u;
    int v6 = family == AF_INET6;
    char txt[INET6_ADDRSTRLEN];

    assert_int_equal(len, v6 ? sizeof(u.v6) : sizeof(u.v4));
    assert_int_equal(ss->ss_family, family);
    memcpy(&u, ss, len);
    assert_non_null(inet_ntop(family,
                              v6 ? (const void *) &u.v6.sin6_addr
                                 : (const void *) &u.v4.sin_addr,
                              txt, sizeof(txt)));
    assert_string_equal(txt, addr);
    assert_int_equal(ntohs(v6 ? u.v6.sin6_port : u.v4.sin_port), port);
}

/* r is from a version 1 or 2 header, local (a v2 LOCAL) or not, for
 * family and socktype. */
static void expect_header(const struct bs_proxy_result *r, int version,
                          int local, int family, int socktype)
{
    assert_int_equal(r->version, version);
    assert_int_equal(r->local, local);
    assert_int_equal(r->family, family);
    assert_int_equal(r->socktype, socktype);
}

/* A v2 header: ver_cmd, fam, then body (addresses and TLVs). */
static size_t v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam,
                 const uint8_t *body, size_t blen)
{
    memcpy(out, sig, 12);
    out[12] = ver_cmd;
    out[13] = fam;
    out[14] = (uint8_t) (blen >> 8);
    out[15] = (uint8_t) blen;
    if (blen > 0) {
        memcpy(out + 16, body, blen);
    }
    return 16 + blen;
}

/* IPv4 block: 192.0.2.1:51234 -> 198.51.100.7:443 */
static const uint8_t v4_block[12] = {192, 0, 2,    1,    198,  51,
                                     100, 7, 0xC8, 0x22, 0x01, 0xBB};

/* ---- version 1 ----------------------------------------------------- */

static void test_v1_tcp4(void **state)
{
    struct bs_proxy_result r;

    (void) state;
    r = ok_str("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
    expect_header(&r, 1, 0, AF_INET, SOCK_STREAM);
    check_addr(&r.src, r.src_len, AF_INET, "192.168.0.1", 56324);
    check_addr(&r.dst, r.dst_len, AF_INET, "192.168.0.11", 443);

    r = ok_str("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n");
    check_addr(&r.src, r.src_len, AF_INET, "0.0.0.0", 0);
    check_addr(&r.dst, r.dst_len, AF_INET, "255.255.255.255", 65535);
    /* the spec's longest TCP4 line, 56 bytes */
    r = ok_str("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n");
    assert_int_equal(r.header_len, 56);
}

static void test_v1_tcp6(void **state)
{
    struct bs_proxy_result r;

    (void) state;
    r = ok_str("PROXY TCP6 2001:db8::1 ::1 51234 443\r\n");
    assert_int_equal(r.family, AF_INET6);
    check_addr(&r.src, r.src_len, AF_INET6, "2001:db8::1", 51234);
    check_addr(&r.dst, r.dst_len, AF_INET6, "::1", 443);
    r = ok_str("PROXY TCP6 :: :: 0 0\r\n");
    check_addr(&r.src, r.src_len, AF_INET6, "::", 0);
    /* upper case, full groups, embedded IPv4 */
    r = ok_str("PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:00FF "
               "::ffff:192.0.2.1 1 2\r\n");
    check_addr(&r.src, r.src_len, AF_INET6, "2001:db8::ff", 1);
    check_addr(&r.dst, r.dst_len, AF_INET6, "::ffff:192.0.2.1", 2);
    /* the spec's longest TCP6 line, 104 bytes */
    r = ok_str("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n");
    assert_int_equal(r.header_len, 104);
}

static void test_v1_unknown(void **state)
{
    struct bs_proxy_result r;
    char line[200];

    (void) state;
    r = ok_str("PROXY UNKNOWN\r\n");
    assert_int_equal(r.family, AF_UNSPEC);
    assert_int_equal(r.src_len, 0);
    assert_int_equal(r.header_len, 15);
    /* anything up to the CRLF is ignored */
    r = ok_str("PROXY UNKNOWN whatever  is here\r\n");
    assert_int_equal(r.family, AF_UNSPEC);
    /* the worst case: 107 bytes */
    snprintf(line, sizeof(line), "PROXY UNKNOWN %s %s 65535 65535\r\n",
             "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
             "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assert_int_equal(strlen(line), 107);
    r = ok_str(line);
    assert_int_equal(r.header_len, 107);
    /* one byte more and it is refused, at the 107th byte */
    snprintf(line, sizeof(line), "PROXY UNKNOWN %s %s 65535 655355\r\n",
             "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
             "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    bad((const uint8_t *) line, strlen(line), 0, BS_PROXY_E_TOO_LONG, 107,
        "no CRLF in the first 107 bytes");
}

static void test_v1_malformed(void **state)
{
    /* a line, and words its error must hold */
    struct bad_line {
        const char *in, *words;
    };
    static const struct bad_line malformed[] = {
        /* line ends */
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "lone LF"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "CR not followed by LF"},
        {"PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n", "CR not followed by LF"},
        {"PROXY UNKNOWN a\nb\r\n", "lone LF"},
        /* spaces and fields */
        {"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "protocol"},
        {"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "empty field"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", "empty field"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "a space before the CRLF"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2  \r\n", "got more"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n", "empty field"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "got fewer"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "got more"},
        {"PROXY TCP4\r\n", "addresses and ports"},
        {"PROXY TCP4 \r\n", "empty field"},
        {"PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not followed by a space"},
        {"PROXY\r\n", "not followed by a space"},
        /* protocol word */
        {"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "protocol 'TCP5'"},
        {"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "protocol 't'"},
        {"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "protocol 'U"},
        {"PROXY UNKNOWNX\r\n", "protocol"},
        {"PROXY \r\n", "protocol"},
        /* IPv4 */
        {"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
         "source address '01.2.3.4' is not an IPv4"},
        {"PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n",
         "destination address '5.6.7.08'"},
        {"PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n", "'256.2.3.4'"},
        {"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "'1.2.3'"},
        {"PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", "'1.2.3.4.5'"},
        {"PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", "'1..3.4'"},
        {"PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n", "'1.2.3.4.'"},
        {"PROXY TCP4 1.2.3.1000 5.6.7.8 1 2\r\n", "'1.2.3.1000'"},
        {"PROXY TCP4 ::1 ::1 1 2\r\n", "is not an IPv4 address"},
        {"PROXY TCP4 1.2.3.-4 5.6.7.8 1 2\r\n", "is not an IPv4 address"},
        /* IPv6 */
        {"PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "'1.2.3.4' is not an IPv6 address"},
        {"PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "not an IPv6 address"},
        {"PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", "not an IPv6 address"},
        {"PROXY TCP6 12345::1 ::1 1 2\r\n", "not an IPv6 address"},
        {"PROXY TCP6 1::2::3 ::1 1 2\r\n", "not an IPv6 address"},
        {"PROXY TCP6 ::1 [::1] 1 2\r\n", "destination address '[::1]'"},
        {"PROXY TCP6 ::g ::1 1 2\r\n", "not an IPv6 address"},
        /* ports */
        {"PROXY TCP4 1.2.3.4 5.6.7.8 065535 2\r\n", "source port '065535'"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n", "source port '00'"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", "destination port '65536'"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n", "destination port"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "source port '-1'"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "source port '+1'"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1a 2\r\n", "source port '1a'"},
        {"PROXY TCP4 1.2.3.4 5.6.7.8 0x10 2\r\n", "source port '0x10'"},
    };
    static const struct bad_line not_proxy[] = {
        {"GET / HTTP/1.1\r\n", "does not start with a PROXY"},
        {"PROXX TCP4\r\n", "does not start"},
        {"proxy TCP4\r\n", "does not start"},
        {"\r\n\r\n\x01", "does not start"},
        {" PROXY", "does not start"},
        {"\x16\x03\x01\x00\xc8\x01", "send-proxy-v2"},
    };

    (void) state;
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        bad_str(malformed[i].in, BS_PROXY_E_MALFORMED, malformed[i].words);
    }
    for (size_t i = 0; i < sizeof(not_proxy) / sizeof(not_proxy[0]); i++) {
        bad_str(not_proxy[i].in, BS_PROXY_E_NOT_PROXY, not_proxy[i].words);
    }
}

/* Refused as early as the spec allows: the byte that is wrong. */
static void test_v1_early(void **state)
{
    static const uint8_t nul_line[] = "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n";
    uint8_t line[300];

    (void) state;
    bad((const uint8_t *) "GET /", 5, 0, BS_PROXY_E_NOT_PROXY, 1, "start");
    bad((const uint8_t *) "PROXZ", 5, 0, BS_PROXY_E_NOT_PROXY, 5, "start");
    bad((const uint8_t *) "PROXY TCP5 ", 11, 0, BS_PROXY_E_MALFORMED, 10,
        "TCP5");
    bad((const uint8_t *) "PROXY TCP4\n", 11, 0, BS_PROXY_E_MALFORMED, 11,
        "lone LF");
    /* a NUL in a TCP4 line is caught at the CRLF */
    bad(nul_line, sizeof(nul_line) - 1, 0, BS_PROXY_E_MALFORMED, 0,
        "'1.2.3.4?'");
    /* 300 bytes of an endless line: refused at byte 107, not later */
    memcpy(line, "PROXY UNKNOWN ", 14);
    memset(line + 14, 'x', sizeof(line) - 14);
    bad(line, sizeof(line), 0, BS_PROXY_E_TOO_LONG, 107, "107");
    /* ... also when the CR is the 107th byte */
    line[106] = '\r';
    bad(line, sizeof(line), 0, BS_PROXY_E_TOO_LONG, 107, "107");
}

/* ---- version 2 ----------------------------------------------------- */

static void test_v2_ipv4(void **state)
{
    uint8_t h[64];
    struct bs_proxy_result r;

    (void) state;
    r = ok(h, v2(h, 0x21, 0x11, v4_block, sizeof(v4_block)), 0);
    expect_header(&r, 2, 0, AF_INET, SOCK_STREAM);
    assert_int_equal(r.header_len, 28);
    assert_int_equal(r.tlv_count, 0);
    check_addr(&r.src, r.src_len, AF_INET, "192.0.2.1", 51234);
    check_addr(&r.dst, r.dst_len, AF_INET, "198.51.100.7", 443);
    /* UDP over IPv4: parsed, and said so */
    r = ok(h, v2(h, 0x21, 0x12, v4_block, sizeof(v4_block)), 0);
    assert_int_equal(r.family, AF_INET);
    assert_int_equal(r.socktype, SOCK_DGRAM);
}

static void test_v2_ipv6(void **state)
{
    uint8_t body[36] = {0x20,     0x01,        0x0d,        0xb8,     [15] = 1,
                        [31] = 1, [32] = 0xFF, [33] = 0xFF, [34] = 0, [35] = 0};
    uint8_t h[64];
    struct bs_proxy_result r;

    (void) state;
    r = ok(h, v2(h, 0x21, 0x21, body, sizeof(body)), 0);
    assert_int_equal(r.family, AF_INET6);
    assert_int_equal(r.socktype, SOCK_STREAM);
    check_addr(&r.src, r.src_len, AF_INET6, "2001:db8::1", 65535);
    check_addr(&r.dst, r.dst_len, AF_INET6, "::1", 0);
}

static void test_v2_unix(void **state)
{
    uint8_t body[216] = {0};
    uint8_t h[300];
    struct bs_proxy_result r;
    struct sockaddr_un sun;

    (void) state;
    memcpy(body, "/run/client.sock", 16);
    body[108] = 0; /* abstract destination "\0bitstuff" */
    memcpy(body + 109, "bitstuff", 8);
    r = ok(h, v2(h, 0x21, 0x31, body, sizeof(body)), 0);
    assert_int_equal(r.family, AF_UNIX);
    assert_int_equal(r.socktype, SOCK_STREAM);
    memcpy(&sun, &r.src, sizeof(sun));
    assert_int_equal(sun.sun_family, AF_UNIX);
    assert_string_equal(sun.sun_path, "/run/client.sock");
    assert_int_equal(r.src_len, offsetof(struct sockaddr_un, sun_path) + 17);
    memcpy(&sun, &r.dst, sizeof(sun));
    assert_int_equal(sun.sun_path[0], 0);
    assert_memory_equal(sun.sun_path + 1, "bitstuff", 8);
    assert_int_equal(r.dst_len, sizeof(struct sockaddr_un));
}

static void test_v2_local(void **state)
{
    uint8_t h[300], junk[40];
    struct bs_proxy_result r;

    (void) state;
    /* HAProxy's health check: LOCAL, UNSPEC, no addresses */
    r = ok(h, v2(h, 0x20, 0x00, NULL, 0), 0);
    assert_int_equal(r.local, 1);
    assert_int_equal(r.family, AF_UNSPEC);
    assert_int_equal(r.src_len, 0);
    assert_int_equal(r.header_len, 16);
    /* LOCAL with addresses: the block is skipped, the family ignored
     * (even one that a PROXY header may not carry) */
    r = ok(h, v2(h, 0x20, 0x11, v4_block, sizeof(v4_block)), 0);
    assert_int_equal(r.local, 1);
    assert_int_equal(r.family, AF_UNSPEC);
    assert_int_equal(r.src_len, 0);
    memset(junk, 0xEE, sizeof(junk));
    r = ok(h, v2(h, 0x20, 0xFF, junk, sizeof(junk)), 0);
    assert_int_equal(r.local, 1);
    assert_int_equal(r.header_len, 56);
    /* PROXY with an unspecified family or protocol: accepted, addresses
     * not used, block skipped */
    r = ok(h, v2(h, 0x21, 0x00, junk, 5), 0);
    assert_int_equal(r.local, 0);
    assert_int_equal(r.family, AF_UNSPEC);
    assert_int_equal(r.socktype, 0);
    r = ok(h, v2(h, 0x21, 0x10, junk, 3), 0);
    assert_int_equal(r.family, AF_UNSPEC);
    r = ok(h, v2(h, 0x21, 0x01, NULL, 0), 0);
    assert_int_equal(r.family, AF_UNSPEC);
    assert_int_equal(r.socktype, SOCK_STREAM);
}

/* Append a TLV to body at *n. */
static void tlv(uint8_t *body, size_t *n, uint8_t type, const void *v,
                size_t len)
{
    body[(*n)++] = type;
    body[(*n)++] = (uint8_t) (len >> 8);
    body[(*n)++] = (uint8_t) len;
    if (len > 0) {
        memcpy(body + *n, v, len);
    }
    *n += len;
}

static void test_v2_tlvs(void **state)
{
    /* PP2_TYPE_SSL: client 0x01, verify 0, a nested VERSION sub-TLV */
    static const uint8_t ssl[] = {0x01, 0,   0,   0,   0,   0x21, 0,  7,
                                  'T',  'L', 'S', 'v', '1', '.',  '3'};
    uint8_t body[4200], h[4300], pad[4100];
    size_t n = sizeof(v4_block);
    struct bs_proxy_result r;

    (void) state;
    memcpy(body, v4_block, n);
    tlv(body, &n, 0x01, "bitstuff/1", 10);       /* ALPN */
    tlv(body, &n, 0x02, "bitstuff.example", 16); /* AUTHORITY */
    tlv(body, &n, 0x04, NULL, 0);                /* NOOP, empty */
    tlv(body, &n, 0x05, "0123456789abcdef", 16); /* UNIQUE_ID */
    tlv(body, &n, 0x20, ssl, sizeof(ssl));       /* SSL */
    tlv(body, &n, 0xE0, "custom", 6);            /* PP2_TYPE_MIN_CUSTOM */
    r = ok(h, v2(h, 0x21, 0x11, body, n), 0);
    assert_int_equal(r.tlv_count, 6);
    assert_int_equal(r.crc_checked, 0);
    check_addr(&r.src, r.src_len, AF_INET, "192.0.2.1", 51234);

    /* a TLV that fills a 4 KiB header exactly is fine; one byte more is
     * not, and is refused at byte 16, before the rest is read */
    memset(pad, 'n', sizeof(pad));
    n = sizeof(v4_block);
    tlv(body, &n, 0x04, pad, 4096 - 16 - 12 - 3);
    r = ok(h, v2(h, 0x21, 0x11, body, n), 0);
    assert_int_equal(r.header_len, 4096);
    n = sizeof(v4_block);
    tlv(body, &n, 0x04, pad, 4096 - 16 - 12 - 3 + 1);
    bad(h, v2(h, 0x21, 0x11, body, n), 0, BS_PROXY_E_TOO_LONG, 16,
        "4097 bytes, more than the 4096");
    /* ... unless the caller allows more */
    r = ok(h, v2(h, 0x21, 0x11, body, n), 8192);
    assert_int_equal(r.header_len, 4097);
}

static void test_v2_crc32c(void **state)
{
    uint8_t body[100], h[200], zero[4] = {0};
    size_t n = sizeof(v4_block), len, at;
    uint32_t crc;
    struct bs_proxy_result r;

    (void) state;
    /* the check value of CRC-32C (RFC 3720 B.4 / the Castagnoli CRC) */
    assert_int_equal(bs_proxy_crc32c(0, (const uint8_t *) "123456789", 9),
                     0xE3069283u);
    assert_int_equal(
        bs_proxy_crc32c(bs_proxy_crc32c(0, (const uint8_t *) "1234", 4),
                        (const uint8_t *) "56789", 5),
        0xE3069283u);

    memcpy(body, v4_block, n);
    tlv(body, &n, 0x01, "h2", 2);
    at = n + 3; /* where the CRC value goes */
    tlv(body, &n, 0x03, zero, 4);
    tlv(body, &n, 0x04, "pad", 3);
    len = v2(h, 0x21, 0x11, body, n);
    crc = bs_proxy_crc32c(0, h, len); /* over the header, field zeroed */
    h[16 + at] = (uint8_t) (crc >> 24);
    h[16 + at + 1] = (uint8_t) (crc >> 16);
    h[16 + at + 2] = (uint8_t) (crc >> 8);
    h[16 + at + 3] = (uint8_t) crc;
    r = ok(h, len, 0);
    assert_int_equal(r.crc_checked, 1);
    assert_int_equal(r.tlv_count, 3);

    /* any flipped bit, in the addresses or in the CRC, is caught */
    for (size_t i = 16; i < len; i++) {
        h[i] ^= 0x10;
        if (i < 16 + 12 || (i >= 16 + at && i < 16 + at + 4)) {
            bad(h, len, 0, BS_PROXY_E_CHECKSUM, len, "CRC32c TLV says");
        }
        h[i] ^= 0x10;
    }
    r = ok(h, len, 0);
    assert_int_equal(r.crc_checked, 1);
}

static void test_v2_malformed(void **state)
{
    uint8_t body[300], h[400];
    size_t n;

    (void) state;
    /* versions and commands */
    bad(h, v2(h, 0x11, 0x11, v4_block, 12), 0, BS_PROXY_E_VERSION, 13,
        "version 1; only version 2");
    bad(h, v2(h, 0x31, 0x11, v4_block, 12), 0, BS_PROXY_E_VERSION, 13,
        "version 3");
    bad(h, v2(h, 0x01, 0x11, v4_block, 12), 0, BS_PROXY_E_VERSION, 13,
        "version 0");
    bad(h, v2(h, 0x22, 0x11, v4_block, 12), 0, BS_PROXY_E_COMMAND, 13,
        "command 2");
    bad(h, v2(h, 0x2F, 0x11, v4_block, 12), 0, BS_PROXY_E_COMMAND, 13,
        "command 15");
    /* families and protocols outside the spec */
    bad(h, v2(h, 0x21, 0x41, v4_block, 12), 0, BS_PROXY_E_FAMILY, 14, "0x41");
    bad(h, v2(h, 0x21, 0x13, v4_block, 12), 0, BS_PROXY_E_FAMILY, 14, "0x13");
    bad(h, v2(h, 0x21, 0xFF, v4_block, 12), 0, BS_PROXY_E_FAMILY, 14, "0xff");
    /* length shorter than the address block */
    bad(h, v2(h, 0x21, 0x11, v4_block, 11), 0, BS_PROXY_E_MALFORMED, 16,
        "length 11 is shorter than the 12-byte address block");
    bad(h, v2(h, 0x21, 0x21, body, 35), 0, BS_PROXY_E_MALFORMED, 16, "36-byte");
    bad(h, v2(h, 0x21, 0x31, body, 215), 0, BS_PROXY_E_MALFORMED, 16,
        "216-byte");
    bad(h, v2(h, 0x21, 0x11, NULL, 0), 0, BS_PROXY_E_MALFORMED, 16, "length 0");
    /* TLVs that do not fit */
    memcpy(body, v4_block, 12);
    n = 12;
    tlv(body, &n, 0x01, "h2", 2);
    body[n - 3] = 3; /* says 3, 2 are there */
    bad(h, v2(h, 0x21, 0x11, body, n), 0, BS_PROXY_E_MALFORMED, 16 + 12 + 3,
        "TLV type 0x01 says 3 bytes, only 2 are left");
    body[n - 4] = 0xFF; /* says 65283 */
    bad(h, v2(h, 0x21, 0x11, body, n), 0, BS_PROXY_E_MALFORMED, 16 + 12 + 3,
        "only 2 are left");
    /* bytes after the last TLV too few for another */
    n = 12;
    tlv(body, &n, 0x01, "h2", 2);
    body[n++] = 0x04;
    bad(h, v2(h, 0x21, 0x11, body, n), 0, BS_PROXY_E_MALFORMED, 16 + 17 + 1,
        "1 byte(s) after the last TLV");
    body[n++] = 0x00;
    bad(h, v2(h, 0x21, 0x11, body, n), 0, BS_PROXY_E_MALFORMED, 16 + 17 + 1,
        "2 byte(s) after the last TLV");
    /* CRC32c TLV of the wrong size, or twice */
    n = 12;
    tlv(body, &n, 0x03, "abc", 3);
    bad(h, v2(h, 0x21, 0x11, body, n), 0, BS_PROXY_E_MALFORMED, 16 + 15,
        "CRC32c TLV of 3 bytes");
    n = 12;
    tlv(body, &n, 0x03, "abcd", 4);
    tlv(body, &n, 0x03, "abcd", 4);
    bad(h, v2(h, 0x21, 0x11, body, n), 0, BS_PROXY_E_MALFORMED, 16 + 22,
        "two CRC32c TLVs");
    /* a damaged signature */
    for (size_t i = 1; i < 12; i++) {
        v2(h, 0x21, 0x11, v4_block, 12);
        h[i] ^= 0x01;
        bad(h, 28, 0, BS_PROXY_E_NOT_PROXY, i + 1, "does not start");
    }
    /* the v2 signature then the v1 text */
    memcpy(h, sig, 12);
    memcpy(h + 12, "PROXY TCP4", 10);
    bad(h, 22, 0, BS_PROXY_E_VERSION, 13, "version 5");
}

static void test_v2_too_long(void **state)
{
    uint8_t h[16];

    (void) state;
    /* 16 + 65535 announced: refused at once, whatever follows */
    memcpy(h, sig, 12);
    h[12] = 0x21;
    h[13] = 0x11;
    h[14] = 0xFF;
    h[15] = 0xFF;
    bad(h, 16, 0, BS_PROXY_E_TOO_LONG, 16, "65551 bytes");
    /* the largest max_v2 takes it in; the smallest is 232 */
    {
        struct bs_proxy_parser p;
        size_t used;
        bs_proxy_init(&p, SIZE_MAX);
        assert_int_equal(bs_proxy_feed(&p, h, 16, &used), BS_PROXY_NEED_MORE);
        assert_int_equal(bs_proxy_want(&p), 65535);
        bs_proxy_init(&p, 1);
        h[14] = 0;
        h[15] = 217; /* 233 bytes */
        assert_int_equal(bs_proxy_feed(&p, h, 16, &used), BS_PROXY_E_TOO_LONG);
        assert_non_null(strstr(bs_proxy_error(&p), "than the 232"));
    }
}

/* ---- the API's small print ----------------------------------------- */

static void test_want_and_sticky(void **state)
{
    struct bs_proxy_parser p;
    const uint8_t *line =
        (const uint8_t *) "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
    uint8_t h[64];
    size_t used;

    (void) state;
    bs_proxy_init(&p, 0);
    assert_int_equal(bs_proxy_want(&p), 15);
    assert_int_equal(bs_proxy_feed(&p, NULL, 0, &used), BS_PROXY_NEED_MORE);
    assert_int_equal(used, 0);
    assert_int_equal(bs_proxy_feed(&p, line, 11, &used), BS_PROXY_NEED_MORE);
    assert_int_equal(bs_proxy_want(&p), 32 - 11); /* a TCP4 line's least */
    assert_int_equal(bs_proxy_feed(&p, line + 11, 20, &used),
                     BS_PROXY_NEED_MORE);
    assert_int_equal(bs_proxy_want(&p), 1); /* after the CR */
    assert_int_equal(bs_proxy_feed(&p, line + 31, 1, &used), BS_PROXY_DONE);
    assert_int_equal(bs_proxy_want(&p), 0);
    assert_int_equal(bs_proxy_feed(&p, line, 5, &used), BS_PROXY_DONE);
    assert_int_equal(used, 0);

    bs_proxy_init(&p, 0);
    assert_int_equal(
        bs_proxy_feed(&p, h, v2(h, 0x21, 0x11, v4_block, 12) - 12, &used),
        BS_PROXY_NEED_MORE);
    assert_int_equal(bs_proxy_want(&p), 12);
    assert_null(bs_proxy_result(&p));

    bs_proxy_init(&p, 0);
    assert_int_equal(bs_proxy_feed(&p, (const uint8_t *) "X", 1, &used),
                     BS_PROXY_E_NOT_PROXY);
    assert_int_equal(bs_proxy_feed(&p, line, 10, &used), BS_PROXY_E_NOT_PROXY);
    assert_int_equal(used, 0);
    assert_int_equal(bs_proxy_want(&p), 0);
    assert_null(bs_proxy_result(&p));

    assert_string_equal(bs_proxy_status_name(BS_PROXY_E_TOO_LONG), "too-long");
    assert_string_equal(bs_proxy_status_name(BS_PROXY_DONE), "done");
    assert_string_equal(bs_proxy_status_name(42), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_tcp4),
        cmocka_unit_test(test_v1_tcp6),
        cmocka_unit_test(test_v1_unknown),
        cmocka_unit_test(test_v1_malformed),
        cmocka_unit_test(test_v1_early),
        cmocka_unit_test(test_v2_ipv4),
        cmocka_unit_test(test_v2_ipv6),
        cmocka_unit_test(test_v2_unix),
        cmocka_unit_test(test_v2_local),
        cmocka_unit_test(test_v2_tlvs),
        cmocka_unit_test(test_v2_crc32c),
        cmocka_unit_test(test_v2_malformed),
        cmocka_unit_test(test_v2_too_long),
        cmocka_unit_test(test_want_and_sticky),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
