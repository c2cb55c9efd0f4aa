/*
 * log.c - one line, one write(2); and the non-blocking logger; see log.h.
 */
#include "log.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timer.h"

#define WRITER_POLL_MS 100 /* the writer looks at stop and summaries */
#define FILE_CHUNK     65536u

/* Format one line, cut to fit, with its '\n'; returns its length (0 if
 * it could not be formatted). */
__attribute__((format(printf, 3, 0))) static size_t
format_line(char *line, size_t cap, const char *fmt, va_list ap)
{
    int n = vsnprintf(line, cap - 1, fmt, ap);
    size_t len;

    if (n < 0) {
        return 0;
    }
    len = (size_t) n < cap - 2 ? (size_t) n : cap - 2;
    line[len++] = '\n';
    return len;
}

static void write_all(int fd, const char *p, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return;
        }
        off += (size_t) w;
    }
}

void bs_log_vline(int fd, const char *fmt, va_list ap)
{
    char line[BS_LOG_LINE_MAX];
    size_t len = format_line(line, sizeof line, fmt, ap);

    write_all(fd, line, len);
}

void bs_log_line(int fd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    bs_log_vline(fd, fmt, ap);
    va_end(ap);
}

/* ---- rendering --------------------------------------------------------- */

/* The names of the levels, indexed by level; NULL where none is. */
static const char *const level_names[] = {
    [BS_LOG_LVL_ERROR] = "error",
    [BS_LOG_LVL_WARNING] = "warning",
    [BS_LOG_LVL_INFO] = "info",
    [BS_LOG_LVL_DEBUG] = "debug",
};

const char *bs_log_level_name(int level)
{
    if (level >= 0 &&
        (size_t) level < sizeof level_names / sizeof level_names[0] &&
        level_names[level] != NULL)
    {
        return level_names[level];
    }
    return level < BS_LOG_LVL_ERROR ? "error" : "debug";
}

int bs_log_parse_level(const char *s)
{
    static const int all[] = {BS_LOG_LVL_ERROR, BS_LOG_LVL_WARNING,
                              BS_LOG_LVL_INFO, BS_LOG_LVL_DEBUG};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(s, bs_log_level_name(all[i])) == 0) {
            return all[i];
        }
    }
    return -1;
}

int bs_log_journal_stream(const char *env, int fd)
{
    unsigned long long dev, ino;
    struct stat st;
    int used = 0;

    if (env == NULL || sscanf(env, "%llu:%llu%n", &dev, &ino, &used) != 2 ||
        env[used] != '\0' || fstat(fd, &st) != 0)
    {
        return 0;
    }
    return (unsigned long long) st.st_dev == dev &&
           (unsigned long long) st.st_ino == ino;
}

/* A bounded output: what does not fit is cut and noted. */
struct sbuf {
    char *p;
    size_t cap, len; /* cap excludes the room kept for "\n\0" */
    int over;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (n > b->cap - b->len) {
        n = b->cap - b->len;
        b->over = 1;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_fmt(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_fmt(struct sbuf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) {
        sb_put(b, tmp, (size_t) n < sizeof tmp ? (size_t) n : sizeof tmp - 1);
    }
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t k;
    uint32_t cp;

    if (s[0] < 0x80) {
        return 1;
    } else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        k = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        k = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        k = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (k > n) {
        return 0;
    }
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0u) != 0x80u) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    {
        return 0; /* overlong, a surrogate, or past Unicode */
    }
    return k;
}

/* s as a JSON string, at most max bytes of it: quotes, backslashes and
 * control characters escaped, invalid UTF-8 as U+FFFD. */
static void sb_json_str(struct sbuf *b, const char *s, size_t max)
{
    const unsigned char *u = (const unsigned char *) s;
    size_t n = strlen(s), i = 0;

    if (n > max) {
        n = max;
    }
    sb_put(b, "\"", 1);
    while (i < n) {
        unsigned char c = u[i];
        size_t k;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char) c};
            sb_put(b, e, 2);
            i++;
        } else if (c == '\n') {
            sb_str(b, "\\n");
            i++;
        } else if (c == '\r') {
            sb_str(b, "\\r");
            i++;
        } else if (c == '\t') {
            sb_str(b, "\\t");
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            sb_fmt(b, "\\u%04x", c);
            i++;
        } else if ((k = utf8_len(u + i, n - i)) == 0) {
            sb_str(b, "\\ufffd");
            i++;
        } else {
            sb_put(b, s + i, k);
            i += k;
        }
    }
    sb_put(b, "\"", 1);
}

