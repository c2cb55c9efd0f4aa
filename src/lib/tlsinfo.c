/*
 * tlsinfo.c - a TLS connection in words; see tlsinfo.h.
 *
 * Everything here reads OpenSSL's state of a connection that tls.c set
 * up (bs_tls_conn_ssl); nothing changes it, besides installing the
 * message callback that reports the handshake as it happens.
 */
#include "tlsinfo.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Append printf-style text to buf (NUL-terminated, cut to fit). */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t len,
                                                         const char *fmt, ...)
{
    size_t used = strnlen(buf, len);
    va_list ap;

    if (used + 1 >= len) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void
emit(bs_tlsinfo_line_fn *fn, void *arg, const char *fmt, ...)
{
    char line[BS_TLSINFO_LINE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fn(arg, line);
}

/* Hold at most this much of a trace before giving it out anyway. */
#define HOLD_MAX 16384u

/* A trace line: to the callback, or held (BS_TLSINFO_HOLD) until the
 * summary. */
__attribute__((format(printf, 2, 3))) static void
trace_line(struct bs_tlsinfo_trace *t, const char *fmt, ...)
{
    char line[BS_TLSINFO_LINE_MAX];
    size_t n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    n = strlen(line) + 1;
    if (t->hold && t->held_len + n > HOLD_MAX) {
        bs_tlsinfo_trace_flush(t);
    }
    if (t->hold && t->held_len + n > t->held_cap) {
        size_t cap = t->held_cap == 0 ? 1024 : t->held_cap * 2;
        char *p;

        while (cap < t->held_len + n) {
            cap *= 2;
        }
        p = realloc(t->held, cap);
        if (p == NULL) {
            bs_tlsinfo_trace_flush(t); /* give out what is held, then go on */
        } else {
            t->held = p;
            t->held_cap = cap;
        }
    }
    if (!t->hold) {
        t->fn(t->arg, line);
        return;
    }
    memcpy(t->held + t->held_len, line, n);
    t->held_len += n;
}

void bs_tlsinfo_trace_flush(struct bs_tlsinfo_trace *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < t->held_len; i += strlen(t->held + i) + 1) {
        t->fn(t->arg, t->held + i);
    }
    free(t->held);
    t->held = NULL;
    t->held_len = t->held_cap = 0;
    t->hold = 0;
}

static int64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- names ------------------------------------------------------------- */

/* Handshake message types (RFC 8446 4, RFC 5246 7.4), by number. */
static const char *const handshake_names[] = {
    [0] = "HelloRequest",        [1] = "ClientHello",
    [2] = "ServerHello",         [4] = "NewSessionTicket",
    [5] = "EndOfEarlyData",      [8] = "EncryptedExtensions",
    [11] = "Certificate",        [12] = "ServerKeyExchange",
    [13] = "CertificateRequest", [14] = "ServerHelloDone",
    [15] = "CertificateVerify",  [16] = "ClientKeyExchange",
    [20] = "Finished",           [22] = "CertificateStatus",
    [24] = "KeyUpdate",          [254] = "MessageHash",
};

/* Record content types (RFC 8446 5.1), by number. */
static const char *const content_names[] = {
    [20] = "change_cipher_spec",
    [21] = "alert",
    [22] = "handshake",
    [23] = "application_data",
};

/* Protocol versions, indexed by version - 0x0300. */
static const char *const version_names[] = {
    [0] = "SSL 3.0", [1] = "TLS 1.0", [2] = "TLS 1.1",
    [3] = "TLS 1.2", [4] = "TLS 1.3",
};

const char *bs_tlsinfo_handshake_name(unsigned type)
{
    return type < sizeof handshake_names / sizeof handshake_names[0]
               ? handshake_names[type]
               : NULL;
}

const char *bs_tlsinfo_content_name(unsigned type)
{
    return type < sizeof content_names / sizeof content_names[0]
               ? content_names[type]
               : NULL;
}

const char *bs_tlsinfo_version_name(unsigned version)
{
    unsigned i = version - 0x0300u; /* below 0x0300: wraps, out of range */

    return i < sizeof version_names / sizeof version_names[0] ? version_names[i]
                                                              : "unknown";
}

/* RFC 8446 4.1.3: a ServerHello whose random is this is a
 * HelloRetryRequest. */
static const unsigned char hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
    0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
    0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

static const char *bytes_word(size_t n)
{
    return n == 1 ? "byte" : "bytes";
}

/* ---- the trace ---------------------------------------------------------- */

/* Keep a copy of a received Certificate message (the chain as sent). */
static void keep_certs(struct bs_tlsinfo_trace *t, const unsigned char *p,
                       size_t len)
{
    unsigned char *copy = malloc(len);

    if (copy == NULL) {
        return; /* the chain of a failed handshake goes unshown */
    }
    memcpy(copy, p, len);
    free(t->certs);
    t->certs = copy;
    t->certs_len = len;
}

static void on_handshake(struct bs_tlsinfo_trace *t, char dir,
                         const unsigned char *p, size_t len)
{
    const char *name;
    char other[32];

    if (len < 4) {
        trace_line(t, "%c handshake fragment (%zu %s)", dir, len,
                   bytes_word(len));
        return;
    }
    name = bs_tlsinfo_handshake_name(p[0]);
    if (p[0] == 2 && len >= 38 && memcmp(p + 6, hrr_random, 32) == 0) {
        name = "HelloRetryRequest";
    }
    if (name == NULL) {
        snprintf(other, sizeof other, "handshake type %u", p[0]);
        name = other;
    }
    if (t->nmsgs == 0) {
        t->t_first_us = mono_us();
    }
    t->t_last_us = mono_us();
    t->nmsgs++;
    if (p[0] == 11 && dir == '<') {
        keep_certs(t, p, len);
    }
    trace_line(t, "%c %s (%zu %s)", dir, name, len, bytes_word(len));
}

static void on_message(int write_p, int version, int content_type,
                       const void *buf, size_t len, SSL *ssl, void *arg)
{
    struct bs_tlsinfo_trace *t = arg;
    const unsigned char *p = buf;
    char dir = write_p ? '>' : '<';

    (void) ssl;
    switch (content_type) {
    case SSL3_RT_HEADER:
        if (t->records && len >= 5) {
            const char *ct = bs_tlsinfo_content_name(p[0]);
            unsigned v = (unsigned) p[1] << 8 | p[2];
            unsigned n = (unsigned) p[3] << 8 | p[4];

            trace_line(t, "%c record: %s%s, %s (0x%04x), %u %s", dir,
                       ct != NULL ? ct : "content type ", ct != NULL ? "" : "?",
                       bs_tlsinfo_version_name(v), v, n, bytes_word(n));
        }
        return;
    case SSL3_RT_INNER_CONTENT_TYPE:
        if (t->records && len >= 1) {
            const char *ct = bs_tlsinfo_content_name(p[0]);

            trace_line(t, "%c   inner content type (TLS 1.3): %s", dir,
                       ct != NULL ? ct : "unknown");
        }
        return;
    case SSL3_RT_HANDSHAKE:
        t->certs_tls13 = version == TLS1_3_VERSION;
        on_handshake(t, dir, p, len);
        return;
    case SSL3_RT_CHANGE_CIPHER_SPEC:
        trace_line(
            t, "%c ChangeCipherSpec (%zu %s)%s", dir, len, bytes_word(len),
            version == TLS1_3_VERSION ? ", for middlebox compatibility" : "");
        return;
    case SSL3_RT_ALERT:
        if (len >= 2) {
            trace_line(t, "%c Alert: %s, %s", dir,
                       p[0] == 2 ? "fatal" : "warning",
                       SSL_alert_desc_string_long(p[1]));
        }
        return;
    default:
        return;
    }
}

int bs_tlsinfo_trace_start(struct bs_tls_conn *c, struct bs_tlsinfo_trace *t,
                           bs_tlsinfo_line_fn *fn, void *arg, unsigned flags)
{
    SSL *ssl = bs_tls_conn_ssl(c);

    if (ssl == NULL || t == NULL || fn == NULL) {
        return -1;
    }
    memset(t, 0, sizeof *t);
    t->fn = fn;
    t->arg = arg;
    t->records = (flags & BS_TLSINFO_RECORDS) != 0;
    t->hold = (flags & BS_TLSINFO_HOLD) != 0;
    SSL_set_msg_callback(ssl, on_message);
    SSL_set_msg_callback_arg(ssl, t);
    return 0;
}

void bs_tlsinfo_trace_free(struct bs_tlsinfo_trace *t)
{
    if (t != NULL) {
        free(t->certs);
        t->certs = NULL;
        t->certs_len = 0;
        free(t->held);
        t->held = NULL;
        t->held_len = t->held_cap = 0;
    }
}

/* ---- certificates ------------------------------------------------------- */

static void name_text(const X509_NAME *n, char *buf, size_t len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    long k;

    buf[0] = '\0';
    if (b == NULL) {
        return;
    }
    if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >=
        0) {
        k = BIO_get_mem_data(b, &p);
        if (k > 0) {
            snprintf(buf, len, "%.*s", (int) k, p);
        }
    }
    BIO_free(b);
    if (buf[0] == '\0') {
        snprintf(buf, len, "(empty)");
    }
}

