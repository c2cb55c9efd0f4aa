/*
 * main.c - bitstuff, the client: options, TLS context, files; the
 * exchange itself is in session.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "container.h"
#include "net.h"
#include "outfile.h"
#include "progress.h"
#include "session.h"
#include "tls.h"

/* Set by SIGINT, SIGTERM, SIGHUP or SIGQUIT: the signal's number.  The handler
 * also writes a byte to a pipe (the self-pipe trick) whose read end the session
 * polls with the connection, so that a signal that lands just before poll()
 * still wakes it; both are written once here and only read elsewhere. */
static volatile sig_atomic_t stop_signal;
static int stop_pipe[2] = {-1, -1};

static void on_stop_signal(int sig)
{
    int saved = errno;

    stop_signal = sig;
    if (stop_pipe[1] >= 0) {
        (void) !write(stop_pipe[1], "", 1); /* full pipe: already woken */
    }
    errno = saved;
}

/* No SA_RESTART: a blocking read or write in progress returns EINTR, so
 * that the session sees the flag at once. */
static void catch_stop_signals(void)
{
    struct sigaction sa;

    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        stop_pipe[0] = stop_pipe[1] = -1; /* the flag alone, then */
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* the terminal or ssh session went away */
    sigaction(SIGQUIT, &sa, NULL);
    /* a file size limit: write() fails with EFBIG and the transfer ends
     * on the usual error path, which removes the temporary file */
    signal(SIGXFSZ, SIG_IGN);
}

/* File mode: the input, the output and what is known of them. */
struct files {
    struct bs_session_files sf;
    struct bs_ctr_reader ctr;
    int have_ctr;
    struct bs_outfile out;
};

/* Read up to n bytes (fewer only at the end of the input). */
static ssize_t read_full(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);

        if (r == 0) {
            break;
        }
        if (r < 0) {
            if (errno == EINTR && stop_signal == 0) {
                continue;
            }
            return -1;
        }
        got += (size_t) r;
    }
    return (ssize_t) got;
}

/* A regular file is read once through a reader of its own before the
 * server is contacted, so that a damaged container fails with no
 * connection made and no output. */
static int verify_container(const struct bs_cli_opts *o, int fd)
{
    struct bs_ctr_reader r;
    enum bs_ctr_status st = BS_CTR_OK;
    uint8_t *buf = malloc(2 * 65536u);
    off_t pos = 0;
    int rc = -1;

    if (buf == NULL || bs_ctr_reader_init(&r) != 0) {
        fprintf(stderr, "error: out of memory\n");
        free(buf);
        return -1;
    }
    for (;;) {
        size_t outn;
        ssize_t n = pread(fd, buf, 65536u, pos);

        if (n < 0 && errno == EINTR && stop_signal == 0) {
            continue;
        }
        if (n < 0) {
            fprintf(stderr, "error: cannot read --in %s: %s\n", o->in_file,
                    strerror(errno));
            goto out;
        }
        if (n == 0) {
            uint8_t tail;
            size_t nt;
            uint64_t bits;

            st = bs_ctr_reader_finish(&r, &tail, &nt, &bits);
            break;
        }
        pos += n;
        st = bs_ctr_reader_feed(&r, buf, (size_t) n, buf + 65536u, &outn);
        if (st != BS_CTR_OK) {
            break;
        }
    }
    if (st != BS_CTR_OK) {
        fprintf(stderr, "error: --in %s: %s\n", o->in_file,
                bs_ctr_strerror(st));
        goto out;
    }
    rc = 0;
out:
    bs_ctr_reader_free(&r);
    free(buf);
    return rc;
}

/*
 * -u of a container: read its header now, before connecting, to learn
 * its rule (and refuse a wrong one); a regular file is checked whole.
 */
