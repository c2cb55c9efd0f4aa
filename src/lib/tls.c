/*
 * tls.c - the project's TLS policy on top of OpenSSL 3.  The only
 * translation unit of the library that includes <openssl/...>.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define ALPN_ID     "bitstuff/1"
#define ALPN_ID_LEN 10
#define ERR_LEN     320
/* The read-ahead buffer of a connection that receives in bulk: one read()
 * takes up to four full records instead of one. */
#define BULK_READ_LEN 65536
/* Ciphertext gathered per write() when sending in bulk (see bs_tls_write):
 * four full TLS 1.3 records (header, 16 KiB, content type, AEAD tag).  A
 * TLS 1.2 record is 8 bytes longer; the fourth then spills into the next
 * write(), which changes nothing but the count. */
#define BULK_RECORD_LEN                                                        \
    (SSL3_RT_HEADER_LENGTH + SSL3_RT_MAX_PLAIN_LENGTH + 1 + EVP_GCM_TLS_TAG_LEN)
#define BULK_WRITE_LEN (4 * BULK_RECORD_LEN)

/* TLS 1.2 only: forward secrecy and AEAD, nothing else (SECURITY.md). */
static const char tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* ALPN wire format: a length byte, then the name. */
static const unsigned char alpn_wire[] = "\x0a" ALPN_ID;

struct bs_tls_ctx {
    SSL_CTX *ssl;
    atomic_uint refs;
    int is_server;
    int keep_buffers; /* server: see bs_tls_conn_release_buffers */
    int read_ahead;   /* see bs_tls_read */
    int insecure;
    int keylog_fd; /* -1: off */
    char *ca_name; /* for messages: the CA file, or NULL (system store) */
};

struct bs_tls_conn {
    struct bs_tls_ctx *ctx;
    SSL *ssl;
    char *servername; /* client: what the certificate must name */
    enum bs_tls_failure failure;
    int verify_noted;  /* err already holds the verify callback's sentence */
    int drained;       /* the socket was found empty since the last wait */
    int peer_hup;      /* the peer's FIN was seen: never assume drained */
    int keeps_buffers; /* SSL_MODE_RELEASE_BUFFERS is off */
    int bulk;          /* 1: a bulk read buffer is due, 2: it is in place */
    int may_gather;    /* the caller flushes (bs_tls_conn_gather_writes) */
    BIO *gather;       /* NULL, or a buffer BIO in front of the socket */
    int shutdown_sent; /* close_notify is written (maybe still gathered) */
    char err[ERR_LEN];
};

/* ---- messages ---------------------------------------------------------- */

