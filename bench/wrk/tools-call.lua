-- wrk script for bench/run.sh: MCP tools/call of calculate(add, 2, 3), one JSON-RPC request
-- per POST, keep-alive. Every response must be 200 and contain `Result: 5`; the others are
-- counted and reported by done() on a machine-readable `BENCH ...` line.
--
-- Environment: MCP_SESSION_ID (optional) adds the Mcp-Session-Id header (stateful runs);
-- MCP_UNIQUE_IDS=1 gives every request its own JSON-RPC id (costs the generator a Lua call
-- per request; a stateful server may track in-flight ids per session).

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
local session = os.getenv("MCP_SESSION_ID")
if session ~= nil and session ~= "" then
  wrk.headers["Mcp-Session-Id"] = session
end

local body_prefix = '{"jsonrpc":"2.0","id":'
local body_suffix = ',"method":"tools/call","params":{"name":"calculate","arguments":{"operation":"add","a":2,"b":3}}}'
wrk.body = body_prefix .. "1" .. body_suffix

if os.getenv("MCP_UNIQUE_IDS") == "1" then
  local counter = 0
  request = function()
    counter = counter + 1
    return wrk.format(nil, nil, nil, body_prefix .. counter .. body_suffix)
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

bad = 0
sample = ""

function response(status, headers, body)
  if status ~= 200 or body == nil or not string.find(body, "Result: 5", 1, true) then
    bad = bad + 1
    if sample == "" then
      sample = tostring(status) .. " " .. string.sub(tostring(body), 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local total_bad = 0
  local first = ""
  for _, t in ipairs(threads) do
    total_bad = total_bad + t:get("bad")
    local s = t:get("sample")
    if first == "" and s ~= nil then first = s end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d mean_us=%.1f max_us=%d bad=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max, total_bad, e.connect, e.read, e.write, e.status, e.timeout))
  if first ~= "" then
    io.write("BENCH_SAMPLE " .. first:gsub("\n", " ") .. "\n")
  end
end
