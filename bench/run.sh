#!/usr/bin/env bash
# Side-by-side benchmark of stateless MCP tools/call (calculate add 2 3 -> "Result: 5"):
#   fastmcp            target/release/fastmcp + libcalculator.so, --stateless true (defaults otherwise)
#   ceiling            bench/src/bin/ceiling.rs: minimal axum + serde_json, same response shape
#   ts                 TypeScript fastmcp 4.20.16 (bench/ts), httpStream, stateless, JSON responses
#   fastmcp-stateful   fastmcp without --stateless, every request on one initialized session
#   fastmcp-workers    fastmcp --stateless true --inline-tools false (diagnostic: every call
#                      handed to the plugin's worker threads, as tools with a Context are)
#   fastmcp-progress   the context-tool target: the same fastmcp binary serving the test plugin,
#                      --stateless true; each call of PROGRESS_TOOL carries a progressToken, so the
#                      tool's progress notification turns the answer into an SSE stream
#                      (bench/wrk/call.lua checks for the progress event, then the result).
#                      Compared with `fastmcp` (the pure inline path): target >= 0.7x.
#   fastmcp-isolated   fastmcp --stateless true --isolate: the calculator in a supervised child
#                      process (every call a frame over a socket pair); targets vs `fastmcp`:
#                      >= 0.5x req/s, p99 <= 2x; cold start <= 15 ms
# One load generator (wrk + bench/wrk/tools-call.lua, which checks every body for "Result: 5"),
# servers pinned to SERVER_CPU and wrk to GEN_CPU, runs interleaved (A B C ... A B C ...).
# Also: cold start (spawn -> /ready 200, median of COLD_RUNS), RSS idle/peak, server CPU time
# per request, RSS growth per idle stateful session, and the FFI micro-benchmark (criterion).
#
# Usage: bash bench/run.sh
# Knobs (environment): DURATION=10 ROUNDS=2 CONNECTIONS=64 WARMUP=2 COLD_RUNS=5 SESSIONS=1000
#   SERVER_CPU=0 GEN_CPU=1 FFI=1
#   SYSTEMS="fastmcp ceiling ts fastmcp-stateful fastmcp-workers fastmcp-progress fastmcp-isolated"
#   PROGRESS_TOOL=progress_once  the test plugin's tool for fastmcp-progress: `progress_once {}`
#                 (#[tool(inline)] with a Context: one progress notification, run inline for
#                 stateless requests), `sleep` (`sleep {ms: 0, steps: 1}`, a sync tool with a
#                 Context on the worker threads: one progress and one log message, no wait) or
#                 `io_progress` (`io_progress {steps: 1}`, async: one progress notification after a
#                 1 ms timer, which bounds it at CONNECTIONS per ms or so)
#   REV=<commit>  benchmark fastmcp + calculator + test plugin of that commit (git archive into a temp dir,
#                 built in target/bench-rev) instead of the work tree
#   WAIT_QUIET=S  after building, wait up to S seconds for the 1-minute load average to drop
#                 to 1.0 or below before measuring (default 0: do not wait)
#   KEEP_LOGS=1   keep the temp dir with server logs and raw wrk output
#   BUILD=0       use the binaries already in target/release instead of building (not with REV)
# Prints a markdown report; a copy goes to target/bench-report.md. Only 127.0.0.1 is used;
# every loop and wait is bounded; every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
CONNECTIONS=${CONNECTIONS:-64}
WARMUP=${WARMUP:-2}
COLD_RUNS=${COLD_RUNS:-5}
SESSIONS=${SESSIONS:-1000}
SERVER_CPU=${SERVER_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
FFI=${FFI:-1}
SYSTEMS=${SYSTEMS:-"fastmcp ceiling ts fastmcp-stateful fastmcp-workers fastmcp-progress fastmcp-isolated"}
PROGRESS_TOOL=${PROGRESS_TOOL:-progress_once}
REV=${REV:-}
KEEP_LOGS=${KEEP_LOGS:-0}
WAIT_QUIET=${WAIT_QUIET:-0}
BUILD=${BUILD:-1}

die() { echo "bench/run.sh: $*" >&2; exit 1; }
int_in() { # NAME VALUE MIN MAX
  [[ $2 =~ ^[0-9]+$ ]] && (($2 >= $3 && $2 <= $4)) || die "$1=$2: want an integer in $3..$4"
}
int_in DURATION "$DURATION" 1 600
int_in ROUNDS "$ROUNDS" 1 20
int_in CONNECTIONS "$CONNECTIONS" 1 10000
int_in WARMUP "$WARMUP" 0 60
int_in COLD_RUNS "$COLD_RUNS" 1 50
int_in SESSIONS "$SESSIONS" 1 100000
int_in SERVER_CPU "$SERVER_CPU" 0 1023
int_in GEN_CPU "$GEN_CPU" 0 1023
int_in WAIT_QUIET "$WAIT_QUIET" 0 3600
for s in $SYSTEMS; do
  case $s in fastmcp | ceiling | ts | fastmcp-stateful | fastmcp-workers | fastmcp-progress | fastmcp-isolated) ;; *) die "unknown system $s" ;; esac
