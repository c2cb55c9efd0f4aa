/*
 * sdnotify.h - systemd's service protocols without libsystemd: readiness
 * notification (sd_notify(3)) and socket activation (sd_listen_fds(3)).
 *
 * Notification: systemd gives a Type=notify service the address of a
 * unix datagram socket in $NOTIFY_SOCKET, a path ("/run/systemd/notify")
 * or an abstract name ("@..." , the '@' standing for the leading NUL).
 * The service sends newline-separated VAR=value assignments, one
 * datagram per message: "READY=1" once it serves, "RELOADING=1" with
 * "MONOTONIC_USEC=<CLOCK_MONOTONIC in microseconds>" when a reload
 * starts (then "READY=1" again when it is done; Type=notify-reload needs
 * both), "STOPPING=1" when it begins to shut down, "STATUS=<one line>"
 * for `systemctl status`.  Like sd_notify, this module does nothing and
 * reports success when $NOTIFY_SOCKET is unset (not run by systemd), and
 * refuses addresses other than unix ones (systemd's "vsock:" form is not
 * supported).  Unlike sd_notify it keeps one close-on-exec socket in a
 * handle instead of opening one per message, so a service that later
 * drops privileges or runs out of descriptors can still notify, and it
 * never sends credentials (SCM_CREDENTIALS): sd_notify only does that on
 * behalf of another pid or in a set-uid program.
 *
 * Socket activation: systemd passes listening sockets as descriptors 3,
 * 4, ... with LISTEN_FDS=<count>, LISTEN_PID=<the service's pid> and
 * optionally LISTEN_FDNAMES=<name:name:...> (FileDescriptorName=).  The
 * variables are for this process only when LISTEN_PID is its pid (a
 * child inheriting the environment must ignore them).  As in
 * sd_listen_fds: no LISTEN_PID, another pid or no LISTEN_FDS means "not
 * activated" (0); a LISTEN_PID or LISTEN_FDS that is not a number, a
 * count of 0 or less, or a name list of another length is an error.
 * LISTEN_PIDFDID (systemd >= 257) is not checked: the pid is.
 *
 * Functions return 0 or a count on success and a negative errno value on
 * failure, writing a sentence into err (when not NULL).  No global
 * state: the only process-wide things touched are the environment
 * variables the caller asks to unset and the descriptors systemd passed.
 */
#ifndef BS_SDNOTIFY_H
#define BS_SDNOTIFY_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <stddef.h>

#define BS_SDNOTIFY_LISTEN_FDS_START 3
#define BS_SDNOTIFY_MAX_FDS          64   /* more is refused */
#define BS_SDNOTIFY_FDNAME_MAX       255  /* as systemd's FDNAME_MAX */
#define BS_SDNOTIFY_STATUS_MAX       1024 /* bytes of a STATUS= text */
#define BS_SDNOTIFY_STATE_MAX        256  /* bytes before it, see below */

struct bs_sdnotify {
    int fd; /* datagram socket, -1 when notification is off */
    socklen_t addr_len;
    struct sockaddr_un addr;
};

/*
 * Prepare n for the socket named by notify_socket (the value of
 * $NOTIFY_SOCKET).  NULL or "" turns notification off: n is usable and
 * every send returns 0.  Returns 0, or -EINVAL (not "/path" or "@name",
 * or too long for a unix address), or the -errno of socket(2), with err.
 * Release with bs_sdnotify_close.
 */
int bs_sdnotify_open(struct bs_sdnotify *n, const char *notify_socket,
                     char *err, size_t errlen);

/* The same with getenv("NOTIFY_SOCKET"); unset_env != 0 also removes the
 * variable (so children do not notify systemd on our behalf). */
int bs_sdnotify_open_env(struct bs_sdnotify *n, int unset_env, char *err,
                         size_t errlen);

/* 1 if notifications are sent, 0 if off. */
int bs_sdnotify_enabled(const struct bs_sdnotify *n);

/*
 * Send state ("READY=1", or several assignments separated by '\n') as
 * one datagram.  Returns 1 when sent, 0 when notification is off, or
 * -errno (-ECONNREFUSED, -ENOENT when nobody listens, -EMSGSIZE, ...)
 * with err.  Blocks only while the receiver's queue is full, as
 * sd_notify does; never raises SIGPIPE.
 */
int bs_sdnotify_send(struct bs_sdnotify *n, const char *state, char *err,
                     size_t errlen);

/* "READY=1". */
int bs_sdnotify_ready(struct bs_sdnotify *n, char *err, size_t errlen);
/* "RELOADING=1\nMONOTONIC_USEC=<now>", now from CLOCK_MONOTONIC. */
int bs_sdnotify_reloading(struct bs_sdnotify *n, char *err, size_t errlen);
/* "STOPPING=1". */
int bs_sdnotify_stopping(struct bs_sdnotify *n, char *err, size_t errlen);
/* "STATUS=<text>": text is cut at BS_SDNOTIFY_STATUS_MAX bytes, and each
 * newline or other control character in it becomes a space (a newline
 * would start a new assignment). */
int bs_sdnotify_status(struct bs_sdnotify *n, const char *text, char *err,
                       size_t errlen);
/* One datagram "<state>\nSTATUS=<text>" (text as in bs_sdnotify_status),
 * so that systemd sees the new state and its explanation at once, e.g.
 * state "READY=1".  state NULL or "": STATUS= alone; a state longer than
 * BS_SDNOTIFY_STATE_MAX bytes is refused (-EINVAL). */
int bs_sdnotify_state_status(struct bs_sdnotify *n, const char *state,
                             const char *text, char *err, size_t errlen);

/* Close the socket; n is then off.  Safe to call twice. */
void bs_sdnotify_close(struct bs_sdnotify *n);

/* What systemd passed. */
struct bs_sdnotify_fds {
    int n;                          /* descriptors passed, 0 if none */
    int fds[BS_SDNOTIFY_MAX_FDS];   /* 3, 4, ... 3 + n - 1 */
    char names[BS_SDNOTIFY_MAX_FDS] /* LISTEN_FDNAMES, or "unknown" */
              [BS_SDNOTIFY_FDNAME_MAX + 1];
};

/*
 * Pure: interpret the variables' values (each may be NULL: unset) for a
 * process whose pid is self.  Returns n >= 0 and fills *out (n == 0: not
 * for us, or not activated), or -EINVAL / -E2BIG with err.  Touches no
 * descriptor.
 */
int bs_sdnotify_parse_listen(const char *listen_pid, const char *listen_fds,
                             const char *listen_fdnames, pid_t self,
                             struct bs_sdnotify_fds *out, char *err,
                             size_t errlen);

/*
 * Socket activation from the environment, like sd_listen_fds_with_names:
 * reads LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, checks them against
 * getpid(), and sets FD_CLOEXEC on every descriptor passed (-EBADF with
 * err if one is not open).  unset_env != 0 removes LISTEN_PID,
 * LISTEN_PIDFDID, LISTEN_FDS and LISTEN_FDNAMES whatever the outcome.
 * Returns the count (0: not activated) or -errno.
 */
int bs_sdnotify_listen_fds(int unset_env, struct bs_sdnotify_fds *out,
                           char *err, size_t errlen);

/*
 * Is fd a listening SOCK_STREAM socket (what bitstuffd can accept on)?
 * Returns 1, 0 with err saying what it is instead, or -errno with err.
 */
int bs_sdnotify_is_stream_listener(int fd, char *err, size_t errlen);

#endif /* BS_SDNOTIFY_H */
