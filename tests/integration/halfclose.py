#!/usr/bin/env python3
"""halfclose.py - pipelined requests, then a TCP half-close (issue 9.4).

  halfclose.py HOST PORT CAFILE [--rounds R] [--requests N] [--limit S]
               [--corked N]

Each round opens a TLS connection, writes N text requests while reading
the replies (so the server is under backpressure part of the time), then
sends a FIN (shutdown(SHUT_WR), no close_notify), reads the rest of the
replies and waits for the server to close the connection.  Every reply
must be right.  A round passes when the server closes (EOF) within
--limit seconds of the FIN; the caller sets --limit far below the
server's --idle-timeout and far above the time the replies take, and
also checks the server's log for idle timeouts.  With --corked N a round
is instead N requests and the FIN in one TCP segment (TCP_CORK), which
makes the lost edge certain rather than a matter of timing.  Prints one
line per round; exits 0 if every round passed, 1 if not.
"""
import select
import socket
import ssl
import sys
import time

from itlib import (HandshakeClosed, bio_handshake, read_ready, run_rounds,
                   server_args)

LAB = b"0101111110011111001010\n"
REPLY = b"OK 010111110100111110001010\n"


def one_round(a, ctx):
    raw = socket.create_connection((a.host, a.port), timeout=20)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        bio_handshake(raw, obj, inc, out)
    except HandshakeClosed as e:
        return str(e)
    if a.corked:
        return corked_round(a, raw, obj, inc, out)
    raw.setblocking(False)
    # pipeline: all requests, written in 64 KiB slices, read while writing
    want = a.requests
    request = LAB * 2048
    sent, pending, got = 0, b"", bytearray()
    fin_at = None
    eof = False
    deadline = time.monotonic() + 120
    while not eof:
        now = time.monotonic()
        if now > deadline:
            return "no end within 120 s (%d of %d replies)" % (
                got.count(b"\n"), want)
        if fin_at is not None and now - fin_at > a.limit:
            return ("the server did not close within %.0f s of the FIN "
                    "(%d of %d replies)" % (a.limit, got.count(b"\n"), want))
        if not pending and sent < want:
            k = min(2048, want - sent)
            obj.write(request[:k * len(LAB)])
            sent += k
            pending = out.read()
        blocked = False
        if pending:
            try:
                n = raw.send(pending)
                pending = pending[n:]
            except BlockingIOError:
                blocked = True
        if not pending and sent == want and fin_at is None:
            raw.shutdown(socket.SHUT_WR)  # a FIN, no close_notify
            fin_at = time.monotonic()
        if not blocked and fin_at is None:
            # Write as fast as the socket takes it and read only when it
            # does not: the server's output fills and it stops reading
            # (backpressure), so the FIN tends to arrive while it waits.
            continue
        wr = [raw] if pending else []
        r, _, _ = select.select([raw], wr, [], 0.5)
        if r:
            try:
                d = raw.recv(262144)
            except (BlockingIOError, InterruptedError):
                d = None
            except ConnectionResetError:
                return "connection reset by the server"
            if d == b"":
                eof = True
            elif d:
                inc.write(d)
        while True:
            try:
                chunk = obj.read(262144)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:  # close_notify
                break
            except ssl.SSLError as e:
                return "TLS error: %s" % e
            if not chunk:
                break
            got += chunk
    raw.close()
    n = got.count(b"\n")
    if n != want or got.count(REPLY) != want:
        return "%d replies (%d right), want %d" % (n, got.count(REPLY), want)
    return "closed %.3f s after the FIN, %d replies right" % (
        time.monotonic() - fin_at, want)


def corked_round(a, raw, obj, inc, out):
    """The requests and the FIN in one TCP segment: TCP_CORK holds the
    data back and shutdown() sends it with the FIN flag, so the server
    gets one edge for both; the read that takes the data is short and the
    end of the stream waits right behind it."""
    time.sleep(0.05)  # the server has finished its handshake and waits
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    obj.write(LAB * a.corked)
    raw.sendall(out.read())
    raw.shutdown(socket.SHUT_WR)
    fin_at = time.monotonic()
    raw.settimeout(a.limit)
    got = bytearray()
    try:
        while True:
            d = raw.recv(65536)
            if not d:
                break
            inc.write(d)
            got += read_ready(obj.read, (ssl.SSLWantReadError,
                                         ssl.SSLZeroReturnError))[0]
    except socket.timeout:
        return ("the server did not close within %.0f s of the FIN "
                "(%d of %d replies)" % (a.limit, got.count(b"\n"),
                                        a.corked))
    except (OSError, ssl.SSLError) as e:
        return "error: %s" % e
    raw.close()
    if got.count(REPLY) != a.corked:
        return "%d right replies, want %d" % (got.count(REPLY), a.corked)
    return "closed %.3f s after the FIN, %d replies right" % (
        time.monotonic() - fin_at, a.corked)


def main():
    ap = server_args()
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--limit", type=float, default=5.0)
    ap.add_argument("--corked", type=int, default=0, metavar="N",
                    help="instead: N requests and the FIN in one segment")
    a = ap.parse_args()
    ctx = ssl.create_default_context(cafile=a.cafile)
    return run_rounds(a.rounds, lambda: one_round(a, ctx),
                      lambda res: res.startswith("closed "), "failed")


if __name__ == "__main__":
    sys.exit(main())
