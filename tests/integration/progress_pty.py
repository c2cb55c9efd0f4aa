#!/usr/bin/env python3
"""progress_pty.py - run the client in file mode with its stderr on a
pseudo-terminal or on a pipe, feeding its stdin slowly (1 MiB, a pause of
PAUSE seconds, 1 MiB) so that the transfer lasts more than a second, and
report what appeared on stderr.

  progress_pty.py pty|pipe PAUSE CLIENT ARGS...

Prints "progress" if a progress line (a rate, "B/s", after a carriage
return) was drawn, "none" if not; then "exit N".  The stream is saved to
stderr.txt in the current directory.
"""
import os
import pty
import select
import subprocess
import sys
import time


def main():
    where, pause = sys.argv[1], float(sys.argv[2])
    cmd = sys.argv[3:]
    if where == "pty":
        master, slave = pty.openpty()
        err = slave
    else:
        master, err = os.pipe()
        slave = err
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=err)
    os.close(slave)
    data = b""
    chunk = os.urandom(1 << 20)

    def drain(wait):
        nonlocal data
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            r, _, _ = select.select([master], [], [], max(left, 0))
            if not r:
                if left <= 0:
                    return True
                continue
            try:
                d = os.read(master, 65536)
            except OSError:  # EIO: the pty's other side is closed
                return False
            if not d:
                return False
            data += d

    child.stdin.write(chunk)
    child.stdin.flush()
    drain(pause)
    child.stdin.write(chunk)
    child.stdin.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and drain(0.2):
        if child.poll() is not None:
            drain(0.2)
            break
    rc = child.wait(timeout=60)
    with open("stderr.txt", "wb") as f:
        f.write(data)
    drawn = b"\r" in data and b"B/s" in data
    print("progress" if drawn else "none")
    print("exit %d" % rc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
