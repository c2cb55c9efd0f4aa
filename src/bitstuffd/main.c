/*
 * main.c - bitstuffd: the TLS bit-stuffing server.
 *
 * Parses the options, loads the certificate (so a bad file fails at
 * once, with its name), opens the listening sockets, starts the workers
 * (server.c) and turns SIGINT/SIGTERM into a graceful stop.  Signals are
 * blocked in every thread and read from a signalfd here, so no handler
 * runs and no state is shared with one.
 */
#include <netinet/in.h>
#include <sys/poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "advice.h"
#include "certpath.h"
#include "explain.h"
#include "fsperm.h"
#include "log.h"
#include "net.h"
#include "opts.h"
#include "proto.h"
#include "server.h"
#include "sysd.h"
#include "tls.h"

#define MAX_FDS 64
#define BACKLOG 511

struct listeners {
    int fd[MAX_FDS];
    size_t n;
};

static void listeners_close(struct listeners *l)
{
    for (size_t i = 0; i < l->n; i++) {
        close(l->fd[i]);
    }
    l->n = 0;
}

static void set_port(struct bs_net_addr *a, unsigned short port_be)
{
    if (a->ss.ss_family == AF_INET) {
        ((struct sockaddr_in *) (void *) &a->ss)->sin_port = port_be;
    } else if (a->ss.ss_family == AF_INET6) {
        ((struct sockaddr_in6 *) (void *) &a->ss)->sin6_port = port_be;
    }
}

static unsigned short get_port(const struct bs_net_addr *a)
{
    if (a->ss.ss_family == AF_INET) {
        return ((const struct sockaddr_in *) (const void *) &a->ss)->sin_port;
    }
    return ((const struct sockaddr_in6 *) (const void *) &a->ss)->sin6_port;
}

static const char *addrinuse_advice(int r, unsigned flags)
{
    if (r != -EADDRINUSE) {
        return "";
    }
    if (flags & BS_NET_LISTEN_REUSEPORT) {
        return "; another program holds it without SO_REUSEPORT or as "
               "another user (a server that is to share the port must be "
               "started with --reuse-port too, by the same user)";
    }
    return "; is another server running? pick another port with --listen";
}

/*
 * --reuse-port: once stopping, take the listening sockets out of the
 * port's group at once, so that the kernel sends every new connection to
 * the server that replaces this one.  shutdown(), not close(): the
 * workers may still hold the descriptor.  What waits in their accept
 * queues at that instant is reset by the kernel (unless
 * net.ipv4.tcp_migrate_req=1): docs/DEPLOY.md has the measured loss.
 */
static void listeners_release(const struct listeners *l)
{
    for (size_t i = 0; i < l->n; i++) {
        int on = 0;
        socklen_t len = sizeof on;
        /* only the sockets we made with SO_REUSEPORT: one handed over
         * by a socket unit belongs to systemd, and must outlive us */
        if (getsockopt(l->fd[i], SOL_SOCKET, SO_REUSEPORT, &on, &len) == 0 &&
            on) {
            (void) shutdown(l->fd[i], SHUT_RD);
        }
    }
}

/* Open every address spec resolves to.  An address family the machine
 * lacks (no IPv6) is skipped when another address of the spec works. */
