/*
 * cidr.c - address ranges and matching (see cidr.h).
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen,
                                                      const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Do the first `prefix` bits of a and b agree? */
static int prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
    unsigned whole = prefix / 8, rest = prefix % 8;

    if (memcmp(a, b, whole) != 0) {
        return 0;
    }
    if (rest == 0) {
        return 1;
    }
    return ((a[whole] ^ b[whole]) & (uint8_t) (0xFFu << (8 - rest))) == 0;
}

/* Clear the bits of a past prefix (of nbytes bytes). */
static void mask(uint8_t *a, size_t nbytes, unsigned prefix)
{
    for (size_t i = 0; i < nbytes; i++) {
        size_t bit = i * 8;
        if (bit >= prefix) {
            a[i] = 0;
        } else if (prefix - bit < 8) {
            a[i] &= (uint8_t) (0xFFu << (8 - (prefix - bit)));
        }
    }
}

static void show(char *out, size_t cap, const char *s)
{
    size_t j = 0;

    for (size_t i = 0; s[i] != '\0' && j + 4 < cap && i < 60; i++) {
        unsigned char c = (unsigned char) s[i];
        out[j++] = (c >= 0x20 && c < 0x7F) ? (char) c : '?';
    }
    if (strlen(s) > 60 && j + 4 < cap) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    out[j] = '\0';
}

int bs_cidr_parse(const char *spec, struct bs_cidr *out, char *err,
                  size_t errlen)
{
    char addr[INET6_ADDRSTRLEN];
    char shown[72];
    const char *slash;
    size_t alen;
    struct bs_cidr c;
    unsigned max;
    uint8_t masked[16];

    if (spec == NULL || spec[0] == '\0') {
        return fail(err, errlen,
                    "empty address range: expected an address "
                    "such as 10.0.0.0/8, 127.0.0.1 or ::1");
    }
    show(shown, sizeof(shown), spec);
    memset(&c, 0, sizeof(c));
    slash = strchr(spec, '/');
    alen = slash != NULL ? (size_t) (slash - spec) : strlen(spec);
    if (alen == 0 || alen >= sizeof(addr)) {
        return fail(err, errlen, "'%s': %s", shown,
                    alen == 0 ? "no address before the '/'"
                              : "not an IPv4 or IPv6 address");
    }
    memcpy(addr, spec, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, c.addr) == 1) {
        c.family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, addr, c.addr) == 1) {
        c.family = AF_INET6;
        max = 128;
    } else {
        return fail(err, errlen, "'%s': not an IPv4 or IPv6 address%s", shown,
                    strchr(addr, '%') != NULL
                        ? " (an IPv6 zone such as %eth0 is not allowed)"
                        : "");
    }
    c.prefix = max;
    if (slash != NULL) {
        const char *d = slash + 1;
        unsigned v = 0;
        size_t n = 0;

        while (d[n] >= '0' && d[n] <= '9' && n < 4) {
            v = v * 10u + (unsigned) (d[n] - '0');
            n++;
        }
        if (n == 0 || d[n] != '\0' || (d[0] == '0' && n > 1)) {
            return fail(err, errlen,
                        "'%s': the prefix length after '/' must be a "
                        "number 0-%u without leading zeros",
                        shown, max);
        }
        if (v > max) {
            return fail(err, errlen,
                        "'%s': prefix length %u is longer than %u for %s",
                        shown, v, max, max == 32 ? "IPv4" : "IPv6");
        }
        c.prefix = v;
    }
    memcpy(masked, c.addr, sizeof(masked));
    mask(masked, max / 8, c.prefix);
    if (memcmp(masked, c.addr, max / 8) != 0) {
        struct bs_cidr m = c;
        char want[BS_CIDR_STRLEN];

        memcpy(m.addr, masked, sizeof(m.addr));
        bs_cidr_str(&m, want, sizeof(want));
        return fail(err, errlen,
                    "'%s': address has bits set past the /%u prefix; did "
                    "you mean %s?",
                    shown, c.prefix, want);
    }
    /* An IPv4-mapped range is the IPv4 range it means. */
    if (c.family == AF_INET6 && c.prefix >= 96 &&
        memcmp(c.addr, v4mapped, sizeof(v4mapped)) == 0)
    {
        c.family = AF_INET;
        c.prefix -= 96;
        memmove(c.addr, c.addr + 12, 4);
        memset(c.addr + 4, 0, 12);
    }
    *out = c;
    return 0;
}

void bs_cidr_str(const struct bs_cidr *c, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN];

    if (len == 0) {
        return;
    }
    if (inet_ntop(c->family, c->addr, a, sizeof(a)) == NULL) {
        snprintf(buf, len, "?");
        return;
    }
    snprintf(buf, len, "%s/%u", a, c->prefix);
}

int bs_cidr_match(const struct bs_cidr *c, const struct sockaddr *sa,
                  socklen_t salen)
{
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } u;
    uint8_t a[16];
    int family;
    size_t need;

    if (sa == NULL || salen < (socklen_t) sizeof(sa_family_t)) {
        return 0;
    }
    family = sa->sa_family;
    need = family == AF_INET    ? sizeof(u.v4)
           : family == AF_INET6 ? sizeof(u.v6)
                                : 0;
    if (need == 0 || salen < (socklen_t) need) {
        return 0;
    }
    memcpy(&u, sa, need);
    if (family == AF_INET) {
        memcpy(a, &u.v4.sin_addr, 4);
    } else {
        memcpy(a, &u.v6.sin6_addr, 16);
        if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
            memmove(a, a + 12, 4);
            family = AF_INET;
        }
    }
    return family == c->family && prefix_equal(a, c->addr, c->prefix);
}

int bs_cidr_match_any(const struct bs_cidr *rules, size_t n,
                      const struct sockaddr *sa, socklen_t salen)
{
    for (size_t i = 0; i < n; i++) {
        if (bs_cidr_match(&rules[i], sa, salen)) {
            return 1;
        }
    }
    return 0;
}
