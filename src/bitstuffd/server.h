/*
 * server.h - bitstuffd's worker threads: accept, TLS, exchanges, limits.
 *
 * N workers, each an epoll loop owning its connections outright (no locks
 * on the request path).  Every listening socket is in every worker's
 * epoll set with EPOLLEXCLUSIVE, so the kernel wakes one idle worker per
 * new connection from a single shared accept queue.  Connections are
 * edge-triggered, non-blocking, and never block one another.
 */
#ifndef BS_SERVER_H
#define BS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "proto.h"
#include "tls.h"

struct bs_server;

/* Everything the server needs, filled by its caller (bitstuffd's main from
 * the command line; a test or an embedding program by hand).  The server
 * keeps a copy; nothing here refers to how the values were obtained. */
struct bs_server_config {
    struct bs_tls_ctx *tls; /* the server takes its own reference */
    const int *listen_fds;  /* borrowed non-blocking listening sockets */
    size_t nlisten;
    unsigned threads;      /* >= 1 */
    unsigned max_conns;    /* open at once, over all workers; more refused */
    uint64_t handshake_ms; /* from accept to the end of the handshake */
    uint64_t idle_ms;      /* a connection that makes no progress closes */
    struct bs_proto_limits limits; /* per request (max_line, message bits) */
    int log_requests;              /* 1: a line per request (0: --quiet) */
    int log_client_certs; /* 1: a line per client certificate's subject */
    /* The PROXY protocol (--proxy-protocol): with nproxy_from > 0 every
     * connection must come from one of these ranges (copied) and begin
     * with a PROXY v1 or v2 header, whose source address then names the
     * client in the display, the logs and the per-address limit. */
    const struct bs_cidr *proxy_from;
    size_t nproxy_from;
    unsigned max_conns_per_ip; /* 0: no limit (--max-conns-per-ip) */
    int log_level;             /* log.h's BS_LOG_LVL_*; 0: info */
    int log_format;            /* BS_LOG_FORMAT_TEXT or _JSON */
    int log_decor;             /* BS_LOG_DECOR_*: timestamps, journald */
    /* 1: explain each request bit by bit on the display (--explain;
     * needs log_requests); explain_colour: with ANSI colours */
    int explain, explain_colour;
    /* 1: each connection's TLS handshake in words on the log (-v), 2:
     * with every record header (-vv); lines start with the peer */
    int verbose;
};

/* Start the workers.  Returns NULL with err filled on failure. */
struct bs_server *bs_server_start(const struct bs_server_config *cfg, char *err,
                                  size_t errlen);

/*
 * Make new connections use ctx (certificate reload).  The server takes a
 * reference to ctx and drops its reference to the previous context;
 * connections already open keep theirs until they close.  Safe to call
 * from any thread while the workers run.
 */
void bs_server_set_tls(struct bs_server *s, struct bs_tls_ctx *ctx);

/* Ask every worker to stop: stop accepting, answer what was received,
 * close each connection with close_notify, within a drain timeout.
 * Safe to call from any thread, more than once. */
void bs_server_stop(struct bs_server *s);

/* A descriptor that becomes readable when every worker has finished. */
int bs_server_done_fd(const struct bs_server *s);

/* The server's logger (log.h): lines queued there never block the caller,
 * whatever stdout and stderr are.  Valid until bs_server_free. */
struct bs_log *bs_server_log(const struct bs_server *s);

/* Wait for the workers and free everything; NULL ok.  Listening sockets
 * stay open (the caller's). */
void bs_server_free(struct bs_server *s);

/* Seconds a stopping server waits for its connections to finish. */
#define BS_SERVER_DRAIN_MS 10000u

#endif /* BS_SERVER_H */
