#!/usr/bin/env bash
# The test command (README: "Run the tests"). Installs what the tests need on a fresh machine
# (the npm packages of the real MCP clients), then runs the whole workspace's tests: unit tests,
# the SDK's doctests, and the integration tests that drive the real binary over 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== installing test clients (npm)"
(cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)

echo "== cargo test"
# The integration tests require the node clients instead of skipping without them.
export FASTMCP_TEST_REQUIRE_CLIENTS=1
cargo test --workspace --locked "$@"
