/*
 * sysd.c - bitstuffd under systemd: notification and socket activation;
 * see sysd.h.
 */
#include "sysd.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

int bs_sysd_open(struct bs_sysd *sd, char *err, size_t errlen)
{
    char why[256];

    memset(sd, 0, sizeof *sd);
    if (bs_sdnotify_open_env(&sd->notify, 1, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s; not notifying systemd", why);
        return -1;
    }
    return 0;
}

/* Check one passed descriptor: a listening TCP socket, then set it up as
 * bs_net_listen would have.  Returns 0 or -1 with err. */
static int take_one(int fd, const char *name, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char why[256];
    int r;

    r = bs_sdnotify_is_stream_listener(fd, why, sizeof why);
    if (r == 1 && getsockname(fd, (struct sockaddr *) &ss, &len) != 0) {
        snprintf(why, sizeof why, "descriptor %d: getsockname: %s", fd,
                 strerror(errno));
        r = -1;
    }
    if (r == 1 && ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
        snprintf(why, sizeof why,
                 "descriptor %d is not a TCP socket (address family %d; "
                 "bitstuffd serves TCP only: ListenStream=PORT or "
                 "ADDRESS:PORT)",
                 fd, (int) ss.ss_family);
        r = 0;
    }
    if (r == 1) {
        r = bs_net_set_nonblock(fd, 1);
        if (r == 0) {
            r = bs_net_set_nodelay(fd);
        }
        if (r != 0) {
            snprintf(why, sizeof why, "descriptor %d: %s", fd, strerror(-r));
        } else {
            r = 1;
        }
    }
    if (r != 1) {
        snprintf(err, errlen, "socket activation: socket '%s': %s", name, why);
        return -1;
    }
    return 0;
}

int bs_sysd_inherit(int *fds, size_t max, char *err, size_t errlen)
{
    struct bs_sdnotify_fds got;
    char why[384];
    int n = bs_sdnotify_listen_fds(1, &got, why, sizeof why);

    if (n < 0) {
        snprintf(err, errlen, "socket activation: %s", why);
        return -1;
    }
    if ((size_t) n > max) {
        snprintf(err, errlen,
                 "socket activation: %d sockets passed, bitstuffd serves at "
                 "most %zu",
                 n, max);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if (take_one(got.fds[i], got.names[i], err, errlen) != 0) {
            goto fail;
        }
        fds[i] = got.fds[i];
    }
    return n;
fail:
    for (int i = 0; i < n; i++) {
        close(got.fds[i]);
    }
    return -1;
}

void bs_sysd_describe(struct bs_sysd *sd, const int *fds, size_t n,
                      unsigned threads, int activated)
{
    size_t used = 0;
    int w = snprintf(sd->serving, sizeof sd->serving, "serving on ");

    used = w > 0 ? (size_t) w : 0;
    for (size_t i = 0; i < n && used < sizeof sd->serving; i++) {
        struct bs_net_addr a;
        char addr[BS_NET_ADDRSTRLEN];

        a.len = sizeof a.ss;
        if (getsockname(fds[i], (struct sockaddr *) &a.ss, &a.len) == 0) {
            bs_net_addr_str(&a, addr, sizeof addr);
        } else {
            snprintf(addr, sizeof addr, "descriptor %d", fds[i]);
        }
        w = snprintf(sd->serving + used, sizeof sd->serving - used, "%s%s",
                     i > 0 ? ", " : "", addr);
        used += w > 0 ? (size_t) w : 0;
    }
    if (used < sizeof sd->serving) {
        snprintf(sd->serving + used, sizeof sd->serving - used,
                 "%s, %u worker thread%s",
                 activated ? " (sockets from the service manager)" : "",
                 threads, threads == 1 ? "" : "s");
    }
}

static void sent(struct bs_log *log, int rc, const char *why)
{
    if (rc < 0) {
        bs_log_put(log, BS_LOG_ERR, "bitstuffd: warning: %s", why);
    }
}

void bs_sysd_ready(struct bs_sysd *sd, struct bs_log *log, const char *note)
{
    char status[BS_SYSD_STATUS_MAX + BS_SDNOTIFY_STATUS_MAX], why[256];

    snprintf(status, sizeof status, "%s%s%s", sd->serving,
             note != NULL ? "; " : "", note != NULL ? note : "");
    sent(log,
         bs_sdnotify_state_status(&sd->notify, "READY=1", status, why,
                                  sizeof why),
         why);
}

void bs_sysd_reloading(struct bs_sysd *sd, struct bs_log *log)
{
    char why[256];

    sent(log, bs_sdnotify_reloading(&sd->notify, why, sizeof why), why);
}

void bs_sysd_stopping(struct bs_sysd *sd, struct bs_log *log, const char *what)
{
    char why[256];

    sent(log,
         bs_sdnotify_state_status(&sd->notify, "STOPPING=1", what, why,
                                  sizeof why),
         why);
}

void bs_sysd_close(struct bs_sysd *sd)
{
    bs_sdnotify_close(&sd->notify);
}
