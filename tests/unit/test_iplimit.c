/*
 * test_iplimit.c - connections per client address (--max-conns-per-ip):
 * the limit, release, IPv4-mapped addresses, long hash chains, and several
 * threads counting at once as the server's workers do.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iplimit.h"

static struct bs_iplimit_key v4(const char *s)
{
    struct sockaddr_in a;
    struct bs_iplimit_key k;

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(1234);
    assert_int_equal(inet_pton(AF_INET, s, &a.sin_addr), 1);
    assert_int_equal(bs_iplimit_key((struct sockaddr *) &a, sizeof a, &k), 0);
    return k;
}

static struct bs_iplimit_key v6(const char *s, uint16_t port)
{
    struct sockaddr_in6 a;
    struct bs_iplimit_key k;

    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    assert_int_equal(inet_pton(AF_INET6, s, &a.sin6_addr), 1);
    assert_int_equal(bs_iplimit_key((struct sockaddr *) &a, sizeof a, &k), 0);
    return k;
}

static void test_limit_and_release(void **state)
{
    struct bs_iplimit *t = bs_iplimit_new(3, 0);
    struct bs_iplimit_key a = v4("192.0.2.1"), b = v4("192.0.2.2");
    unsigned n = 0;
    (void) state;

    assert_non_null(t);
    for (unsigned i = 1; i <= 3; i++) {
        assert_int_equal(bs_iplimit_acquire(t, &a, &n), 1);
        assert_int_equal(n, i);
    }
    assert_int_equal(bs_iplimit_acquire(t, &a, &n), 0); /* the 4th */
    assert_int_equal(n, 3);
    assert_int_equal(bs_iplimit_count(t, &a), 3);
    /* another address has its own count */
    assert_int_equal(bs_iplimit_acquire(t, &b, &n), 1);
    assert_int_equal(n, 1);
    assert_int_equal(bs_iplimit_addresses(t), 2);
    /* a close makes room again */
    bs_iplimit_release(t, &a);
    assert_int_equal(bs_iplimit_acquire(t, &a, &n), 1);
    /* all closed: nothing is kept */
    for (int i = 0; i < 3; i++) {
        bs_iplimit_release(t, &a);
    }
    bs_iplimit_release(t, &b);
    assert_int_equal(bs_iplimit_addresses(t), 0);
    assert_int_equal(bs_iplimit_count(t, &a), 0);
    /* a release of what was never counted changes nothing */
    bs_iplimit_release(t, &a);
    assert_int_equal(bs_iplimit_addresses(t), 0);
    bs_iplimit_free(t);
}

static void test_keys(void **state)
{
    struct bs_iplimit *t = bs_iplimit_new(1, 0);
    struct bs_iplimit_key a = v4("10.1.2.3"), m = v6("::ffff:10.1.2.3", 9);
    struct bs_iplimit_key x = v6("2001:db8::1", 1), y = v6("2001:db8::1", 2);
    struct sockaddr_storage un = {.ss_family = AF_UNIX};
    struct bs_iplimit_key k;
    char s[64];
    (void) state;

    /* an IPv4 client seen through a dual-stack socket is the same one */
    assert_int_equal(bs_iplimit_acquire(t, &a, NULL), 1);
    assert_int_equal(bs_iplimit_acquire(t, &m, NULL), 0);
    bs_iplimit_key_str(&m, s, sizeof s);
    assert_string_equal(s, "10.1.2.3");
    /* the port does not matter */
    assert_int_equal(bs_iplimit_acquire(t, &x, NULL), 1);
    assert_int_equal(bs_iplimit_acquire(t, &y, NULL), 0);
    bs_iplimit_key_str(&y, s, sizeof s);
    assert_string_equal(s, "2001:db8::1");
    /* not an IP peer: not counted */
    assert_int_equal(bs_iplimit_key((struct sockaddr *) &un, sizeof un, &k),
                     -1);
    assert_int_equal(k.family, 0);
    /* too short for its family */
    un.ss_family = AF_INET6;
    assert_int_equal(bs_iplimit_key((struct sockaddr *) &un, 8, &k), -1);
    assert_null(bs_iplimit_new(0, 0));
    bs_iplimit_free(t);
    bs_iplimit_free(NULL);
}

