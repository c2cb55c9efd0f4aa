/*
 * tls.c - the project's TLS policy on top of OpenSSL 3.  The only
 * translation unit of the library that includes <openssl/...>.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "proto.h"
#include "tickets.h"

#define ALPN_ID     BS_PROTO_ALPN
#define ALPN_ID_LEN BS_PROTO_ALPN_LEN
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
/* Declined 0-RTT data a server skips at most (see bs_tls_ctx_new_server):
 * one full record, the amount clients are commonly allowed. */
#define BS_TLS_SKIP_EARLY_DATA 16384

/* TLS 1.2 only: forward secrecy and AEAD, nothing else (SECURITY.md). */
static const char tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* ALPN wire format: a length byte, then the name. */
static const unsigned char alpn_wire[] = "\x0a" ALPN_ID;
_Static_assert(sizeof(alpn_wire) == 1 + ALPN_ID_LEN + 1 && ALPN_ID_LEN == 0x0a,
               "the ALPN length byte matches the ALPN id");

struct bs_tls_ctx {
    SSL_CTX *ssl;
    atomic_uint refs;
    int is_server;
    int keep_buffers; /* server: see bs_tls_conn_release_buffers */
    int read_ahead;   /* see bs_tls_read */
    int insecure;
    int keylog_fd; /* -1: off */
    char *ca_name; /* for messages: the CA file, or NULL (system store) */
    bs_tls_advice_fn *advice;     /* the program's advice, or NULL */
    struct server_certs *certs;   /* server: see bs_tls_ctx_check_renewal */
    struct client_policy *policy; /* server: CRL and allow-lists, or NULL */
    struct bs_ticket_key *tkeys;  /* server: shared ticket keys, or NULL */
    size_t ntkeys;
};

struct bs_tls_conn {
    struct bs_tls_ctx *ctx;
    SSL *ssl;
    char *servername; /* client: what the certificate must name */
    enum bs_tls_failure failure;
    enum bs_tls_reason reason; /* what err's advice is about */
    int verify_noted;  /* err already holds the verify callback's sentence */
    int drained;       /* the socket was found empty since the last wait */
    int peer_hup;      /* the peer's FIN was seen: never assume drained */
    unsigned wait[2];  /* per bs_tls_side: BS_TLS_EV_* it waits for, or 0 */
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

/* How a sentence about each reason ends: the separator, and the
 * library's own advice, which names no program option and no script. */
static const struct {
    const char *sep;
    const char *neutral;
} advice_words[BS_TLS_R_COUNT] = {
    [BS_TLS_R_PEER_UNTRUSTED] = {": ",
                                 "give this program the CA that signed it"},
    [BS_TLS_R_NAME_MISMATCH] = {": ", "connect by one of those names, or add "
                                      "this one to the certificate"},
    [BS_TLS_R_CERT_EXPIRED] = {": ", "renew it or check the clock"},
    [BS_TLS_R_CERT_PURPOSE] = {": ", "make one for that purpose"},
    [BS_TLS_R_NO_CLIENT_CERT] = {": ", "the client must present one"},
    [BS_TLS_R_CERT_REQUIRED] = {": ", "present a certificate and its key"},
    [BS_TLS_R_OWN_CA_UNKNOWN] = {"; ", "give the client that CA"},
    [BS_TLS_R_OWN_NAME_WRONG] = {"; ", "add the name or connect by a name it "
                                       "holds"},
    [BS_TLS_R_OWN_NAME_NO_SNI] = {"; ", "connect by one of those names or "
                                        "addresses, or add the client's"},
    [BS_TLS_R_OWN_CERT_USAGE] = {": ", "check its key usage and purpose"},
    [BS_TLS_R_NOT_ALLOWED] = {": ", "not on the list of allowed clients"},
    [BS_TLS_R_CRL_EXPIRED] = {": ", "publish a new one and load it"},
    [BS_TLS_R_CRL_STALE] = {": ", "publish a new one"},
    [BS_TLS_R_CRL_EMPTY] = {" ", ""},
    [BS_TLS_R_POLICY_NEEDS_CA] = {": ", "require client certificates and "
                                        "name the CA that issues them"},
    [BS_TLS_R_RENEW_EXPIRED] = {": ", "issue a new one"},
    [BS_TLS_R_RENEW_SELF_SIGNED] = {"; ", "issue it from the CA"},
    [BS_TLS_R_RENEW_OTHER_CA] = {": ", "issue it from that CA"},
    [BS_TLS_R_RENEW_NAME] = {"; ", "add it"},
    [BS_TLS_R_GROUPS] = {" ", ""},
    [BS_TLS_R_KEY_NO_CERT] = {": ", "give its certificate too"},
    [BS_TLS_R_NO_CA_STORE] = {": ", "name a CA file instead"},
};

/* The program's words for why, or NULL: it has none. */
static const char *program_words(bs_tls_advice_fn *hook, enum bs_tls_reason why)
{
    return hook != NULL ? hook(why) : NULL;
}

/* End the sentence in buf with the advice for why: the program's words
 * if it has some, else the library's. */
static void advise(char *buf, size_t len, bs_tls_advice_fn *hook,
                   enum bs_tls_reason why)
{
    const char *words = program_words(hook, why);

    if (buf == NULL || len == 0) {
        return;
    }
    if (words == NULL) {
        words = advice_words[why].neutral;
    }
    if (words != NULL && words[0] != '\0') {
        append(buf, len, "%s%s", advice_words[why].sep, words);
    }
}

/* The same for the sentence of connection c, which notes the reason. */
static void conn_advise(struct bs_tls_conn *c, enum bs_tls_reason why)
{
    c->reason = why;
    advise(c->err, sizeof c->err, c->ctx->advice, why);
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

/* A certificate's first subject common name, or NULL. */
static const ASN1_STRING *first_cn(X509 *x)
{
    const X509_NAME *subj = X509_get_subject_name(x);
    int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);

    return idx >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx))
                    : NULL;
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
        const ASN1_STRING *cn = first_cn(x);
        if (cn != NULL) {
            append_printable(buf, len, ASN1_STRING_get0_data(cn),
                             (size_t) ASN1_STRING_length(cn));
        } else {
            append(buf, len, "no name at all");
        }
    }
}

/* cert's validity period: from in a, until in b. */
static void cert_dates(X509 *cert, char a[40], char b[40])
{
    fmt_time(cert != NULL ? X509_get0_notBefore(cert) : NULL, a, 40);
    fmt_time(cert != NULL ? X509_get0_notAfter(cert) : NULL, b, 40);
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
                    "the server's certificate is not signed by a CA in %s", ca);
            conn_advise(c, BS_TLS_R_PEER_UNTRUSTED);
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
        set_err(c->err, sizeof c->err, "the certificate is for %s, not %s",
                names, c->servername != NULL ? c->servername : "this host");
        conn_advise(c, BS_TLS_R_NAME_MISMATCH);
        return;
    }
    case X509_V_ERR_CERT_HAS_EXPIRED:
        cert_dates(cert, a, b);
        set_err(c->err, sizeof c->err,
                "the %s's %scertificate expired on %s (valid from %s)", peer,
                depth > 0 ? "CA " : "", b, a);
        conn_advise(c, BS_TLS_R_CERT_EXPIRED);
        return;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        cert_dates(cert, a, b);
        set_err(c->err, sizeof c->err,
                "the %s's %scertificate is not valid before %s (valid until "
                "%s): check the clock on both machines",
                peer, depth > 0 ? "CA " : "", a, b);
        return;
    case X509_V_ERR_INVALID_PURPOSE:
        set_err(c->err, sizeof c->err,
                "the %s's certificate is not made for a TLS %s "
                "(extendedKeyUsage)",
                peer, peer);
        conn_advise(c, BS_TLS_R_CERT_PURPOSE);
        return;
    default:
        set_err(c->err, sizeof c->err,
                "the %s's certificate was rejected: %s (check error %ld at "
                "depth %d)",
                peer, X509_verify_cert_error_string(code), code, depth);
        return;
    }
}

struct client_policy;
static int check_allowed_leaf(X509_STORE_CTX *store, struct bs_tls_conn *c);
static int describe_crl(struct bs_tls_conn *c, long code, X509 *cert,
                        X509_STORE_CTX *store);

