/*
 * server.c - bitstuffd's workers: their threads and loops, accepting,
 * certificate reload and stopping; see server.h.  Each connection's life
 * is conn.c's; waiting for events is loop.c's.
 */
#include "server.h"

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

#include "conn.h"
#include "iplimit.h"
#include "log.h"
#include "loop.h"
#include "net.h"
#include "timer.h"

#define ACCEPT_BATCH      64
#define ACCEPT_BACKOFF_MS 100u
#define LOG_INTERVAL_MS   1000u
#define MAX_LISTEN        64
/* Lines about single connections: each kind (bs_conn_log's what) may log
 * LOG_BURST lines per LOG_WINDOW_MS, the rest are counted (issue 9). */
#define LOG_BURST     50u
#define LOG_WINDOW_MS 10000u
#define LOG_FLUSH_MS  1000u /* at exit, for lines still queued */

struct worker;

/* A listening socket as one worker's loop sees it. */
struct listener {
    struct bs_loop_src src;
    struct worker *w;
};

struct worker {
    struct bs_server *srv;
    pthread_t thread;
    int started;
    int loop_ok; /* loop is initialised */
    struct bs_loop loop;
    struct bs_conns conns;
    struct listener lsrc[MAX_LISTEN];
    struct bs_loop_src stop_src;
    int accepting, stopping;
    uint64_t accept_resume, drain_deadline;
    uint64_t refused, refused_logged_at, accept_err_logged_at;
    size_t trim_peak; /* most connections since memory was last trimmed */
};

struct bs_server {
    struct bs_server_config cfg; /* cfg.tls: guarded by tls_lock */
    pthread_mutex_t tls_lock;
    int stop_fd, done_fd;
    atomic_uint nconns;
    atomic_uint running;
    unsigned nworkers;
    struct worker *workers;
    struct bs_log *log;         /* never blocks a worker; see log.h */
    struct bs_cidr *proxy_from; /* cfg.proxy_from's copy */
    struct bs_iplimit *per_ip;  /* NULL: no per-address limit */
};

/* A new connection: its TLS connection with the context in force, then
 * the connection.  It takes its own reference to the context, so a
 * reload (bs_server_set_tls) may replace it at any moment; only accepts
 * take the lock, never the request path.  TCP_NODELAY came with the
 * socket from the listener (bs_net_listen): replies are coalesced. */
static void conn_open(struct worker *w, int fd, const struct bs_net_addr *peer)
{
    struct bs_server *s = w->srv;
    char addr[BS_NET_ADDRSTRLEN];
    char err[256];
    struct bs_tls_conn *tls;

    bs_net_addr_str(peer, addr, sizeof addr);
    pthread_mutex_lock(&s->tls_lock);
    tls = bs_tls_conn_new(s->cfg.tls, fd, NULL, err, sizeof err);
    pthread_mutex_unlock(&s->tls_lock);
    if (tls == NULL) {
        bs_conn_log(s->log, addr, "cannot start TLS", err);
        close(fd);
        atomic_fetch_sub(&s->nconns, 1);
        return;
    }
    bs_conn_open(&w->conns, fd, tls, peer);
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
        char why[128];
        if (bs_loop_add(&w->loop, &w->lsrc[i].src, BS_LOOP_ACCEPT, why,
                        sizeof why) != 0)
        {
            char name[BS_NET_ADDRSTRLEN];
            listener_name(w->lsrc[i].src.fd, name, sizeof name);
            snprintf(err, errlen,
                     "cannot watch the listening socket on %s for new "
                     "connections (%s)",
                     name, why);
            while (i-- > 0) {
                bs_loop_del(&w->loop, &w->lsrc[i].src);
            }
            w->accepting = 0;
            return -1;
        }
    }
    for (size_t i = 0; !on && i < w->srv->cfg.nlisten; i++) {
        bs_loop_del(&w->loop, &w->lsrc[i].src);
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
    w->accept_resume = w->loop.now + ACCEPT_BACKOFF_MS;
    if (w->loop.now - w->accept_err_logged_at >= LOG_INTERVAL_MS) {
        w->accept_err_logged_at = w->loop.now;
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
            if (w->loop.now - w->accept_err_logged_at >= LOG_INTERVAL_MS) {
                w->accept_err_logged_at = w->loop.now;
                bs_log_put(w->srv->log, BS_LOG_ERR,
                           "bitstuffd: accept: %s; pausing accepts for "
                           "%u ms (raise 'ulimit -n' or lower --max-conns)",
                           strerror(-r), ACCEPT_BACKOFF_MS);
            }
            listeners_watch(w, 0, NULL, 0);
            w->accept_resume = w->loop.now + ACCEPT_BACKOFF_MS;
            return;
        }
        if (r < 0) {
            continue; /* ECONNABORTED and friends: that client is gone */
        }
        if (atomic_fetch_add(&s->nconns, 1) >= s->cfg.max_conns) {
            atomic_fetch_sub(&s->nconns, 1);
            close(fd);
            w->refused++;
            if (w->loop.now - w->refused_logged_at >= LOG_INTERVAL_MS) {
                char addr[BS_NET_ADDRSTRLEN];
                bs_net_addr_str(&peer, addr, sizeof addr);
                bs_log_msg(w->srv->log, BS_LOG_LVL_WARNING,
                           "bitstuffd: at --max-conns %u: refused %llu "
                           "connection(s) since the last report, latest "
                           "from %s",
                           s->cfg.max_conns, (unsigned long long) w->refused,
                           addr);
                w->refused_logged_at = w->loop.now;
                w->refused = 0;
            }
            continue;
        }
        conn_open(w, fd, &peer);
    }
}

