/*
 * session.h - one run of the client: connect, handshake, send every
 * message pipelined while reading the replies, print them, close.
 */
#ifndef BS_SESSION_H
#define BS_SESSION_H

#include <signal.h>
#include <stdint.h>

#include "cli.h"
#include "container.h"
#include "tls.h"

struct bs_session_target {
    const char *host; /* to connect to */
    const char *port;
    const char *servername; /* SNI and the name checked */
};

/* What file mode reads and writes; everything is the caller's. */
struct bs_session_files {
    int in_fd;  /* the input, positioned where the data starts */
    int out_fd; /* the output (a temporary file, a device, stdout) */
    /* -u of a container: a reader already fed the bytes main read ahead
     * (its header); the session feeds it the rest.  NULL: raw input. */
    struct bs_ctr_reader *ctr_in;
    int ctr_out;      /* stuff: write a container (not --raw) */
    uint64_t in_size; /* bytes the input holds, or BS_PROGRESS_UNKNOWN */
};

/*
 * Run the exchange the options describe: BITS arguments, lines from
 * standard input (fd 0), or file mode (f not NULL).  The output is not
 * made final here: on a non-zero return the caller discards it.  stop,
 * set by the caller's SIGINT/SIGTERM handler, ends the run at the next
 * turn of its loop with BS_CLI_EXIT_INTERRUPTED; stop_fd (or -1) is the
 * read end of a pipe the handler writes to, polled with the connection so
 * that no wait outlives the signal.  The handler must be installed
 * without SA_RESTART, so that blocking reads return EINTR.  Prints
 * results on stdout and errors on stderr.  Returns the exit code (enum
 * bs_cli_exit): the first failure decides.
 */
enum bs_cli_exit bs_session_run(const struct bs_cli_opts *o,
                                struct bs_tls_ctx *ctx,
                                const struct bs_session_target *t,
                                const struct bs_session_files *f,
                                volatile sig_atomic_t *stop, int stop_fd);

#endif /* BS_SESSION_H */
