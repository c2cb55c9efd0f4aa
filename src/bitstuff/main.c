/*
 * main.c - bitstuff, the client: options, TLS context, files; the
 * exchange itself is in session.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "net.h"
#include "session.h"
#include "tls.h"

static int open_files(const struct bs_cli_opts *o, int *in_fd, int *out_fd,
                      const char **out_path)
{
    struct stat si, so;

    *in_fd = 0;
    *out_fd = 1;
    *out_path = NULL;
    if (strcmp(o->in_file, "-") != 0) {
        *in_fd = open(o->in_file, O_RDONLY | O_CLOEXEC);
        if (*in_fd < 0) {
            fprintf(stderr, "error: cannot open --in %s: %s\n", o->in_file,
                    strerror(errno));
            return -1;
        }
    }
    if (o->out_file != NULL && strcmp(o->out_file, "-") != 0) {
        /* truncating the input would destroy it before it is read */
        if (stat(o->out_file, &so) == 0 && fstat(*in_fd, &si) == 0 &&
            si.st_dev == so.st_dev && si.st_ino == so.st_ino)
        {
            fprintf(stderr, "error: --out %s is the --in file\n", o->out_file);
            return -1;
        }
        *out_fd =
            open(o->out_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (*out_fd < 0) {
            fprintf(stderr, "error: cannot create --out %s: %s\n", o->out_file,
                    strerror(errno));
            return -1;
        }
        *out_path = o->out_file;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct bs_cli_opts o;
    struct bs_tls_client_config cfg;
    struct bs_session_target t;
    struct bs_tls_ctx *ctx = NULL;
    char err[512], host[256], port[32];
    const char *out_path = NULL;
    int in_fd = -1, out_fd = -1;
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
        snprintf(host, sizeof(host), "%s", "localhost");
    }
    t.host = host;
    t.port = port;
    t.servername = o.servername != NULL ? o.servername : host;

    memset(&cfg, 0, sizeof(cfg));
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

    if (o.in_file != NULL && open_files(&o, &in_fd, &out_fd, &out_path) != 0) {
        rc = BS_CLI_EXIT_USAGE;
        goto out;
    }
    rc = bs_session_run(&o, ctx, &t, in_fd, out_fd, out_path);
    if (out_path != NULL) {
        if (close(out_fd) != 0 && rc == BS_CLI_EXIT_OK) {
            fprintf(stderr, "error: cannot write --out %s: %s\n", out_path,
                    strerror(errno));
            unlink(out_path);
            rc = BS_CLI_EXIT_USAGE;
        }
        out_fd = -1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "error: cannot write standard output: %s\n",
                strerror(errno));
        if (rc == BS_CLI_EXIT_OK) {
            rc = BS_CLI_EXIT_USAGE;
        }
    }

out:
    if (in_fd > 0) {
        close(in_fd);
    }
    if (out_fd > 1) {
        close(out_fd);
    }
    bs_tls_ctx_free(ctx);
    return (int) rc;
}
