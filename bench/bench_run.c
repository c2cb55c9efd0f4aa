/*
 * bench_run.c - the load engine: per-thread epoll loops over non-blocking
 * TLS connections, pipelined requests, every reply checked.
 */
#include "bench_run.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_msg.h"
#include "certpath.h"
#include "chunk.h"
#include "cli.h"
#include "net.h"
#include "proto.h"
#include "timer.h"
#include "tls.h"

/* Connections that may be connecting or in their handshake at once, per
 * thread: more only overflows the server's accept queue. */
#define MAX_OPENING 128u
/* Receive buffer of an active connection: one TLS record. */
#define RBUF_ACTIVE 16384u
#define RBUF_IDLE   512u
/* Pipelined requests are coalesced into a send buffer of about this size
 * (at least one whole request). */
#define WBUF_TARGET 262144u
/* Send rounds per wake-up before reading again (streamed messages). */
#define SEND_ROUNDS 16

enum conn_state {
    C_FREE = 0,
    C_CONNECTING,
    C_HANDSHAKE,
    C_READY,
    C_CLOSED,
};

enum phase {
    PH_CONNECT = 0,
    PH_RUN,
    PH_IDLE_CHECK,
};

struct req {
    uint64_t t0;
    size_t idx; /* pool message */
    struct bs_bench_stream_spec spec;
};

struct worker;

struct conn {
    struct worker *w;
    enum conn_state state;
    int fd;
    int idle;      /* an --idle connection */
    int idle_sent; /* its check request went out */
    int reserved;  /* --new-conn: a request is reserved for it */
    int out_more;  /* more to send after a round: EPOLLOUT too */
    int streamed;  /* sends streamed messages, not pool ones */
    const struct bs_bench_pool *pool;
    uint32_t events;  /* registered with epoll; 0: not registered */
    uint64_t t_start; /* when the connection began */
    uint64_t t_progress;
    struct bs_tls_conn *tls;
    struct bs_tls_session *sess; /* --new-conn --resume on: to offer next */
    uint8_t *wbuf;
    size_t wcap, woff, wlen;
    uint8_t *rbuf;
    size_t rcap;
    struct req *ring;
    unsigned rhead, rcount;
    /* the reply to ring[rhead] */
    uint64_t got;
    int bad;
    size_t tpos; /* text: bytes of the expected reply matched */
    int tskip;   /* text: skipping the rest of the line */
    struct bs_proto_decoder dec;
    char errbuf[BS_PROTO_ERRBUF_SIZE]; /* the text of 'E' replies */
    struct bs_bench_gen *gen;          /* streamed: the request being sent */
    int gen_active;
    struct bs_bench_check *chk; /* streamed: the reply being checked */
    int chk_ready;
};

/* A barrier that the main thread can shrink when a thread fails to
 * start (pthread_barrier_t cannot). */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned count, waiting, gen;
};

/* Shared, read-only while the threads run (but for the gate). */
struct shared {
    const struct bs_bench_opts *o;
    const struct bs_bench_pool *pool;      /* NULL: streamed messages */
    const struct bs_bench_pool *idle_pool; /* small requests for --idle */
    struct bs_tls_ctx *ctx;
    struct bs_net_addr addr;
    const char *servername;
    struct gate *gate;
    size_t wcap;      /* send buffer of an active connection */
    size_t wcap_idle; /* and of an idle one */
};

struct worker {
    const struct shared *sh;
    unsigned id;
    pthread_t thread;
    int ep;
    struct conn *conns; /* active first, then idle */
    size_t nactive, nidle;
    enum phase phase;
    uint64_t quota; /* requests to send; UINT64_MAX: until the deadline */
    uint64_t issued;
    uint64_t deadline; /* ns; 0: none */
    size_t cursor;     /* next pool message */
    size_t idle_cursor;
    uint64_t stream_no;
    struct bs_bench_rng rng;
    unsigned opening; /* connecting or in handshake */
    /* counts that tell when a phase is over without a scan */
    uint64_t inflight;      /* requests in flight on active connections */
    uint64_t idle_inflight; /* and on idle ones */
    size_t reserved_n;      /* --new-conn: connections holding a request */
    size_t ready_active;    /* active connections ready for requests */
    size_t next_open;       /* next connection to open in the connect phase */
    uint64_t t_begin, t_end;
    uint64_t last_scan;
    struct bs_bench_result r; /* this thread's share */
    char err[256];            /* a fatal set-up error in this thread */
};

static void gate_wait(struct gate *g)
{
    unsigned gen;

    pthread_mutex_lock(&g->mu);
    if (++g->waiting >= g->count) {
        g->waiting = 0;
        g->gen++;
        pthread_cond_broadcast(&g->cv);
    } else {
        gen = g->gen;
        while (gen == g->gen) {
            pthread_cond_wait(&g->cv, &g->mu);
        }
    }
    pthread_mutex_unlock(&g->mu);
}

