/*
 * iplimit.c - connections per client address; see iplimit.h.
 *
 * A chained hash table with a fixed number of buckets (a power of two),
 * split into stripes by bucket index; each stripe's mutex guards its
 * buckets' chains and the entries on them.
 */
#include "iplimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BUCKETS 1024u
#define MAX_BUCKETS     (1u << 20)

struct entry {
    struct entry *next;
    struct bs_iplimit_key key;
    unsigned count;
};

struct stripe {
    pthread_mutex_t lock;
    size_t addresses; /* entries in this stripe's buckets */
};

struct bs_iplimit {
    unsigned max;
    size_t mask; /* buckets - 1 */
    struct entry **bucket;
    struct stripe stripe[BS_IPLIMIT_STRIPES];
    uint64_t seed; /* per table: a client cannot aim at one chain */
};

struct bs_iplimit *bs_iplimit_new(unsigned max, size_t buckets)
{
    struct bs_iplimit *t;
    size_t n = BS_IPLIMIT_STRIPES;

    if (max == 0) {
        return NULL;
    }
    if (buckets == 0) {
        buckets = DEFAULT_BUCKETS;
    }
    while (n < buckets && n < MAX_BUCKETS) {
        n *= 2;
    }
    t = calloc(1, sizeof *t);
    if (t == NULL) {
        return NULL;
    }
    t->bucket = calloc(n, sizeof *t->bucket);
    if (t->bucket == NULL) {
        free(t);
        return NULL;
    }
    t->max = max;
    t->mask = n - 1;
    t->seed = (uint64_t) (uintptr_t) t ^ 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < BS_IPLIMIT_STRIPES; i++) {
        pthread_mutex_init(&t->stripe[i].lock, NULL);
    }
    return t;
}

void bs_iplimit_free(struct bs_iplimit *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i <= t->mask; i++) {
        struct entry *e = t->bucket[i];
        while (e != NULL) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
    }
    for (size_t i = 0; i < BS_IPLIMIT_STRIPES; i++) {
        pthread_mutex_destroy(&t->stripe[i].lock);
    }
    free(t->bucket);
    free(t);
}

int bs_iplimit_key(const struct sockaddr *sa, socklen_t salen,
                   struct bs_iplimit_key *key)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
                                       0, 0, 0, 0, 0xff, 0xff};

    memset(key, 0, sizeof *key);
    if (sa->sa_family == AF_INET &&
        salen >= (socklen_t) sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
        key->family = AF_INET;
        memcpy(key->addr, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6 &&
        salen >= (socklen_t) sizeof(struct sockaddr_in6))
    {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
        if (memcmp(in6->sin6_addr.s6_addr, mapped, sizeof mapped) == 0) {
            key->family = AF_INET;
            memcpy(key->addr, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            key->family = AF_INET6;
            memcpy(key->addr, in6->sin6_addr.s6_addr, 16);
        }
        return 0;
    }
    return -1;
}

/* FNV-1a over the address, seeded. */
static size_t hash(const struct bs_iplimit *t, const struct bs_iplimit_key *k)
{
    uint64_t h = 0xcbf29ce484222325ull ^ t->seed;
    size_t n = k->family == AF_INET ? 4 : 16;

    for (size_t i = 0; i < n; i++) {
        h ^= k->addr[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 29;
    return (size_t) h & t->mask;
}

static int same(const struct bs_iplimit_key *a, const struct bs_iplimit_key *b)
{
    return a->family == b->family &&
           memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

static struct stripe *stripe_of(struct bs_iplimit *t, size_t b)
{
    return &t->stripe[b % BS_IPLIMIT_STRIPES];
}

int bs_iplimit_acquire(struct bs_iplimit *t, const struct bs_iplimit_key *key,
                       unsigned *count)
{
    size_t b = hash(t, key);
    struct stripe *s = stripe_of(t, b);
    struct entry *e;
    int r = 1;

    pthread_mutex_lock(&s->lock);
    for (e = t->bucket[b]; e != NULL && !same(&e->key, key); e = e->next) {
    }
    if (e == NULL) {
        e = calloc(1, sizeof *e);
        if (e == NULL) {
            pthread_mutex_unlock(&s->lock);
            return -1;
        }
        e->key = *key;
        e->next = t->bucket[b];
        t->bucket[b] = e;
        s->addresses++;
    }
    if (e->count >= t->max) {
        r = 0;
    } else {
        e->count++;
    }
    if (count != NULL) {
        *count = e->count;
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

void bs_iplimit_release(struct bs_iplimit *t, const struct bs_iplimit_key *key)
{
    size_t b = hash(t, key);
    struct stripe *s = stripe_of(t, b);
    struct entry **pe;

    pthread_mutex_lock(&s->lock);
    for (pe = &t->bucket[b]; *pe != NULL && !same(&(*pe)->key, key);
         pe = &(*pe)->next)
    {
    }
    if (*pe != NULL && --(*pe)->count == 0) {
        struct entry *e = *pe;
        *pe = e->next;
        free(e);
        s->addresses--;
    }
    pthread_mutex_unlock(&s->lock);
}

unsigned bs_iplimit_count(struct bs_iplimit *t,
                          const struct bs_iplimit_key *key)
{
    size_t b = hash(t, key);
    struct stripe *s = stripe_of(t, b);
    unsigned n = 0;

    pthread_mutex_lock(&s->lock);
    for (struct entry *e = t->bucket[b]; e != NULL; e = e->next) {
        if (same(&e->key, key)) {
            n = e->count;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

size_t bs_iplimit_addresses(struct bs_iplimit *t)
{
    size_t n = 0;

    for (size_t i = 0; i < BS_IPLIMIT_STRIPES; i++) {
        pthread_mutex_lock(&t->stripe[i].lock);
        n += t->stripe[i].addresses;
        pthread_mutex_unlock(&t->stripe[i].lock);
    }
    return n;
}

void bs_iplimit_key_str(const struct bs_iplimit_key *key, char *buf, size_t len)
{
    if (len == 0) {
        return;
    }
    if (key->family == 0 ||
        inet_ntop(key->family, key->addr, buf, (socklen_t) len) == NULL)
    {
        buf[0] = '\0';
    }
}