done
case $PROGRESS_TOOL in
  progress_once) PROGRESS_ARGS='{}' PROGRESS_EXPECT="progressed once" ;;
  sleep) PROGRESS_ARGS='{"ms":0,"steps":1}' PROGRESS_EXPECT="slept 0 ms" ;;
  io_progress) PROGRESS_ARGS='{"steps":1}' PROGRESS_EXPECT="sent 1 progress notifications" ;;
  *) die "PROGRESS_TOOL=$PROGRESS_TOOL: want progress_once, sleep or io_progress" ;;
esac
log() { echo "== $*" >&2; }

WORK=$(mktemp -d /tmp/fastmcp-bench.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ $KEEP_LOGS == 1 ]]; then echo "logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build ------------------------------------------------------------------------------
CARGO=${CARGO:-cargo}
mkdir -p "$WORK/bin" "$WORK/plugin"
if [[ -n $REV ]]; then
  # The commit's server and plugins, with this work tree's bench/ (so old commits can be
  # measured by the same harness), built in their own target dir.
  SRC="$WORK/src"
  TARGET="$ROOT/target/bench-rev"
  mkdir -p "$SRC"
  git -C "$ROOT" archive "$REV" | tar -x -C "$SRC"
  rm -rf "$SRC/bench"
  mkdir -p "$SRC/bench"
  cp -r "$ROOT/bench/Cargo.toml" "$ROOT/bench/src" "$ROOT/bench/benches" "$SRC/bench/"
  FASTMCP_REV="$(git -C "$ROOT" rev-parse --short "$REV")"
else
  SRC="$ROOT"
  TARGET="$ROOT/target"
  FASTMCP_REV="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git -C "$ROOT" status --porcelain -- src tool-plugins Cargo.toml 2>/dev/null)" ]]; then
    FASTMCP_REV="$FASTMCP_REV + uncommitted changes"
  fi
fi
# Two invocations: built together, the bench crate's rmcp features (for bin rmcp_io) would
# unify into the rmcp that the measured fastmcp binary links.
if [[ $BUILD == 1 || -n $REV ]]; then
  log "cargo build --release -p fastmcp -p calculator -p test-plugin; -p fastmcp-bench (fastmcp $FASTMCP_REV)"
  (cd "$SRC" && CARGO_TARGET_DIR="$TARGET" "$CARGO" build --release -p fastmcp -p calculator -p test-plugin)
  (cd "$SRC" && CARGO_TARGET_DIR="$TARGET" "$CARGO" build --release -p fastmcp-bench)
fi
BUILT="$TARGET/release"
# Private copies: a rebuild in target/ during the run changes nothing here, and fastmcp's
# watcher (on by default) watches a quiet directory.
# With the child binary beside it, as installed: fastmcp-isolated runs its plugin in it.
cp "$BUILT/fastmcp" "$BUILT/fastmcp-plugin-host" "$WORK/bin/"
cp "$BUILT/libcalculator.so" "$WORK/plugin/libcalculator.so"
cp "$BUILT/libtest_plugin.so" "$WORK/plugin/libtest_plugin.so"
cp "$BUILT/ceiling" "$BUILT/benchctl" "$WORK/bin/"
FASTMCP_BIN="$WORK/bin/fastmcp"
CALC_SO="$WORK/plugin/libcalculator.so"
TEST_SO="$WORK/plugin/libtest_plugin.so"
CEILING="$WORK/bin/ceiling"
BENCHCTL="$WORK/bin/benchctl"
LUA="$ROOT/bench/wrk/tools-call.lua"
CALL_LUA="$ROOT/bench/wrk/call.lua"

