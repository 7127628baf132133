"""Turns a callgrind profile into a linker script that places the functions it ran together.

Usage: python3 bench/hot-functions.py [OPTIONS] PROFILE BINARY SECTION [PREFIX...] > link/NAME.ld

PROFILE is a `valgrind --tool=callgrind --dump-instr=yes` output of BINARY; every function of
BINARY with an instruction in it (and every function whose demangled name starts with one of
the PREFIXes) becomes one input-section pattern of the output section SECTION, in the order of
their addresses in BINARY, inserted before `.text` (an `INSERT` script: it adds to the
linker's default layout instead of replacing it; GNU ld and lld both read it with `-T`).
bench/link-order.sh (`fastmcp`) and bench/child-order.sh (`fastmcp-plugin-host`) use it.

A pattern names the function without what changes from build to build: the hash of a legacy
mangled name (`..17h<16 hex>E`) and the crate disambiguators of a v0 one (`Cs<base62>_`). So
the script stays useful across dependency, feature and compiler changes, and a function that
no longer exists just matches nothing. Generic functions of the same path share a pattern in
legacy mangling, so a few instantiations that did not run come along. Sections are matched
(by default) with and without a prefix (`.text.unlikely.` for `#[cold]` functions,
`.text.startup.`).

Options:
  --maps FILE        /proc/PID/maps of the profiled process: code callgrind could not name
                     (it names only the binary's `.text`; code in a section an older script
                     made shows as `???` at absolute addresses) is mapped back into BINARY.
  --whole PATH       a module path (`fastmcp::sandbox`, a crate name): its functions go in
                     like a PREFIX, and the whole module as path globs too (legacy and v0
                     names, and every name that mentions it: trait impls, drop glue,
                     generics over its types), for code the profile cannot see. Repeatable.
  --format ld|order  `ld` (the default) writes the linker script; `order` writes the chosen
                     functions' full mangled names, one a line, in address order, for lld's
                     `--symbol-ordering-file` (names with hashes: it fits only that build;
                     SECTION and the options below are unused).
  --header FILE      the comment printed before `SECTIONS` (the text of FILE as it is)
                     instead of the default two lines naming the script and BINARY.
  --other-sections P what else a function's section may be called: P followed by the pattern
                     (default `.text.*.`, any prefix; `.text.unlikely.` for cold code only).
  --glob-backrefs    also leave out the v0 back-references (`B<base62>_`, offsets into the
                     name, which move when a crate disambiguator's length does).
  --keep-start       keep names that start with `_start` (by default they are left out: the C
                     runtime's functions are not in sections of their own).
"""
import argparse
import bisect
import re
import subprocess
import sys


def binary_span(maps, binary):
    """Load bias and end of `binary`'s mappings in a /proc/PID/maps dump (a PIE's vaddrs
    start at 0, so the first mapping's start is the bias)."""
    with open(maps) as f:
        spans = [[int(x, 16) for x in l.split()[0].split("-")] for l in f if l.rstrip().endswith(binary)]
    return spans[0][0], spans[-1][1]


def ran_addresses(profile, binary, span=None):
    """Instruction addresses of `binary` that the profile counts; with `span` (bias, end) also
    those of unnamed (`???`) code in that range, made relative to the binary."""
    names, ob, last, ran = {}, None, 0, set()
    for line in open(profile):
        m = re.match(r"^(c?ob)=\((\d+)\)(?: (.*))?$", line)
        if m:
            if m.group(3):
                names[m.group(2)] = m.group(3).strip()
            if m.group(1) == "ob":
                ob = m.group(2)
            continue
        m = re.match(r"^(0x[0-9a-f]+|[+-]\d+|\*)\s", line)
        if m and not line.startswith("calls="):
            t = m.group(1)
            last = int(t, 16) if t.startswith("0x") else last if t == "*" else last + int(t)
            obj = names.get(ob, "")
            if obj == binary:
                ran.add(last)
            elif span and obj == "???" and span[0] <= last < span[1]:
                ran.add(last - span[0])
    return ran


def functions(binary):
    """(address, size, mangled, demangled) of the binary's functions, by address."""
    raw = subprocess.run(["nm", "-S", "--defined-only", binary], capture_output=True, text=True, check=True)
    dem = subprocess.run(["nm", "-S", "-C", "--defined-only", binary], capture_output=True, text=True, check=True)
    out = []
    for r, d in zip(raw.stdout.splitlines(), dem.stdout.splitlines()):
        p = r.split()
        if len(p) == 4 and p[2] in "tTwW":
            out.append((int(p[0], 16), int(p[1], 16), p[3], d.split(None, 3)[3]))
    out.sort()
    return out


