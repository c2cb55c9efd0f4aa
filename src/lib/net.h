/*
 * net.h - sockets: parse HOST:PORT, resolve, listen, accept, connect.
 *
 * Functions return 0 on success or a negative errno value (libuv style);
 * those that can fail for reasons beyond errno (resolution, parsing) also
 * write a sentence into err.  Every socket made here is close-on-exec;
 * listening and accepted sockets are non-blocking.
 */
#ifndef BS_NET_H
#define BS_NET_H

#include <sys/socket.h>

#include <stddef.h>

#define BS_NET_ADDRSTRLEN 64 /* "[v6 address%scope]:65535" and NUL */

/* Where bitstuffd listens, and bitstuff and the bench connect, unless told
 * otherwise; the port also when a HOST:PORT names no port. */
#define BS_NET_DEFAULT_HOST "localhost"
#define BS_NET_DEFAULT_PORT "55000"
#define BS_NET_DEFAULT_ADDR BS_NET_DEFAULT_HOST ":" BS_NET_DEFAULT_PORT

struct bs_net_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/*
 * Split "host:port", "[v6]:port", ":port" (host NULL → "") or "host" (port
 * = default_port) into host and port.  Returns 0 or -EINVAL with err.
 */
int bs_net_split_hostport(const char *spec, const char *default_port,
                          char *host, size_t hostlen, char *port,
                          size_t portlen, char *err, size_t errlen);

/*
 * Resolve host and port to at most max addresses (both IPv4 and IPv6;
 * "localhost" gives 127.0.0.1 and ::1).  passive: for listening (an empty
 * host means every interface).  Returns 0 and *n >= 1, or a negative errno
 * with err filled ("cannot resolve 'x': Name or service not known").
 */
int bs_net_resolve(const char *host, const char *port, int passive,
                   struct bs_net_addr *out, size_t max, size_t *n, char *err,
                   size_t errlen);

/* "127.0.0.1:55000" or "[::1]:55000" into buf (>= BS_NET_ADDRSTRLEN). */
void bs_net_addr_str(const struct bs_net_addr *a, char *buf, size_t len);

/* Listen on a (SO_REUSEADDR, IPV6_V6ONLY for v6, non-blocking, and
 * TCP_NODELAY, which Linux passes on to every accepted socket: one system
 * call per connection less).  On success *fd is the socket and a is
 * updated with the bound address (real port).  Returns 0 or -errno. */
int bs_net_listen(struct bs_net_addr *a, int backlog, int *fd);

/* bs_net_listen with flags.  BS_NET_LISTEN_REUSEPORT: SO_REUSEPORT, so
 * that another process of the same user that sets it too can listen on
 * the same address at the same time (a new server starts while the old
 * one drains); the kernel then spreads new connections over all of
 * them.  Connections waiting in a socket's accept queue when it closes
 * are reset unless net.ipv4.tcp_migrate_req is 1 (docs/DEPLOY.md). */
#define BS_NET_LISTEN_REUSEPORT 1u
int bs_net_listen_flags(struct bs_net_addr *a, int backlog, unsigned flags,
                        int *fd);

/* accept4 non-blocking + close-on-exec; peer may be NULL.  Returns 0,
 * -EAGAIN when nothing is pending, or another -errno (EMFILE, ...). */
int bs_net_accept(int lfd, int *fd, struct bs_net_addr *peer);

/* Connect to host:port, trying each address in turn, each within
 * timeout_ms.  The returned socket is blocking with TCP_NODELAY.  Returns 0
 * or -errno with err ("connect to 127.0.0.1:55000: Connection refused"). */
int bs_net_connect(const char *host, const char *port, int timeout_ms, int *fd,
                   char *err, size_t errlen);

/* Set or clear O_NONBLOCK; TCP_NODELAY on.  Returns 0 or -errno. */
int bs_net_set_nonblock(int fd, int on);
int bs_net_set_nodelay(int fd);

#endif /* BS_NET_H */