static void time_text(const ASN1_TIME *t, char *buf, size_t len)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        snprintf(buf, len, "?");
        return;
    }
    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void sans_text(X509 *x, char *buf, size_t len)
{
    GENERAL_NAMES *names =
        X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

    buf[0] = '\0';
    for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        const char *sep = buf[0] != '\0' ? ", " : "";
        const unsigned char *d;
        int n;

        switch (g->type) {
        case GEN_DNS:
        case GEN_URI:
        case GEN_EMAIL:
            d = ASN1_STRING_get0_data(g->d.ia5);
            n = ASN1_STRING_length(g->d.ia5);
            append(buf, len, "%s%s:%.*s", sep,
                   g->type == GEN_DNS   ? "DNS"
                   : g->type == GEN_URI ? "URI"
                                        : "email",
                   n, (const char *) d);
            break;
        case GEN_IPADD:
            d = ASN1_STRING_get0_data(g->d.ip);
            n = ASN1_STRING_length(g->d.ip);
            if (n == 4 || n == 16) {
                char ip[INET6_ADDRSTRLEN];

                if (inet_ntop(n == 4 ? AF_INET : AF_INET6, d, ip, sizeof ip) !=
                    NULL) {
                    append(buf, len, "%sIP:%s", sep, ip);
                }
            }
            break;
        default:
            append(buf, len, "%s(other name)", sep);
            break;
        }
    }
    GENERAL_NAMES_free(names);
    if (buf[0] == '\0') {
        snprintf(buf, len, "none");
    }
}