/* Append printf-style text to buf (NUL-terminated, cut to fit). */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t len,
                                                         const char *fmt, ...)
{
    size_t used = strnlen(buf, len);
    if (used + 1 >= len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void set_err(char *buf, size_t len,
                                                          const char *fmt, ...)
{
    if (buf == NULL || len == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* The reason text of an OpenSSL error code, for the end of a sentence. */
static const char *ossl_reason(unsigned long code)
{
    const char *r = code != 0 ? ERR_reason_error_string(code) : NULL;
    return r != NULL ? r : "unknown reason";
}

static void fmt_time(const ASN1_TIME *t, char *buf, size_t len)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
        strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    {
        snprintf(buf, len, "(unknown date)");
    }
}

/* Copy n bytes of an untrusted name, replacing anything unprintable. */
static void append_printable(char *buf, size_t len, const unsigned char *s,
                             size_t n)
{
    size_t used = strnlen(buf, len);
    for (size_t i = 0; i < n && used + 1 < len; i++, used++) {
        buf[used] = s[i] >= 0x20 && s[i] < 0x7f ? (char) s[i] : '?';
    }
    if (used < len) {
        buf[used] = '\0';
    }
}

/* "localhost, 127.0.0.1, ::1": the names a certificate is for. */
static void cert_names(X509 *x, char *buf, size_t len)
{
    buf[0] = '\0';
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int n = gens != NULL ? sk_GENERAL_NAME_num(gens) : 0;
    for (int i = 0; i < n; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const char *sep = buf[0] != '\0' ? ", " : "";
        if (g->type == GEN_DNS) {
            append(buf, len, "%s", sep);
            append_printable(buf, len, ASN1_STRING_get0_data(g->d.dNSName),
                             (size_t) ASN1_STRING_length(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            char ip[INET6_ADDRSTRLEN];
            int alen = ASN1_STRING_length(g->d.iPAddress);
            int af = alen == 4 ? AF_INET : alen == 16 ? AF_INET6 : -1;
            if (af != -1 && inet_ntop(af, ASN1_STRING_get0_data(g->d.iPAddress),
                                      ip, sizeof ip) != NULL)
            {
                append(buf, len, "%s%s", sep, ip);
            }
        }
    }
    GENERAL_NAMES_free(gens);
    if (buf[0] == '\0') {
        const X509_NAME *subj = X509_get_subject_name(x);
        int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
        const ASN1_STRING *cn =
            idx >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx))
                     : NULL;
        if (cn != NULL) {
            append_printable(buf, len, ASN1_STRING_get0_data(cn),
                             (size_t) ASN1_STRING_length(cn));
        } else {
            append(buf, len, "no name at all");
        }
    }
}

/* One sentence for a failed certificate check: which check, how to fix. */
static void describe_verify(struct bs_tls_conn *c, long code, X509 *cert,
                            int depth)
{
    const char *peer = c->ctx->is_server ? "client" : "server";
    const char *ca =
        c->ctx->ca_name != NULL ? c->ctx->ca_name : "the system store";
    char a[40], b[40];
    c->failure = BS_TLS_FAIL_VERIFY;

    switch (code) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
        if (c->ctx->is_server) {
            set_err(c->err, sizeof c->err,
                    "the client's certificate is not signed by a CA in %s: "
                    "the client must use a certificate issued by that CA",
                    ca);
        } else {
            set_err(c->err, sizeof c->err,
                    "the server's certificate is not signed by a CA in %s: "
                    "pass the right --ca-file",
                    ca);
        }
        return;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: {
        char names[160];
        if (cert != NULL) {
            cert_names(cert, names, sizeof names);
        } else {
            snprintf(names, sizeof names, "other names");
        }
        set_err(c->err, sizeof c->err,
                "the certificate is for %s, not %s: use --servername or "
                "regenerate with --san",
                names, c->servername != NULL ? c->servername : "this host");
        return;
    }
    case X509_V_ERR_CERT_HAS_EXPIRED:
        fmt_time(cert != NULL ? X509_get0_notBefore(cert) : NULL, a, sizeof a);
        fmt_time(cert != NULL ? X509_get0_notAfter(cert) : NULL, b, sizeof b);
        set_err(c->err, sizeof c->err,
                "the %s's %scertificate expired on %s (valid from %s): renew "
                "it (scripts/gen-certs.sh --force) or check the clock",
                peer, depth > 0 ? "CA " : "", b, a);
        return;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        fmt_time(cert != NULL ? X509_get0_notBefore(cert) : NULL, a, sizeof a);
        fmt_time(cert != NULL ? X509_get0_notAfter(cert) : NULL, b, sizeof b);
        set_err(c->err, sizeof c->err,
                "the %s's %scertificate is not valid before %s (valid until "
                "%s): check the clock on both machines",
                peer, depth > 0 ? "CA " : "", a, b);
        return;
    case X509_V_ERR_INVALID_PURPOSE:
        set_err(c->err, sizeof c->err,
                "the %s's certificate is not made for a TLS %s "
                "(extendedKeyUsage): make it with scripts/gen-certs.sh",
                peer, peer);
        return;
    default:
        set_err(c->err, sizeof c->err,
                "the %s's certificate was rejected: %s (check error %ld at "
                "depth %d)",
                peer, X509_verify_cert_error_string(code), code, depth);
        return;
    }
}

/* Called for each certificate of the peer's chain; notes the first
 * failure with the certificate that caused it, so the sentence can name
 * its dates or names.  The decision itself is OpenSSL's. */
static int verify_cb(int ok, X509_STORE_CTX *store)
{
    if (ok) {
        return 1;
    }
    SSL *ssl =
        X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct bs_tls_conn *c = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
    if (c != NULL && !c->verify_noted) {
        describe_verify(c, X509_STORE_CTX_get_error(store),
                        X509_STORE_CTX_get_current_cert(store),
                        X509_STORE_CTX_get_error_depth(store));
        c->verify_noted = 1;
    }
    return 0;
}

/* An alert from the peer about our certificate. */
static int is_cert_alert(int reason)
{
    switch (reason) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
        return 1;
    default:
        return 0;
    }
}

/* The peer refused our certificate with an alert (is_cert_alert): say
 * what the alert means for this side's certificate and what to do.
 * OpenSSL peers send bad_certificate for a certificate that does not
 * name the host they asked for, unknown_ca for an untrusted issuer and
 * certificate_expired for a date outside the validity period. */
static void describe_peer_alert(struct bs_tls_conn *c, int reason,
                                unsigned long code)
{
    X509 *own = SSL_get_certificate(c->ssl);
    char names[160], until[40];
    if (own != NULL) {
        cert_names(own, names, sizeof names);
    } else {
        snprintf(names, sizeof names, "no name");
    }
    fmt_time(own != NULL ? X509_get0_notAfter(own) : NULL, until, sizeof until);
    if (reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED) {
        int past =
            own != NULL && X509_cmp_current_time(X509_get0_notAfter(own)) < 0;
        if (c->ctx->is_server) {
            set_err(c->err, sizeof c->err,
                    "the client rejected this server's certificate as "
                    "expired (%s): it is valid until %s%s",
                    ossl_reason(code), until,
                    past ? ", which has passed: renew it"
                         : ": check the client's clock");
        } else {
            set_err(c->err, sizeof c->err,
                    "the server rejected our client certificate as expired "
                    "(%s): it %s %s: %s",
                    ossl_reason(code), past ? "expired on" : "is valid until",
                    until,
                    past ? "renew it (a new one from the server's CA)"
                         : "check the server's clock");
        }
        return;
    }
    if (!c->ctx->is_server) {
        set_err(c->err, sizeof c->err,
                "the server rejected our client certificate (%s): %s",
                ossl_reason(code),
                reason == SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED
                    ? "it has been revoked; ask for a new one"
                    : "use a certificate signed by a CA the server trusts");
        return;
    }
    if (reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA) {
        set_err(c->err, sizeof c->err,
                "the client rejected this server's certificate (%s): it does "
                "not trust the CA that signed it; give the client that CA "
                "(its --ca-file)",
                ossl_reason(code));
        return;
    }
    if (reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
        reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN)
    {
        const char *sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
        if (sni != NULL && own != NULL &&
            X509_check_host(own, sni, 0, 0, NULL) != 1) {
            char asked[80] = "";
            append_printable(asked, sizeof asked, (const unsigned char *) sni,
                             strlen(sni));
            set_err(c->err, sizeof c->err,
                    "the client rejected this server's certificate (%s): a "
                    "name mismatch: the client asked for %s, the certificate "
                    "is for %s; add the name (scripts/gen-certs.sh --san) or "
                    "connect by a name it holds",
                    ossl_reason(code), asked, names);
        } else if (sni == NULL) {
            set_err(c->err, sizeof c->err,
                    "the client rejected this server's certificate (%s): "
                    "most likely a name mismatch: the certificate is for %s "
                    "and the client sent no name (it connects by address?); "
                    "connect by one of those names or addresses, or add the "
                    "client's (scripts/gen-certs.sh --san)",
                    ossl_reason(code), names);
        } else {
            set_err(c->err, sizeof c->err,
                    "the client rejected this server's certificate (%s), "
                    "though it holds the name the client asked for: check "
                    "its key usage and purpose (scripts/gen-certs.sh makes "
                    "them right)",
                    ossl_reason(code));
        }
        return;
    }
    set_err(c->err, sizeof c->err,
            "the client rejected this server's certificate (%s)",
            ossl_reason(code));
}

/* Turn the result of a failed SSL_* call into a status, a failure class
 * and a sentence; leaves the OpenSSL error queue empty. */
static bs_tls_status fail_status(struct bs_tls_conn *c, int ret,
                                 int saved_errno, const char *what)
{
    int e = SSL_get_error(c->ssl, ret);
    if (e == SSL_ERROR_WANT_READ) {
        return BS_TLS_WANT_READ;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        return BS_TLS_WANT_WRITE;
    }
    int in_handshake = !SSL_is_init_finished(c->ssl);
    if (e == SSL_ERROR_ZERO_RETURN && !in_handshake) {
        ERR_clear_error();
        return BS_TLS_EOF;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        /* With SSL_OP_IGNORE_UNEXPECTED_EOF a hang-up mid-handshake. */
        ERR_clear_error();
        c->failure = BS_TLS_FAIL_NETWORK;
        set_err(c->err, sizeof c->err,
                "%s failed: the %s closed the connection during the "
                "handshake",
                what, c->ctx->is_server ? "client" : "server");
        return BS_TLS_ERR;
    }

    unsigned long code = ERR_peek_error();
    int reason = ERR_GET_REASON(code);
    int ssl_lib = ERR_GET_LIB(code) == ERR_LIB_SSL;
    const char *peer = c->ctx->is_server ? "client" : "server";

    if (e == SSL_ERROR_SYSCALL ||
        (ssl_lib && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING))
    {
        c->failure = BS_TLS_FAIL_NETWORK;
        if (e == SSL_ERROR_SYSCALL && saved_errno != 0) {
            set_err(c->err, sizeof c->err, "%s failed: %s", what,
                    strerror(saved_errno));
        } else {
            set_err(c->err, sizeof c->err,
                    "%s failed: the %s closed the connection without "
                    "close_notify",
                    what, peer);
        }
    } else if (e != SSL_ERROR_SSL) {
        c->failure =
            in_handshake ? BS_TLS_FAIL_HANDSHAKE : BS_TLS_FAIL_PROTOCOL;
        set_err(c->err, sizeof c->err, "%s failed: unexpected state %d", what,
                e);
    } else if (ssl_lib && reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        if (!c->verify_noted) {
            X509 *cert = SSL_get0_peer_certificate(c->ssl);
            describe_verify(c, SSL_get_verify_result(c->ssl), cert, 0);
        }
        c->failure = BS_TLS_FAIL_VERIFY;
    } else if (ssl_lib && reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        c->failure = BS_TLS_FAIL_VERIFY;
        set_err(c->err, sizeof c->err,
                "the client sent no certificate, and this server requires "
                "one: the client must pass --cert and --key");
    } else if (ssl_lib && reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED) {
        c->failure = BS_TLS_FAIL_VERIFY;
        set_err(c->err, sizeof c->err,
                "the server requires a client certificate: pass --cert and "
                "--key");
    } else if (ssl_lib && is_cert_alert(reason)) {
        c->failure = BS_TLS_FAIL_VERIFY;
        describe_peer_alert(c, reason, code);
    } else if (ssl_lib && (reason == SSL_R_NO_APPLICATION_PROTOCOL ||
                           reason == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL))
    {
        c->failure = BS_TLS_FAIL_HANDSHAKE;
        set_err(c->err, sizeof c->err,
                "no application protocol in common: this program speaks "
                "ALPN \"" ALPN_ID "\" only");
    } else if (ssl_lib && (reason == SSL_R_UNSUPPORTED_PROTOCOL ||
                           reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
                           reason == SSL_R_NO_PROTOCOLS_AVAILABLE))
    {
        c->failure = BS_TLS_FAIL_HANDSHAKE;
        set_err(c->err, sizeof c->err,
                "no TLS version in common with the %s (%s): this side "
                "accepts TLS %s",
                peer, ossl_reason(code),
                SSL_CTX_get_min_proto_version(c->ctx->ssl) == TLS1_3_VERSION
                    ? "1.3 only"
                    : "1.2 and 1.3");
    } else if (ssl_lib && (reason == SSL_R_WRONG_VERSION_NUMBER ||
                           reason == SSL_R_HTTP_REQUEST))
    {
        c->failure = BS_TLS_FAIL_HANDSHAKE;
        set_err(c->err, sizeof c->err,
                "the %s does not speak TLS (%s): check the host and port", peer,
                ossl_reason(code));
    } else {
        c->failure =
            in_handshake ? BS_TLS_FAIL_HANDSHAKE : BS_TLS_FAIL_PROTOCOL;
        set_err(c->err, sizeof c->err, "%s failed: %s", what,
                ossl_reason(code));
    }
    ERR_clear_error();
    return BS_TLS_ERR;
}

static bs_tls_status fail(struct bs_tls_conn *c, int ret, int saved_errno,
                          const char *what)
{
    bs_tls_status st = fail_status(c, ret, saved_errno, what);

    if (st == BS_TLS_ERR && c->gather != NULL) {
        /* a fatal alert may wait in the gather buffer: try to send it */
        (void) BIO_flush(c->gather);
        ERR_clear_error();
    }
    return st;
}

/* ---- contexts ---------------------------------------------------------- */

static void keylog_cb(const SSL *ssl, const char *line)
{
    const struct bs_tls_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (ctx == NULL || ctx->keylog_fd < 0) {
        return;
    }
    /* One writev on an O_APPEND file: lines from several connections
     * never interleave.  A failure cannot be reported from here; a lost
     * line only costs the person debugging one session's secrets. */
    struct iovec iov[2] = {
        {.iov_base = (void *) (uintptr_t) line, .iov_len = strlen(line)},
        {.iov_base = (void *) (uintptr_t) "\n", .iov_len = 1},
    };
    ssize_t w = writev(ctx->keylog_fd, iov, 2);
    (void) w;
}

/* Never prompt on the terminal for an encrypted key's passphrase. */
static int no_password_cb(char *buf, int size, int rwflag, void *u)
{
    (void) buf;
    (void) size;
    (void) rwflag;
    (void) u;
    return -1;
}

/* Open and close the file first, so a missing or unreadable one gets the
 * system's reason rather than OpenSSL's. */
static int check_readable(const char *path, const char *what, char *err,
                          size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        int e = errno;
        set_err(err, errlen, "cannot open %s %s: %s", what, path, strerror(e));
        return -1;
    }
    close(fd);
    return 0;
}