/* Called for each certificate of the peer's chain; notes the first
 * failure with the certificate that caused it, so the sentence can name
 * its dates or names.  The decision itself is OpenSSL's. */
static int verify_cb(int ok, X509_STORE_CTX *store)
{
    SSL *ssl =
        X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct bs_tls_conn *c = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
    if (ok) {
        return check_allowed_leaf(store, c);
    }
    if (c != NULL && !c->verify_noted) {
        if (!describe_crl(c, X509_STORE_CTX_get_error(store),
                          X509_STORE_CTX_get_current_cert(store), store))
        {
            describe_verify(c, X509_STORE_CTX_get_error(store),
                            X509_STORE_CTX_get_current_cert(store),
                            X509_STORE_CTX_get_error_depth(store));
        }
        c->verify_noted = 1;
    }
    return 0;
}

/* The peer refused our certificate with an alert (SSL_KIND_CERT_ALERT): say
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
    set_err(c->err, sizeof c->err,
            "the client rejected this server's certificate (%s)",
            ossl_reason(code));
    if (reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA) {
        append(c->err, sizeof c->err,
               ": it does not trust the CA that signed it");
        conn_advise(c, BS_TLS_R_OWN_CA_UNKNOWN);
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
            append(c->err, sizeof c->err,
                   ": a name mismatch: the client asked for %s, the "
                   "certificate is for %s",
                   asked, names);
            conn_advise(c, BS_TLS_R_OWN_NAME_WRONG);
        } else if (sni == NULL) {
            append(c->err, sizeof c->err,
                   ": most likely a name mismatch: the certificate is for %s "
                   "and the client sent no name (it connects by address?)",
                   names);
            conn_advise(c, BS_TLS_R_OWN_NAME_NO_SNI);
        } else {
            append(c->err, sizeof c->err,
                   ", though it holds the name the client asked for");
            conn_advise(c, BS_TLS_R_OWN_CERT_USAGE);
        }
    }
}

/* What an error of OpenSSL's SSL library means for the sentence. */
enum ssl_kind {
    SSL_KIND_OTHER = 0,     /* "WHAT failed: REASON" */
    SSL_KIND_EOF,           /* the peer left without close_notify */
    SSL_KIND_VERIFY,        /* our check of the peer's certificate failed */
    SSL_KIND_NO_CERT,       /* server: the client sent no certificate */
    SSL_KIND_CERT_REQUIRED, /* client: the server requires one */
    SSL_KIND_CERT_ALERT,    /* the peer refused our certificate */
    SSL_KIND_ALPN,          /* no application protocol in common */
    SSL_KIND_VERSION,       /* no TLS version in common */
    SSL_KIND_NOT_TLS,       /* the peer speaks something else */
};

static const struct {
    int reason; /* SSL_R_... */
    enum ssl_kind kind;
} ssl_kinds[] = {
    {SSL_R_UNEXPECTED_EOF_WHILE_READING, SSL_KIND_EOF},
    {SSL_R_CERTIFICATE_VERIFY_FAILED, SSL_KIND_VERIFY},
    {SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE, SSL_KIND_NO_CERT},
    {SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED, SSL_KIND_CERT_REQUIRED},
    {SSL_R_TLSV1_ALERT_UNKNOWN_CA, SSL_KIND_CERT_ALERT},
    {SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, SSL_KIND_CERT_ALERT},
    {SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE, SSL_KIND_CERT_ALERT},
    {SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED, SSL_KIND_CERT_ALERT},
    {SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED, SSL_KIND_CERT_ALERT},
    {SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN, SSL_KIND_CERT_ALERT},
    {SSL_R_TLSV1_ALERT_ACCESS_DENIED, SSL_KIND_CERT_ALERT},
    {SSL_R_NO_APPLICATION_PROTOCOL, SSL_KIND_ALPN},
    {SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL, SSL_KIND_ALPN},
    {SSL_R_UNSUPPORTED_PROTOCOL, SSL_KIND_VERSION},
    {SSL_R_TLSV1_ALERT_PROTOCOL_VERSION, SSL_KIND_VERSION},
    {SSL_R_NO_PROTOCOLS_AVAILABLE, SSL_KIND_VERSION},
    {SSL_R_WRONG_VERSION_NUMBER, SSL_KIND_NOT_TLS},
    {SSL_R_HTTP_REQUEST, SSL_KIND_NOT_TLS},
};

static enum ssl_kind ssl_kind_of(unsigned long code)
{
    if (ERR_GET_LIB(code) != ERR_LIB_SSL) {
        return SSL_KIND_OTHER;
    }
    for (size_t i = 0; i < sizeof ssl_kinds / sizeof ssl_kinds[0]; i++) {
        if (ssl_kinds[i].reason == ERR_GET_REASON(code)) {
            return ssl_kinds[i].kind;
        }
    }
    return SSL_KIND_OTHER;
}

/* The socket failed, or the peer left without close_notify. */
static void describe_network(struct bs_tls_conn *c, int e, int saved_errno,
                             const char *what)
{
    c->failure = BS_TLS_FAIL_NETWORK;
    if (e == SSL_ERROR_SYSCALL && saved_errno != 0) {
        set_err(c->err, sizeof c->err, "%s failed: %s", what,
                strerror(saved_errno));
    } else {
        set_err(c->err, sizeof c->err,
                "%s failed: the %s closed the connection without "
                "close_notify",
                what, c->ctx->is_server ? "client" : "server");
    }
}

static enum bs_tls_failure ssl_failure_class(enum ssl_kind kind,
                                             int in_handshake)
{
    switch (kind) {
    case SSL_KIND_VERIFY:
    case SSL_KIND_NO_CERT:
    case SSL_KIND_CERT_REQUIRED:
    case SSL_KIND_CERT_ALERT:
        return BS_TLS_FAIL_VERIFY;
    case SSL_KIND_ALPN:
    case SSL_KIND_VERSION:
    case SSL_KIND_NOT_TLS:
        return BS_TLS_FAIL_HANDSHAKE;
    case SSL_KIND_EOF:
        return BS_TLS_FAIL_NETWORK;
    case SSL_KIND_OTHER:
        break;
    }
    return in_handshake ? BS_TLS_FAIL_HANDSHAKE : BS_TLS_FAIL_PROTOCOL;
}

