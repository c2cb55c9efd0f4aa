/*
 * session.c - the client's event loop.
 *
 * One non-blocking TLS connection, polled together with standard input.
 * Requests are encoded into a bounded output buffer while replies are
 * read and decoded, in the same loop: the server stops reading when its
 * replies are not read (backpressure), so a client that only wrote would
 * deadlock against it.  Memory stays bounded in every mode: arguments are
 * already in memory, standard input is read a window of lines at a time,
 * and files stream through fixed buffers.
 */
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bitio.h"
#include "chunk.h"
#include "container.h"
#include "explainer.h"
#include "net.h"
#include "progress.h"
#include "proto.h"
#include "timer.h"
#include "tlsinfo.h"

#define CHUNK_BYTES  (BS_PROTO_MAX_CHUNK_BITS / 8u)
#define OUT_CAP      (2u * (BS_PROTO_HDR_LEN + CHUNK_BYTES))
#define IN_CAP       (64u * 1024u)
#define RAW_CAP      (64u * 1024u)
#define FILE_OUT_CAP (256u * 1024u)
/* Lines from a pipe in flight at once: enough to keep the connection
 * busy, few enough to bound memory. */
#define STDIN_WINDOW       256u
#define STDIN_WINDOW_BYTES (16u * 1024u * 1024u)
/* Reads in a row before the loop turns to writing again. */
#define READ_BURST 16

enum mode { MODE_ARGS, MODE_STDIN, MODE_FILE };

struct msg {
    char *text; /* '0'/'1' characters; NULL in file mode */
    size_t len;
    size_t id; /* argument or line number, for messages */
    int owned; /* text was allocated (stdin lines) */
};

struct session {
    const struct bs_cli_opts *o;
    struct bs_tls_ctx *ctx;
    const struct bs_session_target *t;
    enum mode mode;
    enum bs_cli_exit rc; /* the first failure */
    char label[40];

    /* connection */
    int fd;
    struct bs_tls_conn *tls;
    int got_reply; /* any byte received on this connection */
    int more;      /* data may be buffered: poll without waiting */

    /* messages in flight: q[head .. head+qlen) in a ring; the first
     * qsent of them are fully encoded, the next has send_pos bits out */
    struct msg *q;
    size_t qcap, qhead, qlen, qsent, send_pos, qbytes;
    size_t next_arg;
    int need_last; /* an aborted message still needs its LAST chunk */

    /* standard input */
    int tty, stdin_eof, prompted;
    uint8_t raw[RAW_CAP];
    size_t raw_off, raw_len;
    char *line;
    size_t line_len, line_cap, lineno;
    int line_skip; /* discarding the rest of an overlong line */

    /* encoded requests not yet written */
    uint8_t out[OUT_CAP];
    size_t out_off, out_len;

    /* replies */
    uint8_t in[IN_CAP];
    struct bs_proto_decoder dec;
    char errbuf[BS_PROTO_ERRBUF_SIZE]; /* text of the server's 'E' frames */
    int reply_open;
    char *reply; /* text modes: the open reply's bits */
    size_t reply_len, reply_cap;

    /* file mode */
    int in_fd, out_fd;
    struct bs_ctr_reader *ctr_in; /* -u of a container, else NULL */
    int ctr_out;                  /* stuff into a container */
    struct bs_ctr_writer cw;
    int ctr_started;  /* the container's header is written */
    uint64_t in_read; /* bytes read from in_fd (progress) */
    uint64_t in_left, sent_bits;
    int in_first, in_done, file_done;
    uint8_t *fout;
    uint8_t *stage; /* container input, before the reader */
    struct bs_bitio_writer w;
    struct bs_progress prog;
    int64_t waited_ms; /* polls in a row cut short by progress ticks */

    struct bs_tlsinfo_trace trace; /* -v: the handshake as it happens */

    /* --explain: colour on its stream; file mode's bits sent and
     * received */
    int xcolour;
    struct bs_explainer_bits xin, xout;

    volatile sig_atomic_t *stop; /* SIGINT/SIGTERM seen */
    int stop_fd;                 /* readable once one was (or -1) */
};

static int64_t now_ms(void)
{
    return (int64_t) bs_timer_now_ms();
}

static void set_rc(struct session *s, enum bs_cli_exit rc)
{
    if (s->rc == BS_CLI_EXIT_OK) {
        s->rc = rc;
    }
}

/* A SIGINT or SIGTERM arrived: say so once, and stop. */
static int stopped(const struct session *s)
{
    return s->stop != NULL && *s->stop != 0;
}

static enum bs_cli_exit interrupted(struct session *s)
{
    bs_progress_end(&s->prog);
    fprintf(stderr, "bitstuff: interrupted%s\n",
            s->mode == MODE_FILE ? "; the output is discarded" : "");
    return BS_CLI_EXIT_INTERRUPTED;
}

static struct msg *q_at(struct session *s, size_t i)
{
    return &s->q[(s->qhead + i) % s->qcap];
}

static void q_pop(struct session *s)
{
    struct msg *m = q_at(s, 0);

    if (m->owned) {
        free(m->text);
    }
    s->qbytes -= m->len;
    memset(m, 0, sizeof(*m));
    s->qhead = (s->qhead + 1) % s->qcap;
    s->qlen--;
    if (s->qsent > 0) {
        s->qsent--;
    } else if (s->mode != MODE_FILE) {
        /* answered before we sent all of it (an error reply): the server
         * discards the rest up to LAST, so end it with an empty LAST */
        s->send_pos = 0;
        s->need_last = 1;
    }
}

/* Has the oldest message in flight begun to go out (can it have a
 * reply)? */
static int head_started(const struct session *s)
{
    if (s->qlen == 0) {
        return 0;
    }
    if (s->mode == MODE_FILE) {
        return !s->in_first || s->in_done;
    }
    return s->qsent > 0 || s->send_pos > 0;
}

static void disconnect(struct session *s)
{
    bs_tls_conn_free(s->tls);
    s->tls = NULL;
    bs_tlsinfo_trace_free(&s->trace);
    if (s->fd >= 0) {
        close(s->fd);
    }
    s->fd = -1;
    /* the LAST chunk an aborted message owed belongs to this connection:
     * sent on the next one it would fail the next message */
    s->need_last = 0;
}

