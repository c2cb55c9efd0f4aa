/*
 * server.c - worker threads, connections and their state machine; see
 * server.h.
 *
 * A connection goes HANDSHAKE -> SERVING -> CLOSING (send close_notify)
 * -> LINGER (read and drop until the peer closes, so our last replies are
 * not destroyed by a reset; skipped when the peer has closed already)
 * -> CLOSED.  Sockets are edge-triggered: each connection remembers which
 * readiness each direction waits for (rd_want, wr_want) and retries when
 * that event arrives, which also covers TLS reading that needs a write
 * and writing that needs a read.
 * Backpressure needs no epoll_ctl: while the output buffer is full the
 * connection simply does not read, and the kernel's flow control holds
 * the client back.
 * A failed handshake or read sends its fatal alert and goes straight to
 * a shorter, byte-bounded LINGER (close_alerted).
 */
#include "server.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "timer.h"
#include "xchg.h"

#define SCRATCH_SIZE      16384u /* one TLS record of plaintext */
#define READ_BUDGET       16     /* reads per turn, for fairness */
#define FLUSH_AT          16384u /* a full TLS record's worth */
#define ACCEPT_BATCH      64
#define ACCEPT_BACKOFF_MS 100u
#define LOG_INTERVAL_MS   1000u
#define LINGER_MS         2000u
#define ALERT_DRAIN_MS    1000u   /* after a fatal alert: see close_alerted */
#define ALERT_DRAIN_BYTES 262144u /* the same, in bytes read and dropped */
#define QUIET_MS          1000u   /* then TLS record buffers are freed */
#define POOL_KEEP         64
#define MAX_EVENTS        128
#define MAX_LISTEN        64
/* Lines about single connections: each kind (log_conn's what) may log
 * LOG_BURST lines per LOG_WINDOW_MS, the rest are counted (issue 9). */
#define LOG_BURST     50u
#define LOG_WINDOW_MS 10000u
#define LOG_FLUSH_MS  1000u /* at exit, for lines still queued */

enum src_kind { SRC_CONN, SRC_LISTEN, SRC_STOP };

enum conn_state {
    CS_HANDSHAKE,
    CS_SERVING,
    CS_CLOSING,
    CS_LINGER,
    CS_CLOSED,
};

/* What an epoll event points to; first member of each owner. */
struct src {
    int kind;
    int fd;
};

struct link {
    struct link *prev, *next;
};

struct conn {
    struct src src;
    struct worker *w;
    struct bs_tls_conn *tls;
    uint8_t state;
    uint8_t rd_want;   /* 0: may read; else the epoll event awaited */
    uint8_t wr_want;   /* same for writing */
    uint8_t read_done; /* no more input will be read */
    uint8_t draining;  /* the server is stopping */
    uint8_t peer_eof;  /* the client closed its side (close_notify or not) */
    uint8_t reads;     /* reads this turn */
    uint8_t alerted;   /* LINGER after a fatal alert: drain_left bounds it */
    uint32_t drain_left;
    struct bs_timer timer;
    struct bs_timer quiet; /* frees the TLS buffers when it expires */
    struct link live;      /* the worker's connections */
    struct link ready;     /* queued to run again without an event */
    struct bs_outbuf out;
    uint8_t *stash; /* input read but not yet consumed (backpressure) */
    size_t stash_off, stash_len;
    struct bs_xchg x;
    char peer[BS_NET_ADDRSTRLEN];
};

/* Free buffers of one size kept for reuse, so a busy connection does not
 * call malloc per request and an idle one holds no buffer at all. */
struct pool {
    void *free; /* singly linked through each buffer's first bytes */
    size_t n, size;
};

struct worker {
    struct bs_server *srv;
    pthread_t thread;
    int started;
    int epfd;
    struct src lsrc[MAX_LISTEN];
    struct src stop_src;
    int accepting, stopping;
    uint64_t now, accept_resume, drain_deadline;
    struct bs_timer_list hs_timers, idle_timers, linger_timers, quiet_timers;
    struct bs_timer_list alert_timers;
    struct link live, ready;
    size_t nlive;
    struct link zombies; /* closed this turn, freed at its end */
    struct pool outpool, stashpool;
    uint8_t *scratch;
    uint64_t refused, refused_logged_at, accept_err_logged_at;
    size_t trim_peak; /* most connections since memory was last trimmed */
};

struct bs_server {
    struct bs_server_config cfg; /* cfg.tls: guarded by tls_lock */
    pthread_mutex_t tls_lock;
    struct bs_proto_limits lim;
    size_t outcap;
    int stop_fd, done_fd;
    atomic_uint nconns;
    atomic_uint running;
    unsigned nworkers;
    struct worker *workers;
    struct bs_log *log; /* never blocks a worker; see log.h */
};