# ---- tools ------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  log "installing wrk (apt-get)"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq >&2 || true
  $SUDO apt-get install -y -qq wrk >&2 || die "wrk is missing and could not be installed"
fi
if [[ " $SYSTEMS " == *" fastmcp-progress "* ]]; then
  command -v curl >/dev/null || die "curl is needed for the one-call check of fastmcp-progress"
fi
if [[ " $SYSTEMS " == *" ts "* ]]; then
  command -v node >/dev/null || die "node is needed for the TypeScript server (or drop ts from SYSTEMS)"
  if [[ ! -d bench/ts/node_modules/fastmcp || bench/ts/package-lock.json -nt bench/ts/node_modules/.package-lock.json ]]; then
    log "npm ci in bench/ts"
    (cd bench/ts && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  TS_VERSION=$(node -p 'require("./bench/ts/node_modules/fastmcp/package.json").version')
fi

# ---- helpers ----------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }  # utime + stime
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }     # VmRSS, VmHWM
ctx_switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ {n += $2} END {print n + 0}'; }
load1() { cut -d' ' -f1 /proc/loadavg; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

declare -A PORT PID IDLE_KIB COLD_MS
SESSION_ID=""

launch() { # NAME PORT: starts the server pinned to SERVER_CPU; sets PID[NAME]
  local name=$1 port=$2 out="$WORK/$1.log"
  case $name in
    fastmcp) taskset -c "$SERVER_CPU" "$FASTMCP_BIN" dev "$CALC_SO" --stateless true --port "$port" >"$out" 2>&1 & ;;
    fastmcp-workers) taskset -c "$SERVER_CPU" "$FASTMCP_BIN" dev "$CALC_SO" --stateless true --inline-tools false --port "$port" >"$out" 2>&1 & ;;
    fastmcp-isolated) taskset -c "$SERVER_CPU" "$FASTMCP_BIN" dev "$CALC_SO" --stateless true --isolate=true --port "$port" >"$out" 2>&1 & ;;
    fastmcp-progress) taskset -c "$SERVER_CPU" "$FASTMCP_BIN" dev "$TEST_SO" --stateless true --port "$port" >"$out" 2>&1 & ;;
    fastmcp-stateful | sessions) taskset -c "$SERVER_CPU" "$FASTMCP_BIN" dev "$CALC_SO" --port "$port" >"$out" 2>&1 & ;;
    ceiling) taskset -c "$SERVER_CPU" "$CEILING" "$port" >"$out" 2>&1 & ;;
    ts) taskset -c "$SERVER_CPU" node "$ROOT/bench/ts/server.mjs" "$port" >"$out" 2>&1 & ;;
  esac
  PID[$name]=$!
  PIDS+=("${PID[$name]}")
}

stop() { # NAME
  local pid=${PID[$1]}
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cold_start() { # NAME -> median ms
  local b=("$BENCHCTL" cold-start --runs "$COLD_RUNS" --cpu "$SERVER_CPU" --)
  case $1 in
    fastmcp) taskset -c "$GEN_CPU" "${b[@]}" "$FASTMCP_BIN" dev "$CALC_SO" --stateless true --port '{port}' ;;
    fastmcp-stateful) taskset -c "$GEN_CPU" "${b[@]}" "$FASTMCP_BIN" dev "$CALC_SO" --port '{port}' ;;
    fastmcp-isolated) taskset -c "$GEN_CPU" "${b[@]}" "$FASTMCP_BIN" dev "$CALC_SO" --stateless true --isolate=true --port '{port}' ;;
    ceiling) taskset -c "$GEN_CPU" "${b[@]}" "$CEILING" '{port}' ;;
    ts) taskset -c "$GEN_CPU" "${b[@]}" node "$ROOT/bench/ts/server.mjs" '{port}' ;;
  esac >"$WORK/cold-$1.txt"
  sed -n 's/^median_ms=//p' "$WORK/cold-$1.txt"
}

