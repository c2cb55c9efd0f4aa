/*
 * tls.h - the project's only door to OpenSSL: contexts with the project's
 * TLS policy, and non-blocking (or blocking) connections over a socket.
 *
 * Policy (SECURITY.md): TLS 1.3 by default, TLS 1.2 only when asked and
 * then only ECDHE with AEAD ciphers; no compression, no renegotiation, no
 * 0-RTT (declined early data is skipped, up to 16 KiB); key exchange
 * X25519, P-256, P-384 by default; ALPN "bitstuff/1"; servers resume by
 * stateless tickets only (no session cache), never past the client
 * certificate's expiry or BS_TLS_RESUME_CHAIN_MAX_S.
 *
 * Every function that can fail writes a sentence a user can act on into
 * the caller's err buffer (or the connection's error text); nothing here
 * prints.  errno is not part of the interface.
 *
 * Threads: a context's reference count is atomic, so references may be
 * taken and dropped from any thread, and one context may serve
 * connections in several threads.  A connection belongs to one thread at
 * a time.  Writes go through write(2): a program must ignore SIGPIPE.
 */
#ifndef BS_TLS_H
#define BS_TLS_H

#include <stddef.h>

struct bs_tls_ctx;  /* an SSL_CTX plus policy; reference counted */
struct bs_tls_conn; /* one TLS connection over a socket */

/* Elliptic-curve groups only: a finite-field (ffdhe) key exchange costs
 * the server far more CPU per handshake than X25519 (SECURITY.md has the
 * measured figures). */
#define BS_TLS_DEFAULT_GROUPS "X25519:P-256:P-384"

/* A session resumed from tickets lives this long at most after the full
 * handshake that began it (each resumption issues a new ticket, so the
 * chain would otherwise last for ever); then the client does a full
 * handshake, and its certificate is checked again.  A resumption is also
 * refused once the client's certificate is no longer valid. */
#define BS_TLS_RESUME_CHAIN_MAX_S (24L * 3600L)

enum bs_tls_verify {
    BS_TLS_VERIFY_NONE = 0,
    BS_TLS_VERIFY_OPTIONAL = 1,
    BS_TLS_VERIFY_REQUIRE = 2,
};

/* A lowest TLS version as people type it: "1.2" is 12, "1.3" is 13 (the
 * min_version of the configurations below); anything else is 0. */
int bs_tls_parse_version(const char *s);

/* Certificate/key pairs a server can hold at once: one per key type. */
#define BS_TLS_MAX_CERTS 3

/*
 * Why a check failed, in terms of what a user can change.  The library's
 * sentences state the facts and, by default, neutral advice; they name no
 * program option and no script.  A program that wants its own advice (its
 * option names, its tools) gives a bs_tls_advice_fn in its configuration:
 * the library then ends the sentence with the program's words for the
 * reason instead of its own.
 */
enum bs_tls_reason {
    BS_TLS_R_NONE = 0,
    BS_TLS_R_PEER_UNTRUSTED,  /* client: the server's CA is not trusted */
    BS_TLS_R_NAME_MISMATCH,   /* client: the server's name is not the host */
    BS_TLS_R_CERT_EXPIRED,    /* the peer's certificate (or CA) expired */
    BS_TLS_R_CERT_PURPOSE,    /* the peer's certificate lacks the TLS use */
    BS_TLS_R_NO_CLIENT_CERT,  /* server: the client sent no certificate */
    BS_TLS_R_CERT_REQUIRED,   /* client: the server requires one */
    BS_TLS_R_OWN_CA_UNKNOWN,  /* server: the client does not trust our CA */
    BS_TLS_R_OWN_NAME_WRONG,  /* server: the client asked for another name */
    BS_TLS_R_OWN_NAME_NO_SNI, /* server: refused, and the client sent no name */
    BS_TLS_R_OWN_CERT_USAGE,  /* server: refused though the name matches */
    BS_TLS_R_NOT_ALLOWED,     /* server: the client is on no allow-list */
    BS_TLS_R_CRL_EXPIRED,     /* server: the CRL in force is out of date */
    BS_TLS_R_CRL_STALE,       /* server: the CRL file is out of date */
    BS_TLS_R_CRL_EMPTY,       /* server: the CRL file holds no CRL */
    BS_TLS_R_POLICY_NEEDS_CA, /* server: a CRL or allow-list, no CA */
    BS_TLS_R_RENEW_EXPIRED,   /* reload: the new certificate has expired */
    BS_TLS_R_RENEW_SELF_SIGNED, /* reload: self-signed, the old one was not */
    BS_TLS_R_RENEW_OTHER_CA,    /* reload: issued by another CA */
    BS_TLS_R_RENEW_NAME,        /* reload: a name the old one served is gone */
    BS_TLS_R_GROUPS,            /* an unknown key-exchange group: the setting */
    BS_TLS_R_KEY_NO_CERT,       /* client: a key without its certificate */
    BS_TLS_R_NO_CA_STORE,       /* client: the system CA store did not load */
    BS_TLS_R_COUNT
};