static void fingerprint_text(const X509 *x, char *buf, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    buf[0] = '\0';
    if (X509_digest(x, EVP_sha256(), md, &n) != 1) {
        snprintf(buf, len, "?");
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        append(buf, len, "%s%02X", i > 0 ? ":" : "", md[i]);
    }
}

static void key_text(X509 *x, char *buf, size_t len)
{
    EVP_PKEY *k = X509_get0_pubkey(x);
    char group[64] = "";
    const char *type, *nist = NULL;

    if (k == NULL) {
        snprintf(buf, len, "?");
        return;
    }
    switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA:
        type = "RSA";
        break;
    case EVP_PKEY_RSA_PSS:
        type = "RSA-PSS";
        break;
    case EVP_PKEY_EC:
        type = "EC";
        if (EVP_PKEY_get_group_name(k, group, sizeof group, NULL) != 1) {
            group[0] = '\0';
        } else {
            /* "P-256 (prime256v1)": the NIST name students meet first */
            nist = EC_curve_nid2nist(OBJ_sn2nid(group));
        }
        break;
    case EVP_PKEY_ED25519:
        type = "Ed25519";
        break;
    case EVP_PKEY_ED448:
        type = "Ed448";
        break;
    default:
        type = EVP_PKEY_get0_type_name(k);
        break;
    }
    snprintf(buf, len, "%s%s%s%s%s%s, %d bits", type != NULL ? type : "?",
             nist != NULL ? " " : "", nist != NULL ? nist : "",
             group[0] != '\0' ? (nist != NULL ? " (" : " ") : "", group,
             nist != NULL ? ")" : "", EVP_PKEY_get_bits(k));
}

