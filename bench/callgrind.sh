#!/usr/bin/env bash
# Instructions per stateless tools/call (calculate add 2 3), fastmcp against the ceiling, counted
# by valgrind's callgrind: repeatable for the same binaries whatever else the machine is doing,
# unlike timings. Each server runs under callgrind twice, serving N1 and then N2 sequential calls
# on one keep-alive connection (benchctl calls); (total(N2) - total(N1)) / (N2 - N1) is the cost
# of one call with start-up and shut-down cancelled out.
#
# Usage: bash bench/callgrind.sh            (N1=1000 N2=6000; SYSTEMS="fastmcp ceiling")
#   PROFILE=1  also keep the N2 profiles in target/callgrind/ for callgrind_annotate
#   FASTMCP_FLAGS="--inline-tools false"  extra fastmcp flags (that one: the worker-thread path)
#   PROTOCOL=2026-07-28  send that revision's requests (benchctl calls ADDR N 2026-07-28)
#   SYSTEMS="fastmcp-progress"  the context-tool path: fastmcp serving the test plugin, each call
#     of `progress_once` with a progressToken (benchctl calls ADDR N progress), answered as SSE
#   SYSTEMS="fastmcp-io"  the async-tool path: fastmcp serving the test plugin, each call of
#     `#[tool] async fn io_wait` with {"ms":0} (benchctl calls ADDR N io), so the count is what
#     starting, running and completing an async call costs, the plugin's runtime threads included
#   SYSTEMS="ceiling-io"  the ceiling in `io` mode answering the same io_wait {"ms":0} calls
#   BIN=DIR  use the release binaries in DIR (fastmcp, libcalculator.so, libtest_plugin.so,
#     benchctl, ceiling), no build
# Needs valgrind (apt-get install valgrind). Only 127.0.0.1 is used; every server is stopped.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
N1=${N1:-1000}
N2=${N2:-6000}
SYSTEMS=${SYSTEMS:-"fastmcp ceiling"}
PROFILE=${PROFILE:-0}
PROTOCOL=${PROTOCOL:-}
read -r -a EXTRA <<<"${FASTMCP_FLAGS:-}"
CARGO=${CARGO:-cargo}
log() { echo "== $*" >&2; }
die() { echo "callgrind.sh: $*" >&2; exit 1; }
((N2 > N1)) || die "N2 must be larger than N1"
command -v valgrind >/dev/null || die "valgrind is needed (apt-get install valgrind)"

if [[ -z ${BIN:-} ]]; then
  log "cargo build --release -p fastmcp -p calculator -p test-plugin; -p fastmcp-bench"
  "$CARGO" build --release -p fastmcp -p calculator -p test-plugin >&2
  # On its own, so that the bench crate's rmcp features are not unified into fastmcp's rmcp.
  "$CARGO" build --release -p fastmcp-bench >&2
  BIN="$ROOT/target/release"
fi
WORK=$(mktemp -d /tmp/fastmcp-callgrind.XXXXXX)
PID=""
cleanup() {
  [[ -n $PID ]] && kill -KILL "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cp "$BIN/libcalculator.so" "$WORK/"
if [[ " $SYSTEMS " == *" fastmcp-progress "* || " $SYSTEMS " == *" fastmcp-io "* ]]; then cp "$BIN/libtest_plugin.so" "$WORK/"; fi
OUT_DIR="$ROOT/target/callgrind"
mkdir -p "$OUT_DIR"

alive() { [[ -r /proc/$1/stat ]] && [[ $(sed 's/^.*) //' "/proc/$1/stat" | cut -d' ' -f1) != Z ]]; }

count() { # SYSTEM CALLS -> total instructions of the run
  local system=$1 calls=$2 port out="$WORK/cg.$1.$2" mode=${PROTOCOL:-}
  port=$("$BIN/benchctl" port)
  case $system in
    fastmcp) valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN/fastmcp" dev "$WORK/libcalculator.so" \
      --stateless true --watch false --port "$port" "${EXTRA[@]}" >"$WORK/$system.log" 2>&1 & ;;
    fastmcp-progress) mode=progress
      valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN/fastmcp" dev "$WORK/libtest_plugin.so" \
      --stateless true --watch false --port "$port" "${EXTRA[@]}" >"$WORK/$system.log" 2>&1 & ;;
    fastmcp-io) mode=io
      valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN/fastmcp" dev "$WORK/libtest_plugin.so" \
      --stateless true --watch false --port "$port" "${EXTRA[@]}" >"$WORK/$system.log" 2>&1 & ;;
    ceiling-io) mode=io
      valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN/ceiling" "$port" io >"$WORK/$system.log" 2>&1 & ;;
    ceiling) valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN/ceiling" "$port" >"$WORK/$system.log" 2>&1 & ;;
    *) die "unknown system $system" ;;
  esac
  PID=$!
  "$BIN/benchctl" wait-ready "127.0.0.1:$port" 120000 || die "$system did not start: $(tail -5 "$WORK/$system.log")"
  "$BIN/benchctl" calls "127.0.0.1:$port" "$calls" ${mode:+"$mode"} >/dev/null || die "$system: calls failed"
  # callgrind writes its counts when the process ends by itself or by a catchable signal.
  for sig in INT TERM KILL; do
    kill -"$sig" "$PID" 2>/dev/null || true
    for _ in $(seq 100); do alive "$PID" || break; sleep 0.1; done
  done
  wait "$PID" 2>/dev/null || true
  PID=""
  # Every thread's part (callgrind writes one file per process; --separate-threads is off).
  awk '/^(summary|totals):/ {print $2; exit}' "$out"
  if [[ $PROFILE == 1 && $calls == "$N2" ]]; then cp "$out" "$OUT_DIR/$system.callgrind.out"; fi
}

echo "| system | instructions per call | runs (calls: total instructions) |"
echo "|---|---|---|"
declare -A PER
for s in $SYSTEMS; do
  log "$s: $N1 and $N2 calls under callgrind"
  a=$(count "$s" "$N1")
  b=$(count "$s" "$N2")
  PER[$s]=$(( (b - a) / (N2 - N1) ))
  echo "| $s | ${PER[$s]} | $N1: $a; $N2: $b |"
done
if [[ -n ${PER[fastmcp]:-} && -n ${PER[ceiling]:-} ]]; then
  awk -v f="${PER[fastmcp]}" -v c="${PER[ceiling]}" 'BEGIN {printf "\nfastmcp / ceiling: %.2fx\n", f / c}'
fi
