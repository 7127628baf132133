#!/usr/bin/env bash
# Profiles which functions of `fastmcp-plugin-host` an isolated plugin's child runs (start, one
# call, idle) and writes them as an lld symbol ordering file, so a link can place them together:
# an idle child's code Rss is decided by how many 64 KiB fault-around windows of its text it
# touches, not by how much code it runs (docs/performance.md, "Memory of an idle child").
#
#   bash bench/child-order.sh                    # -> target/release/plugin-host.order
#   touch src/bin/plugin_host.rs && cargo rustc --release -p fastmcp --bin fastmcp-plugin-host \
#     -- -C link-arg=-Wl,--symbol-ordering-file=$PWD/target/release/plugin-host.order
#   bash bench/child-rss.sh
#
# Needs valgrind (callgrind) and the release build that `cargo rustc` above relinks: the order
# file names mangled symbols, whose hashes change with the dependencies' features, so build the
# profiled binary with the same `cargo rustc -p fastmcp` command first. Valgrind cannot run the
# seccomp filter, so the profile runs with --plugin-allow-net true; the sandbox's and
# seccompiler's functions are added whole. Talks to 127.0.0.1 only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REL=${REL:-$ROOT/target/release}
OUT=${OUT:-$REL/plugin-host.order}
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
HOOK="callgrind_control -d" EXTRA="--plugin-allow-net true" SETTLE=5 FASTMCP_BIN="$WORK/fastmcp" \
  CALC_SO="$WORK/libcalculator.so" bash "$ROOT/bench/child-rss.sh" >/dev/null
profile=$(ls "$WORK"/cg.*.1 | head -1)
python3 - "$profile" "$WORK/fastmcp-plugin-host.real" fastmcp::sandbox seccompiler >"$OUT" <<'PY'
"""Symbols of the binary whose code the callgrind profile ran, in address order."""
import bisect, re, subprocess, sys
profile, binary, *whole = sys.argv[1:]
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
for name, _ in sorted(chosen.items(), key=lambda kv: kv[1][0]):
    print(name)
PY
echo "wrote $OUT" >&2
