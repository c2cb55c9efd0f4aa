/*
 * tls_pingpong.c - the least a client can do per request: one blocking
 * TLS connection, one 64-bit stuff request written, its reply read and
 * checked, N times.  bench/cpu-per-request.sh runs it beside
 * bitstuff-bench to show what a request costs a client at the least, so
 * that the load generator's own cost can be judged against it.
 *
 *   tls_pingpong HOST-IPV4 PORT CA-FILE N
 *
 * The server's certificate is verified (name "localhost").  Exit 0 if
 * every reply was the expected stuffing, 1 otherwise.  Benchmark code,
 * so it uses OpenSSL directly.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "proto.h"
#include "stuff.h"

static int fail(const char *what)
{
    fprintf(stderr, "tls_pingpong: %s\n", what);
    return 1;
}

/* Read exactly len bytes. */
static int read_all(SSL *ssl, uint8_t *p, size_t len)
{
    while (len > 0) {
        int k = SSL_read(ssl, p, len > 65536 ? 65536 : (int) len);

        if (k <= 0) {
            return -1;
        }
        p += k;
        len -= (size_t) k;
    }
    return 0;
}

static int pingpong(SSL *ssl, long n)
{
    static const uint8_t bits[8] = {0xff, 0xfe, 0x7e, 0x3f,
                                    0x01, 0xf8, 0x1f, 0xaa};
    uint8_t req[BS_PROTO_HDR_LEN + 8], rep[BS_PROTO_HDR_LEN + 16], want[16];
    uint8_t expect[BS_PROTO_HDR_LEN + 16];
    size_t rlen, wbits = 0, elen;

    rlen = bs_proto_put_frame(req, sizeof(req), BS_PROTO_TYPE_MSG,
                              BS_PROTO_FLAG_FIRST | BS_PROTO_FLAG_LAST,
                              BS_PROTO_STUFF, BS_RULE_HDLC, bits, 64);
    if (bs_stuff(BS_RULE_HDLC, bits, 64, want, sizeof(want), &wbits, NULL) !=
            BS_OK ||
        rlen == 0)
    {
        return fail("cannot build the request");
    }
    elen = bs_proto_put_frame(expect, sizeof(expect), BS_PROTO_TYPE_REPLY,
                              BS_PROTO_FLAG_FIRST | BS_PROTO_FLAG_LAST,
                              BS_PROTO_STUFF, BS_RULE_HDLC, want,
                              (uint32_t) wbits);
    for (long i = 0; i < n; i++) {
        if (SSL_write(ssl, req, (int) rlen) != (int) rlen) {
            return fail("TLS write failed");
        }
        if (read_all(ssl, rep, elen) != 0) {
            return fail("TLS read failed (connection closed?)");
        }
        if (memcmp(rep, expect, elen) != 0) {
            return fail("wrong reply");
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const unsigned char alpn[] = "\x0a" BS_PROTO_ALPN;
    char host[] = "localhost"; /* the SNI macro casts away const */
    struct sockaddr_in sa = {.sin_family = AF_INET};
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    int fd = -1, one = 1, rc = 1;
    long n;

    if (argc != 5 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 ||
        (n = strtol(argv[4], NULL, 10)) <= 0)
    {
        fprintf(stderr, "usage: tls_pingpong HOST-IPV4 PORT CA-FILE N\n");
        return 1;
    }
    sa.sin_port = htons((uint16_t) strtoul(argv[2], NULL, 10));
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1) {
        rc = fail("cannot load the CA file");
        goto end;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
        rc = fail("cannot connect");
        goto end;
    }
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1) != 0 ||
        SSL_set1_host(ssl, host) != 1 ||
        SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set_fd(ssl, fd) != 1 ||
        SSL_connect(ssl) != 1)
    {
        rc = fail("TLS handshake failed");
        goto end;
    }
    rc = pingpong(ssl, n);
    (void) SSL_shutdown(ssl);
end:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}
