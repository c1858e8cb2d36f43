-- wrk: GET /calls/{id} for a random call among those bench/curve-fill.sql created (call_fill_000000001 ..
-- BENCH_CALLS), with the operator credentials bench/run.sh configured (BENCH_OPERATOR_AUTHORIZATION).
local calls = tonumber(os.getenv("BENCH_CALLS") or "1")
local authorization = os.getenv("BENCH_OPERATOR_AUTHORIZATION") or ""

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(os.time() + (seed or 0))
  headers = { ["Authorization"] = authorization }
end

request = function()
  return wrk.format("GET", string.format("/calls/call_fill_%09d", math.random(1, calls)), headers)
end
