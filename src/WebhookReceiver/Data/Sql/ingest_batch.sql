-- The webhook hot path, set-based: one statement stores a round of events (at most one event per call and per
-- identity; IngestStore splits a batch into rounds in arrival order), so a batch of N events costs a few
-- statements, not N. Parameters are parallel arrays, one element per event.
WITH i AS (
    SELECT u.*,
           convert_from(CASE WHEN substring(u.raw FROM 1 FOR 3) = '\xefbbbf'::bytea THEN substring(u.raw FROM 4)
                             ELSE u.raw END, 'UTF8')::jsonb AS body
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::timestamptz[],
                $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bytea[], $15::text[], $16::text[])
         WITH ORDINALITY AS u(identity, webhook_id, call_id, event, status, is_final, created_at,
                              customer_id, application_id, direction, from_number, to_number, raw, request_headers, trace_parent, ord)
),
ev AS (
    INSERT INTO webhook_events (identity, webhook_id, call_id, event, status, created_at, received_at, out_of_order,
                                raw_body, body, request_headers)
    -- A correlated lookup, not a join: a join's plan, cached while the table was small (a fresh install), would
    -- hash a sequential scan of every call for each batch (seen: 3x slower); a lookup by primary key always wins.
    SELECT i.identity, i.webhook_id, i.call_id, i.event, i.status, i.created_at, now(),
           COALESCE(i.created_at < (SELECT c.last_event_at FROM calls c WHERE c.id = i.call_id), false), i.raw, i.body,
           i.request_headers::jsonb
    FROM i
    ORDER BY i.ord
    ON CONFLICT (identity) DO NOTHING
    RETURNING id, identity, out_of_order
),
n AS (
    -- The event's variables as values (a null removes the name) and times (every name it carries: a removal is
    -- kept as a time only, a tombstone).
    SELECT i.*, ev.id AS event_id, i.body -> 'data' AS data, v.vars, v.times
    FROM i JOIN ev ON ev.identity = i.identity
         CROSS JOIN LATERAL (
             SELECT COALESCE(jsonb_object_agg(e.key, e.value) FILTER (WHERE jsonb_typeof(e.value) <> 'null'), '{}') AS vars,
                    COALESCE(jsonb_object_agg(e.key, to_jsonb(i.created_at)), '{}') AS times
             FROM jsonb_each(CASE WHEN jsonb_typeof(i.body -> 'variables') = 'object' THEN i.body -> 'variables'
                                  ELSE '{}' END) AS e) AS v
),
up AS (
    INSERT INTO calls AS c (id, customer_id, application_id, direction, from_number, to_number,
                            customer_id_at, application_id_at, direction_at, from_number_at, to_number_at,
                            status, is_final, status_at, first_event_at, last_event_at, activity_at,
                            variables, variable_times, recordings, transcripts, ai_results, billing, billing_at,
                            created_at, updated_at)
    SELECT n.call_id, n.customer_id, n.application_id, n.direction, n.from_number, n.to_number,
           CASE WHEN n.customer_id IS NOT NULL THEN n.created_at END,
           CASE WHEN n.application_id IS NOT NULL THEN n.created_at END,
           CASE WHEN n.direction IS NOT NULL THEN n.created_at END,
           CASE WHEN n.from_number IS NOT NULL THEN n.created_at END,
           CASE WHEN n.to_number IS NOT NULL THEN n.created_at END,
           n.status, COALESCE(n.is_final, false), CASE WHEN n.status IS NOT NULL THEN n.created_at END,
           n.created_at, n.created_at, n.created_at,
           n.vars, n.times,
           CASE WHEN n.data ?| ARRAY['recordings', 'recording']
                THEN wr_items_of(n.data, ARRAY['recordings', 'recording']) ELSE '[]' END,
           CASE WHEN n.data ?| ARRAY['transcripts', 'transcript']
                THEN wr_items_of(n.data, ARRAY['transcripts', 'transcript']) ELSE '[]' END,
           CASE WHEN n.data ?| ARRAY['ai_results', 'ai_result', 'ai', 'scoring']
                THEN wr_items_of(n.data, ARRAY['ai_results', 'ai_result', 'ai', 'scoring']) ELSE '[]' END,
           CASE WHEN jsonb_typeof(n.data -> 'billing') = 'object' THEN n.data -> 'billing' END,
           CASE WHEN jsonb_typeof(n.data -> 'billing') = 'object' THEN n.created_at END,
           now(), now()
    FROM n
    ON CONFLICT (id) DO UPDATE SET
        -- Each field separately: the newest event that carries it wins (equal times: the later arrival).
        customer_id       = CASE WHEN EXCLUDED.customer_id_at >= COALESCE(c.customer_id_at, '-infinity')
                                 THEN EXCLUDED.customer_id ELSE c.customer_id END,
        customer_id_at    = GREATEST(c.customer_id_at, EXCLUDED.customer_id_at),
        application_id    = CASE WHEN EXCLUDED.application_id_at >= COALESCE(c.application_id_at, '-infinity')
                                 THEN EXCLUDED.application_id ELSE c.application_id END,
        application_id_at = GREATEST(c.application_id_at, EXCLUDED.application_id_at),
        direction         = CASE WHEN EXCLUDED.direction_at >= COALESCE(c.direction_at, '-infinity')
                                 THEN EXCLUDED.direction ELSE c.direction END,
        direction_at      = GREATEST(c.direction_at, EXCLUDED.direction_at),
        from_number       = CASE WHEN EXCLUDED.from_number_at >= COALESCE(c.from_number_at, '-infinity')
                                 THEN EXCLUDED.from_number ELSE c.from_number END,
        from_number_at           = GREATEST(c.from_number_at, EXCLUDED.from_number_at),
        to_number         = CASE WHEN EXCLUDED.to_number_at >= COALESCE(c.to_number_at, '-infinity')
                                 THEN EXCLUDED.to_number ELSE c.to_number END,
        to_number_at             = GREATEST(c.to_number_at, EXCLUDED.to_number_at),
        status            = CASE WHEN wr_status_wins(c.status, c.is_final, c.status_at, EXCLUDED.status,
                                                      EXCLUDED.is_final, EXCLUDED.status_at)
                                 THEN EXCLUDED.status ELSE c.status END,
        is_final          = CASE WHEN wr_status_wins(c.status, c.is_final, c.status_at, EXCLUDED.status,
                                                      EXCLUDED.is_final, EXCLUDED.status_at)
                                 THEN EXCLUDED.is_final ELSE c.is_final END,
        status_at         = CASE WHEN wr_status_wins(c.status, c.is_final, c.status_at, EXCLUDED.status,
                                                      EXCLUDED.is_final, EXCLUDED.status_at)
                                 THEN EXCLUDED.status_at ELSE c.status_at END,
        first_event_at    = LEAST(c.first_event_at, EXCLUDED.first_event_at),
        last_event_at     = GREATEST(c.last_event_at, EXCLUDED.last_event_at),
        activity_at       = GREATEST(c.last_event_at, EXCLUDED.last_event_at),
        variables         = CASE WHEN EXCLUDED.variable_times = '{}'::jsonb THEN c.variables
                                 ELSE (wr_variables_merge(c.variables, c.variable_times, EXCLUDED.variables,
                                                          EXCLUDED.variable_times)).vars END,
        variable_times    = CASE WHEN EXCLUDED.variable_times = '{}'::jsonb THEN c.variable_times
                                 ELSE (wr_variables_merge(c.variables, c.variable_times, EXCLUDED.variables,
                                                          EXCLUDED.variable_times)).times END,
        recordings        = CASE WHEN EXCLUDED.recordings = '[]' THEN c.recordings
                                 ELSE wr_items_append(c.recordings, EXCLUDED.recordings) END,
        transcripts       = CASE WHEN EXCLUDED.transcripts = '[]' THEN c.transcripts
                                 ELSE wr_items_append(c.transcripts, EXCLUDED.transcripts) END,
        ai_results        = CASE WHEN EXCLUDED.ai_results = '[]' THEN c.ai_results
                                 ELSE wr_items_append(c.ai_results, EXCLUDED.ai_results) END,
        billing           = CASE WHEN EXCLUDED.billing_at >= COALESCE(c.billing_at, '-infinity')
                                 THEN EXCLUDED.billing ELSE c.billing END,
        billing_at        = GREATEST(c.billing_at, EXCLUDED.billing_at),
        stale_at          = NULL, -- any new event clears the stale mark (README "Stale calls")
        updated_at        = now()
    RETURNING c.id, c.status, c.is_final
),
act AS (
    -- The outbox, in the events' own transaction: crm.sync after every event that leaves its call final,
    -- ticket.create once per call that ends in one of the ticket statuses ($14, canonical forms). trace_parent: the
    -- request's trace context when it was traced ($15), so the job's send continues that trace.
    INSERT INTO call_actions (call_id, event_id, action, state, attempts, created_at, updated_at, trace_parent)
    SELECT n.call_id, n.event_id, a.action, 'pending', 0, now(), now(), n.trace_parent
    FROM n JOIN up ON up.id = n.call_id
         CROSS JOIN (VALUES ('crm.sync'), ('ticket.create')) AS a(action)
    WHERE up.is_final
      AND (a.action = 'crm.sync' OR lower(replace(up.status, '_', '-')) = ANY ($14::text[]))
    ON CONFLICT DO NOTHING
    RETURNING call_id
)
SELECT i.ord, ev.id,
       COALESCE(ev.id, (SELECT e.id FROM webhook_events e WHERE e.identity = i.identity)) AS event_id,
       COALESCE(ev.out_of_order, false),
       (SELECT count(*)::int FROM act WHERE act.call_id = i.call_id)
FROM i LEFT JOIN ev ON ev.identity = i.identity
ORDER BY i.ord