/* The lines of one certificate; head is "[i] " or "", pad as wide. */
static void describe_cert(X509 *x, const char *head, bs_tlsinfo_line_fn *fn,
                          void *arg)
{
    char a[512], b[64], c[64];
    size_t w = strlen(head);

    name_text(X509_get_subject_name(x), a, sizeof a);
    emit(fn, arg, "  %ssubject: %s", head, a);
    name_text(X509_get_issuer_name(x), a, sizeof a);
    emit(fn, arg, "  %*sissuer: %s", (int) w, "", a);
    sans_text(x, a, sizeof a);
    emit(fn, arg, "  %*sSANs: %s", (int) w, "", a);
    time_text(X509_get0_notBefore(x), b, sizeof b);
    time_text(X509_get0_notAfter(x), c, sizeof c);
    emit(fn, arg, "  %*svalid: %s to %s", (int) w, "", b, c);
    fingerprint_text(x, a, sizeof a);
    emit(fn, arg, "  %*sSHA-256 fingerprint: %s", (int) w, "", a);
    key_text(x, a, sizeof a);
    emit(fn, arg, "  %*skey: %s", (int) w, "", a);
}

int bs_tlsinfo_describe_cert_file(const char *path, bs_tlsinfo_line_fn *fn,
                                  void *arg)
{
    FILE *f = fopen(path, "r");
    X509 *x;

    if (f == NULL) {
        emit(fn, arg, "cannot open %s", path);
        return -1;
    }
    ERR_set_mark();
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (x == NULL) {
        ERR_pop_to_mark();
        emit(fn, arg, "%s holds no PEM certificate", path);
        return -1;
    }
    describe_cert(x, "", fn, arg);
    X509_free(x);
    ERR_pop_to_mark();
    return 0;
}

/* ---- the summary -------------------------------------------------------- */

static size_t get24(const unsigned char *p)
{
    return (size_t) p[0] << 16 | (size_t) p[1] << 8 | p[2];
}

/*
 * The chain in a kept Certificate message (RFC 8446 4.4.2; RFC 5246
 * 7.4.2): [TLS 1.3: context length, context] list length (3), then each
 * certificate's length (3) and DER [TLS 1.3: extensions length (2) and
 * extensions].  Every length is checked against what is left.
 */
static int read_cert_msg(const unsigned char *msg, size_t len, int tls13,
                         const char *whose, bs_tlsinfo_line_fn *fn, void *arg);

int bs_tlsinfo_describe_cert_msg(const unsigned char *msg, size_t len,
                                 int tls13, const char *whose,
                                 bs_tlsinfo_line_fn *fn, void *arg)
{
    int rc;

    if (msg == NULL || len < 4 || msg[0] != 11 || get24(msg + 1) != len - 4) {
        return -1;
    }
    ERR_set_mark();
    rc = read_cert_msg(msg, len, tls13, whose, fn, arg);
    ERR_pop_to_mark();
    return rc;
}

