"""proxyclient - a client behind a pretend load balancer: it sends a PROXY
protocol header (v1, v2, v2 LOCAL, v2 with TLVs) or a bad one (garbage,
truncated, oversized, never completed) before the TLS handshake, then one
request.  Used by test_proxy.sh.

    proxyclient.py HOST PORT CAFILE --mode MODE [--src IP:PORT]
                   [--bind IP] [--hold SECONDS]

Good modes print the reply line ("OK 0111110\\n") and our own source
address ("via 127.0.0.1:40000"), or "closed" if the server closed the
connection instead; with --release FILE they then keep the connection
open until FILE exists (at most --hold seconds).  Mode "idle" sends
nothing at all.  Bad modes print "closed" once the server has closed the
connection (EOF or reset), within --hold seconds."""

import ipaddress
import os
import socket
import ssl
import struct
import sys
import time

import itlib

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(src, dst, local=False, tlvs=b"", length=None):
    """A PROXY v2 header from src to dst ((ip, port) pairs)."""
    cmd = 0x20 if local else 0x21
    s, d = ipaddress.ip_address(src[0]), ipaddress.ip_address(dst[0])
    if s.version == 4:
        fam = 0x11
        addr = s.packed + d.packed + struct.pack("!HH", src[1], dst[1])
    else:
        fam = 0x21
        addr = s.packed + d.packed + struct.pack("!HH", src[1], dst[1])
    body = addr + tlvs
    n = len(body) if length is None else length
    return SIG + bytes([cmd, fam]) + struct.pack("!H", n) + body


def v1(src, dst):
    fam = "TCP4" if ipaddress.ip_address(src[0]).version == 4 else "TCP6"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src[0], dst[0], src[1],
                                           dst[1])).encode()


def tlv(t, value):
    return bytes([t]) + struct.pack("!H", len(value)) + value


def header(mode, src, dst):
    if mode == "v1":
        return v1(src, dst)
    if mode == "v2":
        return v2(src, dst)
    if mode == "v2-local":
        return v2(src, dst, local=True)
    if mode == "v2-tlv":
        # ALPN, authority, a unique id and a NOOP: all skipped
        return v2(src, dst, tlvs=tlv(0x01, b"h2") + tlv(0x02, b"example") +
                  tlv(0x05, b"x" * 100) + tlv(0x04, b""))
    if mode == "garbage":
        return b"GET / HTTP/1.0\r\n\r\n"
    if mode == "truncated":
        return b"PROXY TCP4 192.0.2.1 "
    if mode == "oversized":
        # a v2 head announcing 60000 bytes: refused before they come
        return v2(src, dst, length=60000)[:16] + b"\x00" * 200
    if mode == "partial":
        return SIG[:7]
    if mode in ("idle", "tls"):
        return b""  # tls: a plain client (the proxy in front adds one)
    raise SystemExit("unknown mode " + mode)


def main():
    ap = itlib.server_args()
    ap.add_argument("--mode", required=True)
    ap.add_argument("--src", default="203.0.113.7:40001")
    ap.add_argument("--bind", default=None)
    ap.add_argument("--hold", type=float, default=30)
    ap.add_argument("--release", default=None)
    a = ap.parse_args()
    ip, port = a.src.rsplit(":", 1)
    src = (ip.strip("[]"), int(port))
    raw = socket.create_connection((a.host, a.port), timeout=a.hold,
                                   source_address=(a.bind, 0) if a.bind
                                   else None)
    me = raw.getsockname()
    dst = ("127.0.0.1", a.port) if ":" not in src[0] else ("::1", a.port)
    raw.sendall(header(a.mode, src, dst))
    if a.mode in ("garbage", "truncated", "oversized", "partial", "idle"):
        if a.mode == "truncated":
            raw.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + a.hold
        try:
            while time.monotonic() < deadline:
                if not raw.recv(4096):
                    break
        except ConnectionResetError:
            pass
        except socket.timeout:
            print("still open after %.0f s" % a.hold)
            return 1
        print("closed")
        return 0
    ctx = ssl.create_default_context(cafile=a.cafile)
    ctx.set_alpn_protocols(["bitstuff/1"])
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(b"stuff 0111111\n")
        line = itlib.recv_line(s).decode()
    except (ssl.SSLError, OSError):
        print("closed")
        return 0
    sys.stdout.write(line if line else "closed\n")
    print("via %s:%d" % (me[0], me[1]), flush=True)
    deadline = time.monotonic() + a.hold
    while a.release and not os.path.exists(a.release) and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
