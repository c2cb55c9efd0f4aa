/*
 * outfile.h - an output file that never destroys what was there before.
 *
 * A regular file (or a name that does not exist yet) is written to a new
 * temporary file in the same directory, created with O_EXCL and the
 * umask's mode (or the existing target's permission bits), and renamed
 * over the target only by bs_outfile_commit(), after an fsync of the file
 * and, after the rename, of the directory.  bs_outfile_abort() removes
 * that temporary file and nothing else: the target stays byte for byte
 * as it was.
 *
 * A target that exists and is not a regular file (a character or block
 * device, a FIFO, a socket) is opened and written in place, never
 * truncated, unlinked or replaced.  A symbolic link is followed to its
 * final target (the temporary file goes into that target's directory), so
 * the link itself stays.  "-" is standard output.
 *
 * Nothing here keeps global state; signal handling is the caller's (see
 * main.c): call bs_outfile_abort() on the way out.
 */
#ifndef BS_OUTFILE_H
#define BS_OUTFILE_H

#include <stddef.h>

enum bs_outfile_kind {
    BS_OUTFILE_NONE = 0, /* not open (or committed / aborted) */
    BS_OUTFILE_STDOUT,   /* "-": file descriptor 1, borrowed */
    BS_OUTFILE_INPLACE,  /* an existing device, FIFO or socket */
    BS_OUTFILE_TEMP,     /* a temporary file renamed over the target */
};

struct bs_outfile {
    enum bs_outfile_kind kind;
    int fd;           /* write here; -1 when not open */
    char *final_path; /* the target, symbolic links resolved (malloc) */
    char *tmp_path;   /* BS_OUTFILE_TEMP: the file we created (malloc) */
    int existed;      /* the target existed when opened */
};

/*
 * Open path for writing as described above.  Returns 0, or -1 with err
 * set to a sentence that names path and the reason (nothing is created
 * then).  Refuses a directory, a symbolic-link loop and a target whose
 * directory cannot hold a new file.
 */
int bs_outfile_open(struct bs_outfile *f, const char *path, char *err,
                    size_t errlen);

/*
 * Make the output final: for a temporary file, fsync, close, rename over
 * the target and fsync the directory; for a device or FIFO, close; for
 * standard output, nothing.  Returns 0, or -1 with err set (the temporary
 * file is then removed and the target untouched).  After it, f is closed.
 */
int bs_outfile_commit(struct bs_outfile *f, char *err, size_t errlen);

/*
 * Give up: close, and remove the temporary file if there is one.  Never
 * removes anything else.  Safe on a closed or zeroed f.  Returns 1 if a
 * temporary file was removed, else 0.
 */
int bs_outfile_abort(struct bs_outfile *f);

#endif /* BS_OUTFILE_H */
