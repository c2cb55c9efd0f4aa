/*
 * net.c - sockets for the server and the client (see net.h).
 */
#include "net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "timer.h"

int bs_net_split_hostport(const char *spec, const char *default_port,
                          char *host, size_t hostlen, char *port,
                          size_t portlen, char *err, size_t errlen)
{
    const char *h = spec, *p = NULL, *colon;
    size_t hlen;

    if (spec == NULL || *spec == '\0') {
        snprintf(err, errlen, "empty address: expected HOST:PORT");
        return -EINVAL;
    }
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (close == NULL) {
            snprintf(err, errlen,
                     "'%s': missing ']' after the IPv6 address "
                     "(expected [ADDR]:PORT)",
                     spec);
            return -EINVAL;
        }
        h = spec + 1;
        hlen = (size_t) (close - h);
        if (close[1] == ':') {
            p = close + 2;
        } else if (close[1] != '\0') {
            snprintf(err, errlen, "'%s': expected ':' after ']'", spec);
            return -EINVAL;
        }
    } else {
        colon = strrchr(spec, ':');
        if (colon != NULL && strchr(spec, ':') != colon) {
            snprintf(err, errlen,
                     "'%s': put an IPv6 address in brackets, as "
                     "[::1]:55000",
                     spec);
            return -EINVAL;
        }
        hlen = colon != NULL ? (size_t) (colon - spec) : strlen(spec);
        p = colon != NULL ? colon + 1 : NULL;
    }
    if (p == NULL) {
        p = default_port;
    }
    if (p == NULL || *p == '\0') {
        snprintf(err, errlen, "'%s': missing port (expected HOST:PORT)", spec);
        return -EINVAL;
    }
    for (const char *c = p; *c != '\0'; c++) {
        if (*c < '0' || *c > '9' || c - p >= 5) {
            snprintf(err, errlen,
                     "'%s': the port must be a number from 0 to 65535", spec);
            return -EINVAL;
        }
    }
    if (strtol(p, NULL, 10) > 65535) {
        snprintf(err, errlen, "'%s': the port must be a number from 0 to 65535",
                 spec);
        return -EINVAL;
    }
    if (hlen >= hostlen || strlen(p) >= portlen) {
        snprintf(err, errlen, "'%s': address too long", spec);
        return -EINVAL;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, p, strlen(p) + 1);
    return 0;
}

int bs_net_resolve(const char *host, const char *port, int passive,
                   struct bs_net_addr *out, size_t max, size_t *n, char *err,
                   size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    *n = 0;
    rc = getaddrinfo(host != NULL && *host != '\0' ? host : NULL, port, &hints,
                     &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve '%s': %s",
                 host != NULL && *host ? host : "*",
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return rc == EAI_MEMORY ? -ENOMEM : -EHOSTUNREACH;
    }
    for (struct addrinfo *ai = res; ai != NULL && *n < max; ai = ai->ai_next) {
        int dup = 0;
        if (ai->ai_addrlen > sizeof(out->ss)) {
            continue;
        }
        /* getaddrinfo repeats an address when /etc/hosts lists it twice */
        for (size_t i = 0; i < *n; i++) {
            dup |= out[i].len == ai->ai_addrlen &&
                   memcmp(&out[i].ss, ai->ai_addr, ai->ai_addrlen) == 0;
        }
        if (dup) {
            continue;
        }
        memset(&out[*n], 0, sizeof(out[*n]));
        memcpy(&out[*n].ss, ai->ai_addr, ai->ai_addrlen);
        out[*n].len = (socklen_t) ai->ai_addrlen;
        (*n)++;
    }
    freeaddrinfo(res);
    if (*n == 0) {
        snprintf(err, errlen, "'%s' has no IPv4 or IPv6 address",
                 host != NULL && *host != '\0' ? host : "*");
        return -EHOSTUNREACH;
    }
    return 0;
}

void bs_net_addr_str(const struct bs_net_addr *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *) &a->ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        snprintf(buf, len, "[%s]:%u", ip, (unsigned) ntohs(s6->sin6_port));
    } else if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *) &a->ss;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%u", ip, (unsigned) ntohs(s4->sin_port));
    } else {
        snprintf(buf, len, "(unknown address family %d)",
                 (int) a->ss.ss_family);
    }
}