/* A program's words for why: advice that ends the sentence (for
 * BS_TLS_R_GROUPS: the name of the setting), or NULL for the library's
 * neutral words. */
typedef const char *bs_tls_advice_fn(enum bs_tls_reason why);

struct bs_tls_server_config {
    const char *cert_file; /* PEM chain, leaf first */
    const char *key_file;  /* PEM private key matching cert_file */
    const char *ca_file;   /* CA for client certificates; NULL: none */
    enum bs_tls_verify verify_client;
    int min_version;         /* 12 or 13 (TLS 1.2 / 1.3); 0 means 13 */
    const char *keylog_file; /* NULL: off; else appended to, mode 0600 */
    /* Key-exchange groups, OpenSSL names joined by ':' ("X25519:P-256");
     * NULL: BS_TLS_DEFAULT_GROUPS.  An unknown name fails the context. */
    const char *groups;
    /* More pairs, each of another key type (RSA, ECDSA, Ed25519): a
     * client gets the one its signature_algorithms allow (OpenSSL's
     * choice, the server's preference among those). */
    const char *more_cert_files[BS_TLS_MAX_CERTS - 1];
    const char *more_key_files[BS_TLS_MAX_CERTS - 1];
    size_t nmore;
    /* Client certificates (verify_client != NONE): a PEM CRL of the CA
     * (NULL: none), checked for every client certificate; and lists of
     * identities, one of which the certificate must hold (subject CN,
     * DNS or URI subjectAltName; any match admits; all empty: anyone
     * the CA signed).  The lists are borrowed for the call only. */
    const char *crl_file;
    const char *const *allow_cn;
    size_t nallow_cn;
    const char *const *allow_dns;
    size_t nallow_dns;
    const char *const *allow_uri;
    size_t nallow_uri;
    bs_tls_advice_fn *advice; /* NULL: the library's neutral advice */
    /* Session-ticket keys shared by a fleet (tickets.h has the format);
     * NULL: keys libssl makes up for this context alone.  A file that is
     * missing, too large or malformed fails the context. */
    const char *ticket_key_file;
};

struct bs_tls_client_config {
    const char *ca_file;      /* NULL: the system store */
    const char *cert_file;    /* client certificate for mutual TLS, or NULL */
    const char *key_file;     /* NULL: the key is in cert_file */
    int min_version;          /* 12 or 13; 0 means 13 */
    int insecure;             /* nonzero: skip chain and name checks */
    const char *keylog_file;  /* NULL: off */
    bs_tls_advice_fn *advice; /* NULL: the library's neutral advice */
};

typedef enum bs_tls_status {
    BS_TLS_OK = 0,
    BS_TLS_WANT_READ,  /* retry when the socket is readable */
    BS_TLS_WANT_WRITE, /* retry when the socket is writable */
    BS_TLS_EOF,        /* the peer sent close_notify */
    BS_TLS_ERR,        /* failed; bs_tls_conn_error() says why */
} bs_tls_status;

/* Why a connection failed, for the client's exit codes. */
enum bs_tls_failure {
    BS_TLS_FAIL_NONE = 0,
    BS_TLS_FAIL_NETWORK,   /* the socket failed or the peer vanished */
    BS_TLS_FAIL_HANDSHAKE, /* protocol, version, ALPN or alert failure */
    BS_TLS_FAIL_VERIFY,    /* the peer's certificate was rejected */
    BS_TLS_FAIL_PROTOCOL,  /* error after the handshake (bad record, ...) */
};

/*
 * Contexts.  Load and check certificate, key (they must match) and CA at
 * once, so a bad file is reported at start-up with its name and the
 * reason.  Returns NULL and fills err on failure.  A context is reference
 * counted: each connection holds a reference, so a server can swap in a
 * new context (certificate reload) while old connections finish.
 */
struct bs_tls_ctx *bs_tls_ctx_new_server(const struct bs_tls_server_config *c,
                                         char *err, size_t errlen);
struct bs_tls_ctx *bs_tls_ctx_new_client(const struct bs_tls_client_config *c,
                                         char *err, size_t errlen);
void bs_tls_ctx_ref(struct bs_tls_ctx *ctx);

/* Sessions held in the context's server-side cache: always 0, as servers
 * resume by stateless tickets only (SECURITY.md: memory bounds).  For
 * tests and diagnostics. */