/* The poll events for what a TLS connection waits for (tls.h), and the
 * readiness poll reported, for the connection. */
static short poll_events(unsigned want)
{
    return (short) (((want & BS_TLS_EV_READ) ? POLLIN : 0) |
                    ((want & BS_TLS_EV_WRITE) ? POLLOUT : 0));
}

static unsigned tls_events(short revents)
{
    return ((revents & POLLIN) ? BS_TLS_EV_READ : 0u) |
           ((revents & POLLOUT) ? BS_TLS_EV_WRITE : 0u) |
           ((revents & (POLLHUP | POLLERR)) ? BS_TLS_EV_HUP : 0u);
}

/* Wait for fd within the deadline; returns 1 ready, 0 timeout, -1 error,
 * -2 stopped by a signal. */
static int wait_fd(const struct session *s, int fd, short events,
                   int64_t deadline)
{
    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = events},
                              {.fd = s->stop_fd, .events = POLLIN}};
        int64_t left = deadline - now_ms();
        int n;

        if (stopped(s)) {
            return -2;
        }
        if (left <= 0) {
            return 0;
        }
        n = poll(p, s->stop_fd >= 0 ? 2 : 1,
                 left > INT32_MAX ? INT32_MAX : (int) left);
        if (n > 0 && p[0].revents != 0) {
            return 1;
        }
        if (n > 0) {
            continue; /* the stop pipe: stopped() says so above */
        }
        if (n == 0) {
            return 0;
        }
        if (errno != EINTR) {
            return -1;
        }
        if (stopped(s)) {
            return -2;
        }
    }
}

/*
 * Report a failed handshake once, in one sentence, and give its exit
 * code.  The connection was made, so a peer that hangs up now (EOF or a
 * reset) did not speak our TLS: a handshake failure (3), not a network
 * one (2).
 */
static enum bs_cli_exit handshake_failed(struct session *s, bs_tls_status st)
{
    static const char prefix[] = "TLS handshake failed: ";
    const struct bs_session_target *t = s->t;
    enum bs_tls_failure f =
        st == BS_TLS_EOF ? BS_TLS_FAIL_NETWORK : bs_tls_conn_failure(s->tls);
    const char *why = st == BS_TLS_EOF ? "the server closed the connection"
                                       : bs_tls_conn_error(s->tls);

    /* the TLS layer's sentence starts with what failed; we say it too */
    if (strncmp(why, prefix, sizeof(prefix) - 1) == 0) {
        why += sizeof(prefix) - 1;
    }
    if (f == BS_TLS_FAIL_NETWORK) {
        /* "closed the connection ..." would say the same twice; a reset
         * or another errno adds something */
        int same = strstr(why, "closed the connection") != NULL;

        fprintf(stderr,
                "error: TLS handshake with %s:%s failed: the server hung up "
                "before the handshake finished%s%s%s; is %s:%s a bitstuffd "
                "TLS port?\n",
                t->host, t->port, same ? "" : " (", same ? "" : why,
                same ? "" : ")", t->host, t->port);
    } else {
        fprintf(stderr, "error: TLS handshake with %s:%s failed: %s\n", t->host,
                t->port, why);
    }
    return bs_cli_exit_for_tls(f, 1, 0, s->o->cert_file != NULL);
}

/* ---- -v: the TLS handshake in words (tlsinfo.h) ---- */

/* A handshake message as it passes: "> ClientHello (238 bytes)". */
static void verbose_trace_line(void *arg, const char *line)
{
    (void) arg;
    fprintf(stderr, "%s\n", line);
}

/* A fact about the connection: "* TLS version: TLSv1.3". */
static void verbose_info_line(void *arg, const char *line)
{
    (void) arg;
    fprintf(stderr, "* %s\n", line);
}

static void verbose_start(struct session *s)
{
    if (s->o->verbose) {
        (void) bs_tlsinfo_trace_start(
            s->tls, &s->trace, verbose_trace_line, NULL,
            s->o->verbose > 1 ? BS_TLSINFO_RECORDS : 0u);
    }
}

/* After the handshake, or after it failed: what was agreed, the chain
 * received and what was checked of it. */
static void verbose_summary(struct session *s, int failed)
{
    if (!s->o->verbose) {
        return;
    }
    if (failed) {
        fprintf(stderr, "* the handshake failed; what it got that far:\n");
    }
    bs_tlsinfo_describe(s->tls, &s->trace, verbose_info_line, NULL);
}

static enum bs_cli_exit do_connect(struct session *s)
{
    const struct bs_session_target *t = s->t;
    char err[512];
    int64_t deadline;
    int rc;

    rc = bs_net_connect(t->host, t->port, s->o->timeout_ms, &s->fd, err,
                        sizeof(err));
    if (rc < 0) {
        s->fd = -1;
        fprintf(stderr, "error: %s\n", err);
        return BS_CLI_EXIT_NETWORK;
    }
    rc = bs_net_set_nonblock(s->fd, 1);
    if (rc < 0) {
        fprintf(stderr, "error: cannot make the socket non-blocking: %s\n",
                strerror(-rc));
        disconnect(s);
        return BS_CLI_EXIT_NETWORK;
    }
    s->tls = bs_tls_conn_new(s->ctx, s->fd, t->servername, err, sizeof(err));
    if (s->tls == NULL) {
        fprintf(stderr, "error: %s\n", err);
        disconnect(s);
        return BS_CLI_EXIT_USAGE;
    }
    verbose_start(s);