/* A TLS-level failure (SSL_ERROR_SSL) of the given kind. */
static void describe_ssl(struct bs_tls_conn *c, enum ssl_kind kind,
                         unsigned long code, int in_handshake, const char *what)
{
    const char *peer = c->ctx->is_server ? "client" : "server";

    c->failure = ssl_failure_class(kind, in_handshake);
    switch (kind) {
    case SSL_KIND_VERIFY:
        if (!c->verify_noted) {
            X509 *cert = SSL_get0_peer_certificate(c->ssl);
            describe_verify(c, SSL_get_verify_result(c->ssl), cert, 0);
        }
        return;
    case SSL_KIND_NO_CERT:
        set_err(c->err, sizeof c->err,
                "the client sent no certificate, and this server requires "
                "one");
        conn_advise(c, BS_TLS_R_NO_CLIENT_CERT);
        return;
    case SSL_KIND_CERT_REQUIRED:
        set_err(c->err, sizeof c->err,
                "the server requires a client certificate");
        conn_advise(c, BS_TLS_R_CERT_REQUIRED);
        return;
    case SSL_KIND_CERT_ALERT:
        describe_peer_alert(c, ERR_GET_REASON(code), code);
        return;
    case SSL_KIND_ALPN:
        set_err(c->err, sizeof c->err,
                "no application protocol in common: this program speaks "
                "ALPN \"" ALPN_ID "\" only");
        return;
    case SSL_KIND_VERSION:
        set_err(c->err, sizeof c->err,
                "no TLS version in common with the %s (%s): this side "
                "accepts TLS %s",
                peer, ossl_reason(code),
                SSL_CTX_get_min_proto_version(c->ctx->ssl) == TLS1_3_VERSION
                    ? "1.3 only"
                    : "1.2 and 1.3");
        return;
    case SSL_KIND_NOT_TLS:
        set_err(c->err, sizeof c->err,
                "the %s does not speak TLS (%s): check the host and port", peer,
                ossl_reason(code));
        return;
    case SSL_KIND_EOF: /* fail_status's, as a network failure */
    case SSL_KIND_OTHER:
        break;
    }
    set_err(c->err, sizeof c->err, "%s failed: %s", what, ossl_reason(code));
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
    enum ssl_kind kind = ssl_kind_of(code);
    if (e == SSL_ERROR_SYSCALL || kind == SSL_KIND_EOF) {
        describe_network(c, e, saved_errno, what);
    } else if (e != SSL_ERROR_SSL) {
        c->failure =
            in_handshake ? BS_TLS_FAIL_HANDSHAKE : BS_TLS_FAIL_PROTOCOL;
        set_err(c->err, sizeof c->err, "%s failed: unexpected state %d", what,
                e);
    } else {
        describe_ssl(c, kind, code, in_handshake, what);
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

/*
 * The key log holds every session's secrets, so it must be a regular file
 * only its owner can read.  O_NOFOLLOW: a symlink planted at the path does
 * not redirect the secrets; O_NONBLOCK: opening a FIFO with no reader does
 * not hang (and the FIFO is then refused).  A new file is made 0600; an
 * existing one of ours is narrowed to 0600 (its contents stay: the file is
 * appended to, never truncated); one owned by someone else, or with other
 * hard links, is refused and left as it was.
 */
static int open_keylog_fd(const char *path, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path,
                  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
                      O_NONBLOCK,
                  0600);
    if (fd == -1) {
        int e = errno;
        if (e == ELOOP) {
            set_err(err, errlen,
                    "key log file %s is a symbolic link: refused, as the "
                    "secrets would go where the link points; give the real "
                    "path",
                    path);
        } else if (e == ENXIO) {
            set_err(err, errlen,
                    "key log file %s is a FIFO or socket: refused; give a "
                    "regular file",
                    path);
        } else {
            set_err(err, errlen, "cannot open key log file %s: %s", path,
                    strerror(e));
        }
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        int e = errno;
        set_err(err, errlen, "cannot check key log file %s: %s", path,
                strerror(e));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, errlen,
                "key log file %s is not a regular file: refused; give a "
                "regular file",
                path);
        goto fail;
    }
    if (st.st_uid != geteuid() || st.st_nlink != 1) {
        set_err(err, errlen,
                "key log file %s %s: refused, as others could read the "
                "secrets; give a new file name",
                path,
                st.st_uid != geteuid() ? "belongs to another user"
                                       : "has other hard links");
        goto fail;
    }
    if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) {
        int e = errno;
        set_err(err, errlen,
                "key log file %s has mode %04o and cannot be made 0600: %s",
                path, (unsigned) (st.st_mode & 07777), strerror(e));
        goto fail;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
        int e = errno;
        set_err(err, errlen, "cannot set up key log file %s: %s", path,
                strerror(e));
        goto fail;
    }
    return fd;
fail:
    close(fd); /* never unlinked: it may be someone else's file */
    return -1;
}

/* ---- server certificates, CRL and client allow-lists ------------------- */

/* What a server context loaded, kept for bs_tls_ctx_check_renewal. */
struct server_certs {
    X509 *leaf[BS_TLS_MAX_CERTS];
    STACK_OF(X509) * chain[BS_TLS_MAX_CERTS]; /* the chain file's others */
    size_t n;
};

enum { ALLOW_CN, ALLOW_DNS, ALLOW_URI, ALLOW_KINDS };

/* Who may connect, beyond "signed by the CA". */
struct client_policy {
    char *crl_name; /* NULL: no CRL */
    char **allow[ALLOW_KINDS];
    size_t nallow[ALLOW_KINDS];
};

static void server_certs_free(struct server_certs *sc)
{
    if (sc == NULL) {
        return;
    }
    for (size_t i = 0; i < sc->n; i++) {
        X509_free(sc->leaf[i]);
        sk_X509_pop_free(sc->chain[i], X509_free);
    }
    free(sc);
}

static void client_policy_free(struct client_policy *p)
{
    if (p == NULL) {
        return;
    }
    for (int k = 0; k < ALLOW_KINDS; k++) {
        for (size_t i = 0; i < p->nallow[k]; i++) {
            free(p->allow[k][i]);
        }
        free(p->allow[k]);
    }
    free(p->crl_name);
    free(p);
}

static const char *key_type_name(X509 *x)
{
    switch (EVP_PKEY_get_base_id(X509_get0_pubkey(x))) {
    case EVP_PKEY_RSA:
        return "RSA";
    case EVP_PKEY_RSA_PSS:
        return "RSA-PSS";
    case EVP_PKEY_EC:
        return "ECDSA";
    case EVP_PKEY_ED25519:
        return "Ed25519";
    case EVP_PKEY_ED448:
        return "Ed448";
    default:
        return "unknown";
    }
}

static void serial_hex(X509 *x, char *buf, size_t len)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

    snprintf(buf, len, "%s", hex != NULL ? hex : "");
    OPENSSL_free(hex);
    BN_free(bn);
}

/* "CN=name": a certificate's first common name, printable. */
static void cert_cn(X509 *x, char *buf, size_t len)
{
    const ASN1_STRING *cn = first_cn(x);

    snprintf(buf, len, "CN=");
    if (cn != NULL) {
        append_printable(buf, len, ASN1_STRING_get0_data(cn),
                         (size_t) ASN1_STRING_length(cn));
    } else {
        append(buf, len, "(none)");
    }
}

static int asn1_is(const ASN1_STRING *s, const char *want, int nocase)
{
    size_t n = strlen(want);
    const unsigned char *d = ASN1_STRING_get0_data(s);

    if ((size_t) ASN1_STRING_length(s) != n || memchr(d, '\0', n) != NULL) {
        return 0;
    }
    return nocase ? strncasecmp((const char *) d, want, n) == 0
                  : memcmp(d, want, n) == 0;
}

static int in_list(const struct client_policy *p, int kind,
                   const ASN1_STRING *s)
{
    for (size_t i = 0; i < p->nallow[kind]; i++) {
        if (asn1_is(s, p->allow[kind][i], kind == ALLOW_DNS)) {
            return 1;
        }
    }
    return 0;
}

/* 1 if x holds an identity one of the lists names (or there are none). */
static int client_allowed(const struct client_policy *p, X509 *x)
{
    if (p->nallow[ALLOW_CN] + p->nallow[ALLOW_DNS] + p->nallow[ALLOW_URI] == 0)
    {
        return 1;
    }
    const X509_NAME *subj = X509_get_subject_name(x);
    for (int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
         idx >= 0; idx = X509_NAME_get_index_by_NID(subj, NID_commonName, idx))
    {
        if (in_list(p, ALLOW_CN,
                    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx))))
        {
            return 1;
        }
    }
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int n = gens != NULL ? sk_GENERAL_NAME_num(gens) : 0, found = 0;
    for (int i = 0; i < n && !found; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            found = in_list(p, ALLOW_DNS, g->d.dNSName);
        } else if (g->type == GEN_URI) {
            found = in_list(p, ALLOW_URI, g->d.uniformResourceIdentifier);
        }
    }
    GENERAL_NAMES_free(gens);
    return found;
}

static void describe_not_allowed(struct bs_tls_conn *c, X509 *x)
{
    char who[96], serial[80];

    cert_cn(x, who, sizeof who);
    serial_hex(x, serial, sizeof serial);
    c->failure = BS_TLS_FAIL_VERIFY;
    set_err(c->err, sizeof c->err, "client certificate %s (serial %s) refused",
            who, serial);
    conn_advise(c, BS_TLS_R_NOT_ALLOWED);
}

