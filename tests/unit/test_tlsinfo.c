/*
 * test_tlsinfo.c - -v's words for a TLS connection: the handshake
 * messages as they pass (both ends, over a socketpair), the summary after
 * it (version, group, ALPN, SNI, resumption, the chain with its
 * fingerprint, what was checked), and the chain of a failed handshake.
 * Certificates come from scripts/gen-certs.sh in a temporary directory.
 */
#include <sys/socket.h>

#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include <cmocka.h>

#include "test_certdir.h"
#include "tls.h"
#include "tlsinfo.h"

struct lines {
    char *text; /* every line, each ending in '\n' */
    size_t len;
};

static void collect(void *arg, const char *line)
{
    struct lines *l = arg;
    size_t n = strlen(line);
    char *p = realloc(l->text, l->len + n + 2);

    assert_non_null(p);
    memcpy(p + l->len, line, n);
    p[l->len + n] = '\n';
    p[l->len + n + 1] = '\0';
    l->text = p;
    l->len += n + 1;
}

static int has(const struct lines *l, const char *s)
{
    return l->text != NULL && strstr(l->text, s) != NULL;
}

#define assert_has(l, s)                                                       \
    do {                                                                       \
        if (!has((l), (s))) {                                                  \
            fail_msg("missing \"%s\" in:\n%s", (s),                            \
                     (l)->text != NULL ? (l)->text : "(nothing)");             \
        }                                                                      \
    } while (0)

static int group_setup(void **state)
{
    static const char *const sets[] = {"--out a", "--out b", NULL};

    *state = certdir_enter("test_tlsinfo", sets);
    return *state != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    return certdir_leave(*state);
}

/* l holds the line "<indent>SHA-256 fingerprint: <fp>", where fp is what
 * `openssl x509 -fingerprint -sha256` says of the certificate at path. */
static void assert_has_fingerprint(const struct lines *l, const char *indent,
                                   const char *path)
{
    char cmd[256], buf[256], want[320];
    FILE *p;
    char *eq;

    snprintf(cmd, sizeof cmd, "openssl x509 -in %s -noout -fingerprint -sha256",
             path);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(buf, (int) sizeof buf, p));
    assert_int_equal(pclose(p), 0);
    buf[strcspn(buf, "\n")] = '\0';
    eq = strchr(buf, '=');
    assert_non_null(eq);
    snprintf(want, sizeof want, "%sSHA-256 fingerprint: %s\n", indent, eq + 1);
    assert_has(l, want);
}

/* ---- names -------------------------------------------------------------- */

static void test_names(void **state)
{
    (void) state;
    assert_string_equal(bs_tlsinfo_handshake_name(1), "ClientHello");
    assert_string_equal(bs_tlsinfo_handshake_name(2), "ServerHello");
    assert_string_equal(bs_tlsinfo_handshake_name(8), "EncryptedExtensions");
    assert_string_equal(bs_tlsinfo_handshake_name(11), "Certificate");
    assert_string_equal(bs_tlsinfo_handshake_name(15), "CertificateVerify");
    assert_string_equal(bs_tlsinfo_handshake_name(20), "Finished");
    assert_null(bs_tlsinfo_handshake_name(99));
    assert_string_equal(bs_tlsinfo_content_name(22), "handshake");
    assert_string_equal(bs_tlsinfo_content_name(23), "application_data");
    assert_null(bs_tlsinfo_content_name(99));
    assert_string_equal(bs_tlsinfo_version_name(0x0303), "TLS 1.2");
    assert_string_equal(bs_tlsinfo_version_name(0x0304), "TLS 1.3");
    assert_string_equal(bs_tlsinfo_version_name(0x9999), "unknown");
}

static void test_cert_file(void **state)
{
    struct lines l = {0};

    (void) state;
    assert_int_equal(bs_tlsinfo_describe_cert_file("a/server.crt", collect, &l),
                     0);
    assert_has(&l, "  subject: CN=localhost");
    assert_has(&l, "  issuer: CN=bitstuff local test CA");
    assert_has(&l, "  SANs: DNS:localhost, IP:127.0.0.1, IP:::1\n");
    assert_has(&l, "  key: EC P-256 (prime256v1), 256 bits");
    assert_has(&l, " UTC to ");
    assert_has_fingerprint(&l, "  ", "a/server.crt");
    free(l.text);

    l = (struct lines){0};
    assert_int_equal(
        bs_tlsinfo_describe_cert_file("a/missing.crt", collect, &l), -1);
    assert_has(&l, "cannot open a/missing.crt");
    free(l.text);
}