    deadline = now_ms() + s->o->timeout_ms;
    for (;;) {
        bs_tls_status st = bs_tls_handshake(s->tls);
        short ev;
        int w;

        if (st == BS_TLS_OK) {
            break;
        }
        if (st != BS_TLS_WANT_READ && st != BS_TLS_WANT_WRITE) {
            enum bs_cli_exit code;

            verbose_summary(s, 1);
            code = handshake_failed(s, st);

            disconnect(s);
            return code;
        }
        ev = poll_events(bs_tls_conn_blocked(s->tls, BS_TLS_RECV_SIDE));
        w = wait_fd(s, s->fd, ev, deadline);
        if (w == -2) {
            disconnect(s);
            return interrupted(s);
        }
        if (w < 0) {
            fprintf(stderr, "error: TLS handshake with %s:%s: poll: %s\n",
                    t->host, t->port, strerror(errno));
            disconnect(s);
            return BS_CLI_EXIT_NETWORK;
        }
        if (w == 0) {
            fprintf(stderr,
                    "error: TLS handshake with %s:%s timed out after %d ms "
                    "(--timeout); is it a bitstuffd TLS port?\n",
                    t->host, t->port, s->o->timeout_ms);
            disconnect(s);
            return BS_CLI_EXIT_NETWORK;
        }
    }
    if (s->o->verbose) {
        fprintf(stderr, "connected to %s:%s (%s, %s%s)\n", t->host, t->port,
                bs_tls_conn_version(s->tls), bs_tls_conn_cipher(s->tls),
                bs_tls_conn_resumed(s->tls) ? ", resumed" : "");
    }
    verbose_summary(s, 0);
    s->got_reply = 0;
    bs_proto_decoder_init(&s->dec, BS_PROTO_ROLE_CLIENT, NULL);
    bs_proto_decoder_set_errbuf(&s->dec, s->errbuf);
    return BS_CLI_EXIT_OK;
}

/* ---- input: where messages come from ---- */

static int q_push(struct session *s, char *text, size_t len, size_t id,
                  int owned)
{
    struct msg *m;

    if (s->qlen == s->qcap) {
        return -1;
    }
    m = q_at(s, s->qlen);
    m->text = text;
    m->len = len;
    m->id = id;
    m->owned = owned;
    s->qlen++;
    s->qbytes += len;
    return 0;
}

static int window_open(const struct session *s)
{
    if (s->qlen == s->qcap) {
        return 0;
    }
    return s->qlen == 0 || s->qbytes < STDIN_WINDOW_BYTES;
}

static void take_line(struct session *s)
{
    size_t start, len;
    char *text, what[32], err[160];

    s->lineno++;
    bs_cli_trim(s->line, s->line_len, &start, &len);
    s->line_len = 0;
    if (len == 0) {
        return;
    }
    snprintf(what, sizeof(what), "line %zu", s->lineno);
    if (bs_cli_check_message(what, s->line + start, len, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "error: %s (line skipped)\n", err);
        set_rc(s, BS_CLI_EXIT_USAGE);
        return;
    }
    text = malloc(len + 1);
    if (text == NULL) {
        fprintf(stderr, "error: out of memory for line %zu\n", s->lineno);
        set_rc(s, BS_CLI_EXIT_USAGE);
        return;
    }
    memcpy(text, s->line + start, len);
    text[len] = '\0';
    (void) q_push(s, text, len, s->lineno, 1); /* window_open() checked */
}

/* Queue the BITS arguments, all checked before connecting; a bad one is
 * reported and skipped, as a bad line of standard input is. */
static void take_args(struct session *s)
{
    char what[32], err[160];

    for (size_t i = 0; i < s->o->nbits; i++) {
        char *b = s->o->bits[i];

        snprintf(what, sizeof(what), "message %zu", i + 1);
        if (bs_cli_check_message(what, b, strlen(b), err, sizeof(err)) != 0) {
            fprintf(stderr, "error: %s (message skipped)\n", err);
            set_rc(s, BS_CLI_EXIT_USAGE);
            continue;
        }
        (void) q_push(s, b, strlen(b), i + 1, 0); /* qcap is nbits */
    }
    s->next_arg = s->o->nbits;
}

/* Split what was read from stdin into lines, while the window allows. */
static void split_lines(struct session *s)
{
    while (s->raw_off < s->raw_len && window_open(s)) {
        char c = (char) s->raw[s->raw_off++];

        if (c == '\n') {
            if (s->line_skip) {
                s->line_skip = 0;
                s->lineno++;
                s->line_len = 0;
            } else {
                take_line(s);
            }
            s->prompted = 0;
            continue;
        }
        if (s->line_skip) {
            continue;
        }
        if (s->line_len == BS_CLI_MAX_LINE) {
            fprintf(stderr,
                    "error: line %zu is longer than %u characters (line "
                    "skipped); send large data with --in FILE\n",
                    s->lineno + 1, BS_CLI_MAX_LINE);
            set_rc(s, BS_CLI_EXIT_USAGE);
            s->line_skip = 1;
            continue;
        }
        if (s->line_len == s->line_cap) {
            size_t cap = s->line_cap == 0 ? 256 : s->line_cap * 2;
            char *p;

            if (cap > BS_CLI_MAX_LINE) {
                cap = BS_CLI_MAX_LINE;
            }
            p = realloc(s->line, cap);
            if (p == NULL) {
                fprintf(stderr, "error: out of memory reading line %zu\n",
                        s->lineno + 1);
                set_rc(s, BS_CLI_EXIT_USAGE);
                s->line_skip = 1;
                continue;
            }
            s->line = p;
            s->line_cap = cap;
        }
        s->line[s->line_len++] = c;
    }
    if (s->stdin_eof && s->raw_off == s->raw_len && window_open(s)) {
        /* a last line without LF */
        if (s->line_len > 0 && !s->line_skip) {
            take_line(s);
        }
        s->line_len = 0;
        s->line_skip = 0;
    }
}

static enum bs_cli_exit read_stdin(struct session *s)
{
    ssize_t n = read(0, s->raw, sizeof(s->raw));

    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            return BS_CLI_EXIT_OK;
        }
        fprintf(stderr, "error: cannot read standard input: %s\n",
                strerror(errno));
        return BS_CLI_EXIT_USAGE;
    }
    s->raw_off = 0;
    s->raw_len = (size_t) n;
    if (n == 0) {
        s->stdin_eof = 1;
    }
    split_lines(s);
    return BS_CLI_EXIT_OK;
}

static int source_done(const struct session *s)
{
    switch (s->mode) {
    case MODE_ARGS:
        return s->next_arg == s->o->nbits;
    case MODE_STDIN:
        return s->stdin_eof && s->raw_off == s->raw_len && s->line_len == 0;
    case MODE_FILE:
        return s->in_done;
    }
    return 1;
}

/* ---- output: encoding requests ---- */

/* Room for n more bytes at the end of out, compacting if that helps. */
static int out_room(struct session *s, size_t n)
{
    if (OUT_CAP - s->out_len >= n) {
        return 1;
    }
    if (s->out_off > 0) {
        memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
        s->out_len -= s->out_off;
        s->out_off = 0;
    }
    return OUT_CAP - s->out_len >= n;
}

