#!/usr/bin/env bash
# Profiles which functions of `fastmcp-plugin-host` an isolated plugin's child runs (start, one
# call, idle) and writes them out so the link places them together: an idle child's code Rss is
# decided by how many 64 KiB fault-around windows of its text it touches, not by how much code
# it runs (docs/performance.md, "Memory of an idle child").
#
#   FORMAT=ld bash bench/child-order.sh      # -> src/bin/plugin_host.ld (commit it)
#   cargo build --release -p fastmcp -p calculator && bash bench/child-rss.sh
#
# FORMAT=ld (what the default build uses) writes the linker script that `build.rs` passes to
# `fastmcp-plugin-host`'s link: one output section, placed before `.text` with `INSERT`, whose
# input-section patterns are the profiled functions' section names (`.text.<symbol>`, one per
# function) with the mangling's hashes left out (`...17h*`, `Cs*_`), so the list survives the
# hash changes that come with every change of the code, the compiler or the dependencies'
# features. Whole modules the profile cannot see (the sandbox and the crates it uses, std's
# stack overflow guard: under valgrind they take other paths) or that
# tests/code_layout.rs relies on (`plugin::isolate::child`) go in as path globs.
# Regenerate it when the child's code changes much (a new dependency on its path, a reworked
# serve loop), or when `bash bench/child-rss.sh` shows the code Rss of `fastmcp-plugin-host`
# growing past ~750 KiB: a function that is no longer named in the list costs only its window,
# never the build. Profile the default build (`cargo build --release -p fastmcp -p calculator`).
#
# FORMAT=order (the default) writes an lld `--symbol-ordering-file` of full mangled names to
# target/release/plugin-host.order instead, for experiments with exact symbol order:
#   touch src/bin/plugin_host.rs && cargo rustc --release -p fastmcp --bin fastmcp-plugin-host \
#     -- -C link-arg=-Wl,--symbol-ordering-file=$PWD/target/release/plugin-host.order
# Its names carry hashes, so it only fits the build it was profiled from.
#
# Needs valgrind (callgrind). Valgrind cannot run the seccomp filter, so the profile runs with
# --plugin-allow-net true; the sandbox's functions and those of the crates it uses are added
# whole. Talks to 127.0.0.1 only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REL=${REL:-$ROOT/target/release}
FORMAT=${FORMAT:-order}
case $FORMAT in
  ld) OUT=${OUT:-$ROOT/src/bin/plugin_host.ld} ;;
  order) OUT=${OUT:-$REL/plugin-host.order} ;;
  *) echo "FORMAT must be ld or order, not $FORMAT" >&2; exit 2 ;;
esac
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp "$REL/fastmcp" "$REL/libcalculator.so" "$WORK/"
cp "$REL/fastmcp-plugin-host" "$WORK/fastmcp-plugin-host.real"
# The host runs `fastmcp-plugin-host` from beside itself: a wrapper that profiles the child.
cat >"$WORK/fastmcp-plugin-host" <<WRAP
#!/usr/bin/env bash
[[ \$1 == --build-id ]] && exec "$WORK/fastmcp-plugin-host.real" "\$@"
exec valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file="$WORK/cg.%p" \
  "$WORK/fastmcp-plugin-host.real" "\$@" 2>"$WORK/valgrind.log"
