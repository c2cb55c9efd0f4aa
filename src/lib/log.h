/*
 * log.h - whole lines to a file descriptor, one write(2) each.
 *
 * Worker threads share stdout (the exchange display) and stderr (logs).
 * stdio buffers per FILE and may split a line across writes; here every
 * line is formatted first and handed to the kernel in one write(2), so
 * lines from different threads never interleave (POSIX makes writes of
 * up to PIPE_BUF bytes to a pipe atomic; terminals and files do not tear
 * short writes in practice).  Lines longer than BS_LOG_LINE_MAX - 1 are
 * cut.  Errors writing are ignored: a log must never stop the server.
 */
#ifndef BS_LOG_H
#define BS_LOG_H

#include <stdarg.h>

#define BS_LOG_LINE_MAX 1024

/* Format one line (a '\n' is appended) and write it to fd. */
void bs_log_line(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bs_log_vline(int fd, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif /* BS_LOG_H */