/* The CRL checks' failures, with the file to fix. */
static int describe_crl(struct bs_tls_conn *c, long code, X509 *cert,
                        X509_STORE_CTX *store)
{
    const struct client_policy *p = c->ctx->policy;
    const char *crl =
        p != NULL && p->crl_name != NULL ? p->crl_name : "(no CRL file)";
    X509_CRL *cur = X509_STORE_CTX_get0_current_crl(store);
    char who[96], serial[80], a[40];

    if (cert != NULL) {
        cert_cn(cert, who, sizeof who);
        serial_hex(cert, serial, sizeof serial);
    } else {
        snprintf(who, sizeof who, "(unknown)");
        serial[0] = '\0';
    }
    c->failure = BS_TLS_FAIL_VERIFY;
    switch (code) {
    case X509_V_ERR_CERT_REVOKED:
        set_err(c->err, sizeof c->err,
                "client certificate %s revoked (serial %s, listed in %s): it "
                "may no longer connect",
                who, serial, crl);
        return 1;
    case X509_V_ERR_CRL_HAS_EXPIRED:
        fmt_time(cur != NULL ? X509_CRL_get0_nextUpdate(cur) : NULL, a,
                 sizeof a);
        set_err(c->err, sizeof c->err,
                "client certificate %s refused: the CRL %s is out of date "
                "since %s (nextUpdate)",
                who, crl, a);
        conn_advise(c, BS_TLS_R_CRL_EXPIRED);
        return 1;
    case X509_V_ERR_CRL_NOT_YET_VALID:
        fmt_time(cur != NULL ? X509_CRL_get0_lastUpdate(cur) : NULL, a,
                 sizeof a);
        set_err(c->err, sizeof c->err,
                "client certificate %s refused: the CRL %s is not valid "
                "before %s: check the clock",
                who, crl, a);
        return 1;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
        set_err(c->err, sizeof c->err,
                "client certificate %s refused: %s holds no CRL of the CA "
                "that issued it: publish that CA's CRL there",
                who, crl);
        return 1;
    default:
        return 0;
    }
}

/* verify_cb's check of an accepted leaf: the allow-lists. */
static int check_allowed_leaf(X509_STORE_CTX *store, struct bs_tls_conn *c)
{
    if (c == NULL || c->ctx->policy == NULL ||
        X509_STORE_CTX_get_error_depth(store) != 0)
    {
        return 1;
    }
    X509 *leaf = X509_STORE_CTX_get_current_cert(store);
    if (leaf == NULL || client_allowed(c->ctx->policy, leaf)) {
        return 1;
    }
    /* bad_certificate to the client, so it reports a refused certificate */
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    if (!c->verify_noted) {
        describe_not_allowed(c, leaf);
        c->verify_noted = 1;
    }
    return 0;
}

/* After a handshake: a resumed session skipped certificate verification,
 * so check its client certificate against today's CRL and allow-lists
 * (an earlier context's ticket, a CRL that has since expired); and a
 * client without a certificate is no one on an allow-list. */
static bs_tls_status check_client_policy(struct bs_tls_conn *c)
{
    const struct client_policy *p = c->ctx->policy;

    if (!c->ctx->is_server || p == NULL) {
        return BS_TLS_OK;
    }
    X509 *peer = SSL_get0_peer_certificate(c->ssl);
    if (peer == NULL) {
        if (p->nallow[ALLOW_CN] + p->nallow[ALLOW_DNS] + p->nallow[ALLOW_URI] ==
            0) {
            return BS_TLS_OK;
        }
        c->failure = BS_TLS_FAIL_VERIFY;
        set_err(c->err, sizeof c->err, "client without a certificate refused");
        conn_advise(c, BS_TLS_R_NOT_ALLOWED);
        return BS_TLS_ERR;
    }
    if (!SSL_session_reused(c->ssl)) {
        return BS_TLS_OK; /* verify_cb checked it in this handshake */
    }
    X509_STORE_CTX *sc = X509_STORE_CTX_new();
    int ok = 0;
    if (sc != NULL &&
        X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(c->ctx->ssl), peer,
                            SSL_get_peer_cert_chain(c->ssl)) == 1)
    {
        X509_STORE_CTX_set_ex_data(sc, SSL_get_ex_data_X509_STORE_CTX_idx(),
                                   c->ssl);
        X509_STORE_CTX_set_default(sc, "ssl_client");
        X509_STORE_CTX_set_verify_cb(sc, verify_cb);
        ok = X509_verify_cert(sc) == 1;
        if (!ok && !c->verify_noted) {
            describe_verify(c, X509_STORE_CTX_get_error(sc), peer, 0);
        }
    } else if (!c->verify_noted) {
        set_err(c->err, sizeof c->err,
                "cannot check the resumed client's certificate: out of "
                "memory");
    }
    X509_STORE_CTX_free(sc);
    ERR_clear_error();
    if (!ok) {
        c->failure = BS_TLS_FAIL_VERIFY;
        return BS_TLS_ERR;
    }
    return BS_TLS_OK;
}

static int copy_list(struct client_policy *p, int kind, const char *const *list,
                     size_t n)
{
    if (n == 0) {
        return 0;
    }
    p->allow[kind] = calloc(n, sizeof *p->allow[kind]);
    if (p->allow[kind] == NULL) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        p->allow[kind][i] = strdup(list[i]);
        if (p->allow[kind][i] == NULL) {
            return -1;
        }
        p->nallow[kind] = i + 1;
    }
    return 0;
}

/* Load the CRL file into the context's store; each CRL in it must be
 * signed by a CA of the CA file, and current. */
static int load_crl(struct bs_tls_ctx *ctx, const char *crl_file, char *err,
                    size_t errlen)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx->ssl);
    BIO *in = NULL;
    X509_CRL *crl = NULL;
    int n = 0, rc = -1;

    if (check_readable(crl_file, "CRL file", err, errlen) != 0) {
        return -1;
    }
    in = BIO_new_file(crl_file, "r");
    if (in == NULL) {
        set_err(err, errlen, "cannot open CRL file %s", crl_file);
        goto out;
    }
    for (;;) {
        ERR_set_mark();
        crl = PEM_read_bio_X509_CRL(in, NULL, NULL, NULL);
        if (crl == NULL) {
            ERR_pop_to_mark(); /* the end of the file */
            break;
        }
        ERR_clear_last_mark();
        X509_STORE_CTX *sc = X509_STORE_CTX_new();
        X509_OBJECT *obj = NULL;
        EVP_PKEY *ca_key = NULL;
        if (sc != NULL && X509_STORE_CTX_init(sc, store, NULL, NULL) == 1) {
            obj = X509_STORE_CTX_get_obj_by_subject(sc, X509_LU_X509,
                                                    X509_CRL_get_issuer(crl));
        }
        if (obj != NULL) {
            ca_key = X509_get0_pubkey(X509_OBJECT_get0_X509(obj));
        }
        int signed_ok = ca_key != NULL && X509_CRL_verify(crl, ca_key) == 1;
        X509_OBJECT_free(obj);
        X509_STORE_CTX_free(sc);
        if (!signed_ok) {
            set_err(err, errlen,
                    "CRL file %s holds a CRL not signed by a CA of %s: "
                    "publish the CRL of the CA that issues the client "
                    "certificates",
                    crl_file,
                    ctx->ca_name != NULL ? ctx->ca_name : "(no CA file)");
            goto out;
        }
        const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
        if (next != NULL && X509_cmp_current_time(next) < 0) {
            char when[40];
            fmt_time(next, when, sizeof when);
            set_err(err, errlen,
                    "CRL file %s is out of date since %s (nextUpdate)",
                    crl_file, when);
            advise(err, errlen, ctx->advice, BS_TLS_R_CRL_STALE);
            goto out;
        }
        if (X509_STORE_add_crl(store, crl) != 1) {
            set_err(err, errlen, "cannot use the CRL in %s: %s", crl_file,
                    ossl_reason(ERR_peek_last_error()));
            goto out;
        }
        X509_CRL_free(crl);
        crl = NULL;
        n++;
    }
    if (n == 0) {
        set_err(err, errlen,
                "CRL file %s holds no PEM CRL: expected -----BEGIN X509 "
                "CRL-----",
                crl_file);
        advise(err, errlen, ctx->advice, BS_TLS_R_CRL_EMPTY);
        goto out;
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    rc = 0;
out:
    X509_CRL_free(crl);
    BIO_free(in);
    ERR_clear_error();
    return rc;
}

