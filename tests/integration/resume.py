#!/usr/bin/env python3
"""resume.py - hop along a chain of TLS session resumptions.

Usage: resume.py [--tls12] PORT CA CERT KEY OFFSET_FILE OFFSET[:EXPECT] ...

For each OFFSET (seconds), write it to OFFSET_FILE (read by the server's
LD_PRELOAD fake clock, tests/faketime), then connect to 127.0.0.1:PORT
with the client certificate, offering the session the previous hop ended
with, send one request and read its reply (which also takes in the new
ticket).  EXPECT says what must happen:
  new      a full handshake, served
  resumed  a resumption, served
  refused  no reply: the server refused the client (full handshake with
           a certificate it rejects); the chain then starts again
--tls12: speak TLS 1.2 (tickets of RFC 5077) instead of TLS 1.3.
Prints one line per hop; exits 1 at the first hop that differs.
"""
import os
import socket
import ssl
import sys

from itlib import recv_line

REQUEST = b"0101111110011111001010\n"
REPLY = b"OK 010111110100111110001010\n"


def set_offset(path, seconds):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % seconds)
    os.replace(tmp, path)


def hop(port, ctx, session):
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    except (ssl.SSLError, OSError) as e:
        raw.close()
        return "refused", None, str(e)
    try:
        s.sendall(REQUEST)
        got = recv_line(s)
    except (ssl.SSLError, OSError) as e:
        s.close()
        return "refused", None, str(e)
    reused = s.session_reused
    sess = s.session
    try:
        s.unwrap()
    except (ssl.SSLError, OSError):
        pass
    s.close()
    if got != REPLY:
        return "refused", None, "reply %r" % got
    return ("resumed" if reused else "new"), sess, ""


def main():
    args = sys.argv[1:]
    tls12 = args[:1] == ["--tls12"]
    if tls12:
        args = args[1:]
    port, ca, cert, key, offfile = args[:5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["bitstuff/1"])
    session = None
    for arg in args[5:]:
        off, _, want = arg.partition(":")
        set_offset(offfile, int(off))
        got, sess, why = hop(int(port), ctx, session)
        print("offset %7ds: %-8s (want %s) %s" % (int(off), got, want, why))
        sys.stdout.flush()
        if want and got != want:
            return 1
        session = sess
    return 0


if __name__ == "__main__":
    sys.exit(main())
