/*
 * session.h - one run of the client: connect, handshake, send every
 * message pipelined while reading the replies, print them, close.
 */
#ifndef BS_SESSION_H
#define BS_SESSION_H

#include "cli.h"
#include "tls.h"

struct bs_session_target {
    const char *host; /* to connect to */
    const char *port;
    const char *servername; /* SNI and the name checked */
};

/*
 * Run the exchange the options describe: BITS arguments, lines from
 * standard input (fd 0), or file mode (in_fd -> out_fd, both opened by
 * the caller and borrowed).  out_path, if not NULL, is the output file to
 * remove when the run fails, so that a file left behind is complete.
 * Prints results on stdout and errors on stderr.  Returns the exit code
 * (enum bs_cli_exit): the first failure decides.
 */
enum bs_cli_exit bs_session_run(const struct bs_cli_opts *o,
                                struct bs_tls_ctx *ctx,
                                const struct bs_session_target *t, int in_fd,
                                int out_fd, const char *out_path);

#endif /* BS_SESSION_H */