#define CONTAINER(ptr, type, member)                                           \
    ((type *) (void *) ((char *) (ptr) -offsetof(type, member)))

static void link_init(struct link *l)
{
    l->prev = l->next = l;
}

static int link_linked(const struct link *l)
{
    return l->next != l && l->next != NULL;
}

static void link_remove(struct link *l)
{
    if (l->next == NULL) {
        return;
    }
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = l;
}

static void link_append(struct link *head, struct link *l)
{
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}

static void *pool_get(struct pool *p)
{
    void *b = p->free;

    if (b != NULL) {
        memcpy(&p->free, b, sizeof p->free);
        p->n--;
        return b;
    }
    return malloc(p->size);
}

static void pool_put(struct pool *p, void *b)
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

static void pool_drain(struct pool *p)
{
    while (p->free != NULL) {
        void *b = p->free;
        memcpy(&p->free, b, sizeof p->free);
        free(b);
    }
    p->n = 0;
}

static void log_conn(const struct conn *c, const char *what, const char *why)
{
    size_t n = strlen(what);

    if (strncmp(why, what, n) == 0 && why[n] == ':' && why[n + 1] == ' ') {
        why += n + 2; /* "TLS handshake failed: TLS handshake failed: x" */
    }
    bs_log_limited(c->w->srv->log, what, "bitstuffd: [%s] %s: %s", c->peer,
                   what, why);
}

static void conn_close(struct conn *c)
{
    struct worker *w = c->w;

    if (c->state == CS_CLOSED) {
        return;
    }
    c->state = CS_CLOSED;
    bs_timer_cancel(&c->timer);
    bs_timer_cancel(&c->quiet);
    link_remove(&c->live);
    link_remove(&c->ready);
    w->nlive--;
    bs_tls_conn_free(c->tls);
    c->tls = NULL;
    close(c->src.fd);
    pool_put(&w->outpool, c->out.buf);
    c->out.buf = NULL;
    pool_put(&w->stashpool, c->stash);
    c->stash = NULL;
    atomic_fetch_sub(&w->srv->nconns, 1);
    /* Events for c may still wait in this turn's batch: free it after. */
    link_append(&w->zombies, &c->ready);
}

static void queue_ready(struct conn *c)
{
    if (!link_linked(&c->ready)) {
        link_append(&c->w->ready, &c->ready);
    }
}

static int ensure_out(struct conn *c)
{
    if (c->out.buf != NULL) {
        return 0;
    }
    c->out.buf = pool_get(&c->w->outpool);
    if (c->out.buf == NULL) {
        log_conn(c, "closing", "out of memory for the output buffer");
        conn_close(c);
        return -1;
    }
    c->out.cap = c->w->srv->outcap;
    c->out.head = c->out.commit = c->out.tail = 0;
    return 0;
}

static void touch(struct conn *c)
{
    bs_timer_arm(&c->w->idle_timers, &c->timer, c->w->now);
    bs_timer_arm(&c->w->quiet_timers, &c->quiet, c->w->now);
}

