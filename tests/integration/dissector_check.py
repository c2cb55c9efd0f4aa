#!/usr/bin/env python3
"""dissector_check.py - check what contrib/wireshark/bitstuff.lua made of a
capture of test_dissector.sh's exchanges.

  dissector_check.py all PDML DIR      every check below
  dissector_check.py noport PDML DIR   the capture dissected without the
                                       port preference: the sessions that
                                       offered ALPN bitstuff/1 are dissected,
                                       the one that offered none is not
  dissector_check.py show PDML         one line per bitstuff PDU (debugging)

PDML is `tshark -T pdml` output; each <proto name="bitstuff"> element is one
PDU (a text line or a binary frame).  DIR holds what the test sent and
received (files named below).  Exits 0 if every check passed, else prints
each failure and exits 1.
"""
import os
import sys
import xml.etree.ElementTree as ET

EXAMPLE = "0101111110011111001010"
STUFFED = "010111110100111110001010"
SHOWN = 4096  # the dissector's default "Most bits shown"

failures = []


def check(what, ok, detail=""):
    if not ok:
        failures.append(what + (": " + detail if detail else ""))


def pdus(path):
    """[(frame number, {field: [show, ...]})] in capture order."""
    out = []
    for packet in ET.parse(path).getroot().iter("packet"):
        num = None
        for field in packet.iter("field"):
            if field.get("name") == "num":
                num = int(field.get("show"))
                break
        for proto in packet.iter("proto"):
            if proto.get("name") != "bitstuff":
                continue
            fields = {}
            for field in proto.iter("field"):
                fields.setdefault(field.get("name"), []).append(
                    field.get("show"))
            out.append((num, fields))
    return out


def one(fields, name):
    """The single value of name in a PDU, or None."""
    v = fields.get(name)
    return v[0] if v and len(v) == 1 else None


def has(fields, **want):
    """Whether a PDU's fields have the wanted values (bitstuff.a.b_c for
    a__b_c); None wants the field absent."""
    return all(one(fields, "bitstuff." + k.replace("__", ".")) == v
               for k, v in want.items())


def find(all_pdus, **want):
    """PDUs whose fields have the wanted values."""
    return [(num, fields) for num, fields in all_pdus if has(fields, **want)]


def expect_one(all_pdus, what, **want):
    found = find(all_pdus, **want)
    check(what, len(found) >= 1, "no PDU with %s" % want)
    return found[0][1] if found else {}


def bits_of_bytes(data, n):
    return "".join(format(b, "08b") for b in data)[:n]


def read(d, name):
    with open(os.path.join(d, name)) as f:
        return f.read().strip()


def check_lab(p):
    # binary (the bitstuff client): 'M' and 'R' frames of the lab's example
    m = expect_one(p, "binary request of the lab's example", type="0x4d",
                   bits=EXAMPLE)
    check("binary request: every header field", m and has(
        m, magic="0xb5", flags="0x03", flags__first="1", flags__last="1",
        flags__reserved="0x00", op="0", rule="0", length="22", nbits="22",
        padding="0x00", payload="5f:9f:28", dir="0", form="1",
        msg__total_bits="22"), str(m))
    m_frame = [n for n, f in find(p, type="0x4d", bits=EXAMPLE)]
    r = expect_one(p, "binary reply of the lab's example", type="0x52",
                   bits=STUFFED)
    check("binary reply: the request's frame", m_frame and
          one(r, "bitstuff.request_in") == str(m_frame[0]), str(r))
    check("binary reply: header and count", r and has(
        r, flags="0x03", length="24", nbits="24", payload="5f:4f:8a",
        dir="1"), str(r))
    # text (openssl s_client offering ALPN bitstuff/1)
    t = expect_one(p, "text request of the lab's example", form="0",
                   line=EXAMPLE)
    check("text request: op, rule, bits, count", t and has(
        t, dir="0", op="0", rule="0", bits=EXAMPLE, nbits="22",
        msg__total_bits="22"), str(t))
    t = expect_one(p, "text reply of the lab's example", form="0",
                   line="OK " + STUFFED)
    check("text reply: status, bits, count", t and has(
        t, dir="1", text__status="OK", bits=STUFFED, nbits="24",
        msg__total_bits="24"), str(t))


def check_errors(p):
    m = expect_one(p, "binary request unstuff 111111", type="0x4d",
                   bits="111111")
    check("binary unstuff request: op 1, 6 bits, padding", m and has(
        m, op="1", nbits="6", payload="fc", padding="0x00"), str(m))
    e = expect_one(p, "binary error reply", type="0x45")
    text = one(e, "bitstuff.error.message") or ""
    check("binary 'E': code, name, offset, header", e and has(
        e, error__code="4", error__name="flag", error__offset="5",
        error__reserved="0x0000", flags__last="1", flags__first="0", op="1",
        rule="0", dir="1", payload_len=str(12 + len(text))) and
        text.startswith("six 1s"), str(e))
    t = expect_one(p, "text request unstuff 111111", form="0",
                   line="unstuff 111111")
    check("text unstuff request: op word, op, bits", t and has(
        t, text__op="unstuff", op="1", bits="111111"), str(t))
    t = expect_one(p, "text error reply", form="0", text__status="ERR",
                   error__code="4")
    check("text ERR: name, offset, message", t and
          has(t, error__name="flag", error__offset="5") and
          (one(t, "bitstuff.error.message") or "").startswith("six 1s"), str(t))
    t = expect_one(p, "text ERR without offset", form="0", text__status="ERR",
                   error__code="20")
    check("text ERR 20: name, no offset", t and has(
        t, error__name="bad-command", error__offset=None,
        error__no_offset="1"), str(t))


