/*
 * test_cidr.c - address ranges (src/lib/cidr.c): parsing, errors, the
 * canonical text, and matching IPv4, IPv6 and IPv4-mapped peers.
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

#include "cidr.h"

static struct bs_cidr parse_ok(const char *spec, const char *canonical)
{
    struct bs_cidr c;
    char err[256] = "", txt[BS_CIDR_STRLEN];

    if (bs_cidr_parse(spec, &c, err, sizeof(err)) != 0) {
        fail_msg("'%s' refused: %s", spec, err);
    }
    bs_cidr_str(&c, txt, sizeof(txt));
    assert_string_equal(txt, canonical);
    return c;
}

static void parse_bad(const char *spec, const char *words)
{
    struct bs_cidr c;
    char err[256] = "";

    memset(&c, 0x5A, sizeof(c));
    assert_int_equal(bs_cidr_parse(spec, &c, err, sizeof(err)), -1);
    if (strstr(err, words) == NULL) {
        fail_msg("'%s': error '%s' does not say '%s'", spec ? spec : "(null)",
                 err, words);
    }
    /* untouched on failure */
    for (size_t i = 0; i < sizeof(c); i++) {
        assert_int_equal(((const uint8_t *) &c)[i], 0x5A);
    }
}

/* A sockaddr for text (an IPv4 or IPv6 address) and port. */
static socklen_t sa_of(const char *text, struct sockaddr_storage *ss)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;

    memset(ss, 0, sizeof(*ss));
    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));
    if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
        sin.sin_family = AF_INET;
        sin.sin_port = htons(4433);
        memcpy(ss, &sin, sizeof(sin));
        return sizeof(sin);
    }
    assert_int_equal(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(4433);
    memcpy(ss, &sin6, sizeof(sin6));
    return sizeof(sin6);
}

static int matches(const char *rule, const char *addr)
{
    struct bs_cidr c;
    struct sockaddr_storage ss;
    socklen_t len = sa_of(addr, &ss);
    char err[256];

    assert_int_equal(bs_cidr_parse(rule, &c, err, sizeof(err)), 0);
    return bs_cidr_match(&c, (const struct sockaddr *) &ss, len);
}

/* Rule, address, and whether the one matches the other. */
struct match_case {
    const char *rule, *addr;
    int want;
};

static void test_parse(void **state)
{
    /* what is given, and how it reads back: its family and prefix too */
    static const struct {
        const char *spec, *canonical;
    } cases[] = {
        {"10.0.0.0/8", "10.0.0.0/8"},
        {"127.0.0.1", "127.0.0.1/32"},
        {"0.0.0.0/0", "0.0.0.0/0"},
        {"192.168.1.128/25", "192.168.1.128/25"},
        {"255.255.255.255/32", "255.255.255.255/32"},
        {"::1/128", "::1/128"},
        {"::1", "::1/128"},
        {"fd00::/8", "fd00::/8"},
        {"::/0", "::/0"},
        {"2001:DB8::/32", "2001:db8::/32"},
        {"2001:db8:0:0:0:0:0:0/33", "2001:db8::/33"},
        /* IPv4-mapped ranges are stored as the IPv4 range they mean */
        {"::ffff:10.0.0.0/104", "10.0.0.0/8"},
        {"::ffff:192.0.2.1", "192.0.2.1/32"},
        {"::ffff:0:0/96", "0.0.0.0/0"},
        /* ... but not a wider one, which is an IPv6 range */
        {"::fffe:0:0/95", "::fffe:0:0/95"},
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *want = cases[i].canonical;
        struct bs_cidr c = parse_ok(cases[i].spec, want);

        assert_int_equal(c.family, strchr(want, ':') ? AF_INET6 : AF_INET);
        assert_int_equal(c.prefix, atoi(strrchr(want, '/') + 1));
    }
}