static int load_cert_key(SSL_CTX *ssl, const char *cert, const char *key,
                         char *err, size_t errlen)
{
    if (check_readable(cert, "certificate file", err, errlen) != 0) {
        return -1;
    }
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ssl, cert) != 1) {
        unsigned long code = ERR_peek_error(); /* the root cause */
        set_err(err, errlen,
                "certificate file %s holds no usable PEM certificate (%s): "
                "expected -----BEGIN CERTIFICATE-----",
                cert, ossl_reason(code));
        return -1;
    }
    if (check_readable(key, "private key file", err, errlen) != 0) {
        return -1;
    }
    ERR_clear_error();
    if (SSL_CTX_use_PrivateKey_file(ssl, key, SSL_FILETYPE_PEM) != 1) {
        unsigned long code = ERR_peek_last_error();
        int r = ERR_GET_REASON(code);
        if (ERR_GET_LIB(code) == ERR_LIB_X509 &&
            (r == X509_R_KEY_VALUES_MISMATCH || r == X509_R_KEY_TYPE_MISMATCH))
        {
            set_err(err, errlen,
                    "private key %s does not match certificate %s: use the "
                    "key the certificate was made with",
                    key, cert);
        } else {
            /* OpenSSL's reason here ("unsupported") misleads more than
             * it helps: every decoder it tried said no. */
            set_err(err, errlen,
                    "private key file %s holds no usable private key: "
                    "expected an unencrypted PEM key (-----BEGIN PRIVATE "
                    "KEY-----)",
                    key);
        }
        return -1;
    }
    if (SSL_CTX_check_private_key(ssl) != 1) {
        set_err(err, errlen,
                "private key %s does not match certificate %s: use the key "
                "the certificate was made with",
                key, cert);
        return -1;
    }
    return 0;
}

