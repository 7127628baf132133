#!/usr/bin/env bash
# Side-by-side benchmark of an I/O-bound tool: stateless MCP tools/call of io_wait {ms: 50}
# (the tool awaits a 50 ms timer and answers `waited 50 ms`) at several connection counts:
#   fastmcp  target/release/fastmcp dev libtest_plugin.so --stateless true: the test plugin's
#            `#[tool] async fn io_wait` on the plugin's own tokio runtime (issue 12)
#   fastmcp-isolated  the same with --isolate=true: io_wait runs in the plugin's child process,
#            the host awaits each reply without a thread (target >= 0.8x fastmcp at 1024)
#   rmcp     bench/src/bin/rmcp_io.rs: rmcp 3.11's `#[tool] async fn io_wait` + tokio::time::sleep,
#            StreamableHttpService without sessions, JSON responses
#   ts       TypeScript fastmcp (bench/ts/server.mjs): an `execute: async` tool awaiting a
#            setTimeout promise; httpStream, stateless, JSON responses
#   ceiling  bench/src/bin/ceiling.rs in `io` mode: bare axum + serde_json whose handler awaits
#            tokio::time::sleep and answers the same text; no MCP, no plugin. Its RSS per
#            in-flight call is what the HTTP stack (hyper's buffers, a task per connection)
#            costs any server built on it
#   fastmcp-hyper  the fastmcp server, but wrk sends 50 more header fields
#            (MCP_EXTRA_HEADERS=50), past the 48 that src/server/h1.rs takes: hyper serves every
#            request, so this is the A/B of the HTTP/1 layer in one binary
#   floor    bench/src/bin/floor_io.rs: no HTTP library, a tokio task per connection that reads
#            the request into a buffer sized to it, parses it with serde_json, sleeps and
#            writes the same text. Its RSS per in-flight call is the runtime's own cost (a
#            task, a timer, a socket registration): the ceiling minus it is hyper's and axum's
# One load generator (wrk + bench/wrk/call.lua, which checks every body for `waited 50 ms`),
# servers pinned to SERVER_CPU and wrk to GEN_CPU. Every run gets a fresh server process (so
# its memory figures are its own): start, one checked call, idle RSS, warm-up, measured run
# with VmRSS sampled every 0.1 s, stop. Runs are interleaved: per round, per level, A B C.
# Per run: req/s, p50/p99 latency, errors (bodies without the text, socket errors, timeouts),
# idle RSS, RSS under load (the largest sample), peak RSS (VmHWM), and RSS per in-flight call
# = (RSS under load - idle RSS) / connections. The report compares fastmcp with rmcp per level
# and marks the issue's targets: throughput >= 1.0x rmcp at each level, p50 <= 60 ms at 1024,
# RSS per in-flight call <= 16 KiB (at each level).
#
# Usage: bash bench/io.sh
# Knobs (environment): DURATION=10 ROUNDS=2 LEVELS="256 1024 4096" WARMUP=2 TIMEOUT=5
#   SERVER_CPU=0 GEN_CPU=1 SYSTEMS="fastmcp rmcp ts ceiling" WAIT_QUIET=0 KEEP_LOGS=0 BUILD=1
#   TIMEOUT     wrk's --timeout in seconds: a slower response counts as an error
#   BUILD=0     use the binaries already in target/release instead of building
#   WAIT_QUIET=S  wait up to S seconds for the 1-minute load average to drop to 1.0 first
#   KEEP_LOGS=1   keep the temp dir with server logs and raw wrk output
# Raises the soft `ulimit -n` to the hard limit (it fails if that is too low for the largest
# level). Prints a markdown report; a copy goes to target/bench-io-report.md. Only 127.0.0.1 is
# used; every loop and wait is bounded; every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
LEVELS=${LEVELS:-"256 1024 4096"}
WARMUP=${WARMUP:-2}
TIMEOUT=${TIMEOUT:-5}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
SYSTEMS=${SYSTEMS:-"fastmcp rmcp ts ceiling"}
WAIT_QUIET=${WAIT_QUIET:-0}
KEEP_LOGS=${KEEP_LOGS:-0}
BUILD=${BUILD:-1}
WAIT_MS=50 # the tool's argument; the targets are defined for it
EXPECT="waited $WAIT_MS ms"

