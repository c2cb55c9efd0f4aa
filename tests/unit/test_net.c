/*
 * test_net.c - address parsing, resolution and loopback sockets.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "net.h"

static int split(const char *spec, const char *def, char *host, char *port,
                 char *err)
{
    return bs_net_split_hostport(spec, def, host, 64, port, 8, err, 128);
}

static void test_split(void **state)
{
    char host[64], port[8], err[128];

    (void) state;
    assert_int_equal(split("localhost:55000", NULL, host, port, err), 0);
    assert_string_equal(host, "localhost");
    assert_string_equal(port, "55000");
    assert_int_equal(split("[::1]:0", NULL, host, port, err), 0);
    assert_string_equal(host, "::1");
    assert_string_equal(port, "0");
    assert_int_equal(split("[fe80::1%lo]", "55000", host, port, err), 0);
    assert_string_equal(host, "fe80::1%lo");
    assert_string_equal(port, "55000");
    assert_int_equal(split(":7", NULL, host, port, err), 0);
    assert_string_equal(host, "");
    assert_int_equal(split("example.org", "443", host, port, err), 0);
    assert_string_equal(port, "443");

    assert_int_equal(split("::1:55000", NULL, host, port, err), -EINVAL);
    assert_non_null(strstr(err, "brackets"));
    assert_int_equal(split("[::1", NULL, host, port, err), -EINVAL);
    assert_non_null(strstr(err, "]"));
    assert_int_equal(split("[::1]x", NULL, host, port, err), -EINVAL);
    assert_int_equal(split("host:65536", NULL, host, port, err), -EINVAL);
    assert_non_null(strstr(err, "65535"));
    assert_int_equal(split("host:12a", NULL, host, port, err), -EINVAL);
    assert_int_equal(split("host:", NULL, host, port, err), -EINVAL);
    assert_int_equal(split("host", NULL, host, port, err), -EINVAL);
    assert_non_null(strstr(err, "missing port"));
    assert_int_equal(split("", NULL, host, port, err), -EINVAL);
    assert_int_equal(split("host:000001", NULL, host, port, err), -EINVAL);
    /* a host name longer than the buffer is refused, not cut */
    assert_int_equal(
        split("a123456789012345678901234567890123456789012345678901234567890"
              "123456789:1",
              NULL, host, port, err),
        -EINVAL);
}

static void test_resolve(void **state)
{
    struct bs_net_addr a[8];
    char s[BS_NET_ADDRSTRLEN], err[128];
    size_t n = 0;
    int v4 = 0;

    (void) state;
    assert_int_equal(
        bs_net_resolve("127.0.0.1", "80", 0, a, 8, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    bs_net_addr_str(&a[0], s, sizeof(s));
    assert_string_equal(s, "127.0.0.1:80");
    assert_int_equal(
        bs_net_resolve("::1", "55000", 0, a, 8, &n, err, sizeof(err)), 0);
    bs_net_addr_str(&a[0], s, sizeof(s));
    assert_string_equal(s, "[::1]:55000");
    assert_int_equal(
        bs_net_resolve("localhost", "1", 0, a, 8, &n, err, sizeof(err)), 0);
    for (size_t i = 0; i < n; i++) {
        v4 |= a[i].ss.ss_family == AF_INET;
    }
    assert_true(v4);
    assert_true(bs_net_resolve("no-such-host.invalid", "1", 0, a, 8, &n, err,
                               sizeof(err)) < 0);
    assert_non_null(strstr(err, "no-such-host.invalid"));
}

static void test_listen_connect_accept(void **state)
{
    struct bs_net_addr a[1], peer;
    char port[8], err[160], ps[BS_NET_ADDRSTRLEN];
    size_t n = 0;
    int lfd = -1, cfd = -1, sfd = -1;
    struct pollfd pfd;

    (void) state;
    assert_int_equal(
        bs_net_resolve("127.0.0.1", "0", 1, a, 1, &n, err, sizeof(err)), 0);
    assert_int_equal(bs_net_listen(&a[0], 16, &lfd), 0);
    snprintf(port, sizeof(port), "%u",
             (unsigned) ntohs(((struct sockaddr_in *) &a[0].ss)->sin_port));
    assert_string_not_equal(port, "0");

    /* nothing pending yet: EAGAIN, not a block */
    assert_int_equal(bs_net_accept(lfd, &sfd, &peer), -EAGAIN);

    assert_int_equal(
        bs_net_connect("127.0.0.1", port, 2000, &cfd, err, sizeof(err)), 0);
    pfd = (struct pollfd){.fd = lfd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    assert_int_equal(bs_net_accept(lfd, &sfd, &peer), 0);
    {
        /* inherited from the listener: the server sets it nowhere else */
        int on = 0;
        socklen_t len = sizeof(on);
        assert_int_equal(getsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &on, &len),
                         0);
        assert_int_equal(on, 1);
    }
    bs_net_addr_str(&peer, ps, sizeof(ps));
    assert_non_null(strstr(ps, "127.0.0.1:"));
    assert_int_equal(write(cfd, "x", 1), 1);
    pfd = (struct pollfd){.fd = sfd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    close(sfd);
    close(cfd);

    /* the port is now in use: a second listener fails with EADDRINUSE */
    {
        struct bs_net_addr b = a[0];
        int fd2 = -1;
        assert_int_equal(bs_net_listen(&b, 16, &fd2), -EADDRINUSE);
    }
    close(lfd);

    /* and nothing listens any more: refused, with a hint */
    assert_int_equal(
        bs_net_connect("127.0.0.1", port, 2000, &cfd, err, sizeof(err)),
        -ECONNREFUSED);
    assert_non_null(strstr(err, "refused"));
    assert_non_null(strstr(err, port));
}

/* Issue 14: with BS_NET_LISTEN_REUSEPORT a second listener (a new
 * server) binds the address the first still holds; both accept, and a
 * listener without the flag still cannot join them. */
static void test_listen_reuseport(void **state)
{
    struct bs_net_addr a[1], b, c;
    char port[8], err[160];
    size_t n = 0;
    int l1 = -1, l2 = -1, l3 = -1, cfd = -1, sfd = -1;

    (void) state;
    assert_int_equal(
        bs_net_resolve("127.0.0.1", "0", 1, a, 1, &n, err, sizeof(err)), 0);
    assert_int_equal(
        bs_net_listen_flags(&a[0], 16, BS_NET_LISTEN_REUSEPORT, &l1), 0);
    b = a[0];
    c = a[0];
    assert_int_equal(bs_net_listen_flags(&b, 16, BS_NET_LISTEN_REUSEPORT, &l2),
                     0);
    assert_int_equal(bs_net_listen(&c, 16, &l3), -EADDRINUSE);
    snprintf(port, sizeof(port), "%u",
             (unsigned) ntohs(((struct sockaddr_in *) &b.ss)->sin_port));

    /* with the first one closed, the second takes every connection */
    close(l1);
    assert_int_equal(
        bs_net_connect("127.0.0.1", port, 2000, &cfd, err, sizeof(err)), 0);
    struct pollfd pfd = {.fd = l2, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    assert_int_equal(bs_net_accept(l2, &sfd, NULL), 0);
    close(sfd);
    close(cfd);
    close(l2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_listen_connect_accept),
        cmocka_unit_test(test_listen_reuseport),
    };
    return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
