#!/usr/bin/env bash
# The test command (README: "Run the tests"). Installs what the tests need on a fresh machine
# (the npm packages of the real MCP clients), then runs the whole workspace's tests: unit tests,
# the SDK's doctests, and the integration tests that drive the real binary over 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real infrastructure for the scale-out tests: nginx as a load balancer, Redis as the shared
# session store. Both are only started by the tests themselves, on 127.0.0.1.
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# make builds the C example plugin (tests/c_plugin.rs); cc is there already: rustc links with it.
command -v make >/dev/null 2>&1 || need+=(make)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]} (apt-get)"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The packages start system services; the tests run their own instances.
  $sudo service nginx stop >/dev/null 2>&1 || true
  $sudo service redis-server stop >/dev/null 2>&1 || true
fi
export FASTMCP_TEST_REQUIRE_INFRA=1

echo "== installing test clients (npm)"
(cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)
# The OpenID provider (oidc-provider) the OAuth tests run on 127.0.0.1.
(cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)

echo "== cargo test"
# The integration tests require the node clients (and the OpenID provider) instead of skipping
# without them.
export FASTMCP_TEST_REQUIRE_CLIENTS=1
cargo test --workspace --locked "$@"

echo "== official MCP conformance suite (scripts/conformance.sh)"
bash scripts/conformance.sh