die() { echo "bench/io.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
int_in() { # NAME VALUE MIN MAX
  [[ $2 =~ ^[0-9]+$ ]] && (($2 >= $3 && $2 <= $4)) || die "$1=$2: want an integer in $3..$4"
}
int_in DURATION "$DURATION" 1 600
int_in ROUNDS "$ROUNDS" 1 20
int_in WARMUP "$WARMUP" 0 60
int_in TIMEOUT "$TIMEOUT" 1 60
int_in SERVER_CPU "$SERVER_CPU" 0 1023
int_in GEN_CPU "$GEN_CPU" 0 1023
int_in WAIT_QUIET "$WAIT_QUIET" 0 3600
[[ -n $LEVELS ]] || die "LEVELS is empty"
MAX_LEVEL=0
for c in $LEVELS; do
  int_in "a level in LEVELS" "$c" 1 60000
  if ((c > MAX_LEVEL)); then MAX_LEVEL=$c; fi
done
for s in $SYSTEMS; do
  case $s in fastmcp | fastmcp-isolated | fastmcp-hyper | rmcp | ts | ceiling | floor) ;; *) die "unknown system $s (want fastmcp, fastmcp-isolated, fastmcp-hyper, rmcp, ts, ceiling or floor)" ;; esac
done
[[ -n $SYSTEMS ]] || die "SYSTEMS is empty"

# ---- file descriptors: each connection is one on the server and one on wrk -------------------
NEED_FDS=$((MAX_LEVEL + 512))
HARD_FDS=$(ulimit -Hn)
if [[ $HARD_FDS == unlimited ]]; then HARD_FDS=$(cat /proc/sys/fs/nr_open); fi
((HARD_FDS >= NEED_FDS)) || die "the hard limit of open files (ulimit -Hn) is $HARD_FDS; $MAX_LEVEL connections need $NEED_FDS. Raise it (as root: ulimit -Hn $NEED_FDS, or /etc/security/limits.conf) or lower LEVELS"
ulimit -n "$HARD_FDS" || die "could not raise ulimit -n to $HARD_FDS"

WORK=$(mktemp -d /tmp/fastmcp-bench-io.XXXXXX)
# At most one server and one wrk run at a time; each variable is cleared once its process has
# been waited for, so cleanup never signals a pid that may have been reused.
SERVER_PID=""
WRK_PID=""
stop_pid() { # PID: SIGTERM, then SIGKILL after 5 s; waits for it
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  if [[ -n $WRK_PID ]]; then stop_pid "$WRK_PID"; fi
  if [[ -n $SERVER_PID ]]; then stop_pid "$SERVER_PID"; fi
  if [[ $KEEP_LOGS == 1 ]]; then echo "logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build --------------------------------------------------------------------------------------
CARGO=${CARGO:-cargo}
FASTMCP_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$ROOT" status --porcelain -- src tool-plugins Cargo.toml 2>/dev/null)" ]]; then
  FASTMCP_REV="$FASTMCP_REV + uncommitted changes"
fi
if [[ $BUILD == 1 ]]; then
  # Two invocations: built together, the bench crate's rmcp features (server, macros, HTTP
  # transport) would unify into the rmcp that the measured fastmcp binary links.
  log "cargo build --release -p fastmcp -p test-plugin; cargo build --release -p fastmcp-bench (fastmcp $FASTMCP_REV)"
  "$CARGO" build --release -p fastmcp -p test-plugin
  "$CARGO" build --release -p fastmcp-bench --bin rmcp_io --bin benchctl --bin ceiling --bin floor_io
fi
BUILT="$ROOT/target/release"
mkdir -p "$WORK/bin" "$WORK/plugin"
# Private copies: a rebuild in target/ during the run changes nothing here, and fastmcp's
# watcher (on by default) watches a quiet directory.
# fastmcp-plugin-host beside fastmcp, as installed: fastmcp-isolated runs its plugin in it.
for f in fastmcp fastmcp-plugin-host rmcp_io benchctl ceiling floor_io; do
  [[ -x $BUILT/$f ]] || die "$BUILT/$f is missing (run with BUILD=1)"
  cp "$BUILT/$f" "$WORK/bin/"
done
[[ -f $BUILT/libtest_plugin.so ]] || die "$BUILT/libtest_plugin.so is missing (run with BUILD=1)"
cp "$BUILT/libtest_plugin.so" "$WORK/plugin/"
BENCHCTL="$WORK/bin/benchctl"
LUA="$ROOT/bench/wrk/call.lua"

# ---- tools ----------------------------------------------------------------------------------------
command -v curl >/dev/null || die "curl is needed for the one-call check of each server"
if ! command -v wrk >/dev/null; then
  log "installing wrk (apt-get)"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq >&2 || true
  $SUDO apt-get install -y -qq wrk >&2 || die "wrk is missing and could not be installed"
