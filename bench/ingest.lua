-- wrk: POST a unique MiniVoice event per request, authenticated with HTTP Basic
-- (bench/run.sh passes the whole header value in BENCH_AUTHORIZATION).
-- Half the events are final (they create background work), a quarter of those are destination failures.
local counter = 0
local thread_id = 0
local authorization = os.getenv("BENCH_AUTHORIZATION") or "Basic YmVuY2g6YmVuY2g="

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

local headers

function init(args)
  math.randomseed(os.time() + tid * 7919)
  prefix = string.format("%d%06d", os.time(), math.random(0, 999999))
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = authorization }
  -- BENCH_PROXY_HEADERS: what a sender behind a proxy adds (bench/run.sh's headers phase measures keeping them).
  if os.getenv("BENCH_PROXY_HEADERS") then
    headers["User-Agent"] = "MiniVoice-Webhooks/1.0"
    headers["X-Forwarded-For"] = "203.0.113." .. tid
  end
end

local statuses = { "ringing", "in-progress", "completed", "busy" }

request = function()
  counter = counter + 1
  local status = statuses[(counter % 4) + 1]
  local body = string.format(
    '{"event":"call.%s","created_at":"2026-05-29T12:%02d:%02dZ","call":{"id":"call_b%s_%d_%d","customer_id":"cust_123",' ..
    '"application_id":"app_123","status":"%s","direction":"inbound","from":"+15551230001","to":"+15551230002"},' ..
    '"variables":{"order":"B2"},"data":{}}',
    status:gsub("-", "_"), counter % 60, counter % 60, prefix, tid, counter, status)
  return wrk.format("POST", "/webhooks/minivoice", headers, body)
end

-- BENCH_LIMIT: stop each thread after that many answers (a fixed-size burst instead of a duration).
-- BENCH_DONE_DIR: each thread then leaves a file there, so bench/run.sh learns that the burst has been answered
-- without asking the database under test (a count(*) every 0.5 s took up to a fifth of a core from a burst).
local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
local done_dir = os.getenv("BENCH_DONE_DIR")
local answered = 0
function response(status, headers, body)
  answered = answered + 1
  if limit > 0 and answered == limit then
    if done_dir then
      local f = io.open(string.format("%s/thread-%d", done_dir, tid), "w")
      if f then f:close() end
    end
    wrk.thread:stop()
  end
end