static void test_parse_errors(void **state)
{
    (void) state;
    parse_bad("10.0.0.0/33", "prefix length 33 is longer than 32 for IPv4");
    parse_bad("::/129", "prefix length 129 is longer than 128 for IPv6");
    parse_bad("10.0.0.0/4294967304", "number 0-32");
    parse_bad("10.0.0.0/", "number 0-32");
    parse_bad("10.0.0.0/08", "without leading zeros");
    parse_bad("10.0.0.0/-1", "number");
    parse_bad("10.0.0.0/+8", "number");
    parse_bad("10.0.0.0/8 ", "number");
    parse_bad("10.0.0.0/8/8", "number");
    parse_bad("10.0.0.0/0x8", "number");
    parse_bad("10.1.2.3/8", "bits set past the /8 prefix; did you mean "
                            "10.0.0.0/8?");
    parse_bad("fd00::1/8", "did you mean fd00::/8?");
    parse_bad("192.168.1.129/25", "did you mean 192.168.1.128/25?");
    parse_bad("::ffff:10.0.0.1/104", "did you mean ::ffff:10.0.0.0/104?");
    parse_bad("", "empty address range");
    parse_bad(NULL, "empty address range");
    parse_bad("/8", "no address before the '/'");
    parse_bad("10.0.0", "not an IPv4 or IPv6 address");
    parse_bad("010.0.0.0/8", "not an IPv4 or IPv6 address");
    parse_bad("10.0.0.256", "not an IPv4 or IPv6 address");
    parse_bad(" 10.0.0.0/8", "not an IPv4 or IPv6 address");
    parse_bad("localhost", "not an IPv4 or IPv6 address");
    parse_bad("fe80::1%eth0/64", "zone such as %eth0 is not allowed");
    parse_bad("[::1]/128", "not an IPv4 or IPv6 address");
    parse_bad("1:2:3:4:5:6:7/8", "not an IPv4 or IPv6 address");
    parse_bad("a very long string that is certainly not an address at all "
              "and goes on and on/8",
              "not an IPv4 or IPv6 address");
    parse_bad("10.0.0.0\x01/8", "'10.0.0.0?/8'");
}

static void test_match(void **state)
{
    static const struct match_case cases[] = {
        /* IPv4 */
        {"10.0.0.0/8", "10.0.0.0", 1},
        {"10.0.0.0/8", "10.255.255.255", 1},
        {"10.0.0.0/8", "11.0.0.0", 0},
        {"10.0.0.0/8", "9.255.255.255", 0},
        {"127.0.0.1", "127.0.0.1", 1},
        {"127.0.0.1", "127.0.0.2", 0},
        {"0.0.0.0/0", "203.0.113.9", 1},
        {"192.168.1.128/25", "192.168.1.200", 1},
        {"192.168.1.128/25", "192.168.1.127", 0},
        {"172.16.0.0/12", "172.31.255.1", 1},
        {"172.16.0.0/12", "172.32.0.1", 0},
        /* families do not mix */
        {"10.0.0.0/8", "::1", 0},
        {"::/0", "10.0.0.1", 0},
        /* IPv6 */
        {"::1/128", "::1", 1},
        {"::1/128", "::2", 0},
        {"fd00::/8", "fd12:3456::1", 1},
        {"fd00::/8", "fe80::1", 0},
        {"2001:db8::/33", "2001:db8:7fff::1", 1},
        {"2001:db8::/33", "2001:db8:8000::1", 0},
        {"::/0", "2001:db8::1", 1},
        /* IPv4-mapped IPv6 peers */
        /* what a dual-stack socket reports for an IPv4 client */
        {"10.0.0.0/8", "::ffff:10.1.2.3", 1},
        {"10.0.0.0/8", "::ffff:11.1.2.3", 0},
        {"127.0.0.1", "::ffff:127.0.0.1", 1},
        {"::ffff:10.0.0.0/104", "10.9.9.9", 1},
        {"::ffff:10.0.0.0/104", "::ffff:10.9.9.9", 1},
        {"0.0.0.0/0", "::ffff:1.2.3.4", 1},
        /* an IPv6 rule does not see a mapped peer as IPv6 */
        {"::/0", "::ffff:10.1.2.3", 0},
        /* IPv4-compatible (::a.b.c.d, deprecated) is not mapped */
        {"10.0.0.0/8", "::10.1.2.3", 0},
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if ((matches(cases[i].rule, cases[i].addr) != 0) != cases[i].want) {
            fail_msg("%s %s %s", cases[i].rule,
                     cases[i].want ? "does not match" : "matches",
                     cases[i].addr);
        }
    }
}