/* ---- a handshake over a socketpair ------------------------------------- */

struct end {
    struct bs_tls_conn *conn;
    struct bs_tlsinfo_trace trace;
    struct lines trace_lines, info;
    bs_tls_status st;
    int fd;
    size_t lines_before_summary; /* trace bytes given out before it */
};

static int waiting(bs_tls_status st)
{
    return st == BS_TLS_WANT_READ || st == BS_TLS_WANT_WRITE;
}

/* Run both handshakes to an end, bounded. */
static void run_handshake(struct end *s, struct end *c)
{
    s->st = c->st = BS_TLS_WANT_READ;
    for (int i = 0; i < 200 && (waiting(s->st) || waiting(c->st)); i++) {
        struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN},
                              {.fd = c->fd, .events = POLLIN}};

        if (waiting(c->st)) {
            c->st = bs_tls_handshake(c->conn);
        }
        if (waiting(s->st)) {
            s->st = bs_tls_handshake(s->conn);
        }
        (void) poll(p, 2, 50);
    }
}

static void pair(struct end *s, struct end *c, const char *ca,
                 const char *servername, unsigned flags)
{
    struct bs_tls_server_config sc = {.cert_file = "a/server.crt",
                                      .key_file = "a/server.key"};
    struct bs_tls_client_config cc = {.ca_file = ca};
    char err[256] = "";
    struct bs_tls_ctx *sctx = bs_tls_ctx_new_server(&sc, err, sizeof err);
    struct bs_tls_ctx *cctx = bs_tls_ctx_new_client(&cc, err, sizeof err);
    int fd[2];

    if (sctx == NULL || cctx == NULL) {
        fail_msg("context: %s", err);
    }
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd),
                     0);
    memset(s, 0, sizeof *s);
    memset(c, 0, sizeof *c);
    s->fd = fd[0];
    c->fd = fd[1];
    s->conn = bs_tls_conn_new(sctx, fd[0], NULL, err, sizeof err);
    c->conn = bs_tls_conn_new(cctx, fd[1], servername, err, sizeof err);
    assert_non_null(s->conn);
    assert_non_null(c->conn);
    bs_tls_ctx_free(sctx); /* the connections hold their references */
    bs_tls_ctx_free(cctx);
    assert_int_equal(bs_tlsinfo_trace_start(s->conn, &s->trace, collect,
                                            &s->trace_lines, flags),
                     0);
    assert_int_equal(bs_tlsinfo_trace_start(c->conn, &c->trace, collect,
                                            &c->trace_lines, flags),
                     0);
    run_handshake(s, c);
    s->lines_before_summary = s->trace_lines.len;
    c->lines_before_summary = c->trace_lines.len;
    ERR_clear_error();
    bs_tlsinfo_describe(s->conn, &s->trace, collect, &s->info);
    bs_tlsinfo_describe(c->conn, &c->trace, collect, &c->info);
    /* describing leaves no error behind for the connection's next call
     * to take for its own (it once made the server's first read fail) */
    assert_int_equal(ERR_peek_error(), 0);
}

static void end_free(struct end *e)
{
    bs_tls_conn_free(e->conn);
    bs_tlsinfo_trace_free(&e->trace);
    close(e->fd);
    free(e->trace_lines.text);
    free(e->info.text);
}

