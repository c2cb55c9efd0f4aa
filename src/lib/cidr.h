/*
 * cidr.h - address ranges ("10.0.0.0/8", "::1") and matching a peer
 * against them, for allow-lists such as --proxy-from.
 *
 * Pure code: no I/O, no allocation.  Syntax: an IPv4 address in dotted
 * decimal (inet_pton's: four numbers 0-255, no leading zeros) or an IPv6
 * address (inet_pton's, no zone "%eth0"), optionally followed by "/" and
 * a prefix length in decimal without leading zeros, 0-32 or 0-128.
 * Without a prefix the range is the single address (/32 or /128).
 *
 * Host bits: "10.1.2.3/8" is REFUSED, with a message that names the range
 * it would mean ("did you mean 10.0.0.0/8?").  In an allow-list a set host
 * bit is nearly always a typo for a narrower or wider range than the one
 * written, and silently masking it would widen trust without the operator
 * seeing it.
 *
 * IPv4 and IPv6 meet at IPv4-mapped addresses (::ffff:a.b.c.d, what a
 * dual-stack IPv6 socket reports for an IPv4 client): such a peer is
 * matched as the IPv4 address a.b.c.d, and a rule written inside
 * ::ffff:0:0/96 with a prefix of 96 or more is stored as the IPv4 rule it
 * means (::ffff:10.0.0.0/104 is 10.0.0.0/8).  So an IPv4 rule matches a
 * client however the socket reports it, and "::/0" matches IPv6 clients
 * only (add "0.0.0.0/0" for every IPv4 one too).
 */
#ifndef BS_CIDR_H
#define BS_CIDR_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* Longest text bs_cidr_str writes, NUL included:
 * "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128". */
#define BS_CIDR_STRLEN 50

struct bs_cidr {
    int family;       /* AF_INET or AF_INET6 */
    unsigned prefix;  /* 0-32 or 0-128 */
    uint8_t addr[16]; /* network order; 4 bytes used for AF_INET; the bits
                         past prefix are 0 */
};

/*
 * Parse spec into *out.  Returns 0, or -1 with a sentence in err (when
 * err is not NULL), e.g. "'10.0.0.0/33': prefix length 33 is longer than
 * 32 for IPv4".  *out is untouched on failure.
 */
int bs_cidr_parse(const char *spec, struct bs_cidr *out, char *err,
                  size_t errlen);

/* The canonical text of c ("10.0.0.0/8", "fd00::/8") into buf
 * (BS_CIDR_STRLEN bytes is always enough; truncated if smaller). */
void bs_cidr_str(const struct bs_cidr *c, char *buf, size_t len);

/*
 * 1 if the address in sa (AF_INET, or AF_INET6 including IPv4-mapped
 * ones) lies in c, 0 if not or if sa is of another family or shorter
 * than its family needs (salen), so an AF_UNIX peer matches nothing.
 */
int bs_cidr_match(const struct bs_cidr *c, const struct sockaddr *sa,
                  socklen_t salen);

/* 1 if sa matches any of rules[0..n), 0 otherwise (and when n is 0). */
int bs_cidr_match_any(const struct bs_cidr *rules, size_t n,
                      const struct sockaddr *sa, socklen_t salen);

#endif /* BS_CIDR_H */
