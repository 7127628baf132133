-- wrk script for bench/io.sh and the fastmcp-progress system of bench/run.sh: an MCP tools/call
-- of any tool, one JSON-RPC request per POST, keep-alive. Every response must be 200 and contain
-- the expected text; the others are counted and reported by done() on a machine-readable
-- `BENCH ...` line (the same fields as tools-call.lua).
--
-- Environment:
--   MCP_TOOL      the tool's name (required)
--   MCP_ARGS      its arguments, a JSON object (default {})
--   MCP_EXPECT    text every body must contain (required), e.g. `waited 50 ms`
--   MCP_PROGRESS  1: the request carries `_meta.progressToken`, and every response must be a
--                 `text/event-stream` whose body has a `notifications/progress` event before
--                 the one that holds MCP_EXPECT (the result)
--   MCP_EXTRA_HEADERS  that many more header fields `X-Pad-N: 1` (default 0); 50 is past what
--                 the server's own HTTP/1 loop takes, so hyper serves the requests (io.sh's
--                 fastmcp-hyper)

local tool = os.getenv("MCP_TOOL")
local args = os.getenv("MCP_ARGS")
local expect = os.getenv("MCP_EXPECT")
local progress = os.getenv("MCP_PROGRESS") == "1"
if tool == nil or tool == "" or expect == nil or expect == "" then
  error("call.lua: set MCP_TOOL and MCP_EXPECT")
end
if args == nil or args == "" then args = "{}" end

local meta = ""
if progress then meta = ',"_meta":{"progressToken":1}' end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
for i = 1, tonumber(os.getenv("MCP_EXTRA_HEADERS") or "0") or 0 do
  wrk.headers["X-Pad-" .. i] = "1"
end
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. tool
  .. '","arguments":' .. args .. meta .. '}}'

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

bad = 0
sample = ""

-- Whether one response is what the benchmark asked for.
local function good(status, headers, body)
  if status ~= 200 or body == nil then return false end
  local result = string.find(body, expect, 1, true)
  if not result then return false end
  if not progress then return true end
  local ctype = headers["content-type"] or headers["Content-Type"] or ""
  if not string.find(ctype, "text/event-stream", 1, true) then return false end
  local note = string.find(body, '"method":"notifications/progress"', 1, true)
  return note ~= nil and note < result
end

function response(status, headers, body)
  if not good(status, headers, body) then
    bad = bad + 1
    if sample == "" then
      sample = tostring(status) .. " " .. string.sub(tostring(body), 1, 300)
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