static int listen_spec(const char *spec, unsigned flags, struct listeners *l,
                       char *err, size_t errlen)
{
    char host[256], port[32], addr[BS_NET_ADDRSTRLEN];
    struct bs_net_addr addrs[8];
    size_t n = 0, opened = 0;
    unsigned short chosen = 0;
    int r, port_zero;

    r = bs_net_split_hostport(spec, BS_OPTS_DEFAULT_PORT, host, sizeof host,
                              port, sizeof port, err, errlen);
    if (r != 0) {
        return -1;
    }
    if (strcasecmp(host, "localhost") == 0) {
        /* Loopback in both families, whatever /etc/hosts says (many map
         * localhost to 127.0.0.1 only). */
        size_t n6 = 0;
        r = bs_net_resolve("127.0.0.1", port, 1, addrs, 1, &n, err, errlen);
        if (r == 0 &&
            bs_net_resolve("::1", port, 1, addrs + 1, 1, &n6, err, errlen) == 0)
        {
            n += n6;
        }
    } else {
        r = bs_net_resolve(host, port, 1, addrs, 8, &n, err, errlen);
    }
    if (r != 0) {
        return -1;
    }
    port_zero = strcmp(port, "0") == 0;
    for (size_t i = 0; i < n; i++) {
        int fd;
        if (l->n == MAX_FDS) {
            snprintf(err, errlen, "too many listening sockets (at most %d)",
                     MAX_FDS);
            return -1;
        }
        /* "localhost:0": give ::1 the free port 127.0.0.1 got, if we can */
        if (port_zero && chosen != 0) {
            set_port(&addrs[i], chosen);
        }
        r = bs_net_listen_flags(&addrs[i], BACKLOG, flags, &fd);
        if (r == -EADDRINUSE && port_zero && chosen != 0) {
            set_port(&addrs[i], 0);
            r = bs_net_listen_flags(&addrs[i], BACKLOG, flags, &fd);
        }
        bs_net_addr_str(&addrs[i], addr, sizeof addr);
        if (r == -EAFNOSUPPORT || r == -EADDRNOTAVAIL) {
            bs_log_line(2, "bitstuffd: warning: cannot listen on %s: %s", addr,
                        strerror(-r));
            continue;
        }
        if (r != 0) {
            snprintf(err, errlen, "cannot listen on %s (from '%s'): %s%s", addr,
                     spec, strerror(-r), addrinuse_advice(r, flags));
            return -1;
        }
        if (chosen == 0) {
            chosen = get_port(&addrs[i]);
        }
        l->fd[l->n++] = fd;
        opened++;
        printf("listening on %s\n", addr);
    }
    if (opened == 0) {
        snprintf(err, errlen, "cannot listen on any address of '%s'", spec);
        return -1;
    }
    return 0;
}

/* Each connection is a descriptor: use the whole hard limit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1) {
        return 1;
    }
    return n > BS_OPTS_MAX_THREADS ? BS_OPTS_MAX_THREADS : (unsigned) n;
}

/* StrictModes (fsperm.h): every key, certificate, CA and CRL file, and
 * the directories above them, at start and on each SIGHUP. */
static int check_file_modes(const struct bs_tls_server_config *tc, char *err,
                            size_t errlen)
{
    for (size_t i = 0; i <= tc->nmore; i++) {
        if (bs_fsperm_check(i == 0 ? tc->key_file : tc->more_key_files[i - 1],
                            "private key", BS_FSPERM_SECRET, err,
                            errlen) != 0 ||
            bs_fsperm_check(i == 0 ? tc->cert_file : tc->more_cert_files[i - 1],
                            "certificate file", BS_FSPERM_PUBLIC, err,
                            errlen) != 0)
        {
            return -1;
        }
    }
    if (bs_fsperm_check(tc->ca_file, "CA file", BS_FSPERM_PUBLIC, err,
                        errlen) != 0 ||
        bs_fsperm_check(tc->ticket_key_file, "ticket key file",
                        BS_FSPERM_SECRET, err, errlen) != 0 ||
        bs_fsperm_check(tc->crl_file, "CRL file", BS_FSPERM_PUBLIC, err,
                        errlen) != 0)
    {
        return -1;
    }
    return 0;
}

/* "0A1B..., 7C2D...": the serials of ctx's certificates, for the log. */
static void serials(const struct bs_tls_ctx *ctx, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < BS_TLS_MAX_CERTS && used + 1 < len; i++) {
        char one[80];
        bs_tls_ctx_cert_serial(ctx, i, one, sizeof one);
        if (one[0] == '\0') {
            break;
        }
        int n =
            snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", one);
        if (n < 0) {
            break;
        }
        used += (size_t) n;
    }
}

/* SIGHUP: load certificate, key and CA again into a new context for new
 * connections.  A file that does not load (or a key that does not match),
 * an unsafe file (StrictModes), or a new certificate that would fail
 * clients the old one served (bs_tls_ctx_check_renewal) is refused and
 * the context in force (*cur) stays: a bad rotation must never take the
 * service down. */