/* n threads will never come. */
static void gate_drop(struct gate *g, unsigned n)
{
    pthread_mutex_lock(&g->mu);
    g->count -= n;
    if (g->waiting > 0 && g->waiting >= g->count) {
        g->waiting = 0;
        g->gen++;
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
}

static uint64_t now_ns(void)
{
    return bs_timer_now_ns();
}

const char *bs_bench_fail_name(enum bs_bench_fail f)
{
    static const char *const names[BS_BENCH_F_COUNT] = {
        "connect", "handshake", "wrong", "lost", "timeout", "unsent", "idle",
    };

    return (unsigned) f < BS_BENCH_F_COUNT ? names[f] : "unknown";
}

uint64_t bs_bench_result_failures(const struct bs_bench_result *r)
{
    uint64_t n = 0;
    unsigned i;

    for (i = 0; i < BS_BENCH_F_COUNT; i++) {
        n += r->fail[i];
    }
    return n;
}

static void note(struct worker *w, enum bs_bench_fail f, uint64_t count,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Count count failures of kind f and keep the first message of each. */
static void note(struct worker *w, enum bs_bench_fail f, uint64_t count,
                 const char *fmt, ...)
{
    va_list ap;

    w->r.fail[f] += count;
    if (w->r.first[f][0] == '\0') {
        va_start(ap, fmt);
        vsnprintf(w->r.first[f], sizeof(w->r.first[f]), fmt, ap);
        va_end(ap);
    }
}

/* ------------------------------------------------------------------ */
/* Connections */

/* The epoll events for what a TLS connection waits for (tls.h), and
 * the readiness epoll reported, for the connection. */
static uint32_t epoll_events(unsigned want)
{
    return ((want & BS_TLS_EV_READ) ? (uint32_t) EPOLLIN : 0u) |
           ((want & BS_TLS_EV_WRITE) ? (uint32_t) EPOLLOUT : 0u);
}

static unsigned tls_events(uint32_t ev)
{
    return ((ev & EPOLLIN) ? BS_TLS_EV_READ : 0u) |
           ((ev & EPOLLOUT) ? BS_TLS_EV_WRITE : 0u) |
           ((ev & (EPOLLHUP | EPOLLERR)) ? BS_TLS_EV_HUP : 0u);
}

static void set_events(struct conn *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};

    if (ev == c->events) {
        return;
    }
    if (epoll_ctl(c->w->ep, c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
                  c->fd, &e) == 0)
    {
        c->events = ev;
    }
}

static const char *req_desc(const struct conn *c, const struct req *q,
                            char *buf, size_t len)
{
    const struct bs_bench_pool *p = c->pool;

    if (!c->streamed) {
        const struct bs_bench_msg *m = &p->msg[q->idx];

        snprintf(buf, len, "%s %s of %zu bits (pool message %zu)",
                 m->op == BS_DIR_STUFF ? "stuff" : "unstuff",
                 bs_rule_name((enum bs_rule) m->rule), m->in_bits, q->idx);
    } else {
        snprintf(buf, len, "%s %s of %" PRIu64 " data bits (seed %" PRIu64 ")",
                 q->spec.op == BS_DIR_STUFF ? "stuff" : "unstuff",
                 bs_rule_name((enum bs_rule) q->spec.rule), q->spec.data_bits,
                 q->spec.seed);
    }
    return buf;
}

/* Release what the connection holds; its slot may open again. */
static void conn_close(struct conn *c, int graceful)
{
    struct worker *w = c->w;

    if (c->state == C_CONNECTING || c->state == C_HANDSHAKE) {
        w->opening--;
    }
    if (c->state == C_READY && !c->idle) {
        w->ready_active--;
    }
    if (c->idle) {
        w->idle_inflight -= c->rcount;
    } else {
        w->inflight -= c->rcount;
    }
    if (c->reserved) {
        c->reserved = 0;
        w->reserved_n--;
    }
    if (c->tls != NULL) {
        if (graceful && c->state == C_READY) {
            if (w->sh->o->new_conn && w->sh->o->resume) {
                /* the ticket has arrived with the reply: keep the newest
                 * session for this slot's next connection */
                struct bs_tls_session *s = bs_tls_conn_get_session(c->tls);

                if (s != NULL) {
                    bs_tls_session_free(c->sess);
                    c->sess = s;
                }
            }
            (void) bs_tls_shutdown(c->tls); /* best effort */
        }
        bs_tls_conn_free(c->tls);
        c->tls = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
    }
    c->events = 0;
    c->state = C_CLOSED;
    c->rhead = c->rcount = 0;
    c->woff = c->wlen = 0;
    c->gen_active = c->chk_ready = c->out_more = 0;
}

/* The connection failed: what was in flight on it failed with kind f. */
static void conn_fail(struct conn *c, enum bs_bench_fail f, const char *why)
{
    struct worker *w = c->w;
    uint64_t n = c->rcount + (uint64_t) (c->reserved != 0);

    if (c->idle) {
        note(w, BS_BENCH_F_IDLE, 1, "idle connection: %s", why);
    } else if (f == BS_BENCH_F_CONNECT || f == BS_BENCH_F_HANDSHAKE) {
        note(w, f, 1, "%s", why);
        /* a request reserved for it (--new-conn) is lost with it */
        if (n > 0) {
            note(w, BS_BENCH_F_LOST, n, "%s", why);
        }
    } else if (n > 0) {
        note(w, f, n, "%" PRIu64 " request(s) in flight: %s", n, why);
    } else if (!w->sh->o->new_conn || c->state != C_READY) {
        /* a connection lost between requests is still a failure: it
         * would have carried more of them */
        note(w, BS_BENCH_F_LOST, 0, "%s", why);
    }
    conn_close(c, 0);
}

static int conn_alloc(struct conn *c, const struct shared *sh, int idle)
{
    unsigned depth = sh->o->pipeline;

    c->fd = -1;
    c->idle = idle;
    c->streamed = sh->pool == NULL && !idle;
    c->pool = idle ? sh->idle_pool : sh->pool;
    c->rcap = idle ? RBUF_IDLE : RBUF_ACTIVE;
    c->wcap = idle ? sh->wcap_idle : sh->wcap;
    c->rbuf = malloc(c->rcap);
    c->wbuf = malloc(c->wcap);
    c->ring = calloc(depth, sizeof(*c->ring));
    if (c->rbuf == NULL || c->wbuf == NULL || c->ring == NULL) {
        return -1;
    }
    if (c->streamed) {
        c->gen = malloc(sizeof(*c->gen));
        c->chk = malloc(sizeof(*c->chk));
        if (c->gen == NULL || c->chk == NULL) {
            return -1;
        }
    }
    return 0;
}

static void conn_free(struct conn *c)
{
    if (c->state != C_CLOSED && c->state != C_FREE) {
        conn_close(c, 0);
    }
    free(c->rbuf);
    free(c->wbuf);
    free(c->ring);
    free(c->gen);
    free(c->chk);
    bs_tls_session_free(c->sess);
}

/* Start a TCP connection; it goes on in handle(). */
static void conn_open(struct conn *c)
{
    struct worker *w = c->w;
    const struct bs_net_addr *a = &w->sh->addr;
    char buf[160];
    int fd;

    c->t_start = c->t_progress = now_ns();
    c->state = C_CONNECTING;
    c->events = 0;
    c->rhead = c->rcount = 0;
    c->woff = c->wlen = 0;
    c->got = 0;
    c->bad = 0;
    c->tpos = 0;
    c->tskip = 0;
    w->opening++;
    bs_proto_decoder_init(&c->dec, BS_PROTO_ROLE_CLIENT, NULL);
    bs_proto_decoder_set_errbuf(&c->dec, c->errbuf);
    fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        snprintf(buf, sizeof(buf), "socket: %s (raise ulimit -n?)",
                 strerror(errno));
        conn_fail(c, BS_BENCH_F_CONNECT, buf);
        return;
    }
    c->fd = fd;
    (void) bs_net_set_nodelay(fd);
    if (connect(fd, (const struct sockaddr *) &a->ss, a->len) == -1 &&
        errno != EINPROGRESS)
    {
        snprintf(buf, sizeof(buf), "connect: %s", strerror(errno));
        conn_fail(c, BS_BENCH_F_CONNECT, buf);
        return;
    }
    set_events(c, EPOLLOUT);
}

