#!/usr/bin/env python3
"""Size figures for the host crate's source: files over 500 lines, functions over 80 lines,
and `pub` items, as the style guide counts them (shared/STYLE.md).

Functions are found the way rustfmt lays them out: a line whose code starts with `fn` (after
visibility and qualifiers) opens one, and the next line with the same indentation that starts
with `}` closes it. Test code (`#[cfg(test)]` onwards, and files named `tests.rs`) is left out.

Usage: scripts/code_stats.py [SRC_DIR] [--list]   (default: src)
"""

import re
import sys
from pathlib import Path

FN_RE = re.compile(
    r"^(\s*)(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?"
    r"(?:extern\s+\"C\"\s+)?fn\s+(\w+)"
)
PUB_RE = re.compile(
    r"^\s*pub\s+(?:async\s+|const\s+|unsafe\s+)*(fn|struct|enum|trait|type|const|static|mod|use)\b"
)


def production_lines(path):
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "#[cfg(test)]":
            return lines[:i]
    return lines


def functions(lines):
    """(name, length) of every function, nested ones included."""
    out = []
    for i, line in enumerate(lines):
        m = FN_RE.match(line)
        if not m or line.rstrip().endswith(";"):
            continue
        indent = m.group(1)
        for j in range(i + 1, len(lines)):
            if lines[j].startswith(indent + "}") and not lines[j].startswith(indent + " "):
                out.append((m.group(2), j - i + 1))
                break
    return out


def main(argv):
    listing = "--list" in argv
    argv = [a for a in argv if a != "--list"]
    src = Path(argv[1] if len(argv) > 1 else "src")
    big_files, long_fns, pubs, total = [], [], 0, 0
    for path in sorted(src.rglob("*.rs")):
        if path.name == "tests.rs":
            continue
        whole = len(path.read_text().splitlines())
        lines = production_lines(path)
        total += len(lines)
        if whole > 500:
            big_files.append((str(path), whole))
        long_fns += [(f"{path}:{name}", n) for name, n in functions(lines) if n > 80]
        pubs += sum(1 for line in lines if PUB_RE.match(line))
    print(f"lines (without tests): {total}")
    print(f"files over 500 lines: {len(big_files)}")
    print(f"functions over 80 lines: {len(long_fns)}")
    print(f"`pub` items (not pub(crate)/pub(super)): {pubs}")
    if listing:
        for name, n in sorted(big_files, key=lambda x: -x[1]):
            print(f"  file {name}: {n}")
        for name, n in sorted(long_fns, key=lambda x: -x[1]):
            print(f"  fn {name}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