WRAP
chmod +x "$WORK/fastmcp-plugin-host"
# Callgrind names the code of the binary's `.text` only: code in other sections (such as the
# section src/bin/plugin_host.ld makes) it reports at absolute addresses under `???`, so keep
# where the binary was mapped to translate those back.
cat >"$WORK/hook.sh" <<HOOK
callgrind_control -d >/dev/null
for f in "$WORK"/cg.*.1; do p=\${f#$WORK/cg.}; cat "/proc/\${p%.1}/maps" >"$WORK/maps"; done
HOOK
HOOK="bash $WORK/hook.sh" EXTRA="--plugin-allow-net true" SETTLE=5 FASTMCP_BIN="$WORK/fastmcp" \
  CALC_SO="$WORK/libcalculator.so" bash "$ROOT/bench/child-rss.sh" >/dev/null
profile=$(ls "$WORK"/cg.*.1 | head -1)
python3 - "$FORMAT" "$profile" "$WORK/maps" "$WORK/fastmcp-plugin-host.real" \
  fastmcp::sandbox seccompiler landlock enumflags2 fastmcp::plugin::isolate::child \
  std::sys::pal::unix::stack_overflow >"$WORK/out" <<'PY'
"""Symbols of the binary whose code the callgrind profile ran, in address order."""
import bisect, re, subprocess, sys
fmt, profile, maps, binary, *whole = sys.argv[1:]
# The binary's mappings: its load bias (the first one's start, a PIE's vaddrs start at 0) and
# extent, to translate the absolute addresses of the code callgrind could not name.
spans = [[int(x, 16) for x in l.split()[0].split("-")] for l in open(maps) if l.rstrip().endswith(binary)]
bias, end = spans[0][0], spans[-1][1]
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
        if names.get(ob, "") == binary:
            ran.add(last)
        elif names.get(ob, "") == "???" and bias <= last < end:
            ran.add(last - bias)
raw = subprocess.run(["nm", "-S", "--defined-only", binary], capture_output=True, text=True)
dem = subprocess.run(["nm", "-S", "-C", "--defined-only", binary], capture_output=True, text=True)
syms = []
for r, d in zip(raw.stdout.splitlines(), dem.stdout.splitlines()):
    p = r.split()
    if len(p) == 4 and p[2] in "tTwW":
        syms.append((int(p[0], 16), int(p[1], 16), p[3], d.split(None, 3)[3]))
syms.sort()
starts = [s[0] for s in syms]
chosen = {}
for a in sorted(ran):
    i = bisect.bisect_right(starts, a) - 1
    if i >= 0 and syms[i][0] <= a < syms[i][0] + syms[i][1]:
        chosen.setdefault(syms[i][2], syms[i])
for s in syms:
    if any(s[3].lstrip("<").startswith(p) for p in whole):
        chosen.setdefault(s[2], s)
size = sum(s[1] for s in chosen.values())
print(f"{len(chosen)} symbols, {size} bytes of code", file=sys.stderr)
ordered = [name for name, _ in sorted(chosen.items(), key=lambda kv: kv[1][0])]
if fmt == "order":
    print("\n".join(ordered))
    sys.exit()

def legacy_path(path):
    """`a::b` as the legacy mangling spells a path's start: `_ZN1a1b`."""
    return "_ZN" + "".join(f"{len(c)}{c}" for c in path.split("::"))

def pattern(name):
    """The section of function `name` (rustc puts each in `.text.<symbol>`) as a glob that
    leaves out what changes from build to build: the legacy mangling's final hash
    (`17h<16 hex digits>E`); in the v0 mangling (`_R...`, the standard library's), each crate's
    hash (`Cs<base-62>_`) and the back-references (`B<base-62>_`, offsets into the name,
    which move when a hash's length does). Other names (`main`, C functions) stay whole."""
    m = re.fullmatch(r"(_ZN.*)17h[0-9a-f]{16}E", name)
    if m:
        return f".text.{m.group(1)}17h*"
    if name.startswith("_R"):
        name = re.sub(r"B[0-9A-Za-z]*_", "B*_", re.sub(r"Cs[0-9A-Za-z]+_", "Cs*_", name))
    return f".text.{name}"

patterns = [pattern(name) for name in ordered]
# A whole module: its own functions (legacy `_ZN<path>`, v0 `...<path without the crate>`,
# which is the same run of components whether the crate is named or back-referenced), and
# every function whose name mentions it (trait impls, drop glue, generics over its types).
for path in whole:
    parts = path.split("::")
    v0 = "".join(f"{len(c)}{c}" for c in parts[1:] or parts)
    dots = "..".join(parts)
    patterns += [f".text.{legacy_path(path)}*", f".text._ZN*{dots}..*", f".text._R*{v0}*"]
patterns = list(dict.fromkeys(patterns))
print(f"{len(patterns)} patterns", file=sys.stderr)
print(f"""/* The code an isolated plugin's child runs (start, one call, idle), linked together.
 *
 * Generated by `FORMAT=ld bash bench/child-order.sh` from a callgrind profile of the child;
 * regenerate it when the child's code changes much (the script's header says when).
 * build.rs passes it to the link of `fastmcp-plugin-host` only, where the linker accepts it:
 * an INSERT script adds this output section to the default layout instead of replacing it.
 * A pattern that matches nothing costs only its part of the gain, never the build.
 * Why: an idle child's code Rss is the number of 64 KiB fault-around windows of its text it
 * touches (docs/performance.md, "Memory of an idle child"); tests/code_layout.rs
 * checks the section is there and holds the child's serve loop.
 */
SECTIONS
{{
  .text.child_hot :
  {{""")
for p in patterns:
    # LLVM puts a `#[cold]` function in `.text.unlikely.<symbol>`.
    print(f"    *({p} {p.replace('.text.', '.text.unlikely.', 1)})")
print("""  }
}
INSERT BEFORE .text;""")
PY
mv "$WORK/out" "$OUT"
echo "wrote $OUT" >&2
