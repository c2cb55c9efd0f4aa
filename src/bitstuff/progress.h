/*
 * progress.h - one self-redrawing progress line on stderr for file mode,
 * as curl and pv show it: bytes so far, rate, and the percentage and ETA
 * when the input's size is known.  Formatting is pure
 * (bs_progress_format); drawing takes the time from the caller, so the
 * rules (nothing during the first second unless forced, at most four
 * redraws a second) are testable.
 */
#ifndef BS_PROGRESS_H
#define BS_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BS_PROGRESS_UNKNOWN UINT64_MAX
/* An automatic line appears once a transfer has run this long. */
#define BS_PROGRESS_DELAY_MS 1000
#define BS_PROGRESS_EVERY_MS 250

enum bs_progress_mode {
    BS_PROGRESS_AUTO = 0, /* when stderr is a terminal, after a second */
    BS_PROGRESS_ON,       /* --progress: always, from the start */
    BS_PROGRESS_OFF,      /* --no-progress or -q */
};

struct bs_progress {
    FILE *f;   /* NULL: draw nothing */
    int delay; /* ms before the first line */
    int64_t start_ms, last_ms;
    uint64_t total; /* bytes, or BS_PROGRESS_UNKNOWN */
    int shown;
};

/*
 * Decide whether to draw at all: mode ON draws to f whatever it is, AUTO
 * only if f_is_tty, OFF never.  total: the input's size in bytes, or
 * BS_PROGRESS_UNKNOWN.  now_ms: a monotonic clock.
 */
void bs_progress_init(struct bs_progress *p, enum bs_progress_mode mode,
                      FILE *f, int f_is_tty, uint64_t total, int64_t now_ms);

/*
 * The line for done bytes after elapsed_ms, without a line end, e.g.
 * "  1.5 MiB / 3.0 MiB   50%   1.5 MiB/s  ETA 0:01" or, with total
 * unknown, "  1.5 MiB   1.5 MiB/s  0:01".  Returns its length (always
 * NUL-terminated within len).
 */
size_t bs_progress_format(char *buf, size_t len, uint64_t done, uint64_t total,
                          int64_t elapsed_ms);

/* Redraw if due.  Returns 1 if it drew. */
int bs_progress_update(struct bs_progress *p, uint64_t done, int64_t now_ms);

/* Erase the line if one was drawn, so that the next message starts on a
 * clean line. */
void bs_progress_end(struct bs_progress *p);

#endif /* BS_PROGRESS_H */