static void start_close(struct conn *c)
{
    c->state = CS_CLOSING;
    c->rd_want = c->wr_want = 0;
    bs_timer_arm(&c->w->linger_timers, &c->timer, c->w->now);
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
static void close_alerted(struct conn *c, const char *what)
{
    log_conn(c, what, bs_tls_conn_error(c->tls));
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
    c->rd_want = c->wr_want = 0;
    bs_timer_cancel(&c->quiet);
    bs_timer_arm(&c->w->alert_timers, &c->timer, c->w->now);
}

/* Send committed output.  Returns 1 if bytes went out, 0 if there was
 * nothing to send or the socket is not ready, -1 if c was closed. */
static int flush(struct conn *c)
{
    struct bs_outbuf *o = &c->out;
    size_t n = 0;
    bs_tls_status st;

    if (c->wr_want != 0) {
        return 0;
    }
    if (bs_tls_write_pending(c->tls)) {
        /* records gathered by the last write go out first */
        st = bs_tls_flush(c->tls);
        if (st == BS_TLS_WANT_WRITE) {
            c->wr_want = EPOLLOUT;
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
        pool_put(&c->w->outpool, o->buf); /* drained: idle costs nothing */
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
        touch(c);
        if (o->head == o->tail) {
            pool_put(&c->w->outpool, o->buf);
            o->buf = NULL;
        }
        return 1;
    case BS_TLS_WANT_WRITE:
        c->wr_want = EPOLLOUT;
        return 0;
    case BS_TLS_WANT_READ:
        c->wr_want = EPOLLIN;
        return 0;
    case BS_TLS_EOF:
    case BS_TLS_ERR:
        break;
    }
failed:
    log_conn(c, "TLS write failed", bs_tls_conn_error(c->tls));
    conn_close(c);
    return -1;
}

static int out_room_for_read(struct conn *c)
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
           BS_XCHG_RESERVE + SCRATCH_SIZE / 4u * 5u + 64u;
}

/* Input read but not yet decoded: the stash, or an event the decoder
 * holds back until the output has room. */
static int input_pending(const struct conn *c)
{
    return c->stash_len > 0 || bs_xchg_stalled(&c->x);
}

static int may_read(struct conn *c)
{
    return c->state == CS_SERVING && !c->read_done && !bs_xchg_fatal(&c->x) &&
           !input_pending(c) && c->rd_want == 0 && c->reads < READ_BUDGET &&
           out_room_for_read(c);
}

static int feed(struct conn *c, const uint8_t *in, size_t len, size_t *used)
{
    if (ensure_out(c) != 0) {
        return -1;
    }
    *used = bs_xchg_feed(&c->x, &c->out, in, len);
    return 0;
}

/* Read one TLS record and process it.  Returns 1 on progress, 0 if
 * nothing could be read, -1 if c was closed. */
static int read_once(struct conn *c)
{
    struct worker *w = c->w;
    size_t n = 0, used = 0;
    bs_tls_status st = bs_tls_read(c->tls, w->scratch, SCRATCH_SIZE, &n);

    switch (st) {
    case BS_TLS_OK:
        c->reads++;
        touch(c);
        if (feed(c, w->scratch, n, &used) != 0) {
            return -1;
        }
        if (used < n && !bs_xchg_fatal(&c->x)) {
            /* The client is not reading its replies: keep the rest and
             * stop reading until the output drains.  (If all was used but
             * the decoder stalled, input_pending holds reading back.) */
            c->stash = pool_get(&w->stashpool);
            if (c->stash == NULL) {
                log_conn(c, "closing", "out of memory for the input buffer");
                conn_close(c);
                return -1;
            }
            memcpy(c->stash, w->scratch + used, n - used);
            c->stash_off = 0;
            c->stash_len = n - used;
        }
        return 1;
    case BS_TLS_WANT_READ:
        c->rd_want = EPOLLIN;
        if (c->draining) {
            c->read_done = 1; /* answer what arrived, nothing more */
        }
        return 0;
    case BS_TLS_WANT_WRITE:
        c->rd_want = EPOLLOUT;
        return 0;
    case BS_TLS_EOF:
        c->read_done = 1;
        c->peer_eof = 1;
        return 1;
    case BS_TLS_ERR:
        break;
    }
    close_alerted(c, "TLS read failed");
    return -1;
}

static int feed_stash(struct conn *c)
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
        pool_put(&c->w->stashpool, c->stash);
        c->stash = NULL;
    }
    return used > 0 || (was_stalled && !bs_xchg_stalled(&c->x));
}

static void serve(struct conn *c)
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
            log_conn(c, "closing", "the client broke the framing (bad-frame)");
        } else if (c->peer_eof && !bs_proto_decoder_idle(&c->x.dec)) {
            /* A close between requests is normal and not logged, with or
             * without close_notify: the protocol frames its own messages,
             * so only a request cut short shows a truncation. */
            log_conn(c, "closing",
                     "the client closed the connection in the middle of a "
                     "request; its partial reply was dropped");
        }
        start_close(c);
        return;
    }
    if (input_pending(c) && !bs_xchg_fatal(&c->x) && c->wr_want == 0 &&
        (c->out.buf == NULL || c->out.commit == c->out.head) &&
        !bs_tls_write_pending(c->tls))
    {
        /* Input waits for room but nothing can be sent to make room:
         * a bug in the budget, never a reason to hang. */
        log_conn(c, "closing", "internal error: output buffer deadlock");
        conn_close(c);
        return;
    }
    if (c->reads >= READ_BUDGET && c->rd_want == 0 && !c->read_done) {
        queue_ready(c); /* more may be buffered; let others run first */
    }
}