static void conn_ready(struct conn *c)
{
    struct worker *w = c->w;

    c->state = C_READY;
    w->opening--;
    w->ready_active += !c->idle;
    w->r.handshakes++;
    w->r.resumed += bs_tls_conn_resumed(c->tls) != 0;
    if (w->r.tls_version[0] == '\0') {
        snprintf(w->r.tls_version, sizeof(w->r.tls_version), "%s",
                 bs_tls_conn_version(c->tls));
        snprintf(w->r.tls_cipher, sizeof(w->r.tls_cipher), "%s",
                 bs_tls_conn_cipher(c->tls));
    }
}

static void conn_handshake(struct conn *c)
{
    char buf[256];

    switch (bs_tls_handshake(c->tls)) {
    case BS_TLS_OK:
        c->t_progress = now_ns();
        conn_ready(c);
        set_events(c, EPOLLIN);
        return;
    case BS_TLS_WANT_READ:
    case BS_TLS_WANT_WRITE:
        set_events(c, epoll_events(bs_tls_conn_wants(c->tls)));
        return;
    case BS_TLS_EOF:
    case BS_TLS_ERR:
        break;
    }
    snprintf(buf, sizeof(buf), "TLS handshake: %s", bs_tls_conn_error(c->tls));
    conn_fail(c, BS_BENCH_F_HANDSHAKE, buf);
}

static void conn_connected(struct conn *c)
{
    struct worker *w = c->w;
    char buf[256], terr[200];
    int e = 0;
    socklen_t len = sizeof(e);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1) {
        e = errno;
    }
    if (e == EINPROGRESS || e == EALREADY) {
        return;
    }
    if (e != 0) {
        snprintf(buf, sizeof(buf), "connect: %s", strerror(e));
        conn_fail(c, BS_BENCH_F_CONNECT, buf);
        return;
    }
    c->tls = bs_tls_conn_new(w->sh->ctx, c->fd, w->sh->servername, terr,
                             sizeof(terr));
    if (c->tls == NULL) {
        snprintf(buf, sizeof(buf), "TLS set-up: %s", terr);
        conn_fail(c, BS_BENCH_F_HANDSHAKE, buf);
        return;
    }
    bs_tls_conn_gather_writes(c->tls); /* send_some flushes */
    if (c->sess != NULL && bs_tls_conn_set_session(c->tls, c->sess) != 0) {
        bs_tls_session_free(c->sess); /* stale: do a full handshake */
        c->sess = NULL;
    }
    c->state = C_HANDSHAKE;
    c->t_progress = now_ns();
    conn_handshake(c);
}

/* ------------------------------------------------------------------ */
/* Requests */

static int may_issue(struct conn *c, uint64_t now)
{
    struct worker *w = c->w;

    if (c->idle) {
        return w->phase == PH_IDLE_CHECK && !c->idle_sent;
    }
    if (w->phase != PH_RUN) {
        return 0;
    }
    if (w->sh->o->new_conn) {
        return c->reserved && c->rcount == 0;
    }
    if (w->deadline != 0 && now >= w->deadline) {
        return 0;
    }
    return w->issued < w->quota;
}

static size_t wire_len(const struct bs_bench_msg *m, int text)
{
    return text ? m->line_len : bs_chunk_wire_len(m->in_bits);
}

/* Append pool message m as frames (or its text line) to the send buffer,
 * which has room for it. */
static void put_msg(struct conn *c, const struct bs_bench_msg *m, int text)
{
    uint8_t *out = c->wbuf + c->wlen;
    size_t off = 0, bytes;
    struct bs_chunk ch;

    if (text) {
        memcpy(out, m->line, m->line_len);
        c->wlen += m->line_len;
        return;
    }
    do {
        ch = bs_chunk_next(m->in_bits, off);
        out += bs_proto_put_header(out, BS_PROTO_HDR_LEN, BS_PROTO_TYPE_MSG,
                                   ch.flags, (enum bs_proto_op) m->op,
                                   (enum bs_rule) m->rule, ch.bits);
        bytes = bs_bytes_for_bits(ch.bits);
        memcpy(out, m->in + off / 8, bytes);
        out += bytes;
        off += ch.bits;
    } while (off < m->in_bits);
    c->wlen = (size_t) (out - c->wbuf);
}

static struct req *ring_push(struct conn *c, uint64_t now)
{
    unsigned depth = c->w->sh->o->pipeline;
    struct req *q = &c->ring[(c->rhead + c->rcount) % depth];

    c->rcount++;
    q->t0 = c->w->sh->o->new_conn ? c->t_start : now;
    if (c->idle) {
        c->idle_sent = 1;
        c->w->idle_inflight++;
    } else {
        c->w->inflight++;
        if (!c->w->sh->o->new_conn) {
            c->w->issued++;
        }
    }
    if (c->reserved) {
        c->reserved = 0;
        c->w->reserved_n--;
    }
    return q;
}

