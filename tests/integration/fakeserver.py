#!/usr/bin/env python3
"""fakeserver.py - a misbehaving bitstuff/1 server for the client's tests.

  fakeserver.py MODE PORTFILE [CERT KEY]

Listens on 127.0.0.1 port 0, writes the port to PORTFILE, serves one
connection (two for accept-close), then exits.  Modes:

  accept-close  accept TCP connections and close them at once (no TLS):
                the client sees a peer that hangs up during the handshake
  wrong-op      TLS + ALPN bitstuff/1; answer the first request's FIRST
                chunk with a complete 'R' reply for the other operation
  wrong-rule    the same, for another rule
  stall         read the request, send 512 KiB of reply chunks (no LAST) with the request's op and rule, print "stalled" and
                then keep reading without ever finishing the reply, until
                killed or the client goes away (bounded: 120 s)
"""
import socket
import ssl
import struct
import sys
import time

MAGIC = 0xB5


def header(typ, flags, oprule, nbits):
    return struct.pack(">BBBBI", MAGIC, ord(typ), flags, oprule, nbits)


def read_header(conn):
    """Read frames until the first header; returns its op/rule byte."""
    buf = b""
    while len(buf) < 8:
        d = conn.recv(8 - len(buf))
        if not d:
            return None
        buf += d
    return buf[3]


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    import os
    os.rename(portfile + ".tmp", portfile)
    lsock.settimeout(120)

    if mode == "accept-close":
        for _ in range(2):
            try:
                c, _ = lsock.accept()
            except socket.timeout:
                return 1
            c.close()
        return 0

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    ctx.set_alpn_protocols(["bitstuff/1"])
    raw, _ = lsock.accept()
    conn = ctx.wrap_socket(raw, server_side=True)
    conn.settimeout(120)
    oprule = read_header(conn)
    if oprule is None:
        return 1
    if mode == "wrong-op":
        conn.sendall(header("R", 3, oprule ^ 0x10, 8) + b"\x00")
    elif mode == "wrong-rule":
        conn.sendall(header("R", 3, oprule ^ 0x01, 8) + b"\x00")
    elif mode == "stall":
        # 512 KiB of reply data (more than the client buffers before it
        # writes), then nothing more
        for i in range(8):
            conn.sendall(header("R", 1 if i == 0 else 0, oprule, 8 * 65536)
                         + b"\x55" * 65536)
        print("stalled", flush=True)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if not conn.recv(65536):
                break
    except (OSError, ssl.SSLError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