static int load_ca(SSL_CTX *ssl, const char *ca, char *err, size_t errlen)
{
    if (check_readable(ca, "CA file", err, errlen) != 0) {
        return -1;
    }
    ERR_clear_error();
    if (SSL_CTX_load_verify_file(ssl, ca) != 1) {
        set_err(err, errlen,
                "CA file %s holds no usable PEM certificate (%s): expected "
                "-----BEGIN CERTIFICATE-----",
                ca, ossl_reason(ERR_peek_error()));
        return -1;
    }
    return 0;
}

static int open_keylog(struct bs_tls_ctx *ctx, const char *path, char *err,
                       size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd == -1) {
        int e = errno;
        set_err(err, errlen, "cannot open key log file %s: %s", path,
                strerror(e));
        return -1;
    }
    ctx->keylog_fd = fd;
    SSL_CTX_set_keylog_callback(ctx->ssl, keylog_cb);
    return 0;
}

/* What servers and clients share: version floor, ciphers, options. */
static struct bs_tls_ctx *ctx_common(int is_server, int min_version,
                                     const char *ca_file, char *err,
                                     size_t errlen)
{
    if (min_version != 0 && min_version != 12 && min_version != 13) {
        set_err(err, errlen,
                "minimum TLS version %d is not supported: use 12 or 13",
                min_version);
        return NULL;
    }
    struct bs_tls_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        set_err(err, errlen, "out of memory for a TLS context");
        return NULL;
    }
    atomic_init(&ctx->refs, 1);
    ctx->is_server = is_server;
    ctx->keylog_fd = -1;
    if (ca_file != NULL) {
        ctx->ca_name = strdup(ca_file);
        if (ctx->ca_name == NULL) {
            set_err(err, errlen, "out of memory for a TLS context");
            goto fail;
        }
    }
    ERR_clear_error();
    ctx->ssl =
        SSL_CTX_new(is_server ? TLS_server_method() : TLS_client_method());
    if (ctx->ssl == NULL) {
        set_err(err, errlen, "cannot create a TLS context: %s",
                ossl_reason(ERR_peek_last_error()));
        goto fail;
    }
    SSL_CTX_set_app_data(ctx->ssl, ctx);
    if (SSL_CTX_set_min_proto_version(ctx->ssl, min_version == 12
                                                    ? TLS1_2_VERSION
                                                    : TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx->ssl, tls12_ciphers) != 1)
    {
        set_err(err, errlen, "cannot set the TLS version or ciphers: %s",
                ossl_reason(ERR_peek_last_error()));
        goto fail;
    }
    SSL_CTX_set_options(ctx->ssl, SSL_OP_NO_COMPRESSION |
                                      SSL_OP_NO_RENEGOTIATION |
                                      SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Partial writes and moving buffers: the event loop's output queue
     * hands over whatever it has.  Released buffers: an idle connection
     * keeps no 16 KiB record buffers. */
    SSL_CTX_set_mode(ctx->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                   SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                   SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_max_early_data(ctx->ssl, 0);
    SSL_CTX_set_recv_max_early_data(ctx->ssl, 0);
    SSL_CTX_set_default_passwd_cb(ctx->ssl, no_password_cb);
    /* Read what the socket holds in one read(), not a record header and
     * then its body: a small message costs one read() instead of two,
     * and a short read tells that the socket is empty (see bs_tls_read).
     * Both roles: a pipelining client reads as many replies as the
     * server reads requests. */
    SSL_CTX_set_read_ahead(ctx->ssl, 1);
    ctx->read_ahead = 1;
    ERR_clear_error();
    return ctx;
fail:
    ERR_clear_error();
    bs_tls_ctx_free(ctx);
    return NULL;
}

static int alpn_select_cb(SSL *ssl, const unsigned char **out,
                          unsigned char *outlen, const unsigned char *in,
                          unsigned int inlen, void *arg)
{
    (void) ssl;
    (void) arg;
    unsigned int pos = 0;
    while (pos < inlen) {
        unsigned int n = in[pos];
        if (n > inlen - pos - 1) {
            break;
        }
        if (n == ALPN_ID_LEN && memcmp(in + pos + 1, ALPN_ID, n) == 0) {
            *out = in + pos + 1;
            *outlen = (unsigned char) n;
            return SSL_TLSEXT_ERR_OK;
        }
        pos += 1 + n;
    }
    /* A client that offers ALPN but not ours speaks something else:
     * refuse with no_application_protocol (RFC 7301 sec. 3.2). */
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* SSL_free_buffers could free a read buffer still in use before these
 * releases (CVE-2024-4741); older ones keep SSL_MODE_RELEASE_BUFFERS. */
static int free_buffers_is_safe(void)
{
    unsigned long v = OpenSSL_version_num() >> 4; /* was 0xMNN00PPS */
    unsigned long minor = (v >> 16) & 0xffu, patch = v & 0xffu;

    if (v >> 24 != 3u) {
        return v >> 24 > 3u;
    }
    switch (minor) {
    case 0:
        return patch >= 14u;
    case 1:
        return patch >= 6u;
    case 2:
        return patch >= 2u;
    case 3:
        return patch >= 1u;
    default:
        return 1;
    }
}

struct bs_tls_ctx *bs_tls_ctx_new_server(const struct bs_tls_server_config *c,
                                         char *err, size_t errlen)
{
    static const unsigned char sid_ctx[] = "bitstuff";
    if (c == NULL || c->cert_file == NULL || c->key_file == NULL) {
        set_err(err, errlen,
                "a TLS server needs a certificate and a private key file");
        return NULL;
    }
    if (c->verify_client != BS_TLS_VERIFY_NONE && c->ca_file == NULL) {
        set_err(err, errlen,
                "checking client certificates needs a CA file to check them "
                "against");
        return NULL;
    }
    struct bs_tls_ctx *ctx =
        ctx_common(1, c->min_version, c->ca_file, err, errlen);
    if (ctx == NULL) {
        return NULL;
    }
    if (load_cert_key(ctx->ssl, c->cert_file, c->key_file, err, errlen) != 0) {
        goto fail;
    }
    if (c->ca_file != NULL) {
        if (load_ca(ctx->ssl, c->ca_file, err, errlen) != 0) {
            goto fail;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(c->ca_file);
        if (names == NULL) {
            set_err(err, errlen, "CA file %s holds no usable CA names (%s)",
                    c->ca_file, ossl_reason(ERR_peek_last_error()));
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx->ssl, names);
    }
    int mode = SSL_VERIFY_NONE;
    if (c->verify_client == BS_TLS_VERIFY_OPTIONAL) {
        mode = SSL_VERIFY_PEER;
    } else if (c->verify_client == BS_TLS_VERIFY_REQUIRE) {
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(ctx->ssl, mode,
                       mode != SSL_VERIFY_NONE ? verify_cb : NULL);
    SSL_CTX_set_alpn_select_cb(ctx->ssl, alpn_select_cb, NULL);
    /* A client that closes without close_notify reads as an orderly EOF:
     * bitstuff/1 frames its own messages, so a truncated request is seen
     * by the protocol decoder (and the truncated side only loses its own
     * request).  Clients keep OpenSSL's strict default. */
    SSL_CTX_set_options(ctx->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
    ctx->keep_buffers = free_buffers_is_safe();
    /* Resumption by stateless tickets; the id context keeps sessions
     * from being resumed across differently configured servers. */
    if (SSL_CTX_set_num_tickets(ctx->ssl, 1) != 1 ||
        SSL_CTX_set_session_id_context(ctx->ssl, sid_ctx, sizeof sid_ctx - 1) !=
            1)
    {
        set_err(err, errlen, "cannot set up session tickets: %s",
                ossl_reason(ERR_peek_last_error()));
        goto fail;
    }
    if (c->keylog_file != NULL &&
        open_keylog(ctx, c->keylog_file, err, errlen) != 0)
    {
        goto fail;
    }
    ERR_clear_error();
    return ctx;
fail:
    ERR_clear_error();
    bs_tls_ctx_free(ctx);
    return NULL;
}

struct bs_tls_ctx *bs_tls_ctx_new_client(const struct bs_tls_client_config *c,
                                         char *err, size_t errlen)
{
    if (c == NULL) {
        set_err(err, errlen, "no TLS client configuration");
        return NULL;
    }
    if (c->cert_file == NULL && c->key_file != NULL) {
        set_err(err, errlen,
                "a client key (%s) was given without its certificate: pass "
                "--cert too",
                c->key_file);
        return NULL;
    }
    struct bs_tls_ctx *ctx =
        ctx_common(0, c->min_version, c->ca_file, err, errlen);
    if (ctx == NULL) {
        return NULL;
    }
    ctx->insecure = c->insecure != 0;
    if (c->ca_file != NULL) {
        if (load_ca(ctx->ssl, c->ca_file, err, errlen) != 0) {
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx->ssl) != 1) {
        set_err(err, errlen,
                "cannot load the system's CA store (%s): pass "
                "--ca-file",
                ossl_reason(ERR_peek_last_error()));
        goto fail;
    }
    if (c->cert_file != NULL &&
        load_cert_key(ctx->ssl, c->cert_file,
                      c->key_file != NULL ? c->key_file : c->cert_file, err,
                      errlen) != 0)
    {
        goto fail;
    }
    SSL_CTX_set_verify(ctx->ssl,
                       ctx->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                       ctx->insecure ? NULL : verify_cb);
    /* Note: SSL_CTX_set_alpn_protos returns 0 on success. */
    if (SSL_CTX_set_alpn_protos(ctx->ssl, alpn_wire, sizeof alpn_wire - 1) != 0)
    {
        set_err(err, errlen, "cannot set ALPN: out of memory");
        goto fail;
    }
    if (c->keylog_file != NULL &&
        open_keylog(ctx, c->keylog_file, err, errlen) != 0)
    {
        goto fail;
    }
    ERR_clear_error();
    return ctx;
fail:
    ERR_clear_error();
    bs_tls_ctx_free(ctx);
    return NULL;
}

void bs_tls_ctx_ref(struct bs_tls_ctx *ctx)
{
    atomic_fetch_add(&ctx->refs, 1);
}

void bs_tls_ctx_free(struct bs_tls_ctx *ctx)
{
    if (ctx == NULL || atomic_fetch_sub(&ctx->refs, 1) != 1) {
        return;
    }
    SSL_CTX_free(ctx->ssl);
    if (ctx->keylog_fd >= 0) {
        close(ctx->keylog_fd);
    }
    free(ctx->ca_name);
    free(ctx);
}

/* ---- connections ------------------------------------------------------- */

static int is_ip_literal(const char *s)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, s, addr) == 1 ||
           inet_pton(AF_INET6, s, addr) == 1;
}

struct bs_tls_conn *bs_tls_conn_new(struct bs_tls_ctx *ctx, int fd,
                                    const char *servername, char *err,
                                    size_t errlen)
{
    if (ctx == NULL || fd < 0) {
        set_err(err, errlen, "no TLS context or no socket for a connection");
        return NULL;
    }
    if (!ctx->is_server && !ctx->insecure &&
        (servername == NULL || servername[0] == '\0'))
    {
        set_err(err, errlen,
                "the server's name is needed to check its certificate: pass "
                "a host name or address");
        return NULL;
    }
    if (servername != NULL && strlen(servername) > 253) {
        set_err(err, errlen, "server name is longer than 253 characters");
        return NULL;
    }
    struct bs_tls_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        set_err(err, errlen, "out of memory for a TLS connection");
        return NULL;
    }
    bs_tls_ctx_ref(ctx);
    c->ctx = ctx;
    ERR_clear_error();
    c->ssl = SSL_new(ctx->ssl);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
        set_err(err, errlen, "cannot create a TLS connection: %s",
                ossl_reason(ERR_peek_last_error()));
        goto fail;
    }
    SSL_set_app_data(c->ssl, c);
    if (ctx->is_server) {
        SSL_set_accept_state(c->ssl);
    } else {
        SSL_set_connect_state(c->ssl);
        if (servername != NULL && servername[0] != '\0' &&
            (c->servername = strdup(servername)) == NULL)
        {
            set_err(err, errlen, "out of memory for a TLS connection");
            goto fail;
        }
    }
    if (c->servername != NULL) {
        int ok;
        if (is_ip_literal(c->servername)) {
            /* RFC 6066 sec. 3: no SNI for an address. */
            ok = ctx->insecure || X509_VERIFY_PARAM_set1_ip_asc(
                                      SSL_get0_param(c->ssl), c->servername);
        } else {
            ok = SSL_set_tlsext_host_name(c->ssl, c->servername) == 1;
            if (ok && !ctx->insecure) {
                SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                ok = SSL_set1_host(c->ssl, c->servername) == 1;
            }
        }
        if (!ok) {
            set_err(err, errlen, "cannot use server name %s: %s", c->servername,
                    ossl_reason(ERR_peek_last_error()));
            goto fail;
        }
    }
    ERR_clear_error();
    return c;
fail:
    ERR_clear_error();
    bs_tls_conn_free(c);
    return NULL;
}

void bs_tls_conn_free(struct bs_tls_conn *c)
{
    if (c == NULL) {
        return;
    }
    SSL_free(c->ssl);
    bs_tls_ctx_free(c->ctx);
    free(c->servername);
    free(c);
}

bs_tls_status bs_tls_handshake(struct bs_tls_conn *c)
{
    ERR_clear_error();
    errno = 0; /* a stale errno must not explain a later failure */
    int r = SSL_do_handshake(c->ssl);
    int e = errno;
    if (r == 1) {
        /* Reads and writes do not clear the queue (it costs as much as a
         * small record): every call here leaves it empty instead. */
        ERR_clear_error();
        return BS_TLS_OK;
    }
    return fail(c, r, e, "TLS handshake");
}

bs_tls_status bs_tls_read(struct bs_tls_conn *c, void *buf, size_t cap,
                          size_t *nread)
{
    *nread = 0;
    if (cap == 0) {
        c->failure = BS_TLS_FAIL_PROTOCOL;
        set_err(c->err, sizeof c->err, "TLS read into an empty buffer");
        return BS_TLS_ERR;
    }
    /* A read that finds the socket empty would only fail with EAGAIN:
     * say so without it when the last read already found it empty.
     * Data that arrived since then makes the socket readable again
     * (edge-triggered or not), so the caller's wait ends at once. */
    if (c->drained && !SSL_has_pending(c->ssl)) {
        c->drained = 0; /* once: the read after that wait goes to it */
        return BS_TLS_WANT_READ;
    }
    /* With read ahead and an empty buffer, libssl asks the socket for
     * a whole buffer, more than a record's 16 KiB: less means empty. */
    int was_empty = c->ctx->read_ahead && !SSL_has_pending(c->ssl);
    if (c->bulk == 1 && was_empty &&
        (!c->keeps_buffers || SSL_free_buffers(c->ssl) == 1))
    {
        /* The next read allocates the bulk buffer (released buffers are
         * gone already; kept ones go here unless a write is pending). */
        c->bulk = 2;
    }
    c->drained = 0;
    BIO *rbio = SSL_get_rbio(c->ssl);
    uint64_t before = BIO_number_read(rbio);
    size_t n = 0;
    errno = 0;
    int r = SSL_read_ex(c->ssl, buf, cap, &n);
    int e = errno;
    if (r == 1) {
        uint64_t got = BIO_number_read(rbio) - before;
        c->drained = was_empty && got > 0 && got < SSL3_RT_MAX_PLAIN_LENGTH &&
                     !c->peer_hup;
        if (was_empty && got >= SSL3_RT_MAX_PLAIN_LENGTH && c->bulk == 0) {
            /* The peer had a full record's worth queued: it sends in
             * bulk, and a read() per record would cost as much as the
             * record's decryption.  Small messages keep small buffers. */
            SSL_set_default_read_buffer_len(c->ssl, BULK_READ_LEN);
            c->bulk = 1;
        }
        if (c->ctx->keep_buffers && !c->keeps_buffers) {
            /* Released buffers until then keep many handshakes and idle
             * connections small; now bs_tls_conn_release_buffers. */
            SSL_clear_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
            c->keeps_buffers = 1;
        }
        *nread = n;
        return BS_TLS_OK;
    }
    return fail(c, r, e, "TLS read");
}

void bs_tls_conn_readable(struct bs_tls_conn *c)
{
    c->drained = 0;
}

void bs_tls_conn_peer_hup(struct bs_tls_conn *c)
{
    c->drained = 0;
    c->peer_hup = 1;
}

/* ---- gathered writes ---------------------------------------------------
 *
 * libssl writes each record of at most 16 KiB with its own write(); on
 * these machines a system call costs as much as encrypting 10 KiB.  A
 * connection that sends in bulk therefore gets a buffer BIO (the kind
 * libssl itself puts in front of the socket during a handshake) that
 * gathers up to four records per write().  Records go to it in order and
 * nothing else writes to the socket, so the bytes on the wire are the
 * same; only the caller must push out what the buffer holds
 * (bs_tls_flush) before it waits for its peer.
 */

static void gather_start(struct bs_tls_conn *c)
{
    BIO *sock = SSL_get_rbio(c->ssl); /* also the write BIO until now */
    BIO *buf = BIO_new(BIO_f_buffer());

    if (buf == NULL || BIO_set_write_buffer_size(buf, BULK_WRITE_LEN) != 1 ||
        BIO_up_ref(sock) != 1)
    {
        BIO_free(buf); /* writes go on unbuffered */
        ERR_clear_error();
        return;
    }
    /* The chain holds its own reference to the socket BIO; setting it
     * as the write BIO drops the SSL object's old one. */
    BIO_push(buf, sock);
    SSL_set0_wbio(c->ssl, buf);
    c->gather = buf;
}

/* Back to writing straight to the socket once the buffer is empty, so an
 * idle connection holds no 64 KiB buffer. */
static void gather_stop(struct bs_tls_conn *c)
{
    BIO *sock = SSL_get_rbio(c->ssl);

    if (c->gather == NULL || BIO_wpending(c->gather) != 0 ||
        BIO_up_ref(sock) != 1) {
        return;
    }
    SSL_set0_wbio(c->ssl, sock); /* frees the buffer BIO */
    c->gather = NULL;
}

void bs_tls_conn_gather_writes(struct bs_tls_conn *c)
{
    c->may_gather = 1;
}

int bs_tls_write_pending(const struct bs_tls_conn *c)
{
    return c->gather != NULL && BIO_wpending(c->gather) > 0;
}

bs_tls_status bs_tls_flush(struct bs_tls_conn *c)
{
    if (!bs_tls_write_pending(c)) {
        return BS_TLS_OK;
    }
    errno = 0;
    if (BIO_flush(c->gather) == 1) {
        return BS_TLS_OK;
    }
    if (BIO_should_retry(c->gather)) {
        return BS_TLS_WANT_WRITE;
    }
    int e = errno;
    c->failure = BS_TLS_FAIL_NETWORK;
    set_err(c->err, sizeof c->err, "TLS write failed: %s",
            e != 0 ? strerror(e) : "the connection is closed");
    ERR_clear_error();
    return BS_TLS_ERR;
}

bs_tls_status bs_tls_write(struct bs_tls_conn *c, const void *buf, size_t len,
                           size_t *nwritten)
{
    *nwritten = 0;
    if (len == 0) {
        c->failure = BS_TLS_FAIL_PROTOCOL;
        set_err(c->err, sizeof c->err, "TLS write of zero bytes");
        return BS_TLS_ERR;
    }
    if (c->may_gather && c->gather == NULL &&
        len >= 2 * SSL3_RT_MAX_PLAIN_LENGTH) {
        gather_start(c); /* at least two records to send: in bulk */
    }
    size_t n = 0, done = 0;
    int r;
    errno = 0;
    /* With partial writes libssl returns after each record: gathering,
     * take records until the buffer is full and blocks, or all is in. */
    while ((r = SSL_write_ex(c->ssl, (const char *) buf + done, len - done,
                             &n)) == 1)
    {
        done += n;
        if (done == len || c->gather == NULL) {
            break;
        }
    }
    int e = errno;
    if (done > 0) {
        if (c->gather != NULL) {
            (void) BIO_flush(c->gather); /* the rest: bs_tls_flush */
        }
        ERR_clear_error();
        *nwritten = done;
        return BS_TLS_OK;
    }
    bs_tls_status st = fail(c, r, e, "TLS write");
    if (st == BS_TLS_ERR) {
        /* The peer may have said why in an alert that waits unread (a
         * client rejected in TLS 1.3 learns it on its first write): the
         * next read must look, whatever the last one found. */
        c->drained = 0;
    }
    return st;
}

bs_tls_status bs_tls_shutdown(struct bs_tls_conn *c)
{
    /* Gathered records first; then libssl flushes its alert only as far
     * as the socket takes it, so push out the rest here. */
    bs_tls_status st = bs_tls_flush(c);
    if (st != BS_TLS_OK) {
        return st;
    }
    if (!c->shutdown_sent) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_shutdown(c->ssl);
        int e = errno;
        if (r < 0) {
            return fail(c, r, e, "TLS shutdown");
        }
        c->shutdown_sent = 1;
    }
    return bs_tls_flush(c);
}

