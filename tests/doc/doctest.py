#!/usr/bin/env python3
"""doctest.py - run a Markdown handout's shell blocks and check their output.

    doctest.py --source SRC --build BUILD [--keep] [--list] FILE.md

The handout (docs/LAB.md) is executed top to bottom, the way a student
would type it into one terminal, so that it never drifts from what the
programs do.  The conventions (docs/LAB.md follows them; so can any page):

* A fenced block whose info string is `sh` is run.  All `sh` blocks of a
  file run in ONE bash process, in order: variables, functions and the
  current directory carry over from block to block.  Each block's stdout
  and stderr go, together, to one file; its stdin is /dev/null.
* Every command of a block must succeed.  A command that is meant to fail
  is written `cmd || echo "exit status: $?"`, so that the page shows the
  status and a command that starts to succeed changes the output.  (The
  runner sets an ERR trap while a block runs; a failing command anywhere
  in the block fails it, with the line.)
* A fenced `output` block right after an `sh` block (only blank lines in
  between) is what that block prints.  Lines are compared after trailing
  blanks are removed; in an expected line, `<ANY>` matches any run of
  characters (ports, dates, fingerprints, timings), and a line that is
  just `...` matches any number of whole lines, none included.  Blank
  lines at the end of the output are ignored.  An `sh`
  block without an `output` block is run but its output is not checked.
  Other fences (`text`, `c`, none) are never run or checked.
* A `## ` heading ends a part: every background job the part's blocks
  started (`cmd &`) is sent SIGTERM and waited for (bounded), unless the
  part says `<!-- doctest: keep-jobs -->` (a server that later parts
  use); at the end of the page every job is stopped so, and then the
  whole process group is killed.  Well-behaved pages stop their own
  servers; this is the safety net.  Background jobs must send their
  output to a file of their own, not to the block's.
* Directives are HTML comments on a line of their own (invisible when
  the page is rendered).
  `<!-- doctest: skip -->` before a block: not run (say why in the page
  or in the comment, e.g. the build, which the runner replaces by the
  build under test).  `<!-- doctest: timeout=N -->`: the next block may
  take N seconds (default 120).  `<!-- doctest: requires root tshark -->`
  anywhere in a part: the rest of the part runs only as root and with
  these programs on PATH (tshark: built with Lua); otherwise it is
  skipped, and said so.

The runner's scratch directory, where every block runs, looks like a
source checkout: `scripts`, `contrib`, `docs` and `tests` are symbolic
links into --source and `build` is a link to --build, so the page's
`build/bitstuff` and `scripts/gen-certs.sh` work as in a checkout.
The page must write only new files of its own (never through those
links).  Environment: HOME and TMPDIR inside the scratch directory,
LC_ALL=C, and PORT and PORT2, two free loopback ports (a page writes
`export PORT=${PORT:-55000}` so that a student gets the default).
ASAN_OPTIONS gains verify_asan_link_order=0 (for the LD_PRELOAD shim).

Exit status: 0 when every block ran and matched, 1 otherwise (the first
failure ends the run and is shown with its line), 2 on bad usage.
"""

import argparse
import difflib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DEFAULT_TIMEOUT = 120
PART_END_TIMEOUT = 30
SENTINEL = "__DOCTEST_DONE__"


class Block:
    def __init__(self, line, info, text):
        self.line = line  # 1-based line of the opening fence
        self.info = info
        self.text = text
        self.expected = None  # list of lines, from an `output` block
        self.expected_line = None
        self.skip = False
        self.timeout = DEFAULT_TIMEOUT
        self.requires = []
        self.part = ""
        self.keep_jobs = False


class DocError(Exception):
    pass


DIRECTIVE = re.compile(r"<!--\s*doctest:\s*(.*?)\s*-->")
FENCE = re.compile(r"^(```+|~~~+)\s*([^`\s]*)(.*)$")


