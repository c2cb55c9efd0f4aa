/*
 * conn.c - a connection's state machine, buffers and timers; see conn.h.
 *
 * Sockets are edge-triggered and registered once for both directions.
 * The TLS connection tracks which readiness its receiving and sending
 * sides wait for (tls.h, "Readiness"), which also covers TLS reading
 * that needs a write and writing that needs a read: each event goes to
 * bs_tls_conn_events, and a side is retried once it is no longer
 * blocked.
 * Backpressure needs no change of interest: while the output buffer is
 * full the connection simply does not read, and the kernel's flow
 * control holds the client back.
 * A failed handshake or read sends its fatal alert and goes straight to
 * a shorter, byte-bounded LINGER (close_alerted).
 */
#include "conn.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "proxy.h"
#include "stuff.h"
#include "tlsinfo.h"
#include "xchg.h"

#define SCRATCH_SIZE      16384u /* one TLS record of plaintext */
#define READ_BUDGET       16     /* reads per turn, for fairness */
#define FLUSH_AT          16384u /* a full TLS record's worth */
#define LINGER_MS         2000u
#define ALERT_DRAIN_MS    1000u   /* after a fatal alert: see close_alerted */
#define ALERT_DRAIN_BYTES 262144u /* the same, in bytes read and dropped */
#define QUIET_MS          1000u   /* then TLS record buffers are freed */
#define POOL_KEEP         64
#define PROXY_READS       64   /* header reads per turn, for fairness */
#define PROXY_CHUNK       512u /* bytes per header read, at most */

enum conn_state {
    CS_PROXY, /* reading the PROXY protocol header */
    CS_HANDSHAKE,
    CS_SERVING,
    CS_CLOSING,
    CS_LINGER,
    CS_CLOSED,
};

struct bs_conn {
    struct bs_loop_src src; /* first: the loop's events point here */
    struct bs_conns *cs;
    struct bs_tls_conn *tls;
    uint8_t state;
    uint8_t sock_wait; /* LINGER (reads bypass TLS): the socket was empty */
    uint8_t read_done; /* no more input will be read */
    uint8_t draining;  /* the server is stopping */
    uint8_t peer_eof;  /* the client closed its side (close_notify or not) */
    uint8_t got_input; /* the client has sent some data */
    uint8_t reads;     /* reads this turn */
    uint8_t alerted;   /* LINGER after a fatal alert: drain_left bounds it */
    uint32_t drain_left;
    struct bs_timer timer;
    struct bs_timer quiet; /* frees the TLS buffers when it expires */
    struct bs_link live;   /* the worker's connections */
    struct bs_outbuf out;
    uint8_t *stash; /* input read but not yet consumed (backpressure) */
    size_t stash_off, stash_len;
    struct bs_xchg x;
    struct bs_tlsinfo_trace *trace; /* -v: the handshake in words, or NULL */
    char peer[BS_NET_ADDRSTRLEN];
    /* The client: the socket's peer, or the PROXY header's source. */
    struct bs_net_addr addr;
    struct bs_proxy_parser *pp;  /* while CS_PROXY */
    size_t proxy_got;            /* header bytes read so far */
    struct bs_iplimit_key ipkey; /* counted in cs->per_ip if family != 0 */
    uint8_t served;              /* the handshake completed */
    uint64_t opened, bytes_in, bytes_out;
    const char *reason; /* why it closes (conn.h); NULL: not yet known */
    const char *what;   /* the kind of line that said so (a rate key) */
    char detail[192];
};

static void *pool_get(struct bs_conn_pool *p)
{
    void *b = p->free;

    if (b != NULL) {
        memcpy(&p->free, b, sizeof p->free);
        p->n--;
        return b;
    }
    return malloc(p->size);
}

static void pool_put(struct bs_conn_pool *p, void *b)
{
    if (b == NULL) {
        return;
    }
    if (p->n >= POOL_KEEP) {
        free(b);
        return;
    }
    memcpy(b, &p->free, sizeof p->free);
    p->free = b;
    p->n++;
}

static void pool_drain(struct bs_conn_pool *p)
{
    while (p->free != NULL) {
        void *b = p->free;
        memcpy(&p->free, b, sizeof p->free);
        free(b);
    }
    p->n = 0;
}

/* why without a leading "what: ", which the caller writes itself
 * ("TLS handshake failed: TLS handshake failed: x"). */
static const char *why_after(const char *what, const char *why)
{
    size_t n = strlen(what);

    if (strncmp(why, what, n) == 0 && why[n] == ':' && why[n + 1] == ' ') {
        return why + n + 2;
    }
    return why;
}

void bs_conn_log(struct bs_log *log, const char *peer, const char *what,
                 const char *why)
{
    bs_log_limited(log, what, "bitstuffd: [%s] %s: %s", peer, what,
                   why_after(what, why));
}

static void log_conn(const struct bs_conn *c, const char *what, const char *why)
{
    bs_conn_log(c->cs->log, c->peer, what, why);
}

/* Note why c closes, for its close line: the first reason given wins
 * (a close_notify exchange after an idle timeout stays an idle timeout). */
