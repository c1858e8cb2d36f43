-- Cost curve (bench/run.sh): adds calls :first .. :last to the service's database, straight through its real
-- schema, as if their webhooks had been ingested and their work done long ago. Per call four events:
-- ringing, in-progress, the final status (three in four completed, one in four a destination failure), and a
-- recording arriving after the end; valid JSON bodies (jsonb copy + raw bytes), identities in the service's
-- own form (call ID, event, created_at), a succeeded crm.sync for each event that left the call final and a
-- succeeded ticket.create for each failed call. Set-based (generate_series): ~1 M events in a minute or two.
-- psql -v first=N -v last=M -f bench/curve-fill.sql
\set ON_ERROR_STOP on
SET timezone = 'UTC';
-- Not the measured path: the fill need not wait for its own WAL flush.
SET synchronous_commit = off;
SET work_mem = '64MB';
BEGIN;

CREATE TEMP TABLE fill_calls ON COMMIT DROP AS
SELECT n,
       'call_fill_' || lpad(n::text, 9, '0') AS id,
       timestamptz '2026-01-01 00:00:00+00' + n * interval '2 seconds' AS t0,
       CASE WHEN n % 4 < 3 THEN 'completed' ELSE (ARRAY['failed', 'busy', 'no-answer'])[(n / 4) % 3 + 1] END AS final
FROM generate_series(:first::bigint, :last::bigint) AS n;

INSERT INTO calls (id, customer_id, application_id, direction, from_number, to_number, status, is_final, status_at,
                   customer_id_at, application_id_at, direction_at, from_number_at, to_number_at,
                   first_event_at, last_event_at, activity_at, variables, variable_times, recordings,
                   transcripts, ai_results, billing, billing_at, created_at, updated_at)
SELECT c.id, 'cust_' || (c.n % 5000), 'app_123', 'inbound', '+1555' || lpad((c.n % 10000000)::text, 7, '0'), '+15551230002',
       c.final, true, c.t0 + interval '64 seconds',
       c.t0 + interval '70 seconds', c.t0 + interval '70 seconds', c.t0 + interval '70 seconds', c.t0 + interval '70 seconds',
       c.t0 + interval '70 seconds', c.t0, c.t0 + interval '70 seconds',
       c.t0 + interval '70 seconds', jsonb_build_object('order', 'B' || (c.n % 100)),
       jsonb_build_object('order', c.t0 + interval '70 seconds'),
       jsonb_build_array(jsonb_build_object('id', 'rec_' || c.n, 'url', 'https://minivoice.example/recordings/rec_' || c.n || '.mp3',
                                            'duration_seconds', 60)),
       '[]', '[]', '{"duration_seconds":60,"cost":"0.0120","currency":"USD"}', c.t0 + interval '64 seconds',
       c.t0 + interval '1 minute', c.t0 + interval '2 minutes'
FROM fill_calls c;

INSERT INTO webhook_events (identity, webhook_id, call_id, event, status, created_at, received_at, out_of_order, raw_body, body)
SELECT 'evt:' || e.call_id || E'\n' || e.event || E'\n' || to_char(e.at, 'YYYY-MM-DD"T"HH24:MI:SS') || '.0000000Z',
       NULL, e.call_id, e.event, e.status, e.at, e.at + interval '150 milliseconds', false,
       convert_to(e.json, 'UTF8'), e.json::jsonb
FROM (
    SELECT c.id AS call_id, c.final, e.k, e.event, e.status, e.at,
           format('{"event":"%s","created_at":"%s","call":{"id":"%s","customer_id":"cust_%s","application_id":"app_123",'
                  '"status":"%s","direction":"inbound","from":"+1555%s","to":"+15551230002"},"variables":{"order":"B%s"},"data":%s}',
                  e.event, to_char(e.at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), c.id, c.n % 5000, e.status,
                  lpad((c.n % 10000000)::text, 7, '0'), c.n % 100, e.data) AS json
    FROM fill_calls c
    CROSS JOIN LATERAL (VALUES
        (0, 'call.ringing', 'ringing', c.t0, '{}'),
        (1, 'call.in_progress', 'in-progress', c.t0 + interval '4 seconds', '{}'),
        (2, 'call.' || replace(c.final, '-', '_'), c.final, c.t0 + interval '64 seconds',
            '{"billing":{"duration_seconds":60,"cost":"0.0120","currency":"USD"}}'),
        (3, 'call.recording_ready', c.final, c.t0 + interval '70 seconds',
            format('{"recording":{"id":"rec_%s","url":"https://minivoice.example/recordings/rec_%s.mp3","duration_seconds":60}}', c.n, c.n))
    ) AS e(k, event, status, at, data)
) AS e;

-- The finished work: crm.sync after the final event and after the recording, a ticket for each failed call.
INSERT INTO call_actions (call_id, event_id, action, state, attempts, last_http_status, job_id,
                          first_attempt_at, last_attempt_at, created_at, updated_at, completed_at)
SELECT w.call_id, w.id, a.action, 'succeeded', 1, 200, (w.id * 2 + a.n)::text,
       w.received_at + interval '50 milliseconds', w.received_at + interval '50 milliseconds', w.received_at,
       w.received_at + interval '60 milliseconds', w.received_at + interval '60 milliseconds'
FROM webhook_events w
CROSS JOIN LATERAL (VALUES (0, 'crm.sync'), (1, 'ticket.create')) AS a(n, action)
WHERE w.call_id BETWEEN 'call_fill_' || lpad(:first::text, 9, '0') AND 'call_fill_' || lpad(:last::text, 9, '0')
  AND w.event <> 'call.ringing' AND w.event <> 'call.in_progress'
  AND (a.action = 'crm.sync' OR (w.status <> 'completed' AND w.event <> 'call.recording_ready'));

COMMIT;
