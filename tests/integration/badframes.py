#!/usr/bin/env python3
"""badframes.py - send bitstuffd four bad binary frames in one TLS record
and print the error codes of its 'E' replies, one per line.

  badframes.py HOST PORT CAFILE

The frames (docs/PROTOCOL.md 4.4): rule nibble 3 (bad-rule, 21), a LAST
chunk while no message is open (sequence, 25), nonzero padding
(bad-padding, 24) and a frame of type 'X' (bad-frame, 26; the server
closes the connection after its reply).  Offers ALPN bitstuff/1.
"""
import socket
import ssl
import struct
import sys

FRAMES = [
    b"\xb5M\x03\x03" + struct.pack(">I", 2) + b"\x40",  # stuff, rule 3
    b"\xb5M\x02\x00" + struct.pack(">I", 2) + b"\x40",  # LAST only
    b"\xb5M\x03\x00" + struct.pack(">I", 2) + b"\x41",  # padding 000001
    b"\xb5X\x03\x00" + struct.pack(">I", 0),             # type 'X'
]


def main():
    host, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(["bitstuff/1"])
    data = b""
    with socket.create_connection((host, port), timeout=20) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            s.sendall(b"".join(FRAMES))
            while True:
                try:
                    chunk = s.recv(65536)
                except ssl.SSLEOFError:
                    break
                if not chunk:
                    break
                data += chunk
    while len(data) >= 8:
        if data[0] != 0xB5 or data[1] != ord("E"):
            print("unexpected frame %r" % data[:8], file=sys.stderr)
            return 1
        length = struct.unpack(">I", data[4:8])[0]
        print(struct.unpack(">H", data[8:10])[0])
        data = data[8 + length:]
    return 0


if __name__ == "__main__":
    sys.exit(main())