check_progress() { # PORT: one call of PROGRESS_TOOL must answer a stream with progress, then result
  local body
  body=$(curl -sS -m 10 "http://127.0.0.1:$1/mcp" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"$PROGRESS_TOOL\",\"arguments\":$PROGRESS_ARGS,\"_meta\":{\"progressToken\":1}}}" 2>&1) || true
  [[ $body == *'"method":"notifications/progress"'*"$PROGRESS_EXPECT"* ]] ||
    die "fastmcp-progress: $PROGRESS_TOOL $PROGRESS_ARGS did not answer a progress event, then '$PROGRESS_EXPECT': $body"
}

WRK_TICKS=0
wrk_run() { # NAME SECONDS OUT; sets WRK_TICKS (wrk's CPU time, sampled every 0.1 s)
  local name=$1 url="http://127.0.0.1:${PORT[$1]}/mcp" envs=() lua=$LUA wpid t rc=0
  if [[ $name == fastmcp-stateful ]]; then
    # Unique JSON-RPC ids: a session may track its in-flight requests by id.
    envs=(MCP_SESSION_ID="$SESSION_ID" MCP_UNIQUE_IDS=1)
  elif [[ $name == fastmcp-progress ]]; then
    envs=(MCP_TOOL="$PROGRESS_TOOL" MCP_ARGS="$PROGRESS_ARGS" MCP_EXPECT="$PROGRESS_EXPECT" MCP_PROGRESS=1)
    lua=$CALL_LUA
  fi
  env "${envs[@]}" taskset -c "$GEN_CPU" wrk -t1 -c"$CONNECTIONS" -d"$2"s --timeout 5s -s "$lua" "$url" >"$3" 2>&1 &
  wpid=$!
  WRK_TICKS=0
  for _ in $(seq $((($2 + 30) * 10))); do
    t=$(cpu_ticks "$wpid" 2>/dev/null) || break
    WRK_TICKS=$t
    sleep 0.1
  done
  wait "$wpid" || rc=$?
  ((rc == 0)) || die "wrk failed against $name: $(cat "$3")"
}

# ---- wait for a quiet machine (optional, bounded) -----------------------------------------------
if ((WAIT_QUIET > 0)); then
  log "waiting up to ${WAIT_QUIET}s for the 1-minute load average to reach 1.0 (now $(load1))"
  for _ in $(seq $((WAIT_QUIET / 5))); do
    awk -v l="$(load1)" 'BEGIN {exit !(l <= 1.0)}' && break
    sleep 5
  done
fi

# ---- machine ----------------------------------------------------------------------------
NPROC=$(nproc)
MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
KERNEL=$(uname -r)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(load1)
log "machine: $NPROC cpus, $MODEL, kernel $KERNEL; load average $LOAD_START"
if awk -v l="$LOAD_START" 'BEGIN {exit !(l > 0.5)}'; then
  log "warning: 1-minute load average is $LOAD_START before starting; figures will be noisy"
fi

# ---- cold start ---------------------------------------------------------------------------
for s in $SYSTEMS; do
  [[ $s == fastmcp-workers || $s == fastmcp-progress ]] && continue
  log "cold start: $s ($COLD_RUNS spawns)"
  COLD_MS[$s]=$(cold_start "$s")
done

# ---- start the servers ----------------------------------------------------------------------
for s in $SYSTEMS; do
  PORT[$s]=$("$BENCHCTL" port)
  launch "$s" "${PORT[$s]}"
  "$BENCHCTL" wait-ready "127.0.0.1:${PORT[$s]}" 30000 || die "$s did not become ready: $(tail -5 "$WORK/$s.log")"
  if [[ $s == fastmcp-stateful ]]; then
    SESSION_ID=$("$BENCHCTL" init "127.0.0.1:${PORT[$s]}") || die "initialize failed on $s"
    "$BENCHCTL" check "127.0.0.1:${PORT[$s]}" "$SESSION_ID" >/dev/null || die "$s does not answer Result: 5"
  elif [[ $s == fastmcp-progress ]]; then
    check_progress "${PORT[$s]}"
  else
    "$BENCHCTL" check "127.0.0.1:${PORT[$s]}" >/dev/null || die "$s does not answer Result: 5"
  fi
  log "$s ready on 127.0.0.1:${PORT[$s]} (pid ${PID[$s]})"
