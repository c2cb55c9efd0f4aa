#!/usr/bin/env python3
"""badrecord.py - a fatal alert must arrive while the client still sends
(issue 16.1).

  badrecord.py HOST PORT CAFILE [--rounds R] [--burst BYTES]

Each round completes a TLS handshake, then sends one application-data
record whose authentication tag is corrupted, followed at once by BYTES
(default 64 KiB) of further data in 4 KiB sends --pause seconds
apart (default 5 ms: 80 ms in all), and reads what the server sends until
it closes.  The server must answer with a bad_record_mac alert and
take the rest without a reset: a send that fails (ECONNRESET, EPIPE),
or no alert at all, fails the round.  Prints one line per round; exits 0 if every round got the alert.
"""
import os
import socket
import ssl
import sys
import time

from itlib import bio_handshake, run_rounds, server_args


def one_round(a, ctx):
    raw = socket.create_connection((a.host, a.port), timeout=20)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        last = bio_handshake(raw, obj, inc, out, a.in_handshake)
    except (OSError, ssl.SSLError) as e:
        return "handshake failed: %s" % e
    if a.in_handshake:
        rec = bytearray(last)  # the server is still in its handshake
    else:
        obj.write(b"0101111110011111001010\n")
        rec = bytearray(out.read())
    if len(rec) < 22 or rec[0] not in (20, 23):
        return "unexpected record from the TLS library: %r" % bytes(rec[:8])
    rec[-1] ^= 0x55  # the last byte of the last record's AEAD tag
    if a.trickle:
        return trickle(raw, bytes(rec), a.trickle)
    burst = os.urandom(a.burst)
    send_error = None
    try:
        # As a TLS test suite sends: message after message, not one
        # write.  A reset from the server fails a later send.
        raw.sendall(bytes(rec))
        for off in range(0, len(burst), 4096):
            time.sleep(a.pause)
            raw.sendall(burst[off:off + 4096])
    except OSError as e:  # ECONNRESET, EPIPE: the server reset
        send_error = e
    got = bytearray()
    reset = None
    deadline = time.monotonic() + 20
    raw.settimeout(5)
    while time.monotonic() < deadline:
        try:
            d = raw.recv(65536)
        except ConnectionResetError as e:
            reset = e
            break
        except socket.timeout:
            break
        if not d:
            break
        got += d
    raw.close()
    inc.write(bytes(got))
    try:
        while True:
            if not obj.read(65536):
                break
    except ssl.SSLWantReadError:
        alert = None
    except ssl.SSLError as e:
        alert = str(e)
    else:
        alert = None
    if (send_error is None and alert is not None and
            "BAD_RECORD_MAC" in alert.upper()):
        return "alert bad_record_mac"
    what = []
    if send_error is not None:
        what.append("send: %s" % send_error)
    if reset is not None:
        what.append("recv: %s" % reset)
    what.append("alert: %s" % (alert or "none"))
    return "no bad_record_mac alert (%s; %d bytes received)" % (
        ", ".join(what), len(got))


def trickle(raw, rec, limit):
    """After the bad record, a byte every 100 ms: the server must still
    close its socket within limit seconds (its drain after the alert is
    bounded).  Its FIN comes at once; its close shows as a reset that
    makes a later send fail."""
    raw.sendall(rec)
    raw.settimeout(0.1)
    start = time.monotonic()
    while time.monotonic() - start < limit:
        try:
            raw.send(b"x")
        except OSError:  # ECONNRESET, EPIPE: the server has closed
            return "closed after %.1f s" % (time.monotonic() - start)
        try:
            raw.recv(65536)  # the alert, then EOF (the server's FIN)
        except socket.timeout:
            pass
        except OSError:
            return "closed after %.1f s" % (time.monotonic() - start)
        time.sleep(0.1)
    return "still open after %d s of a byte every 100 ms" % limit


def main():
    ap = server_args()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--burst", type=int, default=65536)
    ap.add_argument("--in-handshake", action="store_true",
                    help="corrupt the client's Finished instead: the "
                    "server fails in its handshake")
    ap.add_argument("--trickle", type=int, default=0, metavar="S",
                    help="instead of a burst, a byte every 100 ms: pass "
                    "if the server closes within S seconds")
    ap.add_argument("--pause", type=float, default=0.005,
                    help="seconds between the burst's 4 KiB sends")
    a = ap.parse_args()
    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.set_alpn_protocols(["bitstuff/1"])
    return run_rounds(
        a.rounds, lambda: one_round(a, ctx),
        lambda res: res == "alert bad_record_mac" or res.startswith("closed "),
        "lost the alert")


if __name__ == "__main__":
    sys.exit(main())
