/*
 * tls_idle.c - open N TLS connections to a server, finish each handshake,
 * then hold them all idle until SIGTERM or SIGINT.  bench/compare.sh uses
 * it to measure a TLS server's memory per idle connection, with the same
 * client for bitstuffd and for nginx.
 *
 *   tls_idle HOST PORT N [ALPN]
 *
 * ALPN (e.g. "bitstuff/1", "http/1.1") is offered if given.  Prints
 * "open N" once all N handshakes are done (exit 2 if any failed or
 * 60 s passed), then holds.  The server is not verified: only its memory
 * is of interest.  Benchmark code, so it uses OpenSSL directly.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BATCH      64 /* handshakes in flight, as from many clients */
#define DEADLINE_S 60

struct slot {
    int fd;
    SSL *ssl;
    short want; /* POLLIN or POLLOUT; 0 once done */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

static int open_one(SSL_CTX *ctx, const struct sockaddr_in *sa, struct slot *s)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        fprintf(stderr, "tls_idle: socket: %s (raise ulimit -n)\n",
                strerror(errno));
        return -1;
    }
    if (connect(s->fd, (const struct sockaddr *) sa, sizeof *sa) != 0 &&
        errno != EINPROGRESS)
    {
        fprintf(stderr, "tls_idle: connect: %s\n", strerror(errno));
        return -1;
    }
    s->ssl = SSL_new(ctx);
    if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1) {
        fprintf(stderr, "tls_idle: out of memory\n");
        return -1;
    }
    SSL_set_connect_state(s->ssl);
    s->want = POLLOUT;
    return 0;
}

/* Advance one handshake: 1 done, 0 in progress, -1 failed. */
static int step(struct slot *s)
{
    int r = SSL_do_handshake(s->ssl);

    if (r == 1) {
        s->want = 0;
        return 1;
    }
    switch (SSL_get_error(s->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        s->want = POLLIN;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        s->want = POLLOUT;
        return 0;
    default:
        fprintf(stderr, "tls_idle: handshake failed\n");
        ERR_print_errors_fp(stderr);
        return -1;
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    long n = argc >= 4 ? strtol(argv[3], NULL, 10) : 0;
    struct slot *slots = NULL;
    struct pollfd pfd[BATCH];
    int idx[BATCH];
    SSL_CTX *ctx = NULL;
    long opened = 0, done = 0;
    time_t start = time(NULL);
    int status = 2;

    if (argc < 4 || argc > 5 || n < 1 || n > 1000000 ||
        inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
    {
        fprintf(stderr, "usage: tls_idle IPV4 PORT N [ALPN]\n");
        return 1;
    }
    sa.sin_port = htons((uint16_t) strtoul(argv[2], NULL, 10));
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    ctx = SSL_CTX_new(TLS_client_method());
    slots = calloc((size_t) n, sizeof *slots);
    if (ctx == NULL || slots == NULL) {
        fprintf(stderr, "tls_idle: out of memory\n");
        goto out;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (argc == 5) {
        size_t len = strlen(argv[4]);
        unsigned char alpn[256];
        if (len == 0 || len > 254) {
            fprintf(stderr, "tls_idle: ALPN must be 1 to 254 bytes\n");
            goto out;
        }
        alpn[0] = (unsigned char) len;
        memcpy(alpn + 1, argv[4], len);
        if (SSL_CTX_set_alpn_protos(ctx, alpn, (unsigned) len + 1) != 0) {
            fprintf(stderr, "tls_idle: cannot set ALPN\n");
            goto out;
        }
    }
    for (long i = 0; i < n; i++) {
        slots[i].fd = -1;
    }
    /* Keep BATCH handshakes going until all n are done. */
    while (done < n && !stop) {
        int np = 0;
        while (opened < n && opened - done < BATCH) {
            if (open_one(ctx, &sa, &slots[opened]) != 0) {
                goto out;
            }
            opened++;
        }
        for (long i = done; i < opened && np < BATCH; i++) {
            if (slots[i].want != 0) {
                pfd[np].fd = slots[i].fd;
                pfd[np].events = slots[i].want;
                idx[np++] = (int) i;
            }
        }
        if (time(NULL) - start > DEADLINE_S) {
            fprintf(stderr,
                    "tls_idle: only %ld of %ld handshakes within %d s\n", done,
                    n, DEADLINE_S);
            goto out;
        }
        if (poll(pfd, (nfds_t) np, 1000) < 0 && errno != EINTR) {
            fprintf(stderr, "tls_idle: poll: %s\n", strerror(errno));
            goto out;
        }
        for (int k = 0; k < np; k++) {
            if (pfd[k].revents != 0 && step(&slots[idx[k]]) < 0) {
                goto out;
            }
        }
        /* Finished ones are at the front once their predecessors are. */
        while (done < opened && slots[done].want == 0) {
            done++;
        }
    }
    if (stop) {
        goto out;
    }
    printf("open %ld\n", n);
    fflush(stdout);
    while (!stop) {
        pause();
    }
    status = 0;
out:
    for (long i = 0; slots != NULL && i < n; i++) {
        SSL_free(slots[i].ssl);
        if (slots[i].fd >= 0) {
            close(slots[i].fd);
        }
    }
    free(slots);
    SSL_CTX_free(ctx);
    return status;
}
