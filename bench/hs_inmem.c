/*
 * hs_inmem.c - what a full TLS 1.3 handshake costs libssl itself, with no
 * network: a client and a server SSL object joined by a BIO pair, X25519
 * key exchange, the server's ECDSA P-256 certificate, no session tickets
 * (by default).  The figure is the floor for a server's CPU per
 * handshake; bench/compare.sh divides bitstuffd's by it.
 *
 *   hs_inmem CERT KEY [N [TICKETS]]   (N handshakes, default 2000)
 *
 * Prints "server_us_per_handshake X" and "client_us_per_handshake Y":
 * the CPU time spent inside each side's calls (SSL_new to SSL_free), averaged.
 * Benchmark code: it talks to OpenSSL directly because libssl's own cost
 * is what it measures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* CPU time of this thread: what the calls cost, not the time another
 * process on a shared machine took while they ran. */
static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static SSL_CTX *make_ctx(int server, const char *cert, const char *key,
                         long tickets)
{
    SSL_CTX *ctx =
        SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    char groups[] = "X25519"; /* the macro casts away const */

    if (ctx == NULL ||
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set1_groups_list(ctx, groups) != 1)
    {
        goto fail;
    }
    if (server) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_set_num_tickets(ctx, (size_t) tickets) != 1)
        {
            goto fail;
        }
        if (tickets == 0) {
            SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        }
    } else {
        /* The client checks nothing: only the server side is timed. */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    return ctx;
fail:
    ERR_print_errors_fp(stderr);
    SSL_CTX_free(ctx);
    return NULL;
}

/* One side's step; returns 1 when its handshake is done, 0 to continue,
 * -1 on failure.  *t accumulates the time spent. */
static int step(SSL *s, double *t)
{
    double t0 = now_us();
    int r = SSL_do_handshake(s);
    int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(s, r);

    *t += now_us() - t0;
    if (r == 1) {
        return 1;
    }
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

int main(int argc, char **argv)
{
    long n = argc > 3 ? strtol(argv[3], NULL, 10) : 2000;
    long tickets = argc > 4 ? strtol(argv[4], NULL, 10) : 0;
    SSL_CTX *sctx = NULL, *cctx = NULL;
    double ts = 0, tc = 0;
    int status = 1;

    if (argc < 3 || argc > 5 || n < 1 || tickets < 0 || tickets > 8) {
        fprintf(stderr, "usage: hs_inmem CERT KEY [N [TICKETS]]\n");
        return 1;
    }
    sctx = make_ctx(1, argv[1], argv[2], tickets);
    cctx = make_ctx(0, NULL, NULL, 0);
    if (sctx == NULL || cctx == NULL) {
        fprintf(stderr, "hs_inmem: cannot set up TLS contexts\n");
        goto out;
    }
    for (long i = 0; i < n; i++) {
        BIO *bs = NULL, *bc = NULL;
        double t0 = now_us();
        SSL *s = SSL_new(sctx);
        SSL *c;
        int sd = 0, cd = 0, rounds = 0;

        ts += now_us() - t0;
        t0 = now_us();
        c = SSL_new(cctx);
        tc += now_us() - t0;
        if (s == NULL || c == NULL || BIO_new_bio_pair(&bs, 0, &bc, 0) != 1) {
            fprintf(stderr, "hs_inmem: out of memory\n");
            SSL_free(s);
            SSL_free(c);
            goto out;
        }
        SSL_set_bio(s, bs, bs);
        SSL_set_bio(c, bc, bc);
        SSL_set_accept_state(s);
        SSL_set_connect_state(c);
        while ((!sd || !cd) && rounds++ < 20) {
            int r;
            if (!cd && (r = step(c, &tc)) != 0) {
                cd = r;
            }
            if (!sd && (r = step(s, &ts)) != 0) {
                sd = r;
            }
            if (sd < 0 || cd < 0) {
                break;
            }
        }
        t0 = now_us();
        SSL_free(s);
        ts += now_us() - t0;
        SSL_free(c);
        if (sd != 1 || cd != 1) {
            fprintf(stderr, "hs_inmem: handshake %ld failed\n", i);
            ERR_print_errors_fp(stderr);
            goto out;
        }
    }
    printf("handshakes %ld, tickets %ld\n", n, tickets);
    printf("server_us_per_handshake %.1f\n", ts / (double) n);
    printf("client_us_per_handshake %.1f\n", tc / (double) n);
    status = 0;
out:
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return status;
}
