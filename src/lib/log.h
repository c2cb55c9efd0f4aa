/*
 * log.h - whole lines to a file descriptor, and a logger that never
 * blocks the threads that log.
 *
 * Worker threads share stdout (the exchange display) and stderr (logs).
 * stdio buffers per FILE and may split a line across writes; here every
 * line is formatted first and handed to the kernel in one write(2), so
 * lines from different threads never interleave (POSIX makes writes of
 * up to PIPE_BUF bytes to a pipe atomic; terminals and files do not tear
 * short writes in practice).  Lines longer than BS_LOG_LINE_MAX - 1 are
 * cut.
 *
 * bs_log_line writes at once and blocks while the descriptor is full: for
 * start-up, shutdown and programs that have nothing else to do.  A server
 * uses a struct bs_log instead (issue 9): a worker formats its line into
 * a bounded in-memory ring per stream under a short lock and goes on; a
 * writer thread owned by the logger empties the rings into the
 * descriptors, waiting with poll(2) so that a stalled stdout never holds
 * back stderr, and writing at most PIPE_BUF bytes to a pipe, which then
 * never blocks.  When a ring is full the line is dropped and counted, and
 * once the ring has room again (half empty) the writer logs "N display
 * lines dropped" or "N log lines dropped" on stderr.  Lines about single
 * connections go through bs_log_limited: a key (the kind of event) may log
 * `burst` lines per interval; the rest are counted, and when the
 * interval ends one line says how many were not logged and shows the
 * latest ("... (repeated 812 more times in 10 s, not logged; latest: ...)"
 * in the manner of the kernel's printk_ratelimit).
 */
#ifndef BS_LOG_H
#define BS_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define BS_LOG_LINE_MAX 2048

/* Format one line (a '\n' is appended) and write it to fd, blocking while
 * fd is full.  Errors writing are ignored: a log must never stop the
 * program. */