static void test_match_odd_input(void **state)
{
    struct bs_cidr rules[3];
    struct sockaddr_storage ss;
    struct sockaddr_un sun;
    socklen_t len;
    char err[128];

    (void) state;
    assert_int_equal(bs_cidr_parse("10.0.0.0/8", &rules[0], err, sizeof(err)),
                     0);
    assert_int_equal(bs_cidr_parse("::1", &rules[1], err, sizeof(err)), 0);
    assert_int_equal(bs_cidr_parse("0.0.0.0/0", &rules[2], err, sizeof(err)),
                     0);
    /* a unix peer matches nothing, not even 0.0.0.0/0 */
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, "/tmp/x");
    assert_false(bs_cidr_match_any(rules, 3, (const struct sockaddr *) &sun,
                                   sizeof(sun)));
    /* a truncated sockaddr matches nothing */
    len = sa_of("10.1.1.1", &ss);
    assert_true(
        bs_cidr_match_any(rules, 1, (const struct sockaddr *) &ss, len));
    assert_false(
        bs_cidr_match_any(rules, 1, (const struct sockaddr *) &ss, len - 1));
    assert_false(bs_cidr_match_any(rules, 1, (const struct sockaddr *) &ss, 1));
    assert_false(bs_cidr_match_any(rules, 3, NULL, 0));
    /* the list */
    assert_false(
        bs_cidr_match_any(rules, 0, (const struct sockaddr *) &ss, len));
    len = sa_of("::1", &ss);
    assert_false(
        bs_cidr_match_any(rules, 1, (const struct sockaddr *) &ss, len));
    assert_true(
        bs_cidr_match_any(rules, 2, (const struct sockaddr *) &ss, len));
    len = sa_of("::2", &ss);
    assert_false(
        bs_cidr_match_any(rules, 3, (const struct sockaddr *) &ss, len));
    /* err may be NULL; a short err is cut, not overrun */
    assert_int_equal(bs_cidr_parse("x", &rules[0], NULL, 0), -1);
    assert_int_equal(bs_cidr_parse("x", &rules[0], err, 5), -1);
    assert_int_equal(strlen(err), 4);
}

/* Every prefix length, each side of the boundary. */
static void test_every_prefix(void **state)
{
    (void) state;
    for (unsigned p = 0; p <= 128; p++) {
        char rule[80], in[64], out[64];
        /* 2001:db8:ffff:...: the rule keeps p bits of an all-ones address */
        struct in6_addr a;
        struct bs_cidr c;
        struct sockaddr_storage ss;
        socklen_t len;
        char err[128];

        memset(&a, 0xFF, sizeof(a));
        for (unsigned b = p; b < 128; b++) {
            a.s6_addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
        }
        assert_non_null(inet_ntop(AF_INET6, &a, in, sizeof(in)));
        snprintf(rule, sizeof(rule), "%s/%u", in, p);
        if (bs_cidr_parse(rule, &c, err, sizeof(err)) != 0) {
            fail_msg("%s: %s", rule, err);
        }
        if (c.family == AF_INET) {
            continue; /* ::ffff:... ranges: covered by test_match_mapped */
        }
        /* the rule's own address matches */
        len = sa_of(in, &ss);
        assert_true(bs_cidr_match(&c, (const struct sockaddr *) &ss, len));
        if (p < 128) {
            /* flip the first bit past the prefix: still inside */
            struct in6_addr b = a;
            b.s6_addr[p / 8] ^= (uint8_t) (0x80u >> (p % 8));
            assert_non_null(inet_ntop(AF_INET6, &b, out, sizeof(out)));
            len = sa_of(out, &ss);
            assert_true(bs_cidr_match(&c, (const struct sockaddr *) &ss, len));
        }
        if (p > 0) {
            /* flip the last bit of the prefix: outside */
            struct in6_addr b = a;
            b.s6_addr[(p - 1) / 8] ^= (uint8_t) (0x80u >> ((p - 1) % 8));
            assert_non_null(inet_ntop(AF_INET6, &b, out, sizeof(out)));
            len = sa_of(out, &ss);
            assert_false(bs_cidr_match(&c, (const struct sockaddr *) &ss, len));
        }
    }
    for (unsigned p = 0; p <= 32; p++) {
        char rule[64];
        uint32_t net = p == 0 ? 0 : 0xFFFFFFFFu << (32 - p);
        struct in_addr a = {.s_addr = htonl(net)};
        char in[INET_ADDRSTRLEN], out[INET_ADDRSTRLEN];
        struct bs_cidr c;
        struct sockaddr_storage ss;
        socklen_t len;
        char err[128];

        inet_ntop(AF_INET, &a, in, sizeof(in));
        snprintf(rule, sizeof(rule), "%s/%u", in, p);
        assert_int_equal(bs_cidr_parse(rule, &c, err, sizeof(err)), 0);
        if (p < 32) {
            struct in_addr b = {.s_addr = htonl(net | (1u << (31 - p)))};
            inet_ntop(AF_INET, &b, out, sizeof(out));
            len = sa_of(out, &ss);
            assert_true(bs_cidr_match(&c, (const struct sockaddr *) &ss, len));
        }
        if (p > 0) {
            struct in_addr b = {.s_addr = htonl(net ^ (1u << (32 - p)))};
            inet_ntop(AF_INET, &b, out, sizeof(out));
            len = sa_of(out, &ss);
            assert_false(bs_cidr_match(&c, (const struct sockaddr *) &ss, len));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_match_odd_input),
        cmocka_unit_test(test_every_prefix),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
