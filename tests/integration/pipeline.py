#!/usr/bin/env python3
"""pipeline.py - drive bitstuffd with pipelined binary and text requests
and check every reply against a reference stuffer written here.

  pipeline.py HOST PORT CAFILE [--count N] [--conns C] [--max-bits B]
              [--seed S]

Each connection writes all its requests while it reads the replies (one
thread per connection, non-blocking), so requests are pipelined.  Messages are split into random chunks
('M' frames) and some are text lines; some are unstuff requests of
stuffed data, some invalid.  Exits 0 if every reply matched, 1 if not.
"""
import random
import select
import socket
import ssl
import struct
import sys
import threading

from itlib import read_ready, server_args

RULES = {0: ("hdlc", 5, False), 1: ("usb", 6, False), 2: ("can", 5, True)}


def stuff(bits, rule):
    _, run, can = RULES[rule]
    out, n, last = [], 0, None
    for b in bits:
        out.append(b)
        if can:
            n = n + 1 if b == last else 1
            last = b
            if n == run:
                out.append(1 - b)
                last, n = 1 - b, 1
        else:
            n = n + 1 if b == 1 else 0
            if n == run:
                out.append(0)
                n = 0
    return out


def pack(bits):
    out = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        if b:
            out[i // 8] |= 0x80 >> (i % 8)
    return bytes(out)


def unpack(data, n):
    return [(data[i // 8] >> (7 - i % 8)) & 1 for i in range(n)]


def frames(op, rule, bits, rng):
    """Split bits into 1..4 'M' chunks of random sizes."""
    cuts = sorted(rng.sample(range(1, len(bits)), min(3, len(bits) - 1))) \
        if len(bits) > 1 and rng.random() < 0.5 else []
    parts, prev = [], 0
    for c in cuts + [len(bits)]:
        while c - prev > 524288:  # the protocol's largest chunk
            parts.append(bits[prev:prev + 524288])
            prev += 524288
        parts.append(bits[prev:c])
        prev = c
    out = b""
    for i, p in enumerate(parts):
        flags = (1 if i == 0 else 0) | (2 if i == len(parts) - 1 else 0)
        out += struct.pack(">BBBBI", 0xB5, 0x4D, flags, (op << 4) | rule,
                           len(p)) + pack(p)
    return out


def make_requests(rng, count, max_bits):
    reqs = []  # (bytes, form, expected) expected: ("ok", bits) or ("err", code)
    for _ in range(count):
        rule = rng.randrange(3)
        n = rng.choice([0, 1, 5, 6, 22, 63, 64, 65, rng.randrange(max_bits + 1)])
        p1 = rng.random()
        bits = [1 if rng.random() < p1 else 0 for _ in range(n)]
        kind = rng.random()
        if kind < 0.6:
            op, data, want = 0, bits, ("ok", stuff(bits, rule))
        elif kind < 0.9:
            op, data, want = 1, stuff(bits, rule), ("ok", bits)
        else:
            op, data, want = 1, [1] * 8 + bits, ("err", None)
        if rng.random() < 0.3 and len(data) < 4000:
            word = ("stuff" if op == 0 else "unstuff") + " " + RULES[rule][0]
            line = (word + " " + "".join(map(str, data)) + "\n").encode()
            reqs.append((line, "text", want))
        else:
            reqs.append((frames(op, rule, data, rng), "bin", want))
    return reqs


class Incomplete(Exception):
    pass


def take(buf, pos, n):
    if len(buf) - pos < n:
        raise Incomplete()
    return buf[pos:pos + n], pos + n


def parse_text(buf, pos):
    i = buf.find(b"\n", pos)
    if i < 0:
        raise Incomplete()
    line = buf[pos:i].decode()
    if line.startswith("OK"):
        return ("ok", [int(c) for c in line[3:]]), i + 1
    return ("err", int(line.split()[1])), i + 1


def parse_binary(buf, pos):
    bits, first = [], True
    while True:
        hdr, pos = take(buf, pos, 8)
        magic, typ, flags, _, length = struct.unpack(">BBBBI", hdr)
        assert magic == 0xB5, "bad magic %x" % magic
        if typ == 0x45:
            payload, pos = take(buf, pos, length)
            return ("err", struct.unpack(">H", payload[:2])[0]), pos
        assert typ == 0x52, "bad type %x" % typ
        assert bool(flags & 1) == first, "FIRST flag wrong"
        first = False
        data, pos = take(buf, pos, (length + 7) // 8)
        if not flags & 2:
            assert length % 8 == 0, "non-last chunk with partial byte"
        bits += unpack(data, length)
        if flags & 2:
            return ("ok", bits), pos


def run_conn(args, seed, results):
    """One connection, one thread: non-blocking, so writing and reading
    never share the SSL object across threads (OpenSSL forbids that)."""
    rng = random.Random(seed)
    reqs = make_requests(rng, args.count, args.max_bits)
    ctx = ssl.create_default_context(cafile=args.cafile)
    raw = socket.create_connection((args.host, args.port), timeout=30)
    sock = ctx.wrap_socket(raw, server_hostname=args.host)
    sock.setblocking(False)
    out = memoryview(b"".join(r[0] for r in reqs))
    buf, pos, done, bad = bytearray(), 0, 0, 0
    while done < len(reqs):
        r, w, _ = select.select([sock], [sock] if out else [], [], 30)
        if not r and not w:
            print("conn %d: no progress for 30 s after %d replies, %d bytes "
                  "unsent" % (seed, done, len(out)))
            return
        if out:
            try:
                n = sock.send(out[:65536])
                out = out[n:]
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
        d, closed = read_ready(sock.recv, (ssl.SSLWantReadError,
                                           ssl.SSLWantWriteError))
        if closed:
            print("conn %d: server closed after %d replies" % (seed, done))
            return
        buf += d
        while done < len(reqs):
            _, form, want = reqs[done]
            try:
                got, pos = (parse_text if form == "text" else parse_binary)(
                    buf, pos)
            except Incomplete:
                break
            if want[0] != got[0] or (want[0] == "ok" and want[1] != got[1]):
                bad += 1
                if bad < 5:
                    print("conn %d request %d (%s): want %s got %s" %
                          (seed, done, form, str(want)[:80], str(got)[:80]))
            done += 1
    sock.close()
    results.append((len(reqs), bad))


def main():
    ap = server_args()
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--max-bits", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    results, threads = [], []
    for c in range(args.conns):
        t = threading.Thread(target=run_conn, args=(args, args.seed + c, results))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    total = sum(r[0] for r in results)
    bad = sum(r[1] for r in results)
    ok = len(results) == args.conns and bad == 0
    print("%d connection(s), %d requests, %d wrong, %d connection(s) failed"
          % (args.conns, total, bad, args.conns - len(results)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
