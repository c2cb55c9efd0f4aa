#!/usr/bin/env python3
"""stall.py - clients that never finish the TLS handshake.

  stall.py HOST PORT SILENT HALF [--limit SECONDS]

Opens SILENT plain TCP connections that send nothing and HALF that send
the first half of a real ClientHello and then trickle the rest one byte
every 0.2 s (so that a deadline re-armed on each read never fires).
Prints "stalling N" once all are open, then waits until the server has
closed every one of them.  Exits 0 if it did within --limit seconds
(default 15), 1 if not.
"""
import argparse
import select
import socket
import ssl
import sys
import time

import itlib


def client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return itlib.client_hello(ctx)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("silent", type=int)
    ap.add_argument("half", type=int)
    ap.add_argument("--limit", type=float, default=15)
    a = ap.parse_args()
    hello = client_hello()
    half = len(hello) // 2
    open_ = {}  # socket -> bytes of the ClientHello sent so far (None: silent)
    for i in range(a.silent + a.half):
        s = socket.create_connection((a.host, a.port), timeout=10)
        s.setblocking(False)
        if i >= a.silent:
            s.sendall(hello[:half])
            open_[s] = half
        else:
            open_[s] = None
    print("stalling %d" % len(open_), flush=True)
    start = time.monotonic()
    next_trickle = start + 0.2
    while open_:
        now = time.monotonic()
        if now - start > a.limit:
            print("%d connection(s) still open after %.0f s" %
                  (len(open_), a.limit))
            return 1
        r, _, _ = select.select(list(open_), [], [],
                                max(0.0, next_trickle - now))
        for s in r:
            try:
                data = s.recv(4096)
            except OSError:  # reset: closed too
                data = b""
            if not data:  # a plain TCP close or reset: the server gave up
                del open_[s]
                s.close()
        if time.monotonic() >= next_trickle:
            next_trickle += 0.2
            for s, sent in list(open_.items()):
                if sent is not None and sent < len(hello) - 1:
                    try:
                        s.send(hello[sent:sent + 1])
                        open_[s] = sent + 1
                    except OSError:
                        pass
    print("all closed by the server after %.1f s" % (time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
