/*
 * sysd.h - bitstuffd under a service manager: readiness notification and
 * socket activation, on top of the protocol code in sdnotify.h.
 *
 * Notification (Type=notify): bitstuffd tells systemd "READY=1" once
 * every listening socket is served, "RELOADING=1" with MONOTONIC_USEC
 * when a SIGHUP reload starts and "READY=1" again when it has finished
 * (the STATUS= line says whether the new certificate is in force or the
 * old one was kept), and "STOPPING=1" on SIGINT/SIGTERM.  Each state
 * goes with a STATUS= line in the same datagram.  Without $NOTIFY_SOCKET
 * nothing is sent.  A notification that cannot be sent is logged and
 * otherwise ignored: the service keeps serving.
 *
 * Socket activation: when LISTEN_PID is this process and LISTEN_FDS > 0
 * (systemd's bitstuffd.socket, systemd-socket-activate, or any holder
 * that passes its listening sockets as descriptors 3, 4, ...), bitstuffd
 * serves on those sockets and binds nothing itself.  Each must be a
 * listening TCP socket (IPv4 or IPv6); anything else stops the start
 * with a message naming the descriptor.  The variables (and
 * NOTIFY_SOCKET) are removed from the environment so that no child
 * takes them for its own.
 */
#ifndef BS_SYSD_H
#define BS_SYSD_H

#include <stddef.h>

#include "log.h"
#include "sdnotify.h"

#define BS_SYSD_STATUS_MAX 512

struct bs_sysd {
    struct bs_sdnotify notify;
    char serving[BS_SYSD_STATUS_MAX]; /* "serving on A, B (N threads)" */
};

/* Read $NOTIFY_SOCKET (and remove it).  A malformed value is reported in
 * err (return -1) and leaves notification off; the caller may go on. */
int bs_sysd_open(struct bs_sysd *sd, char *err, size_t errlen);

/*
 * The sockets passed by socket activation, into fds (max entries):
 * returns their count (0: not activated), or -1 with err when the
 * variables are malformed or a descriptor is not a listening TCP
 * socket (the descriptors passed are then closed).  Each one is made
 * non-blocking and close-on-exec, with TCP_NODELAY.  The LISTEN_*
 * variables are removed in every case.
 */
int bs_sysd_inherit(int *fds, size_t max, char *err, size_t errlen);

/* Remember the addresses of fds and the thread count for STATUS=. */
void bs_sysd_describe(struct bs_sysd *sd, const int *fds, size_t n,
                      unsigned threads, int activated);

/* "READY=1" with "STATUS=<serving>[; <note>]"; note may be NULL. */
void bs_sysd_ready(struct bs_sysd *sd, struct bs_log *log, const char *note);

/* "RELOADING=1\nMONOTONIC_USEC=<now>". */
void bs_sysd_reloading(struct bs_sysd *sd, struct bs_log *log);

/* "STOPPING=1" with "STATUS=<why>". */
void bs_sysd_stopping(struct bs_sysd *sd, struct bs_log *log, const char *why);

void bs_sysd_close(struct bs_sysd *sd);

#endif /* BS_SYSD_H */
