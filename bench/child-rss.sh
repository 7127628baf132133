#!/usr/bin/env bash
# Memory of an idle isolated plugin (issue 13: at most 4 MiB RSS): starts `fastmcp dev` with
# the calculator isolated, makes one call, waits for the child to settle, and prints its
# /proc/PID/status VmRSS, its smaps_rollup (Rss, Pss, private) and the largest mappings by Rss.
#
#   bash bench/child-rss.sh                        # target/release/fastmcp, libcalculator.so
#   FASTMCP_BIN=... CALC_SO=... TOP=40 bash bench/child-rss.sh
#   EXTRA="--plugin-cpu-limit 10s" bash bench/child-rss.sh
#
# Build first: cargo build --release -p fastmcp -p calculator. Talks to 127.0.0.1 only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${FASTMCP_BIN:-$ROOT/target/release/fastmcp}
CALC_SO=${CALC_SO:-$ROOT/target/release/libcalculator.so}
# A port the kernel just handed out and released (benchctl port), when built; a random one in
# the ephemeral range could be in use by a load run's connections.
BENCHCTL=$ROOT/target/release/benchctl
if [[ -z ${PORT:-} && -x $BENCHCTL ]]; then PORT=$("$BENCHCTL" port); fi
PORT=${PORT:-$((20000 + RANDOM % 10000))}
TOP=${TOP:-25}
SETTLE=${SETTLE:-1}
# shellcheck disable=SC2086
"$BIN" dev "$CALC_SO" --stateless true --watch false --isolate true --port "$PORT" ${EXTRA:-} \
  2>"${LOG:-/dev/null}" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf -m 1 "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sS -m 10 "http://127.0.0.1:$PORT/mcp" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18' \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"calculate","arguments":{"operation":"add","a":2,"b":3}}}' |
  grep -q 'Result: 5' || { echo "the call did not answer Result: 5" >&2; exit 1; }
sleep "$SETTLE"; ${HOOK:-true}
child=$(pgrep -P "$server" | head -1)
[[ -n $child ]] || { echo "no child process" >&2; exit 1; }
echo "child $child: $(readlink "/proc/$child/exe")"
grep -E '^(VmRSS|RssAnon|RssFile|RssShmem|Threads):' "/proc/$child/status"
grep -E '^(Rss|Pss|Shared_Clean|Shared_Dirty|Private_Clean|Private_Dirty):' "/proc/$child/smaps_rollup"
echo "server $server: $(grep VmRSS "/proc/$server/status")"
echo "-- largest mappings by Rss (kB): rss private_dirty perms name"
awk '
  /^[0-9a-f]+-[0-9a-f]+ / { perms = $2; name = (NF >= 6 ? $6 : "[anon]"); next }
  /^Rss:/ { rss = $2 }
  /^Private_Dirty:/ { print rss, $2, perms, name }
' "/proc/$child/smaps" | sort -rn | head -"$TOP"
