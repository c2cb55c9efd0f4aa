"""itlib - what the Python end-to-end clients share (tests/integration and
tests/security): a real ClientHello's bytes, a handshake through memory
BIOs, reading what is ready and one reply line, and the report of a test run as numbered
rounds."""

import argparse
import ssl


def server_args():
    """The command line of a client run against a test server: HOST PORT
    CAFILE, to which the script adds its own options."""
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("cafile")
    return ap


class HandshakeClosed(ConnectionError):
    """The server closed the connection during the handshake."""


def bio_handshake(raw, obj, inc, out, hold_last=False):
    """The handshake of obj (ctx.wrap_bio(inc, out)), blocking on the raw
    socket; raises HandshakeClosed if the server closes.  With hold_last,
    return the client's last flight (its Finished) unsent instead of
    sending it; else b""."""
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            raw.sendall(out.read())
            d = raw.recv(65536)
            if not d:
                raise HandshakeClosed("closed during the handshake")
            inc.write(d)
    if hold_last:
        return out.read()
    raw.sendall(out.read())
    return b""


def client_hello(ctx):
    """The bytes of the ClientHello that a client with ctx would send."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def read_ready(read, stop):
    """Call read(65536) until it raises one of the exceptions stop (nothing
    more for now) or returns b"" (the end): what it gave, and whether the
    end came."""
    got = bytearray()
    while True:
        try:
            d = read(65536)
        except stop:
            return bytes(got), False
        if not d:
            return bytes(got), True
        got += d


def recv_line(s):
    """Bytes from s up to and including an LF, or all of them up to EOF."""
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(4096)
        if not d:
            break
        buf += d
    return buf


def run_rounds(rounds, one_round, passed, failed_what):
    """Run one_round() rounds times, print each result (FAIL: where
    passed(result) is false) and a total "N of M rounds FAILED_WHAT";
    the exit status: 1 if any round failed, else 0."""
    bad = 0
    for i in range(rounds):
        res = one_round()
        ok = passed(res)
        bad += 0 if ok else 1
        print("round %d: %s%s" % (i + 1, "" if ok else "FAIL: ", res),
              flush=True)
    print("%d of %d rounds %s" % (bad, rounds, failed_what))
    return 1 if bad else 0