static void reload(struct bs_server *s, const struct bs_tls_server_config *tc,
                   int strict_modes, struct bs_tls_ctx **cur, char *note,
                   size_t notelen)
{
    char err[768], serial[256];
    struct bs_tls_ctx *ctx = NULL;

    if (strict_modes && check_file_modes(tc, err, sizeof err) != 0) {
        goto refused;
    }
    ctx = bs_tls_ctx_new_server(tc, err, sizeof err);
    if (ctx == NULL ||
        bs_tls_ctx_check_renewal(*cur, ctx, err, sizeof err) != 0) {
        goto refused;
    }
    bs_server_set_tls(s, ctx);
    bs_tls_ctx_free(*cur); /* the server holds its own reference */
    *cur = ctx;
    serials(ctx, serial, sizeof serial);
    bs_log_msg(bs_server_log(s), BS_LOG_LVL_INFO,
               "bitstuffd: SIGHUP: reloaded certificate %s (serial %s), key "
               "%s%s%s%s%s%s%s; new connections use them",
               tc->cert_file, serial, tc->key_file,
               tc->ca_file != NULL ? ", CA " : "",
               tc->ca_file != NULL ? tc->ca_file : "",
               tc->crl_file != NULL ? ", CRL " : "",
               tc->crl_file != NULL ? tc->crl_file : "",
               tc->ticket_key_file != NULL ? ", ticket keys " : "",
               tc->ticket_key_file != NULL ? tc->ticket_key_file : "");
    snprintf(note, notelen, "SIGHUP: reloaded certificate %s (serial %s)",
             tc->cert_file, serial);
    return;
refused:
    bs_tls_ctx_free(ctx);
    bs_log_msg(bs_server_log(s), BS_LOG_LVL_WARNING,
               "bitstuffd: SIGHUP: certificate reload refused, still "
               "serving with the previous certificate%s: %s",
               tc->ticket_key_file != NULL ? " and ticket keys" : "", err);
    snprintf(note, notelen,
             "SIGHUP: reload refused, kept the previous certificate: %s", err);
}

/* Wait for the workers, stopping them on the first SIGINT/SIGTERM; a
 * second one exits at once.  SIGHUP reloads the certificate. */
static int wait_loop(struct bs_server *s, int sigfd,
                     const struct bs_tls_server_config *tc, int strict_modes,
                     struct bs_tls_ctx **cur, struct bs_sysd *sd,
                     const struct listeners *release)
{
    int stopping = 0;

    for (;;) {
        struct pollfd p[2] = {{.fd = sigfd, .events = POLLIN},
                              {.fd = bs_server_done_fd(s), .events = POLLIN}};
        struct signalfd_siginfo si;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            bs_log_put(bs_server_log(s), BS_LOG_ERR, "bitstuffd: poll: %s",
                       strerror(errno));
            return -1;
        }
        if (p[1].revents & POLLIN) {
            return 0;
        }
        if (!(p[0].revents & POLLIN) ||
            read(sigfd, &si, sizeof si) != (ssize_t) sizeof si)
        {
            continue;
        }
        if (si.ssi_signo == SIGHUP) {
            if (!stopping) {
                char note[1024];
                bs_sysd_reloading(sd, bs_server_log(s));
                reload(s, tc, strict_modes, cur, note, sizeof note);
                bs_sysd_ready(sd, bs_server_log(s), note);
            }
            continue;
        }
        if (stopping) {
            struct pollfd ep = {.fd = STDERR_FILENO, .events = POLLOUT};
            if (poll(&ep, 1, 0) == 1 && (ep.revents & POLLOUT)) {
                bs_log_line(2, "bitstuffd: %s again: exiting at once",
                            strsignal((int) si.ssi_signo));
            }
            _exit(1);
        }
        stopping = 1;
        bs_sysd_stopping(sd, bs_server_log(s),
                         "stopping: answering the requests received, "
                         "accepting no new connection");
        /* Through the logger: a stalled stderr must not keep the server
         * from stopping (issue 9). */
        bs_log_msg(bs_server_log(s), BS_LOG_LVL_INFO,
                   "bitstuffd: %s: stopping; answering the requests "
                   "received (send it again to exit at once)",
                   strsignal((int) si.ssi_signo));
        bs_server_stop(s);
        if (release != NULL) {
            listeners_release(release);
        }
    }
}

/* The listening sockets: the ones a service manager passed (socket
 * activation), else one per address of each --listen.  Both at once is
 * refused: which addresses a service listens on must be said in one
 * place (the .socket unit's ListenStream= lines).  *activated is 1 for
 * passed sockets. */