size_t bs_tls_ctx_cached_sessions(const struct bs_tls_ctx *ctx);
/*
 * A certificate reload may replace old with new only if each new server
 * certificate (pair i against pair i of old) is valid now, is issued by
 * the CA the old one chained to (checked against the old chain file's
 * CA certificates, the CA file and the system store; when none of them
 * holds that CA, the new certificate must name the same issuer and
 * issuer key), is not self-signed unless the old one was, and names
 * every DNS name and IP address the old one did.  Returns 0, or -1 with
 * the reason in err.
 */
int bs_tls_ctx_check_renewal(const struct bs_tls_ctx *old,
                             const struct bs_tls_ctx *new_ctx, char *err,
                             size_t errlen);

/* The serial number of server certificate i (0 first) in hex, for the
 * log; "" if there is none. */
void bs_tls_ctx_cert_serial(const struct bs_tls_ctx *ctx, size_t i, char *buf,
                            size_t len);
void bs_tls_ctx_free(struct bs_tls_ctx *ctx); /* drops one reference; NULL ok */

/*
 * Connections.  fd is borrowed: the caller closes it after
 * bs_tls_conn_free().  It may be blocking or non-blocking; with a
 * non-blocking fd every call may return WANT_READ or WANT_WRITE.
 * servername (client only): sent as SNI (unless an IP literal) and checked
 * against the certificate (DNS name or IP address); NULL on a server.  A
 * client context that checks certificates (not insecure) refuses NULL.
 * The connection holds a reference to ctx until bs_tls_conn_free().
 */
struct bs_tls_conn *bs_tls_conn_new(struct bs_tls_ctx *ctx, int fd,
                                    const char *servername, char *err,
                                    size_t errlen);
void bs_tls_conn_free(struct bs_tls_conn *c); /* NULL ok; no close_notify */

bs_tls_status bs_tls_handshake(struct bs_tls_conn *c);

/* Read up to cap bytes; *nread > 0 on BS_TLS_OK.  WANT_READ may come
 * without a read() when the last read() left the socket empty (the read
 * after the next BS_TLS_EV_READ goes to the socket again): that saves the
 * read() that would only fail with EAGAIN.  See "Readiness" below. */
bs_tls_status bs_tls_read(struct bs_tls_conn *c, void *buf, size_t cap,
                          size_t *nread);

/*
 * Readiness: one contract for every event loop (the server's epoll
 * workers, the client's poll loop, the load generator's).  The caller
 * never translates WANT_READ / WANT_WRITE itself:
 *
 *  - a connection has two sides, each blocked or not: the receiving
 *    side (bs_tls_handshake, bs_tls_read) and the sending side
 *    (bs_tls_write, bs_tls_flush, bs_tls_shutdown).  A call that returns
 *    WANT_READ or WANT_WRITE leaves its side waiting for that readiness
 *    of the socket (either one: TLS reading may need a write and writing
 *    a read); one that makes progress leaves it free.  A new server
 *    connection's receiving side waits for the client's first bytes.
 *  - bs_tls_conn_wants() says which readiness to wait for now (the union
 *    of both sides): register that interest, or with edge-triggered
 *    epoll register both once and use bs_tls_conn_blocked().
 *  - every readiness the wait reports for the socket goes to
 *    bs_tls_conn_events(), edge-triggered or level-triggered alike; it
 *    frees the sides waiting for it, and makes sure news of input (an
 *    edge that will not come twice, the peer's FIN) is never lost.
 *  Calls are never refused: the state only says when retrying is useful.
 */
enum {
    BS_TLS_EV_READ = 1u,  /* the socket is readable */
    BS_TLS_EV_WRITE = 2u, /* the socket is writable */
    BS_TLS_EV_RDHUP = 4u, /* the peer shut down its side (EPOLLRDHUP) */
    BS_TLS_EV_HUP = 8u,   /* hang-up or error: both ways will say so */
};
enum bs_tls_side {
    BS_TLS_RECV_SIDE = 0, /* handshake, read */
    BS_TLS_SEND_SIDE = 1, /* write, flush, shutdown */
};

/* BS_TLS_EV_READ and/or BS_TLS_EV_WRITE that the connection waits for;
 * 0 when neither side is blocked. */
unsigned bs_tls_conn_wants(const struct bs_tls_conn *c);

/* The readiness side waits for (BS_TLS_EV_READ or BS_TLS_EV_WRITE), not
 * reported since; 0 when it may go on. */
unsigned bs_tls_conn_blocked(const struct bs_tls_conn *c,
                             enum bs_tls_side side);

