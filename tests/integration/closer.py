#!/usr/bin/env python3
"""closer.py - a text client that checks how the server ends a session.

  closer.py HOST PORT CAFILE idle
      sends the lab's example, checks the reply, prints "ready", then
      waits for the server to close: exit 0 if it closes with
      close_notify, 1 if it just drops the connection.
  closer.py HOST PORT CAFILE flood N
      sends N text requests without reading any reply, until the server
      stops reading (backpressure) or all are sent; prints "ready SENT";
      then reads every reply: each must be right and in order (a last
      "ERR 27 busy" may answer a request the server had only begun), and
      the end must be a close_notify.  Prints "replies OK BUSY".
"""
import re
import select
import socket
import ssl
import sys
import time

LAB = "0101111110011111001010"
LAB_STUFFED = "010111110100111110001010"


def connect(host, port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection((host, int(port)), timeout=20)
    return ctx.wrap_socket(raw, server_hostname=host,
                           suppress_ragged_eofs=False)


def read_to_close(sock, buf):
    """Read until the server closes; True if with close_notify."""
    while True:
        try:
            d = sock.recv(65536)
        except ssl.SSLEOFError:
            return False, buf
        except (ConnectionResetError, BrokenPipeError):
            return False, buf
        if not d:
            return True, buf
        buf += d


def idle(sock):
    sock.sendall((LAB + "\n").encode())
    buf = b""
    while b"\n" not in buf:
        d = sock.recv(4096)
        if not d:
            print("closed before the reply")
            return 1
        buf += d
    if buf != ("OK %s\n" % LAB_STUFFED).encode():
        print("wrong reply %r" % buf)
        return 1
    print("ready", flush=True)
    clean, rest = read_to_close(sock, b"")
    if rest:
        print("unexpected bytes %r" % rest[:80])
        return 1
    print("close_notify" if clean else "closed WITHOUT close_notify")
    return 0 if clean else 1


def request(i):
    # varied lengths so that stuffing matters; line i has i % 300 + 1 bits
    bits = "".join("1" if (i * 7 + k) % 13 else "0" for k in range(i % 300 + 1))
    return bits, re.sub("11111", "111110", bits)


def flood(sock, n):
    sock.setblocking(False)
    out = b"".join(("stuff %s\n" % request(i)[0]).encode() for i in range(n))
    off, last = 0, time.monotonic()
    # write until everything is out or nothing moved for 1 s
    while off < len(out) and time.monotonic() - last < 1.0:
        _, w, _ = select.select([], [sock], [], 0.2)
        if not w:
            continue
        try:
            off += sock.send(out[off:off + 16384])
            last = time.monotonic()
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
            pass
    # count whole lines sent
    sent = out[:off].count(b"\n")
    print("ready %d" % sent, flush=True)
    sock.setblocking(True)
    sock.settimeout(30)
    clean, buf = read_to_close(sock, b"")
    lines = buf.decode().split("\n")
    if lines[-1] != "":
        print("the reply stream ends inside a line: %r" % lines[-1][:80])
        return 1
    lines = lines[:-1]
    ok = busy = 0
    for i, line in enumerate(lines):
        if line.startswith("ERR 27 ") and i == len(lines) - 1:
            busy += 1
            continue
        want = "OK " + request(i)[1]
        if line != want:
            print("reply %d: got %r want %r" % (i, line[:60], want[:60]))
            return 1
        ok += 1
    print("replies %d %d" % (ok, busy))
    if ok + busy > sent + (1 if off > 0 else 0):
        print("more replies than requests sent")
        return 1
    print("close_notify" if clean else "closed WITHOUT close_notify")
    return 0 if clean else 1


def main():
    host, port, cafile, mode = sys.argv[1:5]
    sock = connect(host, port, cafile)
    if mode == "idle":
        return idle(sock)
    return flood(sock, int(sys.argv[5]))


if __name__ == "__main__":
    sys.exit(main())
