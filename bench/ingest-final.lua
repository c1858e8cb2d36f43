-- wrk: POST a unique MiniVoice event per request, authenticated with HTTP Basic (bench/run.sh passes the whole
-- header value in BENCH_AUTHORIZATION), like bench/ingest.lua, but EVERY event is the final call.completed of a
-- NEW call (status completed): each one creates background work (one crm.sync action).
-- BENCH_LIMIT: stop each thread after that many answers (a fixed-size backlog instead of a duration).
-- BENCH_DELAY_MS: wait that long before each request on a connection (wrk's delay()): a paced load of about
--   connections * 1000 / (BENCH_DELAY_MS + latency) requests/s; unset or 0 sends back to back.
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
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"event":"call.completed","created_at":"2026-05-29T12:%02d:%02dZ","call":{"id":"call_f%s_%d_%d","customer_id":"cust_123",' ..
    '"application_id":"app_123","status":"completed","direction":"inbound","from":"+15551230001","to":"+15551230002"},' ..
    '"variables":{"order":"B2"},"data":{}}',
    counter % 60, counter % 60, prefix, tid, counter)
  return wrk.format("POST", "/webhooks/minivoice", headers, body)
end

-- Defined only when pacing: wrk arms a timer per request as soon as a delay() function exists.
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
local answered = 0
function response(status, headers, body)
  answered = answered + 1
  if limit > 0 and answered >= limit then
    wrk.thread:stop()
  end
end