def check_port_session(p, present):
    req = find(p, line="stuff can 0000011111")
    rep = find(p, line="OK 000001111101")
    if present:
        check("the session without ALPN, by its port: request",
              len(req) == 1 and one(req[0][1], "bitstuff.rule") == "2" and
              one(req[0][1], "bitstuff.text.rule") == "can", str(req))
        check("the session without ALPN, by its port: reply",
              len(rep) == 1 and one(rep[0][1], "bitstuff.bits") ==
              "000001111101", str(rep))
    else:
        check("without the port preference the session that offered no ALPN"
              " is not dissected", not req and not rep)


def check_large(p, d):
    line = read(d, "line.txt")
    reply = read(d, "line.reply")[3:]  # "OK " bits
    t = find(p, form="0", dir="0", nbits=str(len(line)))
    check("100 kbit text line reassembled: bit count", len(t) == 1,
          "want one request of %d bits, found %d" % (len(line), len(t)))
    if t:
        f = t[0][1]
        check("100 kbit text line: bits shown", one(f, "bitstuff.bits") ==
              line[:SHOWN] and one(f, "bitstuff.bits_shown") == str(SHOWN))
        check("100 kbit text line: message total",
              one(f, "bitstuff.msg.total_bits") == str(len(line)))
    t = find(p, form="0", dir="1", nbits=str(len(reply)))
    check("100 kbit text reply reassembled: bit count", len(t) == 1,
          "want one reply of %d bits" % len(reply))
    if t:
        check("100 kbit text reply: bits shown",
              one(t[0][1], "bitstuff.bits") == reply[:SHOWN])

    with open(os.path.join(d, "big.bin"), "rb") as f:
        sent = f.read()
    with open(os.path.join(d, "big.out"), "rb") as f:
        got = f.read()
    sent_bits = len(sent) * 8
    got_bits = int(read(d, "big.received"))
    for kind, total, data in (("0x4d", sent_bits, sent),
                              ("0x52", got_bits, got)):
        # the other binary messages of the test are a few bits long
        msg = [f for _, f in p if one(f, "bitstuff.type") == kind and
               int(one(f, "bitstuff.nbits") or 0) > 64]
        firsts = [f for f in msg if one(f, "bitstuff.flags.first") == "1"]
        lasts = [f for f in p if one(f[1], "bitstuff.type") == kind and
                 one(f[1], "bitstuff.msg.total_bits") == str(total)]
        n = sum(int(one(f, "bitstuff.nbits")) for f in msg)
        check("large binary %s message: total at LAST" % kind,
              len(lasts) == 1, "want total_bits %d" % total)
        check("large binary %s message: chunks add up" % kind,
              n == total, "chunks hold %d bits, want %d" % (n, total))
        check("large binary %s message: several chunks" % kind,
              len(msg) >= 2, str(len(msg)))
        check("large binary %s message: the first chunk's bits" % kind,
              len(firsts) == 1 and one(firsts[0], "bitstuff.bits") ==
              bits_of_bytes(data[:SHOWN // 8], SHOWN))
        # a 64 KiB chunk spans five TLS records (16 KiB each at most): it
        # was reassembled.  (The server's 'R' chunks follow its reads.)
        if kind == "0x4d":
            check("large binary %s message: a full 64 KiB chunk" % kind,
                  any(one(f, "bitstuff.nbits") == "524288" for f in msg))


def check_bad_frames(p):
    """badframes.py's session: each bad request is flagged, each 'E' reply
    decoded, and the 'X' frame is the one malformed PDU of the capture."""
    for what, want, expert in (
            ("rule nibble 3", {"type": "0x4d", "rule": "3"},
             "bitstuff.violation"),
            ("nonzero padding", {"type": "0x4d", "padding": "0x01"},
             "bitstuff.violation"),
            ("type 'X'", {"type": "0x58"}, "bitstuff.malformed")):
        found = find(p, **want)
        check("bad request (%s) flagged" % what,
              len(found) == 1 and expert in found[0][1], str(found))
    malformed = [f for _, f in p if "bitstuff.malformed" in f]
    check("exactly one malformed PDU (the 'X' frame)", len(malformed) == 1,
          "%d" % len(malformed))
    for code, name in (("21", "bad-rule"), ("25", "sequence"),
                       ("24", "bad-padding"), ("26", "bad-frame")):
        e = find(p, type="0x45", error__code=code)
        check("'E' %s %s" % (code, name), len(e) == 1 and has(
            e[0][1], error__name=name, error__offset="18446744073709551615",
            error__no_offset="1"), str(e))


def check_pipelined(p):
    per_packet = {}
    for num, _ in p:
        per_packet[num] = per_packet.get(num, 0) + 1
    check("several PDUs in one packet (pipelined requests)",
          max(per_packet.values() or [0]) >= 3)
    for bits in ("01", "10", "0110"):
        # (badframes.py's frames also hold 01, with rule 3 or bad padding)
        check("pipelined binary request %s" % bits,
              len(find(p, type="0x4d", bits=bits, rule="0", flags="0x03",
                       padding="0x00")) == 1)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    p = pdus(path)
    if mode == "show":
        for num, f in p:
            print(num, {k: (v if len(str(v)) < 80 else str(v)[:80] + "...")
                        for k, v in f.items()})
        return 0
    d = sys.argv[3]
    if mode == "noport":
        check_port_session(p, False)
        check("the ALPN sessions are dissected without the port preference",
              find(p, type="0x4d", bits=EXAMPLE) and
              find(p, form="0", line=EXAMPLE))
    else:
        check_lab(p)
        check_errors(p)
        check_port_session(p, True)
        check_large(p, d)
        check_bad_frames(p)
        check_pipelined(p)
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    if not failures:
        print("dissector_check %s: %d PDUs, all checks passed" % (mode, len(p)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