int bs_net_set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl == -1) {
        return -errno;
    }
    fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
    if (fcntl(fd, F_SETFL, fl) == -1) {
        return -errno;
    }
    return 0;
}

int bs_net_set_nodelay(int fd)
{
    int one = 1;

    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1) {
        return -errno;
    }
    return 0;
}

int bs_net_listen(struct bs_net_addr *a, int backlog, int *fd)
{
    return bs_net_listen_flags(a, backlog, 0, fd);
}

int bs_net_listen_flags(struct bs_net_addr *a, int backlog, unsigned flags,
                        int *fd)
{
    int s, one = 1, e;
    socklen_t len = sizeof(a->ss);

    s = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s == -1) {
        return -errno;
    }
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
        ((flags & BS_NET_LISTEN_REUSEPORT) != 0 &&
         setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1) ||
        (a->ss.ss_family == AF_INET6 &&
         setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1 ||
        bind(s, (const struct sockaddr *) &a->ss, a->len) == -1 ||
        listen(s, backlog) == -1 ||
        getsockname(s, (struct sockaddr *) &a->ss, &len) == -1)
    {
        e = errno;
        close(s);
        return -e;
    }
    a->len = len;
    *fd = s;
    return 0;
}

int bs_net_accept(int lfd, int *fd, struct bs_net_addr *peer)
{
    struct bs_net_addr tmp;
    struct bs_net_addr *p = peer != NULL ? peer : &tmp;
    int s;

    p->len = sizeof(p->ss);
    do {
        s = accept4(lfd, (struct sockaddr *) &p->ss, &p->len,
                    SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (s == -1 && errno == EINTR);
    if (s == -1) {
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
    *fd = s;
    return 0;
}

/* Non-blocking connect to one address, waiting at most timeout_ms. */
static int connect_one(const struct bs_net_addr *a, int timeout_ms, int *fd)
{
    int s, e = 0;
    socklen_t elen = sizeof(e);
    long deadline = (long) bs_timer_now_ms() + timeout_ms;

    s = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s == -1) {
        return -errno;
    }
    if (connect(s, (const struct sockaddr *) &a->ss, a->len) == -1) {
        if (errno != EINPROGRESS) {
            e = errno;
            goto fail;
        }
        for (;;) {
            struct pollfd pfd = {.fd = s, .events = POLLOUT};
            long left = deadline - (long) bs_timer_now_ms();
            int r;

            if (left <= 0) {
                e = ETIMEDOUT;
                goto fail;
            }
            r = poll(&pfd, 1, (int) left);
            if (r == -1 && errno == EINTR) {
                continue;
            }
            if (r == -1) {
                e = errno;
                goto fail;
            }
            if (r == 1) {
                break;
            }
        }
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &elen) == -1) {
            e = errno;
        }
        if (e != 0) {
            goto fail;
        }
    }
    e = -bs_net_set_nonblock(s, 0);
    if (e != 0) {
        goto fail;
    }
    (void) bs_net_set_nodelay(s);
    *fd = s;
    return 0;
fail:
    close(s);
    return -e;
}

int bs_net_connect(const char *host, const char *port, int timeout_ms, int *fd,
                   char *err, size_t errlen)
{
    struct bs_net_addr addrs[8];
    char as[BS_NET_ADDRSTRLEN];
    size_t n = 0;
    int rc;

    rc = bs_net_resolve(host, port, 0, addrs, 8, &n, err, errlen);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        rc = connect_one(&addrs[i], timeout_ms, fd);
        if (rc == 0) {
            return 0;
        }
        bs_net_addr_str(&addrs[i], as, sizeof(as));
        snprintf(err, errlen, "connect to %s: %s%s", as, strerror(-rc),
                 rc == -ECONNREFUSED ? " (is bitstuffd running there?)"
                 : rc == -ETIMEDOUT  ? " (no answer within the timeout)"
                                     : "");
    }
    return rc;
}