static int load_client_policy(struct bs_tls_ctx *ctx,
                              const struct bs_tls_server_config *c, char *err,
                              size_t errlen)
{
    if (c->crl_file == NULL &&
        c->nallow_cn + c->nallow_dns + c->nallow_uri == 0) {
        return 0;
    }
    if (c->verify_client == BS_TLS_VERIFY_NONE) {
        set_err(err, errlen,
                "a CRL or an allow-list of clients needs client certificates");
        advise(err, errlen, c->advice, BS_TLS_R_POLICY_NEEDS_CA);
        return -1;
    }
    struct client_policy *p = calloc(1, sizeof *p);
    if (p == NULL) {
        set_err(err, errlen, "out of memory for the client policy");
        return -1;
    }
    ctx->policy = p;
    if ((c->crl_file != NULL && (p->crl_name = strdup(c->crl_file)) == NULL) ||
        copy_list(p, ALLOW_CN, c->allow_cn, c->nallow_cn) != 0 ||
        copy_list(p, ALLOW_DNS, c->allow_dns, c->nallow_dns) != 0 ||
        copy_list(p, ALLOW_URI, c->allow_uri, c->nallow_uri) != 0)
    {
        set_err(err, errlen, "out of memory for the client policy");
        return -1;
    }
    if (c->crl_file != NULL) {
        return load_crl(ctx, c->crl_file, err, errlen);
    }
    return 0;
}

/* Load every certificate/key pair: one per key type, since a second of
 * the same type would silently replace the first in OpenSSL. */
static int load_server_certs(struct bs_tls_ctx *ctx,
                             const struct bs_tls_server_config *c, char *err,
                             size_t errlen)
{
    if (c->nmore > BS_TLS_MAX_CERTS - 1) {
        set_err(err, errlen, "at most %d certificates (one per key type)",
                BS_TLS_MAX_CERTS);
        return -1;
    }
    ctx->certs = calloc(1, sizeof *ctx->certs);
    if (ctx->certs == NULL) {
        set_err(err, errlen, "out of memory for the certificates");
        return -1;
    }
    for (size_t i = 0; i <= c->nmore; i++) {
        const char *cert = i == 0 ? c->cert_file : c->more_cert_files[i - 1];
        const char *key = i == 0 ? c->key_file : c->more_key_files[i - 1];
        if (cert == NULL || key == NULL) {
            set_err(err, errlen, "certificate %zu has no file or no key",
                    i + 1);
            return -1;
        }
        if (load_cert_key(ctx->ssl, cert, key, err, errlen) != 0) {
            return -1;
        }
        X509 *leaf = SSL_CTX_get0_certificate(ctx->ssl);
        STACK_OF(X509) *chain = NULL;
        (void) SSL_CTX_get0_chain_certs(ctx->ssl, &chain);
        for (size_t j = 0; j < ctx->certs->n; j++) {
            if (EVP_PKEY_get_base_id(X509_get0_pubkey(ctx->certs->leaf[j])) ==
                EVP_PKEY_get_base_id(X509_get0_pubkey(leaf)))
            {
                set_err(err, errlen,
                        "certificate %s has an %s key like the one before it: "
                        "give one certificate per key type (RSA, ECDSA, "
                        "Ed25519)",
                        cert, key_type_name(leaf));
                return -1;
            }
        }
        if (X509_up_ref(leaf) != 1) {
            set_err(err, errlen, "out of memory for the certificates");
            return -1;
        }
        ctx->certs->leaf[ctx->certs->n] = leaf;
        ctx->certs->chain[ctx->certs->n] =
            chain != NULL ? X509_chain_up_ref(chain) : NULL;
        ctx->certs->n++;
    }
    return 0;
}

void bs_tls_ctx_cert_serial(const struct bs_tls_ctx *ctx, size_t i, char *buf,
                            size_t len)
{
    if (len == 0) {
        return;
    }
    buf[0] = '\0';
    if (ctx != NULL && ctx->certs != NULL && i < ctx->certs->n) {
        serial_hex(ctx->certs->leaf[i], buf, len);
    }
}

/* The CA certificates the old server certificate may have chained to:
 * its chain file's others, the CA file, the system store. */
static X509_STORE *renewal_store(const struct bs_tls_ctx *old)
{
    X509_STORE *st = X509_STORE_new();

    if (st == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < old->certs->n; i++) {
        STACK_OF(X509) *ch = old->certs->chain[i];
        for (int j = 0; ch != NULL && j < sk_X509_num(ch); j++) {
            (void) X509_STORE_add_cert(st, sk_X509_value(ch, j));
        }
    }
    if (old->ca_name != NULL) {
        (void) X509_STORE_load_file(st, old->ca_name);
    }
    (void) X509_STORE_set_default_paths(st);
    ERR_clear_error();
    return st;
}

/* 0 and X509_V_OK, or the verification error of leaf against st (dates
 * aside: they are checked on their own). */
static int chain_error(X509_STORE *st, X509 *leaf, STACK_OF(X509) * chain)
{
    X509_STORE_CTX *sc = X509_STORE_CTX_new();
    int e = X509_V_ERR_OUT_OF_MEM;

    if (sc != NULL && X509_STORE_CTX_init(sc, st, leaf, chain) == 1) {
        X509_STORE_CTX_set_default(sc, "ssl_server");
        X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(sc),
                                    X509_V_FLAG_PARTIAL_CHAIN |
                                        X509_V_FLAG_NO_CHECK_TIME);
        e = X509_verify_cert(sc) == 1 ? X509_V_OK
                                      : X509_STORE_CTX_get_error(sc);
    }
    X509_STORE_CTX_free(sc);
    ERR_clear_error();
    return e;
}

static int same_issuer(X509 *a, X509 *b)
{
    const ASN1_OCTET_STRING *ka = X509_get0_authority_key_id(a);
    const ASN1_OCTET_STRING *kb = X509_get0_authority_key_id(b);

    if (X509_NAME_cmp(X509_get_issuer_name(a), X509_get_issuer_name(b)) != 0) {
        return 0;
    }
    if (ka == NULL || kb == NULL) {
        return ka == kb;
    }
    return ASN1_OCTET_STRING_cmp(ka, kb) == 0;
}

/* The first DNS name or IP address of old that new does not cover, into
 * buf; 0 if new covers them all. */
static int dropped_name(X509 *old, X509 *new_cert, char *buf, size_t len)
{
    GENERAL_NAMES *gens =
        X509_get_ext_d2i(old, NID_subject_alt_name, NULL, NULL);
    int n = gens != NULL ? sk_GENERAL_NAME_num(gens) : 0, dropped = 0;

    buf[0] = '\0';
    for (int i = 0; i < n && !dropped; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            const ASN1_STRING *s = g->d.dNSName;
            char name[256] = "";
            append_printable(name, sizeof name, ASN1_STRING_get0_data(s),
                             (size_t) ASN1_STRING_length(s));
            if (X509_check_host(
                    new_cert, (const char *) ASN1_STRING_get0_data(s),
                    (size_t) ASN1_STRING_length(s),
                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) != 1)
            {
                snprintf(buf, len, "DNS:%s", name);
                dropped = 1;
            }
        } else if (g->type == GEN_IPADD) {
            const ASN1_STRING *s = g->d.iPAddress;
            int alen = ASN1_STRING_length(s);
            if (X509_check_ip(new_cert, ASN1_STRING_get0_data(s), (size_t) alen,
                              0) != 1) {
                char ip[INET6_ADDRSTRLEN] = "?";
                int af = alen == 4 ? AF_INET : AF_INET6;
                if (alen == 4 || alen == 16) {
                    (void) inet_ntop(af, ASN1_STRING_get0_data(s), ip,
                                     sizeof ip);
                }
                snprintf(buf, len, "IP:%s", ip);
                dropped = 1;
            }
        }
    }
    GENERAL_NAMES_free(gens);
    return dropped;
}