static void handshake(struct conn *c)
{
    bs_tls_status st;

    if (c->rd_want != 0) {
        return;
    }
    st = bs_tls_handshake(c->tls);
    switch (st) {
    case BS_TLS_OK:
        break;
    case BS_TLS_WANT_READ:
        c->rd_want = EPOLLIN;
        return;
    case BS_TLS_WANT_WRITE:
        c->rd_want = EPOLLOUT;
        return;
    case BS_TLS_EOF:
    case BS_TLS_ERR:
        close_alerted(c, "TLS handshake failed");
        return;
    }
    c->state = CS_SERVING;
    touch(c);
    bs_tls_conn_release_buffers(c->tls); /* most stay idle a while */
    if (c->w->stopping) {
        c->draining = 1;
    }
    if (c->x.peer != NULL && c->w->srv->cfg.log_client_certs) {
        char subject[256];
        bs_tls_conn_peer_subject(c->tls, subject, sizeof subject);
        bs_log_put(c->w->srv->log, BS_LOG_OUT, "[%s] client certificate: %s",
                   c->peer, subject[0] != '\0' ? subject : "(none)");
    }
}

static void send_close_notify(struct conn *c)
{
    bs_tls_status st;

    if (c->wr_want != 0) {
        return;
    }
    st = bs_tls_shutdown(c->tls);
    switch (st) {
    case BS_TLS_OK:
        break;
    case BS_TLS_WANT_WRITE:
        c->wr_want = EPOLLOUT;
        return;
    case BS_TLS_WANT_READ:
        c->wr_want = EPOLLIN;
        return;
    case BS_TLS_EOF:
    case BS_TLS_ERR:
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
    c->rd_want = 0;
}

static void linger(struct conn *c)
{
    for (int i = 0; i < READ_BUDGET; i++) {
        ssize_t n;

        if (c->rd_want != 0) {
            return;
        }
        n = recv(c->src.fd, c->w->scratch, SCRATCH_SIZE, 0);
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
            c->rd_want = EPOLLIN;
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

static void conn_run(struct conn *c)
{
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

static void conn_event(struct conn *c, uint32_t ev)
{
    uint32_t got = ev;

    if (c->state == CS_CLOSED) {
        return;
    }
    if (ev & (EPOLLERR | EPOLLHUP)) {
        got |= EPOLLIN | EPOLLOUT; /* let the next call find the error */
    }
    if (ev & EPOLLRDHUP) {
        got |= EPOLLIN;
    }
    if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        /* The last edge this socket will give for input: the TLS layer
         * must not later take a short read for an empty socket and wait
         * for another (the FIN may come while backpressure holds reading
         * back, and sit behind the data read after it). */
        bs_tls_conn_peer_hup(c->tls);
    }
    if (got & EPOLLIN) {
        /* Edge-triggered: this edge is the only news of input that came
         * after a read found the socket empty, so the next read must go
         * to the socket even if this turn does not read at once. */
        bs_tls_conn_readable(c->tls);
    }
    if (c->rd_want & got) {
        c->rd_want = 0;
    }
    if (c->wr_want & got) {
        c->wr_want = 0;
    }
    conn_run(c);
}

static void conn_open(struct worker *w, int fd, const struct bs_net_addr *peer)
{
    struct bs_server *s = w->srv;
    struct epoll_event ev;
    char err[256];
    struct conn *c = calloc(1, sizeof *c);

    if (c == NULL) {
        bs_log_put(w->srv->log, BS_LOG_ERR,
                   "bitstuffd: accept: out of memory for a connection");
        goto fail;
    }
    c->src.kind = SRC_CONN;
    c->src.fd = fd;
    c->w = w;
    bs_net_addr_str(peer, c->peer, sizeof c->peer);
    bs_timer_init(&c->timer);
    bs_timer_init(&c->quiet);
    link_init(&c->live);
    link_init(&c->ready);
    /* TCP_NODELAY came with the socket from the listener (bs_net_listen):
     * we coalesce replies ourselves.  The connection takes its own
     * reference to the context in force, so a reload (bs_server_set_tls)
     * may replace it at any moment.  Only accepts take the lock, never
     * the request path. */
    pthread_mutex_lock(&s->tls_lock);
    c->tls = bs_tls_conn_new(s->cfg.tls, fd, NULL, err, sizeof err);
    pthread_mutex_unlock(&s->tls_lock);
    if (c->tls == NULL) {
        log_conn(c, "cannot start TLS", err);
        goto fail;
    }
    bs_tls_conn_gather_writes(c->tls); /* flush() sends what it gathers */
    bs_xchg_init(&c->x, &s->lim, s->cfg.log_requests ? c->peer : NULL);
    c->x.log = s->log;
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &c->src;
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        snprintf(err, sizeof err, "epoll_ctl: %s", strerror(errno));
        log_conn(c, "cannot watch the connection", err);
        goto fail;
    }
    c->state = CS_HANDSHAKE;
    link_append(&w->live, &c->live);
    w->nlive++;
    /* Total from accept and never re-armed by reads: a client that
     * trickles its handshake (slowloris) still runs out of time. */
    bs_timer_arm(&w->hs_timers, &c->timer, w->now);
    /* Nothing to do before the client's first bytes: a handshake step now
     * would find the socket empty and leave libssl's read buffer (some
     * 17 KiB) allocated for as long as the client stays silent, making a
     * half-open connection cost twice an idle one.  The ClientHello's
     * arrival (or bytes already queued: epoll reports them when the
     * socket is added) starts the handshake. */
    c->rd_want = EPOLLIN;
    return;
fail:
    if (c != NULL) {
        bs_tls_conn_free(c->tls);
        free(c);
    }
    close(fd);
    atomic_fetch_sub(&s->nconns, 1);
}

/* "127.0.0.1:4433", the address a listening socket is bound to. */
static void listener_name(int fd, char *buf, size_t len)
{
    struct bs_net_addr a;

    a.len = sizeof a.ss;
    if (getsockname(fd, (struct sockaddr *) &a.ss, &a.len) != 0) {
        snprintf(buf, len, "descriptor %d", fd);
        return;
    }
    bs_net_addr_str(&a, buf, len);
}

/* Start (on) or stop watching the listening sockets.  Starting is all or
 * nothing: a worker that silently missed one socket would never accept
 * from it, so on a failure the ones added are taken out again, accepting
 * stays off, and err says which socket and why.  Stopping cannot fail in
 * a way that matters (the socket is then not in the set).  Returns 0 or
 * -1. */
static int listeners_watch(struct worker *w, int on, char *err, size_t errlen)
{
    for (size_t i = 0; on && i < w->srv->cfg.nlisten; i++) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
                                 .data.ptr = &w->lsrc[i]};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->lsrc[i].fd, &ev) != 0) {
            char name[BS_NET_ADDRSTRLEN];
            int e = errno;
            listener_name(w->lsrc[i].fd, name, sizeof name);
            snprintf(err, errlen,
                     "cannot watch the listening socket on %s for new "
                     "connections (epoll_ctl: %s)",
                     name, strerror(e));
            while (i-- > 0) {
                epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->lsrc[i].fd, NULL);
            }
            w->accepting = 0;
            return -1;
        }
    }
    for (size_t i = 0; !on && i < w->srv->cfg.nlisten; i++) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->lsrc[i].fd, NULL);
    }
    w->accepting = on;
    return 0;
}