def pattern(mangled, glob_backrefs):
    """The function's section name after `.text.`, as a glob without the build's hashes."""
    m = re.match(r"^(_ZN.*)17h[0-9a-f]{16}E$", mangled)
    if m:
        return m.group(1) + "17h*"
    if mangled.startswith("_R"):
        p = re.sub(r"Cs[0-9A-Za-z]+_", "Cs*_", mangled)
        return re.sub(r"B[0-9A-Za-z]*_", "B*_", p) if glob_backrefs else p
    return mangled


def module_globs(path):
    """A whole module: its own functions (legacy `_ZN<path>`, v0 `...<path without the
    crate>`, the same run of components whether the crate is named or back-referenced), and
    every legacy name that mentions it (trait impls, drop glue, generics over its types)."""
    parts = path.split("::")
    legacy = "_ZN" + "".join(f"{len(c)}{c}" for c in parts)
    v0 = "".join(f"{len(c)}{c}" for c in parts[1:] or parts)
    return [f"{legacy}*", f"_ZN*{'..'.join(parts)}..*", f"_R*{v0}*"]


def chosen_functions(args):
    """The functions the profile ran or that a prefix names, in address order."""
    syms = functions(args.binary)
    span = binary_span(args.maps, args.binary) if args.maps else None
    starts = [s[0] for s in syms]
    chosen = {}
    for a in sorted(ran_addresses(args.profile, args.binary, span)):
        i = bisect.bisect_right(starts, a) - 1
        if i >= 0 and syms[i][0] <= a < syms[i][0] + syms[i][1]:
            chosen.setdefault(syms[i][2], syms[i])
    prefixes = args.prefixes + args.whole
    for s in syms:
        if any(s[3].lstrip("<").startswith(p) for p in prefixes):
            chosen.setdefault(s[2], s)
    # By address; aliases (one address, several names) in the order they were found.
    return sorted(chosen.values(), key=lambda s: s[0])


def write_ld(args, chosen):
    patterns = [pattern(s[2], args.glob_backrefs) for s in chosen]
    # `_start` and other functions of the C runtime are not in sections of their own.
    patterns = [p for p in patterns if args.keep_start or not p.startswith("_start")]
    for path in args.whole:
        patterns += module_globs(path)
    patterns = list(dict.fromkeys(patterns))
    print(f"{len(patterns)} patterns", file=sys.stderr)
    if args.header:
        with open(args.header) as f:
            sys.stdout.write(f.read())
    else:
        print(f"/* Generated by bench/hot-functions.py from a profile of {args.binary.rsplit('/', 1)[-1]}: */")
        print("/* the functions it ran, placed together (see the script's doc). Do not edit by hand. */")
    print(f"SECTIONS\n{{\n  {args.section} :\n  {{")
    for p in patterns:
        print(f"    *(.text.{p} {args.other_sections}{p})")
    print("  }\n}\nINSERT BEFORE .text;")


def main():
    usage = __doc__.split("\n\n")[1].removeprefix("Usage: ")
    raw = argparse.RawDescriptionHelpFormatter
    ap = argparse.ArgumentParser(usage=usage, add_help=False, formatter_class=raw)
    # -h prints the module doc, which describes every option.
    ap.add_argument("-h", "--help", action="version", version=__doc__)
    ap.add_argument("profile", metavar="PROFILE")
    ap.add_argument("binary", metavar="BINARY")
    ap.add_argument("section", metavar="SECTION")
    ap.add_argument("prefixes", nargs="*", metavar="PREFIX")
    ap.add_argument("--maps", metavar="FILE")
    ap.add_argument("--whole", action="append", default=[], metavar="PATH")
    ap.add_argument("--format", choices=["ld", "order"], default="ld")
    ap.add_argument("--header", metavar="FILE")
    ap.add_argument("--other-sections", default=".text.*.", metavar="P")
    ap.add_argument("--glob-backrefs", action="store_true")
    ap.add_argument("--keep-start", action="store_true")
    args = ap.parse_args()
    chosen = chosen_functions(args)
    print(f"{len(chosen)} functions ({sum(s[1] for s in chosen)} bytes)", file=sys.stderr)
    if args.format == "order":
        print("\n".join(s[2] for s in chosen))
    else:
        write_ld(args, chosen)


main()