static int text_plain(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char) *s;
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '=' || c == '\\') {
            return 0;
        }
    }
    return 1;
}

/* A TEXT value: bare when it is a plain word, else in double quotes
 * with '"' and '\' escaped and bytes outside printable ASCII as \xNN, so
 * a value from the network can neither end the line nor forge a key. */
static void sb_text_val(struct sbuf *b, const char *s)
{
    if (text_plain(s)) {
        sb_str(b, s);
        return;
    }
    sb_put(b, "\"", 1);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char) *s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char) c};
            sb_put(b, e, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            sb_fmt(b, "\\x%02x", c);
        } else {
            sb_put(b, s, 1);
        }
    }
    sb_put(b, "\"", 1);
}

/* The message itself in TEXT: one line whatever it holds. */
static void sb_text_msg(struct sbuf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        char c = *s;
        sb_put(b, (unsigned char) c < 0x20 ? " " : &c, 1);
    }
}

static void render_once(struct sbuf *b, int format, int decor, int level,
                        uint64_t realtime_ms, const char *msg,
                        const struct bs_log_field *f, size_t n, size_t max)
{
    static const char prog[] = "bitstuffd: ";
    char stamp[64];
    time_t secs = (time_t) (realtime_ms / 1000);
    struct tm tm;

    if (gmtime_r(&secs, &tm) == NULL) {
        memset(&tm, 0, sizeof tm);
    }
    snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (unsigned) (realtime_ms % 1000));
    if (decor == BS_LOG_DECOR_JOURNAL) {
        sb_fmt(b, "<%d>", level);
    }
    if (format == BS_LOG_FORMAT_JSON) {
        if (strncmp(msg, prog, sizeof prog - 1) == 0) {
            msg += sizeof prog - 1; /* every line is bitstuffd's */
        }
        sb_fmt(b, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", stamp,
               bs_log_level_name(level));
        sb_json_str(b, msg, max > 256 ? max : 256);
        for (size_t i = 0; i < n; i++) {
            sb_fmt(b, ",\"%s\":", f[i].key);
            if (f[i].str != NULL) {
                sb_json_str(b, f[i].str, max);
            } else {
                sb_fmt(b, "%llu", (unsigned long long) f[i].num);
            }
        }
        sb_put(b, "}", 1);
        return;
    }
    if (decor == BS_LOG_DECOR_TIME) {
        sb_fmt(b, "%s %s ", stamp, bs_log_level_name(level));
    }
    sb_text_msg(b, msg);
    for (size_t i = 0; i < n; i++) {
        sb_fmt(b, " %s=", f[i].key);
        if (f[i].str != NULL) {
            sb_text_val(b, f[i].str);
        } else {
            sb_fmt(b, "%llu", (unsigned long long) f[i].num);
        }
    }
}

