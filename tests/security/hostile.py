#!/usr/bin/env python3
"""hostile.py - one hostile or faulty client per call, for faults_*.sh.

    hostile.py CASE PORT [ARGS...]     (the server is on 127.0.0.1:PORT)

Each case does one bad thing to the real server, checks how the server
answered, prints one line saying what happened, and exits 0 if the server
behaved (refused, answered with the right error, closed in time, kept
its memory bounded) or 1 if not.  Every wait is bounded.  Certificates
come from the environment: CA (the CA file the server's certificate is
checked against), CERT and KEY (a client certificate, optional).
"""
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import itlib  # noqa: E402  (tests/integration/itlib.py)

HOST = "127.0.0.1"
ALPN = "bitstuff/1"
LAB_IN = "0101111110011111001010"
LAB_OUT = "010111110100111110001010"


def die(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ok(msg):
    print("ok: " + msg)
    sys.exit(0)


def stuff_hdlc(bits):
    out, run = [], 0
    for b in bits:
        out.append(b)
        run = run + 1 if b == "1" else 0
        if run == 5:
            out.append("0")
            run = 0
    return "".join(out)


def tls_context(cert=None, key=None, max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.environ["CA"])
    ctx.set_alpn_protocols([ALPN])
    if max_version is not None:
        ctx.maximum_version = max_version
    cert = cert if cert is not None else os.environ.get("CERT")
    key = key if key is not None else os.environ.get("KEY")
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def tls_connect(port, timeout=10, **kw):
    raw = socket.create_connection((HOST, port), timeout=timeout)
    return tls_context(**kw).wrap_socket(raw, server_hostname="localhost")


def read_line(s, buf):
    """One LF-terminated line from s (buf: bytearray of leftovers)."""
    while b"\n" not in buf:
        data = s.recv(65536)
        if not data:
            raise EOFError("the server closed the connection")
        buf += data
    i = buf.index(b"\n")
    line = bytes(buf[:i])
    del buf[: i + 1]
    return line.decode("ascii", "replace")


def expect_lab(s, buf):
    """The connection still works: the lab's example gives its answer."""
    s.sendall((LAB_IN + "\n").encode())
    line = read_line(s, buf)
    if line != "OK " + LAB_OUT:
        die("after the fault the lab's example got %r" % line)


def wait_closed(s, limit):
    """Seconds until the server closes s (EOF, reset or TLS alert)."""
    t0 = time.monotonic()
    s.settimeout(limit)
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        return None
    except (OSError, ssl.SSLError):
        pass
    return time.monotonic() - t0


def client_hello():
    """The bytes of a real TLS 1.3 ClientHello."""
    return itlib.client_hello(tls_context())


# ---- cases ---------------------------------------------------------------


def case_eof(port):
    """Closes without close_notify: 3 between requests, 1 inside one."""
    for i in range(3):
        s = tls_connect(port)
        expect_lab(s, bytearray())
        s.close()  # Python's close sends no close_notify
    s = tls_connect(port)
    expect_lab(s, bytearray())
    s.sendall(b"0101")
    time.sleep(0.2)
    s.close()
    time.sleep(0.3)
    ok("3 clients closed without close_notify between requests, 1 inside a request")


def case_idle(port, timeout_s):
    """After a request, silence: closed at --idle-timeout, close_notify."""
    limit = float(timeout_s)
    s = tls_connect(port)
    expect_lab(s, bytearray())
    t0 = time.monotonic()
    s.settimeout(limit + 5)
    try:
        d = s.recv(100)  # close_notify reads as b""
    except socket.timeout:
        die("idle connection still open after %.1f s" % (limit + 5))
    t = time.monotonic() - t0
    if d != b"" or t < limit * 0.5:
        die("idle connection: got %r after %.2f s, want EOF after %s s" % (d, t, limit))
    ok("idle after a request: closed with close_notify after %.2f s" % t)


def case_plaintext(port):
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" + LAB_IN.encode() + b"\n")
    t = wait_closed(s, 5)
    if t is None:
        die("plaintext on the TLS port: not closed within 5 s")
    ok("plaintext HTTP on the TLS port: closed after %.2f s" % t)


def case_silent(port, timeout_s):
    limit = float(timeout_s)
    s = socket.create_connection((HOST, port), timeout=10)
    t = wait_closed(s, limit + 5)
    if t is None or t < limit * 0.5:
        die("silent connection closed after %s s, want about %s s" % (t, limit))
    ok("connection that never sends a ClientHello: closed after %.2f s" % t)


def case_truncated_hello(port, timeout_s):
    limit = float(timeout_s)
    hello = client_hello()
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(hello[: len(hello) // 2])
    t = wait_closed(s, limit + 5)
    if t is None or t < limit * 0.5:
        die("truncated ClientHello closed after %s s, want about %s s" % (t, limit))
    # A ClientHello cut and then closed: the server just drops it.
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(hello[:50])
    s.close()
    ok("half a ClientHello (%d of %d bytes): closed after %.2f s" % (len(hello) // 2, len(hello), t))


def case_slowloris(port, timeout_s):
    """A ClientHello one byte at a time: the deadline is total from accept."""
    limit = float(timeout_s)
    hello = client_hello()
    s = socket.create_connection((HOST, port), timeout=10)
    t0 = time.monotonic()
    try:
        for b in hello:
            s.sendall(bytes([b]))
            time.sleep(limit / 20)
            if time.monotonic() - t0 > limit + 5:
                break
    except OSError:
        pass
    t = wait_closed(s, limit + 5)
    total = time.monotonic() - t0
    if t is None or total > limit + 3:
        die("trickled ClientHello still open after %.2f s (limit %s s)" % (total, limit))
    ok("ClientHello trickled a byte at a time: closed after %.2f s" % total)


def case_garbage_records(port):
    """Random bytes on the socket after the handshake: not TLS records."""
    s = tls_connect(port)
    buf = bytearray()
    expect_lab(s, buf)
    fd = socket.socket(fileno=os.dup(s.fileno()))
    fd.sendall(random.Random(1).randbytes(4096))
    t = wait_closed(s, 5)
    fd.close()
    if t is None:
        die("random bytes under TLS: connection not closed within 5 s")
    ok("random bytes after the handshake (under TLS): closed after %.2f s" % t)


def case_garbage_app(port):
    """Random bytes inside TLS: text errors or a fatal bad-frame, no hang."""
    rnd = random.Random(2)
    closed = answered = 0
    for i in range(20):
        s = tls_connect(port)
        junk = rnd.randbytes(rnd.randint(1, 20000))
        try:
            s.sendall(junk + b"\n")
            s.settimeout(5)
            while True:
                d = s.recv(65536)
                if not d:
                    closed += 1
                    break
                answered += 1
                if d.endswith(b"\n") and not junk.startswith(b"\xb5"):
                    break
        except socket.timeout:
            pass
        except (OSError, ssl.SSLError):
            closed += 1
        s.close()
    ok("20 connections of random application bytes: %d closed (bad-frame), "
       "%d answered" % (closed, answered))


def case_long_line(port, mbytes):
    n = int(mbytes) * 1000 * 1000
    s = tls_connect(port, timeout=30)
    buf = bytearray()
    block = b"01" * 32768
    sent = 0
    while sent < n:
        s.sendall(block)
        sent += len(block)
    s.sendall(b"\n")
    line = read_line(s, buf)
    if not line.startswith("ERR 22 line-too-long"):
        die("a %d-byte line got %r" % (sent, line[:80]))
    expect_lab(s, buf)
    ok("a line of %d bytes with no newline: %s; connection still usable" % (sent, line[:24]))


def case_bad_chars(port):
    s = tls_connect(port)
    buf = bytearray()
    want = [
        ("0102", "ERR 3 char 3 "),
        ("01 x", "ERR 3 char 3 "),
        ("0\x00\x01\xff1", "ERR 3 char 1 "),
        ("stuff bogus 01", "ERR 21 bad-rule "),
        ("frobnicate 01", "ERR 20 bad-command "),
    ]
    for req, prefix in want:
        s.sendall(req.encode("latin-1") + b"\n")
        line = read_line(s, buf)
        if not line.startswith(prefix):
            die("%r got %r, want %r..." % (req, line, prefix))
    expect_lab(s, buf)
    ok("characters other than 0/1 and bad words: %d precise errors; still usable" % len(want))


def frame(ftype, flags, op, rule, nbits, payload=b""):
    return struct.pack(">BBBBI", 0xB5, ord(ftype), flags, (op << 4) | rule, nbits) + payload


def read_frame(s, buf):
    while len(buf) < 8:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed")
        buf += d
    magic, ftype, flags, oprule, length = struct.unpack(">BBBBI", bytes(buf[:8]))
    plen = length if ftype == ord("E") else (length + 7) // 8
    while len(buf) < 8 + plen:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed")
        buf += d
    payload = bytes(buf[8 : 8 + plen])
    del buf[: 8 + plen]
    return chr(ftype), flags, length, payload


def case_bad_unstuff(port):
    s = tls_connect(port)
    buf = bytearray()
    for req, prefix in [
        ("unstuff 0111111", "ERR 4 flag 6 "),
        ("unstuff 01111111", "ERR 5 abort 6 "),
        ("unstuff usb 11111110", "ERR 6 stuff-bit "),
        ("unstuff 011111", "ERR 7 truncated 6 "),
    ]:
        s.sendall(req.encode() + b"\n")
        line = read_line(s, buf)
        if not line.startswith(prefix):
            die("%r got %r, want %r..." % (req, line, prefix))
    # Binary: unstuff 8 ones.
    s.sendall(frame("M", 3, 1, 0, 8, b"\xff"))
    t, flags, length, payload = read_frame(s, buf)
    code = struct.unpack(">H", payload[:2])[0] if t == "E" else None
    if t != "E" or code not in (4, 5):
        die("binary unstuff of 8 ones got %s code %s" % (t, code))
    expect_lab(s, buf)
    ok("invalid unstuff requests (text and binary): error codes and offsets; still usable")


def case_huge_length(port, limit_bits):
    limit = int(limit_bits)
    # A chunk length over the protocol's 524288: fatal bad-frame, closed.
    s = tls_connect(port)
    buf = bytearray()
    s.sendall(frame("M", 3, 0, 0, 0xFFFFFFFF))
    t, flags, length, payload = read_frame(s, buf)
    code = struct.unpack(">H", payload[:2])[0]
    if t != "E" or code != 26:
        die("length 2^32-1 got %s code %s, want E 26" % (t, code))
    if wait_closed(s, 5) is None:
        die("length 2^32-1: connection not closed after bad-frame")
    # A message over --max-message-bits: too-long at the header, usable.
    s = tls_connect(port)
    buf = bytearray()
    nbits = 524288
    s.sendall(frame("M", 1, 0, 0, nbits, bytes(nbits // 8)))
    chunks = (limit // nbits) + 2
    for i in range(chunks):
        last = 2 if i == chunks - 1 else 0
        s.sendall(frame("M", last, 0, 0, nbits, bytes(nbits // 8)))
    code = None
    while True:
        t, flags, length, payload = read_frame(s, buf)
        if t == "E":
            code, _, off = struct.unpack(">HHQ", payload[:12])
            break
    if code != 23 or off != limit:
        die("message over the limit got code %s offset %s" % (code, off))
    # Text: more bits than the limit on one line.
    s.sendall(b"1" * (limit + 1) + b"\n")
    line = read_line(s, buf)
    if not line.startswith("ERR 23 too-long %d " % limit):
        die("text over the limit got %r" % line[:60])
    expect_lab(s, buf)
    ok("length 2^32-1: bad-frame and closed; message and line over %d bits: "
       "too-long at offset %d; still usable" % (limit, limit))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def case_no_read(port, pid, max_growth_mb):
    """Requests sent, replies never read: the server stops reading."""
    pid = int(pid)
    before = rss_kb(pid)
    conns = []
    total = 0
    line = (b"1" * 60000) + b"\n"  # a 72000-byte reply each
    for i in range(8):
        s = tls_connect(port)
        s.settimeout(3)
        sent = 0
        try:
            while sent < 500 * 1000 * 1000:
                sent += s.send(line * 16)
        except (socket.timeout, ssl.SSLWantWriteError):
            pass
        total += sent
        conns.append(s)
    time.sleep(0.5)
    after = rss_kb(pid)
    growth = (after - before) / 1024.0
    for s in conns:
        s.close()
    if growth > float(max_growth_mb):
        die("8 clients that never read: server RSS grew %.1f MB (limit %s)" % (growth, max_growth_mb))
    ok("8 clients sent %.1f MB of requests and never read: the server stopped "
       "reading; RSS %d -> %d kB (+%.1f MB)" % (total / 1e6, before, after, growth))


def case_mid_reply(port):
    """Big replies under way, then the client vanishes (FIN, then RST)."""
    for how in ("close", "reset"):
        for i in range(5):
            s = tls_connect(port)
            s.settimeout(2)
            try:
                # More than the server buffers: it stops reading (backpressure)
                s.sendall(((b"1" * 60000) + b"\n") * 100)
            except socket.timeout:
                pass
            s.settimeout(10)
            s.recv(1000)  # part of the first reply
            if how == "reset":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
    s = tls_connect(port)
    expect_lab(s, bytearray())
    ok("10 clients vanished in the middle of 7 MB of replies (5 FIN, 5 RST); "
       "a new client is served")


def case_max_conns(port, cap, logfile):
    """Up to the cap, past it (refused fast, logged once per interval),
    while the connections held keep being served; then back under it."""
    cap = int(cap)
    held = []
    for i in range(cap):
        s = tls_connect(port, timeout=5)
        buf = bytearray()
        expect_lab(s, buf)
        held.append((s, buf))
    t0 = time.monotonic()
    refused = 0
    for i in range(200):
        try:
            s = tls_connect(port, timeout=5)
            s.sendall(b"01\n")
            read_line(s, bytearray())
            die("connection %d past the cap of %d was served" % (i + 1, cap))
        except (OSError, ssl.SSLError, EOFError):
            refused += 1
    dt = time.monotonic() - t0
    if dt > 10:
        die("200 refusals took %.1f s" % dt)
    for s, buf in held:
        expect_lab(s, buf)  # the well-behaved clients are still served
    with open(logfile) as f:
        lines = sum(1 for l in f if "at --max-conns" in l)
    if lines == 0 or lines > 2 + 2 * int(dt):
        die("%d log lines about --max-conns for %d refusals in %.1f s" % (lines, refused, dt))
    for s, buf in held:
        s.close()
    time.sleep(0.3)
    s = tls_connect(port)
    expect_lab(s, bytearray())
    ok("%d connections held (the cap); 200 more refused in %.2f s, logged in "
       "%d line(s); the %d held still served; a new one served after closing"
       % (cap, dt, lines, cap))


def case_fd_exhaustion(port, n):
    held = []
    for i in range(int(n)):
        try:
            held.append(socket.create_connection((HOST, port), timeout=5))
        except OSError:
            break
    time.sleep(0.5)
    for s in held:
        s.close()
    time.sleep(0.5)
    for attempt in range(20):
        try:
            s = tls_connect(port, timeout=5)
            expect_lab(s, bytearray())
            ok("%d connections past the descriptor limit; served again after" % len(held))
        except (OSError, ssl.SSLError, EOFError):
            time.sleep(0.2)
    die("not served again after running out of descriptors")


def case_tls12(port):
    try:
        s = tls_connect(port, max_version=ssl.TLSVersion.TLSv1_2)
        s.sendall(b"01\n")
        read_line(s, bytearray())
    except (OSError, ssl.SSLError, EOFError) as e:
        ok("TLS 1.2 client against the default server: refused (%s)" % str(e)[:60])
    die("a TLS 1.2 client was served")


def case_tls12_allowed(port):
    """--min-tls 1.2: TLS 1.2 works, with ECDHE and an AEAD cipher only."""
    s = tls_connect(port, max_version=ssl.TLSVersion.TLSv1_2)
    name, version, bits = s.cipher()
    expect_lab(s, bytearray())
    if version != "TLSv1.2" or not name.startswith("ECDHE-") or not ("GCM" in name or "CHACHA20" in name):
        die("TLS 1.2 negotiated %s %s" % (version, name))
    for weak in ("AES128-SHA", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA256", "DHE-RSA-AES128-GCM-SHA256"):
        ctx = tls_context(max_version=ssl.TLSVersion.TLSv1_2)
        try:
            ctx.set_ciphers(weak)
        except ssl.SSLError:
            continue
        try:
            ctx.wrap_socket(socket.create_connection((HOST, port), timeout=5),
                            server_hostname="localhost").do_handshake()
            die("TLS 1.2 with %s was accepted" % weak)
        except (OSError, ssl.SSLError):
            pass
    ok("--min-tls 1.2: %s %s; non-AEAD and non-ECDHE suites refused" % (version, name))


def case_mtls_refused(port, what):
    """Under --verify-client require: this client certificate is refused."""
    try:
        s = tls_connect(port)
        # TLS 1.3: the refusal arrives after the client's handshake.
        s.sendall(b"01\n")
        line = read_line(s, bytearray())
    except (OSError, ssl.SSLError, EOFError) as e:
        ok("mTLS, %s: refused (%s)" % (what, str(e)[:70]))
    die("mTLS, %s: served (%r)" % (what, line))


def case_mtls_accepted(port):
    s = tls_connect(port)
    expect_lab(s, bytearray())
    ok("mTLS, the CA's own client certificate: served")


def case_peer_cert(port, crt_file):
    """The server presents the certificate in crt_file (after a reload)."""
    s = tls_connect(port)
    got = s.getpeercert(binary_form=True)
    with open(crt_file) as f:
        want = ssl.PEM_cert_to_DER_cert(f.read())
    if got != want:
        die("the server presents another certificate than %s" % crt_file)
    expect_lab(s, bytearray())
    ok("new connections get the certificate in %s" % os.path.basename(crt_file))


def case_hold(port, seconds):
    """A connection opened before a reload keeps working through it."""
    s = tls_connect(port)
    buf = bytearray()
    expect_lab(s, buf)
    print("held", flush=True)
    t_end = time.monotonic() + float(seconds)
    n = 0
    while time.monotonic() < t_end:
        expect_lab(s, buf)
        n += 1
        time.sleep(0.05)
    ok("a connection opened before the reload answered %d more requests" % n)


def case_drain(port, n, flagfile):
    """Pipeline n lines, tell the test to SIGTERM, then read every reply."""
    rnd = random.Random(3)
    reqs = ["".join(rnd.choice("01") for _ in range(rnd.randint(1, 200))) for _ in range(int(n))]
    s = tls_connect(port, timeout=20)
    got = []
    err = []

    def reader():
        buf = bytearray()
        try:
            while len(got) < len(reqs):
                got.append(read_line(s, buf))
        except Exception as e:  # noqa: BLE001 - reported below
            err.append(e)

    th = threading.Thread(target=reader)
    th.start()
    s.sendall("".join(r + "\n" for r in reqs).encode())
    with open(flagfile, "w") as f:
        f.write("sent\n")
    th.join(30)
    if len(got) != len(reqs):
        die("%d requests sent before SIGTERM, %d answered (%s)" % (len(reqs), len(got), err[:1]))
    for r, line in zip(reqs, got):
        if line != "OK " + stuff_hdlc(r):
            die("request %r answered %r" % (r, line))
    # After the last reply the server closes with close_notify.
    if wait_closed(s, 10) is None:
        die("not closed after the drain")
    ok("%d pipelined requests in flight at SIGTERM: all %d answered correctly" % (len(reqs), len(got)))


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in CASES:
        print("usage: hostile.py CASE PORT [ARGS...]; cases: " + " ".join(sorted(CASES)))
        sys.exit(2)
    try:
        CASES[sys.argv[1]](int(sys.argv[2]), *sys.argv[3:])
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - any surprise is a failure
        die("%s: unexpected %s: %s" % (sys.argv[1], type(e).__name__, e))