/* Accepting again after a pause; a failure is logged (at most once per
 * LOG_INTERVAL_MS) and retried after another pause, never ignored. */
static void listeners_resume(struct worker *w)
{
    char err[256];

    if (listeners_watch(w, 1, err, sizeof err) == 0) {
        return;
    }
    w->accept_resume = w->now + ACCEPT_BACKOFF_MS;
    if (w->now - w->accept_err_logged_at >= LOG_INTERVAL_MS) {
        w->accept_err_logged_at = w->now;
        bs_log_put(w->srv->log, BS_LOG_ERR,
                   "bitstuffd: %s; this worker accepts nothing until it "
                   "can, retrying every %u ms",
                   err, ACCEPT_BACKOFF_MS);
    }
}

static void accept_batch(struct worker *w, int lfd)
{
    struct bs_server *s = w->srv;

    for (int i = 0; i < ACCEPT_BATCH && w->accepting; i++) {
        struct bs_net_addr peer;
        int fd = -1;
        int r = bs_net_accept(lfd, &fd, &peer);

        if (r == -EAGAIN || r == -EWOULDBLOCK) {
            return;
        }
        if (r == -EMFILE || r == -ENFILE || r == -ENOBUFS || r == -ENOMEM) {
            /* Out of descriptors or memory: the pending connection stays
             * in the queue and would wake us at once; pause instead of
             * spinning. */
            if (w->now - w->accept_err_logged_at >= LOG_INTERVAL_MS) {
                w->accept_err_logged_at = w->now;
                bs_log_put(w->srv->log, BS_LOG_ERR,
                           "bitstuffd: accept: %s; pausing accepts for "
                           "%u ms (raise 'ulimit -n' or lower --max-conns)",
                           strerror(-r), ACCEPT_BACKOFF_MS);
            }
            listeners_watch(w, 0, NULL, 0);
            w->accept_resume = w->now + ACCEPT_BACKOFF_MS;
            return;
        }
        if (r < 0) {
            continue; /* ECONNABORTED and friends: that client is gone */
        }
        if (atomic_fetch_add(&s->nconns, 1) >= s->cfg.max_conns) {
            atomic_fetch_sub(&s->nconns, 1);
            close(fd);
            w->refused++;
            if (w->now - w->refused_logged_at >= LOG_INTERVAL_MS) {
                char addr[BS_NET_ADDRSTRLEN];
                bs_net_addr_str(&peer, addr, sizeof addr);
                bs_log_put(w->srv->log, BS_LOG_ERR,
                           "bitstuffd: at --max-conns %u: refused %llu "
                           "connection(s) since the last report, latest "
                           "from %s",
                           s->cfg.max_conns, (unsigned long long) w->refused,
                           addr);
                w->refused_logged_at = w->now;
                w->refused = 0;
            }
            continue;
        }
        conn_open(w, fd, &peer);
    }
}