static int open_listeners(const struct bs_opts *o, struct listeners *l,
                          int *activated, char *err, size_t errlen)
{
    int n = bs_sysd_inherit(l->fd, MAX_FDS, err, errlen);

    *activated = n > 0;
    if (n < 0) {
        return -1;
    }
    if (n > 0) {
        l->n = (size_t) n;
        if (!o->listen_default) {
            snprintf(err, errlen,
                     "--listen %s and socket activation (%d socket%s passed "
                     "in LISTEN_FDS) both given: with socket activation the "
                     "addresses come from the .socket unit's ListenStream= "
                     "lines; drop --listen",
                     o->listen[0], n, n == 1 ? "" : "s");
            return -1;
        }
        for (size_t i = 0; i < l->n; i++) {
            struct bs_net_addr a;
            char addr[BS_NET_ADDRSTRLEN];
            a.len = sizeof a.ss;
            if (getsockname(l->fd[i], (struct sockaddr *) &a.ss, &a.len) == 0) {
                bs_net_addr_str(&a, addr, sizeof addr);
                printf("listening on %s (socket activation, descriptor %d)\n",
                       addr, l->fd[i]);
            }
        }
        return 0;
    }
    for (size_t i = 0; i < o->nlisten; i++) {
        if (listen_spec(o->listen[i],
                        o->reuse_port ? BS_NET_LISTEN_REUSEPORT : 0u, l, err,
                        errlen) != 0)
        {
            return -1;
        }
    }
    return 0;
}

/* No --cert and no --key: the certificate and key from the first place
 * that has them (certpath.h), whatever the working directory.  An
 * explicit --cert or --key is used as given.  Which were found is logged
 * once the logger runs (log_found_certs), stamped and formatted as every
 * log line. */
static int default_certs(struct bs_opts *o, char *cert, char *key, size_t len,
                         char *err, size_t errlen)
{
    struct bs_certpath_dirs d;
    char why[2048];

    if (!o->cert_default) {
        return 0;
    }
    bs_certpath_default_dirs(&d);
    if (bs_certpath_find_pair(&d, BS_CERTPATH_SERVER_CERT,
                              BS_CERTPATH_SERVER_KEY, cert, key, len, why,
                              sizeof why) != 0)
    {
        snprintf(err, errlen,
                 "no certificate given and none found: %s; give --cert and "
                 "--key, or make a test set in certs with bitstuff-gen-certs "
                 "(scripts/gen-certs.sh in the source tree)",
                 why);
        return -1;
    }
    o->cert_files[0] = o->tls.cert_file = cert;
    o->key_files[0] = o->tls.key_file = key;
    return 0;
}

/* Where default_certs found the certificate, through the server's logger
 * (a plain stderr line would break --log-format json and journald). */
static void log_found_certs(struct bs_server *s, const struct bs_opts *o)
{
    if (o->cert_default) {
        bs_log_msg(bs_server_log(s), BS_LOG_LVL_INFO,
                   "bitstuffd: certificate %s, key %s", o->tls.cert_file,
                   o->tls.key_file);
    }
}

/* How the server logs: stamped lines, or priorities for journald when
 * systemd connected stderr to it (issue 12). */
static void log_options(struct bs_server_config *sc)
{
    sc->log_decor =
        bs_log_journal_stream(getenv("JOURNAL_STREAM"), STDERR_FILENO)
            ? BS_LOG_DECOR_JOURNAL
            : BS_LOG_DECOR_TIME;
}

