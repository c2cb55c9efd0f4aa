/*
 * sdnotify.c - sd_notify and socket activation, spoken directly (see
 * sdnotify.h).  Behaviour follows systemd's sd-daemon.c; the code is our
 * own.
 */
#include "sdnotify.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "num.h"

__attribute__((format(printf, 4, 5))) static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int bs_sdnotify_open(struct bs_sdnotify *n, const char *notify_socket,
                     char *err, size_t errlen)
{
    size_t len;
    int fd;

    memset(n, 0, sizeof(*n));
    n->fd = -1;
    if (notify_socket == NULL || notify_socket[0] == '\0') {
        return 0;
    }
    len = strlen(notify_socket);
    if (notify_socket[0] != '/' && notify_socket[0] != '@') {
        return fail(err, errlen, -EINVAL,
                    "NOTIFY_SOCKET '%.80s' is not a unix socket path "
                    "('/...') or abstract name ('@...'); other forms such "
                    "as vsock: are not supported",
                    notify_socket);
    }
    /* A path needs its NUL inside sun_path; an abstract name does not. */
    if (len > sizeof(n->addr.sun_path) - (size_t) (notify_socket[0] == '/') ||
        len < 2)
    {
        return fail(err, errlen, -EINVAL,
                    "NOTIFY_SOCKET '%.80s' is %s for a unix socket address",
                    notify_socket, len < 2 ? "too short" : "too long");
    }
    n->addr.sun_family = AF_UNIX;
    memcpy(n->addr.sun_path, notify_socket, len);
    if (notify_socket[0] == '@') {
        n->addr.sun_path[0] = '\0';
        n->addr_len =
            (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len);
    } else {
        n->addr_len =
            (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + 1);
    }
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        int e = errno;
        return fail(err, errlen, -e,
                    "cannot make a socket to notify systemd: %s", strerror(e));
    }
    n->fd = fd;
    return 0;
}

int bs_sdnotify_open_env(struct bs_sdnotify *n, int unset_env, char *err,
                         size_t errlen)
{
    int rc = bs_sdnotify_open(n, getenv("NOTIFY_SOCKET"), err, errlen);

    if (unset_env) {
        unsetenv("NOTIFY_SOCKET");
    }
    return rc;
}

int bs_sdnotify_enabled(const struct bs_sdnotify *n)
{
    return n->fd >= 0;
}

int bs_sdnotify_send(struct bs_sdnotify *n, const char *state, char *err,
                     size_t errlen)
{
    size_t len = strlen(state);
    ssize_t sent;

    if (n->fd < 0) {
        return 0;
    }
    do {
        sent = sendto(n->fd, state, len, MSG_NOSIGNAL,
                      (const struct sockaddr *) &n->addr, n->addr_len);
    } while (sent == -1 && errno == EINTR);
    if (sent == -1) {
        int e = errno;
        return fail(err, errlen, -e, "cannot notify systemd (%s%.100s): %s",
                    n->addr.sun_path[0] == '\0' ? "@" : "",
                    n->addr.sun_path[0] == '\0' ? n->addr.sun_path + 1
                                                : n->addr.sun_path,
                    strerror(e));
    }
    if ((size_t) sent != len) {
        return fail(err, errlen, -EIO,
                    "cannot notify systemd: sent %zd of %zu bytes", sent, len);
    }
    return 1;
}

int bs_sdnotify_ready(struct bs_sdnotify *n, char *err, size_t errlen)
{
    return bs_sdnotify_send(n, "READY=1", err, errlen);
}

int bs_sdnotify_stopping(struct bs_sdnotify *n, char *err, size_t errlen)
{
    return bs_sdnotify_send(n, "STOPPING=1", err, errlen);
}

int bs_sdnotify_reloading(struct bs_sdnotify *n, char *err, size_t errlen)
{
    struct timespec ts;
    char msg[64];
    uint64_t usec;

    if (n->fd < 0) {
        return 0;
    }
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1) {
        int e = errno;
        return fail(err, errlen, -e, "cannot read CLOCK_MONOTONIC: %s",
                    strerror(e));
    }
    usec = (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long) usec);
    return bs_sdnotify_send(n, msg, err, errlen);
}

int bs_sdnotify_state_status(struct bs_sdnotify *n, const char *state,
                             const char *text, char *err, size_t errlen)
{
    char msg[BS_SDNOTIFY_STATE_MAX + sizeof("\nSTATUS=") +
             BS_SDNOTIFY_STATUS_MAX];
    size_t j = 0;

    if (state != NULL && state[0] != '\0') {
        j = strlen(state);
        if (j > BS_SDNOTIFY_STATE_MAX) {
            return fail(err, errlen, -EINVAL,
                        "cannot notify systemd: state longer than %d bytes",
                        BS_SDNOTIFY_STATE_MAX);
        }
        memcpy(msg, state, j);
        msg[j++] = '\n';
    }
    memcpy(msg + j, "STATUS=", strlen("STATUS="));
    j += strlen("STATUS=");
    for (size_t i = 0; text[i] != '\0' && i < BS_SDNOTIFY_STATUS_MAX; i++) {
        unsigned char c = (unsigned char) text[i];
        msg[j++] = (c < 0x20 || c == 0x7F) ? ' ' : (char) c;
    }
    msg[j] = '\0';
    return bs_sdnotify_send(n, msg, err, errlen);
}