static void set_reason(struct bs_conn *c, const char *reason,
                       const char *detail)
{
    if (c->reason != NULL) {
        return;
    }
    c->reason = reason;
    snprintf(c->detail, sizeof c->detail, "%s", detail != NULL ? detail : "");
}

/* log_conn, and the reason for the close line. */
static void log_reason(struct bs_conn *c, const char *reason, const char *what,
                       const char *why)
{
    char detail[sizeof c->detail];

    log_conn(c, what, why);
    snprintf(detail, sizeof detail, "%s: %s", what, why_after(what, why));
    if (c->reason == NULL) {
        c->what = what;
    }
    set_reason(c, reason, detail);
}

/* The connection's one line when it closes (conn.h). */
static void log_close(struct bs_conn *c)
{
    struct bs_conns *cs = c->cs;
    struct bs_log_field f[14];
    char subject[256], msg[BS_NET_ADDRSTRLEN + 40];
    size_t n = 0;

    if (c->reason == NULL) {
        c->reason = c->peer_eof   ? "client-closed"
                    : c->draining ? "server-stopping"
                                  : "client-closed";
    }
    f[n++] = (struct bs_log_field){.key = "peer", .str = c->peer};
    if (c->served) {
        f[n++] = (struct bs_log_field){.key = "tls",
                                       .str = bs_tls_conn_version(c->tls)};
        f[n++] = (struct bs_log_field){.key = "cipher",
                                       .str = bs_tls_conn_cipher(c->tls)};
        f[n++] = (struct bs_log_field){.key = "group",
                                       .str = bs_tls_conn_group(c->tls)};
        f[n++] = (struct bs_log_field){
            .key = "resumed",
            .str = bs_tls_conn_resumed(c->tls) ? "yes" : "no"};
        f[n++] = (struct bs_log_field){.key = "alpn",
                                       .str = bs_tls_conn_alpn(c->tls)};
        bs_tls_conn_peer_subject(c->tls, subject, sizeof subject);
        if (subject[0] != '\0') {
            f[n++] =
                (struct bs_log_field){.key = "client_cert", .str = subject};
        }
    }
    f[n++] = (struct bs_log_field){.key = "requests", .num = c->x.requests};
    f[n++] = (struct bs_log_field){.key = "bytes_in", .num = c->bytes_in};
    f[n++] = (struct bs_log_field){.key = "bytes_out", .num = c->bytes_out};
    f[n++] = (struct bs_log_field){.key = "duration_ms",
                                   .num = cs->loop->now - c->opened};
    f[n++] = (struct bs_log_field){.key = "reason", .str = c->reason};
    if (c->detail[0] != '\0') {
        f[n++] = (struct bs_log_field){.key = "detail", .str = c->detail};
    }
    snprintf(msg, sizeof msg, "bitstuffd: [%s] connection closed", c->peer);
    /* Failed handshakes come in floods: their close lines share the rate
     * limit of the line that said why, so a flood logs no more than
     * before (one summary counts both). */
    bs_log_event(cs->log, BS_LOG_LVL_INFO,
                 c->served         ? NULL
                 : c->what != NULL ? c->what
                                   : "connection closed before TLS",
                 msg, f, n);
}

static void conn_close(struct bs_conn *c)
{
    struct bs_conns *cs = c->cs;

    if (c->state == CS_CLOSED) {
        return;
    }
    log_close(c);
    if (c->ipkey.family != 0) {
        bs_iplimit_release(cs->per_ip, &c->ipkey);
        c->ipkey.family = 0;
    }
    free(c->pp);
    c->pp = NULL;
    c->state = CS_CLOSED;
    bs_timer_cancel(&c->timer);
    bs_timer_cancel(&c->quiet);
    bs_link_remove(&c->live);
    bs_loop_dequeue(&c->src);
    cs->nlive--;
    bs_tls_conn_free(c->tls);
    c->tls = NULL;
    close(c->src.fd);
    pool_put(&cs->outpool, c->out.buf);
    c->out.buf = NULL;
    pool_put(&cs->stashpool, c->stash);
    c->stash = NULL;
    atomic_fetch_sub(cs->nconns, 1);
    /* Events for c may still wait in this turn's batch: free it after. */
    bs_link_append(&cs->zombies, &c->src.ready);
}

static void queue_ready(struct bs_conn *c)
{
    bs_loop_queue(c->cs->loop, &c->src);
}

static int ensure_out(struct bs_conn *c)
{
    if (c->out.buf != NULL) {
        return 0;
    }
    c->out.buf = pool_get(&c->cs->outpool);
    if (c->out.buf == NULL) {
        log_reason(c, "error", "closing",
                   "out of memory for the output buffer");
        conn_close(c);
        return -1;
    }
    c->out.cap = c->cs->outcap;
    c->out.head = c->out.commit = c->out.tail = 0;
    return 0;
}

static void touch(struct bs_conn *c)
{
    bs_timer_arm(&c->cs->idle_timers, &c->timer, c->cs->loop->now);
    bs_timer_arm(&c->cs->quiet_timers, &c->quiet, c->cs->loop->now);
}