int main(int argc, char **argv)
{
    struct bs_opts o;
    struct bs_server_config sc;
    struct bs_tls_ctx *ctx = NULL;
    struct bs_server *srv = NULL;
    struct listeners l = {.n = 0};
    struct sigaction sa;
    sigset_t set;
    struct bs_sysd sd = {.notify = {.fd = -1}};
    char cert[BS_CERTPATH_MAX], key[BS_CERTPATH_MAX];
    char err[2560];
    int sigfd = -1, status = 1, activated = 0;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN; /* a peer that vanishes must not kill us */
    sigaction(SIGPIPE, &sa, NULL);

    switch (bs_opts_parse(argc, argv, &o, err, sizeof err)) {
    case BS_OPTS_RUN:
        break;
    case BS_OPTS_HELP:
        bs_opts_usage(stdout, "bitstuffd");
        return 0;
    case BS_OPTS_VERSION:
        printf("bitstuffd %s (protocol %s)\n", BS_VERSION, BS_PROTO_ALPN);
        return 0;
    case BS_OPTS_LIST:
        bs_opts_list(stdout);
        return 0;
    case BS_OPTS_ERROR:
        fprintf(stderr, "bitstuffd: %s\n", err);
        return 1;
    }
    if (o.threads == 0) {
        o.threads = default_threads();
    }
    raise_fd_limit();
    if (bs_sysd_open(&sd, err, sizeof err) != 0) {
        fprintf(stderr, "bitstuffd: warning: %s\n", err);
    }
    if (default_certs(&o, cert, key, sizeof cert, err, sizeof err) != 0) {
        fprintf(stderr, "bitstuffd: %s\n", err);
        goto out;
    }

    o.tls.advice = bs_server_tls_advice;
    if (!o.strict_modes) {
        fprintf(stderr, "bitstuffd: warning: --no-strict-modes: key, "
                        "certificate and CA files are used whatever their "
                        "modes and owners\n");
    } else if (check_file_modes(&o.tls, err, sizeof err) != 0) {
        fprintf(stderr, "bitstuffd: %s (or pass --no-strict-modes)\n", err);
        goto out;
    }
    if (o.tls.keylog_file != NULL) {
        fprintf(stderr,
                "bitstuffd: WARNING: --keylog-file %s: the TLS secrets of "
                "every connection are written there; anyone who can read it "
                "can decrypt the traffic. For debugging only: never in "
                "production.\n",
                o.tls.keylog_file);
    }
    ctx = bs_tls_ctx_new_server(&o.tls, err, sizeof err);
    if (ctx == NULL) {
        fprintf(stderr, "bitstuffd: %s\n", err);
        goto out;
    }
    if (open_listeners(&o, &l, &activated, err, sizeof err) != 0) {
        fprintf(stderr, "bitstuffd: %s\n", err);
        goto out;
    }
    fflush(stdout); /* tests wait for "listening on" lines */

    /* Block the signals before the workers start, so they inherit it. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sigfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sigfd < 0) {
        fprintf(stderr, "bitstuffd: signalfd: %s\n", strerror(errno));
        goto out;
    }
    memset(&sc, 0, sizeof sc);
    sc.tls = ctx;
    sc.listen_fds = l.fd;
    sc.nlisten = l.n;
    sc.threads = o.threads;
    sc.max_conns = o.max_conns;
    sc.handshake_ms = o.handshake_ms;
    sc.idle_ms = o.idle_ms;
    sc.limits.max_line = o.max_line;
    sc.limits.max_message_bits = o.max_message_bits;
    sc.log_requests = !o.quiet;
    sc.log_client_certs = o.tls.verify_client != BS_TLS_VERIFY_NONE;
    log_options(&sc);
    sc.log_level = o.log_level;
    sc.log_format = o.log_format;
    sc.max_conns_per_ip = o.max_conns_per_ip;
    if (o.proxy_protocol) {
        sc.proxy_from = o.proxy_cidr;
        sc.nproxy_from = o.nproxy_from;
    }
    sc.explain = o.explain;
    sc.explain_colour =
        bs_explain_want_colour(isatty(1), getenv("NO_COLOR"), getenv("TERM"));
    sc.verbose = o.verbose;
    srv = bs_server_start(&sc, err, sizeof err);
    if (srv == NULL) {
        fprintf(stderr, "bitstuffd: %s\n", err);
        goto out;
    }
    log_found_certs(srv, &o);
    bs_sysd_describe(&sd, l.fd, l.n, o.threads, activated);
    bs_sysd_ready(&sd, bs_server_log(srv), NULL);
    /* --reuse-port: on SIGTERM leave the port to a new server at once;
     * sockets a service manager passed are its own, never released */
    if (wait_loop(srv, sigfd, &o.tls, o.strict_modes, &ctx, &sd,
                  o.reuse_port && !activated ? &l : NULL) == 0)
    {
        status = 0;
    }
out:
    bs_sysd_close(&sd);
    bs_server_free(srv);
    listeners_close(&l);
    if (sigfd >= 0) {
        close(sigfd);
    }
    bs_tls_ctx_free(ctx);
    return status;
}
