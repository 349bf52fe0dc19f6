#!/usr/bin/python3
"""Prints the example commands of mdoc(7) manual pages, one per line.

    /usr/bin/python3 tests/e2e/man_examples.py PAGE...

An example command is a line of the EXAMPLES section that starts with
"$ " inside a literal display (.Bd -literal ... .Ed).  The "$ " is
removed and the mdoc escapes are undone (\\e, \\-, \\(aq, \\&, ...), so
what is printed is what a reader would type.  Other lines of a display
(output, configuration) are not printed.  Standard library only.

Exit status: 0, also when a page has no examples; 1 when a page cannot
be read or an example uses an escape this script does not know, so that
a test never runs something other than what the page shows.
"""

import re
import sys

# Escapes that may appear in a command, and what a reader sees for each.
CHARS = {
    "aq": "'", "dq": '"', "ga": "`", "ti": "~", "ha": "^", "rs": "\\",
}
ESCAPE = re.compile(r"\\(\((..)|\[([^\]]*)\]|(.))")


class BadEscape(Exception):
    pass


def unescape(line):
    def one(m):
        name = m.group(2) or m.group(3)
        if name is not None:
            if name in CHARS:
                return CHARS[name]
            raise BadEscape(m.group(0))
        c = m.group(4)
        if c in ("e", "\\"):
            return "\\"
        if c in ("&", "|", "^"):    # zero-width
            return ""
        if c in ("-", ".", " ", "'", "`"):
            return c
        raise BadEscape(m.group(0))
    return ESCAPE.sub(one, line)


def examples(text):
    """The example commands of one page, in order."""
    out = []
    in_examples = in_literal = False
    for line in text.splitlines():
        if line.startswith(".Sh ") or line.startswith(".Sh\t"):
            in_examples = line.split(None, 1)[1].strip().strip('"') == "EXAMPLES"
            in_literal = False
            continue
        if not in_examples:
            continue
        if line.startswith(".Bd") and "-literal" in line.split():
            in_literal = True
            continue
        if line.startswith(".Ed"):
            in_literal = False
            continue
        if in_literal and line.startswith("$ "):
            out.append(unescape(line[2:]).strip())
    return out


def main(argv):
    status = 0
    if len(argv) < 2:
        sys.stderr.write("usage: man_examples.py page...\n")
        return 64
    for path in argv[1:]:
        try:
            with open(path, encoding="utf-8") as f:
                cmds = examples(f.read())
        except OSError as e:
            sys.stderr.write("man_examples.py: cannot read %s: %s\n" % (path, e.strerror))
            status = 1
            continue
        except BadEscape as e:
            sys.stderr.write("man_examples.py: %s: unknown escape '%s' in an example\n"
                             % (path, e.args[0]))
            status = 1
            continue
        for c in cmds:
            sys.stdout.write(c + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