static void start_close(struct bs_conn *c)
{
    c->state = CS_CLOSING;
    bs_tls_conn_retry(c->tls, BS_TLS_SEND_SIDE);
    bs_timer_arm(&c->cs->linger_timers, &c->timer, c->cs->loop->now);
}

/*
 * A handshake or a read failed: log it, then close.  When the failure was
 * the client's bytes (a bad record, a refused certificate), OpenSSL has
 * written a fatal alert; closing the socket now, with the client's later
 * bytes unread, would make the kernel answer with a reset that can
 * destroy the alert before the client reads it (issue 16).  So close the
 * way close_notify does: send our FIN, then read and drop what still
 * comes until the client closes, but for at most ALERT_DRAIN_MS and
 * ALERT_DRAIN_BYTES, so a hostile client cannot hold the slot (it stays
 * counted against --max-conns meanwhile).  A client that has vanished
 * (reset, hang-up) is just closed.
 */
static void close_alerted(struct bs_conn *c, const char *what,
                          const char *reason)
{
    log_reason(c, reason, what, bs_tls_conn_error(c->tls));
    if (bs_tls_conn_failure(c->tls) == BS_TLS_FAIL_NETWORK) {
        conn_close(c);
        return;
    }
    if (bs_tls_write_pending(c->tls)) {
        (void) bs_tls_flush(c->tls); /* the alert, if still gathered */
    }
    shutdown(c->src.fd, SHUT_WR);
    c->state = CS_LINGER;
    c->alerted = 1;
    c->drain_left = ALERT_DRAIN_BYTES;
    c->sock_wait = 0;
    bs_timer_cancel(&c->quiet);
    bs_timer_arm(&c->cs->alert_timers, &c->timer, c->cs->loop->now);
}

/* Send committed output.  Returns 1 if bytes went out, 0 if there was
 * nothing to send or the socket is not ready, -1 if c was closed. */
static int flush(struct bs_conn *c)
{
    struct bs_outbuf *o = &c->out;
    size_t n = 0;
    bs_tls_status st;

    if (bs_tls_conn_blocked(c->tls, BS_TLS_SEND_SIDE)) {
        return 0;
    }
    if (bs_tls_write_pending(c->tls)) {
        /* records gathered by the last write go out first */
        st = bs_tls_flush(c->tls);
        if (st == BS_TLS_WANT_WRITE) {
            return 0;
        }
        if (st != BS_TLS_OK) {
            goto failed;
        }
        touch(c);
        if (o->buf == NULL) {
            return 1;
        }
    }
    if (o->buf == NULL) {
        return 0;
    }
    bs_xchg_seal(&c->x, o);
    if (o->head == o->tail) {
        pool_put(&c->cs->outpool, o->buf); /* drained: idle costs nothing */
        o->buf = NULL;
        return 0;
    }
    if (o->commit == o->head) {
        return 0;
    }
    st = bs_tls_write(c->tls, o->buf + o->head, o->commit - o->head, &n);
    switch (st) {
    case BS_TLS_OK:
        o->head += n;
        c->bytes_out += n;
        touch(c);
        if (o->head == o->tail) {
            pool_put(&c->cs->outpool, o->buf);
            o->buf = NULL;
        }
        return 1;
    case BS_TLS_WANT_WRITE:
    case BS_TLS_WANT_READ:
        return 0;
    case BS_TLS_EOF:
    case BS_TLS_ERR:
        break;
    }
failed:
    log_reason(c, "error", "TLS write failed", bs_tls_conn_error(c->tls));
    conn_close(c);
    return -1;
}

static int out_room_for_read(struct bs_conn *c)
{
    const struct bs_outbuf *o = &c->out;

    if (o->buf == NULL) {
        return 1;
    }
    /* Reading is the only way forward when nothing can be sent (a long
     * text reply is held until its LF); feed stashes what does not fit. */
    if (o->commit == o->head) {
        return 1;
    }
    return o->cap - (o->tail - o->head) >=
           BS_XCHG_RESERVE + bs_max_stuffed_any(SCRATCH_SIZE) + 64u;
}

/* Input read but not yet decoded: the stash, or an event the decoder
 * holds back until the output has room. */
static int input_pending(const struct bs_conn *c)
{
    return c->stash_len > 0 || bs_xchg_stalled(&c->x);
}

static int may_read(struct bs_conn *c)
{
    return c->state == CS_SERVING && !c->read_done && !bs_xchg_fatal(&c->x) &&
           !input_pending(c) &&
           !bs_tls_conn_blocked(c->tls, BS_TLS_RECV_SIDE) &&
           c->reads < READ_BUDGET && out_room_for_read(c);
}

static int feed(struct bs_conn *c, const uint8_t *in, size_t len, size_t *used)
{
    if (ensure_out(c) != 0) {
        return -1;
    }
    *used = bs_xchg_feed(&c->x, &c->out, in, len);
    return 0;
}

/* Read one TLS record and process it.  Returns 1 on progress, 0 if
 * nothing could be read, -1 if c was closed. */