static int read_cert_msg(const unsigned char *msg, size_t len, int tls13,
                         const char *whose, bs_tlsinfo_line_fn *fn, void *arg)
{
    const unsigned char *p, *end;
    size_t list;
    int n = 0;
    char head[16];

    p = msg + 4;
    end = msg + len;
    if (tls13) {
        if (end - p < 1 || (size_t) (end - p) < 1u + p[0]) {
            return -1;
        }
        p += 1 + p[0];
    }
    if (end - p < 3 || (list = get24(p)) != (size_t) (end - p) - 3) {
        return -1;
    }
    p += 3;
    emit(fn, arg,
         "%s certificate chain, as sent (the handshake failed):", whose);
    while (end - p >= 3) {
        size_t clen = get24(p);
        const unsigned char *der = p + 3;
        X509 *x;

        if ((size_t) (end - der) < clen) {
            break;
        }
        x = d2i_X509(NULL, &der, (long) clen);
        snprintf(head, sizeof head, "[%d] ", n++);
        if (x != NULL) {
            describe_cert(x, head, fn, arg);
            X509_free(x);
        } else {
            emit(fn, arg, "  %s(%zu bytes that are not a certificate)", head,
                 clen);
        }
        p += 3 + clen;
        if (tls13) {
            size_t ext;

            if (end - p < 2) {
                break;
            }
            ext = (size_t) p[0] << 8 | p[1];
            if ((size_t) (end - p) - 2 < ext) {
                break;
            }
            p += 2 + ext;
        }
    }
    return p == end ? 0 : -1;
}

static void describe_chain(SSL *ssl, const struct bs_tlsinfo_trace *t,
                           bs_tlsinfo_line_fn *fn, void *arg)
{
    int server = SSL_is_server(ssl);
    const char *whose = server ? "client" : "server";
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    int n = chain != NULL ? sk_X509_num(chain) : 0;
    char head[16];

    if (leaf == NULL && t != NULL && t->certs != NULL) {
        (void) bs_tlsinfo_describe_cert_msg(t->certs, t->certs_len,
                                            t->certs_tls13, whose, fn, arg);
        return;
    }
    if (leaf == NULL) {
        emit(fn, arg, "%s certificate: none%s", whose,
             server ? " (the client sent none)" : "");
        return;
    }
    /* a server's chain leaves out the client's own certificate */
    if (server) {
        n++;
    }
    emit(fn, arg, "%s certificate chain: %d certificate%s, as sent", whose, n,
         n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        X509 *x = server ? (i == 0 ? leaf : sk_X509_value(chain, i - 1))
                         : sk_X509_value(chain, i);

        snprintf(head, sizeof head, "[%d] ", i);
        describe_cert(x, head, fn, arg);
    }
}

static void describe_checks(SSL *ssl, bs_tlsinfo_line_fn *fn, void *arg)
{
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    long vr = SSL_get_verify_result(ssl);
    STACK_OF(X509) *vchain = SSL_get0_verified_chain(ssl);
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    const char *host =
        param != NULL ? X509_VERIFY_PARAM_get0_host(param, 0) : NULL;
    char *ip = param != NULL ? X509_VERIFY_PARAM_get1_ip_asc(param) : NULL;
    const char *peername = SSL_get0_peername(ssl);
    const char *verdict = vr == X509_V_OK ? "ok" : "FAILED";
    char ca[512], now[64];
    time_t t = time(NULL);
    struct tm tm;

    if (leaf == NULL) {
        /* a failed handshake keeps no certificate, but its result */
        if (vr != X509_V_OK) {
            emit(fn, arg, "checked: the chain: FAILED: %s (X.509 error %ld)",
                 X509_verify_cert_error_string(vr), vr);
        }
        OPENSSL_free(ip);
        return;
    }
    if (SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE) {
        emit(fn, arg,
             "checked: nothing: certificate verification is off, so anyone "
             "could have sent this chain");
        OPENSSL_free(ip);
        return;
    }
    if (vchain != NULL && sk_X509_num(vchain) > 0) {
        X509 *anchor = sk_X509_value(vchain, sk_X509_num(vchain) - 1);

        name_text(X509_get_subject_name(anchor), ca, sizeof ca);
        emit(fn, arg, "checked: chain of %d to trusted CA \"%s\": %s",
             sk_X509_num(vchain), ca, verdict);
    } else {
        emit(fn, arg, "checked: chain to a trusted CA: %s", verdict);
    }
    if (vr != X509_V_OK) {
        emit(fn, arg, "  why: %s (X.509 error %ld)",
             X509_verify_cert_error_string(vr), vr);
    }
    if (host != NULL) {
        emit(fn, arg,
             "checked: name \"%s\" against the certificate's SANs: %s%s%s%s",
             host, vr == X509_V_OK || peername != NULL ? "ok" : "FAILED",
             peername != NULL ? " (matched DNS:" : "",
             peername != NULL ? peername : "", peername != NULL ? ")" : "");
    } else if (ip != NULL) {
        /* OpenSSL names no match for an address: the chain check above
         * includes it, and only an exact IP SAN matches */
        emit(fn, arg,
             "checked: address %s against the certificate's IP SANs: %s%s%s",
             ip, vr == X509_V_OK ? "ok (matched IP:" : "FAILED",
             vr == X509_V_OK ? ip : "", vr == X509_V_OK ? ")" : "");
    } else if (!SSL_is_server(ssl)) {
        emit(fn, arg, "checked: name: not checked (no name was set)");
    }
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S UTC", &tm);
    emit(fn, arg, "checked: dates of every certificate against now (%s): %s",
         now,
         vr == X509_V_ERR_CERT_HAS_EXPIRED ||
                 vr == X509_V_ERR_CERT_NOT_YET_VALID
             ? "FAILED"
             : verdict);
    OPENSSL_free(ip);
}