fi
TS_VERSION=""
if [[ " $SYSTEMS " == *" ts "* ]]; then
  command -v node >/dev/null || die "node is needed for the TypeScript server (or drop ts from SYSTEMS)"
  if [[ ! -d bench/ts/node_modules/fastmcp || bench/ts/package-lock.json -nt bench/ts/node_modules/.package-lock.json ]]; then
    log "npm ci in bench/ts"
    (cd bench/ts && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  TS_VERSION=$(node -p 'require("./bench/ts/node_modules/fastmcp/package.json").version')
fi

# ---- helpers ----------------------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }  # utime + stime
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }     # VmRSS, VmHWM
load1() { cut -d' ' -f1 /proc/loadavg; }

launch() { # NAME PORT: starts the server pinned to SERVER_CPU; sets SERVER_PID
  local out="$WORK/$1-$2.log"
  case $1 in
    # --max-connections above the level: the default (1024) would refuse the 4096 level.
    fastmcp | fastmcp-hyper) taskset -c "$SERVER_CPU" "$WORK/bin/fastmcp" dev "$WORK/plugin/libtest_plugin.so" --stateless true --max-connections $((MAX_LEVEL + 64)) --port "$2" >"$out" 2>&1 & ;;
    fastmcp-isolated) taskset -c "$SERVER_CPU" "$WORK/bin/fastmcp" dev "$WORK/plugin/libtest_plugin.so" --stateless true --isolate=true --max-connections $((MAX_LEVEL + 64)) --port "$2" >"$out" 2>&1 & ;;
    rmcp) taskset -c "$SERVER_CPU" "$WORK/bin/rmcp_io" "$2" >"$out" 2>&1 & ;;
    ceiling) taskset -c "$SERVER_CPU" "$WORK/bin/ceiling" "$2" io >"$out" 2>&1 & ;;
    floor) taskset -c "$SERVER_CPU" "$WORK/bin/floor_io" "$2" >"$out" 2>&1 & ;;
    ts) taskset -c "$SERVER_CPU" node "$ROOT/bench/ts/server.mjs" "$2" >"$out" 2>&1 & ;;
  esac
  SERVER_PID=$!
}

check() { # NAME PORT: one tools/call, which must answer the expected text
  local body
  body=$(curl -sS -m 10 "http://127.0.0.1:$2/mcp" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"io_wait\",\"arguments\":{\"ms\":$WAIT_MS}}}" 2>&1) || true
  [[ $body == *"$EXPECT"* ]] || die "$1 does not answer '$EXPECT' to io_wait {ms: $WAIT_MS}: $body"
}

# wrk against 127.0.0.1:PORT for SECONDS with CONNECTIONS, output to OUT. While it runs, samples
# the server's VmRSS every 0.1 s: sets RSS_MAX_KIB to the largest sample.
RSS_MAX_KIB=0
wrk_run() { # PORT CONNECTIONS SECONDS OUT SYSTEM
  local rc=0 k done=0 extra=0
  [[ $5 == fastmcp-hyper ]] && extra=50
  MCP_TOOL=io_wait MCP_ARGS="{\"ms\":$WAIT_MS}" MCP_EXPECT="$EXPECT" MCP_EXTRA_HEADERS=$extra \
    taskset -c "$GEN_CPU" wrk -t1 -c"$2" -d"$3"s --timeout "${TIMEOUT}s" -s "$LUA" "http://127.0.0.1:$1/mcp" >"$4" 2>&1 &
  WRK_PID=$!
  RSS_MAX_KIB=0
  for _ in $(seq $((($3 + 30) * 10))); do
    kill -0 "$WRK_PID" 2>/dev/null || { done=1; break; }
    k=$(status_kib "$SERVER_PID" VmRSS 2>/dev/null) || k=0
    if ((k > RSS_MAX_KIB)); then RSS_MAX_KIB=$k; fi
    sleep 0.1
  done
  ((done == 1)) || die "wrk did not finish within $(($3 + 30)) s"
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  ((rc == 0)) || die "wrk failed: $(cat "$4")"
}