static int read_once(struct bs_conn *c)
{
    struct bs_conns *cs = c->cs;
    size_t n = 0, used = 0;
    bs_tls_status st = bs_tls_read(c->tls, cs->scratch, SCRATCH_SIZE, &n);

    switch (st) {
    case BS_TLS_OK:
        c->reads++;
        c->got_input = 1;
        c->bytes_in += n;
        touch(c);
        if (feed(c, cs->scratch, n, &used) != 0) {
            return -1;
        }
        if (used < n && !bs_xchg_fatal(&c->x)) {
            /* The client is not reading its replies: keep the rest and
             * stop reading until the output drains.  (If all was used but
             * the decoder stalled, input_pending holds reading back.) */
            c->stash = pool_get(&cs->stashpool);
            if (c->stash == NULL) {
                log_reason(c, "error", "closing",
                           "out of memory for the input buffer");
                conn_close(c);
                return -1;
            }
            memcpy(c->stash, cs->scratch + used, n - used);
            c->stash_off = 0;
            c->stash_len = n - used;
        }
        return 1;
    case BS_TLS_WANT_READ:
        /* Answer what arrived, nothing more; but a client that has sent
         * nothing yet is owed its first request (it connected before the
         * stop, so a restart through a held socket loses nothing): the
         * drain timeout bounds the wait. */
        if (c->draining && c->got_input) {
            c->read_done = 1;
        }
        return 0;
    case BS_TLS_WANT_WRITE:
        return 0;
    case BS_TLS_EOF:
        c->read_done = 1;
        c->peer_eof = 1;
        return 1;
    case BS_TLS_ERR:
        break;
    }
    close_alerted(c, "TLS read failed", "tls-error");
    return -1;
}

static int feed_stash(struct bs_conn *c)
{
    size_t used = 0;
    int was_stalled = bs_xchg_stalled(&c->x);

    if (bs_xchg_fatal(&c->x)) {
        used = c->stash_len; /* nothing after a fatal error is read */
    } else if (feed(c, c->stash != NULL ? c->stash + c->stash_off : NULL,
                    c->stash_len, &used) != 0)
    {
        return -1;
    }
    c->stash_off += used;
    c->stash_len -= used;
    if (c->stash_len == 0) {
        pool_put(&c->cs->stashpool, c->stash);
        c->stash = NULL;
    }
    return used > 0 || (was_stalled && !bs_xchg_stalled(&c->x));
}

static void serve(struct bs_conn *c)
{
    c->reads = 0;
    for (;;) {
        int progress = 0, r;

        if (input_pending(c)) {
            if ((r = feed_stash(c)) < 0) {
                return;
            }
            progress |= r;
        }
        if (may_read(c)) {
            if ((r = read_once(c)) < 0) {
                return;
            }
            progress |= r;
        }
        if ((c->read_done || bs_xchg_fatal(&c->x)) && !input_pending(c) &&
            bs_xchg_open(&c->x))
        {
            /* Input is over with a request cut short: drop its partial
             * reply, or when the server stops say so with "busy". */
            if (ensure_out(c) != 0) {
                return;
            }
            if (bs_xchg_end(&c->x, &c->out,
                            c->draining ? BS_PROTO_E_BUSY : 0) == 0) {
                progress = 1;
            }
        }
        /* Coalesce: write when the input is drained or a record is full. */
        if ((c->out.buf != NULL || bs_tls_write_pending(c->tls)) &&
            (!may_read(c) || c->out.commit - c->out.head >= FLUSH_AT))
        {
            if ((r = flush(c)) < 0) {
                return;
            }
            progress |= r;
        }
        if (!progress) {
            break;
        }
    }
    if ((c->read_done || bs_xchg_fatal(&c->x)) && !input_pending(c) &&
        !bs_xchg_open(&c->x) && c->out.buf == NULL &&
        !bs_tls_write_pending(c->tls))
    {
        if (bs_xchg_fatal(&c->x)) {
            log_reason(c, "bad-frame", "closing",
                       "the client broke the framing (bad-frame)");
        } else if (c->peer_eof && !bs_proto_decoder_idle(&c->x.dec)) {
            /* A close between requests is normal and not logged, with or
             * without close_notify: the protocol frames its own messages,
             * so only a request cut short shows a truncation. */
            log_reason(c, "client-closed", "closing",
                       "the client closed the connection in the middle of a "
                       "request; its partial reply was dropped");
        }
        start_close(c);
        return;
    }
    if (input_pending(c) && !bs_xchg_fatal(&c->x) &&
        !bs_tls_conn_blocked(c->tls, BS_TLS_SEND_SIDE) &&
        (c->out.buf == NULL || c->out.commit == c->out.head) &&
        !bs_tls_write_pending(c->tls))
    {
        /* Input waits for room but nothing can be sent to make room:
         * a bug in the budget, never a reason to hang. */
        log_reason(c, "error", "closing",
                   "internal error: output buffer deadlock");
        conn_close(c);
        return;
    }
    if (c->reads >= READ_BUDGET &&
        !bs_tls_conn_blocked(c->tls, BS_TLS_RECV_SIDE) && !c->read_done)
    {
        queue_ready(c); /* more may be buffered; let others run first */
    }
}