static void begin_stop(struct worker *w)
{
    struct link *l, *next;

    w->stopping = 1;
    w->drain_deadline = w->now + BS_SERVER_DRAIN_MS;
    if (w->accepting) {
        listeners_watch(w, 0, NULL, 0);
    }
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->stop_src.fd, NULL);
    for (l = w->live.next; l != &w->live; l = next) {
        struct conn *c = CONTAINER(l, struct conn, live);
        next = l->next;
        if (c->state == CS_HANDSHAKE) {
            conn_close(c); /* no request can have arrived yet */
        } else if (c->state == CS_SERVING) {
            c->draining = 1;
            c->rd_want = 0; /* look once more for requests already sent */
            bs_tls_conn_readable(c->tls);
            queue_ready(c);
        }
    }
}

static void run_ready(struct worker *w)
{
    struct link batch;

    if (!link_linked(&w->ready)) {
        return;
    }
    /* Take the queue as it is: conns queued again wait for next turn. */
    batch = w->ready;
    batch.next->prev = &batch;
    batch.prev->next = &batch;
    link_init(&w->ready);
    while (link_linked(&batch)) {
        struct link *l = batch.next;
        struct conn *c = CONTAINER(l, struct conn, ready);
        link_remove(l);
        conn_run(c);
    }
}

static void run_timers(struct worker *w)
{
    struct bs_timer *t;
    char why[96];

    while ((t = bs_timer_list_pop_expired(&w->hs_timers, w->now)) != NULL) {
        struct conn *c = CONTAINER(t, struct conn, timer);
        snprintf(why, sizeof why, "not finished within %llu ms",
                 (unsigned long long) w->hs_timers.period_ms);
        log_conn(c, "TLS handshake timed out", why);
        conn_close(c);
    }
    while ((t = bs_timer_list_pop_expired(&w->idle_timers, w->now)) != NULL) {
        struct conn *c = CONTAINER(t, struct conn, timer);
        snprintf(why, sizeof why, "no progress for %llu ms",
                 (unsigned long long) w->idle_timers.period_ms);
        log_conn(c, "idle timeout", why);
        if (c->out.buf == NULL) {
            start_close(c);
            conn_run(c);
        } else {
            conn_close(c); /* it does not read: close_notify would block */
        }
    }
    while ((t = bs_timer_list_pop_expired(&w->linger_timers, w->now)) != NULL) {
        conn_close(CONTAINER(t, struct conn, timer));
    }
    while ((t = bs_timer_list_pop_expired(&w->alert_timers, w->now)) != NULL) {
        conn_close(CONTAINER(t, struct conn, timer));
    }
    while ((t = bs_timer_list_pop_expired(&w->quiet_timers, w->now)) != NULL) {
        bs_tls_conn_release_buffers(CONTAINER(t, struct conn, quiet)->tls);
    }
    if (!w->accepting && !w->stopping && w->now >= w->accept_resume) {
        listeners_resume(w);
    }
    if (w->stopping && w->now >= w->drain_deadline) {
        if (w->nlive > 0) {
            bs_log_put(w->srv->log, BS_LOG_ERR,
                       "bitstuffd: drain timeout: closing %zu connection(s) "
                       "still busy",
                       w->nlive);
        }
        while (link_linked(&w->live)) {
            conn_close(CONTAINER(w->live.next, struct conn, live));
        }
    }
}