# ---- one measured run -----------------------------------------------------------------------------
RUNS="$WORK/runs.tsv"
: >"$RUNS"
SAMPLES="$WORK/samples.txt"
: >"$SAMPLES"
run_one() { # ROUND LEVEL SYSTEM: fresh server, idle RSS, warm-up, measured run; appends to RUNS
  local r=$1 c=$2 s=$3 port out idle peak t0 t1 line
  port=$("$BENCHCTL" port)
  launch "$s" "$port"
  "$BENCHCTL" wait-ready "127.0.0.1:$port" 30000 || die "$s did not become ready: $(tail -5 "$WORK/$s-$port.log")"
  check "$s" "$port"
  sleep 1
  idle=$(status_kib "$SERVER_PID" VmRSS)
  if ((WARMUP > 0)); then
    wrk_run "$port" "$c" "$WARMUP" "$WORK/warmup-$r-$c-$s.txt" "$s"
  fi
  out="$WORK/round$r-$c-$s.txt"
  log "round $r/$ROUNDS: $s, $c connections (${DURATION}s)"
  t0=$(cpu_ticks "$SERVER_PID")
  wrk_run "$port" "$c" "$DURATION" "$out" "$s"
  t1=$(cpu_ticks "$SERVER_PID")
  # The kernel updates VmHWM lazily (it can lag a VmRSS sample): the peak is the larger.
  peak=$(status_kib "$SERVER_PID" VmHWM)
  if ((RSS_MAX_KIB > peak)); then peak=$RSS_MAX_KIB; fi
  stop_pid "$SERVER_PID"
  SERVER_PID=""
  line=$(grep '^BENCH ' "$out") || die "no BENCH line from wrk for $s: $(cat "$out")"
  if grep -q '^BENCH_SAMPLE' "$out"; then
    log "$s ($c connections): first bad response: $(grep '^BENCH_SAMPLE' "$out")"
    echo "- $s, $c connections, round $r: $(grep '^BENCH_SAMPLE' "$out" | cut -c14- | cut -c1-200)" >>"$SAMPLES"
  fi
  # round level system requests req/s p50_ms p99_ms bad socket_errors timeouts idle_kib load_kib
  # peak_kib kib_per_call server_cpu% load1
  echo "$line" | awk -v r="$r" -v c="$c" -v s="$s" -v idle="$idle" -v load="$RSS_MAX_KIB" -v peak="$peak" \
    -v dt=$((t1 - t0)) -v tck="$CLK_TCK" -v l="$(load1)" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
    END {
      req = f["requests"]; secs = f["duration_us"] / 1e6
      printf "%d\t%d\t%s\t%d\t%.0f\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.0f\t%s\n", r, c, s, req, req / secs,
        f["p50_us"] / 1000, f["p99_us"] / 1000, f["bad"], f["connect"] + f["read"] + f["write"], f["timeout"],
        idle, load, peak, (load - idle) / c, 100 * dt / tck / secs, l
    }' >>"$RUNS"
}

# ---- wait for a quiet machine (optional, bounded) ---------------------------------------------------
if ((WAIT_QUIET > 0)); then
  log "waiting up to ${WAIT_QUIET}s for the 1-minute load average to reach 1.0 (now $(load1))"
  for _ in $(seq $((WAIT_QUIET / 5))); do
    awk -v l="$(load1)" 'BEGIN {exit !(l <= 1.0)}' && break
    sleep 5
  done
fi

NPROC=$(nproc)
MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
KERNEL=$(uname -r)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(load1)
SOMAXCONN=$(cat /proc/sys/net/core/somaxconn 2>/dev/null || echo "?")
log "machine: $NPROC cpus, $MODEL, kernel $KERNEL; load average $LOAD_START; ulimit -n $(ulimit -n)"
if awk -v l="$LOAD_START" 'BEGIN {exit !(l > 0.5)}'; then
  log "warning: 1-minute load average is $LOAD_START before starting; figures will be noisy"
fi

for r in $(seq "$ROUNDS"); do
  for c in $LEVELS; do
    for s in $SYSTEMS; do run_one "$r" "$c" "$s"; done
  done
done

# ---- report -----------------------------------------------------------------------------------------
# Means over rounds per (level, system); errors summed; peak RSS the largest.
awk -F'\t' '
  { k = $2 "\t" $3; n[k]++; rps[k] += $5; p50[k] += $6; p99[k] += $7; err[k] += $8 + $9 + $10
    idle[k] += $11; load[k] += $12; if ($13 > peak[k]) peak[k] = $13; per[k] += $14; cpu[k] += $15 }
  END { for (k in n) printf "%s\t%.0f\t%.1f\t%.1f\t%d\t%.1f\t%.1f\t%.1f\t%.2f\t%.0f\n", k, rps[k] / n[k],
    p50[k] / n[k], p99[k] / n[k], err[k], idle[k] / n[k] / 1024, load[k] / n[k] / 1024, peak[k] / 1024, per[k] / n[k], cpu[k] / n[k] }