/* Queue pool requests while the pipeline and the send buffer allow. */
static void fill_pool(struct conn *c, uint64_t now)
{
    struct worker *w = c->w;
    const struct bs_bench_pool *p = c->pool;
    int text = w->sh->o->text;
    size_t *cursor = c->idle ? &w->idle_cursor : &w->cursor;
    struct req *q;
    size_t need;

    while (c->rcount < w->sh->o->pipeline && may_issue(c, now)) {
        const struct bs_bench_msg *m = &p->msg[*cursor];

        need = wire_len(m, text);
        if (need > c->wcap - c->wlen) {
            if (c->woff == 0 || need > c->wcap - (c->wlen - c->woff)) {
                return; /* wait until more is written */
            }
            memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
            c->wlen -= c->woff;
            c->woff = 0;
        }
        q = ring_push(c, now);
        q->idx = *cursor;
        *cursor = (*cursor + 1) % p->count;
        put_msg(c, m, text);
    }
}

/* Streamed messages: start one when allowed, and put its next chunk into
 * the (empty) send buffer. */
static void fill_stream(struct conn *c, uint64_t now)
{
    struct worker *w = c->w;
    const struct bs_bench_opts *o = w->sh->o;
    size_t nbits = 0;
    int last = 0;
    unsigned flags = 0;

    if (c->woff != c->wlen) {
        return;
    }
    c->woff = c->wlen = 0;
    if (!c->gen_active) {
        struct bs_bench_stream_spec spec;
        struct req *q;
        uint64_t span = o->max_bits - o->min_bits;

        if (c->rcount >= o->pipeline || !may_issue(c, now)) {
            return;
        }
        spec.seed = o->seed ^ ((uint64_t) w->id << 48) ^ ++w->stream_no;
        spec.data_bits = o->min_bits + bs_bench_rng_below(&w->rng, span + 1);
        spec.op = (uint8_t) (o->op == BS_BENCH_OP_MIXED
                                 ? bs_bench_rng_below(&w->rng, 2)
                                 : (uint64_t) o->op);
        spec.rule = (uint8_t) (o->rule == BS_BENCH_RULE_MIXED
                                   ? bs_bench_rng_below(&w->rng, 3)
                                   : (uint64_t) o->rule);
        q = ring_push(c, now);
        q->spec = spec;
        bs_bench_gen_init(c->gen, &spec);
        c->gen_active = 1;
        flags = BS_PROTO_FLAG_FIRST;
        if (c->rcount == 1) {
            bs_bench_check_init(c->chk, &spec);
            c->chk_ready = 1;
        }
    }
    if (bs_bench_gen_next(c->gen, c->wbuf + BS_PROTO_HDR_LEN,
                          c->wcap - BS_PROTO_HDR_LEN, &nbits, &last) != 0)
    {
        c->gen_active = 0; /* cannot happen with a sized buffer */
        return;
    }
    if (last) {
        flags |= BS_PROTO_FLAG_LAST;
        c->gen_active = 0;
    }
    (void) bs_proto_put_header(c->wbuf, BS_PROTO_HDR_LEN, BS_PROTO_TYPE_MSG,
                               flags, (enum bs_proto_op) c->gen->spec.op,
                               (enum bs_rule) c->gen->spec.rule,
                               (uint32_t) nbits);
    c->wlen = BS_PROTO_HDR_LEN + bs_bytes_for_bits(nbits);
}

static int write_failed(struct conn *c)
{
    char buf[256];

    snprintf(buf, sizeof(buf), "TLS write: %s", bs_tls_conn_error(c->tls));
    conn_fail(c, BS_BENCH_F_LOST, buf);
    return -1;
}

/* Send what the TLS connection has gathered (bulk writes).  Returns 0,
 * or -1 if the connection failed. */
static int flush_gathered(struct conn *c)
{
    switch (bs_tls_flush(c->tls)) {
    case BS_TLS_OK:
    case BS_TLS_WANT_WRITE: /* bs_tls_conn_wants says so */
        return 0;
    default:
        return write_failed(c);
    }
}

/* Write what is queued.  Returns 0, or -1 if the connection failed. */
static int flush(struct conn *c)
{
    size_t n = 0;

    while (c->woff < c->wlen) {
        switch (bs_tls_write(c->tls, c->wbuf + c->woff, c->wlen - c->woff, &n))
        {
        case BS_TLS_OK:
            c->woff += n;
            c->t_progress = now_ns();
            break;
        case BS_TLS_WANT_WRITE:
        case BS_TLS_WANT_READ:
            return 0; /* bs_tls_conn_wants says which */
        case BS_TLS_EOF:
        case BS_TLS_ERR:
            return write_failed(c);
        }
    }
    c->woff = c->wlen = 0;
    return flush_gathered(c);
}

static int send_some(struct conn *c, uint64_t now)
{
    int round;

    c->out_more = 0;
    for (round = 0; round < SEND_ROUNDS; round++) {
        if (!c->streamed) {
            fill_pool(c, now);
        } else {
            fill_stream(c, now);
        }
        if (c->woff == c->wlen) {
            return flush_gathered(c); /* nothing more to send */
        }
        if (flush(c) != 0) {
            return -1;
        }
        if (c->woff != c->wlen) {
            return 0; /* blocked */
        }
    }
    c->out_more = 1; /* more to send: come back when writable */
    return 0;
}

/* ------------------------------------------------------------------ */
/* Replies */

/* The reply to the oldest request is complete; ok says if it was right. */
static void complete(struct conn *c, int ok, const char *why)
{
    struct worker *w = c->w;
    const struct bs_bench_opts *o = w->sh->o;
    struct req *q = &c->ring[c->rhead];
    uint64_t now = now_ns();
    char desc[160];

    if (ok && c->idle) {
        w->r.idle_ok++;
    } else if (ok) {
        bs_bench_hist_add(&w->r.lat, now - q->t0);
        w->r.ok++;
        if (!c->streamed) {
            const struct bs_bench_msg *m = &c->pool->msg[q->idx];

            w->r.payload_bits += m->in_bits;
            w->r.bad_replies += m->expect != BS_OK;
        } else {
            w->r.payload_bits += q->spec.data_bits;
        }
    } else {
        note(w, c->idle ? BS_BENCH_F_IDLE : BS_BENCH_F_WRONG, 1, "%s: %s",
             req_desc(c, q, desc, sizeof(desc)), why);
    }
    c->rhead = (c->rhead + 1) % o->pipeline;
    c->rcount--;
    if (c->idle) {
        w->idle_inflight--;
    } else {
        w->inflight--;
    }
    c->got = 0;
    c->bad = 0;
    c->tpos = 0;
    c->tskip = 0;
    c->t_progress = now;
    if (c->streamed && c->rcount > 0) {
        bs_bench_check_init(c->chk, &c->ring[c->rhead].spec);
        c->chk_ready = 1;
    } else {
        c->chk_ready = 0;
    }
}

