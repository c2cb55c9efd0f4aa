"""logcheck - checks of bitstuffd's stderr lines (issue 12.5), for
test_logs.sh: every log line stamped (RFC 3339, milliseconds, UTC) with
a level, or prefixed with a journald priority; one close line's fields in
TEXT or JSON.

    logcheck.py stamped LOG
    logcheck.py journal LOG
    logcheck.py text-close LOG PEER_RE [KEY=VALUE_RE ...]
    logcheck.py json-close LOG PEER_RE [KEY=VALUE_RE ...]

Display lines ("[peer] ...") and "listening on" (stdout) are not log
lines.  Exit 0 when the checks pass, else 1 with the reason."""

import json
import re
import sys

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
LEVEL = r"(error|warning|info|debug)"


def log_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [l.rstrip("\n") for l in f
                if not l.startswith("[") and not l.startswith("listening on")
                and l.strip()]


def die(msg):
    print("logcheck: " + msg)
    sys.exit(1)


def fields_of(pairs):
    want = {}
    for p in pairs:
        k, v = p.split("=", 1)
        want[k] = v
    return want


def main():
    mode, path = sys.argv[1], sys.argv[2]
    lines = log_lines(path)
    if not lines:
        die("no log lines in " + path)
    if mode == "stamped":
        for l in lines:
            if not re.match("^%s %s bitstuffd: " % (STAMP, LEVEL), l):
                die("not stamped: %r" % l)
        print("ok: %d log lines, each stamped with a level" % len(lines))
        return
    if mode == "journal":
        for l in lines:
            if not re.match(r"^<[3467]>bitstuffd: ", l):
                die("no journald priority: %r" % l)
        print("ok: %d log lines, each with a journald priority" % len(lines))
        return
    peer, want = sys.argv[3], fields_of(sys.argv[4:])
    if mode == "text-close":
        pat = r"^%s info bitstuffd: \[(%s)\] connection closed (.*)$" % (
            STAMP, peer)
        for l in lines:
            m = re.match(pat, l)
            if not m:
                continue
            got = dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)',
                                  m.group(2)))
            got = {k: (v[1:-1] if v.startswith('"') else v)
                   for k, v in got.items()}
            break
        else:
            die("no text close line of %s" % peer)
    else:
        for l in lines:
            try:
                o = json.loads(l)
            except ValueError:
                die("not one JSON object: %r" % l)
            for k in ("time", "level", "msg"):
                if k not in o:
                    die("no %r in %r" % (k, l))
            if not re.match("^%s$" % STAMP, o["time"]):
                die("time %r is not RFC 3339 UTC with ms" % o["time"])
        got = None
        for l in lines:
            o = json.loads(l)
            if o["msg"].endswith("connection closed") and \
                    re.fullmatch(peer, str(o.get("peer", ""))):
                got = o
                if o["level"] != "info":
                    die("close line at level %s" % o["level"])
                break
        if got is None:
            die("no JSON close line of %s" % peer)
    for k, v in want.items():
        if k not in got:
            die("close line has no %s: %r" % (k, got))
        if not re.fullmatch(v, str(got[k])):
            die("close line's %s is %r, want /%s/" % (k, got[k], v))
    if mode == "json-close":
        for k in ("requests", "bytes_in", "bytes_out", "duration_ms"):
            if not isinstance(got.get(k), int):
                die("%s is not a JSON number: %r" % (k, got.get(k)))
    print("ok: " + " ".join("%s=%s" % (k, got[k]) for k in sorted(got)
                            if k not in ("time",)))


if __name__ == "__main__":
    main()