/* -v: a line about the connection's TLS, on the log with its peer. */
static void conn_verbose_line(void *arg, const char *line)
{
    const struct bs_conn *c = arg;

    bs_log_msg(c->cs->log, BS_LOG_LVL_INFO, "bitstuffd: [%s] tls: %s", c->peer,
               line);
}

/* -v: trace the handshake from its first message.  Without memory for
 * it the connection still serves, untraced. */
static void conn_verbose_init(struct bs_conn *c)
{
    unsigned flags = BS_TLSINFO_HOLD; /* one block per connection */

    if (!c->cs->cfg->verbose) {
        return;
    }
    if (c->cs->cfg->verbose > 1) {
        flags |= BS_TLSINFO_RECORDS;
    }
    c->trace = calloc(1, sizeof *c->trace);
    if (c->trace == NULL ||
        bs_tlsinfo_trace_start(c->tls, c->trace, conn_verbose_line, c, flags) !=
            0)
    {
        free(c->trace);
        c->trace = NULL;
        log_conn(c, "-v", "out of memory: this connection is not traced");
    }
}

/* -v: what the handshake agreed on, or got before it failed. */
static void conn_verbose_summary(struct bs_conn *c, int failed)
{
    if (c->trace == NULL) {
        return;
    }
    if (failed) {
        conn_verbose_line(c, "the handshake failed; what it got that far:");
    }
    bs_tlsinfo_describe(c->tls, c->trace, conn_verbose_line, c);
}

/* A step of the handshake or of the close (step: bs_tls_handshake or
 * bs_tls_shutdown), unless the side it needs still waits for the socket.
 * Returns 1 when the step is complete, 0 while it waits, -1 when it
 * failed (an error, or the peer's close_notify). */
static int tls_step(struct bs_conn *c, enum bs_tls_side side,
                    bs_tls_status (*step)(struct bs_tls_conn *))
{
    if (bs_tls_conn_blocked(c->tls, side)) {
        return 0;
    }
    switch (step(c->tls)) {
    case BS_TLS_OK:
        break;
    case BS_TLS_WANT_READ:
    case BS_TLS_WANT_WRITE:
        return 0;
    case BS_TLS_EOF:
    case BS_TLS_ERR:
        return -1;
    }
    return 1;
}

static void handshake(struct bs_conn *c)
{
    int r = tls_step(c, BS_TLS_RECV_SIDE, bs_tls_handshake);

    if (r == 0) {
        return;
    }
    if (r < 0) {
        conn_verbose_summary(c, 1);
        close_alerted(c, "TLS handshake failed", "handshake-failed");
        return;
    }
    conn_verbose_summary(c, 0);
    c->state = CS_SERVING;
    c->served = 1;
    touch(c);
    bs_tls_conn_release_buffers(c->tls); /* most stay idle a while */
    if (c->cs->stopping) {
        c->draining = 1;
    }
    if (c->x.peer != NULL && c->cs->cfg->log_client_certs) {
        char subject[256];
        bs_tls_conn_peer_subject(c->tls, subject, sizeof subject);
        bs_log_put(c->cs->log, BS_LOG_OUT, "[%s] client certificate: %s",
                   c->peer, subject[0] != '\0' ? subject : "(none)");
    }
}

static void send_close_notify(struct bs_conn *c)
{
    int r = tls_step(c, BS_TLS_SEND_SIDE, bs_tls_shutdown);

    if (r == 0) {
        return;
    }
    if (r < 0) {
        conn_close(c); /* the peer is gone; nothing more to say */
        return;
    }
    if (c->peer_eof) {
        /* The client has closed its side, so nothing waits unread here
         * and close() sends our last bytes and a FIN, never a reset:
         * no linger needed (two system calls and a wakeup fewer per
         * connection). */
        conn_close(c);
        return;
    }
    shutdown(c->src.fd, SHUT_WR);
    c->state = CS_LINGER;
    c->sock_wait = 0;
}

static void linger(struct bs_conn *c)
{
    for (int i = 0; i < READ_BUDGET; i++) {
        ssize_t n;

        if (c->sock_wait) {
            return;
        }
        n = recv(c->src.fd, c->cs->scratch, SCRATCH_SIZE, 0);
        if (n > 0 && c->alerted) {
            if ((size_t) n >= c->drain_left) {
                conn_close(c); /* enough: a reset now is the client's doing */
                return;
            }
            c->drain_left -= (uint32_t) n;
        }
        if (n > 0) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->sock_wait = 1;
            return;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        conn_close(c); /* EOF or error: the peer has everything */
        return;
    }
    queue_ready(c);
}

/* Count c against its address's limit (--max-conns-per-ip).  Returns 0,
 * or -1 with c closed (over the limit, logged). */
