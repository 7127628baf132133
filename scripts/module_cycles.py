#!/usr/bin/env python3
"""Find import cycles between the modules of `src/`.

Every `crate::`, `super::` and `self::` path in a module's files is resolved to the module it
names. For each module, its child modules are compared as siblings: an edge A -> B means some
code in A's subtree uses something in B's subtree. A cycle is a strongly connected set of two or
more siblings (for example `http::mcp` <-> `http::modern`, or `auth -> mcp -> metrics -> auth`).
A child that uses its own parent is not a cycle: that is how Rust modules are layered.

Usage: scripts/module_cycles.py [SRC_DIR]   (default: src). Exit status 1 when a cycle exists.
`--allow FILE` lists known cycles (one per line, members joined by " <-> ") that do not fail.
"""

import re
import sys
from pathlib import Path

USE_RE = re.compile(r"\buse\s+((?:crate|super|self)\b[^;]*);", re.S)
PATH_RE = re.compile(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)")
COMMENT_RE = re.compile(r"//[^\n]*")
MOD_RE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*\{", re.M)


def module_of(path, src):
    """The module path of a source file: src/mcp/service/call.rs -> ("mcp", "service", "call")."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts.pop()
    return tuple(parts)


def expand(tree):
    """Expand a use tree `a::{b, c::{d, e}}` into its paths."""
    tree = re.sub(r"\s+", "", tree)
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix = tree[:start].rstrip(":")
                inner, items, level, last = tree[start + 1 : i], [], 0, 0
                for j, c in enumerate(inner + ","):
                    if c in "{":
                        level += 1
                    elif c == "}":
                        level -= 1
                    elif c == "," and level == 0:
                        if inner[last:j]:
                            items.append(inner[last:j])
                        last = j + 1
                out = []
                for item in items:
                    for sub in expand(item):
                        out.append(prefix if sub == "self" else f"{prefix}::{sub}")
                return out
    return [re.sub(r"\bas\b.*$", "", tree)]


def resolve(path, here, modules):
    """The longest known module that `path`, written in module `here`, names."""
    segs = path.split("::")
    base = list(here)
    if segs[0] == "crate":
        base, segs = [], segs[1:]
    else:
        while segs and segs[0] in ("self", "super"):
            if segs.pop(0) == "super":
                base = base[:-1]
    full = tuple(base + segs)
    while full and full not in modules:
        full = full[:-1]
    return full


def code(path):
    """A file's text without comments and without its test-only items (`#[cfg(test)]` onwards:
    test modules come last), which may use anything."""
    return COMMENT_RE.sub("", path.read_text()).split("#[cfg(test)]")[0]


def scan(src):
    files = {module_of(p, src): p for p in src.rglob("*.rs")}
    files = {m: p for m, p in files.items() if "tests" not in m}
    modules = set(files)
    for module, path in list(files.items()):
        for name in MOD_RE.findall(code(path)):
            modules.add(module + (name,))
    edges = set()
    for module, path in files.items():
        text = code(path)
        paths = [p for tree in USE_RE.findall(text) for p in expand(tree)]
        paths += PATH_RE.findall(USE_RE.sub("", text))
        for p in paths:
            target = resolve(p, module, modules)
            if target != module:
                edges.add((module, target))
    return modules, edges


def sibling_cycles(modules, edges):
    """Strongly connected sets of sibling modules, for every parent module."""
    cycles = []
    parents = {m[:-1] for m in modules if m}
    for parent in sorted(parents):
        n = len(parent)
        kids = sorted({m[: n + 1] for m in modules if len(m) > n and m[:n] == parent})
        graph = {k: set() for k in kids}
        for a, b in edges:
            if len(a) > n and len(b) > n and a[:n] == parent and b[:n] == parent:
                ka, kb = a[: n + 1], b[: n + 1]
                if ka != kb:
                    graph[ka].add(kb)
        cycles += [c for c in tarjan(graph) if len(c) > 1]
    return cycles


def tarjan(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main(argv):
    allow = set()
    if "--allow" in argv:
        i = argv.index("--allow")
        allow = {line.strip() for line in Path(argv[i + 1]).read_text().splitlines() if line.strip()}
        del argv[i : i + 2]
    src = Path(argv[1] if len(argv) > 1 else "src")
    modules, edges = scan(src)
    failed = False
    for cycle in sibling_cycles(modules, edges):
        name = " <-> ".join("::".join(m) for m in cycle)
        known = name in allow
        failed |= not known
        print(f"{'known ' if known else ''}cycle: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