static void put_header(struct session *s, unsigned flags, uint32_t bits)
{
    size_t n = bs_proto_put_header(s->out + s->out_len, OUT_CAP - s->out_len,
                                   BS_PROTO_TYPE_MSG, flags, s->o->op,
                                   s->o->rule, bits);

    s->out_len += n;
}

static void fill_text(struct session *s)
{
    if (s->need_last) {
        if (!out_room(s, BS_PROTO_HDR_LEN)) {
            return;
        }
        put_header(s, BS_PROTO_FLAG_LAST, 0);
        s->need_last = 0;
    }
    while (s->qsent < s->qlen) {
        struct msg *m = q_at(s, s->qsent);
        struct bs_chunk ch = bs_chunk_next(m->len, s->send_pos);

        if (!out_room(s, BS_PROTO_HDR_LEN + bs_bytes_for_bits(ch.bits))) {
            return;
        }
        put_header(s, ch.flags, ch.bits);
        bs_bitio_pack(m->text + s->send_pos, ch.bits, s->out + s->out_len);
        s->out_len += bs_bytes_for_bits(ch.bits);
        s->send_pos += ch.bits;
        if (ch.flags & BS_PROTO_FLAG_LAST) {
            s->qsent++;
            s->send_pos = 0;
        }
    }
}

/* Read at most want bytes of the input.  Returns the count (0 at the
 * end), -1 after an error message, -2 if a signal stopped the run. */
static ssize_t read_input(struct session *s, uint8_t *buf, size_t want)
{
    for (;;) {
        ssize_t n = read(s->in_fd, buf, want);

        if (n >= 0) {
            s->in_read += (uint64_t) n;
            return n;
        }
        if (errno != EINTR) {
            fprintf(stderr, "error: cannot read %s: %s\n", s->o->in_file,
                    strerror(errno));
            return -1;
        }
        if (stopped(s)) {
            return -2;
        }
    }
}

static enum bs_cli_exit bad_container(struct session *s, enum bs_ctr_status st)
{
    bs_progress_end(&s->prog);
    fprintf(stderr, "error: --in %s: %s\n", s->o->in_file, bs_ctr_strerror(st));
    return BS_CLI_EXIT_USAGE;
}

/* The next chunk of a container's payload, into payload (room for
 * CHUNK_BYTES): its bit count, and whether it is the last. */
static enum bs_cli_exit next_ctr_chunk(struct session *s, uint8_t *payload,
                                       uint64_t *bits, int *last)
{
    for (;;) {
        enum bs_ctr_status st;
        size_t outn = 0;
        ssize_t n = read_input(s, s->stage, CHUNK_BYTES);

        if (n == -2) {
            return interrupted(s);
        }
        if (n < 0) {
            return BS_CLI_EXIT_USAGE;
        }
        if (n == 0) {
            uint8_t tail = 0;
            size_t nt = 0;
            uint64_t total = 0;

            st = bs_ctr_reader_finish(s->ctr_in, &tail, &nt, &total);
            if (st != BS_CTR_OK) {
                return bad_container(s, st);
            }
            if (nt > 0) {
                payload[0] = tail;
            }
            /* the reader checked ceil(total / 8) against the bytes */
            *bits = total - s->sent_bits;
            *last = 1;
            return BS_CLI_EXIT_OK;
        }
        st =
            bs_ctr_reader_feed(s->ctr_in, s->stage, (size_t) n, payload, &outn);
        if (st != BS_CTR_OK) {
            return bad_container(s, st);
        }
        if (outn > 0) {
            *bits = (uint64_t) outn * 8u;
            *last = 0;
            return BS_CLI_EXIT_OK;
        }
    }
}

/* The next chunk of raw input (--raw, or any stuff input). */
static enum bs_cli_exit next_raw_chunk(struct session *s, uint8_t *payload,
                                       uint64_t *bits, int *last)
{
    size_t want = CHUNK_BYTES;
    ssize_t n = 0;

    *last = 0;
    if (s->o->has_in_bits && s->in_left / 8 < want) {
        want = (size_t) bs_bytes_for_bits((size_t) s->in_left);
    }
    if (want > 0) {
        n = read_input(s, payload, want);
        if (n == -2) {
            return interrupted(s);
        }
        if (n < 0) {
            return BS_CLI_EXIT_USAGE;
        }
    }
    if (n == 0) {
        if (s->o->has_in_bits && s->in_left > 0) {
            fprintf(stderr,
                    "error: %s holds only %llu bits, fewer than "
                    "--in-bits %llu\n",
                    s->o->in_file, (unsigned long long) s->sent_bits,
                    (unsigned long long) s->o->in_bits);
            return BS_CLI_EXIT_USAGE;
        }
        /* the end: an empty chunk carries LAST */
        *bits = 0;
        *last = 1;
        return BS_CLI_EXIT_OK;
    }
    *bits = (uint64_t) n * 8u;
    if (s->o->has_in_bits) {
        if (*bits > s->in_left) {
            *bits = s->in_left;
        }
        s->in_left -= *bits;
        *last = s->in_left == 0;
    }
    return BS_CLI_EXIT_OK;
}

/* ---- --explain ---- */

/* Where the explanation goes: standard output with the results, except
 * in file mode, where standard output may carry the data. */
static FILE *explain_stream(const struct session *s)
{
    return s->mode == MODE_FILE ? stderr : stdout;
}

static void explain_init(struct session *s)
{
    if (s->o->explain) {
        const char *no_color = getenv("NO_COLOR");

        s->xcolour = bs_explain_want_colour(isatty(fileno(explain_stream(s))),
                                            no_color, getenv("TERM"));
    }
}

/* File mode: keep a copy of the bits of a chunk sent or received. */
static enum bs_cli_exit explain_keep(struct session *s,
                                     struct bs_explainer_bits *b,
                                     const uint8_t *data, size_t nbits)
{
    if (s->o->explain && bs_explainer_add(b, data, nbits) != 0) {
        fprintf(stderr, "error: out of memory for --explain\n");
        return BS_CLI_EXIT_USAGE;
    }
    return BS_CLI_EXIT_OK;
}

/* Explain the oldest message in flight, answered by the reply so far
 * (text modes: s->reply; file mode: the bits kept) or by err. */
