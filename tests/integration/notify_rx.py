"""notify_rx - a stand-in for systemd's notification socket: bind a unix
datagram socket at ADDRESS (a path, or "@name" for an abstract one),
write "bound" to OUT once it can receive, then one line per datagram:
CLOCK_MONOTONIC in microseconds at arrival, a tab, the datagram with
each newline shown as "|".  Ends after SECONDS (bounded) or on SIGTERM."""

import signal
import socket
import sys
import time


def main():
    addr, out, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
    end = time.monotonic() + secs
    with open(out, "a", buffering=1) as f:
        f.write("bound\n")
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            now = time.monotonic_ns() // 1000
            f.write("%d\t%s\n" % (now, d.decode(errors="replace")
                                  .replace("\n", "|")))


if __name__ == "__main__":
    main()
