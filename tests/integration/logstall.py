#!/usr/bin/env python3
"""logstall.py - a log nobody reads must not stall the server (issue 9.3).

  logstall.py display|junk --server BITSTUFFD --bench BITSTUFF-BENCH
              --certs DIR [--requests N] [--junk N]

Starts bitstuffd itself, with its stdout and stderr on pipes that this
script holds open and does not read (after the "listening on" line), so
that they fill up as a stalled terminal or log collector would.

display: the exchange display is on; one bench connection makes
    --requests requests (each writes two display lines), then a real
    client must be answered.  Then the pipes are read again and stderr
    must say how many display lines were dropped; then SIGTERM.
junk:    -q; --junk plaintext connections that each earn one error line,
    then a real client must be answered; then SIGTERM while the pipes are
    still unread: the server must exit anyway.  Then stderr must hold at
    most a burst of the per-connection lines and a line counting the rest.
stderr-full: -q, stderr a pipe already full at start (a stalled log
    collector); a real client is answered, plaintext connections are
    closed, and SIGTERM still stops the server.

Every wait is bounded; exits 0 if the server behaved, 1 if not.
"""
import argparse
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

from itlib import recv_line

LAB = "0101111110011111001010"
LAB_STUFFED = "010111110100111110001010"


def die(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def start(a, extra, stderr=subprocess.PIPE):
    p = subprocess.Popen(
        [a.server, "-l", "127.0.0.1:0", "--threads", "2",
         "--cert", os.path.join(a.certs, "server.crt"),
         "--key", os.path.join(a.certs, "server.key")] + extra,
        stdout=subprocess.PIPE, stderr=stderr)
    line = b""
    deadline = time.monotonic() + 20
    while not line.endswith(b"\n"):  # byte by byte: read nothing more
        if time.monotonic() > deadline:
            p.kill()
            die("no 'listening on' line within 20 s")
        r, _, _ = select.select([p.stdout], [], [], 1)
        if r:
            b = os.read(p.stdout.fileno(), 1)
            if not b:
                die("the server exited at start: %r" % line)
            line += b
    m = re.search(rb"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        die("unexpected first line %r" % line)
    return p, int(m.group(1))


def real_client(a, port, limit=20):
    """One request from a well-behaved client, answered within limit s."""
    ctx = ssl.create_default_context(cafile=os.path.join(a.certs, "ca.crt"))
    t0 = time.monotonic()
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=limit)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall((LAB + "\n").encode())
        buf = recv_line(s)
        s.close()
    except (OSError, ssl.SSLError) as e:
        return "no answer within %d s (%s)" % (limit, e)
    if buf != ("OK %s\n" % LAB_STUFFED).encode():
        return "wrong answer %r" % buf
    return "answered in %.2f s" % (time.monotonic() - t0)


class Reader(threading.Thread):
    """Reads a pipe to the end, keeping what it read."""

    def __init__(self, f):
        super().__init__(daemon=True)
        self.f, self.data = f, bytearray()

    def run(self):
        while True:
            d = os.read(self.f.fileno(), 65536)
            if not d:
                return
            self.data += d


def stop(p, limit=15):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        die("the server did not exit within %d s of SIGTERM" % limit)


def stop_ok(p, what):
    """SIGTERM: the server must exit 0 ("ok: SIGTERM with WHAT")."""
    rc = stop(p)
    if rc != 0:
        die("server exit status %d after SIGTERM" % rc)
    print("ok: SIGTERM with %s: exit 0" % what)


def kill_left(p):
    """When a case ends early: a server still running is killed."""
    if p.poll() is None:
        p.kill()
        p.wait()


def expect_answer(a, port, what):
    """A real client is answered; else fail, saying after WHAT."""
    res = real_client(a, port)
    if not res.startswith("answered"):
        die(what + res)
    return res


def case_display(a):
    p, port = start(a, [])
    try:
        cmd = [a.bench, "-c", "127.0.0.1:%d" % port, "--ca-file",
               os.path.join(a.certs, "ca.crt"), "-q", "-n", "1", "-P", "16",
               "-r", str(a.requests), "--timeout", "20s"]
        try:
            b = subprocess.run(cmd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=120)
        except subprocess.TimeoutExpired:
            die("%d requests with the display on and stdout unread: no end "
                "within 120 s" % a.requests)
        if b.returncode != 0:
            die("%d requests with the display on and stdout unread: bench "
                "exit %d: %s" % (a.requests, b.returncode,
                                 b.stdout.decode()[-300:]))
        print("ok: %d requests served while nobody read stdout" % a.requests)
        res = expect_answer(a, port, "a real client after them: ")
        print("ok: a real client meanwhile: " + res)
        out, err = Reader(p.stdout), Reader(p.stderr)
        out.start()
        err.start()
        deadline = time.monotonic() + 20
        pat = re.compile(rb"bitstuffd: (\d+) display lines dropped: "
                         rb"standard output was not read fast enough")
        while not pat.search(bytes(err.data)):
            if time.monotonic() > deadline:
                die("no 'display lines dropped' line on stderr once it was "
                    "read: %r" % bytes(err.data[-400:]))
            time.sleep(0.1)
        print("ok: once read again: %s" %
              pat.search(bytes(err.data)).group(0).decode())
        expect_answer(a, port, "a real client after the pipes were read: ")
    finally:
        if p.poll() is None:
            rc = stop(p)
            if rc != 0:
                die("server exit status %d after SIGTERM" % rc)
    time.sleep(0.2)
    if b"[127.0.0.1:" not in bytes(out.data):
        die("no display line on stdout at all")
    print("ok: the server stopped with exit 0")


def junk_one_batch(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        socks.append(s)
    deadline = time.monotonic() + 30
    while socks and time.monotonic() < deadline:
        r, _, _ = select.select(socks, [], [], 1)
        for s in r:
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if not d:
                socks.remove(s)
                s.close()
    left = len(socks)
    for s in socks:
        s.close()
    return left


def case_junk(a):
    p, port = start(a, ["-q"])
    try:
        left = 0
        for _ in range(a.junk // 100):
            left += junk_one_batch(port, 100)
        if left:
            die("%d plaintext connections were not closed within 30 s" % left)
        print("ok: %d plaintext connections, each closed by the server" %
              a.junk)
        res = expect_answer(a, port, "a real client after them: ")
        print("ok: a real client meanwhile: " + res)
        stop_ok(p, "stderr unread")
    finally:
        kill_left(p)
    err = p.stderr.read().decode(errors="replace").splitlines()
    per_conn = [l for l in err if "TLS handshake failed" in l]
    counted = [l for l in per_conn if re.search(
        r"\(repeated \d+ more times? in \d+ s, not logged", l)]
    print("ok: stderr holds %d lines, %d about the plaintext connections" %
          (len(err), len(per_conn)))
    if len(per_conn) > a.max_lines:
        die("%d 'TLS handshake failed' lines for %d connections: not "
            "rate-limited (want at most %d)" % (len(per_conn), a.junk,
                                               a.max_lines))
    if not counted:
        die("no line counting the 'TLS handshake failed' lines not logged: "
            "%r" % err[-3:])
    n = sum(int(re.search(r"repeated (\d+) more", l).group(1))
            for l in counted)
    if n + len(per_conn) - len(counted) < a.junk:
        die("lines logged (%d) and counted (%d) fall short of %d "
            "connections" % (len(per_conn) - len(counted), n, a.junk))
    print("ok: " + counted[-1][:200])


def case_stderr_full(a):
    """stderr is a pipe already full when the server starts."""
    r, w = os.pipe()
    os.set_blocking(w, False)
    filled = 0
    try:
        while True:
            filled += os.write(w, b"x" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)  # the server gets an ordinary, full pipe
    p, port = start(a, ["-q"], stderr=w)
    os.close(w)
    try:
        res = expect_answer(a, port, "a real client with stderr full: ")
        print("ok: stderr full (%d bytes) from the start; a real client: %s"
              % (filled, res))
        if junk_one_batch(port, 20):
            die("plaintext connections not closed with stderr full")
        stop_ok(p, "stderr full")
    finally:
        kill_left(p)
        os.close(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=["display", "junk", "stderr-full"])
    ap.add_argument("--server", required=True)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--certs", required=True)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--junk", type=int, default=1000)
    ap.add_argument("--max-lines", type=int, default=60)
    a = ap.parse_args()
    if a.case == "display":
        case_display(a)
    elif a.case == "junk":
        case_junk(a)
    else:
        case_stderr_full(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