static void on_data(struct conn *c, const uint8_t *data, size_t nbits)
{
    const struct bs_bench_msg *m;

    if (c->bad) {
        return;
    }
    if (c->streamed) {
        c->bad = bs_bench_check_feed(c->chk, data, nbits) != 0;
        return;
    }
    m = &c->pool->msg[c->ring[c->rhead].idx];
    if (nbits > m->out_bits - c->got ||
        !bs_bench_bits_equal(m->out, c->got, data, nbits))
    {
        c->bad = 1;
        return;
    }
    c->got += nbits;
}

static void on_end(struct conn *c)
{
    char why[160];

    if (c->streamed) {
        if (!c->bad && bs_bench_check_end(c->chk) == 0) {
            complete(c, 1, NULL);
            return;
        }
        snprintf(why, sizeof(why),
                 "reply differs from the reference after %" PRIu64 " bits",
                 c->chk->got);
        complete(c, 0, why);
        return;
    }
    {
        const struct bs_bench_msg *m = &c->pool->msg[c->ring[c->rhead].idx];

        if (!c->bad && m->expect == BS_OK && c->got == m->out_bits) {
            complete(c, 1, NULL);
            return;
        }
        if (m->expect != BS_OK) {
            snprintf(why, sizeof(why),
                     "expected error %u %s at offset %" PRIu64
                     ", got a normal reply",
                     (unsigned) m->expect,
                     bs_status_name((bs_status) m->expect), m->err_offset);
        } else {
            snprintf(why, sizeof(why),
                     "reply differs from the reference (%zu bits expected, "
                     "%s after %" PRIu64 ")",
                     m->out_bits, c->bad ? "mismatch" : "end", c->got);
        }
        complete(c, 0, why);
    }
}

static void on_error(struct conn *c, const struct bs_proto_event *ev)
{
    char why[220];
    const struct bs_bench_msg *m = NULL;

    if (!c->streamed) {
        m = &c->pool->msg[c->ring[c->rhead].idx];
    }
    if (m != NULL && !c->bad && m->expect != BS_OK && ev->code == m->expect &&
        ev->offset == m->err_offset)
    {
        complete(c, 1, NULL);
        return;
    }
    snprintf(why, sizeof(why),
             "server replied error %u %s at offset %" PRId64 ": %s", ev->code,
             bs_proto_code_name(ev->code),
             ev->offset == BS_PROTO_NO_OFFSET ? (int64_t) -1
                                              : (int64_t) ev->offset,
             ev->message != NULL ? ev->message : "");
    complete(c, 0, why);
}

/* Binary replies through the protocol decoder.  Returns -1 if the
 * connection had to be closed. */
static int take_binary(struct conn *c, const uint8_t *in, size_t len)
{
    struct bs_proto_event ev;
    size_t used;
    char buf[256];

    /* An event may consume no bytes (an END after the last DATA), so
     * decode until the decoder asks for input, even with len 0. */
    for (;;) {
        used = bs_proto_decode(&c->dec, in, len, &ev);
        in += used;
        len -= used;
        if (ev.type == BS_PROTO_EV_NONE) {
            break; /* all consumed */
        }
        if (c->rcount == 0 || ev.type == BS_PROTO_EV_FATAL) {
            snprintf(buf, sizeof(buf), "%s: %u %s: %s",
                     c->rcount == 0 ? "reply without a request"
                                    : "bad reply framing",
                     ev.code, bs_proto_code_name(ev.code),
                     ev.message != NULL ? ev.message : "");
            if (c->rcount > 0) {
                complete(c, 0, buf);
            }
            conn_fail(c, BS_BENCH_F_LOST, buf);
            return -1;
        }
        switch (ev.type) {
        case BS_PROTO_EV_BEGIN:
            break;
        case BS_PROTO_EV_DATA:
            on_data(c, ev.data, ev.nbits);
            break;
        case BS_PROTO_EV_END:
            on_end(c);
            break;
        case BS_PROTO_EV_ERROR:
            on_error(c, &ev);
            break;
        case BS_PROTO_EV_NONE:
        case BS_PROTO_EV_FATAL:
            break;
        }
    }
    return 0;
}

/* Text replies: the bytes must equal the expected line; for an expected
 * error, its start, then anything up to the LF. */
static int take_text(struct conn *c, const uint8_t *in, size_t len)
{
    const struct bs_bench_pool *p = c->pool;
    const struct bs_bench_msg *m;
    const uint8_t *lf;
    size_t n;
    char why[160];

    while (len > 0) {
        if (c->rcount == 0) {
            conn_fail(c, BS_BENCH_F_LOST, "text reply without a request");
            return -1;
        }
        m = &p->msg[c->ring[c->rhead].idx];
        if (c->tskip) {
            lf = memchr(in, '\n', len);
            if (lf == NULL) {
                return 0;
            }
            len -= (size_t) (lf + 1 - in);
            in = lf + 1;
            if (c->bad) {
                snprintf(why, sizeof(why),
                         "text reply differs from '%.*s' at byte %zu",
                         (int) (m->reply_len < 60 ? m->reply_len - 1 : 60),
                         m->reply, c->tpos);
                complete(c, 0, why);
            } else {
                complete(c, 1, NULL);
            }
            continue;
        }
        n = m->reply_len - c->tpos;
        if (n > len) {
            n = len;
        }
        if (memcmp(in, m->reply + c->tpos, n) != 0) {
            while (n > 0 && in[0] == (uint8_t) m->reply[c->tpos]) {
                in++; /* find the first differing byte, for the report */
                len--;
                n--;
                c->tpos++;
            }
            c->bad = 1;
            c->tskip = 1;
            continue;
        }
        in += n;
        len -= n;
        c->tpos += n;
        if (c->tpos == m->reply_len) {
            if (m->expect == BS_OK) {
                complete(c, 1, NULL);
            } else {
                c->tskip = 1;
            }
        }
    }
    return 0;
}