def parse(path):
    """The page's sh blocks, each with its expected output and options."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = []
    part = ""
    requires = []
    keep_jobs = False
    pending = {}  # directives for the next block
    last_sh = None  # an sh block that an output block may still follow
    i = 0
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if not m:
            if line.startswith("## "):
                part = line[3:].strip()
                requires = []
                keep_jobs = False
                last_sh = None
            # a directive is a comment on a line of its own (a page may
            # mention the syntax in its text)
            whole = DIRECTIVE.fullmatch(line.strip())
            for d in [whole.group(1)] if whole else []:
                words = d.split()
                if not words:
                    raise DocError(f"{path}:{i + 1}: empty doctest directive")
                if words[0] == "skip":
                    pending["skip"] = True
                elif words[0].startswith("timeout="):
                    try:
                        pending["timeout"] = int(words[0][8:])
                    except ValueError:
                        raise DocError(f"{path}:{i + 1}: bad timeout")
                elif words[0] == "requires":
                    requires = words[1:]
                elif words[0] == "keep-jobs":
                    keep_jobs = True
                else:
                    raise DocError(
                        f"{path}:{i + 1}: unknown doctest directive '{d}'")
            if line.strip() and not whole:
                last_sh = None
            i += 1
            continue
        fence, info = m.group(1), m.group(2)
        start = i
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        if i >= len(lines):
            raise DocError(f"{path}:{start + 1}: fence never closed")
        i += 1
        if info == "sh":
            b = Block(start + 1, info, "\n".join(body) + "\n")
            b.skip = pending.get("skip", False)
            b.timeout = pending.get("timeout", DEFAULT_TIMEOUT)
            b.requires = list(requires)
            b.part = part
            b.keep_jobs = keep_jobs
            pending = {}
            blocks.append(b)
            last_sh = b
        elif info == "output":
            if last_sh is None or last_sh.expected is not None:
                raise DocError(
                    f"{path}:{start + 1}: an output block must follow an "
                    "sh block (only blank lines between)")
            last_sh.expected = body
            last_sh.expected_line = start + 1
            last_sh = None
        else:
            if pending:
                raise DocError(
                    f"{path}:{start + 1}: a doctest directive before a "
                    f"'{info or 'plain'}' block (only sh blocks are run)")
            last_sh = None
    for b in blocks:  # a part keeps its jobs if it says so anywhere
        b.keep_jobs = any(o.keep_jobs for o in blocks if o.part == b.part)
    return blocks


def line_regex(expected):
    parts = expected.split("<ANY>")
    return re.compile("^" + ".*?".join(re.escape(p) for p in parts) + "$")


def matches(expected, actual):
    """Expected lines (with <ANY> and ... lines) against actual lines."""
    exp = [e.rstrip() for e in expected]
    act = [a.rstrip() for a in actual]
    while act and not act[-1]:  # blank lines at the end do not count
        act.pop()
    regs = [None if e == "..." else line_regex(e) for e in exp]
    memo = {}

    def go(i, j):
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(exp):
            r = j == len(act)
        elif regs[i] is None:
            r = any(go(i + 1, k) for k in range(j, len(act) + 1))
        else:
            r = j < len(act) and bool(regs[i].match(act[j])) and go(i + 1,
                                                                   j + 1)
        memo[key] = r
        return r

    return go(0, 0)


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def requirement_missing(req):
    if req == "root":
        return None if os.geteuid() == 0 else "root"
    if shutil.which(req) is None:
        return req
    if req == "tshark":
        try:
            v = subprocess.run(["tshark", "-v"], capture_output=True,
                               text=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired):
            return "a working tshark"
        if "with Lua" not in v:
            return "tshark with Lua"
    return None


class Shell:
    """One bash process in its own session; blocks are sourced into it."""

    def __init__(self, work, env):
        self.proc = subprocess.Popen(
            ["bash", "--norc", "--noprofile"], cwd=work, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.buf = b""

    def run(self, script, timeout):
        """Send script; wait for the sentinel; its status, or raise."""
        self.proc.stdin.write(script.encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            m = re.search(rb"\n" + SENTINEL.encode() + rb" (\d+)\n", self.buf)
            if m:
                before = self.buf[:m.start()]
                self.buf = self.buf[m.end():]
                if before.strip():
                    sys.stdout.write(before.decode(errors="replace"))
                return int(m.group(1))
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise EOFError
                self.buf += chunk

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def block_script(scratch, n):
    d = f"{scratch}/blocks"
    return (
        f": >{d}/{n}.err\n"
        # (only commands of the block's file: not the `.` itself)
        f"trap '__doc_s=$?; [ \"${{BASH_SOURCE[0]}}\" != {d}/{n}.sh ] || "
        f"printf \"%s %s\\n\" \"$LINENO\" \"$__doc_s\" >>{d}/{n}.err' ERR\n"
        f". {d}/{n}.sh >{d}/{n}.out 2>&1 </dev/null\n"
        "__doc_rc=$?\n"
        "trap - ERR\n"
        f"printf '\\n{SENTINEL} %s\\n' \"$__doc_rc\"\n")


def part_end(keep):
    """Shell code: stop the jobs the part started, unless it keeps them."""
    if keep:
        return ("__doc_keep=\"$__doc_keep $(jobs -p)\"\n"
                f"printf '\\n{SENTINEL} 0\\n'\n")
    return (
        "__doc_stop=\n"
        "for __doc_p in $(jobs -p); do\n"
        "  case \" $__doc_keep \" in *\" $__doc_p \"*) ;;\n"
        "  *) __doc_stop=\"$__doc_stop $__doc_p\" ;; esac\n"
        "done\n"
        "if [ -n \"$__doc_stop\" ]; then\n"
        "  echo \"doctest: stopping what the part left running:$__doc_stop\"\n"
        "  kill $__doc_stop 2>/dev/null\n"
        "  wait $__doc_stop 2>/dev/null\n"
        "fi\n"
        f"printf '\\n{SENTINEL} 0\\n'\n")


def show(title, lines):
    print(f"--- {title}")
    for ln in lines:
        print("  | " + ln)


def run(path, source, build, keep, only_list):
    blocks = parse(path)
    if only_list:
        for b in blocks:
            flags = " (skip)" if b.skip else ""
            chk = "checked" if b.expected is not None else "run"
            print(f"{path}:{b.line}: [{b.part}] {chk}{flags}")
        return 0
    scratch = tempfile.mkdtemp(prefix="bitstuff-doc.")
    work = os.path.join(scratch, "work")
    for d in ("work", "home", "tmp", "blocks"):
        os.mkdir(os.path.join(scratch, d))
    for name in ("scripts", "contrib", "docs", "tests"):
        os.symlink(os.path.join(source, name), os.path.join(work, name))
    os.symlink(build, os.path.join(work, "build"))
    env = dict(os.environ)
    port, port2 = free_ports(2)
    env.update(HOME=os.path.join(scratch, "home"),
               TMPDIR=os.path.join(scratch, "tmp"), LC_ALL="C",
               PORT=str(port), PORT2=str(port2), DOCTEST=scratch)
    env.pop("NO_COLOR", None)
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + \
        "verify_asan_link_order=0"
    shell = Shell(work, env)
    failed = False
    skipped_parts = {}
    ran = checked = 0
    part = None
    keep_jobs = False
    try:
        for n, b in enumerate(blocks):
            if b.part != part:
                if part is not None:
                    shell.run(part_end(keep_jobs), PART_END_TIMEOUT)
                part = b.part
                keep_jobs = b.keep_jobs
                print(f"== {part or '(before the first part)'}")
            where = f"{path}:{b.line}"
            if b.skip:
                print(f"{where}: skipped (doctest: skip)")
                continue
            missing = [m for m in map(requirement_missing, b.requires) if m]
            if missing:
                skipped_parts.setdefault(part, ", ".join(missing))
                print(f"{where}: skipped, needs {', '.join(missing)}")
                continue
            with open(f"{scratch}/blocks/{n}.sh", "w") as f:
                f.write(b.text)
            try:
                rc = shell.run(block_script(scratch, n), b.timeout)
            except TimeoutError:
                print(f"FAIL {where}: the block did not finish within "
                      f"{b.timeout} s")
                failed = True
                break
            except EOFError:
                print(f"FAIL {where}: the shell exited (an `exit` in the "
                      "block?)")
                failed = True
                break
            ran += 1
            with open(f"{scratch}/blocks/{n}.out", errors="replace") as f:
                out = f.read()
            with open(f"{scratch}/blocks/{n}.err") as f:
                errs = [ln.split() for ln in f.read().splitlines()]
            actual = out.split("\n")
            if actual and actual[-1] == "":
                actual.pop()
            if errs or rc != 0:
                print(f"FAIL {where}: a command failed")
                for ln, st in errs:
                    print(f"  block line {ln} (page line "
                          f"{b.line + int(ln)}) exited with status {st}")
                show("the block printed", actual)
                failed = True
                break
            if b.expected is not None:
                checked += 1
                if not matches(b.expected, actual):
                    print(f"FAIL {where}: the output differs from the page's "
                          f"output block (line {b.expected_line}); "
                          "- page, + today:")
                    for d in difflib.unified_diff(b.expected, actual,
                                                  lineterm="", n=2):
                        print("  " + d)
                    failed = True
                    break
            print(f"{where}: ok" + (" (output checked)"
                                    if b.expected is not None else ""))
        if not failed and part is not None:
            # the page's end: every job, kept ones included
            shell.run("__doc_keep=\n" + part_end(False), PART_END_TIMEOUT)
    except (TimeoutError, EOFError):
        print("FAIL: stopping the part's background jobs did not finish "
              f"within {PART_END_TIMEOUT} s")
        failed = True
    finally:
        shell.kill()
        if keep:
            print(f"scratch directory kept: {scratch}")
        else:
            if failed:
                print("(--keep keeps the scratch directory to look at)")
            shutil.rmtree(scratch, ignore_errors=True)
    for p, why in skipped_parts.items():
        print(f"SKIPPED part '{p}': needs {why}")
    print(f"{path}: {ran} blocks run, {checked} outputs checked"
          + (", FAILED" if failed else ", all ok"))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--keep", action="store_true",
                    help="keep the scratch directory")
    ap.add_argument("--list", action="store_true",
                    help="list the blocks and exit")
    ap.add_argument("page")
    a = ap.parse_args()
    try:
        return run(a.page, os.path.abspath(a.source),
                   os.path.abspath(a.build), a.keep, a.list)
    except DocError as e:
        print(f"doctest: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