static void explain_head(struct session *s, const struct bs_proto_event *err)
{
    const struct msg *m = q_at(s, 0);
    FILE *f = explain_stream(s);
    char what[80];
    int rc;

    if (!s->o->explain) {
        return;
    }
    if (s->mode == MODE_FILE) {
        snprintf(what, sizeof(what), "%s", s->o->in_file);
        rc = bs_explainer_show(f, s->xcolour, what, s->o->op, s->o->rule,
                               s->xin.text, s->xin.total, s->xout.text,
                               s->xout.n, s->xout.total, err);
    } else {
        snprintf(what, sizeof(what), "%s %zu",
                 s->mode == MODE_ARGS ? "message" : "line", m->id);
        rc = bs_explainer_show(f, s->xcolour, what, s->o->op, s->o->rule,
                               m->text, m->len, s->reply, s->reply_len,
                               s->reply_len, err);
    }
    if (rc != 0) {
        fprintf(stderr, "error: out of memory for --explain of %s\n", what);
    }
    fflush(f);
}

/* File mode: refuse before connecting an input known to be longer than
 * --explain shows.  Container input is checked as it is read. */
static int explain_refuse(const struct session *s, uint64_t in_size)
{
    uint64_t bits;
    char why[256];

    if (!s->o->explain || s->ctr_in != NULL || in_size == BS_PROGRESS_UNKNOWN) {
        return 0;
    }
    bits = in_size > UINT64_MAX / 8 ? UINT64_MAX : in_size * 8;
    if (s->o->has_in_bits && s->o->in_bits < bits) {
        bits = s->o->in_bits;
    }
    if (!bs_explainer_too_long(bits, why, sizeof(why))) {
        return 0;
    }
    fprintf(stderr, "error: %s\n", why);
    return 1;
}

static enum bs_cli_exit fill_file(struct session *s)
{
    while (!s->in_done && out_room(s, BS_PROTO_HDR_LEN + CHUNK_BYTES)) {
        uint8_t *payload = s->out + s->out_len + BS_PROTO_HDR_LEN;
        unsigned flags = s->in_first ? BS_PROTO_FLAG_FIRST : 0;
        uint64_t bits = 0;
        int last = 0;
        enum bs_cli_exit rc = s->ctr_in != NULL
                                  ? next_ctr_chunk(s, payload, &bits, &last)
                                  : next_raw_chunk(s, payload, &bits, &last);

        if (rc != BS_CLI_EXIT_OK) {
            return rc;
        }
        if (last) {
            flags |= BS_PROTO_FLAG_LAST;
            s->in_done = 1;
        }
        bs_bitio_mask_tail(payload, (size_t) bits);
        rc = explain_keep(s, &s->xin, payload, (size_t) bits);
        if (rc != BS_CLI_EXIT_OK) {
            return rc;
        }
        put_header(s, flags, (uint32_t) bits);
        s->out_len += bs_bytes_for_bits((size_t) bits);
        s->sent_bits += bits;
        s->in_first = 0;
    }
    return BS_CLI_EXIT_OK;
}

/* ---- replies ---- */

static enum bs_cli_exit write_all(struct session *s, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(s->out_fd, p, n);

        if (w < 0) {
            if (errno == EINTR) {
                if (stopped(s)) {
                    return interrupted(s);
                }
                continue;
            }
            bs_progress_end(&s->prog);
            fprintf(stderr, "error: cannot write %s: %s\n",
                    s->o->out_file != NULL ? s->o->out_file : "standard output",
                    strerror(errno));
            return BS_CLI_EXIT_USAGE;
        }
        p += w;
        n -= (size_t) w;
    }
    return BS_CLI_EXIT_OK;
}

/* Write result bytes of file mode: into a container (its header first)
 * or bare. */
static enum bs_cli_exit emit(struct session *s, const uint8_t *p, size_t n)
{
    if (s->ctr_out) {
        if (!s->ctr_started) {
            uint8_t hdr[BS_CTR_HDR_LEN];
            enum bs_cli_exit rc;

            if (bs_ctr_writer_init(&s->cw, s->o->rule, hdr) != 0) {
                fprintf(stderr, "error: out of memory\n");
                return BS_CLI_EXIT_USAGE;
            }
            s->ctr_started = 1;
            rc = write_all(s, hdr, sizeof(hdr));
            if (rc != BS_CLI_EXIT_OK) {
                return rc;
            }
        }
        bs_ctr_writer_update(&s->cw, p, n);
    }
    return write_all(s, p, n);
}

static enum bs_cli_exit protocol_error(struct session *s, const char *what)
{
    fprintf(stderr,
            "error: the server at %s:%s sent a malformed reply (%s); "
            "is it a bitstuff/1 server of a compatible version?\n",
            s->t->host, s->t->port, what);
    return BS_CLI_EXIT_LOST;
}

static enum bs_cli_exit on_data(struct session *s, const uint8_t *data,
                                size_t nbits)
{
    if (s->mode == MODE_FILE) {
        if (s->w.cap - s->w.len < bs_bitio_append_room(nbits)) {
            enum bs_cli_exit rc = emit(s, s->fout, s->w.len);

            if (rc != BS_CLI_EXIT_OK) {
                return rc;
            }
            bs_bitio_drain(&s->w);
        }
        if (bs_bitio_append(&s->w, data, nbits) != 0) {
            return protocol_error(s, "a reply chunk larger than 64 KiB");
        }
        return explain_keep(s, &s->xout, data, nbits);
    } else {
        const struct msg *m = q_at(s, 0);
        size_t limit = bs_max_stuffed_bits(s->o->rule, m->len);

        if (nbits > limit || s->reply_len > limit - nbits) {
            return protocol_error(s, "more bits than the message can give");
        }
        if (s->reply_len + nbits > s->reply_cap) {
            size_t cap = s->reply_cap == 0 ? 256 : s->reply_cap;
            char *p;

            while (cap < s->reply_len + nbits) {
                cap = cap > limit / 2 ? limit : cap * 2;
            }
            p = realloc(s->reply, cap);
            if (p == NULL) {
                fprintf(stderr, "error: out of memory for a reply\n");
                return BS_CLI_EXIT_USAGE;
            }
            s->reply = p;
            s->reply_cap = cap;
        }
        bs_bitio_unpack(data, nbits, s->reply + s->reply_len);
        s->reply_len += nbits;
        return BS_CLI_EXIT_OK;
    }
}

