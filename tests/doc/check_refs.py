#!/usr/bin/env python3
"""check_refs.py - every file and function a guide names exists.

    check_refs.py SOURCE_DIR PAGE.md...

In the pages, a file is written in backquotes as a path from the top of
the source tree (`src/lib/stuff.c`), a function as `name()`.  A file
must exist.  A function must be defined (a line that starts with its
return type, not a call or a prototype) in one of the .c files named on
the same line of the page, or, when the line names none, in some .c file
under src/.  So a rename or a move that the guide does not follow fails
this check (ctest doc_architecture).
"""
import glob
import os
import re
import sys

PATH = re.compile(r"`((?:src|tests|docs|scripts|contrib|bench)/[^`\s]+)`")
FUNC = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)\(\)`")


def defines(path, name):
    """Does the C file define function name (at the start of a line)?"""
    pat = re.compile(r"^[A-Za-z_][^;=()]*\b" + re.escape(name) + r"\(")
    with open(path, errors="replace") as f:
        lines = f.read().split("\n")
    for i, ln in enumerate(lines):
        if pat.match(ln):
            # a definition: the parameter list ends in "{" (maybe on a
            # later line), not in ";"
            for nxt in lines[i:i + 8]:
                if nxt.rstrip().endswith(";"):
                    break
                if nxt.strip() == "{" or nxt.rstrip().endswith("{"):
                    return True
    return False


def main():
    src = sys.argv[1]
    all_c = sorted(glob.glob(os.path.join(src, "src", "**", "*.c"),
                             recursive=True))
    bad = 0
    nfiles = nfuncs = 0
    for page in sys.argv[2:]:
        with open(page) as f:
            for no, line in enumerate(f, 1):
                paths = PATH.findall(line)
                for p in paths:
                    nfiles += 1
                    if not os.path.exists(os.path.join(src, p)):
                        print(f"{page}:{no}: no file {p}")
                        bad += 1
                cfiles = [os.path.join(src, p) for p in paths
                          if p.endswith(".c")
                          and os.path.exists(os.path.join(src, p))]
                for fn in FUNC.findall(line):
                    nfuncs += 1
                    where = cfiles or all_c
                    if not any(defines(c, fn) for c in where):
                        print(f"{page}:{no}: {fn}() is not defined in "
                              + (", ".join(os.path.relpath(c, src)
                                           for c in cfiles)
                                 if cfiles else "any .c file under src/"))
                        bad += 1
    print(f"{nfiles} file and {nfuncs} function references checked, "
          f"{bad} wrong")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
