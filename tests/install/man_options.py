#!/usr/bin/env python3
"""man_options.py - a program's --help and its manual page name the same
options (issue 12).

Usage: man_options.py MANPAGE PROGRAM [ARG...]
       man_options.py --print-man MANPAGE   (its options, one a line)

Runs PROGRAM ARG... --help and compares the options it lists with the
options of the OPTIONS section of MANPAGE (mdoc: every `Fl` of an `.It`
line).  Fails, naming each option and where it is missing, if --help lists
an option the manual page does not document, or the manual page documents
one that --help does not list.

--help is parsed loosely so that a change of its layout does not break the
test: an option line is a line that starts with one to eight blanks and a
dash (a wrapped description is indented further); its options are every
-x and --name before the description (the first run of two blanks).
Options hidden from --help (such as --list-options) are left out of the
manual page too.
"""
import re
import subprocess
import sys

OPT = re.compile(r"(?<![\w-])(--?[A-Za-z0-9][A-Za-z0-9-]*)")


def help_options(text):
    """the options of the option lines of --help"""
    listed = set()
    for line in text.splitlines():
        if not re.match(r"^ {1,8}-", line):
            continue
        column = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        listed.update(OPT.findall(column))
    return listed


def help_text(prog, name):
    """what `prog --help` prints (prog: the command and its arguments);
    exits if it cannot run or fails, naming the program name"""
    try:
        run = subprocess.run(prog + ["--help"], capture_output=True,
                             text=True, timeout=60, check=False)
    except OSError as e:
        sys.exit(f"cannot run {' '.join(prog)} --help: {e}")
    if run.returncode != 0:
        sys.exit(f"{name} --help exited {run.returncode}: {run.stderr}")
    return run.stdout


def man_options(path):
    options, in_section = set(), False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith(".Sh "):
                in_section = line.split(None, 1)[1].strip() == "OPTIONS"
            elif in_section and line.startswith(".It "):
                for word in re.findall(r"\bFl\s+(\S+)", line):
                    word = word.replace("\\-", "-").replace("\\&", "")
                    word = word.rstrip(",")
                    if word:
                        options.add("-" + word)
    return options


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--print-man":
        print("\n".join(sorted(man_options(sys.argv[2]))))
        return
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    man, prog = sys.argv[1], sys.argv[2:]
    # the program's name as its page has it (gen-certs.sh is installed
    # as bitstuff-gen-certs)
    name = man.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    listed = help_options(help_text(prog, name))
    documented = man_options(man)
    if not listed:
        sys.exit(f"found no option lines in `{name} --help`: has its "
                 "format changed? (see man_options.py's parser)")
    if not documented:
        sys.exit(f"found no `.It Fl` entries in the OPTIONS section of {man}")
    errors = []
    for opt in sorted(listed - documented):
        errors.append(f"{name}: {opt} is listed by `{name} --help` but "
                      f"missing from the manual page {man}: add an "
                      f"`.It Fl {opt[1:].replace('-', chr(92) + '-')}` "
                      "entry to its OPTIONS list")
    for opt in sorted(documented - listed):
        errors.append(f"{name}: {opt} is documented in the manual page "
                      f"{man} but not listed by `{name} --help`: remove "
                      "it from the page, or add it to the program")
    for e in errors:
        print(e)
    if errors:
        sys.exit(1)
    print(f"{name}: --help and {man} agree on {len(listed)} options")


if __name__ == "__main__":
    main()
