/*
 * conn.h - bitstuffd's connections: the TLS state machine of each, its
 * buffers, timers and backpressure.
 *
 * A connection goes HANDSHAKE -> SERVING -> CLOSING (send close_notify)
 * -> LINGER (read and drop until the peer closes, so our last replies
 * are not destroyed by a reset) -> CLOSED.  It reacts to its loop's
 * events (edge-triggered) and to its timers; it never blocks and never
 * blocks another.  The connections of one worker share a struct
 * bs_conns, which only that worker's thread touches.
 */
#ifndef BS_CONN_H
#define BS_CONN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "iplimit.h"
#include "list.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "proto.h"
#include "server.h"
#include "timer.h"
#include "tls.h"

/* Free buffers of one size kept for reuse, so a busy connection does not
 * call malloc per request and an idle one holds no buffer at all. */
struct bs_conn_pool {
    void *free; /* singly linked through each buffer's first bytes */
    size_t n, size;
};

struct bs_conns_config {
    /* The server's settings (server.h), borrowed: the server's own copy,
     * whose proxy_from is its own copy too, outlives the workers.  With
     * proxy_from not NULL every connection must come from one of those
     * ranges and begin with a PROXY header.  cfg->tls is not for the
     * connections: the server guards it and hands each its TLS
     * connection. */
    const struct bs_server_config *cfg;
    struct bs_loop *loop;      /* borrowed: the worker's */
    struct bs_log *log;        /* borrowed */
    atomic_uint *nconns;       /* the server's count: a close takes one off */
    struct bs_iplimit *per_ip; /* borrowed; NULL: no per-address limit */
};

/* One worker's connections.  Fields are private to conn.c except nlive,
 * which the worker reads. */
struct bs_conns {
    const struct bs_server_config *cfg; /* see bs_conns_config */
    struct bs_loop *loop;
    struct bs_log *log;
    atomic_uint *nconns;
    struct bs_iplimit *per_ip;
    size_t outcap;
    int stopping; /* new connections are drained as they finish handshakes */
    struct bs_timer_list hs_timers, idle_timers, linger_timers, quiet_timers;
    struct bs_timer_list alert_timers;
    struct bs_link live;
    size_t nlive;
    struct bs_link zombies; /* closed this turn, freed at its end */
    struct bs_conn_pool outpool, stashpool;
    uint8_t *scratch;
};

/* Returns 0, or -1 with err (the reason only). */
int bs_conns_init(struct bs_conns *cs, const struct bs_conns_config *cfg,
                  char *err, size_t errlen);
/* Close every connection, then free what cs holds. */
void bs_conns_destroy(struct bs_conns *cs);

/*
 * Take an accepted connection: fd (non-blocking) and its TLS connection
 * tls become the connection's, which starts with the PROXY header (when
 * configured) or the handshake; peer is the socket's peer address.  On
 * failure (logged) both are freed and the server's count is taken one
 * off, as a close does.  The caller counted the connection in *nconns
 * before.
 *
 * When it closes, the connection logs one line at info level
 * ("connection closed": peer, TLS version, cipher, group, resumed, ALPN,
 * client certificate, requests, bytes_in, bytes_out (application bytes),
 * duration_ms, and reason, one of client-closed, idle-timeout,
 * handshake-failed, handshake-timeout, tls-error, bad-frame,
 * server-stopping, limit, proxy-refused, proxy-header, proxy-timeout,
 * error, with a detail sentence where there is one).  Connections that
 * never finished their handshake are rate-limited as bs_conn_log's.
 */
void bs_conn_open(struct bs_conns *cs, int fd, struct bs_tls_conn *tls,
                  const struct bs_net_addr *peer);

/* A line about the connection from peer: "bitstuffd: [peer] what: why",
 * each kind (what) limited to a burst per window (bs_log_limited). */
void bs_conn_log(struct bs_log *log, const char *peer, const char *what,
                 const char *why);

/* The server stops: connections in their handshake close at once, the
 * others answer what they have received and close (bs_server_stop). */
void bs_conns_drain(struct bs_conns *cs);

/* Close every connection now (the drain's deadline has passed). */
void bs_conns_close_all(struct bs_conns *cs);

/* Handle the timers that are due at the loop's now. */
void bs_conns_run_timers(struct bs_conns *cs);

/* The earliest timer's deadline, or BS_TIMER_NEVER. */
uint64_t bs_conns_next_deadline(const struct bs_conns *cs);

/* At the end of a turn: free the connections closed during it. */
void bs_conns_end_turn(struct bs_conns *cs);

#endif /* BS_CONN_H */
