/*
 * tlsinfo.h - what a TLS connection did and agreed on, in words, for
 * -v in the spirit of curl -v: each handshake message as it is sent and
 * received, and after the handshake the version, cipher suite, group,
 * ALPN, SNI, resumption, the peer's certificate chain and what was
 * checked of it.
 *
 * The library reports, the programs print: every line goes to a callback
 * the program gives (the client writes it to stderr, the server to its
 * log with the peer in front).  Lines are NUL-terminated, without '\n'.
 *
 * Trace lines, as the messages pass (">" sent, "<" received):
 *
 *     > ClientHello (238 bytes)
 *     < ServerHello (90 bytes)
 *     < ChangeCipherSpec (1 byte)
 *     < EncryptedExtensions (25 bytes)
 *     < Certificate (1008 bytes)
 *
 * and with records on (-vv), before each record's content:
 *
 *     < record: handshake, TLS 1.2 (0x0303), 95 bytes
 */
#ifndef BS_TLSINFO_H
#define BS_TLSINFO_H

#include <stddef.h>
#include <stdint.h>

#include "tls.h"

/* One line of text, without '\n'; borrowed for the call only. */
typedef void bs_tlsinfo_line_fn(void *arg, const char *line);

/* Longest line given to the callback, NUL included (longer are cut). */
#define BS_TLSINFO_LINE_MAX 1024

/*
 * The trace of one connection: caller-allocated, it must outlive the
 * connection's handshake and every later call that names it.  Fields are
 * private.
 */
struct bs_tlsinfo_trace {
    bs_tlsinfo_line_fn *fn;
    void *arg;
    int records; /* also show record headers (-vv) */
    int hold;    /* keep lines until the summary */
    char *held;  /* held lines, each NUL-terminated */
    size_t held_len, held_cap;
    int64_t t_first_us; /* monotonic: the first handshake message */
    int64_t t_last_us;  /* monotonic: the last handshake message */
    unsigned nmsgs;     /* handshake messages seen */
    /* a copy of the last Certificate message received, so that a failed
     * handshake can still show the chain the peer sent */
    unsigned char *certs;
    size_t certs_len;
    int certs_tls13;
};

enum {
    BS_TLSINFO_RECORDS = 1, /* each record header too (-vv) */
    /* hold the lines of the handshake and give them out with the
     * summary, so that a server's log shows each connection as one
     * block (at most 16 KiB are held; more go out at once) */
    BS_TLSINFO_HOLD = 2,
};

/*
 * Start tracing c (before its handshake): each handshake message, alert
 * and ChangeCipherSpec gives a line to fn(arg, line); flags are
 * BS_TLSINFO_*.  t is filled here and must stay where it is while c
 * lives.  Returns 0, or -1 if c is NULL.
 */
int bs_tlsinfo_trace_start(struct bs_tls_conn *c, struct bs_tlsinfo_trace *t,
                           bs_tlsinfo_line_fn *fn, void *arg, unsigned flags);

/* Give out the lines held (BS_TLSINFO_HOLD) and hold no more: for a
 * connection that ends before its summary.  NULL ok. */
void bs_tlsinfo_trace_flush(struct bs_tlsinfo_trace *t);

/* Free what the trace holds (the copy of the peer's Certificate
 * message); t may be zeroed or NULL.  After the connection is freed. */
void bs_tlsinfo_trace_free(struct bs_tlsinfo_trace *t);

/* The name of a handshake message type ("ClientHello"), or NULL. */
const char *bs_tlsinfo_handshake_name(unsigned type);

/* The name of a record content type ("handshake", "alert"), or NULL. */
const char *bs_tlsinfo_content_name(unsigned type);

/* "TLS 1.2" for 0x0303 and the like; "unknown" otherwise. */
const char *bs_tlsinfo_version_name(unsigned version);

/*
 * After the handshake: the summary, one fact per line, to fn(arg, line):
 *
 *     TLS version: TLSv1.3
 *     cipher suite: TLS_AES_256_GCM_SHA384
 *     key exchange group: X25519
 *     ALPN: bitstuff/1
 *     SNI: localhost
 *     resumed: no
 *     server certificate chain: 2 certificates
 *       [0] subject: CN=localhost
 *           issuer: CN=bitstuff test CA
 *           SANs: DNS:localhost, IP:127.0.0.1
 *           valid: 2026-12-07 17:00:00 UTC to 2027-01-06 17:00:00 UTC
 *           SHA-256 fingerprint: 3A:...:9F
 *           key: EC P-256, 256 bits
 *       ...
 *     checked: chain to CA "CN=bitstuff test CA": ok
 *     checked: name "localhost" against the certificate: ok (matched
 *              localhost)
 *     checked: dates (now 2026-12-07 17:03:11 UTC): ok
 *     handshake: 4.2 ms (8 messages)
 *
 * Lines the trace held come first.  t may be NULL (no timing line).  On a
 * server the chain is the client's, if it sent one.  After a failed handshake
 * OpenSSL keeps no chain: with t, the chain comes from the copy of the
 * Certificate message the trace kept, and the checks say which failed.  Does
 * nothing for a NULL c.
 */
void bs_tlsinfo_describe(const struct bs_tls_conn *c,
                         struct bs_tlsinfo_trace *t, bs_tlsinfo_line_fn *fn,
                         void *arg);

/*
 * One certificate (PEM file) as the summary shows it, for tools and
 * tests: the same lines as a chain entry, without the "[i]" column.
 * Returns 0, or -1 if the file cannot be read (one line says why).
 */
int bs_tlsinfo_describe_cert_file(const char *path, bs_tlsinfo_line_fn *fn,
                                  void *arg);

/*
 * The chain in a Certificate handshake message as received (type byte
 * and length included; TLS 1.3's form when tls13): a line "<whose>
 * certificate chain, as sent (the handshake failed):" and each
 * certificate's lines.  Every length is checked against what is left.
 * Returns 0, or -1 for a message that is not a well-formed Certificate
 * message (what could be read before the fault is still shown).
 */
int bs_tlsinfo_describe_cert_msg(const unsigned char *msg, size_t len,
                                 int tls13, const char *whose,
                                 bs_tlsinfo_line_fn *fn, void *arg);

#endif /* BS_TLSINFO_H */
