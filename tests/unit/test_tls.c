/*
 * test_tls.c - the TLS module over socketpairs, both ends non-blocking in
 * one thread: handshakes, ALPN, every certificate check with its message,
 * mutual TLS, versions, key logging, EOF and partial writes.
 *
 * Certificates: scripts/gen-certs.sh makes two unrelated sets (a/ and b/)
 * in a temporary directory; expired and not-yet-valid server certificates
 * are made here, signed by CA a.
 */
#include <sys/socket.h>
#include <sys/stat.h>

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

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cmocka.h>

#include "advice.h"
#include "cli.h"
#include "test_certdir.h"
#include "tls.h"

/* One end of a connection: ours, or a raw OpenSSL client for the cases
 * our API cannot express (no ALPN, other ALPN, TLS 1.2 only). */
struct side {
    struct bs_tls_conn *bs;
    SSL *raw;
    int fd;
    bs_tls_status st;
};

struct pair {
    int fd[2]; /* [0] server, [1] client */
    struct side s, c;
};

/* ---- certificates ------------------------------------------------------ */

/* A server certificate for localhost signed by CA a, valid from now+nb to
 * now+na seconds. */
static void make_server_cert(const char *crt, const char *key, long nb, long na)
{
    FILE *f = fopen("a/ca.crt", "r");
    assert_non_null(f);
    X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    f = fopen("a/ca.key", "r");
    assert_non_null(f);
    EVP_PKEY *cakey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(ca);
    assert_non_null(cakey);

    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(pkey);
    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 4242), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), nb));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), na));
    assert_int_equal(X509_set_pubkey(x, pkey), 1);
    X509_NAME *name = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_add_entry_by_txt(
                         name, "CN", MBSTRING_ASC,
                         (const unsigned char *) "localhost", -1, -1, 0),
                     1);
    assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(ca)), 1);

    static const struct {
        int nid;
        const char *value;
    } exts[] = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, "serverAuth"},
        {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
    };
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        X509_EXTENSION *ext =
            X509V3_EXT_conf_nid(NULL, &v3, exts[i].nid, exts[i].value);
        assert_non_null(ext);
        assert_int_equal(X509_add_ext(x, ext, -1), 1);
        X509_EXTENSION_free(ext);
    }
    assert_true(X509_sign(x, cakey, EVP_sha256()) > 0);

    f = fopen(crt, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, x), 1);
    fclose(f);
    f = fopen(key, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL),
                     1);
    fclose(f);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(pkey);
    EVP_PKEY_free(cakey);
}

static int group_setup(void **state)
{
    static const char *const sets[] = {
        "--out a", "--out b --client-cn other-client", NULL};
    struct certdir *d = certdir_enter("test_tls", sets);
    FILE *g;

    if (d == NULL) {
        return -1;
    }
    make_server_cert("expired.crt", "expired.key", -2 * 86400L, -86400L);
    make_server_cert("future.crt", "future.key", 86400L, 2 * 86400L);
    g = fopen("garbage.pem", "w");
    if (g == NULL) {
        (void) certdir_leave(d);
        return -1;
    }
    fputs("this is not a PEM file\n", g);
    fclose(g);
    *state = d;
    return 0;
}

static int group_teardown(void **state)
{
    return certdir_leave(*state);
}

/* ---- contexts and connections ------------------------------------------ */

/* ctx, which must have loaded; else the test fails with err. */
static struct bs_tls_ctx *loaded(struct bs_tls_ctx *ctx, const char *role,
                                 const char *err)
{
    if (ctx == NULL) {
        fail_msg("%s ctx: %s", role, err);
    }
    return ctx;
}

/* A context from a configuration that must load. */
static struct bs_tls_ctx *server_from(const struct bs_tls_server_config *c)
{
    char err[256] = "";
    struct bs_tls_ctx *ctx = bs_tls_ctx_new_server(c, err, sizeof err);

    return loaded(ctx, "server", err);
}

static struct bs_tls_ctx *client_from(const struct bs_tls_client_config *c)
{
    char err[256] = "";
    struct bs_tls_ctx *ctx = bs_tls_ctx_new_client(c, err, sizeof err);

    return loaded(ctx, "client", err);
}

/* Contexts as the programs make them, with their advice in messages. */
static struct bs_tls_ctx *server_ctx(const char *crt, const char *key,
                                     const char *ca, enum bs_tls_verify v,
                                     int min_version)
{
    struct bs_tls_server_config c = {.cert_file = crt,
                                     .key_file = key,
                                     .ca_file = ca,
                                     .verify_client = v,
                                     .min_version = min_version,
                                     .advice = bs_server_tls_advice};
    return server_from(&c);
}

static struct bs_tls_ctx *client_ctx_full(const char *ca, const char *crt,
                                          const char *key, int insecure,
                                          const char *keylog)
{
    struct bs_tls_client_config c = {
        ca, crt, key, 13, insecure, keylog, bs_cli_tls_advice};
    return client_from(&c);
}

static struct bs_tls_ctx *client_ctx(const char *ca)
{
    return client_ctx_full(ca, NULL, NULL, 0, NULL);
}

/* The contexts most tests use: a/'s server, which asks for no client
 * certificate, and a client that trusts a/'s CA. */
static struct bs_tls_ctx *a_server(void)
{
    return server_ctx("a/server.crt", "a/server.key", NULL, BS_TLS_VERIFY_NONE,
                      13);
}

static struct bs_tls_ctx *a_client(void)
{
    return client_ctx("a/ca.crt");
}

/* The contexts most tests use, as the programs make them: a server with
 * set a's certificate, a client that trusts CA a.  One per test. */
struct ab {
    struct bs_tls_ctx *sctx, *cctx;
};

static int ab_setup(void **state)
{
    struct ab *t = calloc(1, sizeof *t);

    if (t == NULL) {
        return -1;
    }
    t->sctx = a_server();
    t->cctx = a_client();
    *state = t;
    return 0;
}

static int ab_teardown(void **state)
{
    struct ab *t = *state;

    bs_tls_ctx_free(t->sctx);
    bs_tls_ctx_free(t->cctx);
    free(t);
    return 0;
}

/* A test that takes its contexts from the ab fixture. */
#define AB_TEST(f) cmocka_unit_test_setup_teardown(f, ab_setup, ab_teardown)

/* A raw OpenSSL client that checks nothing, for protocol-level cases. */
static SSL_CTX *raw_client_ctx(int max_version, const char *alpn,
                               size_t alpn_len)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    if (max_version != 0) {
        assert_int_equal(SSL_CTX_set_max_proto_version(ctx, max_version), 1);
    }
    if (alpn != NULL) {
        assert_int_equal(SSL_CTX_set_alpn_protos(ctx,
                                                 (const unsigned char *) alpn,
                                                 (unsigned int) alpn_len),
                         0);
    }
    return ctx;
}

/* A raw client that offers ALPN "bitstuff/1". */
static SSL_CTX *raw_bitstuff_client(int max_version)
{
    return raw_client_ctx(max_version,
                          "\x0a"
                          "bitstuff/1",
                          11);
}

static void pair_open(struct pair *p, struct bs_tls_ctx *sctx,
                      struct bs_tls_ctx *cctx, SSL_CTX *raw,
                      const char *servername)
{
    char err[256] = "";
    memset(p, 0, sizeof *p);
    assert_int_equal(socketpair(AF_UNIX,
                                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                                p->fd),
                     0);
    p->s.fd = p->fd[0];
    p->c.fd = p->fd[1];
    p->s.bs = bs_tls_conn_new(sctx, p->fd[0], NULL, err, sizeof err);
    if (p->s.bs == NULL) {
        fail_msg("server conn: %s", err);
    }
    if (raw != NULL) {
        p->c.raw = SSL_new(raw);
        assert_non_null(p->c.raw);
        assert_int_equal(SSL_set_fd(p->c.raw, p->fd[1]), 1);
        SSL_set_connect_state(p->c.raw);
    } else {
        p->c.bs = bs_tls_conn_new(cctx, p->fd[1], servername, err, sizeof err);
        if (p->c.bs == NULL) {
            fail_msg("client conn: %s", err);
        }
    }
}

static void pair_close(struct pair *p)
{
    bs_tls_conn_free(p->s.bs);
    bs_tls_conn_free(p->c.bs);
    SSL_free(p->c.raw);
    close(p->fd[0]);
    close(p->fd[1]);
}

static int waiting(bs_tls_status st)
{
    return st == BS_TLS_WANT_READ || st == BS_TLS_WANT_WRITE;
}

static bs_tls_status side_handshake(struct side *s)
{
    if (s->bs != NULL) {
        return bs_tls_handshake(s->bs);
    }
    ERR_clear_error();
    int r = SSL_do_handshake(s->raw);
    if (r == 1) {
        return BS_TLS_OK;
    }
    switch (SSL_get_error(s->raw, r)) {
    case SSL_ERROR_WANT_READ:
        return BS_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return BS_TLS_WANT_WRITE;
    default:
        ERR_clear_error();
        return BS_TLS_ERR;
    }
}

/* Wait (at most a second) until a waiting side can go on; 0 on timeout. */
static int wait_sides(struct side *const *sides, size_t n)
{
    struct pollfd pfd[2];
    nfds_t k = 0;
    for (size_t i = 0; i < n && k < 2; i++) {
        if (waiting(sides[i]->st)) {
            pfd[k].fd = sides[i]->fd;
            pfd[k].events = sides[i]->st == BS_TLS_WANT_READ ? POLLIN : POLLOUT;
            pfd[k].revents = 0;
            k++;
        }
    }
    return k > 0 && poll(pfd, k, 1000) > 0;
}

/* Drive both handshakes to an end (OK or ERR), bounded. */
static void handshake(struct pair *p)
{
    struct side *sides[2] = {&p->s, &p->c};
    p->s.st = p->c.st = BS_TLS_WANT_READ;
    for (int i = 0; i < 100 && (waiting(p->s.st) || waiting(p->c.st)); i++) {
        if (waiting(p->c.st)) {
            p->c.st = side_handshake(&p->c);
        }
        if (waiting(p->s.st)) {
            p->s.st = side_handshake(&p->s);
        }
        if ((waiting(p->s.st) || waiting(p->c.st)) && !wait_sides(sides, 2)) {
            break;
        }
    }
}