void bs_log_line(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bs_log_vline(int fd, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* ---- the non-blocking logger -------------------------------------------- */

struct bs_log;

enum bs_log_stream { BS_LOG_OUT, BS_LOG_ERR, BS_LOG_NSTREAMS };

/*
 * Levels, numbered as syslog's priorities (the journald prefix "<N>" is
 * the number).  A logger shows the lines at or above its level (a
 * smaller number is more severe); bs_log_put and bs_log_limited lines on
 * stderr are BS_LOG_LVL_ERROR and BS_LOG_LVL_WARNING respectively.
 */
enum bs_log_level {
    BS_LOG_LVL_ERROR = 3,
    BS_LOG_LVL_WARNING = 4,
    BS_LOG_LVL_INFO = 6,
    BS_LOG_LVL_DEBUG = 7,
};

/* How stderr lines are written (the display on stdout is never changed):
 * TEXT "bitstuffd: what happened key=value ...", or JSON, one object per
 * line: {"time":..,"level":..,"msg":..,"key":value,...}. */
enum bs_log_format { BS_LOG_FORMAT_TEXT, BS_LOG_FORMAT_JSON };

/* What goes in front of each stderr line: nothing (tools, tests), an RFC
 * 3339 UTC timestamp with milliseconds and the level
 * ("2026-12-07T17:42:48.123Z warning "), or, under journald (which stamps
 * lines itself), the syslog priority "<4>". */
enum bs_log_decor {
    BS_LOG_DECOR_NONE,
    BS_LOG_DECOR_TIME,
    BS_LOG_DECOR_JOURNAL
};

struct bs_log_config {
    int fd[BS_LOG_NSTREAMS]; /* BS_LOG_OUT: the display, BS_LOG_ERR: logs */
    size_t ring_bytes;       /* per stream; 0: BS_LOG_RING_DEFAULT */
    unsigned burst;          /* bs_log_limited: lines per key per interval */
    unsigned interval_ms;    /* 0: no rate limit */
    unsigned flush_ms;       /* bs_log_free waits that long for the rest */
    int level;               /* enum bs_log_level shown at most; 0: INFO */
    int format;              /* enum bs_log_format */
    int decor;               /* enum bs_log_decor */
};

#define BS_LOG_RING_DEFAULT (1024u * 1024u)
#define BS_LOG_KEYS         16 /* kinds of rate-limited lines; more share */

/* Start a logger and its writer thread (which inherits the caller's
 * signal mask).  The descriptors stay the caller's.  Returns NULL with
 * err filled on failure. */
struct bs_log *bs_log_new(const struct bs_log_config *cfg, char *err,
                          size_t errlen);

/* Write what the rings hold for at most cfg->flush_ms (a stalled
 * descriptor does not hold the caller longer), stop the writer, free
 * everything.  NULL ok.  No other thread may log meanwhile. */
void bs_log_free(struct bs_log *lg);

/* Queue one line for a stream; never blocks for I/O.  With lg NULL the
 * line is written at once with bs_log_vline (tests, tools). */
void bs_log_put(struct bs_log *lg, enum bs_log_stream s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Queue a log line (stderr) subject to the rate limit of key: a string
 * that outlives the logger (a literal), compared by content. */
void bs_log_limited(struct bs_log *lg, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A stderr line at level (shown only if the logger's level allows). */
void bs_log_msg(struct bs_log *lg, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One field of an event: a string (str != NULL) or a number. */
struct bs_log_field {
    const char *key; /* [a-z_]+ */
    const char *str;
    uint64_t num;
};

/* A stderr line with fields: msg, then in TEXT " key=value" each (values
 * quoted when they hold a space, a quote, '=' or a control character, or
 * are empty), in JSON one member each (numbers unquoted).  key NULL: not
 * rate-limited; else limited as bs_log_limited's key. */
void bs_log_event(struct bs_log *lg, int level, const char *key,
                  const char *msg, const struct bs_log_field *f, size_t n);

/* "error", "warning", "info", "debug" and back (-1: not a level). */
const char *bs_log_level_name(int level);
int bs_log_parse_level(const char *s);

/* 1 if $JOURNAL_STREAM (env, "DEVICE:INODE" in decimal; NULL or "" when
 * unset) names the file fd is open on: systemd connected it to the
 * journal, which adds its own timestamps and reads "<N>" priorities. */
int bs_log_journal_stream(const char *env, int fd);

/* Render one stderr line (with its '\n') into buf, as the logger does:
 * returns its length, at most cap - 1 (and NUL-terminated).  A line that
 * does not fit is cut in TEXT; in JSON its longest values are shortened
 * so that it stays one valid object (in a buffer too small even for
 * "{}\n", 0 and "").  realtime_ms: the wall clock in ms
 * since the epoch (the timestamp). */
size_t bs_log_render(char *buf, size_t cap, int format, int decor, int level,
                     uint64_t realtime_ms, const char *msg,
                     const struct bs_log_field *f, size_t n);

/* Lines dropped so far on a stream because its ring was full (tests). */
uint64_t bs_log_dropped(struct bs_log *lg, enum bs_log_stream s);

/* ---- the pure parts, exposed for unit tests ----------------------------- */

/* A byte ring that takes whole lines or nothing.  The writer may read
 * the bytes bs_log_ring_peek gives without the lock while others put:
 * put never touches bytes not yet consumed. */
struct bs_log_ring {
    char *buf;
    size_t cap, head, len;
    uint64_t dropped; /* lines refused since the last report */
};

int bs_log_ring_init(struct bs_log_ring *r, size_t cap); /* 0 or -1 */
void bs_log_ring_free(struct bs_log_ring *r);
/* Append n bytes, all or nothing.  Returns 1, or 0 (dropped, counted). */
int bs_log_ring_put(struct bs_log_ring *r, const char *p, size_t n);
/* The oldest contiguous bytes: returns their count, *p their start. */
size_t bs_log_ring_peek(const struct bs_log_ring *r, const char **p);
/* Copy up to max of the oldest bytes (across the wrap) to dst; returns
 * how many.  Nothing is consumed. */
size_t bs_log_ring_copy(const struct bs_log_ring *r, char *dst, size_t max);
void bs_log_ring_consume(struct bs_log_ring *r, size_t n);

/* A rate limit for one key: at most burst lines per interval_ms. */
struct bs_log_limit {
    uint64_t start;      /* of the current interval, in ms */
    unsigned passed;     /* lines let through in it */
    uint64_t suppressed; /* lines held back in it */
};

/* A line of this key at now: 1 to log it, 0 to suppress it (counted). */
int bs_log_limit_pass(struct bs_log_limit *l, uint64_t now, unsigned burst,
                      unsigned interval_ms);
/* If the interval has ended with lines suppressed, return their count
 * (and the interval's length in *span_ms) and begin anew; else 0. */
uint64_t bs_log_limit_due(struct bs_log_limit *l, uint64_t now,
                          unsigned interval_ms, uint64_t *span_ms);

#endif /* BS_LOG_H */