size_t bs_log_render(char *buf, size_t cap, int format, int decor, int level,
                     uint64_t realtime_ms, const char *msg,
                     const struct bs_log_field *f, size_t n)
{
    /* JSON must stay one whole object: shorten the values until it fits. */
    static const size_t clip[] = {SIZE_MAX, 200, 48, 8};
    struct sbuf b = {.p = buf};

    if (cap < 3) {
        if (cap > 0) {
            buf[0] = '\0';
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof clip / sizeof clip[0]; i++) {
        b.cap = cap - 2;
        b.len = 0;
        b.over = 0;
        render_once(&b, format, decor, level, realtime_ms, msg, f, n, clip[i]);
        if (!b.over || format != BS_LOG_FORMAT_JSON) {
            break;
        }
    }
    if (b.over && format == BS_LOG_FORMAT_JSON) {
        b.len = 0;
        b.over = 0;
        render_once(&b, format, decor, level, realtime_ms,
                    "(log line too long to show)", NULL, 0, 0);
    }
    if (b.over && format == BS_LOG_FORMAT_JSON) {
        b.len = 0; /* a tiny buffer: still one object */
        b.over = 0;
        if (decor == BS_LOG_DECOR_JOURNAL) {
            sb_fmt(&b, "<%d>", level);
        }
        sb_str(&b, "{}");
        if (b.over) {
            buf[0] = '\0';
            return 0;
        }
    }
    buf[b.len++] = '\n';
    buf[b.len] = '\0';
    return b.len;
}

static uint64_t realtime_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* ---- ring -------------------------------------------------------------- */

int bs_log_ring_init(struct bs_log_ring *r, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->buf = malloc(cap);
    if (r->buf == NULL) {
        return -1;
    }
    r->cap = cap;
    return 0;
}

void bs_log_ring_free(struct bs_log_ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = r->head = r->len = 0;
}

int bs_log_ring_put(struct bs_log_ring *r, const char *p, size_t n)
{
    size_t tail, first;

    if (n > r->cap - r->len) {
        r->dropped++;
        return 0;
    }
    tail = (r->head + r->len) % r->cap;
    first = n < r->cap - tail ? n : r->cap - tail;
    memcpy(r->buf + tail, p, first);
    memcpy(r->buf, p + first, n - first);
    r->len += n;
    return 1;
}

size_t bs_log_ring_peek(const struct bs_log_ring *r, const char **p)
{
    size_t n = r->cap - r->head;

    *p = r->buf + r->head;
    return r->len < n ? r->len : n;
}

size_t bs_log_ring_copy(const struct bs_log_ring *r, char *dst, size_t max)
{
    size_t n = r->len < max ? r->len : max;
    size_t first = r->cap - r->head < n ? r->cap - r->head : n;

    memcpy(dst, r->buf + r->head, first);
    memcpy(dst + first, r->buf, n - first);
    return n;
}

void bs_log_ring_consume(struct bs_log_ring *r, size_t n)
{
    if (n > r->len) {
        n = r->len;
    }
    r->head = (r->head + n) % r->cap;
    r->len -= n;
    if (r->len == 0) {
        r->head = 0; /* keep lines contiguous while we can */
    }
}

/* ---- rate limit -------------------------------------------------------- */

int bs_log_limit_pass(struct bs_log_limit *l, uint64_t now, unsigned burst,
                      unsigned interval_ms)
{
    if ((l->passed == 0 && l->suppressed == 0) ||
        (now - l->start >= interval_ms && l->suppressed == 0))
    {
        l->start = now;
        l->passed = 0;
    }
    if (l->passed < burst) {
        l->passed++;
        return 1;
    }
    l->suppressed++;
    return 0;
}

uint64_t bs_log_limit_due(struct bs_log_limit *l, uint64_t now,
                          unsigned interval_ms, uint64_t *span_ms)
{
    uint64_t n = l->suppressed;

    if (n == 0 || now - l->start < interval_ms) {
        return 0;
    }
    *span_ms = now - l->start;
    l->start = now;
    l->passed = 0;
    l->suppressed = 0;
    return n;
}

/* ---- the logger -------------------------------------------------------- */

struct log_key {
    const char *key; /* NULL: free slot */
    struct bs_log_limit lim;
    char latest[BS_LOG_LINE_MAX]; /* the last line held back, no '\n' */
};

struct bs_log {
    struct bs_log_config cfg;
    pthread_mutex_t lock; /* everything below */
    pthread_cond_t wake;
    pthread_t thread;
    struct bs_log_ring ring[BS_LOG_NSTREAMS];
    size_t chunk[BS_LOG_NSTREAMS]; /* largest write(): see writer_main */
    int dead[BS_LOG_NSTREAMS];     /* a write failed: discard from now */
    int dead_errno[BS_LOG_NSTREAMS];
    uint64_t dropped_total[BS_LOG_NSTREAMS];
    char *chunk_buf; /* the writer's: whole lines copied out of a ring */
    int idle, stopping;
    uint64_t stop_deadline;
    struct log_key keys[BS_LOG_KEYS];
};

/* The level a logger shows lines at, at most. */
static int shown(const struct bs_log *lg, int level)
{
    return level <= (lg->cfg.level != 0 ? lg->cfg.level : BS_LOG_LVL_INFO);
}

/* msg (and fields) as one stderr line in the logger's format; returns its
 * length with the '\n' (0: not shown at this level). */
static size_t render_err(const struct bs_log *lg, char *line, size_t cap,
                         int level, const char *msg,
                         const struct bs_log_field *f, size_t n)
{
    if (!shown(lg, level)) {
        return 0;
    }
    return bs_log_render(line, cap, lg->cfg.format, lg->cfg.decor, level,
                         realtime_ms(), msg, f, n);
}

/* Put a line the logger itself writes (summaries, notices) on stderr,
 * only if it fits: it is never counted as dropped. */
static void put_own_locked(struct bs_log *lg, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void put_own_locked(struct bs_log *lg, int level, const char *fmt, ...)
{
    struct bs_log_ring *r = &lg->ring[BS_LOG_ERR];
    char msg[BS_LOG_LINE_MAX], line[BS_LOG_LINE_MAX];
    va_list ap;
    size_t len;

    va_start(ap, fmt);
    (void) vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    len = render_err(lg, line, sizeof line, level, msg, NULL, 0);
    if (len > 0 && len <= r->cap - r->len && !lg->dead[BS_LOG_ERR]) {
        (void) bs_log_ring_put(r, line, len);
    }
}

static void summary_locked(struct bs_log *lg, struct log_key *k, uint64_t n,
                           uint64_t span_ms)
{
    unsigned long long secs = (unsigned long long) (span_ms + 500) / 1000;

    put_own_locked(lg, BS_LOG_LVL_WARNING,
                   "%s (repeated %llu more time%s in %llu s, not logged; "
                   "only the latest is shown)",
                   k->latest, (unsigned long long) n, n == 1 ? "" : "s",
                   secs > 0 ? secs : 1);
}

/* Rate-limit summaries whose interval has ended (all of them when the
 * logger stops); returns the ms until the next one is due (UINT64_MAX:
 * none). */
static uint64_t summaries_locked(struct bs_log *lg, uint64_t now)
{
    unsigned interval = lg->stopping ? 0 : lg->cfg.interval_ms;

    uint64_t next = UINT64_MAX;

    for (size_t i = 0; i < BS_LOG_KEYS && lg->keys[i].key != NULL; i++) {
        struct log_key *k = &lg->keys[i];
        uint64_t span = 0;
        uint64_t n = bs_log_limit_due(&k->lim, now, interval, &span);
        if (n > 0) {
            summary_locked(lg, k, n, span);
        } else if (k->lim.suppressed > 0) {
            uint64_t due = k->lim.start + lg->cfg.interval_ms - now;
            next = due < next ? due : next;
        }
    }
    return next;
}

/* "N lines dropped", once the rings have room again (half empty), or
 * whatever room there is when the logger stops. */
static void drop_notices_locked(struct bs_log *lg)
{
    static const char *const what[BS_LOG_NSTREAMS] = {
        [BS_LOG_OUT] = "display lines dropped: standard output",
        [BS_LOG_ERR] = "log lines dropped: standard error",
    };
    const struct bs_log_ring *err = &lg->ring[BS_LOG_ERR];

    for (int s = 0; s < BS_LOG_NSTREAMS; s++) {
        struct bs_log_ring *r = &lg->ring[s];
        if (r->dropped == 0 || lg->dead[s] ||
            (!lg->stopping && (r->len > r->cap / 2 || err->len > err->cap / 2)))
        {
            continue;
        }
        put_own_locked(lg, BS_LOG_LVL_WARNING,
                       "bitstuffd: %llu %s was not read fast enough (its "
                       "buffer of %zu bytes was full)",
                       (unsigned long long) r->dropped, what[s], r->cap);
        r->dropped = 0;
    }
}

static size_t count_lines(const char *p, size_t n)
{
    size_t lines = 0;
    const char *end = p + n;

    while (p < end && (p = memchr(p, '\n', (size_t) (end - p))) != NULL) {
        lines++;
        p++;
    }
    return lines;
}

/* Throw away what stream s holds, counting its lines as dropped. */
static void discard_locked(struct bs_log *lg, int s)
{
    struct bs_log_ring *r = &lg->ring[s];
    const char *p;
    size_t k;

    while ((k = bs_log_ring_peek(r, &p)) > 0) {
        uint64_t lines = count_lines(p, k);
        r->dropped += lines;
        lg->dropped_total[s] += lines;
        bs_log_ring_consume(r, k);
    }
}

/* Write what stream s holds, once (the caller saw POLLOUT): whole lines
 * only, so that lines of the two streams never mix when they share a
 * pipe or a file (2>&1). */
static void write_some(struct bs_log *lg, int s)
{
    struct bs_log_ring *r = &lg->ring[s];
    const char *p = lg->chunk_buf, *last;
    size_t n;
    ssize_t w;

    pthread_mutex_lock(&lg->lock);
    n = bs_log_ring_copy(r, lg->chunk_buf, lg->chunk[s]);
    pthread_mutex_unlock(&lg->lock);
    last = n > 0 ? memrchr(p, '\n', n) : NULL;
    if (last == NULL) {
        return; /* cannot happen: every line ends in '\n' and is short */
    }
    n = (size_t) (last - p) + 1;
    w = write(lg->cfg.fd[s], p, n);
    pthread_mutex_lock(&lg->lock);
    if (w > 0) {
        bs_log_ring_consume(r, (size_t) w);
    } else if (w < 0 && errno != EINTR && errno != EAGAIN) {
        /* Gone for good (EPIPE, EBADF, ENOSPC...): discard, say so once
         * on the other stream if it still works. */
        lg->dead[s] = 1;
        lg->dead_errno[s] = errno;
        discard_locked(lg, s);
        if (s == BS_LOG_OUT) {
            put_own_locked(lg, BS_LOG_LVL_ERROR,
                           "bitstuffd: cannot write the display to standard "
                           "output (%s): display lines are discarded",
                           strerror(lg->dead_errno[s]));
        }
    }
    pthread_mutex_unlock(&lg->lock);
}

static void wait_locked(struct bs_log *lg, uint64_t wait_ms)
{
    struct timespec ts;

    lg->idle = 1;
    if (wait_ms == UINT64_MAX) {
        pthread_cond_wait(&lg->wake, &lg->lock);
    } else {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t) (wait_ms / 1000);
        ts.tv_nsec += (long) (wait_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&lg->wake, &lg->lock, &ts);
    }
    lg->idle = 0;
}

/*
 * The writer.  It waits in poll(2) for the streams that hold lines, so a
 * stalled one never holds back the other, and writes at most PIPE_BUF
 * bytes to anything but a regular file: after POLLOUT a pipe has room for
 * that much, so the write does not block and stop is always noticed.
 */
static void *writer_main(void *arg)
{
    struct bs_log *lg = arg;

    pthread_mutex_lock(&lg->lock);
    for (;;) {
        uint64_t now = bs_timer_now_ms();
        uint64_t next = summaries_locked(lg, now);
        struct pollfd pfd[BS_LOG_NSTREAMS];
        int which[BS_LOG_NSTREAMS];
        nfds_t n = 0;

        drop_notices_locked(lg);
        for (int s = 0; s < BS_LOG_NSTREAMS; s++) {
            if (lg->ring[s].len > 0 && !lg->dead[s]) {
                pfd[n].fd = lg->cfg.fd[s];
                pfd[n].events = POLLOUT;
                pfd[n].revents = 0;
                which[n++] = s;
            }
        }
        if (lg->stopping && n > 0 && now >= lg->stop_deadline) {
            /* Out of time: what is left counts as dropped, and says so
             * if stderr can still take a line. */
            for (int s = 0; s < BS_LOG_NSTREAMS; s++) {
                discard_locked(lg, s);
            }
            drop_notices_locked(lg);
            pthread_mutex_unlock(&lg->lock);
            struct pollfd ep = {.fd = lg->cfg.fd[BS_LOG_ERR],
                                .events = POLLOUT};
            if (!lg->dead[BS_LOG_ERR] && poll(&ep, 1, 0) == 1 &&
                (ep.revents & POLLOUT)) {
                write_some(lg, BS_LOG_ERR);
            }
            pthread_mutex_lock(&lg->lock);
            break;
        }
        if (lg->stopping && n == 0) {
            break;
        }
        if (n == 0) {
            wait_locked(lg, next);
            continue;
        }
        pthread_mutex_unlock(&lg->lock);
        if (poll(pfd, n, WRITER_POLL_MS) > 0) {
            for (nfds_t i = 0; i < n; i++) {
                if (pfd[i].revents != 0) {
                    write_some(lg, which[i]);
                }
            }
        }
        pthread_mutex_lock(&lg->lock);
    }
    pthread_mutex_unlock(&lg->lock);
    return NULL;
}

struct bs_log *bs_log_new(const struct bs_log_config *cfg, char *err,
                          size_t errlen)
{
    struct bs_log *lg = calloc(1, sizeof *lg);
    pthread_condattr_t ca;
    size_t cap = cfg->ring_bytes != 0 ? cfg->ring_bytes : BS_LOG_RING_DEFAULT;
    int r;

    if (lg == NULL) {
        snprintf(err, errlen, "cannot start the logger: out of memory");
        return NULL;
    }
    lg->cfg = *cfg;
    lg->chunk_buf = malloc(FILE_CHUNK);
    if (lg->chunk_buf == NULL) {
        snprintf(err, errlen, "cannot start the logger: out of memory");
        goto fail;
    }
    for (int s = 0; s < BS_LOG_NSTREAMS; s++) {
        struct stat st;
        if (bs_log_ring_init(&lg->ring[s], cap) != 0) {
            snprintf(err, errlen, "cannot start the logger: out of memory");
            goto fail;
        }
        lg->chunk[s] = fstat(cfg->fd[s], &st) == 0 && S_ISREG(st.st_mode)
                           ? FILE_CHUNK
                           : PIPE_BUF;
    }
    pthread_mutex_init(&lg->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&lg->wake, &ca);
    pthread_condattr_destroy(&ca);
    r = pthread_create(&lg->thread, NULL, writer_main, lg);
    if (r != 0) {
        snprintf(err, errlen, "cannot start the logger thread: %s",
                 strerror(r));
        pthread_cond_destroy(&lg->wake);
        pthread_mutex_destroy(&lg->lock);
        goto fail;
    }
    return lg;
fail:
    for (int s = 0; s < BS_LOG_NSTREAMS; s++) {
        bs_log_ring_free(&lg->ring[s]);
    }
    free(lg->chunk_buf);
    free(lg);
    return NULL;
}

void bs_log_free(struct bs_log *lg)
{
    if (lg == NULL) {
        return;
    }
    pthread_mutex_lock(&lg->lock);
    lg->stopping = 1;
    lg->stop_deadline = bs_timer_now_ms() + lg->cfg.flush_ms;
    pthread_cond_signal(&lg->wake);
    pthread_mutex_unlock(&lg->lock);
    pthread_join(lg->thread, NULL);
    pthread_cond_destroy(&lg->wake);
    pthread_mutex_destroy(&lg->lock);
    for (int s = 0; s < BS_LOG_NSTREAMS; s++) {
        bs_log_ring_free(&lg->ring[s]);
    }
    free(lg->chunk_buf);
    free(lg);
}

static void put_locked(struct bs_log *lg, enum bs_log_stream s,
                       const char *line, size_t len)
{
    if (lg->dead[s]) {
        return;
    }
    if (!bs_log_ring_put(&lg->ring[s], line, len)) {
        lg->dropped_total[s]++;
        return;
    }
    if (lg->idle) {
        pthread_cond_signal(&lg->wake);
    }
}

__attribute__((format(printf, 3, 0))) static void
vput(struct bs_log *lg, enum bs_log_stream s, const char *fmt, va_list ap)
{
    char line[BS_LOG_LINE_MAX];
    size_t len;

    if (lg == NULL) {
        bs_log_vline(s == BS_LOG_OUT ? STDOUT_FILENO : STDERR_FILENO, fmt, ap);
        return;
    }
    len = format_line(line, sizeof line, fmt, ap);
    if (len == 0) {
        return;
    }
    pthread_mutex_lock(&lg->lock);
    put_locked(lg, s, line, len);
    pthread_mutex_unlock(&lg->lock);
}

/* A stderr line at level, with fields. */
static void put_err(struct bs_log *lg, int level, const char *msg,
                    const struct bs_log_field *f, size_t n)
{
    char line[BS_LOG_LINE_MAX];
    size_t len = render_err(lg, line, sizeof line, level, msg, f, n);

    if (len == 0) {
        return;
    }
    pthread_mutex_lock(&lg->lock);
    put_locked(lg, BS_LOG_ERR, line, len);
    pthread_mutex_unlock(&lg->lock);
}

__attribute__((format(printf, 3, 0))) static void
vmsg(struct bs_log *lg, int level, const char *fmt, va_list ap)
{
    char msg[BS_LOG_LINE_MAX];

    if (lg == NULL) {
        bs_log_vline(STDERR_FILENO, fmt, ap);
        return;
    }
    if (!shown(lg, level) || vsnprintf(msg, sizeof msg, fmt, ap) < 0) {
        return;
    }
    put_err(lg, level, msg, NULL, 0);
}

void bs_log_put(struct bs_log *lg, enum bs_log_stream s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (s == BS_LOG_ERR) {
        vmsg(lg, BS_LOG_LVL_ERROR, fmt, ap);
    } else {
        vput(lg, s, fmt, ap);
    }
    va_end(ap);
}

void bs_log_msg(struct bs_log *lg, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg(lg, level, fmt, ap);
    va_end(ap);
}

static struct log_key *find_key_locked(struct bs_log *lg, const char *key)
{
    for (size_t i = 0; i < BS_LOG_KEYS; i++) {
        struct log_key *k = &lg->keys[i];
        if (k->key == NULL) {
            k->key = key;
            return k;
        }
        if (strcmp(k->key, key) == 0) {
            return k;
        }
    }
    return &lg->keys[BS_LOG_KEYS - 1]; /* the rest share the last */
}

/* msg (with fields) at level, subject to key's rate limit: the lines
 * held back are counted, the latest kept (as TEXT, without decoration)
 * for the summary. */
static void put_limited(struct bs_log *lg, int level, const char *key,
                        const char *msg, const struct bs_log_field *f, size_t n)
{
    char line[BS_LOG_LINE_MAX], plain[BS_LOG_LINE_MAX];
    struct log_key *k;
    uint64_t now, span = 0, cnt;
    size_t len, plen;

    if (lg->cfg.interval_ms == 0) {
        put_err(lg, level, msg, f, n);
        return;
    }
    len = render_err(lg, line, sizeof line, level, msg, f, n);
    if (len == 0) {
        return;
    }
    plen = bs_log_render(plain, sizeof plain, BS_LOG_FORMAT_TEXT,
                         BS_LOG_DECOR_NONE, level, 0, msg, f, n);
    now = bs_timer_now_ms();
    pthread_mutex_lock(&lg->lock);
    k = find_key_locked(lg, key);
    if ((cnt = bs_log_limit_due(&k->lim, now, lg->cfg.interval_ms, &span)) > 0)
    {
        summary_locked(lg, k, cnt, span);
    }
    if (bs_log_limit_pass(&k->lim, now, lg->cfg.burst, lg->cfg.interval_ms)) {
        put_locked(lg, BS_LOG_ERR, line, len);
    } else {
        memcpy(k->latest, plain, plen - 1);
        k->latest[plen - 1] = '\0';
        if (k->lim.suppressed == 1 && lg->idle) {
            pthread_cond_signal(&lg->wake); /* a summary is now due */
        }
    }
    pthread_mutex_unlock(&lg->lock);
}

void bs_log_limited(struct bs_log *lg, const char *key, const char *fmt, ...)
{
    char msg[BS_LOG_LINE_MAX];
    va_list ap;

    va_start(ap, fmt);
    if (lg == NULL) {
        vput(lg, BS_LOG_ERR, fmt, ap);
        va_end(ap);
        return;
    }
    if (!shown(lg, BS_LOG_LVL_WARNING) ||
        vsnprintf(msg, sizeof msg, fmt, ap) < 0) {
        va_end(ap);
        return;
    }
    va_end(ap);
    put_limited(lg, BS_LOG_LVL_WARNING, key, msg, NULL, 0);
}

void bs_log_event(struct bs_log *lg, int level, const char *key,
                  const char *msg, const struct bs_log_field *f, size_t n)
{
    char line[BS_LOG_LINE_MAX];

    if (lg == NULL) {
        size_t len = bs_log_render(line, sizeof line, BS_LOG_FORMAT_TEXT,
                                   BS_LOG_DECOR_NONE, level, 0, msg, f, n);
        write_all(STDERR_FILENO, line, len);
        return;
    }
    if (!shown(lg, level)) {
        return;
    }
    if (key == NULL) {
        put_err(lg, level, msg, f, n);
    } else {
        put_limited(lg, level, key, msg, f, n);
    }
}

uint64_t bs_log_dropped(struct bs_log *lg, enum bs_log_stream s)
{
    uint64_t n;

    pthread_mutex_lock(&lg->lock);
    n = lg->dropped_total[s];
    pthread_mutex_unlock(&lg->lock);
    return n;
}