/* Read once data or an error arrives (bounded). */
static bs_tls_status read_wait(struct bs_tls_conn *c, int fd, void *buf,
                               size_t cap, size_t *n)
{
    bs_tls_status st = BS_TLS_WANT_READ;
    for (int i = 0; i < 50; i++) {
        st = bs_tls_read(c, buf, cap, n);
        if (st != BS_TLS_WANT_READ) {
            return st;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
        if (poll(&pfd, 1, 1000) <= 0) {
            break;
        }
    }
    return st;
}

/* Send n bytes from w to r and check they arrive intact.  Each retry
 * after WANT_WRITE passes the same bytes at another address (the buffer
 * may move).  Returns the number of writes that were short of the rest. */
static size_t transfer(struct bs_tls_conn *w, int wfd, struct bs_tls_conn *r,
                       int rfd, const unsigned char *data, size_t n,
                       size_t *want_writes)
{
    unsigned char *copy = malloc(n);
    unsigned char *out = malloc(n);
    assert_non_null(copy);
    assert_non_null(out);
    memcpy(copy, data, n);
    const unsigned char *src[2] = {data, copy};
    size_t sent = 0, got = 0, shorts = 0, which = 0;
    *want_writes = 0;
    for (long i = 0; i < 1000000 && got < n; i++) {
        bs_tls_status ws = BS_TLS_OK;
        if (sent < n) {
            size_t k = 0;
            ws = bs_tls_write(w, src[which] + sent, n - sent, &k);
            if (ws == BS_TLS_OK) {
                assert_true(k > 0 && k <= n - sent);
                shorts += k < n - sent;
                sent += k;
            } else if (ws == BS_TLS_WANT_WRITE) {
                (*want_writes)++;
                which ^= 1;
            } else {
                fail_msg("write: %d %s", ws, bs_tls_conn_error(w));
            }
        }
        if (bs_tls_write_pending(w)) {
            bs_tls_status fs = bs_tls_flush(w);
            if (fs == BS_TLS_WANT_WRITE) {
                ws = fs;
            } else if (fs != BS_TLS_OK) {
                fail_msg("flush: %d %s", fs, bs_tls_conn_error(w));
            }
        }
        size_t k = 0;
        bs_tls_status rs = bs_tls_read(r, out + got, n - got, &k);
        if (rs == BS_TLS_OK) {
            got += k;
        } else if (rs != BS_TLS_WANT_READ) {
            fail_msg("read: %d %s", rs, bs_tls_conn_error(r));
        } else if (sent == n || ws == BS_TLS_WANT_WRITE) {
            struct pollfd pfd[2] = {{.fd = rfd, .events = POLLIN},
                                    {.fd = wfd, .events = POLLOUT}};
            int both = sent < n || bs_tls_write_pending(w);
            assert_true(poll(pfd, both ? 2 : 1, 1000) > 0);
        }
    }
    assert_int_equal(got, n);
    assert_memory_equal(out, data, n);
    free(copy);
    free(out);
    return shorts;
}

static void assert_contains(const char *s, const char *sub)
{
    if (strstr(s, sub) == NULL) {
        fail_msg("\"%s\" does not contain \"%s\"", s, sub);
    }
}

/* Connection c failed with failure f, its sentence containing sub. */
static void assert_failed(const struct bs_tls_conn *c, enum bs_tls_failure f,
                          const char *sub)
{
    assert_int_equal(bs_tls_conn_failure(c), f);
    assert_contains(bs_tls_conn_error(c), sub);
}

/* A full handshake expected to succeed. */
static void assert_handshake_ok(struct pair *p)
{
    handshake(p);
    if (p->s.st != BS_TLS_OK || p->c.st != BS_TLS_OK) {
        fail_msg("handshake: server %d (%s), client %d (%s)", p->s.st,
                 bs_tls_conn_error(p->s.bs), p->c.st,
                 p->c.bs != NULL ? bs_tls_conn_error(p->c.bs) : "raw");
    }
}

/* A pair between sctx and cctx, the client asking for "localhost", with
 * its handshake done. */
static void pair_connect(struct pair *p, struct bs_tls_ctx *sctx,
                         struct bs_tls_ctx *cctx)
{
    pair_open(p, sctx, cctx, NULL, "localhost");
    assert_handshake_ok(p);
}

/* The client must fail verification with a sentence containing sub. */
static void expect_client_verify_error(struct bs_tls_ctx *sctx,
                                       struct bs_tls_ctx *cctx,
                                       const char *servername, const char *sub)
{
    struct pair p;
    pair_open(&p, sctx, cctx, NULL, servername);
    handshake(&p);
    assert_int_equal(p.c.st, BS_TLS_ERR);
    assert_failed(p.c.bs, BS_TLS_FAIL_VERIFY, sub);
    /* The server hears the alert: its client rejected the certificate. */
    assert_int_equal(p.s.st, BS_TLS_ERR);
    pair_close(&p);
}

/* A connected pair whose server (end 0) or client (end 1) then vanishes
 * without close_notify. */
static void pair_vanish(struct pair *p, const struct ab *t, int end)
{
    struct side *gone = end == 0 ? &p->s : &p->c;

    pair_connect(p, t->sctx, t->cctx);
    bs_tls_conn_free(gone->bs);
    gone->bs = NULL;
    shutdown(p->fd[end], SHUT_RDWR);
}

/* n bytes of a pattern that repeats only after long runs (to free). */
static unsigned char *pattern(size_t n, unsigned mul, unsigned div)
{
    unsigned char *data = malloc(n);

    assert_non_null(data);
    for (size_t i = 0; i < n; i++) {
        data[i] = (unsigned char) (i * mul + i / div);
    }
    return data;
}

/* ---- tests ------------------------------------------------------------- */

static void test_handshake_echo_alpn(void **state)
{
    (void) state;
    struct bs_tls_ctx *sctx = a_server();
    struct bs_tls_ctx *cctx = a_client();
    struct pair p;
    pair_open(&p, sctx, cctx, NULL, "localhost");
    /* Each connection holds its own reference. */
    bs_tls_ctx_free(sctx);
    bs_tls_ctx_free(cctx);
    assert_handshake_ok(&p);
    assert_string_equal(bs_tls_conn_alpn(p.s.bs), "bitstuff/1");
    assert_string_equal(bs_tls_conn_alpn(p.c.bs), "bitstuff/1");
    assert_string_equal(bs_tls_conn_version(p.c.bs), "TLSv1.3");
    assert_string_equal(bs_tls_conn_version(p.s.bs), "TLSv1.3");
    assert_string_equal(bs_tls_conn_cipher(p.c.bs), bs_tls_conn_cipher(p.s.bs));
    assert_false(bs_tls_conn_resumed(p.c.bs));

    char subj[128];
    bs_tls_conn_peer_subject(p.c.bs, subj, sizeof subj);
    assert_string_equal(subj, "CN=localhost,O=bitstuff");
    bs_tls_conn_peer_subject(p.s.bs, subj, sizeof subj);
    assert_string_equal(subj, "");
    bs_tls_conn_peer_subject(p.c.bs, subj, 4); /* cut to fit */
    assert_string_equal(subj, "CN=");

    size_t ww;
    static const unsigned char req[] = "0101111110011111001010\n";
    static const unsigned char rsp[] = "OK 010111110100111110001010\n";
    transfer(p.c.bs, p.fd[1], p.s.bs, p.fd[0], req, sizeof req - 1, &ww);
    transfer(p.s.bs, p.fd[0], p.c.bs, p.fd[1], rsp, sizeof rsp - 1, &ww);
    assert_int_equal(bs_tls_conn_failure(p.c.bs), BS_TLS_FAIL_NONE);
    assert_string_equal(bs_tls_conn_error(p.c.bs), "");
    pair_close(&p);
}

static void test_ip_literals(void **state)
{
    const struct ab *t = *state;
    static const char *const good[] = {"127.0.0.1", "::1"};
    for (size_t i = 0; i < 2; i++) {
        struct pair p;
        pair_open(&p, t->sctx, t->cctx, NULL, good[i]);
        assert_handshake_ok(&p);
        pair_close(&p);
    }
    expect_client_verify_error(t->sctx, t->cctx, "10.1.2.3", "not 10.1.2.3");
    expect_client_verify_error(t->sctx, t->cctx, "10.1.2.3", "127.0.0.1");
}

static void test_wrong_host(void **state)
{
    const struct ab *t = *state;
    expect_client_verify_error(
        t->sctx, t->cctx, "example.org",
        "the certificate is for localhost, 127.0.0.1, ::1, not example.org");
    /* No partial wildcards, no suffix matches. */
    expect_client_verify_error(t->sctx, t->cctx, "localhost.example.org",
                               "--san");
}

static void test_wrong_ca(void **state)
{
    const struct ab *t = *state;
    struct bs_tls_ctx *cctx = client_ctx("b/ca.crt");
    struct pair p;
    pair_open(&p, t->sctx, cctx, NULL, "localhost");
    handshake(&p);
    assert_int_equal(p.c.st, BS_TLS_ERR);
    assert_failed(p.c.bs, BS_TLS_FAIL_VERIFY,
                  "not signed by a CA in b/ca.crt: pass the right --ca-file");
    assert_int_equal(p.s.st, BS_TLS_ERR);
    assert_failed(p.s.bs, BS_TLS_FAIL_VERIFY,
                  "the client rejected this server's certificate");
    pair_close(&p);

    /* An insecure client does not care. */
    struct bs_tls_ctx *insecure =
        client_ctx_full("b/ca.crt", NULL, NULL, 1, NULL);
    pair_open(&p, t->sctx, insecure, NULL, "not-the-name");
    assert_handshake_ok(&p);
    pair_close(&p);
    pair_open(&p, t->sctx, insecure, NULL, NULL);
    assert_handshake_ok(&p);
    pair_close(&p);
    bs_tls_ctx_free(insecure);
    bs_tls_ctx_free(cctx);
}

static void test_expired_and_future(void **state)
{
    const struct ab *t = *state;
    struct bs_tls_ctx *sctx =
        server_ctx("expired.crt", "expired.key", NULL, BS_TLS_VERIFY_NONE, 13);
    expect_client_verify_error(sctx, t->cctx, "localhost",
                               "the server's certificate expired on 20");
    expect_client_verify_error(sctx, t->cctx, "localhost", "(valid from 20");
    bs_tls_ctx_free(sctx);
    sctx = server_ctx("future.crt", "future.key", NULL, BS_TLS_VERIFY_NONE, 13);
    expect_client_verify_error(sctx, t->cctx, "localhost",
                               "the server's certificate is not valid before");
    bs_tls_ctx_free(sctx);
}

static void test_alpn_none_accepted_other_refused(void **state)
{
    const struct ab *t = *state;
    SSL_CTX *none = raw_client_ctx(0, NULL, 0);
    struct pair p;
    pair_open(&p, t->sctx, NULL, none, NULL);
    assert_handshake_ok(&p);
    assert_string_equal(bs_tls_conn_alpn(p.s.bs), "");
    pair_close(&p);

    SSL_CTX *h2 = raw_client_ctx(0, "\x02h2\x08http/1.1", 12);
    pair_open(&p, t->sctx, NULL, h2, NULL);
    handshake(&p);
    assert_int_equal(p.s.st, BS_TLS_ERR);
    assert_int_equal(p.c.st, BS_TLS_ERR);
    assert_failed(p.s.bs, BS_TLS_FAIL_HANDSHAKE, "\"bitstuff/1\"");
    pair_close(&p);

    /* Ours among others is chosen. */
    SSL_CTX *mixed = raw_client_ctx(0,
                                    "\x02h2\x0a"
                                    "bitstuff/1",
                                    14);
    pair_open(&p, t->sctx, NULL, mixed, NULL);
    assert_handshake_ok(&p);
    assert_string_equal(bs_tls_conn_alpn(p.s.bs), "bitstuff/1");
    pair_close(&p);

    SSL_CTX_free(none);
    SSL_CTX_free(h2);
    SSL_CTX_free(mixed);
}

static void test_versions(void **state)
{
    (void) state;
    SSL_CTX *tls12 = raw_bitstuff_client(TLS1_2_VERSION);
    struct bs_tls_ctx *sctx = a_server();
    struct pair p;
    pair_open(&p, sctx, NULL, tls12, NULL);
    handshake(&p);
    assert_int_equal(p.s.st, BS_TLS_ERR);
    assert_int_equal(p.c.st, BS_TLS_ERR);
    assert_failed(p.s.bs, BS_TLS_FAIL_HANDSHAKE, "no TLS version in common");
    assert_contains(bs_tls_conn_error(p.s.bs), "TLS 1.3 only");
    pair_close(&p);
    bs_tls_ctx_free(sctx);

    /* A TLS 1.2 floor lets it in, with an ECDHE AEAD suite. */
    sctx = server_ctx("a/server.crt", "a/server.key", NULL, BS_TLS_VERIFY_NONE,
                      12);
    pair_open(&p, sctx, NULL, tls12, NULL);
    assert_handshake_ok(&p);
    assert_string_equal(bs_tls_conn_version(p.s.bs), "TLSv1.2");
    assert_string_equal(bs_tls_conn_cipher(p.s.bs),
                        "ECDHE-ECDSA-AES128-GCM-SHA256");
    pair_close(&p);

    /* ... but no CBC or non-ECDHE suite. */
    SSL_CTX *cbc = raw_client_ctx(TLS1_2_VERSION, NULL, 0);
    assert_int_equal(SSL_CTX_set_cipher_list(cbc, "ECDHE-ECDSA-AES128-SHA256:"
                                                  "ECDHE-ECDSA-AES128-SHA"),
                     1);
    pair_open(&p, sctx, NULL, cbc, NULL);
    handshake(&p);
    assert_int_equal(p.s.st, BS_TLS_ERR);
    assert_int_equal(bs_tls_conn_failure(p.s.bs), BS_TLS_FAIL_HANDSHAKE);
    pair_close(&p);
    SSL_CTX_free(cbc);
    SSL_CTX_free(tls12);
    bs_tls_ctx_free(sctx);
}

/* The server refuses cctx's client (a verify failure); in TLS 1.3 the
 * client learns it at its first read.  p stays open for the sentences. */
static void refuse_client(struct pair *p, struct bs_tls_ctx *sctx,
                          struct bs_tls_ctx *cctx)
{
    char buf[64];
    size_t n;

    pair_open(p, sctx, cctx, NULL, "localhost");
    handshake(p);
    assert_int_equal(p->s.st, BS_TLS_ERR);
    assert_int_equal(bs_tls_conn_failure(p->s.bs), BS_TLS_FAIL_VERIFY);
    assert_int_equal(read_wait(p->c.bs, p->fd[1], buf, sizeof buf, &n),
                     BS_TLS_ERR);
    assert_int_equal(bs_tls_conn_failure(p->c.bs), BS_TLS_FAIL_VERIFY);
}

/* The same, the server's sentence holding ssub, the client's csub. */
static void expect_client_refused(struct bs_tls_ctx *sctx,
                                  struct bs_tls_ctx *cctx, const char *ssub,
                                  const char *csub)
{
    struct pair p;

    refuse_client(&p, sctx, cctx);
    assert_contains(bs_tls_conn_error(p.s.bs), ssub);
    assert_contains(bs_tls_conn_error(p.c.bs), csub);
    pair_close(&p);
}

static void test_mtls(void **state)
{
    (void) state;
    struct bs_tls_ctx *sctx = server_ctx("a/server.crt", "a/server.key",
                                         "a/ca.crt", BS_TLS_VERIFY_REQUIRE, 13);
    struct pair p;

    /* No certificate: in TLS 1.3 the client learns it at its first read. */
    struct bs_tls_ctx *anon = a_client();
    expect_client_refused(sctx, anon, "the client sent no certificate",
                          "the server requires a client certificate");

    /* A certificate from another CA. */
    struct bs_tls_ctx *other =
        client_ctx_full("a/ca.crt", "b/client.crt", "b/client.key", 0, NULL);
    expect_client_refused(sctx, other,
                          "the client's certificate is not signed by a CA in "
                          "a/ca.crt",
                          "the server rejected our client certificate");

    /* The right one. */
    struct bs_tls_ctx *good =
        client_ctx_full("a/ca.crt", "a/client.crt", "a/client.key", 0, NULL);
    pair_connect(&p, sctx, good);
    size_t ww;
    transfer(p.c.bs, p.fd[1], p.s.bs, p.fd[0], (const unsigned char *) "1\n", 2,
             &ww);
    char subj[128];
    bs_tls_conn_peer_subject(p.s.bs, subj, sizeof subj);
    assert_string_equal(subj, "CN=bitstuff-client,O=bitstuff");
    pair_close(&p);

    /* OPTIONAL lets a client without a certificate in. */
    struct bs_tls_ctx *opt = server_ctx("a/server.crt", "a/server.key",
                                        "a/ca.crt", BS_TLS_VERIFY_OPTIONAL, 13);
    pair_connect(&p, opt, anon);
    transfer(p.c.bs, p.fd[1], p.s.bs, p.fd[0], (const unsigned char *) "1\n", 2,
             &ww);
    bs_tls_conn_peer_subject(p.s.bs, subj, sizeof subj);
    assert_string_equal(subj, "");
    pair_close(&p);

    bs_tls_ctx_free(opt);
    bs_tls_ctx_free(good);
    bs_tls_ctx_free(other);
    bs_tls_ctx_free(anon);
    bs_tls_ctx_free(sctx);
}

static void expect_server_ctx_error(const char *crt, const char *key,
                                    const char *ca, enum bs_tls_verify v,
                                    int min_version, const char *sub1,
                                    const char *sub2)
{
    struct bs_tls_server_config c = {.cert_file = crt,
                                     .key_file = key,
                                     .ca_file = ca,
                                     .verify_client = v,
                                     .min_version = min_version};
    char err[256] = "";
    assert_null(bs_tls_ctx_new_server(&c, err, sizeof err));
    assert_contains(err, sub1);
    assert_contains(err, sub2);
}

static void test_ctx_errors(void **state)
{
    (void) state;
    static const struct {
        const char *crt, *key, *ca;
        enum bs_tls_verify v;
        int min_version;
        const char *sub1, *sub2;
    } server[] = {
        {"missing.crt", "a/server.key", NULL, BS_TLS_VERIFY_NONE, 13,
         "missing.crt", "No such file"},
        {"a/server.crt", "missing.key", NULL, BS_TLS_VERIFY_NONE, 13,
         "missing.key", "No such file"},
        {"a/server.crt", "b/server.key", NULL, BS_TLS_VERIFY_NONE, 13,
         "private key b/server.key does not match", "a/server.crt"},
        {"garbage.pem", "a/server.key", NULL, BS_TLS_VERIFY_NONE, 13,
         "garbage.pem", "no usable PEM certificate"},
        {"a/server.crt", "garbage.pem", NULL, BS_TLS_VERIFY_NONE, 13,
         "garbage.pem", "no usable private key"},
        {"a/server.crt", "a/server.key", "garbage.pem", BS_TLS_VERIFY_REQUIRE,
         13, "CA file garbage.pem", "no usable PEM certificate"},
        {"a/server.crt", "a/server.key", "missing-ca.crt",
         BS_TLS_VERIFY_REQUIRE, 13, "missing-ca.crt", "No such file"},
        {"a/server.crt", "a/server.key", NULL, BS_TLS_VERIFY_REQUIRE, 13,
         "needs a CA file", ""},
        {"a/server.crt", "a/server.key", NULL, BS_TLS_VERIFY_NONE, 11,
         "TLS version 11", "12"},
        {NULL, "a/server.key", NULL, BS_TLS_VERIFY_NONE, 13, "certificate", ""},
    };
    for (size_t i = 0; i < sizeof server / sizeof server[0]; i++) {
        expect_server_ctx_error(server[i].crt, server[i].key, server[i].ca,
                                server[i].v, server[i].min_version,
                                server[i].sub1, server[i].sub2);
    }

    static const struct {
        struct bs_tls_client_config c;
        const char *sub;
    } client[] = {
        {{"garbage.pem", NULL, NULL, 13, 0, NULL, NULL}, "CA file garbage.pem"},
        {{"a/ca.crt", "a/client.crt", "b/client.key", 13, 0, NULL, NULL},
         "b/client.key does not match certificate a/client.crt"},
        {{"a/ca.crt", NULL, "a/client.key", 13, 0, NULL, NULL},
         "without its certificate"},
        {{"a/ca.crt", NULL, NULL, 13, 0, "no-such-dir/keys.log", NULL},
         "no-such-dir/keys.log"},
    };
    char err[256] = "";
    for (size_t i = 0; i < sizeof client / sizeof client[0]; i++) {
        assert_null(bs_tls_ctx_new_client(&client[i].c, err, sizeof err));
        assert_contains(err, client[i].sub);
    }

    /* A checking client needs a name to check. */
    struct bs_tls_ctx *cctx = a_client();
    assert_null(bs_tls_conn_new(cctx, 0, NULL, err, sizeof err));
    assert_contains(err, "server's name is needed");
    bs_tls_ctx_free(cctx);
    bs_tls_ctx_free(NULL);
}

static void test_keylog(void **state)
{
    const struct ab *t = *state;
    struct bs_tls_ctx *cctx =
        client_ctx_full("a/ca.crt", NULL, NULL, 0, "keys.log");
    struct pair p;
    pair_connect(&p, t->sctx, cctx);
    pair_close(&p);
    bs_tls_ctx_free(cctx);

    struct stat st;
    assert_int_equal(stat("keys.log", &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char text[4096] = "";
    FILE *f = fopen("keys.log", "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_contains(text, "\nCLIENT_TRAFFIC_SECRET_0 ");
    assert_contains(text, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ");
    assert_int_equal(text[n - 1], '\n');
    unlink("keys.log");
}

/* A client context with key log path: NULL and err filled if refused. */
static struct bs_tls_ctx *keylog_client(const char *path, char *err,
                                        size_t errlen)
{
    struct bs_tls_client_config c = {"a/ca.crt", NULL, NULL, 13, 0, path, NULL};
    err[0] = '\0';
    return bs_tls_ctx_new_client(&c, err, errlen);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Issue 9 item 6: the key log is a regular file only we can read. */
static void test_keylog_file_safety(void **state)
{
    (void) state;
    char err[256];
    struct bs_tls_ctx *ctx;

    /* A symlink is not followed, and its target is not created. */
    assert_int_equal(symlink("target.log", "link.log"), 0);
    assert_null(keylog_client("link.log", err, sizeof err));
    assert_contains(err, "symbolic link");
    assert_int_equal(access("target.log", F_OK), -1);
    struct bs_tls_server_config sc = {.cert_file = "a/server.crt",
                                      .key_file = "a/server.key",
                                      .min_version = 13,
                                      .keylog_file = "link.log"};
    assert_null(bs_tls_ctx_new_server(&sc, err, sizeof err));
    assert_contains(err, "symbolic link");
    unlink("link.log");

    /* A FIFO with no reader: refused at once (the old open blocked). */
    assert_int_equal(mkfifo("fifo.log", 0600), 0);
    alarm(30);
    assert_null(keylog_client("fifo.log", err, sizeof err));
    alarm(0);
    assert_contains(err, "FIFO");
    /* ... and with a reader: refused as not a regular file. */
    int rd = open("fifo.log", O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    assert_null(keylog_client("fifo.log", err, sizeof err));
    assert_contains(err, "not a regular file");
    close(rd);
    unlink("fifo.log");

    /* A directory is not a key log either. */
    assert_int_equal(mkdir("dir.log", 0700), 0);
    assert_null(keylog_client("dir.log", err, sizeof err));
    rmdir("dir.log");

    /* An existing 0644 file of ours is narrowed to 0600, kept intact. */
    FILE *f = fopen("old.log", "w");
    assert_non_null(f);
    fputs("# earlier secrets\n", f);
    fclose(f);
    assert_int_equal(chmod("old.log", 0644), 0);
    ctx = keylog_client("old.log", err, sizeof err);
    if (ctx == NULL) {
        fail_msg("old.log refused: %s", err);
    }
    bs_tls_ctx_free(ctx);
    assert_int_equal(mode_of("old.log"), 0600);
    char text[64] = "";
    f = fopen("old.log", "r");
    assert_non_null(f);
    assert_non_null(fgets(text, sizeof text, f));
    fclose(f);
    assert_string_equal(text, "# earlier secrets\n");
    unlink("old.log");

    /* A new file is 0600 whatever the umask lets through. */
    mode_t old_umask = umask(0);
    ctx = keylog_client("new.log", err, sizeof err);
    umask(old_umask);
    assert_non_null(ctx);
    bs_tls_ctx_free(ctx);
    assert_int_equal(mode_of("new.log"), 0600);

    /* A second name for the same file (a hard link) is refused. */
    assert_int_equal(link("new.log", "hard.log"), 0);
    assert_null(keylog_client("hard.log", err, sizeof err));
    assert_contains(err, "hard links");
    unlink("hard.log");
    unlink("new.log");

    /* Someone else's file is refused and left as it was. */
    if (geteuid() == 0) {
        f = fopen("theirs.log", "w");
        assert_non_null(f);
        fclose(f);
        assert_int_equal(chmod("theirs.log", 0644), 0);
        assert_int_equal(chown("theirs.log", 65534, 65534), 0);
        assert_null(keylog_client("theirs.log", err, sizeof err));
        assert_contains(err, "another user");
        assert_int_equal(mode_of("theirs.log"), 0644);
        unlink("theirs.log");
    }
}

static void test_eof_and_network_errors(void **state)
{
    const struct ab *t = *state;
    char buf[64];
    size_t n;

    /* close_notify: EOF. */
    struct pair p;
    pair_connect(&p, t->sctx, t->cctx);
    assert_int_equal(bs_tls_shutdown(p.c.bs), BS_TLS_OK);
    assert_int_equal(read_wait(p.s.bs, p.fd[0], buf, sizeof buf, &n),
                     BS_TLS_EOF);
    assert_int_equal(n, 0);
    pair_close(&p);

    /* The peer vanishes without close_notify: a network failure. */
    pair_vanish(&p, t, 0);
    assert_int_equal(read_wait(p.c.bs, p.fd[1], buf, sizeof buf, &n),
                     BS_TLS_ERR);
    assert_failed(p.c.bs, BS_TLS_FAIL_NETWORK, "without close_notify");
    pair_close(&p);

    /* A client that vanishes without close_notify is an orderly EOF for
     * the server (bitstuff/1 frames its own messages), not an error. */
    pair_vanish(&p, t, 1);
    assert_int_equal(read_wait(p.s.bs, p.fd[0], buf, sizeof buf, &n),
                     BS_TLS_EOF);
    assert_int_equal(n, 0);
    pair_close(&p);

    /* Not TLS at all. */
    pair_open(&p, t->sctx, t->cctx, NULL, "localhost");
    static const char http[] = "GET / HTTP/1.0\r\n\r\n";
    assert_int_equal(write(p.fd[1], http, sizeof http - 1),
                     (ssize_t) (sizeof http - 1));
    assert_int_equal(bs_tls_handshake(p.s.bs), BS_TLS_ERR);
    assert_failed(p.s.bs, BS_TLS_FAIL_HANDSHAKE, "does not speak TLS");
    pair_close(&p);

    /* A peer that hangs up during the handshake. */
    pair_open(&p, t->sctx, t->cctx, NULL, "localhost");
    shutdown(p.fd[1], SHUT_WR);
    assert_int_equal(bs_tls_handshake(p.s.bs), BS_TLS_ERR);
    assert_failed(p.s.bs, BS_TLS_FAIL_NETWORK, "closed the connection");
    pair_close(&p);
}

static void test_partial_writes(void **state)
{
    const struct ab *t = *state;
    struct pair p;
    pair_connect(&p, t->sctx, t->cctx);

    size_t len = 1u << 20, ww = 0;
    unsigned char *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++) {
        data[i] = (unsigned char) (i * 131u + (i >> 9));
    }
    /* Default buffers: a write returns after a record or so. */
    size_t shorts = transfer(p.c.bs, p.fd[1], p.s.bs, p.fd[0], data, len, &ww);
    assert_true(shorts > 0);

    /* A socket buffer smaller than a record: writes block midway, and the
     * retries (with the buffer moved) still deliver every byte in order.
     * OpenSSL counts bytes sent by calls that returned WANT_WRITE in the
     * next successful call. */
    int small = 4096;
    assert_int_equal(
        setsockopt(p.fd[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    assert_int_equal(
        setsockopt(p.fd[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    transfer(p.c.bs, p.fd[1], p.s.bs, p.fd[0], data, len, &ww);
    assert_true(ww > 0);
    transfer(p.s.bs, p.fd[0], p.c.bs, p.fd[1], data, 100000, &ww);
    assert_int_equal(bs_tls_pending(p.s.bs), 0);
    free(data);
    pair_close(&p);
}

/* Freeing the record buffers of a server connection between and in the
 * middle of transfers loses nothing: it declines while they hold data. */
static void test_release_buffers(void **state)
{
    const struct ab *t = *state;
    enum { N = 40000 };
    unsigned char *data = pattern(N, 7u, 251u), *got = malloc(N);
    size_t ww, sent = 0, have = 0, n = 0;
    struct pair p;

    assert_non_null(got);
    pair_connect(&p, t->sctx, t->cctx);
    bs_tls_conn_release_buffers(p.s.bs);
    bs_tls_conn_release_buffers(p.c.bs);
    transfer(p.c.bs, p.fd[1], p.s.bs, p.fd[0], data, N, &ww);
    bs_tls_conn_release_buffers(p.s.bs);
    transfer(p.s.bs, p.fd[0], p.c.bs, p.fd[1], data, N, &ww);
    bs_tls_conn_release_buffers(p.s.bs);

    /* Three records sent, part of the first one read: the rest of it is
     * buffered in the server's TLS object when the buffers are freed. */
    for (int i = 0; i < 1000 && sent < N; i++) {
        size_t k = 0;
        bs_tls_status st = bs_tls_write(p.c.bs, data + sent, N - sent, &k);
        assert_true(st == BS_TLS_OK || st == BS_TLS_WANT_WRITE);
        sent += k;
    }
    assert_int_equal(sent, N);
    assert_int_equal(read_wait(p.s.bs, p.fd[0], got, 1000, &n), BS_TLS_OK);
    have = n;
    bs_tls_conn_release_buffers(p.s.bs);
    while (have < N) {
        assert_int_equal(read_wait(p.s.bs, p.fd[0], got + have, N - have, &n),
                         BS_TLS_OK);
        have += n;
        bs_tls_conn_release_buffers(p.s.bs);
    }
    assert_memory_equal(got, data, N);
    pair_close(&p);
    free(data);
    free(got);
}

/* Write n bytes, all of them (bounded). */
static void write_all(struct bs_tls_conn *w, const void *data, size_t n)
{
    size_t sent = 0;
    for (int i = 0; i < 1000 && sent < n; i++) {
        size_t k = 0;
        bs_tls_status st =
            bs_tls_write(w, (const char *) data + sent, n - sent, &k);
        assert_true(st == BS_TLS_OK || st == BS_TLS_WANT_WRITE);
        sent += k;
    }
    assert_int_equal(sent, n);
}

/*
 * A read that leaves the socket empty makes the next read say WANT_READ
 * without a read(); a BS_TLS_EV_READ event takes that back.  An
 * edge-triggered caller that waited and saw "readable" before it read
 * again must be able to read what came: otherwise it waits for an edge
 * that has already come, while the peer waits for its replies (the
 * deadlock bitstuffd once had under a bulk transfer).  Both roles read
 * ahead.
 */
static void test_drained_then_readable(void **state)
{
    const struct ab *t = *state;
    struct pair p;
    char buf[64];
    size_t n = 0;

    pair_connect(&p, t->sctx, t->cctx);
    for (int role = 0; role < 2; role++) {
        struct bs_tls_conn *w = role == 0 ? p.c.bs : p.s.bs;
        struct bs_tls_conn *r = role == 0 ? p.s.bs : p.c.bs;
        int rfd = role == 0 ? p.fd[0] : p.fd[1];
        struct pollfd pfd = {.fd = rfd, .events = POLLIN, .revents = 0};

        /* (the server's session ticket may come first on the client) */
        write_all(w, "one", 3);
        do {
            assert_int_equal(read_wait(r, rfd, buf, sizeof buf, &n), BS_TLS_OK);
        } while (n != 3);
        assert_memory_equal(buf, "one", 3);

        /* Left empty: the next read is skipped, once. */
        write_all(w, "two", 3);
        assert_int_equal(poll(&pfd, 1, 1000), 1);
        assert_int_equal(bs_tls_read(r, buf, sizeof buf, &n), BS_TLS_WANT_READ);
        assert_int_equal(bs_tls_read(r, buf, sizeof buf, &n), BS_TLS_OK);
        assert_int_equal(n, 3);
        assert_memory_equal(buf, "two", 3);

        /* Left empty again, then the wait says readable: read at once. */
        write_all(w, "three", 5);
        assert_int_equal(poll(&pfd, 1, 1000), 1);
        bs_tls_conn_events(r, BS_TLS_EV_READ);
        assert_int_equal(bs_tls_read(r, buf, sizeof buf, &n), BS_TLS_OK);
        assert_int_equal(n, 5);
        assert_memory_equal(buf, "three", 5);
    }
    pair_close(&p);
}

/*
 * The readiness contract (tls.h): each side of a connection says what it
 * waits for, only the readiness it waits for frees it, and the peer's
 * FIN is never taken for an empty socket.
 */
static void test_readiness_contract(void **state)
{
    const struct ab *t = *state;
    static unsigned char big[16384];
    struct pair p;
    char buf[64];
    size_t n = 0;
    bs_tls_status st = BS_TLS_OK;

    pair_open(&p, t->sctx, t->cctx, NULL, "localhost");
    /* A new server connection waits for the client's first bytes; the
     * client has its ClientHello to send. */
    assert_int_equal(bs_tls_conn_wants(p.s.bs), BS_TLS_EV_READ);
    assert_true(bs_tls_conn_blocked(p.s.bs, BS_TLS_RECV_SIDE));
    assert_false(bs_tls_conn_blocked(p.s.bs, BS_TLS_SEND_SIDE));
    assert_int_equal(bs_tls_conn_wants(p.c.bs), 0);
    bs_tls_conn_events(p.s.bs, BS_TLS_EV_WRITE); /* not what it waits for */
    assert_true(bs_tls_conn_blocked(p.s.bs, BS_TLS_RECV_SIDE));
    bs_tls_conn_events(p.s.bs, BS_TLS_EV_READ);
    assert_int_equal(bs_tls_conn_wants(p.s.bs), 0);
    assert_handshake_ok(&p);
    assert_int_equal(bs_tls_conn_wants(p.s.bs), 0);

    /* Nothing to read: the receiving side waits, the sending side not. */
    assert_int_equal(bs_tls_read(p.s.bs, buf, sizeof buf, &n),
                     BS_TLS_WANT_READ);
    assert_int_equal(bs_tls_conn_wants(p.s.bs), BS_TLS_EV_READ);
    assert_false(bs_tls_conn_blocked(p.s.bs, BS_TLS_SEND_SIDE));
    write_all(p.c.bs, "one", 3);
    bs_tls_conn_events(p.s.bs, BS_TLS_EV_READ);
    assert_false(bs_tls_conn_blocked(p.s.bs, BS_TLS_RECV_SIDE));
    assert_int_equal(bs_tls_read(p.s.bs, buf, sizeof buf, &n), BS_TLS_OK);
    assert_int_equal(n, 3);

    /* The peer's FIN behind its last bytes: after BS_TLS_EV_RDHUP every
     * read goes to the socket, so the end is found without another
     * event (none would come). */
    write_all(p.c.bs, "two", 3);
    assert_int_equal(shutdown(p.fd[1], SHUT_WR), 0);
    bs_tls_conn_events(p.s.bs, BS_TLS_EV_RDHUP);
    assert_int_equal(bs_tls_read(p.s.bs, buf, sizeof buf, &n), BS_TLS_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "two", 3);
    assert_int_equal(bs_tls_read(p.s.bs, buf, sizeof buf, &n), BS_TLS_EOF);

    /* A peer that does not read: the sending side waits for room, and
     * only writability (or a hang-up) frees it; retry forgets the wait. */
    for (int i = 0; i < 10000 && st == BS_TLS_OK; i++) {
        st = bs_tls_write(p.s.bs, big, sizeof big, &n);
    }
    assert_int_equal(st, BS_TLS_WANT_WRITE);
    assert_int_equal(bs_tls_conn_wants(p.s.bs), BS_TLS_EV_WRITE);
    assert_true(bs_tls_conn_blocked(p.s.bs, BS_TLS_SEND_SIDE));
    bs_tls_conn_events(p.s.bs, BS_TLS_EV_READ);
    assert_true(bs_tls_conn_blocked(p.s.bs, BS_TLS_SEND_SIDE));
    bs_tls_conn_events(p.s.bs, BS_TLS_EV_HUP);
    assert_false(bs_tls_conn_blocked(p.s.bs, BS_TLS_SEND_SIDE));
    assert_int_equal(bs_tls_write(p.s.bs, big, sizeof big, &n),
                     BS_TLS_WANT_WRITE);
    assert_true(bs_tls_conn_blocked(p.s.bs, BS_TLS_SEND_SIDE));
    bs_tls_conn_retry(p.s.bs, BS_TLS_SEND_SIDE);
    assert_int_equal(bs_tls_conn_wants(p.s.bs), 0);
    pair_close(&p);
}

/*
 * Gathered writes: a bulk write goes out in writes of several records,
 * what the socket does not take waits for bs_tls_flush (and is reported),
 * close_notify comes after all of it, and the bytes arrive intact, both
 * ways.
 */
static void test_gathered_writes(void **state)
{
    const struct ab *t = *state;
    enum { N = 3 * 1024 * 1024 };
    unsigned char *data = pattern(N, 131u, 4093u), *got = malloc(N);
    size_t ww, sent = 0, have = 0, n = 0;
    struct pair p;
    bs_tls_status st = BS_TLS_OK;

    assert_non_null(got);
    pair_connect(&p, t->sctx, t->cctx);
    bs_tls_conn_gather_writes(p.s.bs);
    bs_tls_conn_gather_writes(p.c.bs);
    transfer(p.c.bs, p.fd[1], p.s.bs, p.fd[0], data, N, &ww);
    transfer(p.s.bs, p.fd[0], p.c.bs, p.fd[1], data, N, &ww);
    assert_false(bs_tls_write_pending(p.s.bs));

    /* Room in the socket: a bulk write leaves nothing gathered, and the
     * peer reads it all without a flush. */
    assert_int_equal(bs_tls_write(p.s.bs, data, 40000, &n), BS_TLS_OK);
    assert_int_equal(n, 40000);
    assert_false(bs_tls_write_pending(p.s.bs));
    while (have < 40000) {
        assert_int_equal(
            read_wait(p.c.bs, p.fd[1], got + have, 40000 - have, &n),
            BS_TLS_OK);
        have += n;
    }
    assert_memory_equal(got, data, 40000);
    have = 0;

    /* The peer does not read: the socket fills, records wait gathered. */
    for (int i = 0; i < 10000 && sent < N; i++) {
        size_t k = 0;
        st = bs_tls_write(p.s.bs, data + sent, N - sent, &k);
        if (st != BS_TLS_OK) {
            break;
        }
        sent += k;
    }
    assert_int_equal(st, BS_TLS_WANT_WRITE);
    assert_true(sent > 0 && sent < N);
    assert_true(bs_tls_write_pending(p.s.bs));
    assert_int_equal(bs_tls_flush(p.s.bs), BS_TLS_WANT_WRITE);

    /* Now it reads: the writer finishes, then closes; close_notify comes
     * behind every gathered byte, and all of them arrive. */
    int closed = 0;
    for (int i = 0; i < 100000; i++) {
        int want_out = 0;
        if (sent < N) {
            size_t k = 0;
            st = bs_tls_write(p.s.bs, data + sent, N - sent, &k);
            sent += k;
            want_out = st == BS_TLS_WANT_WRITE;
        } else if (!closed) {
            st = bs_tls_shutdown(p.s.bs); /* flushes first */
            closed = st == BS_TLS_OK;
            want_out = st == BS_TLS_WANT_WRITE;
            if (closed) {
                assert_false(bs_tls_write_pending(p.s.bs)); /* all sent */
            }
        }
        unsigned char extra[64]; /* more than sent would land here */
        bs_tls_status rs = have < N
                               ? bs_tls_read(p.c.bs, got + have, N - have, &n)
                               : bs_tls_read(p.c.bs, extra, sizeof extra, &n);
        if (rs == BS_TLS_OK) {
            assert_true(have < N);
            have += n;
            continue;
        }
        if (rs == BS_TLS_EOF) {
            break;
        }
        if (rs != BS_TLS_WANT_READ) {
            fail_msg("read: %d %s", rs, bs_tls_conn_error(p.c.bs));
        }
        struct pollfd pfd[2] = {{.fd = p.fd[1], .events = POLLIN},
                                {.fd = p.fd[0], .events = POLLOUT}};
        assert_true(poll(pfd, want_out ? 2 : 1, 1000) > 0);
        bs_tls_conn_events(p.c.bs, BS_TLS_EV_READ);
    }
    assert_true(closed);
    assert_false(bs_tls_write_pending(p.s.bs));
    assert_int_equal(have, N);
    assert_memory_equal(got, data, N);

    /* Once empty, the gather buffer goes back with the record buffers. */
    bs_tls_conn_release_buffers(p.c.bs);
    assert_false(bs_tls_write_pending(p.c.bs));
    pair_close(&p);
    free(data);
    free(got);
}

/* A resumable session from a raw TLS 1.3 client of sctx (the ticket
 * travels after the handshake: read one byte to take it in). */
static SSL_SESSION *raw_session(struct bs_tls_ctx *sctx, SSL_CTX *raw)
{
    struct pair p;
    size_t n = 0;
    char c = 0;

    pair_open(&p, sctx, NULL, raw, NULL);
    assert_handshake_ok(&p);
    assert_false(bs_tls_conn_resumed(p.s.bs));
    assert_int_equal(bs_tls_write(p.s.bs, "x", 1, &n), BS_TLS_OK);
    for (int i = 0; i < 50 && SSL_read_ex(p.c.raw, &c, 1, &n) != 1; i++) {
        struct pollfd pfd = {.fd = p.fd[1], .events = POLLIN, .revents = 0};
        assert_true(poll(&pfd, 1, 1000) > 0);
    }
    assert_int_equal(c, 'x');
    SSL_SESSION *sess = SSL_get1_session(p.c.raw);
    assert_non_null(sess);
    /* A connection freed without close_notify spoils its session. */
    assert_true(SSL_shutdown(p.c.raw) >= 0);
    pair_close(&p);
    assert_true(SSL_SESSION_is_resumable(sess));
    return sess;
}

static void test_resumption(void **state)
{
    const struct ab *t = *state;
    SSL_CTX *raw = raw_bitstuff_client(0);
    struct pair p;
    SSL_SESSION *sess = raw_session(t->sctx, raw);

    pair_open(&p, t->sctx, NULL, raw, NULL);
    assert_int_equal(SSL_set_session(p.c.raw, sess), 1);
    assert_handshake_ok(&p);
    assert_true(bs_tls_conn_resumed(p.s.bs));
    pair_close(&p);
    SSL_SESSION_free(sess);
    SSL_CTX_free(raw);
}

/* The same through the client API, as bitstuff-bench --resume uses it. */
static void test_client_session_api(void **state)
{
    const struct ab *t = *state;
    struct bs_tls_session *sess = NULL;
    struct pair p;
    size_t n = 0;
    char c = 0;

    pair_connect(&p, t->sctx, t->cctx);
    assert_int_equal(bs_tls_write(p.s.bs, "y", 1, &n), BS_TLS_OK);
    for (int i = 0; i < 50 && bs_tls_read(p.c.bs, &c, 1, &n) != BS_TLS_OK; i++)
    {
        struct pollfd pfd = {.fd = p.fd[1], .events = POLLIN, .revents = 0};
        assert_true(poll(&pfd, 1, 1000) > 0);
    }
    assert_int_equal(c, 'y');
    sess = bs_tls_conn_get_session(p.c.bs);
    assert_non_null(sess);
    assert_int_equal(bs_tls_shutdown(p.c.bs), BS_TLS_OK);
    pair_close(&p);

    pair_open(&p, t->sctx, t->cctx, NULL, "localhost");
    assert_int_equal(bs_tls_conn_set_session(p.c.bs, sess), 0);
    assert_handshake_ok(&p);
    assert_true(bs_tls_conn_resumed(p.c.bs));
    assert_true(bs_tls_conn_resumed(p.s.bs));
    pair_close(&p);
    bs_tls_session_free(sess);

    /* without the session: a full handshake */
    pair_connect(&p, t->sctx, t->cctx);
    assert_false(bs_tls_conn_resumed(p.c.bs));
    pair_close(&p);
    bs_tls_session_free(NULL);
}

/* Issue 16 item 2: a ClientHello that offers 0-RTT, followed by 0-RTT
 * records, gets a handshake with the early data declined and skipped
 * (RFC 8446 sec. 4.2.10), not an abort ("too much early data"). */
static void test_early_data_declined_and_skipped(void **state)
{
    const struct ab *t = *state;
    SSL_CTX *raw = raw_bitstuff_client(0);
    /* Skipped up to 16 KiB; beyond that the bound holds (an abort). */
    static const size_t sizes[] = {1, 5000, 14000, 24000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct pair p;
        char early[24000];
        size_t left = sizes[k], w = 0;

        /* Our tickets never offer 0-RTT; a client may try all the same
         * (here: it believes the ticket allows 64 KiB). */
        SSL_SESSION *got = raw_session(t->sctx, raw);
        assert_int_equal(SSL_SESSION_get_max_early_data(got), 0);
        SSL_SESSION *sess = SSL_SESSION_dup(got);
        assert_non_null(sess);
        SSL_SESSION_free(got);
        assert_int_equal(SSL_SESSION_set_max_early_data(sess, 65536), 1);

        memset(early, 'E', sizeof early);
        pair_open(&p, t->sctx, NULL, raw, NULL);
        assert_int_equal(SSL_set_session(p.c.raw, sess), 1);
        /* Early data in records of at most 4 KiB: several 0-RTT records */
        for (int i = 0; i < 100 && left > 0; i++) {
            size_t chunk = left < 4096 ? left : 4096;
            if (SSL_write_early_data(p.c.raw, early, chunk, &w) == 1) {
                left -= w;
                continue;
            }
            int e = SSL_get_error(p.c.raw, 0);
            assert_true(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE);
            ERR_clear_error();
            struct pollfd pfd = {.fd = p.fd[1],
                                 .events = e == SSL_ERROR_WANT_READ ? POLLIN
                                                                    : POLLOUT,
                                 .revents = 0};
            (void) poll(&pfd, 1, 10);
        }
        assert_int_equal(left, 0);
        if (sizes[k] > 16384) {
            handshake(&p);
            assert_int_equal(p.s.st, BS_TLS_ERR);
            assert_contains(bs_tls_conn_error(p.s.bs), "too much early data");
            pair_close(&p);
            SSL_SESSION_free(sess);
            continue;
        }
        assert_handshake_ok(&p);
        assert_int_equal(SSL_get_early_data_status(p.c.raw),
                         SSL_EARLY_DATA_REJECTED);
        /* The connection then works as any other. */
        size_t n = 0;
        char c = 0;
        assert_int_equal(SSL_write_ex(p.c.raw, "q", 1, &n), 1);
        assert_int_equal(read_wait(p.s.bs, p.fd[0], &c, 1, &n), BS_TLS_OK);
        assert_int_equal(c, 'q');
        pair_close(&p);
        SSL_SESSION_free(sess);
    }
    SSL_CTX_free(raw);
}

/* One TLS 1.2 handshake of raw against sctx, offering sess (or NULL);
 * returns the session the client ends with (new reference). */
static SSL_SESSION *tls12_handshake(struct bs_tls_ctx *sctx, SSL_CTX *raw,
                                    SSL_SESSION *sess, int *resumed)
{
    struct pair p;
    pair_open(&p, sctx, NULL, raw, NULL);
    if (sess != NULL) {
        assert_int_equal(SSL_set_session(p.c.raw, sess), 1);
    }
    assert_handshake_ok(&p);
    assert_string_equal(bs_tls_conn_version(p.s.bs), "TLSv1.2");
    *resumed = bs_tls_conn_resumed(p.s.bs);
    SSL_SESSION *out = SSL_get1_session(p.c.raw);
    /* Both close properly, as bitstuffd does (libssl drops the session of
     * a connection freed without close_notify from its cache). */
    assert_int_equal(bs_tls_shutdown(p.s.bs), BS_TLS_OK);
    assert_true(SSL_shutdown(p.c.raw) >= 0);
    pair_close(&p);
    return out;
}

/* Issue 9 item 7: TLS 1.2 clients without tickets filled the server's
 * session cache for two hours, unbounded by --max-conns.  Servers keep
 * no session cache now; tickets still resume (TLS 1.2 and 1.3). */
static void test_session_cache_bounded(void **state)
{
    (void) state;
    struct bs_tls_ctx *sctx = server_ctx("a/server.crt", "a/server.key", NULL,
                                         BS_TLS_VERIFY_NONE, 12);
    SSL_CTX *noticket = raw_client_ctx(TLS1_2_VERSION, NULL, 0);
    SSL_CTX_set_options(noticket, SSL_OP_NO_TICKET);
    int resumed = 0;

    for (int i = 0; i < 40; i++) {
        SSL_SESSION *s = tls12_handshake(sctx, noticket, NULL, &resumed);
        assert_false(resumed);
        SSL_SESSION_free(s);
    }
    assert_int_equal(bs_tls_ctx_cached_sessions(sctx), 0);

    /* A session id alone resumes nothing: a full handshake. */
    SSL_SESSION *s = tls12_handshake(sctx, noticket, NULL, &resumed);
    SSL_SESSION *s2 = tls12_handshake(sctx, noticket, s, &resumed);
    assert_false(resumed);
    SSL_SESSION_free(s);
    SSL_SESSION_free(s2);

    /* With a ticket, TLS 1.2 resumes; the cache stays empty. */
    SSL_CTX *ticket = raw_client_ctx(TLS1_2_VERSION, NULL, 0);
    s = tls12_handshake(sctx, ticket, NULL, &resumed);
    assert_false(resumed);
    s2 = tls12_handshake(sctx, ticket, s, &resumed);
    assert_true(resumed);
    assert_int_equal(bs_tls_ctx_cached_sessions(sctx), 0);
    SSL_SESSION_free(s);
    SSL_SESSION_free(s2);
    SSL_CTX_free(ticket);
    SSL_CTX_free(noticket);
    bs_tls_ctx_free(sctx);
}

/* Issue 9 item 5: what a certificate reload may replace. */
static void expect_renewal(struct bs_tls_ctx *old, const char *crt,
                           const char *key, const char *ca, const char *want)
{
    struct bs_tls_ctx *nw = server_ctx(
        crt, key, ca, ca != NULL ? BS_TLS_VERIFY_OPTIONAL : BS_TLS_VERIFY_NONE,
        13);
    char err[512] = "";
    int rc = bs_tls_ctx_check_renewal(old, nw, err, sizeof err);
    if (want == NULL) {
        assert_int_equal(rc, 0);
    } else {
        assert_int_equal(rc, -1);
        assert_contains(err, want);
    }
    bs_tls_ctx_free(nw);
}

static void test_renewal_rules(void **state)
{
    (void) state;
    struct bs_tls_ctx *old = a_server();
    char serial[80];

    bs_tls_ctx_cert_serial(old, 0, serial, sizeof serial);
    assert_true(strlen(serial) > 0);
    bs_tls_ctx_cert_serial(old, 1, serial, sizeof serial);
    assert_string_equal(serial, "");
    /* the same certificate again: fine */
    expect_renewal(old, "a/server.crt", "a/server.key", NULL, NULL);
    expect_renewal(old, "expired.crt", "expired.key", NULL, "expired on");
    expect_renewal(old, "future.crt", "future.key", NULL, "not valid before");
    expect_renewal(old, "b/server.crt", "b/server.key", NULL,
                   "does not chain to the CA the previous one did");
    bs_tls_ctx_free(old);

    /* with the CA at hand (--ca-file), the chain is verified for real */
    old = server_ctx("a/server.crt", "a/server.key", "a/ca.crt",
                     BS_TLS_VERIFY_OPTIONAL, 13);
    expect_renewal(old, "a/server.crt", "a/server.key", "a/ca.crt", NULL);
    expect_renewal(old, "b/server.crt", "b/server.key", "a/ca.crt",
                   "does not chain");
    make_server_cert("noipv6.crt", "noipv6.key", -60, 86400L);
    expect_renewal(old, "noipv6.crt", "noipv6.key", "a/ca.crt", "drops IP:::1");
    bs_tls_ctx_free(old);
}

/* The one parser of --min-tls (server, client, bench). */
static void test_parse_version(void **state)
{
    (void) state;
    assert_int_equal(bs_tls_parse_version("1.2"), 12);
    assert_int_equal(bs_tls_parse_version("1.3"), 13);
    static const char *const bad[] = {"1.1", "",    "1.30", "1.2 ",
                                      "13",  "1.0", "v1.3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(bs_tls_parse_version(bad[i]), 0);
    }
}

/* ---- issue 11 item 5: the library's sentences name no option --------- */

/* A sentence of the TLS module with no program's advice: it may say what
 * to do, but never in a program's terms (an option "--x", the script). */
static void assert_neutral(const char *msg)
{
    if (strstr(msg, "gen-certs") != NULL) {
        fail_msg("\"%s\" names the certificate script", msg);
    }
    for (const char *d = strstr(msg, "--"); d != NULL; d = strstr(d, "--")) {
        while (*d == '-') {
            d++;
        }
        /* "-----BEGIN X509 CRL-----" is a fact; "--ca-file" is advice */
        if (*d >= 'a' && *d <= 'z') {
            fail_msg("\"%s\" names an option", msg);
        }
    }
}

/* The connection's sentence is neutral and about reason why. */
static void assert_neutral_conn(const struct bs_tls_conn *c,
                                enum bs_tls_reason why)
{
    assert_int_equal(bs_tls_conn_reason(c), why);
    assert_true(bs_tls_conn_error(c)[0] != '\0');
    assert_neutral(bs_tls_conn_error(c));
}

static struct bs_tls_ctx *neutral_server(const char *crt, const char *key,
                                         const char *ca, enum bs_tls_verify v)
{
    struct bs_tls_server_config c = {
        .cert_file = crt, .key_file = key, .ca_file = ca, .verify_client = v};
    return server_from(&c);
}

static struct bs_tls_ctx *neutral_client(const char *ca, const char *crt,
                                         const char *key)
{
    struct bs_tls_client_config c = {
        .ca_file = ca, .cert_file = crt, .key_file = key};
    return client_from(&c);
}

/* A certificate check that fails on both sides: each side's sentence is
 * neutral and names its reason. */
static void expect_neutral_pair(struct bs_tls_ctx *sctx,
                                struct bs_tls_ctx *cctx, const char *name,
                                enum bs_tls_reason cwhy,
                                enum bs_tls_reason swhy)
{
    struct pair p;
    pair_open(&p, sctx, cctx, NULL, name);
    handshake(&p);
    assert_int_equal(p.c.st, BS_TLS_ERR);
    assert_int_equal(p.s.st, BS_TLS_ERR);
    assert_neutral_conn(p.c.bs, cwhy);
    assert_neutral_conn(p.s.bs, swhy);
    pair_close(&p);
}

static void test_messages_neutral_conn(void **state)
{
    (void) state;
    struct bs_tls_ctx *sctx = neutral_server("a/server.crt", "a/server.key",
                                             NULL, BS_TLS_VERIFY_NONE);
    struct bs_tls_ctx *ca_a = neutral_client("a/ca.crt", NULL, NULL);
    struct bs_tls_ctx *ca_b = neutral_client("b/ca.crt", NULL, NULL);

    expect_neutral_pair(sctx, ca_b, "localhost", BS_TLS_R_PEER_UNTRUSTED,
                        BS_TLS_R_OWN_CA_UNKNOWN);
    expect_neutral_pair(sctx, ca_a, "example.org", BS_TLS_R_NAME_MISMATCH,
                        BS_TLS_R_OWN_NAME_WRONG);
    expect_neutral_pair(sctx, ca_a, "10.1.2.3", BS_TLS_R_NAME_MISMATCH,
                        BS_TLS_R_OWN_NAME_NO_SNI);
    struct bs_tls_ctx *expired =
        neutral_server("expired.crt", "expired.key", NULL, BS_TLS_VERIFY_NONE);
    expect_neutral_pair(expired, ca_a, "localhost", BS_TLS_R_CERT_EXPIRED,
                        BS_TLS_R_NONE);
    bs_tls_ctx_free(expired);

    /* mutual TLS without a client certificate */
    struct bs_tls_ctx *mtls = neutral_server("a/server.crt", "a/server.key",
                                             "a/ca.crt", BS_TLS_VERIFY_REQUIRE);
    struct pair p;
    refuse_client(&p, mtls, ca_a);
    assert_neutral_conn(p.s.bs, BS_TLS_R_NO_CLIENT_CERT);
    assert_neutral_conn(p.c.bs, BS_TLS_R_CERT_REQUIRED);
    pair_close(&p);
    bs_tls_ctx_free(mtls);

    /* a client on no allow-list */
    static const char *const only[] = {"someone-else"};
    struct bs_tls_server_config pc = {.cert_file = "a/server.crt",
                                      .key_file = "a/server.key",
                                      .ca_file = "a/ca.crt",
                                      .verify_client = BS_TLS_VERIFY_REQUIRE,
                                      .allow_cn = only,
                                      .nallow_cn = 1};
    char err[512] = "";
    struct bs_tls_ctx *policy = bs_tls_ctx_new_server(&pc, err, sizeof err);
    assert_non_null(policy);
    struct bs_tls_ctx *client =
        neutral_client("a/ca.crt", "a/client.crt", "a/client.key");
    pair_open(&p, policy, client, NULL, "localhost");
    handshake(&p);
    assert_int_equal(p.s.st, BS_TLS_ERR);
    assert_neutral_conn(p.s.bs, BS_TLS_R_NOT_ALLOWED);
    pair_close(&p);
    bs_tls_ctx_free(client);
    bs_tls_ctx_free(policy);

    bs_tls_ctx_free(ca_a);
    bs_tls_ctx_free(ca_b);
    bs_tls_ctx_free(sctx);
}

/* The program's advice, where it has some, ends the same sentence. */
static void test_messages_program_advice(void **state)
{
    (void) state;
    for (int r = BS_TLS_R_NONE + 1; r < BS_TLS_R_COUNT; r++) {
        const char *srv = bs_server_tls_advice((enum bs_tls_reason) r);
        const char *cli = bs_cli_tls_advice((enum bs_tls_reason) r);
        /* every reason is some program's to advise on */
        assert_true(srv != NULL || cli != NULL);
    }
    assert_null(bs_server_tls_advice(BS_TLS_R_COUNT));
    assert_null(bs_cli_tls_advice(BS_TLS_R_COUNT));
}

static void test_messages_neutral_ctx(void **state)
{
    (void) state;
    char err[512];

    struct bs_tls_client_config keyonly = {.ca_file = "a/ca.crt",
                                           .key_file = "a/client.key"};
    assert_null(bs_tls_ctx_new_client(&keyonly, err, sizeof err));
    assert_neutral(err);
    keyonly.advice = bs_cli_tls_advice;
    assert_null(bs_tls_ctx_new_client(&keyonly, err, sizeof err));
    assert_contains(err, "without its certificate: pass --cert too");

    static const char *const only[] = {"someone"};
    struct bs_tls_server_config sc = {.cert_file = "a/server.crt",
                                      .key_file = "a/server.key",
                                      .allow_cn = only,
                                      .nallow_cn = 1};
    assert_null(bs_tls_ctx_new_server(&sc, err, sizeof err));
    assert_neutral(err);
    sc.allow_cn = NULL;
    sc.nallow_cn = 0;
    sc.ca_file = "a/ca.crt";
    sc.verify_client = BS_TLS_VERIFY_REQUIRE;
    sc.crl_file = "garbage.pem";
    assert_null(bs_tls_ctx_new_server(&sc, err, sizeof err));
    assert_contains(err, "holds no PEM CRL");
    assert_neutral(err);
    sc.crl_file = NULL;
    sc.groups = "X25519:nope";
    assert_null(bs_tls_ctx_new_server(&sc, err, sizeof err));
    assert_contains(err, "'nope' is not a group");
    assert_neutral(err);
    sc.advice = bs_server_tls_advice;
    assert_null(bs_tls_ctx_new_server(&sc, err, sizeof err));
    assert_contains(err, "key-exchange groups (--groups) 'X25519:nope'");

    /* a reload's refusals */
    sc.groups = NULL;
    sc.advice = NULL;
    struct bs_tls_ctx *old = bs_tls_ctx_new_server(&sc, err, sizeof err);
    assert_non_null(old);
    static const char *const next[][2] = {{"expired.crt", "expired.key"},
                                          {"b/server.crt", "b/server.key"},
                                          {"noipv6.crt", "noipv6.key"}};
    make_server_cert("noipv6.crt", "noipv6.key", -60, 86400L);
    for (size_t i = 0; i < sizeof next / sizeof next[0]; i++) {
        struct bs_tls_ctx *nw = neutral_server(next[i][0], next[i][1],
                                               "a/ca.crt", BS_TLS_VERIFY_NONE);
        err[0] = '\0';
        assert_int_equal(bs_tls_ctx_check_renewal(old, nw, err, sizeof err),
                         -1);
        assert_neutral(err);
        bs_tls_ctx_free(nw);
    }
    bs_tls_ctx_free(old);
}

/* ---- shared session-ticket keys (issue 14 item 2) ----------------------- */

/* Write lines (a text) into path, mode 0600. */
static void write_keys(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    close(fd);
}

/* Three 80-byte keys in hex, with distinct names. */
#define TK_HEX(c) c c c c c c c c c c c c c c c c c c c c
#define TK1       TK_HEX("11111111") "\n"
#define TK2       TK_HEX("22222222") "\n"
#define TK3       TK_HEX("33333333") "\n"

static struct bs_tls_ctx *ticket_server(const char *keys, int min_version)
{
    struct bs_tls_server_config c = {.cert_file = "a/server.crt",
                                     .key_file = "a/server.key",
                                     .min_version = min_version,
                                     .ticket_key_file = keys};
    return server_from(&c);
}

/* 1 if a TLS 1.3 session sess (from another server) resumes on sctx. */
static int resumes13(struct bs_tls_ctx *sctx, SSL_CTX *raw, SSL_SESSION *sess)
{
    struct pair p;
    pair_open(&p, sctx, NULL, raw, NULL);
    assert_int_equal(SSL_set_session(p.c.raw, sess), 1);
    assert_handshake_ok(&p);
    int r = bs_tls_conn_resumed(p.s.bs);
    pair_close(&p);
    return r;
}

/* A session made through one instance resumes on another that reads the
 * same key file (TLS 1.3 and 1.2); not on one without it, nor on one
 * with other keys. */
static void test_ticket_keys_shared(void **state)
{
    (void) state;
    write_keys("tk12", TK1 TK2);
    write_keys("tk3", TK3);
    struct bs_tls_ctx *a = ticket_server("tk12", 12);
    struct bs_tls_ctx *b = ticket_server("tk12", 12);
    struct bs_tls_ctx *other = ticket_server("tk3", 12);
    struct bs_tls_ctx *none = server_ctx("a/server.crt", "a/server.key", NULL,
                                         BS_TLS_VERIFY_NONE, 12);
    SSL_CTX *raw = raw_bitstuff_client(0);
    SSL_SESSION *s;
    /* a fresh session each time: a TLS 1.3 client offers one once */
    struct bs_tls_ctx *to[] = {b, a, none, other};
    for (size_t i = 0; i < sizeof to / sizeof to[0]; i++) {
        s = raw_session(a, raw);
        assert_int_equal(resumes13(to[i], raw, s), to[i] == a || to[i] == b);
        SSL_SESSION_free(s);
    }

    /* Without the file, two servers do not share: the old behaviour. */
    struct bs_tls_ctx *none2 = server_ctx("a/server.crt", "a/server.key", NULL,
                                          BS_TLS_VERIFY_NONE, 12);
    s = raw_session(none, raw);
    assert_true(resumes13(none, raw, s));
    SSL_SESSION_free(s);
    s = raw_session(none, raw);
    assert_false(resumes13(none2, raw, s));
    SSL_SESSION_free(s);

    /* TLS 1.2 tickets too. */
    SSL_CTX *raw12 = raw_client_ctx(TLS1_2_VERSION, NULL, 0);
    int resumed = 0;
    s = tls12_handshake(a, raw12, NULL, &resumed);
    assert_false(resumed);
    SSL_SESSION *s2 = tls12_handshake(b, raw12, s, &resumed);
    assert_true(resumed);
    SSL_SESSION_free(s2);
    s2 = tls12_handshake(none, raw12, s, &resumed);
    assert_false(resumed);
    SSL_SESSION_free(s2);
    SSL_SESSION_free(s);

    SSL_CTX_free(raw12);
    SSL_CTX_free(raw);
    bs_tls_ctx_free(a);
    bs_tls_ctx_free(b);
    bs_tls_ctx_free(other);
    bs_tls_ctx_free(none);
    bs_tls_ctx_free(none2);
}

/* Rotation: a ticket made with key 1 still resumes once key 2 encrypts
 * (key 1 second in the file), and comes back renewed under key 2; once
 * key 1 is gone, its tickets no longer resume. */
static void test_ticket_keys_rotation(void **state)
{
    (void) state;
    write_keys("tk-old", TK1);
    write_keys("tk-mid", TK2 TK1);
    write_keys("tk-new", TK2);
    struct bs_tls_ctx *old = ticket_server("tk-old", 13);
    struct bs_tls_ctx *mid = ticket_server("tk-mid", 13);
    struct bs_tls_ctx *neu = ticket_server("tk-new", 13);
    SSL_CTX *raw = raw_bitstuff_client(0);
    SSL_SESSION *s1 = raw_session(old, raw);

    assert_true(resumes13(mid, raw, s1));
    assert_false(resumes13(neu, raw, s1));
    SSL_SESSION *s2 = raw_session(mid, raw); /* a ticket under key 2 */
    assert_true(resumes13(neu, raw, s2));
    assert_false(resumes13(old, raw, s2));
    SSL_SESSION_free(s1);
    SSL_SESSION_free(s2);
    SSL_CTX_free(raw);
    bs_tls_ctx_free(old);
    bs_tls_ctx_free(mid);
    bs_tls_ctx_free(neu);
}

static void expect_ticket_file_error(const char *path, const char *want)
{
    char err[512] = "";
    struct bs_tls_server_config c = {.cert_file = "a/server.crt",
                                     .key_file = "a/server.key",
                                     .ticket_key_file = path};
    struct bs_tls_ctx *ctx = bs_tls_ctx_new_server(&c, err, sizeof err);
    if (ctx != NULL) {
        bs_tls_ctx_free(ctx);
        fail_msg("ticket key file %s was accepted", path);
    }
    assert_contains(err, path);
    assert_contains(err, want);
    /* never a key in a message */
    assert_null(strstr(err, "11111111"));
}

static void test_ticket_keys_bad_files(void **state)
{
    (void) state;
    char big[5000 + 1];

    expect_ticket_file_error("tk-missing", "No such file");
    write_keys("tk-empty", "# nothing yet\n\n");
    expect_ticket_file_error("tk-empty", "no key in it");
    write_keys("tk-short", TK1 "1111\n");
    expect_ticket_file_error("tk-short", "line 2: 4 hex digits, expected 160");
    write_keys("tk-nothex", TK1 "zz" TK_HEX("1111111") "11111111111111\n");
    expect_ticket_file_error("tk-nothex", "line 2: character 1 is not a hex");
    write_keys("tk-dup", TK1 "\n# same\n" TK1);
    expect_ticket_file_error("tk-dup", "line 4: the same key name");
    char many[9 * 161 + 1];
    for (int i = 0; i < 9; i++) {
        memset(many + 161 * i, "0123456789"[i], 160);
        many[161 * i + 160] = '\n';
    }
    many[9 * 161] = '\0';
    write_keys("tk-many", many);
    expect_ticket_file_error("tk-many", "more than 8 keys");
    memset(big, '#', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_keys("tk-big", big);
    expect_ticket_file_error("tk-big", "larger than 4096 bytes");
    assert_int_equal(mkdir("tk-dir", 0700), 0);
    expect_ticket_file_error("tk-dir", "not a regular file");
}

int main(void)
{
    /* Writing to a closed socketpair must give EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_echo_alpn),
        AB_TEST(test_ip_literals),
        AB_TEST(test_wrong_host),
        AB_TEST(test_wrong_ca),
        AB_TEST(test_expired_and_future),
        AB_TEST(test_alpn_none_accepted_other_refused),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_mtls),
        cmocka_unit_test(test_ctx_errors),
        AB_TEST(test_keylog),
        AB_TEST(test_eof_and_network_errors),
        AB_TEST(test_partial_writes),
        AB_TEST(test_release_buffers),
        AB_TEST(test_drained_then_readable),
        AB_TEST(test_readiness_contract),
        AB_TEST(test_gathered_writes),
        AB_TEST(test_resumption),
        AB_TEST(test_client_session_api),
        cmocka_unit_test(test_keylog_file_safety),
        AB_TEST(test_early_data_declined_and_skipped),
        cmocka_unit_test(test_session_cache_bounded),
        cmocka_unit_test(test_renewal_rules),
        cmocka_unit_test(test_parse_version),
        cmocka_unit_test(test_messages_neutral_conn),
        cmocka_unit_test(test_messages_neutral_ctx),
        cmocka_unit_test(test_messages_program_advice),
        cmocka_unit_test(test_ticket_keys_shared),
        cmocka_unit_test(test_ticket_keys_rotation),
        cmocka_unit_test(test_ticket_keys_bad_files),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
