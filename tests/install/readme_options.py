#!/usr/bin/env python3
"""readme_options.py - README.md documents every option a program accepts
(issue 12 item 4), and no option it does not.

Usage: readme_options.py README HEADING PROGRAM [ARG...]

Runs PROGRAM ARG... --help and compares the options it lists (parsed as
man_options.py parses them) with the options named in the first column of
the table rows (lines starting with `|`) of README's section HEADING (the
exact heading line, e.g. "### `bitstuffd` options", up to the next heading
of the same or a higher level).  Fails, naming each option and where it is
missing.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from man_options import OPT, help_options, help_text  # noqa: E402


def readme_options(path, heading):
    """the options of the first column of the section's table rows"""
    level = len(heading) - len(heading.lstrip("#"))
    options, inside, found = set(), False, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^(#+) ", line)
            if m:
                if line == heading:
                    inside = found = True
                    continue
                if inside and len(m.group(1)) <= level:
                    break
            if inside and line.startswith("|"):
                cells = re.split(r"(?<!\\)\|", line)
                if len(cells) > 1:
                    options.update(OPT.findall(cells[1]))
    if not found:
        sys.exit(f"{path} has no heading line {heading!r}")
    return options


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    readme, heading, prog = sys.argv[1], sys.argv[2], sys.argv[3:]
    listed = help_options(help_text(prog, " ".join(prog)))
    documented = readme_options(readme, heading)
    if not listed:
        sys.exit(f"found no option lines in `{' '.join(prog)} --help`")
    if not documented:
        sys.exit(f"found no options in the tables of README's {heading!r}")
    errors = [f"{opt} is listed by --help but not in README's {heading!r} "
              "table" for opt in sorted(listed - documented)]
    errors += [f"{opt} is in README's {heading!r} table but not listed by "
               "--help" for opt in sorted(documented - listed)]
    if errors:
        sys.exit("FAIL:\n  " + "\n  ".join(errors))
    print(f"ok - README's {heading!r} documents the {len(listed)} options "
          "of --help")


if __name__ == "__main__":
    main()