static void describe(SSL *ssl, const struct bs_tlsinfo_trace *t,
                     bs_tlsinfo_line_fn *fn, void *arg);

void bs_tlsinfo_describe(const struct bs_tls_conn *c,
                         struct bs_tlsinfo_trace *t, bs_tlsinfo_line_fn *fn,
                         void *arg)
{
    SSL *ssl = bs_tls_conn_ssl(c);

    bs_tlsinfo_trace_flush(t); /* the messages first, then the summary */
    if (ssl == NULL || fn == NULL) {
        return;
    }
    /* Some queries leave errors on the thread's queue (an absent IP
     * address: "passed a null parameter"); the connection's next read
     * must not take them for its own. */
    ERR_set_mark();
    describe(ssl, t, fn, arg);
    ERR_pop_to_mark();
}

static void describe(SSL *ssl, const struct bs_tlsinfo_trace *t,
                     bs_tlsinfo_line_fn *fn, void *arg)
{
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    const char *sni;
    int nid;
    const char *group = NULL;

    emit(fn, arg, "TLS version: %s", SSL_get_version(ssl));
    emit(fn, arg, "cipher suite: %s", SSL_get_cipher_name(ssl));
    nid = (int) SSL_get_negotiated_group(ssl);
    if (nid > 0) {
        group = SSL_group_to_name(ssl, nid);
    }
    emit(fn, arg, "key exchange group: %s",
         group != NULL ? group : "(none reported)");
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    if (alpn_len > 0) {
        emit(fn, arg, "ALPN: %.*s", (int) alpn_len, (const char *) alpn);
    } else {
        emit(fn, arg, "ALPN: none agreed");
    }
    sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    emit(fn, arg, "SNI: %s%s", sni != NULL ? sni : "none",
         sni == NULL ? (SSL_is_server(ssl) ? " (the client sent none)"
                                           : " (not sent for an IP address)")
                     : "");
    emit(fn, arg, "resumed: %s", SSL_session_reused(ssl) ? "yes" : "no");
    describe_chain(ssl, t, fn, arg);
    describe_checks(ssl, fn, arg);
    if (t != NULL && t->nmsgs > 0) {
        int64_t us = t->t_last_us - t->t_first_us;

        emit(fn, arg, "handshake: %lld.%lld ms (%u messages, first to last)",
             (long long) (us / 1000), (long long) (us % 1000 / 100), t->nmsgs);
    }
}