' "$RUNS" >"$WORK/summary.tsv"
# summary.tsv: level system req/s p50_ms p99_ms errors idle_mib load_mib peak_mib kib_per_call cpu%
field() { awk -F'\t' -v c="$1" -v s="$2" -v i="$3" '$1 == c && $2 == s {print $i}' "$WORK/summary.tsv"; }

summary_table() {
  echo "| connections | system | req/s | × rmcp | p50 ms | p99 ms | errors | RSS idle MiB | RSS under load MiB | RSS peak MiB | KiB per in-flight call | server CPU % |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  local c s base
  for c in $LEVELS; do
    base=$(field "$c" rmcp 3)
    for s in $SYSTEMS; do
      # No answer within the run: no latency to show.
      field "$c" "$s" 0 | awk -F'\t' -v base="$base" '{ if ($3 == 0) { $4 = "-"; $5 = "-" }
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3,
          (base > 0 ? sprintf("%.2f", $3 / base) : "-"), $4, $5, $6, $7, $8, $9, $10, $11 }'
    done
  done
}

targets_table() {
  local c f r p50 per ok
  echo "| target | measured | met |"
  echo "|---|---|---|"
  for c in $LEVELS; do
    f=$(field "$c" fastmcp 3); r=$(field "$c" rmcp 3)
    if [[ -n $f && -n $r ]]; then
      awk -v c="$c" -v f="$f" -v r="$r" 'BEGIN { x = r > 0 ? f / r : 0
        printf "| throughput >= 1.0x rmcp at %d connections | %.3fx (%d vs %d req/s) | %s |\n", c, x, f, r, (x >= 1.0 ? "met" : "**not met**") }'
    fi
  done
  p50=$(field 1024 fastmcp 4)
  if [[ -n $p50 ]]; then
    awk -v p="$p50" 'BEGIN { printf "| p50 <= 60 ms at 1024 connections | %.1f ms | %s |\n", p, (p <= 60 ? "met" : "**not met**") }'
  else
    echo "| p50 <= 60 ms at 1024 connections | not measured (1024 not in LEVELS, or fastmcp not in SYSTEMS) | - |"
  fi
  for c in $LEVELS; do
    per=$(field "$c" fastmcp 10)
    [[ -n $per ]] || continue
    awk -v c="$c" -v p="$per" 'BEGIN {
      printf "| RSS per in-flight call <= 16 KiB at %d connections | %.2f KiB | %s |\n", c, p, (p <= 16 ? "met" : "**not met**") }'
  done
}

report() {
  echo "## Results: I/O-bound tools (\`io_wait {ms: $WAIT_MS}\`, stateless)"
  echo
  echo "- Date: $DATE"
  echo "- Command: \`DURATION=$DURATION ROUNDS=$ROUNDS LEVELS=\"$LEVELS\" bash bench/io.sh\`"
  echo "- Machine: $NPROC CPUs ($MODEL), kernel $KERNEL, somaxconn $SOMAXCONN, ulimit -n $(ulimit -n); servers on CPU $SERVER_CPU, wrk on CPU $GEN_CPU"
  echo "- fastmcp: $FASTMCP_REV (release build), test plugin; rmcp 3.11.0 (\`bench/src/bin/rmcp_io.rs\`); TypeScript fastmcp ${TS_VERSION:-n/a} on node $(node --version 2>/dev/null || echo n/a); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "- Load: wrk -t1 -c<level> -d${DURATION}s --timeout ${TIMEOUT}s, a fresh server per run with a ${WARMUP}s warm-up, $ROUNDS interleaved rounds; 1-minute load average $LOAD_START at start"
  echo
  echo "### Summary (means over rounds; errors summed; peak the largest)"
  echo
  summary_table
  echo
  if [[ -s $SAMPLES ]]; then
    echo "First bad response of each run that had one:"
    echo
    cat "$SAMPLES"
    echo
  fi
  echo "### Targets (issue 12)"
  echo
  targets_table
  echo
  echo "### Per run"
  echo
  echo "| round | connections | system | requests | req/s | p50 ms | p99 ms | bad bodies | socket errors | timeouts | RSS idle MiB | RSS under load MiB | RSS peak MiB | KiB per in-flight call | server CPU % | load avg (1 min) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '{ if ($4 == 0) { $6 = "-"; $7 = "-" }
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f | %.1f | %.1f | %s | %s | %s |\n",
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 / 1024, $12 / 1024, $13 / 1024, $14, $15, $16 }' "$RUNS"
}

report | tee "$ROOT/target/bench-io-report.md"