/* Far more addresses than buckets, so every chain is long: a close
 * unlinks its entry from the head, the middle or the end of a chain and
 * leaves every other address's count as it was. */
#define CHAINED 1000

static void test_long_chains(void **state)
{
    struct bs_iplimit *t = bs_iplimit_new(2, 1); /* the fewest buckets */
    struct bs_iplimit_key k[CHAINED];
    char s[INET_ADDRSTRLEN];
    (void) state;

    assert_non_null(t);
    for (unsigned i = 0; i < CHAINED; i++) {
        snprintf(s, sizeof s, "198.51.%u.%u", i / 256, i % 256);
        k[i] = v4(s);
        assert_int_equal(bs_iplimit_acquire(t, &k[i], NULL), 1);
        assert_int_equal(bs_iplimit_acquire(t, &k[i], NULL), 1);
    }
    assert_int_equal(bs_iplimit_addresses(t), CHAINED);
    /* every third address closes both: gone, the others untouched */
    for (unsigned i = 0; i < CHAINED; i += 3) {
        bs_iplimit_release(t, &k[i]);
        bs_iplimit_release(t, &k[i]);
    }
    for (unsigned i = 0; i < CHAINED; i++) {
        assert_int_equal(bs_iplimit_count(t, &k[i]), i % 3 == 0 ? 0 : 2);
    }
    assert_int_equal(bs_iplimit_addresses(t), CHAINED - (CHAINED + 2) / 3);
    /* the rest close, last counted first */
    for (unsigned i = CHAINED; i-- > 0;) {
        if (i % 3 != 0) {
            bs_iplimit_release(t, &k[i]);
            bs_iplimit_release(t, &k[i]);
        }
    }
    assert_int_equal(bs_iplimit_addresses(t), 0);
    bs_iplimit_free(t);
}

/* Workers count and release at once; the limit holds at every moment. */
#define THREADS 4
#define ROUNDS  20000
#define LIMIT   5

struct worker_arg {
    struct bs_iplimit *t;
    unsigned seed;
    unsigned over; /* counts seen above LIMIT: must stay 0 */
    unsigned refused;
};

static void *hammer(void *p)
{
    struct worker_arg *w = p;
    struct bs_iplimit_key keys[3] = {v4("198.51.100.1"), v4("198.51.100.2"),
                                     v6("2001:db8::7", 1)};
    struct bs_iplimit_key held[LIMIT * 3];
    size_t nheld = 0;

    for (int i = 0; i < ROUNDS; i++) {
        unsigned r = w->seed = w->seed * 1103515245u + 12345u;
        unsigned n = 0;
        if (((r >> 8) & 1) != 0 && nheld < LIMIT * 3) {
            struct bs_iplimit_key *k = &keys[(r >> 12) % 3];
            int got = bs_iplimit_acquire(w->t, k, &n);
            if (got == 1) {
                held[nheld++] = *k;
            } else {
                w->refused++;
            }
            w->over += n > LIMIT;
        } else if (nheld > 0) {
            bs_iplimit_release(w->t, &held[--nheld]);
        }
    }
    while (nheld > 0) {
        bs_iplimit_release(w->t, &held[--nheld]);
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct bs_iplimit *t = bs_iplimit_new(LIMIT, 16);
    pthread_t th[THREADS];
    struct worker_arg w[THREADS];
    unsigned refused = 0;
    (void) state;

    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker_arg){.t = t, .seed = (unsigned) i * 7919u + 1u};
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].over, 0);
        refused += w[i].refused;
    }
    assert_true(refused > 0); /* the limit was reached, and held */
    assert_int_equal(bs_iplimit_addresses(t), 0);
    bs_iplimit_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_and_release),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_long_chains),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
