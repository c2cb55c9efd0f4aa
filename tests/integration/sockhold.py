"""sockhold - hold a listening socket and run a server on it by socket
activation, as systemd does with a .socket unit (LISTEN_FDS=1,
LISTEN_PID=<the server's pid>, the socket as descriptor 3):

    sockhold.py [--kind KIND] --port-file FILE --log FILE -- SERVER ARGS...

KIND is what descriptor 3 is: "tcp" (a listening TCP socket on
127.0.0.1, port chosen by the system; the default), "tcp-unlistened" (a
bound TCP socket nobody called listen(2) on), "udp", "unix" (a listening
unix stream socket) or "file" (a regular file); the last four are for
the server's refusals.  The port goes to the port file once the socket
listens.  Each start of the server is one line "started PID" in the log,
each end "exited PID STATUS".

SIGHUP restarts the server the way `systemctl restart` does with the
socket unit active: SIGTERM to the running one, wait for it to exit
(it drains), start a new one on the same socket.  Connections that
arrive meanwhile wait in the socket's accept queue.  SIGTERM stops the
server and the holder.  Ends on its own after --seconds (bounded)."""

import argparse
import os
import signal
import socket
import sys
import tempfile
import time


def make_socket(kind, tmp):
    if kind == "tcp" or kind == "tcp-unlistened":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        if kind == "tcp":
            s.listen(4096)
        return s, s.getsockname()[1]
    if kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        return s, s.getsockname()[1]
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(os.path.join(tmp, "sock"))
        s.listen(16)
        return s, 0
    f = open(os.path.join(tmp, "file"), "w")
    return f, 0


def start(fd, argv, log):
    pid = os.fork()
    if pid == 0:
        if fd == 3:
            os.set_inheritable(3, True)
        else:
            os.dup2(fd, 3, inheritable=True)
        env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()),
                   LISTEN_FDNAMES="bitstuffd")
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    log.write("started %d\n" % pid)
    return pid


def reap(pid, log, wait):
    try:
        got, st = os.waitpid(pid, 0 if wait else os.WNOHANG)
    except ChildProcessError:
        return True
    if got == 0:
        return False
    log.write("exited %d %d\n" % (pid, os.waitstatus_to_exitcode(st)))
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", default="tcp")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("server", nargs="+")
    a = ap.parse_args()
    events = []
    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, lambda n, _f: events.append(n))
    tmp = tempfile.mkdtemp(dir=os.path.dirname(a.log))
    sock, port = make_socket(a.kind, tmp)
    with open(a.log, "a", buffering=1) as log:
        pid = start(sock.fileno(), a.server, log)
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(a.port_file + ".tmp", a.port_file)
        end = time.monotonic() + a.seconds
        alive = True
        while time.monotonic() < end:
            if alive and reap(pid, log, False):
                alive = False
            if not events:
                time.sleep(0.02)
                continue
            sig = events.pop(0)
            if alive:
                os.kill(pid, signal.SIGTERM)
                reap(pid, log, True)
                alive = False
            if sig == signal.SIGTERM:
                return 0
            pid = start(sock.fileno(), a.server, log)
            alive = True
        if alive:
            os.kill(pid, signal.SIGKILL)
            reap(pid, log, True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