int bs_sdnotify_status(struct bs_sdnotify *n, const char *text, char *err,
                       size_t errlen)
{
    return bs_sdnotify_state_status(n, NULL, text, err, errlen);
}

void bs_sdnotify_close(struct bs_sdnotify *n)
{
    if (n->fd >= 0) {
        close(n->fd);
    }
    n->fd = -1;
}

/* systemd's fdname_is_valid: 1-255 printable ASCII characters, no ':'. */
static int fdname_ok(const char *s, size_t len)
{
    if (len == 0 || len > BS_SDNOTIFY_FDNAME_MAX) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < ' ' || s[i] > '~' || s[i] == ':') {
            return 0;
        }
    }
    return 1;
}

int bs_sdnotify_parse_listen(const char *listen_pid, const char *listen_fds,
                             const char *listen_fdnames, pid_t self,
                             struct bs_sdnotify_fds *out, char *err,
                             size_t errlen)
{
    uint64_t pid, count;
    const char *s;
    int i;

    out->n = 0;
    if (listen_pid == NULL) {
        return 0;
    }
    if (bs_num_parse_u64(listen_pid, 1, INT_MAX, &pid) != 0) {
        return fail(err, errlen, -EINVAL,
                    "LISTEN_PID '%.40s' is not a process id", listen_pid);
    }
    if ((pid_t) pid != self || listen_fds == NULL) {
        return 0; /* meant for another process, or nothing passed */
    }
    if (bs_num_parse_u64(listen_fds, 0, UINT64_MAX, &count) != 0 || count == 0)
    {
        return fail(err, errlen, -EINVAL,
                    "LISTEN_FDS '%.40s' is not a count of 1 or more",
                    listen_fds);
    }
    if (count > BS_SDNOTIFY_MAX_FDS) {
        return fail(err, errlen, -E2BIG,
                    "LISTEN_FDS=%llu: more sockets than the %d supported",
                    (unsigned long long) count, BS_SDNOTIFY_MAX_FDS);
    }
    s = listen_fdnames;
    for (i = 0; i < (int) count; i++) {
        out->fds[i] = BS_SDNOTIFY_LISTEN_FDS_START + i;
        if (s == NULL) {
            strcpy(out->names[i], "unknown");
            continue;
        }
        const char *end = strchr(s, ':');
        size_t len = end != NULL ? (size_t) (end - s) : strlen(s);
        if (!fdname_ok(s, len)) {
            return fail(err, errlen, -EINVAL,
                        "LISTEN_FDNAMES: name %d is empty, longer than %d "
                        "bytes or not printable ASCII",
                        i + 1, BS_SDNOTIFY_FDNAME_MAX);
        }
        memcpy(out->names[i], s, len);
        out->names[i][len] = '\0';
        if (end == NULL && i + 1 < (int) count) {
            return fail(err, errlen, -EINVAL,
                        "LISTEN_FDNAMES has %d names for LISTEN_FDS=%llu",
                        i + 1, (unsigned long long) count);
        }
        s = end != NULL ? end + 1 : NULL;
    }
    if (listen_fdnames != NULL && s != NULL) {
        return fail(err, errlen, -EINVAL,
                    "LISTEN_FDNAMES has more names than LISTEN_FDS=%llu",
                    (unsigned long long) count);
    }
    out->n = (int) count;
    return out->n;
}

int bs_sdnotify_listen_fds(int unset_env, struct bs_sdnotify_fds *out,
                           char *err, size_t errlen)
{
    int rc = bs_sdnotify_parse_listen(
        getenv("LISTEN_PID"), getenv("LISTEN_FDS"), getenv("LISTEN_FDNAMES"),
        getpid(), out, err, errlen);

    for (int i = 0; rc > 0 && i < out->n; i++) {
        int flags = fcntl(out->fds[i], F_GETFD);
        if (flags == -1 ||
            fcntl(out->fds[i], F_SETFD, flags | FD_CLOEXEC) == -1) {
            int e = errno;
            rc = fail(err, errlen, -e, "descriptor %d from systemd: %s",
                      out->fds[i], strerror(e));
            out->n = 0;
        }
    }
    if (unset_env) {
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_PIDFDID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
    }
    return rc;
}

int bs_sdnotify_is_stream_listener(int fd, char *err, size_t errlen)
{
    struct stat st;
    int type = 0, acc = 0;
    socklen_t l1 = sizeof(type), l2 = sizeof(acc);

    if (fstat(fd, &st) == -1) {
        int e = errno;
        return fail(err, errlen, -e, "descriptor %d: %s", fd, strerror(e));
    }
    if (!S_ISSOCK(st.st_mode)) {
        return fail(err, errlen, 0, "descriptor %d is not a socket", fd);
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) == -1 ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l2) == -1)
    {
        int e = errno;
        return fail(err, errlen, -e, "descriptor %d: %s", fd, strerror(e));
    }
    if (type != SOCK_STREAM) {
        return fail(err, errlen, 0,
                    "descriptor %d is not a stream socket (use "
                    "ListenStream= in the .socket unit)",
                    fd);
    }
    if (!acc) {
        return fail(err, errlen, 0,
                    "descriptor %d is a stream socket that is not "
                    "listening (Accept=yes is not supported)",
                    fd);
    }
    return 1;
}
