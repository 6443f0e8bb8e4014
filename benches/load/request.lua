-- wrk script for rocketchat-mock's load benchmark (benches/load/bench.py sets the variables).
--   BENCH_METHOD     the method (default POST)
--   BENCH_PATH       the route and query, e.g. /api/v1/omnichannel/contacts.update
--   BENCH_USER       X-User-Id and X-Auth-Token as "id:token"; empty sends no credentials
--   BENCH_BODY       the JSON body; %s in it becomes a contact _id; empty sends no body
--   BENCH_CONTACTS   how many generated contacts to spread the requests over (0: body as is)
-- Generated contact number i has the _id string.format("%024x", i + 1)
-- (src/bin/rocketchat-mock-fixtures.rs).

local path = os.getenv("BENCH_PATH")
local user = os.getenv("BENCH_USER") or ""
local body = os.getenv("BENCH_BODY") or ""
local contacts = tonumber(os.getenv("BENCH_CONTACTS") or "0")
if body == "" then body = nil end

wrk.method = os.getenv("BENCH_METHOD") or "POST"
if body then wrk.headers["Content-Type"] = "application/json" end
local id, token = user:match("^([^:]+):(.+)$")
if id then
  wrk.headers["X-User-Id"] = id
  wrk.headers["X-Auth-Token"] = token
end

local next_index = 0

if contacts > 0 then
  -- A stride coprime with the count visits every contact before repeating and scatters
  -- consecutive requests over the map, as a real client's traffic would.
  local stride = 7919
  while contacts % stride == 0 do stride = stride + 2 end
  request = function()
    local contact = string.format("%024x", (next_index * stride) % contacts + 1)
    next_index = next_index + 1
    return wrk.format(nil, path, nil, string.format(body, contact))
  end
else
  wrk.path = path
  wrk.body = body
end

-- No response() callback: it would make wrk parse every body. The status check is
-- summary.errors.status (answers that are not 2xx/3xx); bench.py checks one answer's exact
-- status and body before each run.
done = function(summary, latency, requests)
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "seconds": %.6f, "p50_us": %d, "p99_us": %d, "max_us": %d, "socket_errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status))
end
