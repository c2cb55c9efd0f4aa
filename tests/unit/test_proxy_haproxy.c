/*
 * test_proxy_haproxy.c - the PROXY protocol parser against the real
 * thing: HAProxy (Debian's 2.6) in TCP mode in front of a backend socket
 * of ours, sending PROXY v1 (send-proxy) and v2 with a CRC32c and a
 * unique-id TLV (send-proxy-v2 proxy-v2-options crc32c,unique-id), for
 * IPv4 and IPv6 clients.  The backend reads the header the way a server
 * will (reads of exactly bs_proxy_want bytes), checks that it names the
 * client's own address and port and the frontend's, and that the bytes
 * after the header arrive untouched.  Skipped without haproxy.
 *
 * Loopback only; every wait is bounded; HAProxy runs from a config in a
 * temporary directory and is stopped by its pid.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proxy.h"

#define HAPROXY "/usr/sbin/haproxy"

struct fixture {
    char dir[64];
    pid_t pid;
    int backend;      /* our listening socket */
    unsigned port[4]; /* frontends, as in the config */
    int have_v6;
};

static struct fixture fx;

/* A free loopback port of the family (bound, read, released). */
static unsigned free_port(int family)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unsigned port = 0;

    memset(&ss, 0, sizeof(ss));
    ss.ss_family = (sa_family_t) family;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
        sin6->sin6_addr = in6addr_loopback;
        len = sizeof(*sin6);
    }
    if (fd >= 0 && bind(fd, (struct sockaddr *) &ss, len) == 0 &&
        getsockname(fd, (struct sockaddr *) &ss, &len) == 0)
    {
        port = family == AF_INET
                   ? ntohs(((struct sockaddr_in *) &ss)->sin_port)
                   : ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static int loopback_connect(int family, unsigned port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -1;
    }
    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t) port);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t) port);
        sin6->sin6_addr = in6addr_loopback;
        len = sizeof(*sin6);
    }
    if (connect(fd, (struct sockaddr *) &ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int setup(void **state)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    char cfg[128], log[128];
    FILE *f;
    int v6;

    (void) state;
    memset(&fx, 0, sizeof(fx));
    fx.pid = -1;
    fx.backend = -1;
    if (access(HAPROXY, X_OK) != 0) {
        return 0; /* each test skips */
    }
    strcpy(fx.dir, "/tmp/bs-haproxy-XXXXXX");
    if (mkdtemp(fx.dir) == NULL) {
        return -1;
    }
    /* our backend */
    fx.backend = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fx.backend < 0 ||
        bind(fx.backend, (struct sockaddr *) &sin, sizeof(sin)) != 0 ||
        listen(fx.backend, 16) != 0 ||
        getsockname(fx.backend, (struct sockaddr *) &sin, &len) != 0)
    {
        return -1;
    }
    v6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (v6 >= 0) {
        close(v6);
        fx.have_v6 = free_port(AF_INET6) != 0;
    }
    for (int i = 0; i < 4; i++) {
        fx.port[i] = free_port(i < 2 || !fx.have_v6 ? AF_INET : AF_INET6);
        if (fx.port[i] == 0) {
            return -1;
        }
    }
    snprintf(cfg, sizeof(cfg), "%s/haproxy.cfg", fx.dir);
    /* one frontend and backend each: v4->v2, v4->v1, v6->v2, v6->v1 */
    f = fopen(cfg, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "global\n"
               "    maxconn 100\n"
               "defaults\n"
               "    mode tcp\n"
               "    timeout connect 5s\n"
               "    timeout client 30s\n"
               "    timeout server 30s\n");
    for (int i = 0; i < (fx.have_v6 ? 4 : 2); i++) {
        fprintf(f,
                "frontend fe%d\n"
                "    bind %s:%u\n"
                "    unique-id-format bitstuff-%%ci-%%cp\n"
                "    default_backend be%d\n"
                "backend be%d\n"
                "    server s 127.0.0.1:%u %s\n",
                i, i >= 2 ? "[::1]" : "127.0.0.1", fx.port[i], i, i,
                (unsigned) ntohs(sin.sin_port),
                i % 2 == 0 ? "send-proxy-v2 proxy-v2-options crc32c,unique-id"
                           : "send-proxy");
    }
    fclose(f);
    snprintf(log, sizeof(log), "%s/haproxy.log", fx.dir);
    fx.pid = fork();
    if (fx.pid < 0) {
        return -1;
    }
    if (fx.pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(HAPROXY, "haproxy", "-f", cfg, "-db", (char *) NULL);
        _exit(127);
    }
    return 0;
}