/* The caller's wait reported ev (BS_TLS_EV_*) for the socket.  From
 * BS_TLS_EV_RDHUP or BS_TLS_EV_HUP on, every bs_tls_read() goes to the
 * socket: no later event will announce the end of the stream that waits
 * behind the data. */
void bs_tls_conn_events(struct bs_tls_conn *c, unsigned ev);

/* Forget side's wait: its next call goes to the socket whatever was
 * reported (a server that stops looks once more for requests sent). */
void bs_tls_conn_retry(struct bs_tls_conn *c, enum bs_tls_side side);

/* Write up to len bytes (partial writes allowed); *nwritten > 0 on OK.
 * After WANT_*, retry with the same or a longer buffer holding the same
 * unwritten bytes (the buffer may move).  On a connection that gathers
 * writes, bytes taken may still wait, encrypted, for bs_tls_flush. */
bs_tls_status bs_tls_write(struct bs_tls_conn *c, const void *buf, size_t len,
                           size_t *nwritten);

/*
 * Let c gather the records of bulk writes (two records or more in one
 * bs_tls_write) into one write() of up to four.  The caller promises to
 * call bs_tls_flush whenever bs_tls_write_pending says so, before it
 * waits for its peer (with WANT_WRITE: when the socket is writable).
 * Connections that never send in bulk hold no extra buffer.
 */
void bs_tls_conn_gather_writes(struct bs_tls_conn *c);

/* Encrypted bytes wait for bs_tls_flush. */
int bs_tls_write_pending(const struct bs_tls_conn *c);

/* Send the gathered bytes: OK when none wait, WANT_WRITE, or ERR. */
bs_tls_status bs_tls_flush(struct bs_tls_conn *c);

/* Send close_notify (and first anything gathered).  OK once it is sent
 * (the peer's is not awaited). */
bs_tls_status bs_tls_shutdown(struct bs_tls_conn *c);

/* Decrypted bytes readable now without touching the socket. */
size_t bs_tls_pending(const struct bs_tls_conn *c);

/* Once it has read data, a server connection keeps its record buffers
 * (allocating them per record costs a busy connection malloc and free
 * each time): free them once it has gone quiet, so an idle connection
 * holds none.  Does nothing while they hold data; they come back on the
 * next read or write. */
void bs_tls_conn_release_buffers(struct bs_tls_conn *c);

/* The last error as a sentence, its class, and the reason behind it
 * (BS_TLS_R_NONE where no advice applies). */
const char *bs_tls_conn_error(const struct bs_tls_conn *c);
enum bs_tls_failure bs_tls_conn_failure(const struct bs_tls_conn *c);
enum bs_tls_reason bs_tls_conn_reason(const struct bs_tls_conn *c);

/* After the handshake: "TLSv1.3", the cipher suite, whether the session
 * was resumed, and the peer certificate's subject ("" if none; one line,
 * RFC 2253 form, cut to fit len).  */
const char *bs_tls_conn_version(const struct bs_tls_conn *c);
const char *bs_tls_conn_cipher(const struct bs_tls_conn *c);
int bs_tls_conn_resumed(const struct bs_tls_conn *c);
/* The ALPN protocol agreed on: "bitstuff/1", or "" if the peer offered
 * none (a server accepts such clients). */
const char *bs_tls_conn_alpn(const struct bs_tls_conn *c);
void bs_tls_conn_peer_subject(const struct bs_tls_conn *c, char *buf,
                              size_t len);
/* The key exchange group of the handshake ("x25519", "secp256r1",
 * "X25519MLKEM768"...), or "" when none was used (a TLS 1.2 resumption,
 * or before the handshake). */
const char *bs_tls_conn_group(const struct bs_tls_conn *c);

/*
 * Client session resumption.  bs_tls_conn_get_session() returns a new
 * reference to the connection's session if it can be resumed, else NULL:
 * in TLS 1.3 the server's ticket arrives after the handshake, so ask after
 * the first successful read.  bs_tls_conn_set_session() offers s on a new
 * client connection, before its handshake (it takes its own reference);
 * returns 0, or -1 if the session does not fit this connection.
 */
struct bs_tls_session; /* an SSL_SESSION */
struct bs_tls_session *bs_tls_conn_get_session(const struct bs_tls_conn *c);
int bs_tls_conn_set_session(struct bs_tls_conn *c, struct bs_tls_session *s);
void bs_tls_session_free(struct bs_tls_session *s); /* NULL ok */

/* The OpenSSL connection behind c (NULL for a NULL c), for tlsinfo.c,
 * which describes a connection for -v; no other module uses it. */
struct ssl_st;
struct ssl_st *bs_tls_conn_ssl(const struct bs_tls_conn *c);

#endif /* BS_TLS_H */
