/*
 * test_sdnotify.c - sd_notify and socket activation (src/lib/sdnotify.c).
 *
 * A test NOTIFY_SOCKET (a unix datagram socket in a temporary directory,
 * and an abstract one) must receive exactly the expected datagrams.
 * LISTEN_FDS parsing is checked as a pure function, then in a forked child
 * that puts sockets at descriptors 3 and 4, and finally under systemd's
 * own systemd-socket-activate, which runs this program again with the
 * argument "activated" (see main).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdnotify.h"

/* ---- a test NOTIFY_SOCKET ------------------------------------------ */

struct rx {
    char dir[64];
    char name[160]; /* the NOTIFY_SOCKET value */
    int fd;
};

static void rx_open(struct rx *r, int abstract)
{
    struct sockaddr_un sun;
    socklen_t len;

    memset(r, 0, sizeof(*r));
    strcpy(r->dir, "/tmp/bs-sdnotify-XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (abstract) {
        /* unique: our pid and the temporary directory's random part */
        snprintf(r->name, sizeof(r->name), "@bitstuff-test-%ld-%s",
                 (long) getpid(), r->dir + strlen("/tmp/bs-sdnotify-"));
        memcpy(sun.sun_path + 1, r->name + 1, strlen(r->name) - 1);
        len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) +
                           strlen(r->name));
    } else {
        snprintf(r->name, sizeof(r->name), "%s/notify", r->dir);
        strcpy(sun.sun_path, r->name);
        len = (socklen_t) sizeof(sun);
    }
    r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(r->fd >= 0);
    assert_int_equal(bind(r->fd, (struct sockaddr *) &sun, len), 0);
}

static void rx_close(struct rx *r)
{
    char path[200];

    close(r->fd);
    if (r->name[0] == '/') {
        unlink(r->name);
    }
    snprintf(path, sizeof(path), "%s", r->dir);
    rmdir(path);
}

/* The next datagram, within 10 s; "" if none came. */
static void rx_next(struct rx *r, char *buf, size_t cap, int timeout_ms)
{
    struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
    ssize_t n;

    buf[0] = '\0';
    if (poll(&pfd, 1, timeout_ms) != 1) {
        return;
    }
    n = recv(r->fd, buf, cap - 1, MSG_DONTWAIT);
    assert_true(n >= 0);
    buf[n] = '\0';
}

static void expect_msg(struct rx *r, const char *want)
{
    char got[2048];

    rx_next(r, got, sizeof(got), 10000);
    assert_string_equal(got, want);
}

static void expect_nothing_more(struct rx *r)
{
    char got[2048];

    rx_next(r, got, sizeof(got), 0);
    assert_string_equal(got, "");
}