static void put_text(const char *p, size_t n)
{
    if (n > 0) {
        fwrite(p, 1, n, stdout);
    }
}

static enum bs_cli_exit on_end(struct session *s)
{
    if (s->mode == MODE_FILE) {
        enum bs_cli_exit rc;

        if (bs_bitio_finish(&s->w) != 0) {
            rc = emit(s, s->fout, s->w.len);
            if (rc != BS_CLI_EXIT_OK) {
                return rc;
            }
            bs_bitio_drain(&s->w);
            (void) bs_bitio_finish(&s->w);
        }
        rc = emit(s, s->fout, s->w.len);
        if (rc != BS_CLI_EXIT_OK) {
            return rc;
        }
        bs_bitio_drain(&s->w);
        if (s->ctr_out) {
            uint8_t trailer[BS_CTR_TRAILER_LEN];

            /* an empty result still needs its header */
            rc = emit(s, NULL, 0);
            if (rc != BS_CLI_EXIT_OK) {
                return rc;
            }
            bs_ctr_writer_finish(&s->cw, s->w.total, trailer);
            rc = write_all(s, trailer, sizeof(trailer));
            if (rc != BS_CLI_EXIT_OK) {
                return rc;
            }
        }
        bs_progress_end(&s->prog);
        if (!s->o->quiet) {
            fprintf(stderr, "sent %llu bits\n",
                    (unsigned long long) s->sent_bits);
        }
        /* fixed wording: scripts read the exact length from it */
        fprintf(stderr, "received %llu bits\n",
                (unsigned long long) s->w.total);
        explain_head(s, NULL);
        s->file_done = 1;
    } else {
        const struct msg *m = q_at(s, 0);

        if (!s->o->quiet) {
            printf("sent%s: ", s->label);
            put_text(m->text, m->len);
            printf("\nreceived%s: ", s->label);
        }
        put_text(s->reply, s->reply_len);
        fputc('\n', stdout);
        explain_head(s, NULL);
        if (s->tty) {
            fflush(stdout);
        }
    }
    s->reply_len = 0;
    q_pop(s);
    return BS_CLI_EXIT_OK;
}

static void on_error(struct session *s, const struct bs_proto_event *ev)
{
    const char *name = bs_proto_code_name(ev->code);

    if (s->mode != MODE_FILE && !s->o->quiet) {
        const struct msg *m = q_at(s, 0);

        printf("sent%s: ", s->label);
        put_text(m->text, m->len);
        fputc('\n', stdout);
    }
    fflush(stdout);
    if (ev->offset != BS_PROTO_NO_OFFSET) {
        fprintf(stderr, "error: %s at bit %llu: %s\n", name,
                (unsigned long long) ev->offset, ev->message);
    } else {
        fprintf(stderr, "error: %s: %s\n", name, ev->message);
    }
    fflush(stderr);
    explain_head(s, ev);
    set_rc(s, BS_CLI_EXIT_REJECTED);
    s->reply_len = 0;
    q_pop(s);
}

static enum bs_cli_exit handle_bytes(struct session *s, const uint8_t *in,
                                     size_t n)
{
    size_t off = 0;

    /* until EV_NONE, even when every byte is consumed: the decoder may
     * still hold an event (END after the last DATA) */
    for (;;) {
        struct bs_proto_event ev;
        enum bs_cli_exit rc = BS_CLI_EXIT_OK;

        off += bs_proto_decode(&s->dec, in + off, n - off, &ev);
        if (ev.type == BS_PROTO_EV_NONE) {
            break;
        }
        if (ev.type == BS_PROTO_EV_FATAL) {
            return protocol_error(s, ev.message);
        }
        /* every other event belongs to the oldest message sent */
        if (!head_started(s)) {
            if (ev.type == BS_PROTO_EV_ERROR) {
                fprintf(stderr, "error: the server sent %s: %s\n",
                        bs_proto_code_name(ev.code), ev.message);
                return BS_CLI_EXIT_LOST;
            }
            return protocol_error(s, "a reply to no request");
        }
        if (!bs_cli_reply_matches(s->o->op, s->o->rule, &ev)) {
            char what[96];
            const char *rule = bs_rule_name(ev.rule);

            snprintf(what, sizeof(what), "a reply for %s %s to a %s %s request",
                     ev.op == BS_PROTO_UNSTUFF ? "unstuff" : "stuff",
                     rule != NULL ? rule : "?",
                     s->o->op == BS_PROTO_UNSTUFF ? "unstuff" : "stuff",
                     bs_rule_name(s->o->rule));
            return protocol_error(s, what);
        }
        switch (ev.type) {
        case BS_PROTO_EV_BEGIN:
            s->reply_open = 1;
            s->reply_len = 0;
            break;
        case BS_PROTO_EV_DATA:
            rc = on_data(s, ev.data, ev.nbits);
            break;
        case BS_PROTO_EV_END:
            s->reply_open = 0;
            rc = on_end(s);
            break;
        case BS_PROTO_EV_ERROR:
            s->reply_open = 0;
            on_error(s, &ev);
            if (s->mode == MODE_FILE) {
                return BS_CLI_EXIT_REJECTED;
            }
            break;
        case BS_PROTO_EV_NONE:
        case BS_PROTO_EV_FATAL:
            break;
        }
        if (rc != BS_CLI_EXIT_OK) {
            return rc;
        }
    }
    return BS_CLI_EXIT_OK;
}

/* ---- the connection ---- */

static int idle(const struct session *s)
{
    return s->qlen == 0 && !s->reply_open && s->out_len == s->out_off &&
           s->mode != MODE_FILE;
}