static int check_one_renewal(X509_STORE *st, X509 *old, STACK_OF(X509) * och,
                             X509 *nw, STACK_OF(X509) * nch,
                             bs_tls_advice_fn *hook, char *err, size_t errlen)
{
    char a[40], b[40], name[280];

    if (X509_cmp_current_time(X509_get0_notBefore(nw)) > 0) {
        fmt_time(X509_get0_notBefore(nw), a, sizeof a);
        set_err(err, errlen,
                "the new certificate is not valid before %s: wait, or check "
                "the clock",
                a);
        return -1;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(nw)) < 0) {
        fmt_time(X509_get0_notAfter(nw), b, sizeof b);
        set_err(err, errlen, "the new certificate expired on %s", b);
        advise(err, errlen, hook, BS_TLS_R_RENEW_EXPIRED);
        return -1;
    }
    int old_self = X509_check_issued(old, old) == X509_V_OK;
    if (!old_self && X509_check_issued(nw, nw) == X509_V_OK) {
        set_err(err, errlen,
                "the new certificate is self-signed, the previous one was "
                "issued by a CA: clients would not trust it");
        advise(err, errlen, hook, BS_TLS_R_RENEW_SELF_SIGNED);
        return -1;
    }
    int new_err = chain_error(st, nw, nch);
    if (new_err != X509_V_OK) {
        /* The old one's CA is not known here either (a leaf alone in its
         * file, no --ca-file): then the issuer must stay the same. */
        if (chain_error(st, old, och) == X509_V_OK || !same_issuer(old, nw)) {
            char was[200] = "", now[200] = "";
            X509_NAME_oneline(X509_get_issuer_name(old), was, sizeof was);
            X509_NAME_oneline(X509_get_issuer_name(nw), now, sizeof now);
            set_err(err, errlen,
                    "the new certificate does not chain to the CA the "
                    "previous one did (%s; issued by %s, the previous by "
                    "%s)",
                    X509_verify_cert_error_string(new_err), now, was);
            advise(err, errlen, hook, BS_TLS_R_RENEW_OTHER_CA);
            return -1;
        }
    }
    if (dropped_name(old, nw, name, sizeof name)) {
        set_err(err, errlen,
                "the new certificate drops %s, which the previous one "
                "served: clients that connect by that name would fail",
                name);
        advise(err, errlen, hook, BS_TLS_R_RENEW_NAME);
        return -1;
    }
    return 0;
}

int bs_tls_ctx_check_renewal(const struct bs_tls_ctx *old,
                             const struct bs_tls_ctx *new_ctx, char *err,
                             size_t errlen)
{
    if (old == NULL || new_ctx == NULL || old->certs == NULL ||
        new_ctx->certs == NULL)
    {
        set_err(err, errlen, "no server certificates to compare");
        return -1;
    }
    if (new_ctx->certs->n != old->certs->n) {
        set_err(err, errlen, "%zu certificates now, %zu before",
                new_ctx->certs->n, old->certs->n);
        return -1;
    }
    X509_STORE *st = renewal_store(old);
    if (st == NULL) {
        set_err(err, errlen, "out of memory to check the new certificate");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < old->certs->n && rc == 0; i++) {
        char why[ERR_LEN * 2];
        why[0] = '\0';
        rc =
            check_one_renewal(st, old->certs->leaf[i], old->certs->chain[i],
                              new_ctx->certs->leaf[i], new_ctx->certs->chain[i],
                              new_ctx->advice, why, sizeof why);
        if (rc != 0) {
            set_err(err, errlen, "%s certificate %zu: %s",
                    key_type_name(new_ctx->certs->leaf[i]), i + 1, why);
        }
    }
    X509_STORE_free(st);
    ERR_clear_error();
    return rc;
}

static int open_keylog(struct bs_tls_ctx *ctx, const char *path, char *err,
                       size_t errlen)
{
    int fd = open_keylog_fd(path, err, errlen);
    if (fd == -1) {
        return -1;
    }
    ctx->keylog_fd = fd;
    SSL_CTX_set_keylog_callback(ctx->ssl, keylog_cb);
    return 0;
}

/* Name the first group of list OpenSSL does not know, for the message. */
static void find_bad_group(SSL_CTX *ssl, const char *list, char *bad,
                           size_t len)
{
    const char *p = list;

    snprintf(bad, len, "%s", list);
    while (*p != '\0') {
        size_t n = strcspn(p, ":");
        char one[64];
        if (n == 0 || n >= sizeof one) {
            snprintf(bad, len, "%.*s", (int) (n < 60 ? n : 60), p);
            return;
        }
        memcpy(one, p, n);
        one[n] = '\0';
        if (SSL_CTX_set1_groups_list(ssl, one) != 1) {
            snprintf(bad, len, "%s", one);
            return;
        }
        p += n;
        p += *p == ':';
    }
}

/* The key-exchange groups offered (client) or accepted (server). */
static int set_groups(SSL_CTX *ssl, const char *groups, bs_tls_advice_fn *hook,
                      char *err, size_t errlen)
{
    const char *list = groups != NULL ? groups : BS_TLS_DEFAULT_GROUPS;

    /* The macro casts away const: hand it a copy. */
    char *copy = strdup(list);
    if (copy == NULL) {
        set_err(err, errlen, "out of memory for a TLS context");
        return -1;
    }
    int ok = copy[0] != '\0' && SSL_CTX_set1_groups_list(ssl, copy) == 1;
    free(copy);
    if (ok) {
        return 0;
    }
    char bad[64] = "";
    find_bad_group(ssl, list, bad, sizeof bad);
    ERR_clear_error();
    /* the program may name its setting: "key-exchange groups (NAME)" */
    const char *setting = program_words(hook, BS_TLS_R_GROUPS);
    set_err(err, errlen,
            "key-exchange groups%s%s%s '%s': '%s' is not a group this "
            "OpenSSL knows; give names separated by ':' such as X25519, P-256, "
            "P-384, P-521, X448 (default " BS_TLS_DEFAULT_GROUPS ")",
            setting != NULL ? " (" : "", setting != NULL ? setting : "",
            setting != NULL ? ")" : "", list, bad);
    return -1;
}

int bs_tls_parse_version(const char *s)
{
    return strcmp(s, "1.2") == 0 ? 12 : strcmp(s, "1.3") == 0 ? 13 : 0;
}

/* The end of a context constructor: ctx if ok, else NULL and ctx freed;
 * OpenSSL's error queue is left empty either way. */
