/*
 * iplimit.h - how many connections each client address holds, and a
 * limit on it (--max-conns-per-ip), shared by every worker thread.
 *
 * One table per server, not one per worker: the kernel hands each new
 * connection to whichever worker is idle (EPOLLEXCLUSIVE), so a client's
 * connections spread over the workers unevenly, and per-worker counts
 * with the limit divided among them would refuse a client below its
 * limit (or, rounded up, let it exceed it).  The table is split in
 * BS_IPLIMIT_STRIPES parts by the address's hash, each with its own
 * mutex, taken once when a connection is counted and once when it
 * closes: never on the request path, and two workers collide only when
 * their clients hash to the same stripe.
 *
 * Keys are whole addresses: an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * counts as the IPv4 address a.b.c.d.  An entry exists only while its
 * address holds a connection, so the memory is bounded by the number of
 * connections open (--max-conns).
 */
#ifndef BS_IPLIMIT_H
#define BS_IPLIMIT_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define BS_IPLIMIT_STRIPES 64

/* A client address as counted: family AF_INET (4 bytes) or AF_INET6. */
struct bs_iplimit_key {
    int family; /* 0: nothing counted */
    uint8_t addr[16];
};

struct bs_iplimit;

/* A table that lets each address hold at most max connections (>= 1);
 * buckets: expected distinct addresses (0: a default).  NULL when out of
 * memory. */
struct bs_iplimit *bs_iplimit_new(unsigned max, size_t buckets);
void bs_iplimit_free(struct bs_iplimit *t); /* NULL ok */

/* The key of sa; returns 0, or -1 (key->family 0) for an address that is
 * not IPv4 or IPv6 (such a peer is not counted). */
int bs_iplimit_key(const struct sockaddr *sa, socklen_t salen,
                   struct bs_iplimit_key *key);

/* Count one more connection of key.  Returns 1 (counted; *count, when not
 * NULL, is the address's connections now), 0 if the address already
 * holds the maximum (nothing counted), -1 if out of memory (nothing
 * counted).  Safe from any thread. */
int bs_iplimit_acquire(struct bs_iplimit *t, const struct bs_iplimit_key *key,
                       unsigned *count);

/* Take one counted connection of key off (the entry goes at 0).  Safe
 * from any thread; a key never acquired is ignored. */
void bs_iplimit_release(struct bs_iplimit *t, const struct bs_iplimit_key *key);

/* The connections key holds now, and the addresses with any (tests). */
unsigned bs_iplimit_count(struct bs_iplimit *t,
                          const struct bs_iplimit_key *key);
size_t bs_iplimit_addresses(struct bs_iplimit *t);

/* "10.0.0.1" or "2001:db8::1" (buf >= 46 bytes). */
void bs_iplimit_key_str(const struct bs_iplimit_key *key, char *buf,
                        size_t len);

#endif /* BS_IPLIMIT_H */