static int open_container(struct bs_cli_opts *o, struct files *fl,
                          const struct stat *in_st)
{
    uint8_t hdr[BS_CTR_HDR_LEN], scratch[BS_CTR_HDR_LEN];
    enum bs_ctr_status st;
    size_t outn;
    ssize_t n;
    enum bs_rule rule;

    if (S_ISREG(in_st->st_mode) && verify_container(o, fl->sf.in_fd) != 0) {
        return -1;
    }
    if (bs_ctr_reader_init(&fl->ctr) != 0) {
        fprintf(stderr, "error: out of memory\n");
        return -1;
    }
    fl->have_ctr = 1;
    n = read_full(fl->sf.in_fd, hdr, sizeof(hdr));
    if (n < 0) {
        fprintf(stderr, "error: cannot read --in %s: %s\n", o->in_file,
                strerror(errno));
        return -1;
    }
    st = bs_ctr_reader_feed(&fl->ctr, hdr, (size_t) n, scratch, &outn);
    if (st == BS_CTR_OK && !bs_ctr_reader_has_header(&fl->ctr)) {
        uint8_t tail;
        uint64_t bits;

        st = bs_ctr_reader_finish(&fl->ctr, &tail, &outn, &bits);
    }
    if (st != BS_CTR_OK) {
        fprintf(stderr, "error: --in %s: %s\n", o->in_file,
                bs_ctr_strerror(st));
        return -1;
    }
    if (fl->sf.in_size != BS_PROGRESS_UNKNOWN) {
        fl->sf.in_size -= (uint64_t) n; /* progress counts what is left */
    }
    rule = bs_ctr_reader_rule(&fl->ctr);
    if (o->has_rule && rule != o->rule) {
        fprintf(stderr,
                "error: --in %s holds data stuffed with the %s rule, not "
                "--rule %s; give --rule %s, or no --rule\n",
                o->in_file, bs_rule_name(rule), bs_rule_name(o->rule),
                bs_rule_name(rule));
        return -1;
    }
    o->rule = rule;
    fl->sf.ctr_in = &fl->ctr;
    return 0;
}

/*
 * Open the input and the output of file mode and check, before any
 * connection, what can be checked: the input is readable, --in-bits fits
 * in a regular file, a container is whole and of the right rule, the
 * output can be created.  Returns 0, or -1 after a message.
 */
static int open_files(struct bs_cli_opts *o, struct files *fl)
{
    struct stat si, so;
    char err[512];
    uint64_t avail;

    fl->sf.in_fd = 0;
    fl->sf.out_fd = -1;
    fl->sf.in_size = BS_PROGRESS_UNKNOWN;
    if (strcmp(o->in_file, "-") != 0) {
        fl->sf.in_fd = open(o->in_file, O_RDONLY | O_CLOEXEC);
        if (fl->sf.in_fd < 0) {
            fprintf(stderr, "error: cannot open --in %s: %s\n", o->in_file,
                    strerror(errno));
            return -1;
        }
    }
    if (fstat(fl->sf.in_fd, &si) != 0) {
        fprintf(stderr, "error: cannot read --in %s: %s\n", o->in_file,
                strerror(errno));
        return -1;
    }
    if (S_ISDIR(si.st_mode)) {
        fprintf(stderr, "error: --in %s is a directory\n", o->in_file);
        return -1;
    }
    if (S_ISREG(si.st_mode)) {
        avail = (uint64_t) si.st_size;
        if (o->has_in_bits) {
            if (o->in_bits / 8 > avail ||
                (o->in_bits / 8 == avail && o->in_bits % 8 != 0)) {
                fprintf(stderr,
                        "error: %s holds only %llu bits, fewer than "
                        "--in-bits %llu\n",
                        o->in_file, (unsigned long long) avail * 8u,
                        (unsigned long long) o->in_bits);
                return -1;
            }
            avail = bs_bytes_for_bits((size_t) o->in_bits);
        }
        fl->sf.in_size = avail;
    }
    if (o->op == BS_PROTO_UNSTUFF && !o->raw && open_container(o, fl, &si) != 0)
    {
        return -1;
    }
    fl->sf.ctr_out = o->op == BS_PROTO_STUFF && !o->raw;

    if (o->out_file != NULL && strcmp(o->out_file, "-") != 0 &&
        stat(o->out_file, &so) == 0 && si.st_dev == so.st_dev &&
        si.st_ino == so.st_ino && S_ISREG(so.st_mode))
    {
        fprintf(stderr, "error: --out %s is the --in file\n", o->out_file);
        return -1;
    }
    if (bs_outfile_open(&fl->out, o->out_file != NULL ? o->out_file : "-", err,
                        sizeof(err)) != 0)
    {
        fprintf(stderr, "error: --out: %s\n", err);
        return -1;
    }
    fl->sf.out_fd = fl->out.fd;
    return 0;
}

/* After the run: make the output final, or leave the target as it was. */
static enum bs_cli_exit close_files(const struct bs_cli_opts *o,
                                    struct files *fl, enum bs_cli_exit rc)
{
    char err[512];