static int count_ip(struct bs_conn *c)
{
    struct bs_conns *cs = c->cs;
    struct bs_iplimit_key key;
    char why[160], ip[64];
    unsigned n = 0;
    int r;

    if (cs->per_ip == NULL ||
        bs_iplimit_key((const struct sockaddr *) &c->addr.ss, c->addr.len,
                       &key) != 0)
    {
        return 0;
    }
    r = bs_iplimit_acquire(cs->per_ip, &key, &n);
    if (r == 1) {
        c->ipkey = key;
        return 0;
    }
    bs_iplimit_key_str(&key, ip, sizeof ip);
    if (r == 0) {
        snprintf(why, sizeof why,
                 "%s already holds %u connection%s (--max-conns-per-ip %u)", ip,
                 n, n == 1 ? "" : "s", cs->cfg->max_conns_per_ip);
        log_reason(c, "limit", "refused", why);
    } else {
        log_reason(c, "error", "refused",
                   "out of memory for the per-address count");
    }
    conn_close(c);
    return -1;
}

static void proxy_fail(struct bs_conn *c, const char *why)
{
    log_reason(c, "proxy-header", "PROXY header refused", why);
    conn_close(c);
}

/* The header is complete: the client is its source address from now on
 * (a v2 LOCAL command, v1 UNKNOWN or an address of another kind leave the
 * socket's own: a health check by the proxy itself). */
static void proxy_done(struct bs_conn *c)
{
    const struct bs_proxy_result *r = bs_proxy_result(c->pp);
    char via[BS_NET_ADDRSTRLEN];

    if (r->socktype == SOCK_DGRAM) {
        proxy_fail(c, "the header describes a datagram (UDP) connection, "
                      "not a TCP one");
        return;
    }
    snprintf(via, sizeof via, "%s", c->peer);
    if ((r->family == AF_INET || r->family == AF_INET6) &&
        r->src_len <= sizeof c->addr.ss)
    {
        memcpy(&c->addr.ss, &r->src, r->src_len);
        c->addr.len = r->src_len;
        bs_net_addr_str(&c->addr, c->peer, sizeof c->peer);
    }
    bs_log_msg(c->cs->log, BS_LOG_LVL_DEBUG,
               "bitstuffd: [%s] PROXY v%d %s header from %s", c->peer,
               r->version, r->local ? "LOCAL" : "PROXY", via);
    free(c->pp);
    c->pp = NULL;
    if (count_ip(c) != 0) {
        return;
    }
    c->state = CS_HANDSHAKE;
    /* The ClientHello may already wait behind the header, and its edge
     * has been taken: the handshake looks at the socket at once. */
    bs_tls_conn_retry(c->tls, BS_TLS_RECV_SIDE);
}

/*
 * Read the PROXY header in reads of at most what bs_proxy_want says is
 * still header (proxy.h, method A): no byte past it is taken, so the TLS
 * ClientHello stays in the socket for OpenSSL.  Edge-triggered: read
 * until the socket is empty or the header is complete.
 */