/* Read and check everything available.  Returns -1 if the connection was
 * closed. */
static int receive(struct conn *c)
{
    size_t n = 0;
    char buf[256];

    for (;;) {
        switch (bs_tls_read(c->tls, c->rbuf, c->rcap, &n)) {
        case BS_TLS_OK:
            c->t_progress = now_ns();
            if ((c->w->sh->o->text ? take_text(c, c->rbuf, n)
                                   : take_binary(c, c->rbuf, n)) != 0)
            {
                return -1;
            }
            break;
        case BS_TLS_WANT_READ:
        case BS_TLS_WANT_WRITE:
            return 0; /* bs_tls_conn_wants says which */
        case BS_TLS_EOF:
            conn_fail(c, BS_BENCH_F_LOST, "the server closed the connection");
            return -1;
        case BS_TLS_ERR:
            snprintf(buf, sizeof(buf), "TLS read: %s",
                     bs_tls_conn_error(c->tls));
            conn_fail(c, BS_BENCH_F_LOST, buf);
            return -1;
        }
    }
}

/* A ready connection: read replies, then send what may be sent. */
static void service(struct conn *c)
{
    uint64_t now = now_ns();

    if (receive(c) != 0) {
        return;
    }
    if (c->w->sh->o->new_conn && !c->idle && c->rcount == 0 && !c->reserved) {
        conn_close(c, 1); /* its one request is answered */
        return;
    }
    if (send_some(c, now) != 0) {
        return;
    }
    /* Replies may always come; writability when TLS waits for it or a
     * round left more to send. */
    set_events(c, EPOLLIN | epoll_events(bs_tls_conn_wants(c->tls)) |
                      (c->out_more ? EPOLLOUT : 0u));
}

static void handle(struct conn *c, uint32_t ev)
{
    if (c->tls != NULL && (c->state == C_HANDSHAKE || c->state == C_READY)) {
        bs_tls_conn_events(c->tls, tls_events(ev));
    }
    switch (c->state) {
    case C_CONNECTING:
        conn_connected(c);
        if (c->state == C_READY) {
            service(c);
        }
        break;
    case C_HANDSHAKE:
        conn_handshake(c);
        if (c->state == C_READY) {
            service(c);
        }
        break;
    case C_READY:
        service(c);
        break;
    case C_FREE:
    case C_CLOSED:
        break;
    }
}

/* ------------------------------------------------------------------ */
/* The loop */

/* Fail connections without progress for --timeout. */
static void scan_timeouts(struct worker *w, uint64_t now)
{
    uint64_t limit = (uint64_t) w->sh->o->timeout_ms * 1000000u;
    size_t i, n = w->nactive + w->nidle;
    char buf[128];

    if (now - w->last_scan < 100000000u) {
        return;
    }
    w->last_scan = now;
    for (i = 0; i < n; i++) {
        struct conn *c = &w->conns[i];
        int busy = c->state == C_CONNECTING || c->state == C_HANDSHAKE ||
                   (c->state == C_READY && (c->rcount > 0 || c->reserved));

        if (!busy || now - c->t_progress < limit) {
            continue;
        }
        snprintf(buf, sizeof(buf), "no progress for %u ms while %s",
                 w->sh->o->timeout_ms,
                 c->state == C_CONNECTING  ? "connecting"
                 : c->state == C_HANDSHAKE ? "in the TLS handshake"
                                           : "awaiting a reply");
        conn_fail(c,
                  c->state == C_CONNECTING  ? BS_BENCH_F_CONNECT
                  : c->state == C_HANDSHAKE ? BS_BENCH_F_HANDSHAKE
                                            : BS_BENCH_F_TIMEOUT,
                  buf);
    }
}

/* Open more connections, within MAX_OPENING at a time. */
static void open_more(struct worker *w, uint64_t now)
{
    size_t i, n = w->nactive + w->nidle;

    if (w->phase == PH_CONNECT) {
        while (w->next_open < n && w->opening < MAX_OPENING) {
            struct conn *c = &w->conns[w->next_open++];

            if (w->sh->o->new_conn && !c->idle) {
                continue; /* these open per request */
            }
            conn_open(c);
        }
        return;
    }
    if (w->phase != PH_RUN || !w->sh->o->new_conn) {
        return;
    }
    for (i = 0; i < w->nactive && w->opening < MAX_OPENING; i++) {
        struct conn *c = &w->conns[i];

        if ((c->state == C_FREE || c->state == C_CLOSED) &&
            w->issued < w->quota && (w->deadline == 0 || now < w->deadline))
        {
            w->issued++;
            c->reserved = 1;
            w->reserved_n++;
            conn_open(c);
        }
    }
}

/* Is the current phase finished for this thread? */
static int phase_done(struct worker *w)
{
    switch (w->phase) {
    case PH_CONNECT:
        return w->opening == 0 && w->next_open >= w->nactive + w->nidle;
    case PH_RUN:
        if (w->opening > 0 || w->inflight > 0 || w->reserved_n > 0) {
            return 0;
        }
        if (w->issued < w->quota &&
            (w->deadline == 0 || now_ns() < w->deadline)) {
            /* requests are left: done only if no connection can take
             * them */
            return w->ready_active == 0 && !w->sh->o->new_conn;
        }
        return 1;
    case PH_IDLE_CHECK:
        return w->idle_inflight == 0;
    }
    return 1;
}