static int teardown(void **state)
{
    char path[160];

    (void) state;
    if (fx.pid > 0) {
        int status;
        kill(fx.pid, SIGTERM);
        for (int i = 0; i < 500; i++) {
            if (waitpid(fx.pid, &status, WNOHANG) == fx.pid) {
                fx.pid = -1;
                break;
            }
            usleep(10000);
        }
        if (fx.pid > 0) {
            kill(fx.pid, SIGKILL);
            waitpid(fx.pid, &status, 0);
        }
    }
    if (fx.backend >= 0) {
        close(fx.backend);
    }
    if (fx.dir[0] != '\0') {
        snprintf(path, sizeof(path), "%s/haproxy.cfg", fx.dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/haproxy.log", fx.dir);
        unlink(path);
        rmdir(fx.dir);
    }
    return 0;
}

/* Read exactly n bytes from fd within 10 s; returns the count read. */
static size_t read_within(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;

    for (int i = 0; i < 100 && got < n; i++) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t r;
        if (poll(&pfd, 1, 100) != 1) {
            continue;
        }
        r = recv(fd, buf + got, n - got, 0);
        if (r <= 0) {
            break;
        }
        got += (size_t) r;
    }
    return got;
}

/* Connect through frontend i, read the header at the backend, check it. */
static void through(int i, int family, int version)
{
    struct bs_proxy_parser p;
    const struct bs_proxy_result *r;
    struct sockaddr_storage me, fe;
    socklen_t melen = sizeof(me), felen = sizeof(fe);
    uint8_t buf[512];
    int c = -1, s = -1, st = BS_PROXY_NEED_MORE, reads = 0;
    size_t used;

    /* HAProxy may still be starting: retry for up to 10 s */
    for (int k = 0; k < 1000 && c < 0; k++) {
        c = loopback_connect(family, fx.port[i]);
        if (c < 0) {
            usleep(10000);
        }
    }
    assert_true(c >= 0);
    assert_int_equal(send(c, "hello, bitstuff\n", 16, MSG_NOSIGNAL), 16);
    assert_int_equal(getsockname(c, (struct sockaddr *) &me, &melen), 0);
    assert_int_equal(getpeername(c, (struct sockaddr *) &fe, &felen), 0);
    {
        struct pollfd pfd = {.fd = fx.backend, .events = POLLIN};
        assert_int_equal(poll(&pfd, 1, 10000), 1);
    }
    s = accept(fx.backend, NULL, NULL);
    assert_true(s >= 0);

    bs_proxy_init(&p, 0);
    while (st == BS_PROXY_NEED_MORE && reads < 200) {
        size_t want = bs_proxy_want(&p);
        assert_true(want <= sizeof(buf));
        assert_int_equal(read_within(s, buf, want), want);
        st = bs_proxy_feed(&p, buf, want, &used);
        assert_int_equal(used, want);
        reads++;
    }
    if (st != BS_PROXY_DONE) {
        fail_msg("frontend %d: %s: %s", i, bs_proxy_status_name(st),
                 bs_proxy_error(&p));
    }
    r = bs_proxy_result(&p);
    assert_int_equal(r->version, version);
    assert_int_equal(r->local, 0);
    assert_int_equal(r->family, family);
    assert_int_equal(r->socktype, SOCK_STREAM);
    /* the client's own address and port, and what it dialled */
    assert_int_equal(r->src_len, melen);
    assert_memory_equal(&r->src, &me, melen);
    assert_int_equal(r->dst_len, felen);
    assert_memory_equal(&r->dst, &fe, felen);
    if (version == 2) {
        assert_int_equal(r->crc_checked, 1);
        assert_int_equal(r->tlv_count, 2); /* CRC32c, unique id */
    }
    /* the bytes after the header are all still there */
    assert_int_equal(read_within(s, buf, 16), 16);
    assert_memory_equal(buf, "hello, bitstuff\n", 16);
    printf("# frontend %d: PROXY v%d, %zu-byte header in %d reads\n", i,
           version, r->header_len, reads);
    close(c);
    close(s);
}

static void test_v2_ipv4(void **state)
{
    (void) state;
    if (fx.pid <= 0) {
        skip(); /* no haproxy: scripts/deps.sh installs it */
    }
    through(0, AF_INET, 2);
}

static void test_v1_ipv4(void **state)
{
    (void) state;
    if (fx.pid <= 0) {
        skip();
    }
    through(1, AF_INET, 1);
}

static void test_v2_ipv6(void **state)
{
    (void) state;
    if (fx.pid <= 0 || !fx.have_v6) {
        skip();
    }
    through(2, AF_INET6, 2);
}

static void test_v1_ipv6(void **state)
{
    (void) state;
    if (fx.pid <= 0 || !fx.have_v6) {
        skip();
    }
    through(3, AF_INET6, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v2_ipv4),
        cmocka_unit_test(test_v1_ipv4),
        cmocka_unit_test(test_v2_ipv6),
        cmocka_unit_test(test_v1_ipv6),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