static int next_timeout(const struct worker *w)
{
    uint64_t d = bs_timer_list_next(&w->hs_timers);
    uint64_t t;

    if (link_linked(&w->ready)) {
        return 0;
    }
    if ((t = bs_timer_list_next(&w->idle_timers)) < d) {
        d = t;
    }
    if ((t = bs_timer_list_next(&w->linger_timers)) < d) {
        d = t;
    }
    if ((t = bs_timer_list_next(&w->quiet_timers)) < d) {
        d = t;
    }
    if ((t = bs_timer_list_next(&w->alert_timers)) < d) {
        d = t;
    }
    if (!w->accepting && !w->stopping && w->accept_resume < d) {
        d = w->accept_resume;
    }
    if (w->stopping && w->drain_deadline < d) {
        d = w->drain_deadline;
    }
    return bs_timer_timeout_ms(d, w->now);
}

static void free_zombies(struct worker *w)
{
    while (link_linked(&w->zombies)) {
        struct link *l = w->zombies.next;
        link_remove(l);
        free(CONTAINER(l, struct conn, ready));
    }
}

/* After a flood (thousands of connections, then most of them gone) the
 * allocator keeps the freed memory in its arenas for good: give it back
 * to the system once the worker's connections have halved from their
 * peak, a fall of at least TRIM_MIN_FALL.  Trims are thus as rare as
 * such falls, and each one has hundreds of connections' worth to return
 * (malloc_trim walks every arena, so it is not for every close). */
#define TRIM_MIN_FALL 256

static void give_back_memory(struct worker *w)
{
    if (w->nlive > w->trim_peak) {
        w->trim_peak = w->nlive;
        return;
    }
    if (w->trim_peak - w->nlive >= TRIM_MIN_FALL &&
        w->nlive <= w->trim_peak / 2) {
        (void) malloc_trim(0);
        w->trim_peak = w->nlive;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct bs_server *s = w->srv;
    struct epoll_event evs[MAX_EVENTS];

    for (;;) {
        int n;

        w->now = bs_timer_now_ms();
        if (w->stopping && w->nlive == 0) {
            break;
        }
        n = epoll_wait(w->epfd, evs, MAX_EVENTS, next_timeout(w));
        if (n < 0 && errno != EINTR) {
            bs_log_put(w->srv->log, BS_LOG_ERR,
                       "bitstuffd: epoll_wait: %s; worker stopping",
                       strerror(errno));
            break;
        }
        w->now = bs_timer_now_ms();
        for (int i = 0; i < n; i++) {
            struct src *src = evs[i].data.ptr;
            if (src->kind == SRC_CONN) {
                conn_event((struct conn *) src, evs[i].events);
            } else if (src->kind == SRC_LISTEN) {
                if (w->accepting) {
                    accept_batch(w, src->fd);
                }
            } else if (!w->stopping) {
                begin_stop(w);
            }
        }
        run_ready(w);
        run_timers(w);
        free_zombies(w);
        give_back_memory(w);
    }
    while (link_linked(&w->live)) {
        conn_close(CONTAINER(w->live.next, struct conn, live));
        free_zombies(w);
    }
    if (atomic_fetch_sub(&s->running, 1) == 1) {
        uint64_t one = 1;
        if (write(s->done_fd, &one, sizeof one) < 0) {
            bs_log_put(w->srv->log, BS_LOG_ERR,
                       "bitstuffd: cannot signal the end: %s", strerror(errno));
        }
    }
    return NULL;
}

static void worker_destroy(struct worker *w)
{
    if (w->epfd >= 0) {
        close(w->epfd);
    }
    free(w->scratch);
    pool_drain(&w->outpool);
    pool_drain(&w->stashpool);
}

static int worker_init(struct bs_server *s, struct worker *w, char *err,
                       size_t errlen)
{
    struct epoll_event ev;

    memset(w, 0, sizeof *w);
    w->srv = s;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->scratch = malloc(SCRATCH_SIZE);
    if (w->epfd < 0 || w->scratch == NULL) {
        snprintf(err, errlen, "cannot start a worker: %s",
                 w->epfd < 0 ? strerror(errno) : "out of memory");
        return -1;
    }
    bs_timer_list_init(&w->hs_timers, s->cfg.handshake_ms);
    bs_timer_list_init(&w->idle_timers, s->cfg.idle_ms);
    bs_timer_list_init(&w->linger_timers, LINGER_MS);
    bs_timer_list_init(&w->quiet_timers, QUIET_MS);
    bs_timer_list_init(&w->alert_timers, ALERT_DRAIN_MS);
    link_init(&w->live);
    link_init(&w->ready);
    link_init(&w->zombies);
    w->outpool.size = s->outcap;
    w->stashpool.size = SCRATCH_SIZE;
    for (size_t i = 0; i < s->cfg.nlisten; i++) {
        w->lsrc[i].kind = SRC_LISTEN;
        w->lsrc[i].fd = s->cfg.listen_fds[i];
    }
    w->stop_src.kind = SRC_STOP;
    w->stop_src.fd = s->stop_fd;
    /* Level-triggered and never read: once written, every worker sees it. */
    ev.events = EPOLLIN;
    ev.data.ptr = &w->stop_src;
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->stop_fd, &ev) != 0) {
        snprintf(err, errlen, "cannot start a worker: epoll_ctl: %s",
                 strerror(errno));
        return -1;
    }
    if (listeners_watch(w, 1, err, errlen) != 0) {
        return -1;
    }
    return 0;
}