static void proxy_read(struct bs_conn *c)
{
    uint8_t buf[PROXY_CHUNK];

    for (int i = 0; i < PROXY_READS; i++) {
        size_t want = bs_proxy_want(c->pp), used = 0;
        enum bs_proxy_status st;
        ssize_t n;
        char why[BS_PROXY_ERRLEN + 32];

        n = recv(c->src.fd, buf, want < sizeof buf ? want : sizeof buf, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (n <= 0) {
            snprintf(why, sizeof why,
                     "the connection ended before the header was complete "
                     "(%s, %zu bytes received)",
                     n == 0 ? "closed" : strerror(errno), c->proxy_got);
            proxy_fail(c, why);
            return;
        }
        c->proxy_got += (size_t) n;
        st = bs_proxy_feed(c->pp, buf, (size_t) n, &used);
        if (st == BS_PROXY_DONE && used != (size_t) n) {
            /* cannot happen: no read is longer than what remains */
            proxy_fail(c, "internal error: read past the header");
            return;
        }
        if (st == BS_PROXY_DONE) {
            proxy_done(c);
            return;
        }
        if (st != BS_PROXY_NEED_MORE) {
            snprintf(why, sizeof why, "%s (%s)", bs_proxy_error(c->pp),
                     bs_proxy_status_name(st));
            proxy_fail(c, why);
            return;
        }
    }
    queue_ready(c); /* a long v2 header: let others run first */
}

static void conn_run(struct bs_conn *c)
{
    if (c->state == CS_PROXY) {
        proxy_read(c);
    }
    if (c->state == CS_HANDSHAKE) {
        handshake(c);
    }
    if (c->state == CS_SERVING) {
        serve(c);
    }
    if (c->state == CS_CLOSING) {
        send_close_notify(c);
    }
    if (c->state == CS_LINGER) {
        linger(c);
    }
}

static void conn_event(struct bs_loop_src *src, unsigned ev)
{
    struct bs_conn *c = (struct bs_conn *) (void *) src;

    if (c->state == CS_CLOSED) {
        return;
    }
    bs_tls_conn_events(
        c->tls, ((ev & BS_LOOP_IN) ? BS_TLS_EV_READ : 0u) |
                    ((ev & BS_LOOP_OUT) ? BS_TLS_EV_WRITE : 0u) |
                    ((ev & BS_LOOP_RDHUP) ? BS_TLS_EV_RDHUP : 0u) |
                    ((ev & (BS_LOOP_HUP | BS_LOOP_ERR)) ? BS_TLS_EV_HUP : 0u));
    if (ev & (BS_LOOP_IN | BS_LOOP_RDHUP | BS_LOOP_HUP | BS_LOOP_ERR)) {
        c->sock_wait = 0;
    }
    conn_run(c);
}

/* --explain: the connection's copy of each message (display.h).  Without
 * memory for it the connection still serves, unexplained. */
static void conn_explain_init(struct bs_conn *c)
{
    if (!c->cs->cfg->explain || c->x.peer == NULL) {
        return;
    }
    c->x.explain = calloc(1, sizeof *c->x.explain);
    if (c->x.explain == NULL) {
        log_conn(c, "--explain",
                 "out of memory: this connection's messages "
                 "are not explained");
        return;
    }
    c->x.explain->colour = c->cs->cfg->explain_colour;
}

static void conn_free(struct bs_conn *c)
{
    free(c->x.explain);
    bs_tlsinfo_trace_flush(c->trace); /* a handshake that never ended */
    bs_tlsinfo_trace_free(c->trace);
    free(c->trace);
    free(c);
}

static void conn_ready(struct bs_loop_src *src)
{
    conn_run((struct bs_conn *) (void *) src);
}

/* A new connection: from a trusted proxy when the PROXY protocol is on
 * (then its header comes first), else counted at once against its
 * address's limit.  Returns 0, or -1 with c closed (logged). */
static int conn_admit(struct bs_conn *c)
{
    struct bs_conns *cs = c->cs;

    bs_log_msg(cs->log, BS_LOG_LVL_DEBUG, "bitstuffd: [%s] connection opened",
               c->peer);
    if (cs->cfg->proxy_from == NULL) {
        return count_ip(c);
    }
    if (!bs_cidr_match_any(cs->cfg->proxy_from, cs->cfg->nproxy_from,
                           (const struct sockaddr *) &c->addr.ss, c->addr.len))
    {
        log_reason(c, "proxy-refused", "PROXY header refused",
                   "the connection does not come from a --proxy-from "
                   "address");
        conn_close(c);
        return -1;
    }
    c->pp = malloc(sizeof *c->pp);
    if (c->pp == NULL) {
        log_reason(c, "error", "closing",
                   "out of memory for the PROXY header parser");
        conn_close(c);
        return -1;
    }
    bs_proxy_init(c->pp, 0);
    c->state = CS_PROXY;
    return 0;
}

void bs_conn_open(struct bs_conns *cs, int fd, struct bs_tls_conn *tls,
                  const struct bs_net_addr *peer)
{
    char err[256];
    struct bs_conn *c = calloc(1, sizeof *c);

    if (c == NULL) {
        bs_log_put(cs->log, BS_LOG_ERR,
                   "bitstuffd: accept: out of memory for a connection");
        goto fail;
    }
    c->src.fd = fd;
    c->src.on_event = conn_event;
    c->src.on_ready = conn_ready;
    bs_loop_src_init(&c->src);
    c->cs = cs;
    c->tls = tls;
    c->addr = *peer;
    bs_net_addr_str(peer, c->peer, sizeof c->peer);
    c->opened = cs->loop->now;
    bs_timer_init(&c->timer);
    bs_timer_init(&c->quiet);
    bs_link_init(&c->live);
    bs_tls_conn_gather_writes(c->tls); /* flush() sends what it gathers */
    bs_xchg_init(&c->x, &cs->cfg->limits,
                 cs->cfg->log_requests ? c->peer : NULL);
    c->x.log = cs->log;
    conn_explain_init(c);
    if (bs_loop_add(cs->loop, &c->src, BS_LOOP_STREAM, err, sizeof err) != 0) {
        log_conn(c, "cannot watch the connection", err);
        goto fail;
    }
    conn_verbose_init(c);
    c->state = CS_HANDSHAKE;
    bs_link_append(&cs->live, &c->live);
    cs->nlive++;
    if (conn_admit(c) != 0) {
        return; /* closed, logged */
    }
    /* Total from accept and never re-armed by reads: a client that
     * trickles its handshake (slowloris) still runs out of time. */
    bs_timer_arm(&cs->hs_timers, &c->timer, cs->loop->now);
    /* Nothing to do before the client's first bytes (a new server
     * connection waits for them, see bs_tls_conn_wants): a handshake step
     * now would find the socket empty and leave libssl's read buffer
     * (some 17 KiB) allocated for as long as the client stays silent,
     * making a half-open connection cost twice an idle one.  The
     * ClientHello's arrival (or bytes already queued: the loop reports
     * them when the socket is added) starts the handshake. */
    return;
fail:
    if (c != NULL) {
        conn_free(c);
    }
    bs_tls_conn_free(tls);
    close(fd);
    atomic_fetch_sub(cs->nconns, 1);
}

void bs_conns_drain(struct bs_conns *cs)
{
    struct bs_link *l, *next;

    cs->stopping = 1;
    for (l = cs->live.next; l != &cs->live; l = next) {
        struct bs_conn *c = BS_CONTAINER(l, struct bs_conn, live);
        next = l->next;
        /* A handshake (or PROXY header) in progress goes on (the drain timeout
         * bounds it): its client is about to send a request. */
        if (c->state == CS_SERVING) {
            c->draining = 1;
            /* look once more for requests already sent */
            bs_tls_conn_retry(c->tls, BS_TLS_RECV_SIDE);
            queue_ready(c);
        }
    }
}

void bs_conns_close_all(struct bs_conns *cs)
{
    while (bs_link_linked(&cs->live)) {
        struct bs_conn *c = BS_CONTAINER(cs->live.next, struct bs_conn, live);
        set_reason(c, "server-stopping", "the drain timeout passed");
        conn_close(c);
    }
}

void bs_conns_run_timers(struct bs_conns *cs)
{
    struct bs_timer *t;
    uint64_t now = cs->loop->now;
    char why[96];

    while ((t = bs_timer_list_pop_expired(&cs->hs_timers, now)) != NULL) {
        struct bs_conn *c = BS_CONTAINER(t, struct bs_conn, timer);
        if (c->state == CS_PROXY) {
            snprintf(why, sizeof why,
                     "not complete within %llu ms (%zu bytes received)",
                     (unsigned long long) cs->hs_timers.period_ms,
                     c->proxy_got);
            log_reason(c, "proxy-timeout", "PROXY header timed out", why);
        } else {
            snprintf(why, sizeof why, "not finished within %llu ms",
                     (unsigned long long) cs->hs_timers.period_ms);
            log_reason(c, "handshake-timeout", "TLS handshake timed out", why);
        }
        conn_close(c);
    }
    while ((t = bs_timer_list_pop_expired(&cs->idle_timers, now)) != NULL) {
        struct bs_conn *c = BS_CONTAINER(t, struct bs_conn, timer);
        snprintf(why, sizeof why, "no progress for %llu ms",
                 (unsigned long long) cs->idle_timers.period_ms);
        log_reason(c, "idle-timeout", "idle timeout", why);
        if (c->out.buf == NULL) {
            start_close(c);
            conn_run(c);
        } else {
            conn_close(c); /* it does not read: close_notify would block */
        }
    }
    while ((t = bs_timer_list_pop_expired(&cs->linger_timers, now)) != NULL) {
        conn_close(BS_CONTAINER(t, struct bs_conn, timer));
    }
    while ((t = bs_timer_list_pop_expired(&cs->alert_timers, now)) != NULL) {
        conn_close(BS_CONTAINER(t, struct bs_conn, timer));
    }
    while ((t = bs_timer_list_pop_expired(&cs->quiet_timers, now)) != NULL) {
        bs_tls_conn_release_buffers(
            BS_CONTAINER(t, struct bs_conn, quiet)->tls);
    }
}

uint64_t bs_conns_next_deadline(const struct bs_conns *cs)
{
    uint64_t d = bs_timer_list_next(&cs->hs_timers);
    uint64_t t;

    if ((t = bs_timer_list_next(&cs->idle_timers)) < d) {
        d = t;
    }
    if ((t = bs_timer_list_next(&cs->linger_timers)) < d) {
        d = t;
    }
    if ((t = bs_timer_list_next(&cs->quiet_timers)) < d) {
        d = t;
    }
    if ((t = bs_timer_list_next(&cs->alert_timers)) < d) {
        d = t;
    }
    return d;
}

void bs_conns_end_turn(struct bs_conns *cs)
{
    while (bs_link_linked(&cs->zombies)) {
        struct bs_link *l = cs->zombies.next;
        bs_link_remove(l);
        conn_free(BS_CONTAINER(l, struct bs_conn, src.ready));
    }
}

int bs_conns_init(struct bs_conns *cs, const struct bs_conns_config *cfg,
                  char *err, size_t errlen)
{
    memset(cs, 0, sizeof *cs);
    cs->cfg = cfg->cfg;
    cs->loop = cfg->loop;
    cs->log = cfg->log;
    cs->nconns = cfg->nconns;
    cs->per_ip = cfg->per_ip;
    cs->outcap = bs_xchg_outbuf_size(&cs->cfg->limits);
    bs_timer_list_init(&cs->hs_timers, cs->cfg->handshake_ms);
    bs_timer_list_init(&cs->idle_timers, cs->cfg->idle_ms);
    bs_timer_list_init(&cs->linger_timers, LINGER_MS);
    bs_timer_list_init(&cs->quiet_timers, QUIET_MS);
    bs_timer_list_init(&cs->alert_timers, ALERT_DRAIN_MS);
    bs_link_init(&cs->live);
    bs_link_init(&cs->zombies);
    cs->outpool.size = cs->outcap;
    cs->stashpool.size = SCRATCH_SIZE;
    cs->scratch = malloc(SCRATCH_SIZE);
    if (cs->scratch == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void bs_conns_destroy(struct bs_conns *cs)
{
    while (bs_link_linked(&cs->live)) {
        struct bs_conn *c = BS_CONTAINER(cs->live.next, struct bs_conn, live);
        set_reason(c, "server-stopping", NULL);
        conn_close(c);
        bs_conns_end_turn(cs);
    }
    bs_conns_end_turn(cs);
    free(cs->scratch);
    cs->scratch = NULL;
    pool_drain(&cs->outpool);
    pool_drain(&cs->stashpool);
}
