/*
 * log.c - one line, one write(2); see log.h.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

void bs_log_vline(int fd, const char *fmt, va_list ap)
{
    char line[BS_LOG_LINE_MAX];
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    size_t len, off = 0;

    if (n < 0) {
        return;
    }
    len = (size_t) n < sizeof line - 2 ? (size_t) n : sizeof line - 2;
    line[len++] = '\n';
    while (off < len) {
        ssize_t w = write(fd, line + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return;
        }
        off += (size_t) w;
    }
}

void bs_log_line(int fd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    bs_log_vline(fd, fmt, ap);
    va_end(ap);
}