size_t bs_tls_pending(const struct bs_tls_conn *c)
{
    int n = SSL_pending(c->ssl);
    return n > 0 ? (size_t) n : 0;
}

void bs_tls_conn_release_buffers(struct bs_tls_conn *c)
{
    /* It declines (returns 0) while a buffer holds data. */
    if (c->ctx->keep_buffers) {
        (void) SSL_free_buffers(c->ssl);
    }
    gather_stop(c);
}

const char *bs_tls_conn_error(const struct bs_tls_conn *c)
{
    return c->err;
}

enum bs_tls_failure bs_tls_conn_failure(const struct bs_tls_conn *c)
{
    return c->failure;
}

const char *bs_tls_conn_version(const struct bs_tls_conn *c)
{
    return SSL_get_version(c->ssl);
}

const char *bs_tls_conn_cipher(const struct bs_tls_conn *c)
{
    const char *name = SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl));
    return name != NULL ? name : "(none)";
}

int bs_tls_conn_resumed(const struct bs_tls_conn *c)
{
    return SSL_session_reused(c->ssl) == 1;
}

const char *bs_tls_conn_alpn(const struct bs_tls_conn *c)
{
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(c->ssl, &p, &n);
    if (n == 0) {
        return "";
    }
    /* Both sides only ever agree on ours; anything else is a bug. */
    return n == ALPN_ID_LEN && memcmp(p, ALPN_ID, n) == 0 ? ALPN_ID : "?";
}

