#!/usr/bin/env bash
# Regenerates link/fastmcp.ld, the linker script that places the functions `fastmcp` runs to
# start, serve stateless tools/call requests and answer /health and /ready together at the
# front of its code, with the hot-reload watcher on as `fastmcp dev` runs by default (build.rs
# passes it to the linker). Why: the kernel maps up to 64 KiB of
# cached file pages around each page a process touches ("fault-around"), so an idle server's
# RSS is set by how many 64 KiB windows of its 12 MB binary start-up touched, not by how much
# code ran; scattered over the binary, the ~1.4 MB that runs kept ~6.8 MiB of it resident
# (docs/performance.md, "Code layout").
#
#   bash bench/link-order.sh        # profile a release build, write link/fastmcp.ld
#
# Re-run it when the idle RSS of `bench/run.sh` creeps up after large changes: the script's
# patterns leave out hashes and crate disambiguators, so it survives dependency and compiler
# updates, but functions that are new on the hot path are not in it until then. Needs valgrind.
# Talks to 127.0.0.1 only; every process started here is stopped.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CALLS=${CALLS:-300}
OUT=${OUT:-$ROOT/link/fastmcp.ld}
command -v valgrind >/dev/null || { echo "link-order.sh: valgrind is needed" >&2; exit 1; }
WORK=$(mktemp -d)
PID=""
cleanup() {
  [[ -n $PID ]] && kill -KILL "$PID" 2>/dev/null
  # A failed run leaves the script as it was.
  if [[ -f $WORK/previous.ld && ! -f $OUT ]]; then mv "$WORK/previous.ld" "$OUT"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# Profile a build without the script: callgrind names only code in `.text`, so the functions
# an older script grouped would show as unknown addresses and drop out of the new one.
if [[ -f $OUT ]]; then mv "$OUT" "$WORK/previous.ld"; fi
cargo build --release -p fastmcp -p calculator >&2
cargo build --release -p fastmcp-bench --bin benchctl >&2
REL=$ROOT/target/release
cp "$REL/fastmcp" "$REL/libcalculator.so" "$WORK/"
port=$("$REL/benchctl" port)
valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file="$WORK/cg.out" "$WORK/fastmcp" dev \
  "$WORK/libcalculator.so" --stateless true --port "$port" >"$WORK/server.log" 2>&1 &
PID=$!
"$REL/benchctl" wait-ready "127.0.0.1:$port" 120000 || { tail -5 "$WORK/server.log" >&2; exit 1; }
"$REL/benchctl" calls "127.0.0.1:$port" "$CALLS" >&2
curl -sf -m 10 "http://127.0.0.1:$port/health" >/dev/null
curl -sf -m 10 "http://127.0.0.1:$port/ready" >/dev/null
# callgrind writes its profile when the process ends on a catchable signal.
kill -INT "$PID"
for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
wait "$PID" 2>/dev/null || true
PID=""
python3 "$ROOT/bench/hot-functions.py" "$WORK/cg.out" "$WORK/fastmcp" .text.fastmcp_hot >"$WORK/new.ld"
mv "$WORK/new.ld" "$OUT"
echo "wrote $OUT; build again (cargo build --release) to link with it" >&2