/* The connection ended (EOF: close_notify) or failed. */
static enum bs_cli_exit conn_ended(struct session *s, bs_tls_status st,
                                   const char *why)
{
    enum bs_tls_failure f =
        st == BS_TLS_EOF ? BS_TLS_FAIL_NETWORK : bs_tls_conn_failure(s->tls);
    enum bs_cli_exit code =
        bs_cli_exit_for_tls(f, 0, s->got_reply, s->o->cert_file != NULL);

    if (idle(s) && code == BS_CLI_EXIT_LOST) {
        /* e.g. the server's idle timeout while a user thinks: connect
         * again when the next line comes */
        if (s->o->verbose) {
            fprintf(stderr, "the server closed the idle connection\n");
        }
        disconnect(s);
        return BS_CLI_EXIT_OK;
    }
    if (st == BS_TLS_EOF) {
        fprintf(stderr,
                "error: the server at %s:%s closed the connection with %zu "
                "message(s) unanswered\n",
                s->t->host, s->t->port, s->qlen);
    } else if (code == BS_CLI_EXIT_LOST) {
        fprintf(stderr,
                "error: connection to %s:%s lost with %zu message(s) "
                "unanswered: %s\n",
                s->t->host, s->t->port, s->qlen,
                why != NULL ? why : bs_tls_conn_error(s->tls));
    } else {
        fprintf(stderr, "error: the server at %s:%s refused the session: %s\n",
                s->t->host, s->t->port, bs_tls_conn_error(s->tls));
    }
    return code;
}

/* A write failed at the network level before any reply came.  In TLS 1.3
 * the server judges our certificate after our side of the handshake is
 * done and closes with an alert; our first write then meets the reset of
 * that close while the alert that says why waits unread.  Read it. */
static enum bs_cli_exit write_failed(struct session *s)
{
    char why[256];
    size_t n = 0;

    snprintf(why, sizeof(why), "%s", bs_tls_conn_error(s->tls));
    if (bs_tls_read(s->tls, s->in, sizeof(s->in), &n) == BS_TLS_ERR &&
        bs_tls_conn_failure(s->tls) != BS_TLS_FAIL_NETWORK)
    {
        return conn_ended(s, BS_TLS_ERR, NULL);
    }
    return conn_ended(s, BS_TLS_ERR, why);
}

static enum bs_cli_exit do_write(struct session *s)
{
    for (;;) {
        bs_tls_status st;
        size_t n = 0;
        enum bs_cli_exit rc;

        if (s->mode == MODE_FILE) {
            rc = fill_file(s);
            if (rc != BS_CLI_EXIT_OK) {
                return rc;
            }
        } else {
            fill_text(s);
        }
        if (s->out_off == s->out_len) {
            s->out_off = s->out_len = 0;
            return BS_CLI_EXIT_OK;
        }
        st = bs_tls_write(s->tls, s->out + s->out_off, s->out_len - s->out_off,
                          &n);
        switch (st) {
        case BS_TLS_OK:
            s->out_off += n;
            break;
        case BS_TLS_WANT_READ:
        case BS_TLS_WANT_WRITE:
            return BS_CLI_EXIT_OK; /* bs_tls_conn_wants says which */
        case BS_TLS_EOF:
            return conn_ended(s, st, NULL);
        case BS_TLS_ERR:
            if (!s->got_reply &&
                bs_tls_conn_failure(s->tls) == BS_TLS_FAIL_NETWORK) {
                return write_failed(s);
            }
            return conn_ended(s, st, NULL);
        }
    }
}

static enum bs_cli_exit do_read(struct session *s)
{
    s->more = 0;
    for (int i = 0; i < READ_BURST; i++) {
        size_t n = 0;
        bs_tls_status st = bs_tls_read(s->tls, s->in, sizeof(s->in), &n);
        enum bs_cli_exit rc;

        switch (st) {
        case BS_TLS_OK:
            s->got_reply = 1;
            rc = handle_bytes(s, s->in, n);
            if (rc != BS_CLI_EXIT_OK) {
                return rc;
            }
            break;
        case BS_TLS_WANT_READ:
        case BS_TLS_WANT_WRITE:
            return BS_CLI_EXIT_OK; /* bs_tls_conn_wants says which */
        case BS_TLS_EOF:
        case BS_TLS_ERR:
            return conn_ended(s, st, NULL);
        }
    }
    s->more = 1;
    return BS_CLI_EXIT_OK;
}

static void close_politely(struct session *s)
{
    int64_t deadline = now_ms() + s->o->timeout_ms;

    for (;;) {
        bs_tls_status st = bs_tls_shutdown(s->tls);

        if (st != BS_TLS_WANT_READ && st != BS_TLS_WANT_WRITE) {
            break;
        }
        if (wait_fd(s, s->fd,
                    poll_events(bs_tls_conn_blocked(s->tls, BS_TLS_SEND_SIDE)),
                    deadline) <= 0)
        {
            break;
        }
    }
    disconnect(s);
}

static void prompt(struct session *s)
{
    if (s->tty && !s->prompted && s->qlen == 0 && s->line_len == 0 &&
        !s->stdin_eof) {
        fflush(stdout);
        fputs("bits> ", stderr);
        fflush(stderr);
        s->prompted = 1;
    }
}

/* Is there a request (or a part of one) that the last write left for
 * the next?  File mode counts its one message as sent only at its end:
 * qsent stays 0, so it must not be read as "more to send" (that made a
 * client waiting for a stalled server spin and never time out). */
static int more_to_send(const struct session *s)
{
    if (s->mode == MODE_FILE) {
        return !s->in_done;
    }
    return s->qsent < s->qlen || s->need_last;
}

static int finished(const struct session *s)
{
    if (s->mode == MODE_FILE) {
        return s->file_done;
    }
    return source_done(s) && s->qlen == 0;
}

static enum bs_cli_exit loop(struct session *s)
{
    enum bs_cli_exit rc;