struct bs_server *bs_server_start(const struct bs_server_config *cfg, char *err,
                                  size_t errlen)
{
    struct bs_server *s;

    if (cfg->nlisten == 0 || cfg->nlisten > MAX_LISTEN || cfg->threads == 0) {
        snprintf(err, errlen, "need 1 to %d listening sockets and a thread",
                 MAX_LISTEN);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    pthread_mutex_init(&s->tls_lock, NULL);
    bs_tls_ctx_ref(s->cfg.tls);
    s->lim = cfg->limits;
    s->outcap = bs_xchg_outbuf_size(&s->lim);
    atomic_init(&s->nconns, 0);
    atomic_init(&s->running, 0);
    s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->workers = calloc(cfg->threads, sizeof *s->workers);
    if (s->stop_fd < 0 || s->done_fd < 0 || s->workers == NULL) {
        snprintf(err, errlen, "cannot start: %s",
                 s->workers == NULL ? "out of memory" : strerror(errno));
        goto fail;
    }
    struct bs_log_config lc = {.fd = {STDOUT_FILENO, STDERR_FILENO},
                               .burst = LOG_BURST,
                               .interval_ms = LOG_WINDOW_MS,
                               .flush_ms = LOG_FLUSH_MS};
    s->log = bs_log_new(&lc, err, errlen);
    if (s->log == NULL) {
        goto fail;
    }
    for (unsigned i = 0; i < cfg->threads; i++) {
        s->workers[i].epfd = -1;
    }
    s->nworkers = cfg->threads;
    for (unsigned i = 0; i < cfg->threads; i++) {
        if (worker_init(s, &s->workers[i], err, errlen) != 0) {
            goto fail;
        }
    }
    atomic_store(&s->running, cfg->threads);
    for (unsigned i = 0; i < cfg->threads; i++) {
        int r = pthread_create(&s->workers[i].thread, NULL, worker_main,
                               &s->workers[i]);
        if (r != 0) {
            snprintf(err, errlen, "cannot start a worker thread: %s",
                     strerror(r));
            /* The threads already running stop and count themselves out;
             * the ones never started are counted out here. */
            atomic_fetch_sub(&s->running, cfg->threads - i);
            goto fail;
        }
        s->workers[i].started = 1;
    }
    return s;
fail:
    bs_server_free(s);
    return NULL;
}

void bs_server_set_tls(struct bs_server *s, struct bs_tls_ctx *ctx)
{
    struct bs_tls_ctx *old;

    bs_tls_ctx_ref(ctx);
    pthread_mutex_lock(&s->tls_lock);
    old = s->cfg.tls;
    s->cfg.tls = ctx;
    pthread_mutex_unlock(&s->tls_lock);
    bs_tls_ctx_free(old); /* freed when its last connection closes */
}

void bs_server_stop(struct bs_server *s)
{
    uint64_t one = 1;

    if (s != NULL && write(s->stop_fd, &one, sizeof one) < 0) {
        bs_log_put(s->log, BS_LOG_ERR, "bitstuffd: cannot wake the workers: %s",
                   strerror(errno));
    }
}

int bs_server_done_fd(const struct bs_server *s)
{
    return s->done_fd;
}

struct bs_log *bs_server_log(const struct bs_server *s)
{
    return s->log;
}

void bs_server_free(struct bs_server *s)
{
    if (s == NULL) {
        return;
    }
    if (s->workers != NULL) {
        bs_server_stop(s);
        for (unsigned i = 0; i < s->nworkers; i++) {
            if (s->workers[i].started) {
                pthread_join(s->workers[i].thread, NULL);
            }
            worker_destroy(&s->workers[i]);
        }
        free(s->workers);
    }
    bs_log_free(s->log); /* after the workers: nobody logs to it now */
    if (s->stop_fd >= 0) {
        close(s->stop_fd);
    }
    if (s->done_fd >= 0) {
        close(s->done_fd);
    }
    bs_tls_ctx_free(s->cfg.tls);
    pthread_mutex_destroy(&s->tls_lock);
    free(s);
}