static uint64_t now_usec(void)
{
    struct timespec ts;

    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static void notify_all(int abstract)
{
    struct rx r;
    struct bs_sdnotify n;
    char err[256] = "", got[2048], longer[3000];
    uint64_t before, after, usec;
    int flags;

    rx_open(&r, abstract);
    assert_int_equal(bs_sdnotify_open(&n, r.name, err, sizeof(err)), 0);
    assert_true(bs_sdnotify_enabled(&n));
    flags = fcntl(n.fd, F_GETFD);
    assert_true(flags != -1 && (flags & FD_CLOEXEC));

    assert_int_equal(bs_sdnotify_ready(&n, err, sizeof(err)), 1);
    expect_msg(&r, "READY=1");

    before = now_usec();
    assert_int_equal(bs_sdnotify_reloading(&n, err, sizeof(err)), 1);
    after = now_usec();
    rx_next(&r, got, sizeof(got), 10000);
    assert_int_equal(strncmp(got, "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
    {
        char *end;
        usec = strtoull(got + 27, &end, 10);
        assert_string_equal(end, "");
        assert_true(got[27] >= '1' && got[27] <= '9');
    }
    assert_true(usec >= before && usec <= after);

    assert_int_equal(
        bs_sdnotify_status(&n, "serving 3 clients", err, sizeof(err)), 1);
    expect_msg(&r, "STATUS=serving 3 clients");
    /* a newline would start a new assignment: it becomes a space */
    assert_int_equal(
        bs_sdnotify_status(&n, "two\nlines\tand\x7f", err, sizeof(err)), 1);
    expect_msg(&r, "STATUS=two lines and ");
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(bs_sdnotify_status(&n, longer, err, sizeof(err)), 1);
    rx_next(&r, got, sizeof(got), 10000);
    assert_int_equal(strlen(got), strlen("STATUS=") + BS_SDNOTIFY_STATUS_MAX);

    /* a state and its explanation in one datagram, the text cleaned */
    assert_int_equal(
        bs_sdnotify_state_status(&n, "READY=1", "up\nnow", err, sizeof(err)),
        1);
    expect_msg(&r, "READY=1\nSTATUS=up now");
    assert_int_equal(
        bs_sdnotify_state_status(&n, NULL, "alone", err, sizeof(err)), 1);
    expect_msg(&r, "STATUS=alone");
    assert_int_equal(
        bs_sdnotify_state_status(&n, "STOPPING=1", longer, err, sizeof(err)),
        1);
    rx_next(&r, got, sizeof(got), 10000);
    assert_int_equal(strlen(got),
                     strlen("STOPPING=1\nSTATUS=") + BS_SDNOTIFY_STATUS_MAX);
    assert_true(bs_sdnotify_state_status(&n, longer, "x", err, sizeof(err)) ==
                -EINVAL);
    assert_non_null(strstr(err, "state longer than"));

    assert_int_equal(bs_sdnotify_stopping(&n, err, sizeof(err)), 1);
    expect_msg(&r, "STOPPING=1");
    assert_int_equal(
        bs_sdnotify_send(&n, "READY=1\nSTATUS=up", err, sizeof(err)), 1);
    expect_msg(&r, "READY=1\nSTATUS=up");
    expect_nothing_more(&r);

    /* nobody listening any more: an error that says so, no signal */
    rx_close(&r);
    assert_true(bs_sdnotify_ready(&n, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "cannot notify systemd"));
    bs_sdnotify_close(&n);
    assert_false(bs_sdnotify_enabled(&n));
    bs_sdnotify_close(&n); /* twice is fine */
}

static void test_notify_path(void **state)
{
    (void) state;
    notify_all(0);
}

static void test_notify_abstract(void **state)
{
    (void) state;
    notify_all(1);
}

static void test_notify_off(void **state)
{
    struct bs_sdnotify n;
    char err[256] = "";

    (void) state;
    assert_int_equal(bs_sdnotify_open(&n, NULL, err, sizeof(err)), 0);
    assert_false(bs_sdnotify_enabled(&n));
    assert_int_equal(bs_sdnotify_ready(&n, err, sizeof(err)), 0);
    assert_int_equal(bs_sdnotify_reloading(&n, err, sizeof(err)), 0);
    assert_int_equal(bs_sdnotify_stopping(&n, err, sizeof(err)), 0);
    assert_int_equal(bs_sdnotify_status(&n, "x", err, sizeof(err)), 0);
    bs_sdnotify_close(&n);
    assert_int_equal(bs_sdnotify_open(&n, "", err, sizeof(err)), 0);
    assert_false(bs_sdnotify_enabled(&n));
    assert_string_equal(err, "");
}

static void test_notify_bad_address(void **state)
{
    struct bs_sdnotify n;
    char err[256], path[300];

    (void) state;
    assert_int_equal(bs_sdnotify_open(&n, "run/notify", err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "not a unix socket path"));
    assert_false(bs_sdnotify_enabled(&n));
    assert_int_equal(bs_sdnotify_open(&n, "vsock:2:1234", err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "vsock: are not supported"));
    assert_int_equal(bs_sdnotify_open(&n, "@", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "too short"));
    /* 107 bytes of path fit (with the NUL), 108 do not; abstract: 108 */
    memset(path, 'a', sizeof(path));
    path[0] = '/';
    path[108] = '\0';
    assert_int_equal(bs_sdnotify_open(&n, path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "too long"));
    path[107] = '\0';
    assert_int_equal(bs_sdnotify_open(&n, path, err, sizeof(err)), 0);
    bs_sdnotify_close(&n);
    path[0] = '@';
    path[107] = 'a';
    path[108] = '\0';
    assert_int_equal(bs_sdnotify_open(&n, path, err, sizeof(err)), 0);
    bs_sdnotify_close(&n);
    path[108] = 'a';
    path[109] = '\0';
    assert_int_equal(bs_sdnotify_open(&n, path, err, sizeof(err)), -EINVAL);
    /* a path where nothing listens */
    assert_int_equal(
        bs_sdnotify_open(&n, "/nonexistent-bitstuff/notify", err, sizeof(err)),
        0);
    assert_int_equal(bs_sdnotify_ready(&n, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent-bitstuff/notify"));
    bs_sdnotify_close(&n);
}

static void test_notify_env(void **state)
{
    struct rx r;
    struct bs_sdnotify n;
    char err[256];

    (void) state;
    rx_open(&r, 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", r.name, 1), 0);
    assert_int_equal(bs_sdnotify_open_env(&n, 0, err, sizeof(err)), 0);
    assert_non_null(getenv("NOTIFY_SOCKET"));
    bs_sdnotify_close(&n);
    assert_int_equal(bs_sdnotify_open_env(&n, 1, err, sizeof(err)), 0);
    assert_null(getenv("NOTIFY_SOCKET"));
    assert_int_equal(bs_sdnotify_ready(&n, err, sizeof(err)), 1);
    expect_msg(&r, "READY=1");
    bs_sdnotify_close(&n);
    assert_int_equal(bs_sdnotify_open_env(&n, 1, err, sizeof(err)), 0);
    assert_false(bs_sdnotify_enabled(&n));
    rx_close(&r);
}

/* ---- socket activation: the pure part ------------------------------- */

static struct bs_sdnotify_fds fds; /* 16 KiB: not on the stack */

/* bs_sdnotify_parse_listen in a process whose pid is 100, into fds, its
 * sentence in err (256 bytes). */
static int parse_listen(const char *pid, const char *count, const char *names,
                        char err[256])
{
    return bs_sdnotify_parse_listen(pid, count, names, 100, &fds, err, 256);
}

static void test_listen_parse(void **state)
{
    char err[256];
    char names[600];

    (void) state;
    /* not activated, or not for us */
    assert_int_equal(parse_listen(NULL, "1", NULL, err), 0);
    assert_int_equal(parse_listen("101", "1", NULL, err), 0);
    assert_int_equal(fds.n, 0);
    assert_int_equal(parse_listen("101", "junk", "a", err),
                     0); /* another's LISTEN_FDS is not ours to judge */
    assert_int_equal(parse_listen("100", NULL, NULL, err), 0);
    /* ours */
    assert_int_equal(parse_listen("100", "2", NULL, err), 2);
    assert_int_equal(fds.n, 2);
    assert_int_equal(fds.fds[0], 3);
    assert_int_equal(fds.fds[1], 4);
    assert_string_equal(fds.names[0], "unknown");
    assert_string_equal(fds.names[1], "unknown");
    assert_int_equal(parse_listen("100", "3", "tls:admin:x.y-z", err), 3);
    assert_string_equal(fds.names[0], "tls");
    assert_string_equal(fds.names[1], "admin");
    assert_string_equal(fds.names[2], "x.y-z");
    assert_int_equal(parse_listen("100", "64", NULL, err), 64);
    assert_int_equal(fds.fds[63], 66);

    /* bad values */
    static const char *bad_pids[] = {
        "", "abc", "0", "-5", "+100", " 100", "100 ", "0x64", "99999999999"};
    for (size_t i = 0; i < sizeof(bad_pids) / sizeof(bad_pids[0]); i++) {
        err[0] = '\0';
        assert_int_equal(parse_listen(bad_pids[i], "1", NULL, err), -EINVAL);
        assert_non_null(strstr(err, "is not a process id"));
    }
    static const char *bad_counts[] = {
        "", "0", "-1", "1x", " 1", "+1", "0x1", "18446744073709551616"};
    for (size_t i = 0; i < sizeof(bad_counts) / sizeof(bad_counts[0]); i++) {
        err[0] = '\0';
        assert_int_equal(parse_listen("100", bad_counts[i], NULL, err),
                         -EINVAL);
        assert_non_null(strstr(err, "is not a count of 1 or more"));
        assert_int_equal(fds.n, 0);
    }
    assert_int_equal(parse_listen("100", "65", NULL, err), -E2BIG);
    assert_non_null(strstr(err, "more sockets than the 64 supported"));
    assert_int_equal(parse_listen("100", "2", "a", err), -EINVAL);
    assert_non_null(strstr(err, "has 1 names for LISTEN_FDS=2"));
    assert_int_equal(parse_listen("100", "2", "a:b:c", err), -EINVAL);
    assert_non_null(strstr(err, "more names than LISTEN_FDS=2"));
    assert_int_equal(parse_listen("100", "2", "a:", err), -EINVAL);
    assert_non_null(strstr(err, "name 2 is empty"));
    assert_int_equal(parse_listen("100", "1", "", err), -EINVAL);
    assert_int_equal(parse_listen("100", "1", "a\tb", err), -EINVAL);
    memset(names, 'n', sizeof(names));
    names[255] = '\0';
    assert_int_equal(parse_listen("100", "1", names, err), 1);
    assert_int_equal(strlen(fds.names[0]), 255);
    names[255] = 'n';
    names[256] = '\0';
    assert_int_equal(parse_listen("100", "1", names, err), -EINVAL);
    assert_int_equal(fds.n, 0);
}

/* ---- socket activation: real descriptors ----------------------------- */

static int listener(void)
{
    struct sockaddr_un sun;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0); /* no CLOEXEC, as passed */

    if (fd < 0) {
        return -1;
    }
    /* an autobound abstract address: nothing on disk */
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (bind(fd, (struct sockaddr *) &sun, sizeof(sa_family_t)) != 0 ||
        listen(fd, 4) != 0)
    {
        close(fd);
        return -1;
    }
    return fd;
}

static int cloexec(int fd)
{
    int f = fcntl(fd, F_GETFD);
    return f == -1 ? -1 : (f & FD_CLOEXEC) != 0;
}

/* The child's checks; returns the number of the failed step, 0 if all
 * passed.  Runs in a fork, where moving descriptors to 3 and 4 harms no
 * one. */
static int child_checks(void)
{
    struct bs_sdnotify_fds *f = malloc(sizeof(*f));
    char err[256], pid[32];
    int a = listener(), b = listener(), dg;

    if (f == NULL || a < 0 || b < 0) {
        return 1;
    }
    /* out of the way first: a or b may already be 3 or 4 */
    int ha = fcntl(a, F_DUPFD, 100), hb = fcntl(b, F_DUPFD, 100);
    close(a);
    close(b);
    if (ha < 0 || hb < 0 || dup2(ha, 3) != 3 || dup2(hb, 4) != 4) {
        return 2;
    }
    close(ha);
    close(hb);
    close(5);
    /* for another process: nothing taken, nothing changed */
    snprintf(pid, sizeof(pid), "%ld", (long) getpid() + 1);
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "2", 1);
    setenv("LISTEN_FDNAMES", "tls:other", 1);
    if (bs_sdnotify_listen_fds(0, f, err, sizeof(err)) != 0 || f->n != 0 ||
        cloexec(3) != 0 || getenv("LISTEN_PID") == NULL)
    {
        return 3;
    }
    /* for us: two descriptors, close-on-exec now, variables kept */
    snprintf(pid, sizeof(pid), "%ld", (long) getpid());
    setenv("LISTEN_PID", pid, 1);
    if (bs_sdnotify_listen_fds(0, f, err, sizeof(err)) != 2 || f->n != 2 ||
        f->fds[0] != 3 || f->fds[1] != 4 || strcmp(f->names[0], "tls") != 0 ||
        strcmp(f->names[1], "other") != 0 || cloexec(3) != 1 ||
        cloexec(4) != 1 || getenv("LISTEN_FDS") == NULL)
    {
        return 4;
    }
    if (bs_sdnotify_is_stream_listener(3, err, sizeof(err)) != 1) {
        return 5;
    }
    /* a descriptor that is not open */
    setenv("LISTEN_FDS", "3", 1);
    unsetenv("LISTEN_FDNAMES");
    if (bs_sdnotify_listen_fds(1, f, err, sizeof(err)) != -EBADF || f->n != 0 ||
        strstr(err, "descriptor 5") == NULL)
    {
        return 6;
    }
    /* unset_env removed them all, whatever the outcome */
    if (getenv("LISTEN_PID") != NULL || getenv("LISTEN_FDS") != NULL) {
        return 7;
    }
    if (bs_sdnotify_listen_fds(1, f, err, sizeof(err)) != 0) {
        return 8;
    }
    /* bad values refused, and removed too */
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "two", 1);
    if (bs_sdnotify_listen_fds(1, f, err, sizeof(err)) != -EINVAL ||
        getenv("LISTEN_FDS") != NULL)
    {
        return 9;
    }
    /* what is not a listening stream socket */
    dg = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (bs_sdnotify_is_stream_listener(dg, err, sizeof(err)) != 0 ||
        strstr(err, "not a stream socket") == NULL)
    {
        return 10;
    }
    close(dg);
    dg = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bs_sdnotify_is_stream_listener(dg, err, sizeof(err)) != 0 ||
        strstr(err, "not listening") == NULL)
    {
        return 11;
    }
    close(dg);
    if (bs_sdnotify_is_stream_listener(0, err, sizeof(err)) == 1 ||
        bs_sdnotify_is_stream_listener(999, err, sizeof(err)) != -EBADF)
    {
        return 12;
    }
    free(f);
    return 0;
}

/* Wait for pid at most 30 s; its exit status, or -1 (killed) on a hang. */
static int wait_bounded(pid_t pid)
{
    int status = 0;

    for (int i = 0; i < 3000; i++) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void test_listen_fds(void **state)
{
    pid_t pid;

    (void) state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(child_checks());
    }
    assert_int_equal(wait_bounded(pid), 0);
}

/* "activated" mode (main): what systemd-socket-activate passed us. */
static int report_activation(void)
{
    struct bs_sdnotify_fds *f = malloc(sizeof(*f));
    char err[256] = "";
    int n;

    if (f == NULL) {
        return 1;
    }
    n = bs_sdnotify_listen_fds(1, f, err, sizeof(err));
    printf("n=%d name=%s cloexec=%d listener=%d env=%s err=%s\n", n,
           n > 0 ? f->names[0] : "-", n > 0 ? cloexec(f->fds[0]) : -1,
           n > 0 ? bs_sdnotify_is_stream_listener(f->fds[0], err, sizeof(err))
                 : -1,
           getenv("LISTEN_FDS") == NULL ? "unset" : "set", err);
    free(f);
    return 0;
}

static void test_systemd_socket_activate(void **state)
{
    char dir[] = "/tmp/bs-activate-XXXXXX", sock[96], out[512] = "";
    char self[PATH_MAX];
    struct sockaddr_un sun;
    int pipefd[2], c = -1;
    size_t got = 0;
    ssize_t len;
    pid_t pid;

    (void) state;
    if (access("/usr/bin/systemd-socket-activate", X_OK) != 0) {
        skip(); /* package systemd; scripts/deps.sh installs it */
    }
    len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(len > 0);
    self[len] = '\0';
    assert_non_null(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/s", dir);
    assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(pipefd[1], 1);
        if (devnull >= 0) {
            dup2(devnull, 2); /* its chatter */
        }
        execl("/usr/bin/systemd-socket-activate", "systemd-socket-activate",
              "-l", sock, "--fdname=bitstuff", self, "activated",
              (char *) NULL);
        _exit(127);
    }
    close(pipefd[1]);
    /* it execs us on the first connection */
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, sock);
    for (int i = 0; i < 1000 && c < 0; i++) {
        c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(c >= 0);
        if (connect(c, (struct sockaddr *) &sun, sizeof(sun)) != 0) {
            close(c);
            c = -1;
            usleep(10000);
        }
    }
    assert_true(c >= 0);
    for (int i = 0; i < 100 && strchr(out, '\n') == NULL; i++) {
        struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
        if (poll(&pfd, 1, 300) == 1) {
            len = read(pipefd[0], out + got, sizeof(out) - 1 - got);
            if (len <= 0) {
                break;
            }
            got += (size_t) len;
            out[got] = '\0';
        }
    }
    close(c);
    close(pipefd[0]);
    assert_int_equal(wait_bounded(pid), 0);
    unlink(sock);
    rmdir(dir);
    assert_string_equal(
        out, "n=1 name=bitstuff cloexec=1 listener=1 env=unset err=\n");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_path),
        cmocka_unit_test(test_notify_abstract),
        cmocka_unit_test(test_notify_off),
        cmocka_unit_test(test_notify_bad_address),
        cmocka_unit_test(test_notify_env),
        cmocka_unit_test(test_listen_parse),
        cmocka_unit_test(test_listen_fds),
        cmocka_unit_test(test_systemd_socket_activate),
    };

    if (argc == 2 && strcmp(argv[1], "activated") == 0) {
        return report_activation();
    }
    unsetenv("NOTIFY_SOCKET"); /* the test's own manager must not hear us */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