static struct bs_tls_ctx *ctx_done(struct bs_tls_ctx *ctx, int ok)
{
    ERR_clear_error();
    if (!ok) {
        bs_tls_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

/* The last step of both roles' constructors: the key log, if asked for. */
static struct bs_tls_ctx *ctx_finish(struct bs_tls_ctx *ctx, const char *keylog,
                                     char *err, size_t errlen)
{
    return ctx_done(ctx, keylog == NULL ||
                             open_keylog(ctx, keylog, err, errlen) == 0);
}

/* What servers and clients share: version floor, ciphers, options. */
static struct bs_tls_ctx *ctx_common(int is_server, int min_version,
                                     const char *ca_file, const char *groups,
                                     bs_tls_advice_fn *advice, char *err,
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
    ctx->advice = advice;
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
    if (set_groups(ctx->ssl, groups, advice, err, errlen) != 0) {
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
    return ctx_done(ctx, 1);
fail:
    return ctx_done(ctx, 0);
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

/* ---- resumption limits --------------------------------------------------
 *
 * Each TLS 1.3 resumption issues a fresh ticket with a fresh lifetime, so
 * a client that resumes often enough was admitted long after its
 * certificate expired (issue 9).  Every ticket therefore carries the time
 * of the full handshake that began its chain (the ticket's app data,
 * encrypted with the ticket), and a ticket is used only while that is
 * less than BS_TLS_RESUME_CHAIN_MAX_S ago and the client certificate in
 * it is still valid.  A refused ticket means a full handshake, which
 * checks the certificate again (and refuses an expired one).
 */

#define CHAIN_TAG     "bs1"
#define CHAIN_TAG_LEN 3
#define CHAIN_LEN     (CHAIN_TAG_LEN + 8)

static int ticket_gen_cb(SSL *ssl, void *arg)
{
    (void) arg;
    SSL_SESSION *sess = SSL_get0_session(ssl);
    const void *old = NULL;
    size_t oldlen = 0;

    if (sess == NULL) {
        return 0;
    }
    /* A resumed session's copy still holds its chain's start: keep it. */
    SSL_SESSION_get0_ticket_appdata(sess, (void **) (uintptr_t) &old, &oldlen);
    if (SSL_session_reused(ssl) && oldlen == CHAIN_LEN &&
        memcmp(old, CHAIN_TAG, CHAIN_TAG_LEN) == 0)
    {
        return 1;
    }
    unsigned char data[CHAIN_LEN];
    uint64_t start = (uint64_t) time(NULL);
    memcpy(data, CHAIN_TAG, CHAIN_TAG_LEN);
    for (int i = 0; i < 8; i++) {
        data[CHAIN_TAG_LEN + i] = (unsigned char) (start >> (56 - 8 * i));
    }
    return SSL_SESSION_set1_ticket_appdata(sess, data, sizeof data);
}

/*
 * Under a client policy (CRL, allow-lists), 1 if a ticket's client
 * certificate passes it today.  A ticket holds the leaf only, not the chain
 * the client sent, so a leaf issued by an intermediate CA fails here: its
 * client then makes a full handshake, sends its chain, and is checked (and,
 * if refused, told so by an alert) like any other.  Quiet: a failure only
 * means no resumption.
 */
static int session_policy_ok(const SSL *ssl, X509 *peer)
{
    const struct bs_tls_conn *c = SSL_get_app_data(ssl);
    const struct client_policy *p = c != NULL ? c->ctx->policy : NULL;

    if (p == NULL) {
        return 1;
    }
    if (!client_allowed(p, peer)) {
        return 0;
    }
    X509_STORE_CTX *sc = X509_STORE_CTX_new();
    int ok = sc != NULL &&
             X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(c->ctx->ssl), peer,
                                 NULL) == 1 &&
             X509_STORE_CTX_set_default(sc, "ssl_client") == 1 &&
             X509_verify_cert(sc) == 1;
    X509_STORE_CTX_free(sc);
    ERR_clear_error();
    return ok;
}

/* 1 if the session in a decrypted ticket may be resumed now. */
static int ticket_usable(const SSL *ssl, SSL_SESSION *sess)
{
    const unsigned char *d = NULL;
    size_t len = 0;
    time_t now = time(NULL);

    SSL_SESSION_get0_ticket_appdata(sess, (void **) (uintptr_t) &d, &len);
    if (len != CHAIN_LEN || memcmp(d, CHAIN_TAG, CHAIN_TAG_LEN) != 0) {
        return 0; /* not one of ours */
    }
    uint64_t start = 0;
    for (int i = 0; i < 8; i++) {
        start = start << 8 | d[CHAIN_TAG_LEN + i];
    }
    /* A start in the future (the clock went back) is refused too. */
    if ((uint64_t) now < start ||
        (uint64_t) now - start >= (uint64_t) BS_TLS_RESUME_CHAIN_MAX_S)
    {
        return 0;
    }
    X509 *peer = SSL_SESSION_get0_peer(sess);
    if (peer == NULL) {
        /* A server that now requires certificates does not take a
         * session without one. */
        return (SSL_get_verify_mode(ssl) & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) ==
               0;
    }
    if (X509_cmp_time(X509_get0_notBefore(peer), &now) >= 0 ||
        X509_cmp_time(X509_get0_notAfter(peer), &now) <= 0)
    {
        return 0;
    }
    return session_policy_ok(ssl, peer);
}

static SSL_TICKET_RETURN ticket_dec_cb(SSL *ssl, SSL_SESSION *sess,
                                       const unsigned char *keyname,
                                       size_t keyname_len,
                                       SSL_TICKET_STATUS status, void *arg)
{
    (void) keyname;
    (void) keyname_len;
    (void) arg;
    switch (status) {
    case SSL_TICKET_SUCCESS:
    case SSL_TICKET_SUCCESS_RENEW:
        /* IGNORE_RENEW: a full handshake, then a new ticket. */
        if (!ticket_usable(ssl, sess)) {
            return SSL_TICKET_RETURN_IGNORE_RENEW;
        }
        return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE
                                            : SSL_TICKET_RETURN_USE_RENEW;
    case SSL_TICKET_FATAL_ERR_MALLOC:
    case SSL_TICKET_FATAL_ERR_OTHER:
        return SSL_TICKET_RETURN_ABORT;
    default: /* no ticket, or one we cannot decrypt: as libssl would */
        return SSL_TICKET_RETURN_IGNORE_RENEW;
    }
}

/* ---- shared session-ticket keys -----------------------------------------
 *
 * Without a key file, libssl encrypts tickets with keys it makes up for
 * each context: a ticket resumes only on the process (and the certificate
 * reload) that issued it.  With one, every instance that reads the same
 * file encrypts with its first key and decrypts with any (tickets.h), so
 * a client resumes wherever the load balancer sends it, and across
 * reloads and restarts.  The policy checks above (ticket_dec_cb) apply to
 * such tickets as to any other.
 */

/* Read the whole key file (at most BS_TICKET_FILE_MAX bytes) into the
 * context.  0, or -1 with err naming the file and the fault. */
static int load_ticket_keys(struct bs_tls_ctx *ctx, const char *path, char *err,
                            size_t errlen)
{
    char buf[BS_TICKET_FILE_MAX + 1], why[256];
    size_t len = 0, n = 0;
    struct stat st;
    int rc = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd == -1) {
        int e = errno;
        set_err(err, errlen, "cannot open ticket key file %s: %s", path,
                strerror(e));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(err, errlen,
                "ticket key file %s is not a regular file: give a regular "
                "file",
                path);
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof buf - len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            int e = errno;
            set_err(err, errlen, "cannot read ticket key file %s: %s", path,
                    strerror(e));
            goto out;
        }
        if (r == 0) {
            break;
        }
        len += (size_t) r;
        if (len == sizeof buf) {
            set_err(err, errlen,
                    "ticket key file %s is larger than %u bytes: it holds "
                    "at most %d keys, one per line",
                    path, BS_TICKET_FILE_MAX, BS_TICKET_KEYS_MAX);
            goto out;
        }
    }
    ctx->tkeys = calloc(BS_TICKET_KEYS_MAX, sizeof *ctx->tkeys);
    if (ctx->tkeys == NULL) {
        set_err(err, errlen, "out of memory for the ticket keys");
        goto out;
    }
    if (bs_ticket_keys_parse(buf, len, ctx->tkeys, BS_TICKET_KEYS_MAX, &n, why,
                             sizeof why) != 0)
    {
        set_err(err, errlen, "ticket key file %s: %s", path, why);
        goto out;
    }
    ctx->ntkeys = n;
    rc = 0;
out:
    OPENSSL_cleanse(buf, sizeof buf);
    close(fd);
    return rc;
}

static int ticket_key_setup(const struct bs_ticket_key *k,
                            unsigned char iv[EVP_MAX_IV_LENGTH],
                            EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(
            OSSL_MAC_PARAM_KEY, (void *) (uintptr_t) k->hmac, sizeof k->hmac),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         (char *) (uintptr_t) "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_CipherInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv, enc) !=
            1 ||
        EVP_MAC_CTX_set_params(hctx, params) != 1)
    {
        return -1;
    }
    return 0;
}

/* libssl's ticket key callback: returns 1 (key set up), 2 (decrypted with
 * an older key: issue a new ticket), 0 (unknown key: no resumption) or
 * -1 (error). */
static int ticket_key_cb(SSL *ssl, unsigned char key_name[16],
                         unsigned char iv[EVP_MAX_IV_LENGTH],
                         EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
    const struct bs_tls_ctx *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

    if (ctx == NULL || ctx->ntkeys == 0) {
        return -1;
    }
    if (enc) {
        const struct bs_ticket_key *k = &ctx->tkeys[0];
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) {
            return -1;
        }
        memcpy(key_name, k->name, sizeof k->name);
        return ticket_key_setup(k, iv, cctx, hctx, 1) == 0 ? 1 : -1;
    }
    for (size_t i = 0; i < ctx->ntkeys; i++) {
        const struct bs_ticket_key *k = &ctx->tkeys[i];
        if (CRYPTO_memcmp(key_name, k->name, sizeof k->name) == 0) {
            if (ticket_key_setup(k, iv, cctx, hctx, 0) != 0) {
                return -1;
            }
            return i == 0 ? 1 : 2;
        }
    }
    return 0;
}

