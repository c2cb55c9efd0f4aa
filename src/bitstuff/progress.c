/*
 * progress.c - the file mode's progress line (see progress.h).
 */
#include "progress.h"

#include <inttypes.h>
#include <string.h>

void bs_progress_init(struct bs_progress *p, enum bs_progress_mode mode,
                      FILE *f, int f_is_tty, uint64_t total, int64_t now_ms)
{
    memset(p, 0, sizeof(*p));
    p->total = total;
    p->start_ms = now_ms;
    p->last_ms = now_ms;
    if (mode == BS_PROGRESS_ON) {
        p->f = f;
        p->delay = 0;
    } else if (mode == BS_PROGRESS_AUTO && f_is_tty) {
        p->f = f;
        p->delay = BS_PROGRESS_DELAY_MS;
    }
}

/* "999 B", "12.3 KiB", "1.5 MiB", "2.0 GiB", "1.2 TiB" */
static void human(char *buf, size_t len, double v)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;

    while (v >= 1024.0 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
        v /= 1024.0;
        u++;
    }
    if (u == 0) {
        snprintf(buf, len, "%.0f B", v);
    } else {
        snprintf(buf, len, "%.1f %s", v, unit[u]);
    }
}

/* "0:07", "12:34", "1:02:03" */
static void clock_text(char *buf, size_t len, uint64_t s)
{
    if (s >= 3600) {
        snprintf(buf, len, "%" PRIu64 ":%02u:%02u", s / 3600,
                 (unsigned) (s / 60 % 60), (unsigned) (s % 60));
    } else {
        snprintf(buf, len, "%u:%02u", (unsigned) (s / 60), (unsigned) (s % 60));
    }
}

size_t bs_progress_format(char *buf, size_t len, uint64_t done, uint64_t total,
                          int64_t elapsed_ms)
{
    char d[24], t[24], r[24], e[24];
    double secs = elapsed_ms > 0 ? (double) elapsed_ms / 1000.0 : 0.0;
    double rate = secs > 0 ? (double) done / secs : 0.0;
    int n;

    if (len == 0) {
        return 0;
    }
    human(d, sizeof(d), (double) done);
    human(r, sizeof(r), rate);
    if (total != BS_PROGRESS_UNKNOWN) {
        unsigned pct =
            total == 0 ? 100u
                       : (unsigned) ((double) (done >= total ? total : done) *
                                     100.0 / (double) total);

        human(t, sizeof(t), (double) total);
        if (rate > 0 && done < total) {
            clock_text(e, sizeof(e),
                       (uint64_t) ((double) (total - done) / rate + 0.5));
        } else if (done >= total) {
            snprintf(e, sizeof(e), "0:00");
        } else {
            snprintf(e, sizeof(e), "--:--");
        }
        n = snprintf(buf, len, "  %s / %s  %3u%%  %s/s  ETA %s", d, t, pct, r,
                     e);
    } else {
        clock_text(e, sizeof(e), (uint64_t) secs);
        n = snprintf(buf, len, "  %s  %s/s  %s", d, r, e);
    }
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    return (size_t) n < len ? (size_t) n : len - 1;
}

int bs_progress_update(struct bs_progress *p, uint64_t done, int64_t now_ms)
{
    char line[128];

    if (p->f == NULL || now_ms - p->start_ms < p->delay) {
        return 0;
    }
    if (p->shown && now_ms - p->last_ms < BS_PROGRESS_EVERY_MS) {
        return 0;
    }
    bs_progress_format(line, sizeof(line), done, p->total,
                       now_ms - p->start_ms);
    /* back to the line's start, the line, then erase what an older,
     * longer line left to its right */
    fprintf(p->f, "\r%s\033[K", line);
    fflush(p->f);
    p->shown = 1;
    p->last_ms = now_ms;
    return 1;
}

void bs_progress_end(struct bs_progress *p)
{
    if (p->f != NULL && p->shown) {
        fputs("\r\033[K", p->f);
        fflush(p->f);
    }
    p->shown = 0;
}