done
sleep 1
for s in $SYSTEMS; do IDLE_KIB[$s]=$(status_kib "${PID[$s]}" VmRSS); done

# ---- load: warm-up, then interleaved rounds ----------------------------------------------------
if ((WARMUP > 0)); then
  for s in $SYSTEMS; do
    log "warm-up $s (${WARMUP}s)"
    wrk_run "$s" "$WARMUP" "$WORK/warmup-$s.txt"
  done
fi
RUNS="$WORK/runs.tsv"
: >"$RUNS"
for r in $(seq "$ROUNDS"); do
  for s in $SYSTEMS; do
    log "round $r/$ROUNDS: $s (${DURATION}s, $CONNECTIONS connections)"
    out="$WORK/round$r-$s.txt"
    t0=$(cpu_ticks "${PID[$s]}")
    c0=$(ctx_switches "${PID[$s]}")
    wrk_run "$s" "$DURATION" "$out"
    c1=$(ctx_switches "${PID[$s]}")
    t1=$(cpu_ticks "${PID[$s]}")
    line=$(grep '^BENCH ' "$out") || die "no BENCH line from wrk for $s: $(cat "$out")"
    if grep -q '^BENCH_SAMPLE' "$out"; then log "$s: first bad response: $(grep '^BENCH_SAMPLE' "$out")"; fi
    # round system requests req/s p50 p99 errors cpu_us/req server_cpu% wrk_cpu% load1 switches/req
    echo "$line" | awk -v r="$r" -v s="$s" -v dt=$((t1 - t0)) -v cs=$((c1 - c0)) -v wt="$WRK_TICKS" -v tck="$CLK_TCK" -v l="$(load1)" '
      { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
      END {
        req = f["requests"]; errs = f["bad"] + f["connect"] + f["read"] + f["write"] + f["timeout"]
        secs = f["duration_us"] / 1e6
        printf "%d\t%s\t%d\t%.0f\t%d\t%d\t%d\t%.2f\t%.0f\t%.0f\t%s\t%.2f\n", r, s, req, req / secs, f["p50_us"], f["p99_us"], errs,
          (req > 0 ? dt * 1e6 / tck / req : 0), 100 * dt / tck / secs, 100 * wt / tck / secs, l, (req > 0 ? cs / req : 0)
      }' >>"$RUNS"
  done
done
declare -A PEAK_KIB
for s in $SYSTEMS; do
  PEAK_KIB[$s]=$(status_kib "${PID[$s]}" VmHWM)
  stop "$s"
done
# An inline tool the server judged slow runs on worker threads from then on: say so.
DEMOTIONS=""
for s in $SYSTEMS; do
  [[ $s == fastmcp* ]] || continue
  d=$(grep -c 'take too long; its later calls run on worker threads' "$WORK/$s.log" || true)
  ((d == 0)) || DEMOTIONS+="$s: an inline tool was moved to worker threads during the run. "
done

# ---- idle stateful sessions (fresh fastmcp) ------------------------------------------------------
SESSION_KIB=""
if [[ " $SYSTEMS " == *" fastmcp"* ]]; then
  log "RSS growth per idle stateful session ($SESSIONS sessions)"
  PORT[sessions]=$("$BENCHCTL" port)
  launch sessions "${PORT[sessions]}"
  "$BENCHCTL" wait-ready "127.0.0.1:${PORT[sessions]}" 30000 || die "fastmcp (sessions) did not become ready"
  "$BENCHCTL" init "127.0.0.1:${PORT[sessions]}" >/dev/null # first session: one-time allocations
  sleep 0.5
  rss0=$(status_kib "${PID[sessions]}" VmRSS)
  taskset -c "$GEN_CPU" "$BENCHCTL" sessions "127.0.0.1:${PORT[sessions]}" "$SESSIONS" >"$WORK/sessions.txt"
  sleep 0.5
  rss1=$(status_kib "${PID[sessions]}" VmRSS)
  SESSION_KIB=$(awk -v a="$rss0" -v b="$rss1" -v n="$SESSIONS" 'BEGIN {printf "%.2f", (b - a) / n}')
  SESSION_LINE="$SESSIONS sessions: VmRSS $(mib "$rss0") -> $(mib "$rss1") MiB = **$SESSION_KIB KiB per session**"
  stop sessions
fi

# ---- FFI micro-benchmark ----------------------------------------------------------------------
FFI_TABLE=""
FFI_NS=""
if [[ $FFI == 1 ]]; then
  log "cargo bench -p fastmcp-bench --bench ffi (pinned to cpu $SERVER_CPU)"
  (cd "$SRC" && CARGO_TARGET_DIR="$TARGET" "$CARGO" bench -p fastmcp-bench --bench ffi --no-run >&2)
  (cd "$SRC" && FASTMCP_BENCH_PLUGIN="$CALC_SO" CARGO_TARGET_DIR="$TARGET" \
    taskset -c "$SERVER_CPU" "$CARGO" bench -p fastmcp-bench --bench ffi -- \
    --warm-up-time 1 --measurement-time 3 >"$WORK/ffi.txt" 2>&1) || die "cargo bench failed: $(tail -20 "$WORK/ffi.txt")"
  # "ffi/name  time:   [lo unit mid unit hi unit]" (the name may be on its own line).
  FFI_TABLE=$(awk '
    /^ffi\// { name = $1 }
    /time:/ && name != "" {
      sub(/.*\[/, ""); sub(/\].*/, ""); split($0, v, " ")
      printf "| `%s` | %s %s | %s %s – %s %s |\n", name, v[3], v[4], v[1], v[2], v[5], v[6]; name = ""
    }' "$WORK/ffi.txt")
  FFI_NS=$(awk '
    /^ffi\/library_call( |$)/ { on = 1 }
    /time:/ && on { sub(/.*\[/, ""); split($0, v, " "); m = v[3]; u = v[4]
      if (u == "ps") m /= 1000; else if (u == "µs" || u == "us") m *= 1000; else if (u == "ms") m *= 1e6
      print m; exit }' "$WORK/ffi.txt")
fi

# ---- report ---------------------------------------------------------------------------------
{
  echo "## Results"
  echo
  echo "- Date: $DATE"
  echo "- Command: \`DURATION=$DURATION ROUNDS=$ROUNDS CONNECTIONS=$CONNECTIONS bash bench/run.sh\`${REV:+ (REV=$REV)}"
  echo "- Machine: $NPROC CPUs ($MODEL), kernel $KERNEL; servers on CPU $SERVER_CPU, wrk on CPU $GEN_CPU"
  echo "- fastmcp: $FASTMCP_REV (release build), calculator plugin (fastmcp-progress: the test plugin's \`$PROGRESS_TOOL $PROGRESS_ARGS\`); TypeScript fastmcp ${TS_VERSION:-n/a} on node $(node --version 2>/dev/null || echo n/a); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "- Load: wrk -t1 -c$CONNECTIONS -d${DURATION}s, ${WARMUP}s warm-up per server, $ROUNDS interleaved rounds; 1-minute load average $LOAD_START at start"
  echo
  echo "### Per run"
  echo
  echo "| round | system | requests | req/s | p50 µs | p99 µs | errors | server CPU µs/req | server context switches/req | server CPU % | wrk CPU % | load avg (1 min) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $12, $9, $10, $11}' "$RUNS"
  echo
  echo "### Summary (means over rounds; ratios against the ceiling)"
  echo
  echo "| system | req/s | × ceiling | p50 µs | p99 µs | p99 × ceiling | errors | CPU µs/req | CPU × ceiling | cold start ms | RSS idle MiB | RSS peak MiB | load avg |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for s in $SYSTEMS; do
    echo -e "$s\t${COLD_MS[$s]:--}\t${IDLE_KIB[$s]}\t${PEAK_KIB[$s]}"
  done >"$WORK/mem.tsv"
  awk -F'\t' '
    FNR == NR { n[$2]++; rps[$2] += $4; p50[$2] += $5; p99[$2] += $6; err[$2] += $7; cpu[$2] += $8; ld[$2] += $11; next }
    {
      s = $1; if (!n[s]) next
      r = rps[s] / n[s]; c = cpu[s] / n[s]; q = p99[s] / n[s]
      cr = n["ceiling"] ? rps["ceiling"] / n["ceiling"] : 0
      cc = n["ceiling"] ? cpu["ceiling"] / n["ceiling"] : 0
      cq = n["ceiling"] ? p99["ceiling"] / n["ceiling"] : 0
      printf "| %s | %.0f | %s | %.0f | %.0f | %s | %d | %.2f | %s | %s | %.1f | %.1f | %.2f |\n", s, r,
        cr ? sprintf("%.2f", r / cr) : "-", p50[s] / n[s], q, cq ? sprintf("%.2f", q / cq) : "-", err[s], c,
        cc ? sprintf("%.2f", c / cc) : "-", $2, $3 / 1024, $4 / 1024, ld[s] / n[s]
    }' "$RUNS" "$WORK/mem.tsv"
  echo
  if [[ -n $DEMOTIONS ]]; then
    echo "**Note:** $DEMOTIONS"
    echo
  fi
  if [[ -n $SESSION_KIB ]]; then
    echo "Idle stateful sessions (fresh fastmcp, one initialize each on one keep-alive connection): $SESSION_LINE."
    echo
  fi
  if [[ -n $FFI_TABLE ]]; then
    echo "### One plugin call without HTTP (criterion, \`cargo bench -p fastmcp-bench --bench ffi\`)"
    echo
    echo "| benchmark | median estimate | 95% interval |"
    echo "|---|---|---|"
    echo "$FFI_TABLE"
    echo
  fi
  echo "### Targets (fastmcp stateless unless noted)"
  echo
  echo "| target | measured | met |"
  echo "|---|---|---|"
  awk -F'\t' -v cold="${COLD_MS[fastmcp]:-}" -v idle="${IDLE_KIB[fastmcp]:-}" -v peak="${PEAK_KIB[fastmcp]:-}" \
    -v sess="$SESSION_KIB" -v ffi="$FFI_NS" -v ptool="$PROGRESS_TOOL $PROGRESS_ARGS" '
    { n[$2]++; rps[$2] += $4; p99[$2] += $6; cpu[$2] += $8 }
    function m(a, s) { return n[s] ? a[s] / n[s] : 0 }
    function row(name, val, ok) { printf "| %s | %s | %s |\n", name, val, ok ? "yes" : "**no**" }
    END {
      if (n["fastmcp"] && n["ceiling"]) {
        x = m(rps, "fastmcp") / m(rps, "ceiling"); row("throughput >= 0.8x ceiling", sprintf("%.2fx", x), x >= 0.8)
        x = m(cpu, "fastmcp") / m(cpu, "ceiling"); row("server CPU per request <= 1.25x ceiling", sprintf("%.2fx (%.1f vs %.1f µs)", x, m(cpu, "fastmcp"), m(cpu, "ceiling")), x <= 1.25)
        x = m(p99, "fastmcp") / m(p99, "ceiling"); row("p99 <= 1.2x ceiling", sprintf("%.2fx (%.0f vs %.0f µs)", x, m(p99, "fastmcp"), m(p99, "ceiling")), x <= 1.2)
      }
      if (n["fastmcp-progress"] && n["fastmcp"]) {
        x = m(rps, "fastmcp-progress") / m(rps, "fastmcp")
        row("context tool (`" ptool "` with a progressToken, SSE answer) >= 0.7x the inline path", sprintf("%.2fx (%.0f vs %.0f req/s)", x, m(rps, "fastmcp-progress"), m(rps, "fastmcp")), x >= 0.7)
      }
      if (n["fastmcp"] && n["ts"]) {
        x = m(rps, "fastmcp") / m(rps, "ts"); row("throughput >= 20x TypeScript fastmcp", sprintf("%.1fx", x), x >= 20)
      }
      if (cold != "") row("cold start <= 10 ms", cold " ms", cold + 0 <= 10)
      if (idle != "") row("idle RSS <= 8 MiB", sprintf("%.1f MiB", idle / 1024), idle / 1024 <= 8)
      if (peak != "") row("peak RSS <= 20 MiB", sprintf("%.1f MiB", peak / 1024), peak / 1024 <= 20)
      if (sess != "") row("<= 4 KiB per idle stateful session", sess " KiB", sess + 0 <= 4)
      if (ffi != "") row("one FFI call (`ffi/library_call`) <= 1 µs", sprintf("%.0f ns", ffi), ffi + 0 <= 1000)
    }' "$RUNS"
} | tee "$ROOT/target/bench-report.md"
