#!/usr/bin/env python3
"""halfopen_mem.py - what half-open connections cost bitstuffd in memory.

Usage: halfopen_mem.py [--rounds R] [--max-per-conn KIB] [--max-kept PCT]
                       PID PORT N

Against a running bitstuffd (PID, 127.0.0.1:PORT): opens N TCP
connections that never send a byte (half-open: no ClientHello), waits
until the server's RSS settles, reports the RSS per connection, closes
them all and reports the RSS again once it settles; R rounds (default 3)
in a row show whether memory ratchets up or is given back.  Raise
`ulimit -n` above N first; the server's --max-conns and
--handshake-timeout must let N connections wait.

Checks (exit 1 when one fails): --max-per-conn, the most KiB one
half-open connection may cost (each round); --max-kept, the most of a
flood's growth, in percent, still held after its connections closed
(each round, measured from the RSS before the first round).
"""
import argparse
import socket
import sys
import time


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no VmRSS for pid %d" % pid)


def settle(pid, limit=20.0):
    """RSS once two readings 0.5 s apart agree within 64 KiB (bounded)."""
    last = rss_kib(pid)
    end = time.monotonic() + limit
    while time.monotonic() < end:
        time.sleep(0.5)
        now = rss_kib(pid)
        if abs(now - last) < 64:
            return now
        last = now
    return last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pid", type=int)
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-per-conn", type=float)
    ap.add_argument("--max-kept", type=float)
    a = ap.parse_args()
    failed = []
    base = settle(a.pid)
    print("start: RSS %d KiB" % base)
    for r in range(1, a.rounds + 1):
        before = settle(a.pid)
        socks = []
        for _ in range(a.n):
            socks.append(socket.create_connection(("127.0.0.1", a.port),
                                                  timeout=10))
        held = settle(a.pid)
        per = (held - before) / a.n
        print("round %d: %d half-open: RSS %d KiB, %.1f KiB per connection"
              % (r, a.n, held, per))
        if a.max_per_conn is not None and per > a.max_per_conn:
            failed.append("round %d: %.1f KiB per half-open connection, "
                          "limit %.1f" % (r, per, a.max_per_conn))
        for s in socks:
            s.close()
        after = settle(a.pid)
        kept = 100.0 * (after - base) / max(held - base, 1)
        print("round %d: closed: RSS %d KiB (%+d KiB since start, %.0f%% of "
              "the flood's growth kept)" % (r, after, after - base, kept))
        if a.max_kept is not None and kept > a.max_kept:
            failed.append("round %d: %.0f%% of the flood's memory kept after "
                          "it closed, limit %.0f%%" % (r, kept, a.max_kept))
        sys.stdout.flush()
    for f in failed:
        print("FAIL: " + f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