/* Shared ticket keys for ctx from path.  0, or -1 with err. */
static int set_ticket_keys(struct bs_tls_ctx *ctx, const char *path, char *err,
                           size_t errlen)
{
    if (load_ticket_keys(ctx, path, err, errlen) != 0) {
        return -1;
    }
    if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx->ssl, ticket_key_cb) != 1) {
        set_err(err, errlen, "cannot set up the ticket keys of %s: %s", path,
                ossl_reason(ERR_peek_last_error()));
        return -1;
    }
    return 0;
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
    struct bs_tls_ctx *ctx = ctx_common(1, c->min_version, c->ca_file,
                                        c->groups, c->advice, err, errlen);
    if (ctx == NULL) {
        return NULL;
    }
    if (load_server_certs(ctx, c, err, errlen) != 0) {
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
    if (load_client_policy(ctx, c, err, errlen) != 0) {
        goto fail;
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
    /* No 0-RTT (replay): tickets do not offer it (max_early_data 0) and
     * SSL_read_early_data is never called, so any early data is declined.
     * A client may send it anyway (a ticket from another server of the
     * same name); RFC 8446 sec. 4.2.10: a server that declines skips
     * those records.  libssl skips up to recv_max_early_data bytes and
     * aborts with "too much early data" at 0, so allow one record. */
    SSL_CTX_set_recv_max_early_data(ctx->ssl, BS_TLS_SKIP_EARLY_DATA);
    ctx->keep_buffers = free_buffers_is_safe();
    /* Resumption by stateless tickets only.  libssl's session cache
     * would keep every TLS 1.2 full handshake's session (20,480 of them,
     * 139 MB with client certificates) for two hours, whatever
     * --max-conns says: it is off, so a TLS 1.2 client without tickets
     * does a full handshake each time.  The id context keeps sessions
     * from being resumed across differently configured servers. */
    SSL_CTX_set_session_cache_mode(ctx->ssl, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_set_session_ticket_cb(ctx->ssl, ticket_gen_cb, ticket_dec_cb,
                                      NULL) != 1)
    {
        set_err(err, errlen, "cannot set up session tickets: %s",
                ossl_reason(ERR_peek_last_error()));
        goto fail;
    }
    if (SSL_CTX_set_num_tickets(ctx->ssl, 1) != 1 ||
        SSL_CTX_set_session_id_context(ctx->ssl, sid_ctx, sizeof sid_ctx - 1) !=
            1)
    {
        set_err(err, errlen, "cannot set up session tickets: %s",
                ossl_reason(ERR_peek_last_error()));
        goto fail;
    }
    if (c->ticket_key_file != NULL &&
        set_ticket_keys(ctx, c->ticket_key_file, err, errlen) != 0)
    {
        goto fail;
    }
    return ctx_finish(ctx, c->keylog_file, err, errlen);
fail:
    return ctx_done(ctx, 0);
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
                "a client key (%s) was given without its certificate",
                c->key_file);
        advise(err, errlen, c->advice, BS_TLS_R_KEY_NO_CERT);
        return NULL;
    }
    struct bs_tls_ctx *ctx =
        ctx_common(0, c->min_version, c->ca_file, NULL, c->advice, err, errlen);
    if (ctx == NULL) {
        return NULL;
    }
    ctx->insecure = c->insecure != 0;
    if (c->ca_file != NULL) {
        if (load_ca(ctx->ssl, c->ca_file, err, errlen) != 0) {
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx->ssl) != 1) {
        set_err(err, errlen, "cannot load the system's CA store (%s)",
                ossl_reason(ERR_peek_last_error()));
        advise(err, errlen, ctx->advice, BS_TLS_R_NO_CA_STORE);
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
    return ctx_finish(ctx, c->keylog_file, err, errlen);
fail:
    return ctx_done(ctx, 0);
}

void bs_tls_ctx_ref(struct bs_tls_ctx *ctx)
{
    atomic_fetch_add(&ctx->refs, 1);
}

size_t bs_tls_ctx_cached_sessions(const struct bs_tls_ctx *ctx)
{
    long n = SSL_CTX_sess_number(ctx->ssl);
    return n > 0 ? (size_t) n : 0;
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
    server_certs_free(ctx->certs);
    client_policy_free(ctx->policy);
    if (ctx->tkeys != NULL) {
        OPENSSL_cleanse(ctx->tkeys, BS_TICKET_KEYS_MAX * sizeof *ctx->tkeys);
        free(ctx->tkeys);
    }
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
        /* Nothing to do before the client's first bytes: a handshake step
         * now would find the socket empty (see bs_tls_conn_wants). */
        c->wait[BS_TLS_RECV_SIDE] = BS_TLS_EV_READ;
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

/* ---- readiness (see tls.h) -------------------------------------------- */

/* Record what side now waits for after a call that returned st. */
static bs_tls_status side_status(struct bs_tls_conn *c, enum bs_tls_side side,
                                 bs_tls_status st)
{
    c->wait[side] = st == BS_TLS_WANT_READ    ? BS_TLS_EV_READ
                    : st == BS_TLS_WANT_WRITE ? BS_TLS_EV_WRITE
                                              : 0u;
    return st;
}

unsigned bs_tls_conn_wants(const struct bs_tls_conn *c)
{
    return c->wait[BS_TLS_RECV_SIDE] | c->wait[BS_TLS_SEND_SIDE];
}

unsigned bs_tls_conn_blocked(const struct bs_tls_conn *c, enum bs_tls_side side)
{
    return c->wait[side];
}

void bs_tls_conn_events(struct bs_tls_conn *c, unsigned ev)
{
    if (ev & BS_TLS_EV_HUP) {
        ev |= BS_TLS_EV_READ | BS_TLS_EV_WRITE; /* the next call finds it */
    }
    if (ev & BS_TLS_EV_RDHUP) {
        ev |= BS_TLS_EV_READ;
    }
    if (ev & (BS_TLS_EV_RDHUP | BS_TLS_EV_HUP)) {
        /* The last news of input this socket gives: a short read() is no
         * longer proof of an empty socket (the FIN may come while the
         * caller holds reading back, and sit behind the data read after
         * it), so from now on every read goes to the socket. */
        c->peer_hup = 1;
    }
    if (ev & BS_TLS_EV_READ) {
        /* Edge-triggered, this is the only news of input that came after
         * a read found the socket empty: the next read must go to the
         * socket even if the caller does not read at once. */
        c->drained = 0;
    }
    for (int side = 0; side < 2; side++) {
        if (c->wait[side] & ev) {
            c->wait[side] = 0;
        }
    }
}

void bs_tls_conn_retry(struct bs_tls_conn *c, enum bs_tls_side side)
{
    c->wait[side] = 0;
    if (side == BS_TLS_RECV_SIDE) {
        c->drained = 0;
    }
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
        return side_status(c, BS_TLS_RECV_SIDE, check_client_policy(c));
    }
    return side_status(c, BS_TLS_RECV_SIDE, fail(c, r, e, "TLS handshake"));
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
        c->wait[BS_TLS_RECV_SIDE] = BS_TLS_EV_READ;
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
        c->wait[BS_TLS_RECV_SIDE] = 0;
        return BS_TLS_OK;
    }
    return side_status(c, BS_TLS_RECV_SIDE, fail(c, r, e, "TLS read"));
}

/* ---- gathered writes ---------------------------------------------------
 *
 * libssl writes each record of at most 16 KiB with its own write(), and
 * a system call can cost as much as encrypting several KiB (README,
 * Performance, has the figures).  A
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

static bs_tls_status flush_gathered(struct bs_tls_conn *c);

bs_tls_status bs_tls_flush(struct bs_tls_conn *c)
{
    return side_status(c, BS_TLS_SEND_SIDE, flush_gathered(c));
}

static bs_tls_status flush_gathered(struct bs_tls_conn *c)
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
        c->wait[BS_TLS_SEND_SIDE] = 0;
        return BS_TLS_OK;
    }
    bs_tls_status st =
        side_status(c, BS_TLS_SEND_SIDE, fail(c, r, e, "TLS write"));
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
            return side_status(c, BS_TLS_SEND_SIDE,
                               fail(c, r, e, "TLS shutdown"));
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

enum bs_tls_reason bs_tls_conn_reason(const struct bs_tls_conn *c)
{
    return c->reason;
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

const char *bs_tls_conn_group(const struct bs_tls_conn *c)
{
    int nid = (int) SSL_get_negotiated_group(c->ssl);
    const char *name;

    if (nid == NID_undef) {
        return "";
    }
    name = SSL_group_to_name(c->ssl, nid);
    return name != NULL ? name : "?";
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

SSL *bs_tls_conn_ssl(const struct bs_tls_conn *c)
{
    return c != NULL ? c->ssl : NULL;
}