static void test_handshake(void **state)
{
    struct end s, c;

    (void) state;
    pair(&s, &c, "a/ca.crt", "localhost", 0);
    assert_int_equal(s.st, BS_TLS_OK);
    assert_int_equal(c.st, BS_TLS_OK);
    /* the client's view of the messages */
    assert_has(&c.trace_lines, "> ClientHello (");
    assert_has(&c.trace_lines, "< ServerHello (");
    assert_has(&c.trace_lines, "< EncryptedExtensions (");
    assert_has(&c.trace_lines, "< Certificate (");
    assert_has(&c.trace_lines, "< CertificateVerify (");
    assert_has(&c.trace_lines, "< Finished (");
    assert_has(&c.trace_lines, "> Finished (");
    assert_false(has(&c.trace_lines, "record:"));
    /* and the server's, mirrored */
    assert_has(&s.trace_lines, "< ClientHello (");
    assert_has(&s.trace_lines, "> ServerHello (");
    assert_has(&s.trace_lines, "> Certificate (");
    assert_has(&s.trace_lines, "< Finished (");

    assert_has(&c.info, "TLS version: TLSv1.3\n");
    assert_has(&c.info, "cipher suite: TLS_");
    assert_has(&c.info, "key exchange group: x25519\n");
    assert_has(&c.info, "ALPN: bitstuff/1\n");
    assert_has(&c.info, "SNI: localhost\n");
    assert_has(&c.info, "resumed: no\n");
    assert_has(&c.info, "server certificate chain: 1 certificate, as sent\n");
    assert_has(&c.info, "  [0] subject: CN=localhost");
    assert_has_fingerprint(&c.info, "      ", "a/server.crt");
    assert_has(&c.info, "checked: chain of 2 to trusted CA \"CN=bitstuff "
                        "local test CA");
    assert_has(&c.info, "checked: name \"localhost\" against the "
                        "certificate's SANs: ok (matched DNS:localhost)\n");
    assert_has(&c.info, "checked: dates of every certificate against now (");
    assert_has(&c.info, "handshake: ");

    /* the server saw the name asked for, and no client certificate */
    assert_has(&s.info, "SNI: localhost\n");
    assert_has(&s.info, "client certificate: none (the client sent none)\n");
    end_free(&s);
    end_free(&c);
}

/* -vv: every record header, with its content type, version and length */
static void test_records(void **state)
{
    struct end s, c;

    (void) state;
    pair(&s, &c, "a/ca.crt", "localhost", BS_TLSINFO_RECORDS);
    assert_int_equal(c.st, BS_TLS_OK);
    /* the ClientHello's record says TLS 1.0 for old middleboxes; the
     * encrypted rest of TLS 1.3 travels as application data of 1.2 */
    assert_has(&c.trace_lines, "> record: handshake, TLS 1.0 (0x0301), ");
    assert_has(&c.trace_lines, "< record: application_data, TLS 1.2 "
                               "(0x0303), ");
    assert_has(&c.trace_lines, "inner content type (TLS 1.3): handshake");
    end_free(&s);
    end_free(&c);
}

/* BS_TLSINFO_HOLD (the server's -v): nothing goes out before the
 * summary, then the messages in their order and the summary after them,
 * one block. */
static void test_hold(void **state)
{
    struct end s, c;
    const char *hello, *finished;

    (void) state;
    pair(&s, &c, "a/ca.crt", "localhost", BS_TLSINFO_HOLD);
    assert_int_equal(s.st, BS_TLS_OK);
    assert_int_equal(s.lines_before_summary, 0);
    assert_int_equal(c.lines_before_summary, 0);
    hello = strstr(s.trace_lines.text, "< ClientHello (");
    finished = strstr(s.trace_lines.text, "< Finished (");
    assert_non_null(hello);
    assert_non_null(finished);
    assert_true(hello < finished);
    /* held no more: later lines go out at once */
    bs_tlsinfo_trace_flush(&s.trace);
    assert_int_equal(s.trace.hold, 0);
    end_free(&s);
    end_free(&c);
}

/* Servers the client refuses, an unknown CA and a name the certificate
 * does not hold: the handshake fails, yet -v shows the chain as sent,
 * from the copy of the Certificate message, the alert the client sent
 * and which check failed. */
static const struct {
    const char *ca, *name;
    const char *alert, *check;
} refused[] = {
    {"b/ca.crt", "localhost", "> Alert: fatal, unknown CA",
     "checked: the chain: FAILED: unable to get local issuer certificate"},
    {"a/ca.crt", "other.example", "> Alert: fatal, bad certificate",
     "checked: the chain: FAILED: hostname mismatch"},
};

static void test_refused(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        struct end s, c;

        pair(&s, &c, refused[i].ca, refused[i].name, 0);
        assert_int_equal(c.st, BS_TLS_ERR);
        assert_has(&c.trace_lines, refused[i].alert);
        assert_has(&c.info, "server certificate chain, as sent (the "
                            "handshake failed):\n");
        assert_has_fingerprint(&c.info, "      ", "a/server.crt");
        assert_has(&c.info, refused[i].check);
        end_free(&s);
        end_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),     cmocka_unit_test(test_cert_file),
        cmocka_unit_test(test_handshake), cmocka_unit_test(test_records),
        cmocka_unit_test(test_hold),      cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
