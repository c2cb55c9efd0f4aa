/*
 * baseline_tcp_server.c - benchmark-only baseline: bitstuff/1 over plain
 * TCP, to be put behind stunnel (or any TLS terminator) by
 * bench/compare.sh.  It answers exactly what bitstuffd answers, with the
 * same library and the same request path (src/bitstuffd/xchg.c), in the
 * simplest honest design: one blocking thread per connection.
 *
 *   baseline_tcp_server [-l HOST:PORT]    (default 127.0.0.1:0)
 *
 * Prints "listening on HOST:PORT" once ready; stops on SIGINT/SIGTERM.
 * Not for production: no limits on connections, no timeouts.
 */
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "xchg.h"

#define IN_SIZE 16384u

/* Write all of buf; returns 0, or -1 if the peer is gone. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

/* Send the committed replies and forget them. */
static int send_out(int fd, struct bs_xchg *x, struct bs_outbuf *o)
{
    bs_xchg_seal(x, o);
    if (write_all(fd, o->buf + o->head, o->commit - o->head) != 0) {
        return -1;
    }
    o->head = o->commit;
    return 0;
}

static void serve(int fd)
{
    struct bs_xchg x;
    struct bs_outbuf o = {0};
    uint8_t *in = malloc(IN_SIZE);

    o.cap = bs_xchg_outbuf_size(NULL);
    o.buf = malloc(o.cap);
    if (in == NULL || o.buf == NULL) {
        fprintf(stderr, "baseline: out of memory for a connection\n");
        goto out;
    }
    bs_xchg_init(&x, NULL, NULL);
    for (;;) {
        ssize_t n = read(fd, in, IN_SIZE);
        size_t off = 0;

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        /* Feed all that arrived, sending whenever the output fills, then
         * send once: pipelined replies leave in one write. */
        for (;;) {
            off += bs_xchg_feed(&x, &o, in + off, (size_t) n - off);
            if (bs_xchg_fatal(&x) ||
                (off == (size_t) n && !bs_xchg_stalled(&x))) {
                break;
            }
            if (send_out(fd, &x, &o) != 0) {
                goto out;
            }
        }
        if (send_out(fd, &x, &o) != 0 || bs_xchg_fatal(&x)) {
            goto out;
        }
    }
    (void) bs_xchg_end(&x, &o, 0);
out:
    free(in);
    free(o.buf);
}

static void *conn_main(void *arg)
{
    int fd = (int) (intptr_t) arg;

    serve(fd);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *spec =
        argc == 3 && strcmp(argv[1], "-l") == 0 ? argv[2] : "127.0.0.1:0";
    char host[256], port[32], err[256], addr[BS_NET_ADDRSTRLEN];
    struct bs_net_addr a;
    size_t n = 0;
    pthread_attr_t attr;
    int lfd = -1, r;

    if (argc != 1 && argc != 3) {
        fprintf(stderr, "usage: baseline_tcp_server [-l HOST:PORT]\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (bs_net_split_hostport(spec, "0", host, sizeof host, port, sizeof port,
                              err, sizeof err) != 0 ||
        bs_net_resolve(host, port, 1, &a, 1, &n, err, sizeof err) != 0)
    {
        fprintf(stderr, "baseline: %s\n", err);
        return 1;
    }
    if ((r = bs_net_listen(&a, 511, &lfd)) != 0 ||
        (r = bs_net_set_nonblock(lfd, 0)) != 0)
    {
        fprintf(stderr, "baseline: cannot listen on %s: %s\n", spec,
                strerror(-r));
        return 1;
    }
    bs_net_addr_str(&a, addr, sizeof addr);
    printf("baseline: listening on %s\n", addr);
    fflush(stdout);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        pthread_t t;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            /* Out of descriptors: wait instead of spinning. */
            fprintf(stderr, "baseline: accept: %s\n", strerror(errno));
            usleep(100000);
            continue;
        }
        (void) bs_net_set_nodelay(fd);
        if (pthread_create(&t, &attr, conn_main, (void *) (intptr_t) fd) != 0) {
            fprintf(stderr, "baseline: cannot start a thread\n");
            close(fd);
        }
    }
}