    for (;;) {
        struct pollfd p[3];
        nfds_t np = 0;
        int in = -1, sock = -1, timeout, real_timeout, n;
        int64_t t0;

        if (stopped(s)) {
            return interrupted(s);
        }
        if (s->mode == MODE_STDIN) {
            split_lines(s);
        }
        if (finished(s)) {
            return BS_CLI_EXIT_OK;
        }
        if (s->tls == NULL && !idle(s)) {
            rc = do_connect(s);
            if (rc != BS_CLI_EXIT_OK) {
                return rc;
            }
        }
        if (s->tls != NULL) {
            rc = do_write(s);
            if (rc == BS_CLI_EXIT_OK && s->tls != NULL) {
                rc = do_read(s);
            }
            if (rc != BS_CLI_EXIT_OK) {
                return rc;
            }
        }
        if (s->mode == MODE_FILE && !s->file_done) {
            (void) bs_progress_update(&s->prog, s->in_read, now_ms());
        }
        if (s->mode == MODE_STDIN) {
            split_lines(s);
        }
        if (finished(s)) {
            return BS_CLI_EXIT_OK;
        }

        if (s->tls != NULL) {
            sock = (int) np;
            p[np++] = (struct pollfd){
                .fd = s->fd, .events = poll_events(bs_tls_conn_wants(s->tls))};
        }
        if (s->mode == MODE_STDIN && !s->stdin_eof &&
            s->raw_off == s->raw_len && window_open(s))
        {
            prompt(s);
            if (s->qlen == 0) {
                fflush(stdout);
            }
            in = (int) np;
            p[np++] = (struct pollfd){.fd = 0, .events = POLLIN};
        }
        if (s->more ||
            (s->tls != NULL && !bs_tls_conn_blocked(s->tls, BS_TLS_SEND_SIDE) &&
             more_to_send(s)))
        {
            /* data buffered in TLS, or lines taken after the last write:
             * go round again without waiting */
            timeout = 0;
        } else if (!idle(s)) {
            timeout = s->o->timeout_ms;
        } else {
            timeout = -1;
        }
        if (np == 0) {
            continue;
        }
        if (s->stop_fd >= 0) {
            p[np++] = (struct pollfd){.fd = s->stop_fd, .events = POLLIN};
        }
        real_timeout = timeout;
        if (s->prog.f != NULL && (timeout < 0 || timeout > 250)) {
            timeout = 250; /* keep the progress line's rate moving */
        }
        t0 = now_ms();
        n = poll(p, np, timeout);
        if (n == 0 && timeout != real_timeout) {
            /* a progress tick, not (yet) the --timeout */
            s->waited_ms += now_ms() - t0;
            if (real_timeout < 0 || s->waited_ms < real_timeout) {
                continue;
            }
            timeout = real_timeout;
        } else {
            s->waited_ms = 0;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "error: poll: %s\n", strerror(errno));
            return BS_CLI_EXIT_NETWORK;
        }
        if (n == 0 && timeout > 0) {
            fprintf(stderr,
                    "error: no answer from %s:%s within %d ms (--timeout) "
                    "with %zu message(s) unanswered\n",
                    s->t->host, s->t->port, timeout, s->qlen);
            return BS_CLI_EXIT_NETWORK;
        }
        if (sock >= 0 && p[sock].revents != 0) {
            bs_tls_conn_events(s->tls, tls_events(p[sock].revents));
        }
        if (in >= 0 && (p[in].revents & (POLLIN | POLLHUP | POLLERR))) {
            rc = read_stdin(s);
            if (rc != BS_CLI_EXIT_OK) {
                return rc;
            }
        }
    }
}

enum bs_cli_exit bs_session_run(const struct bs_cli_opts *o,
                                struct bs_tls_ctx *ctx,
                                const struct bs_session_target *t,
                                const struct bs_session_files *f,
                                volatile sig_atomic_t *stop, int stop_fd)
{
    struct session *s = calloc(1, sizeof(*s));
    enum bs_cli_exit rc;

    if (s == NULL) {
        fprintf(stderr, "error: out of memory\n");
        return BS_CLI_EXIT_USAGE;
    }
    s->o = o;
    s->ctx = ctx;
    s->t = t;
    s->fd = -1;
    s->stop = stop;
    s->stop_fd = stop_fd;
    s->in_first = 1;
    s->in_left = o->in_bits;
    bs_cli_label(o->op, o->rule, s->label, sizeof(s->label));
    if (f != NULL) {
        s->mode = MODE_FILE;
        s->qcap = 1;
        s->in_fd = f->in_fd;
        s->out_fd = f->out_fd;
        s->ctr_in = f->ctr_in;
        s->ctr_out = f->ctr_out;
        bs_progress_init(&s->prog, o->progress, stderr, isatty(2), f->in_size,
                         now_ms());
        if (explain_refuse(s, f->in_size)) {
            rc = BS_CLI_EXIT_USAGE;
            goto out;
        }
    } else if (o->nbits > 0) {
        s->mode = MODE_ARGS;
        s->qcap = o->nbits;
    } else {
        s->mode = MODE_STDIN;
        s->tty = isatty(0);
        s->qcap = s->tty ? 1 : STDIN_WINDOW;
    }
    explain_init(s);
    s->q = calloc(s->qcap, sizeof(*s->q));
    if (s->mode == MODE_FILE) {
        s->fout = malloc(FILE_OUT_CAP);
        bs_bitio_writer_init(&s->w, s->fout, FILE_OUT_CAP);
        if (s->ctr_in != NULL) {
            s->stage = malloc(CHUNK_BYTES);
        }
    }
    if (s->q == NULL || (s->mode == MODE_FILE && s->fout == NULL) ||
        (s->ctr_in != NULL && s->stage == NULL))
    {
        fprintf(stderr, "error: out of memory\n");
        rc = BS_CLI_EXIT_USAGE;
        goto out;
    }
    if (s->mode == MODE_FILE) {
        /* the one message of file mode */
        (void) q_push(s, NULL, 0, 1, 0);
    }

    if (s->mode == MODE_ARGS) {
        take_args(s);
    }
    if (s->mode == MODE_ARGS && s->qlen == 0) {
        rc = BS_CLI_EXIT_OK; /* every argument was bad: nothing to send */
    } else {
        rc = do_connect(s);
        if (rc == BS_CLI_EXIT_OK) {
            rc = loop(s);
        }
    }
    /* a rejected file, or one found damaged while it was sent, ends the
     * session early, but not rudely: the server would log the missing
     * close_notify as a failure */
    if ((rc == BS_CLI_EXIT_OK || rc == BS_CLI_EXIT_REJECTED ||
         rc == BS_CLI_EXIT_USAGE) &&
        s->tls != NULL)
    {
        close_politely(s);
    }
    if (s->mode == MODE_STDIN && s->tty && s->stdin_eof) {
        fputc('\n', stderr);
    }

out:
    fflush(stdout);
    bs_progress_end(&s->prog);
    if (rc == BS_CLI_EXIT_OK) {
        rc = s->rc;
    }
    bs_ctr_writer_free(&s->cw);
    disconnect(s);
    while (s->qlen > 0) {
        s->qsent = s->qlen;
        q_pop(s);
    }
    free(s->q);
    free(s->fout);
    free(s->stage);
    free(s->line);
    free(s->reply);
    bs_explainer_reset(&s->xin);
    bs_explainer_reset(&s->xout);
    free(s);
    return rc;
}