    if (rc == BS_CLI_EXIT_OK) {
        if (bs_outfile_commit(&fl->out, err, sizeof(err)) != 0) {
            fprintf(stderr, "error: --out: %s; %s is left as it was\n", err,
                    o->out_file);
            rc = BS_CLI_EXIT_USAGE;
        }
    } else if (fl->out.kind == BS_OUTFILE_TEMP) {
        int existed = fl->out.existed;

        (void) bs_outfile_abort(&fl->out);
        if (!o->quiet && existed) {
            fprintf(stderr, "%s is left as it was (nothing written)\n",
                    o->out_file);
        } else if (!o->quiet) {
            fprintf(stderr, "%s is not created\n", o->out_file);
        }
    } else {
        if (fl->out.kind == BS_OUTFILE_INPLACE && !o->quiet) {
            fprintf(stderr,
                    "note: %s is not a regular file: what was written to it "
                    "before the failure stays written\n",
                    o->out_file);
        }
        (void) bs_outfile_abort(&fl->out);
    }
    if (fl->have_ctr) {
        bs_ctr_reader_free(&fl->ctr);
    }
    if (fl->sf.in_fd > 0) {
        close(fl->sf.in_fd);
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct bs_cli_opts o;
    struct bs_tls_client_config cfg;
    struct bs_session_target t;
    struct bs_tls_ctx *ctx = NULL;
    char err[512], host[256], port[32];
    struct files fl;
    enum bs_cli_exit rc;

    /* a server that goes away must give an error, not kill us */
    signal(SIGPIPE, SIG_IGN);

    switch (bs_cli_parse(argc, argv, &o, err, sizeof(err))) {
    case BS_CLI_RUN:
        break;
    case BS_CLI_HELP:
        bs_cli_usage(stdout, "bitstuff");
        return BS_CLI_EXIT_OK;
    case BS_CLI_VERSION:
        printf("bitstuff %s (protocol %s)\n", BS_VERSION, BS_PROTO_ALPN);
        return BS_CLI_EXIT_OK;
    case BS_CLI_LIST:
        bs_cli_list(stdout);
        return BS_CLI_EXIT_OK;
    case BS_CLI_ERROR:
        fprintf(stderr, "bitstuff: %s\nTry 'bitstuff --help'.\n", err);
        return BS_CLI_EXIT_USAGE;
    }

    if (bs_net_split_hostport(o.connect, BS_CLI_DEFAULT_PORT, host,
                              sizeof(host), port, sizeof(port), err,
                              sizeof(err)) != 0)
    {
        fprintf(stderr, "bitstuff: --connect: %s\n", err);
        return BS_CLI_EXIT_USAGE;
    }
    if (host[0] == '\0') {
        snprintf(host, sizeof(host), "%s", BS_NET_DEFAULT_HOST);
    }
    t.host = host;
    t.port = port;
    t.servername = o.servername != NULL ? o.servername : host;

    memset(&cfg, 0, sizeof(cfg));
    cfg.advice = bs_cli_tls_advice; /* this program's words in TLS errors */
    cfg.ca_file = o.ca_file;
    if (cfg.ca_file == NULL && access(BS_CLI_DEFAULT_CA, R_OK) == 0) {
        cfg.ca_file = BS_CLI_DEFAULT_CA;
    }
    cfg.cert_file = o.cert_file;
    cfg.key_file = o.key_file;
    cfg.min_version = o.min_tls;
    cfg.insecure = o.insecure;
    cfg.keylog_file = o.keylog_file;
    if (o.insecure) {
        fprintf(stderr, "warning: --insecure: the server's certificate is NOT "
                        "verified; anyone on the path can read and change the "
                        "data\n");
    }
    if (o.keylog_file != NULL) {
        fprintf(stderr,
                "WARNING: --keylog-file %s: this session's TLS secrets are "
                "written there; anyone who can read it can decrypt the "
                "traffic. For debugging only.\n",
                o.keylog_file);
    }
    ctx = bs_tls_ctx_new_client(&cfg, err, sizeof(err));
    if (ctx == NULL) {
        fprintf(stderr, "error: %s\n", err);
        return BS_CLI_EXIT_USAGE;
    }

    memset(&fl, 0, sizeof(fl));
    fl.out.fd = -1;
    catch_stop_signals();
    if (o.in_file != NULL && open_files(&o, &fl) != 0) {
        /* a signal while waiting for the input or a FIFO's reader */
        rc = stop_signal != 0 ? BS_CLI_EXIT_INTERRUPTED : BS_CLI_EXIT_USAGE;
        (void) close_files(&o, &fl, rc);
        goto out;
    }
    if (stop_signal != 0) {
        rc = BS_CLI_EXIT_INTERRUPTED;
    } else {
        rc = bs_session_run(&o, ctx, &t, o.in_file != NULL ? &fl.sf : NULL,
                            &stop_signal, stop_pipe[0]);
    }
    if (o.in_file != NULL) {
        rc = close_files(&o, &fl, rc);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "error: cannot write standard output: %s\n",
                strerror(errno));
        if (rc == BS_CLI_EXIT_OK) {
            rc = BS_CLI_EXIT_USAGE;
        }
    }

out:
    bs_tls_ctx_free(ctx);
    if (rc == BS_CLI_EXIT_INTERRUPTED && stop_signal != 0) {
        /* die of the signal, as the shell expects (130 or 143) */
        int sig = stop_signal;

        signal(sig, SIG_DFL);
        raise(sig);
    }
    return (int) rc;
}