static void run_phase(struct worker *w, enum phase ph)
{
    struct epoll_event evs[256];
    size_t i, n = w->nactive + w->nidle;
    int k, j;

    w->phase = ph;
    /* kick every ready connection into the new phase */
    for (i = 0; i < n; i++) {
        if (w->conns[i].state == C_READY) {
            w->conns[i].t_progress = now_ns();
            service(&w->conns[i]);
        }
    }
    for (;;) {
        uint64_t now = now_ns();

        open_more(w, now);
        if (phase_done(w)) {
            return;
        }
        k = epoll_wait(w->ep, evs, 256, 50);
        if (k == -1 && errno != EINTR) {
            snprintf(w->err, sizeof(w->err), "epoll_wait: %s", strerror(errno));
            return;
        }
        for (j = 0; j < k; j++) {
            handle(evs[j].data.ptr, evs[j].events);
        }
        scan_timeouts(w, now_ns());
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    size_t i, n = w->nactive + w->nidle;
    uint64_t left;

    run_phase(w, PH_CONNECT);
    gate_wait(w->sh->gate);
    w->t_begin = now_ns();
    if (w->sh->o->duration_ms > 0) {
        w->deadline = w->t_begin + w->sh->o->duration_ms * 1000000u;
    }
    run_phase(w, PH_RUN);
    w->t_end = now_ns();
    if (w->quota != UINT64_MAX && w->issued < w->quota &&
        (w->deadline == 0 || w->t_end < w->deadline))
    {
        left = w->quota - w->issued;
        note(w, BS_BENCH_F_UNSENT, left,
             "%" PRIu64 " request(s) never sent: every connection of thread "
             "%u failed",
             left, w->id);
    }
    gate_wait(w->sh->gate);
    if (w->nidle > 0) {
        run_phase(w, PH_IDLE_CHECK);
        for (i = w->nactive; i < n; i++) {
            if (w->conns[i].state != C_READY) {
                continue;
            }
            if (!w->conns[i].idle_sent) {
                note(w, BS_BENCH_F_IDLE, 1, "idle connection never checked");
            }
        }
    }
    for (i = 0; i < n; i++) {
        if (w->conns[i].state == C_READY) {
            conn_close(&w->conns[i], 1);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Set-up */

static int setup_shared(struct shared *sh, const struct bs_bench_opts *o,
                        char *host, size_t hostlen, char *err, size_t errlen)
{
    char port[16], ca_path[BS_CERTPATH_MAX], ca_note[2048];
    struct bs_net_addr addrs[4];
    size_t n = 0;
    struct bs_tls_client_config tc = {
        .ca_file = o->ca_file,
        .cert_file = o->cert_file,
        .key_file = o->key_file,
        .min_version = o->min_tls,
        .insecure = o->insecure,
        .keylog_file = NULL,
        /* the bench takes the client's TLS options: its advice fits */
        .advice = bs_cli_tls_advice,
    };
    int rc;

    /* no --ca-file: the client's default (certpath.h), else the system's
     * CAs */
    if (tc.ca_file == NULL &&
        bs_certpath_find_default(BS_CERTPATH_CA, ca_path, sizeof ca_path,
                                 ca_note, sizeof ca_note) == 0)
    {
        tc.ca_file = ca_path;
    }
    rc = bs_net_split_hostport(o->connect, NULL, host, hostlen, port,
                               sizeof(port), err, errlen);
    if (rc != 0) {
        return -1;
    }
    rc = bs_net_resolve(host[0] != '\0' ? host : BS_NET_DEFAULT_HOST, port, 0,
                        addrs, 4, &n, err, errlen);
    if (rc != 0) {
        return -1;
    }
    sh->addr = addrs[0];
    sh->servername = o->servername != NULL ? o->servername
                     : host[0] != '\0'     ? host
                                           : BS_NET_DEFAULT_HOST;
    sh->ctx = bs_tls_ctx_new_client(&tc, err, errlen);
    if (sh->ctx == NULL) {
        return -1;
    }
    return 0;
}

static void raise_fd_limit(size_t want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) {
        return;
    }
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    (void) setrlimit(RLIMIT_NOFILE, &rl);
}

static unsigned choose_threads(const struct bs_bench_opts *o)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    if (o->threads > 0) {
        return o->threads;
    }
    if (o->connections + o->idle < 4 || cpus < 2) {
        return 1;
    }
    return 2;
}

static void merge(struct bs_bench_result *r, const struct worker *w)
{
    unsigned i;

    r->ok += w->r.ok;
    r->bad_replies += w->r.bad_replies;
    for (i = 0; i < BS_BENCH_F_COUNT; i++) {
        r->fail[i] += w->r.fail[i];
        if (r->first[i][0] == '\0') {
            memcpy(r->first[i], w->r.first[i], sizeof(r->first[i]));
        }
    }
    r->handshakes += w->r.handshakes;
    r->resumed += w->r.resumed;
    r->idle_ok += w->r.idle_ok;
    r->payload_bits += w->r.payload_bits;
    if (r->tls_version[0] == '\0') {
        memcpy(r->tls_version, w->r.tls_version, sizeof(r->tls_version));
        memcpy(r->tls_cipher, w->r.tls_cipher, sizeof(r->tls_cipher));
    }
    bs_bench_hist_merge(&r->lat, &w->r.lat);
}

/* Bytes of the largest request of a pool on the wire. */
static size_t pool_wire_max(const struct bs_bench_pool *p, int text)
{
    if (text) {
        return p->max_line;
    }
    return p->max_in_bytes +
           BS_PROTO_HDR_LEN *
               (p->max_in_bytes * 8 / BS_PROTO_MAX_CHUNK_BITS + 1);
}

/* Distinct messages in the pool: --pool, but within about 256 MiB. */
static size_t pool_count(const struct bs_bench_opts *o)
{
    size_t per = (size_t) (o->max_bits / 8) * 3 + 64;
    size_t most = (size_t) 268435456 / per;

    if (most == 0) {
        most = 1;
    }
    return o->pool < most ? o->pool : most;
}

static int make_pools(const struct bs_bench_opts *o, struct shared *sh,
                      struct bs_bench_pool *pool,
                      struct bs_bench_pool *idle_pool, char *err, size_t errlen)
{
    struct bs_bench_pool_config pc = {
        .count = pool_count(o),
        .min_bits = o->min_bits,
        .max_bits = o->max_bits,
        .op = o->op,
        .rule = o->rule,
        .errors = o->errors,
        .text = o->text,
        .seed = o->seed,
    };
    size_t one, want;

    if (o->max_bits <= BS_BENCH_POOL_MAX_BITS) {
        if (bs_bench_pool_build(pool, &pc, err, errlen) != 0) {
            return -1;
        }
        sh->pool = pool;
        one = pool_wire_max(pool, o->text);
        want = one * o->pipeline;
        sh->wcap = want < WBUF_TARGET ? want : WBUF_TARGET;
        if (sh->wcap < one) {
            sh->wcap = one;
        }
    } else {
        sh->wcap = BS_PROTO_HDR_LEN + BS_BENCH_GEN_CHUNK;
    }
    if (o->idle > 0) {
        /* idle connections check in with small valid messages */
        pc.count = 16;
        pc.min_bits = pc.max_bits = 64;
        pc.errors = 0;
        pc.seed = o->seed + 1;
        if (bs_bench_pool_build(idle_pool, &pc, err, errlen) != 0) {
            return -1;
        }
        sh->idle_pool = idle_pool;
        sh->wcap_idle = pool_wire_max(idle_pool, o->text) * o->pipeline;
    }
    return 0;
}

static int make_workers(struct worker *ws, unsigned nt, struct shared *sh,
                        char *err, size_t errlen)
{
    const struct bs_bench_opts *o = sh->o;
    size_t i, total = o->connections + (size_t) o->idle;
    unsigned t;

    for (t = 0; t < nt; t++) {
        struct worker *w = &ws[t];
        size_t na = o->connections / nt + (t < o->connections % nt);
        size_t ni = o->idle / nt + (t < o->idle % nt);

        w->sh = sh;
        w->id = t;
        w->nactive = na;
        w->nidle = ni;
        if (o->requests == 0) {
            w->quota = UINT64_MAX;
        } else {
            /* share the requests in proportion to the connections; the
             * connections are dealt round-robin */
            w->quota = o->requests / o->connections * na;
            for (i = 0; i < na; i++) {
                w->quota += t + i * nt < o->requests % o->connections;
            }
        }
        w->cursor = sh->pool != NULL ? (size_t) t * sh->pool->count / nt : 0;
        bs_bench_rng_seed(&w->rng, o->seed * 0x9E3779B97F4A7C15ull + t);
        bs_bench_hist_init(&w->r.lat);
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->conns = calloc(na + ni, sizeof(*w->conns));
        if (w->ep == -1 || w->conns == NULL) {
            snprintf(err, errlen, "thread set-up: %s",
                     w->ep == -1 ? strerror(errno) : "out of memory");
            return -1;
        }
        for (i = 0; i < na + ni; i++) {
            w->conns[i].w = w;
            if (conn_alloc(&w->conns[i], sh, i >= na) != 0) {
                snprintf(err, errlen,
                         "out of memory for %zu connections' buffers", total);
                return -1;
            }
        }
    }
    return 0;
}

int bs_bench_run(const struct bs_bench_opts *o, struct bs_bench_result *r,
                 char *err, size_t errlen)
{
    struct shared sh;
    struct gate gate;
    struct bs_bench_pool pool, idle_pool;
    struct worker *ws = NULL;
    char host[256];
    unsigned t, nt = choose_threads(o), started = 0;
    size_t i, total = o->connections + (size_t) o->idle;
    uint64_t conn_start, min_begin = UINT64_MAX, max_end = 0;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    memset(&sh, 0, sizeof(sh));
    memset(&pool, 0, sizeof(pool));
    memset(&idle_pool, 0, sizeof(idle_pool));
    bs_bench_hist_init(&r->lat);
    sh.o = o;
    if (nt > o->connections) {
        nt = o->connections; /* every thread gets active connections */
    }
    r->threads = nt;
    raise_fd_limit(total + 64);

    if (make_pools(o, &sh, &pool, &idle_pool, err, errlen) != 0 ||
        setup_shared(&sh, o, host, sizeof(host), err, errlen) != 0)
    {
        goto out;
    }
    r->pool_count = pool.count;
    ws = calloc(nt, sizeof(*ws));
    if (ws == NULL) {
        snprintf(err, errlen, "out of memory for %u threads", nt);
        goto out;
    }
    for (t = 0; t < nt; t++) {
        ws[t].ep = -1;
    }
    if (make_workers(ws, nt, &sh, err, errlen) != 0) {
        goto out;
    }
    pthread_mutex_init(&gate.mu, NULL);
    pthread_cond_init(&gate.cv, NULL);
    gate.count = nt;
    gate.waiting = 0;
    gate.gen = 0;
    sh.gate = &gate;
    conn_start = now_ns();
    for (t = 0; t < nt; t++) {
        if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t]) != 0) {
            gate_drop(&gate, nt - t);
            break;
        }
        started++;
    }
    for (t = 0; t < started; t++) {
        pthread_join(ws[t].thread, NULL);
    }
    pthread_cond_destroy(&gate.cv);
    pthread_mutex_destroy(&gate.mu);
    for (t = 0; t < nt; t++) {
        if (t >= started) {
            snprintf(ws[t].r.first[BS_BENCH_F_UNSENT], sizeof(ws[t].r.first[0]),
                     "thread %u could not start: its requests were not sent",
                     t);
            ws[t].r.fail[BS_BENCH_F_UNSENT] =
                ws[t].quota == UINT64_MAX ? 0 : ws[t].quota;
            continue;
        }
        if (ws[t].t_begin < min_begin) {
            min_begin = ws[t].t_begin;
        }
        if (ws[t].t_end > max_end) {
            max_end = ws[t].t_end;
        }
        if (ws[t].err[0] != '\0') {
            snprintf(err, errlen, "%s", ws[t].err);
            goto out;
        }
    }
    for (t = 0; t < nt; t++) {
        merge(r, &ws[t]);
    }
    if (started > 0) {
        r->connect_secs = (double) (min_begin - conn_start) / 1e9;
        r->secs = (double) (max_end - min_begin) / 1e9;
    }
    r->connected = o->new_conn ? 0u : (unsigned) r->handshakes;
    rc = 0;

out:
    for (t = 0; ws != NULL && t < nt; t++) {
        for (i = 0; ws[t].conns != NULL && i < ws[t].nactive + ws[t].nidle; i++)
        {
            conn_free(&ws[t].conns[i]);
        }
        free(ws[t].conns);
        if (ws[t].ep >= 0) {
            close(ws[t].ep);
        }
    }
    free(ws);
    bs_tls_ctx_free(sh.ctx);
    bs_bench_pool_free(&pool);
    bs_bench_pool_free(&idle_pool);
    return rc;
}