static void on_listen(struct bs_loop_src *src, unsigned events)
{
    struct listener *l = (struct listener *) (void *) src;

    (void) events;
    if (l->w->accepting) {
        accept_batch(l->w, src->fd);
    }
}

static void begin_stop(struct worker *w)
{
    w->stopping = 1;
    w->drain_deadline = w->loop.now + BS_SERVER_DRAIN_MS;
    if (w->accepting) {
        listeners_watch(w, 0, NULL, 0);
    }
    bs_loop_del(&w->loop, &w->stop_src);
    bs_conns_drain(&w->conns);
}

static void on_stop(struct bs_loop_src *src, unsigned events)
{
    struct worker *w = BS_CONTAINER(src, struct worker, stop_src);

    (void) events;
    if (!w->stopping) {
        begin_stop(w);
    }
}

static void run_timers(struct worker *w)
{
    bs_conns_run_timers(&w->conns);
    if (!w->accepting && !w->stopping && w->loop.now >= w->accept_resume) {
        listeners_resume(w);
    }
    if (w->stopping && w->loop.now >= w->drain_deadline) {
        if (w->conns.nlive > 0) {
            bs_log_msg(w->srv->log, BS_LOG_LVL_WARNING,
                       "bitstuffd: drain timeout: closing %zu connection(s) "
                       "still busy",
                       w->conns.nlive);
        }
        bs_conns_close_all(&w->conns);
    }
}

static uint64_t next_deadline(const struct worker *w)
{
    uint64_t d = bs_conns_next_deadline(&w->conns);

    if (!w->accepting && !w->stopping && w->accept_resume < d) {
        d = w->accept_resume;
    }
    if (w->stopping && w->drain_deadline < d) {
        d = w->drain_deadline;
    }
    return d;
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
    if (w->conns.nlive > w->trim_peak) {
        w->trim_peak = w->conns.nlive;
        return;
    }
    if (w->trim_peak - w->conns.nlive >= TRIM_MIN_FALL &&
        w->conns.nlive <= w->trim_peak / 2)
    {
        (void) malloc_trim(0);
        w->trim_peak = w->conns.nlive;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct bs_server *s = w->srv;
    char err[256];

    for (;;) {
        bs_loop_tick(&w->loop);
        if (w->stopping && w->conns.nlive == 0) {
            break;
        }
        if (bs_loop_poll(&w->loop, next_deadline(w), err, sizeof err) != 0) {
            bs_log_put(w->srv->log, BS_LOG_ERR,
                       "bitstuffd: %s; worker stopping", err);
            break;
        }
        bs_loop_run_ready(&w->loop);
        run_timers(w);
        bs_conns_end_turn(&w->conns);
        give_back_memory(w);
    }
    bs_conns_close_all(&w->conns);
    bs_conns_end_turn(&w->conns);
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
    bs_conns_destroy(&w->conns);
    if (w->loop_ok) {
        bs_loop_destroy(&w->loop);
    }
}

static int worker_init(struct bs_server *s, struct worker *w, char *err,
                       size_t errlen)
{
    const struct bs_server_config *cfg = &s->cfg;
    struct bs_conns_config cc = {.cfg = cfg,
                                 .loop = &w->loop,
                                 .log = s->log,
                                 .nconns = &s->nconns,
                                 .per_ip = s->per_ip};
    char why[200];

    memset(w, 0, sizeof *w);
    w->srv = s;
    if (bs_loop_init(&w->loop, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot start a worker: %s", why);
        return -1;
    }
    w->loop_ok = 1;
    if (bs_conns_init(&w->conns, &cc, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot start a worker: %s", why);
        return -1;
    }
    for (size_t i = 0; i < cfg->nlisten; i++) {
        w->lsrc[i].src.fd = cfg->listen_fds[i];
        w->lsrc[i].src.on_event = on_listen;
        bs_loop_src_init(&w->lsrc[i].src);
        w->lsrc[i].w = w;
    }
    w->stop_src.fd = s->stop_fd;
    w->stop_src.on_event = on_stop;
    bs_loop_src_init(&w->stop_src);
    /* Level-triggered and never read: once written, every worker sees it. */
    if (bs_loop_add(&w->loop, &w->stop_src, BS_LOOP_LEVEL, why, sizeof why) !=
        0) {
        snprintf(err, errlen, "cannot start a worker: %s", why);
        return -1;
    }
    if (listeners_watch(w, 1, err, errlen) != 0) {
        return -1;
    }
    return 0;
}

/* The PROXY protocol's trusted ranges (the server's own copy) and the
 * per-address count, which every worker shares (iplimit.h says why). */
static int server_limits_init(struct bs_server *s, char *err, size_t errlen)
{
    const struct bs_server_config *cfg = &s->cfg;

    if (cfg->nproxy_from > 0) {
        s->proxy_from = calloc(cfg->nproxy_from, sizeof *s->proxy_from);
        if (s->proxy_from == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        memcpy(s->proxy_from, cfg->proxy_from,
               cfg->nproxy_from * sizeof *s->proxy_from);
    }
    s->cfg.proxy_from = s->proxy_from; /* the caller's may go now */
    if (cfg->max_conns_per_ip > 0) {
        s->per_ip = bs_iplimit_new(cfg->max_conns_per_ip, cfg->max_conns / 4);
        if (s->per_ip == NULL) {
            snprintf(err, errlen, "out of memory for the per-address count");
            return -1;
        }
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
                               .flush_ms = LOG_FLUSH_MS,
                               .level = cfg->log_level,
                               .format = cfg->log_format,
                               .decor = cfg->log_decor};
    s->log = bs_log_new(&lc, err, errlen);
    if (s->log == NULL || server_limits_init(s, err, errlen) != 0) {
        goto fail;
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
    bs_iplimit_free(s->per_ip);
    free(s->proxy_from);
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
