#!/usr/bin/env python3
"""test_doctest.py - the doc-test runner (doctest.py) on small pages: it
passes a page that matches, and fails one whose output drifted, one with
a failing command, one that hangs, one that exits; it stops the jobs a
part leaves running (unless the part keeps them) and skips what a part
cannot run here.  Every page runs in the runner's own scratch directory;
the source and build directories given to it are empty temporary ones."""

import contextlib
import importlib.util
import io
import os
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "bs_doctest", os.path.join(HERE, "doctest.py"))
dt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dt)

failures = []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        failures.append(name)
        if detail:
            print(textwrap.indent(detail, "     | "))


def run_page(text):
    """Run a page; its exit status and what the runner printed."""
    with tempfile.TemporaryDirectory() as d:
        for sub in ("src/scripts", "src/contrib", "src/docs", "src/tests",
                    "build"):
            os.makedirs(os.path.join(d, sub))
        page = os.path.join(d, "page.md")
        with open(page, "w") as f:
            f.write(textwrap.dedent(text))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = dt.run(page, os.path.join(d, "src"), os.path.join(d, "build"),
                        False, False)
        return rc, out.getvalue()


F = "```"

# the matcher
check("<ANY> matches a variable part",
      dt.matches(["port <ANY> open"], ["port 41234 open"]))
check("<ANY> does not match across a different literal",
      not dt.matches(["port <ANY> open"], ["port 41234 closed"]))
check("... matches no line", dt.matches(["a", "...", "b"], ["a", "b"]))
check("... matches several lines",
      dt.matches(["a", "...", "b"], ["a", "x", "y", "b"]))
check("a missing line fails", not dt.matches(["a", "b"], ["a"]))
check("an extra line fails", not dt.matches(["a"], ["a", "b"]))
check("trailing blanks and blank last lines are ignored",
      dt.matches(["a  "], ["a", ""]))
check("regex characters are literal", not dt.matches(["a.c"], ["abc"]))

# whole pages
ok_page = f"""
    ## Part 1
    {F}sh
    X=hello
    echo "$X world"
    false || echo "exit status: $?"
    {F}

    {F}output
    hello world
    exit status: 1
    {F}

    {F}sh
    echo "$X again, PORT is set: ${{PORT:+yes}}"; pwd | grep -c /work$
    {F}

    {F}output
    hello again, PORT is set: yes
    1
    {F}
    """
rc, out = run_page(ok_page)
check("a matching page passes, variables carry over", rc == 0, out)

drift = ok_page.replace("hello world", "hello there")
rc, out = run_page(drift)
check("a drifted output fails", rc == 1 and "differs" in out, out)
check("the failure shows the diff", "-hello there" in out
      and "+hello world" in out, out)

# pages of one part with one sh block, after a directive line if any:
# what the runner must do, the directive, the block, the exit status and
# what it must say
for what, directive, block, want_rc, said in [
    ("a failing command fails the block, with its line", None,
     "echo one\nfalse\necho two", 1, "block line 2"),
    ("a block that hangs fails at its timeout", "timeout=2", "sleep 30", 1,
     "did not finish within 2 s"),
    ("an exit in a block fails", None, "exit 0", 1, "shell exited"),
    ("a part whose requirement is missing is skipped, and said so",
     "requires no-such-program-bs13", "false", 0, "SKIPPED part 'Part 1'"),
    ("a skipped block is not run", "skip", "false", 0, ""),
]:
    head = f"<!-- doctest: {directive} -->\n" if directive else ""
    rc, out = run_page(f"\n## Part 1\n{head}{F}sh\n{block}\n{F}\n")
    check(what, rc == want_rc and said in out, out)


def job_left_running(directives, state):
    """Run a page whose first part, with these directive lines after its
    heading, leaves a job running, and whose second part expects the job
    to be in state (running or stopped)."""
    return run_page("\n## Part 1\n" + directives + textwrap.dedent(f"""\
        {F}sh
        sleep 300 >/dev/null 2>&1 &
        echo $! >pid1
        {F}

        ## Part 2
        {F}sh
        if kill -0 "$(cat pid1)" 2>/dev/null; then echo running; else echo stopped; fi
        {F}

        {F}output
        {state}
        {F}
        """))


rc, out = job_left_running("", "stopped")
check("a part's background job is stopped at the part's end",
      rc == 0 and "stopping what the part left running" in out, out)
rc, out = job_left_running("<!-- doctest: keep-jobs -->\n", "running")
check("keep-jobs keeps a part's job for the next part", rc == 0, out)

rc, out = run_page(f"""
    ## Part 1
    The text may mention `<!-- doctest: ... -->` without it being one.
    {F}sh
    echo ran
    {F}

    {F}output
    ran
    {F}
    """)
check("a directive mentioned inside a line of text is not one", rc == 0, out)

try:
    run_page(f"""
    {F}text
    a
    {F}

    {F}output
    a
    {F}
    """)
    check("an output block without its sh block is refused", False)
except dt.DocError:
    check("an output block without its sh block is refused", True)

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("PASS")