void bs_tls_conn_peer_subject(const struct bs_tls_conn *c, char *buf,
                              size_t len)
{
    if (len == 0) {
        return;
    }
    buf[0] = '\0';
    X509 *x = SSL_get0_peer_certificate(c->ssl);
    if (x == NULL) {
        return;
    }
    BIO *mem = BIO_new(BIO_s_mem());
    if (mem == NULL) {
        ERR_clear_error();
        return;
    }
    if (X509_NAME_print_ex(mem, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >=
        0) {
        char *data = NULL;
        long n = BIO_get_mem_data(mem, &data);
        size_t take = n > 0 ? (size_t) n : 0;
        if (take > len - 1) {
            take = len - 1;
        }
        if (data != NULL) {
            memcpy(buf, data, take);
        }
        buf[take] = '\0';
    }
    BIO_free(mem);
    ERR_clear_error();
}

/* ---- client session resumption ------------------------------------------ */

/* struct bs_tls_session is never defined: its pointers are SSL_SESSIONs. */
struct bs_tls_session *bs_tls_conn_get_session(const struct bs_tls_conn *c)
{
    SSL_SESSION *s = SSL_get1_session(c->ssl);

    if (s != NULL && !SSL_SESSION_is_resumable(s)) {
        SSL_SESSION_free(s);
        s = NULL;
    }
    return (struct bs_tls_session *) s;
}

int bs_tls_conn_set_session(struct bs_tls_conn *c, struct bs_tls_session *s)
{
    int ok = SSL_set_session(c->ssl, (SSL_SESSION *) s);

    ERR_clear_error();
    return ok == 1 ? 0 : -1;
}

void bs_tls_session_free(struct bs_tls_session *s)
{
    SSL_SESSION_free((SSL_SESSION *) s);
}
