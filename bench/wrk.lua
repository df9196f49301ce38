-- One wrk script for every scenario; bench/run.py passes the scenario after `--`:
--   wrk ... -s bench/wrk.lua URL -- <token> get <path> [<path> ...]   rotate through GET paths
--   wrk ... -s bench/wrk.lua URL -- <token> get-one <max id>          GET /api/issues/<random id>
--   wrk ... -s bench/wrk.lua URL -- <token> create                    POST /api/issues
--   wrk ... -s bench/wrk.lua URL -- <token> transition <pool> <first id - 1> <threads>
--                                                                     PATCH /api/issues/<id>
-- `transition` walks `pool` issues after the given id (run.py resets them to OPEN, version 1) round
-- robin, so the n-th visit of an issue knows its version (1 + n) and its next workflow step
-- (TRIAGED, IN_PROGRESS, DONE, then reopen to OPEN). The pool is far larger than the number of
-- requests in flight, so two requests never race for one issue. Threads split the pool; the
-- warm-up uses other issues than the measurement, so a straggler of one cannot upset the other.
-- done() prints one line, `WRKJSON {...}`, with the figures run.py reads.

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

local token, mode
local paths = {}
local counter = 0
local max_id, pool, offset, tid, nthreads
local headers = {}
local steps = { "TRIAGED", "IN_PROGRESS", "DONE", "OPEN" }
local severities = { "LOW", "MEDIUM", "MEDIUM", "HIGH", "CRITICAL" }

function init(args)
  token, mode = args[1], args[2]
  headers["Authorization"] = "Bearer " .. token
  tid = tonumber(wrk.thread:get("tid")) or 1
  math.randomseed(1000 + tid)
  if mode == "get" then
    for i = 3, #args do
      table.insert(paths, args[i])
    end
  elseif mode == "get-one" then
    max_id = tonumber(args[3])
  elseif mode == "transition" then
    pool = tonumber(args[3])
    offset = tonumber(args[4]) or 0
    nthreads = tonumber(args[5]) or 1
  end
end

local primed = false

function request()
  -- wrk 4.1 builds one request per thread before it connects and never sends it: answer that
  -- call with a harmless request, or the transition sequence would skip an issue.
  if not primed then
    primed = true
    return wrk.format("GET", "/healthz")
  end
  counter = counter + 1
  if mode == "get" then
    return wrk.format("GET", paths[(counter - 1) % #paths + 1], headers)
  elseif mode == "get-one" then
    return wrk.format("GET", "/api/issues/" .. math.random(1, max_id), headers)
  elseif mode == "create" then
    local h = { ["Authorization"] = headers["Authorization"], ["Content-Type"] = "application/json" }
    local body = string.format(
      '{"title":"Benchmark issue %d-%d: export times out with a large file",'
        .. '"description":"Steps:\\n\\n1. Open the **CSV export**\\n2. Pick a year\\n\\n'
        .. 'It times out after `30 s`.","severity":"%s","tags":["bug","export"]}',
      tid, counter, severities[counter % #severities + 1])
    return wrk.format("POST", "/api/issues", h, body)
  else -- transition
    local per_thread = math.floor(pool / nthreads)
    local slot = (counter - 1) % per_thread
    local round = math.floor((counter - 1) / per_thread)
    local id = offset + (tid - 1) * per_thread + slot + 1
    local h = {
      ["Authorization"] = headers["Authorization"],
      ["Content-Type"] = "application/json",
      ["If-Match"] = '"' .. (1 + round) .. '"',
    }
    local body = '{"status":"' .. steps[round % 4 + 1] .. '"}'
    return wrk.format("PATCH", "/api/issues/" .. id, h, body)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"mean_us":%.1f,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,'
      .. '"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
